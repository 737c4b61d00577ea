/* wasi:http 0.3's host state, shared by wasihttp3.c (types, the handler
 * export) and wasihttp3_out.c (the client import). */
#ifndef WHIRL_SERVE_WASIHTTP3_H
#define WHIRL_SERVE_WASIHTTP3_H

#include <errno.h>

#include "serve/wasihttp.h"

/* wasi:http 0.3 is defined at every version of src/wasi3's w3_versions
 * (the release and the release candidates in use). */
#include "wasi3/versions.h"

typedef enum w3kind { W3_FIELDS = 0, W3_REQUEST, W3_RESPONSE, W3_OPTIONS, W3_KINDS } w3kind_t;

typedef struct wh3_ctx wh3_ctx_t;

/* A request's or response's body as the guest writes it (the host is the
 * sink of its contents stream and trailers future), shared by the object
 * and the two sinks. */
typedef struct w3body {
    int refs;
    wh3_ctx_t *ctx; /* for trailers handles; NULL once the request ended */
    uint8_t *data;
    size_t len, cap;
    bool has_contents, ended, too_big;
    bool trailers_done, has_trailer_error;
    flist_t *trailers;          /* NULL: none */
    whirl_cval_t trailer_error; /* the error-code the guest wrote instead */
    struct whirl_cstream *transmit; /* the future request.new/response.new returned */
} w3body_t;

typedef struct w3obj {
    uint8_t kind; /* W3_KINDS: free */
    bool immutable;
    bool incoming;     /* the request being served: its body not read yet */
    flist_t *fl;       /* fields; a request's or response's headers */
    w3body_t *body;    /* a request or response the guest made */
    outreq_t rq;       /* a request's target */
    uint16_t status;   /* a response */
    uint8_t *rbody;    /* an outbound response's body and trailers */
    size_t rlen;
    flist_t *rtrailers;
} w3obj_t;

struct wh3_ctx {
    http_ctx_t *c;
    w3obj_t *objs;
    uint32_t nobjs, cap;
};

typedef struct w3call {
    http_ctx_t *c;
    wh3_ctx_t *x;
    whirl_store_t *store;
    const whirl_cval_t *args;
    size_t nargs;
    whirl_cval_t *res;
} w3call_t;

typedef struct w3def {
    const char *iface;
    const char *name;
    whirl_error_t *(*fn)(w3call_t *h);
} w3def_t;

w3obj_t *wh3_obj_get(wh3_ctx_t *x, uint32_t rep, w3kind_t kind);
whirl_error_t *wh3_obj_add(wh3_ctx_t *x, w3kind_t kind, w3obj_t **out, uint32_t *rep);
void wh3_obj_free(wh3_ctx_t *x, w3obj_t *o);
whirl_error_t *wh3_arg(const w3call_t *h, size_t i, w3kind_t kind, w3obj_t **out,
                       uint32_t *rep);
void wh3_set_own(whirl_cval_t *v, w3kind_t kind, uint32_t rep);
const char *wh3_method_name(const w3obj_t *o);
w3body_t *wh3_body_new(void);
void wh3_body_unref(w3body_t *b);
/* Resolves the body's transmission future: ok (ec NULL, code < 0), err(a
 * copy of `ec`) or err(case `code`, `msg`). Once. */
void wh3_transmit(w3body_t *b, const whirl_cval_t *ec, int code, const char *msg);
/* wasi:http/client.send (wasihttp3_out.c). */
whirl_error_t *wh3_send(w3call_t *h);
/* The resource types go (serve_wasihttp_unlink). */
void wh3_unlink(void);

#endif
