/* Path resolution and path operations confined beneath a directory: the
 * sandbox shared by the WASI hosts (preview 1 in src/wasi/, 0.2 in
 * src/wasi2/), so that the rules for `..`, absolute paths, symbolic links
 * and trailing slashes exist once.
 *
 * A guest names files by (directory descriptor, relative path). Every
 * function here resolves the path beneath the host directory `base` (which
 * must itself have been reached through the sandbox, or be a pre-open) and
 * never leaves it: escapes (absolute paths, `..` above the base, symbolic
 * links leading out, absolute link targets) fail with -EPERM. Functions
 * return 0 (or a non-negative result) or a negative host errno. Paths are
 * NUL-terminated and at most SANDBOX_MAX_PATH bytes; callers check that. */
#ifndef WHIRL_WASI_SANDBOX_H
#define WHIRL_WASI_SANDBOX_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

enum {
    SANDBOX_MAX_PATH = 4096,   /* bytes in a guest path, like Linux PATH_MAX */
    SANDBOX_MAX_SYMLINKS = 40, /* symbolic links followed in one path, like Linux */
};

/* openat(base, path, flags, mode), confined beneath `base`. O_NOFOLLOW in
 * `flags` applies to the last component, as for openat. Returns the new
 * host fd (>= 0) or a negative errno. */
int sandbox_open(int base, const char *path, int flags, mode_t mode);

/* The directory holding the last component of `path` and that component's
 * name, for the *at() calls that act on a name (mkdirat, unlinkat, ...). */
typedef struct sandbox_parent {
    int dirfd;           /* parent directory; owned unless equal to the base */
    bool owned;
    bool trailing_slash; /* `path` ended in '/' (stripped from `name`) */
    char name[256];      /* last component; "." when the path names the base */
} sandbox_parent_t;

/* Resolves the parent of `path`. With `follow`, a last component that is a
 * symbolic link is replaced by its target (repeatedly, confined), so `name`
 * never is a link that leads elsewhere. */
int sandbox_parent(int base, const char *path, bool follow, sandbox_parent_t *out);
void sandbox_parent_close(sandbox_parent_t *p);

/* Forces the component-by-component resolver even where openat2 exists
 * (tests; also set by WHIRL_WASI_RESOLVE=walk in the environment). */
void sandbox_force_walk(bool on);

/* ---- operations on a path (sandbox_ops.c) ----
 *
 * Each resolves `path` as above, then acts on a (parent directory, name)
 * pair with the *at() system calls, never on a path the kernel would
 * resolve again. Trailing slashes: Linux follows a final symlink when the
 * path ends in '/', which for unlink, readlink or lstat would step outside
 * the component the guest named; the slash is therefore stripped and its
 * meaning ("this must be a directory") applied here, with the errors
 * wasmtime's guests expect. Read-only checks are the caller's. */

/* stat (follow) or lstat of `path`. */
int sandbox_stat(int base, const char *path, bool follow, struct stat *st);
/* utimensat of `path` with `ts` (UTIME_NOW / UTIME_OMIT allowed). */
int sandbox_utimens(int base, const char *path, bool follow, const struct timespec ts[2]);
int sandbox_mkdir(int base, const char *path);
int sandbox_rmdir(int base, const char *path);
int sandbox_unlink(int base, const char *path);
int sandbox_rename(int old_base, const char *old_path, int new_base, const char *new_path);
/* A hard link new_path -> old_path (`follow`: of what a final link in
 * old_path points to). */
int sandbox_link(int old_base, const char *old_path, bool follow, int new_base,
                 const char *new_path);
/* A symbolic link at `path` holding `target`. Absolute targets could never
 * be followed inside the sandbox and are refused (-EPERM); an empty one is
 * -ENOENT. */
int sandbox_symlink(const char *target, int base, const char *path);
/* The target of the link at `path` into buf (`size` bytes, not
 * NUL-terminated): returns its length (at most size; a longer target is
 * cut) or a negative errno. */
long sandbox_readlink(int base, const char *path, char *buf, size_t size);

#endif
