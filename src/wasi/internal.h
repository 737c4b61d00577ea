/* WASI preview 1: shared definitions of the src/wasi/ files.
 *
 * The WASI host is an ordinary embedder: it includes only the public headers
 * (whirl.h, whirl/wasi.h) and reaches guest memory through
 * whirl_caller_export(caller, "memory"). Each preview-1 function is a
 * `wasi_fn_t` taking the decoded call and returning a WASI errno; ctx.c binds
 * them to the linker through one trampoline.
 *
 * Files by family: ctx.c (configuration, descriptor table, linker binding),
 * errno.c (host errno -> WASI errno), sandbox.c (path resolution beneath a
 * directory), fd.c (fd_*), path.c (path_*), poll.c (poll_oneoff and clocks),
 * misc.c (args, environ, random, proc, sched, sock). */
#ifndef WHIRL_WASI_INTERNAL_H
#define WHIRL_WASI_INTERNAL_H

#include <dirent.h>
#include <endian.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "whirl.h"
#include "whirl/wasi.h"

/* ---- ABI constants (witx of wasi_snapshot_preview1) ---- */

enum {
    WASI_ESUCCESS = 0, WASI_E2BIG = 1, WASI_EACCES = 2, WASI_EADDRINUSE = 3,
    WASI_EADDRNOTAVAIL = 4, WASI_EAFNOSUPPORT = 5, WASI_EAGAIN = 6, WASI_EALREADY = 7,
    WASI_EBADF = 8, WASI_EBADMSG = 9, WASI_EBUSY = 10, WASI_ECANCELED = 11, WASI_ECHILD = 12,
    WASI_ECONNABORTED = 13, WASI_ECONNREFUSED = 14, WASI_ECONNRESET = 15, WASI_EDEADLK = 16,
    WASI_EDESTADDRREQ = 17, WASI_EDOM = 18, WASI_EDQUOT = 19, WASI_EEXIST = 20,
    WASI_EFAULT = 21, WASI_EFBIG = 22, WASI_EHOSTUNREACH = 23, WASI_EIDRM = 24,
    WASI_EILSEQ = 25, WASI_EINPROGRESS = 26, WASI_EINTR = 27, WASI_EINVAL = 28, WASI_EIO = 29,
    WASI_EISCONN = 30, WASI_EISDIR = 31, WASI_ELOOP = 32, WASI_EMFILE = 33, WASI_EMLINK = 34,
    WASI_EMSGSIZE = 35, WASI_EMULTIHOP = 36, WASI_ENAMETOOLONG = 37, WASI_ENETDOWN = 38,
    WASI_ENETRESET = 39, WASI_ENETUNREACH = 40, WASI_ENFILE = 41, WASI_ENOBUFS = 42,
    WASI_ENODEV = 43, WASI_ENOENT = 44, WASI_ENOEXEC = 45, WASI_ENOLCK = 46, WASI_ENOLINK = 47,
    WASI_ENOMEM = 48, WASI_ENOMSG = 49, WASI_ENOPROTOOPT = 50, WASI_ENOSPC = 51,
    WASI_ENOSYS = 52, WASI_ENOTCONN = 53, WASI_ENOTDIR = 54, WASI_ENOTEMPTY = 55,
    WASI_ENOTRECOVERABLE = 56, WASI_ENOTSOCK = 57, WASI_ENOTSUP = 58, WASI_ENOTTY = 59,
    WASI_ENXIO = 60, WASI_EOVERFLOW = 61, WASI_EOWNERDEAD = 62, WASI_EPERM = 63,
    WASI_EPIPE = 64, WASI_EPROTO = 65, WASI_EPROTONOSUPPORT = 66, WASI_EPROTOTYPE = 67,
    WASI_ERANGE = 68, WASI_EROFS = 69, WASI_ESPIPE = 70, WASI_ESRCH = 71, WASI_ESTALE = 72,
    WASI_ETIMEDOUT = 73, WASI_ETXTBSY = 74, WASI_EXDEV = 75, WASI_ENOTCAPABLE = 76,
};

enum {
    WASI_FILETYPE_UNKNOWN = 0, WASI_FILETYPE_BLOCK_DEVICE = 1, WASI_FILETYPE_CHARACTER_DEVICE = 2,
    WASI_FILETYPE_DIRECTORY = 3, WASI_FILETYPE_REGULAR_FILE = 4, WASI_FILETYPE_SOCKET_DGRAM = 5,
    WASI_FILETYPE_SOCKET_STREAM = 6, WASI_FILETYPE_SYMBOLIC_LINK = 7,
};

#define WASI_RIGHT(n) ((uint64_t)1 << (n))
enum {
    WASI_RIGHT_FD_DATASYNC = 0, WASI_RIGHT_FD_READ = 1, WASI_RIGHT_FD_SEEK = 2,
    WASI_RIGHT_FD_FDSTAT_SET_FLAGS = 3, WASI_RIGHT_FD_SYNC = 4, WASI_RIGHT_FD_TELL = 5,
    WASI_RIGHT_FD_WRITE = 6, WASI_RIGHT_FD_ADVISE = 7, WASI_RIGHT_FD_ALLOCATE = 8,
    WASI_RIGHT_PATH_CREATE_DIRECTORY = 9, WASI_RIGHT_PATH_CREATE_FILE = 10,
    WASI_RIGHT_PATH_LINK_SOURCE = 11, WASI_RIGHT_PATH_LINK_TARGET = 12, WASI_RIGHT_PATH_OPEN = 13,
    WASI_RIGHT_FD_READDIR = 14, WASI_RIGHT_PATH_READLINK = 15, WASI_RIGHT_PATH_RENAME_SOURCE = 16,
    WASI_RIGHT_PATH_RENAME_TARGET = 17, WASI_RIGHT_PATH_FILESTAT_GET = 18,
    WASI_RIGHT_PATH_FILESTAT_SET_SIZE = 19, WASI_RIGHT_PATH_FILESTAT_SET_TIMES = 20,
    WASI_RIGHT_FD_FILESTAT_GET = 21, WASI_RIGHT_FD_FILESTAT_SET_SIZE = 22,
    WASI_RIGHT_FD_FILESTAT_SET_TIMES = 23, WASI_RIGHT_PATH_SYMLINK = 24,
    WASI_RIGHT_PATH_REMOVE_DIRECTORY = 25, WASI_RIGHT_PATH_UNLINK_FILE = 26,
    WASI_RIGHT_POLL_FD_READWRITE = 27, WASI_RIGHT_SOCK_SHUTDOWN = 28, WASI_RIGHT_SOCK_ACCEPT = 29,
};
#define WASI_RIGHTS_ALL (WASI_RIGHT(30) - 1)

enum {
    WASI_FDFLAG_APPEND = 1, WASI_FDFLAG_DSYNC = 2, WASI_FDFLAG_NONBLOCK = 4,
    WASI_FDFLAG_RSYNC = 8, WASI_FDFLAG_SYNC = 16,
};
enum { WASI_OFLAG_CREAT = 1, WASI_OFLAG_DIRECTORY = 2, WASI_OFLAG_EXCL = 4, WASI_OFLAG_TRUNC = 8 };
enum { WASI_LOOKUP_SYMLINK_FOLLOW = 1 };
enum {
    WASI_FSTFLAG_ATIM = 1, WASI_FSTFLAG_ATIM_NOW = 2, WASI_FSTFLAG_MTIM = 4,
    WASI_FSTFLAG_MTIM_NOW = 8,
};
enum { WASI_WHENCE_SET = 0, WASI_WHENCE_CUR = 1, WASI_WHENCE_END = 2 };
enum {
    WASI_CLOCK_REALTIME = 0, WASI_CLOCK_MONOTONIC = 1, WASI_CLOCK_PROCESS_CPUTIME = 2,
    WASI_CLOCK_THREAD_CPUTIME = 3,
};
enum { WASI_EVENT_CLOCK = 0, WASI_EVENT_FD_READ = 1, WASI_EVENT_FD_WRITE = 2 };
enum { WASI_SUBCLOCK_ABSTIME = 1 };
enum { WASI_EVENTRW_HANGUP = 1 };
enum { WASI_RIFLAG_PEEK = 1, WASI_RIFLAG_WAITALL = 2 };
enum { WASI_ROFLAG_DATA_TRUNCATED = 1 };
enum { WASI_SDFLAG_RD = 1, WASI_SDFLAG_WR = 2 };

/* Sizes of the guest structures. */
enum {
    WASI_IOVEC_SIZE = 8, WASI_FDSTAT_SIZE = 24, WASI_FILESTAT_SIZE = 64, WASI_PRESTAT_SIZE = 8,
    WASI_DIRENT_SIZE = 24, WASI_SUBSCRIPTION_SIZE = 48, WASI_EVENT_SIZE = 32,
};

/* Limits that bound host work and memory per call. */
enum {
    WASI_MAX_IOVS = 1024,          /* iovecs used per read/write; the rest are ignored */
    WASI_MAX_PATH = 4096,          /* bytes in a guest path (= SANDBOX_MAX_PATH) */
    WASI_MAX_SUBSCRIPTIONS = 4096, /* poll_oneoff subscriptions; more: ERRNO_NOMEM */
    WASI_MAX_FDS = 1u << 20,       /* descriptor table slots; more: ERRNO_MFILE */
};

/* ---- the context ---- */

typedef enum wasi_fd_kind {
    WASI_FD_FREE = 0,
    WASI_FD_STDIO,  /* a host stream given by the embedder (fds 0-2) */
    WASI_FD_FILE,   /* opened through path_open: regular file, device, fifo */
    WASI_FD_DIR,
    WASI_FD_SOCKET, /* pre-opened by the embedder, or accepted */
} wasi_fd_kind_t;

/* fd_readdir state: cookies are entry indexes (0 is the start, 1 follows
 * ".", 2 follows "..", then one per host entry); the host entries are read
 * with getdents64 from `dir_off`, the host offset of the entry with cookie
 * `dir_next`, so that consecutive calls continue without rereading, and a
 * listing costs the host neither memory nor another descriptor. */
/* What the host descriptor is, for the blocking rules of fd.c: files
 * (regular files, directories, block devices) never wait; sockets take
 * MSG_DONTWAIT per call; other streams (pipes, fifos, terminals, character
 * devices) take RWF_NOWAIT per call, or a readiness check and a write of at
 * most PIPE_BUF bytes where the kernel refuses RWF_NOWAIT. */
typedef enum wasi_host_kind {
    WASI_HOST_FILE = 0,
    WASI_HOST_SOCKET,
    WASI_HOST_STREAM,
} wasi_host_kind_t;

typedef struct wasi_fd {
    wasi_fd_kind_t kind;
    int host;           /* host descriptor; -1 for an absent stdio stream */
    bool own;           /* close `host` when the guest closes the fd */
    uint8_t host_kind;  /* wasi_host_kind_t */
    bool host_nonblock; /* our own descriptor, kept O_NONBLOCK: I/O never blocks */
    bool no_rwf_nowait; /* the kernel refused RWF_NOWAIT on it once */
    bool readonly;      /* derived from a read-only pre-open: changes are EPERM */
    bool can_read, can_write; /* the open mode */
    uint8_t filetype;   /* WASI filetype */
    uint16_t fdflags;   /* WASI fdflags as the guest last set them */
    uint64_t dropped;   /* base rights removed with fd_fdstat_set_rights */
    uint64_t dropped_inheriting; /* inheriting rights removed likewise */
    bool counted;       /* opened by the guest: counts against its cap and the budget */
    char *preopen;      /* guest name of a pre-opened directory, else NULL */
    size_t preopen_len;
    uint64_t dir_next;  /* fd_readdir: cookie of the next entry */
    int64_t dir_off;    /* fd_readdir: its host offset (when dir_next >= 2) */
    whirl_wasi_stream_fn_t io; /* stdio served by a host callback (host is -1) */
    void *io_env;
} wasi_fd_t;

struct whirl_wasi {
    wasi_fd_t *fds;
    uint32_t nfds; /* slots allocated; free slots have kind WASI_FD_FREE */
    uint32_t open; /* slots in use */
    char **argv;
    size_t argc, argv_bytes; /* argv_bytes: total with NULs */
    char **envp;             /* "KEY=VALUE" */
    size_t envc, env_bytes;
    uint32_t max_open;       /* descriptors the guest may open (limits.h) */
    uint32_t guest_open;     /* descriptors it holds now */
    int wake_fd;             /* eventfd that whirl_wasi_interrupt signals */
    atomic_bool interrupted;
    /* Held across each WASI call once `threaded` (whirl_wasi_set_threaded):
     * wasi-threads (`whirl run -S threads`) runs one context's calls from
     * several threads, and the descriptor table, like the rest of the
     * context, is not thread-safe. A blocking call (poll_oneoff, a read on
     * a pipe) holds it too, so other threads' WASI calls wait for it; its
     * wait is bounded by the store's deadline. Unthreaded contexts take no
     * lock: their calls may suspend and resume on another thread. */
    pthread_mutex_t call_lock;
    atomic_bool threaded;
};

/* The guest memory of the calling instance. It cannot grow or move during a
 * host call (WASI functions never call back into the guest). */
typedef struct wasi_mem {
    uint8_t *base;
    uint64_t size;
} wasi_mem_t;

typedef struct wasi_call {
    whirl_wasi_t *w;
    wasi_mem_t mem;
    const whirl_val_t *args;
    whirl_error_t *exit; /* set by proc_exit (or a deadline trap): ends the guest */
    whirl_store_t *store; /* the caller's store: blocking calls honour its deadline */
} wasi_call_t;

typedef uint32_t (*wasi_fn_t)(wasi_call_t *c);

static inline uint32_t arg32(const wasi_call_t *c, int i) { return (uint32_t)c->args[i].of.i32; }
static inline uint64_t arg64(const wasi_call_t *c, int i) { return (uint64_t)c->args[i].of.i64; }

/* True if [ptr, ptr+len) lies inside guest memory. */
static inline bool mem_ok(const wasi_mem_t *m, uint32_t ptr, uint64_t len)
{
    return (uint64_t)ptr + len <= m->size;
}
static inline uint8_t *mem_at(const wasi_mem_t *m, uint32_t ptr) { return m->base + ptr; }

/* Little-endian accessors; callers have checked the range. */
static inline uint16_t ld16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return le16toh(v); }
static inline uint32_t ld32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return le32toh(v); }
static inline uint64_t ld64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return le64toh(v); }
static inline void st8(uint8_t *p, uint8_t v) { *p = v; }
static inline void st16(uint8_t *p, uint16_t v) { v = htole16(v); memcpy(p, &v, 2); }
static inline void st32(uint8_t *p, uint32_t v) { v = htole32(v); memcpy(p, &v, 4); }
static inline void st64(uint8_t *p, uint64_t v) { v = htole64(v); memcpy(p, &v, 8); }

/* Stores a u32 / u64 result, or returns false if the pointer is bad. */
bool mem_put32(const wasi_mem_t *m, uint32_t ptr, uint32_t v);
bool mem_put64(const wasi_mem_t *m, uint32_t ptr, uint64_t v);

/* Copies the guest string at (ptr, len) into buf (size WASI_MAX_PATH + 1),
 * NUL-terminated. Errors: FAULT (out of memory bounds), NAMETOOLONG, INVAL
 * (contains NUL), ILSEQ (not UTF-8). Returns 0 or the WASI errno. */
uint32_t mem_path(const wasi_mem_t *m, uint32_t ptr, uint32_t len, char *buf);

/* ---- descriptor table (ctx.c) ---- */

/* The open descriptor `fd`, or NULL. */
wasi_fd_t *wasi_fd_get(whirl_wasi_t *w, uint32_t fd);

/* Adds a descriptor at the lowest free number; *out receives it. Returns 0,
 * WASI_EMFILE or WASI_ENOMEM. On failure the caller still owns f->host. */
uint32_t wasi_fd_add(whirl_wasi_t *w, const wasi_fd_t *f, uint32_t *out);

/* Before a guest opens a descriptor: room under its cap, and one taken from
 * the process budget. Returns 0 or WASI_EMFILE. A reservation is used by
 * wasi_fd_add of a descriptor with `counted` set, or given back with
 * wasi_fd_unreserve. */
uint32_t wasi_fd_reserve(whirl_wasi_t *w);
void wasi_fd_unreserve(whirl_wasi_t *w);

/* Releases what `f` holds (host fd if owned, directory stream, name) and
 * marks it free. */
void wasi_fd_release(whirl_wasi_t *w, wasi_fd_t *f);

/* Rights a descriptor has before any fd_fdstat_set_rights. */
uint64_t wasi_fd_base_rights(const wasi_fd_t *f);
uint64_t wasi_fd_inheriting_rights(const wasi_fd_t *f);

/* The WASI filetype of a host stat mode. */
uint8_t wasi_filetype(mode_t mode);

/* ---- shared helpers (fd.c) ---- */

struct iovec;

/* Checks the guest's iovec array (at most WASI_MAX_IOVS used) and translates
 * it to host iovecs pointing into guest memory. *total receives the sum of
 * the lengths. Returns 0 or WASI_EFAULT. */
uint32_t wasi_iovecs(const wasi_mem_t *m, uint32_t iovs, uint32_t n, struct iovec *out,
                     int *count, uint64_t *total);

/* Writes a WASI filestat for `st` at p (WASI_FILESTAT_SIZE bytes). */
void wasi_put_filestat(uint8_t *p, const struct stat *st);

/* Converts fd/path_filestat_set_times arguments to utimensat times.
 * Returns 0 or WASI_EINVAL. */
uint32_t wasi_times(uint64_t atim, uint64_t mtim, uint32_t fst_flags, struct timespec ts[2]);

/* ---- errno.c ---- */

/* WASI errno for a host errno value. */
uint32_t wasi_errno(int host_errno);

/* ---- sandbox.c, sandbox_ops.c: path resolution beneath a directory ---- */

#include "wasi/limits.h"
#include "wasi/sandbox.h"

_Static_assert((int)WASI_MAX_PATH == (int)SANDBOX_MAX_PATH, "guest paths are sandbox paths");

/* ---- blocking with interruption (poll.c) ---- */

/* Waits until host fd `fd` is ready for `events` (POLLIN/POLLOUT), the
 * context is interrupted or the store's deadline passes. Returns 0 when
 * ready, WASI_EINTR when interrupted, WASI_EAGAIN if `nonblock` and not
 * ready now. At the deadline it sets c->exit to the `interrupt` trap (which
 * ends the guest) and returns WASI_EINTR. */
uint32_t wasi_wait_fd(wasi_call_t *c, int fd, short events, bool nonblock);

/* ppoll(2) for every WASI wait (wasi_reactor_ppoll, reactor.h): inside a
 * resumable call it suspends the call rather than the thread. Returns as
 * ppoll does, or -1 when the suspended wait was cut short (the store's
 * deadline, the call cancelled): c->exit then holds the `interrupt` trap. */
struct pollfd;
struct timespec;
int wasi_ppoll(wasi_call_t *c, struct pollfd *fds, unsigned long n, const struct timespec *tsp);

/* True (and c->exit set to the `interrupt` trap) if the store's deadline
 * has passed: for host callbacks that gave up with EINTR. */
bool wasi_deadline_passed(wasi_call_t *c, const char *where);

/* The wasi_host_kind_t of a host descriptor. */
uint8_t wasi_host_kind(int fd);

/* ---- the preview-1 functions ---- */

#define WASI_FUNCS(X) \
    X(args_get, "ii", 1, true) X(args_sizes_get, "ii", 1, true) \
    X(environ_get, "ii", 1, true) X(environ_sizes_get, "ii", 1, true) \
    X(clock_res_get, "ii", 1, true) X(clock_time_get, "iIi", 1, true) \
    X(fd_advise, "iIIi", 1, false) X(fd_allocate, "iII", 1, false) \
    X(fd_close, "i", 1, false) X(fd_datasync, "i", 1, false) \
    X(fd_fdstat_get, "ii", 1, true) X(fd_fdstat_set_flags, "ii", 1, false) \
    X(fd_fdstat_set_rights, "iII", 1, false) X(fd_filestat_get, "ii", 1, true) \
    X(fd_filestat_set_size, "iI", 1, false) X(fd_filestat_set_times, "iIIi", 1, false) \
    X(fd_pread, "iiiIi", 1, true) X(fd_prestat_get, "ii", 1, true) \
    X(fd_prestat_dir_name, "iii", 1, true) X(fd_pwrite, "iiiIi", 1, true) \
    X(fd_read, "iiii", 1, true) X(fd_readdir, "iiiIi", 1, true) \
    X(fd_renumber, "ii", 1, false) X(fd_seek, "iIii", 1, true) \
    X(fd_sync, "i", 1, false) X(fd_tell, "ii", 1, true) X(fd_write, "iiii", 1, true) \
    X(path_create_directory, "iii", 1, true) X(path_filestat_get, "iiiii", 1, true) \
    X(path_filestat_set_times, "iiiiIIi", 1, true) X(path_link, "iiiiiii", 1, true) \
    X(path_open, "iiiiiIIii", 1, true) X(path_readlink, "iiiiii", 1, true) \
    X(path_remove_directory, "iii", 1, true) X(path_rename, "iiiiii", 1, true) \
    X(path_symlink, "iiiii", 1, true) X(path_unlink_file, "iii", 1, true) \
    X(poll_oneoff, "iiii", 1, true) X(proc_exit, "i", 0, false) \
    X(proc_raise, "i", 1, false) X(sched_yield, "", 1, false) \
    X(random_get, "ii", 1, true) X(sock_accept, "iii", 1, true) \
    X(sock_recv, "iiiiii", 1, true) X(sock_send, "iiiii", 1, true) \
    X(sock_shutdown, "ii", 1, false)

#define WASI_DECLARE(name, params, nresults, mem) uint32_t wasi_##name(wasi_call_t *c);
WASI_FUNCS(WASI_DECLARE)
#undef WASI_DECLARE

#endif
