/* Inlined into chain.c: the trap's inlined frames come from this file. */
#ifndef CHAIN_H
#define CHAIN_H

unsigned check_depth(unsigned depth);

/* Always inlined, so its frames exist only in the DWARF. */
static inline __attribute__((always_inline)) unsigned scale(unsigned depth)
{
    return check_depth(depth + 1) * 3; /* MARK: scale-call */
}

static inline __attribute__((always_inline)) unsigned twice(unsigned depth)
{
    return scale(depth) + 1; /* MARK: twice-call */
}

#endif
