/* wasi:sockets 0.3: the udp-socket resource and ip-name-lookup.
 *
 * send and receive are async functions. send completes before it returns
 * (as connect in sockets.c); a receive with nothing queued becomes a
 * subtask (component/subtask.c) when the guest lowered it async, finished
 * by its event loop when a datagram arrives, so a guest may receive and
 * send on its own sockets concurrently (futures::join!). Called
 * synchronously, it waits on the calling thread.
 *
 * Name lookup runs getaddrinfo on the calling thread: it is not ended by
 * the deadline (the resolver's own timeouts apply). */
#define _GNU_SOURCE /* EAI_NODATA, EAI_ADDRFAMILY */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "component/component.h"
#include "wasi3/wasi3.h"

#define UDP WHIRL_WASI2_UDP_SOCKET

/* The largest datagram: a UDP length field's 65535 less its header, for
 * IPv6; IPv4 allows 28 bytes less, which the kernel reports as EMSGSIZE. */
enum { UDP_MAX_PAYLOAD = 65527 };

static whirl_error_t *udp_create(w2_call_t *c)
{
    return w3_sock_create(c, W2_UDP, SOCK_DGRAM);
}

static whirl_error_t *addr_arg(w2_call_t *c, size_t i, struct sockaddr_storage *ss,
                               socklen_t *len)
{
    if (i >= c->nargs)
        return w2_trap(c, "missing the address");
    return w3_addr_from_cval(c, &c->args[i], ss, len);
}

static whirl_error_t *udp_bind(w2_call_t *c)
{
    w3_sock_t *s;
    struct sockaddr_storage ss;
    socklen_t len;
    whirl_error_t *e = w3_arg_sock(c, 0, UDP, &s);
    if (e || (e = addr_arg(c, 1, &ss, &len)))
        return e;
    if (s->state != W3_UNBOUND)
        return w3_err(c->res, W3E_INVALID_STATE, NULL);
    uint32_t bad = w3_check_addr(c, s, (struct sockaddr *)&ss, false);
    if (bad != W3E_NONE)
        return w3_err(c->res, bad, NULL);
    /* No SO_REUSEADDR: on UDP it would let a second socket share the port. */
    if (bind(s->fd, (struct sockaddr *)&ss, len) != 0)
        return w3_err_errno(c->res, errno);
    s->state = W3_BOUND;
    return w3_ok(c->res);
}

/* Dissolves the association (connect to AF_UNSPEC, as POSIX says). */
static int disassociate(w3_sock_t *s)
{
    struct sockaddr sa = {.sa_family = AF_UNSPEC};
    if (connect(s->fd, &sa, sizeof sa) != 0 && errno != EAFNOSUPPORT)
        return -1;
    s->udp_connected = false;
    return 0;
}

static whirl_error_t *udp_connect(w2_call_t *c)
{
    w3_sock_t *s;
    struct sockaddr_storage ss;
    socklen_t len;
    whirl_error_t *e = w3_arg_sock(c, 0, UDP, &s);
    if (e || (e = addr_arg(c, 1, &ss, &len)))
        return e;
    uint32_t bad = w3_check_addr(c, s, (struct sockaddr *)&ss, true);
    if (bad != W3E_NONE)
        return w3_err(c->res, bad, NULL);
    /* Some systems want the old association gone before a new one. */
    if (s->udp_connected && disassociate(s) != 0)
        return w3_err_errno(c->res, errno);
    if (connect(s->fd, (struct sockaddr *)&ss, len) != 0)
        return w3_err_errno(c->res, errno);
    s->udp_connected = true;
    s->state = W3_BOUND; /* implicitly, if it was not */
    memcpy(&s->remote, &ss, len);
    s->remote_len = len;
    return w3_ok(c->res);
}

static whirl_error_t *udp_disconnect(w2_call_t *c)
{
    w3_sock_t *s;
    whirl_error_t *e = w3_arg_sock(c, 0, UDP, &s);
    if (e)
        return e;
    if (!s->udp_connected)
        return w3_err(c->res, W3E_INVALID_STATE, NULL);
    if (disassociate(s) != 0)
        return w3_err_errno(c->res, errno);
    return w3_ok(c->res);
}

static bool same_addr(const struct sockaddr_storage *a, socklen_t alen,
                      const struct sockaddr_storage *b, socklen_t blen)
{
    if (alen != blen || a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
           memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
}

/* send: func(data: list<u8>, remote-address: option<ip-socket-address>) */
static whirl_error_t *udp_send(w2_call_t *c)
{
    w3_sock_t *s;
    const uint8_t *data;
    size_t n;
    whirl_error_t *e = w3_arg_sock(c, 0, UDP, &s);
    if (e || (e = w2_arg_bytes(c, 1, &data, &n)))
        return e;
    const whirl_cval_t *opt = &c->args[2];
    if (opt->kind != WHIRL_CVAL_OPTION || (opt->of.variant.index == 1) != !!opt->of.variant.payload)
        return w2_trap(c, "parameter 2 is not an option<ip-socket-address>");
    struct sockaddr_storage ss;
    socklen_t len = 0;
    bool to = opt->of.variant.index == 1;
    if (to && (e = w3_addr_from_cval(c, opt->of.variant.payload, &ss, &len)))
        return e;
    if (!to && !s->udp_connected)
        return w3_err(c->res, W3E_INVALID_ARGUMENT, NULL);
    if (to) {
        uint32_t bad = w3_check_addr(c, s, (struct sockaddr *)&ss, true);
        if (bad == W3E_NONE && s->udp_connected &&
            !same_addr(&ss, len, &s->remote, s->remote_len))
            bad = W3E_INVALID_ARGUMENT;
        if (bad != W3E_NONE)
            return w3_err(c->res, bad, NULL);
    } else if (!w3_net_allows(&c->w->net, (struct sockaddr *)&s->remote)) {
        /* The policy may be stricter than it was at connect (it is not
         * today: contexts never change it); check every datagram anyway. */
        return w3_err(c->res, W3E_ACCESS_DENIED, NULL);
    }
    if (n > UDP_MAX_PAYLOAD)
        return w3_err(c->res, W3E_DATAGRAM_TOO_LARGE, NULL);
    for (;;) {
        ssize_t r = s->udp_connected ? send(s->fd, data, n, 0)
                                     : sendto(s->fd, data, n, 0, (struct sockaddr *)&ss, len);
        if (r >= 0)
            break;
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return w3_err_errno(c->res, errno);
        if (errno != EINTR && (e = w3_wait_fd(c, s->fd, POLLOUT)))
            return e;
    }
    s->state = W3_BOUND; /* the kernel bound it, if it was not */
    return w3_ok(c->res);
}

/* One non-blocking receive into `res` (result<tuple<list<u8>,
 * ip-socket-address>, error-code>); *again: nothing was queued. */
static whirl_error_t *recv_once(w3_sock_t *s, whirl_cval_t *res, bool *again)
{
    uint8_t *buf = malloc(65536);
    if (!buf)
        return w2_oom();
    struct sockaddr_storage ss;
    socklen_t len;
    ssize_t r;
    *again = false;
    do {
        len = sizeof ss;
        r = recvfrom(s->fd, buf, 65536, 0, (struct sockaddr *)&ss, &len);
    } while (r < 0 && errno == EINTR);
    whirl_error_t *e = NULL;
    if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            *again = true;
        else
            e = w3_err_errno(res, errno);
        free(buf);
        return e;
    }
    whirl_cval_t *p;
    if (!(e = w2_ok(res, &p)) && !(e = whirl_cval_set_items(p, WHIRL_CVAL_TUPLE, 2)) &&
        !(e = whirl_cval_set_bytes(&p->of.list.items[0], buf, (size_t)r)))
        e = w3_addr_to_cval(&p->of.list.items[1], (struct sockaddr *)&ss);
    free(buf);
    return e;
}

/* A receive waiting for a datagram as a subtask (component/subtask.c). The
 * socket stays: the guest lent its handle to the call, so it cannot drop
 * it before the subtask resolves. */
typedef struct udp_recv {
    whirl_wasi2_t *w;
    w3_sock_t *s;
} udp_recv_t;

static size_t recv_watch(void *env, struct pollfd *pfd, uint64_t *deadline)
{
    udp_recv_t *u = env;
    (void)deadline;
    pfd[0] = (struct pollfd){.fd = u->s->fd, .events = POLLIN};
    pfd[1] = (struct pollfd){.fd = u->w->wake_fd, .events = POLLIN};
    return 2;
}

static whirl_error_t *recv_poll(void *env, whirl_store_t *store, whirl_cval_t *result,
                                bool *done)
{
    (void)store;
    udp_recv_t *u = env;
    if (atomic_load(&u->w->interrupted))
        return whirl_trap_new(WHIRL_TRAP_INTERRUPT, "interrupted while the guest waited in "
                              "udp-socket.receive");
    uint64_t n; /* drained, as w2_wait drains it */
    (void)!read(u->w->wake_fd, &n, sizeof n);
    bool again;
    whirl_error_t *e = recv_once(u->s, result, &again);
    *done = !e && !again;
    return e;
}

static const csub_host_ops_t recv_ops = {recv_watch, recv_poll, free};

/* receive: func() -> result<tuple<list<u8>, ip-socket-address>, error-code>.
 * With nothing queued: a subtask when called through an async lower, else
 * the calling thread waits (ended by the store's deadline). */
static whirl_error_t *udp_receive(w2_call_t *c)
{
    w3_sock_t *s;
    whirl_error_t *e = w3_arg_sock(c, 0, UDP, &s);
    if (e)
        return e;
    if (s->state != W3_BOUND)
        return w3_err(c->res, W3E_INVALID_STATE, NULL);
    for (;;) {
        bool again;
        if ((e = recv_once(s, c->res, &again)) || !again)
            return e;
        if (csub_can_defer()) {
            udp_recv_t *u = malloc(sizeof *u);
            if (!u)
                return w2_oom();
            *u = (udp_recv_t){c->w, s};
            csub_defer(&recv_ops, u);
            return NULL;
        }
        if ((e = w3_wait_fd(c, s->fd, POLLIN)))
            return e;
    }
}

static whirl_error_t *udp_local(w2_call_t *c)
{
    w3_sock_t *s;
    whirl_error_t *e = w3_arg_sock(c, 0, UDP, &s);
    return e ? e : w3_answer_local(c, s);
}

static whirl_error_t *udp_remote(w2_call_t *c)
{
    w3_sock_t *s;
    whirl_error_t *e = w3_arg_sock(c, 0, UDP, &s);
    if (e)
        return e;
    if (!s->udp_connected)
        return w3_err(c->res, W3E_INVALID_STATE, NULL);
    whirl_cval_t *p;
    return (e = w2_ok(c->res, &p)) ? e : w3_addr_to_cval(p, (struct sockaddr *)&s->remote);
}

static whirl_error_t *udp_family(w2_call_t *c) { return w3_get_family(c, UDP); }
static whirl_error_t *udp_get_hops(w2_call_t *c) { return w3_get_hop_limit(c, UDP); }
static whirl_error_t *udp_set_hops(w2_call_t *c) { return w3_set_hop_limit(c, UDP); }
static whirl_error_t *udp_get_rcvbuf(w2_call_t *c) { return w3_get_buffer(c, UDP, SO_RCVBUF); }
static whirl_error_t *udp_set_rcvbuf(w2_call_t *c) { return w3_set_buffer(c, UDP, SO_RCVBUF); }
static whirl_error_t *udp_get_sndbuf(w2_call_t *c) { return w3_get_buffer(c, UDP, SO_SNDBUF); }
static whirl_error_t *udp_set_sndbuf(w2_call_t *c) { return w3_set_buffer(c, UDP, SO_SNDBUF); }

/* ------------------------------------------------------------------ */
/* ip-name-lookup                                                      */
/* ------------------------------------------------------------------ */

/* ip-name-lookup's own error-code cases. */
enum {
    LOOKUP_ACCESS_DENIED = 0, LOOKUP_INVALID_ARGUMENT, LOOKUP_NAME_UNRESOLVABLE,
    LOOKUP_TEMPORARY_FAILURE, LOOKUP_PERMANENT_FAILURE, LOOKUP_OTHER,
};

static whirl_error_t *lookup_err(whirl_cval_t *v, uint32_t code, const char *message)
{
    whirl_error_t *e = whirl_cval_set_case(v, WHIRL_CVAL_RESULT, 1, true);
    if (e)
        return e;
    whirl_cval_t *p = v->of.variant.payload;
    if (code != LOOKUP_OTHER)
        return whirl_cval_set_case(p, WHIRL_CVAL_VARIANT, code, false);
    whirl_cval_t *opt;
    if ((e = whirl_cval_set_case(p, WHIRL_CVAL_VARIANT, LOOKUP_OTHER, true)))
        return e;
    opt = p->of.variant.payload;
    if ((e = whirl_cval_set_case(opt, WHIRL_CVAL_OPTION, 1, true)))
        return e;
    return whirl_cval_set_string(opt->of.variant.payload, message, strlen(message));
}

/* An ip-address (not a socket address) into `v`. */
static whirl_error_t *ip_to_cval(whirl_cval_t *v, const struct sockaddr *sa)
{
    bool v6 = sa->sa_family == AF_INET6;
    whirl_error_t *e = whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, v6, true);
    whirl_cval_t *t = e ? NULL : v->of.variant.payload;
    if (e || (e = whirl_cval_set_items(t, WHIRL_CVAL_TUPLE, v6 ? 8 : 4)))
        return e;
    const uint8_t *a = v6 ? (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                          : (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
    for (size_t i = 0; i < (v6 ? 8u : 4u); i++)
        w2_set_uint(&t->of.list.items[i], v6 ? WHIRL_CVAL_U16 : WHIRL_CVAL_U8,
                    v6 ? ((uint64_t)a[2 * i] << 8 | a[2 * i + 1]) : a[i]);
    return NULL;
}

/* A name the resolver may see: 1-253 bytes of printable ASCII without
 * spaces (no IDNA conversion: non-ASCII names are refused). */
static bool valid_name(const char *s, size_t len)
{
    if (len == 0 || len > 253)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return false;
    return true;
}

enum { LOOKUP_MAX_RESULTS = 64 };

static whirl_error_t *resolve_addresses(w2_call_t *c)
{
    const char *name;
    size_t len;
    whirl_error_t *e = w2_arg_string(c, 0, &name, &len);
    if (e)
        return e;
    if (!w3_net_any(&c->w->net))
        return lookup_err(c->res, LOOKUP_ACCESS_DENIED, NULL);
    /* A literal like "[::1]" is not a name; strip the brackets. */
    char host[256];
    if (len >= 2 && name[0] == '[' && name[len - 1] == ']')
        name++, len -= 2;
    if (!valid_name(name, len))
        return lookup_err(c->res, LOOKUP_INVALID_ARGUMENT, NULL);
    memcpy(host, name, len);
    host[len] = '\0';
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM}, *res = NULL;
    int r = getaddrinfo(host, NULL, &hints, &res);
    if (r != 0) {
        uint32_t code = r == EAI_NONAME || r == EAI_NODATA || r == EAI_ADDRFAMILY
                            ? LOOKUP_NAME_UNRESOLVABLE
                        : r == EAI_AGAIN ? LOOKUP_TEMPORARY_FAILURE
                        : r == EAI_FAIL  ? LOOKUP_PERMANENT_FAILURE
                                         : LOOKUP_OTHER;
        return lookup_err(c->res, code, gai_strerror(r));
    }
    size_t n = 0;
    for (struct addrinfo *a = res; a && n < LOOKUP_MAX_RESULTS; a = a->ai_next)
        if (a->ai_family == AF_INET ||
            (a->ai_family == AF_INET6 &&
             !IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr)))
            n++;
    if (n == 0) {
        freeaddrinfo(res);
        return lookup_err(c->res, LOOKUP_NAME_UNRESOLVABLE, NULL);
    }
    whirl_cval_t *list;
    if ((e = w2_ok(c->res, &list)) || (e = whirl_cval_set_items(list, WHIRL_CVAL_LIST, n))) {
        freeaddrinfo(res);
        return e;
    }
    size_t i = 0;
    for (struct addrinfo *a = res; a && i < n && !e; a = a->ai_next)
        if (a->ai_family == AF_INET ||
            (a->ai_family == AF_INET6 &&
             !IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr)))
            e = ip_to_cval(&list->of.list.items[i++], a->ai_addr);
    freeaddrinfo(res);
    return e;
}

#define U(name, fn, na, nr) {WHIRL_WASI2_SOCKETS, "wasi:sockets/types", name, fn, na, nr}
const w2_def_t w3_udp_defs[] = {
    U("[static]udp-socket.create", udp_create, 1, 1),
    U("[method]udp-socket.bind", udp_bind, 2, 1),
    U("[method]udp-socket.connect", udp_connect, 2, 1),
    U("[method]udp-socket.disconnect", udp_disconnect, 1, 1),
    U("[method]udp-socket.send", udp_send, 3, 1),
    U("[method]udp-socket.receive", udp_receive, 1, 1),
    U("[method]udp-socket.get-local-address", udp_local, 1, 1),
    U("[method]udp-socket.get-remote-address", udp_remote, 1, 1),
    U("[method]udp-socket.get-address-family", udp_family, 1, 1),
    U("[method]udp-socket.get-unicast-hop-limit", udp_get_hops, 1, 1),
    U("[method]udp-socket.set-unicast-hop-limit", udp_set_hops, 2, 1),
    U("[method]udp-socket.get-receive-buffer-size", udp_get_rcvbuf, 1, 1),
    U("[method]udp-socket.set-receive-buffer-size", udp_set_rcvbuf, 2, 1),
    U("[method]udp-socket.get-send-buffer-size", udp_get_sndbuf, 1, 1),
    U("[method]udp-socket.set-send-buffer-size", udp_set_sndbuf, 2, 1),
    {WHIRL_WASI2_SOCKETS, "wasi:sockets/ip-name-lookup", "resolve-addresses", resolve_addresses,
     1, 1},
};
const size_t w3_udp_ndefs = sizeof w3_udp_defs / sizeof *w3_udp_defs;
