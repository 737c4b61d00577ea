/* How many host descriptors WASI guests may hold: one cap per guest and one
 * budget for all the guests of the process, shared by the preview-1 host
 * (src/wasi) and the WASI 0.2 host (src/wasi2), so that no guest, and no
 * set of guests, can take the descriptors the embedder needs (a server's
 * accept(2), say).
 *
 * The per-guest cap is whatever the embedder set
 * (whirl_wasi_config_set_max_open_files / whirl_wasi2_...), else
 * WHIRL_MAX_OPEN_FILES from the environment, else a quarter of the process's
 * RLIMIT_NOFILE soft limit, between 16 and 4096. The process budget is the
 * soft limit less an eighth of it (at least 64 descriptors are kept for the
 * embedder). Hitting either is EMFILE for the guest. */
#ifndef WHIRL_WASI_LIMITS_H
#define WHIRL_WASI_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

#include "whirl.h"

#define WASI_MAX_OPEN_FILES_ENV "WHIRL_MAX_OPEN_FILES"

enum {
    WASI_OPEN_FILES_MIN_DEFAULT = 16,   /* the default's floor */
    WASI_OPEN_FILES_MAX_DEFAULT = 4096, /* the default's ceiling */
    WASI_OPEN_FILES_LIMIT = 1000000,    /* the most a setting may ask for */
};

/* The default per-guest cap for the current RLIMIT_NOFILE. */
uint32_t wasi_default_max_open_files(void);

/* The per-guest cap of a new context: `configured` if nonzero, else the
 * environment's, else the default. Also refreshes the process budget from
 * RLIMIT_NOFILE. A bad environment value is an error naming the variable. */
whirl_error_t *wasi_resolve_max_open_files(uint32_t configured, uint32_t *out);

/* Takes one descriptor from the process budget (false: none left), and
 * gives one back. */
bool wasi_fd_budget_take(void);
/* Whether one is left now (for callers that answer EMFILE before opening). */
bool wasi_fd_budget_room(void);
void wasi_fd_budget_give(void);

#endif
