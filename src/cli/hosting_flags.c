/* The hosting option groups of the `whirl` command, in wasmtime's spelling:
 * -W (limits of the guest and every engine knob by whirl's name, as
 * `whirl config -W` takes them) and -O (wasmtime's pooling-* names for the
 * same knobs). See hosting.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hosting.h"
#include "options.h"

const char cli_hosting_usage[] =
    "  -W timeout=DURATION    Trap with `interrupt` once the guest has run this long\n"
    "                         (e.g. 50ms, 10s, 1m30s; a number alone is seconds).\n"
    "  -W max-memory-size=BYTES\n"
    "                         Linear memory the guest may use across its memories\n"
    "                         (e.g. 65536, 64K, 16M); memory.grow past it returns -1.\n"
    "  -W max-table-elements=N, -W max-wasm-stack=BYTES, -W pooling=y|n, and every\n"
    "                         engine knob: `whirl run -W help` lists them.\n";

/* Where a hosting key goes: a field of cli_hosting_t, or an engine knob. */
enum {
    KEY_TIMEOUT = 1,
    KEY_MAX_MEMORY_SIZE,
    KEY_MAX_TABLE_ELEMENTS,
    KEY_POOLING,
    KEY_MAX_OPEN_FILES,
    KEY_KNOB, /* engine knob named by `knob_of` */
};

static const cli_group_key_t w_keys[] = {
    {KEY_TIMEOUT, "timeout", "DURATION",
     "Trap with `interrupt` once the guest has run this long\n"
     "(e.g. 50ms, 10s, 1m30s; a number alone is seconds; at most 24h)."},
    {KEY_MAX_MEMORY_SIZE, "max-memory-size", "BYTES",
     "Linear memory the guest may use across its memories\n"
     "(e.g. 65536, 64K, 16MiB); memory.grow past it returns -1."},
    {KEY_MAX_TABLE_ELEMENTS, "max-table-elements", "N",
     "Entries any one table may hold; table.grow past it returns -1."},
    {KEY_KNOB, "max-wasm-stack", "BYTES",
     "Guest stack per call into wasm (default 1M; 4K to 1G)."},
    {KEY_MAX_OPEN_FILES, "max-open-files", "N",
     "Descriptors the guest may hold at once (files, directories,\n"
     "accepted sockets; 1 to 1000000). Default: WHIRL_MAX_OPEN_FILES,\n"
     "else a quarter of the process's open-file limit (16 to 4096)."},
    {KEY_POOLING, "pooling", "[=y|n]",
     "Use the pooling allocator (default: when the address space\n"
     "allows it). Same as -O pooling-allocator."},
};

/* -O: wasmtime's names for the pool's knobs. */
static const struct {
    const char *name, *knob, *value_name;
} o_knobs[] = {
    {"pooling-total-component-instances", "instance_count", "N"},
    {"pooling-total-core-instances", "total_core_instances", "N"},
    {"pooling-total-memories", "total_memories", "N"},
    {"pooling-total-tables", "total_tables", "N"},
    {"pooling-total-stacks", "total_stacks", "N"},
    {"pooling-table-elements", "instance_table_elements", "N"},
    {"pooling-max-memory-size", "max_memory_size", "BYTES"},
    {"pooling-memory-keep-resident", "linear_memory_keep_resident", "BYTES"},
    {"pooling-table-keep-resident", "table_keep_resident", "BYTES"},
    {"pooling-max-unused-warm-slots", "max_unused_warm_slots", "N"},
    {"pooling-max-core-instance-size", "core_instance_size", "BYTES"},
    {"pooling-max-component-instance-size", "instance_size", "BYTES"},
    {"pooling-max-core-instances-per-component", "core_instance_count", "N"},
    {"pooling-max-memories-per-component", "instance_memories", "N"},
    {"pooling-max-tables-per-component", "instance_tables", "N"},
    {"pooling-max-memories-per-module", "max_memories_per_module", "N"},
    {"pooling-max-tables-per-module", "max_tables_per_module", "N"},
};

/* Engine knobs -W does not take by their own name: another option of the
 * command stands for them (max_memory_size would clash with the store
 * limit -W max-memory-size; -C, -D and -W pooling set the others). */
static bool knob_excluded_from_w(const char *knob)
{
    return !strcmp(knob, "max_memory_size") || !strcmp(knob, "cache") ||
           !strcmp(knob, "debug_info") || !strcmp(knob, "pooling") ||
           !strcmp(knob, "max_wasm_stack") ||
           !strcmp(knob, "max_open_files") || !strcmp(knob, "tier");
    /* tier_threshold stays a -W knob: it tunes, -C tier chooses. */
}

void cli_hosting_init(cli_hosting_t *h)
{
    memset(h, 0, sizeof *h);
    h->timeout_ns = 0;
    h->max_memory_size = WHIRL_NO_LIMIT;
    h->max_table_elements = WHIRL_NO_LIMIT;
    h->pooling = -1;
}

/* The engine knob called `name` ('-' for '_'), or NULL. The names are the
 * engine's own (static strings). */
static const char *engine_knob(const char *name)
{
    whirl_config_t *c = whirl_config_new();
    const char *found = NULL;
    for (size_t i = 0; c && !found && i < whirl_config_item_count(); i++) {
        whirl_config_item_t it;
        if (!whirl_config_item(c, i, &it))
            continue;
        size_t j = 0;
        while (it.name[j] && (name[j] == it.name[j] || (name[j] == '-' && it.name[j] == '_')))
            j++;
        if (!it.name[j] && !name[j])
            found = it.name;
    }
    whirl_config_delete(c);
    return found;
}

/* Checks `value` for `knob` as the engine will read it, then records it. */
static int set_knob(cli_hosting_t *h, char group, const char *name, const char *knob,
                    const char *value, char *why, size_t why_len)
{
    if (!value) {
        snprintf(why, why_len, "-%c %s needs a value (-%c %s=VALUE)", group, name, group, name);
        return -1;
    }
    whirl_config_t *c = whirl_config_new();
    whirl_error_t *err = c ? whirl_config_set(c, knob, value) : whirl_error_new("out of memory");
    whirl_config_delete(c);
    if (err) {
        /* The engine's message names the value and the knob. */
        snprintf(why, why_len, "-%c %s: %s", group, name, whirl_error_message(err));
        whirl_error_delete(err);
        return -1;
    }
    size_t i = 0;
    while (i < h->nknobs && strcmp(h->knobs[i].knob, knob) != 0)
        i++;
    if (i == CLI_HOSTING_MAX_KNOBS || strlen(value) >= sizeof h->knobs[i].value) {
        snprintf(why, why_len, "-%c %s: too many knobs or too long a value", group, name);
        return -1;
    }
    h->knobs[i].knob = knob;
    snprintf(h->knobs[i].value, sizeof h->knobs[i].value, "%s", value);
    if (i == h->nknobs)
        h->nknobs++;
    return 1;
}

static int parse_item(cli_hosting_t *h, char group, char *item, char *why, size_t why_len)
{
    const char *value;
    char name[256];
    snprintf(name, sizeof name, "%s", item);
    if (strchr(name, '='))
        *strchr(name, '=') = '\0';
    if (group == 'C') {
        /* -C tier=...: the compilation knobs that are engine knobs. */
        (void)cli_group_find(NULL, 0, item, &value);
        if (!strcmp(item, "tier"))
            return set_knob(h, 'C', item, "tier", value, why, why_len);
        snprintf(why, why_len, "unknown -C option '%s' (`-C help` lists them)", name);
        return 0;
    }
    if (group == 'O') {
        (void)cli_group_find(NULL, 0, item, &value);
        if (!strcmp(item, "pooling-allocator")) {
            int b = cli_parse_switch(value);
            if (b < 0) {
                snprintf(why, why_len, "invalid value '%s' for -O pooling-allocator: expected "
                                       "y or n", value);
                return -1;
            }
            h->pooling = b;
            return 1;
        }
        for (size_t i = 0; i < CLI_COUNT(o_knobs); i++)
            if (!strcmp(item, o_knobs[i].name))
                return set_knob(h, 'O', item, o_knobs[i].knob, value, why, why_len);
        snprintf(why, why_len, "unknown -O option '%s' (`-O help` lists them)", name);
        return 0;
    }
    const cli_group_key_t *key = cli_group_find(w_keys, CLI_COUNT(w_keys), item, &value);
    const char *v = value ? value : "";
    uint64_t n;
    whirl_error_t *err = NULL;
    switch (key ? key->id : KEY_KNOB) {
    case KEY_TIMEOUT:
        if (value && !(err = whirl_parse_duration(value, &n)) && n > 0 &&
            n <= 86400000000000ull) {
            h->timeout_ns = n;
            return 1;
        }
        snprintf(why, why_len, "invalid value '%s' for -W timeout: %s", v,
                 err ? whirl_error_message(err) : "expected a duration from 1ns to 24h");
        whirl_error_delete(err);
        return -1;
    case KEY_MAX_MEMORY_SIZE:
        if (value && !(err = whirl_parse_size(value, &n))) {
            h->max_memory_size = n;
            return 1;
        }
        snprintf(why, why_len, "invalid value '%s' for -W max-memory-size: %s", v,
                 err ? whirl_error_message(err) : "expected a byte count such as 16M");
        whirl_error_delete(err);
        return -1;
    case KEY_MAX_TABLE_ELEMENTS:
        if (value && *value && strspn(value, "0123456789") == strlen(value) &&
            strlen(value) < 20) {
            h->max_table_elements = strtoull(value, NULL, 10);
            return 1;
        }
        snprintf(why, why_len,
                 "invalid value '%s' for -W max-table-elements: expected a decimal count", v);
        return -1;
    case KEY_MAX_OPEN_FILES:
        if (value && *value && strspn(value, "0123456789") == strlen(value) &&
            strlen(value) <= 7 && strtoul(value, NULL, 10) >= 1 &&
            strtoul(value, NULL, 10) <= 1000000) {
            h->max_open_files = (uint32_t)strtoul(value, NULL, 10);
            return 1;
        }
        snprintf(why, why_len,
                 "invalid value '%s' for -W max-open-files: expected a count from 1 to 1000000", v);
        return -1;
    case KEY_POOLING: {
        int b = cli_parse_switch(value);
        if (b >= 0) {
            h->pooling = b;
            return 1;
        }
        snprintf(why, why_len, "invalid value '%s' for -W pooling: expected y or n", v);
        return -1;
    }
    default: {
        const char *knob = engine_knob(item);
        if (key)
            knob = "max_wasm_stack";
        else if (!knob || knob_excluded_from_w(knob)) {
            snprintf(why, why_len, "unknown -W option '%s' (`-W help` lists them)", name);
            return 0;
        }
        return set_knob(h, 'W', item, knob, value, why, why_len);
    }
    }
}

int cli_hosting_parse_group(cli_hosting_t *h, char group, const char *arg, char *why,
                            size_t why_len)
{
    const char *cursor = arg;
    char item[256];
    int rc = 0;
    while (cli_group_next(&cursor, item, sizeof item))
        if ((rc = parse_item(h, group, item, why, why_len)) != 1)
            return rc;
    if (rc == 0)
        snprintf(why, why_len, "-%c needs NAME[=VALUE] (`-%c help` lists them)", group, group);
    return rc == 0 ? -1 : rc;
}

int cli_hosting_parse(cli_hosting_t *h, const char *arg, char *why, size_t why_len)
{
    return cli_hosting_parse_group(h, 'W', arg, why, why_len);
}

void cli_hosting_help(FILE *f, char group)
{
    if (group == 'O') {
        fputs("-O: the pooling allocator, in wasmtime's names (each also an engine knob:\n"
              "`whirl config` shows its value and environment variable):\n",
              f);
        static const cli_group_key_t pooling = {
            0, "pooling-allocator", "[=y|n]", "Use the pooling allocator (same as -W pooling)."};
        cli_group_help(f, 'O', &pooling, 1);
        whirl_config_t *c = whirl_config_new();
        for (size_t i = 0; i < CLI_COUNT(o_knobs); i++) {
            const char *help = o_knobs[i].knob;
            for (size_t k = 0; c && k < whirl_config_item_count(); k++) {
                whirl_config_item_t it;
                if (whirl_config_item(c, k, &it) && !strcmp(it.name, o_knobs[i].knob))
                    help = it.description;
            }
            cli_group_key_t key = {0, o_knobs[i].name, o_knobs[i].value_name, help};
            cli_group_help(f, 'O', &key, 1);
        }
        whirl_config_delete(c);
        return;
    }
    fputs("-W: limits of the guest and the engine's knobs, as -W NAME=VALUE (several\n"
          "may be given at once: -W timeout=1s,max-memory-size=16M):\n",
          f);
    cli_group_help(f, 'W', w_keys, CLI_COUNT(w_keys));
    fputs("Engine knobs (as `whirl config` lists them, '-' for '_'; durations and sizes\n"
          "as above; the environment variable WHIRL_<NAME> sets the same):\n",
          f);
    whirl_config_t *c = whirl_config_new();
    for (size_t k = 0; c && k < whirl_config_item_count(); k++) {
        whirl_config_item_t it;
        if (!whirl_config_item(c, k, &it) || knob_excluded_from_w(it.name))
            continue;
        char name[64];
        snprintf(name, sizeof name, "%s", it.name);
        for (char *p = name; *p; p++)
            if (*p == '_')
                *p = '-';
        cli_group_key_t key = {0, name, "VALUE", it.description};
        cli_group_help(f, 'W', &key, 1);
    }
    whirl_config_delete(c);
}

whirl_error_t *cli_hosting_configure(const cli_hosting_t *h, whirl_config_t *config)
{
    if (h->pooling >= 0)
        whirl_config_pooling_set(config, h->pooling == 1);
    for (size_t i = 0; i < h->nknobs; i++) {
        whirl_error_t *err = whirl_config_set(config, h->knobs[i].knob, h->knobs[i].value);
        if (err)
            return err;
    }
    return NULL;
}

whirl_error_t *cli_hosting_apply(const cli_hosting_t *h, whirl_store_t *store)
{
    whirl_store_limits_set(store, h->max_memory_size, h->max_table_elements);
    if (h->timeout_ns)
        return whirl_store_set_deadline(store, whirl_monotonic_now() + h->timeout_ns);
    return NULL;
}

bool cli_hosting_deadline_reached(const cli_hosting_t *h, const whirl_error_t *err)
{
    whirl_trap_code_t code;
    return h->timeout_ns && err && whirl_error_is_trap(err, &code) &&
           code == WHIRL_TRAP_INTERRUPT;
}
