;; Tail calls and exceptions across the tiers (tests/spec/run-wasm3; in
;; tier=jit, spec/wasm3-jit and jit/wasm3). The LLVM tier leaves functions
;; with exception instructions to the interpreter: $pong and $thrower below
;; are interpreted there while the others are native.

(module
  (type $ii (func (param i64) (result i64)))
  (tag $e (param i32))
  (table $t 2 funcref)
  (elem (table $t) (i32.const 0) func $ping_i $pong_i)

  ;; A million deep, native <-> interpreted, directly: each tail call from
  ;; native code to $pong runs it in the interpreter, which runs tail
  ;; calls in place, so the stack stays constant.
  (func $ping (export "ping") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 7))
      (else (return_call $pong (i64.sub (local.get 0) (i64.const 1))))))
  (func $pong (param i64) (result i64)
    (block $h (try_table (catch_all $h)))
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 8))
      (else (return_call $ping (i64.sub (local.get 0) (i64.const 1))))))

  ;; The same through the table.
  (func $ping_i (export "ping_i") (type $ii)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 7))
      (else (return_call_indirect $t (type $ii)
              (i64.sub (local.get 0) (i64.const 1)) (i32.const 1)))))
  (func $pong_i (type $ii)
    (block $h (try_table (catch_all $h)))
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 8))
      (else (return_call_indirect $t (type $ii)
              (i64.sub (local.get 0) (i64.const 1)) (i32.const 0)))))

  ;; Tail calls between different signatures, native to native.
  (func $wide (export "wide") (param i64 i32) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.extend_i32_u (local.get 1)))
      (else (return_call $narrow (f64.const 1) (i64.sub (local.get 0) (i64.const 1))
              (local.get 1) (i32.const 2) (i64.const 3)))))
  (func $narrow (param f64 i64 i32 i32 i64) (result i64)
    (return_call $wide (local.get 1)
      (i32.add (local.get 2) (i32.trunc_f64_s (local.get 0)))))

  ;; Many results (returned through memory) and more stack arguments in
  ;; the callee than in the caller, a million times.
  (func $many (export "many") (param i64) (result i64 i64 i64 i64 i64 v128 f64)
    (if (result i64 i64 i64 i64 i64 v128 f64) (i64.eqz (local.get 0))
      (then (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4) (i64.const 5)
            (v128.const i64x2 6 7) (f64.const 8))
      (else (return_call $many10 (local.get 0) (i64.const 1) (i64.const 2) (i64.const 3)
              (i64.const 4) (i64.const 5) (i64.const 6) (i64.const 7) (i64.const 8)
              (i64.const 9)))))
  (func $many10 (param i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
        (result i64 i64 i64 i64 i64 v128 f64)
    (return_call $many (i64.sub (local.get 0)
      (i64.sub (local.get 9) (i64.const 8)))))

  ;; An exception thrown in interpreted code, through a native frame, caught
  ;; by an interpreted handler above it.
  (func $thrower (param i32) (result i32)
    (if (i32.eqz (local.get 0)) (then (throw $e (i32.const 99))))
    (local.get 0))
  (func $middle (param i32) (result i32)
    (i32.add (call $thrower (local.get 0)) (i32.const 1)))
  (func (export "catch-through-native") (param i32) (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $e $h)
        (call $middle (local.get 0)))))
  ;; ... and uncaught: it reaches the host as an exception.
  (func (export "uncaught-through-native") (param i32) (result i32)
    (call $middle (local.get 0)))
)
(assert_return (invoke "ping" (i64.const 1_000_000)) (i64.const 7))
(assert_return (invoke "ping" (i64.const 1_000_001)) (i64.const 8))
(assert_return (invoke "ping_i" (i64.const 1_000_000)) (i64.const 7))
(assert_return (invoke "ping_i" (i64.const 1_000_001)) (i64.const 8))
(assert_return (invoke "wide" (i64.const 1_000_000) (i32.const 0)) (i64.const 1_000_000))
(assert_return (invoke "many" (i64.const 1_000_000))
  (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4) (i64.const 5)
  (v128.const i64x2 6 7) (f64.const 8))
(assert_return (invoke "catch-through-native" (i32.const 5)) (i32.const 6))
(assert_return (invoke "catch-through-native" (i32.const 0)) (i32.const 99))
(assert_exception (invoke "uncaught-through-native" (i32.const 0)))
