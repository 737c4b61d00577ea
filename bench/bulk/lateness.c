/*
 * whirl-bulk: how late a deadline is when bulk operations run past it, and
 * what small bulk operations cost (issue 13, item 2).
 *
 *   whirl-bulk [--runs N] [--small]
 *
 * lateness.*  straight-line code (no loop, no call) of one bulk operation
 *             kind repeated, interrupted 30 ms in; median and maximum over
 *             N runs of the time from the deadline to the `interrupt` trap:
 *               ticker   whirl_store_set_deadline with the default 10 ms
 *                        epoch interval, as `whirl run -W timeout` does (the
 *                        ticker's granularity and scheduling included)
 *               epoch    no ticker: another thread advances the epoch past
 *                        the deadline; the time from that increment to the
 *                        trap is whirl's own latency, the chunk in progress,
 *                        also given as CPU time of the running thread (on
 *                        a loaded machine wall time mostly measures waiting)
 * small.*     a loop of 2^24 memory.fill/memory.copy/table.fill/table.copy
 *             of a few bytes or entries: nanoseconds per iteration.
 *
 * --small measures only small.* (it also runs on builds without the chunk
 * checks, where lateness.* would run for minutes). Modules are written here
 * byte by byte. Nothing asserts a time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>

#include <whirl.h>

typedef struct {
    unsigned char *b;
    size_t n, cap;
} buf_t;

static void put(buf_t *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->b = realloc(b->b, b->cap);
        if (!b->b) {
            perror("realloc");
            exit(2);
        }
    }
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

static void byte(buf_t *b, unsigned v)
{
    unsigned char c = (unsigned char)v;
    put(b, &c, 1);
}

static void uleb(buf_t *b, uint64_t v)
{
    do {
        unsigned c = v & 0x7f;
        v >>= 7;
        byte(b, c | (v ? 0x80 : 0));
    } while (v);
}

static void sleb32(buf_t *b, int32_t v)
{
    int64_t x = v;
    for (;;) {
        unsigned c = x & 0x7f;
        x >>= 7;
        if ((x == 0 && !(c & 0x40)) || (x == -1 && (c & 0x40))) {
            byte(b, c);
            return;
        }
        byte(b, c | 0x80);
    }
}

static void section(buf_t *m, unsigned id, const buf_t *s)
{
    byte(m, id);
    uleb(m, s->n);
    put(m, s->b, s->n);
}

static void i32c(buf_t *b, int32_t v)
{
    byte(b, 0x41);
    sleb32(b, v);
}

enum kind { MEMORY_FILL, MEMORY_COPY, MEMORY_INIT, TABLE_FILL, TABLE_COPY, TABLE_INIT, KINDS };
static const char *const kind_names[KINDS] = {"memory.fill", "memory.copy", "memory.init",
                                              "table.fill", "table.copy", "table.init"};

enum { PAGES = 2048, TABLE = 100000, SEG_BYTES = 1 << 20, SEG_ITEMS = 50000 };

/* One bulk instruction of `kind` with length `n`; in a loop body `var`
 * (local 0) offsets the destination. */
static void bulk_op(buf_t *c, enum kind kind, int32_t n, bool var)
{
    if (var) {
        byte(c, 0x20), byte(c, 0); /* local.get 0 */
        i32c(c, 63), byte(c, 0x71); /* i32.and */
    } else {
        i32c(c, 0);
    }
    switch (kind) {
    case MEMORY_FILL: i32c(c, 7), i32c(c, n), byte(c, 0xfc), uleb(c, 11), byte(c, 0); break;
    case MEMORY_COPY: i32c(c, var ? 1024 : PAGES * 32768), i32c(c, n), byte(c, 0xfc), uleb(c, 10),
                      byte(c, 0), byte(c, 0); break;
    case MEMORY_INIT: i32c(c, 0), i32c(c, n), byte(c, 0xfc), uleb(c, 8), byte(c, 0), byte(c, 0);
                      break;
    case TABLE_FILL: byte(c, 0xd0), byte(c, 0x70), i32c(c, n), byte(c, 0xfc), uleb(c, 17),
                     byte(c, 0); break;
    case TABLE_COPY: i32c(c, var ? 128 : TABLE / 2), i32c(c, n), byte(c, 0xfc), uleb(c, 14),
                     byte(c, 0), byte(c, 0); break;
    case TABLE_INIT: i32c(c, 0), i32c(c, n), byte(c, 0xfc), uleb(c, 12), byte(c, 0), byte(c, 0);
                     break;
    default: break;
    }
}

/* A module exporting "run": `count` straight-line operations of length `n`,
 * or with `loop_iters` a loop of that many operations. */
static buf_t module_for(enum kind kind, int32_t n, unsigned count, int32_t loop_iters)
{
    buf_t m = {0}, s = {0}, body = {0};
    put(&m, "\0asm\1\0\0\0", 8);
    /* type (i32) -> () for loops, () -> () otherwise: one type, 0 params
     * in both cases; the loop counter is a local. */
    s.n = 0, byte(&s, 1), byte(&s, 0x60), byte(&s, 0), byte(&s, 0), section(&m, 1, &s);
    s.n = 0, byte(&s, 2), byte(&s, 0), byte(&s, 0), section(&m, 3, &s);
    s.n = 0, byte(&s, 1), byte(&s, 0x70), byte(&s, 0), uleb(&s, TABLE), section(&m, 4, &s);
    s.n = 0, byte(&s, 1), byte(&s, 0), uleb(&s, PAGES), section(&m, 5, &s);
    s.n = 0, byte(&s, 1), uleb(&s, 3), put(&s, "run", 3), byte(&s, 0), byte(&s, 0),
    section(&m, 7, &s);
    /* elem: one passive segment of SEG_ITEMS references to func 1 */
    s.n = 0, byte(&s, 1), byte(&s, 1), byte(&s, 0), uleb(&s, SEG_ITEMS);
    for (int i = 0; i < SEG_ITEMS; i++)
        byte(&s, 1);
    section(&m, 9, &s);
    s.n = 0, byte(&s, 1), section(&m, 12, &s); /* data count */
    body.n = 0;
    byte(&body, 1), byte(&body, 1), byte(&body, 0x7f); /* one i32 local */
    if (loop_iters) {
        byte(&body, 0x03), byte(&body, 0x40); /* loop */
        bulk_op(&body, kind, n, true);
        byte(&body, 0x20), byte(&body, 0), i32c(&body, 1), byte(&body, 0x6a); /* i + 1 */
        byte(&body, 0x22), byte(&body, 0);                                   /* local.tee */
        i32c(&body, loop_iters), byte(&body, 0x49);                          /* lt_u */
        byte(&body, 0x0d), byte(&body, 0), byte(&body, 0x0b);                /* br_if 0 end */
    } else {
        for (unsigned i = 0; i < count; i++)
            bulk_op(&body, kind, n, false);
    }
    byte(&body, 0x0b);
    s.n = 0, byte(&s, 2), uleb(&s, body.n), put(&s, body.b, body.n);
    byte(&s, 2), byte(&s, 0), byte(&s, 0x0b); /* func 1: empty */
    section(&m, 10, &s);
    s.n = 0, byte(&s, 1), byte(&s, 1), uleb(&s, SEG_BYTES);
    for (int i = 0; i < SEG_BYTES; i++)
        byte(&s, (unsigned)i);
    section(&m, 11, &s);
    free(s.b);
    free(body.b);
    return m;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static whirl_func_t *instantiate(whirl_store_t *store, whirl_module_t *module)
{
    whirl_instance_t *inst;
    whirl_extern_t run;
    whirl_error_t *err = whirl_instance_new(store, module, NULL, 0, &inst);
    if (err || !whirl_instance_export(inst, "run", 3, &run)) {
        fprintf(stderr, "instantiate: %s\n", err ? whirl_error_message(err) : "no export");
        exit(2);
    }
    return run.of.func;
}

static whirl_module_t *compile(whirl_engine_t *engine, buf_t m)
{
    whirl_module_t *module;
    whirl_error_t *err = whirl_module_new(engine, m.b, m.n, &module);
    free(m.b);
    if (err) {
        fprintf(stderr, "module: %s\n", whirl_error_message(err));
        exit(2);
    }
    return module;
}

struct bump {
    whirl_engine_t *engine;
    clockid_t runner_cpu; /* CPU clock of the thread running wasm */
    uint64_t at;          /* monotonic ns of the increment */
    uint64_t at_cpu;      /* the runner's CPU ns then */
};

static uint64_t clock_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *bump_main(void *arg)
{
    struct bump *b = arg;
    struct timespec ts = {0, 30000000};
    nanosleep(&ts, NULL);
    b->at_cpu = clock_ns(b->runner_cpu);
    b->at = whirl_monotonic_now();
    whirl_engine_increment_epoch(b->engine);
    return NULL;
}

static void lateness(bool ticker, int runs)
{
    whirl_config_t *config = whirl_config_new();
    if (!ticker)
        whirl_config_epoch_interval_set(config, 0);
    whirl_engine_t *engine;
    whirl_error_t *err = whirl_engine_new(config, &engine);
    if (err) {
        fprintf(stderr, "engine: %s\n", whirl_error_message(err));
        exit(2);
    }
    /* Lengths near each kind's largest: 64 MiB of memory, the whole table
     * or segment; enough copies to run for seconds without the checks. */
    static const int32_t lengths[KINDS] = {PAGES * 32768, PAGES * 32768, SEG_BYTES,
                                           TABLE, TABLE / 2, SEG_ITEMS};
    static const unsigned counts[KINDS] = {400, 400, 20000, 20000, 20000, 10000};
    for (int k = 0; k < KINDS; k++) {
        whirl_module_t *module = compile(engine, module_for(k, lengths[k], counts[k], 0));
        uint64_t late[64], late_cpu[64];
        int ok = 0;
        for (int r = 0; r < runs; r++) {
            whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
            whirl_func_t *run = instantiate(store, module);
            struct bump bump = {engine, 0, 0, 0};
            pthread_getcpuclockid(pthread_self(), &bump.runner_cpu);
            pthread_t thread;
            uint64_t deadline = 0;
            if (ticker) {
                deadline = whirl_monotonic_now() + 30000000u;
                whirl_error_delete(whirl_store_set_deadline(store, deadline));
            } else {
                whirl_store_set_epoch_deadline(store, 1);
                pthread_create(&thread, NULL, bump_main, &bump);
            }
            err = whirl_func_call(store, run, NULL, 0, NULL, 0);
            uint64_t now = whirl_monotonic_now();
            uint64_t now_cpu = clock_ns(bump.runner_cpu);
            if (!ticker) {
                pthread_join(thread, NULL);
                deadline = bump.at;
            }
            whirl_trap_code_t code;
            if (err && whirl_error_is_trap(err, &code) && code == WHIRL_TRAP_INTERRUPT) {
                late_cpu[ok] = !ticker && now_cpu > bump.at_cpu ? now_cpu - bump.at_cpu : 0;
                late[ok++] = now > deadline ? now - deadline : 0;
            }
            else
                printf("  %s: no interrupt (%s)\n", kind_names[k],
                       err ? whirl_error_message(err) : "returned");
            whirl_error_delete(err);
            whirl_store_delete(store);
        }
        qsort(late, (size_t)ok, sizeof late[0], cmp_u64);
        qsort(late_cpu, (size_t)ok, sizeof late_cpu[0], cmp_u64);
        if (ok)
            printf("lateness.%-12s %-6s: median %6.2f ms, max %6.2f ms", kind_names[k],
                   ticker ? "ticker" : "epoch", late[ok / 2] / 1e6, late[ok - 1] / 1e6);
        if (ok && !ticker)
            printf("; CPU median %5.2f ms, max %5.2f ms", late_cpu[ok / 2] / 1e6,
                   late_cpu[ok - 1] / 1e6);
        if (ok)
            printf(" (%d runs)\n", ok);
        whirl_module_delete(module);
    }
    whirl_engine_delete(engine);
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void small(int runs)
{
    whirl_engine_t *engine;
    whirl_error_t *err = whirl_engine_new(NULL, &engine);
    if (err) {
        fprintf(stderr, "engine: %s\n", whirl_error_message(err));
        exit(2);
    }
    static const struct { enum kind kind; int32_t n; } cases[] = {
        {MEMORY_FILL, 16}, {MEMORY_FILL, 64}, {MEMORY_FILL, 256}, {MEMORY_FILL, 4096},
        {MEMORY_COPY, 16}, {MEMORY_COPY, 64}, {MEMORY_COPY, 256}, {MEMORY_COPY, 4096},
        {TABLE_FILL, 4}, {TABLE_FILL, 32}, {TABLE_COPY, 4}, {TABLE_COPY, 32},
    };
    enum { ITERS = 1 << 24 };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        whirl_module_t *module = compile(engine, module_for(cases[c].kind, cases[c].n, 0, ITERS));
        whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
        whirl_func_t *run = instantiate(store, module);
        double best = 1e9;
        for (int r = 0; r < runs; r++) {
            double t0 = cpu_seconds();
            err = whirl_func_call(store, run, NULL, 0, NULL, 0);
            double t = cpu_seconds() - t0;
            if (err) {
                fprintf(stderr, "%s: %s\n", kind_names[cases[c].kind], whirl_error_message(err));
                exit(2);
            }
            if (t < best)
                best = t;
        }
        printf("small.%-12s %5d: %6.2f ns per iteration (best of %d)\n",
               kind_names[cases[c].kind], cases[c].n, best * 1e9 / ITERS, runs);
        whirl_store_delete(store);
        whirl_module_delete(module);
    }
    whirl_engine_delete(engine);
}

int main(int argc, char **argv)
{
    int runs = 9;
    bool only_small = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--small"))
            only_small = true;
        else
            runs = 0;
    }
    if (runs < 1 || runs > 64) {
        fprintf(stderr, "usage: whirl-bulk [--runs N (1-64)] [--small]\n");
        return 2;
    }
    small(runs);
    if (only_small)
        return 0;
    lateness(true, runs);
    lateness(false, runs);
    return 0;
}
