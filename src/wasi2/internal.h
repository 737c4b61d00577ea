/* WASI 0.2: shared definitions of the src/wasi2/ files.
 *
 * Like the preview-1 host, this is an ordinary embedder: it includes only
 * the public headers (whirl.h, whirl/component.h, whirl/wasi2.h) plus the
 * sandbox shared with src/wasi/ (wasi/sandbox.h). Every WASI function is a
 * component-linker host function: it receives its arguments as whirl_cval_t
 * trees and fills in its result the same way.
 *
 * Resources live in the context's object table: a guest handle's rep is an
 * index into it (1-based), and the kind of each slot is checked on every
 * use, so a rep can never be taken for an object of another kind.
 *
 * Files: ctx.c (configuration, object table, waiting, linking and the call
 * helpers), io.c (wasi:io error, poll, streams and the stream backends over
 * host descriptors), cli.c (wasi:cli, wasi:clocks, wasi:random), fs.c
 * (wasi:filesystem types and preopens). */
#ifndef WHIRL_WASI2_INTERNAL_H
#define WHIRL_WASI2_INTERNAL_H

#include <dirent.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "whirl.h"
#include "whirl/component.h"
#include "whirl/wasi2.h"
#include "wasi/common_config.h"
#include "wasi3/net_policy.h"

/* Bounds on host work and memory per context and per call. */
enum {
    W2_MAX_OBJECTS = 1u << 16,  /* live resources in one context */
    W2_MAX_IO = 4u << 20,       /* bytes moved by one read, write or splice */
    W2_MAX_BLOCKING_WRITE = 4096, /* contents of blocking-write-and-flush (the WIT limit) */
    W2_MAX_PATH = 4096,         /* bytes of a guest path (= SANDBOX_MAX_PATH) */
    W2_MAX_POLL = 1u << 16,     /* pollables in one poll call */
};

/* ---- objects ---- */

/* Kinds are whirl_wasi2_resource_t + 1; 0 is a free slot. */
#define W2_KIND(res) ((uint8_t)((res) + 1))
enum {
    W2_FREE = 0,
    W2_INPUT = W2_KIND(WHIRL_WASI2_INPUT_STREAM),
    W2_OUTPUT = W2_KIND(WHIRL_WASI2_OUTPUT_STREAM),
    W2_POLLABLE = W2_KIND(WHIRL_WASI2_POLLABLE),
    W2_ERROR = W2_KIND(WHIRL_WASI2_ERROR),
    W2_DESCRIPTOR = W2_KIND(WHIRL_WASI2_DESCRIPTOR),
    W2_DIRSTREAM = W2_KIND(WHIRL_WASI2_DIRECTORY_ENTRY_STREAM),
    W2_TERM_IN = W2_KIND(WHIRL_WASI2_TERMINAL_INPUT),
    W2_TERM_OUT = W2_KIND(WHIRL_WASI2_TERMINAL_OUTPUT),
    W2_TCP = W2_KIND(WHIRL_WASI2_TCP_SOCKET),
    W2_UDP = W2_KIND(WHIRL_WASI2_UDP_SOCKET),
};

/* A stream: host callbacks, either the embedder's or one of io.c's
 * backends over a host descriptor. `code` (backends only) receives the
 * host errno of a FAILED result, so that the error it becomes answers
 * filesystem-error-code. */
typedef struct w2_stream {
    const whirl_wasi2_stream_ops_t *ops;
    void *env;
    int *code; /* NULL for embedder streams */
} w2_stream_t;

typedef enum w2_poll_type {
    W2_POLL_READY,    /* always ready */
    W2_POLL_DEADLINE, /* ready from a monotonic time on */
    W2_POLL_STREAM,   /* a stream's readiness (subscribe) */
    W2_POLL_HOST,     /* embedder callbacks */
} w2_poll_type_t;

typedef struct w2_pollable {
    w2_poll_type_t type;
    uint64_t deadline;
    uint32_t parent; /* W2_POLL_STREAM: the stream's rep (it counts us as a child) */
    const whirl_wasi2_pollable_ops_t *ops;
    void *env;
} w2_pollable_t;

typedef struct w2_err {
    char *message;
    int code; /* host errno behind it, 0 if none */
} w2_err_t;

/* descriptor-flags bits (wasi:filesystem/types). */
enum {
    W2_DF_READ = 1, W2_DF_WRITE = 2, W2_DF_FILE_SYNC = 4, W2_DF_DATA_SYNC = 8,
    W2_DF_REQUESTED_SYNC = 16, W2_DF_MUTATE_DIR = 32,
};

typedef struct w2_desc {
    int fd;
    bool dir;
    uint32_t flags;  /* descriptor-flags the guest holds */
    bool readonly;   /* reached from a read-only pre-open: changes are refused */
} w2_desc_t;

typedef struct w2_obj {
    uint8_t kind;
    bool holds_fd;     /* counts against max_fds and the process budget */
    uint32_t children; /* pollables watching this stream */
    uint32_t next_free;
    union {
        w2_stream_t stream;
        w2_pollable_t poll;
        w2_err_t err;
        w2_desc_t desc;
        struct w3_sock *sock; /* W2_TCP, W2_UDP (src/wasi3/sockets.c) */
        struct {
            int fd;      /* our own descriptor of the directory */
            int64_t off; /* host offset of the next entry (getdents64) */
        } dir;
    } u;
} w2_obj_t;

/* The descriptors that 0.3 streams' states hold (their own duplicates of
 * a file's, a directory's or a socket's descriptor). Those states belong
 * to the component's store, which a host may delete after this context:
 * they count against max_fds and the process budget through this shared
 * account, which the last of them or the context frees. */
typedef struct w2_fd_account {
    atomic_uint refs; /* 1 while the context lives, + 1 per descriptor held */
} w2_fd_account_t;

/* A pre-opened directory (common_config.h: fd, name, readonly). */
typedef wasi_preopen_t w2_preopen_t;

struct whirl_wasi2 {
    w2_obj_t *objs; /* slot i holds rep i + 1 */
    uint32_t nobjs, cap, live;
    uint32_t nfds; /* live objects holding a host descriptor */
    uint32_t max_fds; /* how many may (wasi/limits.h), with streams' */
    w2_fd_account_t *streams;
    uint32_t free_head; /* rep of the first free slot, 0: none */
    char **argv;
    size_t argc;
    char **envp; /* "KEY=VALUE" */
    size_t envc;
    int stdio[3];
    w2_preopen_t *pre;
    size_t npre;
    int wake_fd; /* eventfd: whirl_wasi2_interrupt and whirl_wasi2_notify */
    atomic_bool interrupted;
    /* wasi:random/insecure-seed: drawn on first use, then the same for the
     * context's life (guests call it more than once and expect one seed). */
    bool have_seed;
    uint64_t seed[2];
    w3_net_policy_t net; /* the addresses wasi:sockets may use */
};

/* Closes and frees a socket object's state (src/wasi3/sockets.c). */
void w3_sock_free(struct w3_sock *s);

/* Adds an object (copied in); *rep receives its rep. On failure (too many
 * objects or descriptors, no memory) the caller still owns what `o` holds. */
whirl_error_t *w2_obj_add(whirl_wasi2_t *w, const w2_obj_t *o, uint32_t *rep);
/* Whether another object holding a host descriptor fits (callers that can
 * answer EMFILE ask first). */
bool w2_fd_room(const whirl_wasi2_t *w);
/* Room for one descriptor a 0.3 stream's state will hold: the account to
 * give it back to with w2_fd_give once that descriptor is closed, or NULL
 * when the guest or the process holds its cap (answer EMFILE). */
w2_fd_account_t *w2_fd_take(whirl_wasi2_t *w);
/* Gives back what w2_fd_take took; NULL does nothing. Any thread. */
void w2_fd_give(w2_fd_account_t *a);
/* A stream's own duplicate of `fd`, taken with w2_fd_take into *fds: -1
 * with errno set (EMFILE at the cap) when there is none. */
int w2_fd_dup(whirl_wasi2_t *w, int fd, w2_fd_account_t **fds);
/* Closes such a descriptor (none if negative) and gives back its room. */
void w2_fd_close(int fd, w2_fd_account_t *fds);
/* One directory entry: its name (NUL-terminated, valid UTF-8) and its
 * 0.2 descriptor-type. */
typedef struct w2_dirent {
    char name[256];
    size_t len;
    uint32_t type;
} w2_dirent_t;
/* The entry of directory `fd` at host offset *off (getdents64's; 0: the
 * first), skipping "." and "..", and *off moves past it: 1 with *out, 0 at
 * the end, or -errno (EILSEQ: a name that is not UTF-8, skipped by the
 * next call). Shared by 0.2's directory-entry-stream and 0.3's stream of
 * entries. */
int w2_dir_next(int fd, uint64_t *off, w2_dirent_t *out);
/* `v` becomes a 0.2 directory-entry record for `de`. */
whirl_error_t *w2_dirent_value(whirl_cval_t *v, const w2_dirent_t *de);
/* The per-guest cap and the process budget of wasi/limits.h. */
#include "wasi/limits.h"
/* The live object `rep` of `kind`, or NULL. */
w2_obj_t *w2_obj_get(whirl_wasi2_t *w, uint32_t rep, uint8_t kind);
/* Drops object `rep` of `kind`, releasing what it holds. Errors (a trap for
 * the guest): unknown rep, or a stream with pollables still watching it. */
whirl_error_t *w2_obj_drop(whirl_wasi2_t *w, uint32_t rep, uint8_t kind);

/* An error object for `message` (copied; NULL: "operation failed") and host
 * errno `code` (0: none). */
whirl_error_t *w2_error_new(whirl_wasi2_t *w, const char *message, int code, uint32_t *rep);

/* Stream objects over io.c backends (see below) or embedder callbacks. */
whirl_error_t *w2_stream_add(whirl_wasi2_t *w, uint8_t kind, const whirl_wasi2_stream_ops_t *ops,
                             void *env, int *code, bool holds_fd, uint32_t *rep);

/* ---- waiting (ctx.c) ---- */

bool w2_pollable_ready(whirl_wasi2_t *w, const w2_pollable_t *p);
/* Waits until at least one of `n` pollables is ready; `ready` (may be
 * NULL) receives which. Traps (returned) at the store's deadline or on
 * interruption. The pollables are copies: host callbacks run while we wait
 * and may change the object table. */
whirl_error_t *w2_wait(whirl_wasi2_t *w, whirl_store_t *store, const w2_pollable_t *ps,
                       size_t n, bool *ready);
/* Waits for one stream's readiness. */
whirl_error_t *w2_wait_stream(whirl_wasi2_t *w, whirl_store_t *store, uint32_t rep);

/* ---- calls ---- */

typedef struct w2_host_def w2_host_def_t;

struct whirl_wasi2_host {
    int refcount; /* atomic */
    uint32_t groups;
    whirl_wasi2_lookup_t lookup;
    void *lookup_env;
    whirl_resource_type_t *types[WHIRL_WASI2_RESOURCE_COUNT];
};

/* One WASI function call. */
typedef struct w2_call {
    whirl_wasi2_host_t *host;
    whirl_wasi2_t *w;
    whirl_store_t *store;
    const char *iface, *name; /* for messages */
    const whirl_cval_t *args;
    size_t nargs;
    whirl_cval_t *res; /* the result node, NULL if the function has none */
} w2_call_t;

typedef whirl_error_t *(*w2_fn_t)(w2_call_t *c);

/* A function of one interface; `iface` has no version ("wasi:io/streams"). */
typedef struct w2_def {
    uint32_t group;
    const char *iface;
    const char *name;
    w2_fn_t fn;
    uint8_t nargs, nresults;
} w2_def_t;

/* A resource type of one interface. */
typedef struct w2_res_def {
    uint32_t group;
    const char *iface;
    const char *name;
    whirl_wasi2_resource_t which;
} w2_res_def_t;

/* Defines `d` in `linker` as `iface_at_version`#`name`, called through
 * host `h` (retained while the definition lives). Used by src/wasi3 too. */
whirl_error_t *w2_define_func(whirl_component_linker_t *linker, whirl_wasi2_host_t *h,
                              const char *iface_at_version, const char *name, const w2_def_t *d);

extern const w2_def_t w2_io_defs[], w2_cli_defs[], w2_fs_defs[];
extern const size_t w2_io_ndefs, w2_cli_ndefs, w2_fs_ndefs;

/* A trap for the guest: a host error with a message naming the call. */
whirl_error_t *w2_trap(const w2_call_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
whirl_error_t *w2_oom(void);

/* Arguments, checked against the kinds the WIT declares (a guest may import
 * a name with any signature). */
whirl_error_t *w2_arg_uint(const w2_call_t *c, size_t i, whirl_cval_kind_t kind, uint64_t *out);
whirl_error_t *w2_arg_bool(const w2_call_t *c, size_t i, bool *out);
whirl_error_t *w2_arg_string(const w2_call_t *c, size_t i, const char **s, size_t *len);
whirl_error_t *w2_arg_bytes(const w2_call_t *c, size_t i, const uint8_t **p, size_t *len);
whirl_error_t *w2_arg_flags(const w2_call_t *c, size_t i, uint32_t *out);
whirl_error_t *w2_arg_enum(const w2_call_t *c, size_t i, uint32_t *out);
/* A handle (own or borrow) of resource `which`: its rep and object. */
whirl_error_t *w2_arg_obj(const w2_call_t *c, size_t i, whirl_wasi2_resource_t which,
                          uint32_t *rep, w2_obj_t **obj);
/* Checks that a handle value is of resource `which` (for list items). */
whirl_error_t *w2_check_handle(const w2_call_t *c, const whirl_cval_t *v,
                               whirl_wasi2_resource_t which, uint32_t *rep);

/* Results. */
void w2_set_uint(whirl_cval_t *v, whirl_cval_kind_t kind, uint64_t x);
void w2_set_bool(whirl_cval_t *v, bool b);
void w2_set_own(const w2_call_t *c, whirl_cval_t *v, whirl_wasi2_resource_t which, uint32_t rep);
/* result::ok: *payload (if wanted) is a zeroed node to fill. */
whirl_error_t *w2_ok(whirl_cval_t *v, whirl_cval_t **payload);
/* result::err(error-code) of wasi:filesystem for host errno `e`. */
whirl_error_t *w2_err_code(whirl_cval_t *v, int e);
/* result::err(stream-error) for a stream status (CLOSED or FAILED with
 * `message` (taken, may be NULL) and host errno `code`). */
whirl_error_t *w2_err_stream(const w2_call_t *c, whirl_cval_t *v, int64_t status, char *message,
                             int code);
/* A datetime record from a timespec. */
whirl_error_t *w2_set_datetime(whirl_cval_t *v, int64_t sec, long nsec);

/* The wasi:filesystem error-code case of a host errno. */
uint32_t w2_error_code(int e);

/* ---- stream backends over host descriptors (io.c) ---- */

/* A stream reading or writing host descriptor `fd`. `own`: closed with the
 * stream. `positional` (regular files): reads and writes at `offset`
 * instead of the descriptor's position; `append`: writes at the end. */
whirl_error_t *w2_fd_stream(whirl_wasi2_t *w, uint8_t kind, int fd, bool own, bool positional,
                            uint64_t offset, bool append, uint32_t *rep);

/* write(2) with SIGPIPE blocked and consumed, so that a closed pipe is an
 * EPIPE error instead of a signal to the host. */
long w2_write_no_sigpipe(int fd, const void *buf, size_t len, bool positional, uint64_t offset);

#endif
