;; whirl's own threads checks (tests/spec/run-wasm3): atomics on a shared
;; 64-bit memory (i64 addresses, offsets past 4 GiB trap), on memory 1 of
;; two (the memory index must survive the compiler's memory switch), narrow
;; read-modify-writes that wrap and zero-extend, cmpxchg comparing only the
;; access width, wait timeouts and "not equal", notify with nobody waiting,
;; and plain accesses after memory.grow of a shared memory.
(module
  (memory $m0 1 1)
  (memory $m1 1 2 shared)
  (memory $m64 i64 1 1 shared)
  (data (memory $m0) (i32.const 0) "\ff\ff\ff\ff")

  (func (export "rmw8-add-m1") (param $a i32) (param $v i32) (result i32)
    (i32.atomic.rmw8.add_u $m1 (local.get $a) (local.get $v)))
  (func (export "load8-m1") (param $a i32) (result i32)
    (i32.atomic.load8_u $m1 (local.get $a)))
  (func (export "load-m0") (param $a i32) (result i32)
    (i32.atomic.load $m0 (local.get $a)))
  (func (export "rmw16-sub-m1") (param $a i32) (param $v i64) (result i64)
    (i64.atomic.rmw16.sub_u $m1 (local.get $a) (local.get $v)))
  (func (export "load16-m1") (param $a i32) (result i64)
    (i64.atomic.load16_u $m1 (local.get $a)))
  (func (export "cmpxchg16-m1") (param $a i32) (param $e i32) (param $r i32) (result i32)
    (i32.atomic.rmw16.cmpxchg_u $m1 (local.get $a) (local.get $e) (local.get $r)))
  (func (export "xchg64") (param $a i64) (param $v i64) (result i64)
    (i64.atomic.rmw.xchg $m64 offset=8 (local.get $a) (local.get $v)))
  (func (export "load64") (param $a i64) (result i64)
    (i64.atomic.load $m64 offset=8 (local.get $a)))
  (func (export "store32-64") (param $a i64) (param $v i64)
    (i64.atomic.store32 $m64 (local.get $a) (local.get $v)))
  (func (export "wait32-m1") (param $a i32) (param $e i32) (param $t i64) (result i32)
    (memory.atomic.wait32 $m1 (local.get $a) (local.get $e) (local.get $t)))
  (func (export "wait64-64") (param $a i64) (param $e i64) (param $t i64) (result i32)
    (memory.atomic.wait64 $m64 (local.get $a) (local.get $e) (local.get $t)))
  (func (export "notify-m1") (param $a i32) (param $n i32) (result i32)
    (memory.atomic.notify $m1 (local.get $a) (local.get $n)))
  (func (export "wait-m0") (result i32)
    (memory.atomic.wait32 $m0 (i32.const 0) (i32.const 0) (i64.const 0)))
  (func (export "grow-m1") (result i32) (memory.grow $m1 (i32.const 1)))
  (func (export "store-m1") (param $a i32) (param $v i32) (i32.store $m1 (local.get $a) (local.get $v)))
  (func (export "load-m1") (param $a i32) (result i32) (i32.load $m1 (local.get $a)))
  (func (export "fence") (atomic.fence))
)

(assert_return (invoke "rmw8-add-m1" (i32.const 3) (i32.const 0x1ff)) (i32.const 0))
(assert_return (invoke "rmw8-add-m1" (i32.const 3) (i32.const 2)) (i32.const 0xff))
(assert_return (invoke "load8-m1" (i32.const 3)) (i32.const 1))
(assert_return (invoke "load-m0" (i32.const 0)) (i32.const -1))
(assert_return (invoke "rmw16-sub-m1" (i32.const 4) (i64.const 1)) (i64.const 0))
(assert_return (invoke "load16-m1" (i32.const 4)) (i64.const 0xffff))
(assert_return (invoke "cmpxchg16-m1" (i32.const 4) (i32.const 0x1ffff) (i32.const 7)) (i32.const 0xffff))
(assert_return (invoke "load16-m1" (i32.const 4)) (i64.const 7))
(assert_return (invoke "cmpxchg16-m1" (i32.const 4) (i32.const 8) (i32.const 9)) (i32.const 7))
(assert_return (invoke "load16-m1" (i32.const 4)) (i64.const 7))
(assert_trap (invoke "cmpxchg16-m1" (i32.const 5) (i32.const 0) (i32.const 0)) "unaligned atomic")
(assert_trap (invoke "rmw8-add-m1" (i32.const 65536) (i32.const 0)) "out of bounds memory access")

(assert_return (invoke "xchg64" (i64.const 16) (i64.const 0x1122334455667788)) (i64.const 0))
(assert_return (invoke "load64" (i64.const 16)) (i64.const 0x1122334455667788))
(invoke "store32-64" (i64.const 24) (i64.const 0xaaaaaaaabbbbbbbb))
(assert_return (invoke "load64" (i64.const 16)) (i64.const 0x11223344bbbbbbbb))
(assert_trap (invoke "load64" (i64.const 0x100000000)) "out of bounds memory access")
(assert_trap (invoke "load64" (i64.const -8)) "out of bounds memory access")
(assert_trap (invoke "load64" (i64.const 4)) "unaligned atomic")

(assert_return (invoke "wait32-m1" (i32.const 8) (i32.const 1) (i64.const 0)) (i32.const 1))
(assert_return (invoke "wait32-m1" (i32.const 8) (i32.const 0) (i64.const 0)) (i32.const 2))
(assert_return (invoke "wait32-m1" (i32.const 8) (i32.const 0) (i64.const 1000)) (i32.const 2))
(assert_return (invoke "wait64-64" (i64.const 32) (i64.const 0) (i64.const 1000)) (i32.const 2))
(assert_return (invoke "wait64-64" (i64.const 24) (i64.const 0) (i64.const -1)) (i32.const 1))
(assert_trap (invoke "wait32-m1" (i32.const 6) (i32.const 0) (i64.const 0)) "unaligned atomic")
(assert_return (invoke "notify-m1" (i32.const 8) (i32.const 10)) (i32.const 0))
(assert_trap (invoke "wait-m0") "expected shared memory")
(invoke "fence")

;; growth of the shared memory: the new page is usable at once
(assert_trap (invoke "load-m1" (i32.const 65536)) "out of bounds memory access")
(assert_return (invoke "grow-m1") (i32.const 1))
(invoke "store-m1" (i32.const 65536) (i32.const 42))
(assert_return (invoke "load-m1" (i32.const 65536)) (i32.const 42))
(assert_return (invoke "grow-m1") (i32.const -1))

;; validation: alignment must equal the natural one, and shared needs a maximum
(assert_invalid
  (module (memory 1 1 shared) (func (drop (i32.atomic.load align=2 (i32.const 0)))))
  "alignment")
(assert_invalid
  (module (memory 1 1 shared) (func (drop (i64.atomic.rmw32.add_u align=8 (i32.const 0) (i64.const 0)))))
  "alignment")

;; An atomic access both out of bounds and misaligned reports the bounds,
;; also in compiled code whose plain accesses rely on guard pages.
(module
  (memory 1 1)
  (func (export "load32") (param $a i32) (result i32) (i32.atomic.load (local.get $a)))
  (func (export "rmw64") (param $a i32) (result i64)
    (i64.atomic.rmw.add offset=4 (local.get $a) (i64.const 1)))
)
(assert_trap (invoke "load32" (i32.const 65535)) "out of bounds memory access")
(assert_trap (invoke "load32" (i32.const 1)) "unaligned atomic")
(assert_trap (invoke "rmw64" (i32.const 65532)) "out of bounds memory access")
(assert_trap (invoke "rmw64" (i32.const -4)) "out of bounds memory access")
(assert_trap (invoke "rmw64" (i32.const 2)) "unaligned atomic")
(assert_return (invoke "rmw64" (i32.const 4)) (i64.const 0))
