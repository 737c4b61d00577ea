/* Streams and futures (component-model async, src/component/stream.c):
 * every stream/future built-in within one instance (fixtures/async-streams.wat:
 * partial copies, results packed with counts, cancels, drops, zero-length
 * copies, futures, events through poll/wait and the callback's WAIT, and
 * each trap), between two instances (async-stream-pair.wat: bytes and
 * strings copied from one memory to the other), and between the guest and
 * the host: readable ends lifted to the host and lowered back, and streams
 * and futures the host writes (the internal host interface src/wasi3 uses). */
#include <stdint.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>

#include "component/component.h"
#include "harness.h"

/* Calls export `name` (a u32 or s32 result) with `args`; UINT64_MAX after a
 * failed check. */
static uint64_t call_num(whirl_component_instance_t *inst, const char *name,
                         const whirl_cval_t *args, size_t nargs)
{
    whirl_cval_t r = {0};
    if (!CHECK_OK(t_call(inst, NULL, name, args, nargs, &r), name))
        return UINT64_MAX;
    uint64_t v = r.kind == WHIRL_CVAL_S32 ? (uint64_t)(uint32_t)r.of.s : r.of.u;
    CHECK(r.kind == WHIRL_CVAL_U32 || r.kind == WHIRL_CVAL_S32, "%s returns a number", name);
    whirl_cval_release(&r);
    return v;
}

static void test_in_instance(whirl_component_linker_t *l, whirl_component_t *c)
{
    static const char *const clean[] = {"partial", "read-first", "dropped", "cancel",
                                        "zero",    "future",     "unit", "errctx"};
    whirl_store_t *s;
    whirl_component_instance_t *inst = t_instantiate(l, c, &s);
    if (!inst)
        return;
    for (size_t i = 0; i < sizeof clean / sizeof *clean; i++) {
        uint64_t v = call_num(inst, clean[i], NULL, 0);
        CHECK(v == 0, "%s: check %llu failed (low bits of the value: 0x%llx)", clean[i],
              (unsigned long long)(v >> 16), (unsigned long long)(v & 0xffff));
    }
    CHECK(call_num(inst, "wait-cb", NULL, 0) == 3000 + 0x50,
          "callback WAIT delivers STREAM_WRITE with COMPLETED | 5 << 4");
    whirl_store_delete(s);
}

static void test_stream_traps(whirl_component_linker_t *l, whirl_component_t *c)
{
    static const struct {
        const char *name, *trap;
    } traps[] = {
        {"read-writable", "2 is not a readable end of a stream"},
        {"read-future", "1 is not a readable end of a stream"},
        {"read-bad", "9 is not a readable end of a stream"},
        {"read-twice", "already copying"},
        {"read-sync", "would wait forever"},
        {"write-sync-in-set", "cannot be copied synchronously"},
        {"read-done", "is done"},
        {"drop-copying", "has a copy in progress"},
        {"cancel-idle", "has no copy in progress"},
        {"cancel-sync-in-set", "cannot be cancelled synchronously"},
        {"read-oob", "out of bounds"},
        {"read-too-long", "exceeds"},
        {"future-misaligned", "is not aligned to 4"},
        {"future-drop-unwritten", "never written"},
        {"future-read-twice", "is done"},
        {"set-drop-member", "still has 1 member"},
        {"join-set", "is not a waitable handle"},
        {"join-bad-set", "2 is not a waitable set handle"},
        {"wait-empty", "would wait forever"},
        {"poll-oob", "out of bounds"},
        {"same-instance-string", "same component instance"},
        {"give-copying", "it is copying"},
        {"give-in-set", "in a waitable set"},
        {"give-writable", "2 is not the readable end of a stream"},
        {"error-drop-bad", "error-context.drop: 1 is not an error-context handle"},
        {"join-error", "is not a waitable handle"},
        {"error-msg-oob", "out of bounds"},
    };
    for (size_t i = 0; i < sizeof traps / sizeof *traps; i++) {
        whirl_store_t *s;
        whirl_component_instance_t *inst = t_instantiate(l, c, &s);
        if (inst) {
            whirl_cval_t r = {0};
            CHECK_TRAP(t_call(inst, NULL, traps[i].name, NULL, 0, &r), traps[i].trap,
                       traps[i].name);
            whirl_cval_release(&r);
        }
        whirl_store_delete(s);
    }
}

/* A readable end lifted to the host and lowered back into the guest. */
static void test_through_host(whirl_component_linker_t *l, whirl_component_t *c)
{
    whirl_store_t *s;
    whirl_component_instance_t *inst = t_instantiate(l, c, &s);
    if (!inst)
        return;
    whirl_cval_t v = {0};
    if (CHECK_OK(t_call(inst, NULL, "give", NULL, 0, &v), "give")) {
        CHECK(v.kind == WHIRL_CVAL_STREAM, "give returns a stream");
        /* The waiting write of "01234" completes into take's read. */
        CHECK(call_num(inst, "take", &v, 1) == (0x50u << 16) + 250,
              "take: COMPLETED | 5 << 4, the bytes 01234");
        CHECK(call_num(inst, "writer-event", NULL, 0) == 0x50,
              "the writer's event: COMPLETED | 5 << 4");
        whirl_cval_t r = {0};
        CHECK_TRAP(t_call(inst, NULL, "take", &v, 1, &r), "already moved",
                   "a readable end lowered twice");
        whirl_cval_release(&v);
    }
    whirl_store_delete(s);

    /* A value released by the host drops the readable end: the writer
     * waiting on it gets DROPPED. */
    inst = t_instantiate(l, c, &s);
    if (inst && CHECK_OK(t_call(inst, NULL, "give", NULL, 0, &v), "give")) {
        whirl_cval_release(&v);
        CHECK(call_num(inst, "writer-event", NULL, 0) == 1, "writer's event: DROPPED");
    }
    whirl_store_delete(s);

    /* A stream given to the host and never released outlives the store. */
    inst = t_instantiate(l, c, &s);
    if (inst && CHECK_OK(t_call(inst, NULL, "give", NULL, 0, &v), "give")) {
        whirl_store_delete(s);
        whirl_cval_release(&v);
    } else {
        whirl_store_delete(s);
    }
}

/* A host sink: what the guest writes arrives in its callback during the
 * guest's write; the sink hears of the writer's drop. */
typedef struct sink {
    char got[32];
    size_t n;
    int dropped, frees;
} sink_t;

static whirl_error_t *sink_write(void *env, const uint8_t *data, size_t n, size_t *done,
                                 bool *closed)
{
    sink_t *k = env;
    size_t room = sizeof k->got - k->n;
    *done = n < room ? n : room;
    memcpy(k->got + k->n, data, *done);
    k->n += *done;
    *closed = false;
    return NULL;
}
static void sink_dropped(void *env) { ((sink_t *)env)->dropped++; }
static void sink_free(void *env) { ((sink_t *)env)->frees++; }

static void test_sink(whirl_component_linker_t *l, whirl_component_t *c)
{
    static const cstream_host_ops_t ops = {
        .write = sink_write, .peer_dropped = sink_dropped, .free = sink_free};
    sink_t k = {0};
    whirl_store_t *s;
    whirl_component_instance_t *inst = t_instantiate(l, c, &s);
    if (!inst)
        return;
    whirl_cval_t v = {0};
    if (CHECK_OK(t_call(inst, NULL, "give", NULL, 0, &v), "give")) {
        /* The write waiting for a reader goes to the sink as it attaches. */
        CHECK_OK(cstream_attach_sink(&v, &ops, &k), "attach a sink");
        CHECK(k.n == 5 && memcmp(k.got, "01234", 5) == 0, "the sink got 01234");
        CHECK(call_num(inst, "writer-event", NULL, 0) == 0x50, "writer: COMPLETED | 5 << 4");
        whirl_cval_release(&v);
        CHECK(k.frees == 0, "the sink lives while the writer does");
        CHECK(call_num(inst, "drop-writer", NULL, 0) == 0, "drop the writable end");
        CHECK(k.dropped == 1 && k.frees == 1, "the sink heard of the drop and was freed "
              "(%d %d)", k.dropped, k.frees);
        whirl_cval_t again = {0};
        CHECK_ERROR(cstream_attach_sink(&again, &ops, &k), "may take",
                    "no sink for a value that is not a stream");
        CHECK(k.frees == 2, "a sink that could not attach is freed");
    }
    whirl_store_delete(s);
}

/* An error context lifted to the host (its message readable there) and
 * lowered back. */
static void test_error_context(whirl_component_linker_t *l, whirl_component_t *c)
{
    whirl_store_t *s;
    whirl_component_instance_t *inst = t_instantiate(l, c, &s);
    if (!inst)
        return;
    whirl_cval_t v = {0}, copy = {0};
    if (CHECK_OK(t_call(inst, NULL, "give-error", NULL, 0, &v), "give-error")) {
        size_t len;
        const char *msg = cerror_message(&v, &len);
        CHECK(v.kind == WHIRL_CVAL_ERROR_CONTEXT && len == 4 && memcmp(msg, "oops", 4) == 0,
              "the host reads the debug message");
        CHECK_OK(whirl_cval_copy(&copy, &v), "an error-context value copies");
        whirl_cval_release(&v);
        CHECK(call_num(inst, "take-error", &copy, 1) == 4, "lowered back: its message has 4 bytes");
        CHECK(call_num(inst, "take-error", &copy, 1) == 4, "and again (values share it)");
        whirl_cval_release(&copy);
    }
    whirl_store_delete(s);
}

/* A host source: "0123456789" once, then the end. */
typedef struct src {
    int reads, frees, dropped;
} src_t;

static whirl_error_t *src_read(void *env, uint8_t *dst, size_t n, size_t *done, bool *eof)
{
    src_t *st = env;
    *eof = st->reads++ > 0;
    *done = *eof ? 0 : n < 10 ? n : 10;
    memcpy(dst, "0123456789", *done);
    return NULL;
}
static void src_dropped(void *env) { ((src_t *)env)->dropped++; }
/* Never ready, watching no descriptor (the event loop allows that: only
 * the store's deadline would end a wait on it). */
static whirl_error_t *src_later(void *env, uint8_t *dst, size_t n, size_t *done, bool *eof)
{
    (void)dst;
    (void)n;
    ((src_t *)env)->reads++;
    *done = 0;
    *eof = false;
    return NULL;
}
static int src_watch(void *env, short *events)
{
    (void)env;
    *events = POLLIN;
    return -1;
}
static void src_free(void *env) { ((src_t *)env)->frees++; }

static void test_host_writes(whirl_component_linker_t *l, whirl_component_t *c)
{
    static const cstream_host_ops_t ops = {
        .read = src_read, .peer_dropped = src_dropped, .free = src_free};
    src_t st = {0};
    whirl_store_t *s;
    whirl_component_instance_t *inst = t_instantiate(l, c, &s);
    if (!inst)
        return;
    whirl_cval_t v = {0};
    if (CHECK_OK(cstream_host_new(false, &ops, &st, &v), "host stream")) {
        CHECK(call_num(inst, "host-read", &v, 1) == 0xa0, "host source: COMPLETED | 10 << 4");
        whirl_cval_release(&v);
    }
    whirl_store_delete(s);
    CHECK(st.reads == 1 && st.dropped == 1 && st.frees == 1,
          "the source read once, heard of the drop and was freed (%d %d %d)", st.reads,
          st.dropped, st.frees);

    /* A source that is not ready (it has `watch`): the guest's async read
     * answers BLOCKED and waits in the instance's event loop; the store
     * goes away with the copy still waiting (its loop entry freed). */
    static const cstream_host_ops_t later = {.read = src_later, .free = src_free,
                                             .watch = src_watch};
    src_t lt = {0};
    inst = t_instantiate(l, c, &s);
    if (inst && CHECK_OK(cstream_host_new(false, &later, &lt, &v), "host stream")) {
        CHECK(call_num(inst, "host-read", &v, 1) == 0xffffffffu, "not ready: BLOCKED");
        whirl_cval_release(&v);
    }
    whirl_store_delete(s);
    CHECK(lt.reads == 1 && lt.frees == 1, "one read tried, the source freed (%d %d)",
          lt.reads, lt.frees);

    /* A host source behind a stream whose elements are not bytes (a guest
     * may import a host function with any element type): a trap. */
    inst = t_instantiate(l, c, &s);
    if (inst && CHECK_OK(cstream_host_new(false, &ops, &st, &v), "host stream")) {
        whirl_cval_t r = {0};
        CHECK_TRAP(t_call(inst, NULL, "host-read-unit", &v, 1, &r), "only streams of bytes",
                   "host source read as a stream without elements");
        whirl_cval_release(&v);
    }
    whirl_store_delete(s);

    /* A future the host resolved before the guest reads it; one it resolves
     * after the guest started reading. */
    inst = t_instantiate(l, c, &s);
    if (inst && CHECK_OK(cstream_host_new(true, NULL, NULL, &v), "host future")) {
        whirl_cval_t x = {.kind = WHIRL_CVAL_U32, .of.u = 7};
        cstream_future_resolve(cstream_of(&v), &x);
        CHECK(call_num(inst, "host-read-future", &v, 1) == 7, "resolved future read at once");
        whirl_cval_release(&v);
    }
    if (inst && CHECK_OK(cstream_host_new(true, NULL, NULL, &v), "host future")) {
        cstream_t *f = cstream_of(&v);
        cstream_ref(f);
        CHECK(call_num(inst, "host-read-future", &v, 1) == 1, "unresolved future: BLOCKED");
        whirl_cval_release(&v);
        whirl_cval_t x = {.kind = WHIRL_CVAL_U32, .of.u = 9};
        cstream_future_resolve(f, &x);
        cstream_unref(f);
    }
    whirl_store_delete(s);
}

static void test_pair(void)
{
    whirl_component_t *c = t_load("async-stream-pair");
    if (!c)
        return;
    whirl_component_linker_t *l = whirl_component_linker_new(t_engine);
    whirl_store_t *s;
    whirl_component_instance_t *inst = t_instantiate(l, c, &s);
    if (inst) {
        CHECK(call_num(inst, "reader-first", NULL, 0) == 482048294,
              "reader first: the write completes into the other instance (0x30), the read's "
              "event is STREAM_READ with COMPLETED | 3 << 4, bytes abc");
        CHECK(call_num(inst, "writer-first", NULL, 0) == 48294048,
              "writer first: the other instance's read completes at once, the writer's "
              "event follows");
        CHECK(call_num(inst, "strings", NULL, 0) == 2033384,
              "two strings lifted from one instance and lowered into the other");
    }
    whirl_store_delete(s);
    whirl_component_linker_delete(l);
    whirl_component_delete(c);
}

void test_streams(void)
{
    whirl_component_t *c = t_load("async-streams");
    if (c) {
        whirl_component_linker_t *l = whirl_component_linker_new(t_engine);
        test_in_instance(l, c);
        test_stream_traps(l, c);
        test_through_host(l, c);
        test_host_writes(l, c);
        test_error_context(l, c);
        test_sink(l, c);
        whirl_component_linker_delete(l);
        whirl_component_delete(c);
    }
    test_pair();
}
