/* The interpreter's interface to the rest of the engine. */
#ifndef WHIRL_EXEC_H
#define WHIRL_EXEC_H

#include "runtime/runtime.h"

/* The handler word of each internal op (ops.h), for the compiler. */
const code_word_t *exec_handler_table(void);

/* Calls `func` (wasm or host) with `args`, writing `results`. Counts and
 * kinds have been checked by the caller. Traps come back as trap errors
 * with a backtrace. Re-entrant: a host function may call back into wasm. */
whirl_error_t *exec_call(whirl_store_t *store, whirl_func_t *func, const whirl_val_t *args,
                         whirl_val_t *results);

/* Frees a store's execution stack (NULL is fine). */
void exec_stack_free(struct exec_stack *stack);

#endif
