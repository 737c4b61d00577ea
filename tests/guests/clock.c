/* Clocks, sleeping and poll_oneoff clock subscriptions. Only lower bounds
 * on elapsed time are checked: a sleep may last longer, never shorter. */
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"

enum { REALTIME = 0, MONOTONIC = 1, PROCESS_CPU = 2, THREAD_CPU = 3 };

static uint64_t now(int id)
{
    uint64_t t = 0;
    raw_clock_time_get(id, 1, P(&t));
    return t;
}

typedef struct {
    uint64_t userdata;
    uint8_t tag, pad[7];
    uint32_t id, pad2;
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
_Static_assert(sizeof(sub_t) == 48, "subscription layout");
_Static_assert(sizeof(event_t) == 32, "event layout");

static sub_t clock_sub(uint64_t userdata, int id, uint64_t timeout, int abstime)
{
    sub_t s = {0};
    s.userdata = userdata;
    s.tag = 0;
    s.id = (uint32_t)id;
    s.timeout = timeout;
    s.flags = abstime ? 1 : 0;
    return s;
}

int main(void)
{
    uint64_t t, res;
    for (int id = 0; id < 4; id++) {
        CHECK(raw_clock_res_get(id, P(&res)) == 0 && res > 0 && res <= 1000000000u,
              "clock_res_get(%d) = %llu", id, (unsigned long long)res);
        CHECK(raw_clock_time_get(id, 0, P(&t)) == 0, "clock_time_get(%d)", id);
    }
    CHECK_ERRNO(raw_clock_time_get(4, 0, P(&t)), E_INVAL);
    CHECK_ERRNO(raw_clock_res_get(99, P(&t)), E_INVAL);
    /* The wall clock is past 2020-01-01, and libc agrees with it. */
    CHECK(now(REALTIME) > 1577836800ull * 1000000000u, "realtime");
    struct timespec ts;
    CHECK(clock_gettime(CLOCK_REALTIME, &ts) == 0 && ts.tv_sec > 1577836800, "libc realtime");
    uint64_t a = now(MONOTONIC), b = now(MONOTONIC);
    CHECK(b >= a, "monotonic goes forward");
    /* CPU time grows with work. */
    uint64_t c0 = now(PROCESS_CPU);
    volatile uint64_t x = 0;
    for (uint64_t i = 0; i < 3000000; i++)
        x += i;
    CHECK(now(PROCESS_CPU) > c0 && now(THREAD_CPU) > 0, "cputime advances");

    /* nanosleep and sleep go through poll_oneoff. */
    a = now(MONOTONIC);
    struct timespec d = {0, 50 * 1000000};
    CHECK(nanosleep(&d, NULL) == 0, "nanosleep");
    CHECK(now(MONOTONIC) - a >= 50000000u, "slept 50 ms");
    a = now(MONOTONIC);
    CHECK(usleep(20000) == 0, "usleep");
    CHECK(now(MONOTONIC) - a >= 20000000u, "slept 20 ms");

    /* poll_oneoff: relative, absolute, and the earlier of two clocks. */
    event_t ev[4];
    uint32_t nev = 0;
    sub_t subs[2];
    a = now(MONOTONIC);
    subs[0] = clock_sub(7, MONOTONIC, a + 30000000u, 1);
    CHECK(raw_poll_oneoff(P(subs), P(ev), 1, P(&nev)) == 0 && nev == 1 && ev[0].userdata == 7 &&
              ev[0].error == 0 && ev[0].type == 0,
          "absolute monotonic deadline");
    CHECK(now(MONOTONIC) >= a + 30000000u, "reached the absolute deadline");
    a = now(MONOTONIC);
    subs[0] = clock_sub(1, REALTIME, 10000000u, 0);
    subs[1] = clock_sub(2, MONOTONIC, 60000000000ull, 0);
    CHECK(raw_poll_oneoff(P(subs), P(ev), 2, P(&nev)) == 0 && nev == 1 && ev[0].userdata == 1,
          "earlier clock fires alone (nev=%u)", nev);
    CHECK(now(MONOTONIC) - a >= 10000000u && now(MONOTONIC) - a < 60000000000ull,
          "woke at the earlier clock");
    subs[0] = clock_sub(3, REALTIME, now(REALTIME) - 1000, 1); /* already past */
    CHECK(raw_poll_oneoff(P(subs), P(ev), 1, P(&nev)) == 0 && nev == 1 && ev[0].userdata == 3,
          "past absolute realtime");
    subs[0] = clock_sub(4, MONOTONIC, 0, 0);
    subs[1] = clock_sub(5, MONOTONIC, 0, 0);
    CHECK(raw_poll_oneoff(P(subs), P(ev), 2, P(&nev)) == 0 && nev == 2 && ev[0].userdata == 4 &&
              ev[1].userdata == 5,
          "two zero timeouts");
    CHECK_ERRNO(raw_poll_oneoff(P(subs), P(ev), 0, P(&nev)), E_INVAL);
    subs[0] = clock_sub(6, PROCESS_CPU, 1000, 0);
    CHECK_ERRNO(raw_poll_oneoff(P(subs), P(ev), 1, P(&nev)), E_INVAL);
    subs[0] = clock_sub(6, MONOTONIC, 0, 0);
    subs[0].tag = 9;
    CHECK_ERRNO(raw_poll_oneoff(P(subs), P(ev), 1, P(&nev)), E_INVAL);
    CHECK_ERRNO(raw_sched_yield(), 0);
    return done("clock");
}
