/* Outbound PostgreSQL for Spin apps: fermyon:spin/postgres@2.0.0 through
 * libpq. open takes a connection string ("host=... user=...") or a URL
 * (postgres://...) and connects only where the component's
 * allowed_outbound_hosts lets it (postgres://HOST:PORT; a Unix socket is
 * never allowed), else connection-failed "address ... is not permitted".
 * Parameters go as text (binary as bytea), results come back typed by
 * their column's type (bool, int2/4/8, float4/8, text types, bytea; other
 * types are `unsupported`, as Spin 2 answers).
 *
 * Connecting and every statement use libpq's non-blocking calls and wait
 * in poll() until the request's deadline: a statement still running then
 * is cancelled on the server. Connections close with the request. */
#define _GNU_SOURCE
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/spin_host.h"

#define errorf whirl_error_newf

#define IFACE "fermyon:spin/postgres@2.0.0"

enum {
    /* rdbms-types error cases */
    E_CONNECTION_FAILED = 0, E_BAD_PARAMETER = 1, E_QUERY_FAILED = 2, E_CONVERSION = 3,
    E_OTHER = 4,
    NO_DEADLINE_MS = 60 * 1000,
    MAX_PARAMS = 65535,
    MAX_RESULT_BYTES = 64 << 20,
};

/* db-data-type and db-value cases */
enum {
    T_BOOLEAN = 0, T_INT8, T_INT16, T_INT32, T_INT64, T_UINT8, T_UINT16, T_UINT32, T_UINT64,
    T_FLOAT32, T_FLOAT64, T_STR, T_BINARY, T_OTHER,
    V_DB_NULL = 13, V_UNSUPPORTED = 14,
};

typedef struct pg_conn {
    PGconn *pg;
    uint64_t deadline_ns;
} pg_conn_t;

static whirl_resource_type_t *g_conn_type;

static void conn_close(void *obj)
{
    pg_conn_t *c = obj;
    PQfinish(c->pg);
    free(c);
}

/* Waits for the socket to be readable (or writable) until the deadline. */
static bool wait_socket(const pg_conn_t *c, bool write)
{
    int ms = NO_DEADLINE_MS;
    if (c->deadline_ns != UINT64_MAX) {
        uint64_t now = whirl_monotonic_now();
        if (now >= c->deadline_ns)
            return false;
        uint64_t left = (c->deadline_ns - now) / 1000000u + 1;
        ms = left < (uint64_t)NO_DEADLINE_MS ? (int)left : NO_DEADLINE_MS;
    }
    struct pollfd p = {.fd = PQsocket(c->pg), .events = write ? POLLOUT : POLLIN};
    if (p.fd < 0)
        return false;
    int rc;
    do
        rc = poll(&p, 1, ms);
    while (rc < 0 && errno == EINTR);
    return rc > 0;
}

static bool late(const pg_conn_t *c)
{
    return c->deadline_ns != UINT64_MAX && whirl_monotonic_now() >= c->deadline_ns;
}

static whirl_error_t *pg_open(spin_req_t *r, const whirl_cval_t *args, size_t nargs,
                              whirl_cval_t *res)
{
    const char *addr = spin_arg_string(args, nargs, 0);
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
                   spin_outbound_allowed(r->in->comp->spin, "postgres", host, portn);
    snprintf(why, sizeof why, "address %s:%d is not permitted", host ? host : "(none)", portn);
    PQconninfoFree(opts);
    if (!allowed) {
        serve_log("component '%s': outbound PostgreSQL denied: %s (allowed_outbound_hosts)",
                  r->in->comp->id, why);
        return spin_result_err(res, E_CONNECTION_FAILED, why);
    }
    pg_conn_t *c = calloc(1, sizeof *c);
    if (!c)
        return spin_result_err(res, E_OTHER, "out of memory");
    c->deadline_ns = r->in->deadline_ns;
    c->pg = PQconnectStart(addr);
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
    p->of.resource.type = g_conn_type;
    p->of.resource.rep = rep;
    return NULL;
}

/* Runs statement with params; *out the last result (NULL with *why). */
static PGresult *run(pg_conn_t *c, const whirl_cval_t *stmt, const whirl_cval_t *params,
                     char *why, size_t whylen, int *errcase)
{
    size_t n = params->of.list.len;
    *errcase = E_BAD_PARAMETER;
    if (n > MAX_PARAMS) {
        snprintf(why, whylen, "too many parameters");
        return NULL;
    }
    const char **vals = calloc(n ? n : 1, sizeof *vals);
    int *lens = calloc(n ? n : 1, sizeof *lens), *fmts = calloc(n ? n : 1, sizeof *fmts);
    Oid *types = calloc(n ? n : 1, sizeof *types);
    char (*nums)[40] = calloc(n ? n : 1, sizeof *nums);
    PGresult *last = NULL;
    if (!vals || !lens || !fmts || !types || !nums) {
        snprintf(why, whylen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const whirl_cval_t *v = &params->of.list.items[i];
        const whirl_cval_t *p = v->kind == WHIRL_CVAL_VARIANT ? v->of.variant.payload : NULL;
        uint32_t k = v->kind == WHIRL_CVAL_VARIANT ? v->of.variant.index : 99;
        vals[i] = nums[i];
        if (k == V_DB_NULL) {
            vals[i] = NULL;
        } else if (!p) {
            snprintf(why, whylen, "parameter %zu: not a parameter-value", i + 1);
            goto out;
        } else if (k == T_BOOLEAN) {
            snprintf(nums[i], sizeof nums[i], "%s", p->of.b ? "true" : "false");
        } else if (k >= T_INT8 && k <= T_INT64) {
            snprintf(nums[i], sizeof nums[i], "%lld", (long long)p->of.s);
        } else if (k >= T_UINT8 && k <= T_UINT64) {
            snprintf(nums[i], sizeof nums[i], "%llu", (unsigned long long)p->of.u);
        } else if (k == T_FLOAT32) {
            snprintf(nums[i], sizeof nums[i], "%.9g", (double)p->of.f32);
        } else if (k == T_FLOAT64) {
            snprintf(nums[i], sizeof nums[i], "%.17g", p->of.f64);
        } else if (k == T_STR && p->kind == WHIRL_CVAL_STRING) {
            if (memchr(p->of.string.data, 0, p->of.string.len)) {
                snprintf(why, whylen, "parameter %zu: a string holding a NUL", i + 1);
                goto out;
            }
            vals[i] = p->of.string.data;
        } else if (k == T_BINARY && p->kind == WHIRL_CVAL_BYTES) {
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
        PQclear(last);
        last = NULL;
    }
    goto out;
failed:
    if (late(c)) {
        /* Stop the server's work too; the connection is spent either way. */
        PGcancel *cancel = PQgetCancel(c->pg);
        char buf[256];
        if (cancel) {
            PQcancel(cancel, buf, sizeof buf);
            PQfreeCancel(cancel);
        }
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
    return last;
}

/* The column's db-data-type from its type OID. */
static uint32_t column_type(Oid t)
{
    switch (t) {
    case 16: return T_BOOLEAN;
    case 21: return T_INT16;
    case 23: return T_INT32;
    case 20: return T_INT64;
    case 700: return T_FLOAT32;
    case 701: return T_FLOAT64;
    case 25: case 1043: case 1042: case 19: return T_STR;
    case 17: return T_BINARY;
    default: return T_OTHER;
    }
}

static whirl_error_t *cell(PGresult *r, int row, int col, uint32_t type, whirl_cval_t *v)
{
    if (PQgetisnull(r, row, col))
        return whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, V_DB_NULL, false);
    const char *s = PQgetvalue(r, row, col);
    int len = PQgetlength(r, row, col);
    if (type == T_OTHER)
        return whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, V_UNSUPPORTED, false);
    whirl_error_t *e = whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, type, true);
    if (e)
        return e;
    whirl_cval_t *p = v->of.variant.payload;
    switch (type) {
    case T_BOOLEAN:
        p->kind = WHIRL_CVAL_BOOL;
        p->of.b = s[0] == 't';
        return NULL;
    case T_INT16:
    case T_INT32:
    case T_INT64:
        p->kind = type == T_INT16 ? WHIRL_CVAL_S16 : type == T_INT32 ? WHIRL_CVAL_S32
                                                                    : WHIRL_CVAL_S64;
        p->of.s = strtoll(s, NULL, 10);
        return NULL;
    case T_FLOAT32:
        p->kind = WHIRL_CVAL_F32;
        p->of.f32 = strtof(s, NULL);
        return NULL;
    case T_FLOAT64:
        p->kind = WHIRL_CVAL_F64;
        p->of.f64 = strtod(s, NULL);
        return NULL;
    case T_STR:
        return whirl_cval_set_string(p, s, (size_t)len);
    default: { /* bytea, in text format: unescape */
        size_t n = 0;
        unsigned char *b = PQunescapeBytea((const unsigned char *)s, &n);
        if (!b)
            return errorf("out of memory");
        e = whirl_cval_set_bytes(p, b, n);
        PQfreemem(b);
        return e;
    }
    }
}

/* row-set { columns: list<column { name, data-type }>, rows: list<list<db-value>> } */
static whirl_error_t *row_set(PGresult *r, whirl_cval_t *res)
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
    uint32_t *types = calloc(ncol ? (size_t)ncol : 1, sizeof *types);
    if (!e && !types)
        e = errorf("out of memory");
    for (int j = 0; !e && j < ncol; j++) {
        whirl_cval_t *col = &cols->of.list.items[j];
        const char *name = PQfname(r, j);
        types[j] = column_type(PQftype(r, j));
        e = whirl_cval_set_items(col, WHIRL_CVAL_RECORD, 2);
        if (!e)
            e = whirl_cval_set_string(&col->of.list.items[0], name, strlen(name));
        if (!e)
            e = whirl_cval_set_case(&col->of.list.items[1], WHIRL_CVAL_ENUM, types[j], false);
    }
    if (!e)
        e = whirl_cval_set_items(rows, WHIRL_CVAL_LIST, (size_t)nrow);
    for (int i = 0; !e && i < nrow; i++) {
        whirl_cval_t *row = &rows->of.list.items[i];
        e = whirl_cval_set_items(row, WHIRL_CVAL_LIST, (size_t)ncol);
        for (int j = 0; !e && j < ncol; j++)
            e = cell(r, i, j, types[j], &row->of.list.items[j]);
    }
    free(types);
    return e;
}

static whirl_error_t *pg_call_inner(uintptr_t op, spin_req_t *rq, const whirl_cval_t *args,
                                    size_t nargs, whirl_cval_t *res)
{
    if (op == 0)
        return pg_open(rq, args, nargs, res);
    pg_conn_t *c = NULL;
    if (nargs == 3 && (args[0].kind == WHIRL_CVAL_BORROW || args[0].kind == WHIRL_CVAL_OWN))
        c = spin_handle_get(rq, args[0].of.resource.rep, SPIN_H_PG);
    if (!c)
        return errorf(IFACE ": invalid connection handle");
    if (args[1].kind != WHIRL_CVAL_STRING || args[2].kind != WHIRL_CVAL_LIST)
        return errorf(IFACE ": bad arguments");
    char why[600];
    int ec = 0;
    PGresult *r = run(c, &args[1], &args[2], why, sizeof why, &ec);
    if (!r)
        return spin_result_err(res, (uint32_t)ec, why);
    whirl_error_t *e;
    if (op == 1) {
        e = row_set(r, res);
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
    spin_req_t *rq = spin_req_of(store);
    if (!rq)
        return errorf(IFACE ": the calling store serves no request");
    if (nresults != 1)
        return errorf(IFACE ": wrong result count");
    whirl_error_t *e = pg_call_inner((uintptr_t)env, rq, args, nargs, results);
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

whirl_error_t *spin_pg_link(whirl_component_linker_t *l)
{
    if (!g_conn_type &&
        !(g_conn_type = whirl_resource_type_new("connection", conn_dtor, NULL, NULL)))
        return errorf("out of memory");
    whirl_error_t *e = whirl_component_linker_define_resource(l, IFACE, "connection",
                                                              g_conn_type);
    static const char *const names[] = {"[static]connection.open", "[method]connection.query",
                                        "[method]connection.execute"};
    for (uintptr_t i = 0; !e && i < 3; i++)
        e = whirl_component_linker_define_func(l, IFACE, names[i], pg_call, (void *)i, NULL);
    return e;
}
