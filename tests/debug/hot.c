/* A guest with a known hot function, for the profiler test
 * (tests/debug/run.py): hot_inner runs ~90% of the time, under hot_outer;
 * cold_path most of the rest (enough to be sampled every time). */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) unsigned hot_inner(unsigned x)
{
    for (int i = 0; i < 400; i++)
        x = x * 1664525u + 1013904223u;
    return x;
}

__attribute__((noinline)) unsigned hot_outer(unsigned x, int n)
{
    for (int i = 0; i < n; i++)
        x ^= hot_inner(x + (unsigned)i);
    return x;
}

/* Named as C++ would mangle cold::path(unsigned, int): profiles show names
 * demangled. */
__attribute__((noinline)) unsigned cold_path(unsigned x, int n) __asm__("_ZN4cold4pathEji");
__attribute__((noinline)) unsigned cold_path(unsigned x, int n)
{
    for (int i = 0; i < n * 40; i++)
        x += (x >> 3) ^ (unsigned)i;
    return x;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 5000;
    int rounds = argc > 2 ? atoi(argv[2]) : 20;
    unsigned x = 1;
    for (int r = 0; r < rounds; r++) {
        x = hot_outer(x, n);
        x = cold_path(x, n);
    }
    printf("%u\n", x);
    return 0;
}
