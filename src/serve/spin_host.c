/* What Spin's host interfaces share: the app's stores and databases (the
 * defaults in the app's .spin directory, as `spin up` keeps them, and
 * those of the runtime config file), each component's grants, and the
 * request's handle table. See spin_host.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <poll.h>
#include <sys/stat.h>
#include <time.h>

#include "serve/outbound.h"
#include "serve/spin_host.h"
#include "wasi/reactor.h"

#define errorf whirl_error_newf

enum { MAX_HANDLES = 128 }; /* open stores, connections and cas of one request (file descriptors) */

static void backend_free(spin_backend_t *b)
{
    free(b->label);
    free(b->path);
    free(b->url);
}

void spin_app_free(spin_app_t *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->nvars; i++) {
        free(a->vars[i].name);
        free(a->vars[i].value);
    }
    free(a->vars);
    for (size_t i = 0; i < a->nkv; i++)
        backend_free(&a->kv[i]);
    free(a->kv);
    for (size_t i = 0; i < a->ndb; i++)
        backend_free(&a->db[i]);
    free(a->db);
    spin_providers_free(a);
    free(a->dir);
    free(a);
}

static spin_backend_t *find_backend(spin_backend_t *list, size_t n, const char *label)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].label, label) == 0)
            return &list[i];
    return NULL;
}

/* Adds or replaces the backend for `label`. */
static whirl_error_t *put_backend(spin_backend_t **list, size_t *n, const char *label,
                                  spin_backend_kind_t kind, const char *path, const char *url)
{
    spin_backend_t *b = find_backend(*list, *n, label);
    if (!b) {
        spin_backend_t *l = realloc(*list, (*n + 1) * sizeof *l);
        if (!l)
            return errorf("out of memory");
        *list = l;
        b = &l[(*n)++];
        memset(b, 0, sizeof *b);
        if (!(b->label = strdup(label))) {
            (*n)--;
            return errorf("out of memory");
        }
    } else {
        free(b->path);
        free(b->url);
        b->path = b->url = NULL;
    }
    b->kind = kind;
    b->path = path ? strdup(path) : NULL;
    b->url = url ? strdup(url) : NULL;
    if ((path && !b->path) || (url && !b->url))
        return errorf("out of memory");
    return NULL;
}

/* A path relative to `dir` (absolute paths as given). */
static whirl_error_t *path_in(const char *dir, const char *rel, char out[PATH_MAX])
{
    int n = rel[0] == '/' ? snprintf(out, PATH_MAX, "%s", rel)
                          : snprintf(out, PATH_MAX, "%s/%s", dir, rel);
    if (n < 0 || n >= PATH_MAX)
        return errorf("path too long: '%s'", rel);
    return NULL;
}

/* One [key_value_store.LABEL] or [sqlite_database.LABEL] table. */
static whirl_error_t *runtime_backend(const char *file, const char *dir, const char *section,
                                      const char *label, const toml_shim_node_t *t,
                                      bool kv, spin_backend_t **list, size_t *n)
{
    if (toml_shim_kind(t) != TOML_SHIM_TABLE)
        return errorf("%s:%u: [%s.%s] must be a table", file, toml_shim_line(t), section, label);
    const char *type = toml_shim_string(toml_shim_get(t, "type"));
    const char *path = toml_shim_string(toml_shim_get(t, "path"));
    const char *url = toml_shim_string(toml_shim_get(t, "url"));
    for (size_t i = 0, k = toml_shim_table_size(t); i < k; i++) {
        const char *key = NULL;
        const toml_shim_node_t *v = toml_shim_table_at(t, i, &key);
        if (strcmp(key, "type") && strcmp(key, "path") && strcmp(key, "url"))
            serve_log("warning: %s:%u: unknown key '%s' in [%s.%s] (ignored)", file,
                      toml_shim_line(v), key, section, label);
    }
    if (!type)
        return errorf("%s:%u: [%s.%s] needs a type (\"spin\"%s)", file, toml_shim_line(t),
                      section, label, kv ? " or \"redis\"" : "");
    if (strcmp(type, "spin") == 0) {
        char full[PATH_MAX];
        whirl_error_t *e = NULL;
        if (path && (e = path_in(dir, path, full)))
            return e;
        if (!path)
            return errorf("%s:%u: [%s.%s]: whirl keeps no in-memory stores: give a path", file,
                          toml_shim_line(t), section, label);
        return put_backend(list, n, label, SPIN_BACKEND_SQLITE, full, NULL);
    }
    if (kv && strcmp(type, "redis") == 0) {
        if (!url || (strncmp(url, "redis://", 8) != 0 && strncmp(url, "rediss://", 9) != 0))
            return errorf("%s:%u: [%s.%s]: a redis store needs url = \"redis[s]://HOST[:PORT]\"",
                          file, toml_shim_line(t), section, label);
        return put_backend(list, n, label, SPIN_BACKEND_REDIS, NULL, url);
    }
    return errorf("%s:%u: [%s.%s]: type '%s' is not supported by whirl (\"spin\"%s)", file,
                  toml_shim_line(t), section, label, type, kv ? " or \"redis\"" : "");
}

/* [[variables_provider]]: type "static" with `values`, or "env" with
 * `prefix` and `dotenv_path`. */
static whirl_error_t *variables_providers(spin_app_t *a, const char *file, const char *section,
                                          const toml_shim_node_t *list)
{
    if (toml_shim_kind(list) != TOML_SHIM_ARRAY)
        return errorf("%s:%u: %s must be an array of tables ([[%s]])", file,
                      toml_shim_line(list), section, section);
    whirl_error_t *err = NULL;
    for (size_t i = 0, n = toml_shim_array_size(list); !err && i < n; i++) {
        const toml_shim_node_t *t = toml_shim_array_at(list, i);
        const char *type = toml_shim_string(toml_shim_get(t, "type"));
        char where[PATH_MAX + 64];
        snprintf(where, sizeof where, "%s:%u", file, toml_shim_line(t));
        if (type && strcmp(type, "static") == 0) {
            const toml_shim_node_t *values = toml_shim_get(t, "values");
            if (values && toml_shim_kind(values) != TOML_SHIM_TABLE)
                return errorf("%s: values must be a table of strings", where);
            err = spin_provider_add(a, false, NULL, NULL, values, where);
        } else if (type && strcmp(type, "env") == 0) {
            err = spin_provider_add(a, true, toml_shim_string(toml_shim_get(t, "prefix")),
                                    toml_shim_string(toml_shim_get(t, "dotenv_path")), NULL,
                                    where);
        } else {
            serve_log("warning: %s: [[%s]] of type '%s' is not supported by whirl (ignored): "
                      "only \"static\" and \"env\"",
                      where, section, type ? type : "(none)");
        }
    }
    return err;
}

static whirl_error_t *load_runtime_config(spin_app_t *a, const char *file)
{
    char why[512];
    toml_shim_doc_t *doc = toml_shim_parse_file(file, why, sizeof why);
    if (!doc)
        return errorf("%s: %s", file, why);
    char dir[PATH_MAX];
    if (!realpath(file, dir))
        snprintf(dir, sizeof dir, "%s", file);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    const toml_shim_node_t *root = toml_shim_root(doc);
    whirl_error_t *err = NULL;
    for (size_t i = 0, n = toml_shim_table_size(root); !err && i < n; i++) {
        const char *section = NULL;
        const toml_shim_node_t *t = toml_shim_table_at(root, i, &section);
        bool kv = strcmp(section, "key_value_store") == 0;
        if (strcmp(section, "variables_provider") == 0 || strcmp(section, "config_provider") == 0) {
            err = variables_providers(a, file, section, t);
            continue;
        }
        if (!kv && strcmp(section, "sqlite_database") != 0) {
            serve_log("warning: %s:%u: runtime config section '%s' is not implemented by whirl "
                      "(ignored)",
                      file, toml_shim_line(t), section);
            continue;
        }
        for (size_t k = 0, m = toml_shim_table_size(t); !err && k < m; k++) {
            const char *label = NULL;
            const toml_shim_node_t *b = toml_shim_table_at(t, k, &label);
            err = kv ? runtime_backend(file, dir, section, label, b, true, &a->kv, &a->nkv)
                     : runtime_backend(file, dir, section, label, b, false, &a->db, &a->ndb);
        }
    }
    toml_shim_free(doc);
    return err;
}

whirl_error_t *spin_app_load(serve_app_t *app, const char *manifest, const char *dir,
                             const toml_shim_node_t *variables, const serve_opts_t *opts)
{
    spin_app_t *a = calloc(1, sizeof *a);
    if (!a || !(a->dir = strdup(dir))) {
        free(a);
        return errorf("out of memory");
    }
    app->spin_host = a;
    /* The defaults, as `spin up` keeps them; the runtime config may
     * replace them. */
    char path[PATH_MAX];
    whirl_error_t *err = path_in(dir, ".spin/sqlite_key_value.db", path);
    if (!err)
        err = put_backend(&a->kv, &a->nkv, "default", SPIN_BACKEND_SQLITE, path, NULL);
    if (!err)
        err = path_in(dir, ".spin/sqlite_db.db", path);
    if (!err)
        err = put_backend(&a->db, &a->ndb, "default", SPIN_BACKEND_SQLITE, path, NULL);
    if (!err && opts && opts->runtime_config)
        err = load_runtime_config(a, opts->runtime_config);
    /* Last, the environment provider `spin up` always has, with ./.env. */
    if (!err)
        err = spin_provider_add(a, true, NULL, ".env", NULL, NULL);
    if (!err)
        err = spin_vars_load(a, manifest, variables, opts);
    return err;
}

/* ---- components ---- */

void spin_comp_free(spin_comp_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nvars; i++) {
        free(c->var_names[i]);
        free(c->var_values[i]);
    }
    free(c->var_names);
    free(c->var_values);
    for (size_t i = 0; i < c->nkv; i++)
        free(c->kv_labels[i]);
    free(c->kv_labels);
    for (size_t i = 0; i < c->ndb; i++)
        free(c->db_labels[i]);
    free(c->db_labels);
    free(c);
}

/* key_value_stores / sqlite_databases: labels the app defines; each
 * backend's file is created on first use here. */
static whirl_error_t *load_labels(const char *manifest, const char *id, const char *key,
                                  const toml_shim_node_t *arr, spin_backend_t *defined,
                                  size_t ndefined, bool kv, char ***out, size_t *nout)
{
    if (!arr)
        return NULL;
    if (toml_shim_kind(arr) != TOML_SHIM_ARRAY)
        return errorf("%s:%u: component '%s': %s must be an array of strings", manifest,
                      toml_shim_line(arr), id, key);
    size_t n = toml_shim_array_size(arr);
    if (!(*out = calloc(n ? n : 1, sizeof **out)))
        return errorf("out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *label = toml_shim_string(toml_shim_array_at(arr, i));
        if (!label)
            return errorf("%s:%u: component '%s': %s must be an array of strings", manifest,
                          toml_shim_line(arr), id, key);
        spin_backend_t *b = find_backend(defined, ndefined, label);
        if (!b)
            return errorf("%s:%u: component '%s' uses %s '%s', which is not defined (only "
                          "'default' is, unless --runtime-config-file defines more)",
                          manifest, toml_shim_line(arr), id,
                          kv ? "key-value store" : "SQLite database", label);
        whirl_error_t *e = kv ? spin_kv_prepare(b) : spin_sqlite_prepare(b);
        if (e) {
            whirl_error_t *w = errorf("component '%s': %s '%s': %s", id,
                                      kv ? "key-value store" : "SQLite database", label,
                                      whirl_error_message(e));
            whirl_error_delete(e);
            return w;
        }
        if (!((*out)[(*nout)++] = strdup(label)))
            return errorf("out of memory");
    }
    return NULL;
}

whirl_error_t *spin_comp_load(serve_app_t *app, serve_comp_t *c, const char *manifest,
                              const toml_shim_node_t *t)
{
    spin_app_t *a = app->spin_host;
    spin_comp_t *sc = calloc(1, sizeof *sc);
    if (!sc)
        return errorf("out of memory");
    c->spin = sc;
    whirl_error_t *err = NULL;
    const toml_shim_node_t *vars = toml_shim_get(t, "variables");
    if (vars && toml_shim_kind(vars) != TOML_SHIM_TABLE)
        return errorf("%s:%u: component '%s': variables must be a table of strings", manifest,
                      toml_shim_line(vars), c->id);
    size_t nv = toml_shim_table_size(vars);
    sc->var_names = calloc(nv ? nv : 1, sizeof *sc->var_names);
    sc->var_values = calloc(nv ? nv : 1, sizeof *sc->var_values);
    if (!sc->var_names || !sc->var_values)
        return errorf("out of memory");
    for (size_t i = 0; !err && i < nv; i++) {
        const char *name = NULL, *why = NULL;
        const toml_shim_node_t *v = toml_shim_table_at(vars, i, &name);
        const char *tmpl = toml_shim_string(v);
        char *value = NULL;
        if (!spin_var_name_ok(name, &why))
            return errorf("%s:%u: component '%s': invalid variable name '%s': %s", manifest,
                          toml_shim_line(v), c->id, name, why);
        if (!tmpl)
            return errorf("%s:%u: component '%s': variable '%s' must be a string", manifest,
                          toml_shim_line(v), c->id, name);
        if ((err = spin_vars_expand(a, tmpl, &value))) {
            whirl_error_t *w = errorf("%s:%u: component '%s': variable '%s': %s", manifest,
                                      toml_shim_line(v), c->id, name, whirl_error_message(err));
            whirl_error_delete(err);
            return w;
        }
        sc->var_names[sc->nvars] = strdup(name);
        sc->var_values[sc->nvars] = value;
        if (!sc->var_names[sc->nvars++])
            return errorf("out of memory");
    }
    err = load_labels(manifest, c->id, "key_value_stores", toml_shim_get(t, "key_value_stores"),
                      a->kv, a->nkv, true, &sc->kv_labels, &sc->nkv);
    if (!err)
        err = load_labels(manifest, c->id, "sqlite_databases",
                          toml_shim_get(t, "sqlite_databases"), a->db, a->ndb, false,
                          &sc->db_labels, &sc->ndb);
    return err;
}

/* ---- allowed_outbound_hosts ---- */

bool spin_outbound_allowed(const serve_inst_t *in, const char *scheme, const char *host,
                           int port)
{
    /* The policy holds IPv6 addresses as URLs write them, in brackets. */
    char name[300];
    if (strchr(host, ':') && host[0] != '[')
        snprintf(name, sizeof name, "[%s]", host);
    else
        snprintf(name, sizeof name, "%s", host);
    return port > 0 && port <= 65535 &&
           (ob_policy_allows(in->comp->outbound, scheme, name, (unsigned)port) ||
            ob_policy_allows(in->app->outbound, scheme, name, (unsigned)port));
}

/* ---- linking ---- */

whirl_error_t *spin_host_link(serve_app_t *app)
{
    whirl_error_t *e = spin_vars_link(app->clinker);
    if (!e)
        e = spin_kv_link(app->clinker);
    if (!e)
        e = spin_sqlite_link(app->clinker);
    if (!e)
        e = spin_redis_link(app->clinker);
    if (!e)
        e = spin_mqtt_link(app->clinker);
    if (!e)
        e = spin_pg_link(app->clinker);
    if (!e)
        e = spin_mysql_link(app->clinker);
    if (!e)
        e = spin_llm_link(app->clinker);
    return e;
}

/* ---- the request's handles ---- */

spin_req_t *spin_req_of(whirl_store_t *store)
{
    serve_inst_t *in = whirl_store_data(store);
    if (!in || !in->comp)
        return NULL;
    if (!in->spin_req) {
        spin_req_t *r = calloc(1, sizeof *r);
        if (!r)
            return NULL;
        r->in = in;
        in->spin_req = r;
    }
    return in->spin_req;
}

whirl_error_t *spin_handle_add(spin_req_t *r, spin_handle_kind_t kind, void *obj,
                               void (*close)(void *), uint32_t *rep)
{
    uint32_t i = 0;
    while (i < r->n && r->h[i].kind != SPIN_H_FREE)
        i++;
    if (i == r->n) {
        if (r->n >= MAX_HANDLES || (r->n == r->cap && r->cap >= MAX_HANDLES)) {
            close(obj);
            return errorf("more than %d open stores and connections in one request",
                          MAX_HANDLES);
        }
        if (r->n == r->cap) {
            uint32_t cap = r->cap ? r->cap * 2 : 8;
            spin_handle_t *h = realloc(r->h, cap * sizeof *h);
            if (!h) {
                close(obj);
                return errorf("out of memory");
            }
            r->h = h;
            r->cap = cap;
        }
        r->n++;
    }
    r->h[i] = (spin_handle_t){.kind = kind, .obj = obj, .close = close};
    *rep = i + 1;
    return NULL;
}

void *spin_handle_get(spin_req_t *r, uint32_t rep, spin_handle_kind_t kind)
{
    if (!r || rep == 0 || rep > r->n || r->h[rep - 1].kind != kind)
        return NULL;
    return r->h[rep - 1].obj;
}

void spin_handle_close(spin_req_t *r, uint32_t rep, spin_handle_kind_t kind)
{
    if (!spin_handle_get(r, rep, kind))
        return;
    spin_handle_t h = r->h[rep - 1];
    r->h[rep - 1] = (spin_handle_t){0};
    h.close(h.obj);
}

void spin_req_end(serve_inst_t *in)
{
    spin_req_t *r = in->spin_req;
    if (!r)
        return;
    for (uint32_t i = 0; i < r->n; i++)
        if (r->h[i].kind != SPIN_H_FREE)
            r->h[i].close(r->h[i].obj);
    free(r->h);
    whirl_error_delete(r->cut);
    free(r);
    in->spin_req = NULL;
}

enum { NO_DEADLINE_NS = 60ull * 1000000000u }; /* a wait without a deadline */

int spin_wait_fd(spin_req_t *r, int fd, short events, uint64_t deadline_ns)
{
    if (fd < 0)
        return -1;
    uint64_t now = whirl_monotonic_now();
    if (deadline_ns == UINT64_MAX)
        deadline_ns = now + NO_DEADLINE_NS;
    for (;;) {
        if (r && r->cut)
            return -1; /* cut short before: the request is ending */
        if (now >= deadline_ns)
            return 0;
        uint64_t left = deadline_ns - now;
        struct timespec ts = {.tv_sec = (time_t)(left / 1000000000u),
                              .tv_nsec = (long)(left % 1000000000u)};
        struct pollfd p = {.fd = fd, .events = events};
        whirl_error_t *cut = NULL;
        /* The reactor's ppoll suspends the request's call when it runs on
         * the call's fiber, else it is ppoll. */
        int rc = r && r->in->store ? wasi_reactor_ppoll(r->in->store, &p, 1, &ts, &cut)
                                   : ppoll(&p, 1, &ts, NULL);
        if (cut) {
            if (r->cut)
                whirl_error_delete(cut);
            else
                r->cut = cut;
            return -1;
        }
        if (rc > 0)
            return p.revents ? p.revents : POLLIN;
        if (rc < 0 && errno != EINTR)
            return -1;
        now = whirl_monotonic_now();
    }
}

uint64_t spin_time_left(const spin_req_t *r)
{
    if (r->in->deadline_ns == UINT64_MAX)
        return UINT64_MAX;
    uint64_t now = whirl_monotonic_now();
    return now >= r->in->deadline_ns ? 0 : r->in->deadline_ns - now;
}

whirl_error_t *spin_check_deadline(spin_req_t *r, whirl_error_t *e, whirl_cval_t *results,
                                   size_t nresults, const char *what)
{
    if (r && r->cut) {
        whirl_error_delete(e);
        for (size_t i = 0; i < nresults; i++)
            whirl_cval_release(&results[i]);
        /* Once: a later call of the request waits (and is cut) anew. */
        whirl_error_t *cut = r->cut;
        r->cut = NULL;
        return cut;
    }
    if (spin_time_left(r) != 0)
        return e;
    whirl_error_delete(e);
    for (size_t i = 0; i < nresults; i++)
        whirl_cval_release(&results[i]);
    char msg[200];
    snprintf(msg, sizeof msg, "%s: the request's deadline passed", what);
    return whirl_trap_new(WHIRL_TRAP_INTERRUPT, msg);
}

/* ---- values ---- */

whirl_error_t *spin_result_ok(whirl_cval_t *res, bool with_payload, whirl_cval_t **payload)
{
    whirl_error_t *e = whirl_cval_set_case(res, WHIRL_CVAL_RESULT, 0, with_payload);
    if (!e && payload)
        *payload = res->of.variant.payload;
    return e;
}

whirl_error_t *spin_result_err(whirl_cval_t *res, uint32_t index, const char *msg)
{
    whirl_error_t *e = whirl_cval_set_case(res, WHIRL_CVAL_RESULT, 1, true);
    if (!e)
        e = whirl_cval_set_case(res->of.variant.payload, WHIRL_CVAL_VARIANT, index, msg != NULL);
    if (!e && msg)
        e = whirl_cval_set_string(res->of.variant.payload->of.variant.payload, msg, strlen(msg));
    return e;
}

const char *spin_arg_string(const whirl_cval_t *args, size_t nargs, size_t i)
{
    if (i >= nargs || args[i].kind != WHIRL_CVAL_STRING ||
        memchr(args[i].of.string.data, 0, args[i].of.string.len))
        return NULL;
    return args[i].of.string.data;
}

/* ---- the start-up message ---- */

void serve_app_print_routes(const serve_app_t *app, const char *base_url)
{
    printf("Serving %s\nAvailable Routes:\n", base_url);
    for (size_t i = 0; i < app->nroutes; i++) {
        const serve_route_t *r = &app->routes[i];
        printf("  %s: %s%s%s\n", r->comp->id, base_url, r->wildcard ? r->base : r->raw,
               r->wildcard ? " (wildcard)" : "");
    }
    fflush(stdout);
}
