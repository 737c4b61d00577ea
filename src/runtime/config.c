/* Engine configuration: the knob table, parsing of values from the API and
 * the environment, and the listing behind `whirl config`.
 *
 * Each knob is one row of `knobs` below: its name, its environment
 * variables (whirl's, and Spin's where Spin has one, so a Spin deployment's
 * environment carries over unchanged), how its value is written, its
 * default and its range. Values live in config->values[] with their source
 * in config->source[]. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc/alloc.h"
#include "runtime/internal.h"
#include "util/units.h"

typedef enum knob_type {
    KT_COUNT,    /* decimal integer */
    KT_BYTES,    /* decimal integer with an optional binary suffix */
    KT_BOOL,
    KT_DURATION, /* stored in microseconds */
    KT_PATH,
    KT_TIER,     /* auto, interp or jit: whirl_tier_t */
} knob_type_t;

typedef struct knob_def {
    const char *name, *env, *spin_env;
    knob_type_t type;
    uint64_t def;         /* default, unless derived */
    uint32_t derive;      /* nonzero: default is derive x max_instance_count */
    uint64_t min, max;    /* accepted range */
    const char *doc;
} knob_def_t;

#define KIB ((uint64_t)1 << 10)
#define MIB ((uint64_t)1 << 20)
#define GIB ((uint64_t)1 << 30)
#define MAX_COUNT 10000000u

static const knob_def_t knobs[KNOB_COUNT] = {
    [WHIRL_POOL_MAX_INSTANCE_COUNT] = {"max_instance_count", "WHIRL_MAX_INSTANCE_COUNT",
                                       "SPIN_MAX_INSTANCE_COUNT", KT_COUNT, 1000, 0, 0,
                                       1000000, "base of the derived pool sizes"},
    [WHIRL_POOL_INSTANCE_COUNT] = {"instance_count", "WHIRL_INSTANCE_COUNT",
                                   "SPIN_WASMTIME_INSTANCE_COUNT", KT_COUNT, 0, 1, 0, MAX_COUNT,
                                   "stores holding pooled instances at once"},
    [WHIRL_POOL_TOTAL_MEMORIES] = {"total_memories", "WHIRL_TOTAL_MEMORIES",
                                   "SPIN_WASMTIME_TOTAL_MEMORIES", KT_COUNT, 0, 1, 0, MAX_COUNT,
                                   "linear memory slots in the pool"},
    [WHIRL_POOL_TOTAL_TABLES] = {"total_tables", "WHIRL_TOTAL_TABLES",
                                 "SPIN_WASMTIME_TOTAL_TABLES", KT_COUNT, 0, 2, 0, MAX_COUNT,
                                 "table slots in the pool"},
    [WHIRL_POOL_TOTAL_STACKS] = {"total_stacks", "WHIRL_TOTAL_STACKS",
                                 "SPIN_WASMTIME_TOTAL_STACKS", KT_COUNT, 0, 1, 0, MAX_COUNT,
                                 "interpreter stack slots in the pool (one per store)"},
    [WHIRL_POOL_TOTAL_CORE_INSTANCES] = {"total_core_instances", "WHIRL_TOTAL_CORE_INSTANCES",
                                         "SPIN_WASMTIME_TOTAL_CORE_INSTANCES", KT_COUNT, 0, 4, 0,
                                         MAX_COUNT, "instance state slots in the pool"},
    [WHIRL_POOL_INSTANCE_TABLE_ELEMENTS] = {"instance_table_elements",
                                            "WHIRL_INSTANCE_TABLE_ELEMENTS",
                                            "SPIN_WASMTIME_INSTANCE_TABLE_ELEMENTS", KT_COUNT,
                                            100000, 0, 0, TABLE_MAX_ENTRIES,
                                            "entries a pooled table may hold"},
    [WHIRL_POOL_INSTANCE_SIZE] = {"instance_size", "WHIRL_INSTANCE_SIZE",
                                  "SPIN_WASMTIME_INSTANCE_SIZE", KT_BYTES, 10 * MIB, 0, 0,
                                  1024 * GIB, "instance state bytes per store"},
    [WHIRL_POOL_CORE_INSTANCE_SIZE] = {"core_instance_size", "WHIRL_CORE_INSTANCE_SIZE",
                                       "SPIN_WASMTIME_CORE_INSTANCE_SIZE", KT_BYTES, 10 * MIB, 0,
                                       0, GIB, "instance state bytes per instance"},
    [WHIRL_POOL_CORE_INSTANCE_COUNT] = {"core_instance_count", "WHIRL_CORE_INSTANCE_COUNT",
                                        "SPIN_WASMTIME_CORE_INSTANCE_COUNT", KT_COUNT, 200, 0, 0,
                                        MAX_COUNT, "instances per store"},
    [WHIRL_POOL_INSTANCE_TABLES] = {"instance_tables", "WHIRL_INSTANCE_TABLES",
                                    "SPIN_WASMTIME_INSTANCE_TABLES", KT_COUNT, 64, 0, 0,
                                    MAX_COUNT, "tables per store"},
    [WHIRL_POOL_INSTANCE_MEMORIES] = {"instance_memories", "WHIRL_INSTANCE_MEMORIES",
                                      "SPIN_WASMTIME_INSTANCE_MEMORIES", KT_COUNT, 32, 0, 0,
                                      MAX_COUNT, "memories per store"},
    [WHIRL_POOL_MAX_TABLES_PER_MODULE] = {"max_tables_per_module",
                                          "WHIRL_MAX_TABLES_PER_MODULE",
                                          "SPIN_WASMTIME_MAX_TABLES_PER_MODULE", KT_COUNT, 2, 0,
                                          0, MAX_COUNT, "tables a module may define"},
    [WHIRL_POOL_MAX_MEMORIES_PER_MODULE] = {"max_memories_per_module",
                                            "WHIRL_MAX_MEMORIES_PER_MODULE",
                                            "SPIN_WASMTIME_MAX_MEMORIES_PER_MODULE", KT_COUNT, 2,
                                            0, 0, MAX_COUNT, "memories a module may define"},
    [WHIRL_POOL_LINEAR_MEMORY_KEEP_RESIDENT] = {"linear_memory_keep_resident",
                                                "WHIRL_LINEAR_MEMORY_KEEP_RESIDENT",
                                                "SPIN_WASMTIME_LINEAR_MEMORY_KEEP_RESIDENT",
                                                KT_BYTES, 16 * MIB, 0, 0, 4 * GIB,
                                                "memory bytes restored in place on slot reuse"},
    [WHIRL_POOL_TABLE_KEEP_RESIDENT] = {"table_keep_resident", "WHIRL_TABLE_KEEP_RESIDENT",
                                        "SPIN_WASMTIME_TABLE_KEEP_RESIDENT", KT_BYTES, 512 * KIB,
                                        0, 0, 4 * GIB, "table bytes zeroed in place on reuse"},
    [WHIRL_POOL_MAX_MEMORY_SIZE] = {"max_memory_size", "WHIRL_MAX_MEMORY_SIZE", NULL, KT_BYTES,
                                    4 * GIB, 0, 0, 4 * GIB,
                                    "bytes one linear memory may reach"},
    [WHIRL_POOL_MAX_UNUSED_WARM_SLOTS] = {"max_unused_warm_slots", "WHIRL_MAX_UNUSED_WARM_SLOTS",
                                          NULL, KT_COUNT, 16, 0, 0, MAX_COUNT,
                                          "free memory slots that keep their resident bytes"},
    [KNOB_POOLING] = {"pooling", "WHIRL_POOLING", "SPIN_WASMTIME_POOLING", KT_BOOL, 0, 0, 0, 1,
                      "pooling allocator (default: address-space probe)"},
    [KNOB_EPOCH_INTERVAL] = {"epoch_interval", "WHIRL_EPOCH_INTERVAL", NULL, KT_DURATION, 10000,
                             0, 0, 60000000, "epoch ticker interval (0: no ticker)"},
    [KNOB_MAX_WASM_STACK] = {"max_wasm_stack", "WHIRL_MAX_WASM_STACK", NULL, KT_BYTES,
                             WHIRL_DEFAULT_MAX_WASM_STACK, 0, 4 * KIB, GIB,
                             "guest stack bytes per call into wasm"},
    [KNOB_DEBUG_INFO] = {"debug_info", "WHIRL_DEBUG_INFO", NULL, KT_BOOL, 0, 0, 0, 1,
                         "unoptimised code with names and offsets for backtraces"},
    [KNOB_CACHE] = {"cache", "WHIRL_CACHE", NULL, KT_PATH, 0, 0, 0, 0,
                    "compilation cache directory (empty: off)"},
    [KNOB_CACHE_MAX_SIZE] = {"cache_max_size", "WHIRL_CACHE_MAX_SIZE", NULL, KT_BYTES,
                             512 * MIB, 0, 0, 1024 * GIB,
                             "compilation cache bound (least recently used entries go)"},
    /* Not the engine's: the WASI hosts read the variable for each context
     * the embedder gives no value (src/wasi/limits.c); listed here so that
     * `whirl config` shows it and a bad value fails engine creation. */
    [KNOB_MAX_OPEN_FILES] = {"max_open_files", "WHIRL_MAX_OPEN_FILES", NULL, KT_COUNT, 0, 0, 0,
                             1000000, "descriptors one WASI guest may hold (0: a quarter of "
                             "RLIMIT_NOFILE, 16 to 4096)"},
    [KNOB_ASYNC_STACK_SIZE] = {"async_stack_size", "WHIRL_ASYNC_STACK_SIZE", NULL, KT_BYTES,
                               2 * MIB, 0, 128 * KIB, GIB,
                               "fiber stack of a resumable call (whirl/async.h)"},
    [KNOB_TIER] = {"tier", "WHIRL_TIER", NULL, KT_TIER, WHIRL_TIER_AUTO, 0, 0, WHIRL_TIER_JIT,
#ifdef WHIRL_HAVE_JIT
                   "auto (interpreter, hot functions compiled), interp or jit (all compiled)"},
#else
                   "auto or interp (this build has no LLVM tier: both interpret)"},
#endif

    [KNOB_TIER_THRESHOLD] = {"tier_threshold", "WHIRL_TIER_THRESHOLD", NULL, KT_COUNT, 1000, 0,
                             1, 1000000000,
                             "tier=auto: calls and loop iterations of a function before it is "
                             "compiled"},
    [KNOB_COMPILE_THREADS] = {"compile_threads", "WHIRL_COMPILE_THREADS", NULL, KT_COUNT, 0, 0,
                              0, 64,
                              "tier=jit: threads compiling a module's parts at once (0: one per "
                              "core, at most 4)"},
    [KNOB_FEATURE_FIRST + WHIRL_FEATURE_TAIL_CALL] = {
        "tail_call", "WHIRL_FEATURE_TAIL_CALL", NULL, KT_BOOL, 1, 0, 0, 1,
        "tail calls (return_call, return_call_indirect)"},
    [KNOB_FEATURE_FIRST + WHIRL_FEATURE_EXTENDED_CONST] = {
        "extended_const", "WHIRL_FEATURE_EXTENDED_CONST", NULL, KT_BOOL, 1, 0, 0, 1,
        "extended constant expressions (i32/i64 add, sub, mul)"},
    [KNOB_FEATURE_FIRST + WHIRL_FEATURE_FUNCTION_REFERENCES] = {
        "function_references", "WHIRL_FEATURE_FUNCTION_REFERENCES", NULL, KT_BOOL, 1, 0, 0, 1,
        "typed function references (so far ref.as_non_null, br_on_null, br_on_non_null)"},
    [KNOB_FEATURE_FIRST + WHIRL_FEATURE_MULTI_MEMORY] = {
        "multi_memory", "WHIRL_FEATURE_MULTI_MEMORY", NULL, KT_BOOL, 1, 0, 0, 1,
        "several memories per module"},
    [KNOB_FEATURE_FIRST + WHIRL_FEATURE_MEMORY64] = {
        "memory64", "WHIRL_FEATURE_MEMORY64", NULL, KT_BOOL, 1, 0, 0, 1,
        "64-bit memories (64-bit tables: not implemented yet)"},
    [KNOB_FEATURE_FIRST + WHIRL_FEATURE_RELAXED_SIMD] = {
        "relaxed_simd", "WHIRL_FEATURE_RELAXED_SIMD", NULL, KT_BOOL, 1, 0, 0, 1,
        "relaxed SIMD (0xfd 0x100-0x113), deterministic results"},
    [KNOB_FEATURE_FIRST + WHIRL_FEATURE_EXCEPTIONS] = {
        "exceptions", "WHIRL_FEATURE_EXCEPTIONS", NULL, KT_BOOL, 1, 0, 0, 1,
        "exception handling (tags, throw, throw_ref, try_table, exnref)"},
    [KNOB_FEATURE_FIRST + WHIRL_FEATURE_THREADS] = {
        "threads", "WHIRL_FEATURE_THREADS", NULL, KT_BOOL, 1, 0, 0, 1,
        "threads (shared memories, atomics, memory.atomic.wait/notify, atomic.fence)"},
    [KNOB_PERFMAP] = {"perfmap", "WHIRL_PERFMAP", NULL, KT_BOOL, 0, 0, 0, 1,
                      "list native code in /tmp/perf-PID.map for perf (LLVM tier)"},
    [KNOB_JITDUMP] = {"jitdump", "WHIRL_JITDUMP", NULL, KT_BOOL, 0, 0, 0, 1,
                      "write native code to /tmp/jit-PID.dump for perf inject (LLVM tier)"},
};

static const char *const tier_names[] = {"auto", "interp", "jit"};

/* Shortest accepted epoch interval: a ticker waking more often than this
 * would cost more than the interruption is worth. */
#define MIN_EPOCH_INTERVAL_US 100

whirl_config_t *whirl_config_new(void)
{
    whirl_config_t *config = calloc(1, sizeof *config);
    if (!config)
        return NULL;
    for (int k = 0; k < KNOB_COUNT; k++)
        config->values[k] = knobs[k].def;
    config->max_wasm_stack = WHIRL_DEFAULT_MAX_WASM_STACK;
    config->use_env = true;
    config_resolve(config);
    return config;
}

void whirl_config_delete(whirl_config_t *config)
{
    if (!config)
        return;
    free(config->cache_path);
    free(config);
}

void config_resolve(whirl_config_t *config)
{
    uint64_t base = config->values[WHIRL_POOL_MAX_INSTANCE_COUNT];
    for (int k = 0; k < KNOB_COUNT; k++)
        if (knobs[k].derive && config->source[k] == SRC_DEFAULT)
            config->values[k] = base * knobs[k].derive;
    config->max_wasm_stack = (size_t)config->values[KNOB_MAX_WASM_STACK];
}

void config_move(whirl_config_t *dst, whirl_config_t *src)
{
    *dst = *src;
    src->cache_path = NULL;
}

/* ---- parsing ---- */

static bool parse_u64(const char **p, uint64_t *out)
{
    const char *s = *p;
    if (!isdigit((unsigned char)*s))
        return false;
    uint64_t v = 0;
    for (; isdigit((unsigned char)*s); s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *p = s;
    *out = v;
    return true;
}

static bool suffix_is(const char *s, const char *a, const char *b, const char *c)
{
    return (a && strcasecmp(s, a) == 0) || (b && strcasecmp(s, b) == 0) ||
           (c && strcasecmp(s, c) == 0);
}

/* Parses `text` as a value of knob `k`. On failure returns false with the
 * expected form in `why`. */
static bool parse_knob(int k, const char *text, uint64_t *out, char *why, size_t why_len)
{
    const knob_def_t *d = &knobs[k];
    const char *p = text;
    uint64_t v = 0;
    switch (d->type) {
    case KT_PATH:
        *out = 0;
        return true;
    case KT_TIER:
        for (uint64_t t = 0; t <= WHIRL_TIER_JIT; t++)
            if (strcasecmp(text, tier_names[t]) == 0) {
#ifndef WHIRL_HAVE_JIT
                if (t == WHIRL_TIER_JIT) {
                    snprintf(why, why_len, "whirl was built without the LLVM tier "
                                           "(-DWHIRL_JIT=OFF): auto or interp");
                    return false;
                }
#endif
                *out = t;
                return true;
            }
        snprintf(why, why_len, "expected auto, interp or jit");
        return false;
    case KT_BOOL:
        if (suffix_is(text, "1", "y", "yes") || suffix_is(text, "true", "on", NULL))
            v = 1;
        else if (suffix_is(text, "0", "n", "no") || suffix_is(text, "false", "off", NULL))
            v = 0;
        else {
            snprintf(why, why_len, "expected a boolean (1/0, y/n, yes/no, true/false, on/off)");
            return false;
        }
        *out = v;
        return true;
    case KT_COUNT:
        if (!parse_u64(&p, &v) || *p) {
            snprintf(why, why_len, "expected a decimal integer from %llu to %llu",
                     (unsigned long long)d->min, (unsigned long long)d->max);
            return false;
        }
        break;
    case KT_BYTES:
    case KT_DURATION: {
        /* The public parsers, so that the CLI's options and the
         * environment read a value the same way. */
        const char *reason;
        if (!(d->type == KT_BYTES ? units_parse_size(text, &v, &reason)
                                  : units_parse_duration(text, &v, &reason))) {
            snprintf(why, why_len, "%s", reason);
            return false;
        }
        if (d->type == KT_BYTES)
            break;
        v /= 1000; /* stored in microseconds */
        if ((v && v < MIN_EPOCH_INTERVAL_US) || v > d->max) {
            snprintf(why, why_len, "out of range: 0 (no ticker) or from %uus to %llus",
                     MIN_EPOCH_INTERVAL_US, (unsigned long long)(d->max / 1000000));
            return false;
        }
        break;
    }
    }
    if (v < d->min || v > d->max) {
        snprintf(why, why_len, "out of range (%llu to %llu)", (unsigned long long)d->min,
                 (unsigned long long)d->max);
        return false;
    }
    *out = v;
    return true;
}

/* Stores an accepted value. Path knobs take `text`; false if out of
 * memory. */
static bool store_value(whirl_config_t *config, int k, uint64_t v, const char *text,
                        enum config_source src)
{
    if (knobs[k].type == KT_PATH) {
        char *copy = NULL;
        if (text && *text && !(copy = strdup(text)))
            return false;
        free(config->cache_path);
        config->cache_path = copy;
    }
    config->values[k] = v;
    config->source[k] = (uint8_t)src;
    config_resolve(config);
    return true;
}

/* The knob called `name`, '-' standing for '_', any case; -1 if none. */
static int knob_by_name(const char *name)
{
    for (int k = 0; k < KNOB_COUNT; k++) {
        const char *a = knobs[k].name, *b = name;
        while (*a && *b && (*a == *b || (*a == '_' && *b == '-') ||
                            tolower((unsigned char)*b) == *a)) {
            a++;
            b++;
        }
        if (!*a && !*b)
            return k;
    }
    return -1;
}

whirl_error_t *whirl_config_set(whirl_config_t *config, const char *name, const char *value)
{
    if (!config || !name || !value)
        return error_fmt("whirl_config_set: config, name or value is NULL");
    int k = knob_by_name(name);
    if (k < 0)
        return error_fmt("unknown config knob \"%s\"", name);
    uint64_t v;
    char why[320];
    if (!parse_knob(k, value, &v, why, sizeof why))
        return error_fmt("invalid value \"%s\" for %s: %s", value, knobs[k].name, why);
    return store_value(config, k, v, value, SRC_API) ? NULL : error_oom();
}

static whirl_error_t *set_number(whirl_config_t *config, int k, uint64_t v, const char *unit)
{
    if (!config)
        return error_fmt("config is NULL");
    if (v < knobs[k].min || v > knobs[k].max)
        return error_fmt("%s of %llu%s is out of range (%llu to %llu)", knobs[k].name,
                         (unsigned long long)v, unit, (unsigned long long)knobs[k].min,
                         (unsigned long long)knobs[k].max);
    store_value(config, k, v, NULL, SRC_API);
    return NULL;
}

whirl_error_t *whirl_config_pool_limit_set(whirl_config_t *config, whirl_pool_limit_t limit,
                                           uint64_t value)
{
    if ((unsigned)limit >= WHIRL_POOL_LIMIT_COUNT)
        return error_fmt("whirl_config_pool_limit_set: invalid limit %d", (int)limit);
    return set_number(config, (int)limit, value, "");
}

whirl_error_t *whirl_config_max_wasm_stack_set(whirl_config_t *config, size_t bytes)
{
    if (!config)
        return error_fmt("whirl_config_max_wasm_stack_set: config is NULL");
    if (bytes < 4096 || bytes > ((size_t)1 << 30))
        return error_fmt("max wasm stack of %zu bytes is out of range (4 KiB to 1 GiB)", bytes);
    store_value(config, KNOB_MAX_WASM_STACK, bytes, NULL, SRC_API);
    return NULL;
}

whirl_error_t *whirl_config_epoch_interval_set(whirl_config_t *config, uint64_t micros)
{
    if (config && micros && micros < MIN_EPOCH_INTERVAL_US)
        return error_fmt("epoch_interval of %lluus is too short (0, or at least %uus)",
                         (unsigned long long)micros, MIN_EPOCH_INTERVAL_US);
    return set_number(config, KNOB_EPOCH_INTERVAL, micros, "us");
}

void whirl_config_pooling_set(whirl_config_t *config, bool enable)
{
    if (config)
        store_value(config, KNOB_POOLING, enable, NULL, SRC_API);
}

whirl_error_t *whirl_config_tier_set(whirl_config_t *config, whirl_tier_t tier)
{
    if (!config)
        return error_fmt("whirl_config_tier_set: config is NULL");
    if ((unsigned)tier > WHIRL_TIER_JIT)
        return error_fmt("whirl_config_tier_set: invalid tier %d (auto, interp or jit)", (int)tier);
#ifndef WHIRL_HAVE_JIT
    if (tier == WHIRL_TIER_JIT)
        return error_fmt("whirl_config_tier_set: tier jit: whirl was built without the LLVM "
                         "tier (-DWHIRL_JIT=OFF)");
#endif
    store_value(config, KNOB_TIER, (uint64_t)tier, NULL, SRC_API);
    return NULL;
}

whirl_error_t *whirl_config_feature_set(whirl_config_t *config, whirl_feature_t feature,
                                        bool enable)
{
    if (!config)
        return error_fmt("whirl_config_feature_set: config is NULL");
    if ((unsigned)feature >= WHIRL_FEATURE_COUNT)
        return error_fmt("whirl_config_feature_set: unknown feature %d", (int)feature);
    store_value(config, KNOB_FEATURE_FIRST + feature, enable, NULL, SRC_API);
    return NULL;
}

uint32_t engine_wasm_features(const whirl_engine_t *engine)
{
    static const uint32_t bits[WHIRL_FEATURE_COUNT] = {
        [WHIRL_FEATURE_TAIL_CALL] = WASM_FEATURE_TAIL_CALL,
        [WHIRL_FEATURE_EXTENDED_CONST] = WASM_FEATURE_EXTENDED_CONST,
        [WHIRL_FEATURE_FUNCTION_REFERENCES] = WASM_FEATURE_FUNCTION_REFERENCES,
        [WHIRL_FEATURE_MULTI_MEMORY] = WASM_FEATURE_MULTI_MEMORY,
        [WHIRL_FEATURE_MEMORY64] = WASM_FEATURE_MEMORY64,
        [WHIRL_FEATURE_RELAXED_SIMD] = WASM_FEATURE_RELAXED_SIMD,
        [WHIRL_FEATURE_EXCEPTIONS] = WASM_FEATURE_EXCEPTIONS,
        [WHIRL_FEATURE_THREADS] = WASM_FEATURE_THREADS,
    };
    uint32_t mask = 0;
    for (int f = 0; f < WHIRL_FEATURE_COUNT; f++)
        if (ENGINE_KNOB(engine, KNOB_FEATURE_FIRST + f))
            mask |= bits[f];
    return mask;
}

void whirl_config_debug_info_set(whirl_config_t *config, bool enable)
{
    if (config)
        store_value(config, KNOB_DEBUG_INFO, enable, NULL, SRC_API);
}

whirl_error_t *whirl_config_cache_set(whirl_config_t *config, const char *path)
{
    if (!config)
        return error_fmt("whirl_config_cache_set: config is NULL");
    return store_value(config, KNOB_CACHE, 0, path, SRC_API) ? NULL : error_oom();
}

void whirl_config_use_env(whirl_config_t *config, bool use)
{
    if (config)
        config->use_env = use;
}

void whirl_config_log_set(whirl_config_t *config, whirl_log_callback_t callback, void *env)
{
    if (!config)
        return;
    config->log = callback;
    config->log_env = env;
}

/* ---- environment ---- */

whirl_error_t *whirl_config_load_env(whirl_config_t *config)
{
    if (!config)
        return error_fmt("whirl_config_load_env: config is NULL");
    /* Parse everything before changing anything, so that a bad value
     * leaves the config as it was. */
    struct {
        const char *text;
        uint64_t value;
        enum config_source src;
    } found[KNOB_COUNT] = {{0}};
    for (int k = 0; k < KNOB_COUNT; k++) {
        if (config->source[k] == SRC_API)
            continue;
        const char *var = knobs[k].env;
        const char *text = getenv(var);
        enum config_source src = SRC_ENV_WHIRL;
        if (!text && knobs[k].spin_env) {
            var = knobs[k].spin_env;
            text = getenv(var);
            src = SRC_ENV_SPIN;
        }
        if (!text)
            continue;
        char why[320];
        if (!parse_knob(k, text, &found[k].value, why, sizeof why))
            return error_fmt("invalid value \"%s\" in environment variable %s: %s", text, var,
                             why);
        found[k].text = text;
        found[k].src = src;
    }
    for (int k = 0; k < KNOB_COUNT; k++)
        if (found[k].text && !store_value(config, k, found[k].value, found[k].text,
                                          found[k].src))
            return error_oom();
    return NULL;
}

/* ---- listing ---- */

size_t whirl_config_item_count(void) { return KNOB_COUNT; }

static void format_value(const whirl_config_t *config, int k, uint64_t v, char *buf,
                         size_t len)
{
    switch (knobs[k].type) {
    case KT_COUNT:
    case KT_BYTES: snprintf(buf, len, "%llu", (unsigned long long)v); break;
    case KT_BOOL: snprintf(buf, len, "%s", v ? "y" : "n"); break;
    case KT_DURATION:
        if (v == 0)
            snprintf(buf, len, "0");
        else if (v % 1000000 == 0)
            snprintf(buf, len, "%llus", (unsigned long long)(v / 1000000));
        else if (v % 1000 == 0)
            snprintf(buf, len, "%llums", (unsigned long long)(v / 1000));
        else
            snprintf(buf, len, "%lluus", (unsigned long long)v);
        break;
    case KT_PATH: snprintf(buf, len, "%s", config->cache_path ? config->cache_path : ""); break;
    case KT_TIER: snprintf(buf, len, "%s", v <= WHIRL_TIER_JIT ? tier_names[v] : "?"); break;
    }
}

bool whirl_config_item(const whirl_config_t *config, size_t index, whirl_config_item_t *out)
{
    if (!config || !out || index >= KNOB_COUNT)
        return false;
    int k = (int)index;
    const knob_def_t *d = &knobs[k];
    memset(out, 0, sizeof *out);
    out->name = d->name;
    out->env = d->env;
    out->spin_env = d->spin_env;
    out->description = d->doc;
    uint64_t v = config->values[k];
    switch ((enum config_source)config->source[k]) {
    case SRC_DEFAULT:
        if (k == KNOB_POOLING) {
            v = alloc_probe_pooling();
            snprintf(out->source, sizeof out->source, "probe");
        } else if (d->derive == 1) {
            snprintf(out->source, sizeof out->source, "default (max_instance_count)");
        } else if (d->derive) {
            snprintf(out->source, sizeof out->source, "default (%u x max_instance_count)",
                     d->derive);
        } else {
            snprintf(out->source, sizeof out->source, "default");
        }
        break;
    case SRC_PROBE: snprintf(out->source, sizeof out->source, "probe"); break;
    case SRC_ENV_SPIN: snprintf(out->source, sizeof out->source, "env %s", d->spin_env); break;
    case SRC_ENV_WHIRL: snprintf(out->source, sizeof out->source, "env %s", d->env); break;
    case SRC_API: snprintf(out->source, sizeof out->source, "api"); break;
    }
    format_value(config, k, v, out->value, sizeof out->value);
    return true;
}

whirl_error_t *whirl_config_enable_cache(whirl_config_t *config, const char *dir)
{
    if (!config)
        return error_fmt("whirl_config_enable_cache: config is NULL");
    if (dir && dir[0])
        return whirl_config_cache_set(config, dir);
    char *def;
    whirl_error_t *err = whirl_cache_default_dir(&def);
    if (err)
        return err;
    err = whirl_config_cache_set(config, def);
    free(def);
    return err;
}
