/*
 * Resumable calls: many guests waiting at once on one thread.
 *
 *   async [upstream.wasm]
 *
 * upstream.wasm (from examples/upstream.wat) handles a request by calling
 * `upstream.fetch` twice and adding the answers. Here `fetch` is an async
 * host function: it hands the request to an "upstream" thread, which
 * answers after a few milliseconds, and returns at once. The guest's call
 * then returns WHIRL_CALL_PENDING instead of blocking; the main thread runs
 * an event loop over a ready queue's descriptor and resumes each call when
 * its answer has arrived. 100 requests are in flight at once, on one thread,
 * each costing a store and a fiber stack rather than a thread.
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "whirl.h"

enum { REQUESTS = 100 };

/* ---- the upstream service: answers each query after a delay ---- */

typedef struct query {
    whirl_completion_t *completion;
    int32_t value;
    struct timespec due;
} query_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static query_t queries[2 * REQUESTS];
static int nqueries, answered;
static int stop;

static void *upstream_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    while (!stop || nqueries) {
        if (!nqueries) {
            pthread_cond_wait(&wake, &lock);
            continue;
        }
        /* The query due first. */
        int first = 0;
        for (int i = 1; i < nqueries; i++)
            if (queries[i].due.tv_sec < queries[first].due.tv_sec ||
                (queries[i].due.tv_sec == queries[first].due.tv_sec &&
                 queries[i].due.tv_nsec < queries[first].due.tv_nsec))
                first = i;
        query_t q = queries[first];
        if (pthread_cond_timedwait(&wake, &lock, &q.due) == 0)
            continue; /* a new query came: look again */
        queries[first] = queries[--nqueries];
        answered++;
        pthread_mutex_unlock(&lock);
        /* Finishing wakes the guest's call: its notification pushes it on
         * the ready queue, from this thread. */
        whirl_val_t answer = {.kind = WHIRL_I32, .of.i32 = q.value * 2};
        whirl_completion_finish(q.completion, &answer, 1, NULL);
        pthread_mutex_lock(&lock);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

/* The async host function: queue the query, return without an answer. */
static void fetch(void *env, whirl_caller_t *caller, const whirl_val_t *args, size_t nargs,
                  whirl_completion_t *completion)
{
    (void)env, (void)caller, (void)nargs;
    query_t q = {completion, args[0].of.i32, {0, 0}};
    clock_gettime(CLOCK_REALTIME, &q.due);
    q.due.tv_nsec += (5 + args[0].of.i32 % 20) * 1000000L; /* 5-24 ms of latency */
    if (q.due.tv_nsec >= 1000000000L) {
        q.due.tv_sec++;
        q.due.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&lock);
    queries[nqueries++] = q;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static unsigned char buf[1 << 16];
    *len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return buf;
}

static int failures;

static void check(whirl_error_t *err, const char *what)
{
    if (err) {
        printf("FAIL %s: %s\n", what, whirl_error_message(err));
        whirl_error_delete(err);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    size_t len;
    unsigned char *wasm = read_file(argc > 1 ? argv[1] : "upstream.wasm", &len);
    if (!wasm) {
        printf("FAIL: cannot read the module\n");
        return 1;
    }
    whirl_engine_t *engine;
    check(whirl_engine_new(NULL, &engine), "engine");
    whirl_module_t *module;
    check(whirl_module_new(engine, wasm, len, &module), "module");

    /* One definition serves every store; each call gets a completion. */
    whirl_linker_t *linker = whirl_linker_new(engine);
    whirl_valkind_t i32 = WHIRL_I32;
    whirl_functype_t *type = whirl_functype_new(&i32, 1, &i32, 1);
    check(whirl_linker_define_async_func(linker, "upstream", "fetch", type, fetch, NULL, NULL),
          "define");
    whirl_functype_delete(type);
    whirl_instance_pre_t *pre;
    check(whirl_linker_instantiate_pre(linker, module, &pre), "pre");

    pthread_t upstream;
    pthread_create(&upstream, NULL, upstream_main, NULL);
    whirl_ready_queue_t *ready;
    check(whirl_ready_queue_new(&ready), "ready queue");

    /* Start every request: each runs until its first fetch and suspends. */
    whirl_store_t *stores[REQUESTS];
    whirl_call_t *calls[REQUESTS];
    int in_flight = 0;
    for (int i = 0; i < REQUESTS; i++) {
        stores[i] = whirl_store_new(engine, NULL, NULL);
        whirl_instance_t *instance;
        check(whirl_instance_pre_instantiate(pre, stores[i], &instance), "instantiate");
        whirl_extern_t handle;
        whirl_instance_export(instance, "handle", 6, &handle);
        whirl_val_t id = {.kind = WHIRL_I32, .of.i32 = i};
        check(whirl_call_new(stores[i], handle.of.func, &id, 1, 1, &calls[i]), "call");
        whirl_ready_queue_watch(ready, calls[i]);
        in_flight += whirl_call_resume(calls[i]) == WHIRL_CALL_PENDING;
    }
    printf("%d requests waiting on upstream, on one thread\n", in_flight);

    /* The event loop: sleep until some call is ready, resume it. */
    int done = 0, resumes = 0;
    while (done < in_flight) {
        struct pollfd p = {whirl_ready_queue_fd(ready), POLLIN, 0};
        if (poll(&p, 1, 5000) <= 0) {
            printf("FAIL: no answer within 5 s\n");
            return 1;
        }
        whirl_call_t *call;
        while ((call = whirl_ready_queue_pop(ready))) {
            resumes++;
            if (whirl_call_resume(call) == WHIRL_CALL_DONE)
                done++;
        }
    }
    for (int i = 0; i < REQUESTS; i++) {
        whirl_val_t result;
        whirl_error_t *err = whirl_call_results(calls[i], &result, 1);
        /* fetch(x) answers 2x: 2i + 2(i + 1000) */
        if (err || result.of.i32 != 4 * i + 2000) {
            printf("FAIL: request %d: %s\n", i, err ? whirl_error_message(err) : "wrong answer");
            failures++;
        }
        whirl_error_delete(err);
        whirl_call_delete(calls[i]);
        whirl_store_delete(stores[i]);
    }
    printf("%d requests answered after %d resumes; upstream answered %d queries\n", done,
           resumes, answered);

    pthread_mutex_lock(&lock);
    stop = 1;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
    pthread_join(upstream, NULL);
    whirl_ready_queue_delete(ready);
    whirl_instance_pre_delete(pre);
    whirl_linker_delete(linker);
    whirl_module_delete(module);
    whirl_engine_delete(engine);
    printf("async: %d passed, %d failed\n", REQUESTS - failures, failures);
    return failures != 0;
}
