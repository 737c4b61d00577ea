/* The auto tier (jit_tier.c): functions the interpreter's counters found
 * hot are compiled on the engine's background threads (a small pool,
 * started on the first hot function) and published into the module's
 * compiled functions (runtime/tier.c), so calls from then on run native
 * code. An invocation already running in the interpreter moves into
 * native code at a loop header (on-stack replacement, jit_osr.c). */
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
/* The same at a back-edge to the loop header at code position `pc`, in the
 * interpreter frame `frame` (compared, never read): may ask for the
 * variant entered at that loop (jit_osr.c) and returns its entry once
 * built (NULL meanwhile, or if it cannot be built). */
native_entry_t tier_auto_loop_hot(whirl_module_t *module, const compiled_func_t *f, uint32_t pc,
                                  const void *frame);
/* Whether nothing of `module` is queued or being compiled (tests). */
bool tier_auto_idle(whirl_module_t *module);
/* How many interpreter frames of `module` moved into native code. */
uint64_t tier_auto_osr_entered(const whirl_module_t *module);
/* Stops and joins the engine's compile threads. */
void tier_auto_engine_free(whirl_engine_t *engine);

/* Publishes the native code of `code` into `module`'s functions
 * (runtime/tier.c). */
void tier_publish(whirl_module_t *module, const jit_code_t *code);

#endif
