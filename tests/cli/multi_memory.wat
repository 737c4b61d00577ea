;; Two memories (tests/cli/run): the store's memory limit counts both.
(module
  (memory $a 1)
  (memory $b 1)
  (data (memory $b) (i32.const 8) "\2a")
  ;; memory.grow of memory 1 by one page: the old size, or -1 at the limit
  (func (export "grow-b") (result i32) (memory.grow $b (i32.const 1)))
  (func (export "read-b") (result i32) (i32.load8_u $b (i32.const 8))))
