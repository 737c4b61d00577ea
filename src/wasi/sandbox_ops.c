/* Path operations confined beneath a directory (see sandbox.h): each
 * resolves its path with sandbox.c, then acts on a (parent directory, name)
 * pair. Shared by the preview-1 host (path.c) and the WASI 0.2 host
 * (src/wasi2/fs.c). */
#define _GNU_SOURCE /* O_PATH */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h> /* renameat */
#include <string.h>
#include <unistd.h>

#include "wasi/sandbox.h"

/* Errors for a new name given with a trailing slash ("link/"): the name
 * would have to be an existing directory, so creating it cannot work. */
static int trailing_new_name(const sandbox_parent_t *p)
{
    struct stat st;
    if (fstatat(p->dirfd, p->name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return -errno;
    if (S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode))
        return -EEXIST;
    return -ENOTDIR;
}

int sandbox_stat(int base, const char *path, bool follow, struct stat *st)
{
    /* O_PATH|O_NOFOLLOW opens a final symlink itself: fstat is then lstat. */
    int fd = sandbox_open(base, path, O_PATH | (follow ? 0 : O_NOFOLLOW), 0);
    if (fd < 0)
        return fd;
    int r = fstat(fd, st) == 0 ? 0 : -errno;
    close(fd);
    return r;
}

int sandbox_utimens(int base, const char *path, bool follow, const struct timespec ts[2])
{
    size_t len = strlen(path);
    if (len && path[len - 1] == '/')
        follow = true; /* "dir/" names what a link to a directory points at */
    sandbox_parent_t p;
    int r = sandbox_parent(base, path, follow, &p);
    if (r)
        return r;
    struct stat st;
    if (p.trailing_slash && fstatat(p.dirfd, p.name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        !S_ISDIR(st.st_mode))
        r = -ENOTDIR;
    else if (utimensat(p.dirfd, p.name, ts, AT_SYMLINK_NOFOLLOW) != 0)
        r = -errno;
    sandbox_parent_close(&p);
    return r;
}

int sandbox_mkdir(int base, const char *path)
{
    sandbox_parent_t p;
    int r = sandbox_parent(base, path, false, &p);
    if (r)
        return r;
    if (mkdirat(p.dirfd, p.name, 0777) != 0)
        r = -errno;
    sandbox_parent_close(&p);
    return r;
}

int sandbox_rmdir(int base, const char *path)
{
    sandbox_parent_t p;
    int r = sandbox_parent(base, path, false, &p);
    if (r)
        return r;
    struct stat st;
    if (p.trailing_slash && fstatat(p.dirfd, p.name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK(st.st_mode)) {
        /* "link/" names what the link points at: the host would answer
         * ENOTDIR (rmdir never follows), but where the target lies outside
         * the sandbox that is an escape, refused as one (EPERM). */
        sandbox_parent_t q;
        r = sandbox_parent(base, path, true, &q);
        if (r == 0) {
            sandbox_parent_close(&q);
            r = -ENOTDIR;
        }
    } else if (unlinkat(p.dirfd, p.name, AT_REMOVEDIR) != 0) {
        r = -errno;
    }
    sandbox_parent_close(&p);
    return r;
}

int sandbox_unlink(int base, const char *path)
{
    sandbox_parent_t p;
    int r = sandbox_parent(base, path, false, &p);
    if (r)
        return r;
    struct stat st;
    if (p.trailing_slash) {
        /* "x/" asks for a directory, which unlink never removes. */
        if (fstatat(p.dirfd, p.name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            r = -errno;
        else
            r = S_ISDIR(st.st_mode) ? -EISDIR : -ENOTDIR;
    } else if (unlinkat(p.dirfd, p.name, 0) != 0) {
        r = -errno;
    }
    sandbox_parent_close(&p);
    return r;
}

int sandbox_rename(int old_base, const char *old_path, int new_base, const char *new_path)
{
    sandbox_parent_t op, np;
    int r = sandbox_parent(old_base, old_path, false, &op);
    if (r)
        return r;
    if ((r = sandbox_parent(new_base, new_path, false, &np)) != 0) {
        sandbox_parent_close(&op);
        return r;
    }
    struct stat st;
    if ((op.trailing_slash || np.trailing_slash) &&
        fstatat(op.dirfd, op.name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
        r = -ENOTDIR;
    else if (renameat(op.dirfd, op.name, np.dirfd, np.name) != 0)
        r = -errno;
    sandbox_parent_close(&op);
    sandbox_parent_close(&np);
    return r;
}

int sandbox_link(int old_base, const char *old_path, bool follow, int new_base,
                 const char *new_path)
{
    sandbox_parent_t op, np;
    int r = sandbox_parent(old_base, old_path, follow, &op);
    if (r)
        return r;
    if ((r = sandbox_parent(new_base, new_path, false, &np)) != 0) {
        sandbox_parent_close(&op);
        return r;
    }
    struct stat st;
    if (op.trailing_slash) {
        if (fstatat(op.dirfd, op.name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            r = -errno;
        else
            r = S_ISDIR(st.st_mode) ? -EPERM : -ENOTDIR;
    } else if (np.trailing_slash) {
        r = trailing_new_name(&np);
    } else if (linkat(op.dirfd, op.name, np.dirfd, np.name, 0) != 0) {
        r = -errno;
    }
    sandbox_parent_close(&op);
    sandbox_parent_close(&np);
    return r;
}

int sandbox_symlink(const char *target, int base, const char *path)
{
    /* An absolute target could never be followed inside the sandbox; like
     * wasmtime, refuse to create it. */
    if (target[0] == '/')
        return -EPERM;
    if (target[0] == '\0')
        return -ENOENT;
    sandbox_parent_t p;
    int r = sandbox_parent(base, path, false, &p);
    if (r)
        return r;
    if (p.trailing_slash)
        r = trailing_new_name(&p);
    else if (symlinkat(target, p.dirfd, p.name) != 0)
        r = -errno;
    sandbox_parent_close(&p);
    return r;
}

long sandbox_readlink(int base, const char *path, char *buf, size_t size)
{
    sandbox_parent_t p;
    int r = sandbox_parent(base, path, false, &p);
    if (r)
        return r;
    long n;
    if (p.trailing_slash) {
        /* "link/" names the directory the link leads to, which is no link. */
        int fd = sandbox_open(base, path, O_PATH, 0);
        n = fd < 0 ? fd : -EINVAL;
        if (fd >= 0)
            close(fd);
    } else {
        ssize_t got = readlinkat(p.dirfd, p.name, buf, size);
        n = got < 0 ? -errno : (long)got;
    }
    sandbox_parent_close(&p);
    return n;
}
