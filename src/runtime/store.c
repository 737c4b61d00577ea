/* Stores: own every object created in them and free them all at once;
 * hold the limits and accounting of what they contain, and the pool slots
 * shared by all their instances (the count against instance_count and the
 * interpreter stack). */
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "alloc/alloc.h"
#include "exec/exec.h"
#include "runtime/internal.h"

typedef struct host_func_slot {
    uint64_t def_id; /* 0: empty */
    whirl_func_t *func;
} host_func_slot_t;

/* The public store plus the runtime's private cache of linker-created host
 * functions (open addressing, power-of-two capacity). The cache lives in the
 * store rather than in the linker so that it dies with the store: a linker
 * outliving many short-lived stores keeps no stale entries. */
typedef struct store_impl {
    struct whirl_store pub;
    host_func_slot_t *host_funcs;
    size_t host_cap, host_count;
    /* Without a pool slot: the interpreter stack this store handed out. */
    void *stack;
    size_t stack_bytes;
} store_impl_t;

/* ---- interpreter stacks without a pool ----
 *
 * Each store's interpreter needs a stack of max_wasm_stack bytes and as
 * much again for frame records (2 MiB by default). Allocating and freeing
 * that for every short-lived store cost more than the rest of an
 * instantiation (malloc grows and trims the heap each time, and the pages
 * fault in again), so a deleted store's stack is kept for the next store
 * created on the same thread, one per thread. Like a pooled stack its old
 * contents are unobservable (see alloc/pool.c), so it is not cleared. */

typedef struct stack_cache {
    void *mem;
    size_t bytes;
} stack_cache_t;

static __thread stack_cache_t stack_cache;
static pthread_key_t stack_cache_key;
static pthread_once_t stack_cache_once = PTHREAD_ONCE_INIT;
static bool stack_cache_ok;

static void stack_cache_exit(void *value)
{
    stack_cache_t *c = value;
    if (c->mem)
        munmap(c->mem, c->bytes);
    c->mem = NULL;
}

static void stack_cache_init(void)
{
    stack_cache_ok = pthread_key_create(&stack_cache_key, stack_cache_exit) == 0;
}

static void *stack_get(size_t bytes)
{
    stack_cache_t *c = &stack_cache;
    if (c->mem && c->bytes == bytes) {
        void *p = c->mem;
        c->mem = NULL;
        return p;
    }
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void stack_put(void *mem, size_t bytes)
{
    stack_cache_t *c = &stack_cache;
    pthread_once(&stack_cache_once, stack_cache_init);
    if (c->mem || !stack_cache_ok || pthread_setspecific(stack_cache_key, c) != 0) {
        munmap(mem, bytes);
        return;
    }
    c->mem = mem;
    c->bytes = bytes;
}

whirl_store_t *whirl_store_new(whirl_engine_t *engine, void *data,
                               void (*finalizer)(void *data))
{
    if (!engine)
        return NULL;
    store_impl_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->pub.engine = engine;
    s->pub.data = data;
    s->pub.finalizer = finalizer;
    s->pub.epoch_deadline = WHIRL_EPOCH_DEADLINE_NEVER;
    s->pub.epoch_hard_deadline = WHIRL_EPOCH_DEADLINE_NEVER;
    s->pub.exn_bytes_max = WHIRL_STORE_EXCEPTION_BYTES_MAX;
    s->pub.hosting.max_memory_size = WHIRL_NO_LIMIT;
    s->pub.hosting.max_table_elements = WHIRL_NO_LIMIT;
    s->pub.hosting.deadline_ns = UINT64_MAX;
    return &s->pub;
}

void *whirl_store_data(const whirl_store_t *store) { return store ? store->data : NULL; }

void store_adopt(whirl_store_t *store, store_object_t *obj, object_kind_t kind)
{
    obj->kind = kind;
    obj->next = store->objects;
    store->objects = obj;
}

void whirl_store_delete(whirl_store_t *store)
{
    if (!store)
        return;
    store_async_release(store);
    store_object_t *obj = store->objects;
    while (obj) {
        store_object_t *next = obj->next;
        switch (obj->kind) {
        case OBJ_FUNC: func_destroy((whirl_func_t *)obj); break;
        case OBJ_MEMORY: memory_destroy((whirl_memory_t *)obj); break;
        case OBJ_TABLE: table_destroy((whirl_table_t *)obj); break;
        case OBJ_GLOBAL: global_destroy((whirl_global_t *)obj); break;
        case OBJ_INSTANCE: instance_destroy((whirl_instance_t *)obj); break;
        case OBJ_TAG: tag_destroy((whirl_tag_t *)obj); break;
        case OBJ_EXN: exn_destroy((whirl_exn_t *)obj); break;
        }
        obj = next;
    }
    store->objects = NULL;
    exec_stack_free(store->exec);
    store_sampler_free(store);
    store->exec = NULL;
    store_impl_t *si = (store_impl_t *)store;
    if (si->stack)
        stack_put(si->stack, si->stack_bytes);
    pool_t *pool = store->engine->pool;
    if (store->hosting.holds_stack)
        pool_release(pool, POOL_STACK, store->hosting.stack_slot,
                     store->hosting.stack_used ? pool_slot_size(pool, POOL_STACK) : 0);
    if (store->hosting.holds_instance)
        pool_store_leave(pool);
    store_impl_t *s = (store_impl_t *)store;
    free(s->host_funcs);
    if (store->finalizer)
        store->finalizer(store->data);
    free(s);
}

static size_t hash_id(uint64_t id)
{
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdull;
    id ^= id >> 33;
    return (size_t)id;
}

whirl_func_t *store_host_func_lookup(whirl_store_t *store, uint64_t def_id)
{
    store_impl_t *s = (store_impl_t *)store;
    if (!s->host_cap)
        return NULL;
    size_t mask = s->host_cap - 1;
    for (size_t i = hash_id(def_id) & mask;; i = (i + 1) & mask) {
        if (s->host_funcs[i].def_id == def_id)
            return s->host_funcs[i].func;
        if (s->host_funcs[i].def_id == 0)
            return NULL;
    }
}

static void host_insert(host_func_slot_t *slots, size_t cap, uint64_t def_id,
                        whirl_func_t *func)
{
    size_t mask = cap - 1;
    size_t i = hash_id(def_id) & mask;
    while (slots[i].def_id && slots[i].def_id != def_id)
        i = (i + 1) & mask;
    slots[i].def_id = def_id;
    slots[i].func = func;
}

bool store_host_func_remember(whirl_store_t *store, uint64_t def_id, whirl_func_t *func)
{
    store_impl_t *s = (store_impl_t *)store;
    /* Keep the load at most 1/2 so probes stay short and one slot is always
     * empty (lookups terminate). */
    if ((s->host_count + 1) * 2 > s->host_cap) {
        size_t cap = s->host_cap ? s->host_cap * 2 : 16;
        host_func_slot_t *slots = calloc(cap, sizeof *slots);
        if (!slots)
            return false;
        for (size_t i = 0; i < s->host_cap; i++)
            if (s->host_funcs[i].def_id)
                host_insert(slots, cap, s->host_funcs[i].def_id, s->host_funcs[i].func);
        free(s->host_funcs);
        s->host_funcs = slots;
        s->host_cap = cap;
    }
    host_insert(s->host_funcs, s->host_cap, def_id, func);
    s->host_count++;
    return true;
}

/* ---- limits, accounting and pool slots ---- */

void whirl_store_limits_set(whirl_store_t *store, uint64_t max_memory_size,
                            uint64_t max_table_elements)
{
    if (!store)
        return;
    store->hosting.max_memory_size = max_memory_size;
    store->hosting.max_table_elements = max_table_elements;
}

uint64_t whirl_store_memory_consumed(const whirl_store_t *store)
{
    return store ? store->hosting.memory_consumed : 0;
}

whirl_error_t *store_pool_enter(whirl_store_t *store)
{
    pool_t *pool = store->engine->pool;
    struct store_hosting *h = &store->hosting;
    if (!h->holds_instance) {
        if (!pool_store_enter(pool))
            return error_mark_exhausted(error_fmt(
                "pooling allocator: instance_count limit of %llu stores holding instances at "
                "once reached (WHIRL_INSTANCE_COUNT)",
                (unsigned long long)ENGINE_KNOB(store->engine, WHIRL_POOL_INSTANCE_COUNT)));
        h->holds_instance = true;
    }
    if (!h->holds_stack) {
        int64_t slot = pool_take(pool, POOL_STACK);
        if (slot < 0)
            return error_mark_exhausted(error_fmt(
                "pooling allocator: all %u stack slots are in use (total_stacks limit, "
                "WHIRL_TOTAL_STACKS)",
                pool_total(pool, POOL_STACK)));
        h->stack_slot = (uint32_t)slot;
        h->holds_stack = true;
    }
    return NULL;
}

void *store_exec_stack_memory(whirl_store_t *store, size_t bytes)
{
    pool_t *pool = store->engine->pool;
    if (store->hosting.holds_stack) {
        if (bytes > pool_slot_size(pool, POOL_STACK))
            return NULL;
        store->hosting.stack_used = true;
        return pool_slot_base(pool, POOL_STACK, store->hosting.stack_slot);
    }
    /* A store of a pooled engine without instances (only host objects)
     * holds no slot: the interpreter allocates for it. */
    store_impl_t *s = (store_impl_t *)store;
    if (s->stack)
        return bytes <= s->stack_bytes ? s->stack : NULL;
    if (pool || !bytes)
        return NULL;
    s->stack = stack_get(bytes);
    s->stack_bytes = bytes;
    return s->stack;
}
