/* The guest profiler (see profile.h). The sampler callback runs on the
 * guest's thread inside the interpreter: it interns what it sees and keeps
 * only indices, so a sample costs a few hash lookups; names and source
 * lines are looked up once per distinct code position (while its module is
 * alive, so the files can be written after everything is gone). */
#include "profile.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* A growable array of T: `NAME`, `NAME_n`, `NAME_cap`. */
#define GROW(arr, n, cap)                                                       \
    ((n) < (cap) || grow_array((void **)&(arr), &(cap), sizeof *(arr), (n) + 1))

static bool grow_array(void **arr, size_t *cap, size_t elem, size_t need)
{
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *p = realloc(*arr, c * elem);
    if (!p)
        return false;
    *arr = p;
    *cap = c;
    return true;
}

/* Interning of small keys (three words) to dense indices, by open
 * addressing; the keys live in `keys`, the table holds index + 1. */
typedef struct key3 {
    uint64_t a, b, c;
} key3_t;

typedef struct intern {
    key3_t *keys;
    size_t n, cap;
    uint32_t *slots;
    size_t nslots; /* a power of two, at least twice n */
} intern_t;

static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

static uint64_t key_hash(key3_t k) { return mix(k.a ^ mix(k.b ^ mix(k.c))); }

static bool intern_rehash(intern_t *t, size_t nslots)
{
    uint32_t *s = calloc(nslots, sizeof *s);
    if (!s)
        return false;
    for (size_t i = 0; i < t->n; i++) {
        size_t j = key_hash(t->keys[i]) & (nslots - 1);
        while (s[j])
            j = (j + 1) & (nslots - 1);
        s[j] = (uint32_t)i + 1;
    }
    free(t->slots);
    t->slots = s;
    t->nslots = nslots;
    return true;
}

/* The index of `k`, added if new (*added set); -1 when out of memory. */
static int64_t intern_get(intern_t *t, key3_t k, bool *added)
{
    *added = false;
    if (2 * (t->n + 1) > t->nslots && !intern_rehash(t, t->nslots ? t->nslots * 2 : 64))
        return -1;
    size_t j = key_hash(k) & (t->nslots - 1);
    for (; t->slots[j]; j = (j + 1) & (t->nslots - 1)) {
        const key3_t *e = &t->keys[t->slots[j] - 1];
        if (e->a == k.a && e->b == k.b && e->c == k.c)
            return t->slots[j] - 1;
    }
    if (t->n >= UINT32_MAX - 1 || !GROW(t->keys, t->n, t->cap))
        return -1;
    t->keys[t->n] = k;
    t->slots[j] = (uint32_t)t->n + 1;
    *added = true;
    return (int64_t)t->n++;
}

static void intern_free(intern_t *t)
{
    free(t->keys);
    free(t->slots);
}

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

typedef struct func_row {
    uint32_t name, file; /* string indices; file UINT32_MAX: unknown */
} func_row_t;

typedef struct frame_row {
    uint32_t func, line, column; /* line/column 0: unknown */
} frame_row_t;

typedef struct stack_row {
    int64_t prefix; /* -1: a root */
    uint32_t frame;
} stack_row_t;

typedef struct site_row {
    uint32_t first, count; /* its frames in site_frames, outermost first */
} site_row_t;

struct cli_profile {
    pthread_mutex_t lock;
    char *base;
    char *product;
    uint64_t interval_us;
    struct timespec start;      /* CLOCK_MONOTONIC: sample times count from it */
    double start_unix_ms;       /* the same moment on the wall clock (meta.startTime) */
    bool stopped, out_of_memory;

    char **strings;
    size_t nstrings, strings_cap;
    intern_t string_ids; /* key: (content hash, string index, 0) chains by hash */

    intern_t func_ids;   /* (name, file) */
    func_row_t *funcs;
    size_t nfuncs, funcs_cap;
    intern_t frame_ids;  /* (func, line, column) */
    frame_row_t *frames;
    size_t nframes, frames_cap;
    intern_t stack_ids;  /* (prefix + 1, frame) */
    stack_row_t *stacks;
    size_t nstacks, stacks_cap;
    intern_t site_ids;   /* (module, func index, offset) */
    site_row_t *sites;
    size_t nsites, sites_cap;
    uint32_t *site_frames;
    size_t nsite_frames, site_frames_cap;

    uint32_t *sample_stack;
    double *sample_time;
    size_t nsamples, samples_cap;
};

/* A copy of `s` that is valid UTF-8 without control characters (names
 * come from untrusted modules, and JSON and XML readers refuse less):
 * other bytes become '?'. */
static char *clean_text(const char *s)
{
    size_t len = strlen(s);
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t n = u[i] < 0x80 ? 1 : (u[i] & 0xe0) == 0xc0 ? 2 : (u[i] & 0xf0) == 0xe0 ? 3
                                 : (u[i] & 0xf8) == 0xf0 ? 4 : 0;
        bool valid = n > 0 && i + n <= len && !(n == 2 && u[i] < 0xc2) &&
                     !(n == 4 && u[i] > 0xf4);
        for (size_t k = 1; valid && k < n; k++)
            valid = (u[i + k] & 0xc0) == 0x80;
        if (valid && n == 3) /* no overlong forms, no surrogates */
            valid = !(u[i] == 0xe0 && u[i + 1] < 0xa0) && !(u[i] == 0xed && u[i + 1] >= 0xa0);
        if (valid && n == 4)
            valid = !(u[i] == 0xf0 && u[i + 1] < 0x90) && !(u[i] == 0xf4 && u[i + 1] >= 0x90);
        if (!valid || (n == 1 && (u[i] < 0x20 || u[i] == 0x7f))) {
            out[i] = '?';
            i++;
            continue;
        }
        memcpy(out + i, s + i, n);
        i += n;
    }
    out[len] = '\0';
    return out;
}

/* String interning: the hash picks a bucket chain in string_ids whose keys
 * are (hash, n-th string with that hash, 0); each is compared in full. */
static int64_t string_id(cli_profile_t *p, const char *s)
{
    uint64_t h = str_hash(s);
    for (uint64_t k = 0;; k++) {
        bool added;
        int64_t slot = intern_get(&p->string_ids, (key3_t){h, k, 0}, &added);
        if (slot < 0)
            return -1;
        if (!added) {
            if (strcmp(p->strings[slot], s) == 0)
                return slot;
            continue;
        }
        /* Slot indices and string indices advance together. A failure
         * leaves the table one key ahead of the strings: harmless, since
         * running out of memory ends the sampling (on_sample) and writing
         * reads only the strings. */
        char *copy = strdup(s);
        if (!copy || !GROW(p->strings, p->nstrings, p->strings_cap)) {
            free(copy);
            return -1;
        }
        p->strings[p->nstrings++] = copy;
        return slot;
    }
}

static int64_t func_id(cli_profile_t *p, const char *name_raw, const char *file_raw)
{
    char *name = clean_text(name_raw), *file = file_raw ? clean_text(file_raw) : NULL;
    int64_t n = name ? string_id(p, name) : -1;
    int64_t f = !file_raw ? UINT32_MAX : file ? string_id(p, file) : -1;
    free(name);
    free(file);
    if (n < 0 || f < 0)
        return -1;
    bool added;
    int64_t id = intern_get(&p->func_ids, (key3_t){(uint64_t)n, (uint64_t)f, 0}, &added);
    if (id >= 0 && added) {
        if (!GROW(p->funcs, p->nfuncs, p->funcs_cap))
            return -1;
        p->funcs[p->nfuncs++] = (func_row_t){(uint32_t)n, (uint32_t)f};
    }
    return id;
}

static int64_t frame_id(cli_profile_t *p, uint32_t func, uint32_t line, uint32_t column)
{
    bool added;
    int64_t id = intern_get(&p->frame_ids, (key3_t){func, line, column}, &added);
    if (id >= 0 && added) {
        if (!GROW(p->frames, p->nframes, p->frames_cap))
            return -1;
        p->frames[p->nframes++] = (frame_row_t){func, line, column};
    }
    return id;
}

static int64_t stack_id(cli_profile_t *p, int64_t prefix, uint32_t frame)
{
    bool added;
    int64_t id = intern_get(&p->stack_ids, (key3_t){(uint64_t)(prefix + 1), frame, 0}, &added);
    if (id >= 0 && added) {
        if (!GROW(p->stacks, p->nstacks, p->stacks_cap))
            return -1;
        p->stacks[p->nstacks++] = (stack_row_t){prefix, frame};
    }
    return id;
}

/* Names of a name-section function, demangled; "func[N]" without one. */
static char *wasm_func_label(const whirl_sample_frame_t *f)
{
    if (f->func_name)
        return cli_demangle(f->func_name);
    char buf[32];
    snprintf(buf, sizeof buf, "func[%u]", f->func_index);
    return strdup(buf);
}

/* The frames one code position stands for: its inlined functions from the
 * DWARF, outermost first, or the function alone. */
static int64_t site_id(cli_profile_t *p, const whirl_sample_frame_t *f)
{
    bool added;
    int64_t id = intern_get(&p->site_ids,
                            (key3_t){(uint64_t)(uintptr_t)f->module, f->func_index, f->offset},
                            &added);
    if (id < 0 || !added)
        return id;
    if (!GROW(p->sites, p->nsites, p->sites_cap))
        return -1;
    whirl_source_location_t locs[16];
    size_t n = whirl_module_source_locations(f->module, f->offset, locs, 16);
    if (n > 16)
        n = 16;
    site_row_t row = {(uint32_t)p->nsite_frames, 0};
    for (size_t k = n; k-- > 0;) {
        /* The outermost DWARF function is the wasm function itself. */
        char *name = locs[k].function        ? cli_demangle(locs[k].function)
                     : k == n - 1             ? wasm_func_label(f)
                                              : strdup("??");
        int64_t fn = name ? func_id(p, name, locs[k].file) : -1;
        free(name);
        int64_t fr = fn < 0 ? -1 : frame_id(p, (uint32_t)fn, locs[k].line, locs[k].column);
        if (fr < 0 || !GROW(p->site_frames, p->nsite_frames, p->site_frames_cap))
            return -1;
        p->site_frames[p->nsite_frames++] = (uint32_t)fr;
        row.count++;
    }
    if (n == 0) {
        char *name = wasm_func_label(f);
        int64_t fn = name ? func_id(p, name, NULL) : -1;
        free(name);
        int64_t fr = fn < 0 ? -1 : frame_id(p, (uint32_t)fn, 0, 0);
        if (fr < 0 || !GROW(p->site_frames, p->nsite_frames, p->site_frames_cap))
            return -1;
        p->site_frames[p->nsite_frames++] = (uint32_t)fr;
        row.count = 1;
    }
    p->sites[p->nsites++] = row;
    return id;
}

static double elapsed_ms(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) * 1e3 +
           (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

static void on_sample(void *env, const whirl_sample_frame_t *frames, size_t nframes)
{
    cli_profile_t *p = env;
    pthread_mutex_lock(&p->lock);
    if (p->stopped || p->out_of_memory)
        goto out;
    int64_t stack = -1;
    for (size_t i = nframes; i-- > 0;) {
        int64_t site = site_id(p, &frames[i]);
        if (site < 0)
            goto oom;
        const site_row_t *s = &p->sites[site];
        for (uint32_t k = 0; k < s->count; k++)
            if ((stack = stack_id(p, stack, p->site_frames[s->first + k])) < 0)
                goto oom;
    }
    if (stack < 0)
        goto out;
    if (p->nsamples == p->samples_cap) {
        size_t cap = p->samples_cap;
        if (!grow_array((void **)&p->sample_stack, &cap, sizeof *p->sample_stack,
                        p->nsamples + 1))
            goto oom;
        cap = p->samples_cap;
        if (!grow_array((void **)&p->sample_time, &cap, sizeof *p->sample_time,
                        p->nsamples + 1))
            goto oom;
        p->samples_cap = cap;
    }
    p->sample_stack[p->nsamples] = (uint32_t)stack;
    p->sample_time[p->nsamples] = elapsed_ms(&p->start);
    p->nsamples++;
    goto out;
oom:
    p->out_of_memory = true;
out:
    pthread_mutex_unlock(&p->lock);
}

bool cli_profile_parse(const char *arg, char *base, size_t base_len, uint64_t *interval_us,
                       char *why, size_t why_len)
{
    *interval_us = CLI_PROFILE_DEFAULT_INTERVAL_US;
    snprintf(base, base_len, "whirl-guest-profile");
    const char *comma = strchr(arg, ',');
    size_t kind_len = comma ? (size_t)(comma - arg) : strlen(arg);
    if (kind_len != 5 || memcmp(arg, "guest", 5) != 0) {
        snprintf(why, why_len, "--profile: unknown strategy '%.*s' (expected guest[,PATH[,INTERVAL]])",
                 (int)kind_len, arg);
        return false;
    }
    if (!comma)
        return true;
    const char *path = comma + 1, *comma2 = strchr(path, ',');
    size_t path_len = comma2 ? (size_t)(comma2 - path) : strlen(path);
    if (path_len) {
        if (path_len >= 5 && memcmp(path + path_len - 5, ".json", 5) == 0)
            path_len -= 5;
        if (path_len == 0 || path_len >= base_len) {
            snprintf(why, why_len, "--profile: bad path '%.*s'", (int)path_len, path);
            return false;
        }
        memcpy(base, path, path_len);
        base[path_len] = '\0';
    }
    if (comma2) {
        uint64_t ns;
        whirl_error_t *err = whirl_parse_duration(comma2 + 1, &ns);
        if (err || ns < 100000 || ns > 1000000000ULL) {
            snprintf(why, why_len,
                     "--profile: bad interval '%s' (a duration from 100us to 1s, e.g. 1ms)%s%s",
                     comma2 + 1, err ? ": " : "", err ? whirl_error_message(err) : "");
            whirl_error_delete(err);
            return false;
        }
        *interval_us = ns / 1000;
    }
    return true;
}

cli_profile_t *cli_profile_new(const char *base, uint64_t interval_us, const char *product)
{
    cli_profile_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->base = strdup(base);
    p->product = strdup(product ? product : "whirl");
    if (!p->base || !p->product) {
        free(p->base);
        free(p->product);
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    p->interval_us = interval_us;
    clock_gettime(CLOCK_MONOTONIC, &p->start);
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    p->start_unix_ms = (double)wall.tv_sec * 1e3 + (double)wall.tv_nsec / 1e6;
    return p;
}

void cli_profile_delete(cli_profile_t *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nstrings; i++)
        free(p->strings[i]);
    free(p->strings);
    intern_free(&p->string_ids);
    intern_free(&p->func_ids);
    intern_free(&p->frame_ids);
    intern_free(&p->stack_ids);
    intern_free(&p->site_ids);
    free(p->funcs);
    free(p->frames);
    free(p->stacks);
    free(p->sites);
    free(p->site_frames);
    free(p->sample_stack);
    free(p->sample_time);
    pthread_mutex_destroy(&p->lock);
    free(p->base);
    free(p->product);
    free(p);
}

void cli_profile_set_title(cli_profile_t *p, const char *what)
{
    size_t n = strlen(p->product) + strlen(what) + 2;
    char *raw = malloc(n);
    if (!raw)
        return;
    snprintf(raw, n, "%s %s", p->product, what);
    char *clean = clean_text(raw);
    free(raw);
    if (clean) {
        free(p->product);
        p->product = clean;
    }
}

whirl_error_t *cli_profile_attach(cli_profile_t *p, whirl_store_t *store)
{
    return whirl_store_set_sampler(store, 1, on_sample, p);
}

void cli_profile_stop(cli_profile_t *p)
{
    pthread_mutex_lock(&p->lock);
    p->stopped = true;
    pthread_mutex_unlock(&p->lock);
}

/* ---- writing ---- */

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(f, "\\%c", *c);
        else if (*c < 0x20)
            fprintf(f, "\\u%04x", *c);
        else
            fputc(*c, f);
    }
    fputc('"', f);
}

/* Prints `n` values of an array column: fmt_row(i) or a repeated constant. */
#define JSON_COLUMN(f, name, n, ...)                      \
    do {                                                  \
        fprintf(f, "\"%s\":[", name);                     \
        for (size_t i_ = 0; i_ < (n); i_++) {             \
            if (i_)                                       \
                fputc(',', f);                            \
            __VA_ARGS__;                                  \
        }                                                 \
        fputs("]", f);                                    \
    } while (0)

/* The Firefox profiler's processed format (its version 41 layout, which
 * the profiler upgrades on load): one process with one thread of samples;
 * every frame a "label" frame (no native address) whose function carries
 * the source file and whose frame carries the line. */
static void write_firefox(cli_profile_t *p, FILE *f)
{
    fputs("{\"meta\":{", f);
    fputs("\"categories\":[{\"name\":\"Other\",\"color\":\"grey\",\"subcategories\":[\"Other\"]},"
          "{\"name\":\"Wasm\",\"color\":\"blue\",\"subcategories\":[\"Other\"]}],",
          f);
    fprintf(f,
            "\"debug\":false,\"extensions\":{\"length\":0,\"baseURL\":[],\"id\":[],\"name\":[]},"
            "\"interval\":%.3f,\"preprocessedProfileVersion\":41,\"processType\":0,\"product\":",
            (double)p->interval_us / 1000.0);
    json_string(f, p->product);
    fprintf(f,
            ",\"sampleUnits\":{\"time\":\"ms\",\"eventDelay\":\"ms\",\"threadCPUDelta\":\"\\u00b5s\"},"
            "\"startTime\":%.3f,\"symbolicated\":true,\"pausedRanges\":[],\"version\":24,"
            "\"markerSchema\":[]},",
            p->start_unix_ms);
    fputs("\"libs\":[],\"pages\":[],\"profilerOverhead\":[],\"counters\":[],\"threads\":[{", f);
    fputs("\"processType\":\"default\",\"processName\":\"whirl\",\"processStartupTime\":0,"
          "\"processShutdownTime\":null,\"registerTime\":0,\"unregisterTime\":null,"
          "\"pausedRanges\":[],\"name\":\"wasm guest\",\"isMainThread\":true,\"pid\":\"1\",\"tid\":1,",
          f);
    size_t ns = p->nsamples;
    fputs("\"samples\":{", f);
    fprintf(f, "\"length\":%zu,", ns);
    JSON_COLUMN(f, "stack", ns, fprintf(f, "%u", p->sample_stack[i_]));
    fputc(',', f);
    JSON_COLUMN(f, "time", ns, fprintf(f, "%.3f", p->sample_time[i_]));
    fputs(",\"weight\":null,\"weightType\":\"samples\"},", f);
    fputs("\"markers\":{\"length\":0,\"category\":[],\"data\":[],\"endTime\":[],\"name\":[],"
          "\"phase\":[],\"startTime\":[]},",
          f);
    size_t nst = p->nstacks;
    fprintf(f, "\"stackTable\":{\"length\":%zu,", nst);
    JSON_COLUMN(f, "prefix", nst,
                p->stacks[i_].prefix < 0 ? (void)fputs("null", f)
                                         : (void)fprintf(f, "%lld", (long long)p->stacks[i_].prefix));
    fputc(',', f);
    JSON_COLUMN(f, "frame", nst, fprintf(f, "%u", p->stacks[i_].frame));
    fputc(',', f);
    JSON_COLUMN(f, "category", nst, fputc('1', f));
    fputc(',', f);
    JSON_COLUMN(f, "subcategory", nst, fputc('0', f));
    fputs("},", f);
    size_t nfr = p->nframes;
    fprintf(f, "\"frameTable\":{\"length\":%zu,", nfr);
    JSON_COLUMN(f, "address", nfr, fputs("-1", f));
    fputc(',', f);
    JSON_COLUMN(f, "inlineDepth", nfr, fputc('0', f));
    fputc(',', f);
    JSON_COLUMN(f, "category", nfr, fputc('1', f));
    fputc(',', f);
    JSON_COLUMN(f, "subcategory", nfr, fputc('0', f));
    fputc(',', f);
    JSON_COLUMN(f, "func", nfr, fprintf(f, "%u", p->frames[i_].func));
    fputc(',', f);
    JSON_COLUMN(f, "nativeSymbol", nfr, fputs("null", f));
    fputc(',', f);
    JSON_COLUMN(f, "innerWindowID", nfr, fputs("null", f));
    fputc(',', f);
    JSON_COLUMN(f, "implementation", nfr, fputs("null", f));
    fputc(',', f);
    JSON_COLUMN(f, "line", nfr,
                p->frames[i_].line ? (void)fprintf(f, "%u", p->frames[i_].line)
                                   : (void)fputs("null", f));
    fputc(',', f);
    JSON_COLUMN(f, "column", nfr,
                p->frames[i_].column ? (void)fprintf(f, "%u", p->frames[i_].column)
                                     : (void)fputs("null", f));
    fputc(',', f);
    JSON_COLUMN(f, "optimizations", nfr, fputs("null", f));
    fputs("},", f);
    size_t nfn = p->nfuncs;
    fprintf(f, "\"funcTable\":{\"length\":%zu,", nfn);
    JSON_COLUMN(f, "name", nfn, fprintf(f, "%u", p->funcs[i_].name));
    fputc(',', f);
    JSON_COLUMN(f, "isJS", nfn, fputs("false", f));
    fputc(',', f);
    JSON_COLUMN(f, "relevantForJS", nfn, fputs("false", f));
    fputc(',', f);
    JSON_COLUMN(f, "resource", nfn, fputs("-1", f));
    fputc(',', f);
    JSON_COLUMN(f, "fileName", nfn,
                p->funcs[i_].file == UINT32_MAX ? (void)fputs("null", f)
                                                : (void)fprintf(f, "%u", p->funcs[i_].file));
    fputc(',', f);
    JSON_COLUMN(f, "lineNumber", nfn, fputs("null", f));
    fputc(',', f);
    JSON_COLUMN(f, "columnNumber", nfn, fputs("null", f));
    fputs("},", f);
    fputs("\"resourceTable\":{\"length\":0,\"lib\":[],\"name\":[],\"host\":[],\"type\":[]},"
          "\"nativeSymbols\":{\"length\":0,\"libIndex\":[],\"address\":[],\"name\":[],"
          "\"functionSize\":[]},",
          f);
    JSON_COLUMN(f, "stringArray", p->nstrings, json_string(f, p->strings[i_]));
    fputs("}]}\n", f);
}

/* Collapsed stacks: function names per sample stack, merged. The names of
 * stack nodes that differ only in lines are the same, so stacks are first
 * folded into a tree keyed by (parent, function). */
typedef struct fold_row {
    int64_t parent; /* -1: a root */
    uint32_t func;
    uint64_t self;  /* samples whose stack ends here */
} fold_row_t;

typedef struct fold {
    intern_t ids; /* (parent + 1, func) */
    fold_row_t *rows;
    size_t n, cap;
} fold_t;

static int64_t fold_node(fold_t *t, int64_t parent, uint32_t func)
{
    bool added;
    int64_t id = intern_get(&t->ids, (key3_t){(uint64_t)(parent + 1), func, 0}, &added);
    if (id >= 0 && added) {
        if (!GROW(t->rows, t->n, t->cap))
            return -1;
        t->rows[t->n++] = (fold_row_t){parent, func, 0};
    }
    return id;
}

static void fold_free(fold_t *t)
{
    intern_free(&t->ids);
    free(t->rows);
}

/* The stack table folded by function; node_of[stack] is its node. */
static bool fold_stacks(cli_profile_t *p, fold_t *t)
{
    int64_t *node_of = malloc((p->nstacks ? p->nstacks : 1) * sizeof *node_of);
    if (!node_of)
        return false;
    /* A prefix always comes before the stacks it starts. */
    for (size_t s = 0; s < p->nstacks; s++) {
        int64_t parent = p->stacks[s].prefix < 0 ? -1 : node_of[p->stacks[s].prefix];
        node_of[s] = fold_node(t, parent, p->frames[p->stacks[s].frame].func);
        if (node_of[s] < 0) {
            free(node_of);
            return false;
        }
    }
    for (size_t i = 0; i < p->nsamples; i++)
        t->rows[node_of[p->sample_stack[i]]].self++;
    free(node_of);
    return true;
}

/* A function's name as one collapsed-stack frame: ';' separates frames
 * and a line ends a stack, so those characters become ':' and ' '. */
static char *folded_name(const cli_profile_t *p, uint32_t func)
{
    char *s = strdup(p->strings[p->funcs[func].name]);
    for (char *c = s; c && *c; c++)
        if (*c == ';')
            *c = ':';
        else if (*c == '\n' || *c == '\r')
            *c = ' ';
    return s;
}

static bool write_folded_and_svg(cli_profile_t *p, FILE *folded, FILE *svg)
{
    fold_t t = {0};
    bool ok = fold_stacks(p, &t);
    char **names = ok ? calloc(p->nfuncs ? p->nfuncs : 1, sizeof *names) : NULL;
    cli_flame_stack_t *stacks = NULL;
    const char **path_store = NULL;
    size_t nstacks = 0, path_used = 0, depth_total = 0;
    ok = ok && names;
    for (size_t i = 0; ok && i < p->nfuncs; i++)
        ok = (names[i] = folded_name(p, (uint32_t)i)) != NULL;
    for (size_t n = 0; ok && n < t.n; n++)
        if (t.rows[n].self) {
            nstacks++;
            for (int64_t k = (int64_t)n; k >= 0; k = t.rows[k].parent)
                depth_total++;
        }
    if (ok) {
        stacks = calloc(nstacks ? nstacks : 1, sizeof *stacks);
        path_store = calloc(depth_total ? depth_total : 1, sizeof *path_store);
        ok = stacks && path_store;
    }
    size_t si = 0;
    for (size_t n = 0; ok && n < t.n; n++) {
        if (!t.rows[n].self)
            continue;
        size_t depth = 0;
        for (int64_t k = (int64_t)n; k >= 0; k = t.rows[k].parent)
            depth++;
        const char **path = path_store + path_used;
        path_used += depth;
        size_t d = depth;
        for (int64_t k = (int64_t)n; k >= 0; k = t.rows[k].parent)
            path[--d] = names[t.rows[k].func];
        for (size_t j = 0; j < depth; j++)
            fprintf(folded, "%s%s", j ? ";" : "", path[j]);
        fprintf(folded, " %llu\n", (unsigned long long)t.rows[n].self);
        stacks[si++] = (cli_flame_stack_t){path, depth, t.rows[n].self};
    }
    if (ok) {
        char title[512];
        snprintf(title, sizeof title, "%s: %zu samples every %.3g ms", p->product, p->nsamples,
                 (double)p->interval_us / 1000.0);
        ok = cli_flamegraph_write(svg, title, stacks, nstacks);
    }
    free(stacks);
    free(path_store);
    if (names)
        for (size_t i = 0; i < p->nfuncs; i++)
            free(names[i]);
    free(names);
    fold_free(&t);
    return ok;
}

static FILE *open_out(const char *base, const char *ext, char *path, size_t len)
{
    snprintf(path, len, "%s%s", base, ext);
    FILE *f = fopen(path, "w");
    if (!f)
        cli_error("profile: %s: %s", path, strerror(errno));
    return f;
}

static bool close_out(FILE *f, const char *path, bool ok)
{
    if (ferror(f))
        ok = false;
    if (fclose(f) != 0)
        ok = false;
    if (!ok)
        cli_error("profile: %s: could not be written", path);
    return ok;
}

bool cli_profile_write(cli_profile_t *p)
{
    pthread_mutex_lock(&p->lock);
    p->stopped = true;
    bool ok = true;
    size_t len = strlen(p->base) + 16;
    char *json_path = malloc(len), *folded_path = malloc(len), *svg_path = malloc(len);
    FILE *json = NULL, *folded = NULL, *svg = NULL;
    if (!json_path || !folded_path || !svg_path) {
        cli_error("profile: out of memory");
        ok = false;
        goto out;
    }
    if (p->out_of_memory)
        cli_error("profile: out of memory while sampling: the profile is incomplete");
    json = open_out(p->base, ".json", json_path, len);
    folded = open_out(p->base, ".folded", folded_path, len);
    svg = open_out(p->base, ".svg", svg_path, len);
    if (!json || !folded || !svg) {
        ok = false;
        goto out;
    }
    write_firefox(p, json);
    bool drawn = write_folded_and_svg(p, folded, svg);
    ok = close_out(json, json_path, true) & close_out(folded, folded_path, drawn) &
         close_out(svg, svg_path, drawn);
    json = folded = svg = NULL;
    if (ok)
        fprintf(stderr,
                "whirl: profile: %zu samples written to %s (profiler.firefox.com), %s "
                "(collapsed stacks) and %s (flame graph)\n",
                p->nsamples, json_path, folded_path, svg_path);
out:
    if (json)
        fclose(json);
    if (folded)
        fclose(folded);
    if (svg)
        fclose(svg);
    free(json_path);
    free(folded_path);
    free(svg_path);
    pthread_mutex_unlock(&p->lock);
    return ok;
}
