/* Functions that hold exnref values without any exception instruction (a
 * block of type exnref, an exnref local or parameter, a call returning one,
 * an exnref global) are compiled by the LLVM tier (an exnref is a pointer
 * to its exception, as in the interpreter's slots) and run with tier=jit as
 * with tier=interp. */
#include <stdio.h>
#include <string.h>

#include "jit/jit.h"
#include "runtime/runtime.h"
#include "whirl.h"

static unsigned passed, failed;

static void check(bool ok, const char *what, const char *detail)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    }
}

/* types () -> i32, (exnref) -> i32, () -> exnref; (global exnref (ref.null exn));
 * 0 "block": (block (result exnref) (return (i32.const 1))) drop, 0;
 * 1 "local": (local exnref) ref.is_null of it; 2: ref.is_null of its param;
 * 3 "calls": ref.is_null (call 4); 4: ref.null exn;
 * 5 "global": ref.is_null (global.get 0); 6 "plain": 7. */
static const unsigned char module_bytes[] = {
0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0e, 0x03, 0x60, 0x00, 0x01, 0x7f, 0x60, 0x01, 0x69, 0x01, 0x7f, 0x60, 0x00, 0x01, 0x69, 0x03, 0x08, 0x07, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x06, 0x06, 0x01, 0x69, 0x00, 0xd0, 0x69, 0x0b, 0x07, 0x2a, 0x05, 0x05, 0x62, 0x6c, 0x6f, 0x63, 0x6b, 0x00, 0x00, 0x05, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x00, 0x01, 0x05, 0x63, 0x61, 0x6c, 0x6c, 0x73, 0x00, 0x03, 0x06, 0x67, 0x6c, 0x6f, 0x62, 0x61, 0x6c, 0x00, 0x05, 0x05, 0x70, 0x6c, 0x61, 0x69, 0x6e, 0x00, 0x06, 0x0a, 0x31, 0x07, 0x0b, 0x00, 0x02, 0x69, 0x41, 0x01, 0x0f, 0x0b, 0x1a, 0x41, 0x00, 0x0b, 0x07, 0x01, 0x01, 0x69, 0x20, 0x00, 0xd1, 0x0b, 0x05, 0x00, 0x20, 0x00, 0xd1, 0x0b, 0x05, 0x00, 0x10, 0x04, 0xd1, 0x0b, 0x04, 0x00, 0xd0, 0x69, 0x0b, 0x05, 0x00, 0x23, 0x00, 0xd1, 0x0b, 0x04, 0x00, 0x41, 0x07, 0x0b
};

static const struct {
    const char *name;
    int32_t result;
} exports[] = {
    {"block", 1}, {"local", 1}, {"calls", 1}, {"global", 1}, {"plain", 7},
};

static void run_all(whirl_tier_t tier, const char *label)
{
    whirl_config_t *config = whirl_config_new();
    whirl_error_delete(whirl_config_tier_set(config, tier));
    whirl_engine_t *engine;
    whirl_error_t *err = whirl_engine_new(config, &engine);
    check(!err, label, err ? whirl_error_message(err) : NULL);
    if (err) {
        whirl_error_delete(err);
        return;
    }
    whirl_module_t *module = NULL;
    err = whirl_module_new(engine, module_bytes, sizeof module_bytes, &module);
    check(!err, label, err ? whirl_error_message(err) : NULL);
    whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
    whirl_instance_t *inst = NULL;
    if (!err)
        err = whirl_instance_new(store, module, NULL, 0, &inst);
    check(!err, label, err ? whirl_error_message(err) : NULL);
    for (size_t i = 0; inst && i < sizeof exports / sizeof exports[0]; i++) {
        whirl_extern_t ext;
        whirl_val_t res = {0};
        bool ok = whirl_instance_export(inst, exports[i].name, strlen(exports[i].name), &ext);
        whirl_error_t *call_err = ok ? whirl_func_call(store, ext.of.func, NULL, 0, &res, 1) : NULL;
        check(ok && !call_err && res.of.i32 == exports[i].result, exports[i].name,
              call_err ? whirl_error_message(call_err) : label);
        whirl_error_delete(call_err);
    }
    whirl_error_delete(err);
    whirl_store_delete(store);
    whirl_module_delete(module);
    whirl_engine_delete(engine);
}

int main(void)
{
    whirl_engine_t *engine;
    whirl_module_t *module = NULL;
    whirl_error_t *err = whirl_engine_new(NULL, &engine);
    if (!err)
        err = whirl_module_new(engine, module_bytes, sizeof module_bytes, &module);
    if (err) {
        printf("FAIL: setup: %s\n0 passed, 1 failed\n", whirl_error_message(err));
        return 1;
    }
    jit_code_t *code = NULL;
    jit_options_t opt = {.verify = true};
    err = jit_compile(module->wasm, &opt, &code);
    check(!err, "jit_compile", err ? whirl_error_message(err) : NULL);
    whirl_error_delete(err);
    for (uint32_t f = 0; code && f < 7; f++) {
        const char *why = NULL;
        bool compiled = jit_code_compiled(code, f, &why);
        char what[32];
        snprintf(what, sizeof what, "function %u", f);
        check(compiled, what, why ? why : "not compiled");
    }
    jit_code_free(code);
    whirl_module_delete(module);
    whirl_engine_delete(engine);

    run_all(WHIRL_TIER_INTERP, "tier=interp");
    run_all(WHIRL_TIER_JIT, "tier=jit");
    printf("%u passed, %u failed\n", passed, failed);
    return failed != 0;
}
