/* Resumable calls and async host functions (include/whirl/async.h).
 *
 * A resumable call runs its body (a function call or an instantiation,
 * through the synchronous API) on a fiber. The guest suspends in two
 * places only, both outside the interpreter's fast path:
 *  - an async host function whose completion is unfinished when its
 *    callback returns (async_host_call) switches back to the resumer with
 *    the call's `why` set to SUSPEND_AWAIT;
 *  - the epoch check, when it fires at the end of a slice of a store that
 *    asked to yield (store_epoch_expired), with SUSPEND_YIELD.
 *
 * Waking is a race between the resumer and whichever thread finishes the
 * completion, settled on the completion's state word:
 *   WAITING --finish--> DONE           finished before the call parked
 *   WAITING --resumer--> PARKED --finish--> DONE (the finisher notifies)
 *   PARKED or WAITING --resumer--> ABANDONED   (deadline or cancellation;
 *                                     a later finish drops the results)
 * The call parks only after its fiber has switched out, so a notification
 * can never resume a fiber whose context is not saved yet. The completion
 * holds a reference to the call while parked; whoever moves it out of
 * PARKED (finisher or resumer) drops that reference. */
#define _GNU_SOURCE /* pthread_cond_clockwait */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "alloc/alloc.h"
#include "runtime/internal.h"

enum { C_WAITING, C_PARKED, C_DONE, C_ABANDONED };

struct whirl_completion {
    _Atomic int refs;       /* the waiting side and the host */
    _Atomic int state;
    whirl_call_t *call;     /* PARKED: the call to wake (a reference) */
    _Atomic bool sleeping;  /* a synchronous caller may sleep on `wake` */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    whirl_error_t *error;
    size_t nresults;
    whirl_val_t results[];
};

typedef enum call_kind {
    CALL_FUNC,
    CALL_INSTANTIATE,
    CALL_INSTANTIATE_PRE,
    CALL_HOST,
} call_kind_t;
typedef enum call_state { CALL_NEW, CALL_RUNNING, CALL_SUSPENDED, CALL_DONE } call_state_t;
typedef enum suspend_why { SUSPEND_NONE, SUSPEND_AWAIT, SUSPEND_YIELD } suspend_why_t;

struct whirl_call {
    _Atomic int refs;            /* the handle, a parked completion, a ready queue */
    _Atomic bool ready;
    _Atomic bool deleted;        /* the handle is gone: ready queues skip it */
    whirl_store_t *store;        /* NULL once done */
    call_kind_t kind;
    call_state_t state;
    suspend_why_t why;
    bool cancel;                 /* end every wait with a trap */
    bool interrupted;            /* the await was abandoned */
    bool results_taken;
    fiber_t fiber;
    whirl_completion_t *awaiting;
    /* Held while the notification runs, and by whirl_call_delete: once the
     * handle is deleted no notification runs or starts, so the host may
     * free notify_env (a completion finished as another thread resumes the
     * call to its end would otherwise notify a freed env). */
    pthread_mutex_t notify_lock;
    whirl_call_notify_t notify;
    void *notify_env;
    /* The work and its outcome. */
    whirl_func_t *func;
    whirl_val_t *args, *results;
    size_t nargs, nresults;
    whirl_module_t *module;
    whirl_extern_t *imports;
    size_t nimports;
    whirl_instance_pre_t *pre;
    whirl_error_t *(*host_fn)(void *env);
    void *host_env;
    whirl_instance_t *instance;
    whirl_error_t *error;
};

/* ---- completions ---- */

static whirl_completion_t *completion_new(size_t nresults)
{
    whirl_completion_t *w = calloc(1, sizeof *w + nresults * sizeof(whirl_val_t));
    if (!w)
        return NULL;
    atomic_init(&w->refs, 2);
    atomic_init(&w->state, C_WAITING);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    w->nresults = nresults;
    return w;
}

static void completion_release(whirl_completion_t *w)
{
    if (atomic_fetch_sub_explicit(&w->refs, 1, memory_order_acq_rel) != 1)
        return;
    whirl_error_delete(w->error);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

static void call_release(whirl_call_t *c);

static void call_wake(whirl_call_t *c)
{
    atomic_store_explicit(&c->ready, true, memory_order_release);
    pthread_mutex_lock(&c->notify_lock);
    if (c->notify && !atomic_load_explicit(&c->deleted, memory_order_acquire))
        c->notify(c->notify_env, c);
    pthread_mutex_unlock(&c->notify_lock);
}

void whirl_completion_finish(whirl_completion_t *w, const whirl_val_t *results,
                             size_t nresults, whirl_error_t *error)
{
    if (!w) {
        whirl_error_delete(error);
        return;
    }
    if (!error && nresults != w->nresults)
        error = error_trap(WHIRL_TRAP_HOST, "whirl_completion_finish: %zu results for a function "
                           "with %zu", nresults, w->nresults);
    else if (!error && nresults && !results)
        error = error_trap(WHIRL_TRAP_HOST, "whirl_completion_finish: results is NULL");
    if (!error && nresults)
        memcpy(w->results, results, nresults * sizeof *results);
    w->error = error;
    int old = atomic_exchange(&w->state, C_DONE);
    if (old == C_PARKED) {
        whirl_call_t *c = w->call;
        call_wake(c);
        call_release(c);
    } else if (old == C_WAITING && atomic_load(&w->sleeping)) {
        /* Sequentially consistent with the sleeper's store of `sleeping`
         * and load of `state`: one of the two sees the other. */
        pthread_mutex_lock(&w->lock);
        pthread_cond_broadcast(&w->wake);
        pthread_mutex_unlock(&w->lock);
    } else if (old == C_ABANDONED) {
        atomic_store_explicit(&w->state, C_ABANDONED, memory_order_relaxed);
    }
    completion_release(w);
}

bool whirl_completion_abandoned(const whirl_completion_t *w)
{
    return w && atomic_load_explicit(&((whirl_completion_t *)w)->state, memory_order_acquire) ==
                    C_ABANDONED;
}

static bool hard_deadline_passed(const whirl_store_t *store)
{
    return epoch_reached(&store->engine->epoch, store->epoch_hard_deadline);
}

/* A synchronous caller waits on the thread: until the completion is
 * finished, or the deadline passes (false: the completion is abandoned).
 * With a deadline the epoch is looked at every 10 ms (the default tick;
 * the host may also move the epoch itself), and the wait ends no later
 * than the deadline's time when it has one. */
static bool completion_wait(whirl_store_t *store, whirl_completion_t *w)
{
    bool done = true;
    pthread_mutex_lock(&w->lock);
    atomic_store(&w->sleeping, true);
    while (atomic_load(&w->state) != C_DONE) {
        if (store->epoch_hard_deadline == WHIRL_EPOCH_DEADLINE_NEVER) {
            pthread_cond_wait(&w->wake, &w->lock);
            continue;
        }
        if (hard_deadline_passed(store)) {
            int expect = C_WAITING;
            if (atomic_compare_exchange_strong_explicit(&w->state, &expect, C_ABANDONED,
                                                        memory_order_acq_rel,
                                                        memory_order_acquire)) {
                done = false;
                break;
            }
            continue;
        }
        uint64_t now = whirl_monotonic_now(), until = now + 10 * 1000 * 1000;
        uint64_t dl = store->hosting.deadline_ns;
        if (dl > now && dl < until)
            until = dl;
        struct timespec ts = {(time_t)(until / 1000000000u), (long)(until % 1000000000u)};
        pthread_cond_clockwait(&w->wake, &w->lock, CLOCK_MONOTONIC, &ts);
    }
    pthread_mutex_unlock(&w->lock);
    return done;
}

static bool on_call_fiber(const whirl_store_t *store)
{
    whirl_call_t *c = store->async.call;
    return c && c->state == CALL_RUNNING && fiber_current() == &c->fiber;
}

/* Waits for `w` by suspending the resumable call it runs in, or by
 * blocking a synchronous caller. Returns the completion's error (taken
 * from it) or the `interrupt` trap if the wait was cut short; the caller
 * keeps its reference to `w` and reads the results on NULL. */
static whirl_error_t *completion_await(whirl_store_t *store, whirl_completion_t *w)
{
    if (atomic_load_explicit(&w->state, memory_order_acquire) != C_DONE) {
        if (on_call_fiber(store)) {
            whirl_call_t *c = store->async.call;
            c->awaiting = w;
            c->why = SUSPEND_AWAIT;
            fiber_suspend(&c->fiber);
            c->why = SUSPEND_NONE;
            c->awaiting = NULL;
            if (c->interrupted) {
                c->interrupted = false;
                return error_trap(WHIRL_TRAP_INTERRUPT,
                                  c->cancel ? "resumable call cancelled while a host function "
                                              "was pending"
                                            : "deadline reached while a host function was "
                                              "pending");
            }
        } else if (!completion_wait(store, w)) {
            return error_trap(WHIRL_TRAP_INTERRUPT,
                              "deadline reached while a host function was pending");
        }
    }
    whirl_error_t *err = w->error;
    w->error = NULL;
    return err;
}

bool whirl_store_can_suspend(const whirl_store_t *store)
{
    return store && on_call_fiber(store);
}

whirl_completion_t *whirl_completion_new(void) { return completion_new(0); }

whirl_error_t *whirl_store_await(whirl_store_t *store, whirl_completion_t *w)
{
    if (!store || !w) {
        if (w)
            completion_release(w);
        return error_fmt("whirl_store_await: store or completion is NULL");
    }
    whirl_error_t *err = completion_await(store, w);
    completion_release(w);
    return err;
}

/* ---- async host functions ---- */

typedef struct async_host {
    whirl_async_callback_t callback;
    void *env;
    void (*finalizer)(void *env);
} async_host_t;

static void async_host_free(void *p)
{
    async_host_t *h = p;
    if (h->finalizer)
        h->finalizer(h->env);
    free(h);
}

/* The host callback every async host function is: it hands the user's
 * callback a completion and waits for it, by suspending the resumable call
 * it runs in, or by blocking a synchronous caller. */
static whirl_error_t *async_host_call(void *env, whirl_caller_t *caller, const whirl_val_t *args,
                                      size_t nargs, whirl_val_t *results, size_t nresults)
{
    async_host_t *h = env;
    whirl_store_t *store = whirl_caller_store(caller);
    whirl_completion_t *w = completion_new(nresults);
    if (!w)
        return error_oom();
    h->callback(h->env, caller, args, nargs, w);
    whirl_error_t *err = completion_await(store, w);
    if (!err && nresults)
        memcpy(results, w->results, nresults * sizeof *results);
    completion_release(w);
    return err;
}

whirl_error_t *whirl_func_new_async(whirl_store_t *store, const whirl_functype_t *type,
                                    whirl_async_callback_t callback, void *env,
                                    void (*finalizer)(void *env), whirl_func_t **out)
{
    if (!out)
        return error_fmt("whirl_func_new_async: out is NULL");
    *out = NULL;
    if (!callback)
        return error_fmt("whirl_func_new_async: callback is NULL");
    async_host_t *h = calloc(1, sizeof *h);
    if (!h)
        return error_oom();
    *h = (async_host_t){callback, env, NULL};
    whirl_error_t *err = whirl_func_new(store, type, async_host_call, h, async_host_free, out);
    if (err) {
        free(h); /* the caller keeps env */
        return err;
    }
    h->finalizer = finalizer;
    return NULL;
}

whirl_error_t *whirl_linker_define_async_func(whirl_linker_t *linker, const char *module,
                                              const char *name, const whirl_functype_t *type,
                                              whirl_async_callback_t callback, void *env,
                                              void (*finalizer)(void *env))
{
    if (!callback)
        return error_fmt("whirl_linker_define_async_func: callback is NULL");
    async_host_t *h = calloc(1, sizeof *h);
    if (!h)
        return error_oom();
    *h = (async_host_t){callback, env, NULL};
    whirl_error_t *err =
        whirl_linker_define_func(linker, module, name, type, async_host_call, h, async_host_free);
    if (err) {
        free(h);
        return err;
    }
    h->finalizer = finalizer;
    return NULL;
}

/* ---- epoch yield ---- */

/* The epoch code checks: the earliest of the hard deadline, the end of the
 * current yield slice and the sampler's next sample (sampler.c). */
void store_deadline_apply(whirl_store_t *store)
{
    uint64_t d = store->epoch_hard_deadline;
    if (store->async.yield_ticks && store->async.slice_end < d)
        d = store->async.slice_end;
    if (store->sampler && store->sampler->next < d)
        d = store->sampler->next;
    store->epoch_deadline = d;
}

static void start_slice(whirl_store_t *store)
{
    uint64_t now = atomic_load_explicit(&store->engine->epoch, memory_order_relaxed);
    uint64_t ticks = store->async.yield_ticks;
    store->async.slice_end = ticks > UINT64_MAX - now ? UINT64_MAX : now + ticks;
}

void whirl_store_epoch_yield_set(whirl_store_t *store, uint64_t ticks)
{
    if (!store)
        return;
    store->async.yield_ticks = ticks;
    start_slice(store);
    store_deadline_apply(store);
}

uint64_t store_epoch_expired(whirl_store_t *store)
{
    if (!store->async.yield_ticks || hard_deadline_passed(store))
        return 0;
    whirl_call_t *c = store->async.call;
    if (on_call_fiber(store)) {
        c->why = SUSPEND_YIELD;
        fiber_suspend(&c->fiber);
        c->why = SUSPEND_NONE;
        if (c->cancel || hard_deadline_passed(store))
            return 0;
    }
    /* A synchronous call (or code outside the call's fiber) runs on. */
    start_slice(store);
    store_deadline_apply(store);
    return store->epoch_deadline;
}

/* ---- resumable calls ---- */

static void call_release(whirl_call_t *c)
{
    if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1) {
        pthread_mutex_destroy(&c->notify_lock);
        free(c);
    }
}

static void call_body(void *arg)
{
    whirl_call_t *c = arg;
    switch (c->kind) {
    case CALL_FUNC:
        c->error = whirl_func_call(c->store, c->func, c->args, c->nargs, c->results, c->nresults);
        break;
    case CALL_INSTANTIATE:
        c->error = whirl_instance_new(c->store, c->module, c->imports, c->nimports, &c->instance);
        break;
    case CALL_INSTANTIATE_PRE:
        c->error = whirl_instance_pre_instantiate(c->pre, c->store, &c->instance);
        break;
    case CALL_HOST:
        c->error = c->host_fn(c->host_env);
        break;
    }
}

static whirl_error_t *call_alloc(whirl_store_t *store, const char *what, whirl_call_t **out)
{
    if (!out)
        return error_fmt("%s: out is NULL", what);
    *out = NULL;
    if (!store)
        return error_fmt("%s: store is NULL", what);
    if (!FIBER_SUPPORTED)
        return error_fmt("%s: resumable calls need fibers, which whirl does not have on this "
                         "architecture yet", what);
    if (store->async.call)
        return error_fmt("%s: the store already runs a resumable call (one at a time)", what);
    whirl_call_t *c = calloc(1, sizeof *c);
    if (!c)
        return error_oom();
    atomic_init(&c->refs, 1);
    atomic_init(&c->ready, true);
    pthread_mutex_init(&c->notify_lock, NULL);
    c->store = store;
    *out = c;
    return NULL;
}

/* What only the run needed (args and results share one block, which
 * whirl_call_delete frees). */
static void call_free_work(whirl_call_t *c)
{
    free(c->imports);
    c->imports = NULL;
    if (c->module)
        module_release(c->module);
    c->module = NULL;
    whirl_instance_pre_delete(c->pre);
    c->pre = NULL;
}

/* whirl_func_call's checks, worded for whirl_call_new. */
static whirl_error_t *call_check_args(whirl_store_t *store, whirl_func_t *func,
                                      const whirl_val_t *args, size_t nargs, size_t nresults)
{
    if (!func)
        return error_fmt("whirl_call_new: func is NULL");
    if (func->store != store)
        return error_fmt("whirl_call_new: function belongs to a different store");
    const wasm_functype_t *t = func->type;
    if (nargs != t->nparams || nresults != t->nresults) {
        char buf[256];
        functype_format(t, buf, sizeof buf);
        return error_fmt("whirl_call_new: function of type %s called with %zu arguments and "
                         "%zu results", buf, nargs, nresults);
    }
    if (nargs && !args)
        return error_fmt("whirl_call_new: args is NULL");
    for (size_t i = 0; i < nargs; i++) {
        whirl_valkind_t want = valtype_to_kind(t->params[i]);
        if (args[i].kind != want)
            return error_fmt("whirl_call_new: argument %zu has type %s, expected %s", i,
                             valkind_name(args[i].kind), valkind_name(want));
        whirl_error_t *err = check_val_store(&args[i], store, "whirl_call_new");
        if (!err)
            err = check_val_type(&args[i], t->params[i], t->module_types, "whirl_call_new");
        if (err)
            return err;
    }
    return NULL;
}

whirl_error_t *whirl_call_new(whirl_store_t *store, whirl_func_t *func,
                              const whirl_val_t *args, size_t nargs, size_t nresults,
                              whirl_call_t **out)
{
    whirl_call_t *c;
    whirl_error_t *err = call_alloc(store, "whirl_call_new", &c);
    if (err)
        return err;
    if ((err = call_check_args(store, func, args, nargs, nresults))) {
        free(c);
        return err;
    }
    c->kind = CALL_FUNC;
    c->func = func;
    c->nargs = nargs;
    c->nresults = nresults;
    c->args = calloc(nargs + nresults + 1, sizeof *c->args);
    if (!c->args) {
        free(c);
        return error_oom();
    }
    if (nargs)
        memcpy(c->args, args, nargs * sizeof *args);
    c->results = c->args + nargs;
    store->async.call = c;
    *out = c;
    return NULL;
}

whirl_error_t *whirl_call_new_instantiate(whirl_store_t *store, whirl_module_t *module,
                                          const whirl_extern_t *imports, size_t nimports,
                                          whirl_call_t **out)
{
    whirl_call_t *c;
    whirl_error_t *err = call_alloc(store, "whirl_call_new_instantiate", &c);
    if (err)
        return err;
    if (!module || (nimports && !imports)) {
        free(c);
        return error_fmt("whirl_call_new_instantiate: module or imports is NULL");
    }
    c->kind = CALL_INSTANTIATE;
    c->imports = calloc(nimports + 1, sizeof *imports);
    if (!c->imports) {
        free(c);
        return error_oom();
    }
    if (nimports)
        memcpy(c->imports, imports, nimports * sizeof *imports);
    c->nimports = nimports;
    module_retain(module);
    c->module = module;
    store->async.call = c;
    *out = c;
    return NULL;
}

whirl_error_t *whirl_call_new_instantiate_pre(const whirl_instance_pre_t *pre,
                                              whirl_store_t *store, whirl_call_t **out)
{
    whirl_call_t *c;
    whirl_error_t *err = call_alloc(store, "whirl_call_new_instantiate_pre", &c);
    if (err)
        return err;
    if (!pre) {
        free(c);
        return error_fmt("whirl_call_new_instantiate_pre: pre is NULL");
    }
    c->kind = CALL_INSTANTIATE_PRE;
    c->pre = whirl_instance_pre_clone((whirl_instance_pre_t *)pre);
    store->async.call = c;
    *out = c;
    return NULL;
}

whirl_error_t *whirl_call_new_host(whirl_store_t *store, whirl_error_t *(*fn)(void *env),
                                   void *env, whirl_call_t **out)
{
    whirl_call_t *c;
    whirl_error_t *err = call_alloc(store, "whirl_call_new_host", &c);
    if (err)
        return err;
    if (!fn) {
        free(c);
        return error_fmt("whirl_call_new_host: fn is NULL");
    }
    c->kind = CALL_HOST;
    c->host_fn = fn;
    c->host_env = env;
    store->async.call = c;
    *out = c;
    return NULL;
}

/* The store's fiber stack, for the call's first run: the end of its pool
 * stack slot (taken now if the store holds none yet), or one mapped on
 * demand. The store keeps it for its later calls (one runs at a time) and
 * scrubs it when deleted, so that a store's calls do not pay a scrub
 * each. */
static whirl_error_t *call_stack(whirl_call_t *c, fiber_stack_t *out)
{
    whirl_store_t *store = c->store;
    whirl_engine_t *engine = store->engine;
    if (store->async.stack_used) {
        *out = store->async.stack;
        return NULL;
    }
    size_t bytes = alloc_round_up((size_t)ENGINE_KNOB(engine, KNOB_ASYNC_STACK_SIZE),
                                  alloc_page_size());
    if (engine->pool) {
        whirl_error_t *err = store_pool_enter(store);
        if (err)
            return err;
        pool_t *pool = engine->pool;
        if (!fiber_stack_in_region(pool_slot_base(pool, POOL_STACK, store->hosting.stack_slot),
                                   pool_slot_size(pool, POOL_STACK), bytes, &store->async.stack))
            return error_fmt("resumable call: cannot set up the fiber stack in the pool's "
                             "stack slot (%s)", strerror(errno));
    } else if (!fiber_stack_map(bytes, &store->async.stack)) {
        return error_mark_exhausted(error_fmt("resumable call: cannot map a fiber stack of %zu "
                                              "bytes (%s)", bytes, strerror(errno)));
    }
    store->async.stack_used = true;
    *out = store->async.stack;
    return NULL;
}

/* The call's body has returned: it is done. */
static void call_done(whirl_call_t *c)
{
    c->state = CALL_DONE;
    fiber_destroy(&c->fiber);
    if (c->store && c->store->async.call == c)
        c->store->async.call = NULL;
    c->store = NULL;
    call_free_work(c);
    atomic_store_explicit(&c->ready, true, memory_order_release);
}

/* Moves a parked (or about to park) await to ABANDONED; false if the
 * completion was finished first. */
static bool call_abandon(whirl_call_t *c, int from)
{
    whirl_completion_t *w = c->awaiting;
    int expect = from;
    if (!atomic_compare_exchange_strong_explicit(&w->state, &expect, C_ABANDONED,
                                                 memory_order_acq_rel, memory_order_acquire))
        return false;
    if (from == C_PARKED)
        call_release(c); /* the completion's reference */
    c->interrupted = true;
    return true;
}

/* Runs the fiber until the call is done or a suspension the caller must
 * wait for. */
static whirl_call_status_t call_run(whirl_call_t *c)
{
    for (;;) {
        c->state = CALL_RUNNING;
        atomic_store_explicit(&c->ready, false, memory_order_relaxed);
        fiber_resume(&c->fiber);
        if (c->fiber.finished) {
            call_done(c);
            return WHIRL_CALL_DONE;
        }
        c->state = CALL_SUSPENDED;
        if (c->why == SUSPEND_YIELD) {
            if (c->cancel)
                continue;
            atomic_store_explicit(&c->ready, true, memory_order_release);
            return WHIRL_CALL_YIELDED;
        }
        /* SUSPEND_AWAIT: park unless finished meanwhile. */
        whirl_completion_t *w = c->awaiting;
        if (c->cancel || hard_deadline_passed(c->store)) {
            call_abandon(c, C_WAITING);
            continue;
        }
        atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
        w->call = c;
        int expect = C_WAITING;
        if (atomic_compare_exchange_strong_explicit(&w->state, &expect, C_PARKED,
                                                    memory_order_acq_rel, memory_order_acquire))
            return WHIRL_CALL_PENDING;
        w->call = NULL;
        atomic_fetch_sub_explicit(&c->refs, 1, memory_order_relaxed);
    }
}

whirl_call_status_t whirl_call_resume(whirl_call_t *c)
{
    if (!c || c->state == CALL_DONE)
        return WHIRL_CALL_DONE;
    if (c->state == CALL_RUNNING) /* resumed from inside itself */
        return WHIRL_CALL_PENDING;
    if (c->state == CALL_NEW) {
        fiber_stack_t stack;
        whirl_error_t *err = call_stack(c, &stack);
        if (err) {
            c->error = err;
            call_done(c);
            return WHIRL_CALL_DONE;
        }
        fiber_init(&c->fiber, &stack, call_body, c);
        return call_run(c);
    }
    if (c->why == SUSPEND_AWAIT &&
        atomic_load_explicit(&c->awaiting->state, memory_order_acquire) != C_DONE) {
        if (!c->cancel && !hard_deadline_passed(c->store))
            return WHIRL_CALL_PENDING;
        call_abandon(c, C_PARKED);
    }
    return call_run(c);
}

bool whirl_call_ready(const whirl_call_t *c)
{
    return c && atomic_load_explicit(&((whirl_call_t *)c)->ready, memory_order_acquire);
}

whirl_error_t *whirl_call_results(whirl_call_t *c, whirl_val_t *results, size_t nresults)
{
    if (!c)
        return error_fmt("whirl_call_results: call is NULL");
    if (c->state != CALL_DONE)
        return error_fmt("whirl_call_results: the call is not done");
    if (c->results_taken)
        return error_fmt("whirl_call_results: the outcome was already read");
    size_t have = c->kind == CALL_FUNC ? c->nresults : 0;
    if (nresults != have || (nresults && !results))
        return error_fmt("whirl_call_results: %zu results asked, the call has %zu", nresults,
                         have);
    c->results_taken = true;
    whirl_error_t *err = c->error;
    c->error = NULL;
    if (!err && nresults)
        memcpy(results, c->results, nresults * sizeof *results);
    return err;
}

whirl_instance_t *whirl_call_instance(const whirl_call_t *c)
{
    return c && c->state == CALL_DONE ? c->instance : NULL;
}

void whirl_call_set_notify(whirl_call_t *c, whirl_call_notify_t notify, void *env)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->notify_lock);
    c->notify = notify;
    c->notify_env = env;
    pthread_mutex_unlock(&c->notify_lock);
}

/* Runs a started call to its end with every wait cut short by a trap. */
static void call_cancel(whirl_call_t *c)
{
    if (c->state == CALL_NEW) {
        c->error = error_trap(WHIRL_TRAP_INTERRUPT, "resumable call cancelled before it ran");
        call_done(c);
        return;
    }
    if (c->state == CALL_RUNNING)
        return; /* deleted from inside itself: nothing can unwind it */
    c->cancel = true;
    while (c->state != CALL_DONE)
        whirl_call_resume(c);
}

void whirl_call_delete(whirl_call_t *c)
{
    if (!c)
        return;
    if (c->state != CALL_DONE)
        call_cancel(c);
    whirl_error_delete(c->error);
    c->error = NULL;
    free(c->args);
    c->args = NULL;
    pthread_mutex_lock(&c->notify_lock);
    atomic_store_explicit(&c->deleted, true, memory_order_release);
    c->notify = NULL;
    pthread_mutex_unlock(&c->notify_lock);
    call_release(c);
}

void store_async_release(whirl_store_t *store)
{
    if (store->async.call)
        call_cancel(store->async.call);
    if (store->async.stack_used) {
        if (store->async.stack.map)
            fiber_stack_unmap(&store->async.stack); /* scrubbed, then cached */
        else
            fiber_stack_scrub(&store->async.stack);
        store->async.stack_used = false;
    }
}

/* ---- ready queues ---- */

typedef struct ready_node {
    struct ready_node *next;
    whirl_call_t *call;
} ready_node_t;

struct whirl_ready_queue {
    pthread_mutex_t lock;
    ready_node_t *head, *tail;
    int fd;
};

whirl_error_t *whirl_ready_queue_new(whirl_ready_queue_t **out)
{
    if (!out)
        return error_fmt("whirl_ready_queue_new: out is NULL");
    *out = NULL;
    whirl_ready_queue_t *q = calloc(1, sizeof *q);
    if (!q)
        return error_oom();
    q->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (q->fd < 0) {
        int e = errno;
        free(q);
        return error_fmt("whirl_ready_queue_new: eventfd: %s", strerror(e));
    }
    pthread_mutex_init(&q->lock, NULL);
    *out = q;
    return NULL;
}

void whirl_ready_queue_delete(whirl_ready_queue_t *q)
{
    if (!q)
        return;
    for (ready_node_t *n = q->head, *next; n; n = next) {
        next = n->next;
        call_release(n->call);
        free(n);
    }
    close(q->fd);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

int whirl_ready_queue_fd(const whirl_ready_queue_t *q) { return q ? q->fd : -1; }

static void ready_queue_push(void *env, whirl_call_t *c)
{
    whirl_ready_queue_t *q = env;
    ready_node_t *n = malloc(sizeof *n);
    if (!n)
        return; /* the call stays ready: whirl_call_ready still says so */
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    n->call = c;
    n->next = NULL;
    pthread_mutex_lock(&q->lock);
    bool was_empty = !q->head;
    if (q->tail)
        q->tail->next = n;
    else
        q->head = n;
    q->tail = n;
    if (was_empty) {
        uint64_t one = 1;
        ssize_t r = write(q->fd, &one, sizeof one);
        (void)r; /* EAGAIN: the counter is already far from zero */
    }
    pthread_mutex_unlock(&q->lock);
}

void whirl_ready_queue_watch(whirl_ready_queue_t *q, whirl_call_t *c)
{
    whirl_call_set_notify(c, q ? ready_queue_push : NULL, q);
}

whirl_call_t *whirl_ready_queue_pop(whirl_ready_queue_t *q)
{
    if (!q)
        return NULL;
    for (;;) {
        pthread_mutex_lock(&q->lock);
        ready_node_t *n = q->head;
        if (n) {
            q->head = n->next;
            if (!q->head)
                q->tail = NULL;
        }
        if (!q->head) {
            uint64_t v;
            ssize_t r = read(q->fd, &v, sizeof v);
            (void)r;
        }
        pthread_mutex_unlock(&q->lock);
        if (!n)
            return NULL;
        whirl_call_t *c = n->call;
        free(n);
        bool gone = atomic_load_explicit(&c->deleted, memory_order_acquire);
        /* The handle's reference keeps it alive while not deleted. */
        call_release(c);
        if (!gone)
            return c;
    }
}
