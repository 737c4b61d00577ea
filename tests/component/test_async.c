/* Component-model async: decoding and validation of async function types,
 * stream/future/error-context types, the async canon options and every
 * async canonical built-in (fixtures/async-*.wat; the invalid-async-*.wat
 * fixtures run with the other invalid ones in test_component.c); stackless
 * async exports called from the host (async-tasks.wat), with the traps of
 * misusing task.return, the callback codes and waitable sets; async lowers
 * of host functions (async-lower.wat: they complete before returning, so
 * the status is RETURNED and subtask handles never exist). Stackful async
 * lifts, which have no run time yet, refuse to instantiate with a clear
 * error (streams, futures and error contexts: test_streams.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

static void test_async_refused(void)
{
    whirl_component_t *c = t_load("async-export");
    if (!c)
        return;
    whirl_component_linker_t *l = whirl_component_linker_new(t_engine);
    whirl_store_t *s = whirl_store_new(t_engine, NULL, NULL);
    whirl_component_instance_t *inst = NULL;
    whirl_error_t *e = whirl_component_linker_instantiate(l, s, c, &inst);
    CHECK(inst == NULL, "async component not instantiated");
    CHECK_ERROR(e, "async option and no callback (stackful) is not implemented yet", "instantiate async");
    whirl_store_delete(s);
    whirl_component_linker_delete(l);
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

void test_async(void)
{
    test_async_lower();
    test_async_types();
    test_async_refused();
    test_async_tasks();
}
