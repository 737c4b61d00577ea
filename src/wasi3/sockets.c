/* wasi:sockets 0.3: what TCP and UDP share (socket objects, addresses,
 * error codes, the options both have, waiting on a descriptor) and the
 * tcp-socket resource.
 *
 * Every address a guest hands in is checked before the host sees it: the
 * socket's family, no IPv4-mapped IPv6 addresses (the sockets are
 * IPV6_V6ONLY: dual stack is refused, as the WIT says), and the context's
 * network policy (net_policy.h), which denies everything unless
 * inherit-network or allow-ip says otherwise.
 *
 * Async functions (connect) complete before they return, as the rest of
 * the 0.3 host does (docs/COMPONENT-ASYNC.md): the descriptor is
 * non-blocking and the call waits in w2_wait, which the store's deadline
 * and whirl_wasi2_interrupt end.
 *
 * listen, send and receive move data through stream<T> and future<T>
 * values: sockets_tcp.c. */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "wasi3/wasi3.h"

/* ------------------------------------------------------------------ */
/* Results                                                             */
/* ------------------------------------------------------------------ */

whirl_error_t *w3_ok(whirl_cval_t *v)
{
    return w2_ok(v, NULL);
}

whirl_error_t *w3_err(whirl_cval_t *v, uint32_t code, const char *message)
{
    whirl_error_t *e = whirl_cval_set_case(v, WHIRL_CVAL_RESULT, 1, true);
    if (e)
        return e;
    whirl_cval_t *p = v->of.variant.payload;
    if (code != W3E_OTHER)
        return whirl_cval_set_case(p, WHIRL_CVAL_VARIANT, code, false);
    if ((e = whirl_cval_set_case(p, WHIRL_CVAL_VARIANT, W3E_OTHER, true)))
        return e;
    whirl_cval_t *opt = p->of.variant.payload;
    if ((e = whirl_cval_set_case(opt, WHIRL_CVAL_OPTION, message ? 1 : 0, message != NULL)))
        return e;
    return message ? whirl_cval_set_string(opt->of.variant.payload, message, strlen(message))
                   : NULL;
}

static uint32_t errno_code(int e)
{
    switch (e) {
    case EACCES:
    case EPERM: return W3E_ACCESS_DENIED;
    case EOPNOTSUPP:
    case ENOPROTOOPT:
    case EPFNOSUPPORT:
    case EPROTONOSUPPORT:
    case ESOCKTNOSUPPORT: return W3E_NOT_SUPPORTED;
    case EINVAL:
    case EDESTADDRREQ:
    case EAFNOSUPPORT: return W3E_INVALID_ARGUMENT;
    case ENOMEM:
    case ENOBUFS:
    case EMFILE:
    case ENFILE: return W3E_OUT_OF_MEMORY;
    case ETIMEDOUT: return W3E_TIMEOUT;
    case EISCONN:
    case EALREADY:
    case ENOTCONN: return W3E_INVALID_STATE;
    case EADDRNOTAVAIL: return W3E_ADDRESS_NOT_BINDABLE;
    case EADDRINUSE: return W3E_ADDRESS_IN_USE;
    case EHOSTUNREACH:
    case EHOSTDOWN:
    case ENETDOWN:
    case ENETUNREACH:
    case ENONET: return W3E_REMOTE_UNREACHABLE;
    case ECONNREFUSED: return W3E_CONNECTION_REFUSED;
    case EPIPE: return W3E_CONNECTION_BROKEN;
    case ECONNRESET: return W3E_CONNECTION_RESET;
    case ECONNABORTED: return W3E_CONNECTION_ABORTED;
    case EMSGSIZE: return W3E_DATAGRAM_TOO_LARGE;
    default: return W3E_OTHER;
    }
}

whirl_error_t *w3_err_errno(whirl_cval_t *v, int e)
{
    uint32_t code = errno_code(e);
    return w3_err(v, code, code == W3E_OTHER ? strerror(e) : NULL);
}

/* ------------------------------------------------------------------ */
/* Socket objects                                                      */
/* ------------------------------------------------------------------ */

void w3_sock_free(w3_sock_t *s)
{
    if (!s)
        return;
    close(s->fd);
    free(s);
}

whirl_error_t *w3_sock_create(w2_call_t *c, uint8_t kind, int type)
{
    uint32_t fam;
    whirl_error_t *e = w2_arg_enum(c, 0, &fam);
    if (e)
        return e;
    if (fam > 1)
        return w2_trap(c, "ip-address-family %u does not exist", fam);
    int family = fam == 0 ? AF_INET : AF_INET6;
    if (!w2_fd_room(c->w))
        return w3_err(c->res, W3E_OUT_OF_MEMORY, NULL);
    int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return w3_err_errno(c->res, errno == EAFNOSUPPORT ? EOPNOTSUPP : errno);
    int one = 1;
    if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) {
        int err = errno;
        close(fd);
        return w3_err_errno(c->res, err);
    }
    w3_sock_t *s = calloc(1, sizeof *s);
    if (!s) {
        close(fd);
        return w2_oom();
    }
    s->fd = fd;
    s->family = family;
    s->state = W3_UNBOUND;
    s->backlog = 128;
    w2_obj_t o = {.kind = kind, .holds_fd = true, .u.sock = s};
    uint32_t rep;
    if ((e = w2_obj_add(c->w, &o, &rep))) {
        w3_sock_free(s);
        return e;
    }
    whirl_cval_t *payload;
    if ((e = w2_ok(c->res, &payload))) {
        w2_obj_drop(c->w, rep, kind);
        return e;
    }
    w2_set_own(c, payload, kind == W2_TCP ? WHIRL_WASI2_TCP_SOCKET : WHIRL_WASI2_UDP_SOCKET, rep);
    return NULL;
}

whirl_error_t *w3_arg_sock(w2_call_t *c, size_t i, whirl_wasi2_resource_t which,
                           w3_sock_t **out)
{
    uint32_t rep;
    w2_obj_t *o;
    whirl_error_t *e = w2_arg_obj(c, i, which, &rep, &o);
    if (!e)
        *out = o->u.sock;
    return e;
}

/* ------------------------------------------------------------------ */
/* Addresses                                                           */
/* ------------------------------------------------------------------ */

/* Item `i` of a record/tuple `v` as an unsigned integer of `kind`. */
static bool item_uint(const whirl_cval_t *v, size_t i, whirl_cval_kind_t kind, uint64_t *out)
{
    if (i >= v->of.list.len || v->of.list.items[i].kind != kind)
        return false;
    *out = v->of.list.items[i].of.u;
    return true;
}

static bool is_items(const whirl_cval_t *v, whirl_cval_kind_t kind, size_t len)
{
    return v && v->kind == kind && v->of.list.len == len;
}

whirl_error_t *w3_addr_from_cval(const w2_call_t *c, const whirl_cval_t *v,
                                 struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    const whirl_cval_t *r = v->kind == WHIRL_CVAL_VARIANT ? v->of.variant.payload : NULL;
    uint64_t port, x;
    if (v->kind == WHIRL_CVAL_VARIANT && v->of.variant.index == 0 &&
        is_items(r, WHIRL_CVAL_RECORD, 2) && item_uint(r, 0, WHIRL_CVAL_U16, &port) &&
        is_items(&r->of.list.items[1], WHIRL_CVAL_TUPLE, 4)) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        uint8_t *a = (uint8_t *)&in->sin_addr;
        for (size_t i = 0; i < 4; i++) {
            if (!item_uint(&r->of.list.items[1], i, WHIRL_CVAL_U8, &x))
                goto bad;
            a[i] = (uint8_t)x;
        }
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        *len = sizeof *in;
        return NULL;
    }
    uint64_t flow, scope;
    if (v->kind == WHIRL_CVAL_VARIANT && v->of.variant.index == 1 &&
        is_items(r, WHIRL_CVAL_RECORD, 4) && item_uint(r, 0, WHIRL_CVAL_U16, &port) &&
        item_uint(r, 1, WHIRL_CVAL_U32, &flow) && item_uint(r, 3, WHIRL_CVAL_U32, &scope) &&
        is_items(&r->of.list.items[2], WHIRL_CVAL_TUPLE, 8)) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        uint8_t *a = (uint8_t *)&in6->sin6_addr;
        for (size_t i = 0; i < 8; i++) {
            if (!item_uint(&r->of.list.items[2], i, WHIRL_CVAL_U16, &x))
                goto bad;
            a[2 * i] = (uint8_t)(x >> 8);
            a[2 * i + 1] = (uint8_t)x;
        }
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        in6->sin6_flowinfo = htonl((uint32_t)flow);
        in6->sin6_scope_id = (uint32_t)scope;
        *len = sizeof *in6;
        return NULL;
    }
bad:
    return w2_trap(c, "the address is not an ip-socket-address as wasi:sockets declares it");
}

whirl_error_t *w3_addr_to_cval(whirl_cval_t *v, const struct sockaddr *sa)
{
    bool v6 = sa->sa_family == AF_INET6;
    whirl_error_t *e = whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, v6, true);
    whirl_cval_t *r = e ? NULL : v->of.variant.payload;
    if (e || (e = whirl_cval_set_items(r, WHIRL_CVAL_RECORD, v6 ? 4 : 2)))
        return e;
    whirl_cval_t *f = r->of.list.items;
    if (!v6) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        const uint8_t *a = (const uint8_t *)&in->sin_addr;
        w2_set_uint(&f[0], WHIRL_CVAL_U16, ntohs(in->sin_port));
        if ((e = whirl_cval_set_items(&f[1], WHIRL_CVAL_TUPLE, 4)))
            return e;
        for (size_t i = 0; i < 4; i++)
            w2_set_uint(&f[1].of.list.items[i], WHIRL_CVAL_U8, a[i]);
        return NULL;
    }
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    const uint8_t *a = (const uint8_t *)&in6->sin6_addr;
    w2_set_uint(&f[0], WHIRL_CVAL_U16, ntohs(in6->sin6_port));
    w2_set_uint(&f[1], WHIRL_CVAL_U32, ntohl(in6->sin6_flowinfo));
    w2_set_uint(&f[3], WHIRL_CVAL_U32, in6->sin6_scope_id);
    if ((e = whirl_cval_set_items(&f[2], WHIRL_CVAL_TUPLE, 8)))
        return e;
    for (size_t i = 0; i < 8; i++)
        w2_set_uint(&f[2].of.list.items[i], WHIRL_CVAL_U16,
                    (uint64_t)a[2 * i] << 8 | a[2 * i + 1]);
    return NULL;
}

static bool is_v4_mapped(const struct sockaddr *sa)
{
    if (sa->sa_family != AF_INET6)
        return false;
    const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    return IN6_IS_ADDR_V4MAPPED(a);
}

static bool is_unspecified(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return ((const struct sockaddr_in *)sa)->sin_addr.s_addr == htonl(INADDR_ANY);
    return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)sa)->sin6_addr);
}

static uint16_t port_of(const struct sockaddr *sa)
{
    return ntohs(sa->sa_family == AF_INET ? ((const struct sockaddr_in *)sa)->sin_port
                                          : ((const struct sockaddr_in6 *)sa)->sin6_port);
}

/* Multicast and (IPv4) broadcast: a TCP socket can neither bind nor
 * connect to them. */
static bool is_non_unicast(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET6)
        return IN6_IS_ADDR_MULTICAST(&((const struct sockaddr_in6 *)sa)->sin6_addr);
    uint32_t a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
    return (a >> 28) == 0xe || a == 0xffffffffu;
}

uint32_t w3_check_addr(const w2_call_t *c, const w3_sock_t *s, const struct sockaddr *sa,
                       bool remote)
{
    if (sa->sa_family != s->family || is_v4_mapped(sa))
        return W3E_INVALID_ARGUMENT;
    if (remote && (is_unspecified(sa) || port_of(sa) == 0))
        return W3E_INVALID_ARGUMENT;
    if (!w3_net_allows(&c->w->net, sa))
        return W3E_ACCESS_DENIED;
    return W3E_NONE;
}

whirl_error_t *w3_answer_local(w2_call_t *c, const w3_sock_t *s)
{
    if (s->state == W3_UNBOUND || s->state == W3_CLOSED)
        return w3_err(c->res, W3E_INVALID_STATE, NULL);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(s->fd, (struct sockaddr *)&ss, &len) != 0)
        return w3_err_errno(c->res, errno);
    whirl_cval_t *p;
    whirl_error_t *e = w2_ok(c->res, &p);
    return e ? e : w3_addr_to_cval(p, (struct sockaddr *)&ss);
}

/* ------------------------------------------------------------------ */
/* Waiting on a descriptor                                             */
/* ------------------------------------------------------------------ */

typedef struct fd_wait {
    int fd;
    short events;
} fd_wait_t;

static bool fd_ready(void *env)
{
    fd_wait_t *f = env;
    struct pollfd p = {.fd = f->fd, .events = f->events};
    return poll(&p, 1, 0) != 0; /* ready, an error or hang-up, or poll failing: look */
}

static int fd_wait_fd(void *env, short *events)
{
    fd_wait_t *f = env;
    *events = f->events;
    return f->fd;
}

static const whirl_wasi2_pollable_ops_t fd_wait_ops = {.ready = fd_ready, .wait_fd = fd_wait_fd};

whirl_error_t *w3_wait_fd(w2_call_t *c, int fd, short events)
{
    fd_wait_t f = {.fd = fd, .events = events};
    w2_pollable_t p = {.type = W2_POLL_HOST, .ops = &fd_wait_ops, .env = &f};
    return w2_wait(c->w, c->store, &p, 1, NULL);
}

/* ------------------------------------------------------------------ */
/* Options both kinds have                                             */
/* ------------------------------------------------------------------ */

static int get_int(int fd, int level, int opt, int *out)
{
    socklen_t len = sizeof *out;
    return getsockopt(fd, level, opt, out, &len);
}

static int set_int(int fd, int level, int opt, int v)
{
    return setsockopt(fd, level, opt, &v, sizeof v);
}

/* Answers result<T, error-code> with unsigned `x` of `kind`. */
static whirl_error_t *ok_uint(w2_call_t *c, whirl_cval_kind_t kind, uint64_t x)
{
    whirl_cval_t *p;
    whirl_error_t *e = w2_ok(c->res, &p);
    if (!e)
        w2_set_uint(p, kind, x);
    return e;
}

whirl_error_t *w3_get_family(w2_call_t *c, whirl_wasi2_resource_t which)
{
    w3_sock_t *s;
    whirl_error_t *e = w3_arg_sock(c, 0, which, &s);
    if (e)
        return e;
    return whirl_cval_set_case(c->res, WHIRL_CVAL_ENUM, s->family == AF_INET6, false);
}

whirl_error_t *w3_get_hop_limit(w2_call_t *c, whirl_wasi2_resource_t which)
{
    w3_sock_t *s;
    whirl_error_t *e = w3_arg_sock(c, 0, which, &s);
    if (e)
        return e;
    int v;
    bool v6 = s->family == AF_INET6;
    if (get_int(s->fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_UNICAST_HOPS : IP_TTL, &v))
        return w3_err_errno(c->res, errno);
    return ok_uint(c, WHIRL_CVAL_U8, v < 1 ? 1 : v > 255 ? 255 : (uint64_t)v);
}

whirl_error_t *w3_set_hop_limit(w2_call_t *c, whirl_wasi2_resource_t which)
{
    w3_sock_t *s;
    uint64_t v;
    whirl_error_t *e = w3_arg_sock(c, 0, which, &s);
    if (e || (e = w2_arg_uint(c, 1, WHIRL_CVAL_U8, &v)))
        return e;
    if (v == 0)
        return w3_err(c->res, W3E_INVALID_ARGUMENT, NULL);
    bool v6 = s->family == AF_INET6;
    if (set_int(s->fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_UNICAST_HOPS : IP_TTL, (int)v))
        return w3_err_errno(c->res, errno);
    return w3_ok(c->res);
}

/* Linux doubles the SO_RCVBUF/SO_SNDBUF value it is given (the rest is its
 * bookkeeping) and reports the doubled size: halve it, so that a guest
 * reads back what it set. */
whirl_error_t *w3_get_buffer(w2_call_t *c, whirl_wasi2_resource_t which, int opt)
{
    w3_sock_t *s;
    whirl_error_t *e = w3_arg_sock(c, 0, which, &s);
    if (e)
        return e;
    int v;
    if (get_int(s->fd, SOL_SOCKET, opt, &v))
        return w3_err_errno(c->res, errno);
    return ok_uint(c, WHIRL_CVAL_U64, v < 2 ? 1 : (uint64_t)v / 2);
}

whirl_error_t *w3_set_buffer(w2_call_t *c, whirl_wasi2_resource_t which, int opt)
{
    w3_sock_t *s;
    uint64_t v;
    whirl_error_t *e = w3_arg_sock(c, 0, which, &s);
    if (e || (e = w2_arg_uint(c, 1, WHIRL_CVAL_U64, &v)))
        return e;
    if (v == 0)
        return w3_err(c->res, W3E_INVALID_ARGUMENT, NULL);
    /* The kernel clamps to its limits; so do we, to what an int holds. */
    if (set_int(s->fd, SOL_SOCKET, opt, v > INT_MAX / 2 ? INT_MAX / 2 : (int)v))
        return w3_err_errno(c->res, errno);
    return w3_ok(c->res);
}

/* ------------------------------------------------------------------ */
/* tcp-socket                                                          */
/* ------------------------------------------------------------------ */

#define TCP WHIRL_WASI2_TCP_SOCKET

static whirl_error_t *tcp_create(w2_call_t *c)
{
    return w3_sock_create(c, W2_TCP, SOCK_STREAM);
}

/* What bind and connect check first: the socket, its address argument,
 * the state (connect also takes a bound socket), then malformed before
 * forbidden (a multicast address is invalid-argument whatever the policy
 * says). Returns a trap, or NULL with *answered set when c->res already
 * holds the error result; otherwise the call goes on with *s and ss. */
static whirl_error_t *tcp_addr_call(w2_call_t *c, bool remote, w3_sock_t **s,
                                    struct sockaddr_storage *ss, socklen_t *len, bool *answered)
{
    *answered = false;
    whirl_error_t *e = w3_arg_sock(c, 0, TCP, s);
    if (e)
        return e;
    if (c->nargs < 2 || (e = w3_addr_from_cval(c, &c->args[1], ss, len)))
        return e ? e : w2_trap(c, "missing the address");
    const struct sockaddr *sa = (const struct sockaddr *)ss;
    uint32_t bad = (*s)->state != W3_UNBOUND && (!remote || (*s)->state != W3_BOUND)
                       ? W3E_INVALID_STATE
                   : is_non_unicast(sa) ? W3E_INVALID_ARGUMENT
                                        : w3_check_addr(c, *s, sa, remote);
    *answered = bad != W3E_NONE;
    return *answered ? w3_err(c->res, bad, NULL) : NULL;
}

static whirl_error_t *tcp_bind(w2_call_t *c)
{
    w3_sock_t *s;
    struct sockaddr_storage ss;
    socklen_t len;
    bool answered;
    whirl_error_t *e = tcp_addr_call(c, false, &s, &ss, &len, &answered);
    if (e || answered)
        return e;
    const struct sockaddr *sa = (const struct sockaddr *)&ss;
    /* The WIT asks for binds unaffected by a recent socket's TIME_WAIT:
     * SO_REUSEADDR, which on Linux still refuses a port someone listens on. */
    if (set_int(s->fd, SOL_SOCKET, SO_REUSEADDR, 1) != 0 || bind(s->fd, sa, len) != 0)
        return w3_err_errno(c->res, errno);
    s->state = W3_BOUND;
    return w3_ok(c->res);
}

static whirl_error_t *tcp_connect(w2_call_t *c)
{
    w3_sock_t *s;
    struct sockaddr_storage ss;
    socklen_t len;
    bool answered;
    whirl_error_t *e = tcp_addr_call(c, true, &s, &ss, &len, &answered);
    if (e || answered)
        return e;
    const struct sockaddr *sa = (const struct sockaddr *)&ss;
    int r = connect(s->fd, sa, len);
    if (r != 0 && errno == EINPROGRESS) {
        s->state = W3_CONNECTING;
        if ((e = w3_wait_fd(c, s->fd, POLLOUT)))
            return e; /* a deadline or interrupt trap: the guest is done */
        int soerr = 0;
        if (get_int(s->fd, SOL_SOCKET, SO_ERROR, &soerr) != 0)
            soerr = errno;
        r = soerr ? -1 : 0;
        errno = soerr;
    }
    if (r != 0) {
        int err = errno;
        s->state = W3_CLOSED; /* one attempt per socket, as the WIT says */
        return w3_err_errno(c->res, err);
    }
    s->state = W3_CONNECTED;
    return w3_ok(c->res);
}

static whirl_error_t *tcp_local(w2_call_t *c)
{
    w3_sock_t *s;
    whirl_error_t *e = w3_arg_sock(c, 0, TCP, &s);
    return e ? e : w3_answer_local(c, s);
}

static whirl_error_t *tcp_remote(w2_call_t *c)
{
    w3_sock_t *s;
    whirl_error_t *e = w3_arg_sock(c, 0, TCP, &s);
    if (e)
        return e;
    if (s->state != W3_CONNECTED)
        return w3_err(c->res, W3E_INVALID_STATE, NULL);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getpeername(s->fd, (struct sockaddr *)&ss, &len) != 0)
        return w3_err_errno(c->res, errno);
    whirl_cval_t *p;
    return (e = w2_ok(c->res, &p)) ? e : w3_addr_to_cval(p, (struct sockaddr *)&ss);
}

static whirl_error_t *tcp_is_listening(w2_call_t *c)
{
    w3_sock_t *s;
    whirl_error_t *e = w3_arg_sock(c, 0, TCP, &s);
    if (!e)
        w2_set_bool(c->res, s->state == W3_LISTENING);
    return e;
}

static whirl_error_t *tcp_family(w2_call_t *c)
{
    return w3_get_family(c, TCP);
}

static whirl_error_t *tcp_set_backlog(w2_call_t *c)
{
    w3_sock_t *s;
    uint64_t v;
    whirl_error_t *e = w3_arg_sock(c, 0, TCP, &s);
    if (e || (e = w2_arg_uint(c, 1, WHIRL_CVAL_U64, &v)))
        return e;
    if (v == 0)
        return w3_err(c->res, W3E_INVALID_ARGUMENT, NULL);
    if (s->state == W3_CONNECTING || s->state == W3_CONNECTED || s->state == W3_CLOSED)
        return w3_err(c->res, W3E_INVALID_STATE, NULL);
    s->backlog = v > SOMAXCONN * 64 ? SOMAXCONN * 64 : (int)v; /* the kernel clamps further */
    if (s->state == W3_LISTENING && listen(s->fd, s->backlog) != 0)
        return w3_err_errno(c->res, errno);
    return w3_ok(c->res);
}

static whirl_error_t *tcp_get_keepalive(w2_call_t *c)
{
    w3_sock_t *s;
    whirl_error_t *e = w3_arg_sock(c, 0, TCP, &s);
    if (e)
        return e;
    int v;
    if (get_int(s->fd, SOL_SOCKET, SO_KEEPALIVE, &v))
        return w3_err_errno(c->res, errno);
    whirl_cval_t *p;
    if (!(e = w2_ok(c->res, &p)))
        w2_set_bool(p, v != 0);
    return e;
}

static whirl_error_t *tcp_set_keepalive(w2_call_t *c)
{
    w3_sock_t *s;
    bool b;
    whirl_error_t *e = w3_arg_sock(c, 0, TCP, &s);
    if (e || (e = w2_arg_bool(c, 1, &b)))
        return e;
    if (set_int(s->fd, SOL_SOCKET, SO_KEEPALIVE, b))
        return w3_err_errno(c->res, errno);
    return w3_ok(c->res);
}

/* TCP_KEEPIDLE and TCP_KEEPINTVL are whole seconds, at most 32767 on
 * Linux; TCP_KEEPCNT at most 127. Guests give durations in nanoseconds
 * and any count: round up, then clamp. */
enum { KEEPALIVE_MAX_SECS = 32767, KEEPALIVE_MAX_COUNT = 127 };

static whirl_error_t *tcp_get_keep(w2_call_t *c, int opt)
{
    w3_sock_t *s;
    whirl_error_t *e = w3_arg_sock(c, 0, TCP, &s);
    if (e)
        return e;
    int v;
    if (get_int(s->fd, IPPROTO_TCP, opt, &v))
        return w3_err_errno(c->res, errno);
    if (v < 0)
        v = 0;
    if (opt == TCP_KEEPCNT)
        return ok_uint(c, WHIRL_CVAL_U32, (uint64_t)v);
    return ok_uint(c, WHIRL_CVAL_U64, (uint64_t)v * 1000000000u);
}

static whirl_error_t *tcp_set_keep(w2_call_t *c, int opt)
{
    w3_sock_t *s;
    uint64_t v;
    whirl_error_t *e = w3_arg_sock(c, 0, TCP, &s);
    if (e || (e = w2_arg_uint(c, 1, opt == TCP_KEEPCNT ? WHIRL_CVAL_U32 : WHIRL_CVAL_U64, &v)))
        return e;
    if (v == 0)
        return w3_err(c->res, W3E_INVALID_ARGUMENT, NULL);
    uint64_t n = opt == TCP_KEEPCNT ? v : v / 1000000000u + (v % 1000000000u != 0);
    uint64_t max = opt == TCP_KEEPCNT ? KEEPALIVE_MAX_COUNT : KEEPALIVE_MAX_SECS;
    if (set_int(s->fd, IPPROTO_TCP, opt, (int)(n > max ? max : n)))
        return w3_err_errno(c->res, errno);
    return w3_ok(c->res);
}

static whirl_error_t *tcp_get_idle(w2_call_t *c) { return tcp_get_keep(c, TCP_KEEPIDLE); }
static whirl_error_t *tcp_set_idle(w2_call_t *c) { return tcp_set_keep(c, TCP_KEEPIDLE); }
static whirl_error_t *tcp_get_intvl(w2_call_t *c) { return tcp_get_keep(c, TCP_KEEPINTVL); }
static whirl_error_t *tcp_set_intvl(w2_call_t *c) { return tcp_set_keep(c, TCP_KEEPINTVL); }
static whirl_error_t *tcp_get_count(w2_call_t *c) { return tcp_get_keep(c, TCP_KEEPCNT); }
static whirl_error_t *tcp_set_count(w2_call_t *c) { return tcp_set_keep(c, TCP_KEEPCNT); }
static whirl_error_t *tcp_get_hops(w2_call_t *c) { return w3_get_hop_limit(c, TCP); }
static whirl_error_t *tcp_set_hops(w2_call_t *c) { return w3_set_hop_limit(c, TCP); }
static whirl_error_t *tcp_get_rcvbuf(w2_call_t *c) { return w3_get_buffer(c, TCP, SO_RCVBUF); }
static whirl_error_t *tcp_set_rcvbuf(w2_call_t *c) { return w3_set_buffer(c, TCP, SO_RCVBUF); }
static whirl_error_t *tcp_get_sndbuf(w2_call_t *c) { return w3_get_buffer(c, TCP, SO_SNDBUF); }
static whirl_error_t *tcp_set_sndbuf(w2_call_t *c) { return w3_set_buffer(c, TCP, SO_SNDBUF); }

#define T(name, fn, na, nr) {WHIRL_WASI2_SOCKETS, "wasi:sockets/types", name, fn, na, nr}
const w2_def_t w3_tcp_defs[] = {
    T("[static]tcp-socket.create", tcp_create, 1, 1),
    T("[method]tcp-socket.bind", tcp_bind, 2, 1),
    T("[method]tcp-socket.connect", tcp_connect, 2, 1),
    T("[method]tcp-socket.listen", w3_tcp_listen, 1, 1),
    T("[method]tcp-socket.send", w3_tcp_send, 2, 1),
    T("[method]tcp-socket.receive", w3_tcp_receive, 1, 1),
    T("[method]tcp-socket.get-local-address", tcp_local, 1, 1),
    T("[method]tcp-socket.get-remote-address", tcp_remote, 1, 1),
    T("[method]tcp-socket.get-is-listening", tcp_is_listening, 1, 1),
    T("[method]tcp-socket.get-address-family", tcp_family, 1, 1),
    T("[method]tcp-socket.set-listen-backlog-size", tcp_set_backlog, 2, 1),
    T("[method]tcp-socket.get-keep-alive-enabled", tcp_get_keepalive, 1, 1),
    T("[method]tcp-socket.set-keep-alive-enabled", tcp_set_keepalive, 2, 1),
    T("[method]tcp-socket.get-keep-alive-idle-time", tcp_get_idle, 1, 1),
    T("[method]tcp-socket.set-keep-alive-idle-time", tcp_set_idle, 2, 1),
    T("[method]tcp-socket.get-keep-alive-interval", tcp_get_intvl, 1, 1),
    T("[method]tcp-socket.set-keep-alive-interval", tcp_set_intvl, 2, 1),
    T("[method]tcp-socket.get-keep-alive-count", tcp_get_count, 1, 1),
    T("[method]tcp-socket.set-keep-alive-count", tcp_set_count, 2, 1),
    T("[method]tcp-socket.get-hop-limit", tcp_get_hops, 1, 1),
    T("[method]tcp-socket.set-hop-limit", tcp_set_hops, 2, 1),
    T("[method]tcp-socket.get-receive-buffer-size", tcp_get_rcvbuf, 1, 1),
    T("[method]tcp-socket.set-receive-buffer-size", tcp_set_rcvbuf, 2, 1),
    T("[method]tcp-socket.get-send-buffer-size", tcp_get_sndbuf, 1, 1),
    T("[method]tcp-socket.set-send-buffer-size", tcp_set_sndbuf, 2, 1),
};
const size_t w3_tcp_ndefs = sizeof w3_tcp_defs / sizeof *w3_tcp_defs;
