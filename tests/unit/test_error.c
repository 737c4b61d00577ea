/* The public error constructors (whirl_error_newf, whirl_error_vnewf):
 * formatting, no length limit, NULL format, and that a host function's
 * formatted error traps the guest with WHIRL_TRAP_HOST and its message. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whirl.h"

static int passed, failed;

#define CHECK(cond)                                                   \
    do {                                                              \
        if (cond) {                                                   \
            passed++;                                                 \
        } else {                                                      \
            failed++;                                                 \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);    \
        }                                                             \
    } while (0)

/* A host's own wrapper, the reason whirl_error_vnewf exists. */
static whirl_error_t *host_errorf(const char *fmt, ...) WHIRL_PRINTF(1, 2);
static whirl_error_t *host_errorf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    whirl_error_t *e = whirl_error_vnewf(fmt, ap);
    va_end(ap);
    return e;
}

static whirl_error_t *failing_host(void *env, whirl_caller_t *caller, const whirl_val_t *args,
                                   size_t nargs, whirl_val_t *results, size_t nresults)
{
    return whirl_error_newf("host refused %d of %s", (int)args[0].of.i32, "the arguments");
}

/* (module (import "env" "f" (func $f (param i32)))
 *   (func (export "run") (call $f (i32.const 7)))) */
static const uint8_t call_host_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x60, 0x01, 0x7f,
    0x00, 0x60, 0x00, 0x00, 0x02, 0x09, 0x01, 0x03, 'e',  'n',  'v',  0x01, 'f',  0x00,
    0x00, 0x03, 0x02, 0x01, 0x01, 0x07, 0x07, 0x01, 0x03, 'r',  'u',  'n',  0x00, 0x01,
    0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x07, 0x10, 0x00, 0x0b,
};

static void test_format(void)
{
    whirl_error_t *e = whirl_error_newf("%s %d: %05.1f%%", "file.wasm", 42, 3.25);
    CHECK(e && strcmp(whirl_error_message(e), "file.wasm 42: 003.2%") == 0);
    CHECK(!whirl_error_is_trap(e, NULL));
    whirl_error_delete(e);

    e = host_errorf("through %s", "a va_list");
    CHECK(e && strcmp(whirl_error_message(e), "through a va_list") == 0);
    whirl_error_delete(e);

    /* No fixed buffer: 10,000 characters come back whole. */
    char *big = malloc(10001);
    memset(big, 'x', 10000);
    big[10000] = '\0';
    e = whirl_error_newf("<%s>", big);
    CHECK(e && strlen(whirl_error_message(e)) == 10002);
    CHECK(e && whirl_error_message(e)[10001] == '>');
    whirl_error_delete(e);
    free(big);

    e = whirl_error_newf(NULL);
    CHECK(e && strcmp(whirl_error_message(e), "") == 0);
    whirl_error_delete(e);
}

static void test_host_trap(void)
{
    whirl_engine_t *engine = NULL;
    whirl_module_t *module = NULL;
    whirl_error_t *err = whirl_engine_new(NULL, &engine);
    CHECK(!err);
    if (!err)
        err = whirl_module_new(engine, call_host_wasm, sizeof call_host_wasm, &module);
    CHECK(!err);
    if (err) {
        printf("setup: %s\n", whirl_error_message(err));
        whirl_error_delete(err);
        whirl_engine_delete(engine);
        return;
    }
    whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
    whirl_linker_t *linker = whirl_linker_new(engine);
    whirl_valkind_t param = WHIRL_I32;
    whirl_functype_t *type = whirl_functype_new(&param, 1, NULL, 0);
    err = whirl_linker_define_func(linker, "env", "f", type, failing_host, NULL, NULL);
    CHECK(!err);
    whirl_error_delete(err);
    whirl_instance_t *instance = NULL;
    err = whirl_linker_instantiate(linker, store, module, &instance);
    CHECK(!err);
    whirl_error_delete(err);
    whirl_extern_t run;
    if (instance && whirl_instance_export(instance, "run", 3, &run)) {
        err = whirl_func_call(store, run.of.func, NULL, 0, NULL, 0);
        whirl_trap_code_t code = 0;
        CHECK(err && whirl_error_is_trap(err, &code) && code == WHIRL_TRAP_HOST);
        CHECK(err && strstr(whirl_error_message(err), "host refused 7 of the arguments"));
        whirl_error_delete(err);
    } else {
        CHECK(!"export run");
    }
    whirl_functype_delete(type);
    whirl_linker_delete(linker);
    whirl_store_delete(store);
    whirl_module_delete(module);
    whirl_engine_delete(engine);
}

int main(void)
{
    test_format();
    test_host_trap();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
