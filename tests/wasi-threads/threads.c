/* A wasi-threads test guest (see mini_threads.h for why it starts its
 * threads itself). Modes, the first argument:
 *   sum      4 threads each sum a quarter of an array into their own slot
 *            and into one shared atomic total; the main thread joins them
 *            and prints both (the test compares with the native build)
 *   bound    spawns blocked threads until thread-spawn fails; prints how
 *            many started and the error, then releases and joins them
 *   trap     a thread reaches `unreachable` while main waits forever
 *   exit N   a thread calls proc_exit(N) while main waits forever
 *   spin     two threads and main spin forever (for the -W timeout) */
#ifndef __wasm__
#include <pthread.h>
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mini_threads.h"

#define NTHREADS 4
#define NVALUES (1 << 20)

static uint32_t values[NVALUES];
static uint64_t partial[NTHREADS];
static uint64_t total;

typedef struct part {
    int index;
} part_t;

static void sum_part(void *p)
{
    int i = ((part_t *)p)->index;
    uint64_t s = 0;
    for (size_t k = (size_t)i * (NVALUES / NTHREADS); k < (size_t)(i + 1) * (NVALUES / NTHREADS);
         k++)
        s += values[k];
    partial[i] = s;
    /* Also in small steps on the shared total, so that the threads' atomic
     * adds really interleave. */
    for (int step = 0; step < 1000; step++)
        __atomic_fetch_add(&total, (uint64_t)step, __ATOMIC_SEQ_CST);
    __atomic_fetch_add(&total, s, __ATOMIC_SEQ_CST);
}

static int sum(void)
{
    uint32_t x = 12345;
    for (size_t k = 0; k < NVALUES; k++) {
        x = x * 1103515245u + 12345u;
        values[k] = x >> 8;
    }
    mini_thread_t threads[NTHREADS];
    part_t parts[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        parts[i].index = i;
        int32_t tid = mini_thread_spawn(&threads[i], sum_part, &parts[i]);
        if (tid <= 0) {
            printf("spawn %d failed: %d\n", i, (int)tid);
            return 1;
        }
    }
    for (int i = 0; i < NTHREADS; i++)
        mini_thread_join(&threads[i]);
    uint64_t check = 0;
    for (int i = 0; i < NTHREADS; i++) {
        printf("part %d: %llu\n", i, (unsigned long long)partial[i]);
        check += partial[i];
    }
    printf("total: %llu (parts %llu + steps %llu)\n", (unsigned long long)total,
           (unsigned long long)check, (unsigned long long)(NTHREADS * 999ull * 1000 / 2));
    return 0;
}

#ifdef __wasm__
#define MAX_TRY 200
static int release;
static int started;

static void blocked(void *p)
{
    (void)p;
    __atomic_fetch_add(&started, 1, __ATOMIC_SEQ_CST);
    mini_wait(&release, 0);
}

static int bound(void)
{
    static mini_thread_t threads[MAX_TRY];
    int n = 0;
    int32_t err = 0;
    while (n < MAX_TRY) {
        int32_t tid = mini_thread_spawn(&threads[n], blocked, NULL);
        if (tid <= 0) {
            err = tid;
            free(threads[n].stack);
            break;
        }
        n++;
    }
    printf("spawned %d threads, then thread-spawn returned %s\n", n,
           err < 0 ? "a negative error" : "no error");
    __atomic_store_n(&release, 1, __ATOMIC_SEQ_CST);
    mini_wake_all(&release);
    for (int i = 0; i < n; i++)
        mini_thread_join(&threads[i]);
    /* The ids were positive and distinct. */
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++)
            if (threads[i].tid == threads[j].tid || threads[i].tid <= 0) {
                printf("bad thread ids %d and %d\n", (int)threads[i].tid, (int)threads[j].tid);
                return 1;
            }
    printf("joined %d threads with distinct positive ids\n", n);
    return 0;
}

static int never;
static void trap_now(void *p)
{
    (void)p;
    __builtin_trap();
}
static void exit_now(void *p) { _Exit(*(int *)p); }
static void spin_forever(void *p)
{
    (void)p;
    for (;;)
        __atomic_fetch_add(&total, 1, __ATOMIC_SEQ_CST);
}

static int one_thread_then_wait(void (*fn)(void *), void *arg)
{
    static mini_thread_t t;
    if (mini_thread_spawn(&t, fn, arg) <= 0) {
        puts("spawn failed");
        return 1;
    }
    mini_wait(&never, 0);
    return 0;
}
#endif

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "sum";
    if (strcmp(mode, "sum") == 0)
        return sum();
#ifdef __wasm__
    if (strcmp(mode, "bound") == 0)
        return bound();
    if (strcmp(mode, "trap") == 0)
        return one_thread_then_wait(trap_now, NULL);
    if (strcmp(mode, "exit") == 0) {
        static int code;
        code = argc > 2 ? atoi(argv[2]) : 1;
        return one_thread_then_wait(exit_now, &code);
    }
    if (strcmp(mode, "spin") == 0) {
        static mini_thread_t t[2];
        for (int i = 0; i < 2; i++)
            mini_thread_spawn(&t[i], spin_forever, NULL);
        spin_forever(NULL);
    }
#endif
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
}
