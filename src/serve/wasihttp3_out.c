/* wasi:http 0.3's client import: `wasi:http/client.send`, an async
 * function. Through an async lower it becomes a subtask
 * (whirl_component_call_defer) that the guest's event loop drives: it
 * waits until the guest has written the request body and trailers (into
 * the host sinks request.new attached), hands the request to the outbound
 * client (outbound.c, after the same policy as wasi:http 0.2: denied hosts
 * answer HTTP-request-denied), then reads the response head, body and
 * trailers (woken by the client's I/O thread through an eventfd) and
 * answers ok(response) or err(error-code). The request's transmission
 * future resolves with the outcome of sending it. */
#include <poll.h>
#include <stdint.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "component/component.h"
#include "serve/wasihttp3.h"

typedef enum { WAIT_BODY, WRITE_BODY, WAIT_HEAD, READ_BODY, WAIT_DONE } phase_t;

typedef struct send_op {
    http_ctx_t *c;
    ob_req_t *ob;
    int efd;
    phase_t phase;
    w3body_t *body; /* a reference */
    char *url;
    const char *method;
    char *method_other;
    flist_t *headers;
    bool self;
    size_t written;
    int status;
    flist_t *rheaders;
    uint8_t *rdata;
    size_t rlen, rcap;
} send_op_t;

static void wake(void *env)
{
    uint64_t one = 1;
    ssize_t r = write((int)(intptr_t)env, &one, sizeof one);
    (void)r; /* full counter: already readable */
}

static void op_free(void *env)
{
    send_op_t *s = env;
    if (s->ob) {
        ob_detach(s->ob);
        ob_unuse(s->ob);
    }
    if (s->efd >= 0)
        close(s->efd);
    if (s->body) {
        if (s->body->transmit) /* never sent: the guest cancelled, or the store went */
            wh3_transmit(s->body, NULL, ERR_INTERNAL, "the request was not sent");
        wh3_body_unref(s->body);
    }
    free(s->url);
    free(s->method_other);
    wh_fl_unref(s->headers);
    wh_fl_unref(s->rheaders);
    free(s->rdata);
    free(s);
}

static size_t op_watch(void *env, struct pollfd *fds, uint64_t *deadline_ns)
{
    send_op_t *s = env;
    (void)deadline_ns; /* the store's deadline ends the wait */
    fds[0] = (struct pollfd){.fd = s->efd, .events = POLLIN};
    return 1;
}

/* The answer err(error-code): a copy of `ec`, or case `code` with `msg`;
 * the transmission future gets it too unless the request was sent. */
static whirl_error_t *fail(send_op_t *s, whirl_cval_t *result, const whirl_cval_t *ec,
                           int code, const char *msg)
{
    if (s->body)
        wh3_transmit(s->body, ec, code, msg);
    whirl_error_t *e = whirl_cval_set_case(result, WHIRL_CVAL_RESULT, 1, true);
    if (!e)
        e = ec ? whirl_cval_copy(result->of.variant.payload, ec)
               : wh_set_error_code(result->of.variant.payload, code, msg);
    return e;
}

static void write_body(send_op_t *s)
{
    w3body_t *b = s->body;
    while (s->written < b->len) {
        int64_t room = ob_body_room(s->ob);
        if (room == 0)
            return;
        if (room < 0) { /* the server stopped reading: the response tells more */
            s->phase = WAIT_HEAD;
            return;
        }
        size_t k = b->len - s->written < (uint64_t)room ? b->len - s->written : (size_t)room;
        if (ob_body_write(s->ob, b->data + s->written, k) < 0) { /* 0: all taken */
            s->phase = WAIT_HEAD;
            return;
        }
        s->written += k;
    }
    bool oom = false;
    ob_fields_t tr = wh_to_ob_fields(b->trailers, &oom);
    ob_body_finish(s->ob, b->trailers && b->trailers->n ? &tr : NULL);
    ob_fields_free(&tr);
    s->phase = WAIT_HEAD;
}

static whirl_error_t *start(send_op_t *s, whirl_cval_t *result, bool *done)
{
    w3body_t *b = s->body;
    if (b->too_big) {
        *done = true;
        return fail(s, result, NULL, ERR_INTERNAL, "the request body is larger than the limit");
    }
    if (b->has_trailer_error) {
        *done = true;
        return fail(s, result, &b->trailer_error, 0, NULL);
    }
    bool oom = false;
    ob_fields_t hdrs = wh_to_ob_fields(s->headers, &oom);
    uint64_t deadline = s->c->deadline_ns == UINT64_MAX ? 0 : s->c->deadline_ns;
    ob_spec_t spec = {.method = s->method, .url = s->url, .headers = &hdrs,
                      .has_body = b->has_contents, .deadline_ns = deadline};
    if (s->self && s->c->srv && s->c->srv->local_fd >= 0)
        spec.abstract_unix = s->c->srv->local_name;
    /* The body the guest wrote goes in before the start (as far as the
     * client buffers it), so that a complete body is sent with its length,
     * or chunked with its trailers. */
    if (b->has_contents) {
        s->phase = WRITE_BODY;
        write_body(s);
    }
    char why[512] = "";
    int rc = oom ? ERR_INTERNAL : ob_start(s->ob, &spec, why, sizeof why);
    ob_fields_free(&hdrs);
    if (rc) {
        *done = true;
        return fail(s, result, NULL, rc, oom ? "out of memory" : why);
    }
    if (!b->has_contents)
        s->phase = WAIT_HEAD;
    return NULL;
}

static whirl_error_t *op_poll(void *env, whirl_store_t *store, whirl_cval_t *result,
                              bool *done)
{
    send_op_t *s = env;
    uint64_t drained;
    while (read(s->efd, &drained, sizeof drained) > 0) {
    }
    *done = false;
    char msg[512] = "";
    int err = 0;
    whirl_error_t *e = NULL;
    if (s->phase == WAIT_BODY) {
        if (!s->body->ended || !s->body->trailers_done)
            return NULL; /* the guest is still writing them */
        if ((e = start(s, result, done)) || *done)
            return e;
    }
    if (s->phase == WRITE_BODY)
        write_body(s);
    if (s->phase == WAIT_HEAD) {
        if (!ob_head_ready(s->ob))
            return NULL;
        ob_fields_t hdrs = {0};
        s->status = ob_head(s->ob, &hdrs, &err, msg, sizeof msg);
        if (!s->status) {
            *done = true;
            return fail(s, result, NULL, err, msg);
        }
        s->rheaders = wh_from_ob_fields(&hdrs);
        ob_fields_free(&hdrs);
        if (!s->rheaders) {
            *done = true;
            return fail(s, result, NULL, ERR_INTERNAL, "out of memory");
        }
        wh3_transmit(s->body, NULL, -1, NULL);
        s->phase = READ_BODY;
    }
    while (s->phase == READ_BODY) {
        uint8_t buf[16384];
        int64_t n = ob_read(s->ob, buf, sizeof buf, &err, msg, sizeof msg);
        if (n == 0)
            return NULL;
        if (n == OB_CLOSED) {
            s->phase = WAIT_DONE;
        } else if (n < 0) {
            *done = true;
            return fail(s, result, NULL, err, msg);
        } else {
            if (s->rlen + (size_t)n > MAX_PENDING) {
                *done = true;
                return fail(s, result, NULL, ERR_INTERNAL,
                            "the response body is larger than the limit");
            }
            if (s->rlen + (size_t)n > s->rcap) {
                size_t cap = s->rcap ? s->rcap * 2 : 16384;
                while (cap < s->rlen + (size_t)n)
                    cap *= 2;
                uint8_t *d = realloc(s->rdata, cap);
                if (!d) {
                    *done = true;
                    return fail(s, result, NULL, ERR_INTERNAL, "out of memory");
                }
                s->rdata = d;
                s->rcap = cap;
            }
            memcpy(s->rdata + s->rlen, buf, (size_t)n);
            s->rlen += (size_t)n;
        }
    }
    if (!ob_done(s->ob))
        return NULL;
    ob_fields_t tr = {0};
    if ((err = ob_trailers(s->ob, &tr, msg, sizeof msg))) {
        *done = true;
        return fail(s, result, NULL, err, msg);
    }
    flist_t *trl = tr.n ? wh_from_ob_fields(&tr) : NULL;
    ob_fields_free(&tr);
    serve_inst_t *in = whirl_store_data(store);
    wh3_ctx_t *x = in && in->http ? ((http_ctx_t *)in->http)->h3 : NULL;
    w3obj_t *o;
    uint32_t rep;
    *done = true;
    if (!x || (e = wh3_obj_add(x, W3_RESPONSE, &o, &rep))) {
        wh_fl_unref(trl);
        return e ? e : trap("client.send: the request's context is gone");
    }
    o->status = (uint16_t)s->status;
    o->fl = s->rheaders;
    o->rbody = s->rdata;
    o->rlen = s->rlen;
    o->rtrailers = trl;
    o->immutable = true;
    s->rheaders = NULL;
    s->rdata = NULL;
    whirl_cval_t *p;
    if ((e = wh_ok(result, &p)))
        return e;
    wh3_set_own(p, W3_RESPONSE, rep);
    return NULL;
}

static const whirl_component_pending_ops_t send_ops = {op_watch, op_poll, op_free};

/* Without an async lower the call must finish before returning: the loop
 * the engine would run, here (the body must be complete already). */
static whirl_error_t *run_now(send_op_t *s, whirl_store_t *store, whirl_cval_t *result)
{
    whirl_error_t *e = NULL;
    for (;;) {
        bool done = false;
        if ((e = op_poll(s, store, result, &done)) || done)
            break;
        if (s->phase == WAIT_BODY) {
            e = trap("client.send: called synchronously before the request body was written");
            break;
        }
        uint64_t until = whirl_store_deadline_ns(store), now = whirl_monotonic_now();
        if (until != UINT64_MAX && now >= until) {
            e = trap("client.send: the request's deadline passed");
            break;
        }
        struct pollfd p = {.fd = s->efd, .events = POLLIN};
        int ms = until == UINT64_MAX ? 1000 : (int)((until - now) / 1000000 + 1);
        poll(&p, 1, ms > 1000 ? 1000 : ms);
    }
    op_free(s);
    return e;
}

whirl_error_t *wh3_send(w3call_t *h)
{
    w3obj_t *o;
    uint32_t rep;
    whirl_error_t *e = wh3_arg(h, 0, W3_REQUEST, &o, &rep);
    if (e)
        return e;
    char why[512] = "";
    char *url = NULL;
    int rc = wh_out_target(h->c, &o->rq, &url, why, sizeof why);
    if (rc) {
        /* Denied or malformed: the guest's error-code, never a trap. */
        if (o->body)
            wh3_transmit(o->body, NULL, rc, why);
        wh3_obj_free(h->x, o);
        e = whirl_cval_set_case(h->res, WHIRL_CVAL_RESULT, 1, true);
        return e ? e : wh_set_error_code(h->res->of.variant.payload, rc, why);
    }
    send_op_t *s = calloc(1, sizeof *s);
    bool limit = false;
    if (s)
        s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s && s->efd >= 0)
        s->ob = wh_out_new_req(h->c, &limit);
    if (!s || s->efd < 0 || !s->ob) {
        free(url);
        if (s && s->efd >= 0)
            close(s->efd);
        free(s);
        if (o->body)
            wh3_transmit(o->body, NULL, limit ? 11 : ERR_INTERNAL, "out of memory");
        wh3_obj_free(h->x, o);
        if (limit) { /* connection-limit-reached */
            e = whirl_cval_set_case(h->res, WHIRL_CVAL_RESULT, 1, true);
            return e ? e : wh_set_error_code(h->res->of.variant.payload, 11, NULL);
        }
        return trap("out of memory");
    }
    ob_use(s->ob);
    ob_set_notify(s->ob, wake, (void *)(intptr_t)s->efd);
    s->c = h->c;
    s->url = url;
    s->self = !o->rq.authority || strcasecmp(o->rq.authority, "self") == 0 ||
              strncasecmp(o->rq.authority, "self:", 5) == 0;
    if (o->rq.method >= 9) {
        s->method_other = o->rq.method_other;
        o->rq.method_other = NULL;
    }
    s->method = o->rq.method < 9 ? wh3_method_name(o) : s->method_other;
    s->headers = o->fl;
    o->fl = NULL;
    s->body = o->body;
    o->body = NULL;
    if (!s->body) {
        if (!(s->body = wh3_body_new())) {
            op_free(s);
            wh3_obj_free(h->x, o);
            return trap("out of memory");
        }
        s->body->ended = s->body->trailers_done = true;
    }
    wh3_obj_free(h->x, o);
    if (whirl_component_call_can_defer()) {
        whirl_component_call_defer(&send_ops, s);
        return NULL;
    }
    return run_now(s, h->store, h->res);
}
