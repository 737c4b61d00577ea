;; A second instance calling into the first (tests/jit/test_tier_calls.c):
;; an imported function and a function reached through an imported table.
(module
  (import "a" "add1" (func $add1 (param i32) (result i32)))
  (import "a" "tab" (table 4 funcref))
  (func (export "call_import") (param i32) (result i32)
    (call $add1 (call $add1 (local.get 0))))
  (func (export "call_table") (param i32 i32) (result i32)
    (call_indirect (param i32) (result i32) (local.get 1) (local.get 0))))
