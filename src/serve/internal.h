/* Shared definitions of src/serve/: the server, the request state and the
 * worker pool. See serve.h for the layering. */
#ifndef WHIRL_SERVE_INTERNAL_H
#define WHIRL_SERVE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "serve/serve.h"

struct MHD_Daemon;
struct MHD_Connection;

/* A growable byte buffer read from the front. */
typedef struct sbuf {
    uint8_t *data;
    size_t off, len, cap; /* bytes [off, off+len) are live */
} sbuf_t;

bool sbuf_append(sbuf_t *b, const void *p, size_t n);
size_t sbuf_take(sbuf_t *b, void *out, size_t n);
void sbuf_free(sbuf_t *b);

typedef enum resp_mode {
    RESP_PENDING = 0, /* the guest has not decided yet */
    RESP_FIXED,       /* complete: sent with Content-Length */
    RESP_STREAM,      /* being produced: sent chunked as it comes */
} resp_mode_t;

typedef struct serve_server serve_server_t;
typedef struct serve_gate serve_gate_t;

struct serve_req {
    serve_server_t *srv;
    struct MHD_Connection *conn;
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* the worker waits here for body bytes or output room */
    int refs;               /* HTTP side, worker, streaming response; under mu */

    /* Request line and headers, fixed once dispatched. */
    serve_req_info_t info;
    char *raw_uri;
    sbuf_t strings;          /* backing store of info's strings: one block */
    serve_header_t *hdrs;
    size_t nhdrs, hdr_cap;
    uint64_t start_ns;
    bool started;            /* the access handler has seen the headers */
    bool dispatched;         /* handed to the pool */

    /* Request body, filled by the HTTP thread, drained by the worker. */
    sbuf_t in;
    uint64_t in_total;
    bool in_done;            /* all of it has arrived */
    bool in_too_large;       /* past max_body: the answer is 413 */
    bool in_discard;         /* the worker is done: drop what still comes */
    uint64_t discarded;
    bool waiting_in, waiting_out;
    void (*notify)(void *env); /* also woken when the worker may proceed */
    void *notify_env;
    /* A WAGI guest's stdio wait inside its resumable call (http.c's
     * req_wait): wake_worker moves it to waiter_due, which req_unlock
     * finishes once mu is released. */
    whirl_completion_t *waiter, *waiter_due;

    /* Response, filled by the worker, drained by the HTTP thread. */
    int status;
    serve_header_t *rhdrs;
    size_t nrhdrs;
    sbuf_t rstrings;
    bool resp_started;       /* serve_resp_start was called */
    resp_mode_t mode;
    sbuf_t out;
    uint64_t first_out_ns;   /* when the first body byte came */
    bool out_done;           /* the worker finished the body */
    bool out_error;          /* ... by failing after bytes left: cut the connection */
    bool queued;             /* an MHD response is queued */
    uint64_t bytes_out;      /* body bytes handed to MHD */

    int fd;                  /* the connection's socket, for answer_now (http.c) */
    bool expect_continue;    /* MHD owes the client "100 Continue" before any body */
    bool has_body;           /* a Content-Length above 0 or a chunked body */
    bool answered;           /* answered straight on the socket mid-upload: no more
                                output, MHD drains what comes and closes */
    bool failed;             /* the response is serve_resp_fail's */

    bool suspended;          /* the connection is suspended, waiting for us */
    bool resume_due;         /* ... to be resumed once mu is released (http.c) */
    bool gone;               /* MHD finished with the request (done or client lost) */
    bool worker_done;

    serve_req_t *qnext;      /* pool queue */
    uint64_t enqueued_ns;
    serve_req_t *anext, *aprev; /* the server's list of requests in flight */
    serve_req_t *pnext, *pprev; /* ... of heads MHD has not handed over yet */
    pthread_t http_thread;      /* the MHD thread that owns the connection */
    bool folded;                /* a header came with obs-fold (http.c) */
    bool local;                 /* from the app itself (srv->local_fd) */
};

/* ---- fields.c ---- */

/* An RFC 9110 token (header names, methods): one or more tchars. */
bool serve_http_token(const char *s, size_t n);
/* An RFC 9110 field value: no control bytes but HTAB, no DEL. */
bool serve_http_field_value(const uint8_t *v, size_t n);
/* Checks a request head for ambiguous framing or invalid syntax (`folded`:
 * a header came with obs-fold): 0 if it may go on, else the status to
 * refuse it with (400, or 501 for a transfer coding other than chunked)
 * and *why, a static reason. */
int serve_http_check_head(const serve_req_info_t *info, bool folded, const char **why);

/* ---- pool.c ---- */

typedef struct serve_pool serve_pool_t;

serve_pool_t *serve_pool_new(serve_server_t *srv, unsigned workers, unsigned max_queue,
                             uint64_t queue_timeout_ns);
/* Queues a request for a worker; false if the queue is full. */
bool serve_pool_submit(serve_pool_t *p, serve_req_t *r);
/* Fails every queued request with 503, lets the workers finish what they
 * run and joins them. */
void serve_pool_stop(serve_pool_t *p);
void serve_pool_delete(serve_pool_t *p);
void serve_pool_figures(serve_pool_t *p, unsigned *queued, unsigned *max_queue,
                        unsigned *busy, unsigned *workers, unsigned *suspended,
                        uint64_t *resumes);

/* ---- http.c ---- */

struct serve_server {
    const serve_opts_t *opts;
    serve_app_t *app;
    whirl_engine_t *engine;
    serve_pool_t *pool;
    struct MHD_Daemon *daemon;
    int listen_fd;
    serve_gate_t *gate;     /* accepts on listen_fd (gate.c) */
    char listen_host[256];
    char listen_port[16];
    atomic_bool stopping;   /* shutting down: new requests get 503 */
    atomic_bool aborting;   /* grace period over: blocked guests give up */

    pthread_mutex_t mu;     /* the in-flight list, counters, log buffer */
    pthread_cond_t idle_cv; /* signalled when `inflight` or `open_requests` drops to 0 */
    serve_req_t *active;
    serve_req_t *pending;   /* requests between the request line and on_request */
    unsigned inflight;      /* dispatched and not finished by their worker */
    unsigned open_requests; /* begun by MHD (on_uri) and not ended (on_done) */
    serve_counters_t counters;
    char *logbuf;           /* access log lines waiting for a flush */
    size_t loglen, logcap;
    /* `self` outbound requests come over an abstract unix socket that only
     * this process may use (SO_PEERCRED), and run on a thread of their own
     * (up to LOCAL_THREADS_MAX at once, then on the pool), so that a guest
     * waiting on its own app does not need a free worker (http.c). */
    int local_fd;           /* -1: none (self requests then use the TCP listener) */
    char local_name[64];    /* its abstract name, without the leading NUL */
    pthread_t local_thread; /* accepts on local_fd */
    unsigned local_threads; /* requests from local_fd running */
};

/* gate.c: accepts connections on srv->listen_fd and checks each one's
 * first request line before handing it to srv->daemon (which runs with
 * MHD_USE_NO_LISTEN_SOCKET): a malformed line gets 400 and a close, which
 * libmicrohttpd 0.9.75 does not give (gate.c says why). */

serve_gate_t *serve_gate_start(serve_server_t *srv);
/* Stops accepting and closes the connections still without a request
 * line; the listening socket stays the caller's. */
void serve_gate_stop(serve_gate_t *g);

typedef enum serve_line_verdict {
    SERVE_LINE_INCOMPLETE, /* no full line yet: wait for more */
    SERVE_LINE_VALID,      /* METHOD SP TARGET SP HTTP/d.d CRLF, or too long to judge */
    SERVE_LINE_MALFORMED,  /* 400 */
} serve_line_verdict_t;
/* Judges the first n bytes a client sent (full: the gate will not look
 * at more). Leading empty lines are skipped. */
serve_line_verdict_t serve_gate_check_line(const uint8_t *p, size_t n, bool full);

/* listen.c: binds --listen (and SO_REUSEPORT under --reuse-port), fills
 * srv->listen_host and listen_port; -1 after logging why. */
int serve_listen_open(serve_server_t *srv, const char *spec);

/* listen.c: the abstract unix socket for `self` outbound requests
 * (srv->local_fd; left -1 if it cannot be made: they then use the TCP
 * listener and wait for a worker like any request), and closing it. */
void serve_local_open(serve_server_t *srv);
void serve_local_close(serve_server_t *srv);
/* Runs a request that came over it on a thread of its own; false if
 * LOCAL_THREADS_MAX run already (or no thread starts): the pool takes it. */
bool serve_local_run(serve_server_t *srv, serve_req_t *r);

/* metrics.c: answers /.well-known/whirl/metrics on the HTTP thread; false
 * if the response could not be queued (the connection is then closed). */
bool serve_metrics_answer(serve_req_t *r, struct MHD_Connection *conn);

/* Runs a request to its end on the calling thread (its guest's waits
 * block the thread): `self` requests on their own threads (listen.c). */
void serve_http_run(serve_server_t *srv, serve_req_t *r);
/* The pool's entry points (worker threads): begin starts a request as a
 * job (serve_app_begin), or answers and releases it and returns NULL; end,
 * once the job's call is done (or to cancel it), answers from its outcome
 * and releases the request (`r`, the job's). */
serve_job_t *serve_http_begin(serve_server_t *srv, serve_req_t *r);
void serve_http_end(serve_server_t *srv, serve_job_t *job, serve_req_t *r);
/* Answers a request that waited too long (or was queued at shutdown) with
 * 503 and Retry-After, without running it. */
void serve_http_reject(serve_req_t *r);
/* Writes buffered access log lines to stderr. */
void serve_http_flush_log(serve_server_t *srv);
/* One metrics line on stderr. */
void serve_http_log_metrics(serve_server_t *srv);
/* Counts an event. */
void serve_count(serve_server_t *srv, size_t offset);
#define SERVE_COUNT(srv, field) serve_count((srv), offsetof(serve_counters_t, field))

/* ---- app.c ---- */

whirl_error_t *serve_app_load(serve_server_t *srv, const serve_opts_t *opts,
                              serve_app_t **out);
void serve_app_delete(serve_app_t *app);
/* "N components, M routes" for the start-up line. */
void serve_app_describe(const serve_app_t *app, char *buf, size_t len);
/* Prints "Available Routes:" and one line per route on stdout, as `spin up`
 * does (spin_host.c). */
void serve_app_print_routes(const serve_app_t *app, const char *base_url);

/* A line on stderr, written at once ("whirl serve: ..."). */
void serve_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
