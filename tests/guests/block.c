/* A guest that blocks in WASI I/O until its deadline ends it: each mode
 * waits on something that never comes, so a run must end with the
 * `interrupt` trap at the store's deadline (exit 142 under `whirl run -W
 * timeout=...`, 504 under `whirl serve --timeout`). Modes:
 *   read-stdin        read from fd 0 (a pipe or fifo nobody writes to)
 *   write-stdout      write to fd 1 until the pipe nobody reads is full
 *   read-fifo PATH    open PATH read-only and read (nobody writes)
 *   rw-read PATH      open PATH read-write (so a writer exists: itself) and read
 *   rw-write PATH     open PATH read-write and write until the fifo is full
 *   hello             answer at once (CGI headers and a line)
 * A mode that returns instead of blocking prints what it got and exits 3. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int got(const char *what, long n, int err)
{
    printf("Content-Type: text/plain\n\n%s returned %ld (errno %d)\n", what, n, err);
    return 3;
}

static int read_fd(int fd, const char *what)
{
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf);
    return got(what, (long)n, n < 0 ? errno : 0);
}

static int fill(int fd, const char *what)
{
    static char buf[65536];
    memset(buf, 'x', sizeof buf);
    for (int i = 0; i < 1024; i++) { /* 64 MiB: far past any pipe buffer */
        ssize_t n = write(fd, buf, sizeof buf);
        if (n < 0)
            return got(what, (long)n, errno);
    }
    return got(what, 64l << 20, 0);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    const char *path = argc > 2 ? argv[2] : "";
    if (!strcmp(mode, "hello")) {
        printf("Content-Type: text/plain\n\nhello from block\n");
        return 0;
    }
    if (!strcmp(mode, "read-stdin"))
        return read_fd(0, "read(stdin)");
    if (!strcmp(mode, "write-stdout"))
        return fill(1, "write(stdout)");
    int flags = !strcmp(mode, "read-fifo") ? O_RDONLY : O_RDWR;
    int fd = open(path, flags);
    if (fd < 0)
        return got("open", -1, errno);
    if (!strcmp(mode, "read-fifo") || !strcmp(mode, "rw-read"))
        return read_fd(fd, "read(fifo)");
    if (!strcmp(mode, "rw-write"))
        return fill(fd, "write(fifo)");
    fprintf(stderr, "block: unknown mode '%s'\n", mode);
    return 2;
}
