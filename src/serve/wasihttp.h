/* The wasi:http host's shared state, between wasihttp.c (types, the
 * incoming handler) and wasihttp_out.c (outgoing-handler: requests sent
 * with the outbound client, their responses). */
#ifndef WHIRL_SERVE_WASIHTTP_H
#define WHIRL_SERVE_WASIHTTP_H

#include "serve/app.h"
#include "serve/outbound.h"
#include "whirl/wasi2.h"

enum {
    MAX_OBJECTS = 10000,          /* wasi:http resources of one request */
    MAX_FIELDS = 1000,            /* entries in one fields */
    MAX_FIELD_BYTES = 256 * 1024, /* bytes of names and values in one fields */
    MAX_PENDING = 16 << 20,       /* body bytes written before the response is set */
    ERR_HTTP_REQUEST_DENIED = 15, /* error-code cases */
    ERR_HTTP_PROTOCOL = 35,
    ERR_INTERNAL = 38,
};

typedef enum hkind {
    H_FIELDS = 0, H_INCOMING_REQUEST, H_OUTGOING_REQUEST, H_REQUEST_OPTIONS,
    H_RESPONSE_OUTPARAM, H_INCOMING_RESPONSE, H_INCOMING_BODY, H_FUTURE_TRAILERS,
    H_OUTGOING_RESPONSE, H_OUTGOING_BODY, H_FUTURE_INCOMING_RESPONSE, H_KINDS
} hkind_t;

/* Header lists are shared between a fields resource and the request or
 * response it belongs to (the `headers` child handles). */
typedef struct flist {
    int refs;
    size_t n, cap, bytes;
    char **names;   /* lower case */
    uint8_t **vals;
    size_t *vlens;
} flist_t;

/* An outgoing request's target, as the guest set it. */
typedef struct outreq {
    int method;            /* method case; 9: other */
    char *method_other;
    int scheme;            /* -1: none; 0 HTTP, 1 HTTPS, 2 other */
    char *scheme_other;
    char *authority, *path; /* NULL: none */
} outreq_t;

typedef struct hobj {
    uint8_t kind; /* H_KINDS: free */
    bool immutable;
    bool taken;   /* body()/consume()/stream()/write() already handed out */
    flist_t *fl;  /* fields, outgoing-request/response headers */
    uint16_t status;
    bool is_response_body; /* outgoing-body of the response (not of a request) */
    int method;   /* outgoing-request */
    bool got_trailers;
    /* Outbound: the request a request body, future, response, response
     * body or trailers belongs to (one use each: wasihttp_out.c). */
    ob_req_t *ob;
    outreq_t *rq;          /* outgoing-request */
    uint64_t timeouts[3];  /* request-options: connect, first byte, between bytes */
    uint8_t timeouts_set;  /* bit i: timeouts[i] given */
    bool finished;         /* a request's outgoing-body: finish was called */
} hobj_t;

typedef struct http_ctx {
    serve_inst_t *in;
    whirl_wasi2_t *wasi;
    hobj_t *objs;
    uint32_t nobjs, cap;
    /* The response. */
    bool resp_set, resp_error, body_created, body_finished, body_dropped;
    int status;
    flist_t *resp_headers;
    sbuf_t pending;
    bool denied_logged;
    /* Outbound requests of this instance, each with a reference. */
    ob_req_t **obs;
    size_t nobs, obcap;
    const ob_policy_t *policy; /* the component's allowed_outbound_hosts */
    const char *who;           /* the component, for messages */
    uint64_t deadline_ns;      /* UINT64_MAX: none */
    const serve_server_t *srv; /* whirl serve (self requests, its log); NULL: whirl run */
    struct wh3_ctx *h3;        /* wasi:http 0.3's objects (wasihttp3.c); NULL: none */
} http_ctx_t;

struct serve_http_host {
    whirl_resource_type_t *types[H_KINDS];
    whirl_wasi2_host_t *w2;
};
typedef struct serve_http_host serve_http_host_t;

extern serve_http_host_t *g_host; /* one per process: set by serve_wasihttp_link */

typedef struct hcall {
    http_ctx_t *c;
    const whirl_cval_t *args;
    size_t nargs;
    whirl_cval_t *res;
} hcall_t;

#define trap(...) whirl_error_newf("wasi:http: " __VA_ARGS__)

/* wasihttp.c's helpers. */
flist_t *wh_fl_new(void);
void wh_fl_unref(flist_t *f);
int wh_fl_append(flist_t *f, const char *name, size_t nlen, const uint8_t *v, size_t vlen,
                 bool check_forbidden);
flist_t *wh_fl_clone(const flist_t *src);
/* Removes every entry named `name` (any case). */
void wh_fl_delete(flist_t *f, const char *name, size_t nlen);
/* A NUL-terminated copy (malloc'd) of `n` guest bytes, which have no NUL
 * after them: strndup may read past them (ASan reports it). */
char *wh_text_copy(const char *p, size_t n);
/* Fields as component values, for wasi:http 0.2 and 0.3 alike:
 * from-list's list<tuple<field-name, field-value>> `l` into a new list
 * (*out), or *bad = the header-error case that refuses an entry (*out
 * NULL); a trap when `l` is not of that shape. */
whirl_error_t *wh_fields_from_list(const whirl_cval_t *l, flist_t **out, int *bad);
/* `res` becomes the list<field-value> of the entries named `name`. */
whirl_error_t *wh_fields_get(const flist_t *fl, const char *name, size_t n, whirl_cval_t *res);
/* `res` becomes whether an entry is named `name`. */
void wh_fields_has(const flist_t *fl, const char *name, size_t n, whirl_cval_t *res);
/* Replaces every entry named `name` (a token) by the values of `vals`
 * (list<field-value>; NULL: none, a delete), each checked first as
 * wh_fl_append does with `check`. *bad: -1 done, the header-error case of
 * a refused value (nothing changed), or WH_FIELDS_FULL when the list had
 * no room for them (the name's old entries are gone). */
enum { WH_FIELDS_FULL = 1000 };
whirl_error_t *wh_fields_replace(flist_t *fl, const char *name, size_t n,
                                 const whirl_cval_t *vals, bool check, int *bad);
/* `res` becomes list<tuple<field-name, field-value>> of every entry. */
whirl_error_t *wh_fields_entries(const flist_t *fl, whirl_cval_t *res);
whirl_error_t *wh_obj_add(http_ctx_t *c, hkind_t kind, hobj_t **out, uint32_t *rep);
void wh_obj_free(http_ctx_t *c, hobj_t *o);
hobj_t *wh_obj_get(http_ctx_t *c, uint32_t rep, hkind_t kind);
whirl_error_t *wh_arg_obj(const hcall_t *h, size_t i, hkind_t kind, hobj_t **out,
                          uint32_t *rep_out);
whirl_error_t *wh_arg_string(const hcall_t *h, size_t i, const char **s, size_t *n);
bool wh_bytes_of(const whirl_cval_t *v, const uint8_t **p, size_t *n, uint8_t **tmp);
void wh_set_own(whirl_cval_t *v, hkind_t kind, uint32_t rep);
whirl_error_t *wh_ok(whirl_cval_t *v, whirl_cval_t **payload);
/* A body's stream, taken at most once: ok(own stream of `kind`, served by
 * `ops` and `env`) the first time, err after. */
whirl_error_t *wh_body_stream(hcall_t *h, hobj_t *body, whirl_wasi2_resource_t kind,
                              const whirl_wasi2_stream_ops_t *ops, void *env);
whirl_error_t *wh_err_case(whirl_cval_t *v, uint32_t index);
whirl_error_t *wh_err_code_none(whirl_cval_t *v, uint32_t index);
whirl_error_t *wh_some_string(whirl_cval_t *v, const char *s, size_t n);
whirl_error_t *wh_none(whirl_cval_t *v);
whirl_error_t *wh_new_fields(http_ctx_t *c, flist_t *fl, bool immutable, whirl_cval_t *out);
whirl_error_t *wh_take_fields(hcall_t *h, size_t i, flist_t **out);
whirl_error_t *wh_headers_child(hcall_t *h, hkind_t kind);

/* wasihttp_out.c: outgoing-request, request-options, outgoing-handler,
 * future-incoming-response, incoming-response, and the outbound sides of
 * outgoing-body (a request's), incoming-body and future-trailers (a
 * response's). */
typedef struct wh_def {
    const char *iface; /* "types" or "outgoing-handler" */
    const char *name;
    whirl_error_t *(*fn)(hcall_t *h);
} wh_def_t;
extern const wh_def_t wh_out_defs[];
extern const size_t wh_out_ndefs;

whirl_error_t *wh_out_body_stream(hcall_t *h, hobj_t *body);   /* outgoing-body.write */
whirl_error_t *wh_out_body_finish(hcall_t *h, hobj_t *body);   /* outgoing-body.finish */
whirl_error_t *wh_out_inbody_stream(hcall_t *h, hobj_t *body); /* incoming-body.stream */
whirl_error_t *wh_out_inbody_finish(hcall_t *h, hobj_t *body); /* incoming-body.finish */
whirl_error_t *wh_out_trailers_subscribe(hcall_t *h, hobj_t *t);
whirl_error_t *wh_out_trailers_get(hcall_t *h, hobj_t *t);
/* An object holding an outbound request goes (wh_obj_free). */
void wh_out_obj_free(http_ctx_t *c, hobj_t *o);
/* The instance ends: detach (before the WASI context goes), then release. */
void wh_out_detach_all(http_ctx_t *c);
void wh_out_release_all(http_ctx_t *c);

/* Shared with the wasi:http 0.3 host (wasihttp3.c): an error-code value
 * (case `code`, `msg` for internal-error), header lists to and from the
 * client's form, and the URL a request goes to after the outbound policy
 * (0, or an error-code case with `why`). */
whirl_error_t *wh_set_error_code(whirl_cval_t *v, int code, const char *msg);
ob_fields_t wh_to_ob_fields(const flist_t *fl, bool *oom);
flist_t *wh_from_ob_fields(const ob_fields_t *f);
int wh_out_target(http_ctx_t *c, const outreq_t *rq, char **url, char *why, size_t whylen);
/* A new outbound request of the instance (which keeps a reference); NULL:
 * out of memory, or too many live ones (*limit). */
ob_req_t *wh_out_new_req(http_ctx_t *c, bool *limit);

/* wasi:http 0.3 (wasihttp3.c): its definitions in the serve linker (at
 * each version of w3_versions), the handler export a component has, serving
 * one request with it, and the per-request state's release (before the
 * store goes). */
whirl_error_t *wh3_define(whirl_component_linker_t *linker);
/* The name of the wasi:http/handler export at a version whirl serves (the
 * component's string), or NULL; then *other (if not NULL) is the handler
 * exported at another version, if any. */
const char *wh3_handler_export(whirl_component_t *component, const char **other);
/* "wasi:http/handler@0.3.x, @0.3.0-rc-..." into `buf`, for messages. */
void wh3_served_list(char *buf, size_t len);
/* Serves the request with comp->h3_handler; `hdrs` (the request's headers,
 * Spin's added) is taken. */
void wh3_handle(serve_inst_t *in, http_ctx_t *c, flist_t *hdrs);
void wh3_end(http_ctx_t *c);
void wh3_unlink(void);

/* `-S allow-http` rules that hold for every component (borrowed; NULL:
 * none), besides each component's allowed_outbound_hosts. */
void wh_out_set_global_policy(const ob_policy_t *p);

#endif
