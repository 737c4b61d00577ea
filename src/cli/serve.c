/* `whirl serve`: option parsing; the server itself is src/serve/. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "hosting.h"
#include "options.h"
#include "profile.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#ifdef WHIRL_HAVE_SERVE
#include "serve/serve.h"

enum {
    OPT_HELP,
    OPT_FROM,
    OPT_LISTEN,
    OPT_REUSE_PORT,
    OPT_WAGI,
    OPT_TIMEOUT,
    OPT_W,
    OPT_WORKERS,
    OPT_MAX_QUEUE,
    OPT_QUEUE_TIMEOUT,
    OPT_MAX_BODY,
    OPT_MAX_HEADER,
    OPT_IO_TIMEOUT,
    OPT_GRACE,
    OPT_IO_THREADS,
    OPT_METRICS,
    OPT_METRICS_LOG,
    OPT_QUIET,
    OPT_ENV,
    OPT_DIR,
    OPT_CACHE,
    OPT_C,
    OPT_VARIABLE,
    OPT_RUNTIME_CONFIG,
    OPT_S,
    OPT_PROFILE,
    OPT_PROFILE_FOR,
    OPT_D,
};

static const cli_option_t serve_options[] = {
    {OPT_FROM, 'f', "from", CLI_REQUIRED_ARG, "FILE|DIR",
     "The app: a spin.toml (or a .wasm); a directory means its spin.toml."},
    {OPT_LISTEN, 0, "listen", CLI_REQUIRED_ARG, "HOST:PORT",
     "Address to listen on (default 127.0.0.1:3000; port 0 picks a free one,\n"
     "printed on stderr)."},
    {OPT_REUSE_PORT, 0, "reuse-port", CLI_NO_ARG, NULL,
     "Share the port with other servers (SO_REUSEPORT): the kernel spreads\n"
     "connections among them."},
    {OPT_WAGI, 0, "wagi", CLI_NO_ARG, NULL,
     "APP is a WASI preview 1 command answering as a CGI program (WAGI):\n"
     "request in its environment and stdin, response (headers, blank line,\n"
     "body) on its stdout."},
    {OPT_TIMEOUT, 0, "timeout", CLI_REQUIRED_ARG, "DURATION",
     "Deadline of each request's guest (default 30s); past it the client\n"
     "gets 504. Same as -W timeout=DURATION."},
    {OPT_W, 'W', NULL, CLI_REQUIRED_ARG, "NAME=VALUE",
     "Limits and engine knobs, as for run: max-memory-size (default 128M\n"
     "per request), max-table-elements, pooling, ... (`-W help`)."},
    {OPT_WORKERS, 0, "workers", CLI_REQUIRED_ARG, "N",
     "Threads running guests (default: one per core)."},
    {OPT_MAX_QUEUE, 0, "max-queue", CLI_REQUIRED_ARG, "N",
     "Requests that may wait for a worker (default 256) ..."},
    {OPT_QUEUE_TIMEOUT, 0, "queue-timeout", CLI_REQUIRED_ARG, "DURATION",
     "... for at most this long (default 1s); then 503 with Retry-After."},
    {OPT_MAX_BODY, 0, "max-body", CLI_REQUIRED_ARG, "BYTES",
     "Request body limit (default 16M); more gets 413."},
    {OPT_MAX_HEADER, 0, "max-header", CLI_REQUIRED_ARG, "BYTES",
     "Request line and headers limit (default 32K); more gets 431 (414 for\n"
     "the URL alone)."},
    {OPT_IO_TIMEOUT, 0, "io-timeout", CLI_REQUIRED_ARG, "DURATION",
     "Idle connection timeout, reading or writing (default 60s)."},
    {OPT_GRACE, 0, "grace", CLI_REQUIRED_ARG, "DURATION",
     "On SIGINT/SIGTERM, time requests in flight get to finish (default\n"
     "10s)."},
    {OPT_IO_THREADS, 0, "io-threads", CLI_REQUIRED_ARG, "N", "HTTP threads (default 1)."},
    {OPT_METRICS, 0, "metrics", CLI_NO_ARG, NULL,
     "Serve counters at /.well-known/whirl/metrics."},
    {OPT_METRICS_LOG, 0, "metrics-log", CLI_NO_ARG, NULL,
     "Print the counters on stderr every second."},
    {OPT_QUIET, 'q', "quiet", CLI_NO_ARG, NULL,
     "No access log (default: one line per request on stderr)."},
    {OPT_ENV, 0, "env", CLI_REQUIRED_ARG, "NAME[=VALUE]",
     "As for run (a single module only)."},
    {OPT_DIR, 0, "dir", CLI_REQUIRED_ARG, "HOST[::GUEST][:ro]",
     "As for run (a single module only)."},
    {OPT_VARIABLE, 0, "variable", CLI_REQUIRED_ARG, "NAME=VALUE",
     "A Spin variable's value (before SPIN_VARIABLE_NAME and the default)."},
    {OPT_RUNTIME_CONFIG, 0, "runtime-config-file", CLI_REQUIRED_ARG, "FILE",
     "Spin's runtime config: [key_value_store.LABEL] (type \"spin\" with a\n"
     "path, or \"redis\" with a url) and [sqlite_database.LABEL] (\"spin\")."},
    {OPT_CACHE, 0, "cache", CLI_OPTIONAL_ARG, "DIR",
     "Use the compilation cache (in DIR), as for run."},
    {OPT_C, 'C', NULL, CLI_REQUIRED_ARG, "tier=auto|interp|jit",
     "Which code runs the guests, as for run (default auto: hot functions\n"
     "compiled to native code in the background)."},
    {OPT_S, 'S', NULL, CLI_REQUIRED_ARG, "NAME=VALUE",
     "allow-http=RULE: outbound HTTP every component may make, in Spin's\n"
     "allowed_outbound_hosts syntax (https://*.example.com, http://127.0.0.1:*,\n"
     "self; repeatable; Spin's redis, mqtt(s), postgres and mysql connections\n"
     "only by naming the scheme). http-ca=FILE: a PEM CA trusted besides the\n"
     "system store (for https and mqtts)."},
    {OPT_PROFILE, 0, "profile", CLI_OPTIONAL_ARG, "guest[,PATH[,INTERVAL]]",
     "Sample every request's guest (as `whirl run --profile`) for\n"
     "--profile-for, then write PATH.json, PATH.folded and PATH.svg\n"
     "(also at shutdown, if sooner); PATH defaults to\n"
     "whirl-guest-profile."},
    {OPT_PROFILE_FOR, 0, "profile-for", CLI_REQUIRED_ARG, "DURATION",
     "How long --profile samples (default 60s)."},
    {OPT_D, 'D', NULL, CLI_REQUIRED_ARG, "perfmap[=y|n]",
     "List native code in /tmp/perf-PID.map for perf (as WHIRL_PERFMAP=1)."},
    {OPT_HELP, 'h', "help", CLI_NO_ARG, NULL, "Show this help."},
};

/* The serve part of `whirl help` (main.c's usage text). */
const char serve_usage[] =
    "Options for serve (`whirl serve --help` has them all; APP: a .wasm, or a\n"
    "spin.toml; as with `spin up`, no APP means ./spin.toml):\n"
    "  -f, --from FILE|DIR    The app: a spin.toml (or a .wasm); a directory means\n"
    "                         its spin.toml.\n"
    "  --listen HOST:PORT     Address to listen on (default 127.0.0.1:3000; port 0\n"
    "                         picks a free one, printed on stderr).\n"
    "  --wagi                 APP is a WASI preview 1 command answering as a CGI\n"
    "                         program (WAGI).\n"
    "  --timeout DURATION     Deadline of each request's guest (default 30s); past\n"
    "                         it the client gets 504. Same as -W timeout=DURATION.\n"
    "  --workers N            Threads running guests (default: one per core).\n"
    "  --max-body BYTES, --max-header BYTES, --max-queue N, --io-timeout DURATION,\n"
    "  --reuse-port, --metrics, --quiet, ...  (`whirl serve --help`).\n";

static void serve_help(FILE *f)
{
    fputs("Usage: whirl serve [OPTIONS] [APP]\n"
          "\n"
          "Serve HTTP, answering each request with a fresh instance of APP under a\n"
          "deadline and a memory limit. APP is a component exporting\n"
          "wasi:http/incoming-handler@0.2.x, a WASI preview 1 module answering as a CGI\n"
          "program (--wagi), or a spin.toml (manifest version 2) routing to several of\n"
          "them; as with `spin up`, no APP means ./spin.toml and a directory its\n"
          "spin.toml. Stops on SIGINT/SIGTERM (exit 0) after the requests in flight.\n"
          "\n"
          "Options:\n",
          f);
    cli_options_help(f, serve_options, CLI_COUNT(serve_options));
    fputs("\nDurations take a unit ns, us, ms, s, m or h (50ms, 1m30s; a number alone is\n"
          "seconds); sizes a suffix K, M or G (binary; a number alone is bytes).\n"
          "Exit status: 0 after SIGINT/SIGTERM, 1 for an invalid app, 2 for a usage\n"
          "error, 4 if APP cannot be read or the address cannot be bound.\n"
          "\n"
          "Examples:\n"
          "  whirl serve --wagi --listen 127.0.0.1:8080 --timeout 5s handler.wasm\n"
          "  whirl serve -f ./my-spin-app --workers 8 -W max-memory-size=64M\n",
          f);
}

/* Durations as -W timeout takes them: through the hosting parser. */
static bool parse_duration(const char *text, uint64_t *ns)
{
    cli_hosting_t h;
    cli_hosting_init(&h);
    char arg[128], why[256];
    if (strlen(text) >= sizeof arg - 9)
        return false;
    snprintf(arg, sizeof arg, "timeout=%s", text);
    if (cli_hosting_parse(&h, arg, why, sizeof why) != 1)
        return false;
    *ns = h.timeout_ns;
    return true;
}

static bool parse_count(const char *text, unsigned max, unsigned *out)
{
    if (!*text || strspn(text, "0123456789") != strlen(text) || strlen(text) > 9)
        return false;
    unsigned long v = strtoul(text, NULL, 10);
    if (v > max)
        return false;
    *out = (unsigned)v;
    return true;
}

enum { SERVE_HELP_SHOWN = -100 };

static int set_app(serve_opts_t *o, const char *app)
{
    if (o->app)
        return cli_usage_error("serve: more than one APP ('%s' and '%s')", o->app, app);
    o->app = app;
    return EXIT_OK;
}

/* One option's value into o/hosting; EXIT_OK or a usage error (printed). */
static int take_option(int id, const char *v, serve_opts_t *o, cli_hosting_t *hosting,
                       const char **envs, const char **dirs)
{
    char why[1024];
    switch (id) {
    case OPT_FROM: return set_app(o, v);
    case OPT_REUSE_PORT: o->reuse_port = true; break;
    case OPT_WAGI: o->wagi = true; break;
    case OPT_METRICS: o->metrics = true; break;
    case OPT_METRICS_LOG: o->metrics_log = true; break;
    case OPT_QUIET: o->access_log = false; break;
    case OPT_ENV: envs[o->nenvs++] = v; break;
    case OPT_S:
        if (strncmp(v, "allow-http=", 11) == 0 && v[11])
            o->allow_http[o->nallow_http++] = v + 11;
        else if (strncmp(v, "http-ca=", 8) == 0 && v[8])
            o->http_ca = v + 8;
        else
            return cli_usage_error("serve: unknown -S option '%s' (allow-http=RULE, "
                                   "http-ca=FILE)", v);
        break;
    case OPT_DIR: dirs[o->ndirs++] = v; break;
    case OPT_VARIABLE: o->variables[o->nvariables++] = v; break;
    case OPT_RUNTIME_CONFIG: o->runtime_config = v; break;
    case OPT_LISTEN: {
        char host[256], port[16];
        if (!serve_listen_parse(v, host, port, why, sizeof why))
            return cli_usage_error("serve: %s", why);
        o->listen = v;
        break;
    }
    case OPT_C:
        if (cli_hosting_parse_group(hosting, 'C', v, why, sizeof why) != 1)
            return cli_usage_error("serve: %s", why);
        break;
    case OPT_TIMEOUT:
    case OPT_W: {
        char arg[4200];
        snprintf(arg, sizeof arg, "%s%s", id == OPT_TIMEOUT ? "timeout=" : "", v);
        if (cli_hosting_parse_group(hosting, 'W', arg, why, sizeof why) != 1)
            return cli_usage_error("serve: %s", why);
        break;
    }
    case OPT_WORKERS:
        if (!parse_count(v, 4096, &o->workers) || !o->workers)
            return cli_usage_error("serve: invalid --workers '%s' (1 to 4096)", v);
        break;
    case OPT_IO_THREADS:
        if (!parse_count(v, 256, &o->io_threads) || !o->io_threads)
            return cli_usage_error("serve: invalid --io-threads '%s' (1 to 256)", v);
        break;
    case OPT_MAX_QUEUE:
        if (!parse_count(v, 1000000, &o->max_queue))
            return cli_usage_error("serve: invalid --max-queue '%s' (0 to 1000000)", v);
        break;
    case OPT_QUEUE_TIMEOUT:
        if (!parse_duration(v, &o->queue_timeout_ns))
            return cli_usage_error("serve: invalid --queue-timeout '%s' (a duration such as "
                                   "500ms)", v);
        break;
    case OPT_GRACE:
        if (!parse_duration(v, &o->grace_ns))
            return cli_usage_error("serve: invalid --grace '%s' (a duration such as 10s)", v);
        break;
    case OPT_IO_TIMEOUT: {
        uint64_t ns;
        if (!parse_duration(v, &ns))
            return cli_usage_error("serve: invalid --io-timeout '%s' (a duration such as "
                                   "60s)", v);
        o->io_timeout_s = ns < 1000000000ull ? 1 : (unsigned)(ns / 1000000000ull);
        break;
    }
    case OPT_MAX_BODY: {
        size_t n;
        if (cli_parse_size(v, &n) != 0)
            return cli_usage_error("serve: invalid --max-body '%s' (a byte count such as "
                                   "16M)", v);
        o->max_body = n;
        break;
    }
    case OPT_MAX_HEADER: {
        size_t n;
        if (cli_parse_size(v, &n) != 0 || n < 1024 || n > (64u << 20))
            return cli_usage_error("serve: invalid --max-header '%s' (1K to 64M)", v);
        o->max_header = n;
        break;
    }
    }
    return EXIT_OK;
}

/* --profile: one profile for every request, written once its time is up
 * (a thread waits for that or for shutdown). */
typedef struct serve_profile {
    cli_profile_t *profile;
    uint64_t interval_us;
    uint64_t duration_ns;
    atomic_bool done;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool shutting_down;
} serve_profile_t;

static void profile_store(void *env, whirl_store_t *store)
{
    serve_profile_t *sp = env;
    if (atomic_load_explicit(&sp->done, memory_order_acquire))
        return;
    whirl_error_t *err = cli_profile_attach(sp->profile, store);
    if (err) {
        cli_error("serve: --profile: %s", whirl_error_message(err));
        whirl_error_delete(err);
    }
}

static void *profile_timer(void *arg)
{
    serve_profile_t *sp = arg;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    uint64_t ns = (uint64_t)until.tv_nsec + sp->duration_ns % 1000000000ull;
    until.tv_sec += (time_t)(sp->duration_ns / 1000000000ull + ns / 1000000000ull);
    until.tv_nsec = (long)(ns % 1000000000ull);
    pthread_mutex_lock(&sp->lock);
    while (!sp->shutting_down &&
           pthread_cond_timedwait(&sp->wake, &sp->lock, &until) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&sp->lock);
    atomic_store_explicit(&sp->done, true, memory_order_release);
    cli_profile_write(sp->profile);
    return NULL;
}

static int take_profile(serve_profile_t *sp, int id, const char *v)
{
    char why[512];
    if (id == OPT_PROFILE_FOR) {
        whirl_error_t *err = whirl_parse_duration(v, &sp->duration_ns);
        if (err || sp->duration_ns == 0) {
            int rc = cli_usage_error("serve: --profile-for '%s': %s", v,
                                     err ? whirl_error_message(err) : "must be more than 0");
            whirl_error_delete(err);
            return rc;
        }
        return EXIT_OK;
    }
    if (sp->profile)
        return cli_usage_error("serve: --profile given twice");
    char base[4096];
    if (!cli_profile_parse(v ? v : "guest", base, sizeof base, &sp->interval_us, why,
                           sizeof why))
        return cli_usage_error("serve: %s", why);
    if (!(sp->profile = cli_profile_new(base, sp->interval_us, "whirl serve"))) {
        cli_error("out of memory");
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* Parses serve's arguments with the shared table (options.h); options and
 * APP may come in any order. SERVE_HELP_SHOWN after --help or -W help. */
static int parse_serve_args(int argc, char **argv, serve_opts_t *o, cli_hosting_t *hosting,
                            const char **envs, const char **dirs, bool *cache,
                            const char **cache_dir, serve_profile_t *sp, int *perfmap)
{
    cli_args_t a;
    cli_args_init(&a, "serve", serve_options, CLI_COUNT(serve_options), argc, argv);
    int id, rc = EXIT_OK;
    while (rc == EXIT_OK && (id = cli_args_next(&a)) != CLI_ARGS_END) {
        switch (id) {
        case CLI_ARGS_ERROR: return EXIT_USAGE;
        case CLI_ARGS_POSITIONAL: rc = set_app(o, a.value); break;
        case OPT_HELP: serve_help(stdout); return SERVE_HELP_SHOWN;
        case OPT_CACHE:
            *cache = true;
            *cache_dir = a.value;
            break;
        case OPT_PROFILE:
        case OPT_PROFILE_FOR: rc = take_profile(sp, id, a.value); break;
        case OPT_D: {
            const char *v = a.value;
            if (strncmp(v, "perfmap", 7) != 0 || (v[7] && v[7] != '='))
                return cli_usage_error("serve: unknown -D option '%s' (only perfmap)", v);
            if ((*perfmap = cli_parse_switch(v[7] ? v + 8 : NULL)) < 0)
                return cli_usage_error("serve: invalid value '%s' for -D perfmap: expected y "
                                       "or n", v + 8);
            break;
        }
        case OPT_W:
            if (strcmp(a.value, "help") == 0 || strcmp(a.value, "help-long") == 0) {
                cli_hosting_help(stdout, 'W');
                return SERVE_HELP_SHOWN;
            }
            /* fall through */
        default: rc = take_option(id, a.value, o, hosting, envs, dirs); break;
        }
    }
    return rc;
}

int cli_cmd_serve(int argc, char **argv)
{
    serve_opts_t o = {
        .listen = "127.0.0.1:3000",
        .max_queue = 256,
        .queue_timeout_ns = 1000000000ull,
        .timeout_ns = 30000000000ull,
        .max_body = 16u << 20,
        .max_header = 32 * 1024,
        .io_timeout_s = 60,
        .grace_ns = 10000000000ull,
        .io_threads = 1,
        .access_log = true,
    };
    serve_profile_t sp = {.duration_ns = 60000000000ull};
    pthread_t timer;
    bool timer_started = false;
    cli_hosting_t hosting;
    cli_hosting_init(&hosting);
    hosting.max_memory_size = 128u << 20;
    hosting.timeout_ns = o.timeout_ns;
    const char **envs = calloc((size_t)argc + 1, sizeof *envs);
    const char **dirs = calloc((size_t)argc + 1, sizeof *dirs);
    o.allow_http = calloc((size_t)argc + 1, sizeof *o.allow_http);
    bool cache = false;
    const char *cache_dir = NULL;
    int perfmap = -1;
    int rc = EXIT_OK;
    if (!envs || !dirs || !o.allow_http) {
        cli_error("out of memory");
        rc = EXIT_USAGE;
        goto done;
    }
    o.envs = envs;
    o.dirs = dirs;
    if (!(o.variables = calloc((size_t)argc + 1, sizeof *o.variables))) {
        cli_error("out of memory");
        rc = EXIT_USAGE;
        goto done;
    }
    rc = parse_serve_args(argc, argv, &o, &hosting, envs, dirs, &cache, &cache_dir, &sp,
                          &perfmap);
    if (rc == SERVE_HELP_SHOWN) {
        rc = EXIT_OK;
        goto done;
    }
    if (rc != EXIT_OK)
        goto done;
    /* As `spin up`: no APP is ./spin.toml, a directory its spin.toml. */
    char manifest[4096];
    struct stat st;
    bool defaulted = !o.app;
    if (defaulted)
        o.app = "spin.toml";
    else if (stat(o.app, &st) == 0 && S_ISDIR(st.st_mode)) {
        if ((size_t)snprintf(manifest, sizeof manifest, "%s/spin.toml", o.app) >=
            sizeof manifest) {
            rc = cli_usage_error("serve: path too long: %s", o.app);
            goto done;
        }
        o.app = manifest;
    }
    int found = stat(o.app, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
    if (found) {
        cli_error("serve: %s: %s%s", o.app, strerror(found),
                  defaulted ? " (no APP given: name a .wasm or a spin.toml, or -f DIR)" : "");
        rc = EXIT_IO;
        goto done;
    }
    o.timeout_ns = hosting.timeout_ns;
    o.max_memory = hosting.max_memory_size;
    o.max_table_elements = hosting.max_table_elements;

    whirl_config_t *config = whirl_config_new();
    whirl_error_t *err = !config ? whirl_error_new("out of memory")
                         : sp.profile ? whirl_config_epoch_interval_set(config, sp.interval_us)
                                      : NULL;
    if (!err)
        err = cli_hosting_configure(&hosting, config);
    if (!err && cache)
        err = cli_enable_cache(config, cache_dir);
    if (!err && perfmap >= 0)
        err = whirl_config_set(config, "perfmap", perfmap ? "y" : "n");
    if (err) {
        cli_error("%s", whirl_error_message(err));
        whirl_error_delete(err);
        whirl_config_delete(config);
        rc = EXIT_USAGE;
        goto done;
    }
    if (sp.profile) {
        pthread_mutex_init(&sp.lock, NULL);
        pthread_condattr_t attr;
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&sp.wake, &attr);
        pthread_condattr_destroy(&attr);
        if (pthread_create(&timer, NULL, profile_timer, &sp) != 0) {
            cli_error("serve: --profile: cannot start its timer thread");
            whirl_config_delete(config);
            rc = EXIT_USAGE;
            goto done;
        }
        timer_started = true;
        o.on_store = profile_store;
        o.on_store_env = &sp;
    }
    rc = serve_run(&o, config);
done:
    if (timer_started) {
        pthread_mutex_lock(&sp.lock);
        sp.shutting_down = true;
        pthread_cond_signal(&sp.wake);
        pthread_mutex_unlock(&sp.lock);
        pthread_join(timer, NULL);
        pthread_cond_destroy(&sp.wake);
        pthread_mutex_destroy(&sp.lock);
    }
    cli_profile_delete(sp.profile);
    free(envs);
    free(dirs);
    free(o.variables);
    free(o.allow_http);
    return rc;
}

#else /* built without libmicrohttpd */

const char serve_usage[] = "";

int cli_cmd_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("serve: this whirl was built without libmicrohttpd (install "
              "libmicrohttpd-dev and libtomlplusplus-dev, then rebuild)");
    return EXIT_USAGE;
}
#endif
