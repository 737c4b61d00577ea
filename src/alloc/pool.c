/* The pooling instance allocator.
 *
 * At engine creation each kind of resource gets one reservation holding a
 * fixed number of equal slots:
 *
 *   memories   total_memories x 8 GiB + 64 KiB (ALLOC_MEMORY_RESERVATION:
 *              the same guarded layout as on-demand memories)
 *   tables     total_tables x table_elements pointers
 *   stacks     total_stacks x one interpreter stack (slots and frames)
 *   instances  total_core_instances x core_instance_size of instance state
 *
 * All of it is PROT_NONE and MAP_NORESERVE, so it costs address space, not
 * memory. While a memory slot is in use exactly its memory's bytes are
 * accessible; a free slot keeps its keep-resident prefix accessible, so
 * that a tenant of the same size as the last one needs no mprotect at all
 * (pool_memory_prepare adjusts the difference). The other slots are made
 * accessible on their first use and stay so (adjacent accessible slots
 * merge into one kernel mapping, so they cost no extra mappings).
 *
 * Free slots of each kind are a lock-free stack of indices (a Treiber
 * stack). The head packs the top index with a counter bumped on every
 * change, so a pop that read a stale `next` (the top was popped and pushed
 * back meanwhile) fails its compare-and-swap instead of corrupting the
 * list. Releases push and takes pop the same end, so the most recently
 * freed, still resident slot is reused first.
 *
 * Release resets the slot before it goes back on the list: whatever a
 * tenant wrote is zeroed in place up to the keep-resident size and handed
 * back to the kernel beyond it (MADV_DONTNEED: it reads as zero on the next
 * touch), so the next tenant never sees it. A slot that cannot be reset
 * (the kernel refused) is never reused.
 *
 * Stacks are the exception: nothing a tenant leaves on its interpreter
 * stack is observable by the next one (the interpreter zeroes a function's
 * locals on entry, and validated code writes every operand slot and the
 * interpreter every frame record before reading it), so a stack is not
 * zeroed; its pages are released with MADV_FREE, which lets the kernel
 * take them back under memory pressure but costs no page faults when the
 * next tenant reuses them first. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc.h"
#include "util/error.h"

/* Instance state is small in practice; zero this much in place and give
 * back the rest. */
#define INSTANCE_KEEP_RESIDENT ((size_t)1 << 20)

typedef struct slot_region {
    uint8_t *base;
    size_t stride;           /* bytes per slot, a multiple of the page size */
    size_t mapped;           /* bytes reserved at base */
    uint32_t count;
    size_t keep;             /* keep-resident bytes per slot */
    _Atomic uint64_t head;   /* counter << 32 | (top index + 1); 0: empty */
    _Atomic uint32_t *next;  /* per slot: index + 1 of the slot below it */
    bool *committed;         /* per slot: made accessible (non-memory kinds) */
    size_t *accessible;      /* per memory slot: accessible bytes from its start */
    _Atomic uint32_t in_use;
} slot_region_t;

struct pool {
    slot_region_t regions[POOL_KIND_COUNT];
    uint32_t max_stores;
    _Atomic uint32_t stores;
};

static const char *const kind_names[POOL_KIND_COUNT] = {
    [POOL_MEMORY] = "linear memory",
    [POOL_TABLE] = "table",
    [POOL_STACK] = "stack",
    [POOL_INSTANCE] = "instance state",
};

static const char *const kind_knobs[POOL_KIND_COUNT] = {
    [POOL_MEMORY] = "total_memories",
    [POOL_TABLE] = "total_tables",
    [POOL_STACK] = "total_stacks",
    [POOL_INSTANCE] = "total_core_instances",
};

static whirl_error_t *region_init(slot_region_t *r, pool_kind_t kind, uint64_t count,
                                  uint64_t slot_bytes, size_t keep)
{
    size_t page = alloc_page_size();
    if (count > UINT32_MAX - 1)
        return error_fmt("pooling allocator: %llu %s slots (%s) is too many",
                         (unsigned long long)count, kind_names[kind], kind_knobs[kind]);
    if (slot_bytes > SIZE_MAX / 2)
        return error_fmt("pooling allocator: %s slot of %llu bytes is too large",
                         kind_names[kind], (unsigned long long)slot_bytes);
    r->stride = alloc_round_up(slot_bytes ? (size_t)slot_bytes : page, page);
    r->count = (uint32_t)count;
    r->keep = keep;
    if (!count)
        return NULL;
    if (r->stride > SIZE_MAX / count)
        return error_fmt("pooling allocator: %llu %s slots of %zu bytes overflow the address "
                         "space (%s)",
                         (unsigned long long)count, kind_names[kind], r->stride,
                         kind_knobs[kind]);
    r->mapped = r->stride * (size_t)count;
    r->next = calloc(count, sizeof *r->next);
    r->committed = calloc(count, sizeof *r->committed);
    r->accessible = kind == POOL_MEMORY ? calloc(count, sizeof *r->accessible) : NULL;
    if (!r->next || !r->committed || (kind == POOL_MEMORY && !r->accessible))
        return error_oom();
    r->base = alloc_reserve(r->mapped);
    if (!r->base) {
        int err = errno;
        r->mapped = 0;
        return error_fmt("pooling allocator: cannot reserve %zu bytes of address space for "
                         "%llu %s slots of %zu bytes (%s): %s",
                         (size_t)(r->stride * (size_t)count), (unsigned long long)count,
                         kind_names[kind], r->stride, kind_knobs[kind], strerror(err));
    }
    /* Slot 0 on top, then 1, 2, ... */
    for (uint32_t i = 0; i < r->count; i++)
        atomic_init(&r->next[i], i + 1 < r->count ? i + 2 : 0);
    atomic_init(&r->head, 1);
    atomic_init(&r->in_use, 0);
    return NULL;
}

static void region_free(slot_region_t *r)
{
    alloc_unreserve(r->base, r->mapped);
    free((void *)r->next);
    free(r->committed);
    free(r->accessible);
}

whirl_error_t *pool_new(const pool_limits_t *l, pool_t **out)
{
    *out = NULL;
    pool_t *pool = calloc(1, sizeof *pool);
    if (!pool)
        return error_oom();
    if (l->instance_count > UINT32_MAX - 1) {
        free(pool);
        return error_fmt("pooling allocator: instance_count %llu is too large",
                         (unsigned long long)l->instance_count);
    }
    pool->max_stores = (uint32_t)l->instance_count;
    atomic_init(&pool->stores, 0);
    if (l->table_elements > SIZE_MAX / sizeof(void *)) {
        free(pool);
        return error_fmt("pooling allocator: table_elements %llu is too large",
                         (unsigned long long)l->table_elements);
    }
    struct {
        uint64_t count, bytes;
        size_t keep;
    } spec[POOL_KIND_COUNT] = {
        [POOL_MEMORY] = {l->total_memories, ALLOC_MEMORY_RESERVATION,
                         (size_t)l->memory_keep_resident},
        [POOL_TABLE] = {l->total_tables, l->table_elements * sizeof(void *),
                        (size_t)l->table_keep_resident},
        [POOL_STACK] = {l->total_stacks, l->stack_bytes, 0},
        [POOL_INSTANCE] = {l->total_core_instances, l->core_instance_size,
                           INSTANCE_KEEP_RESIDENT},
    };
    for (int k = 0; k < POOL_KIND_COUNT; k++) {
        whirl_error_t *err =
            region_init(&pool->regions[k], (pool_kind_t)k, spec[k].count, spec[k].bytes,
                        spec[k].keep);
        if (err) {
            pool_delete(pool);
            return err;
        }
    }
    *out = pool;
    return NULL;
}

void pool_delete(pool_t *pool)
{
    if (!pool)
        return;
    for (int k = 0; k < POOL_KIND_COUNT; k++)
        region_free(&pool->regions[k]);
    free(pool);
}

static int64_t region_pop(slot_region_t *r)
{
    /* acquire: pairs with the release of the push that put the top there,
     * so its `next` and the slot's reset contents are visible. */
    uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    for (;;) {
        uint32_t top = (uint32_t)head;
        if (!top)
            return -1;
        uint32_t below = atomic_load_explicit(&r->next[top - 1], memory_order_relaxed);
        uint64_t want = (((head >> 32) + 1) << 32) | below;
        if (atomic_compare_exchange_weak_explicit(&r->head, &head, want, memory_order_acquire,
                                                  memory_order_acquire))
            return (int64_t)top - 1;
    }
}

static void region_push(slot_region_t *r, uint32_t slot)
{
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    for (;;) {
        atomic_store_explicit(&r->next[slot], (uint32_t)head, memory_order_relaxed);
        uint64_t want = (((head >> 32) + 1) << 32) | (slot + 1);
        if (atomic_compare_exchange_weak_explicit(&r->head, &head, want, memory_order_release,
                                                  memory_order_relaxed))
            return;
    }
}

int64_t pool_take(pool_t *pool, pool_kind_t kind)
{
    slot_region_t *r = &pool->regions[kind];
    int64_t slot = region_pop(r);
    if (slot < 0)
        return -1;
    if (kind != POOL_MEMORY && !r->committed[slot]) {
        if (!alloc_commit(r->base + (size_t)slot * r->stride, r->stride)) {
            region_push(r, (uint32_t)slot);
            return -1;
        }
        r->committed[slot] = true;
    }
    atomic_fetch_add_explicit(&r->in_use, 1, memory_order_relaxed);
    return slot;
}

bool pool_memory_prepare(pool_t *pool, uint32_t slot, size_t bytes)
{
    slot_region_t *r = &pool->regions[POOL_MEMORY];
    uint8_t *base = r->base + (size_t)slot * r->stride;
    size_t have = r->accessible[slot];
    bool ok = bytes >= have ? alloc_commit(base + have, bytes - have)
                            : alloc_protect_none(base + bytes, have - bytes);
    if (ok)
        r->accessible[slot] = bytes;
    return ok;
}

void pool_release(pool_t *pool, pool_kind_t kind, uint32_t slot, size_t used)
{
    slot_region_t *r = &pool->regions[kind];
    uint8_t *base = r->base + (size_t)slot * r->stride;
    size_t page = alloc_page_size();
    if (used > r->stride)
        used = r->stride;
    bool ok = true;
    if (kind == POOL_STACK) {
        if (used)
            alloc_release_lazily(base, alloc_round_up(used, page));
    } else if (kind == POOL_MEMORY) {
        /* A memory grows by committing from what pool_memory_prepare made
         * accessible, so its size is what is accessible now; a slot given
         * back unprepared still has its last keep-resident prefix. */
        used = alloc_round_up(used, page);
        if (used < r->accessible[slot])
            used = r->accessible[slot];
        size_t keep = r->keep & ~(page - 1);
        if (keep > used)
            keep = used;
        ok = alloc_reset(base, used, keep) && alloc_protect_none(base + keep, used - keep);
        r->accessible[slot] = keep;
    } else {
        ok = alloc_reset(base, used, r->keep);
    }
    atomic_fetch_sub_explicit(&r->in_use, 1, memory_order_relaxed);
    /* A slot that may still hold a tenant's data is retired for good. */
    if (ok)
        region_push(r, slot);
}

uint8_t *pool_slot_base(const pool_t *pool, pool_kind_t kind, uint32_t slot)
{
    const slot_region_t *r = &pool->regions[kind];
    return r->base + (size_t)slot * r->stride;
}

size_t pool_slot_size(const pool_t *pool, pool_kind_t kind)
{
    return pool->regions[kind].stride;
}

uint32_t pool_total(const pool_t *pool, pool_kind_t kind) { return pool->regions[kind].count; }

uint32_t pool_in_use(const pool_t *pool, pool_kind_t kind)
{
    return atomic_load_explicit(&((pool_t *)pool)->regions[kind].in_use, memory_order_relaxed);
}

bool pool_store_enter(pool_t *pool)
{
    uint32_t n = atomic_load_explicit(&pool->stores, memory_order_relaxed);
    do {
        if (n >= pool->max_stores)
            return false;
    } while (!atomic_compare_exchange_weak_explicit(&pool->stores, &n, n + 1,
                                                    memory_order_relaxed, memory_order_relaxed));
    return true;
}

void pool_store_leave(pool_t *pool)
{
    atomic_fetch_sub_explicit(&pool->stores, 1, memory_order_relaxed);
}

uint32_t pool_stores_in_use(const pool_t *pool)
{
    return atomic_load_explicit(&((pool_t *)pool)->stores, memory_order_relaxed);
}
