(module
  (memory 1 1)
  (func (export "wait") (result i32)
    (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1)))
  (func (export "notify") (result i32)
    (memory.atomic.notify (i32.const 0) (i32.const 5)))
  (func (export "unaligned") (result i32)
    (i32.atomic.load (i32.const 2))))
