/* The auto tier (jit_tier.c): hot functions, found by the interpreter's
 * counters, compiled on the engine's background threads and published
 * into the module's compiled functions (runtime/tier.c publishes, the
 * interpreter picks the native code up on the next call). */
#ifndef WHIRL_JIT_TIER_H
#define WHIRL_JIT_TIER_H

#include "runtime/runtime.h"

/* Prepares `module` for tiering up (its per-function queue state). */
void tier_auto_module(whirl_module_t *module);
/* Waits for compilations of `module` in flight, then frees its state. */
void tier_auto_module_free(whirl_module_t *module);
/* `f` (of `module`) crossed the hotness threshold: queue it once. */
void tier_auto_hot(whirl_module_t *module, const compiled_func_t *f);

#endif
