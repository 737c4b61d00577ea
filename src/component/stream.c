/* Waitables, streams and futures of the component-model async ABI
 * (CanonicalABI.md: "Waitable State", "Stream State", "Future State",
 * `canon stream.*`, `canon future.*`, `canon waitable-set.*`).
 *
 * Each instance has one handle table for everything that is waited on:
 * waitable sets, the readable and writable ends of streams and futures,
 * and subtasks (their state is in subtask.c). A waitable holds at most one pending event and
 * belongs to at most one set.
 *
 * Streams and futures are rendezvous points, never buffers: a read or write
 * that finds the other side waiting copies straight between the two guest
 * buffers (or between a guest buffer and the host) and completes; one that
 * finds nobody waits with its buffer recorded (BLOCKED, or a trap when
 * called synchronously: the runtime runs one guest at a time, so nothing
 * could ever come). A writer that never stops therefore never grows host
 * memory. The first copy into a waiting buffer completes it (the spec lets
 * further copies fill it until the event is delivered; completing at once
 * is one of the schedules it allows).
 *
 * The host takes part through cstream_host_ops_t: as the sink of a readable
 * end a guest passed to it, or as the source of a stream it created. Both
 * run synchronously inside the guest's read or write; a source with a
 * `watch` op may answer "not ready", and the read then waits in the
 * instance's event loop (copy_wait, subtask.c), retried when the watched
 * descriptor is ready. */
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "component/component.h"

#define BLOCKED 0xffffffffu
#define MAX_LENGTH ((1u << 28) - 1)
enum { COPY_COMPLETED = 0, COPY_DROPPED = 1, COPY_CANCELLED = 2 };
enum { WK_SET = 1, WK_STREAM_READ, WK_STREAM_WRITE, WK_FUTURE_READ, WK_FUTURE_WRITE,
       WK_ERROR_CONTEXT, WK_SUBTASK };
enum { ST_IDLE = 0, ST_COPYING, ST_DONE };

struct cwaitable {
    uint8_t kind;
    uint32_t handle;
    cinst_t *inst;
    cwaitable_t *set;  /* the set this waitable joined, NULL if none */
    uint32_t nmembers; /* WK_SET: waitables that joined it */
    /* The pending event: a copy of this end finished with `result`. */
    bool has_event;
    uint8_t result;
    /* Ends: the stream, this end's view of the element type, its copy
     * state, and the buffer of the copy in progress with the options of the
     * built-in that started it. */
    cstream_t *s;
    const ctype_t *elem;
    uint8_t state;
    uint32_t ptr, n, progress;
    uint8_t encoding;
    whirl_memory_t *memory;
    whirl_func_t *realloc;
    cerror_t *ec; /* WK_ERROR_CONTEXT */
    csubtask_t *st; /* WK_SUBTASK */
};

/* An error context: its debug message, shared by handles and values. */
struct whirl_cerror {
    uint32_t refs;
    whirl_cval_t message; /* a string */
};

struct whirl_cstream {
    bool future;
    uint32_t refs;          /* guest ends, values and host attachments */
    cwaitable_t *rend, *wend; /* the guest ends, NULL where none */
    bool dropped;           /* one end was dropped: the other gets DROPPED */
    bool r_in_value;        /* the readable end is held by a whirl_cval_t */
    const cstream_host_ops_t *sink; /* the host holds the readable end */
    void *sink_env;
    bool sink_ref;          /* the sink holds a reference until the writer drops */
    bool host_writer;       /* the host created it and writes it */
    const cstream_host_ops_t *src;
    void *src_env;
    bool has_value;         /* host future: the value, not yet read */
    whirl_cval_t value;
};

/* Set while a store tears instances down: host callbacks run then (a guest
 * end dropped tells the host) must not lower into any guest memory, which
 * may already be gone, whichever instantiation it belongs to. */
static _Thread_local unsigned tearing_down;

static bool is_read(const cwaitable_t *w)
{
    return w->kind == WK_STREAM_READ || w->kind == WK_FUTURE_READ;
}

/* ------------------------------------------------------------------ */
/* The table                                                           */
/* ------------------------------------------------------------------ */

static whirl_error_t *table_add(cinst_t *inst, cwaitable_t *w)
{
    if (inst->waitables.len == 0 && !vec_push(&inst->waitables, (cwaitable_t *)NULL))
        return error_oom();
    for (size_t i = 1; i < inst->waitables.len; i++) {
        if (!inst->waitables.data[i]) {
            inst->waitables.data[i] = w;
            w->handle = (uint32_t)i;
            return NULL;
        }
    }
    if (inst->waitables.len > CANON_TABLE_MAX)
        return canon_trap("waitable table full (%u handles)", CANON_TABLE_MAX);
    if (!vec_push(&inst->waitables, w))
        return error_oom();
    w->handle = (uint32_t)inst->waitables.len - 1;
    return NULL;
}

static cwaitable_t *table_get(cinst_t *inst, uint32_t h)
{
    return h && h < inst->waitables.len ? inst->waitables.data[h] : NULL;
}

static void leave_set(cwaitable_t *w)
{
    if (w->set)
        w->set->nmembers--;
    w->set = NULL;
}

static void table_remove(cinst_t *inst, cwaitable_t *w)
{
    leave_set(w);
    inst->waitables.data[w->handle] = NULL;
}

static cwaitable_t *new_waitable(cinst_t *inst, uint8_t kind)
{
    cwaitable_t *w = calloc(1, sizeof *w);
    if (w) {
        w->kind = kind;
        w->inst = inst;
    }
    return w;
}

whirl_error_t *wset_new(cinst_t *inst, uint32_t *out)
{
    cwaitable_t *w = new_waitable(inst, WK_SET);
    if (!w)
        return error_oom();
    whirl_error_t *e = table_add(inst, w);
    if (e) {
        free(w);
        return e;
    }
    *out = w->handle;
    return NULL;
}

whirl_error_t *wset_check(cinst_t *inst, uint32_t handle, const char *what)
{
    cwaitable_t *w = table_get(inst, handle);
    if (!w || w->kind != WK_SET)
        return canon_trap("%s: %u is not a waitable set handle", what, handle);
    return NULL;
}

whirl_error_t *wset_drop(cinst_t *inst, uint32_t handle)
{
    whirl_error_t *e = wset_check(inst, handle, "waitable-set.drop");
    if (e)
        return e;
    cwaitable_t *w = inst->waitables.data[handle];
    if (w->nmembers)
        return canon_trap("waitable-set.drop: set %u still has %u member(s)", handle,
                          w->nmembers);
    table_remove(inst, w);
    free(w);
    return NULL;
}

whirl_error_t *waitable_join(cinst_t *inst, uint32_t wi, uint32_t si)
{
    cwaitable_t *w = table_get(inst, wi);
    if (!w || w->kind == WK_SET || w->kind == WK_ERROR_CONTEXT)
        return canon_trap("waitable.join: %u is not a waitable handle", wi);
    cwaitable_t *set = NULL;
    if (si) {
        whirl_error_t *e = wset_check(inst, si, "waitable.join");
        if (e)
            return e;
        set = inst->waitables.data[si];
    }
    leave_set(w);
    w->set = set;
    if (set)
        set->nmembers++;
    return NULL;
}

/* Delivers w's pending event: the end's state moves on and the payload
 * packs the result with the progress (streams). */
static void deliver(cwaitable_t *w, uint32_t *code, uint32_t *payload)
{
    if (w->kind == WK_SUBTASK) {
        w->has_event = false;
        *code = EVENT_SUBTASK;
        *payload = subtask_deliver(w->st);
        return;
    }
    static const uint8_t codes[] = {[WK_STREAM_READ] = EVENT_STREAM_READ,
                                    [WK_STREAM_WRITE] = EVENT_STREAM_WRITE,
                                    [WK_FUTURE_READ] = EVENT_FUTURE_READ,
                                    [WK_FUTURE_WRITE] = EVENT_FUTURE_WRITE};
    *code = codes[w->kind];
    bool future = w->kind == WK_FUTURE_READ || w->kind == WK_FUTURE_WRITE;
    if (future) {
        *payload = w->result;
        w->state = w->result == COPY_CANCELLED ? ST_IDLE : ST_DONE;
    } else {
        *payload = w->result | (w->progress << 4);
        w->state = w->result == COPY_DROPPED ? ST_DONE : ST_IDLE;
    }
    w->has_event = false;
    w->progress = 0;
}

whirl_error_t *waitable_add_subtask(cinst_t *inst, csubtask_t *st, uint32_t *out)
{
    cwaitable_t *w = new_waitable(inst, WK_SUBTASK);
    if (!w)
        return error_oom();
    whirl_error_t *e = table_add(inst, w);
    if (e) {
        free(w);
        return e;
    }
    w->st = st;
    *out = w->handle;
    return NULL;
}

csubtask_t *waitable_subtask(cinst_t *inst, uint32_t h, bool *in_set, bool *has_event)
{
    cwaitable_t *w = table_get(inst, h);
    if (!w || w->kind != WK_SUBTASK)
        return NULL;
    *in_set = w->set != NULL;
    *has_event = w->has_event;
    return w->st;
}

void waitable_subtask_event(cinst_t *inst, uint32_t h, bool on)
{
    cwaitable_t *w = table_get(inst, h);
    if (w && w->kind == WK_SUBTASK)
        w->has_event = on;
}

void waitable_subtask_remove(cinst_t *inst, uint32_t h)
{
    cwaitable_t *w = table_get(inst, h);
    if (w && w->kind == WK_SUBTASK) {
        table_remove(inst, w);
        free(w);
    }
}

bool wset_take_event(cinst_t *inst, uint32_t set, uint32_t *code, uint32_t *index,
                     uint32_t *payload)
{
    cwaitable_t *s = table_get(inst, set);
    if (!s || s->kind != WK_SET || !s->nmembers)
        return false;
    for (size_t i = 1; i < inst->waitables.len; i++) {
        cwaitable_t *w = inst->waitables.data[i];
        if (w && w->set == s && w->has_event) {
            deliver(w, code, payload);
            *index = w->handle;
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------------ */
/* Streams                                                             */
/* ------------------------------------------------------------------ */

static cstream_t *stream_new(bool future)
{
    cstream_t *s = calloc(1, sizeof *s);
    if (s)
        s->future = future;
    return s;
}

void cstream_ref(cstream_t *s) { s->refs++; }

void cstream_unref(cstream_t *s)
{
    if (!s || --s->refs)
        return;
    if (s->sink && s->sink->free)
        s->sink->free(s->sink_env);
    if (s->src && s->src->free)
        s->src->free(s->src_env);
    whirl_cval_release(&s->value);
    free(s);
}

cstream_t *cstream_of(const whirl_cval_t *v)
{
    return v && (v->kind == WHIRL_CVAL_STREAM || v->kind == WHIRL_CVAL_FUTURE) ? v->of.stream
                                                                                 : NULL;
}

/* The end waiting for the other side: copying with no result yet. */
static bool waiting(const cwaitable_t *w)
{
    return w && w->state == ST_COPYING && !w->has_event;
}

static void finish(cwaitable_t *w, uint8_t result)
{
    w->has_event = true;
    w->result = result;
}

/* One side is gone: the other side's waiting copy ends with DROPPED, and a
 * host on the other side hears of it. */
static void drop_side(cstream_t *s, bool reader)
{
    s->dropped = true;
    cwaitable_t *other = reader ? s->wend : s->rend;
    if (waiting(other))
        finish(other, COPY_DROPPED);
    const cstream_host_ops_t *ops = reader ? (s->host_writer ? s->src : NULL) : s->sink;
    void *env = reader ? s->src_env : s->sink_env;
    if (ops && ops->peer_dropped)
        ops->peer_dropped(env);
    /* The writer is gone, so the sink will never be called again: its
     * reference goes (the caller still holds the dropped end's). */
    if (!reader && s->sink_ref) {
        s->sink_ref = false;
        cstream_unref(s);
    }
}

static bool plain_elem(const ctype_t *t)
{
    return !t || (t->kind >= CT_S8 && t->kind <= CT_F64);
}

static uint32_t elem_size(const ctype_t *t) { return t ? t->size : 0; }

static whirl_error_t *guest_range(const cwaitable_t *w, uint32_t first, uint32_t k,
                                  uint8_t **out)
{
    uint64_t sz = elem_size(w->elem);
    if (!w->memory || !sz) {
        *out = NULL;
        return NULL;
    }
    uint64_t at = (uint64_t)w->ptr + (uint64_t)first * sz, len = (uint64_t)k * sz;
    size_t msize = whirl_memory_data_size(w->memory);
    if (at > msize || len > msize - at)
        return canon_trap("stream buffer out of bounds");
    *out = whirl_memory_data(w->memory) + at;
    return NULL;
}

/* Copies k elements from writer end `wr` to reader end `rd` (guest to
 * guest), at their progress so far. */
static whirl_error_t *copy_guest(cwaitable_t *wr, cwaitable_t *rd, uint32_t k)
{
    const ctype_t *t = rd->elem;
    if (wr->inst == rd->inst && !plain_elem(t))
        return canon_trap("a %s of a type other than numbers cannot be read and written by "
                          "the same component instance", wr->s->future ? "future" : "stream");
    whirl_error_t *e = NULL;
    if (plain_elem(t)) {
        uint8_t *src, *dst;
        if (t && !(e = guest_range(wr, wr->progress, k, &src)) &&
            !(e = guest_range(rd, rd->progress, k, &dst)))
            memmove(dst, src, (size_t)k * t->size);
    } else {
        ccx_t from = {.store = wr->inst->store, .inst = wr->inst, .encoding = wr->encoding,
                      .memory = wr->memory};
        ccx_t to = {.store = rd->inst->store, .inst = rd->inst, .encoding = rd->encoding,
                    .memory = rd->memory, .realloc = rd->realloc};
        cfield_t f = {NULL, t};
        for (uint32_t i = 0; i < k && !e; i++) {
            whirl_val_t src = {.kind = WHIRL_I32}, none[1];
            src.of.i32 = (int32_t)(wr->ptr + (wr->progress + i) * t->size);
            uint32_t dst = rd->ptr + (rd->progress + i) * t->size;
            whirl_cval_t v = {0};
            size_t nn = 0;
            if (!(e = canon_lift_values(&from, 0, &f, 1, &src, 1, &v)))
                e = canon_lower_values(&to, 0, &f, 1, &v, none, &nn, &dst);
            whirl_cval_release(&v);
        }
    }
    if (!e) {
        wr->progress += k;
        rd->progress += k;
    }
    return e;
}

/* The host's future value into reader end `rd`'s buffer. */
static whirl_error_t *lower_value(cwaitable_t *rd, const whirl_cval_t *v)
{
    if (!rd->elem)
        return NULL;
    ccx_t to = {.store = rd->inst->store, .inst = rd->inst, .encoding = rd->encoding,
                .memory = rd->memory, .realloc = rd->realloc};
    cfield_t f = {NULL, rd->elem};
    whirl_val_t none[1];
    size_t nn = 0;
    uint32_t dst = rd->ptr;
    return canon_lower_values(&to, 0, &f, 1, v, none, &nn, &dst);
}

/* Host sinks and sources move bytes: the guest's end must carry u8 or s8
 * (a guest may import a host function with another element type). */
static whirl_error_t *host_bytes(const cwaitable_t *w)
{
    if (!w->elem || (w->elem->kind != CT_U8 && w->elem->kind != CT_S8))
        return canon_trap("the host reads and writes only streams of bytes here, and this "
                          "end's element type is not u8");
    return NULL;
}

static whirl_error_t *host_read(cwaitable_t *w);

/* The event loop's side of a copy waiting for a host source. */
static size_t copy_watch(void *env, struct pollfd *pfd, uint64_t *deadline)
{
    cwaitable_t *w = env;
    (void)deadline;
    cstream_t *s = w->s;
    short events = 0;
    int fd = s->src && s->src->watch ? s->src->watch(s->src_env, &events) : -1;
    if (fd < 0)
        return 0;
    pfd[0] = (struct pollfd){.fd = fd, .events = events};
    return 1;
}

static whirl_error_t *copy_poll(void *env, whirl_store_t *store, whirl_cval_t *result,
                                bool *done)
{
    cwaitable_t *w = env;
    (void)store;
    (void)result;
    whirl_error_t *e = NULL;
    if (!w->has_event && w->state == ST_COPYING && !w->s->dropped)
        e = host_read(w);
    else if (!w->has_event && w->s->dropped)
        finish(w, COPY_DROPPED);
    *done = w->has_event;
    if (*done)
        w->st = NULL; /* the loop frees the entry */
    return e;
}

static void copy_forget(void *env) { (void)env; }

static const csub_host_ops_t copy_ops = {copy_watch, copy_poll, copy_forget};

/* Reader end `w`'s copy waits for the host source (no event yet). */
static whirl_error_t *copy_wait(cwaitable_t *w)
{
    if (w->st)
        return NULL; /* the loop retries it already */
    return subtask_copy_wait(w->inst, &copy_ops, w, &w->st);
}

/* A host source's read ended with `done` items: an empty read at the
 * source's end drops the stream. */
static void host_read_end(cwaitable_t *w, size_t done, bool eof)
{
    w->progress = (uint32_t)done;
    if (!done && eof)
        w->s->dropped = true;
    finish(w, !done && eof ? COPY_DROPPED : COPY_COMPLETED);
}

/* A typed host source fills reader end `w`'s buffer: values lowered one
 * by one at their place (at most CSTREAM_HOST_VALS per copy, so a source
 * never makes the host hold more than that). */
static whirl_error_t *host_read_vals(cwaitable_t *w)
{
    cstream_t *s = w->s;
    whirl_cval_t vals[CSTREAM_HOST_VALS];
    memset(vals, 0, sizeof vals);
    size_t n = w->n < CSTREAM_HOST_VALS ? w->n : CSTREAM_HOST_VALS, done = 0;
    bool eof = false;
    uint64_t sz = elem_size(w->elem);
    whirl_error_t *e = NULL;
    if (n && sz && !(e = guest_range(w, 0, (uint32_t)n, &(uint8_t *){NULL})))
        e = s->src->read_vals(s->src_env, vals, n, &done, &eof);
    if (done > n)
        done = n;
    for (size_t i = 0; i < done && !e; i++) {
        ccx_t to = {.store = w->inst->store, .inst = w->inst, .encoding = w->encoding,
                    .memory = w->memory, .realloc = w->realloc};
        cfield_t f = {NULL, w->elem};
        whirl_val_t none[1];
        size_t nn = 0;
        uint32_t dst = w->ptr + (uint32_t)(i * sz);
        e = canon_lower_values(&to, 0, &f, 1, &vals[i], none, &nn, &dst);
    }
    for (size_t i = 0; i < n; i++)
        whirl_cval_release(&vals[i]);
    if (e)
        return e;
    if (!done && !eof && n && s->src->watch)
        return copy_wait(w);
    host_read_end(w, done, eof);
    return NULL;
}

/* Reader end `w` reads from the stream's host source: finished, or
 * waiting (copy_wait) when a source that can say so is not ready. */
static whirl_error_t *host_read(cwaitable_t *w)
{
    cstream_t *s = w->s;
    if (s->src && s->src->read_vals)
        return host_read_vals(w);
    size_t done = 0;
    bool eof = false;
    uint8_t *dst = NULL;
    whirl_error_t *e = NULL;
    if (s->src && s->src->read && !(e = guest_range(w, 0, w->n, &dst)) && dst)
        e = s->src->read(s->src_env, dst, w->n, &done, &eof);
    if (e)
        return e;
    if (!done && !eof && w->n && dst && s->src->watch)
        return copy_wait(w);
    if (done > w->n)
        done = w->n;
    host_read_end(w, done, eof);
    return NULL;
}

/* A guest write to a host sink of values: each element is lifted out of
 * the writer (handles in it move to the host) and handed over. */
static whirl_error_t *sink_vals(cwaitable_t *w)
{
    cstream_t *s = w->s;
    ccx_t from = {.store = w->inst->store, .inst = w->inst, .encoding = w->encoding,
                  .memory = w->memory};
    cfield_t f = {NULL, w->elem};
    whirl_cval_t vals[CSTREAM_HOST_VALS];
    uint32_t n = w->n < CSTREAM_HOST_VALS ? w->n : CSTREAM_HOST_VALS;
    uint32_t lifted = 0;
    whirl_error_t *e = NULL;
    memset(vals, 0, sizeof vals);
    for (; lifted < n && !e && w->elem; lifted++) {
        whirl_val_t src = {.kind = WHIRL_I32};
        src.of.i32 = (int32_t)(w->ptr + lifted * w->elem->size);
        if ((e = canon_lift_values(&from, 0, &f, 1, &src, 1, &vals[lifted])))
            break;
    }
    size_t done = 0;
    bool closed = false;
    if (!e)
        e = s->sink->write_vals(s->sink_env, vals, w->elem ? lifted : n, &done, &closed);
    for (uint32_t i = 0; i < CSTREAM_HOST_VALS; i++)
        whirl_cval_release(&vals[i]);
    if (e)
        return e;
    w->progress = (uint32_t)(done > w->n ? w->n : done);
    if (closed && !done)
        s->dropped = true;
    finish(w, closed && !done ? COPY_DROPPED : COPY_COMPLETED);
    return NULL;
}

/* A guest end `w` starts a copy: the rendezvous with the other side. Sets
 * w's event when the copy finished now. */
static whirl_error_t *rendezvous(cwaitable_t *w)
{
    cstream_t *s = w->s;
    whirl_error_t *e = NULL;
    if (s->dropped) {
        finish(w, COPY_DROPPED);
        return NULL;
    }
    if ((is_read(w) ? s->host_writer && s->src && !s->src->read_vals
                    : s->sink != NULL && !s->sink->write_vals) &&
        (e = host_bytes(w)))
        return e;
    if (is_read(w)) {
        cwaitable_t *wr = s->wend;
        if (s->host_writer && s->future) {
            if (s->has_value) {
                if (!(e = lower_value(w, &s->value))) {
                    s->has_value = false;
                    whirl_cval_release(&s->value);
                    w->progress = 1;
                    finish(w, COPY_COMPLETED);
                }
            }
        } else if (s->host_writer) {
            e = host_read(w);
        } else if (waiting(wr)) {
            uint32_t k = wr->n - wr->progress, room = w->n - w->progress;
            if (k && room) {
                if (k > room)
                    k = room;
                if (!(e = copy_guest(wr, w, k))) {
                    finish(wr, COPY_COMPLETED);
                    finish(w, COPY_COMPLETED);
                }
            } else if (!k) {
                /* A zero-length write is told a reader came; the read waits. */
                finish(wr, COPY_COMPLETED);
            } else {
                finish(w, COPY_COMPLETED); /* a zero-length read completes */
            }
        }
        return e;
    }
    /* A write. */
    if (s->sink && s->sink->write_vals)
        return sink_vals(w);
    if (s->sink) {
        size_t done = 0;
        bool closed = false;
        uint8_t *src = NULL;
        if (s->sink->write && !(e = guest_range(w, 0, w->n, &src)) && src && w->n)
            e = s->sink->write(s->sink_env, src, w->n, &done, &closed);
        else if (!e)
            done = w->n;
        if (!e) {
            w->progress = (uint32_t)(done > w->n ? w->n : done);
            if (closed && !done)
                s->dropped = true;
            finish(w, closed && !done ? COPY_DROPPED : COPY_COMPLETED);
        }
        return e;
    }
    cwaitable_t *rd = s->rend;
    if (waiting(rd)) {
        uint32_t room = rd->n - rd->progress, k = w->n - w->progress;
        if (room && k) {
            if (k > room)
                k = room;
            if (!(e = copy_guest(w, rd, k))) {
                finish(rd, COPY_COMPLETED);
                finish(w, COPY_COMPLETED);
            }
        } else if (!k) {
            finish(w, COPY_COMPLETED); /* zero-length write: the read keeps waiting */
        } else {
            finish(rd, COPY_COMPLETED); /* a zero-length read hears of the writer */
        }
    }
    return e;
}

/* ------------------------------------------------------------------ */
/* The built-ins                                                       */
/* ------------------------------------------------------------------ */

static whirl_error_t *get_end(ctask_env_t *te, uint32_t h, uint8_t kind, cwaitable_t **out)
{
    const char *name = canon_async_name(te->builtin);
    cwaitable_t *w = table_get(te->inst, h);
    if (!w || w->kind != kind)
        return canon_trap("%s: %u is not a %s end of a %s", name, h,
                          kind == WK_STREAM_READ || kind == WK_FUTURE_READ ? "readable"
                                                                           : "writable",
                          kind <= WK_STREAM_WRITE ? "stream" : "future");
    const ctype_t *want = te->type ? te->type->elem : NULL;
    if (!(w->elem ? want && ctype_equal(w->elem, want) : !want))
        return canon_trap("%s: handle %u has another element type", name, h);
    *out = w;
    return NULL;
}

static whirl_error_t *do_new(ctask_env_t *te, bool future, whirl_val_t *results)
{
    cinst_t *inst = te->inst;
    cstream_t *s = stream_new(future);
    cwaitable_t *r = new_waitable(inst, future ? WK_FUTURE_READ : WK_STREAM_READ);
    cwaitable_t *w = new_waitable(inst, future ? WK_FUTURE_WRITE : WK_STREAM_WRITE);
    whirl_error_t *e = s && r && w ? NULL : error_oom();
    if (!e && !(e = table_add(inst, r))) {
        if ((e = table_add(inst, w)))
            table_remove(inst, r);
    }
    if (e) {
        free(s);
        free(r);
        free(w);
        return e;
    }
    r->s = w->s = s;
    r->elem = w->elem = te->type ? te->type->elem : NULL;
    s->rend = r;
    s->wend = w;
    s->refs = 2;
    results[0].kind = WHIRL_I64;
    results[0].of.i64 = (int64_t)((uint64_t)r->handle | (uint64_t)w->handle << 32);
    return NULL;
}

static whirl_error_t *do_copy(ctask_env_t *te, uint8_t kind, const whirl_val_t *args,
                              whirl_val_t *results)
{
    const char *name = canon_async_name(te->builtin);
    bool future = kind >= WK_FUTURE_READ;
    cwaitable_t *w = NULL;
    uint32_t h = (uint32_t)args[0].of.i32, ptr = (uint32_t)args[1].of.i32;
    uint32_t n = future ? 1 : (uint32_t)args[2].of.i32;
    whirl_error_t *e = get_end(te, h, kind, &w);
    if (e)
        return e;
    if (w->state != ST_IDLE)
        return canon_trap("%s: handle %u is %s", name, h,
                          w->state == ST_DONE ? "done (the other end was dropped, or the "
                                                "future was already read or written)"
                                              : "already copying");
    if (w->set && !te->async)
        return canon_trap("%s: handle %u is in a waitable set, so it cannot be copied "
                          "synchronously", name, h);
    if (n > MAX_LENGTH)
        return canon_trap("%s: length %u exceeds %u", name, n, MAX_LENGTH);
    if (w->elem) {
        uint64_t sz = w->elem->size;
        if (!te->memory)
            return canon_trap("%s: no memory", name);
        if (ptr % w->elem->align)
            return canon_trap("%s: buffer 0x%x is not aligned to %u", name, ptr,
                              w->elem->align);
        if ((uint64_t)ptr + sz * n > whirl_memory_data_size(te->memory))
            return canon_trap("%s: buffer of %u element(s) at 0x%x is out of bounds", name, n,
                              ptr);
    }
    w->ptr = ptr;
    w->n = n;
    w->progress = 0;
    w->encoding = te->encoding;
    w->memory = te->memory;
    w->realloc = te->realloc;
    w->state = ST_COPYING;
    if ((e = rendezvous(w)))
        return e;
    while (!w->has_event && w->st && !te->async) {
        bool none; /* a synchronous read of a host source that was not ready */
        if ((e = subtasks_run(te->inst, true, &none)))
            return e;
    }
    if (!w->has_event) {
        if (!te->async)
            return canon_trap("%s: nothing can complete this synchronous copy (the task "
                              "would wait forever)", name);
        results[0].of.i32 = (int32_t)BLOCKED;
        return NULL;
    }
    uint32_t code, payload;
    deliver(w, &code, &payload);
    results[0].of.i32 = (int32_t)payload;
    return NULL;
}

static whirl_error_t *do_cancel(ctask_env_t *te, uint8_t kind, const whirl_val_t *args,
                                whirl_val_t *results)
{
    const char *name = canon_async_name(te->builtin);
    cwaitable_t *w = NULL;
    uint32_t h = (uint32_t)args[0].of.i32;
    whirl_error_t *e = get_end(te, h, kind, &w);
    if (e)
        return e;
    if (w->state != ST_COPYING)
        return canon_trap("%s: handle %u has no copy in progress", name, h);
    if (w->set && !te->async)
        return canon_trap("%s: handle %u is in a waitable set, so it cannot be cancelled "
                          "synchronously", name, h);
    /* A copy that already finished delivers its result; else it ends now
     * (the runtime holds no buffer of its own to give back). */
    if (w->st && !w->has_event) { /* a copy waiting for a host source */
        csubtask_t *st = w->st;
        w->st = NULL;
        subtask_free(st);
    }
    if (!w->has_event)
        finish(w, COPY_CANCELLED);
    uint32_t code, payload;
    deliver(w, &code, &payload);
    results[0].of.i32 = (int32_t)payload;
    return NULL;
}

static whirl_error_t *do_drop(ctask_env_t *te, uint8_t kind, const whirl_val_t *args)
{
    const char *name = canon_async_name(te->builtin);
    cwaitable_t *w = NULL;
    uint32_t h = (uint32_t)args[0].of.i32;
    whirl_error_t *e = get_end(te, h, kind, &w);
    if (e)
        return e;
    if (w->state == ST_COPYING)
        return canon_trap("%s: handle %u has a copy in progress", name, h);
    if (kind == WK_FUTURE_WRITE && w->state != ST_DONE)
        return canon_trap("%s: the future's value was never written", name);
    cstream_t *s = w->s;
    table_remove(te->inst, w);
    bool reader = is_read(w);
    if (reader)
        s->rend = NULL;
    else
        s->wend = NULL;
    free(w);
    drop_side(s, reader);
    cstream_unref(s);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Error contexts                                                      */
/* ------------------------------------------------------------------ */

void cerror_ref(cerror_t *ec) { ec->refs++; }

void cerror_unref(cerror_t *ec)
{
    if (!ec || --ec->refs)
        return;
    whirl_cval_release(&ec->message);
    free(ec);
}

const char *cerror_message(const whirl_cval_t *v, size_t *len)
{
    cerror_t *ec = v && v->kind == WHIRL_CVAL_ERROR_CONTEXT ? v->of.error_context : NULL;
    *len = ec ? ec->message.of.string.len : 0;
    return ec && ec->message.of.string.data ? ec->message.of.string.data : "";
}

/* A handle for `ec` (a new reference) in `inst`'s table. */
static whirl_error_t *ec_add(cinst_t *inst, cerror_t *ec, uint32_t *out)
{
    cwaitable_t *w = new_waitable(inst, WK_ERROR_CONTEXT);
    if (!w)
        return error_oom();
    whirl_error_t *e = table_add(inst, w);
    if (e) {
        free(w);
        return e;
    }
    w->ec = ec;
    cerror_ref(ec);
    *out = w->handle;
    return NULL;
}

static whirl_error_t *ec_get(cinst_t *inst, uint32_t h, const char *what, cwaitable_t **out)
{
    cwaitable_t *w = table_get(inst, h);
    if (!w || w->kind != WK_ERROR_CONTEXT)
        return canon_trap("%s: %u is not an error-context handle", what, h);
    *out = w;
    return NULL;
}

/* error-context.new: the debug message is the string (ptr, units) in the
 * caller's memory and encoding. */
static whirl_error_t *ec_new(ctask_env_t *te, const whirl_val_t *args, whirl_val_t *results)
{
    ccx_t cx = {.store = te->inst->store, .inst = te->inst, .encoding = te->encoding,
                .memory = te->memory};
    cfield_t f = {NULL, ctype_prim(CT_STRING)};
    cerror_t *ec = calloc(1, sizeof *ec);
    if (!ec)
        return error_oom();
    whirl_error_t *e = canon_lift_values(&cx, CANON_MAX_FLAT_PARAMS, &f, 1, args, 2, &ec->message);
    uint32_t h = 0;
    if (!e)
        e = ec_add(te->inst, ec, &h);
    if (!e)
        results[0].of.i32 = (int32_t)h;
    if (e) {
        whirl_cval_release(&ec->message);
        free(ec);
    }
    return e;
}

/* error-context.debug-message: the message as a string (pointer, length)
 * stored at ptr, its bytes from the caller's realloc. */
static whirl_error_t *ec_debug_message(ctask_env_t *te, const whirl_val_t *args)
{
    cwaitable_t *w = NULL;
    whirl_error_t *e = ec_get(te->inst, (uint32_t)args[0].of.i32, "error-context.debug-message",
                              &w);
    if (e)
        return e;
    ccx_t cx = {.store = te->inst->store, .inst = te->inst, .encoding = te->encoding,
                .memory = te->memory, .realloc = te->realloc};
    cfield_t f = {NULL, ctype_prim(CT_STRING)};
    uint32_t ptr = (uint32_t)args[1].of.i32;
    whirl_val_t none[2];
    size_t n = 0;
    whirl_cval_t msg = w->ec->message;
    if (msg.kind != WHIRL_CVAL_STRING) {
        msg.kind = WHIRL_CVAL_STRING;
        msg.of.string.data = "";
        msg.of.string.len = 0;
    }
    return canon_lower_values(&cx, 0, &f, 1, &msg, none, &n, &ptr);
}

static whirl_error_t *ec_drop(ctask_env_t *te, const whirl_val_t *args)
{
    cwaitable_t *w = NULL;
    whirl_error_t *e = ec_get(te->inst, (uint32_t)args[0].of.i32, "error-context.drop", &w);
    if (e)
        return e;
    table_remove(te->inst, w);
    cerror_unref(w->ec);
    free(w);
    return NULL;
}

/* Lifting copies the reference (the handle stays); lowering adds a handle. */
whirl_error_t *cerror_lift(ccx_t *cx, uint32_t h, whirl_cval_t *out)
{
    cwaitable_t *w = NULL;
    whirl_error_t *e = ec_get(cx->inst, h, "lifting an error-context", &w);
    if (e)
        return e;
    cerror_ref(w->ec);
    out->kind = WHIRL_CVAL_ERROR_CONTEXT;
    out->of.error_context = w->ec;
    return NULL;
}

whirl_error_t *cerror_lower(ccx_t *cx, const whirl_cval_t *v, uint32_t *out)
{
    if (v->kind != WHIRL_CVAL_ERROR_CONTEXT || !v->of.error_context)
        return canon_trap("a value that is not an error-context where one was expected");
    return ec_add(cx->inst, v->of.error_context, out);
}

whirl_error_t *stream_builtin(ctask_env_t *te, const whirl_val_t *args, size_t nargs,
                              whirl_val_t *results)
{
    (void)nargs;
    switch (te->builtin) {
    case 0x0e: return do_new(te, false, results);
    case 0x0f: return do_copy(te, WK_STREAM_READ, args, results);
    case 0x10: return do_copy(te, WK_STREAM_WRITE, args, results);
    case 0x11: return do_cancel(te, WK_STREAM_READ, args, results);
    case 0x12: return do_cancel(te, WK_STREAM_WRITE, args, results);
    case 0x13: return do_drop(te, WK_STREAM_READ, args);
    case 0x14: return do_drop(te, WK_STREAM_WRITE, args);
    case 0x15: return do_new(te, true, results);
    case 0x16: return do_copy(te, WK_FUTURE_READ, args, results);
    case 0x17: return do_copy(te, WK_FUTURE_WRITE, args, results);
    case 0x18: return do_cancel(te, WK_FUTURE_READ, args, results);
    case 0x19: return do_cancel(te, WK_FUTURE_WRITE, args, results);
    case 0x1a: return do_drop(te, WK_FUTURE_READ, args);
    case 0x1b: return do_drop(te, WK_FUTURE_WRITE, args);
    case 0x1c: return ec_new(te, args, results);
    case 0x1d: return ec_debug_message(te, args);
    case 0x1e: return ec_drop(te, args);
    default: return canon_trap("%s is not implemented yet", canon_async_name(te->builtin));
    }
}

/* ------------------------------------------------------------------ */
/* Values: readable ends moving between guests and the host            */
/* ------------------------------------------------------------------ */

whirl_error_t *cstream_lift(ccx_t *cx, uint32_t h, const ctype_t *t, whirl_cval_t *out)
{
    bool future = t->kind == CT_FUTURE;
    uint8_t kind = future ? WK_FUTURE_READ : WK_STREAM_READ;
    const char *what = future ? "future" : "stream";
    cwaitable_t *w = table_get(cx->inst, h);
    if (!w || w->kind != kind)
        return canon_trap("%u is not the readable end of a %s", h, what);
    if (!(w->elem ? t->elem && ctype_equal(w->elem, t->elem) : !t->elem))
        return canon_trap("%s handle %u has another element type", what, h);
    if (w->state != ST_IDLE)
        return canon_trap("%s handle %u cannot move: it is %s", what, h,
                          w->state == ST_DONE ? "done" : "copying");
    if (w->set)
        return canon_trap("%s handle %u cannot move: it is in a waitable set", what, h);
    cstream_t *s = w->s;
    table_remove(cx->inst, w);
    free(w);
    s->rend = NULL;
    s->r_in_value = true; /* the end's reference passes to the value */
    out->kind = future ? WHIRL_CVAL_FUTURE : WHIRL_CVAL_STREAM;
    out->of.stream = s;
    return NULL;
}

whirl_error_t *cstream_lower(ccx_t *cx, const whirl_cval_t *v, const ctype_t *t, uint32_t *out)
{
    bool future = t->kind == CT_FUTURE;
    cstream_t *s = cstream_of(v);
    if (!s || (v->kind == WHIRL_CVAL_FUTURE) != future)
        return canon_trap("%s value where a %s was expected",
                          v->kind == WHIRL_CVAL_STREAM   ? "a stream"
                          : v->kind == WHIRL_CVAL_FUTURE ? "a future"
                                                         : "another",
                          future ? "future" : "stream");
    if (!s->r_in_value)
        return canon_trap("this %s's readable end was already moved", future ? "future" : "stream");
    cwaitable_t *w = new_waitable(cx->inst, future ? WK_FUTURE_READ : WK_STREAM_READ);
    if (!w)
        return error_oom();
    whirl_error_t *e = table_add(cx->inst, w);
    if (e) {
        free(w);
        return e;
    }
    w->s = s;
    w->elem = t->elem; /* this component's view of the element type */
    s->rend = w;
    s->r_in_value = false;
    cstream_ref(s);
    *out = w->handle;
    return NULL;
}

void cstream_value_release(cstream_t *s)
{
    if (s->r_in_value) {
        s->r_in_value = false;
        drop_side(s, true);
    }
    cstream_unref(s);
}

whirl_error_t *cstream_host_new(bool future, const cstream_host_ops_t *ops, void *env,
                                whirl_cval_t *out)
{
    cstream_t *s = stream_new(future);
    if (!s)
        return error_oom();
    s->host_writer = true;
    s->src = ops;
    s->src_env = env;
    s->r_in_value = true;
    s->refs = 1;
    whirl_cval_release(out);
    out->kind = future ? WHIRL_CVAL_FUTURE : WHIRL_CVAL_STREAM;
    out->of.stream = s;
    return NULL;
}

whirl_error_t *cstream_attach_sink(const whirl_cval_t *v, const cstream_host_ops_t *ops,
                                   void *env)
{
    cstream_t *s = cstream_of(v);
    if (!s || !s->r_in_value || s->sink) {
        if (ops->free)
            ops->free(env);
        return error_fmt("not a stream or future whose readable end the host may take");
    }
    /* The readable end is ours, so only the writer can have dropped. */
    bool writer_gone = s->dropped;
    s->r_in_value = false;
    s->sink = ops;
    s->sink_env = env;
    if (writer_gone) {
        if (ops->peer_dropped)
            ops->peer_dropped(env);
        return NULL;
    }
    cstream_ref(s);
    s->sink_ref = true;
    /* A write that waited for a reader goes through now. */
    if (waiting(s->wend) && !s->wend->inst->dying && !tearing_down)
        return rendezvous(s->wend);
    return NULL;
}

void cstream_future_resolve(cstream_t *f, whirl_cval_t *value)
{
    cwaitable_t *rd = f->rend;
    if (f->dropped || f->has_value) {
        whirl_cval_release(value);
        return;
    }
    if (waiting(rd) && !rd->inst->dying && !tearing_down) {
        /* A trap lowering the value (the reader's realloc failing, say)
         * cannot reach the guest here: the read fails with DROPPED. */
        whirl_error_t *e = lower_value(rd, value);
        whirl_cval_release(value);
        if (e) {
            whirl_error_delete(e);
            finish(rd, COPY_DROPPED);
        } else {
            rd->progress = 1;
            finish(rd, COPY_COMPLETED);
        }
        return;
    }
    f->value = *value;
    f->has_value = true;
    memset(value, 0, sizeof *value);
}

void waitables_free(cinst_t *inst)
{
    tearing_down++;
    for (size_t i = 1; i < inst->waitables.len; i++) {
        cwaitable_t *w = inst->waitables.data[i];
        if (!w)
            continue;
        cerror_unref(w->ec);
        if (w->st)
            subtask_free(w->st);
        if (w->s) {
            cstream_t *s = w->s;
            bool reader = is_read(w);
            if (reader)
                s->rend = NULL;
            else
                s->wend = NULL;
            drop_side(s, reader);
            cstream_unref(s);
        }
        free(w);
    }
    vec_free(&inst->waitables);
    tearing_down--;
}

/* ---- the public host streams and futures (include/whirl/component.h) ---- */

/* A public source behind the internal ops table: its ops and env. */
typedef struct pub_source {
    const whirl_component_source_ops_t *ops;
    void *env;
} pub_source_t;

static whirl_error_t *pub_read(void *env, whirl_cval_t *vals, size_t n, size_t *done, bool *eof)
{
    pub_source_t *p = env;
    return p->ops->read(p->env, vals, n, done, eof);
}

static void pub_free(void *env)
{
    pub_source_t *p = env;
    if (p->ops->free)
        p->ops->free(p->env);
    free(p);
}

static const cstream_host_ops_t pub_ops = {.read_vals = pub_read, .free = pub_free};

whirl_error_t *whirl_cval_set_stream(whirl_cval_t *value, const whirl_component_source_ops_t *ops,
                                     void *env)
{
    pub_source_t *p = calloc(1, sizeof *p);
    if (!p) {
        if (ops->free)
            ops->free(env);
        whirl_cval_release(value);
        return error_oom();
    }
    p->ops = ops;
    p->env = env;
    whirl_error_t *e = cstream_host_new(false, &pub_ops, p, value);
    if (e)
        pub_free(p);
    return e;
}

whirl_error_t *whirl_cval_set_future(whirl_cval_t *value, whirl_cval_t *payload)
{
    whirl_error_t *e = cstream_host_new(true, NULL, NULL, value);
    if (e) {
        whirl_cval_release(payload);
        return e;
    }
    whirl_cval_t none = {0};
    cstream_future_resolve(value->of.stream, payload ? payload : &none);
    return NULL;
}
