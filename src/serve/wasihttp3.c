/* wasi:http 0.3 on whirl serve: the types a handler and its outbound
 * requests use (fields, request, response, request-options), the
 * `wasi:http/handler` export served per request, and the client import
 * (`wasi:http/client.send`, an async function: wasihttp3_out.c).
 *
 * Bodies are streams and trailers futures (component-model async). The
 * host takes the readable ends a guest hands to request.new and
 * response.new and becomes their sink: what the guest writes is kept in a
 * body buffer of at most MAX_PENDING bytes (a writer past it is told the
 * stream is closed, and the body is refused), the trailers future's value
 * is kept until the request is sent or the response answered. A response
 * is answered once the handler's task has ended (so its body is complete);
 * an outbound response's body and trailers are read whole before send
 * returns, then served to the guest from memory. Streaming both ways is a
 * later step (docs/COMPONENT-ASYNC.md). */
#define _GNU_SOURCE /* asprintf */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "component/component.h"
#include "serve/wasihttp3.h"

static const char *const kind_names[W3_KINDS] = {"fields", "request", "response",
                                                 "request-options"};
static whirl_resource_type_t *g_types[W3_KINDS];

static const char *const method_names[9] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                            "CONNECT", "OPTIONS", "TRACE", "PATCH"};

const char *wh3_method_name(const w3obj_t *o)
{
    return o->rq.method < 9 ? method_names[o->rq.method] : o->rq.method_other;
}

/* ---- bodies ---- */

w3body_t *wh3_body_new(void)
{
    w3body_t *b = calloc(1, sizeof *b);
    if (b)
        b->refs = 1;
    return b;
}

void wh3_body_unref(w3body_t *b)
{
    if (!b || --b->refs > 0)
        return;
    free(b->data);
    wh_fl_unref(b->trailers);
    whirl_cval_release(&b->trailer_error);
    if (b->transmit)
        cstream_unref(b->transmit);
    free(b);
}

/* Resolves the body's transmission future: ok, or err(error-code `ec`,
 * copied) / err(code, msg). */
void wh3_transmit(w3body_t *b, const whirl_cval_t *ec, int code, const char *msg)
{
    if (!b->transmit)
        return;
    whirl_cval_t v = {0};
    bool err = ec || code >= 0;
    whirl_error_t *e = whirl_cval_set_case(&v, WHIRL_CVAL_RESULT, err ? 1 : 0, err);
    if (!e && ec)
        e = whirl_cval_copy(v.of.variant.payload, ec);
    else if (!e && err)
        e = wh_set_error_code(v.of.variant.payload, code, msg);
    if (e) {
        whirl_error_delete(e);
        whirl_cval_release(&v);
    } else {
        cstream_future_resolve(b->transmit, &v);
    }
    cstream_unref(b->transmit);
    b->transmit = NULL;
}

static whirl_error_t *body_write(void *env, const uint8_t *data, size_t n, size_t *done,
                                 bool *closed)
{
    w3body_t *b = env;
    *done = 0;
    *closed = false;
    if (n == 0)
        return NULL;
    if (b->len + n > MAX_PENDING || b->too_big) {
        b->too_big = true;
        *closed = true;
        return NULL;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d) {
            b->too_big = true;
            *closed = true;
            return NULL;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
    *done = n;
    return NULL;
}

static void body_ended(void *env) { ((w3body_t *)env)->ended = true; }
static void body_free(void *env) { wh3_body_unref(env); }

static const cstream_host_ops_t body_sink = {.write = body_write, .peer_dropped = body_ended,
                                             .free = body_free};

/* The trailers future's value: result<option<own<trailers>>, error-code>. */
static whirl_error_t *trailers_write(void *env, whirl_cval_t *vals, size_t n, size_t *done,
                                     bool *closed)
{
    w3body_t *b = env;
    *done = n;
    *closed = false;
    if (!n || b->trailers_done)
        return NULL;
    b->trailers_done = true;
    whirl_cval_t *v = &vals[0];
    if (v->kind != WHIRL_CVAL_RESULT)
        return NULL;
    if (v->of.variant.index == 1) {
        if (v->of.variant.payload) {
            b->trailer_error = *v->of.variant.payload;
            memset(v->of.variant.payload, 0, sizeof *v->of.variant.payload);
        }
        b->has_trailer_error = true;
        return NULL;
    }
    whirl_cval_t *opt = v->of.variant.payload;
    if (opt && opt->kind == WHIRL_CVAL_OPTION && opt->of.variant.index == 1 &&
        opt->of.variant.payload && opt->of.variant.payload->kind == WHIRL_CVAL_OWN &&
        b->ctx) {
        w3obj_t *f = wh3_obj_get(b->ctx, opt->of.variant.payload->of.resource.rep, W3_FIELDS);
        if (f) {
            b->trailers = f->fl;
            f->fl = NULL;
            wh3_obj_free(b->ctx, f);
        }
    }
    return NULL;
}

static void trailers_dropped(void *env) { ((w3body_t *)env)->trailers_done = true; }

static const cstream_host_ops_t trailers_sink = {.write_vals = trailers_write,
                                                 .peer_dropped = trailers_dropped,
                                                 .free = body_free};

/* ---- the object table ---- */

w3obj_t *wh3_obj_get(wh3_ctx_t *x, uint32_t rep, w3kind_t kind)
{
    if (!x || rep == 0 || rep > x->nobjs || x->objs[rep - 1].kind != kind)
        return NULL;
    return &x->objs[rep - 1];
}

whirl_error_t *wh3_obj_add(wh3_ctx_t *x, w3kind_t kind, w3obj_t **out, uint32_t *rep)
{
    uint32_t i = 0;
    while (i < x->nobjs && x->objs[i].kind != W3_KINDS)
        i++;
    if (i == x->nobjs) {
        if (x->nobjs >= MAX_OBJECTS)
            return trap("more than %d wasi:http objects in one request", MAX_OBJECTS);
        if (x->nobjs == x->cap) {
            uint32_t cap = x->cap ? x->cap * 2 : 16;
            w3obj_t *n = realloc(x->objs, cap * sizeof *n);
            if (!n)
                return trap("out of memory");
            x->objs = n;
            x->cap = cap;
        }
        x->nobjs++;
    }
    w3obj_t *o = &x->objs[i];
    memset(o, 0, sizeof *o);
    o->kind = (uint8_t)kind;
    o->rq.scheme = -1;
    o->status = 200;
    *out = o;
    *rep = i + 1;
    return NULL;
}

void wh3_obj_free(wh3_ctx_t *x, w3obj_t *o)
{
    (void)x;
    wh_fl_unref(o->fl);
    wh3_body_unref(o->body);
    free(o->rq.method_other);
    free(o->rq.scheme_other);
    free(o->rq.authority);
    free(o->rq.path);
    free(o->rbody);
    wh_fl_unref(o->rtrailers);
    memset(o, 0, sizeof *o);
    o->kind = W3_KINDS;
}

static wh3_ctx_t *ctx_of(whirl_store_t *store)
{
    serve_inst_t *in = whirl_store_data(store);
    http_ctx_t *c = in ? in->http : NULL;
    return c ? c->h3 : NULL;
}

static whirl_error_t *res_dtor(void *env, whirl_store_t *store, uint32_t rep)
{
    wh3_ctx_t *x = ctx_of(store);
    w3obj_t *o = wh3_obj_get(x, rep, (w3kind_t)(uintptr_t)env);
    if (o)
        wh3_obj_free(x, o);
    return NULL;
}

void wh3_set_own(whirl_cval_t *v, w3kind_t kind, uint32_t rep)
{
    v->kind = WHIRL_CVAL_OWN;
    v->of.resource.type = g_types[kind];
    v->of.resource.rep = rep;
}

whirl_error_t *wh3_arg(const w3call_t *h, size_t i, w3kind_t kind, w3obj_t **out,
                       uint32_t *rep)
{
    const whirl_cval_t *v = i < h->nargs ? &h->args[i] : NULL;
    if (!v || (v->kind != WHIRL_CVAL_BORROW && v->kind != WHIRL_CVAL_OWN) ||
        v->of.resource.type != g_types[kind])
        return trap("expected a %s handle", kind_names[kind]);
    if (!(*out = wh3_obj_get(h->x, v->of.resource.rep, kind)))
        return trap("invalid %s handle", kind_names[kind]);
    if (rep)
        *rep = v->of.resource.rep;
    return NULL;
}

/* ---- fields ---- */

enum { HEADER_IMMUTABLE = 2, HEADER_SIZE_EXCEEDED = 3 }; /* header-error cases */

/* err(header-error case `c`) into v (cases 0-3 carry nothing). */
static whirl_error_t *header_error(whirl_cval_t *v, uint32_t c)
{
    whirl_error_t *e = whirl_cval_set_case(v, WHIRL_CVAL_RESULT, 1, true);
    return e ? e : whirl_cval_set_case(v->of.variant.payload, WHIRL_CVAL_VARIANT, c, false);
}

static whirl_error_t *new_fields(w3call_t *h, flist_t *fl, bool immutable, whirl_cval_t *out)
{
    w3obj_t *o;
    uint32_t rep;
    whirl_error_t *e = fl ? wh3_obj_add(h->x, W3_FIELDS, &o, &rep) : trap("out of memory");
    if (e) {
        wh_fl_unref(fl);
        return e;
    }
    o->fl = fl;
    o->immutable = immutable;
    wh3_set_own(out, W3_FIELDS, rep);
    return NULL;
}

static whirl_error_t *fields_new(w3call_t *h) { return new_fields(h, wh_fl_new(), false, h->res); }

static whirl_error_t *fields_append(w3call_t *h)
{
    w3obj_t *o;
    whirl_error_t *e = wh3_arg(h, 0, W3_FIELDS, &o, NULL);
    if (e)
        return e;
    if (h->nargs < 3 || h->args[1].kind != WHIRL_CVAL_STRING)
        return trap("fields.append: expected a name and a value");
    if (o->immutable)
        return header_error(h->res, HEADER_IMMUTABLE);
    const uint8_t *v;
    size_t vn;
    uint8_t *tmp;
    if (!wh_bytes_of(&h->args[2], &v, &vn, &tmp))
        return trap("fields.append: the value is not a list<u8>");
    int r = wh_fl_append(o->fl, h->args[1].of.string.data, h->args[1].of.string.len, v, vn,
                         true);
    free(tmp);
    return r < 0 ? wh_ok(h->res, NULL) : header_error(h->res, (uint32_t)r);
}

/* The name argument (1) of a fields method, checked: NULL with a
 * header-error answered if it is not a token. */
static const char *arg_name(w3call_t *h, size_t *n)
{
    if (h->nargs < 2 || h->args[1].kind != WHIRL_CVAL_STRING)
        return NULL;
    *n = h->args[1].of.string.len;
    return h->args[1].of.string.data;
}

static whirl_error_t *fields_get(w3call_t *h)
{
    w3obj_t *o;
    size_t n = 0;
    whirl_error_t *e = wh3_arg(h, 0, W3_FIELDS, &o, NULL);
    const char *name = e ? NULL : arg_name(h, &n);
    if (e || !name)
        return e ? e : trap("fields.get: expected a name");
    return wh_fields_get(o->fl, name, n, h->res);
}

static whirl_error_t *fields_has(w3call_t *h)
{
    w3obj_t *o;
    size_t n = 0;
    whirl_error_t *e = wh3_arg(h, 0, W3_FIELDS, &o, NULL);
    const char *name = e ? NULL : arg_name(h, &n);
    if (e || !name)
        return e ? e : trap("fields.has: expected a name");
    wh_fields_has(o->fl, name, n, h->res);
    return NULL;
}

/* delete (no values) and set (argument 2: list<field-value>): the values
 * are checked first, then replace every entry of the name. */
static whirl_error_t *fields_replace(w3call_t *h, bool set)
{
    w3obj_t *o;
    size_t n = 0;
    whirl_error_t *e = wh3_arg(h, 0, W3_FIELDS, &o, NULL);
    const char *name = e ? NULL : arg_name(h, &n);
    if (e || !name)
        return e ? e : trap("fields: expected a name");
    if (o->immutable)
        return header_error(h->res, HEADER_IMMUTABLE);
    if (!serve_http_token(name, n))
        return header_error(h->res, 0);
    const whirl_cval_t *vals = set && h->nargs > 2 ? &h->args[2] : NULL;
    if (set && (!vals || vals->kind != WHIRL_CVAL_LIST))
        return trap("fields.set: expected a list of values");
    int r;
    if ((e = wh_fields_replace(o->fl, name, n, vals, true, &r)))
        return e;
    return r == -1 ? wh_ok(h->res, NULL)
                   : header_error(h->res, r == WH_FIELDS_FULL ? HEADER_SIZE_EXCEEDED : (uint32_t)r);
}

static whirl_error_t *fields_set(w3call_t *h) { return fields_replace(h, true); }
static whirl_error_t *fields_delete(w3call_t *h) { return fields_replace(h, false); }

static whirl_error_t *fields_clone(w3call_t *h)
{
    w3obj_t *o;
    whirl_error_t *e = wh3_arg(h, 0, W3_FIELDS, &o, NULL);
    return e ? e : new_fields(h, wh_fl_clone(o->fl), false, h->res);
}

/* from-list(list<tuple<field-name, field-value>>) -> result<fields, header-error>. */
static whirl_error_t *fields_from_list(w3call_t *h)
{
    flist_t *fl;
    int bad;
    whirl_error_t *e = wh_fields_from_list(h->nargs > 0 ? &h->args[0] : NULL, &fl, &bad);
    if (e || !fl)
        return e ? e : header_error(h->res, (uint32_t)bad);
    whirl_cval_t *p;
    if ((e = wh_ok(h->res, &p))) {
        wh_fl_unref(fl);
        return e;
    }
    return new_fields(h, fl, false, p);
}

static whirl_error_t *fields_copy_all(w3call_t *h)
{
    w3obj_t *o;
    whirl_error_t *e = wh3_arg(h, 0, W3_FIELDS, &o, NULL);
    return e ? e : wh_fields_entries(o->fl, h->res);
}

/* ---- request and response ---- */

/* Takes headers (own fields) argument `i` into o->fl. */
static whirl_error_t *take_headers(w3call_t *h, size_t i, w3obj_t *o)
{
    w3obj_t *f;
    uint32_t rep;
    whirl_error_t *e = wh3_arg(h, i, W3_FIELDS, &f, &rep);
    if (e)
        return e;
    o->fl = f->fl;
    f->fl = NULL;
    wh3_obj_free(h->x, f);
    return NULL;
}

/* The body of a new request or response: contents (option<stream<u8>>,
 * argument i) and trailers (future, argument i + 1) become the host's; the
 * transmission future (resolved when the message was sent) goes to `fut`. */
static whirl_error_t *take_body(w3call_t *h, size_t i, w3obj_t *o, whirl_cval_t *fut)
{
    if (h->nargs < i + 2 || h->args[i].kind != WHIRL_CVAL_OPTION ||
        h->args[i + 1].kind != WHIRL_CVAL_FUTURE)
        return trap("expected option<stream<u8>> contents and a trailers future");
    w3body_t *b = wh3_body_new();
    if (!b)
        return trap("out of memory");
    b->ctx = h->x;
    o->body = b;
    whirl_error_t *e = NULL;
    const whirl_cval_t *contents = h->args[i].of.variant.payload;
    if (h->args[i].of.variant.index == 1 && contents) {
        b->has_contents = true;
        b->refs++;
        e = cstream_attach_sink(contents, &body_sink, b);
    } else {
        b->ended = true;
    }
    if (!e) {
        b->refs++;
        e = cstream_attach_sink(&h->args[i + 1], &trailers_sink, b);
    }
    if (!e && !(e = cstream_host_new(true, NULL, NULL, fut))) {
        b->transmit = cstream_of(fut);
        cstream_ref(b->transmit);
    }
    if (e) {
        whirl_error_t *t = trap("%s", whirl_error_message(e));
        whirl_error_delete(e);
        return t;
    }
    return NULL;
}

static whirl_error_t *new_message(w3call_t *h, w3kind_t kind)
{
    w3obj_t *o;
    uint32_t rep;
    whirl_error_t *e = wh3_obj_add(h->x, kind, &o, &rep);
    if (e)
        return e;
    if ((e = take_headers(h, 0, o)) ||
        (e = whirl_cval_set_items(h->res, WHIRL_CVAL_TUPLE, 2)) ||
        (e = take_body(h, 1, wh3_obj_get(h->x, rep, kind), &h->res->of.list.items[1]))) {
        wh3_obj_free(h->x, wh3_obj_get(h->x, rep, kind));
        return e;
    }
    /* The options (request.new's fourth argument) are dropped: the
     * client's timeouts are the request's deadline. */
    if (kind == W3_REQUEST && h->nargs > 4 && h->args[4].kind == WHIRL_CVAL_OPTION &&
        h->args[4].of.variant.index == 1 && h->args[4].of.variant.payload) {
        w3obj_t *opt = wh3_obj_get(h->x, h->args[4].of.variant.payload->of.resource.rep,
                                   W3_OPTIONS);
        if (opt)
            wh3_obj_free(h->x, opt);
    }
    wh3_set_own(&h->res->of.list.items[0], kind, rep);
    return NULL;
}

static whirl_error_t *request_new(w3call_t *h) { return new_message(h, W3_REQUEST); }
static whirl_error_t *response_new(w3call_t *h) { return new_message(h, W3_RESPONSE); }

static whirl_error_t *set_method(w3call_t *h)
{
    w3obj_t *o;
    whirl_error_t *e = wh3_arg(h, 0, W3_REQUEST, &o, NULL);
    if (e)
        return e;
    const whirl_cval_t *m = h->nargs > 1 ? &h->args[1] : NULL;
    if (!m || m->kind != WHIRL_CVAL_VARIANT)
        return trap("request.set-method: expected a method");
    if (m->of.variant.index == 9) {
        const whirl_cval_t *p = m->of.variant.payload;
        if (!p || p->kind != WHIRL_CVAL_STRING || !serve_http_token(p->of.string.data,
                                                                     p->of.string.len))
            return whirl_cval_set_case(h->res, WHIRL_CVAL_RESULT, 1, false);
        char *s = wh_text_copy(p->of.string.data, p->of.string.len);
        if (!s)
            return trap("out of memory");
        free(o->rq.method_other);
        o->rq.method_other = s;
    }
    o->rq.method = (int)m->of.variant.index;
    return wh_ok(h->res, NULL);
}

/* set-path-with-query / set-authority: option<string>. */
static whirl_error_t *set_text(w3call_t *h, char **slot, bool authority)
{
    const whirl_cval_t *v = h->nargs > 1 ? &h->args[1] : NULL;
    if (!v || v->kind != WHIRL_CVAL_OPTION)
        return trap("expected an option<string>");
    char *s = NULL;
    if (v->of.variant.index == 1 && v->of.variant.payload) {
        const whirl_cval_t *p = v->of.variant.payload;
        for (size_t i = 0; i < p->of.string.len; i++) {
            unsigned char ch = (unsigned char)p->of.string.data[i];
            /* No controls, spaces or fragments; an authority has no path. */
            if (ch <= ' ' || ch == 0x7f || ch == '#' || (authority && (ch == '/' || ch == '?')))
                return whirl_cval_set_case(h->res, WHIRL_CVAL_RESULT, 1, false);
        }
        if (!authority && p->of.string.len && p->of.string.data[0] != '/' &&
            p->of.string.data[0] != '*')
            return whirl_cval_set_case(h->res, WHIRL_CVAL_RESULT, 1, false);
        if (!(s = wh_text_copy(p->of.string.data, p->of.string.len)))
            return trap("out of memory");
    }
    free(*slot);
    *slot = s;
    return wh_ok(h->res, NULL);
}

static whirl_error_t *set_path(w3call_t *h)
{
    w3obj_t *o;
    whirl_error_t *e = wh3_arg(h, 0, W3_REQUEST, &o, NULL);
    return e ? e : set_text(h, &o->rq.path, false);
}

static whirl_error_t *set_authority(w3call_t *h)
{
    w3obj_t *o;
    whirl_error_t *e = wh3_arg(h, 0, W3_REQUEST, &o, NULL);
    return e ? e : set_text(h, &o->rq.authority, true);
}

static whirl_error_t *set_scheme(w3call_t *h)
{
    w3obj_t *o;
    whirl_error_t *e = wh3_arg(h, 0, W3_REQUEST, &o, NULL);
    if (e)
        return e;
    const whirl_cval_t *v = h->nargs > 1 ? &h->args[1] : NULL;
    if (!v || v->kind != WHIRL_CVAL_OPTION)
        return trap("request.set-scheme: expected an option<scheme>");
    const whirl_cval_t *p = v->of.variant.payload;
    free(o->rq.scheme_other);
    o->rq.scheme_other = NULL;
    o->rq.scheme = v->of.variant.index == 0 || !p ? -1 : (int)p->of.variant.index;
    if (o->rq.scheme == 2) {
        const whirl_cval_t *s = p->of.variant.payload;
        if (!s || s->kind != WHIRL_CVAL_STRING ||
            !(o->rq.scheme_other = wh_text_copy(s->of.string.data, s->of.string.len)))
            return trap("request.set-scheme: bad scheme");
    }
    return wh_ok(h->res, NULL);
}

static whirl_error_t *get_method(w3call_t *h)
{
    w3obj_t *o;
    whirl_error_t *e = wh3_arg(h, 0, W3_REQUEST, &o, NULL);
    if (e || (e = whirl_cval_set_case(h->res, WHIRL_CVAL_VARIANT, (uint32_t)o->rq.method,
                                      o->rq.method >= 9)))
        return e;
    if (o->rq.method >= 9)
        e = whirl_cval_set_string(h->res->of.variant.payload, o->rq.method_other,
                                  strlen(o->rq.method_other));
    return e;
}

static whirl_error_t *some_text(whirl_cval_t *v, const char *s)
{
    return s ? wh_some_string(v, s, strlen(s)) : wh_none(v);
}

static whirl_error_t *get_path(w3call_t *h)
{
    w3obj_t *o;
    whirl_error_t *e = wh3_arg(h, 0, W3_REQUEST, &o, NULL);
    return e ? e : some_text(h->res, o->rq.path);
}

static whirl_error_t *get_authority(w3call_t *h)
{
    w3obj_t *o;
    whirl_error_t *e = wh3_arg(h, 0, W3_REQUEST, &o, NULL);
    return e ? e : some_text(h->res, o->rq.authority);
}

static whirl_error_t *get_scheme(w3call_t *h)
{
    w3obj_t *o;
    whirl_error_t *e = wh3_arg(h, 0, W3_REQUEST, &o, NULL);
    if (e)
        return e;
    if (o->rq.scheme < 0)
        return wh_none(h->res);
    if ((e = whirl_cval_set_case(h->res, WHIRL_CVAL_OPTION, 1, true)))
        return e;
    whirl_cval_t *p = h->res->of.variant.payload;
    if ((e = whirl_cval_set_case(p, WHIRL_CVAL_VARIANT, (uint32_t)o->rq.scheme,
                                 o->rq.scheme == 2)))
        return e;
    if (o->rq.scheme == 2)
        e = whirl_cval_set_string(p->of.variant.payload, o->rq.scheme_other,
                                  strlen(o->rq.scheme_other));
    return e;
}

static whirl_error_t *request_headers(w3call_t *h)
{
    w3obj_t *o;
    whirl_error_t *e = wh3_arg(h, 0, W3_REQUEST, &o, NULL);
    return e ? e : new_fields(h, wh_fl_clone(o->fl), true, h->res);
}

static whirl_error_t *get_status(w3call_t *h)
{
    w3obj_t *o;
    whirl_error_t *e = wh3_arg(h, 0, W3_RESPONSE, &o, NULL);
    if (e)
        return e;
    h->res->kind = WHIRL_CVAL_U16;
    h->res->of.u = o->status;
    return NULL;
}

static whirl_error_t *set_status(w3call_t *h)
{
    w3obj_t *o;
    whirl_error_t *e = wh3_arg(h, 0, W3_RESPONSE, &o, NULL);
    if (e)
        return e;
    uint64_t s = h->nargs > 1 ? h->args[1].of.u : 0;
    if (s < 100 || s > 599)
        return whirl_cval_set_case(h->res, WHIRL_CVAL_RESULT, 1, false);
    o->status = (uint16_t)s;
    return wh_ok(h->res, NULL);
}

static whirl_error_t *get_headers(w3call_t *h)
{
    w3obj_t *o;
    whirl_error_t *e = wh3_arg(h, 0, W3_RESPONSE, &o, NULL);
    if (e)
        return e;
    return new_fields(h, wh_fl_clone(o->fl), true, h->res);
}

/* An outbound response's body, served from memory. */
typedef struct mem_src {
    uint8_t *data;
    size_t len, off;
} mem_src_t;

static whirl_error_t *mem_read(void *env, uint8_t *dst, size_t n, size_t *done, bool *eof)
{
    mem_src_t *m = env;
    size_t k = m->len - m->off < n ? m->len - m->off : n;
    if (k) /* an empty body has no buffer */
        memcpy(dst, m->data + m->off, k);
    m->off += k;
    *done = k;
    *eof = k == 0;
    return NULL;
}

static void mem_free(void *env)
{
    mem_src_t *m = env;
    free(m->data);
    free(m);
}

static const cstream_host_ops_t mem_ops = {.read = mem_read, .free = mem_free};

/* The request being served: its body, read whole (the server's --max-body
 * bounds it; over it the request is answered 413 and the guest's read
 * traps). Waiting suspends the guest's call. *o is looked up again. */
static whirl_error_t *read_incoming(w3call_t *h, w3obj_t **o)
{
    uint32_t rep = (uint32_t)(*o - h->x->objs) + 1;
    serve_inst_t *in = h->c->in;
    uint8_t *data = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 16384;
            uint8_t *d = ncap <= MAX_PENDING * 2 ? realloc(data, ncap) : NULL;
            if (!d) {
                free(data);
                return trap("request.consume-body: the body is too large to hold");
            }
            data = d;
            cap = ncap;
        }
        int64_t n = serve_req_read(in->req, data + len, cap - len, in->deadline_ns, h->store);
        if (n == 0)
            break;
        if (n < 0) {
            free(data);
            return trap("request.consume-body: reading the request body failed (%s)",
                        strerror((int)-n));
        }
        len += (size_t)n;
    }
    *o = wh3_obj_get(h->x, rep, W3_REQUEST);
    (*o)->incoming = false;
    free((*o)->rbody);
    (*o)->rbody = data;
    (*o)->rlen = len;
    return NULL;
}

/* response.consume-body(this: own<response>, res: future<result<_,
 * error-code>>) -> tuple<stream<u8>, future<result<option<trailers>,
 * error-code>>>. `res` (the guest's verdict on the body) is dropped. */
static whirl_error_t *consume_body(w3call_t *h, w3kind_t kind)
{
    w3obj_t *o;
    uint32_t rep;
    whirl_error_t *e = wh3_arg(h, 0, kind, &o, &rep);
    if (e || (e = whirl_cval_set_items(h->res, WHIRL_CVAL_TUPLE, 2)))
        return e;
    if (o->incoming && (e = read_incoming(h, &o)))
        return e;
    mem_src_t *m = calloc(1, sizeof *m);
    if (!m)
        return trap("out of memory");
    m->data = o->rbody;
    m->len = o->rlen;
    o->rbody = NULL;
    if ((e = cstream_host_new(false, &mem_ops, m, &h->res->of.list.items[0]))) {
        mem_free(m);
        return e;
    }
    whirl_cval_t *fut = &h->res->of.list.items[1];
    if ((e = cstream_host_new(true, NULL, NULL, fut)))
        return e;
    whirl_cval_t v = {0};
    flist_t *tr = o->rtrailers;
    o->rtrailers = NULL;
    o = NULL;
    if (!(e = whirl_cval_set_case(&v, WHIRL_CVAL_RESULT, 0, true))) {
        whirl_cval_t *opt = v.of.variant.payload;
        if (tr && tr->n) {
            if (!(e = whirl_cval_set_case(opt, WHIRL_CVAL_OPTION, 1, true)))
                e = new_fields(h, tr, true, opt->of.variant.payload);
            tr = NULL;
        } else {
            e = wh_none(opt);
        }
    }
    wh_fl_unref(tr);
    if (e) {
        whirl_cval_release(&v);
        return e;
    }
    cstream_future_resolve(cstream_of(fut), &v);
    w3obj_t *self = wh3_obj_get(h->x, rep, kind);
    if (self)
        wh3_obj_free(h->x, self);
    return NULL;
}

static whirl_error_t *response_consume(w3call_t *h) { return consume_body(h, W3_RESPONSE); }
static whirl_error_t *request_consume(w3call_t *h) { return consume_body(h, W3_REQUEST); }

static const w3def_t defs[] = {
    {"types", "[constructor]fields", fields_new},
    {"types", "[method]fields.append", fields_append},
    {"types", "[method]fields.copy-all", fields_copy_all},
    {"types", "[method]fields.get", fields_get},
    {"types", "[method]fields.has", fields_has},
    {"types", "[method]fields.set", fields_set},
    {"types", "[method]fields.delete", fields_delete},
    {"types", "[method]fields.clone", fields_clone},
    {"types", "[static]fields.from-list", fields_from_list},
    {"types", "[method]request.get-method", get_method},
    {"types", "[method]request.get-path-with-query", get_path},
    {"types", "[method]request.get-scheme", get_scheme},
    {"types", "[method]request.get-authority", get_authority},
    {"types", "[method]request.get-headers", request_headers},
    {"types", "[static]request.consume-body", request_consume},
    {"types", "[static]request.new", request_new},
    {"types", "[method]request.set-method", set_method},
    {"types", "[method]request.set-path-with-query", set_path},
    {"types", "[method]request.set-scheme", set_scheme},
    {"types", "[method]request.set-authority", set_authority},
    {"types", "[static]response.new", response_new},
    {"types", "[method]response.get-status-code", get_status},
    {"types", "[method]response.set-status-code", set_status},
    {"types", "[method]response.get-headers", get_headers},
    {"types", "[static]response.consume-body", response_consume},
    {"client", "send", wh3_send},
};

static whirl_error_t *trampoline(void *env, whirl_store_t *store,
                                 const whirl_component_func_t *type, const whirl_cval_t *args,
                                 size_t nargs, whirl_cval_t *results, size_t nresults)
{
    const w3def_t *d = env;
    (void)type;
    serve_inst_t *in = whirl_store_data(store);
    w3call_t h = {.c = in ? in->http : NULL, .args = args, .nargs = nargs,
                  .res = nresults ? results : NULL, .store = store};
    h.x = h.c ? h.c->h3 : NULL;
    if (!h.x)
        return trap("%s: the calling store serves no wasi:http 0.3 request", d->name);
    whirl_cval_t scratch = {0};
    if (!h.res)
        h.res = &scratch;
    whirl_error_t *e = d->fn(&h);
    whirl_cval_release(&scratch);
    return e;
}

whirl_error_t *wh3_define(whirl_component_linker_t *linker)
{
    whirl_error_t *e = NULL;
    for (int k = 0; k < W3_KINDS; k++)
        if (!g_types[k] && !(g_types[k] = whirl_resource_type_new(kind_names[k], res_dtor,
                                                                  (void *)(uintptr_t)k, NULL)))
            return whirl_error_new("out of memory");
    /* The same functions and resource types at each version: a guest that
     * imports two of them shares one set of objects. */
    for (size_t v = 0; v < w3_nversions && !e; v++) {
        char iface[96];
        snprintf(iface, sizeof iface, "wasi:http/types@%s", w3_versions[v]);
        for (int k = 0; k < W3_KINDS && !e; k++)
            e = whirl_component_linker_define_resource(linker, iface, kind_names[k], g_types[k]);
        for (size_t i = 0; !e && i < sizeof defs / sizeof *defs; i++) {
            snprintf(iface, sizeof iface, "wasi:http/%s@%s", defs[i].iface, w3_versions[v]);
            e = whirl_component_linker_define_func(linker, iface, defs[i].name, trampoline,
                                                   (void *)&defs[i], NULL);
        }
    }
    return e;
}

void wh3_unlink(void)
{
    for (int k = 0; k < W3_KINDS; k++) {
        whirl_resource_type_delete(g_types[k]);
        g_types[k] = NULL;
    }
}

/* Whether `version` is one whirl serves the handler at: a listed one, or
 * a release semver-compatible with one (0.3.N). */
static bool served_version(const char *version)
{
    for (size_t v = 0; v < w3_nversions; v++) {
        char have[96], want[96];
        bool exact;
        snprintf(have, sizeof have, "h@%s", w3_versions[v]);
        snprintf(want, sizeof want, "h@%s", version);
        if (cname_version_match(have, want, &exact))
            return true;
    }
    return false;
}

void wh3_served_list(char *buf, size_t len)
{
    /* The release is served at any 0.3.N, a candidate only at itself. */
    size_t at = 0;
    for (size_t v = 0; v < w3_nversions && at < len; v++) {
        bool pre = strchr(w3_versions[v], '-') != NULL;
        int n = snprintf(buf + at, len - at, "%s%s", v ? ", @" : "wasi:http/handler@",
                         pre ? w3_versions[v] : "0.3.x");
        if (n < 0)
            break;
        at += (size_t)n;
    }
}

const char *wh3_handler_export(whirl_component_t *component, const char **other)
{
    static const char prefix[] = "wasi:http/handler@";
    if (other)
        *other = NULL;
    for (size_t i = 0, n = whirl_component_export_count(component); i < n; i++) {
        const char *name;
        whirl_component_item_kind_t kind;
        if (!whirl_component_export(component, i, &name, &kind) ||
            kind != WHIRL_COMPONENT_ITEM_INSTANCE || strncmp(name, prefix, sizeof prefix - 1))
            continue;
        if (served_version(name + sizeof prefix - 1))
            return name;
        if (other)
            *other = name;
    }
    return NULL;
}

/* ---- serving one request ---- */

static int method_case(const char *m)
{
    for (int i = 0; i < 9; i++)
        if (strcmp(m, method_names[i]) == 0)
            return i;
    return 9;
}

/* Answers the request with the handler's response `o` (its body complete:
 * the handler's task has ended). */
static void answer(serve_inst_t *in, w3obj_t *o)
{
    const serve_req_info_t *info = serve_req_info(in->req);
    w3body_t *b = o->body;
    if (b && (b->too_big || !b->ended)) {
        serve_log("error: component '%s' (%s %s) %s", in->comp->id, info->method, info->path,
                  b->too_big ? "wrote a response body larger than the limit"
                             : "ended without ending its response body");
        serve_resp_fail(in->req, 500, "Internal Server Error");
        return;
    }
    size_t n = o->fl ? o->fl->n : 0;
    serve_header_t *hs = calloc(n ? n : 1, sizeof *hs);
    char **vals = calloc(n ? n : 1, sizeof *vals);
    bool oom = !hs || !vals;
    for (size_t i = 0; i < n && !oom; i++) {
        if (!(vals[i] = wh_text_copy((const char *)o->fl->vals[i], o->fl->vlens[i])))
            oom = true;
        hs[i].name = o->fl->names[i];
        hs[i].value = vals[i];
    }
    int rc = oom ? -ENOMEM : serve_resp_start(in->req, o->status, hs, n);
    for (size_t i = 0; vals && i < n; i++)
        free(vals[i]);
    free(vals);
    free(hs);
    if (rc) {
        serve_log("error: component '%s' (%s %s) gave a response the server cannot send (%s)",
                  in->comp->id, info->method, info->path, strerror(-rc));
        serve_resp_fail(in->req, 500, "Internal Server Error");
        return;
    }
    if (b && b->len && serve_resp_write(in->req, b->data, b->len, in->deadline_ns, in->store) < 0)
        return; /* the client went away, or the deadline passed: cut */
    serve_resp_finish(in->req);
    if (b)
        wh3_transmit(b, NULL, -1, NULL);
}

void wh3_handle(serve_inst_t *in, http_ctx_t *c, flist_t *hdrs)
{
    const serve_req_info_t *info = serve_req_info(in->req);
    wh3_ctx_t *x = calloc(1, sizeof *x);
    if (!x) {
        wh_fl_unref(hdrs);
        serve_inst_fail(in, whirl_error_new("out of memory"), "preparing its wasi:http context");
        return;
    }
    x->c = c;
    c->h3 = x;
    /* The request: method, path, authority (Host), headers (the caller's,
     * with Spin's added); its body is read when the guest consumes it. */
    w3obj_t *ro;
    uint32_t rrep;
    whirl_error_t *err = wh3_obj_add(x, W3_REQUEST, &ro, &rrep);
    if (err)
        wh_fl_unref(hdrs);
    if (!err) {
        ro->rq.method = method_case(info->method);
        if (ro->rq.method == 9)
            ro->rq.method_other = strdup(info->method);
        ro->rq.scheme = 0;
        ro->incoming = true;
        if (asprintf(&ro->rq.path, "%s%s%s", info->raw_path, *info->query ? "?" : "",
                     info->query) < 0)
            ro->rq.path = NULL;
        for (size_t i = 0; i < info->nheaders; i++)
            if (strcasecmp(info->headers[i].name, "host") == 0 && !ro->rq.authority)
                ro->rq.authority = strdup(info->headers[i].value);
        ro->fl = hdrs;
        hdrs = NULL;
        if (!ro->fl || !ro->rq.path)
            err = whirl_error_new("out of memory");
    }
    whirl_component_instance_t *inst = NULL;
    if (!err)
        err = whirl_component_instance_pre_instantiate(in->comp->cpre, in->store, &inst);
    if (serve_inst_fail(in, err, "instantiating"))
        return;
    whirl_component_func_t *f = NULL;
    if (!whirl_component_instance_func(inst, in->comp->h3_handler, "handle", &f)) {
        serve_inst_fail(in, whirl_error_new("no wasi:http/handler.handle export"), "starting");
        return;
    }
    whirl_cval_t arg = {0}, res = {0};
    wh3_set_own(&arg, W3_REQUEST, rrep);
    err = whirl_component_func_call(in->store, f, &arg, 1, &res, 1);
    if (serve_inst_fail(in, err, "handling the request"))
        return;
    const whirl_cval_t *p = res.of.variant.payload;
    w3obj_t *o = res.kind == WHIRL_CVAL_RESULT && res.of.variant.index == 0 && p &&
                         p->kind == WHIRL_CVAL_OWN
                     ? wh3_obj_get(x, p->of.resource.rep, W3_RESPONSE)
                     : NULL;
    if (o) {
        answer(in, o);
        wh3_obj_free(x, o);
    } else {
        SERVE_COUNT(in->app->srv, errors);
        serve_log("error: component '%s' (%s %s) answered with an error-code (case %u)",
                  in->comp->id, info->method, info->path,
                  p && p->kind == WHIRL_CVAL_VARIANT ? p->of.variant.index : 0u);
        serve_resp_fail(in->req, 500, "Internal Server Error");
    }
    whirl_cval_release(&res);
}

void wh3_end(http_ctx_t *c)
{
    wh3_ctx_t *x = c->h3;
    if (!x)
        return;
    for (uint32_t i = 0; i < x->nobjs; i++) {
        if (x->objs[i].kind == W3_KINDS)
            continue;
        if (x->objs[i].body)
            x->objs[i].body->ctx = NULL;
        wh3_obj_free(x, &x->objs[i]);
    }
    free(x->objs);
    c->h3 = NULL;
    free(x);
}
