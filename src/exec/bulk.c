/* The chunked halves of exec/bulk.h: the epoch is checked before every
 * chunk, the first included, so a run of operations just above the small
 * size still checks once per operation. */
#include "exec/bulk.h"

bool exec_bulk_fill_chunked(uint8_t *dst, uint8_t byte, uint64_t n,
                            const _Atomic uint64_t *epoch, uint64_t deadline)
{
    while (n) {
        if (epoch_reached(epoch, deadline))
            return false;
        uint64_t len = n < BULK_CHUNK_BYTES ? n : BULK_CHUNK_BYTES;
        memset(dst, byte, len);
        dst += len;
        n -= len;
    }
    return true;
}

bool exec_bulk_move_chunked(void *dst, const void *src, uint64_t n,
                            const _Atomic uint64_t *epoch, uint64_t deadline)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    /* Chunks run in the direction that reads every source byte before a
     * chunk overwrites it: forwards when the destination is below the
     * source, backwards when it is above (memmove's rule, chunk-wise). */
    bool backwards = d > s && d < s + n;
    while (n) {
        if (epoch_reached(epoch, deadline))
            return false;
        uint64_t len = n < BULK_CHUNK_BYTES ? n : BULK_CHUNK_BYTES;
        if (backwards) {
            memmove(d + n - len, s + n - len, len);
        } else {
            memmove(d, s, len);
            d += len;
            s += len;
        }
        n -= len;
    }
    return true;
}

bool exec_bulk_fill_refs_chunked(void **dst, void *ref, uint64_t n,
                                 const _Atomic uint64_t *epoch, uint64_t deadline)
{
    const uint64_t chunk = BULK_CHUNK_BYTES / sizeof *dst;
    while (n) {
        if (epoch_reached(epoch, deadline))
            return false;
        uint64_t len = n < chunk ? n : chunk;
        for (uint64_t i = 0; i < len; i++)
            dst[i] = ref;
        dst += len;
        n -= len;
    }
    return true;
}
