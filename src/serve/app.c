/* The app of `whirl serve`: loading it (a single module or component, or a
 * Spin manifest), Spin's routing, and the instance each request gets: a new
 * store with the request's memory limit and deadline, instantiated from the
 * component's instance_pre (pool slots when pooling is on). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/app.h"
#include "serve/spin_host.h"
#include "serve/wasihttp.h"
#include "wasi3/versions.h"

#define errorf whirl_error_newf

/* The WASI context of the store's request (NULL for stores of other
 * executors, which then trap on a WASI call). */
static whirl_wasi_t *lookup_wasi(void *env, whirl_store_t *store)
{
    (void)env;
    serve_inst_t *in = whirl_store_data(store);
    return in ? in->wasi : NULL;
}

void serve_comp_free(serve_comp_t *c)
{
    if (!c)
        return;
    whirl_instance_pre_delete(c->pre);
    whirl_module_delete(c->module);
    whirl_component_instance_pre_delete(c->cpre);
    whirl_component_delete(c->component);
    for (size_t i = 0; i < c->nenv; i++) {
        free(c->env_keys[i]);
        free(c->env_values[i]);
    }
    free(c->env_keys);
    free(c->env_values);
    for (size_t i = 0; i < c->ndirs; i++) {
        free(c->dirs[i].host);
        free(c->dirs[i].guest);
    }
    free(c->dirs);
    spin_comp_free(c->spin);
    ob_policy_free(c->outbound);
    free(c->id);
    free(c->source);
    free(c);
}

whirl_error_t *serve_comp_add_env(serve_comp_t *c, const char *key, const char *value)
{
    for (size_t i = 0; i < c->nenv; i++) {
        if (strcmp(c->env_keys[i], key) == 0) {
            char *v = strdup(value);
            if (!v)
                return errorf("out of memory");
            free(c->env_values[i]);
            c->env_values[i] = v;
            return NULL;
        }
    }
    char **k = realloc(c->env_keys, (c->nenv + 1) * sizeof *k);
    if (k)
        c->env_keys = k;
    char **v = realloc(c->env_values, (c->nenv + 1) * sizeof *v);
    if (v)
        c->env_values = v;
    if (!k || !v)
        return errorf("out of memory");
    c->env_keys[c->nenv] = strdup(key);
    c->env_values[c->nenv] = strdup(value);
    if (!c->env_keys[c->nenv] || !c->env_values[c->nenv]) {
        free(c->env_keys[c->nenv]);
        free(c->env_values[c->nenv]);
        return errorf("out of memory");
    }
    c->nenv++;
    return NULL;
}

whirl_error_t *serve_comp_add_dir(serve_comp_t *c, const char *host, const char *guest,
                                  uint32_t flags)
{
    serve_dir_t *d = realloc(c->dirs, (c->ndirs + 1) * sizeof *d);
    if (!d)
        return errorf("out of memory");
    c->dirs = d;
    d[c->ndirs].host = strdup(host);
    d[c->ndirs].guest = strdup(guest ? guest : host);
    d[c->ndirs].flags = flags;
    if (!d[c->ndirs].host || !d[c->ndirs].guest) {
        free(d[c->ndirs].host);
        free(d[c->ndirs].guest);
        return errorf("out of memory");
    }
    c->ndirs++;
    return NULL;
}

whirl_error_t *serve_app_add_comp(serve_app_t *app, serve_comp_t *c, const uint8_t *bytes,
                                  size_t len)
{
    whirl_error_t *err = NULL;
    if (whirl_component_is_component(bytes, len)) {
        if (c->exec == SERVE_EXEC_WAGI)
            err = errorf("component '%s' (%s) is a component: the WAGI executor runs core "
                         "modules (WASI preview 1 commands)",
                         c->id, c->source);
        c->exec = SERVE_EXEC_HTTP;
        if (!err && !app->clinker && !(err = serve_wasihttp_link(app)))
            err = spin_host_link(app);
        if (!err && (err = whirl_component_new(app->engine, bytes, len, &c->component))) {
            whirl_error_t *e = errorf("component '%s' (%s): %s", c->id, c->source,
                                      whirl_error_message(err));
            whirl_error_delete(err);
            err = e;
        }
        if (!err)
            err = serve_wasihttp_check(c);
        if (!err &&
            (err = whirl_component_linker_instantiate_pre(app->clinker, c->component, &c->cpre))) {
            /* The release candidates are named: their versions match no other. */
            char rcs[256] = "";
            for (size_t v = 0, at = 0; v < w3_nversions && at < sizeof rcs; v++)
                if (strchr(w3_versions[v], '-'))
                    at += (size_t)snprintf(rcs + at, sizeof rcs - at, ", %s", w3_versions[v]);
            whirl_error_t *e = errorf("component '%s' (%s): %s (whirl serve provides wasi:http "
                                      "and WASI at 0.2.x, 0.3.x%s)",
                                      c->id, c->source, whirl_error_message(err), rcs);
            whirl_error_delete(err);
            err = e;
        }
    } else {
        if (c->exec != SERVE_EXEC_WAGI)
            err = errorf("component '%s' (%s) is a core module: only the WAGI executor runs "
                         "core modules (--wagi, or executor = { type = \"wagi\" })",
                         c->id, c->source);
        if (!err && (err = whirl_module_new(app->engine, bytes, len, &c->module))) {
            whirl_error_t *e = errorf("component '%s' (%s): %s", c->id, c->source,
                                      whirl_error_message(err));
            whirl_error_delete(err);
            err = e;
        }
        if (!err && (err = whirl_linker_instantiate_pre(app->linker, c->module, &c->pre))) {
            whirl_error_t *e = errorf("component '%s' (%s): %s (a WAGI program may import "
                                      "only wasi_snapshot_preview1)",
                                      c->id, c->source, whirl_error_message(err));
            whirl_error_delete(err);
            err = e;
        }
        if (!err) {
            whirl_export_info_t ex;
            bool has_start = false;
            for (size_t i = 0, n = whirl_module_export_count(c->module); i < n; i++)
                if (whirl_module_export(c->module, i, &ex) && ex.kind == WHIRL_EXTERN_FUNC &&
                    ex.name_len == 6 && memcmp(ex.name, "_start", 6) == 0)
                    has_start = true;
            if (!has_start)
                err = errorf("component '%s' (%s): a WAGI program must export _start (build "
                             "it as a WASI command)",
                             c->id, c->source);
        }
    }
    if (err) {
        serve_comp_free(c);
        return err;
    }
    serve_comp_t **v = realloc(app->comps, (app->ncomps + 1) * sizeof *v);
    if (!v) {
        serve_comp_free(c);
        return errorf("out of memory");
    }
    app->comps = v;
    app->comps[app->ncomps++] = c;
    return NULL;
}

whirl_error_t *serve_app_add_route(serve_app_t *app, const char *route, serve_comp_t *comp)
{
    size_t n = strlen(route);
    if (n == 0 || route[0] != '/')
        return errorf("route '%s': a route must start with '/'", route);
    bool wildcard = n >= 4 && strcmp(route + n - 4, "/...") == 0;
    size_t base_len = wildcard ? n - 4 : n;
    /* "/hello/" and "/hello" are the same route, as in Spin. */
    while (base_len > 1 && route[base_len - 1] == '/')
        base_len--;
    if (!wildcard && base_len == 1)
        base_len = 1;
    for (size_t i = 0; i < app->nroutes; i++) {
        const serve_route_t *o = &app->routes[i];
        if (o->wildcard == wildcard && strlen(o->base) == base_len &&
            strncmp(o->base, route, base_len) == 0)
            return errorf("route '%s' of component '%s' duplicates route '%s' of component '%s'",
                          route, comp->id, o->raw, o->comp->id);
    }
    serve_route_t *v = realloc(app->routes, (app->nroutes + 1) * sizeof *v);
    if (!v)
        return errorf("out of memory");
    app->routes = v;
    serve_route_t *r = &v[app->nroutes];
    r->raw = strdup(route);
    r->base = strndup(route, base_len);
    if (wildcard && base_len == 1 && route[0] == '/') {
        free(r->base);
        r->base = strdup(""); /* "/..." matches everything */
    }
    r->wildcard = wildcard;
    r->comp = comp;
    if (!r->raw || !r->base) {
        free(r->raw);
        free(r->base);
        return errorf("out of memory");
    }
    app->nroutes++;
    return NULL;
}

const serve_route_t *serve_route_match(const serve_app_t *app, const char *path)
{
    size_t plen = strlen(path);
    while (plen > 1 && path[plen - 1] == '/')
        plen--; /* a trailing slash matches the route without it */
    const serve_route_t *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < app->nroutes; i++) {
        const serve_route_t *r = &app->routes[i];
        size_t blen = strlen(r->base);
        if (!r->wildcard) {
            if (blen == plen && strncmp(r->base, path, plen) == 0)
                return r; /* exact routes win over every wildcard */
            continue;
        }
        /* "/a/..." matches "/a" and "/a/b", never "/ab". */
        bool match = blen == 0 || (plen >= blen && strncmp(r->base, path, blen) == 0 &&
                                   (plen == blen || path[blen] == '/'));
        if (match && (!best || blen > best_len)) {
            best = r;
            best_len = blen;
        }
    }
    return best;
}

size_t serve_spin_headers(const serve_inst_t *in, serve_header_t *out, char *buf, size_t buflen)
{
    const serve_req_info_t *info = serve_req_info(in->req);
    const serve_route_t *rt = in->route;
    size_t used = 0, n = 0;
#define PUT(NAME, ...) \
    do { \
        int w_ = snprintf(buf + used, buflen - used, __VA_ARGS__); \
        if (w_ < 0 || (size_t)w_ >= buflen - used) \
            break; \
        out[n].name = NAME; \
        out[n].value = buf + used; \
        n++; \
        used += (size_t)w_ + 1; \
    } while (0)
    PUT("spin-full-url", "http://%s%s%s%s", info->host, info->raw_path, *info->query ? "?" : "",
        info->query);
    PUT("spin-path-info", "%s", in->path_info);
    PUT("spin-matched-route", "%s", rt->raw);
    PUT("spin-component-route", "%s", rt->base);
    PUT("spin-raw-component-route", "%s", rt->raw);
    PUT("spin-base-path", "%s", in->app->base_path ? in->app->base_path : "/");
    PUT("spin-client-addr", "%s", info->client);
#undef PUT
    return n;
}

/* ---- failures ---- */

/* A file name from a guest's DWARF goes into a log line only if it cannot
 * break the line (no control bytes). */
static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

static void format_backtrace(const whirl_error_t *err, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    size_t n = whirl_error_frame_count(err);
    for (size_t i = 0; i < n && i < 16 && used < len; i++) {
        uint32_t idx = 0;
        const char *name = NULL;
        size_t off = 0;
        if (!whirl_error_frame(err, i, &idx, &name, &off))
            break;
        int w = name ? snprintf(buf + used, len - used, "%s#%zu %.80s @0x%zx", i ? ", " : "", i,
                                name, off)
                     : snprintf(buf + used, len - used, "%s#%zu func[%u] @0x%zx", i ? ", " : "",
                                i, idx, off);
        if (w < 0)
            break;
        used += (size_t)w;
        /* With DWARF, the frame's source line (its innermost function's). */
        whirl_source_location_t loc;
        if (used < len && whirl_error_frame_source(err, i, &loc, 1) && loc.file && loc.line &&
            printable(loc.file)) {
            const char *base = strrchr(loc.file, '/');
            w = snprintf(buf + used, len - used, " (%.80s:%u)", base ? base + 1 : loc.file,
                         loc.line);
            if (w < 0)
                break;
            used += (size_t)w;
        }
    }
    if (n > 16 && used < len)
        snprintf(buf + used, len - used, ", ... (%zu frames)", n);
}

bool serve_inst_fail(serve_inst_t *in, whirl_error_t *err, const char *what)
{
    if (!err)
        return false;
    serve_server_t *srv = in->app->srv;
    const serve_req_info_t *info = serve_req_info(in->req);
    whirl_trap_code_t code = 0;
    const char *msg = whirl_error_message(err);
    /* Only the request's deadline and shutdown interrupt a guest; the epoch
     * deadline may fire up to one ticker interval before deadline_ns, so the
     * clock is not asked again. */
    if (whirl_error_is_trap(err, &code) && code == WHIRL_TRAP_INTERRUPT &&
        (in->deadline_ns != UINT64_MAX || atomic_load(&srv->aborting))) {
        SERVE_COUNT(srv, timeouts);
        serve_log("timeout: component '%s' (%s %s) ran past its %.3fs deadline%s", in->comp->id,
                  info->method, info->path, (double)srv->opts->timeout_ns / 1e9,
                  atomic_load(&srv->aborting) ? " (ended at shutdown)" : "");
        serve_resp_fail(in->req, 504, "Gateway Timeout: the app did not answer in time");
    } else if (whirl_error_is_trap(err, NULL)) {
        SERVE_COUNT(srv, traps);
        char bt[1024];
        format_backtrace(err, bt, sizeof bt);
        serve_log("trap: component '%s' (%s %s) %s: %s%s%s", in->comp->id, info->method,
                  info->path, what, msg, *bt ? "; backtrace: " : "", bt);
        serve_resp_fail(in->req, 500, "Internal Server Error");
    } else if (whirl_error_is_resource_exhausted(err)) {
        SERVE_COUNT(srv, rejected_busy);
        serve_log("busy: component '%s' (%s %s): %s", in->comp->id, info->method, info->path,
                  msg);
        serve_resp_fail(in->req, 503, "Service Unavailable: server busy");
    } else {
        SERVE_COUNT(srv, errors);
        serve_log("error: component '%s' (%s %s) %s: %s", in->comp->id, info->method,
                  info->path, what, msg);
        serve_resp_fail(in->req, 500, "Internal Server Error");
    }
    whirl_error_delete(err);
    return true;
}

/* ---- one request ---- */

/* The guest part of a request: runs on the job's fiber (or, for a request
 * run synchronously, on the calling thread), where a guest's waits suspend
 * the call instead of blocking the worker. Errors are answered here; the
 * store is left for serve_app_end. */
static whirl_error_t *job_body(void *env)
{
    serve_job_t *job = env;
    serve_inst_t *in = &job->in;
    switch (in->comp->exec) {
    case SERVE_EXEC_WAGI:
        serve_wagi_handle(in);
        break;
    case SERVE_EXEC_HTTP:
        serve_wasihttp_handle(in);
        break;
    }
    return NULL;
}

serve_job_t *serve_app_begin(serve_app_t *app, serve_req_t *r, bool async)
{
    const serve_req_info_t *info = serve_req_info(r);
    const serve_route_t *route = serve_route_match(app, info->path);
    if (!route) {
        serve_resp_fail(r, 404, "Not Found");
        return NULL;
    }
    serve_server_t *srv = app->srv;
    serve_job_t *job = calloc(1, sizeof *job);
    if (!job) {
        serve_resp_fail(r, 503, "Service Unavailable: out of memory");
        return NULL;
    }
    job->req = r;
    serve_inst_t *in = &job->in;
    *in = (serve_inst_t){.app = app, .req = r, .route = route, .comp = route->comp,
                         .deadline_ns = UINT64_MAX};
    /* PATH_INFO / spin-path-info: what follows the route's base. */
    const char *rest = route->wildcard ? info->path + strlen(route->base) : "";
    snprintf(in->path_info, sizeof in->path_info, "%s", rest);

    in->store = whirl_store_new(app->engine, in, NULL);
    if (!in->store) {
        free(job);
        serve_resp_fail(r, 503, "Service Unavailable: out of memory");
        return NULL;
    }
    whirl_store_limits_set(in->store, srv->opts->max_memory, srv->opts->max_table_elements);
    if (srv->opts->on_store)
        srv->opts->on_store(srv->opts->on_store_env, in->store);
    if (srv->opts->timeout_ns) {
        in->deadline_ns = whirl_monotonic_now() + srv->opts->timeout_ns;
        whirl_error_t *err = whirl_store_set_deadline(in->store, in->deadline_ns);
        if (serve_inst_fail(in, err, "setting its deadline")) {
            serve_app_end(job);
            return NULL;
        }
    }
    job->deadline_ns = in->deadline_ns;
    whirl_error_t *err = async ? whirl_call_new_host(in->store, job_body, job, &job->call) : NULL;
    if (err) /* no fibers here (not x86-64), no memory: run it on this thread */
        whirl_error_delete(err);
    if (job->call)
        return job;
    job_body(job);
    serve_app_end(job);
    return NULL;
}

void serve_app_end(serve_job_t *job)
{
    serve_inst_t *in = &job->in;
    if (job->call) {
        if (job->done) {
            whirl_error_t *err = whirl_call_results(job->call, NULL, 0);
            serve_inst_fail(in, err, "running");
        }
        /* Cancels a call not done (shutdown): its guest unwinds with an
         * `interrupt` trap, which answers the request. */
        whirl_call_delete(job->call);
        job->call = NULL;
    }
    if (in->comp->exec == SERVE_EXEC_HTTP)
        serve_wasihttp_end(in); /* deletes the store itself */
    whirl_store_delete(in->store);
    in->store = NULL;
    spin_req_end(in);
    free(job);
}

/* ---- loading ---- */

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* A single file: one component at "/...". */
static whirl_error_t *load_single(serve_app_t *app, const serve_opts_t *o)
{
    FILE *f = fopen(o->app, "rb");
    if (!f)
        return errorf("%s: %s", o->app, strerror(errno));
    uint8_t *data = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 1 << 20;
            uint8_t *d = realloc(data, cap);
            if (!d) {
                free(data);
                fclose(f);
                return errorf("%s: out of memory", o->app);
            }
            data = d;
        }
        size_t got = fread(data + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(data);
        return errorf("%s: read error", o->app);
    }
    serve_comp_t *c = calloc(1, sizeof *c);
    const char *base = strrchr(o->app, '/');
    base = base ? base + 1 : o->app;
    if (!c || !(c->source = strdup(o->app)) || !(c->id = strdup(base))) {
        serve_comp_free(c);
        free(data);
        return errorf("out of memory");
    }
    if (ends_with(c->id, ".wasm"))
        c->id[strlen(c->id) - 5] = '\0';
    c->exec = o->wagi ? SERVE_EXEC_WAGI : SERVE_EXEC_HTTP;
    whirl_error_t *err = NULL;
    for (size_t i = 0; !err && i < o->nenvs; i++) {
        const char *eq = strchr(o->envs[i], '=');
        char *k = eq ? strndup(o->envs[i], (size_t)(eq - o->envs[i])) : strdup(o->envs[i]);
        const char *v = eq ? eq + 1 : getenv(o->envs[i]);
        if (!k)
            err = errorf("out of memory");
        else if (!*k)
            err = errorf("--env '%s': expected NAME=VALUE", o->envs[i]);
        else if (v)
            err = serve_comp_add_env(c, k, v);
        free(k);
    }
    for (size_t i = 0; !err && i < o->ndirs; i++) {
        const char *spec = o->dirs[i];
        size_t n = strlen(spec);
        uint32_t flags = 0;
        if (n > 3 && (ends_with(spec, ":ro") || ends_with(spec, ":rw"))) {
            flags = spec[n - 1] == 'o' ? WHIRL_WASI_DIR_READONLY : 0;
            n -= 3;
        }
        char *host = strndup(spec, n);
        char *sep = host ? strstr(host, "::") : NULL;
        if (sep)
            *sep = '\0';
        if (!host)
            err = errorf("out of memory");
        else if (!*host || (sep && !sep[2]))
            err = errorf("--dir '%s': expected HOST[::GUEST][:ro]", spec);
        else
            err = serve_comp_add_dir(c, host, sep ? sep + 2 : host, flags);
        free(host);
    }
    if (err) {
        serve_comp_free(c);
        free(data);
        return err;
    }
    if (!o->wagi && !whirl_component_is_component(data, len)) {
        serve_comp_free(c);
        free(data);
        return errorf("%s is a core module, not a component: to serve a WASI preview 1 program "
                      "as a WAGI (CGI) handler, add --wagi",
                      o->app);
    }
    err = serve_app_add_comp(app, c, data, len);
    free(data);
    if (err)
        return err;
    return serve_app_add_route(app, "/...", c);
}

whirl_error_t *serve_app_load(serve_server_t *srv, const serve_opts_t *o, serve_app_t **out)
{
    *out = NULL;
    serve_app_t *app = calloc(1, sizeof *app);
    if (!app)
        return errorf("out of memory");
    app->srv = srv;
    app->engine = srv->engine;
    app->linker = whirl_linker_new(srv->engine);
    whirl_error_t *err = app->linker ? whirl_linker_define_wasi_lookup(app->linker, lookup_wasi,
                                                                       NULL)
                                     : errorf("out of memory");
    if (!err) {
        if (ends_with(o->app, ".toml")) {
            app->spin = true;
            if (o->nenvs || o->ndirs || o->wagi)
                serve_log("warning: --env, --dir and --wagi apply to a single module; with a "
                          "manifest, use its `environment`, `files` and `executor`");
            err = serve_spin_load(app, o->app);
        } else {
            err = load_single(app, o);
        }
    }
    /* Outbound HTTP: -S allow-http rules and the extra CA file. */
    if (!err && o->nallow_http && !(app->outbound = ob_policy_new()))
        err = errorf("out of memory");
    if (app->outbound)
        ob_policy_set_wildcard_http_only(app->outbound);
    for (size_t i = 0; !err && i < o->nallow_http; i++) {
        char why[600];
        if (!ob_policy_add(app->outbound, o->allow_http[i], why, sizeof why))
            err = errorf("-S allow-http: %s", why);
    }
    if (!err && o->http_ca) {
        char why[600];
        if (!ob_client_set_extra_ca(o->http_ca, why, sizeof why))
            err = errorf("-S http-ca: %s", why);
    }
    if (err) {
        serve_app_delete(app);
        return err;
    }
    wh_out_set_global_policy(app->outbound);
    *out = app;
    return NULL;
}

void serve_app_delete(serve_app_t *app)
{
    if (!app)
        return;
    for (size_t i = 0; i < app->nroutes; i++) {
        free(app->routes[i].raw);
        free(app->routes[i].base);
    }
    free(app->routes);
    for (size_t i = 0; i < app->ncomps; i++)
        serve_comp_free(app->comps[i]);
    free(app->comps);
    whirl_linker_delete(app->linker);
    bool http = app->clinker != NULL;
    whirl_component_linker_delete(app->clinker);
    if (http)
        serve_wasihttp_unlink();
    wh_out_set_global_policy(NULL);
    ob_policy_free(app->outbound);
    free(app->base_path);
    spin_app_free(app->spin_host);
    free(app);
}

void serve_app_describe(const serve_app_t *app, char *buf, size_t len)
{
    if (app->ncomps == 1 && app->nroutes == 1)
        snprintf(buf, len, "%s '%s'",
                 app->comps[0]->exec == SERVE_EXEC_WAGI ? "WAGI module" : "wasi:http component",
                 app->comps[0]->id);
    else
        snprintf(buf, len, "%zu components, %zu routes", app->ncomps, app->nroutes);
}
