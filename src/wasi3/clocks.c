/* wasi:clocks 0.3: system-clock (0.2's wall-clock, now with signed seconds),
 * monotonic-clock (now, get-resolution, and the async waits that replace
 * 0.2's pollables). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "component/component.h"
#include "wasi3/wasi3.h"

static uint64_t resolution_ns(clockid_t id)
{
    struct timespec ts;
    if (clock_getres(id, &ts) != 0 || ts.tv_sec < 0)
        return 1;
    uint64_t ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    return ns ? ns : 1;
}

/* record instant { seconds: s64, nanoseconds: u32 } */
static whirl_error_t *system_now(w2_call_t *c)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    whirl_error_t *e = whirl_cval_set_items(c->res, WHIRL_CVAL_RECORD, 2);
    if (e)
        return e;
    whirl_cval_t *f = c->res->of.list.items;
    f[0].kind = WHIRL_CVAL_S64;
    f[0].of.s = (int64_t)ts.tv_sec;
    w2_set_uint(&f[1], WHIRL_CVAL_U32, (uint64_t)ts.tv_nsec);
    return NULL;
}

/* 0.3 gives the resolution as a duration (nanoseconds), not an instant. */
static whirl_error_t *system_resolution(w2_call_t *c)
{
    w2_set_uint(c->res, WHIRL_CVAL_U64, resolution_ns(CLOCK_REALTIME));
    return NULL;
}

static whirl_error_t *mono_now(w2_call_t *c)
{
    w2_set_uint(c->res, WHIRL_CVAL_U64, whirl_monotonic_now());
    return NULL;
}

static whirl_error_t *mono_resolution(w2_call_t *c)
{
    w2_set_uint(c->res, WHIRL_CVAL_U64, resolution_ns(CLOCK_MONOTONIC));
    return NULL;
}

/* The async waits. Called through an async lower (the suite's guests
 * lower them so), the wait becomes a subtask (component/subtask.c) that
 * finishes in the caller's event loop at the deadline, so a task waits on
 * a clock while its other calls go on. Called synchronously (or when the
 * host cannot defer), the calling thread waits, as wasi:io/poll's block
 * does in 0.2. Either way the store's deadline, whirl_wasi2_interrupt and a
 * resumable call's suspension end the wait. */
typedef struct clock_wait {
    whirl_wasi2_t *w;
    uint64_t deadline;
} clock_wait_t;

static size_t clock_watch(void *env, struct pollfd *pfd, uint64_t *deadline)
{
    clock_wait_t *cw = env;
    *deadline = cw->deadline;
    pfd[0] = (struct pollfd){.fd = cw->w->wake_fd, .events = POLLIN};
    return 1;
}

static whirl_error_t *clock_poll(void *env, whirl_store_t *store, whirl_cval_t *result,
                                 bool *done)
{
    (void)store;
    (void)result;
    clock_wait_t *cw = env;
    if (atomic_load(&cw->w->interrupted))
        return whirl_trap_new(WHIRL_TRAP_INTERRUPT, "interrupted while the guest waited on "
                              "wasi:clocks");
    uint64_t n; /* drained, as w2_wait drains it: a notification must not spin the loop */
    if (read(cw->w->wake_fd, &n, sizeof n) < 0 && errno != EAGAIN)
        (void)0; /* nothing to do: the next watch polls it again */
    *done = whirl_monotonic_now() >= cw->deadline;
    return NULL;
}

static const csub_host_ops_t clock_wait_ops = {clock_watch, clock_poll, free};

static whirl_error_t *wait_until_ns(w2_call_t *c, uint64_t when)
{
    if (csub_can_defer() && whirl_monotonic_now() < when) {
        clock_wait_t *cw = malloc(sizeof *cw);
        if (!cw)
            return w2_oom();
        *cw = (clock_wait_t){c->w, when};
        csub_defer(&clock_wait_ops, cw);
        return NULL;
    }
    w2_pollable_t p = {.type = W2_POLL_DEADLINE, .deadline = when};
    return w2_wait(c->w, c->store, &p, 1, NULL);
}

static whirl_error_t *mono_wait_until(w2_call_t *c)
{
    uint64_t when;
    whirl_error_t *e = w2_arg_uint(c, 0, WHIRL_CVAL_U64, &when);
    return e ? e : wait_until_ns(c, when);
}

static whirl_error_t *mono_wait_for(w2_call_t *c)
{
    uint64_t d;
    whirl_error_t *e = w2_arg_uint(c, 0, WHIRL_CVAL_U64, &d);
    if (e)
        return e;
    uint64_t now = whirl_monotonic_now();
    return wait_until_ns(c, d > UINT64_MAX - now ? UINT64_MAX : now + d);
}

#define CLK(iface, name, fn, na, nr) {WHIRL_WASI2_CLOCKS, iface, name, fn, na, nr}
const w2_def_t w3_clock_defs[] = {
    CLK("wasi:clocks/system-clock", "now", system_now, 0, 1),
    CLK("wasi:clocks/system-clock", "get-resolution", system_resolution, 0, 1),
    CLK("wasi:clocks/monotonic-clock", "now", mono_now, 0, 1),
    CLK("wasi:clocks/monotonic-clock", "get-resolution", mono_resolution, 0, 1),
    CLK("wasi:clocks/monotonic-clock", "wait-until", mono_wait_until, 1, 0),
    CLK("wasi:clocks/monotonic-clock", "wait-for", mono_wait_for, 1, 0),
};
const size_t w3_clock_ndefs = sizeof w3_clock_defs / sizeof *w3_clock_defs;
