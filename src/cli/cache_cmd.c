/* `whirl compile` (precompile a module to a .cwasm file), `whirl cache
 * stats|clear` (the compilation cache directory), and the module loading
 * of `whirl run`, which takes a .wasm or a .cwasm alike. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

whirl_error_t *cli_module_load(whirl_engine_t *engine, const uint8_t *data, size_t len,
                               whirl_module_t **out)
{
    if (whirl_module_is_serialized(data, len))
        return whirl_module_deserialize(engine, data, len, out);
    return whirl_module_new(engine, data, len, out);
}

/* Writes `data` to `path` through a temporary file beside it, so that a
 * reader (a `whirl run` of the same file) never sees half a module. */
static int write_file_atomically(const char *path, const uint8_t *data, size_t len)
{
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!tmp) {
        cli_error("%s: %s", path, strerror(ENOMEM));
        return EXIT_IO;
    }
    snprintf(tmp, n, "%s.tmp-%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int err = fd < 0 ? errno : 0;
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

int cli_cmd_compile(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    bool debug_info = false, options_done = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!options_done && strcmp(a, "--") == 0) {
            options_done = true;
        } else if (!options_done && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            cli_usage(stdout);
            return EXIT_OK;
        } else if (!options_done && (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0)) {
            if (i + 1 >= argc)
                return cli_usage_error("compile: option %s needs a value", a);
            out = argv[++i];
        } else if (!options_done && strncmp(a, "--output=", 9) == 0) {
            out = a + 9;
        } else if (!options_done && strcmp(a, "--debug-info") == 0) {
            debug_info = true;
        } else if (!options_done && a[0] == '-' && a[1]) {
            return cli_usage_error("compile: unknown option '%s'", a);
        } else if (in) {
            return cli_usage_error("compile: more than one input ('%s' and '%s')", in, a);
        } else {
            in = a;
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

int cli_cmd_cache(int argc, char **argv)
{
    const char *sub = NULL, *dir = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cli_usage(stdout);
            return EXIT_OK;
        } else if (strcmp(a, "--dir") == 0) {
            if (i + 1 >= argc)
                return cli_usage_error("cache: option --dir needs a value");
            dir = argv[++i];
        } else if (strncmp(a, "--dir=", 6) == 0) {
            dir = a + 6;
        } else if (a[0] == '-') {
            return cli_usage_error("cache: unknown option '%s'", a);
        } else if (sub) {
            return cli_usage_error("cache: unexpected argument '%s'", a);
        } else {
            sub = a;
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
