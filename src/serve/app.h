/* The app behind `whirl serve`: components, routes, and the per-request
 * instance (one store each). Shared by app.c, wagi.c, spin.c and the
 * wasi:http host. */
#ifndef WHIRL_SERVE_APP_H
#define WHIRL_SERVE_APP_H

#include "serve/internal.h"
#include "whirl/component.h"

typedef enum serve_exec {
    SERVE_EXEC_WAGI = 0, /* core WASI preview 1 module, CGI over stdio */
    SERVE_EXEC_HTTP,     /* component exporting wasi:http/incoming-handler */
} serve_exec_t;

typedef struct serve_dir {
    char *host, *guest;
    uint32_t flags; /* WHIRL_WASI_DIR_READONLY */
} serve_dir_t;

typedef struct serve_comp {
    char *id;             /* the manifest's component name, or the file name */
    char *source;         /* the .wasm path, for argv[0] and messages */
    serve_exec_t exec;
    whirl_module_t *module;
    whirl_instance_pre_t *pre;
    whirl_component_t *component;
    whirl_component_instance_pre_t *cpre;
    const char *h3_handler; /* the wasi:http/handler@0.3 export served (the component's
                               name); NULL: incoming-handler@0.2 */
    char **env_keys, **env_values; /* environment (manifest `environment`, --env) */
    size_t nenv;
    serve_dir_t *dirs;    /* pre-opened directories (manifest `files`, --dir) */
    size_t ndirs;
    struct spin_comp *spin; /* Spin variables and grants (spin_host.h); NULL: none */
    struct ob_policy *outbound; /* allowed_outbound_hosts (NULL: none) */
} serve_comp_t;

typedef struct serve_route {
    char *raw;            /* as written: "/hello/..." */
    char *base;           /* without the wildcard: "/hello" ("" for "/...") */
    bool wildcard;
    serve_comp_t *comp;
} serve_route_t;

struct serve_app {
    serve_server_t *srv;
    whirl_engine_t *engine;
    whirl_linker_t *linker;               /* WASI preview 1, context per store */
    whirl_component_linker_t *clinker;    /* WASI 0.2 + wasi:http, when available */
    serve_comp_t **comps;
    size_t ncomps;
    serve_route_t *routes;
    size_t nroutes;
    bool spin;            /* from a manifest: Spin's request headers */
    char *base_path;      /* the manifest's base ("/") */
    struct spin_app *spin_host; /* Spin variables, stores, databases (spin_host.h) */
    struct ob_policy *outbound; /* -S allow-http, for every component */
};

/* One request's instance: the store's data. */
typedef struct serve_inst {
    serve_app_t *app;
    serve_req_t *req;
    const serve_route_t *route;
    serve_comp_t *comp;
    whirl_store_t *store;
    whirl_wasi_t *wasi;   /* preview 1 context, found by the linker per store */
    void *http;           /* the wasi:http host's state */
    uint64_t deadline_ns; /* UINT64_MAX: none */
    char path_info[4096]; /* the part of the path after the route's base */
    struct spin_req *spin_req; /* open Spin stores and connections; NULL: none */
} serve_inst_t;

struct serve_job {
    serve_inst_t in;
    serve_req_t *req;
    whirl_call_t *call;      /* NULL: run synchronously */
    uint64_t deadline_ns;    /* in.deadline_ns, for the pool */
    bool done;               /* the call returned WHIRL_CALL_DONE */
    /* pool.c's, under its lock */
    int state;               /* JOB_RUNNING, JOB_READY or JOB_SUSPENDED */
    bool wake_pending;       /* notified while running: ready again at once */
    bool ran;                /* a worker has run it once: later runs are resumes */
    bool cancel;             /* shutdown: delete (cancel) instead of resuming */
    serve_job_t *qnext;      /* the ready queue */
    serve_job_t *lnext, *lprev; /* every live job */
};

/* Adds a component (taking ownership of `c`) and returns it; compiles its
 * source. Errors name the component and the file. */
whirl_error_t *serve_app_add_comp(serve_app_t *app, serve_comp_t *c, const uint8_t *bytes,
                                  size_t len);
whirl_error_t *serve_app_add_route(serve_app_t *app, const char *route, serve_comp_t *comp);
void serve_comp_free(serve_comp_t *c);
whirl_error_t *serve_comp_add_env(serve_comp_t *c, const char *key, const char *value);
whirl_error_t *serve_comp_add_dir(serve_comp_t *c, const char *host, const char *guest,
                                  uint32_t flags);

/* The route a path takes: an exact route first, then the longest wildcard
 * base that is a whole-segment prefix of the path. NULL: none (404). */
const serve_route_t *serve_route_match(const serve_app_t *app, const char *path);

/* Ends the request after a guest error (NULL: none): a timeout is 504, a
 * trap 500 with one log line naming the trap and its backtrace, a failed
 * instantiation for lack of pool slots 503. No guest detail reaches the
 * client. Returns true if `err` was an error. */
bool serve_inst_fail(serve_inst_t *in, whirl_error_t *err, const char *what);

/* spin.c */
whirl_error_t *serve_spin_load(serve_app_t *app, const char *manifest_path);

/* wagi.c */
void serve_wagi_handle(serve_inst_t *in);

/* wasihttp.c: the wasi:http host. link defines it (and WASI 0.2) in
 * app->clinker, created here; check refuses a component without the
 * incoming-handler export; handle runs one request (on the job's fiber);
 * end, after it, deletes the store (its resources must go before the
 * request's table) and the request's wasi:http state; unlink frees the
 * resource types once the linker and components are gone. */
whirl_error_t *serve_wasihttp_link(serve_app_t *app);
whirl_error_t *serve_wasihttp_check(serve_comp_t *c);
void serve_wasihttp_handle(serve_inst_t *in);
void serve_wasihttp_end(serve_inst_t *in);
void serve_wasihttp_unlink(void);

/* The Spin request headers for `in`, as (name, value) pairs written into
 * `out` (at least 7 entries); the strings live in `buf`. Returns how many. */
size_t serve_spin_headers(const serve_inst_t *in, serve_header_t *out, char *buf,
                          size_t buflen);

#endif
