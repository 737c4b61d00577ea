;; whirl's own tail-call checks (tests/spec/run-wasm3): constant stack
;; space across every callee kind, frames that grow and shrink, v128
;; arguments, traps in a tail callee, and host callees.

(module $A
  (type $ii (func (param i64) (result i32)))
  (table $t (export "table") 4 funcref)
  (elem (table $t) (i32.const 0) func $even_i $odd_i)

  ;; A million deep, mutually: direct calls.
  (func $even (export "even") (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0))
      (then (i32.const 1))
      (else (return_call $odd (i64.sub (local.get 0) (i64.const 1))))))
  (func $odd (export "odd") (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0))
      (then (i32.const 0))
      (else (return_call $even (i64.sub (local.get 0) (i64.const 1))))))

  ;; The same through the table.
  (func $even_i (export "even_i") (type $ii)
    (if (result i32) (i64.eqz (local.get 0))
      (then (i32.const 1))
      (else (return_call_indirect $t (type $ii)
              (i64.sub (local.get 0) (i64.const 1)) (i32.const 1)))))
  (func $odd_i (type $ii)
    (if (result i32) (i64.eqz (local.get 0))
      (then (i32.const 0))
      (else (return_call_indirect $t (type $ii)
              (i64.sub (local.get 0) (i64.const 1)) (i32.const 0)))))

  ;; Frames of different sizes: the callee has more parameters and locals
  ;; than the caller, then fewer; the sum checks every argument arrived.
  (func $wide (param i64 i64 i64 i64 i64 i64) (result i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.add (local.get 1) (i64.add (local.get 2) (i64.add (local.get 3)
              (i64.add (local.get 4) (local.get 5))))))
      (else (return_call $narrow (i64.sub (local.get 0) (i64.const 1))
              (i64.add (local.get 1) (i64.add (local.get 2) (i64.add (local.get 3)
                (i64.add (local.get 4) (local.get 5)))))))))
  (func $narrow (param i64 i64) (result i64)
    (return_call $wide (local.get 0) (local.get 1) (i64.const 1) (i64.const 2)
      (i64.const 3) (i64.const 4)))
  (func (export "wide") (param i64) (result i64)
    (return_call $wide (local.get 0) (i64.const 0) (i64.const 0) (i64.const 0)
      (i64.const 0) (i64.const 0)))

  ;; v128 arguments next to scalars.
  (func $vsum (param i32 v128 i64) (result i64)
    (if (result i64) (i32.eqz (local.get 0))
      (then (i64.add (local.get 2) (i64x2.extract_lane 1 (local.get 1))))
      (else (return_call $vsum (i32.sub (local.get 0) (i32.const 1))
              (i64x2.add (local.get 1) (v128.const i64x2 0 1))
              (i64.add (local.get 2) (i64.const 2))))))
  (func (export "vsum") (param i32) (result i64)
    (return_call $vsum (local.get 0) (v128.const i64x2 7 0) (i64.const 0)))

  ;; A trap in the tail callee.
  (func $div (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1)))
  (func (export "div") (param i32 i32) (result i32)
    (return_call $div (local.get 0) (local.get 1)))
  (func (export "null") (result i32)
    (return_call_indirect $t (type $ii) (i64.const 0) (i32.const 3)))
  (func (export "wrong-type") (result i32)
    (return_call_indirect $t (result i32) (i32.const 0)))

  ;; A non-tail call of the same depth still exhausts the stack.
  (func $deep (export "deep") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 0))
      (else (i64.add (i64.const 1) (call $deep (i64.sub (local.get 0) (i64.const 1)))))))
)

(assert_return (invoke "even" (i64.const 1_000_000)) (i32.const 1))
(assert_return (invoke "odd" (i64.const 1_000_001)) (i32.const 1))
(assert_return (invoke "even_i" (i64.const 1_000_000)) (i32.const 1))
(assert_return (invoke "even_i" (i64.const 999_999)) (i32.const 0))
(assert_return (invoke "wide" (i64.const 0)) (i64.const 0))
(assert_return (invoke "wide" (i64.const 1)) (i64.const 10))
(assert_return (invoke "wide" (i64.const 1_000_000)) (i64.const 10_000_000))
(assert_return (invoke "vsum" (i32.const 0)) (i64.const 0))
(assert_return (invoke "vsum" (i32.const 1_000_000)) (i64.const 3_000_000))
(assert_return (invoke "div" (i32.const 7) (i32.const 2)) (i32.const 3))
(assert_trap (invoke "div" (i32.const 7) (i32.const 0)) "integer divide by zero")
(assert_trap (invoke "null") "uninitialized element")
(assert_trap (invoke "wrong-type") "indirect call type mismatch")
(assert_exhaustion (invoke "deep" (i64.const 1_000_000)) "call stack exhausted")
(register "A" $A)

;; Across instances: B's functions and A's call each other through A's
;; table, a million times, and B tail-calls an import of A and a host
;; function.
(module $B
  (type $ii (func (param i64) (result i32)))
  (import "A" "table" (table $t 4 funcref))
  (import "A" "even" (func $a_even (param i64) (result i32)))
  (import "spectest" "print_i32" (func $print (param i32)))
  (elem (table $t) (i32.const 2) func $ping)
  (func $ping (type $ii)
    (if (result i32) (i64.eqz (local.get 0))
      (then (i32.const 42))
      (else (return_call_indirect $t (type $ii)
              (i64.sub (local.get 0) (i64.const 1)) (i32.const 2)))))
  (func (export "ping") (param i64) (result i32)
    (return_call $ping (local.get 0)))
  (func (export "via-import") (param i64) (result i32)
    (return_call $a_even (local.get 0)))
  (func (export "to-host") (param i32)
    (return_call $print (local.get 0)))
  (func (export "to-host-indirect") (param i64) (result i32)
    ;; slot 0 of A's table is A's even_i: a call into another instance
    (return_call_indirect $t (type $ii) (local.get 0) (i32.const 0)))
)
(assert_return (invoke "ping" (i64.const 1_000_000)) (i32.const 42))
(assert_return (invoke "via-import" (i64.const 1_000_000)) (i32.const 1))
(assert_return (invoke "to-host" (i32.const 5)))
(assert_return (invoke "to-host-indirect" (i64.const 1_000_001)) (i32.const 0))
(assert_invalid
  (module (func $f (result i64) (i64.const 0))
    (func (result i32) (return_call $f)))
  "type mismatch")
(assert_invalid
  (module (type $t (func (result i64))) (table 1 funcref)
    (func (result i32) (return_call_indirect (type $t) (i32.const 0))))
  "type mismatch")
