;; fuzz-tier seeds: interpreter instructions fused from several Wasm ones
;; whose out-of-bounds traps named another instruction's offset than the
;; LLVM tier's (a load fused into br_table; a load fused into a
;; multiply-add and store), and min/max of two NaNs, where the tiers
;; returned different NaNs. All fixed; tests/jit/tier_calls.wat and
;; float_edges.wast check them.
(module
  (memory (export "memory") 1)
  (func (export "dispatch") (param i32 i32) (result i32)
    (block (block (block
      (br_table 0 1 2 (i32.load (i32.add (local.get 0) (i32.shl (local.get 1) (i32.const 2)))))
    ) (return (i32.const 100))) (return (i32.const 101))) (i32.const 102))
  (func (export "axpy") (param i32 i32) (result i32)
    (f64.store (local.get 0)
      (f64.add (f64.load (local.get 0))
               (f64.mul (f64.convert_i32_s (local.get 1)) (f64.load (local.get 1)))))
    (i32.const 0))
  (func (export "max_nans") (result i64)
    (i64.reinterpret_f64 (f64.max (f64.const nan:0x1) (f64.const -nan:0x2))))
  (func (export "min_nans") (param f32) (result i32)
    (i32.reinterpret_f32 (f32.min (f32.const -nan:0x1) (f32.div (local.get 0) (f32.const 0))))))
