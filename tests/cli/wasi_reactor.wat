;; A WASI reactor: `whirl run --invoke` calls _initialize first, then the
;; export; `write` prints through fd_write and `quit` ends with proc_exit.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hi from wasi\n")
  (global $init (mut i32) (i32.const 0))
  (func (export "_initialize") (global.set $init (i32.const 41)))
  (func (export "get") (result i32) (i32.add (global.get $init) (i32.const 1)))
  (func (export "write") (result i32)
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 13))
    (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
  (func (export "quit") (param i32) (call $proc_exit (local.get 0))))
