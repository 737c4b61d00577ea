/* `whirl run`: instantiate a module and call one export. A module that
 * imports WASI (wasi_snapshot_preview1) gets it, with the --dir, --env and
 * --inherit-env options, and its `_start` runs as a program: its exit status
 * becomes whirl's. Components go to component.c. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "profile.h"
#include "hosting.h"
#include "options.h"
#include "whirl/component.h"

/* parse_run_args result for --help: not an error, but nothing to run. */
#define RUN_HELP_SHOWN (-1)

enum {
    OPT_HELP,
    OPT_INVOKE,
    OPT_DIR,
    OPT_ENV,
    OPT_ALLOW_PRECOMPILED,
    OPT_W,
    OPT_O,
    OPT_S,
    OPT_C,
    OPT_D,
    OPT_INHERIT_ENV,
    OPT_MAX_WASM_STACK,
    OPT_TIMEOUT,
    OPT_CACHE,
    OPT_PROFILE,
};

static const cli_option_t run_options[] = {
    {OPT_INVOKE, 0, "invoke", CLI_REQUIRED_ARG, "NAME",
     "Call the exported function NAME instead of _start (after\n"
     "`_initialize`, if a WASI module has one), with ARGS converted\n"
     "to its parameter types: i32/i64 as decimal or 0x hex (negative\n"
     "allowed), f32/f64 as decimal, inf, -inf or nan, v128 as 0x hex,\n"
     "references only as null; each result is printed on its own line."},
    {OPT_DIR, 0, "dir", CLI_REQUIRED_ARG, "HOST[::GUEST][:ro]",
     "Let a WASI program use the host directory HOST, under the name\n"
     "GUEST (default: HOST as given); `..`, absolute paths and\n"
     "symlinks cannot leave it. A final `:ro` makes it read-only\n"
     "(`:rw`, the default, lets a HOST ending in `:ro` be named)."},
    {OPT_ENV, 0, "env", CLI_REQUIRED_ARG, "NAME[=VALUE]",
     "Set an environment variable for a WASI program (without\n"
     "=VALUE: the host's value, if set)."},
    {OPT_ALLOW_PRECOMPILED, 0, "allow-precompiled", CLI_NO_ARG, NULL,
     "Let FILE be a .cwasm made by `whirl compile`. A precompiled\n"
     "module is code whirl cannot check: run only files you made."},
    {OPT_W, 'W', NULL, CLI_REQUIRED_ARG, "NAME=VALUE",
     "Limits and engine knobs: timeout, max-memory-size,\n"
     "max-table-elements, max-wasm-stack, pooling, ... (`-W help`)."},
    {OPT_O, 'O', NULL, CLI_REQUIRED_ARG, "NAME=VALUE",
     "The pooling allocator in wasmtime's names (`-O help`)."},
    {OPT_S, 'S', NULL, CLI_REQUIRED_ARG, "NAME[=VALUE]",
     "WASI: inherit-env, threads, inherit-network, allow-ip=CIDR\n(`-S help`)."},
    {OPT_C, 'C', NULL, CLI_REQUIRED_ARG, "NAME[=VALUE]",
     "Compilation: tier=auto|interp|jit, cache, cache-dir=DIR (`-C help`)."},
    {OPT_D, 'D', NULL, CLI_REQUIRED_ARG, "NAME[=VALUE]", "Debugging: debug-info, perfmap, jitdump (`-D help`)."},
    {OPT_INHERIT_ENV, 0, "inherit-env", CLI_NO_ARG, NULL, "Same as -S inherit-env."},
    {OPT_MAX_WASM_STACK, 0, "max-wasm-stack", CLI_REQUIRED_ARG, "BYTES",
     "Same as -W max-wasm-stack=BYTES."},
    {OPT_TIMEOUT, 0, "timeout", CLI_REQUIRED_ARG, "DURATION", "Same as -W timeout=DURATION."},
    {OPT_CACHE, 0, "cache", CLI_OPTIONAL_ARG, "DIR",
     "Same as -C cache (with DIR: -C cache-dir=DIR)."},
    {OPT_PROFILE, 0, "profile", CLI_REQUIRED_ARG, "guest[,PATH[,INTERVAL]]",
     "Sample the guest's call stack every INTERVAL (default 1ms, on\n"
     "the epoch ticker) and write PATH.json (profiler.firefox.com),\n"
     "PATH.folded (collapsed stacks) and PATH.svg (a flame graph);\n"
     "PATH defaults to whirl-guest-profile."},
    {OPT_HELP, 'h', "help", CLI_NO_ARG, NULL, "Show this help."},
};

enum { KEY_INHERIT_ENV = 1, KEY_CACHE, KEY_CACHE_DIR, KEY_DEBUG_INFO, KEY_ALLOW_HTTP,
       KEY_HTTP_CA, KEY_TIER, KEY_PERFMAP, KEY_JITDUMP, KEY_THREADS, KEY_INHERIT_NETWORK,
       KEY_ALLOW_IP };

static const cli_group_key_t s_keys[] = {
    {KEY_INHERIT_ENV, "inherit-env", "[=y|n]", "Give a WASI program all of whirl's environment."},
    {KEY_THREADS, "threads", "[=y|n]",
     "wasi-threads: provide \"wasi\" \"thread-spawn\" (each thread a new\n"
     "instance over the module's imported shared memory, on its own OS\n"
     "thread, all under one -W timeout; at most 64 at once)."},
    {KEY_ALLOW_HTTP, "allow-http", "RULE",
     "Outbound HTTP a component may make (wasi:http/outgoing-handler), in\n"
     "Spin's allowed_outbound_hosts syntax: https://*.example.com,\n"
     "http://127.0.0.1:* (repeatable; default: none)."},
    {KEY_HTTP_CA, "http-ca", "FILE", "A PEM CA trusted besides the system store (outbound HTTPS)."},
    {KEY_INHERIT_NETWORK, "inherit-network", "[=y|n]",
     "wasi:sockets (WASI 0.3 components): let the guest bind, connect\n"
     "and send to any address, and look up names (default: sockets\n"
     "may be created, but every address use is access-denied)."},
    {KEY_ALLOW_IP, "allow-ip", "CIDR",
     "wasi:sockets: allow the addresses of one block (127.0.0.0/8,\n"
     "::1/128, or one address), and name lookup (repeatable)."},
};
static const cli_group_key_t c_keys[] = {
    {KEY_CACHE, "cache", "[=y|n]",
     "Use the compilation cache: a module compiled before loads from\n"
     "it ($WHIRL_CACHE, else $XDG_CACHE_HOME/whirl or ~/.cache/whirl)."},
    {KEY_CACHE_DIR, "cache-dir", "DIR", "Use the compilation cache in DIR."},
    {KEY_TIER, "tier", "auto|interp|jit",
     "Which code runs the guest: auto (default: the interpreter, hot\n"
     "functions compiled to native code in the background), interp, or\n"
     "jit (every function compiled before the first call); also $WHIRL_TIER."},
};
static const cli_group_key_t d_keys[] = {
    {KEY_DEBUG_INFO, "debug-info", "[=y|n]",
     "Compile without optimisations, keeping names and offsets for\n"
     "backtraces (needed to run a .cwasm compiled with --debug-info)."},
    {KEY_PERFMAP, "perfmap", "[=y|n]",
     "List native code (LLVM tier) in /tmp/perf-PID.map, so that\n"
     "`perf report` names Wasm functions (also WHIRL_PERFMAP=1)."},
    {KEY_JITDUMP, "jitdump", "[=y|n]",
     "Write native code (LLVM tier) to /tmp/jit-PID.dump for\n"
     "`perf inject --jit` and `perf annotate` (also WHIRL_JITDUMP=1)."},
};

static const char run_synopsis[] =
    "Usage: whirl run [OPTIONS] FILE [ARGS...]\n"
    "\n"
    "Run a WASI program: FILE's `_start` with ARGS as its arguments (argv[0] is\n"
    "FILE's name), or with --invoke, call one export. FILE is a module, a\n"
    "component (a wasi:cli command: its wasi:cli/run export runs under WASI 0.2\n"
    "or 0.3; a failing run exits with 1) or, with --allow-precompiled, a .cwasm\n"
    "made by `whirl compile`. A module importing WASI preview 1 gets it,\n"
    "sandboxed: it sees only the directories given with --dir and the variables\n"
    "given with --env; its exit status becomes whirl's. With -S threads a\n"
    "wasi-threads program gets \"wasi\" \"thread-spawn\" and its shared memory\n"
    "too. Other imports are not provided. Preview 1 has no sockets: -S\n"
    "inherit-network and -S allow-ip apply to components (wasi:sockets).\n"
    "\n"
    "whirl's options go before FILE: everything after FILE is the program's\n"
    "(or --invoke's arguments), as with wasmtime, so `whirl run app.wasm --env\n"
    "X=1` passes \"--env\" and \"X=1\" to app.wasm. Use `--` before a FILE\n"
    "that starts with '-'. FILE may be a pipe (`whirl run /dev/stdin` reads\n"
    "stdin); devices are refused, and so is anything over 1 GiB.\n"
    "\n"
    "Options:\n";

static void run_help(FILE *f)
{
    fputs(run_synopsis, f);
    cli_options_help(f, run_options, CLI_COUNT(run_options));
    fputs("\nDurations take a unit ns, us, ms, s, m or h (50ms, 1m30s; a number alone is\n"
          "seconds); sizes a suffix K, M or G (binary; a number alone is bytes).\n"
          "Exit status: the program's own, 134 on a trap, 142 at the -W timeout,\n"
          "1 for an invalid module, 2 for a usage error, 4 if FILE cannot be read\n"
          "(`whirl help` explains them).\n"
          "\n"
          "Examples:\n"
          "  whirl run --dir data::/data hello.wasm World\n"
          "  whirl run --invoke fib fib.wasm 20\n"
          "  whirl run -W timeout=5s,max-memory-size=64M --invoke add calc.wasm -1 0x10\n"
          "  whirl run --allow-precompiled app.cwasm\n",
          f);
}

/* Prints the listing of a group for `-X help`. */
static void group_help(char group)
{
    switch (group) {
    case 'W':
    case 'O': cli_hosting_help(stdout, group); break;
    case 'S':
        puts("-S: WASI options:");
        cli_group_help(stdout, 'S', s_keys, CLI_COUNT(s_keys));
        break;
    case 'C':
        puts("-C: compilation options:");
        cli_group_help(stdout, 'C', c_keys, CLI_COUNT(c_keys));
        break;
    case 'D':
        puts("-D: debugging options:");
        cli_group_help(stdout, 'D', d_keys, CLI_COUNT(d_keys));
        break;
    }
}

/* One -S, -C or -D option (all items of its comma list). */
static int take_run_group(run_opts_t *o, char group, const char *arg)
{
    const cli_group_key_t *keys = group == 'S' ? s_keys : group == 'C' ? c_keys : d_keys;
    size_t nkeys = group == 'S'   ? CLI_COUNT(s_keys)
                   : group == 'C' ? CLI_COUNT(c_keys)
                                  : CLI_COUNT(d_keys);
    const char *cursor = arg;
    char item[4096];
    bool any = false;
    while (cli_group_next(&cursor, item, sizeof item)) {
        const char *value;
        const cli_group_key_t *key = cli_group_find(keys, nkeys, item, &value);
        any = true;
        if (!key)
            return cli_usage_error("run: unknown -%c option '%s' (`whirl run -%c help` lists "
                                   "them)",
                                   group, item, group);
        if (key->id == KEY_ALLOW_HTTP || key->id == KEY_HTTP_CA) {
            if (!value || !*value)
                return cli_usage_error("run: -S %s needs a value", key->name);
            if (key->id == KEY_ALLOW_HTTP &&
                o->nallow_http == sizeof o->allow_http / sizeof *o->allow_http)
                return cli_usage_error("run: too many -S allow-http rules");
            char *copy = strdup(value);
            if (!copy)
                return cli_usage_error("out of memory");
            if (key->id == KEY_ALLOW_HTTP) {
                o->allow_http[o->nallow_http++] = copy;
            } else {
                free(o->http_ca);
                o->http_ca = copy;
            }
            continue;
        }
        if (key->id == KEY_ALLOW_IP) {
            /* Checked when the WASI context is made (component.c). */
            if (!value || !*value)
                return cli_usage_error("run: -S allow-ip needs a CIDR block (-S allow-ip=CIDR)");
            if (o->nallow_ip == sizeof o->allow_ip / sizeof *o->allow_ip)
                return cli_usage_error("run: too many -S allow-ip rules");
            if (!(o->allow_ip[o->nallow_ip] = strdup(value)))
                return cli_usage_error("out of memory");
            o->nallow_ip++;
            continue;
        }
        if (key->id == KEY_CACHE_DIR) {
            if (!value || !*value)
                return cli_usage_error("run: -C cache-dir needs a directory (-C cache-dir=DIR)");
            o->cache = true;
            snprintf(o->cache_dir_buf, sizeof o->cache_dir_buf, "%s", value);
            o->cache_dir = o->cache_dir_buf;
            continue;
        }
        if (key->id == KEY_TIER) {
            char why[1024];
            char one[4200];
            snprintf(one, sizeof one, "tier%s%s", value ? "=" : "", value ? value : "");
            if (cli_hosting_parse_group(&o->hosting, 'C', one, why, sizeof why) != 1)
                return cli_usage_error("run: %s", why);
            continue;
        }
        int b = cli_parse_switch(value);
        if (b < 0)
            return cli_usage_error("run: invalid value '%s' for -%c %s: expected y or n", value,
                                   group, key->name);
        if (key->id == KEY_INHERIT_ENV)
            o->wasi.inherit_env = b;
        else if (key->id == KEY_THREADS)
            o->threads = b;
        else if (key->id == KEY_INHERIT_NETWORK)
            o->inherit_network = b;
        else if (key->id == KEY_CACHE)
            o->cache = b;
        else if (key->id == KEY_PERFMAP)
            o->perfmap = b;
        else if (key->id == KEY_JITDUMP)
            o->jitdump = b;
        else
            o->debug_info = b;
    }
    if (!any)
        return cli_usage_error("run: -%c needs NAME[=VALUE] (`whirl run -%c help` lists them)",
                               group, group);
    return EXIT_OK;
}

/* One -W or -O option, or an alias of one ("--timeout 1s" is given as
 * "-W timeout=1s"; the message names the -W option). */
static int take_hosting(run_opts_t *o, char group, const char *arg)
{
    char why[1024];
    if (cli_hosting_parse_group(&o->hosting, group, arg, why, sizeof why) == 1)
        return EXIT_OK;
    return cli_usage_error("run: %s", why);
}

static int parse_run_args(int argc, char **argv, run_opts_t *o)
{
    cli_args_t a;
    cli_args_init(&a, "run", run_options, CLI_COUNT(run_options), argc, argv);
    a.stop_at_positional = true;
    char alias[4200];
    int id, rc = EXIT_OK;
    while (rc == EXIT_OK && (id = cli_args_next(&a)) != CLI_ARGS_END) {
        switch (id) {
        case CLI_ARGS_ERROR: return EXIT_USAGE;
        case CLI_ARGS_POSITIONAL:
            if (!o->file)
                o->file = a.value;
            else
                o->args[o->nargs++] = a.value;
            break;
        case OPT_HELP: run_help(stdout); return RUN_HELP_SHOWN;
        case OPT_INVOKE:
            if (o->invoke)
                return cli_usage_error("run: --invoke given twice ('%s' and '%s')", o->invoke,
                                       a.value);
            o->invoke = a.value;
            break;
        case OPT_DIR: o->wasi.dirs[o->wasi.ndirs++] = a.value; break;
        case OPT_ENV: o->wasi.envs[o->wasi.nenvs++] = a.value; break;
        case OPT_ALLOW_PRECOMPILED: o->allow_precompiled = true; break;
        case OPT_INHERIT_ENV: o->wasi.inherit_env = true; break;
        case OPT_CACHE:
            o->cache = true;
            if (a.value) {
                snprintf(o->cache_dir_buf, sizeof o->cache_dir_buf, "%s", a.value);
                o->cache_dir = o->cache_dir_buf;
            }
            break;
        case OPT_PROFILE: {
            char base[4096], why[512];
            if (o->profile)
                return cli_usage_error("run: --profile given twice");
            if (!cli_profile_parse(a.value, base, sizeof base, &o->profile_interval_us, why,
                                   sizeof why))
                return cli_usage_error("run: %s", why);
            if (!(o->profile = cli_profile_new(base, o->profile_interval_us, "whirl run"))) {
                cli_error("out of memory");
                return EXIT_USAGE;
            }
            break;
        }
        case OPT_MAX_WASM_STACK:
        case OPT_TIMEOUT:
            snprintf(alias, sizeof alias, "%s=%s",
                     id == OPT_TIMEOUT ? "timeout" : "max-wasm-stack", a.value);
            rc = take_hosting(o, 'W', alias);
            break;
        case OPT_W:
        case OPT_O:
        case OPT_S:
        case OPT_C:
        case OPT_D: {
            char group = a.option->short_name;
            if (strcmp(a.value, "help") == 0 || strcmp(a.value, "help-long") == 0) {
                group_help(group);
                return RUN_HELP_SHOWN;
            }
            rc = group == 'W' || group == 'O' ? take_hosting(o, group, a.value)
                                              : take_run_group(o, group, a.value);
            break;
        }
        }
    }
    if (rc != EXIT_OK)
        return rc;
    if (!o->file)
        return cli_usage_error("run: missing FILE.wasm");
    return EXIT_OK;
}

/* After a usage error about ARGS: if they look like whirl's own options,
 * say where those go now (they used to be accepted after FILE). */
static void hint_options_after_file(const run_opts_t *o)
{
    for (size_t i = 0; i < o->nargs; i++) {
        const char *a = o->args[i];
        for (size_t k = 0; a[0] == '-' && k < CLI_COUNT(run_options); k++) {
            const cli_option_t *opt = &run_options[k];
            size_t n = opt->long_name ? strlen(opt->long_name) : 0;
            bool is_long = n && a[1] == '-' && strncmp(a + 2, opt->long_name, n) == 0 &&
                           (a[2 + n] == '\0' || a[2 + n] == '=');
            bool is_short = opt->short_name && a[1] == opt->short_name;
            if (is_long || is_short) {
                fprintf(stderr, "note: '%s' follows FILE, so it is an argument of the program, "
                                "not an option of whirl: put whirl's options before FILE\n",
                        a);
                return;
            }
        }
    }
}

void cli_format_duration(uint64_t ns, char *buf, size_t len)
{
    static const struct {
        uint64_t ns;
        const char *unit;
    } units[] = {{3600000000000ull, "h"}, {60000000000ull, "m"}, {1000000000ull, "s"},
                 {1000000ull, "ms"},      {1000ull, "us"},       {1, "ns"}};
    for (size_t i = 0; i < CLI_COUNT(units); i++)
        if (ns % units[i].ns == 0) {
            snprintf(buf, len, "%llu%s", (unsigned long long)(ns / units[i].ns), units[i].unit);
            return;
        }
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
    case WHIRL_EXTERN_TAG: return "tag";
    }
    return "?";
}

/* The CLI provides WASI preview 1 and nothing else, so any other import is
 * a link error; name the first one so the user knows what the module
 * expects. */
static int check_imports(const run_opts_t *o, const char *path, const whirl_module_t *m)
{
    size_t n = whirl_module_import_count(m), i;
    whirl_import_info_t imp;
    /* With -S threads, a wasi-threads program's thread-spawn and shared
     * memory are provided too (wasi_threads.c checks the memory). */
    bool threads = o->threads && cli_imports_thread_spawn(m);
    if (!o->threads && cli_imports_thread_spawn(m)) {
        cli_error("%s: the module imports \"wasi\" \"thread-spawn\" (wasi-threads): run it "
                  "with -S threads",
                  path);
        return EXIT_BAD_MODULE;
    }
    for (i = 0; i < n; i++) {
        if (!whirl_module_import(m, i, &imp) || cli_is_wasi_import(&imp))
            continue;
        if (threads && (imp.kind == WHIRL_EXTERN_MEMORY || cli_is_thread_spawn_import(&imp)))
            continue;
        break;
    }
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
    cli_wasi_threads_t *threads; /* -S threads and thread-spawn imported, else NULL */
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
            char limit[64];
            cli_format_duration(o->hosting.timeout_ns, limit, sizeof limit);
            fprintf(stderr, "note: the timeout of %s was reached\n", limit);
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

    /* A .cwasm is code: wasmtime runs one only when told to, and so does
     * whirl. */
    if (whirl_module_is_serialized(s->wasm, len) && !o->allow_precompiled)
        return cli_usage_error("run: %s is a precompiled module (made by `whirl compile`): a "
                               ".cwasm is code whirl cannot check, so running it needs "
                               "--allow-precompiled (run only files you made yourself)",
                               o->file);

    whirl_config_t *config = whirl_config_new();
    if (!config) {
        cli_error("out of memory");
        return EXIT_BAD_MODULE;
    }
    whirl_error_t *err;
    if (o->debug_info >= 0)
        whirl_config_debug_info_set(config, o->debug_info == 1);
    if (o->perfmap >= 0)
        whirl_error_delete(whirl_config_set(config, "perfmap", o->perfmap ? "y" : "n"));
    if (o->jitdump >= 0)
        whirl_error_delete(whirl_config_set(config, "jitdump", o->jitdump ? "y" : "n"));
    /* The profiler samples on the epoch ticker: it ticks at the sampling
     * interval (a -W epoch_interval given too wins). */
    if (o->profile && (err = whirl_config_epoch_interval_set(config, o->profile_interval_us))) {
        whirl_config_delete(config);
        rc = cli_usage_error("run: --profile: %s", whirl_error_message(err));
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
        rc = cli_usage_error("run: -C cache: %s", whirl_error_message(err));
        whirl_error_delete(err);
        return rc;
    }
    if ((err = whirl_engine_new(config, &s->engine))) {
        cli_error("cannot create engine: %s", whirl_error_message(err));
        whirl_error_delete(err);
        return EXIT_BAD_MODULE;
    }
    /* A component (layer 1 in the preamble) runs as a WASI 0.2 command. */
    if (whirl_component_is_component(s->wasm, len)) {
        if (o->profile)
            fprintf(stderr, "whirl: warning: --profile samples core modules only; "
                            "this component runs unprofiled\n");
        return cli_run_component(o, s->engine, s->wasm, len);
    }
    if (o->inherit_network || o->nallow_ip)
        fprintf(stderr, "whirl: warning: -S inherit-network and -S allow-ip apply to components "
                        "(wasi:sockets); %s is a core module, and WASI preview 1 opens no "
                        "sockets\n", o->file);
    if ((err = cli_module_load(s->engine, s->wasm, len, &s->module))) {
        cli_report_module_error(o->file, s->wasm, len, err);
        whirl_error_delete(err);
        cli_explain_precompiled(s->engine, o->file, s->wasm, len);
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
    bool threads = o->threads && cli_imports_thread_spawn(s->module);
    bool wasi = cli_imports_wasi(s->module) || threads;
    /* A WASI command: the arguments are the program's, not _start's. */
    bool program = wasi && !o->invoke;
    if (!call && o->nargs > 0 && !program) {
        rc = cli_usage_error("run: arguments given ('%s'...) but there is no function to "
                             "pass them to; use --invoke NAME",
                             o->args[0]);
        hint_options_after_file(o);
        return rc;
    }
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
        if ((rc = convert_args(o, fname, exp.functype, s->args)) != EXIT_OK) {
            hint_options_after_file(o);
            return rc;
        }
    }

    if ((rc = check_imports(o, o->file, s->module)) != EXIT_OK)
        return rc;
    if (wasi) {
        cli_wasi_opts_t wasi_opts = o->wasi;
        wasi_opts.max_open_files = o->hosting.max_open_files;
        if ((rc = cli_wasi_new(&wasi_opts, o->file, o->args, o->nargs, &s->wasi)) != EXIT_OK)
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
    if ((err = cli_hosting_apply(&o->hosting, s->store)) ||
        (o->profile && (err = cli_profile_attach(o->profile, s->store)))) {
        cli_error("%s", whirl_error_message(err));
        whirl_error_delete(err);
        return EXIT_BAD_MODULE;
    }
    if (threads && (rc = cli_wasi_threads_new(o, s->engine, s->module, s->wasi, s->linker,
                                              s->store, &s->threads)) != EXIT_OK)
        return rc;
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
    err = whirl_func_call(s->store, ext.of.func, s->args, np, s->results, nresults);
    cli_wasi_threads_main_done(s->threads); /* the program ends here */
    if (err)
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
    o.debug_info = -1;
    o.perfmap = -1;
    o.jitdump = -1;
    int rc = parse_run_args(argc, argv, &o);
    run_state_t s = {0};
    if (o.profile && o.file)
        cli_profile_set_title(o.profile, o.file);
    if (rc == EXIT_OK)
        rc = run_module(&o, &s);
    else if (rc == RUN_HELP_SHOWN)
        rc = EXIT_OK;
    /* Whatever the guest did (a trap, an exit): what it ran is sampled. */
    if (o.profile && s.store && !cli_profile_write(o.profile) && rc == EXIT_OK)
        rc = EXIT_IO;
    cli_profile_delete(o.profile);
    /* Spawned threads may still run: then the process ends here. */
    cli_wasi_threads_finish(s.threads, rc);
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
    for (size_t i = 0; i < o.nallow_http; i++)
        free(o.allow_http[i]);
    for (size_t i = 0; i < o.nallow_ip; i++)
        free(o.allow_ip[i]);
    free(o.http_ca);
    return rc;
}
