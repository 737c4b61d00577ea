/* tier=auto under threads: 8 threads instantiate from one instance_pre
 * and call its functions while the background compiler swaps native code
 * in; every result must be right before, during and after the swap, and
 * every function the LLVM tier can compile must end up native. Built and
 * run under TSan too (.ci/run).
 *
 *   test_tier_auto tier_auto.wasm
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/runtime.h"
#include "whirl.h"

enum { THREADS = 8, MIN_ROUNDS = 20 };
#define MAX_SECONDS 120.0

static whirl_instance_pre_t *pre;
static _Atomic unsigned wrong, errors, rounds_done;
static _Atomic bool all_native;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int32_t call1(whirl_store_t *s, whirl_instance_t *inst, const char *name, int32_t arg)
{
    whirl_extern_t e;
    if (!whirl_instance_export(inst, name, strlen(name), &e)) {
        atomic_fetch_add(&errors, 1);
        return 0;
    }
    whirl_val_t a = {.kind = WHIRL_I32, .of.i32 = arg}, r = {.kind = WHIRL_I32};
    size_t nargs = whirl_functype_param_count(whirl_func_type(e.of.func));
    whirl_error_t *err = whirl_func_call(s, e.of.func, &a, nargs, &r, 1);
    if (err) {
        printf("FAIL %s(%d): %s\n", name, arg, whirl_error_message(err));
        whirl_error_delete(err);
        atomic_fetch_add(&errors, 1);
    }
    return r.of.i32;
}

static void *worker(void *arg)
{
    whirl_engine_t *engine = arg;
    double start = now_s();
    for (unsigned round = 0;; round++) {
        if (round >= MIN_ROUNDS && atomic_load(&all_native))
            break;
        if (now_s() - start > MAX_SECONDS)
            break;
        whirl_store_t *s = whirl_store_new(engine, NULL, NULL);
        whirl_instance_t *inst = NULL;
        whirl_error_t *err = whirl_instance_pre_instantiate(pre, s, &inst);
        if (err) {
            printf("FAIL instantiate: %s\n", whirl_error_message(err));
            whirl_error_delete(err);
            atomic_fetch_add(&errors, 1);
            whirl_store_delete(s);
            break;
        }
        int32_t n = 10 + (int32_t)(round % 8);
        static const int32_t fibs[] = {55, 89, 144, 233, 377, 610, 987, 1597};
        if (call1(s, inst, "fib", n) != fibs[n - 10])
            atomic_fetch_add(&wrong, 1);
        int32_t len = 500 + (int32_t)round;
        /* sum of 0..len-1: every value is stored and read back */
        if (call1(s, inst, "sum", len) != len * (len - 1) / 2)
            atomic_fetch_add(&wrong, 1);
        for (int32_t i = 0; i < 20; i++)
            if (call1(s, inst, "chain", i) != (i + 1) * (i + 1) + (i + 2))
                atomic_fetch_add(&wrong, 1);
        /* the global is the instance's own: 20 calls */
        if (call1(s, inst, "calls", 0) != 20)
            atomic_fetch_add(&wrong, 1);
        whirl_store_delete(s);
        atomic_fetch_add(&rounds_done, 1);
    }
    return NULL;
}

static bool native(whirl_module_t *m, uint32_t defined)
{
    return defined < m->code->nfuncs && native_entry_of(&m->code->funcs[defined]) != NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_tier_auto tier_auto.wasm\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    static unsigned char wasm[1 << 16];
    size_t len = fread(wasm, 1, sizeof wasm, f);
    fclose(f);

    whirl_config_t *config = whirl_config_new();
    whirl_config_use_env(config, false);
    whirl_config_tier_set(config, WHIRL_TIER_AUTO);
    whirl_config_set(config, "tier_threshold", "200");
    whirl_engine_t *engine;
    whirl_module_t *module;
    whirl_error_t *err = whirl_engine_new(config, &engine);
    if (!err)
        err = whirl_module_new(engine, wasm, len, &module);
    whirl_linker_t *linker = err ? NULL : whirl_linker_new(engine);
    if (!err)
        err = whirl_linker_instantiate_pre(linker, module, &pre);
    if (err) {
        printf("FAIL setup: %s\n0 passed, 1 failed\n", whirl_error_message(err));
        return 1;
    }
    whirl_linker_delete(linker);
    /* Before any call, nothing is native. Defined functions in order:
     * fib, sum, sq, simd, c, b, chain (a), calls. */
    unsigned passed = 0, failed = 0;
#define CHECK(c, what)                                       \
    do {                                                     \
        if (c)                                               \
            passed++;                                        \
        else {                                               \
            failed++;                                        \
            printf("FAIL %s\n", what);                       \
        }                                                    \
    } while (0)
    CHECK(!native(module, 0) && !native(module, 1), "nothing native before the first call");

    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&threads[i], NULL, worker, engine);
    /* Wait (bounded) for the hot functions to be swapped in while the
     * workers run; they stop after MIN_ROUNDS once that happened. */
    double start = now_s();
    while (now_s() - start < MAX_SECONDS) {
        if (native(module, 0) && native(module, 1) && native(module, 2) && native(module, 4) &&
            native(module, 5) && native(module, 6)) {
            atomic_store(&all_native, true);
            break;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);

    CHECK(atomic_load(&all_native), "fib, sum, sq, c, b, chain were compiled and swapped in");
    CHECK(atomic_load(&wrong) == 0, "every result right");
    CHECK(atomic_load(&errors) == 0, "no call failed");
    CHECK(atomic_load(&rounds_done) >= THREADS * MIN_ROUNDS, "every thread ran its rounds");
    printf("rounds: %u, results wrong: %u\n", atomic_load(&rounds_done), atomic_load(&wrong));

    whirl_instance_pre_delete(pre);
    whirl_module_delete(module);
    whirl_engine_delete(engine);
    printf("tier_auto: %u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
