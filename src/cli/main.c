/* whirl: command dispatch, usage text and the reporting helpers shared by the
 * commands. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "hosting.h"
#include "whirl/component.h"

/* `whirl serve` (serve.c; src/serve/ when built with libmicrohttpd). */
int cli_cmd_serve(int argc, char **argv);
extern const char serve_usage[];

static const char usage_text[] =
    "whirl " WHIRL_VERSION ": a WebAssembly engine\n"
    "\n"
    "Usage:\n"
    "  whirl run [OPTIONS] FILE.wasm [ARGS...]\n"
    "      Run a WASI program: FILE.wasm's `_start` with ARGS as its arguments\n"
    "      (or, for a component, its wasi:cli/run export under WASI 0.2, with\n"
    "      the same options; a failing run exits with 1)\n"
    "      (FILE may also be a .cwasm made by `whirl compile`)\n"
    "      (argv[0] is FILE's name). A module that imports WASI preview 1\n"
    "      (wasi_snapshot_preview1) gets it, sandboxed: it sees only the\n"
    "      directories given with --dir and the variables given with --env;\n"
    "      its exit status becomes whirl's. Other imports are not provided.\n"
    "      With --invoke, call the named export instead (after `_initialize`,\n"
    "      if a WASI module has one), passing ARGS converted to its parameter\n"
    "      types: i32/i64 as decimal or 0x hex (negative allowed), f32/f64 as\n"
    "      decimal, inf, -inf or nan, v128 as 0x hex, references only as null;\n"
    "      each result is printed on its own line. whirl's options may also\n"
    "      follow FILE.wasm; other arguments after it are the program's (use\n"
    "      `--` before program arguments that look like whirl options).\n"
    "  whirl serve [OPTIONS] APP\n"
    "      Serve HTTP, answering each request with a fresh instance of APP\n"
    "      under a deadline and a memory limit. APP is a component exporting\n"
    "      wasi:http/incoming-handler@0.2.x, a WASI preview 1 module answering\n"
    "      as a CGI program (--wagi), or a spin.toml (manifest version 2)\n"
    "      routing to several of them. Stops on SIGINT/SIGTERM (exit 0).\n"
    "  whirl validate FILE.wasm...\n"
    "      Decode and validate (a module or a component); print\n"
    "      `FILE.wasm: valid` or the error.\n"
    "  whirl inspect FILE.wasm...\n"
    "      Print a component's imports and exports as WIT-like text (a core\n"
    "      module's as a list).\n"
    "  whirl compile [--debug-info] IN.wasm [-o OUT.cwasm]\n"
    "      Compile IN.wasm and save the result (default OUT: IN with .cwasm);\n"
    "      `whirl run OUT.cwasm` then starts without compiling. Only the same\n"
    "      whirl build, with the same debug-info setting, loads it, and only\n"
    "      files you made yourself should be run: a .cwasm is code.\n"
    "  whirl cache stats|clear [--dir DIR]\n"
    "      Show or empty the compilation cache (DIR, else $WHIRL_CACHE, else\n"
    "      $XDG_CACHE_HOME/whirl or ~/.cache/whirl).\n"
    "  whirl config [-W KNOB=VALUE]...\n"
    "      Print every engine setting's effective value and where it came from\n"
    "      (default, environment variable, or option).\n"
    "  whirl help | --help | -h     Show this text.\n"
    "  whirl --version              Show the version.\n"
    "\n"
    "Options for run:\n"
    "  --invoke NAME          Call the exported function NAME instead of _start.\n"
    "  --dir HOST[::GUEST][:ro]\n"
    "                         Let a WASI program use the host directory HOST,\n"
    "                         under the name GUEST (default: HOST as given);\n"
    "                         `..`, absolute paths and symlinks cannot leave it.\n"
    "                         A final `:ro` makes it read-only (`:rw`, the\n"
    "                         default, lets a HOST ending in `:ro` be named).\n"
    "  --env NAME[=VALUE]     Set an environment variable for a WASI program\n"
    "                         (without =VALUE: the host's value, if set).\n"
    "  --inherit-env          Give a WASI program all of whirl's environment.\n"
    "  --max-wasm-stack BYTES Guest stack limit per call (default 1M; suffixes\n"
    "                         k, M, G; 4k..1G).\n"
    "  --timeout DURATION     Same as -W timeout=DURATION.\n"
    "  --cache[=DIR]          Use the compilation cache (in DIR, else as for\n"
    "                         `whirl cache`): a module compiled before loads\n"
    "                         from it. Setting WHIRL_CACHE=DIR does the same.\n"
    "%s"
    "  --                     End of options: what follows is FILE and ARGS.\n"
    "\n"
    "%s"
    "\n"
    "Examples:\n"
    "  whirl run --dir data::/data hello.wasm World\n"
    "  whirl run fib.wasm --invoke fib 20\n"
    "  whirl run -W timeout=5s -W max-memory-size=64M --invoke add calc.wasm -- -1 0x10\n"
    "  whirl validate module.wasm\n"
    "  whirl compile app.wasm -o app.cwasm && whirl run app.cwasm\n"
    "  whirl serve --wagi --listen 127.0.0.1:8080 --timeout 5s handler.wasm\n"
    "\n"
    "Exit status:\n"
    "  0    success\n"
    "  1    invalid module: decode, validation or link error (also: a WASI\n"
    "       program exited with a status outside 0-125)\n"
    "  2    usage error: unknown command or option, missing or bad argument\n"
    "  4    the module file or a --dir could not be opened\n"
    "  134  the WebAssembly code trapped (message and backtrace on stderr);\n"
    "       128 + SIGABRT, as wasmtime, so that it differs from every status\n"
    "       a WASI program can exit with\n"
    "  142  the guest reached its -W timeout deadline (trap `interrupt`;\n"
    "       128 + SIGALRM)\n"
    "  A WASI program's own exit status (0-125, from proc_exit or the return\n"
    "  of main) is whirl's exit status, so 1, 2 and 4 may also come from it:\n"
    "  whirl's own errors always print `error: ...` on stderr first.\n";

void cli_usage(FILE *f)
{
    fprintf(f, usage_text, cli_hosting_usage, serve_usage);
}

__attribute__((format(printf, 2, 0)))
static void vreport(const char *prefix, const char *fmt, va_list ap)
{
    /* Build the line first so that escaping covers names that arguments
     * (from the command line or a module) carry. */
    char buf[2048];
    vsnprintf(buf, sizeof buf, fmt, ap);
    fputs(prefix, stderr);
    cli_put_escaped(stderr, buf, strlen(buf), 1);
    fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("error: ", fmt, ap);
    va_end(ap);
}

int cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("error: ", fmt, ap);
    va_end(ap);
    fputs("Run `whirl help` for usage.\n", stderr);
    return EXIT_USAGE;
}

void cli_put_escaped(FILE *f, const char *s, size_t len, int keep_newlines)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 0x20 && c < 0x7f) || (keep_newlines && (c == '\n' || c == '\t')))
            fputc(c, f);
        else if (c >= 0x80 && keep_newlines)
            fputc(c, f); /* UTF-8 in messages is fine on a terminal */
        else
            fprintf(f, "\\x%02x", c);
    }
}

int cli_read_file(const char *path, uint8_t **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        cli_error("%s: %s", path, strerror(errno));
        return EXIT_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        cli_error("%s: %s", path, strerror(errno));
        close(fd);
        return EXIT_IO;
    }
    if (S_ISDIR(st.st_mode)) {
        cli_error("%s: %s", path, strerror(EISDIR));
        close(fd);
        return EXIT_IO;
    }
    /* st_size is only a hint: pipes and /proc files report 0 or lie. */
    size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 65536;
    size_t n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (buf && n == cap) {
            size_t ncap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
            uint8_t *nbuf = ncap > cap ? realloc(buf, ncap) : NULL;
            if (!nbuf)
                free(buf);
            buf = nbuf;
            cap = ncap;
        }
        if (!buf) {
            cli_error("%s: %s", path, strerror(ENOMEM));
            close(fd);
            return EXIT_IO;
        }
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            cli_error("%s: %s", path, strerror(errno));
            free(buf);
            close(fd);
            return EXIT_IO;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    close(fd);
    *data = buf;
    *len = n;
    return EXIT_OK;
}

void cli_report_module_error(const char *path, const uint8_t *data, size_t len,
                             const whirl_error_t *error)
{
    cli_error("%s: %s", path, whirl_error_message(error));
    /* The commonest mistake is handing over the text format. */
    size_t i = 0;
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r'))
        i++;
    bool binary = len >= 4 && memcmp(data, "\0asm", 4) == 0;
    if (!binary && i < len && (data[i] == '(' || data[i] == ';'))
        fprintf(stderr, "note: this looks like WebAssembly text; whirl reads binary modules "
                        "(convert it with `wat2wasm`)\n");
}

void cli_report_trap(const whirl_error_t *error)
{
    whirl_trap_code_t code = 0;
    whirl_error_is_trap(error, &code);
    const char *msg = whirl_error_message(error);
    if (!msg || !*msg)
        msg = whirl_trap_code_name(code);
    /* Avoid "trap: trap: ..." if the engine already says it. */
    if (strncmp(msg, "trap: ", 6) == 0)
        msg += 6;
    cli_error("trap: %s", msg);
    size_t nframes = whirl_error_frame_count(error);
    if (nframes == 0)
        return;
    fputs("wasm backtrace:\n", stderr);
    uint32_t prev_idx = 0;
    size_t prev_offset = 0, repeats = 0;
    for (size_t i = 0; i < nframes; i++) {
        uint32_t idx = 0;
        const char *name = NULL;
        size_t offset = 0;
        if (!whirl_error_frame(error, i, &idx, &name, &offset))
            break;
        /* Deep recursion would bury the rest: fold runs of one frame. */
        if (i > 0 && idx == prev_idx && offset == prev_offset) {
            repeats++;
            continue;
        }
        if (repeats)
            fprintf(stderr, "     (previous frame repeated %zu more time%s)\n", repeats,
                    repeats == 1 ? "" : "s");
        repeats = 0;
        prev_idx = idx;
        prev_offset = offset;
        fprintf(stderr, "  %zu: ", i);
        if (name)
            cli_put_escaped(stderr, name, strlen(name), 0);
        else
            fprintf(stderr, "func[%u]", idx);
        fprintf(stderr, " @ 0x%zx\n", offset);
    }
    if (repeats)
        fprintf(stderr, "     (previous frame repeated %zu more time%s)\n", repeats,
                repeats == 1 ? "" : "s");
}

int cli_cmd_validate(int argc, char **argv)
{
    int nfiles = 0, status = EXIT_OK;
    bool options_done = false;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (!options_done && strcmp(arg, "--") == 0) {
            options_done = true;
            continue;
        }
        if (!options_done && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)) {
            cli_usage(stdout);
            return EXIT_OK;
        }
        if (!options_done && arg[0] == '-' && arg[1] != '\0')
            return cli_usage_error("validate: unknown option '%s'", arg);
        nfiles++;
    }
    if (nfiles == 0)
        return cli_usage_error("validate: missing FILE.wasm");

    whirl_engine_t *engine;
    whirl_error_t *err = whirl_engine_new(NULL, &engine);
    if (err) {
        cli_error("cannot create engine: %s", whirl_error_message(err));
        whirl_error_delete(err);
        return EXIT_BAD_MODULE;
    }
    options_done = false;
    for (int i = 0; i < argc; i++) {
        const char *path = argv[i];
        if (!options_done && strcmp(path, "--") == 0) {
            options_done = true;
            continue;
        }
        uint8_t *data;
        size_t len;
        int rc = cli_read_file(path, &data, &len);
        if (rc == EXIT_OK) {
            err = whirl_component_is_component(data, len)
                      ? whirl_component_validate(engine, data, len)
                      : whirl_module_validate(engine, data, len);
            if (err) {
                cli_report_module_error(path, data, len, err);
                whirl_error_delete(err);
                rc = EXIT_BAD_MODULE;
            } else {
                printf("%s: valid\n", path);
            }
            free(data);
        }
        /* Several files: report the most serious failure (I/O over invalid). */
        if (rc > status)
            status = rc;
    }
    whirl_engine_delete(engine);
    return status;
}

static bool is_help(const char *arg)
{
    return strcmp(arg, "help") == 0 || strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    int status;
    if (is_help(cmd)) {
        cli_usage(stdout);
        status = EXIT_OK;
    } else if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0 ||
               strcmp(cmd, "version") == 0) {
        printf("whirl %s\n", WHIRL_VERSION);
        status = EXIT_OK;
    } else if (strcmp(cmd, "run") == 0) {
        status = cli_cmd_run(argc - 2, argv + 2);
    } else if (strcmp(cmd, "serve") == 0) {
        status = cli_cmd_serve(argc - 2, argv + 2);
    } else if (strcmp(cmd, "validate") == 0) {
        status = cli_cmd_validate(argc - 2, argv + 2);
    } else if (strcmp(cmd, "inspect") == 0) {
        status = cli_cmd_inspect(argc - 2, argv + 2);
    } else if (strcmp(cmd, "compile") == 0) {
        status = cli_cmd_compile(argc - 2, argv + 2);
    } else if (strcmp(cmd, "cache") == 0) {
        status = cli_cmd_cache(argc - 2, argv + 2);
    } else if (strcmp(cmd, "config") == 0) {
        status = cli_config_command(argc - 2, argv + 2);
    } else if (cmd[0] == '-') {
        status = cli_usage_error("unknown option '%s'", cmd);
    } else {
        size_t n = strlen(cmd);
        if (n > 5 && strcmp(cmd + n - 5, ".wasm") == 0)
            status = cli_usage_error("unknown command '%s' (to run a module: whirl run %s)",
                                     cmd, cmd);
        else
            status = cli_usage_error("unknown command '%s'", cmd);
    }
    /* A full disk or closed pipe on stdout must not pass for success. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "error: writing output: %s\n", strerror(errno));
        if (status == EXIT_OK)
            status = EXIT_IO;
    }
    return status;
}
