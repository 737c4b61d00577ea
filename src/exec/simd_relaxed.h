/* Relaxed SIMD (WebAssembly 3.0), included by simd.h.
 *
 * The spec lets each relaxed instruction return one of a few results; whirl
 * picks one, always the same: in both tiers (src/jit/translate_simd.c
 * builds the same results), in the portable and the SSE builds, on every
 * host. The choices (docs/ARCHITECTURE.md, "Relaxed SIMD"):
 * - relaxed_swizzle, relaxed_trunc*, relaxed_laneselect, relaxed_min/max,
 *   relaxed_q15mulr_s are their 2.0 counterparts (swizzle, trunc_sat*,
 *   bitselect, min/max, q15mulr_sat_s): exact, and as fast as x86 allows
 *   without AVX (the relaxed forms' x86 shortcuts would only save the
 *   fix-ups those already do).
 * - relaxed_madd is unfused, a * b rounded, then + c rounded; relaxed_nmadd
 *   is (-a) * b + c the same way. x86-64 does not guarantee FMA, and a fused
 *   result without it costs a libm call per lane. -ffp-contract=off (the
 *   top CMakeLists.txt) keeps C compilers from fusing the portable lanes,
 *   jt_opaque keeps LLVM from fusing the tier's.
 * - relaxed_dot_i8x16_i7x16_s treats both operands as signed and saturates
 *   each pair's sum to i16 (only -128*-128 twice overflows); the _add_s form
 *   widens those i16 sums pairwise to i32 and adds c (wrapping). */
#ifndef WHIRL_EXEC_SIMD_RELAXED_H
#define WHIRL_EXEC_SIMD_RELAXED_H

static inline v128_t f32x4_relaxed_madd(v128_t a, v128_t b, v128_t c)
{
    return f32x4_add(f32x4_mul(a, b), c);
}
static inline v128_t f32x4_relaxed_nmadd(v128_t a, v128_t b, v128_t c)
{
    return f32x4_add(f32x4_mul(f32x4_neg(a), b), c);
}
static inline v128_t f64x2_relaxed_madd(v128_t a, v128_t b, v128_t c)
{
    return f64x2_add(f64x2_mul(a, b), c);
}
static inline v128_t f64x2_relaxed_nmadd(v128_t a, v128_t b, v128_t c)
{
    return f64x2_add(f64x2_mul(f64x2_neg(a), b), c);
}

static inline v128_t i16x8_relaxed_dot_i8x16_i7x16_s(v128_t a, v128_t b)
{
    v128_t r;
#ifdef SIMD_SSE2
    /* Even bytes sign-extended in place (shift up, then arithmetic down),
     * odd bytes by the arithmetic shift alone. */
    __m128i ae = _mm_srai_epi16(_mm_slli_epi16(a.m, 8), 8), ao = _mm_srai_epi16(a.m, 8);
    __m128i be = _mm_srai_epi16(_mm_slli_epi16(b.m, 8), 8), bo = _mm_srai_epi16(b.m, 8);
    r.m = _mm_adds_epi16(_mm_mullo_epi16(ae, be), _mm_mullo_epi16(ao, bo));
#else
    for (int i = 0; i < 8; i++)
        r.i16[i] = (int16_t)sat_s16(a.i8[2 * i] * b.i8[2 * i] + a.i8[2 * i + 1] * b.i8[2 * i + 1]);
#endif
    return r;
}

static inline v128_t i32x4_relaxed_dot_i8x16_i7x16_add_s(v128_t a, v128_t b, v128_t c)
{
    return i32x4_add(i32x4_extadd_pairwise_i16x8_s(i16x8_relaxed_dot_i8x16_i7x16_s(a, b)), c);
}

/* v128 -> v128, v128 v128 -> v128, v128 v128 v128 -> v128: X(ID, function) */
#define SIMD_RELAXED_UNARY_OPS(X) \
    X(I32X4_RELAXED_TRUNC_F32X4_S, i32x4_trunc_sat_f32x4_s) \
    X(I32X4_RELAXED_TRUNC_F32X4_U, i32x4_trunc_sat_f32x4_u) \
    X(I32X4_RELAXED_TRUNC_F64X2_S_ZERO, i32x4_trunc_sat_f64x2_s_zero) \
    X(I32X4_RELAXED_TRUNC_F64X2_U_ZERO, i32x4_trunc_sat_f64x2_u_zero)
#define SIMD_RELAXED_BINARY_OPS(X) \
    X(I8X16_RELAXED_SWIZZLE, i8x16_swizzle) X(F32X4_RELAXED_MIN, f32x4_min) \
    X(F32X4_RELAXED_MAX, f32x4_max) X(F64X2_RELAXED_MIN, f64x2_min) \
    X(F64X2_RELAXED_MAX, f64x2_max) X(I16X8_RELAXED_Q15MULR_S, i16x8_q15mulr_sat_s) \
    X(I16X8_RELAXED_DOT_I8X16_I7X16_S, i16x8_relaxed_dot_i8x16_i7x16_s)
#define SIMD_TERNARY_OPS(X) \
    X(V128_BITSELECT, v128_bitselect) X(I8X16_RELAXED_LANESELECT, v128_bitselect) \
    X(I16X8_RELAXED_LANESELECT, v128_bitselect) X(I32X4_RELAXED_LANESELECT, v128_bitselect) \
    X(I64X2_RELAXED_LANESELECT, v128_bitselect) X(F32X4_RELAXED_MADD, f32x4_relaxed_madd) \
    X(F32X4_RELAXED_NMADD, f32x4_relaxed_nmadd) X(F64X2_RELAXED_MADD, f64x2_relaxed_madd) \
    X(F64X2_RELAXED_NMADD, f64x2_relaxed_nmadd) \
    X(I32X4_RELAXED_DOT_I8X16_I7X16_ADD_S, i32x4_relaxed_dot_i8x16_i7x16_add_s)

#endif
