/* WASI context: configuration, the guest's descriptor table, and the binding
 * of the preview-1 functions to a linker. */
#define _GNU_SOURCE /* O_PATH, ppoll, accept4, utimensat flags */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wasi/common_config.h"
#include "wasi/internal.h"
#include "util/utf8.h"

#define wasi_error whirl_error_newf

/* ---- configuration: common_config.c, plus the stdio callbacks ---- */

struct whirl_wasi_config {
    wasi_common_config_t common;
    whirl_wasi_stream_fn_t io[3];
    void *io_env[3];
};

whirl_wasi_config_t *whirl_wasi_config_new(void)
{
    whirl_wasi_config_t *c = calloc(1, sizeof *c);
    if (c)
        wasi_common_init(&c->common);
    return c;
}

void whirl_wasi_config_delete(whirl_wasi_config_t *c)
{
    if (!c)
        return;
    wasi_common_free(&c->common);
    free(c);
}

whirl_error_t *whirl_wasi_config_push_arg(whirl_wasi_config_t *c, const char *arg)
{
    return wasi_common_push_arg(c ? &c->common : NULL, arg);
}

whirl_error_t *whirl_wasi_config_push_env(whirl_wasi_config_t *c, const char *key,
                                          const char *value)
{
    return wasi_common_push_env(c ? &c->common : NULL, key, value);
}

whirl_error_t *whirl_wasi_config_inherit_env(whirl_wasi_config_t *c)
{
    return wasi_common_inherit_env(c ? &c->common : NULL);
}

whirl_error_t *whirl_wasi_config_set_stdio(whirl_wasi_config_t *c, int in, int out, int err)
{
    whirl_error_t *e = wasi_common_set_stdio(c ? &c->common : NULL, in, out, err);
    if (!e)
        memset(c->io, 0, sizeof c->io);
    return e;
}

whirl_error_t *whirl_wasi_config_stdio_callback(whirl_wasi_config_t *c, int fd,
                                                whirl_wasi_stream_fn_t fn, void *env)
{
    if (!c || !fn)
        return wasi_error("WASI: stdio_callback: NULL argument");
    if (fd < 0 || fd > 2)
        return wasi_error("WASI: stdio_callback: fd %d is not a standard stream (0, 1 or 2)",
                          fd);
    c->common.stdio[fd] = -1;
    c->io[fd] = fn;
    c->io_env[fd] = env;
    return NULL;
}

void whirl_wasi_config_inherit_stdio(whirl_wasi_config_t *c)
{
    if (c)
        c->common.stdio[0] = 0, c->common.stdio[1] = 1, c->common.stdio[2] = 2;
}

whirl_error_t *whirl_wasi_config_preopen_dir(whirl_wasi_config_t *c, const char *host_path,
                                             const char *guest_path, uint32_t flags)
{
    if (c && host_path && (flags & ~WHIRL_WASI_DIR_READONLY))
        return wasi_error("WASI: preopen_dir '%.200s': unknown flags 0x%x", host_path, flags);
    return wasi_common_preopen_dir(c ? &c->common : NULL, host_path, guest_path,
                                   flags & WHIRL_WASI_DIR_READONLY);
}

whirl_error_t *whirl_wasi_config_preopen_socket(whirl_wasi_config_t *c, int host_fd)
{
    if (!c)
        return wasi_error("WASI: preopen_socket: NULL config");
    struct stat st;
    if (host_fd < 0 || fstat(host_fd, &st) != 0 || !S_ISSOCK(st.st_mode))
        return wasi_error("WASI: preopen_socket: host descriptor %d is not a socket", host_fd);
    /* accept4 on a blocking listener waits without bound when another
     * acceptor takes the connection between poll and accept: a guest would
     * outlive its deadline. Non-blocking, sock_accept waits in poll only. */
    int listening = 0;
    socklen_t len = sizeof listening;
    if (getsockopt(host_fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0)
        listening = 0;
    int fl = listening ? fcntl(host_fd, F_GETFL) : 0;
    if (fl < 0 || (listening && !(fl & O_NONBLOCK) &&
                   fcntl(host_fd, F_SETFL, fl | O_NONBLOCK) != 0))
        return wasi_error("WASI: preopen_socket: descriptor %d: %s", host_fd, strerror(errno));
    return wasi_common_add_preopen(&c->common, (wasi_preopen_t){.fd = host_fd, .socket = true});
}

whirl_error_t *whirl_wasi_config_set_max_open_files(whirl_wasi_config_t *c, uint32_t max)
{
    return wasi_common_set_max_open_files(c ? &c->common : NULL, max);
}

/* ---- the context ---- */

uint8_t wasi_filetype(mode_t mode)
{
    if (S_ISREG(mode))
        return WASI_FILETYPE_REGULAR_FILE;
    if (S_ISDIR(mode))
        return WASI_FILETYPE_DIRECTORY;
    if (S_ISLNK(mode))
        return WASI_FILETYPE_SYMBOLIC_LINK;
    if (S_ISCHR(mode))
        return WASI_FILETYPE_CHARACTER_DEVICE;
    if (S_ISBLK(mode))
        return WASI_FILETYPE_BLOCK_DEVICE;
    return WASI_FILETYPE_UNKNOWN; /* fifos have no WASI type */
}

static uint8_t socket_filetype(int fd)
{
    int type = 0;
    socklen_t len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_DGRAM)
        return WASI_FILETYPE_SOCKET_DGRAM;
    return WASI_FILETYPE_SOCKET_STREAM;
}

/* What a directory may do. Programs built on wasi-libc ask for the rights of
 * the files they open from a directory's inheriting rights (every right but
 * those the open mode excludes), so these must be generous; read-only
 * pre-opens are enforced per operation (EPERM). */
#define DIR_BASE_RIGHTS \
    (WASI_RIGHT(WASI_RIGHT_PATH_CREATE_DIRECTORY) | WASI_RIGHT(WASI_RIGHT_PATH_CREATE_FILE) | \
     WASI_RIGHT(WASI_RIGHT_PATH_LINK_SOURCE) | WASI_RIGHT(WASI_RIGHT_PATH_LINK_TARGET) | \
     WASI_RIGHT(WASI_RIGHT_PATH_OPEN) | WASI_RIGHT(WASI_RIGHT_FD_READDIR) | \
     WASI_RIGHT(WASI_RIGHT_PATH_READLINK) | WASI_RIGHT(WASI_RIGHT_PATH_RENAME_SOURCE) | \
     WASI_RIGHT(WASI_RIGHT_PATH_RENAME_TARGET) | WASI_RIGHT(WASI_RIGHT_PATH_SYMLINK) | \
     WASI_RIGHT(WASI_RIGHT_PATH_REMOVE_DIRECTORY) | WASI_RIGHT(WASI_RIGHT_PATH_UNLINK_FILE) | \
     WASI_RIGHT(WASI_RIGHT_PATH_FILESTAT_GET) | WASI_RIGHT(WASI_RIGHT_PATH_FILESTAT_SET_TIMES) | \
     WASI_RIGHT(WASI_RIGHT_PATH_FILESTAT_SET_SIZE) | \
     WASI_RIGHT(WASI_RIGHT_FD_FILESTAT_GET) | WASI_RIGHT(WASI_RIGHT_FD_FILESTAT_SET_TIMES))
#define DIR_INHERITING_RIGHTS \
    (DIR_BASE_RIGHTS | WASI_RIGHT(WASI_RIGHT_FD_DATASYNC) | WASI_RIGHT(WASI_RIGHT_FD_READ) | \
     WASI_RIGHT(WASI_RIGHT_FD_SEEK) | WASI_RIGHT(WASI_RIGHT_FD_FDSTAT_SET_FLAGS) | \
     WASI_RIGHT(WASI_RIGHT_FD_SYNC) | WASI_RIGHT(WASI_RIGHT_FD_TELL) | \
     WASI_RIGHT(WASI_RIGHT_FD_WRITE) | WASI_RIGHT(WASI_RIGHT_FD_ADVISE) | \
     WASI_RIGHT(WASI_RIGHT_FD_ALLOCATE) | WASI_RIGHT(WASI_RIGHT_FD_FILESTAT_SET_SIZE) | \
     WASI_RIGHT(WASI_RIGHT_POLL_FD_READWRITE))

uint64_t wasi_fd_base_rights(const wasi_fd_t *f)
{
    uint64_t r;
    switch (f->kind) {
    case WASI_FD_DIR:
        r = DIR_BASE_RIGHTS;
        break;
    case WASI_FD_STDIO:
    case WASI_FD_SOCKET:
        r = WASI_RIGHT(WASI_RIGHT_FD_READ) | WASI_RIGHT(WASI_RIGHT_FD_WRITE) |
            WASI_RIGHT(WASI_RIGHT_FD_FDSTAT_SET_FLAGS) | WASI_RIGHT(WASI_RIGHT_FD_FILESTAT_GET) |
            WASI_RIGHT(WASI_RIGHT_POLL_FD_READWRITE);
        if (f->kind == WASI_FD_SOCKET)
            r |= WASI_RIGHT(WASI_RIGHT_SOCK_SHUTDOWN) | WASI_RIGHT(WASI_RIGHT_SOCK_ACCEPT);
        break;
    default:
        r = WASI_RIGHTS_ALL;
        break;
    }
    if (!f->can_read)
        r &= ~(WASI_RIGHT(WASI_RIGHT_FD_READ) | WASI_RIGHT(WASI_RIGHT_FD_READDIR));
    if (!f->can_write && f->kind != WASI_FD_DIR)
        r &= ~WASI_RIGHT(WASI_RIGHT_FD_WRITE);
    return r & ~f->dropped;
}

uint64_t wasi_fd_inheriting_rights(const wasi_fd_t *f)
{
    if (f->kind == WASI_FD_DIR)
        return DIR_INHERITING_RIGHTS & ~f->dropped_inheriting;
    return wasi_fd_base_rights(f) & ~f->dropped_inheriting;
}

wasi_fd_t *wasi_fd_get(whirl_wasi_t *w, uint32_t fd)
{
    if (fd >= w->nfds || w->fds[fd].kind == WASI_FD_FREE)
        return NULL;
    return &w->fds[fd];
}

uint32_t wasi_fd_add(whirl_wasi_t *w, const wasi_fd_t *f, uint32_t *out)
{
    uint32_t i = 0;
    while (i < w->nfds && w->fds[i].kind != WASI_FD_FREE)
        i++;
    if (i == w->nfds) {
        if (w->nfds >= WASI_MAX_FDS)
            return WASI_EMFILE;
        uint32_t ncap = w->nfds ? w->nfds * 2 : 16;
        if (ncap > WASI_MAX_FDS)
            ncap = WASI_MAX_FDS;
        wasi_fd_t *n = realloc(w->fds, ncap * sizeof *n);
        if (!n)
            return WASI_ENOMEM;
        memset(n + w->nfds, 0, (ncap - w->nfds) * sizeof *n);
        w->fds = n;
        w->nfds = ncap;
    }
    w->fds[i] = *f;
    w->open++;
    if (f->counted)
        w->guest_open++;
    *out = i;
    return 0;
}

uint32_t wasi_fd_reserve(whirl_wasi_t *w)
{
    if (w->guest_open >= w->max_open || !wasi_fd_budget_take())
        return WASI_EMFILE;
    return 0;
}

void wasi_fd_unreserve(whirl_wasi_t *w)
{
    (void)w;
    wasi_fd_budget_give();
}

void wasi_fd_release(whirl_wasi_t *w, wasi_fd_t *f)
{
    if (f->kind == WASI_FD_FREE)
        return;
    if (f->own && f->host >= 0)
        close(f->host);
    if (f->counted) {
        w->guest_open--;
        wasi_fd_budget_give();
    }
    free(f->preopen);
    memset(f, 0, sizeof *f);
    f->kind = WASI_FD_FREE;
    w->open--;
}

whirl_error_t *whirl_wasi_new(whirl_wasi_config_t *c, whirl_wasi_t **out)
{
    if (!out) {
        whirl_wasi_config_delete(c);
        return wasi_error("WASI: whirl_wasi_new: NULL out");
    }
    *out = NULL;
    if (!c)
        return wasi_error("WASI: whirl_wasi_new: NULL config");
    whirl_wasi_t *w = calloc(1, sizeof *w);
    if (!w) {
        whirl_wasi_config_delete(c);
        return wasi_error("WASI: out of memory");
    }
    w->wake_fd = -1;
    atomic_init(&w->interrupted, false);
    pthread_mutex_init(&w->call_lock, NULL);
    atomic_init(&w->threaded, false);
    whirl_error_t *err = NULL;

    /* The sizes the guest reads back are u32: refuse what cannot be told. */
    size_t bytes = 0;
    for (size_t i = 0; i < c->common.argc; i++)
        bytes += strlen(c->common.argv[i]) + 1;
    w->argv_bytes = bytes;
    bytes = 0;
    for (size_t i = 0; i < c->common.envc; i++)
        bytes += strlen(c->common.envp[i]) + 1;
    w->env_bytes = bytes;
    if (w->argv_bytes > UINT32_MAX / 2 || w->env_bytes > UINT32_MAX / 2 ||
        c->common.argc > UINT32_MAX / 8 || c->common.envc > UINT32_MAX / 8) {
        err = wasi_error("WASI: arguments or environment too large");
        goto fail;
    }
    w->argv = c->common.argv, w->argc = c->common.argc;
    w->envp = c->common.envp, w->envc = c->common.envc;
    c->common.argv = NULL, c->common.argc = 0;
    c->common.envp = NULL, c->common.envc = 0;

    if ((err = wasi_resolve_max_open_files(c->common.max_open_files, &w->max_open)))
        goto fail;
    w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (w->wake_fd < 0) {
        err = wasi_error("WASI: eventfd: %s", strerror(errno));
        goto fail;
    }
    for (int i = 0; i < 3; i++) {
        wasi_fd_t f = {.kind = WASI_FD_STDIO, .host = c->common.stdio[i], .can_read = i == 0,
                       .can_write = i != 0, .filetype = WASI_FILETYPE_UNKNOWN,
                       .io = c->io[i], .io_env = c->io_env[i],
                       .host_kind = wasi_host_kind(c->common.stdio[i])};
        struct stat st;
        if (f.host >= 0 && fstat(f.host, &st) == 0) {
            if (S_ISSOCK(st.st_mode))
                f.filetype = socket_filetype(f.host);
            else if (isatty(f.host))
                f.filetype = WASI_FILETYPE_CHARACTER_DEVICE;
        }
        uint32_t got;
        if (wasi_fd_add(w, &f, &got) != 0) {
            err = wasi_error("WASI: out of memory");
            goto fail;
        }
    }
    for (size_t i = 0; i < c->common.npre; i++) {
        wasi_preopen_t *p = &c->common.pre[i];
        wasi_fd_t f = {.host = p->fd, .own = p->own, .readonly = p->readonly};
        if (p->socket) {
            f.kind = WASI_FD_SOCKET;
            f.host_kind = WASI_HOST_SOCKET;
            f.filetype = socket_filetype(p->fd);
            f.can_read = f.can_write = true;
        } else {
            f.kind = WASI_FD_DIR;
            f.filetype = WASI_FILETYPE_DIRECTORY;
            f.can_read = true;
            f.preopen = p->name;
            f.preopen_len = strlen(p->name);
        }
        uint32_t got;
        if (wasi_fd_add(w, &f, &got) != 0) {
            err = wasi_error("WASI: out of memory");
            goto fail;
        }
        p->own = false; /* now the context's */
        p->name = NULL;
    }
    whirl_wasi_config_delete(c);
    *out = w;
    return NULL;
fail:
    whirl_wasi_config_delete(c);
    whirl_wasi_delete(w);
    return err;
}

void whirl_wasi_delete(whirl_wasi_t *w)
{
    if (!w)
        return;
    for (uint32_t i = 0; i < w->nfds; i++)
        wasi_fd_release(w, &w->fds[i]);
    free(w->fds);
    wasi_strings_free(w->argv, w->argc);
    wasi_strings_free(w->envp, w->envc);
    if (w->wake_fd >= 0)
        close(w->wake_fd);
    pthread_mutex_destroy(&w->call_lock);
    free(w);
}

void whirl_wasi_set_threaded(whirl_wasi_t *w)
{
    if (w)
        atomic_store_explicit(&w->threaded, true, memory_order_release);
}

void whirl_wasi_interrupt(whirl_wasi_t *w)
{
    if (!w)
        return;
    atomic_store(&w->interrupted, true);
    uint64_t one = 1;
    /* Non-blocking eventfd: a full counter already means "woken". */
    ssize_t n = write(w->wake_fd, &one, sizeof one);
    (void)n;
}

/* ---- guest memory ---- */

bool mem_put32(const wasi_mem_t *m, uint32_t ptr, uint32_t v)
{
    if (!mem_ok(m, ptr, 4))
        return false;
    st32(mem_at(m, ptr), v);
    return true;
}

bool mem_put64(const wasi_mem_t *m, uint32_t ptr, uint64_t v)
{
    if (!mem_ok(m, ptr, 8))
        return false;
    st64(mem_at(m, ptr), v);
    return true;
}

uint32_t mem_path(const wasi_mem_t *m, uint32_t ptr, uint32_t len, char *buf)
{
    if (!mem_ok(m, ptr, len))
        return WASI_EFAULT;
    if (len > WASI_MAX_PATH)
        return WASI_ENAMETOOLONG;
    const uint8_t *p = mem_at(m, ptr);
    if (memchr(p, 0, len))
        return WASI_EINVAL;
    if (!utf8_valid(p, len))
        return WASI_EILSEQ;
    memcpy(buf, p, len);
    buf[len] = '\0';
    return 0;
}

/* ---- linker binding ---- */

typedef struct wasi_def {
    const char *name;
    const char *params; /* 'i' = i32, 'I' = i64 */
    int nresults;       /* 0 (proc_exit) or 1: the errno */
    bool needs_memory;
    wasi_fn_t fn;
} wasi_def_t;

#define WASI_DEF(n, p, r, m) {#n, p, r, m, wasi_##n},
static const wasi_def_t wasi_defs[] = {WASI_FUNCS(WASI_DEF)};
#undef WASI_DEF

typedef struct wasi_binding {
    whirl_wasi_t *wasi;         /* NULL: found per call through lookup */
    whirl_wasi_lookup_t lookup;
    void *lookup_env;
    const wasi_def_t *def;
} wasi_binding_t;

static whirl_error_t *wasi_trampoline(void *env, whirl_caller_t *caller, const whirl_val_t *args,
                                      size_t nargs, whirl_val_t *results, size_t nresults)
{
    const wasi_binding_t *b = env;
    const wasi_def_t *d = b->def;
    if (nargs != strlen(d->params) || nresults != (size_t)d->nresults)
        return wasi_error("WASI %s: called with %zu arguments and %zu results", d->name, nargs,
                          nresults);
    wasi_call_t c = {.w = b->wasi, .args = args, .store = whirl_caller_store(caller)};
    if (!c.w && !(c.w = b->lookup(b->lookup_env, c.store)))
        return wasi_error("WASI %s: the calling store has no WASI context", d->name);
    if (d->needs_memory) {
        whirl_extern_t ext;
        if (!whirl_caller_export(caller, "memory", 6, &ext) || ext.kind != WHIRL_EXTERN_MEMORY)
            return wasi_error("WASI %s: the calling module exports no memory named \"memory\"",
                              d->name);
        c.mem.base = whirl_memory_data(ext.of.memory);
        c.mem.size = whirl_memory_data_size(ext.of.memory);
    }
    bool threaded = atomic_load_explicit(&c.w->threaded, memory_order_acquire);
    if (threaded)
        pthread_mutex_lock(&c.w->call_lock);
    uint32_t e = d->fn(&c);
    if (threaded)
        pthread_mutex_unlock(&c.w->call_lock);
    if (c.exit)
        return c.exit;
    if (nresults) {
        results[0].kind = WHIRL_I32;
        results[0].of.i32 = (int32_t)e;
    }
    return NULL;
}

static whirl_error_t *define_wasi(whirl_linker_t *linker, whirl_wasi_t *wasi,
                                  whirl_wasi_lookup_t lookup, void *lookup_env)
{
    for (size_t i = 0; i < sizeof wasi_defs / sizeof wasi_defs[0]; i++) {
        const wasi_def_t *d = &wasi_defs[i];
        whirl_valkind_t params[16];
        size_t np = strlen(d->params);
        for (size_t k = 0; k < np; k++)
            params[k] = d->params[k] == 'I' ? WHIRL_I64 : WHIRL_I32;
        whirl_valkind_t result = WHIRL_I32;
        whirl_functype_t *type = whirl_functype_new(params, np, &result, (size_t)d->nresults);
        wasi_binding_t *b = malloc(sizeof *b);
        if (!type || !b) {
            whirl_functype_delete(type);
            free(b);
            return wasi_error("WASI: out of memory");
        }
        b->wasi = wasi;
        b->lookup = lookup;
        b->lookup_env = lookup_env;
        b->def = d;
        whirl_error_t *err = whirl_linker_define_func(linker, "wasi_snapshot_preview1", d->name,
                                                      type, wasi_trampoline, b, free);
        whirl_functype_delete(type);
        if (err) {
            free(b);
            return err;
        }
    }
    return NULL;
}

whirl_error_t *whirl_linker_define_wasi(whirl_linker_t *linker, whirl_wasi_t *wasi)
{
    if (!linker || !wasi)
        return wasi_error("WASI: whirl_linker_define_wasi: NULL argument");
    return define_wasi(linker, wasi, NULL, NULL);
}

whirl_error_t *whirl_linker_define_wasi_lookup(whirl_linker_t *linker,
                                               whirl_wasi_lookup_t lookup, void *env)
{
    if (!linker || !lookup)
        return wasi_error("WASI: whirl_linker_define_wasi_lookup: NULL argument");
    return define_wasi(linker, NULL, lookup, env);
}
