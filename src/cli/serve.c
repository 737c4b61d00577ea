/* `whirl serve`: option parsing; the server itself is src/serve/. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"
#include "hosting.h"

#ifdef WHIRL_HAVE_SERVE
#include "serve/serve.h"

const char serve_usage[] =
    "Options for serve (APP: a .wasm, or a spin.toml; as with `spin up`, no APP\n"
    "means ./spin.toml):\n"
    "  -f, --from FILE|DIR    The app: a spin.toml (or a .wasm); a directory means\n"
    "                         its spin.toml.\n"
    "  --listen HOST:PORT     Address to listen on (default 127.0.0.1:3000; port 0\n"
    "                         picks a free one, printed on stderr).\n"
    "  --reuse-port           Share the port with other servers (SO_REUSEPORT): the\n"
    "                         kernel spreads connections among them.\n"
    "  --wagi                 APP is a WASI preview 1 command answering as a CGI\n"
    "                         program (WAGI): request in its environment and stdin,\n"
    "                         response (headers, blank line, body) on its stdout.\n"
    "  --timeout DURATION     Deadline of each request's guest (default 30s); past\n"
    "                         it the client gets 504. Same as -W timeout=DURATION.\n"
    "  -W max-memory-size=BYTES  Linear memory per request (default 128M).\n"
    "  --workers N            Threads running guests (default: one per core).\n"
    "  --max-queue N          Requests that may wait for a worker (default 256);\n"
    "  --queue-timeout DURATION  ... for at most this long (default 1s); then 503\n"
    "                         with Retry-After.\n"
    "  --max-body BYTES       Request body limit (default 16M); more gets 413.\n"
    "  --max-header BYTES     Request line and headers limit (default 32K); more\n"
    "                         gets 431 (414 for the URL alone).\n"
    "  --io-timeout DURATION  Idle connection timeout, reading or writing (default 60s).\n"
    "  --grace DURATION       On SIGINT/SIGTERM, time requests in flight get to finish\n"
    "                         (default 10s).\n"
    "  --io-threads N         HTTP threads (default 1).\n"
    "  --metrics              Serve counters at /.well-known/whirl/metrics.\n"
    "  --metrics-log          Print the counters on stderr every second.\n"
    "  --quiet                No access log (default: one line per request on stderr).\n"
    "  --env NAME[=VALUE], --dir HOST[::GUEST][:ro], --cache[=DIR], -W ...\n"
    "                         As for run (--env and --dir for a single module).\n";

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

static int take(int argc, char **argv, int *i, const char *name, const char **value)
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
        cli_usage_error("serve: option %s needs a value", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
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
    cli_hosting_t hosting;
    cli_hosting_init(&hosting);
    hosting.max_memory_size = 128u << 20;
    hosting.timeout_ns = o.timeout_ns;
    const char **envs = calloc((size_t)argc + 1, sizeof *envs);
    const char **dirs = calloc((size_t)argc + 1, sizeof *dirs);
    bool cache = false;
    const char *cache_dir = NULL;
    int rc = EXIT_OK;
    if (!envs || !dirs) {
        cli_error("out of memory");
        rc = EXIT_USAGE;
        goto done;
    }
    o.envs = envs;
    o.dirs = dirs;
    for (int i = 0; i < argc && rc == EXIT_OK; i++) {
        const char *a = argv[i], *v;
        int m = 0;
#define OPT(NAME) ((m = take(argc, argv, &i, NAME, &v)) != 0)
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cli_usage(stdout);
            goto done;
        } else if (a[0] != '-' || strcmp(a, "-") == 0) {
            if (o.app) {
                rc = cli_usage_error("serve: more than one APP ('%s' and '%s')", o.app, a);
                break;
            }
            o.app = a;
            continue;
        } else if (OPT("-f") || (!m && OPT("--from"))) {
            if (m > 0 && o.app) {
                rc = cli_usage_error("serve: more than one APP ('%s' and '%s')", o.app, v);
                break;
            }
            if (m > 0)
                o.app = v;
        } else if (strcmp(a, "--reuse-port") == 0) {
            o.reuse_port = true;
        } else if (strcmp(a, "--wagi") == 0) {
            o.wagi = true;
        } else if (strcmp(a, "--metrics") == 0) {
            o.metrics = true;
        } else if (strcmp(a, "--metrics-log") == 0) {
            o.metrics_log = true;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            o.access_log = false;
        } else if (strcmp(a, "--cache") == 0 || strncmp(a, "--cache=", 8) == 0) {
            cache = true;
            cache_dir = a[7] == '=' ? a + 8 : NULL;
        } else if (OPT("--listen")) {
            char host[256], port[16], why[300];
            if (m > 0 && !serve_listen_parse(v, host, port, why, sizeof why))
                rc = cli_usage_error("serve: %s", why);
            else if (m > 0)
                o.listen = v;
        } else if (OPT("--timeout")) {
            if (m > 0) {
                char arg[256], why[256];
                snprintf(arg, sizeof arg, "timeout=%s", v);
                if (cli_hosting_parse(&hosting, arg, why, sizeof why) != 1)
                    rc = cli_usage_error("serve: %s", why);
            }
        } else if (OPT("--workers")) {
            if (m > 0 && (!parse_count(v, 4096, &o.workers) || !o.workers))
                rc = cli_usage_error("serve: invalid --workers '%s' (1 to 4096)", v);
        } else if (OPT("--io-threads")) {
            if (m > 0 && (!parse_count(v, 256, &o.io_threads) || !o.io_threads))
                rc = cli_usage_error("serve: invalid --io-threads '%s' (1 to 256)", v);
        } else if (OPT("--max-queue")) {
            if (m > 0 && !parse_count(v, 1000000, &o.max_queue))
                rc = cli_usage_error("serve: invalid --max-queue '%s' (0 to 1000000)", v);
        } else if (OPT("--queue-timeout")) {
            if (m > 0 && !parse_duration(v, &o.queue_timeout_ns))
                rc = cli_usage_error("serve: invalid --queue-timeout '%s' (a duration such as "
                                     "500ms)", v);
        } else if (OPT("--grace")) {
            if (m > 0 && !parse_duration(v, &o.grace_ns))
                rc = cli_usage_error("serve: invalid --grace '%s' (a duration such as 10s)", v);
        } else if (OPT("--io-timeout")) {
            uint64_t ns;
            if (m > 0 && !parse_duration(v, &ns))
                rc = cli_usage_error("serve: invalid --io-timeout '%s' (a duration such as "
                                     "60s)", v);
            else if (m > 0)
                o.io_timeout_s = ns < 1000000000ull ? 1 : (unsigned)(ns / 1000000000ull);
        } else if (OPT("--max-body")) {
            size_t n;
            if (m > 0 && cli_parse_size(v, &n) != 0)
                rc = cli_usage_error("serve: invalid --max-body '%s' (a byte count such as "
                                     "16M)", v);
            else if (m > 0)
                o.max_body = n;
        } else if (OPT("--max-header")) {
            size_t n;
            if (m > 0 && (cli_parse_size(v, &n) != 0 || n < 1024 || n > (64u << 20)))
                rc = cli_usage_error("serve: invalid --max-header '%s' (1K to 64M)", v);
            else if (m > 0)
                o.max_header = n;
        } else if (OPT("--env")) {
            if (m > 0)
                envs[o.nenvs++] = v;
        } else if (OPT("--dir")) {
            if (m > 0)
                dirs[o.ndirs++] = v;
        } else if (strncmp(a, "-W", 2) == 0) {
            const char *w = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);
            char why[256];
            if (!w) {
                rc = cli_usage_error("serve: option -W needs a value (e.g. -W timeout=10s)");
                break;
            }
            int r = cli_hosting_parse(&hosting, w, why, sizeof why);
            if (r == 0)
                rc = cli_usage_error("serve: unknown -W option '%s' (known: timeout, "
                                     "max-memory-size, max-table-elements, pooling)", w);
            else if (r < 0)
                rc = cli_usage_error("serve: %s", why);
        } else {
            rc = cli_usage_error("serve: unknown option '%s'", a);
        }
        if (m < 0)
            rc = EXIT_USAGE;
#undef OPT
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
    whirl_error_t *err = config ? cli_hosting_configure(&hosting, config)
                                : whirl_error_new("out of memory");
    if (!err && cache)
        err = cli_enable_cache(config, cache_dir);
    if (err) {
        cli_error("%s", whirl_error_message(err));
        whirl_error_delete(err);
        whirl_config_delete(config);
        rc = EXIT_USAGE;
        goto done;
    }
    rc = serve_run(&o, config);
done:
    free(envs);
    free(dirs);
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
