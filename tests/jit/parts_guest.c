/* A guest for tests/jit/parts.sh: enough code (with wasi-libc's printf,
 * qsort and malloc) for tier=jit to compile it in several parts, and calls
 * of every kind between functions that land in different parts: direct,
 * through function pointers (call_indirect), recursive, into libc and
 * back (qsort's comparator). `trap` ends in an out-of-bounds store at the
 * bottom of a chain of calls, for the backtrace. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint32_t (*step_fn)(uint32_t);

__attribute__((noinline)) static uint32_t mix(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    return x ^ (x >> 16);
}

__attribute__((noinline)) static uint32_t step_a(uint32_t x) { return mix(x + 1); }
__attribute__((noinline)) static uint32_t step_b(uint32_t x) { return mix(x * 3) ^ step_a(x); }
__attribute__((noinline)) static uint32_t step_c(uint32_t x)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%u:%x", x, x * 7);
    uint32_t h = (uint32_t)n;
    for (int i = 0; i < n; i++)
        h = h * 31 + (unsigned char)buf[i];
    return h;
}

static step_fn steps[] = {step_a, step_b, step_c};

__attribute__((noinline)) static uint32_t walk(uint32_t depth, uint32_t x)
{
    if (depth == 0)
        return x;
    return walk(depth - 1, steps[x % 3](x)) + (uint32_t)depth;
}

static int by_value(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

__attribute__((noinline)) static uint32_t sorted_sum(uint32_t n, uint32_t seed)
{
    uint32_t *v = malloc(n * sizeof *v);
    if (!v)
        return 0;
    for (uint32_t i = 0; i < n; i++)
        v[i] = mix(seed + i);
    qsort(v, n, sizeof *v, by_value);
    uint32_t h = 0;
    for (uint32_t i = 0; i < n; i++)
        h = h * 33 + v[i] / (i + 1);
    free(v);
    return h;
}

__attribute__((noinline)) static void store_far(uint32_t *p, uint32_t v) { *p = v; }
__attribute__((noinline)) static void fall(uint32_t depth)
{
    if (depth == 0)
        store_far((uint32_t *)(uintptr_t)0xfffffff0u, depth);
    else
        fall(depth - 1);
    __asm__ volatile("" ::: "memory"); /* not a tail call */
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "trap") == 0) {
        fall(5);
        return 0;
    }
    uint32_t h = 0;
    for (uint32_t r = 0; r < 200; r++)
        h ^= walk(40, r) + sorted_sum(64 + r, r);
    printf("parts %08x\n", h);
    return 0;
}
