/* The interpreter's interface to the rest of the engine. */
#ifndef WHIRL_EXEC_H
#define WHIRL_EXEC_H

#include "runtime/runtime.h"

/* Writes `len` words of code as the compiler writes it (op numbers,
 * code.h) from `src` to `dst` (which may be `src`) in the form the
 * interpreter runs (handler offsets). False if an instruction is not an op
 * or runs past the end; `dst` is then partly written and unusable. */
bool exec_code_from_ops(code_word_t *dst, const code_word_t *src, uint32_t len);
/* The reverse, for code that exec_code_from_ops produced: what serialised
 * modules store, since handler offsets change with every build of the
 * interpreter and op numbers do not. */
void exec_code_to_ops(code_word_t *code, uint32_t len);

/* Calls `func` (wasm or host) with `args`, writing `results`. Counts and
 * kinds have been checked by the caller. Traps come back as trap errors
 * with a backtrace. Re-entrant: a host function may call back into wasm. */
whirl_error_t *exec_call(whirl_store_t *store, whirl_func_t *func, const whirl_val_t *args,
                         whirl_val_t *results);
/* The same, but a wasm `func` runs in the interpreter even when it has
 * native code: the LLVM tier's tail calls that cannot jump to their callee
 * come here, and the interpreter runs tail calls in place, so a chain of
 * tail calls between the tiers stays in constant native stack. */
whirl_error_t *exec_call_interpreted(whirl_store_t *store, whirl_func_t *func,
                                     const whirl_val_t *args, whirl_val_t *results);

/* Frees a store's execution stack (NULL is fine). */
void exec_stack_free(struct exec_stack *stack);

#endif
