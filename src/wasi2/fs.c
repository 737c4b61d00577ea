/* wasi:filesystem (types, preopens). Paths are resolved and acted on by the
 * sandbox shared with the preview-1 host (wasi/sandbox.h), beneath the
 * directory descriptor they are relative to; descriptors only ever come
 * from pre-opens and from open-at through that sandbox, so no path can
 * reach outside a pre-open. This file adds the 0.2 shape: descriptor
 * flags, read-only pre-opens (`not-permitted`), streams over files. */
#define _GNU_SOURCE /* O_PATH, F_DUPFD_CLOEXEC, fdatasync */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi/sandbox.h"
#include "wasi2/internal.h"
#include "util/utf8.h"

_Static_assert((int)W2_MAX_PATH == (int)SANDBOX_MAX_PATH, "guest paths are sandbox paths");

/* descriptor-type */
enum {
    DT_UNKNOWN_ = 0, DT_BLOCK = 1, DT_CHAR = 2, DT_DIRECTORY = 3, DT_FIFO_ = 4, DT_SYMLINK = 5,
    DT_REGULAR = 6, DT_SOCKET = 7,
};
/* path-flags, open-flags */
enum { PF_SYMLINK_FOLLOW = 1 };
enum { OF_CREATE = 1, OF_DIRECTORY = 2, OF_EXCLUSIVE = 4, OF_TRUNCATE = 8 };

static uint32_t type_of_mode(mode_t m)
{
    if (S_ISREG(m))
        return DT_REGULAR;
    if (S_ISDIR(m))
        return DT_DIRECTORY;
    if (S_ISLNK(m))
        return DT_SYMLINK;
    if (S_ISCHR(m))
        return DT_CHAR;
    if (S_ISBLK(m))
        return DT_BLOCK;
    if (S_ISFIFO(m))
        return DT_FIFO_;
    if (S_ISSOCK(m))
        return DT_SOCKET;
    return DT_UNKNOWN_;
}

/* ------------------------------------------------------------------ */
/* Arguments and results                                               */
/* ------------------------------------------------------------------ */

static whirl_error_t *arg_desc(const w2_call_t *c, size_t i, w2_desc_t *out)
{
    uint32_t rep;
    w2_obj_t *o;
    whirl_error_t *e = w2_arg_obj(c, i, WHIRL_WASI2_DESCRIPTOR, &rep, &o);
    if (!e)
        *out = o->u.desc;
    return e;
}

/* The path in argument `i` into buf (W2_MAX_PATH + 1 bytes), or *bad = a
 * host errno for a path no file can have. */
static whirl_error_t *arg_path(const w2_call_t *c, size_t i, char *buf, int *bad)
{
    const char *s;
    size_t len;
    whirl_error_t *e = w2_arg_string(c, i, &s, &len);
    if (e)
        return e;
    if (len > W2_MAX_PATH)
        *bad = ENAMETOOLONG;
    else if (memchr(s, '\0', len))
        *bad = EINVAL;
    else
        memcpy(buf, s, len), buf[len] = '\0';
    return NULL;
}

/* result<_, error-code> from 0 or a negative errno. */
static whirl_error_t *unit_result(w2_call_t *c, long r)
{
    return r < 0 ? w2_err_code(c->res, (int)-r) : w2_ok(c->res, NULL);
}

static whirl_error_t *stat_record(whirl_cval_t *v, const struct stat *st)
{
    whirl_error_t *e = whirl_cval_set_items(v, WHIRL_CVAL_RECORD, 6);
    if (e)
        return e;
    whirl_cval_t *f = v->of.list.items;
    f[0].kind = WHIRL_CVAL_ENUM;
    f[0].of.variant.index = type_of_mode(st->st_mode);
    w2_set_uint(&f[1], WHIRL_CVAL_U64, (uint64_t)st->st_nlink);
    w2_set_uint(&f[2], WHIRL_CVAL_U64, st->st_size < 0 ? 0 : (uint64_t)st->st_size);
    const struct timespec *ts[3] = {&st->st_atim, &st->st_mtim, &st->st_ctim};
    for (int i = 0; i < 3 && !e; i++)
        if (!(e = whirl_cval_set_case(&f[3 + i], WHIRL_CVAL_OPTION, 1, true)))
            e = w2_set_datetime(f[3 + i].of.variant.payload, ts[i]->tv_sec, ts[i]->tv_nsec);
    return e;
}

static whirl_error_t *stat_result(w2_call_t *c, int r, const struct stat *st)
{
    if (r < 0)
        return w2_err_code(c->res, -r);
    whirl_cval_t *p;
    whirl_error_t *e = w2_ok(c->res, &p);
    return e ? e : stat_record(p, st);
}

/* A new-timestamp variant into a utimensat time. */
static whirl_error_t *arg_time(const w2_call_t *c, size_t i, struct timespec *ts)
{
    const whirl_cval_t *v = &c->args[i];
    if (v->kind != WHIRL_CVAL_VARIANT || v->of.variant.index > 2)
        return w2_trap(c, "parameter %zu is not a new-timestamp", i);
    if (v->of.variant.index == 0) {
        *ts = (struct timespec){0, UTIME_OMIT};
    } else if (v->of.variant.index == 1) {
        *ts = (struct timespec){0, UTIME_NOW};
    } else {
        const whirl_cval_t *d = v->of.variant.payload;
        if (!d || d->kind != WHIRL_CVAL_RECORD || d->of.list.len != 2 ||
            d->of.list.items[0].kind != WHIRL_CVAL_U64 || d->of.list.items[1].kind != WHIRL_CVAL_U32)
            return w2_trap(c, "parameter %zu is not a new-timestamp", i);
        uint64_t sec = d->of.list.items[0].of.u, ns = d->of.list.items[1].of.u;
        if (sec > INT64_MAX || ns >= 1000000000u)
            *ts = (struct timespec){0, -1}; /* utimensat says EINVAL */
        else
            *ts = (struct timespec){(time_t)sec, (long)ns};
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Descriptors: the file itself                                        */
/* ------------------------------------------------------------------ */

static whirl_error_t *via_stream(w2_call_t *c, uint8_t kind, bool append)
{
    w2_desc_t d;
    uint64_t offset = 0;
    whirl_error_t *e = arg_desc(c, 0, &d);
    if (e || (!append && (e = w2_arg_uint(c, 1, WHIRL_CVAL_U64, &offset))))
        return e;
    if (d.dir)
        return w2_err_code(c->res, EISDIR);
    if (!(d.flags & (kind == W2_INPUT ? W2_DF_READ : W2_DF_WRITE)))
        return w2_err_code(c->res, EBADF);
    if (!w2_fd_room(c->w))
        return w2_err_code(c->res, EMFILE);
    int fd = fcntl(d.fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return w2_err_code(c->res, errno);
    uint32_t rep;
    if ((e = w2_fd_stream(c->w, kind, fd, true, true, offset, append, &rep)))
        return e;
    whirl_cval_t *p;
    if (!(e = w2_ok(c->res, &p)))
        w2_set_own(c, p, kind == W2_INPUT ? WHIRL_WASI2_INPUT_STREAM : WHIRL_WASI2_OUTPUT_STREAM,
                   rep);
    return e;
}

static whirl_error_t *read_via_stream(w2_call_t *c) { return via_stream(c, W2_INPUT, false); }
static whirl_error_t *write_via_stream(w2_call_t *c) { return via_stream(c, W2_OUTPUT, false); }
static whirl_error_t *append_via_stream(w2_call_t *c) { return via_stream(c, W2_OUTPUT, true); }

static whirl_error_t *advise(w2_call_t *c)
{
    w2_desc_t d;
    uint64_t off, len;
    uint32_t advice;
    whirl_error_t *e = arg_desc(c, 0, &d);
    if (e || (e = w2_arg_uint(c, 1, WHIRL_CVAL_U64, &off)) ||
        (e = w2_arg_uint(c, 2, WHIRL_CVAL_U64, &len)) || (e = w2_arg_enum(c, 3, &advice)))
        return e;
    static const int advices[] = {POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                                  POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE};
    if (advice >= 6 || off > INT64_MAX || len > INT64_MAX)
        return w2_err_code(c->res, EINVAL);
    if (d.dir)
        return w2_err_code(c->res, EBADF);
    int r = posix_fadvise(d.fd, (off_t)off, (off_t)len, advices[advice]);
    return unit_result(c, r == ESPIPE ? 0 : -r); /* advice on a pipe is moot, not wrong */
}

static whirl_error_t *sync_common(w2_call_t *c, bool data_only)
{
    w2_desc_t d;
    whirl_error_t *e = arg_desc(c, 0, &d);
    if (e)
        return e;
    int r = data_only ? fdatasync(d.fd) : fsync(d.fd);
    /* A directory or read-only file may refuse to sync: nothing to write. */
    if (r != 0 && (errno == EINVAL || (errno == EBADF && !(d.flags & W2_DF_WRITE))))
        r = 0;
    return unit_result(c, r ? -errno : 0);
}

static whirl_error_t *sync_data(w2_call_t *c) { return sync_common(c, true); }
static whirl_error_t *sync_all(w2_call_t *c) { return sync_common(c, false); }

static whirl_error_t *get_flags(w2_call_t *c)
{
    w2_desc_t d;
    whirl_error_t *e = arg_desc(c, 0, &d);
    whirl_cval_t *p;
    if (e || (e = w2_ok(c->res, &p)))
        return e;
    p->kind = WHIRL_CVAL_FLAGS;
    p->of.flags = d.flags;
    return NULL;
}

static whirl_error_t *get_type(w2_call_t *c)
{
    w2_desc_t d;
    whirl_error_t *e = arg_desc(c, 0, &d);
    if (e)
        return e;
    struct stat st;
    if (fstat(d.fd, &st) != 0)
        return w2_err_code(c->res, errno);
    whirl_cval_t *p;
    if ((e = w2_ok(c->res, &p)))
        return e;
    p->kind = WHIRL_CVAL_ENUM;
    p->of.variant.index = type_of_mode(st.st_mode);
    return NULL;
}

static whirl_error_t *set_size(w2_call_t *c)
{
    w2_desc_t d;
    uint64_t size;
    whirl_error_t *e = arg_desc(c, 0, &d);
    if (e || (e = w2_arg_uint(c, 1, WHIRL_CVAL_U64, &size)))
        return e;
    if (d.readonly) /* before the mode: a read-only tree refuses changes as such */
        return w2_err_code(c->res, EPERM);
    if (d.dir)
        return w2_err_code(c->res, EISDIR);
    if (!(d.flags & W2_DF_WRITE))
        return w2_err_code(c->res, EBADF);
    if (size > INT64_MAX)
        return w2_err_code(c->res, EFBIG);
    return unit_result(c, ftruncate(d.fd, (off_t)size) == 0 ? 0 : -errno);
}

static whirl_error_t *set_times(w2_call_t *c)
{
    w2_desc_t d;
    struct timespec ts[2];
    whirl_error_t *e = arg_desc(c, 0, &d);
    if (e || (e = arg_time(c, 1, &ts[0])) || (e = arg_time(c, 2, &ts[1])))
        return e;
    if (d.readonly)
        return w2_err_code(c->res, EPERM);
    return unit_result(c, futimens(d.fd, ts) == 0 ? 0 : -errno);
}

static whirl_error_t *fs_read(w2_call_t *c)
{
    w2_desc_t d;
    uint64_t len64, off;
    whirl_error_t *e = arg_desc(c, 0, &d);
    if (e || (e = w2_arg_uint(c, 1, WHIRL_CVAL_U64, &len64)) ||
        (e = w2_arg_uint(c, 2, WHIRL_CVAL_U64, &off)))
        return e;
    if (d.dir)
        return w2_err_code(c->res, EISDIR);
    if (!(d.flags & W2_DF_READ))
        return w2_err_code(c->res, EBADF);
    if (off > INT64_MAX)
        return w2_err_code(c->res, EINVAL);
    size_t len = len64 > W2_MAX_IO ? W2_MAX_IO : (size_t)len64;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return w2_oom();
    ssize_t n;
    while ((n = pread(d.fd, buf, len, (off_t)off)) < 0 && errno == EINTR) {
    }
    if (n < 0) {
        int err = errno;
        free(buf);
        return w2_err_code(c->res, err);
    }
    whirl_cval_t *p;
    if ((e = w2_ok(c->res, &p)) || (e = whirl_cval_set_items(p, WHIRL_CVAL_TUPLE, 2))) {
        free(buf);
        return e;
    }
    whirl_cval_t *t = p->of.list.items;
    t[0].kind = WHIRL_CVAL_BYTES;
    t[0].of.string.data = n ? (char *)buf : NULL;
    t[0].of.string.len = (size_t)n;
    if (!n)
        free(buf);
    w2_set_bool(&t[1], n == 0 && len > 0);
    return NULL;
}

static whirl_error_t *fs_write(w2_call_t *c)
{
    w2_desc_t d;
    const uint8_t *data;
    size_t len;
    uint64_t off;
    whirl_error_t *e = arg_desc(c, 0, &d);
    if (e || (e = w2_arg_bytes(c, 1, &data, &len)) ||
        (e = w2_arg_uint(c, 2, WHIRL_CVAL_U64, &off)))
        return e;
    if (d.dir)
        return w2_err_code(c->res, EISDIR);
    if (!(d.flags & W2_DF_WRITE))
        return w2_err_code(c->res, EBADF);
    if (off > INT64_MAX)
        return w2_err_code(c->res, EINVAL);
    long n;
    while ((n = w2_write_no_sigpipe(d.fd, data, len, true, off)) < 0 && errno == EINTR) {
    }
    if (n < 0)
        return w2_err_code(c->res, errno);
    whirl_cval_t *p;
    if (!(e = w2_ok(c->res, &p)))
        w2_set_uint(p, WHIRL_CVAL_U64, (uint64_t)n);
    return e;
}

static whirl_error_t *read_directory(w2_call_t *c)
{
    w2_desc_t d;
    whirl_error_t *e = arg_desc(c, 0, &d);
    if (e)
        return e;
    if (!d.dir)
        return w2_err_code(c->res, ENOTDIR);
    if (!w2_fd_room(c->w))
        return w2_err_code(c->res, EMFILE);
    /* A stream of its own, from the start, whatever other streams did. */
    int fd = openat(d.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return w2_err_code(c->res, errno);
    /* No DIR stream: its buffer (32 KiB) per open listing would let a guest
     * make the host allocate without bound; entries are read with
     * getdents64 from the saved offset instead. */
    w2_obj_t o = {.kind = W2_DIRSTREAM, .holds_fd = true};
    o.u.dir.fd = fd;
    o.u.dir.off = 0;
    uint32_t rep;
    if ((e = w2_obj_add(c->w, &o, &rep))) {
        close(fd);
        return e;
    }
    whirl_cval_t *p;
    if (!(e = w2_ok(c->res, &p)))
        w2_set_own(c, p, WHIRL_WASI2_DIRECTORY_ENTRY_STREAM, rep);
    return e;
}

static whirl_error_t *stat_self(w2_call_t *c)
{
    w2_desc_t d;
    whirl_error_t *e = arg_desc(c, 0, &d);
    if (e)
        return e;
    struct stat st;
    return stat_result(c, fstat(d.fd, &st) == 0 ? 0 : -errno, &st);
}

/* A 128-bit value that is equal for the same file: what the preview-1
 * adapter uses as inode numbers. Mixing keeps host inode numbers from
 * showing through as they are. */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static whirl_error_t *hash_result(w2_call_t *c, int r, const struct stat *st)
{
    if (r < 0)
        return w2_err_code(c->res, -r);
    whirl_cval_t *p;
    whirl_error_t *e = w2_ok(c->res, &p);
    if (e || (e = whirl_cval_set_items(p, WHIRL_CVAL_RECORD, 2)))
        return e;
    uint64_t lo = mix((uint64_t)st->st_ino ^ mix((uint64_t)st->st_dev));
    w2_set_uint(&p->of.list.items[0], WHIRL_CVAL_U64, lo);
    w2_set_uint(&p->of.list.items[1], WHIRL_CVAL_U64, mix(lo ^ (uint64_t)st->st_dev));
    return NULL;
}

static whirl_error_t *metadata_hash(w2_call_t *c)
{
    w2_desc_t d;
    whirl_error_t *e = arg_desc(c, 0, &d);
    if (e)
        return e;
    struct stat st;
    return hash_result(c, fstat(d.fd, &st) == 0 ? 0 : -errno, &st);
}

static whirl_error_t *is_same_object(w2_call_t *c)
{
    w2_desc_t a, b;
    whirl_error_t *e = arg_desc(c, 0, &a);
    if (e || (e = arg_desc(c, 1, &b)))
        return e;
    struct stat sa, sb;
    w2_set_bool(c->res, fstat(a.fd, &sa) == 0 && fstat(b.fd, &sb) == 0 &&
                            sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Descriptors: paths                                                  */
/* ------------------------------------------------------------------ */

/* The directory descriptor (argument `di`) and path (argument `pi`) of a
 * path operation. Returns a trap, or 0 with *bad = a host errno for the
 * guest (not a directory, a bad path, a read-only tree when `change`). */
static whirl_error_t *dir_path(const w2_call_t *c, size_t di, size_t pi, bool change,
                               w2_desc_t *d, char *path, int *bad)
{
    *bad = 0;
    whirl_error_t *e = arg_desc(c, di, d);
    if (e || (e = arg_path(c, pi, path, bad)))
        return e;
    if (!d->dir)
        *bad = ENOTDIR;
    else if (!*bad && change && d->readonly)
        *bad = EPERM;
    return NULL;
}

static whirl_error_t *create_directory_at(w2_call_t *c)
{
    w2_desc_t d;
    char path[W2_MAX_PATH + 1];
    int bad;
    whirl_error_t *e = dir_path(c, 0, 1, true, &d, path, &bad);
    if (e)
        return e;
    return unit_result(c, bad ? -bad : sandbox_mkdir(d.fd, path));
}

static whirl_error_t *remove_directory_at(w2_call_t *c)
{
    w2_desc_t d;
    char path[W2_MAX_PATH + 1];
    int bad;
    whirl_error_t *e = dir_path(c, 0, 1, true, &d, path, &bad);
    if (e)
        return e;
    return unit_result(c, bad ? -bad : sandbox_rmdir(d.fd, path));
}

static whirl_error_t *unlink_file_at(w2_call_t *c)
{
    w2_desc_t d;
    char path[W2_MAX_PATH + 1];
    int bad;
    whirl_error_t *e = dir_path(c, 0, 1, true, &d, path, &bad);
    if (e)
        return e;
    return unit_result(c, bad ? -bad : sandbox_unlink(d.fd, path));
}

static whirl_error_t *stat_at(w2_call_t *c)
{
    w2_desc_t d;
    uint32_t pf;
    char path[W2_MAX_PATH + 1];
    int bad;
    whirl_error_t *e = w2_arg_flags(c, 1, &pf);
    if (e || (e = dir_path(c, 0, 2, false, &d, path, &bad)))
        return e;
    struct stat st;
    return stat_result(c, bad ? -bad : sandbox_stat(d.fd, path, pf & PF_SYMLINK_FOLLOW, &st),
                       &st);
}

static whirl_error_t *metadata_hash_at(w2_call_t *c)
{
    w2_desc_t d;
    uint32_t pf;
    char path[W2_MAX_PATH + 1];
    int bad;
    whirl_error_t *e = w2_arg_flags(c, 1, &pf);
    if (e || (e = dir_path(c, 0, 2, false, &d, path, &bad)))
        return e;
    struct stat st;
    return hash_result(c, bad ? -bad : sandbox_stat(d.fd, path, pf & PF_SYMLINK_FOLLOW, &st),
                       &st);
}

static whirl_error_t *set_times_at(w2_call_t *c)
{
    w2_desc_t d;
    uint32_t pf;
    char path[W2_MAX_PATH + 1];
    int bad;
    struct timespec ts[2];
    whirl_error_t *e = w2_arg_flags(c, 1, &pf);
    if (e || (e = dir_path(c, 0, 2, true, &d, path, &bad)) || (e = arg_time(c, 3, &ts[0])) ||
        (e = arg_time(c, 4, &ts[1])))
        return e;
    return unit_result(c, bad ? -bad : sandbox_utimens(d.fd, path, pf & PF_SYMLINK_FOLLOW, ts));
}

static whirl_error_t *link_at(w2_call_t *c)
{
    w2_desc_t od, nd;
    uint32_t pf;
    char opath[W2_MAX_PATH + 1], npath[W2_MAX_PATH + 1];
    int bad, bad2;
    whirl_error_t *e = w2_arg_flags(c, 1, &pf);
    if (e || (e = dir_path(c, 0, 2, true, &od, opath, &bad)) ||
        (e = dir_path(c, 3, 4, true, &nd, npath, &bad2)))
        return e;
    if (bad || bad2)
        return w2_err_code(c->res, bad ? bad : bad2);
    return unit_result(c, sandbox_link(od.fd, opath, pf & PF_SYMLINK_FOLLOW, nd.fd, npath));
}

static whirl_error_t *rename_at(w2_call_t *c)
{
    w2_desc_t od, nd;
    char opath[W2_MAX_PATH + 1], npath[W2_MAX_PATH + 1];
    int bad, bad2;
    whirl_error_t *e = dir_path(c, 0, 1, true, &od, opath, &bad);
    if (e || (e = dir_path(c, 2, 3, true, &nd, npath, &bad2)))
        return e;
    if (bad || bad2)
        return w2_err_code(c->res, bad ? bad : bad2);
    return unit_result(c, sandbox_rename(od.fd, opath, nd.fd, npath));
}

static whirl_error_t *symlink_at(w2_call_t *c)
{
    w2_desc_t d;
    char target[W2_MAX_PATH + 1], path[W2_MAX_PATH + 1];
    int bad, tbad = 0;
    whirl_error_t *e = dir_path(c, 0, 2, true, &d, path, &bad);
    if (e || (e = arg_path(c, 1, target, &tbad)))
        return e;
    if (bad || tbad)
        return w2_err_code(c->res, bad ? bad : tbad);
    return unit_result(c, sandbox_symlink(target, d.fd, path));
}

static whirl_error_t *readlink_at(w2_call_t *c)
{
    w2_desc_t d;
    char path[W2_MAX_PATH + 1], target[W2_MAX_PATH + 1];
    int bad;
    whirl_error_t *e = dir_path(c, 0, 1, false, &d, path, &bad);
    if (e)
        return e;
    long n = bad ? -bad : sandbox_readlink(d.fd, path, target, sizeof target);
    if (n < 0)
        return w2_err_code(c->res, (int)-n);
    if (!utf8_valid((const unsigned char *)target, (size_t)n))
        return w2_err_code(c->res, EILSEQ);
    whirl_cval_t *p;
    if ((e = w2_ok(c->res, &p)))
        return e;
    return whirl_cval_set_string(p, target, (size_t)n);
}

static whirl_error_t *open_at(w2_call_t *c)
{
    w2_desc_t d;
    uint32_t pf, of, df;
    char path[W2_MAX_PATH + 1];
    int bad;
    whirl_error_t *e = w2_arg_flags(c, 1, &pf);
    if (e || (e = w2_arg_flags(c, 3, &of)) || (e = w2_arg_flags(c, 4, &df)) ||
        (e = dir_path(c, 0, 2, false, &d, path, &bad)))
        return e;
    if (bad)
        return w2_err_code(c->res, bad);
    if ((of & OF_DIRECTORY) && (of & (OF_CREATE | OF_EXCLUSIVE | OF_TRUNCATE)))
        return w2_err_code(c->res, EINVAL);
    if (!w2_fd_room(c->w))
        return w2_err_code(c->res, EMFILE);
    /* The open mode as wasmtime derives it: creating or truncating writes,
     * and a descriptor that asks for neither reading nor writing reads. */
    bool write = (df & W2_DF_WRITE) || (of & (OF_CREATE | OF_TRUNCATE));
    bool read = (df & W2_DF_READ) || !(df & W2_DF_WRITE);
    if (d.readonly && (write || (df & W2_DF_MUTATE_DIR)))
        return w2_err_code(c->res, EPERM);
    /* O_NONBLOCK for the open itself: opening a fifo must not hang the host. */
    int flags = O_NOCTTY | O_NONBLOCK;
    flags |= read && write ? O_RDWR : write ? O_WRONLY : O_RDONLY;
    if (of & OF_CREATE)
        flags |= O_CREAT;
    if (of & OF_EXCLUSIVE)
        flags |= O_EXCL;
    if (of & OF_TRUNCATE)
        flags |= O_TRUNC;
    if (of & OF_DIRECTORY)
        flags |= O_DIRECTORY;
    if (!(pf & PF_SYMLINK_FOLLOW))
        flags |= O_NOFOLLOW;
    if (df & W2_DF_FILE_SYNC)
        flags |= O_SYNC;
    if (df & W2_DF_DATA_SYNC)
        flags |= O_DSYNC;
    if (df & W2_DF_REQUESTED_SYNC)
        flags |= O_RSYNC;
    int fd = sandbox_open(d.fd, path, flags, 0666);
    if (fd < 0)
        return w2_err_code(c->res, -fd);
    struct stat st;
    if (fstat(fd, &st) != 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        int err = errno;
        close(fd);
        return w2_err_code(c->res, err);
    }
    bool dir = S_ISDIR(st.st_mode);
    w2_obj_t o = {.kind = W2_DESCRIPTOR, .holds_fd = true};
    o.u.desc = (w2_desc_t){.fd = fd, .dir = dir, .readonly = d.readonly};
    o.u.desc.flags = (read || dir ? W2_DF_READ : 0) |
                     ((df & W2_DF_WRITE) && !dir ? W2_DF_WRITE : 0) |
                     (df & (W2_DF_FILE_SYNC | W2_DF_DATA_SYNC | W2_DF_REQUESTED_SYNC)) |
                     (dir && !d.readonly ? W2_DF_MUTATE_DIR : 0);
    uint32_t rep;
    if ((e = w2_obj_add(c->w, &o, &rep))) {
        close(fd);
        return e;
    }
    whirl_cval_t *p;
    if (!(e = w2_ok(c->res, &p)))
        w2_set_own(c, p, WHIRL_WASI2_DESCRIPTOR, rep);
    return e;
}

/* ------------------------------------------------------------------ */
/* Directory entries, errors, pre-opens                                */
/* ------------------------------------------------------------------ */

static uint32_t type_of_dirent(int dirfd, const struct dirent64 *de)
{
    switch (de->d_type) {
    case DT_REG: return DT_REGULAR;
    case DT_DIR: return DT_DIRECTORY;
    case DT_LNK: return DT_SYMLINK;
    case DT_CHR: return DT_CHAR;
    case DT_BLK: return DT_BLOCK;
    case DT_FIFO: return DT_FIFO_;
    case DT_SOCK: return DT_SOCKET;
    default: {
        struct stat st;
        if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
            return type_of_mode(st.st_mode);
        return DT_UNKNOWN_;
    }
    }
}

int w2_dir_next(int fd, uint64_t *off, w2_dirent_t *out)
{
    char batch[4096] __attribute__((aligned(8)));
    for (;;) {
        ssize_t n = -1;
        if (lseek(fd, (off_t)*off, SEEK_SET) >= 0)
            n = getdents64(fd, batch, sizeof batch);
        if (n < 0)
            return -errno;
        if (n == 0)
            return 0;
        for (ssize_t at = 0; at < n;) {
            const struct dirent64 *d = (const struct dirent64 *)(batch + at);
            at += d->d_reclen;
            *off = (uint64_t)d->d_off;
            if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
                continue;
            out->len = strlen(d->d_name);
            if (out->len >= sizeof out->name || !utf8_valid((const unsigned char *)d->d_name, out->len))
                return -EILSEQ;
            memcpy(out->name, d->d_name, out->len + 1);
            out->type = type_of_dirent(fd, d);
            return 1;
        }
    }
}

static whirl_error_t *read_directory_entry(w2_call_t *c)
{
    uint32_t rep;
    w2_obj_t *o;
    whirl_error_t *e = w2_arg_obj(c, 0, WHIRL_WASI2_DIRECTORY_ENTRY_STREAM, &rep, &o);
    if (e)
        return e;
    w2_dirent_t de;
    uint64_t off = (uint64_t)o->u.dir.off;
    int r = w2_dir_next(o->u.dir.fd, &off, &de);
    o->u.dir.off = (int64_t)off;
    if (r < 0)
        return w2_err_code(c->res, -r);
    whirl_cval_t *p;
    if ((e = w2_ok(c->res, &p)))
        return e;
    if (r == 0)
        return whirl_cval_set_case(p, WHIRL_CVAL_OPTION, 0, false);
    if ((e = whirl_cval_set_case(p, WHIRL_CVAL_OPTION, 1, true)))
        return e;
    return w2_dirent_value(p->of.variant.payload, &de);
}

whirl_error_t *w2_dirent_value(whirl_cval_t *v, const w2_dirent_t *de)
{
    whirl_error_t *e = whirl_cval_set_items(v, WHIRL_CVAL_RECORD, 2);
    if (e)
        return e;
    v->of.list.items[0].kind = WHIRL_CVAL_ENUM;
    v->of.list.items[0].of.variant.index = de->type;
    return whirl_cval_set_string(&v->of.list.items[1], de->name, de->len);
}

static whirl_error_t *filesystem_error_code(w2_call_t *c)
{
    uint32_t rep;
    w2_obj_t *o;
    whirl_error_t *e = w2_arg_obj(c, 0, WHIRL_WASI2_ERROR, &rep, &o);
    if (e)
        return e;
    int code = o->u.err.code;
    if (!code)
        return whirl_cval_set_case(c->res, WHIRL_CVAL_OPTION, 0, false);
    if ((e = whirl_cval_set_case(c->res, WHIRL_CVAL_OPTION, 1, true)))
        return e;
    c->res->of.variant.payload->kind = WHIRL_CVAL_ENUM;
    c->res->of.variant.payload->of.variant.index = w2_error_code(code);
    return NULL;
}

static whirl_error_t *get_directories(w2_call_t *c)
{
    whirl_wasi2_t *w = c->w;
    whirl_error_t *e = whirl_cval_set_items(c->res, WHIRL_CVAL_LIST, w->npre);
    for (size_t i = 0; i < w->npre && !e; i++) {
        const w2_preopen_t *p = &w->pre[i];
        if (!w2_fd_room(w))
            return w2_trap(c, "too many open files and directories (%u)", w->max_fds);
        int fd = fcntl(p->fd, F_DUPFD_CLOEXEC, 0);
        if (fd < 0)
            return w2_trap(c, "cannot duplicate pre-opened directory `%s`: %s", p->name,
                           strerror(errno));
        w2_obj_t o = {.kind = W2_DESCRIPTOR, .holds_fd = true};
        o.u.desc = (w2_desc_t){.fd = fd, .dir = true, .readonly = p->readonly,
                               .flags = W2_DF_READ | (p->readonly ? 0 : W2_DF_MUTATE_DIR)};
        uint32_t rep;
        if ((e = w2_obj_add(w, &o, &rep))) {
            close(fd);
            break;
        }
        whirl_cval_t *t = &c->res->of.list.items[i];
        if ((e = whirl_cval_set_items(t, WHIRL_CVAL_TUPLE, 2)))
            break;
        w2_set_own(c, &t->of.list.items[0], WHIRL_WASI2_DESCRIPTOR, rep);
        e = whirl_cval_set_string(&t->of.list.items[1], p->name, strlen(p->name));
    }
    return e;
}

/* ------------------------------------------------------------------ */

#define FS(name, fn, na, nr) {WHIRL_WASI2_FILESYSTEM, "wasi:filesystem/types", name, fn, na, nr}
#define D(name) "[method]descriptor." name
const w2_def_t w2_fs_defs[] = {
    FS(D("read-via-stream"), read_via_stream, 2, 1),
    FS(D("write-via-stream"), write_via_stream, 2, 1),
    FS(D("append-via-stream"), append_via_stream, 1, 1),
    FS(D("advise"), advise, 4, 1),
    FS(D("sync-data"), sync_data, 1, 1),
    FS(D("get-flags"), get_flags, 1, 1),
    FS(D("get-type"), get_type, 1, 1),
    FS(D("set-size"), set_size, 2, 1),
    FS(D("set-times"), set_times, 3, 1),
    FS(D("read"), fs_read, 3, 1),
    FS(D("write"), fs_write, 3, 1),
    FS(D("read-directory"), read_directory, 1, 1),
    FS(D("sync"), sync_all, 1, 1),
    FS(D("create-directory-at"), create_directory_at, 2, 1),
    FS(D("stat"), stat_self, 1, 1),
    FS(D("stat-at"), stat_at, 3, 1),
    FS(D("set-times-at"), set_times_at, 5, 1),
    FS(D("link-at"), link_at, 5, 1),
    FS(D("open-at"), open_at, 5, 1),
    FS(D("readlink-at"), readlink_at, 2, 1),
    FS(D("remove-directory-at"), remove_directory_at, 2, 1),
    FS(D("rename-at"), rename_at, 4, 1),
    FS(D("symlink-at"), symlink_at, 3, 1),
    FS(D("unlink-file-at"), unlink_file_at, 2, 1),
    FS(D("is-same-object"), is_same_object, 2, 1),
    FS(D("metadata-hash"), metadata_hash, 1, 1),
    FS(D("metadata-hash-at"), metadata_hash_at, 3, 1),
    FS("[method]directory-entry-stream.read-directory-entry", read_directory_entry, 1, 1),
    FS("filesystem-error-code", filesystem_error_code, 1, 1),
    {WHIRL_WASI2_FILESYSTEM, "wasi:filesystem/preopens", "get-directories", get_directories, 0, 1},
};
const size_t w2_fs_ndefs = sizeof w2_fs_defs / sizeof *w2_fs_defs;
