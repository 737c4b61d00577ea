/*
 * whirl/wasi.h: WASI preview 1 ("wasi_snapshot_preview1") for whirl hosts.
 *
 * A whirl_wasi_t is one guest's view of the outside world: its arguments,
 * environment, standard streams, clocks, randomness and the directories it
 * may see. whirl_linker_define_wasi() defines all 46 preview-1 functions in a
 * linker; a module instantiated through that linker then runs as a WASI
 * program (call its `_start` export).
 *
 * Sandbox: the guest reaches the file system only through the directories
 * pre-opened with whirl_wasi_config_preopen_dir(). Paths are resolved beneath
 * the pre-opened directory (openat2 RESOLVE_BENEATH, or an equivalent
 * component-by-component walk on kernels without it), so `..`, absolute paths
 * and symbolic links can never name anything outside it: such attempts fail
 * with ERRNO_PERM (63), as in wasmtime. (WHIRL_WASI_RESOLVE=walk in the
 * environment forces the walk, to test it.) Read-only pre-opens refuse every
 * change (create, write, truncate, rename, link, unlink, set times) with
 * ERRNO_PERM. Every pointer and length the guest passes is checked against its
 * memory: out-of-range ones fail with ERRNO_FAULT (21), never touch the host.
 *
 * Conventions are those of whirl.h: fallible calls return whirl_error_t *
 * (NULL = success, caller frees), `_delete` accepts NULL, ownership is stated
 * on each function. A whirl_wasi_t belongs to one thread at a time, like the
 * store that runs the guest; only whirl_wasi_interrupt() may be called from
 * any thread. The one exception: after whirl_wasi_set_threaded, guests'
 * calls through a linker defined by whirl_linker_define_wasi may come from
 * several threads at once (the instances of a wasi-threads program): each
 * call then holds the context's lock, so they run one at a time.
 *
 * Rights: a descriptor from path_open holds the rights it asked for that the
 * directory passes on (its inheriting rights), as fd_fdstat_get reports;
 * an operation needing a right it lacks fails with ERRNO_NOTCAPABLE (76),
 * while one its open mode excludes (writing a file opened read-only) fails
 * with ERRNO_BADF as POSIX programs expect. Asking to write, or to read,
 * where the directory does not pass that right on, and O_CREAT / O_TRUNC
 * without the directory's PATH_CREATE_FILE / PATH_FILESTAT_SET_SIZE, are
 * ERRNO_NOTCAPABLE at the open. wasi-libc asks for every right its open mode
 * does not exclude, so ordinary programs are unaffected.
 *
 * Blocking calls (a read or write on a pipe, fifo, terminal or socket,
 * poll_oneoff, sock_accept) wait at most until the store's deadline
 * (whirl_store_set_deadline), then end the guest with the `interrupt` trap:
 * a guest asleep in the host reaches no epoch check. A deadline set in
 * ticks only (whirl_store_set_epoch_deadline) cannot be seen from here:
 * pair it with whirl_wasi_interrupt.
 *
 * proc_exit ends the guest with whirl_error_new_exit(status): the call into
 * the guest returns that error and whirl_error_exit_status() reads the
 * status back. A guest writing to a closed pipe gets ERRNO_PIPE; the SIGPIPE
 * that write raises is blocked and consumed, so the host needs no handler.
 */
#ifndef WHIRL_WASI_H
#define WHIRL_WASI_H

#include "../whirl.h"

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default) /* exported from libwhirl: see whirl.h */

typedef struct whirl_wasi_config whirl_wasi_config_t;
typedef struct whirl_wasi whirl_wasi_t;

/* A new, empty configuration: no arguments, no environment, no pre-opened
 * directories, stdin empty, stdout and stderr discarded. Caller owns it until
 * it is passed to whirl_wasi_new. Returns NULL only if memory is exhausted. */
whirl_wasi_config_t *whirl_wasi_config_new(void);
void whirl_wasi_config_delete(whirl_wasi_config_t *config);

/* Appends an argument (copied). The first one is the program name, argv[0]. */
whirl_error_t *whirl_wasi_config_push_arg(whirl_wasi_config_t *config, const char *arg);

/* Appends an environment variable KEY=VALUE (both copied). `key` must be
 * non-empty and contain no '='. A key given twice keeps the last value. */
whirl_error_t *whirl_wasi_config_push_env(whirl_wasi_config_t *config, const char *key,
                                          const char *value);

/* Appends every variable of the host process's environment (copied now). */
whirl_error_t *whirl_wasi_config_inherit_env(whirl_wasi_config_t *config);

/* The guest's fds 0, 1 and 2. Each is a host file descriptor, borrowed: it
 * is never closed by whirl and must stay open while the guest runs; -1 means
 * none (reads return end of file, writes are discarded). Host descriptors are
 * never switched to non-blocking mode; a guest's non-blocking request on them
 * is emulated. */
whirl_error_t *whirl_wasi_config_set_stdio(whirl_wasi_config_t *config, int stdin_fd,
                                           int stdout_fd, int stderr_fd);

/* Same as whirl_wasi_config_set_stdio(config, 0, 1, 2). */
void whirl_wasi_config_inherit_stdio(whirl_wasi_config_t *config);

/* A standard stream served by the host in memory instead of a descriptor
 * (an HTTP request body as stdin, a response as stdout). For fd 0 the
 * callback fills up to `len` bytes of `buf` and returns how many (0: end of
 * stream); for fds 1 and 2 it consumes `len` bytes of `buf` and returns how
 * many it took (at least 1 when len > 0). A negative return is a host errno
 * negated (-EPIPE, -EIO, -EINTR, -EAGAIN), which the guest receives as the
 * WASI errno. It runs on the guest's thread and may block; a blocking
 * callback should give up at the store's deadline (whirl_store_deadline_ns)
 * with -EINTR. poll_oneoff reports such a stream as always ready. */
typedef int64_t (*whirl_wasi_stream_fn_t)(void *env, void *buf, size_t len);

/* Serves guest fd `fd` (0, 1 or 2) with `fn` and `env` (borrowed: it must
 * stay valid while the guest runs), replacing what set_stdio gave it. */
whirl_error_t *whirl_wasi_config_stdio_callback(whirl_wasi_config_t *config, int fd,
                                                whirl_wasi_stream_fn_t fn, void *env);

/* Flags for whirl_wasi_config_preopen_dir. */
#define WHIRL_WASI_DIR_READONLY 1u /* the guest may read but change nothing */

/* Gives the guest the host directory `host_path` under the name `guest_path`
 * (both copied; guest_path NULL means the same as host_path). Pre-opens get
 * guest fds 3, 4, ... in the order they are added. The directory is opened
 * now, so a missing or unreadable directory is reported here, naming the path.
 * `flags` is 0 or WHIRL_WASI_DIR_READONLY; other bits are an error. */
whirl_error_t *whirl_wasi_config_preopen_dir(whirl_wasi_config_t *config, const char *host_path,
                                             const char *guest_path, uint32_t flags);

/* Gives the guest a socket, as the next pre-opened fd. `host_fd` is borrowed
 * (never closed by whirl). A listening socket serves sock_accept; a connected
 * one serves sock_recv, sock_send and sock_shutdown. Not a socket: error.
 * A listening socket is switched to non-blocking mode (O_NONBLOCK on its
 * open file description, shared with the host's copies), so that no accept
 * can wait past the guest's deadline when other acceptors share it. */
whirl_error_t *whirl_wasi_config_preopen_socket(whirl_wasi_config_t *config, int host_fd);

/* Caps the descriptors the guest may hold at once: files and directories it
 * opens, connections it accepts (its pre-opens and stdio do not count).
 * Past the cap, path_open and sock_accept fail with ERRNO_MFILE (33); the
 * host is never the one to run out. 0 (the default) means the value of the
 * environment variable WHIRL_MAX_OPEN_FILES when set (a decimal count, read
 * by whirl_wasi_new, which fails on a bad value naming the variable), else
 * a quarter of the process's RLIMIT_NOFILE soft limit, between 16 and 4096.
 * Besides, all the WASI guests of the process together (preview 1 and 0.2)
 * hold at most the soft limit less an eighth of it (at least 64 are kept for
 * the host): past that their opens fail the same way. Each descriptor costs
 * the host a fixed ~100 bytes besides the kernel's file (directory listings
 * included). More than 1,000,000 is an error. */
whirl_error_t *whirl_wasi_config_set_max_open_files(whirl_wasi_config_t *config, uint32_t max);

/* Creates the WASI context. Takes ownership of `config` (freed even on
 * failure). On success the caller owns *out and frees it with
 * whirl_wasi_delete, after the linker it was defined in (see below). */
whirl_error_t *whirl_wasi_new(whirl_wasi_config_t *config, whirl_wasi_t **out);

/* Closes every descriptor the guest still has open. Accepts NULL. */
void whirl_wasi_delete(whirl_wasi_t *wasi);

/* Lets instances on several threads share the context (wasi-threads): from
 * now on each WASI call holds the context's lock, so calls run one at a
 * time; a call that blocks (a sleep, a read on a pipe) makes the others
 * wait, bounded by their deadlines. Call it before the second thread makes
 * its first call. Without it a context belongs to one thread at a time and
 * its calls take no lock (a call that suspends inside a resumable call may
 * then resume on another thread). Accepts NULL. */
void whirl_wasi_set_threaded(whirl_wasi_t *wasi);

/* Defines every wasi_snapshot_preview1 function in `linker`, bound to `wasi`
 * (borrowed: it must outlive the linker). All stores instantiating through
 * this linker share the one context. Fails if one of the names is already
 * defined. Functions that take pointers trap if the calling module exports no
 * memory named "memory". */
whirl_error_t *whirl_linker_define_wasi(whirl_linker_t *linker, whirl_wasi_t *wasi);

/* Like whirl_linker_define_wasi, but each call finds its context through
 * `lookup(env, store)` with the calling store, so one linker (and one
 * instance_pre) serves many stores with a context each: a server running
 * a fresh instance per request. `env` is borrowed and must outlive the
 * linker. A lookup returning NULL makes the call trap with a host error. */
typedef whirl_wasi_t *(*whirl_wasi_lookup_t)(void *env, whirl_store_t *store);
whirl_error_t *whirl_linker_define_wasi_lookup(whirl_linker_t *linker,
                                               whirl_wasi_lookup_t lookup, void *env);

/* Makes a guest blocked in a WASI call (poll_oneoff, a sleep, a read from a
 * pipe or terminal) return now with ERRNO_INTR, and every later blocking call
 * return ERRNO_INTR at once. Meant to pair with epoch interruption: once the
 * deadline has passed, the woken guest traps at its next epoch check. Safe
 * to call from any thread, any number of times. */
void whirl_wasi_interrupt(whirl_wasi_t *wasi);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* WHIRL_WASI_H */
