#!/usr/bin/env python3
"""Writes a large C program for the cache benchmark (bench/cache/run): an
interpreter-shaped program of many functions (dispatch switches, loops over
arrays, string and table work, calls between functions) so that, built for
wasm32-wasi with clang-19 -O2, it gives several MB of code. Deterministic:
the same arguments give the same program.

    gen_big.py [--funcs N] [--seed S] OUT.c
"""
import argparse
import random


def func(rng, i, nfuncs):
    lines = [f"static int32_t fn{i}(int32_t *st, int32_t n, const char *s) {{",
             "    int32_t acc = n, k;"]
    for block in range(rng.randint(3, 6)):
        kind = rng.randrange(5)
        if kind == 0:
            cases = rng.randint(6, 14)
            lines.append(f"    switch ((acc ^ {rng.randrange(1 << 16)}) % {cases}) {{")
            for c in range(cases):
                op = rng.choice(["+", "-", "*", "^", "|", "&"])
                lines.append(f"    case {c}: acc = acc {op} st[{rng.randrange(64)}] + {rng.randrange(999)}; "
                             f"st[{rng.randrange(64)}] = acc >> {rng.randrange(1, 9)}; break;")
            lines.append("    default: acc = ~acc; break;")
            lines.append("    }")
        elif kind == 1:
            lines.append(f"    for (k = 0; k < (n & {rng.choice([7, 15, 31])}); k++) {{")
            lines.append(f"        st[k & 63] += acc * {rng.randrange(1, 97)} + k;")
            lines.append(f"        acc = (acc << {rng.randrange(1, 7)}) ^ (acc >> {rng.randrange(1, 7)}) ^ st[(k * {rng.randrange(1, 13)}) & 63];")
            lines.append("    }")
        elif kind == 2:
            lines.append(f"    for (k = 0; s[k] && k < {rng.randrange(8, 64)}; k++)")
            lines.append(f"        acc = acc * 31 + (unsigned char)s[k] + {rng.randrange(100)};")
        elif kind == 3 and i > 0:
            callee = rng.randrange(max(0, i - 50), i)
            lines.append(f"    if ((acc & {rng.choice([3, 7, 15])}) == {rng.randrange(3)} && n > 0)")
            lines.append(f"        acc += fn{callee}(st, n - 1, s + (acc & 1));")
        else:
            a, b = rng.randrange(1, 1 << 20), rng.randrange(1, 1 << 12)
            lines.append(f"    acc = (int32_t)(((int64_t)acc * {a} + {b}) % 2147483647);")
            lines.append(f"    if (acc < 0) acc = -acc; else acc ^= {rng.randrange(1 << 30)};")
    lines.append("    return acc;")
    lines.append("}")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--funcs", type=int, default=6000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("out")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    parts = ["#include <stdint.h>", "#include <stdio.h>", "#include <string.h>", ""]
    parts += [func(rng, i, a.funcs) for i in range(a.funcs)]
    parts.append("typedef int32_t (*fn_t)(int32_t *, int32_t, const char *);")
    parts.append("static fn_t table[] = {" + ", ".join(f"fn{i}" for i in range(a.funcs)) + "};")
    parts.append("""
int main(int argc, char **argv)
{
    int32_t st[64];
    memset(st, 0, sizeof st);
    const char *s = argc > 1 ? argv[1] : "whirl compilation cache";
    int32_t acc = 1;
    for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++)
        acc ^= table[i](st, 3, s);
    printf("%d\\n", (int)acc);
    return 0;
}""")
    with open(a.out, "w") as f:
        f.write("\n".join(parts) + "\n")


if __name__ == "__main__":
    main()
