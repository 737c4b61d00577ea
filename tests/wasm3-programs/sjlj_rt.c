/* The runtime that clang's Wasm-EH setjmp/longjmp lowering calls
 * (-mllvm -wasm-enable-sjlj): wasi-libc 2022 has none. The lowering gives
 * every function that calls setjmp an invocation id (the address of a stack
 * slot) and numbers its setjmp calls (labels from 1); a longjmp throws the
 * __c_longjmp tag with a pointer to {env, val}, and each function that may
 * be jumped into catches it and asks __wasm_setjmp_test whether env was set
 * by this invocation, and by which label. The throw itself is in
 * sjlj_rt.s: clang 19 cannot compile __builtin_wasm_throw in a file that
 * does not also define the tag ("undefined tag symbol cannot be weak"), and
 * a C file cannot define a tag. */
#include <stdint.h>

struct longjmp_args { void *env; int val; };
struct jmp_buf_impl {
  void *func_invocation_id;
  uint32_t label;
  struct longjmp_args arg;
};

void __wasm_setjmp(void *env, uint32_t label, void *func_invocation_id) {
  struct jmp_buf_impl *jb = env;
  jb->func_invocation_id = func_invocation_id;
  jb->label = label;
}

uint32_t __wasm_setjmp_test(void *env, void *func_invocation_id) {
  struct jmp_buf_impl *jb = env;
  return jb->func_invocation_id == func_invocation_id ? jb->label : 0;
}

/* Called by __wasm_longjmp (sjlj_rt.s): the tag's payload. longjmp(env, 0)
 * makes setjmp return 1, as C requires. */
struct longjmp_args *__whirl_sjlj_args(void *env, int val) {
  struct jmp_buf_impl *jb = env;
  jb->arg.env = env;
  jb->arg.val = val ? val : 1;
  return &jb->arg;
}
