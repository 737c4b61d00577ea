/* Components in the `whirl` command: `whirl run` of a wasi:cli command
 * component under WASI 0.2 or 0.3 (whirl/wasi2.h), and `whirl inspect`. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "options.h"
#include "whirl/component.h"
#include "whirl/wasi2.h"
#ifdef WHIRL_HAVE_SERVE
#include "serve/serve.h"
#endif

/* The interface a command exports; any 0.2.x version matches it. A WASI
 * 0.3 command exports run@0.3.x or a release candidate's run (an async
 * function), preferred when present: toolchains export both, and their 0.2
 * entry may not be the program's. It is called by its exported name, as a
 * candidate's version matches no other; its imports are the linker's to
 * check (it names the versions it has). */
static const char run_iface[] = "wasi:cli/run@0.2.0";

static bool is_run_export(const char *name)
{
    return strcmp(name, "wasi:cli/run") == 0 || strncmp(name, "wasi:cli/run@0.2.", 17) == 0 ||
           strncmp(name, "wasi:cli/run@0.3.", 17) == 0;
}

/* The WASI 0.2 context of a run: the same options as preview 1. */
static int make_wasi2(const run_opts_t *o, whirl_wasi2_t **out)
{
    *out = NULL;
    whirl_wasi2_config_t *cfg = whirl_wasi2_config_new();
    if (!cfg) {
        cli_error("out of memory");
        return EXIT_USAGE;
    }
    whirl_wasi2_config_inherit_stdio(cfg);
    /* argv[0] is the file name only: the host's directories are none of the
     * guest's business. */
    const char *base = strrchr(o->file, '/');
    base = base && base[1] ? base + 1 : o->file;
    whirl_error_t *err = whirl_wasi2_config_push_arg(cfg, base);
    for (size_t i = 0; !err && i < o->nargs; i++)
        err = whirl_wasi2_config_push_arg(cfg, o->args[i]);
    if (!err && o->wasi.inherit_env)
        err = whirl_wasi2_config_inherit_env(cfg);
    if (!err && o->hosting.max_open_files)
        err = whirl_wasi2_config_set_max_open_files(cfg, o->hosting.max_open_files);
    if (!err && o->inherit_network)
        err = whirl_wasi2_config_inherit_network(cfg);
    for (size_t i = 0; !err && i < o->nallow_ip; i++)
        err = whirl_wasi2_config_allow_ip(cfg, o->allow_ip[i]);
    int rc = 0;
    for (size_t i = 0; !err && !rc && i < o->wasi.nenvs; i++) {
        char *name;
        const char *value;
        if ((rc = cli_env_spec(o->wasi.envs[i], &name, &value)) != 0)
            break;
        if (value && (err = whirl_wasi2_config_push_env(cfg, name, value))) {
            rc = cli_usage_error("run: --env %s: %s", o->wasi.envs[i], whirl_error_message(err));
            whirl_error_delete(err);
            err = NULL;
        }
        free(name);
    }
    for (size_t i = 0; !err && !rc && i < o->wasi.ndirs; i++) {
        char *buf;
        const char *host, *guest;
        bool ro;
        if ((rc = cli_dir_spec(o->wasi.dirs[i], &buf, &host, &guest, &ro)) != 0)
            break;
        err = whirl_wasi2_config_preopen_dir(cfg, host, guest, ro ? WHIRL_WASI2_DIR_READONLY : 0);
        free(buf);
        if (err) {
            cli_error("--dir %s: %s", o->wasi.dirs[i], whirl_error_message(err));
            whirl_error_delete(err);
            err = NULL;
            rc = EXIT_IO;
        }
    }
    if (err || rc) {
        if (err) {
            cli_error("%s", whirl_error_message(err));
            whirl_error_delete(err);
            rc = EXIT_USAGE;
        }
        whirl_wasi2_config_delete(cfg);
        return rc;
    }
    if ((err = whirl_wasi2_new(cfg, out))) {
        cli_error("%s", whirl_error_message(err));
        whirl_error_delete(err);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

typedef struct comp_run {
    whirl_component_t *component;
    whirl_wasi2_t *wasi;
    whirl_component_linker_t *linker;
    whirl_component_instance_pre_t *pre;
    whirl_store_t *store;
    bool http; /* wasi:http defined: its state goes around the WASI context's */
} comp_run_t;

#ifdef WHIRL_HAVE_SERVE
static whirl_wasi2_t *one_wasi2(void *env, whirl_store_t *store)
{
    (void)store;
    return env;
}
#endif

static int run(const run_opts_t *o, whirl_engine_t *engine, const uint8_t *bytes, size_t len,
               comp_run_t *r)
{
    if (o->invoke)
        return cli_usage_error("run: --invoke is for core modules; a component runs its "
                               "wasi:cli/run export");
    whirl_error_t *err = whirl_component_new(engine, bytes, len, &r->component);
    if (err) {
        cli_report_module_error(o->file, bytes, len, err);
        whirl_error_delete(err);
        return EXIT_BAD_MODULE;
    }
    bool command = false;
    const char *run_p3 = NULL; /* the wasi:cli/run@0.3.* export, if any */
    for (size_t i = 0, n = whirl_component_export_count(r->component); i < n; i++) {
        const char *name;
        whirl_component_item_kind_t kind;
        if (whirl_component_export(r->component, i, &name, &kind) &&
            kind == WHIRL_COMPONENT_ITEM_INSTANCE && is_run_export(name)) {
            command = true;
            if (!run_p3 && strncmp(name, "wasi:cli/run@0.3.", 17) == 0)
                run_p3 = name;
        }
    }
    if (!command) {
        cli_error("%s: the component exports no wasi:cli/run@0.2.x or 0.3.x interface, so it "
                  "is not a command `whirl run` can start (`whirl inspect %s` lists its exports)",
                  o->file, o->file);
        return EXIT_BAD_MODULE;
    }
    int rc = make_wasi2(o, &r->wasi);
    if (rc != EXIT_OK)
        return rc;
    r->linker = whirl_component_linker_new(engine);
    if (!r->linker) {
        cli_error("out of memory");
        return EXIT_BAD_MODULE;
    }
#ifdef WHIRL_HAVE_SERVE
    /* WASI 0.2 and wasi:http's outgoing-handler (src/serve), which needs
     * the WASI host's stream and pollable types. */
    whirl_wasi2_host_t *w2 = NULL;
    if (!(err = whirl_wasi2_add_to_linker(r->linker, WHIRL_WASI2_ALL, one_wasi2, r->wasi, &w2))) {
        r->http = true;
        err = serve_http_run_setup(r->linker, w2, r->wasi, o->file,
                                   (const char *const *)o->allow_http, o->nallow_http,
                                   o->http_ca);
    }
#define PROVIDES ", wasi:http/outgoing-handler"
#else
    err = whirl_component_linker_define_wasi2(r->linker, r->wasi);
#define PROVIDES ""
#endif
    if (err && strncmp(whirl_error_message(err), "-S ", 3) == 0) {
        cli_error("run: %s", whirl_error_message(err));
        whirl_error_delete(err);
        return EXIT_USAGE;
    }
    if (err || (err = whirl_component_linker_instantiate_pre(r->linker, r->component, &r->pre))) {
        cli_error("%s: %s (whirl run provides WASI 0.2: wasi:cli, wasi:io, wasi:clocks, "
                  "wasi:random, wasi:filesystem" PROVIDES "; and WASI 0.3 (also at "
                  "0.3.0-rc-2026-03-15): wasi:cli, wasi:clocks, wasi:random, wasi:filesystem, "
                  "wasi:sockets)",
                  o->file, whirl_error_message(err));
        whirl_error_delete(err);
        return EXIT_BAD_MODULE;
    }
    r->store = whirl_store_new(engine, NULL, NULL);
    if (!r->store) {
        cli_error("out of memory");
        return EXIT_BAD_MODULE;
    }
    /* Limits and the deadline apply from instantiation on: core start
     * functions are guest code too. */
    if ((err = cli_hosting_apply(&o->hosting, r->store))) {
        cli_error("%s", whirl_error_message(err));
        whirl_error_delete(err);
        return EXIT_BAD_MODULE;
    }
#ifdef WHIRL_HAVE_SERVE
    if (o->hosting.timeout_ns)
        serve_http_run_set_deadline(whirl_monotonic_now() + o->hosting.timeout_ns);
#endif
    char what[512];
    snprintf(what, sizeof what, "%s: instantiation failed", o->file);
    whirl_component_instance_t *inst;
    if ((err = whirl_component_instance_pre_instantiate(r->pre, r->store, &inst)))
        return cli_report_run_failure(o, what, err);
    whirl_component_func_t *f;
    if (((!run_p3 || !whirl_component_instance_func(inst, run_p3, "run", &f)) &&
         !whirl_component_instance_func(inst, run_iface, "run", &f)) ||
        whirl_component_func_param_count(f) != 0 || whirl_component_func_result_count(f) != 1 ||
        whirl_ctype_kind(whirl_component_func_result_type(f)) != WHIRL_CVAL_RESULT) {
        cli_error("%s: wasi:cli/run has no `run: func() -> result`", o->file);
        return EXIT_BAD_MODULE;
    }
    whirl_cval_t result = {0};
    if ((err = whirl_component_func_call(r->store, f, NULL, 0, &result, 1)))
        return cli_report_run_failure(o, "calling wasi:cli/run#run", err);
    /* run's error carries no status: under WASI 0.2 every failure is 1. */
    rc = result.kind == WHIRL_CVAL_RESULT && result.of.variant.index == 0 ? EXIT_OK
                                                                             : EXIT_BAD_MODULE;
    whirl_cval_release(&result);
    return rc;
}

int cli_run_component(const run_opts_t *o, whirl_engine_t *engine, const uint8_t *bytes,
                      size_t len)
{
    comp_run_t r = {0};
    int rc = run(o, engine, bytes, len, &r);
    /* The store first (its instances use the linker's definitions and the
     * context), the context last. */
    whirl_store_delete(r.store);
    whirl_component_instance_pre_delete(r.pre);
    whirl_component_linker_delete(r.linker);
#ifdef WHIRL_HAVE_SERVE
    if (r.http)
        serve_http_run_end();
#endif
    whirl_wasi2_delete(r.wasi);
#ifdef WHIRL_HAVE_SERVE
    if (r.http)
        serve_http_run_free();
#endif
    whirl_component_delete(r.component);
    return rc;
}

/* ------------------------------------------------------------------ */
/* whirl inspect                                                       */
/* ------------------------------------------------------------------ */

static const char *extern_kind(whirl_externkind_t k)
{
    switch (k) {
    case WHIRL_EXTERN_FUNC: return "func";
    case WHIRL_EXTERN_TABLE: return "table";
    case WHIRL_EXTERN_MEMORY: return "memory";
    case WHIRL_EXTERN_GLOBAL: return "global";
    case WHIRL_EXTERN_TAG: return "tag";
    }
    return "?";
}

static void put_functype(const whirl_functype_t *t)
{
    size_t np = whirl_functype_param_count(t), nr = whirl_functype_result_count(t);
    for (size_t i = 0; i < np; i++)
        printf("%s%s", i ? " " : " (param ", cli_kind_name(whirl_functype_param(t, i)));
    if (np)
        printf(")");
    for (size_t i = 0; i < nr; i++)
        printf("%s%s", i ? " " : " (result ", cli_kind_name(whirl_functype_result(t, i)));
    if (nr)
        printf(")");
}

/* A core module: one line per import and export. */
static void inspect_module(const whirl_module_t *m)
{
    printf("module {\n");
    for (size_t i = 0, n = whirl_module_import_count(m); i < n; i++) {
        whirl_import_info_t imp;
        if (!whirl_module_import(m, i, &imp))
            continue;
        printf("  import \"");
        cli_put_escaped(stdout, imp.module, imp.module_len, 0);
        printf("\" \"");
        cli_put_escaped(stdout, imp.name, imp.name_len, 0);
        printf("\" (%s", extern_kind(imp.kind));
        if (imp.kind == WHIRL_EXTERN_FUNC && imp.functype)
            put_functype(imp.functype);
        printf(")\n");
    }
    for (size_t i = 0, n = whirl_module_export_count(m); i < n; i++) {
        whirl_export_info_t e;
        if (!whirl_module_export(m, i, &e))
            continue;
        printf("  export \"");
        cli_put_escaped(stdout, e.name, e.name_len, 0);
        printf("\" (%s", extern_kind(e.kind));
        if (e.kind == WHIRL_EXTERN_FUNC && e.functype)
            put_functype(e.functype);
        printf(")\n");
    }
    printf("}\n");
}

static int inspect_file(whirl_engine_t *engine, const char *path, bool heading)
{
    uint8_t *data;
    size_t len;
    int rc = cli_read_file(path, &data, &len);
    if (rc != EXIT_OK)
        return rc;
    whirl_error_t *err;
    static int shown;
    if (heading)
        printf("%s%s:\n", shown++ ? "\n" : "", path);
    if (whirl_component_is_component(data, len)) {
        whirl_component_t *c;
        char *text = NULL;
        if (!(err = whirl_component_new(engine, data, len, &c))) {
            err = whirl_component_describe(c, &text);
            whirl_component_delete(c);
        }
        if (!err) {
            /* Names come from the file: escape what a terminal would act on. */
            cli_put_escaped(stdout, text, strlen(text), 1);
            free(text);
        }
    } else {
        whirl_module_t *m;
        if (!(err = cli_module_load(engine, data, len, &m))) {
            inspect_module(m);
            whirl_module_delete(m);
        }
    }
    if (err) {
        cli_report_module_error(path, data, len, err);
        whirl_error_delete(err);
        rc = EXIT_BAD_MODULE;
    }
    free(data);
    return rc;
}

int cli_cmd_inspect(int argc, char **argv)
{
    static const cli_option_t options[] = {
        {0, 'h', "help", CLI_NO_ARG, NULL, "Show this help."},
    };
    int status = EXIT_OK;
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    size_t nfiles = 0;
    if (!files) {
        cli_error("out of memory");
        return EXIT_IO;
    }
    cli_args_t a;
    cli_args_init(&a, "inspect", options, CLI_COUNT(options), argc, argv);
    for (int id; (id = cli_args_next(&a)) != CLI_ARGS_END;) {
        if (id == CLI_ARGS_POSITIONAL) {
            files[nfiles++] = a.value;
            continue;
        }
        free(files);
        if (id == CLI_ARGS_ERROR)
            return EXIT_USAGE;
        fputs("Usage: whirl inspect FILE...\n\n"
              "Print a component's imports and exports as WIT-like text (a core module's as\n"
              "a list).\n",
              stdout);
        return EXIT_OK;
    }
    if (nfiles == 0) {
        free(files);
        return cli_usage_error("inspect: missing FILE.wasm");
    }
    whirl_engine_t *engine;
    whirl_error_t *err = whirl_engine_new(NULL, &engine);
    if (err) {
        cli_error("cannot create engine: %s", whirl_error_message(err));
        whirl_error_delete(err);
        free(files);
        return EXIT_BAD_MODULE;
    }
    for (size_t i = 0; i < nfiles; i++) {
        int rc = inspect_file(engine, files[i], nfiles > 1);
        if (rc > status)
            status = rc;
    }
    whirl_engine_delete(engine);
    free(files);
    return status;
}
