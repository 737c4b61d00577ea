;; Used by embed_component.c: a component that imports a host function
;; `log` from the interface example:greet/host and exports
;; `greet(name: string) -> string`, which builds "Hello, NAME!", logs it
;; through the host and returns it. Component text, converted to a binary
;; with jco (tests/component/wat2component.mjs); a component made from a
;; real language toolchain looks the same from the host's side.
(component
  (import "example:greet/host" (instance $host
    (export "log" (func (param "message" string)))))

  ;; Memory and the canonical ABI's allocator (a bump allocator: strings
  ;; passed in are copied to memory it returns).
  (core module $libc
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 1024))
    (func (export "realloc") (param $old i32) (param $old-size i32) (param $align i32)
                             (param $new-size i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get $align))))
      (global.set $heap (i32.add (local.get $p) (local.get $new-size)))
      (if (i32.gt_u (global.get $heap) (i32.const 65536)) (then unreachable))
      (local.get $p)))
  (core instance $libc-i (instantiate $libc))

  ;; The host function as a core function: (pointer, length) of UTF-8.
  (core func $log (canon lower (func $host "log") (memory (core memory $libc-i "memory"))))

  (core module $main
    (import "libc" "memory" (memory 1))
    (import "libc" "realloc" (func $realloc (param i32 i32 i32 i32) (result i32)))
    (import "host" "log" (func $log (param i32 i32)))
    (data (i32.const 0) "Hello, ")
    ;; Returns the address of a (pointer, length) pair: the result string.
    (func (export "greet") (param $name i32) (param $len i32) (result i32)
      (local $out i32) (local $n i32)
      (local.set $n (i32.add (local.get $len) (i32.const 8)))
      (local.set $out (call $realloc (i32.const 0) (i32.const 0) (i32.const 1) (local.get $n)))
      (memory.copy (local.get $out) (i32.const 0) (i32.const 7))
      (memory.copy (i32.add (local.get $out) (i32.const 7)) (local.get $name) (local.get $len))
      (i32.store8 (i32.add (local.get $out) (i32.sub (local.get $n) (i32.const 1))) (i32.const 33))
      (call $log (local.get $out) (local.get $n))
      (i32.store (i32.const 16) (local.get $out))
      (i32.store (i32.const 20) (local.get $n))
      (i32.const 16)))
  (core instance $main-i (instantiate $main
    (with "libc" (instance $libc-i))
    (with "host" (instance (export "log" (func $log))))))

  (func (export "greet") (param "name" string) (result string)
    (canon lift (core func $main-i "greet") (memory (core memory $libc-i "memory"))
                (realloc (core func $libc-i "realloc")))))
