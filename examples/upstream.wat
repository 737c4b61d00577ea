;; The guest of examples/async.c: a request handler that awaits two answers
;; from an "upstream" service (an async host function) and adds them up.
(module
  (import "upstream" "fetch" (func $fetch (param i32) (result i32)))
  (func (export "handle") (param $id i32) (result i32)
    (i32.add
      (call $fetch (local.get $id))
      (call $fetch (i32.add (local.get $id) (i32.const 1000))))))
