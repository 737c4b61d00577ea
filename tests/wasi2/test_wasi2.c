/* The C API of whirl/wasi2.h as another host module (wasi:http, say) uses
 * it: wasi:io added to a component linker with a per-store context lookup,
 * streams and pollables served by host callbacks, handed to a guest and
 * dropped by it; blocking that honours the store's deadline and
 * interruption; errors; and a guest importing a WASI name with the wrong
 * signature.
 *
 *   whirl-wasi2-test FIXTURE_DIR
 *
 * FIXTURE_DIR holds pipes.wasm and bad-signature.wasm, converted from this
 * folder's fixtures by `api`.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whirl.h"
#include "whirl/component.h"
#include "whirl/wasi2.h"

static int passed, failed;

#define CHECK(cond, ...)                                       \
    do {                                                       \
        if (cond) {                                            \
            passed++;                                          \
        } else {                                               \
            failed++;                                          \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);        \
            printf(__VA_ARGS__);                               \
            printf("\n");                                      \
        }                                                      \
    } while (0)

/* Checks that `e` is NULL, else reports it. Frees it. */
static bool ok(whirl_error_t *e, const char *what)
{
    CHECK(!e, "%s: %s", what, e ? whirl_error_message(e) : "");
    whirl_error_delete(e);
    return !e;
}

/* Checks that `e` is a trap mentioning `needle` (and of `code` unless
 * WHIRL_TRAP_HOST is acceptable). Frees it. */
static void trap(whirl_error_t *e, whirl_trap_code_t code, const char *needle, const char *what)
{
    whirl_trap_code_t got = 0;
    bool is = e && whirl_error_is_trap(e, &got);
    CHECK(is && got == code && strstr(whirl_error_message(e), needle),
          "%s: expected a trap (%d) with `%s`, got %s (%d)", what, code, needle,
          e ? whirl_error_message(e) : "success", (int)got);
    whirl_error_delete(e);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (*len == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *n = realloc(buf, cap);
            if (!n) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = n;
        }
        size_t got = fread(buf + *len, 1, cap - *len, f);
        if (got == 0)
            break;
        *len += got;
    }
    fclose(f);
    return buf;
}

/* ------------------------------------------------------------------ */
/* Host streams                                                        */
/* ------------------------------------------------------------------ */

/* A source that delivers `data` a few bytes at a time and says "not yet"
 * in between, so that the blocking calls have to wait on its readiness. */
typedef struct source {
    const char *data;
    size_t len, pos;
    unsigned reads, ready_asks;
    bool primed;  /* ready said yes: the next read delivers */
    bool stalled; /* never ready: for the deadline tests */
    int *drops;
} source_t;

static int64_t src_read(void *env, uint8_t *buf, size_t len, char **error)
{
    source_t *s = env;
    if (s->stalled || (!s->primed && s->reads++ % 2 == 0))
        return 0; /* nothing yet */
    s->primed = false;
    if (s->pos == s->len)
        return WHIRL_WASI2_CLOSED;
    size_t n = s->len - s->pos < 5 ? s->len - s->pos : 5;
    if (n > len)
        n = len;
    memcpy(buf, s->data + s->pos, n);
    s->pos += n;
    return (int64_t)n;
}

/* Ready on every second question: a waiter without a descriptor to watch
 * sleeps in between. */
static bool src_ready(void *env)
{
    source_t *s = env;
    if (s->stalled)
        return false;
    if (!s->primed && s->ready_asks++ % 2 == 0)
        return false;
    s->primed = true;
    return true;
}

static void src_drop(void *env)
{
    source_t *s = env;
    ++*s->drops;
    free(s);
}

static const whirl_wasi2_stream_ops_t source_ops = {
    .read = src_read, .ready = src_ready, .drop = src_drop};

/* A sink that accepts 7 bytes at a time, and nothing on every third ask. */
typedef struct sink {
    char buf[4096];
    size_t len;
    unsigned asks, flushes;
    size_t last_permit;
    bool over_permit;
    int *drops;
    struct sink **out; /* where the test finds the sink's contents on drop */
} sink_t;

static int64_t sink_check(void *env, char **error)
{
    sink_t *s = env;
    s->last_permit = s->asks++ % 3 == 2 ? 0 : 7;
    return (int64_t)s->last_permit;
}

static int64_t sink_write(void *env, const uint8_t *buf, size_t len, char **error)
{
    sink_t *s = env;
    if (len > s->last_permit)
        s->over_permit = true;
    if (s->len + len > sizeof s->buf) {
        *error = strdup("sink full");
        return WHIRL_WASI2_FAILED;
    }
    memcpy(s->buf + s->len, buf, len);
    s->len += len;
    s->last_permit -= len;
    return 0;
}

static int64_t sink_flush(void *env, char **error)
{
    ((sink_t *)env)->flushes++;
    return 0;
}

static void sink_drop(void *env)
{
    sink_t *s = env;
    ++*s->drops;
    *s->out = s; /* freed by the test after reading it */
}

static const whirl_wasi2_stream_ops_t sink_ops = {
    .check_write = sink_check, .write = sink_write, .flush = sink_flush, .drop = sink_drop};

/* ------------------------------------------------------------------ */
/* The host module built on wasi:io                                   */
/* ------------------------------------------------------------------ */

static const char message[] =
    "The quick brown fox jumps over the lazy dog, twice: the quick brown fox jumps over the "
    "lazy dog. Then it rests.";

/* One per store: its WASI context and the test's counters. */
typedef struct per_store {
    whirl_wasi2_t *wasi;
    int source_drops, sink_drops;
    bool stall;
    sink_t *sink;
} per_store_t;

static whirl_wasi2_host_t *host;

static whirl_wasi2_t *lookup(void *env, whirl_store_t *store)
{
    per_store_t *p = whirl_store_data(store);
    return p ? p->wasi : NULL;
}

static whirl_error_t *get_source(void *env, whirl_store_t *store,
                                 const whirl_component_func_t *type, const whirl_cval_t *args,
                                 size_t nargs, whirl_cval_t *results, size_t nresults)
{
    per_store_t *p = whirl_store_data(store);
    source_t *s = calloc(1, sizeof *s);
    if (!s)
        return whirl_error_new("out of memory");
    s->data = message;
    s->len = strlen(message);
    s->stalled = p->stall;
    s->drops = &p->source_drops;
    uint32_t rep;
    whirl_error_t *e = whirl_wasi2_input_stream_new(p->wasi, &source_ops, s, &rep);
    if (e)
        return e;
    results[0].kind = WHIRL_CVAL_OWN;
    results[0].of.resource.type = whirl_wasi2_host_resource_type(host, WHIRL_WASI2_INPUT_STREAM);
    results[0].of.resource.rep = rep;
    return NULL;
}

static whirl_error_t *get_sink(void *env, whirl_store_t *store, const whirl_component_func_t *type,
                               const whirl_cval_t *args, size_t nargs, whirl_cval_t *results,
                               size_t nresults)
{
    per_store_t *p = whirl_store_data(store);
    sink_t *s = calloc(1, sizeof *s);
    if (!s)
        return whirl_error_new("out of memory");
    s->drops = &p->sink_drops;
    s->out = &p->sink;
    uint32_t rep;
    whirl_error_t *e = whirl_wasi2_output_stream_new(p->wasi, &sink_ops, s, &rep);
    if (e)
        return e;
    results[0].kind = WHIRL_CVAL_OWN;
    results[0].of.resource.type = whirl_wasi2_host_resource_type(host, WHIRL_WASI2_OUTPUT_STREAM);
    results[0].of.resource.rep = rep;
    return NULL;
}

static per_store_t *new_per_store(void)
{
    per_store_t *p = calloc(1, sizeof *p);
    whirl_wasi2_config_t *cfg = whirl_wasi2_config_new();
    if (!p || !cfg || !ok(whirl_wasi2_new(cfg, &p->wasi), "whirl_wasi2_new")) {
        free(p);
        return NULL;
    }
    return p;
}

static void free_per_store(per_store_t *p)
{
    if (!p)
        return;
    whirl_wasi2_delete(p->wasi);
    free(p->sink);
    free(p);
}

/* Instantiates in a fresh store; the caller deletes the store, then `p`. */
static whirl_component_instance_t *instantiate(whirl_component_instance_pre_t *pre,
                                               whirl_engine_t *engine, per_store_t *p,
                                               whirl_store_t **store)
{
    *store = whirl_store_new(engine, p, NULL);
    whirl_component_instance_t *inst = NULL;
    if (!ok(whirl_component_instance_pre_instantiate(pre, *store, &inst), "instantiate"))
        return NULL;
    return inst;
}

static whirl_error_t *call(whirl_component_instance_t *inst, const char *name,
                           whirl_cval_t *result)
{
    whirl_component_func_t *f;
    if (!whirl_component_instance_func(inst, NULL, name, &f))
        return whirl_error_new("no such export");
    return whirl_component_func_call(whirl_component_instance_store(inst), f, NULL, 0, result,
                                     result ? 1 : 0);
}

static void test_pipes(whirl_engine_t *engine, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/pipes.wasm", dir);
    size_t len;
    uint8_t *bytes = read_file(path, &len);
    CHECK(bytes != NULL, "read %s", path);
    if (!bytes)
        return;
    whirl_component_t *comp = NULL;
    bool loaded = ok(whirl_component_new(engine, bytes, len, &comp), "component");
    free(bytes);
    if (!loaded)
        return;

    whirl_component_linker_t *linker = whirl_component_linker_new(engine);
    ok(whirl_wasi2_add_to_linker(linker, WHIRL_WASI2_IO, lookup, NULL, &host), "add_to_linker");
    CHECK(host && whirl_wasi2_host_resource_type(host, WHIRL_WASI2_INPUT_STREAM) &&
              whirl_wasi2_host_resource_type(host, WHIRL_WASI2_POLLABLE) &&
              !whirl_wasi2_host_resource_type(host, WHIRL_WASI2_RESOURCE_COUNT),
          "the host's resource types");
    ok(whirl_component_linker_define_func(linker, "test:host/pipes", "get-source", get_source,
                                          NULL, NULL), "define get-source");
    ok(whirl_component_linker_define_func(linker, "test:host/pipes", "get-sink", get_sink, NULL,
                                          NULL), "define get-sink");
    whirl_component_instance_pre_t *pre = NULL;
    bool linked = ok(whirl_component_linker_instantiate_pre(linker, comp, &pre), "pre");
    /* The pre keeps what it uses: the linker may go now. */
    whirl_component_linker_delete(linker);
    if (!linked) {
        whirl_component_delete(comp);
        whirl_wasi2_host_delete(host);
        return;
    }

    /* Two stores, each with its own context, alive at once. */
    per_store_t *pa = new_per_store(), *pb = new_per_store();
    whirl_store_t *sa, *sb;
    whirl_component_instance_t *ia = instantiate(pre, engine, pa, &sa);
    whirl_component_instance_t *ib = instantiate(pre, engine, pb, &sb);
    for (int k = 0; k < 2 && ia && ib; k++) {
        per_store_t *p = k ? pb : pa;
        whirl_cval_t r = {0};
        if (ok(call(k ? ib : ia, "run", &r), "run"))
            CHECK(r.kind == WHIRL_CVAL_S64 && r.of.s == (int64_t)strlen(message),
                  "run copied %lld bytes", (long long)r.of.s);
        whirl_cval_release(&r);
        CHECK(p->sink && p->sink->len == strlen(message) &&
                  memcmp(p->sink->buf, message, strlen(message)) == 0,
              "the sink received the message");
        CHECK(p->sink && !p->sink->over_permit, "writes stayed within check-write's permit");
        CHECK(p->sink && p->sink->flushes > 0, "blocking-write-and-flush flushed");
        CHECK(p->source_drops == 1 && p->sink_drops == 1,
              "the guest's drops reached the host (%d, %d)", p->source_drops, p->sink_drops);
    }

    /* subscribe + block + ready on a host stream, then the drops. */
    if (ia) {
        whirl_cval_t r = {0};
        if (ok(call(ia, "wait", &r), "wait"))
            CHECK(r.kind == WHIRL_CVAL_BOOL && r.of.b, "ready after block");
        CHECK(pa->source_drops == 2, "wait dropped its source");
        /* A stream dropped while its pollable lives: a trap. */
        trap(call(ia, "bad-drop", NULL), WHIRL_TRAP_HOST, "pollable(s) from its subscribe",
             "bad-drop");
    }
    whirl_store_delete(sa);
    whirl_store_delete(sb);
    /* The stream the trap left behind goes with the context. */
    int before = pa->source_drops;
    free_per_store(pb);
    whirl_wasi2_t *wa = pa->wasi;
    pa->wasi = NULL;
    whirl_wasi2_delete(wa);
    CHECK(pa->source_drops == before + 1, "deleting the context drops what is left (%d, %d)",
          pa->source_drops, before);
    free_per_store(pa);

    /* A source that never becomes ready: the store's deadline ends the
     * wait with `interrupt`, and so does whirl_wasi2_interrupt. */
    for (int k = 0; k < 2; k++) {
        per_store_t *p = new_per_store();
        if (!p)
            break;
        p->stall = true;
        whirl_store_t *s;
        whirl_component_instance_t *inst = instantiate(pre, engine, p, &s);
        if (k == 0)
            ok(whirl_store_set_deadline(s, whirl_monotonic_now() + 30000000), "deadline");
        else
            whirl_wasi2_interrupt(p->wasi);
        whirl_cval_t r = {0};
        if (inst)
            trap(call(inst, "wait", &r), WHIRL_TRAP_INTERRUPT,
                 k == 0 ? "deadline reached" : "interrupted", "wait on a stalled stream");
        whirl_cval_release(&r);
        whirl_store_delete(s);
        free_per_store(p);
    }
    whirl_component_instance_pre_delete(pre);
    whirl_component_delete(comp);
    whirl_wasi2_host_delete(host);
    host = NULL;
}

/* ------------------------------------------------------------------ */
/* The resource API without a guest                                    */
/* ------------------------------------------------------------------ */

static int host_poll_drops;
static bool never(void *env) { return false; }
static void count_drop(void *env) { host_poll_drops++; }

static void test_api(void)
{
    per_store_t *p = new_per_store();
    if (!p)
        return;
    whirl_wasi2_t *w = p->wasi;
    uint32_t e1, e2;
    ok(whirl_wasi2_error_new(w, "disk on fire", &e1), "error_new");
    ok(whirl_wasi2_error_new(w, "second", &e2), "error_new 2");
    CHECK(e1 != e2, "distinct reps");
    const char *m = whirl_wasi2_error_message(w, e1);
    CHECK(m && strcmp(m, "disk on fire") == 0, "error message");
    CHECK(!whirl_wasi2_error_message(w, 999), "no message for an unknown rep");
    ok(whirl_wasi2_drop(w, WHIRL_WASI2_ERROR, e1), "drop error");
    CHECK(!whirl_wasi2_error_message(w, e1), "dropped");
    whirl_error_t *e = whirl_wasi2_drop(w, WHIRL_WASI2_ERROR, e1);
    CHECK(e != NULL, "dropping twice fails");
    whirl_error_delete(e);
    e = whirl_wasi2_drop(w, WHIRL_WASI2_INPUT_STREAM, e2);
    CHECK(e != NULL, "dropping with the wrong kind fails");
    whirl_error_delete(e);

    int drops = 0;
    source_t *s = calloc(1, sizeof *s);
    s->drops = &drops;
    uint32_t in;
    ok(whirl_wasi2_input_stream_new(w, &source_ops, s, &in), "input_stream_new");
    CHECK(whirl_wasi2_stream_env(w, WHIRL_WASI2_INPUT_STREAM, in) == s, "stream_env");
    CHECK(!whirl_wasi2_stream_env(w, WHIRL_WASI2_OUTPUT_STREAM, in), "stream_env, wrong kind");
    ok(whirl_wasi2_drop(w, WHIRL_WASI2_INPUT_STREAM, in), "drop stream");
    CHECK(drops == 1, "drop ran once");

    /* An output stream without write callbacks is refused, and dropped. */
    s = calloc(1, sizeof *s);
    s->drops = &drops;
    e = whirl_wasi2_output_stream_new(w, &source_ops, s, &in);
    CHECK(e && drops == 2, "output stream without write: error and drop");
    whirl_error_delete(e);

    /* Deadlines: past is ready at once; a later one is cut short by the
     * store's deadline. */
    whirl_engine_t *engine;
    ok(whirl_engine_new(NULL, &engine), "engine");
    whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
    uint32_t pl;
    ok(whirl_wasi2_pollable_deadline(w, whirl_monotonic_now() - 1, &pl), "past deadline");
    ok(whirl_wasi2_block(w, store, pl), "block on a past deadline");
    ok(whirl_wasi2_drop(w, WHIRL_WASI2_POLLABLE, pl), "drop pollable");
    ok(whirl_wasi2_pollable_deadline(w, whirl_monotonic_now() + 60000000000ull, &pl),
       "far deadline");
    ok(whirl_store_set_deadline(store, whirl_monotonic_now() + 20000000), "store deadline");
    trap(whirl_wasi2_block(w, store, pl), WHIRL_TRAP_INTERRUPT, "deadline reached",
         "block past the store's deadline");
    static const whirl_wasi2_pollable_ops_t never_ops = {.ready = never, .drop = count_drop};
    uint32_t hp;
    ok(whirl_wasi2_pollable_new(w, &never_ops, NULL, &hp), "pollable_new");
    trap(whirl_wasi2_block(w, store, hp), WHIRL_TRAP_INTERRUPT, "deadline reached",
         "host pollable past the store's deadline");
    e = whirl_wasi2_block(w, store, e2);
    CHECK(e && !whirl_error_is_trap(e, NULL), "block on a non-pollable is an error");
    whirl_error_delete(e);
    whirl_store_delete(store);
    whirl_engine_delete(engine);
    free_per_store(p);
    CHECK(host_poll_drops == 1, "the host pollable was dropped with the context");
}

/* ------------------------------------------------------------------ */

static void test_bad_signature(whirl_engine_t *engine, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/bad-signature.wasm", dir);
    size_t len;
    uint8_t *bytes = read_file(path, &len);
    CHECK(bytes != NULL, "read %s", path);
    if (!bytes)
        return;
    whirl_component_t *comp = NULL;
    bool loaded = ok(whirl_component_new(engine, bytes, len, &comp), "component");
    free(bytes);
    if (!loaded)
        return;
    per_store_t *p = new_per_store();
    whirl_component_linker_t *linker = whirl_component_linker_new(engine);
    ok(whirl_component_linker_define_wasi2(linker, p->wasi), "define_wasi2");
    whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
    whirl_component_instance_t *inst = NULL;
    if (ok(whirl_component_linker_instantiate(linker, store, comp, &inst), "instantiate")) {
        whirl_cval_t r = {0};
        trap(call(inst, "run", &r), WHIRL_TRAP_HOST, "expected a handle to a input-stream",
             "a WASI function imported with the wrong types");
        whirl_cval_release(&r);
    }
    whirl_store_delete(store);
    whirl_component_linker_delete(linker);
    free_per_store(p);
    whirl_component_delete(comp);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FIXTURE_DIR\n", argv[0]);
        return 2;
    }
    whirl_engine_t *engine;
    if (!ok(whirl_engine_new(NULL, &engine), "engine"))
        return 1;
    test_pipes(engine, argv[1]);
    test_api();
    test_bad_signature(engine, argv[1]);
    whirl_engine_delete(engine);
    printf("wasi2 api: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
