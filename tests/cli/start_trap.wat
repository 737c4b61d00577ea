;; The start function traps during instantiation: exit code 3.
(module
  (func $init unreachable)
  (start $init)
  (func (export "f") (result i32) (i32.const 1)))
