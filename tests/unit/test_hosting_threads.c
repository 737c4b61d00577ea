/* 8 threads instantiate and free 2,000 instances each from one
 * instance_pre, with the pooling allocator and without, while the engine's
 * epoch ticker runs. Every instance must start from clean memory (a value
 * written by an earlier tenant of the same pool slot must never show) and
 * every slot must be back in the pool at the end. Meant to run under
 * ThreadSanitizer as well as AddressSanitizer (see docs/ARCHITECTURE.md). */
#include <pthread.h>

#include "hosting_common.h"

enum { THREADS = 8, ROUNDS = 2000 };

typedef struct worker {
    whirl_engine_t *engine;
    const whirl_instance_pre_t *pre;
    int id;
    int errors;
} worker_t;

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

static void *work(void *arg)
{
    worker_t *w = arg;
    for (int r = 0; r < ROUNDS; r++) {
        whirl_store_t *s = whirl_store_new(w->engine, NULL, NULL);
        if (!s) {
            w->errors++;
            continue;
        }
        whirl_store_limits_set(s, 4 * 65536, 1000);
        whirl_store_set_deadline(s, whirl_monotonic_now() + 60ull * 1000000000);
        whirl_instance_t *inst = NULL;
        whirl_error_t *err = whirl_instance_pre_instantiate(w->pre, s, &inst);
        if (err) {
            if (w->errors++ < 5)
                fprintf(stderr, "thread %d round %d: %s\n", w->id, r, whirl_error_message(err));
            whirl_error_delete(err);
            whirl_store_delete(s);
            continue;
        }
        whirl_extern_t mem = export_of(inst, "mem");
        const int32_t *words = (const int32_t *)whirl_memory_data(mem.of.memory);
        /* A fresh tenant sees zeros where the last one left its mark. */
        if (words[0] != 0 || words[100] != 0)
            w->errors++;
        int32_t v = w->id * 100000 + r;
        if (call_i32(s, inst, "run", 1, v, 0) != v + 1)
            w->errors++;
        /* Leave a mark in memory for the slot's next tenant. */
        ((int32_t *)whirl_memory_data(mem.of.memory))[100] = v;
        if (whirl_store_memory_consumed(s) != 65536)
            w->errors++;
        whirl_store_delete(s);
    }
    return NULL;
}

static void run(bool pooling)
{
    whirl_config_t *c = whirl_config_new();
    whirl_config_use_env(c, false);
    whirl_config_pooling_set(c, pooling);
    /* Few slots, so that they are reused often and contended for. */
    whirl_config_pool_limit_set(c, WHIRL_POOL_MAX_INSTANCE_COUNT, 16);
    whirl_engine_t *e = engine_of(c); /* with the default epoch ticker */
    if (!e)
        return;
    CHECK(whirl_engine_pooling(e) == pooling);
    /*
     * (module
     *   (import "host" "add" (func $add (param i32 i32) (result i32)))
     *   (memory (export "mem") 1)
     *   (func (export "run") (param i32) (result i32)
     *     i32.const 0 local.get 0 i32.store
     *     i32.const 0 i32.load i32.const 1 call $add))
     */
    static const uint8_t wasm[] = {
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0c, 0x02, 0x60, 0x02, 0x7f,
        0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x02, 0x0c, 0x01, 0x04, 0x68, 0x6f,
        0x73, 0x74, 0x03, 0x61, 0x64, 0x64, 0x00, 0x00, 0x03, 0x02, 0x01, 0x01, 0x05, 0x03,
        0x01, 0x00, 0x01, 0x07, 0x0d, 0x02, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x03, 0x72,
        0x75, 0x6e, 0x00, 0x01, 0x0a, 0x14, 0x01, 0x12, 0x00, 0x41, 0x00, 0x20, 0x00, 0x36,
        0x02, 0x00, 0x41, 0x00, 0x28, 0x02, 0x00, 0x41, 0x01, 0x10, 0x00, 0x0b,
    };
    whirl_module_t *m = LOAD(e, wasm);
    whirl_linker_t *l = whirl_linker_new(e);
    whirl_valkind_t ii[] = {WHIRL_I32, WHIRL_I32}, i[] = {WHIRL_I32};
    whirl_functype_t *t = whirl_functype_new(ii, 2, i, 1);
    CHECK_OK(whirl_linker_define_func(l, "host", "add", t, host_add, NULL, NULL));
    whirl_functype_delete(t);
    whirl_instance_pre_t *pre = NULL;
    CHECK_OK(whirl_linker_instantiate_pre(l, m, &pre));
    whirl_linker_delete(l);
    whirl_module_delete(m);
    if (!pre) {
        whirl_engine_delete(e);
        return;
    }

    pthread_t threads[THREADS];
    worker_t workers[THREADS];
    for (int k = 0; k < THREADS; k++) {
        workers[k] = (worker_t){.engine = e, .pre = pre, .id = k};
        CHECK(pthread_create(&threads[k], NULL, work, &workers[k]) == 0);
    }
    int errors = 0;
    for (int k = 0; k < THREADS; k++) {
        pthread_join(threads[k], NULL);
        errors += workers[k].errors;
    }
    if (errors)
        fprintf(stderr, "%s: %d errors\n", pooling ? "pooling" : "on demand", errors);
    CHECK(errors == 0);
    whirl_pool_stats_t st;
    whirl_engine_pool_stats(e, &st);
    CHECK(st.memories_in_use == 0 && st.stacks_in_use == 0 && st.core_instances_in_use == 0 &&
          st.instances_in_use == 0);
    whirl_instance_pre_delete(pre);
    whirl_engine_delete(e);
}

int main(void)
{
    run(true);
    run(false);
    return report();
}
