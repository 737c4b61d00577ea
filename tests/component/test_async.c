/* Component-model async: decoding and validation of async function types,
 * stream/future/error-context types, the async canon options and every
 * async canonical built-in (fixtures/async-*.wat; the invalid-async-*.wat
 * fixtures run with the other invalid ones in test_component.c); stackless
 * async exports called from the host (async-tasks.wat), with the traps of
 * misusing task.return, the callback codes and waitable sets; async lowers
 * of host functions that complete before returning (async-lower.wat:
 * RETURNED, no subtask handle) and that finish later (async-subtask.wat:
 * STARTED, SUBTASK events, subtask.drop/cancel, deadlines); stackful async
 * exports (async-export.wat) (streams, futures and error contexts:
 * test_streams.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <poll.h>

#include "harness.h"

static void test_async_types(void)
{
    whirl_component_t *c = t_load("async-builtins");
    if (!c)
        return;
    char *wit = NULL;
    if (CHECK_OK(whirl_component_describe(c, &wit), "describe async-builtins")) {
        CHECK(strstr(wit, "import slow: async func(a: u64, b: u64, c: u64);") != NULL,
              "async import printed: %s", wit);
        CHECK(strstr(wit, "export run: async func(x: u32) -> string;") != NULL,
              "async export printed: %s", wit);
        free(wit);
    }
    whirl_component_delete(c);
}

static uint64_t call_u32(whirl_component_instance_t *inst, const char *name,
                         const whirl_cval_t *args, size_t nargs)
{
    whirl_cval_t r = {0};
    whirl_error_t *e = t_call(inst, NULL, name, args, nargs, &r);
    if (!CHECK_OK(e, name))
        return UINT64_MAX;
    CHECK(r.kind == WHIRL_CVAL_U32, "%s returns a u32", name);
    uint64_t v = r.of.u;
    whirl_cval_release(&r);
    return v;
}

static void test_async_tasks(void)
{
    whirl_component_t *c = t_load("async-tasks");
    if (!c)
        return;
    whirl_component_linker_t *l = whirl_component_linker_new(t_engine);
    whirl_store_t *s;
    whirl_component_instance_t *inst = t_instantiate(l, c, &s);
    if (inst) {
        CHECK(call_u32(inst, "answer", NULL, 0) == 42, "answer is 42");
        whirl_cval_t x = {.kind = WHIRL_CVAL_U32, .of.u = 41};
        CHECK(call_u32(inst, "yield", &x, 1) == 42, "yield: context slot kept across the "
              "callback");
        /* Set 1, no event: 1 * 100 + 0; the set handle is reused after a drop. */
        CHECK(call_u32(inst, "poll", NULL, 0) == 100, "poll: empty set, no event");
        CHECK(call_u32(inst, "poll", NULL, 0) == 100, "poll: the dropped handle is reused");
        whirl_cval_t str = {0};
        if (CHECK_OK(t_call(inst, NULL, "hello", NULL, 0, &str), "hello")) {
            CHECK(str.kind == WHIRL_CVAL_STRING && str.of.string.len == 11 &&
                  memcmp(str.of.string.data, "async hello", 11) == 0,
                  "task.return lifts a string from memory");
            whirl_cval_release(&str);
        }
    }
    whirl_store_delete(s);
    /* Each trap leaves its instance unusable: a fresh store per case. */
    static const struct {
        const char *name, *trap;
    } traps[] = {
        {"no-return", "exited without calling task.return"},
        {"twice", "task.return called twice"},
        {"wait-forever", "would wait forever"},
        {"wait-bad-set", "7 is not a waitable set handle"},
        {"bad-code", "unknown code 5"},
        {"cancel", "task.cancel called by a task that was not cancelled"},
        {"drop-bad", "99 is not a waitable set handle"},
        {"bp-under", "backpressure.dec: counter underflow"},
        {"join-bad", "5 is not a waitable handle"},
        {"wait-sync", "would wait forever"},
        {"sync-ret", "task.return called by a task that was not lifted async"},
    };
    for (size_t i = 0; i < sizeof traps / sizeof *traps; i++) {
        inst = t_instantiate(l, c, &s);
        if (inst) {
            whirl_cval_t r = {0};
            CHECK_TRAP(t_call(inst, NULL, traps[i].name, NULL, 0, &r), traps[i].trap,
                       traps[i].name);
            whirl_cval_release(&r);
        }
        whirl_store_delete(s);
    }
    whirl_component_linker_delete(l);
    whirl_component_delete(c);
}

/* Host functions behind async-lower.wat's async imports. */
static int ticks;

static whirl_error_t *add_cb(void *env, whirl_store_t *store, const whirl_component_func_t *f,
                             const whirl_cval_t *args, size_t nargs, whirl_cval_t *results,
                             size_t nresults)
{
    if (nargs != 2 || nresults != 1 || args[0].kind != WHIRL_CVAL_U64 ||
        args[1].kind != WHIRL_CVAL_U32)
        return whirl_error_new("add: unexpected arguments");
    results[0] = (whirl_cval_t){.kind = WHIRL_CVAL_U64, .of.u = args[0].of.u + args[1].of.u};
    return NULL;
}

static whirl_error_t *sum5_cb(void *env, whirl_store_t *store, const whirl_component_func_t *f,
                              const whirl_cval_t *args, size_t nargs, whirl_cval_t *results,
                              size_t nresults)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < nargs; i++)
        sum = sum * 10 + args[i].of.u;
    results[0] = (whirl_cval_t){.kind = WHIRL_CVAL_U32, .of.u = sum};
    return NULL;
}

static whirl_error_t *tick_cb(void *env, whirl_store_t *store, const whirl_component_func_t *f,
                              const whirl_cval_t *args, size_t nargs, whirl_cval_t *results,
                              size_t nresults)
{
    ticks++;
    return nargs || nresults ? whirl_error_new("tick: unexpected arguments") : NULL;
}

static void test_async_lower(void)
{
    whirl_component_t *c = t_load("async-lower");
    if (!c)
        return;
    whirl_component_linker_t *l = whirl_component_linker_new(t_engine);
    CHECK_OK(whirl_component_linker_define_func(l, NULL, "add", add_cb, NULL, NULL), "add");
    CHECK_OK(whirl_component_linker_define_func(l, NULL, "sum5", sum5_cb, NULL, NULL), "sum5");
    CHECK_OK(whirl_component_linker_define_func(l, NULL, "tick", tick_cb, NULL, NULL), "tick");
    whirl_store_t *s;
    whirl_component_instance_t *inst = t_instantiate(l, c, &s);
    if (inst) {
        whirl_cval_t args[2] = {{.kind = WHIRL_CVAL_U64, .of.u = 40},
                                {.kind = WHIRL_CVAL_U32, .of.u = 2}};
        whirl_cval_t r = {0};
        if (CHECK_OK(t_call(inst, NULL, "add", args, 2, &r), "add")) {
            CHECK(r.kind == WHIRL_CVAL_U64 && r.of.u == 2042,
                  "async lower: RETURNED (2), the result 42 through the pointer (got %llu)",
                  (unsigned long long)r.of.u);
            whirl_cval_release(&r);
        }
        CHECK(call_u32(inst, "sum5", NULL, 0) == 2000 + 12345,
              "async lower: 5 flat parameters read through one pointer");
        ticks = 0;
        CHECK(call_u32(inst, "tick", NULL, 0) == 2 && ticks == 1,
              "async lower without params or result: RETURNED, the host ran once");
    }
    whirl_store_delete(s);
    static const struct {
        const char *name, *trap;
    } traps[] = {
        {"drop-bad", "subtask.drop: 3 is not a subtask handle"},
        {"cancel-bad", "subtask.cancel: 4 is not a subtask handle"},
        {"add-oob", "out of bounds"},
        {"add-misaligned", "misaligned result pointer 0xfffd"},
    };
    for (size_t i = 0; i < sizeof traps / sizeof *traps; i++) {
        inst = t_instantiate(l, c, &s);
        if (inst) {
            whirl_cval_t r = {0};
            CHECK_TRAP(t_call(inst, NULL, traps[i].name, NULL, 0, &r), traps[i].trap,
                       traps[i].name);
            whirl_cval_release(&r);
        }
        whirl_store_delete(s);
    }
    whirl_component_linker_delete(l);
    whirl_component_delete(c);
}

/* A stackful async export runs (async-export.wat). */
static void test_async_stackful(void)
{
    whirl_component_t *c = t_load("async-export");
    if (!c)
        return;
    whirl_component_linker_t *l = whirl_component_linker_new(t_engine);
    whirl_store_t *s;
    whirl_component_instance_t *inst = t_instantiate(l, c, &s);
    if (inst)
        CHECK(call_u32(inst, "run", NULL, 0) == 42, "stackful export returns 42");
    whirl_store_delete(s);
    whirl_component_linker_delete(l);
    whirl_component_delete(c);
}

/* Host functions behind async-subtask.wat: `later(n)` defers and finishes
 * at its n-th try with n + 1; `never` defers and never finishes. */
typedef struct later {
    uint32_t n, tries;
} later_t;
static int later_live; /* envs not freed yet: every path frees them */

static size_t later_watch(void *env, struct pollfd *pfd, uint64_t *deadline)
{
    (void)env;
    (void)pfd;
    *deadline = 0; /* ready to try again at once */
    return 0;
}

static whirl_error_t *later_poll(void *env, whirl_store_t *store, whirl_cval_t *result,
                                 bool *done)
{
    later_t *l = env;
    if ((*done = ++l->tries >= l->n))
        *result = (whirl_cval_t){.kind = WHIRL_CVAL_U32, .of.u = l->n + 1};
    return NULL;
}

static void later_free(void *env)
{
    later_live--;
    free(env);
}

static const whirl_component_pending_ops_t later_ops = {later_watch, later_poll, later_free};

static size_t never_watch(void *env, struct pollfd *pfd, uint64_t *deadline)
{
    return 0; /* waits for nothing: only the store's deadline ends it */
}

static whirl_error_t *never_poll(void *env, whirl_store_t *store, whirl_cval_t *result,
                                 bool *done)
{
    *done = false;
    return NULL;
}

static const whirl_component_pending_ops_t never_ops = {never_watch, never_poll, later_free};

static whirl_error_t *later_cb(void *env, whirl_store_t *store, const whirl_component_func_t *f,
                               const whirl_cval_t *args, size_t nargs, whirl_cval_t *results,
                               size_t nresults)
{
    uint32_t n = (uint32_t)args[0].of.u;
    if (n == 0 || !whirl_component_call_can_defer()) {
        results[0] = (whirl_cval_t){.kind = WHIRL_CVAL_U32, .of.u = n + 1};
        return NULL;
    }
    later_t *l = calloc(1, sizeof *l);
    if (!l)
        return whirl_error_new("out of memory");
    l->n = n;
    later_live++;
    whirl_component_call_defer(&later_ops, l);
    return NULL;
}

static whirl_error_t *never_cb(void *env, whirl_store_t *store, const whirl_component_func_t *f,
                               const whirl_cval_t *args, size_t nargs, whirl_cval_t *results,
                               size_t nresults)
{
    if (!whirl_component_call_can_defer())
        return whirl_error_new("never: called synchronously");
    later_live++;
    whirl_component_call_defer(&never_ops, calloc(1, 1));
    return NULL;
}

/* A wait for a subtask inside a resumable call suspends the call (the
 * thread is free: whirl_call_resume answers PENDING) until the store's
 * deadline ends it with `interrupt`. */
typedef struct resumable_wait {
    whirl_component_instance_t *inst;
    const char *name;
} resumable_wait_t;

static whirl_error_t *resumable_wait_body(void *env)
{
    resumable_wait_t *rw = env;
    whirl_cval_t r = {0};
    whirl_error_t *e = t_call(rw->inst, NULL, rw->name, NULL, 0, &r);
    whirl_cval_release(&r);
    return e;
}

static void test_subtask_resumable(whirl_component_linker_t *l, whirl_component_t *c,
                                   const char *name)
{
    whirl_store_t *s;
    whirl_component_instance_t *inst = t_instantiate(l, c, &s);
    whirl_ready_queue_t *q = NULL;
    whirl_call_t *call = NULL;
    resumable_wait_t rw = {inst, name};
    if (!inst || !CHECK_OK(whirl_ready_queue_new(&q), "ready queue") ||
        !CHECK_OK(whirl_store_set_deadline(s, whirl_monotonic_now() + 100000000u), "deadline") ||
        !CHECK_OK(whirl_call_new_host(s, resumable_wait_body, &rw, &call), "resumable call"))
        goto out;
    whirl_ready_queue_watch(q, call);
    whirl_call_status_t st = whirl_call_resume(call);
    CHECK(st == WHIRL_CALL_PENDING, "%s: the wait suspends the resumable call", name);
    for (int i = 0; i < 100 && st != WHIRL_CALL_DONE; i++) {
        struct pollfd pfd = {.fd = whirl_ready_queue_fd(q), .events = POLLIN};
        if (poll(&pfd, 1, 10000) <= 0)
            break;
        while (whirl_ready_queue_pop(q))
            ;
        st = whirl_call_resume(call);
    }
    CHECK(st == WHIRL_CALL_DONE, "%s: resumed to the end", name);
    CHECK_TRAP(whirl_call_results(call, NULL, 0), "interrupt", name);
out:
    whirl_call_delete(call);
    whirl_ready_queue_delete(q);
    whirl_store_delete(s);
}

static void test_async_subtasks(void)
{
    whirl_component_t *c = t_load("async-subtask");
    if (!c)
        return;
    whirl_component_linker_t *l = whirl_component_linker_new(t_engine);
    CHECK_OK(whirl_component_linker_define_func(l, NULL, "later", later_cb, NULL, NULL), "later");
    CHECK_OK(whirl_component_linker_define_func(l, NULL, "never", never_cb, NULL, NULL), "never");
    whirl_store_t *s;
    later_live = 0;
    whirl_component_instance_t *inst = t_instantiate(l, c, &s);
    if (inst) {
        CHECK(call_u32(inst, "started", NULL, 0) == 1121004,
              "STARTED with a handle; wait: (SUBTASK, handle, RETURNED), result 4");
        CHECK(call_u32(inst, "two", NULL, 0) == 1109,
              "two subtasks side by side, the shorter resolves first");
        CHECK(call_u32(inst, "poll-cancel", NULL, 0) == 1047,
              "poll: no event; sync cancel: CANCELLED_BEFORE_RETURNED, no result written");
        CHECK(call_u32(inst, "cancel-async", NULL, 0) == 4, "async cancel of a member of a set");
        CHECK(call_u32(inst, "at-once", NULL, 0) == 2001, "finished during the call: RETURNED");
        CHECK(call_u32(inst, "cb", NULL, 0) == 203,
              "callback WAIT: the SUBTASK event, then the result");
        CHECK(call_u32(inst, "stackful", NULL, 0) == 205,
              "a stackful export waits for its subtask and returns");
        CHECK(later_live == 0, "every host call's state freed (%d left)", later_live);
    }
    whirl_store_delete(s);
    static const struct {
        const char *name, *trap;
        bool deadline;
    } traps[] = {
        {"wait-never", "deadline reached while the guest waited for a subtask", true},
        {"cb-never", "deadline reached while the guest waited for a subtask", true},
        {"stackful-never", "deadline reached while the guest waited for a subtask", true},
        {"yield-forever", "interrupt", true},
        {"drop-early", "subtask.drop: subtask 1 has not resolved", false},
        {"drop-undelivered", "subtask 1 has not delivered its resolution yet", false},
        {"cancel-in-set", "a synchronous cancel is not allowed", false},
        {"cancel-twice", "subtask.cancel: subtask 1 has already resolved", false},
        {"drop-set", "subtask.drop: 1 is not a subtask handle", false},
        {"wait-empty", "would wait forever", false},
    };
    for (size_t i = 0; i < sizeof traps / sizeof *traps; i++) {
        inst = t_instantiate(l, c, &s);
        if (inst) {
            if (traps[i].deadline)
                whirl_error_delete(
                    whirl_store_set_deadline(s, whirl_monotonic_now() + 50000000u));
            whirl_cval_t r = {0};
            CHECK_TRAP(t_call(inst, NULL, traps[i].name, NULL, 0, &r), traps[i].trap,
                       traps[i].name);
            whirl_cval_release(&r);
        }
        whirl_store_delete(s);
    }
    test_subtask_resumable(l, c, "cb-never");
    test_subtask_resumable(l, c, "stackful-never");
    CHECK(later_live == 0, "pending host calls freed with their store (%d left)", later_live);
    whirl_component_linker_delete(l);
    whirl_component_delete(c);
}

/* A guest callee as a subtask (async-guest-subtask.wat). */
static void test_async_guest_subtask(void)
{
    whirl_component_t *c = t_load("async-guest-subtask");
    if (!c)
        return;
    whirl_component_linker_t *l = whirl_component_linker_new(t_engine);
    CHECK_OK(whirl_component_linker_define_func(l, NULL, "later", later_cb, NULL, NULL), "later");
    whirl_store_t *s;
    later_live = 0;
    whirl_component_instance_t *inst = t_instantiate(l, c, &s);
    if (inst)
        CHECK(call_u32(inst, "run", NULL, 0) == 112040,
              "the guest callee's task suspends (STARTED) and the caller's wait resumes it");
    whirl_store_delete(s);
    inst = t_instantiate(l, c, &s);
    if (inst)
        CHECK(call_u32(inst, "leave", NULL, 0) == 1, "a guest subtask left pending: STARTED");
    whirl_store_delete(s);
    inst = t_instantiate(l, c, &s);
    if (inst) {
        whirl_cval_t r = {0};
        CHECK_TRAP(t_call(inst, NULL, "cancel", NULL, 0, &r),
                   "whose cancellation is not implemented yet", "cancel a guest subtask");
        whirl_cval_release(&r);
    }
    whirl_store_delete(s);
    CHECK(later_live == 0, "host calls freed (%d left)", later_live);
    whirl_component_linker_delete(l);
    whirl_component_delete(c);
}

void test_async(void)
{
    test_async_guest_subtask();
    test_async_subtasks();
    test_async_lower();
    test_async_types();
    test_async_stackful();
    test_async_tasks();
}
