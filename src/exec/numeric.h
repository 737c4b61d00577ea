/* Numeric semantics of WebAssembly that C operators do not give directly:
 * float min/max/nearest, and float-to-int truncation with its traps and
 * saturation. Shared by the interpreter and constant evaluation. */
#ifndef WHIRL_EXEC_NUMERIC_H
#define WHIRL_EXEC_NUMERIC_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t rotl32(uint32_t x, uint32_t k) { k &= 31; return (x << k) | (x >> ((32 - k) & 31)); }
static inline uint32_t rotr32(uint32_t x, uint32_t k) { k &= 31; return (x >> k) | (x << ((32 - k) & 31)); }
static inline uint64_t rotl64(uint64_t x, uint64_t k) { k &= 63; return (x << k) | (x >> ((64 - k) & 63)); }
static inline uint64_t rotr64(uint64_t x, uint64_t k) { k &= 63; return (x >> k) | (x << ((64 - k) & 63)); }

static inline uint32_t clz32(uint32_t x) { return x ? (uint32_t)__builtin_clz(x) : 32; }
static inline uint32_t ctz32(uint32_t x) { return x ? (uint32_t)__builtin_ctz(x) : 32; }
static inline uint64_t clz64(uint64_t x) { return x ? (uint64_t)__builtin_clzll(x) : 64; }
static inline uint64_t ctz64(uint64_t x) { return x ? (uint64_t)__builtin_ctzll(x) : 64; }

/* NaN operands propagate: the result is the first NaN operand, quieted
 * (x + x keeps its payload and sets the quiet bit). Not a + b: which NaN
 * that gives depends on the order the C compiler puts the operands in (x86
 * returns its first source's), so it may change with the build, and it
 * differed from the LLVM tier's (translate_numeric.c computes the same as
 * here now; fuzz-tier found f64.max(+nan, -nan) giving -nan here and +nan
 * there).
 * -0 is below +0. */
static inline float f32_nan2(float a, float b) { return isnan(a) ? a + a : b + b; }
static inline double f64_nan2(double a, double b) { return isnan(a) ? a + a : b + b; }
static inline float f32_min(float a, float b)
{
    if (isnan(a) || isnan(b))
        return f32_nan2(a, b);
    if (a == b)
        return signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline float f32_max(float a, float b)
{
    if (isnan(a) || isnan(b))
        return f32_nan2(a, b);
    if (a == b)
        return signbit(a) ? b : a;
    return a > b ? a : b;
}
static inline double f64_min(double a, double b)
{
    if (isnan(a) || isnan(b))
        return f64_nan2(a, b);
    if (a == b)
        return signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline double f64_max(double a, double b)
{
    if (isnan(a) || isnan(b))
        return f64_nan2(a, b);
    if (a == b)
        return signbit(a) ? b : a;
    return a > b ? a : b;
}

/* Sign manipulation works on bits so NaN payloads are kept. */
static inline float f32_bits_op(float a, uint32_t and_mask, uint32_t xor_mask)
{
    uint32_t u;
    memcpy(&u, &a, 4);
    u = (u & and_mask) ^ xor_mask;
    memcpy(&a, &u, 4);
    return a;
}
static inline double f64_bits_op(double a, uint64_t and_mask, uint64_t xor_mask)
{
    uint64_t u;
    memcpy(&u, &a, 8);
    u = (u & and_mask) ^ xor_mask;
    memcpy(&a, &u, 8);
    return a;
}
static inline float f32_copysign(float a, float b)
{
    uint32_t ua, ub;
    memcpy(&ua, &a, 4);
    memcpy(&ub, &b, 4);
    ua = (ua & 0x7fffffffu) | (ub & 0x80000000u);
    memcpy(&a, &ua, 4);
    return a;
}
static inline double f64_copysign(double a, double b)
{
    uint64_t ua, ub;
    memcpy(&ua, &a, 8);
    memcpy(&ub, &b, 8);
    ua = (ua & 0x7fffffffffffffffull) | (ub & 0x8000000000000000ull);
    memcpy(&a, &ua, 8);
    return a;
}

/* Truncation status: 0 ok, 1 NaN (invalid conversion), 2 out of range
 * (integer overflow). The bounds are exact in the source float format. */
#define TRUNC_OK 0
#define TRUNC_NAN 1
#define TRUNC_RANGE 2

static inline int trunc_check(double x, double lo_exclusive, double hi_exclusive)
{
    if (isnan(x))
        return TRUNC_NAN;
    if (!(x > lo_exclusive && x < hi_exclusive))
        return TRUNC_RANGE;
    return TRUNC_OK;
}

/* Ranges: values strictly between the bounds truncate to a representable
 * integer. Every bound is exactly representable as a double, and f32
 * inputs convert to double exactly. */
#define I32_S_LO -2147483649.0
#define I32_S_HI 2147483648.0
#define I32_U_LO -1.0
#define I32_U_HI 4294967296.0
#define I64_S_LO -9223372036854777856.0 /* next double below -2^63 */
#define I64_S_HI 9223372036854775808.0
#define I64_U_LO -1.0
#define I64_U_HI 18446744073709551616.0

static inline int32_t sat_i32_s(double x)
{
    if (isnan(x)) return 0;
    if (x <= -2147483648.0) return INT32_MIN;
    if (x >= 2147483647.0) return INT32_MAX;
    return (int32_t)x;
}
static inline uint32_t sat_i32_u(double x)
{
    if (isnan(x) || x <= 0.0) return 0;
    if (x >= 4294967295.0) return UINT32_MAX;
    return (uint32_t)x;
}
static inline int64_t sat_i64_s(double x)
{
    if (isnan(x)) return 0;
    if (x <= -9223372036854775808.0) return INT64_MIN;
    if (x >= 9223372036854775808.0) return INT64_MAX;
    return (int64_t)x;
}
static inline uint64_t sat_i64_u(double x)
{
    if (isnan(x) || x <= 0.0) return 0;
    if (x >= 18446744073709551616.0) return UINT64_MAX;
    return (uint64_t)x;
}

#endif
