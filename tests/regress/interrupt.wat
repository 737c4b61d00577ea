;; Loops that never end by themselves: every export must trap with
;; `interrupt` once the store's epoch deadline passes (expect-interrupt.c).
;;
;; Regression: when loops stopped emitting a check instruction at their
;; header and backward branches checked the epoch instead (interp.c JUMP:
;; "if off < 0"), a branch to a loop label at the branch's own position
;; (offset 0) was not backward, so `loop br 0 end` and the nested shapes
;; below spun forever: an uninterruptible guest. Found by fuzz-exec: the
;; spec test loop.wast's "cont-inner" (never invoked by the spec tests
;; themselves) timed out in the fuzzer.
(module
  (memory 1)
  (func (export "br-self")
    (loop $l (br $l)))
  (func (export "br-outer-same-position") (result i32)
    (loop $outer (result i32)
      (loop (result i32) (br $outer))))
  (func (export "br-then-dead-code") (result i32)
    (loop $l (result i32) (br $l) (i32.ctz)))
  (func (export "br_if-const")
    (loop $l (br_if $l (i32.const 1))))
  (func (export "br_if-compare") (param i32)
    (loop $l (br_if $l (i32.eq (local.get 0) (local.get 0)))))
  (func (export "br_table")
    (loop $l (br_table $l $l (i32.const 0))))
  (func (export "br-from-if")
    (loop $l (if (i32.const 1) (then (br $l)))))
  (func (export "br-after-work")
    (local i32)
    (loop $l
      (local.set 0 (i32.add (local.get 0) (i32.const 1)))
      (br $l)))
  (func $rec (export "recursion-without-loop")
    (call $rec))
  ;; No loop and no stack growth: only the check at each tail call's entry.
  (func $tail (export "tail-call-without-loop")
    (return_call $tail))
  (func $tail_a (export "tail-call-mutual")
    (return_call_indirect (i32.const 0)))
  (table 1 funcref)
  (elem (i32.const 0) $tail_a)
  (func (export "memory-fill-loop")
    (loop $l
      (memory.fill (i32.const 0) (i32.const 0) (i32.const 65536))
      (br $l))))
