;; call_ref and return_call_ref across the tiers (tests/spec/run-wasm3; in
;; tier=jit, spec/wasm3-jit and jit/wasm3): native code calls a reference
;; to a function of its own instance directly and every other callee
;; (another instance's function, a host function, an interpreted one)
;; through the runtime; a null reference traps before any argument is
;; passed; return_call_ref runs a million deep in constant stack.

(module $other
  (type $ii (func (param i64) (result i64)))
  (func $twice (export "twice") (type $ii) (i64.mul (local.get 0) (i64.const 2)))
  (elem declare func $twice)
  (func (export "twice-ref") (result (ref $ii)) (ref.func $twice)))
(register "other")

(module
  (type $ii (func (param i64) (result i64)))
  (type $v (func (param i32)))
  (import "other" "twice" (func $twice (type $ii)))
  (import "other" "twice-ref" (func $twice_ref (result (ref $ii))))
  (import "spectest" "print_i32" (func $print (type $v)))
  (table $t 2 (ref null $ii))
  (elem declare func $inc $count $print $twice)
  (elem (table $t) (i32.const 0) (ref null $ii) (ref.func $inc))

  (func $inc (param i64) (result i64) (i64.add (local.get 0) (i64.const 1)))
  ;; counts down to 0 by tail calls through a reference to itself
  (func $count (export "count") (type $ii)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 99))
      (else (return_call_ref $ii (i64.sub (local.get 0) (i64.const 1)) (ref.func $count)))))

  (func (export "call-own") (param i64) (result i64)
    (call_ref $ii (local.get 0) (ref.func $inc)))
  (func (export "call-table") (param i64) (param i32) (result i64)
    (call_ref $ii (local.get 0) (table.get $t (local.get 1))))
  (func (export "call-import") (param i64) (result i64)
    (call_ref $ii (local.get 0) (ref.func $twice)))
  (func (export "call-other-instance") (param i64) (result i64)
    (call_ref $ii (local.get 0) (call $twice_ref)))
  (func (export "call-host") (call_ref $v (i32.const 7) (ref.func $print)))
  (func (export "tail-other-instance") (param i64) (result i64)
    (return_call_ref $ii (local.get 0) (call $twice_ref)))
  (func (export "tail-null") (param i64) (result i64)
    (return_call_ref $ii (local.get 0) (table.get $t (i32.const 1))))
  ;; a non-nullable local with a typed reference block
  (func (export "typed-local") (param i64) (result i64)
    (local $r (ref $ii))
    (local.set $r (block (result (ref $ii)) (ref.func $inc)))
    (call_ref $ii (local.get 0) (local.get $r)))
)

(assert_return (invoke "call-own" (i64.const 1)) (i64.const 2))
(assert_return (invoke "call-table" (i64.const 5) (i32.const 0)) (i64.const 6))
(assert_trap (invoke "call-table" (i64.const 5) (i32.const 1)) "null reference")
(assert_trap (invoke "call-table" (i64.const 5) (i32.const 2)) "out of bounds table access")
(assert_return (invoke "call-import" (i64.const 21)) (i64.const 42))
(assert_return (invoke "call-other-instance" (i64.const 4)) (i64.const 8))
(assert_return (invoke "call-host"))
(assert_return (invoke "tail-other-instance" (i64.const 8)) (i64.const 16))
(assert_trap (invoke "tail-null" (i64.const 1)) "null reference")
(assert_return (invoke "count" (i64.const 1000000)) (i64.const 99))
(assert_return (invoke "typed-local" (i64.const 9)) (i64.const 10))
