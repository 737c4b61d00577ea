/* Shared memories (threads): growth that every thread sees, and one memory
 * used from several stores.
 *
 * A shared memory is an ordinary memory (memory.c: its reservation covers
 * all it can ever reach, so the base never moves) marked shared. It counts
 * its whole maximum against its store's limits when it becomes shared, so
 * growth, which any thread of any store may do, never touches a store's
 * accounting. Growth takes one process-wide lock (it is rare), commits the
 * pages and publishes the new size with a release store to every memory
 * object over the same bytes; readers reload it with acquire loads where a
 * stale size could refuse a valid access (interp.c SHARED_GREW, memory.size).
 *
 * whirl_shared_memory_import gives another store a memory object of its own
 * (a "view", so that store objects stay per store) over the same bytes. The
 * memory and its views are listed in a backing record; whichever of them
 * is destroyed last unmaps the bytes. */
#include <pthread.h>
#include <stdlib.h>

#include "alloc/alloc.h"
#include "runtime/internal.h"

typedef struct shared_backing {
    whirl_memory_t **members; /* the memory objects over these bytes */
    size_t nmembers, cap;
} shared_backing_t;

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;

whirl_error_t *memory_make_shared(whirl_memory_t *memory)
{
    uint64_t max_bytes = memory->max_pages * WHIRL_PAGE_SIZE;
    if (max_bytes > memory->size) {
        whirl_error_t *err = memory_check_limits(memory->store,
                                                 (max_bytes - memory->size) / WHIRL_PAGE_SIZE, 0);
        if (err)
            return error_prefix(err, "shared memory (counted at its maximum): ");
        memory->store->hosting.memory_consumed += max_bytes - memory->size;
    }
    memory->shared = true;
    return NULL;
}

uint64_t memory_counted_bytes(const whirl_memory_t *memory)
{
    if (memory->shared_view)
        return 0;
    uint64_t max_bytes = memory->max_pages * WHIRL_PAGE_SIZE;
    return memory->shared && max_bytes > memory->size ? max_bytes : memory->size;
}

int64_t shared_memory_grow(whirl_memory_t *memory, uint64_t delta)
{
    pthread_mutex_lock(&shared_lock);
    uint64_t size = memory->size, old_pages = size / WHIRL_PAGE_SIZE;
    int64_t result = (int64_t)old_pages;
    if (delta > memory->max_pages - old_pages || delta * WHIRL_PAGE_SIZE > memory->cap_bytes - size) {
        result = -1;
    } else if (delta) {
        uint64_t add = delta * WHIRL_PAGE_SIZE;
        if (!alloc_commit(memory->base + size, (size_t)add)) {
            result = -1;
        } else if (memory->backing) {
            for (size_t i = 0; i < memory->backing->nmembers; i++)
                __atomic_store_n(&memory->backing->members[i]->size, size + add,
                                 __ATOMIC_RELEASE);
        } else {
            __atomic_store_n(&memory->size, size + add, __ATOMIC_RELEASE);
        }
    }
    pthread_mutex_unlock(&shared_lock);
    return result;
}

bool shared_memory_release(whirl_memory_t *memory)
{
    pthread_mutex_lock(&shared_lock);
    shared_backing_t *b = memory->backing;
    bool last = true;
    if (b) {
        for (size_t i = 0; i < b->nmembers; i++) {
            if (b->members[i] == memory) {
                b->members[i] = b->members[--b->nmembers];
                break;
            }
        }
        last = b->nmembers == 0;
        if (last) {
            free(b->members);
            free(b);
        }
        memory->backing = NULL;
    }
    pthread_mutex_unlock(&shared_lock);
    return last;
}

/* Adds `m` to the memory's backing, making one if needed. Under the lock. */
static bool backing_add(whirl_memory_t *origin, whirl_memory_t *m)
{
    shared_backing_t *b = origin->backing;
    if (!b) {
        if (!(b = calloc(1, sizeof *b)))
            return false;
        origin->backing = b;
    }
    if (b->nmembers + 2 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4;
        whirl_memory_t **members = realloc(b->members, cap * sizeof *members);
        if (!members)
            return false;
        b->members = members;
        b->cap = cap;
    }
    if (b->nmembers == 0)
        b->members[b->nmembers++] = origin;
    b->members[b->nmembers++] = m;
    m->backing = b;
    return true;
}

whirl_error_t *whirl_shared_memory_new(whirl_store_t *store, uint64_t min, uint64_t max,
                                       whirl_memory_t **out)
{
    if (!out)
        return error_fmt("whirl_shared_memory_new: out is NULL");
    *out = NULL;
    if (max == WHIRL_NO_MAX)
        return error_fmt("whirl_shared_memory_new: a shared memory needs a maximum");
    whirl_memory_t *m;
    whirl_error_t *err = whirl_memory_new(store, min, max, &m);
    if (err)
        return err;
    if ((err = memory_make_shared(m)))
        return err; /* m stays the store's, as an unshared memory nobody holds */
    *out = m;
    return NULL;
}

whirl_error_t *whirl_shared_memory_import(whirl_store_t *other, whirl_memory_t *shared,
                                          whirl_memory_t **out)
{
    if (!out)
        return error_fmt("whirl_shared_memory_import: out is NULL");
    *out = NULL;
    if (!other || !shared)
        return error_fmt("whirl_shared_memory_import: store or memory is NULL");
    if (!shared->shared)
        return error_fmt("whirl_shared_memory_import: the memory is not shared");
    if (shared->pooled)
        return error_fmt("whirl_shared_memory_import: the memory lives in an instance pool "
                         "slot; make it with whirl_shared_memory_new");
    if (other->engine != shared->store->engine)
        return error_fmt("whirl_shared_memory_import: the stores belong to different engines");
    whirl_memory_t *v = calloc(1, sizeof *v);
    if (!v)
        return error_oom();
    pthread_mutex_lock(&shared_lock);
    bool ok = backing_add(shared, v);
    if (ok) {
        v->store = other;
        v->base = shared->base;
        v->size = shared->size;
        v->max_pages = shared->max_pages;
        v->has_max = shared->has_max;
        v->is64 = shared->is64;
        v->declared_max = shared->declared_max;
        v->reserved = shared->reserved;
        v->cap_bytes = shared->cap_bytes;
        v->shared = v->shared_view = true;
    }
    pthread_mutex_unlock(&shared_lock);
    if (!ok) {
        free(v);
        return error_oom();
    }
    store_adopt(other, &v->obj, OBJ_MEMORY);
    *out = v;
    return NULL;
}

bool whirl_memory_is_shared(const whirl_memory_t *memory)
{
    return memory && memory->shared;
}
