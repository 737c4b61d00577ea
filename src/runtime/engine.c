/* The engine: configuration, the interpreter's handler table for the
 * compiler, and the epoch counter. */
#include <stdlib.h>

#include "exec/exec.h"
#include "runtime/internal.h"

whirl_error_t *whirl_engine_new(whirl_config_t *config, whirl_engine_t **out)
{
    if (!out) {
        whirl_config_delete(config);
        return error_fmt("whirl_engine_new: out is NULL");
    }
    *out = NULL;
    whirl_engine_t *engine = calloc(1, sizeof *engine);
    if (!engine) {
        whirl_config_delete(config);
        return error_oom();
    }
    if (config)
        engine->config = *config;
    else
        engine->config.max_wasm_stack = WHIRL_DEFAULT_MAX_WASM_STACK;
    whirl_config_delete(config);
    engine->handlers = exec_handler_table();
    atomic_init(&engine->epoch, 0);
    *out = engine;
    return NULL;
}

void whirl_engine_delete(whirl_engine_t *engine) { free(engine); }

void whirl_engine_increment_epoch(whirl_engine_t *engine)
{
    if (engine)
        atomic_fetch_add_explicit(&engine->epoch, 1, memory_order_relaxed);
}

void whirl_store_set_epoch_deadline(whirl_store_t *store, uint64_t ticks_beyond_current)
{
    if (!store)
        return;
    uint64_t now = atomic_load_explicit(&store->engine->epoch, memory_order_relaxed);
    /* Saturate: a deadline past UINT64_MAX is no deadline at all. */
    store->epoch_deadline =
        ticks_beyond_current > UINT64_MAX - now ? UINT64_MAX : now + ticks_beyond_current;
}

void whirl_store_clear_epoch_deadline(whirl_store_t *store)
{
    if (store)
        store->epoch_deadline = UINT64_MAX;
}
