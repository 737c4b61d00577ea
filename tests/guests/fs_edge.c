/* File system edge cases through raw WASI calls, in the scratch pre-open
 * (fd 3), with the errors the specification and wasmtime give: trailing
 * slashes, O_NOFOLLOW on symlinks, dangling links, readdir cookies and
 * truncated buffers, readlink into a short buffer, rights, operations a
 * directory descriptor does not support, renumbering. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "guest.h"

#define D 3

static int32_t fd_;

static int32_t op(int32_t dir, int32_t lookup, const char *path, int32_t oflags, uint64_t rights,
                  int32_t fdflags)
{
    fd_ = -1;
    return r_open(dir, lookup, path, oflags, rights, fdflags, &fd_);
}

static void mkfile(const char *path, const char *text)
{
    CHECK(op(D, 0, path, O_CREAT_ | O_TRUNC_, R_FD_WRITE, 0) == 0, "create %s", path);
    uint32_t n;
    if (*text)
        r_write(fd_, text, (uint32_t)strlen(text), &n);
    raw_fd_close(fd_);
}

/* Reads the whole listing of `dir` with a buffer of `bufsize` bytes,
 * restarting from the last complete entry's cookie; returns how many
 * entries were seen and checks each name is seen once. */
static int list_all(int32_t dir, uint32_t bufsize, int expect_files)
{
    unsigned char *buf = malloc(bufsize);
    uint64_t cookie = 0;
    int seen = 0, dots = 0, calls = 0;
    static unsigned char hit[64];
    memset(hit, 0, sizeof hit);
    for (;;) {
        uint32_t used = 0;
        if (raw_fd_readdir(dir, P(buf), (int32_t)bufsize, (int64_t)cookie, P(&used)) != 0 ||
            ++calls > 10000)
            break;
        uint32_t off = 0;
        while (off + 24 <= used) {
            uint64_t next;
            uint32_t namlen;
            memcpy(&next, buf + off, 8);
            memcpy(&namlen, buf + off + 16, 4);
            if (off + 24 + namlen > used)
                break; /* cut off: ask again from `cookie` */
            const char *name = (const char *)buf + off + 24;
            if ((namlen == 1 && name[0] == '.') || (namlen == 2 && !memcmp(name, "..", 2)))
                dots++;
            else if (namlen > 2 && name[0] == 'f' && name[1] == '_') {
                int k = atoi(name + 2);
                if (k >= 0 && k < 64)
                    hit[k]++;
            }
            seen++;
            cookie = next;
            off += 24 + namlen;
        }
        if (used < bufsize)
            break; /* the end */
    }
    free(buf);
    int once = 1;
    for (int k = 0; k < expect_files; k++)
        once &= hit[k] == 1;
    CHECK(dots == 2 && once, "buffer %u: dots %d, every file once %d", bufsize, dots, once);
    return seen;
}

int main(void)
{
    fstat_t st;
    uint32_t n;
    uint64_t pos;
    char buf[64];
    int32_t used;

    /* --- trailing slashes --- */
    mkfile("file", "abc");
    CHECK_ERRNO(op(D, 0, "file/", 0, R_FD_READ, 0), E_NOTDIR);
    CHECK_ERRNO(op(D, 0, "file//", 0, R_FD_READ, 0), E_NOTDIR);
    CHECK_ERRNO(r_unlink(D, "file/"), E_NOTDIR);
    CHECK_ERRNO(r_rmdir(D, "file/"), E_NOTDIR);
    CHECK_ERRNO(r_rmdir(D, "file"), E_NOTDIR);
    CHECK_ERRNO(r_stat(D, 0, "file/", &st), E_NOTDIR);
    CHECK_ERRNO(r_mkdir(D, "dir/"), 0);
    CHECK(op(D, 0, "dir/", 0, R_FD_READ, 0) == 0, "open dir/");
    raw_fd_close(fd_);
    CHECK_ERRNO(r_unlink(D, "dir"), E_ISDIR);
    CHECK_ERRNO(r_unlink(D, "dir/"), E_ISDIR);
    CHECK_ERRNO(r_rename(D, "file/", D, "file2"), E_NOTDIR);
    CHECK_ERRNO(r_rename(D, "file", D, "file2/"), E_NOTDIR);
    CHECK_ERRNO(r_rename(D, "dir/", D, "dir2/"), 0);
    CHECK_ERRNO(r_rename(D, "dir2", D, "dir"), 0);
    CHECK_ERRNO(r_symlink("file", D, "nolink/"), E_NOENT);
    CHECK_ERRNO(r_symlink("file", D, "dir/"), E_EXIST);
    CHECK_ERRNO(r_symlink("file", D, "file/"), E_NOTDIR);
    CHECK_ERRNO(r_link(D, 0, "file", D, "nolink/"), E_NOENT);
    CHECK_ERRNO(r_rmdir(D, "dir/"), 0);

    /* --- symlinks: O_NOFOLLOW, dangling, loops, readlink --- */
    CHECK_ERRNO(r_mkdir(D, "target"), 0);
    CHECK_ERRNO(r_symlink("target", D, "dlink"), 0);
    CHECK_ERRNO(r_symlink("file", D, "flink"), 0);
    CHECK_ERRNO(r_symlink("missing", D, "dangling"), 0);
    CHECK_ERRNO(r_symlink("self", D, "self"), 0);
    CHECK_ERRNO(op(D, 0, "flink", 0, R_FD_READ, 0), E_LOOP);
    int32_t e = op(D, 0, "dlink", O_DIR_, 0, 0);
    CHECK(e == E_LOOP || e == E_NOTDIR, "O_DIRECTORY|O_NOFOLLOW on a dir link: %d", e);
    CHECK(op(D, FOLLOW, "dlink", O_DIR_, 0, 0) == 0, "follow the dir link");
    raw_fd_close(fd_);
    CHECK(op(D, FOLLOW, "flink", 0, R_FD_READ, 0) == 0, "follow the file link");
    raw_fd_close(fd_);
    CHECK_ERRNO(op(D, FOLLOW, "flink", O_DIR_, 0, 0), E_NOTDIR);
    CHECK_ERRNO(op(D, 0, "dangling", 0, R_FD_READ, 0), E_LOOP);
    CHECK_ERRNO(op(D, FOLLOW, "dangling", 0, R_FD_READ, 0), E_NOENT);
    CHECK_ERRNO(op(D, FOLLOW, "self", 0, R_FD_READ, 0), E_LOOP);
    CHECK(r_stat(D, 0, "dangling", &st) == 0 && st.type == FT_SYMLINK, "lstat dangling");
    CHECK_ERRNO(r_stat(D, FOLLOW, "dangling", &st), E_NOENT);
    CHECK(r_stat(D, FOLLOW, "flink", &st) == 0 && st.type == FT_REG && st.size == 3,
          "stat through link");
    CHECK(r_stat(D, FOLLOW, "dlink/", &st) == 0 && st.type == FT_DIR, "dlink/ is the dir");
    CHECK(r_link(D, 0, "dangling", D, "hard_to_link") == 0, "hard link to a dangling link");
    CHECK(r_stat(D, 0, "hard_to_link", &st) == 0 && st.type == FT_SYMLINK, "it is a link");
    CHECK_ERRNO(r_unlink(D, "hard_to_link"), 0);
    CHECK_ERRNO(r_link(D, FOLLOW, "flink", D, "hard_via_follow"), 0);
    CHECK(r_stat(D, 0, "hard_via_follow", &st) == 0 && st.type == FT_REG && st.nlink == 2,
          "link with follow links the target");
    CHECK_ERRNO(r_unlink(D, "hard_via_follow"), 0);
    memset(buf, 0, sizeof buf);
    CHECK(r_readlink(D, "dangling", buf, sizeof buf, &used) == 0 && used == 7 &&
              strcmp(buf, "missing") == 0,
          "readlink");
    memset(buf, '#', sizeof buf);
    CHECK(r_readlink(D, "dangling", buf, 4, &used) == 0 && used == 4 &&
              memcmp(buf, "miss#", 5) == 0,
          "readlink into 4 bytes: %d", used);
    CHECK_ERRNO(r_readlink(D, "file", buf, sizeof buf, &used), E_INVAL);
    CHECK_ERRNO(r_readlink(D, "dlink/", buf, sizeof buf, &used), E_INVAL);
    CHECK_ERRNO(r_readlink(D, "nothing", buf, sizeof buf, &used), E_NOENT);
    /* Times of the link itself, then of its target. */
    fstat_t before;
    r_stat(D, 0, "file", &before);
    CHECK_ERRNO(raw_path_filestat_set_times(D, 0, P("flink"), 5, 0, 1000000000000000000ll, 4), 0);
    CHECK(r_stat(D, 0, "flink", &st) == 0 && st.mtim == 1000000000000000000ull, "link mtime");
    CHECK(r_stat(D, 0, "file", &st) == 0 && st.mtim == before.mtim, "target untouched");
    CHECK_ERRNO(raw_path_filestat_set_times(D, FOLLOW, P("flink"), 5, 0, 2000000000000000000ll, 4),
                0);
    CHECK(r_stat(D, 0, "file", &st) == 0 && st.mtim == 2000000000000000000ull, "target mtime");
    CHECK_ERRNO(raw_path_filestat_set_times(D, 0, P("file"), 4, 0, 0, 1 | 2), E_INVAL);
    CHECK_ERRNO(raw_path_filestat_set_times(D, 0, P("file"), 4, 0, 0, 4 | 8), E_INVAL);
    for (const char *l = "dlink\0flink\0dangling\0self\0"; *l; l += strlen(l) + 1)
        CHECK_ERRNO(r_unlink(D, l), 0);
    CHECK_ERRNO(r_rmdir(D, "target"), 0);

    /* --- open flags --- */
    CHECK_ERRNO(op(D, 0, "file", O_CREAT_ | O_EXCL_, R_FD_WRITE, 0), E_EXIST);
    CHECK_ERRNO(op(D, 0, "nothing", 0, R_FD_READ, 0), E_NOENT);
    CHECK_ERRNO(op(D, 0, "file", O_DIR_, 0, 0), E_NOTDIR);
    CHECK_ERRNO(op(D, 0, "x", O_DIR_ | O_CREAT_, 0, 0), E_INVAL);
    CHECK_ERRNO(op(D, 0, ".", O_DIR_, R_FD_READ | R_FD_WRITE, 0), E_ISDIR);
    CHECK_ERRNO(op(D, 0, "file", 0x10, R_FD_READ, 0), E_INVAL);
    CHECK_ERRNO(op(D, 0, "file\xff", 0, R_FD_READ, 0), E_ILSEQ);
    CHECK_ERRNO(raw_path_open(D, 0, P("file\0x"), 6, 0, 2, 2, 0, P(&fd_)), E_INVAL);
    CHECK_ERRNO(raw_path_open(D, 0, P("file"), 0, 0, 2, 2, 0, P(&fd_)), E_NOENT);
    static char longname[300];
    memset(longname, 'n', 299);
    CHECK_ERRNO(op(D, 0, longname, O_CREAT_, 0, 0), E_NAMETOOLONG);
    CHECK_ERRNO(op(4, 0, "file", 0, R_FD_READ, 0), E_BADF);
    CHECK(op(D, 0, "file", 0, R_FD_READ, 0) == 0, "open file");
    int32_t file = fd_;
    CHECK_ERRNO(op(file, 0, "x", O_CREAT_, 0, 0), E_NOTDIR);
    CHECK_ERRNO(r_mkdir(file, "x"), E_NOTDIR);
    raw_fd_close(file);

    /* --- rights and modes --- */
    CHECK(op(D, 0, "file", 0, R_ALL & ~R_FD_WRITE, 0) == 0, "open read-only");
    int32_t ro = fd_;
    CHECK_ERRNO(r_write(ro, "x", 1, &n), E_BADF);
    CHECK_ERRNO(raw_fd_filestat_set_size(ro, 0), E_INVAL); /* ftruncate of a read-only fd */
    CHECK_ERRNO(raw_fd_allocate(ro, 0, 10), E_BADF);
    struct { uint8_t type, pad; uint16_t flags; uint32_t pad2; uint64_t base, inh; } fs;
    CHECK(raw_fd_fdstat_get(ro, P(&fs)) == 0 && fs.type == FT_REG && (fs.base & R_FD_READ) &&
              !(fs.base & R_FD_WRITE),
          "fdstat rights of a read-only fd");
    CHECK_ERRNO(raw_fd_fdstat_set_rights(ro, (int64_t)(fs.base & ~R_FD_READ), 0), 0);
    CHECK_ERRNO(r_read(ro, buf, 1, &n), E_NOTCAPABLE);
    CHECK_ERRNO(raw_fd_fdstat_set_rights(ro, (int64_t)fs.base, 0), E_NOTCAPABLE);
    CHECK_ERRNO(raw_fd_fdstat_set_rights(ro, (int64_t)(fs.base & ~(R_FD_READ | R_FD_SEEK)), 0), 0);
    CHECK_ERRNO(raw_fd_seek(ro, 1, 0, P(&pos)), E_NOTCAPABLE);
    CHECK_ERRNO(raw_fd_seek(ro, 0, 1, P(&pos)), 0); /* FD_TELL is enough for that */
    raw_fd_close(ro);
    CHECK(op(D, 0, "file", 0, R_FD_WRITE, 0) == 0, "open write-only");
    CHECK_ERRNO(r_read(fd_, buf, 1, &n), E_BADF);
    raw_fd_close(fd_);

    /* --- the rights asked for are the rights held (issue 14) --- */
    /* O_CREAT asking for FD_READ only: that is all fdstat reports, writing
     * and seeking are ENOTCAPABLE (the file is open for writing on the
     * host, to create it; the rights decide), reading works. */
    CHECK(op(D, 0, "rights", O_CREAT_, R_FD_READ, 0) == 0, "create with FD_READ only");
    int32_t rf = fd_;
    CHECK(raw_fd_fdstat_get(rf, P(&fs)) == 0 && fs.base == R_FD_READ && fs.inh == R_FD_READ,
          "held: FD_READ only (base %llx, inheriting %llx)", (unsigned long long)fs.base,
          (unsigned long long)fs.inh);
    CHECK_ERRNO(r_write(rf, "x", 1, &n), E_NOTCAPABLE);
    CHECK_ERRNO(raw_fd_seek(rf, 0, 0, P(&pos)), E_NOTCAPABLE);
    CHECK_ERRNO(raw_fd_tell(rf, P(&pos)), E_NOTCAPABLE);
    CHECK_ERRNO(raw_fd_filestat_get(rf, P(&st)), E_NOTCAPABLE);
    CHECK_ERRNO(raw_fd_filestat_set_size(rf, 0), E_NOTCAPABLE);
    CHECK_ERRNO(r_read(rf, buf, 1, &n), 0);
    raw_fd_close(rf);
    /* Without O_CREAT, asking for FD_WRITE only: nothing else is held. */
    CHECK(op(D, 0, "rights", 0, R_FD_WRITE, 0) == 0, "open with FD_WRITE only");
    rf = fd_;
    CHECK(raw_fd_fdstat_get(rf, P(&fs)) == 0 && fs.base == R_FD_WRITE,
          "held: FD_WRITE only (base %llx)", (unsigned long long)fs.base);
    CHECK_ERRNO(r_read(rf, buf, 1, &n), E_BADF); /* the open mode: write-only */
    CHECK_ERRNO(raw_fd_seek(rf, 0, 1, P(&pos)), E_NOTCAPABLE);
    CHECK(r_write(rf, "w", 1, &n) == 0 && n == 1, "write with FD_WRITE");
    raw_fd_close(rf);
    /* A directory passing on FD_READ and FD_SEEK only: files opened in it
     * hold at most those, whatever they ask for; asking to write is
     * refused. */
    CHECK_ERRNO(r_mkdir(D, "rsub"), 0);
    int32_t rsub = -1;
    CHECK(raw_path_open(D, 0, P("rsub"), 4, O_DIR_, (int64_t)(R_ALL & ~R_FD_WRITE),
                        (int64_t)(R_FD_READ | R_FD_SEEK), 0, P(&rsub)) == 0, "open rsub");
    CHECK(raw_fd_fdstat_get(rsub, P(&fs)) == 0 && fs.inh == (R_FD_READ | R_FD_SEEK),
          "rsub passes on FD_READ | FD_SEEK (inheriting %llx)", (unsigned long long)fs.inh);
    CHECK(op(rsub, 0, "f", O_CREAT_, R_FD_WRITE, 0) == E_NOTCAPABLE, "no FD_WRITE to pass on");
    CHECK(op(D, 0, "rsub/f", O_CREAT_, R_FD_WRITE, 0) == 0, "create rsub/f from D");
    raw_fd_close(fd_);
    CHECK(op(rsub, 0, "f", 0, R_ALL & ~R_FD_WRITE, 0) == 0, "open rsub/f asking for all");
    CHECK(raw_fd_fdstat_get(fd_, P(&fs)) == 0 && fs.base == (R_FD_READ | R_FD_SEEK) &&
              fs.inh == (R_FD_READ | R_FD_SEEK),
          "held: what rsub passes on (base %llx)", (unsigned long long)fs.base);
    CHECK_ERRNO(raw_fd_tell(fd_, P(&pos)), E_NOTCAPABLE);
    CHECK_ERRNO(raw_fd_seek(fd_, 0, 0, P(&pos)), 0);
    raw_fd_close(fd_);
    raw_fd_close(rsub);
    CHECK_ERRNO(r_unlink(D, "rsub/f"), 0);
    CHECK_ERRNO(r_rmdir(D, "rsub"), 0);
    /* What wasi-libc asks for (every right its open mode does not exclude)
     * keeps ordinary programs working. */
    int lfd = open("/scratch/rights", O_RDWR);
    CHECK(lfd >= 0 && raw_fd_fdstat_get(lfd, P(&fs)) == 0 &&
              (fs.base & (R_FD_READ | R_FD_WRITE | R_FD_SEEK | R_FD_TELL | R_FD_FILESTAT_GET)) ==
                  (R_FD_READ | R_FD_WRITE | R_FD_SEEK | R_FD_TELL | R_FD_FILESTAT_GET),
          "open(O_RDWR) through wasi-libc holds what it needs (base %llx)",
          (unsigned long long)fs.base);
    CHECK(lfd >= 0 && write(lfd, "ok", 2) == 2 && lseek(lfd, 0, SEEK_SET) == 0, "libc I/O");
    close(lfd);
    lfd = open("/scratch/rights", O_RDONLY);
    CHECK(lfd >= 0 && write(lfd, "x", 1) < 0 && errno == EBADF, "libc O_RDONLY: write is EBADF");
    close(lfd);
    CHECK_ERRNO(r_unlink(D, "rights"), 0);

    /* --- I/O positions, append, truncation, allocation --- */
    CHECK(op(D, 0, "io", O_CREAT_ | O_TRUNC_, R_ALL, 0) == 0, "create io");
    int32_t io = fd_;
    CHECK(r_write(io, "0123456789", 10, &n) == 0 && n == 10, "write 10");
    CHECK(raw_fd_tell(io, P(&pos)) == 0 && pos == 10, "tell 10");
    CHECK_ERRNO(raw_fd_seek(io, -11, 1, P(&pos)), E_INVAL);
    CHECK_ERRNO(raw_fd_seek(io, 0, 3, P(&pos)), E_INVAL);
    CHECK(raw_fd_seek(io, 100, 0, P(&pos)) == 0 && pos == 100, "seek past the end");
    CHECK(raw_fd_seek(io, -2, 2, P(&pos)) == 0 && pos == 8, "seek from the end");
    struct { int32_t buf, len; } iov = {P("AB"), 2};
    CHECK(raw_fd_pwrite(io, P(&iov), 1, 2, P(&n)) == 0 && n == 2, "pwrite");
    CHECK(raw_fd_tell(io, P(&pos)) == 0 && pos == 8, "pwrite keeps the offset");
    iov.buf = P(buf);
    iov.len = 4;
    CHECK(raw_fd_pread(io, P(&iov), 1, 1, P(&n)) == 0 && n == 4 && !memcmp(buf, "1AB4", 4),
          "pread");
    CHECK(raw_fd_pread(io, P(&iov), 1, 1000, P(&n)) == 0 && n == 0, "pread past the end");
    CHECK_ERRNO(raw_fd_pread(io, P(&iov), 1, -1, P(&n)), E_INVAL);
    CHECK_ERRNO(raw_fd_filestat_set_size(io, 4), 0);
    CHECK(raw_fd_filestat_get(io, P(&st)) == 0 && st.size == 4 && st.type == FT_REG, "size 4");
    CHECK_ERRNO(raw_fd_allocate(io, 0, 4096), 0);
    CHECK(raw_fd_filestat_get(io, P(&st)) == 0 && st.size == 4096, "allocated to 4096");
    CHECK_ERRNO(raw_fd_advise(io, 0, 100, 1), 0);
    CHECK_ERRNO(raw_fd_advise(io, 0, 100, 6), E_INVAL);
    CHECK_ERRNO(raw_fd_datasync(io), 0);
    CHECK_ERRNO(raw_fd_sync(io), 0);
    CHECK_ERRNO(raw_fd_filestat_set_times(io, 5000000000ll, 0, 1), 0);
    CHECK(raw_fd_filestat_get(io, P(&st)) == 0 && st.atim == 5000000000ull, "atime set");
    CHECK_ERRNO(raw_fd_fdstat_set_flags(io, FD_APPEND), 0);
    CHECK(raw_fd_fdstat_get(io, P(&fs)) == 0 && (fs.flags & FD_APPEND), "APPEND reported");
    raw_fd_seek(io, 0, 0, P(&pos));
    CHECK(r_write(io, "Z", 1, &n) == 0 && raw_fd_tell(io, P(&pos)) == 0 && pos == 4097,
          "append goes to the end");
    CHECK_ERRNO(raw_fd_fdstat_set_flags(io, 16 /* SYNC */), E_INVAL);
    CHECK_ERRNO(raw_fd_fdstat_set_flags(io, 0), 0);
    raw_fd_close(io);
    CHECK(op(D, 0, "io", O_TRUNC_, R_FD_READ | R_FD_FILESTAT_GET, 0) == 0, "open with O_TRUNC");
    CHECK(raw_fd_filestat_get(fd_, P(&st)) == 0 && st.size == 0, "truncated");
    raw_fd_close(fd_);
    CHECK(op(D, 0, "app", O_CREAT_, R_ALL & ~R_FD_READ, FD_APPEND) == 0, "open append");
    iov.buf = P("xy");
    iov.len = 2;
    raw_fd_pwrite(fd_, P(&iov), 1, 0, P(&n));
    raw_fd_pwrite(fd_, P(&iov), 1, 0, P(&n));
    CHECK(raw_fd_filestat_get(fd_, P(&st)) == 0 && st.size == 4, "pwrite appends in O_APPEND");
    raw_fd_close(fd_);
    CHECK_ERRNO(r_unlink(D, "app"), 0);
    CHECK_ERRNO(r_unlink(D, "io"), 0);

    /* --- a directory descriptor refuses byte I/O --- */
    CHECK_ERRNO(r_read(D, buf, 8, &n), E_BADF);
    CHECK_ERRNO(r_write(D, "x", 1, &n), E_BADF);
    CHECK_ERRNO(raw_fd_seek(D, 0, 1, P(&pos)), E_BADF);
    CHECK_ERRNO(raw_fd_tell(D, P(&pos)), E_BADF);
    CHECK_ERRNO(raw_fd_advise(D, 0, 0, 4), E_BADF);
    CHECK_ERRNO(raw_fd_allocate(D, 0, 1), E_BADF);
    CHECK_ERRNO(raw_fd_datasync(D), E_BADF);
    CHECK_ERRNO(raw_fd_sync(D), E_BADF);
    CHECK_ERRNO(raw_fd_fdstat_set_flags(D, FD_NONBLOCK), E_BADF);
    CHECK_ERRNO(raw_fd_filestat_set_size(D, 0), E_BADF);
    CHECK(raw_fd_filestat_get(D, P(&st)) == 0 && st.type == FT_DIR, "stat of the pre-open");

    /* --- directories: remove, rename, link --- */
    CHECK_ERRNO(r_mkdir(D, "a"), 0);
    CHECK_ERRNO(r_mkdir(D, "a"), E_EXIST);
    CHECK_ERRNO(r_mkdir(D, "a/b"), 0);
    CHECK_ERRNO(r_rmdir(D, "a"), E_NOTEMPTY);
    CHECK_ERRNO(r_mkdir(D, "c"), 0);
    mkfile("c/f", "");
    CHECK_ERRNO(r_rename(D, "a/b", D, "c"), E_NOTEMPTY);
    CHECK_ERRNO(r_rename(D, "file", D, "a"), E_ISDIR);
    CHECK_ERRNO(r_link(D, 0, "file", D, "c/f"), E_EXIST);
    CHECK_ERRNO(r_link(D, 0, "file", D, "file"), E_EXIST);
    CHECK_ERRNO(r_link(D, 0, "a", D, "alink"), E_PERM);
    CHECK_ERRNO(r_link(D, FOLLOW | 0, "missing", D, "x"), E_NOENT);
    CHECK_ERRNO(r_unlink(D, "c/f"), 0);
    CHECK_ERRNO(r_rename(D, "a/b", D, "c"), 0); /* onto an empty directory */
    CHECK_ERRNO(r_rmdir(D, "c"), 0);
    CHECK_ERRNO(r_rmdir(D, "a"), 0);
    CHECK_ERRNO(r_rmdir(D, "."), E_INVAL);
    CHECK_ERRNO(r_unlink(D, "."), E_ISDIR);

    /* --- readdir cookies and truncated buffers --- */
    CHECK_ERRNO(r_mkdir(D, "many"), 0);
    CHECK(op(D, 0, "many", O_DIR_, R_FD_READDIR, 0) == 0, "open many");
    int32_t many = fd_;
    CHECK(list_all(many, 64, 0) == 2, "empty directory lists . and ..");
    for (int i = 0; i < 40; i++) {
        char name[32];
        snprintf(name, sizeof name, "many/f_%d", i);
        mkfile(name, "");
    }
    CHECK(list_all(many, 4096, 40) == 42, "42 entries in one call");
    CHECK(list_all(many, 30, 40) == 42, "42 entries, one per call");
    CHECK(list_all(many, 50, 40) == 42, "42 entries, cut records");
    CHECK(list_all(many, 100, 40) == 42, "42 entries, a few per call");
    uint32_t got = 99;
    CHECK(raw_fd_readdir(many, P(buf), sizeof buf, 1000000, P(&got)) == 0 && got == 0,
          "cookie past the end");
    CHECK(raw_fd_readdir(many, P(buf), 0, 0, P(&got)) == 0 && got == 0, "zero-length buffer");
    CHECK(raw_fd_readdir(many, P(buf), 10, 0, P(&got)) == 0 && got == 10, "cut first record");
    CHECK_ERRNO(raw_fd_readdir(D + 100, P(buf), 10, 0, P(&got)), E_BADF);
    raw_fd_close(many);
    for (int i = 0; i < 40; i++) {
        char name[32];
        snprintf(name, sizeof name, "many/f_%d", i);
        CHECK_ERRNO(r_unlink(D, name), 0);
    }
    CHECK_ERRNO(r_rmdir(D, "many"), 0);

    /* --- the descriptor table --- */
    CHECK(op(D, 0, "file", 0, R_FD_READ, 0) == 0, "open a");
    int32_t a = fd_;
    CHECK(op(D, 0, "file", 0, R_FD_READ, 0) == 0, "open b");
    int32_t b = fd_;
    CHECK(b == a + 1, "lowest free numbers");
    CHECK_ERRNO(raw_fd_renumber(a, b), 0);
    CHECK_ERRNO(raw_fd_close(a), E_BADF);
    CHECK(r_read(b, buf, 3, &n) == 0 && n == 3 && !memcmp(buf, "abc", 3), "b reads the file");
    CHECK_ERRNO(raw_fd_renumber(b, 1000), E_BADF);
    CHECK_ERRNO(raw_fd_renumber(1000, b), E_BADF);
    CHECK_ERRNO(raw_fd_renumber(b, b), 0);
    CHECK(op(D, 0, "file", 0, R_FD_READ, 0) == 0 && fd_ == a, "a is free again");
    raw_fd_close(fd_);
    CHECK_ERRNO(raw_fd_close(b), 0);
    CHECK_ERRNO(raw_fd_close(b), E_BADF);
    for (int i = 0; i < 3000; i++) { /* no descriptor leaks */
        if (op(D, 0, "file", 0, R_FD_READ, 0) != 0 || raw_fd_close(fd_) != 0) {
            CHECK(0, "open/close %d", i);
            break;
        }
    }

    /* --- pre-open and stdio metadata --- */
    struct { uint8_t tag, pad[3]; uint32_t len; } pre;
    CHECK(raw_fd_prestat_get(D, P(&pre)) == 0 && pre.tag == 0 && pre.len == 8, "prestat");
    CHECK_ERRNO(raw_fd_prestat_dir_name(D, P(buf), 7), E_NAMETOOLONG);
    CHECK_ERRNO(raw_fd_prestat_get(0, P(&pre)), E_BADF);
    CHECK_ERRNO(raw_fd_prestat_get(99, P(&pre)), E_BADF);
    CHECK_ERRNO(raw_fd_prestat_dir_name(1, P(buf), 10), E_NOTDIR);
    CHECK(raw_fd_filestat_get(1, P(&st)) == 0 && st.size == 0 && st.mtim == 0 && st.ino == 0,
          "stdio shows nothing of the host");
    CHECK(raw_fd_fdstat_get(1, P(&fs)) == 0 && (fs.base & R_FD_WRITE) &&
              !(fs.base & (R_FD_SEEK | R_FD_TELL)),
          "stdout rights");
    CHECK_ERRNO(raw_fd_seek(1, 0, 1, P(&pos)), E_SPIPE);
    CHECK_ERRNO(raw_fd_pread(0, P(&iov), 1, 0, P(&n)), E_SPIPE);

    /* --- sockets, signals: not on these descriptors --- */
    CHECK_ERRNO(raw_sock_accept(D, 0, P(&a)), E_NOTSOCK);
    CHECK_ERRNO(raw_sock_accept(500, 0, P(&a)), E_BADF);
    CHECK_ERRNO(raw_sock_recv(1, P(&iov), 1, 0, P(&n), P(&n)), E_NOTSOCK);
    CHECK_ERRNO(raw_sock_send(1, P(&iov), 1, 0, P(&n)), E_NOTSOCK);
    CHECK_ERRNO(raw_sock_shutdown(1, 3), E_NOTSOCK);
    CHECK_ERRNO(raw_sock_shutdown(77, 3), E_BADF);
    CHECK_ERRNO(raw_proc_raise(2), E_NOTSUP);

    CHECK_ERRNO(r_unlink(D, "file"), 0);
    mkfile("fs_edge_done", "");
    return done("fs_edge");
}
