# wasi-threads' entry point for a new thread: wasi_thread_start(tid, arg).
# A new instance starts with its own __stack_pointer at the module's
# initial value, which is the main thread's stack: before any C code runs
# the thread switches to the stack its spawner allocated. `arg` points to a
# struct whose first field is that stack's top (mini_threads.h).
	.globaltype __stack_pointer, i32
	.functype mini_thread_main (i32, i32) -> ()
	.globl wasi_thread_start
	.type wasi_thread_start,@function
wasi_thread_start:
	.functype wasi_thread_start (i32, i32) -> ()
	local.get 1
	i32.load 0
	global.set __stack_pointer
	local.get 0
	local.get 1
	call mini_thread_main
	end_function
