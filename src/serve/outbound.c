/* The outbound HTTP client: libcurl's multi interface on one I/O thread.
 *
 * The thread owns the multi handle and every easy handle. It is an event
 * loop in the form any loop can host: curl tells it which sockets to watch
 * and when its timer is due (CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION), the
 * loop waits in epoll for those sockets, an eventfd and the nearest timer,
 * and hands each event to curl_multi_socket_action. Guests write the
 * eventfd when they start, feed, drain or give up a request. (An epoll or
 * libuv loop of the server's can take the same callbacks instead.) Guests
 * touch only the request's shared state, under its lock:
 *  - the request body: a bounded buffer the guest fills and curl's read
 *    callback drains; an empty buffer pauses the upload until the guest
 *    writes or finishes;
 *  - the response: head (status, headers), a bounded body buffer curl's
 *    write callback fills (a full one pauses the download until the guest
 *    reads), trailers, and the outcome.
 * curl_easy_pause may call the callbacks at once, so the thread decides
 * under the lock and acts after releasing it.
 *
 * Timeouts: connect through curl; first byte and between bytes, and the
 * guest's deadline, by the thread's own timer check. Redirects are not
 * followed (wasi:http hands 3xx to the guest), proxies in the environment
 * are ignored, and only http and https are spoken. TLS verifies peers
 * against the system store plus the optional extra CA file. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <curl/curl.h>

#include "serve/outbound.h"

enum {
    BODY_CAP = 64 * 1024,        /* request body bytes buffered once sending */
    UNSENT_CAP = 64 * 1024,      /* ... before the request starts */
    RESP_CAP = 64 * 1024,        /* response body bytes buffered (plus one curl chunk) */
    HEAD_CAP = 256 * 1024,       /* response header (or trailer) section bytes */
    MAX_FIELDS = 1000,
};

typedef enum { ST_NEW, ST_RUNNING, ST_DONE } state_t;

/* The deadline ends a transfer this long after it passed: the guest's own
 * deadline (its `interrupt` trap, then the instance's end, which cancels
 * the transfer) comes first; this only frees a connection nobody waits on. */
#define DEADLINE_SLACK_NS 1000000000ull

struct ob_req {
    pthread_mutex_t mu;
    atomic_int refs;
    /* I/O thread only. */
    ob_req_t *next;          /* the thread's active list, or the start queue */
    CURL *easy;
    struct curl_slist *hdrs, *trailer_list;
    char *url;
    char errbuf[CURL_ERROR_SIZE];
    bool send_paused_io, recv_paused_io;

    /* Shared, under mu. */
    state_t state;
    bool cancelled;
    int users;               /* guest handles that can still see it */
    void (*notify)(void *env);
    void *notify_env;
    /* request body */
    bool has_body, body_done, send_paused, send_closed, body_written;
    uint8_t *sb;
    size_t slen, soff;
    ob_fields_t req_trailers;
    /* response */
    bool head_ready, in_trailers, recv_paused;
    int status;
    size_t head_bytes;
    ob_fields_t rhead, rtrail;
    uint8_t *rb;
    size_t rlen, roff;
    int err;                 /* error-code case once failed; -1: none */
    char errmsg[256];
    /* timers (monotonic ns; 0: none) */
    uint64_t first_byte_ns, between_ns, deadline_ns, last_byte_ns, start_ns;
    uint64_t sent_ns;        /* the request was all handed over (body finished) */
};

static struct {
    pthread_mutex_t mu;      /* the fields below */
    bool running;
    bool stop;
    pthread_t thread;
    CURLM *multi;
    int epfd, wakefd;        /* the loop's epoll and its wake-up eventfd */
    uint64_t curl_due_ns;    /* curl's timer (I/O thread); UINT64_MAX: none */
    ob_req_t *queue;         /* started, not yet added to the multi handle */
    ob_req_t *active;        /* I/O thread only */
    char *extra_ca;          /* the extra CA file's path */
    struct curl_blob ca_blob; /* system store + extra CA (PEM), built once */
    bool ca_built;
} L = {.mu = PTHREAD_MUTEX_INITIALIZER, .epfd = -1, .wakefd = -1};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- fields ---- */

void ob_fields_free(ob_fields_t *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->names[i]);
        free(f->vals[i]);
    }
    free(f->names);
    free(f->vals);
    free(f->vlens);
    memset(f, 0, sizeof *f);
}

static bool fields_add(ob_fields_t *f, const char *name, size_t nlen, const char *val,
                       size_t vlen)
{
    if (f->n >= MAX_FIELDS)
        return false;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        char **nn = realloc(f->names, cap * sizeof *nn);
        if (nn)
            f->names = nn;
        uint8_t **nv = realloc(f->vals, cap * sizeof *nv);
        if (nv)
            f->vals = nv;
        size_t *nl = realloc(f->vlens, cap * sizeof *nl);
        if (nl)
            f->vlens = nl;
        if (!nn || !nv || !nl)
            return false;
        f->cap = cap;
    }
    char *n = strndup(name, nlen);
    uint8_t *v = malloc(vlen ? vlen : 1);
    if (!n || !v) {
        free(n);
        free(v);
        return false;
    }
    for (size_t i = 0; i < nlen; i++)
        n[i] = (char)(n[i] >= 'A' && n[i] <= 'Z' ? n[i] + 32 : n[i]);
    memcpy(v, val, vlen);
    f->names[f->n] = n;
    f->vals[f->n] = v;
    f->vlens[f->n] = vlen;
    f->n++;
    return true;
}

static void fields_move(ob_fields_t *to, ob_fields_t *from)
{
    *to = *from;
    memset(from, 0, sizeof *from);
}

/* ---- requests ---- */

ob_req_t *ob_new(void)
{
    ob_req_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    pthread_mutex_init(&r->mu, NULL);
    atomic_init(&r->refs, 1);
    r->err = -1;
    return r;
}

void ob_ref(ob_req_t *r)
{
    atomic_fetch_add(&r->refs, 1);
}

void ob_unref(ob_req_t *r)
{
    if (!r || atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    if (r->easy)
        curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->hdrs);
    curl_slist_free_all(r->trailer_list);
    free(r->url);
    free(r->sb);
    free(r->rb);
    ob_fields_free(&r->req_trailers);
    ob_fields_free(&r->rhead);
    ob_fields_free(&r->rtrail);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static void wake_locked(void)
{
    uint64_t one = 1;
    if (L.wakefd >= 0) {
        ssize_t w = write(L.wakefd, &one, sizeof one);
        (void)w; /* a full counter wakes the loop as well */
    }
}

static void wake_loop(void)
{
    pthread_mutex_lock(&L.mu);
    wake_locked();
    pthread_mutex_unlock(&L.mu);
}

static void notify_locked(ob_req_t *r)
{
    if (r->notify)
        r->notify(r->notify_env);
}

void ob_set_notify(ob_req_t *r, void (*notify)(void *env), void *env)
{
    pthread_mutex_lock(&r->mu);
    r->notify = notify;
    r->notify_env = env;
    pthread_mutex_unlock(&r->mu);
}

void ob_cancel(ob_req_t *r)
{
    pthread_mutex_lock(&r->mu);
    bool running = r->state == ST_RUNNING && !r->cancelled;
    r->cancelled = true;
    pthread_mutex_unlock(&r->mu);
    if (running)
        wake_loop();
}

void ob_use(ob_req_t *r)
{
    pthread_mutex_lock(&r->mu);
    r->users++;
    pthread_mutex_unlock(&r->mu);
}

void ob_unuse(ob_req_t *r)
{
    pthread_mutex_lock(&r->mu);
    bool last = --r->users == 0;
    pthread_mutex_unlock(&r->mu);
    if (last)
        ob_cancel(r);
}

bool ob_in_use(ob_req_t *r)
{
    pthread_mutex_lock(&r->mu);
    bool used = r->users > 0;
    pthread_mutex_unlock(&r->mu);
    return used;
}

void ob_detach(ob_req_t *r)
{
    ob_set_notify(r, NULL, NULL);
    ob_cancel(r);
}

/* Ends the request (lock held): the outcome, then the guest is woken. */
static void fail_locked(ob_req_t *r, int err, const char *msg)
{
    if (r->err < 0 && r->state != ST_DONE) {
        r->err = err;
        snprintf(r->errmsg, sizeof r->errmsg, "%s", msg ? msg : "");
    }
    r->state = ST_DONE;
    notify_locked(r);
}

/* ---- request body (guest side) ---- */

int64_t ob_body_room(ob_req_t *r)
{
    pthread_mutex_lock(&r->mu);
    int64_t room;
    if (r->body_done || r->send_closed || r->cancelled)
        room = OB_CLOSED;
    else if (r->state == ST_DONE && r->err >= 0)
        room = OB_FAILED;
    else if (r->state == ST_DONE)
        room = OB_CLOSED; /* the server answered without reading it all */
    else {
        size_t cap = r->state == ST_NEW ? UNSENT_CAP : BODY_CAP, held = r->slen - r->soff;
        room = held < cap ? (int64_t)(cap - held) : 0;
    }
    pthread_mutex_unlock(&r->mu);
    return room;
}

bool ob_body_ready(ob_req_t *r)
{
    return ob_body_room(r) != 0;
}

int64_t ob_body_write(ob_req_t *r, const uint8_t *buf, size_t len)
{
    pthread_mutex_lock(&r->mu);
    if (r->body_done || r->send_closed || r->cancelled || r->state == ST_DONE) {
        int64_t rc = r->err >= 0 ? OB_FAILED : OB_CLOSED;
        pthread_mutex_unlock(&r->mu);
        return rc;
    }
    if (r->soff && r->soff == r->slen)
        r->soff = r->slen = 0;
    /* Compact, then grow to what is buffered: at most the cap (check-write). */
    if (r->soff) {
        memmove(r->sb, r->sb + r->soff, r->slen - r->soff);
        r->slen -= r->soff;
        r->soff = 0;
    }
    uint8_t *nb = realloc(r->sb, r->slen + len ? r->slen + len : 1);
    if (!nb) {
        pthread_mutex_unlock(&r->mu);
        return OB_FAILED;
    }
    r->sb = nb;
    memcpy(r->sb + r->slen, buf, len);
    r->slen += len;
    r->has_body = true;
    r->body_written = true;
    bool kick = r->state == ST_RUNNING && r->send_paused;
    pthread_mutex_unlock(&r->mu);
    if (kick)
        wake_loop();
    return 0;
}

void ob_body_finish(ob_req_t *r, ob_fields_t *trailers)
{
    pthread_mutex_lock(&r->mu);
    r->body_done = true;
    r->sent_ns = now_ns();
    if (trailers)
        fields_move(&r->req_trailers, trailers);
    bool kick = r->state == ST_RUNNING && r->send_paused;
    pthread_mutex_unlock(&r->mu);
    if (kick)
        wake_loop();
}

void ob_body_abandon(ob_req_t *r)
{
    pthread_mutex_lock(&r->mu);
    bool kick = false;
    if (!r->body_done && !r->body_written) {
        r->body_done = true;
        r->sent_ns = now_ns();
        kick = r->state == ST_RUNNING && r->send_paused;
    } else if (!r->body_done && r->state != ST_DONE && r->err < 0) {
        r->err = OB_ERR_INTERNAL;
        snprintf(r->errmsg, sizeof r->errmsg, "the request body was dropped unfinished");
        kick = r->state == ST_RUNNING && !r->cancelled;
        r->cancelled = true;
    }
    pthread_mutex_unlock(&r->mu);
    if (kick)
        wake_loop();
}

/* ---- response (guest side) ---- */

bool ob_head_ready(ob_req_t *r)
{
    pthread_mutex_lock(&r->mu);
    bool ready = r->head_ready || r->state == ST_DONE;
    pthread_mutex_unlock(&r->mu);
    return ready;
}

int ob_head(ob_req_t *r, ob_fields_t *headers, int *err, char *msg, size_t msglen)
{
    pthread_mutex_lock(&r->mu);
    int status = 0;
    if (r->head_ready) {
        status = r->status;
        fields_move(headers, &r->rhead);
    } else {
        *err = r->err >= 0 ? r->err : OB_ERR_INTERNAL;
        snprintf(msg, msglen, "%s", r->err >= 0 ? r->errmsg : "no response");
    }
    pthread_mutex_unlock(&r->mu);
    return status;
}

int64_t ob_read(ob_req_t *r, uint8_t *buf, size_t len, int *err, char *msg, size_t msglen)
{
    pthread_mutex_lock(&r->mu);
    int64_t n = 0;
    bool kick = false;
    if (r->roff < r->rlen) {
        size_t avail = r->rlen - r->roff;
        n = (int64_t)(avail < len ? avail : len);
        memcpy(buf, r->rb + r->roff, (size_t)n);
        r->roff += (size_t)n;
        if (r->roff == r->rlen)
            r->roff = r->rlen = 0;
        kick = r->recv_paused && r->state == ST_RUNNING;
    } else if (r->state == ST_DONE) {
        if (r->err >= 0) {
            *err = r->err;
            snprintf(msg, msglen, "%s", r->errmsg);
            n = OB_FAILED;
        } else {
            n = OB_CLOSED;
        }
    }
    pthread_mutex_unlock(&r->mu);
    if (kick)
        wake_loop();
    return n;
}

bool ob_readable(ob_req_t *r)
{
    pthread_mutex_lock(&r->mu);
    bool ready = r->roff < r->rlen || r->state == ST_DONE;
    pthread_mutex_unlock(&r->mu);
    return ready;
}

bool ob_done(ob_req_t *r)
{
    pthread_mutex_lock(&r->mu);
    bool done = r->state == ST_DONE;
    pthread_mutex_unlock(&r->mu);
    return done;
}

int ob_trailers(ob_req_t *r, ob_fields_t *trailers, char *msg, size_t msglen)
{
    pthread_mutex_lock(&r->mu);
    int rc = 0;
    if (r->err >= 0) {
        rc = r->err;
        snprintf(msg, msglen, "%s", r->errmsg);
    } else {
        fields_move(trailers, &r->rtrail);
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

/* ---- curl callbacks (I/O thread) ---- */

static size_t read_cb(char *buf, size_t size, size_t nitems, void *env)
{
    ob_req_t *r = env;
    size_t want = size * nitems, n = 0;
    pthread_mutex_lock(&r->mu);
    if (r->cancelled) {
        pthread_mutex_unlock(&r->mu);
        return CURL_READFUNC_ABORT;
    }
    if (r->soff < r->slen) {
        n = r->slen - r->soff < want ? r->slen - r->soff : want;
        memcpy(buf, r->sb + r->soff, n);
        r->soff += n;
        if (r->soff == r->slen)
            r->soff = r->slen = 0;
        notify_locked(r); /* room for the guest */
    } else if (!r->body_done) {
        r->send_paused = true;
        r->send_paused_io = true;
        pthread_mutex_unlock(&r->mu);
        return CURL_READFUNC_PAUSE;
    }
    pthread_mutex_unlock(&r->mu);
    return n; /* 0 with the body done: its end */
}

static int trailer_cb(struct curl_slist **list, void *env)
{
    ob_req_t *r = env;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->req_trailers.n; i++) {
        size_t nl = strlen(r->req_trailers.names[i]), vl = r->req_trailers.vlens[i];
        char *line = malloc(nl + vl + 3);
        if (!line)
            break;
        memcpy(line, r->req_trailers.names[i], nl);
        memcpy(line + nl, ": ", 2);
        memcpy(line + nl + 2, r->req_trailers.vals[i], vl);
        line[nl + 2 + vl] = '\0';
        struct curl_slist *nlst = curl_slist_append(*list, line);
        free(line);
        if (nlst)
            *list = nlst;
    }
    pthread_mutex_unlock(&r->mu);
    return CURL_TRAILERFUNC_OK;
}

static size_t header_cb(char *buf, size_t size, size_t nitems, void *env)
{
    ob_req_t *r = env;
    size_t len = size * nitems, n = len;
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    pthread_mutex_lock(&r->mu);
    r->last_byte_ns = now_ns();
    if (r->cancelled) {
        pthread_mutex_unlock(&r->mu);
        return 0;
    }
    if (!r->in_trailers && n >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
        /* A status line: a 1xx head before this one is forgotten. */
        ob_fields_free(&r->rhead);
        r->head_bytes = 0;
        const char *sp = memchr(buf, ' ', n);
        r->status = sp ? atoi(sp + 1) : 0;
    } else if (n == 0) {
        if (!r->in_trailers && r->status >= 200) {
            r->head_ready = true;
            r->in_trailers = true;
            notify_locked(r);
        }
    } else {
        const char *colon = memchr(buf, ':', n);
        ob_fields_t *f = r->in_trailers ? &r->rtrail : &r->rhead;
        r->head_bytes += n;
        if (colon && colon != buf && r->head_bytes <= HEAD_CAP) {
            const char *v = colon + 1;
            const char *end = buf + n;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
            if (!fields_add(f, buf, (size_t)(colon - buf), v, (size_t)(end - v))) {
                pthread_mutex_unlock(&r->mu);
                return 0;
            }
        } else if (r->head_bytes > HEAD_CAP) {
            r->err = OB_ERR_HTTP_RESPONSE_HEADER_SECTION_SIZE;
            snprintf(r->errmsg, sizeof r->errmsg, "response header section over %d bytes",
                     HEAD_CAP);
            pthread_mutex_unlock(&r->mu);
            return 0;
        }
    }
    pthread_mutex_unlock(&r->mu);
    return len;
}

static size_t write_cb(char *buf, size_t size, size_t nitems, void *env)
{
    ob_req_t *r = env;
    size_t len = size * nitems;
    pthread_mutex_lock(&r->mu);
    if (r->cancelled) {
        pthread_mutex_unlock(&r->mu);
        return 0;
    }
    r->last_byte_ns = now_ns();
    if (r->rlen - r->roff >= RESP_CAP) {
        r->recv_paused = true;
        r->recv_paused_io = true;
        pthread_mutex_unlock(&r->mu);
        return CURL_WRITEFUNC_PAUSE;
    }
    if (r->roff) {
        memmove(r->rb, r->rb + r->roff, r->rlen - r->roff);
        r->rlen -= r->roff;
        r->roff = 0;
    }
    uint8_t *nb = realloc(r->rb, r->rlen + len ? r->rlen + len : 1);
    if (!nb) {
        pthread_mutex_unlock(&r->mu);
        return 0;
    }
    r->rb = nb;
    memcpy(r->rb + r->rlen, buf, len);
    r->rlen += len;
    notify_locked(r);
    pthread_mutex_unlock(&r->mu);
    return len;
}

/* ---- outcome ---- */

static int map_curl_error(ob_req_t *r, CURLcode rc)
{
    long oserr = 0;
    curl_easy_getinfo(r->easy, CURLINFO_OS_ERRNO, &oserr);
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
        return OB_ERR_DNS_ERROR;
    case CURLE_COULDNT_CONNECT:
        return oserr == ENETUNREACH || oserr == EHOSTUNREACH ? OB_ERR_DESTINATION_UNAVAILABLE
                                                             : OB_ERR_CONNECTION_REFUSED;
    case CURLE_OPERATION_TIMEDOUT:
        return OB_ERR_CONNECTION_TIMEOUT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_CIPHER:
    case CURLE_USE_SSL_FAILED:
        return OB_ERR_TLS_PROTOCOL;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
        return OB_ERR_TLS_CERTIFICATE;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
        return OB_ERR_CONNECTION_TERMINATED;
    case CURLE_PARTIAL_FILE:
        return OB_ERR_HTTP_RESPONSE_INCOMPLETE;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_BAD_CONTENT_ENCODING:
        return OB_ERR_HTTP_PROTOCOL;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return OB_ERR_HTTP_REQUEST_URI_INVALID;
    default:
        return OB_ERR_INTERNAL;
    }
}

/* The transfer is over (I/O thread): remove it and publish the outcome. */
static void finish(ob_req_t *r, CURLcode rc, int err, const char *msg)
{
    curl_multi_remove_handle(L.multi, r->easy);
    pthread_mutex_lock(&r->mu);
    if (err >= 0) {
        fail_locked(r, err, msg);
    } else if (rc != CURLE_OK) {
        int e = r->err >= 0 ? r->err : map_curl_error(r, rc);
        const char *text = r->err >= 0 ? r->errmsg
                           : r->errbuf[0]  ? r->errbuf
                                           : curl_easy_strerror(rc);
        char copy[sizeof r->errmsg];
        snprintf(copy, sizeof copy, "%s", text);
        r->err = -1;
        fail_locked(r, e, copy);
    } else {
        r->state = ST_DONE;
        notify_locked(r);
    }
    r->send_closed = true;
    pthread_mutex_unlock(&r->mu);
    curl_easy_cleanup(r->easy);
    r->easy = NULL;
    ob_unref(r); /* the thread's reference */
}

/* ---- the I/O thread ---- */

/* When the first-byte timeout starts (lock held): once the request is all
 * handed over (the guest may stream its body for long); 0: not yet. */
static uint64_t first_byte_from(const ob_req_t *r)
{
    if (!r->has_body)
        return r->start_ns;
    return !r->body_done ? 0 : r->sent_ns > r->start_ns ? r->sent_ns : r->start_ns;
}

/* curl's socket callback: watch `s` for what curl asks. */
static int socket_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)e, (void)userp, (void)socketp;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(L.epfd, EPOLL_CTL_DEL, s, NULL); /* may be closed already: fine */
        return 0;
    }
    struct epoll_event ev = {.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) |
                                       (what & CURL_POLL_OUT ? EPOLLOUT : 0u),
                             .data.fd = s};
    if (epoll_ctl(L.epfd, EPOLL_CTL_MOD, s, &ev) != 0 &&
        epoll_ctl(L.epfd, EPOLL_CTL_ADD, s, &ev) != 0)
        return -1;
    return 0;
}

/* curl's timer callback: when to call it back with CURL_SOCKET_TIMEOUT. */
static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
    (void)m, (void)userp;
    L.curl_due_ns = timeout_ms < 0 ? UINT64_MAX : now_ns() + (uint64_t)timeout_ms * 1000000u;
    return 0;
}

/* Publishes the transfers curl has finished. */
static void reap_done(void)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(L.multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        ob_req_t *r = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        CURLcode rc = m->data.result;
        for (ob_req_t **pp = &L.active; *pp; pp = &(*pp)->next)
            if (*pp == r) {
                *pp = r->next;
                break;
            }
        finish(r, rc, -1, NULL);
    }
}

static void *loop_main(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&L.mu);
        bool stop = L.stop;
        ob_req_t *q = L.queue;
        L.queue = NULL;
        pthread_mutex_unlock(&L.mu);
        while (q) {
            ob_req_t *n = q->next;
            if (curl_multi_add_handle(L.multi, q->easy) != CURLM_OK) {
                pthread_mutex_lock(&q->mu);
                fail_locked(q, OB_ERR_INTERNAL, "the HTTP client refused the request");
                pthread_mutex_unlock(&q->mu);
                curl_easy_cleanup(q->easy);
                q->easy = NULL;
                ob_unref(q);
            } else {
                q->next = L.active;
                L.active = q;
            }
            q = n;
        }
        /* Per request: cancellation, unpausing, timers. */
        uint64_t now = now_ns(), next_timer = UINT64_MAX;
        for (ob_req_t **pp = &L.active; *pp;) {
            ob_req_t *r = *pp;
            int err = -1;
            const char *msg = NULL;
            int unpause = 0;
            pthread_mutex_lock(&r->mu);
            if (r->cancelled || stop) {
                err = OB_ERR_INTERNAL;
                msg = "cancelled";
            } else if (r->deadline_ns && now >= r->deadline_ns) {
                err = OB_ERR_HTTP_RESPONSE_TIMEOUT;
                msg = "the guest's deadline passed";
            } else if (!r->head_ready && r->first_byte_ns && first_byte_from(r) &&
                       now >= first_byte_from(r) + r->first_byte_ns) {
                err = OB_ERR_CONNECTION_READ_TIMEOUT;
                msg = "no response within the first-byte timeout";
            } else if (r->head_ready && r->between_ns && !r->recv_paused &&
                       now >= r->last_byte_ns + r->between_ns) {
                err = OB_ERR_CONNECTION_READ_TIMEOUT;
                msg = "no body bytes within the between-bytes timeout";
            } else {
                if (r->send_paused_io && (r->slen > r->soff || r->body_done)) {
                    r->send_paused = r->send_paused_io = false;
                    unpause |= CURLPAUSE_SEND;
                }
                if (r->recv_paused_io && r->rlen - r->roff < RESP_CAP) {
                    r->recv_paused = r->recv_paused_io = false;
                    r->last_byte_ns = now; /* the guest's pause is not the server's */
                    unpause |= CURLPAUSE_RECV;
                }
                uint64_t t[3] = {r->deadline_ns,
                                 !r->head_ready && r->first_byte_ns && first_byte_from(r)
                                     ? first_byte_from(r) + r->first_byte_ns : 0,
                                 r->head_ready && r->between_ns && !r->recv_paused
                                     ? r->last_byte_ns + r->between_ns : 0};
                for (int i = 0; i < 3; i++)
                    if (t[i] && t[i] < next_timer)
                        next_timer = t[i];
            }
            bool recv_still_paused = r->recv_paused_io, send_still_paused = r->send_paused_io;
            pthread_mutex_unlock(&r->mu);
            if (err >= 0) {
                *pp = r->next;
                finish(r, CURLE_OK, err, msg);
                continue;
            }
            if (unpause)
                curl_easy_pause(r->easy, (recv_still_paused ? CURLPAUSE_RECV : 0) |
                                             (send_still_paused ? CURLPAUSE_SEND : 0));
            pp = &r->next;
        }
        if (stop && !L.active)
            break;
        int running = 0;
        if (L.curl_due_ns <= now_ns()) {
            L.curl_due_ns = UINT64_MAX;
            curl_multi_socket_action(L.multi, CURL_SOCKET_TIMEOUT, 0, &running);
        }
        reap_done();
        /* Sleep until a socket, a wake-up or the nearest timer. */
        uint64_t due = next_timer < L.curl_due_ns ? next_timer : L.curl_due_ns;
        int timeout_ms = 1000;
        if (due != UINT64_MAX) {
            uint64_t now2 = now_ns();
            uint64_t ms = due > now2 ? (due - now2 + 999999) / 1000000 : 0;
            if (ms < (uint64_t)timeout_ms)
                timeout_ms = (int)ms;
        }
        struct epoll_event ev[64];
        int n = epoll_wait(L.epfd, ev, 64, timeout_ms);
        for (int i = 0; i < n; i++) {
            if (ev[i].data.fd == L.wakefd) {
                uint64_t v;
                ssize_t rd = read(L.wakefd, &v, sizeof v);
                (void)rd;
                continue;
            }
            int mask = (ev[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                       (ev[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                       (ev[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
            curl_multi_socket_action(L.multi, ev[i].data.fd, mask, &running);
        }
        reap_done();
    }
    return NULL;
}

static void global_init(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

/* Starts the thread on first use (L.mu held). */
static bool ensure_loop(void)
{
    if (L.running)
        return true;
    L.multi = curl_multi_init();
    L.epfd = epoll_create1(EPOLL_CLOEXEC);
    L.wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = L.wakefd};
    if (!L.multi || L.epfd < 0 || L.wakefd < 0 ||
        epoll_ctl(L.epfd, EPOLL_CTL_ADD, L.wakefd, &ev) != 0)
        goto fail;
    curl_multi_setopt(L.multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    curl_multi_setopt(L.multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(L.multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    L.curl_due_ns = UINT64_MAX;
    L.stop = false;
    if (pthread_create(&L.thread, NULL, loop_main, NULL) != 0)
        goto fail;
    L.running = true;
    return true;
fail:
    if (L.multi)
        curl_multi_cleanup(L.multi);
    L.multi = NULL;
    if (L.epfd >= 0)
        close(L.epfd);
    if (L.wakefd >= 0)
        close(L.wakefd);
    L.epfd = L.wakefd = -1;
    return false;
}

void ob_client_shutdown(void)
{
    pthread_mutex_lock(&L.mu);
    if (!L.running) {
        pthread_mutex_unlock(&L.mu);
        return;
    }
    L.stop = true;
    wake_locked();
    pthread_mutex_unlock(&L.mu);
    pthread_join(L.thread, NULL);
    pthread_mutex_lock(&L.mu);
    curl_multi_cleanup(L.multi); /* its socket callbacks still need epfd */
    L.multi = NULL;
    close(L.epfd);
    close(L.wakefd);
    L.epfd = L.wakefd = -1;
    L.running = false;
    pthread_mutex_unlock(&L.mu);
}

/* ---- TLS trust ---- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 65536 > cap) {
            cap = cap ? cap * 2 : 262144;
            if (cap > (64u << 20)) /* a CA bundle, not a disk image */
                break;
            char *nb = realloc(buf, cap + 1);
            if (!nb)
                break;
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    *len = n;
    return buf;
}

bool ob_client_set_extra_ca(const char *path, char *why, size_t whylen)
{
    size_t len = 0;
    char *pem = path ? read_file(path, &len) : NULL;
    if (path && (!pem || !strstr(pem, "-----BEGIN CERTIFICATE-----"))) {
        snprintf(why, whylen, "CA file '%s': %s", path,
                 pem ? "holds no PEM certificate" : strerror(errno));
        free(pem);
        return false;
    }
    free(pem);
    pthread_mutex_lock(&L.mu);
    free(L.extra_ca);
    L.extra_ca = path ? strdup(path) : NULL;
    free(L.ca_blob.data);
    L.ca_blob.data = NULL;
    L.ca_built = false;
    pthread_mutex_unlock(&L.mu);
    return true;
}

char *ob_client_extra_ca(void)
{
    pthread_mutex_lock(&L.mu);
    char *path = L.extra_ca ? strdup(L.extra_ca) : NULL;
    pthread_mutex_unlock(&L.mu);
    return path;
}

/* With an extra CA: the system bundle (curl's default CA file) followed by
 * it, as one in-memory bundle, since CURLOPT_CAINFO replaces the store. */
static void build_ca_blob_locked(CURL *probe)
{
    if (L.ca_built || !L.extra_ca)
        return;
    L.ca_built = true;
    char *sys_path = NULL;
    curl_easy_getinfo(probe, CURLINFO_CAINFO, &sys_path);
    size_t sl = 0, el = 0;
    char *sys = sys_path ? read_file(sys_path, &sl) : NULL;
    char *extra = read_file(L.extra_ca, &el);
    char *blob = malloc(sl + el + 2);
    if (blob) {
        if (sys)
            memcpy(blob, sys, sl);
        blob[sl] = '\n';
        if (extra)
            memcpy(blob + sl + 1, extra, el);
        L.ca_blob.data = blob;
        L.ca_blob.len = sl + 1 + el;
        L.ca_blob.flags = CURL_BLOB_NOCOPY;
    }
    free(sys);
    free(extra);
}

/* ---- starting ---- */

static bool has_header(const ob_fields_t *h, const char *name)
{
    for (size_t i = 0; h && i < h->n; i++)
        if (strcasecmp(h->names[i], name) == 0)
            return true;
    return false;
}

static int64_t content_length(const ob_fields_t *h)
{
    for (size_t i = 0; h && i < h->n; i++)
        if (strcasecmp(h->names[i], "content-length") == 0) {
            char tmp[24];
            if (h->vlens[i] == 0 || h->vlens[i] >= sizeof tmp)
                return -2;
            memcpy(tmp, h->vals[i], h->vlens[i]);
            tmp[h->vlens[i]] = '\0';
            if (strspn(tmp, "0123456789") != h->vlens[i])
                return -2;
            return strtoll(tmp, NULL, 10);
        }
    return -1;
}

int ob_start(ob_req_t *r, const ob_spec_t *s, char *why, size_t whylen)
{
    pthread_once(&global_once, global_init);
    CURL *e = curl_easy_init();
    r->url = strdup(s->url);
    if (!e || !r->url) {
        if (e)
            curl_easy_cleanup(e);
        snprintf(why, whylen, "out of memory");
        return OB_ERR_INTERNAL;
    }
    /* The guest's headers, and curl's own defaults suppressed (an empty
     * "Name:" removes one). */
    struct curl_slist *hl = NULL;
    bool ok = true;
    int64_t clen = content_length(s->headers);
    for (size_t i = 0; ok && s->headers && i < s->headers->n; i++) {
        const char *name = s->headers->names[i];
        if (strcasecmp(name, "content-length") == 0 || strcasecmp(name, "expect") == 0)
            continue; /* framing is curl's, from what the guest sends */
        size_t nl = strlen(name), vl = s->headers->vlens[i];
        char *line = malloc(nl + vl + 3);
        if (!line) {
            ok = false;
            break;
        }
        memcpy(line, name, nl);
        /* "Name;" sends an empty value ("Name:" would remove the header). */
        if (vl == 0) {
            line[nl] = ';';
            line[nl + 1] = '\0';
        } else {
            memcpy(line + nl, ": ", 2);
            memcpy(line + nl + 2, s->headers->vals[i], vl);
            line[nl + 2 + vl] = '\0';
        }
        struct curl_slist *n = curl_slist_append(hl, line);
        free(line);
        ok = n != NULL;
        if (n)
            hl = n;
    }
    static const char *const defaults[] = {"Accept:", "Expect:", NULL};
    for (int i = 0; ok && defaults[i]; i++) {
        char name[16];
        snprintf(name, sizeof name, "%.*s", (int)strlen(defaults[i]) - 1, defaults[i]);
        if (has_header(s->headers, name) && strcasecmp(name, "expect") != 0)
            continue;
        struct curl_slist *n = curl_slist_append(hl, defaults[i]);
        ok = n != NULL;
        if (n)
            hl = n;
    }
    pthread_mutex_lock(&r->mu);
    bool has_body = s->has_body || r->slen > 0;
    bool body_done = r->body_done;
    size_t buffered = r->slen - r->soff;
    /* GET and HEAD with nothing written: no body (a guest library may take
     * the body of every request); later writes find the stream closed. */
    if (has_body && !buffered && (strcmp(s->method, "GET") == 0 ||
                                  strcmp(s->method, "HEAD") == 0)) {
        has_body = false;
        r->send_closed = true;
    }
    bool chunked = has_body && !(body_done && clen < 0) && clen < 0;
    if (has_body && r->req_trailers.n)
        chunked = true;
    pthread_mutex_unlock(&r->mu);
    if (ok && chunked && has_body) {
        struct curl_slist *n = curl_slist_append(hl, "Transfer-Encoding: chunked");
        ok = n != NULL;
        if (n)
            hl = n;
    }
    if (!ok) {
        curl_slist_free_all(hl);
        curl_easy_cleanup(e);
        snprintf(why, whylen, "out of memory");
        return OB_ERR_INTERNAL;
    }
    r->hdrs = hl;
    r->easy = e;
    curl_easy_setopt(e, CURLOPT_URL, r->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROXY, ""); /* not the environment's */
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    if (s->connect_timeout_ns)
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                         (long)((s->connect_timeout_ns + 999999) / 1000000));
    if (s->abstract_unix) {
        curl_easy_setopt(e, CURLOPT_ABSTRACT_UNIX_SOCKET, s->abstract_unix);
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    }
    const char *m = s->method;
    if (has_body) {
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(e, CURLOPT_READDATA, r);
        if (!chunked)
            curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
                             (curl_off_t)(clen >= 0 ? clen : (int64_t)buffered));
        if (chunked) {
            curl_easy_setopt(e, CURLOPT_TRAILERFUNCTION, trailer_cb);
            curl_easy_setopt(e, CURLOPT_TRAILERDATA, r);
        }
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    } else if (strcmp(m, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (strcmp(m, "GET") != 0) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    }
    pthread_mutex_lock(&L.mu);
    build_ca_blob_locked(e);
    if (L.ca_blob.data)
        curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &L.ca_blob);
    if (!ensure_loop()) {
        pthread_mutex_unlock(&L.mu);
        snprintf(why, whylen, "the HTTP client thread could not start");
        return OB_ERR_INTERNAL;
    }
    pthread_mutex_lock(&r->mu);
    r->state = ST_RUNNING;
    r->has_body = has_body;
    r->start_ns = r->last_byte_ns = now_ns();
    r->first_byte_ns = s->first_byte_timeout_ns;
    r->between_ns = s->between_bytes_timeout_ns;
    r->deadline_ns = s->deadline_ns ? s->deadline_ns + DEADLINE_SLACK_NS : 0;
    pthread_mutex_unlock(&r->mu);
    ob_ref(r); /* the thread's */
    r->next = L.queue;
    L.queue = r;
    wake_locked();
    pthread_mutex_unlock(&L.mu);
    return 0;
}
