/* `whirl config`: every engine knob with its effective value and where the
 * value came from (default, derived default, the environment under whirl's
 * or Spin's name, an -W option, the address-space probe). */
#include <stdio.h>
#include <string.h>

#include "hosting.h"
#include "options.h"

static const char config_usage[] =
    "Usage: whirl config [-W KNOB=VALUE]...\n"
    "  Print every engine knob: its effective value, where the value comes from\n"
    "  and the environment variables that set it (whirl's name wins over\n"
    "  Spin's). -W sets a knob as the embedding API would (e.g. -W pooling=n,\n"
    "  -W total-memories=100) and shows the result.\n";

/* Prints `s` with control and non-ASCII bytes as \xNN: values come from the
 * environment and must not reach the terminal raw. */
static void put_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c >= 0x7f)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
}

static void print_error(const char *what, const whirl_error_t *err)
{
    fputs("error: ", stderr);
    if (what) {
        put_escaped(stderr, what);
        fputs(": ", stderr);
    }
    put_escaped(stderr, whirl_error_message(err));
    fputc('\n', stderr);
}

int cli_config_command(int argc, char **argv)
{
    whirl_config_t *config = whirl_config_new();
    if (!config) {
        fputs("error: out of memory\n", stderr);
        return 2;
    }
    whirl_error_t *err = whirl_config_load_env(config);
    if (err) {
        print_error(NULL, err);
        whirl_error_delete(err);
        whirl_config_delete(config);
        return 2;
    }
    static const cli_option_t options[] = {
        {0, 'W', NULL, CLI_REQUIRED_ARG, "KNOB=VALUE", "Set a knob."},
        {1, 'h', "help", CLI_NO_ARG, NULL, "Show this help."},
    };
    cli_args_t a;
    cli_args_init(&a, "config", options, CLI_COUNT(options), argc, argv);
    for (int id; (id = cli_args_next(&a)) != CLI_ARGS_END;) {
        if (id == 1) {
            fputs(config_usage, stdout);
            whirl_config_delete(config);
            return 0;
        }
        const char *eq = id == 0 ? strchr(a.value, '=') : NULL;
        if (!eq) {
            if (id != CLI_ARGS_ERROR) {
                fputs("error: config: expected -W KNOB=VALUE, got '", stderr);
                put_escaped(stderr, a.value);
                fputs("'\nRun `whirl config --help` for usage.\n", stderr);
            }
            whirl_config_delete(config);
            return 2;
        }
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(eq - a.value), a.value);
        if ((err = whirl_config_set(config, name, eq + 1))) {
            print_error("config", err);
            whirl_error_delete(err);
            whirl_config_delete(config);
            return 2;
        }
    }

    /* The engine resolves what the config alone cannot: whether the pool
     * can really be reserved. It reads no environment again: that was
     * loaded above, under the -W options. */
    whirl_config_use_env(config, false);
    whirl_engine_t *engine = NULL;
    if ((err = whirl_engine_new(config, &engine))) {
        print_error("cannot create an engine with this configuration", err);
        whirl_error_delete(err);
        return 2;
    }
    const whirl_config_t *eff = whirl_engine_config(engine);
    printf("%-28s %-20s %-34s %s\n", "KNOB", "VALUE", "SOURCE", "ENVIRONMENT");
    for (size_t i = 0; i < whirl_config_item_count(); i++) {
        whirl_config_item_t it;
        if (!whirl_config_item(eff, i, &it))
            continue;
        printf("%-28s ", it.name);
        put_escaped(stdout, it.value[0] ? it.value : "-");
        size_t len = strlen(it.value[0] ? it.value : "-");
        printf("%*s %-34s %s%s%s\n", len < 20 ? (int)(20 - len) : 0, "",
               strcmp(it.source, "api") == 0 ? "-W" : it.source, it.env,
               it.spin_env ? ", " : "", it.spin_env ? it.spin_env : "");
    }
    whirl_pool_stats_t st;
    whirl_engine_pool_stats(engine, &st);
    if (st.pooling)
        printf("\npooling allocator: on: %u memory, %u table, %u stack and %u instance slots; "
               "%u stores at once\n",
               st.memories_total, st.tables_total, st.stacks_total, st.core_instances_total,
               st.instances_total);
    else
        printf("\npooling allocator: off: memories are mapped on demand\n");
    whirl_engine_delete(engine);
    return 0;
}
