/* WASI path_* functions. Every path is resolved beneath the directory
 * descriptor it is relative to by the sandbox shared with the WASI 0.2 host
 * (sandbox.h: sandbox.c resolves, sandbox_ops.c acts on the result, with
 * the trailing-slash rules); this file checks rights, read-only pre-opens
 * and guest memory, and maps host errors to WASI errnos. */
#define _GNU_SOURCE /* O_PATH, ppoll, accept4, utimensat flags */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "wasi/internal.h"

/* The directory descriptor `fd` for a path operation needing `right`. */
static uint32_t get_dir(wasi_call_t *c, uint32_t fd, int right, wasi_fd_t **out)
{
    wasi_fd_t *f = wasi_fd_get(c->w, fd);
    if (!f)
        return WASI_EBADF;
    if (f->kind == WASI_FD_FILE)
        return WASI_ENOTDIR;
    if (f->kind != WASI_FD_DIR)
        return WASI_EBADF;
    if (f->dropped & WASI_RIGHT(right))
        return WASI_ENOTCAPABLE;
    *out = f;
    return 0;
}

/* Decodes the (pointer, length) path argument at args[i], args[i+1]. */
static uint32_t get_path(wasi_call_t *c, int i, char *buf)
{
    return mem_path(&c->mem, arg32(c, i), arg32(c, i + 1), buf);
}

/* 0, or the WASI errno of a sandbox result (a negative host errno). */
static uint32_t result(long r)
{
    return r < 0 ? wasi_errno((int)-r) : 0;
}

uint32_t wasi_path_open(wasi_call_t *c)
{
    wasi_fd_t *d;
    uint32_t e = get_dir(c, arg32(c, 0), WASI_RIGHT_PATH_OPEN, &d);
    if (e)
        return e;
    uint32_t dirflags = arg32(c, 1), oflags = arg32(c, 4), fdflags = arg32(c, 7);
    uint64_t rights = arg64(c, 5), inheriting = arg64(c, 6);
    uint32_t out = arg32(c, 8);
    char path[WASI_MAX_PATH + 1];
    if ((e = get_path(c, 2, path)) != 0)
        return e;
    if (!mem_ok(&c->mem, out, 4))
        return WASI_EFAULT;
    if ((oflags & ~0xfu) || (fdflags & ~0x1fu))
        return WASI_EINVAL;
    if ((oflags & WASI_OFLAG_DIRECTORY) &&
        (oflags & (WASI_OFLAG_CREAT | WASI_OFLAG_EXCL | WASI_OFLAG_TRUNC)))
        return WASI_EINVAL;

    /* The open mode, as wasmtime derives it: creating or truncating implies
     * writing, and a descriptor that asks for neither right reads. */
    bool write = (rights & WASI_RIGHT(WASI_RIGHT_FD_WRITE)) ||
                 (oflags & (WASI_OFLAG_CREAT | WASI_OFLAG_TRUNC));
    bool read = (rights & (WASI_RIGHT(WASI_RIGHT_FD_READ) | WASI_RIGHT(WASI_RIGHT_FD_READDIR))) ||
                !(rights & WASI_RIGHT(WASI_RIGHT_FD_WRITE));
    if (d->readonly && write)
        return WASI_EPERM;
    /* The rights held are those asked for that the directory passes on;
     * an open mode the directory cannot pass on is refused, as are
     * creating and truncating without the directory's right to. */
    uint64_t dir_inh = wasi_fd_inheriting_rights(d);
    if ((write && !(dir_inh & WASI_RIGHT(WASI_RIGHT_FD_WRITE))) ||
        ((rights & WASI_RIGHT(WASI_RIGHT_FD_READ)) && !(dir_inh & WASI_RIGHT(WASI_RIGHT_FD_READ))) ||
        ((oflags & WASI_OFLAG_CREAT) && (d->dropped & WASI_RIGHT(WASI_RIGHT_PATH_CREATE_FILE))) ||
        ((oflags & WASI_OFLAG_TRUNC) &&
         (d->dropped & WASI_RIGHT(WASI_RIGHT_PATH_FILESTAT_SET_SIZE))))
        return WASI_ENOTCAPABLE;

    /* O_NONBLOCK for the open itself: opening a fifo must not hang the host. */
    int flags = O_NOCTTY | O_NONBLOCK;
    flags |= read && write ? O_RDWR : write ? O_WRONLY : O_RDONLY;
    if (oflags & WASI_OFLAG_CREAT)
        flags |= O_CREAT;
    if (oflags & WASI_OFLAG_EXCL)
        flags |= O_EXCL;
    if (oflags & WASI_OFLAG_TRUNC)
        flags |= O_TRUNC;
    if (oflags & WASI_OFLAG_DIRECTORY)
        flags |= O_DIRECTORY;
    if (!(dirflags & WASI_LOOKUP_SYMLINK_FOLLOW))
        flags |= O_NOFOLLOW;
    if (fdflags & WASI_FDFLAG_APPEND)
        flags |= O_APPEND;
    if (fdflags & WASI_FDFLAG_DSYNC)
        flags |= O_DSYNC;
    if (fdflags & WASI_FDFLAG_SYNC)
        flags |= O_SYNC;
    if (fdflags & WASI_FDFLAG_RSYNC)
        flags |= O_RSYNC;
    if ((e = wasi_fd_reserve(c->w)) != 0)
        return e;
    int fd = sandbox_open(d->host, path, flags, 0666);
    if (fd < 0) {
        wasi_fd_unreserve(c->w);
        return wasi_errno(-fd);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        e = wasi_errno(errno);
        close(fd);
        wasi_fd_unreserve(c->w);
        return e;
    }
    /* A fifo or device stays O_NONBLOCK on the host (the descriptor is ours
     * alone): a blocking guest waits in wasi_wait_fd, which ends at the
     * store's deadline, never in read or write. */
    uint8_t host_kind = wasi_host_kind(fd);
    if (host_kind == WASI_HOST_FILE && !(fdflags & WASI_FDFLAG_NONBLOCK) &&
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        e = wasi_errno(errno);
        close(fd);
        wasi_fd_unreserve(c->w);
        return e;
    }
    bool dir = S_ISDIR(st.st_mode);
    wasi_fd_t f = {
        .kind = dir ? WASI_FD_DIR : WASI_FD_FILE,
        .host = fd,
        .own = true,
        .counted = true,
        .host_kind = host_kind,
        .host_nonblock = host_kind != WASI_HOST_FILE,
        .readonly = d->readonly,
        .can_read = read || dir,
        .can_write = write && !dir,
        .filetype = wasi_filetype(st.st_mode),
        .fdflags = dir ? 0 : (uint16_t)fdflags,
        .dropped = WASI_RIGHTS_ALL & ~(rights & dir_inh),
        .dropped_inheriting = WASI_RIGHTS_ALL & ~(inheriting & dir_inh),
    };
    uint32_t num;
    if ((e = wasi_fd_add(c->w, &f, &num)) != 0) {
        close(fd);
        wasi_fd_unreserve(c->w);
        return e;
    }
    mem_put32(&c->mem, out, num);
    return 0;
}

uint32_t wasi_path_filestat_get(wasi_call_t *c)
{
    wasi_fd_t *d;
    uint32_t e = get_dir(c, arg32(c, 0), WASI_RIGHT_PATH_FILESTAT_GET, &d);
    if (e)
        return e;
    bool follow = arg32(c, 1) & WASI_LOOKUP_SYMLINK_FOLLOW;
    uint32_t out = arg32(c, 4);
    char path[WASI_MAX_PATH + 1];
    if ((e = get_path(c, 2, path)) != 0)
        return e;
    if (!mem_ok(&c->mem, out, WASI_FILESTAT_SIZE))
        return WASI_EFAULT;
    struct stat st;
    if ((e = result(sandbox_stat(d->host, path, follow, &st))) == 0)
        wasi_put_filestat(mem_at(&c->mem, out), &st);
    return e;
}

uint32_t wasi_path_filestat_set_times(wasi_call_t *c)
{
    wasi_fd_t *d;
    uint32_t e = get_dir(c, arg32(c, 0), WASI_RIGHT_PATH_FILESTAT_SET_TIMES, &d);
    if (e)
        return e;
    bool follow = arg32(c, 1) & WASI_LOOKUP_SYMLINK_FOLLOW;
    char path[WASI_MAX_PATH + 1];
    if ((e = get_path(c, 2, path)) != 0)
        return e;
    struct timespec ts[2];
    if ((e = wasi_times(arg64(c, 4), arg64(c, 5), arg32(c, 6), ts)) != 0)
        return e;
    if (d->readonly)
        return WASI_EPERM;
    return result(sandbox_utimens(d->host, path, follow, ts));
}

/* path_create_directory, path_remove_directory and path_unlink_file: (dirfd,
 * path) checked for RIGHT and a writable pre-open, then OP on the host. */
static uint32_t path_change(wasi_call_t *c, int right,
                            int (*op)(int dirfd, const char *path))
{
    wasi_fd_t *d;
    uint32_t e = get_dir(c, arg32(c, 0), right, &d);
    if (e)
        return e;
    char path[WASI_MAX_PATH + 1];
    if ((e = get_path(c, 1, path)) != 0)
        return e;
    if (d->readonly)
        return WASI_EPERM;
    return result(op(d->host, path));
}

uint32_t wasi_path_create_directory(wasi_call_t *c)
{
    return path_change(c, WASI_RIGHT_PATH_CREATE_DIRECTORY, sandbox_mkdir);
}

uint32_t wasi_path_remove_directory(wasi_call_t *c)
{
    return path_change(c, WASI_RIGHT_PATH_REMOVE_DIRECTORY, sandbox_rmdir);
}

uint32_t wasi_path_unlink_file(wasi_call_t *c)
{
    return path_change(c, WASI_RIGHT_PATH_UNLINK_FILE, sandbox_unlink);
}

uint32_t wasi_path_rename(wasi_call_t *c)
{
    wasi_fd_t *od, *nd;
    uint32_t e = get_dir(c, arg32(c, 0), WASI_RIGHT_PATH_RENAME_SOURCE, &od);
    if (e || (e = get_dir(c, arg32(c, 3), WASI_RIGHT_PATH_RENAME_TARGET, &nd)) != 0)
        return e;
    char opath[WASI_MAX_PATH + 1], npath[WASI_MAX_PATH + 1];
    if ((e = get_path(c, 1, opath)) != 0 || (e = get_path(c, 4, npath)) != 0)
        return e;
    /* Moving a file out of a read-only directory into a writable one would
     * make it writable: both sides must allow changes. */
    if (od->readonly || nd->readonly)
        return WASI_EPERM;
    return result(sandbox_rename(od->host, opath, nd->host, npath));
}

uint32_t wasi_path_link(wasi_call_t *c)
{
    wasi_fd_t *od, *nd;
    uint32_t e = get_dir(c, arg32(c, 0), WASI_RIGHT_PATH_LINK_SOURCE, &od);
    if (e || (e = get_dir(c, arg32(c, 4), WASI_RIGHT_PATH_LINK_TARGET, &nd)) != 0)
        return e;
    bool follow = arg32(c, 1) & WASI_LOOKUP_SYMLINK_FOLLOW;
    char opath[WASI_MAX_PATH + 1], npath[WASI_MAX_PATH + 1];
    if ((e = get_path(c, 2, opath)) != 0 || (e = get_path(c, 5, npath)) != 0)
        return e;
    /* A link from a read-only directory into a writable one would expose the
     * file for writing (wasmtime refuses it the same way). */
    if (od->readonly || nd->readonly)
        return WASI_EPERM;
    return result(sandbox_link(od->host, opath, follow, nd->host, npath));
}

uint32_t wasi_path_symlink(wasi_call_t *c)
{
    wasi_fd_t *d;
    uint32_t e = get_dir(c, arg32(c, 2), WASI_RIGHT_PATH_SYMLINK, &d);
    if (e)
        return e;
    char target[WASI_MAX_PATH + 1], path[WASI_MAX_PATH + 1];
    if ((e = get_path(c, 0, target)) != 0 || (e = get_path(c, 3, path)) != 0)
        return e;
    if (d->readonly)
        return WASI_EPERM;
    return result(sandbox_symlink(target, d->host, path));
}

uint32_t wasi_path_readlink(wasi_call_t *c)
{
    wasi_fd_t *d;
    uint32_t e = get_dir(c, arg32(c, 0), WASI_RIGHT_PATH_READLINK, &d);
    if (e)
        return e;
    uint32_t buf = arg32(c, 3), buf_len = arg32(c, 4), out = arg32(c, 5);
    char path[WASI_MAX_PATH + 1];
    if ((e = get_path(c, 1, path)) != 0)
        return e;
    if (!mem_ok(&c->mem, buf, buf_len) || !mem_ok(&c->mem, out, 4))
        return WASI_EFAULT;
    char target[WASI_MAX_PATH + 1];
    long n = sandbox_readlink(d->host, path, target, sizeof target);
    if (n < 0)
        return result(n);
    /* A short buffer receives the start of the target (as wasmtime does);
     * the guest detects it by bufused == buf_len. */
    uint32_t copy = (uint64_t)n < buf_len ? (uint32_t)n : buf_len;
    memcpy(mem_at(&c->mem, buf), target, copy);
    mem_put32(&c->mem, out, copy);
    return 0;
}
