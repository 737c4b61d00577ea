;; tests/jit/test_jit_eh.c's module (its bytes are in the test; wasm-as -g).
;; Functions 9, 11 and 12 return more results than registers hold and have
;; a tail call, which keeps them interpreted under tier=jit (translate.c,
;; results_in_registers): exceptions cross between native and interpreted
;; frames.
(module
  (tag $e (param i32))
  (type $four (func (param i32) (result i32 i32 i32 i32)))
  (func $throw (param i32) (result i32) (throw $e (local.get 0)))
  (func $div (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
  (func $inner (param i32) (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $e $h) (call $div (local.get 0))))
    (drop)
    (call $div (i32.const 0)))
  (func $handler (param i32) (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $e $h) (call $throw (local.get 0))))
    (call $div (i32.sub (i32.const 1))))
  (func (export "in_try") (result i32) (call $inner (i32.const 0)))
  (func (export "in_handler") (result i32) (call $handler (i32.const 1)))
  (func $middle (param i32) (result i32) (i32.add (call $throw (local.get 0)) (i32.const 1)))
  ;; native catcher, interpreted middle frame, native thrower
  (func (export "native_catches") (param i32) (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $e $h)
        (call $interp_middle (local.get 0)) (drop) (drop) (drop)))
    (i32.add (i32.const 1000)))
  ;; legacy rethrow from native code to an interpreted catcher
  (func $legacy (param i32) (result i32)
    (try (result i32) (do (call $middle (local.get 0))) (catch $e (drop) (rethrow 0))))
  (func $interp_middle (type $four)
    (if (i32.eqz (i32.const 1)) (then (return_call $interp_middle (local.get 0))))
    (call $middle (local.get 0)) (i32.const 0) (i32.const 0) (i32.const 0))
  (func (export "interp_catches") (param i32) (result i32)
    (call $interp_catch (local.get 0)) (drop) (drop) (drop))
  (func $interp_catch (type $four)
    (if (i32.eqz (i32.const 1)) (then (return_call $interp_catch (local.get 0))))
    (try (result i32) (do (call $legacy (local.get 0))) (catch $e (i32.add (i32.const 7))))
    (i32.const 0) (i32.const 0) (i32.const 0)))
