;; Calls across tiers (tests/jit/test_tier_calls.c): the same calls with
;; tier=interp and tier=jit must agree (results, traps, backtraces).
(module
  (import "host" "cb" (func $cb (param i32) (result i32)))
  (import "host" "recurse" (func $host_recurse (param i32) (result i32)))
  (memory (export "mem") 1 100)
  (table (export "tab") 4 funcref)
  (global $g (export "g") (mut i32) (i32.const 0))
  (elem (i32.const 0) $add1 $simd_add $via_host $div)

  (func $add1 (export "add1") (param i32) (result i32)
    local.get 0 i32.const 1 i32.add)
  ;; v128: calls $add1, and is called directly and through the table
  (func $simd_add (export "simd_add") (param i32) (result i32)
    (i32x4.extract_lane 0
      (i32x4.add (i32x4.splat (local.get 0)) (i32x4.splat (call $add1 (i32.const 10))))))
  ;; direct and indirect calls to $simd_add
  (func (export "mixed") (param i32) (result i32)
    (i32.add (call $simd_add (local.get 0))
             (call_indirect (param i32) (result i32) (local.get 0) (i32.const 1))))
  ;; native -> host -> wasm (the host calls "add1" back)
  (func $via_host (export "via_host") (param i32) (result i32)
    (call $cb (local.get 0)))
  (func $div (export "div") (param i32) (result i32)
    (i32.div_u (i32.const 100) (local.get 0)))
  (func (export "indirect") (param i32 i32) (result i32)
    (call_indirect (param i32) (result i32) (local.get 1) (local.get 0)))
  ;; traps deeper in native code: the backtrace names both frames
  (func $inner (param i32) (result i32)
    (i32.load (local.get 0)))
  (func (export "oob") (param i32) (result i32)
    (i32.add (i32.const 1) (call $inner (local.get 0))))
  ;; A load feeding br_table: the interpreter fuses them into one
  ;; instruction, whose trap must still name the load's offset (fuzz-tier
  ;; found it naming the br_table's).
  (func (export "dispatch") (param i32 i32) (result i32)
    (block (block (block
      (br_table 0 1 2 (i32.load (i32.add (local.get 0) (i32.shl (local.get 1) (i32.const 2)))))
    ) (return (i32.const 100))) (return (i32.const 101))) (i32.const 102))
  ;; x[i] = x[i] + k * y[j]: the interpreter fuses the load of y[j], the
  ;; multiply-add and the store into one instruction with two accesses
  ;; that can trap; each trap must name its own instruction (fuzz-tier
  ;; found the load's trap naming the store).
  (func (export "axpy") (param i32 i32) (result i32)
    (f64.store (local.get 0)
      (f64.add (f64.load (local.get 0))
               (f64.mul (f64.convert_i32_s (local.get 1)) (f64.load (local.get 1)))))
    (i32.const 0))
  (func $rec (export "rec") (param i32) (result i32)
    (i32.add (i32.const 1) (call $rec (i32.add (local.get 0) (i32.const 1)))))
  ;; recursion through the host: wasm -> host -> wasm -> ...
  (func (export "host_rec") (param i32) (result i32)
    (call $host_recurse (local.get 0)))
  ;; Deep native recursion, then a trap in a callee of a callee: the
  ;; backtrace names every frame at its call's offset.
  (func $down (export "down") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (call $mid (local.get 0)))
      (else (i32.add (i32.const 1) (call $down (i32.sub (local.get 0) (i32.const 1)))))))
  (func $mid (param i32) (result i32)
    (i32.add (i32.const 2) (call $div (local.get 0))))
  (func (export "spin") (loop $l (global.set $g (i32.add (global.get $g) (i32.const 1))) (br $l)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "fill") (param i32 i32) (memory.fill (local.get 0) (i32.const 7) (local.get 1)))
  (func (export "unreachable") unreachable)
  ;; Loops and the epoch check at their header (test_tier_calls.c knows
  ;; these indices: $leaf is 21, the spins 22-25). Each spin first calls the
  ;; host, which makes the epoch deadline due, so the next check traps.
  ;; spin_call's every iteration calls $leaf, which checks on entry, so
  ;; native code drops the header's check; the others must keep it: a back
  ;; edge before the call, a call on one arm only, a call to an import (a
  ;; host function).
  (func $leaf (param i32) (result i32) (local.get 0))
  (func (export "spin_call") (param i32)
    (drop (call $host_recurse (i32.const 5)))
    (loop $l (drop (call $leaf (i32.const 1))) (br $l)))
  (func (export "spin_back_first") (param i32)
    (drop (call $host_recurse (i32.const 5)))
    (loop $l (br_if $l (local.get 0)) (drop (call $leaf (i32.const 1))) (br $l)))
  (func (export "spin_call_if") (param i32)
    (drop (call $host_recurse (i32.const 5)))
    (loop $l (if (local.get 0) (then (drop (call $leaf (i32.const 1))))) (br $l)))
  (func (export "spin_import") (param i32)
    (loop $l (drop (call $host_recurse (i32.const 5))) (br $l)))
)
