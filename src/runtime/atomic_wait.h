/* memory.atomic.wait32/64 and memory.atomic.notify (threads): a process-wide
 * table of waiters keyed by host address. A shared memory's base never
 * moves and every store that imports it sees the same bytes, so the host
 * address of a cell names it across stores and threads. */
#ifndef WHIRL_RUNTIME_ATOMIC_WAIT_H
#define WHIRL_RUNTIME_ATOMIC_WAIT_H

#include <stdatomic.h>
#include <stdint.h>

/* Waits on the `size`-byte (4 or 8) aligned cell at `addr` while it holds
 * `expected` (wrapped to the size), for at most `timeout_ns` (negative:
 * no timeout). Returns 0 when woken by atomic_notify, 1 when the cell did
 * not hold `expected`, 2 on timeout, -1 when the engine's epoch counter
 * reached `deadline` first (the caller traps with `interrupt`). The epoch
 * is checked at least every WAIT_EPOCH_POLL_MS while waiting. */
int atomic_wait(uint8_t *addr, unsigned size, uint64_t expected, int64_t timeout_ns,
                const _Atomic uint64_t *epoch, uint64_t deadline);

/* Wakes at most `count` waiters on `addr`, oldest first; returns how many. */
uint32_t atomic_notify(uint8_t *addr, uint32_t count);

#endif
