/* A WAGI guest for `whirl serve --profile` (tests/debug/run.py): each
 * request spends its time in hot_inner. */
#include <stdio.h>

__attribute__((noinline)) unsigned hot_inner(unsigned x)
{
    for (int i = 0; i < 400; i++)
        x = x * 1664525u + 1013904223u;
    return x;
}

int main(void)
{
    unsigned x = 1;
    for (int i = 0; i < 20000; i++)
        x ^= hot_inner(x + (unsigned)i);
    printf("Content-Type: text/plain\n\n%u\n", x);
    return 0;
}
