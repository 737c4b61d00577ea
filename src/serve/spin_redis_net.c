/* The bytes of a Redis connection for Spin apps, plain (redis://) or TLS
 * (rediss://). Debian's hiredis (0.14) cannot speak TLS and its blocking
 * context bounds each socket call, not a command (a server answering a
 * byte at a time could hold a request past its deadline), so this file
 * carries the bytes: non-blocking sockets waited on through spin_wait_fd
 * until the request's deadline (the request suspends meanwhile, its
 * worker thread serves others; host names are looked up off it, by
 * spin_resolve), OpenSSL for TLS, hiredis only to format commands and
 * parse replies (redisFormatCommand*, redisReader). A reply may take
 * MAX_REPLY_BYTES and MAX_REPLY_ELEMENTS per aggregate at most, whatever
 * the server sends. A TLS server's certificate is verified against the
 * system CA store and -S http-ca's file, and must name the host (or its IP
 * address). A command that fails midway leaves the connection unusable:
 * what the server still sends would be read as the next reply. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <hiredis/hiredis.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "serve/outbound.h"
#include "serve/spin_host.h"

enum {
    READ_CHUNK = 16 * 1024,
    MAX_REPLY_BYTES = 64 << 20,
    MAX_REPLY_ELEMENTS = 1 << 20,
};

struct redis_net {
    int fd;
    spin_req_t *req; /* the request it belongs to: its waits suspend it */
    SSL_CTX *ctx; /* TLS only */
    SSL *ssl;
    redisReader *reader;
    size_t slots;   /* array slots in the reply being read */
    bool broken;    /* a command failed midway */
};

/* hiredis's own reply constructors, with arrays wrapped to count a reply's
 * slots: each value but the reply itself fills one, so the count bounds
 * the heap blocks a reply makes (the byte limit alone would let a few
 * bytes a value make millions of them, and an array header allocates all
 * its slots at once). */
static redisReplyObjectFunctions base_fn, counted_fn;

static void *counted_array(const redisReadTask *task, int n)
{
    redis_net_t *t = task->privdata;
    if (n < 0 || (size_t)n > MAX_REPLY_ELEMENTS - t->slots) {
        t->slots = MAX_REPLY_ELEMENTS + 1;
        return NULL; /* the reader fails: redis_net_command names the limit */
    }
    t->slots += (size_t)n;
    return base_fn.createArray(task, n);
}

static bool passed(uint64_t deadline_ns)
{
    return deadline_ns != UINT64_MAX && whirl_monotonic_now() >= deadline_ns;
}

static bool wait_fd(spin_req_t *req, int fd, short events, uint64_t deadline_ns)
{
    return spin_wait_fd(req, fd, events, deadline_ns) > 0;
}

static void set_why(char *why, size_t whylen, const char *what, uint64_t deadline_ns)
{
    if (passed(deadline_ns)) {
        snprintf(why, whylen, "redis: the request's deadline passed");
        return;
    }
    unsigned long err = ERR_get_error();
    char detail[200] = "";
    if (err)
        ERR_error_string_n(err, detail, sizeof detail);
    ERR_clear_error();
    snprintf(why, whylen, "redis: %s%s%s", what, *detail ? ": " : "", detail);
}

/* A TCP connection to host:port, non-blocking, within the deadline. */
static int tcp_connect(spin_req_t *req, const char *host, int port, uint64_t deadline_ns,
                       char *why, size_t whylen)
{
    /* The name is looked up off the worker (spin_resolve), then only
     * parsed here; TLS still verifies the name (redis_net_connect). */
    spin_addrs_t addrs;
    char whyr[200];
    if (spin_resolve(req, host, deadline_ns, &addrs, whyr, sizeof whyr) != 0) {
        snprintf(why, whylen, "redis: %s", whyr);
        return -1;
    }
    char service[8];
    snprintf(service, sizeof service, "%d", port);
    int fd = -1;
    for (int i = 0; i < addrs.n && fd < 0; i++) {
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST},
                        *a = NULL;
        int rc = getaddrinfo(addrs.addr[i], service, &hints, &a);
        if (rc != 0) {
            snprintf(why, whylen, "redis: cannot use %.100s: %s", addrs.addr[i], gai_strerror(rc));
            continue;
        }
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        int err = 0;
        socklen_t len = sizeof err;
        if (fd < 0) {
            snprintf(why, whylen, "redis: cannot connect to %.100s:%d: %s", host, port,
                     strerror(errno));
        } else if (connect(fd, a->ai_addr, a->ai_addrlen) != 0 &&
                   (errno != EINPROGRESS || !wait_fd(req, fd, POLLOUT, deadline_ns) ||
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)) {
            snprintf(why, whylen, "redis: cannot connect to %.100s:%d: %s", host, port,
                     err ? strerror(err) : !passed(deadline_ns) ? strerror(errno)
                                                                   : "the request's deadline passed");
            close(fd);
            fd = -1;
        }
        freeaddrinfo(a);
    }
    return fd;
}

/* Runs an SSL call (connect, read or write) until it is done, waiting on
 * the socket as it asks; its result, or <= 0 on failure or deadline. */
static int ssl_call(redis_net_t *t, int (*op)(SSL *, void *, int), void *buf, int n,
                    uint64_t deadline_ns)
{
    for (;;) {
        int rc = op(t->ssl, buf, n);
        if (rc > 0)
            return rc;
        int err = SSL_get_error(t->ssl, rc);
        short ev = err == SSL_ERROR_WANT_READ ? POLLIN : err == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
        if (!ev || !wait_fd(t->req, t->fd, ev, deadline_ns))
            return rc <= 0 ? rc : -1;
    }
}

static int op_connect(SSL *s, void *buf, int n)
{
    (void)buf;
    (void)n;
    return SSL_connect(s);
}
static int op_read(SSL *s, void *buf, int n) { return SSL_read(s, buf, n); }
static int op_write(SSL *s, void *buf, int n) { return SSL_write(s, buf, n); }

/* Reads or writes some bytes, waiting until the deadline: how many, or
 * <= 0 at the end of the stream, on failure or at the deadline. */
static int net_io(redis_net_t *t, bool write, void *buf, int n, uint64_t deadline_ns)
{
    if (t->ssl)
        return ssl_call(t, write ? op_write : op_read, buf, n, deadline_ns);
    for (;;) {
        ssize_t rc = write ? send(t->fd, buf, (size_t)n, MSG_NOSIGNAL)
                           : recv(t->fd, buf, (size_t)n, 0);
        if (rc >= 0)
            return (int)rc;
        if (errno == EINTR)
            continue;
        if ((errno != EAGAIN && errno != EWOULDBLOCK) ||
            !wait_fd(t->req, t->fd, write ? POLLOUT : POLLIN, deadline_ns))
            return -1;
    }
}

/* The TLS session over t->fd, verified; false with why. */
static bool tls_start(redis_net_t *t, const char *host, int port, uint64_t deadline_ns,
                      char *why, size_t whylen)
{
    char *extra = ob_client_extra_ca();
    unsigned char addr[16];
    bool is_ip = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
    bool ok = (t->ctx = SSL_CTX_new(TLS_client_method())) != NULL &&
              SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION) == 1 &&
              SSL_CTX_set_default_verify_paths(t->ctx) == 1 &&
              (!extra || SSL_CTX_load_verify_locations(t->ctx, extra, NULL) == 1);
    free(extra);
    if (ok) {
        SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
        ok = (t->ssl = SSL_new(t->ctx)) != NULL && SSL_set_fd(t->ssl, t->fd) == 1 &&
             (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), host) == 1
                    : SSL_set_tlsext_host_name(t->ssl, host) == 1 &&
                          SSL_set1_host(t->ssl, host) == 1);
    }
    if (!ok) {
        set_why(why, whylen, "cannot set up TLS", deadline_ns);
        return false;
    }
    if (ssl_call(t, op_connect, NULL, 0, deadline_ns) <= 0) {
        long verify = SSL_get_verify_result(t->ssl);
        char what[300];
        snprintf(what, sizeof what, "TLS handshake with %.100s:%d failed%s%s", host, port,
                 verify != X509_V_OK ? ": " : "",
                 verify != X509_V_OK ? X509_verify_cert_error_string(verify) : "");
        set_why(why, whylen, what, deadline_ns);
        return false;
    }
    return true;
}

static void init_counted_fn(void)
{
    redisReader *r = redisReaderCreate();
    if (r) {
        base_fn = *r->fn;
        redisReaderFree(r);
    }
    counted_fn = base_fn;
    counted_fn.createArray = counted_array;
}

redis_net_t *redis_net_connect(const char *host, int port, bool tls, spin_req_t *req,
                               uint64_t deadline_ns, char *why, size_t whylen)
{
    redis_net_t *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(why, whylen, "redis: out of memory");
        return NULL;
    }
    t->req = req;
    t->fd = tcp_connect(req, host, port, deadline_ns, why, whylen);
    if (t->fd < 0) {
        free(t);
        return NULL;
    }
    if (tls && !tls_start(t, host, port, deadline_ns, why, whylen)) {
        redis_net_close(t);
        return NULL;
    }
    if (!(t->reader = redisReaderCreate())) {
        snprintf(why, whylen, "redis: out of memory");
        redis_net_close(t);
        return NULL;
    }
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_counted_fn);
    if (!base_fn.createArray) {
        snprintf(why, whylen, "redis: out of memory");
        redis_net_close(t);
        return NULL;
    }
    t->reader->fn = &counted_fn;
    t->reader->privdata = t;
    return t;
}

redisReply *redis_net_command(redis_net_t *t, const char *cmd, size_t len,
                              uint64_t deadline_ns, char *why, size_t whylen)
{
    if (t->broken) {
        snprintf(why, whylen, "redis: the connection failed in an earlier command");
        return NULL;
    }
    t->broken = true; /* until the reply is read whole */
    t->slots = 0;
    for (size_t done = 0; done < len;) {
        size_t chunk = len - done < (size_t)INT32_MAX ? len - done : (size_t)INT32_MAX;
        int n = net_io(t, true, (void *)(cmd + done), (int)chunk, deadline_ns);
        if (n <= 0) {
            set_why(why, whylen, "the connection failed while sending", deadline_ns);
            return NULL;
        }
        done += (size_t)n;
    }
    for (size_t got = 0;;) {
        void *reply = NULL;
        if (redisReaderGetReply(t->reader, &reply) != REDIS_OK) {
            if (t->slots > MAX_REPLY_ELEMENTS)
                snprintf(why, whylen, "redis: the reply has more than %d elements",
                         MAX_REPLY_ELEMENTS);
            else
                snprintf(why, whylen, "redis: %s", t->reader->errstr);
            return NULL;
        }
        if (reply) {
            t->broken = false;
            return reply;
        }
        if (got >= MAX_REPLY_BYTES) {
            snprintf(why, whylen, "redis: the reply is larger than %d MiB", MAX_REPLY_BYTES >> 20);
            return NULL;
        }
        char buf[READ_CHUNK];
        int n = net_io(t, false, buf, sizeof buf, deadline_ns);
        if (n <= 0) {
            set_why(why, whylen, "the connection closed before the reply", deadline_ns);
            return NULL;
        }
        got += (size_t)n;
        if (redisReaderFeed(t->reader, buf, (size_t)n) != REDIS_OK) {
            snprintf(why, whylen, "redis: %s", t->reader->errstr);
            return NULL;
        }
    }
}

void redis_net_close(redis_net_t *t)
{
    if (!t)
        return;
    if (t->reader)
        redisReaderFree(t->reader);
    if (t->ssl)
        SSL_free(t->ssl); /* no close_notify: the server sees the socket close */
    if (t->ctx)
        SSL_CTX_free(t->ctx);
    if (t->fd >= 0)
        close(t->fd);
    ERR_clear_error();
    free(t);
}
