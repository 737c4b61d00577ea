/*
 * fuzz-exec: decode + validate + compile + instantiate + call every export.
 *
 * Every import is satisfied with an object made to match it (functions are
 * host stubs returning zeros), through the linker when the names allow it,
 * otherwise by position. Each exported function is called with zero
 * arguments under a short epoch deadline and a small wasm stack; exported
 * globals and tables are read back. Traps, interrupts and link errors are
 * expected outcomes; crashes, sanitizer reports, leaks and hangs are bugs.
 *
 * Store limits (FUZZ_MAX_MEMORY bytes of linear memory, FUZZ_MAX_TABLE
 * entries per table) keep the fuzzer's RSS small; modules needing more fail
 * to instantiate, which is an expected outcome too. Import types other than
 * functions are not in the public API, so they are read from the decoded
 * module (runtime.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "runtime/runtime.h"
#include "whirl.h"

#define FUZZ_MAX_MEMORY (10u << 20) /* bytes of linear memory per store */
#define FUZZ_MAX_TABLE 100000u      /* entries per table */
#define FUZZ_MAX_CALLS 64       /* exports called per input */
#define FUZZ_STACK (64u << 10)  /* --max-wasm-stack */
#define TICK_US 1000            /* the engine's epoch ticker interval */
#define DEADLINE_TICKS 5        /* a call runs ~4-5 ms before `interrupt` */

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "fuzz-exec: %s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                           \
            abort();                                                                  \
        }                                                                             \
    } while (0)

static whirl_engine_t *engine;
static bool verbose; /* WHIRL_FUZZ_VERBOSE=1: name each call, for triage */

static void shutdown_engine(void) { whirl_engine_delete(engine); }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    whirl_config_t *config = whirl_config_new();
    CHECK(config != NULL);
    /* The environment must not change what a crash input does. */
    whirl_config_use_env(config, false);
    /* Pooling changes where memories, tables and stacks come from: both
     * ways need fuzzing (default: whatever the address-space probe says). */
    verbose = getenv("WHIRL_FUZZ_VERBOSE") && *getenv("WHIRL_FUZZ_VERBOSE") == '1';
    const char *pooling = getenv("WHIRL_FUZZ_POOLING");
    if (pooling && *pooling)
        whirl_config_pooling_set(config, *pooling == '1');
    whirl_error_t *err = whirl_config_max_wasm_stack_set(config, FUZZ_STACK);
    CHECK(err == NULL);
    err = whirl_config_epoch_interval_set(config, TICK_US);
    CHECK(err == NULL);
    err = whirl_engine_new(config, &engine);
    if (err) {
        fprintf(stderr, "fuzz-exec: engine: %s\n", fz_errmsg(err));
        abort();
    }
    fprintf(stderr, "fuzz-exec: pooling %s\n", whirl_engine_pooling(engine) ? "on" : "off");
    atexit(shutdown_engine);
    return 0;
}

/* Host function for every function import: zero results. */
static whirl_error_t *stub(void *env, whirl_caller_t *caller, const whirl_val_t *args,
                           size_t nargs, whirl_val_t *results, size_t nresults)
{
    const whirl_functype_t *type = env;
    CHECK(whirl_caller_store(caller) != NULL);
    CHECK(nargs == whirl_functype_param_count(type));
    CHECK(nresults == whirl_functype_result_count(type));
    for (size_t i = 0; i < nargs; i++)
        CHECK(args[i].kind == whirl_functype_param(type, i));
    return fz_stub(env, caller, args, nargs, results, nresults);
}

static whirl_error_t *instantiate(whirl_store_t *store, whirl_module_t *module,
                                  whirl_instance_t **inst)
{
    return fz_instantiate(engine, store, module, stub, inst);
}

static void check_trap(whirl_error_t *err)
{
    whirl_trap_code_t code = 0;
    CHECK(whirl_error_message(err) != NULL);
    if (whirl_error_is_trap(err, &code)) {
        CHECK(code >= WHIRL_TRAP_UNREACHABLE && code <= WHIRL_TRAP_HOST);
        CHECK(whirl_trap_code_name(code) != NULL);
        /* The backtrace must be readable whatever the depth. */
        size_t n = whirl_error_frame_count(err);
        for (size_t i = 0; i < n; i++) {
            uint32_t fi;
            const char *name;
            size_t off;
            CHECK(whirl_error_frame(err, i, &fi, &name, &off));
            if (name)
                CHECK(strlen(name) < (1u << 20));
        }
        uint32_t fi;
        const char *name;
        size_t off;
        CHECK(!whirl_error_frame(err, n, &fi, &name, &off));
    }
    whirl_error_delete(err);
}

static void call_export(whirl_store_t *store, whirl_func_t *func)
{
    const whirl_functype_t *t = whirl_func_type(func);
    size_t np = whirl_functype_param_count(t), nr = whirl_functype_result_count(t);
    whirl_val_t *args = calloc(np + 1, sizeof *args);
    whirl_val_t *results = calloc(nr + 1, sizeof *results);
    CHECK(args && results);
    for (size_t i = 0; i < np; i++)
        args[i] = fz_zero(whirl_functype_param(t, i));
    whirl_store_set_epoch_deadline(store, DEADLINE_TICKS);
    whirl_error_t *err = whirl_func_call(store, func, args, np, results, nr);
    if (verbose)
        fprintf(stderr, "fuzz-exec:   -> %s\n", err ? fz_errmsg(err) : "returned");
    if (err) {
        check_trap(err);
    } else {
        for (size_t i = 0; i < nr; i++)
            CHECK(results[i].kind == whirl_functype_result(t, i));
    }
    free(args);
    free(results);
}

static void run_exports(whirl_store_t *store, whirl_module_t *module, whirl_instance_t *inst)
{
    size_t n = whirl_module_export_count(module);
    int calls = 0;
    for (size_t i = 0; i < n; i++) {
        whirl_export_info_t info;
        CHECK(whirl_module_export(module, i, &info));
        whirl_extern_t ext;
        CHECK(whirl_instance_export(inst, info.name, info.name_len, &ext));
        CHECK(ext.kind == info.kind);
        if (verbose)
            fprintf(stderr, "fuzz-exec: export %.*s (kind %d)\n", (int)info.name_len, info.name,
                    (int)ext.kind);
        switch (ext.kind) {
        case WHIRL_EXTERN_FUNC:
            if (calls++ < FUZZ_MAX_CALLS)
                call_export(store, ext.of.func);
            break;
        case WHIRL_EXTERN_GLOBAL: {
            whirl_val_t v;
            whirl_global_get(ext.of.global, &v);
            CHECK(v.kind == whirl_global_kind(ext.of.global));
            break;
        }
        case WHIRL_EXTERN_TAG:
            CHECK(whirl_tag_type(ext.of.tag) != NULL);
            break;
        case WHIRL_EXTERN_TABLE: {
            uint64_t size = whirl_table_size(ext.of.table);
            for (uint64_t k = 0; k < size && k < 1024; k++) {
                whirl_val_t v;
                whirl_error_t *err = whirl_table_get(ext.of.table, k, &v);
                CHECK(err == NULL);
                /* A function from the table is callable like an export. */
                if (v.kind == WHIRL_FUNCREF && v.of.funcref && calls++ < FUZZ_MAX_CALLS)
                    call_export(store, v.of.funcref);
            }
            whirl_val_t v;
            whirl_error_t *err = whirl_table_get(ext.of.table, size, &v);
            CHECK(err != NULL);
            whirl_error_delete(err);
            break;
        }
        case WHIRL_EXTERN_MEMORY: {
            size_t bytes = whirl_memory_data_size(ext.of.memory);
            uint8_t *base = whirl_memory_data(ext.of.memory);
            CHECK(bytes == whirl_memory_pages(ext.of.memory) * WHIRL_PAGE_SIZE);
            if (bytes) {
                /* Touches the first and last byte: both must be mapped. */
                volatile uint8_t x = base[0];
                x ^= base[bytes - 1];
                (void)x;
            }
            break;
        }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    whirl_module_t *module = NULL;
    whirl_error_t *err = whirl_module_new(engine, data, size, &module);
    if (err) {
        CHECK(module == NULL);
        CHECK(!whirl_error_is_trap(err, NULL));
        whirl_error_delete(err);
        return 0;
    }
    whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
    CHECK(store != NULL);
    whirl_store_limits_set(store, FUZZ_MAX_MEMORY, FUZZ_MAX_TABLE);
    /* The start function runs during instantiation: bound it too. */
    whirl_store_set_epoch_deadline(store, DEADLINE_TICKS);
    whirl_instance_t *inst = NULL;
    err = instantiate(store, module, &inst);
    if (err) {
        check_trap(err);
    } else {
        run_exports(store, module, inst);
    }
    whirl_store_delete(store);
    whirl_module_delete(module);
    return 0;
}
