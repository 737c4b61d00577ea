/* Epoch interruption: the engine's ticker thread and deadlines.
 *
 * The ticker advances engine->epoch once per interval. It shares with the
 * engine only a small block (its lock, its wake-up condition, a stop flag
 * and the address of the counter), never the engine's other state, and
 * whirl_engine_delete stops it: it sets the flag, wakes the thread and joins
 * it before the engine's memory goes away. So the thread never outlives the
 * engine and never keeps it alive; joining (rather than letting a detached
 * thread notice later, as a weak reference would) means no thread is left
 * running after the engine is gone and engine deletion is deterministic.
 *
 * Ticks are scheduled on absolute times (start + n * interval), so a late
 * wake-up does not shift every later tick. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/internal.h"

struct epoch_ticker {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;                 /* under lock */
    uint64_t interval_ns;
    _Atomic uint64_t *epoch;   /* the engine's counter; valid until joined */
};

uint64_t whirl_monotonic_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct timespec to_timespec(uint64_t ns)
{
    return (struct timespec){.tv_sec = (time_t)(ns / 1000000000u),
                             .tv_nsec = (long)(ns % 1000000000u)};
}

static void *ticker_main(void *arg)
{
    epoch_ticker_t *t = arg;
    uint64_t next = whirl_monotonic_now() + t->interval_ns;
    pthread_mutex_lock(&t->lock);
    while (!t->stop) {
        struct timespec when = to_timespec(next);
        int rc = pthread_cond_timedwait(&t->wake, &t->lock, &when);
        if (t->stop)
            break;
        if (rc != ETIMEDOUT)
            continue; /* spurious wake-up */
        atomic_fetch_add_explicit(t->epoch, 1, memory_order_relaxed);
        next += t->interval_ns;
        /* After a long stall (a suspended process), tick once and restart
         * the schedule rather than firing a burst of catch-up ticks. */
        uint64_t now = whirl_monotonic_now();
        if (next <= now)
            next = now + t->interval_ns;
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

whirl_error_t *epoch_ticker_start(_Atomic uint64_t *epoch, uint64_t interval_us,
                                  epoch_ticker_t **out)
{
    *out = NULL;
    epoch_ticker_t *t = calloc(1, sizeof *t);
    if (!t)
        return error_oom();
    t->interval_ns = interval_us * 1000u;
    t->epoch = epoch;
    pthread_condattr_t cattr;
    pthread_condattr_init(&cattr);
    pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->wake, &cattr);
    pthread_condattr_destroy(&cattr);
    /* The thread only sleeps and adds: a small stack keeps it cheap in
     * address space (which matters under `ulimit -v`). */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    int rc = pthread_create(&t->thread, &attr, ticker_main, t);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        pthread_cond_destroy(&t->wake);
        pthread_mutex_destroy(&t->lock);
        free(t);
        return error_fmt("cannot start the epoch ticker thread: %s", strerror(rc));
    }
    *out = t;
    return NULL;
}

void epoch_ticker_stop(epoch_ticker_t *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->stop = true;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

void whirl_engine_increment_epoch(whirl_engine_t *engine)
{
    if (engine)
        atomic_fetch_add_explicit(&engine->epoch, 1, memory_order_relaxed);
}

uint64_t whirl_engine_epoch(const whirl_engine_t *engine)
{
    return engine ? atomic_load_explicit(&((whirl_engine_t *)engine)->epoch,
                                         memory_order_relaxed)
                  : 0;
}

static uint64_t current_epoch(const whirl_store_t *store)
{
    return atomic_load_explicit(&store->engine->epoch, memory_order_relaxed);
}

static void set_ticks(whirl_store_t *store, uint64_t ticks_beyond_current)
{
    uint64_t now = current_epoch(store);
    /* Saturate: a deadline past UINT64_MAX is no deadline at all. */
    store_deadline_set(store, ticks_beyond_current > UINT64_MAX - now
                                  ? UINT64_MAX
                                  : now + ticks_beyond_current);
}

void whirl_store_set_epoch_deadline(whirl_store_t *store, uint64_t ticks_beyond_current)
{
    if (!store)
        return;
    set_ticks(store, ticks_beyond_current);
    store->hosting.deadline_ns = UINT64_MAX;
}

void whirl_store_clear_epoch_deadline(whirl_store_t *store)
{
    if (!store)
        return;
    store_deadline_set(store, WHIRL_EPOCH_DEADLINE_NEVER);
    store->hosting.deadline_ns = UINT64_MAX;
}

uint64_t whirl_store_deadline_ns(const whirl_store_t *store)
{
    return store ? store->hosting.deadline_ns : UINT64_MAX;
}

uint64_t whirl_store_epoch_deadline(const whirl_store_t *store)
{
    return store ? store_deadline_get(store) : 0;
}

whirl_error_t *whirl_store_set_deadline(whirl_store_t *store, uint64_t deadline_ns)
{
    if (!store)
        return error_fmt("whirl_store_set_deadline: store is NULL");
    uint64_t interval_us = ENGINE_KNOB(store->engine, KNOB_EPOCH_INTERVAL);
    if (!interval_us)
        return error_fmt("whirl_store_set_deadline: the engine runs no epoch ticker "
                         "(epoch_interval is 0); use whirl_store_set_epoch_deadline");
    uint64_t now = whirl_monotonic_now();
    if (deadline_ns <= now) {
        engine_log(store->engine, WHIRL_LOG_WARNING, "deadline_in_past",
                   "late_by_us=%llu", (unsigned long long)((now - deadline_ns) / 1000));
        set_ticks(store, 0);
        store->hosting.deadline_ns = deadline_ns;
        return NULL;
    }
    /* The next tick may come at once, so k ticks from now take between
     * k-1 and k intervals; with k = d / I + 1 (Spin's rule) the trap comes
     * within one interval of the deadline d, and never before a whole
     * number of intervals d rounded down to the interval I has passed. */
    uint64_t micros = (deadline_ns - now) / 1000;
    set_ticks(store, micros / interval_us + 1);
    store->hosting.deadline_ns = deadline_ns;
    return NULL;
}
