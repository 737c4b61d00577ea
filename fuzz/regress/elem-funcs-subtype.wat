;; An active segment of function indices into a funcref table: since 3.0 the
;; segment's type is (ref func), a subtype of the table's, not equal to it.
;; fuzz-validate's structural check wanted equality and stopped on this seed.
(module
  (table 0 funcref)
  (elem (i32.const 1) func))
