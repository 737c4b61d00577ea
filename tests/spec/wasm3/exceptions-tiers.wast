;; Exceptions between the tiers (tests/spec/run-wasm3; in tier=jit,
;; spec/wasm3-jit and jit/wasm3). The LLVM tier compiles throw, throw_ref
;; and exnref values but leaves functions with handlers (try_table, try) to
;; the interpreter: below, $throw, $throw2, $rethrow_global, $middle and
;; "uncaught" are native, the catchers interpreted. A native throw leaves
;; native code as an error that the interpreter above turns back into the
;; exception; uncaught, it reaches the host as an exception, not a trap.
(module
  (tag $e (param i32))
  (tag $f (param i64 f64))
  (global $g (mut exnref) (ref.null exn))

  (func $throw (param i32) (result i32)
    (if (i32.eqz (local.get 0)) (then (throw $e (i32.const 42))))
    (local.get 0))
  (func $throw2 (throw $f (i64.const 7) (f64.const 1.5)))
  (func $rethrow_global (throw_ref (global.get $g)))
  (func $middle (param i32) (result i32)
    (i32.add (call $throw (local.get 0)) (i32.const 1)))
  (func $pass (param $x exnref) (result exnref) (local.get $x))

  (func (export "catch-native") (param i32) (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $e $h) (call $middle (local.get 0)))))
  (func (export "catch-native-2") (result f64) (local $x f64)
    (block $h (result i64 f64)
      (try_table (catch $f $h) (call $throw2))
      (unreachable))
    (local.set $x)
    (f64.add (f64.convert_i64_s) (local.get $x)))
  ;; an exnref caught here, kept in a global and passed through a native
  ;; function, rethrown by native code and caught again here
  (func (export "stash-and-rethrow") (result i32)
    (block $h1 (result i32 exnref)
      (try_table (catch_ref $e $h1) (drop (call $throw (i32.const 0))))
      (unreachable))
    (global.set $g (call $pass))
    (drop)
    (block $h2 (result i32)
      (try_table (result i32) (catch $e $h2) (call $rethrow_global) (i32.const 0))))
  (func (export "legacy-catch-native") (param i32) (result i32)
    (try (result i32)
      (do (call $middle (local.get 0)))
      (catch $e (i32.add (i32.const 100)))))
  (func (export "uncaught") (param i32) (result i32) (call $middle (local.get 0)))
  (func (export "null-ref") (throw_ref (ref.null exn)))
)

(assert_return (invoke "catch-native" (i32.const 0)) (i32.const 42))
(assert_return (invoke "catch-native" (i32.const 5)) (i32.const 6))
(assert_return (invoke "catch-native-2") (f64.const 8.5))
(assert_return (invoke "stash-and-rethrow") (i32.const 42))
(assert_return (invoke "legacy-catch-native" (i32.const 0)) (i32.const 142))
(assert_return (invoke "legacy-catch-native" (i32.const 1)) (i32.const 2))
(assert_exception (invoke "uncaught" (i32.const 0)))
(assert_return (invoke "uncaught" (i32.const 3)) (i32.const 4))
(assert_trap (invoke "null-ref") "null exception reference")
