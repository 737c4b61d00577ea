/* Files read whole into memory, below the runtime: the images serialised
 * modules are loaded from (src/runtime/serialize.c) and that the
 * compilation cache reads its entries into (cache.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/image.h"
#include "util/error.h"

/* Below this, malloc; above, a mapping of its own (returned to the system
 * on free, unlike heap memory). */
#define REGION_MAP_THRESHOLD (1u << 20)
#define HUGE_PAGE (2u << 20)

bool region_alloc(region_t *r, size_t len)
{
    r->len = r->cap = len;
    if (len < REGION_MAP_THRESHOLD) {
        r->kind = REGION_MALLOC;
        r->base = malloc(len ? len : 1);
        return r->base != NULL;
    }
    /* Huge pages: faulting in tens of MB 4 KiB at a time would cost more
     * than the rest of a load. */
    size_t cap = (len + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
    void *p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        r->base = NULL;
        return false;
    }
    madvise(p, cap, MADV_HUGEPAGE); /* a hint: fine if refused */
    r->kind = REGION_MAPPED;
    r->base = p;
    r->cap = cap;
    return true;
}

void region_free(region_t *r)
{
    if (!r || !r->base)
        return;
    if (r->kind == REGION_MALLOC)
        free(r->base);
    else
        munmap(r->base, r->cap);
    r->base = NULL;
    r->len = r->cap = 0;
}

void module_image_free(module_image_t *image)
{
    if (!image)
        return;
    region_free(&image->file);
    region_free(&image->code);
}

whirl_error_t *image_read_fd(int fd, const char *path, size_t min_len, module_image_t *image)
{
    memset(image, 0, sizeof *image);
    struct stat st;
    if (fstat(fd, &st) != 0)
        return error_fmt("%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return error_fmt("%s: not a regular file", path);
    if ((uint64_t)st.st_size < min_len)
        return error_fmt("%s: truncated precompiled module: %lld bytes, less than its %zu-byte "
                         "header",
                         path, (long long)st.st_size, min_len);
    if ((uint64_t)st.st_size > SIZE_MAX / 2)
        return error_fmt("%s: %lld bytes is too large", path, (long long)st.st_size);
    size_t len = (size_t)st.st_size;
    region_t *file = &image->file;
    if (len >= REGION_MAP_THRESHOLD) {
        /* Mapped read-only: no copy, and pages shared with other processes
         * loading the same file (all but the code, which is rewritten). */
        void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (p == MAP_FAILED)
            return error_fmt("%s: %s", path, strerror(errno));
        file->base = p;
        file->len = file->cap = len;
        file->kind = REGION_FILE;
        return NULL;
    }
    if (!region_alloc(file, len))
        return error_oom();
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, (uint8_t *)file->base + got, len - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : 0;
            region_free(file);
            return e ? error_fmt("%s: %s", path, strerror(e))
                     : error_fmt("%s: truncated while reading (%zu of %zu bytes)", path, got,
                                 len);
        }
        got += (size_t)n;
    }
    return NULL;
}

