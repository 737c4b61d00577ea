/* The component-model async versions of Spin's host interfaces
 * (spin:key-value@3.0.0, spin:variables@3.0.0, spin:redis@3.0.0,
 * spin:mqtt@3.0.0, spin:mysql@3.0.0, spin:sqlite@3.1.0's *-async
 * functions, spin:postgres@4.2.0's *-async functions). Their arguments and
 * errors are the synchronous versions', so each one runs its synchronous
 * twin (same backends, same deadline) and finishes before it returns: the
 * guest's async lower answers RETURNED. What differs is the shape of
 * results that became streams:
 *   rows    result<record { columns, rows }, E> becomes
 *           result<tuple<columns, stream<row>, future<result<_, E>>>, E>
 *   keys    result<list<string>, E> becomes
 *           tuple<stream<string>, future<result<_, E>>>
 * The stream hands out the rows the synchronous call fetched, which that
 * call bounds (its row and byte limits), a few per guest read. */
#include <stdlib.h>
#include <string.h>

#include "serve/spin_host.h"

#define errorf whirl_error_newf

typedef struct async_def {
    whirl_component_callback_t sync;
    void *env;
    spin_async_shape_t shape;
} async_def_t;

/* ---- a stream of the values of a list ---- */

typedef struct list_src {
    whirl_cval_t list; /* LIST; items before `next` were handed out (zeroed) */
    size_t next;
} list_src_t;

static whirl_error_t *list_read(void *env, whirl_cval_t *vals, size_t n, size_t *done, bool *eof)
{
    list_src_t *s = env;
    size_t left = s->list.of.list.len - s->next;
    size_t k = n < left ? n : left;
    /* The items move into the engine's nodes, which it releases. */
    memcpy(vals, &s->list.of.list.items[s->next], k * sizeof *vals);
    memset(&s->list.of.list.items[s->next], 0, k * sizeof *vals);
    s->next += k;
    *done = k;
    *eof = k == 0;
    return NULL;
}

static void list_free(void *env)
{
    list_src_t *s = env;
    whirl_cval_release(&s->list);
    free(s);
}

static const whirl_component_source_ops_t list_ops = {.read = list_read, .free = list_free};

whirl_error_t *spin_stream_of_list(whirl_cval_t *list, whirl_cval_t *out)
{
    list_src_t *s = calloc(1, sizeof *s);
    if (!s) {
        whirl_cval_release(list);
        return errorf("out of memory");
    }
    s->list = *list;
    memset(list, 0, sizeof *list);
    if (s->list.kind != WHIRL_CVAL_LIST) { /* an empty stream */
        whirl_cval_release(&s->list);
        s->list.kind = WHIRL_CVAL_LIST;
    }
    return whirl_cval_set_stream(out, &list_ops, s);
}

/* A future of result<_, E>: ok, or the error `err` (taken). */
static whirl_error_t *done_future(whirl_cval_t *out, whirl_cval_t *err)
{
    whirl_cval_t r = {0};
    whirl_error_t *e = whirl_cval_set_case(&r, WHIRL_CVAL_RESULT, err ? 1 : 0, err != NULL);
    if (e) {
        whirl_cval_release(err);
        return e;
    }
    if (err) {
        *r.of.variant.payload = *err;
        memset(err, 0, sizeof *err);
    }
    return whirl_cval_set_future(out, &r);
}

/* ---- result shapes ---- */

/* rows: the sync result's ok payload record { columns, rows } becomes the
 * tuple (columns, stream of rows, future ok). */
static whirl_error_t *shape_rows(whirl_cval_t *res)
{
    if (res->kind != WHIRL_CVAL_RESULT || res->of.variant.index != 0)
        return NULL; /* an error: the same in both versions */
    whirl_cval_t *p = res->of.variant.payload;
    if (!p || p->kind != WHIRL_CVAL_RECORD || p->of.list.len != 2)
        return errorf("spin async: the query's result is not columns and rows");
    whirl_cval_t cols = p->of.list.items[0], rows = p->of.list.items[1];
    memset(p->of.list.items, 0, 2 * sizeof *p->of.list.items);
    whirl_cval_t t = {0};
    whirl_error_t *e = whirl_cval_set_items(&t, WHIRL_CVAL_TUPLE, 3);
    if (e) {
        whirl_cval_release(&cols);
        whirl_cval_release(&rows);
        return e;
    }
    t.of.list.items[0] = cols;
    e = spin_stream_of_list(&rows, &t.of.list.items[1]);
    if (!e)
        e = done_future(&t.of.list.items[2], NULL);
    if (e) {
        whirl_cval_release(&t);
        return e;
    }
    whirl_cval_release(p);
    *p = t;
    return NULL;
}

/* keys: result<list<string>, E> becomes (stream of the keys, future of
 * ok), or (an empty stream, future of the error). */
static whirl_error_t *shape_keys(whirl_cval_t *res)
{
    if (res->kind != WHIRL_CVAL_RESULT)
        return errorf("spin async: get-keys' result is not a result");
    bool ok = res->of.variant.index == 0;
    whirl_cval_t payload = {0};
    if (res->of.variant.payload) {
        payload = *res->of.variant.payload;
        memset(res->of.variant.payload, 0, sizeof payload);
    }
    whirl_cval_release(res);
    whirl_cval_t keys = {0};
    if (ok) { /* the keys move out of payload */
        keys = payload;
        memset(&payload, 0, sizeof payload);
    }
    whirl_error_t *e = whirl_cval_set_items(res, WHIRL_CVAL_TUPLE, 2);
    if (!e)
        e = spin_stream_of_list(&keys, &res->of.list.items[0]);
    if (!e)
        e = done_future(&res->of.list.items[1], ok ? NULL : &payload);
    whirl_cval_release(&keys);
    whirl_cval_release(&payload);
    if (e)
        whirl_cval_release(res);
    return e;
}

static whirl_error_t *async_call(void *env, whirl_store_t *store,
                                 const whirl_component_func_t *type, const whirl_cval_t *args,
                                 size_t nargs, whirl_cval_t *results, size_t nresults)
{
    const async_def_t *d = env;
    whirl_error_t *e = d->sync(d->env, store, type, args, nargs, results, nresults);
    if (e || nresults != 1)
        return e;
    if ((e = d->shape == SPIN_ASYNC_ROWS ? shape_rows(results) : shape_keys(results)))
        whirl_cval_release(results);
    return e;
}

whirl_error_t *spin_define_async(whirl_component_linker_t *l, const char *iface,
                                 const char *name, whirl_component_callback_t sync, void *env,
                                 spin_async_shape_t shape)
{
    if (shape == SPIN_ASYNC_SAME)
        return whirl_component_linker_define_func(l, iface, name, sync, env, NULL);
    async_def_t *d = malloc(sizeof *d);
    if (!d)
        return errorf("out of memory");
    *d = (async_def_t){.sync = sync, .env = env, .shape = shape};
    whirl_error_t *e = whirl_component_linker_define_func(l, iface, name, async_call, d, free);
    if (e)
        free(d); /* not registered: still ours */
    return e;
}
