/* wasi:sockets 0.3's host functions (src/wasi3/sockets*.c) called directly,
 * as the component linker's trampoline calls them, over a real WASI context
 * and store: what the shared suite cannot reach yet (TCP connect to a
 * listener of ours, get-remote-address, UDP receive, name lookup) and what
 * it does not try (the policy on TCP, denial of name lookup, malformed
 * addresses and handles, a receive ended by the store's deadline).
 * Everything on loopback. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wasi3/wasi3.h"

static int passed, failed;

#define CHECK(cond, ...)                                \
    do {                                                \
        if (cond) {                                     \
            passed++;                                   \
        } else {                                        \
            failed++;                                   \
            printf("FAIL %s:%d: ", __FILE__, __LINE__); \
            printf(__VA_ARGS__);                        \
            printf("\n");                               \
        }                                               \
    } while (0)

static whirl_wasi2_host_t *host;
static whirl_store_t *store;

static const w2_def_t *find(const char *name)
{
    for (size_t i = 0; i < w3_tcp_ndefs; i++)
        if (strcmp(w3_tcp_defs[i].name, name) == 0)
            return &w3_tcp_defs[i];
    for (size_t i = 0; i < w3_udp_ndefs; i++)
        if (strcmp(w3_udp_defs[i].name, name) == 0)
            return &w3_udp_defs[i];
    printf("no function %s\n", name);
    exit(1);
}

/* Calls `name` with `args`; *res receives the result (released first).
 * Returns the trap, if any. */
static whirl_error_t *call(whirl_wasi2_t *w, const char *name, const whirl_cval_t *args,
                           size_t nargs, whirl_cval_t *res)
{
    const w2_def_t *d = find(name);
    whirl_cval_release(res);
    memset(res, 0, sizeof *res);
    w2_call_t c = {.host = host, .w = w, .store = store, .iface = d->iface, .name = d->name,
                   .args = args, .nargs = nargs, .res = res};
    return d->fn(&c);
}

/* The error-code case of an err result, -1 for ok, -2 for anything else. */
static int code_of(const whirl_cval_t *r)
{
    if (r->kind != WHIRL_CVAL_RESULT)
        return -2;
    if (r->of.variant.index == 0)
        return -1;
    const whirl_cval_t *p = r->of.variant.payload;
    return p && p->kind == WHIRL_CVAL_VARIANT ? (int)p->of.variant.index : -2;
}

static whirl_cval_t handle(whirl_wasi2_resource_t which, uint32_t rep)
{
    whirl_cval_t v = {.kind = WHIRL_CVAL_BORROW};
    v.of.resource.type = whirl_wasi2_host_resource_type(host, which);
    v.of.resource.rep = rep;
    return v;
}

/* Creates a socket; returns its rep (0 on failure). */
static uint32_t create(whirl_wasi2_t *w, bool tcp, bool v6)
{
    whirl_cval_t fam = {.kind = WHIRL_CVAL_ENUM}, res = {0};
    fam.of.variant.index = v6;
    whirl_error_t *e = call(w, tcp ? "[static]tcp-socket.create" : "[static]udp-socket.create",
                            &fam, 1, &res);
    uint32_t rep = 0;
    if (!e && code_of(&res) == -1)
        rep = res.of.variant.payload->of.resource.rep;
    CHECK(rep, "create %s%s: %s", tcp ? "tcp" : "udp", v6 ? "6" : "4",
          e ? whirl_error_message(e) : "error result");
    whirl_error_delete(e);
    whirl_cval_release(&res);
    return rep;
}

/* An ip-socket-address for 127.0.0.1-style bytes or ::1-style words. */
static void addr4(whirl_cval_t *v, uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
    memset(v, 0, sizeof *v);
    whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, 0, true);
    whirl_cval_t *r = v->of.variant.payload;
    whirl_cval_set_items(r, WHIRL_CVAL_RECORD, 2);
    w2_set_uint(&r->of.list.items[0], WHIRL_CVAL_U16, port);
    whirl_cval_t *t = &r->of.list.items[1];
    whirl_cval_set_items(t, WHIRL_CVAL_TUPLE, 4);
    uint8_t x[4] = {a, b, c, d};
    for (int i = 0; i < 4; i++)
        w2_set_uint(&t->of.list.items[i], WHIRL_CVAL_U8, x[i]);
}

static void addr6_loopback(whirl_cval_t *v, uint16_t port)
{
    memset(v, 0, sizeof *v);
    whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, 1, true);
    whirl_cval_t *r = v->of.variant.payload;
    whirl_cval_set_items(r, WHIRL_CVAL_RECORD, 4);
    w2_set_uint(&r->of.list.items[0], WHIRL_CVAL_U16, port);
    w2_set_uint(&r->of.list.items[1], WHIRL_CVAL_U32, 0);
    w2_set_uint(&r->of.list.items[3], WHIRL_CVAL_U32, 0);
    whirl_cval_t *t = &r->of.list.items[2];
    whirl_cval_set_items(t, WHIRL_CVAL_TUPLE, 8);
    for (int i = 0; i < 8; i++)
        w2_set_uint(&t->of.list.items[i], WHIRL_CVAL_U16, i == 7);
}

/* Calls a method taking (self, address): the error-code case or -1. */
static int with_addr(whirl_wasi2_t *w, const char *name, whirl_wasi2_resource_t which,
                     uint32_t rep, whirl_cval_t *addr)
{
    whirl_cval_t args[2] = {handle(which, rep), *addr}, res = {0};
    whirl_error_t *e = call(w, name, args, 2, &res);
    int code = e ? -3 : code_of(&res);
    if (e)
        printf("  %s trapped: %s\n", name, whirl_error_message(e));
    whirl_error_delete(e);
    whirl_cval_release(&res);
    return code;
}

static uint16_t port_of_result(const whirl_cval_t *res)
{
    const whirl_cval_t *a = res->of.variant.payload;            /* ip-socket-address */
    const whirl_cval_t *r = a->of.variant.payload;              /* record */
    return (uint16_t)r->of.list.items[0].of.u;
}

static whirl_wasi2_t *context(bool network)
{
    whirl_wasi2_config_t *cfg = whirl_wasi2_config_new();
    if (network)
        whirl_wasi2_config_allow_ip(cfg, "127.0.0.0/8");
    whirl_wasi2_t *w = NULL;
    whirl_error_t *e = whirl_wasi2_new(cfg, &w);
    CHECK(!e, "context");
    whirl_error_delete(e);
    return w;
}

static void test_tcp_connect(void)
{
    whirl_wasi2_t *w = context(true);
    /* Our listener, on a port the kernel picks. */
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t slen = sizeof sin;
    CHECK(lfd >= 0 && bind(lfd, (struct sockaddr *)&sin, sizeof sin) == 0 && listen(lfd, 4) == 0 &&
              getsockname(lfd, (struct sockaddr *)&sin, &slen) == 0,
          "our listener");
    uint16_t port = ntohs(sin.sin_port);

    uint32_t s = create(w, true, false);
    whirl_cval_t a, res = {0}, res2 = {0}, self = handle(WHIRL_WASI2_TCP_SOCKET, s);
    whirl_error_t *e = call(w, "[method]tcp-socket.get-remote-address", &self, 1, &res);
    CHECK(!e && code_of(&res) == W3E_INVALID_STATE, "remote address before connect");
    whirl_error_delete(e);
    addr4(&a, 127, 0, 0, 1, 0);
    CHECK(with_addr(w, "[method]tcp-socket.connect", WHIRL_WASI2_TCP_SOCKET, s, &a) ==
              W3E_INVALID_ARGUMENT,
          "connect to port 0");
    whirl_cval_release(&a);
    addr4(&a, 0, 0, 0, 0, port);
    CHECK(with_addr(w, "[method]tcp-socket.connect", WHIRL_WASI2_TCP_SOCKET, s, &a) ==
              W3E_INVALID_ARGUMENT,
          "connect to 0.0.0.0");
    whirl_cval_release(&a);
    addr4(&a, 224, 0, 0, 1, port);
    CHECK(with_addr(w, "[method]tcp-socket.connect", WHIRL_WASI2_TCP_SOCKET, s, &a) ==
              W3E_INVALID_ARGUMENT,
          "connect to multicast");
    whirl_cval_release(&a);
    addr4(&a, 10, 0, 0, 1, port);
    CHECK(with_addr(w, "[method]tcp-socket.connect", WHIRL_WASI2_TCP_SOCKET, s, &a) ==
              W3E_ACCESS_DENIED,
          "connect outside allow-ip 127.0.0.0/8");
    whirl_cval_release(&a);
    addr6_loopback(&a, port);
    CHECK(with_addr(w, "[method]tcp-socket.connect", WHIRL_WASI2_TCP_SOCKET, s, &a) ==
              W3E_INVALID_ARGUMENT,
          "connect an IPv4 socket to an IPv6 address");
    whirl_cval_release(&a);
    addr4(&a, 127, 0, 0, 1, port);
    CHECK(with_addr(w, "[method]tcp-socket.connect", WHIRL_WASI2_TCP_SOCKET, s, &a) == -1,
          "connect to our listener");
    CHECK(with_addr(w, "[method]tcp-socket.connect", WHIRL_WASI2_TCP_SOCKET, s, &a) ==
              W3E_INVALID_STATE,
          "connect twice");
    CHECK(with_addr(w, "[method]tcp-socket.bind", WHIRL_WASI2_TCP_SOCKET, s, &a) ==
              W3E_INVALID_STATE,
          "bind a connected socket");
    whirl_cval_release(&a);
    e = call(w, "[method]tcp-socket.get-remote-address", &self, 1, &res);
    CHECK(!e && code_of(&res) == -1 && port_of_result(&res) == port, "remote address");
    whirl_error_delete(e);
    e = call(w, "[method]tcp-socket.get-local-address", &self, 1, &res);
    CHECK(!e && code_of(&res) == -1 && port_of_result(&res) != 0, "implicit local address");
    whirl_error_delete(e);
    e = call(w, "[method]tcp-socket.get-is-listening", &self, 1, &res);
    CHECK(!e && res.kind == WHIRL_CVAL_BOOL && !res.of.b, "not listening");
    whirl_error_delete(e);
    e = call(w, "[method]tcp-socket.listen", &self, 1, &res);
    CHECK(!e && code_of(&res) == W3E_INVALID_STATE, "listen on a connected socket");
    whirl_error_delete(e);
    whirl_cval_t args2[2] = {self, {.kind = WHIRL_CVAL_U64, .of.u = 5}};
    e = call(w, "[method]tcp-socket.set-listen-backlog-size", args2, 2, &res);
    CHECK(!e && code_of(&res) == W3E_INVALID_STATE, "backlog of a connected socket");
    whirl_error_delete(e);
    /* receive: a stream and its future (read by guests: tests/wasi3). */
    e = call(w, "[method]tcp-socket.receive", &self, 1, &res);
    CHECK(!e && res.kind == WHIRL_CVAL_TUPLE && res.of.list.len == 2 &&
              res.of.list.items[0].kind == WHIRL_CVAL_STREAM &&
              res.of.list.items[1].kind == WHIRL_CVAL_FUTURE,
          "receive returns a stream and a future");
    whirl_error_delete(e);
    /* send takes a stream a guest writes (tests/wasi3 sends); anything
     * else traps clearly. */
    whirl_cval_t sargs[2] = {self, {.kind = WHIRL_CVAL_U32}};
    e = call(w, "[method]tcp-socket.send", sargs, 2, &res2);
    CHECK(e && strstr(whirl_error_message(e), "not a stream"), "send without a stream traps");
    whirl_error_delete(e);
    whirl_cval_release(&res2);

    /* A refused connect leaves the socket closed: only drop remains. */
    uint32_t s2 = create(w, true, false);
    close(lfd); /* nobody listens on `port` now */
    addr4(&a, 127, 0, 0, 1, port);
    CHECK(with_addr(w, "[method]tcp-socket.connect", WHIRL_WASI2_TCP_SOCKET, s2, &a) ==
              W3E_CONNECTION_REFUSED,
          "connect refused");
    CHECK(with_addr(w, "[method]tcp-socket.connect", WHIRL_WASI2_TCP_SOCKET, s2, &a) ==
              W3E_INVALID_STATE,
          "connect after a failed connect");
    whirl_cval_release(&a);
    uint32_t s3 = create(w, true, false);
    whirl_cval_t self3 = handle(WHIRL_WASI2_TCP_SOCKET, s3);
    e = call(w, "[method]tcp-socket.listen", &self3, 1, &res);
    CHECK(!e && code_of(&res) == W3E_ACCESS_DENIED,
          "listen unbound: on the unspecified address, outside allow-ip");
    whirl_error_delete(e);
    addr4(&a, 127, 0, 0, 1, 0);
    CHECK(with_addr(w, "[method]tcp-socket.bind", WHIRL_WASI2_TCP_SOCKET, s3, &a) == -1,
          "bind to loopback");
    whirl_cval_release(&a);
    e = call(w, "[method]tcp-socket.listen", &self3, 1, &res);
    CHECK(!e && code_of(&res) == -1 && res.of.variant.payload &&
              res.of.variant.payload->kind == WHIRL_CVAL_STREAM,
          "listen: a stream of sockets");
    whirl_error_delete(e);
    e = call(w, "[method]tcp-socket.get-is-listening", &self3, 1, &res2);
    CHECK(!e && res2.kind == WHIRL_CVAL_BOOL && res2.of.b, "listening");
    whirl_error_delete(e);
    e = call(w, "[method]tcp-socket.listen", &self3, 1, &res2);
    CHECK(!e && code_of(&res2) == W3E_INVALID_STATE, "listen twice");
    whirl_error_delete(e);
    whirl_cval_release(&res2);
    whirl_cval_release(&res);
    CHECK(!whirl_wasi2_drop(w, WHIRL_WASI2_TCP_SOCKET, s2), "drop");
    whirl_wasi2_delete(w); /* closes s and s3 (ASan and the fd count check leaks) */
}

static void test_udp_roundtrip(void)
{
    whirl_wasi2_t *w = context(true);
    uint32_t server = create(w, false, false), client = create(w, false, false);
    whirl_cval_t a, res = {0}, sself = handle(WHIRL_WASI2_UDP_SOCKET, server);
    whirl_error_t *e = call(w, "[method]udp-socket.receive", &sself, 1, &res);
    CHECK(!e && code_of(&res) == W3E_INVALID_STATE, "receive before bind");
    whirl_error_delete(e);
    addr4(&a, 127, 0, 0, 1, 0);
    CHECK(with_addr(w, "[method]udp-socket.bind", WHIRL_WASI2_UDP_SOCKET, server, &a) == -1,
          "bind");
    whirl_cval_release(&a);
    e = call(w, "[method]udp-socket.get-local-address", &sself, 1, &res);
    uint16_t port = !e && code_of(&res) == -1 ? port_of_result(&res) : 0;
    CHECK(port != 0, "bound port");
    whirl_error_delete(e);

    /* Nothing queued: the receive waits until the store's deadline. */
    CHECK(!whirl_store_set_deadline(store, whirl_monotonic_now() + 50000000u), "deadline");
    e = call(w, "[method]udp-socket.receive", &sself, 1, &res);
    whirl_trap_code_t code = 0;
    CHECK(e && whirl_error_is_trap(e, &code) && code == WHIRL_TRAP_INTERRUPT,
          "a receive with nothing to read ends at the deadline: %s",
          e ? whirl_error_message(e) : "returned");
    whirl_error_delete(e);
    whirl_store_set_epoch_deadline(store, WHIRL_EPOCH_DEADLINE_NEVER);

    whirl_cval_t args[3] = {handle(WHIRL_WASI2_UDP_SOCKET, client), {0}, {0}};
    whirl_cval_set_bytes(&args[1], "ping", 4);
    whirl_cval_set_case(&args[2], WHIRL_CVAL_OPTION, 1, true);
    addr4(args[2].of.variant.payload, 127, 0, 0, 1, port);
    e = call(w, "[method]udp-socket.send", args, 3, &res);
    CHECK(!e && code_of(&res) == -1, "send to the server");
    whirl_error_delete(e);
    e = call(w, "[method]udp-socket.receive", &sself, 1, &res);
    const whirl_cval_t *t = !e && code_of(&res) == -1 ? res.of.variant.payload : NULL;
    CHECK(t && t->kind == WHIRL_CVAL_TUPLE && t->of.list.items[0].kind == WHIRL_CVAL_BYTES &&
              t->of.list.items[0].of.string.len == 4 &&
              memcmp(t->of.list.items[0].of.string.data, "ping", 4) == 0,
          "the server receives the datagram");
    whirl_error_delete(e);

    /* Too large for any datagram; then the denied and the malformed. */
    uint8_t *big = calloc(1, 70000);
    whirl_cval_release(&args[1]);
    whirl_cval_set_bytes(&args[1], big, 70000);
    free(big);
    e = call(w, "[method]udp-socket.send", args, 3, &res);
    CHECK(!e && code_of(&res) == W3E_DATAGRAM_TOO_LARGE, "datagram too large");
    whirl_error_delete(e);
    whirl_cval_release(&args[2]);
    whirl_cval_set_case(&args[2], WHIRL_CVAL_OPTION, 1, true);
    addr4(args[2].of.variant.payload, 192, 0, 2, 1, 9);
    e = call(w, "[method]udp-socket.send", args, 3, &res);
    CHECK(!e && code_of(&res) == W3E_ACCESS_DENIED, "send outside the policy");
    whirl_error_delete(e);
    /* A malformed address (a u32 where the port's u16 goes) traps. */
    args[2].of.variant.payload->of.variant.payload->of.list.items[0].kind = WHIRL_CVAL_U32;
    e = call(w, "[method]udp-socket.send", args, 3, &res);
    CHECK(e && strstr(whirl_error_message(e), "ip-socket-address"), "malformed address traps");
    whirl_error_delete(e);
    /* A handle of the wrong resource type traps. */
    whirl_cval_t wrong = handle(WHIRL_WASI2_TCP_SOCKET, server);
    e = call(w, "[method]udp-socket.get-local-address", &wrong, 1, &res);
    CHECK(e != NULL, "a tcp handle to a udp method traps");
    whirl_error_delete(e);
    whirl_cval_t gone = handle(WHIRL_WASI2_UDP_SOCKET, 9999);
    e = call(w, "[method]udp-socket.get-local-address", &gone, 1, &res);
    CHECK(e != NULL, "an unknown handle traps");
    whirl_error_delete(e);
    whirl_cval_release(&args[1]);
    whirl_cval_release(&args[2]);
    whirl_cval_release(&res);
    whirl_wasi2_delete(w);
}

static void test_denied_by_default(void)
{
    whirl_wasi2_t *w = context(false);
    uint32_t s = create(w, true, false);
    whirl_cval_t a;
    addr4(&a, 127, 0, 0, 1, 0);
    CHECK(with_addr(w, "[method]tcp-socket.bind", WHIRL_WASI2_TCP_SOCKET, s, &a) ==
              W3E_ACCESS_DENIED,
          "bind denied without a network policy");
    whirl_cval_release(&a);
    addr4(&a, 127, 0, 0, 1, 80);
    CHECK(with_addr(w, "[method]tcp-socket.connect", WHIRL_WASI2_TCP_SOCKET, s, &a) ==
              W3E_ACCESS_DENIED,
          "connect denied without a network policy");
    whirl_cval_release(&a);
    whirl_cval_t name = {0}, res = {0};
    whirl_cval_set_string(&name, "localhost", 9);
    const w2_def_t *d = find("resolve-addresses");
    w2_call_t c = {.host = host, .w = w, .store = store, .iface = d->iface, .name = d->name,
                   .args = &name, .nargs = 1, .res = &res};
    whirl_error_t *e = d->fn(&c);
    CHECK(!e && code_of(&res) == 0, "name lookup denied without a network policy");
    whirl_error_delete(e);
    whirl_cval_release(&res);
    whirl_wasi2_delete(w);

    w = context(true);
    c.w = w;
    memset(&res, 0, sizeof res);
    e = d->fn(&c);
    const whirl_cval_t *list = !e && code_of(&res) == -1 ? res.of.variant.payload : NULL;
    CHECK(list && list->kind == WHIRL_CVAL_LIST && list->of.list.len >= 1,
          "localhost resolves");
    whirl_error_delete(e);
    whirl_cval_release(&res);
    static const char *const bad[] = {"", "has space", "caf\xc3\xa9.example"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        whirl_cval_release(&name);
        whirl_cval_set_string(&name, bad[i], strlen(bad[i]));
        e = d->fn(&c);
        CHECK(!e && code_of(&res) == 1, "'%s' is an invalid name", bad[i]);
        whirl_error_delete(e);
        whirl_cval_release(&res);
    }
    whirl_cval_release(&name);
    whirl_cval_set_string(&name, "[::1]", 5);
    e = d->fn(&c);
    list = !e && code_of(&res) == -1 ? res.of.variant.payload : NULL;
    CHECK(list && list->of.list.len == 1 && list->of.list.items[0].of.variant.index == 1,
          "[::1] is an IPv6 literal");
    whirl_error_delete(e);
    whirl_cval_release(&res);
    whirl_cval_release(&name);
    whirl_wasi2_delete(w);
}

/* Open descriptors of the process: every socket must be closed again. */
static int open_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 1024; fd++)
        if (fcntl(fd, F_GETFD) != -1)
            n++;
    return n;
}

static whirl_wasi2_t *no_lookup(void *env, whirl_store_t *s)
{
    (void)env, (void)s;
    return NULL;
}

int main(void)
{
    whirl_engine_t *engine;
    whirl_error_t *e = whirl_engine_new(whirl_config_new(), &engine);
    if (e) {
        printf("engine: %s\n", whirl_error_message(e));
        return 1;
    }
    whirl_component_linker_t *linker = whirl_component_linker_new(engine);
    /* The lookup is never used here (each call names its context). */
    e = whirl_wasi2_add_to_linker(linker, WHIRL_WASI2_ALL, no_lookup, NULL, &host);
    whirl_error_delete(e);
    if (!host) {
        printf("no host\n");
        return 1;
    }
    store = whirl_store_new(engine, NULL, NULL);
    int fds = open_fds();
    test_tcp_connect();
    test_udp_roundtrip();
    test_denied_by_default();
    CHECK(open_fds() == fds, "descriptors leaked: %d open, %d before", open_fds(), fds);
    whirl_store_delete(store);
    whirl_component_linker_delete(linker);
    whirl_wasi2_host_delete(host);
    whirl_engine_delete(engine);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
