/*
 * whirl/async.h: resumable calls, so that a guest can wait without holding
 * a thread (included by whirl.h).
 *
 * The model is wasmtime's async calling style:
 *  - An async host function (whirl_func_new_async,
 *    whirl_linker_define_async_func) receives a whirl_completion_t instead
 *    of a results array. It may finish it before returning (then it behaves
 *    like any host function) or later, from any thread, when the awaited
 *    work is done (a response arrived, a timer fired).
 *  - A resumable call (whirl_call_t: a function call, an instantiation,
 *    start function included, or any host code using the synchronous API,
 *    such as a component call) runs the guest on a fiber, a stack of its
 *    own. whirl_call_resume runs it on the calling thread until it is done
 *    or until the guest waits on an unfinished completion (status
 *    WHIRL_CALL_PENDING) or ends an epoch slice (WHIRL_CALL_YIELDED; see
 *    whirl_store_epoch_yield_set). The caller then returns to its event
 *    loop, and resumes the call when it is ready: a pending call becomes
 *    ready when its completion is finished, which the notification set
 *    with whirl_call_set_notify (a callback, or a whirl_ready_queue_t with
 *    a file descriptor for epoll) reports; a yielded call is ready at once.
 *    A call may be resumed on any thread, one thread at a time.
 *  - The guest sees no difference. Called through the synchronous API
 *    (whirl_func_call, whirl_instance_new, ...), an async host function
 *    that leaves its completion unfinished blocks the calling thread until
 *    it is finished or the store's deadline passes (trap `interrupt`).
 *
 * Stores: a store runs at most one resumable call at a time (another is an
 * error until the first is done); synchronous calls on the
 * store are allowed while it is suspended. Deleting a store cancels its
 * call (see whirl_call_delete), whose handle stays valid until deleted.
 *
 * Deadlines: the store's deadline (whirl_store_set_deadline,
 * whirl_store_set_epoch_deadline) still traps `interrupt`; a call pending
 * when its deadline passes is interrupted by the next whirl_call_resume,
 * finished or not (the host can resume its pending calls at
 * whirl_store_deadline_ns for that).
 *
 * Fiber stacks have a guard page and come from the pooling allocator's
 * stack slots (total_stacks) or are mapped on demand; their size is the
 * "async_stack_size" knob (whirl_config_set, WHIRL_ASYNC_STACK_SIZE,
 * default 2 MiB, at least 128 KiB). Host code on a fiber may use up to
 * 48 KiB of stack between two calls into wasm (more reaches the guard
 * page, a crash, as overflowing a thread's stack would be); deeper
 * host-to-wasm recursion than the stack holds traps with `call stack
 * exhausted`, and compiled code checks its frames against the fiber. A
 * stack is scrubbed (zeroed or given back to the kernel) before another
 * store uses it. Fibers exist on x86-64; elsewhere whirl_call_new* fail
 * with an error saying so (the synchronous API works everywhere).
 *
 * Conventions are those of whirl.h: fallible calls return whirl_error_t *
 * (NULL = success, the caller frees it), `_delete` accepts NULL.
 */
#ifndef WHIRL_ASYNC_H
#define WHIRL_ASYNC_H

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

/* ------------------------------------------------------------------ */
/* Async host functions                                                */
/* ------------------------------------------------------------------ */

/* A host function's pending result. Handed to the callback, which owns one
 * reference: it must call whirl_completion_finish exactly once, before or
 * after returning, from any thread; the completion must not be used after
 * that. */
typedef struct whirl_completion whirl_completion_t;

/* An async host function. `args` are borrowed for the callback's duration
 * (copy what is needed later); `caller` is valid only during the callback. */
typedef void (*whirl_async_callback_t)(void *env, whirl_caller_t *caller,
                                       const whirl_val_t *args, size_t nargs,
                                       whirl_completion_t *completion);

/* Finishes `completion` with `nresults` results of the function's result
 * types (copied) or, if `error` is not NULL, with that error, which traps
 * the guest (ownership of `error` passes to the engine; results are then
 * ignored). A count or kind that does not match the function's type traps
 * too. Wakes the waiting call (its notification runs on this thread).
 * Thread-safe. If the call has meanwhile been interrupted or cancelled, the
 * results are dropped. */
void whirl_completion_finish(whirl_completion_t *completion, const whirl_val_t *results,
                             size_t nresults, whirl_error_t *error);

/* True if no one waits for `completion` any longer (its call was
 * interrupted or cancelled): the host may skip the work, but must still
 * finish it. Thread-safe. */
bool whirl_completion_abandoned(const whirl_completion_t *completion);

/* Creates an async host function in `store`, like whirl_func_new. `type` is
 * borrowed (copied); `finalizer` (may be NULL) runs on `env` when the store
 * is deleted. Owned by the store. */
whirl_error_t *whirl_func_new_async(whirl_store_t *store, const whirl_functype_t *type,
                                    whirl_async_callback_t callback, void *env,
                                    void (*finalizer)(void *env), whirl_func_t **out);

/* Defines an async host function usable from any store (as
 * whirl_linker_define_func, which see for `finalizer` and redefinition). */
whirl_error_t *whirl_linker_define_async_func(whirl_linker_t *linker, const char *module,
                                              const char *name, const whirl_functype_t *type,
                                              whirl_async_callback_t callback, void *env,
                                              void (*finalizer)(void *env));

/* Waiting from a synchronous host function (whirl_func_new,
 * whirl_linker_define_func, a component host function), as the WASI hosts
 * do: the function makes a completion, hands it to whatever will finish it
 * (an event loop, another thread), and awaits it. Inside a resumable call
 * this suspends the call (whirl_call_resume returns WHIRL_CALL_PENDING)
 * like an async host function; elsewhere it blocks the thread, until the
 * store's deadline. */

/* True if host code running now on `store` (a host function the guest
 * called) runs inside the store's resumable call, on the call's fiber:
 * whirl_store_await would suspend the call rather than block the thread. */
bool whirl_store_can_suspend(const whirl_store_t *store);

/* A completion with no results for whirl_store_await, or NULL if out of
 * memory. It holds two references: the awaiting side's, which
 * whirl_store_await takes, and the host's, which whirl_completion_finish
 * (with 0 results) takes. */
whirl_completion_t *whirl_completion_new(void);

/* Waits until `completion` is finished; consumes the awaiting reference
 * (finished or not, the completion must not be awaited again). Returns the
 * error it was finished with (the caller owns it), NULL, or, if the wait
 * was cut short (the store's deadline passed, the call was cancelled), an
 * `interrupt` trap: the completion is then abandoned
 * (whirl_completion_abandoned), and the host must still finish it. Only
 * from a host function running on `store`, during its callback. */
whirl_error_t *whirl_store_await(whirl_store_t *store, whirl_completion_t *completion);

/* ------------------------------------------------------------------ */
/* Resumable calls                                                     */
/* ------------------------------------------------------------------ */

typedef struct whirl_call whirl_call_t;

typedef enum whirl_call_status {
    WHIRL_CALL_DONE,     /* finished: read the outcome with whirl_call_results */
    WHIRL_CALL_PENDING,  /* waiting on a completion: resume once notified */
    WHIRL_CALL_YIELDED,  /* an epoch slice ended: resume when it is its turn */
} whirl_call_status_t;

/* A call of `func` with `args` (checked and copied as whirl_func_call
 * checks them) expecting `nresults` results. Nothing runs until the first
 * whirl_call_resume. The caller owns *out (whirl_call_delete). Errors: bad
 * arguments, a store already running a call, no fibers on this
 * architecture, no memory. */
whirl_error_t *whirl_call_new(whirl_store_t *store, whirl_func_t *func,
                              const whirl_val_t *args, size_t nargs, size_t nresults,
                              whirl_call_t **out);

/* An instantiation of `module` in `store` (as whirl_instance_new; `imports`
 * copied), start function included. The instance is whirl_call_instance's
 * once done. The caller owns *out. */
whirl_error_t *whirl_call_new_instantiate(whirl_store_t *store, whirl_module_t *module,
                                          const whirl_extern_t *imports, size_t nimports,
                                          whirl_call_t **out);

/* An instantiation from `pre` (as whirl_instance_pre_instantiate; `pre` is
 * retained by the call). The caller owns *out. */
whirl_error_t *whirl_call_new_instantiate_pre(const whirl_instance_pre_t *pre,
                                              whirl_store_t *store, whirl_call_t **out);

/* A call of host code: fn(env) runs on the call's fiber, and may use any
 * synchronous API on `store` (a component call, several calls in a row):
 * async host functions reached from it suspend the whole call. Its return
 * value is the call's outcome (ownership passes to the call). `env` is
 * borrowed until the call is done. The caller owns *out. */
whirl_error_t *whirl_call_new_host(whirl_store_t *store, whirl_error_t *(*fn)(void *env),
                                   void *env, whirl_call_t **out);

/* Runs the call on the calling thread until it is done or suspended. On a
 * pending call that is not ready yet this returns WHIRL_CALL_PENDING at once
 * (or, past the store's deadline, ends it with an `interrupt` trap). On a
 * done call it returns WHIRL_CALL_DONE. Not thread-safe for one call: one
 * thread at a time resumes it. */
whirl_call_status_t whirl_call_resume(whirl_call_t *call);

/* True if whirl_call_resume would make progress: the call was not started,
 * yielded, or its completion has been finished (or it is done).
 * Thread-safe. */
bool whirl_call_ready(const whirl_call_t *call);

/* The outcome of a done call: NULL and `nresults` results written (the
 * count given to whirl_call_new; 0 for instantiations), or the call's error
 * (a trap, or the instantiation's error), which the caller then owns. An
 * error too if the call is not done or was already read. */
whirl_error_t *whirl_call_results(whirl_call_t *call, whirl_val_t *results, size_t nresults);

/* The instance a done instantiation created (owned by the store), or NULL. */
whirl_instance_t *whirl_call_instance(const whirl_call_t *call);

/* Called, on the thread that finishes a completion, when this call's
 * pending wait ends (it became ready). Keep it short and thread-safe: wake
 * the event loop that resumes the call. Replaces any earlier notification
 * (NULL: none). Set it before resuming. */
typedef void (*whirl_call_notify_t)(void *env, whirl_call_t *call);
void whirl_call_set_notify(whirl_call_t *call, whirl_call_notify_t notify, void *env);

/* Deletes the call. A call not done is cancelled first: resumed on the
 * calling thread with its wait (or slice) ended by an `interrupt` trap,
 * which unwinds the guest to the call's start. Not from inside the call
 * (a host function it runs) or its notification, nor while another thread
 * resumes it. A notification running on another thread is waited for;
 * once this returns none runs again, so its env may be freed. Accepts
 * NULL. */
void whirl_call_delete(whirl_call_t *call);

/* ------------------------------------------------------------------ */
/* Ready queues: call notifications for an event loop                  */
/* ------------------------------------------------------------------ */

/* A thread-safe queue of calls that became ready, with an eventfd that is
 * readable while the queue is not empty (wait on it with poll/epoll). */
typedef struct whirl_ready_queue whirl_ready_queue_t;

/* The caller owns *out. */
whirl_error_t *whirl_ready_queue_new(whirl_ready_queue_t **out);
/* Deletes the queue; calls still watched by it must have been deleted or
 * given another notification first. Accepts NULL. */
void whirl_ready_queue_delete(whirl_ready_queue_t *queue);
/* The descriptor to wait on (owned by the queue). */
int whirl_ready_queue_fd(const whirl_ready_queue_t *queue);
/* Makes `queue` the call's notification (replacing whirl_call_set_notify's):
 * the call is pushed when it becomes ready. */
void whirl_ready_queue_watch(whirl_ready_queue_t *queue, whirl_call_t *call);
/* The oldest ready call, or NULL if none (the descriptor is then no longer
 * readable until the next push). Borrowed: the caller owns its calls. A
 * call deleted while queued is never returned. */
whirl_call_t *whirl_ready_queue_pop(whirl_ready_queue_t *queue);

/* ------------------------------------------------------------------ */
/* Epoch yield                                                         */
/* ------------------------------------------------------------------ */

/* Makes a resumable call on `store` yield (WHIRL_CALL_YIELDED) each time
 * `ticks` epoch ticks of running have passed (wasmtime's
 * epoch_deadline_async_yield_and_update), so that one thread can
 * interleave many long-running guests; the store's deadline still traps.
 * Synchronous calls never yield. 0 turns it off (the default). */
void whirl_store_epoch_yield_set(whirl_store_t *store, uint64_t ticks);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* WHIRL_ASYNC_H */
