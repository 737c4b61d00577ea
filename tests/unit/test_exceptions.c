/* Exception handling through the public API: a host function throws an
 * exception of an imported tag that wasm catches; exceptions nobody catches
 * reach the host as their own error kind with their tag and values; the
 * tag and exception constructors check what they are given; switched off,
 * the feature refuses such modules by name. */
#include <stdio.h>
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

static whirl_tag_t *host_tag;

static whirl_error_t *host_throw(void *env, whirl_caller_t *caller, const whirl_val_t *args,
                                 size_t nargs, whirl_val_t *results, size_t nresults)
{
    (void)env, (void)nargs, (void)results, (void)nresults;
    whirl_exn_t *exn;
    whirl_error_t *err = whirl_exn_new(whirl_caller_store(caller), host_tag, args, 1, &exn);
    return err ? err : whirl_error_exception_new(exn);
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
