/* Copy-on-write memory images: the initial contents of a linear memory
 * (its data segments laid out as they will be in memory), held once per
 * module in a memfd and mapped MAP_PRIVATE into each memory that starts
 * from them. Reading such a memory shares the memfd's pages; the first
 * write to a page gives that memory a private copy of it, so no instance
 * copies the data segments and no other instance sees its writes.
 *
 * The memfd is sealed against growing, shrinking and writing once it is
 * filled: a shrink would turn the private mappings' pages into SIGBUS, a
 * write would change every memory still reading the shared pages. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc/alloc.h"

/* Ids tell a pool slot whether the image it still has mapped is the one a
 * new tenant wants; they are never reused, unlike addresses. */
static _Atomic uint64_t next_image_id = 1;

alloc_image_t *alloc_image_new(size_t offset, size_t len, uint8_t **fill)
{
    size_t page = alloc_page_size();
    *fill = NULL;
    if (!len || (offset | len) & (page - 1))
        return NULL;
    alloc_image_t *img = calloc(1, sizeof *img);
    if (!img)
        return NULL;
    img->fd = memfd_create("whirl-memory-image", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (img->fd < 0 || ftruncate(img->fd, (off_t)len) != 0)
        goto fail;
    void *w = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, img->fd, 0);
    if (w == MAP_FAILED)
        goto fail;
    img->id = atomic_fetch_add_explicit(&next_image_id, 1, memory_order_relaxed);
    img->offset = offset;
    img->len = len;
    img->src = w; /* until sealed: the filling view */
    *fill = w;
    return img;
fail:
    if (img->fd >= 0)
        close(img->fd);
    free(img);
    return NULL;
}

bool alloc_image_seal(alloc_image_t *img)
{
    /* F_SEAL_WRITE refuses while any shared mapping could write, and a
     * shared read-only mapping of a writable fd still counts: unmap the
     * filling view, seal, and keep a private read-only view (it shares the
     * memfd's pages, since nothing ever writes it). */
    munmap(img->src, img->len);
    img->src = NULL;
    if (fcntl(img->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
        return false;
    void *r = mmap(NULL, img->len, PROT_READ, MAP_PRIVATE, img->fd, 0);
    if (r == MAP_FAILED)
        return false;
    img->src = r;
    return true;
}

void alloc_image_free(alloc_image_t *img)
{
    if (!img)
        return;
    /* Memories that still map the image keep the file alive. */
    if (img->src)
        munmap((void *)img->src, img->len);
    if (img->fd >= 0)
        close(img->fd);
    free(img);
}

bool alloc_image_map(const alloc_image_t *img, uint8_t *memory_base)
{
    void *at = memory_base + img->offset;
    void *p = mmap(at, img->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, img->fd, 0);
    return p == at;
}
