/* Semantics of the WebAssembly SIMD instructions on 128-bit values, for the
 * interpreter (interp_simd.inc).
 *
 * Every operation has a portable C definition, lane by lane. On x86-64 an
 * SSE2/SSSE3/SSE4.1 definition replaces it where an instruction sequence
 * gives exactly the Wasm result: same lane order (both little-endian), same
 * wrap-around or saturation, same NaN rules. Where x86 differs (float
 * min/max on NaN and signed zeros, float-to-int conversion of NaN and
 * overflow, q15mulr's one overflow case), the sequence fixes the lanes up;
 * where a fix-up would cost more than the lane loop, the portable code is
 * used. Which instruction sets are used follows the compiler's target flags
 * (__SSE2__, __SSSE3__, __SSE4_1__); defining WHIRL_SIMD_PORTABLE forces
 * the portable code everywhere, so that it can be tested on x86 too.
 *
 * Float NaN results: the spec allows any arithmetic NaN when an operand is
 * a NaN and the canonical NaN otherwise. x86 arithmetic quiets an operand
 * NaN or produces the (negative) canonical NaN, as does C arithmetic, so
 * both paths stay within that. */
#ifndef WHIRL_EXEC_SIMD_H
#define WHIRL_EXEC_SIMD_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "exec/numeric.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "whirl's v128 lanes assume a little-endian host"
#endif

#if !defined(WHIRL_SIMD_PORTABLE) && defined(__SSE2__)
#define SIMD_SSE2 1
#include <emmintrin.h>
#if defined(__SSSE3__)
#define SIMD_SSSE3 1
#include <tmmintrin.h>
#endif
#if defined(__SSE4_1__)
#define SIMD_SSE41 1
#include <smmintrin.h>
#endif
#endif

/* A v128 value, viewed as any lane shape. Type punning through a union is
 * defined in GNU C. */
typedef union v128 {
    uint8_t u8[16];
    int8_t i8[16];
    uint16_t u16[8];
    int16_t i16[8];
    uint32_t u32[4];
    int32_t i32[4];
    uint64_t u64[2];
    int64_t i64[2];
    float f32[4];
    double f64[2];
#ifdef SIMD_SSE2
    __m128i m;
    __m128 mf;
    __m128d md;
#endif
} v128_t;

static inline v128_t v128_load(const void *p)
{
    v128_t v;
    memcpy(&v, p, 16);
    return v;
}

static inline void v128_store(void *p, v128_t v) { memcpy(p, &v, 16); }

static inline v128_t v128_zero(void)
{
    v128_t r;
    memset(&r, 0, sizeof r);
    return r;
}

/* Lane loops: r.F[i] = EXPR for every lane i. */
#define SIMD_MAP(F, n, expr)          \
    do {                              \
        for (int i = 0; i < (n); i++) \
            r.F[i] = (expr);          \
    } while (0)

/* ------------------------------------------------------------ splat */

static inline v128_t v_splat8(uint32_t x)
{
    v128_t r;
    SIMD_MAP(u8, 16, (uint8_t)x);
    return r;
}
static inline v128_t v_splat16(uint32_t x)
{
    v128_t r;
    SIMD_MAP(u16, 8, (uint16_t)x);
    return r;
}
static inline v128_t v_splat32(uint32_t x)
{
    v128_t r;
    SIMD_MAP(u32, 4, x);
    return r;
}
static inline v128_t v_splat64(uint64_t x)
{
    v128_t r;
    SIMD_MAP(u64, 2, x);
    return r;
}

/* ---------------------------------------------------------- bitwise */

static inline v128_t v128_not(v128_t a)
{
    v128_t r;
    SIMD_MAP(u64, 2, ~a.u64[i]);
    return r;
}
static inline v128_t v128_and(v128_t a, v128_t b)
{
    v128_t r;
    SIMD_MAP(u64, 2, a.u64[i] & b.u64[i]);
    return r;
}
static inline v128_t v128_andnot(v128_t a, v128_t b)
{
    v128_t r;
    SIMD_MAP(u64, 2, a.u64[i] & ~b.u64[i]);
    return r;
}
static inline v128_t v128_or(v128_t a, v128_t b)
{
    v128_t r;
    SIMD_MAP(u64, 2, a.u64[i] | b.u64[i]);
    return r;
}
static inline v128_t v128_xor(v128_t a, v128_t b)
{
    v128_t r;
    SIMD_MAP(u64, 2, a.u64[i] ^ b.u64[i]);
    return r;
}
static inline v128_t v128_bitselect(v128_t a, v128_t b, v128_t c)
{
    v128_t r;
    SIMD_MAP(u64, 2, (a.u64[i] & c.u64[i]) | (b.u64[i] & ~c.u64[i]));
    return r;
}
static inline uint32_t v128_any_true(v128_t a)
{
#ifdef SIMD_SSE41
    return !_mm_testz_si128(a.m, a.m);
#else
    return (a.u64[0] | a.u64[1]) != 0;
#endif
}

/* ---------------------------------------------------------- shuffles */

/* Lanes of a:b selected by 16 indices (each < 32). */
static inline v128_t v_shuffle(v128_t a, v128_t b, v128_t idx)
{
    v128_t r;
#ifdef SIMD_SSSE3
    __m128i k = _mm_and_si128(idx.m, _mm_set1_epi8(31));
    /* pshufb zeroes a lane whose index has the top bit set. */
    __m128i from_a = _mm_or_si128(k, _mm_cmpgt_epi8(k, _mm_set1_epi8(15)));
    __m128i from_b = _mm_sub_epi8(k, _mm_set1_epi8(16));
    r.m = _mm_or_si128(_mm_shuffle_epi8(a.m, from_a), _mm_shuffle_epi8(b.m, from_b));
#else
    for (int i = 0; i < 16; i++) {
        unsigned k = idx.u8[i] & 31;
        r.u8[i] = k < 16 ? a.u8[k] : b.u8[k - 16];
    }
#endif
    return r;
}

/* Lanes of a selected by b; indices >= 16 give 0. */
static inline v128_t i8x16_swizzle(v128_t a, v128_t b)
{
    v128_t r;
#ifdef SIMD_SSSE3
    /* Saturating + 0x70 sets the top bit of every index >= 16 and keeps the
     * low four bits of the others. */
    r.m = _mm_shuffle_epi8(a.m, _mm_adds_epu8(b.m, _mm_set1_epi8(0x70)));
#else
    SIMD_MAP(u8, 16, b.u8[i] < 16 ? a.u8[b.u8[i]] : 0);
#endif
    return r;
}

/* ------------------------------------------------------ integer lanes */

/* Binary ops with one SSE2 instruction: NAME, lanes, field, SSE intrinsic,
 * portable expression of x and y. */
#ifdef SIMD_SSE2
#define SIMD_BIN_SSE(name, n, F, intrin, expr) \
    static inline v128_t name(v128_t a, v128_t b) { v128_t r; r.m = intrin(a.m, b.m); return r; }
#else
#define SIMD_BIN_SSE(name, n, F, intrin, expr)     \
    static inline v128_t name(v128_t a, v128_t b)  \
    {                                              \
        v128_t r;                                  \
        for (int i = 0; i < (n); i++) {            \
            __typeof__(a.F[0]) x = a.F[i], y = b.F[i]; \
            r.F[i] = (__typeof__(r.F[0]))(expr);   \
        }                                          \
        return r;                                  \
    }
#endif

/* The same for instructions that need SSE4.1 or SSSE3. */
#ifdef SIMD_SSE41
#define SIMD_BIN_SSE41(name, n, F, intrin, expr) SIMD_BIN_SSE(name, n, F, intrin, expr)
#else
#define SIMD_BIN_SSE41(name, n, F, intrin, expr)   \
    static inline v128_t name(v128_t a, v128_t b)  \
    {                                              \
        v128_t r;                                  \
        for (int i = 0; i < (n); i++) {            \
            __typeof__(a.F[0]) x = a.F[i], y = b.F[i]; \
            r.F[i] = (__typeof__(r.F[0]))(expr);   \
        }                                          \
        return r;                                  \
    }
#endif

static inline int sat_s8(int v) { return v < -128 ? -128 : v > 127 ? 127 : v; }
static inline int sat_u8(int v) { return v < 0 ? 0 : v > 255 ? 255 : v; }
static inline int sat_s16(int v) { return v < -32768 ? -32768 : v > 32767 ? 32767 : v; }
static inline int sat_u16(int v) { return v < 0 ? 0 : v > 65535 ? 65535 : v; }

SIMD_BIN_SSE(i8x16_add, 16, u8, _mm_add_epi8, x + y)
SIMD_BIN_SSE(i8x16_sub, 16, u8, _mm_sub_epi8, x - y)
SIMD_BIN_SSE(i16x8_add, 8, u16, _mm_add_epi16, x + y)
SIMD_BIN_SSE(i16x8_sub, 8, u16, _mm_sub_epi16, x - y)
SIMD_BIN_SSE(i16x8_mul, 8, u16, _mm_mullo_epi16, (uint32_t)x * y)
SIMD_BIN_SSE(i32x4_add, 4, u32, _mm_add_epi32, x + y)
SIMD_BIN_SSE(i32x4_sub, 4, u32, _mm_sub_epi32, x - y)
SIMD_BIN_SSE41(i32x4_mul, 4, u32, _mm_mullo_epi32, x * y)
SIMD_BIN_SSE(i64x2_add, 2, u64, _mm_add_epi64, x + y)
SIMD_BIN_SSE(i64x2_sub, 2, u64, _mm_sub_epi64, x - y)

static inline v128_t i64x2_mul(v128_t a, v128_t b)
{
    v128_t r;
    SIMD_MAP(u64, 2, a.u64[i] * b.u64[i]);
    return r;
}

SIMD_BIN_SSE(i8x16_add_sat_s, 16, i8, _mm_adds_epi8, sat_s8(x + y))
SIMD_BIN_SSE(i8x16_add_sat_u, 16, u8, _mm_adds_epu8, sat_u8(x + y))
SIMD_BIN_SSE(i8x16_sub_sat_s, 16, i8, _mm_subs_epi8, sat_s8(x - y))
SIMD_BIN_SSE(i8x16_sub_sat_u, 16, u8, _mm_subs_epu8, sat_u8(x - y))
SIMD_BIN_SSE(i16x8_add_sat_s, 8, i16, _mm_adds_epi16, sat_s16(x + y))
SIMD_BIN_SSE(i16x8_add_sat_u, 8, u16, _mm_adds_epu16, sat_u16(x + y))
SIMD_BIN_SSE(i16x8_sub_sat_s, 8, i16, _mm_subs_epi16, sat_s16(x - y))
SIMD_BIN_SSE(i16x8_sub_sat_u, 8, u16, _mm_subs_epu16, sat_u16(x - y))

SIMD_BIN_SSE41(i8x16_min_s, 16, i8, _mm_min_epi8, x < y ? x : y)
SIMD_BIN_SSE(i8x16_min_u, 16, u8, _mm_min_epu8, x < y ? x : y)
SIMD_BIN_SSE41(i8x16_max_s, 16, i8, _mm_max_epi8, x > y ? x : y)
SIMD_BIN_SSE(i8x16_max_u, 16, u8, _mm_max_epu8, x > y ? x : y)
SIMD_BIN_SSE(i16x8_min_s, 8, i16, _mm_min_epi16, x < y ? x : y)
SIMD_BIN_SSE41(i16x8_min_u, 8, u16, _mm_min_epu16, x < y ? x : y)
SIMD_BIN_SSE(i16x8_max_s, 8, i16, _mm_max_epi16, x > y ? x : y)
SIMD_BIN_SSE41(i16x8_max_u, 8, u16, _mm_max_epu16, x > y ? x : y)
SIMD_BIN_SSE41(i32x4_min_s, 4, i32, _mm_min_epi32, x < y ? x : y)
SIMD_BIN_SSE41(i32x4_min_u, 4, u32, _mm_min_epu32, x < y ? x : y)
SIMD_BIN_SSE41(i32x4_max_s, 4, i32, _mm_max_epi32, x > y ? x : y)
SIMD_BIN_SSE41(i32x4_max_u, 4, u32, _mm_max_epu32, x > y ? x : y)

SIMD_BIN_SSE(i8x16_avgr_u, 16, u8, _mm_avg_epu8, ((unsigned)x + y + 1) >> 1)
SIMD_BIN_SSE(i16x8_avgr_u, 8, u16, _mm_avg_epu16, ((unsigned)x + y + 1) >> 1)

static inline v128_t i16x8_q15mulr_sat_s(v128_t a, v128_t b)
{
    v128_t r;
#ifdef SIMD_SSSE3
    /* pmulhrsw is exact except -1.0 * -1.0, which wraps to 0x8000 where
     * Wasm saturates to 0x7fff: flip exactly those lanes. */
    __m128i p = _mm_mulhrs_epi16(a.m, b.m);
    r.m = _mm_xor_si128(p, _mm_cmpeq_epi16(p, _mm_set1_epi16(INT16_MIN)));
#else
    SIMD_MAP(i16, 8, (int16_t)sat_s16((a.i16[i] * b.i16[i] + 0x4000) >> 15));
#endif
    return r;
}

/* Unary integer ops. */
static inline v128_t i8x16_neg(v128_t a)
{
    v128_t r;
    SIMD_MAP(u8, 16, (uint8_t)(0u - a.u8[i]));
    return r;
}
static inline v128_t i16x8_neg(v128_t a)
{
    v128_t r;
    SIMD_MAP(u16, 8, (uint16_t)(0u - a.u16[i]));
    return r;
}
static inline v128_t i32x4_neg(v128_t a)
{
    v128_t r;
    SIMD_MAP(u32, 4, 0u - a.u32[i]);
    return r;
}
static inline v128_t i64x2_neg(v128_t a)
{
    v128_t r;
    SIMD_MAP(u64, 2, 0u - a.u64[i]);
    return r;
}
/* abs of the minimum value is the minimum value (it wraps), as pabs* does. */
static inline v128_t i8x16_abs(v128_t a)
{
    v128_t r;
#ifdef SIMD_SSSE3
    r.m = _mm_abs_epi8(a.m);
#else
    SIMD_MAP(u8, 16, a.i8[i] < 0 ? (uint8_t)(0u - a.u8[i]) : a.u8[i]);
#endif
    return r;
}
static inline v128_t i16x8_abs(v128_t a)
{
    v128_t r;
#ifdef SIMD_SSSE3
    r.m = _mm_abs_epi16(a.m);
#else
    SIMD_MAP(u16, 8, a.i16[i] < 0 ? (uint16_t)(0u - a.u16[i]) : a.u16[i]);
#endif
    return r;
}
static inline v128_t i32x4_abs(v128_t a)
{
    v128_t r;
#ifdef SIMD_SSSE3
    r.m = _mm_abs_epi32(a.m);
#else
    SIMD_MAP(u32, 4, a.i32[i] < 0 ? 0u - a.u32[i] : a.u32[i]);
#endif
    return r;
}
static inline v128_t i64x2_abs(v128_t a)
{
    v128_t r;
    SIMD_MAP(u64, 2, a.i64[i] < 0 ? 0u - a.u64[i] : a.u64[i]);
    return r;
}

static inline v128_t i8x16_popcnt(v128_t a)
{
    v128_t r;
#ifdef SIMD_SSSE3
    const __m128i nibble_bits = _mm_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    __m128i low = _mm_and_si128(a.m, _mm_set1_epi8(0x0f));
    __m128i high = _mm_and_si128(_mm_srli_epi16(a.m, 4), _mm_set1_epi8(0x0f));
    r.m = _mm_add_epi8(_mm_shuffle_epi8(nibble_bits, low), _mm_shuffle_epi8(nibble_bits, high));
#else
    SIMD_MAP(u8, 16, (uint8_t)__builtin_popcount(a.u8[i]));
#endif
    return r;
}

/* --------------------------------------------------------- comparisons */

/* Integer comparisons, portable: all-ones lanes where the relation holds. */
#define SIMD_CMP_LOOP(name, n, F, UF, op)                              \
    static inline v128_t name(v128_t a, v128_t b)                      \
    {                                                                  \
        v128_t r;                                                      \
        SIMD_MAP(UF, n, a.F[i] op b.F[i] ? (__typeof__(r.UF[0]))~0ull : 0); \
        return r;                                                      \
    }

#ifdef SIMD_SSE2
/* Signed order from pcmpgt; unsigned order by flipping the sign bits
 * first; the others as complements. */
#define SIMD_CMP_FAMILY(W, n, eq, gt)                                                      \
    static inline __m128i W##_bias(__m128i x) { return _mm_xor_si128(x, W##_sign()); }     \
    static inline v128_t W##_eq(v128_t a, v128_t b) { v128_t r; r.m = eq(a.m, b.m); return r; } \
    static inline v128_t W##_ne(v128_t a, v128_t b)                                        \
    { v128_t r; r.m = _mm_xor_si128(eq(a.m, b.m), _mm_set1_epi32(-1)); return r; }         \
    static inline v128_t W##_gt_s(v128_t a, v128_t b) { v128_t r; r.m = gt(a.m, b.m); return r; } \
    static inline v128_t W##_lt_s(v128_t a, v128_t b) { v128_t r; r.m = gt(b.m, a.m); return r; } \
    static inline v128_t W##_le_s(v128_t a, v128_t b)                                     \
    { v128_t r; r.m = _mm_xor_si128(gt(a.m, b.m), _mm_set1_epi32(-1)); return r; }         \
    static inline v128_t W##_ge_s(v128_t a, v128_t b)                                     \
    { v128_t r; r.m = _mm_xor_si128(gt(b.m, a.m), _mm_set1_epi32(-1)); return r; }         \
    static inline v128_t W##_gt_u(v128_t a, v128_t b)                                     \
    { v128_t r; r.m = gt(W##_bias(a.m), W##_bias(b.m)); return r; }                        \
    static inline v128_t W##_lt_u(v128_t a, v128_t b)                                     \
    { v128_t r; r.m = gt(W##_bias(b.m), W##_bias(a.m)); return r; }                        \
    static inline v128_t W##_le_u(v128_t a, v128_t b)                                     \
    { v128_t r; r.m = _mm_xor_si128(gt(W##_bias(a.m), W##_bias(b.m)), _mm_set1_epi32(-1)); return r; } \
    static inline v128_t W##_ge_u(v128_t a, v128_t b)                                     \
    { v128_t r; r.m = _mm_xor_si128(gt(W##_bias(b.m), W##_bias(a.m)), _mm_set1_epi32(-1)); return r; }
static inline __m128i i8x16_sign(void) { return _mm_set1_epi8(INT8_MIN); }
static inline __m128i i16x8_sign(void) { return _mm_set1_epi16(INT16_MIN); }
static inline __m128i i32x4_sign(void) { return _mm_set1_epi32(INT32_MIN); }
SIMD_CMP_FAMILY(i8x16, 16, _mm_cmpeq_epi8, _mm_cmpgt_epi8)
SIMD_CMP_FAMILY(i16x8, 8, _mm_cmpeq_epi16, _mm_cmpgt_epi16)
SIMD_CMP_FAMILY(i32x4, 4, _mm_cmpeq_epi32, _mm_cmpgt_epi32)
#else
#define SIMD_CMP_FAMILY(W, n, S, U)               \
    SIMD_CMP_LOOP(W##_eq, n, U, U, ==)            \
    SIMD_CMP_LOOP(W##_ne, n, U, U, !=)            \
    SIMD_CMP_LOOP(W##_lt_s, n, S, U, <)           \
    SIMD_CMP_LOOP(W##_lt_u, n, U, U, <)           \
    SIMD_CMP_LOOP(W##_gt_s, n, S, U, >)           \
    SIMD_CMP_LOOP(W##_gt_u, n, U, U, >)           \
    SIMD_CMP_LOOP(W##_le_s, n, S, U, <=)          \
    SIMD_CMP_LOOP(W##_le_u, n, U, U, <=)          \
    SIMD_CMP_LOOP(W##_ge_s, n, S, U, >=)          \
    SIMD_CMP_LOOP(W##_ge_u, n, U, U, >=)
SIMD_CMP_FAMILY(i8x16, 16, i8, u8)
SIMD_CMP_FAMILY(i16x8, 8, i16, u16)
SIMD_CMP_FAMILY(i32x4, 4, i32, u32)
#endif

#ifdef SIMD_SSE41
static inline v128_t i64x2_eq(v128_t a, v128_t b) { v128_t r; r.m = _mm_cmpeq_epi64(a.m, b.m); return r; }
static inline v128_t i64x2_ne(v128_t a, v128_t b)
{
    v128_t r;
    r.m = _mm_xor_si128(_mm_cmpeq_epi64(a.m, b.m), _mm_set1_epi32(-1));
    return r;
}
#else
SIMD_CMP_LOOP(i64x2_eq, 2, u64, u64, ==)
SIMD_CMP_LOOP(i64x2_ne, 2, u64, u64, !=)
#endif
/* pcmpgtq is SSE4.2: plain lanes. */
SIMD_CMP_LOOP(i64x2_lt_s, 2, i64, u64, <)
SIMD_CMP_LOOP(i64x2_gt_s, 2, i64, u64, >)
SIMD_CMP_LOOP(i64x2_le_s, 2, i64, u64, <=)
SIMD_CMP_LOOP(i64x2_ge_s, 2, i64, u64, >=)

/* Float comparisons: ordered, except ne (true on NaN), as cmpps does. */
#ifdef SIMD_SSE2
#define SIMD_FCMP(name, ps, pd)                                                    \
    static inline v128_t f32x4_##name(v128_t a, v128_t b) { v128_t r; r.mf = ps(a.mf, b.mf); return r; } \
    static inline v128_t f64x2_##name(v128_t a, v128_t b) { v128_t r; r.md = pd(a.md, b.md); return r; }
SIMD_FCMP(eq, _mm_cmpeq_ps, _mm_cmpeq_pd)
SIMD_FCMP(ne, _mm_cmpneq_ps, _mm_cmpneq_pd)
SIMD_FCMP(lt, _mm_cmplt_ps, _mm_cmplt_pd)
SIMD_FCMP(gt, _mm_cmpgt_ps, _mm_cmpgt_pd)
SIMD_FCMP(le, _mm_cmple_ps, _mm_cmple_pd)
SIMD_FCMP(ge, _mm_cmpge_ps, _mm_cmpge_pd)
#else
#define SIMD_FCMP(name, op)                      \
    SIMD_CMP_LOOP(f32x4_##name, 4, f32, u32, op) \
    SIMD_CMP_LOOP(f64x2_##name, 2, f64, u64, op)
SIMD_FCMP(eq, ==)
SIMD_FCMP(ne, !=)
SIMD_FCMP(lt, <)
SIMD_FCMP(gt, >)
SIMD_FCMP(le, <=)
SIMD_FCMP(ge, >=)
#endif

/* ------------------------------------------------------- lane tests */

static inline uint32_t i8x16_all_true(v128_t a)
{
#ifdef SIMD_SSE2
    return _mm_movemask_epi8(_mm_cmpeq_epi8(a.m, _mm_setzero_si128())) == 0;
#else
    for (int i = 0; i < 16; i++)
        if (!a.u8[i])
            return 0;
    return 1;
#endif
}
static inline uint32_t i16x8_all_true(v128_t a)
{
#ifdef SIMD_SSE2
    return _mm_movemask_epi8(_mm_cmpeq_epi16(a.m, _mm_setzero_si128())) == 0;
#else
    for (int i = 0; i < 8; i++)
        if (!a.u16[i])
            return 0;
    return 1;
#endif
}
static inline uint32_t i32x4_all_true(v128_t a)
{
#ifdef SIMD_SSE2
    return _mm_movemask_epi8(_mm_cmpeq_epi32(a.m, _mm_setzero_si128())) == 0;
#else
    for (int i = 0; i < 4; i++)
        if (!a.u32[i])
            return 0;
    return 1;
#endif
}
static inline uint32_t i64x2_all_true(v128_t a) { return a.u64[0] != 0 && a.u64[1] != 0; }

static inline uint32_t i8x16_bitmask(v128_t a)
{
#ifdef SIMD_SSE2
    return (uint32_t)_mm_movemask_epi8(a.m);
#else
    uint32_t m = 0;
    for (int i = 0; i < 16; i++)
        m |= (uint32_t)(a.u8[i] >> 7) << i;
    return m;
#endif
}
static inline uint32_t i16x8_bitmask(v128_t a)
{
#ifdef SIMD_SSE2
    /* Signed saturation keeps each lane's sign. */
    return (uint32_t)_mm_movemask_epi8(_mm_packs_epi16(a.m, _mm_setzero_si128())) & 0xff;
#else
    uint32_t m = 0;
    for (int i = 0; i < 8; i++)
        m |= (uint32_t)(a.u16[i] >> 15) << i;
    return m;
#endif
}
static inline uint32_t i32x4_bitmask(v128_t a)
{
#ifdef SIMD_SSE2
    return (uint32_t)_mm_movemask_ps(a.mf);
#else
    uint32_t m = 0;
    for (int i = 0; i < 4; i++)
        m |= (a.u32[i] >> 31) << i;
    return m;
#endif
}
static inline uint32_t i64x2_bitmask(v128_t a)
{
    return (uint32_t)(a.u64[0] >> 63) | (uint32_t)(a.u64[1] >> 63) << 1;
}

/* ------------------------------------------------------------ shifts */

/* The count is taken modulo the lane width. */
static inline v128_t i8x16_shl(v128_t a, uint32_t n)
{
    v128_t r;
    n &= 7;
#ifdef SIMD_SSE2
    /* 16-bit shifts, then clear the bits shifted in from the lower byte. */
    r.m = _mm_and_si128(_mm_sll_epi16(a.m, _mm_cvtsi32_si128((int)n)),
                        _mm_set1_epi8((char)(uint8_t)(0xff << n)));
#else
    SIMD_MAP(u8, 16, (uint8_t)(a.u8[i] << n));
#endif
    return r;
}
static inline v128_t i8x16_shr_u(v128_t a, uint32_t n)
{
    v128_t r;
    n &= 7;
#ifdef SIMD_SSE2
    r.m = _mm_and_si128(_mm_srl_epi16(a.m, _mm_cvtsi32_si128((int)n)),
                        _mm_set1_epi8((char)(uint8_t)(0xff >> n)));
#else
    SIMD_MAP(u8, 16, (uint8_t)(a.u8[i] >> n));
#endif
    return r;
}
static inline v128_t i8x16_shr_s(v128_t a, uint32_t n)
{
    v128_t r;
    n &= 7;
#ifdef SIMD_SSE2
    /* Logical shift, then sign-extend from the shifted sign bit m:
     * (x ^ m) - m. */
    __m128i x = _mm_and_si128(_mm_srl_epi16(a.m, _mm_cvtsi32_si128((int)n)),
                              _mm_set1_epi8((char)(uint8_t)(0xff >> n)));
    __m128i m = _mm_set1_epi8((char)(uint8_t)(0x80 >> n));
    r.m = _mm_sub_epi8(_mm_xor_si128(x, m), m);
#else
    SIMD_MAP(i8, 16, (int8_t)(a.i8[i] >> n));
#endif
    return r;
}

#ifdef SIMD_SSE2
#define SIMD_SHIFT_SSE(name, bits, intrin)                                     \
    static inline v128_t name(v128_t a, uint32_t n)                            \
    {                                                                          \
        v128_t r;                                                              \
        r.m = intrin(a.m, _mm_cvtsi32_si128((int)(n & ((bits) - 1))));        \
        return r;                                                              \
    }
#endif
#define SIMD_SHIFT_LOOP_(name, n, F, op)                 \
    static inline v128_t name(v128_t a, uint32_t k)     \
    {                                                    \
        v128_t r;                                        \
        k &= 128 / (n) - 1;                              \
        SIMD_MAP(F, n, (__typeof__(r.F[0]))(a.F[i] op k)); \
        return r;                                        \
    }
SIMD_SHIFT_LOOP_(i64x2_shr_s, 2, i64, >>)
#ifdef SIMD_SSE2
SIMD_SHIFT_SSE(i16x8_shl, 16, _mm_sll_epi16)
SIMD_SHIFT_SSE(i16x8_shr_s, 16, _mm_sra_epi16)
SIMD_SHIFT_SSE(i16x8_shr_u, 16, _mm_srl_epi16)
SIMD_SHIFT_SSE(i32x4_shl, 32, _mm_sll_epi32)
SIMD_SHIFT_SSE(i32x4_shr_s, 32, _mm_sra_epi32)
SIMD_SHIFT_SSE(i32x4_shr_u, 32, _mm_srl_epi32)
SIMD_SHIFT_SSE(i64x2_shl, 64, _mm_sll_epi64)
SIMD_SHIFT_SSE(i64x2_shr_u, 64, _mm_srl_epi64)
#else
SIMD_SHIFT_LOOP_(i16x8_shl, 8, u16, <<)
SIMD_SHIFT_LOOP_(i16x8_shr_s, 8, i16, >>)
SIMD_SHIFT_LOOP_(i16x8_shr_u, 8, u16, >>)
SIMD_SHIFT_LOOP_(i32x4_shl, 4, u32, <<)
SIMD_SHIFT_LOOP_(i32x4_shr_s, 4, i32, >>)
SIMD_SHIFT_LOOP_(i32x4_shr_u, 4, u32, >>)
SIMD_SHIFT_LOOP_(i64x2_shl, 2, u64, <<)
SIMD_SHIFT_LOOP_(i64x2_shr_u, 2, u64, >>)
#endif

/* ----------------------------------------------- narrowing, widening */

static inline v128_t i8x16_narrow_i16x8_s(v128_t a, v128_t b)
{
    v128_t r;
#ifdef SIMD_SSE2
    r.m = _mm_packs_epi16(a.m, b.m);
#else
    for (int i = 0; i < 8; i++) {
        r.i8[i] = (int8_t)sat_s8(a.i16[i]);
        r.i8[i + 8] = (int8_t)sat_s8(b.i16[i]);
    }
#endif
    return r;
}
static inline v128_t i8x16_narrow_i16x8_u(v128_t a, v128_t b)
{
    v128_t r;
#ifdef SIMD_SSE2
    r.m = _mm_packus_epi16(a.m, b.m);
#else
    for (int i = 0; i < 8; i++) {
        r.u8[i] = (uint8_t)sat_u8(a.i16[i]);
        r.u8[i + 8] = (uint8_t)sat_u8(b.i16[i]);
    }
#endif
    return r;
}
static inline v128_t i16x8_narrow_i32x4_s(v128_t a, v128_t b)
{
    v128_t r;
#ifdef SIMD_SSE2
    r.m = _mm_packs_epi32(a.m, b.m);
#else
    for (int i = 0; i < 4; i++) {
        r.i16[i] = (int16_t)(a.i32[i] < -32768 ? -32768 : a.i32[i] > 32767 ? 32767 : a.i32[i]);
        r.i16[i + 4] = (int16_t)(b.i32[i] < -32768 ? -32768 : b.i32[i] > 32767 ? 32767 : b.i32[i]);
    }
#endif
    return r;
}
static inline v128_t i16x8_narrow_i32x4_u(v128_t a, v128_t b)
{
    v128_t r;
#ifdef SIMD_SSE41
    r.m = _mm_packus_epi32(a.m, b.m);
#else
    for (int i = 0; i < 4; i++) {
        r.u16[i] = (uint16_t)(a.i32[i] < 0 ? 0 : a.i32[i] > 65535 ? 65535 : a.i32[i]);
        r.u16[i + 4] = (uint16_t)(b.i32[i] < 0 ? 0 : b.i32[i] > 65535 ? 65535 : b.i32[i]);
    }
#endif
    return r;
}

/* Widening: lanes `half * n` .. of a, sign- or zero-extended. Portable
 * loops; the x86 versions interleave with the sign or with zero. */
#define SIMD_EXTEND_LOOP(name, n, RF, AF, half)            \
    static inline v128_t name(v128_t a)                    \
    {                                                      \
        v128_t r;                                          \
        SIMD_MAP(RF, n, a.AF[i + (half) * (n)]);           \
        return r;                                          \
    }
#ifdef SIMD_SSE2
#define SIMD_EXTEND_S(name, unpack, srai, bits)                                    \
    static inline v128_t name(v128_t a) { v128_t r; r.m = srai(unpack(a.m, a.m), bits); return r; }
#define SIMD_EXTEND_U(name, unpack)                                                \
    static inline v128_t name(v128_t a) { v128_t r; r.m = unpack(a.m, _mm_setzero_si128()); return r; }
SIMD_EXTEND_S(i16x8_extend_low_i8x16_s, _mm_unpacklo_epi8, _mm_srai_epi16, 8)
SIMD_EXTEND_S(i16x8_extend_high_i8x16_s, _mm_unpackhi_epi8, _mm_srai_epi16, 8)
SIMD_EXTEND_U(i16x8_extend_low_i8x16_u, _mm_unpacklo_epi8)
SIMD_EXTEND_U(i16x8_extend_high_i8x16_u, _mm_unpackhi_epi8)
SIMD_EXTEND_S(i32x4_extend_low_i16x8_s, _mm_unpacklo_epi16, _mm_srai_epi32, 16)
SIMD_EXTEND_S(i32x4_extend_high_i16x8_s, _mm_unpackhi_epi16, _mm_srai_epi32, 16)
SIMD_EXTEND_U(i32x4_extend_low_i16x8_u, _mm_unpacklo_epi16)
SIMD_EXTEND_U(i32x4_extend_high_i16x8_u, _mm_unpackhi_epi16)
static inline v128_t i64x2_extend_low_i32x4_s(v128_t a)
{
    v128_t r;
    r.m = _mm_unpacklo_epi32(a.m, _mm_srai_epi32(a.m, 31));
    return r;
}
static inline v128_t i64x2_extend_high_i32x4_s(v128_t a)
{
    v128_t r;
    r.m = _mm_unpackhi_epi32(a.m, _mm_srai_epi32(a.m, 31));
    return r;
}
SIMD_EXTEND_U(i64x2_extend_low_i32x4_u, _mm_unpacklo_epi32)
SIMD_EXTEND_U(i64x2_extend_high_i32x4_u, _mm_unpackhi_epi32)
#else
SIMD_EXTEND_LOOP(i16x8_extend_low_i8x16_s, 8, i16, i8, 0)
SIMD_EXTEND_LOOP(i16x8_extend_high_i8x16_s, 8, i16, i8, 1)
SIMD_EXTEND_LOOP(i16x8_extend_low_i8x16_u, 8, u16, u8, 0)
SIMD_EXTEND_LOOP(i16x8_extend_high_i8x16_u, 8, u16, u8, 1)
SIMD_EXTEND_LOOP(i32x4_extend_low_i16x8_s, 4, i32, i16, 0)
SIMD_EXTEND_LOOP(i32x4_extend_high_i16x8_s, 4, i32, i16, 1)
SIMD_EXTEND_LOOP(i32x4_extend_low_i16x8_u, 4, u32, u16, 0)
SIMD_EXTEND_LOOP(i32x4_extend_high_i16x8_u, 4, u32, u16, 1)
SIMD_EXTEND_LOOP(i64x2_extend_low_i32x4_s, 2, i64, i32, 0)
SIMD_EXTEND_LOOP(i64x2_extend_high_i32x4_s, 2, i64, i32, 1)
SIMD_EXTEND_LOOP(i64x2_extend_low_i32x4_u, 2, u64, u32, 0)
SIMD_EXTEND_LOOP(i64x2_extend_high_i32x4_u, 2, u64, u32, 1)
#endif

/* Extended multiplication: products of lanes `half * n` .. of a and b, in
 * lanes twice as wide (exact: no product overflows them). */
#define SIMD_EXTMUL_LOOP(name, n, RF, AF, WT, half)                              \
    static inline v128_t name(v128_t a, v128_t b)                                \
    {                                                                            \
        v128_t r;                                                                \
        SIMD_MAP(RF, n, (WT)a.AF[i + (half) * (n)] * (WT)b.AF[i + (half) * (n)]); \
        return r;                                                                \
    }
#ifdef SIMD_SSE2
#define SIMD_EXTMUL_16(name, extend)                                             \
    static inline v128_t name(v128_t a, v128_t b)                                \
    {                                                                            \
        v128_t r;                                                                \
        r.m = _mm_mullo_epi16(extend(a).m, extend(b).m);                         \
        return r;                                                                \
    }
SIMD_EXTMUL_16(i16x8_extmul_low_i8x16_s, i16x8_extend_low_i8x16_s)
SIMD_EXTMUL_16(i16x8_extmul_high_i8x16_s, i16x8_extend_high_i8x16_s)
SIMD_EXTMUL_16(i16x8_extmul_low_i8x16_u, i16x8_extend_low_i8x16_u)
SIMD_EXTMUL_16(i16x8_extmul_high_i8x16_u, i16x8_extend_high_i8x16_u)
/* 32-bit products from the low and high 16-bit halves, interleaved. */
#define SIMD_EXTMUL_32(name, mulhi, unpack)                                      \
    static inline v128_t name(v128_t a, v128_t b)                                \
    {                                                                            \
        v128_t r;                                                                \
        r.m = unpack(_mm_mullo_epi16(a.m, b.m), mulhi(a.m, b.m));                \
        return r;                                                                \
    }
SIMD_EXTMUL_32(i32x4_extmul_low_i16x8_s, _mm_mulhi_epi16, _mm_unpacklo_epi16)
SIMD_EXTMUL_32(i32x4_extmul_high_i16x8_s, _mm_mulhi_epi16, _mm_unpackhi_epi16)
SIMD_EXTMUL_32(i32x4_extmul_low_i16x8_u, _mm_mulhi_epu16, _mm_unpacklo_epi16)
SIMD_EXTMUL_32(i32x4_extmul_high_i16x8_u, _mm_mulhi_epu16, _mm_unpackhi_epi16)
#else
SIMD_EXTMUL_LOOP(i16x8_extmul_low_i8x16_s, 8, i16, i8, int32_t, 0)
SIMD_EXTMUL_LOOP(i16x8_extmul_high_i8x16_s, 8, i16, i8, int32_t, 1)
SIMD_EXTMUL_LOOP(i16x8_extmul_low_i8x16_u, 8, u16, u8, uint32_t, 0)
SIMD_EXTMUL_LOOP(i16x8_extmul_high_i8x16_u, 8, u16, u8, uint32_t, 1)
SIMD_EXTMUL_LOOP(i32x4_extmul_low_i16x8_s, 4, i32, i16, int32_t, 0)
SIMD_EXTMUL_LOOP(i32x4_extmul_high_i16x8_s, 4, i32, i16, int32_t, 1)
SIMD_EXTMUL_LOOP(i32x4_extmul_low_i16x8_u, 4, u32, u16, uint32_t, 0)
SIMD_EXTMUL_LOOP(i32x4_extmul_high_i16x8_u, 4, u32, u16, uint32_t, 1)
#endif
#ifdef SIMD_SSE41
/* pmuldq/pmuludq multiply lanes 0 and 2: spread the wanted lanes there. */
#define SIMD_EXTMUL_64(name, mul, sel)                                           \
    static inline v128_t name(v128_t a, v128_t b)                                \
    {                                                                            \
        v128_t r;                                                                \
        r.m = mul(_mm_shuffle_epi32(a.m, sel), _mm_shuffle_epi32(b.m, sel));     \
        return r;                                                                \
    }
SIMD_EXTMUL_64(i64x2_extmul_low_i32x4_s, _mm_mul_epi32, _MM_SHUFFLE(1, 1, 0, 0))
SIMD_EXTMUL_64(i64x2_extmul_high_i32x4_s, _mm_mul_epi32, _MM_SHUFFLE(3, 3, 2, 2))
SIMD_EXTMUL_64(i64x2_extmul_low_i32x4_u, _mm_mul_epu32, _MM_SHUFFLE(1, 1, 0, 0))
SIMD_EXTMUL_64(i64x2_extmul_high_i32x4_u, _mm_mul_epu32, _MM_SHUFFLE(3, 3, 2, 2))
#else
SIMD_EXTMUL_LOOP(i64x2_extmul_low_i32x4_s, 2, i64, i32, int64_t, 0)
SIMD_EXTMUL_LOOP(i64x2_extmul_high_i32x4_s, 2, i64, i32, int64_t, 1)
SIMD_EXTMUL_LOOP(i64x2_extmul_low_i32x4_u, 2, u64, u32, uint64_t, 0)
SIMD_EXTMUL_LOOP(i64x2_extmul_high_i32x4_u, 2, u64, u32, uint64_t, 1)
#endif

/* Pairwise sums into lanes twice as wide. */
static inline v128_t i16x8_extadd_pairwise_i8x16_s(v128_t a)
{
    v128_t r;
#ifdef SIMD_SSSE3
    r.m = _mm_maddubs_epi16(_mm_set1_epi8(1), a.m); /* unsigned 1 times signed a */
#else
    SIMD_MAP(i16, 8, (int16_t)(a.i8[2 * i] + a.i8[2 * i + 1]));
#endif
    return r;
}
static inline v128_t i16x8_extadd_pairwise_i8x16_u(v128_t a)
{
    v128_t r;
#ifdef SIMD_SSSE3
    r.m = _mm_maddubs_epi16(a.m, _mm_set1_epi8(1)); /* unsigned a times signed 1 */
#else
    SIMD_MAP(u16, 8, (uint16_t)(a.u8[2 * i] + a.u8[2 * i + 1]));
#endif
    return r;
}
static inline v128_t i32x4_extadd_pairwise_i16x8_s(v128_t a)
{
    v128_t r;
#ifdef SIMD_SSE2
    r.m = _mm_madd_epi16(a.m, _mm_set1_epi16(1));
#else
    SIMD_MAP(i32, 4, a.i16[2 * i] + a.i16[2 * i + 1]);
#endif
    return r;
}
static inline v128_t i32x4_extadd_pairwise_i16x8_u(v128_t a)
{
    v128_t r;
#ifdef SIMD_SSE2
    /* pmaddwd is signed: bias each lane by -32768, add 2 * 32768 back. */
    __m128i biased = _mm_xor_si128(a.m, _mm_set1_epi16(INT16_MIN));
    r.m = _mm_add_epi32(_mm_madd_epi16(biased, _mm_set1_epi16(1)), _mm_set1_epi32(0x10000));
#else
    SIMD_MAP(u32, 4, (uint32_t)a.u16[2 * i] + a.u16[2 * i + 1]);
#endif
    return r;
}

static inline v128_t i32x4_dot_i16x8_s(v128_t a, v128_t b)
{
    v128_t r;
#ifdef SIMD_SSE2
    r.m = _mm_madd_epi16(a.m, b.m); /* wraps in the one overflowing case, as Wasm does */
#else
    SIMD_MAP(u32, 4, (uint32_t)(a.i16[2 * i] * b.i16[2 * i]) +
                         (uint32_t)(a.i16[2 * i + 1] * b.i16[2 * i + 1]));
#endif
    return r;
}

#include "exec/simd_float.h"
#include "exec/simd_relaxed.h"


/* The lane-wise instructions by shape, for the interpreter (and tests). */
/* v128 -> v128: X(ID, function) */
#define SIMD_UNARY_OPS(X) \
    X(V128_NOT, v128_not) X(F32X4_DEMOTE_F64X2_ZERO, f32x4_demote_f64x2_zero) \
    X(F64X2_PROMOTE_LOW_F32X4, f64x2_promote_low_f32x4) X(I8X16_ABS, i8x16_abs) \
    X(I8X16_NEG, i8x16_neg) X(I8X16_POPCNT, i8x16_popcnt) X(F32X4_CEIL, f32x4_ceil) \
    X(F32X4_FLOOR, f32x4_floor) X(F32X4_TRUNC, f32x4_trunc) X(F32X4_NEAREST, f32x4_nearest) \
    X(F64X2_CEIL, f64x2_ceil) X(F64X2_FLOOR, f64x2_floor) X(F64X2_TRUNC, f64x2_trunc) \
    X(I16X8_EXTADD_PAIRWISE_I8X16_S, i16x8_extadd_pairwise_i8x16_s) \
    X(I16X8_EXTADD_PAIRWISE_I8X16_U, i16x8_extadd_pairwise_i8x16_u) \
    X(I32X4_EXTADD_PAIRWISE_I16X8_S, i32x4_extadd_pairwise_i16x8_s) \
    X(I32X4_EXTADD_PAIRWISE_I16X8_U, i32x4_extadd_pairwise_i16x8_u) X(I16X8_ABS, i16x8_abs) \
    X(I16X8_NEG, i16x8_neg) X(I16X8_EXTEND_LOW_I8X16_S, i16x8_extend_low_i8x16_s) \
    X(I16X8_EXTEND_HIGH_I8X16_S, i16x8_extend_high_i8x16_s) \
    X(I16X8_EXTEND_LOW_I8X16_U, i16x8_extend_low_i8x16_u) \
    X(I16X8_EXTEND_HIGH_I8X16_U, i16x8_extend_high_i8x16_u) X(F64X2_NEAREST, f64x2_nearest) \
    X(I32X4_ABS, i32x4_abs) X(I32X4_NEG, i32x4_neg) \
    X(I32X4_EXTEND_LOW_I16X8_S, i32x4_extend_low_i16x8_s) \
    X(I32X4_EXTEND_HIGH_I16X8_S, i32x4_extend_high_i16x8_s) \
    X(I32X4_EXTEND_LOW_I16X8_U, i32x4_extend_low_i16x8_u) \
    X(I32X4_EXTEND_HIGH_I16X8_U, i32x4_extend_high_i16x8_u) X(I64X2_ABS, i64x2_abs) \
    X(I64X2_NEG, i64x2_neg) X(I64X2_EXTEND_LOW_I32X4_S, i64x2_extend_low_i32x4_s) \
    X(I64X2_EXTEND_HIGH_I32X4_S, i64x2_extend_high_i32x4_s) \
    X(I64X2_EXTEND_LOW_I32X4_U, i64x2_extend_low_i32x4_u) \
    X(I64X2_EXTEND_HIGH_I32X4_U, i64x2_extend_high_i32x4_u) X(F32X4_ABS, f32x4_abs) \
    X(F32X4_NEG, f32x4_neg) X(F32X4_SQRT, f32x4_sqrt) X(F64X2_ABS, f64x2_abs) \
    X(F64X2_NEG, f64x2_neg) X(F64X2_SQRT, f64x2_sqrt) \
    X(I32X4_TRUNC_SAT_F32X4_S, i32x4_trunc_sat_f32x4_s) \
    X(I32X4_TRUNC_SAT_F32X4_U, i32x4_trunc_sat_f32x4_u) \
    X(F32X4_CONVERT_I32X4_S, f32x4_convert_i32x4_s) \
    X(F32X4_CONVERT_I32X4_U, f32x4_convert_i32x4_u) \
    X(I32X4_TRUNC_SAT_F64X2_S_ZERO, i32x4_trunc_sat_f64x2_s_zero) \
    X(I32X4_TRUNC_SAT_F64X2_U_ZERO, i32x4_trunc_sat_f64x2_u_zero) \
    X(F64X2_CONVERT_LOW_I32X4_S, f64x2_convert_low_i32x4_s) \
    X(F64X2_CONVERT_LOW_I32X4_U, f64x2_convert_low_i32x4_u) \
    SIMD_RELAXED_UNARY_OPS(X)

/* v128 v128 -> v128: X(ID, function) */
#define SIMD_BINARY_OPS(X) \
    X(I8X16_SWIZZLE, i8x16_swizzle) X(I8X16_EQ, i8x16_eq) X(I8X16_NE, i8x16_ne) \
    X(I8X16_LT_S, i8x16_lt_s) X(I8X16_LT_U, i8x16_lt_u) X(I8X16_GT_S, i8x16_gt_s) \
    X(I8X16_GT_U, i8x16_gt_u) X(I8X16_LE_S, i8x16_le_s) X(I8X16_LE_U, i8x16_le_u) \
    X(I8X16_GE_S, i8x16_ge_s) X(I8X16_GE_U, i8x16_ge_u) X(I16X8_EQ, i16x8_eq) \
    X(I16X8_NE, i16x8_ne) X(I16X8_LT_S, i16x8_lt_s) X(I16X8_LT_U, i16x8_lt_u) \
    X(I16X8_GT_S, i16x8_gt_s) X(I16X8_GT_U, i16x8_gt_u) X(I16X8_LE_S, i16x8_le_s) \
    X(I16X8_LE_U, i16x8_le_u) X(I16X8_GE_S, i16x8_ge_s) X(I16X8_GE_U, i16x8_ge_u) \
    X(I32X4_EQ, i32x4_eq) X(I32X4_NE, i32x4_ne) X(I32X4_LT_S, i32x4_lt_s) \
    X(I32X4_LT_U, i32x4_lt_u) X(I32X4_GT_S, i32x4_gt_s) X(I32X4_GT_U, i32x4_gt_u) \
    X(I32X4_LE_S, i32x4_le_s) X(I32X4_LE_U, i32x4_le_u) X(I32X4_GE_S, i32x4_ge_s) \
    X(I32X4_GE_U, i32x4_ge_u) X(F32X4_EQ, f32x4_eq) X(F32X4_NE, f32x4_ne) X(F32X4_LT, f32x4_lt) \
    X(F32X4_GT, f32x4_gt) X(F32X4_LE, f32x4_le) X(F32X4_GE, f32x4_ge) X(F64X2_EQ, f64x2_eq) \
    X(F64X2_NE, f64x2_ne) X(F64X2_LT, f64x2_lt) X(F64X2_GT, f64x2_gt) X(F64X2_LE, f64x2_le) \
    X(F64X2_GE, f64x2_ge) X(V128_AND, v128_and) X(V128_ANDNOT, v128_andnot) X(V128_OR, v128_or) \
    X(V128_XOR, v128_xor) X(I8X16_NARROW_I16X8_S, i8x16_narrow_i16x8_s) \
    X(I8X16_NARROW_I16X8_U, i8x16_narrow_i16x8_u) X(I8X16_ADD, i8x16_add) \
    X(I8X16_ADD_SAT_S, i8x16_add_sat_s) X(I8X16_ADD_SAT_U, i8x16_add_sat_u) \
    X(I8X16_SUB, i8x16_sub) X(I8X16_SUB_SAT_S, i8x16_sub_sat_s) \
    X(I8X16_SUB_SAT_U, i8x16_sub_sat_u) X(I8X16_MIN_S, i8x16_min_s) X(I8X16_MIN_U, i8x16_min_u) \
    X(I8X16_MAX_S, i8x16_max_s) X(I8X16_MAX_U, i8x16_max_u) X(I8X16_AVGR_U, i8x16_avgr_u) \
    X(I16X8_Q15MULR_SAT_S, i16x8_q15mulr_sat_s) X(I16X8_NARROW_I32X4_S, i16x8_narrow_i32x4_s) \
    X(I16X8_NARROW_I32X4_U, i16x8_narrow_i32x4_u) X(I16X8_ADD, i16x8_add) \
    X(I16X8_ADD_SAT_S, i16x8_add_sat_s) X(I16X8_ADD_SAT_U, i16x8_add_sat_u) \
    X(I16X8_SUB, i16x8_sub) X(I16X8_SUB_SAT_S, i16x8_sub_sat_s) \
    X(I16X8_SUB_SAT_U, i16x8_sub_sat_u) X(I16X8_MUL, i16x8_mul) X(I16X8_MIN_S, i16x8_min_s) \
    X(I16X8_MIN_U, i16x8_min_u) X(I16X8_MAX_S, i16x8_max_s) X(I16X8_MAX_U, i16x8_max_u) \
    X(I16X8_AVGR_U, i16x8_avgr_u) X(I16X8_EXTMUL_LOW_I8X16_S, i16x8_extmul_low_i8x16_s) \
    X(I16X8_EXTMUL_HIGH_I8X16_S, i16x8_extmul_high_i8x16_s) \
    X(I16X8_EXTMUL_LOW_I8X16_U, i16x8_extmul_low_i8x16_u) \
    X(I16X8_EXTMUL_HIGH_I8X16_U, i16x8_extmul_high_i8x16_u) X(I32X4_ADD, i32x4_add) \
    X(I32X4_SUB, i32x4_sub) X(I32X4_MUL, i32x4_mul) X(I32X4_MIN_S, i32x4_min_s) \
    X(I32X4_MIN_U, i32x4_min_u) X(I32X4_MAX_S, i32x4_max_s) X(I32X4_MAX_U, i32x4_max_u) \
    X(I32X4_DOT_I16X8_S, i32x4_dot_i16x8_s) \
    X(I32X4_EXTMUL_LOW_I16X8_S, i32x4_extmul_low_i16x8_s) \
    X(I32X4_EXTMUL_HIGH_I16X8_S, i32x4_extmul_high_i16x8_s) \
    X(I32X4_EXTMUL_LOW_I16X8_U, i32x4_extmul_low_i16x8_u) \
    X(I32X4_EXTMUL_HIGH_I16X8_U, i32x4_extmul_high_i16x8_u) X(I64X2_ADD, i64x2_add) \
    X(I64X2_SUB, i64x2_sub) X(I64X2_MUL, i64x2_mul) X(I64X2_EQ, i64x2_eq) X(I64X2_NE, i64x2_ne) \
    X(I64X2_LT_S, i64x2_lt_s) X(I64X2_GT_S, i64x2_gt_s) X(I64X2_LE_S, i64x2_le_s) \
    X(I64X2_GE_S, i64x2_ge_s) X(I64X2_EXTMUL_LOW_I32X4_S, i64x2_extmul_low_i32x4_s) \
    X(I64X2_EXTMUL_HIGH_I32X4_S, i64x2_extmul_high_i32x4_s) \
    X(I64X2_EXTMUL_LOW_I32X4_U, i64x2_extmul_low_i32x4_u) \
    X(I64X2_EXTMUL_HIGH_I32X4_U, i64x2_extmul_high_i32x4_u) X(F32X4_ADD, f32x4_add) \
    X(F32X4_SUB, f32x4_sub) X(F32X4_MUL, f32x4_mul) X(F32X4_DIV, f32x4_div) \
    X(F32X4_MIN, f32x4_min) X(F32X4_MAX, f32x4_max) X(F32X4_PMIN, f32x4_pmin) \
    X(F32X4_PMAX, f32x4_pmax) X(F64X2_ADD, f64x2_add) X(F64X2_SUB, f64x2_sub) \
    X(F64X2_MUL, f64x2_mul) X(F64X2_DIV, f64x2_div) X(F64X2_MIN, f64x2_min) \
    X(F64X2_MAX, f64x2_max) X(F64X2_PMIN, f64x2_pmin) X(F64X2_PMAX, f64x2_pmax) \
    SIMD_RELAXED_BINARY_OPS(X)

/* v128 -> i32: X(ID, function) */
#define SIMD_TEST_OPS(X) \
    X(V128_ANY_TRUE, v128_any_true) X(I8X16_ALL_TRUE, i8x16_all_true) \
    X(I8X16_BITMASK, i8x16_bitmask) X(I16X8_ALL_TRUE, i16x8_all_true) \
    X(I16X8_BITMASK, i16x8_bitmask) X(I32X4_ALL_TRUE, i32x4_all_true) \
    X(I32X4_BITMASK, i32x4_bitmask) X(I64X2_ALL_TRUE, i64x2_all_true) \
    X(I64X2_BITMASK, i64x2_bitmask)

/* v128 i32 -> v128: X(ID, function) */
#define SIMD_SHIFT_OPS(X) \
    X(I8X16_SHL, i8x16_shl) X(I8X16_SHR_S, i8x16_shr_s) X(I8X16_SHR_U, i8x16_shr_u) \
    X(I16X8_SHL, i16x8_shl) X(I16X8_SHR_S, i16x8_shr_s) X(I16X8_SHR_U, i16x8_shr_u) \
    X(I32X4_SHL, i32x4_shl) X(I32X4_SHR_S, i32x4_shr_s) X(I32X4_SHR_U, i32x4_shr_u) \
    X(I64X2_SHL, i64x2_shl) X(I64X2_SHR_S, i64x2_shr_s) X(I64X2_SHR_U, i64x2_shr_u)

#endif
