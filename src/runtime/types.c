/* Function types and value conversions between the public whirl_val_t and
 * the interpreter's frame slots. */
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

whirl_valkind_t valtype_to_kind(wasm_valtype_t t)
{
    /* Typed references reach hosts as their abstract kind. */
    switch (wasm_ref_top(t)) {
    case WASM_I32: return WHIRL_I32;
    case WASM_I64: return WHIRL_I64;
    case WASM_F32: return WHIRL_F32;
    case WASM_F64: return WHIRL_F64;
    case WASM_V128: return WHIRL_V128;
    case WASM_FUNCREF: return WHIRL_FUNCREF;
    case WASM_EXTERNREF: return WHIRL_EXTERNREF;
    case WASM_EXNREF: return WHIRL_EXNREF;
    }
    /* Unreachable for validated types; i32 keeps callers total. */
    return WHIRL_I32;
}

wasm_valtype_t valkind_to_type(whirl_valkind_t k)
{
    switch (k) {
    case WHIRL_I32: return WASM_I32;
    case WHIRL_I64: return WASM_I64;
    case WHIRL_F32: return WASM_F32;
    case WHIRL_F64: return WASM_F64;
    case WHIRL_V128: return WASM_V128;
    case WHIRL_FUNCREF: return WASM_FUNCREF;
    case WHIRL_EXTERNREF: return WASM_EXTERNREF;
    case WHIRL_EXNREF: return WASM_EXNREF;
    }
    return 0;
}

const char *valkind_name(whirl_valkind_t k)
{
    wasm_valtype_t t = valkind_to_type(k);
    return t ? wasm_valtype_name(t) : "invalid";
}

bool functype_equal(const wasm_functype_t *a, const wasm_functype_t *b)
{
    return wasm_functype_match(a, b);
}

/* The type and its two arrays share one allocation, so whirl_functype_delete
 * is a single free. */
static whirl_functype_t *functype_alloc(size_t nparams, size_t nresults)
{
    if (nparams > UINT32_MAX || nresults > UINT32_MAX)
        return NULL;
    whirl_functype_t *ft = malloc(sizeof *ft + (nparams + nresults) * sizeof(wasm_valtype_t));
    if (!ft)
        return NULL;
    wasm_valtype_t *arr = (wasm_valtype_t *)(ft + 1);
    ft->type.nparams = (uint32_t)nparams;
    ft->type.nresults = (uint32_t)nresults;
    ft->type.params = arr;
    ft->type.results = arr + nparams;
    ft->type.canonical = 0;
    ft->type.module_types = NULL;
    ft->type.index = 0;
    ft->type.has_concrete = false;
    return ft;
}

whirl_functype_t *whirl_functype_new(const whirl_valkind_t *params, size_t nparams,
                                     const whirl_valkind_t *results, size_t nresults)
{
    if ((nparams && !params) || (nresults && !results))
        return NULL;
    for (size_t i = 0; i < nparams; i++)
        if (!valkind_to_type(params[i]))
            return NULL;
    for (size_t i = 0; i < nresults; i++)
        if (!valkind_to_type(results[i]))
            return NULL;
    whirl_functype_t *ft = functype_alloc(nparams, nresults);
    if (!ft)
        return NULL;
    wasm_valtype_t *arr = (wasm_valtype_t *)(ft + 1);
    for (size_t i = 0; i < nparams; i++)
        arr[i] = valkind_to_type(params[i]);
    for (size_t i = 0; i < nresults; i++)
        arr[nparams + i] = valkind_to_type(results[i]);
    return ft;
}

whirl_functype_t *functype_copy(const wasm_functype_t *t)
{
    whirl_functype_t *ft = functype_alloc(t->nparams, t->nresults);
    if (!ft)
        return NULL;
    wasm_valtype_t *arr = (wasm_valtype_t *)(ft + 1);
    if (t->nparams)
        memcpy(arr, t->params, t->nparams * sizeof *arr);
    if (t->nresults)
        memcpy(arr + t->nparams, t->results, t->nresults * sizeof *arr);
    /* Typed references keep meaning only beside their module's types,
     * which the copy does not own, and a host cannot promise non-null
     * results: they become their nullable abstract kinds. */
    for (uint32_t i = 0; i < t->nparams + t->nresults; i++)
        arr[i] = wasm_ref_top(arr[i]);
    return ft;
}

void whirl_functype_delete(whirl_functype_t *type) { free(type); }

size_t whirl_functype_param_count(const whirl_functype_t *type)
{
    return type ? type->type.nparams : 0;
}

size_t whirl_functype_result_count(const whirl_functype_t *type)
{
    return type ? type->type.nresults : 0;
}

/* Out-of-range indices answer i32 rather than an invalid enum value. */
whirl_valkind_t whirl_functype_param(const whirl_functype_t *type, size_t i)
{
    if (!type || i >= type->type.nparams)
        return WHIRL_I32;
    return valtype_to_kind(type->type.params[i]);
}

whirl_valkind_t whirl_functype_result(const whirl_functype_t *type, size_t i)
{
    if (!type || i >= type->type.nresults)
        return WHIRL_I32;
    return valtype_to_kind(type->type.results[i]);
}

/* snprintf at *pos that stops writing, but keeps counting, once full. */
static void append(char *buf, size_t size, size_t *pos, const char *s)
{
    size_t n = strlen(s);
    if (*pos < size) {
        size_t room = size - *pos - 1;
        memcpy(buf + *pos, s, n < room ? n : room);
        buf[*pos + (n < room ? n : room)] = 0;
    }
    *pos += n;
}

static void append_list(char *buf, size_t size, size_t *pos, const wasm_valtype_t *t,
                        uint32_t n)
{
    append(buf, size, pos, "[");
    for (uint32_t i = 0; i < n; i++) {
        if (i)
            append(buf, size, pos, " ");
        append(buf, size, pos, wasm_valtype_name(t[i]));
    }
    append(buf, size, pos, "]");
}

void functype_format(const wasm_functype_t *t, char *buf, size_t size)
{
    if (!size)
        return;
    buf[0] = 0;
    size_t pos = 0;
    append_list(buf, size, &pos, t->params, t->nparams);
    append(buf, size, &pos, " -> ");
    append_list(buf, size, &pos, t->results, t->nresults);
}

whirl_error_t *check_val_type(const whirl_val_t *val, wasm_valtype_t t,
                              const wasm_functype_t *types, const char *what)
{
    if (!wasm_is_reftype(t) || (wasm_ref_nullable(t) && !wasm_ref_is_concrete(t)))
        return NULL;
    const void *ref = val->kind == WHIRL_FUNCREF     ? (const void *)val->of.funcref
                      : val->kind == WHIRL_EXTERNREF ? val->of.externref
                                                     : (const void *)val->of.exnref;
    if (!ref) {
        if (wasm_ref_nullable(t))
            return NULL;
        return error_fmt("%s: null for the non-nullable type %s", what, wasm_valtype_name(t));
    }
    if (wasm_ref_is_concrete(t) && val->kind == WHIRL_FUNCREF &&
        (!types || !functype_equal(val->of.funcref->type, &types[wasm_ref_typeidx(t)])))
        return error_fmt("%s: function of another type than %s", what, wasm_valtype_name(t));
    return NULL;
}

whirl_error_t *check_val_store(const whirl_val_t *val, const whirl_store_t *store,
                               const char *what)
{
    if (val->kind == WHIRL_FUNCREF && val->of.funcref && val->of.funcref->store != store)
        return error_fmt("%s: funcref belongs to a different store", what);
    return NULL;
}

/* Slots of i32 and f32 values keep their upper bytes zero so that a slot
 * compares and hashes the same whichever way it was written. */
void val_to_slots(const whirl_val_t *val, slot_t *slots)
{
    switch (val->kind) {
    case WHIRL_I32:
        slots[0].u64 = (uint32_t)val->of.i32;
        break;
    case WHIRL_I64:
        slots[0].i64 = val->of.i64;
        break;
    case WHIRL_F32:
        slots[0].u64 = 0;
        slots[0].f32 = val->of.f32;
        break;
    case WHIRL_F64:
        slots[0].f64 = val->of.f64;
        break;
    case WHIRL_V128:
        memcpy(slots, val->of.v128, 16);
        break;
    case WHIRL_FUNCREF:
        slots[0].ref = val->of.funcref;
        break;
    case WHIRL_EXTERNREF:
        slots[0].ref = val->of.externref;
        break;
    case WHIRL_EXNREF:
        slots[0].ref = val->of.exnref;
        break;
    }
}

void val_from_slots(whirl_val_t *val, wasm_valtype_t type, const slot_t *slots)
{
    val->kind = valtype_to_kind(type);
    switch (wasm_ref_top(type)) {
    case WASM_I32: val->of.i32 = slots[0].i32; break;
    case WASM_I64: val->of.i64 = slots[0].i64; break;
    case WASM_F32: val->of.f32 = slots[0].f32; break;
    case WASM_F64: val->of.f64 = slots[0].f64; break;
    case WASM_V128: memcpy(val->of.v128, slots, 16); break;
    case WASM_FUNCREF: val->of.funcref = slots[0].ref; break;
    case WASM_EXTERNREF: val->of.externref = slots[0].ref; break;
    case WASM_EXNREF: val->of.exnref = slots[0].ref; break;
    }
}
