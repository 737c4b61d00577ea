;; Used by embed.c: a module that imports a host function and can trap.
(module
  ;; Provided by the host (embed.c defines it through the linker).
  (import "env" "log_i32" (func $log_i32 (param i32)))

  ;; Logs 1*1, 2*2, ..., n*n through the host and returns their sum.
  (func (export "sum_squares") (param $n i32) (result i32)
    (local $i i32) (local $sq i32) (local $sum i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (local.set $sq (i32.mul (local.get $i) (local.get $i)))
        (call $log_i32 (local.get $sq))
        (local.set $sum (i32.add (local.get $sum) (local.get $sq)))
        (br $next)))
    (local.get $sum))

  ;; Traps with "integer divide by zero" when $d is 0, two calls deep, so the
  ;; backtrace has several frames.
  (func $divide (param $n i32) (param $d i32) (result i32)
    (i32.div_s (local.get $n) (local.get $d)))
  (func $average (export "average") (param $total i32) (param $count i32) (result i32)
    (call $divide (local.get $total) (local.get $count))))
