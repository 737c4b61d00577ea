/* The worker pool of `whirl serve`: N threads running guests that are
 * ready. A request starts as a job, a resumable call on a fiber of its own
 * (serve_app_begin); when its guest waits (an outbound request, a WASI poll
 * or sleep) the call suspends and the worker takes other work; the call's
 * notification (from the thread that finished the awaited work: the WASI
 * reactor) puts the job on the ready queue and a worker resumes it. So a
 * waiting request costs its instance and its stack, not a thread.
 *
 * New requests wait in one bounded FIFO queue: one that finds it full gets
 * 503 at once; one that waits longer than the queue timeout gets 503 from
 * the ticker thread, which also flushes the access log, prints the metrics
 * line, and resumes suspended jobs whose deadline has passed (a resumed
 * call past its deadline ends with an `interrupt` trap, answered 504).
 * Ready jobs go before new requests: they hold memory already.
 *
 * Wake-ups are what cost at high request rates, so a worker that finishes
 * a request takes the next one without sleeping, and a submit signals a
 * worker only when one is asleep and not already being woken. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve/app.h"

enum { JOB_RUNNING, JOB_READY, JOB_SUSPENDED };

struct serve_pool {
    serve_server_t *srv;
    pthread_mutex_t mu;
    pthread_cond_t cv;       /* workers wait for requests */
    pthread_cond_t tick_cv;  /* the ticker waits for its period or stop */
    serve_req_t *head, *tail;
    unsigned len, max;
    serve_job_t *ready, *ready_tail; /* jobs to resume */
    unsigned nready;
    serve_job_t *jobs;       /* every live job */
    unsigned njobs;
    unsigned idle;           /* workers asleep on cv */
    unsigned waking;         /* ... of which a signal is already on its way to */
    unsigned busy;
    uint64_t resumes;        /* runs of jobs that had run before */
    bool stopping;
    bool cancelling;         /* stopping with jobs still live: cancel them */
    uint64_t queue_timeout_ns;
    pthread_t *threads;
    unsigned nthreads, started;
    pthread_t ticker;
    bool ticker_started;
};

/* Wakes a worker if one sleeps and none is already being woken (p->mu). */
static void wake_one(serve_pool_t *p)
{
    if (p->idle > p->waking) {
        p->waking++;
        pthread_cond_signal(&p->cv);
    }
}

static void push_ready(serve_pool_t *p, serve_job_t *job)
{
    job->state = JOB_READY;
    job->qnext = NULL;
    if (p->ready_tail)
        p->ready_tail->qnext = job;
    else
        p->ready = job;
    p->ready_tail = job;
    p->nready++;
    wake_one(p);
}

/* The job's call became ready: runs on the thread that finished what it
 * awaited. */
static void job_notify(void *env, whirl_call_t *call)
{
    (void)call;
    serve_job_t *job = env;
    serve_pool_t *p = job->req->srv->pool;
    pthread_mutex_lock(&p->mu);
    if (job->state == JOB_SUSPENDED)
        push_ready(p, job);
    else if (job->state == JOB_RUNNING) /* its worker has not seen it suspend yet */
        job->wake_pending = true;
    pthread_mutex_unlock(&p->mu);
}

static void list_job(serve_pool_t *p, serve_job_t *job)
{
    job->lprev = NULL;
    job->lnext = p->jobs;
    if (p->jobs)
        p->jobs->lprev = job;
    p->jobs = job;
    p->njobs++;
}

static void unlist_job(serve_pool_t *p, serve_job_t *job)
{
    if (job->lprev)
        job->lprev->lnext = job->lnext;
    else
        p->jobs = job->lnext;
    if (job->lnext)
        job->lnext->lprev = job->lprev;
    if (--p->njobs == 0 && p->stopping)
        pthread_cond_broadcast(&p->cv);
}

/* Runs `job` until it is done or waits (p->mu held, released meanwhile). */
static void run_job(serve_pool_t *p, serve_job_t *job)
{
    job->state = JOB_RUNNING;
    job->wake_pending = false;
    bool cancel = job->cancel;
    if (job->ran && !cancel)
        p->resumes++;
    job->ran = true;
    pthread_mutex_unlock(&p->mu);
    whirl_call_status_t st = cancel ? WHIRL_CALL_DONE : whirl_call_resume(job->call);
    pthread_mutex_lock(&p->mu);
    if (st == WHIRL_CALL_DONE) {
        job->done = !cancel;
        unlist_job(p, job);
        serve_req_t *r = job->req;
        pthread_mutex_unlock(&p->mu);
        serve_http_end(p->srv, job, r); /* cancels it if not done */
        pthread_mutex_lock(&p->mu);
    } else if (st == WHIRL_CALL_YIELDED || job->wake_pending || job->cancel) {
        push_ready(p, job);
    } else {
        job->state = JOB_SUSPENDED;
    }
}

static void *worker_main(void *arg)
{
    serve_pool_t *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->ready && !p->head && !(p->stopping && !p->njobs)) {
            p->idle++;
            pthread_cond_wait(&p->cv, &p->mu);
            p->idle--;
            if (p->waking)
                p->waking--;
        }
        p->busy++;
        if (p->ready) {
            serve_job_t *job = p->ready;
            p->ready = job->qnext;
            if (!p->ready)
                p->ready_tail = NULL;
            job->qnext = NULL;
            p->nready--;
            run_job(p, job);
        } else if (p->head) {
            serve_req_t *r = p->head;
            p->head = r->qnext;
            if (!p->head)
                p->tail = NULL;
            r->qnext = NULL;
            p->len--;
            pthread_mutex_unlock(&p->mu);
            serve_job_t *job = serve_http_begin(p->srv, r);
            /* Not under p->mu: the notification runs under the call's lock
             * and takes p->mu. */
            if (job)
                whirl_call_set_notify(job->call, job_notify, job);
            pthread_mutex_lock(&p->mu);
            if (job) {
                list_job(p, job);
                if (p->cancelling)
                    job->cancel = true;
                run_job(p, job);
            }
        } else {
            p->busy--;
            break; /* stopping, nothing queued, no job left */
        }
        p->busy--;
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Suspended jobs past their deadline, and at shutdown (aborting) every
 * suspended job, are resumed at each tick until they end (p->mu held):
 * resuming a call whose awaited work is not done returns at once unless
 * its store's deadline has passed, which ends the wait with an `interrupt`
 * trap (the epoch deadline may lag the clock by a tick, hence again). */
static void kick_late_jobs(serve_pool_t *p, uint64_t now)
{
    bool aborting = atomic_load(&p->srv->aborting);
    for (serve_job_t *job = p->jobs; job; job = job->lnext)
        if (job->state == JOB_SUSPENDED && (aborting || now >= job->deadline_ns))
            push_ready(p, job);
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
        kick_late_jobs(p, now);
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
    wake_one(p);
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
    /* Jobs still live (the server waited for them through the grace period
     * and the abort): cancelled, each on a worker. */
    if (p->njobs) {
        p->cancelling = true;
        for (serve_job_t *job = p->jobs; job; job = job->lnext) {
            job->cancel = true;
            if (job->state == JOB_SUSPENDED)
                push_ready(p, job);
        }
    }
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
                        unsigned *workers, unsigned *suspended, uint64_t *resumes)
{
    pthread_mutex_lock(&p->mu);
    unsigned running = 0;
    for (serve_job_t *job = p->jobs; job; job = job->lnext)
        running += job->state == JOB_RUNNING;
    *suspended = p->njobs - running - p->nready;
    *queued = p->len;
    *max_queue = p->max;
    *busy = p->busy;
    *workers = p->nthreads;
    *resumes = p->resumes;
    pthread_mutex_unlock(&p->mu);
}
