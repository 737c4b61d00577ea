/* Memory for instances: the pooling allocator (fixed slots reserved once
 * per engine), on-demand reservation of linear memories, and the probe that
 * decides between them. Used by src/runtime only. */
#ifndef WHIRL_ALLOC_H
#define WHIRL_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "whirl.h"

/* Every linear memory, pooled or not, sits at the start of this much
 * address space: 4 GiB that can ever be addressable, 4 GiB of guard and a
 * guard page, so that a 32-bit address plus a 32-bit offset plus a 16-byte
 * access always lands inside its own reservation. The interpreter checks
 * bounds explicitly; the guard is defence in depth and room for compiled
 * code that relies on faults. */
#define ALLOC_MEMORY_ADDRESSABLE ((uint64_t)4 << 30)
#define ALLOC_MEMORY_RESERVATION (((size_t)8 << 30) + 65536)

/* ---- vm.c: page-level helpers ---- */

size_t alloc_page_size(void);
size_t alloc_round_up(size_t n, size_t align); /* align: power of two */
/* A PROT_NONE, MAP_NORESERVE private anonymous mapping; NULL on failure
 * (errno set). */
void *alloc_reserve(size_t bytes);
void alloc_unreserve(void *base, size_t bytes);
/* Makes [base, base+bytes) readable and writable; false on failure. */
bool alloc_commit(void *base, size_t bytes);
/* Makes [base, base+bytes) inaccessible again; false on failure. */
bool alloc_protect_none(void *base, size_t bytes);
/* Returns [base, base+used) to the zero state: the first `keep` bytes
 * (rounded down to pages) are zeroed in place and stay resident, the rest
 * is released with MADV_DONTNEED (it reads as zero again). False if the
 * kernel refused and the range could not be cleared. */
bool alloc_reset(void *base, size_t used, size_t keep);

/* Tells the kernel it may take back [base, base+bytes) whenever it needs
 * the memory (MADV_FREE; MADV_DONTNEED where that is unsupported); until
 * then the contents stay. For memory whose old contents do not matter. */
void alloc_release_lazily(void *base, size_t bytes);

/* ---- probe.c ---- */

/* Whether this process can reserve 2^42 bytes of address space (it is then
 * released). Decided once per process; thread-safe. */
bool alloc_probe_pooling(void);

/* ---- ondemand.c ---- */

/* Reserves address space for one linear memory of `min_bytes` that may grow
 * to `max_bytes` (both multiples of 64 KiB, min <= max <= 4 GiB), and
 * commits min_bytes. Prefers the full guarded reservation; where the
 * address space is short (ulimit -v) it settles for less, down to
 * min_bytes plus a guard page: *cap_bytes says how far the memory can then
 * grow. The base never moves. */
whirl_error_t *alloc_memory_map(uint64_t min_bytes, uint64_t max_bytes, uint8_t **base,
                                size_t *reserved, uint64_t *cap_bytes);

/* ---- pool.c ---- */

typedef struct pool pool_t;

typedef struct pool_limits {
    uint64_t instance_count;       /* stores */
    uint64_t total_memories, total_tables, total_stacks, total_core_instances;
    uint64_t table_elements;
    uint64_t core_instance_size;
    uint64_t stack_bytes;          /* one interpreter stack slot */
    uint64_t memory_keep_resident, table_keep_resident;
} pool_limits_t;

/* Reserves every slot. The error says which reservation failed and how big
 * it was. */
whirl_error_t *pool_new(const pool_limits_t *limits, pool_t **out);
/* Every slot must have been released. */
void pool_delete(pool_t *pool);

typedef enum pool_kind {
    POOL_MEMORY,
    POOL_TABLE,
    POOL_STACK,
    POOL_INSTANCE,
    POOL_KIND_COUNT
} pool_kind_t;

/* Takes a free slot of `kind`: its index, or -1 if all are in use. A
 * memory slot reads as zero once pool_memory_prepare made its first bytes
 * accessible; a table or instance slot reads as zero and is readable and
 * writable; a stack slot is readable and writable with unspecified
 * contents. Lock-free; thread-safe. */
int64_t pool_take(pool_t *pool, pool_kind_t kind);
/* Makes exactly the first `bytes` of a taken memory slot accessible (the
 * memory then grows with alloc_commit from there). */
bool pool_memory_prepare(pool_t *pool, uint32_t slot, size_t bytes);
/* Resets the slot and frees it. `used`: bytes at its start that may hold
 * the tenant's data (for a memory, its size: exactly what is accessible;
 * for a stack, 0 if it was never handed out). */
void pool_release(pool_t *pool, pool_kind_t kind, uint32_t slot, size_t used);
uint8_t *pool_slot_base(const pool_t *pool, pool_kind_t kind, uint32_t slot);
size_t pool_slot_size(const pool_t *pool, pool_kind_t kind);
uint32_t pool_total(const pool_t *pool, pool_kind_t kind);
uint32_t pool_in_use(const pool_t *pool, pool_kind_t kind);

/* The store count (instance_count): false if the limit is reached. */
bool pool_store_enter(pool_t *pool);
void pool_store_leave(pool_t *pool);
uint32_t pool_stores_in_use(const pool_t *pool);

#endif
