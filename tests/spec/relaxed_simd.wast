;; whirl's deterministic relaxed SIMD choices (docs/ARCHITECTURE.md,
;; "Relaxed SIMD"), exact bits: each assertion rules out the other results
;; the spec allows. Run by tests/spec/run-relaxed in both tiers.

(module
  (func (export "f32x4.relaxed_madd") (param v128 v128 v128) (result v128)
    (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2)))
  (func (export "f32x4.relaxed_nmadd") (param v128 v128 v128) (result v128)
    (f32x4.relaxed_nmadd (local.get 0) (local.get 1) (local.get 2)))
  (func (export "f64x2.relaxed_madd") (param v128 v128 v128) (result v128)
    (f64x2.relaxed_madd (local.get 0) (local.get 1) (local.get 2)))
  (func (export "f64x2.relaxed_nmadd") (param v128 v128 v128) (result v128)
    (f64x2.relaxed_nmadd (local.get 0) (local.get 1) (local.get 2)))
  ;; The same with constant operands, which LLVM could fold or contract.
  (func (export "f32x4.relaxed_madd_const") (result v128)
    (f32x4.relaxed_madd (v128.const f32x4 0x1.001p+0 0x1.001p+0 0x1.001p+0 0x1.001p+0)
                        (v128.const f32x4 0x1.001p+0 0x1.001p+0 0x1.001p+0 0x1.001p+0)
                        (v128.const f32x4 -0x1.002p+0 -0x1.002p+0 -0x1.002p+0 -0x1.002p+0)))
  (func (export "f64x2.relaxed_nmadd_const") (result v128)
    (f64x2.relaxed_nmadd (v128.const f64x2 0x1.0000002p+0 0x1.0000002p+0)
                         (v128.const f64x2 0x1.0000002p+0 0x1.0000002p+0)
                         (v128.const f64x2 0x1.0000004p+0 0x1.0000004p+0)))
  (func (export "i16x8.relaxed_dot_i8x16_i7x16_s") (param v128 v128) (result v128)
    (i16x8.relaxed_dot_i8x16_i7x16_s (local.get 0) (local.get 1)))
  (func (export "i32x4.relaxed_dot_i8x16_i7x16_add_s") (param v128 v128 v128) (result v128)
    (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get 0) (local.get 1) (local.get 2)))
  (func (export "i8x16.relaxed_swizzle") (param v128 v128) (result v128)
    (i8x16.relaxed_swizzle (local.get 0) (local.get 1)))
  (func (export "i32x4.relaxed_trunc_f32x4_s") (param v128) (result v128)
    (i32x4.relaxed_trunc_f32x4_s (local.get 0)))
  (func (export "i32x4.relaxed_trunc_f32x4_u") (param v128) (result v128)
    (i32x4.relaxed_trunc_f32x4_u (local.get 0)))
  (func (export "i32x4.relaxed_trunc_f64x2_s_zero") (param v128) (result v128)
    (i32x4.relaxed_trunc_f64x2_s_zero (local.get 0)))
  (func (export "i32x4.relaxed_trunc_f64x2_u_zero") (param v128) (result v128)
    (i32x4.relaxed_trunc_f64x2_u_zero (local.get 0)))
  (func (export "i8x16.relaxed_laneselect") (param v128 v128 v128) (result v128)
    (i8x16.relaxed_laneselect (local.get 0) (local.get 1) (local.get 2)))
  (func (export "i16x8.relaxed_laneselect") (param v128 v128 v128) (result v128)
    (i16x8.relaxed_laneselect (local.get 0) (local.get 1) (local.get 2)))
  (func (export "i32x4.relaxed_laneselect") (param v128 v128 v128) (result v128)
    (i32x4.relaxed_laneselect (local.get 0) (local.get 1) (local.get 2)))
  (func (export "i64x2.relaxed_laneselect") (param v128 v128 v128) (result v128)
    (i64x2.relaxed_laneselect (local.get 0) (local.get 1) (local.get 2)))
  (func (export "f32x4.relaxed_min") (param v128 v128) (result v128)
    (f32x4.relaxed_min (local.get 0) (local.get 1)))
  (func (export "f32x4.relaxed_max") (param v128 v128) (result v128)
    (f32x4.relaxed_max (local.get 0) (local.get 1)))
  (func (export "f64x2.relaxed_min") (param v128 v128) (result v128)
    (f64x2.relaxed_min (local.get 0) (local.get 1)))
  (func (export "f64x2.relaxed_max") (param v128 v128) (result v128)
    (f64x2.relaxed_max (local.get 0) (local.get 1)))
  (func (export "i16x8.relaxed_q15mulr_s") (param v128 v128) (result v128)
    (i16x8.relaxed_q15mulr_s (local.get 0) (local.get 1)))
)

;; Unfused: (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24 rounds to 1 + 2^-11, so the
;; sum is 0 (fused: 2^-24, or -2^-24 for nmadd).
(assert_return (invoke "f32x4.relaxed_madd"
    (v128.const f32x4 0x1.001p+0 0x1.001p+0 2 -0)
    (v128.const f32x4 0x1.001p+0 0x1.001p+0 3 0)
    (v128.const f32x4 -0x1.002p+0 0x1.002p+0 1 -0))
  (v128.const f32x4 0 0x1.002p+1 7 -0))
(assert_return (invoke "f32x4.relaxed_nmadd"
    (v128.const f32x4 0x1.001p+0 0x1.001p+0 2 1)
    (v128.const f32x4 0x1.001p+0 -0x1.001p+0 3 inf)
    (v128.const f32x4 0x1.002p+0 -0x1.002p+0 1 inf))
  (v128.const f32x4 0 0 -5 nan:canonical))
(assert_return (invoke "f64x2.relaxed_madd"
    (v128.const f64x2 0x1.0000002p+0 0x1p+1023)
    (v128.const f64x2 0x1.0000002p+0 2)
    (v128.const f64x2 -0x1.0000004p+0 1))
  (v128.const f64x2 0 inf))
(assert_return (invoke "f64x2.relaxed_nmadd"
    (v128.const f64x2 0x1.0000002p+0 0x1p+1023)
    (v128.const f64x2 0x1.0000002p+0 2)
    (v128.const f64x2 0x1.0000004p+0 1))
  (v128.const f64x2 0 -inf))
(assert_return (invoke "f32x4.relaxed_madd_const") (v128.const f32x4 0 0 0 0))
(assert_return (invoke "f64x2.relaxed_nmadd_const") (v128.const f64x2 0 0))

;; Signed by signed, pair sums saturated: -128 * -128 * 2 = 32767 (not
;; -32768 wrapped, nor -32768 with b unsigned); b = 0x80 is -128.
(assert_return (invoke "i16x8.relaxed_dot_i8x16_i7x16_s"
    (v128.const i8x16 -128 -128 1 1 -128 127 127 127 0 0 0 0 0 0 5 -6)
    (v128.const i8x16 -128 -128 -128 -128 -128 -128 127 127 0 0 0 0 0 0 7 7))
  (v128.const i16x8 32767 -256 128 32258 0 0 0 -7))
(assert_return (invoke "i32x4.relaxed_dot_i8x16_i7x16_add_s"
    (v128.const i8x16 -128 -128 -128 -128 1 1 1 1 -128 -128 -128 -128 0 0 0 0)
    (v128.const i8x16 -128 -128 -128 -128 -128 -128 -128 -128 -128 -128 -128 -128 0 0 0 0)
    (v128.const i32x4 1 2 0x7fffffff 4))
  (v128.const i32x4 65535 -510 -2147418115 4))

;; Indices past 15 give 0, as i8x16.swizzle.
(assert_return (invoke "i8x16.relaxed_swizzle"
    (v128.const i8x16 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25)
    (v128.const i8x16 0 15 16 17 31 32 127 -128 -1 -16 1 2 3 4 5 6))
  (v128.const i8x16 10 25 0 0 0 0 0 0 0 0 11 12 13 14 15 16))

;; As the trunc_sat instructions: NaN 0, out of range saturated.
(assert_return (invoke "i32x4.relaxed_trunc_f32x4_s"
    (v128.const f32x4 nan 3e9 -3e9 -1.9))
  (v128.const i32x4 0 0x7fffffff 0x80000000 -1))
(assert_return (invoke "i32x4.relaxed_trunc_f32x4_u"
    (v128.const f32x4 nan 3e9 5e9 -1.9))
  (v128.const i32x4 0 3000000000 0xffffffff 0))
(assert_return (invoke "i32x4.relaxed_trunc_f64x2_s_zero"
    (v128.const f64x2 -nan 0x1p+40))
  (v128.const i32x4 0 0x7fffffff 0 0))
(assert_return (invoke "i32x4.relaxed_trunc_f64x2_u_zero"
    (v128.const f64x2 -2.5 4294967295.9))
  (v128.const i32x4 0 0xffffffff 0 0))

;; Bit by bit, as v128.bitselect (not only the top bit of each lane).
(assert_return (invoke "i8x16.relaxed_laneselect"
    (v128.const i64x2 -1 -1) (v128.const i64x2 0 0) (v128.const i64x2 0x0f0f0f0f0f0f0f0f 0x7f00ff0001020380))
  (v128.const i64x2 0x0f0f0f0f0f0f0f0f 0x7f00ff0001020380))
(assert_return (invoke "i16x8.relaxed_laneselect"
    (v128.const i64x2 0x1111111111111111 0x2222222222222222) (v128.const i64x2 -1 -1)
    (v128.const i64x2 0x7fff0000ffff8000 0x00ff00ff00ff00ff))
  (v128.const i64x2 0x9111ffff11117fff 0xff22ff22ff22ff22))
(assert_return (invoke "i32x4.relaxed_laneselect"
    (v128.const i64x2 -1 0) (v128.const i64x2 0 -1) (v128.const i64x2 0x800000007fffffff 0x7fffffff80000000))
  (v128.const i64x2 0x800000007fffffff 0x800000007fffffff))
(assert_return (invoke "i64x2.relaxed_laneselect"
    (v128.const i64x2 -1 -1) (v128.const i64x2 0 0) (v128.const i64x2 0x8000000000000000 0x7fffffffffffffff))
  (v128.const i64x2 0x8000000000000000 0x7fffffffffffffff))

;; As min/max: NaN lanes give a NaN, -0 < +0.
(assert_return (invoke "f32x4.relaxed_min"
    (v128.const f32x4 nan 1 -0 0) (v128.const f32x4 1 nan 0 -0))
  (v128.const f32x4 nan:canonical nan:canonical -0 -0))
(assert_return (invoke "f32x4.relaxed_max"
    (v128.const f32x4 nan 1 -0 0) (v128.const f32x4 1 nan 0 -0))
  (v128.const f32x4 nan:canonical nan:canonical 0 0))
(assert_return (invoke "f64x2.relaxed_min"
    (v128.const f64x2 -0 nan) (v128.const f64x2 0 -inf))
  (v128.const f64x2 -0 nan:canonical))
(assert_return (invoke "f64x2.relaxed_max"
    (v128.const f64x2 0 -inf) (v128.const f64x2 -0 nan))
  (v128.const f64x2 0 nan:canonical))

;; Saturating, as q15mulr_sat_s: -1 * -1 in Q15 is 0x7fff.
(assert_return (invoke "i16x8.relaxed_q15mulr_s"
    (v128.const i16x8 -32768 -32768 16384 -16384 1 0 32767 -1)
    (v128.const i16x8 -32768 32767 16384 16384 1 9 32767 -1))
  (v128.const i16x8 32767 -32767 8192 -8192 0 0 32766 0))
