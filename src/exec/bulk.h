/* memory.fill/copy/init and table.fill/copy in chunks that stop at the
 * epoch deadline (see "bulk work and the epoch deadline" in
 * runtime/runtime.h). The inline fast paths keep small operations a plain
 * memset or memmove: only work above BULK_SMALL_BYTES reaches the chunked
 * loops. Each returns false if the deadline was reached before the work was
 * done; the caller has checked bounds and traps with `interrupt`. */
#ifndef WHIRL_EXEC_BULK_H
#define WHIRL_EXEC_BULK_H

#include <string.h>

#include "runtime/runtime.h"

bool exec_bulk_fill_chunked(uint8_t *dst, uint8_t byte, uint64_t n,
                            const _Atomic uint64_t *epoch, uint64_t deadline);
bool exec_bulk_move_chunked(void *dst, const void *src, uint64_t n,
                            const _Atomic uint64_t *epoch, uint64_t deadline);
bool exec_bulk_fill_refs_chunked(void **dst, void *ref, uint64_t n,
                                 const _Atomic uint64_t *epoch, uint64_t deadline);

/* memory.fill: `n` bytes of `byte` at `dst`. */
static inline bool exec_bulk_fill(uint8_t *dst, uint8_t byte, uint64_t n,
                                  const _Atomic uint64_t *epoch, uint64_t deadline)
{
    if (__builtin_expect(n <= BULK_SMALL_BYTES, 1)) {
        memset(dst, byte, n);
        return true;
    }
    return exec_bulk_fill_chunked(dst, byte, n, epoch, deadline);
}

/* memory.copy, memory.init, table.copy: `n` bytes from `src` to `dst`, which
 * may overlap (memmove's result). */
static inline bool exec_bulk_move(void *dst, const void *src, uint64_t n,
                                  const _Atomic uint64_t *epoch, uint64_t deadline)
{
    if (__builtin_expect(n <= BULK_SMALL_BYTES, 1)) {
        memmove(dst, src, n);
        return true;
    }
    return exec_bulk_move_chunked(dst, src, n, epoch, deadline);
}

/* table.fill: `n` entries of `ref` at `dst`. */
static inline bool exec_bulk_fill_refs(void **dst, void *ref, uint64_t n,
                                       const _Atomic uint64_t *epoch, uint64_t deadline)
{
    if (__builtin_expect(n <= BULK_SMALL_BYTES / sizeof(void *), 1)) {
        for (uint64_t i = 0; i < n; i++)
            dst[i] = ref;
        return true;
    }
    return exec_bulk_fill_refs_chunked(dst, ref, n, epoch, deadline);
}

#endif
