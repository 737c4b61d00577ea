/* `whirl serve`: an HTTP server that answers each request with a fresh
 * instance of a WebAssembly app, under a deadline and a memory limit.
 *
 * Layers, one file each:
 *   http.c   libmicrohttpd glue: the request state shared between the HTTP
 *            thread and a worker, request bodies in, responses out (fixed or
 *            chunked), access log, metrics endpoint, shutdown
 *   fields.c HTTP tokens and field values (one validator for all of serve),
 *            and the request-head checks against ambiguous framing
 *   listen.c --listen parsing and the listening socket (--reuse-port)
 *   metrics.c the counters, in Prometheus text format
 *   pool.c   worker threads, the bounded queue with its bounded wait (503 +
 *            Retry-After), the once-a-second tick (queue expiry, log flush)
 *   app.c    the app: its components, routes (Spin's rules), one store per
 *            request with limits and deadline, trap reporting
 *   wagi.c   the WAGI executor (CGI over WASI preview 1 stdio)
 *   spin.c   spin.toml (manifest version 2) through toml_shim.cpp
 *
 * The HTTP thread never runs guest code and never blocks; workers never
 * touch a connection except through MHD_resume_connection. */
#ifndef WHIRL_SERVE_H
#define WHIRL_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "whirl.h"
#include "whirl/wasi2.h"

typedef struct serve_opts {
    const char *app;        /* a .wasm (component or core module) or a spin.toml */
    bool wagi;              /* a core module is a WAGI program */
    const char *listen;     /* HOST:PORT; port 0 picks a free one */
    unsigned workers;       /* guest threads; 0: one per core */
    unsigned io_threads;    /* HTTP threads (default 1) */
    unsigned max_queue;     /* requests waiting for a worker; more: 503 at once */
    uint64_t queue_timeout_ns; /* longest wait for a worker, then 503 */
    uint64_t timeout_ns;    /* guest deadline per request (0: none) */
    uint64_t max_memory;    /* linear memory per request (WHIRL_NO_LIMIT: none) */
    uint64_t max_table_elements;
    uint64_t max_body;      /* request body bytes; more: 413 */
    size_t max_header;      /* bytes of request line and headers; more: 431 */
    unsigned io_timeout_s;  /* idle connection (read or write) timeout, seconds */
    uint64_t grace_ns;      /* shutdown: time given to requests in flight */
    bool reuse_port;        /* SO_REUSEPORT: several servers share the port */
    bool metrics;           /* /.well-known/whirl/metrics */
    bool metrics_log;       /* a metrics line on stderr every second */
    bool access_log;        /* one line per request on stderr */
    const char **envs;      /* --env NAME=VALUE for a single-module app */
    size_t nenvs;
    const char **dirs;      /* --dir HOST[::GUEST][:ro] for a single-module app */
    size_t ndirs;
    const char **variables; /* --variable NAME=VALUE (Spin variables) */
    size_t nvariables;
    const char *runtime_config; /* --runtime-config-file (Spin's TOML) */
    const char **allow_http; /* -S allow-http=RULE: outbound hosts every component may reach */
    size_t nallow_http;
    const char *http_ca;    /* -S http-ca=FILE: a CA trusted besides the system store */
    /* Called on the worker with each request's store before its guest runs
     * (the CLI's --profile attaches its sampler); NULL: none. */
    void (*on_store)(void *env, whirl_store_t *store);
    void *on_store_env;
} serve_opts_t;

/* Runs the server until SIGINT or SIGTERM. Takes ownership of `config`
 * (the engine's, with the CLI's knobs applied). Returns the process exit
 * status: 0 after a graceful shutdown, 1 if the app cannot be loaded, 4 if
 * the address cannot be bound. */
int serve_run(const serve_opts_t *opts, whirl_config_t *config);

/* Splits a --listen value (HOST:PORT, [V6]:PORT or PORT; the host defaults
 * to 127.0.0.1) into `host` and `port`. False, with the reason in `why`, if
 * it is malformed; whether the host resolves is found when binding. */
bool serve_listen_parse(const char *spec, char host[256], char port[16], char *why,
                        size_t why_len);

/* wasi:http (types and outgoing-handler) for `whirl run`'s component: one
 * component, one store (without store data), one WASI 0.2 context.
 * setup defines it in `linker` over `w2` (taking that reference), with the
 * -S allow-http rules and CA file; the deadline (monotonic ns) bounds
 * outbound transfers; end runs once the store is deleted and before
 * `wasi` is, free after it (and after the linker's deletion). */
whirl_error_t *serve_http_run_setup(whirl_component_linker_t *linker, whirl_wasi2_host_t *w2,
                                    whirl_wasi2_t *wasi, const char *who,
                                    const char *const *allow, size_t nallow,
                                    const char *ca_file);
void serve_http_run_set_deadline(uint64_t deadline_ns);
void serve_http_run_end(void);
void serve_http_run_free(void);

/* The usage lines of `whirl serve`'s options. */
extern const char serve_usage[];

/* ---- the request, as handlers see it (http.c) ---- */

typedef struct serve_req serve_req_t;

typedef struct serve_header {
    const char *name;
    const char *value;
} serve_header_t;

typedef struct serve_req_info {
    const char *method;
    const char *path;       /* decoded path, without the query */
    const char *raw_path;   /* as sent, without the query */
    const char *query;      /* after '?', "" if none */
    const char *version;    /* "HTTP/1.1" */
    const char *client;     /* "127.0.0.1:54321" */
    const char *client_ip;  /* "127.0.0.1" */
    const char *host;       /* the Host header, else the listen address */
    const char *server_name; /* host without port */
    const char *server_port;
    int64_t content_length; /* -1: not given (chunked or none) */
    const serve_header_t *headers; /* in arrival order */
    size_t nheaders;
} serve_req_info_t;

const serve_req_info_t *serve_req_info(const serve_req_t *r);

/* Reads request body bytes, waiting for them until `deadline_ns`
 * (monotonic; UINT64_MAX: none). Called by a host function running on
 * `store` inside its resumable call, the wait suspends the call instead
 * of blocking the thread (NULL, or elsewhere: it blocks); the same for
 * serve_resp_write. Returns the count, 0 at the end of the
 * body, or a negative errno: -EINTR at the deadline or shutdown, -EFBIG
 * past the body size limit, -ECONNRESET if the client went away. */
int64_t serve_req_read(serve_req_t *r, void *buf, size_t len, uint64_t deadline_ns,
                       whirl_store_t *store);

/* Starts the response. `headers` are copied; hop-by-hop and framing
 * headers (Connection, Content-Length, Transfer-Encoding, ...) are
 * dropped, since the server frames the body. Returns 0, or -EINVAL for a
 * status outside 100-599 or a header with bytes HTTP forbids, -EALREADY
 * if started before. */
int serve_resp_start(serve_req_t *r, int status, const serve_header_t *headers,
                     size_t nheaders);

/* Appends body bytes, waiting while the client is slower than the guest.
 * Returns `len`, or a negative errno: -EPIPE when the client is gone (or
 * the response was replaced by an error), -EINTR at the deadline. */
int64_t serve_resp_write(serve_req_t *r, const void *buf, size_t len, uint64_t deadline_ns,
                         whirl_store_t *store);

/* Ends the response normally (starting it with 200 and no headers if the
 * guest never did). */
void serve_resp_finish(serve_req_t *r);

/* Ends the request with an error: if no byte of the response has left,
 * `status` with a short plain-text body (`message`, no guest details);
 * otherwise the connection is cut so the client sees a truncated body. */
void serve_resp_fail(serve_req_t *r, int status, const char *message);

/* Non-blocking forms, for hosts that wait in their own poll (WASI 0.2):
 * `notify(env)` is called, on any thread and with the request's lock held
 * (it must only wake), whenever body bytes arrive, output room frees up or
 * the client goes. try_read returns bytes, 0 at the end, -EAGAIN if none
 * yet, or the errors of serve_req_read; resp_room the bytes
 * serve_resp_write takes without waiting, or -EPIPE / -EINTR. */
void serve_req_set_notify(serve_req_t *r, void (*notify)(void *env), void *env);
int64_t serve_req_try_read(serve_req_t *r, void *buf, size_t len);
bool serve_req_readable(serve_req_t *r);
int64_t serve_resp_room(serve_req_t *r);

/* True once the response has been started. */
bool serve_resp_started(const serve_req_t *r);

/* ---- what app.c gives http.c and pool.c ---- */

typedef struct serve_app serve_app_t;

/* A request's guest run as a resumable call (whirl/async.h): its store,
 * instance and fiber, and the pool's bookkeeping (pool.c, under its lock).
 * A guest that waits (outbound HTTP, a WASI poll or sleep) suspends the
 * call and frees its worker; it is resumed when what it awaits is done. */
typedef struct serve_job serve_job_t;

/* Starts a request on the calling worker: routes it, makes its store and,
 * with `async`, its resumable call, which the caller resumes until done
 * and then ends with serve_app_end. NULL if the request is already
 * answered (no route, no memory) or was run to its end on this thread
 * (`async` false, or no fibers here); it ends with serve_resp_finish or
 * serve_resp_fail either way. */
serve_job_t *serve_app_begin(serve_app_t *app, serve_req_t *r, bool async);
/* After its call is done (or to cancel it, at shutdown): answers from the
 * call's outcome, frees the store and the job. */
void serve_app_end(serve_job_t *job);

/* Counters, for the metrics endpoint and log line. */
typedef struct serve_counters {
    uint64_t requests, completed, rejected_busy, rejected_limits, rejected_malformed, timeouts,
        traps, errors;
} serve_counters_t;

#endif
