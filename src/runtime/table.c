/* Tables of references. */
#include <stdlib.h>

#include "runtime/internal.h"

whirl_error_t *table_create(whirl_store_t *store, wasm_valtype_t elem, uint64_t min,
                            bool has_max, uint64_t max, void *init, whirl_table_t **out)
{
    *out = NULL;
    if (min > TABLE_MAX_ENTRIES)
        return error_fmt("table minimum of %llu entries exceeds the implementation limit "
                         "of %u entries",
                         (unsigned long long)min, TABLE_MAX_ENTRIES);
    if (has_max && (max > UINT32_MAX || max < min))
        return error_fmt("table limits out of range: min %llu, max %llu",
                         (unsigned long long)min, (unsigned long long)max);
    whirl_table_t *t = calloc(1, sizeof *t);
    if (!t)
        return error_oom();
    /* At least one element so that an empty table still has an array. */
    t->elems = calloc(min ? (size_t)min : 1, sizeof *t->elems);
    if (!t->elems) {
        free(t);
        return error_oom();
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
    free(table->elems);
    free(table);
}

int64_t table_grow(whirl_table_t *table, uint64_t delta, void *init)
{
    uint32_t old = table->size;
    uint64_t limit = table->max < TABLE_MAX_ENTRIES ? table->max : TABLE_MAX_ENTRIES;
    if (old > limit || delta > limit - old)
        return -1;
    if (delta) {
        uint64_t size = old + delta;
        void **elems = realloc(table->elems, (size_t)size * sizeof *elems);
        if (!elems)
            return -1;
        for (uint64_t i = old; i < size; i++)
            elems[i] = init;
        table->elems = elems;
        table->size = (uint32_t)size;
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
    return check_val_store(val, table->store, what);
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
    return table_create(store, valkind_to_type(elem), min, has_max, max, ref, out);
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
        return error_fmt("cannot grow table of %u entries by %llu (maximum %llu)", table->size,
                         (unsigned long long)delta,
                         (unsigned long long)(table->max < TABLE_MAX_ENTRIES
                                                  ? table->max
                                                  : TABLE_MAX_ENTRIES));
    if (old_size)
        *old_size = (uint64_t)old;
    return NULL;
}
