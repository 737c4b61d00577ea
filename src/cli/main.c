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
#include "options.h"
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
    "      (or, for a component, its wasi:cli/run export under WASI 0.2). A\n"
    "      module that imports WASI preview 1 gets it, sandboxed: it sees only\n"
    "      the directories given with --dir and the variables given with --env;\n"
    "      its exit status becomes whirl's. With --invoke NAME, call that export\n"
    "      with ARGS as its parameters and print its results. whirl's options\n"
    "      go before FILE: everything after FILE is the program's, as with\n"
    "      wasmtime. A .cwasm (from `whirl compile`) runs only with\n"
    "      --allow-precompiled. `whirl run --help` lists every option.\n"
    "  whirl serve [OPTIONS] [APP]\n"
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
    "      Compile IN.wasm (a core module) and save the result (default OUT: IN\n"
    "      with .cwasm); `whirl run --allow-precompiled OUT.cwasm` then starts\n"
    "      without compiling. Only the same whirl build, with the same\n"
    "      debug-info setting, loads it, and only files you made yourself\n"
    "      should be run: a .cwasm is code.\n"
    "  whirl cache stats|clear [--dir DIR]\n"
    "      Show or empty the compilation cache (DIR, else $WHIRL_CACHE, else\n"
    "      $XDG_CACHE_HOME/whirl or ~/.cache/whirl).\n"
    "  whirl config [-W KNOB=VALUE]...\n"
    "      Print every engine setting's effective value and where it came from\n"
    "      (default, environment variable, or option).\n"
    "  whirl help | --help | -h     Show this text.\n"
    "  whirl help COMMAND           A command's own help (also COMMAND --help).\n"
    "  whirl --version              Show the version.\n"
    "\n"
    "Options for run (before FILE; `whirl run --help` has them all):\n"
    "  --invoke NAME          Call the exported function NAME instead of _start.\n"
    "  --dir HOST[::GUEST][:ro], --env NAME[=VALUE], -S inherit-env\n"
    "                         What a WASI program may see.\n"
    "%s"
    "  -C tier=auto|interp|jit  Interpreter, native code (LLVM tier), or both (auto).\n"
    "  -C cache[=y|n], -C cache-dir=DIR (also --cache[=DIR])\n"
    "                         Use the compilation cache (also WHIRL_CACHE=DIR).\n"
    "  -D debug-info          Keep names and offsets for backtraces.\n"
    "  --allow-precompiled    Let FILE be a .cwasm.\n"
    "  -W help, -O help, -S help, -C help, -D help\n"
    "                         List an option group's names.\n"
    "Durations take a unit ns, us, ms, s, m or h (50ms, 1m30s; a number alone is\n"
    "seconds); sizes a suffix K, M or G (binary; a number alone is bytes). The\n"
    "environment knobs (WHIRL_*, SPIN_*) read them the same way.\n"
    "\n"
    "%s"
    "\n"
    "Examples:\n"
    "  whirl run --dir data::/data hello.wasm World\n"
    "  whirl run --invoke fib fib.wasm 20\n"
    "  whirl run -W timeout=5s,max-memory-size=64M --invoke add calc.wasm -1 0x10\n"
    "  whirl validate module.wasm\n"
    "  whirl compile app.wasm -o app.cwasm && whirl run --allow-precompiled app.cwasm\n"
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

/* The largest input whirl reads: far above any real module (the largest
 * components are tens of MiB), and a bound on what an endless input (a
 * pipe that never ends) can make whirl allocate. */
#define CLI_MAX_INPUT ((size_t)1 << 30)

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
    /* Regular files and pipes (`whirl run /dev/stdin` with a pipe on
     * stdin) are read; devices such as /dev/zero never end and sockets
     * are no files. */
    if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
        cli_error("%s: %s, not a regular file or a pipe", path,
                  S_ISCHR(st.st_mode)   ? "a character device"
                  : S_ISBLK(st.st_mode) ? "a block device"
                  : S_ISSOCK(st.st_mode) ? "a socket"
                                         : "a special file");
        close(fd);
        return EXIT_IO;
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > CLI_MAX_INPUT) {
        cli_error("%s: larger than the %zu MiB whirl reads", path, CLI_MAX_INPUT >> 20);
        close(fd);
        return EXIT_IO;
    }
    /* st_size is only a hint: pipes and /proc files report 0 or lie. */
    size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 65536;
    size_t n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (buf && n == cap) {
            if (cap > CLI_MAX_INPUT) {
                cli_error("%s: more than the %zu MiB whirl reads", path, CLI_MAX_INPUT >> 20);
                free(buf);
                close(fd);
                return EXIT_IO;
            }
            size_t ncap = cap * 2 > CLI_MAX_INPUT + 1 ? CLI_MAX_INPUT + 1 : cap * 2;
            uint8_t *nbuf = realloc(buf, ncap);
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
        cli_print_frame_source(stderr, error, i);
    }
    if (repeats)
        fprintf(stderr, "     (previous frame repeated %zu more time%s)\n", repeats,
                repeats == 1 ? "" : "s");
}

static const cli_option_t help_only[] = {
    {0, 'h', "help", CLI_NO_ARG, NULL, "Show this help."},
};

static const char validate_help[] =
    "Usage: whirl validate FILE...\n"
    "\n"
    "Decode and validate each module or component and print `FILE: valid`, or\n"
    "the error. A precompiled module (.cwasm) is checked as `whirl run\n"
    "--allow-precompiled` would load it, and said to be one.\n";

/* A .cwasm: loads it, which checks its structure and checksum and that
 * this whirl build made it. */
static int validate_precompiled(whirl_engine_t *engine, const char *path, const uint8_t *data,
                                size_t len)
{
    whirl_module_t *m = NULL;
    whirl_error_t *err = whirl_module_deserialize(engine, data, len, &m);
    if (err) {
        cli_error("%s: a precompiled module (.cwasm) that this whirl cannot load: %s", path,
                  whirl_error_message(err));
        whirl_error_delete(err);
        cli_explain_precompiled(engine, path, data, len);
        return EXIT_BAD_MODULE;
    }
    whirl_module_delete(m);
    printf("%s: valid: a precompiled module (.cwasm) made by `whirl compile` for this whirl "
           "build; it is code: run it with `whirl run --allow-precompiled` only if you made "
           "it\n",
           path);
    return EXIT_OK;
}

int cli_cmd_validate(int argc, char **argv)
{
    cli_args_t a;
    cli_args_init(&a, "validate", help_only, CLI_COUNT(help_only), argc, argv);
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    size_t nfiles = 0;
    if (!files) {
        cli_error("out of memory");
        return EXIT_IO;
    }
    for (int id; (id = cli_args_next(&a)) != CLI_ARGS_END;) {
        if (id == CLI_ARGS_ERROR) {
            free(files);
            return EXIT_USAGE;
        }
        if (id == CLI_ARGS_POSITIONAL) {
            files[nfiles++] = a.value;
            continue;
        }
        fputs(validate_help, stdout);
        free(files);
        return EXIT_OK;
    }
    if (nfiles == 0) {
        free(files);
        return cli_usage_error("validate: missing FILE.wasm");
    }

    whirl_engine_t *engine;
    whirl_error_t *err = whirl_engine_new(NULL, &engine);
    if (err) {
        cli_error("cannot create engine: %s", whirl_error_message(err));
        whirl_error_delete(err);
        free(files);
        return EXIT_BAD_MODULE;
    }
    int status = EXIT_OK;
    for (size_t i = 0; i < nfiles; i++) {
        const char *path = files[i];
        uint8_t *data;
        size_t len;
        int rc = cli_read_file(path, &data, &len);
        if (rc == EXIT_OK && whirl_module_is_serialized(data, len)) {
            rc = validate_precompiled(engine, path, data, len);
            free(data);
        } else if (rc == EXIT_OK) {
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
    free(files);
    return status;
}

static bool is_help(const char *arg)
{
    return strcmp(arg, "help") == 0 || strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
} commands[] = {
    {"run", cli_cmd_run},         {"serve", cli_cmd_serve},     {"validate", cli_cmd_validate},
    {"inspect", cli_cmd_inspect}, {"compile", cli_cmd_compile}, {"cache", cli_cmd_cache},
    {"config", cli_config_command},
};

static int find_command(const char *name)
{
    for (size_t i = 0; i < CLI_COUNT(commands); i++)
        if (strcmp(commands[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int unknown_command(const char *cmd)
{
    size_t n = strlen(cmd);
    if (n > 5 && strcmp(cmd + n - 5, ".wasm") == 0)
        return cli_usage_error("unknown command '%s' (to run a module: whirl run %s)", cmd, cmd);
    return cli_usage_error("unknown command '%s'", cmd);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    int status, k;
    if (is_help(cmd) && argc > 2 && strcmp(cmd, "help") == 0) {
        /* `whirl help CMD`: the command's own help. */
        static char help_flag[] = "--help";
        char *args[] = {help_flag, NULL};
        if ((k = find_command(argv[2])) < 0)
            status = unknown_command(argv[2]);
        else
            status = commands[k].fn(1, args);
    } else if (is_help(cmd)) {
        cli_usage(stdout);
        status = EXIT_OK;
    } else if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0 ||
               strcmp(cmd, "version") == 0) {
        printf("whirl %s\n", WHIRL_VERSION);
        status = EXIT_OK;
    } else if ((k = find_command(cmd)) >= 0) {
        status = commands[k].fn(argc - 2, argv + 2);
    } else if (cmd[0] == '-') {
        status = cli_usage_error("unknown option '%s'", cmd);
    } else {
        status = unknown_command(cmd);
    }
    /* A full disk or closed pipe on stdout must not pass for success. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "error: writing output: %s\n", strerror(errno));
        if (status == EXIT_OK)
            status = EXIT_IO;
    }
    return status;
}
