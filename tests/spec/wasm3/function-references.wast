;; whirl's checks of the typed function references instructions over the
;; abstract reference types (funcref, externref).
(module
  (func $f (result i32) (i32.const 42))
  (elem declare func $f)
  (table $t 2 funcref)
  (elem (table $t) (i32.const 0) func $f)

  (func (export "as-non-null") (param i32) (result i32)
    (ref.is_null (ref.as_non_null (table.get $t (local.get 0)))))
  (func (export "as-non-null-extern") (param externref) (result externref)
    (ref.as_non_null (local.get 0)))
  (func (export "as-non-null-null") (result i32)
    (ref.is_null (ref.as_non_null (ref.null func))))

  ;; br_on_null: 1 when null (branch), else the reference is kept.
  (func (export "on-null") (param i32) (result i32)
    (block $null
      (br_on_null $null (table.get $t (local.get 0)))
      (drop)
      (return (i32.const 0)))
    (i32.const 1))
  ;; with a value carried under the reference
  (func (export "on-null-carry") (param i32) (result i32)
    (block $null (result i32)
      (i32.const 7)
      (br_on_null $null (table.get $t (local.get 0)))
      (drop)
      (i32.const 100)
      (i32.add))
    (i32.const 1000)
    (i32.add))
  (func (export "on-null-local") (param externref) (result externref)
    (block $null
      (br_on_null $null (local.get 0))
      (return))
    (ref.null extern))

  ;; br_on_non_null: the reference goes to the label; null falls through.
  (func (export "on-non-null") (param i32) (result i32)
    (block $nn (result funcref)
      (br_on_non_null $nn (table.get $t (local.get 0)))
      (return (i32.const -1)))
    (ref.is_null))
  (func (export "on-non-null-carry") (param i32) (result i32 i32)
    (block $nn (result i32 funcref)
      (i32.const 5)
      (br_on_non_null $nn (table.get $t (local.get 0)))
      (i32.const 9)
      (return (i32.const -1)))
    (ref.is_null))
  (func (export "on-non-null-loop") (param externref) (result i32)
    (local i32)
    (block $done
      (loop $l
        (local.set 1 (i32.add (local.get 1) (i32.const 1)))
        (br_if $done (i32.gt_u (local.get 1) (i32.const 3)))
        (block $nn (result externref)
          (br_on_non_null $nn (local.get 0))
          (br $l))
        (drop)))
    (local.get 1))
)

(assert_return (invoke "as-non-null" (i32.const 0)) (i32.const 0))
(assert_trap (invoke "as-non-null" (i32.const 1)) "null reference")
(assert_return (invoke "as-non-null-extern" (ref.extern 3)) (ref.extern 3))
(assert_trap (invoke "as-non-null-extern" (ref.null extern)) "null reference")
(assert_trap (invoke "as-non-null-null") "null reference")
(assert_return (invoke "on-null" (i32.const 0)) (i32.const 0))
(assert_return (invoke "on-null" (i32.const 1)) (i32.const 1))
(assert_return (invoke "on-null-carry" (i32.const 0)) (i32.const 1107))
(assert_return (invoke "on-null-carry" (i32.const 1)) (i32.const 1007))
(assert_return (invoke "on-null-local" (ref.extern 5)) (ref.extern 5))
(assert_return (invoke "on-null-local" (ref.null extern)) (ref.null extern))
(assert_return (invoke "on-non-null" (i32.const 0)) (i32.const 0))
(assert_return (invoke "on-non-null" (i32.const 1)) (i32.const -1))
(assert_return (invoke "on-non-null-carry" (i32.const 0)) (i32.const 5) (i32.const 0))
(assert_return (invoke "on-non-null-carry" (i32.const 1)) (i32.const 9) (i32.const -1))
(assert_return (invoke "on-non-null-loop" (ref.extern 1)) (i32.const 1))
(assert_return (invoke "on-non-null-loop" (ref.null extern)) (i32.const 4))
(assert_trap (invoke "as-non-null" (i32.const 2)) "out of bounds table access")

(assert_invalid
  (module (func (param i32) (result i32) (ref.as_non_null (local.get 0))))
  "type mismatch")
(assert_invalid
  (module (func (param funcref) (block $l (br_on_non_null $l (local.get 0)))))
  "type mismatch")
(assert_invalid
  (module (func (param funcref) (result externref)
    (block $l (result externref) (br_on_non_null $l (local.get 0)) (ref.null extern))))
  "type mismatch")
(assert_invalid
  (module (func (param funcref) (result i32)
    (block $l (result i32) (br_on_null $l (local.get 0)) (drop) (i32.const 0))))
  "type mismatch")
