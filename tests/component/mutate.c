/*
 * whirl-component-mutate: feeds randomly mutated copies of a corpus of
 * component binaries to decoding and validation, then instantiates what
 * survives against stub host functions and calls its exports, checking
 * that every input ends in success or an error, never a crash or a hang.
 *
 *   whirl-component-mutate [--count N] [--seed S] [--iter I] [--save FILE] [-v] DIR|FILE...
 *
 * Iteration I of seed S is reproducible on its own (`--seed S --iter I`);
 * `--save FILE` writes each mutated component before it is used. Under
 * AddressSanitizer the leak check at exit covers every iteration.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "component/component.h"
#include "whirl/component.h"

#define DEFAULT_COUNT 5000u
#define DEFAULT_SEED 20250301u
#define MAX_GROWTH 512
#define HANG_SECONDS 20
#define DEADLINE_TICKS 3

static bool verbose;

typedef struct entry {
    char *name;
    uint8_t *bytes;
    size_t len;
} entry_t;

static entry_t *corpus;
static size_t ncorpus, corpus_cap;

static void oom(void)
{
    fprintf(stderr, "whirl-component-mutate: out of memory\n");
    exit(2);
}

static bool load_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "whirl-component-mutate: %s: %s\n", path, strerror(errno));
        return false;
    }
    size_t cap = 4096, n = 0, got;
    uint8_t *buf = malloc(cap);
    if (!buf)
        oom();
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap && !(buf = realloc(buf, cap *= 2)))
            oom();
    }
    fclose(f);
    if (ncorpus == corpus_cap) {
        corpus_cap = corpus_cap ? corpus_cap * 2 : 64;
        if (!(corpus = realloc(corpus, corpus_cap * sizeof *corpus)))
            oom();
    }
    char *name = strdup(path);
    if (!name)
        oom();
    corpus[ncorpus++] = (entry_t){name, buf, n};
    return true;
}

static bool load_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "whirl-component-mutate: %s: %s\n", path, strerror(errno));
        return false;
    }
    if (!S_ISDIR(st.st_mode))
        return load_file(path);
    DIR *d = opendir(path);
    if (!d)
        return false;
    struct dirent *de;
    bool ok = true;
    while (ok && (de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 5 || strcmp(de->d_name + n - 5, ".wasm") != 0)
            continue;
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", path, de->d_name);
        ok = load_file(full);
    }
    closedir(d);
    return ok;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const entry_t *)a)->name, ((const entry_t *)b)->name);
}

/* ------------------------------------------------------------------ */
/* Mutations                                                           */
/* ------------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t rnd(uint64_t *s, uint64_t n) { return splitmix64(s) % n; }

enum { M_FLIP, M_BYTE, M_INSERT, M_DELETE, M_TRUNCATE, M_DUPLICATE, M_LEB, M_SIZE, M_KINDS };
static const char *const mutation_names[M_KINDS] = {
    "bit-flip", "random-byte", "insert", "delete", "truncate", "duplicate", "leb", "section-size"};

static size_t pick(uint64_t *s, size_t len)
{
    return len > 8 && rnd(s, 16) ? 8 + rnd(s, len - 8) : rnd(s, len);
}

/* Offsets of the size field of each top-level section. */
static size_t section_sizes(const uint8_t *p, size_t len, size_t *out, size_t max)
{
    size_t n = 0, pos = 8;
    while (pos < len && n < max) {
        size_t at = pos + 1, q = at;
        uint64_t size = 0;
        unsigned shift = 0;
        for (;;) {
            if (q >= len || shift > 28)
                return n;
            uint8_t b = p[q++];
            size |= (uint64_t)(b & 0x7f) << shift;
            shift += 7;
            if (!(b & 0x80))
                break;
        }
        out[n++] = at;
        if (size > len - q)
            break;
        pos = q + size;
    }
    return n;
}

static int mutate(uint8_t *p, size_t *len, uint64_t *s)
{
    int kind = (int)rnd(s, M_KINDS);
    size_t n = *len;
    if (n == 0)
        kind = M_INSERT;
    switch (kind) {
    case M_FLIP: p[pick(s, n)] ^= (uint8_t)(1u << rnd(s, 8)); break;
    case M_BYTE: p[pick(s, n)] = (uint8_t)rnd(s, 256); break;
    case M_INSERT: {
        size_t at = n ? pick(s, n + 1) : 0, k = 1 + rnd(s, 16);
        if (at > n)
            at = n;
        memmove(p + at + k, p + at, n - at);
        for (size_t i = 0; i < k; i++)
            p[at + i] = (uint8_t)rnd(s, 256);
        *len = n + k;
        break;
    }
    case M_DELETE: {
        size_t at = pick(s, n), k = 1 + rnd(s, 16);
        if (k > n - at)
            k = n - at;
        memmove(p + at, p + at + k, n - at - k);
        *len = n - k;
        break;
    }
    case M_TRUNCATE: *len = rnd(s, n); break;
    case M_DUPLICATE: {
        size_t from = rnd(s, n), k = 1 + rnd(s, 256);
        if (k > n - from)
            k = n - from;
        uint8_t tmp[256];
        memcpy(tmp, p + from, k);
        size_t to = pick(s, n + 1);
        if (to > n)
            to = n;
        memmove(p + to + k, p + to, n - to);
        memcpy(p + to, tmp, k);
        *len = n + k;
        break;
    }
    case M_LEB: {
        size_t at = pick(s, n);
        p[at] = rnd(s, 2) ? 0x80 : 0xff;
        break;
    }
    default: {
        size_t offs[64];
        size_t k = section_sizes(p, n, offs, 64);
        if (!k) {
            p[pick(s, n)] ^= 1;
            break;
        }
        size_t at = offs[rnd(s, k)];
        p[at] = (uint8_t)(rnd(s, 2) ? p[at] + 1 : p[at] - 1);
        break;
    }
    }
    return kind;
}

/* ------------------------------------------------------------------ */
/* Running a component                                                 */
/* ------------------------------------------------------------------ */

typedef struct stats {
    unsigned long passed, failed, decoded, rejected, instantiated, link_errors, inst_traps, calls,
        call_traps, mutations[M_KINDS];
} stats_t;

static void failure(stats_t *st, unsigned long iter, const char *what, whirl_error_t *e)
{
    st->failed++;
    printf("  FAIL: iteration %lu: %s%s%s\n", iter, what, e ? ": " : "",
           e ? whirl_error_message(e) : "");
}

/* A zero value of type t; false if it has handles (not made up here). */
static bool zero_value(const whirl_ctype_t *t, whirl_cval_t *out, int depth)
{
    memset(out, 0, sizeof *out);
    whirl_cval_kind_t k = whirl_ctype_kind(t);
    if (depth > 40)
        return false;
    switch (k) {
    case WHIRL_CVAL_OWN:
    case WHIRL_CVAL_BORROW:
    case WHIRL_CVAL_STREAM:
    case WHIRL_CVAL_FUTURE:
    case WHIRL_CVAL_ERROR_CONTEXT: return false;
    case WHIRL_CVAL_STRING: return !whirl_cval_set_string(out, "", 0);
    case WHIRL_CVAL_LIST: return !whirl_cval_set_items(out, WHIRL_CVAL_LIST, 0);
    case WHIRL_CVAL_RECORD:
    case WHIRL_CVAL_TUPLE: {
        size_t n = whirl_ctype_count(t);
        whirl_error_t *e = whirl_cval_set_items(out, k, n);
        if (e) {
            whirl_error_delete(e);
            return false;
        }
        for (size_t i = 0; i < n; i++)
            if (!zero_value(whirl_ctype_elem(t, i), &out->of.list.items[i], depth + 1))
                return false;
        return true;
    }
    case WHIRL_CVAL_VARIANT:
    case WHIRL_CVAL_ENUM:
    case WHIRL_CVAL_OPTION:
    case WHIRL_CVAL_RESULT: {
        const whirl_ctype_t *pt = k == WHIRL_CVAL_ENUM || k == WHIRL_CVAL_OPTION
                                      ? NULL : whirl_ctype_elem(t, 0);
        whirl_error_t *e = whirl_cval_set_case(out, k, 0, pt != NULL);
        if (e) {
            whirl_error_delete(e);
            return false;
        }
        return !pt || zero_value(pt, out->of.variant.payload, depth + 1);
    }
    default: out->kind = k; return true;
    }
}

static whirl_error_t *stub_cb(void *env, whirl_store_t *store, const whirl_component_func_t *f,
                              const whirl_cval_t *args, size_t nargs, whirl_cval_t *results,
                              size_t nresults)
{
    if (nresults && !zero_value(whirl_component_func_result_type(f), &results[0], 0)) {
        whirl_cval_release(&results[0]);
        return whirl_error_new("stub cannot make this result");
    }
    return NULL;
}

/* Defines stubs for everything the component's imports ask for. */
static void define_stubs(whirl_component_linker_t *l, const whirl_component_t *c,
                         whirl_resource_type_t *rt)
{
    const ctype_t *t = c->root->type;
    for (uint32_t i = 0; i < t->nimports; i++) {
        const cextern_t *im = &t->imports[i];
        if (im->sort == CS_FUNC) {
            whirl_error_delete(whirl_component_linker_define_func(l, NULL, im->name, stub_cb,
                                                                  NULL, NULL));
        } else if (im->sort == CS_TYPE) {
            whirl_error_delete(whirl_component_linker_define_resource(l, NULL, im->name, rt));
        } else if (im->sort == CS_INSTANCE) {
            for (uint32_t k = 0; k < im->type->nexports; k++) {
                const cextern_t *e = &im->type->exports[k];
                if (e->sort == CS_FUNC)
                    whirl_error_delete(whirl_component_linker_define_func(
                        l, im->name, e->name, stub_cb, NULL, NULL));
                else if (e->sort == CS_TYPE)
                    whirl_error_delete(
                        whirl_component_linker_define_resource(l, im->name, e->name, rt));
            }
        }
    }
}

static void call_func(whirl_store_t *store, whirl_component_func_t *f, stats_t *st,
                      unsigned long iter)
{
    size_t n = whirl_component_func_param_count(f);
    if (n > 32)
        return;
    whirl_cval_t args[32], res = {0};
    memset(args, 0, sizeof args);
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++)
        ok = zero_value(whirl_component_func_param_type(f, i), &args[i], 0);
    if (ok) {
        whirl_store_set_epoch_deadline(store, DEADLINE_TICKS);
        whirl_error_t *e = whirl_component_func_call(store, f, args, n, &res,
                                                     whirl_component_func_result_count(f));
        st->calls++;
        if (e) {
            if (whirl_error_is_trap(e, NULL))
                st->call_traps++;
            else
                failure(st, iter, "a call with well-typed arguments returned a non-trap error", e);
        }
        whirl_error_delete(e);
        whirl_cval_release(&res);
    }
    for (size_t i = 0; i < n; i++)
        whirl_cval_release(&args[i]);
}

static void run_one(whirl_engine_t *engine, const uint8_t *p, size_t len, stats_t *st,
                    unsigned long iter)
{
    whirl_component_t *c = NULL;
    whirl_error_t *e = whirl_component_new(engine, p, len, &c);
    whirl_error_t *ve = whirl_component_validate(engine, p, len);
    if (!e != !ve)
        failure(st, iter, "whirl_component_validate and whirl_component_new disagree", e ? e : ve);
    whirl_error_delete(ve);
    if (e) {
        st->rejected++;
        const char *m = whirl_error_message(e);
        if (whirl_error_is_trap(e, NULL))
            failure(st, iter, "decoding returned a trap", e);
        else if (!m || !*m)
            failure(st, iter, "an error without a message", NULL);
        else if (verbose)
            printf("  iteration %lu: rejected: %s\n", iter, m);
        whirl_error_delete(e);
        return;
    }
    st->decoded++;
    whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
    whirl_component_linker_t *l = whirl_component_linker_new(engine);
    whirl_resource_type_t *rt = whirl_resource_type_new("stub", NULL, NULL, NULL);
    define_stubs(l, c, rt);
    whirl_resource_type_delete(rt);
    whirl_component_instance_t *inst = NULL;
    whirl_store_set_epoch_deadline(store, DEADLINE_TICKS);
    e = whirl_component_linker_instantiate(l, store, c, &inst);
    if (e) {
        if (whirl_error_is_trap(e, NULL))
            st->inst_traps++;
        else
            st->link_errors++;
        if (verbose)
            printf("  iteration %lu: not instantiated: %s\n", iter, whirl_error_message(e));
        whirl_error_delete(e);
    } else {
        st->instantiated++;
        const ctype_t *t = c->root->type;
        for (uint32_t i = 0; i < t->nexports && i < 64; i++) {
            const cextern_t *ex = &t->exports[i];
            whirl_component_func_t *f;
            if (ex->sort == CS_FUNC && whirl_component_instance_func(inst, NULL, ex->name, &f))
                call_func(store, f, st, iter);
            if (ex->sort != CS_INSTANCE)
                continue;
            for (uint32_t k = 0; k < ex->type->nexports && k < 64; k++)
                if (ex->type->exports[k].sort == CS_FUNC &&
                    whirl_component_instance_func(inst, ex->name, ex->type->exports[k].name, &f))
                    call_func(store, f, st, iter);
        }
    }
    whirl_component_linker_delete(l);
    whirl_store_delete(store);
    whirl_component_delete(c);
}

/* ------------------------------------------------------------------ */
/* Main                                                                */
/* ------------------------------------------------------------------ */

/* Advances the epoch every 2 ms, so deadlines fire even when the engine
 * runs no ticker of its own. */
static volatile bool ticking;
static whirl_engine_t *tick_engine;

static void *ticker(void *arg)
{
    struct timespec ts = {0, 2 * 1000 * 1000};
    while (ticking) {
        whirl_engine_increment_epoch(tick_engine);
        nanosleep(&ts, NULL);
    }
    return NULL;
}

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
    static const char m[] = "  FAIL: hang: still running after 20 s in ";
    say(m, sizeof m - 1);
    say(iter_msg, iter_len);
    _exit(3);
}

static void report_crash(void)
{
    static const char m[] = "  FAIL: crashed in ";
    say(m, sizeof m - 1);
    say(iter_msg, iter_len);
}

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#endif

#ifdef UNDER_ASAN
/* The sanitizer owns SIGSEGV and friends (its report is the useful part);
 * it calls this just before ending the process. */
void __sanitizer_set_death_callback(void (*callback)(void));
#else
static void on_crash(int sig)
{
    report_crash();
    signal(sig, SIG_DFL);
    raise(sig);
}
#endif

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || !*s || *end)
        return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    uint64_t count = DEFAULT_COUNT, seed = DEFAULT_SEED, only = 0;
    bool have_only = false;
    const char *save_path = NULL;
    int npaths = 0;
    for (int i = 1; i < argc; i++) {
        bool arg = i + 1 < argc;
        if (!strcmp(argv[i], "--count") && arg) {
            if (!parse_u64(argv[++i], &count))
                return 2;
        } else if (!strcmp(argv[i], "--seed") && arg) {
            if (!parse_u64(argv[++i], &seed))
                return 2;
        } else if (!strcmp(argv[i], "--iter") && arg) {
            if (!parse_u64(argv[++i], &only))
                return 2;
            have_only = true;
        } else if (!strcmp(argv[i], "--save") && arg) {
            save_path = argv[++i];
        } else if (!strcmp(argv[i], "-v")) {
            verbose = true;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: whirl-component-mutate [--count N] [--seed S] [--iter I] "
                            "[--save FILE] [-v] DIR|FILE...\n");
            return 2;
        } else {
            if (!load_path(argv[i]))
                return 2;
            npaths++;
        }
    }
    if (!npaths || !ncorpus) {
        fprintf(stderr, "whirl-component-mutate: no corpus\n");
        return 2;
    }
    qsort(corpus, ncorpus, sizeof *corpus, by_name);
    size_t max_len = 0;
    for (size_t i = 0; i < ncorpus; i++)
        if (corpus[i].len > max_len)
            max_len = corpus[i].len;
    printf("whirl-component-mutate: seed %" PRIu64 ", %" PRIu64 " iteration(s), corpus of %zu "
           "components\n", seed, have_only ? 1 : count, ncorpus);
    fflush(stdout);

    whirl_engine_t *engine;
    whirl_error_t *e = whirl_engine_new(NULL, &engine);
    if (e) {
        printf("  FAIL: engine: %s\n0 passed, 1 failed\n", whirl_error_message(e));
        return 1;
    }
    tick_engine = engine;
    ticking = true;
    pthread_t tick_thread;
    if (pthread_create(&tick_thread, NULL, ticker, NULL) != 0) {
        printf("  FAIL: cannot start the ticker thread\n0 passed, 1 failed\n");
        return 1;
    }
    signal(SIGALRM, on_alarm);
#ifdef UNDER_ASAN
    __sanitizer_set_death_callback(report_crash);
#else
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        signal(sigs[i], on_crash);
#endif

    size_t cap = max_len + 4 * MAX_GROWTH + 300;
    uint8_t *buf = malloc(cap);
    if (!buf)
        oom();
    stats_t st = {0};
    uint64_t first = have_only ? only : 0, last = have_only ? only + 1 : count;
    for (uint64_t iter = first; iter < last; iter++) {
        uint64_t s = seed ^ (iter * UINT64_C(0xd1b54a32d192ed03));
        splitmix64(&s);
        const entry_t *en = &corpus[rnd(&s, ncorpus)];
        size_t len = en->len;
        memcpy(buf, en->bytes, len);
        uint64_t r = rnd(&s, 16);
        unsigned nmut = r < 8 ? 1 : r < 12 ? 2 : r < 14 ? 3 : 4;
        for (unsigned k = 0; k < nmut; k++)
            st.mutations[mutate(buf, &len, &s)]++;
        if (verbose || have_only)
            printf("  iteration %" PRIu64 ": %s, %zu -> %zu bytes\n", iter, en->name, en->len, len);
        if (save_path) {
            FILE *f = fopen(save_path, "wb");
            if (!f || fwrite(buf, 1, len, f) != len)
                return 2;
            fclose(f);
        }
        int n = snprintf(iter_msg, sizeof iter_msg,
                         "iteration %" PRIu64 " (rerun: --seed %" PRIu64 " --iter %" PRIu64 ")\n",
                         iter, seed, iter);
        iter_len = n > 0 ? (size_t)n : 0;
        alarm(HANG_SECONDS);
        unsigned long before = st.failed;
        run_one(engine, buf, len, &st, (unsigned long)iter);
        alarm(0);
        if (st.failed == before)
            st.passed++;
        else
            printf("    (rerun: --seed %" PRIu64 " --iter %" PRIu64 ")\n", seed, iter);
        if (!verbose && !have_only && (iter + 1) % 1000 == 0) {
            printf("  %" PRIu64 " iterations done\n", iter + 1);
            fflush(stdout);
        }
    }
    ticking = false;
    pthread_join(tick_thread, NULL);
    whirl_engine_delete(engine);
    free(buf);
    for (size_t i = 0; i < ncorpus; i++) {
        free(corpus[i].name);
        free(corpus[i].bytes);
    }
    free(corpus);
    printf("mutations:");
    for (int k = 0; k < M_KINDS; k++)
        printf(" %s %lu%s", mutation_names[k], st.mutations[k], k + 1 < M_KINDS ? "," : "\n");
    printf("components: %lu decoded, %lu rejected\n", st.decoded, st.rejected);
    printf("instances: %lu created, %lu link errors, %lu traps\n", st.instantiated,
           st.link_errors, st.inst_traps);
    printf("calls: %lu made, %lu trapped\n", st.calls, st.call_traps);
    printf("%lu passed, %lu failed\n", st.passed, st.failed);
    return st.failed ? 1 : 0;
}
