;; On-stack replacement (tests/jit/test_tier_osr.c): each exported entry
;; calls a function once whose loop runs in the interpreter until the auto
;; tier has built native code for it, then moves into that code mid-loop.
;; $tick (host) holds the loop until the function's native code exists.
(module
  (import "host" "tick" (func $tick (param i32)))
  (import "host" "started" (func $started))
  (memory 1)
  ;; Every kind of local crosses: i32, i64, f32, f64, v128; three results.
  (func $sum (param $n i32) (result i64 f64 i32)
    (local $i i32) (local $acc i64) (local $f f64) (local $g f32) (local $v v128)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (call $tick (local.get $i))
        (local.set $acc (i64.add (i64.mul (local.get $acc) (i64.const 31))
                                 (i64.extend_i32_u (local.get $i))))
        (local.set $f (f64.add (f64.mul (local.get $f) (f64.const 0.5))
                               (f64.convert_i32_u (local.get $i))))
        (local.set $g (f32.add (local.get $g) (f32.const 0.25)))
        (local.set $v (i32x4.add (local.get $v) (i32x4.splat (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $acc)
    (f64.add (local.get $f) (f64.promote_f32 (local.get $g)))
    (i32x4.extract_lane 3 (local.get $v)))
  (func (export "sum") (param i32) (result i64 f64 i32) (call $sum (local.get 0)))

  ;; A trap after the loop, in native code: its backtrace names $trapper
  ;; once, then its interpreted caller.
  (func $trapper (param $n i32) (result i32) (local $i i32)
    (loop $l
      (call $tick (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (i32.load (i32.add (local.get $i) (i32.const 70000))))
  (func (export "trap") (param i32) (result i32)
    (i32.add (i32.const 1) (call $trapper (local.get 0))))

  ;; A loop without calls: only the deadline (epoch) ends it.
  (func $spin (param $n i32) (result i32) (local $i i32)
    (call $started)
    (loop $l
      ;; The body starts with an instruction that emits code: the
      ;; interpreter reports an interrupt at the first such instruction,
      ;; the LLVM tier at the body's first (they differ after local.get).
      (local.set $i (i32.add (memory.size) (i32.add (local.get $i) (local.get $n))))
      (br $l))
    (local.get $i))
  (func (export "spin") (param i32) (result i32) (call $spin (local.get 0)))

  ;; A loop nested in a block with a result, inside an outer loop; the
  ;; function ends in a call.
  (func $helper (param i32 i32) (result i32) (i32.sub (local.get 0) (local.get 1)))
  (func $nested (param $n i32) (result i32) (local $i i32) (local $j i32) (local $s i32)
    (loop $outer
      (local.set $s
        (i32.add (local.get $s)
          (block (result i32)
            (local.set $j (i32.const 0))
            (loop $inner
              (call $tick (local.get $j))
              (local.set $s (i32.xor (local.get $s) (i32.mul (local.get $j) (i32.const 7))))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br_if $inner (i32.lt_u (local.get $j) (local.get $n))))
            (local.get $j))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $outer (i32.lt_u (local.get $i) (i32.const 200))))
    ;; A call, not a tail call: a module that tail-calls is not tiered up
    ;; under auto (jit_tier.c, tier_auto_module).
    (call $helper (local.get $s) (local.get $i)))
  (func (export "nested") (param i32) (result i32) (call $nested (local.get 0)))
)
