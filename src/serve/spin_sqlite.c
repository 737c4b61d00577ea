/* Spin SQLite: fermyon:spin/sqlite@2.0.0, spin:sqlite/sqlite@3.0.0
 * (which adds last-insert-rowid and changes) and @3.1.0 (which adds an async
 * twin of each function, spin_async.c) over real SQLite files:
 * `default` in the app's .spin/sqlite_db.db, others from the runtime config
 * file. A database the component does not list in sqlite_databases is
 * access-denied. Parameters bind as their type (integer, real, text, blob,
 * null); result values come back as SQLite typed each value.
 *
 * Every statement is bounded by the request's deadline: the busy timeout
 * is the time left, and a progress handler interrupts a statement running
 * past it (the guest gets an io error; its next instruction traps at the
 * deadline anyway). */
#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/spin_host.h"

#define errorf whirl_error_newf

enum {
    PROGRESS_OPS = 1000,        /* virtual machine steps between deadline checks */
    BUSY_MAX_MS = 60 * 1000,    /* without a deadline */
    MAX_ROWS = 1 << 20,         /* rows one execute may return */
    MAX_RESULT_BYTES = 64 << 20, /* and bytes (text and blobs, 16 per value besides) */
};

/* error cases */
enum { DB_NO_SUCH = 0, DB_ACCESS_DENIED = 1, DB_INVALID_CONN = 2, DB_FULL = 3, DB_IO = 4 };

whirl_error_t *spin_sqlite_prepare(const spin_backend_t *b)
{
    return spin_sqlite_create(b->path, NULL);
}

/* A guest's SQL stays inside its database: no ATTACH (nor VACUUM INTO,
 * which attaches its target), so no statement opens or creates another
 * file on the host. */
static int authorize(void *env, int action, const char *a, const char *b, const char *c,
                     const char *d)
{
    (void)env;
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    return action == SQLITE_ATTACH || action == SQLITE_DETACH ? SQLITE_DENY : SQLITE_OK;
}

static int past_deadline(void *arg)
{
    uint64_t d = *(const uint64_t *)arg;
    return d != UINT64_MAX && whirl_monotonic_now() >= d;
}

whirl_error_t *spin_sqlite_open(const char *path, const uint64_t *deadline_ns, sqlite3 **out)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        whirl_error_t *e = errorf("%s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return e;
    }
    sqlite3_progress_handler(db, PROGRESS_OPS, past_deadline, (void *)deadline_ns);
    sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
    sqlite3_set_authorizer(db, authorize, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    sqlite3_extended_result_codes(db, 0);
    *out = db;
    return NULL;
}

void spin_sqlite_arm(sqlite3 *db, uint64_t deadline_ns)
{
    int ms = BUSY_MAX_MS;
    if (deadline_ns != UINT64_MAX) {
        uint64_t now = whirl_monotonic_now();
        uint64_t left = now >= deadline_ns ? 0 : (deadline_ns - now) / 1000000;
        ms = left > BUSY_MAX_MS ? BUSY_MAX_MS : (int)left;
    }
    sqlite3_busy_timeout(db, ms > 0 ? ms : 1);
}

const char *spin_sqlite_why(sqlite3 *db, uint64_t deadline_ns)
{
    if (sqlite3_errcode(db) == SQLITE_INTERRUPT ||
        (deadline_ns != UINT64_MAX && whirl_monotonic_now() >= deadline_ns &&
         sqlite3_errcode(db) == SQLITE_BUSY))
        return "the request's deadline passed";
    return sqlite3_errmsg(db);
}

/* ---- connections ---- */

typedef struct db_conn {
    sqlite3 *db;
    uint64_t deadline_ns;
} db_conn_t;

static void db_close(void *obj)
{
    db_conn_t *c = obj;
    sqlite3_close(c->db);
    free(c);
}

static whirl_resource_type_t *g_conn_type;

typedef struct dcall {
    spin_req_t *r;
    const whirl_cval_t *args;
    size_t nargs;
    whirl_cval_t *res;
} dcall_t;

static whirl_error_t *db_open(dcall_t *k)
{
    const char *label = spin_arg_string(k->args, k->nargs, 0);
    if (!label)
        return spin_result_err(k->res, DB_NO_SUCH, NULL);
    const spin_comp_t *sc = k->r->in->comp->spin;
    const spin_app_t *a = k->r->in->app->spin_host;
    bool granted = false;
    for (size_t i = 0; sc && i < sc->ndb && !granted; i++)
        granted = strcmp(sc->db_labels[i], label) == 0;
    if (!granted)
        return spin_result_err(k->res, DB_ACCESS_DENIED, NULL);
    const spin_backend_t *b = NULL;
    for (size_t i = 0; a && i < a->ndb && !b; i++)
        if (strcmp(a->db[i].label, label) == 0)
            b = &a->db[i];
    if (!b)
        return spin_result_err(k->res, DB_NO_SUCH, NULL);
    db_conn_t *c = calloc(1, sizeof *c);
    if (!c)
        return spin_result_err(k->res, DB_IO, "out of memory");
    c->deadline_ns = k->r->in->deadline_ns;
    whirl_error_t *e = spin_sqlite_open(b->path, &c->deadline_ns, &c->db);
    if (e) {
        serve_log("error: component '%s': SQLite database '%s': %s", k->r->in->comp->id, label,
                  whirl_error_message(e));
        whirl_error_t *f = spin_result_err(k->res, DB_IO, whirl_error_message(e));
        whirl_error_delete(e);
        free(c);
        return f;
    }
    uint32_t rep = 0;
    if ((e = spin_handle_add(k->r, SPIN_H_SQLITE, c, db_close, &rep))) {
        whirl_error_t *f = spin_result_err(k->res, DB_IO, whirl_error_message(e));
        whirl_error_delete(e);
        return f;
    }
    whirl_cval_t *p = NULL;
    if ((e = spin_result_ok(k->res, true, &p)))
        return e;
    p->kind = WHIRL_CVAL_OWN;
    p->of.resource.type = g_conn_type;
    p->of.resource.rep = rep;
    return NULL;
}

/* A value variant: integer(s64) 0, real(f64) 1, text 2, blob 3, null 4. */
static int bind_value(sqlite3_stmt *st, int i, const whirl_cval_t *v)
{
    if (v->kind != WHIRL_CVAL_VARIANT)
        return SQLITE_MISUSE;
    const whirl_cval_t *p = v->of.variant.payload;
    switch (v->of.variant.index) {
    case 0:
        return p && p->kind == WHIRL_CVAL_S64 ? sqlite3_bind_int64(st, i, p->of.s) : SQLITE_MISUSE;
    case 1:
        return p && p->kind == WHIRL_CVAL_F64 ? sqlite3_bind_double(st, i, p->of.f64)
                                              : SQLITE_MISUSE;
    case 2:
        return p && p->kind == WHIRL_CVAL_STRING
                   ? sqlite3_bind_text64(st, i, p->of.string.data, p->of.string.len,
                                         SQLITE_STATIC, SQLITE_UTF8)
                   : SQLITE_MISUSE;
    case 3:
        if (p && p->kind == WHIRL_CVAL_BYTES)
            return sqlite3_bind_blob64(st, i, p->of.string.len ? p->of.string.data : "",
                                       p->of.string.len, SQLITE_STATIC);
        return SQLITE_MISUSE;
    case 4:
        return sqlite3_bind_null(st, i);
    default:
        return SQLITE_MISUSE;
    }
}

static whirl_error_t *column_value(sqlite3_stmt *st, int i, whirl_cval_t *v)
{
    whirl_error_t *e;
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        if (!(e = whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, 0, true))) {
            v->of.variant.payload->kind = WHIRL_CVAL_S64;
            v->of.variant.payload->of.s = sqlite3_column_int64(st, i);
        }
        return e;
    case SQLITE_FLOAT:
        if (!(e = whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, 1, true))) {
            v->of.variant.payload->kind = WHIRL_CVAL_F64;
            v->of.variant.payload->of.f64 = sqlite3_column_double(st, i);
        }
        return e;
    case SQLITE_TEXT:
        if (!(e = whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, 2, true)))
            e = whirl_cval_set_string(v->of.variant.payload,
                                      (const char *)sqlite3_column_text(st, i),
                                      (size_t)sqlite3_column_bytes(st, i));
        return e;
    case SQLITE_BLOB:
        if (!(e = whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, 3, true)))
            e = whirl_cval_set_bytes(v->of.variant.payload, sqlite3_column_blob(st, i),
                                     (size_t)sqlite3_column_bytes(st, i));
        return e;
    default:
        return whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, 4, false);
    }
}

/* The error case for a failed statement. */
static whirl_error_t *db_fail(dcall_t *k, db_conn_t *c)
{
    int code = sqlite3_errcode(c->db);
    if (code == SQLITE_FULL)
        return spin_result_err(k->res, DB_FULL, NULL);
    return spin_result_err(k->res, DB_IO, spin_sqlite_why(c->db, c->deadline_ns));
}

/* execute(statement, parameters) -> result<query-result, error>;
 * query-result { columns: list<string>, rows: list<row-result { values }> }.
 * Several statements run one after another; the last one's rows are the
 * result, as Spin does. */
static whirl_error_t *db_execute(dcall_t *k, db_conn_t *c)
{
    if (k->nargs < 3 || k->args[1].kind != WHIRL_CVAL_STRING ||
        k->args[2].kind != WHIRL_CVAL_LIST)
        return errorf("sqlite: execute: bad arguments");
    const char *sql = k->args[1].of.string.data;
    const char *end = sql + k->args[1].of.string.len;
    const whirl_cval_t *params = &k->args[2];
    whirl_cval_t cols = {0}, rows = {0};
    whirl_error_t *e = NULL;
    size_t nrows = 0, cap = 0, bytes = 0;
    whirl_cval_t *items = NULL;
    while (!e && sql < end) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        spin_sqlite_arm(c->db, c->deadline_ns);
        if (sqlite3_prepare_v2(c->db, sql, (int)(end - sql), &st, &tail) != SQLITE_OK) {
            e = db_fail(k, c);
            goto out_fail;
        }
        sql = tail;
        if (!st)
            continue; /* whitespace or a comment */
        int np = sqlite3_bind_parameter_count(st);
        for (int i = 0; i < np && (size_t)i < params->of.list.len; i++) {
            if (bind_value(st, i + 1, &params->of.list.items[i]) != SQLITE_OK) {
                sqlite3_finalize(st);
                e = spin_result_err(k->res, DB_IO, "a parameter does not match its value case");
                goto out_fail;
            }
        }
        /* A new statement's rows replace the last one's. */
        for (size_t i = 0; i < nrows; i++)
            whirl_cval_release(&items[i]);
        nrows = 0;
        whirl_cval_release(&cols);
        int ncol = sqlite3_column_count(st);
        e = whirl_cval_set_items(&cols, WHIRL_CVAL_LIST, (size_t)ncol);
        for (int i = 0; !e && i < ncol; i++) {
            const char *name = sqlite3_column_name(st, i);
            e = whirl_cval_set_string(&cols.of.list.items[i], name ? name : "",
                                      name ? strlen(name) : 0);
        }
        int rc = SQLITE_DONE;
        const char *too_big = NULL;
        while (!e && !too_big && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (nrows >= MAX_ROWS) {
                too_big = "more rows than whirl returns at once";
                break;
            }
            if (nrows == cap) {
                cap = cap ? cap * 2 : 16;
                whirl_cval_t *ni = realloc(items, cap * sizeof *ni);
                if (!ni) {
                    e = errorf("out of memory");
                    break;
                }
                items = ni;
            }
            whirl_cval_t *row = &items[nrows++];
            memset(row, 0, sizeof *row);
            e = whirl_cval_set_items(row, WHIRL_CVAL_RECORD, 1);
            if (!e)
                e = whirl_cval_set_items(&row->of.list.items[0], WHIRL_CVAL_LIST, (size_t)ncol);
            for (int i = 0; !e && i < ncol; i++) {
                bytes += 16 + (size_t)sqlite3_column_bytes(st, i);
                e = column_value(st, i, &row->of.list.items[0].of.list.items[i]);
            }
            if (bytes > MAX_RESULT_BYTES)
                too_big = "the result is larger than whirl returns at once (64 MiB)";
        }
        if (!e && too_big) {
            sqlite3_finalize(st);
            e = spin_result_err(k->res, DB_IO, too_big);
            goto out_fail;
        }
        if (!e && rc != SQLITE_DONE) {
            e = db_fail(k, c);
            sqlite3_finalize(st);
            goto out_fail;
        }
        sqlite3_finalize(st);
        if (e)
            goto out_fail;
    }
    rows.kind = WHIRL_CVAL_LIST;
    rows.of.list.items = items;
    rows.of.list.len = nrows;
    items = NULL;
    whirl_cval_t *p = NULL;
    if ((e = spin_result_ok(k->res, true, &p)) ||
        (e = whirl_cval_set_items(p, WHIRL_CVAL_RECORD, 2))) {
        whirl_cval_release(&rows);
        whirl_cval_release(&cols);
        return e;
    }
    p->of.list.items[0] = cols;
    p->of.list.items[1] = rows;
    return NULL;
out_fail:
    for (size_t i = 0; i < nrows; i++)
        whirl_cval_release(&items[i]);
    free(items);
    whirl_cval_release(&cols);
    return e;
}

typedef enum db_op { OP_OPEN, OP_EXECUTE, OP_LAST_ROWID, OP_CHANGES } db_op_t;

typedef struct db_def {
    const char *name;
    db_op_t op;
} db_def_t;

static const db_def_t db_defs[] = {
    {"[static]connection.open", OP_OPEN},
    {"[method]connection.execute", OP_EXECUTE},
    {"[method]connection.last-insert-rowid", OP_LAST_ROWID},
    {"[method]connection.changes", OP_CHANGES},
};

static whirl_error_t *db_call(void *env, whirl_store_t *store,
                              const whirl_component_func_t *type, const whirl_cval_t *args,
                              size_t nargs, whirl_cval_t *results, size_t nresults)
{
    const db_def_t *d = env;
    (void)type;
    dcall_t k = {.r = spin_req_of(store), .args = args, .nargs = nargs, .res = results};
    if (!k.r)
        return errorf("sqlite: %s: the calling store serves no request", d->name);
    if (nresults != 1)
        return errorf("sqlite: %s: wrong result count", d->name);
    if (d->op == OP_OPEN)
        return db_open(&k);
    db_conn_t *c = NULL;
    if (nargs && (args[0].kind == WHIRL_CVAL_BORROW || args[0].kind == WHIRL_CVAL_OWN))
        c = spin_handle_get(k.r, args[0].of.resource.rep, SPIN_H_SQLITE);
    if (!c)
        return errorf("sqlite: %s: invalid connection handle", d->name);
    switch (d->op) {
    case OP_EXECUTE:
        return spin_check_deadline(k.r, db_execute(&k, c), results, nresults, "sqlite");
    case OP_LAST_ROWID:
        results->kind = WHIRL_CVAL_S64;
        results->of.s = sqlite3_last_insert_rowid(c->db);
        return NULL;
    default:
        results->kind = WHIRL_CVAL_U64;
        results->of.u = (uint64_t)sqlite3_changes64(c->db);
        return NULL;
    }
}

static whirl_error_t *conn_dtor(void *env, whirl_store_t *store, uint32_t rep)
{
    (void)env;
    spin_req_t *r = spin_req_of(store);
    if (r)
        spin_handle_close(r, rep, SPIN_H_SQLITE);
    return NULL;
}

whirl_error_t *spin_sqlite_link(whirl_component_linker_t *l)
{
    if (!g_conn_type && !(g_conn_type = whirl_resource_type_new("connection", conn_dtor, NULL,
                                                                NULL)))
        return errorf("out of memory");
    static const char *const ifaces[] = {"fermyon:spin/sqlite@2.0.0", "spin:sqlite/sqlite@3.0.0",
                                         "spin:sqlite/sqlite@3.1.0"};
    /* 3.1.0 adds an async twin of each function (spin_async.c); its
     * execute-async streams the rows. */
    static const char *const async_names[] = {
        "[static]connection.open-async", "[method]connection.execute-async",
        "[method]connection.last-insert-rowid-async", "[method]connection.changes-async"};
    whirl_error_t *e = NULL;
    for (size_t v = 0; !e && v < 3; v++) {
        e = whirl_component_linker_define_resource(l, ifaces[v], "connection", g_conn_type);
        size_t n = v == 0 ? 2 : 4; /* 2.0.0 has only open and execute */
        for (size_t i = 0; !e && i < n; i++)
            e = whirl_component_linker_define_func(l, ifaces[v], db_defs[i].name, db_call,
                                                   (void *)&db_defs[i], NULL);
        for (size_t i = 0; !e && v == 2 && i < 4; i++)
            e = spin_define_async(l, ifaces[v], async_names[i], db_call, (void *)&db_defs[i],
                                  db_defs[i].op == OP_EXECUTE ? SPIN_ASYNC_ROWS
                                                              : SPIN_ASYNC_SAME);
    }
    return e;
}
