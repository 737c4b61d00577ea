;; fuzz-exec found compile_end() reading a block's result type through a
;; pointer into compile_block()'s dead stack frame (stack-use-after-return,
;; ASan). Any block with a single-value result type shows it. See
;; tests/regress/block-result-type.wast.
(module
  (func (export "f") (result i32) (block (result i32) (i32.const 1))))
