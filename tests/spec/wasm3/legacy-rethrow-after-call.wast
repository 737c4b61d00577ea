;; A legacy catch body that calls a function before it rethrows (C++'s
;; catch blocks call __cxa_end_catch first). The exception for `rethrow`
;; was kept in a slot past the catching frame's temporaries, where the
;; callee's frame begins: the call overwrote it and `rethrow` threw an
;; i32 as an exception reference (whirl run crashed on clang's C++
;; exceptions, tests/wasm3-programs/cxx_eh.cc). The exn slots now lie
;; between the locals and the temporaries.
(module
  (tag $e (param i32))
  ;; A callee with a frame large enough to reach past the caller's slots.
  (func $clobber (param i32) (result i32)
    (local i64 i64 i64 i64 i64 i64 i64 i64)
    (local.set 1 (i64.const -1)) (local.set 2 (i64.const -1))
    (local.set 3 (i64.const -1)) (local.set 4 (i64.const -1))
    (local.set 5 (i64.const -1)) (local.set 6 (i64.const -1))
    (local.set 7 (i64.const -1)) (local.set 8 (i64.const -1))
    (i32.add (local.get 0) (i32.const 1)))
  (func $inner (param i32) (result i32)
    (try (result i32)
      (do (throw $e (local.get 0)))
      (catch $e
        (drop (call $clobber))
        (drop (call $clobber (i32.const 5)))
        (rethrow 0))))
  (func (export "outer") (param i32) (result i32)
    (try (result i32)
      (do (call $inner (local.get 0)))
      (catch $e)))
  ;; Nested: the outer catch's exception survives the inner try/catch and
  ;; calls in between.
  (func (export "nested") (param i32) (result i32)
    (try (result i32)
      (do
        (try (result i32)
          (do (throw $e (local.get 0)))
          (catch $e
            (drop)
            (try (result i32)
              (do (throw $e (i32.const 99)))
              (catch $e (call $clobber)))
            (drop)
            (drop (call $clobber (i32.const 1)))
            (rethrow 0))))
      (catch $e)))
)
(assert_return (invoke "outer" (i32.const 7)) (i32.const 7))
(assert_return (invoke "nested" (i32.const 42)) (i32.const 42))
