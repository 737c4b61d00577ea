/* The `spectest` host module and the epoch ticker (see spectest.h). */
#include "spectest.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

static whirl_error_t *print_nothing(void *env, whirl_caller_t *caller,
                                    const whirl_val_t *args, size_t nargs,
                                    whirl_val_t *results, size_t nresults)
{
    (void)env, (void)caller, (void)args, (void)nargs, (void)results, (void)nresults;
    return NULL;
}

static whirl_error_t *new_print(spectest_t *st, size_t *n, const char *name,
                                const whirl_valkind_t *params, size_t nparams)
{
    whirl_functype_t *type = whirl_functype_new(params, nparams, NULL, 0);
    if (!type)
        return whirl_error_new("spectest: out of memory");
    st->names[*n] = name;
    st->externs[*n].kind = WHIRL_EXTERN_FUNC;
    whirl_error_t *err =
        whirl_func_new(st->store, type, print_nothing, NULL, NULL, &st->externs[*n].of.func);
    whirl_functype_delete(type);
    (*n)++;
    return err;
}

static whirl_error_t *new_global(spectest_t *st, size_t *n, const char *name,
                                 const whirl_val_t *val)
{
    st->names[*n] = name;
    st->externs[*n].kind = WHIRL_EXTERN_GLOBAL;
    return whirl_global_new(st->store, val, false, &st->externs[(*n)++].of.global);
}

/* The API makes no 64-bit tables: a module exporting one makes it,
 * (module (table (export "table64") i64 10 20 funcref)). */
static whirl_error_t *new_table64(spectest_t *st, whirl_engine_t *engine, size_t *n)
{
    static const uint8_t wasm[] = {
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,       /* header */
        0x04, 0x05, 0x01, 0x70, 0x05, 0x0a, 0x14,             /* table i64 10 20 funcref */
        0x07, 0x0b, 0x01, 0x07, 't', 'a', 'b', 'l', 'e', '6', '4', 0x01, 0x00, /* export */
    };
    whirl_module_t *m;
    whirl_instance_t *inst;
    whirl_error_t *err = whirl_module_new(engine, wasm, sizeof wasm, &m);
    if (err)
        return err;
    err = whirl_instance_new(st->store, m, NULL, 0, &inst);
    whirl_module_delete(m);
    if (err)
        return err;
    st->names[*n] = "table64";
    if (!whirl_instance_export(inst, "table64", 7, &st->externs[(*n)++]))
        return whirl_error_new("spectest: no table64 export");
    return NULL;
}

static whirl_error_t *create(spectest_t *st, whirl_engine_t *engine)
{
    static const struct {
        const char *name;
        whirl_valkind_t params[2];
        size_t nparams;
    } prints[] = {
        {"print", {0}, 0},
        {"print_i32", {WHIRL_I32}, 1},
        {"print_i64", {WHIRL_I64}, 1},
        {"print_f32", {WHIRL_F32}, 1},
        {"print_f64", {WHIRL_F64}, 1},
        {"print_i32_f32", {WHIRL_I32, WHIRL_F32}, 2},
        {"print_f64_f64", {WHIRL_F64, WHIRL_F64}, 2},
    };
    whirl_error_t *err;
    size_t n = 0;
    for (size_t i = 0; i < sizeof prints / sizeof prints[0]; i++)
        if ((err = new_print(st, &n, prints[i].name, prints[i].params, prints[i].nparams)))
            return err;

    whirl_val_t v = {.kind = WHIRL_I32, .of.i32 = 666};
    if ((err = new_global(st, &n, "global_i32", &v)))
        return err;
    v = (whirl_val_t){.kind = WHIRL_I64, .of.i64 = 666};
    if ((err = new_global(st, &n, "global_i64", &v)))
        return err;
    v = (whirl_val_t){.kind = WHIRL_F32, .of.f32 = 666.6f};
    if ((err = new_global(st, &n, "global_f32", &v)))
        return err;
    v = (whirl_val_t){.kind = WHIRL_F64, .of.f64 = 666.6};
    if ((err = new_global(st, &n, "global_f64", &v)))
        return err;

    whirl_val_t null_ref = {.kind = WHIRL_FUNCREF, .of.funcref = NULL};
    st->names[n] = "table";
    st->externs[n].kind = WHIRL_EXTERN_TABLE;
    if ((err = whirl_table_new(st->store, WHIRL_FUNCREF, 10, 20, &null_ref,
                               &st->externs[n++].of.table)))
        return err;
    if ((err = new_table64(st, engine, &n)))
        return err;
    st->names[n] = "memory";
    st->externs[n].kind = WHIRL_EXTERN_MEMORY;
    if ((err = whirl_memory_new(st->store, 1, 2, &st->externs[n++].of.memory)))
        return err;
    st->names[n] = "shared_memory"; /* threads */
    st->externs[n].kind = WHIRL_EXTERN_MEMORY;
    return whirl_shared_memory_new(st->store, 1, 2, &st->externs[n++].of.memory);
}

whirl_error_t *spectest_define(whirl_linker_t *linker, whirl_engine_t *engine, whirl_store_t *store,
                               spectest_t *cache)
{
    if (cache->store && cache->store != store)
        return whirl_error_new("spectest: objects belong to another store");
    if (!cache->store) {
        *cache = (spectest_t){.store = store};
        whirl_error_t *err = create(cache, engine);
        if (err) {
            cache->store = NULL;
            return err;
        }
    }
    for (size_t i = 0; i < SPECTEST_EXPORTS; i++) {
        whirl_error_t *err = whirl_linker_define(linker, "spectest", cache->names[i],
                                                 &cache->externs[i]);
        if (err)
            return err;
    }
    return NULL;
}

struct ticker {
    whirl_engine_t *engine;
    unsigned interval_ms;
    atomic_bool stop;
    pthread_t thread;
};

static void *ticker_main(void *arg)
{
    ticker_t *t = arg;
    struct timespec ts = {.tv_sec = t->interval_ms / 1000,
                          .tv_nsec = (long)(t->interval_ms % 1000) * 1000000L};
    while (!atomic_load(&t->stop)) {
        nanosleep(&ts, NULL);
        whirl_engine_increment_epoch(t->engine);
    }
    return NULL;
}

ticker_t *ticker_start(whirl_engine_t *engine, unsigned interval_ms)
{
    ticker_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->engine = engine;
    t->interval_ms = interval_ms ? interval_ms : 1;
    atomic_init(&t->stop, false);
    if (pthread_create(&t->thread, NULL, ticker_main, t) != 0) {
        free(t);
        return NULL;
    }
    return t;
}

void ticker_stop(ticker_t *t)
{
    if (!t)
        return;
    atomic_store(&t->stop, true);
    pthread_join(t->thread, NULL);
    free(t);
}
