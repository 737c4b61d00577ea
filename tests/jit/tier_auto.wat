;; Functions that get hot at different times (tests/jit/test_tier_auto.c):
;; recursion, a loop, a chain of calls, memory, an indirect call, and one
;; the LLVM tier leaves to the interpreter (v128).
(module
  (memory 1)
  (table 2 funcref)
  (elem (i32.const 0) $sq $simd)
  (global $calls (mut i32) (i32.const 0))
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func $sum (export "sum") (param $n i32) (result i32) (local $i i32) (local $s i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store (i32.shl (i32.and (local.get $i) (i32.const 1023)) (i32.const 2)) (local.get $i))
        (local.set $s (i32.add (local.get $s)
          (i32.load (i32.shl (i32.and (local.get $i) (i32.const 1023)) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $s))
  (func $sq (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
  (func $simd (param i32) (result i32)
    (i32x4.extract_lane 1 (i32x4.add (i32x4.splat (local.get 0)) (i32x4.splat (i32.const 1)))))
  (func $c (param i32) (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (i32.add (call_indirect (param i32) (result i32) (local.get 0) (i32.const 0))
             (call_indirect (param i32) (result i32) (local.get 0) (i32.const 1))))
  (func $b (param i32) (result i32) (call $c (i32.add (local.get 0) (i32.const 1))))
  (func $a (export "chain") (param i32) (result i32) (call $b (local.get 0)))
  (func (export "calls") (result i32) (global.get $calls))
)
