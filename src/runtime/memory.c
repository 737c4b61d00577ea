/* Linear memories.
 *
 * Each memory sits at the start of its own reservation (see
 * ALLOC_MEMORY_RESERVATION: 4 GiB that can ever be addressable plus a 4 GiB
 * guard), either a slot of the engine's pool or a mapping of its own, so
 * growth only changes the protection of pages already reserved: the base
 * never moves while the store lives. Every memory counts against its
 * store's max_memory_size limit and the engine's max_memory_size knob.
 *
 * A memory made by instantiation may start as its module's copy-on-write
 * image (alloc/image.c) instead of zero: the image is mapped over the start
 * of the reservation and the data segments are never copied. The image
 * belongs to the module, which outlives the memory: the instance holding
 * the module is adopted by the store before its memories, so the store
 * frees them first. */
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc.h"
#include "runtime/internal.h"
#include "runtime/plan.h"

typedef struct memory_impl {
    struct whirl_memory pub;
    const alloc_image_t *image; /* mapped at creation, or NULL */
} memory_impl_t;

/* Bytes a memory of this engine may reach: the max_memory_size knob in
 * whole pages. */
static uint64_t engine_memory_cap(const whirl_engine_t *engine)
{
    uint64_t cap = ENGINE_KNOB(engine, WHIRL_POOL_MAX_MEMORY_SIZE) & ~(uint64_t)(WHIRL_PAGE_SIZE - 1);
    return cap < ALLOC_MEMORY_ADDRESSABLE ? cap : ALLOC_MEMORY_ADDRESSABLE;
}

whirl_error_t *memory_check_limits(const whirl_store_t *store, uint64_t pages,
                                   uint64_t already)
{
    uint64_t bytes = pages * WHIRL_PAGE_SIZE;
    uint64_t cap = engine_memory_cap(store->engine);
    if (bytes > cap)
        return error_fmt("memory of %llu pages (%llu bytes) exceeds the engine's "
                         "max_memory_size of %llu bytes",
                         (unsigned long long)pages, (unsigned long long)bytes,
                         (unsigned long long)ENGINE_KNOB(store->engine,
                                                         WHIRL_POOL_MAX_MEMORY_SIZE));
    const struct store_hosting *h = &store->hosting;
    uint64_t used = h->memory_consumed + already;
    if (h->max_memory_size != WHIRL_NO_LIMIT &&
        (used > h->max_memory_size || bytes > h->max_memory_size - used))
        return error_fmt("memory of %llu bytes exceeds the store's max_memory_size limit of "
                         "%llu bytes (%llu bytes already in use)",
                         (unsigned long long)bytes, (unsigned long long)h->max_memory_size,
                         (unsigned long long)used);
    return NULL;
}

whirl_error_t *memory_create(whirl_store_t *store, uint64_t min, uint64_t max_pages,
                             bool has_max, int64_t pool_slot, whirl_memory_t **out)
{
    bool imaged;
    return memory_create_from(store, min, max_pages, has_max, pool_slot, NULL, &imaged, out);
}

whirl_error_t *memory_create_from(whirl_store_t *store, uint64_t min, uint64_t max_pages,
                                  bool has_max, int64_t pool_slot, const alloc_image_t *image,
                                  bool *imaged, whirl_memory_t **out)
{
    *out = NULL;
    *imaged = false;
    if (min > MEMORY_MAX_PAGES || max_pages > MEMORY_MAX_PAGES || min > max_pages)
        return error_fmt("memory limits out of range: min %llu, max %llu pages",
                         (unsigned long long)min, (unsigned long long)max_pages);
    whirl_error_t *err = memory_check_limits(store, min, 0);
    if (err)
        return err;
    memory_impl_t *impl = calloc(1, sizeof *impl);
    if (!impl)
        return error_oom();
    whirl_memory_t *m = &impl->pub;
    uint64_t bytes = min * WHIRL_PAGE_SIZE;
    uint64_t cap = max_pages * WHIRL_PAGE_SIZE;
    uint64_t engine_cap = engine_memory_cap(store->engine);
    if (cap > engine_cap)
        cap = engine_cap;
    if (image && image->offset + image->len > bytes)
        image = NULL; /* the module's plan never makes such an image */
    if (pool_slot >= 0) {
        pool_t *pool = store->engine->pool;
        m->base = pool_slot_base(pool, POOL_MEMORY, (uint32_t)pool_slot);
        if (!pool_memory_prepare(pool, (uint32_t)pool_slot, (size_t)bytes, image, imaged)) {
            free(impl);
            return error_fmt("cannot commit %llu pages of linear memory in its pool slot",
                             (unsigned long long)min);
        }
        m->reserved = pool_slot_size(pool, POOL_MEMORY);
        m->pooled = true;
        m->pool_slot = (uint32_t)pool_slot;
    } else {
        err = alloc_memory_map(bytes, cap, &m->base, &m->reserved, &cap);
        if (err) {
            free(impl);
            return err;
        }
        /* On failure the range may be unmapped: the reservation would have
         * a hole another mapping could take, so the memory is given up. */
        if (image && !(*imaged = alloc_image_map(image, m->base)) &&
            !alloc_map_zero(m->base + image->offset, image->len, true)) {
            alloc_unreserve(m->base, m->reserved);
            free(impl);
            return error_fmt("cannot map the initial contents of a linear memory of %llu pages",
                             (unsigned long long)min);
        }
    }
    if (*imaged)
        impl->image = image;
    m->store = store;
    m->size = bytes;
    m->max_pages = max_pages;
    m->has_max = has_max;
    m->cap_bytes = cap;
    store->hosting.memory_consumed += bytes;
    store_adopt(store, &m->obj, OBJ_MEMORY);
    *out = m;
    return NULL;
}

void memory_destroy(whirl_memory_t *memory)
{
    whirl_store_t *store = memory->store;
    if (store)
        store->hosting.memory_consumed -= memory_counted_bytes(memory);
    if (memory->shared && !shared_memory_release(memory)) {
        free(memory); /* a view, or other stores still use the bytes */
        return;
    }
    if (memory->pooled)
        pool_memory_release(store->engine->pool, memory->pool_slot, (size_t)memory->size,
                            ((memory_impl_t *)memory)->image);
    else if (memory->base)
        alloc_unreserve(memory->base, memory->reserved);
    free(memory);
}

static int64_t memory_grow_unshared(whirl_memory_t *memory, uint64_t delta);

int64_t memory_grow(whirl_memory_t *memory, uint64_t delta)
{
    return memory->shared ? shared_memory_grow(memory, delta)
                          : memory_grow_unshared(memory, delta);
}

static int64_t memory_grow_unshared(whirl_memory_t *memory, uint64_t delta)
{
    uint64_t old_pages = memory->size / WHIRL_PAGE_SIZE;
    if (delta > memory->max_pages - old_pages)
        return -1;
    if (!delta)
        return (int64_t)old_pages;
    uint64_t add = delta * WHIRL_PAGE_SIZE;
    if (add > memory->cap_bytes - memory->size)
        return -1;
    struct store_hosting *h = &memory->store->hosting;
    if (h->max_memory_size != WHIRL_NO_LIMIT &&
        (h->memory_consumed > h->max_memory_size ||
         add > h->max_memory_size - h->memory_consumed)) {
        engine_log(memory->store->engine, WHIRL_LOG_WARNING, "memory_limit_exceeded",
                   "current=%llu desired=%llu max=%llu consumed=%llu",
                   (unsigned long long)memory->size, (unsigned long long)(memory->size + add),
                   (unsigned long long)h->max_memory_size,
                   (unsigned long long)h->memory_consumed);
        return -1;
    }
    /* Pages beyond the current size were never accessible since the memory
     * was created (or its pool slot reset), so new pages read as zero. */
    if (!alloc_commit(memory->base + memory->size, (size_t)add))
        return -1;
    memory->size += add;
    h->memory_consumed += add;
    return (int64_t)old_pages;
}

whirl_error_t *whirl_memory_new(whirl_store_t *store, uint64_t min, uint64_t max,
                                whirl_memory_t **out)
{
    if (!out)
        return error_fmt("whirl_memory_new: out is NULL");
    *out = NULL;
    if (!store)
        return error_fmt("whirl_memory_new: store is NULL");
    bool has_max = max != WHIRL_NO_MAX;
    if (min > MEMORY_MAX_PAGES)
        return error_fmt("memory minimum of %llu pages exceeds the limit of %u pages (4 GiB)",
                         (unsigned long long)min, MEMORY_MAX_PAGES);
    if (has_max && max > MEMORY_MAX_PAGES)
        return error_fmt("memory maximum of %llu pages exceeds the limit of %u pages (4 GiB)",
                         (unsigned long long)max, MEMORY_MAX_PAGES);
    if (has_max && min > max)
        return error_fmt("memory minimum of %llu pages is greater than its maximum of %llu",
                         (unsigned long long)min, (unsigned long long)max);
    /* Host-created memories are mapped on demand, as in wasmtime: the pool
     * is for instances. They count against the store's limits all the same. */
    return memory_create(store, min, has_max ? max : MEMORY_MAX_PAGES, has_max, -1, out);
}

uint8_t *whirl_memory_data(const whirl_memory_t *memory) { return memory ? memory->base : NULL; }

size_t whirl_memory_data_size(const whirl_memory_t *memory)
{
    return memory ? (size_t)__atomic_load_n(&memory->size, __ATOMIC_ACQUIRE) : 0;
}

uint64_t whirl_memory_pages(const whirl_memory_t *memory)
{
    return memory ? __atomic_load_n(&memory->size, __ATOMIC_ACQUIRE) / WHIRL_PAGE_SIZE : 0;
}

whirl_error_t *whirl_memory_grow(whirl_memory_t *memory, uint64_t delta, uint64_t *old_pages)
{
    if (!memory)
        return error_fmt("whirl_memory_grow: memory is NULL");
    int64_t old = memory_grow(memory, delta);
    if (old < 0)
        return error_fmt("cannot grow memory of %llu pages by %llu pages (maximum %llu pages, "
                         "%llu bytes reachable, store max_memory_size %llu bytes with %llu in "
                         "use)",
                         (unsigned long long)(memory->size / WHIRL_PAGE_SIZE),
                         (unsigned long long)delta, (unsigned long long)memory->max_pages,
                         (unsigned long long)memory->cap_bytes,
                         (unsigned long long)memory->store->hosting.max_memory_size,
                         (unsigned long long)memory->store->hosting.memory_consumed);
    if (old_pages)
        *old_pages = (uint64_t)old;
    return NULL;
}
