/* On-stack replacement in tier=auto (src/jit/jit_osr.c): a function called
 * once, whose loop runs in the interpreter, moves into native code at a
 * loop header once the background compiler has built it. Each case runs in
 * the interpreter (tier=interp, the reference) and in tier=auto with a
 * tiny threshold; results, trap messages and backtraces must be the same,
 * and in tier=auto the move must have happened (the tier's count, not
 * timing). Then functions called often enough must become native. Built
 * and run under TSan too (.ci/run).
 *
 *   test_tier_osr tier_osr.wasm [fresh|cache|cwasm]
 *
 * The second argument says where tier=auto's module comes from: compiled
 * (the default), a compilation cache hit (the entry stored by an earlier
 * whirl_module_new on the same directory), or whirl_module_deserialize of
 * whirl_module_serialize's output. A loaded module must tier up exactly as
 * a compiled one does (its function bodies come with it). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jit/jit_tier.h"
#include "runtime/runtime.h"
#include "whirl.h"

#define MAX_SECONDS 60.0

static unsigned char wasm[1 << 16];
static size_t wasm_len;
static unsigned passed, failed;

/* Where tier=auto's module comes from (see the top). */
static enum { FROM_FRESH, FROM_CACHE, FROM_CWASM } from = FROM_FRESH;
static char cache_dir[64];

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

static void pause_ms(void)
{
    struct timespec ts = {0, 1000 * 1000};
    nanosleep(&ts, NULL);
}

/* What one run gave: results or the trap. */
typedef struct outcome {
    whirl_val_t results[3];
    char message[256];
    size_t nframes;
    uint32_t funcs[8];
    size_t offsets[8];
    uint64_t osr; /* frames moved into native code (tier=auto) */
    uint32_t native; /* defined functions running native code at the end */
} outcome_t;

typedef struct run_env {
    whirl_engine_t *engine;
    whirl_module_t *module;
    bool interp;
    _Atomic bool done;
} run_env_t;

/* $tick: in tier=auto, holds the loop while the compiler has work for the
 * module, so the loop goes on only once the code it asked for exists. */
static whirl_error_t *tick(void *env, whirl_caller_t *caller, const whirl_val_t *args,
                           size_t nargs, whirl_val_t *results, size_t nresults)
{
    (void)caller, (void)args, (void)nargs, (void)results, (void)nresults;
    run_env_t *e = env;
    double start = now_s();
    while (!e->interp && !tier_auto_idle(e->module) && now_s() - start < MAX_SECONDS)
        pause_ms();
    return NULL;
}

/* $started: in the interpreter, the deadline passes at once (the loop's
 * first back-edge traps); in tier=auto the watcher passes it once the frame
 * moved into native code. */
static whirl_error_t *started(void *env, whirl_caller_t *caller, const whirl_val_t *args,
                              size_t nargs, whirl_val_t *results, size_t nresults)
{
    (void)caller, (void)args, (void)nargs, (void)results, (void)nresults;
    run_env_t *e = env;
    if (e->interp)
        whirl_engine_increment_epoch(e->engine);
    return NULL;
}

static void *watcher(void *arg)
{
    run_env_t *e = arg;
    double start = now_s();
    while (!atomic_load(&e->done) && tier_auto_osr_entered(e->module) == 0 &&
           now_s() - start < MAX_SECONDS)
        pause_ms();
    whirl_engine_increment_epoch(e->engine);
    return NULL;
}

/* The module for a run: compiled, or (tier=auto) loaded as `from` says,
 * checking that it was. */
static whirl_error_t *load(whirl_engine_t *engine, bool interp, whirl_module_t **out)
{
    whirl_error_t *err = whirl_module_new(engine, wasm, wasm_len, out);
    if (err || interp || from == FROM_FRESH)
        return err;
    if (from == FROM_CACHE) {
        /* The first whirl_module_new stored the entry (or hit it): this one
         * is the next process's hit. */
        whirl_module_delete(*out);
        *out = NULL;
        err = whirl_module_new(engine, wasm, wasm_len, out);
        if (!err)
            CHECK(whirl_module_from_cache(*out), "the module came from the cache");
        return err;
    }
    uint8_t *bytes = NULL;
    size_t len = 0;
    err = whirl_module_serialize(*out, &bytes, &len);
    whirl_module_delete(*out);
    *out = NULL;
    if (!err)
        err = whirl_module_deserialize(engine, bytes, len, out);
    free(bytes);
    if (!err)
        CHECK(!(*out)->jit, "the serialised module brought no native code (tier=auto)");
    return err;
}

static whirl_engine_t *engine_new(bool interp)
{
    whirl_config_t *config = whirl_config_new();
    whirl_config_use_env(config, false);
    whirl_config_tier_set(config, interp ? WHIRL_TIER_INTERP : WHIRL_TIER_AUTO);
    whirl_config_set(config, "tier_threshold", "5");
    whirl_config_epoch_interval_set(config, 0); /* the test moves the epoch */
    whirl_error_t *err = NULL;
    if (!interp && from == FROM_CACHE)
        err = whirl_config_enable_cache(config, cache_dir);
    whirl_engine_t *engine = NULL;
    if (!err)
        err = whirl_engine_new(config, &engine);
    else
        whirl_config_delete(config);
    if (err) {
        printf("FAIL engine: %s\n", whirl_error_message(err));
        whirl_error_delete(err);
        failed++;
    }
    return engine;
}

/* Calls export `name` `times` times (the results of the last call). */
static bool run(bool interp, const char *name, int32_t arg, size_t nresults, outcome_t *out,
                unsigned times)
{
    memset(out, 0, sizeof *out);
    run_env_t env = {.interp = interp};
    if (!(env.engine = engine_new(interp)))
        return false;
    whirl_error_t *err = load(env.engine, interp, &env.module);
    if (err) {
        printf("FAIL setup: %s\n", whirl_error_message(err));
        whirl_error_delete(err);
        failed++;
        return false;
    }
    whirl_linker_t *linker = whirl_linker_new(env.engine);
    whirl_valkind_t i32 = WHIRL_I32;
    whirl_functype_t *t_tick = whirl_functype_new(&i32, 1, NULL, 0);
    whirl_functype_t *t_none = whirl_functype_new(NULL, 0, NULL, 0);
    err = whirl_linker_define_func(linker, "host", "tick", t_tick, tick, &env, NULL);
    if (!err)
        err = whirl_linker_define_func(linker, "host", "started", t_none, started, &env, NULL);
    whirl_functype_delete(t_tick);
    whirl_functype_delete(t_none);
    whirl_store_t *store = whirl_store_new(env.engine, NULL, NULL);
    whirl_instance_t *inst = NULL;
    if (!err)
        err = whirl_linker_instantiate(linker, store, env.module, &inst);
    whirl_extern_t e;
    bool ok = !err && whirl_instance_export(inst, name, strlen(name), &e);
    if (ok) {
        whirl_store_set_epoch_deadline(store, 1); /* the next increment */
        pthread_t w;
        /* Only "spin" waits for the deadline: elsewhere it would cut the
         * run short. */
        bool watching = !interp && strcmp(name, "spin") == 0 &&
                        pthread_create(&w, NULL, watcher, &env) == 0;
        whirl_val_t a = {.kind = WHIRL_I32, .of.i32 = arg};
        for (unsigned i = 0; i < times && !err; i++)
            err = whirl_func_call(store, e.of.func, &a, 1, out->results, nresults);
        atomic_store(&env.done, true);
        if (watching)
            pthread_join(w, NULL);
        out->osr = interp ? 0 : tier_auto_osr_entered(env.module);
        double start = now_s();
        while (!interp && !tier_auto_idle(env.module) && now_s() - start < MAX_SECONDS)
            pause_ms();
        for (uint32_t i = 0; i < env.module->code->nfuncs; i++)
            out->native += native_entry_of(&env.module->code->funcs[i]) != NULL;
    }
    if (err) {
        snprintf(out->message, sizeof out->message, "%s", whirl_error_message(err));
        out->nframes = whirl_error_frame_count(err);
        for (size_t i = 0; i < out->nframes && i < 8; i++) {
            const char *fname;
            whirl_error_frame(err, i, &out->funcs[i], &fname, &out->offsets[i]);
        }
        whirl_error_delete(err);
    }
    whirl_store_delete(store);
    whirl_linker_delete(linker);
    whirl_module_delete(env.module);
    whirl_engine_delete(env.engine);
    if (!ok && !out->message[0]) {
        printf("FAIL %s: no such export\n", name);
        failed++;
    }
    return ok;
}

/* Runs `name` in both tiers and compares everything. */
static void compare(const char *name, int32_t arg, size_t nresults, const char *want_trap)
{
    outcome_t ref, got;
    if (!run(true, name, arg, nresults, &ref, 1) || !run(false, name, arg, nresults, &got, 1))
        return;
    CHECK(got.osr >= 1, "%s: the frame moved into native code (%llu moves)", name,
          (unsigned long long)got.osr);
    CHECK(strcmp(ref.message, got.message) == 0, "%s: trap '%s' in the interpreter, '%s' in auto",
          name, ref.message, got.message);
    if (want_trap)
        CHECK(strstr(ref.message, want_trap) != NULL, "%s: trap '%s' names '%s'", name,
              ref.message, want_trap);
    else
        CHECK(!ref.message[0], "%s: no trap (got '%s')", name, ref.message);
    CHECK(ref.nframes == got.nframes, "%s: %zu frames in the interpreter, %zu in auto", name,
          ref.nframes, got.nframes);
    for (size_t i = 0; i < ref.nframes && i < got.nframes && i < 8; i++)
        CHECK(ref.funcs[i] == got.funcs[i] && ref.offsets[i] == got.offsets[i],
              "%s: frame %zu: func %u at 0x%zx in the interpreter, func %u at 0x%zx in auto",
              name, i, ref.funcs[i], ref.offsets[i], got.funcs[i], got.offsets[i]);
    for (size_t i = 0; i < nresults && !want_trap; i++)
        CHECK(ref.results[i].kind == got.results[i].kind &&
                  memcmp(&ref.results[i].of, &got.results[i].of, 8) == 0,
              "%s: result %zu differs", name, i);
    printf("%s: %llu move(s) into native code, %s\n", name, (unsigned long long)got.osr,
           got.message[0] ? got.message : "results equal");
}

/* Functions called often enough become native: ten calls of "sum" with
 * the threshold at 5 make the export's function and $sum hot (compiled by
 * their call counts, not at a loop); the results stay the interpreter's. */
static void calls(void)
{
    outcome_t ref, got;
    if (!run(true, "sum", 3, 3, &ref, 10) || !run(false, "sum", 3, 3, &got, 10))
        return;
    CHECK(got.native >= 2, "sum: %u functions native after ten calls, want 2 or more",
          got.native);
    CHECK(!ref.message[0] && !got.message[0], "sum: no trap ('%s', '%s')", ref.message,
          got.message);
    for (size_t i = 0; i < 3; i++)
        CHECK(ref.results[i].kind == got.results[i].kind &&
                  memcmp(&ref.results[i].of, &got.results[i].of, 8) == 0,
              "sum: result %zu differs after ten calls", i);
    printf("calls: %u functions native, results equal\n", got.native);
}

int main(int argc, char **argv)
{
    const char *froms[] = {"fresh", "cache", "cwasm"};
    if (argc == 3)
        for (int i = 0; i < 3; i++)
            if (strcmp(argv[2], froms[i]) == 0)
                from = i, argc = 2;
    if (argc != 2) {
        fprintf(stderr, "usage: test_tier_osr tier_osr.wasm [fresh|cache|cwasm]\n");
        return 2;
    }
    snprintf(cache_dir, sizeof cache_dir, "/tmp/whirl-tier-osr-XXXXXX");
    if (from == FROM_CACHE && !mkdtemp(cache_dir)) {
        perror("mkdtemp");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    wasm_len = fread(wasm, 1, sizeof wasm, f);
    fclose(f);

    compare("sum", 100, 3, NULL);           /* every kind of local, three results */
    compare("trap", 100, 1, "out of bounds"); /* a trap in the moved frame */
    compare("spin", 3, 1, "interrupt");      /* the deadline in a loop without calls */
    compare("nested", 3, 1, NULL);           /* an inner loop with operands, then a call */
    calls();
    if (from == FROM_CACHE) {
        whirl_cache_stats_t st;
        whirl_error_t *err = whirl_cache_stats(cache_dir, &st);
        CHECK(!err && st.entries == 1 && st.hits >= 5 && st.invalid == 0,
              "cache: one entry, every tier=auto run's second load a hit (%llu entries, %llu "
              "hits, %llu invalid)",
              (unsigned long long)st.entries, (unsigned long long)st.hits,
              (unsigned long long)st.invalid);
        whirl_error_delete(err);
        whirl_error_delete(whirl_cache_clear(cache_dir));
        char lock[96];
        snprintf(lock, sizeof lock, "%s/evict.lock", cache_dir);
        unlink(lock);
        rmdir(cache_dir);
    }
    printf("osr: %u passed, %u failed (module %s)\n", passed, failed, froms[from]);
    return failed ? 1 : 0;
}
