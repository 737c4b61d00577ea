/*
 * Shared helpers for the benchmark programs. Every program is built twice
 * (gcc -O2 natively, clang-19 to wasm32-wasi) and must print byte-identical
 * output on both, so everything here avoids types whose width differs
 * between the targets (long, size_t in results) and undefined behaviour
 * (signed overflow), and nothing depends on addresses.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Identical floating-point bits on both targets need unfused multiply-adds:
 * clang otherwise folds a*b+c on constants as an exact FMA (a wasm build then
 * differs from native in the last bit). bench/build also passes
 * -ffp-contract=off, which gcc needs since it ignores this pragma. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

/* The work is an outer loop of "reps"; argv[1] overrides the default so the
 * smoke test can run one tiny rep. Each rep perturbs its input with the rep
 * index, so the compiler cannot hoist repeated work out of the loop. */
static inline uint32_t bench_reps(int argc, char **argv, uint32_t dflt)
{
    if (argc < 2)
        return dflt;
    char *end;
    unsigned long v = strtoul(argv[1], &end, 10);
    if (*end != '\0' || v == 0 || v > 1000000) {
        fprintf(stderr, "usage: %s [REPS]  (REPS: 1..1000000, default %u)\n", argv[0], dflt);
        exit(2);
    }
    return (uint32_t)v;
}

/* xorshift32: cheap deterministic input generation, identical on both targets. */
typedef struct { uint32_t s; } rng_t;

static inline void rng_seed(rng_t *r, uint32_t seed)
{
    r->s = seed * 2654435761u + 0x9e3779b9u;
    if (r->s == 0)
        r->s = 1;
}

static inline uint32_t rng_next(rng_t *r)
{
    uint32_t x = r->s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return r->s = x;
}

/* Folds a value into a running checksum (a multiply-xorshift mix). */
static inline uint32_t mix32(uint32_t h, uint32_t v)
{
    h ^= v + 0x9e3779b9u + (h << 6) + (h >> 2);
    h *= 0x85ebca6bu;
    return h ^ (h >> 13);
}

/* Doubles enter checksums by their bit pattern: IEEE arithmetic without
 * contraction gives identical bits on both targets. */
static inline uint32_t mix_double(uint32_t h, double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return mix32(mix32(h, (uint32_t)b), (uint32_t)(b >> 32));
}

static inline void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) {
        fprintf(stderr, "out of memory (%zu bytes)\n", n);
        exit(3);
    }
    return p;
}

static inline void bench_result(const char *name, uint32_t reps, uint32_t checksum)
{
    printf("%s reps=%u checksum=%08x\n", name, reps, checksum);
}

#endif
