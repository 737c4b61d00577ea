/* setjmp/longjmp for wasm32-wasi guests built with clang's Wasm-EH lowering
 * (-mexception-handling -mllvm -wasm-enable-sjlj). Debian's wasi-libc (2022)
 * has no <setjmp.h>: the lowering turns every setjmp call into a call of
 * __wasm_setjmp and catches the __c_longjmp tag after calls that may jump,
 * and longjmp into __wasm_longjmp, so only the declarations are needed here
 * (sjlj_rt.c and sjlj_rt.s define the three functions and the tag). Only this
 * test directory's wasm builds see this header; native builds use libc's. */
#ifndef WHIRL_TEST_SETJMP_H
#define WHIRL_TEST_SETJMP_H

/* Room for sjlj_rt.c's struct jmp_buf_impl (16 bytes on wasm32), and more. */
typedef unsigned long jmp_buf[8];

int setjmp(jmp_buf env) __attribute__((returns_twice));
void longjmp(jmp_buf env, int val) __attribute__((noreturn));

#endif
