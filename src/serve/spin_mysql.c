/* Outbound MySQL/MariaDB for Spin apps: fermyon:spin/mysql@2.0.0 (and its
 * async twin spin:mysql@3.0.0, spin_async.c) through
 * libmariadb. open takes mysql://[USER[:PASSWORD]@]HOST[:PORT][/DATABASE]
 * and connects only where the component's allowed_outbound_hosts lets it
 * (mysql://HOST:PORT), else connection-failed "address ... is not
 * permitted". Statements are prepared: parameters bind as their case's
 * type; every result column is fetched as bytes and typed by the column
 * (integers signed or not, floats, text, binary strings and blobs; others
 * `unsupported`).
 *
 * Connecting and each statement's round trips (prepare, execute, fetch,
 * close) use the client's non-blocking calls (MYSQL_OPT_NONBLOCK,
 * *_start/_cont) and wait on the socket through spin_wait_fd: the request
 * suspends meanwhile and its worker thread serves others. The request's
 * deadline ends a wait (the call then traps with `interrupt`); the
 * client's own connect, read and write timeouts are armed from it too.
 * Host names are looked up off the worker's thread (spin_resolve), until
 * the deadline too. Connections close
 * with the request. */
#define _GNU_SOURCE
#include <mysql.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/spin_host.h"

#define errorf whirl_error_newf

#define IFACE "fermyon:spin/mysql@2.0.0"

enum {
    E_CONNECTION_FAILED = 0, E_BAD_PARAMETER = 1, E_QUERY_FAILED = 2, E_CONVERSION = 3,
    E_OTHER = 4,
    T_BOOLEAN = 0, T_INT8, T_INT16, T_INT32, T_INT64, T_UINT8, T_UINT16, T_UINT32, T_UINT64,
    T_FLOAT32, T_FLOAT64, T_STR, T_BINARY, T_OTHER,
    V_DB_NULL = 13, V_UNSUPPORTED = 14,
    NO_DEADLINE_S = 60,
    MAX_PARAMS = 65535,
    MAX_RESULT_BYTES = 64 << 20,
    BINARY_CHARSET = 63,
};

typedef union pstore {
    int64_t i;
    uint64_t u;
    float f;
    double d;
    signed char b8;
} pstore_t;

typedef struct my_conn {
    MYSQL *my;
    spin_req_t *req; /* the request it belongs to (waits suspend it) */
    uint64_t deadline_ns;
} my_conn_t;

static whirl_resource_type_t *g_conn_type;

static void conn_close(void *obj)
{
    my_conn_t *c = obj;
    if (c->my)
        mysql_close(c->my);
    free(c);
}

/* Whole seconds left, at least 1. */
static unsigned secs_left(uint64_t deadline_ns)
{
    if (deadline_ns == UINT64_MAX)
        return NO_DEADLINE_S;
    uint64_t now = whirl_monotonic_now();
    uint64_t left = now >= deadline_ns ? 0 : (deadline_ns - now + 999999999u) / 1000000000u;
    return left < 1 ? 1 : left > NO_DEADLINE_S ? NO_DEADLINE_S : (unsigned)left;
}

static void arm(my_conn_t *c)
{
    unsigned s = secs_left(c->deadline_ns);
    mysql_optionsv(c->my, MYSQL_OPT_READ_TIMEOUT, &s);
    mysql_optionsv(c->my, MYSQL_OPT_WRITE_TIMEOUT, &s);
}

/* Waits for what a non-blocking call asked for (status: MYSQL_WAIT_*
 * bits) and answers what happened, for its _cont: the socket's events, or
 * MYSQL_WAIT_TIMEOUT at the client's timeout, at the request's deadline
 * or when the wait was cut short, which makes the call fail at once. */
static int my_wait(my_conn_t *c, int status)
{
    short ev = 0;
    if (status & MYSQL_WAIT_READ)
        ev |= POLLIN;
    if (status & MYSQL_WAIT_WRITE)
        ev |= POLLOUT;
    if (status & MYSQL_WAIT_EXCEPT)
        ev |= POLLPRI;
    uint64_t until = c->deadline_ns;
    if (status & MYSQL_WAIT_TIMEOUT) {
        uint64_t t = whirl_monotonic_now() + (uint64_t)mysql_get_timeout_value_ms(c->my) * 1000000u;
        if (t < until)
            until = t;
    }
    int rev = spin_wait_fd(c->req, (int)mysql_get_socket(c->my), ev, until);
    if (rev <= 0)
        return MYSQL_WAIT_TIMEOUT;
    if (rev & (POLLERR | POLLHUP | POLLNVAL)) /* the call finds out which */
        return status & (MYSQL_WAIT_READ | MYSQL_WAIT_WRITE | MYSQL_WAIT_EXCEPT);
    return (rev & POLLIN ? MYSQL_WAIT_READ : 0) | (rev & POLLOUT ? MYSQL_WAIT_WRITE : 0) |
           (rev & POLLPRI ? MYSQL_WAIT_EXCEPT : 0);
}

/* Runs a non-blocking call to its end: `start` is its _start call, `cont`
 * its _cont with the same result variable and MY_EVENTS(c), what the
 * wait for the status the last step returned found. */
#define MY_RUN(c, start, cont)                                                                  \
    do {                                                                                        \
        int st_ = (start);                                                                      \
        while (st_)                                                                             \
            st_ = (cont);                                                                       \
    } while (0)
#define MY_EVENTS(c) my_wait((c), st_)

/* mysql://[user[:password]@]host[:port][/database] into its parts. */
static bool parse_address(const char *a, char *user, char *pass, char *host, int *port, char *db,
                          size_t len)
{
    if (strncmp(a, "mysql://", 8) != 0)
        return false;
    a += 8;
    user[0] = pass[0] = db[0] = '\0';
    *port = 3306;
    const char *at = strrchr(a, '@');
    if (at) {
        const char *colon = memchr(a, ':', (size_t)(at - a));
        size_t ul = colon ? (size_t)(colon - a) : (size_t)(at - a);
        if (ul >= len || (colon && (size_t)(at - colon - 1) >= len))
            return false;
        snprintf(user, len, "%.*s", (int)ul, a);
        if (colon)
            snprintf(pass, len, "%.*s", (int)(at - colon - 1), colon + 1);
        a = at + 1;
    }
    size_t hl = strcspn(a, ":/?");
    if (hl == 0 || hl >= len)
        return false;
    snprintf(host, len, "%.*s", (int)hl, a);
    a += hl;
    if (*a == ':') {
        size_t d = strspn(a + 1, "0123456789");
        if (d == 0 || d > 5)
            return false;
        *port = atoi(a + 1);
        a += 1 + d;
    }
    if (*a == '/') {
        size_t dl = strcspn(a + 1, "?");
        if (dl >= len)
            return false;
        snprintf(db, len, "%.*s", (int)dl, a + 1);
    }
    return *port > 0 && *port <= 65535;
}

static whirl_error_t *my_open(spin_req_t *r, const whirl_cval_t *args, size_t nargs,
                              whirl_cval_t *res)
{
    const char *addr = spin_arg_string(args, nargs, 0);
    char user[256], pass[256], host[256], db[256], why[600];
    int port;
    if (!addr || !parse_address(addr, user, pass, host, &port, db, sizeof user))
        return spin_result_err(res, E_CONNECTION_FAILED, "invalid address");
    if (!spin_outbound_allowed(r->in, "mysql", host, port)) {
        snprintf(why, sizeof why, "address %s:%d is not permitted", host, port);
        serve_log("component '%s': outbound MySQL denied: %s (allowed_outbound_hosts)",
                  r->in->comp->id, why);
        return spin_result_err(res, E_CONNECTION_FAILED, why);
    }
    /* The name is looked up off the worker (spin_resolve; the client's
     * own lookup would hold it for as long as DNS takes) and the client is
     * given the first address. "localhost" stays: to the client it means
     * its Unix socket, no lookup. */
    spin_addrs_t addrs;
    const char *to = host;
    if (strcmp(host, "localhost") != 0) {
        if (spin_resolve(r, host, r->in->deadline_ns, &addrs, why, sizeof why) != 0)
            return spin_result_err(res, E_CONNECTION_FAILED, why);
        to = addrs.addr[0];
    }
    my_conn_t *c = calloc(1, sizeof *c);
    if (!c || !(c->my = mysql_init(NULL))) {
        free(c);
        return spin_result_err(res, E_OTHER, "out of memory");
    }
    c->req = r;
    c->deadline_ns = r->in->deadline_ns;
    unsigned s = secs_left(c->deadline_ns);
    mysql_optionsv(c->my, MYSQL_OPT_CONNECT_TIMEOUT, &s);
    /* The client's calls run on a stack of their own and return when they
     * would wait (room for TLS and authentication plugins). */
    size_t stack = 256 * 1024;
    if (mysql_optionsv(c->my, MYSQL_OPT_NONBLOCK, &stack)) {
        conn_close(c);
        return spin_result_err(res, E_OTHER, "out of memory");
    }
    arm(c);
    /* No LOAD DATA LOCAL: the server must not read host files through us. */
    my_bool no = 0;
    mysql_optionsv(c->my, MYSQL_OPT_LOCAL_INFILE, &no);
    mysql_optionsv(c->my, MYSQL_SET_CHARSET_NAME, "utf8mb4"); /* guest strings are UTF-8 */
    MYSQL *ok = NULL;
    MY_RUN(c,
           mysql_real_connect_start(&ok, c->my, to, user, *pass ? pass : NULL, *db ? db : NULL,
                                    (unsigned)port, NULL, 0),
           mysql_real_connect_cont(&ok, c->my, MY_EVENTS(c)));
    if (!ok) {
        snprintf(why, sizeof why, "%s", mysql_error(c->my));
        conn_close(c);
        return spin_result_err(res, E_CONNECTION_FAILED, why);
    }
    uint32_t rep = 0;
    whirl_error_t *e = spin_handle_add(r, SPIN_H_MYSQL, c, conn_close, &rep);
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

/* Binds one parameter-value; false if it is not one. */
static bool bind_param(MYSQL_BIND *b, const whirl_cval_t *v, pstore_t *store)
{
    if (v->kind != WHIRL_CVAL_VARIANT)
        return false;
    const whirl_cval_t *p = v->of.variant.payload;
    uint32_t k = v->of.variant.index;
    if (k == V_DB_NULL) {
        b->buffer_type = MYSQL_TYPE_NULL;
        return true;
    }
    if (!p)
        return false;
    b->buffer = store;
    switch (k) {
    case T_BOOLEAN: b->buffer_type = MYSQL_TYPE_TINY; store->b8 = p->of.b; return true;
    case T_INT8: case T_INT16: case T_INT32: case T_INT64:
        b->buffer_type = MYSQL_TYPE_LONGLONG;
        store->i = p->of.s;
        return true;
    case T_UINT8: case T_UINT16: case T_UINT32: case T_UINT64:
        b->buffer_type = MYSQL_TYPE_LONGLONG;
        b->is_unsigned = 1;
        store->u = p->of.u;
        return true;
    case T_FLOAT32: b->buffer_type = MYSQL_TYPE_FLOAT; store->f = p->of.f32; return true;
    case T_FLOAT64: b->buffer_type = MYSQL_TYPE_DOUBLE; store->d = p->of.f64; return true;
    case T_STR:
    case T_BINARY:
        if (p->kind != WHIRL_CVAL_STRING && p->kind != WHIRL_CVAL_BYTES)
            return false;
        b->buffer_type = k == T_STR ? MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
        b->buffer = p->of.string.data ? p->of.string.data : (char *)"";
        b->buffer_length = p->of.string.len;
        return true;
    default:
        return false;
    }
}

static uint32_t column_type(const MYSQL_FIELD *f)
{
    bool u = f->flags & UNSIGNED_FLAG;
    bool bin = f->charsetnr == BINARY_CHARSET;
    switch (f->type) {
    case MYSQL_TYPE_TINY: return u ? T_UINT8 : T_INT8;
    case MYSQL_TYPE_SHORT: return u ? T_UINT16 : T_INT16;
    case MYSQL_TYPE_INT24: case MYSQL_TYPE_LONG: return u ? T_UINT32 : T_INT32;
    case MYSQL_TYPE_LONGLONG: return u ? T_UINT64 : T_INT64;
    case MYSQL_TYPE_FLOAT: return T_FLOAT32;
    case MYSQL_TYPE_DOUBLE: return T_FLOAT64;
    case MYSQL_TYPE_VARCHAR: case MYSQL_TYPE_VAR_STRING: case MYSQL_TYPE_STRING:
    case MYSQL_TYPE_TINY_BLOB: case MYSQL_TYPE_MEDIUM_BLOB: case MYSQL_TYPE_LONG_BLOB:
    case MYSQL_TYPE_BLOB:
        return bin ? T_BINARY : T_STR;
    default: return T_OTHER;
    }
}

static whirl_error_t *cell(uint32_t type, const char *s, size_t len, bool null, whirl_cval_t *v)
{
    if (null)
        return whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, V_DB_NULL, false);
    if (type == T_OTHER)
        return whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, V_UNSUPPORTED, false);
    whirl_error_t *e = whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, type, true);
    if (e)
        return e;
    whirl_cval_t *p = v->of.variant.payload;
    char num[64];
    snprintf(num, sizeof num, "%.*s", (int)(len < 63 ? len : 63), s);
    static const whirl_cval_kind_t kinds[] = {
        WHIRL_CVAL_BOOL, WHIRL_CVAL_S8, WHIRL_CVAL_S16, WHIRL_CVAL_S32, WHIRL_CVAL_S64,
        WHIRL_CVAL_U8, WHIRL_CVAL_U16, WHIRL_CVAL_U32, WHIRL_CVAL_U64, WHIRL_CVAL_F32,
        WHIRL_CVAL_F64};
    if (type <= T_FLOAT64)
        p->kind = kinds[type];
    if (type >= T_INT8 && type <= T_INT64)
        p->of.s = strtoll(num, NULL, 10);
    else if (type >= T_UINT8 && type <= T_UINT64)
        p->of.u = strtoull(num, NULL, 10);
    else if (type == T_FLOAT32)
        p->of.f32 = strtof(num, NULL);
    else if (type == T_FLOAT64)
        p->of.f64 = strtod(num, NULL);
    else if (type == T_STR)
        return whirl_cval_set_string(p, s, len);
    else
        return whirl_cval_set_bytes(p, s, len);
    return NULL;
}

/* Runs the statement; query: a row-set into res; execute: ok(()). */
static whirl_error_t *my_run(my_conn_t *c, const whirl_cval_t *stmt, const whirl_cval_t *params,
                             bool query, whirl_cval_t *res)
{
    size_t n = params->of.list.len;
    if (n > MAX_PARAMS)
        return spin_result_err(res, E_BAD_PARAMETER, "too many parameters");
    arm(c);
    char why[600];
    whirl_error_t *e = NULL;
    MYSQL_STMT *st = mysql_stmt_init(c->my);
    MYSQL_BIND *binds = calloc(n ? n : 1, sizeof *binds);
    pstore_t *stores = calloc(n ? n : 1, sizeof *stores);
    MYSQL_RES *meta = NULL;
    MYSQL_BIND *out = NULL;
    unsigned long *lens = NULL;
    my_bool *nulls = NULL;
    uint32_t *types = NULL;
    char *buf = NULL;
    if (!st || !binds || !stores) {
        e = spin_result_err(res, E_OTHER, "out of memory");
        goto done;
    }
    int rc = 0;
    MY_RUN(c, mysql_stmt_prepare_start(&rc, st, stmt->of.string.data, stmt->of.string.len),
           mysql_stmt_prepare_cont(&rc, st, MY_EVENTS(c)));
    if (rc) {
        snprintf(why, sizeof why, "%s", mysql_stmt_error(st));
        e = spin_result_err(res, E_QUERY_FAILED, why);
        goto done;
    }
    if (mysql_stmt_param_count(st) != n) {
        snprintf(why, sizeof why, "the statement takes %lu parameters, not %zu",
                 mysql_stmt_param_count(st), n);
        e = spin_result_err(res, E_BAD_PARAMETER, why);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (!bind_param(&binds[i], &params->of.list.items[i], &stores[i])) {
            snprintf(why, sizeof why, "parameter %zu: not a parameter-value", i + 1);
            e = spin_result_err(res, E_BAD_PARAMETER, why);
            goto done;
        }
    }
    if (n && mysql_stmt_bind_param(st, binds))
        rc = 1;
    else
        MY_RUN(c, mysql_stmt_execute_start(&rc, st), mysql_stmt_execute_cont(&rc, st, MY_EVENTS(c)));
    if (rc) {
        snprintf(why, sizeof why, "%s", mysql_stmt_error(st));
        e = spin_result_err(res, E_QUERY_FAILED, why);
        goto done;
    }
    if (!query) {
        e = spin_result_ok(res, false, NULL);
        goto done;
    }
    meta = mysql_stmt_result_metadata(st);
    unsigned ncol = meta ? mysql_num_fields(meta) : 0;
    MYSQL_FIELD *fields = meta ? mysql_fetch_fields(meta) : NULL;
    out = calloc(ncol ? ncol : 1, sizeof *out);
    lens = calloc(ncol ? ncol : 1, sizeof *lens);
    nulls = calloc(ncol ? ncol : 1, sizeof *nulls);
    types = calloc(ncol ? ncol : 1, sizeof *types);
    if (!out || !lens || !nulls || !types) {
        e = spin_result_err(res, E_OTHER, "out of memory");
        goto done;
    }
    whirl_cval_t *p = NULL;
    if ((e = spin_result_ok(res, true, &p)) || (e = whirl_cval_set_items(p, WHIRL_CVAL_RECORD, 2)))
        goto done;
    whirl_cval_t *cols = &p->of.list.items[0], *rows = &p->of.list.items[1];
    if ((e = whirl_cval_set_items(cols, WHIRL_CVAL_LIST, ncol)))
        goto done;
    for (unsigned j = 0; j < ncol && !e; j++) {
        types[j] = column_type(&fields[j]);
        whirl_cval_t *col = &cols->of.list.items[j];
        e = whirl_cval_set_items(col, WHIRL_CVAL_RECORD, 2);
        if (!e)
            e = whirl_cval_set_string(&col->of.list.items[0], fields[j].name,
                                      strlen(fields[j].name));
        if (!e)
            e = whirl_cval_set_case(&col->of.list.items[1], WHIRL_CVAL_ENUM, types[j], false);
        out[j].buffer_type = MYSQL_TYPE_BLOB; /* lengths first, then each column's bytes */
        out[j].length = &lens[j];
        out[j].is_null = &nulls[j];
    }
    rows->kind = WHIRL_CVAL_LIST;
    if (e || (ncol && mysql_stmt_bind_result(st, out)))
        goto done;
    size_t nrows = 0, cap = 0, bytes = 0;
    while (!e) {
        MY_RUN(c, mysql_stmt_fetch_start(&rc, st), mysql_stmt_fetch_cont(&rc, st, MY_EVENTS(c)));
        if (rc == MYSQL_NO_DATA)
            break;
        if (rc == 1) {
            snprintf(why, sizeof why, "%s", mysql_stmt_error(st));
            whirl_cval_release(res);
            e = spin_result_err(res, E_QUERY_FAILED, why);
            goto done;
        }
        if (nrows == cap) {
            cap = cap ? cap * 2 : 16;
            whirl_cval_t *ni = realloc(rows->of.list.items, cap * sizeof *ni);
            if (!ni) {
                e = errorf("out of memory");
                break;
            }
            rows->of.list.items = ni;
        }
        whirl_cval_t *row = &rows->of.list.items[nrows++];
        memset(row, 0, sizeof *row);
        rows->of.list.len = nrows;
        e = whirl_cval_set_items(row, WHIRL_CVAL_LIST, ncol);
        for (unsigned j = 0; !e && j < ncol; j++) {
            bytes += 16 + lens[j];
            if (bytes > MAX_RESULT_BYTES) {
                whirl_cval_release(res);
                e = spin_result_err(res, E_OTHER, "the result is larger than whirl returns at "
                                                  "once (64 MiB)");
                goto done;
            }
            char *nb = realloc(buf, lens[j] ? lens[j] : 1);
            if (!nb) {
                e = errorf("out of memory");
                break;
            }
            buf = nb;
            /* Text for all but floats, which the client would hand over raw. */
            double d = 0;
            float f = 0;
            MYSQL_BIND one = {.buffer_type = MYSQL_TYPE_BLOB, .buffer = buf,
                              .buffer_length = lens[j]};
            if (types[j] == T_FLOAT32)
                one = (MYSQL_BIND){.buffer_type = MYSQL_TYPE_FLOAT, .buffer = &f};
            else if (types[j] == T_FLOAT64)
                one = (MYSQL_BIND){.buffer_type = MYSQL_TYPE_DOUBLE, .buffer = &d};
            bool fetch = lens[j] || types[j] == T_FLOAT32 || types[j] == T_FLOAT64;
            if (!nulls[j] && fetch && mysql_stmt_fetch_column(st, &one, j, 0)) {
                snprintf(why, sizeof why, "%s", mysql_stmt_error(st));
                whirl_cval_release(res);
                e = spin_result_err(res, E_CONVERSION, why);
                goto done;
            }
            e = cell(types[j], buf, lens[j], nulls[j], &row->of.list.items[j]);
            if (!e && !nulls[j] && types[j] == T_FLOAT32)
                row->of.list.items[j].of.variant.payload->of.f32 = f;
            else if (!e && !nulls[j] && types[j] == T_FLOAT64)
                row->of.list.items[j].of.variant.payload->of.f64 = d;
        }
    }
done:
    free(buf);
    free(types);
    free(nulls);
    free(lens);
    free(out);
    if (meta)
        mysql_free_result(meta);
    free(stores);
    free(binds);
    if (st) {
        my_bool failed = 0;
        MY_RUN(c, mysql_stmt_close_start(&failed, st),
               mysql_stmt_close_cont(&failed, st, MY_EVENTS(c)));
    }
    return e;
}

static whirl_error_t *my_call(void *env, whirl_store_t *store,
                              const whirl_component_func_t *type, const whirl_cval_t *args,
                              size_t nargs, whirl_cval_t *results, size_t nresults)
{
    (void)type;
    uintptr_t op = (uintptr_t)env;
    spin_req_t *rq = spin_req_of(store);
    if (!rq)
        return errorf(IFACE ": the calling store serves no request");
    if (nresults != 1)
        return errorf(IFACE ": wrong result count");
    whirl_error_t *e;
    if (op == 0) {
        e = my_open(rq, args, nargs, results);
    } else {
        my_conn_t *c = NULL;
        if (nargs == 3 && (args[0].kind == WHIRL_CVAL_BORROW || args[0].kind == WHIRL_CVAL_OWN))
            c = spin_handle_get(rq, args[0].of.resource.rep, SPIN_H_MYSQL);
        if (!c)
            return errorf(IFACE ": invalid connection handle");
        if (args[1].kind != WHIRL_CVAL_STRING || args[2].kind != WHIRL_CVAL_LIST)
            return errorf(IFACE ": bad arguments");
        e = my_run(c, &args[1], &args[2], op == 1, results);
    }
    return spin_check_deadline(rq, e, results, nresults, "mysql");
}

static whirl_error_t *conn_dtor(void *env, whirl_store_t *store, uint32_t rep)
{
    (void)env;
    spin_req_t *r = spin_req_of(store);
    if (r)
        spin_handle_close(r, rep, SPIN_H_MYSQL);
    return NULL;
}

whirl_error_t *spin_mysql_link(whirl_component_linker_t *l)
{
    if (!g_conn_type) {
        /* Once, before any worker thread: mysql_init would do it racily. */
        if (mysql_library_init(0, NULL, NULL))
            return errorf("libmariadb: cannot initialise");
        if (!(g_conn_type = whirl_resource_type_new("connection", conn_dtor, NULL, NULL)))
            return errorf("out of memory");
    }
    static const char *const names[] = {"[static]connection.open", "[method]connection.query",
                                        "[method]connection.execute"};
    /* spin:mysql@3.0.0: the same functions, async; its query streams the
     * rows (spin_async.c). */
    static const char *const ifaces[] = {IFACE, "spin:mysql/mysql@3.0.0"};
    whirl_error_t *e = NULL;
    for (size_t v = 0; !e && v < 2; v++) {
        e = whirl_component_linker_define_resource(l, ifaces[v], "connection", g_conn_type);
        for (uintptr_t i = 0; !e && i < 3; i++)
            e = spin_define_async(l, ifaces[v], names[i], my_call, (void *)i,
                                  v == 1 && i == 1 ? SPIN_ASYNC_ROWS : SPIN_ASYNC_SAME);
    }
    return e;
}
