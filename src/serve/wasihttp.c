/* The wasi:http host (wasi:http/types and outgoing-handler, 0.2.x) for
 * components exporting wasi:http/incoming-handler, on the WASI 0.2 host
 * (whirl/wasi2.h) for streams, pollables and the rest of WASI.
 *
 * Each request's store has an http_ctx_t: a table of this request's
 * wasi:http resources (rep = index + 1). Bodies are wasi:io streams served
 * by callbacks over the request (serve.h's non-blocking calls); the WASI
 * 0.2 host waits in its own poll, which the request wakes through its
 * notify hook when body bytes arrive or output room frees up.
 *
 * The response starts when response-outparam.set is called: body bytes
 * written before that are held, then sent. It ends when the outgoing-body
 * is finished (or, with no body asked for, when the handler returns); a body
 * dropped unfinished is an error: a truncated chunked response, as the
 * spec asks. Trailers are accepted and not sent. Outgoing requests and
 * their responses (outgoing-handler) are wasihttp_out.c's. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "serve/app.h"
#include "serve/wasihttp.h"
#include "whirl/wasi2.h"

static const char *const kind_names[H_KINDS] = {
    "fields", "incoming-request", "outgoing-request", "request-options", "response-outparam",
    "incoming-response", "incoming-body", "future-trailers", "outgoing-response",
    "outgoing-body", "future-incoming-response",
};

serve_http_host_t *g_host; /* one per process: set by serve_wasihttp_link */

/* ---- header lists ---- */

flist_t *wh_fl_new(void)
{
    flist_t *f = calloc(1, sizeof *f);
    if (f)
        f->refs = 1;
    return f;
}

void wh_fl_unref(flist_t *f)
{
    if (!f || --f->refs > 0)
        return;
    for (size_t i = 0; i < f->n; i++) {
        free(f->names[i]);
        free(f->vals[i]);
    }
    free(f->names);
    free(f->vals);
    free(f->vlens);
    free(f);
}

static bool forbidden(const char *name)
{
    static const char *const hop[] = {"connection", "keep-alive", "proxy-connection",
                                      "transfer-encoding", "upgrade", "http2-settings"};
    for (size_t i = 0; i < sizeof hop / sizeof *hop; i++)
        if (strcmp(name, hop[i]) == 0)
            return true;
    return false;
}

/* Appends; returns 0, or the header-error case (0 invalid-syntax, 1 forbidden). */
int wh_fl_append(flist_t *f, const char *name, size_t nlen, const uint8_t *v, size_t vlen,
                     bool check_forbidden)
{
    if (!serve_http_token(name, nlen) || !serve_http_field_value(v, vlen))
        return 0;
    if (f->n >= MAX_FIELDS || f->bytes + nlen + vlen > MAX_FIELD_BYTES)
        return 0;
    char *lname = malloc(nlen + 1);
    uint8_t *val = malloc(vlen ? vlen : 1);
    if (!lname || !val) {
        free(lname);
        free(val);
        return 0;
    }
    for (size_t i = 0; i < nlen; i++)
        lname[i] = (char)tolower((unsigned char)name[i]);
    lname[nlen] = '\0';
    if (check_forbidden && forbidden(lname)) {
        free(lname);
        free(val);
        return 1;
    }
    memcpy(val, v, vlen);
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        char **nn = realloc(f->names, cap * sizeof *nn);
        if (nn)
            f->names = nn;
        uint8_t **nv = realloc(f->vals, cap * sizeof *nv);
        if (nv)
            f->vals = nv;
        size_t *nl = realloc(f->vlens, cap * sizeof *nl);
        if (nl)
            f->vlens = nl;
        if (!nn || !nv || !nl) {
            free(lname);
            free(val);
            return 0;
        }
        f->cap = cap;
    }
    f->names[f->n] = lname;
    f->vals[f->n] = val;
    f->vlens[f->n] = vlen;
    f->n++;
    f->bytes += nlen + vlen;
    return -1; /* appended */
}

static bool name_is(const flist_t *f, size_t i, const char *name, size_t nlen)
{
    return strlen(f->names[i]) == nlen && strncasecmp(f->names[i], name, nlen) == 0;
}

void wh_fl_delete(flist_t *f, const char *name, size_t nlen)
{
    size_t o = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (name_is(f, i, name, nlen)) {
            f->bytes -= strlen(f->names[i]) + f->vlens[i];
            free(f->names[i]);
            free(f->vals[i]);
            continue;
        }
        f->names[o] = f->names[i];
        f->vals[o] = f->vals[i];
        f->vlens[o] = f->vlens[i];
        o++;
    }
    f->n = o;
}

flist_t *wh_fl_clone(const flist_t *src)
{
    flist_t *f = wh_fl_new();
    for (size_t i = 0; f && i < src->n; i++)
        if (wh_fl_append(f, src->names[i], strlen(src->names[i]), src->vals[i], src->vlens[i],
                      false) != -1) {
            wh_fl_unref(f);
            return NULL;
        }
    return f;
}

/* ---- the per-request table ---- */

/* whirl run's one context (its store has no data); whirl serve's are the
 * stores' serve_inst_t. */
static http_ctx_t *g_run_ctx;

static http_ctx_t *ctx_of(whirl_store_t *store)
{
    serve_inst_t *in = whirl_store_data(store);
    return in ? in->http : g_run_ctx;
}

whirl_error_t *wh_obj_add(http_ctx_t *c, hkind_t kind, hobj_t **out, uint32_t *rep)
{
    uint32_t i = 0;
    while (i < c->nobjs && c->objs[i].kind != H_KINDS)
        i++;
    if (i == c->nobjs) {
        if (c->nobjs >= MAX_OBJECTS)
            return trap("more than %d resources in one request", MAX_OBJECTS);
        if (c->nobjs == c->cap) {
            uint32_t cap = c->cap ? c->cap * 2 : 16;
            hobj_t *o = realloc(c->objs, cap * sizeof *o);
            if (!o)
                return trap("out of memory");
            c->objs = o;
            c->cap = cap;
        }
        c->nobjs++;
    }
    memset(&c->objs[i], 0, sizeof c->objs[i]);
    c->objs[i].kind = (uint8_t)kind;
    *out = &c->objs[i];
    *rep = i + 1;
    return NULL;
}

void wh_obj_free(http_ctx_t *c, hobj_t *o)
{
    if (o->kind == H_OUTGOING_BODY && o->is_response_body && !c->body_finished)
        c->body_dropped = true;
    if (o->ob || o->rq)
        wh_out_obj_free(c, o);
    wh_fl_unref(o->fl);
    memset(o, 0, sizeof *o);
    o->kind = H_KINDS;
}

hobj_t *wh_obj_get(http_ctx_t *c, uint32_t rep, hkind_t kind)
{
    if (rep == 0 || rep > c->nobjs || c->objs[rep - 1].kind != kind)
        return NULL;
    return &c->objs[rep - 1];
}

static whirl_error_t *res_dtor(void *env, whirl_store_t *store, uint32_t rep)
{
    hkind_t kind = (hkind_t)(uintptr_t)env;
    http_ctx_t *c = ctx_of(store);
    hobj_t *o = c ? wh_obj_get(c, rep, kind) : NULL;
    if (o)
        wh_obj_free(c, o);
    return NULL;
}

/* ---- arguments and results ---- */


whirl_error_t *wh_arg_obj(const hcall_t *h, size_t i, hkind_t kind, hobj_t **out,
                              uint32_t *rep_out)
{
    if (i >= h->nargs)
        return trap("missing argument");
    const whirl_cval_t *v = &h->args[i];
    if ((v->kind != WHIRL_CVAL_BORROW && v->kind != WHIRL_CVAL_OWN) ||
        v->of.resource.type != g_host->types[kind])
        return trap("expected a %s handle", kind_names[kind]);
    hobj_t *o = wh_obj_get(h->c, v->of.resource.rep, kind);
    if (!o)
        return trap("invalid %s handle", kind_names[kind]);
    *out = o;
    if (rep_out)
        *rep_out = v->of.resource.rep;
    return NULL;
}

whirl_error_t *wh_arg_string(const hcall_t *h, size_t i, const char **s, size_t *n)
{
    if (i >= h->nargs || h->args[i].kind != WHIRL_CVAL_STRING)
        return trap("expected a string argument");
    *s = h->args[i].of.string.data;
    *n = h->args[i].of.string.len;
    return NULL;
}

/* list<u8> arrives as BYTES; a LIST of U8 is accepted too. */
bool wh_bytes_of(const whirl_cval_t *v, const uint8_t **p, size_t *n, uint8_t **tmp)
{
    *tmp = NULL;
    if (v->kind == WHIRL_CVAL_BYTES) {
        *p = (const uint8_t *)v->of.string.data;
        *n = v->of.string.len;
        return true;
    }
    if (v->kind != WHIRL_CVAL_LIST)
        return false;
    *tmp = malloc(v->of.list.len ? v->of.list.len : 1);
    if (!*tmp)
        return false;
    for (size_t i = 0; i < v->of.list.len; i++) {
        if (v->of.list.items[i].kind != WHIRL_CVAL_U8) {
            free(*tmp);
            *tmp = NULL;
            return false;
        }
        (*tmp)[i] = (uint8_t)v->of.list.items[i].of.u;
    }
    *p = *tmp;
    *n = v->of.list.len;
    return true;
}

void wh_set_own(whirl_cval_t *v, hkind_t kind, uint32_t rep)
{
    v->kind = WHIRL_CVAL_OWN;
    v->of.resource.type = g_host->types[kind];
    v->of.resource.rep = rep;
}

/* result<_, E> / result<T, E> builders; *payload: the node to fill. */
whirl_error_t *wh_ok(whirl_cval_t *v, whirl_cval_t **payload)
{
    whirl_error_t *e = whirl_cval_set_case(v, WHIRL_CVAL_RESULT, 0, payload != NULL);
    if (!e && payload)
        *payload = v->of.variant.payload;
    return e;
}

whirl_error_t *wh_body_stream(hcall_t *h, hobj_t *body, whirl_wasi2_resource_t kind,
                              const whirl_wasi2_stream_ops_t *ops, void *env)
{
    if (body->taken)
        return whirl_cval_set_case(h->res, WHIRL_CVAL_RESULT, 1, false);
    uint32_t rep;
    whirl_error_t *e = kind == WHIRL_WASI2_INPUT_STREAM
                           ? whirl_wasi2_input_stream_new(h->c->wasi, ops, env, &rep)
                           : whirl_wasi2_output_stream_new(h->c->wasi, ops, env, &rep);
    if (e)
        return e;
    body->taken = true;
    whirl_cval_t *p;
    if ((e = wh_ok(h->res, &p)))
        return e;
    p->kind = WHIRL_CVAL_OWN;
    p->of.resource.type = whirl_wasi2_host_resource_type(g_host->w2, kind);
    p->of.resource.rep = rep;
    return NULL;
}

whirl_error_t *wh_err_case(whirl_cval_t *v, uint32_t index)
{
    whirl_error_t *e = whirl_cval_set_case(v, WHIRL_CVAL_RESULT, 1, true);
    if (!e)
        e = whirl_cval_set_case(v->of.variant.payload, WHIRL_CVAL_VARIANT, index, false);
    return e;
}

/* err(error-code::internal-error(none)) and friends with an option payload. */
whirl_error_t *wh_err_code_none(whirl_cval_t *v, uint32_t index)
{
    whirl_error_t *e = whirl_cval_set_case(v, WHIRL_CVAL_RESULT, 1, true);
    if (!e)
        e = whirl_cval_set_case(v->of.variant.payload, WHIRL_CVAL_VARIANT, index, true);
    if (!e)
        e = whirl_cval_set_case(v->of.variant.payload->of.variant.payload, WHIRL_CVAL_OPTION, 0,
                                false);
    return e;
}

whirl_error_t *wh_some_string(whirl_cval_t *v, const char *s, size_t n)
{
    whirl_error_t *e = whirl_cval_set_case(v, WHIRL_CVAL_OPTION, 1, true);
    if (!e)
        e = whirl_cval_set_string(v->of.variant.payload, s, n);
    return e;
}

whirl_error_t *wh_none(whirl_cval_t *v)
{
    return whirl_cval_set_case(v, WHIRL_CVAL_OPTION, 0, false);
}

whirl_error_t *wh_new_fields(http_ctx_t *c, flist_t *fl, bool immutable, whirl_cval_t *out)
{
    hobj_t *o;
    uint32_t rep;
    whirl_error_t *e = wh_obj_add(c, H_FIELDS, &o, &rep);
    if (e) {
        wh_fl_unref(fl);
        return e;
    }
    o->fl = fl;
    o->immutable = immutable;
    wh_set_own(out, H_FIELDS, rep);
    return NULL;
}

/* ---- fields ---- */

static whirl_error_t *fields_new(hcall_t *h)
{
    flist_t *fl = wh_fl_new();
    return fl ? wh_new_fields(h->c, fl, false, h->res) : trap("out of memory");
}

char *wh_text_copy(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        if (n)
            memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

/* ---- fields values, shared with wasi:http 0.3 (wasihttp3.c) ---- */

whirl_error_t *wh_fields_from_list(const whirl_cval_t *l, flist_t **out, int *bad)
{
    *out = NULL;
    *bad = -1;
    if (!l || l->kind != WHIRL_CVAL_LIST)
        return trap("fields.from-list: expected a list");
    flist_t *fl = wh_fl_new();
    if (!fl)
        return trap("out of memory");
    for (size_t i = 0; i < l->of.list.len; i++) {
        const whirl_cval_t *t = &l->of.list.items[i];
        if (t->kind != WHIRL_CVAL_TUPLE || t->of.list.len != 2 ||
            t->of.list.items[0].kind != WHIRL_CVAL_STRING) {
            wh_fl_unref(fl);
            return trap("fields.from-list: expected (name, value) pairs");
        }
        const uint8_t *v;
        size_t vn;
        uint8_t *tmp;
        int r = wh_bytes_of(&t->of.list.items[1], &v, &vn, &tmp)
                    ? wh_fl_append(fl, t->of.list.items[0].of.string.data,
                                   t->of.list.items[0].of.string.len, v, vn, true)
                    : 0;
        free(tmp);
        if (r >= 0) {
            wh_fl_unref(fl);
            *bad = r;
            return NULL;
        }
    }
    *out = fl;
    return NULL;
}

whirl_error_t *wh_fields_get(const flist_t *fl, const char *name, size_t n, whirl_cval_t *res)
{
    size_t count = 0;
    for (size_t i = 0; i < fl->n; i++)
        count += name_is(fl, i, name, n);
    whirl_error_t *e = whirl_cval_set_items(res, WHIRL_CVAL_LIST, count);
    for (size_t i = 0, k = 0; i < fl->n && !e; i++)
        if (name_is(fl, i, name, n))
            e = whirl_cval_set_bytes(&res->of.list.items[k++], fl->vals[i], fl->vlens[i]);
    return e;
}

void wh_fields_has(const flist_t *fl, const char *name, size_t n, whirl_cval_t *res)
{
    bool has = false;
    for (size_t i = 0; i < fl->n && !has; i++)
        has = name_is(fl, i, name, n);
    res->kind = WHIRL_CVAL_BOOL;
    res->of.b = has;
}

whirl_error_t *wh_fields_entries(const flist_t *fl, whirl_cval_t *res)
{
    whirl_error_t *e = whirl_cval_set_items(res, WHIRL_CVAL_LIST, fl->n);
    for (size_t i = 0; !e && i < fl->n; i++) {
        whirl_cval_t *t = &res->of.list.items[i];
        e = whirl_cval_set_items(t, WHIRL_CVAL_TUPLE, 2);
        if (!e)
            e = whirl_cval_set_string(&t->of.list.items[0], fl->names[i], strlen(fl->names[i]));
        if (!e)
            e = whirl_cval_set_bytes(&t->of.list.items[1], fl->vals[i], fl->vlens[i]);
    }
    return e;
}

whirl_error_t *wh_fields_replace(flist_t *fl, const char *name, size_t n,
                                 const whirl_cval_t *vals, bool check, int *bad)
{
    *bad = -1;
    flist_t *tmp = wh_fl_new();
    if (!tmp)
        return trap("out of memory");
    for (size_t i = 0; vals && i < vals->of.list.len && *bad == -1; i++) {
        const uint8_t *v;
        size_t vn;
        uint8_t *t;
        *bad = wh_bytes_of(&vals->of.list.items[i], &v, &vn, &t)
                   ? wh_fl_append(tmp, name, n, v, vn, check) : 0;
        free(t);
    }
    if (*bad == -1) {
        wh_fl_delete(fl, name, n);
        for (size_t i = 0; i < tmp->n && *bad == -1; i++)
            if (wh_fl_append(fl, tmp->names[i], strlen(tmp->names[i]), tmp->vals[i],
                             tmp->vlens[i], false) != -1)
                *bad = WH_FIELDS_FULL;
    }
    wh_fl_unref(tmp);
    return NULL;
}

static whirl_error_t *fields_from_list(hcall_t *h)
{
    flist_t *fl;
    int bad;
    whirl_error_t *e = wh_fields_from_list(h->nargs == 1 ? &h->args[0] : NULL, &fl, &bad);
    if (e || !fl)
        return e ? e : wh_err_case(h->res, (uint32_t)bad);
    whirl_cval_t *p;
    if ((e = wh_ok(h->res, &p))) {
        wh_fl_unref(fl);
        return e;
    }
    return wh_new_fields(h->c, fl, false, p);
}

/* The fields (argument 0) and name (argument 1) of a fields method. */
static whirl_error_t *fields_and_name(hcall_t *h, hobj_t **o, const char **name, size_t *n)
{
    whirl_error_t *e = wh_arg_obj(h, 0, H_FIELDS, o, NULL);
    return e ? e : wh_arg_string(h, 1, name, n);
}

static whirl_error_t *fields_get(hcall_t *h)
{
    hobj_t *o;
    const char *name = NULL;
    size_t n = 0;
    whirl_error_t *e = fields_and_name(h, &o, &name, &n);
    return e ? e : wh_fields_get(o->fl, name, n, h->res);
}

static whirl_error_t *fields_has(hcall_t *h)
{
    hobj_t *o;
    const char *name = NULL;
    size_t n = 0;
    whirl_error_t *e = fields_and_name(h, &o, &name, &n);
    if (!e)
        wh_fields_has(o->fl, name, n, h->res);
    return e;
}

/* set / append / delete: the mutations. All three need mutable fields and a
 * valid name; set and append also refuse forbidden headers (delete removes
 * whatever is there, as before). */
enum fields_op { FIELDS_SET, FIELDS_APPEND, FIELDS_DELETE };

static whirl_error_t *fields_mutate(hcall_t *h, enum fields_op op)
{
    hobj_t *o;
    const char *name = NULL;
    size_t n = 0;
    whirl_error_t *e = wh_arg_obj(h, 0, H_FIELDS, &o, NULL);
    if (!e)
        e = wh_arg_string(h, 1, &name, &n);
    if (e)
        return e;
    if (o->immutable)
        return wh_err_case(h->res, 2);
    if (!serve_http_token(name, n))
        return wh_err_case(h->res, 0);
    char lname[256];
    if (op != FIELDS_DELETE && n < sizeof lname) {
        for (size_t i = 0; i < n; i++)
            lname[i] = (char)tolower((unsigned char)name[i]);
        lname[n] = '\0';
        if (forbidden(lname))
            return wh_err_case(h->res, 1);
    }
    if (op != FIELDS_APPEND) { /* set checks every value first, then replaces; delete sets none */
        const whirl_cval_t *vals = op == FIELDS_SET && h->nargs > 2 ? &h->args[2] : NULL;
        if (op == FIELDS_SET && (!vals || vals->kind != WHIRL_CVAL_LIST))
            return trap("fields.set: expected a list of values");
        int r = -1;
        if ((e = wh_fields_replace(o->fl, name, n, vals, false, &r)))
            return e;
        /* 0.2's header-error has no case for a list out of room: invalid-syntax */
        return r == -1 ? wh_ok(h->res, NULL) : wh_err_case(h->res, r == WH_FIELDS_FULL ? 0 : (uint32_t)r);
    }
    /* append */
    if (h->nargs < 3)
        return trap("fields.append: missing value");
    const uint8_t *v;
    size_t vn;
    uint8_t *t;
    int r = wh_bytes_of(&h->args[2], &v, &vn, &t) ? wh_fl_append(o->fl, name, n, v, vn, true) : 0;
    free(t);
    return r >= 0 ? wh_err_case(h->res, (uint32_t)r) : wh_ok(h->res, NULL);
}

static whirl_error_t *fields_set(hcall_t *h) { return fields_mutate(h, FIELDS_SET); }
static whirl_error_t *fields_append(hcall_t *h) { return fields_mutate(h, FIELDS_APPEND); }
static whirl_error_t *fields_del(hcall_t *h) { return fields_mutate(h, FIELDS_DELETE); }

static whirl_error_t *fields_entries(hcall_t *h)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, 0, H_FIELDS, &o, NULL);
    return e ? e : wh_fields_entries(o->fl, h->res);
}

static whirl_error_t *fields_clone(hcall_t *h)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, 0, H_FIELDS, &o, NULL);
    if (e)
        return e;
    flist_t *fl = wh_fl_clone(o->fl);
    return fl ? wh_new_fields(h->c, fl, false, h->res) : trap("out of memory");
}

/* Takes the list of an own<fields> argument (the guest gave it up). */
whirl_error_t *wh_take_fields(hcall_t *h, size_t i, flist_t **out)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, i, H_FIELDS, &o, NULL);
    if (e)
        return e;
    /* A child handle (request headers) is copied: its list stays shared. */
    *out = o->immutable ? wh_fl_clone(o->fl) : (o->fl->refs++, o->fl);
    wh_obj_free(h->c, o);
    return *out ? NULL : trap("out of memory");
}

/* ---- incoming-request ---- */

static whirl_error_t *inreq_method(hcall_t *h)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, 0, H_INCOMING_REQUEST, &o, NULL);
    if (e)
        return e;
    static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE",
                                          "CONNECT", "OPTIONS", "TRACE", "PATCH"};
    const char *m = serve_req_info(h->c->in->req)->method;
    for (uint32_t i = 0; i < 9; i++)
        if (strcmp(m, methods[i]) == 0)
            return whirl_cval_set_case(h->res, WHIRL_CVAL_VARIANT, i, false);
    e = whirl_cval_set_case(h->res, WHIRL_CVAL_VARIANT, 9, true);
    return e ? e : whirl_cval_set_string(h->res->of.variant.payload, m, strlen(m));
}

static whirl_error_t *inreq_path(hcall_t *h)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, 0, H_INCOMING_REQUEST, &o, NULL);
    if (e)
        return e;
    const serve_req_info_t *info = serve_req_info(h->c->in->req);
    size_t pn = strlen(info->raw_path), qn = strlen(info->query);
    char *s = malloc(pn + qn + 2);
    if (!s)
        return trap("out of memory");
    memcpy(s, info->raw_path, pn);
    size_t n = pn;
    if (qn) {
        s[n++] = '?';
        memcpy(s + n, info->query, qn);
        n += qn;
    }
    e = wh_some_string(h->res, s, n);
    free(s);
    return e;
}

static whirl_error_t *inreq_scheme(hcall_t *h)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, 0, H_INCOMING_REQUEST, &o, NULL);
    if (!e)
        e = whirl_cval_set_case(h->res, WHIRL_CVAL_OPTION, 1, true);
    if (!e)
        e = whirl_cval_set_case(h->res->of.variant.payload, WHIRL_CVAL_VARIANT, 0, false);
    return e;
}

static whirl_error_t *inreq_authority(hcall_t *h)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, 0, H_INCOMING_REQUEST, &o, NULL);
    if (e)
        return e;
    const char *host = serve_req_info(h->c->in->req)->host;
    return wh_some_string(h->res, host, strlen(host));
}

static whirl_error_t *inreq_headers(hcall_t *h)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, 0, H_INCOMING_REQUEST, &o, NULL);
    if (e)
        return e;
    o->fl->refs++;
    return wh_new_fields(h->c, o->fl, true, h->res);
}

static whirl_error_t *inreq_consume(hcall_t *h)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, 0, H_INCOMING_REQUEST, &o, NULL);
    if (e)
        return e;
    if (o->taken)
        return whirl_cval_set_case(h->res, WHIRL_CVAL_RESULT, 1, false);
    hobj_t *b;
    uint32_t rep;
    if ((e = wh_obj_add(h->c, H_INCOMING_BODY, &b, &rep)))
        return e;
    o = wh_obj_get(h->c, h->args[0].of.resource.rep, H_INCOMING_REQUEST); /* table may move */
    o->taken = true;
    whirl_cval_t *p;
    if ((e = wh_ok(h->res, &p)))
        return e;
    wh_set_own(p, H_INCOMING_BODY, rep);
    return NULL;
}

/* ---- bodies as wasi:io streams ---- */

static int64_t body_read(void *env, uint8_t *buf, size_t len, char **error)
{
    http_ctx_t *c = env;
    int64_t r = serve_req_try_read(c->in->req, buf, len);
    if (r > 0)
        return r;
    if (r == 0)
        return WHIRL_WASI2_CLOSED;
    if (r == -EAGAIN)
        return 0;
    *error = strdup(r == -EFBIG ? "request body too large" : "request body lost");
    return WHIRL_WASI2_FAILED;
}

static bool body_readable(void *env)
{
    http_ctx_t *c = env;
    return serve_req_readable(c->in->req);
}

static int64_t out_check(void *env, char **error)
{
    http_ctx_t *c = env;
    if (c->body_finished)
        return WHIRL_WASI2_CLOSED;
    if (!c->resp_set)
        return c->pending.len < MAX_PENDING ? (int64_t)(MAX_PENDING - c->pending.len) : 0;
    int64_t room = serve_resp_room(c->in->req);
    if (room >= 0)
        return room;
    *error = strdup("the client is gone");
    return WHIRL_WASI2_FAILED;
}

static int64_t out_write(void *env, const uint8_t *buf, size_t len, char **error)
{
    http_ctx_t *c = env;
    if (c->body_finished)
        return WHIRL_WASI2_CLOSED;
    if (!c->resp_set) {
        if (!sbuf_append(&c->pending, buf, len)) {
            *error = strdup("out of memory");
            return WHIRL_WASI2_FAILED;
        }
        return 0;
    }
    int64_t r = serve_resp_write(c->in->req, buf, len, 0, NULL);
    if (r == (int64_t)len)
        return 0;
    *error = strdup("the client is gone");
    return WHIRL_WASI2_FAILED;
}

static bool out_ready(void *env)
{
    http_ctx_t *c = env;
    char *e = NULL;
    int64_t r = out_check(env, &e);
    free(e);
    (void)c;
    return r != 0;
}

/* The request's state notifies the WASI context on every change of the
 * streams' readiness (http.c's wake_worker, through notify_wasi), so a
 * guest waiting on a slow client's body or a slow reader sleeps until then
 * (suspended under `whirl serve`) instead of re-checking every 10 ms. */
static int body_notified(void *env, short *events)
{
    (void)env;
    (void)events;
    return WHIRL_WASI2_WAIT_NOTIFIED;
}

static const whirl_wasi2_stream_ops_t in_ops = {.read = body_read, .ready = body_readable,
                                                .wait_fd = body_notified};
static const whirl_wasi2_stream_ops_t out_ops = {.check_write = out_check, .write = out_write,
                                                 .ready = out_ready, .wait_fd = body_notified};

static int64_t sink_check(void *env, char **error)
{
    (void)env;
    (void)error;
    return 65536;
}

static int64_t sink_write(void *env, const uint8_t *buf, size_t len, char **error)
{
    (void)env, (void)buf, (void)len, (void)error;
    return 0;
}

/* The body of an outgoing request nobody will send. */
static const whirl_wasi2_stream_ops_t sink_ops = {.check_write = sink_check, .write = sink_write};

static whirl_error_t *inbody_stream(hcall_t *h)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, 0, H_INCOMING_BODY, &o, NULL);
    if (e)
        return e;
    if (o->ob)
        return wh_out_inbody_stream(h, o);
    return wh_body_stream(h, o, WHIRL_WASI2_INPUT_STREAM, &in_ops, h->c);
}

static whirl_error_t *inbody_finish(hcall_t *h)
{
    hobj_t *o, *t;
    whirl_error_t *e = wh_arg_obj(h, 0, H_INCOMING_BODY, &o, NULL);
    if (e)
        return e;
    if (o->ob)
        return wh_out_inbody_finish(h, o);
    wh_obj_free(h->c, o);
    uint32_t rep;
    if ((e = wh_obj_add(h->c, H_FUTURE_TRAILERS, &t, &rep)))
        return e;
    wh_set_own(h->res, H_FUTURE_TRAILERS, rep);
    return NULL;
}

static bool always_ready(void *env)
{
    (void)env;
    return true;
}

static const whirl_wasi2_pollable_ops_t ready_ops = {.ready = always_ready};

static whirl_error_t *subscribe_ready(hcall_t *h, hkind_t kind)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, 0, kind, &o, NULL);
    uint32_t rep;
    if (!e)
        e = whirl_wasi2_pollable_new(h->c->wasi, &ready_ops, NULL, &rep);
    if (e)
        return e;
    h->res->kind = WHIRL_CVAL_OWN;
    h->res->of.resource.type = whirl_wasi2_host_resource_type(g_host->w2, WHIRL_WASI2_POLLABLE);
    h->res->of.resource.rep = rep;
    return NULL;
}

static whirl_error_t *trailers_subscribe(hcall_t *h)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, 0, H_FUTURE_TRAILERS, &o, NULL);
    if (!e && o->ob)
        return wh_out_trailers_subscribe(h, o);
    return e ? e : subscribe_ready(h, H_FUTURE_TRAILERS);
}

static whirl_error_t *trailers_get(hcall_t *h)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, 0, H_FUTURE_TRAILERS, &o, NULL);
    if (e)
        return e;
    if (o->ob)
        return wh_out_trailers_get(h, o);
    /* some(ok(ok(none))) the first time, some(err) after. */
    if ((e = whirl_cval_set_case(h->res, WHIRL_CVAL_OPTION, 1, true)))
        return e;
    whirl_cval_t *r = h->res->of.variant.payload;
    if (o->got_trailers)
        return whirl_cval_set_case(r, WHIRL_CVAL_RESULT, 1, false);
    o->got_trailers = true;
    if ((e = whirl_cval_set_case(r, WHIRL_CVAL_RESULT, 0, true)) ||
        (e = whirl_cval_set_case(r->of.variant.payload, WHIRL_CVAL_RESULT, 0, true)))
        return e;
    return wh_none(r->of.variant.payload->of.variant.payload);
}

/* ---- outgoing-response and its body ---- */

static whirl_error_t *outresp_new(hcall_t *h)
{
    flist_t *fl;
    whirl_error_t *e = wh_take_fields(h, 0, &fl);
    if (e)
        return e;
    hobj_t *o;
    uint32_t rep;
    if ((e = wh_obj_add(h->c, H_OUTGOING_RESPONSE, &o, &rep))) {
        wh_fl_unref(fl);
        return e;
    }
    o->fl = fl;
    o->status = 200;
    wh_set_own(h->res, H_OUTGOING_RESPONSE, rep);
    return NULL;
}

static whirl_error_t *outresp_status(hcall_t *h)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, 0, H_OUTGOING_RESPONSE, &o, NULL);
    if (e)
        return e;
    h->res->kind = WHIRL_CVAL_U16;
    h->res->of.u = o->status;
    return NULL;
}

static whirl_error_t *outresp_set_status(hcall_t *h)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, 0, H_OUTGOING_RESPONSE, &o, NULL);
    if (e)
        return e;
    if (h->nargs < 2 || h->args[1].kind != WHIRL_CVAL_U16)
        return trap("set-status-code: expected a u16");
    uint64_t s = h->args[1].of.u;
    if (s < 200 || s > 599)
        return whirl_cval_set_case(h->res, WHIRL_CVAL_RESULT, 1, false);
    o->status = (uint16_t)s;
    return wh_ok(h->res, NULL);
}

whirl_error_t *wh_headers_child(hcall_t *h, hkind_t kind)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, 0, kind, &o, NULL);
    if (e)
        return e;
    o->fl->refs++;
    return wh_new_fields(h->c, o->fl, true, h->res);
}

static whirl_error_t *outresp_headers(hcall_t *h) { return wh_headers_child(h, H_OUTGOING_RESPONSE); }

static whirl_error_t *body_of(hcall_t *h, hkind_t kind)
{
    hobj_t *o;
    uint32_t orep;
    whirl_error_t *e = wh_arg_obj(h, 0, kind, &o, &orep);
    if (e)
        return e;
    if (o->taken)
        return whirl_cval_set_case(h->res, WHIRL_CVAL_RESULT, 1, false);
    hobj_t *b;
    uint32_t rep;
    if ((e = wh_obj_add(h->c, H_OUTGOING_BODY, &b, &rep)))
        return e;
    o = wh_obj_get(h->c, orep, kind);
    o->taken = true;
    b->is_response_body = kind == H_OUTGOING_RESPONSE;
    if (b->is_response_body)
        h->c->body_created = true;
    whirl_cval_t *p;
    if ((e = wh_ok(h->res, &p)))
        return e;
    wh_set_own(p, H_OUTGOING_BODY, rep);
    return NULL;
}

static whirl_error_t *outresp_body(hcall_t *h) { return body_of(h, H_OUTGOING_RESPONSE); }

static whirl_error_t *outbody_write(hcall_t *h)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, 0, H_OUTGOING_BODY, &o, NULL);
    if (e)
        return e;
    if (!o->is_response_body && o->ob)
        return wh_out_body_stream(h, o);
    return o->is_response_body
               ? wh_body_stream(h, o, WHIRL_WASI2_OUTPUT_STREAM, &out_ops, h->c)
               : wh_body_stream(h, o, WHIRL_WASI2_OUTPUT_STREAM, &sink_ops, NULL);
}

static whirl_error_t *outbody_finish(hcall_t *h)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, 0, H_OUTGOING_BODY, &o, NULL);
    if (e)
        return e;
    if (!o->is_response_body && o->ob)
        return wh_out_body_finish(h, o);
    bool response = o->is_response_body;
    if (response)
        h->c->body_finished = true;
    wh_obj_free(h->c, o);
    /* option<own<trailers>>: taken and dropped (not sent). */
    if (h->nargs > 1 && h->args[1].kind == WHIRL_CVAL_OPTION && h->args[1].of.variant.index == 1) {
        hobj_t *t;
        const whirl_cval_t *p = h->args[1].of.variant.payload;
        if (p && (p->kind == WHIRL_CVAL_OWN) && (t = wh_obj_get(h->c, p->of.resource.rep, H_FIELDS)))
            wh_obj_free(h->c, t);
    }
    if (response && h->c->resp_set && !h->c->resp_error)
        serve_resp_finish(h->c->in->req);
    return wh_ok(h->res, NULL);
}

/* ---- response-outparam ---- */

static void start_response(http_ctx_t *c, hobj_t *resp)
{
    flist_t *fl = resp->fl;
    serve_header_t *hs = calloc(fl->n ? fl->n : 1, sizeof *hs);
    char **vals = calloc(fl->n ? fl->n : 1, sizeof *vals);
    int rc = hs && vals ? 0 : -ENOMEM;
    for (size_t i = 0; !rc && i < fl->n; i++) {
        /* Guest bytes, not NUL-terminated: no strndup, which may read on. */
        vals[i] = malloc(fl->vlens[i] + 1);
        if (!vals[i]) {
            rc = -ENOMEM;
            break;
        }
        memcpy(vals[i], fl->vals[i], fl->vlens[i]);
        vals[i][fl->vlens[i]] = '\0';
        hs[i].name = fl->names[i];
        hs[i].value = vals[i];
    }
    if (!rc)
        rc = serve_resp_start(c->in->req, resp->status, hs, fl->n);
    for (size_t i = 0; vals && i < fl->n; i++)
        free(vals[i]);
    free(vals);
    free(hs);
    if (rc) {
        c->resp_error = true;
        SERVE_COUNT(c->in->app->srv, errors);
        serve_log("error: component '%s' (%s %s): response with status %u and headers "
                  "HTTP cannot carry",
                  c->in->comp->id, serve_req_info(c->in->req)->method,
                  serve_req_info(c->in->req)->path, resp->status);
        serve_resp_fail(c->in->req, 500, "Internal Server Error");
        return;
    }
    if (c->pending.len &&
        serve_resp_write(c->in->req, c->pending.data + c->pending.off, c->pending.len,
                         c->in->deadline_ns, NULL) < 0)
        c->resp_error = true;
    sbuf_free(&c->pending);
    /* A finished body ends the response now; one never asked for ends it
     * when the handler returns. */
    if (c->body_finished && !c->resp_error)
        serve_resp_finish(c->in->req);
}

static whirl_error_t *outparam_set(hcall_t *h)
{
    hobj_t *param;
    whirl_error_t *e = wh_arg_obj(h, 0, H_RESPONSE_OUTPARAM, &param, NULL);
    if (e)
        return e;
    wh_obj_free(h->c, param);
    if (h->c->resp_set)
        return trap("response-outparam.set called twice");
    h->c->resp_set = true;
    if (h->nargs < 2 || h->args[1].kind != WHIRL_CVAL_RESULT)
        return trap("response-outparam.set: expected a result");
    const whirl_cval_t *r = &h->args[1];
    if (r->of.variant.index == 0) {
        const whirl_cval_t *p = r->of.variant.payload;
        hobj_t *resp = p && p->kind == WHIRL_CVAL_OWN
                           ? wh_obj_get(h->c, p->of.resource.rep, H_OUTGOING_RESPONSE) : NULL;
        if (!resp)
            return trap("response-outparam.set: invalid outgoing-response");
        start_response(h->c, resp);
        wh_obj_free(h->c, resp);
    } else {
        h->c->resp_error = true;
        uint32_t code = r->of.variant.payload ? r->of.variant.payload->of.variant.index : 0;
        SERVE_COUNT(h->c->in->app->srv, errors);
        serve_log("error: component '%s' (%s %s) answered with error-code case %u",
                  h->c->in->comp->id, serve_req_info(h->c->in->req)->method,
                  serve_req_info(h->c->in->req)->path, code);
        serve_resp_fail(h->c->in->req, 500, "Internal Server Error");
    }
    return NULL;
}

static whirl_error_t *outparam_informational(hcall_t *h)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, 0, H_RESPONSE_OUTPARAM, &o, NULL);
    return e ? e : wh_err_code_none(h->res, ERR_INTERNAL);
}

static whirl_error_t *http_error_code(hcall_t *h)
{
    return wh_none(h->res);
}

/* ---- the linker ---- */

static const wh_def_t defs[] = {
    {"types", "[constructor]fields", fields_new},
    {"types", "[static]fields.from-list", fields_from_list},
    {"types", "[method]fields.get", fields_get},
    {"types", "[method]fields.has", fields_has},
    {"types", "[method]fields.set", fields_set},
    {"types", "[method]fields.delete", fields_del},
    {"types", "[method]fields.append", fields_append},
    {"types", "[method]fields.entries", fields_entries},
    {"types", "[method]fields.clone", fields_clone},
    {"types", "[method]incoming-request.method", inreq_method},
    {"types", "[method]incoming-request.path-with-query", inreq_path},
    {"types", "[method]incoming-request.scheme", inreq_scheme},
    {"types", "[method]incoming-request.authority", inreq_authority},
    {"types", "[method]incoming-request.headers", inreq_headers},
    {"types", "[method]incoming-request.consume", inreq_consume},
    {"types", "[static]response-outparam.set", outparam_set},
    {"types", "[method]response-outparam.send-informational", outparam_informational},
    {"types", "[method]incoming-body.stream", inbody_stream},
    {"types", "[static]incoming-body.finish", inbody_finish},
    {"types", "[method]future-trailers.subscribe", trailers_subscribe},
    {"types", "[method]future-trailers.get", trailers_get},
    {"types", "[constructor]outgoing-response", outresp_new},
    {"types", "[method]outgoing-response.status-code", outresp_status},
    {"types", "[method]outgoing-response.set-status-code", outresp_set_status},
    {"types", "[method]outgoing-response.headers", outresp_headers},
    {"types", "[method]outgoing-response.body", outresp_body},
    {"types", "[method]outgoing-body.write", outbody_write},
    {"types", "[static]outgoing-body.finish", outbody_finish},
    {"types", "http-error-code", http_error_code},
};

static whirl_error_t *trampoline(void *env, whirl_store_t *store,
                                 const whirl_component_func_t *type, const whirl_cval_t *args,
                                 size_t nargs, whirl_cval_t *results, size_t nresults)
{
    const wh_def_t *d = env;
    (void)type;
    hcall_t h = {.c = ctx_of(store), .args = args, .nargs = nargs,
                 .res = nresults ? results : NULL};
    if (!h.c)
        return trap("%s: the calling store serves no HTTP request", d->name);
    whirl_cval_t scratch = {0};
    if (!h.res)
        h.res = &scratch; /* functions without a result never set it */
    whirl_error_t *e = d->fn(&h);
    whirl_cval_release(&scratch);
    return e;
}

#define HTTP_VERSION "0.2.12"

static whirl_wasi2_t *lookup_wasi2(void *env, whirl_store_t *store)
{
    (void)env;
    serve_inst_t *in = whirl_store_data(store);
    http_ctx_t *c = in ? in->http : NULL;
    return c ? c->wasi : NULL;
}

/* The resource types (once per process) and the wasi:http definitions in
 * `linker`, over the WASI 0.2 host `w2` (a reference is taken). */
static whirl_error_t *define_http(whirl_component_linker_t *linker, whirl_wasi2_host_t *w2)
{
    if (!g_host) {
        g_host = calloc(1, sizeof *g_host);
        if (!g_host)
            return whirl_error_new("out of memory");
        for (int k = 0; k < H_KINDS; k++) {
            g_host->types[k] = whirl_resource_type_new(kind_names[k], res_dtor,
                                                       (void *)(uintptr_t)k, NULL);
            if (!g_host->types[k])
                return whirl_error_new("out of memory");
        }
    }
    whirl_wasi2_host_delete(g_host->w2);
    g_host->w2 = w2;
    whirl_error_t *e = NULL;
    for (int k = 0; !e && k < H_KINDS; k++)
        e = whirl_component_linker_define_resource(linker, "wasi:http/types@" HTTP_VERSION,
                                                   kind_names[k], g_host->types[k]);
    for (size_t i = 0; !e && i < sizeof defs / sizeof *defs + wh_out_ndefs; i++) {
        const wh_def_t *d = i < sizeof defs / sizeof *defs ? &defs[i]
                                                            : &wh_out_defs[i - sizeof defs / sizeof *defs];
        char iface[64];
        snprintf(iface, sizeof iface, "wasi:http/%s@" HTTP_VERSION, d->iface);
        e = whirl_component_linker_define_func(linker, iface, d->name, trampoline, (void *)d,
                                               NULL);
    }
    return e;
}

whirl_error_t *serve_wasihttp_link(serve_app_t *app)
{
    app->clinker = whirl_component_linker_new(app->engine);
    if (!app->clinker)
        return whirl_error_new("out of memory");
    whirl_wasi2_host_t *w2 = NULL;
    whirl_error_t *e = whirl_wasi2_add_to_linker(app->clinker, WHIRL_WASI2_ALL, lookup_wasi2,
                                                 NULL, &w2);
    if (!e)
        e = define_http(app->clinker, w2);
    return e ? e : wh3_define(app->clinker);
}

/* ---- whirl run: one component, one store, one context ---- */

static ob_policy_t *g_run_policy;

whirl_error_t *serve_http_run_setup(whirl_component_linker_t *linker, whirl_wasi2_host_t *w2,
                                    whirl_wasi2_t *wasi, const char *who,
                                    const char *const *allow, size_t nallow, const char *ca_file)
{
    char why[600];
    whirl_error_t *e = NULL;
    if (!(g_run_ctx = calloc(1, sizeof *g_run_ctx)) || !(g_run_policy = ob_policy_new()))
        e = whirl_error_new("out of memory");
    for (size_t i = 0; !e && i < nallow; i++)
        if (!ob_policy_add(g_run_policy, allow[i], why, sizeof why))
            e = whirl_error_newf("-S allow-http: %s", why);
    if (!e && ca_file && !ob_client_set_extra_ca(ca_file, why, sizeof why))
        e = whirl_error_newf("-S http-ca: %s", why);
    if (e) {
        whirl_wasi2_host_delete(w2);
        return e;
    }
    g_run_ctx->wasi = wasi;
    g_run_ctx->who = who;
    g_run_ctx->policy = g_run_policy;
    g_run_ctx->deadline_ns = UINT64_MAX;
    return define_http(linker, w2);
}

void serve_http_run_set_deadline(uint64_t deadline_ns)
{
    if (g_run_ctx)
        g_run_ctx->deadline_ns = deadline_ns;
}

void serve_http_run_end(void)
{
    http_ctx_t *c = g_run_ctx;
    if (!c)
        return;
    for (uint32_t i = 0; i < c->nobjs; i++)
        if (c->objs[i].kind != H_KINDS)
            wh_obj_free(c, &c->objs[i]);
    free(c->objs);
    c->objs = NULL;
    c->nobjs = c->cap = 0;
    wh_out_detach_all(c);
}

void serve_http_run_free(void)
{
    if (g_run_ctx) {
        wh_out_release_all(g_run_ctx);
        free(g_run_ctx);
        g_run_ctx = NULL;
    }
    ob_policy_free(g_run_policy);
    g_run_policy = NULL;
    serve_wasihttp_unlink();
}

whirl_error_t *serve_wasihttp_check(serve_comp_t *c)
{
    const char *other;
    if ((c->h3_handler = wh3_handler_export(c->component, &other)))
        return NULL;
    for (size_t i = 0, n = whirl_component_export_count(c->component); i < n; i++) {
        const char *name;
        whirl_component_item_kind_t kind;
        if (whirl_component_export(c->component, i, &name, &kind) &&
            kind == WHIRL_COMPONENT_ITEM_INSTANCE &&
            strncmp(name, "wasi:http/incoming-handler@0.2.", 31) == 0)
            return NULL;
    }
    char list[256];
    wh3_served_list(list, sizeof list);
    if (other)
        return whirl_error_newf("component '%s' (%s) exports `%s`, a version whirl does not "
                                "serve: it serves %s and wasi:http/incoming-handler@0.2.x",
                                c->id, c->source, other, list);
    return whirl_error_newf("component '%s' (%s) exports no wasi:http/incoming-handler@0.2.x "
                            "nor %s",
                            c->id, c->source, list);
}

/* ---- one request ---- */

/* The request changed (body bytes, output room, client gone) or, at the
 * end of a shutdown's grace period, the guest must give up its waits. */
static void notify_wasi(void *env)
{
    http_ctx_t *c = env;
    if (atomic_load(&c->in->app->srv->aborting))
        whirl_wasi2_interrupt(c->wasi);
    else
        whirl_wasi2_notify(c->wasi);
}

void serve_wasihttp_handle(serve_inst_t *in)
{
    /* On the heap: it outlives this call (serve_wasihttp_end frees it). */
    http_ctx_t *c = calloc(1, sizeof *c);
    if (!c) {
        serve_inst_fail(in, whirl_error_new("out of memory"), "preparing its WASI context");
        return;
    }
    *c = (http_ctx_t){.in = in, .policy = in->comp->outbound, .who = in->comp->id,
                      .deadline_ns = in->deadline_ns, .srv = in->app->srv};
    in->http = c;
    const serve_req_info_t *info = serve_req_info(in->req);
    whirl_wasi2_config_t *cfg = whirl_wasi2_config_new();
    whirl_error_t *err = cfg ? NULL : whirl_error_new("out of memory");
    if (!err)
        err = whirl_wasi2_config_push_arg(cfg, in->comp->id);
    for (size_t i = 0; !err && i < in->comp->nenv; i++)
        err = whirl_wasi2_config_push_env(cfg, in->comp->env_keys[i], in->comp->env_values[i]);
    /* console.log and friends: the server's log. */
    if (!err)
        err = whirl_wasi2_config_set_stdio(cfg, -1, 2, 2);
    for (size_t i = 0; !err && i < in->comp->ndirs; i++)
        err = whirl_wasi2_config_preopen_dir(cfg, in->comp->dirs[i].host, in->comp->dirs[i].guest,
                                             in->comp->dirs[i].flags & WHIRL_WASI_DIR_READONLY
                                                 ? WHIRL_WASI2_DIR_READONLY : 0);
    if (err) {
        whirl_wasi2_config_delete(cfg);
        serve_inst_fail(in, err, "preparing its WASI context");
        return;
    }
    if ((err = whirl_wasi2_new(cfg, &c->wasi))) {
        serve_inst_fail(in, err, "preparing its WASI context");
        return;
    }
    serve_req_set_notify(in->req, notify_wasi, c);

    /* The request's headers (Spin's added), shared by every headers()
     * handle; the request and the outparam for the call. */
    flist_t *hdrs = wh_fl_new();
    for (size_t i = 0; hdrs && i < info->nheaders; i++)
        wh_fl_append(hdrs, info->headers[i].name, strlen(info->headers[i].name),
                  (const uint8_t *)info->headers[i].value, strlen(info->headers[i].value), false);
    serve_header_t sh[8];
    char sbuf[9000];
    size_t nsh = serve_spin_headers(in, sh, sbuf, sizeof sbuf);
    for (size_t i = 0; hdrs && i < nsh; i++)
        wh_fl_append(hdrs, sh[i].name, strlen(sh[i].name), (const uint8_t *)sh[i].value,
                  strlen(sh[i].value), false);
    if (in->comp->h3_handler) {
        wh3_handle(in, c, hdrs);
        return;
    }
    hobj_t *reqo, *outp;
    uint32_t req_rep = 0, out_rep = 0;
    if (!hdrs)
        err = whirl_error_new("out of memory");
    if (!err && !(err = wh_obj_add(c, H_INCOMING_REQUEST, &reqo, &req_rep))) {
        reqo->fl = hdrs;
        hdrs = NULL;
    }
    wh_fl_unref(hdrs);
    if (!err)
        err = wh_obj_add(c, H_RESPONSE_OUTPARAM, &outp, &out_rep);
    whirl_component_instance_t *inst = NULL;
    if (!err)
        err = whirl_component_instance_pre_instantiate(in->comp->cpre, in->store, &inst);
    if (err) {
        serve_inst_fail(in, err, "instantiating");
    } else {
        whirl_component_func_t *f = NULL;
        if (!whirl_component_instance_func(inst, "wasi:http/incoming-handler@0.2.0", "handle",
                                           &f)) {
            serve_inst_fail(in, whirl_error_new("no wasi:http/incoming-handler.handle export"),
                            "starting");
        } else {
            whirl_cval_t args[2] = {{0}, {0}};
            wh_set_own(&args[0], H_INCOMING_REQUEST, req_rep);
            wh_set_own(&args[1], H_RESPONSE_OUTPARAM, out_rep);
            err = whirl_component_func_call(in->store, f, args, 2, NULL, 0);
            int status = 0;
            if (err && whirl_error_exit_status(err, &status) && status == 0) {
                whirl_error_delete(err);
                err = NULL;
            }
            if (serve_inst_fail(in, err, "handling the request")) {
                /* answered */
            } else if (!c->resp_set) {
                SERVE_COUNT(in->app->srv, errors);
                serve_log("error: component '%s' (%s %s) returned without setting a response",
                          in->comp->id, info->method, info->path);
                serve_resp_fail(in->req, 500, "Internal Server Error");
            } else if (!c->resp_error) {
                if (c->body_dropped && !c->body_finished) {
                    serve_log("error: component '%s' (%s %s) dropped its response body "
                              "unfinished: the response is cut",
                              in->comp->id, info->method, info->path);
                    serve_resp_fail(in->req, 500, "Internal Server Error");
                } else if (!c->body_created || c->body_finished) {
                    serve_resp_finish(in->req);
                } else {
                    /* Still held by the guest as the instance ends: it never
                     * said the body was complete. */
                    serve_log("error: component '%s' (%s %s) returned with its response body "
                              "neither finished nor dropped",
                              in->comp->id, info->method, info->path);
                    serve_resp_fail(in->req, 500, "Internal Server Error");
                }
            }
        }
    }
}

void serve_wasihttp_end(serve_inst_t *in)
{
    http_ctx_t *c = in->http;
    if (!c)
        return;
    serve_req_set_notify(in->req, NULL, NULL);
    wh3_end(c); /* its objects let go of the store's streams first */
    /* Guest resources first: the store's handles refer to this table. */
    whirl_store_delete(in->store);
    in->store = NULL;
    for (uint32_t i = 0; i < c->nobjs; i++)
        if (c->objs[i].kind != H_KINDS)
            wh_obj_free(c, &c->objs[i]);
    free(c->objs);
    sbuf_free(&c->pending);
    in->http = NULL;
    /* Outbound transfers stop waking the WASI context before it goes. */
    wh_out_detach_all(c);
    whirl_wasi2_delete(c->wasi);
    wh_out_release_all(c);
    free(c);
}

void serve_wasihttp_unlink(void)
{
    if (!g_host)
        return;
    for (int k = 0; k < H_KINDS; k++)
        whirl_resource_type_delete(g_host->types[k]);
    whirl_wasi2_host_delete(g_host->w2);
    free(g_host);
    g_host = NULL;
    wh3_unlink();
    ob_client_shutdown();
}
