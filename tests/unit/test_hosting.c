/* Hosting controls: configuration knobs through the API and the
 * environment (whirl's and Spin's names), the pooling allocator (slot
 * reuse, resets, keep-resident, limits), store limits and accounting,
 * epoch deadlines, and instance_pre. Threads: test_hosting_threads.c; the
 * address-space fallback: test_hosting_ulimit.c. */
#include <stdarg.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hosting_common.h"
#include "runtime/runtime.h"

/* ---- helpers ---- */

static bool item_named(const whirl_config_t *c, const char *name, whirl_config_item_t *out)
{
    for (size_t i = 0; i < whirl_config_item_count(); i++)
        if (whirl_config_item(c, i, out) && strcmp(out->name, name) == 0)
            return true;
    memset(out, 0, sizeof *out);
    return false;
}

/* The config after loading the environment with one variable set. */
static whirl_config_t *config_with_env(const char *var, const char *value)
{
    setenv(var, value, 1);
    whirl_config_t *c = whirl_config_new();
    CHECK_OK(whirl_config_load_env(c));
    unsetenv(var);
    return c;
}

/* An engine made with the environment read (one variable set), no ticker
 * unless the variable sets one, and pooling forced on unless the variable
 * decides it. */
static whirl_engine_t *engine_with_env(const char *var, const char *value)
{
    setenv(var, value, 1);
    whirl_config_t *c = whirl_config_new();
    if (!strstr(var, "EPOCH_INTERVAL"))
        whirl_config_epoch_interval_set(c, 0);
    if (!strstr(var, "POOLING"))
        whirl_config_pooling_set(c, true);
    whirl_engine_t *e = engine_of(c);
    unsetenv(var);
    return e;
}

/* Log events captured by the tests' log callback. */
static char last_event[64], last_message[600];
static int log_count;

static void capture_log(void *env, whirl_log_level_t level, const char *event,
                        const char *message)
{
    (void)env;
    (void)level;
    snprintf(last_event, sizeof last_event, "%s", event);
    snprintf(last_message, sizeof last_message, "%s", message);
    log_count++;
}

/* Instantiates `bytes` in a fresh store of `engine` and returns the error
 * (NULL on success); the store is deleted. */
static whirl_error_t *try_instantiate(whirl_engine_t *engine, const uint8_t *bytes, size_t len)
{
    whirl_module_t *m = load_module(engine, bytes, len);
    whirl_store_t *s = whirl_store_new(engine, NULL, NULL);
    whirl_instance_t *inst = NULL;
    whirl_error_t *err = m ? whirl_instance_new(s, m, NULL, 0, &inst) : whirl_error_new("no module");
    whirl_store_delete(s);
    whirl_module_delete(m);
    return err;
}
#define TRY(engine, bytes) try_instantiate((engine), (bytes), sizeof(bytes))

/* Instantiates `bytes` in two stores (both alive), or twice in one store
 * when `same_store`: returns the second instantiation's error. */
static whirl_error_t *second_instantiation(whirl_engine_t *engine, const uint8_t *bytes,
                                           size_t len, bool same_store)
{
    whirl_module_t *m = load_module(engine, bytes, len);
    if (!m)
        return whirl_error_new("no module");
    whirl_store_t *a = whirl_store_new(engine, NULL, NULL);
    whirl_store_t *b = same_store ? a : whirl_store_new(engine, NULL, NULL);
    whirl_instance_t *inst = NULL;
    CHECK_OK(whirl_instance_new(a, m, NULL, 0, &inst));
    whirl_error_t *err = whirl_instance_new(b, m, NULL, 0, &inst);
    if (b != a)
        whirl_store_delete(b);
    whirl_store_delete(a);
    whirl_module_delete(m);
    return err;
}
#define SECOND(engine, bytes, same) second_instantiation((engine), (bytes), sizeof(bytes), (same))

/* ---- config through the API ---- */

static void test_config_api(void)
{
    whirl_config_t *c = whirl_config_new();
    whirl_config_item_t it;
    CHECK(whirl_config_item_count() >= WHIRL_POOL_LIMIT_COUNT + 5);
    CHECK(!whirl_config_item(c, whirl_config_item_count(), &it));
    CHECK(!whirl_config_item(NULL, 0, &it));

    /* Defaults and derived defaults. */
    static const struct {
        const char *name, *value, *source;
    } defaults[] = {
        {"max_instance_count", "1000", "default"},
        {"instance_count", "1000", "default (max_instance_count)"},
        {"total_memories", "1000", "default (max_instance_count)"},
        {"total_tables", "2000", "default (2 x max_instance_count)"},
        {"total_stacks", "1000", "default (max_instance_count)"},
        {"total_core_instances", "4000", "default (4 x max_instance_count)"},
        {"instance_table_elements", "100000", "default"},
        {"instance_size", "10485760", "default"},
        {"core_instance_size", "10485760", "default"},
        {"core_instance_count", "200", "default"},
        {"instance_tables", "64", "default"},
        {"instance_memories", "32", "default"},
        {"max_tables_per_module", "2", "default"},
        {"max_memories_per_module", "2", "default"},
        {"linear_memory_keep_resident", "16777216", "default"},
        {"table_keep_resident", "524288", "default"},
        {"max_memory_size", "4294967296", "default"},
        {"max_unused_warm_slots", "16", "default"},
        {"epoch_interval", "10ms", "default"},
        {"max_wasm_stack", "1048576", "default"},
        {"debug_info", "n", "default"},
        {"cache", "", "default"},
    };
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
        bool found = item_named(c, defaults[i].name, &it);
        CHECK(found);
        if (!found || strcmp(it.value, defaults[i].value) || strcmp(it.source, defaults[i].source))
            fprintf(stderr, "  %s = %s (%s)\n", defaults[i].name, it.value, it.source);
        CHECK(found && strcmp(it.value, defaults[i].value) == 0);
        CHECK(found && strcmp(it.source, defaults[i].source) == 0);
    }
    CHECK(item_named(c, "pooling", &it) && strcmp(it.source, "probe") == 0);
    CHECK(item_named(c, "total_memories", &it) &&
          strcmp(it.spin_env, "SPIN_WASMTIME_TOTAL_MEMORIES") == 0 &&
          strcmp(it.env, "WHIRL_TOTAL_MEMORIES") == 0 && it.description);
    CHECK(item_named(c, "max_instance_count", &it) &&
          strcmp(it.spin_env, "SPIN_MAX_INSTANCE_COUNT") == 0);

    /* Derived values follow the base unless set themselves. */
    CHECK_OK(whirl_config_pool_limit_set(c, WHIRL_POOL_MAX_INSTANCE_COUNT, 10));
    CHECK(item_named(c, "total_tables", &it) && strcmp(it.value, "20") == 0);
    CHECK(item_named(c, "total_core_instances", &it) && strcmp(it.value, "40") == 0);
    CHECK_OK(whirl_config_pool_limit_set(c, WHIRL_POOL_TOTAL_TABLES, 7));
    CHECK_OK(whirl_config_pool_limit_set(c, WHIRL_POOL_MAX_INSTANCE_COUNT, 20));
    CHECK(item_named(c, "total_tables", &it) && strcmp(it.value, "7") == 0 &&
          strcmp(it.source, "api") == 0);
    CHECK(item_named(c, "total_memories", &it) && strcmp(it.value, "20") == 0 &&
          strcmp(it.source, "default (max_instance_count)") == 0);

    /* Typed setters and their ranges. */
    CHECK_ERR(whirl_config_pool_limit_set(c, WHIRL_POOL_LIMIT_COUNT, 1), false, "invalid limit");
    CHECK_ERR(whirl_config_pool_limit_set(c, WHIRL_POOL_MAX_MEMORY_SIZE, (5ull << 30)), false,
              "max_memory_size", "out of range");
    CHECK_ERR(whirl_config_pool_limit_set(NULL, WHIRL_POOL_TOTAL_TABLES, 1), false, "NULL");
    CHECK_ERR(whirl_config_epoch_interval_set(c, 50), false, "too short");
    CHECK_ERR(whirl_config_epoch_interval_set(c, 61000000), false, "out of range");
    CHECK_OK(whirl_config_epoch_interval_set(c, 2500));
    CHECK(item_named(c, "epoch_interval", &it) && strcmp(it.value, "2500us") == 0);
    whirl_config_pooling_set(c, false);
    CHECK(item_named(c, "pooling", &it) && strcmp(it.value, "n") == 0 &&
          strcmp(it.source, "api") == 0);
    whirl_config_debug_info_set(c, true);
    CHECK(item_named(c, "debug_info", &it) && strcmp(it.value, "y") == 0);
    CHECK_OK(whirl_config_cache_set(c, "/var/cache/whirl"));
    CHECK(item_named(c, "cache", &it) && strcmp(it.value, "/var/cache/whirl") == 0);
    CHECK_OK(whirl_config_cache_set(c, NULL));
    CHECK(item_named(c, "cache", &it) && strcmp(it.value, "") == 0);
    CHECK_OK(whirl_config_max_wasm_stack_set(c, 65536));
    CHECK(item_named(c, "max_wasm_stack", &it) && strcmp(it.value, "65536") == 0);

    /* Knobs by name, with the environment's syntax. */
    CHECK_OK(whirl_config_set(c, "max-memory-size", "64MiB"));
    CHECK(item_named(c, "max_memory_size", &it) && strcmp(it.value, "67108864") == 0);
    CHECK_OK(whirl_config_set(c, "TABLE_KEEP_RESIDENT", "4k"));
    CHECK(item_named(c, "table_keep_resident", &it) && strcmp(it.value, "4096") == 0);
    CHECK_OK(whirl_config_set(c, "epoch_interval", "2s"));
    CHECK(item_named(c, "epoch_interval", &it) && strcmp(it.value, "2s") == 0);
    /* A bare number is seconds, as on the command line (whirl_parse_duration). */
    CHECK_OK(whirl_config_set(c, "epoch_interval", "20"));
    CHECK(item_named(c, "epoch_interval", &it) && strcmp(it.value, "20s") == 0);
    CHECK_OK(whirl_config_set(c, "epoch_interval", "0m1.5s"));
    CHECK(item_named(c, "epoch_interval", &it) && strcmp(it.value, "1500ms") == 0);
    CHECK_OK(whirl_config_set(c, "epoch_interval", "0"));
    CHECK(item_named(c, "epoch_interval", &it) && strcmp(it.value, "0") == 0);
    CHECK_OK(whirl_config_set(c, "pooling", "on"));
    CHECK(item_named(c, "pooling", &it) && strcmp(it.value, "y") == 0);
    CHECK_OK(whirl_config_set(c, "debug-info", "No"));
    CHECK(item_named(c, "debug_info", &it) && strcmp(it.value, "n") == 0);
    CHECK_OK(whirl_config_set(c, "cache", "/tmp/c"));
    CHECK(item_named(c, "cache", &it) && strcmp(it.value, "/tmp/c") == 0);
    CHECK_ERR(whirl_config_set(c, "no_such_knob", "1"), false, "unknown config knob",
              "no_such_knob");
    CHECK_ERR(whirl_config_set(c, "total_memories", "12x"), false, "\"12x\"",
              "total_memories", "decimal integer");
    CHECK_ERR(whirl_config_set(c, "total_memories", "-1"), false, "\"-1\"");
    CHECK_ERR(whirl_config_set(c, "total_memories", "99999999999999999999999"), false,
              "total_memories");
    CHECK_ERR(whirl_config_set(c, "max_memory_size", "5G"), false, "out of range");
    CHECK_ERR(whirl_config_set(c, "max_memory_size", "1T"), false, "byte count");
    CHECK_ERR(whirl_config_set(c, "pooling", "maybe"), false, "boolean");
    CHECK_ERR(whirl_config_set(c, "epoch_interval", "10 ms"), false, "duration");
    CHECK_ERR(whirl_config_set(c, "epoch_interval", "10us"), false, "out of range");
    CHECK_ERR(whirl_config_set(c, "epoch_interval", "61"), false, "out of range", "60s");
    CHECK_ERR(whirl_config_set(c, "max_wasm_stack", "1k"), false, "out of range");
    CHECK_ERR(whirl_config_set(c, "total_memories", ""), false, "total_memories");
    CHECK_ERR(whirl_config_set(NULL, "pooling", "y"), false, "NULL");
    whirl_config_delete(c);
    whirl_config_delete(NULL);

    /* The engine holds the resolved config. */
    c = test_config(false);
    whirl_config_pool_limit_set(c, WHIRL_POOL_MAX_INSTANCE_COUNT, 5);
    whirl_engine_t *e = engine_of(c);
    const whirl_config_t *ec = whirl_engine_config(e);
    CHECK(ec && item_named(ec, "total_core_instances", &it) && strcmp(it.value, "20") == 0);
    CHECK(ec && item_named(ec, "pooling", &it) && strcmp(it.value, "n") == 0);
    CHECK(!whirl_engine_pooling(e));
    whirl_pool_stats_t st;
    whirl_engine_pool_stats(e, &st);
    CHECK(!st.pooling && st.memories_total == 0);
    whirl_engine_delete(e);
    CHECK(whirl_engine_config(NULL) == NULL);
    CHECK(!whirl_engine_pooling(NULL));
}

/* ---- the environment ---- */

/* Every variable, whirl's and Spin's: a value that does not parse makes
 * engine creation fail with an error naming the variable and the value. */
static void test_env_bad_values(void)
{
    whirl_config_t *c = whirl_config_new();
    size_t n = whirl_config_item_count();
    for (size_t i = 0; i < n; i++) {
        whirl_config_item_t it;
        whirl_config_item(c, i, &it);
        if (strcmp(it.name, "cache") == 0)
            continue; /* any path is valid */
        const char *vars[2] = {it.env, it.spin_env};
        for (int v = 0; v < 2; v++) {
            if (!vars[v])
                continue;
            setenv(vars[v], "12 monkeys", 1);
            whirl_engine_t *e = NULL;
            whirl_error_t *err = whirl_engine_new(NULL, &e);
            CHECK(e == NULL);
            CHECK_ERR(err, false, vars[v], "\"12 monkeys\"");
            /* load_env reports the same and leaves the config unchanged. */
            whirl_config_t *c2 = whirl_config_new();
            CHECK_ERR(whirl_config_load_env(c2), false, vars[v]);
            whirl_config_item_t after;
            whirl_config_item(c2, i, &after);
            CHECK(strcmp(after.source, "env") != 0 && strncmp(after.source, "env ", 4) != 0);
            whirl_config_delete(c2);
            /* Ignored when the config does not read the environment. */
            c2 = whirl_config_new();
            whirl_config_use_env(c2, false);
            whirl_config_epoch_interval_set(c2, 0);
            whirl_config_pooling_set(c2, false);
            e = NULL;
            CHECK_OK(whirl_engine_new(c2, &e));
            whirl_engine_delete(e);
            unsetenv(vars[v]);
        }
    }
    /* Out of range is as bad as unparsable. */
    setenv("WHIRL_MAX_MEMORY_SIZE", "8G", 1);
    whirl_engine_t *e = NULL;
    CHECK_ERR(whirl_engine_new(NULL, &e), false, "WHIRL_MAX_MEMORY_SIZE", "\"8G\"",
              "out of range");
    unsetenv("WHIRL_MAX_MEMORY_SIZE");
    setenv("SPIN_WASMTIME_POOLING", "", 1);
    CHECK_ERR(whirl_engine_new(NULL, &e), false, "SPIN_WASMTIME_POOLING");
    unsetenv("SPIN_WASMTIME_POOLING");
    whirl_config_delete(c);
}

/* Spin's names are read, whirl's win over them, and an API call wins over
 * both. */
static void test_env_names(void)
{
    whirl_config_t *c = whirl_config_new();
    for (size_t i = 0; i < whirl_config_item_count(); i++) {
        whirl_config_item_t it, got;
        whirl_config_item(c, i, &it);
        const char *value = strcmp(it.name, "pooling") == 0 ? "0" : "3";
        char want_src[80];
        if (it.spin_env) {
            whirl_config_t *s = config_with_env(it.spin_env, value);
            whirl_config_item(s, i, &got);
            snprintf(want_src, sizeof want_src, "env %s", it.spin_env);
            CHECK(strcmp(got.source, want_src) == 0);
            CHECK(strcmp(got.value, strcmp(value, "0") == 0 ? "n" : "3") == 0);
            whirl_config_delete(s);
        }
        if (strcmp(it.name, "epoch_interval") == 0 || strcmp(it.name, "max_wasm_stack") == 0 ||
            strcmp(it.name, "cache") == 0 || strcmp(it.name, "async_stack_size") == 0 ||
            strcmp(it.name, "tier") == 0)
            continue; /* "3" is not a value of theirs; covered below (tier: test_tier_knob) */
        setenv(it.env, "1", 1);
        if (it.spin_env)
            setenv(it.spin_env, value, 1);
        whirl_config_t *w = whirl_config_new();
        CHECK_OK(whirl_config_load_env(w));
        whirl_config_item(w, i, &got);
        snprintf(want_src, sizeof want_src, "env %s", it.env);
        CHECK(strcmp(got.source, want_src) == 0);
        /* Switches (pooling, debug_info, the WebAssembly features) show y/n. */
        bool is_switch = strcmp(it.name, "pooling") == 0 || strcmp(it.name, "debug_info") == 0 ||
                         strcmp(it.name, "perfmap") == 0 || strcmp(it.name, "jitdump") == 0 ||
                         strncmp(it.env, "WHIRL_FEATURE_", 14) == 0;
        CHECK(strcmp(got.value, is_switch ? "y" : "1") == 0);
        whirl_config_delete(w);
        unsetenv(it.env);
        if (it.spin_env)
            unsetenv(it.spin_env);
    }
    whirl_config_delete(c);

    /* API over environment, whatever the order. */
    setenv("WHIRL_TOTAL_MEMORIES", "5", 1);
    c = whirl_config_new();
    whirl_config_pool_limit_set(c, WHIRL_POOL_TOTAL_MEMORIES, 9);
    CHECK_OK(whirl_config_load_env(c));
    whirl_config_item_t it;
    CHECK(item_named(c, "total_memories", &it) && strcmp(it.value, "9") == 0 &&
          strcmp(it.source, "api") == 0);
    whirl_config_delete(c);
    c = whirl_config_new();
    CHECK_OK(whirl_config_load_env(c));
    CHECK(item_named(c, "total_memories", &it) && strcmp(it.value, "5") == 0);
    CHECK_OK(whirl_config_set(c, "total_memories", "11"));
    CHECK(item_named(c, "total_memories", &it) && strcmp(it.value, "11") == 0 &&
          strcmp(it.source, "api") == 0);
    whirl_config_delete(c);
    unsetenv("WHIRL_TOTAL_MEMORIES");

    /* Knobs without a Spin name. */
    c = config_with_env("WHIRL_EPOCH_INTERVAL", "250us");
    CHECK(item_named(c, "epoch_interval", &it) && strcmp(it.value, "250us") == 0);
    whirl_config_delete(c);
    c = config_with_env("WHIRL_MAX_WASM_STACK", "64K");
    CHECK(item_named(c, "max_wasm_stack", &it) && strcmp(it.value, "65536") == 0);
    whirl_config_delete(c);
    c = config_with_env("WHIRL_CACHE", "/tmp/whirl-cache");
    CHECK(item_named(c, "cache", &it) && strcmp(it.value, "/tmp/whirl-cache") == 0);
    whirl_config_delete(c);
}

/* The effect of each variable on an engine. */
static void test_env_effects(void)
{
    whirl_pool_stats_t st;
    whirl_engine_t *e;

    /* The base of the derived sizes, under both names. */
    const char *base_vars[] = {"WHIRL_MAX_INSTANCE_COUNT", "SPIN_MAX_INSTANCE_COUNT"};
    for (int v = 0; v < 2; v++) {
        e = engine_with_env(base_vars[v], "3");
        whirl_engine_pool_stats(e, &st);
        CHECK(st.pooling && st.memories_total == 3 && st.tables_total == 6 &&
              st.stacks_total == 3 && st.core_instances_total == 12 && st.instances_total == 3);
        whirl_engine_delete(e);
    }
    setenv("SPIN_MAX_INSTANCE_COUNT", "7", 1);
    e = engine_with_env("WHIRL_MAX_INSTANCE_COUNT", "2");
    whirl_engine_pool_stats(e, &st);
    CHECK(st.memories_total == 2); /* whirl's name wins */
    whirl_engine_delete(e);
    unsetenv("SPIN_MAX_INSTANCE_COUNT");

    /* Totals: the second of two live instantiations finds no slot. */
    static const struct {
        const char *var, *limit;
        const uint8_t *module;
        size_t len;
        bool same_store;
    } totals[] = {
        {"WHIRL_INSTANCE_COUNT", "instance_count", M_EMPTY, sizeof M_EMPTY, false},
        {"SPIN_WASMTIME_INSTANCE_COUNT", "instance_count", M_EMPTY, sizeof M_EMPTY, false},
        {"WHIRL_TOTAL_MEMORIES", "total_memories", M_MAIN, sizeof M_MAIN, false},
        {"SPIN_WASMTIME_TOTAL_MEMORIES", "total_memories", M_MAIN, sizeof M_MAIN, false},
        {"WHIRL_TOTAL_TABLES", "total_tables", M_MAIN, sizeof M_MAIN, false},
        {"SPIN_WASMTIME_TOTAL_TABLES", "total_tables", M_MAIN, sizeof M_MAIN, false},
        {"WHIRL_TOTAL_STACKS", "total_stacks", M_EMPTY, sizeof M_EMPTY, false},
        {"SPIN_WASMTIME_TOTAL_STACKS", "total_stacks", M_EMPTY, sizeof M_EMPTY, false},
        {"WHIRL_TOTAL_CORE_INSTANCES", "total_core_instances", M_EMPTY, sizeof M_EMPTY, true},
        {"SPIN_WASMTIME_TOTAL_CORE_INSTANCES", "total_core_instances", M_EMPTY, sizeof M_EMPTY,
         true},
        {"WHIRL_CORE_INSTANCE_COUNT", "core_instance_count", M_EMPTY, sizeof M_EMPTY, true},
        {"SPIN_WASMTIME_CORE_INSTANCE_COUNT", "core_instance_count", M_EMPTY, sizeof M_EMPTY,
         true},
        {"WHIRL_INSTANCE_MEMORIES", "instance_memories", M_MAIN, sizeof M_MAIN, true},
        {"SPIN_WASMTIME_INSTANCE_MEMORIES", "instance_memories", M_MAIN, sizeof M_MAIN, true},
        {"WHIRL_INSTANCE_TABLES", "instance_tables", M_MAIN, sizeof M_MAIN, true},
        {"SPIN_WASMTIME_INSTANCE_TABLES", "instance_tables", M_MAIN, sizeof M_MAIN, true},
    };
    for (size_t i = 0; i < sizeof totals / sizeof totals[0]; i++) {
        e = engine_with_env(totals[i].var, "1");
        CHECK_ERR(second_instantiation(e, totals[i].module, totals[i].len, totals[i].same_store),
                  false, totals[i].limit);
        /* Everything came back: the same pair works again after the stores
         * were deleted, up to the same failure. */
        CHECK_ERR(second_instantiation(e, totals[i].module, totals[i].len, totals[i].same_store),
                  false, totals[i].limit);
        whirl_engine_pool_stats(e, &st);
        CHECK(st.memories_in_use == 0 && st.tables_in_use == 0 && st.stacks_in_use == 0 &&
              st.core_instances_in_use == 0 && st.instances_in_use == 0);
        whirl_engine_delete(e);
    }

    /* Sizes of instance state. */
    const char *size_vars[][2] = {{"WHIRL_INSTANCE_SIZE", "instance_size"},
                                  {"SPIN_WASMTIME_INSTANCE_SIZE", "instance_size"},
                                  {"WHIRL_CORE_INSTANCE_SIZE", "core_instance_size"},
                                  {"SPIN_WASMTIME_CORE_INSTANCE_SIZE", "core_instance_size"}};
    for (int i = 0; i < 4; i++) {
        e = engine_with_env(size_vars[i][0], "64");
        CHECK_ERR(TRY(e, M_MAIN), false, size_vars[i][1]);
        whirl_engine_delete(e);
        e = engine_with_env(size_vars[i][0], "1M");
        CHECK_OK(TRY(e, M_MAIN));
        whirl_engine_delete(e);
    }

    /* Per-module limits. */
    const char *per_module[][3] = {
        {"WHIRL_MAX_TABLES_PER_MODULE", "1", "max_tables_per_module"},
        {"SPIN_WASMTIME_MAX_TABLES_PER_MODULE", "1", "max_tables_per_module"},
        {"WHIRL_MAX_MEMORIES_PER_MODULE", "0", "max_memories_per_module"},
        {"SPIN_WASMTIME_MAX_MEMORIES_PER_MODULE", "0", "max_memories_per_module"},
    };
    for (int i = 0; i < 4; i++) {
        e = engine_with_env(per_module[i][0], per_module[i][1]);
        CHECK_ERR(i < 2 ? TRY(e, M_TWO_TABLES) : TRY(e, M_MAIN), false, per_module[i][2]);
        CHECK_OK(TRY(e, M_EMPTY));
        whirl_engine_delete(e);
    }
    e = engine_with_env("WHIRL_MAX_TABLES_PER_MODULE", "2");
    CHECK_OK(TRY(e, M_TWO_TABLES));
    whirl_engine_delete(e);

    /* Table entries per pooled table. */
    const char *elem_vars[] = {"WHIRL_INSTANCE_TABLE_ELEMENTS",
                               "SPIN_WASMTIME_INSTANCE_TABLE_ELEMENTS"};
    for (int i = 0; i < 2; i++) {
        e = engine_with_env(elem_vars[i], "10");
        CHECK_ERR(TRY(e, M_TABLE11), false, "instance_table_elements");
        whirl_module_t *m = LOAD(e, M_MAIN);
        whirl_store_t *s = whirl_store_new(e, NULL, NULL);
        whirl_instance_t *inst = instantiate(s, m);
        CHECK(call_i32(s, inst, "tgrow", 1, 1, 0) == -1); /* 10 entries already */
        CHECK(call_i32(s, inst, "tgrow", 1, 0, 0) == 10);
        whirl_store_delete(s);
        whirl_module_delete(m);
        whirl_engine_delete(e);
    }

    /* Largest linear memory. */
    e = engine_with_env("WHIRL_MAX_MEMORY_SIZE", "128K");
    CHECK_ERR(TRY(e, M_MEM3), false, "max_memory_size");
    whirl_module_t *m = LOAD(e, M_MAIN);
    whirl_store_t *s = whirl_store_new(e, NULL, NULL);
    whirl_instance_t *inst = instantiate(s, m);
    CHECK(call_i32(s, inst, "grow", 1, 1, 0) == 1);
    CHECK(call_i32(s, inst, "grow", 1, 1, 0) == -1);
    whirl_memory_t *host_mem = NULL;
    CHECK_ERR(whirl_memory_new(s, 3, WHIRL_NO_MAX, &host_mem), false, "max_memory_size");
    whirl_store_delete(s);
    whirl_module_delete(m);
    whirl_engine_delete(e);

    /* Pooling on and off, under both names. */
    const char *pool_vars[] = {"WHIRL_POOLING", "SPIN_WASMTIME_POOLING"};
    for (int i = 0; i < 2; i++) {
        e = engine_with_env(pool_vars[i], "0");
        CHECK(!whirl_engine_pooling(e));
        CHECK_OK(TRY(e, M_MAIN));
        whirl_engine_delete(e);
        e = engine_with_env(pool_vars[i], "1");
        CHECK(whirl_engine_pooling(e));
        CHECK_OK(TRY(e, M_MAIN));
        whirl_engine_delete(e);
    }

    /* The epoch ticker: none with 0, ticking otherwise (waits for the
     * epoch to move, however long that takes: no timing assertion). */
    e = engine_with_env("WHIRL_EPOCH_INTERVAL", "0");
    s = whirl_store_new(e, NULL, NULL);
    CHECK_ERR(whirl_store_set_deadline(s, whirl_monotonic_now() + 1000000), false,
              "epoch_interval is 0");
    whirl_store_delete(s);
    whirl_engine_delete(e);
    e = engine_with_env("WHIRL_EPOCH_INTERVAL", "1ms");
    for (int i = 0; i < 100000 && whirl_engine_epoch(e) < 2; i++)
        usleep(100);
    CHECK(whirl_engine_epoch(e) >= 2);
    whirl_engine_delete(e);

    /* Guest stack, debug info and cache are stored in the engine. */
    e = engine_with_env("WHIRL_MAX_WASM_STACK", "64K");
    CHECK(e && e->config.max_wasm_stack == 65536);
    whirl_engine_delete(e);
    e = engine_with_env("WHIRL_DEBUG_INFO", "yes");
    CHECK(e && e->config.values[KNOB_DEBUG_INFO] == 1);
    whirl_engine_delete(e);
    e = engine_with_env("WHIRL_CACHE", "/tmp/whirl-test-cache");
    CHECK(e && e->config.cache_path && strcmp(e->config.cache_path, "/tmp/whirl-test-cache") == 0);
    whirl_engine_delete(e);
}

/* ---- pooling: accounting, reuse, resets ---- */

static size_t resident_pages(const void *base, size_t bytes)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t n = bytes / page, count = 0;
    unsigned char *vec = malloc(n);
    if (!vec || mincore((void *)base, n * page, vec) != 0) {
        free(vec);
        return (size_t)-1;
    }
    for (size_t i = 0; i < n; i++)
        count += vec[i] & 1;
    free(vec);
    return count;
}

static void test_pool_reuse(void)
{
    whirl_config_t *c = test_config(true);
    /* One slot of each kind, so every instantiation reuses the last one. */
    whirl_config_pool_limit_set(c, WHIRL_POOL_MAX_INSTANCE_COUNT, 1);
    whirl_engine_t *e = engine_of(c);
    if (!e)
        return;
    whirl_module_t *m = LOAD(e, M_MAIN);

    uint8_t *first_base = NULL;
    void **first_elems = NULL;
    for (int round = 0; round < 3; round++) {
        whirl_store_t *s = whirl_store_new(e, NULL, NULL);
        CHECK(whirl_store_memory_consumed(s) == 0);
        whirl_instance_t *inst = instantiate(s, m);
        if (!inst) {
            whirl_store_delete(s);
            break;
        }
        whirl_memory_t *mem = export_of(inst, "mem").of.memory;
        whirl_table_t *tab = export_of(inst, "tab").of.table;
        CHECK(whirl_store_memory_consumed(s) == 65536);
        CHECK(mem->pooled && tab->pooled);
        if (round == 0) {
            first_base = whirl_memory_data(mem);
            first_elems = tab->elems;
        }
        /* The same slots, reset: no trace of the previous tenant. */
        CHECK(whirl_memory_data(mem) == first_base);
        CHECK(tab->elems == first_elems);
        CHECK(whirl_memory_pages(mem) == 1);
        CHECK(whirl_table_size(tab) == 10);
        CHECK(call_i32(s, inst, "load", 1, 0, 0) == 0);
        CHECK(call_i32(s, inst, "load", 1, 65532, 0) == 0);
        CHECK(call_i32(s, inst, "tnull", 1, 5, 0) == 1);
        CHECK(call_i32(s, inst, "grow", 1, 63, 0) == 1); /* 4 MiB: beyond keep-resident */
        CHECK(whirl_store_memory_consumed(s) == 64 * 65536);
        CHECK(call_i32(s, inst, "load", 1, 3 << 20, 0) == 0);
        CHECK(call_i32(s, inst, "load", 1, 64 * 65536 - 4, 0) == 0);
        CHECK(call_i32(s, inst, "tgrow", 1, 5, 0) == 10);
        CHECK(call_i32(s, inst, "tnull", 1, 12, 0) == 1);
        /* Secrets for the next tenant not to see. */
        call_i32(s, inst, "store", 2, 0, 0x5ec7e7);
        call_i32(s, inst, "store", 2, 65532, 0x5ec7e7);
        call_i32(s, inst, "store", 2, 3 << 20, 0x5ec7e7);
        call_i32(s, inst, "store", 2, 64 * 65536 - 4, 0x5ec7e7);
        call_i32(s, inst, "tset", 1, 5, 0);
        call_i32(s, inst, "tset", 1, 12, 0);
        CHECK(call_i32(s, inst, "load", 1, 3 << 20, 0) == 0x5ec7e7);
        CHECK(call_i32(s, inst, "tnull", 1, 12, 0) == 0);
        whirl_pool_stats_t st;
        whirl_engine_pool_stats(e, &st);
        CHECK(st.memories_in_use == 1 && st.tables_in_use == 1 && st.stacks_in_use == 1 &&
              st.core_instances_in_use == 1 && st.instances_in_use == 1);
        /* The slot is taken: another store finds none. */
        CHECK_ERR(TRY(e, M_MAIN), false, "instance_count");
        whirl_store_delete(s);
        whirl_engine_pool_stats(e, &st);
        CHECK(st.memories_in_use == 0 && st.tables_in_use == 0 && st.stacks_in_use == 0 &&
              st.core_instances_in_use == 0 && st.instances_in_use == 0);
    }
    whirl_module_delete(m);
    whirl_engine_delete(e);
}

/* Keep-resident: on release the first bytes are zeroed in place and stay
 * resident, the rest is returned to the kernel. */
static void test_keep_resident(void)
{
    static const struct {
        const char *var, *value;
        size_t keep;
    } cases[] = {
        {"WHIRL_LINEAR_MEMORY_KEEP_RESIDENT", "1M", 1 << 20},
        {"SPIN_WASMTIME_LINEAR_MEMORY_KEEP_RESIDENT", "0", 0},
        {"WHIRL_TABLE_KEEP_RESIDENT", "256K", 256 << 10},
        {"SPIN_WASMTIME_TABLE_KEEP_RESIDENT", "0", 0},
    };
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    for (int i = 0; i < 4; i++) {
        bool memory = strstr(cases[i].var, "LINEAR") != NULL;
        setenv(cases[i].var, cases[i].value, 1);
        setenv("WHIRL_MAX_INSTANCE_COUNT", "1", 1);
        whirl_engine_t *e = engine_with_env("WHIRL_INSTANCE_TABLE_ELEMENTS", "200000");
        unsetenv(cases[i].var);
        unsetenv("WHIRL_MAX_INSTANCE_COUNT");
        if (!e)
            continue;
        whirl_module_t *m = LOAD(e, M_MAIN);
        whirl_store_t *s = whirl_store_new(e, NULL, NULL);
        whirl_instance_t *inst = instantiate(s, m);
        const void *base;
        size_t bytes;
        if (memory) {
            call_i32(s, inst, "grow", 1, 63, 0);
            whirl_memory_t *mem = export_of(inst, "mem").of.memory;
            memset(whirl_memory_data(mem), 0xab, whirl_memory_data_size(mem));
            base = whirl_memory_data(mem);
            bytes = whirl_memory_data_size(mem);
        } else {
            /* Growing writes every new entry, touching every page. */
            call_i32(s, inst, "tgrow", 1, 199990, 0);
            whirl_table_t *tab = export_of(inst, "tab").of.table;
            base = tab->elems;
            bytes = (size_t)whirl_table_size(tab) * sizeof(void *) / page * page;
        }
        CHECK(resident_pages(base, bytes) == bytes / page);
        whirl_store_delete(s);
        size_t keep_pages = cases[i].keep / page;
        size_t kept = resident_pages(base, cases[i].keep);
        size_t rest = resident_pages((const uint8_t *)base + cases[i].keep, bytes - cases[i].keep);
        if (kept != keep_pages || rest != 0)
            fprintf(stderr, "  %s=%s: %zu of %zu kept pages resident, %zu others\n",
                    cases[i].var, cases[i].value, kept, keep_pages, rest);
        CHECK(kept == keep_pages);
        CHECK(rest == 0);
        /* And the next tenant sees zeros in both parts. */
        s = whirl_store_new(e, NULL, NULL);
        inst = instantiate(s, m);
        if (memory) {
            call_i32(s, inst, "grow", 1, 63, 0);
            CHECK(call_i32(s, inst, "load", 1, 4096, 0) == 0);
            CHECK(call_i32(s, inst, "load", 1, (3 << 20) + 8, 0) == 0);
        } else {
            call_i32(s, inst, "tgrow", 1, 199990, 0);
            whirl_table_t *tab = export_of(inst, "tab").of.table;
            CHECK(tab->elems == base);
            bool zero = true;
            for (uint32_t k = 0; k < whirl_table_size(tab); k++)
                zero &= tab->elems[k] == NULL;
            CHECK(zero);
        }
        whirl_store_delete(s);
        whirl_module_delete(m);
        whirl_engine_delete(e);
    }
}

/* max_unused_warm_slots: of three memory slots released in turn, the first
 * keeps its keep-resident prefix resident and the other two keep nothing;
 * the next instance gets the warm one, and sees zeros. */
static void test_warm_slots(void)
{
    setenv("WHIRL_LINEAR_MEMORY_KEEP_RESIDENT", "1M", 1);
    setenv("WHIRL_MAX_INSTANCE_COUNT", "4", 1);
    whirl_engine_t *e = engine_with_env("WHIRL_MAX_UNUSED_WARM_SLOTS", "1");
    unsetenv("WHIRL_LINEAR_MEMORY_KEEP_RESIDENT");
    unsetenv("WHIRL_MAX_INSTANCE_COUNT");
    CHECK(e != NULL);
    if (!e)
        return;
    size_t page = (size_t)sysconf(_SC_PAGESIZE), keep = 1 << 20;
    whirl_module_t *m = LOAD(e, M_MAIN);
    whirl_store_t *s[3];
    const uint8_t *base[3];
    for (int i = 0; i < 3; i++) {
        s[i] = whirl_store_new(e, NULL, NULL);
        whirl_instance_t *inst = instantiate(s[i], m);
        call_i32(s[i], inst, "grow", 1, 31, 0);
        whirl_memory_t *mem = export_of(inst, "mem").of.memory;
        memset(whirl_memory_data(mem), 0xab, whirl_memory_data_size(mem));
        base[i] = whirl_memory_data(mem);
    }
    for (int i = 0; i < 3; i++)
        whirl_store_delete(s[i]);
    size_t kept[3];
    for (int i = 0; i < 3; i++)
        kept[i] = resident_pages(base[i], keep);
    if (kept[0] != keep / page || kept[1] || kept[2])
        fprintf(stderr, "  warm slots: %zu, %zu, %zu pages resident (want %zu, 0, 0)\n",
                kept[0], kept[1], kept[2], keep / page);
    CHECK(kept[0] == keep / page);
    CHECK(kept[1] == 0 && kept[2] == 0);
    whirl_store_t *next = whirl_store_new(e, NULL, NULL);
    whirl_instance_t *inst = instantiate(next, m);
    call_i32(next, inst, "grow", 1, 31, 0);
    CHECK((const uint8_t *)whirl_memory_data(export_of(inst, "mem").of.memory) == base[0]);
    CHECK(call_i32(next, inst, "load", 1, 4096, 0) == 0);
    CHECK(call_i32(next, inst, "load", 1, (1 << 20) + 8, 0) == 0);
    whirl_store_delete(next);
    whirl_module_delete(m);
    whirl_engine_delete(e);
}

/* total_memories: instantiating past it fails with an error naming the
 * limit; a released slot can be taken again. */
static void test_pool_limits(void)
{
    whirl_config_t *c = test_config(true);
    whirl_config_pool_limit_set(c, WHIRL_POOL_TOTAL_MEMORIES, 2);
    whirl_engine_t *e = engine_of(c);
    whirl_module_t *m = LOAD(e, M_MAIN);
    whirl_store_t *s[3];
    whirl_instance_t *inst = NULL;
    for (int i = 0; i < 3; i++)
        s[i] = whirl_store_new(e, NULL, NULL);
    CHECK_OK(whirl_instance_new(s[0], m, NULL, 0, &inst));
    CHECK_OK(whirl_instance_new(s[1], m, NULL, 0, &inst));
    CHECK_ERR(whirl_instance_new(s[2], m, NULL, 0, &inst), false, "total_memories",
              "all 2 linear memory slots are in use");
    /* Nothing of the failed instantiation stayed behind. */
    whirl_pool_stats_t st;
    whirl_engine_pool_stats(e, &st);
    CHECK(st.memories_in_use == 2 && st.tables_in_use == 2 && st.core_instances_in_use == 2);
    CHECK(whirl_store_memory_consumed(s[2]) == 0);
    whirl_store_delete(s[0]);
    CHECK_OK(whirl_instance_new(s[2], m, NULL, 0, &inst));
    CHECK(call_i32(s[2], inst, "load", 1, 0, 0) == 0);
    whirl_store_delete(s[1]);
    whirl_store_delete(s[2]);

    /* Host-made memories and tables never come from the pool. */
    whirl_store_t *h = whirl_store_new(e, NULL, NULL);
    whirl_memory_t *mem = NULL;
    whirl_table_t *tab = NULL;
    for (int i = 0; i < 3; i++)
        CHECK_OK(whirl_memory_new(h, 1, 2, &mem));
    CHECK(mem && !mem->pooled);
    CHECK_OK(whirl_table_new(h, WHIRL_FUNCREF, 1, 2, NULL, &tab));
    CHECK(tab && !tab->pooled);
    CHECK(whirl_store_memory_consumed(h) == 3 * 65536);
    whirl_store_delete(h);
    whirl_module_delete(m);
    whirl_engine_delete(e);

    /* A module whose table exceeds the pool's capacity is refused before
     * anything is created. */
    c = test_config(true);
    whirl_config_pool_limit_set(c, WHIRL_POOL_INSTANCE_TABLE_ELEMENTS, 5);
    e = engine_of(c);
    CHECK_ERR(TRY(e, M_MAIN), false, "table 0", "instance_table_elements");
    whirl_engine_pool_stats(e, &st);
    CHECK(st.core_instances_in_use == 0 && st.memories_in_use == 0);
    whirl_engine_delete(e);
}

/* The interpreter's stack memory comes from the store's stack slot. */
static void test_stack_slot(void)
{
    whirl_engine_t *e = engine_of(test_config(true));
    if (!e)
        return;
    whirl_module_t *m = LOAD(e, M_EMPTY);
    whirl_store_t *s = whirl_store_new(e, NULL, NULL);
    CHECK(store_exec_stack_memory(s, 1024) == NULL); /* holds none yet */
    instantiate(s, m);
    uint8_t *stack = store_exec_stack_memory(s, 2 << 20);
    CHECK(stack != NULL);
    if (stack) {
        stack[0] = 1;
        stack[(2 << 20) - 1] = 1;
    }
    CHECK(store_exec_stack_memory(s, (size_t)1 << 30) == NULL); /* larger than a slot */
    whirl_store_delete(s);
    whirl_module_delete(m);
    whirl_engine_delete(e);

    e = engine_of(test_config(false));
    if (!e)
        return;
    m = LOAD(e, M_EMPTY);
    s = whirl_store_new(e, NULL, NULL);
    instantiate(s, m);
    /* Without a pool the store maps a stack of its own (kept for the next
     * store on this thread when it is deleted). */
    stack = store_exec_stack_memory(s, 1 << 20);
    CHECK(stack != NULL);
    if (stack)
        stack[(1 << 20) - 1] = 1;
    CHECK(store_exec_stack_memory(s, 1 << 20) == stack); /* the same, as with a pool */
    whirl_store_delete(s);
    whirl_module_delete(m);
    whirl_engine_delete(e);
}

/* ---- store limits and accounting ---- */

static void test_store_limits(bool pooling)
{
    whirl_config_t *c = test_config(pooling);
    whirl_config_log_set(c, capture_log, NULL);
    whirl_engine_t *e = engine_of(c);
    whirl_module_t *m = LOAD(e, M_MAIN), *m3 = LOAD(e, M_MEM3), *t11 = LOAD(e, M_TABLE11);
    whirl_store_t *s = whirl_store_new(e, NULL, NULL);
    whirl_store_limits_set(s, 10 * 65536, 12);
    whirl_instance_t *inst = instantiate(s, m);
    CHECK(whirl_store_memory_consumed(s) == 65536);
    CHECK(call_i32(s, inst, "grow", 1, 9, 0) == 1);
    CHECK(whirl_store_memory_consumed(s) == 10 * 65536);
    log_count = 0;
    CHECK(call_i32(s, inst, "grow", 1, 1, 0) == -1);
    CHECK(log_count == 1 && strcmp(last_event, "memory_limit_exceeded") == 0);
    CHECK(strstr(last_message, "memory_limit_exceeded current=655360 desired=720896 "
                               "max=655360") == last_message);
    CHECK(whirl_store_memory_consumed(s) == 10 * 65536);
    CHECK(call_i32(s, inst, "grow", 1, 0, 0) == 10); /* a no-op is not a growth */
    whirl_memory_t *mem = export_of(inst, "mem").of.memory;
    CHECK_ERR(whirl_memory_grow(mem, 1, NULL), false, "max_memory_size");
    /* Across memories of the store: nothing more fits. */
    whirl_instance_t *other = NULL;
    CHECK_ERR(whirl_instance_new(s, m3, NULL, 0, &other), false, "memory 0",
              "max_memory_size limit of 655360");
    whirl_memory_t *hm = NULL;
    CHECK_ERR(whirl_memory_new(s, 1, 1, &hm), false, "max_memory_size");
    CHECK_OK(whirl_memory_new(s, 0, 1, &hm));
    /* Tables: each may hold 12 entries. */
    CHECK(call_i32(s, inst, "tgrow", 1, 2, 0) == 10);
    log_count = 0;
    CHECK(call_i32(s, inst, "tgrow", 1, 1, 0) == -1);
    CHECK(log_count == 1 && strcmp(last_event, "table_limit_exceeded") == 0);
    CHECK(strstr(last_message, "current=12 desired=13 max=12") != NULL);
    CHECK_OK(whirl_instance_new(s, t11, NULL, 0, &other)); /* 11 entries fit */
    whirl_store_limits_set(s, 10 * 65536, 10);
    CHECK_ERR(whirl_instance_new(s, t11, NULL, 0, &other), false,
              "max_table_elements limit of 10");
    whirl_table_t *ht = NULL;
    CHECK_ERR(whirl_table_new(s, WHIRL_FUNCREF, 11, WHIRL_NO_MAX, NULL, &ht), false,
              "max_table_elements");
    /* Raising the limit lets growth continue. */
    whirl_store_limits_set(s, WHIRL_NO_LIMIT, WHIRL_NO_LIMIT);
    CHECK(call_i32(s, inst, "grow", 1, 2, 0) == 10);
    CHECK(whirl_store_memory_consumed(s) == 12 * 65536);
    CHECK_OK(whirl_instance_new(s, m3, NULL, 0, &other));
    CHECK(whirl_store_memory_consumed(s) == 15 * 65536);
    whirl_store_delete(s);
    CHECK(whirl_store_memory_consumed(NULL) == 0);
    whirl_store_limits_set(NULL, 1, 1);

    /* An instantiation needing more than the limit fails before creating
     * anything. */
    s = whirl_store_new(e, NULL, NULL);
    whirl_store_limits_set(s, 2 * 65536, WHIRL_NO_LIMIT);
    CHECK_ERR(whirl_instance_new(s, m3, NULL, 0, &other), false, "max_memory_size");
    CHECK(whirl_store_memory_consumed(s) == 0);
    whirl_pool_stats_t st;
    whirl_engine_pool_stats(e, &st);
    CHECK(st.memories_in_use == 0);
    whirl_store_delete(s);
    whirl_module_delete(m);
    whirl_module_delete(m3);
    whirl_module_delete(t11);
    whirl_engine_delete(e);
}

/* ---- deadlines ---- */

static void test_deadlines(void)
{
    whirl_config_t *c = whirl_config_new();
    whirl_config_use_env(c, false);
    whirl_config_log_set(c, capture_log, NULL);
    whirl_engine_t *e = engine_of(c); /* default ticker: 10 ms */
    whirl_module_t *m = LOAD(e, M_MAIN);
    whirl_store_t *s = whirl_store_new(e, NULL, NULL);
    whirl_instance_t *inst = instantiate(s, m);
    CHECK(whirl_store_epoch_deadline(s) == WHIRL_EPOCH_DEADLINE_NEVER);
    whirl_func_t *spin = export_of(inst, "spin").of.func;

    /* An infinite loop under a 50 ms deadline is interrupted. */
    uint64_t before = whirl_engine_epoch(e);
    CHECK_OK(whirl_store_set_deadline(s, whirl_monotonic_now() + 50000000));
    uint64_t dl = whirl_store_epoch_deadline(s);
    uint64_t after = whirl_engine_epoch(e);
    CHECK(whirl_store_deadline_ns(s) != UINT64_MAX);
    /* 49.99.. ms / 10 ms + 1 = 5 ticks beyond the epoch when it was set. */
    CHECK(dl >= before + 5 && dl <= after + 5);
    whirl_error_t *err = whirl_func_call(s, spin, NULL, 0, NULL, 0);
    whirl_trap_code_t code = 0;
    CHECK(err && whirl_error_is_trap(err, &code) && code == WHIRL_TRAP_INTERRUPT);
    CHECK(whirl_engine_epoch(e) >= dl);
    whirl_error_delete(err);

    /* A deadline in the past: expired at once, with a warning. */
    log_count = 0;
    CHECK_OK(whirl_store_set_deadline(s, whirl_monotonic_now() - 1000000));
    CHECK(log_count == 1 && strcmp(last_event, "deadline_in_past") == 0);
    CHECK(whirl_store_epoch_deadline(s) <= whirl_engine_epoch(e));
    err = whirl_func_call(s, spin, NULL, 0, NULL, 0);
    code = 0;
    CHECK(err && whirl_error_is_trap(err, &code) && code == WHIRL_TRAP_INTERRUPT);
    whirl_error_delete(err);

    /* Far deadlines convert without overflow; clearing restores "never". */
    CHECK_OK(whirl_store_set_deadline(s, UINT64_MAX));
    CHECK(whirl_store_epoch_deadline(s) > whirl_engine_epoch(e) + 1000000);
    whirl_store_clear_epoch_deadline(s);
    CHECK(whirl_store_epoch_deadline(s) == WHIRL_EPOCH_DEADLINE_NEVER);
    CHECK(whirl_store_deadline_ns(s) == UINT64_MAX);
    CHECK_OK(whirl_store_set_deadline(s, 12345));
    CHECK(whirl_store_deadline_ns(s) == 12345);
    whirl_store_set_epoch_deadline(s, 1000);
    CHECK(whirl_store_deadline_ns(s) == UINT64_MAX);
    whirl_store_clear_epoch_deadline(s);
    CHECK(call_i32(s, inst, "load", 1, 0, 0) == 0); /* no deadline, no trap */
    CHECK_ERR(whirl_store_set_deadline(NULL, 0), false, "NULL");
    CHECK(whirl_store_epoch_deadline(NULL) == 0);
    CHECK(whirl_engine_epoch(NULL) == 0);
    whirl_store_delete(s);
    whirl_module_delete(m);
    whirl_engine_delete(e);

    /* Engines come and go with their tickers. */
    for (int i = 0; i < 20; i++) {
        c = whirl_config_new();
        whirl_config_use_env(c, false);
        whirl_config_epoch_interval_set(c, 100);
        whirl_config_pooling_set(c, false);
        e = engine_of(c);
        whirl_engine_delete(e);
    }
}

/* ---- instance_pre ---- */

static int finalized;

static void count_finalizer(void *env)
{
    (void)env;
    finalized++;
}

static whirl_error_t *host_add(void *env, whirl_caller_t *caller, const whirl_val_t *args,
                               size_t nargs, whirl_val_t *results, size_t nresults)
{
    (void)env;
    (void)caller;
    (void)nargs;
    (void)nresults;
    results[0].kind = WHIRL_I32;
    results[0].of.i32 = args[0].of.i32 + args[1].of.i32;
    return NULL;
}

static void test_instance_pre(void)
{
    whirl_engine_t *e = engine_of(test_config(true));
    whirl_module_t *m = LOAD(e, M_IMP);
    whirl_linker_t *l = whirl_linker_new(e);
    whirl_valkind_t ii[] = {WHIRL_I32, WHIRL_I32}, i[] = {WHIRL_I32};
    whirl_functype_t *t = whirl_functype_new(ii, 2, i, 1);
    finalized = 0;
    CHECK_OK(whirl_linker_define_func(l, "host", "add", t, host_add, NULL, count_finalizer));
    whirl_instance_pre_t *pre = NULL;
    CHECK_OK(whirl_linker_instantiate_pre(l, m, &pre));
    whirl_module_delete(m);
    whirl_linker_delete(l); /* the pre keeps the definition */
    CHECK(finalized == 0);
    CHECK(whirl_instance_pre_module(pre) != NULL);
    whirl_instance_pre_t *pre2 = whirl_instance_pre_clone(pre);
    CHECK(pre2 == pre);
    for (int k = 0; k < 3; k++) {
        whirl_store_t *s = whirl_store_new(e, NULL, NULL);
        whirl_instance_t *a = NULL, *b = NULL;
        CHECK_OK(whirl_instance_pre_instantiate(pre, s, &a));
        CHECK_OK(whirl_instance_pre_instantiate(pre2, s, &b));
        CHECK(call_i32(s, a, "run", 1, 41, 0) == 42);
        CHECK(call_i32(s, b, "run", 1, k, 0) == k + 1);
        CHECK(a && b && a->vm.funcs[0] == b->vm.funcs[0]); /* one host function per store */
        CHECK(whirl_store_memory_consumed(s) == 2 * 65536);
        whirl_store_delete(s);
    }
    whirl_instance_pre_delete(pre);
    CHECK(finalized == 0);
    whirl_instance_pre_delete(pre2);
    CHECK(finalized == 1);
    whirl_instance_pre_delete(NULL);
    CHECK(whirl_instance_pre_clone(NULL) == NULL);
    CHECK(whirl_instance_pre_module(NULL) == NULL);

    /* What cannot be resolved ahead of a store. */
    whirl_store_t *s = whirl_store_new(e, NULL, NULL);
    l = whirl_linker_new(e);
    whirl_memory_t *mem = NULL;
    CHECK_OK(whirl_memory_new(s, 1, 1, &mem));
    whirl_extern_t ext = {.kind = WHIRL_EXTERN_MEMORY, .of.memory = mem};
    CHECK_OK(whirl_linker_define(l, "env", "m", &ext));
    m = LOAD(e, M_IMPMEM);
    CHECK_ERR(whirl_linker_instantiate_pre(l, m, &pre), false, "module \"env\" name \"m\"",
              "instance_pre cannot resolve");
    CHECK(pre == NULL);
    whirl_instance_t *inst = NULL;
    CHECK_OK(whirl_linker_instantiate(l, s, m, &inst)); /* the linker itself can */
    whirl_module_delete(m);
    m = LOAD(e, M_IMP);
    CHECK_ERR(whirl_linker_instantiate_pre(l, m, &pre), false, "unknown import",
              "\"host\"");
    whirl_functype_t *t1 = whirl_functype_new(i, 1, i, 1);
    CHECK_OK(whirl_linker_define_func(l, "host", "add", t1, host_add, NULL, NULL));
    CHECK_ERR(whirl_linker_instantiate_pre(l, m, &pre), false, "incompatible import type",
              "[i32 i32] -> [i32]");
    CHECK_ERR(whirl_linker_instantiate_pre(NULL, m, &pre), false, "NULL");
    CHECK_ERR(whirl_linker_instantiate_pre(l, m, NULL), false, "NULL");
    CHECK_ERR(whirl_instance_pre_instantiate(NULL, s, &inst), false, "NULL");
    whirl_functype_delete(t1);
    whirl_module_delete(m);
    whirl_linker_delete(l);
    whirl_store_delete(s);
    whirl_functype_delete(t);
    whirl_engine_delete(e);
}

/* whirl_parse_duration and whirl_parse_size: the one syntax of the knobs,
 * the environment and the command line. */
static void test_parse_units(void)
{
    static const struct {
        const char *text;
        uint64_t ns;
    } durations[] = {
        {"0", 0},
        {"3", 3000000000ull},          /* a number alone is seconds */
        {"1.5", 1500000000ull},
        {"50ms", 50000000ull},
        {"250us", 250000ull},
        {"250\xc2\xb5s", 250000ull},
        {"7ns", 7},
        {"1m30s", 90000000000ull},
        {"2min", 120000000000ull},
        {"1h0m0.5s", 3600500000000ull},
        {"0.0000000019s", 1},        /* digits past nanoseconds are dropped */
        {"18446744073s", 18446744073000000000ull},
    };
    for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++) {
        uint64_t ns = 1;
        CHECK_OK(whirl_parse_duration(durations[i].text, &ns));
        CHECK(ns == durations[i].ns);
    }
    const char *bad_durations[] = {"", "s", "10 s", " 1s", "1s ", "-1s", "1.s", ".5s",
                                   "1m30", "1d", "5x", "1sm", "1e3s", "ms"};
    for (size_t i = 0; i < sizeof bad_durations / sizeof bad_durations[0]; i++) {
        uint64_t ns = 0;
        CHECK_ERR(whirl_parse_duration(bad_durations[i], &ns), false, "invalid duration",
                  "ns, us, ms, s, m or h", "a number alone is seconds");
    }
    uint64_t v;
    CHECK_ERR(whirl_parse_duration("18446744074s", &v), false, "too large");
    CHECK_ERR(whirl_parse_duration("99999999999999999999999", &v), false, "invalid duration");
    CHECK_ERR(whirl_parse_duration(NULL, &v), false, "NULL");

    static const struct {
        const char *text;
        uint64_t bytes;
    } sizes[] = {
        {"0", 0},          {"65536", 65536},          {"0x10000", 65536},  {"64k", 65536},
        {"64K", 65536},    {"64KiB", 65536},          {"64kib", 65536},    {"16M", 16u << 20},
        {"16MiB", 16u << 20}, {"2g", 2ull << 30},     {"2GiB", 2ull << 30},
        {"18446744073709551615", UINT64_MAX},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        v = 1;
        CHECK_OK(whirl_parse_size(sizes[i].text, &v));
        CHECK(v == sizes[i].bytes);
    }
    const char *bad_sizes[] = {"", "K", "64KB", "64 K", "1T", "-5", "1.5M", "0x", "12x", "0xg"};
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++)
        CHECK_ERR(whirl_parse_size(bad_sizes[i], &v), false, "invalid size", "K, M or G",
                  "a number alone is bytes");
    CHECK_ERR(whirl_parse_size("18446744073709551616", &v), false, "too large");
    CHECK_ERR(whirl_parse_size("17179869184G", &v), false, "too large");
    CHECK_ERR(whirl_parse_size(NULL, &v), false, "NULL");
}

int main(void)
{
    clear_env();
    test_parse_units();
    test_config_api();
    test_env_bad_values();
    test_env_names();
    test_env_effects();
    test_pool_reuse();
    test_keep_resident();
    test_warm_slots();
    test_pool_limits();
    test_stack_slot();
    test_store_limits(true);
    test_store_limits(false);
    test_deadlines();
    test_instance_pre();
    return report();
}
