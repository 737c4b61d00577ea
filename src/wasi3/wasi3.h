/* WASI 0.3 on the host: the interfaces at @0.3.0, defined in the same
 * linker and over the same context (whirl_wasi2_t: configuration, sandbox,
 * descriptors, object table) as WASI 0.2, so that a command importing both
 * versions (every wasm32-wasip3 toolchain's output does) sees one guest.
 *
 * Files: link.c (what is defined at 0.3.0: the interfaces whose shape did
 * not change from 0.2 reuse src/wasi2's functions under their 0.3 names),
 * cli.c (stdin/stdout/stderr as streams), clocks.c (wasi:clocks 0.3: system-clock, monotonic-clock with its async
 * waits), sockets.c (wasi:sockets: addresses, errors, tcp-socket),
 * sockets_udp.c (udp-socket, ip-name-lookup), net_policy.c (which addresses
 * a guest may use), filesystem.c (wasi:filesystem 0.3 over 0.2's
 * filesystem and sandbox). docs/COMPONENT-ASYNC.md has the status and plan. */
#ifndef WHIRL_WASI3_H
#define WHIRL_WASI3_H

#include "wasi2/internal.h"

#include "wasi3/versions.h"

/* Defines the WASI 0.3 interfaces of `groups` (WHIRL_WASI2_* bits) in
 * `linker`, calling through host `h` (its lookup and resource types). */
whirl_error_t *w3_add_to_linker(whirl_component_linker_t *linker, whirl_wasi2_host_t *h,
                                uint32_t groups);

/* The functions of wasi:cli 0.3's stdin/stdout/stderr (cli.c). */
extern const w2_def_t w3_cli_defs[];
extern const size_t w3_cli_ndefs;

/* The functions of wasi:clocks 0.3 (clocks.c). */
extern const w2_def_t w3_clock_defs[];
extern const size_t w3_clock_ndefs;

/* The functions of wasi:filesystem 0.3 (filesystem.c). */
extern const w2_def_t w3_fs_defs[];
extern const size_t w3_fs_ndefs;

/* ---- wasi:sockets 0.3 (sockets.c, sockets_udp.c) ---- */

#include <sys/socket.h>

extern const w2_def_t w3_tcp_defs[], w3_udp_defs[];
extern const size_t w3_tcp_ndefs, w3_udp_ndefs;

/* TCP states of the WIT's operational semantics; UDP sockets use UNBOUND
 * and BOUND only (their connection is `udp_connected`). */
typedef enum w3_sock_state {
    W3_UNBOUND,
    W3_BOUND,
    W3_LISTENING,
    W3_CONNECTING,
    W3_CONNECTED,
    W3_CLOSED, /* a failed connect: only drop is left */
} w3_sock_state_t;

/* The object behind a tcp-socket or udp-socket handle (w2_obj_t.u.sock).
 * The descriptor is non-blocking: calls that wait do so in w2_wait, so the
 * store's deadline and interrupts end them. */
typedef struct w3_sock {
    int fd;
    int family; /* AF_INET or AF_INET6 */
    w3_sock_state_t state;
    int backlog;            /* TCP: for listen */
    bool udp_connected;     /* UDP: connect succeeded (remote holds the peer) */
    bool sending, receiving; /* TCP: send / receive was called (once each) */
    struct sockaddr_storage remote;
    socklen_t remote_len;
} w3_sock_t;

/* wasi:sockets/types error-code cases. */
enum {
    W3E_ACCESS_DENIED = 0, W3E_NOT_SUPPORTED, W3E_INVALID_ARGUMENT, W3E_OUT_OF_MEMORY,
    W3E_TIMEOUT, W3E_INVALID_STATE, W3E_ADDRESS_NOT_BINDABLE, W3E_ADDRESS_IN_USE,
    W3E_REMOTE_UNREACHABLE, W3E_CONNECTION_REFUSED, W3E_CONNECTION_BROKEN,
    W3E_CONNECTION_RESET, W3E_CONNECTION_ABORTED, W3E_DATAGRAM_TOO_LARGE, W3E_OTHER,
};
#define W3E_NONE UINT32_MAX /* no error (access-denied is case 0) */

/* Results: ok (no payload), err(code) (W3E_OTHER carries `message`, may be
 * NULL), err for a host errno (unknown ones become other(strerror)). */
whirl_error_t *w3_ok(whirl_cval_t *v);
whirl_error_t *w3_err(whirl_cval_t *v, uint32_t code, const char *message);
whirl_error_t *w3_err_errno(whirl_cval_t *v, int e);

/* Creates a socket object of `kind` (W2_TCP, W2_UDP) for family enum
 * argument 0 and answers create's result. */
whirl_error_t *w3_sock_create(w2_call_t *c, uint8_t kind, int type);
/* Argument `i` as a socket of resource `which`. */
whirl_error_t *w3_arg_sock(w2_call_t *c, size_t i, whirl_wasi2_resource_t which,
                           w3_sock_t **out);
/* An ip-socket-address value (traps on a malformed one). */
whirl_error_t *w3_addr_from_cval(const w2_call_t *c, const whirl_cval_t *v,
                                 struct sockaddr_storage *ss, socklen_t *len);
/* Fills `v` with the ip-socket-address of `sa`. */
whirl_error_t *w3_addr_to_cval(whirl_cval_t *v, const struct sockaddr *sa);
/* Checks of an address the guest gives (W3E_NONE: fine, else an error-code case):
 * the socket's family, no IPv4-mapped IPv6; `remote` adds: not unspecified
 * and port not 0. Then the context's policy (access-denied). */
uint32_t w3_check_addr(const w2_call_t *c, const w3_sock_t *s, const struct sockaddr *sa,
                       bool remote);
/* TCP over streams (sockets_tcp.c). */
whirl_error_t *w3_tcp_send(w2_call_t *c);
whirl_error_t *w3_tcp_receive(w2_call_t *c);
whirl_error_t *w3_tcp_listen(w2_call_t *c);
/* get-local-address / get-remote-address answers. */
whirl_error_t *w3_answer_local(w2_call_t *c, const w3_sock_t *s);
/* Socket option answers shared by TCP and UDP. */
whirl_error_t *w3_get_hop_limit(w2_call_t *c, whirl_wasi2_resource_t which);
whirl_error_t *w3_set_hop_limit(w2_call_t *c, whirl_wasi2_resource_t which);
whirl_error_t *w3_get_buffer(w2_call_t *c, whirl_wasi2_resource_t which, int opt);
whirl_error_t *w3_set_buffer(w2_call_t *c, whirl_wasi2_resource_t which, int opt);
whirl_error_t *w3_get_family(w2_call_t *c, whirl_wasi2_resource_t which);
/* Waits (w2_wait: deadline and interrupt end it) until `fd` has `events`. */
whirl_error_t *w3_wait_fd(w2_call_t *c, int fd, short events);

#endif
