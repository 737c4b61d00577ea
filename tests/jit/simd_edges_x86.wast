;; The interpreter's x86-64 SSE build (the default there) turns a NaN lane
;; of f32x4/f64x2 min and max into the canonical NaN with the sign bit set;
;; the LLVM tier must give the same bits (registered only for that build).

(module
  (func (export "f32x4.min") (param v128 v128) (result v128) (f32x4.min (local.get 0) (local.get 1)))
  (func (export "f32x4.max") (param v128 v128) (result v128) (f32x4.max (local.get 0) (local.get 1)))
  (func (export "f64x2.min") (param v128 v128) (result v128) (f64x2.min (local.get 0) (local.get 1)))
  (func (export "f64x2.max") (param v128 v128) (result v128) (f64x2.max (local.get 0) (local.get 1)))
  (func (export "min_const") (param v128) (result v128)
    (f32x4.min (local.get 0) (v128.const f32x4 nan:0x1 -nan:0x200000 0 -0)))
)

;; min/max: a NaN lane is the canonical NaN with the sign bit (x86 build).
(assert_return (invoke "f32x4.min" (v128.const i32x4 0x7fa00001 0x7fc00000 0x3f800000 0x00000000)
                                   (v128.const i32x4 0x3f800000 0xff800000 0xffa00000 0x80000000))
               (v128.const i32x4 0xffc00000 0xffc00000 0xffc00000 0x80000000))
(assert_return (invoke "f32x4.max" (v128.const i32x4 0x7fa00001 0x80000000 0x3f800000 0x00000000)
                                   (v128.const i32x4 0x3f800000 0x00000000 0x7fc00001 0x80000000))
               (v128.const i32x4 0xffc00000 0x00000000 0xffc00000 0x00000000))
(assert_return (invoke "f32x4.min" (v128.const f32x4 -inf 3 -0 -0) (v128.const f32x4 inf 2 -0 0))
               (v128.const f32x4 -inf 2 -0 -0))
(assert_return (invoke "f64x2.min" (v128.const i64x2 0x7ff0000000000001 0x8000000000000000)
                                   (v128.const i64x2 0x3ff0000000000000 0x0000000000000000))
               (v128.const i64x2 0xfff8000000000000 0x8000000000000000))
(assert_return (invoke "f64x2.max" (v128.const i64x2 0x3ff0000000000000 0x8000000000000000)
                                   (v128.const i64x2 0xfff4000000000000 0x0000000000000000))
               (v128.const i64x2 0xfff8000000000000 0x0000000000000000))

(assert_return (invoke "min_const" (v128.const f32x4 1 1 nan:0x200000 0))
               (v128.const i32x4 0xffc00000 0xffc00000 0xffc00000 0x80000000))
