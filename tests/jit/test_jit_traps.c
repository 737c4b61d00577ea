/* Traps from code compiled by the LLVM tier that the spec tests do not
 * reach: an epoch interrupt inside a loop without calls (the loop-header
 * check, not the entry one), and unbounded recursion, which must become the
 * `call stack exhausted` trap, leave the host running and leave the
 * context usable for the next call. Prints "N passed, M failed". */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "jit/jit.h"
#include "jit/jit_binding.h"
#include "runtime/runtime.h"
#include "whirl.h"

/* (module (import "env" "notify" (func $notify))
 *   (func (export "spin") (call $notify) (loop (br 0)))
 *   (func $rec (export "rec") (call $rec))) */
static const uint8_t module_bytes[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
    0x02, 0x0e, 0x01, 0x03, 'e', 'n', 'v', 0x06, 'n', 'o', 't', 'i', 'f', 'y', 0x00, 0x00,
    0x03, 0x03, 0x02, 0x00, 0x00,
    0x07, 0x0e, 0x02, 0x04, 's', 'p', 'i', 'n', 0x00, 0x01, 0x03, 'r', 'e', 'c', 0x00, 0x02,
    0x0a, 0x10, 0x02,
    0x09, 0x00, 0x10, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b,
    0x04, 0x00, 0x10, 0x02, 0x0b,
};

static unsigned passed, failed;

static void check(bool ok, const char *what, const whirl_error_t *err)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    printf("FAIL: %s%s%s\n", what, err ? ": " : "", err ? whirl_error_message(err) : "");
}

static int in_guest; /* set by the host function `notify` */

static whirl_error_t *notify(void *env, whirl_caller_t *caller, const whirl_val_t *args,
                             size_t nargs, whirl_val_t *results, size_t nresults)
{
    __atomic_store_n(&in_guest, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* Advances the epoch once `spin` has called `notify`: the guest is then
 * past its entry check, so only the loop header's check can stop it. */
static void *interrupter(void *engine)
{
    while (!__atomic_load_n(&in_guest, __ATOMIC_ACQUIRE))
        sched_yield();
    whirl_engine_increment_epoch(engine);
    return NULL;
}

static bool is_trap(const whirl_error_t *err, whirl_trap_code_t want)
{
    whirl_trap_code_t code;
    return err && whirl_error_is_trap(err, &code) && code == want;
}

int main(void)
{
    whirl_config_t *config = whirl_config_new();
    whirl_config_epoch_interval_set(config, 0); /* this test advances the epoch */
    whirl_engine_t *engine;
    whirl_module_t *module;
    whirl_error_t *err = whirl_engine_new(config, &engine);
    if (!err)
        err = whirl_module_new(engine, module_bytes, sizeof module_bytes, &module);
    if (err) {
        printf("FAIL: setup: %s\n0 passed, 1 failed\n", whirl_error_message(err));
        return 1;
    }
    jit_code_t *code;
    jit_options_t opt = {.verify = true};
    err = jit_compile(module->wasm, &opt, &code);
    check(!err, "jit_compile", err);
    if (err) {
        printf("%u passed, %u failed\n", passed, failed);
        return 1;
    }
    whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
    whirl_functype_t *type = whirl_functype_new(NULL, 0, NULL, 0);
    whirl_extern_t import = {.kind = WHIRL_EXTERN_FUNC};
    err = whirl_func_new(store, type, notify, NULL, NULL, &import.of.func);
    whirl_functype_delete(type);
    whirl_instance_t *inst = NULL;
    if (!err)
        err = whirl_instance_new(store, module, &import, 1, &inst);
    check(!err, "instantiate", err);
    if (err) {
        printf("%u passed, %u failed\n", passed, failed);
        return 1;
    }
    jit_ctx_t ctx;
    jit_ctx_init(&ctx, inst, code);
    check(jit_code_compiled(code, 1, NULL) && jit_code_compiled(code, 2, NULL),
          "both functions compiled", NULL);

    /* Interrupt inside a loop without calls. */
    whirl_store_set_epoch_deadline(store, 1);
    pthread_t thread;
    pthread_create(&thread, NULL, interrupter, engine);
    err = jit_call(&ctx, 1, NULL, NULL);
    pthread_join(thread, NULL);
    check(is_trap(err, WHIRL_TRAP_INTERRUPT), "spin: interrupt trap", err);
    /* At the loop body's first instruction (0x3c, after `loop` at 0x3a),
     * where the interpreter reports it; not at the entry check (0x38). */
    check(err && strstr(whirl_error_message(err), "in func 1 at offset 0x3c"),
          "spin: trap at the loop body", err);
    whirl_error_delete(err);

    /* Unbounded recursion, twice: the host survives and the context is
     * reusable after a trap. */
    whirl_store_clear_epoch_deadline(store);
    for (int round = 0; round < 2; round++) {
        err = jit_call(&ctx, 2, NULL, NULL);
        check(is_trap(err, WHIRL_TRAP_STACK_EXHAUSTED), "rec: call stack exhausted", err);
        whirl_error_delete(err);
    }
    check(store->native.trap_jmp == NULL, "no jump buffer left behind", NULL);
    /* The stack bound native_enter set in the context is put back when a
     * trap unwinds to it (an outer activation, e.g. on another stack,
     * would otherwise check against this one's). */
    check(inst->vm.stack_limit == 0, "stack bound restored after the trap", NULL);

    jit_code_free(code);
    whirl_store_delete(store);
    whirl_module_delete(module);
    whirl_engine_delete(engine);
    printf("%u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
