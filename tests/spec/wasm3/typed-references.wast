;; whirl's checks of typed function references beyond the suite's files:
;; table initialisers, typed globals and element segments, subtyping at
;; link time, call_ref through a typed table, null traps, self-referencing
;; types, non-nullable locals across blocks.
(module $M
  (type $ii (func (param i32) (result i32)))
  (type $rec (func (param (ref null $rec) i32) (result i32)))
  (func $inc (type $ii) (i32.add (local.get 0) (i32.const 1)))
  (func $dbl (type $ii) (i32.mul (local.get 0) (i32.const 2)))
  (elem declare func $inc $dbl $count)

  ;; a table whose every entry starts as $inc, and one of nullable entries
  (table $t (export "t") 4 (ref $ii) (ref.func $inc))
  (table $n 2 (ref null $ii))
  (elem (table $t) (i32.const 1) (ref $ii) (ref.func $dbl))

  (global $g (export "g") (ref $ii) (ref.func $dbl))
  (global $m (export "m") (mut (ref null $ii)) (ref.null $ii))

  (func (export "t-call") (param i32 i32) (result i32)
    (call_ref $ii (local.get 1) (table.get $t (local.get 0))))
  (func (export "g-call") (param i32) (result i32)
    (call_ref $ii (local.get 0) (global.get $g)))
  (func (export "m-call") (param i32) (result i32)
    (call_ref $ii (local.get 0) (global.get $m)))
  (func (export "m-set")
    (global.set $m (ref.func $inc)))
  (func (export "n-call") (param i32) (result i32)
    (call_ref $ii (local.get 0) (table.get $n (i32.const 0))))
  (func (export "t-grow") (result i32)
    (table.grow $t (ref.func $dbl) (i32.const 2)))

  ;; a type naming itself: counts down through call_ref on itself
  (func $count (type $rec) (param $self (ref null $rec)) (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 0))
      (else (i32.add (i32.const 1)
              (call_ref $rec (local.get $self) (i32.sub (local.get $n) (i32.const 1))
                             (local.get $self))))))
  (func (export "count") (param i32) (result i32)
    (call_ref $rec (ref.func $count) (local.get 0) (ref.func $count)))

  ;; a non-nullable local set in a block stays set after it only if set
  ;; before: here it is set at the top level first
  (func (export "local") (param i32) (result i32)
    (local $f (ref $ii))
    (local.set $f (ref.func $inc))
    (block (local.set $f (ref.func $dbl)))
    (call_ref $ii (local.get 0) (local.get $f)))

  ;; select with a typed annotation
  (func (export "select") (param i32 i32) (result i32)
    (call_ref $ii (local.get 1)
      (select (result (ref $ii)) (ref.func $inc) (ref.func $dbl) (local.get 0))))
)
(register "M" $M)

(assert_return (invoke "t-call" (i32.const 0) (i32.const 5)) (i32.const 6))
(assert_return (invoke "t-call" (i32.const 1) (i32.const 5)) (i32.const 10))
(assert_return (invoke "t-call" (i32.const 3) (i32.const 5)) (i32.const 6))
(assert_trap (invoke "t-call" (i32.const 4) (i32.const 5)) "out of bounds table access")
(assert_return (invoke "g-call" (i32.const 7)) (i32.const 14))
(assert_trap (invoke "m-call" (i32.const 7)) "null function reference")
(invoke "m-set")
(assert_return (invoke "m-call" (i32.const 7)) (i32.const 8))
(assert_trap (invoke "n-call" (i32.const 7)) "null function reference")
(assert_return (invoke "t-grow") (i32.const 4))
(assert_return (invoke "t-call" (i32.const 5) (i32.const 5)) (i32.const 10))
(assert_return (invoke "count" (i32.const 10000)) (i32.const 10000))
(assert_return (invoke "local" (i32.const 3)) (i32.const 6))
(assert_return (invoke "select" (i32.const 1) (i32.const 3)) (i32.const 4))
(assert_return (invoke "select" (i32.const 0) (i32.const 3)) (i32.const 6))

;; Linking: an equal type declared in another module (other indices) matches;
;; an immutable global may be imported at a supertype, a table only exactly.
(module
  (type $pad (func))
  (type $ii2 (func (param i32) (result i32)))
  (import "M" "g" (global $g (ref $ii2)))
  (import "M" "t" (table $t 1 (ref $ii2)))
  (func (export "run") (param i32) (result i32)
    (i32.add (call_ref $ii2 (local.get 0) (global.get $g))
             (call_ref $ii2 (local.get 0) (table.get $t (i32.const 0)))))
)
(assert_return (invoke "run" (i32.const 10)) (i32.const 31))
(module
  (import "M" "g" (global (ref null func)))
  (import "M" "g" (global funcref))
)
(assert_unlinkable
  (module (type $other (func (param i64) (result i32))) (import "M" "g" (global (ref $other))))
  "incompatible import type")
(assert_unlinkable
  (module (import "M" "t" (table 1 funcref)))
  "incompatible import type")
(assert_unlinkable
  (module (import "M" "m" (global (mut (ref null func)))))
  "incompatible import type")

;; Validation.
(assert_invalid
  (module (type $ii (func (param i32) (result i32))) (table 1 (ref $ii)))
  "type mismatch")
(assert_invalid
  (module (type $ii (func (param i32) (result i32)))
    (func $g (type $ii) (local.get 0))
    (func (local $f (ref $ii)) (block (local.set $f (ref.func $g))) (drop (local.get $f)))
    (elem declare func $g))
  "uninitialized local")
(assert_invalid
  (module (type $a (func)) (type $b (func (param i32)))
    (func (param (ref $a)) (result (ref $b)) (local.get 0)))
  "type mismatch")
(assert_invalid
  (module (type $a (func)) (func (param (ref null $a)) (result (ref $a)) (local.get 0)))
  "type mismatch")
(assert_invalid
  (module (type $a (func (param (ref 1)))) (type $b (func)))
  "unknown type")
