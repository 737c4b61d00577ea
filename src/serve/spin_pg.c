/* Outbound PostgreSQL for Spin apps: fermyon:spin/postgres@2.0.0,
 * spin:postgres/postgres@3.0.0 (dates, times, timestamps) and
 * spin:postgres/postgres@4.0.0 (also uuid, jsonb, numeric, ranges, arrays,
 * intervals, and errors with the server's fields: spin_pg_types.c) through
 * libpq; 4.1.0 adds the connection-builder (CA roots for TLS), and 4.2.0
 * an async twin of open, query, execute and build (spin_async.c). open takes a connection string ("host=... user=...") or a URL
 * (postgres://...) and connects only where the component's
 * allowed_outbound_hosts lets it (postgres://HOST:PORT; a Unix socket is
 * never allowed), else connection-failed "address ... is not permitted".
 * Parameters go as text (binary as bytea), results come back typed by
 * their column's type (bool, int2/4/8, float4/8, text types, bytea, and
 * for 3.0.0 date, time, timestamp and timestamptz, as seconds since the
 * epoch; other types are `unsupported`, as Spin answers).
 *
 * Connecting and every statement use libpq's non-blocking calls and wait
 * on the socket through spin_wait_fd until the request's deadline: inside
 * the request's resumable call the request suspends and its worker thread
 * serves others meanwhile. A statement still running at the deadline is
 * cancelled on the server. Connections close with the request. (Host
 * names are still resolved by PQconnectStart on the worker's thread.) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "serve/spin_host.h"
#include "serve/spin_pg.h"

#define errorf whirl_error_newf

#define IFACE "fermyon:spin/postgres@2.0.0"

enum {
    /* rdbms-types error cases */
    E_CONNECTION_FAILED = 0, E_BAD_PARAMETER = 1, E_QUERY_FAILED = 2, E_CONVERSION = 3,
    E_OTHER = 4,
    MAX_PARAMS = 65535,
    MAX_RESULT_BYTES = 64 << 20,
};

typedef struct pg_api {
    const char *iface;
    bool v4;                    /* db-data-type a variant, errors with query-error */
    int8_t param_kind[26];      /* parameter-value case -> kind */
    int8_t type_case[K_KINDS];  /* kind -> db-data-type case (-1: none, then `other`) */
    int8_t value_case[K_KINDS]; /* kind -> db-value case (K_OTHER: unsupported) */
    whirl_resource_type_t *conn_type;
    whirl_resource_type_t *builder_type; /* 4.1.0 on */
} pg_api_t;

/* Cases of a version-4 variant, in the WIT's order: parameter-value,
 * db-value and db-data-type share them up to interval. */
#define V4_CASES                                                                                \
    K_BOOL, K_I8, K_I16, K_I32, K_I64, K_F32, K_F64, K_STR, K_BIN, K_DATE, K_TIME, K_DATETIME,  \
        K_TIMESTAMP, K_UUID, K_JSONB, K_DECIMAL, K_RANGE_I32, K_RANGE_I64, K_RANGE_DEC,         \
        K_ARR_I32, K_ARR_I64, K_ARR_DEC, K_ARR_STR, K_INTERVAL

/* fermyon:spin/postgres@2.0.0 (rdbms-types), spin:postgres@3.0.0, which
 * drops the unsigned cases and adds dates and times, and
 * spin:postgres@4.0.0. The case tables of the last are filled in by
 * spin_pg_link from V4_CASES. */
enum { API_V2, API_V3, API_V4, API_V41, API_V42, API_COUNT };
static pg_api_t apis[API_COUNT] = {
    {IFACE, false,
     {K_BOOL, K_I8, K_I16, K_I32, K_I64, K_U8, K_U16, K_U32, K_U64, K_F32, K_F64, K_STR, K_BIN,
      K_NULL, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1},
     {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, -1, -1, -1, -1, -1, 13, -1, -1, -1, -1, -1, -1,
      -1, -1, -1, -1, -1},
     {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, -1, -1, -1, -1, 13, 14, -1, -1, -1, -1, -1, -1,
      -1, -1, -1, -1, -1},
     NULL, NULL},
    {"spin:postgres/postgres@3.0.0", false,
     {K_BOOL, K_I8, K_I16, K_I32, K_I64, K_F32, K_F64, K_STR, K_BIN, K_DATE, K_TIME, K_DATETIME,
      K_TIMESTAMP, K_NULL, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1},
     {0, 1, 2, 3, 4, -1, -1, -1, -1, 5, 6, 7, 8, 9, 10, 11, 12, -1, 13, -1, -1, -1, -1, -1, -1,
      -1, -1, -1, -1, -1},
     {0, 1, 2, 3, 4, -1, -1, -1, -1, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, -1, -1, -1, -1, -1, -1,
      -1, -1, -1, -1, -1},
     NULL, NULL},
    {"spin:postgres/postgres@4.0.0", true, {V4_CASES, K_NULL, -1}, {0}, {0}, NULL, NULL},
    {"spin:postgres/postgres@4.1.0", true, {V4_CASES, K_NULL, -1}, {0}, {0}, NULL, NULL},
    {"spin:postgres/postgres@4.2.0", true, {V4_CASES, K_NULL, -1}, {0}, {0}, NULL, NULL},
};

/* The functions, in the order of their op numbers. */
enum { OP_OPEN, OP_QUERY, OP_EXECUTE, OP_BUILDER_NEW, OP_SET_CA_ROOT, OP_BUILD, OP_COUNT };
static const char *const op_names[OP_COUNT] = {
    "[static]connection.open", "[method]connection.query", "[method]connection.execute",
    "[constructor]connection-builder", "[method]connection-builder.set-ca-root",
    "[method]connection-builder.build"};

/* CA roots one builder may hold, in bytes of PEM. */
#define MAX_CA_BYTES (1u << 20)

/* Fills in version 4's type and value cases from the order of V4_CASES. */
static void init_v4_cases(pg_api_t *api)
{
    static const int8_t order[] = {V4_CASES};
    enum { N = sizeof order / sizeof order[0] };
    memset(api->type_case, -1, sizeof api->type_case);
    memset(api->value_case, -1, sizeof api->value_case);
    for (int i = 0; i < N; i++)
        api->type_case[order[i]] = api->value_case[order[i]] = (int8_t)i;
    api->type_case[K_OTHER] = N;      /* other(string) */
    api->value_case[K_NULL] = N;      /* db-null */
    api->value_case[K_OTHER] = N + 1; /* unsupported(list<u8>) */
}

typedef struct pg_conn {
    PGconn *pg;
    spin_req_t *req; /* the request it belongs to (waits suspend it) */
    uint64_t deadline_ns;
} pg_conn_t;


static void conn_close(void *obj)
{
    pg_conn_t *c = obj;
    PQfinish(c->pg);
    free(c);
}

/* Waits for the socket to be readable (or writable) until the deadline;
 * the request suspends meanwhile (spin_wait_fd). */
static bool wait_socket(const pg_conn_t *c, bool write)
{
    return spin_wait_fd(c->req, PQsocket(c->pg), write ? POLLOUT : POLLIN, c->deadline_ns) > 0;
}

/* Cancels in flight at once, at most MAX_CANCELS: a hostile server that
 * never closes its cancel connections holds each one's thread for good, and
 * a guest timing out statement after statement against it must not grow
 * threads without bound. Past it the statement is not cancelled; it ends
 * when the server notices the connection closed with the request. */
enum { MAX_CANCELS = 64 };
static atomic_int g_cancels;

static void *cancel_main(void *arg)
{
    char buf[256];
    PQcancel(arg, buf, sizeof buf);
    PQfreeCancel(arg);
    atomic_fetch_sub(&g_cancels, 1);
    return NULL;
}

/* Asks the server to stop the statement, on a thread of its own: libpq 15's
 * PQcancel blocks until the server closes the cancel connection, which a
 * hostile one need never do, and the worker must not wait for that. */
static void cancel_in_background(PGconn *pg)
{
    if (atomic_fetch_add(&g_cancels, 1) >= MAX_CANCELS) {
        atomic_fetch_sub(&g_cancels, 1);
        return;
    }
    PGcancel *cancel = PQgetCancel(pg);
    if (!cancel) {
        atomic_fetch_sub(&g_cancels, 1);
        return;
    }
    pthread_attr_t attr;
    pthread_t t;
    bool started = pthread_attr_init(&attr) == 0;
    if (started) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        started = pthread_create(&t, &attr, cancel_main, cancel) == 0;
        pthread_attr_destroy(&attr);
    }
    if (!started) { /* the statement runs on; the connection closes with the request */
        PQfreeCancel(cancel);
        atomic_fetch_sub(&g_cancels, 1);
    }
}

static bool late(const pg_conn_t *c)
{
    return c->deadline_ns != UINT64_MAX && whirl_monotonic_now() >= c->deadline_ns;
}

/* The CA roots in a private file for libpq's sslrootcert (it reads roots
 * from a file only); the caller unlinks it once connected. NULL: failed. */
static char *ca_file(const char *pem, size_t len)
{
    const char *dir = getenv("TMPDIR");
    char *path = NULL;
    if (asprintf(&path, "%s/whirl-pg-ca-XXXXXX", dir && *dir ? dir : "/tmp") < 0)
        return NULL;
    int fd = mkstemp(path); /* mode 0600 */
    bool ok = fd >= 0;
    for (size_t off = 0; ok && off < len;) {
        ssize_t n = write(fd, pem + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        ok = n > 0;
        off += ok ? (size_t)n : 0;
    }
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (!ok) {
        if (fd >= 0)
            unlink(path);
        free(path);
        return NULL;
    }
    return path;
}

/* Connects to `addr` (checked against allowed_outbound_hosts) and answers
 * result<connection, error> in res. With `ca` (PEM roots, from a
 * connection-builder) the server's certificate is checked against them:
 * sslmode is verify-full unless the address says otherwise. */
static whirl_error_t *pg_connect(const pg_api_t *api, spin_req_t *r, const char *addr,
                                 const char *ca, size_t ca_len, whirl_cval_t *res)
{
    char why[600];
    if (!addr)
        return spin_result_err(res, E_CONNECTION_FAILED, "invalid address");
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(addr, &perr);
    if (!opts) {
        snprintf(why, sizeof why, "invalid address: %s", perr ? perr : "out of memory");
        PQfreemem(perr);
        return spin_result_err(res, E_CONNECTION_FAILED, why);
    }
    /* Only options that name the server and the session: no service file
     * (it could send the connection elsewhere) and no host files (passfile,
     * certificates, keys) read on the guest's behalf. */
    static const char *const safe[] = {"host", "port", "user", "password", "dbname",
                                       "sslmode", "connect_timeout", "application_name",
                                       "options", "client_encoding", "keepalives",
                                       "keepalives_idle", "keepalives_interval",
                                       "keepalives_count", "target_session_attrs", NULL};
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        bool ok = !o->val || !*o->val;
        for (const char *const *k = safe; !ok && *k; k++)
            ok = strcmp(*k, o->keyword) == 0;
        if (!ok) {
            snprintf(why, sizeof why, "connection option '%s' is not allowed", o->keyword);
            PQconninfoFree(opts);
            return spin_result_err(res, E_CONNECTION_FAILED, why);
        }
    }
    const char *host = NULL, *port = NULL, *hostaddr = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!strcmp(o->keyword, "host"))
            host = o->val;
        else if (!strcmp(o->keyword, "port"))
            port = o->val;
        else if (!strcmp(o->keyword, "hostaddr"))
            hostaddr = o->val;
    }
    int portn = port && *port ? atoi(port) : 5432;
    bool allowed = host && *host && host[0] != '/' && !strchr(host, ',') && !hostaddr &&
                   (!port || !strchr(port, ',')) &&
                   spin_outbound_allowed(r->in, "postgres", host, portn);
    snprintf(why, sizeof why, "address %s:%d is not permitted", host ? host : "(none)", portn);
    char name[256];
    snprintf(name, sizeof name, "%s", host ? host : "");
    bool long_name = host && strlen(host) >= sizeof name;
    PQconninfoFree(opts);
    if (!allowed) {
        serve_log("component '%s': outbound PostgreSQL denied: %s (allowed_outbound_hosts)",
                  r->in->comp->id, why);
        return spin_result_err(res, E_CONNECTION_FAILED, why);
    }
    /* The name is looked up off the worker (libpq's getaddrinfo would
     * hold it for as long as DNS takes) and given to libpq as hostaddr:
     * `host` stays the name, for TLS's server name and its check. */
    spin_addrs_t addrs;
    if (long_name) {
        snprintf(why, sizeof why, "invalid address: host name too long");
        return spin_result_err(res, E_CONNECTION_FAILED, why);
    }
    if (spin_resolve(r, name, r->in->deadline_ns, &addrs, why, sizeof why) != 0)
        return spin_result_err(res, E_CONNECTION_FAILED, why);
    /* libpq tries each: hostaddr a,b,... with host name,name,... */
    char hosts[SPIN_RESOLVE_MAX * 257], num[SPIN_RESOLVE_MAX * (SPIN_ADDR_LEN + 1)];
    size_t hn = 0, nn = 0;
    for (int i = 0; i < addrs.n; i++) {
        hn += (size_t)snprintf(hosts + hn, sizeof hosts - hn, "%s%s", i ? "," : "", name);
        nn += (size_t)snprintf(num + nn, sizeof num - nn, "%s%s", i ? "," : "", addrs.addr[i]);
    }
    pg_conn_t *c = calloc(1, sizeof *c);
    if (!c)
        return spin_result_err(res, E_OTHER, "out of memory");
    c->req = r;
    c->deadline_ns = r->in->deadline_ns;
    char *ca_path = NULL;
    if (ca && !(ca_path = ca_file(ca, ca_len))) {
        free(c);
        return spin_result_err(res, E_OTHER, "cannot write the CA roots to a file");
    }
    if (ca_path) {
        /* The address is expanded in place of dbname: its own sslmode,
         * if any, overrides the one before it; sslrootcert after it wins. */
        const char *const keys[] = {"sslmode", "dbname", "sslrootcert", "host", "hostaddr", NULL};
        const char *const vals[] = {"verify-full", addr, ca_path, hosts, num, NULL};
        c->pg = PQconnectStartParams(keys, vals, 1);
    } else {
        const char *const keys[] = {"dbname", "host", "hostaddr", NULL};
        const char *const vals[] = {addr, hosts, num, NULL};
        c->pg = PQconnectStartParams(keys, vals, 1);
    }
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    bool ok = c->pg && PQstatus(c->pg) != CONNECTION_BAD;
    while (ok && st != PGRES_POLLING_OK) {
        if (st == PGRES_POLLING_FAILED || !wait_socket(c, st == PGRES_POLLING_WRITING))
            ok = false;
        else
            st = PQconnectPoll(c->pg);
        if (st == PGRES_POLLING_FAILED)
            ok = false;
    }
    if (ca_path) { /* read during the handshake, which is over */
        unlink(ca_path);
        free(ca_path);
    }
    if (ok)
        ok = PQsetnonblocking(c->pg, 1) == 0;
    if (!ok) {
        snprintf(why, sizeof why, "%s",
                 late(c) ? "the request's deadline passed"
                 : c->pg ? PQerrorMessage(c->pg) : "out of memory");
        conn_close(c);
        return spin_result_err(res, E_CONNECTION_FAILED, why);
    }
    uint32_t rep = 0;
    whirl_error_t *e = spin_handle_add(r, SPIN_H_PG, c, conn_close, &rep);
    if (e) {
        whirl_error_t *f = spin_result_err(res, E_CONNECTION_FAILED, "too many connections");
        whirl_error_delete(e);
        return f;
    }
    whirl_cval_t *p = NULL;
    if ((e = spin_result_ok(res, true, &p)))
        return e;
    p->kind = WHIRL_CVAL_OWN;
    p->of.resource.type = api->conn_type;
    p->of.resource.rep = rep;
    return NULL;
}

static whirl_error_t *pg_open(const pg_api_t *api, spin_req_t *r, const whirl_cval_t *args,
                              size_t nargs, whirl_cval_t *res)
{
    return pg_connect(api, r, spin_arg_string(args, nargs, 0), NULL, 0, res);
}

/* spin:postgres@4.1.0's connection-builder: an address, and CA roots
 * (PEM) that build() checks the server's certificate against. */
typedef struct pg_builder {
    char *address;
    char *ca; /* NULL: none given */
    size_t ca_len;
} pg_builder_t;

static void builder_free(void *obj)
{
    pg_builder_t *b = obj;
    free(b->address);
    free(b->ca);
    free(b);
}

static whirl_error_t *builder_new(const pg_api_t *api, spin_req_t *r, const whirl_cval_t *args,
                                  size_t nargs, whirl_cval_t *res)
{
    const char *addr = spin_arg_string(args, nargs, 0);
    if (!addr)
        return errorf("%s: connection-builder: bad arguments", api->iface);
    pg_builder_t *b = calloc(1, sizeof *b);
    if (!b || !(b->address = strdup(addr))) {
        free(b);
        return errorf("%s: out of memory", api->iface);
    }
    uint32_t rep = 0;
    whirl_error_t *e = spin_handle_add(r, SPIN_H_PG_BUILDER, b, builder_free, &rep);
    if (e)
        return e; /* the table is full: a trap, as a constructor has no error case */
    res->kind = WHIRL_CVAL_OWN;
    res->of.resource.type = api->builder_type;
    res->of.resource.rep = rep;
    return NULL;
}

/* Whether pem holds at least one certificate and nothing else that fails
 * to parse. */
static bool pem_certificates(const char *pem, size_t len)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio)
        return false;
    int n = 0;
    X509 *x;
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
        X509_free(x);
        n++;
    }
    /* The loop ends at the end of the data (no PEM start line left) or at
     * a block that does not parse. */
    unsigned long err = ERR_peek_last_error();
    bool at_end = ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
    ERR_clear_error();
    BIO_free(bio);
    return n > 0 && at_end;
}

static whirl_error_t *builder_set_ca_root(const pg_api_t *api, pg_builder_t *b,
                                          const whirl_cval_t *args, size_t nargs,
                                          whirl_cval_t *res)
{
    if (nargs != 2 || args[1].kind != WHIRL_CVAL_STRING)
        return errorf("%s: set-ca-root: bad arguments", api->iface);
    const char *pem = args[1].of.string.data;
    size_t len = args[1].of.string.len;
    if (len > MAX_CA_BYTES - b->ca_len)
        return spin_result_err(res, E_OTHER, "too many CA root certificates");
    if (!pem_certificates(pem, len))
        return spin_result_err(res, E_OTHER, "invalid CA root certificate: no PEM certificate "
                                             "could be read");
    /* Roots accumulate: each call adds its certificates. */
    char *ca = realloc(b->ca, b->ca_len + len + 2);
    if (!ca)
        return spin_result_err(res, E_OTHER, "out of memory");
    memcpy(ca + b->ca_len, pem, len);
    b->ca_len += len;
    ca[b->ca_len++] = '\n';
    ca[b->ca_len] = '\0';
    b->ca = ca;
    return spin_result_ok(res, false, NULL);
}

/* A tuple's item i as an integer (0 if absent). */
static int64_t item(const whirl_cval_t *t, size_t i)
{
    if (t->kind != WHIRL_CVAL_TUPLE || i >= t->of.list.len)
        return 0;
    const whirl_cval_t *v = &t->of.list.items[i];
    return v->kind == WHIRL_CVAL_S32 || v->kind == WHIRL_CVAL_S64 ? v->of.s : (int64_t)v->of.u;
}

/* Runs statement with params; the last result, or NULL with *why and,
 * when the server answered with an error, that result in *failed (the
 * caller clears it). */
static PGresult *run(const pg_api_t *api, pg_conn_t *c, const whirl_cval_t *stmt,
                     const whirl_cval_t *params, char *why, size_t whylen, int *errcase,
                     PGresult **failed)
{
    *failed = NULL;
    size_t n = params->of.list.len;
    *errcase = E_BAD_PARAMETER;
    if (n > MAX_PARAMS) {
        snprintf(why, whylen, "too many parameters");
        return NULL;
    }
    const char **vals = calloc(n ? n : 1, sizeof *vals);
    int *lens = calloc(n ? n : 1, sizeof *lens), *fmts = calloc(n ? n : 1, sizeof *fmts);
    Oid *types = calloc(n ? n : 1, sizeof *types);
    char (*nums)[64] = calloc(n ? n : 1, sizeof *nums);
    char **texts = calloc(n ? n : 1, sizeof *texts); /* version 4's values, allocated */
    PGresult *last = NULL;
    if (!vals || !lens || !fmts || !types || !nums || !texts) {
        snprintf(why, whylen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const whirl_cval_t *v = &params->of.list.items[i];
        const whirl_cval_t *p = v->kind == WHIRL_CVAL_VARIANT ? v->of.variant.payload : NULL;
        uint32_t idx = v->kind == WHIRL_CVAL_VARIANT ? v->of.variant.index : 99;
        int k = idx < sizeof api->param_kind ? api->param_kind[idx] : -1;
        vals[i] = nums[i];
        if (k == K_NULL) {
            vals[i] = NULL;
        } else if (!p || k < 0) {
            snprintf(why, whylen, "parameter %zu: not a parameter-value", i + 1);
            goto out;
        } else if (k >= K_UUID) {
            char reason[200];
            if (!(vals[i] = texts[i] = pg_v4_param_text(k, p, &types[i], reason, sizeof reason))) {
                snprintf(why, whylen, "parameter %zu: %s", i + 1, reason);
                goto out;
            }
        } else if (k == K_BOOL) {
            snprintf(nums[i], sizeof nums[i], "%s", p->of.b ? "true" : "false");
        } else if (k >= K_I8 && k <= K_I64) {
            snprintf(nums[i], sizeof nums[i], "%lld", (long long)p->of.s);
        } else if (k >= K_U8 && k <= K_U64) {
            snprintf(nums[i], sizeof nums[i], "%llu", (unsigned long long)p->of.u);
        } else if (k == K_F32) {
            snprintf(nums[i], sizeof nums[i], "%.9g", (double)p->of.f32);
        } else if (k == K_F64) {
            snprintf(nums[i], sizeof nums[i], "%.17g", p->of.f64);
        } else if (k == K_DATE) {
            snprintf(nums[i], sizeof nums[i], "%04lld-%02lld-%02lld", (long long)item(p, 0),
                     (long long)item(p, 1), (long long)item(p, 2));
            types[i] = 1082;
        } else if (k == K_TIME) {
            snprintf(nums[i], sizeof nums[i], "%02lld:%02lld:%02lld.%09lld",
                     (long long)item(p, 0), (long long)item(p, 1), (long long)item(p, 2),
                     (long long)item(p, 3));
            types[i] = 1083;
        } else if (k == K_DATETIME) {
            snprintf(nums[i], sizeof nums[i], "%04lld-%02lld-%02lld %02lld:%02lld:%02lld.%09lld",
                     (long long)item(p, 0), (long long)item(p, 1), (long long)item(p, 2),
                     (long long)item(p, 3), (long long)item(p, 4), (long long)item(p, 5),
                     (long long)item(p, 6));
            types[i] = 1114;
        } else if (k == K_TIMESTAMP) {
            time_t t = (time_t)p->of.s;
            struct tm tm;
            if (!gmtime_r(&t, &tm)) {
                snprintf(why, whylen, "parameter %zu: timestamp out of range", i + 1);
                goto out;
            }
            snprintf(nums[i], sizeof nums[i], "%04d-%02d-%02d %02d:%02d:%02d+00",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec);
            types[i] = 1184;
        } else if (k == K_STR && p->kind == WHIRL_CVAL_STRING) {
            if (memchr(p->of.string.data, 0, p->of.string.len)) {
                snprintf(why, whylen, "parameter %zu: a string holding a NUL", i + 1);
                goto out;
            }
            vals[i] = p->of.string.data;
        } else if (k == K_BIN && p->kind == WHIRL_CVAL_BYTES) {
            vals[i] = p->of.string.len ? p->of.string.data : "";
            lens[i] = (int)p->of.string.len;
            fmts[i] = 1;
            types[i] = 17; /* bytea */
        } else {
            snprintf(why, whylen, "parameter %zu: unknown case", i + 1);
            goto out;
        }
    }
    *errcase = E_QUERY_FAILED;
    if (stmt->of.string.len > INT32_MAX || memchr(stmt->of.string.data, 0, stmt->of.string.len)) {
        snprintf(why, whylen, "the statement holds a NUL");
        goto out;
    }
    if (!PQsendQueryParams(c->pg, stmt->of.string.data, (int)n, types, vals, lens, fmts, 0)) {
        snprintf(why, whylen, "%s", PQerrorMessage(c->pg));
        goto out;
    }
    for (int f; (f = PQflush(c->pg)) != 0;) {
        if (f < 0 || !wait_socket(c, true))
            goto failed;
    }
    for (;;) {
        while (PQisBusy(c->pg)) {
            if (!wait_socket(c, false) || !PQconsumeInput(c->pg))
                goto failed;
        }
        PGresult *r = PQgetResult(c->pg);
        if (!r)
            break;
        PQclear(last);
        last = r;
    }
    if (!last) {
        snprintf(why, whylen, "no result");
    } else if (PQresultStatus(last) != PGRES_TUPLES_OK && PQresultStatus(last) != PGRES_COMMAND_OK) {
        snprintf(why, whylen, "%s", PQresultErrorMessage(last));
        *failed = last;
        last = NULL;
    }
    goto out;
failed:
    if (late(c) || c->req->cut) {
        /* Stop the server's work too; the connection is spent either way. */
        cancel_in_background(c->pg);
        snprintf(why, whylen, "the request's deadline passed");
    } else {
        snprintf(why, whylen, "%s", PQerrorMessage(c->pg));
    }
    PQclear(last);
    last = NULL;
out:
    free(vals);
    free(lens);
    free(fmts);
    free(types);
    free(nums);
    for (size_t i = 0; texts && i < n; i++)
        free(texts[i]);
    free(texts);
    return last;
}

/* The kind of a column's values from its type OID (K_OTHER: none the
 * interface has). */
static pg_kind_t column_kind(const pg_api_t *api, Oid t)
{
    pg_kind_t k;
    switch (t) {
    case 16: k = K_BOOL; break;
    case 21: k = K_I16; break;
    case 23: k = K_I32; break;
    case 20: k = K_I64; break;
    case 700: k = K_F32; break;
    case 701: k = K_F64; break;
    case 25: case 1043: case 1042: case 19: k = K_STR; break;
    case 17: k = K_BIN; break;
    case 1082: k = K_DATE; break;
    case 1083: k = K_TIME; break;
    case 1114: k = K_DATETIME; break;
    case 1184: k = K_TIMESTAMP; break;
    default: k = api->v4 ? pg_v4_column_kind(t) : K_OTHER; break;
    }
    return api->value_case[k] < 0 ? K_OTHER : k;
}

/* A tuple of n numbers of the given kinds. */
static whirl_error_t *set_tuple(whirl_cval_t *v, size_t n, const whirl_cval_kind_t *kinds,
                                const int64_t *nums)
{
    whirl_error_t *e = whirl_cval_set_items(v, WHIRL_CVAL_TUPLE, n);
    for (size_t i = 0; !e && i < n; i++) {
        v->of.list.items[i].kind = kinds[i];
        if (kinds[i] == WHIRL_CVAL_S32)
            v->of.list.items[i].of.s = nums[i];
        else
            v->of.list.items[i].of.u = (uint64_t)nums[i];
    }
    return e;
}

/* "HH:MM:SS[.fraction]" into hour, minute, second, nanosecond; returns
 * what follows. */
static const char *parse_time(const char *s, int64_t out[4])
{
    char *end = NULL;
    out[0] = strtol(s, &end, 10);
    out[1] = *end == ':' ? strtol(end + 1, &end, 10) : 0;
    out[2] = *end == ':' ? strtol(end + 1, &end, 10) : 0;
    out[3] = 0;
    if (*end == '.') {
        int digits = 0;
        for (end++; *end >= '0' && *end <= '9'; end++, digits++)
            if (digits < 9)
                out[3] = out[3] * 10 + (*end - '0');
        for (; digits < 9; digits++)
            out[3] *= 10;
    }
    return end;
}

static whirl_error_t *cell(const pg_api_t *api, PGresult *r, int row, int col, pg_kind_t k,
                           whirl_cval_t *v)
{
    if (PQgetisnull(r, row, col))
        return whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, (uint32_t)api->value_case[K_NULL],
                                   false);
    const char *s = PQgetvalue(r, row, col);
    int len = PQgetlength(r, row, col);
    whirl_error_t *e = NULL;
    if (k >= K_UUID) {
        e = whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, (uint32_t)api->value_case[k], true);
        if (e || pg_v4_cell(k, s, (size_t)len, v->of.variant.payload, &e) || e)
            return e;
        k = K_OTHER; /* a form not understood: unsupported, with its text */
    }
    if (k == K_OTHER) {
        /* Version 4's unsupported carries the value's text. */
        e = whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, (uint32_t)api->value_case[K_OTHER],
                                api->v4);
        if (!e && api->v4)
            e = whirl_cval_set_bytes(v->of.variant.payload, s, (size_t)len);
        return e;
    }
    e = whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, (uint32_t)api->value_case[k], true);
    if (e)
        return e;
    whirl_cval_t *p = v->of.variant.payload;
    static const whirl_cval_kind_t date_kinds[] = {WHIRL_CVAL_S32, WHIRL_CVAL_U8, WHIRL_CVAL_U8};
    static const whirl_cval_kind_t time_kinds[] = {WHIRL_CVAL_U8, WHIRL_CVAL_U8, WHIRL_CVAL_U8,
                                                   WHIRL_CVAL_U32};
    static const whirl_cval_kind_t dt_kinds[] = {WHIRL_CVAL_S32, WHIRL_CVAL_U8, WHIRL_CVAL_U8,
                                                 WHIRL_CVAL_U8,  WHIRL_CVAL_U8, WHIRL_CVAL_U8,
                                                 WHIRL_CVAL_U32};
    int64_t n[7] = {0};
    char *end = NULL;
    switch (k) {
    case K_BOOL:
        p->kind = WHIRL_CVAL_BOOL;
        p->of.b = s[0] == 't';
        return NULL;
    case K_I16:
    case K_I32:
    case K_I64:
        p->kind = k == K_I16 ? WHIRL_CVAL_S16 : k == K_I32 ? WHIRL_CVAL_S32 : WHIRL_CVAL_S64;
        p->of.s = strtoll(s, NULL, 10);
        return NULL;
    case K_F32:
        p->kind = WHIRL_CVAL_F32;
        p->of.f32 = strtof(s, NULL);
        return NULL;
    case K_F64:
        p->kind = WHIRL_CVAL_F64;
        p->of.f64 = strtod(s, NULL);
        return NULL;
    case K_STR:
        return whirl_cval_set_string(p, s, (size_t)len);
    case K_DATE:
        n[0] = strtol(s, &end, 10);
        n[1] = *end == '-' ? strtol(end + 1, &end, 10) : 0;
        n[2] = *end == '-' ? strtol(end + 1, &end, 10) : 0;
        return set_tuple(p, 3, date_kinds, n);
    case K_TIME:
        parse_time(s, n);
        return set_tuple(p, 4, time_kinds, n);
    case K_DATETIME:
    case K_TIMESTAMP: {
        n[0] = strtol(s, &end, 10);
        n[1] = *end == '-' ? strtol(end + 1, &end, 10) : 0;
        n[2] = *end == '-' ? strtol(end + 1, &end, 10) : 0;
        const char *rest = parse_time(*end == ' ' ? end + 1 : end, n + 3);
        if (k == K_DATETIME)
            return set_tuple(p, 7, dt_kinds, n);
        /* timestamptz: seconds since the epoch, the offset ("+HH[:MM]") applied. */
        struct tm tm = {.tm_year = (int)n[0] - 1900, .tm_mon = (int)n[1] - 1,
                        .tm_mday = (int)n[2], .tm_hour = (int)n[3], .tm_min = (int)n[4],
                        .tm_sec = (int)n[5]};
        int64_t t = (int64_t)timegm(&tm);
        if (*rest == '+' || *rest == '-') {
            int64_t off[4];
            parse_time(rest + 1, off);
            int64_t secs = off[0] * 3600 + off[1] * 60 + off[2];
            t -= *rest == '+' ? secs : -secs;
        }
        p->kind = WHIRL_CVAL_S64;
        p->of.s = t;
        return NULL;
    }
    default: { /* bytea, in text format: unescape */
        size_t nb = 0;
        unsigned char *b = PQunescapeBytea((const unsigned char *)s, &nb);
        if (!b)
            return errorf("out of memory");
        e = whirl_cval_set_bytes(p, b, nb);
        PQfreemem(b);
        return e;
    }
    }
}

/* row-set { columns: list<column { name, data-type }>, rows: list<list<db-value>> } */
static whirl_error_t *row_set(const pg_api_t *api, PGresult *r, whirl_cval_t *res)
{
    int ncol = PQnfields(r), nrow = PQntuples(r);
    size_t bytes = 0;
    for (int i = 0; i < nrow; i++)
        for (int j = 0; j < ncol; j++)
            bytes += 16 + (size_t)PQgetlength(r, i, j);
    if (bytes > MAX_RESULT_BYTES)
        return spin_result_err(res, E_OTHER, "the result is larger than whirl returns at once "
                                             "(64 MiB)");
    whirl_cval_t *p = NULL;
    whirl_error_t *e = spin_result_ok(res, true, &p);
    if (!e)
        e = whirl_cval_set_items(p, WHIRL_CVAL_RECORD, 2);
    whirl_cval_t *cols = e ? NULL : &p->of.list.items[0], *rows = e ? NULL : &p->of.list.items[1];
    if (!e)
        e = whirl_cval_set_items(cols, WHIRL_CVAL_LIST, (size_t)ncol);
    pg_kind_t *types = calloc(ncol ? (size_t)ncol : 1, sizeof *types);
    if (!e && !types)
        e = errorf("out of memory");
    for (int j = 0; !e && j < ncol; j++) {
        whirl_cval_t *col = &cols->of.list.items[j];
        const char *name = PQfname(r, j);
        types[j] = column_kind(api, PQftype(r, j));
        e = whirl_cval_set_items(col, WHIRL_CVAL_RECORD, 2);
        if (!e)
            e = whirl_cval_set_string(&col->of.list.items[0], name, strlen(name));
        /* db-data-type: an enum before version 4, then a variant whose
         * other(string) names the type (by OID: naming it would cost a
         * catalog query). */
        bool other_named = api->v4 && types[j] == K_OTHER;
        if (!e)
            e = whirl_cval_set_case(&col->of.list.items[1],
                                    api->v4 ? WHIRL_CVAL_VARIANT : WHIRL_CVAL_ENUM,
                                    (uint32_t)api->type_case[types[j]], other_named);
        if (!e && other_named) {
            char oid[32];
            snprintf(oid, sizeof oid, "oid %u", (unsigned)PQftype(r, j));
            e = whirl_cval_set_string(col->of.list.items[1].of.variant.payload, oid,
                                      strlen(oid));
        }
    }
    if (!e)
        e = whirl_cval_set_items(rows, WHIRL_CVAL_LIST, (size_t)nrow);
    for (int i = 0; !e && i < nrow; i++) {
        whirl_cval_t *row = &rows->of.list.items[i];
        e = whirl_cval_set_items(row, WHIRL_CVAL_LIST, (size_t)ncol);
        for (int j = 0; !e && j < ncol; j++)
            e = cell(api, r, i, j, types[j], &row->of.list.items[j]);
    }
    free(types);
    return e;
}

static whirl_error_t *pg_call_inner(const pg_api_t *api, int op, spin_req_t *rq,
                                    const whirl_cval_t *args, size_t nargs, whirl_cval_t *res)
{
    if (op == OP_OPEN)
        return pg_open(api, rq, args, nargs, res);
    if (op == OP_BUILDER_NEW)
        return builder_new(api, rq, args, nargs, res);
    if (op == OP_SET_CA_ROOT || op == OP_BUILD) {
        pg_builder_t *b = NULL;
        if (nargs >= 1 && (args[0].kind == WHIRL_CVAL_BORROW || args[0].kind == WHIRL_CVAL_OWN))
            b = spin_handle_get(rq, args[0].of.resource.rep, SPIN_H_PG_BUILDER);
        if (!b)
            return errorf("%s: invalid connection-builder handle", api->iface);
        if (op == OP_SET_CA_ROOT)
            return builder_set_ca_root(api, b, args, nargs, res);
        return pg_connect(api, rq, b->address, b->ca, b->ca_len, res);
    }
    pg_conn_t *c = NULL;
    if (nargs == 3 && (args[0].kind == WHIRL_CVAL_BORROW || args[0].kind == WHIRL_CVAL_OWN))
        c = spin_handle_get(rq, args[0].of.resource.rep, SPIN_H_PG);
    if (!c)
        return errorf("%s: invalid connection handle", api->iface);
    if (args[1].kind != WHIRL_CVAL_STRING || args[2].kind != WHIRL_CVAL_LIST)
        return errorf("%s: bad arguments", api->iface);
    char why[600];
    int ec = 0;
    PGresult *failed = NULL;
    PGresult *r = run(api, c, &args[1], &args[2], why, sizeof why, &ec, &failed);
    if (!r) {
        whirl_error_t *e = api->v4 && ec == E_QUERY_FAILED
                               ? pg_v4_query_error(res, failed, why)
                               : spin_result_err(res, (uint32_t)ec, why);
        PQclear(failed);
        return e;
    }
    whirl_error_t *e;
    if (op == OP_QUERY) {
        e = row_set(api, r, res);
    } else {
        whirl_cval_t *p = NULL;
        if (!(e = spin_result_ok(res, true, &p))) {
            p->kind = WHIRL_CVAL_U64;
            p->of.u = strtoull(PQcmdTuples(r), NULL, 10);
        }
    }
    PQclear(r);
    return e;
}

static whirl_error_t *pg_call(void *env, whirl_store_t *store,
                              const whirl_component_func_t *type, const whirl_cval_t *args,
                              size_t nargs, whirl_cval_t *results, size_t nresults)
{
    (void)type;
    uintptr_t code = (uintptr_t)env; /* version * OP_COUNT + op */
    const pg_api_t *api = &apis[code / OP_COUNT];
    spin_req_t *rq = spin_req_of(store);
    if (!rq)
        return errorf("%s: the calling store serves no request", api->iface);
    if (nresults != 1)
        return errorf("%s: wrong result count", api->iface);
    whirl_error_t *e = pg_call_inner(api, (int)(code % OP_COUNT), rq, args, nargs, results);
    return spin_check_deadline(rq, e, results, nresults, "postgres");
}

static whirl_error_t *conn_dtor(void *env, whirl_store_t *store, uint32_t rep)
{
    (void)env;
    spin_req_t *r = spin_req_of(store);
    if (r)
        spin_handle_close(r, rep, SPIN_H_PG);
    return NULL;
}

static whirl_error_t *builder_dtor(void *env, whirl_store_t *store, uint32_t rep)
{
    (void)env;
    spin_req_t *r = spin_req_of(store);
    if (r)
        spin_handle_close(r, rep, SPIN_H_PG_BUILDER);
    return NULL;
}

whirl_error_t *spin_pg_link(whirl_component_linker_t *l)
{
    whirl_error_t *e = NULL;
    for (uintptr_t v = API_V4; v < API_COUNT; v++)
        init_v4_cases(&apis[v]);
    for (uintptr_t v = 0; !e && v < API_COUNT; v++) {
        pg_api_t *api = &apis[v];
        bool builder = v >= API_V41;
        if (!api->conn_type &&
            !(api->conn_type = whirl_resource_type_new("connection", conn_dtor, NULL, NULL)))
            return errorf("out of memory");
        if (builder && !api->builder_type &&
            !(api->builder_type = whirl_resource_type_new("connection-builder", builder_dtor,
                                                          NULL, NULL)))
            return errorf("out of memory");
        e = whirl_component_linker_define_resource(l, api->iface, "connection", api->conn_type);
        if (!e && builder)
            e = whirl_component_linker_define_resource(l, api->iface, "connection-builder",
                                                       api->builder_type);
        for (uintptr_t i = 0; !e && i < (builder ? OP_COUNT : OP_BUILDER_NEW); i++)
            e = whirl_component_linker_define_func(l, api->iface, op_names[i], pg_call,
                                                   (void *)(v * OP_COUNT + i), NULL);
        /* 4.2.0's async twins (spin_async.c); query-async streams the rows. */
        static const struct {
            const char *name;
            uintptr_t op;
        } twins[] = {{"[static]connection.open-async", OP_OPEN},
                     {"[method]connection.query-async", OP_QUERY},
                     {"[method]connection.execute-async", OP_EXECUTE},
                     {"[method]connection-builder.build-async", OP_BUILD}};
        for (size_t i = 0; !e && v == API_V42 && i < sizeof twins / sizeof *twins; i++)
            e = spin_define_async(l, api->iface, twins[i].name, pg_call,
                                  (void *)(v * OP_COUNT + twins[i].op),
                                  twins[i].op == OP_QUERY ? SPIN_ASYNC_ROWS : SPIN_ASYNC_SAME);
    }
    return e;
}
