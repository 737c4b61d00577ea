/* WASI clocks and waiting: clock_res_get, clock_time_get, poll_oneoff, and
 * the interruptible wait that blocking reads and writes use.
 *
 * Every wait also watches the context's eventfd, so that
 * whirl_wasi_interrupt() (from another thread, e.g. a --timeout timer) ends
 * it with ERRNO_INTR: a guest asleep in the host cannot otherwise reach the
 * epoch checks that would stop it. */
#define _GNU_SOURCE /* O_PATH, ppoll, accept4, utimensat flags */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wasi/internal.h"

static bool clock_of(uint32_t id, clockid_t *out)
{
    switch (id) {
    case WASI_CLOCK_REALTIME: *out = CLOCK_REALTIME; return true;
    case WASI_CLOCK_MONOTONIC: *out = CLOCK_MONOTONIC; return true;
    case WASI_CLOCK_PROCESS_CPUTIME: *out = CLOCK_PROCESS_CPUTIME_ID; return true;
    case WASI_CLOCK_THREAD_CPUTIME: *out = CLOCK_THREAD_CPUTIME_ID; return true;
    default: return false;
    }
}

static uint64_t ns_of(const struct timespec *ts)
{
    if (ts->tv_sec < 0)
        return 0;
    return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

static uint64_t now_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return ns_of(&ts);
}

uint32_t wasi_clock_res_get(wasi_call_t *c)
{
    clockid_t id;
    uint32_t out = arg32(c, 1);
    if (!clock_of(arg32(c, 0), &id))
        return WASI_EINVAL;
    if (!mem_ok(&c->mem, out, 8))
        return WASI_EFAULT;
    struct timespec ts;
    if (clock_getres(id, &ts) != 0)
        return wasi_errno(errno);
    mem_put64(&c->mem, out, ns_of(&ts));
    return 0;
}

uint32_t wasi_clock_time_get(wasi_call_t *c)
{
    clockid_t id;
    uint32_t out = arg32(c, 2);
    if (!clock_of(arg32(c, 0), &id))
        return WASI_EINVAL;
    if (!mem_ok(&c->mem, out, 8))
        return WASI_EFAULT;
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0)
        return wasi_errno(errno);
    mem_put64(&c->mem, out, ns_of(&ts));
    return 0;
}

static whirl_error_t *deadline_trap(const char *where)
{
    char msg[128];
    snprintf(msg, sizeof msg, "deadline reached while the guest waited in %s", where);
    return whirl_trap_new(WHIRL_TRAP_INTERRUPT, msg);
}

bool wasi_deadline_passed(wasi_call_t *c, const char *where)
{
    uint64_t deadline = c->store ? whirl_store_deadline_ns(c->store) : UINT64_MAX;
    if (deadline == UINT64_MAX || now_ns(CLOCK_MONOTONIC) < deadline)
        return false;
    if (!c->exit)
        c->exit = deadline_trap(where);
    return true;
}

uint32_t wasi_wait_fd(wasi_call_t *c, int fd, short events, bool nonblock)
{
    whirl_wasi_t *w = c->w;
    if (atomic_load(&w->interrupted))
        return WASI_EINTR;
    /* A guest waiting here reaches no epoch check: the wait itself ends at
     * the store's deadline, with the trap the guest would have met. */
    uint64_t deadline = c->store ? whirl_store_deadline_ns(c->store) : UINT64_MAX;
    struct pollfd p[2] = {{.fd = fd, .events = events}, {.fd = w->wake_fd, .events = POLLIN}};
    for (;;) {
        struct timespec ts = {0, 0}, *tsp = &ts;
        if (!nonblock) {
            if (deadline == UINT64_MAX) {
                tsp = NULL;
            } else {
                uint64_t now = now_ns(CLOCK_MONOTONIC);
                if (now >= deadline) {
                    c->exit = deadline_trap(events & POLLOUT ? "a write" : "a read");
                    return WASI_EINTR;
                }
                ts.tv_sec = (time_t)((deadline - now) / 1000000000u);
                ts.tv_nsec = (long)((deadline - now) % 1000000000u);
            }
        }
        int r = wasi_ppoll(c, p, 2, tsp);
        if (r < 0) {
            if (c->exit)
                return WASI_EINTR; /* cut short while suspended: the trap ends the guest */
            if (errno == EINTR)
                continue;
            return wasi_errno(errno);
        }
        if (p[1].revents)
            return WASI_EINTR;
        if (r == 0) {
            if (nonblock)
                return WASI_EAGAIN;
            continue; /* the deadline: checked above */
        }
        return 0; /* ready, or in error: the I/O call that follows reports it */
    }
}

uint8_t wasi_host_kind(int fd)
{
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
        return WASI_HOST_STREAM;
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISBLK(st.st_mode))
        return WASI_HOST_FILE;
    if (S_ISSOCK(st.st_mode))
        return WASI_HOST_SOCKET;
    return WASI_HOST_STREAM;
}

/* ---- poll_oneoff ---- */

typedef struct sub {
    uint64_t userdata;
    uint8_t type;
    uint64_t deadline; /* CLOCK_MONOTONIC ns */
    int pollfd;        /* index into the pollfd array, or -1 */
    bool ready;        /* known ready without waiting (files, errors) */
    uint16_t error;
    uint64_t nbytes;
    uint16_t flags;
} sub_t;

static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

/* Fills `s` for a clock subscription. */
static uint32_t clock_sub(const uint8_t *p, uint64_t mono, sub_t *s)
{
    uint32_t id = ld32(p + 16);
    uint64_t timeout = ld64(p + 24);
    uint16_t flags = ld16(p + 40);
    if (flags & ~WASI_SUBCLOCK_ABSTIME)
        return WASI_EINVAL;
    bool abs = flags & WASI_SUBCLOCK_ABSTIME;
    if (id == WASI_CLOCK_MONOTONIC) {
        s->deadline = abs ? timeout : sat_add(mono, timeout);
    } else if (id == WASI_CLOCK_REALTIME) {
        uint64_t real = now_ns(CLOCK_REALTIME);
        /* An absolute wall-clock time becomes a monotonic deadline now; a
         * later change of the wall clock does not move it. */
        s->deadline = abs ? sat_add(mono, timeout > real ? timeout - real : 0)
                          : sat_add(mono, timeout);
    } else {
        return WASI_EINVAL; /* CPU-time clocks cannot be waited on */
    }
    return 0;
}

/* Fills `s` for an fd_read / fd_write subscription. */
static uint32_t fd_sub(whirl_wasi_t *w, const uint8_t *p, bool write, struct pollfd *pfds,
                       int *npfds, sub_t *s)
{
    wasi_fd_t *f = wasi_fd_get(w, ld32(p + 16));
    if (!f || f->kind == WASI_FD_DIR)
        return WASI_EBADF;
    if (f->dropped & WASI_RIGHT(WASI_RIGHT_POLL_FD_READWRITE)) {
        s->ready = true;
        s->error = WASI_ENOTCAPABLE;
        return 0;
    }
    if (write ? !f->can_write : !f->can_read) {
        s->ready = true;
        s->error = WASI_EBADF;
        return 0;
    }
    if (f->io) {
        /* A host callback stream: the read or write itself waits. */
        s->ready = true;
        s->nbytes = 1;
        return 0;
    }
    if (f->host < 0) {
        /* Absent stdio: stdin is at end of file, output is a sink. */
        s->ready = true;
        s->flags = write ? 0 : WASI_EVENTRW_HANGUP;
        return 0;
    }
    if (f->kind == WASI_FD_FILE && f->filetype == WASI_FILETYPE_REGULAR_FILE) {
        /* Regular files are always ready; reading tells what is left. */
        s->ready = true;
        if (!write) {
            struct stat st;
            off_t pos = lseek(f->host, 0, SEEK_CUR);
            if (fstat(f->host, &st) == 0 && pos >= 0 && st.st_size > pos)
                s->nbytes = (uint64_t)(st.st_size - pos);
        }
        return 0;
    }
    s->pollfd = *npfds;
    pfds[*npfds].fd = f->host;
    pfds[*npfds].events = write ? POLLOUT : POLLIN;
    pfds[*npfds].revents = 0;
    (*npfds)++;
    return 0;
}

/* Turns the poll result of an fd subscription into the event fields. */
static void fd_result(const struct pollfd *pfd, bool write, sub_t *s)
{
    short r = pfd->revents;
    if (!r)
        return;
    s->ready = true;
    if (r & POLLNVAL) {
        s->error = WASI_EBADF;
    } else if ((r & POLLERR) && !(r & (POLLIN | POLLOUT))) {
        s->error = write ? WASI_EPIPE : WASI_EIO;
    } else {
        if (r & POLLHUP)
            s->flags = WASI_EVENTRW_HANGUP;
        int avail = 0;
        if (!write && ioctl(pfd->fd, FIONREAD, &avail) == 0 && avail > 0)
            s->nbytes = (uint64_t)avail;
        else if (!(r & POLLHUP))
            s->nbytes = 1; /* ready, amount unknown */
    }
}

uint32_t wasi_poll_oneoff(wasi_call_t *c)
{
    uint32_t in = arg32(c, 0), out = arg32(c, 1), n = arg32(c, 2), nout = arg32(c, 3);
    if (n == 0)
        return WASI_EINVAL; /* would wait forever: preview 1 has no such sleep */
    if (!mem_ok(&c->mem, in, (uint64_t)n * WASI_SUBSCRIPTION_SIZE) ||
        !mem_ok(&c->mem, out, (uint64_t)n * WASI_EVENT_SIZE) || !mem_ok(&c->mem, nout, 4))
        return WASI_EFAULT;
    if (n > WASI_MAX_SUBSCRIPTIONS)
        return WASI_ENOMEM;
    sub_t *subs = calloc(n, sizeof *subs);
    struct pollfd *pfds = calloc((size_t)n + 1, sizeof *pfds);
    uint32_t e = 0;
    if (!subs || !pfds) {
        e = WASI_ENOMEM;
        goto done;
    }
    uint64_t mono = now_ns(CLOCK_MONOTONIC);
    int npfds = 0;
    bool any_clock = false, any_ready = false;
    uint64_t earliest = UINT64_MAX;
    for (uint32_t i = 0; i < n && !e; i++) {
        const uint8_t *p = mem_at(&c->mem, in + i * WASI_SUBSCRIPTION_SIZE);
        sub_t *s = &subs[i];
        s->userdata = ld64(p);
        s->type = p[8];
        s->pollfd = -1;
        switch (s->type) {
        case WASI_EVENT_CLOCK:
            if ((e = clock_sub(p, mono, s)) == 0) {
                any_clock = true;
                if (s->deadline < earliest)
                    earliest = s->deadline;
            }
            break;
        case WASI_EVENT_FD_READ:
        case WASI_EVENT_FD_WRITE:
            e = fd_sub(c->w, p, s->type == WASI_EVENT_FD_WRITE, pfds, &npfds, s);
            any_ready |= s->ready;
            break;
        default:
            e = WASI_EINVAL;
        }
    }
    if (e)
        goto done;

    pfds[npfds].fd = c->w->wake_fd;
    pfds[npfds].events = POLLIN;
    /* A sleeping guest reaches no epoch check, so the wait itself stops at
     * the store's deadline (when it was given as a time) and traps. */
    uint64_t store_deadline = c->store ? whirl_store_deadline_ns(c->store) : UINT64_MAX;
    uint32_t count;
    for (;;) {
        count = 0;
        if (atomic_load(&c->w->interrupted)) {
            e = WASI_EINTR;
            goto done;
        }
        struct timespec ts, *tsp = NULL;
        if (any_ready) {
            ts.tv_sec = 0, ts.tv_nsec = 0;
            tsp = &ts;
        } else if (any_clock || store_deadline != UINT64_MAX) {
            uint64_t until = earliest < store_deadline ? earliest : store_deadline;
            uint64_t left = until > mono ? until - mono : 0;
            ts.tv_sec = (time_t)(left / 1000000000u);
            ts.tv_nsec = (long)(left % 1000000000u);
            tsp = &ts;
        }
        int r = wasi_ppoll(c, pfds, (nfds_t)npfds + 1, tsp);
        if (r < 0 && c->exit)
            goto done; /* cut short while suspended: the trap ends the guest */
        if (r < 0 && errno != EINTR) {
            e = wasi_errno(errno);
            goto done;
        }
        mono = now_ns(CLOCK_MONOTONIC);
        if (r > 0 && pfds[npfds].revents) {
            e = WASI_EINTR;
            goto done;
        }
        for (uint32_t i = 0; i < n; i++) {
            sub_t *s = &subs[i];
            if (s->type == WASI_EVENT_CLOCK)
                s->ready = mono >= s->deadline;
            else if (s->pollfd >= 0 && r > 0)
                fd_result(&pfds[s->pollfd], s->type == WASI_EVENT_FD_WRITE, s);
            if (s->ready)
                count++;
        }
        if (count)
            break;
        if (mono >= store_deadline) {
            c->exit = whirl_trap_new(WHIRL_TRAP_INTERRUPT, "deadline reached while the guest "
                                     "waited in poll_oneoff");
            goto done;
        }
    }
    uint8_t *ev = mem_at(&c->mem, out);
    for (uint32_t i = 0; i < n; i++) {
        const sub_t *s = &subs[i];
        if (!s->ready)
            continue;
        memset(ev, 0, WASI_EVENT_SIZE);
        st64(ev, s->userdata);
        st16(ev + 8, s->error);
        st8(ev + 10, s->type);
        if (s->type != WASI_EVENT_CLOCK) {
            st64(ev + 16, s->nbytes);
            st16(ev + 24, s->flags);
        }
        ev += WASI_EVENT_SIZE;
    }
    mem_put32(&c->mem, nout, count);
done:
    free(subs);
    free(pfds);
    return e;
}
