/* Float lanes of the SIMD instructions and the conversions between lane
 * types; part of simd.h (which sets up v128_t and the SIMD_* switches). */
#ifndef WHIRL_EXEC_SIMD_FLOAT_H
#define WHIRL_EXEC_SIMD_FLOAT_H

/* Sign bit operations work on the bits, so NaN payloads are kept. */
static inline v128_t f32x4_abs(v128_t a)
{
    v128_t r;
    SIMD_MAP(u32, 4, a.u32[i] & 0x7fffffffu);
    return r;
}
static inline v128_t f32x4_neg(v128_t a)
{
    v128_t r;
    SIMD_MAP(u32, 4, a.u32[i] ^ 0x80000000u);
    return r;
}
static inline v128_t f64x2_abs(v128_t a)
{
    v128_t r;
    SIMD_MAP(u64, 2, a.u64[i] & 0x7fffffffffffffffull);
    return r;
}
static inline v128_t f64x2_neg(v128_t a)
{
    v128_t r;
    SIMD_MAP(u64, 2, a.u64[i] ^ 0x8000000000000000ull);
    return r;
}

/* Arithmetic: IEEE lane by lane in both paths. */
#ifdef SIMD_SSE2
#define SIMD_FARITH(name, ps, pd, op)                                              \
    static inline v128_t f32x4_##name(v128_t a, v128_t b) { v128_t r; r.mf = ps(a.mf, b.mf); return r; } \
    static inline v128_t f64x2_##name(v128_t a, v128_t b) { v128_t r; r.md = pd(a.md, b.md); return r; }
#else
#define SIMD_FARITH(name, ps, pd, op)                                              \
    static inline v128_t f32x4_##name(v128_t a, v128_t b)                          \
    {                                                                              \
        v128_t r;                                                                  \
        SIMD_MAP(f32, 4, a.f32[i] op b.f32[i]);                                    \
        return r;                                                                  \
    }                                                                              \
    static inline v128_t f64x2_##name(v128_t a, v128_t b)                          \
    {                                                                              \
        v128_t r;                                                                  \
        SIMD_MAP(f64, 2, a.f64[i] op b.f64[i]);                                    \
        return r;                                                                  \
    }
#endif
SIMD_FARITH(add, _mm_add_ps, _mm_add_pd, +)
SIMD_FARITH(sub, _mm_sub_ps, _mm_sub_pd, -)
SIMD_FARITH(mul, _mm_mul_ps, _mm_mul_pd, *)
SIMD_FARITH(div, _mm_div_ps, _mm_div_pd, /)

static inline v128_t f32x4_sqrt(v128_t a)
{
    v128_t r;
#ifdef SIMD_SSE2
    r.mf = _mm_sqrt_ps(a.mf);
#else
    SIMD_MAP(f32, 4, sqrtf(a.f32[i]));
#endif
    return r;
}
static inline v128_t f64x2_sqrt(v128_t a)
{
    v128_t r;
#ifdef SIMD_SSE2
    r.md = _mm_sqrt_pd(a.md);
#else
    SIMD_MAP(f64, 2, sqrt(a.f64[i]));
#endif
    return r;
}

/* min/max: a NaN operand gives NaN, and -0 < +0. minps/maxps return their
 * second operand on NaN or equal operands, so both operand orders are
 * combined: OR picks -0 for min, AND picks +0 for max; NaN lanes are then
 * set to the canonical NaN (all ones, then the payload below the quiet bit
 * cleared). */
static inline v128_t f32x4_min(v128_t a, v128_t b)
{
    v128_t r;
#ifdef SIMD_SSE2
    __m128 m = _mm_or_ps(_mm_min_ps(a.mf, b.mf), _mm_min_ps(b.mf, a.mf));
    __m128 nan = _mm_cmpunord_ps(a.mf, b.mf);
    m = _mm_or_ps(m, nan);
    r.mf = _mm_andnot_ps(_mm_castsi128_ps(_mm_srli_epi32(_mm_castps_si128(nan), 10)), m);
#else
    SIMD_MAP(f32, 4, f32_min(a.f32[i], b.f32[i]));
#endif
    return r;
}
static inline v128_t f32x4_max(v128_t a, v128_t b)
{
    v128_t r;
#ifdef SIMD_SSE2
    __m128 m = _mm_and_ps(_mm_max_ps(a.mf, b.mf), _mm_max_ps(b.mf, a.mf));
    __m128 nan = _mm_cmpunord_ps(a.mf, b.mf);
    m = _mm_or_ps(m, nan);
    r.mf = _mm_andnot_ps(_mm_castsi128_ps(_mm_srli_epi32(_mm_castps_si128(nan), 10)), m);
#else
    SIMD_MAP(f32, 4, f32_max(a.f32[i], b.f32[i]));
#endif
    return r;
}
static inline v128_t f64x2_min(v128_t a, v128_t b)
{
    v128_t r;
#ifdef SIMD_SSE2
    __m128d m = _mm_or_pd(_mm_min_pd(a.md, b.md), _mm_min_pd(b.md, a.md));
    __m128d nan = _mm_cmpunord_pd(a.md, b.md);
    m = _mm_or_pd(m, nan);
    r.md = _mm_andnot_pd(_mm_castsi128_pd(_mm_srli_epi64(_mm_castpd_si128(nan), 13)), m);
#else
    SIMD_MAP(f64, 2, f64_min(a.f64[i], b.f64[i]));
#endif
    return r;
}
static inline v128_t f64x2_max(v128_t a, v128_t b)
{
    v128_t r;
#ifdef SIMD_SSE2
    __m128d m = _mm_and_pd(_mm_max_pd(a.md, b.md), _mm_max_pd(b.md, a.md));
    __m128d nan = _mm_cmpunord_pd(a.md, b.md);
    m = _mm_or_pd(m, nan);
    r.md = _mm_andnot_pd(_mm_castsi128_pd(_mm_srli_epi64(_mm_castpd_si128(nan), 13)), m);
#else
    SIMD_MAP(f64, 2, f64_max(a.f64[i], b.f64[i]));
#endif
    return r;
}

/* Pseudo-min/max are defined as selects: pmin = b < a ? b : a, pmax =
 * a < b ? b : a, which is exactly minps(b, a) and maxps(b, a). */
static inline v128_t f32x4_pmin(v128_t a, v128_t b)
{
    v128_t r;
#ifdef SIMD_SSE2
    r.mf = _mm_min_ps(b.mf, a.mf);
#else
    SIMD_MAP(u32, 4, b.f32[i] < a.f32[i] ? b.u32[i] : a.u32[i]);
#endif
    return r;
}
static inline v128_t f32x4_pmax(v128_t a, v128_t b)
{
    v128_t r;
#ifdef SIMD_SSE2
    r.mf = _mm_max_ps(b.mf, a.mf);
#else
    SIMD_MAP(u32, 4, a.f32[i] < b.f32[i] ? b.u32[i] : a.u32[i]);
#endif
    return r;
}
static inline v128_t f64x2_pmin(v128_t a, v128_t b)
{
    v128_t r;
#ifdef SIMD_SSE2
    r.md = _mm_min_pd(b.md, a.md);
#else
    SIMD_MAP(u64, 2, b.f64[i] < a.f64[i] ? b.u64[i] : a.u64[i]);
#endif
    return r;
}
static inline v128_t f64x2_pmax(v128_t a, v128_t b)
{
    v128_t r;
#ifdef SIMD_SSE2
    r.md = _mm_max_pd(b.md, a.md);
#else
    SIMD_MAP(u64, 2, a.f64[i] < b.f64[i] ? b.u64[i] : a.u64[i]);
#endif
    return r;
}

/* Rounding: roundps quiets NaNs and keeps -0, like the scalar ops (glibc's
 * functions return a signalling NaN as is; x + x quiets it). */
#ifdef SIMD_SSE41
#define SIMD_ROUND(name, mode, f32fn, f64fn)                                       \
    static inline v128_t f32x4_##name(v128_t a)                                    \
    { v128_t r; r.mf = _mm_round_ps(a.mf, (mode) | _MM_FROUND_NO_EXC); return r; } \
    static inline v128_t f64x2_##name(v128_t a)                                    \
    { v128_t r; r.md = _mm_round_pd(a.md, (mode) | _MM_FROUND_NO_EXC); return r; }
#else
#define SIMD_ROUND(name, mode, f32fn, f64fn)                                       \
    static inline v128_t f32x4_##name(v128_t a)                                    \
    {                                                                              \
        v128_t r;                                                                  \
        SIMD_MAP(f32, 4, isnan(a.f32[i]) ? a.f32[i] + a.f32[i] : f32fn(a.f32[i])); \
        return r;                                                                  \
    }                                                                              \
    static inline v128_t f64x2_##name(v128_t a)                                    \
    {                                                                              \
        v128_t r;                                                                  \
        SIMD_MAP(f64, 2, isnan(a.f64[i]) ? a.f64[i] + a.f64[i] : f64fn(a.f64[i])); \
        return r;                                                                  \
    }
#endif
SIMD_ROUND(ceil, _MM_FROUND_TO_POS_INF, ceilf, ceil)
SIMD_ROUND(floor, _MM_FROUND_TO_NEG_INF, floorf, floor)
SIMD_ROUND(trunc, _MM_FROUND_TO_ZERO, truncf, trunc)
SIMD_ROUND(nearest, _MM_FROUND_TO_NEAREST_INT, nearbyintf, nearbyint)

/* ------------------------------------------------------- conversions */

static inline v128_t f32x4_convert_i32x4_s(v128_t a)
{
    v128_t r;
#ifdef SIMD_SSE2
    r.mf = _mm_cvtepi32_ps(a.m);
#else
    SIMD_MAP(f32, 4, (float)a.i32[i]);
#endif
    return r;
}
static inline v128_t f32x4_convert_i32x4_u(v128_t a)
{
    v128_t r;
#ifdef SIMD_SSE2
    /* hi * 65536 and lo are exact floats, so the sum rounds once, like a
     * direct conversion. */
    __m128 hi = _mm_cvtepi32_ps(_mm_srli_epi32(a.m, 16));
    __m128 lo = _mm_cvtepi32_ps(_mm_and_si128(a.m, _mm_set1_epi32(0xffff)));
    r.mf = _mm_add_ps(_mm_mul_ps(hi, _mm_set1_ps(65536.0f)), lo);
#else
    SIMD_MAP(f32, 4, (float)a.u32[i]);
#endif
    return r;
}
static inline v128_t i32x4_trunc_sat_f32x4_s(v128_t a)
{
    v128_t r;
#ifdef SIMD_SSE2
    /* cvttps2dq gives 0x80000000 for NaN and out-of-range lanes: turn the
     * positive overflows into 0x7fffffff and the NaNs into 0. */
    __m128i t = _mm_cvttps_epi32(a.mf);
    __m128i over = _mm_castps_si128(_mm_cmpge_ps(a.mf, _mm_set1_ps(2147483648.0f)));
    __m128i ordered = _mm_castps_si128(_mm_cmpord_ps(a.mf, a.mf));
    r.m = _mm_and_si128(_mm_xor_si128(t, over), ordered);
#else
    SIMD_MAP(i32, 4, sat_i32_s(a.f32[i]));
#endif
    return r;
}
static inline v128_t i32x4_trunc_sat_f32x4_u(v128_t a)
{
    v128_t r;
    SIMD_MAP(u32, 4, sat_i32_u(a.f32[i]));
    return r;
}
static inline v128_t i32x4_trunc_sat_f64x2_s_zero(v128_t a)
{
    v128_t r;
    r.i32[0] = sat_i32_s(a.f64[0]);
    r.i32[1] = sat_i32_s(a.f64[1]);
    r.u64[1] = 0;
    return r;
}
static inline v128_t i32x4_trunc_sat_f64x2_u_zero(v128_t a)
{
    v128_t r;
    r.u32[0] = sat_i32_u(a.f64[0]);
    r.u32[1] = sat_i32_u(a.f64[1]);
    r.u64[1] = 0;
    return r;
}
static inline v128_t f64x2_convert_low_i32x4_s(v128_t a)
{
    v128_t r;
#ifdef SIMD_SSE2
    r.md = _mm_cvtepi32_pd(a.m);
#else
    SIMD_MAP(f64, 2, (double)a.i32[i]);
#endif
    return r;
}
static inline v128_t f64x2_convert_low_i32x4_u(v128_t a)
{
    v128_t r;
    SIMD_MAP(f64, 2, (double)a.u32[i]);
    return r;
}
static inline v128_t f32x4_demote_f64x2_zero(v128_t a)
{
    v128_t r;
#ifdef SIMD_SSE2
    r.mf = _mm_cvtpd_ps(a.md); /* upper lanes zeroed */
#else
    r.f32[0] = (float)a.f64[0];
    r.f32[1] = (float)a.f64[1];
    r.u64[1] = 0;
#endif
    return r;
}
static inline v128_t f64x2_promote_low_f32x4(v128_t a)
{
    v128_t r;
#ifdef SIMD_SSE2
    r.md = _mm_cvtps_pd(a.mf);
#else
    SIMD_MAP(f64, 2, (double)a.f32[i]);
#endif
    return r;
}

#endif
