/* On-demand linear memories: one reservation per memory, mapped when the
 * memory is created and unmapped when it is freed. */
#include <errno.h>
#include <string.h>

#include "alloc/alloc.h"
#include "util/error.h"

#define WASM_PAGE ((uint64_t)65536)

whirl_error_t *alloc_memory_map(uint64_t min_bytes, uint64_t max_bytes, uint8_t **base,
                                size_t *reserved, uint64_t *cap_bytes)
{
    *base = NULL;
    *reserved = 0;
    *cap_bytes = 0;
    uint8_t *p = alloc_reserve(ALLOC_MEMORY_RESERVATION);
    size_t size = ALLOC_MEMORY_RESERVATION;
    uint64_t cap = max_bytes;
    if (!p) {
        /* Short of address space: the interpreter bounds-checks every access
         * against the current size, so a smaller reservation is still safe;
         * the memory just cannot grow past it. Halve from the maximum until
         * the kernel agrees, keeping a guard page after the last byte. */
        int err = errno;
        for (cap = max_bytes;; cap = (cap / 2) & ~(WASM_PAGE - 1)) {
            if (cap < min_bytes)
                cap = min_bytes;
            size = (size_t)cap + WASM_PAGE;
            p = alloc_reserve(size);
            if (p || cap == min_bytes)
                break;
        }
        if (!p)
            return error_fmt("cannot reserve %llu bytes of address space for a linear memory "
                             "of %llu bytes: %s",
                             (unsigned long long)size, (unsigned long long)min_bytes,
                             strerror(err));
    }
    if (!alloc_commit(p, (size_t)min_bytes)) {
        int err = errno;
        alloc_unreserve(p, size);
        return error_fmt("cannot commit %llu bytes of linear memory: %s",
                         (unsigned long long)min_bytes, strerror(err));
    }
    *base = p;
    *reserved = size;
    *cap_bytes = cap;
    return NULL;
}
