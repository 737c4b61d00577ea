/* Tags and exception objects (exception handling), and their public API.
 * Both belong to a store and are freed with it; an exception is created by
 * every `throw`, so a guest that throws in a loop holds memory until its
 * store goes (there is no collector yet: an exnref may sit in a global, a
 * table, any frame's slots or a host's hands). What they hold is counted per
 * store and capped at WHIRL_STORE_EXCEPTION_BYTES_MAX instead. */
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"
#include "runtime/runtime.h"
#include "util/error.h"

static uint32_t type_slots(const wasm_functype_t *t)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->nparams; i++)
        n += slots_of(t->params[i]);
    return n;
}

whirl_tag_t *tag_create(whirl_store_t *store, const wasm_functype_t *type)
{
    whirl_tag_t *tag = calloc(1, sizeof *tag);
    if (!tag)
        return NULL;
    tag->store = store;
    tag->type = type;
    tag->nslots = type_slots(type);
    store_adopt(store, &tag->obj, OBJ_TAG);
    return tag;
}

void tag_destroy(whirl_tag_t *tag)
{
    whirl_functype_delete(tag->owned);
    free(tag);
}

/* What one exception costs: its allocation and the allocator's header. */
static uint64_t exn_cost(const whirl_tag_t *tag)
{
    return sizeof(whirl_exn_t) + (uint64_t)tag->nslots * sizeof(slot_t) + 16;
}

whirl_exn_t *exn_create(whirl_store_t *store, whirl_tag_t *tag, const slot_t *slots,
                        bool *exhausted)
{
    uint64_t cost = exn_cost(tag);
    *exhausted = cost > store->exn_bytes_max || store->exn_bytes > store->exn_bytes_max - cost;
    if (*exhausted)
        return NULL;
    whirl_exn_t *exn = malloc(sizeof *exn + (size_t)tag->nslots * sizeof(slot_t));
    if (!exn)
        return NULL;
    store->exn_bytes += cost;
    exn->store = store;
    exn->tag = tag;
    if (tag->nslots)
        memcpy(exn->values, slots, tag->nslots * sizeof(slot_t));
    store_adopt(store, &exn->obj, OBJ_EXN);
    return exn;
}

void exn_destroy(whirl_exn_t *exn) { free(exn); }

whirl_error_t *whirl_tag_new(whirl_store_t *store, const whirl_functype_t *type,
                             whirl_tag_t **out)
{
    if (!out)
        return error_fmt("whirl_tag_new: out is NULL");
    *out = NULL;
    if (!store || !type)
        return error_fmt("whirl_tag_new: store or type is NULL");
    if (type->type.nresults)
        return error_fmt("whirl_tag_new: a tag's type has no results (this one has %u)",
                         type->type.nresults);
    whirl_functype_t *copy = functype_copy(&type->type);
    if (!copy)
        return error_oom();
    whirl_tag_t *tag = tag_create(store, &copy->type);
    if (!tag) {
        whirl_functype_delete(copy);
        return error_oom();
    }
    tag->owned = copy;
    *out = tag;
    return NULL;
}

const whirl_functype_t *whirl_tag_type(const whirl_tag_t *tag)
{
    return tag ? functype_public(tag->type) : NULL;
}

whirl_error_t *whirl_exn_new(whirl_store_t *store, whirl_tag_t *tag, const whirl_val_t *values,
                             size_t nvalues, whirl_exn_t **out)
{
    if (!out)
        return error_fmt("whirl_exn_new: out is NULL");
    *out = NULL;
    if (!store || !tag)
        return error_fmt("whirl_exn_new: store or tag is NULL");
    if (tag->store != store)
        return error_fmt("whirl_exn_new: the tag belongs to a different store");
    const wasm_functype_t *t = tag->type;
    if (nvalues != t->nparams || (nvalues && !values))
        return error_fmt("whirl_exn_new: the tag carries %u value(s), %zu given", t->nparams,
                         nvalues);
    slot_t small[16];
    slot_t *slots = tag->nslots <= 16 ? small : malloc(tag->nslots * sizeof *slots);
    if (!slots)
        return error_oom();
    uint32_t s = 0;
    whirl_error_t *err = NULL;
    for (uint32_t i = 0; i < t->nparams && !err; i++) {
        if (values[i].kind != valtype_to_kind(t->params[i])) {
            err = error_fmt("whirl_exn_new: value %u is a %s, the tag wants %s", i,
                            valkind_name(values[i].kind), wasm_valtype_name(t->params[i]));
            break;
        }
        val_to_slots(&values[i], &slots[s]);
        s += slots_of(t->params[i]);
    }
    if (!err) {
        bool exhausted;
        *out = exn_create(store, tag, slots, &exhausted);
        if (exhausted)
            err = error_fmt("whirl_exn_new: the store's exceptions hold %llu bytes, its "
                            "exception limit (whirl_store_exception_limit_set) is %llu",
                            (unsigned long long)store->exn_bytes,
                            (unsigned long long)store->exn_bytes_max);
        else if (!*out)
            err = error_oom();
    }
    if (slots != small)
        free(slots);
    return err;
}

uint64_t whirl_store_exception_bytes(const whirl_store_t *store)
{
    return store ? store->exn_bytes : 0;
}

void whirl_store_exception_limit_set(whirl_store_t *store, uint64_t max_bytes)
{
    if (store)
        store->exn_bytes_max = max_bytes;
}

whirl_tag_t *whirl_exn_tag(const whirl_exn_t *exn) { return exn ? exn->tag : NULL; }

size_t whirl_exn_value_count(const whirl_exn_t *exn)
{
    return exn ? exn->tag->type->nparams : 0;
}

void whirl_exn_value(const whirl_exn_t *exn, size_t i, whirl_val_t *out)
{
    if (!exn || !out || i >= exn->tag->type->nparams)
        return;
    const wasm_functype_t *t = exn->tag->type;
    uint32_t s = 0;
    for (size_t k = 0; k < i; k++)
        s += slots_of(t->params[k]);
    val_from_slots(out, t->params[i], &exn->values[s]);
}
