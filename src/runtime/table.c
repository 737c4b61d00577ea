/* Tables of references. A table made by instantiation while pooling is on
 * lives in a pool slot of instance_table_elements entries and never moves;
 * otherwise its array is malloc'd and reallocated as it grows. Either way
 * the store's max_table_elements limit applies to each table. */
#include <stdlib.h>

#include "alloc/alloc.h"
#include "runtime/internal.h"

whirl_error_t *table_check_limits(const whirl_store_t *store, uint64_t min, bool pooled)
{
    if (min > TABLE_MAX_ENTRIES)
        return error_fmt("table minimum of %llu entries exceeds the implementation limit "
                         "of %u entries",
                         (unsigned long long)min, TABLE_MAX_ENTRIES);
    uint64_t limit = store->hosting.max_table_elements;
    if (limit != WHIRL_NO_LIMIT && min > limit)
        return error_fmt("table of %llu entries exceeds the store's max_table_elements limit "
                         "of %llu",
                         (unsigned long long)min, (unsigned long long)limit);
    uint64_t cap = ENGINE_KNOB(store->engine, WHIRL_POOL_INSTANCE_TABLE_ELEMENTS);
    if (pooled && min > cap)
        return error_fmt("table of %llu entries exceeds the pooling allocator's "
                         "instance_table_elements limit of %llu (WHIRL_INSTANCE_TABLE_ELEMENTS)",
                         (unsigned long long)min, (unsigned long long)cap);
    return NULL;
}

whirl_error_t *table_create(whirl_store_t *store, wasm_valtype_t elem, uint64_t min,
                            bool has_max, uint64_t max, void *init, int64_t pool_slot,
                            whirl_table_t **out)
{
    *out = NULL;
    whirl_error_t *err = table_check_limits(store, min, pool_slot >= 0);
    if (err)
        return err;
    if (has_max && max < min)
        return error_fmt("table limits out of range: min %llu, max %llu",
                         (unsigned long long)min, (unsigned long long)max);
    /* A 64-bit table's maximum may be past 2^32 - 1, which no table of
     * whirl's reaches: the same as that. */
    if (has_max && max > UINT32_MAX)
        max = UINT32_MAX;
    whirl_table_t *t = calloc(1, sizeof *t);
    if (!t)
        return error_oom();
    if (pool_slot >= 0) {
        /* The slot reads as zero: every entry starts null. */
        t->elems = (void **)pool_slot_base(store->engine->pool, POOL_TABLE, (uint32_t)pool_slot);
        t->cap = (uint32_t)ENGINE_KNOB(store->engine, WHIRL_POOL_INSTANCE_TABLE_ELEMENTS);
        t->pooled = true;
        t->pool_slot = (uint32_t)pool_slot;
    } else {
        /* At least one element so that an empty table still has an array. */
        t->elems = calloc(min ? (size_t)min : 1, sizeof *t->elems);
        if (!t->elems) {
            free(t);
            return error_oom();
        }
        t->cap = TABLE_MAX_ENTRIES;
    }
    if (init)
        for (uint64_t i = 0; i < min; i++)
            t->elems[i] = init;
    t->store = store;
    t->elem_type = elem;
    t->size = (uint32_t)min;
    t->max = has_max ? (uint32_t)max : UINT32_MAX;
    t->has_max = has_max;
    store_adopt(store, &t->obj, OBJ_TABLE);
    *out = t;
    return NULL;
}

void table_destroy(whirl_table_t *table)
{
    if (table->pooled)
        pool_release(table->store->engine->pool, POOL_TABLE, table->pool_slot,
                     (size_t)table->size * sizeof *table->elems);
    else
        free(table->elems);
    free(table);
}

/* The most entries the table may reach: its maximum, its capacity. */
static uint64_t table_limit(const whirl_table_t *table)
{
    return table->max < table->cap ? table->max : table->cap;
}

int64_t table_grow(whirl_table_t *table, uint64_t delta, void *init)
{
    return table_grow_until(table, delta, init, NULL, 0);
}

int64_t table_grow_until(whirl_table_t *table, uint64_t delta, void *init,
                         const _Atomic uint64_t *epoch, uint64_t deadline)
{
    uint32_t old = table->size;
    uint64_t limit = table_limit(table);
    if (old > limit || delta > limit - old)
        return -1;
    if (!delta)
        return old;
    uint64_t size = old + delta;
    uint64_t store_limit = table->store->hosting.max_table_elements;
    if (store_limit != WHIRL_NO_LIMIT && size > store_limit) {
        engine_log(table->store->engine, WHIRL_LOG_WARNING, "table_limit_exceeded",
                   "current=%u desired=%llu max=%llu", old, (unsigned long long)size,
                   (unsigned long long)store_limit);
        return -1;
    }
    if (!table->pooled) {
        void **elems = realloc(table->elems, (size_t)size * sizeof *elems);
        if (!elems)
            return -1;
        table->elems = elems;
    }
    /* The size advances chunk by chunk, so an interrupted growth leaves
     * no uninitialised entry inside the table (nor, in a pool slot, a
     * written entry past its size that the slot's reset would miss). */
    const uint64_t chunk = BULK_CHUNK_BYTES / sizeof *table->elems;
    bool check = epoch && delta * sizeof *table->elems > BULK_SMALL_BYTES;
    for (uint64_t at = old; at < size;) {
        if (check && epoch_reached(epoch, deadline))
            return TABLE_GROW_INTERRUPTED;
        uint64_t end = size - at > chunk ? at + chunk : size;
        for (uint64_t i = at; i < end; i++)
            table->elems[i] = init;
        table->size = (uint32_t)(at = end);
    }
    return old;
}

/* The public API's reference values must have the table's element kind. */
static whirl_error_t *check_ref(const whirl_table_t *table, const whirl_val_t *val,
                                const char *what)
{
    whirl_valkind_t kind = valtype_to_kind(table->elem_type);
    if (val->kind != kind)
        return error_fmt("%s: value of type %s does not match table element type %s", what,
                         valkind_name(val->kind), valkind_name(kind));
    whirl_error_t *err = check_val_store(val, table->store, what);
    return err ? err : check_val_type(val, table->elem_type, table->types, what);
}

static void *ref_of(const whirl_val_t *val)
{
    return val->kind == WHIRL_FUNCREF ? (void *)val->of.funcref : val->of.externref;
}

whirl_error_t *whirl_table_new(whirl_store_t *store, whirl_valkind_t elem, uint64_t min,
                               uint64_t max, const whirl_val_t *init, whirl_table_t **out)
{
    if (!out)
        return error_fmt("whirl_table_new: out is NULL");
    *out = NULL;
    if (!store)
        return error_fmt("whirl_table_new: store is NULL");
    if (elem != WHIRL_FUNCREF && elem != WHIRL_EXTERNREF)
        return error_fmt("whirl_table_new: element type must be funcref or externref, not %s",
                         valkind_name(elem));
    bool has_max = max != WHIRL_NO_MAX;
    if (has_max && max > UINT32_MAX)
        return error_fmt("table maximum of %llu entries exceeds 2^32-1",
                         (unsigned long long)max);
    if (has_max && min > max)
        return error_fmt("table minimum of %llu entries is greater than its maximum of %llu",
                         (unsigned long long)min, (unsigned long long)max);
    void *ref = NULL;
    if (init) {
        if (init->kind != elem)
            return error_fmt("whirl_table_new: initial value of type %s does not match "
                             "element type %s",
                             valkind_name(init->kind), valkind_name(elem));
        whirl_error_t *err = check_val_store(init, store, "whirl_table_new");
        if (err)
            return err;
        ref = ref_of(init);
    }
    return table_create(store, valkind_to_type(elem), min, has_max, max, ref, -1, out);
}

uint64_t whirl_table_size(const whirl_table_t *table) { return table ? table->size : 0; }

whirl_error_t *whirl_table_get(const whirl_table_t *table, uint64_t index, whirl_val_t *out)
{
    if (!table || !out)
        return error_fmt("whirl_table_get: table or out is NULL");
    if (index >= table->size)
        return error_fmt("table index %llu out of range (table size %u)",
                         (unsigned long long)index, table->size);
    out->kind = valtype_to_kind(table->elem_type);
    if (out->kind == WHIRL_FUNCREF)
        out->of.funcref = table->elems[index];
    else
        out->of.externref = table->elems[index];
    return NULL;
}

whirl_error_t *whirl_table_set(whirl_table_t *table, uint64_t index, const whirl_val_t *val)
{
    if (!table || !val)
        return error_fmt("whirl_table_set: table or value is NULL");
    whirl_error_t *err = check_ref(table, val, "whirl_table_set");
    if (err)
        return err;
    if (index >= table->size)
        return error_fmt("table index %llu out of range (table size %u)",
                         (unsigned long long)index, table->size);
    table->elems[index] = ref_of(val);
    return NULL;
}

whirl_error_t *whirl_table_grow(whirl_table_t *table, uint64_t delta, const whirl_val_t *init,
                                uint64_t *old_size)
{
    if (!table)
        return error_fmt("whirl_table_grow: table is NULL");
    void *ref = NULL;
    if (init) {
        whirl_error_t *err = check_ref(table, init, "whirl_table_grow");
        if (err)
            return err;
        ref = ref_of(init);
    }
    int64_t old = table_grow(table, delta, ref);
    if (old < 0)
        return error_fmt("cannot grow table of %u entries by %llu (maximum %llu, store "
                         "max_table_elements %llu)",
                         table->size, (unsigned long long)delta,
                         (unsigned long long)table_limit(table),
                         (unsigned long long)table->store->hosting.max_table_elements);
    if (old_size)
        *old_size = (uint64_t)old;
    return NULL;
}
