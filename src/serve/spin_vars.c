/* Spin variables: the manifest's [variables] (default, required, secret),
 * their values from the providers `spin up` has (--variable NAME=VALUE
 * first, then the runtime config's [[variables_provider]]s (static values,
 * or env with a prefix and a dotenv file), then the environment's
 * SPIN_VARIABLE_NAME or, failing that, ./.env's, then the default), and
 * components' [component.NAME.variables], templates over them ("{{ name }}")
 * expanded once at load. Guests read their component's variables through
 * fermyon:spin/variables@2.0.0 (and the unversioned fermyon:spin/config) and
 * wasi:config/store@0.2.0-draft-2024-09-27, as Spin maps them. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/spin_host.h"

#define errorf whirl_error_newf

enum { VAR_ERR_INVALID_NAME = 0, VAR_ERR_UNDEFINED = 1, VAR_ERR_PROVIDER = 2, VAR_ERR_OTHER = 3 };

bool spin_var_name_ok(const char *name, const char **why)
{
    size_t n = strlen(name);
    if (n == 0)
        *why = "must not be empty";
    else if (strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
        *why = "only lower-case letters, digits and underscores are allowed";
    else if (!islower((unsigned char)name[0]))
        *why = "must start with a lower-case letter";
    else if (name[n - 1] == '_')
        *why = "must end with a letter or digit";
    else if (strstr(name, "__"))
        *why = "must not contain two underscores in a row";
    else
        return true;
    return false;
}

static spin_var_t *find_var(const spin_app_t *a, const char *name, size_t len)
{
    for (size_t i = 0; i < a->nvars; i++)
        if (strlen(a->vars[i].name) == len && memcmp(a->vars[i].name, name, len) == 0)
            return &a->vars[i];
    return NULL;
}

/* ---- providers ---- */

static whirl_error_t *provider_put(spin_provider_t *p, const char *name, size_t nlen,
                                   const char *value, size_t vlen)
{
    char **n = realloc(p->names, (p->n + 1) * sizeof *n);
    if (n)
        p->names = n;
    char **v = realloc(p->values, (p->n + 1) * sizeof *v);
    if (v)
        p->values = v;
    if (!n || !v || !(p->names[p->n] = strndup(name, nlen)))
        return errorf("out of memory");
    if (!(p->values[p->n] = strndup(value, vlen))) {
        free(p->names[p->n]);
        return errorf("out of memory");
    }
    p->n++;
    return NULL;
}

/* A dotenv file: NAME=VALUE lines, `export ` allowed, values optionally in
 * single or double quotes, `#` comments. */
static whirl_error_t *load_dotenv(spin_provider_t *p, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL; /* as Spin: no file, no values */
    char line[8192];
    whirl_error_t *e = NULL;
    while (!e && fgets(line, sizeof line, f)) {
        char *s = line + strspn(line, " \t");
        if (strncmp(s, "export ", 7) == 0)
            s += 7 + strspn(s + 7, " \t");
        char *eq = strchr(s, '=');
        if (*s == '#' || !eq)
            continue;
        size_t nlen = (size_t)(eq - s);
        while (nlen && (s[nlen - 1] == ' ' || s[nlen - 1] == '\t'))
            nlen--;
        char *v = eq + 1 + strspn(eq + 1, " \t");
        size_t vlen = strcspn(v, "\r\n");
        if (vlen >= 2 && (v[0] == '"' || v[0] == '\'') && strchr(v + 1, v[0])) {
            char *close = strchr(v + 1, v[0]);
            vlen = (size_t)(close - v - 1);
            v++;
        } else {
            char *hash = memchr(v, '#', vlen);
            if (hash && hash > v && (hash[-1] == ' ' || hash[-1] == '\t'))
                vlen = (size_t)(hash - v);
            while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
                vlen--;
        }
        if (nlen)
            e = provider_put(p, s, nlen, v, vlen);
    }
    fclose(f);
    return e;
}

whirl_error_t *spin_provider_add(spin_app_t *a, bool is_env, const char *prefix,
                                 const char *dotenv, const toml_shim_node_t *values,
                                 const char *where)
{
    spin_provider_t *l = realloc(a->providers, (a->nproviders + 1) * sizeof *l);
    if (!l)
        return errorf("out of memory");
    a->providers = l;
    spin_provider_t *p = &l[a->nproviders++];
    memset(p, 0, sizeof *p);
    p->is_env = is_env;
    if (is_env && !(p->prefix = strdup(prefix ? prefix : "SPIN_VARIABLE")))
        return errorf("out of memory");
    if (is_env)
        return dotenv ? load_dotenv(p, dotenv) : NULL;
    for (size_t i = 0, n = toml_shim_table_size(values); i < n; i++) {
        const char *name = NULL;
        const char *v = toml_shim_string(toml_shim_table_at(values, i, &name));
        if (!v)
            return errorf("%s: static variable '%s' must be a string", where, name);
        whirl_error_t *e = provider_put(p, name, strlen(name), v, strlen(v));
        if (e)
            return e;
    }
    return NULL;
}

void spin_providers_free(spin_app_t *a)
{
    for (size_t i = 0; i < a->nproviders; i++) {
        spin_provider_t *p = &a->providers[i];
        for (size_t k = 0; k < p->n; k++) {
            free(p->names[k]);
            free(p->values[k]);
        }
        free(p->names);
        free(p->values);
        free(p->prefix);
    }
    free(a->providers);
}

/* The first provider's value for `name`. */
static const char *provider_value(const spin_app_t *a, const char *name)
{
    for (size_t i = 0; i < a->nproviders; i++) {
        const spin_provider_t *p = &a->providers[i];
        if (p->is_env) {
            char envname[512];
            int len = snprintf(envname, sizeof envname, "%s_", p->prefix);
            for (size_t k = 0; name[k] && len + 1 < (int)sizeof envname; k++)
                envname[len++] = (char)toupper((unsigned char)name[k]);
            envname[len] = '\0';
            const char *v = getenv(envname);
            for (size_t k = 0; !v && k < p->n; k++)
                if (strcmp(p->names[k], envname) == 0)
                    v = p->values[k];
            if (v)
                return v;
        } else {
            for (size_t k = 0; k < p->n; k++)
                if (strcmp(p->names[k], name) == 0)
                    return p->values[k];
        }
    }
    return NULL;
}

/* The value of a --variable NAME=VALUE for `name` (the last one wins). */
static const char *cli_value(const serve_opts_t *o, const char *name)
{
    const char *found = NULL;
    size_t n = strlen(name);
    for (size_t i = 0; o && i < o->nvariables; i++)
        if (strncmp(o->variables[i], name, n) == 0 && o->variables[i][n] == '=')
            found = o->variables[i] + n + 1;
    return found;
}

whirl_error_t *spin_vars_load(spin_app_t *a, const char *manifest,
                              const toml_shim_node_t *vars, const serve_opts_t *o)
{
    if (vars && toml_shim_kind(vars) != TOML_SHIM_TABLE)
        return errorf("%s:%u: [variables] must be a table", manifest, toml_shim_line(vars));
    for (size_t i = 0; o && i < o->nvariables; i++) {
        const char *eq = strchr(o->variables[i], '=');
        if (!eq || eq == o->variables[i])
            return errorf("--variable '%s': expected NAME=VALUE", o->variables[i]);
    }
    size_t n = toml_shim_table_size(vars);
    if (!(a->vars = calloc(n ? n : 1, sizeof *a->vars)))
        return errorf("out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *name = NULL, *why = NULL;
        const toml_shim_node_t *t = toml_shim_table_at(vars, i, &name);
        unsigned line = toml_shim_line(t);
        if (!spin_var_name_ok(name, &why))
            return errorf("%s:%u: invalid variable name '%s': %s", manifest, line, name, why);
        if (toml_shim_kind(t) != TOML_SHIM_TABLE)
            return errorf("%s:%u: variable '%s' must be a table ({ default = \"...\" } or "
                          "{ required = true })",
                          manifest, line, name);
        const char *def = NULL;
        bool required = false, secret = false;
        for (size_t k = 0, m = toml_shim_table_size(t); k < m; k++) {
            const char *key = NULL;
            const toml_shim_node_t *v = toml_shim_table_at(t, k, &key);
            bool ok = true;
            if (strcmp(key, "default") == 0)
                ok = (def = toml_shim_string(v)) != NULL;
            else if (strcmp(key, "required") == 0)
                ok = toml_shim_bool(v, &required);
            else if (strcmp(key, "secret") == 0)
                ok = toml_shim_bool(v, &secret);
            else if (strcmp(key, "description") != 0)
                serve_log("warning: %s:%u: unknown key '%s' in variable '%s' (ignored)",
                          manifest, toml_shim_line(v), key, name);
            if (!ok)
                return errorf("%s:%u: variable '%s': '%s' must be a %s", manifest,
                              toml_shim_line(v), name, key,
                              strcmp(key, "default") == 0 ? "string" : "boolean");
        }
        if (required && def)
            return errorf("%s:%u: variable '%s' is required and has a default: give one or "
                          "the other",
                          manifest, line, name);
        if (!required && !def)
            return errorf("%s:%u: variable '%s' needs a default or required = true", manifest,
                          line, name);
        /* Providers, in `spin up`'s order. */
        char envname[300] = "SPIN_VARIABLE_";
        for (size_t k = 0; name[k] && k + 15 < sizeof envname; k++)
            envname[14 + k] = (char)toupper((unsigned char)name[k]);
        const char *value = cli_value(o, name);
        if (!value)
            value = provider_value(a, name);
        if (!value)
            value = def;
        if (!value)
            return errorf("%s:%u: variable '%s' is required but has no value: set %s in the "
                          "environment or pass --variable %s=VALUE",
                          manifest, line, name, envname, name);
        spin_var_t *sv = &a->vars[a->nvars];
        sv->name = strdup(name);
        sv->value = strdup(value);
        sv->secret = secret;
        a->nvars++;
        if (!sv->name || !sv->value)
            return errorf("out of memory");
    }
    for (size_t i = 0; o && i < o->nvariables; i++) {
        const char *eq = strchr(o->variables[i], '=');
        if (!find_var(a, o->variables[i], (size_t)(eq - o->variables[i])))
            serve_log("warning: --variable %.*s: the manifest declares no such variable",
                      (int)(eq - o->variables[i]), o->variables[i]);
    }
    return NULL;
}

whirl_error_t *spin_vars_expand(const spin_app_t *a, const char *tmpl, char **out)
{
    size_t cap = strlen(tmpl) + 1, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return errorf("out of memory");
    for (const char *p = tmpl; *p;) {
        const char *piece = p, *open = strstr(p, "{{");
        size_t plen = open ? (size_t)(open - p) : strlen(p);
        const char *close = open ? strstr(open + 2, "}}") : NULL;
        if (open && !close) {
            free(buf);
            return errorf("unterminated '{{' in template \"%s\"", tmpl);
        }
        if (!open) {
            p += plen;
        } else if (plen) {
            p = open;
        } else {
            const char *s = open + 2, *e = close;
            while (s < e && isspace((unsigned char)*s))
                s++;
            while (e > s && isspace((unsigned char)e[-1]))
                e--;
            const spin_var_t *v = find_var(a, s, (size_t)(e - s));
            if (!v) {
                free(buf);
                return errorf("template \"%s\" uses '%.*s', which [variables] does not declare",
                              tmpl, (int)(e - s), s);
            }
            piece = v->value;
            plen = strlen(v->value);
            p = close + 2;
        }
        if (len + plen + 1 > cap) {
            cap = (len + plen + 1) * 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                return errorf("out of memory");
            }
            buf = nb;
        }
        memcpy(buf + len, piece, plen);
        len += plen;
    }
    buf[len] = '\0';
    *out = buf;
    return NULL;
}

/* ---- the host functions ---- */

/* The component's value of `name`; the error case and message otherwise. */
static const char *lookup(whirl_store_t *store, const whirl_cval_t *args, size_t nargs,
                          int *errcase, const char **why)
{
    spin_req_t *r = spin_req_of(store);
    const char *name = spin_arg_string(args, nargs, 0);
    *why = NULL;
    if (!r) {
        *errcase = VAR_ERR_OTHER;
        *why = "the calling store serves no request";
        return NULL;
    }
    if (!name || !spin_var_name_ok(name, why)) {
        *errcase = VAR_ERR_INVALID_NAME;
        if (!*why)
            *why = "not a string";
        return NULL;
    }
    const spin_comp_t *c = r->in->comp->spin;
    for (size_t i = 0; c && i < c->nvars; i++)
        if (strcmp(c->var_names[i], name) == 0)
            return c->var_values[i];
    *errcase = VAR_ERR_UNDEFINED;
    return NULL;
}

/* variables.get: result<string, error>. */
static whirl_error_t *vars_get(void *env, whirl_store_t *store,
                               const whirl_component_func_t *type, const whirl_cval_t *args,
                               size_t nargs, whirl_cval_t *results, size_t nresults)
{
    (void)env;
    (void)type;
    if (nresults != 1)
        return errorf("spin variables: get: wrong result count");
    int ec = 0;
    const char *why = NULL;
    const char *v = lookup(store, args, nargs, &ec, &why);
    whirl_cval_t *p = NULL;
    if (v) {
        whirl_error_t *e = spin_result_ok(results, true, &p);
        return e ? e : whirl_cval_set_string(p, v, strlen(v));
    }
    char msg[512];
    const char *name = spin_arg_string(args, nargs, 0);
    if (ec == VAR_ERR_UNDEFINED)
        snprintf(msg, sizeof msg, "no variable for \"%s\"", name);
    else
        snprintf(msg, sizeof msg, "invalid variable name \"%s\": %s", name ? name : "", why);
    return spin_result_err(results, (uint32_t)ec, msg);
}

/* fermyon:spin/config.get-config (Spin 1): error is provider(0),
 * invalid-key(1), invalid-schema(2), other(3); an undefined key is
 * provider, as Spin maps it. */
static whirl_error_t *config_get(void *env, whirl_store_t *store,
                                 const whirl_component_func_t *type, const whirl_cval_t *args,
                                 size_t nargs, whirl_cval_t *results, size_t nresults)
{
    (void)env;
    (void)type;
    if (nresults != 1)
        return errorf("spin config: get-config: wrong result count");
    int ec = 0;
    const char *why = NULL;
    const char *v = lookup(store, args, nargs, &ec, &why);
    whirl_cval_t *p = NULL;
    if (v) {
        whirl_error_t *e = spin_result_ok(results, true, &p);
        return e ? e : whirl_cval_set_string(p, v, strlen(v));
    }
    const char *name = spin_arg_string(args, nargs, 0);
    char msg[512];
    snprintf(msg, sizeof msg, "%s \"%s\"%s%s",
             ec == VAR_ERR_INVALID_NAME ? "invalid key" : "no variable for", name ? name : "",
             why ? ": " : "", why ? why : "");
    return spin_result_err(results, ec == VAR_ERR_INVALID_NAME ? 1 : ec == VAR_ERR_OTHER ? 3 : 0,
                           msg);
}

/* wasi:config/store.get: result<option<string>, error>; an undefined or
 * invalid name is none. */
static whirl_error_t *wasi_config_get(void *env, whirl_store_t *store,
                                      const whirl_component_func_t *type,
                                      const whirl_cval_t *args, size_t nargs,
                                      whirl_cval_t *results, size_t nresults)
{
    (void)env;
    (void)type;
    if (nresults != 1)
        return errorf("wasi:config/store.get: wrong result count");
    int ec = 0;
    const char *why = NULL;
    const char *v = lookup(store, args, nargs, &ec, &why);
    if (!v && ec == VAR_ERR_OTHER)
        return spin_result_err(results, 1, why); /* io */
    whirl_cval_t *p = NULL;
    whirl_error_t *e = spin_result_ok(results, true, &p);
    if (!e)
        e = whirl_cval_set_case(p, WHIRL_CVAL_OPTION, v ? 1 : 0, v != NULL);
    if (!e && v)
        e = whirl_cval_set_string(p->of.variant.payload, v, strlen(v));
    return e;
}

/* wasi:config/store.get-all: result<list<tuple<string, string>>, error>. */
static whirl_error_t *wasi_config_get_all(void *env, whirl_store_t *store,
                                          const whirl_component_func_t *type,
                                          const whirl_cval_t *args, size_t nargs,
                                          whirl_cval_t *results, size_t nresults)
{
    (void)env;
    (void)type;
    (void)args;
    (void)nargs;
    if (nresults != 1)
        return errorf("wasi:config/store.get-all: wrong result count");
    spin_req_t *r = spin_req_of(store);
    if (!r)
        return spin_result_err(results, 1, "the calling store serves no request");
    const spin_comp_t *c = r->in->comp->spin;
    size_t n = c ? c->nvars : 0;
    whirl_cval_t *p = NULL;
    whirl_error_t *e = spin_result_ok(results, true, &p);
    if (!e)
        e = whirl_cval_set_items(p, WHIRL_CVAL_LIST, n);
    for (size_t i = 0; !e && i < n; i++) {
        whirl_cval_t *t = &p->of.list.items[i];
        e = whirl_cval_set_items(t, WHIRL_CVAL_TUPLE, 2);
        if (!e)
            e = whirl_cval_set_string(&t->of.list.items[0], c->var_names[i],
                                      strlen(c->var_names[i]));
        if (!e)
            e = whirl_cval_set_string(&t->of.list.items[1], c->var_values[i],
                                      strlen(c->var_values[i]));
    }
    return e;
}

whirl_error_t *spin_vars_link(whirl_component_linker_t *l)
{
    whirl_error_t *e =
        whirl_component_linker_define_func(l, "fermyon:spin/variables@2.0.0", "get", vars_get,
                                           NULL, NULL);
    /* spin:variables@3.0.0's get is async with 2.0.0's arguments and errors:
     * it finishes at once (the values were resolved at load). */
    if (!e)
        e = spin_define_async(l, "spin:variables/variables@3.0.0", "get", vars_get, NULL,
                              SPIN_ASYNC_SAME);
    if (!e)
        e = whirl_component_linker_define_func(l, "fermyon:spin/config", "get-config",
                                               config_get, NULL, NULL);
    if (!e)
        e = whirl_component_linker_define_func(l, "wasi:config/store@0.2.0-draft-2024-09-27",
                                               "get", wasi_config_get, NULL, NULL);
    if (!e)
        e = whirl_component_linker_define_func(l, "wasi:config/store@0.2.0-draft-2024-09-27",
                                               "get-all", wasi_config_get_all, NULL, NULL);
    return e;
}
