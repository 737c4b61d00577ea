/* WASI preview-1 waits inside resumable calls (src/wasi/reactor.c): a
 * guest that poll_oneoff-waits on its stdin pipe and a clock suspends its
 * call (PENDING) instead of blocking the thread, and is resumed when the
 * reactor sees the pipe readable, the clock pass, or the store's deadline
 * (then the `interrupt` trap). 100 such guests wait at once on one thread.
 * wasi2's waits (pollable.block, through whirl_wasi2_block) the same way.
 * Also run under ASan and TSan (.ci/run). */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "whirl.h"
#include "whirl/wasi2.h"

static int passed, failed;

#define CHECK(cond, ...)                                          \
    do {                                                          \
        if (cond) {                                               \
            passed++;                                             \
        } else {                                                  \
            failed++;                                             \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            printf(__VA_ARGS__);                                  \
            printf("\n");                                         \
        }                                                         \
    } while (0)

static void die_on(whirl_error_t *err, const char *what)
{
    if (err) {
        printf("FAIL %s: %s\n", what, whirl_error_message(err));
        exit(1);
    }
}

/* Assembled with wat2wasm from:
 * (module
 *   (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
 *   (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
 *   (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
 *   (memory (export "memory") 1)
 *   (func (export "run") (param $timeout i64) (result i32)
 *     (local $r i32)
 *     (i64.store (i32.const 0) (i64.const 7))
 *     (i32.store8 (i32.const 8) (i32.const 1))
 *     (i32.store (i32.const 16) (i32.const 0))
 *     (i64.store (i32.const 48) (i64.const 9))
 *     (i32.store8 (i32.const 56) (i32.const 0))
 *     (i32.store (i32.const 64) (i32.const 1))
 *     (i64.store (i32.const 72) (local.get $timeout))
 *     (i64.store (i32.const 80) (i64.const 0))
 *     (i32.store16 (i32.const 88) (i32.const 0))
 *     (local.set $r (call $poll (i32.const 0) (i32.const 128) (i32.const 2) (i32.const 200)))
 *     (if (local.get $r) (then (return (i32.add (i32.const 1000) (local.get $r)))))
 *     (if (i64.ne (i64.load (i32.const 128)) (i64.const 7))
 *       (then (return (i32.wrap_i64 (i64.load (i32.const 128))))))
 *     (i32.store (i32.const 208) (i32.const 1024))
 *     (i32.store (i32.const 212) (i32.const 256))
 *     (local.set $r (call $read (i32.const 0) (i32.const 208) (i32.const 1) (i32.const 216)))
 *     (if (local.get $r) (then (return (i32.add (i32.const 2000) (local.get $r)))))
 *     (i32.store (i32.const 224) (i32.const 1024))
 *     (i32.store (i32.const 228) (i32.load (i32.const 216)))
 *     (local.set $r (call $write (i32.const 1) (i32.const 224) (i32.const 1) (i32.const 232)))
 *     (if (local.get $r) (then (return (i32.add (i32.const 3000) (local.get $r)))))
 *     (i32.const 7)))
 * run(timeout) waits for stdin or the clock; on stdin it echoes one read
 * to stdout and returns 7, on the clock it returns 9, on an error
 * 1000/2000/3000 + errno. */
static const unsigned char GUEST_WASM[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0e, 0x02, 0x60,
    0x04, 0x7f, 0x7f, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7e, 0x01, 0x7f,
    0x02, 0x69, 0x03, 0x16, 0x77, 0x61, 0x73, 0x69, 0x5f, 0x73, 0x6e, 0x61,
    0x70, 0x73, 0x68, 0x6f, 0x74, 0x5f, 0x70, 0x72, 0x65, 0x76, 0x69, 0x65,
    0x77, 0x31, 0x0b, 0x70, 0x6f, 0x6c, 0x6c, 0x5f, 0x6f, 0x6e, 0x65, 0x6f,
    0x66, 0x66, 0x00, 0x00, 0x16, 0x77, 0x61, 0x73, 0x69, 0x5f, 0x73, 0x6e,
    0x61, 0x70, 0x73, 0x68, 0x6f, 0x74, 0x5f, 0x70, 0x72, 0x65, 0x76, 0x69,
    0x65, 0x77, 0x31, 0x07, 0x66, 0x64, 0x5f, 0x72, 0x65, 0x61, 0x64, 0x00,
    0x00, 0x16, 0x77, 0x61, 0x73, 0x69, 0x5f, 0x73, 0x6e, 0x61, 0x70, 0x73,
    0x68, 0x6f, 0x74, 0x5f, 0x70, 0x72, 0x65, 0x76, 0x69, 0x65, 0x77, 0x31,
    0x08, 0x66, 0x64, 0x5f, 0x77, 0x72, 0x69, 0x74, 0x65, 0x00, 0x00, 0x03,
    0x02, 0x01, 0x01, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x10, 0x02, 0x06,
    0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x03, 0x72, 0x75, 0x6e,
    0x00, 0x03, 0x0a, 0xd5, 0x01, 0x01, 0xd2, 0x01, 0x01, 0x01, 0x7f, 0x41,
    0x00, 0x42, 0x07, 0x37, 0x03, 0x00, 0x41, 0x08, 0x41, 0x01, 0x3a, 0x00,
    0x00, 0x41, 0x10, 0x41, 0x00, 0x36, 0x02, 0x00, 0x41, 0x30, 0x42, 0x09,
    0x37, 0x03, 0x00, 0x41, 0x38, 0x41, 0x00, 0x3a, 0x00, 0x00, 0x41, 0xc0,
    0x00, 0x41, 0x01, 0x36, 0x02, 0x00, 0x41, 0xc8, 0x00, 0x20, 0x00, 0x37,
    0x03, 0x00, 0x41, 0xd0, 0x00, 0x42, 0x00, 0x37, 0x03, 0x00, 0x41, 0xd8,
    0x00, 0x41, 0x00, 0x3b, 0x01, 0x00, 0x41, 0x00, 0x41, 0x80, 0x01, 0x41,
    0x02, 0x41, 0xc8, 0x01, 0x10, 0x00, 0x21, 0x01, 0x20, 0x01, 0x04, 0x40,
    0x41, 0xe8, 0x07, 0x20, 0x01, 0x6a, 0x0f, 0x0b, 0x41, 0x80, 0x01, 0x29,
    0x03, 0x00, 0x42, 0x07, 0x52, 0x04, 0x40, 0x41, 0x80, 0x01, 0x29, 0x03,
    0x00, 0xa7, 0x0f, 0x0b, 0x41, 0xd0, 0x01, 0x41, 0x80, 0x08, 0x36, 0x02,
    0x00, 0x41, 0xd4, 0x01, 0x41, 0x80, 0x02, 0x36, 0x02, 0x00, 0x41, 0x00,
    0x41, 0xd0, 0x01, 0x41, 0x01, 0x41, 0xd8, 0x01, 0x10, 0x01, 0x21, 0x01,
    0x20, 0x01, 0x04, 0x40, 0x41, 0xd0, 0x0f, 0x20, 0x01, 0x6a, 0x0f, 0x0b,
    0x41, 0xe0, 0x01, 0x41, 0x80, 0x08, 0x36, 0x02, 0x00, 0x41, 0xe4, 0x01,
    0x41, 0xd8, 0x01, 0x28, 0x02, 0x00, 0x36, 0x02, 0x00, 0x41, 0x01, 0x41,
    0xe0, 0x01, 0x41, 0x01, 0x41, 0xe8, 0x01, 0x10, 0x02, 0x21, 0x01, 0x20,
    0x01, 0x04, 0x40, 0x41, 0xb8, 0x17, 0x20, 0x01, 0x6a, 0x0f, 0x0b, 0x41,
    0x07, 0x0b,
};

enum { NGUESTS = 100 };
#define LONG_WAIT_NS 60000000000ll /* a clock that never fires in a test */

typedef struct guest {
    int in[2], out[2]; /* stdin and stdout pipes */
    whirl_wasi_t *wasi;
    whirl_linker_t *linker;
    whirl_store_t *store;
    whirl_func_t *run;
    whirl_call_t *call;
} guest_t;

static void guest_new(whirl_engine_t *engine, whirl_module_t *module, guest_t *g)
{
    memset(g, 0, sizeof *g);
    if (pipe2(g->in, O_CLOEXEC) || pipe2(g->out, O_CLOEXEC)) {
        printf("FAIL pipe: %s\n", strerror(errno));
        exit(1);
    }
    whirl_wasi_config_t *cfg = whirl_wasi_config_new();
    die_on(whirl_wasi_config_set_stdio(cfg, g->in[0], g->out[1], -1), "stdio");
    die_on(whirl_wasi_new(cfg, &g->wasi), "wasi");
    g->linker = whirl_linker_new(engine);
    die_on(whirl_linker_define_wasi(g->linker, g->wasi), "define wasi");
    g->store = whirl_store_new(engine, NULL, NULL);
    whirl_instance_t *inst;
    die_on(whirl_linker_instantiate(g->linker, g->store, module, &inst), "instantiate");
    whirl_extern_t e;
    if (!whirl_instance_export(inst, "run", 3, &e) || e.kind != WHIRL_EXTERN_FUNC) {
        printf("FAIL no export run\n");
        exit(1);
    }
    g->run = e.of.func;
}

static void guest_delete(guest_t *g)
{
    whirl_call_delete(g->call);
    whirl_store_delete(g->store);
    whirl_linker_delete(g->linker);
    whirl_wasi_delete(g->wasi);
    for (int i = 0; i < 2; i++)
        close(g->in[i]), close(g->out[i]);
}

static whirl_call_t *start(guest_t *g, int64_t timeout_ns, whirl_ready_queue_t *q)
{
    whirl_val_t arg = {.kind = WHIRL_I64, .of.i64 = timeout_ns};
    die_on(whirl_call_new(g->store, g->run, &arg, 1, 1, &g->call), "call_new");
    if (q)
        whirl_ready_queue_watch(q, g->call);
    return g->call;
}

/* The next ready call: waits on the queue's descriptor (an event, with a
 * generous bound so that a bug fails instead of hanging). */
static whirl_call_t *next_ready(whirl_ready_queue_t *q)
{
    for (;;) {
        whirl_call_t *c = whirl_ready_queue_pop(q);
        if (c)
            return c;
        struct pollfd p = {.fd = whirl_ready_queue_fd(q), .events = POLLIN};
        int r = poll(&p, 1, 30000);
        if (r == 0)
            return NULL;
    }
}

static int32_t result_of(guest_t *g, whirl_error_t **err)
{
    whirl_val_t v = {0};
    *err = whirl_call_results(g->call, &v, 1);
    return *err ? -1 : v.of.i32;
}

static void shuffle(int *a, int n, unsigned *seed)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(rand_r(seed) % (unsigned)(i + 1)), t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

/* The synchronous path is today's: data already there, then a clock. */
static void test_sync(whirl_engine_t *engine, whirl_module_t *module)
{
    guest_t g;
    guest_new(engine, module, &g);
    CHECK(write(g.in[1], "sync\n", 5) == 5, "write");
    whirl_val_t arg = {.kind = WHIRL_I64, .of.i64 = LONG_WAIT_NS}, res = {0};
    whirl_error_t *err = whirl_func_call(g.store, g.run, &arg, 1, &res, 1);
    CHECK(!err && res.of.i32 == 7, "sync echo: %d %s", res.of.i32,
          err ? whirl_error_message(err) : "");
    whirl_error_delete(err);
    char buf[16] = {0};
    CHECK(read(g.out[0], buf, sizeof buf - 1) == 5 && !strcmp(buf, "sync\n"), "sync out [%s]",
          buf);
    arg.of.i64 = 1000000; /* 1 ms: the clock fires, the thread blocked meanwhile */
    err = whirl_func_call(g.store, g.run, &arg, 1, &res, 1);
    CHECK(!err && res.of.i32 == 9, "sync clock: %d", res.of.i32);
    whirl_error_delete(err);
    guest_delete(&g);
}

/* NGUESTS guests pending at once on this thread, woken one by one as the
 * test writes to their pipes in random order. */
static void test_many(whirl_engine_t *engine, whirl_module_t *module, whirl_ready_queue_t *q)
{
    static guest_t g[NGUESTS];
    int pending = 0;
    for (int i = 0; i < NGUESTS; i++) {
        guest_new(engine, module, &g[i]);
        pending += whirl_call_resume(start(&g[i], LONG_WAIT_NS, q)) == WHIRL_CALL_PENDING;
    }
    CHECK(pending == NGUESTS, "%d of %d pending at once", pending, NGUESTS);
    CHECK(whirl_ready_queue_pop(q) == NULL, "none ready before data");
    int order[NGUESTS];
    for (int i = 0; i < NGUESTS; i++)
        order[i] = i;
    unsigned seed = 17;
    shuffle(order, NGUESTS, &seed);
    int right_one = 0, done = 0, echoed = 0;
    for (int k = 0; k < NGUESTS; k++) {
        int i = order[k];
        char msg[32];
        int len = snprintf(msg, sizeof msg, "guest %d at %d\n", i, k);
        if (write(g[i].in[1], msg, (size_t)len) != len)
            break;
        whirl_call_t *c = next_ready(q);
        right_one += c == g[i].call;
        if (!c)
            break;
        done += whirl_call_resume(c) == WHIRL_CALL_DONE;
        whirl_error_t *err;
        int32_t r = result_of(&g[i], &err);
        char out[64] = {0};
        ssize_t got = read(g[i].out[0], out, sizeof out - 1);
        echoed += r == 7 && got == len && !memcmp(out, msg, (size_t)len);
        if (err)
            printf("guest %d: %s\n", i, whirl_error_message(err));
        whirl_error_delete(err);
    }
    CHECK(right_one == NGUESTS, "%d of %d woken in the order their pipes got data", right_one,
          NGUESTS);
    CHECK(done == NGUESTS, "%d of %d done", done, NGUESTS);
    CHECK(echoed == NGUESTS, "%d of %d echoed their input", echoed, NGUESTS);
    for (int i = 0; i < NGUESTS; i++)
        guest_delete(&g[i]);
}

/* Runs `call` to its end: resumed once, then, if pending, again when the
 * queue says it is ready (which must be this call). A timer can pass
 * before the wait begins on a loaded machine: then the call ends without
 * suspending, which is reported, not failed (no timed assertions). */
static whirl_call_status_t run_to_end(whirl_call_t *call, whirl_ready_queue_t *q, const char *what)
{
    whirl_call_status_t s = whirl_call_resume(call);
    if (s != WHIRL_CALL_PENDING) {
        printf("note: %s ended before it suspended (a slow machine)\n", what);
        return s;
    }
    whirl_call_t *c = next_ready(q);
    CHECK(c == call, "%s woke its call", what);
    return c ? whirl_call_resume(c) : s;
}

/* A clock alone ends the wait: the reactor's timer wakes the call. */
static void test_clock(whirl_engine_t *engine, whirl_module_t *module, whirl_ready_queue_t *q)
{
    guest_t g;
    guest_new(engine, module, &g);
    whirl_call_status_t s = run_to_end(start(&g, 100 * 1000 * 1000, q), q, "a 100 ms clock");
    whirl_error_t *err;
    int32_t r = result_of(&g, &err);
    CHECK(s == WHIRL_CALL_DONE && r == 9, "clock fired: status %d result %d", (int)s, r);
    whirl_error_delete(err);
    guest_delete(&g);
}

/* The store's deadline passes during a suspended wait: the reactor wakes
 * the call at the deadline and it ends with the `interrupt` trap. */
static void test_deadline(whirl_engine_t *engine, whirl_module_t *module, whirl_ready_queue_t *q)
{
    guest_t g;
    guest_new(engine, module, &g);
    die_on(whirl_store_set_deadline(g.store, whirl_monotonic_now() + 100 * 1000 * 1000), "dl");
    whirl_call_status_t s = run_to_end(start(&g, LONG_WAIT_NS, q), q, "a 100 ms deadline");
    whirl_error_t *err;
    result_of(&g, &err);
    whirl_trap_code_t code = 0;
    CHECK(s == WHIRL_CALL_DONE && err && whirl_error_is_trap(err, &code) &&
              code == WHIRL_TRAP_INTERRUPT,
          "interrupt trap: %s", err ? whirl_error_message(err) : "no error");
    whirl_error_delete(err);
    guest_delete(&g);
}

/* A pending wait cancelled by deleting its call leaves the reactor clean
 * (ASan: the reactor never touches the gone wait); the guest's pipe then
 * gets data, which no one must see. */
static void test_cancel(whirl_engine_t *engine, whirl_module_t *module, whirl_ready_queue_t *q)
{
    guest_t g;
    guest_new(engine, module, &g);
    whirl_call_status_t s = whirl_call_resume(start(&g, LONG_WAIT_NS, q));
    CHECK(s == WHIRL_CALL_PENDING, "cancel: pending %d", (int)s);
    whirl_call_delete(g.call);
    g.call = NULL;
    CHECK(write(g.in[1], "late\n", 5) == 5, "write after cancel");
    /* Another guest's wait goes through the reactor after it. */
    test_clock(engine, module, q);
    CHECK(whirl_ready_queue_pop(q) == NULL, "the cancelled call never shows up");
    guest_delete(&g);
}

/* ---- wasi2: pollable.block inside resumable host calls ---- */

typedef struct block_job {
    whirl_wasi2_t *w;
    whirl_store_t *store;
    uint32_t pollable;
    int fd; /* the pipe the pollable watches, -1 for a deadline */
    whirl_call_t *call;
} block_job_t;

static bool pipe_ready(void *env)
{
    struct pollfd p = {.fd = ((block_job_t *)env)->fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1;
}

static int pipe_wait_fd(void *env, short *events)
{
    *events = POLLIN;
    return ((block_job_t *)env)->fd;
}

static const whirl_wasi2_pollable_ops_t pipe_ops = {.ready = pipe_ready, .wait_fd = pipe_wait_fd};

static whirl_error_t *block_body(void *env)
{
    block_job_t *j = env;
    return whirl_wasi2_block(j->w, j->store, j->pollable);
}

enum { NBLOCKS = 20 };

static void test_wasi2(whirl_engine_t *engine, whirl_ready_queue_t *q)
{
    static block_job_t jobs[NBLOCKS + 2];
    int pipes[NBLOCKS][2];
    int pending = 0;
    for (int i = 0; i < NBLOCKS + 2; i++) {
        block_job_t *j = &jobs[i];
        whirl_wasi2_config_t *cfg = whirl_wasi2_config_new();
        die_on(whirl_wasi2_new(cfg, &j->w), "wasi2");
        j->store = whirl_store_new(engine, NULL, NULL);
        j->fd = -1;
        if (i < NBLOCKS) {
            if (pipe2(pipes[i], O_CLOEXEC)) {
                printf("FAIL pipe\n");
                exit(1);
            }
            j->fd = pipes[i][0];
            die_on(whirl_wasi2_pollable_new(j->w, &pipe_ops, j, &j->pollable), "pollable");
        } else {
            /* NBLOCKS: a 100 ms clock; NBLOCKS + 1: the store's deadline
             * (set when it runs) before a long clock. */
            uint64_t now = whirl_monotonic_now();
            bool dl = i == NBLOCKS + 1;
            die_on(whirl_wasi2_pollable_deadline(j->w, now + (dl ? LONG_WAIT_NS : 100000000),
                                                 &j->pollable), "deadline pollable");
        }
        die_on(whirl_call_new_host(j->store, block_body, j, &j->call), "call_new_host");
        whirl_ready_queue_watch(q, j->call);
        if (i < NBLOCKS)
            pending += whirl_call_resume(j->call) == WHIRL_CALL_PENDING;
    }
    CHECK(pending == NBLOCKS, "wasi2: %d of %d pipe waits pending at once", pending, NBLOCKS);
    /* The clock and the store's deadline end the others' waits, with no
     * data: they are run one after the other, each waited for alone. */
    int clock_ok = 0, deadline_ok = 0;
    for (int k = NBLOCKS; k < NBLOCKS + 2; k++) {
        whirl_call_t *c = jobs[k].call;
        if (k == NBLOCKS + 1)
            die_on(whirl_store_set_deadline(jobs[k].store,
                                            whirl_monotonic_now() + 100 * 1000 * 1000), "dl");
        if (run_to_end(c, q, k == NBLOCKS ? "a wasi2 clock" : "a wasi2 store deadline") !=
            WHIRL_CALL_DONE)
            continue;
        whirl_error_t *err = whirl_call_results(c, NULL, 0);
        whirl_trap_code_t code = 0;
        if (k == NBLOCKS)
            clock_ok += !err;
        else
            deadline_ok += err && whirl_error_is_trap(err, &code) && code == WHIRL_TRAP_INTERRUPT;
        whirl_error_delete(err);
    }
    CHECK(clock_ok == 1, "wasi2: the clock pollable woke its call, done without error");
    CHECK(deadline_ok == 1, "wasi2: the store's deadline woke its call: interrupt trap");

    int order[NBLOCKS];
    for (int i = 0; i < NBLOCKS; i++)
        order[i] = i;
    unsigned seed = 42;
    shuffle(order, NBLOCKS, &seed);
    int right_one = 0, done = 0;
    for (int k = 0; k < NBLOCKS; k++) {
        int i = order[k];
        if (write(pipes[i][1], "x", 1) != 1)
            break;
        whirl_call_t *c = next_ready(q);
        right_one += c == jobs[i].call;
        if (!c)
            break;
        done += whirl_call_resume(c) == WHIRL_CALL_DONE;
        whirl_error_t *err = whirl_call_results(c, NULL, 0);
        done -= err != NULL;
        whirl_error_delete(err);
    }
    CHECK(right_one == NBLOCKS, "wasi2: %d of %d woken in order", right_one, NBLOCKS);
    CHECK(done == NBLOCKS, "wasi2: %d of %d done without error", done, NBLOCKS);
    for (int i = 0; i < NBLOCKS + 2; i++) {
        whirl_call_delete(jobs[i].call);
        whirl_store_delete(jobs[i].store);
        whirl_wasi2_delete(jobs[i].w);
        if (i < NBLOCKS)
            close(pipes[i][0]), close(pipes[i][1]);
    }
}

int main(void)
{
    whirl_config_t *config = whirl_config_new();
    whirl_config_use_env(config, false);
    whirl_engine_t *engine;
    die_on(whirl_engine_new(config, &engine), "engine");
    whirl_module_t *module;
    die_on(whirl_module_new(engine, GUEST_WASM, sizeof GUEST_WASM, &module), "module");
    whirl_ready_queue_t *q;
    die_on(whirl_ready_queue_new(&q), "queue");

    test_sync(engine, module);
    test_many(engine, module, q);
    test_clock(engine, module, q);
    test_deadline(engine, module, q);
    test_cancel(engine, module, q);
    test_wasi2(engine, q);

    whirl_ready_queue_delete(q);
    whirl_module_delete(module);
    whirl_engine_delete(engine);
    printf("test_wasi_async: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
