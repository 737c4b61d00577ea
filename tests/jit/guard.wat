;; Accesses of every width for tests/jit/test_guard_signal.c: each export
;; takes the address; the functions are exported so they stay entry points.
(module
  (memory (export "mem") 1)
  (func (export "ld8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "ld16") (param i32) (result i32) (i32.load16_u (local.get 0)))
  (func $ld32 (export "ld32") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "ld64") (param i32) (result i64) (i64.load (local.get 0)))
  (func (export "ld128") (param i32) (result i32) (i32x4.extract_lane 3 (v128.load (local.get 0))))
  (func (export "ld32_far") (param i32) (result i32) (i32.load offset=0xFFFFFFF0 (local.get 0)))
  (func (export "ld128_far") (param i32) (result i32)
    (i32x4.extract_lane 0 (v128.load offset=0xFFFFFFFF (local.get 0))))
  (func (export "st8") (param i32) (i32.store8 (local.get 0) (i32.const 0x11)))
  (func (export "st16") (param i32) (i32.store16 (local.get 0) (i32.const 0x2222)))
  (func (export "st32") (param i32) (i32.store (local.get 0) (i32.const 0x33333333)))
  (func (export "st64") (param i32) (i64.store (local.get 0) (i64.const 0x4444444444444444)))
  (func (export "st128") (param i32) (v128.store (local.get 0) (v128.const i32x4 5 5 5 5)))
  (func (export "st64_far") (param i32) (i64.store offset=0xFFFFFFF8 (local.get 0) (i64.const 6)))
  ;; LLVM inlines $ld32 here: the fault must still name $ld32 and this frame.
  (func (export "nested") (param i32) (result i32) (i32.add (i32.const 1) (call $ld32 (local.get 0))))
  (func (export "grow") (result i32) (memory.grow (i32.const 1)))
)
