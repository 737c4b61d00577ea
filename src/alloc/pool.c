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
 * Free slots of each kind are lock-free stacks of indices (Treiber
 * stacks), ALLOC_SHARDS of them, each on cache lines of its own. A thread
 * pushes the slots it releases onto its home shard (alloc_thread_shard)
 * and takes from there first, so threads that instantiate at the same time
 * do not bounce one cache line between their cores on every take and
 * release; when its home is empty it takes from the others, so no free
 * slot is out of reach. Each head packs the top index with a counter bumped on
 * every change, so a pop that read a stale `next` (the top was popped and
 * pushed back meanwhile) fails its compare-and-swap instead of corrupting
 * the list. Releases push and takes pop the same end, so the most recently
 * freed, still resident (and, for memories, still imaged) slot is reused
 * first. The in-use counts are kept per shard too and summed when read.
 *
 * Release resets the slot before it goes back on the list: whatever a
 * tenant wrote is zeroed in place up to the keep-resident size and handed
 * back to the kernel beyond it (MADV_DONTNEED: it reads as zero on the next
 * touch), so the next tenant never sees it. A slot that cannot be reset
 * (the kernel refused) is never reused.
 *
 * Memory slots and images: a memory created from a module's copy-on-write
 * image (image.c) has the image mapped privately over the start of its
 * slot, and the slot keeps it mapped while free, so that the next tenant
 * from the same module (the usual case: the free list hands back the most
 * recently freed slot) finds its initial contents in place. On release the
 * pages the tenant wrote are found with a page-table scan
 * (alloc_scan_private; without it every page counts as written): those in
 * the keep-resident prefix are restored in place (copied back from the
 * image, or zeroed outside it) and stay resident, those beyond it are
 * dropped with MADV_DONTNEED, which makes image pages read the image again
 * and others zero. Image pages the tenant only read stay mapped to the
 * shared image, so the next tenant reads them without a page fault. The
 * image stays accessible after release (it is part of the next tenant's
 * minimum size); a tenant from another module gets zero pages mapped in
 * its place first. So keep-resident bounds the private memory a free slot
 * holds; shared image pages are not counted against it.
 *
 * Stacks are the exception: nothing a tenant leaves on its interpreter
 * stack is observable by the next one (the interpreter zeroes a function's
 * locals on entry, and validated code writes every operand slot and the
 * interpreter every frame record before reading it), so a stack is not
 * zeroed. Its pages stay resident for the next tenant, who would fault
 * them in again otherwise; every STACK_TRIM_EVERY releases of a slot they
 * are released with MADV_FREE (the kernel takes them back only under
 * memory pressure), so a slot once used deeply does not pin memory for
 * ever. Releasing them on every reuse cost a third of an instantiation,
 * and more with threads: each madvise of touched pages interrupts every
 * other core running the process to flush its TLB. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "alloc/alloc.h"
#include "util/error.h"

/* An instance's state is zeroed in place up to this many bytes, and the
 * rest given back. It grows with the module (a whirl_func_t per function:
 * 1.3 MB for a 12,700-function SpiderMonkey), and every page given back
 * costs a fault and a share of a TLB shootdown at the next instantiation,
 * several times what zeroing it costs: keeping 16 MiB instead of 1 MiB
 * took whirl serve's componentize-js hello from about 285 to 195 us of CPU
 * per request (bench/serve/README.md). A free slot holds at most what its
 * last tenant used. */
#define INSTANCE_KEEP_RESIDENT ((size_t)16 << 20)

/* A stack slot's pages are given back (lazily) every this many releases. */
#define STACK_TRIM_EVERY 1024

/* Below this many keep-resident bytes to restore, restoring them all costs
 * less than the page-table scan that would find the written ones (about a
 * microsecond, the time of a 64 KiB copy). */
#define BLIND_RESET_MAX ((size_t)64 << 10)

/* Consecutive free slots at the start are this many indices apart (128
 * bytes of the uint32_t per-slot arrays). */
#define SPREAD 32

/* A memory slot's state, changed only by the thread holding the slot. */
typedef struct mem_slot {
    size_t accessible;       /* readable and writable bytes from its start */
    uint64_t image_id;       /* image mapped at [image_off, image_end); 0: none */
    size_t image_off, image_end;
    bool broken;             /* a failed mapping may have left a hole: never reuse */
    bool warm;               /* free and counted in warm_free: its prefix is resident */
} mem_slot_t;

typedef struct shard {
    _Atomic uint64_t head;   /* counter << 32 | (top index + 1); 0: empty */
    _Atomic int64_t in_use;  /* takes minus releases by threads at home here */
} __attribute__((aligned(ALLOC_SHARD_ALIGN))) shard_t;

typedef struct slot_region {
    shard_t shards[ALLOC_SHARDS];
    uint8_t *base;
    size_t stride;           /* bytes per slot, a multiple of the page size */
    size_t mapped;           /* bytes reserved at base */
    uint32_t count;
    size_t keep;             /* keep-resident bytes per slot */
    _Atomic uint32_t *next;  /* per slot: index + 1 of the slot below it */
    bool *committed;         /* per slot: made accessible (non-memory kinds) */
    mem_slot_t *mem;         /* per memory slot */
    uint32_t *releases;      /* per stack slot: releases since its last trim */
    /* Memory slots: at most max_warm free ones keep their keep-resident
     * prefix; the others are released whole into `cold`, taken last. */
    uint32_t max_warm;
    _Atomic uint32_t warm_free;
    shard_t cold;
} slot_region_t;

/* The instance_count limit: tokens, one per store holding instances.
 * Those not taken are in `free_stores` or in the shards' allowances, which
 * a thread takes from and returns to at home (moving STORE_BATCH at a time
 * between its allowance and `free_stores`), taking from the other shards
 * only when both are empty: so the limit holds exactly (a store can be
 * refused spuriously only while another thread is between taking a batch
 * and adding it to its allowance), but a shared cache line is touched only
 * once every few stores. */
#define STORE_BATCH 8

typedef struct store_shard {
    _Atomic uint32_t allowance;
} __attribute__((aligned(ALLOC_SHARD_ALIGN))) store_shard_t;

struct pool {
    slot_region_t regions[POOL_KIND_COUNT];
    store_shard_t store_shards[ALLOC_SHARDS];
    uint32_t max_stores;
    _Atomic uint32_t free_stores __attribute__((aligned(ALLOC_SHARD_ALIGN)));
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
                                  uint64_t slot_bytes, size_t keep, uint64_t max_warm)
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
    r->max_warm = max_warm < count ? (uint32_t)max_warm : (uint32_t)count;
    atomic_init(&r->warm_free, 0);
    atomic_init(&r->cold.head, 0);
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
    r->mem = kind == POOL_MEMORY ? calloc(count, sizeof *r->mem) : NULL;
    r->releases = kind == POOL_STACK ? calloc(count, sizeof *r->releases) : NULL;
    if (!r->next || !r->committed || (kind == POOL_MEMORY && !r->mem) ||
        (kind == POOL_STACK && !r->releases))
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
    /* All in shard 0 at first, slot 0 on top. Slots taken one after the
     * other are SPREAD apart, so that threads taking them in turn at the
     * start do not share the cache lines of the per-slot arrays (next,
     * mem, releases; see ALLOC_SHARD_ALIGN) for ever after. */
    uint32_t rows = (r->count + SPREAD - 1) / SPREAD, prev = 0;
    for (uint32_t k = 0, n = 0; k < rows * SPREAD; k++) {
        uint32_t i = (k % rows) * SPREAD + k / rows;
        if (i >= r->count)
            continue;
        if (n++ == 0)
            atomic_init(&r->shards[0].head, i + 1);
        else
            atomic_init(&r->next[prev], i + 1);
        prev = i;
    }
    atomic_init(&r->next[prev], 0);
    for (int k = 0; k < ALLOC_SHARDS; k++) {
        if (k)
            atomic_init(&r->shards[k].head, 0);
        atomic_init(&r->shards[k].in_use, 0);
    }
    return NULL;
}

static void region_free(slot_region_t *r)
{
    alloc_unreserve(r->base, r->mapped);
    free((void *)r->next);
    free(r->committed);
    free(r->mem);
    free(r->releases);
}

whirl_error_t *pool_new(const pool_limits_t *l, pool_t **out)
{
    *out = NULL;
    /* The shards are aligned (ALLOC_SHARD_ALIGN). */
    size_t size = alloc_round_up(sizeof(pool_t), ALLOC_SHARD_ALIGN);
    pool_t *pool = aligned_alloc(ALLOC_SHARD_ALIGN, size);
    if (!pool)
        return error_oom();
    memset(pool, 0, size);
    if (l->instance_count > UINT32_MAX - 1) {
        free(pool);
        return error_fmt("pooling allocator: instance_count %llu is too large",
                         (unsigned long long)l->instance_count);
    }
    pool->max_stores = (uint32_t)l->instance_count;
    atomic_init(&pool->free_stores, pool->max_stores);
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
                         (size_t)(l->max_warm_memories ? l->memory_keep_resident : 0)},
        [POOL_TABLE] = {l->total_tables, l->table_elements * sizeof(void *),
                        (size_t)l->table_keep_resident},
        [POOL_STACK] = {l->total_stacks, l->stack_bytes, 0},
        [POOL_INSTANCE] = {l->total_core_instances, l->core_instance_size,
                           INSTANCE_KEEP_RESIDENT},
    };
    for (int k = 0; k < POOL_KIND_COUNT; k++) {
        whirl_error_t *err =
            region_init(&pool->regions[k], (pool_kind_t)k, spec[k].count, spec[k].bytes,
                        spec[k].keep, k == POOL_MEMORY ? l->max_warm_memories : 0);
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

static int64_t shard_pop(slot_region_t *r, shard_t *sh)
{
    /* acquire: pairs with the release of the push that put the top there,
     * so its `next` and the slot's reset contents are visible. */
    uint64_t head = atomic_load_explicit(&sh->head, memory_order_acquire);
    for (;;) {
        uint32_t top = (uint32_t)head;
        if (!top)
            return -1;
        uint32_t below = atomic_load_explicit(&r->next[top - 1], memory_order_relaxed);
        uint64_t want = (((head >> 32) + 1) << 32) | below;
        if (atomic_compare_exchange_weak_explicit(&sh->head, &head, want, memory_order_acquire,
                                                  memory_order_acquire))
            return (int64_t)top - 1;
    }
}

/* A free slot from the home shard, else from any other. */
static int64_t region_pop(slot_region_t *r, unsigned home)
{
    for (unsigned k = 0; k < ALLOC_SHARDS; k++) {
        int64_t slot = shard_pop(r, &r->shards[(home + k) % ALLOC_SHARDS]);
        if (slot >= 0)
            return slot;
    }
    return -1;
}

static void shard_push(slot_region_t *r, shard_t *sh, uint32_t slot)
{
    uint64_t head = atomic_load_explicit(&sh->head, memory_order_relaxed);
    for (;;) {
        atomic_store_explicit(&r->next[slot], (uint32_t)head, memory_order_relaxed);
        uint64_t want = (((head >> 32) + 1) << 32) | (slot + 1);
        if (atomic_compare_exchange_weak_explicit(&sh->head, &head, want, memory_order_release,
                                                  memory_order_relaxed))
            return;
    }
}

static void region_push(slot_region_t *r, unsigned home, uint32_t slot)
{
    shard_push(r, &r->shards[home], slot);
}

int64_t pool_take(pool_t *pool, pool_kind_t kind)
{
    slot_region_t *r = &pool->regions[kind];
    unsigned home = alloc_thread_shard();
    int64_t slot = region_pop(r, home);
    if (slot < 0 && kind == POOL_MEMORY)
        slot = shard_pop(r, &r->cold);
    if (slot < 0)
        return -1;
    if (kind == POOL_MEMORY && r->mem[slot].warm) {
        r->mem[slot].warm = false;
        atomic_fetch_sub_explicit(&r->warm_free, 1, memory_order_relaxed);
    }
    if (kind != POOL_MEMORY && !r->committed[slot]) {
        if (!alloc_commit(r->base + (size_t)slot * r->stride, r->stride)) {
            region_push(r, home, (uint32_t)slot);
            return -1;
        }
        r->committed[slot] = true;
    }
    atomic_fetch_add_explicit(&r->shards[home].in_use, 1, memory_order_relaxed);
    return slot;
}

/* Counts the release and puts the slot back (a memory slot released whole
 * on the cold list), unless it could not be reset and may still hold a
 * tenant's data: then it is retired for good. */
static void region_release(slot_region_t *r, uint32_t slot, bool reset, bool cold)
{
    unsigned home = alloc_thread_shard();
    atomic_fetch_sub_explicit(&r->shards[home].in_use, 1, memory_order_relaxed);
    if (reset && cold)
        shard_push(r, &r->cold, slot);
    else if (reset)
        region_push(r, home, slot);
}

/* Whether a memory slot being released may keep its prefix resident:
 * fewer than max_warm free slots do. Counted now, uncounted when taken. */
static bool claim_warm(slot_region_t *r)
{
    uint32_t n = atomic_load_explicit(&r->warm_free, memory_order_relaxed);
    while (n < r->max_warm)
        if (atomic_compare_exchange_weak_explicit(&r->warm_free, &n, n + 1,
                                                  memory_order_relaxed, memory_order_relaxed))
            return true;
    return false;
}

bool pool_memory_prepare(pool_t *pool, uint32_t slot, size_t bytes, const alloc_image_t *image,
                         bool *imaged)
{
    slot_region_t *r = &pool->regions[POOL_MEMORY];
    uint8_t *base = r->base + (size_t)slot * r->stride;
    mem_slot_t *ms = &r->mem[slot];
    *imaged = false;
    if (ms->broken)
        return false;
    if (image && image->offset + image->len > bytes)
        image = NULL;
    if (ms->image_id && (!image || ms->image_id != image->id)) {
        /* Another module's image: zero pages in its place. Release keeps an
         * image inside the accessible prefix, so they are accessible. */
        if (!alloc_map_zero(base + ms->image_off, ms->image_end - ms->image_off, true)) {
            ms->broken = true;
            return false;
        }
        ms->image_id = 0;
    }
    size_t have = ms->accessible;
    bool ok = bytes >= have ? alloc_commit(base + have, bytes - have)
                            : alloc_protect_none(base + bytes, have - bytes);
    if (!ok)
        return false;
    ms->accessible = bytes;
    if (image) {
        if (ms->image_id != image->id) {
            if (alloc_image_map(image, base)) {
                ms->image_id = image->id;
                ms->image_off = image->offset;
                ms->image_end = image->offset + image->len;
            } else if (!alloc_map_zero(base + image->offset, image->len, true)) {
                ms->broken = true;
                return false;
            }
        }
        *imaged = ms->image_id == image->id;
    }
    return true;
}

/* Restores runs of a memory slot's pages to the state the next tenant
 * expects (see the comment at the top). */
typedef struct mem_reset {
    uint8_t *base;
    size_t keep;                 /* bytes restored in place */
    size_t image_off, image_end; /* the image in place; equal: none */
    const uint8_t *src;          /* its bytes, or NULL: revert them with madvise */
} mem_reset_t;

static bool drop_pages(uint8_t *p, size_t bytes)
{
    return !bytes || madvise(p, bytes, MADV_DONTNEED) == 0;
}

static bool reset_run(void *ctx, size_t start, size_t end)
{
    const mem_reset_t *m = ctx;
    size_t in_end = end < m->keep ? end : m->keep;
    for (size_t at = start; at < in_end;) {
        size_t stop;
        if (at < m->image_off) {
            stop = in_end < m->image_off ? in_end : m->image_off;
            memset(m->base + at, 0, stop - at);
        } else if (at < m->image_end) {
            stop = in_end < m->image_end ? in_end : m->image_end;
            if (m->src)
                memcpy(m->base + at, m->src + (at - m->image_off), stop - at);
            else if (!drop_pages(m->base + at, stop - at))
                return false;
        } else {
            stop = in_end;
            memset(m->base + at, 0, stop - at);
        }
        at = stop;
    }
    size_t out = start > m->keep ? start : m->keep;
    return out >= end || drop_pages(m->base + out, end - out);
}

void pool_memory_release(pool_t *pool, uint32_t slot, size_t used, const alloc_image_t *image)
{
    slot_region_t *r = &pool->regions[POOL_MEMORY];
    uint8_t *base = r->base + (size_t)slot * r->stride;
    mem_slot_t *ms = &r->mem[slot];
    size_t page = alloc_page_size();
    bool ok = !ms->broken, warm = false;
    if (ok) {
        /* A memory grows by committing from what pool_memory_prepare made
         * accessible, so its size is what is accessible now; a slot given
         * back unprepared still has what its last release left. */
        if (used > r->stride)
            used = r->stride;
        used = alloc_round_up(used, page);
        if (used < ms->accessible)
            used = ms->accessible;
        size_t keep = r->keep & ~(page - 1);
        if (keep > used)
            keep = used;
        /* Past max_warm free slots, a slot keeps nothing: the pool does
         * not hold keep-resident bytes for every slot a burst used. */
        warm = keep && claim_warm(r);
        if (!warm)
            keep = 0;
        mem_reset_t m = {.base = base, .keep = keep};
        if (ms->image_id) {
            m.image_off = ms->image_off;
            m.image_end = ms->image_end;
            m.src = image && image->id == ms->image_id ? image->src : NULL;
        }
        /* Without the scan every page counts as written: all of the
         * keep-resident prefix is restored, everything past it dropped
         * (and image pages dropped past it fault in again next time). */
        bool scanned = (keep > BLIND_RESET_MAX || (used > keep && m.image_end > keep)) &&
                       alloc_scan_private(base, used, reset_run, &m);
        if (!scanned)
            ok = reset_run(&m, 0, used);
        /* The next tenant from the same module needs the image accessible. */
        size_t hold = keep > m.image_end ? keep : m.image_end;
        ok = ok && alloc_protect_none(base + hold, used - hold);
        if (ok)
            ms->accessible = hold;
        if (warm && !ok)
            atomic_fetch_sub_explicit(&r->warm_free, 1, memory_order_relaxed);
        ms->warm = warm && ok;
    }
    region_release(r, slot, ok, ok && !warm && r->keep);
}

void pool_release(pool_t *pool, pool_kind_t kind, uint32_t slot, size_t used)
{
    if (kind == POOL_MEMORY) {
        pool_memory_release(pool, slot, used, NULL);
        return;
    }
    slot_region_t *r = &pool->regions[kind];
    uint8_t *base = r->base + (size_t)slot * r->stride;
    if (used > r->stride)
        used = r->stride;
    bool ok = true;
    if (kind == POOL_STACK) {
        if (used && ++r->releases[slot] >= STACK_TRIM_EVERY) {
            r->releases[slot] = 0;
            alloc_release_lazily(base, alloc_round_up(used, alloc_page_size()));
        }
    } else {
        ok = alloc_reset(base, used, r->keep);
    }
    region_release(r, slot, ok, false);
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
    slot_region_t *r = &((pool_t *)pool)->regions[kind];
    int64_t n = 0;
    for (int k = 0; k < ALLOC_SHARDS; k++)
        n += atomic_load_explicit(&r->shards[k].in_use, memory_order_relaxed);
    return n > 0 ? (uint32_t)n : 0;
}

static bool take_token(_Atomic uint32_t *from)
{
    uint32_t n = atomic_load_explicit(from, memory_order_relaxed);
    while (n)
        if (atomic_compare_exchange_weak_explicit(from, &n, n - 1, memory_order_relaxed,
                                                  memory_order_relaxed))
            return true;
    return false;
}

bool pool_store_enter(pool_t *pool)
{
    unsigned home = alloc_thread_shard();
    if (take_token(&pool->store_shards[home].allowance))
        return true;
    uint32_t n = atomic_load_explicit(&pool->free_stores, memory_order_relaxed);
    while (n) {
        uint32_t take = n < STORE_BATCH ? n : STORE_BATCH;
        if (atomic_compare_exchange_weak_explicit(&pool->free_stores, &n, n - take,
                                                  memory_order_relaxed, memory_order_relaxed)) {
            atomic_fetch_add_explicit(&pool->store_shards[home].allowance, take - 1,
                                      memory_order_relaxed);
            return true;
        }
    }
    for (unsigned k = 1; k < ALLOC_SHARDS; k++)
        if (take_token(&pool->store_shards[(home + k) % ALLOC_SHARDS].allowance))
            return true;
    return false;
}

void pool_store_leave(pool_t *pool)
{
    _Atomic uint32_t *a = &pool->store_shards[alloc_thread_shard()].allowance;
    uint32_t n = atomic_fetch_add_explicit(a, 1, memory_order_relaxed) + 1;
    while (n > 2 * STORE_BATCH)
        if (atomic_compare_exchange_weak_explicit(a, &n, n - STORE_BATCH, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            atomic_fetch_add_explicit(&pool->free_stores, STORE_BATCH, memory_order_relaxed);
            break;
        }
}

uint32_t pool_stores_in_use(const pool_t *pool)
{
    pool_t *p = (pool_t *)pool;
    uint64_t idle = atomic_load_explicit(&p->free_stores, memory_order_relaxed);
    for (int k = 0; k < ALLOC_SHARDS; k++)
        idle += atomic_load_explicit(&p->store_shards[k].allowance, memory_order_relaxed);
    return idle < p->max_stores ? p->max_stores - (uint32_t)idle : 0;
}
