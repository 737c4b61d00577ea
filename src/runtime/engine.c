/* The engine: resolved configuration, the interpreter's handler table for
 * the compiler, the epoch counter and its ticker, the instance pool, and
 * the warning log. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "alloc/alloc.h"
#include "runtime/internal.h"

/* One interpreter stack slot: the slot array (max_wasm_stack bytes) plus
 * the frame array, which the interpreter sizes at one 32-byte record per
 * 32 bytes of stack (at least 64). Twice the stack plus slack covers both
 * with room to spare should the frame record grow; a request larger than
 * a slot falls back to the interpreter's own allocation anyway. */
static uint64_t stack_slot_bytes(uint64_t max_wasm_stack, uint64_t async_stack)
{
    uint64_t bytes = 2 * max_wasm_stack + 64 * 1024;
    /* Then a guard page and the fiber stack of the store's resumable
     * calls, at the slot's end (fiber_stack_in_region). */
    if (FIBER_SUPPORTED)
        bytes = alloc_round_up(bytes, alloc_page_size()) + fiber_stack_overhead() +
                alloc_round_up(async_stack, alloc_page_size());
    return bytes;
}

static whirl_error_t *create_pool(whirl_engine_t *engine)
{
    const uint64_t *v = engine->config.values;
    pool_limits_t limits = {
        .instance_count = v[WHIRL_POOL_INSTANCE_COUNT],
        .total_memories = v[WHIRL_POOL_TOTAL_MEMORIES],
        .total_tables = v[WHIRL_POOL_TOTAL_TABLES],
        .total_stacks = v[WHIRL_POOL_TOTAL_STACKS],
        .total_core_instances = v[WHIRL_POOL_TOTAL_CORE_INSTANCES],
        .table_elements = v[WHIRL_POOL_INSTANCE_TABLE_ELEMENTS],
        .core_instance_size = v[WHIRL_POOL_CORE_INSTANCE_SIZE],
        .stack_bytes = stack_slot_bytes(v[KNOB_MAX_WASM_STACK], v[KNOB_ASYNC_STACK_SIZE]),
        .memory_keep_resident = v[WHIRL_POOL_LINEAR_MEMORY_KEEP_RESIDENT],
        .table_keep_resident = v[WHIRL_POOL_TABLE_KEEP_RESIDENT],
        .max_warm_memories = v[WHIRL_POOL_MAX_UNUSED_WARM_SLOTS],
    };
    return pool_new(&limits, &engine->pool);
}

whirl_error_t *whirl_engine_new(whirl_config_t *config, whirl_engine_t **out)
{
    if (!out) {
        whirl_config_delete(config);
        return error_fmt("whirl_engine_new: out is NULL");
    }
    *out = NULL;
    if (!config && !(config = whirl_config_new()))
        return error_oom();
    whirl_error_t *err = NULL;
    if (config->use_env && (err = whirl_config_load_env(config))) {
        whirl_config_delete(config);
        return err;
    }
    whirl_engine_t *engine = calloc(1, sizeof *engine);
    if (!engine) {
        whirl_config_delete(config);
        return error_oom();
    }
    config_resolve(config);
    config_move(&engine->config, config);
    whirl_config_delete(config);
    atomic_init(&engine->epoch, 0);

    uint64_t *v = engine->config.values;
    uint8_t *src = engine->config.source;
    if (src[KNOB_POOLING] == SRC_DEFAULT) {
        v[KNOB_POOLING] = alloc_probe_pooling();
        src[KNOB_POOLING] = SRC_PROBE;
    }
    if (v[KNOB_POOLING] && (err = create_pool(engine))) {
        if (src[KNOB_POOLING] != SRC_PROBE) {
            const char *why = src[KNOB_POOLING] == SRC_API ? "set through the API"
                                                           : "set in the environment";
            whirl_engine_delete(engine);
            return error_prefix(err, "pooling is on (%s): ", why);
        }
        /* The probe said yes but the pool's own reservations are larger than
         * the probe's (limits raised, several engines): run on demand. */
        engine_log(engine, WHIRL_LOG_WARNING, "pooling_unavailable", "reason=\"%s\"",
                   whirl_error_message(err));
        whirl_error_delete(err);
        v[KNOB_POOLING] = 0;
    }
    if (v[KNOB_EPOCH_INTERVAL] &&
        (err = epoch_ticker_start(&engine->epoch, v[KNOB_EPOCH_INTERVAL], &engine->ticker))) {
        whirl_engine_delete(engine);
        return err;
    }
    *out = engine;
    return NULL;
}

void whirl_engine_delete(whirl_engine_t *engine)
{
    if (!engine)
        return;
    epoch_ticker_stop(engine->ticker);
    tier_engine_free(engine);
    pool_delete(engine->pool);
    free(engine->config.cache_path);
    free(engine);
}

const whirl_config_t *whirl_engine_config(const whirl_engine_t *engine)
{
    return engine ? &engine->config : NULL;
}

bool whirl_engine_pooling(const whirl_engine_t *engine) { return engine && engine->pool; }

void whirl_engine_pool_stats(const whirl_engine_t *engine, whirl_pool_stats_t *out)
{
    if (!out)
        return;
    *out = (whirl_pool_stats_t){0};
    if (!engine || !engine->pool)
        return;
    const pool_t *p = engine->pool;
    out->pooling = true;
    out->memories_in_use = pool_in_use(p, POOL_MEMORY);
    out->memories_total = pool_total(p, POOL_MEMORY);
    out->tables_in_use = pool_in_use(p, POOL_TABLE);
    out->tables_total = pool_total(p, POOL_TABLE);
    out->stacks_in_use = pool_in_use(p, POOL_STACK);
    out->stacks_total = pool_total(p, POOL_STACK);
    out->core_instances_in_use = pool_in_use(p, POOL_INSTANCE);
    out->core_instances_total = pool_total(p, POOL_INSTANCE);
    out->instances_in_use = pool_stores_in_use(p);
    out->instances_total = (uint32_t)ENGINE_KNOB(engine, WHIRL_POOL_INSTANCE_COUNT);
}

void engine_log(const whirl_engine_t *engine, whirl_log_level_t level, const char *event,
                const char *fields_fmt, ...)
{
    char fields[512];
    va_list ap;
    va_start(ap, fields_fmt);
    vsnprintf(fields, sizeof fields, fields_fmt, ap);
    va_end(ap);
    char message[600];
    snprintf(message, sizeof message, "%s%s%s", event, fields[0] ? " " : "", fields);
    if (engine->config.log) {
        engine->config.log(engine->config.log_env, level, event, message);
        return;
    }
    /* One fprintf per line, so concurrent warnings do not interleave. */
    fprintf(stderr, "whirl: %s: %s\n", level == WHIRL_LOG_WARNING ? "warning" : "info",
            message);
}
