/* wasi:filesystem 0.3 (types, preopens) over the 0.2 host's filesystem.
 *
 * The 0.3 functions that do not take or return streams are 0.2's, made
 * async (a guest lowers them async; they complete before they return, see
 * docs/COMPONENT-ASYNC.md), with the same names and parameters. So each one
 * calls src/wasi2/fs.c's function of the same name, over the same
 * descriptors, pre-opens, `:ro` rule and sandbox (wasi/sandbox.h: no path
 * reaches outside a pre-open), and only the values whose types changed are
 * translated on the way in and out:
 *   - error-code is a variant: 0.2's `would-block` is gone (0.3 has no
 *     non-blocking I/O) and `other(option<string>)` is new;
 *   - descriptor-type is a variant: 0.2's `unknown` became `other(none)`;
 *   - timestamps are wasi:clocks 0.3 instants, with s64 seconds (0.2's
 *     datetime has u64; the 0.2 host gives times before 1970 as 0 and
 *     refuses to set them: `invalid`, kept here).
 * A 0.2 function whose arguments are not the kinds its WIT declares traps
 * as it does in 0.2; a translation only touches values of the expected
 * shape.
 *
 * read-via-stream, write-via-stream, append-via-stream and read-directory
 * move data through stream<T> and future<T> values (fs_streams below): the
 * host is the source of a file's bytes and of a directory's entries, and
 * the sink of a guest's stream into a file. Nothing is buffered on the
 * host: a read fills the guest's buffer from the file (at most W2_MAX_IO
 * bytes a copy), a write goes to the file before the guest's stream.write
 * returns, a directory gives at most CSTREAM_HOST_VALS entries a copy. Each
 * one's future<result<_, error-code>> resolves when its stream ends: ok, or
 * the error that ended it (the stream then ends at once when the call
 * itself fails: not a file, not opened for reading or writing, ...). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "component/component.h"
#include "wasi3/wasi3.h"

/* The 0.2 function of the same name in wasi:filesystem/types. */
static const w2_def_t *fs2_def(const char *name)
{
    for (size_t i = 0; i < w2_fs_ndefs; i++)
        if (strcmp(w2_fs_defs[i].iface, "wasi:filesystem/types") == 0 &&
            strcmp(w2_fs_defs[i].name, name) == 0)
            return &w2_fs_defs[i];
    return NULL;
}

/* Calls the 0.2 function named as `c`, with arguments `args` (c->args, or
 * a translated copy). */
static whirl_error_t *call2(w2_call_t *c, const whirl_cval_t *args)
{
    const w2_def_t *d = fs2_def(c->name);
    if (!d)
        return w2_trap(c, "internal error: WASI 0.2 has no function of this name");
    w2_call_t c2 = *c;
    c2.args = args;
    return d->fn(&c2);
}

/* ---- results ---- */

enum { EC_WOULD_BLOCK_2 = 1, EC_OTHER = 36 }; /* 0.2's would-block, 0.3's other */
enum { DT_OTHER = 7 };                        /* 0.3 descriptor-type other */

/* A 0.2 error-code (enum) into the 0.3 variant. */
static whirl_error_t *error_code3(whirl_cval_t *v)
{
    uint32_t i = v->of.variant.index;
    if (i != EC_WOULD_BLOCK_2) {
        v->kind = WHIRL_CVAL_VARIANT;
        v->of.variant.index = i > EC_WOULD_BLOCK_2 ? i - 1 : i;
        return NULL;
    }
    /* Only a host descriptor in non-blocking mode says EAGAIN: name it. */
    static const char msg[] = "would-block";
    whirl_error_t *e = whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, EC_OTHER, true);
    if (!e)
        e = whirl_cval_set_case(v->of.variant.payload, WHIRL_CVAL_OPTION, 1, true);
    if (!e)
        e = whirl_cval_set_string(v->of.variant.payload->of.variant.payload, msg,
                                  sizeof msg - 1);
    return e;
}

/* A 0.2 descriptor-type (enum, 0 = unknown) into the 0.3 variant. */
static whirl_error_t *descriptor_type3(whirl_cval_t *v)
{
    if (v->kind != WHIRL_CVAL_ENUM)
        return NULL;
    uint32_t i = v->of.variant.index;
    if (i == 0) { /* other(none) */
        whirl_error_t *e = whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, DT_OTHER, true);
        return e ? e : whirl_cval_set_case(v->of.variant.payload, WHIRL_CVAL_OPTION, 0, false);
    }
    v->kind = WHIRL_CVAL_VARIANT;
    v->of.variant.index = i - 1;
    return NULL;
}

/* option<datetime> into option<instant>: the 0.2 seconds are never above
 * INT64_MAX (they came from a time_t). */
static void instant3(whirl_cval_t *opt)
{
    whirl_cval_t *p = opt->kind == WHIRL_CVAL_OPTION ? opt->of.variant.payload : NULL;
    if (p && p->kind == WHIRL_CVAL_RECORD && p->of.list.len == 2 &&
        p->of.list.items[0].kind == WHIRL_CVAL_U64) {
        whirl_cval_t *s = &p->of.list.items[0];
        s->kind = WHIRL_CVAL_S64;
        s->of.s = s->of.u > INT64_MAX ? INT64_MAX : (int64_t)s->of.u;
    }
}

/* A descriptor-stat record. */
static whirl_error_t *stat3(whirl_cval_t *v)
{
    if (v->kind != WHIRL_CVAL_RECORD || v->of.list.len != 6)
        return NULL;
    for (int i = 3; i < 6; i++)
        instant3(&v->of.list.items[i]);
    return descriptor_type3(&v->of.list.items[0]);
}

/* The result<T, error-code> of a 0.2 function into 0.3's, `ok` translating
 * its payload (NULL: the same in both). */
static whirl_error_t *result3(w2_call_t *c, whirl_error_t *(*ok)(whirl_cval_t *))
{
    whirl_cval_t *r = c->res;
    if (!r || r->kind != WHIRL_CVAL_RESULT || !r->of.variant.payload)
        return NULL;
    whirl_cval_t *p = r->of.variant.payload;
    if (r->of.variant.index == 1)
        return p->kind == WHIRL_CVAL_ENUM ? error_code3(p) : NULL;
    return ok ? ok(p) : NULL;
}

/* ---- the functions ---- */

/* Results that differ from 0.2's only in error-code (or not at all). */
static whirl_error_t *same(w2_call_t *c)
{
    whirl_error_t *e = call2(c, c->args);
    return e ? e : result3(c, NULL);
}

static whirl_error_t *with_stat(w2_call_t *c)
{
    whirl_error_t *e = call2(c, c->args);
    return e ? e : result3(c, stat3);
}

static whirl_error_t *with_type(w2_call_t *c)
{
    whirl_error_t *e = call2(c, c->args);
    return e ? e : result3(c, descriptor_type3);
}

/* A new-timestamp: timestamp(instant) carries s64 seconds, 0.2's u64. A
 * time before 1970 becomes one past INT64_MAX, which 0.2 answers `invalid`.
 * `rec` and `items` receive the translated payload (the copy is shallow:
 * nothing is owned). */
static void timestamp2(whirl_cval_t *v, whirl_cval_t *rec, whirl_cval_t items[2])
{
    const whirl_cval_t *p = v->of.variant.payload;
    if (v->kind != WHIRL_CVAL_VARIANT || v->of.variant.index != 2 || !p ||
        p->kind != WHIRL_CVAL_RECORD || p->of.list.len != 2 ||
        p->of.list.items[0].kind != WHIRL_CVAL_S64)
        return; /* another shape: 0.2 checks it */
    items[0] = p->of.list.items[0];
    items[0].kind = WHIRL_CVAL_U64;
    items[0].of.u = (uint64_t)p->of.list.items[0].of.s;
    items[1] = p->of.list.items[1];
    *rec = *p;
    rec->of.list.items = items;
    v->of.variant.payload = rec;
}

/* set-times (timestamps at arguments 1, 2) and set-times-at (3, 4). */
static whirl_error_t *with_times(w2_call_t *c)
{
    size_t first = c->nargs == 3 ? 1 : 3;
    if (c->nargs > 5 || first + 2 > c->nargs)
        return w2_trap(c, "imported with %zu parameter(s)", c->nargs);
    whirl_cval_t args[5], rec[2], items[2][2];
    memcpy(args, c->args, c->nargs * sizeof *args);
    for (size_t i = 0; i < 2; i++)
        timestamp2(&args[first + i], &rec[i], items[i]);
    whirl_error_t *e = call2(c, args);
    return e ? e : result3(c, NULL);
}

/* open-at: the new descriptor's flags say how it was opened, as the 0.3
 * suite (and wasmtime) expect, where the 0.2 host reports otherwise:
 *   - a file created or truncated is opened for writing (0.2 does that
 *     too) and so holds `write` even if the guest did not ask for it;
 *   - a directory holds mutate-directory only if the guest asked for it
 *     (0.2 gives it to every directory of a writable tree).
 * What a descriptor may change is still decided by the `:ro` rule alone,
 * as in 0.2. */
enum { OF_CREATE = 1, OF_TRUNCATE = 8 };

static whirl_error_t *open_at(w2_call_t *c)
{
    uint32_t of, df;
    whirl_error_t *e = w2_arg_flags(c, 3, &of);
    if (e || (e = w2_arg_flags(c, 4, &df)) || (e = same(c)))
        return e;
    const whirl_cval_t *r = c->res;
    const whirl_cval_t *h = r->of.variant.payload;
    if (r->kind != WHIRL_CVAL_RESULT || r->of.variant.index != 0 || !h ||
        h->kind != WHIRL_CVAL_OWN)
        return NULL;
    w2_obj_t *o = w2_obj_get(c->w, h->of.resource.rep, W2_DESCRIPTOR);
    if (!o)
        return NULL;
    if (o->u.desc.dir && !(df & W2_DF_MUTATE_DIR))
        o->u.desc.flags &= ~(uint32_t)W2_DF_MUTATE_DIR;
    else if (!o->u.desc.dir && (of & (OF_CREATE | OF_TRUNCATE)))
        o->u.desc.flags |= W2_DF_WRITE;
    return NULL;
}

/* ---- streams ---- */

typedef struct fs_stream {
    int fd;            /* our own descriptor, -1 once the call failed */
    w2_fd_account_t *fds; /* where `fd` counts against the guest's cap */
    uint64_t offset;   /* of the next read or write */
    bool append;       /* writes go to the file's end */
    cstream_t *future; /* result<_, error-code>, resolved once */
    bool resolved;
} fs_stream_t;

/* Resolves the stream's future: ok for `err` 0, else err(`err`'s code). */
static void fs_resolve(fs_stream_t *st, int err)
{
    if (st->resolved)
        return;
    st->resolved = true;
    whirl_cval_t v = {0};
    whirl_error_t *e = err ? w2_err_code(&v, err) : w2_ok(&v, NULL);
    if (!e && err)
        e = error_code3(v.of.variant.payload);
    if (e) { /* out of memory: the future stays unresolved */
        whirl_error_delete(e);
        whirl_cval_release(&v);
        return;
    }
    cstream_future_resolve(st->future, &v);
}

static void fs_free(void *env)
{
    fs_stream_t *st = env;
    w2_fd_close(st->fd, st->fds);
    cstream_unref(st->future);
    free(st);
}

/* The guest dropped its end: the stream ended without a failure. */
static void fs_peer_dropped(void *env) { fs_resolve(env, 0); }

static whirl_error_t *file_read(void *env, uint8_t *dst, size_t n, size_t *done, bool *eof)
{
    fs_stream_t *st = env;
    *done = 0;
    *eof = st->resolved;
    if (st->resolved || n == 0)
        return NULL;
    for (;;) {
        ssize_t r = pread(st->fd, dst, n < W2_MAX_IO ? n : W2_MAX_IO, (off_t)st->offset);
        if (r < 0 && errno == EINTR)
            continue;
        if (r > 0) {
            st->offset += (uint64_t)r;
            *done = (size_t)r;
            return NULL;
        }
        fs_resolve(st, r < 0 ? errno : 0); /* 0: the end of the file */
        *eof = true;
        return NULL;
    }
}

static whirl_error_t *file_write(void *env, const uint8_t *data, size_t n, size_t *done,
                                 bool *closed)
{
    fs_stream_t *st = env;
    size_t off = 0;
    while (off < n && !st->resolved) {
        if (st->append) {
            struct stat sb;
            if (fstat(st->fd, &sb) != 0) {
                fs_resolve(st, errno);
                break;
            }
            st->offset = (uint64_t)sb.st_size;
        }
        size_t chunk = n - off < W2_MAX_IO ? n - off : W2_MAX_IO;
        long r = w2_write_no_sigpipe(st->fd, data + off, chunk, true, st->offset);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            fs_resolve(st, r < 0 ? errno : EIO);
            break;
        }
        off += (size_t)r;
        st->offset += (uint64_t)r;
    }
    *done = off;
    *closed = st->resolved;
    return NULL;
}

static const cstream_host_ops_t file_source = {.read = file_read,
                                               .peer_dropped = fs_peer_dropped,
                                               .free = fs_free};
static const cstream_host_ops_t file_sink = {.write = file_write,
                                             .peer_dropped = fs_peer_dropped,
                                             .free = fs_free};

/* A new stream state whose future is made into `fut`. */
static whirl_error_t *fs_stream_new(whirl_cval_t *fut, fs_stream_t **out)
{
    fs_stream_t *st = calloc(1, sizeof *st);
    if (!st)
        return w2_oom();
    st->fd = -1;
    whirl_error_t *e = cstream_host_new(true, NULL, NULL, fut);
    if (e) {
        free(st);
        return e;
    }
    st->future = cstream_of(fut);
    cstream_ref(st->future);
    *out = st;
    return NULL;
}

/* Our own descriptor of the file descriptor `c->args[0]` for `need`
 * (W2_DF_READ or W2_DF_WRITE), counted in *fds against the guest's cap of
 * descriptors, or -errno for the guest, as 0.2's via-stream functions
 * answer; an argument that is no descriptor traps. */
static whirl_error_t *file_fd(w2_call_t *c, uint32_t need, int *fd, w2_fd_account_t **fds)
{
    uint32_t rep;
    w2_obj_t *o;
    whirl_error_t *e = w2_arg_obj(c, 0, WHIRL_WASI2_DESCRIPTOR, &rep, &o);
    if (e)
        return e;
    if (o->u.desc.dir)
        *fd = -EISDIR;
    else if (!(o->u.desc.flags & need))
        *fd = -EBADF;
    else if ((*fd = w2_fd_dup(c->w, o->u.desc.fd, fds)) < 0)
        *fd = -errno;
    return NULL;
}

/* The result tuple<stream<T>, future<result<_, error-code>>> of a host
 * source `ops` over `fd` (ours, taken) from `offset`; a negative `fd` is
 * the -errno the call failed with: the stream ends at once, the future
 * holds the error. */
static whirl_error_t *source_pair(w2_call_t *c, int fd, w2_fd_account_t *fds, uint64_t offset,
                                  const cstream_host_ops_t *ops)
{
    whirl_error_t *e = whirl_cval_set_items(c->res, WHIRL_CVAL_TUPLE, 2);
    whirl_cval_t *items = e ? NULL : c->res->of.list.items;
    fs_stream_t *st;
    if (e || (e = fs_stream_new(&items[1], &st))) {
        w2_fd_close(fd, fds);
        return e;
    }
    if (fd < 0)
        fs_resolve(st, -fd);
    st->fd = fd < 0 ? -1 : fd;
    st->fds = fds;
    st->offset = offset;
    if ((e = cstream_host_new(false, ops, st, &items[0])))
        fs_free(st);
    return e;
}

/* read-via-stream: func(offset: filesize) -> tuple<stream<u8>,
 * future<result<_, error-code>>>. */
static whirl_error_t *read_via_stream(w2_call_t *c)
{
    uint64_t offset;
    int fd = -1;
    w2_fd_account_t *fds = NULL;
    whirl_error_t *e = w2_arg_uint(c, 1, WHIRL_CVAL_U64, &offset);
    if (e || (e = file_fd(c, W2_DF_READ, &fd, &fds)))
        return e;
    return source_pair(c, fd, fds, offset, &file_source);
}

/* write-via-stream: func(data: stream<u8>, offset: filesize) ->
 * future<result<_, error-code>>; append-via-stream: the same without an
 * offset, every write at the file's end. */
static whirl_error_t *into_file(w2_call_t *c, bool append)
{
    const whirl_cval_t *data = &c->args[1];
    uint64_t offset = 0;
    if (data->kind != WHIRL_CVAL_STREAM)
        return w2_trap(c, "parameter 1 is not a stream");
    int fd;
    w2_fd_account_t *fds = NULL;
    whirl_error_t *e = append ? NULL : w2_arg_uint(c, 2, WHIRL_CVAL_U64, &offset);
    if (e || (e = file_fd(c, W2_DF_WRITE, &fd, &fds)))
        return e;
    fs_stream_t *st;
    if ((e = fs_stream_new(c->res, &st))) {
        w2_fd_close(fd, fds);
        return e;
    }
    if (fd < 0) {
        fs_resolve(st, -fd); /* the guest's stream is dropped with the argument */
        fs_free(st);
        return NULL;
    }
    st->fd = fd;
    st->fds = fds;
    st->offset = offset;
    st->append = append;
    /* The stream owns `st` from here (freed with it, or now on error). */
    if ((e = cstream_attach_sink(data, &file_sink, st))) {
        whirl_error_t *t = w2_trap(c, "%s", whirl_error_message(e));
        whirl_error_delete(e);
        return t;
    }
    return NULL;
}

static whirl_error_t *write_via_stream(w2_call_t *c) { return into_file(c, false); }
static whirl_error_t *append_via_stream(w2_call_t *c) { return into_file(c, true); }

/* A directory's entries: an fs_stream whose offset is the host's offset
 * in the directory (w2_dir_next). */
static whirl_error_t *dir_read_vals(void *env, whirl_cval_t *vals, size_t n, size_t *done,
                                    bool *eof)
{
    fs_stream_t *st = env;
    *done = 0;
    *eof = st->resolved;
    while (*done < n && !st->resolved) {
        w2_dirent_t de;
        int r = w2_dir_next(st->fd, &st->offset, &de);
        if (r <= 0) {
            fs_resolve(st, -r); /* 0: the end of the directory */
            break;
        }
        whirl_cval_t *v = &vals[*done];
        whirl_error_t *e = w2_dirent_value(v, &de);
        if (!e)
            e = descriptor_type3(&v->of.list.items[0]);
        if (e)
            return e;
        ++*done;
    }
    *eof = *done == 0 && st->resolved;
    return NULL;
}

static const cstream_host_ops_t dir_source = {.read_vals = dir_read_vals,
                                              .peer_dropped = fs_peer_dropped,
                                              .free = fs_free};

/* read-directory: func() -> tuple<stream<directory-entry>,
 * future<result<_, error-code>>>. A listing of its own, from the start. */
static whirl_error_t *read_directory(w2_call_t *c)
{
    uint32_t rep;
    w2_obj_t *o;
    whirl_error_t *e = w2_arg_obj(c, 0, WHIRL_WASI2_DESCRIPTOR, &rep, &o);
    if (e)
        return e;
    int fd;
    w2_fd_account_t *fds = NULL;
    if (!o->u.desc.dir)
        fd = -ENOTDIR;
    else if (!(fds = w2_fd_take(c->w)))
        fd = -EMFILE;
    else if ((fd = openat(o->u.desc.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        fd = -errno;
        w2_fd_give(fds);
    }
    return source_pair(c, fd, fds, 0, &dir_source);
}

static whirl_error_t *get_directories(w2_call_t *c)
{
    for (size_t i = 0; i < w2_fs_ndefs; i++)
        if (strcmp(w2_fs_defs[i].iface, "wasi:filesystem/preopens") == 0)
            return w2_fs_defs[i].fn(c);
    return w2_trap(c, "internal error: WASI 0.2 has no get-directories");
}

#define FS(name, fn, na, nr) {WHIRL_WASI2_FILESYSTEM, "wasi:filesystem/types", name, fn, na, nr}
#define D(name) "[method]descriptor." name
const w2_def_t w3_fs_defs[] = {
    FS(D("read-via-stream"), read_via_stream, 2, 1),
    FS(D("write-via-stream"), write_via_stream, 3, 1),
    FS(D("append-via-stream"), append_via_stream, 2, 1),
    FS(D("read-directory"), read_directory, 1, 1),
    FS(D("advise"), same, 4, 1),
    FS(D("sync-data"), same, 1, 1),
    FS(D("get-flags"), same, 1, 1),
    FS(D("get-type"), with_type, 1, 1),
    FS(D("set-size"), same, 2, 1),
    FS(D("set-times"), with_times, 3, 1),
    FS(D("sync"), same, 1, 1),
    FS(D("create-directory-at"), same, 2, 1),
    FS(D("stat"), with_stat, 1, 1),
    FS(D("stat-at"), with_stat, 3, 1),
    FS(D("set-times-at"), with_times, 5, 1),
    FS(D("link-at"), same, 5, 1),
    FS(D("open-at"), open_at, 5, 1),
    FS(D("readlink-at"), same, 2, 1),
    FS(D("remove-directory-at"), same, 2, 1),
    FS(D("rename-at"), same, 4, 1),
    FS(D("symlink-at"), same, 3, 1),
    FS(D("unlink-file-at"), same, 2, 1),
    FS(D("is-same-object"), same, 2, 1),
    FS(D("metadata-hash"), same, 1, 1),
    FS(D("metadata-hash-at"), same, 3, 1),
    {WHIRL_WASI2_FILESYSTEM, "wasi:filesystem/preopens", "get-directories", get_directories, 0, 1},
};
const size_t w3_fs_ndefs = sizeof w3_fs_defs / sizeof *w3_fs_defs;
