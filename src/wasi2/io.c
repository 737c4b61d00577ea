/* wasi:io (error, poll, streams) and the stream backends over host
 * descriptors (standard streams, files). Every stream, built-in or the
 * embedder's, goes through the same callbacks (whirl_wasi2_stream_ops_t),
 * and the blocking variants are the non-blocking ones plus a wait on the
 * stream's readiness. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi2/internal.h"

/* ------------------------------------------------------------------ */
/* Backends over host descriptors                                      */
/* ------------------------------------------------------------------ */

typedef struct fdstream {
    int code;        /* host errno of the last FAILED result */
    int fd;          /* -1: an absent standard stream */
    bool own;
    bool positional; /* pread/pwrite at `offset` */
    bool append;     /* pwrite at the end of the file */
    bool never_blocks;
    uint64_t offset;
} fdstream_t;

/* Output permitted at once to a descriptor that never blocks. */
enum { FD_PERMIT = 1u << 20, PIPE_PERMIT = 4096 /* PIPE_BUF: fits once POLLOUT says so */ };

static bool fd_poll_now(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    int r;
    while ((r = poll(&p, 1, 0)) < 0 && errno == EINTR) {
    }
    return r != 0; /* ready, or in error: the operation reports it */
}

static char *errno_message(int e)
{
    return strdup(strerror(e));
}

static int64_t fd_failed(fdstream_t *s, int e, char **error)
{
    s->code = e;
    *error = errno_message(e);
    return WHIRL_WASI2_FAILED;
}

static int64_t fd_read(void *env, uint8_t *buf, size_t len, char **error)
{
    fdstream_t *s = env;
    if (s->fd < 0)
        return WHIRL_WASI2_CLOSED;
    for (;;) {
        ssize_t n;
        if (s->positional) {
            n = pread(s->fd, buf, len, (off_t)s->offset);
        } else {
            if (!s->never_blocks && !fd_poll_now(s->fd, POLLIN))
                return 0;
            n = read(s->fd, buf, len);
        }
        if (n > 0) {
            if (s->positional)
                s->offset += (uint64_t)n;
            return n;
        }
        if (n == 0)
            return WHIRL_WASI2_CLOSED;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        return fd_failed(s, errno, error);
    }
}

static int64_t fd_check_write(void *env, char **error)
{
    fdstream_t *s = env;
    if (s->fd < 0 || s->never_blocks)
        return FD_PERMIT;
    return fd_poll_now(s->fd, POLLOUT) ? PIPE_PERMIT : 0;
}

long w2_write_no_sigpipe(int fd, const void *buf, size_t len, bool positional, uint64_t offset)
{
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigemptyset(&pending);
    sigpending(&pending);
    bool was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    ssize_t r = positional ? pwrite(fd, buf, len, (off_t)offset) : write(fd, buf, len);
    int e = errno;
    if (r < 0 && e == EPIPE && !was_pending) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return r;
}

static int64_t fd_write(void *env, const uint8_t *buf, size_t len, char **error)
{
    fdstream_t *s = env;
    if (s->fd < 0)
        return 0;
    while (len > 0) {
        uint64_t at = s->offset;
        if (s->append) {
            struct stat st;
            if (fstat(s->fd, &st) != 0)
                return fd_failed(s, errno, error);
            at = (uint64_t)st.st_size;
        }
        long n = w2_write_no_sigpipe(s->fd, buf, len, s->positional, at);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                /* A descriptor someone else made non-blocking: the permit
                 * promised this much, so wait for room. */
                struct pollfd p = {.fd = s->fd, .events = POLLOUT};
                poll(&p, 1, -1);
                continue;
            }
            return fd_failed(s, errno, error);
        }
        if (s->positional && !s->append)
            s->offset += (uint64_t)n;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int64_t fd_flush(void *env, char **error)
{
    return 0; /* nothing is buffered in the host */
}

static bool fd_in_ready(void *env)
{
    fdstream_t *s = env;
    return s->fd < 0 || s->never_blocks || fd_poll_now(s->fd, POLLIN);
}

static bool fd_out_ready(void *env)
{
    fdstream_t *s = env;
    return s->fd < 0 || s->never_blocks || fd_poll_now(s->fd, POLLOUT);
}

static int fd_in_wait(void *env, short *events)
{
    *events = POLLIN;
    return ((fdstream_t *)env)->fd;
}

static int fd_out_wait(void *env, short *events)
{
    *events = POLLOUT;
    return ((fdstream_t *)env)->fd;
}

static void fd_drop(void *env)
{
    fdstream_t *s = env;
    if (s->own && s->fd >= 0)
        close(s->fd);
    free(s);
}

static const whirl_wasi2_stream_ops_t fd_in_ops = {
    .read = fd_read, .ready = fd_in_ready, .wait_fd = fd_in_wait, .drop = fd_drop};
static const whirl_wasi2_stream_ops_t fd_out_ops = {
    .check_write = fd_check_write, .write = fd_write, .flush = fd_flush,
    .ready = fd_out_ready, .wait_fd = fd_out_wait, .drop = fd_drop};

whirl_error_t *w2_fd_stream(whirl_wasi2_t *w, uint8_t kind, int fd, bool own, bool positional,
                            uint64_t offset, bool append, uint32_t *rep)
{
    fdstream_t *s = calloc(1, sizeof *s);
    if (!s) {
        if (own && fd >= 0)
            close(fd);
        return w2_oom();
    }
    s->fd = fd;
    s->own = own;
    s->positional = positional;
    s->append = append;
    s->offset = offset;
    struct stat st;
    /* Regular files and directories never make a reader or writer wait;
     * pipes, sockets and terminals may. */
    s->never_blocks = fd >= 0 && fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode));
    if (positional && !s->never_blocks)
        s->positional = s->append = false; /* a fifo or device has no offsets */
    return w2_stream_add(w, kind, kind == W2_INPUT ? &fd_in_ops : &fd_out_ops, s, &s->code,
                         own && fd >= 0, rep);
}

/* ------------------------------------------------------------------ */
/* Calling stream callbacks                                            */
/* ------------------------------------------------------------------ */

/* The outcome of one callback: a count, or CLOSED / FAILED with a message
 * and host errno. Counts outside the contract are failures. */
typedef struct sres {
    int64_t n;
    char *msg;
    int code;
} sres_t;

static sres_t checked(const w2_stream_t *s, int64_t n, char *msg, int64_t max)
{
    sres_t r = {.n = n, .msg = msg};
    if (n == WHIRL_WASI2_FAILED) {
        r.code = s->code ? *s->code : 0;
    } else if (n != WHIRL_WASI2_CLOSED && (n < 0 || n > max)) {
        free(msg);
        r = (sres_t){.n = WHIRL_WASI2_FAILED, .msg = strdup("host stream returned an invalid "
                                                             "count")};
    } else if (msg) {
        free(msg); /* only failures carry a message */
        r.msg = NULL;
    }
    return r;
}

static sres_t s_read(const w2_stream_t *s, uint8_t *buf, size_t len)
{
    char *msg = NULL;
    return checked(s, s->ops->read(s->env, buf, len, &msg), msg, (int64_t)len);
}

static sres_t s_check_write(const w2_stream_t *s)
{
    char *msg = NULL;
    return checked(s, s->ops->check_write(s->env, &msg), msg, INT64_MAX);
}

static sres_t s_write(const w2_stream_t *s, const uint8_t *buf, size_t len)
{
    char *msg = NULL;
    return checked(s, s->ops->write(s->env, buf, len, &msg), msg, 0);
}

static sres_t s_flush(const w2_stream_t *s)
{
    char *msg = NULL;
    if (!s->ops->flush)
        return (sres_t){0};
    return checked(s, s->ops->flush(s->env, &msg), msg, 0);
}

static whirl_error_t *result_of(const w2_call_t *c, sres_t r)
{
    return w2_err_stream(c, c->res, r.n, r.msg, r.code);
}

/* The stream in argument `i` (copied: the table may move while we run). */
static whirl_error_t *arg_stream(const w2_call_t *c, size_t i, whirl_wasi2_resource_t which,
                                 uint32_t *rep, w2_stream_t *out)
{
    w2_obj_t *o;
    whirl_error_t *e = w2_arg_obj(c, i, which, rep, &o);
    if (!e)
        *out = o->u.stream;
    return e;
}

static size_t clamp_len(uint64_t len)
{
    return len > W2_MAX_IO ? W2_MAX_IO : (size_t)len;
}

/* ------------------------------------------------------------------ */
/* wasi:io/error                                                       */
/* ------------------------------------------------------------------ */

static whirl_error_t *error_to_debug_string(w2_call_t *c)
{
    uint32_t rep;
    w2_obj_t *o;
    whirl_error_t *e = w2_arg_obj(c, 0, WHIRL_WASI2_ERROR, &rep, &o);
    if (e)
        return e;
    const char *m = o->u.err.message;
    return whirl_cval_set_string(c->res, m, strlen(m));
}

/* ------------------------------------------------------------------ */
/* wasi:io/poll                                                        */
/* ------------------------------------------------------------------ */

static whirl_error_t *pollable_ready(w2_call_t *c)
{
    uint32_t rep;
    w2_obj_t *o;
    whirl_error_t *e = w2_arg_obj(c, 0, WHIRL_WASI2_POLLABLE, &rep, &o);
    if (!e)
        w2_set_bool(c->res, w2_pollable_ready(c->w, &o->u.poll));
    return e;
}

static whirl_error_t *pollable_block(w2_call_t *c)
{
    uint32_t rep;
    w2_obj_t *o;
    whirl_error_t *e = w2_arg_obj(c, 0, WHIRL_WASI2_POLLABLE, &rep, &o);
    if (e)
        return e;
    w2_pollable_t p = o->u.poll;
    return w2_wait(c->w, c->store, &p, 1, NULL);
}

static whirl_error_t *poll_list(w2_call_t *c)
{
    if (c->args[0].kind != WHIRL_CVAL_LIST)
        return w2_trap(c, "parameter 0 is not a list of pollables");
    const whirl_cval_t *items = c->args[0].of.list.items;
    size_t n = c->args[0].of.list.len;
    if (n == 0)
        return w2_trap(c, "poll needs at least one pollable (it would wait forever)");
    if (n > W2_MAX_POLL)
        return w2_trap(c, "poll of %zu pollables (at most %u)", n, W2_MAX_POLL);
    w2_pollable_t *ps = malloc(n * sizeof *ps);
    bool *ready = calloc(n, sizeof *ready);
    whirl_error_t *e = ps && ready ? NULL : w2_oom();
    for (size_t i = 0; i < n && !e; i++) {
        uint32_t rep;
        if ((e = w2_check_handle(c, &items[i], WHIRL_WASI2_POLLABLE, &rep)))
            break;
        w2_obj_t *o = w2_obj_get(c->w, rep, W2_POLLABLE);
        if (!o)
            e = w2_trap(c, "pollable %u does not exist", rep);
        else
            ps[i] = o->u.poll;
    }
    if (!e)
        e = w2_wait(c->w, c->store, ps, n, ready);
    size_t count = 0;
    for (size_t i = 0; i < n && !e; i++)
        count += ready[i];
    if (!e)
        e = whirl_cval_set_items(c->res, WHIRL_CVAL_LIST, count);
    for (size_t i = 0, k = 0; i < n && !e; i++)
        if (ready[i])
            w2_set_uint(&c->res->of.list.items[k++], WHIRL_CVAL_U32, i);
    free(ps);
    free(ready);
    return e;
}

/* ------------------------------------------------------------------ */
/* wasi:io/streams: input                                              */
/* ------------------------------------------------------------------ */

/* read / blocking-read / skip / blocking-skip. */
static whirl_error_t *do_read(w2_call_t *c, bool blocking, bool skip)
{
    uint32_t rep;
    w2_stream_t s;
    uint64_t len64;
    whirl_error_t *e = arg_stream(c, 0, WHIRL_WASI2_INPUT_STREAM, &rep, &s);
    if (e || (e = w2_arg_uint(c, 1, WHIRL_CVAL_U64, &len64)))
        return e;
    size_t len = clamp_len(len64);
    if (skip && len > 65536)
        len = 65536;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return w2_oom();
    sres_t r = {0};
    while (len > 0) {
        r = s_read(&s, buf, len);
        if (r.n != 0 || !blocking)
            break;
        if ((e = w2_wait_stream(c->w, c->store, rep))) {
            free(buf);
            return e;
        }
    }
    if (r.n < 0) {
        free(buf);
        return result_of(c, r);
    }
    whirl_cval_t *p;
    if ((e = w2_ok(c->res, &p))) {
        free(buf);
        return e;
    }
    if (skip) {
        free(buf);
        w2_set_uint(p, WHIRL_CVAL_U64, (uint64_t)r.n);
        return NULL;
    }
    if (r.n < (int64_t)len / 2 && r.n > 0) {
        uint8_t *shrunk = realloc(buf, (size_t)r.n);
        if (shrunk)
            buf = shrunk;
    }
    p->kind = WHIRL_CVAL_BYTES;
    p->of.string.data = (char *)buf;
    p->of.string.len = (size_t)r.n;
    if (r.n == 0) {
        free(buf);
        p->of.string.data = NULL;
    }
    return NULL;
}

static whirl_error_t *in_read(w2_call_t *c) { return do_read(c, false, false); }
static whirl_error_t *in_blocking_read(w2_call_t *c) { return do_read(c, true, false); }
static whirl_error_t *in_skip(w2_call_t *c) { return do_read(c, false, true); }
static whirl_error_t *in_blocking_skip(w2_call_t *c) { return do_read(c, true, true); }

static whirl_error_t *subscribe(w2_call_t *c, whirl_wasi2_resource_t which)
{
    uint32_t rep, prep;
    w2_obj_t *o;
    whirl_error_t *e = w2_arg_obj(c, 0, which, &rep, &o);
    if (e)
        return e;
    w2_obj_t p = {.kind = W2_POLLABLE};
    p.u.poll = (w2_pollable_t){.type = W2_POLL_STREAM, .parent = rep};
    if ((e = w2_obj_add(c->w, &p, &prep)))
        return e;
    w2_obj_get(c->w, rep, W2_KIND(which))->children++;
    w2_set_own(c, c->res, WHIRL_WASI2_POLLABLE, prep);
    return NULL;
}

static whirl_error_t *in_subscribe(w2_call_t *c) { return subscribe(c, WHIRL_WASI2_INPUT_STREAM); }

/* ------------------------------------------------------------------ */
/* wasi:io/streams: output                                             */
/* ------------------------------------------------------------------ */

static whirl_error_t *out_check_write(w2_call_t *c)
{
    uint32_t rep;
    w2_stream_t s;
    whirl_error_t *e = arg_stream(c, 0, WHIRL_WASI2_OUTPUT_STREAM, &rep, &s);
    if (e)
        return e;
    sres_t r = s_check_write(&s);
    if (r.n < 0)
        return result_of(c, r);
    whirl_cval_t *p;
    if (!(e = w2_ok(c->res, &p)))
        w2_set_uint(p, WHIRL_CVAL_U64, (uint64_t)r.n);
    return e;
}

/* Writes `len` bytes of `data` (zeroes if NULL) within the permit the
 * stream gives now; a write beyond it is the guest's error (a trap). */
static whirl_error_t *write_now(w2_call_t *c, const w2_stream_t *s, const uint8_t *data,
                                size_t len)
{
    sres_t r = s_check_write(s);
    if (r.n >= 0 && (uint64_t)r.n < len)
        return w2_trap(c, "write of %zu bytes exceeds the %lld that check-write permits", len,
                       (long long)r.n);
    if (r.n >= 0 && len > 0) {
        uint8_t *zeroes = NULL;
        if (!data && !(data = zeroes = calloc(1, len)))
            return w2_oom();
        r = s_write(s, data, len);
        free(zeroes);
    }
    if (r.n < 0)
        return result_of(c, r);
    return w2_ok(c->res, NULL);
}

/* The blocking write-and-flush loop: wait for a permit, write what it
 * allows, repeat, then flush and wait for the flush. */
static whirl_error_t *write_blocking(w2_call_t *c, uint32_t rep, const w2_stream_t *s,
                                     const uint8_t *data, size_t len)
{
    if (len > W2_MAX_BLOCKING_WRITE)
        return w2_trap(c, "%zu bytes exceed the %u a blocking write may take", len,
                       W2_MAX_BLOCKING_WRITE);
    static const uint8_t zeroes[W2_MAX_BLOCKING_WRITE];
    whirl_error_t *e;
    sres_t r = {0};
    while (len > 0) {
        r = s_check_write(s);
        if (r.n < 0)
            return result_of(c, r);
        if (r.n == 0) {
            if ((e = w2_wait_stream(c->w, c->store, rep)))
                return e;
            continue;
        }
        size_t n = (uint64_t)r.n < len ? (size_t)r.n : len;
        r = s_write(s, data ? data : zeroes, n);
        if (r.n < 0)
            return result_of(c, r);
        if (data)
            data += n;
        len -= n;
    }
    r = s_flush(s);
    if (r.n < 0)
        return result_of(c, r);
    if ((e = w2_wait_stream(c->w, c->store, rep)))
        return e;
    r = s_check_write(s);
    if (r.n < 0)
        return result_of(c, r);
    return w2_ok(c->res, NULL);
}

static whirl_error_t *out_write(w2_call_t *c)
{
    uint32_t rep;
    w2_stream_t s;
    const uint8_t *data;
    size_t len;
    whirl_error_t *e = arg_stream(c, 0, WHIRL_WASI2_OUTPUT_STREAM, &rep, &s);
    if (e || (e = w2_arg_bytes(c, 1, &data, &len)))
        return e;
    return write_now(c, &s, data, len);
}

static whirl_error_t *out_blocking_write_and_flush(w2_call_t *c)
{
    uint32_t rep;
    w2_stream_t s;
    const uint8_t *data;
    size_t len;
    whirl_error_t *e = arg_stream(c, 0, WHIRL_WASI2_OUTPUT_STREAM, &rep, &s);
    if (e || (e = w2_arg_bytes(c, 1, &data, &len)))
        return e;
    return write_blocking(c, rep, &s, data, len);
}

static whirl_error_t *out_write_zeroes(w2_call_t *c)
{
    uint32_t rep;
    w2_stream_t s;
    uint64_t len;
    whirl_error_t *e = arg_stream(c, 0, WHIRL_WASI2_OUTPUT_STREAM, &rep, &s);
    if (e || (e = w2_arg_uint(c, 1, WHIRL_CVAL_U64, &len)))
        return e;
    if (len > W2_MAX_IO)
        return w2_trap(c, "write-zeroes of %llu bytes (at most %u at once)",
                       (unsigned long long)len, W2_MAX_IO);
    return write_now(c, &s, NULL, (size_t)len);
}

static whirl_error_t *out_blocking_write_zeroes(w2_call_t *c)
{
    uint32_t rep;
    w2_stream_t s;
    uint64_t len;
    whirl_error_t *e = arg_stream(c, 0, WHIRL_WASI2_OUTPUT_STREAM, &rep, &s);
    if (e || (e = w2_arg_uint(c, 1, WHIRL_CVAL_U64, &len)))
        return e;
    if (len > W2_MAX_BLOCKING_WRITE)
        return w2_trap(c, "%llu bytes exceed the %u a blocking write may take",
                       (unsigned long long)len, W2_MAX_BLOCKING_WRITE);
    return write_blocking(c, rep, &s, NULL, (size_t)len);
}

static whirl_error_t *do_flush(w2_call_t *c, bool blocking)
{
    uint32_t rep;
    w2_stream_t s;
    whirl_error_t *e = arg_stream(c, 0, WHIRL_WASI2_OUTPUT_STREAM, &rep, &s);
    if (e)
        return e;
    sres_t r = s_flush(&s);
    if (r.n >= 0 && blocking) {
        if ((e = w2_wait_stream(c->w, c->store, rep)))
            return e;
        r = s_check_write(&s);
    }
    if (r.n < 0)
        return result_of(c, r);
    return w2_ok(c->res, NULL);
}

static whirl_error_t *out_flush(w2_call_t *c) { return do_flush(c, false); }
static whirl_error_t *out_blocking_flush(w2_call_t *c) { return do_flush(c, true); }
static whirl_error_t *out_subscribe(w2_call_t *c) { return subscribe(c, WHIRL_WASI2_OUTPUT_STREAM); }

static whirl_error_t *do_splice(w2_call_t *c, bool blocking)
{
    uint32_t drep, srep;
    w2_stream_t dst, src;
    uint64_t len64;
    whirl_error_t *e = arg_stream(c, 0, WHIRL_WASI2_OUTPUT_STREAM, &drep, &dst);
    if (e || (e = arg_stream(c, 1, WHIRL_WASI2_INPUT_STREAM, &srep, &src)) ||
        (e = w2_arg_uint(c, 2, WHIRL_CVAL_U64, &len64)))
        return e;
    size_t len = clamp_len(len64);
    sres_t r = {0};
    if (blocking && len > 0 && ((e = w2_wait_stream(c->w, c->store, drep)) ||
                                (e = w2_wait_stream(c->w, c->store, srep))))
        return e;
    if (len > 0)
        r = s_check_write(&dst);
    if (r.n < 0)
        return result_of(c, r);
    if ((uint64_t)r.n < len)
        len = (size_t)r.n;
    int64_t moved = 0;
    if (len > 0) {
        uint8_t *buf = malloc(len);
        if (!buf)
            return w2_oom();
        r = s_read(&src, buf, len);
        moved = r.n;
        if (r.n > 0)
            r = s_write(&dst, buf, (size_t)r.n);
        free(buf);
        if (r.n < 0)
            return result_of(c, r);
    }
    whirl_cval_t *p;
    if (!(e = w2_ok(c->res, &p)))
        w2_set_uint(p, WHIRL_CVAL_U64, (uint64_t)moved);
    return e;
}

static whirl_error_t *out_splice(w2_call_t *c) { return do_splice(c, false); }
static whirl_error_t *out_blocking_splice(w2_call_t *c) { return do_splice(c, true); }

/* ------------------------------------------------------------------ */

#define IO(iface, name, fn, na, nr) {WHIRL_WASI2_IO, iface, name, fn, na, nr}
const w2_def_t w2_io_defs[] = {
    IO("wasi:io/error", "[method]error.to-debug-string", error_to_debug_string, 1, 1),
    IO("wasi:io/poll", "[method]pollable.ready", pollable_ready, 1, 1),
    IO("wasi:io/poll", "[method]pollable.block", pollable_block, 1, 0),
    IO("wasi:io/poll", "poll", poll_list, 1, 1),
    IO("wasi:io/streams", "[method]input-stream.read", in_read, 2, 1),
    IO("wasi:io/streams", "[method]input-stream.blocking-read", in_blocking_read, 2, 1),
    IO("wasi:io/streams", "[method]input-stream.skip", in_skip, 2, 1),
    IO("wasi:io/streams", "[method]input-stream.blocking-skip", in_blocking_skip, 2, 1),
    IO("wasi:io/streams", "[method]input-stream.subscribe", in_subscribe, 1, 1),
    IO("wasi:io/streams", "[method]output-stream.check-write", out_check_write, 1, 1),
    IO("wasi:io/streams", "[method]output-stream.write", out_write, 2, 1),
    IO("wasi:io/streams", "[method]output-stream.blocking-write-and-flush",
       out_blocking_write_and_flush, 2, 1),
    IO("wasi:io/streams", "[method]output-stream.flush", out_flush, 1, 1),
    IO("wasi:io/streams", "[method]output-stream.blocking-flush", out_blocking_flush, 1, 1),
    IO("wasi:io/streams", "[method]output-stream.subscribe", out_subscribe, 1, 1),
    IO("wasi:io/streams", "[method]output-stream.write-zeroes", out_write_zeroes, 2, 1),
    IO("wasi:io/streams", "[method]output-stream.blocking-write-zeroes-and-flush",
       out_blocking_write_zeroes, 2, 1),
    IO("wasi:io/streams", "[method]output-stream.splice", out_splice, 3, 1),
    IO("wasi:io/streams", "[method]output-stream.blocking-splice", out_blocking_splice, 3, 1),
};
const size_t w2_io_ndefs = sizeof w2_io_defs / sizeof *w2_io_defs;
