/* `whirl run`: instantiate a module and call one export. A module that
 * imports WASI (wasi_snapshot_preview1) gets it, with the --dir, --env and
 * --inherit-env options, and its `_start` runs as a program: its exit status
 * becomes whirl's. Components go to component.c. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "hosting.h"
#include "whirl/component.h"

/* parse_run_args result for --help: not an error, but nothing to run. */
#define RUN_HELP_SHOWN (-1)

/* Negative numbers and -inf/-nan are arguments, not options. */
static bool looks_like_number(const char *a)
{
    return a[0] == '-' && (isdigit((unsigned char)a[1]) || a[1] == '.' ||
                           strncasecmp(a + 1, "inf", 3) == 0 || strncasecmp(a + 1, "nan", 3) == 0);
}

/* Matches `--name VALUE` and `--name=VALUE`; advances *i past the value.
 * Returns 1 if matched (value in *value), 0 if not this option, -1 if the
 * value is missing (error printed). */
static int take_option(int argc, char **argv, int *i, const char *name, const char **value)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        cli_usage_error("run: option %s needs a value", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

/* Hands one -W option (or --timeout, as "timeout=VALUE") to the hosting
 * options. */
static int take_hosting_option(run_opts_t *o, const char *arg)
{
    char why[256];
    switch (cli_hosting_parse(&o->hosting, arg, why, sizeof why)) {
    case 1:
        if (strncmp(arg, "timeout=", 8) == 0)
            o->timeout_text = arg + 8;
        return EXIT_OK;
    case 0:
        return cli_usage_error("run: unknown -W option '%s' (known: timeout, max-memory-size, "
                               "max-table-elements, pooling)",
                               arg);
    default:
        return cli_usage_error("run: %s", why);
    }
}

static int parse_run_args(int argc, char **argv, run_opts_t *o)
{
    bool options_done = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!options_done && a[0] == '-' && a[1] != '\0' && !looks_like_number(a)) {
            const char *value;
            int m;
            if (strcmp(a, "--") == 0) {
                options_done = true;
                continue;
            }
            if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
                cli_usage(stdout);
                return RUN_HELP_SHOWN;
            }
            if ((m = take_option(argc, argv, &i, "--invoke", &value)) != 0) {
                if (m < 0)
                    return EXIT_USAGE;
                if (o->invoke)
                    return cli_usage_error("run: --invoke given twice ('%s' and '%s')",
                                           o->invoke, value);
                o->invoke = value;
                continue;
            }
            if ((m = take_option(argc, argv, &i, "--max-wasm-stack", &value)) != 0) {
                if (m < 0)
                    return EXIT_USAGE;
                if (cli_parse_size(value, &o->max_wasm_stack) != 0)
                    return cli_usage_error("run: invalid value '%s' for --max-wasm-stack "
                                           "(expected a byte count such as 65536 or 8M)",
                                           value);
                o->have_stack = true;
                continue;
            }
            if ((m = take_option(argc, argv, &i, "--timeout", &value)) != 0) {
                if (m < 0)
                    return EXIT_USAGE;
                char arg[256];
                snprintf(arg, sizeof arg, "timeout=%s", value);
                int rc = take_hosting_option(o, arg);
                if (rc != EXIT_OK)
                    return rc;
                o->timeout_text = value;
                continue;
            }
            if (strncmp(a, "-W", 2) == 0) {
                if (a[2] == '\0' && i + 1 >= argc)
                    return cli_usage_error("run: option -W needs a value (e.g. -W timeout=10s)");
                int rc = take_hosting_option(o, a[2] ? a + 2 : argv[++i]);
                if (rc != EXIT_OK)
                    return rc;
                continue;
            }
            if ((m = take_option(argc, argv, &i, "--dir", &value)) != 0) {
                if (m < 0)
                    return EXIT_USAGE;
                o->wasi.dirs[o->wasi.ndirs++] = value;
                continue;
            }
            if ((m = take_option(argc, argv, &i, "--env", &value)) != 0) {
                if (m < 0)
                    return EXIT_USAGE;
                o->wasi.envs[o->wasi.nenvs++] = value;
                continue;
            }
            if (strcmp(a, "--cache") == 0 || strncmp(a, "--cache=", 8) == 0) {
                o->cache = true;
                o->cache_dir = a[7] == '=' ? a + 8 : NULL;
                continue;
            }
            if (strcmp(a, "--inherit-env") == 0) {
                o->wasi.inherit_env = true;
                continue;
            }
            if (!o->file)
                return cli_usage_error("run: unknown option '%s'", a);
            /* After FILE, an unknown option may be the program's own. */
            if (!o->unknown_after_file)
                o->unknown_after_file = a;
        }
        if (!o->file)
            o->file = a;
        else
            o->args[o->nargs++] = a;
    }
    if (!o->file)
        return cli_usage_error("run: missing FILE.wasm");
    return EXIT_OK;
}

/* "(param i32 i64) (result f32)" into buf. */
static void format_functype(char *buf, size_t size, const whirl_functype_t *t)
{
    size_t n = 0;
    buf[0] = '\0';
#define PUT(...) \
    do { \
        if (n < size) \
            n += (size_t)snprintf(buf + n, size - n, __VA_ARGS__); \
    } while (0)
    size_t np = whirl_functype_param_count(t), nr = whirl_functype_result_count(t);
    if (np) {
        PUT("(param");
        for (size_t i = 0; i < np; i++)
            PUT(" %s", cli_kind_name(whirl_functype_param(t, i)));
        PUT(")");
    }
    if (nr) {
        PUT("%s(result", np ? " " : "");
        for (size_t i = 0; i < nr; i++)
            PUT(" %s", cli_kind_name(whirl_functype_result(t, i)));
        PUT(")");
    }
#undef PUT
}

/* Comma-separated names of the exported functions, for hints. */
static void list_func_exports(const whirl_module_t *m, char *buf, size_t size)
{
    size_t n = 0, shown = 0, total = whirl_module_export_count(m);
    buf[0] = '\0';
    for (size_t i = 0; i < total && n < size; i++) {
        whirl_export_info_t e;
        if (!whirl_module_export(m, i, &e) || e.kind != WHIRL_EXTERN_FUNC)
            continue;
        if (shown == 8) {
            snprintf(buf + n, size - n, ", ...");
            return;
        }
        n += (size_t)snprintf(buf + n, size - n, "%s%.*s", shown ? ", " : "",
                              (int)(e.name_len > 200 ? 200 : e.name_len), e.name);
        shown++;
    }
    if (shown == 0)
        snprintf(buf, size, "none");
}

static bool find_export(const whirl_module_t *m, const char *name, whirl_export_info_t *out)
{
    size_t len = strlen(name);
    for (size_t i = 0, n = whirl_module_export_count(m); i < n; i++)
        if (whirl_module_export(m, i, out) && out->name_len == len &&
            memcmp(out->name, name, len) == 0)
            return true;
    return false;
}

static const char *extern_kind_name(whirl_externkind_t k)
{
    switch (k) {
    case WHIRL_EXTERN_FUNC: return "func";
    case WHIRL_EXTERN_TABLE: return "table";
    case WHIRL_EXTERN_MEMORY: return "memory";
    case WHIRL_EXTERN_GLOBAL: return "global";
    }
    return "?";
}

/* The CLI provides WASI preview 1 and nothing else, so any other import is
 * a link error; name the first one so the user knows what the module
 * expects. */
static int check_imports(const char *path, const whirl_module_t *m)
{
    size_t n = whirl_module_import_count(m), i;
    whirl_import_info_t imp;
    for (i = 0; i < n; i++)
        if (whirl_module_import(m, i, &imp) && !cli_is_wasi_import(&imp))
            break;
    if (i == n)
        return EXIT_OK;
    char sig[256] = "";
    if (imp.kind == WHIRL_EXTERN_FUNC && imp.functype)
        format_functype(sig, sizeof sig, imp.functype);
    cli_error("%s: unresolved import \"%.*s\".\"%.*s\" (%s%s%s): whirl run provides only "
              "WASI preview 1 (wasi_snapshot_preview1) imports (module has %zu import%s)",
              path, (int)(imp.module_len > 200 ? 200 : imp.module_len), imp.module,
              (int)(imp.name_len > 200 ? 200 : imp.name_len), imp.name,
              extern_kind_name(imp.kind), sig[0] ? " " : "", sig, n, n == 1 ? "" : "s");
    if (imp.module_len == 13 && memcmp(imp.module, "wasi_unstable", 13) == 0)
        fputs("note: this program uses the older WASI snapshot 0 (wasi_unstable); rebuild it "
              "for wasi_snapshot_preview1\n",
              stderr);
    return EXIT_BAD_MODULE;
}

/* Converts the command-line arguments to the export's parameter types. */
static int convert_args(const run_opts_t *o, const char *fname, const whirl_functype_t *type,
                        whirl_val_t *vals)
{
    size_t np = whirl_functype_param_count(type);
    if (o->nargs != np) {
        char sig[256];
        format_functype(sig, sizeof sig, type);
        return cli_usage_error("run: '%s' takes %zu argument%s but %zu %s given (type: func%s%s)",
                               fname, np, np == 1 ? "" : "s", o->nargs,
                               o->nargs == 1 ? "was" : "were", sig[0] ? " " : "", sig);
    }
    for (size_t i = 0; i < np; i++) {
        whirl_valkind_t k = whirl_functype_param(type, i);
        const char *why = "";
        if (cli_parse_val(o->args[i], k, &vals[i], &why) != 0) {
            bool long_arg = strlen(o->args[i]) > 80; /* keep the reason visible */
            return cli_usage_error("run: argument %zu of '%s': invalid %s value '%.80s%s': %s",
                                   i + 1, fname, cli_kind_name(k), o->args[i],
                                   long_arg ? "..." : "", why);
        }
    }
    return EXIT_OK;
}

/* Everything a run owns, so that one function can release it on every path. */
typedef struct run_state {
    uint8_t *wasm;
    whirl_engine_t *engine;
    whirl_module_t *module;
    whirl_store_t *store;
    whirl_val_t *args, *results;
    whirl_wasi_t *wasi;     /* a WASI module's context, else NULL */
    whirl_linker_t *linker; /* defines WASI; must go before `wasi` */
} run_state_t;

/* Reports a failed instantiation or call and frees `err`. A trap is exit
 * code 134, the deadline of -W timeout 142; a WASI exit request gives the
 * program's status; anything else (link errors, bad arguments) is 1. */
int cli_report_run_failure(const run_opts_t *o, const char *what, whirl_error_t *err)
{
    whirl_trap_code_t code = 0;
    int rc = EXIT_BAD_MODULE;
    int status;
    if (whirl_error_exit_status(err, &status)) {
        /* WASI keeps 126 and above for the host (126/127: cannot run, 128+n:
         * signals; wasmtime refuses them the same way). */
        if (status >= 0 && status < 126) {
            rc = status;
        } else {
            cli_error("the program exited with status %d, outside the 0-125 a WASI program may "
                      "use",
                      status);
            rc = EXIT_BAD_MODULE;
        }
    } else if (whirl_error_is_trap(err, &code)) {
        rc = EXIT_TRAP;
        cli_report_trap(err);
        if (code == WHIRL_TRAP_INTERRUPT && cli_hosting_deadline_reached(&o->hosting, err)) {
            fprintf(stderr, "note: the timeout of %s was reached\n", o->timeout_text);
            rc = EXIT_TIMEOUT;
        }
    } else {
        cli_error("%s: %s", what, whirl_error_message(err));
    }
    whirl_error_delete(err);
    return rc;
}

static int run_module(const run_opts_t *o, run_state_t *s)
{
    size_t len;
    int rc = cli_read_file(o->file, &s->wasm, &len);
    if (rc != EXIT_OK)
        return rc;

    whirl_config_t *config = whirl_config_new();
    if (!config) {
        cli_error("out of memory");
        return EXIT_BAD_MODULE;
    }
    whirl_error_t *err;
    if (o->have_stack && (err = whirl_config_max_wasm_stack_set(config, o->max_wasm_stack))) {
        whirl_config_delete(config);
        rc = cli_usage_error("run: invalid value '%zu' for --max-wasm-stack: %s",
                             o->max_wasm_stack, whirl_error_message(err));
        whirl_error_delete(err);
        return rc;
    }
    if ((err = cli_hosting_configure(&o->hosting, config))) {
        whirl_config_delete(config);
        rc = cli_usage_error("run: %s", whirl_error_message(err));
        whirl_error_delete(err);
        return rc;
    }
    if (o->cache && (err = cli_enable_cache(config, o->cache_dir))) {
        whirl_config_delete(config);
        rc = cli_usage_error("run: --cache: %s", whirl_error_message(err));
        whirl_error_delete(err);
        return rc;
    }
    if ((err = whirl_engine_new(config, &s->engine))) {
        cli_error("cannot create engine: %s", whirl_error_message(err));
        whirl_error_delete(err);
        return EXIT_BAD_MODULE;
    }
    /* A component (layer 1 in the preamble) runs as a WASI 0.2 command. */
    if (whirl_component_is_component(s->wasm, len))
        return cli_run_component(o, s->engine, s->wasm, len);
    if ((err = cli_module_load(s->engine, s->wasm, len, &s->module))) {
        cli_report_module_error(o->file, s->wasm, len, err);
        whirl_error_delete(err);
        return EXIT_BAD_MODULE;
    }

    /* Resolve the export and convert the arguments before instantiating, so
     * that a mistyped command line does not run the module's start function. */
    const char *fname = o->invoke ? o->invoke : "_start";
    whirl_export_info_t exp;
    bool found = find_export(s->module, fname, &exp);
    char names[512];
    if (o->invoke && (!found || exp.kind != WHIRL_EXTERN_FUNC)) {
        list_func_exports(s->module, names, sizeof names);
        if (found)
            return cli_usage_error("run: --invoke '%s': export '%s' is a %s, not a function "
                                   "(exported functions: %s)",
                                   fname, fname, extern_kind_name(exp.kind), names);
        return cli_usage_error("run: --invoke '%s': %s has no export named '%s' "
                               "(exported functions: %s)",
                               fname, o->file, fname, names);
    }
    bool call = found && exp.kind == WHIRL_EXTERN_FUNC;
    bool wasi = cli_imports_wasi(s->module);
    /* A WASI command: the arguments are the program's, not _start's. */
    bool program = wasi && !o->invoke;
    if (o->unknown_after_file && !program)
        return cli_usage_error("run: unknown option '%s'", o->unknown_after_file);
    if (!call && o->nargs > 0 && !program)
        return cli_usage_error("run: arguments given ('%s'...) but there is no function to "
                               "pass them to; use --invoke NAME",
                               o->args[0]);
    size_t nresults = 0;
    if (program && call &&
        (whirl_functype_param_count(exp.functype) || whirl_functype_result_count(exp.functype))) {
        cli_error("%s: '_start' of a WASI program must take no parameters and return nothing",
                  o->file);
        return EXIT_BAD_MODULE;
    }
    if (call && !program) {
        size_t np = whirl_functype_param_count(exp.functype);
        nresults = whirl_functype_result_count(exp.functype);
        s->args = calloc(np ? np : 1, sizeof *s->args);
        s->results = calloc(nresults ? nresults : 1, sizeof *s->results);
        if (!s->args || !s->results) {
            cli_error("out of memory");
            return EXIT_BAD_MODULE;
        }
        if ((rc = convert_args(o, fname, exp.functype, s->args)) != EXIT_OK)
            return rc;
    }

    if ((rc = check_imports(o->file, s->module)) != EXIT_OK)
        return rc;
    if (wasi) {
        if ((rc = cli_wasi_new(&o->wasi, o->file, o->args, o->nargs, &s->wasi)) != EXIT_OK)
            return rc;
        s->linker = whirl_linker_new(s->engine);
        if (!s->linker) {
            cli_error("out of memory");
            return EXIT_BAD_MODULE;
        }
        if ((err = whirl_linker_define_wasi(s->linker, s->wasi))) {
            cli_error("%s", whirl_error_message(err));
            whirl_error_delete(err);
            return EXIT_BAD_MODULE;
        }
    }
    s->store = whirl_store_new(s->engine, NULL, NULL);
    if (!s->store) {
        cli_error("out of memory");
        return EXIT_BAD_MODULE;
    }
    /* Limits and the deadline go on before instantiation: the start
     * function is guest code too. */
    if ((err = cli_hosting_apply(&o->hosting, s->store))) {
        cli_error("%s", whirl_error_message(err));
        whirl_error_delete(err);
        return EXIT_BAD_MODULE;
    }
    whirl_instance_t *instance;
    char what[512];
    snprintf(what, sizeof what, "%s: instantiation failed", o->file);
    err = wasi ? whirl_linker_instantiate(s->linker, s->store, s->module, &instance)
               : whirl_instance_new(s->store, s->module, NULL, 0, &instance);
    if (err)
        return cli_report_run_failure(o, what, err);

    if (!call) {
        list_func_exports(s->module, names, sizeof names);
        fprintf(stderr,
                "whirl: nothing to run: %s has no '_start' function (its start function, if "
                "any, ran during instantiation); use --invoke NAME to call an export "
                "(exported functions: ",
                o->file);
        cli_put_escaped(stderr, names, strlen(names), 0);
        fputs(")\n", stderr);
        return EXIT_OK;
    }

    whirl_extern_t ext;
    /* A WASI reactor is initialised before any of its exports is called. */
    if (wasi && o->invoke && strcmp(fname, "_initialize") != 0 &&
        whirl_instance_export(instance, "_initialize", 11, &ext) &&
        ext.kind == WHIRL_EXTERN_FUNC && whirl_functype_param_count(whirl_func_type(ext.of.func)) == 0 &&
        whirl_functype_result_count(whirl_func_type(ext.of.func)) == 0 &&
        (err = whirl_func_call(s->store, ext.of.func, NULL, 0, NULL, 0)))
        return cli_report_run_failure(o, "calling '_initialize'", err);
    if (!whirl_instance_export(instance, fname, strlen(fname), &ext) ||
        ext.kind != WHIRL_EXTERN_FUNC) {
        cli_error("%s: export '%s' missing from the instance", o->file, fname);
        return EXIT_BAD_MODULE;
    }
    size_t np = program ? 0 : whirl_functype_param_count(exp.functype);
    snprintf(what, sizeof what, "calling '%s'", fname);
    if ((err = whirl_func_call(s->store, ext.of.func, s->args, np, s->results, nresults)))
        return cli_report_run_failure(o, what, err);
    for (size_t i = 0; i < nresults; i++)
        cli_print_val(stdout, &s->results[i]);
    return EXIT_OK;
}

int cli_cmd_run(int argc, char **argv)
{
    run_opts_t o = {0};
    cli_hosting_init(&o.hosting);
    o.args = calloc(argc > 0 ? (size_t)argc : 1, sizeof *o.args);
    if (!o.args) {
        cli_error("out of memory");
        return EXIT_USAGE;
    }
    o.wasi.dirs = calloc(argc > 0 ? (size_t)argc : 1, sizeof *o.wasi.dirs);
    o.wasi.envs = calloc(argc > 0 ? (size_t)argc : 1, sizeof *o.wasi.envs);
    if (!o.wasi.dirs || !o.wasi.envs) {
        free(o.args);
        free(o.wasi.dirs);
        free(o.wasi.envs);
        cli_error("out of memory");
        return EXIT_USAGE;
    }
    int rc = parse_run_args(argc, argv, &o);
    run_state_t s = {0};
    if (rc == EXIT_OK)
        rc = run_module(&o, &s);
    else if (rc == RUN_HELP_SHOWN)
        rc = EXIT_OK;
    /* The store goes before the module: it may hold the last references to
     * it. */
    whirl_store_delete(s.store);
    /* Host functions live in the linker and use the WASI context. */
    whirl_linker_delete(s.linker);
    whirl_wasi_delete(s.wasi);
    whirl_module_delete(s.module);
    whirl_engine_delete(s.engine);
    free(s.args);
    free(s.results);
    free(s.wasm);
    free(o.args);
    free(o.wasi.dirs);
    free(o.wasi.envs);
    return rc;
}
