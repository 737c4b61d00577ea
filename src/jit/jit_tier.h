/* The auto tier (jit_tier.c): functions the interpreter's counters found
 * hot are compiled on the engine's background threads (a small pool,
 * started on the first hot function) and published into the module's
 * compiled functions (runtime/tier.c), so calls from then on run native
 * code. No on-stack replacement: an invocation already running in the
 * interpreter finishes there. */
#ifndef WHIRL_JIT_TIER_H
#define WHIRL_JIT_TIER_H

#include "jit/jit.h"
#include "runtime/runtime.h"

/* Makes each function of `module` a candidate (its hotness counter). */
void tier_auto_module(whirl_module_t *module);
/* Drops the module's queued compilations, waits for one in flight, frees
 * its native code. */
void tier_auto_module_free(whirl_module_t *module);
/* `f` (of `module`) crossed the threshold: queue it, once. */
void tier_auto_hot(whirl_module_t *module, const compiled_func_t *f);
/* Stops and joins the engine's compile threads. */
void tier_auto_engine_free(whirl_engine_t *engine);

/* Publishes the native code of `code` into `module`'s functions
 * (runtime/tier.c). */
void tier_publish(whirl_module_t *module, const jit_code_t *code);

#endif
