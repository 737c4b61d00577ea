/* File operations through wasi-libc in the pre-opened directory /work:
 * create, write, read, seek, tell, positional I/O, append, truncate, rename,
 * readdir, mkdir/rmdir, unlink, symlinks, hard links and times. The driver
 * checks what is left behind in the host directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "guest.h"

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL, "fopen %s: %s", path, strerror(errno));
    if (f) {
        CHECK(fputs(text, f) >= 0, "fputs %s", path);
        CHECK(fclose(f) == 0, "fclose %s", path);
    }
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    char buf[256];

    /* Create, read back, seek, tell. */
    put("/work/a.txt", "hello\nworld\n");
    FILE *f = fopen("/work/a.txt", "r+");
    CHECK(f != NULL, "fopen r+: %s", strerror(errno));
    CHECK(fgets(buf, sizeof buf, f) && strcmp(buf, "hello\n") == 0, "first line [%s]", buf);
    CHECK(fseek(f, 0, SEEK_END) == 0 && ftell(f) == 12, "size by seek: %ld", ftell(f));
    CHECK(fseek(f, 6, SEEK_SET) == 0 && fgets(buf, sizeof buf, f) && strcmp(buf, "world\n") == 0,
          "read at 6 [%s]", buf);
    fclose(f);

    /* Positional I/O leaves the offset alone. */
    int fd = open("/work/a.txt", O_RDWR);
    CHECK(fd >= 0, "open O_RDWR: %s", strerror(errno));
    CHECK(pwrite(fd, "HELLO", 5, 0) == 5, "pwrite");
    CHECK(lseek(fd, 0, SEEK_CUR) == 0, "offset after pwrite");
    memset(buf, 0, sizeof buf);
    CHECK(pread(fd, buf, sizeof buf - 1, 0) == 12 && strcmp(buf, "HELLO\nworld\n") == 0,
          "pread [%s]", buf);
    CHECK(lseek(fd, -6, SEEK_END) == 6, "seek from end");
    CHECK(read(fd, buf, 5) == 5 && memcmp(buf, "world", 5) == 0, "read after seek");
    CHECK(lseek(fd, -100, SEEK_CUR) == -1 && errno == EINVAL, "seek before start: %s",
          strerror(errno));
    close(fd);

    /* Append mode writes at the end whatever the offset. */
    fd = open("/work/a.txt", O_WRONLY | O_APPEND);
    CHECK(fd >= 0, "open O_APPEND");
    lseek(fd, 0, SEEK_SET);
    CHECK(write(fd, "more\n", 5) == 5, "append write");
    CHECK(fcntl(fd, F_GETFL) & O_APPEND, "F_GETFL shows O_APPEND");
    close(fd);
    struct stat st;
    CHECK(stat("/work/a.txt", &st) == 0 && st.st_size == 17, "size after append %lld",
          (long long)st.st_size);

    /* Truncate, rename. */
    CHECK(truncate("/work/a.txt", 5) == 0, "truncate: %s", strerror(errno));
    CHECK(rename("/work/a.txt", "/work/b.txt") == 0, "rename: %s", strerror(errno));
    CHECK(stat("/work/a.txt", &st) != 0 && errno == ENOENT, "old name gone");
    CHECK(stat("/work/b.txt", &st) == 0 && st.st_size == 5 && S_ISREG(st.st_mode),
          "new name, size 5");

    /* Exclusive create of an existing file. */
    CHECK(open("/work/b.txt", O_WRONLY | O_CREAT | O_EXCL, 0644) < 0 && errno == EEXIST,
          "O_EXCL on existing: %s", strerror(errno));

    /* A directory and its listing. */
    CHECK(mkdir("/work/dir", 0755) == 0, "mkdir: %s", strerror(errno));
    CHECK(mkdir("/work/dir", 0755) != 0 && errno == EEXIST, "mkdir twice");
    put("/work/dir/x", "x");
    put("/work/dir/y", "y");
    put("/work/dir/z", "z");
    DIR *d = opendir("/work/dir");
    CHECK(d != NULL, "opendir: %s", strerror(errno));
    char *names[16];
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) && n < 16)
        names[n++] = strdup(e->d_name);
    if (d)
        closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp);
    printf("listing:");
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
    CHECK(opendir("/work/b.txt") == NULL && errno == ENOTDIR, "opendir of a file");

    CHECK(rename("/work/dir/x", "/work/dir/renamed.txt") == 0, "rename in dir");
    CHECK(unlink("/work/dir/y") == 0, "unlink: %s", strerror(errno));
    CHECK(rmdir("/work/dir") != 0 && errno == ENOTEMPTY, "rmdir non-empty: %s", strerror(errno));
    CHECK(mkdir("/work/gone", 0755) == 0 && rmdir("/work/gone") == 0, "mkdir + rmdir");

    /* Symbolic and hard links. */
    CHECK(symlink("b.txt", "/work/link") == 0, "symlink: %s", strerror(errno));
    ssize_t len = readlink("/work/link", buf, sizeof buf);
    CHECK(len == 5 && memcmp(buf, "b.txt", 5) == 0, "readlink");
    CHECK(lstat("/work/link", &st) == 0 && S_ISLNK(st.st_mode), "lstat sees the link");
    CHECK(stat("/work/link", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 5,
          "stat follows the link");
    CHECK(link("/work/b.txt", "/work/hard") == 0, "link: %s", strerror(errno));
    CHECK(stat("/work/b.txt", &st) == 0 && st.st_nlink == 2, "nlink %d", (int)st.st_nlink);

    /* Times. */
    struct timeval tv[2] = {{1000000000, 0}, {1000000000, 0}};
    CHECK(utimes("/work/b.txt", tv) == 0, "utimes: %s", strerror(errno));
    CHECK(stat("/work/b.txt", &st) == 0 && st.st_mtim.tv_sec == 1000000000, "mtime %lld",
          (long long)st.st_mtim.tv_sec);

    /* A larger file, written and read in pieces. */
    static unsigned char big[1 << 20], back[1 << 20];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (unsigned char)(i * 7 + (i >> 12));
    f = fopen("/work/big.bin", "w");
    CHECK(f && fwrite(big, 1, sizeof big, f) == sizeof big && fclose(f) == 0, "write 1 MiB");
    f = fopen("/work/big.bin", "r");
    CHECK(f && fread(back, 1, sizeof back, f) == sizeof back && fgetc(f) == EOF, "read 1 MiB");
    if (f)
        fclose(f);
    CHECK(memcmp(big, back, sizeof big) == 0, "1 MiB round trip");
    CHECK(unlink("/work/big.bin") == 0, "unlink big");

    put("/work/kept.txt", "kept\n");
    return done("files");
}
