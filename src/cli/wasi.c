/* `whirl run` for WASI programs: turning --dir, --env and --inherit-env into
 * a WASI context. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char wasi_module[] = "wasi_snapshot_preview1";

bool cli_is_wasi_import(const whirl_import_info_t *imp)
{
    return imp->module_len == sizeof wasi_module - 1 &&
           memcmp(imp->module, wasi_module, sizeof wasi_module - 1) == 0;
}

bool cli_imports_wasi(const whirl_module_t *m)
{
    for (size_t i = 0, n = whirl_module_import_count(m); i < n; i++) {
        whirl_import_info_t imp;
        if (whirl_module_import(m, i, &imp) && cli_is_wasi_import(&imp))
            return true;
    }
    return false;
}

int cli_dir_spec(const char *spec, char **buf, const char **host, const char **guest,
                 bool *readonly)
{
    size_t len = strlen(spec);
    *buf = NULL;
    *readonly = false;
    if (len > 3 && (strcmp(spec + len - 3, ":ro") == 0 || strcmp(spec + len - 3, ":rw") == 0)) {
        *readonly = spec[len - 1] == 'o';
        len -= 3;
    }
    char *h = strndup(spec, len);
    if (!h) {
        cli_error("out of memory");
        return EXIT_USAGE;
    }
    char *g = NULL;
    char *sep = strstr(h, "::");
    if (sep) {
        *sep = '\0';
        g = sep + 2;
    }
    if (!*h || (g && !*g)) {
        free(h);
        return cli_usage_error("run: invalid value '%s' for --dir (expected HOST[::GUEST][:ro])",
                               spec);
    }
    *buf = h;
    *host = h;
    *guest = g;
    return 0;
}

/* --dir HOST[::GUEST][:ro|:rw]. A trailing ":ro" makes the directory
 * read-only; ":rw" (the default) only lets a path that itself ends in ":ro"
 * be given unambiguously. Returns 0 or EXIT_USAGE / EXIT_IO. */
static int add_dir(whirl_wasi_config_t *cfg, const char *spec)
{
    char *buf;
    const char *host, *guest;
    bool ro;
    int rc = cli_dir_spec(spec, &buf, &host, &guest, &ro);
    if (rc)
        return rc;
    whirl_error_t *err =
        whirl_wasi_config_preopen_dir(cfg, host, guest, ro ? WHIRL_WASI_DIR_READONLY : 0);
    free(buf);
    if (err) {
        cli_error("--dir %s: %s", spec, whirl_error_message(err));
        whirl_error_delete(err);
        return EXIT_IO;
    }
    return 0;
}

int cli_env_spec(const char *spec, char **name, const char **value)
{
    const char *eq = strchr(spec, '=');
    *name = eq ? strndup(spec, (size_t)(eq - spec)) : strdup(spec);
    if (!*name) {
        cli_error("out of memory");
        return EXIT_USAGE;
    }
    if (!**name) {
        free(*name);
        *name = NULL;
        return cli_usage_error("run: invalid value '%s' for --env (expected NAME=VALUE)", spec);
    }
    *value = eq ? eq + 1 : getenv(*name);
    return 0;
}

/* --env NAME=VALUE, or --env NAME to pass the host's value (if set). */
static int add_env(whirl_wasi_config_t *cfg, const char *spec)
{
    char *name;
    const char *value;
    int rc = cli_env_spec(spec, &name, &value);
    if (rc)
        return rc;
    whirl_error_t *err = NULL;
    if (value)
        err = whirl_wasi_config_push_env(cfg, name, value);
    free(name);
    if (err) {
        rc = cli_usage_error("run: --env %s: %s", spec, whirl_error_message(err));
        whirl_error_delete(err);
        return rc;
    }
    return 0;
}

int cli_wasi_new(const cli_wasi_opts_t *o, const char *file, const char **args, size_t nargs,
                 whirl_wasi_t **out)
{
    *out = NULL;
    whirl_wasi_config_t *cfg = whirl_wasi_config_new();
    if (!cfg) {
        cli_error("out of memory");
        return EXIT_USAGE;
    }
    whirl_wasi_config_inherit_stdio(cfg);
    /* argv[0] is the file name only: the host's directories are none of the
     * guest's business. */
    const char *base = strrchr(file, '/');
    base = base && base[1] ? base + 1 : file;
    whirl_error_t *err = whirl_wasi_config_push_arg(cfg, base);
    for (size_t i = 0; !err && i < nargs; i++)
        err = whirl_wasi_config_push_arg(cfg, args[i]);
    if (!err && o->inherit_env)
        err = whirl_wasi_config_inherit_env(cfg);
    if (!err && o->max_open_files)
        err = whirl_wasi_config_set_max_open_files(cfg, o->max_open_files);
    int rc = 0;
    for (size_t i = 0; !err && !rc && i < o->nenvs; i++)
        rc = add_env(cfg, o->envs[i]);
    for (size_t i = 0; !err && !rc && i < o->ndirs; i++)
        rc = add_dir(cfg, o->dirs[i]);
    if (err || rc) {
        if (err) {
            cli_error("%s", whirl_error_message(err));
            whirl_error_delete(err);
            rc = EXIT_USAGE;
        }
        whirl_wasi_config_delete(cfg);
        return rc;
    }
    if ((err = whirl_wasi_new(cfg, out))) {
        cli_error("%s", whirl_error_message(err));
        whirl_error_delete(err);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}
