/* The WASI reactor: where a WASI wait made inside a resumable call goes
 * instead of blocking its thread (poll_oneoff, clock sleeps, reads and
 * writes that would block, all through wasi_ppoll).
 *
 * The waiting guest hands its pollfd set and deadline to one process-wide
 * thread and suspends on a completion (whirl_store_await); the thread
 * polls every registered set at once and finishes a wait's completion when
 * one of its descriptors is ready or its deadline passes, which makes the
 * call ready for its driver (whirl_call_set_notify, a ready queue).
 *
 * One thread with poll(2), rebuilt from the list of waits at each wakeup,
 * rather than epoll or an embedder-driven loop: the embedder needs no new
 * API (its resumable-call loop already waits for ready calls), the same
 * host descriptor may be waited on by many guests at once (stdin, a shared
 * socket) with no dup(2) per registration, and a wait leaves nothing
 * behind in the kernel when its guest is cancelled. The cost is linear in
 * the waiting descriptors per wakeup, fine for thousands of waits; epoll
 * is the step up if that ever shows. */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "wasi/internal.h"
#include "wasi/reactor.h"

typedef struct reactor_wait {
    struct reactor_wait *prev, *next;
    struct pollfd *fds; /* the waiter's, written only under the lock */
    nfds_t n;
    uint64_t deadline; /* CLOCK_MONOTONIC ns, UINT64_MAX: none */
    whirl_completion_t *done;
    uint64_t gen;      /* the poll round that last saw it, and where */
    size_t at;
} reactor_wait_t;

static struct {
    pthread_once_t once;
    bool running;
    pthread_mutex_t lock;
    reactor_wait_t *head;
    int wake_fd;
} reactor = {.once = PTHREAD_ONCE_INIT, .lock = PTHREAD_MUTEX_INITIALIZER, .wake_fd = -1};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void unlink_wait(reactor_wait_t *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        reactor.head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->prev = w->next = NULL;
}

static void *reactor_main(void *arg)
{
    (void)arg;
    struct pollfd *set = NULL;
    size_t cap = 0;
    uint64_t gen = 0;
    for (;;) {
        /* Snapshot every wait's descriptors, behind the wakeup eventfd. */
        pthread_mutex_lock(&reactor.lock);
        gen++;
        size_t need = 1;
        uint64_t earliest = UINT64_MAX;
        for (reactor_wait_t *w = reactor.head; w; w = w->next)
            need += w->n;
        if (need > cap) {
            struct pollfd *grown = realloc(set, need * sizeof *set);
            if (grown) {
                set = grown;
                cap = need;
            }
        }
        size_t used = 1;
        for (reactor_wait_t *w = reactor.head; w; w = w->next) {
            if (w->deadline < earliest)
                earliest = w->deadline;
            if (used + w->n > cap)
                continue; /* no memory for it this round: its deadline still ends it */
            w->gen = gen;
            w->at = used;
            for (nfds_t i = 0; i < w->n; i++)
                set[used + i] = (struct pollfd){.fd = w->fds[i].fd, .events = w->fds[i].events};
            used += w->n;
        }
        pthread_mutex_unlock(&reactor.lock);
        if (cap == 0) { /* not even the eventfd's slot: wait for memory */
            struct pollfd one = {.fd = reactor.wake_fd, .events = POLLIN};
            poll(&one, 1, 10);
            continue;
        }
        set[0] = (struct pollfd){.fd = reactor.wake_fd, .events = POLLIN};

        struct timespec ts, *tsp = NULL;
        if (earliest != UINT64_MAX) {
            uint64_t now = mono_ns(), left = earliest > now ? earliest - now : 0;
            ts.tv_sec = (time_t)(left / 1000000000u);
            ts.tv_nsec = (long)(left % 1000000000u);
            tsp = &ts;
        }
        int r = ppoll(set, used, tsp, NULL);
        if (r < 0)
            continue; /* EINTR; nothing else is expected of valid arguments */
        if (set[0].revents) {
            uint64_t v;
            ssize_t got = read(reactor.wake_fd, &v, sizeof v);
            (void)got;
        }

        /* Finish the waits that are ready or timed out: their results are
         * written under the lock (a waiter cut short unregisters under it),
         * their completions finished after it. */
        uint64_t now = mono_ns();
        whirl_completion_t *finish[64];
        size_t nfinish = 0;
        pthread_mutex_lock(&reactor.lock);
        for (reactor_wait_t *w = reactor.head, *next; w && nfinish < 64; w = next) {
            next = w->next;
            bool fire = w->deadline <= now;
            if (w->gen == gen)
                for (nfds_t i = 0; i < w->n; i++)
                    if (set[w->at + i].revents)
                        fire = true;
            if (!fire)
                continue;
            for (nfds_t i = 0; i < w->n; i++)
                w->fds[i].revents = w->gen == gen ? set[w->at + i].revents : 0;
            unlink_wait(w);
            finish[nfinish++] = w->done;
        }
        pthread_mutex_unlock(&reactor.lock);
        for (size_t i = 0; i < nfinish; i++)
            whirl_completion_finish(finish[i], NULL, 0, NULL);
        /* More than 64 at once: the next round (r > 0 again) takes the rest. */
    }
    return NULL;
}

static void reactor_start(void)
{
    reactor.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (reactor.wake_fd < 0)
        return;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_t t;
    if (pthread_create(&t, &attr, reactor_main, NULL) == 0)
        reactor.running = true;
    else
        close(reactor.wake_fd), reactor.wake_fd = -1;
    pthread_attr_destroy(&attr);
}

static void reactor_kick(void)
{
    uint64_t one = 1;
    ssize_t r = write(reactor.wake_fd, &one, sizeof one);
    (void)r; /* EAGAIN: already far from zero, the thread wakes anyway */
}

int wasi_reactor_ppoll(whirl_store_t *store, struct pollfd *fds, nfds_t n,
                       const struct timespec *tsp, whirl_error_t **cut_short)
{
    *cut_short = NULL;
    bool now_only = tsp && tsp->tv_sec == 0 && tsp->tv_nsec == 0;
    if (now_only || !whirl_store_can_suspend(store))
        return ppoll(fds, n, tsp, NULL);
    /* Ready already: no need to suspend. */
    struct timespec zero = {0, 0};
    int r = ppoll(fds, n, &zero, NULL);
    if (r != 0)
        return r;
    pthread_once(&reactor.once, reactor_start);
    whirl_completion_t *done = reactor.running ? whirl_completion_new() : NULL;
    if (!done) /* no reactor thread, no memory: wait as a synchronous call does */
        return ppoll(fds, n, tsp, NULL);

    uint64_t deadline = UINT64_MAX;
    if (tsp) {
        uint64_t left = (uint64_t)tsp->tv_sec * 1000000000u + (uint64_t)tsp->tv_nsec;
        uint64_t now = mono_ns();
        deadline = left > UINT64_MAX - now ? UINT64_MAX : now + left;
    }
    for (nfds_t i = 0; i < n; i++)
        fds[i].revents = 0;
    /* The guest's memory and this fiber's stack stay put while it is
     * suspended (memories grow in place), so the reactor may write `fds`. */
    reactor_wait_t w = {.fds = fds, .n = n, .deadline = deadline, .done = done};
    pthread_mutex_lock(&reactor.lock);
    w.next = reactor.head;
    if (reactor.head)
        reactor.head->prev = &w;
    reactor.head = &w;
    pthread_mutex_unlock(&reactor.lock);
    reactor_kick();

    whirl_error_t *err = whirl_store_await(store, done);
    if (err) {
        /* Cut short (deadline, cancellation): unregister if the reactor has
         * not finished it yet; then it must be finished here. */
        pthread_mutex_lock(&reactor.lock);
        bool listed = w.prev || reactor.head == &w;
        if (listed)
            unlink_wait(&w);
        pthread_mutex_unlock(&reactor.lock);
        if (listed)
            whirl_completion_finish(done, NULL, 0, NULL);
        *cut_short = err;
        errno = ECANCELED;
        return -1;
    }
    int ready = 0;
    for (nfds_t i = 0; i < n; i++)
        ready += fds[i].revents != 0;
    return ready;
}

int wasi_ppoll(wasi_call_t *c, struct pollfd *fds, unsigned long n, const struct timespec *tsp)
{
    whirl_error_t *cut;
    int r = wasi_reactor_ppoll(c->store, fds, n, tsp, &cut);
    if (cut) {
        if (!c->exit)
            c->exit = cut;
        else
            whirl_error_delete(cut);
    }
    return r;
}
