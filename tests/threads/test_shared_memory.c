/* Shared memories across stores and threads (threads proposal):
 *   - one shared memory, a view of it in each of THREADS stores, one
 *     instance per store, each thread adding to one counter with
 *     i32.atomic.rmw.add: no increment is lost;
 *   - memory.grow through one store is seen by every other (a load past the
 *     old end from an instance that cached the old size does not trap), also
 *     by a guest spinning on memory.size in a loop without calls;
 *   - memory.atomic.wait32 on one thread is woken by memory.atomic.notify
 *     from another store on another thread; wait timeouts and "not equal";
 *   - a waiting guest is stopped by its store's epoch deadline (interrupt);
 *   - wait on an unshared memory traps, notify there wakes nobody, an
 *     unaligned atomic traps; threads=n refuses atomics and shared memories;
 *   - a shared memory counts its maximum against its store's limit, a view
 *     counts nothing, and the bytes outlive the store that made them.
 * Usage: test_shared_memory DIR (DIR holds shared.wasm and unshared.wasm,
 * built from the .wat files next to this one). No sleeps: threads signal
 * through the shared memory itself. */
#include <pthread.h>
#include <sched.h>
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

#define THREADS 4
#define ADDS 20000

static uint8_t *read_file(const char *dir, const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = malloc(1 << 16);
    *len = buf ? fread(buf, 1, 1 << 16, f) : 0;
    fclose(f);
    return buf;
}

static bool ok(whirl_error_t *err, const char *what)
{
    if (!err)
        return true;
    fprintf(stderr, "%s: %s\n", what, whirl_error_message(err));
    whirl_error_delete(err);
    return false;
}

typedef struct guest {
    whirl_store_t *store;
    whirl_memory_t *memory; /* this store's view */
    whirl_instance_t *instance;
} guest_t;

static whirl_func_t *export_func(whirl_instance_t *inst, const char *name)
{
    whirl_extern_t ext;
    if (!whirl_instance_export(inst, name, strlen(name), &ext) || ext.kind != WHIRL_EXTERN_FUNC)
        return NULL;
    return ext.of.func;
}

static whirl_error_t *call(guest_t *g, const char *name, const whirl_val_t *args, size_t nargs,
                           whirl_val_t *result)
{
    whirl_func_t *f = export_func(g->instance, name);
    if (!f)
        return whirl_error_newf("no export %s", name);
    return whirl_func_call(g->store, f, args, nargs, result, result ? 1 : 0);
}

/* A store over `shared` (a view of it unless `own`), with the module
 * instantiated importing it. */
static bool guest_new(whirl_engine_t *engine, whirl_module_t *module, whirl_memory_t *shared,
                      whirl_store_t *own, guest_t *g)
{
    memset(g, 0, sizeof *g);
    g->store = own ? own : whirl_store_new(engine, NULL, NULL);
    if (!g->store)
        return false;
    if (own)
        g->memory = shared;
    else if (!ok(whirl_shared_memory_import(g->store, shared, &g->memory), "import"))
        return false;
    whirl_extern_t imp = {.kind = WHIRL_EXTERN_MEMORY, .of.memory = g->memory};
    return ok(whirl_instance_new(g->store, module, &imp, 1, &g->instance), "instantiate");
}

static void *adder(void *arg)
{
    guest_t *g = arg;
    whirl_val_t n = {.kind = WHIRL_I32, .of.i32 = ADDS};
    whirl_error_t *err = call(g, "add", &n, 1, NULL);
    return err; /* NULL on success */
}

typedef struct waiter {
    guest_t *g;
    int64_t timeout;
    whirl_val_t result;
    whirl_error_t *err;
} waiter_t;

static void *wait_thread(void *arg)
{
    waiter_t *w = arg;
    whirl_val_t t = {.kind = WHIRL_I64, .of.i64 = w->timeout};
    w->err = call(w->g, "wait", &t, 1, &w->result);
    return NULL;
}

typedef struct spinner {
    guest_t *g;
    int32_t old;
    whirl_val_t result;
    whirl_error_t *err;
} spinner_t;

static void *spin_thread(void *arg)
{
    spinner_t *s = arg;
    whirl_val_t a = {.kind = WHIRL_I32, .of.i32 = s->old};
    s->err = call(s->g, "await_grow", &a, 1, &s->result);
    return NULL;
}

static uint32_t load32(whirl_memory_t *m, size_t at)
{
    return __atomic_load_n((uint32_t *)(whirl_memory_data(m) + at), __ATOMIC_SEQ_CST);
}

static void store32(whirl_memory_t *m, size_t at, uint32_t v)
{
    __atomic_store_n((uint32_t *)(whirl_memory_data(m) + at), v, __ATOMIC_SEQ_CST);
}

/* Spins until the guest has set the flag at 16 (it does so right before
 * memory.atomic.wait32): an event, not a delay. */
static void await_flag(whirl_memory_t *m)
{
    while (load32(m, 16) == 0)
        sched_yield();
}

static bool is_trap(whirl_error_t *err, whirl_trap_code_t want)
{
    whirl_trap_code_t code;
    bool yes = err && whirl_error_is_trap(err, &code) && code == want;
    if (err && !yes)
        fprintf(stderr, "unexpected error: %s\n", whirl_error_message(err));
    whirl_error_delete(err);
    return yes;
}

static void test_threads(whirl_engine_t *engine, whirl_module_t *module)
{
    whirl_store_t *owner = whirl_store_new(engine, NULL, NULL);
    whirl_memory_t *shared = NULL;
    CHECK(ok(whirl_shared_memory_new(owner, 1, 4, &shared), "shared memory"));
    if (!shared)
        return;
    CHECK(whirl_memory_is_shared(shared));
    guest_t g[THREADS];
    bool made = true;
    for (int i = 0; i < THREADS; i++)
        made &= guest_new(engine, module, shared, i == 0 ? owner : NULL, &g[i]);
    CHECK(made);
    if (!made)
        return;

    /* Every thread adds ADDS to the counter at 0, atomically. */
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, adder, &g[i]);
    int errors = 0;
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        errors += ok(r, "add") ? 0 : 1;
    }
    CHECK(errors == 0);
    CHECK(load32(shared, 0) == THREADS * ADDS);

    /* Growth through store 2 is seen by store 1's instance, whose
     * interpreter cached one page (it ran before), and by the host. */
    whirl_val_t one = {.kind = WHIRL_I32, .of.i32 = 1}, r;
    CHECK(ok(call(&g[2], "grow", &one, 1, &r), "grow") && r.of.i32 == 1);
    CHECK(whirl_memory_pages(shared) == 2 && whirl_memory_pages(g[1].memory) == 2);
    CHECK(ok(call(&g[1], "size", NULL, 0, &r), "size") && r.of.i32 == 2);
    whirl_val_t sv[2] = {{.kind = WHIRL_I32, .of.i32 = 65536 + 4},
                         {.kind = WHIRL_I32, .of.i32 = 77}};
    CHECK(ok(call(&g[3], "store", sv, 2, NULL), "store past the old end"));
    CHECK(ok(call(&g[1], "load", sv, 1, &r), "load past the old end") && r.of.i32 == 77);

    /* A guest spinning on memory.size (with tier=jit, a native loop) sees
     * another thread's growth, then loads past the old end. */
    store32(shared, 16, 0);
    spinner_t sp = {.g = &g[1], .old = 2};
    pthread_t st;
    pthread_create(&st, NULL, spin_thread, &sp);
    await_flag(shared);
    CHECK(ok(call(&g[3], "grow", &one, 1, &r), "grow while another spins") && r.of.i32 == 2);
    pthread_join(st, NULL);
    CHECK(ok(sp.err, "await_grow") && sp.result.of.i32 == 0);

    whirl_val_t four = {.kind = WHIRL_I32, .of.i32 = 4};
    CHECK(ok(call(&g[0], "grow", &four, 1, &r), "grow") && r.of.i32 == -1); /* past max 4 */

    /* wait on store 1's thread, notify from store 3 on this one. */
    waiter_t w = {.g = &g[1], .timeout = -1};
    store32(shared, 8, 0);
    store32(shared, 16, 0);
    pthread_t wt;
    pthread_create(&wt, NULL, wait_thread, &w);
    await_flag(shared);
    uint32_t woken = 0;
    while (!woken) { /* the guest may not sleep yet: notify until it is woken */
        CHECK(ok(call(&g[3], "notify", &four, 1, &r), "notify"));
        woken = (uint32_t)r.of.i32;
    }
    pthread_join(wt, NULL);
    CHECK(woken == 1);
    CHECK(!w.err && w.result.of.i32 == 0); /* "ok": woken */

    /* Timeout and not-equal. */
    w = (waiter_t){.g = &g[2], .timeout = 1000000}; /* 1 ms */
    wait_thread(&w);
    CHECK(!w.err && w.result.of.i32 == 2);
    store32(shared, 8, 5);
    w = (waiter_t){.g = &g[2], .timeout = -1};
    wait_thread(&w);
    CHECK(!w.err && w.result.of.i32 == 1);
    whirl_val_t args64[2] = {{.kind = WHIRL_I64, .of.i64 = 0}, {.kind = WHIRL_I64, .of.i64 = 0}};
    CHECK(ok(call(&g[2], "wait64", args64, 2, &r), "wait64") && r.of.i32 == 2);
    whirl_val_t cx[3] = {{.kind = WHIRL_I32, .of.i32 = 8}, {.kind = WHIRL_I32, .of.i32 = 0x105},
                         {.kind = WHIRL_I32, .of.i32 = 9}};
    CHECK(ok(call(&g[2], "cmpxchg8", cx, 3, &r), "cmpxchg8") && r.of.i32 == 5 &&
          load32(shared, 8) == 9); /* the expected value is wrapped to 8 bits */
    CHECK(ok(call(&g[2], "fence", NULL, 0, NULL), "fence"));

    /* A waiting guest is stopped by its store's deadline. */
    store32(shared, 8, 0);
    store32(shared, 16, 0);
    whirl_store_set_epoch_deadline(g[1].store, 1);
    w = (waiter_t){.g = &g[1], .timeout = -1};
    pthread_create(&wt, NULL, wait_thread, &w);
    await_flag(shared);
    whirl_engine_increment_epoch(engine);
    pthread_join(wt, NULL);
    CHECK(is_trap(w.err, WHIRL_TRAP_INTERRUPT));

    /* The bytes outlive the store that made them; views count nothing. */
    CHECK(whirl_store_memory_consumed(g[2].store) == 0);
    CHECK(whirl_store_memory_consumed(owner) == 4 * WHIRL_PAGE_SIZE);
    whirl_store_delete(owner);
    CHECK(ok(call(&g[3], "load", sv, 1, &r), "load after the owner went") && r.of.i32 == 77);
    for (int i = 1; i < THREADS; i++)
        whirl_store_delete(g[i].store);
}

static void test_unshared(whirl_engine_t *engine, whirl_module_t *module)
{
    guest_t g = {.store = whirl_store_new(engine, NULL, NULL)};
    CHECK(ok(whirl_instance_new(g.store, module, NULL, 0, &g.instance), "unshared"));
    whirl_val_t r;
    CHECK(is_trap(call(&g, "wait", NULL, 0, &r), WHIRL_TRAP_WAIT_UNSHARED));
    CHECK(ok(call(&g, "notify", NULL, 0, &r), "notify") && r.of.i32 == 0);
    CHECK(is_trap(call(&g, "unaligned", NULL, 0, &r), WHIRL_TRAP_UNALIGNED_ATOMIC));
    whirl_memory_t *m = NULL, *v = NULL;
    CHECK(ok(whirl_memory_new(g.store, 1, 2, &m), "memory"));
    whirl_error_t *err = whirl_shared_memory_import(g.store, m, &v);
    CHECK(err && !v); /* not shared */
    whirl_error_delete(err);
    err = whirl_shared_memory_new(g.store, 1, WHIRL_NO_MAX, &v);
    CHECK(err && !v); /* no maximum */
    whirl_error_delete(err);
    /* The maximum counts: 3 pages of 4 do not fit a 2-page limit. */
    whirl_store_t *small = whirl_store_new(engine, NULL, NULL);
    whirl_store_limits_set(small, 2 * WHIRL_PAGE_SIZE, WHIRL_NO_LIMIT);
    err = whirl_shared_memory_new(small, 1, 3, &v);
    CHECK(err && !v);
    whirl_error_delete(err);
    whirl_store_delete(small);
    whirl_store_delete(g.store);
}

/* threads=n: both modules are refused, naming the proposal. */
static void test_switched_off(const uint8_t *shared, size_t shared_len, const uint8_t *unshared,
                              size_t unshared_len)
{
    whirl_config_t *config = whirl_config_new();
    whirl_config_feature_set(config, WHIRL_FEATURE_THREADS, false);
    whirl_engine_t *engine = NULL;
    if (!ok(whirl_engine_new(config, &engine), "engine")) {
        CHECK(false);
        return;
    }
    whirl_module_t *m = NULL;
    whirl_error_t *err = whirl_module_new(engine, shared, shared_len, &m);
    CHECK(err && !m && strstr(whirl_error_message(err), "shared memories (threads)"));
    whirl_error_delete(err);
    err = whirl_module_new(engine, unshared, unshared_len, &m);
    CHECK(err && !m && strstr(whirl_error_message(err), "atomic instructions (threads"));
    whirl_error_delete(err);
    whirl_engine_delete(engine);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_shared_memory DIR\n");
        return 2;
    }
    size_t slen = 0, ulen = 0;
    uint8_t *sbytes = read_file(argv[1], "shared.wasm", &slen);
    uint8_t *ubytes = read_file(argv[1], "unshared.wasm", &ulen);
    whirl_config_t *config = whirl_config_new();
    whirl_config_epoch_interval_set(config, 0); /* the test advances the epoch */
    whirl_engine_t *engine = NULL;
    whirl_module_t *shared = NULL, *unshared = NULL;
    if (!sbytes || !ubytes || !ok(whirl_engine_new(config, &engine), "engine") ||
        !ok(whirl_module_new(engine, sbytes, slen, &shared), "shared.wasm") ||
        !ok(whirl_module_new(engine, ubytes, ulen, &unshared), "unshared.wasm")) {
        printf("test_shared_memory: setup failed\n0 passed, 1 failed\n");
        return 1;
    }
    test_threads(engine, shared);
    test_unshared(engine, unshared);
    test_switched_off(sbytes, slen, ubytes, ulen);
    whirl_module_delete(shared);
    whirl_module_delete(unshared);
    whirl_engine_delete(engine);
    free(sbytes);
    free(ubytes);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
