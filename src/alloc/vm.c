/* Page-level helpers over mmap, mprotect and madvise. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc/alloc.h"

size_t alloc_page_size(void)
{
    static size_t page;
    if (!page) {
        long p = sysconf(_SC_PAGESIZE);
        /* A benign race: every thread computes the same value. */
        __atomic_store_n(&page, p > 0 ? (size_t)p : 4096, __ATOMIC_RELAXED);
    }
    return __atomic_load_n(&page, __ATOMIC_RELAXED);
}

size_t alloc_round_up(size_t n, size_t align) { return (n + align - 1) & ~(align - 1); }

void *alloc_reserve(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void alloc_unreserve(void *base, size_t bytes)
{
    if (base && bytes)
        munmap(base, bytes);
}

bool alloc_commit(void *base, size_t bytes)
{
    return !bytes || mprotect(base, bytes, PROT_READ | PROT_WRITE) == 0;
}

bool alloc_protect_none(void *base, size_t bytes)
{
    return !bytes || mprotect(base, bytes, PROT_NONE) == 0;
}

bool alloc_reset(void *base, size_t used, size_t keep)
{
    size_t page = alloc_page_size();
    keep &= ~(page - 1);
    if (used <= keep) {
        memset(base, 0, used);
        return true;
    }
    memset(base, 0, keep);
    uint8_t *rest = (uint8_t *)base + keep;
    size_t len = alloc_round_up(used - keep, page);
    if (madvise(rest, len, MADV_DONTNEED) == 0)
        return true;
    /* Only possible for a range that is not writable: clearing by hand
     * would fault, so the caller must not reuse the slot. */
    return false;
}

void alloc_release_lazily(void *base, size_t bytes)
{
#ifdef MADV_FREE
    if (madvise(base, bytes, MADV_FREE) == 0)
        return;
#endif
    madvise(base, bytes, MADV_DONTNEED);
}
