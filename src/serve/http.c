/* The HTTP side of `whirl serve`, on libmicrohttpd (MHD).
 *
 * One request is a serve_req_t shared by two threads: MHD's thread parses
 * the request, feeds the body in and sends the response out; a worker runs
 * the guest, which reads the body and writes the response. They meet under
 * the request's mutex. The MHD thread never waits: when it has nothing to do
 * for a request (the body buffer is full, the guest has not answered, the
 * response buffer is empty) it suspends the connection, and the worker
 * resumes it when that changes. The worker waits on the request's condition
 * variable instead.
 *
 * MHD only accepts a response at two points: right after the headers
 * (used for errors decided from them: 413, 503) and once the whole request
 * has arrived. So a guest's answer is queued at the final access-handler
 * call, and until then its output is buffered (a guest echoing a large body
 * must not deadlock against a client still uploading it). A response the
 * guest completes before that goes out with Content-Length; one that is
 * still being written (more than a window of bytes, or for longer than a
 * moment) goes out chunked, streamed through a content reader. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "serve/internal.h"

enum {
    IN_WINDOW = 256 * 1024,       /* request body bytes buffered ahead of the guest */
    OUT_WINDOW = 64 * 1024,       /* response bytes buffered once sending */
    OUT_PENDING_CAP = 16 << 20,   /* ... before the request has fully arrived */
    DISCARD_LIMIT = 4 << 20,      /* body bytes read past the limit before closing */
    LOG_FLUSH_BYTES = 16 * 1024,
};
#define STREAM_AFTER_NS 20000000ull /* output older than this is sent as it comes */
#define DRAIN_NS 5000000000ull      /* shutdown: longest wait for answers to go out */

/* ---- small helpers ---- */

static uint64_t now_ns(void)
{
    return whirl_monotonic_now();
}

void serve_log(const char *fmt, ...)
{
    char line[2048];
    int n = snprintf(line, sizeof line, "whirl serve: ");
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    /* Names and messages may come from a guest: no raw control bytes. */
    for (size_t i = (size_t)n; i < len; i++)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
            line[i] = '?';
    line[len++] = '\n';
    ssize_t w = write(2, line, len);
    (void)w;
}

bool sbuf_append(sbuf_t *b, const void *p, size_t n)
{
    if (n == 0)
        return true;
    if (b->off + b->len + n > b->cap) {
        if (b->off) {
            memmove(b->data, b->data + b->off, b->len);
            b->off = 0;
        }
        if (b->len + n > b->cap) {
            size_t cap = b->cap ? b->cap : 1024;
            while (cap < b->len + n)
                cap *= 2;
            uint8_t *d = realloc(b->data, cap);
            if (!d)
                return false;
            b->data = d;
            b->cap = cap;
        }
    }
    memcpy(b->data + b->off + b->len, p, n);
    b->len += n;
    return true;
}

size_t sbuf_take(sbuf_t *b, void *out, size_t n)
{
    if (n > b->len)
        n = b->len;
    memcpy(out, b->data + b->off, n);
    b->off += n;
    b->len -= n;
    if (b->len == 0)
        b->off = 0;
    return n;
}

void sbuf_free(sbuf_t *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

static int cv_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t deadline_ns)
{
    if (deadline_ns == UINT64_MAX)
        return pthread_cond_wait(cv, mu);
    struct timespec ts = {.tv_sec = (time_t)(deadline_ns / 1000000000u),
                          .tv_nsec = (long)(deadline_ns % 1000000000u)};
    return pthread_cond_timedwait(cv, mu, &ts);
}

void serve_count(serve_server_t *srv, size_t offset)
{
    pthread_mutex_lock(&srv->mu);
    (*(uint64_t *)((char *)&srv->counters + offset))++;
    pthread_mutex_unlock(&srv->mu);
}

static void replace_response(serve_req_t *r, int status, const char *message);

/* ---- request objects ---- */

static serve_req_t *req_new(serve_server_t *srv, struct MHD_Connection *conn, const char *uri)
{
    serve_req_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->raw_uri = strdup(uri ? uri : "/");
    if (!r->raw_uri) {
        free(r);
        return NULL;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&r->mu, NULL);
    r->srv = srv;
    r->conn = conn;
    r->refs = 1;
    r->start_ns = now_ns();
    r->info.content_length = -1;
    r->fd = -1;
    return r;
}

static void free_headers(serve_header_t *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)h[i].name);
        free((char *)h[i].value);
    }
    free(h);
}

static void req_unref(serve_req_t *r)
{
    pthread_mutex_lock(&r->mu);
    bool last = --r->refs == 0;
    pthread_mutex_unlock(&r->mu);
    if (!last)
        return;
    /* Never left set (req_wait clears it, cancelled or not); finished in
     * case, so the completion is not leaked. */
    if (r->waiter)
        whirl_completion_finish(r->waiter, NULL, 0, NULL);
    free_headers(r->hdrs, r->nhdrs);
    free_headers(r->rhdrs, r->nrhdrs);
    sbuf_free(&r->in);
    sbuf_free(&r->out);
    sbuf_free(&r->strings);
    free(r->raw_uri);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* The request's fixed strings live in one block so that the info pointers
 * stay valid: each is appended with its NUL and addressed by offset until
 * the block is complete. */
static size_t str_add(serve_req_t *r, const char *s, size_t n)
{
    size_t at = r->strings.len;
    if (!sbuf_append(&r->strings, s, n) || !sbuf_append(&r->strings, "", 1))
        return SIZE_MAX;
    return at;
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      size_t key_size, const char *value, size_t value_size)
{
    serve_req_t *r = cls;
    (void)kind;
    if (!key || !value)
        return MHD_YES;
    /* MHD 0.9.75 parses the head in place, so a value follows its name, a
     * colon and optional whitespace in memory. It handles an obs-fold
     * continuation line by appending it to the header's name, copied
     * elsewhere for that; a value that does not follow its name therefore
     * marks a folded header, which RFC 9112 5.2 lets a server refuse (and
     * whirl does: the joined name is not what the client sent). */
    const char *after = key + key_size;
    bool adjacent = value > after && value - after <= 256 && *after == '\0';
    for (const char *p = after + 1; adjacent && p < value; p++)
        adjacent = *p == ' ' || *p == '\t';
    if (!adjacent)
        r->folded = true;
    if (r->nhdrs == r->hdr_cap) {
        size_t cap = r->hdr_cap ? r->hdr_cap * 2 : 16;
        serve_header_t *h = realloc(r->hdrs, cap * sizeof *h);
        if (!h)
            return MHD_NO;
        r->hdrs = h;
        r->hdr_cap = cap;
    }
    char *k = strndup(key, key_size), *v = strndup(value, value_size);
    if (!k || !v) {
        free(k);
        free(v);
        return MHD_NO;
    }
    r->hdrs[r->nhdrs++] = (serve_header_t){k, v};
    return MHD_YES;
}

static const char *find_header(const serve_req_t *r, const char *name)
{
    for (size_t i = 0; i < r->nhdrs; i++)
        if (strcasecmp(r->hdrs[i].name, name) == 0)
            return r->hdrs[i].value;
    return NULL;
}

/* Fills r->info from the connection. False if memory ran out. */
static bool req_describe(serve_req_t *r, const char *url, const char *method,
                         const char *version)
{
    serve_server_t *srv = r->srv;
    MHD_get_connection_values_n(r->conn, MHD_HEADER_KIND, collect_header, r);

    char client_ip[INET6_ADDRSTRLEN + 2] = "-", client[INET6_ADDRSTRLEN + 16] = "-";
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET) {
            const struct sockaddr_in *in = (const void *)sa;
            inet_ntop(AF_INET, &in->sin_addr, client_ip, sizeof client_ip);
            snprintf(client, sizeof client, "%s:%u", client_ip, ntohs(in->sin_port));
        } else if (sa->sa_family == AF_INET6) {
            const struct sockaddr_in6 *in6 = (const void *)sa;
            inet_ntop(AF_INET6, &in6->sin6_addr, client_ip, sizeof client_ip);
            snprintf(client, sizeof client, "[%s]:%u", client_ip, ntohs(in6->sin6_port));
        } else if (sa->sa_family == AF_UNIX) { /* serve_http_open_local's */
            r->local = true;
            snprintf(client_ip, sizeof client_ip, "127.0.0.1");
            snprintf(client, sizeof client, "self");
        }
    }

    const char *raw = r->raw_uri;
    const char *q = strchr(raw, '?');
    size_t raw_path_len = q ? (size_t)(q - raw) : strlen(raw);
    const char *query = q ? q + 1 : "";

    const char *host = find_header(r, "Host");
    char hostbuf[300];
    if (!host || !*host) {
        snprintf(hostbuf, sizeof hostbuf, "%s:%s", srv->listen_host, srv->listen_port);
        host = hostbuf;
    }
    /* SERVER_NAME is the Host header without its port ("[::1]:80" keeps
     * the brackets). */
    const char *name_end = host + strlen(host);
    const char *colon = strrchr(host, ':');
    if (colon && (host[0] != '[' || colon > strchr(host, ']')))
        name_end = colon;

    size_t o_method = str_add(r, method, strlen(method));
    size_t o_path = str_add(r, url, strlen(url));
    size_t o_raw = str_add(r, raw, raw_path_len);
    size_t o_query = str_add(r, query, strlen(query));
    size_t o_version = str_add(r, version, strlen(version));
    size_t o_client = str_add(r, client, strlen(client));
    size_t o_ip = str_add(r, client_ip, strlen(client_ip));
    size_t o_host = str_add(r, host, strlen(host));
    size_t o_name = str_add(r, host, (size_t)(name_end - host));
    size_t o_port = str_add(r, srv->listen_port, strlen(srv->listen_port));
    if (o_port == SIZE_MAX || o_method == SIZE_MAX || o_path == SIZE_MAX || o_raw == SIZE_MAX ||
        o_query == SIZE_MAX || o_version == SIZE_MAX || o_client == SIZE_MAX ||
        o_ip == SIZE_MAX || o_host == SIZE_MAX || o_name == SIZE_MAX)
        return false;
    const char *base = (const char *)r->strings.data;
    r->info.method = base + o_method;
    r->info.path = base + o_path;
    r->info.raw_path = base + o_raw;
    r->info.query = base + o_query;
    r->info.version = base + o_version;
    r->info.client = base + o_client;
    r->info.client_ip = base + o_ip;
    r->info.host = base + o_host;
    r->info.server_name = base + o_name;
    r->info.server_port = base + o_port;
    r->info.headers = r->hdrs;
    r->info.nheaders = r->nhdrs;
    const char *cl = find_header(r, "Content-Length");
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(cl, &end, 10);
        if (!errno && end != cl && !*end && v <= INT64_MAX)
            r->info.content_length = (int64_t)v;
    }
    return true;
}

const serve_req_info_t *serve_req_info(const serve_req_t *r)
{
    return &r->info;
}

/* ---- waking the HTTP thread and the worker (r->mu held) ---- */

/* The worker waits on the condition variable (WAGI: blocking stdio) or,
 * for a wasi:http guest, in the WASI 0.2 host's poll, which the notify
 * hook wakes. Every change of what serve_req_readable and serve_resp_room
 * report (body bytes queued or taken, the body's end, a limit, the client
 * gone, the output window) calls this: the guest's body streams wait with
 * WHIRL_WASI2_WAIT_NOTIFIED, so a change that did not would be missed. */
static void wake_worker(serve_req_t *r)
{
    if (r->waiting_in || r->waiting_out)
        pthread_cond_signal(&r->cv);
    if (r->notify)
        r->notify(r->notify_env);
    if (r->waiter) {
        r->waiter_due = r->waiter;
        r->waiter = NULL;
    }
}

/* Marks a suspended connection for resuming; req_unlock resumes it once
 * r->mu is released. Never MHD_resume_connection under r->mu: it takes
 * libmicrohttpd's locks, and libmicrohttpd calls stream_reader, which
 * takes r->mu, with its own held (a lock-order inversion: a deadlock when
 * a worker and the HTTP thread meet). The connection stays suspended until
 * then, so nothing else can end or resume it meanwhile. */
static void wake_http(serve_req_t *r)
{
    if (r->suspended && !r->gone) {
        r->suspended = false;
        r->resume_due = true;
    }
}

static void req_unlock(serve_req_t *r)
{
    struct MHD_Connection *conn = r->resume_due ? r->conn : NULL;
    r->resume_due = false;
    /* Finishing a completion queues its call on the pool (the pool's
     * lock): not under r->mu, like the resume. */
    whirl_completion_t *due = r->waiter_due;
    r->waiter_due = NULL;
    pthread_mutex_unlock(&r->mu);
    if (conn)
        MHD_resume_connection(conn);
    if (due)
        whirl_completion_finish(due, NULL, 0, NULL);
}



/* Before a worker sleeps on r->cv: a resume it owes goes out first (the
 * HTTP thread is what will wake it). True if it did: the caller re-checks
 * the request's state, which may have changed without the lock. */
static bool resume_before_wait(serve_req_t *r)
{
    if (!r->resume_due)
        return false;
    req_unlock(r);
    pthread_mutex_lock(&r->mu);
    return true;
}

/* The worker waits for wake_worker (r->mu held, released meanwhile) until
 * `deadline_ns`: 0 or ETIMEDOUT. A host function on `store`'s fiber (a
 * WAGI guest's stdin or stdout) suspends its call on a completion that
 * wake_worker finishes, freeing the thread; the call is resumed at the
 * store's deadline too, or cancelled at shutdown (ETIMEDOUT both). Any
 * resume of the connection still owed goes out as r->mu is released. */
static int req_wait(serve_req_t *r, whirl_store_t *store, bool *waiting, uint64_t deadline_ns)
{
    whirl_completion_t *done;
    if (store && whirl_store_can_suspend(store) && (done = whirl_completion_new())) {
        r->waiter = done;
        req_unlock(r);
        whirl_error_t *err = whirl_store_await(store, done);
        pthread_mutex_lock(&r->mu);
        if (r->waiter == done) {
            /* Cut short before anyone woke it: the host side is ours. */
            r->waiter = NULL;
            whirl_completion_finish(done, NULL, 0, NULL);
        }
        if (!err)
            return 0;
        whirl_error_delete(err);
        return ETIMEDOUT;
    }
    if (resume_before_wait(r))
        return 0; /* the state may have changed: the caller re-checks */
    *waiting = true;
    int e = cv_wait_until(&r->cv, &r->mu, deadline_ns);
    *waiting = false;
    return e;
}

/* ---- responses built on the HTTP thread ---- */

static bool header_allowed(const char *name)
{
    static const char *const hop[] = {
        "connection", "content-length", "transfer-encoding", "keep-alive", "upgrade",
        "proxy-connection", "te", "trailer", "date",
    };
    for (size_t i = 0; i < sizeof hop / sizeof hop[0]; i++)
        if (strcasecmp(name, hop[i]) == 0)
            return false;
    return true;
}

static enum MHD_Result queue_plain_close(serve_req_t *r, struct MHD_Connection *conn,
                                         int status, const char *body, bool retry_after,
                                         bool close)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
    if (retry_after)
        MHD_add_response_header(resp, "Retry-After", "1");
    if (close || (r && atomic_load(&r->srv->stopping)))
        MHD_add_response_header(resp, "Connection", "close");
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    if (r) {
        r->queued = true;
        r->status = status;
        r->bytes_out = strlen(body);
    }
    return ok;
}

static enum MHD_Result queue_plain(serve_req_t *r, struct MHD_Connection *conn, int status,
                                   const char *body, bool retry_after)
{
    return queue_plain_close(r, conn, status, body, retry_after, false);
}

/* MHD takes a response only right after the request head or once the whole
 * body is in. An answer decided in between (413 past --max-body in a
 * chunked body, the guest's 504 at its deadline while the client is still
 * uploading) would wait for the rest of an upload that may never come, so
 * it is written straight to the socket with Connection: close and the
 * socket's sending side is shut. MHD is then only reading this connection:
 * it has sent any 100 Continue (callers make sure of that: a body byte has
 * arrived, or none was asked for) and sends nothing until a response is
 * queued, which never happens after this; it drains what the client still
 * sends (up to DISCARD_LIMIT) and closes when the client does. Draining
 * rather than closing at once matters: closing a socket with unread bytes
 * sends a reset, which can destroy the answer before the client reads it.
 * r->mu held. */
static void answer_now(serve_req_t *r)
{
    if (r->answered || r->queued || r->gone || r->fd < 0)
        return;
    char head[2048];
    const char *reason = MHD_get_reason_phrase_for((unsigned)r->status);
    int n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nConnection: close\r\n"
                     "Content-Length: %zu\r\n", r->status, reason && *reason ? reason : "Error",
                     r->out.len);
    for (size_t i = 0; i < r->nrhdrs && n > 0 && (size_t)n < sizeof head; i++)
        n += snprintf(head + n, sizeof head - (size_t)n, "%s: %s\r\n", r->rhdrs[i].name,
                      r->rhdrs[i].value);
    if (n < 0 || (size_t)n + 2 >= sizeof head)
        return; /* cannot happen with the short error answers that come here */
    memcpy(head + n, "\r\n", 2);
    n += 2;
    struct iovec iov[2] = {{head, (size_t)n}, {r->out.data + r->out.off, r->out.len}};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = r->out.len ? 2 : 1};
    /* Non-blocking, and a few hundred bytes: a client that does not read
     * even that much gets the close alone. */
    ssize_t w = sendmsg(r->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    r->answered = true;
    r->bytes_out = w > n ? (uint64_t)(w - n) : 0;
    shutdown(r->fd, SHUT_WR);
    if (!r->in_done)
        r->in_discard = true;
    wake_http(r);
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    serve_req_t *r = cls;
    (void)pos;
    pthread_mutex_lock(&r->mu);
    ssize_t n;
    if (r->out.len) {
        n = (ssize_t)sbuf_take(&r->out, buf, max);
        r->bytes_out += (uint64_t)n;
        wake_worker(r);
    } else if (r->out_done) {
        n = r->out_error ? MHD_CONTENT_READER_END_WITH_ERROR : MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        /* Nothing yet: sleep until the worker writes (0 without suspending
         * would spin). */
        r->suspended = true;
        MHD_suspend_connection(r->conn);
        n = 0;
    }
    req_unlock(r);
    return n;
}

static void stream_free(void *cls)
{
    req_unref(cls);
}

static void free_body(void *p)
{
    free(p);
}

/* Makes the guest's response (r->mu held; mode is FIXED or STREAM) for
 * the caller to queue once r->mu is released: MHD_queue_response and
 * MHD_destroy_response take the response's lock, which libmicrohttpd holds
 * while it calls stream_reader, which takes r->mu. NULL: out of memory. */
static struct MHD_Response *guest_response(serve_req_t *r)
{
    struct MHD_Response *resp;
    if (r->mode == RESP_FIXED) {
        if (r->out.off) {
            memmove(r->out.data, r->out.data + r->out.off, r->out.len);
            r->out.off = 0;
        }
        if (r->out.len)
            resp = MHD_create_response_from_buffer_with_free_callback(r->out.len, r->out.data,
                                                                      free_body);
        else
            resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return NULL;
        r->bytes_out = r->out.len;
        if (r->out.len)
            memset(&r->out, 0, sizeof r->out); /* the response frees it */
        else
            sbuf_free(&r->out);
    } else {
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, stream_reader, r,
                                                 stream_free);
        if (!resp)
            return NULL;
        r->refs++;
    }
    for (size_t i = 0; i < r->nrhdrs; i++)
        MHD_add_response_header(resp, r->rhdrs[i].name, r->rhdrs[i].value);
    if (atomic_load(&r->srv->stopping))
        MHD_add_response_header(resp, "Connection", "close");
    r->queued = true;
    /* The output window changes with `queued` (serve_resp_room): a guest
     * waiting on its response body's readiness re-checks it. */
    wake_worker(r);
    return resp;
}

/* ---- MHD callbacks (HTTP thread) ---- */

static void pending_remove(serve_server_t *srv, serve_req_t *r)
{
    pthread_mutex_lock(&srv->mu);
    if (r->pprev || srv->pending == r) {
        if (r->pprev)
            r->pprev->pnext = r->pnext;
        else
            srv->pending = r->pnext;
        if (r->pnext)
            r->pnext->pprev = r->pprev;
        r->pnext = r->pprev = NULL;
    }
    pthread_mutex_unlock(&srv->mu);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    serve_server_t *srv = cls;
    serve_req_t *r = req_new(srv, conn, uri);
    if (!r)
        return NULL;
    r->http_thread = pthread_self();
    pthread_mutex_lock(&srv->mu);
    srv->open_requests++;
    r->pnext = srv->pending;
    if (srv->pending)
        srv->pending->pprev = r;
    srv->pending = r;
    pthread_mutex_unlock(&srv->mu);
    return r;
}

/* libmicrohttpd 0.9.75 answers a malformed Content-Length itself (400, or
 * 413 for one past 2^64), before whirl sees the request, and sends that
 * answer's header block twice: its error path is followed by the normal
 * reply path. Its log line is the only sign, and it comes first, on the
 * thread processing that connection. The connection is the one of this
 * thread whose head has been parsed (MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE
 * is set), that has no response yet and that whirl has not been handed:
 * MHD moves a parsed head on to whirl within the same pass, so at most one
 * can be in that state. Whirl writes the answer once itself and shuts the
 * socket's sending side, so MHD's doubled copy goes nowhere and it closes. */
static void answer_refused_head(serve_server_t *srv, unsigned status)
{
    serve_req_t *found = NULL;
    int candidates = 0;
    pthread_mutex_lock(&srv->mu);
    for (serve_req_t *r = srv->pending; r; r = r->pnext) {
        if (r->answered || !pthread_equal(r->http_thread, pthread_self()) ||
            !MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE) ||
            MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_HTTP_STATUS))
            continue;
        found = r;
        candidates++;
    }
    pthread_mutex_unlock(&srv->mu);
    if (candidates != 1)
        return;
    const union MHD_ConnectionInfo *fdi =
        MHD_get_connection_info(found->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    pthread_mutex_lock(&found->mu);
    found->fd = fdi ? fdi->connect_fd : -1;
    replace_response(found, (int)status, status == 413 ? "Payload Too Large"
                                                       : "Bad Request: invalid Content-Length");
    found->in_done = true; /* no body is read after this */
    answer_now(found);
    pthread_mutex_unlock(&found->mu);
    SERVE_COUNT(srv, rejected_malformed);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls)
{
    serve_server_t *srv = cls;
    serve_req_t *r = *con_cls;
    if (!r)
        return MHD_NO; /* out of memory at the URI: drop the connection */

    if (!r->started) {
        r->started = true;
        pending_remove(srv, r);
        SERVE_COUNT(srv, requests);
        if (!req_describe(r, url, method, version))
            return queue_plain(r, conn, 500, "Internal Server Error\n", false);
        const union MHD_ConnectionInfo *fdi =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        r->fd = fdi ? fdi->connect_fd : -1;
        const char *expect = find_header(r, "Expect");
        r->expect_continue = expect && strcasecmp(expect, "100-continue") == 0;
        r->has_body = r->info.content_length > 0 || find_header(r, "Transfer-Encoding");
        const char *why;
        int refuse = serve_http_check_head(&r->info, r->folded, &why);
        if (refuse) {
            /* The connection closes: where this request ends is unknown. */
            SERVE_COUNT(srv, rejected_malformed);
            if (srv->opts->access_log)
                serve_log("refused %s %.200s from %s: %s", r->info.method, r->info.raw_path,
                          r->info.client, why);
            return queue_plain_close(r, conn, refuse,
                                     refuse == 501 ? "Not Implemented\n" : "Bad Request\n",
                                     false, true);
        }
        if (atomic_load(&srv->stopping)) {
            SERVE_COUNT(srv, rejected_busy);
            return queue_plain(r, conn, 503, "Service Unavailable: shutting down\n", true);
        }
        if (srv->opts->metrics && strcmp(url, "/.well-known/whirl/metrics") == 0)
            return serve_metrics_answer(r, conn) ? MHD_YES : MHD_NO;
        if (r->info.content_length >= 0 &&
            (uint64_t)r->info.content_length > srv->opts->max_body) {
            SERVE_COUNT(srv, rejected_limits);
            return queue_plain(r, conn, 413, "Payload Too Large\n", false);
        }
        pthread_mutex_lock(&srv->mu);
        r->anext = srv->active;
        if (srv->active)
            srv->active->aprev = r;
        srv->active = r;
        srv->inflight++;
        pthread_mutex_unlock(&srv->mu);
        r->refs++; /* the worker's; nobody else sees r yet */
        r->dispatched = true;
        if (!(r->local && serve_local_run(srv, r)) && !serve_pool_submit(srv->pool, r)) {
            r->refs--;
            r->dispatched = false;
            pthread_mutex_lock(&srv->mu);
            if (r->aprev)
                r->aprev->anext = r->anext;
            else
                srv->active = r->anext;
            if (r->anext)
                r->anext->aprev = r->aprev;
            srv->inflight--;
            srv->counters.rejected_busy++;
            pthread_mutex_unlock(&srv->mu);
            return queue_plain(r, conn, 503, "Service Unavailable: server busy\n", true);
        }
        return MHD_YES;
    }

    if (!r->dispatched)
        return MHD_YES; /* answered from the headers; MHD discards the rest */

    pthread_mutex_lock(&r->mu);
    if (*upload_size) {
        size_t n = *upload_size;
        if (r->in_too_large || r->in_discard) {
            r->discarded += n;
            *upload_size = 0;
            /* The guest finished without reading the whole body: what the
             * client still sends counts against --max-body all the same. */
            bool over = !r->in_too_large && r->in_total + r->discarded > srv->opts->max_body;
            if (over) {
                r->in_too_large = true;
                if (!r->queued && !r->answered) {
                    replace_response(r, 413, "Payload Too Large");
                    r->out_done = true;
                    r->failed = true;
                }
                wake_worker(r); /* its streams' readiness changed: both fail now */
            }
            /* The worker failed before the body was in: answer now (a body
             * byte is here, so any 100 Continue has gone out). */
            if (r->worker_done && r->failed)
                answer_now(r);
            bool close = (r->in_too_large || r->answered) && r->discarded > DISCARD_LIMIT;
            req_unlock(r);
            if (over)
                SERVE_COUNT(srv, rejected_limits);
            return close ? MHD_NO : MHD_YES;
        }
        if (r->in_total + n > srv->opts->max_body) {
            r->in_too_large = true;
            r->discarded += n;
            *upload_size = 0;
            wake_worker(r);
            /* A chunked body announced no length: the limit is found here,
             * mid-body, and answered at once. */
            if (!r->queued && !r->answered) {
                replace_response(r, 413, "Payload Too Large");
                r->out_done = true;
                r->failed = true;
                answer_now(r);
            }
            req_unlock(r);
            SERVE_COUNT(srv, rejected_limits);
            return MHD_YES;
        }
        size_t room = r->in.len < IN_WINDOW ? IN_WINDOW - r->in.len : 0;
        if (room > n)
            room = n;
        if (room && !sbuf_append(&r->in, upload_data, room)) {
            req_unlock(r);
            return MHD_NO;
        }
        r->in_total += room;
        *upload_size = n - room;
        if (room)
            wake_worker(r);
        if (*upload_size) {
            /* Full: MHD offers the rest again after the worker resumes us. */
            r->suspended = true;
            MHD_suspend_connection(conn);
        }
        req_unlock(r);
        return MHD_YES;
    }

    /* The whole request is in. */
    if (!r->in_done) {
        r->in_done = true;
        wake_worker(r);
    }
    enum MHD_Result ok = MHD_YES;
    struct MHD_Response *resp = NULL;
    if (r->answered) {
        ok = MHD_NO; /* answered on the socket already: close */
    } else if (r->queued) {
        /* Already answered (cannot happen with MHD's call order; harmless). */
    } else if (r->in_too_large) {
        ok = queue_plain(r, conn, 413, "Payload Too Large\n", false);
    } else if (r->mode != RESP_PENDING) {
        if (!(resp = guest_response(r)))
            ok = MHD_NO;
    } else {
        r->suspended = true;
        MHD_suspend_connection(conn);
    }
    unsigned status = (unsigned)r->status;
    req_unlock(r);
    if (resp) {
        ok = MHD_queue_response(conn, status, resp);
        MHD_destroy_response(resp);
    }
    return ok;
}

static void access_log(serve_server_t *srv, serve_req_t *r, enum MHD_RequestTerminationCode toe)
{
    if (!srv->opts->access_log)
        return;
    char line[1200];
    double ms = (double)(now_ns() - r->start_ns) / 1e6;
    const char *how = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? ""
                      : toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT ? " (client closed)"
                      : toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? " (timed out)"
                      : toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN ? " (shutdown)"
                      : toe == MHD_REQUEST_TERMINATED_READ_ERROR ? " (read error)"
                      : " (error)";
    char status[8];
    if (r->queued || r->answered)
        snprintf(status, sizeof status, "%d", r->status);
    else
        snprintf(status, sizeof status, "-");
    int n;
    if (r->started)
        n = snprintf(line, sizeof line, "%s %s %.400s%s%.300s %s %s %llu %.3fms%s\n",
                     r->info.client, r->info.method, r->info.raw_path, *r->info.query ? "?" : "",
                     r->info.query, r->info.version, status, (unsigned long long)r->bytes_out,
                     ms, how);
    else
        n = snprintf(line, sizeof line, "- - %.400s - %s 0 %.3fms (refused by the HTTP layer: "
                     "malformed or too large request head)%s\n", r->raw_uri, status, ms, how);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    for (size_t i = 0; i + 1 < len; i++)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
            line[i] = '?';
    bool flush = false;
    pthread_mutex_lock(&srv->mu);
    if (srv->loglen + len > srv->logcap) {
        size_t cap = srv->logcap ? srv->logcap * 2 : 32 * 1024;
        while (cap < srv->loglen + len)
            cap *= 2;
        char *b = realloc(srv->logbuf, cap);
        if (b) {
            srv->logbuf = b;
            srv->logcap = cap;
        }
    }
    if (srv->loglen + len <= srv->logcap) {
        memcpy(srv->logbuf + srv->loglen, line, len);
        srv->loglen += len;
    }
    flush = srv->loglen >= LOG_FLUSH_BYTES;
    pthread_mutex_unlock(&srv->mu);
    if (flush)
        serve_http_flush_log(srv);
}

void serve_http_flush_log(serve_server_t *srv)
{
    pthread_mutex_lock(&srv->mu);
    if (srv->loglen) {
        size_t off = 0;
        while (off < srv->loglen) {
            ssize_t w = write(2, srv->logbuf + off, srv->loglen - off);
            if (w <= 0 && errno != EINTR)
                break;
            if (w > 0)
                off += (size_t)w;
        }
        srv->loglen = 0;
    }
    pthread_mutex_unlock(&srv->mu);
}

static void on_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    serve_server_t *srv = cls;
    serve_req_t *r = *con_cls;
    (void)conn;
    if (!r)
        return;
    *con_cls = NULL;
    pending_remove(srv, r);
    pthread_mutex_lock(&srv->mu);
    if (--srv->open_requests == 0)
        pthread_cond_broadcast(&srv->idle_cv);
    pthread_mutex_unlock(&srv->mu);
    pthread_mutex_lock(&r->mu);
    r->gone = true;
    r->suspended = false;
    pthread_cond_broadcast(&r->cv);
    wake_worker(r);
    req_unlock(r);
    if (r->started)
        SERVE_COUNT(srv, completed);
    access_log(srv, r, toe);
    req_unref(r);
}

/* ---- the worker's side ---- */

int64_t serve_req_read(serve_req_t *r, void *buf, size_t len, uint64_t deadline_ns,
                       whirl_store_t *store)
{
    if (len == 0)
        return 0;
    pthread_mutex_lock(&r->mu);
    int64_t res;
    for (;;) {
        if (r->in_too_large) {
            res = -EFBIG;
            break;
        }
        if (r->in.len) {
            res = (int64_t)sbuf_take(&r->in, buf, len);
            /* Resume the upload once half the window is free, not on every
             * byte: fewer wake-ups. */
            if (r->in.len <= IN_WINDOW / 2)
                wake_http(r);
            break;
        }
        if (r->in_done) {
            res = 0;
            break;
        }
        if (r->gone) {
            res = -ECONNRESET;
            break;
        }
        if (atomic_load(&r->srv->aborting)) {
            res = -EINTR;
            break;
        }
        wake_http(r);
        if (req_wait(r, store, &r->waiting_in, deadline_ns) == ETIMEDOUT) {
            res = -EINTR;
            break;
        }
    }
    req_unlock(r);
    return res;
}

int serve_resp_start(serve_req_t *r, int status, const serve_header_t *headers,
                     size_t nheaders)
{
    if (status < 100 || status > 599 || (status >= 100 && status < 200))
        return -EINVAL;
    for (size_t i = 0; i < nheaders; i++)
        if (!serve_http_token(headers[i].name, strlen(headers[i].name)) ||
            !serve_http_field_value((const uint8_t *)headers[i].value,
                                    strlen(headers[i].value)))
            return -EINVAL;
    serve_header_t *h = nheaders ? calloc(nheaders, sizeof *h) : NULL;
    if (nheaders && !h)
        return -ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < nheaders; i++) {
        if (!header_allowed(headers[i].name))
            continue;
        h[n].name = strdup(headers[i].name);
        h[n].value = strdup(headers[i].value);
        if (!h[n].name || !h[n].value) {
            free_headers(h, n + 1);
            return -ENOMEM;
        }
        n++;
    }
    pthread_mutex_lock(&r->mu);
    if (r->resp_started) {
        req_unlock(r);
        free_headers(h, n);
        return -EALREADY;
    }
    r->resp_started = true;
    r->status = status;
    r->rhdrs = h;
    r->nrhdrs = n;
    req_unlock(r);
    return 0;
}

bool serve_resp_started(const serve_req_t *r)
{
    return r->resp_started;
}

int64_t serve_resp_write(serve_req_t *r, const void *buf, size_t len, uint64_t deadline_ns,
                         whirl_store_t *store)
{
    const uint8_t *p = buf;
    size_t done = 0;
    pthread_mutex_lock(&r->mu);
    int64_t res = 0;
    while (done < len) {
        if (r->gone || r->in_too_large || r->out_done) {
            res = -EPIPE;
            break;
        }
        if (!r->resp_started) {
            res = -EINVAL;
            break;
        }
        if (r->mode == RESP_PENDING) {
            uint64_t t = now_ns();
            if (!r->first_out_ns)
                r->first_out_ns = t;
            if (r->out.len + (len - done) >= OUT_WINDOW || t - r->first_out_ns >= STREAM_AFTER_NS) {
                r->mode = RESP_STREAM;
                if (r->in_done)
                    wake_http(r);
            }
        }
        size_t limit = r->queued ? OUT_WINDOW : OUT_PENDING_CAP;
        if (r->out.len >= limit) {
            if (atomic_load(&r->srv->aborting)) {
                res = -EINTR;
                break;
            }
            if (req_wait(r, store, &r->waiting_out, deadline_ns) == ETIMEDOUT) {
                res = -EINTR;
                break;
            }
            continue;
        }
        size_t n = len - done;
        if (n > limit - r->out.len)
            n = limit - r->out.len;
        if (!sbuf_append(&r->out, p + done, n)) {
            res = -ENOMEM;
            break;
        }
        done += n;
        if (r->mode == RESP_STREAM && r->queued)
            wake_http(r);
    }
    req_unlock(r);
    return done ? (int64_t)done : res;
}

void serve_resp_finish(serve_req_t *r)
{
    pthread_mutex_lock(&r->mu);
    if (!r->out_done) {
        if (!r->resp_started) {
            r->resp_started = true;
            r->status = 200;
        }
        r->out_done = true;
        if (r->mode == RESP_PENDING)
            r->mode = RESP_FIXED;
        wake_http(r);
    }
    req_unlock(r);
}

/* Replaces whatever response the guest began with `status` and a short
 * plain-text `message` (r->mu held; nothing has been queued). */
static void replace_response(serve_req_t *r, int status, const char *message)
{
    free_headers(r->rhdrs, r->nrhdrs);
    r->rhdrs = NULL;
    r->nrhdrs = 0;
    sbuf_free(&r->out);
    r->resp_started = true;
    r->status = status;
    serve_header_t ct = {strdup("Content-Type"), strdup("text/plain; charset=utf-8")};
    if (ct.name && ct.value && (r->rhdrs = malloc(sizeof *r->rhdrs))) {
        r->rhdrs[0] = ct;
        r->nrhdrs = 1;
    } else {
        free((char *)ct.name);
        free((char *)ct.value);
    }
    if (status == 503) {
        serve_header_t ra = {strdup("Retry-After"), strdup("1")};
        serve_header_t *h = ra.name && ra.value
                                ? realloc(r->rhdrs, (r->nrhdrs + 1) * sizeof *h) : NULL;
        if (h) {
            h[r->nrhdrs++] = ra;
            r->rhdrs = h;
        } else {
            free((char *)ra.name);
            free((char *)ra.value);
        }
    }
    sbuf_append(&r->out, message, strlen(message));
    sbuf_append(&r->out, "\n", 1);
    r->mode = RESP_FIXED;
}

void serve_resp_fail(serve_req_t *r, int status, const char *message)
{
    pthread_mutex_lock(&r->mu);
    if (r->out_done) {
        req_unlock(r);
        return;
    }
    if (!r->queued) {
        /* Nothing has left: replace whatever the guest began. */
        replace_response(r, status, message);
        r->failed = true;
    } else {
        r->out_error = true;
    }
    r->out_done = true;
    wake_http(r);
    req_unlock(r);
}

void serve_req_set_notify(serve_req_t *r, void (*fn)(void *env), void *env)
{
    pthread_mutex_lock(&r->mu);
    r->notify = fn;
    r->notify_env = env;
    req_unlock(r);
}

int64_t serve_req_try_read(serve_req_t *r, void *buf, size_t len)
{
    pthread_mutex_lock(&r->mu);
    int64_t res;
    if (r->in_too_large)
        res = -EFBIG;
    else if (r->in.len && len) {
        res = (int64_t)sbuf_take(&r->in, buf, len);
        if (r->in.len <= IN_WINDOW / 2)
            wake_http(r);
    } else if (r->in_done)
        res = 0;
    else if (r->gone)
        res = -ECONNRESET;
    else {
        wake_http(r);
        res = -EAGAIN;
    }
    req_unlock(r);
    return res;
}

bool serve_req_readable(serve_req_t *r)
{
    pthread_mutex_lock(&r->mu);
    bool ready = r->in.len || r->in_done || r->gone || r->in_too_large ||
                 atomic_load(&r->srv->aborting);
    req_unlock(r);
    return ready;
}

int64_t serve_resp_room(serve_req_t *r)
{
    pthread_mutex_lock(&r->mu);
    int64_t room;
    if (r->gone || r->in_too_large || r->out_done)
        room = -EPIPE;
    else if (atomic_load(&r->srv->aborting))
        room = -EINTR;
    else {
        size_t limit = r->queued ? OUT_WINDOW : OUT_PENDING_CAP;
        room = r->out.len < limit ? (int64_t)(limit - r->out.len) : 0;
    }
    req_unlock(r);
    return room;
}

/* After the worker (or the queue's expiry) is done with a request. */
static void worker_release(serve_server_t *srv, serve_req_t *r)
{
    pthread_mutex_lock(&r->mu);
    if (!r->out_done) {
        req_unlock(r);
        serve_resp_fail(r, 500, "Internal Server Error");
        pthread_mutex_lock(&r->mu);
    }
    r->worker_done = true;
    if (!r->in_done) {
        r->in_discard = true;
        /* Failed (504 at the deadline, say) while the client is still
         * uploading: answer now, not when the upload ends or the idle
         * timeout closes the connection. Not for a request without a body,
         * whose final MHD call is imminent (the answer then goes out the
         * normal way, keeping the connection). Not either if no body byte
         * has come and a 100 Continue is owed, as MHD may be writing it
         * this instant: then the HTTP thread answers at the first byte. */
        if (r->failed && r->has_body && (r->in_total || r->discarded || !r->expect_continue))
            answer_now(r);
    }
    wake_http(r);
    req_unlock(r);

    pthread_mutex_lock(&srv->mu);
    if (r->aprev)
        r->aprev->anext = r->anext;
    else
        srv->active = r->anext;
    if (r->anext)
        r->anext->aprev = r->aprev;
    r->anext = r->aprev = NULL;
    if (--srv->inflight == 0)
        pthread_cond_broadcast(&srv->idle_cv);
    pthread_mutex_unlock(&srv->mu);
    req_unref(r);
}

void serve_http_run(serve_server_t *srv, serve_req_t *r)
{
    serve_app_begin(srv->app, r, false);
    worker_release(srv, r);
}

serve_job_t *serve_http_begin(serve_server_t *srv, serve_req_t *r)
{
    serve_job_t *job = serve_app_begin(srv->app, r, true);
    if (!job)
        worker_release(srv, r);
    return job;
}

void serve_http_end(serve_server_t *srv, serve_job_t *job, serve_req_t *r)
{
    serve_app_end(job);
    worker_release(srv, r);
}

void serve_http_reject(serve_req_t *r)
{
    SERVE_COUNT(r->srv, rejected_busy);
    serve_resp_fail(r, 503, "Service Unavailable: server busy");
    worker_release(r->srv, r);
}

/* ---- listening, running, stopping ---- */

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    serve_server_t *srv = cls;
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    const char *code = strstr(buf, "(HTTP response code is ");
    unsigned status;
    if (code && sscanf(code + 23, "%u", &status) == 1 && status >= 400 && status < 600 &&
        strstr(buf, "Content-Length"))
        answer_refused_head(srv, status);
    /* TCP options on the unix socket of self requests (local_open): MHD
     * cannot tell it from TCP, and unix sockets do not delay small writes. */
    if ((strstr(buf, "TCP_") && strstr(buf, "Operation not supported")) ||
        strstr(buf, "Failed to push the data from buffers"))
        return;
    size_t n = strlen(buf);
    while (n && buf[n - 1] == '\n')
        buf[--n] = '\0';
    serve_log("http: %s", buf);
}

/* The engine's warnings (a request's memory limit refusing growth, ...)
 * in the server's log format. */
static void engine_log(void *env, whirl_log_level_t level, const char *event, const char *msg)
{
    (void)env;
    (void)event;
    serve_log("%s: %s", level == WHIRL_LOG_WARNING ? "warning" : "info", msg);
}

/* Ends guests still running when the grace period is over: their deadline
 * is in epoch ticks, so moving the epoch past any deadline a request can
 * have makes each trap at its next check, and blocked host calls see
 * `aborting`. */
static void abort_guests(serve_server_t *srv)
{
    atomic_store(&srv->aborting, true);
    uint64_t interval_us = 10000;
    const whirl_config_t *cfg = whirl_engine_config(srv->engine);
    for (size_t i = 0, n = whirl_config_item_count(); i < n; i++) {
        whirl_config_item_t it;
        uint64_t ns;
        if (whirl_config_item(cfg, i, &it) && strcmp(it.name, "epoch_interval") == 0) {
            whirl_error_t *err = whirl_parse_duration(it.value, &ns);
            if (!err)
                interval_us = ns / 1000;
            whirl_error_delete(err);
        }
    }
    if (interval_us == 0)
        interval_us = 1;
    uint64_t ticks = srv->opts->timeout_ns / 1000 / interval_us + 2;
    for (uint64_t i = 0; i < ticks; i++)
        whirl_engine_increment_epoch(srv->engine);
    pthread_mutex_lock(&srv->mu);
    for (serve_req_t *r = srv->active; r; r = r->anext) {
        pthread_mutex_lock(&r->mu);
        pthread_cond_broadcast(&r->cv);
        wake_worker(r);
        req_unlock(r);
    }
    pthread_mutex_unlock(&srv->mu);
}

/* Waits until every request MHD has begun has ended (answered or its
 * client gone), or `deadline`. */
static void wait_drained(serve_server_t *srv, uint64_t deadline_ns)
{
    pthread_mutex_lock(&srv->mu);
    while (srv->open_requests &&
           cv_wait_until(&srv->idle_cv, &srv->mu, deadline_ns) != ETIMEDOUT) {
    }
    pthread_mutex_unlock(&srv->mu);
}

/* Waits until no request is with a worker, or `deadline`. */
static bool wait_idle(serve_server_t *srv, uint64_t deadline_ns)
{
    pthread_mutex_lock(&srv->mu);
    while (srv->inflight && cv_wait_until(&srv->idle_cv, &srv->mu, deadline_ns) != ETIMEDOUT) {
    }
    bool idle = srv->inflight == 0;
    pthread_mutex_unlock(&srv->mu);
    return idle;
}

int serve_run(const serve_opts_t *o, whirl_config_t *config)
{
    serve_server_t srv_, *srv = &srv_;
    memset(srv, 0, sizeof *srv);
    srv->opts = o;
    srv->listen_fd = -1;
    srv->local_fd = -1;
    pthread_mutex_init(&srv->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&srv->idle_cv, &ca);
    pthread_condattr_destroy(&ca);

    /* Every thread inherits this mask; the main thread takes the signals
     * with sigwait, so no handler runs in the middle of anything. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    int status = 1;
    whirl_config_log_set(config, engine_log, NULL);
    whirl_error_t *err = whirl_engine_new(config, &srv->engine);
    if (err) {
        serve_log("error: cannot create the engine: %s", whirl_error_message(err));
        whirl_error_delete(err);
        return 1;
    }
    if ((err = serve_app_load(srv, o, &srv->app))) {
        serve_log("error: %s", whirl_error_message(err));
        whirl_error_delete(err);
        goto out;
    }
    srv->listen_fd = serve_listen_open(srv, o->listen);
    if (srv->listen_fd < 0) {
        status = 4;
        goto out;
    }
    unsigned workers = o->workers;
    if (!workers) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        workers = n > 0 ? (unsigned)n : 1;
    }
    srv->pool = serve_pool_new(srv, workers, o->max_queue, o->queue_timeout_ns);
    if (!srv->pool) {
        serve_log("error: cannot start %u worker threads", workers);
        goto out;
    }
    /* whirl accepts the connections itself, to answer a malformed request
     * line with 400 before libmicrohttpd sees it (gate.c). */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET;
    size_t mem = o->max_header < 4096 ? 4096 : o->max_header;
    /* The logger must come first, or MHD's own messages bypass it. */
    struct MHD_OptionItem ops[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_logger, srv},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, srv},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_done, srv},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)mem, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)o->io_timeout_s, NULL},
        {MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)o->io_threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    if (o->io_threads <= 1)
        ops[5].option = MHD_OPTION_END;
    srv->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_ARRAY, ops,
                                   MHD_OPTION_END);
    if (!srv->daemon) {
        serve_log("error: libmicrohttpd could not start on %s", o->listen);
        serve_pool_stop(srv->pool);
        goto out;
    }
    serve_local_open(srv);
    if (!(srv->gate = serve_gate_start(srv))) {
        serve_local_close(srv);
        MHD_stop_daemon(srv->daemon);
        serve_pool_stop(srv->pool);
        goto out;
    }
    char desc[256];
    serve_app_describe(srv->app, desc, sizeof desc);
    const char *h = srv->listen_host;
    serve_log("listening on http://%s%s%s:%s (%s; %u workers, pooling %s)",
              strchr(h, ':') ? "[" : "", h, strchr(h, ':') ? "]" : "", srv->listen_port, desc,
              workers, whirl_engine_pooling(srv->engine) ? "on" : "off");
    char base_url[1024]; /* fits "http://[HOST]:PORT" for any host and port the options accept */
    snprintf(base_url, sizeof base_url, "http://%s%s%s:%s", strchr(h, ':') ? "[" : "", h,
             strchr(h, ':') ? "]" : "", srv->listen_port);
    serve_app_print_routes(srv->app, base_url);

    int sig = 0;
    while (sigwait(&sigs, &sig) == 0 && sig == SIGPIPE) {
    }
    serve_log("%s: shutting down (grace period %.1fs)", sig == SIGINT ? "SIGINT" : "SIGTERM",
              (double)o->grace_ns / 1e9);
    atomic_store(&srv->stopping, true);
    serve_gate_stop(srv->gate);
    srv->gate = NULL;
    close(srv->listen_fd);
    srv->listen_fd = -1;
    uint64_t grace_end = now_ns() + o->grace_ns;
    if (!wait_idle(srv, grace_end)) {
        serve_log("grace period over: ending %u request(s) still running", srv->inflight);
        abort_guests(srv);
        wait_idle(srv, now_ns() + 5000000000ull);
    }
    /* A worker's answer is still to be sent by the MHD thread: stopping the
     * daemon now would cut it (the client saw an empty reply when the MHD
     * thread was slow to run). Wait for the requests to end, within the
     * grace period or DRAIN_NS after the workers, whichever is later. */
    uint64_t drain_end = now_ns() + DRAIN_NS;
    wait_drained(srv, drain_end > grace_end ? drain_end : grace_end);
    serve_pool_stop(srv->pool);
    serve_local_close(srv);
    pthread_mutex_lock(&srv->mu);
    while (srv->local_threads) /* as the pool's threads are joined */
        pthread_cond_wait(&srv->idle_cv, &srv->mu);
    pthread_mutex_unlock(&srv->mu);
    MHD_stop_daemon(srv->daemon);
    serve_http_flush_log(srv);
    serve_log("stopped");
    status = 0;
out:
    if (srv->pool)
        serve_pool_delete(srv->pool);
    if (srv->listen_fd >= 0)
        close(srv->listen_fd);
    serve_app_delete(srv->app);
    whirl_engine_delete(srv->engine);
    serve_http_flush_log(srv);
    free(srv->logbuf);
    pthread_cond_destroy(&srv->idle_cv);
    pthread_mutex_destroy(&srv->mu);
    return status;
}
