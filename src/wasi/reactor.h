/* The WASI reactor (reactor.c): waits of the WASI hosts (preview 1 and
 * wasi2) that suspend a resumable call instead of blocking its thread. */
#ifndef WHIRL_WASI_REACTOR_H
#define WHIRL_WASI_REACTOR_H

#include <poll.h>
#include <time.h>

#include "whirl.h"

/* ppoll(2) made by a host function running on `store`. If it runs inside
 * the store's resumable call (whirl_store_can_suspend) and nothing is ready
 * at once, the call suspends until the reactor thread sees a descriptor of
 * `fds` ready or `tsp` (relative; NULL: none) pass, and `fds`' revents are
 * filled as ppoll fills them. Elsewhere, or with a zero timeout, it is
 * ppoll. Returns as ppoll does, or -1 with *cut_short set (owned by the
 * caller: the `interrupt` trap) when the suspended wait was cut short by
 * the store's deadline or the call's cancellation. */
int wasi_reactor_ppoll(whirl_store_t *store, struct pollfd *fds, nfds_t n,
                       const struct timespec *tsp, whirl_error_t **cut_short);

#endif
