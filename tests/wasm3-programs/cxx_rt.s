# The __cpp_exception tag that clang's -fwasm-exceptions code catches, and
# __whirl_cxx_throw, which throws it (cxx_rt.c says why this is assembly).
	.tagtype __cpp_exception i32
	.globl __cpp_exception
__cpp_exception:

	.globl __whirl_cxx_throw
	.type __whirl_cxx_throw,@function
__whirl_cxx_throw:
	.functype __whirl_cxx_throw (i32) -> ()
	local.get 0
	throw __cpp_exception
	unreachable
	end_function
