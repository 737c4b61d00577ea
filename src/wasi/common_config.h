/* The configuration both WASI hosts share: arguments, environment, standard
 * streams, pre-opened directories and the descriptor cap. The public
 * whirl_wasi_config_* (whirl/wasi.h) and whirl_wasi2_config_* (whirl/wasi2.h)
 * functions are thin wrappers over these, so that the two hosts accept and
 * refuse exactly the same things with the same messages. */
#ifndef WHIRL_WASI_COMMON_CONFIG_H
#define WHIRL_WASI_COMMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "whirl.h"

typedef struct wasi_preopen {
    int fd;        /* host descriptor */
    bool own;      /* closed with the configuration or the context */
    bool socket;   /* a socket (preview 1 only); else a directory */
    bool readonly; /* the guest may change nothing beneath it */
    char *name;    /* guest path of a directory; NULL for a socket */
} wasi_preopen_t;

typedef struct wasi_common_config {
    char **argv;
    size_t argc, argv_cap;
    char **envp; /* "KEY=VALUE" */
    size_t envc, env_cap;
    int stdio[3]; /* host descriptors, borrowed; -1: none */
    wasi_preopen_t *pre;
    size_t npre, pre_cap;
    uint32_t max_open_files; /* 0: WHIRL_MAX_OPEN_FILES or the default (limits.h) */
} wasi_common_config_t;

void wasi_common_init(wasi_common_config_t *c);
/* Frees everything the configuration still holds (closing owned pre-opens). */
void wasi_common_free(wasi_common_config_t *c);
void wasi_strings_free(char **v, size_t n);
void wasi_preopens_free(wasi_preopen_t *p, size_t n);

whirl_error_t *wasi_common_push_arg(wasi_common_config_t *c, const char *arg);
whirl_error_t *wasi_common_push_env(wasi_common_config_t *c, const char *key, const char *value);
whirl_error_t *wasi_common_inherit_env(wasi_common_config_t *c);
whirl_error_t *wasi_common_set_stdio(wasi_common_config_t *c, int in, int out, int err);
/* Opens `host_path` now (a missing directory is reported here). */
whirl_error_t *wasi_common_preopen_dir(wasi_common_config_t *c, const char *host_path,
                                       const char *guest_path, bool readonly);
/* Appends `p`, whose descriptor and name it takes (freed even on failure). */
whirl_error_t *wasi_common_add_preopen(wasi_common_config_t *c, wasi_preopen_t p);
whirl_error_t *wasi_common_set_max_open_files(wasi_common_config_t *c, uint32_t max);

#endif
