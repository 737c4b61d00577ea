;; Superinstructions of interpreter-style code (compile.c): a br_table whose
;; index is an i32 loaded from base + (i << 2) (BR_TABLE_LOAD_AS), and a
;; counter incremented and stored through (I32_ADDK_STORE, I64_ADDK_STORE).
;; Checks every target, the default for indices >= n (including negative
;; ones), the address wrapping at 32 bits, an out-of-bounds load trapping,
;; wrap-around of the add, and that the local keeps the incremented value.
(module
  (memory 1)
  ;; code[0..7] = 0, 1, 2, 3, 7, -1, 2, 0 at address 64
  (data (i32.const 64) "\00\00\00\00\01\00\00\00\02\00\00\00\03\00\00\00\07\00\00\00\ff\ff\ff\ff\02\00\00\00\00\00\00\00")
  (func (export "dispatch") (param $base i32) (param $pc i32) (result i32)
    (block $d
      (block $c
        (block $b
          (block $a
            (br_table $a $b $c $d
              (i32.load (i32.add (local.get $base) (i32.shl (local.get $pc) (i32.const 2))))))
          (return (i32.const 100)))
        (return (i32.const 101)))
      (return (i32.const 102)))
    (i32.const 103))
  ;; A whole loop: sums the targets taken over code[0..n).
  (func (export "run") (param $n i32) (result i32)
    (local $pc i32) (local $sum i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $pc) (local.get $n)))
        (block $two
          (block $one
            (block $zero
              (br_table $zero $one $two
                (i32.load offset=64 (i32.add (i32.const 0) (i32.shl (local.get $pc) (i32.const 2))))))
            (local.set $sum (i32.add (local.get $sum) (i32.const 1)))
            (local.set $pc (i32.add (local.get $pc) (i32.const 1)))
            (br $next))
          (local.set $sum (i32.add (local.get $sum) (i32.const 10)))
          (local.set $pc (i32.add (local.get $pc) (i32.const 1)))
          (br $next))
        (local.set $sum (i32.add (local.get $sum) (i32.const 100)))
        (local.set $pc (i32.add (local.get $pc) (i32.const 1)))
        (br $next)))
    (local.get $sum))
  (func (export "count32") (param $p i32) (param $x i32) (param $k i32) (result i32)
    (local $n i32)
    (local.set $n (local.get $x))
    (i32.store offset=8 (local.get $p) (local.tee $n (i32.add (local.get $n) (i32.const 7))))
    (i32.store offset=8 (local.get $p) (local.tee $n (i32.add (local.get $n) (i32.const -3))))
    (i32.add (i32.load offset=8 (local.get $p)) (i32.mul (local.get $n) (i32.const 0))))
  (func (export "count32-local") (param $p i32) (param $x i32) (result i32)
    (i32.store (local.get $p) (local.tee $x (i32.add (local.get $x) (i32.const 1))))
    (local.get $x))
  (func (export "count64") (param $p i32) (param $x i64) (result i64)
    (i64.store offset=16 (local.get $p) (local.tee $x (i64.add (local.get $x) (i64.const 0x100000001))))
    (i64.add (i64.load offset=16 (local.get $p)) (i64.sub (local.get $x) (local.get $x))))
  (func (export "count64-local") (param $p i32) (param $x i64) (result i64)
    (i64.store (local.get $p) (local.tee $x (i64.add (local.get $x) (i64.const -1))))
    (local.get $x))
  ;; The address is the local being incremented: the store uses the old value.
  (func (export "count-self") (param $x i32) (result i32)
    (i32.store (local.get $x) (local.tee $x (i32.add (local.get $x) (i32.const 4))))
    (i32.add (i32.load (i32.sub (local.get $x) (i32.const 4))) (local.get $x)))
)
(assert_return (invoke "dispatch" (i32.const 64) (i32.const 0)) (i32.const 100))
(assert_return (invoke "dispatch" (i32.const 64) (i32.const 1)) (i32.const 101))
(assert_return (invoke "dispatch" (i32.const 64) (i32.const 2)) (i32.const 102))
(assert_return (invoke "dispatch" (i32.const 64) (i32.const 3)) (i32.const 103))
(assert_return (invoke "dispatch" (i32.const 64) (i32.const 4)) (i32.const 103))
(assert_return (invoke "dispatch" (i32.const 64) (i32.const 5)) (i32.const 103))
(assert_return (invoke "dispatch" (i32.const 64) (i32.const 6)) (i32.const 102))
(assert_return (invoke "dispatch" (i32.const 68) (i32.const 0)) (i32.const 101))
(assert_return (invoke "dispatch" (i32.const 60) (i32.const 1)) (i32.const 100))
(assert_return (invoke "dispatch" (i32.const 65532) (i32.const 0)) (i32.const 100))
(assert_trap (invoke "dispatch" (i32.const 65533) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "dispatch" (i32.const 0) (i32.const 16384)) "out of bounds memory access")
(assert_return (invoke "dispatch" (i32.const -4) (i32.const 1)) (i32.const 100))
(assert_return (invoke "run" (i32.const 4)) (i32.const 211))
(assert_return (invoke "run" (i32.const 8)) (i32.const 512))
(assert_return (invoke "count32" (i32.const 0) (i32.const 5) (i32.const 0)) (i32.const 9))
(assert_return (invoke "count32" (i32.const 0) (i32.const -7) (i32.const 0)) (i32.const -3))
(assert_return (invoke "count32" (i32.const 0) (i32.const 0x7ffffffc) (i32.const 0)) (i32.const 0x80000000))
(assert_trap (invoke "count32" (i32.const 65528) (i32.const 1) (i32.const 0)) "out of bounds memory access")
(assert_return (invoke "count32-local" (i32.const 32) (i32.const -1)) (i32.const 0))
(assert_return (invoke "count32-local" (i32.const 32) (i32.const 41)) (i32.const 42))
(assert_return (invoke "count64" (i32.const 0) (i64.const 1)) (i64.const 0x100000002))
(assert_return (invoke "count64" (i32.const 0) (i64.const -1)) (i64.const 0x100000000))
(assert_return (invoke "count64" (i32.const 0) (i64.const 0x7fffffffffffffff)) (i64.const 0x8000000100000000))
(assert_trap (invoke "count64" (i32.const 65520) (i64.const 1)) "out of bounds memory access")
(assert_return (invoke "count64-local" (i32.const 40) (i64.const 0)) (i64.const -1))
(assert_return (invoke "count-self" (i32.const 100)) (i32.const 208))
