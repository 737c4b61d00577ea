/* The compilation cache directory (src/cache/cache.c): a miss stores an
 * entry and the next load is a hit that behaves the same; the key changes
 * with the code-affecting config; damaged, truncated and misfiled entries
 * are detected, compiled again and replaced; the size bound evicts the
 * least recently used entries; an unusable directory only costs the cache;
 * threads loading one module at once on an empty cache all succeed and
 * leave one entry; stats, clear and the default directory. */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache_common.h"

static char base[64];

/* Warnings and info events seen by an engine. */
typedef struct log_seen {
    pthread_mutex_t lock;
    int invalid, write_failed, evicted, too_large;
} log_seen_t;

static void on_log(void *env, whirl_log_level_t level, const char *event, const char *message)
{
    log_seen_t *s = env;
    pthread_mutex_lock(&s->lock);
    if (strcmp(event, "cache_entry_invalid") == 0)
        s->invalid++;
    else if (strcmp(event, "cache_write_failed") == 0)
        s->write_failed++;
    else if (strcmp(event, "cache_evicted") == 0)
        s->evicted++;
    else if (strcmp(event, "cache_entry_too_large") == 0)
        s->too_large++;
    else
        fprintf(stderr, "  log: %s\n", message);
    pthread_mutex_unlock(&s->lock);
}

/* Paths of the entries in `dir` (up to `max`), oldest name first. */
static int entries(const char *dir, char paths[][512], int max)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (strstr(de->d_name, ".cwasm") && n < max)
            snprintf(paths[n++], 512, "%s/%s", dir, de->d_name);
    if (d)
        closedir(d);
    return n;
}

static whirl_cache_stats_t stats(const char *dir)
{
    whirl_cache_stats_t st = {0};
    CHECK_OK(whirl_cache_stats(dir, &st));
    return st;
}

static bool load(whirl_engine_t *e, const uint8_t *wasm, size_t len, bool *hit, int64_t *fib10)
{
    whirl_module_t *m = NULL;
    if (!CHECK_OK(whirl_module_new(e, wasm, len, &m)))
        return false;
    *hit = whirl_module_from_cache(m);
    if (fib10)
        *fib10 = call_export(e, m, wasm == small_wasm ? "fib" : "f2", 1, 10, 0, NULL, 0);
    whirl_module_delete(m);
    return true;
}

static void test_hits_and_damage(void)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/a/b/cache", base); /* created on first store */
    log_seen_t seen = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0};
    whirl_engine_t *e = test_engine(dir, false, on_log, &seen);
    whirl_engine_t *dbg = test_engine(dir, true, on_log, &seen);
    if (!e || !dbg)
        return;
    bool hit = true;
    int64_t r = 0;
    CHECK(load(e, small_wasm, sizeof small_wasm, &hit, &r) && !hit && r == 55);
    CHECK(load(e, small_wasm, sizeof small_wasm, &hit, &r) && hit && r == 55);
    whirl_cache_stats_t st = stats(dir);
    CHECK(st.entries == 1 && st.hits == 1 && st.misses == 1 && st.bytes > 0);
    /* Another code-affecting config is another entry. */
    CHECK(load(dbg, small_wasm, sizeof small_wasm, &hit, &r) && !hit && r == 55);
    CHECK(load(dbg, small_wasm, sizeof small_wasm, &hit, &r) && hit);
    CHECK(stats(dir).entries == 2);
    whirl_engine_delete(dbg);

    char paths[8][512];
    /* Each kind of damage: detected (warning), compiled, replaced. */
    for (int kind = 0; kind < 3; kind++) {
        whirl_cache_clear(dir);
        CHECK(load(e, small_wasm, sizeof small_wasm, &hit, &r) && !hit);
        size_t blen;
        uint8_t *other = make_module(20, 3, &blen);
        CHECK(load(e, other, blen, &hit, NULL) && !hit);
        int n = entries(dir, paths, 8);
        CHECK(n == 2);
        if (n != 2) {
            free(other);
            continue;
        }
        /* Which entry is small_wasm's: the smaller file is not (20
         * generated functions are larger). */
        struct stat s0, s1;
        stat(paths[0], &s0);
        stat(paths[1], &s1);
        const char *mine = s0.st_size < s1.st_size ? paths[0] : paths[1];
        const char *theirs = mine == paths[0] ? paths[1] : paths[0];
        if (kind == 0) { /* a flipped byte */
            int fd = open(mine, O_RDWR);
            uint8_t b;
            CHECK(pread(fd, &b, 1, 300) == 1);
            b ^= 0x10;
            CHECK(pwrite(fd, &b, 1, 300) == 1);
            close(fd);
        } else if (kind == 1) { /* truncated */
            CHECK(truncate(mine, 100) == 0);
        } else { /* another module's entry under this key */
            CHECK(rename(theirs, mine) == 0);
        }
        int before = seen.invalid;
        CHECK(load(e, small_wasm, sizeof small_wasm, &hit, &r) && !hit && r == 55);
        CHECK(seen.invalid == before + 1);
        CHECK(load(e, small_wasm, sizeof small_wasm, &hit, &r) && hit && r == 55);
        CHECK(seen.invalid == before + 1);
        CHECK(stats(dir).invalid == 1);
        free(other);
    }
    whirl_engine_delete(e);

    /* Clear: nothing left, counters reset. */
    CHECK_OK(whirl_cache_clear(dir));
    st = stats(dir);
    CHECK(st.entries == 0 && st.hits == 0 && st.misses == 0 && st.invalid == 0);
    CHECK(entries(dir, paths, 8) == 0);
    /* A directory that does not exist is an empty cache. */
    char none[300];
    snprintf(none, sizeof none, "%s/none", base);
    CHECK(stats(none).entries == 0);
    CHECK_OK(whirl_cache_clear(none));
}

/* Sets the modification time of `path` to `ago` seconds in the past. */
static void age(const char *path, int ago)
{
    struct timespec t[2];
    clock_gettime(CLOCK_REALTIME, &t[0]);
    t[0].tv_sec -= ago;
    t[1] = t[0];
    CHECK(utimensat(AT_FDCWD, path, t, 0) == 0);
}

static void test_eviction(void)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/lru", base);
    size_t la, lb, lc;
    uint8_t *a = make_module(40, 1, &la), *b = make_module(40, 2, &lb),
            *c = make_module(40, 3, &lc);
    /* Find an entry's size with an unbounded cache. */
    log_seen_t seen = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0};
    whirl_engine_t *e = test_engine(dir, false, on_log, &seen);
    bool hit;
    if (!e || !load(e, a, la, &hit, NULL))
        goto out;
    uint64_t one = stats(dir).bytes;
    whirl_cache_clear(dir);
    whirl_engine_delete(e);
    /* Room for two entries and a half. */
    whirl_config_t *cfg = whirl_config_new();
    whirl_config_use_env(cfg, false);
    whirl_config_epoch_interval_set(cfg, 0);
    whirl_config_pooling_set(cfg, false);
    whirl_config_log_set(cfg, on_log, &seen);
    CHECK_OK(whirl_config_enable_cache(cfg, dir));
    char max[32];
    snprintf(max, sizeof max, "%llu", (unsigned long long)(one * 5 / 2));
    CHECK_OK(whirl_config_set(cfg, "cache_max_size", max));
    e = NULL;
    if (!CHECK_OK(whirl_engine_new(cfg, &e)))
        goto out;
    char paths[8][512], pa[512], pb[512];
    CHECK(load(e, a, la, &hit, NULL) && !hit);
    CHECK(entries(dir, paths, 8) == 1);
    snprintf(pa, sizeof pa, "%s", paths[0]);
    age(pa, 300);
    CHECK(load(e, b, lb, &hit, NULL) && !hit);
    int n = entries(dir, paths, 8);
    CHECK(n == 2);
    snprintf(pb, sizeof pb, "%s", strcmp(paths[0], pa) ? paths[0] : paths[1]);
    age(pb, 200);
    /* a is used again: it is now the most recent, b the least. */
    CHECK(load(e, a, la, &hit, NULL) && hit);
    CHECK(load(e, c, lc, &hit, NULL) && !hit);
    CHECK(access(pa, F_OK) == 0);
    CHECK(access(pb, F_OK) != 0);
    CHECK(entries(dir, paths, 8) == 2);
    whirl_cache_stats_t st = stats(dir);
    CHECK(st.evictions == 1 && st.bytes <= one * 5 / 2);
    CHECK(seen.evicted == 1);
    CHECK(load(e, a, la, &hit, NULL) && hit);
    CHECK(load(e, b, lb, &hit, NULL) && !hit); /* compiled again */
    whirl_engine_delete(e);

    /* An entry larger than the bound is not stored. */
    cfg = whirl_config_new();
    whirl_config_use_env(cfg, false);
    whirl_config_epoch_interval_set(cfg, 0);
    whirl_config_pooling_set(cfg, false);
    whirl_config_log_set(cfg, on_log, &seen);
    CHECK_OK(whirl_config_enable_cache(cfg, dir));
    CHECK_OK(whirl_config_set(cfg, "cache_max_size", "1k"));
    whirl_cache_clear(dir);
    e = NULL;
    if (CHECK_OK(whirl_engine_new(cfg, &e))) {
        CHECK(load(e, a, la, &hit, NULL) && !hit);
        CHECK(seen.too_large == 1 && stats(dir).entries == 0);
        whirl_engine_delete(e);
    }
out:
    free(a);
    free(b);
    free(c);
}

/* A cache that cannot be used: modules still load, with a warning. */
static void test_unusable(void)
{
    char file[256], dir[300];
    snprintf(file, sizeof file, "%s/plain-file", base);
    FILE *f = fopen(file, "w");
    if (f)
        fclose(f);
    snprintf(dir, sizeof dir, "%s/cache", file); /* under a regular file */
    log_seen_t seen = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0};
    whirl_engine_t *e = test_engine(dir, false, on_log, &seen);
    bool hit = true;
    int64_t r;
    if (!e)
        return;
    CHECK(load(e, small_wasm, sizeof small_wasm, &hit, &r) && !hit && r == 55);
    CHECK(seen.write_failed == 1);
    /* Invalid modules are reported as without a cache, and not stored. */
    whirl_module_t *m = NULL;
    whirl_error_t *err = whirl_module_new(e, (const uint8_t *)"\0asm\2\0\0\0", 8, &m);
    CHECK(err && m == NULL);
    whirl_error_delete(err);
    whirl_engine_delete(e);
}

/* ---- threads ---- */

typedef struct racer {
    whirl_engine_t *engine;
    const uint8_t *wasm;
    size_t len;
    pthread_barrier_t *start;
    bool ok;
    int64_t result;
} racer_t;

static void *race(void *arg)
{
    racer_t *r = arg;
    pthread_barrier_wait(r->start);
    whirl_module_t *m = NULL;
    whirl_error_t *err = whirl_module_new(r->engine, r->wasm, r->len, &m);
    r->ok = err == NULL;
    whirl_error_delete(err);
    if (m) {
        r->result = call_export(r->engine, m, "last", 1, 5, 0, NULL, 0);
        whirl_module_delete(m);
    }
    return NULL;
}

static void test_threads(void)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/threads", base);
    log_seen_t seen = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0};
    whirl_engine_t *e = test_engine(dir, false, on_log, &seen);
    if (!e)
        return;
    size_t len;
    uint8_t *wasm = make_module(2000, 11, &len);
    enum { N = 4 };
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, N);
    racer_t racers[N];
    pthread_t threads[N];
    for (int i = 0; i < N; i++) {
        racers[i] = (racer_t){e, wasm, len, &start, false, 0};
        pthread_create(&threads[i], NULL, race, &racers[i]);
    }
    for (int i = 0; i < N; i++)
        pthread_join(threads[i], NULL);
    for (int i = 0; i < N; i++)
        CHECK(racers[i].ok && racers[i].result == racers[0].result &&
              racers[i].result != INT64_MIN);
    char paths[8][512];
    CHECK(entries(dir, paths, 8) == 1);
    whirl_cache_stats_t st = stats(dir);
    CHECK(st.hits + st.misses == N && st.misses >= 1 && st.invalid == 0);
    CHECK(seen.invalid == 0 && seen.write_failed == 0);
    /* No temporary file is left behind. */
    DIR *d = opendir(dir);
    struct dirent *de;
    int tmp = 0;
    while (d && (de = readdir(d)))
        tmp += strncmp(de->d_name, ".tmp-", 5) == 0;
    if (d)
        closedir(d);
    CHECK(tmp == 0);
    bool hit = false;
    CHECK(load(e, wasm, len, &hit, NULL) && hit);
    pthread_barrier_destroy(&start);
    free(wasm);
    whirl_engine_delete(e);
}

static void test_default_dir(void)
{
    char *saved_xdg = getenv("XDG_CACHE_HOME") ? strdup(getenv("XDG_CACHE_HOME")) : NULL;
    char *saved_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    char *d = NULL;
    setenv("XDG_CACHE_HOME", "/x/cache", 1);
    CHECK_OK(whirl_cache_default_dir(&d));
    CHECK(d && strcmp(d, "/x/cache/whirl") == 0);
    free(d);
    setenv("XDG_CACHE_HOME", "relative/ignored", 1);
    setenv("HOME", "/home/u", 1);
    CHECK_OK(whirl_cache_default_dir(&d));
    CHECK(d && strcmp(d, "/home/u/.cache/whirl") == 0);
    free(d);
    unsetenv("XDG_CACHE_HOME");
    unsetenv("HOME");
    CHECK_ERR(whirl_cache_default_dir(&d), "HOME");
    /* whirl_config_enable_cache(NULL) takes the default. */
    setenv("HOME", "/home/v", 1);
    whirl_config_t *c = whirl_config_new();
    CHECK_OK(whirl_config_enable_cache(c, NULL));
    whirl_config_item_t it;
    bool found = false;
    for (size_t i = 0; i < whirl_config_item_count(); i++)
        if (whirl_config_item(c, i, &it) && strcmp(it.name, "cache") == 0)
            found = strcmp(it.value, "/home/v/.cache/whirl") == 0;
    CHECK(found);
    whirl_config_delete(c);
    if (saved_xdg)
        setenv("XDG_CACHE_HOME", saved_xdg, 1);
    else
        unsetenv("XDG_CACHE_HOME");
    if (saved_home)
        setenv("HOME", saved_home, 1);
    else
        unsetenv("HOME");
    free(saved_xdg);
    free(saved_home);
}

int main(void)
{
    snprintf(base, sizeof base, "/tmp/whirl-test-cache-dir-XXXXXX");
    if (!mkdtemp(base)) {
        perror("mkdtemp");
        return 1;
    }
    test_hits_and_damage();
    test_eviction();
    test_unusable();
    test_threads();
    test_default_dir();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", base);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
