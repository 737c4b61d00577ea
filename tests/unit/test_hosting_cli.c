/* The CLI's hosting pieces (src/cli/hosting_flags.c, src/cli/config_cmd.c):
 * -W option parsing and application, and `whirl config`. They are compiled
 * into this test directly, so they are checked whether or not the command
 * wires them in yet. */
#include <fcntl.h>
#include <unistd.h>

#include "cli/config_cmd.c"
#include "cli/options.c"
#include "cli/hosting_flags.c"
#include "hosting_common.h"

static void test_parse(void)
{
    cli_hosting_t h;
    char why[256];
    cli_hosting_init(&h);
    CHECK(h.timeout_ns == 0 && h.max_memory_size == WHIRL_NO_LIMIT &&
          h.max_table_elements == WHIRL_NO_LIMIT && h.pooling == -1);
    static const struct {
        const char *arg;
        uint64_t ns;
    } durations[] = {
        {"timeout=50ms", 50000000ull}, {"timeout=10s", 10000000000ull},
        {"timeout=1.5s", 1500000000ull}, {"timeout=2m", 120000000000ull},
        {"timeout=3", 3000000000ull},   {"timeout=250us", 250000ull},
        {"timeout=0.5ms", 500000ull},  {"timeout=1h", 3600000000000ull},
    };
    for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++) {
        CHECK(cli_hosting_parse(&h, durations[i].arg, why, sizeof why) == 1);
        CHECK(h.timeout_ns == durations[i].ns);
    }
    const char *bad[] = {"timeout=0",      "timeout=",        "timeout",
                         "timeout=10 s",   "timeout=-1s",     "timeout=2d",
                         "timeout=25h",    "timeout=1.s",     "max-memory-size=",
                         "max-memory-size=1T", "max-memory-size=-5",
                         "max-table-elements=1k", "max-table-elements=x", "pooling=maybe"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = 0;
        CHECK(cli_hosting_parse(&h, bad[i], why, sizeof why) == -1);
        CHECK(strstr(why, "invalid value") && strstr(why, "-W "));
    }
    CHECK(cli_hosting_parse(&h, "timeout=abc", why, sizeof why) == -1 &&
          strstr(why, "'abc'") && strstr(why, "-W timeout"));
    CHECK(cli_hosting_parse(&h, "max-memory-size=10M", why, sizeof why) == 1 &&
          h.max_memory_size == 10u << 20);
    CHECK(cli_hosting_parse(&h, "max-memory-size=65536", why, sizeof why) == 1 &&
          h.max_memory_size == 65536);
    CHECK(cli_hosting_parse(&h, "max-table-elements=100", why, sizeof why) == 1 &&
          h.max_table_elements == 100);
    CHECK(cli_hosting_parse(&h, "pooling=n", why, sizeof why) == 1 && h.pooling == 0);
    CHECK(cli_hosting_parse(&h, "pooling", why, sizeof why) == 1 && h.pooling == 1);
    CHECK(cli_hosting_parse(&h, "pooling=no", why, sizeof why) == 1 && h.pooling == 0);
    CHECK(cli_hosting_parse(&h, "pooling=y", why, sizeof why) == 1 && h.pooling == 1);
    CHECK(cli_hosting_parse(&h, "unknown=1", why, sizeof why) == 0);
    CHECK(cli_hosting_parse(&h, "timeouts=1s", why, sizeof why) == 0);
    CHECK(strstr(cli_hosting_usage, "-W timeout=DURATION") != NULL);
}

static void test_apply(void)
{
    cli_hosting_t h;
    char why[256];
    cli_hosting_init(&h);
    cli_hosting_parse(&h, "pooling=n", why, sizeof why);
    cli_hosting_parse(&h, "max-memory-size=128K", why, sizeof why);
    cli_hosting_parse(&h, "max-table-elements=10", why, sizeof why);
    cli_hosting_parse(&h, "timeout=50ms", why, sizeof why);
    whirl_config_t *c = whirl_config_new();
    whirl_config_use_env(c, false);
    CHECK_OK(cli_hosting_configure(&h, c));
    whirl_engine_t *e = engine_of(c);
    CHECK(e && !whirl_engine_pooling(e));
    whirl_module_t *m = LOAD(e, M_MAIN);
    whirl_store_t *s = whirl_store_new(e, NULL, NULL);
    CHECK_OK(cli_hosting_apply(&h, s));
    CHECK(whirl_store_epoch_deadline(s) != WHIRL_EPOCH_DEADLINE_NEVER);
    whirl_instance_t *inst = instantiate(s, m);
    CHECK(call_i32(s, inst, "grow", 1, 1, 0) == 1);
    CHECK(call_i32(s, inst, "grow", 1, 1, 0) == -1); /* 128 KiB reached */
    CHECK(call_i32(s, inst, "tgrow", 1, 1, 0) == -1); /* 10 entries already */
    whirl_func_t *spin = export_of(inst, "spin").of.func;
    whirl_error_t *err = whirl_func_call(s, spin, NULL, 0, NULL, 0);
    CHECK(cli_hosting_deadline_reached(&h, err));
    whirl_error_delete(err);
    err = whirl_error_new("not a trap");
    CHECK(!cli_hosting_deadline_reached(&h, err));
    whirl_error_delete(err);
    whirl_store_delete(s);
    whirl_module_delete(m);
    whirl_engine_delete(e);

    /* A timeout needs the ticker. */
    c = test_config(false);
    e = engine_of(c);
    s = whirl_store_new(e, NULL, NULL);
    CHECK_ERR(cli_hosting_apply(&h, s), false, "epoch ticker");
    whirl_store_delete(s);
    whirl_engine_delete(e);
}

/* Runs `whirl config ARGS` with stdout and stderr captured into `out`. */
static int run_config(char **args, int nargs, char *out, size_t out_len)
{
    char path[] = "/tmp/whirl-config-test-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    dup2(fd, 1);
    dup2(fd, 2);
    int rc = cli_config_command(nargs, args);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, out, out_len - 1);
    out[n > 0 ? n : 0] = 0;
    close(fd);
    unlink(path);
    return rc;
}

/* The line of `knob` in the output, as "VALUE SOURCE" with single spaces. */
static const char *line_of(const char *out, const char *knob, char *buf, size_t len)
{
    size_t klen = strlen(knob);
    for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, knob, klen) == 0 && p[klen] == ' ') {
            size_t n = 0;
            bool space = false;
            for (const char *q = p + klen; *q && *q != '\n' && n + 1 < len; q++) {
                if (*q == ' ') {
                    space = n > 0;
                    continue;
                }
                if (space)
                    buf[n++] = ' ';
                space = false;
                buf[n++] = *q;
            }
            buf[n] = 0;
            return buf;
        }
    }
    return "";
}

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void test_config_command(void)
{
    static char out[16384];
    char line[512];
    setenv("WHIRL_TOTAL_TABLES", "7", 1);
    setenv("SPIN_WASMTIME_INSTANCE_MEMORIES", "5", 1);
    char *args[] = {"-W", "pooling=n", "-Wtotal-memories=3", "-W", "epoch_interval=0"};
    CHECK(run_config(args, 5, out, sizeof out) == 0);
    CHECK(starts(line_of(out, "total_tables", line, sizeof line), "7 env WHIRL_TOTAL_TABLES "));
    CHECK(starts(line_of(out, "instance_memories", line, sizeof line), "5 env SPIN_WASMTIME_INSTANCE_MEMORIES "));
    CHECK(starts(line_of(out, "total_memories", line, sizeof line), "3 -W "));
    CHECK(starts(line_of(out, "pooling", line, sizeof line), "n -W "));
    CHECK(starts(line_of(out, "total_core_instances", line, sizeof line), "4000 default (4 x max_instance_count) WHIRL_TOTAL_CORE_INSTANCES, "
                  "SPIN_WASMTIME_TOTAL_CORE_INSTANCES"));
    CHECK(starts(line_of(out, "cache", line, sizeof line), "- default WHIRL_CACHE"));
    CHECK(strstr(out, "pooling allocator: off") != NULL);
    unsetenv("WHIRL_TOTAL_TABLES");
    unsetenv("SPIN_WASMTIME_INSTANCE_MEMORIES");

    setenv("SPIN_WASMTIME_TOTAL_STACKS", "many", 1);
    CHECK(run_config(args, 0, out, sizeof out) == 2);
    CHECK(strstr(out, "SPIN_WASMTIME_TOTAL_STACKS") && strstr(out, "\"many\""));
    unsetenv("SPIN_WASMTIME_TOTAL_STACKS");
    char *bad[] = {"-W", "total_memories=lots"};
    CHECK(run_config(bad, 2, out, sizeof out) == 2 && strstr(out, "total_memories"));
    char *bad2[] = {"--frobnicate"};
    CHECK(run_config(bad2, 1, out, sizeof out) == 2 && strstr(out, "--frobnicate"));
    char *help[] = {"--help"};
    CHECK(run_config(help, 1, out, sizeof out) == 0 && strstr(out, "Usage: whirl config"));
}

int main(void)
{
    clear_env();
    test_parse();
    test_apply();
    test_config_command();
    return report();
}
