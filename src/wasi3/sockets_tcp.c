/* wasi:sockets 0.3 TCP over streams: `send` takes the readable end of the
 * guest's stream<u8> and becomes its sink (each guest stream.write goes to
 * the socket before it returns: nothing is buffered on the host, so a
 * writer that never stops never grows host memory; a full socket makes
 * the write wait, bounded by the store's deadline) and returns a future:
 * ok when the stream ends (shutdown SHUT_WR), err(error-code) when a
 * write fails. `receive` returns a stream<u8>
 * the host fills from the socket as the guest reads, and a future: ok at
 * the peer's FIN, err(error-code) on a reset. `listen` returns a
 * stream<tcp-socket> fed by accept: each accepted socket is a new object
 * of the context (counted against its descriptor cap: over the cap a
 * connection is accepted and closed at once) and keeps the options the
 * kernel copies from the listener (keep-alive, buffer sizes, hop limit).
 * A receive or accept with nothing ready leaves the guest's copy waiting
 * (BLOCKED, the instance's event loop watching the descriptor), so a
 * guest may accept and connect, or receive and send, concurrently.
 *
 * Each stream holds its own duplicate of the socket's descriptor, so the
 * guest may drop the tcp-socket while the stream lives; the duplicate
 * counts against the guest's cap of descriptors (w2_fd_dup) until the
 * stream goes. Waits end at the store's deadline. */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "component/component.h"
#include "wasi3/wasi3.h"

#define TCP WHIRL_WASI2_TCP_SOCKET


/* ------------------------------------------------------------------ */
/* Waiting on the stream's descriptor                                  */
/* ------------------------------------------------------------------ */

typedef struct fdw {
    int fd;
    short events;
} fdw_t;

static bool fdw_ready(void *env)
{
    fdw_t *f = env;
    struct pollfd p = {.fd = f->fd, .events = f->events};
    return poll(&p, 1, 0) != 0;
}

static int fdw_fd(void *env, short *events)
{
    fdw_t *f = env;
    *events = f->events;
    return f->fd;
}

static const whirl_wasi2_pollable_ops_t fdw_ops = {.ready = fdw_ready, .wait_fd = fdw_fd};

static whirl_error_t *wait_fd(whirl_wasi2_t *w, whirl_store_t *store, int fd, short events)
{
    fdw_t f = {fd, events};
    w2_pollable_t p = {.type = W2_POLL_HOST, .ops = &fdw_ops, .env = &f};
    return w2_wait(w, store, &p, 1, NULL);
}

/* Resolves future `f` with ok, or err for host errno `err`. */
static void resolve(cstream_t *f, int err)
{
    whirl_cval_t v = {0};
    whirl_error_t *e = err ? w3_err_errno(&v, err) : w3_ok(&v);
    if (e) {
        whirl_error_delete(e); /* out of memory: the future stays unresolved */
        whirl_cval_release(&v);
        return;
    }
    cstream_future_resolve(f, &v);
}

/* ------------------------------------------------------------------ */
/* send                                                                */
/* ------------------------------------------------------------------ */

typedef struct tcp_send {
    int fd;
    w2_fd_account_t *fds; /* where `fd` counts against the guest's cap */
    whirl_wasi2_t *w;
    whirl_store_t *store;
    cstream_t *future; /* resolved once: at the stream's end or a failure */
    bool resolved;
} tcp_send_t;

static void send_resolve(tcp_send_t *t, int err)
{
    if (t->resolved)
        return;
    t->resolved = true;
    resolve(t->future, err);
}

static void send_free(void *env)
{
    tcp_send_t *t = env;
    w2_fd_close(t->fd, t->fds);
    cstream_unref(t->future);
    free(t);
}

static whirl_error_t *send_write(void *env, const uint8_t *data, size_t n, size_t *done,
                                 bool *closed)
{
    tcp_send_t *t = env;
    size_t off = 0;
    whirl_error_t *e = NULL;
    while (off < n && !t->resolved) {
        size_t chunk = n - off < W2_MAX_IO ? n - off : W2_MAX_IO;
        ssize_t r = send(t->fd, data + off, chunk, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (r > 0) {
            off += (size_t)r;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (off)
                break; /* a partial write: the guest writes the rest again */
            if ((e = wait_fd(t->w, t->store, t->fd, POLLOUT)))
                break;
            continue;
        }
        send_resolve(t, r < 0 ? errno : EPIPE);
    }
    *done = off;
    *closed = t->resolved;
    return e;
}

/* The guest dropped its writable end: the stream ended. */
static void send_dropped(void *env)
{
    tcp_send_t *t = env;
    if (t->resolved)
        return;
    send_resolve(t, shutdown(t->fd, SHUT_WR) != 0 && errno != ENOTCONN ? errno : 0);
}

static const cstream_host_ops_t send_sink = {.write = send_write,
                                             .peer_dropped = send_dropped,
                                             .free = send_free};

/* send: func(data: stream<u8>) -> future<result<_, error-code>>. Not
 * connected, or a second send: the future is err(invalid-state) at once
 * (the stream is dropped with the argument). */
whirl_error_t *w3_tcp_send(w2_call_t *c)
{
    w3_sock_t *s;
    whirl_error_t *e = w3_arg_sock(c, 0, TCP, &s);
    if (e)
        return e;
    if (c->nargs < 2 || c->args[1].kind != WHIRL_CVAL_STREAM)
        return w2_trap(c, "parameter 1 is not a stream");
    if ((e = cstream_host_new(true, NULL, NULL, c->res)))
        return e;
    cstream_t *fut = cstream_of(c->res);
    if (s->state != W3_CONNECTED || s->sending) {
        whirl_cval_t v = {0};
        if ((e = w3_err(&v, W3E_INVALID_STATE, NULL)))
            whirl_cval_release(&v);
        else
            cstream_future_resolve(fut, &v);
        return e;
    }
    tcp_send_t *t = calloc(1, sizeof *t);
    if (!t)
        return w2_oom();
    if ((t->fd = w2_fd_dup(c->w, s->fd, &t->fds)) < 0) {
        int err = errno;
        free(t);
        resolve(fut, err);
        return NULL;
    }
    t->w = c->w;
    t->store = c->store;
    t->future = fut;
    cstream_ref(fut);
    /* The stream owns `t` from here (freed with it, or now on error). */
    if ((e = cstream_attach_sink(&c->args[1], &send_sink, t))) {
        whirl_error_t *tr = w2_trap(c, "%s", whirl_error_message(e));
        whirl_error_delete(e);
        return tr;
    }
    s->sending = true;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* receive                                                             */
/* ------------------------------------------------------------------ */

typedef struct tcp_recv {
    int fd; /* -1: nothing to read (not connected) */
    w2_fd_account_t *fds;
    whirl_wasi2_t *w;
    whirl_store_t *store;
    cstream_t *future;
    bool resolved;
} tcp_recv_t;

static void recv_resolve(tcp_recv_t *r, int err)
{
    if (r->resolved)
        return;
    r->resolved = true;
    resolve(r->future, err);
}

static whirl_error_t *recv_read(void *env, uint8_t *dst, size_t n, size_t *done, bool *eof)
{
    tcp_recv_t *r = env;
    *done = 0;
    *eof = false;
    if (r->resolved || r->fd < 0) {
        *eof = true;
        return NULL;
    }
    if (n == 0)
        return NULL;
    for (;;) {
        ssize_t k = recv(r->fd, dst, n < W2_MAX_IO ? n : W2_MAX_IO, MSG_DONTWAIT);
        if (k > 0) {
            *done = (size_t)k;
            return NULL;
        }
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return NULL; /* not ready: the guest's copy waits (recv_watch) */
        recv_resolve(r, k < 0 ? errno : 0); /* 0: the peer's FIN */
        *eof = true;
        return NULL;
    }
}

static void recv_dropped(void *env)
{
    tcp_recv_t *r = env;
    if (r->fd >= 0)
        (void)shutdown(r->fd, SHUT_RD);
    recv_resolve(r, 0);
}

static void recv_free(void *env)
{
    tcp_recv_t *r = env;
    w2_fd_close(r->fd, r->fds);
    cstream_unref(r->future);
    free(r);
}

static int recv_watch(void *env, short *events)
{
    tcp_recv_t *r = env;
    *events = POLLIN;
    return r->resolved ? -1 : r->fd;
}

static const cstream_host_ops_t recv_src = {.read = recv_read, .peer_dropped = recv_dropped,
                                            .free = recv_free, .watch = recv_watch};

/* receive: func() -> tuple<stream<u8>, future<result<_, error-code>>>.
 * Not connected (or a second receive): the stream ends at once and the
 * future is err(invalid-state). */
whirl_error_t *w3_tcp_receive(w2_call_t *c)
{
    w3_sock_t *s;
    whirl_error_t *e = w3_arg_sock(c, 0, TCP, &s);
    if (e || (e = whirl_cval_set_items(c->res, WHIRL_CVAL_TUPLE, 2)))
        return e;
    whirl_cval_t *items = c->res->of.list.items;
    tcp_recv_t *r = calloc(1, sizeof *r);
    if (!r)
        return w2_oom();
    r->fd = -1;
    r->w = c->w;
    r->store = c->store;
    if ((e = cstream_host_new(true, NULL, NULL, &items[1]))) {
        free(r);
        return e;
    }
    r->future = cstream_of(&items[1]);
    cstream_ref(r->future);
    bool usable = s->state == W3_CONNECTED && !s->receiving;
    if (usable && (r->fd = w2_fd_dup(c->w, s->fd, &r->fds)) < 0) {
        int err = errno;
        recv_resolve(r, err);
    } else if (!usable) {
        r->resolved = true;
        whirl_cval_t v = {0};
        if (!(e = w3_err(&v, W3E_INVALID_STATE, NULL)))
            cstream_future_resolve(r->future, &v);
        else
            whirl_cval_release(&v);
    } else {
        s->receiving = true;
    }
    if (e || (e = cstream_host_new(false, &recv_src, r, &items[0])))
        recv_free(r);
    return e;
}

/* ------------------------------------------------------------------ */
/* listen                                                              */
/* ------------------------------------------------------------------ */

typedef struct tcp_accept {
    int fd;
    w2_fd_account_t *fds;
    int family;
    whirl_wasi2_t *w;
    whirl_store_t *store;
    whirl_resource_type_t *type; /* tcp-socket, as the host defines it */
} tcp_accept_t;

/* One accepted socket into `v` (an own<tcp-socket>); waits for one. */
static whirl_error_t *accept_vals(void *env, whirl_cval_t *vals, size_t n, size_t *done,
                                  bool *eof)
{
    tcp_accept_t *a = env;
    *done = 0;
    *eof = false;
    if (n == 0)
        return NULL;
    for (;;) {
        int fd = accept4(a->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return NULL; /* none yet: the guest's copy waits (accept_watch) */
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO ||
                errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                continue; /* that connection went away, or the host is short: next */
            *eof = true;
            return NULL;
        }
        if (!w2_fd_room(a->w)) {
            close(fd); /* the guest holds its cap of descriptors: refuse */
            continue;
        }
        w3_sock_t *s = calloc(1, sizeof *s);
        if (!s) {
            close(fd);
            return w2_oom();
        }
        s->fd = fd;
        s->family = a->family;
        s->state = W3_CONNECTED;
        s->backlog = 128;
        w2_obj_t o = {.kind = W2_TCP, .holds_fd = true, .u.sock = s};
        uint32_t rep;
        whirl_error_t *e = w2_obj_add(a->w, &o, &rep);
        if (e) {
            w3_sock_free(s);
            return e;
        }
        vals[0].kind = WHIRL_CVAL_OWN;
        vals[0].of.resource.type = a->type;
        vals[0].of.resource.rep = rep;
        *done = 1;
        return NULL;
    }
}

static void accept_free(void *env)
{
    tcp_accept_t *a = env;
    w2_fd_close(a->fd, a->fds);
    free(a);
}

static int accept_watch(void *env, short *events)
{
    *events = POLLIN;
    return ((tcp_accept_t *)env)->fd;
}

static const cstream_host_ops_t accept_src = {.read_vals = accept_vals, .free = accept_free,
                                              .watch = accept_watch};

/* listen: func() -> result<stream<tcp-socket>, error-code>. An unbound
 * socket is bound to the unspecified address first (the kernel does it on
 * listen), so the policy is asked about that address. */
whirl_error_t *w3_tcp_listen(w2_call_t *c)
{
    w3_sock_t *s;
    whirl_error_t *e = w3_arg_sock(c, 0, TCP, &s);
    if (e)
        return e;
    if (s->state != W3_UNBOUND && s->state != W3_BOUND)
        return w3_err(c->res, W3E_INVALID_STATE, NULL);
    if (s->state == W3_UNBOUND) {
        struct sockaddr_storage any = {.ss_family = (sa_family_t)s->family};
        uint32_t bad = w3_check_addr(c, s, (struct sockaddr *)&any, false);
        if (bad != W3E_NONE)
            return w3_err(c->res, bad, NULL);
    }
    if (listen(s->fd, s->backlog) != 0)
        return w3_err_errno(c->res, errno);
    s->state = W3_LISTENING;
    tcp_accept_t *a = calloc(1, sizeof *a);
    if (!a)
        return w2_oom();
    if ((a->fd = w2_fd_dup(c->w, s->fd, &a->fds)) < 0) {
        int err = errno;
        free(a);
        return w3_err_errno(c->res, err);
    }
    a->family = s->family;
    a->w = c->w;
    a->store = c->store;
    a->type = c->host->types[TCP];
    whirl_cval_t *p;
    if ((e = w2_ok(c->res, &p)) || (e = cstream_host_new(false, &accept_src, a, p)))
        accept_free(a);
    return e;
}
