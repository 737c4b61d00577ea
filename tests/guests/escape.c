/* Sandbox escapes. fd 3 is the read-write pre-open /sandbox, fd 4 the
 * read-only /ro. The driver has put beside the sandbox a directory
 * `outside` (secret.txt) and inside it symlinks pointing out:
 *   link_out -> ../outside        abs_link -> <absolute>/outside/secret.txt
 *   dangling_out -> ../outside/created.txt        loop -> loop
 * and a file inside.txt, a directory sub. Every way out must fail with
 * ERRNO_PERM (63); the driver checks that nothing outside changed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "guest.h"

#define SB 3
#define RO 4

static int32_t opened;

static int32_t op(int32_t dir, int32_t lookup, const char *path, int32_t oflags, uint64_t rights)
{
    opened = -1;
    return r_open(dir, lookup, path, oflags, rights, 0, &opened);
}

int main(void)
{
    char name[64] = {0};
    int32_t used;
    CHECK(raw_fd_prestat_dir_name(SB, P(name), sizeof name) == 0 && strcmp(name, "/sandbox") == 0,
          "fd 3 is /sandbox [%s]", name);
    memset(name, 0, sizeof name);
    CHECK(raw_fd_prestat_dir_name(RO, P(name), sizeof name) == 0 && strcmp(name, "/ro") == 0,
          "fd 4 is /ro [%s]", name);

    /* `..` and absolute paths. */
    CHECK_ERRNO(op(SB, 0, "../outside/secret.txt", 0, R_FD_READ), E_PERM);
    CHECK_ERRNO(op(SB, 0, "..", O_DIR_, 0), E_PERM);
    CHECK_ERRNO(op(SB, 0, "sub/../../outside/secret.txt", 0, R_FD_READ), E_PERM);
    CHECK_ERRNO(op(SB, 0, "sub/../sub/../../sandbox/inside.txt", 0, R_FD_READ), E_PERM);
    CHECK_ERRNO(op(SB, 0, "/etc/passwd", 0, R_FD_READ), E_PERM);
    CHECK_ERRNO(op(SB, 0, "/", O_DIR_, 0), E_PERM);
    /* ... while staying inside is fine. */
    CHECK_ERRNO(op(SB, 0, "sub/../inside.txt", 0, R_FD_READ), 0);
    raw_fd_close(opened);

    /* Symlinks leading out, followed or crossed. */
    CHECK_ERRNO(op(SB, 0, "link_out/secret.txt", 0, R_FD_READ), E_PERM);
    CHECK_ERRNO(op(SB, FOLLOW, "link_out", O_DIR_, 0), E_PERM);
    CHECK_ERRNO(op(SB, FOLLOW, "abs_link", 0, R_FD_READ), E_PERM);
    CHECK_ERRNO(op(SB, 0, "abs_link", 0, R_FD_READ), E_LOOP); /* O_NOFOLLOW */
    CHECK_ERRNO(op(SB, FOLLOW, "dangling_out", O_CREAT_, R_FD_WRITE), E_PERM);
    CHECK_ERRNO(op(SB, 0, "dangling_out", O_CREAT_, R_FD_WRITE), E_LOOP);
    CHECK_ERRNO(op(SB, FOLLOW, "loop", 0, R_FD_READ), E_LOOP);
    fstat_t st;
    CHECK_ERRNO(r_stat(SB, FOLLOW, "link_out", &st), E_PERM);
    CHECK_ERRNO(r_stat(SB, FOLLOW, "link_out/secret.txt", &st), E_PERM);
    CHECK_ERRNO(r_stat(SB, 0, "link_out/", &st), E_PERM); /* a trailing slash follows */
    CHECK(r_stat(SB, 0, "link_out", &st) == 0 && st.type == FT_SYMLINK, "lstat of the link");
    CHECK_ERRNO(r_stat(SB, 0, "../outside", &st), E_PERM);
    CHECK_ERRNO(raw_path_filestat_set_times(SB, FOLLOW, P("abs_link"), 8, 0, 0, 8), E_PERM);
    CHECK_ERRNO(raw_path_filestat_set_times(SB, FOLLOW, P("link_out/secret.txt"), 19, 0, 0, 8),
                E_PERM);

    /* Hard links, renames and removals across the boundary. */
    CHECK_ERRNO(r_link(SB, 0, "inside.txt", SB, "../outside/pwned"), E_PERM);
    CHECK_ERRNO(r_link(SB, 0, "../outside/secret.txt", SB, "stolen"), E_PERM);
    CHECK_ERRNO(r_link(SB, 0, "link_out/secret.txt", SB, "stolen"), E_PERM);
    CHECK_ERRNO(r_link(SB, FOLLOW, "abs_link", SB, "stolen"), E_PERM);
    CHECK_ERRNO(r_link(SB, 0, "inside.txt", SB, "link_out/pwned"), E_PERM);
    CHECK_ERRNO(r_rename(SB, "inside.txt", SB, "../outside/moved"), E_PERM);
    CHECK_ERRNO(r_rename(SB, "link_out/secret.txt", SB, "moved"), E_PERM);
    CHECK_ERRNO(r_rename(SB, "inside.txt", SB, "link_out/moved"), E_PERM);
    CHECK_ERRNO(r_unlink(SB, "../outside/secret.txt"), E_PERM);
    CHECK_ERRNO(r_unlink(SB, "link_out/secret.txt"), E_PERM);
    CHECK_ERRNO(r_mkdir(SB, "../outside/newdir"), E_PERM);
    CHECK_ERRNO(r_mkdir(SB, "link_out/newdir"), E_PERM);
    CHECK_ERRNO(r_rmdir(SB, ".."), E_PERM);
    CHECK_ERRNO(r_rmdir(SB, "link_out/.."), E_PERM);
    CHECK_ERRNO(r_symlink("x", SB, "../outside/newlink"), E_PERM);
    char buf[256];
    CHECK_ERRNO(r_readlink(SB, "../outside/secret.txt", buf, sizeof buf, &used), E_PERM);

    /* Creating a link that points out is allowed (it is only text), using
     * it is not; absolute targets are refused outright. */
    CHECK_ERRNO(r_symlink("/etc/passwd", SB, "abs2"), E_PERM);
    CHECK_ERRNO(r_symlink("../outside/secret.txt", SB, "rel_out"), 0);
    CHECK(r_readlink(SB, "rel_out", buf, sizeof buf, &used) == 0 && used == 21 &&
              memcmp(buf, "../outside/secret.txt", 21) == 0,
          "readlink rel_out");
    CHECK_ERRNO(op(SB, FOLLOW, "rel_out", 0, R_FD_READ), E_PERM);
    CHECK_ERRNO(r_unlink(SB, "rel_out"), 0);

    /* A directory opened from the pre-open is a sandbox of its own. */
    CHECK_ERRNO(op(SB, 0, "sub", O_DIR_, R_ALL & ~R_FD_WRITE), 0);
    int32_t sub = opened;
    CHECK_ERRNO(op(sub, 0, "../inside.txt", 0, R_FD_READ), E_PERM);
    CHECK_ERRNO(op(sub, 0, "../../outside/secret.txt", 0, R_FD_READ), E_PERM);
    raw_fd_close(sub);

    /* The read-only pre-open: reading works, every change is EPERM. */
    CHECK_ERRNO(op(RO, 0, "ro.txt", 0, R_ALL & ~R_FD_WRITE), 0);
    int32_t rofd = opened;
    uint32_t n = 0;
    memset(buf, 0, sizeof buf);
    CHECK(r_read(rofd, buf, sizeof buf, &n) == 0 && n == 9 && strcmp(buf, "readonly\n") == 0,
          "read ro.txt");
    CHECK_ERRNO(r_write(rofd, "x", 1, &n), E_BADF);
    CHECK_ERRNO(raw_fd_filestat_set_size(rofd, 0), E_PERM);
    CHECK_ERRNO(raw_fd_filestat_set_times(rofd, 0, 0, 8), E_PERM);
    raw_fd_close(rofd);
    CHECK_ERRNO(op(RO, 0, "ro.txt", 0, R_FD_READ | R_FD_WRITE), E_PERM);
    CHECK_ERRNO(op(RO, 0, "ro.txt", O_TRUNC_, R_FD_READ), E_PERM);
    CHECK_ERRNO(op(RO, 0, "new.txt", O_CREAT_, 0), E_PERM);
    CHECK_ERRNO(r_unlink(RO, "ro.txt"), E_PERM);
    CHECK_ERRNO(r_mkdir(RO, "d"), E_PERM);
    CHECK_ERRNO(r_rmdir(RO, "rodir"), E_PERM);
    CHECK_ERRNO(r_symlink("ro.txt", RO, "l"), E_PERM);
    CHECK_ERRNO(r_rename(RO, "ro.txt", SB, "taken.txt"), E_PERM);
    CHECK_ERRNO(r_rename(SB, "inside.txt", RO, "given.txt"), E_PERM);
    CHECK_ERRNO(r_link(RO, 0, "ro.txt", SB, "alias.txt"), E_PERM);
    CHECK_ERRNO(raw_path_filestat_set_times(RO, 0, P("ro.txt"), 6, 0, 0, 8), E_PERM);
    CHECK_ERRNO(op(RO, 0, "rodir", O_DIR_, R_ALL & ~R_FD_WRITE), 0);
    int32_t rodir = opened;
    CHECK_ERRNO(op(rodir, 0, "f", O_CREAT_, 0), E_PERM); /* inherited */
    raw_fd_close(rodir);

    /* Through wasi-libc too: its own path lookup, the same answer. */
    FILE *f = fopen("/sandbox/../outside/secret.txt", "r");
    CHECK(f == NULL, "fopen through ..");
    f = fopen("/sandbox/link_out/secret.txt", "r");
    CHECK(f == NULL && errno == EPERM, "fopen through link_out: %s", strerror(errno));
    f = fopen("/ro/ro.txt", "a");
    CHECK(f == NULL && errno == EPERM, "fopen ro for append: %s", strerror(errno));
    return done("escape");
}
