/* `whirl compile` (precompile a module to a .cwasm file), `whirl cache
 * stats|clear` (the compilation cache directory), and the module loading
 * of `whirl run`, which takes a .wasm or a .cwasm alike. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "options.h"
#include "whirl/component.h"

whirl_error_t *cli_module_load(whirl_engine_t *engine, const uint8_t *data, size_t len,
                               whirl_module_t **out)
{
    if (whirl_module_is_serialized(data, len))
        return whirl_module_deserialize(engine, data, len, out);
    return whirl_module_new(engine, data, len, out);
}

/* Whether `engine` compiles with debug info (its effective config). */
static bool engine_debug_info(const whirl_engine_t *engine)
{
    const whirl_config_t *c = whirl_engine_config(engine);
    for (size_t i = 0; i < whirl_config_item_count(); i++) {
        whirl_config_item_t it;
        if (whirl_config_item(c, i, &it) && strcmp(it.name, "debug_info") == 0)
            return strcmp(it.value, "y") == 0;
    }
    return false;
}

void cli_explain_precompiled(const whirl_engine_t *engine, const char *path,
                             const uint8_t *data, size_t len)
{
    if (!whirl_module_is_serialized(data, len))
        return;
    /* Try the other setting rather than reading the error's text: the
     * message is for people, the load is the fact. */
    bool debug = engine_debug_info(engine);
    whirl_config_t *c = whirl_config_new();
    if (!c)
        return;
    whirl_config_debug_info_set(c, !debug);
    whirl_config_pooling_set(c, false);
    whirl_config_epoch_interval_set(c, 0);
    whirl_engine_t *other = NULL;
    whirl_module_t *m = NULL;
    whirl_error_t *err = whirl_engine_new(c, &other);
    if (!err)
        err = whirl_module_deserialize(other, data, len, &m);
    if (!err) {
        fprintf(stderr, "note: ");
        cli_put_escaped(stderr, path, strlen(path), 0);
        if (!debug)
            fprintf(stderr, " was compiled with `whirl compile --debug-info`: run it with "
                            "`whirl run -D debug-info --allow-precompiled ...`\n");
        else
            fprintf(stderr, " was compiled without debug info: run it without -D debug-info "
                            "(and without WHIRL_DEBUG_INFO set), or compile it again with "
                            "`whirl compile --debug-info`\n");
    }
    whirl_error_delete(err);
    whirl_module_delete(m);
    whirl_engine_delete(other);
}

/* What `st` is, for messages. */
static const char *file_kind(const struct stat *st)
{
    if (S_ISLNK(st->st_mode))
        return "a symbolic link";
    if (S_ISCHR(st->st_mode))
        return "a character device";
    if (S_ISBLK(st->st_mode))
        return "a block device";
    if (S_ISFIFO(st->st_mode))
        return "a named pipe";
    if (S_ISSOCK(st->st_mode))
        return "a socket";
    if (S_ISDIR(st->st_mode))
        return "a directory";
    return "not a regular file";
}

/* Writes `data` to `path` through a temporary file beside it, renamed into
 * place, so that a reader (a `whirl run` of the same file) never sees half
 * a module. The temporary name is unpredictable and created exclusively
 * (mkstemp: O_CREAT|O_EXCL, so a planted symlink is never followed), and
 * only a regular file is ever replaced: renaming over /dev/full or a
 * symlink would replace the node itself. */
static int write_file_atomically(const char *path, const uint8_t *data, size_t len)
{
    struct stat st;
    if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        cli_error("%s: %s; whirl compile replaces only regular files (choose another -o)", path,
                  file_kind(&st));
        return EXIT_IO;
    }
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!tmp) {
        cli_error("%s: %s", path, strerror(ENOMEM));
        return EXIT_IO;
    }
    snprintf(tmp, n, "%.*s.%s.tmp-XXXXXX", (int)dirlen, path, path + dirlen);
    int fd = mkstemp(tmp);
    int err = fd < 0 ? errno : 0;
    if (!err) {
        /* mkstemp makes 0600; a .cwasm is as readable as any output. */
        mode_t mask = umask(0);
        umask(mask);
        if (fchmod(fd, 0644 & ~mask) != 0)
            err = errno;
    }
    for (size_t done = 0; !err && done < len;) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            err = w < 0 ? errno : EIO;
        else
            done += (size_t)w;
    }
    if (fd >= 0 && close(fd) != 0 && !err)
        err = errno;
    if (!err && rename(tmp, path) != 0)
        err = errno;
    if (err) {
        if (fd >= 0)
            unlink(tmp);
        cli_error("%s: %s", path, strerror(err));
    }
    free(tmp);
    return err ? EXIT_IO : EXIT_OK;
}

/* OUT for IN: IN with .wasm replaced by (or, without it, followed by)
 * .cwasm. */
static char *default_output(const char *in)
{
    size_t n = strlen(in);
    if (n > 5 && strcmp(in + n - 5, ".wasm") == 0)
        n -= 5;
    char *out = malloc(n + 7);
    if (out) {
        memcpy(out, in, n);
        memcpy(out + n, ".cwasm", 7);
    }
    return out;
}

enum { COMPILE_HELP, COMPILE_OUTPUT, COMPILE_DEBUG_INFO, COMPILE_D };

static const cli_option_t compile_options[] = {
    {COMPILE_OUTPUT, 'o', "output", CLI_REQUIRED_ARG, "OUT.cwasm",
     "Where to write (default: IN with .cwasm). Only a regular file\n"
     "is replaced, through a new file renamed into place."},
    {COMPILE_DEBUG_INFO, 0, "debug-info", CLI_NO_ARG, NULL,
     "Compile with debug info (run the result with -D debug-info)."},
    {COMPILE_D, 'D', NULL, CLI_REQUIRED_ARG, "debug-info", "Same as --debug-info."},
    {COMPILE_HELP, 'h', "help", CLI_NO_ARG, NULL, "Show this help."},
};

static void compile_help(FILE *f)
{
    fputs("Usage: whirl compile [OPTIONS] IN.wasm [-o OUT.cwasm]\n"
          "\n"
          "Compile a core module and save the result; `whirl run --allow-precompiled\n"
          "OUT.cwasm` then starts without compiling. Only the same whirl build, with the\n"
          "same debug-info setting, loads it, and only files you made yourself should be\n"
          "run: a .cwasm is code. Components cannot be precompiled yet.\n"
          "\n"
          "With the LLVM tier built in, the file also holds native code for this CPU\n"
          "(loaded without compiling; a .cwasm from another CPU, LLVM or whirl build is\n"
          "refused, naming the difference). WHIRL_TIER=interp leaves it out.\n"
          "\n"
          "Options:\n",
          f);
    cli_options_help(f, compile_options, CLI_COUNT(compile_options));
}

int cli_cmd_compile(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    bool debug_info = false;
    cli_args_t a;
    cli_args_init(&a, "compile", compile_options, CLI_COUNT(compile_options), argc, argv);
    for (int id; (id = cli_args_next(&a)) != CLI_ARGS_END;) {
        switch (id) {
        case CLI_ARGS_ERROR: return EXIT_USAGE;
        case COMPILE_HELP: compile_help(stdout); return EXIT_OK;
        case COMPILE_OUTPUT: out = a.value; break;
        case COMPILE_DEBUG_INFO: debug_info = true; break;
        case COMPILE_D:
            if (strcmp(a.value, "debug-info") != 0 && strcmp(a.value, "debug-info=y") != 0)
                return cli_usage_error("compile: unknown -D option '%s' (only debug-info)",
                                       a.value);
            debug_info = true;
            break;
        case CLI_ARGS_POSITIONAL:
            if (in)
                return cli_usage_error("compile: more than one input ('%s' and '%s')", in,
                                       a.value);
            in = a.value;
            break;
        }
    }
    if (!in)
        return cli_usage_error("compile: missing IN.wasm");
    char *def = out ? NULL : default_output(in);
    if (!out && !(out = def)) {
        cli_error("out of memory");
        return EXIT_IO;
    }
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = cli_read_file(in, &data, &len);
    whirl_engine_t *engine = NULL;
    whirl_module_t *module = NULL;
    uint8_t *bytes = NULL;
    size_t nbytes = 0;
    whirl_error_t *err = NULL;
    if (rc != EXIT_OK)
        goto done;
    if (whirl_module_is_serialized(data, len)) {
        cli_error("%s: already precompiled (whirl compile takes a .wasm)", in);
        rc = EXIT_BAD_MODULE;
        goto done;
    }
    if (whirl_component_is_component(data, len)) {
        cli_error("%s: is a component; whirl compile precompiles core modules only: "
                  "components cannot be precompiled yet (run the .wasm itself)",
                  in);
        rc = EXIT_BAD_MODULE;
        goto done;
    }
    whirl_config_t *config = whirl_config_new();
    if (!config) {
        cli_error("out of memory");
        rc = EXIT_BAD_MODULE;
        goto done;
    }
    /* The knobs that change code come from the environment as for `whirl
     * run`; -W/--debug-info here must match the run's configuration. */
    if (debug_info)
        whirl_config_debug_info_set(config, true);
    /* Native code in the file unless WHIRL_TIER=interp asks otherwise; a
     * build without the LLVM tier refuses the setting and writes the
     * interpreter's code only. */
    const char *tier = getenv("WHIRL_TIER");
    if (!tier || strcasecmp(tier, "interp") != 0)
        whirl_error_delete(whirl_config_tier_set(config, WHIRL_TIER_JIT));
    if ((err = whirl_engine_new(config, &engine))) {
        cli_error("cannot create engine: %s", whirl_error_message(err));
        rc = EXIT_BAD_MODULE;
        goto done;
    }
    if ((err = whirl_module_new(engine, data, len, &module))) {
        cli_report_module_error(in, data, len, err);
        rc = EXIT_BAD_MODULE;
        goto done;
    }
    if ((err = whirl_module_serialize(module, &bytes, &nbytes))) {
        cli_error("%s: %s", in, whirl_error_message(err));
        rc = EXIT_BAD_MODULE;
        goto done;
    }
    rc = write_file_atomically(out, bytes, nbytes);
done:
    whirl_error_delete(err);
    free(bytes);
    whirl_module_delete(module);
    whirl_engine_delete(engine);
    free(data);
    free(def);
    return rc;
}

/* The cache directory `whirl cache` and `whirl run --cache` use: --dir,
 * else WHIRL_CACHE, else the default. *owned is set if malloc'd. */
static const char *cache_dir(const char *given, char **owned)
{
    *owned = NULL;
    if (given && *given)
        return given;
    const char *env = getenv("WHIRL_CACHE");
    if (env && *env)
        return env;
    whirl_error_t *err = whirl_cache_default_dir(owned);
    if (err) {
        cli_error("%s (use --dir DIR)", whirl_error_message(err));
        whirl_error_delete(err);
        return NULL;
    }
    return *owned;
}

whirl_error_t *cli_enable_cache(whirl_config_t *config, const char *dir)
{
    char *owned;
    const char *d = cache_dir(dir, &owned);
    if (!d)
        return whirl_error_new("no cache directory");
    whirl_error_t *err = whirl_config_enable_cache(config, d);
    free(owned);
    return err;
}

enum { CACHE_HELP, CACHE_DIR };

static const cli_option_t cache_options[] = {
    {CACHE_DIR, 0, "dir", CLI_REQUIRED_ARG, "DIR",
     "The cache directory (default: $WHIRL_CACHE, else\n$XDG_CACHE_HOME/whirl or ~/.cache/whirl)."},
    {CACHE_HELP, 'h', "help", CLI_NO_ARG, NULL, "Show this help."},
};

int cli_cmd_cache(int argc, char **argv)
{
    const char *sub = NULL, *dir = NULL;
    cli_args_t a;
    cli_args_init(&a, "cache", cache_options, CLI_COUNT(cache_options), argc, argv);
    for (int id; (id = cli_args_next(&a)) != CLI_ARGS_END;) {
        switch (id) {
        case CLI_ARGS_ERROR: return EXIT_USAGE;
        case CACHE_HELP:
            fputs("Usage: whirl cache stats|clear [--dir DIR]\n\n"
                  "Show or empty the compilation cache (`whirl run -C cache` fills it).\n\n"
                  "Options:\n",
                  stdout);
            cli_options_help(stdout, cache_options, CLI_COUNT(cache_options));
            return EXIT_OK;
        case CACHE_DIR: dir = a.value; break;
        case CLI_ARGS_POSITIONAL:
            if (sub)
                return cli_usage_error("cache: unexpected argument '%s'", a.value);
            sub = a.value;
            break;
        }
    }
    if (!sub)
        return cli_usage_error("cache: missing subcommand (stats or clear)");
    bool stats = strcmp(sub, "stats") == 0;
    if (!stats && strcmp(sub, "clear") != 0)
        return cli_usage_error("cache: unknown subcommand '%s' (stats or clear)", sub);
    char *owned;
    const char *d = cache_dir(dir, &owned);
    if (!d)
        return EXIT_USAGE;
    int rc = EXIT_OK;
    whirl_error_t *err;
    if (stats) {
        whirl_cache_stats_t st;
        if ((err = whirl_cache_stats(d, &st))) {
            cli_error("%s", whirl_error_message(err));
            whirl_error_delete(err);
            rc = EXIT_IO;
        } else {
            printf("directory  %s\n", d);
            printf("entries    %llu\n", (unsigned long long)st.entries);
            printf("bytes      %llu\n", (unsigned long long)st.bytes);
            printf("hits       %llu\n", (unsigned long long)st.hits);
            printf("misses     %llu\n", (unsigned long long)st.misses);
            printf("invalid    %llu\n", (unsigned long long)st.invalid);
            printf("evictions  %llu\n", (unsigned long long)st.evictions);
        }
    } else if ((err = whirl_cache_clear(d))) {
        cli_error("%s", whirl_error_message(err));
        whirl_error_delete(err);
        rc = EXIT_IO;
    } else {
        printf("cleared %s\n", d);
    }
    free(owned);
    return rc;
}
