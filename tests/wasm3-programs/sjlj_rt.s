# The __c_longjmp tag that clang's setjmp/longjmp lowering catches, and
# __wasm_longjmp, which throws it (sjlj_rt.c says why this is assembly).
	.tagtype __c_longjmp i32
	.globl __c_longjmp
__c_longjmp:

	.functype __whirl_sjlj_args (i32, i32) -> (i32)
	.globl __wasm_longjmp
	.type __wasm_longjmp,@function
__wasm_longjmp:
	.functype __wasm_longjmp (i32, i32) -> ()
	local.get 0
	local.get 1
	call __whirl_sjlj_args
	throw __c_longjmp
	unreachable
	end_function
