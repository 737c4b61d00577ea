;; whirl's own multi-memory checks (tests/spec/run-wasm3): accesses to
;; memory 1 in the shapes the compiler fuses for memory 0 (address adds,
;; load + local.set, multiply-add stores, br_table on a load, counters kept
;; in memory), each next to the same access on memory 0 holding other
;; bytes, so a fusion that lost the memory index reads the wrong memory.
(module
  (memory $m0 1)
  (memory $m1 2)
  (data (memory $m0) (i32.const 0) "\01\00\00\00\02\00\00\00")
  (data (memory $m1) (i32.const 0) "\0a\00\00\00\14\00\00\00")

  (func (export "add-addr") (param $p i32) (param $i i32) (result i32)
    (local $q i32)
    (local.set $q (i32.add (local.get $p) (local.get $i)))
    (i32.add (i32.load $m1 (local.get $q)) (i32.load $m0 (local.get $q))))

  (func (export "add-k") (param $p i32) (result i32)
    (i32.add
      (i32.load $m1 (i32.add (local.get $p) (i32.const 4)))
      (i32.load $m0 (i32.add (local.get $p) (i32.const 4)))))

  (func (export "load-set") (param $p i32) (result i32)
    (local $x i32) (local $y i32)
    (local.set $x (i32.load $m1 (local.get $p)))
    (local.set $y (i32.load $m0 (local.get $p)))
    (i32.sub (local.get $x) (local.get $y)))

  (func (export "muladd") (param $a f64) (param $b f64) (result f64)
    (f64.store $m1 (i32.const 64)
      (f64.add (local.get $a) (f64.mul (local.get $b) (f64.load $m1 (i32.const 72)))))
    (f64.store $m0 (i32.const 64)
      (f64.add (local.get $a) (f64.mul (local.get $b) (f64.load $m0 (i32.const 72)))))
    (f64.sub (f64.load $m1 (i32.const 64)) (f64.load $m0 (i32.const 64))))
  (func (export "set-f64") (param f64 f64)
    (f64.store $m0 (i32.const 72) (local.get 0))
    (f64.store $m1 (i32.const 72) (local.get 1)))

  (func (export "br-table") (result i32)
    (block $b2 (block $b1 (block $b0
      (br_table $b0 $b1 $b2 (i32.load $m1 (i32.const 100)))))
      (return (i32.const 10)))
    (i32.const 20))
  (func (export "set-sel") (param i32 i32)
    (i32.store $m0 (i32.const 100) (local.get 0))
    (i32.store $m1 (i32.const 100) (local.get 1)))

  (func (export "counter") (param $n i32) (result i32)
    (local $c i32)
    (loop $l
      (local.set $c (i32.add (local.get $c) (i32.const 3)))
      (i32.store $m1 (i32.const 200) (local.get $c))
      (br_if $l (i32.lt_u (local.get $c) (local.get $n))))
    (i32.add (i32.load $m1 (i32.const 200)) (i32.load $m0 (i32.const 200))))

  (func (export "sizes") (result i32)
    (i32.add (i32.mul (memory.size $m1) (i32.const 10)) (memory.size $m0)))
  (func (export "grow1") (param i32) (result i32) (memory.grow $m1 (local.get 0)))
  (func (export "fill1") (param i32 i32 i32) (memory.fill $m1 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "byte") (param i32 i32) (result i32)
    (if (result i32) (local.get 0)
      (then (i32.load8_u $m1 (local.get 1)))
      (else (i32.load8_u $m0 (local.get 1)))))
  (func (export "copy01") (param i32 i32 i32)
    (memory.copy $m0 $m1 (local.get 0) (local.get 1) (local.get 2)))
)

(assert_return (invoke "add-addr" (i32.const 0) (i32.const 4)) (i32.const 22))
(assert_return (invoke "add-k" (i32.const 0)) (i32.const 22))
(assert_return (invoke "load-set" (i32.const 0)) (i32.const 9))
(invoke "set-f64" (f64.const 1) (f64.const 2))
(assert_return (invoke "muladd" (f64.const 0.5) (f64.const 3)) (f64.const 3))
(invoke "set-sel" (i32.const 0) (i32.const 2))
(assert_return (invoke "br-table") (i32.const 20))
(assert_return (invoke "counter" (i32.const 30)) (i32.const 30))
(assert_return (invoke "sizes") (i32.const 21))
(assert_return (invoke "grow1" (i32.const 1)) (i32.const 2))
(assert_return (invoke "sizes") (i32.const 31))
(invoke "fill1" (i32.const 0x2fff0) (i32.const 0x77) (i32.const 16))
(assert_return (invoke "byte" (i32.const 1) (i32.const 0x2ffff)) (i32.const 0x77))
(assert_trap (invoke "fill1" (i32.const 0x2fff0) (i32.const 0) (i32.const 17)) "out of bounds memory access")
(assert_trap (invoke "byte" (i32.const 0) (i32.const 0x10000)) "out of bounds memory access")
(assert_return (invoke "byte" (i32.const 1) (i32.const 0x10000)) (i32.const 0))
(invoke "copy01" (i32.const 300) (i32.const 0x2fff8) (i32.const 8))
(assert_return (invoke "byte" (i32.const 0) (i32.const 307)) (i32.const 0x77))
(assert_trap (invoke "copy01" (i32.const 0xfff9) (i32.const 0) (i32.const 8)) "out of bounds memory access")
(assert_trap (invoke "copy01" (i32.const 0) (i32.const 0x2fff9) (i32.const 8)) "out of bounds memory access")
