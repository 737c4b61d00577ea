/* Page-level helpers over mmap, mprotect and madvise, and the page-table
 * scan that finds the pages a tenant wrote. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
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

unsigned alloc_thread_shard(void)
{
    static unsigned next_home; /* only through __atomic builtins */
    static __thread int home = -1;
    if (home < 0)
        home = (int)(__atomic_fetch_add(&next_home, 1, __ATOMIC_RELAXED) % ALLOC_SHARDS);
    return (unsigned)home;
}

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

bool alloc_map_zero(void *base, size_t bytes, bool accessible)
{
    if (!bytes)
        return true;
    void *p = mmap(base, bytes, accessible ? PROT_READ | PROT_WRITE : PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    return p == base;
}

/* ---- which pages hold private data: PAGEMAP_SCAN ----
 *
 * The ioctl (Linux 6.7) walks the page tables of a range and returns runs
 * of pages by category. Its uapi definitions are not in older kernel
 * headers, so they are spelled out here; the values are the kernel ABI. */

#define SCAN_IOCTL _IOWR('f', 16, struct scan_arg)
#define SCAN_IS_FILE (1u << 2)
#define SCAN_IS_PRESENT (1u << 3)
#define SCAN_IS_SWAPPED (1u << 4)
#define SCAN_IS_PFNZERO (1u << 5)

struct scan_region {
    uint64_t start, end, categories;
};

struct scan_arg {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
    uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};

/* /proc/self/pagemap names the process that opens it: a forked child must
 * open its own (the atfork handler drops the parent's). -1: not open yet,
 * -2: unusable. */
static int scan_fd = -1;
static pthread_mutex_t scan_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t scan_atfork_once = PTHREAD_ONCE_INIT;

static void scan_after_fork(void)
{
    int fd = __atomic_load_n(&scan_fd, __ATOMIC_RELAXED);
    if (fd >= 0)
        close(fd);
    if (fd != -2)
        __atomic_store_n(&scan_fd, -1, __ATOMIC_RELAXED);
    pthread_mutex_init(&scan_lock, NULL);
}

static void scan_register_atfork(void) { pthread_atfork(NULL, NULL, scan_after_fork); }

/* One ioctl call's worth of runs, passed to fn; *next is where to go on. */
static int scan_step(int fd, uint8_t *base, uint64_t from, uint64_t to, alloc_range_fn fn,
                     void *ctx, uint64_t *next)
{
    struct scan_region vec[32];
    struct scan_arg a = {
        .size = sizeof a,
        .start = from,
        .end = to,
        .vec = (uint64_t)(uintptr_t)vec,
        .vec_len = sizeof vec / sizeof vec[0],
        /* Not file-backed, not the zero page, and present or swapped. */
        .category_inverted = SCAN_IS_FILE | SCAN_IS_PFNZERO,
        .category_mask = SCAN_IS_FILE | SCAN_IS_PFNZERO,
        .category_anyof_mask = SCAN_IS_PRESENT | SCAN_IS_SWAPPED,
        .return_mask = SCAN_IS_PRESENT | SCAN_IS_SWAPPED,
    };
    int n = ioctl(fd, SCAN_IOCTL, &a);
    if (n < 0 || (size_t)n > sizeof vec / sizeof vec[0] || a.walk_end <= from || a.walk_end > to)
        return -1;
    uint64_t b = (uint64_t)(uintptr_t)base;
    for (int i = 0; i < n; i++) {
        if (vec[i].start < from || vec[i].end > a.walk_end || vec[i].start >= vec[i].end)
            return -1;
        if (fn && !fn(ctx, (size_t)(vec[i].start - b), (size_t)(vec[i].end - b)))
            return -1;
    }
    *next = a.walk_end;
    return n;
}

static bool scan_runs(int fd, uint8_t *base, size_t bytes, alloc_range_fn fn, void *ctx)
{
    uint64_t at = (uint64_t)(uintptr_t)base, end = at + bytes;
    while (at < end)
        if (scan_step(fd, base, at, end, fn, ctx, &at) < 0)
            return false;
    return true;
}

typedef struct probe_seen {
    size_t runs, start, end;
} probe_seen_t;

static bool probe_record(void *ctx, size_t start, size_t end)
{
    probe_seen_t *s = ctx;
    if (s->runs++ == 0) {
        s->start = start;
        s->end = end;
    }
    return true;
}

/* The scan decides what the next tenant of a slot could see, so it is only
 * trusted after it reported exactly the written page of a probe: one page
 * written, one only read (the zero page) and one untouched anonymous page,
 * then one page written and one only read of a private file mapping. */
static bool scan_self_test(int fd)
{
    size_t page = alloc_page_size();
    uint8_t *a = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED)
        return false;
    volatile uint8_t *va = a;
    (void)va[0];
    va[page] = 1;
    probe_seen_t seen = {0};
    bool ok = scan_runs(fd, a, 3 * page, probe_record, &seen) && seen.runs == 1 &&
              seen.start == page && seen.end == 2 * page;
    munmap(a, 3 * page);
    if (!ok)
        return false;
    uint8_t *fill;
    alloc_image_t *img = alloc_image_new(0, 2 * page, &fill);
    if (!img)
        return false;
    fill[0] = fill[page] = 7;
    uint8_t *f = alloc_image_seal(img) ? mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
                                              MAP_PRIVATE, img->fd, 0)
                                       : MAP_FAILED;
    if (f != MAP_FAILED) {
        volatile uint8_t *vf = f;
        (void)vf[0];
        vf[page] = 8;
        seen = (probe_seen_t){0};
        ok = scan_runs(fd, f, 2 * page, probe_record, &seen) && seen.runs == 1 &&
             seen.start == page && seen.end == 2 * page;
        munmap(f, 2 * page);
    } else {
        ok = false;
    }
    alloc_image_free(img);
    return ok;
}

static int scan_open(void)
{
    int fd = __atomic_load_n(&scan_fd, __ATOMIC_ACQUIRE);
    if (fd != -1)
        return fd;
    pthread_once(&scan_atfork_once, scan_register_atfork);
    pthread_mutex_lock(&scan_lock);
    fd = __atomic_load_n(&scan_fd, __ATOMIC_RELAXED);
    if (fd == -1) {
        fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && !scan_self_test(fd)) {
            close(fd);
            fd = -2;
        }
        if (fd < 0)
            fd = -2;
        __atomic_store_n(&scan_fd, fd, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&scan_lock);
    return fd;
}

bool alloc_scan_private(void *base, size_t bytes, alloc_range_fn fn, void *ctx)
{
    int fd = scan_open();
    if (fd < 0)
        return false;
    return !bytes || scan_runs(fd, base, bytes, fn, ctx);
}
