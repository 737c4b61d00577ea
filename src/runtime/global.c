/* Globals. */
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

void global_write(whirl_global_t *global, const whirl_val_t *val)
{
    if (val->kind == WHIRL_V128) {
        memcpy(global->value.v128, val->of.v128, 16);
        return;
    }
    memset(&global->value, 0, sizeof global->value);
    val_to_slots(val, &global->value.slot);
}

void global_read(const whirl_global_t *global, whirl_val_t *out)
{
    if (global->type == WASM_V128) {
        out->kind = WHIRL_V128;
        memcpy(out->of.v128, global->value.v128, 16);
        return;
    }
    val_from_slots(out, global->type, &global->value.slot);
}

/* Globals created by instantiation live in their instance's block and are
 * never on the store's list; only whirl_global_new's are. */
void global_destroy(whirl_global_t *global) { free(global); }

whirl_error_t *whirl_global_new(whirl_store_t *store, const whirl_val_t *val, bool mutable_,
                                whirl_global_t **out)
{
    if (!out)
        return error_fmt("whirl_global_new: out is NULL");
    *out = NULL;
    if (!store || !val)
        return error_fmt("whirl_global_new: store or value is NULL");
    wasm_valtype_t type = valkind_to_type(val->kind);
    if (!type)
        return error_fmt("whirl_global_new: invalid value kind %d", (int)val->kind);
    whirl_error_t *err = check_val_store(val, store, "whirl_global_new");
    if (err)
        return err;
    whirl_global_t *g = calloc(1, sizeof *g);
    if (!g)
        return error_oom();
    g->store = store;
    g->type = type;
    g->is_mutable = mutable_;
    global_write(g, val);
    store_adopt(store, &g->obj, OBJ_GLOBAL);
    *out = g;
    return NULL;
}

void whirl_global_get(const whirl_global_t *global, whirl_val_t *out)
{
    if (global && out)
        global_read(global, out);
}

whirl_error_t *whirl_global_set(whirl_global_t *global, const whirl_val_t *val)
{
    if (!global || !val)
        return error_fmt("whirl_global_set: global or value is NULL");
    if (!global->is_mutable)
        return error_fmt("whirl_global_set: global is immutable");
    whirl_valkind_t kind = valtype_to_kind(global->type);
    if (val->kind != kind)
        return error_fmt("whirl_global_set: value of type %s does not match global type %s",
                         valkind_name(val->kind), valkind_name(kind));
    whirl_error_t *err = check_val_store(val, global->store, "whirl_global_set");
    if (!err)
        err = check_val_type(val, global->type, global->types, "whirl_global_set");
    if (err)
        return err;
    global_write(global, val);
    return NULL;
}

whirl_valkind_t whirl_global_kind(const whirl_global_t *global)
{
    return global ? valtype_to_kind(global->type) : WHIRL_I32;
}

bool whirl_global_mutable(const whirl_global_t *global)
{
    return global && global->is_mutable;
}
