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

/* Replaces [base, base+bytes) with fresh zero pages (private anonymous,
 * readable and writable if `accessible`, else PROT_NONE), whatever was
 * mapped there. False on failure, when the range may be left unmapped. */
bool alloc_map_zero(void *base, size_t bytes, bool accessible);

/* Calls fn(ctx, start, end) for each run [start, end) of byte offsets from
 * `base` (page multiples, ascending) in [base, base+bytes) whose pages hold
 * data of this process's own: written anonymous pages and private copies
 * of file pages, resident or swapped. Pages never touched, the shared zero
 * page and file pages only read are left out. False if the kernel cannot
 * tell (PAGEMAP_SCAN is Linux 6.7+; it is also checked once against a
 * probe mapping) or fn returned false; fn may then have seen some runs. */
typedef bool (*alloc_range_fn)(void *ctx, size_t start, size_t end);
bool alloc_scan_private(void *base, size_t bytes, alloc_range_fn fn, void *ctx);

/* Tells the kernel it may take back [base, base+bytes) whenever it needs
 * the memory (MADV_FREE; MADV_DONTNEED where that is unsupported); until
 * then the contents stay. For memory whose old contents do not matter. */
void alloc_release_lazily(void *base, size_t bytes);

/* ---- image.c: copy-on-write memory images ---- */

/* The initial contents of a linear memory from `offset` on, in a sealed
 * memfd that memories map privately (see image.c). */
typedef struct alloc_image {
    uint64_t id;     /* process-unique, never reused */
    int fd;
    size_t offset;   /* where the image starts in the memory (page multiple) */
    size_t len;      /* bytes (page multiple) */
    uint8_t *src;    /* a read-only view of the bytes (restoring pages) */
} alloc_image_t;

/* A zero-filled image of `len` bytes placed at `offset` (both page
 * multiples); *fill is a writable view for the caller to fill before
 * alloc_image_seal. NULL if the kernel refuses (no memfd, no fds left). */
alloc_image_t *alloc_image_new(size_t offset, size_t len, uint8_t **fill);
/* Ends filling: the view becomes read-only and the memfd is sealed.
 * False on failure (free the image). */
bool alloc_image_seal(alloc_image_t *img);
void alloc_image_free(alloc_image_t *img);
/* Maps the image copy-on-write at memory_base + offset, over whatever is
 * there (readable and writable). False on failure, when the range may be
 * left unmapped (alloc_map_zero it). */
bool alloc_image_map(const alloc_image_t *img, uint8_t *memory_base);

/* ---- sharding counters and free lists between threads ---- */

/* Things every instantiation updates (free lists, counts) are split into
 * this many cache-line-sized shards; a thread works on its home shard, so
 * threads instantiating at once do not fight over one cache line. */
#define ALLOC_SHARDS 16
/* What a shard is aligned to: two cache lines, since the prefetcher of
 * x86 cores fetches lines in pairs and would share neighbouring shards. */
#define ALLOC_SHARD_ALIGN 128
/* The calling thread's home shard (< ALLOC_SHARDS), given out in turn. */
unsigned alloc_thread_shard(void);

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
    uint64_t max_warm_memories;    /* free memory slots that keep memory_keep_resident */
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
 * memory then grows with alloc_commit from there). With `image` (which
 * must fit in `bytes`), the slot then reads as the image where it lies:
 * *imaged says so, or false if it could not be mapped and the slot reads
 * as zero (the caller copies the data instead). A slot keeps its last
 * image mapped while free, so the next tenant from the same module finds
 * it in place. False on failure (release the slot). */
bool pool_memory_prepare(pool_t *pool, uint32_t slot, size_t bytes, const alloc_image_t *image,
                         bool *imaged);
/* Resets a memory slot and frees it: `used` is the memory's size (what is
 * accessible), `image` the image pool_memory_prepare mapped for it (or
 * NULL): pages the tenant wrote in the keep-resident prefix are restored
 * in place from it, the rest revert to the image or to zero. */
void pool_memory_release(pool_t *pool, uint32_t slot, size_t used, const alloc_image_t *image);
/* Resets the slot and frees it. `used`: bytes at its start that may hold
 * the tenant's data (for a memory, its size: exactly what is accessible;
 * for a stack, 0 if it was never handed out). For a memory slot this is
 * pool_memory_release without an image to restore from. */
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
