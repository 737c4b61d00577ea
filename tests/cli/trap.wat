;; Traps for tests/cli/run: exit code 3, message and backtrace.
(module
  (func $inner unreachable)
  (func $middle (call $inner))
  (func $boom (export "boom") (call $middle))

  ;; Unbounded recursion: must end in a "call stack exhausted" trap.
  (func $recurse (export "recurse") (param i32) (result i32)
    (call $recurse (i32.add (local.get 0) (i32.const 1))))

  ;; Recursion to a given depth: fine with the default stack, a trap with a
  ;; tiny --max-wasm-stack.
  (func $depth (export "depth") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (i32.add (i32.const 1)
                     (call $depth (i32.sub (local.get 0) (i32.const 1)))))))

  ;; Never returns: only --timeout stops it.
  (func (export "spin") (loop $forever (br $forever)))

  (func (export "div") (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1)))

  ;; No name section entry: the backtrace falls back to func[7].
  (func (export "anon") (result i32)
    (i32.load (i32.const 70000)))
  (memory 1))
