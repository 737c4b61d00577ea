/*
 * whirl/wasi2.h: WASI 0.2 (the component-model WASI, "preview 2") for whirl
 * hosts.
 *
 * Two objects:
 *  - a whirl_wasi2_t is one guest's view of the world (arguments,
 *    environment, standard streams, pre-opened directories) and the table of
 *    the WASI resources it holds (streams, pollables, descriptors, ...). It
 *    belongs to one store (one component instance) at a time.
 *  - a whirl_wasi2_host_t is the set of WASI definitions placed in one
 *    component linker: host functions and resource types. It finds the
 *    context of each call through a lookup function, so one linker (and one
 *    instance_pre) can serve many stores, each with its own context: a
 *    server running a fresh instance per request. The resource types belong
 *    to the host (every store sees the same types); the resources themselves
 *    (their 32-bit representations) to the context.
 *
 * Interfaces are defined at version WHIRL_WASI2_VERSION; the component
 * linker's semver matching lets them satisfy imports of any 0.2.x version.
 *
 * Sandbox: the file system is reached only through the directories
 * pre-opened with whirl_wasi2_config_preopen_dir, with the same resolver and
 * the same guarantees as the preview-1 host (whirl/wasi.h): `..`, absolute
 * paths and symbolic links cannot leave a pre-open (error-code
 * `not-permitted`), and a read-only pre-open refuses every change
 * (`not-permitted`).
 *
 * Blocking calls (pollable.block, poll, blocking-read, blocking writes) wake
 * at the store's deadline (whirl_store_set_deadline) and trap with
 * `interrupt`, as do waits ended by whirl_wasi2_interrupt: a guest asleep in
 * the host reaches no epoch check.
 *
 * wasi:cli/exit ends the guest with whirl_error_new_exit(status): 0 for
 * exit(ok), 1 for exit(err), the code for exit-with-code.
 *
 * Conventions are those of whirl.h: fallible calls return whirl_error_t *
 * (NULL = success, the caller frees it), `_delete` accepts NULL.
 */
#ifndef WHIRL_WASI2_H
#define WHIRL_WASI2_H

#include "../whirl.h"
#include "component.h"

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default) /* exported from libwhirl: see whirl.h */

#define WHIRL_WASI2_VERSION "0.2.12"

typedef struct whirl_wasi2_config whirl_wasi2_config_t;
typedef struct whirl_wasi2 whirl_wasi2_t;
typedef struct whirl_wasi2_host whirl_wasi2_host_t;

/* ------------------------------------------------------------------ */
/* Configuration and context                                           */
/* ------------------------------------------------------------------ */

/* A new, empty configuration: no arguments, no environment, no pre-opens,
 * stdin empty, stdout and stderr discarded. NULL only if memory is
 * exhausted. */
whirl_wasi2_config_t *whirl_wasi2_config_new(void);
void whirl_wasi2_config_delete(whirl_wasi2_config_t *config);

/* Appends an argument (copied); the first is the program name. */
whirl_error_t *whirl_wasi2_config_push_arg(whirl_wasi2_config_t *config, const char *arg);
/* Appends KEY=VALUE (copied); `key` non-empty without '='; a key given twice
 * keeps the last value. */
whirl_error_t *whirl_wasi2_config_push_env(whirl_wasi2_config_t *config, const char *key,
                                           const char *value);
/* Appends the host process's environment. */
whirl_error_t *whirl_wasi2_config_inherit_env(whirl_wasi2_config_t *config);
/* The guest's stdin, stdout and stderr: host descriptors, borrowed (never
 * closed, never made non-blocking); -1: none (stdin at end, output
 * discarded). */
whirl_error_t *whirl_wasi2_config_set_stdio(whirl_wasi2_config_t *config, int stdin_fd,
                                            int stdout_fd, int stderr_fd);
void whirl_wasi2_config_inherit_stdio(whirl_wasi2_config_t *config);

#define WHIRL_WASI2_DIR_READONLY 1u /* the guest may read but change nothing */

/* Gives the guest the host directory `host_path` as `guest_path` (NULL:
 * the same). Opened now: a missing directory is reported here. */
whirl_error_t *whirl_wasi2_config_preopen_dir(whirl_wasi2_config_t *config,
                                              const char *host_path, const char *guest_path,
                                              uint32_t flags);

/* Caps the host descriptors the guest may hold at once (descriptors from
 * get-directories and open-at, the streams read-via-stream and friends
 * duplicate, directory-entry streams): past it those calls fail with
 * error-code insufficient-memory (wasi:filesystem 0.2 has no "too many open
 * files"), except get-directories, which has no error result and traps.
 * Rarely, when guests of other threads take the last descriptors of the
 * process-wide budget at the same moment, an open traps instead of failing.
 * 0 (the default): WHIRL_MAX_OPEN_FILES from the environment, else
 * the default and the process-wide budget of whirl_wasi_config_set_max_open_files
 * (whirl/wasi.h), shared with preview-1 guests. More than 1,000,000 is an
 * error. */
whirl_error_t *whirl_wasi2_config_set_max_open_files(whirl_wasi2_config_t *config, uint32_t max);

/* Network access (wasi:sockets, WASI 0.3). By default a guest may create
 * sockets and set their options, but every use of an address (bind,
 * connect, UDP send) fails with error-code `access-denied`, and so does
 * ip-name-lookup. inherit_network allows every address; allow_ip allows
 * those in `cidr` ("127.0.0.0/8", "::1/128"; a bare address is one host),
 * and may be given many times. Either also allows name lookup. An invalid
 * CIDR is an error naming it. */
whirl_error_t *whirl_wasi2_config_inherit_network(whirl_wasi2_config_t *config);
whirl_error_t *whirl_wasi2_config_allow_ip(whirl_wasi2_config_t *config, const char *cidr);

/* Creates a context. Takes `config` (freed even on failure); fails on a bad
 * WHIRL_MAX_OPEN_FILES, naming it. */
whirl_error_t *whirl_wasi2_new(whirl_wasi2_config_t *config, whirl_wasi2_t **out);
/* Frees the context and every resource still in it (running the `drop` of
 * host streams and pollables). Delete the store using it first. */
void whirl_wasi2_delete(whirl_wasi2_t *wasi);

/* Ends every current and later wait of the context with an `interrupt`
 * trap. Any thread, any number of times. */
void whirl_wasi2_interrupt(whirl_wasi2_t *wasi);
/* Wakes a guest waiting on host pollables or streams of this context so
 * that it checks their readiness again (for host objects whose readiness
 * changes without a descriptor to watch). Any thread. */
void whirl_wasi2_notify(whirl_wasi2_t *wasi);

/* ------------------------------------------------------------------ */
/* Linking                                                             */
/* ------------------------------------------------------------------ */

/* Interface groups for whirl_wasi2_add_to_linker. */
enum {
    WHIRL_WASI2_IO = 1u << 0,         /* wasi:io/error, poll, streams */
    WHIRL_WASI2_CLOCKS = 1u << 1,     /* wasi:clocks/monotonic-clock, wall-clock, timezone */
    WHIRL_WASI2_RANDOM = 1u << 2,     /* wasi:random/random, insecure, insecure-seed */
    WHIRL_WASI2_CLI = 1u << 3,        /* wasi:cli/environment, exit, stdin, stdout, stderr,
                                       * terminal-input, -output, -stdin, -stdout, -stderr */
    WHIRL_WASI2_FILESYSTEM = 1u << 4, /* wasi:filesystem/types, preopens */
    WHIRL_WASI2_SOCKETS = 1u << 5,    /* wasi:sockets/types, ip-name-lookup (0.3 only) */
    WHIRL_WASI2_ALL = (1u << 6) - 1,
};

/* The context of a call made from `store`; NULL makes the call trap. */
typedef whirl_wasi2_t *(*whirl_wasi2_lookup_t)(void *env, whirl_store_t *store);

/* Defines the interfaces in `interfaces` (WHIRL_WASI2_* bits) in `linker`,
 * finding each call's context with lookup(env, store). `env` is borrowed:
 * it must outlive the linker and every instance_pre made from it. Other
 * host modules building on these interfaces (wasi:http, say) get the host
 * in *host_out (may be NULL; else the caller owns a reference, released
 * with whirl_wasi2_host_delete) for its resource types. Add every group a
 * linker needs in one call: the groups share resource types (a file's
 * read-via-stream returns a wasi:io input-stream), and each call makes
 * types of its own. Defining a name the linker already has is an error. */
whirl_error_t *whirl_wasi2_add_to_linker(whirl_component_linker_t *linker, uint32_t interfaces,
                                         whirl_wasi2_lookup_t lookup, void *env,
                                         whirl_wasi2_host_t **host_out);

/* Every interface, bound to the one context `wasi` (borrowed: it must
 * outlive the linker and the instances). */
whirl_error_t *whirl_component_linker_define_wasi2(whirl_component_linker_t *linker,
                                                   whirl_wasi2_t *wasi);

void whirl_wasi2_host_delete(whirl_wasi2_host_t *host);

/* ------------------------------------------------------------------ */
/* Resources, for host modules built on top                            */
/* ------------------------------------------------------------------ */

typedef enum whirl_wasi2_resource {
    WHIRL_WASI2_INPUT_STREAM = 0,  /* wasi:io/streams.input-stream */
    WHIRL_WASI2_OUTPUT_STREAM,     /* wasi:io/streams.output-stream */
    WHIRL_WASI2_POLLABLE,          /* wasi:io/poll.pollable */
    WHIRL_WASI2_ERROR,             /* wasi:io/error.error */
    WHIRL_WASI2_DESCRIPTOR,        /* wasi:filesystem/types.descriptor */
    WHIRL_WASI2_DIRECTORY_ENTRY_STREAM,
    WHIRL_WASI2_TERMINAL_INPUT,    /* wasi:cli/terminal-input.terminal-input */
    WHIRL_WASI2_TERMINAL_OUTPUT,
    WHIRL_WASI2_TCP_SOCKET,        /* wasi:sockets/types.tcp-socket (0.3) */
    WHIRL_WASI2_UDP_SOCKET,        /* wasi:sockets/types.udp-socket (0.3) */
    WHIRL_WASI2_RESOURCE_COUNT
} whirl_wasi2_resource_t;

/* The resource type the host defined for `which` (borrowed from the host;
 * NULL if its group was not added). To hand a resource to a guest, return
 * {.kind = WHIRL_CVAL_OWN, .of.resource = {type, rep}}. */
whirl_resource_type_t *whirl_wasi2_host_resource_type(const whirl_wasi2_host_t *host,
                                                      whirl_wasi2_resource_t which);

/* Return values of the stream callbacks below, besides byte counts. */
#define WHIRL_WASI2_CLOSED (-1) /* the stream ended: no more data / accepted */
#define WHIRL_WASI2_FAILED (-2) /* the last operation failed (*error: a malloc'd
                                 * message, or left NULL) */

/* A stream served by host callbacks. None of them may wait: the blocking
 * guest calls wait on the readiness the stream reports. All run on the
 * guest's thread. */
typedef struct whirl_wasi2_stream_ops {
    /* Input streams: reads up to `len` (>= 1) bytes into `buf`. Returns how
     * many (0: none available yet), CLOSED or FAILED. */
    int64_t (*read)(void *env, uint8_t *buf, size_t len, char **error);
    /* Output streams: how many bytes `write` accepts now (0: none yet),
     * CLOSED or FAILED. */
    int64_t (*check_write)(void *env, char **error);
    /* Takes all `len` bytes (never more than check_write allowed). Returns
     * 0, CLOSED or FAILED. */
    int64_t (*write)(void *env, const uint8_t *buf, size_t len, char **error);
    /* Starts flushing what was written (NULL: nothing to do); the flush is
     * complete when check_write allows a write again. 0, CLOSED or FAILED. */
    int64_t (*flush)(void *env, char **error);
    /* Readiness: true if read / check_write would now return something
     * other than 0 (NULL: always ready). */
    bool (*ready)(void *env);
    /* A host descriptor and poll(2) events that signal a change of
     * readiness (NULL, or -1 returned: none; waits then re-check `ready`
     * when whirl_wasi2_notify is called, and every 10 ms; or
     * WHIRL_WASI2_WAIT_NOTIFIED returned: none, and the host calls
     * whirl_wasi2_notify on every change, so no 10 ms re-checks). */
    int (*wait_fd)(void *env, short *events);
    /* Runs once when the stream is dropped (by the guest, or when the
     * context is deleted). May be NULL. */
    void (*drop)(void *env);
} whirl_wasi2_stream_ops_t;

/* New streams in `wasi`, served by `ops` (borrowed: must outlive the stream)
 * and `env`. *rep receives the representation. If this fails, `drop` has
 * already run. The callbacks may create and drop other resources of the
 * context, but not drop their own stream. */
whirl_error_t *whirl_wasi2_input_stream_new(whirl_wasi2_t *wasi,
                                            const whirl_wasi2_stream_ops_t *ops, void *env,
                                            uint32_t *rep);
whirl_error_t *whirl_wasi2_output_stream_new(whirl_wasi2_t *wasi,
                                             const whirl_wasi2_stream_ops_t *ops, void *env,
                                             uint32_t *rep);
/* The env of a host stream given to whirl_wasi2_*_stream_new (NULL if `rep`
 * is not such a stream of that kind, or is a built-in stream). */
void *whirl_wasi2_stream_env(whirl_wasi2_t *wasi, whirl_wasi2_resource_t kind, uint32_t rep);

/* What wait_fd returns for readiness that whirl_wasi2_notify always
 * reports: a wait on it sleeps until notified (or another wakeup) rather
 * than re-checking every 10 ms, which matters when thousands of guests
 * wait at once. */
#define WHIRL_WASI2_WAIT_NOTIFIED (-2)

/* A pollable served by host callbacks (readiness as for streams). */
typedef struct whirl_wasi2_pollable_ops {
    bool (*ready)(void *env);
    int (*wait_fd)(void *env, short *events);
    void (*drop)(void *env);
} whirl_wasi2_pollable_ops_t;

whirl_error_t *whirl_wasi2_pollable_new(whirl_wasi2_t *wasi,
                                        const whirl_wasi2_pollable_ops_t *ops, void *env,
                                        uint32_t *rep);
/* A pollable that is ready from monotonic time `when_ns`
 * (whirl_monotonic_now) on. */
whirl_error_t *whirl_wasi2_pollable_deadline(whirl_wasi2_t *wasi, uint64_t when_ns,
                                             uint32_t *rep);
/* Waits until pollable `rep` is ready, as pollable.block does (a deadline or
 * interrupt trap is returned as the error). */
whirl_error_t *whirl_wasi2_block(whirl_wasi2_t *wasi, whirl_store_t *store, uint32_t rep);

/* A wasi:io/error with `message` (copied). */
whirl_error_t *whirl_wasi2_error_new(whirl_wasi2_t *wasi, const char *message, uint32_t *rep);
/* The message of error `rep` (borrowed), or NULL. */
const char *whirl_wasi2_error_message(whirl_wasi2_t *wasi, uint32_t rep);

/* Drops resource `rep` of kind `kind` that the host holds (one it created
 * and never handed out, or an own handle a guest gave it). Pollables must
 * go before the stream they watch. */
whirl_error_t *whirl_wasi2_drop(whirl_wasi2_t *wasi, whirl_wasi2_resource_t kind, uint32_t rep);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* WHIRL_WASI2_H */
