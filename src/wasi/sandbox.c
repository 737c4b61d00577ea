/* Path resolution confined beneath a directory.
 *
 * The guest names files by (directory fd, relative path). Whatever the path
 * says (`..`, an absolute path, symbolic links, absolute or relative, to
 * anywhere), resolution must never leave the directory the guest was given.
 *
 * On Linux >= 5.6 the kernel does this for us: openat2 with RESOLVE_BENEATH
 * fails with EXDEV instead of leaving the base, and checks every step
 * atomically. Elsewhere (older kernels, or seccomp filters that reject the
 * syscall) a component-by-component walk does the same: each step opens one
 * name with O_NOFOLLOW relative to the directory reached so far, `..` is
 * handled lexically against a stack of the directories entered (never by
 * the kernel, so it cannot climb above the base), and symbolic links are
 * read and spliced into the remaining path by hand. Both report an escape as
 * EPERM, which is what wasmtime's guests see. */
#define _GNU_SOURCE /* O_PATH, ppoll, accept4, utimensat flags */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "wasi/sandbox.h"

/* -1: not decided yet; 0: use openat2; 1: use the walk. */
static atomic_int resolver = -1;

void sandbox_force_walk(bool on)
{
    atomic_store(&resolver, on ? 1 : -1);
}

static long sys_openat2(int dirfd, const char *path, int flags, mode_t mode)
{
    struct open_how how = {0};
    how.flags = (uint64_t)(unsigned)flags;
    how.mode = (flags & O_CREAT) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    return syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

static bool use_walk(void)
{
    int r = atomic_load(&resolver);
    if (r >= 0)
        return r == 1;
    const char *env = getenv("WHIRL_WASI_RESOLVE");
    if (env && strcmp(env, "walk") == 0) {
        r = 1;
    } else {
        /* Container seccomp profiles older than the syscall answer EPERM. */
        long fd = sys_openat2(AT_FDCWD, ".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        if (fd >= 0)
            close((int)fd);
        r = fd < 0 && (errno == ENOSYS || errno == EPERM) ? 1 : 0;
    }
    atomic_store(&resolver, r);
    return r == 1;
}

/* ---- the walk ---- */

typedef struct walk {
    int base;
    int *dirs;     /* directories entered below base, innermost last (owned) */
    size_t depth, cap;
    char *path;    /* remaining path; symlink targets are spliced in front */
    size_t size;   /* allocated bytes of `path` */
    int links;
} walk_t;

static int walk_cur(const walk_t *w) { return w->depth ? w->dirs[w->depth - 1] : w->base; }

static void walk_free(walk_t *w)
{
    while (w->depth)
        close(w->dirs[--w->depth]);
    free(w->dirs);
    free(w->path);
}

static int walk_push(walk_t *w, int fd)
{
    if (w->depth == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 16;
        int *n = realloc(w->dirs, ncap * sizeof *n);
        if (!n) {
            close(fd);
            return -ENOMEM;
        }
        w->dirs = n;
        w->cap = ncap;
    }
    w->dirs[w->depth++] = fd;
    return 0;
}

/* Replaces the component `name` (a symlink in the current directory) by its
 * target: the remaining path becomes target + "/" + rest. A trailing slash
 * after the link is kept, so it still asks for a directory. */
static int walk_splice(walk_t *w, const char *name, const char *rest, bool slash_after)
{
    if (++w->links > SANDBOX_MAX_SYMLINKS)
        return -ELOOP;
    char target[SANDBOX_MAX_PATH + 1];
    ssize_t n = readlinkat(walk_cur(w), name, target, sizeof target);
    if (n < 0)
        return -errno;
    if ((size_t)n >= sizeof target)
        return -ENAMETOOLONG;
    if (n == 0)
        return -ENOENT;
    if (target[0] == '/')
        return -EPERM;
    size_t rlen = strlen(rest);
    size_t need = (size_t)n + 1 + rlen + 1;
    if (need > 2 * SANDBOX_MAX_PATH + 2)
        return -ENAMETOOLONG;
    char *np = malloc(need);
    if (!np)
        return -ENOMEM;
    memcpy(np, target, (size_t)n);
    size_t len = (size_t)n;
    if (rlen || slash_after)
        np[len++] = '/';
    memcpy(np + len, rest, rlen + 1);
    free(w->path);
    w->path = np;
    w->size = need;
    return 0;
}

static int walk_open(int base, const char *path, int flags, mode_t mode)
{
    walk_t w = {.base = base};
    w.size = strlen(path) + 1;
    w.path = malloc(w.size);
    if (!w.path)
        return -ENOMEM;
    memcpy(w.path, path, w.size);
    bool follow_last = !(flags & O_NOFOLLOW);
    int result;
    size_t pos = 0;
    char name[256];
    for (;;) {
        while (w.path[pos] == '/')
            pos++;
        if (w.path[pos] == '\0') {
            /* The path named the current directory itself ("", ".", "a/.."). */
            result = openat(walk_cur(&w), ".", flags & ~O_NOFOLLOW, mode);
            result = result < 0 ? -errno : result;
            break;
        }
        size_t end = pos;
        while (w.path[end] && w.path[end] != '/')
            end++;
        if (end - pos >= sizeof name) {
            result = -ENAMETOOLONG;
            break;
        }
        memcpy(name, w.path + pos, end - pos);
        name[end - pos] = '\0';
        size_t next = end;
        while (w.path[next] == '/')
            next++;
        bool last = w.path[next] == '\0';
        bool slash_after = next > end; /* a directory is required */
        pos = next;

        if (strcmp(name, ".") == 0)
            continue;
        if (strcmp(name, "..") == 0) {
            if (w.depth == 0) {
                result = -EPERM; /* would climb above the base */
                break;
            }
            close(w.dirs[--w.depth]);
            continue;
        }
        int cur = walk_cur(&w);
        if (!last || slash_after) {
            int fd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0) {
                result = -errno;
                break;
            }
            struct stat st;
            if (fstat(fd, &st) != 0) {
                result = -errno;
                close(fd);
                break;
            }
            if (S_ISLNK(st.st_mode)) {
                close(fd);
                if ((result = walk_splice(&w, name, w.path + pos, slash_after)) != 0)
                    break;
                pos = 0;
                continue;
            }
            if (!S_ISDIR(st.st_mode)) {
                close(fd);
                result = -ENOTDIR;
                break;
            }
            if ((result = walk_push(&w, fd)) != 0)
                break;
            continue;
        }
        /* The last component, not followed by a slash. */
        int fd = openat(cur, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd >= 0) {
            struct stat st;
            /* O_PATH|O_NOFOLLOW opens a link itself; follow it if asked. */
            if ((flags & O_PATH) && follow_last && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
                close(fd);
                if ((result = walk_splice(&w, name, "", false)) != 0)
                    break;
                pos = 0;
                continue;
            }
            result = fd;
            break;
        }
        int e = errno;
        struct stat st;
        if (follow_last && (e == ELOOP || e == ENOTDIR || e == EMLINK) &&
            fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
            if ((result = walk_splice(&w, name, "", false)) != 0)
                break;
            pos = 0;
            continue;
        }
        result = -e;
        break;
    }
    walk_free(&w);
    return result;
}

int sandbox_open(int base, const char *path, int flags, mode_t mode)
{
    if (path[0] == '\0')
        return -ENOENT;
    if (path[0] == '/')
        return -EPERM;
    flags |= O_CLOEXEC;
    if (!use_walk()) {
        for (int tries = 0;; tries++) {
            long fd = sys_openat2(base, path, flags, mode);
            if (fd >= 0)
                return (int)fd;
            int e = errno;
            /* EAGAIN: a concurrent rename or mount raced the lookup. */
            if (e == EAGAIN && tries < 8)
                continue;
            if (e == EXDEV)
                return -EPERM;
            if (e == ENOSYS) {
                atomic_store(&resolver, 1);
                break;
            }
            return -e;
        }
    }
    return walk_open(base, path, flags, mode);
}

/* Splits `path` (not following a final symlink) into parent and name. */
static int split_parent(int base, const char *path, sandbox_parent_t *out)
{
    out->dirfd = base;
    out->owned = false;
    out->trailing_slash = false;
    out->name[0] = '\0';
    if (path[0] == '\0')
        return -ENOENT;
    if (path[0] == '/')
        return -EPERM;
    size_t len = strlen(path);
    while (len > 0 && path[len - 1] == '/') {
        len--;
        out->trailing_slash = true;
    }
    size_t start = len;
    while (start > 0 && path[start - 1] != '/')
        start--;
    size_t nlen = len - start;
    if (nlen >= sizeof out->name)
        return -ENAMETOOLONG;
    memcpy(out->name, path + start, nlen);
    out->name[nlen] = '\0';
    bool dots = strcmp(out->name, ".") == 0 || strcmp(out->name, "..") == 0;
    if (!dots && start == 0)
        return 0;
    /* The directory part, or for a final "." / ".." the whole path: acting
     * on "." of the directory it names can never reach outside it. */
    size_t dlen = dots ? len : start;
    char *dir = malloc(dlen + 1);
    if (!dir)
        return -ENOMEM;
    memcpy(dir, path, dlen);
    dir[dlen] = '\0';
    int fd = sandbox_open(base, dir, O_PATH | O_DIRECTORY, 0);
    free(dir);
    if (fd < 0)
        return fd;
    out->dirfd = fd;
    out->owned = true;
    if (dots)
        strcpy(out->name, ".");
    return 0;
}

void sandbox_parent_close(sandbox_parent_t *p)
{
    if (p->owned && p->dirfd >= 0)
        close(p->dirfd);
    p->owned = false;
    p->dirfd = -1;
}

int sandbox_parent(int base, const char *path, bool follow, sandbox_parent_t *out)
{
    int r = split_parent(base, path, out);
    if (r != 0 || !follow)
        return r;
    /* Follow a final symlink by rewriting the path: the target is relative to
     * the link's directory, i.e. to the path's directory part, and the
     * rewritten path is resolved from the base again, confined as before. */
    char *cur = NULL;
    for (int links = 0;; links++) {
        struct stat st;
        if (fstatat(out->dirfd, out->name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISLNK(st.st_mode))
            break;
        if (links == SANDBOX_MAX_SYMLINKS) {
            r = -ELOOP;
            break;
        }
        char target[SANDBOX_MAX_PATH + 1];
        ssize_t n = readlinkat(out->dirfd, out->name, target, sizeof target);
        if (n < 0 || (size_t)n >= sizeof target) {
            r = n < 0 ? -errno : -ENAMETOOLONG;
            break;
        }
        target[n] = '\0';
        if (target[0] == '/') {
            r = -EPERM;
            break;
        }
        const char *prev = cur ? cur : path;
        size_t plen = strlen(prev);
        while (plen > 0 && prev[plen - 1] == '/')
            plen--;
        while (plen > 0 && prev[plen - 1] != '/')
            plen--;
        if (plen + (size_t)n > SANDBOX_MAX_PATH) {
            r = -ENAMETOOLONG;
            break;
        }
        char *next = malloc(plen + (size_t)n + 1);
        if (!next) {
            r = -ENOMEM;
            break;
        }
        memcpy(next, prev, plen);
        memcpy(next + plen, target, (size_t)n + 1);
        free(cur);
        cur = next;
        bool trailing = out->trailing_slash;
        sandbox_parent_close(out);
        if ((r = split_parent(base, cur, out)) != 0)
            break;
        out->trailing_slash |= trailing;
    }
    free(cur);
    if (r != 0)
        sandbox_parent_close(out);
    return r;
}
