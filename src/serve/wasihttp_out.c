/* wasi:http/outgoing-handler for whirl serve: outgoing-request and
 * request-options, handle, and the response side (future-incoming-response,
 * incoming-response, its body and trailers), over the outbound client
 * (outbound.c) and the allow-list (outbound_policy.c).
 *
 * Every wasi:http object and wasi:io stream or pollable that can see an
 * outbound request holds one use of it (ob_use): when the guest has dropped
 * them all, the transfer is cancelled. The instance holds a reference to
 * each of its requests until its WASI context is gone, so callbacks never
 * outlive their request.
 *
 * Policy: a request leaves only if its scheme, host and port match one of
 * the component's allowed_outbound_hosts rules or the server's
 * `-S allow-http` rules; otherwise it is HTTP-request-denied, logged once
 * per host and port. A request without an authority (or to the host `self`)
 * is for the app itself when `self` is allowed: sent to the server's own
 * unix socket (http.c: it needs no free worker), where routing picks the
 * component. */
#define _GNU_SOURCE
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "serve/wasihttp.h"

static const char *const method_names[9] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                            "CONNECT", "OPTIONS", "TRACE", "PATCH"};

static const ob_policy_t *g_policy; /* -S allow-http */

enum { ERR_CONNECTION_LIMIT_REACHED = 11 };

void wh_out_set_global_policy(const ob_policy_t *p)
{
    g_policy = p;
}

/* ---- uses and the instance's list ---- */

static void notify_wasi(void *env)
{
    whirl_wasi2_notify(env);
}

/* Outbound requests one instance may hold at once: each buffers up to
 * ~400 KiB (request and response bodies, header sections). */
enum { MAX_LIVE_REQUESTS = 64 };

/* A new request, registered with the instance (which keeps a reference);
 * requests no handle can see any more are let go first. NULL: out of
 * memory, or MAX_LIVE_REQUESTS reached (*limit). */
ob_req_t *wh_out_new_req(http_ctx_t *c, bool *limit)
{
    size_t live = 0;
    for (size_t i = 0; i < c->nobs; i++) {
        if (ob_in_use(c->obs[i])) {
            c->obs[live++] = c->obs[i];
        } else {
            ob_detach(c->obs[i]);
            ob_unref(c->obs[i]);
        }
    }
    c->nobs = live;
    *limit = live >= MAX_LIVE_REQUESTS;
    if (*limit)
        return NULL;
    if (c->nobs == c->obcap) {
        size_t cap = c->obcap ? c->obcap * 2 : 4;
        ob_req_t **n = realloc(c->obs, cap * sizeof *n);
        if (!n)
            return NULL;
        c->obs = n;
        c->obcap = cap;
    }
    ob_req_t *r = ob_new();
    if (!r)
        return NULL;
    ob_set_notify(r, notify_wasi, c->wasi);
    c->obs[c->nobs++] = r;
    return r;
}

void wh_out_obj_free(http_ctx_t *c, hobj_t *o)
{
    (void)c;
    if (o->ob && o->kind == H_OUTGOING_BODY && !o->finished)
        ob_body_abandon(o->ob);
    if (o->ob)
        ob_unuse(o->ob);
    o->ob = NULL;
    if (o->rq) {
        free(o->rq->method_other);
        free(o->rq->scheme_other);
        free(o->rq->authority);
        free(o->rq->path);
        free(o->rq);
        o->rq = NULL;
    }
}

void wh_out_detach_all(http_ctx_t *c)
{
    for (size_t i = 0; i < c->nobs; i++)
        ob_detach(c->obs[i]);
}

void wh_out_release_all(http_ctx_t *c)
{
    for (size_t i = 0; i < c->nobs; i++)
        ob_unref(c->obs[i]);
    free(c->obs);
    c->obs = NULL;
    c->nobs = c->obcap = 0;
}

/* A new object of `kind` seeing `ob`; *rep its handle. */
static whirl_error_t *add_with(http_ctx_t *c, hkind_t kind, ob_req_t *ob, uint32_t *rep)
{
    hobj_t *o;
    whirl_error_t *e = wh_obj_add(c, kind, &o, rep);
    if (e)
        return e;
    o->ob = ob;
    ob_use(ob);
    return NULL;
}

/* ---- error-code values ---- */

whirl_error_t *wh_set_error_code(whirl_cval_t *v, int code, const char *msg)
{
    switch (code) {
    case OB_ERR_DNS_ERROR: { /* DNS-error(record { rcode, info-code }) */
        whirl_error_t *e = whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, (uint32_t)code, true);
        whirl_cval_t *rec = e ? NULL : v->of.variant.payload;
        if (!e)
            e = whirl_cval_set_items(rec, WHIRL_CVAL_RECORD, 2);
        if (!e)
            e = wh_none(&rec->of.list.items[0]);
        if (!e)
            e = wh_none(&rec->of.list.items[1]);
        return e;
    }
    case OB_ERR_HTTP_RESPONSE_HEADER_SECTION_SIZE: {
        whirl_error_t *e = whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, (uint32_t)code, true);
        return e ? e : wh_none(v->of.variant.payload);
    }
    case OB_ERR_INTERNAL: {
        whirl_error_t *e = whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, (uint32_t)code, true);
        return e ? e : wh_some_string(v->of.variant.payload, msg ? msg : "", msg ? strlen(msg) : 0);
    }
    default:
        return whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, (uint32_t)code, false);
    }
}

/* result::err(error-code) into v. */
static whirl_error_t *err_code(whirl_cval_t *v, int code, const char *msg)
{
    whirl_error_t *e = whirl_cval_set_case(v, WHIRL_CVAL_RESULT, 1, true);
    return e ? e : wh_set_error_code(v->of.variant.payload, code, msg);
}

/* ---- outgoing-request ---- */

static whirl_error_t *outreq_new(hcall_t *h)
{
    flist_t *fl;
    whirl_error_t *e = wh_take_fields(h, 0, &fl);
    if (e)
        return e;
    outreq_t *rq = calloc(1, sizeof *rq);
    hobj_t *o;
    uint32_t rep;
    if (!rq || (e = wh_obj_add(h->c, H_OUTGOING_REQUEST, &o, &rep))) {
        free(rq);
        wh_fl_unref(fl);
        return e ? e : trap("out of memory");
    }
    rq->scheme = -1;
    o->fl = fl;
    o->rq = rq;
    wh_set_own(h->res, H_OUTGOING_REQUEST, rep);
    return NULL;
}

static whirl_error_t *outreq_body(hcall_t *h)
{
    hobj_t *o;
    uint32_t orep;
    whirl_error_t *e = wh_arg_obj(h, 0, H_OUTGOING_REQUEST, &o, &orep);
    if (e)
        return e;
    if (o->taken)
        return whirl_cval_set_case(h->res, WHIRL_CVAL_RESULT, 1, false);
    if (!o->ob) {
        bool limit;
        if (!(o->ob = wh_out_new_req(h->c, &limit))) {
            if (limit) /* result<outgoing-body>: err */
                return whirl_cval_set_case(h->res, WHIRL_CVAL_RESULT, 1, false);
            return trap("out of memory");
        }
        ob_use(o->ob);
    }
    uint32_t rep;
    if ((e = add_with(h->c, H_OUTGOING_BODY, o->ob, &rep)))
        return e;
    o = wh_obj_get(h->c, orep, H_OUTGOING_REQUEST); /* the table may have moved */
    o->taken = true;
    whirl_cval_t *p;
    if ((e = wh_ok(h->res, &p)))
        return e;
    wh_set_own(p, H_OUTGOING_BODY, rep);
    return NULL;
}

static whirl_error_t *outreq_headers(hcall_t *h)
{
    return wh_headers_child(h, H_OUTGOING_REQUEST);
}

static whirl_error_t *outreq_method(hcall_t *h)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, 0, H_OUTGOING_REQUEST, &o, NULL);
    if (e)
        return e;
    if (o->rq->method < 9)
        return whirl_cval_set_case(h->res, WHIRL_CVAL_VARIANT, (uint32_t)o->rq->method, false);
    e = whirl_cval_set_case(h->res, WHIRL_CVAL_VARIANT, 9, true);
    return e ? e : whirl_cval_set_string(h->res->of.variant.payload, o->rq->method_other,
                                         strlen(o->rq->method_other));
}

static whirl_error_t *outreq_set_method(hcall_t *h)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, 0, H_OUTGOING_REQUEST, &o, NULL);
    if (e)
        return e;
    if (h->nargs < 2 || h->args[1].kind != WHIRL_CVAL_VARIANT)
        return trap("set-method: expected a method");
    uint32_t m = h->args[1].of.variant.index;
    char *other = NULL;
    if (m >= 9) {
        const whirl_cval_t *p = h->args[1].of.variant.payload;
        if (!p || p->kind != WHIRL_CVAL_STRING)
            return trap("set-method: expected a string");
        if (!serve_http_token(p->of.string.data, p->of.string.len))
            return whirl_cval_set_case(h->res, WHIRL_CVAL_RESULT, 1, false);
        if (!(other = wh_text_copy(p->of.string.data, p->of.string.len)))
            return trap("out of memory");
        m = 9;
    }
    free(o->rq->method_other);
    o->rq->method = (int)m;
    o->rq->method_other = other;
    return wh_ok(h->res, NULL);
}

/* option<string> getters and setters: path-with-query and authority. */
static whirl_error_t *get_opt(hcall_t *h, bool authority)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, 0, H_OUTGOING_REQUEST, &o, NULL);
    if (e)
        return e;
    const char *s = authority ? o->rq->authority : o->rq->path;
    return s ? wh_some_string(h->res, s, strlen(s)) : wh_none(h->res);
}

static bool valid_text(const char *s, size_t n, bool authority)
{
    if (n > (authority ? 1024u : 65536u)) /* no HTTP server takes more */
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= 0x20 || ch >= 0x7f || ch == '#')
            return false;
        if (authority && (ch == '/' || ch == '?' || ch == '@' || ch == '\\'))
            return false;
    }
    return authority || n == 0 || s[0] == '/' || (n == 1 && s[0] == '*');
}

static whirl_error_t *set_opt(hcall_t *h, bool authority)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, 0, H_OUTGOING_REQUEST, &o, NULL);
    if (e)
        return e;
    if (h->nargs < 2 || h->args[1].kind != WHIRL_CVAL_OPTION)
        return trap("expected an option<string>");
    char *v = NULL;
    if (h->args[1].of.variant.index == 1) {
        const whirl_cval_t *p = h->args[1].of.variant.payload;
        if (!p || p->kind != WHIRL_CVAL_STRING)
            return trap("expected a string");
        if (!valid_text(p->of.string.data, p->of.string.len, authority))
            return whirl_cval_set_case(h->res, WHIRL_CVAL_RESULT, 1, false);
        if (!(v = wh_text_copy(p->of.string.data, p->of.string.len)))
            return trap("out of memory");
    }
    char **slot = authority ? &o->rq->authority : &o->rq->path;
    free(*slot);
    *slot = v;
    return wh_ok(h->res, NULL);
}

static whirl_error_t *outreq_path(hcall_t *h) { return get_opt(h, false); }
static whirl_error_t *outreq_set_path(hcall_t *h) { return set_opt(h, false); }
static whirl_error_t *outreq_authority(hcall_t *h) { return get_opt(h, true); }
static whirl_error_t *outreq_set_authority(hcall_t *h) { return set_opt(h, true); }

static whirl_error_t *outreq_scheme(hcall_t *h)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, 0, H_OUTGOING_REQUEST, &o, NULL);
    if (e)
        return e;
    if (o->rq->scheme < 0)
        return wh_none(h->res);
    if ((e = whirl_cval_set_case(h->res, WHIRL_CVAL_OPTION, 1, true)))
        return e;
    whirl_cval_t *v = h->res->of.variant.payload;
    if (o->rq->scheme < 2)
        return whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, (uint32_t)o->rq->scheme, false);
    e = whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, 2, true);
    return e ? e : whirl_cval_set_string(v->of.variant.payload, o->rq->scheme_other,
                                         strlen(o->rq->scheme_other));
}

static whirl_error_t *outreq_set_scheme(hcall_t *h)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, 0, H_OUTGOING_REQUEST, &o, NULL);
    if (e)
        return e;
    if (h->nargs < 2 || h->args[1].kind != WHIRL_CVAL_OPTION)
        return trap("set-scheme: expected an option<scheme>");
    int scheme = -1;
    char *other = NULL;
    if (h->args[1].of.variant.index == 1) {
        const whirl_cval_t *v = h->args[1].of.variant.payload;
        if (!v || v->kind != WHIRL_CVAL_VARIANT)
            return trap("set-scheme: expected a scheme");
        scheme = v->of.variant.index > 2 ? 2 : (int)v->of.variant.index;
        if (scheme == 2) {
            const whirl_cval_t *p = v->of.variant.payload;
            if (!p || p->kind != WHIRL_CVAL_STRING)
                return trap("set-scheme: expected a string");
            bool good = p->of.string.len > 0;
            for (size_t i = 0; good && i < p->of.string.len; i++) {
                char ch = p->of.string.data[i];
                good = isalnum((unsigned char)ch) || ch == '+' || ch == '-' || ch == '.';
            }
            if (!good)
                return whirl_cval_set_case(h->res, WHIRL_CVAL_RESULT, 1, false);
            if (!(other = wh_text_copy(p->of.string.data, p->of.string.len)))
                return trap("out of memory");
        }
    }
    free(o->rq->scheme_other);
    o->rq->scheme = scheme;
    o->rq->scheme_other = other;
    return wh_ok(h->res, NULL);
}

/* ---- request-options ---- */

static whirl_error_t *options_new(hcall_t *h)
{
    hobj_t *o;
    uint32_t rep;
    whirl_error_t *e = wh_obj_add(h->c, H_REQUEST_OPTIONS, &o, &rep);
    if (!e)
        wh_set_own(h->res, H_REQUEST_OPTIONS, rep);
    return e;
}

static whirl_error_t *options_get(hcall_t *h, int which)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, 0, H_REQUEST_OPTIONS, &o, NULL);
    if (e)
        return e;
    if (!(o->timeouts_set & (1u << which)))
        return wh_none(h->res);
    if ((e = whirl_cval_set_case(h->res, WHIRL_CVAL_OPTION, 1, true)))
        return e;
    h->res->of.variant.payload->kind = WHIRL_CVAL_U64;
    h->res->of.variant.payload->of.u = o->timeouts[which];
    return NULL;
}

static whirl_error_t *options_set(hcall_t *h, int which)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, 0, H_REQUEST_OPTIONS, &o, NULL);
    if (e)
        return e;
    if (h->nargs < 2 || h->args[1].kind != WHIRL_CVAL_OPTION)
        return trap("request-options: expected an option<duration>");
    if (h->args[1].of.variant.index == 0) {
        o->timeouts_set &= (uint8_t)~(1u << which);
        return wh_ok(h->res, NULL);
    }
    const whirl_cval_t *p = h->args[1].of.variant.payload;
    if (!p || p->kind != WHIRL_CVAL_U64)
        return trap("request-options: expected a duration");
    o->timeouts[which] = p->of.u;
    o->timeouts_set |= (uint8_t)(1u << which);
    return wh_ok(h->res, NULL);
}

static whirl_error_t *opt_connect(hcall_t *h) { return options_get(h, 0); }
static whirl_error_t *opt_set_connect(hcall_t *h) { return options_set(h, 0); }
static whirl_error_t *opt_first(hcall_t *h) { return options_get(h, 1); }
static whirl_error_t *opt_set_first(hcall_t *h) { return options_set(h, 1); }
static whirl_error_t *opt_between(hcall_t *h) { return options_get(h, 2); }
static whirl_error_t *opt_set_between(hcall_t *h) { return options_set(h, 2); }

/* ---- policy ---- */

/* Denials are logged once per host and port for the process. */
static pthread_mutex_t denied_mu = PTHREAD_MUTEX_INITIALIZER;
static char *denied_seen[256];
static size_t ndenied_seen;

static void log_denied(http_ctx_t *c, const char *what)
{
    pthread_mutex_lock(&denied_mu);
    bool seen = false;
    for (size_t i = 0; i < ndenied_seen && !seen; i++)
        seen = strcmp(denied_seen[i], what) == 0;
    if (!seen && ndenied_seen < sizeof denied_seen / sizeof *denied_seen)
        denied_seen[ndenied_seen++] = strdup(what);
    pthread_mutex_unlock(&denied_mu);
    if (seen)
        return;
    if (c->srv)
        serve_log("component '%s' made an outbound HTTP request to %s: denied (not in its "
                  "allowed_outbound_hosts nor -S allow-http; logged once per host)",
                  c->who, what);
    else
        fprintf(stderr, "whirl: %s made an outbound HTTP request to %s: denied (not allowed "
                "by -S allow-http; logged once per host)\n", c->who, what);
}

static bool allowed(http_ctx_t *c, const char *scheme, const char *host, unsigned port)
{
    return ob_policy_allows(c->policy, scheme, host, port) ||
           ob_policy_allows(g_policy, scheme, host, port);
}

/* ---- outgoing-handler.handle ---- */

ob_fields_t wh_to_ob_fields(const flist_t *fl, bool *oom)
{
    ob_fields_t f = {0};
    if (!fl || !fl->n)
        return f;
    f.names = calloc(fl->n, sizeof *f.names);
    f.vals = calloc(fl->n, sizeof *f.vals);
    f.vlens = calloc(fl->n, sizeof *f.vlens);
    f.cap = fl->n;
    if (!f.names || !f.vals || !f.vlens) {
        *oom = true;
        return f;
    }
    for (size_t i = 0; i < fl->n; i++) {
        f.names[i] = strdup(fl->names[i]);
        f.vals[i] = malloc(fl->vlens[i] ? fl->vlens[i] : 1);
        if (!f.names[i] || !f.vals[i]) {
            free(f.names[i]);
            free(f.vals[i]);
            *oom = true;
            break;
        }
        memcpy(f.vals[i], fl->vals[i], fl->vlens[i]);
        f.vlens[i] = fl->vlens[i];
        f.n++;
    }
    return f;
}

flist_t *wh_from_ob_fields(const ob_fields_t *f)
{
    flist_t *fl = wh_fl_new();
    for (size_t i = 0; fl && i < f->n; i++)
        wh_fl_append(fl, f->names[i], strlen(f->names[i]), f->vals[i], f->vlens[i], false);
    return fl;
}

static bool is_self(const outreq_t *rq)
{
    return !rq->authority || strcasecmp(rq->authority, "self") == 0 ||
           strncasecmp(rq->authority, "self:", 5) == 0;
}

/* The URL to send to, or an error-code case (and `why`). */
int wh_out_target(http_ctx_t *c, const outreq_t *rq, char **url, char *why, size_t whylen)
{
    const char *path = rq->path ? rq->path : "/";
    if (is_self(rq)) {
        if (!c->srv || (!ob_policy_allows_self(c->policy) && !ob_policy_allows_self(g_policy))) {
            log_denied(c, "self (the app itself)");
            snprintf(why, whylen, "self requests are not allowed");
            return ERR_HTTP_REQUEST_DENIED;
        }
        const serve_server_t *srv = c->srv;
        const char *host = srv->listen_host;
        if (!*host || strcmp(host, "0.0.0.0") == 0)
            host = "127.0.0.1";
        else if (strcmp(host, "::") == 0)
            host = "::1";
        bool v6 = strchr(host, ':') != NULL;
        if (asprintf(url, "http://%s%s%s:%s%s", v6 ? "[" : "", host, v6 ? "]" : "",
                     srv->listen_port, path) < 0)
            return ERR_INTERNAL;
        return 0;
    }
    const char *scheme = rq->scheme == 0 ? "http" : rq->scheme == 1 || rq->scheme < 0 ? "https"
                                                                                      : NULL;
    if (!scheme) {
        snprintf(why, whylen, "scheme '%s' is not supported", rq->scheme_other);
        return ERR_HTTP_PROTOCOL;
    }
    char *base = NULL;
    if (asprintf(&base, "%s://%s/", scheme, rq->authority) < 0)
        return ERR_INTERNAL;
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL;
    int rc = 0;
    if (!u || curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        snprintf(why, whylen, "invalid authority '%s'", rq->authority);
        rc = OB_ERR_HTTP_REQUEST_URI_INVALID;
    } else {
        char *user = NULL;
        if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
            curl_free(user); /* credentials in the authority: not a plain host */
            snprintf(why, whylen, "invalid authority '%s'", rq->authority);
            rc = OB_ERR_HTTP_REQUEST_URI_INVALID;
        } else if (!allowed(c, scheme, host, (unsigned)atoi(port))) {
            char what[600];
            snprintf(what, sizeof what, "%s://%s:%s", scheme, host, port);
            log_denied(c, what);
            snprintf(why, whylen, "%.400s is not an allowed outbound host", what);
            rc = ERR_HTTP_REQUEST_DENIED;
        } else if (asprintf(url, "%s://%s%s", scheme, rq->authority, path) < 0) {
            rc = ERR_INTERNAL;
        }
    }
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    free(base);
    return rc;
}

static whirl_error_t *outgoing_handle(hcall_t *h)
{
    hobj_t *o;
    uint32_t req_rep;
    whirl_error_t *e = wh_arg_obj(h, 0, H_OUTGOING_REQUEST, &o, &req_rep);
    if (e)
        return e;
    /* The options (own, optional): read and dropped. */
    uint64_t t[3] = {0, 0, 0};
    if (h->nargs > 1 && h->args[1].kind == WHIRL_CVAL_OPTION && h->args[1].of.variant.index == 1) {
        const whirl_cval_t *p = h->args[1].of.variant.payload;
        hobj_t *opt = p ? wh_obj_get(h->c, p->of.resource.rep, H_REQUEST_OPTIONS) : NULL;
        if (opt) {
            for (int i = 0; i < 3; i++)
                if (opt->timeouts_set & (1u << i))
                    t[i] = opt->timeouts[i] ? opt->timeouts[i] : 1;
            wh_obj_free(h->c, opt);
        }
    }
    o = wh_obj_get(h->c, req_rep, H_OUTGOING_REQUEST);
    char why[512] = "";
    char *url = NULL;
    int rc = wh_out_target(h->c, o->rq, &url, why, sizeof why);
    if (rc) {
        wh_obj_free(h->c, o);
        return err_code(h->res, rc, why);
    }
    if (!o->ob) {
        bool limit;
        if (!(o->ob = wh_out_new_req(h->c, &limit))) {
            free(url);
            wh_obj_free(h->c, o);
            if (limit)
                return err_code(h->res, ERR_CONNECTION_LIMIT_REACHED, NULL);
            return trap("out of memory");
        }
        ob_use(o->ob);
    }
    ob_req_t *ob = o->ob;
    bool oom = false;
    ob_fields_t hdrs = wh_to_ob_fields(o->fl, &oom);
    const char *method = o->rq->method < 9 ? method_names[o->rq->method] : o->rq->method_other;
    uint64_t deadline = h->c->deadline_ns == UINT64_MAX ? 0 : h->c->deadline_ns;
    ob_spec_t spec = {.method = method, .url = url, .headers = &hdrs, .has_body = o->taken,
                      .connect_timeout_ns = t[0], .first_byte_timeout_ns = t[1],
                      .between_bytes_timeout_ns = t[2], .deadline_ns = deadline};
    /* The app itself: over a socket pair straight to the server, whose
     * request runs on a thread of its own rather than wait for a worker. */
    if (is_self(o->rq) && h->c->srv && h->c->srv->local_fd >= 0)
        spec.abstract_unix = h->c->srv->local_name;
    rc = oom ? ERR_INTERNAL : ob_start(ob, &spec, why, sizeof why);
    ob_fields_free(&hdrs);
    free(url);
    if (rc) {
        wh_obj_free(h->c, wh_obj_get(h->c, req_rep, H_OUTGOING_REQUEST));
        return err_code(h->res, rc, oom ? "out of memory" : why);
    }
    /* The future first: its use keeps the transfer when the request goes. */
    uint32_t frep;
    if ((e = add_with(h->c, H_FUTURE_INCOMING_RESPONSE, ob, &frep)))
        return e;
    wh_obj_free(h->c, wh_obj_get(h->c, req_rep, H_OUTGOING_REQUEST));
    whirl_cval_t *p;
    if ((e = wh_ok(h->res, &p)))
        return e;
    wh_set_own(p, H_FUTURE_INCOMING_RESPONSE, frep);
    return NULL;
}

/* ---- pollables and streams over a request ---- */

static bool head_ready(void *env) { return ob_head_ready(env); }
static bool done_ready(void *env) { return ob_done(env); }
static void drop_use(void *env) { ob_unuse(env); }

/* The I/O thread notifies the WASI context on every change (ob_set_notify
 * in new_req): waits need no periodic re-check. */
static int notified(void *env, short *events)
{
    (void)env, (void)events;
    return WHIRL_WASI2_WAIT_NOTIFIED;
}

static const whirl_wasi2_pollable_ops_t head_ops = {.ready = head_ready, .wait_fd = notified,
                                                    .drop = drop_use};
static const whirl_wasi2_pollable_ops_t done_ops = {.ready = done_ready, .wait_fd = notified,
                                                    .drop = drop_use};

static whirl_error_t *pollable(hcall_t *h, const whirl_wasi2_pollable_ops_t *ops, ob_req_t *ob)
{
    uint32_t rep;
    ob_use(ob);
    whirl_error_t *e = whirl_wasi2_pollable_new(h->c->wasi, ops, ob, &rep); /* drops on failure */
    if (e)
        return e;
    h->res->kind = WHIRL_CVAL_OWN;
    h->res->of.resource.type = whirl_wasi2_host_resource_type(g_host->w2, WHIRL_WASI2_POLLABLE);
    h->res->of.resource.rep = rep;
    return NULL;
}

static int64_t resp_read(void *env, uint8_t *buf, size_t len, char **error)
{
    int err = 0;
    char msg[300];
    int64_t n = ob_read(env, buf, len, &err, msg, sizeof msg);
    if (n == OB_FAILED)
        *error = strdup(msg);
    return n == OB_CLOSED ? WHIRL_WASI2_CLOSED : n == OB_FAILED ? WHIRL_WASI2_FAILED : n;
}

static bool resp_readable(void *env) { return ob_readable(env); }

static int64_t req_check(void *env, char **error)
{
    int64_t n = ob_body_room(env);
    if (n == OB_FAILED)
        *error = strdup("the request failed");
    return n == OB_CLOSED ? WHIRL_WASI2_CLOSED : n == OB_FAILED ? WHIRL_WASI2_FAILED : n;
}

static int64_t req_write(void *env, const uint8_t *buf, size_t len, char **error)
{
    int64_t n = ob_body_write(env, buf, len);
    if (n == OB_FAILED)
        *error = strdup("the request failed");
    return n == OB_CLOSED ? WHIRL_WASI2_CLOSED : n == OB_FAILED ? WHIRL_WASI2_FAILED : 0;
}

static bool req_ready(void *env) { return ob_body_ready(env); }

static const whirl_wasi2_stream_ops_t resp_ops = {.read = resp_read, .ready = resp_readable,
                                                  .wait_fd = notified, .drop = drop_use};
static const whirl_wasi2_stream_ops_t req_ops = {.check_write = req_check, .write = req_write,
                                                 .ready = req_ready, .wait_fd = notified,
                                                 .drop = drop_use};

whirl_error_t *wh_out_body_stream(hcall_t *h, hobj_t *body)
{
    if (!body->taken)
        ob_use(body->ob); /* the stream's; its drop (drop_use) gives it back */
    return wh_body_stream(h, body, WHIRL_WASI2_OUTPUT_STREAM, &req_ops, body->ob);
}

whirl_error_t *wh_out_body_finish(hcall_t *h, hobj_t *body)
{
    ob_req_t *ob = body->ob;
    ob_fields_t tr = {0};
    bool oom = false;
    if (h->nargs > 1 && h->args[1].kind == WHIRL_CVAL_OPTION && h->args[1].of.variant.index == 1) {
        hobj_t *t;
        const whirl_cval_t *p = h->args[1].of.variant.payload;
        if (p && p->kind == WHIRL_CVAL_OWN && (t = wh_obj_get(h->c, p->of.resource.rep, H_FIELDS))) {
            tr = wh_to_ob_fields(t->fl, &oom);
            wh_obj_free(h->c, t);
        }
    }
    ob_use(ob);
    body->finished = true;
    body = NULL;
    ob_body_finish(ob, &tr);
    ob_fields_free(&tr);
    /* The body handle goes (its own use), then this call's. */
    const whirl_cval_t *a = &h->args[0];
    wh_obj_free(h->c, wh_obj_get(h->c, a->of.resource.rep, H_OUTGOING_BODY));
    ob_unuse(ob);
    return oom ? trap("out of memory") : wh_ok(h->res, NULL);
}

/* ---- future-incoming-response ---- */

static whirl_error_t *future_subscribe(hcall_t *h)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, 0, H_FUTURE_INCOMING_RESPONSE, &o, NULL);
    return e ? e : pollable(h, &head_ops, o->ob);
}

static whirl_error_t *future_get(hcall_t *h)
{
    hobj_t *o;
    uint32_t frep;
    whirl_error_t *e = wh_arg_obj(h, 0, H_FUTURE_INCOMING_RESPONSE, &o, &frep);
    if (e)
        return e;
    if (!ob_head_ready(o->ob))
        return wh_none(h->res);
    /* option<result<result<incoming-response, error-code>>> */
    if ((e = whirl_cval_set_case(h->res, WHIRL_CVAL_OPTION, 1, true)))
        return e;
    whirl_cval_t *r = h->res->of.variant.payload;
    if (o->taken)
        return whirl_cval_set_case(r, WHIRL_CVAL_RESULT, 1, false);
    o->taken = true;
    if ((e = whirl_cval_set_case(r, WHIRL_CVAL_RESULT, 0, true)))
        return e;
    ob_fields_t hdrs = {0};
    int err = 0;
    char msg[300];
    int status = ob_head(o->ob, &hdrs, &err, msg, sizeof msg);
    if (!status)
        return err_code(r->of.variant.payload, err, msg);
    flist_t *fl = wh_from_ob_fields(&hdrs);
    ob_fields_free(&hdrs);
    uint32_t rep;
    ob_req_t *ob = o->ob;
    if (!fl || (e = add_with(h->c, H_INCOMING_RESPONSE, ob, &rep))) {
        wh_fl_unref(fl);
        return e ? e : trap("out of memory");
    }
    hobj_t *resp = wh_obj_get(h->c, rep, H_INCOMING_RESPONSE);
    resp->fl = fl;
    resp->status = (uint16_t)status;
    whirl_cval_t *p;
    if ((e = wh_ok(r->of.variant.payload, &p)))
        return e;
    wh_set_own(p, H_INCOMING_RESPONSE, rep);
    return NULL;
}

/* ---- incoming-response and its body ---- */

static whirl_error_t *inresp_status(hcall_t *h)
{
    hobj_t *o;
    whirl_error_t *e = wh_arg_obj(h, 0, H_INCOMING_RESPONSE, &o, NULL);
    if (e)
        return e;
    h->res->kind = WHIRL_CVAL_U16;
    h->res->of.u = o->status;
    return NULL;
}

static whirl_error_t *inresp_headers(hcall_t *h)
{
    return wh_headers_child(h, H_INCOMING_RESPONSE);
}

static whirl_error_t *inresp_consume(hcall_t *h)
{
    hobj_t *o;
    uint32_t orep;
    whirl_error_t *e = wh_arg_obj(h, 0, H_INCOMING_RESPONSE, &o, &orep);
    if (e)
        return e;
    if (o->taken)
        return whirl_cval_set_case(h->res, WHIRL_CVAL_RESULT, 1, false);
    uint32_t rep;
    if ((e = add_with(h->c, H_INCOMING_BODY, o->ob, &rep)))
        return e;
    wh_obj_get(h->c, orep, H_INCOMING_RESPONSE)->taken = true;
    whirl_cval_t *p;
    if ((e = wh_ok(h->res, &p)))
        return e;
    wh_set_own(p, H_INCOMING_BODY, rep);
    return NULL;
}

whirl_error_t *wh_out_inbody_stream(hcall_t *h, hobj_t *body)
{
    if (!body->taken)
        ob_use(body->ob); /* the stream's; its drop (drop_use) gives it back */
    return wh_body_stream(h, body, WHIRL_WASI2_INPUT_STREAM, &resp_ops, body->ob);
}

whirl_error_t *wh_out_inbody_finish(hcall_t *h, hobj_t *body)
{
    ob_req_t *ob = body->ob;
    uint32_t brep = h->args[0].of.resource.rep;
    uint32_t rep;
    whirl_error_t *e = add_with(h->c, H_FUTURE_TRAILERS, ob, &rep);
    wh_obj_free(h->c, wh_obj_get(h->c, brep, H_INCOMING_BODY));
    if (e)
        return e;
    wh_set_own(h->res, H_FUTURE_TRAILERS, rep);
    return NULL;
}

whirl_error_t *wh_out_trailers_subscribe(hcall_t *h, hobj_t *t)
{
    return pollable(h, &done_ops, t->ob);
}

whirl_error_t *wh_out_trailers_get(hcall_t *h, hobj_t *t)
{
    if (!ob_done(t->ob))
        return wh_none(h->res);
    /* option<result<result<option<trailers>, error-code>>> */
    whirl_error_t *e = whirl_cval_set_case(h->res, WHIRL_CVAL_OPTION, 1, true);
    if (e)
        return e;
    whirl_cval_t *r = h->res->of.variant.payload;
    if (t->got_trailers)
        return whirl_cval_set_case(r, WHIRL_CVAL_RESULT, 1, false);
    t->got_trailers = true;
    if ((e = whirl_cval_set_case(r, WHIRL_CVAL_RESULT, 0, true)))
        return e;
    whirl_cval_t *inner = r->of.variant.payload;
    ob_fields_t tr = {0};
    char msg[300];
    int rc = ob_trailers(t->ob, &tr, msg, sizeof msg);
    if (rc)
        return err_code(inner, rc, msg);
    whirl_cval_t *p;
    if ((e = wh_ok(inner, &p)))
        return e;
    if (!tr.n)
        return wh_none(p);
    flist_t *fl = wh_from_ob_fields(&tr);
    ob_fields_free(&tr);
    if (!fl)
        return trap("out of memory");
    if ((e = whirl_cval_set_case(p, WHIRL_CVAL_OPTION, 1, true))) {
        wh_fl_unref(fl);
        return e;
    }
    return wh_new_fields(h->c, fl, false, p->of.variant.payload);
}

/* ---- the definitions ---- */

const wh_def_t wh_out_defs[] = {
    {"types", "[constructor]outgoing-request", outreq_new},
    {"types", "[method]outgoing-request.body", outreq_body},
    {"types", "[method]outgoing-request.method", outreq_method},
    {"types", "[method]outgoing-request.set-method", outreq_set_method},
    {"types", "[method]outgoing-request.path-with-query", outreq_path},
    {"types", "[method]outgoing-request.set-path-with-query", outreq_set_path},
    {"types", "[method]outgoing-request.scheme", outreq_scheme},
    {"types", "[method]outgoing-request.set-scheme", outreq_set_scheme},
    {"types", "[method]outgoing-request.authority", outreq_authority},
    {"types", "[method]outgoing-request.set-authority", outreq_set_authority},
    {"types", "[method]outgoing-request.headers", outreq_headers},
    {"types", "[constructor]request-options", options_new},
    {"types", "[method]request-options.connect-timeout", opt_connect},
    {"types", "[method]request-options.set-connect-timeout", opt_set_connect},
    {"types", "[method]request-options.first-byte-timeout", opt_first},
    {"types", "[method]request-options.set-first-byte-timeout", opt_set_first},
    {"types", "[method]request-options.between-bytes-timeout", opt_between},
    {"types", "[method]request-options.set-between-bytes-timeout", opt_set_between},
    {"types", "[method]incoming-response.status", inresp_status},
    {"types", "[method]incoming-response.headers", inresp_headers},
    {"types", "[method]incoming-response.consume", inresp_consume},
    {"types", "[method]future-incoming-response.subscribe", future_subscribe},
    {"types", "[method]future-incoming-response.get", future_get},
    {"outgoing-handler", "handle", outgoing_handle},
};
const size_t wh_out_ndefs = sizeof wh_out_defs / sizeof *wh_out_defs;
