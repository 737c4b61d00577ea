;; A WASI command that prints its arguments, one per line, then its
;; environment, one "env NAME=VALUE" line each: what `whirl run` gave it.
(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 4)
  (data (i32.const 32) "\n")
  (data (i32.const 40) "env ")

  ;; Writes `len` bytes at `ptr` to stdout.
  (func $write (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))

  ;; Prints the NUL-terminated string at `s`, then a newline.
  (func $puts (param $s i32) (local $n i32)
    (block $done
      (loop $scan
        (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $s) (local.get $n)))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $scan)))
    (call $write (local.get $s) (local.get $n))
    (call $write (i32.const 32) (i32.const 1)))

  ;; Prints `count` strings whose pointers start at `ptrs`, each after `prefix_len` bytes of prefix.
  (func $print_all (param $ptrs i32) (param $count i32) (param $prefix_len i32) (local $i i32)
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (if (local.get $prefix_len) (then (call $write (i32.const 40) (local.get $prefix_len))))
        (call $puts (i32.load (i32.add (local.get $ptrs) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each))))

  (func (export "_start")
    ;; argc at 16, buffer size at 20; pointers at 1024, strings at 65536.
    (drop (call $args_sizes_get (i32.const 16) (i32.const 20)))
    (drop (call $args_get (i32.const 1024) (i32.const 65536)))
    (call $print_all (i32.const 1024) (i32.load (i32.const 16)) (i32.const 0))
    ;; environ: count at 16, pointers at 8192, strings at 131072.
    (drop (call $environ_sizes_get (i32.const 16) (i32.const 20)))
    (drop (call $environ_get (i32.const 8192) (i32.const 131072)))
    (call $print_all (i32.const 8192) (i32.load (i32.const 16)) (i32.const 4))))
