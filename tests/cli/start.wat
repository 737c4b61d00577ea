;; A command-style module: `whirl run` without --invoke calls _start.
(module
  (global $ran (mut i32) (i32.const 0))
  ;; The start section runs at instantiation, before _start.
  (func $init (global.set $ran (i32.const 40)))
  (start $init)
  (func (export "_start") (result i32)
    (i32.add (global.get $ran) (i32.const 2))))
