/* Compile time against cache-hit load time (bench/cache/run).
 *
 *   whirl-cache-bench [--reps N] MODULE.wasm...
 *
 * For each module: whirl_module_new without a cache (decode, validate,
 * compile), whirl_module_deserialize from memory and from a file, and
 * whirl_module_new through a cache directory holding the module's entry
 * (the hit: SHA-256 of the bytes, lookup, load, LRU touch and counters).
 * Each is run N times (default 9), the kinds interleaved; the table gives
 * the median and the fastest, and the compile/hit ratios.
 * Each loaded module is checked to have the compiled module's imports and
 * exports, and the hit to come from the cache. Exit status 1 if a check
 * fails. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "whirl.h"

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static whirl_engine_t *engine(const char *cache)
{
    whirl_config_t *c = whirl_config_new();
    whirl_config_use_env(c, false);
    whirl_config_epoch_interval_set(c, 0);
    if (cache)
        whirl_config_enable_cache(c, cache);
    whirl_engine_t *e;
    whirl_error_t *err = whirl_engine_new(c, &e);
    if (err) {
        fprintf(stderr, "engine: %s\n", whirl_error_message(err));
        exit(1);
    }
    return e;
}

static int failures;

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "FAIL: %s\n", what);
        failures++;
    }
}

static bool same_shape(const whirl_module_t *a, const whirl_module_t *b)
{
    if (whirl_module_import_count(a) != whirl_module_import_count(b) ||
        whirl_module_export_count(a) != whirl_module_export_count(b))
        return false;
    for (size_t i = 0; i < whirl_module_export_count(a); i++) {
        whirl_export_info_t x, y;
        whirl_module_export(a, i, &x);
        whirl_module_export(b, i, &y);
        if (x.name_len != y.name_len || memcmp(x.name, y.name, x.name_len) || x.kind != y.kind)
            return false;
    }
    return true;
}

typedef struct row {
    double med, min;
} row_t;

static row_t summarise(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return (row_t){t[n / 2], t[0]};
}

/* Times `what` once: a module loaded by `kind` (0 compile, 1 cache hit,
 * 2 file, 3 memory), checked against `ref` and deleted. */
typedef struct ctx {
    whirl_engine_t *plain, *cached;
    const uint8_t *wasm, *ser;
    size_t len, ser_len;
    const char *file;
    const whirl_module_t *ref;
} ctx_t;

static double time_one(const ctx_t *c, int kind)
{
    whirl_module_t *m = NULL;
    whirl_error_t *err;
    double t0 = now_ms();
    switch (kind) {
    case 0: err = whirl_module_new(c->plain, c->wasm, c->len, &m); break;
    case 1: err = whirl_module_new(c->cached, c->wasm, c->len, &m); break;
    case 2: err = whirl_module_deserialize_file(c->plain, c->file, &m); break;
    default: err = whirl_module_deserialize(c->plain, c->ser, c->ser_len, &m); break;
    }
    double t = now_ms() - t0;
    static const char *const what[] = {"compile", "cache hit", "deserialize file",
                                       "deserialize memory"};
    if (err)
        fprintf(stderr, "%s: %s\n", what[kind], whirl_error_message(err));
    check(!err && (!c->ref || same_shape(c->ref, m)), what[kind]);
    check(!m || whirl_module_from_cache(m) == (kind == 1), "from_cache");
    whirl_error_delete(err);
    whirl_module_delete(m);
    return t;
}

static void bench(const char *path, int reps)
{
    size_t len;
    uint8_t *wasm = read_all(path, &len);
    if (!wasm) {
        perror(path);
        failures++;
        return;
    }
    char dir[] = "/tmp/whirl-cache-bench-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
    char file[128], cache[128];
    snprintf(file, sizeof file, "%s/m.cwasm", dir);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    ctx_t c = {engine(NULL), engine(cache), wasm, NULL, len, 0, file, NULL};
    whirl_module_t *ref = NULL;
    whirl_error_t *err = whirl_module_new(c.plain, wasm, len, &ref);
    if (err) {
        fprintf(stderr, "%s: %s\n", path, whirl_error_message(err));
        whirl_error_delete(err);
        failures++;
        goto out;
    }
    c.ref = ref;
    uint8_t *ser = NULL;
    double t0 = now_ms();
    err = whirl_module_serialize(ref, &ser, &c.ser_len);
    double serialize_ms = now_ms() - t0;
    check(!err, "serialize");
    whirl_error_delete(err);
    c.ser = ser;
    FILE *f = fopen(file, "wb");
    check(f && fwrite(ser, 1, c.ser_len, f) == c.ser_len, "write .cwasm");
    if (f)
        fclose(f);
    /* The miss that stores the entry. */
    whirl_module_t *m = NULL;
    t0 = now_ms();
    err = whirl_module_new(c.cached, wasm, len, &m);
    double miss_ms = now_ms() - t0;
    check(!err && !whirl_module_from_cache(m), "cache miss");
    whirl_error_delete(err);
    whirl_module_delete(m);

    /* Interleaved, so that other load on the machine weighs on each kind
     * alike. */
    double *t[4];
    for (int k = 0; k < 4; k++)
        t[k] = calloc((size_t)reps, sizeof(double));
    for (int i = 0; i < reps; i++)
        for (int k = 0; k < 4; k++)
            t[k][i] = time_one(&c, k);
    row_t r[4];
    for (int k = 0; k < 4; k++) {
        r[k] = summarise(t[k], reps);
        free(t[k]);
    }

    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    printf("%s: %.2f MB wasm, %.2f MB serialised (serialise %.1f ms; the miss that "
           "compiled and stored it %.1f ms); %d runs each\n",
           name, len / 1e6, c.ser_len / 1e6, serialize_ms, miss_ms, reps);
    printf("  %-30s %10s %10s %16s\n", "", "median ms", "min ms", "compile/this");
    static const char *const label[] = {"compile (whirl_module_new)",
                                        "cache hit (whirl_module_new)",
                                        "whirl_module_deserialize_file", "whirl_module_deserialize"};
    for (int k = 0; k < 4; k++)
        printf("  %-30s %10.2f %10.2f %8.1fx median\n", label[k], r[k].med, r[k].min,
               r[0].med / r[k].med);
    printf("  cache hit vs compile: %.1fx (medians), %.1fx (fastest runs): %s\n",
           r[0].med / r[1].med, r[0].min / r[1].min,
           r[0].med / r[1].med >= 20 ? "at least 20x" : "BELOW 20x");
    free(ser);
out:
    whirl_module_delete(ref);
    whirl_engine_delete(c.plain);
    whirl_engine_delete(c.cached);
    whirl_cache_clear(cache);
    rmdir(cache);
    unlink(file);
    rmdir(dir);
    free(wasm);
}

int main(int argc, char **argv)
{
    int reps = 9, first = 1;
    if (argc > 2 && strcmp(argv[1], "--reps") == 0) {
        reps = atoi(argv[2]);
        first = 3;
    }
    if (first >= argc || reps < 1) {
        fprintf(stderr, "usage: whirl-cache-bench [--reps N] MODULE.wasm...\n");
        return 2;
    }
    for (int i = first; i < argc; i++)
        bench(argv[i], reps);
    return failures ? 1 : 0;
}
