;; Bulk operations larger than one chunk (BULK_CHUNK_BYTES, 256 KiB, in
;; runtime/runtime.h) run chunk by chunk so that they can stop at the
;; epoch deadline. Without a deadline their results must be exactly the
;; spec's: overlapping copies in both directions (memmove's result across
;; chunk boundaries), fills and grows whose entries all get the value.
;; Run by the regress/bulk-chunks test with a pool table slot large enough
;; for 300,000 entries (9 chunks of pointers). Most distances between
;; source and destination (1000, 0x100001, 131073) are off every power of
;; two, so chunk boundaries of any size cut through the overlapping part.

(module
  (memory (export "mem") 64) ;; 4 MiB: copies of 3 MiB span 12 chunks
  ;; A byte pattern that does not repeat within a chunk's length.
  (func $pattern (param $i i32) (result i32)
    (i32.and
      (i32.shr_u (i32.mul (local.get $i) (i32.const 0x9e3779b1)) (i32.const 13))
      (i32.const 0xff)))
  (func $init
    (local $i i32)
    (loop $l
      (i32.store8 (local.get $i) (call $pattern (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 0x400000)))))
  ;; memory.copy d s n, then the first byte that is wrong (-1: none):
  ;; [d, d+n) must hold the pattern of [s, s+n), everything else its own.
  (func (export "copy") (param $d i32) (param $s i32) (param $n i32) (result i32)
    (local $i i32) (local $want i32)
    (call $init)
    (memory.copy (local.get $d) (local.get $s) (local.get $n))
    (loop $l
      (local.set $want
        (if (result i32)
            (i32.and (i32.ge_u (local.get $i) (local.get $d))
                     (i32.lt_u (local.get $i) (i32.add (local.get $d) (local.get $n))))
          (then (call $pattern (i32.add (local.get $s) (i32.sub (local.get $i) (local.get $d)))))
          (else (call $pattern (local.get $i)))))
      (if (i32.ne (i32.load8_u (local.get $i)) (local.get $want))
        (then (return (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 0x400000))))
    (i32.const -1))
  ;; memory.fill d v n, then the first byte that is wrong (-1: none).
  (func (export "fill") (param $d i32) (param $v i32) (param $n i32) (result i32)
    (local $i i32) (local $want i32)
    (call $init)
    (memory.fill (local.get $d) (local.get $v) (local.get $n))
    (loop $l
      (local.set $want
        (if (result i32)
            (i32.and (i32.ge_u (local.get $i) (local.get $d))
                     (i32.lt_u (local.get $i) (i32.add (local.get $d) (local.get $n))))
          (then (i32.and (local.get $v) (i32.const 0xff)))
          (else (call $pattern (local.get $i)))))
      (if (i32.ne (i32.load8_u (local.get $i)) (local.get $want))
        (then (return (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 0x400000))))
    (i32.const -1)))

(assert_return (invoke "copy" (i32.const 1000) (i32.const 0) (i32.const 0x300000)) (i32.const -1))
(assert_return (invoke "copy" (i32.const 0) (i32.const 1000) (i32.const 0x300000)) (i32.const -1))
(assert_return (invoke "copy" (i32.const 0x100001) (i32.const 0) (i32.const 0x2fffff)) (i32.const -1))
(assert_return (invoke "copy" (i32.const 0) (i32.const 0x100001) (i32.const 0x2fffff)) (i32.const -1))
(assert_return (invoke "copy" (i32.const 0x200000) (i32.const 0) (i32.const 0x200000)) (i32.const -1))
(assert_return (invoke "copy" (i32.const 7) (i32.const 7) (i32.const 0x3ffff9)) (i32.const -1))
(assert_return (invoke "copy" (i32.const 0x100000) (i32.const 0x100000) (i32.const 0)) (i32.const -1))
(assert_return (invoke "fill" (i32.const 3) (i32.const 0x1a5) (i32.const 0x3ffffd)) (i32.const -1))
(assert_return (invoke "fill" (i32.const 0x100000) (i32.const 0) (i32.const 0x100001)) (i32.const -1))
;; Bounds are checked before the first chunk: nothing is written.
(assert_trap (invoke "fill" (i32.const 1) (i32.const 0) (i32.const 0x400000)) "out of bounds memory access")
(assert_return (invoke "copy" (i32.const 0) (i32.const 0) (i32.const 0)) (i32.const -1))

(module
  (table $t (export "tab") 300000 funcref)
  (table $g 0 300000 funcref)
  (type $v (func (result i32)))
  (func $a (result i32) (i32.const 1))
  (func $b (result i32) (i32.const 2))
  (elem declare func $a $b)
  ;; Entry i: null, $a or $b, in a pattern that does not repeat per chunk.
  (func $pattern (param $i i32) (result i32)
    (i32.rem_u
      (i32.shr_u (i32.mul (local.get $i) (i32.const 0x9e3779b1)) (i32.const 13))
      (i32.const 3)))
  (func $id (param $i i32) (result i32)
    (if (result i32) (ref.is_null (table.get $t (local.get $i)))
      (then (i32.const 0))
      (else (call_indirect $t (type $v) (local.get $i)))))
  (func $init
    (local $i i32)
    (loop $l
      (table.set $t (local.get $i)
        (if (result funcref) (i32.eqz (call $pattern (local.get $i)))
          (then (ref.null func))
          (else (if (result funcref) (i32.eq (call $pattern (local.get $i)) (i32.const 1))
                  (then (ref.func $a)) (else (ref.func $b))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 300000)))))
  ;; table.copy d s n, then the first entry that is wrong (-1: none).
  (func (export "copy") (param $d i32) (param $s i32) (param $n i32) (result i32)
    (local $i i32) (local $want i32)
    (call $init)
    (table.copy $t $t (local.get $d) (local.get $s) (local.get $n))
    (loop $l
      (local.set $want
        (call $pattern
          (if (result i32)
              (i32.and (i32.ge_u (local.get $i) (local.get $d))
                       (i32.lt_u (local.get $i) (i32.add (local.get $d) (local.get $n))))
            (then (i32.add (local.get $s) (i32.sub (local.get $i) (local.get $d))))
            (else (local.get $i)))))
      (if (i32.ne (call $id (local.get $i)) (local.get $want))
        (then (return (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 300000))))
    (i32.const -1))
  ;; table.fill with $b, then the first entry that is wrong (-1: none).
  (func (export "fill") (param $d i32) (param $n i32) (result i32)
    (local $i i32) (local $want i32)
    (call $init)
    (table.fill $t (local.get $d) (ref.func $b) (local.get $n))
    (loop $l
      (local.set $want
        (if (result i32)
            (i32.and (i32.ge_u (local.get $i) (local.get $d))
                     (i32.lt_u (local.get $i) (i32.add (local.get $d) (local.get $n))))
          (then (i32.const 2))
          (else (call $pattern (local.get $i)))))
      (if (i32.ne (call $id (local.get $i)) (local.get $want))
        (then (return (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 300000))))
    (i32.const -1))
  ;; table.grow $g by n entries of $a: the old size, and every entry $a.
  (func (export "grow") (param $n i32) (result i32)
    (local $i i32)
    (if (i32.ne (table.grow $g (ref.func $a) (local.get $n)) (i32.const 0))
      (then (return (i32.const -2))))
    (if (i32.ne (table.size $g) (local.get $n))
      (then (return (i32.const -3))))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (if (ref.is_null (table.get $g (local.get $i)))
          (then (return (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (i32.const -1)))

(assert_return (invoke "copy" (i32.const 1000) (i32.const 0) (i32.const 290000)) (i32.const -1))
(assert_return (invoke "copy" (i32.const 0) (i32.const 1000) (i32.const 290000)) (i32.const -1))
(assert_return (invoke "copy" (i32.const 131073) (i32.const 0) (i32.const 168927)) (i32.const -1))
(assert_return (invoke "copy" (i32.const 0) (i32.const 131073) (i32.const 168927)) (i32.const -1))
(assert_return (invoke "fill" (i32.const 5) (i32.const 299990)) (i32.const -1))
(assert_trap (invoke "fill" (i32.const 5) (i32.const 299996)) "out of bounds table access")
(assert_return (invoke "grow" (i32.const 299999)) (i32.const -1))
