/* Host pieces shared by the spec-test runner and the mutation smoke test:
 * the `spectest` module the spec tests import, and an epoch ticker thread. */
#ifndef WHIRL_TESTS_SPECTEST_H
#define WHIRL_TESTS_SPECTEST_H

#include "whirl.h"

/* The objects of the spec tests' `spectest` module, all owned by one store:
 * the print functions (they print nothing), the immutable globals
 * global_i32/global_i64 = 666 and global_f32/global_f64 = 666.6, a funcref
 * table (min 10, max 20), the same as a 64-bit table (table64) and a
 * memory (min 1, max 2). */
#define SPECTEST_EXPORTS 15
typedef struct spectest {
    whirl_store_t *store; /* NULL until created */
    const char *names[SPECTEST_EXPORTS];
    whirl_extern_t externs[SPECTEST_EXPORTS];
} spectest_t;

/* Defines every spectest export in `linker`. The objects are created in
 * `store` on the first call and reused by later calls with the same `cache`,
 * so linkers rebuilt for the same store share one spectest memory and table.
 * The caller zero-initialises `cache` for each new store. The linker may
 * then only instantiate into that store. Returns NULL or an error owned by the caller. */
whirl_error_t *spectest_define(whirl_linker_t *linker, whirl_engine_t *engine, whirl_store_t *store,
                               spectest_t *cache);

/* A thread that calls whirl_engine_increment_epoch(engine) every
 * `interval_ms` milliseconds until stopped. */
typedef struct ticker ticker_t;

/* Returns NULL if the thread cannot be started. */
ticker_t *ticker_start(whirl_engine_t *engine, unsigned interval_ms);
/* Stops and joins the thread, then frees it. Accepts NULL. */
void ticker_stop(ticker_t *ticker);

#endif
