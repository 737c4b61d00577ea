/* See atomic_wait.h.
 *
 * Waiters hash by address into buckets, each a mutex and a FIFO list of the
 * threads waiting on addresses of that bucket. A waiter checks the cell
 * under its bucket's lock, so a notify that follows a store cannot slip
 * between the check and the sleep: the notify takes the same lock. Each
 * waiter sleeps on its own condition variable (monotonic clock), in slices
 * no longer than WAIT_EPOCH_POLL_MS so that the store's deadline (the
 * engine's epoch counter, advanced by its ticker without waking anyone)
 * still stops a waiting guest. */
#include "runtime/atomic_wait.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define WAIT_BUCKETS 64
#define WAIT_EPOCH_POLL_MS 10

typedef struct waiter {
    struct waiter *next;
    uint8_t *addr;
    pthread_cond_t cond;
    bool woken;
} waiter_t;

typedef struct bucket {
    pthread_mutex_t lock;
    waiter_t *head, *tail;
} bucket_t;

static bucket_t buckets[WAIT_BUCKETS];
static pthread_once_t buckets_once = PTHREAD_ONCE_INIT;

static void buckets_init(void)
{
    for (int i = 0; i < WAIT_BUCKETS; i++)
        pthread_mutex_init(&buckets[i].lock, NULL);
}

static bucket_t *bucket_of(const uint8_t *addr)
{
    pthread_once(&buckets_once, buckets_init);
    uintptr_t a = (uintptr_t)addr >> 2;
    return &buckets[(a ^ (a >> 6) ^ (a >> 12)) % WAIT_BUCKETS];
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void unlink_waiter(bucket_t *b, waiter_t *w)
{
    waiter_t *prev = NULL;
    for (waiter_t *p = b->head; p; prev = p, p = p->next) {
        if (p != w)
            continue;
        if (prev)
            prev->next = p->next;
        else
            b->head = p->next;
        if (b->tail == p)
            b->tail = prev;
        return;
    }
}

int atomic_wait(uint8_t *addr, unsigned size, uint64_t expected, int64_t timeout_ns,
                const _Atomic uint64_t *epoch, uint64_t deadline)
{
    bucket_t *b = bucket_of(addr);
    pthread_mutex_lock(&b->lock);
    uint64_t current = size == 4 ? __atomic_load_n((uint32_t *)addr, __ATOMIC_SEQ_CST)
                                 : __atomic_load_n((uint64_t *)addr, __ATOMIC_SEQ_CST);
    if (size == 4)
        expected = (uint32_t)expected;
    if (current != expected) {
        pthread_mutex_unlock(&b->lock);
        return 1;
    }
    if (timeout_ns == 0) {
        pthread_mutex_unlock(&b->lock);
        return 2;
    }
    waiter_t w = {.addr = addr};
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w.cond, &attr);
    pthread_condattr_destroy(&attr);
    if (b->tail)
        b->tail->next = &w;
    else
        b->head = &w;
    b->tail = &w;

    uint64_t start = now_ns();
    uint64_t end = timeout_ns < 0 ? UINT64_MAX
                   : (uint64_t)timeout_ns > UINT64_MAX - start ? UINT64_MAX
                                                               : start + (uint64_t)timeout_ns;
    int result = 2;
    for (;;) {
        if (w.woken) {
            result = 0;
            break;
        }
        if (atomic_load_explicit(epoch, memory_order_relaxed) >= deadline) {
            result = -1;
            break;
        }
        uint64_t now = now_ns();
        if (now >= end)
            break;
        uint64_t slice_end = now + (uint64_t)WAIT_EPOCH_POLL_MS * 1000000u;
        if (slice_end > end)
            slice_end = end;
        struct timespec ts = {(time_t)(slice_end / 1000000000u), (long)(slice_end % 1000000000u)};
        int rc = pthread_cond_timedwait(&w.cond, &b->lock, &ts);
        (void)rc; /* woken, timed out or spurious: the loop decides */
    }
    if (!w.woken)
        unlink_waiter(b, &w); /* a notifier unlinks the ones it wakes */
    else
        result = 0;
    pthread_mutex_unlock(&b->lock);
    pthread_cond_destroy(&w.cond);
    return result;
}

uint32_t atomic_notify(uint8_t *addr, uint32_t count)
{
    bucket_t *b = bucket_of(addr);
    uint32_t woken = 0;
    pthread_mutex_lock(&b->lock);
    waiter_t *prev = NULL, *p = b->head;
    while (p && woken < count) {
        waiter_t *next = p->next;
        if (p->addr == addr) {
            if (prev)
                prev->next = next;
            else
                b->head = next;
            if (b->tail == p)
                b->tail = prev;
            p->woken = true;
            pthread_cond_signal(&p->cond);
            woken++;
        } else {
            prev = p;
        }
        p = next;
    }
    pthread_mutex_unlock(&b->lock);
    return woken;
}
