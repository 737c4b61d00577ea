/* WASI 0.2 context: configuration, the object table behind every resource
 * handle, waiting on pollables, and the public functions that let other
 * host modules create streams, pollables and errors. */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "wasi2/internal.h"
#include "wasi/reactor.h"

#define cfg_error whirl_error_newf

whirl_error_t *w2_oom(void)
{
    return whirl_error_new("WASI: out of memory");
}

/* ------------------------------------------------------------------ */
/* Configuration                                                       */
/* ------------------------------------------------------------------ */

struct whirl_wasi2_config {
    wasi_common_config_t common;
    w3_net_policy_t net;
};

whirl_wasi2_config_t *whirl_wasi2_config_new(void)
{
    whirl_wasi2_config_t *c = calloc(1, sizeof *c);
    if (c)
        wasi_common_init(&c->common);
    return c;
}

void whirl_wasi2_config_delete(whirl_wasi2_config_t *c)
{
    if (!c)
        return;
    wasi_common_free(&c->common);
    w3_net_policy_free(&c->net);
    free(c);
}

whirl_error_t *whirl_wasi2_config_push_arg(whirl_wasi2_config_t *c, const char *arg)
{
    return wasi_common_push_arg(c ? &c->common : NULL, arg);
}

whirl_error_t *whirl_wasi2_config_push_env(whirl_wasi2_config_t *c, const char *key,
                                           const char *value)
{
    return wasi_common_push_env(c ? &c->common : NULL, key, value);
}

whirl_error_t *whirl_wasi2_config_inherit_env(whirl_wasi2_config_t *c)
{
    return wasi_common_inherit_env(c ? &c->common : NULL);
}

whirl_error_t *whirl_wasi2_config_set_stdio(whirl_wasi2_config_t *c, int in, int out, int err)
{
    return wasi_common_set_stdio(c ? &c->common : NULL, in, out, err);
}

void whirl_wasi2_config_inherit_stdio(whirl_wasi2_config_t *c)
{
    if (c)
        c->common.stdio[0] = 0, c->common.stdio[1] = 1, c->common.stdio[2] = 2;
}

whirl_error_t *whirl_wasi2_config_set_max_open_files(whirl_wasi2_config_t *c, uint32_t max)
{
    return wasi_common_set_max_open_files(c ? &c->common : NULL, max);
}

whirl_error_t *whirl_wasi2_config_preopen_dir(whirl_wasi2_config_t *c, const char *host_path,
                                              const char *guest_path, uint32_t flags)
{
    if (c && host_path && (flags & ~WHIRL_WASI2_DIR_READONLY))
        return cfg_error("WASI: preopen_dir '%.200s': unknown flags 0x%x", host_path, flags);
    return wasi_common_preopen_dir(c ? &c->common : NULL, host_path, guest_path,
                                   flags & WHIRL_WASI2_DIR_READONLY);
}

whirl_error_t *whirl_wasi2_config_inherit_network(whirl_wasi2_config_t *c)
{
    if (!c)
        return cfg_error("WASI: inherit_network: NULL config");
    c->net.inherit = true;
    return NULL;
}

whirl_error_t *whirl_wasi2_config_allow_ip(whirl_wasi2_config_t *c, const char *cidr)
{
    return w3_net_allow_cidr(c ? &c->net : NULL, cidr);
}

/* ------------------------------------------------------------------ */
/* The context                                                         */
/* ------------------------------------------------------------------ */

whirl_error_t *whirl_wasi2_new(whirl_wasi2_config_t *c, whirl_wasi2_t **out)
{
    if (!out) {
        whirl_wasi2_config_delete(c);
        return cfg_error("WASI: whirl_wasi2_new: out is NULL");
    }
    *out = NULL;
    if (!c)
        return cfg_error("WASI: whirl_wasi2_new: NULL config");
    whirl_wasi2_t *w = calloc(1, sizeof *w);
    if (!w) {
        whirl_wasi2_config_delete(c);
        return w2_oom();
    }
    whirl_error_t *limit_err = wasi_resolve_max_open_files(c->common.max_open_files, &w->max_fds);
    if (limit_err) {
        free(w);
        whirl_wasi2_config_delete(c);
        return limit_err;
    }
    w->streams = calloc(1, sizeof *w->streams);
    w->wake_fd = w->streams ? eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) : -1;
    if (w->wake_fd < 0) {
        whirl_error_t *e = w->streams ? cfg_error("WASI: eventfd: %s", strerror(errno))
                                      : w2_oom();
        free(w->streams);
        free(w);
        whirl_wasi2_config_delete(c);
        return e;
    }
    atomic_init(&w->interrupted, false);
    atomic_init(&w->streams->refs, 1);
    w->argv = c->common.argv, w->argc = c->common.argc;
    w->envp = c->common.envp, w->envc = c->common.envc;
    memcpy(w->stdio, c->common.stdio, sizeof w->stdio);
    w->pre = c->common.pre, w->npre = c->common.npre;
    w->net = c->net;
    free(c); /* what it held is the context's now */
    *out = w;
    return NULL;
}

static void obj_release(whirl_wasi2_t *w, w2_obj_t *o)
{
    switch (o->kind) {
    case W2_INPUT:
    case W2_OUTPUT:
        if (o->u.stream.ops->drop)
            o->u.stream.ops->drop(o->u.stream.env);
        break;
    case W2_POLLABLE:
        if (o->u.poll.type == W2_POLL_STREAM) {
            w2_obj_t *p = o->u.poll.parent - 1 < w->nobjs ? &w->objs[o->u.poll.parent - 1] : NULL;
            if (p && p->children)
                p->children--;
        } else if (o->u.poll.type == W2_POLL_HOST && o->u.poll.ops->drop) {
            o->u.poll.ops->drop(o->u.poll.env);
        }
        break;
    case W2_ERROR: free(o->u.err.message); break;
    case W2_DESCRIPTOR: close(o->u.desc.fd); break;
    case W2_DIRSTREAM: close(o->u.dir.fd); break;
    case W2_TCP:
    case W2_UDP: w3_sock_free(o->u.sock); break;
    default: break;
    }
}

static void obj_free_slot(whirl_wasi2_t *w, uint32_t rep)
{
    w2_obj_t *o = &w->objs[rep - 1];
    if (o->holds_fd) {
        w->nfds--;
        wasi_fd_budget_give();
    }
    memset(o, 0, sizeof *o);
    o->next_free = w->free_head;
    w->free_head = rep;
    w->live--;
}

void whirl_wasi2_delete(whirl_wasi2_t *w)
{
    if (!w)
        return;
    /* Pollables first: they point at their streams. */
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t i = 0; i < w->nobjs; i++) {
            w2_obj_t *o = &w->objs[i];
            if (o->kind != W2_FREE && (o->kind == W2_POLLABLE) == (pass == 0)) {
                obj_release(w, o);
                if (o->holds_fd)
                    wasi_fd_budget_give();
                o->kind = W2_FREE;
            }
        }
    free(w->objs);
    wasi_strings_free(w->argv, w->argc);
    wasi_strings_free(w->envp, w->envc);
    wasi_preopens_free(w->pre, w->npre);
    w3_net_policy_free(&w->net);
    close(w->wake_fd);
    if (atomic_fetch_sub(&w->streams->refs, 1) == 1)
        free(w->streams);
    free(w);
}

static void wake(whirl_wasi2_t *w)
{
    uint64_t one = 1;
    ssize_t r = write(w->wake_fd, &one, sizeof one);
    (void)r; /* a full counter already wakes the waiter */
}

void whirl_wasi2_interrupt(whirl_wasi2_t *w)
{
    if (!w)
        return;
    atomic_store(&w->interrupted, true);
    wake(w);
}

void whirl_wasi2_notify(whirl_wasi2_t *w)
{
    if (w)
        wake(w);
}

/* ------------------------------------------------------------------ */
/* Objects                                                             */
/* ------------------------------------------------------------------ */

bool w2_fd_room(const whirl_wasi2_t *w)
{
    uint32_t held_by_streams = atomic_load(&w->streams->refs) - 1; /* - the context's */
    return w->nfds + held_by_streams < w->max_fds && wasi_fd_budget_room();
}

w2_fd_account_t *w2_fd_take(whirl_wasi2_t *w)
{
    if (!w2_fd_room(w) || !wasi_fd_budget_take())
        return NULL;
    atomic_fetch_add(&w->streams->refs, 1);
    return w->streams;
}

void w2_fd_give(w2_fd_account_t *a)
{
    if (!a)
        return;
    wasi_fd_budget_give();
    if (atomic_fetch_sub(&a->refs, 1) == 1)
        free(a);
}

int w2_fd_dup(whirl_wasi2_t *w, int fd, w2_fd_account_t **fds)
{
    if (!(*fds = w2_fd_take(w))) {
        errno = EMFILE;
        return -1;
    }
    int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (d < 0) {
        int err = errno;
        w2_fd_give(*fds);
        *fds = NULL;
        errno = err;
    }
    return d;
}

void w2_fd_close(int fd, w2_fd_account_t *fds)
{
    if (fd >= 0) {
        close(fd);
        w2_fd_give(fds);
    }
}

whirl_error_t *w2_obj_add(whirl_wasi2_t *w, const w2_obj_t *o, uint32_t *rep)
{
    if (w->live >= W2_MAX_OBJECTS)
        return cfg_error("WASI: too many resources (%u) held by the guest", W2_MAX_OBJECTS);
    if (o->holds_fd && !w2_fd_room(w))
        return cfg_error("WASI: too many open files and directories (%u) held by the guest",
                         w->max_fds);
    if (o->holds_fd && !wasi_fd_budget_take())
        return cfg_error("WASI: the guests of this process hold every descriptor they may");
    uint32_t r = w->free_head;
    if (r) {
        w->free_head = w->objs[r - 1].next_free;
    } else {
        if (w->nobjs == w->cap) {
            uint32_t ncap = w->cap ? w->cap * 2 : 16;
            w2_obj_t *n = realloc(w->objs, (size_t)ncap * sizeof *n);
            if (!n) {
                if (o->holds_fd)
                    wasi_fd_budget_give();
                return w2_oom();
            }
            w->objs = n;
            w->cap = ncap;
        }
        r = ++w->nobjs;
    }
    w->objs[r - 1] = *o;
    w->objs[r - 1].children = 0;
    w->objs[r - 1].next_free = 0;
    w->live++;
    if (o->holds_fd)
        w->nfds++;
    *rep = r;
    return NULL;
}

w2_obj_t *w2_obj_get(whirl_wasi2_t *w, uint32_t rep, uint8_t kind)
{
    if (rep == 0 || rep > w->nobjs || w->objs[rep - 1].kind != kind)
        return NULL;
    return &w->objs[rep - 1];
}

whirl_error_t *w2_obj_drop(whirl_wasi2_t *w, uint32_t rep, uint8_t kind)
{
    w2_obj_t *o = w2_obj_get(w, rep, kind);
    if (!o)
        return cfg_error("WASI: dropping unknown resource %u", rep);
    if (o->children)
        return cfg_error("WASI: a stream was dropped while %u pollable(s) from its subscribe "
                         "were still alive (drop them first)", o->children);
    obj_release(w, o);
    obj_free_slot(w, rep);
    return NULL;
}

whirl_error_t *w2_error_new(whirl_wasi2_t *w, const char *message, int code, uint32_t *rep)
{
    w2_obj_t o = {.kind = W2_ERROR};
    o.u.err.message = strdup(message ? message : "operation failed");
    o.u.err.code = code;
    if (!o.u.err.message)
        return w2_oom();
    whirl_error_t *e = w2_obj_add(w, &o, rep);
    if (e)
        free(o.u.err.message);
    return e;
}

whirl_error_t *w2_stream_add(whirl_wasi2_t *w, uint8_t kind, const whirl_wasi2_stream_ops_t *ops,
                             void *env, int *code, bool holds_fd, uint32_t *rep)
{
    w2_obj_t o = {.kind = kind, .holds_fd = holds_fd};
    o.u.stream = (w2_stream_t){.ops = ops, .env = env, .code = code};
    whirl_error_t *e = w2_obj_add(w, &o, rep);
    if (e && ops->drop)
        ops->drop(env);
    return e;
}

/* ---- the public resource API ---- */

static whirl_error_t *stream_new(whirl_wasi2_t *w, uint8_t kind,
                                 const whirl_wasi2_stream_ops_t *ops, void *env, uint32_t *rep)
{
    if (!w || !ops || !rep) {
        if (ops && ops->drop)
            ops->drop(env);
        return cfg_error("WASI: stream_new: NULL argument");
    }
    if (kind == W2_INPUT ? !ops->read : (!ops->check_write || !ops->write)) {
        if (ops->drop)
            ops->drop(env);
        return cfg_error("WASI: stream_new: the stream needs %s", kind == W2_INPUT
                             ? "a read callback" : "check_write and write callbacks");
    }
    return w2_stream_add(w, kind, ops, env, NULL, false, rep);
}

whirl_error_t *whirl_wasi2_input_stream_new(whirl_wasi2_t *w, const whirl_wasi2_stream_ops_t *ops,
                                            void *env, uint32_t *rep)
{
    return stream_new(w, W2_INPUT, ops, env, rep);
}

whirl_error_t *whirl_wasi2_output_stream_new(whirl_wasi2_t *w,
                                             const whirl_wasi2_stream_ops_t *ops, void *env,
                                             uint32_t *rep)
{
    return stream_new(w, W2_OUTPUT, ops, env, rep);
}

void *whirl_wasi2_stream_env(whirl_wasi2_t *w, whirl_wasi2_resource_t kind, uint32_t rep)
{
    if (!w || (kind != WHIRL_WASI2_INPUT_STREAM && kind != WHIRL_WASI2_OUTPUT_STREAM))
        return NULL;
    w2_obj_t *o = w2_obj_get(w, rep, W2_KIND(kind));
    return o && !o->u.stream.code ? o->u.stream.env : NULL;
}

whirl_error_t *whirl_wasi2_pollable_new(whirl_wasi2_t *w, const whirl_wasi2_pollable_ops_t *ops,
                                        void *env, uint32_t *rep)
{
    if (!w || !ops || !rep) {
        if (ops && ops->drop)
            ops->drop(env);
        return cfg_error("WASI: pollable_new: NULL argument");
    }
    w2_obj_t o = {.kind = W2_POLLABLE};
    o.u.poll = (w2_pollable_t){.type = W2_POLL_HOST, .ops = ops, .env = env};
    whirl_error_t *e = w2_obj_add(w, &o, rep);
    if (e && ops->drop)
        ops->drop(env);
    return e;
}

whirl_error_t *whirl_wasi2_pollable_deadline(whirl_wasi2_t *w, uint64_t when_ns, uint32_t *rep)
{
    if (!w || !rep)
        return cfg_error("WASI: pollable_deadline: NULL argument");
    w2_obj_t o = {.kind = W2_POLLABLE};
    o.u.poll = (w2_pollable_t){.type = W2_POLL_DEADLINE, .deadline = when_ns};
    return w2_obj_add(w, &o, rep);
}

whirl_error_t *whirl_wasi2_block(whirl_wasi2_t *w, whirl_store_t *store, uint32_t rep)
{
    if (!w)
        return cfg_error("WASI: block: NULL context");
    w2_obj_t *o = w2_obj_get(w, rep, W2_POLLABLE);
    if (!o)
        return cfg_error("WASI: block: %u is not a pollable", rep);
    w2_pollable_t p = o->u.poll;
    return w2_wait(w, store, &p, 1, NULL);
}

whirl_error_t *whirl_wasi2_error_new(whirl_wasi2_t *w, const char *message, uint32_t *rep)
{
    if (!w || !rep)
        return cfg_error("WASI: error_new: NULL argument");
    return w2_error_new(w, message, 0, rep);
}

const char *whirl_wasi2_error_message(whirl_wasi2_t *w, uint32_t rep)
{
    w2_obj_t *o = w ? w2_obj_get(w, rep, W2_ERROR) : NULL;
    return o ? o->u.err.message : NULL;
}

whirl_error_t *whirl_wasi2_drop(whirl_wasi2_t *w, whirl_wasi2_resource_t kind, uint32_t rep)
{
    if (!w || (unsigned)kind >= WHIRL_WASI2_RESOURCE_COUNT)
        return cfg_error("WASI: drop: bad arguments");
    return w2_obj_drop(w, rep, W2_KIND(kind));
}

/* ------------------------------------------------------------------ */
/* Waiting                                                             */
/* ------------------------------------------------------------------ */

static const w2_stream_t *poll_stream(whirl_wasi2_t *w, const w2_pollable_t *p)
{
    uint32_t r = p->parent;
    if (r == 0 || r > w->nobjs)
        return NULL;
    const w2_obj_t *o = &w->objs[r - 1];
    return o->kind == W2_INPUT || o->kind == W2_OUTPUT ? &o->u.stream : NULL;
}

bool w2_pollable_ready(whirl_wasi2_t *w, const w2_pollable_t *p)
{
    switch (p->type) {
    case W2_POLL_READY: return true;
    case W2_POLL_DEADLINE: return whirl_monotonic_now() >= p->deadline;
    case W2_POLL_STREAM: {
        const w2_stream_t *s = poll_stream(w, p);
        return !s || !s->ops->ready || s->ops->ready(s->env);
    }
    case W2_POLL_HOST: return !p->ops->ready || p->ops->ready(p->env);
    }
    return true;
}

/* The descriptor to watch for `p`, or -1 (then *tick says whether to
 * re-check it periodically). */
static int poll_fd(whirl_wasi2_t *w, const w2_pollable_t *p, short *events, bool *tick)
{
    int (*wait_fd)(void *, short *) = NULL;
    void *env = NULL;
    if (p->type == W2_POLL_STREAM) {
        const w2_stream_t *s = poll_stream(w, p);
        if (s)
            wait_fd = s->ops->wait_fd, env = s->env;
    } else if (p->type == W2_POLL_HOST) {
        wait_fd = p->ops->wait_fd, env = p->env;
    } else {
        return -1;
    }
    int fd = wait_fd ? wait_fd(env, events) : -1;
    if (fd == WHIRL_WASI2_WAIT_NOTIFIED)
        return -1; /* whirl_wasi2_notify wakes the wait through wake_fd */
    if (fd < 0)
        *tick = true;
    return fd;
}

enum { TICK_NS = 10000000 }; /* re-check interval for readiness without a descriptor */

whirl_error_t *w2_wait(whirl_wasi2_t *w, whirl_store_t *store, const w2_pollable_t *ps,
                       size_t n, bool *ready)
{
    struct pollfd small[17], *pfds = small;
    if (n + 1 > sizeof small / sizeof *small && !(pfds = calloc(n + 1, sizeof *pfds)))
        return w2_oom();
    uint64_t store_deadline = store ? whirl_store_deadline_ns(store) : UINT64_MAX;
    whirl_error_t *err = NULL;
    for (;;) {
        if (atomic_load(&w->interrupted)) {
            err = whirl_trap_new(WHIRL_TRAP_INTERRUPT, "interrupted while the guest waited "
                                 "in a WASI call");
            break;
        }
        bool any = false;
        for (size_t i = 0; i < n; i++) {
            bool r = w2_pollable_ready(w, &ps[i]);
            if (ready)
                ready[i] = r;
            any |= r;
        }
        if (any)
            break;
        uint64_t now = whirl_monotonic_now();
        if (now >= store_deadline) {
            err = whirl_trap_new(WHIRL_TRAP_INTERRUPT, "deadline reached while the guest waited "
                                 "in a WASI call");
            break;
        }
        uint64_t until = store_deadline;
        bool tick = false;
        nfds_t np = 0;
        for (size_t i = 0; i < n; i++) {
            if (ps[i].type == W2_POLL_DEADLINE) {
                if (ps[i].deadline < until)
                    until = ps[i].deadline;
                continue;
            }
            short ev = 0;
            int fd = poll_fd(w, &ps[i], &ev, &tick);
            if (fd >= 0)
                pfds[np++] = (struct pollfd){.fd = fd, .events = ev};
        }
        pfds[np++] = (struct pollfd){.fd = w->wake_fd, .events = POLLIN};
        if (tick && until > now + TICK_NS)
            until = now + TICK_NS;
        struct timespec ts, *tsp = NULL;
        if (until != UINT64_MAX) {
            uint64_t left = until > now ? until - now : 0;
            ts.tv_sec = (time_t)(left / 1000000000u);
            ts.tv_nsec = (long)(left % 1000000000u);
            tsp = &ts;
        }
        /* Inside a resumable call this suspends the call, not the thread. */
        whirl_error_t *cut;
        int r = wasi_reactor_ppoll(store, pfds, np, tsp, &cut);
        if (cut) {
            err = cut;
            break;
        }
        if (r < 0 && errno != EINTR) {
            err = cfg_error("WASI: waiting failed: %s", strerror(errno));
            break;
        }
        if (r > 0 && pfds[np - 1].revents) {
            uint64_t count;
            ssize_t got = read(w->wake_fd, &count, sizeof count);
            (void)got; /* drained: the loop re-checks everything */
        }
    }
    if (pfds != small)
        free(pfds);
    return err;
}

whirl_error_t *w2_wait_stream(whirl_wasi2_t *w, whirl_store_t *store, uint32_t rep)
{
    w2_pollable_t p = {.type = W2_POLL_STREAM, .parent = rep};
    return w2_wait(w, store, &p, 1, NULL);
}
