/* Hosting options of the `whirl` command, in wasmtime's spelling (-W
 * NAME=VALUE), and the `whirl config` command. Self-contained over the
 * public API so that run.c and main.c only need to call in:
 *
 *   cli_hosting_t h;  cli_hosting_init(&h);
 *   for each "-W VALUE":  switch (cli_hosting_parse(&h, VALUE, why, sizeof why)) ...
 *   cli_hosting_configure(&h, config);          before whirl_engine_new
 *   cli_hosting_apply(&h, store);               right before running the guest
 *   cli_hosting_deadline_reached(&h, err)       to pick the exit status of a trap
 */
#ifndef WHIRL_CLI_HOSTING_H
#define WHIRL_CLI_HOSTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "whirl.h"

/* Most engine knobs an -W/-O option sets at once: more -W options than
 * this are refused. */
#define CLI_HOSTING_MAX_KNOBS 32

typedef struct cli_hosting {
    uint64_t timeout_ns;         /* -W timeout; 0: none */
    uint64_t max_memory_size;    /* -W max-memory-size; WHIRL_NO_LIMIT: none */
    uint64_t max_table_elements; /* -W max-table-elements; WHIRL_NO_LIMIT: none */
    int pooling;                 /* -W pooling, -O pooling-allocator; -1: engine default */
    uint32_t max_open_files;     /* -W max-open-files, for the WASI hosts; 0: their default */
    /* Engine knobs set by name (-W max-wasm-stack, -W total-memories,
     * -O pooling-total-memories, ...), applied with whirl_config_set. The
     * value is copied: `arg` may be a temporary. */
    struct {
        const char *knob; /* the engine's name, static */
        char value[64];
    } knobs[CLI_HOSTING_MAX_KNOBS];
    size_t nknobs;
} cli_hosting_t;

void cli_hosting_init(cli_hosting_t *h);

/* Parses the argument of one -W option: one or more NAME[=VALUE] items
 * separated by commas ("timeout=50ms", "pooling=n,max-memory-size=1M").
 * Returns 1 if every item is a hosting option with a valid value, 0 if an
 * item's name is none of them (the caller may know it; `why` names it), -1
 * if a value is invalid: `why` then holds the message ("invalid value 'x'
 * for -W timeout: ..."). cli_hosting_parse_group does the same for the
 * group -O (wasmtime's pooling-* names) and -C (the engine knobs among the
 * compilation options: tier=auto|interp|jit). */
int cli_hosting_parse(cli_hosting_t *h, const char *arg, char *why, size_t why_len);
int cli_hosting_parse_group(cli_hosting_t *h, char group, const char *arg, char *why,
                            size_t why_len);

/* Lists the names -W or -O takes, with their help (`-W help`). */
void cli_hosting_help(FILE *f, char group);

/* Applies the engine-wide options (pooling, the knobs) to `config`. */
whirl_error_t *cli_hosting_configure(const cli_hosting_t *h, whirl_config_t *config);

/* Applies the store limits and sets the deadline to now + timeout. Fails if
 * a timeout is set but the engine runs no epoch ticker. */
whirl_error_t *cli_hosting_apply(const cli_hosting_t *h, whirl_store_t *store);

/* True if `err` is the interrupt trap of a -W timeout (exit status: the
 * lead's choice, distinct from other traps). */
bool cli_hosting_deadline_reached(const cli_hosting_t *h, const whirl_error_t *err);

/* The -W lines of the usage text. */
extern const char cli_hosting_usage[];

/* `whirl config [-W KNOB=VALUE]...`: prints every knob's effective value
 * and its source. Returns the process exit status (0, or 2 for a bad
 * option or environment value). */
int cli_config_command(int argc, char **argv);

#endif
