/* The compilation cache: a directory of serialised modules (see
 * src/runtime/serialize.c), one file per module and engine build, so that
 * a host restarting does not compile its modules again.
 *
 * This layer sits below the runtime: it stores bytes under keys and knows
 * nothing of modules (src/runtime/module_cache.c serialises and loads).
 *
 * Layout of the directory:
 *   KEY.cwasm       an entry: the serialised module, then a trailer with
 *                   the module's original bytes, their length (u64) and
 *                   the magic "WHIRLSRC"; KEY is 32 hex digits of
 *                   XXH3-128(salt, bytes), the salt holding what the
 *                   entry depends on besides the bytes (the runtime's:
 *                   format, version, build fingerprint, code flags and
 *                   the native code key: CPU, LLVM version, build id)
 *   .tmp-*          an entry being written (renamed into place when whole)
 *   stats           counters shared by every process (hits, misses, ...),
 *                   updated under flock
 *   evict.lock      held (flock) by the process evicting, so that two
 *                   processes do not both scan and delete
 *
 * Keys and collisions: a hit must never serve one module's code for
 * another's bytes, even to someone crafting colliding modules. Rather than
 * a cryptographic hash (SHA-256 would be most of a hit's cost: about
 * 0.5 ns a byte even with the CPU's SHA instructions), an entry keeps the
 * module's bytes and a hit compares them in full: no collision can pass a
 * byte-for-byte comparison, and XXH3 plus memcmp cost a fraction of the
 * hash. A crafted collision can only make two modules evict each other.
 *
 * Concurrency: writers never modify a visible file; they write a private
 * temporary file in the directory and rename() it over the entry, which is
 * atomic, so readers see the old entry, the new one, or none, and two
 * processes compiling the same module both succeed and leave one entry
 * (identical bytes, since serialisation is deterministic). Entries are not
 * fsync'd: after a crash an entry may be damaged, which its checksum
 * catches, and it is then compiled again and replaced.
 *
 * Size bound: after storing an entry, if the entries exceed cache_max_size
 * bytes, the least recently used are deleted. A hit sets the entry's
 * modification time to now, so mtime orders entries by last use (atime is
 * unreliable under relatime/noatime mounts). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "cache/cache.h"
#include "util/error.h"

#define ENTRY_SUFFIX ".cwasm"
#define TMP_PREFIX ".tmp-"
/* A temporary file this old was left by a process that died. */
#define STALE_TMP_SECONDS 3600

/* ---- keys ---- */

#define KEY_HEX CACHE_KEY_HEX
#define TRAILER_MAGIC "WHIRLSRC"
#define TRAILER_SIZE 16 /* u64 source length + magic */

void cache_source_digest(const uint8_t *data, size_t len, uint8_t out[32])
{
    XXH128_hash_t h = XXH3_128bits(data, len);
    memset(out, 0, 32);
    memcpy(out, &h.low64, 8);
    memcpy(out + 8, &h.high64, 8);
}

void cache_key(const void *salt, size_t salt_len, const uint8_t *wasm, size_t len,
               char hex[CACHE_KEY_HEX + 1])
{
    XXH128_hash_t seed = XXH3_128bits(salt, salt_len);
    XXH128_hash_t h = XXH3_128bits_withSeed(wasm, len, seed.low64 ^ seed.high64);
    snprintf(hex, CACHE_KEY_HEX + 1, "%016llx%016llx", (unsigned long long)h.high64,
             (unsigned long long)h.low64);
}

/* ---- directory helpers ---- */

/* mkdir -p, private to the user (entries are code). */
static int make_dirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return -1;
        buf[i] = c;
    }
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

static bool is_entry_name(const char *name)
{
    size_t n = strlen(name);
    if (n != KEY_HEX + strlen(ENTRY_SUFFIX) || strcmp(name + KEY_HEX, ENTRY_SUFFIX) != 0)
        return false;
    for (int i = 0; i < KEY_HEX; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
            return false;
    return true;
}

/* ---- counters ---- */

enum { STAT_HITS = CACHE_STAT_HITS, STAT_MISSES = CACHE_STAT_MISSES,
       STAT_INVALID = CACHE_STAT_INVALID, STAT_EVICTIONS = CACHE_STAT_EVICTIONS,
       NSTATS = CACHE_NSTATS };
#define STATS_MAGIC "WHIRLCS1"

/* Adds `delta` to counter `which` of the directory (best effort: a cache
 * whose counters cannot be kept still works). */
static void stats_add(const char *dir, int which, uint64_t delta)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/stats", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    if (flock(fd, LOCK_EX) == 0) {
        uint8_t buf[8 + 8 * NSTATS] = {0};
        uint64_t v[NSTATS] = {0};
        if (pread(fd, buf, sizeof buf, 0) == (ssize_t)sizeof buf &&
            memcmp(buf, STATS_MAGIC, 8) == 0)
            memcpy(v, buf + 8, sizeof v);
        v[which] += delta;
        memcpy(buf, STATS_MAGIC, 8);
        memcpy(buf + 8, v, sizeof v);
        if (pwrite(fd, buf, sizeof buf, 0) != (ssize_t)sizeof buf) {
            /* counters are advisory */
        }
    }
    close(fd); /* releases the lock */
}

static void stats_read(const char *dir, uint64_t v[NSTATS])
{
    memset(v, 0, NSTATS * sizeof *v);
    char path[4200];
    snprintf(path, sizeof path, "%s/stats", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    uint8_t buf[8 + 8 * NSTATS];
    if (flock(fd, LOCK_SH) == 0 && pread(fd, buf, sizeof buf, 0) == (ssize_t)sizeof buf &&
        memcmp(buf, STATS_MAGIC, 8) == 0)
        memcpy(v, buf + 8, NSTATS * sizeof *v);
    close(fd);
}

/* ---- eviction ---- */

typedef struct entry_info {
    char name[72];
    uint64_t size;
    struct timespec mtime;
} entry_info_t;

static int older_first(const void *pa, const void *pb)
{
    const entry_info_t *a = pa, *b = pb;
    if (a->mtime.tv_sec != b->mtime.tv_sec)
        return a->mtime.tv_sec < b->mtime.tv_sec ? -1 : 1;
    if (a->mtime.tv_nsec != b->mtime.tv_nsec)
        return a->mtime.tv_nsec < b->mtime.tv_nsec ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* Lists the entries of `dir` (and, if `remove_tmp_older` >= 0, deletes
 * temporary files older than that many seconds). *out is malloc'd. */
static int list_entries(const char *dir, entry_info_t **out, size_t *count, uint64_t *bytes,
                        long remove_tmp_older)
{
    *out = NULL;
    *count = 0;
    *bytes = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    int dfd = dirfd(d);
    size_t cap = 0;
    entry_info_t *list = NULL;
    time_t now = time(NULL);
    struct dirent *de;
    while ((de = readdir(d))) {
        bool tmp = strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0;
        if (!tmp && !is_entry_name(de->d_name))
            continue;
        struct stat st;
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue; /* gone meanwhile, or not ours */
        if (tmp) {
            if (remove_tmp_older >= 0 && now - st.st_mtime > remove_tmp_older)
                unlinkat(dfd, de->d_name, 0);
            continue;
        }
        if (*count == cap) {
            size_t ncap = cap ? 2 * cap : 64;
            entry_info_t *n = realloc(list, ncap * sizeof *n);
            if (!n) {
                free(list);
                closedir(d);
                errno = ENOMEM;
                return -1;
            }
            list = n;
            cap = ncap;
        }
        entry_info_t *e = &list[(*count)++];
        memcpy(e->name, de->d_name, 64 + sizeof ENTRY_SUFFIX); /* is_entry_name: 70 + NUL */
        e->size = (uint64_t)st.st_size;
        e->mtime = st.st_mtim;
        *bytes += e->size;
    }
    closedir(d);
    *out = list;
    return 0;
}

/* Deletes least recently used entries until the rest fit in `max` bytes.
 * One process at a time: another already evicting will do it. */
static void evict(const cache_log_t *log, const char *dir, uint64_t max)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/evict.lock", dir);
    int lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0)
        return;
    if (flock(lock, LOCK_EX | LOCK_NB) != 0) {
        close(lock);
        return;
    }
    entry_info_t *list;
    size_t n;
    uint64_t total;
    if (list_entries(dir, &list, &n, &total, STALE_TMP_SECONDS) == 0 && total > max) {
        qsort(list, n, sizeof *list, older_first);
        uint64_t removed = 0;
        for (size_t i = 0; i < n && total > max; i++) {
            snprintf(path, sizeof path, "%s/%s", dir, list[i].name);
            if (unlink(path) == 0 || errno == ENOENT) {
                total -= list[i].size;
                removed++;
            }
        }
        if (removed) {
            stats_add(dir, STAT_EVICTIONS, removed);
            char detail[4400];
            snprintf(detail, sizeof detail, "entries=%llu dir=\"%s\" max_size=%llu",
                     (unsigned long long)removed, dir, (unsigned long long)max);
            log->log(log->ctx, WHIRL_LOG_INFO, "cache_evicted", detail);
        }
    }
    free(list);
    close(lock);
}

/* ---- storing ---- */

static atomic_uint tmp_counter;

/* Writes `data` to `final` through a temporary file in the same
 * directory. Returns 0 or an errno value. */
static int write_atomically(const char *dir, const char *final, const uint8_t *data,
                            size_t len)
{
    char tmp[4200];
    unsigned n = atomic_fetch_add(&tmp_counter, 1);
    snprintf(tmp, sizeof tmp, "%s/" TMP_PREFIX "%d-%ld-%u", dir, (int)getpid(),
             (long)gettid(), n);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            close(fd);
            unlink(tmp);
            return e;
        }
        done += (size_t)w;
    }
    if (close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return e;
    }
    if (rename(tmp, final) != 0) {
        int e = errno;
        unlink(tmp);
        return e;
    }
    return 0;
}

static void log_write_failed(const cache_log_t *log, const char *path, const char *why)
{
    char detail[4400];
    snprintf(detail, sizeof detail, "path=\"%s\" reason=\"%s\"", path, why);
    log->log(log->ctx, WHIRL_LOG_WARNING, "cache_write_failed", detail);
}

void cache_count(const char *dir, enum cache_stat which, uint64_t delta)
{
    stats_add(dir, which, delta);
}

void cache_store(const char *dir, const char *key, uint8_t *data, size_t len,
                 const uint8_t *wasm, size_t wasm_len, uint64_t max, const cache_log_t *log)
{
    char path[4200];
    int pn = snprintf(path, sizeof path, "%s/%s" ENTRY_SUFFIX, dir, key);
    if (pn < 0 || (size_t)pn >= sizeof path) {
        free(data);
        return;
    }
    if (make_dirs(dir) != 0) {
        log_write_failed(log, dir, strerror(errno));
        free(data);
        return;
    }
    size_t total = len + wasm_len + TRAILER_SIZE;
    if (total > max) {
        char detail[4400];
        snprintf(detail, sizeof detail, "path=\"%s\" size=%zu max_size=%llu", path, total,
                 (unsigned long long)max);
        log->log(log->ctx, WHIRL_LOG_INFO, "cache_entry_too_large", detail);
        free(data);
        return;
    }
    /* The trailer: the source bytes a hit compares with (see the top). */
    uint8_t *entry = realloc(data, total);
    if (!entry) {
        free(data);
        return;
    }
    memcpy(entry + len, wasm, wasm_len);
    uint64_t n = wasm_len;
    memcpy(entry + len + wasm_len, &n, 8);
    memcpy(entry + len + wasm_len + 8, TRAILER_MAGIC, 8);
    int e = write_atomically(dir, path, entry, total);
    free(entry);
    if (e) {
        log_write_failed(log, path, strerror(e));
        return;
    }
    evict(log, dir, max);
}

/* ---- lookup ---- */

int cache_lookup(const char *dir, const char *key, const uint8_t *wasm, size_t len,
                 module_image_t *image, whirl_error_t **why)
{
    memset(image, 0, sizeof *image);
    char path[4200];
    int pn = snprintf(path, sizeof path, "%s/%s" ENTRY_SUFFIX, dir, key);
    if (pn < 0 || (size_t)pn >= sizeof path)
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        *why = error_fmt("%s", strerror(errno));
        return -1;
    }
    whirl_error_t *err = image_read_fd(fd, path, TRAILER_SIZE, image);
    if (!err) {
        /* The trailer's source bytes must be exactly the module's. */
        const uint8_t *b = image->file.base;
        size_t flen = image->file.len;
        uint64_t slen;
        if (flen < TRAILER_SIZE || memcmp(b + flen - 8, TRAILER_MAGIC, 8) != 0 ||
            (memcpy(&slen, b + flen - TRAILER_SIZE, 8), slen > flen - TRAILER_SIZE))
            err = error_fmt("corrupted cache entry: no source trailer");
        else if (slen != len || memcmp(b + flen - TRAILER_SIZE - slen, wasm, len) != 0)
            err = error_fmt("entry made from another module (misfiled, or a key collision)");
        else {
            image->file.len = flen - TRAILER_SIZE - (size_t)slen;
            /* Still mapped or allocated with the rest: the runtime takes
             * function bodies from it (image.h). */
            image->source = b + image->file.len;
            image->source_len = (size_t)slen;
        }
        if (err)
            module_image_free(image);
    }
    if (err) {
        close(fd);
        *why = err;
        return -1;
    }
    /* Mark it used for the LRU order. A read-only cache still serves. */
    futimens(fd, NULL);
    close(fd);
    return 1;
}

/* ---- public API ---- */

whirl_error_t *whirl_cache_default_dir(char **out)
{
    if (!out)
        return error_fmt("whirl_cache_default_dir: out is NULL");
    *out = NULL;
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    char buf[4200];
    /* XDG: a relative XDG_CACHE_HOME is invalid and ignored. */
    if (xdg && xdg[0] == '/')
        snprintf(buf, sizeof buf, "%s/whirl", xdg);
    else if (home && home[0])
        snprintf(buf, sizeof buf, "%s/.cache/whirl", home);
    else
        return error_fmt("no default cache directory: neither XDG_CACHE_HOME nor HOME is set");
    if (!(*out = strdup(buf)))
        return error_oom();
    return NULL;
}

whirl_error_t *whirl_cache_stats(const char *dir, whirl_cache_stats_t *out)
{
    if (!dir || !out)
        return error_fmt("whirl_cache_stats: dir or out is NULL");
    memset(out, 0, sizeof *out);
    entry_info_t *list;
    size_t n;
    uint64_t bytes;
    if (list_entries(dir, &list, &n, &bytes, -1) != 0)
        return error_fmt("%s: %s", dir, strerror(errno));
    free(list);
    out->entries = n;
    out->bytes = bytes;
    uint64_t v[NSTATS];
    stats_read(dir, v);
    out->hits = v[STAT_HITS];
    out->misses = v[STAT_MISSES];
    out->invalid = v[STAT_INVALID];
    out->evictions = v[STAT_EVICTIONS];
    return NULL;
}

whirl_error_t *whirl_cache_clear(const char *dir)
{
    if (!dir)
        return error_fmt("whirl_cache_clear: dir is NULL");
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? NULL : error_fmt("%s: %s", dir, strerror(errno));
    int dfd = dirfd(d);
    int failed = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        /* Someone else's temporary file is theirs to rename: leaving it
         * would be fine, but clear means clear, and their rename then
         * fails harmlessly with a warning. */
        bool ours = is_entry_name(de->d_name) ||
                    strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0 ||
                    strcmp(de->d_name, "stats") == 0;
        if (ours && unlinkat(dfd, de->d_name, 0) != 0 && errno != ENOENT)
            failed = errno;
    }
    closedir(d);
    if (failed)
        return error_fmt("%s: cannot remove every entry: %s", dir, strerror(failed));
    return NULL;
}
