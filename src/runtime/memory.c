/* Linear memories.
 *
 * Each memory reserves its whole address range once: 4 GiB that can ever be
 * addressable, plus 4 GiB of inaccessible guard, plus one guard page. A
 * 32-bit address plus a 32-bit static offset plus an access of up to 16 bytes
 * therefore always lands inside the reservation, so an out-of-bounds access
 * can fault instead of touching another mapping, and growth only changes the
 * protection of pages that are already reserved: the base never moves. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "runtime/internal.h"

#define MEMORY_RESERVATION ((size_t)8 << 30)
#define MEMORY_GUARD_TAIL ((size_t)WHIRL_PAGE_SIZE)

whirl_error_t *memory_create(whirl_store_t *store, uint64_t min, uint64_t max_pages,
                             bool has_max, whirl_memory_t **out)
{
    *out = NULL;
    if (min > MEMORY_MAX_PAGES || max_pages > MEMORY_MAX_PAGES || min > max_pages)
        return error_fmt("memory limits out of range: min %llu, max %llu pages",
                         (unsigned long long)min, (unsigned long long)max_pages);
    whirl_memory_t *m = calloc(1, sizeof *m);
    if (!m)
        return error_oom();
    size_t reserved = MEMORY_RESERVATION + MEMORY_GUARD_TAIL;
    void *base = mmap(NULL, reserved, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                      -1, 0);
    if (base == MAP_FAILED) {
        int err = errno;
        free(m);
        return error_fmt("cannot reserve %zu bytes of address space for a linear memory: %s",
                         reserved, strerror(err));
    }
    size_t bytes = (size_t)min * WHIRL_PAGE_SIZE;
    if (bytes && mprotect(base, bytes, PROT_READ | PROT_WRITE) != 0) {
        int err = errno;
        munmap(base, reserved);
        free(m);
        return error_fmt("cannot commit %llu pages of linear memory: %s",
                         (unsigned long long)min, strerror(err));
    }
    m->store = store;
    m->base = base;
    m->size = bytes;
    m->max_pages = max_pages;
    m->has_max = has_max;
    m->reserved = reserved;
    store_adopt(store, &m->obj, OBJ_MEMORY);
    *out = m;
    return NULL;
}

void memory_destroy(whirl_memory_t *memory)
{
    if (memory->base)
        munmap(memory->base, memory->reserved);
    free(memory);
}

int64_t memory_grow(whirl_memory_t *memory, uint64_t delta)
{
    uint64_t old_pages = memory->size / WHIRL_PAGE_SIZE;
    if (delta > memory->max_pages - old_pages)
        return -1;
    if (delta) {
        /* Pages beyond the current size were never accessible, and pages
         * never written since mmap are zero, so new pages read as zero. */
        if (mprotect(memory->base + memory->size, (size_t)delta * WHIRL_PAGE_SIZE,
                     PROT_READ | PROT_WRITE) != 0)
            return -1;
        memory->size += delta * WHIRL_PAGE_SIZE;
    }
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
    return memory_create(store, min, has_max ? max : MEMORY_MAX_PAGES, has_max, out);
}

uint8_t *whirl_memory_data(const whirl_memory_t *memory) { return memory ? memory->base : NULL; }

size_t whirl_memory_data_size(const whirl_memory_t *memory)
{
    return memory ? (size_t)memory->size : 0;
}

uint64_t whirl_memory_pages(const whirl_memory_t *memory)
{
    return memory ? memory->size / WHIRL_PAGE_SIZE : 0;
}

whirl_error_t *whirl_memory_grow(whirl_memory_t *memory, uint64_t delta, uint64_t *old_pages)
{
    if (!memory)
        return error_fmt("whirl_memory_grow: memory is NULL");
    int64_t old = memory_grow(memory, delta);
    if (old < 0)
        return error_fmt("cannot grow memory of %llu pages by %llu pages (maximum %llu pages)",
                         (unsigned long long)(memory->size / WHIRL_PAGE_SIZE),
                         (unsigned long long)delta, (unsigned long long)memory->max_pages);
    if (old_pages)
        *old_pages = (uint64_t)old;
    return NULL;
}
