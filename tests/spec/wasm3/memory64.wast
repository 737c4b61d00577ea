;; whirl's own memory64 checks (tests/spec/run-wasm3): whirl's memories
;; stay within 4 GiB, so 64-bit addresses, offsets and lengths past 2^32
;; must trap (or fail to grow) without wrapping into range.
(module
  (memory $m i64 1)
  (memory $n 1)
  (data (memory $m) (i64.const 8) "\2a")
  (func (export "load") (param i64) (result i32) (i32.load8_u (local.get 0)))
  (func (export "store") (param i64 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "v128") (param i64) (result i32)
    (i32x4.extract_lane 0 (v128.load (local.get 0))))
  (func (export "size") (result i64) (memory.size))
  (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0)))
  (func (export "fill") (param i64 i32 i64) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy-in") (param i64 i64 i64) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  ;; from the 32-bit memory to the 64-bit one and back: the length is i32
  (func (export "copy-64-32") (param i64 i32 i32) (memory.copy $m $n (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy-32-64") (param i32 i64 i32) (memory.copy $n $m (local.get 0) (local.get 1) (local.get 2)))
  (func (export "load-n") (param i32) (result i32) (i32.load8_u $n (local.get 0)))
)
(assert_return (invoke "load" (i64.const 8)) (i32.const 42))
(assert_trap (invoke "load" (i64.const 0x100000008)) "out of bounds memory access")
(assert_trap (invoke "load" (i64.const -1)) "out of bounds memory access")
(assert_trap (invoke "store" (i64.const 0x10000) (i32.const 1)) "out of bounds memory access")
(invoke "store" (i64.const 0xffff) (i32.const 7))
(assert_return (invoke "load" (i64.const 0xffff)) (i32.const 7))
(assert_return (invoke "v128" (i64.const 8)) (i32.const 42))
(assert_trap (invoke "v128" (i64.const 0xfff1)) "out of bounds memory access")
(assert_trap (invoke "v128" (i64.const 0x100000000)) "out of bounds memory access")
(assert_return (invoke "size") (i64.const 1))
(assert_return (invoke "grow" (i64.const 0x100000001)) (i64.const -1))
(assert_return (invoke "grow" (i64.const -1)) (i64.const -1))
(assert_return (invoke "grow" (i64.const 1)) (i64.const 1))
(assert_return (invoke "size") (i64.const 2))
(assert_trap (invoke "fill" (i64.const 0) (i32.const 1) (i64.const 0x100000000)) "out of bounds memory access")
(assert_trap (invoke "fill" (i64.const 0x100000000) (i32.const 1) (i64.const 0)) "out of bounds memory access")
(assert_trap (invoke "fill" (i64.const -1) (i32.const 1) (i64.const 2)) "out of bounds memory access")
(invoke "fill" (i64.const 0x1fff0) (i32.const 5) (i64.const 16))
(assert_return (invoke "load" (i64.const 0x1ffff)) (i32.const 5))
(assert_trap (invoke "copy-in" (i64.const 0) (i64.const -1) (i64.const 2)) "out of bounds memory access")
(assert_trap (invoke "copy-in" (i64.const 0) (i64.const 0) (i64.const 0x100000000)) "out of bounds memory access")
(invoke "copy-in" (i64.const 100) (i64.const 8) (i64.const 1))
(assert_return (invoke "load" (i64.const 100)) (i32.const 42))
(invoke "copy-32-64" (i32.const 50) (i64.const 100) (i32.const 1))
(assert_return (invoke "load-n" (i32.const 50)) (i32.const 42))
(assert_trap (invoke "copy-32-64" (i32.const 0) (i64.const 0x100000000) (i32.const 1)) "out of bounds memory access")
(invoke "copy-64-32" (i64.const 200) (i32.const 50) (i32.const 1))
(assert_return (invoke "load" (i64.const 200)) (i32.const 42))
(assert_trap (invoke "copy-64-32" (i64.const -1) (i32.const 0) (i32.const 1)) "out of bounds memory access")
;; a data segment past 2^32 cannot be placed
(assert_trap (module (memory i64 1) (data (i64.const 0x100000000) "a")) "out of bounds memory access")
;; a 64-bit memory does not satisfy a 32-bit import, nor the reverse
(module $M (memory (export "m64") i64 1) (memory (export "m32") 1))
(register "M" $M)
(assert_unlinkable (module (import "M" "m64" (memory 1))) "incompatible import type")
(assert_unlinkable (module (import "M" "m32" (memory i64 1))) "incompatible import type")
(module (import "M" "m64" (memory i64 1)))
;; Offsets past 2^32 (binary: wabt's text reader stops at 2^32):
;;   (memory i64 1) (data (i64.const 8) "\2a")
;;   load-off:     i32.load8_u offset=0xffffffff00000009
;;   load-big-off: i32.load8_u offset=0x100000000
;;   load-ok-off:  i32.load8_u offset=0xfffffff8
(module binary
  "\00\61\73\6d\01\00\00\00\01\06\01\60\01\7e\01\7f\03\04\03\00\00\00\05\03\01\04\01"
  "\07\29\03\08\6c\6f\61\64\2d\6f\66\66\00\00\0c\6c\6f\61\64\2d\62\69\67\2d\6f\66\66"
  "\00\01\0b\6c\6f\61\64\2d\6f\6b\2d\6f\66\66\00\02\0a\2a\03\10\00\20\00\2d\00\89"
  "\80\80\80\f0\ff\ff\ff\ff\01\0b\0b\00\20\00\2d\00\80\80\80\80\10\0b\0b\00\20\00\2d"
  "\00\f8\ff\ff\ff\0f\0b\0b\07\01\00\42\08\0b\01\2a")
;; 0xfffffffe_ffffffff + 0xffffffff_00000009 wraps to 8 in 64 bits: must trap
(assert_trap (invoke "load-off" (i64.const 0xfffffffeffffffff)) "out of bounds memory access")
(assert_trap (invoke "load-big-off" (i64.const 8)) "out of bounds memory access")
(assert_trap (invoke "load-ok-off" (i64.const 0x10)) "out of bounds memory access")
;; the sum is 2^64 + 8: no wrapping either
(assert_trap (invoke "load-ok-off" (i64.const -0xfffffff0)) "out of bounds memory access")
