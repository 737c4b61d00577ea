/* Per-file counts of the functions the LLVM tier compiled and of those it
 * left to the interpreter (with the reason), for the spec runners in
 * tier=jit: a run that passes because every function stayed interpreted
 * must not look like a pass of the compiler (tests/spec/run-wasm3 --jit). */
#ifndef WHIRL_SPEC_JIT_STATS_H
#define WHIRL_SPEC_JIT_STATS_H

#include <stdio.h>

#include "whirl.h"

/* Counts the defined functions of `module` (native code or not). */
void spec_jit_stats_add(const whirl_module_t *module);
/* Prints "  jit-functions: C compiled, I interpreted" and one
 * "  jit-interpreted: REASON: N" line per reason, then resets the counts. */
void spec_jit_stats_print(FILE *out);

#endif
