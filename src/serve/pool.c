/* The worker pool of `whirl serve`: N threads taking requests from one
 * bounded FIFO queue. A request that finds the queue full gets 503 at once;
 * one that waits longer than the queue timeout gets 503 from the ticker
 * thread, which also flushes the access log and prints the metrics line.
 *
 * Wake-ups are what cost at high request rates, so a worker that finishes
 * a request takes the next one without sleeping, and a submit signals a
 * worker only when one is asleep and not already being woken. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve/internal.h"

struct serve_pool {
    serve_server_t *srv;
    pthread_mutex_t mu;
    pthread_cond_t cv;       /* workers wait for requests */
    pthread_cond_t tick_cv;  /* the ticker waits for its period or stop */
    serve_req_t *head, *tail;
    unsigned len, max;
    unsigned idle;           /* workers asleep on cv */
    unsigned waking;         /* ... of which a signal is already on its way to */
    unsigned busy;
    bool stopping;
    uint64_t queue_timeout_ns;
    pthread_t *threads;
    unsigned nthreads, started;
    pthread_t ticker;
    bool ticker_started;
};

static void *worker_main(void *arg)
{
    serve_pool_t *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->head && !p->stopping) {
            p->idle++;
            pthread_cond_wait(&p->cv, &p->mu);
            p->idle--;
            if (p->waking)
                p->waking--;
        }
        serve_req_t *r = p->head;
        if (!r)
            break; /* stopping with nothing queued */
        p->head = r->qnext;
        if (!p->head)
            p->tail = NULL;
        r->qnext = NULL;
        p->len--;
        p->busy++;
        pthread_mutex_unlock(&p->mu);
        serve_http_run(p->srv, r);
        pthread_mutex_lock(&p->mu);
        p->busy--;
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void *ticker_main(void *arg)
{
    serve_pool_t *p = arg;
    serve_server_t *srv = p->srv;
    uint64_t period = p->queue_timeout_ns / 4;
    if (period > 100000000ull)
        period = 100000000ull;
    if (period < 1000000ull)
        period = 1000000ull;
    uint64_t next_metrics = whirl_monotonic_now() + 1000000000ull;
    pthread_mutex_lock(&p->mu);
    while (!p->stopping) {
        uint64_t wake = whirl_monotonic_now() + period;
        struct timespec ts = {.tv_sec = (time_t)(wake / 1000000000u),
                              .tv_nsec = (long)(wake % 1000000000u)};
        pthread_cond_timedwait(&p->tick_cv, &p->mu, &ts);
        if (p->stopping)
            break;
        /* FIFO: the expired requests are at the front. */
        uint64_t now = whirl_monotonic_now();
        serve_req_t *expired = NULL, **tail = &expired;
        while (p->head && now - p->head->enqueued_ns >= p->queue_timeout_ns) {
            serve_req_t *r = p->head;
            p->head = r->qnext;
            if (!p->head)
                p->tail = NULL;
            p->len--;
            r->qnext = NULL;
            *tail = r;
            tail = &r->qnext;
        }
        pthread_mutex_unlock(&p->mu);
        while (expired) {
            serve_req_t *r = expired;
            expired = r->qnext;
            r->qnext = NULL;
            serve_http_reject(r);
        }
        serve_http_flush_log(srv);
        if (srv->opts->metrics_log && now >= next_metrics) {
            serve_http_log_metrics(srv);
            next_metrics = now + 1000000000ull;
        }
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

serve_pool_t *serve_pool_new(serve_server_t *srv, unsigned workers, unsigned max_queue,
                             uint64_t queue_timeout_ns)
{
    serve_pool_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->srv = srv;
    p->max = max_queue;
    p->queue_timeout_ns = queue_timeout_ns;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->tick_cv, &ca);
    pthread_condattr_destroy(&ca);
    p->threads = calloc(workers, sizeof *p->threads);
    p->nthreads = workers;
    if (!p->threads) {
        serve_pool_delete(p);
        return NULL;
    }
    /* Guests run on these threads: the interpreter keeps its own stack in
     * the store, so the default thread stack is plenty. */
    for (unsigned i = 0; i < workers; i++) {
        if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0)
            break;
        p->started++;
    }
    if (pthread_create(&p->ticker, NULL, ticker_main, p) == 0)
        p->ticker_started = true;
    if (p->started < workers || !p->ticker_started) {
        serve_pool_stop(p);
        serve_pool_delete(p);
        return NULL;
    }
    return p;
}

bool serve_pool_submit(serve_pool_t *p, serve_req_t *r)
{
    pthread_mutex_lock(&p->mu);
    /* Requests beyond the idle workers wait, at most max_queue of them. */
    unsigned free_workers = p->idle > p->waking ? p->idle - p->waking : 0;
    if (p->stopping || (p->len >= free_workers && p->len - free_workers >= p->max)) {
        pthread_mutex_unlock(&p->mu);
        return false;
    }
    r->qnext = NULL;
    r->enqueued_ns = whirl_monotonic_now();
    if (p->tail)
        p->tail->qnext = r;
    else
        p->head = r;
    p->tail = r;
    p->len++;
    if (p->idle > p->waking) {
        p->waking++;
        pthread_cond_signal(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return true;
}

void serve_pool_stop(serve_pool_t *p)
{
    pthread_mutex_lock(&p->mu);
    if (p->stopping && !p->started && !p->ticker_started) {
        pthread_mutex_unlock(&p->mu);
        return;
    }
    p->stopping = true;
    serve_req_t *queued = p->head;
    p->head = p->tail = NULL;
    p->len = 0;
    pthread_cond_broadcast(&p->cv);
    pthread_cond_broadcast(&p->tick_cv);
    pthread_mutex_unlock(&p->mu);
    while (queued) {
        serve_req_t *r = queued;
        queued = r->qnext;
        r->qnext = NULL;
        serve_http_reject(r);
    }
    for (unsigned i = 0; i < p->started; i++)
        pthread_join(p->threads[i], NULL);
    p->started = 0;
    if (p->ticker_started)
        pthread_join(p->ticker, NULL);
    p->ticker_started = false;
}

void serve_pool_delete(serve_pool_t *p)
{
    if (!p)
        return;
    serve_pool_stop(p);
    free(p->threads);
    pthread_cond_destroy(&p->cv);
    pthread_cond_destroy(&p->tick_cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

void serve_pool_figures(serve_pool_t *p, unsigned *queued, unsigned *max_queue, unsigned *busy,
                        unsigned *workers)
{
    pthread_mutex_lock(&p->mu);
    *queued = p->len;
    *max_queue = p->max;
    *busy = p->busy;
    *workers = p->nthreads;
    pthread_mutex_unlock(&p->mu);
}
