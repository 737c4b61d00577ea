/* Subtasks of the component-model async ABI (CanonicalABI.md: "Subtask",
 * `canon lower` with `async`, `canon subtask.cancel`, `canon subtask.drop`)
 * and the event loop that finishes them.
 *
 * A host function called through an async lower may finish later
 * (csub_defer). The lower then returns STARTED packed with a subtask
 * handle in the caller's waitable table; the result is lowered into the
 * caller's buffer when the host call finishes, and the SUBTASK event
 * (payload: the state) becomes pending on the handle. Host calls finish in
 * the event loop, subtasks_run, which the waits of the instance run:
 * waitable-set.wait and the callback's WAIT block in it (poll-style, on the
 * descriptors and deadlines the pending host calls name, ended by the
 * store's deadline), waitable-set.poll runs it without blocking. So one
 * task can wait on a clock while another host call of it (a UDP receive)
 * is pending, on one thread.
 *
 * A guest callee still runs to completion within the lower (its task traps
 * where it would wait with nothing pending): the lower answers RETURNED. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "component/component.h"
#include "wasi/reactor.h"

enum { ST_STARTING = 0, ST_STARTED, ST_RETURNED, ST_CANCELLED_BEFORE_STARTED,
       ST_CANCELLED_BEFORE_RETURNED };

struct csubtask {
    cinst_t *inst; /* the caller, whose table holds `handle` */
    uint32_t handle;
    uint8_t state;
    bool delivered, cancel_requested;
    bool copy; /* a stream copy waiting for a host source (no handle, no event) */
    const csub_host_ops_t *ops; /* the pending call, NULL once resolved */
    void *env;
    cinst_t *guest; /* a guest callee's suspended task: the callee's instance */
    /* Where the result goes: the lower's options and buffer. */
    const ctype_t *result_type;
    uint32_t retptr;
    uint8_t encoding;
    whirl_memory_t *memory;
    whirl_func_t *realloc;
    clenders_t lenders;
    csubtask_t *next; /* root->pending while ops is set */
};

/* ---- deferring a host call ---- */

/* The slot of the host call running now, if an async lower made it: a
 * thread-local, set around the host callback only (`armed` until call_host
 * takes it, so that nested host calls see none). A host function decides
 * before it waits, so a resumable call's migration to another thread
 * cannot confuse it. */
static _Thread_local csub_defer_t *defer_slot, *armed, *armed_guest;

bool csub_can_defer(void) { return defer_slot && !defer_slot->ops; }

void csub_defer(const csub_host_ops_t *ops, void *env)
{
    defer_slot->ops = ops;
    defer_slot->env = env;
}

bool whirl_component_call_can_defer(void) { return csub_can_defer(); }

void whirl_component_call_defer(const whirl_component_pending_ops_t *ops, void *env)
{
    if (csub_can_defer()) {
        csub_defer(ops, env);
    } else if (ops && ops->free) {
        ops->free(env); /* misuse: nothing would ever run it; the call gives no result */
    }
}

csub_defer_t *csub_guest_slot(void)
{
    csub_defer_t *slot = armed_guest;
    armed_guest = NULL;
    return slot;
}

csub_defer_t *csub_host_enter(void)
{
    csub_defer_t *saved = defer_slot;
    defer_slot = armed;
    armed = NULL;
    return saved;
}

void csub_host_leave(csub_defer_t *saved) { defer_slot = saved; }

whirl_error_t *cfunc_call_deferrable(whirl_component_func_t *f, cinst_t *caller,
                                     whirl_cval_t *args, size_t nargs, whirl_cval_t *results,
                                     size_t nresults, csub_defer_t *slot)
{
    armed = f->kind == CFUNC_HOST ? slot : NULL;
    armed_guest = f->kind == CFUNC_LIFTED && f->async ? slot : NULL;
    whirl_error_t *e = cfunc_call(f, caller, args, nargs, results, nresults);
    armed = armed_guest = NULL;
    if (e && slot->ops) {
        if (slot->ops->free)
            slot->ops->free(slot->env);
        slot->ops = NULL;
    }
    return e;
}

/* ---- the subtask ---- */

static void unlink_pending(csubtask_t *st)
{
    for (csubtask_t **p = &st->inst->root->pending; *p; p = &(*p)->next) {
        if (*p == st) {
            *p = st->next;
            break;
        }
    }
    st->next = NULL;
}

static void end_host_call(csubtask_t *st)
{
    if (!st->ops)
        return;
    unlink_pending(st);
    const csub_host_ops_t *ops = st->ops;
    st->ops = NULL;
    if (ops->free)
        ops->free(st->env);
}

whirl_error_t *subtask_start(clower_env_t *le, const csub_defer_t *d, uint32_t retptr,
                             clenders_t *lenders, uint32_t *status)
{
    csubtask_t *st = calloc(1, sizeof *st);
    if (!st) {
        if (d->ops->free)
            d->ops->free(d->env);
        return error_oom();
    }
    *st = (csubtask_t){.inst = le->inst, .state = ST_STARTED, .ops = d->ops, .env = d->env,
                       .guest = d->guest,
                       .result_type = le->type->result, .retptr = retptr,
                       .encoding = le->encoding, .memory = le->memory, .realloc = le->realloc,
                       .lenders = *lenders};
    memset(lenders, 0, sizeof *lenders);
    whirl_error_t *e = waitable_add_subtask(le->inst, st, &st->handle);
    if (e) {
        st->ops = NULL;
        if (d->ops->free)
            d->ops->free(d->env);
        *lenders = st->lenders; /* the lower releases them */
        free(st);
        return e;
    }
    st->next = le->inst->root->pending;
    le->inst->root->pending = st;
    *status = ST_STARTED | st->handle << 4;
    return NULL;
}

uint32_t subtask_deliver(csubtask_t *st)
{
    if (st->state >= ST_RETURNED && !st->delivered) {
        st->delivered = true;
        clenders_release(&st->lenders);
    }
    return st->state;
}

void subtask_free(csubtask_t *st)
{
    /* With the store: the handle tables are gone, so lenders are not
     * returned, only forgotten. */
    end_host_call(st);
    vec_free(&st->lenders.idx);
    free(st);
}

whirl_error_t *subtask_copy_wait(cinst_t *inst, const csub_host_ops_t *ops, void *env,
                                 csubtask_t **out)
{
    csubtask_t *st = calloc(1, sizeof *st);
    if (!st)
        return error_oom();
    *st = (csubtask_t){.inst = inst, .state = ST_STARTED, .ops = ops, .env = env, .copy = true};
    st->next = inst->root->pending;
    inst->root->pending = st;
    *out = st;
    return NULL;
}

/* The host call finished with `result`: lowered into the caller's buffer. */
static whirl_error_t *resolve(csubtask_t *st, whirl_cval_t *result)
{
    if (st->copy) {
        subtask_free(st); /* the copy has its event already (ops->free forgets st) */
        return NULL;
    }
    end_host_call(st);
    whirl_error_t *e = NULL;
    if (st->result_type) {
        ccx_t cx = {.store = st->inst->store, .inst = st->inst, .encoding = st->encoding,
                    .memory = st->memory, .realloc = st->realloc};
        cfield_t rf = {NULL, st->result_type};
        whirl_val_t none[CANON_MAX_FLAT_RESULTS];
        size_t n = 0;
        e = canon_lower_values(&cx, 0, &rf, 1, result, none, &n, &st->retptr);
    }
    st->state = ST_RETURNED;
    waitable_subtask_event(st->inst, st->handle, true);
    return e;
}

/* ---- the event loop ---- */

enum { MAX_WATCHED = 64 };

/* The next pending host call of `inst` from `st` on (NULL: none). Only the
 * waiting instance's calls run: resolving one lowers into its caller's
 * memory (realloc included), which must not happen to an instance that is
 * suspended further up the stack; another instance's calls finish when it
 * waits itself. */
static csubtask_t *next_of(csubtask_t *st, const cinst_t *inst)
{
    while (st && st->inst != inst)
        st = st->next;
    return st;
}

/* Gathers what inst's pending calls wait for into pfds/until. */
static void collect(croot_t *root, const cinst_t *inst, struct pollfd *pfds, nfds_t *np,
                    uint64_t *until, unsigned depth)
{
    for (csubtask_t *st = next_of(root->pending, inst); st; st = next_of(st->next, inst)) {
        if (st->guest) {
            if (depth < 16 && st->guest != inst)
                collect(root, st->guest, pfds, np, until, depth + 1);
            continue;
        }
        uint64_t d = UINT64_MAX;
        struct pollfd two[2];
        size_t k = st->ops->watch ? st->ops->watch(st->env, two, &d) : 0;
        for (size_t i = 0; i < k && i < 2; i++) {
            if (*np < MAX_WATCHED)
                pfds[(*np)++] = two[i];
            else if (*until > whirl_monotonic_now() + 1000000u)
                *until = whirl_monotonic_now() + 1000000u; /* too many: poll every ms */
        }
        if (d < *until)
            *until = d;
    }
}

whirl_error_t *subtasks_run(cinst_t *inst, bool block, bool *none)
{
    croot_t *root = inst->root;
    whirl_store_t *store = inst->store;
    *none = !next_of(root->pending, inst);
    for (;;) {
        bool finished = false;
        /* Each pass restarts from the head after a resolution: resolving
         * runs guest code (realloc), and finished calls leave the list. */
        for (csubtask_t *st = next_of(root->pending, inst); st;) {
            whirl_cval_t result = {0};
            bool done = false;
            whirl_error_t *e = st->ops->poll(st->env, store, &result, &done);
            if (!e && done)
                e = resolve(st, &result);
            whirl_cval_release(&result);
            if (e)
                return e;
            if (done) {
                finished = true;
                st = next_of(root->pending, inst);
                continue;
            }
            st = next_of(st->next, inst);
        }
        if (finished || !block || !next_of(root->pending, inst))
            return NULL;
        /* Nothing finished: wait for what the pending calls watch (a
         * suspended guest task: what its instance's calls watch). */
        struct pollfd pfds[MAX_WATCHED];
        nfds_t np = 0;
        uint64_t until = whirl_store_deadline_ns(store);
        collect(root, inst, pfds, &np, &until, 0);
        uint64_t now = whirl_monotonic_now();
        if (now >= whirl_store_deadline_ns(store))
            return whirl_trap_new(WHIRL_TRAP_INTERRUPT,
                                  "deadline reached while the guest waited for a subtask");
        struct timespec ts, *tsp = NULL;
        if (until != UINT64_MAX) {
            uint64_t left = until > now ? until - now : 0;
            ts.tv_sec = (time_t)(left / 1000000000u);
            ts.tv_nsec = (long)(left % 1000000000u);
            tsp = &ts;
        }
        whirl_error_t *cut = NULL;
        int r = wasi_reactor_ppoll(store, pfds, np, tsp, &cut);
        if (cut)
            return cut;
        if (r < 0 && errno != EINTR)
            return canon_trap("waiting for subtasks failed: %s", strerror(errno));
    }
}

/* ---- subtask.drop, subtask.cancel ---- */

whirl_error_t *subtask_builtin(ctask_env_t *te, const whirl_val_t *args, whirl_val_t *results)
{
    cinst_t *inst = te->inst;
    const char *name = canon_async_name(te->builtin);
    uint32_t h = (uint32_t)args[0].of.i32;
    bool in_set, has_event;
    csubtask_t *st = waitable_subtask(inst, h, &in_set, &has_event);
    if (!st)
        return canon_trap("%s: %u is not a subtask handle", name, h);
    if (te->builtin == 0x0d) {
        if (!st->delivered)
            return canon_trap("subtask.drop: subtask %u has not %s", h,
                              st->state >= ST_RETURNED ? "delivered its resolution yet"
                                                       : "resolved");
        waitable_subtask_remove(inst, h);
        vec_free(&st->lenders.idx);
        free(st);
        return NULL;
    }
    if (st->delivered)
        return canon_trap("subtask.cancel: subtask %u has already resolved", h);
    if (st->cancel_requested)
        return canon_trap("subtask.cancel: subtask %u is already being cancelled", h);
    if (in_set && !te->async)
        return canon_trap("subtask.cancel: subtask %u is in a waitable set, so a synchronous "
                          "cancel is not allowed", h);
    if (st->state < ST_RETURNED && st->guest)
        return canon_trap("subtask.cancel: subtask %u is a task of another component "
                          "instance, whose cancellation is not implemented yet", h);
    if (st->state < ST_RETURNED) {
        /* A host call stops at once: its result, if any, is never written. */
        st->cancel_requested = true;
        end_host_call(st);
        st->state = st->state == ST_STARTING ? ST_CANCELLED_BEFORE_STARTED
                                             : ST_CANCELLED_BEFORE_RETURNED;
    }
    /* The resolution is delivered here, not as an event. */
    waitable_subtask_event(inst, h, false);
    results[0].of.i32 = (int32_t)subtask_deliver(st);
    (void)has_event;
    return NULL;
}
