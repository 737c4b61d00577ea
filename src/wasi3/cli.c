/* wasi:cli 0.3 standard streams: stdout/stderr `write-via-stream` takes the
 * readable end of a guest's stream<u8> and becomes its sink, writing what
 * the guest writes to the context's descriptor before the guest's
 * stream.write returns (in chunks of at most W2_MAX_IO: nothing is
 * buffered on the host, so a writer that never stops never grows host
 * memory); stdin `read-via-stream` gives the guest a stream the host
 * fills from the descriptor as the guest reads. Each also returns a
 * future<result<_, error-code>> that resolves when the stream ends: ok,
 * or err(io) after a failed write or read. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "component/component.h"
#include "wasi3/wasi3.h"

enum { ERROR_CODE_IO = 0 };

typedef struct stdio_end {
    int fd;
    /* stdin: the context and store its reads wait in (both outlive every
     * guest call, the only place reads happen). */
    whirl_wasi2_t *w;
    whirl_store_t *store;
    cstream_t *future; /* resolved once, when the stream ends */
    bool failed, resolved;
} stdio_end_t;

static void resolve(stdio_end_t *st)
{
    if (st->resolved)
        return;
    st->resolved = true;
    whirl_cval_t v = {0}, *payload = NULL;
    if (whirl_cval_set_case(&v, WHIRL_CVAL_RESULT, st->failed ? 1 : 0, st->failed))
        return; /* out of memory: the future stays unresolved */
    if ((payload = v.of.variant.payload)) {
        payload->kind = WHIRL_CVAL_ENUM;
        payload->of.variant.index = ERROR_CODE_IO;
    }
    cstream_future_resolve(st->future, &v);
}

static void end_free(void *env)
{
    stdio_end_t *st = env;
    cstream_unref(st->future);
    free(st);
}

/* Waits until `fd` is ready for `events` (a descriptor someone made
 * non-blocking). */
static void wait_fd(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    while (poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
}

static whirl_error_t *out_write(void *env, const uint8_t *data, size_t n, size_t *done,
                                bool *closed)
{
    stdio_end_t *st = env;
    size_t off = 0;
    while (off < n && !st->failed) {
        size_t chunk = n - off < W2_MAX_IO ? n - off : W2_MAX_IO;
        long r = w2_write_no_sigpipe(st->fd, data + off, chunk, false, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            wait_fd(st->fd, POLLOUT);
            continue;
        }
        if (r <= 0)
            st->failed = true;
        else
            off += (size_t)r;
    }
    *done = off;
    *closed = st->failed;
    if (st->failed)
        resolve(st);
    return NULL;
}

static bool in_ready(void *env)
{
    stdio_end_t *st = env;
    struct pollfd p = {.fd = st->fd, .events = POLLIN};
    return st->fd < 0 || poll(&p, 1, 0) != 0;
}

static int in_wait_fd(void *env, short *events)
{
    *events = POLLIN;
    return ((stdio_end_t *)env)->fd;
}

static const whirl_wasi2_pollable_ops_t in_poll = {.ready = in_ready, .wait_fd = in_wait_fd};

/* Reads what stdin has, waiting for it as 0.2's blocking-read does (ended
 * by the store's deadline or an interrupt, which trap the guest's read). */
static whirl_error_t *in_read(void *env, uint8_t *dst, size_t n, size_t *done, bool *eof)
{
    stdio_end_t *st = env;
    *done = 0;
    *eof = false;
    if (st->resolved) {
        *eof = true;
        return NULL;
    }
    if (n == 0)
        return NULL;
    w2_pollable_t p = {.type = W2_POLL_HOST, .ops = &in_poll, .env = st};
    for (;;) {
        whirl_error_t *e = w2_wait(st->w, st->store, &p, 1, NULL);
        if (e)
            return e;
        long r = read(st->fd, dst, n < W2_MAX_IO ? n : W2_MAX_IO);
        if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (r > 0) {
            *done = (size_t)r;
            return NULL;
        }
        st->failed = r < 0;
        *eof = true;
        resolve(st);
        return NULL;
    }
}

/* The guest dropped its end: the stream ended without a failure. */
static void peer_dropped(void *env) { resolve(env); }

static const cstream_host_ops_t out_ops = {.write = out_write, .peer_dropped = peer_dropped,
                                           .free = end_free};
static const cstream_host_ops_t in_ops = {.read = in_read, .peer_dropped = peer_dropped,
                                          .free = end_free};

/* A new stdio end over descriptor `fd` whose future goes into `fut`. */
static whirl_error_t *new_end(int fd, whirl_cval_t *fut, stdio_end_t **out)
{
    stdio_end_t *st = calloc(1, sizeof *st);
    if (!st)
        return w2_oom();
    whirl_error_t *e = cstream_host_new(true, NULL, NULL, fut);
    if (e) {
        free(st);
        return e;
    }
    st->fd = fd;
    st->future = cstream_of(fut);
    cstream_ref(st->future);
    *out = st;
    return NULL;
}

static whirl_error_t *write_via_stream(w2_call_t *c, int which)
{
    const whirl_cval_t *data = &c->args[0];
    if (data->kind != WHIRL_CVAL_STREAM)
        return w2_trap(c, "parameter 0 is not a stream");
    stdio_end_t *st;
    whirl_error_t *e = new_end(c->w->stdio[which], c->res, &st);
    if (e)
        return e;
    /* The stream owns `st` from here (freed with it, or now on error). */
    if ((e = cstream_attach_sink(data, &out_ops, st))) {
        whirl_error_t *t = w2_trap(c, "%s", whirl_error_message(e));
        whirl_error_delete(e);
        return t;
    }
    return NULL;
}

static whirl_error_t *stdout_write(w2_call_t *c) { return write_via_stream(c, 1); }
static whirl_error_t *stderr_write(w2_call_t *c) { return write_via_stream(c, 2); }

static whirl_error_t *stdin_read(w2_call_t *c)
{
    whirl_error_t *e = whirl_cval_set_items(c->res, WHIRL_CVAL_TUPLE, 2);
    if (e)
        return e;
    whirl_cval_t *items = c->res->of.list.items;
    stdio_end_t *st;
    if ((e = new_end(c->w->stdio[0], &items[1], &st)))
        return e;
    st->w = c->w;
    st->store = c->store;
    if ((e = cstream_host_new(false, &in_ops, st, &items[0])))
        end_free(st);
    return e;
}

#define CLI(iface, name, fn, na, nr) {WHIRL_WASI2_CLI, iface, name, fn, na, nr}
const w2_def_t w3_cli_defs[] = {
    CLI("wasi:cli/stdout", "write-via-stream", stdout_write, 1, 1),
    CLI("wasi:cli/stderr", "write-via-stream", stderr_write, 1, 1),
    CLI("wasi:cli/stdin", "read-via-stream", stdin_read, 0, 1),
};
const size_t w3_cli_ndefs = sizeof w3_cli_defs / sizeof *w3_cli_defs;
