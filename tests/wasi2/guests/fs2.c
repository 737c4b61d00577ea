/* File-system behaviour through wasi-libc, printed one result per line so
 * that the driver can require the same output from the core module (WASI
 * preview 1) and from its component (WASI 0.2 through the adapter): the
 * preview-1 host is the reference, and both share the sandbox. Works in the
 * pre-opened directory /s (writable) and reads /ro (read-only, holding
 * ro.txt). Leaves only `kept/` and `kept/data` behind. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void res(const char *what, long r)
{
    if (r < 0)
        printf("%s: error %s\n", what, strerror(errno));
    else
        printf("%s: %ld\n", what, r);
}

static void put(const char *path, const char *text, int flags)
{
    int fd = open(path, O_WRONLY | O_CREAT | flags, 0644);
    res(path, fd < 0 ? -1 : (long)write(fd, text, strlen(text)));
    if (fd >= 0)
        close(fd);
}

static void show(const char *path)
{
    char buf[128] = {0};
    int fd = open(path, O_RDONLY);
    long n = fd < 0 ? -1 : (long)read(fd, buf, sizeof buf - 1);
    if (n < 0)
        printf("cat %s: error %s\n", path, strerror(errno));
    else
        printf("cat %s: [%s]\n", path, buf);
    if (fd >= 0)
        close(fd);
}

static void st(const char *what, const char *path, int follow)
{
    struct stat s;
    int r = follow ? stat(path, &s) : lstat(path, &s);
    if (r < 0) {
        printf("stat %s: error %s\n", what, strerror(errno));
        return;
    }
    printf("stat %s: %s size=%lld nlink=%llu\n", what,
           S_ISREG(s.st_mode)   ? "file"
           : S_ISDIR(s.st_mode) ? "dir"
           : S_ISLNK(s.st_mode) ? "link"
                                : "other",
           (long long)s.st_size, (unsigned long long)s.st_nlink);
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void ls(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        printf("ls %s: error %s\n", path, strerror(errno));
        return;
    }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64)
        names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp);
    printf("ls %s:", path);
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
}

int main(void)
{
    /* Creating, writing, reading, positions. */
    put("/s/a", "hello world", O_TRUNC);
    show("/s/a");
    int fd = open("/s/a", O_RDWR);
    res("lseek end", (long)lseek(fd, 0, SEEK_END));
    res("pwrite", (long)pwrite(fd, "HELLO", 5, 0));
    res("tell after pwrite", (long)lseek(fd, 0, SEEK_CUR));
    char buf[64] = {0};
    res("pread", (long)pread(fd, buf, 8, 3));
    printf("pread: [%s]\n", buf);
    res("pread past end", (long)pread(fd, buf, 8, 1000));
    res("ftruncate", ftruncate(fd, 5));
    struct stat s;
    res("fstat size", fstat(fd, &s) < 0 ? -1 : (long)s.st_size);
    res("fsync", fsync(fd));
    res("fdatasync", fdatasync(fd));
    close(fd);
    put("/s/a", " more", O_APPEND);
    show("/s/a");

    /* Opening: the errors a program meets. */
    res("open O_EXCL existing", open("/s/a", O_WRONLY | O_CREAT | O_EXCL, 0644));
    res("open missing", open("/s/missing", O_RDONLY));
    res("open file/", open("/s/a/", O_RDONLY));
    res("open file as dir", open("/s/a", O_RDONLY | O_DIRECTORY));
    res("mkdir d", mkdir("/s/d", 0755));
    res("mkdir d again", mkdir("/s/d", 0755));
    res("open dir for writing", open("/s/d", O_WRONLY));
    res("write-only read", (fd = open("/s/a", O_WRONLY)) < 0 ? -1 : (long)read(fd, buf, 1));
    close(fd);
    res("read-only write", (fd = open("/s/a", O_RDONLY)) < 0 ? -1 : (long)write(fd, "x", 1));
    close(fd);
    res("opendir file", opendir("/s/a") ? 0 : -1);

    /* Links, symlinks, trailing slashes. */
    res("link", link("/s/a", "/s/d/h"));
    st("a after link", "/s/a", 1);
    res("symlink", symlink("a", "/s/l"));
    res("symlink to dir", symlink("d", "/s/ld"));
    char target[64] = {0};
    res("readlink", (long)readlink("/s/l", target, sizeof target - 1));
    printf("readlink: [%s]\n", target);
    res("readlink of a file", (long)readlink("/s/a", target, sizeof target));
    st("l", "/s/l", 1);
    st("l no-follow", "/s/l", 0);
    st("ld/", "/s/ld/", 0);
    res("open l O_NOFOLLOW", open("/s/l", O_RDONLY | O_NOFOLLOW));
    res("unlink ld/", unlink("/s/ld/"));
    res("rmdir ld", rmdir("/s/ld"));
    res("unlink d", unlink("/s/d"));
    res("rmdir a", rmdir("/s/a"));
    res("rmdir d (not empty)", rmdir("/s/d"));
    res("symlink dangling", symlink("nowhere", "/s/dl"));
    st("dl", "/s/dl", 1);
    st("dl no-follow", "/s/dl", 0);
    res("mkdir through dangling/", mkdir("/s/dl/", 0755));

    /* Escapes: the sandbox answers, never the host. */
    res("symlink out", symlink("../../..", "/s/out"));
    res("open through out", open("/s/out/etc/passwd", O_RDONLY));
    res("open ..", open("/s/../etc/passwd", O_RDONLY));
    res("stat through out", stat("/s/out/", &s));
    res("unlink out", unlink("/s/out"));

    /* Renames and times. */
    res("rename a d/b", rename("/s/a", "/s/d/b"));
    res("rename missing", rename("/s/a", "/s/c"));
    res("rename file over dir", rename("/s/d/b", "/s/d"));
    struct timespec times[2] = {{1000000000, 0}, {1500000000, 250}};
    res("utimensat", utimensat(AT_FDCWD, "/s/d/b", times, 0));
    res("stat mtime", stat("/s/d/b", &s) < 0 ? -1 : (long)s.st_mtim.tv_sec);
    ls("/s");
    ls("/s/d");

    /* The read-only pre-open. */
    show("/ro/ro.txt");
    res("ro: create", open("/ro/new", O_WRONLY | O_CREAT, 0644));
    res("ro: write open", open("/ro/ro.txt", O_WRONLY));
    res("ro: truncate open", open("/ro/ro.txt", O_RDONLY | O_TRUNC));
    res("ro: mkdir", mkdir("/ro/x", 0755));
    res("ro: unlink", unlink("/ro/ro.txt"));
    res("ro: rename out", rename("/ro/ro.txt", "/s/stolen"));
    ls("/ro");

    /* Clean up, keeping one directory and file. */
    res("unlink l", unlink("/s/l"));
    res("unlink dl", unlink("/s/dl"));
    res("unlink ld", unlink("/s/ld"));
    res("unlink d/h", unlink("/s/d/h"));
    res("rename d kept", rename("/s/d", "/s/kept"));
    res("rename b data", rename("/s/kept/b", "/s/kept/data"));
    ls("/s");
    return 0;
}
