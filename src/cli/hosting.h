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

#include "whirl.h"

typedef struct cli_hosting {
    uint64_t timeout_ns;         /* -W timeout; 0: none */
    uint64_t max_memory_size;    /* -W max-memory-size; WHIRL_NO_LIMIT: none */
    uint64_t max_table_elements; /* -W max-table-elements; WHIRL_NO_LIMIT: none */
    int pooling;                 /* -W pooling; -1: engine default */
} cli_hosting_t;

void cli_hosting_init(cli_hosting_t *h);

/* Parses the argument of one -W option ("timeout=50ms", "pooling=n",
 * "pooling"). Returns 1 if it is a hosting option with a valid value, 0 if
 * the name is none of them (the caller may know it), -1 if the value is
 * invalid: `why` then holds the message ("invalid value 'x' for -W timeout:
 * expected a duration such as 50ms, 10s or 1m"). */
int cli_hosting_parse(cli_hosting_t *h, const char *arg, char *why, size_t why_len);

/* Applies the engine-wide options (pooling) to `config`. */
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
