/* A trap deep in a call chain, for source lines in backtraces
 * (tests/debug/run.py): main -> descend (recursive) -> twice, scale
 * (inlined, chain.h) -> check_depth -> trap. The MARK comments name lines
 * the test finds by searching this file, never by number. */
#include <stdio.h>
#include <stdlib.h>

#include "chain.h"

volatile unsigned limit = 5;

__attribute__((noinline)) unsigned check_depth(unsigned depth)
{
    if (depth > limit)
        __builtin_trap(); /* MARK: trap */
    return depth;
}

__attribute__((noinline)) unsigned descend(unsigned depth)
{
    if (depth < 3)
        return descend(depth + 1) + 1; /* MARK: recurse */
    return twice(depth + 2); /* MARK: descend-call */
}

int main(int argc, char **argv)
{
    unsigned start = argc > 1 ? (unsigned)atoi(argv[1]) : 0;
    printf("%u\n", descend(start)); /* MARK: main-call */
    return 0;
}
