/* poll_oneoff on descriptors: stdin (the driver pipes "ping\n" into it),
 * stdout, a regular file, a bad descriptor, and a clock alongside. */
#include <string.h>

#include "guest.h"

typedef struct {
    uint64_t userdata;
    uint8_t tag, pad[7];
    uint32_t a, pad2;
    uint64_t timeout, precision;
    uint16_t flags, pad3[3];
} sub_t;
typedef struct {
    uint64_t userdata;
    uint16_t error;
    uint8_t type, pad[5];
    uint64_t nbytes;
    uint16_t flags, pad2[3];
} event_t;

static sub_t fd_sub(uint64_t ud, int type, int fd)
{
    sub_t s = {0};
    s.userdata = ud;
    s.tag = (uint8_t)type;
    s.a = (uint32_t)fd;
    return s;
}

static const event_t *find(const event_t *ev, uint32_t n, uint64_t ud)
{
    for (uint32_t i = 0; i < n; i++)
        if (ev[i].userdata == ud)
            return &ev[i];
    return NULL;
}

int main(void)
{
    event_t ev[8];
    uint32_t n = 0;
    sub_t subs[4];

    /* stdin has data: readable. A 10 s clock beside it must not fire. */
    subs[0] = fd_sub(1, 1, 0);
    subs[1] = (sub_t){.userdata = 2, .tag = 0, .a = 1, .timeout = 10000000000ull};
    CHECK(raw_poll_oneoff(P(subs), P(ev), 2, P(&n)) == 0, "poll stdin");
    const event_t *e = find(ev, n, 1);
    CHECK(n == 1 && e && e->type == 1 && e->error == 0 && e->nbytes >= 1,
          "stdin readable (n=%u nbytes=%llu)", n, e ? (unsigned long long)e->nbytes : 0ull);
    char buf[16] = {0};
    uint32_t got = 0;
    CHECK(r_read(0, buf, sizeof buf - 1, &got) == 0 && got == 5 && strcmp(buf, "ping\n") == 0,
          "read stdin [%s]", buf);

    /* stdout is writable. */
    subs[0] = fd_sub(3, 2, 1);
    CHECK(raw_poll_oneoff(P(subs), P(ev), 1, P(&n)) == 0 && n == 1 && ev[0].userdata == 3 &&
              ev[0].type == 2 && ev[0].error == 0,
          "stdout writable");

    /* A regular file is always ready; reading reports what is left. */
    int32_t fd = -1;
    CHECK(r_open(3, 0, "pollfile", O_CREAT_ | O_TRUNC_, R_ALL, 0, &fd) == 0,
          "create pollfile");
    uint32_t w;
    r_write(fd, "0123456789", 10, &w);
    uint64_t pos;
    raw_fd_seek(fd, 4, 0, P(&pos));
    subs[0] = fd_sub(4, 1, fd);
    subs[1] = fd_sub(5, 2, fd);
    CHECK(raw_poll_oneoff(P(subs), P(ev), 2, P(&n)) == 0 && n == 2, "file ready (n=%u)", n);
    e = find(ev, n, 4);
    CHECK(e && e->nbytes == 6 && e->error == 0, "6 bytes left to read");
    e = find(ev, n, 5);
    CHECK(e && e->type == 2 && e->error == 0, "file writable");

    /* Bad descriptors fail the whole call, like wasmtime. */
    subs[0] = fd_sub(6, 1, 999);
    CHECK_ERRNO(raw_poll_oneoff(P(subs), P(ev), 1, P(&n)), E_BADF);
    subs[0] = fd_sub(6, 1, 3); /* a directory */
    CHECK_ERRNO(raw_poll_oneoff(P(subs), P(ev), 1, P(&n)), E_BADF);
    /* Reading readiness of a write-only descriptor: an event with EBADF. */
    subs[0] = fd_sub(7, 1, 1);
    CHECK(raw_poll_oneoff(P(subs), P(ev), 1, P(&n)) == 0 && n == 1 && ev[0].error == E_BADF,
          "stdout is not readable");
    raw_fd_close(fd);
    r_unlink(3, "pollfile");
    return done("poll");
}
