/* Spin key-value: fermyon:spin/key-value@2.0.0, its async twin
 * spin:key-value@3.0.0 (spin_async.c), and wasi:keyvalue
 * (store, atomics, batch @0.2.0-draft2), over two backends:
 *   SQLite  Spin's own layout (table spin_key_value: store, key, value), so
 *           a file `spin up` wrote reads the same here; integers of
 *           `increment` are 8 little-endian bytes, as Spin keeps them.
 *   Redis   through hiredis, keys as given (INCRBY for increment, a WATCH
 *           transaction for compare-and-swap), as Spin's Redis store does.
 * A store is opened per request and closes with it (or when dropped). A
 * label the component does not list in key_value_stores is access-denied.
 * Every call is bounded by the request's deadline: SQLite's busy timeout
 * and progress handler, Redis I/O waiting through spin_wait_fd (the
 * request suspends meanwhile; spin_redis_net.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <hiredis/hiredis.h>

#include "serve/spin_host.h"

#define errorf whirl_error_newf

enum {
    MAX_KEYS = 1 << 20,   /* keys one get-keys may return */
};

/* The interfaces' error cases. fermyon:spin/key-value: store-table-full,
 * no-such-store, access-denied, other(string); wasi:keyvalue: no-such-store,
 * access-denied, other(string). */
typedef enum kv_err { KV_NO_SUCH_STORE, KV_ACCESS_DENIED, KV_OTHER } kv_err_t;

typedef struct kv_conn {
    spin_redis_t r;  /* Redis: the connection; both: the deadline, the last failure */
    const spin_backend_t *b;
    sqlite3 *db;
} kv_conn_t;

typedef struct kv_cas {
    uint32_t bucket;   /* the bucket's rep */
    char *key;
    size_t klen;
    uint8_t *old;      /* the value when the cas was made */
    size_t oldlen;
    bool had;
} kv_cas_t;

/* ---- loading ---- */

static int mkdirs_for(const char *file)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", file);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(dir, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

whirl_error_t *spin_sqlite_create(const char *path, const char *schema)
{
    if (mkdirs_for(path) != 0)
        return errorf("%s: cannot create its directory: %s", path, strerror(errno));
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    char *msg = NULL;
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, &msg);
        if (rc == SQLITE_OK && schema)
            rc = sqlite3_exec(db, schema, NULL, NULL, &msg);
    }
    whirl_error_t *e = NULL;
    if (rc != SQLITE_OK)
        e = errorf("%s: %s", path, msg ? msg : db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_free(msg);
    sqlite3_close(db);
    return e;
}

whirl_error_t *spin_kv_prepare(const spin_backend_t *b)
{
    if (b->kind != SPIN_BACKEND_SQLITE)
        return NULL; /* Redis: connected per request */
    return spin_sqlite_create(b->path,
                              "CREATE TABLE IF NOT EXISTS spin_key_value (store TEXT NOT NULL, "
                              "key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (store, key))");
}

/* ---- backends ---- */

static void kv_close(void *obj)
{
    kv_conn_t *c = obj;
    sqlite3_close(c->db);
    spin_redis_close(&c->r);
    free(c);
}

static sqlite3_stmt *prep(kv_conn_t *c, const char *sql, const char *key, size_t klen)
{
    sqlite3_stmt *st = NULL;
    spin_sqlite_arm(c->db, c->r.deadline_ns);
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(c->r.why, sizeof c->r.why, "sqlite: %s", spin_sqlite_why(c->db, c->r.deadline_ns));
        return NULL;
    }
    sqlite3_bind_text(st, 1, c->b->label, -1, SQLITE_STATIC);
    if (key)
        sqlite3_bind_text(st, 2, key, (int)klen, SQLITE_STATIC);
    return st;
}

static bool step_done(kv_conn_t *c, sqlite3_stmt *st, int rc)
{
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
        sqlite3_finalize(st);
        return true;
    }
    snprintf(c->r.why, sizeof c->r.why, "sqlite: %s", spin_sqlite_why(c->db, c->r.deadline_ns));
    sqlite3_finalize(st);
    return false;
}

/* The value of key (found false: none); *val is malloc'd. */
static bool kv_get(kv_conn_t *c, const char *key, size_t klen, uint8_t **val, size_t *len,
                   bool *found)
{
    *found = false;
    *val = NULL;
    *len = 0;
    if (spin_redis_is_open(&c->r)) {
        redisReply *r = spin_redis_cmd(&c->r, "GET %b", key, klen);
        if (!r)
            return false;
        if (r->type == REDIS_REPLY_STRING) {
            *found = true;
            *len = r->len;
            *val = malloc(r->len ? r->len : 1);
            if (*val)
                memcpy(*val, r->str, r->len);
        }
        freeReplyObject(r);
        if (*found && !*val) {
            snprintf(c->r.why, sizeof c->r.why, "out of memory");
            return false;
        }
        return true;
    }
    sqlite3_stmt *st =
        prep(c, "SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2", key, klen);
    if (!st)
        return false;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const void *b = sqlite3_column_blob(st, 0);
        *len = (size_t)sqlite3_column_bytes(st, 0);
        *val = malloc(*len ? *len : 1);
        if (!*val) {
            sqlite3_finalize(st);
            snprintf(c->r.why, sizeof c->r.why, "out of memory");
            return false;
        }
        if (*len)
            memcpy(*val, b, *len);
        *found = true;
    }
    return step_done(c, st, rc);
}

static bool kv_set(kv_conn_t *c, const char *key, size_t klen, const void *val, size_t len)
{
    if (spin_redis_is_open(&c->r)) {
        redisReply *r = spin_redis_cmd(&c->r, "SET %b %b", key, klen, val, len);
        freeReplyObject(r);
        return r != NULL;
    }
    sqlite3_stmt *st = prep(c,
                            "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3) "
                            "ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
                            key, klen);
    if (!st)
        return false;
    sqlite3_bind_blob(st, 3, len ? val : "", (int)len, SQLITE_STATIC);
    return step_done(c, st, sqlite3_step(st));
}

static bool kv_delete(kv_conn_t *c, const char *key, size_t klen)
{
    if (spin_redis_is_open(&c->r)) {
        redisReply *r = spin_redis_cmd(&c->r, "DEL %b", key, klen);
        freeReplyObject(r);
        return r != NULL;
    }
    sqlite3_stmt *st =
        prep(c, "DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2", key, klen);
    return st && step_done(c, st, sqlite3_step(st));
}

static bool kv_exists(kv_conn_t *c, const char *key, size_t klen, bool *yes)
{
    *yes = false;
    if (spin_redis_is_open(&c->r)) {
        redisReply *r = spin_redis_cmd(&c->r, "EXISTS %b", key, klen);
        if (r)
            *yes = r->type == REDIS_REPLY_INTEGER && r->integer > 0;
        freeReplyObject(r);
        return r != NULL;
    }
    sqlite3_stmt *st =
        prep(c, "SELECT 1 FROM spin_key_value WHERE store = ?1 AND key = ?2", key, klen);
    if (!st)
        return false;
    int rc = sqlite3_step(st);
    *yes = rc == SQLITE_ROW;
    return step_done(c, st, rc);
}

/* Every key, into a LIST of strings. */
static bool kv_keys(kv_conn_t *c, whirl_cval_t *list)
{
    whirl_error_t *e = NULL;
    if (spin_redis_is_open(&c->r)) {
        redisReply *r = spin_redis_cmd(&c->r, "KEYS *");
        if (!r)
            return false;
        size_t n = r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
        if (n > MAX_KEYS)
            n = MAX_KEYS;
        e = whirl_cval_set_items(list, WHIRL_CVAL_LIST, n);
        for (size_t i = 0; !e && i < n; i++)
            e = whirl_cval_set_string(&list->of.list.items[i], r->element[i]->str,
                                      r->element[i]->str ? r->element[i]->len : 0);
        freeReplyObject(r);
    } else {
        sqlite3_stmt *st =
            prep(c, "SELECT key FROM spin_key_value WHERE store = ?1 ORDER BY key", NULL, 0);
        if (!st)
            return false;
        size_t n = 0, cap = 0;
        whirl_cval_t *items = NULL;
        int rc;
        while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW && n < MAX_KEYS) {
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                whirl_cval_t *ni = realloc(items, cap * sizeof *ni);
                if (!ni) {
                    e = errorf("out of memory");
                    break;
                }
                items = ni;
            }
            memset(&items[n], 0, sizeof items[n]);
            e = whirl_cval_set_string(&items[n++], (const char *)sqlite3_column_text(st, 0),
                                      (size_t)sqlite3_column_bytes(st, 0));
        }
        if (!e && !step_done(c, st, rc)) {
            for (size_t i = 0; i < n; i++)
                whirl_cval_release(&items[i]);
            free(items);
            return false;
        }
        if (e)
            sqlite3_finalize(st);
        whirl_cval_release(list);
        list->kind = WHIRL_CVAL_LIST;
        list->of.list.items = items;
        list->of.list.len = n;
    }
    if (e) {
        snprintf(c->r.why, sizeof c->r.why, "%s", whirl_error_message(e));
        whirl_error_delete(e);
        return false;
    }
    return true;
}

static bool sql_exec(kv_conn_t *c, const char *sql)
{
    spin_sqlite_arm(c->db, c->r.deadline_ns);
    if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) == SQLITE_OK)
        return true;
    snprintf(c->r.why, sizeof c->r.why, "sqlite: %s", spin_sqlite_why(c->db, c->r.deadline_ns));
    return false;
}

/* The integer at key plus delta (a missing key counts as 0). */
static bool kv_increment(kv_conn_t *c, const char *key, size_t klen, int64_t delta,
                         int64_t *out)
{
    if (spin_redis_is_open(&c->r)) {
        redisReply *r = spin_redis_cmd(&c->r, "INCRBY %b %lld", key, klen, (long long)delta);
        if (r)
            *out = r->integer;
        freeReplyObject(r);
        return r != NULL;
    }
    if (!sql_exec(c, "BEGIN IMMEDIATE"))
        return false;
    uint8_t *old = NULL;
    size_t len = 0;
    bool found = false, ok = kv_get(c, key, klen, &old, &len, &found);
    int64_t v = 0;
    if (ok && found && len != 8) {
        snprintf(c->r.why, sizeof c->r.why, "the value is not an 8-byte integer");
        ok = false;
    }
    if (ok && found)
        for (int i = 7; i >= 0; i--)
            v = (int64_t)((uint64_t)v << 8 | old[i]);
    free(old);
    v = (int64_t)((uint64_t)v + (uint64_t)delta);
    uint8_t le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)((uint64_t)v >> (8 * i));
    if (ok)
        ok = kv_set(c, key, klen, le, 8);
    if (ok)
        ok = sql_exec(c, "COMMIT");
    if (!ok)
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    *out = v;
    return ok;
}

/* Sets key to val if it still holds what the cas saw; *swapped false if
 * not. */
static bool kv_swap(kv_conn_t *c, const kv_cas_t *cas, const void *val, size_t len,
                    bool *swapped)
{
    *swapped = false;
    if (spin_redis_is_open(&c->r)) {
        redisReply *r = spin_redis_cmd(&c->r, "WATCH %b", cas->key, cas->klen);
        freeReplyObject(r);
        if (!r)
            return false;
        uint8_t *cur = NULL;
        size_t clen = 0;
        bool found = false;
        if (!kv_get(c, cas->key, cas->klen, &cur, &clen, &found))
            return false;
        bool same = found == cas->had && clen == cas->oldlen &&
                    (!clen || memcmp(cur, cas->old, clen) == 0);
        free(cur);
        if (!same) {
            freeReplyObject(spin_redis_cmd(&c->r, "UNWATCH"));
            return true;
        }
        if (!(r = spin_redis_cmd(&c->r, "MULTI")))
            return false;
        freeReplyObject(r);
        if (!(r = spin_redis_cmd(&c->r, "SET %b %b", cas->key, cas->klen, val, len)))
            return false;
        freeReplyObject(r);
        if (!(r = spin_redis_cmd(&c->r, "EXEC")))
            return false;
        *swapped = r->type == REDIS_REPLY_ARRAY;
        freeReplyObject(r);
        return true;
    }
    if (!sql_exec(c, "BEGIN IMMEDIATE"))
        return false;
    uint8_t *cur = NULL;
    size_t clen = 0;
    bool found = false, ok = kv_get(c, cas->key, cas->klen, &cur, &clen, &found);
    bool same = ok && found == cas->had && clen == cas->oldlen &&
                (!clen || memcmp(cur, cas->old, clen) == 0);
    free(cur);
    if (ok && same)
        ok = kv_set(c, cas->key, cas->klen, val, len);
    if (ok)
        ok = sql_exec(c, "COMMIT");
    if (!ok)
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    *swapped = ok && same;
    return ok;
}

/* ---- the host functions ---- */

typedef enum kv_api { API_SPIN2, API_WASI } kv_api_t;

static whirl_resource_type_t *g_store_type, *g_bucket_type, *g_cas_type;

typedef struct kcall {
    kv_api_t api;
    spin_req_t *r;
    const whirl_cval_t *args;
    size_t nargs;
    whirl_cval_t *res;
} kcall_t;

/* result::err in the interface's numbering. */
static whirl_error_t *kv_fail(const kcall_t *k, kv_err_t err, const char *msg)
{
    uint32_t idx = k->api == API_SPIN2 ? (uint32_t)err + 1 : (uint32_t)err;
    return spin_result_err(k->res, idx, err == KV_OTHER ? (msg ? msg : "failed") : NULL);
}

static whirl_error_t *kv_open(kcall_t *k, whirl_resource_type_t *type)
{
    const char *label = spin_arg_string(k->args, k->nargs, 0);
    if (!label)
        return kv_fail(k, KV_NO_SUCH_STORE, NULL);
    const spin_comp_t *sc = k->r->in->comp->spin;
    const spin_app_t *a = k->r->in->app->spin_host;
    bool granted = false;
    for (size_t i = 0; sc && i < sc->nkv && !granted; i++)
        granted = strcmp(sc->kv_labels[i], label) == 0;
    const spin_backend_t *b = NULL;
    for (size_t i = 0; a && granted && i < a->nkv && !b; i++)
        if (strcmp(a->kv[i].label, label) == 0)
            b = &a->kv[i];
    if (!granted)
        return kv_fail(k, KV_ACCESS_DENIED, NULL);
    if (!b)
        return kv_fail(k, KV_NO_SUCH_STORE, NULL);
    kv_conn_t *c = calloc(1, sizeof *c);
    if (!c)
        return kv_fail(k, KV_OTHER, "out of memory");
    c->b = b;
    c->r.req = k->r;
    c->r.deadline_ns = k->r->in->deadline_ns;
    whirl_error_t *e = NULL;
    bool ok = b->kind == SPIN_BACKEND_REDIS ? spin_redis_connect(&c->r, b->url, NULL)
                                            : !(e = spin_sqlite_open(b->path, &c->r.deadline_ns,
                                                                     &c->db));
    if (!ok) {
        char why[300];
        snprintf(why, sizeof why, "%s", e ? whirl_error_message(e) : c->r.why);
        whirl_error_delete(e);
        kv_close(c);
        serve_log("error: component '%s': key-value store '%s': %s", k->r->in->comp->id, label,
                  why);
        return kv_fail(k, KV_OTHER, why);
    }
    uint32_t rep = 0;
    if ((e = spin_handle_add(k->r, SPIN_H_KV, c, kv_close, &rep))) {
        if (k->api == API_SPIN2) {
            whirl_error_delete(e);
            return spin_result_err(k->res, 0, NULL); /* store-table-full */
        }
        whirl_error_t *f = kv_fail(k, KV_OTHER, whirl_error_message(e));
        whirl_error_delete(e);
        return f;
    }
    whirl_cval_t *p = NULL;
    if ((e = spin_result_ok(k->res, true, &p)))
        return e;
    p->kind = WHIRL_CVAL_OWN;
    p->of.resource.type = type;
    p->of.resource.rep = rep;
    return NULL;
}

/* The store (or bucket) argument i. */
static kv_conn_t *arg_conn(const kcall_t *k, size_t i)
{
    if (i >= k->nargs || (k->args[i].kind != WHIRL_CVAL_BORROW &&
                          k->args[i].kind != WHIRL_CVAL_OWN))
        return NULL;
    return spin_handle_get(k->r, k->args[i].of.resource.rep, SPIN_H_KV);
}

static bool arg_key(const kcall_t *k, size_t i, const char **key, size_t *len)
{
    if (i >= k->nargs || k->args[i].kind != WHIRL_CVAL_STRING)
        return false;
    *key = k->args[i].of.string.data;
    *len = k->args[i].of.string.len;
    return true;
}

static bool arg_bytes(const kcall_t *k, size_t i, const void **v, size_t *len)
{
    if (i >= k->nargs || k->args[i].kind != WHIRL_CVAL_BYTES)
        return false;
    *v = k->args[i].of.string.data;
    *len = k->args[i].of.string.len;
    return true;
}

static whirl_error_t *ok_option_bytes(whirl_cval_t *res, const uint8_t *v, size_t len,
                                      bool found)
{
    whirl_cval_t *p = NULL;
    whirl_error_t *e = spin_result_ok(res, true, &p);
    if (!e)
        e = whirl_cval_set_case(p, WHIRL_CVAL_OPTION, found, found);
    if (!e && found)
        e = whirl_cval_set_bytes(p->of.variant.payload, v, len);
    return e;
}

typedef enum kv_op {
    OP_OPEN, OP_GET, OP_SET, OP_DELETE, OP_EXISTS, OP_KEYS, OP_LIST_KEYS,
    OP_INCREMENT, OP_CAS_NEW, OP_CAS_CURRENT, OP_SWAP,
    OP_GET_MANY, OP_SET_MANY, OP_DELETE_MANY,
} kv_op_t;

typedef struct kv_def {
    kv_api_t api;
    const char *iface, *name;
    kv_op_t op;
} kv_def_t;

#define SPIN_KV "fermyon:spin/key-value@2.0.0"
#define SPIN_KV3 "spin:key-value/key-value@3.0.0" /* async: spin_async.c */
#define WASI_KV_STORE "wasi:keyvalue/store@0.2.0-draft2"
#define WASI_KV_ATOMICS "wasi:keyvalue/atomics@0.2.0-draft2"
#define WASI_KV_BATCH "wasi:keyvalue/batch@0.2.0-draft2"

static const kv_def_t kv_defs[] = {
    {API_SPIN2, SPIN_KV, "[static]store.open", OP_OPEN},
    {API_SPIN2, SPIN_KV, "[method]store.get", OP_GET},
    {API_SPIN2, SPIN_KV, "[method]store.set", OP_SET},
    {API_SPIN2, SPIN_KV, "[method]store.delete", OP_DELETE},
    {API_SPIN2, SPIN_KV, "[method]store.exists", OP_EXISTS},
    {API_SPIN2, SPIN_KV, "[method]store.get-keys", OP_KEYS},
    {API_SPIN2, SPIN_KV3, "[static]store.open", OP_OPEN},
    {API_SPIN2, SPIN_KV3, "[method]store.get", OP_GET},
    {API_SPIN2, SPIN_KV3, "[method]store.set", OP_SET},
    {API_SPIN2, SPIN_KV3, "[method]store.delete", OP_DELETE},
    {API_SPIN2, SPIN_KV3, "[method]store.exists", OP_EXISTS},
    {API_SPIN2, SPIN_KV3, "[method]store.get-keys", OP_KEYS},
    {API_WASI, WASI_KV_STORE, "open", OP_OPEN},
    {API_WASI, WASI_KV_STORE, "[method]bucket.get", OP_GET},
    {API_WASI, WASI_KV_STORE, "[method]bucket.set", OP_SET},
    {API_WASI, WASI_KV_STORE, "[method]bucket.delete", OP_DELETE},
    {API_WASI, WASI_KV_STORE, "[method]bucket.exists", OP_EXISTS},
    {API_WASI, WASI_KV_STORE, "[method]bucket.list-keys", OP_LIST_KEYS},
    {API_WASI, WASI_KV_ATOMICS, "increment", OP_INCREMENT},
    {API_WASI, WASI_KV_ATOMICS, "[static]cas.new", OP_CAS_NEW},
    {API_WASI, WASI_KV_ATOMICS, "[method]cas.current", OP_CAS_CURRENT},
    {API_WASI, WASI_KV_ATOMICS, "swap", OP_SWAP},
    {API_WASI, WASI_KV_BATCH, "get-many", OP_GET_MANY},
    {API_WASI, WASI_KV_BATCH, "set-many", OP_SET_MANY},
    {API_WASI, WASI_KV_BATCH, "delete-many", OP_DELETE_MANY},
};

static void cas_close(void *obj)
{
    kv_cas_t *c = obj;
    free(c->key);
    free(c->old);
    free(c);
}

static whirl_error_t *do_cas_new(kcall_t *k, kv_conn_t *c, uint32_t bucket_rep)
{
    const char *key;
    size_t klen;
    if (!arg_key(k, 1, &key, &klen))
        return errorf("wasi:keyvalue: cas.new: bad arguments");
    kv_cas_t *cas = calloc(1, sizeof *cas);
    if (!cas || !(cas->key = malloc(klen + 1))) {
        free(cas);
        return kv_fail(k, KV_OTHER, "out of memory");
    }
    memcpy(cas->key, key, klen);
    cas->klen = klen;
    cas->bucket = bucket_rep;
    if (!kv_get(c, key, klen, &cas->old, &cas->oldlen, &cas->had)) {
        cas_close(cas);
        return kv_fail(k, KV_OTHER, c->r.why);
    }
    uint32_t rep = 0;
    whirl_error_t *e = spin_handle_add(k->r, SPIN_H_CAS, cas, cas_close, &rep);
    if (e) {
        whirl_error_t *f = kv_fail(k, KV_OTHER, whirl_error_message(e));
        whirl_error_delete(e);
        return f;
    }
    whirl_cval_t *p = NULL;
    if ((e = spin_result_ok(k->res, true, &p)))
        return e;
    p->kind = WHIRL_CVAL_OWN;
    p->of.resource.type = g_cas_type;
    p->of.resource.rep = rep;
    return NULL;
}

/* swap(cas: own<cas>, value) -> result<_, cas-error>; cas-error is
 * store-error(error) or cas-failed(cas), which hands the cas back. */
static whirl_error_t *do_swap(kcall_t *k)
{
    const void *val;
    size_t len;
    if (k->nargs < 2 || k->args[0].kind != WHIRL_CVAL_OWN || !arg_bytes(k, 1, &val, &len))
        return errorf("wasi:keyvalue: swap: bad arguments");
    uint32_t rep = k->args[0].of.resource.rep;
    kv_cas_t *cas = spin_handle_get(k->r, rep, SPIN_H_CAS);
    if (!cas)
        return errorf("wasi:keyvalue: swap: invalid cas handle");
    kv_conn_t *c = spin_handle_get(k->r, cas->bucket, SPIN_H_KV);
    bool swapped = false;
    const char *why = !c ? "the cas's bucket was dropped" : NULL;
    if (c && !kv_swap(c, cas, val, len, &swapped))
        why = c->r.why;
    whirl_error_t *e;
    if (!why && swapped) {
        spin_handle_close(k->r, rep, SPIN_H_CAS);
        return spin_result_ok(k->res, false, NULL);
    }
    if ((e = whirl_cval_set_case(k->res, WHIRL_CVAL_RESULT, 1, true)))
        return e;
    whirl_cval_t *ce = k->res->of.variant.payload;
    if (why) {
        spin_handle_close(k->r, rep, SPIN_H_CAS);
        if ((e = whirl_cval_set_case(ce, WHIRL_CVAL_VARIANT, 0, true)))
            return e;
        if ((e = whirl_cval_set_case(ce->of.variant.payload, WHIRL_CVAL_VARIANT, KV_OTHER,
                                     true)))
            return e;
        whirl_cval_t *s = ce->of.variant.payload->of.variant.payload;
        return whirl_cval_set_string(s, why, strlen(why));
    }
    /* Failed: the same cas goes back to the guest, seeing the new value. */
    free(cas->old);
    cas->old = NULL;
    if (!kv_get(c, cas->key, cas->klen, &cas->old, &cas->oldlen, &cas->had))
        cas->had = false;
    if ((e = whirl_cval_set_case(ce, WHIRL_CVAL_VARIANT, 1, true)))
        return e;
    ce->of.variant.payload->kind = WHIRL_CVAL_OWN;
    ce->of.variant.payload->of.resource.type = g_cas_type;
    ce->of.variant.payload->of.resource.rep = rep;
    return NULL;
}

static whirl_error_t *do_batch(kcall_t *k, kv_conn_t *c, kv_op_t op)
{
    if (k->nargs < 2 || k->args[1].kind != WHIRL_CVAL_LIST)
        return errorf("wasi:keyvalue: batch: bad arguments");
    const whirl_cval_t *l = &k->args[1];
    whirl_cval_t *p = NULL;
    whirl_error_t *e = NULL;
    if (op == OP_GET_MANY) {
        whirl_cval_t out = {0};
        e = whirl_cval_set_items(&out, WHIRL_CVAL_LIST, l->of.list.len);
        for (size_t i = 0; !e && i < l->of.list.len; i++) {
            const whirl_cval_t *key = &l->of.list.items[i];
            if (key->kind != WHIRL_CVAL_STRING) {
                e = errorf("wasi:keyvalue: get-many: a key is not a string");
                break;
            }
            uint8_t *v = NULL;
            size_t len = 0;
            bool found = false;
            if (!kv_get(c, key->of.string.data, key->of.string.len, &v, &len, &found)) {
                whirl_cval_release(&out);
                return kv_fail(k, KV_OTHER, c->r.why);
            }
            whirl_cval_t *t = &out.of.list.items[i];
            e = whirl_cval_set_items(t, WHIRL_CVAL_TUPLE, 2);
            if (!e)
                e = whirl_cval_set_string(&t->of.list.items[0], key->of.string.data,
                                          key->of.string.len);
            if (!e)
                e = whirl_cval_set_case(&t->of.list.items[1], WHIRL_CVAL_OPTION, found, found);
            if (!e && found)
                e = whirl_cval_set_bytes(t->of.list.items[1].of.variant.payload, v, len);
            free(v);
        }
        if (!e)
            e = spin_result_ok(k->res, true, &p);
        if (!e) {
            *p = out;
            return NULL;
        }
        whirl_cval_release(&out);
        return e;
    }
    for (size_t i = 0; i < l->of.list.len; i++) {
        const whirl_cval_t *it = &l->of.list.items[i];
        bool ok;
        if (op == OP_DELETE_MANY) {
            if (it->kind != WHIRL_CVAL_STRING)
                return errorf("wasi:keyvalue: delete-many: a key is not a string");
            ok = kv_delete(c, it->of.string.data, it->of.string.len);
        } else {
            if (it->kind != WHIRL_CVAL_TUPLE || it->of.list.len != 2 ||
                it->of.list.items[0].kind != WHIRL_CVAL_STRING ||
                it->of.list.items[1].kind != WHIRL_CVAL_BYTES)
                return errorf("wasi:keyvalue: set-many: bad entry");
            ok = kv_set(c, it->of.list.items[0].of.string.data,
                        it->of.list.items[0].of.string.len, it->of.list.items[1].of.string.data,
                        it->of.list.items[1].of.string.len);
        }
        if (!ok)
            return kv_fail(k, KV_OTHER, c->r.why);
    }
    return spin_result_ok(k->res, false, NULL);
}

static whirl_error_t *kv_call_inner(const kv_def_t *d, kcall_t k, const whirl_cval_t *args,
                                    size_t nargs, whirl_cval_t *results);

static whirl_error_t *kv_call(void *env, whirl_store_t *store,
                              const whirl_component_func_t *type, const whirl_cval_t *args,
                              size_t nargs, whirl_cval_t *results, size_t nresults)
{
    const kv_def_t *d = env;
    (void)type;
    kcall_t k = {.api = d->api, .r = spin_req_of(store), .args = args, .nargs = nargs,
                 .res = results};
    if (!k.r)
        return errorf("%s.%s: the calling store serves no request", d->iface, d->name);
    if (nresults != 1)
        return errorf("%s.%s: wrong result count", d->iface, d->name);
    whirl_error_t *e = kv_call_inner(d, k, args, nargs, results);
    return spin_check_deadline(k.r, e, results, nresults, d->iface);
}

static whirl_error_t *kv_call_inner(const kv_def_t *d, kcall_t k, const whirl_cval_t *args,
                                    size_t nargs, whirl_cval_t *results)
{
    if (d->op == OP_OPEN)
        return kv_open(&k, d->api == API_SPIN2 ? g_store_type : g_bucket_type);
    if (d->op == OP_SWAP)
        return do_swap(&k);
    if (d->op == OP_CAS_CURRENT) {
        kv_cas_t *cas = nargs ? spin_handle_get(k.r, args[0].of.resource.rep, SPIN_H_CAS) : NULL;
        if (!cas)
            return errorf("%s.%s: invalid cas handle", d->iface, d->name);
        return ok_option_bytes(results, cas->old, cas->oldlen, cas->had);
    }
    kv_conn_t *c = arg_conn(&k, 0);
    if (!c)
        return errorf("%s.%s: invalid store handle", d->iface, d->name);
    const char *key = NULL;
    size_t klen = 0;
    bool keyed = d->op == OP_GET || d->op == OP_SET || d->op == OP_DELETE ||
                 d->op == OP_EXISTS || d->op == OP_INCREMENT;
    if (keyed && !arg_key(&k, 1, &key, &klen))
        return errorf("%s.%s: the key is not a string", d->iface, d->name);
    whirl_error_t *e = NULL;
    switch (d->op) {
    case OP_GET: {
        uint8_t *v = NULL;
        size_t len = 0;
        bool found = false;
        if (!kv_get(c, key, klen, &v, &len, &found))
            return kv_fail(&k, KV_OTHER, c->r.why);
        e = ok_option_bytes(results, v, len, found);
        free(v);
        return e;
    }
    case OP_SET: {
        const void *v;
        size_t len;
        if (!arg_bytes(&k, 2, &v, &len))
            return errorf("%s.%s: the value is not a list<u8>", d->iface, d->name);
        return kv_set(c, key, klen, v, len) ? spin_result_ok(results, false, NULL)
                                            : kv_fail(&k, KV_OTHER, c->r.why);
    }
    case OP_DELETE:
        return kv_delete(c, key, klen) ? spin_result_ok(results, false, NULL)
                                       : kv_fail(&k, KV_OTHER, c->r.why);
    case OP_EXISTS: {
        bool yes = false;
        whirl_cval_t *p = NULL;
        if (!kv_exists(c, key, klen, &yes))
            return kv_fail(&k, KV_OTHER, c->r.why);
        if (!(e = spin_result_ok(results, true, &p))) {
            p->kind = WHIRL_CVAL_BOOL;
            p->of.b = yes;
        }
        return e;
    }
    case OP_KEYS:
    case OP_LIST_KEYS: {
        whirl_cval_t list = {0};
        whirl_cval_t *p = NULL;
        if (!kv_keys(c, &list))
            return kv_fail(&k, KV_OTHER, c->r.why);
        if ((e = spin_result_ok(results, true, &p))) {
            whirl_cval_release(&list);
            return e;
        }
        if (d->op == OP_KEYS) {
            *p = list;
            return NULL;
        }
        /* key-response { keys, cursor: none }: every key in one page. */
        if ((e = whirl_cval_set_items(p, WHIRL_CVAL_RECORD, 2))) {
            whirl_cval_release(&list);
            return e;
        }
        p->of.list.items[0] = list;
        return whirl_cval_set_case(&p->of.list.items[1], WHIRL_CVAL_OPTION, 0, false);
    }
    case OP_INCREMENT: {
        int64_t v = 0;
        whirl_cval_t *p = NULL;
        if (nargs < 3 || args[2].kind != WHIRL_CVAL_S64)
            return errorf("%s.%s: the delta is not an s64", d->iface, d->name);
        if (!kv_increment(c, key, klen, args[2].of.s, &v))
            return kv_fail(&k, KV_OTHER, c->r.why);
        if (!(e = spin_result_ok(results, true, &p))) {
            p->kind = WHIRL_CVAL_S64;
            p->of.s = v;
        }
        return e;
    }
    case OP_CAS_NEW:
        return do_cas_new(&k, c, args[0].of.resource.rep);
    case OP_GET_MANY:
    case OP_SET_MANY:
    case OP_DELETE_MANY:
        return do_batch(&k, c, d->op);
    default:
        return errorf("%s.%s: not implemented", d->iface, d->name);
    }
}

static whirl_error_t *res_dtor(void *env, whirl_store_t *store, uint32_t rep)
{
    spin_req_t *r = spin_req_of(store);
    if (r)
        spin_handle_close(r, rep, (spin_handle_kind_t)(uintptr_t)env);
    return NULL;
}

whirl_error_t *spin_kv_link(whirl_component_linker_t *l)
{
    if (!g_store_type) {
        g_store_type = whirl_resource_type_new("store", res_dtor, (void *)SPIN_H_KV, NULL);
        g_bucket_type = whirl_resource_type_new("bucket", res_dtor, (void *)SPIN_H_KV, NULL);
        g_cas_type = whirl_resource_type_new("cas", res_dtor, (void *)SPIN_H_CAS, NULL);
        if (!g_store_type || !g_bucket_type || !g_cas_type)
            return errorf("out of memory");
    }
    whirl_error_t *e = whirl_component_linker_define_resource(l, SPIN_KV, "store", g_store_type);
    if (!e)
        e = whirl_component_linker_define_resource(l, SPIN_KV3, "store", g_store_type);
    if (!e)
        e = whirl_component_linker_define_resource(l, WASI_KV_STORE, "bucket", g_bucket_type);
    if (!e)
        e = whirl_component_linker_define_resource(l, WASI_KV_ATOMICS, "cas", g_cas_type);
    for (size_t i = 0; !e && i < sizeof kv_defs / sizeof *kv_defs; i++) {
        /* 3.0.0's get-keys streams the keys; its other functions answer as 2.0.0's. */
        bool keys3 = strcmp(kv_defs[i].iface, SPIN_KV3) == 0 && kv_defs[i].op == OP_KEYS;
        e = spin_define_async(l, kv_defs[i].iface, kv_defs[i].name, kv_call,
                              (void *)&kv_defs[i], keys3 ? SPIN_ASYNC_KEYS : SPIN_ASYNC_SAME);
    }
    return e;
}
