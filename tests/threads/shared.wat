(module
  (import "env" "memory" (memory 1 4 shared))
  ;; adds 1 to the i32 at 0, n times
  (func (export "add") (param $n i32) (local $i i32)
    (loop $l
      (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
  ;; sets the flag at 16, then waits on the i32 at 8 while it is 0
  (func (export "wait") (param $timeout i64) (result i32)
    (i32.atomic.store (i32.const 16) (i32.const 1))
    (memory.atomic.wait32 (i32.const 8) (i32.const 0) (local.get $timeout)))
  (func (export "wait64") (param $expected i64) (param $timeout i64) (result i32)
    (memory.atomic.wait64 (i32.const 24) (local.get $expected) (local.get $timeout)))
  (func (export "notify") (param $count i32) (result i32)
    (memory.atomic.notify (i32.const 8) (local.get $count)))
  (func (export "grow") (param $n i32) (result i32) (memory.grow (local.get $n)))
  (func (export "size") (result i32) (memory.size))
  (func (export "load") (param $a i32) (result i32) (i32.load (local.get $a)))
  (func (export "store") (param $a i32) (param $v i32) (i32.store (local.get $a) (local.get $v)))
  (func (export "cmpxchg8") (param $a i32) (param $e i32) (param $r i32) (result i32)
    (i32.atomic.rmw8.cmpxchg_u (local.get $a) (local.get $e) (local.get $r)))
  (func (export "fence") (atomic.fence))
  ;; sets the flag at 16, spins until memory.size is no longer $old (grown by
  ;; another thread: a loop without calls, where compiled code must still
  ;; reread the size), then loads the first word past the old end
  (func (export "await_grow") (param $old i32) (result i32)
    (i32.atomic.store (i32.const 16) (i32.const 1))
    (loop $l (br_if $l (i32.eq (memory.size) (local.get $old))))
    (i32.load (i32.mul (local.get $old) (i32.const 65536)))))
