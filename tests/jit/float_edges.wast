;; Scalar float results LLVM's folds would change (found while making the
;; SIMD lanes bit-exact): a sign operation moved into the arithmetic around
;; it, constants 1.0 or 0.0 made from integers only after optimisation, and
;; constant arithmetic folded with LLVM's own default NaN (+NaN; x86 gives
;; -NaN). Both tiers must give the interpreter's bits (whirl-jit-diff,
;; tests/jit/run).

(module
  (func (export "neg_mul") (param f32 f32) (result f32) (f32.neg (f32.mul (local.get 0) (local.get 1))))
  (func (export "sub_neg") (param f64 f64) (result f64) (f64.sub (local.get 0) (f64.neg (local.get 1))))
  (func (export "neg_add") (param f32 f32) (result f32) (f32.add (f32.neg (local.get 0)) (local.get 1)))
  (func (export "mul_conv_one") (param f32) (result f32) (f32.mul (local.get 0) (f32.convert_i32_s (i32.const 1))))
  (func (export "mul_conv_one_local") (param f64) (result f64) (local i64)
    (local.set 1 (i64.const -1))
    (f64.mul (local.get 0) (f64.convert_i64_s (local.get 1))))
  (func (export "sub_zero_local") (param f64) (result f64) (local f64)
    (local.set 1 (f64.reinterpret_i64 (i64.const 0)))
    (f64.sub (local.get 0) (local.get 1)))
  (func (export "abs_mul_self") (param f32) (result f32) (f32.abs (f32.mul (local.get 0) (local.get 0))))
  (func (export "min_copysign") (param f64) (result f64)
    (f64.min (f64.const 0.5) (f64.copysign (local.get 0) (f64.const -inf))))
  ;; min/max of two NaNs: the first, quieted (fuzz-tier found the
  ;; interpreter returning the second, the tier the first).
  (func (export "max_nans") (param f64 f64) (result f64) (f64.max (local.get 0) (local.get 1)))
  (func (export "min_nans") (param f32 f32) (result f32) (f32.min (local.get 0) (local.get 1)))
  (func (export "max_nan_consts") (result f64) (f64.max (f64.const nan:0x1) (f64.const -nan:0x2)))
  (func (export "inf_minus_inf") (result f32) (f32.sub (f32.const inf) (f32.const inf)))
  (func (export "zero_times_inf") (result f64) (f64.mul (f64.const 0) (f64.const -inf)))
  (func (export "add_neg_zero_bits") (param f32) (result f32)
    (f32.add (local.get 0) (f32.reinterpret_i32 (i32.shl (i32.const 1) (i32.const 31)))))
)

(assert_return (invoke "neg_mul" (f32.const 2) (f32.const -nan:0x300000)) (f32.const nan:0x700000))
(assert_return (invoke "neg_mul" (f32.const 2) (f32.const 3)) (f32.const -6))
(assert_return (invoke "sub_neg" (f64.const 1) (f64.const nan:0x8000000000001)) (f64.const -nan:0x8000000000001))
(assert_return (invoke "neg_add" (f32.const nan:0x200000) (f32.const 1)) (f32.const -nan:0x600000))
(assert_return (invoke "mul_conv_one" (f32.const nan:0x200000)) (f32.const nan:0x600000))
(assert_return (invoke "mul_conv_one_local" (f64.const -nan:0x1)) (f64.const -nan:0x8000000000001))
(assert_return (invoke "sub_zero_local" (f64.const nan:0x4000000000000)) (f64.const nan:0xc000000000000))
(assert_return (invoke "add_neg_zero_bits" (f32.const -nan:0x1)) (f32.const -nan:0x400001))
(assert_return (invoke "abs_mul_self" (f32.const -nan:0x1)) (f32.const nan:0x400001))
(assert_return (invoke "min_copysign" (f64.const nan:0x1)) (f64.const -nan:0x8000000000001))
(assert_return (invoke "max_nans" (f64.const nan:0x1) (f64.const -nan:0x2)) (f64.const nan:0x8000000000001))
(assert_return (invoke "max_nans" (f64.const -nan:0x2) (f64.const nan:0x1)) (f64.const -nan:0x8000000000002))
(assert_return (invoke "max_nans" (f64.const 1) (f64.const -nan:0x2)) (f64.const -nan:0x8000000000002))
(assert_return (invoke "min_nans" (f32.const -nan:0x1) (f32.const nan:0x2)) (f32.const -nan:0x400001))
(assert_return (invoke "min_nans" (f32.const nan:0x2) (f32.const -nan:0x1)) (f32.const nan:0x400002))
(assert_return (invoke "max_nan_consts") (f64.const nan:0x8000000000001))
(assert_return (invoke "inf_minus_inf") (f32.const -nan))
(assert_return (invoke "zero_times_inf") (f64.const -nan))
