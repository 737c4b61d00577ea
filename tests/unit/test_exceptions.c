/* Exception handling through the public API: a host function throws an
 * exception of an imported tag that wasm catches; exceptions nobody catches
 * reach the host as their own error kind with their tag and values; the
 * tag and exception constructors check what they are given; a guest that
 * throws and catches in a loop is stopped at the store's exception budget
 * with its own trap, its memory bounded; switched off, the feature refuses
 * such modules by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whirl.h"

static int passed, failed;

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (cond) {                                                            \
            passed++;                                                          \
        } else {                                                               \
            failed++;                                                          \
            fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                      \
    } while (0)

/* (import "host" "t" (tag (param i32))) (import "host" "throw" (func (param i32)))
 * (tag (export "own") (param i64)); "catch_host" (legacy try/catch of the
 * host's throw, +1), "escape" (throws own), "escape_host" (the host's
 * exception passes through): tests/unit/test_exceptions.c's api.wat. */
static const uint8_t MODULE[] = {
0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0e, 0x03, 0x60, 0x01, 0x7f, 0x00, 0x60, 0x01, 0x7e, 0x00, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x02, 0x18, 0x02, 0x04, 0x68, 0x6f, 0x73, 0x74, 0x01, 0x74, 0x04, 0x00, 0x00, 0x04, 0x68, 0x6f, 0x73, 0x74, 0x05, 0x74, 0x68, 0x72, 0x6f, 0x77, 0x00, 0x00, 0x03, 0x04, 0x03, 0x02, 0x01, 0x00, 0x0d, 0x03, 0x01, 0x00, 0x01, 0x07, 0x2b, 0x04, 0x03, 0x6f, 0x77, 0x6e, 0x04, 0x01, 0x0a, 0x63, 0x61, 0x74, 0x63, 0x68, 0x5f, 0x68, 0x6f, 0x73, 0x74, 0x00, 0x01, 0x06, 0x65, 0x73, 0x63, 0x61, 0x70, 0x65, 0x00, 0x02, 0x0b, 0x65, 0x73, 0x63, 0x61, 0x70, 0x65, 0x5f, 0x68, 0x6f, 0x73, 0x74, 0x00, 0x03, 0x0a, 0x20, 0x03, 0x10, 0x00, 0x06, 0x7f, 0x20, 0x00, 0x10, 0x00, 0x41, 0x7f, 0x07, 0x00, 0x41, 0x01, 0x6a, 0x0b, 0x0b, 0x06, 0x00, 0x20, 0x00, 0x08, 0x01, 0x0b, 0x06, 0x00, 0x20, 0x00, 0x10, 0x00, 0x0b
};

/* (tag $t (param i32)) (global (export "n") (mut i32) (i32.const 0))
 * (func (export "loop") (param $iters i32) (result i32) (local $i i32)
 *   (loop $l (block $h (result i32) (try_table (catch $t $h) (throw $t (local.get $i)))
 *            unreachable) drop
 *     (global.set 0 (local.tee $i (i32.add (local.get $i) (i32.const 1))))
 *     (br_if $l (i32.lt_u (local.get $i) (local.get $iters))))
 *   (local.get $i)) */
static const uint8_t THROW_LOOP[] = {
0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x02, 0x60, 0x01, 0x7f, 0x00, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x01, 0x0d, 0x03, 0x01, 0x00, 0x00, 0x06, 0x06, 0x01, 0x7f, 0x01, 0x41, 0x00, 0x0b, 0x07, 0x0c, 0x02, 0x04, 0x6c, 0x6f, 0x6f, 0x70, 0x00, 0x00, 0x01, 0x6e, 0x03, 0x00, 0x0a, 0x2b, 0x01, 0x29, 0x01, 0x01, 0x7f, 0x03, 0x40, 0x02, 0x7f, 0x1f, 0x40, 0x01, 0x00, 0x00, 0x00, 0x20, 0x01, 0x08, 0x00, 0x0b, 0x00, 0x0b, 0x1a, 0x20, 0x01, 0x41, 0x01, 0x6a, 0x22, 0x01, 0x24, 0x00, 0x20, 0x01, 0x20, 0x00, 0x49, 0x0d, 0x00, 0x0b, 0x20, 0x01, 0x0b
};

static whirl_tag_t *host_tag;

static whirl_error_t *host_throw(void *env, whirl_caller_t *caller, const whirl_val_t *args,
                                 size_t nargs, whirl_val_t *results, size_t nresults)
{
    (void)env, (void)nargs, (void)results, (void)nresults;
    whirl_exn_t *exn;
    whirl_error_t *err = whirl_exn_new(whirl_caller_store(caller), host_tag, args, 1, &exn);
    return err ? err : whirl_error_exception_new(exn);
}

/* Resident bytes of this process (Linux), 0 when unknown. */
static uint64_t resident_bytes(void)
{
    unsigned long pages_total = 0, pages_resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    if (fscanf(f, "%lu %lu", &pages_total, &pages_resident) != 2)
        pages_resident = 0;
    fclose(f);
    return (uint64_t)pages_resident * 4096;
}

/* A guest throwing and catching up to 4M times: every throw makes an
 * exception that lives as long as the store, so the store's budget stops it
 * (about a million throws in) with WHIRL_TRAP_EXCEPTIONS_EXHAUSTED, and the
 * process grows by about the budget, not by what 4M throws would take. */
static void throw_loop_is_bounded(whirl_engine_t *engine)
{
    whirl_module_t *module = NULL;
    CHECK(!whirl_module_new(engine, THROW_LOOP, sizeof THROW_LOOP, &module));
    if (!module)
        return;
    whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
    whirl_instance_t *inst = NULL;
    CHECK(!whirl_instance_new(store, module, NULL, 0, &inst));
    whirl_extern_t loop, n;
    if (inst && whirl_instance_export(inst, "loop", 4, &loop) &&
        whirl_instance_export(inst, "n", 1, &n)) {
        CHECK(whirl_store_exception_bytes(store) == 0);
        uint64_t rss_before = resident_bytes();
        whirl_val_t arg = {.kind = WHIRL_I32, .of.i32 = 4000000}, res;
        whirl_error_t *err = whirl_func_call(store, loop.of.func, &arg, 1, &res, 1);
        whirl_trap_code_t code = 0;
        CHECK(err && whirl_error_is_trap(err, &code) && code == WHIRL_TRAP_EXCEPTIONS_EXHAUSTED);
        CHECK(err && strstr(whirl_error_message(err), "resource exhausted"));
        whirl_error_delete(err);
        uint64_t rss_after = resident_bytes();
        whirl_val_t thrown;
        whirl_global_get(n.of.global, &thrown);
        printf("throw loop: %d throws caught, %llu exception bytes, resident +%llu KiB\n",
               thrown.of.i32, (unsigned long long)whirl_store_exception_bytes(store),
               (unsigned long long)(rss_after - rss_before) / 1024);
        CHECK(thrown.of.i32 >= 500000 && thrown.of.i32 < 4000000);
        CHECK(whirl_store_exception_bytes(store) <= WHIRL_STORE_EXCEPTION_BYTES_MAX);
        CHECK(whirl_store_exception_bytes(store) > WHIRL_STORE_EXCEPTION_BYTES_MAX / 2);
        CHECK(rss_after - rss_before < 2 * WHIRL_STORE_EXCEPTION_BYTES_MAX);

        /* The budget is spent: the next throw traps at once, and a host's
         * whirl_exn_new is refused naming the limit. */
        int32_t caught = thrown.of.i32;
        arg.of.i32 = 10;
        err = whirl_func_call(store, loop.of.func, &arg, 1, &res, 1);
        code = 0;
        CHECK(err && whirl_error_is_trap(err, &code) && code == WHIRL_TRAP_EXCEPTIONS_EXHAUSTED);
        whirl_error_delete(err);
        whirl_global_get(n.of.global, &thrown);
        CHECK(thrown.of.i32 == caught);
        whirl_valkind_t i32 = WHIRL_I32;
        whirl_functype_t *t_i32 = whirl_functype_new(&i32, 1, NULL, 0);
        whirl_tag_t *t = NULL;
        whirl_exn_t *exn = NULL;
        CHECK(!whirl_tag_new(store, t_i32, &t));
        arg.of.i32 = 1;
        err = whirl_exn_new(store, t, &arg, 1, &exn);
        CHECK(err && !exn && strstr(whirl_error_message(err), "exception limit"));
        whirl_error_delete(err);
        whirl_functype_delete(t_i32);

        /* A fresh store has a budget of its own: a short loop completes. */
        whirl_store_t *fresh = whirl_store_new(engine, NULL, NULL);
        whirl_instance_t *again = NULL;
        CHECK(!whirl_instance_new(fresh, module, NULL, 0, &again));
        if (again && whirl_instance_export(again, "loop", 4, &loop)) {
            arg.of.i32 = 1000;
            CHECK(!whirl_func_call(fresh, loop.of.func, &arg, 1, &res, 1) && res.of.i32 == 1000);
            CHECK(whirl_store_exception_bytes(fresh) > 0);
        }
        whirl_store_delete(fresh);

        /* A store with a lower limit stops sooner; raising it lets the
         * throws go on. */
        whirl_store_t *small = whirl_store_new(engine, NULL, NULL);
        whirl_store_exception_limit_set(small, 64 << 10);
        whirl_instance_t *third = NULL;
        CHECK(!whirl_instance_new(small, module, NULL, 0, &third));
        if (third && whirl_instance_export(third, "loop", 4, &loop) &&
            whirl_instance_export(third, "n", 1, &n)) {
            arg.of.i32 = 1000000;
            err = whirl_func_call(small, loop.of.func, &arg, 1, &res, 1);
            code = 0;
            CHECK(err && whirl_error_is_trap(err, &code) && code == WHIRL_TRAP_EXCEPTIONS_EXHAUSTED);
            whirl_error_delete(err);
            CHECK(whirl_store_exception_bytes(small) <= 64 << 10);
            whirl_global_get(n.of.global, &thrown);
            int32_t before = thrown.of.i32;
            CHECK(before > 100 && before < 10000);
            whirl_store_exception_limit_set(small, WHIRL_NO_LIMIT);
            arg.of.i32 = 100;
            CHECK(!whirl_func_call(small, loop.of.func, &arg, 1, &res, 1) && res.of.i32 == 100);
            CHECK(whirl_store_exception_bytes(small) > 64 << 10);
        }
        whirl_store_delete(small);
    } else {
        CHECK(!"throw loop exports");
    }
    whirl_store_delete(store);
    whirl_module_delete(module);
}

int main(void)
{
    whirl_engine_t *engine;
    if (whirl_engine_new(NULL, &engine)) {
        fprintf(stderr, "no engine\n");
        return 1;
    }
    whirl_module_t *module = NULL;
    whirl_error_t *err = whirl_module_new(engine, MODULE, sizeof MODULE, &module);
    CHECK(!err);
    whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
    whirl_valkind_t i32 = WHIRL_I32;
    whirl_functype_t *t_i32 = whirl_functype_new(&i32, 1, NULL, 0);
    whirl_functype_t *t_bad = whirl_functype_new(&i32, 1, &i32, 1);
    whirl_tag_t *bad = NULL;
    err = whirl_tag_new(store, t_bad, &bad);
    CHECK(err && !bad && strstr(whirl_error_message(err), "no results"));
    whirl_error_delete(err);
    CHECK(!whirl_tag_new(store, t_i32, &host_tag));
    whirl_val_t wrong = {.kind = WHIRL_I64, .of.i64 = 1};
    whirl_exn_t *exn = NULL;
    err = whirl_exn_new(store, host_tag, &wrong, 1, &exn);
    CHECK(err && !exn && strstr(whirl_error_message(err), "value 0 is a i64"));
    whirl_error_delete(err);

    whirl_func_t *thrower;
    CHECK(!whirl_func_new(store, t_i32, host_throw, NULL, NULL, &thrower));
    whirl_extern_t imports[2] = {{.kind = WHIRL_EXTERN_TAG, .of.tag = host_tag},
                                 {.kind = WHIRL_EXTERN_FUNC, .of.func = thrower}};
    whirl_instance_t *inst = NULL;
    CHECK(!whirl_instance_new(store, module, imports, 2, &inst));
    whirl_extern_t f, own;
    CHECK(whirl_instance_export(inst, "own", 3, &own) && own.kind == WHIRL_EXTERN_TAG);

    /* The host throws, wasm catches. */
    CHECK(whirl_instance_export(inst, "catch_host", 10, &f));
    whirl_val_t arg = {.kind = WHIRL_I32, .of.i32 = 41}, res;
    CHECK(!whirl_func_call(store, f.of.func, &arg, 1, &res, 1) && res.of.i32 == 42);

    /* Wasm throws, nobody catches: an exception error, not a trap. */
    CHECK(whirl_instance_export(inst, "escape", 6, &f));
    whirl_val_t a64 = {.kind = WHIRL_I64, .of.i64 = -7};
    err = whirl_func_call(store, f.of.func, &a64, 1, NULL, 0);
    exn = NULL;
    CHECK(err && whirl_error_is_exception(err, &exn) && !whirl_error_is_trap(err, NULL));
    CHECK(exn && whirl_exn_tag(exn) == own.of.tag && whirl_exn_value_count(exn) == 1);
    whirl_val_t v = {0};
    if (exn)
        whirl_exn_value(exn, 0, &v);
    CHECK(v.kind == WHIRL_I64 && v.of.i64 == -7);
    whirl_error_delete(err);

    /* The host's exception passes through wasm back to the host. */
    CHECK(whirl_instance_export(inst, "escape_host", 11, &f));
    arg.of.i32 = 5;
    err = whirl_func_call(store, f.of.func, &arg, 1, NULL, 0);
    exn = NULL;
    CHECK(err && whirl_error_is_exception(err, &exn) && exn && whirl_exn_tag(exn) == host_tag);
    v.kind = WHIRL_I64;
    if (exn)
        whirl_exn_value(exn, 0, &v);
    CHECK(v.kind == WHIRL_I32 && v.of.i32 == 5);
    whirl_error_delete(err);

    whirl_store_delete(store);
    whirl_module_delete(module);
    whirl_functype_delete(t_i32);
    whirl_functype_delete(t_bad);
    throw_loop_is_bounded(engine);
    whirl_engine_delete(engine);

    /* Switched off: refused, naming the proposal. */
    whirl_config_t *config = whirl_config_new();
    CHECK(!whirl_config_feature_set(config, WHIRL_FEATURE_EXCEPTIONS, false));
    if (!whirl_engine_new(config, &engine)) {
        module = NULL;
        err = whirl_module_new(engine, MODULE, sizeof MODULE, &module);
        CHECK(err && !module && strstr(whirl_error_message(err), "exception handling"));
        whirl_error_delete(err);
        whirl_engine_delete(engine);
    } else {
        CHECK(!"engine without exceptions");
    }

    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
