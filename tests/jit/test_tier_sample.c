/* Samples across tiers (whirl_store_set_sampler in tier=auto): a sample
 * names every frame of the call into wasm, whichever tier runs each frame.
 * The interpreter calls native code, native code calls the interpreter,
 * and an interpreted frame moves into native code mid-loop; the expected
 * stacks are exact (function indices, innermost first). Deterministic: no
 * ticker; the guest's $tick makes a sample due at its next epoch check,
 * and the test waits for the compiler by its state, not by time.
 *
 *   test_tier_sample tier_sample.wasm */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jit/jit_tier.h"
#include "runtime/runtime.h"
#include "whirl.h"

#define MAX_SECONDS 60.0
/* Function indices in tier_sample.wat (two imports first). */
enum { F_LEAF2 = 2, F_COLD, F_HOT, F_WARM, F_PROBE, F_LOOPER, F_OSR_PROBE };

static unsigned passed, failed;

#define CHECK(c, ...)                  \
    do {                               \
        if (c) {                       \
            passed++;                  \
        } else {                       \
            failed++;                  \
            printf("FAIL ");           \
            printf(__VA_ARGS__);       \
            printf("\n");              \
        }                              \
    } while (0)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct env {
    whirl_engine_t *engine;
    whirl_module_t *module;
    size_t samples;
    char stacks[8][64]; /* the first samples, as "4,6" */
} env_t;

/* Waits (bounded) until the compiler has no work left for the module. */
static void settle_module(whirl_module_t *module)
{
    double start = now_s();
    while (!tier_auto_idle(module) && now_s() - start < MAX_SECONDS) {
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static whirl_error_t *tick(void *p, whirl_caller_t *caller, const whirl_val_t *args,
                           size_t nargs, whirl_val_t *results, size_t nresults)
{
    (void)caller, (void)args, (void)nargs, (void)results, (void)nresults;
    whirl_engine_increment_epoch(((env_t *)p)->engine);
    return NULL;
}

static whirl_error_t *settle(void *p, whirl_caller_t *caller, const whirl_val_t *args,
                             size_t nargs, whirl_val_t *results, size_t nresults)
{
    (void)caller, (void)args, (void)nargs, (void)results, (void)nresults;
    settle_module(((env_t *)p)->module);
    return NULL;
}

static void on_sample(void *p, const whirl_sample_frame_t *frames, size_t n)
{
    env_t *e = p;
    if (e->samples < 8) {
        char *s = e->stacks[e->samples];
        size_t len = 0;
        s[0] = 0;
        for (size_t i = 0; i < n && len + 12 < sizeof e->stacks[0]; i++)
            len += (size_t)snprintf(s + len, sizeof e->stacks[0] - len, "%s%u", i ? "," : "",
                                    frames[i].func_index);
    }
    e->samples++;
}

static bool is_native(const whirl_module_t *m, uint32_t func)
{
    return native_entry_of(&m->code->funcs[func - m->wasm->nfunc_imports]) != NULL;
}

static int32_t call(whirl_store_t *store, whirl_instance_t *inst, const char *name,
                    const whirl_val_t *args, size_t nargs)
{
    whirl_extern_t e;
    whirl_val_t r = {.kind = WHIRL_I32};
    if (!whirl_instance_export(inst, name, strlen(name), &e)) {
        CHECK(false, "no export %s", name);
        return -1;
    }
    whirl_error_t *err = whirl_func_call(store, e.of.func, args, nargs, &r, 1);
    CHECK(!err, "%s: %s", name, err ? whirl_error_message(err) : "");
    whirl_error_delete(err);
    return r.of.i32;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_tier_sample tier_sample.wasm\n");
        return 2;
    }
    static unsigned char wasm[1 << 16];
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    size_t wasm_len = fread(wasm, 1, sizeof wasm, f);
    fclose(f);

    whirl_config_t *config = whirl_config_new();
    whirl_config_use_env(config, false);
    whirl_config_tier_set(config, WHIRL_TIER_AUTO);
    whirl_config_set(config, "tier_threshold", "5");
    whirl_config_epoch_interval_set(config, 0); /* the guest moves the epoch */
    env_t env = {0};
    whirl_error_t *err = whirl_engine_new(config, &env.engine);
    if (!err)
        err = whirl_module_new(env.engine, wasm, wasm_len, &env.module);
    if (err) {
        printf("FAIL setup: %s\n", whirl_error_message(err));
        return 1;
    }
    whirl_linker_t *linker = whirl_linker_new(env.engine);
    whirl_functype_t *t_none = whirl_functype_new(NULL, 0, NULL, 0);
    err = whirl_linker_define_func(linker, "host", "tick", t_none, tick, &env, NULL);
    if (!err)
        err = whirl_linker_define_func(linker, "host", "settle", t_none, settle, &env, NULL);
    whirl_functype_delete(t_none);
    whirl_store_t *store = whirl_store_new(env.engine, NULL, NULL);
    whirl_instance_t *inst = NULL;
    if (!err)
        err = whirl_linker_instantiate(linker, store, env.module, &inst);
    if (err) {
        printf("FAIL setup: %s\n", whirl_error_message(err));
        return 1;
    }

    /* $hot called often enough becomes native; the functions called once
     * stay in the interpreter. */
    whirl_val_t n = {.kind = WHIRL_I32, .of.i32 = 100};
    call(store, inst, "warm", &n, 1);
    settle_module(env.module);
    CHECK(is_native(env.module, F_HOT), "$hot is native after 100 calls");
    CHECK(!is_native(env.module, F_PROBE) && !is_native(env.module, F_COLD) &&
              !is_native(env.module, F_LEAF2),
          "$probe, $cold and $leaf2 are interpreted (called once or never)");

    CHECK(!whirl_store_set_sampler(store, 1, on_sample, &env), "sampler set");
    int32_t r = call(store, inst, "probe", NULL, 0);
    CHECK(r == 13, "probe returns 6 + 7 (got %d)", r);
    CHECK(env.samples == 2, "probe: two samples (got %zu)", env.samples);
    /* interpreted $probe -> native $hot */
    CHECK(strcmp(env.stacks[0], "4,6") == 0,
          "a sample in native $hot names its interpreted caller: [4,6] (got [%s])",
          env.stacks[0]);
    /* interpreted $probe -> native $hot -> interpreted $cold -> $leaf2 */
    CHECK(strcmp(env.stacks[1], "2,3,4,6") == 0,
          "a sample in the interpreter under native code names both tiers' frames: [2,3,4,6] "
          "(got [%s])", env.stacks[1]);

    env.samples = 0;
    r = call(store, inst, "osr_probe", NULL, 0);
    CHECK(r == 21, "osr_probe returns 20 + 1 (got %d)", r);
    CHECK(tier_auto_osr_entered(env.module) >= 1, "$looper moved into native code mid-loop");
    CHECK(env.samples == 1, "osr_probe: one sample (got %zu)", env.samples);
    /* interpreted export -> $looper moved into native code -> native $hot:
     * $looper once, not again as the interpreter's frame it left */
    CHECK(strcmp(env.stacks[0], "4,7,8") == 0,
          "a sample under a frame that moved into native code: [4,7,8] (got [%s])",
          env.stacks[0]);

    whirl_store_delete(store);
    whirl_linker_delete(linker);
    whirl_module_delete(env.module);
    whirl_engine_delete(env.engine);
    printf("tier-sample: %u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
