/* Stores: own every object created in them and free them all at once. */
#include <stdlib.h>

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
} store_impl_t;

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
    s->pub.epoch_deadline = UINT64_MAX;
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
    store_object_t *obj = store->objects;
    while (obj) {
        store_object_t *next = obj->next;
        switch (obj->kind) {
        case OBJ_FUNC: func_destroy((whirl_func_t *)obj); break;
        case OBJ_MEMORY: memory_destroy((whirl_memory_t *)obj); break;
        case OBJ_TABLE: table_destroy((whirl_table_t *)obj); break;
        case OBJ_GLOBAL: global_destroy((whirl_global_t *)obj); break;
        case OBJ_INSTANCE: instance_destroy((whirl_instance_t *)obj); break;
        }
        obj = next;
    }
    store->objects = NULL;
    exec_stack_free(store->exec);
    store->exec = NULL;
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
