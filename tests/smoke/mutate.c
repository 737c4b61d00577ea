/*
 * whirl-mutate: feeds randomly mutated copies of a corpus of .wasm modules to
 * decode + validate + compile, instantiation and calls, and checks that the
 * engine survives every one with either success or an error.
 *
 *   whirl-mutate [--count N] [--seed S] [--iter I] [--save FILE] [-v] DIR|FILE...
 *
 * Each iteration derives its own random stream from (seed, iteration), so
 * `--seed S --iter I` reruns exactly iteration I of a run. `--save FILE`
 * writes every mutated module to FILE before it is used, so after a crash
 * FILE holds the input that caused it. Under AddressSanitizer the leak check
 * at exit covers every iteration: each one frees all it created.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spectest.h"
#include "whirl.h"

#define DEFAULT_SEED 20240601u
#define DEFAULT_COUNT 10000u
#define TICK_MS 5
#define DEADLINE_TICKS 3      /* a call is interrupted after ~10-15 ms */
#define MAX_CALLS_PER_ITER 64 /* bounds the time of one iteration */
#define MAX_GROWTH 1024       /* bytes one mutation may add */
#define HANG_SECONDS 20       /* an iteration taking longer is a hang */
#define HANG_SECONDS_STR "20"

/* An error's message; never NULL, so it can go straight to printf. */
static const char *errmsg(const whirl_error_t *err)
{
    const char *m = err ? whirl_error_message(err) : NULL;
    return m ? m : "(no message)";
}

/* ------------------------------------------------------------------ */
/* Random numbers                                                      */
/* ------------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in [0, n); n > 0. The modulo bias is irrelevant here. */
static uint64_t rnd(uint64_t *s, uint64_t n)
{
    return splitmix64(s) % n;
}

/* ------------------------------------------------------------------ */
/* Corpus                                                              */
/* ------------------------------------------------------------------ */

typedef struct entry {
    char *name;
    uint8_t *bytes;
    size_t len;
} entry_t;

typedef struct corpus {
    entry_t *v;
    size_t n, cap;
} corpus_t;

static void oom(void)
{
    fprintf(stderr, "whirl-mutate: out of memory\n");
    exit(2);
}

static bool load_file(corpus_t *c, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "whirl-mutate: %s: %s\n", path, strerror(errno));
        return false;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    if (!buf)
        oom();
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap && !(buf = realloc(buf, cap *= 2)))
            oom();
    }
    fclose(f);
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 256;
        if (!(c->v = realloc(c->v, c->cap * sizeof *c->v)))
            oom();
    }
    char *name = strdup(path);
    if (!name)
        oom();
    c->v[c->n++] = (entry_t){name, buf, n};
    return true;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const entry_t *)a)->name, ((const entry_t *)b)->name);
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Adds `path` (a .wasm file, or a directory whose *.wasm files are added). */
static bool load_path(corpus_t *c, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "whirl-mutate: %s: %s\n", path, strerror(errno));
        return false;
    }
    if (!S_ISDIR(st.st_mode))
        return load_file(c, path);
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "whirl-mutate: %s: %s\n", path, strerror(errno));
        return false;
    }
    bool ok = true;
    struct dirent *de;
    while (ok && (de = readdir(d))) {
        if (!has_suffix(de->d_name, ".wasm"))
            continue;
        size_t n = strlen(path) + strlen(de->d_name) + 2;
        char *full = malloc(n);
        if (!full)
            oom();
        snprintf(full, n, "%s/%s", path, de->d_name);
        ok = load_file(c, full);
        free(full);
    }
    closedir(d);
    return ok;
}

static void free_corpus(corpus_t *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].name);
        free(c->v[i].bytes);
    }
    free(c->v);
}

/* ------------------------------------------------------------------ */
/* Mutations                                                           */
/* ------------------------------------------------------------------ */

enum {
    M_BIT_FLIP,
    M_RANDOM_BYTE,
    M_INSERT,
    M_DELETE,
    M_TRUNCATE,
    M_DUPLICATE,
    M_LEB,
    M_SECTION_SIZE,
    M_KINDS
};

static const char *const mutation_names[M_KINDS] = {
    "bit-flip", "random-byte", "insert", "delete", "truncate", "duplicate", "leb", "section-size",
};

/* A module being mutated; `cap` leaves room for MAX_GROWTH per mutation. */
typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf_t;

/* A position to mutate. Mostly past the 8-byte header: a broken magic or
 * version only exercises one check. */
static size_t pick_pos(uint64_t *s, size_t len)
{
    if (len > 8 && rnd(s, 16) != 0)
        return 8 + rnd(s, len - 8);
    return rnd(s, len);
}

/* Offsets of the first size byte of each top-level section, found by walking
 * the section headers until they stop making sense. */
static size_t section_size_offsets(const buf_t *b, size_t *out, size_t max)
{
    size_t n = 0, pos = 8;
    while (pos < b->len && n < max) {
        size_t at = pos + 1;
        uint64_t size = 0;
        unsigned shift = 0;
        size_t p = at;
        for (;;) {
            if (p >= b->len || shift > 28)
                return n;
            uint8_t byte = b->p[p++];
            size |= (uint64_t)(byte & 0x7f) << shift;
            shift += 7;
            if (!(byte & 0x80))
                break;
        }
        out[n++] = at;
        if (size > b->len - p)
            break;
        pos = p + size;
    }
    return n;
}

/* Applies one mutation; returns its kind. */
static int mutate_once(buf_t *b, uint64_t *s)
{
    int kind = (int)rnd(s, M_KINDS);
    if (b->len == 0)
        kind = M_INSERT;
    switch (kind) {
    case M_BIT_FLIP:
        b->p[pick_pos(s, b->len)] ^= (uint8_t)(1u << rnd(s, 8));
        break;
    case M_RANDOM_BYTE:
        b->p[pick_pos(s, b->len)] = (uint8_t)rnd(s, 256);
        break;
    case M_INSERT: {
        size_t at = b->len ? pick_pos(s, b->len + 1) : 0;
        if (at > b->len)
            at = b->len;
        size_t n = 1 + rnd(s, 16);
        memmove(b->p + at + n, b->p + at, b->len - at);
        for (size_t i = 0; i < n; i++)
            b->p[at + i] = (uint8_t)rnd(s, 256);
        b->len += n;
        break;
    }
    case M_DELETE: {
        size_t at = pick_pos(s, b->len);
        size_t n = 1 + rnd(s, 16);
        if (n > b->len - at)
            n = b->len - at;
        memmove(b->p + at, b->p + at + n, b->len - at - n);
        b->len -= n;
        break;
    }
    case M_TRUNCATE:
        b->len = rnd(s, b->len);
        break;
    case M_DUPLICATE: {
        size_t from = rnd(s, b->len);
        size_t n = 1 + rnd(s, 256);
        if (n > b->len - from)
            n = b->len - from;
        size_t to = pick_pos(s, b->len + 1);
        memmove(b->p + to + n, b->p + to, b->len - to);
        /* The source may have moved if it lay at or after the gap. */
        size_t src = from >= to ? from + n : from;
        if (src < to && src + n > to) {
            /* Overlaps the gap: copy the part before the gap, then the part
             * that was pushed behind it. */
            size_t first = to - src;
            memmove(b->p + to, b->p + src, first);
            memmove(b->p + to + first, b->p + to + n, n - first);
        } else {
            memmove(b->p + to, b->p + src, n);
        }
        b->len += n;
        break;
    }
    case M_LEB: {
        /* A byte without the continuation bit ends a LEB128 (or is a small
         * one); setting its top bit makes the number run into what follows. */
        size_t at = pick_pos(s, b->len);
        for (int tries = 0; tries < 8 && (b->p[at] & 0x80); tries++)
            at = pick_pos(s, b->len);
        b->p[at] = rnd(s, 2) ? 0x80 : 0xff;
        break;
    }
    case M_SECTION_SIZE: {
        size_t offs[64];
        size_t n = section_size_offsets(b, offs, 64);
        if (n == 0) {
            b->p[pick_pos(s, b->len)] ^= (uint8_t)(1u << rnd(s, 8));
            break;
        }
        size_t at = offs[rnd(s, n)];
        switch (rnd(s, 4)) {
        case 0: b->p[at]++; break;
        case 1: b->p[at]--; break;
        case 2: b->p[at] = (uint8_t)rnd(s, 256); break;
        default: b->p[at] ^= (uint8_t)(1u << rnd(s, 7)); break;
        }
        break;
    }
    }
    return kind;
}

/* ------------------------------------------------------------------ */
/* Running a mutated module                                            */
/* ------------------------------------------------------------------ */

typedef struct stats {
    unsigned long decoded, rejected, validated_only;
    unsigned long instantiated, link_errors, start_traps;
    unsigned long calls, call_traps, interrupts, host_traps;
    unsigned long passed, failed;
    unsigned long mutations[M_KINDS];
} stats_t;

static bool verbose;

static void failure(stats_t *st, unsigned long iter, const char *what, const whirl_error_t *err)
{
    st->failed++;
    const char *msg = err ? whirl_error_message(err) : NULL;
    printf("  FAIL iteration %lu: %s%s%s\n", iter, what, msg ? ": " : "", msg ? msg : "");
    fflush(stdout); /* keep it if a later iteration crashes */
}

/* A host function for an import nothing else provides: returns zeros. `env`
 * is a copy of its type. */
static whirl_error_t *stub(void *env, whirl_caller_t *caller, const whirl_val_t *args,
                           size_t nargs, whirl_val_t *results, size_t nresults)
{
    (void)caller, (void)args, (void)nargs;
    const whirl_functype_t *type = env;
    for (size_t i = 0; i < nresults; i++) {
        memset(&results[i], 0, sizeof results[i]);
        results[i].kind = i < whirl_functype_result_count(type) ? whirl_functype_result(type, i)
                                                                 : WHIRL_I32;
    }
    return NULL;
}

static whirl_functype_t *copy_type(const whirl_functype_t *t)
{
    size_t np = whirl_functype_param_count(t), nr = whirl_functype_result_count(t);
    whirl_valkind_t *kinds = malloc((np + nr + 1) * sizeof *kinds);
    if (!kinds)
        oom();
    for (size_t i = 0; i < np; i++)
        kinds[i] = whirl_functype_param(t, i);
    for (size_t i = 0; i < nr; i++)
        kinds[np + i] = whirl_functype_result(t, i);
    whirl_functype_t *copy = whirl_functype_new(kinds, np, kinds + np, nr);
    free(kinds);
    return copy;
}

/* Types owned by the iteration (the stubs' env), freed after the linker:
 * that way nothing depends on whether a failed define_func ran the
 * finalizer. */
typedef struct types {
    whirl_functype_t **v;
    size_t n;
} types_t;

static void free_types(types_t *t)
{
    for (size_t i = 0; i < t->n; i++)
        whirl_functype_delete(t->v[i]);
    free(t->v);
    t->v = NULL;
    t->n = 0;
}

/* Defines a zero-returning stub for every function import that is not
 * already defined (spectest), so modules importing from other test modules
 * still get instantiated and run. A define that fails because the name
 * exists already is expected and ignored. */
static void define_stubs(whirl_linker_t *linker, const whirl_module_t *m, types_t *types)
{
    size_t n = whirl_module_import_count(m);
    for (size_t i = 0; i < n; i++) {
        whirl_import_info_t info;
        if (!whirl_module_import(m, i, &info) || info.kind != WHIRL_EXTERN_FUNC ||
            !info.functype)
            continue;
        /* The linker takes C strings; names with NUL bytes are left unresolved. */
        if (memchr(info.module, 0, info.module_len) || memchr(info.name, 0, info.name_len))
            continue;
        char *mod = strndup(info.module, info.module_len);
        char *name = strndup(info.name, info.name_len);
        whirl_functype_t *type = copy_type(info.functype);
        if (!mod || !name || !type)
            oom();
        whirl_functype_t **v = realloc(types->v, (types->n + 1) * sizeof *v);
        if (!v)
            oom();
        types->v = v;
        types->v[types->n++] = type;
        whirl_error_delete(whirl_linker_define_func(linker, mod, name, type, stub, type, NULL));
        free(mod);
        free(name);
    }
}

/* Calls each exported function without parameters. */
static void call_exports(whirl_store_t *store, whirl_module_t *m, whirl_instance_t *inst,
                         stats_t *st, unsigned long iter)
{
    size_t n = whirl_module_export_count(m), calls = 0;
    for (size_t i = 0; i < n && calls < MAX_CALLS_PER_ITER; i++) {
        whirl_export_info_t info;
        if (!whirl_module_export(m, i, &info) || info.kind != WHIRL_EXTERN_FUNC)
            continue;
        whirl_extern_t ext;
        if (!whirl_instance_export(inst, info.name, info.name_len, &ext) ||
            ext.kind != WHIRL_EXTERN_FUNC) {
            failure(st, iter, "an export listed by the module is missing from the instance",
                    NULL);
            continue;
        }
        const whirl_functype_t *type = whirl_func_type(ext.of.func);
        if (!type || whirl_functype_param_count(type) != 0)
            continue;
        size_t nres = whirl_functype_result_count(type);
        whirl_val_t *results = calloc(nres + 1, sizeof *results);
        if (!results)
            oom();
        whirl_store_set_epoch_deadline(store, DEADLINE_TICKS);
        whirl_error_t *err = whirl_func_call(store, ext.of.func, NULL, 0, results, nres);
        free(results);
        calls++;
        st->calls++;
        whirl_trap_code_t code;
        if (!err)
            continue;
        if (!whirl_error_is_trap(err, &code)) {
            failure(st, iter, "a call with matching arguments returned a non-trap error", err);
        } else {
            st->call_traps++;
            if (code == WHIRL_TRAP_INTERRUPT)
                st->interrupts++;
            else if (code == WHIRL_TRAP_HOST)
                st->host_traps++;
        }
        whirl_error_delete(err);
    }
}

static void run_module(whirl_engine_t *engine, const uint8_t *bytes, size_t len, stats_t *st,
                       unsigned long iter)
{
    static const uint8_t empty[1];
    if (!len)
        bytes = empty;
    whirl_module_t *m = NULL;
    whirl_error_t *err = whirl_module_new(engine, bytes, len, &m);
    /* Validation alone must accept whatever compiles. (The converse need
     * not hold: compiling may hit limits that validation does not check.) */
    whirl_error_t *verr = whirl_module_validate(engine, bytes, len);
    if (!err && verr)
        failure(st, iter, "whirl_module_validate rejects a module whirl_module_new accepted",
                verr);
    else if (err && !verr)
        st->validated_only++;
    whirl_error_delete(verr);
    if (err) {
        st->rejected++;
        if (whirl_error_is_trap(err, NULL))
            failure(st, iter, "whirl_module_new returned a trap", err);
        else if (!whirl_error_message(err))
            failure(st, iter, "whirl_module_new returned an error without a message", NULL);
        else if (verbose)
            printf("  iteration %lu: rejected: %s\n", iter, errmsg(err));
        whirl_error_delete(err);
        return;
    }
    if (!m) {
        failure(st, iter, "whirl_module_new succeeded without a module", NULL);
        return;
    }
    st->decoded++;

    whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
    whirl_linker_t *linker = whirl_linker_new(engine);
    if (!store || !linker) {
        failure(st, iter, "cannot create a store or linker", NULL);
        whirl_linker_delete(linker);
        whirl_store_delete(store);
        whirl_module_delete(m);
        return;
    }
    spectest_t spectest = {0};
    if ((err = spectest_define(linker, engine, store, &spectest))) {
        failure(st, iter, "cannot define spectest", err);
        whirl_error_delete(err);
    }
    types_t types = {0};
    define_stubs(linker, m, &types);

    whirl_instance_t *inst = NULL;
    whirl_store_set_epoch_deadline(store, DEADLINE_TICKS); /* the start function */
    err = whirl_linker_instantiate(linker, store, m, &inst);
    if (err) {
        if (whirl_error_is_trap(err, NULL))
            st->start_traps++;
        else
            st->link_errors++;
        if (verbose)
            printf("  iteration %lu: not instantiated: %s\n", iter, errmsg(err));
        whirl_error_delete(err);
    } else if (!inst) {
        failure(st, iter, "instantiation succeeded without an instance", NULL);
    } else {
        st->instantiated++;
        call_exports(store, m, inst, st, iter);
    }
    whirl_linker_delete(linker);
    whirl_store_delete(store);
    whirl_module_delete(m);
    free_types(&types);
}

/* ------------------------------------------------------------------ */
/* Crash and hang reports                                              */
/* ------------------------------------------------------------------ */

/* "iteration N (rerun: ...)" for the iteration in progress, preformatted so
 * that signal handlers only need write(). */
static char iter_msg[160];
static size_t iter_len;

static void say(const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDOUT_FILENO, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char prefix[] = "  FAIL: hang: still running after " HANG_SECONDS_STR " s in ";
    say(prefix, sizeof prefix - 1);
    say(iter_msg, iter_len);
    _exit(3);
}

static void report_crash(void)
{
    static const char prefix[] = "  FAIL: crashed in ";
    say(prefix, sizeof prefix - 1);
    say(iter_msg, iter_len);
}

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#ifndef UNDER_ASAN
/* SA_RESETHAND restores the default action, so returning re-executes the
 * faulting instruction (or the re-raise) and the process dies of the
 * original signal, which run-mutate reports. */
static void on_crash(int sig)
{
    report_crash();
    raise(sig);
}
#endif

#ifdef UNDER_ASAN
/* The sanitizers own SIGSEGV and friends (their report is the useful part);
 * it calls this just before it ends the process. */
void __sanitizer_set_death_callback(void (*callback)(void));
#endif

static void install_handlers(void)
{
    signal(SIGALRM, on_alarm);
#ifdef UNDER_ASAN
    __sanitizer_set_death_callback(report_crash);
#else
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_crash;
    sa.sa_flags = (int)SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
#endif
}

static void begin_iteration(uint64_t iter, uint64_t seed)
{
    int n = snprintf(iter_msg, sizeof iter_msg,
                     "iteration %" PRIu64 " (rerun: --seed %" PRIu64 " --iter %" PRIu64 ")\n",
                     iter, seed, iter);
    iter_len = n > 0 ? (size_t)n : 0;
    alarm(HANG_SECONDS);
}

/* ------------------------------------------------------------------ */
/* Main                                                                */
/* ------------------------------------------------------------------ */

static void usage(void)
{
    fprintf(stderr,
            "usage: whirl-mutate [--count N] [--seed S] [--iter I] [--save FILE] [-v] DIR|FILE...\n"
            "  --count N    iterations (default %u)\n"
            "  --seed S     random seed (default %u)\n"
            "  --iter I     run only iteration I of the given seed\n"
            "  --save FILE  write each mutated module to FILE before running it\n"
            "  -v           print every iteration\n",
            DEFAULT_COUNT, DEFAULT_SEED);
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static void save(const char *path, const uint8_t *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, len, f) != len) {
        fprintf(stderr, "whirl-mutate: cannot write %s\n", path);
        exit(2);
    }
    fclose(f);
}

int main(int argc, char **argv)
{
    uint64_t count = DEFAULT_COUNT, seed = DEFAULT_SEED, only = 0;
    bool have_only = false;
    const char *save_path = NULL;
    corpus_t corpus = {0};
    int npaths = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_arg = i + 1 < argc;
        if (strcmp(a, "--count") == 0 && has_arg) {
            if (!parse_u64(argv[++i], &count))
                return usage(), 2;
        } else if (strcmp(a, "--seed") == 0 && has_arg) {
            if (!parse_u64(argv[++i], &seed))
                return usage(), 2;
        } else if (strcmp(a, "--iter") == 0 && has_arg) {
            if (!parse_u64(argv[++i], &only))
                return usage(), 2;
            have_only = true;
        } else if (strcmp(a, "--save") == 0 && has_arg) {
            save_path = argv[++i];
        } else if (strcmp(a, "-v") == 0) {
            verbose = true;
        } else if (a[0] == '-') {
            return usage(), 2;
        } else {
            if (!load_path(&corpus, a)) {
                free_corpus(&corpus);
                return 2;
            }
            npaths++;
        }
    }
    if (!npaths)
        return usage(), 2;
    if (corpus.n == 0) {
        fprintf(stderr, "whirl-mutate: no .wasm files in the corpus\n");
        return 2;
    }
    /* Directory order varies between file systems; sorting keeps a seed's
     * run reproducible. */
    qsort(corpus.v, corpus.n, sizeof *corpus.v, by_name);
    size_t max_len = 0;
    for (size_t i = 0; i < corpus.n; i++)
        if (corpus.v[i].len > max_len)
            max_len = corpus.v[i].len;

    printf("whirl-mutate: seed %" PRIu64 ", %" PRIu64 " iteration(s), corpus of %zu modules\n",
           seed, have_only ? 1 : count, corpus.n);
    fflush(stdout);

    whirl_engine_t *engine = NULL;
    whirl_error_t *err = whirl_engine_new(NULL, &engine);
    if (err) {
        printf("  FAIL: whirl_engine_new: %s\n0 passed, 1 failed\n", errmsg(err));
        whirl_error_delete(err);
        free_corpus(&corpus);
        return 1;
    }
    ticker_t *ticker = ticker_start(engine, TICK_MS);
    if (!ticker) {
        printf("  FAIL: cannot start the epoch ticker thread\n0 passed, 1 failed\n");
        whirl_engine_delete(engine);
        free_corpus(&corpus);
        return 1;
    }
    install_handlers();

    buf_t b = {.cap = max_len + 4 * MAX_GROWTH + 16};
    if (!(b.p = malloc(b.cap)))
        oom();
    stats_t st = {0};
    uint64_t first = have_only ? only : 0, last = have_only ? only + 1 : count;
    for (uint64_t iter = first; iter < last; iter++) {
        uint64_t s = seed ^ (iter * UINT64_C(0xd1b54a32d192ed03));
        splitmix64(&s);
        const entry_t *e = &corpus.v[rnd(&s, corpus.n)];
        memcpy(b.p, e->bytes, e->len);
        b.len = e->len;
        /* 1-4 mutations, fewer more often: every extra one mostly just
         * makes the module fail earlier in the decoder. */
        uint64_t r = rnd(&s, 16);
        unsigned nmut = r < 8 ? 1 : r < 12 ? 2 : r < 14 ? 3 : 4;
        int kinds[4];
        for (unsigned k = 0; k < nmut; k++) {
            kinds[k] = mutate_once(&b, &s);
            st.mutations[kinds[k]]++;
        }
        if (verbose || have_only) {
            printf("  iteration %" PRIu64 ": %s,", iter, e->name);
            for (unsigned k = 0; k < nmut; k++)
                printf(" %s", mutation_names[kinds[k]]);
            printf(", %zu -> %zu bytes\n", e->len, b.len);
            fflush(stdout);
        }
        if (save_path)
            save(save_path, b.p, b.len);
        begin_iteration(iter, seed);
        unsigned long failed_before = st.failed;
        run_module(engine, b.p, b.len, &st, (unsigned long)iter);
        alarm(0);
        if (st.failed == failed_before)
            st.passed++;
        else
            printf("    (rerun: --seed %" PRIu64 " --iter %" PRIu64 ")\n", seed, iter);
        if (!verbose && !have_only && (iter + 1) % 1000 == 0) {
            printf("  %" PRIu64 " iterations done\n", iter + 1);
            fflush(stdout);
        }
    }

    ticker_stop(ticker);
    whirl_engine_delete(engine);
    free(b.p);
    free_corpus(&corpus);

    printf("mutations:");
    for (int k = 0; k < M_KINDS; k++)
        printf(" %s %lu%s", mutation_names[k], st.mutations[k], k + 1 < M_KINDS ? "," : "\n");
    printf("modules: %lu compiled, %lu rejected (%lu of them valid)\n", st.decoded, st.rejected,
           st.validated_only);
    printf("instances: %lu created, %lu link errors, %lu start traps\n", st.instantiated,
           st.link_errors, st.start_traps);
    printf("calls: %lu made, %lu trapped (%lu interrupted, %lu host)\n", st.calls, st.call_traps,
           st.interrupts, st.host_traps);
    printf("%lu passed, %lu failed\n", st.passed, st.failed);
    return st.failed ? 1 : 0;
}
