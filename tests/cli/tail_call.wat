;; A tail-recursive countdown (tests/cli/run: -W tail-call=y|n).
(module
  (func $count (export "count") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 7))
      (else (return_call $count (i64.sub (local.get 0) (i64.const 1)))))))
