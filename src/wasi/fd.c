/* WASI fd_* functions: reading, writing, seeking, metadata, directory
 * listing and the descriptor table operations.
 *
 * Error choices follow wasmtime where POSIX and WASI runtimes disagree:
 * byte I/O, seeking, syncing, advice and truncation on a directory are
 * EBADF; seeking or positional I/O on a stream (stdio, socket) is ESPIPE;
 * reading a write-only descriptor or writing a read-only one is EBADF. */
#define _GNU_SOURCE /* O_PATH, ppoll, accept4, utimensat flags */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "wasi/internal.h"

#define HAS_DROPPED(f, r) (((f)->dropped & WASI_RIGHT(r)) != 0)

uint32_t wasi_iovecs(const wasi_mem_t *m, uint32_t iovs, uint32_t n, struct iovec *out,
                     int *count, uint64_t *total)
{
    uint32_t use = n > WASI_MAX_IOVS ? WASI_MAX_IOVS : n;
    if (!mem_ok(m, iovs, (uint64_t)n * WASI_IOVEC_SIZE))
        return WASI_EFAULT;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < use; i++) {
        const uint8_t *p = mem_at(m, iovs + i * WASI_IOVEC_SIZE);
        uint32_t buf = ld32(p), len = ld32(p + 4);
        if (!mem_ok(m, buf, len))
            return WASI_EFAULT;
        out[i].iov_base = mem_at(m, buf);
        out[i].iov_len = len;
        sum += len;
    }
    *count = (int)use;
    *total = sum;
    return 0;
}

static uint64_t timestamp(const struct timespec *ts)
{
    if (ts->tv_sec < 0)
        return 0; /* before 1970: WASI timestamps are unsigned */
    if ((uint64_t)ts->tv_sec > (UINT64_MAX - 999999999u) / 1000000000u)
        return UINT64_MAX;
    return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

void wasi_put_filestat(uint8_t *p, const struct stat *st)
{
    memset(p, 0, WASI_FILESTAT_SIZE);
    st64(p + 0, (uint64_t)st->st_dev);
    st64(p + 8, (uint64_t)st->st_ino);
    st8(p + 16, wasi_filetype(st->st_mode));
    st64(p + 24, (uint64_t)st->st_nlink);
    st64(p + 32, st->st_size < 0 ? 0 : (uint64_t)st->st_size);
    st64(p + 40, timestamp(&st->st_atim));
    st64(p + 48, timestamp(&st->st_mtim));
    st64(p + 56, timestamp(&st->st_ctim));
}

static uint32_t one_time(uint64_t t, bool set, bool now, struct timespec *ts)
{
    if (set && now)
        return WASI_EINVAL;
    if (now) {
        ts->tv_sec = 0;
        ts->tv_nsec = UTIME_NOW;
    } else if (set) {
        ts->tv_sec = (time_t)(t / 1000000000u);
        ts->tv_nsec = (long)(t % 1000000000u);
    } else {
        ts->tv_sec = 0;
        ts->tv_nsec = UTIME_OMIT;
    }
    return 0;
}

uint32_t wasi_times(uint64_t atim, uint64_t mtim, uint32_t flags, struct timespec ts[2])
{
    if (flags & ~0xfu)
        return WASI_EINVAL;
    uint32_t e = one_time(atim, flags & WASI_FSTFLAG_ATIM, flags & WASI_FSTFLAG_ATIM_NOW, &ts[0]);
    if (e == 0)
        e = one_time(mtim, flags & WASI_FSTFLAG_MTIM, flags & WASI_FSTFLAG_MTIM_NOW, &ts[1]);
    return e;
}

/* Streams and devices may block; regular files never do. */
static bool may_block(const wasi_fd_t *f)
{
    return f->host_kind != WASI_HOST_FILE;
}

/* ---- read and write ---- */

/* A callback stream: one call per buffer, stopping at the first short
 * transfer so that a read never waits for more than the host has. An error
 * after some bytes moved reports the bytes; the next call meets it again.
 * A callback that gave up with EINTR at the store's deadline ends the guest
 * with the `interrupt` trap. */
static uint32_t stream_read(wasi_call_t *c, wasi_fd_t *f, const struct iovec *iov, int n,
                            uint32_t *nread)
{
    uint64_t done = 0;
    for (int i = 0; i < n; i++) {
        size_t len = iov[i].iov_len;
        if (len > UINT32_MAX - done)
            len = UINT32_MAX - done;
        if (len == 0)
            continue;
        int64_t r = f->io(f->io_env, iov[i].iov_base, len);
        if (r < 0) {
            if (r == -EINTR && wasi_deadline_passed(c, "a read"))
                return WASI_EINTR;
            if (done)
                break;
            return wasi_errno((int)-r);
        }
        done += (uint64_t)r > len ? len : (uint64_t)r;
        if ((uint64_t)r < len)
            break;
    }
    *nread = (uint32_t)done;
    return 0;
}

static uint32_t stream_write(wasi_call_t *c, wasi_fd_t *f, const struct iovec *iov, int n,
                             uint32_t *nwritten)
{
    uint64_t done = 0;
    for (int i = 0; i < n; i++) {
        size_t len = iov[i].iov_len;
        if (len > UINT32_MAX - done)
            len = UINT32_MAX - done;
        size_t off = 0;
        while (off < len) {
            int64_t r = f->io(f->io_env, (uint8_t *)iov[i].iov_base + off, len - off);
            if (r <= 0) {
                if (r == -EINTR && wasi_deadline_passed(c, "a write"))
                    return WASI_EINTR;
                if (done + off) {
                    done += off;
                    goto out;
                }
                return r < 0 ? wasi_errno((int)-r) : WASI_EIO;
            }
            off += (uint64_t)r > len - off ? len - off : (size_t)r;
        }
        done += off;
    }
out:
    *nwritten = (uint32_t)done;
    return 0;
}

/* SIGPIPE blocked around a write, so that a closed pipe gives EPIPE to the
 * guest instead of killing the host; a SIGPIPE the write raised is
 * consumed. */
typedef struct sigpipe_guard {
    sigset_t set, old;
    bool was_pending;
} sigpipe_guard_t;

static void sigpipe_block(sigpipe_guard_t *g)
{
    sigset_t pending;
    sigemptyset(&g->set);
    sigaddset(&g->set, SIGPIPE);
    sigemptyset(&pending);
    sigpending(&pending);
    g->was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &g->set, &g->old);
}

static void sigpipe_restore(sigpipe_guard_t *g, ssize_t r)
{
    int e = errno;
    if (r < 0 && e == EPIPE && !g->was_pending) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&g->set, NULL, &zero) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
    errno = e;
}

/* Caps a write at `max` bytes by shortening the iovec array in place
 * (*n updated). */
static void clamp_iov(struct iovec *iov, int *n, size_t max)
{
    size_t sum = 0;
    for (int i = 0; i < *n; i++) {
        if (iov[i].iov_len >= max - sum) {
            iov[i].iov_len = max - sum;
            *n = i + 1;
            return;
        }
        sum += iov[i].iov_len;
    }
}

/* One read or write on a host descriptor that never makes the thread wait
 * on a stream, whoever else shares it: the caller has waited for readiness
 * (bounded by the deadline), and a reader or writer racing us on the same
 * pipe cannot turn that into a wait without end. Returns the bytes moved or
 * -1 with errno (EAGAIN: not ready after all). */
static ssize_t try_io(wasi_fd_t *f, bool write, struct iovec *iov, int n, bool positional,
                      off_t offset)
{
    if (f->host_kind == WASI_HOST_FILE || f->host_nonblock) {
        if (write)
            return positional ? pwritev(f->host, iov, n, offset) : writev(f->host, iov, n);
        return positional ? preadv(f->host, iov, n, offset) : readv(f->host, iov, n);
    }
    if (f->host_kind == WASI_HOST_SOCKET && !positional) {
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        return write ? sendmsg(f->host, &msg, MSG_DONTWAIT | MSG_NOSIGNAL)
                     : recvmsg(f->host, &msg, MSG_DONTWAIT);
    }
    off_t pos = positional ? offset : -1;
    if (!f->no_rwf_nowait) {
        ssize_t r = write ? pwritev2(f->host, iov, n, pos, RWF_NOWAIT)
                          : preadv2(f->host, iov, n, pos, RWF_NOWAIT);
        if (r >= 0 || (errno != EOPNOTSUPP && errno != ENOSYS))
            return r;
        f->no_rwf_nowait = true; /* a terminal, say, or an older kernel */
    }
    struct pollfd p = {.fd = f->host, .events = write ? POLLOUT : POLLIN};
    int ready;
    while ((ready = poll(&p, 1, 0)) < 0 && errno == EINTR) {
    }
    if (ready == 0) {
        errno = EAGAIN;
        return -1;
    }
    if (!write)
        return positional ? preadv(f->host, iov, n, offset) : readv(f->host, iov, n);
    /* A pipe ready for writing has room for PIPE_BUF bytes at least: a
     * longer write could wait for the reader. */
    clamp_iov(iov, &n, PIPE_BUF);
    return positional ? pwritev(f->host, iov, n, offset) : writev(f->host, iov, n);
}

static uint32_t do_read(wasi_call_t *c, wasi_fd_t *f, uint32_t iovs, uint32_t niovs,
                        bool positional, uint64_t offset, uint32_t *nread)
{
    /* The open mode first (EBADF, as POSIX programs expect), then the
     * rights (ENOTCAPABLE). */
    if (f->kind == WASI_FD_DIR || !f->can_read)
        return WASI_EBADF;
    if (HAS_DROPPED(f, WASI_RIGHT_FD_READ) || (positional && HAS_DROPPED(f, WASI_RIGHT_FD_SEEK)))
        return WASI_ENOTCAPABLE;
    if (positional && (f->kind == WASI_FD_STDIO || f->kind == WASI_FD_SOCKET))
        return WASI_ESPIPE;
    if (positional && offset > INT64_MAX)
        return WASI_EINVAL;
    struct iovec iov[WASI_MAX_IOVS];
    int n;
    uint64_t total;
    uint32_t e = wasi_iovecs(&c->mem, iovs, niovs, iov, &n, &total);
    if (e)
        return e;
    *nread = 0;
    if (f->io)
        return stream_read(c, f, iov, n, nread);
    if (f->host < 0 || total == 0)
        return 0; /* an absent stdin is always at end of file */
    bool nonblock = f->fdflags & WASI_FDFLAG_NONBLOCK;
    for (;;) {
        /* Waiting first keeps the meaning of a fifo nobody has opened for
         * writing yet: it waits for a writer instead of reading end of file. */
        if (may_block(f) && (e = wasi_wait_fd(c, f->host, POLLIN, nonblock)) != 0)
            return e;
        ssize_t r = try_io(f, false, iov, n, positional, (off_t)offset);
        if (r >= 0) {
            *nread = r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
            return 0;
        }
        if (errno == EINTR)
            continue;
        if ((errno == EAGAIN || errno == EWOULDBLOCK) && may_block(f)) {
            if (nonblock)
                return WASI_EAGAIN;
            continue;
        }
        return wasi_errno(errno);
    }
}

static uint32_t do_write(wasi_call_t *c, wasi_fd_t *f, uint32_t iovs, uint32_t niovs,
                         bool positional, uint64_t offset, uint32_t *nwritten)
{
    if (f->kind == WASI_FD_DIR || !f->can_write)
        return WASI_EBADF;
    if (HAS_DROPPED(f, WASI_RIGHT_FD_WRITE) || (positional && HAS_DROPPED(f, WASI_RIGHT_FD_SEEK)))
        return WASI_ENOTCAPABLE;
    if (positional && (f->kind == WASI_FD_STDIO || f->kind == WASI_FD_SOCKET))
        return WASI_ESPIPE;
    if (positional && offset > INT64_MAX)
        return WASI_EINVAL;
    struct iovec iov[WASI_MAX_IOVS];
    int n;
    uint64_t total;
    uint32_t e = wasi_iovecs(&c->mem, iovs, niovs, iov, &n, &total);
    if (e)
        return e;
    *nwritten = 0;
    if (f->io)
        return stream_write(c, f, iov, n, nwritten);
    if (f->host < 0) {
        /* An absent stdout or stderr swallows everything. */
        *nwritten = total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
        return 0;
    }
    if (total == 0 && !positional && f->filetype == WASI_FILETYPE_REGULAR_FILE)
        return 0;
    bool nonblock = f->fdflags & WASI_FDFLAG_NONBLOCK;
    for (;;) {
        if (may_block(f) && (e = wasi_wait_fd(c, f->host, POLLOUT, nonblock)) != 0)
            return e;
        sigpipe_guard_t g;
        if (may_block(f))
            sigpipe_block(&g);
        ssize_t r = try_io(f, true, iov, n, positional, (off_t)offset);
        if (may_block(f))
            sigpipe_restore(&g, r);
        if (r >= 0) {
            *nwritten = r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
            return 0;
        }
        if (errno == EINTR)
            continue;
        if ((errno == EAGAIN || errno == EWOULDBLOCK) && may_block(f)) {
            if (nonblock)
                return WASI_EAGAIN;
            continue;
        }
        return wasi_errno(errno);
    }
}

/* fd_read, fd_pread, fd_write and fd_pwrite: (fd, iovs, iovs_len[, offset],
 * nbytes_out). The positioned forms take the offset before the out pointer. */
static uint32_t fd_transfer(wasi_call_t *c, bool write, bool positioned)
{
    wasi_fd_t *f = wasi_fd_get(c->w, arg32(c, 0));
    uint32_t out = arg32(c, positioned ? 4 : 3), n;
    if (!f)
        return WASI_EBADF;
    if (!mem_ok(&c->mem, out, 4))
        return WASI_EFAULT;
    uint64_t offset = positioned ? arg64(c, 3) : 0;
    uint32_t e = write ? do_write(c, f, arg32(c, 1), arg32(c, 2), positioned, offset, &n)
                       : do_read(c, f, arg32(c, 1), arg32(c, 2), positioned, offset, &n);
    if (e == 0)
        mem_put32(&c->mem, out, n);
    return e;
}

uint32_t wasi_fd_read(wasi_call_t *c) { return fd_transfer(c, false, false); }
uint32_t wasi_fd_pread(wasi_call_t *c) { return fd_transfer(c, false, true); }
uint32_t wasi_fd_write(wasi_call_t *c) { return fd_transfer(c, true, false); }
uint32_t wasi_fd_pwrite(wasi_call_t *c) { return fd_transfer(c, true, true); }

/* ---- position ---- */

static uint32_t do_seek(wasi_fd_t *f, int64_t offset, uint32_t whence, uint64_t *pos)
{
    if (f->kind == WASI_FD_DIR)
        return WASI_EBADF;
    if (f->kind == WASI_FD_STDIO || f->kind == WASI_FD_SOCKET)
        return WASI_ESPIPE;
    int how;
    switch (whence) {
    case WASI_WHENCE_SET: how = SEEK_SET; break;
    case WASI_WHENCE_CUR: how = SEEK_CUR; break;
    case WASI_WHENCE_END: how = SEEK_END; break;
    default: return WASI_EINVAL;
    }
    off_t r = lseek(f->host, (off_t)offset, how);
    if (r < 0)
        return wasi_errno(errno);
    *pos = (uint64_t)r;
    return 0;
}

uint32_t wasi_fd_seek(wasi_call_t *c)
{
    wasi_fd_t *f = wasi_fd_get(c->w, arg32(c, 0));
    int64_t offset = (int64_t)arg64(c, 1);
    uint32_t whence = arg32(c, 2), out = arg32(c, 3);
    if (!f)
        return WASI_EBADF;
    /* Asking only for the position needs FD_TELL, moving it FD_SEEK. */
    bool tell = offset == 0 && whence == WASI_WHENCE_CUR;
    if (HAS_DROPPED(f, WASI_RIGHT_FD_SEEK) && !(tell && !HAS_DROPPED(f, WASI_RIGHT_FD_TELL)))
        return WASI_ENOTCAPABLE;
    if (!mem_ok(&c->mem, out, 8))
        return WASI_EFAULT;
    uint64_t pos;
    uint32_t e = do_seek(f, offset, whence, &pos);
    if (e == 0)
        mem_put64(&c->mem, out, pos);
    return e;
}

uint32_t wasi_fd_tell(wasi_call_t *c)
{
    wasi_fd_t *f = wasi_fd_get(c->w, arg32(c, 0));
    uint32_t out = arg32(c, 1);
    if (!f)
        return WASI_EBADF;
    if (HAS_DROPPED(f, WASI_RIGHT_FD_TELL))
        return WASI_ENOTCAPABLE;
    if (!mem_ok(&c->mem, out, 8))
        return WASI_EFAULT;
    uint64_t pos;
    uint32_t e = do_seek(f, 0, WASI_WHENCE_CUR, &pos);
    if (e == 0)
        mem_put64(&c->mem, out, pos);
    return e;
}

/* ---- file-only operations ---- */

/* The descriptor if it is an open file (not a directory or stream). */
static uint32_t get_file(wasi_call_t *c, uint32_t fd, int right, wasi_fd_t **out)
{
    wasi_fd_t *f = wasi_fd_get(c->w, fd);
    if (!f || f->kind != WASI_FD_FILE)
        return WASI_EBADF;
    if (right >= 0 && HAS_DROPPED(f, right))
        return WASI_ENOTCAPABLE;
    *out = f;
    return 0;
}

uint32_t wasi_fd_advise(wasi_call_t *c)
{
    wasi_fd_t *f;
    uint32_t e = get_file(c, arg32(c, 0), WASI_RIGHT_FD_ADVISE, &f);
    if (e)
        return e;
    uint64_t offset = arg64(c, 1), len = arg64(c, 2);
    static const int advice[] = {POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                                 POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE};
    uint32_t a = arg32(c, 3);
    if (a >= sizeof advice / sizeof advice[0] || offset > INT64_MAX || len > INT64_MAX)
        return WASI_EINVAL;
    return wasi_errno(posix_fadvise(f->host, (off_t)offset, (off_t)len, advice[a]));
}

uint32_t wasi_fd_allocate(wasi_call_t *c)
{
    wasi_fd_t *f;
    uint32_t e = get_file(c, arg32(c, 0), WASI_RIGHT_FD_ALLOCATE, &f);
    if (e)
        return e;
    uint64_t offset = arg64(c, 1), len = arg64(c, 2);
    if (!f->can_write)
        return WASI_EBADF;
    if (f->readonly)
        return WASI_EPERM;
    if (offset > INT64_MAX || len > INT64_MAX - offset)
        return WASI_EFBIG;
    return wasi_errno(posix_fallocate(f->host, (off_t)offset, (off_t)len));
}

uint32_t wasi_fd_datasync(wasi_call_t *c)
{
    wasi_fd_t *f;
    uint32_t e = get_file(c, arg32(c, 0), WASI_RIGHT_FD_DATASYNC, &f);
    if (e)
        return e;
    return fdatasync(f->host) == 0 ? 0 : wasi_errno(errno);
}

uint32_t wasi_fd_sync(wasi_call_t *c)
{
    wasi_fd_t *f;
    uint32_t e = get_file(c, arg32(c, 0), WASI_RIGHT_FD_SYNC, &f);
    if (e)
        return e;
    return fsync(f->host) == 0 ? 0 : wasi_errno(errno);
}

uint32_t wasi_fd_filestat_set_size(wasi_call_t *c)
{
    wasi_fd_t *f;
    uint32_t e = get_file(c, arg32(c, 0), WASI_RIGHT_FD_FILESTAT_SET_SIZE, &f);
    if (e)
        return e;
    uint64_t size = arg64(c, 1);
    if (f->readonly)
        return WASI_EPERM;
    if (size > INT64_MAX)
        return WASI_EINVAL;
    return ftruncate(f->host, (off_t)size) == 0 ? 0 : wasi_errno(errno);
}

/* ---- metadata ---- */

uint32_t wasi_fd_close(wasi_call_t *c)
{
    wasi_fd_t *f = wasi_fd_get(c->w, arg32(c, 0));
    if (!f)
        return WASI_EBADF;
    wasi_fd_release(c->w, f);
    return 0;
}

uint32_t wasi_fd_fdstat_get(wasi_call_t *c)
{
    wasi_fd_t *f = wasi_fd_get(c->w, arg32(c, 0));
    uint32_t out = arg32(c, 1);
    if (!f)
        return WASI_EBADF;
    if (!mem_ok(&c->mem, out, WASI_FDSTAT_SIZE))
        return WASI_EFAULT;
    uint8_t *p = mem_at(&c->mem, out);
    memset(p, 0, WASI_FDSTAT_SIZE);
    st8(p, f->filetype);
    st16(p + 2, f->fdflags);
    st64(p + 8, wasi_fd_base_rights(f));
    st64(p + 16, wasi_fd_inheriting_rights(f));
    return 0;
}

#define SYNC_FLAGS (WASI_FDFLAG_DSYNC | WASI_FDFLAG_RSYNC | WASI_FDFLAG_SYNC)

uint32_t wasi_fd_fdstat_set_flags(wasi_call_t *c)
{
    wasi_fd_t *f = wasi_fd_get(c->w, arg32(c, 0));
    uint32_t flags = arg32(c, 1);
    if (!f || f->kind == WASI_FD_DIR)
        return WASI_EBADF;
    if (HAS_DROPPED(f, WASI_RIGHT_FD_FDSTAT_SET_FLAGS))
        return WASI_ENOTCAPABLE;
    if (flags & ~0x1fu)
        return WASI_EINVAL;
    /* Linux cannot switch synchronous I/O on or off after open. */
    if ((flags & SYNC_FLAGS) != (f->fdflags & SYNC_FLAGS))
        return WASI_EINVAL;
    if (f->kind == WASI_FD_FILE) {
        int fl = fcntl(f->host, F_GETFL);
        if (fl < 0)
            return wasi_errno(errno);
        fl = (flags & WASI_FDFLAG_APPEND) ? fl | O_APPEND : fl & ~O_APPEND;
        /* Our fifos and devices stay non-blocking: the mode is emulated. */
        fl = (flags & WASI_FDFLAG_NONBLOCK) || f->host_nonblock ? fl | O_NONBLOCK
                                                                 : fl & ~O_NONBLOCK;
        if (fcntl(f->host, F_SETFL, fl) != 0)
            return wasi_errno(errno);
    } else if (flags & WASI_FDFLAG_APPEND) {
        return WASI_ENOTSUP; /* streams have no position to append at */
    }
    /* Streams belong to the embedder: their non-blocking mode is emulated
     * (a readiness check before each call), never set on the host fd. */
    f->fdflags = (uint16_t)flags;
    return 0;
}

uint32_t wasi_fd_fdstat_set_rights(wasi_call_t *c)
{
    wasi_fd_t *f = wasi_fd_get(c->w, arg32(c, 0));
    uint64_t base = arg64(c, 1), inheriting = arg64(c, 2);
    if (!f)
        return WASI_EBADF;
    uint64_t cur = wasi_fd_base_rights(f), cur_inh = wasi_fd_inheriting_rights(f);
    /* Rights can only be removed. */
    if ((base & ~cur) || (inheriting & ~cur_inh))
        return WASI_ENOTCAPABLE;
    f->dropped |= cur & ~base;
    f->dropped_inheriting |= cur_inh & ~inheriting;
    return 0;
}

uint32_t wasi_fd_filestat_get(wasi_call_t *c)
{
    wasi_fd_t *f = wasi_fd_get(c->w, arg32(c, 0));
    uint32_t out = arg32(c, 1);
    if (!f)
        return WASI_EBADF;
    if (HAS_DROPPED(f, WASI_RIGHT_FD_FILESTAT_GET))
        return WASI_ENOTCAPABLE;
    if (!mem_ok(&c->mem, out, WASI_FILESTAT_SIZE))
        return WASI_EFAULT;
    uint8_t *p = mem_at(&c->mem, out);
    if (f->kind == WASI_FD_STDIO || f->kind == WASI_FD_SOCKET) {
        /* Like wasmtime: streams show their type and nothing of the host. */
        memset(p, 0, WASI_FILESTAT_SIZE);
        st8(p + 16, f->filetype);
        return 0;
    }
    struct stat st;
    if (fstat(f->host, &st) != 0)
        return wasi_errno(errno);
    wasi_put_filestat(p, &st);
    return 0;
}

uint32_t wasi_fd_filestat_set_times(wasi_call_t *c)
{
    wasi_fd_t *f = wasi_fd_get(c->w, arg32(c, 0));
    if (!f || (f->kind != WASI_FD_FILE && f->kind != WASI_FD_DIR))
        return WASI_EBADF;
    if (HAS_DROPPED(f, WASI_RIGHT_FD_FILESTAT_SET_TIMES))
        return WASI_ENOTCAPABLE;
    struct timespec ts[2];
    uint32_t e = wasi_times(arg64(c, 1), arg64(c, 2), arg32(c, 3), ts);
    if (e)
        return e;
    if (f->readonly)
        return WASI_EPERM;
    return futimens(f->host, ts) == 0 ? 0 : wasi_errno(errno);
}

uint32_t wasi_fd_prestat_get(wasi_call_t *c)
{
    wasi_fd_t *f = wasi_fd_get(c->w, arg32(c, 0));
    uint32_t out = arg32(c, 1);
    if (!f || !f->preopen)
        return WASI_EBADF;
    if (!mem_ok(&c->mem, out, WASI_PRESTAT_SIZE))
        return WASI_EFAULT;
    uint8_t *p = mem_at(&c->mem, out);
    memset(p, 0, WASI_PRESTAT_SIZE);
    st8(p, 0); /* preopentype dir */
    st32(p + 4, (uint32_t)f->preopen_len);
    return 0;
}

uint32_t wasi_fd_prestat_dir_name(wasi_call_t *c)
{
    wasi_fd_t *f = wasi_fd_get(c->w, arg32(c, 0));
    uint32_t buf = arg32(c, 1), len = arg32(c, 2);
    if (!f)
        return WASI_EBADF;
    if (!f->preopen)
        return WASI_ENOTDIR;
    if (len < f->preopen_len)
        return WASI_ENAMETOOLONG;
    if (!mem_ok(&c->mem, buf, f->preopen_len))
        return WASI_EFAULT;
    memcpy(mem_at(&c->mem, buf), f->preopen, f->preopen_len);
    return 0;
}

uint32_t wasi_fd_renumber(wasi_call_t *c)
{
    uint32_t from = arg32(c, 0), to = arg32(c, 1);
    wasi_fd_t *ff = wasi_fd_get(c->w, from), *ft = wasi_fd_get(c->w, to);
    if (!ff || !ft)
        return WASI_EBADF;
    if (from == to)
        return 0;
    wasi_fd_release(c->w, ft);
    c->w->fds[to] = c->w->fds[from];
    memset(&c->w->fds[from], 0, sizeof c->w->fds[from]);
    c->w->fds[from].kind = WASI_FD_FREE;
    return 0;
}

/* ---- fd_readdir ---- */

static uint8_t dirent_type(int dirfd, unsigned char d_type, const char *name)
{
    switch (d_type) {
    case DT_REG: return WASI_FILETYPE_REGULAR_FILE;
    case DT_DIR: return WASI_FILETYPE_DIRECTORY;
    case DT_LNK: return WASI_FILETYPE_SYMBOLIC_LINK;
    case DT_CHR: return WASI_FILETYPE_CHARACTER_DEVICE;
    case DT_BLK: return WASI_FILETYPE_BLOCK_DEVICE;
    case DT_SOCK: return WASI_FILETYPE_SOCKET_STREAM;
    case DT_FIFO: return WASI_FILETYPE_UNKNOWN;
    default: {
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
            return wasi_filetype(st.st_mode);
        return WASI_FILETYPE_UNKNOWN;
    }
    }
}

/* Writes the dirent record of an entry with cookie `next` at dst + *used
 * (at most `len` bytes in all). A record that does not fit is cut off at
 * the end of the buffer: a full buffer tells the guest to call again from
 * the last whole record's d_next, which delivers this entry again. Returns
 * false when the buffer is full. */
static bool put_dirent(uint8_t *dst, uint32_t len, uint32_t *used, uint64_t next, uint64_t ino,
                       uint8_t type, const char *name, uint32_t namelen)
{
    uint8_t rec[WASI_DIRENT_SIZE + 256];
    memset(rec, 0, WASI_DIRENT_SIZE);
    st64(rec, next);
    st64(rec + 8, ino);
    st32(rec + 16, namelen);
    st8(rec + 20, type);
    memcpy(rec + WASI_DIRENT_SIZE, name, namelen);
    uint32_t size = WASI_DIRENT_SIZE + namelen, room = len - *used;
    memcpy(dst + *used, rec, size < room ? size : room);
    if (size > room) {
        *used = len;
        return false;
    }
    *used += size;
    return true;
}

uint32_t wasi_fd_readdir(wasi_call_t *c)
{
    wasi_fd_t *f = wasi_fd_get(c->w, arg32(c, 0));
    uint32_t buf = arg32(c, 1), len = arg32(c, 2), out = arg32(c, 4);
    uint64_t cookie = arg64(c, 3);
    if (!f || f->kind != WASI_FD_DIR)
        return WASI_EBADF;
    if (HAS_DROPPED(f, WASI_RIGHT_FD_READDIR))
        return WASI_ENOTCAPABLE;
    if (!mem_ok(&c->mem, buf, len) || !mem_ok(&c->mem, out, 4))
        return WASI_EFAULT;
    /* Cookie 0 always starts afresh, so a new listing sees the directory's
     * changes; an earlier cookie starts afresh and skips ahead. */
    if (cookie == 0 || cookie < f->dir_next) {
        f->dir_next = 0;
        f->dir_off = 0;
    }
    uint8_t *dst = mem_at(&c->mem, buf);
    uint32_t used = 0;
    /* "." and ".." come first (the host's own are skipped: at a pre-open,
     * the real ".." is outside the sandbox). */
    while (f->dir_next < 2 && used < len) {
        struct stat st;
        if (fstat(f->host, &st) != 0)
            return wasi_errno(errno);
        if (f->dir_next >= cookie &&
            !put_dirent(dst, len, &used, f->dir_next + 1, (uint64_t)st.st_ino,
                        WASI_FILETYPE_DIRECTORY, "..", (uint32_t)f->dir_next + 1))
            break;
        f->dir_next++;
    }
    char batch[8192] __attribute__((aligned(8)));
    while (used < len) {
        if (lseek(f->host, f->dir_off, SEEK_SET) < 0)
            return wasi_errno(errno == EBADF ? EACCES : errno);
        ssize_t n = getdents64(f->host, batch, sizeof batch);
        if (n < 0) /* EBADF: a pre-open the host may search but not list */
            return wasi_errno(errno == EBADF ? EACCES : errno);
        if (n == 0)
            break;
        for (ssize_t at = 0; at < n && used < len;) {
            const struct dirent64 *d = (const struct dirent64 *)(batch + at);
            at += d->d_reclen;
            size_t namelen = strlen(d->d_name);
            if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..") || namelen > 255) {
                f->dir_off = d->d_off;
                continue;
            }
            if (f->dir_next >= cookie) {
                uint8_t type = dirent_type(f->host, d->d_type, d->d_name);
                if (!put_dirent(dst, len, &used, f->dir_next + 1, (uint64_t)d->d_ino, type,
                                d->d_name, (uint32_t)namelen))
                    break;
            }
            f->dir_off = d->d_off;
            f->dir_next++;
        }
    }
    mem_put32(&c->mem, out, used);
    return 0;
}
