/* spin.toml, manifest version 2: `[[trigger.http]]` routes (route +
 * component, optional executor) and `[component.NAME]` tables (source,
 * environment, files). TOML is parsed by tomlplusplus (toml_shim.cpp).
 *
 * Keys whirl does not know get a warning naming them and their line, since
 * a misspelt key silently ignored is a misconfigured app; keys whirl knows
 * but does not act on (key-value stores, build commands)
 * are accepted, with a note where the difference matters.
 *
 * `files`: a { source, destination } table mounts a directory read-only; a
 * glob pattern (with `*`, `?` and `**` for any depth) copies the matching files, at their
 * paths relative to the manifest, into a staging directory mounted at "/",
 * as Spin does, so the guest sees only what matched. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "serve/app.h"
#include "serve/spin_host.h"
#include "serve/outbound.h"
#include "serve/toml_shim.h"

enum {
    FILES_MAX = 10000,      /* files a glob may stage */
    WALK_DEPTH_MAX = 32,
};

typedef struct spin_ctx {
    serve_app_t *app;
    const char *path;   /* the manifest, for messages */
    char dir[PATH_MAX]; /* its directory: sources and files are relative to it */
} spin_ctx_t;

#define errorf whirl_error_newf

/* Warns about every key of `table` not in `known` (NULL-terminated). */
static void warn_unknown(const spin_ctx_t *s, const toml_shim_node_t *table, const char *where,
                         const char *const *known)
{
    for (size_t i = 0, n = toml_shim_table_size(table); i < n; i++) {
        const char *key = NULL;
        const toml_shim_node_t *v = toml_shim_table_at(table, i, &key);
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++)
            ok = strcmp(*k, key) == 0;
        if (!ok)
            serve_log("warning: %s:%u: unknown key '%s' in %s (ignored)", s->path,
                      toml_shim_line(v), key, where);
    }
}

/* Spin keys whirl knows but does not implement yet: each present one gets a
 * warning saying what whirl does instead, so an app that depends on one is
 * not silently served without it. */
typedef struct unsupported_key {
    const char *key, *instead;
} unsupported_key_t;

static void warn_unsupported(const spin_ctx_t *s, const toml_shim_node_t *table,
                             const char *where, const unsupported_key_t *keys)
{
    for (const unsupported_key_t *k = keys; k->key; k++) {
        const toml_shim_node_t *v = toml_shim_get(table, k->key);
        if (v)
            serve_log("warning: %s:%u: '%s' in %s is not implemented by whirl yet (%s)",
                      s->path, toml_shim_line(v), k->key, where, k->instead);
    }
}

static const char *get_string(const toml_shim_node_t *t, const char *key)
{
    return toml_shim_string(toml_shim_get(t, key));
}

static whirl_error_t *type_error(const spin_ctx_t *s, const toml_shim_node_t *v,
                                 const char *what, const char *want)
{
    return errorf("%s:%u: %s must be %s, not %s", s->path, toml_shim_line(v), what, want,
                  toml_shim_kind_name(toml_shim_kind(v)));
}

/* "a/b" into out; false if it does not fit. */
static bool join(char *out, size_t len, const char *a, const char *b)
{
    int n = snprintf(out, len, "%s%s%s", a, *a && *b ? "/" : "", b);
    return n >= 0 && (size_t)n < len;
}

/* A path relative to the manifest's directory (absolute paths as given);
 * an over-long one becomes "" and fails where it is opened. */
static void resolve(const spin_ctx_t *s, const char *rel, char *out, size_t len)
{
    if (!join(out, len, rel[0] == '/' ? "" : s->dir, rel))
        out[0] = '\0';
}

static whirl_error_t *read_all(const char *path, uint8_t **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = fd < 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        if (fd >= 0)
            close(fd);
        return errorf("%s: %s", path, strerror(e));
    }
    size_t n = (size_t)st.st_size, got = 0;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        close(fd);
        return errorf("%s: out of memory", path);
    }
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    *data = buf;
    *len = got;
    return NULL;
}

/* ---- files ---- */

/* Glob matching on '/'-separated paths: '*' and '?' stay inside a segment,
 * "**" spans any number of whole segments (none included). */
static bool glob_match(const char *pat, const char *path)
{
    if (strncmp(pat, "**", 2) == 0 && (pat[2] == '/' || pat[2] == '\0')) {
        const char *rest = pat[2] ? pat + 3 : pat + 2;
        if (!*rest)
            return true;
        for (const char *p = path;; ) {
            if (glob_match(rest, p))
                return true;
            const char *slash = strchr(p, '/');
            if (!slash)
                return false;
            p = slash + 1;
        }
    }
    const char *pslash = strchr(pat, '/'), *sslash = strchr(path, '/');
    size_t plen = pslash ? (size_t)(pslash - pat) : strlen(pat);
    size_t slen = sslash ? (size_t)(sslash - path) : strlen(path);
    char pseg[NAME_MAX + 1], sseg[NAME_MAX + 1];
    if (plen > NAME_MAX || slen > NAME_MAX)
        return false;
    memcpy(pseg, pat, plen);
    pseg[plen] = '\0';
    memcpy(sseg, path, slen);
    sseg[slen] = '\0';
    if (fnmatch(pseg, sseg, FNM_PERIOD) != 0)
        return false;
    if (!pslash && !sslash)
        return true;
    if (!pslash || !sslash)
        return false;
    return glob_match(pslash + 1, sslash + 1);
}

static int mkdirs(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static int copy_file(const char *from, const char *to)
{
    if (link(from, to) == 0)
        return 0;
    int in = open(from, O_RDONLY | O_CLOEXEC), out = -1;
    if (in >= 0)
        out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = in >= 0 && out >= 0 ? 0 : -1;
    char buf[65536];
    for (ssize_t n; rc == 0 && (n = read(in, buf, sizeof buf)) != 0;) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || write(out, buf, (size_t)n) != n)
            rc = -1;
    }
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) != 0)
        rc = -1;
    return rc;
}

typedef struct stage {
    const char *pattern;
    const char *root;   /* the manifest directory */
    const char *dest;   /* the staging directory */
    size_t count;
    whirl_error_t *err;
} stage_t;

/* Walks `rel` (relative to s->root) and copies matches into s->dest. */
static void stage_walk(stage_t *st, const char *rel, int depth)
{
    char path[PATH_MAX];
    if (!join(path, sizeof path, st->root, rel))
        return;
    DIR *d = opendir(path);
    if (!d)
        return;
    for (struct dirent *e; !st->err && (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char sub[PATH_MAX], full[PATH_MAX];
        struct stat sb;
        if (!join(sub, sizeof sub, rel, e->d_name) || !join(full, sizeof full, st->root, sub) ||
            lstat(full, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode)) {
            if (depth < WALK_DEPTH_MAX)
                stage_walk(st, sub, depth + 1);
        } else if (S_ISREG(sb.st_mode) && glob_match(st->pattern, sub)) {
            if (++st->count > FILES_MAX) {
                st->err = errorf("files pattern '%s' matches more than %d files", st->pattern,
                                 FILES_MAX);
                break;
            }
            char to[PATH_MAX];
            if (!join(to, sizeof to, st->dest, sub)) {
                st->err = errorf("files: path too long: '%s'", sub);
                break;
            }
            char *slash = strrchr(to, '/');
            *slash = '\0';
            int rc = mkdirs(to);
            *slash = '/';
            if (rc != 0 || copy_file(full, to) != 0)
                st->err = errorf("files: cannot stage '%s': %s", sub, strerror(errno));
        }
    }
    closedir(d);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Staging directories are removed when the app is; the list lives here. */
static char **staged;
static size_t nstaged;

static void remove_staged(void)
{
    for (size_t i = 0; i < nstaged; i++) {
        nftw(staged[i], rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(staged[i]);
    }
    free(staged);
    staged = NULL;
    nstaged = 0;
}

static whirl_error_t *load_files(spin_ctx_t *s, serve_comp_t *c, const toml_shim_node_t *files)
{
    if (toml_shim_kind(files) != TOML_SHIM_ARRAY)
        return type_error(s, files, "files", "an array");
    char *stage_dir = NULL;
    whirl_error_t *err = NULL;
    for (size_t i = 0, n = toml_shim_array_size(files); !err && i < n; i++) {
        const toml_shim_node_t *f = toml_shim_array_at(files, i);
        if (toml_shim_kind(f) == TOML_SHIM_TABLE) {
            static const char *const known[] = {"source", "destination", NULL};
            warn_unknown(s, f, "a files entry", known);
            const char *src = get_string(f, "source"), *dst = get_string(f, "destination");
            if (!src || !dst || dst[0] != '/')
                return errorf("%s:%u: a files table needs source (a directory) and "
                              "destination (an absolute guest path)",
                              s->path, toml_shim_line(f));
            char host[PATH_MAX];
            resolve(s, src, host, sizeof host);
            struct stat sb;
            if (stat(host, &sb) != 0 || !S_ISDIR(sb.st_mode))
                return errorf("%s:%u: files source '%s' is not a directory", s->path,
                              toml_shim_line(f), src);
            err = serve_comp_add_dir(c, host, dst, WHIRL_WASI_DIR_READONLY);
        } else if (toml_shim_string(f)) {
            const char *pat = toml_shim_string(f);
            if (!*pat || pat[0] == '/' || strstr(pat, ".."))
                return errorf("%s:%u: files pattern '%s' must be relative and stay inside the "
                              "application directory",
                              s->path, toml_shim_line(f), pat);
            if (!stage_dir) {
                const char *tmp = getenv("TMPDIR");
                char tpl[PATH_MAX];
                snprintf(tpl, sizeof tpl, "%s/whirl-serve-files-XXXXXX", tmp && *tmp ? tmp : "/tmp");
                if (!mkdtemp(tpl))
                    return errorf("files: cannot create a staging directory: %s",
                                  strerror(errno));
                stage_dir = strdup(tpl);
                char **v = stage_dir ? realloc(staged, (nstaged + 1) * sizeof *v) : NULL;
                if (!v) {
                    free(stage_dir);
                    return errorf("out of memory");
                }
                staged = v;
                staged[nstaged++] = stage_dir;
                if (nstaged == 1)
                    atexit(remove_staged);
                err = serve_comp_add_dir(c, stage_dir, "/", WHIRL_WASI_DIR_READONLY);
            }
            stage_t st = {.pattern = pat, .root = s->dir, .dest = stage_dir};
            if (!err) {
                stage_walk(&st, "", 0);
                err = st.err;
            }
            if (!err && st.count == 0)
                serve_log("warning: %s:%u: files pattern '%s' matches no file", s->path,
                          toml_shim_line(f), pat);
        } else {
            return type_error(s, f, "a files entry", "a string or a table");
        }
    }
    return err;
}

/* ---- components ---- */

/* allowed_outbound_hosts: Spin's rules (outbound.h), templates expanded
 * from the app's variables and checked now. One policy decides outbound
 * HTTP, Redis, MQTT, PostgreSQL and MySQL. */
static whirl_error_t *load_outbound_hosts(spin_ctx_t *s, serve_comp_t *c,
                                          const toml_shim_node_t *list)
{
    if (!list)
        return NULL;
    if (toml_shim_kind(list) != TOML_SHIM_ARRAY)
        return type_error(s, list, "allowed_outbound_hosts", "an array of strings");
    if (!(c->outbound = ob_policy_new()))
        return errorf("out of memory");
    for (size_t i = 0, n = toml_shim_array_size(list); i < n; i++) {
        const toml_shim_node_t *item = toml_shim_array_at(list, i);
        const char *rule = toml_shim_string(item);
        char why[600];
        if (!rule)
            return type_error(s, item, "an allowed_outbound_hosts entry", "a string");
        char *expanded = NULL;
        whirl_error_t *err = spin_vars_expand(s->app->spin_host, rule, &expanded);
        if (err) {
            whirl_error_t *w = errorf("%s:%u: component '%s': allowed_outbound_hosts: %s",
                                      s->path, toml_shim_line(item), c->id,
                                      whirl_error_message(err));
            whirl_error_delete(err);
            return w;
        }
        bool ok = ob_policy_add(c->outbound, expanded, why, sizeof why);
        free(expanded);
        if (!ok)
            return errorf("%s:%u: component '%s': %s", s->path, toml_shim_line(item), c->id,
                          why);
    }
    return NULL;
}

static whirl_error_t *load_component(spin_ctx_t *s, const char *id, const toml_shim_node_t *t,
                                     bool wagi, serve_comp_t **out)
{
    static const char *const known[] = {
        "source", "description", "environment", "files", "exclude_files",
        "allowed_outbound_hosts", "allowed_http_hosts", "key_value_stores",
        "sqlite_databases", "ai_models", "variables", "build", "tool",
        "dependencies", "dependencies_inherit_configuration", "targets", NULL};
    char where[300];
    snprintf(where, sizeof where, "[component.%s]", id);
    warn_unknown(s, t, where, known);
    static const unsupported_key_t unsupported[] = {
        {"allowed_http_hosts", "ignored: use allowed_outbound_hosts (scheme://host:port)"},
        {"ai_models", "ignored: no model is provided"},
        {"exclude_files", "ignored: every file `files` names is mounted"},
        {"dependencies", "ignored: imports must be met by whirl's host"},
        {"dependencies_inherit_configuration", "ignored"},
        {NULL, NULL}};
    warn_unsupported(s, t, where, unsupported);
    const toml_shim_node_t *src = toml_shim_get(t, "source");
    const char *source = toml_shim_string(src);
    if (!source) {
        if (toml_shim_kind(src) == TOML_SHIM_TABLE)
            return errorf("%s:%u: component '%s': a source with a url needs a download, which "
                          "whirl does not do: give a local path",
                          s->path, toml_shim_line(src), id);
        return errorf("%s: component '%s' has no source (the path of its .wasm)", s->path, id);
    }
    serve_comp_t *c = calloc(1, sizeof *c);
    char path[PATH_MAX];
    resolve(s, source, path, sizeof path);
    if (!c || !(c->id = strdup(id)) || !(c->source = strdup(path))) {
        serve_comp_free(c);
        return errorf("out of memory");
    }
    c->exec = wagi ? SERVE_EXEC_WAGI : SERVE_EXEC_HTTP;
    whirl_error_t *err = NULL;
    const toml_shim_node_t *env = toml_shim_get(t, "environment");
    if (env && toml_shim_kind(env) != TOML_SHIM_TABLE)
        err = type_error(s, env, "environment", "a table of strings");
    for (size_t i = 0, n = toml_shim_table_size(env); !err && i < n; i++) {
        const char *key = NULL;
        const char *v = toml_shim_string(toml_shim_table_at(env, i, &key));
        if (!v)
            err = type_error(s, toml_shim_table_at(env, i, NULL), "an environment value",
                             "a string");
        else if (!*key || strchr(key, '='))
            err = errorf("%s: component '%s': invalid environment variable name '%s'",
                         s->path, id, key);
        else
            err = serve_comp_add_env(c, key, v);
    }
    if (!err)
        err = spin_comp_load(s->app, c, s->path, t);
    const toml_shim_node_t *files = toml_shim_get(t, "files");
    if (!err && files)
        err = load_files(s, c, files);
    if (!err)
        err = load_outbound_hosts(s, c, toml_shim_get(t, "allowed_outbound_hosts"));
    uint8_t *data = NULL;
    size_t len = 0;
    if (!err)
        err = read_all(path, &data, &len);
    if (err) {
        serve_comp_free(c);
        return err;
    }
    err = serve_app_add_comp(s->app, c, data, len); /* frees c on failure */
    free(data);
    if (!err)
        *out = c;
    return err;
}

/* The component a trigger names, loaded on first use: the executor (WAGI
 * or not) is the trigger's, so a component is bound to its first one. */
static whirl_error_t *component_for(spin_ctx_t *s, const toml_shim_node_t *comps,
                                    const char *id, bool wagi, serve_comp_t **out)
{
    for (size_t i = 0; i < s->app->ncomps; i++) {
        serve_comp_t *c = s->app->comps[i];
        if (strcmp(c->id, id) == 0) {
            if ((c->exec == SERVE_EXEC_WAGI) != wagi)
                return errorf("%s: component '%s' is used by triggers with different "
                              "executors",
                              s->path, id);
            *out = c;
            return NULL;
        }
    }
    const toml_shim_node_t *t = toml_shim_get(comps, id);
    if (!t || toml_shim_kind(t) != TOML_SHIM_TABLE)
        return errorf("%s: a trigger names component '%s', but there is no [component.%s]",
                      s->path, id, id);
    return load_component(s, id, t, wagi, out);
}

static whirl_error_t *load_trigger(spin_ctx_t *s, const toml_shim_node_t *comps,
                                   const toml_shim_node_t *trig, size_t index)
{
    static const char *const known[] = {"route", "component", "executor", "id",
                                        "static_response", "components", "dependencies", NULL};
    if (toml_shim_kind(trig) != TOML_SHIM_TABLE)
        return type_error(s, trig, "a [[trigger.http]] entry", "a table");
    warn_unknown(s, trig, "[[trigger.http]]", known);
    static const unsupported_key_t trig_unsupported[] = {
        {"components", "ignored: no middleware components run"},
        {"dependencies", "ignored"},
        {"static_response", "the route is not served"},
        {NULL, NULL}};
    warn_unsupported(s, trig, "[[trigger.http]]", trig_unsupported);
    if (toml_shim_get(trig, "static_response") && !toml_shim_get(trig, "component"))
        return NULL;
    const toml_shim_node_t *route_n = toml_shim_get(trig, "route");
    bool priv = false;
    if (toml_shim_kind(route_n) == TOML_SHIM_TABLE &&
        toml_shim_bool(toml_shim_get(route_n, "private"), &priv) && priv)
        return NULL; /* reachable only through service chaining, which whirl lacks */
    const char *route = toml_shim_string(route_n);
    if (!route)
        return route_n ? type_error(s, route_n, "route", "a string")
                       : errorf("%s: trigger %zu has no route", s->path, index + 1);
    bool wagi = false;
    const toml_shim_node_t *ex = toml_shim_get(trig, "executor");
    if (ex) {
        static const char *const ex_known[] = {"type", "argv", "entrypoint", NULL};
        warn_unknown(s, ex, "executor", ex_known);
        const char *type = get_string(ex, "type");
        const char *entry = get_string(ex, "entrypoint");
        if (!type || (strcmp(type, "wagi") != 0 && strcmp(type, "spin") != 0 &&
                      strcmp(type, "http") != 0))
            return errorf("%s:%u: executor type must be \"spin\", \"http\" or \"wagi\"", s->path,
                          toml_shim_line(ex));
        wagi = strcmp(type, "wagi") == 0;
        if (entry && strcmp(entry, "_start") != 0)
            return errorf("%s:%u: WAGI entrypoint '%s': whirl runs only _start", s->path,
                          toml_shim_line(ex), entry);
        if (get_string(ex, "argv"))
            serve_log("warning: %s:%u: executor argv is not supported (argv is the module "
                      "name and the query's words)",
                      s->path, toml_shim_line(ex));
    }
    const toml_shim_node_t *cn = toml_shim_get(trig, "component");
    serve_comp_t *comp = NULL;
    whirl_error_t *err;
    if (toml_shim_string(cn)) {
        err = component_for(s, comps, toml_shim_string(cn), wagi, &comp);
    } else if (toml_shim_kind(cn) == TOML_SHIM_TABLE) {
        char id[64];
        snprintf(id, sizeof id, "inline-component-%zu", index + 1);
        err = load_component(s, id, cn, wagi, &comp);
    } else {
        return errorf("%s: trigger for route '%s' needs a component (a name or a table)",
                      s->path, route);
    }
    if (err)
        return err;
    return serve_app_add_route(s->app, route, comp);
}

whirl_error_t *serve_spin_load(serve_app_t *app, const char *manifest_path)
{
    spin_ctx_t s = {.app = app, .path = manifest_path};
    char abs[PATH_MAX];
    if (!realpath(manifest_path, abs))
        return errorf("%s: %s", manifest_path, strerror(errno));
    snprintf(s.dir, sizeof s.dir, "%s", abs);
    char *slash = strrchr(s.dir, '/');
    if (slash == s.dir)
        s.dir[1] = '\0';
    else if (slash)
        *slash = '\0';

    char why[512];
    toml_shim_doc_t *doc = toml_shim_parse_file(manifest_path, why, sizeof why);
    if (!doc)
        return errorf("%s: %s", manifest_path, why);
    const toml_shim_node_t *root = toml_shim_root(doc);
    whirl_error_t *err = NULL;
    int64_t version = 0;
    if (!toml_shim_integer(toml_shim_get(root, "spin_manifest_version"), &version) ||
        version != 2) {
        const char *v1 = get_string(root, "spin_manifest_version");
        err = errorf("%s: spin_manifest_version must be 2 (found %s); version 1 manifests are "
                     "not supported: `spin doctor` converts them",
                     manifest_path, v1 ? v1 : version ? "another number" : "none");
        goto out;
    }
    static const char *const known[] = {"spin_manifest_version", "application", "variables",
                                        "trigger", "component", NULL};
    warn_unknown(&s, root, "the manifest", known);
    if ((err = spin_app_load(app, manifest_path, s.dir, toml_shim_get(root, "variables"),
                             app->srv ? app->srv->opts : NULL)))
        goto out;
    const toml_shim_node_t *appt = toml_shim_get(root, "application");
    if (appt) {
        static const char *const app_known[] = {"name", "version", "description", "authors",
                                                "trigger", "targets", "tool", NULL};
        warn_unknown(&s, appt, "[application]", app_known);
        static const char *const app_trig_known[] = {"http", NULL}, *const http_known[] = {
                                                        "base", NULL};
        const toml_shim_node_t *at = toml_shim_get(appt, "trigger");
        if (at)
            warn_unknown(&s, at, "[application.trigger] (whirl serves HTTP triggers only)",
                         app_trig_known);
        if (toml_shim_get(at, "http"))
            warn_unknown(&s, toml_shim_get(at, "http"), "[application.trigger.http]", http_known);
    }
    const char *base = get_string(toml_shim_get(toml_shim_get(appt, "trigger"), "http"), "base");
    app->base_path = strdup(base && base[0] == '/' ? base : "/");
    if (!app->base_path) {
        err = errorf("out of memory");
        goto out;
    }
    const toml_shim_node_t *trigger = toml_shim_get(root, "trigger");
    if (trigger) {
        static const char *const trig_known[] = {"http", NULL};
        warn_unknown(&s, trigger, "[trigger]", trig_known);
    }
    const toml_shim_node_t *http = toml_shim_get(trigger, "http");
    const toml_shim_node_t *comps = toml_shim_get(root, "component");
    if (toml_shim_kind(http) != TOML_SHIM_ARRAY || toml_shim_array_size(http) == 0) {
        err = errorf("%s: no [[trigger.http]] routes", manifest_path);
        goto out;
    }
    for (size_t i = 0, n = toml_shim_array_size(http); !err && i < n; i++)
        err = load_trigger(&s, comps, toml_shim_array_at(http, i), i);
    /* Components no trigger uses are still checked for unknown keys. */
    for (size_t i = 0, n = toml_shim_table_size(comps); !err && i < n; i++) {
        const char *id = NULL;
        toml_shim_table_at(comps, i, &id);
        bool used = false;
        for (size_t k = 0; k < app->ncomps && !used; k++)
            used = strcmp(app->comps[k]->id, id) == 0;
        if (!used)
            serve_log("warning: %s: component '%s' is not used by any trigger", manifest_path,
                      id);
    }
out:
    toml_shim_free(doc);
    return err;
}
