/* The descriptor caps of WASI guests (limits.h): per guest, and one budget
 * for every guest of the process. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "wasi/limits.h"

/* Descriptors held by all the guests of the process, and how many they may
 * hold (refreshed from RLIMIT_NOFILE whenever a context is created). */
static atomic_uint_fast64_t budget_used;
static atomic_uint_fast64_t budget_limit = UINT64_MAX;

static uint64_t soft_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return UINT64_MAX;
    return (uint64_t)rl.rlim_cur;
}

uint32_t wasi_default_max_open_files(void)
{
    uint64_t soft = soft_nofile();
    uint64_t n = soft == UINT64_MAX ? WASI_OPEN_FILES_MAX_DEFAULT : soft / 4;
    if (n < WASI_OPEN_FILES_MIN_DEFAULT)
        n = WASI_OPEN_FILES_MIN_DEFAULT;
    if (n > WASI_OPEN_FILES_MAX_DEFAULT)
        n = WASI_OPEN_FILES_MAX_DEFAULT;
    return (uint32_t)n;
}

static void refresh_budget(void)
{
    uint64_t soft = soft_nofile();
    uint64_t keep = soft / 8 < 64 ? 64 : soft / 8;
    atomic_store(&budget_limit, soft == UINT64_MAX ? UINT64_MAX : soft > keep ? soft - keep : 0);
}

whirl_error_t *wasi_resolve_max_open_files(uint32_t configured, uint32_t *out)
{
    refresh_budget();
    if (configured) {
        *out = configured;
        return NULL;
    }
    const char *text = getenv(WASI_MAX_OPEN_FILES_ENV);
    if (!text || !strcmp(text, "0")) {
        *out = wasi_default_max_open_files();
        return NULL;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end || errno || v > WASI_OPEN_FILES_LIMIT) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "invalid value \"%.64s\" in environment variable %s: expected a count "
                 "from 0 (the default) to %d", text, WASI_MAX_OPEN_FILES_ENV, WASI_OPEN_FILES_LIMIT);
        return whirl_error_new(msg);
    }
    *out = v ? (uint32_t)v : wasi_default_max_open_files();
    return NULL;
}

bool wasi_fd_budget_take(void)
{
    uint64_t limit = atomic_load(&budget_limit);
    if (atomic_fetch_add(&budget_used, 1) >= limit) {
        atomic_fetch_sub(&budget_used, 1);
        return false;
    }
    return true;
}

bool wasi_fd_budget_room(void)
{
    return atomic_load(&budget_used) < atomic_load(&budget_limit);
}

void wasi_fd_budget_give(void)
{
    atomic_fetch_sub(&budget_used, 1);
}
