/* The configuration shared by the preview-1 and WASI 0.2 hosts
 * (common_config.h). */
#define _GNU_SOURCE /* O_PATH, strndup */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wasi/common_config.h"
#include "wasi/limits.h"
#include "wasi/sandbox.h"

extern char **environ;

#define cfg_error whirl_error_newf

static whirl_error_t *oom(void)
{
    return whirl_error_new("WASI: out of memory");
}

void wasi_common_init(wasi_common_config_t *c)
{
    memset(c, 0, sizeof *c);
    c->stdio[0] = c->stdio[1] = c->stdio[2] = -1;
}

void wasi_strings_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void wasi_preopens_free(wasi_preopen_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i].own && p[i].fd >= 0)
            close(p[i].fd);
        free(p[i].name);
    }
    free(p);
}

void wasi_common_free(wasi_common_config_t *c)
{
    wasi_strings_free(c->argv, c->argc);
    wasi_strings_free(c->envp, c->envc);
    wasi_preopens_free(c->pre, c->npre);
    wasi_common_init(c);
}

/* Appends `s` (taken; NULL means allocation failed) to a string vector. */
static bool push_string(char ***v, size_t *n, size_t *cap, char *s)
{
    if (!s)
        return false;
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        char **nv = realloc(*v, ncap * sizeof *nv);
        if (!nv) {
            free(s);
            return false;
        }
        *v = nv;
        *cap = ncap;
    }
    (*v)[(*n)++] = s;
    return true;
}

whirl_error_t *wasi_common_push_arg(wasi_common_config_t *c, const char *arg)
{
    if (!c || !arg)
        return cfg_error("WASI: push_arg: NULL argument");
    return push_string(&c->argv, &c->argc, &c->argv_cap, strdup(arg)) ? NULL : oom();
}

whirl_error_t *wasi_common_push_env(wasi_common_config_t *c, const char *key, const char *value)
{
    if (!c || !key || !value)
        return cfg_error("WASI: push_env: NULL argument");
    size_t klen = strlen(key), vlen = strlen(value);
    if (klen == 0 || strchr(key, '='))
        return cfg_error("WASI: invalid environment variable name '%.200s' (must be non-empty "
                         "and contain no '=')", key);
    char *kv = malloc(klen + vlen + 2);
    if (!kv)
        return oom();
    memcpy(kv, key, klen);
    kv[klen] = '=';
    memcpy(kv + klen + 1, value, vlen + 1);
    for (size_t i = 0; i < c->envc; i++) {
        if (strncmp(c->envp[i], kv, klen + 1) == 0) {
            free(c->envp[i]);
            c->envp[i] = kv;
            return NULL;
        }
    }
    return push_string(&c->envp, &c->envc, &c->env_cap, kv) ? NULL : oom();
}

whirl_error_t *wasi_common_inherit_env(wasi_common_config_t *c)
{
    if (!c)
        return cfg_error("WASI: inherit_env: NULL config");
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || eq == *e)
            continue;
        char *key = strndup(*e, (size_t)(eq - *e));
        if (!key)
            return oom();
        whirl_error_t *err = wasi_common_push_env(c, key, eq + 1);
        free(key);
        if (err)
            return err;
    }
    return NULL;
}

whirl_error_t *wasi_common_set_stdio(wasi_common_config_t *c, int in, int out, int err)
{
    if (!c)
        return cfg_error("WASI: set_stdio: NULL config");
    int fds[3] = {in, out, err};
    for (int i = 0; i < 3; i++)
        if (fds[i] < -1 || (fds[i] >= 0 && fcntl(fds[i], F_GETFD) < 0))
            return cfg_error("WASI: stdio stream %d: host descriptor %d is not open", i, fds[i]);
    memcpy(c->stdio, fds, sizeof fds);
    return NULL;
}

whirl_error_t *wasi_common_add_preopen(wasi_common_config_t *c, wasi_preopen_t p)
{
    if (c->npre == c->pre_cap) {
        size_t ncap = c->pre_cap ? c->pre_cap * 2 : 4;
        wasi_preopen_t *n = realloc(c->pre, ncap * sizeof *n);
        if (!n) {
            if (p.own && p.fd >= 0)
                close(p.fd);
            free(p.name);
            return oom();
        }
        c->pre = n;
        c->pre_cap = ncap;
    }
    c->pre[c->npre++] = p;
    return NULL;
}

whirl_error_t *wasi_common_preopen_dir(wasi_common_config_t *c, const char *host_path,
                                       const char *guest_path, bool readonly)
{
    if (!c || !host_path)
        return cfg_error("WASI: preopen_dir: NULL argument");
    if (!guest_path)
        guest_path = host_path;
    if (!*guest_path || strlen(guest_path) > SANDBOX_MAX_PATH)
        return cfg_error("WASI: preopen_dir '%.200s': the guest path must have 1 to %d bytes",
                         host_path, SANDBOX_MAX_PATH);
    int fd = open(host_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 && errno == EACCES) /* searchable but not listable: still usable */
        fd = open(host_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return cfg_error("WASI: cannot pre-open directory '%.1000s': %s", host_path,
                         strerror(errno));
    wasi_preopen_t p = {.fd = fd, .own = true, .readonly = readonly, .name = strdup(guest_path)};
    if (!p.name) {
        close(fd);
        return oom();
    }
    return wasi_common_add_preopen(c, p);
}

whirl_error_t *wasi_common_set_max_open_files(wasi_common_config_t *c, uint32_t max)
{
    if (!c)
        return cfg_error("WASI: set_max_open_files: NULL config");
    if (max > WASI_OPEN_FILES_LIMIT)
        return cfg_error("WASI: max_open_files %u is more than %d", max, WASI_OPEN_FILES_LIMIT);
    c->max_open_files = max;
    return NULL;
}
