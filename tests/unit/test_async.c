#define _GNU_SOURCE /* pthread_cond_clockwait */
/* Resumable calls (include/whirl/async.h): async host functions finished
 * from another thread or later on the same one, 1,000 suspended calls on
 * one thread, instantiation with a start function that waits, epoch
 * yields, deadlines of pending calls, fiber stack exhaustion, and stack
 * scrubbing between stores. Also run under ASan and TSan (.ci/run). */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "async_modules.h"
#include "runtime/fiber.h"
#include "whirl.h"

static int passed, failed;

#define CHECK(cond, ...)                                          \
    do {                                                          \
        if (cond) {                                               \
            passed++;                                             \
        } else {                                                  \
            failed++;                                             \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            printf(__VA_ARGS__);                                  \
            printf("\n");                                         \
        }                                                         \
    } while (0)

static void die_on(whirl_error_t *err, const char *what)
{
    if (err) {
        printf("FAIL %s: %s\n", what, whirl_error_message(err));
        exit(1);
    }
}

static whirl_engine_t *engine_with(const char *pooling, const char *epoch_interval,
                                   const char *async_stack)
{
    whirl_config_t *config = whirl_config_new();
    whirl_config_use_env(config, false);
    die_on(whirl_config_set(config, "pooling", pooling), "pooling");
    if (!strcmp(pooling, "on")) {
        /* A small pool: it fits the sanitizers' address layout too. */
        die_on(whirl_config_set(config, "max_instance_count", "4"), "pool");
    }
    die_on(whirl_config_set(config, "epoch_interval", epoch_interval), "epoch_interval");
    if (async_stack)
        die_on(whirl_config_set(config, "async_stack_size", async_stack), "async_stack_size");
    whirl_engine_t *engine;
    die_on(whirl_engine_new(config, &engine), "engine");
    return engine;
}

/* ---- the host side ---- */

/* What the "wait" and "reenter" imports do in the current test. */
typedef enum { WAIT_LATER, WAIT_NOW, WAIT_THREAD } wait_mode_t;
typedef enum { REENTER_DOWN, REENTER_MARK, REENTER_INSPECT, REENTER_ECHO } reenter_mode_t;

static wait_mode_t wait_mode;
static reenter_mode_t reenter_mode;
static size_t reenter_frame = 256; /* bytes of stack each re-entry uses */

/* Completions left for later (WAIT_LATER), with the argument. */
typedef struct pending {
    whirl_completion_t *completion;
    int32_t arg;
} pending_t;
static pending_t *later;
static size_t nlater, caplater;

/* WAIT_THREAD: one worker finishes completions after a delay. */
static pthread_mutex_t worker_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t worker_wake = PTHREAD_COND_INITIALIZER;
static pending_t worker_job;
static bool worker_has_job, worker_stop;

static void *worker_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&worker_lock);
    for (;;) {
        while (!worker_has_job && !worker_stop)
            pthread_cond_wait(&worker_wake, &worker_lock);
        if (worker_has_job) {
            pending_t job = worker_job;
            worker_has_job = false;
            pthread_mutex_unlock(&worker_lock);
            /* The awaited work: its delay is the point of the test. */
            struct timespec delay = {0, 20 * 1000 * 1000};
            nanosleep(&delay, NULL);
            whirl_val_t r = {.kind = WHIRL_I32, .of.i32 = job.arg * 10};
            whirl_completion_finish(job.completion, &r, 1, NULL);
            pthread_mutex_lock(&worker_lock);
            continue;
        }
        break;
    }
    pthread_mutex_unlock(&worker_lock);
    return NULL;
}

static void wait_cb(void *env, whirl_caller_t *caller, const whirl_val_t *args, size_t nargs,
                    whirl_completion_t *completion)
{
    (void)env, (void)caller, (void)nargs;
    int32_t x = args[0].of.i32;
    switch (wait_mode) {
    case WAIT_NOW: {
        whirl_val_t r = {.kind = WHIRL_I32, .of.i32 = x * 10};
        whirl_completion_finish(completion, &r, 1, NULL);
        break;
    }
    case WAIT_LATER:
        if (nlater == caplater) {
            caplater = caplater ? caplater * 2 : 64;
            later = realloc(later, caplater * sizeof *later);
        }
        later[nlater++] = (pending_t){completion, x};
        break;
    case WAIT_THREAD:
        pthread_mutex_lock(&worker_lock);
        worker_job = (pending_t){completion, x};
        worker_has_job = true;
        pthread_cond_signal(&worker_wake);
        pthread_mutex_unlock(&worker_lock);
        break;
    }
}

static void finish_later(size_t i, int32_t value)
{
    whirl_val_t r = {.kind = WHIRL_I32, .of.i32 = value};
    whirl_completion_t *c = later[i].completion;
    later[i] = later[--nlater];
    whirl_completion_finish(c, &r, 1, NULL);
}

/* REENTER_INSPECT's findings. */
static size_t inspect_nonzero;
static uint8_t *inspect_lo;

__attribute__((no_sanitize_address, noinline)) static size_t count_nonzero(const uint8_t *p,
                                                                            const uint8_t *end)
{
    size_t n = 0;
    for (; p < end; p++)
        n += *(const volatile uint8_t *)p != 0;
    return n;
}

__attribute__((noinline)) static void write_secret(void)
{
    volatile uint8_t secret[16384];
    for (size_t i = 0; i < sizeof secret; i++)
        secret[i] = (uint8_t)((0xA5 ^ i) | 1);
}

/* Writes a 16 KiB secret `pad` bytes below the caller's frame. */
__attribute__((noinline)) static void mark_at_depth(size_t pad)
{
    volatile uint8_t *p = __builtin_alloca(pad);
    p[0] = 1;
    write_secret();
    p[pad - 1] = 1;
}

__attribute__((noinline)) static whirl_error_t *reenter_down(whirl_caller_t *caller, int32_t x,
                                                             whirl_val_t *results)
{
    /* A native frame of reenter_frame bytes per level. */
    volatile uint8_t *frame = __builtin_alloca(reenter_frame);
    frame[0] = 1;
    frame[reenter_frame - 1] = 1;
    whirl_extern_t e;
    if (!whirl_caller_export(caller, "down", 4, &e))
        return whirl_trap_new(WHIRL_TRAP_HOST, "no down");
    whirl_val_t arg = {.kind = WHIRL_I32, .of.i32 = x};
    return whirl_func_call(whirl_caller_store(caller), e.of.func, &arg, 1, results, 1);
}

static whirl_error_t *reenter_cb(void *env, whirl_caller_t *caller, const whirl_val_t *args,
                                 size_t nargs, whirl_val_t *results, size_t nresults)
{
    (void)env, (void)nargs, (void)nresults;
    int32_t x = args[0].of.i32;
    results[0].kind = WHIRL_I32;
    results[0].of.i32 = x;
    fiber_t *f = fiber_current();
    switch (reenter_mode) {
    case REENTER_DOWN:
        return reenter_down(caller, x, results);
    case REENTER_ECHO:
        break;
    case REENTER_MARK:
        /* Host data left on the fiber's stack, near its top (zeroed in
         * place on release) and deep (given back to the kernel): secrets
         * the next store must not find. */
        mark_at_depth(24 << 10);
        mark_at_depth(300 << 10);
        results[0].of.i32 = f ? 1 : -1;
        break;
    case REENTER_INSPECT: {
        uint8_t *here = __builtin_frame_address(0);
        if (!f)
            return whirl_trap_new(WHIRL_TRAP_HOST, "not on a fiber");
        inspect_lo = f->stack.lo;
        /* Below this frame (with a margin for what the call's shallower
         * frames did, such as malloc) nothing of this store's has been. */
        inspect_nonzero = count_nonzero(f->stack.lo, here - (16 << 10));
        break;
    }
    }
    return NULL;
}

/* ---- fixtures ---- */

typedef struct env {
    whirl_engine_t *engine;
    whirl_module_t *module, *start_module;
    whirl_functype_t *type_ii;
} env_t;

static env_t env;

typedef struct guest {
    whirl_store_t *store;
    whirl_instance_t *instance;
    whirl_func_t *wait, *reenter;
} guest_t;

/* The main module compiled for each engine of the tests. */
static struct {
    whirl_engine_t *engine;
    whirl_module_t *module;
} compiled[8];

static whirl_module_t *main_module(whirl_engine_t *engine)
{
    if (engine == env.engine)
        return env.module;
    int free_slot = -1;
    for (int i = 0; i < 8; i++) {
        if (compiled[i].engine == engine)
            return compiled[i].module;
        if (!compiled[i].engine)
            free_slot = i;
    }
    die_on(whirl_module_new(engine, ASYNC_MAIN_WASM, sizeof ASYNC_MAIN_WASM,
                            &compiled[free_slot].module),
           "module");
    compiled[free_slot].engine = engine;
    return compiled[free_slot].module;
}

static void engine_done(whirl_engine_t *engine)
{
    for (int i = 0; i < 8; i++)
        if (compiled[i].engine == engine) {
            whirl_module_delete(compiled[i].module);
            compiled[i].engine = NULL;
        }
    whirl_engine_delete(engine);
}

static guest_t guest_new(whirl_engine_t *engine)
{
    guest_t g = {0};
    g.store = whirl_store_new(engine, NULL, NULL);
    die_on(whirl_func_new_async(g.store, env.type_ii, wait_cb, NULL, NULL, &g.wait), "wait");
    die_on(whirl_func_new(g.store, env.type_ii, reenter_cb, NULL, NULL, &g.reenter), "reenter");
    whirl_extern_t imports[2] = {{WHIRL_EXTERN_FUNC, {.func = g.wait}},
                                 {WHIRL_EXTERN_FUNC, {.func = g.reenter}}};
    die_on(whirl_instance_new(g.store, main_module(engine), imports, 2, &g.instance), "instance");
    return g;
}

static whirl_func_t *export_func(guest_t *g, const char *name)
{
    whirl_extern_t e;
    if (!whirl_instance_export(g->instance, name, strlen(name), &e)) {
        printf("FAIL: no export %s\n", name);
        exit(1);
    }
    return e.of.func;
}

static whirl_call_t *call_i32(guest_t *g, const char *name, int32_t x)
{
    whirl_val_t arg = {.kind = WHIRL_I32, .of.i32 = x};
    whirl_call_t *call;
    die_on(whirl_call_new(g->store, export_func(g, name), &arg, 1, 1, &call), name);
    return call;
}

static bool trap_is(whirl_error_t *err, whirl_trap_code_t want)
{
    whirl_trap_code_t code;
    return err && whirl_error_is_trap(err, &code) && code == want;
}

/* Waits (bounded) for the queue's descriptor and pops a call. */
static whirl_call_t *wait_ready(whirl_ready_queue_t *q)
{
    for (int i = 0; i < 100; i++) {
        whirl_call_t *c = whirl_ready_queue_pop(q);
        if (c)
            return c;
        struct pollfd p = {whirl_ready_queue_fd(q), POLLIN, 0};
        poll(&p, 1, 100);
    }
    return NULL;
}

/* ---- tests ---- */

/* Resumes a call on a thread of its own. */
static void *resume_main(void *call)
{
    return (void *)(uintptr_t)whirl_call_resume(call);
}

static void test_other_thread(void)
{
    pthread_t worker;
    pthread_create(&worker, NULL, worker_main, NULL);
    wait_mode = WAIT_THREAD;
    guest_t g = guest_new(env.engine);
    whirl_ready_queue_t *q;
    die_on(whirl_ready_queue_new(&q), "queue");

    whirl_call_t *call = call_i32(&g, "call_wait", 4);
    whirl_ready_queue_watch(q, call);
    whirl_call_status_t st = whirl_call_resume(call);
    CHECK(st == WHIRL_CALL_PENDING || st == WHIRL_CALL_DONE, "status %d", st);
    if (st == WHIRL_CALL_PENDING) {
        whirl_call_t *ready = wait_ready(q);
        CHECK(ready == call, "the queue gave %p", (void *)ready);
        CHECK(whirl_call_ready(call), "ready");
        st = whirl_call_resume(call);
    }
    CHECK(st == WHIRL_CALL_DONE, "status %d", st);
    whirl_val_t r;
    whirl_error_t *err = whirl_call_results(call, &r, 1);
    CHECK(!err && r.of.i32 == 81, "result %d (%s)", r.of.i32, err ? whirl_error_message(err) : "");
    whirl_error_delete(err);
    whirl_call_delete(call);

    /* A call started here, resumed on another thread until its second
     * wait, and finished here: its fiber moves between threads. */
    whirl_val_t args2[2] = {{.kind = WHIRL_I32, .of.i32 = 10}, {.kind = WHIRL_I32, .of.i32 = 2}};
    die_on(whirl_call_new(g.store, export_func(&g, "wait_n"), args2, 2, 1, &call), "wait_n");
    whirl_ready_queue_watch(q, call);
    st = whirl_call_resume(call);
    CHECK(st == WHIRL_CALL_PENDING, "pending");
    CHECK(wait_ready(q) == call, "ready");
    pthread_t other;
    void *other_st;
    pthread_create(&other, NULL, resume_main, call);
    pthread_join(other, &other_st);
    st = (whirl_call_status_t)(uintptr_t)other_st;
    if (st == WHIRL_CALL_PENDING) {
        CHECK(wait_ready(q) == call, "ready again");
        st = whirl_call_resume(call);
    }
    CHECK(st == WHIRL_CALL_DONE, "status %d", st);
    err = whirl_call_results(call, &r, 1);
    /* wait(12) + wait(11) answered 10x */
    CHECK(!err && r.of.i32 == 230, "moved call: %d", r.of.i32);
    whirl_error_delete(err);
    whirl_call_delete(call);

    /* A call deleted while it sits in the queue is never popped. */
    wait_mode = WAIT_LATER;
    call = call_i32(&g, "call_wait", 6);
    whirl_ready_queue_watch(q, call);
    CHECK(whirl_call_resume(call) == WHIRL_CALL_PENDING && nlater == 1, "pending");
    finish_later(0, 1);
    CHECK(whirl_call_ready(call), "ready");
    whirl_call_delete(call);
    CHECK(whirl_ready_queue_pop(q) == NULL, "deleted calls are skipped");
    struct pollfd p = {whirl_ready_queue_fd(q), POLLIN, 0};
    CHECK(poll(&p, 1, 0) == 0, "the descriptor is quiet once the queue is empty");
    wait_mode = WAIT_THREAD;

    /* The same function through the synchronous API blocks this thread
     * until the worker finishes. */
    whirl_val_t arg = {.kind = WHIRL_I32, .of.i32 = 5};
    err = whirl_func_call(g.store, export_func(&g, "call_wait"), &arg, 1, &r, 1);
    CHECK(!err && r.of.i32 == 101, "sync result %d", r.of.i32);
    whirl_error_delete(err);

    pthread_mutex_lock(&worker_lock);
    worker_stop = true;
    pthread_cond_signal(&worker_wake);
    pthread_mutex_unlock(&worker_lock);
    pthread_join(worker, NULL);
    whirl_ready_queue_delete(q);
    whirl_store_delete(g.store);
}

/* A notification racing the end of its call: the awaited work finishes on
 * one thread (its notification starts), while this thread resumes the call
 * (the completion is done, so it may), runs it to its end, deletes it and
 * frees what the notification points at. whirl_call_delete must wait for a
 * notification that is running: the notification below holds on (200 ms
 * at most, or until told the env is freed) and then looks at its env. */
typedef struct notify_probe {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    bool in_notify, env_freed, saw_freed;
    int calls;
} notify_probe_t;

static void probe_notify(void *env, whirl_call_t *call)
{
    (void)call;
    notify_probe_t *p = env;
    pthread_mutex_lock(&p->lock);
    p->calls++;
    p->in_notify = true;
    pthread_cond_broadcast(&p->cv);
    uint64_t until = whirl_monotonic_now() + 200ull * 1000 * 1000;
    struct timespec ts = {(time_t)(until / 1000000000u), (long)(until % 1000000000u)};
    while (!p->env_freed &&
           pthread_cond_clockwait(&p->cv, &p->lock, CLOCK_MONOTONIC, &ts) == 0)
        ;
    p->saw_freed = p->env_freed;
    pthread_mutex_unlock(&p->lock);
}

static void *finish_first_main(void *arg)
{
    (void)arg;
    finish_later(0, 1);
    return NULL;
}

static void test_notify_vs_delete(void)
{
    wait_mode = WAIT_LATER;
    guest_t g = guest_new(env.engine);
    notify_probe_t probe = {.lock = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    whirl_call_t *call = call_i32(&g, "call_wait", 7);
    whirl_call_set_notify(call, probe_notify, &probe);
    CHECK(whirl_call_resume(call) == WHIRL_CALL_PENDING && nlater == 1, "pending");
    pthread_t finisher;
    pthread_create(&finisher, NULL, finish_first_main, NULL);
    pthread_mutex_lock(&probe.lock);
    while (!probe.in_notify)
        pthread_cond_wait(&probe.cv, &probe.lock);
    pthread_mutex_unlock(&probe.lock);
    CHECK(whirl_call_resume(call) == WHIRL_CALL_DONE, "resumed to its end during the notification");
    whirl_val_t r;
    whirl_error_t *err = whirl_call_results(call, &r, 1);
    CHECK(!err && r.of.i32 == 3, "result %d", r.of.i32); /* 1 * 2 + 1 */
    whirl_error_delete(err);
    whirl_call_delete(call);
    /* The host frees the notification's env now. */
    pthread_mutex_lock(&probe.lock);
    probe.env_freed = true;
    pthread_cond_broadcast(&probe.cv);
    pthread_mutex_unlock(&probe.lock);
    pthread_join(finisher, NULL);
    CHECK(!probe.saw_freed, "the notification ran after whirl_call_delete returned");
    CHECK(probe.calls == 1, "%d notifications", probe.calls);
    whirl_store_delete(g.store);
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

enum { NCALLS = 1000, WAITS_PER_CALL = 3 };

/* Resident bytes of the process (/proc/self/statm). */
static long resident_bytes(void)
{
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * 4096;
}

static void test_thousand(void)
{
    whirl_engine_t *engine = engine_with("off", "0", "256K");
    wait_mode = WAIT_LATER;
    guest_t *g = calloc(NCALLS, sizeof *g);
    whirl_call_t **calls = calloc(NCALLS, sizeof *calls);
    whirl_ready_queue_t *q;
    die_on(whirl_ready_queue_new(&q), "queue");
    int pending = 0;
    long rss_before = resident_bytes();
    for (int i = 0; i < NCALLS; i++) {
        g[i] = guest_new(engine);
        whirl_val_t args[2] = {{.kind = WHIRL_I32, .of.i32 = i * 100},
                               {.kind = WHIRL_I32, .of.i32 = WAITS_PER_CALL}};
        die_on(whirl_call_new(g[i].store, export_func(&g[i], "wait_n"), args, 2, 1, &calls[i]),
               "call");
        whirl_ready_queue_watch(q, calls[i]);
        pending += whirl_call_resume(calls[i]) == WHIRL_CALL_PENDING;
    }
    CHECK(pending == NCALLS && nlater == NCALLS, "%d pending, %zu waits", pending, nlater);
    long per_call = (resident_bytes() - rss_before) / NCALLS;
    /* Finish the waits in random order, resuming whatever became ready. */
    int done = 0, resumes = 0;
    while (nlater) {
        size_t k = next_random() % nlater;
        finish_later(k, later[k].arg * 3);
        whirl_call_t *c;
        while ((c = whirl_ready_queue_pop(q))) {
            resumes++;
            if (whirl_call_resume(c) == WHIRL_CALL_DONE)
                done++;
        }
    }
    CHECK(done == NCALLS, "%d done", done);
    CHECK(resumes == NCALLS * WAITS_PER_CALL, "%d resumes", resumes);
    int right = 0;
    for (int i = 0; i < NCALLS; i++) {
        whirl_val_t r;
        whirl_error_t *err = whirl_call_results(calls[i], &r, 1);
        /* sum over k = 1..3 of 3 * (100 i + k) */
        int32_t want = 3 * (3 * 100 * i + 6);
        right += !err && r.of.i32 == want;
        whirl_error_delete(err);
        whirl_call_delete(calls[i]);
        whirl_store_delete(g[i].store);
    }
    CHECK(right == NCALLS, "%d of %d results right", right, NCALLS);
    printf("  %d calls suspended on one thread, %d resumes in random order; %ld KiB resident per "
           "suspended call (store, instance and stacks)\n", NCALLS, resumes, per_call / 1024);
    whirl_ready_queue_delete(q);
    free(g);
    free(calls);
    engine_done(engine);
}

static void test_instantiate(void)
{
    wait_mode = WAIT_LATER;
    whirl_store_t *store = whirl_store_new(env.engine, NULL, NULL);
    whirl_func_t *wait;
    die_on(whirl_func_new_async(store, env.type_ii, wait_cb, NULL, NULL, &wait), "wait");
    whirl_extern_t imp = {WHIRL_EXTERN_FUNC, {.func = wait}};
    whirl_call_t *call;
    die_on(whirl_call_new_instantiate(store, env.start_module, &imp, 1, &call), "call");
    CHECK(whirl_call_resume(call) == WHIRL_CALL_PENDING, "start function pending");
    CHECK(!whirl_call_ready(call) && nlater == 1, "not ready");
    CHECK(whirl_call_instance(call) == NULL, "no instance yet");
    finish_later(0, 7);
    CHECK(whirl_call_ready(call), "ready");
    CHECK(whirl_call_resume(call) == WHIRL_CALL_DONE, "done");
    whirl_error_t *err = whirl_call_results(call, NULL, 0);
    CHECK(!err, "instantiated: %s", err ? whirl_error_message(err) : "");
    whirl_error_delete(err);
    whirl_instance_t *inst = whirl_call_instance(call);
    whirl_extern_t e;
    whirl_val_t r = {0};
    CHECK(inst && whirl_instance_export(inst, "get", 3, &e) &&
              !whirl_func_call(store, e.of.func, NULL, 0, &r, 1) && r.of.i32 == 7,
          "start function stored %d", r.of.i32);
    whirl_call_delete(call);
    whirl_store_delete(store);

    /* From an instance_pre, through a linker's async definition. */
    whirl_linker_t *linker = whirl_linker_new(env.engine);
    die_on(whirl_linker_define_async_func(linker, "host", "wait", env.type_ii, wait_cb, NULL,
                                          NULL),
           "define");
    whirl_instance_pre_t *pre;
    die_on(whirl_linker_instantiate_pre(linker, env.start_module, &pre), "pre");
    whirl_linker_delete(linker);
    store = whirl_store_new(env.engine, NULL, NULL);
    die_on(whirl_call_new_instantiate_pre(pre, store, &call), "call pre");
    whirl_call_t *second;
    err = whirl_call_new_instantiate_pre(pre, store, &second);
    CHECK(err != NULL, "a second call on the store is refused");
    whirl_error_delete(err);
    CHECK(whirl_call_resume(call) == WHIRL_CALL_PENDING && nlater == 1, "pending");
    finish_later(0, 9);
    CHECK(whirl_call_resume(call) == WHIRL_CALL_DONE, "done");
    err = whirl_call_results(call, NULL, 0);
    CHECK(!err && whirl_call_instance(call), "instance_pre instantiated");
    whirl_error_delete(err);
    whirl_call_delete(call);
    whirl_store_delete(store);
    whirl_instance_pre_delete(pre);
}

/* whirl_call_new_host: host code calling the guest twice, each call
 * waiting, suspends as a whole. */
typedef struct two_calls {
    guest_t *g;
    int32_t sum;
} two_calls_t;

static whirl_error_t *two_calls(void *p)
{
    two_calls_t *t = p;
    for (int32_t x = 1; x <= 2; x++) {
        whirl_val_t arg = {.kind = WHIRL_I32, .of.i32 = x}, r;
        whirl_error_t *err =
            whirl_func_call(t->g->store, export_func(t->g, "call_wait"), &arg, 1, &r, 1);
        if (err)
            return err;
        t->sum += r.of.i32;
    }
    return NULL;
}

static void test_host_code(void)
{
    wait_mode = WAIT_LATER;
    guest_t g = guest_new(env.engine);
    two_calls_t t = {&g, 0};
    whirl_call_t *call;
    die_on(whirl_call_new_host(g.store, two_calls, &t, &call), "host call");
    CHECK(whirl_call_resume(call) == WHIRL_CALL_PENDING && nlater == 1, "first wait");
    finish_later(0, 5);
    CHECK(whirl_call_resume(call) == WHIRL_CALL_PENDING && nlater == 1, "second wait");
    finish_later(0, 6);
    CHECK(whirl_call_resume(call) == WHIRL_CALL_DONE, "done");
    whirl_error_t *err = whirl_call_results(call, NULL, 0);
    CHECK(!err && t.sum == 11 + 13, "sum %d", t.sum);
    whirl_error_delete(err);
    err = whirl_call_results(call, NULL, 0);
    CHECK(err != NULL, "the outcome is read once");
    whirl_error_delete(err);
    CHECK(whirl_call_resume(call) == WHIRL_CALL_DONE, "a done call stays done");
    whirl_call_delete(call);

    /* Bad arguments are errors, not calls. */
    whirl_val_t wrong = {.kind = WHIRL_I64, .of.i64 = 1};
    err = whirl_call_new(g.store, export_func(&g, "call_wait"), &wrong, 1, 1, &call);
    CHECK(err && strstr(whirl_error_message(err), "argument 0"), "wrong kind: %s",
          err ? whirl_error_message(err) : "accepted");
    whirl_error_delete(err);
    err = whirl_call_new(g.store, export_func(&g, "call_wait"), NULL, 0, 1, &call);
    CHECK(err != NULL, "wrong count");
    whirl_error_delete(err);
    whirl_store_delete(g.store);
}

static void test_deadlines(void)
{
    /* A pending call whose deadline passes while it waits traps. */
    whirl_engine_t *engine = engine_with("off", "0", NULL);
    wait_mode = WAIT_LATER;
    guest_t g = guest_new(engine);
    whirl_store_set_epoch_deadline(g.store, 3);
    whirl_call_t *call = call_i32(&g, "call_wait", 1);
    CHECK(whirl_call_resume(call) == WHIRL_CALL_PENDING, "pending");
    CHECK(whirl_call_resume(call) == WHIRL_CALL_PENDING, "still pending before the deadline");
    for (int i = 0; i < 3; i++)
        whirl_engine_increment_epoch(engine);
    CHECK(whirl_call_resume(call) == WHIRL_CALL_DONE, "ended at the deadline");
    whirl_val_t r;
    whirl_error_t *err = whirl_call_results(call, &r, 1);
    CHECK(trap_is(err, WHIRL_TRAP_INTERRUPT), "interrupt: %s",
          err ? whirl_error_message(err) : "no error");
    whirl_error_delete(err);
    CHECK(nlater == 1 && whirl_completion_abandoned(later[0].completion), "abandoned");
    finish_later(0, 1); /* too late: dropped */
    whirl_call_delete(call);

    /* Cancelling: deleting a pending call, and deleting the store of one. */
    whirl_store_clear_epoch_deadline(g.store);
    call = call_i32(&g, "call_wait", 2);
    CHECK(whirl_call_resume(call) == WHIRL_CALL_PENDING, "pending");
    whirl_call_delete(call);
    CHECK(nlater == 1 && whirl_completion_abandoned(later[0].completion), "cancelled");
    finish_later(0, 1);
    call = call_i32(&g, "call_wait", 3);
    CHECK(whirl_call_resume(call) == WHIRL_CALL_PENDING, "pending");
    whirl_store_delete(g.store);
    err = whirl_call_results(call, &r, 1);
    CHECK(trap_is(err, WHIRL_TRAP_INTERRUPT), "store deleted under a pending call");
    whirl_error_delete(err);
    whirl_call_delete(call);
    finish_later(0, 1);
    engine_done(engine);

    /* A yielded call whose deadline passes before it is resumed traps; the
     * epoch yields meanwhile let one thread interleave two guests. */
    engine = engine_with("off", "1ms", NULL);
    guest_t a = guest_new(engine), b = guest_new(engine);
    whirl_store_epoch_yield_set(a.store, 1);
    whirl_store_epoch_yield_set(b.store, 1);
    /* The yields come from the epoch ticker's thread: on a loaded machine
     * it may not run while a short loop does, so the loops grow until the
     * guests have yielded (within a minute). */
    whirl_val_t n = {.kind = WHIRL_I64, .of.i64 = 20 * 1000 * 1000};
    whirl_call_t *ca, *cb;
    int yields = 0, rounds = 0;
    uint64_t give_up = whirl_monotonic_now() + 60ull * 1000 * 1000 * 1000;
    for (; yields < 2 && whirl_monotonic_now() < give_up; n.of.i64 *= 2) {
        die_on(whirl_call_new(a.store, export_func(&a, "spin"), &n, 1, 1, &ca), "a");
        die_on(whirl_call_new(b.store, export_func(&b, "spin"), &n, 1, 1, &cb), "b");
        whirl_call_status_t sa = WHIRL_CALL_YIELDED, sb = WHIRL_CALL_YIELDED;
        yields = rounds = 0;
        while ((sa != WHIRL_CALL_DONE || sb != WHIRL_CALL_DONE) &&
               whirl_monotonic_now() < give_up) {
            if (sa != WHIRL_CALL_DONE)
                yields += (sa = whirl_call_resume(ca)) == WHIRL_CALL_YIELDED;
            if (sb != WHIRL_CALL_DONE)
                yields += (sb = whirl_call_resume(cb)) == WHIRL_CALL_YIELDED;
            rounds++;
        }
        whirl_val_t ra = {0}, rb = {0};
        int64_t want = (int64_t)n.of.i64 * (n.of.i64 - 1) / 2;
        err = whirl_call_results(ca, &ra, 1);
        CHECK(!err && ra.of.i64 == want, "a: %lld", (long long)ra.of.i64);
        whirl_error_delete(err);
        err = whirl_call_results(cb, &rb, 1);
        CHECK(!err && rb.of.i64 == want, "b: %lld", (long long)rb.of.i64);
        whirl_error_delete(err);
        whirl_call_delete(ca);
        whirl_call_delete(cb);
    }
    CHECK(yields >= 2, "%d yields", yields);
    printf("  two spinning guests on one thread: %d yields in %d rounds\n", yields, rounds);

    /* The hard deadline still traps a guest that yields. */
    uint64_t hard = whirl_monotonic_now() + 20 * 1000 * 1000;
    die_on(whirl_store_set_deadline(a.store, hard), "dl");
    die_on(whirl_call_new(a.store, export_func(&a, "forever"), NULL, 0, 0, &ca), "forever");
    whirl_call_status_t s = whirl_call_resume(ca);
    /* It yields at the next tick, unless this thread lost its core for
     * longer than the 20 ms (a loaded machine): then the first check
     * already finds the deadline passed. */
    CHECK(s == WHIRL_CALL_YIELDED || whirl_monotonic_now() >= hard, "yielded");
    /* Suspended while the deadline passes (a bounded poll, no sleep). */
    while (whirl_engine_epoch(engine) < whirl_store_epoch_deadline(a.store) &&
           whirl_monotonic_now() < give_up)
        ;
    for (int i = 0; i < 100000 && s != WHIRL_CALL_DONE; i++)
        s = whirl_call_resume(ca);
    err = whirl_call_results(ca, NULL, 0);
    CHECK(s == WHIRL_CALL_DONE && trap_is(err, WHIRL_TRAP_INTERRUPT), "forever interrupted");
    whirl_error_delete(err);
    whirl_call_delete(ca);

    /* A synchronous caller of an async host function waits no longer than
     * the store's deadline. */
    die_on(whirl_store_set_deadline(b.store, whirl_monotonic_now() + 20 * 1000 * 1000), "dl");
    whirl_val_t arg = {.kind = WHIRL_I32, .of.i32 = 1};
    err = whirl_func_call(b.store, export_func(&b, "call_wait"), &arg, 1, &r, 1);
    CHECK(trap_is(err, WHIRL_TRAP_INTERRUPT), "sync wait interrupted");
    whirl_error_delete(err);
    CHECK(nlater == 1, "one abandoned wait");
    finish_later(0, 1);
    whirl_store_delete(a.store);
    whirl_store_delete(b.store);
    engine_done(engine);
}

static void count_samples(void *env, const whirl_sample_frame_t *frames, size_t n)
{
    (void)frames;
    if (n)
        (*(int *)env)++;
}

/* A sampler and epoch yield share the store's epoch check: samples every
 * tick must not keep pushing the end of a 3-tick yield slice away. */
static void test_yield_with_sampler(void)
{
    whirl_engine_t *engine = engine_with("off", "1ms", NULL);
    guest_t g = guest_new(engine);
    int samples = 0;
    die_on(whirl_store_set_sampler(g.store, 1, count_samples, &samples), "sampler");
    whirl_store_epoch_yield_set(g.store, 3);
    whirl_val_t n = {.kind = WHIRL_I64, .of.i64 = 50 * 1000 * 1000};
    whirl_call_t *call;
    die_on(whirl_call_new(g.store, export_func(&g, "spin"), &n, 1, 1, &call), "spin");
    int yields = 0;
    whirl_call_status_t s = WHIRL_CALL_YIELDED;
    uint64_t give_up = whirl_monotonic_now() + 60ull * 1000 * 1000 * 1000;
    while (s != WHIRL_CALL_DONE && whirl_monotonic_now() < give_up)
        yields += (s = whirl_call_resume(call)) == WHIRL_CALL_YIELDED;
    whirl_val_t r = {0};
    whirl_error_t *err = whirl_call_results(call, &r, 1);
    int64_t want = (int64_t)n.of.i64 * (n.of.i64 - 1) / 2;
    CHECK(!err && r.of.i64 == want, "sum: %lld", (long long)r.of.i64);
    whirl_error_delete(err);
    /* Only when the guest ran across ticks can either happen; it always
     * does at 50M iterations, but say what was seen. */
    CHECK(samples == 0 || yields > 0, "%d samples but no yield", samples);
    printf("  sampler every tick + yield every 3: %d samples, %d yields\n", samples, yields);
    whirl_call_delete(call);
    whirl_store_delete(g.store);
    engine_done(engine);
}

static void test_stack_exhausted(const char *pooling)
{
    whirl_engine_t *engine = engine_with(pooling, "0", "128K");
    reenter_mode = REENTER_DOWN;
    size_t frames[] = {256, 40 << 10};
    for (int k = 0; k < 2; k++) {
        reenter_frame = frames[k];
        guest_t g = guest_new(engine);
        whirl_call_t *call = call_i32(&g, "down", 100000);
        CHECK(whirl_call_resume(call) == WHIRL_CALL_DONE, "done");
        whirl_val_t r;
        whirl_error_t *err = whirl_call_results(call, &r, 1);
        CHECK(trap_is(err, WHIRL_TRAP_STACK_EXHAUSTED), "%s, frames of %zu: %s", pooling,
              frames[k], err ? whirl_error_message(err) : "no error");
        whirl_error_delete(err);
        whirl_call_delete(call);
        /* The store works on. */
        call = call_i32(&g, "down", 1);
        CHECK(whirl_call_resume(call) == WHIRL_CALL_DONE, "done");
        err = whirl_call_results(call, &r, 1);
        CHECK(!err && r.of.i32 == 1, "down(1) = %d: %s", r.of.i32,
              err ? whirl_error_message(err) : "");
        whirl_error_delete(err);
        whirl_call_delete(call);
        whirl_store_delete(g.store);
    }
    reenter_frame = 256;
    engine_done(engine);
}

static void test_scrub(const char *pooling)
{
    whirl_engine_t *engine = engine_with(pooling, "0", NULL);
    uint8_t *first_lo = NULL;
    for (int round = 0; round < 3; round++) {
        guest_t g = guest_new(engine);
        reenter_mode = REENTER_INSPECT;
        inspect_lo = NULL;
        whirl_call_t *call = call_i32(&g, "down", 1);
        CHECK(whirl_call_resume(call) == WHIRL_CALL_DONE, "done");
        whirl_error_t *err = whirl_call_results(call, &(whirl_val_t){0}, 1);
        CHECK(!err, "inspect: %s", err ? whirl_error_message(err) : "");
        whirl_error_delete(err);
        whirl_call_delete(call);
        CHECK(inspect_nonzero == 0, "%s, round %d: %zu bytes of a previous store's stack left",
              pooling, round, inspect_nonzero);
        if (round == 0)
            first_lo = inspect_lo;
        else
            CHECK(inspect_lo == first_lo, "%s: the stack was reused", pooling);
        /* Leave a secret for the next store. */
        reenter_mode = REENTER_MARK;
        call = call_i32(&g, "down", 1);
        CHECK(whirl_call_resume(call) == WHIRL_CALL_DONE, "done");
        whirl_val_t r = {0};
        err = whirl_call_results(call, &r, 1);
        CHECK(!err && r.of.i32 > 0, "marked");
        whirl_error_delete(err);
        whirl_call_delete(call);
        whirl_store_delete(g.store);
    }
    reenter_mode = REENTER_ECHO;
    engine_done(engine);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    env.engine = engine_with("off", "0", NULL);
    whirl_valkind_t i32 = WHIRL_I32;
    env.type_ii = whirl_functype_new(&i32, 1, &i32, 1);
    die_on(whirl_module_new(env.engine, ASYNC_MAIN_WASM, sizeof ASYNC_MAIN_WASM, &env.module),
           "module");
    die_on(whirl_module_new(env.engine, ASYNC_START_WASM, sizeof ASYNC_START_WASM,
                            &env.start_module),
           "start module");
    if (!FIBER_SUPPORTED) {
        whirl_call_t *call;
        whirl_store_t *store = whirl_store_new(env.engine, NULL, NULL);
        whirl_error_t *err = whirl_call_new_instantiate(store, env.start_module, NULL, 0, &call);
        CHECK(err != NULL, "no fibers here");
        whirl_error_delete(err);
        whirl_store_delete(store);
    } else {
        printf("%s\n", "test_other_thread");
        test_other_thread();
        printf("%s\n", "test_notify_vs_delete");
        test_notify_vs_delete();
        printf("%s\n", "test_thousand");
        test_thousand();
        printf("%s\n", "test_instantiate");
        test_instantiate();
        printf("%s\n", "test_host_code");
        test_host_code();
        printf("%s\n", "test_deadlines");
        test_deadlines();
        printf("%s\n", "test_yield_with_sampler");
        test_yield_with_sampler();
        printf("%s\n", "test_stack_exhausted (off)");
        test_stack_exhausted("off");
        printf("%s\n", "test_stack_exhausted (on)");
        test_stack_exhausted("on");
        printf("%s\n", "test_scrub (off)");
        test_scrub("off");
        printf("%s\n", "test_scrub (on)");
        test_scrub("on");
    }
    free(later);
    whirl_module_delete(env.module);
    whirl_module_delete(env.start_module);
    whirl_functype_delete(env.type_ii);
    whirl_engine_delete(env.engine);
    printf("async: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
