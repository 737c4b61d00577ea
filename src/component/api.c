/* The public API of include/whirl/component.h that is not the linker:
 * components, values, types, functions and instances. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component/component.h"

/* ------------------------------------------------------------------ */
/* Values                                                              */
/* ------------------------------------------------------------------ */

void whirl_cval_release(whirl_cval_t *v)
{
    if (!v)
        return;
    switch (v->kind) {
    case WHIRL_CVAL_STRING:
    case WHIRL_CVAL_BYTES: free(v->of.string.data); break;
    case WHIRL_CVAL_LIST:
    case WHIRL_CVAL_RECORD:
    case WHIRL_CVAL_TUPLE:
        for (size_t i = 0; i < v->of.list.len && v->of.list.items; i++)
            whirl_cval_release(&v->of.list.items[i]);
        free(v->of.list.items);
        break;
    case WHIRL_CVAL_VARIANT:
    case WHIRL_CVAL_ENUM:
    case WHIRL_CVAL_OPTION:
    case WHIRL_CVAL_RESULT:
        whirl_cval_release(v->of.variant.payload);
        free(v->of.variant.payload);
        break;
    case WHIRL_CVAL_STREAM:
    case WHIRL_CVAL_FUTURE:
        if (v->of.stream)
            cstream_value_release(v->of.stream);
        break;
    case WHIRL_CVAL_ERROR_CONTEXT: cerror_unref(v->of.error_context); break;
    default: break;
    }
    memset(v, 0, sizeof *v);
}

static whirl_error_t *set_buf(whirl_cval_t *v, whirl_cval_kind_t kind, const void *data,
                              size_t len)
{
    whirl_cval_release(v);
    char *p = malloc(len + 1);
    if (!p)
        return error_oom();
    if (len)
        memcpy(p, data, len);
    p[len] = 0;
    v->kind = kind;
    v->of.string.data = p;
    v->of.string.len = len;
    return NULL;
}

whirl_error_t *whirl_cval_set_string(whirl_cval_t *v, const char *data, size_t len)
{
    if (!v || (len && !data))
        return error_fmt("whirl_cval_set_string: value or data is NULL");
    return set_buf(v, WHIRL_CVAL_STRING, data, len);
}

whirl_error_t *whirl_cval_set_bytes(whirl_cval_t *v, const void *data, size_t len)
{
    if (!v || (len && !data))
        return error_fmt("whirl_cval_set_bytes: value or data is NULL");
    return set_buf(v, WHIRL_CVAL_BYTES, data, len);
}

whirl_error_t *whirl_cval_set_items(whirl_cval_t *v, whirl_cval_kind_t kind, size_t len)
{
    if (!v || (kind != WHIRL_CVAL_LIST && kind != WHIRL_CVAL_RECORD && kind != WHIRL_CVAL_TUPLE))
        return error_fmt("whirl_cval_set_items: needs a list, record or tuple kind");
    whirl_cval_release(v);
    whirl_cval_t *items = calloc(len ? len : 1, sizeof *items);
    if (!items)
        return error_oom();
    v->kind = kind;
    v->of.list.items = items;
    v->of.list.len = len;
    return NULL;
}

whirl_error_t *whirl_cval_set_case(whirl_cval_t *v, whirl_cval_kind_t kind, uint32_t index,
                                   bool with_payload)
{
    if (!v || (kind != WHIRL_CVAL_VARIANT && kind != WHIRL_CVAL_ENUM &&
               kind != WHIRL_CVAL_OPTION && kind != WHIRL_CVAL_RESULT))
        return error_fmt("whirl_cval_set_case: needs a variant, enum, option or result kind");
    whirl_cval_release(v);
    whirl_cval_t *payload = NULL;
    if (with_payload && !(payload = calloc(1, sizeof *payload)))
        return error_oom();
    v->kind = kind;
    v->of.variant.index = index;
    v->of.variant.payload = payload;
    return NULL;
}

whirl_error_t *whirl_cval_copy(whirl_cval_t *dst, const whirl_cval_t *src)
{
    if (!dst || !src)
        return error_fmt("whirl_cval_copy: NULL value");
    whirl_cval_t tmp = *src;
    whirl_error_t *e = NULL;
    bool has_data = src->kind == WHIRL_CVAL_STRING || src->kind == WHIRL_CVAL_BYTES
                        ? src->of.string.data || !src->of.string.len
                    : src->kind == WHIRL_CVAL_LIST || src->kind == WHIRL_CVAL_RECORD ||
                            src->kind == WHIRL_CVAL_TUPLE
                        ? src->of.list.items || !src->of.list.len
                        : true;
    if (!has_data)
        return error_fmt("whirl_cval_copy: a value with a length but no data");
    switch (src->kind) {
    case WHIRL_CVAL_STRING:
    case WHIRL_CVAL_BYTES:
        tmp.of.string.data = NULL;
        e = set_buf(&tmp, src->kind, src->of.string.data, src->of.string.len);
        break;
    case WHIRL_CVAL_LIST:
    case WHIRL_CVAL_RECORD:
    case WHIRL_CVAL_TUPLE:
        memset(&tmp, 0, sizeof tmp);
        e = whirl_cval_set_items(&tmp, src->kind, src->of.list.len);
        for (size_t i = 0; !e && i < src->of.list.len; i++)
            e = whirl_cval_copy(&tmp.of.list.items[i], &src->of.list.items[i]);
        break;
    case WHIRL_CVAL_VARIANT:
    case WHIRL_CVAL_ENUM:
    case WHIRL_CVAL_OPTION:
    case WHIRL_CVAL_RESULT:
        memset(&tmp, 0, sizeof tmp);
        e = whirl_cval_set_case(&tmp, src->kind, src->of.variant.index,
                                src->of.variant.payload != NULL);
        if (!e && src->of.variant.payload)
            e = whirl_cval_copy(tmp.of.variant.payload, src->of.variant.payload);
        break;
    case WHIRL_CVAL_STREAM:
    case WHIRL_CVAL_FUTURE:
        /* A readable end has one owner: it moves, it is never copied. */
        return error_fmt("whirl_cval_copy: a stream or future cannot be copied");
    case WHIRL_CVAL_ERROR_CONTEXT:
        if (src->of.error_context)
            cerror_ref(src->of.error_context);
        break;
    default: break;
    }
    if (e) {
        whirl_cval_release(&tmp);
        return e;
    }
    if (dst != src)
        whirl_cval_release(dst);
    *dst = tmp;
    return NULL;
}

static const char *kind_name(whirl_cval_kind_t k)
{
    static const char *const names[] = {
        "bool",    "s8",   "u8",     "s16",    "u16",    "s32",   "u32", "s64",
        "u64",     "f32",  "f64",    "char",   "string", "list",  "bytes", "record",
        "tuple",   "variant", "enum", "option", "result", "flags", "own",  "borrow",
        "stream",  "future", "error-context",
    };
    return (unsigned)k < sizeof names / sizeof *names ? names[k] : "unknown";
}

/* A host value against a type: kinds, item counts, cases and ranges (the
 * rest is checked when the value is lowered). */
static whirl_error_t *check_value(const ctype_t *t, const whirl_cval_t *v, const char *what)
{
    char want[160];
    ctype_format(t, want, sizeof want);
    if (t->kind == CT_LIST && v->kind == WHIRL_CVAL_BYTES) {
        if (t->elem->kind != CT_U8)
            return error_fmt("%s: bytes value for %s", what, want);
        if (v->of.string.len && !v->of.string.data)
            return error_fmt("%s: bytes without data", what);
        return NULL;
    }
    if (t->kind == CT_BORROW && v->kind == WHIRL_CVAL_OWN)
        return NULL;
    if ((int)v->kind != t->kind)
        return error_fmt("%s: %s value for %s", what, kind_name(v->kind), want);
    switch (t->kind) {
    case CT_STRING:
        if (v->of.string.len && !v->of.string.data)
            return error_fmt("%s: string without data", what);
        return NULL;
    case CT_LIST:
        if (v->of.list.len && !v->of.list.items)
            return error_fmt("%s: list without items", what);
        for (size_t i = 0; i < v->of.list.len; i++) {
            whirl_error_t *e = check_value(t->elem, &v->of.list.items[i], what);
            if (e)
                return e;
        }
        return NULL;
    case CT_RECORD:
    case CT_TUPLE:
        if (v->of.list.len != t->count || (t->count && !v->of.list.items))
            return error_fmt("%s: %zu items for %s", what, v->of.list.len, want);
        for (uint32_t i = 0; i < t->count; i++) {
            whirl_error_t *e = check_value(t->fields[i].type, &v->of.list.items[i], what);
            if (e)
                return e;
        }
        return NULL;
    case CT_VARIANT:
    case CT_ENUM:
    case CT_OPTION:
    case CT_RESULT: {
        uint32_t i = v->of.variant.index;
        if (i >= t->count)
            return error_fmt("%s: case %u out of range for %s", what, i, want);
        const ctype_t *pt = t->fields[i].type;
        if (pt && !v->of.variant.payload)
            return error_fmt("%s: case %u of %s needs a payload", what, i, want);
        return pt ? check_value(pt, v->of.variant.payload, what) : NULL;
    }
    case CT_S8:
    case CT_S16:
    case CT_S32: {
        int bits = t->kind == CT_S8 ? 8 : t->kind == CT_S16 ? 16 : 32;
        if (v->of.s < -((int64_t)1 << (bits - 1)) || v->of.s >= ((int64_t)1 << (bits - 1)))
            return error_fmt("%s: %lld is out of range for %s", what, (long long)v->of.s, want);
        return NULL;
    }
    case CT_U8:
    case CT_U16:
    case CT_U32: {
        int bits = t->kind == CT_U8 ? 8 : t->kind == CT_U16 ? 16 : 32;
        if (v->of.u >> bits)
            return error_fmt("%s: %llu is out of range for %s", what,
                             (unsigned long long)v->of.u, want);
        return NULL;
    }
    case CT_CHAR:
        if (v->of.ch >= 0x110000 || (v->of.ch >= 0xd800 && v->of.ch <= 0xdfff))
            return error_fmt("%s: 0x%x is not a Unicode scalar value", what, v->of.ch);
        return NULL;
    default: return NULL;
    }
}

/* ------------------------------------------------------------------ */
/* Types                                                               */
/* ------------------------------------------------------------------ */

static const ctype_t *ct(const whirl_ctype_t *t) { return (const ctype_t *)t; }

whirl_cval_kind_t whirl_ctype_kind(const whirl_ctype_t *type)
{
    return type ? (whirl_cval_kind_t)ct(type)->kind : WHIRL_CVAL_BOOL;
}

size_t whirl_ctype_count(const whirl_ctype_t *type)
{
    const ctype_t *t = ct(type);
    if (!t)
        return 0;
    switch (t->kind) {
    case CT_LIST:
    case CT_OPTION: return 1;
    case CT_RESULT: return 2;
    case CT_RECORD:
    case CT_VARIANT:
    case CT_TUPLE:
    case CT_FLAGS:
    case CT_ENUM: return t->count;
    default: return 0;
    }
}

const char *whirl_ctype_label(const whirl_ctype_t *type, size_t i)
{
    const ctype_t *t = ct(type);
    if (!t || i >= t->count)
        return NULL;
    switch (t->kind) {
    case CT_RECORD:
    case CT_VARIANT:
    case CT_FLAGS:
    case CT_ENUM: return t->fields[i].name;
    default: return NULL;
    }
}

const whirl_ctype_t *whirl_ctype_elem(const whirl_ctype_t *type, size_t i)
{
    const ctype_t *t = ct(type);
    if (!t)
        return NULL;
    switch (t->kind) {
    case CT_LIST:
    case CT_OPTION: return i == 0 ? (const whirl_ctype_t *)t->elem : NULL;
    case CT_RESULT:
        return i == 0 ? (const whirl_ctype_t *)t->elem : i == 1 ? (const whirl_ctype_t *)t->err
                                                                : NULL;
    case CT_RECORD:
    case CT_VARIANT:
    case CT_TUPLE: return i < t->count ? (const whirl_ctype_t *)t->fields[i].type : NULL;
    default: return NULL;
    }
}

/* ------------------------------------------------------------------ */
/* Components                                                          */
/* ------------------------------------------------------------------ */

bool whirl_component_is_component(const uint8_t *bytes, size_t len)
{
    return bytes && len >= 8 && memcmp(bytes, "\0asm", 4) == 0 && bytes[6] == 0x01 &&
           bytes[7] == 0x00;
}

whirl_error_t *whirl_component_new(whirl_engine_t *engine, const uint8_t *bytes, size_t len,
                                   whirl_component_t **out)
{
    if (!out)
        return error_fmt("whirl_component_new: out is NULL");
    return component_decode(engine, bytes, len, out);
}

whirl_error_t *whirl_component_validate(whirl_engine_t *engine, const uint8_t *bytes,
                                        size_t len)
{
    whirl_component_t *c;
    whirl_error_t *e = component_decode(engine, bytes, len, &c);
    if (!e)
        component_release(c);
    return e;
}

void whirl_component_delete(whirl_component_t *component) { component_release(component); }

static whirl_component_item_kind_t item_kind(csort_t s)
{
    switch (s) {
    case CS_FUNC: return WHIRL_COMPONENT_ITEM_FUNC;
    case CS_INSTANCE: return WHIRL_COMPONENT_ITEM_INSTANCE;
    case CS_TYPE: return WHIRL_COMPONENT_ITEM_TYPE;
    case CS_COMPONENT: return WHIRL_COMPONENT_ITEM_COMPONENT;
    default: return WHIRL_COMPONENT_ITEM_MODULE;
    }
}

size_t whirl_component_import_count(const whirl_component_t *c)
{
    return c ? c->root->type->nimports : 0;
}

bool whirl_component_import(const whirl_component_t *c, size_t i, const char **name,
                            whirl_component_item_kind_t *kind)
{
    if (!c || i >= c->root->type->nimports)
        return false;
    if (name)
        *name = c->root->type->imports[i].name;
    if (kind)
        *kind = item_kind(c->root->type->imports[i].sort);
    return true;
}

size_t whirl_component_export_count(const whirl_component_t *c)
{
    return c ? c->root->type->nexports : 0;
}

bool whirl_component_export(const whirl_component_t *c, size_t i, const char **name,
                            whirl_component_item_kind_t *kind)
{
    if (!c || i >= c->root->type->nexports)
        return false;
    if (name)
        *name = c->root->type->exports[i].name;
    if (kind)
        *kind = item_kind(c->root->type->exports[i].sort);
    return true;
}

/* ------------------------------------------------------------------ */
/* Resources                                                           */
/* ------------------------------------------------------------------ */

whirl_error_t *whirl_component_resource_drop(whirl_store_t *store, whirl_cval_t *value)
{
    if (!store || !value || value->kind != WHIRL_CVAL_OWN || !value->of.resource.type)
        return error_fmt("whirl_component_resource_drop: needs a store and an own value");
    whirl_resource_type_t *rt = value->of.resource.type;
    uint32_t rep = value->of.resource.rep;
    whirl_cval_release(value);
    return resource_destroy(store, rt, rep, NULL);
}

/* ------------------------------------------------------------------ */
/* Functions                                                           */
/* ------------------------------------------------------------------ */

size_t whirl_component_func_param_count(const whirl_component_func_t *f)
{
    return f ? f->type->count : 0;
}

const char *whirl_component_func_param_name(const whirl_component_func_t *f, size_t i)
{
    return f && i < f->type->count ? f->type->fields[i].name : NULL;
}

const whirl_ctype_t *whirl_component_func_param_type(const whirl_component_func_t *f, size_t i)
{
    return f && i < f->type->count ? (const whirl_ctype_t *)f->type->fields[i].type : NULL;
}

const whirl_ctype_t *whirl_component_func_result_type(const whirl_component_func_t *f)
{
    return f ? (const whirl_ctype_t *)f->type->result : NULL;
}

size_t whirl_component_func_result_count(const whirl_component_func_t *f)
{
    return f && f->type->result ? 1 : 0;
}

whirl_error_t *whirl_component_func_call(whirl_store_t *store, whirl_component_func_t *f,
                                         const whirl_cval_t *args, size_t nargs,
                                         whirl_cval_t *results, size_t nresults)
{
    if (!store || !f)
        return error_fmt("whirl_component_func_call: store or func is NULL");
    if (f->store != store)
        return error_fmt("whirl_component_func_call: the function belongs to another store");
    const ctype_t *ft = f->type;
    if (nargs != ft->count || nresults != (ft->result ? 1u : 0u))
        return error_fmt("whirl_component_func_call: `%s` takes %u argument(s) and returns %u "
                         "result(s), called with %zu and %zu", f->name ? f->name : "function",
                         ft->count, ft->result ? 1 : 0, nargs, nresults);
    if ((nargs && !args) || (nresults && !results))
        return error_fmt("whirl_component_func_call: args or results is NULL");
    for (size_t i = 0; i < nargs; i++) {
        char what[200];
        snprintf(what, sizeof what, "whirl_component_func_call: argument %zu (`%s`)", i,
                 ft->fields[i].name);
        whirl_error_t *e = check_value(ft->fields[i].type, &args[i], what);
        if (e)
            return e;
    }
    for (size_t i = 0; i < nresults; i++)
        memset(&results[i], 0, sizeof results[i]);
    return cfunc_call(f, NULL, (whirl_cval_t *)args, nargs, results, nresults);
}

/* ------------------------------------------------------------------ */
/* Instances                                                           */
/* ------------------------------------------------------------------ */

bool whirl_component_instance_func(whirl_component_instance_t *instance, const char *interface,
                                   const char *name, whirl_component_func_t **out)
{
    if (!instance || !name || !out)
        return false;
    const rinst_t *r = instance->inst->exports;
    if (interface) {
        const citem_t *found = NULL;
        for (uint32_t i = 0; i < r->n; i++) {
            bool exact;
            if (r->items[i].sort != CS_INSTANCE ||
                !cname_version_match(r->names[i], interface, &exact))
                continue;
            if (exact || !found)
                found = &r->items[i];
            if (exact)
                break;
        }
        if (!found)
            return false;
        r = found->u.inst;
    }
    const citem_t *it = rinst_find(r, name);
    if (!it || it->sort != CS_FUNC || !it->u.func)
        return false;
    *out = it->u.func;
    return true;
}

whirl_store_t *whirl_component_instance_store(const whirl_component_instance_t *instance)
{
    return instance ? instance->inst->store : NULL;
}
