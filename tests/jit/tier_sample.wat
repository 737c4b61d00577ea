;; Samples across tiers (tests/jit/test_tier_sample.c): in tier=auto the
;; interpreter calls native code and native code calls the interpreter, and
;; a sample taken in either must name every frame of the call, in both
;; tiers. $tick (host) makes a sample due at the next epoch check; $settle
;; (host) waits until the compiler has no work left for the module.
(module
  (import "host" "tick" (func $tick))
  (import "host" "settle" (func $settle))
  ;; Called once: stays in the interpreter.
  (func $leaf2 (result i32) (i32.const 7))
  (func $cold (result i32) (call $tick) (call $leaf2))
  ;; Hot after "warm": native. -1 calls the interpreted $cold.
  (func $hot (param $x i32) (result i32)
    (if (result i32) (i32.eq (local.get $x) (i32.const -1))
      (then (call $cold))
      (else (i32.add (local.get $x) (i32.const 1)))))
  (func (export "warm") (param $n i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (call $hot (local.get $n))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (i32.gt_s (local.get $n) (i32.const 0))))
    (local.get $acc))
  ;; Interpreted, calls native $hot twice: a sample in $hot, then one in
  ;; $leaf2 under native $hot.
  (func (export "probe") (result i32)
    (call $tick)
    (i32.add (call $hot (i32.const 5)) (call $hot (i32.const -1))))
  ;; Its loop moves into native code (on-stack replacement) while the
  ;; interpreted export waits below it; then a sample in $hot.
  (func $looper (result i32) (local $i i32)
    (loop $l
      (call $settle)
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 20))))
    (call $tick)
    (call $hot (local.get $i)))
  (func (export "osr_probe") (result i32) (call $looper)))
