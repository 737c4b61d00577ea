;; The older WASI snapshot 0, which whirl does not provide: exit 1 with a note.
(module
  (import "wasi_unstable" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")))
