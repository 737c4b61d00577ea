/* Spin's host interfaces for `whirl serve` apps: variables (spin_vars.c),
 * key-value (spin_kv.c) and SQLite (spin_sqlite.c), with what they share
 * here (spin_host.c): the app's configuration from spin.toml, the
 * command line and the runtime config file, and each request's table of
 * open handles (stores, connections), which closes with the request.
 *
 * Everything is resolved at load: variables get their values (a required
 * one without a value is a load error naming it), databases and key-value
 * files are created, so a request only opens, reads and writes. */
#ifndef WHIRL_SERVE_SPIN_HOST_H
#define WHIRL_SERVE_SPIN_HOST_H

#include "serve/app.h"
#include "serve/toml_shim.h"

/* A backend of a key-value store or a database, by label. */
typedef enum spin_backend_kind {
    SPIN_BACKEND_SQLITE = 0, /* a SQLite file (Spin's "spin" type) */
    SPIN_BACKEND_REDIS,      /* a Redis server (key-value only) */
} spin_backend_kind_t;

typedef struct spin_backend {
    char *label;
    spin_backend_kind_t kind;
    char *path;      /* SQLite: the file */
    char *url;       /* Redis: redis://[:password@]host[:port][/db] */
} spin_backend_t;

typedef struct spin_var {
    char *name;
    char *value;     /* resolved; NULL: none (only for a variable no template uses) */
    bool secret;
} spin_var_t;

/* A variables provider: an environment one (PREFIX_NAME in the process
 * environment, then in its dotenv file) or static values. */
typedef struct spin_provider {
    bool is_env;
    char *prefix;               /* env: "SPIN_VARIABLE" unless configured */
    char **names, **values;     /* static values, or the dotenv file's entries */
    size_t n;
} spin_provider_t;

/* The app's part (serve_app_t.spin_host). */
typedef struct spin_app {
    char *dir;               /* the manifest's directory */
    spin_var_t *vars;        /* [variables], resolved */
    size_t nvars;
    spin_backend_t *kv;      /* key-value stores: default and the runtime config's */
    size_t nkv;
    spin_backend_t *db;      /* SQLite databases */
    size_t ndb;
    spin_provider_t *providers; /* after --variable, in order */
    size_t nproviders;
} spin_app_t;

/* A component's part (serve_comp_t.spin). */
typedef struct spin_comp {
    char **var_names, **var_values; /* [component.NAME.variables], templates expanded */
    size_t nvars;
    char **kv_labels;        /* key_value_stores */
    size_t nkv;
    char **db_labels;        /* sqlite_databases */
    size_t ndb;
} spin_comp_t;

/* ---- loading (spin_host.c, spin_vars.c) ---- */

/* Reads the manifest's [variables] and the runtime config file (NULL:
 * none), with the --variable values (NAME=VALUE); sets app->spin_host. */
whirl_error_t *spin_app_load(serve_app_t *app, const char *manifest, const char *dir,
                             const toml_shim_node_t *variables, const serve_opts_t *opts);
void spin_app_free(spin_app_t *a);
/* A component's variables, key_value_stores and sqlite_databases. */
whirl_error_t *spin_comp_load(serve_app_t *app, serve_comp_t *c, const char *manifest,
                              const toml_shim_node_t *table);
void spin_comp_free(spin_comp_t *c);
/* Variables (spin_vars.c): the app-level values, and a template. */
whirl_error_t *spin_vars_load(spin_app_t *a, const char *manifest,
                              const toml_shim_node_t *variables, const serve_opts_t *opts);
whirl_error_t *spin_vars_expand(const spin_app_t *a, const char *tmpl, char **out);
/* Adds a provider: an environment one (prefix NULL: SPIN_VARIABLE; dotenv
 * NULL: none; a missing file is no error) or, with `values` (a TOML table
 * of strings), a static one. */
whirl_error_t *spin_provider_add(spin_app_t *a, bool is_env, const char *prefix,
                                 const char *dotenv, const toml_shim_node_t *values,
                                 const char *where);
void spin_providers_free(spin_app_t *a);
/* True if `name` is a valid Spin variable name; else `why` says why. */
bool spin_var_name_ok(const char *name, const char **why);

/* Defines every Spin interface in app->clinker (spin_host.c calls each
 * file's part). */
whirl_error_t *spin_host_link(serve_app_t *app);
whirl_error_t *spin_vars_link(whirl_component_linker_t *l);
whirl_error_t *spin_kv_link(whirl_component_linker_t *l);
whirl_error_t *spin_sqlite_link(whirl_component_linker_t *l);
/* spin_llm.c: llm answers model-not-supported, so apps importing it load. */
whirl_error_t *spin_llm_link(whirl_component_linker_t *l);
/* Creates the file of a SQLite store or database (and the key-value
 * table) at load, so requests never race to create it. */
whirl_error_t *spin_kv_prepare(const spin_backend_t *b);
whirl_error_t *spin_sqlite_prepare(const spin_backend_t *b);

/* ---- a request's handles (spin_host.c) ---- */

typedef enum spin_handle_kind {
    SPIN_H_FREE = 0,
    SPIN_H_KV,       /* an open key-value store */
    SPIN_H_CAS,      /* wasi:keyvalue/atomics cas */
    SPIN_H_SQLITE,   /* an open database connection */
    SPIN_H_REDIS,    /* an outbound Redis connection */
    SPIN_H_MQTT,     /* an outbound MQTT connection */
    SPIN_H_PG,       /* an outbound PostgreSQL connection */
    SPIN_H_PG_BUILDER, /* spin:postgres@4.1.0's connection-builder */
    SPIN_H_MYSQL,    /* an outbound MySQL connection */
} spin_handle_kind_t;

typedef struct spin_handle {
    spin_handle_kind_t kind;
    void *obj;
    void (*close)(void *obj);
} spin_handle_t;

typedef struct spin_req {
    serve_inst_t *in;
    spin_handle_t *h;
    uint32_t n, cap;
    whirl_error_t *cut; /* a wait cut short (spin_wait_fd): the trap to return */
} spin_req_t;

/* The request of the calling store (NULL: the store serves none). */
spin_req_t *spin_req_of(whirl_store_t *store);
/* Adds a handle (rep = index + 1); NULL error: done. On failure `close`
 * runs on obj. */
whirl_error_t *spin_handle_add(spin_req_t *r, spin_handle_kind_t kind, void *obj,
                               void (*close)(void *), uint32_t *rep);
void *spin_handle_get(spin_req_t *r, uint32_t rep, spin_handle_kind_t kind);
void spin_handle_close(spin_req_t *r, uint32_t rep, spin_handle_kind_t kind);
/* Closes what the request left open (after its store is gone). */
void spin_req_end(serve_inst_t *in);

/* Waits until `fd` has `events` (POLLIN, POLLOUT) or `deadline_ns`
 * passes (UINT64_MAX: at most a minute). Inside the request's resumable
 * call (r not NULL) the request suspends rather than holding its worker
 * thread (the WASI reactor polls the descriptor), so a database or Redis
 * server that is slow to answer costs a fiber, not a thread. Ready: the
 * poll revents (> 0); 0: the deadline passed; -1: failed, or the wait was cut short (the store's
 * deadline, the request cancelled), which leaves the `interrupt` trap in
 * r->cut for spin_check_deadline to return. */
int spin_wait_fd(spin_req_t *r, int fd, short events, uint64_t deadline_ns);

/* Looks up `host` (a name, an IP address, or [IPv6]) off the worker
 * thread (spin_resolve.c), waiting through spin_wait_fd until `deadline_ns`,
 * so a DNS server that is slow or silent neither holds the worker nor
 * outlasts the request; `out` gets its first addresses, numeric. 0: done;
 * -1: failed, with why (a lookup left running frees itself when it ends).
 * The libraries are then given the numeric address; the policy
 * (allowed_outbound_hosts) is checked against the name before. */
enum { SPIN_RESOLVE_MAX = 4, SPIN_ADDR_LEN = 46 /* INET6_ADDRSTRLEN */ };
typedef struct spin_addrs {
    int n;
    char addr[SPIN_RESOLVE_MAX][SPIN_ADDR_LEN];
} spin_addrs_t;
int spin_resolve(spin_req_t *r, const char *host, uint64_t deadline_ns, spin_addrs_t *out,
                 char *why, size_t whylen);

/* Nanoseconds left before the request's deadline (UINT64_MAX: none; 0:
 * past it). */
uint64_t spin_time_left(const spin_req_t *r);

/* SQLite connections of a request (spin_sqlite.c): opened read-write
 * (never created), with a busy timeout and a progress handler that stop
 * at *deadline_ns (which must outlive the connection). NULL error: done. */
typedef struct sqlite3 sqlite3;
whirl_error_t *spin_sqlite_open(const char *path, const uint64_t *deadline_ns, sqlite3 **out);
/* Creates the file (and its directory) with `schema` (NULL: none), in WAL
 * mode so that concurrent requests read while one writes (spin_kv.c). */
whirl_error_t *spin_sqlite_create(const char *path, const char *schema);
/* Before each statement: the busy timeout from the time left. */
void spin_sqlite_arm(sqlite3 *db, uint64_t deadline_ns);
/* The reason of the last failure, naming the deadline when that was it. */
const char *spin_sqlite_why(sqlite3 *db, uint64_t deadline_ns);

/* A host call that ends past the deadline, or whose wait was cut short
 * (r->cut), traps with `interrupt` (the request is a 504 whatever the
 * guest would do next): `e` is freed and `results` released then. Returns
 * what the call should return. */
whirl_error_t *spin_check_deadline(spin_req_t *r, whirl_error_t *e, whirl_cval_t *results,
                                   size_t nresults, const char *what);

/* Redis connections (spin_redis.c), for key-value stores and outbound
 * Redis: every command ends by deadline_ns (spin_redis_net.c), waiting
 * through spin_wait_fd. */
struct redisReply;
typedef struct redis_net redis_net_t;
typedef struct spin_redis {
    redis_net_t *net; /* redis:// or rediss:// */
    spin_req_t *req;  /* the request it belongs to (waits suspend it) */
    uint64_t deadline_ns;
    char why[256]; /* the last failure */
} spin_redis_t;
/* Connects to redis[s]://[[user]:password@]host[:port][/db]; false with
 * c->why (and *bad_url, if given, for an address that is not one). */
bool spin_redis_connect(spin_redis_t *c, const char *url, bool *bad_url);
/* A reply (the caller frees it with freeReplyObject), or NULL with c->why;
 * an error reply is NULL too. hiredis's format: %b takes a pointer and a
 * size_t, so there is no printf check. */
struct redisReply *spin_redis_cmd(spin_redis_t *c, const char *fmt, ...);
struct redisReply *spin_redis_argv(spin_redis_t *c, int argc, const char **argv,
                                   const size_t *lens);
void spin_redis_close(spin_redis_t *c);
/* Whether c holds a connection (plain or TLS). */
bool spin_redis_is_open(const spin_redis_t *c);
/* Parses a redis:// or rediss:// (*tls) address: host (at least 256
 * bytes), port, and the password and database. False if it is not one. */
bool spin_redis_parse(const char *url, char *host, size_t hostlen, int *port, char *pass,
                      size_t passlen, int *db, bool *tls);
/* The transport (spin_redis_net.c): a TCP connection, with a verified TLS
 * session for rediss:// (`tls`), NULL with why; commands are formatted by
 * hiredis and sent whole, the reply (error replies included) parsed by its
 * reader, NULL with why on failure, the deadline or a reply too large. */
redis_net_t *redis_net_connect(const char *host, int port, bool tls, spin_req_t *req,
                               uint64_t deadline_ns, char *why, size_t whylen);
struct redisReply *redis_net_command(redis_net_t *t, const char *cmd, size_t len,
                                     uint64_t deadline_ns, char *why, size_t whylen);
void redis_net_close(redis_net_t *t);
/* Whether the component's allowed_outbound_hosts or the server's -S
 * allow-http rules (outbound_policy.c, the matcher outbound HTTP uses too)
 * let the request reach scheme://host:port (spin_host.c). */
bool spin_outbound_allowed(const serve_inst_t *in, const char *scheme, const char *host,
                           int port);
whirl_error_t *spin_redis_link(whirl_component_linker_t *l);
whirl_error_t *spin_mqtt_link(whirl_component_linker_t *l);
whirl_error_t *spin_pg_link(whirl_component_linker_t *l);
whirl_error_t *spin_mysql_link(whirl_component_linker_t *l);

/* The component-model async versions (spin_async.c): `name` in `iface`
 * runs the synchronous callback `sync` (with `env`) and gives its result
 * as it is (SAME), or reshaped: SPIN_ASYNC_ROWS turns
 * result<record { columns, rows }, E> into
 * result<tuple<columns, stream<row>, future<result<_, E>>>, E>;
 * SPIN_ASYNC_KEYS turns result<list<string>, E> into
 * tuple<stream<string>, future<result<_, E>>>. */
typedef enum spin_async_shape {
    SPIN_ASYNC_SAME = 0,
    SPIN_ASYNC_ROWS,
    SPIN_ASYNC_KEYS,
} spin_async_shape_t;
whirl_error_t *spin_define_async(whirl_component_linker_t *l, const char *iface,
                                 const char *name, whirl_component_callback_t sync, void *env,
                                 spin_async_shape_t shape);
/* A stream of the items of `list` (a LIST, taken; anything else: an empty
 * stream), handed out a few per guest read. */
whirl_error_t *spin_stream_of_list(whirl_cval_t *list, whirl_cval_t *out);

/* Result builders shared by the hosts. */
whirl_error_t *spin_result_ok(whirl_cval_t *res, bool with_payload, whirl_cval_t **payload);
/* result::err(variant case `index`, with a string payload unless msg is NULL). */
whirl_error_t *spin_result_err(whirl_cval_t *res, uint32_t index, const char *msg);
/* The string argument i, or NULL if it is missing or holds a NUL byte. */
const char *spin_arg_string(const whirl_cval_t *args, size_t nargs, size_t i);

#endif
