/*
 * whirl-micro: micro-benchmarks of the embedding API (include/whirl.h).
 *
 *   whirl-micro [--json] [--quick] [--plain] [--only PREFIX,...]
 *               [--wasm-dir DIR] [--modules-dir DIR]
 *
 * instantiate.*  instantiate + call + free of a generated module (1-page
 *                memory with a 64 KiB active data segment, a 100-entry table,
 *                50 small functions), and of the same with a 16 MiB segment;
 *                pooling off and on. Microseconds per instance.
 * compile.*      whirl_module_new on the largest program of the suite, in MB
 *                of code section per second.
 * epoch.*        the suite's loop-heavy programs run in a store with a far
 *                epoch deadline vs none: percent slower with the deadline.
 * threads.*      1 vs 2 threads instantiating and running concurrently.
 *
 * Prints a table, or with --json one JSON object for bench/run. Timings are
 * medians of several batches, in CPU time of the measuring thread except for
 * the threads.* throughputs (wall-clock); nothing here asserts a time.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <whirl.h>
#if WHIRL_BENCH_HAVE_WASI
#include <whirl/wasi.h>
#endif

/* ------------------------------------------------------------------ */
/* Instantiation path.                                                 */
/*                                                                     */
/* INSTANCE_PRE SWITCH: built with -DWHIRL_BENCH_INSTANCE_PRE=1 (CMake  */
/* option WHIRL_BENCH_INSTANCE_PRE, ON by default when whirl.h declares */
/* whirl_linker_instantiate_pre), instances come from a                */
/* whirl_instance_pre resolved once per module, as the target  */
/* is stated; `--plain` (or a build without it) uses whirl_instance_new.*/
/* The only code that differs is in inst_prepare() and                 */
/* inst_instantiate() below.                                           */
/* ------------------------------------------------------------------ */
#ifndef WHIRL_BENCH_INSTANCE_PRE
#define WHIRL_BENCH_INSTANCE_PRE 0
#endif
static bool use_pre = WHIRL_BENCH_INSTANCE_PRE;
/* Set by CMake when include/whirl.h declares whirl_config_pooling_set. */
#ifndef WHIRL_BENCH_HAVE_POOLING
#define WHIRL_BENCH_HAVE_POOLING 0
#endif

typedef struct result {
    char name[64];
    double value; /* NAN: not measured */
    const char *unit;
    const char *better; /* "lower" or "higher" */
    char note[192];
} result_t;

static result_t results[64];
static size_t nresults;
static bool quick, json;
static int errors; /* calls that failed: the exit status and the summary */
static const char *only;

static result_t *add_result(const char *name, double value, const char *unit, const char *better,
                            const char *note_fmt, ...)
{
    if (nresults >= sizeof results / sizeof results[0])
        return NULL;
    result_t *r = &results[nresults++];
    snprintf(r->name, sizeof r->name, "%s", name);
    r->value = value;
    r->unit = unit;
    r->better = better;
    r->note[0] = '\0';
    if (note_fmt) {
        va_list ap;
        va_start(ap, note_fmt);
        vsnprintf(r->note, sizeof r->note, note_fmt, ap);
        va_end(ap);
    }
    if (!json) {
        if (isnan(value))
            printf("%-34s %12s  %-6s %s\n", r->name, "n/a", unit, r->note);
        else
            printf("%-34s %12.3f  %-6s %s\n", r->name, value, unit, r->note);
        fflush(stdout);
    }
    return r;
}

static void progress(const char *fmt, ...)
{
    if (!json)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

static bool selected(const char *name)
{
    if (!only)
        return true;
    const char *p = only;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n && strncmp(name, p, n) == 0)
            return true;
        if (!end)
            break;
        p = end + 1;
    }
    return false;
}

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* CPU time of the calling thread: single-threaded measurements use it, so
 * other processes competing for the cores barely disturb them (page faults
 * and system calls the engine causes are still counted). */
static double cpu_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Prints and consumes an error; returns false so callers can `return fail(...)`. */
static bool fail(const char *what, whirl_error_t *err)
{
    fprintf(stderr, "whirl-micro: %s: %s\n", what, err ? whirl_error_message(err) : "failed");
    whirl_error_delete(err);
    errors++;
    return false;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Per-op CPU time: batches sized to take >= batch_sec each, median of
 * nbatch (and their minimum in *min_out, if given: the least disturbed). */
typedef bool (*op_fn)(void *ctx);

static double time_per_op(op_fn op, void *ctx, double batch_sec, int nbatch, double *min_out)
{
    uint64_t iters = 1;
    for (;;) { /* calibrate */
        double t0 = cpu_sec();
        for (uint64_t i = 0; i < iters; i++)
            if (!op(ctx))
                return NAN;
        double dt = cpu_sec() - t0;
        if (dt >= batch_sec / 4 || iters >= (1u << 30))
            break;
        iters *= 2;
    }
    double t1 = cpu_sec();
    for (uint64_t i = 0; i < iters; i++)
        if (!op(ctx))
            return NAN;
    double one = cpu_sec() - t1;
    if (one > 0 && one < batch_sec)
        iters = (uint64_t)(iters * (batch_sec / one)) + 1;
    double samples[16];
    if (nbatch > 16)
        nbatch = 16;
    for (int b = 0; b < nbatch; b++) {
        double t0 = cpu_sec();
        for (uint64_t i = 0; i < iters; i++)
            if (!op(ctx))
                return NAN;
        samples[b] = (cpu_sec() - t0) / (double)iters;
    }
    double med = median(samples, (size_t)nbatch); /* sorts */
    if (min_out)
        *min_out = samples[0];
    return med;
}

/* ------------------------------------------------------------------ */
/* Engines                                                             */
/* ------------------------------------------------------------------ */

/* pooling: -1 engine default, 0 off, 1 on. Returns NULL (error printed) if
 * the engine cannot be made that way. */
static whirl_engine_t *make_engine(int pooling)
{
    whirl_config_t *cfg = whirl_config_new();
    if (!cfg)
        return NULL;
#if WHIRL_BENCH_HAVE_POOLING
    if (pooling >= 0)
        whirl_config_pooling_set(cfg, pooling == 1);
#else
    if (pooling == 1) {
        whirl_config_delete(cfg);
        return NULL;
    }
#endif
    whirl_engine_t *engine;
    whirl_error_t *err = whirl_engine_new(cfg, &engine);
    if (err) {
        /* Forced pooling may be refused by the machine (ulimit -v): the row
         * says so; it is not an error of the benchmark. */
        if (pooling == 1) {
            fprintf(stderr, "whirl-micro: no pooled engine: %s\n", whirl_error_message(err));
            whirl_error_delete(err);
        } else {
            fail("engine", err);
        }
        return NULL;
    }
    return engine;
}

static bool engine_pooling(whirl_engine_t *engine)
{
#if WHIRL_BENCH_HAVE_POOLING
    return whirl_engine_pooling(engine);
#else
    (void)engine;
    return false;
#endif
}

/* ------------------------------------------------------------------ */
/* instantiate + call + free                                           */
/* ------------------------------------------------------------------ */

typedef struct inst_ctx {
    whirl_engine_t *engine;
    whirl_module_t *module;
#if WHIRL_BENCH_INSTANCE_PRE
    whirl_instance_pre_t *pre;
#endif
    int32_t expected;
    int32_t work_n; /* > 0: also call work(work_n) */
} inst_ctx_t;

static bool inst_prepare(inst_ctx_t *c, whirl_engine_t *engine, const uint8_t *wasm, size_t len)
{
    memset(c, 0, sizeof *c);
    c->engine = engine;
    whirl_error_t *err = whirl_module_new(engine, wasm, len, &c->module);
    if (err)
        return fail("compiling the instantiation module", err);
#if WHIRL_BENCH_INSTANCE_PRE
    if (use_pre) {
        whirl_linker_t *linker = whirl_linker_new(engine);
        err = linker ? whirl_linker_instantiate_pre(linker, c->module, &c->pre)
                     : whirl_error_new("out of memory");
        whirl_linker_delete(linker);
        if (err)
            return fail("instance_pre", err);
    }
#endif
    /* The module exports the value run() must return. */
    whirl_store_t *s = whirl_store_new(engine, NULL, NULL);
    whirl_instance_t *inst;
    err = s ? whirl_instance_new(s, c->module, NULL, 0, &inst) : whirl_error_new("out of memory");
    whirl_extern_t ex;
    if (!err && whirl_instance_export(inst, "expected", 8, &ex) && ex.kind == WHIRL_EXTERN_GLOBAL) {
        whirl_val_t v;
        whirl_global_get(ex.of.global, &v);
        c->expected = v.of.i32;
    } else if (!err) {
        err = whirl_error_new("module exports no global 'expected'");
    }
    whirl_store_delete(s);
    if (err)
        return fail("instantiating the module", err);
    return true;
}

static void inst_release(inst_ctx_t *c)
{
#if WHIRL_BENCH_INSTANCE_PRE
    whirl_instance_pre_delete(c->pre);
#endif
    whirl_module_delete(c->module);
}

static whirl_error_t *inst_instantiate(inst_ctx_t *c, whirl_store_t *s, whirl_instance_t **out)
{
#if WHIRL_BENCH_INSTANCE_PRE
    if (c->pre)
        return whirl_instance_pre_instantiate(c->pre, s, out);
#endif
    return whirl_instance_new(s, c->module, NULL, 0, out);
}

static bool inst_op(void *ctx)
{
    inst_ctx_t *c = ctx;
    whirl_store_t *s = whirl_store_new(c->engine, NULL, NULL);
    if (!s)
        return fail("store", NULL);
    whirl_instance_t *inst;
    whirl_error_t *err = inst_instantiate(c, s, &inst);
    whirl_extern_t ex;
    whirl_val_t res = {.kind = WHIRL_I32};
    if (!err && !whirl_instance_export(inst, "run", 3, &ex))
        err = whirl_error_new("no export 'run'");
    if (!err)
        err = whirl_func_call(s, ex.of.func, NULL, 0, &res, 1);
    if (!err && res.of.i32 != c->expected)
        err = whirl_error_new("run() returned a wrong value");
    if (!err && c->work_n > 0) {
        whirl_val_t arg = {.kind = WHIRL_I32, .of.i32 = c->work_n};
        if (!whirl_instance_export(inst, "work", 4, &ex))
            err = whirl_error_new("no export 'work'");
        else
            err = whirl_func_call(s, ex.of.func, &arg, 1, &res, 1);
    }
    whirl_store_delete(s);
    if (err)
        return fail("instantiate+call", err);
    return true;
}

static void bench_instantiate(const char *modules_dir)
{
    static const struct { const char *file, *label; } mods[] = {
        {"inst-64k.wasm", "64k"},
        {"inst-16m.wasm", "16m"},
    };
    double batch = quick ? 0.03 : 0.15;
    int nbatch = quick ? 3 : 7;
    for (size_t m = 0; m < 2; m++) {
        for (int pooling = 0; pooling <= 1; pooling++) {
            char name[64];
            snprintf(name, sizeof name, "instantiate.%s.pool_%s", mods[m].label,
                     pooling ? "on" : "off");
            if (!selected(name))
                continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", modules_dir, mods[m].file);
            size_t len;
            uint8_t *wasm = read_file(path, &len);
            if (!wasm) {
                add_result(name, NAN, "us", "lower", "cannot read %s", path);
                continue;
            }
            whirl_engine_t *engine = make_engine(pooling);
            if (!engine) {
                add_result(name, NAN, "us", "lower",
                           WHIRL_BENCH_HAVE_POOLING ? "engine with pooling %s failed"
                                                    : "pooling %s: not in this whirl.h",
                           pooling ? "on" : "off");
                free(wasm);
                continue;
            }
            progress("%s...\n", name);
            inst_ctx_t c;
            double per = NAN, min = NAN;
            if (inst_prepare(&c, engine, wasm, len)) {
                per = time_per_op(inst_op, &c, batch, nbatch, &min);
                inst_release(&c);
            }
            add_result(name, per * 1e6, "us", "lower", "%s%s; min %.3f us",
                       use_pre ? "instance_pre" : "whirl_instance_new",
                       engine_pooling(engine) ? ", pooled" : "", min * 1e6);
            whirl_engine_delete(engine);
            free(wasm);
        }
    }
}

/* ------------------------------------------------------------------ */
/* compile throughput                                                  */
/* ------------------------------------------------------------------ */

/* Size of the code section (id 10), or 0 if the binary has none or is
 * malformed at the section level. */
static size_t code_section_size(const uint8_t *p, size_t len)
{
    if (len < 8 || memcmp(p, "\0asm", 4) != 0)
        return 0;
    size_t i = 8;
    while (i < len) {
        uint8_t id = p[i++];
        uint64_t size = 0;
        int shift = 0;
        for (;;) {
            if (i >= len || shift > 28)
                return 0;
            uint8_t b = p[i++];
            size |= (uint64_t)(b & 0x7F) << shift;
            shift += 7;
            if (!(b & 0x80))
                break;
        }
        if (size > len - i)
            return 0;
        if (id == 10)
            return (size_t)size;
        i += (size_t)size;
    }
    return 0;
}

typedef struct compile_ctx {
    whirl_engine_t *engine;
    const uint8_t *wasm;
    size_t len;
} compile_ctx_t;

static bool compile_op(void *ctx)
{
    compile_ctx_t *c = ctx;
    whirl_module_t *m;
    whirl_error_t *err = whirl_module_new(c->engine, c->wasm, c->len, &m);
    if (err)
        return fail("whirl_module_new", err);
    whirl_module_delete(m);
    return true;
}

static int list_wasm(const char *dir, char names[][64], int max);

static void bench_compile(const char *wasm_dir)
{
    if (!selected("compile.throughput"))
        return;
    char names[64][64];
    int n = list_wasm(wasm_dir, names, 64);
    size_t best_code = 0, best_len = 0;
    uint8_t *best = NULL;
    char best_name[64] = "";
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%.3900s/%.63s", wasm_dir, names[i]);
        size_t len;
        uint8_t *w = read_file(path, &len);
        if (!w)
            continue;
        size_t code = code_section_size(w, len);
        if (code > best_code) {
            free(best);
            best = w;
            best_code = code;
            best_len = len;
            snprintf(best_name, sizeof best_name, "%.63s", names[i]);
        } else {
            free(w);
        }
    }
    if (!best) {
        add_result("compile.throughput", NAN, "MB/s", "higher", "no .wasm in %s (run bench/build)",
                   wasm_dir);
        return;
    }
    whirl_engine_t *engine = make_engine(-1);
    double per = NAN;
    if (engine) {
        progress("compile.throughput...\n");
        compile_ctx_t c = {engine, best, best_len};
        per = time_per_op(compile_op, &c, quick ? 0.05 : 0.2, quick ? 3 : 7, NULL);
        whirl_engine_delete(engine);
    }
    add_result("compile.throughput", best_code / 1e6 / per, "MB/s", "higher",
               "%s: %zu bytes of code, %.3f ms per whirl_module_new", best_name, best_code,
               per * 1e3);
    free(best);
}

static int cmp_name(const void *a, const void *b) { return strcmp(a, b); }

static int list_wasm(const char *dir, char names[][64], int max)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        size_t l = strlen(e->d_name);
        if (l > 5 && l < 64 && strcmp(e->d_name + l - 5, ".wasm") == 0)
            snprintf(names[n++], 64, "%s", e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, 64, cmp_name);
    return n;
}

/* ------------------------------------------------------------------ */
/* epoch checks: far deadline vs none                                  */
/* ------------------------------------------------------------------ */

#if WHIRL_BENCH_HAVE_WASI
/* Runs a WASI command once; its stdout goes to out_fd. Returns the CPU
 * seconds it took (instantiation included) or NAN. */
static double run_wasi(whirl_engine_t *engine, whirl_module_t *module, const char *argv0,
                       const char *arg, bool deadline, int out_fd)
{
    whirl_wasi_config_t *wc = whirl_wasi_config_new();
    whirl_wasi_t *wasi = NULL;
    whirl_linker_t *linker = NULL;
    whirl_store_t *store = NULL;
    whirl_error_t *err = NULL;
    double t = NAN;
    if (!wc) {
        fail("wasi config", NULL);
        return NAN;
    }
    if ((err = whirl_wasi_config_push_arg(wc, argv0)) ||
        (err = whirl_wasi_config_push_arg(wc, arg)) ||
        (err = whirl_wasi_config_set_stdio(wc, -1, out_fd, 2))) {
        whirl_wasi_config_delete(wc);
        fail("wasi config", err);
        return NAN;
    }
    if ((err = whirl_wasi_new(wc, &wasi)))
        goto out;
    linker = whirl_linker_new(engine);
    store = whirl_store_new(engine, NULL, NULL);
    if (!linker || !store) {
        err = whirl_error_new("out of memory");
        goto out;
    }
    if ((err = whirl_linker_define_wasi(linker, wasi)))
        goto out;
    if (deadline)
        whirl_store_set_epoch_deadline(store, UINT64_C(1) << 40);
    else
        whirl_store_clear_epoch_deadline(store);
    double t0 = cpu_sec();
    whirl_instance_t *inst;
    if ((err = whirl_linker_instantiate(linker, store, module, &inst)))
        goto out;
    whirl_extern_t start;
    if (!whirl_instance_export(inst, "_start", 6, &start) || start.kind != WHIRL_EXTERN_FUNC) {
        err = whirl_error_new("no _start export");
        goto out;
    }
    err = whirl_func_call(store, start.of.func, NULL, 0, NULL, 0);
    int status;
    if (err && whirl_error_exit_status(err, &status) && status == 0) {
        whirl_error_delete(err);
        err = NULL;
    }
    if (!err)
        t = cpu_sec() - t0;
out:
    if (err)
        fail(argv0, err);
    whirl_store_delete(store);
    whirl_linker_delete(linker);
    whirl_wasi_delete(wasi);
    return t;
}

/* Reads back what a run wrote to fd (a temporary file) and rewinds it. */
static bool fd_contents(int fd, char *buf, size_t cap)
{
    off_t end = lseek(fd, 0, SEEK_CUR);
    if (end < 0 || (size_t)end >= cap)
        return false;
    if (pread(fd, buf, (size_t)end, 0) != end)
        return false;
    buf[end] = '\0';
    if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
        return false;
    return true;
}
#endif

static void bench_epoch(const char *wasm_dir)
{
    /* Loop-heavy programs and a REPS argument of about a quarter of their
     * default, so each run takes around a second on an interpreter. */
    static const struct { const char *name, *reps, *quick_reps; } progs[] = {
        {"fib", "10", "2"},     {"mandel", "10", "2"},  {"crc", "32", "4"},
        {"matmul", "22", "3"},  {"stencil", "21", "3"}, {"sort", "7", "1"},
    };
    const size_t nprogs = sizeof progs / sizeof progs[0];
    double ratios[sizeof progs / sizeof progs[0]];
    size_t nratios = 0;
    bool any = false;
    for (size_t i = 0; i < nprogs; i++) {
        char name[64];
        snprintf(name, sizeof name, "epoch.%s", progs[i].name);
        any |= selected(name) || selected("epoch.geomean");
    }
    if (!any)
        return;
#if !WHIRL_BENCH_HAVE_WASI
    (void)wasm_dir;
    (void)ratios;
    (void)nratios;
    add_result("epoch.geomean", NAN, "%", "lower", "needs include/whirl/wasi.h (WASI host)");
#else
    whirl_engine_t *engine = make_engine(-1);
    if (!engine) {
        add_result("epoch.geomean", NAN, "%", "lower", "engine creation failed");
        return;
    }
    char tmpl[] = "/tmp/whirl-micro-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        add_result("epoch.geomean", NAN, "%", "lower", "mkstemp: %s", strerror(errno));
        whirl_engine_delete(engine);
        return;
    }
    unlink(tmpl);
    int runs = quick ? 1 : 5;
    static char out_a[1 << 16], out_b[1 << 16];
    for (size_t i = 0; i < nprogs; i++) {
        char name[64], path[4096];
        snprintf(name, sizeof name, "epoch.%s", progs[i].name);
        if (!selected(name) && !selected("epoch.geomean"))
            continue;
        snprintf(path, sizeof path, "%s/%s.wasm", wasm_dir, progs[i].name);
        size_t len;
        uint8_t *wasm = read_file(path, &len);
        whirl_module_t *module = NULL;
        whirl_error_t *err = wasm ? whirl_module_new(engine, wasm, len, &module)
                                  : whirl_error_new("cannot read the file (run bench/build)");
        free(wasm);
        if (err) {
            add_result(name, NAN, "%", "lower", "%s: %s", path, whirl_error_message(err));
            whirl_error_delete(err);
            continue;
        }
        progress("%s...\n", name);
        const char *reps = quick ? progs[i].quick_reps : progs[i].reps;
        double t_none[8], t_dl[8];
        bool ok = true, same = true;
        for (int r = 0; r < runs && ok; r++) {
            /* Alternate the order so drift does not favour one side. */
            for (int k = 0; k < 2 && ok; k++) {
                bool dl = (k == 1) ^ (r & 1);
                double t = run_wasi(engine, module, progs[i].name, reps, dl, fd);
                ok = !isnan(t) && fd_contents(fd, dl ? out_b : out_a, sizeof out_a);
                (dl ? t_dl : t_none)[r] = t;
            }
            same = same && strcmp(out_a, out_b) == 0 && strstr(out_a, "checksum=");
        }
        whirl_module_delete(module);
        if (!ok || !same) {
            add_result(name, NAN, "%", "lower", ok ? "outputs differ" : "run failed");
            continue;
        }
        double a = median(t_none, (size_t)runs), b = median(t_dl, (size_t)runs);
        ratios[nratios++] = b / a;
        add_result(name, (b / a - 1) * 100, "%", "lower", "none %.3f s, deadline %.3f s CPU (REPS %s)",
                   a, b, reps);
    }
    close(fd);
    whirl_engine_delete(engine);
    if (nratios) {
        double lg = 0;
        for (size_t i = 0; i < nratios; i++)
            lg += log(ratios[i]);
        add_result("epoch.geomean", (exp(lg / nratios) - 1) * 100, "%", "lower",
                   "geomean cost of a far deadline over %zu programs", nratios);
    }
#endif
}

/* ------------------------------------------------------------------ */
/* 1 vs 2 threads                                                      */
/* ------------------------------------------------------------------ */

typedef struct thread_arg {
    inst_ctx_t *ctx;
    uint64_t ops;
    bool ok;
    pthread_barrier_t *start;
    double cpu;   /* the thread's CPU seconds for its ops */
    long waits;   /* voluntary context switches meanwhile (blocking) */
} thread_arg_t;

static long voluntary_switches(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_THREAD, &ru) == 0 ? ru.ru_nvcsw : 0;
}

static void *thread_main(void *p)
{
    thread_arg_t *a = p;
    pthread_barrier_wait(a->start);
    double t0 = cpu_sec();
    long w0 = voluntary_switches();
    a->ok = true;
    for (uint64_t i = 0; i < a->ops && a->ok; i++)
        a->ok = inst_op(a->ctx);
    a->cpu = cpu_sec() - t0;
    a->waits = voluntary_switches() - w0;
    return NULL;
}

/* One run of `nthreads` threads each doing `ops` operations. */
typedef struct run_stats {
    double ops_per_sec;   /* wall-clock throughput of all threads */
    double cpu_per_op;    /* CPU seconds per operation, all threads */
    double busy;          /* CPU seconds / wall seconds: 2 if both ran all along */
    double waits_per_op;  /* voluntary context switches per operation */
} run_stats_t;

static bool throughput(inst_ctx_t *c, int nthreads, uint64_t ops, run_stats_t *out)
{
    pthread_t th[2];
    thread_arg_t args[2];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)nthreads + 1);
    int started = 0;
    for (int i = 0; i < nthreads; i++) {
        args[i] = (thread_arg_t){c, ops, false, &start, 0, 0};
        if (pthread_create(&th[i], NULL, thread_main, &args[i]) != 0)
            break;
        started++;
    }
    if (started < nthreads) {
        /* The started threads wait at a barrier that can no longer fill. */
        fprintf(stderr, "whirl-micro: pthread_create failed\n");
        exit(1);
    }
    double t0 = now_sec();
    pthread_barrier_wait(&start);
    bool ok = true;
    double cpu = 0;
    long waits = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_join(th[i], NULL);
        ok = ok && args[i].ok;
        cpu += args[i].cpu;
        waits += args[i].waits;
    }
    double dt = now_sec() - t0;
    pthread_barrier_destroy(&start);
    out->ops_per_sec = (double)ops * nthreads / dt;
    out->cpu_per_op = cpu / ((double)ops * nthreads);
    out->busy = cpu / dt;
    out->waits_per_op = (double)waits / ((double)ops * nthreads);
    return ok;
}

/* Host-only CPU work: the scaling the machine itself offers right now (near
 * 2 on an idle 2-core machine, near 1 when another process holds a core). */
static void *spin_main(void *p)
{
    volatile uint32_t x = 0;
    uint64_t n = *(const uint64_t *)p;
    for (uint64_t i = 0; i < n; i++)
        x = x * 1664525u + 1013904223u;
    return NULL;
}

static double spin_time(int nthreads, uint64_t n)
{
    pthread_t th[2];
    double t0 = now_sec();
    int started = 0;
    for (int i = 0; i < nthreads; i++)
        started += pthread_create(&th[i], NULL, spin_main, &n) == 0;
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    return started == nthreads ? now_sec() - t0 : NAN;
}

static void bench_machine_scaling(void)
{
    if (!selected("threads.machine"))
        return;
    uint64_t n = quick ? 20000000 : 100000000;
    double one[5], two[5];
    int rounds = quick ? 1 : 5;
    for (int r = 0; r < rounds; r++) {
        one[r] = spin_time(1, n);
        two[r] = spin_time(2, n);
    }
    double a = median(one, (size_t)rounds), b = median(two, (size_t)rounds);
    add_result("threads.machine.scaling", 2 * a / b, "x", "higher",
               "host-only CPU loop, 2 threads vs 1: what the machine allows now");
}

static void bench_threads(const char *modules_dir)
{
    bench_machine_scaling();
    static const struct { const char *label; int32_t work; } kinds[] = {
        {"instantiate", 0},     /* instantiate + call run + free */
        {"instantiate_work", 100000}, /* ... plus 100,000 rounds of a guest loop */
    };
    bool any = false;
    for (size_t k = 0; k < 2; k++) {
        char name[64];
        snprintf(name, sizeof name, "threads.%s", kinds[k].label);
        any |= selected(name);
    }
    if (!any)
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s/inst-64k.wasm", modules_dir);
    size_t len;
    uint8_t *wasm = read_file(path, &len);
    if (!wasm) {
        add_result("threads.instantiate.scaling", NAN, "x", "higher", "cannot read %s", path);
        return;
    }
    whirl_engine_t *engine = make_engine(-1);
    inst_ctx_t c;
    if (!engine || !inst_prepare(&c, engine, wasm, len)) {
        add_result("threads.instantiate.scaling", NAN, "x", "higher", "setup failed");
        whirl_engine_delete(engine);
        free(wasm);
        return;
    }
    for (size_t k = 0; k < 2; k++) {
        char name[64];
        snprintf(name, sizeof name, "threads.%s", kinds[k].label);
        if (!selected(name))
            continue;
        progress("%s...\n", name);
        c.work_n = kinds[k].work;
        /* Size the run so one thread takes about 0.3 s (quick: 0.05 s). */
        double per = time_per_op(inst_op, &c, 0.02, 1, NULL);
        uint64_t ops = isnan(per) ? 0 : (uint64_t)((quick ? 0.05 : 0.3) / per) + 1;
        run_stats_t one[5], two[5];
        int rounds = quick ? 1 : 5;
        bool ok = ops > 0;
        for (int r = 0; r < rounds && ok; r++)
            ok = throughput(&c, 1, ops, &one[r]) && throughput(&c, 2, ops, &two[r]);
        char n1[80], n2[80], ns[80], nc[80];
        snprintf(n1, sizeof n1, "%s.1thread", name);
        snprintf(n2, sizeof n2, "%s.2threads", name);
        snprintf(ns, sizeof ns, "%s.scaling", name);
        snprintf(nc, sizeof nc, "%s.cpu_scaling", name);
        if (!ok) {
            add_result(ns, NAN, "x", "higher", "run failed");
            continue;
        }
        double w1[5], w2[5], c1[5], c2[5], b1[5], b2[5], v2[5];
        for (int r = 0; r < rounds; r++) {
            w1[r] = one[r].ops_per_sec;
            w2[r] = two[r].ops_per_sec;
            c1[r] = one[r].cpu_per_op;
            c2[r] = two[r].cpu_per_op;
            b1[r] = one[r].busy;
            b2[r] = two[r].busy;
            v2[r] = two[r].waits_per_op;
        }
        double a = median(w1, (size_t)rounds), b = median(w2, (size_t)rounds);
        double ca = median(c1, (size_t)rounds), cb = median(c2, (size_t)rounds);
        double busy1 = median(b1, (size_t)rounds), busy2 = median(b2, (size_t)rounds);
        double waits = median(v2, (size_t)rounds);
        char note[64] = "";
        if (kinds[k].work)
            snprintf(note, sizeof note, "work(%d) per op", (int)kinds[k].work);
        add_result(n1, a, "ops/s", "higher", "%s%s%s", note,
                   engine_pooling(engine) && *note ? ", " : "", engine_pooling(engine) ? "pooled" : "");
        add_result(n2, b, "ops/s", "higher", NULL);
        add_result(ns, b / a, "x", "higher", "2-thread / 1-thread throughput (wall clock)");
        /* What two free cores would give if nothing but the engine's own
         * sharing slowed the threads down: contention for cache lines shows
         * as more CPU per operation, blocking (locks, mmap_lock) as
         * voluntary context switches. Meaningful only if the threads did
         * run at once: CPU/wall near 1 alone and near 2 together. */
        add_result(nc, 2 * ca / cb, "x", "higher",
                   "2 x CPU/op alone / CPU/op together: %.3f / %.3f us; CPU/wall %.2f alone, "
                   "%.2f together; %.3f blocking waits/op",
                   ca * 1e6, cb * 1e6, busy1, busy2, waits);
    }
    c.work_n = 0;
    inst_release(&c);
    whirl_engine_delete(engine);
    free(wasm);
}

/* ------------------------------------------------------------------ */

static void print_json(void)
{
    printf("{\n \"format\": \"whirl-micro-1\",\n \"instance_pre\": %s,\n \"pooling_api\": %s,\n"
           " \"quick\": %s,\n \"results\": [",
           use_pre ? "true" : "false", WHIRL_BENCH_HAVE_POOLING ? "true" : "false",
           quick ? "true" : "false");
    for (size_t i = 0; i < nresults; i++) {
        const result_t *r = &results[i];
        printf("%s\n  {\"name\": \"%s\", \"value\": ", i ? "," : "", r->name);
        if (isnan(r->value) || isinf(r->value))
            printf("null");
        else
            printf("%.6g", r->value);
        printf(", \"unit\": \"%s\", \"better\": \"%s\", \"note\": \"", r->unit, r->better);
        for (const char *p = r->note; *p; p++) {
            if (*p == '"' || *p == '\\')
                putchar('\\');
            if ((unsigned char)*p >= 0x20)
                putchar(*p);
        }
        printf("\"}");
    }
    printf("\n ]\n}\n");
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: whirl-micro [--json] [--quick] [--plain] [--only PREFIX,...]\n"
            "                   [--wasm-dir DIR] [--modules-dir DIR]\n"
            "  --json          one JSON object on stdout (progress on stderr)\n"
            "  --quick         short batches (smoke runs; numbers are noisy)\n"
            "  --plain         instantiate with whirl_instance_new, not an instance_pre\n"
            "  --only P,...    only benchmarks whose name starts with one of the prefixes\n"
            "                  (instantiate, compile, epoch, threads)\n"
            "  --wasm-dir DIR  the suite's .wasm programs (default: <exe dir>/wasm)\n"
            "  --modules-dir D the generated inst-64k.wasm / inst-16m.wasm (default: exe dir)\n");
}

int main(int argc, char **argv)
{
    static char exe_dir[4096];
    snprintf(exe_dir, sizeof exe_dir, "%s", argv[0]);
    char *slash = strrchr(exe_dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(exe_dir, sizeof exe_dir, ".");
    static char wasm_dir_buf[4200];
    snprintf(wasm_dir_buf, sizeof wasm_dir_buf, "%s/wasm", exe_dir);
    const char *wasm_dir = wasm_dir_buf, *modules_dir = exe_dir;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--quick") == 0) {
            quick = true;
        } else if (strcmp(a, "--plain") == 0) {
            use_pre = false;
        } else if (strcmp(a, "--only") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else if (strcmp(a, "--wasm-dir") == 0 && i + 1 < argc) {
            wasm_dir = argv[++i];
        } else if (strcmp(a, "--modules-dir") == 0 && i + 1 < argc) {
            modules_dir = argv[++i];
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "whirl-micro: unknown or incomplete argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!json)
        printf("%-34s %12s  %-6s %s\n", "benchmark", "value", "unit", "note");
    bench_instantiate(modules_dir);
    bench_compile(wasm_dir);
    bench_epoch(wasm_dir);
    bench_threads(modules_dir);
    size_t measured = 0;
    for (size_t i = 0; i < nresults; i++)
        measured += !isnan(results[i].value);
    if (json)
        print_json();
    else
        printf("micro: %zu measured, %d failed\n", measured, errors);
    return errors ? 1 : 0;
}
