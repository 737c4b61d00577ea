/* Descriptors a guest may hold (issue 13, item 4). Modes:
 *   files DIR N   open DIR/f (created first) up to N times, keeping every
 *                 descriptor; print how many opened and why the next failed;
 *                 then close one and open again (the cap counts what is
 *                 held, it is not used up)
 *   dirs DIR N    open DIR N times and read its listing from the 4th entry
 *                 on each, keeping them all (host memory per listing), then
 *                 wait for a byte on stdin
 * Exits 0 when it ran to the end, whatever the counts. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

static const char *errname(int e)
{
    return e == EMFILE ? "EMFILE" : e == ENFILE ? "ENFILE" : strerror(e);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: fdcap files|dirs DIR N\n");
        return 2;
    }
    const char *dir = argv[2];
    long n = atol(argv[3]);
    char path[512];
    snprintf(path, sizeof path, "%s/f", dir);
    if (!strcmp(argv[1], "files")) {
        int fd = open(path, O_CREAT | O_WRONLY, 0644);
        if (fd < 0) {
            printf("create %s: %s\n", path, strerror(errno));
            return 1;
        }
        close(fd);
        long opened = 0;
        int last = -1, why = 0;
        for (; opened < n; opened++) {
            fd = open(path, O_RDONLY);
            if (fd < 0) {
                why = errno;
                break;
            }
            last = fd;
        }
        printf("opened %ld, then %s\n", opened, opened < n ? errname(why) : "stopped");
        if (last >= 0) {
            close(last);
            fd = open(path, O_RDONLY);
            printf("%s after a close\n", fd >= 0 ? "reopened" : errname(errno));
        }
        return 0;
    }
    if (!strcmp(argv[1], "dirs")) {
        long opened = 0;
        /* Raw fd_readdir with a small buffer: wasi-libc's opendir would
         * spend 32 KiB of guest memory per stream, the host nothing. */
        for (; opened < n; opened++) {
            int fd = open(dir, O_RDONLY | O_DIRECTORY);
            uint8_t buf[64];
            __wasi_size_t used = 0;
            __wasi_errno_t e = fd < 0 ? (__wasi_errno_t)errno
                                      : __wasi_fd_readdir(fd, buf, sizeof buf, 3, &used);
            if (e != 0) {
                printf("stream %ld: %s\n", opened, errname(e));
                break;
            }
        }
        printf("streams %ld\n", opened);
        fflush(stdout);
        /* Held until stdin gives something (or ends): the test reads our
         * resident size meanwhile. */
        char c;
        return read(0, &c, 1) < 0;
    }
    fprintf(stderr, "fdcap: unknown mode '%s'\n", argv[1]);
    return 2;
}
