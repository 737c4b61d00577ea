/* whirl-async-bench: what a call costs, synchronous and resumable.
 *
 *   whirl-async-bench [iterations [row]]
 *
 * With a row name ("sync call", ...) only that row runs, once: for
 * instruction counts under callgrind, which a loaded machine leaves
 * comparable where times are not.
 *
 * Rows (ns per call, best of 5 runs):
 *   sync call        whirl_func_call of a one-instruction wasm function
 *   sync host call   a wasm loop calling a host function (per host call)
 *   loop             a wasm loop, per iteration (the interpreter's epoch
 *                    check on every back edge)
 * and, where include/whirl/async.h exists:
 *   async call       whirl_call_new + resume + results + delete of the same
 *                    function (a fiber per call)
 *   async host, now  an async host function finished before it returns
 *   suspend/resume   an async host function finished later: the call parks,
 *                    is finished, and resumed (one round trip)
 * A measurement, not a test: nothing here asserts a time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tests/unit/async_modules.h"
#include "whirl.h"

static void must(whirl_error_t *err, const char *what)
{
    if (err) {
        fprintf(stderr, "%s: %s\n", what, whirl_error_message(err));
        exit(1);
    }
}

static whirl_error_t *echo(void *env, whirl_caller_t *caller, const whirl_val_t *args,
                           size_t nargs, whirl_val_t *results, size_t nresults)
{
    (void)env, (void)caller, (void)nargs, (void)nresults;
    results[0] = args[0];
    return NULL;
}

#ifdef WHIRL_ASYNC_H
static whirl_completion_t *parked;
static int finish_now;

static void wait_cb(void *env, whirl_caller_t *caller, const whirl_val_t *args, size_t nargs,
                    whirl_completion_t *completion)
{
    (void)env, (void)caller, (void)nargs;
    if (finish_now)
        whirl_completion_finish(completion, args, 1, NULL);
    else
        parked = completion;
}
#endif

static double best = 0;
static const char *only;
static int reps = 5;

/* Whether to run `row`. */
static int want(const char *row)
{
    return !only || strcmp(only, row) == 0;
}
static void report(const char *row, uint64_t t0, uint64_t t1, long n)
{
    double ns = (double)(t1 - t0) / (double)n;
    if (best == 0 || ns < best)
        best = ns;
    (void)row;
}

static void print_row(const char *row)
{
    if (!want(row))
        return;
    printf("%-18s %8.1f ns\n", row, best);
    best = 0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    if (argc > 2) {
        only = argv[2];
        reps = 1;
    }
    whirl_config_t *config = whirl_config_new();
    whirl_config_use_env(config, false);
    whirl_engine_t *engine;
    must(whirl_engine_new(config, &engine), "engine");
    whirl_module_t *module;
    must(whirl_module_new(engine, ASYNC_MAIN_WASM, sizeof ASYNC_MAIN_WASM, &module), "module");
    whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
    whirl_valkind_t i32 = WHIRL_I32;
    whirl_functype_t *type = whirl_functype_new(&i32, 1, &i32, 1);
    whirl_func_t *wait, *reenter;
#ifdef WHIRL_ASYNC_H
    must(whirl_func_new_async(store, type, wait_cb, NULL, NULL, &wait), "wait");
#else
    must(whirl_func_new(store, type, echo, NULL, NULL, &wait), "wait");
#endif
    must(whirl_func_new(store, type, echo, NULL, NULL, &reenter), "reenter");
    whirl_extern_t imports[2] = {{WHIRL_EXTERN_FUNC, {.func = wait}},
                                 {WHIRL_EXTERN_FUNC, {.func = reenter}}};
    whirl_instance_t *inst;
    must(whirl_instance_new(store, module, imports, 2, &inst), "instance");
    whirl_extern_t add1, host_loop, call_wait;
    whirl_instance_export(inst, "add1", 4, &add1);
    whirl_instance_export(inst, "host_loop", 9, &host_loop);
    whirl_instance_export(inst, "call_wait", 9, &call_wait);

    whirl_val_t arg = {.kind = WHIRL_I32, .of.i32 = 1}, r;
    for (int rep = 0; want("sync call") && rep < reps; rep++) {
        uint64_t t0 = whirl_monotonic_now();
        for (long i = 0; i < n; i++)
            whirl_func_call(store, add1.of.func, &arg, 1, &r, 1);
        report("sync call", t0, whirl_monotonic_now(), n);
    }
    print_row("sync call");
    for (int rep = 0; want("sync host call") && rep < reps; rep++) {
        whirl_val_t count = {.kind = WHIRL_I32, .of.i32 = (int32_t)n};
        uint64_t t0 = whirl_monotonic_now();
        must(whirl_func_call(store, host_loop.of.func, &count, 1, &r, 1), "host_loop");
        report("sync host call", t0, whirl_monotonic_now(), n);
    }
    print_row("sync host call");
    whirl_extern_t spin;
    whirl_instance_export(inst, "spin", 4, &spin);
    for (int rep = 0; want("loop") && rep < reps; rep++) {
        whirl_val_t count = {.kind = WHIRL_I64, .of.i64 = 10 * n}, sum;
        uint64_t t0 = whirl_monotonic_now();
        must(whirl_func_call(store, spin.of.func, &count, 1, &sum, 1), "spin");
        report("loop", t0, whirl_monotonic_now(), 10 * n);
    }
    print_row("loop");
#ifdef WHIRL_ASYNC_H
    long m = n / 10;
    for (int rep = 0; want("async call") && rep < reps; rep++) {
        uint64_t t0 = whirl_monotonic_now();
        for (long i = 0; i < m; i++) {
            whirl_call_t *call;
            must(whirl_call_new(store, add1.of.func, &arg, 1, 1, &call), "call");
            whirl_call_resume(call);
            must(whirl_call_results(call, &r, 1), "results");
            whirl_call_delete(call);
        }
        report("async call", t0, whirl_monotonic_now(), m);
    }
    print_row("async call");
    finish_now = 1;
    for (int rep = 0; want("async host, now") && rep < reps; rep++) {
        uint64_t t0 = whirl_monotonic_now();
        for (long i = 0; i < m; i++)
            must(whirl_func_call(store, call_wait.of.func, &arg, 1, &r, 1), "call_wait");
        report("async host, now", t0, whirl_monotonic_now(), m);
    }
    print_row("async host, now");
    finish_now = 0;
    for (int rep = 0; want("suspend/resume") && rep < reps; rep++) {
        whirl_call_t *call;
        whirl_val_t args[2] = {{.kind = WHIRL_I32, .of.i32 = 0},
                               {.kind = WHIRL_I32, .of.i32 = (int32_t)m}};
        whirl_extern_t wait_n;
        whirl_instance_export(inst, "wait_n", 6, &wait_n);
        must(whirl_call_new(store, wait_n.of.func, args, 2, 1, &call), "call");
        uint64_t t0 = whirl_monotonic_now();
        whirl_call_status_t st = whirl_call_resume(call);
        while (st == WHIRL_CALL_PENDING) {
            whirl_completion_finish(parked, &arg, 1, NULL);
            st = whirl_call_resume(call);
        }
        report("suspend/resume", t0, whirl_monotonic_now(), m);
        must(whirl_call_results(call, &r, 1), "results");
        whirl_call_delete(call);
    }
    print_row("suspend/resume");
#endif
    whirl_functype_delete(type);
    whirl_store_delete(store);
    whirl_module_delete(module);
    whirl_engine_delete(engine);
    return 0;
}
