/* Calls across the component boundary: `canon lift` (calling a lifted core
 * function with component values) and `canon lower` (the core function a
 * guest imports, which lifts its arguments, calls the component function
 * and lowers the result). A call from one component to another goes through
 * both, with the values passing through the host as whirl_cval_t trees. */
#include <stdlib.h>
#include <string.h>

#include "component/component.h"

static void release_all(whirl_cval_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        whirl_cval_release(&v[i]);
}

static const char *fname(const whirl_component_func_t *f)
{
    return f->name ? f->name : "(anonymous)";
}

static whirl_error_t *call_host(whirl_component_func_t *f, cinst_t *caller, whirl_cval_t *args,
                                size_t nargs, whirl_cval_t *results, size_t nresults)
{
    whirl_store_t *store = caller ? caller->store : f->store;
    csub_defer_t *saved = csub_host_enter();
    whirl_error_t *e =
        f->host->callback(f->host->env, store, f, args, nargs, results, nresults);
    csub_host_leave(saved);
    if (e) {
        release_all(results, nresults);
        return error_as_trap(e);
    }
    return NULL;
}

/* A guest callee's task suspended under an async lower: a subtask of the
 * caller, resumed by the caller's event loop (subtask.c) as a host call
 * would be polled. The callee instance stays entered until it ends. */
typedef struct guest_run {
    ctask_t task;
    whirl_component_func_t *f;
    cinst_t *caller;
} guest_run_t;

static whirl_error_t *guest_poll(void *env, whirl_store_t *store, whirl_cval_t *result,
                                 bool *done)
{
    (void)store;
    guest_run_t *g = env;
    whirl_component_func_t *f = g->f;
    bool suspended;
    whirl_error_t *e =
        task_resume_async(f, &g->task, result, f->type->result ? 1 : 0, &suspended);
    if (!e && suspended)
        return NULL;
    if (!e && g->task.num_borrows)
        e = canon_trap("`%s` returned with %u borrowed handle(s) not dropped", fname(f),
                       g->task.num_borrows);
    if (e) {
        /* The callee stays entered (it trapped); its borrows must go. */
        if (g->task.num_borrows)
            handle_scrub_task(&g->task);
        whirl_cval_release(result);
        return e;
    }
    inst_leave_to(f->inst, g->caller);
    *done = true;
    return NULL;
}

static void guest_free(void *env)
{
    guest_run_t *g = env;
    whirl_cval_release(&g->task.result);
    free(g);
}

static const csub_host_ops_t guest_task_ops = {NULL, guest_poll, guest_free};

static whirl_error_t *call_lifted(whirl_component_func_t *f, cinst_t *caller,
                                  whirl_cval_t *args, size_t nargs, whirl_cval_t *results,
                                  size_t nresults)
{
    cinst_t *ci = f->inst;
    const ctype_t *ft = f->type;
    csub_defer_t *slot = csub_guest_slot(); /* an async caller: the task may suspend */
    if (!inst_may_enter_from(ci, caller))
        return canon_trap("cannot enter component instance to call `%s` (it is already "
                          "running, or a previous call trapped)", fname(f));
    guest_run_t *run = NULL;
    if (slot && f->async && f->callback) {
        if (!(run = calloc(1, sizeof *run)))
            return error_oom();
        run->f = f;
        run->caller = caller;
    }
    inst_enter_from(ci, caller);
    ctask_t stack_task = {.inst = ci};
    ctask_t *taskp = run ? &run->task : &stack_task;
    taskp->inst = ci;
    ccx_t cx = {.store = ci->store, .inst = ci, .encoding = f->encoding, .memory = f->memory,
                .realloc = f->realloc, .task = taskp};
    cflat_sig_t sig;
    ctype_flatten_func(ft, false, &sig);
    whirl_val_t flat[CANON_MAX_FLAT_PARAMS + 1], res[CANON_MAX_FLAT_RESULTS + 1];
    size_t nflat = 0;
    whirl_error_t *e =
        canon_lower_values(&cx, CANON_MAX_FLAT_PARAMS, ft->fields, ft->count, args, flat, &nflat,
                           NULL);
    if (!e && f->async) {
        bool suspended = false;
        e = task_call_async(f, taskp, flat, nflat, results, nresults, run != NULL, &suspended);
        if (!e && suspended) {
            slot->ops = &guest_task_ops;
            slot->env = run;
            slot->guest = ci;
            return NULL;
        }
        if (!e && taskp->num_borrows)
            e = canon_trap("`%s` returned with %u borrowed handle(s) not dropped", fname(f),
                           taskp->num_borrows);
        if (!e)
            inst_leave_to(ci, caller);
        else if (taskp->num_borrows) /* task_call_async wrote no result; the instance stays entered */
            handle_scrub_task(taskp);
        free(run);
        return e;
    }
    free(run);
    run = NULL;
    if (!e) {
        /* The sync task is current too: async built-ins it calls trap. */
        stack_task.outer = ci->current_task;
        ci->current_task = &stack_task;
        e = whirl_func_call(ci->store, f->core, flat, nflat, res, sig.nresults);
        ci->current_task = stack_task.outer;
    }
    if (!e && ft->result)
        e = canon_lift_result(&cx, ft->result, res, sig.nresults, &results[0]);
    if (!e && stack_task.num_borrows)
        e = canon_trap("`%s` returned with %u borrowed handle(s) not dropped", fname(f),
                       stack_task.num_borrows);
    if (!e && f->post_return) {
        ci->may_leave = false;
        e = whirl_func_call(ci->store, f->post_return, res, sig.nresults, NULL, 0);
        ci->may_leave = true;
    }
    if (e) {
        /* The instance stays entered: after a trap it cannot be reentered.
         * Borrow handles of the call must not outlive it, though. */
        if (stack_task.num_borrows)
            handle_scrub_task(&stack_task);
        release_all(results, nresults);
        return e;
    }
    inst_leave_to(ci, caller);
    return NULL;
}

whirl_error_t *cfunc_call(whirl_component_func_t *f, cinst_t *caller, whirl_cval_t *args,
                          size_t nargs, whirl_cval_t *results, size_t nresults)
{
    if (nargs != f->type->count || nresults != (f->type->result ? 1u : 0u))
        return error_fmt("component function `%s` takes %u argument(s) and %u result(s)",
                         fname(f), f->type->count, f->type->result ? 1 : 0);
    return f->kind == CFUNC_HOST ? call_host(f, caller, args, nargs, results, nresults)
                                 : call_lifted(f, caller, args, nargs, results, nresults);
}

/* Subtask.State of the async ABI: what an async lower returns. */
enum { SUBTASK_RETURNED = 2 };

/* canon lower with the `async` option. A host callee may defer (csub_defer):
 * the call becomes a subtask (subtask.c) and the status is STARTED with its
 * handle. Otherwise the callee completed before the lower returns (a guest
 * callee runs as in a synchronous call, its task trapping where it would
 * wait with nothing pending), so the status is RETURNED, as CanonicalABI.md
 * answers a subtask resolved during the call: no subtask handle exists, and
 * the result went through the pointer (the last flat argument). Parameters
 * come flat up to CANON_MAX_FLAT_ASYNC_PARAMS, else through one pointer. */
static whirl_error_t *lower_async(clower_env_t *le, whirl_caller_t *caller,
                                  const whirl_val_t *args, size_t nargs, whirl_val_t *results,
                                  size_t nresults)
{
    cinst_t *inst = le->inst;
    const ctype_t *ft = le->type;
    if (nresults != 1)
        return canon_trap("internal error: async lower of `%s` with %zu results",
                          fname(le->callee), nresults);
    size_t nparams = nargs - (ft->result ? 1 : 0);
    clenders_t lenders = {.inst = inst};
    ccx_t cx = {.store = whirl_caller_store(caller), .inst = inst, .encoding = le->encoding,
                .memory = le->memory, .realloc = le->realloc, .lenders = &lenders};
    whirl_cval_t *vals = calloc(ft->count ? ft->count : 1, sizeof *vals);
    whirl_cval_t result = {0};
    if (!vals)
        return error_oom();
    whirl_error_t *e = canon_lift_values(&cx, CANON_MAX_FLAT_ASYNC_PARAMS, ft->fields, ft->count,
                                         args, nparams, vals);
    csub_defer_t slot = {0};
    if (!e)
        e = cfunc_call_deferrable(le->callee, inst, vals, ft->count, &result,
                                  ft->result ? 1 : 0, &slot);
    if (!e && slot.ops) {
        uint32_t status = 0;
        e = subtask_start(le, &slot, ft->result ? (uint32_t)args[nargs - 1].of.i32 : 0,
                          &lenders, &status);
        if (!e) {
            results[0].kind = WHIRL_I32;
            results[0].of.i32 = (int32_t)status;
        }
    } else if (!e && ft->result) {
        cfield_t rf = {NULL, ft->result};
        uint32_t retptr = (uint32_t)args[nargs - 1].of.i32;
        whirl_val_t none[CANON_MAX_FLAT_RESULTS];
        size_t n = 0;
        e = canon_lower_values(&cx, 0, &rf, 1, &result, none, &n, &retptr);
    }
    if (!e && !slot.ops) {
        results[0].kind = WHIRL_I32;
        results[0].of.i32 = SUBTASK_RETURNED;
    }
    clenders_release(&lenders);
    release_all(vals, ft->count);
    free(vals);
    whirl_cval_release(&result);
    return e;
}

whirl_error_t *lower_trampoline(void *env, whirl_caller_t *caller, const whirl_val_t *args,
                                size_t nargs, whirl_val_t *results, size_t nresults)
{
    clower_env_t *le = env;
    if (le->async)
        return lower_async(le, caller, args, nargs, results, nresults);
    cinst_t *inst = le->inst;
    const ctype_t *ft = le->type;
    if (!inst->may_leave)
        return canon_trap("cannot call import `%s` from realloc or post-return",
                          fname(le->callee));
    cflat_sig_t sig;
    ctype_flatten_func(ft, true, &sig);
    clenders_t lenders = {.inst = inst};
    ccx_t cx = {.store = whirl_caller_store(caller), .inst = inst, .encoding = le->encoding,
                .memory = le->memory, .realloc = le->realloc, .lenders = &lenders};
    whirl_cval_t *vals = calloc(ft->count ? ft->count : 1, sizeof *vals);
    whirl_cval_t result = {0};
    if (!vals)
        return error_oom();
    size_t nparams = nargs - (sig.results_in_memory ? 1 : 0);
    whirl_error_t *e =
        canon_lift_values(&cx, CANON_MAX_FLAT_PARAMS, ft->fields, ft->count, args, nparams, vals);
    if (!e)
        e = cfunc_call(le->callee, inst, vals, ft->count, &result, ft->result ? 1 : 0);
    if (!e && ft->result) {
        cfield_t rf = {NULL, ft->result};
        size_t n = 0;
        if (sig.results_in_memory) {
            uint32_t retptr = (uint32_t)args[nargs - 1].of.i32;
            whirl_val_t none[1];
            e = canon_lower_values(&cx, CANON_MAX_FLAT_RESULTS, &rf, 1, &result, none, &n,
                                   &retptr);
        } else {
            e = canon_lower_values(&cx, CANON_MAX_FLAT_RESULTS, &rf, 1, &result, results, &n,
                                   NULL);
        }
        if (!e && n != nresults)
            e = canon_trap("internal error: %zu flat results for %zu", n, nresults);
    }
    clenders_release(&lenders);
    release_all(vals, ft->count);
    free(vals);
    whirl_cval_release(&result);
    return e;
}
