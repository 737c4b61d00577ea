/* Type definitions of the component binary format (Binary.md, "Type
 * Definitions"): value types, function, component, instance and resource
 * types, core function and module types, and the extern types of imports
 * and exports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component/decode.h"

static const ctype_t core_other = {.kind = CT_CORE_OTHER, .depth = 1, .effective_size = 1,
                                   .dtor = -1};

const ctype_t *ctype_core_other(void) { return &core_other; }

static ctype_t *new_type(dctx_t *cx, reader_t *r, ct_kind_t kind)
{
    ctype_t *t = arena_alloc(cx->arena, sizeof *t);
    if (!t) {
        dfail_err(cx, r, error_oom());
        return NULL;
    }
    t->kind = (uint8_t)kind;
    t->dtor = -1;
    return t;
}

static bool finish(dctx_t *cx, reader_t *r, ctype_t *t)
{
    whirl_error_t *e = ctype_finish(t);
    return e ? dfail_err(cx, r, e) : true;
}

/* Adds the strongly-unique form of `name` to `set`; an error if present. */
static bool add_unique(dctx_t *cx, reader_t *r, cnameset_t *set, const char *name,
                       const char *what)
{
    size_t n = strlen(name);
    char *canon = malloc(n + 1);
    if (!canon)
        return dfail_err(cx, r, error_oom());
    cname_canonical(name, n, canon);
    bool oom;
    bool added = cnameset_add(set, canon, &oom);
    free(canon);
    if (added)
        return true;
    if (oom)
        return dfail_err(cx, r, error_oom());
    return dfail(cx, r, "duplicate %s `%s`", what, name);
}

/* ------------------------------------------------------------------ */
/* Core types                                                          */
/* ------------------------------------------------------------------ */

bool decode_core_valtype(dctx_t *cx, reader_t *r, uint8_t *out)
{
    uint8_t b = read_u8(r);
    if (!dcheck(cx, r))
        return false;
    switch (b) {
    case 0x7f: *out = WHIRL_I32; return true;
    case 0x7e: *out = WHIRL_I64; return true;
    case 0x7d: *out = WHIRL_F32; return true;
    case 0x7c: *out = WHIRL_F64; return true;
    case 0x7b: *out = WHIRL_V128; return true;
    case 0x70: *out = WHIRL_FUNCREF; return true;
    case 0x6f: *out = WHIRL_EXTERNREF; return true;
    default:
        r->p--;
        return dfail(cx, r, "unknown core value type 0x%02x", b);
    }
}

static bool read_valtypes(dctx_t *cx, reader_t *r, uint8_t **out, uint32_t *n)
{
    if (!dread_count(cx, r, n))
        return false;
    *out = arena_alloc(cx->arena, *n + 1);
    if (!*out)
        return dfail_err(cx, r, error_oom());
    for (uint32_t i = 0; i < *n; i++)
        if (!decode_core_valtype(cx, r, &(*out)[i]))
            return false;
    return true;
}

static bool core_functype(dctx_t *cx, reader_t *r, const ctype_t **out)
{
    ctype_t *t = new_type(cx, r, CT_CORE_FUNC);
    if (!t || !read_valtypes(cx, r, &t->core_params, &t->core_nparams) ||
        !read_valtypes(cx, r, &t->core_results, &t->core_nresults))
        return false;
    *out = t;
    return finish(cx, r, t);
}

static bool limits(dctx_t *cx, reader_t *r, bool memory)
{
    uint8_t flags = read_u8(r);
    if (!dcheck(cx, r))
        return false;
    if (flags & ~(memory ? 0x07 : 0x05))
        return dfail(cx, r, "bad limits flags 0x%02x", flags);
    read_u64(r);
    if (flags & 1)
        read_u64(r);
    return dcheck(cx, r);
}

bool decode_core_externtype(dctx_t *cx, reader_t *r, scope_t *s, whirl_externkind_t *kind,
                            const ctype_t **t)
{
    uint8_t b = read_u8(r);
    if (!dcheck(cx, r))
        return false;
    *t = &core_other;
    switch (b) {
    case 0x00: {
        uint32_t idx = read_u32(r);
        if (!dcheck(cx, r))
            return false;
        const ctype_t *ft = scope_get(cx, r, s, CS_CORE_TYPE, idx);
        if (!ft)
            return false;
        if (ft->kind != CT_CORE_FUNC)
            return dfail(cx, r, "core type %u is not a function type", idx);
        *kind = WHIRL_EXTERN_FUNC;
        *t = ft;
        return true;
    }
    case 0x01: {
        uint8_t ref;
        *kind = WHIRL_EXTERN_TABLE;
        if (!decode_core_valtype(cx, r, &ref))
            return false;
        if (ref != WHIRL_FUNCREF && ref != WHIRL_EXTERNREF)
            return dfail(cx, r, "table element type is not a reference type");
        return limits(cx, r, false);
    }
    case 0x02: *kind = WHIRL_EXTERN_MEMORY; return limits(cx, r, true);
    case 0x03: {
        uint8_t vt;
        *kind = WHIRL_EXTERN_GLOBAL;
        if (!decode_core_valtype(cx, r, &vt))
            return false;
        uint8_t mut = read_u8(r);
        if (!dcheck(cx, r))
            return false;
        if (mut > 1)
            return dfail(cx, r, "bad global mutability 0x%02x", mut);
        return true;
    }
    default:
        r->p--;
        return dfail(cx, r, "unsupported core extern type 0x%02x (tags are not supported)", b);
    }
}

static bool core_moduletype(dctx_t *cx, reader_t *r, scope_t *outer, const ctype_t **out)
{
    scope_t s = {.kind = SCOPE_MODULE_TYPE, .outer = outer, .depth = outer->depth + 1};
    bool ok = false;
    uint32_t n;
    if (s.depth > CT_MAX_DEPTH) {
        dfail(cx, r, "types nest deeper than %d", CT_MAX_DEPTH);
        goto done;
    }
    if (!dread_count(cx, r, &n))
        goto done;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t tag = read_u8(r);
        if (!dcheck(cx, r))
            goto done;
        if (tag == 0x00 || tag == 0x03) {
            ccore_extern_t e = {0};
            if (tag == 0x00 && !(e.module = dread_name(cx, r)))
                goto done;
            if (!(e.name = dread_name(cx, r)) ||
                !decode_core_externtype(cx, r, &s, &e.kind, &e.type))
                goto done;
            bool pushed = tag == 0x00 ? vec_push(&s.core_imports, e) : vec_push(&s.core_exports, e);
            if (!pushed) {
                dfail_err(cx, r, error_oom());
                goto done;
            }
            if (tag == 0x03) {
                for (size_t k = 0; k + 1 < s.core_exports.len; k++)
                    if (strcmp(s.core_exports.data[k].name, e.name) == 0) {
                        dfail(cx, r, "duplicate export `%s` in module type", e.name);
                        goto done;
                    }
            }
        } else if (tag == 0x01) {
            uint8_t form = read_u8(r);
            const ctype_t *ft;
            if (!dcheck(cx, r))
                goto done;
            if (form != 0x60) {
                r->p--;
                dfail(cx, r, "only function types may be declared in a module type");
                goto done;
            }
            if (!core_functype(cx, r, &ft) || !scope_push(cx, r, &s, CS_CORE_TYPE, ft))
                goto done;
        } else if (tag == 0x02) {
            uint8_t sort = read_u8(r), kind = read_u8(r);
            uint32_t ct = read_u32(r), idx = read_u32(r);
            if (!dcheck(cx, r))
                goto done;
            if (sort != 0x10 || kind != 0x01) {
                dfail(cx, r, "module type aliases must be outer type aliases");
                goto done;
            }
            scope_t *target = &s;
            for (uint32_t k = 0; k < ct && target; k++)
                target = target->outer;
            if (!target) {
                dfail(cx, r, "outer alias count %u is out of range", ct);
                goto done;
            }
            const ctype_t *t = scope_get(cx, r, target, CS_CORE_TYPE, idx);
            if (!t)
                goto done;
            if (t->kind == CT_CORE_MODULE) {
                dfail(cx, r, "a module type cannot alias a module type");
                goto done;
            }
            if (!scope_push(cx, r, &s, CS_CORE_TYPE, t))
                goto done;
        } else {
            r->p--;
            dfail(cx, r, "unknown module type declarator 0x%02x", tag);
            goto done;
        }
    }
    ctype_t *t = new_type(cx, r, CT_CORE_MODULE);
    if (!t)
        goto done;
    t->core_nimports = (uint32_t)s.core_imports.len;
    t->core_nexports = (uint32_t)s.core_exports.len;
    t->core_imports = arena_array(cx->arena, t->core_nimports + 1, sizeof *t->core_imports);
    t->core_exports = arena_array(cx->arena, t->core_nexports + 1, sizeof *t->core_exports);
    if (!t->core_imports || !t->core_exports) {
        dfail_err(cx, r, error_oom());
        goto done;
    }
    if (t->core_nimports)
        memcpy(t->core_imports, s.core_imports.data, t->core_nimports * sizeof *t->core_imports);
    if (t->core_nexports)
        memcpy(t->core_exports, s.core_exports.data, t->core_nexports * sizeof *t->core_exports);
    *out = t;
    ok = finish(cx, r, t);
done:
    scope_free(&s);
    return ok;
}

bool decode_core_type(dctx_t *cx, reader_t *r, scope_t *s)
{
    uint8_t form = read_u8(r);
    const ctype_t *t = NULL;
    if (!dcheck(cx, r))
        return false;
    if (form == 0x60) {
        if (!core_functype(cx, r, &t))
            return false;
    } else if (form == 0x50) {
        if (s->kind == SCOPE_MODULE_TYPE)
            return dfail(cx, r, "a module type cannot define a module type");
        if (!core_moduletype(cx, r, s, &t))
            return false;
    } else {
        r->p--;
        return dfail(cx, r, "unsupported core type form 0x%02x (GC types are not supported)",
                     form);
    }
    return scope_push(cx, r, s, CS_CORE_TYPE, t);
}

/* ------------------------------------------------------------------ */
/* Value types                                                         */
/* ------------------------------------------------------------------ */

/* valtype ::= typeidx | primvaltype, as a signed LEB (negative: primitive). */
static const ctype_t *read_valtype(dctx_t *cx, reader_t *r, scope_t *s)
{
    int64_t v = read_s33(r);
    if (!dcheck(cx, r))
        return NULL;
    if (v < 0) {
        int code = (int)(v & 0x7f);
        if (code >= 0x73 && code <= 0x7f)
            return ctype_prim((ct_kind_t)(0x7f - code));
        if (code == 0x64)
            return ctype_prim(CT_ERROR_CONTEXT);
        dfail(cx, r, "unsupported value type 0x%02x", code);
        return NULL;
    }
    const ctype_t *t = scope_get(cx, r, s, CS_TYPE, (uint32_t)v);
    if (t && !ct_is_value(t->kind)) {
        dfail(cx, r, "type %u is not a value type", (uint32_t)v);
        return NULL;
    }
    return t;
}

static const char *read_label(dctx_t *cx, reader_t *r, cnameset_t *seen)
{
    const char *l = dread_name(cx, r);
    if (!l)
        return NULL;
    size_t n = strlen(l);
    if (!clabel_valid(l, n)) {
        dfail(cx, r, "`%s` is not a valid label (kebab-case)", l);
        return NULL;
    }
    return add_unique(cx, r, seen, l, "label") ? l : NULL;
}

/* A vector of labelled members: fields (with types), cases (optional types
 * and a trailing 0x00) or plain labels. */
enum { MEMBERS_FIELDS, MEMBERS_CASES, MEMBERS_LABELS, MEMBERS_TYPES, MEMBERS_PARAMS };

static bool read_members(dctx_t *cx, reader_t *r, scope_t *s, int form, ctype_t *t,
                         uint32_t max)
{
    uint32_t n;
    cnameset_t seen = {0};
    bool ok = false;
    if (!dread_count(cx, r, &n))
        return false;
    if (form != MEMBERS_PARAMS && n == 0)
        return dfail(cx, r, "empty %s", form == MEMBERS_FIELDS ? "record"
                                        : form == MEMBERS_CASES ? "variant"
                                        : form == MEMBERS_TYPES ? "tuple" : "flags or enum");
    if (n > max)
        return dfail(cx, r, "too many members (%u, at most %u)", n, max);
    t->count = n;
    t->fields = arena_array(cx->arena, n + 1, sizeof *t->fields);
    if (!t->fields)
        return dfail_err(cx, r, error_oom());
    for (uint32_t i = 0; i < n; i++) {
        cfield_t *f = &t->fields[i];
        if (form != MEMBERS_TYPES && !(f->name = read_label(cx, r, &seen)))
            goto done;
        if (form == MEMBERS_FIELDS || form == MEMBERS_TYPES || form == MEMBERS_PARAMS) {
            if (!(f->type = read_valtype(cx, r, s)))
                goto done;
        } else if (form == MEMBERS_CASES) {
            uint8_t has = read_u8(r);
            if (!dcheck(cx, r))
                goto done;
            if (has == 1 && !(f->type = read_valtype(cx, r, s)))
                goto done;
            if (has > 1) {
                dfail(cx, r, "bad optional value type flag 0x%02x", has);
                goto done;
            }
            uint8_t refines = read_u8(r);
            if (!dcheck(cx, r))
                goto done;
            if (refines != 0) {
                dfail(cx, r, "variant case refinements are not supported");
                goto done;
            }
        }
    }
    ok = true;
done:
    cnameset_free(&seen);
    return ok;
}

static bool read_opt_valtype(dctx_t *cx, reader_t *r, scope_t *s, const ctype_t **out)
{
    uint8_t has = read_u8(r);
    *out = NULL;
    if (!dcheck(cx, r))
        return false;
    if (has == 0)
        return true;
    if (has != 1)
        return dfail(cx, r, "bad optional value type flag 0x%02x", has);
    return (*out = read_valtype(cx, r, s)) != NULL;
}

static const ctype_t *read_handle(dctx_t *cx, reader_t *r, scope_t *s, ct_kind_t kind)
{
    uint32_t idx = read_u32(r);
    if (!dcheck(cx, r))
        return NULL;
    const ctype_t *res = scope_get(cx, r, s, CS_TYPE, idx);
    if (!res)
        return NULL;
    if (res->kind != CT_RESOURCE) {
        dfail(cx, r, "type %u of a handle is not a resource type", idx);
        return NULL;
    }
    ctype_t *t = new_type(cx, r, kind);
    if (!t)
        return NULL;
    t->elem = res;
    return t;
}

/* A defvaltype whose first byte `code` was read. */
static const ctype_t *defvaltype(dctx_t *cx, reader_t *r, scope_t *s, uint8_t code)
{
    if (code >= 0x73 && code <= 0x7f)
        return ctype_prim((ct_kind_t)(0x7f - code));
    if (code == 0x64)
        return ctype_prim(CT_ERROR_CONTEXT);
    ctype_t *t = NULL;
    switch (code) {
    case 0x72:
        if (!(t = new_type(cx, r, CT_RECORD)) || !read_members(cx, r, s, MEMBERS_FIELDS, t, UINT32_MAX))
            return NULL;
        break;
    case 0x71:
        if (!(t = new_type(cx, r, CT_VARIANT)) || !read_members(cx, r, s, MEMBERS_CASES, t, UINT32_MAX))
            return NULL;
        break;
    case 0x70:
        if (!(t = new_type(cx, r, CT_LIST)) || !(t->elem = read_valtype(cx, r, s)))
            return NULL;
        break;
    case 0x6f:
        if (!(t = new_type(cx, r, CT_TUPLE)) || !read_members(cx, r, s, MEMBERS_TYPES, t, UINT32_MAX))
            return NULL;
        break;
    case 0x6e:
        if (!(t = new_type(cx, r, CT_FLAGS)) || !read_members(cx, r, s, MEMBERS_LABELS, t, 32))
            return NULL;
        break;
    case 0x6d:
        if (!(t = new_type(cx, r, CT_ENUM)) || !read_members(cx, r, s, MEMBERS_LABELS, t, UINT32_MAX))
            return NULL;
        break;
    case 0x6b:
        if (!(t = new_type(cx, r, CT_OPTION)) || !(t->elem = read_valtype(cx, r, s)))
            return NULL;
        t->count = 2;
        if (!(t->fields = arena_array(cx->arena, 2, sizeof *t->fields)))
            return dfail_err(cx, r, error_oom()), NULL;
        t->fields[0].name = "none";
        t->fields[1].name = "some";
        t->fields[1].type = t->elem;
        break;
    case 0x6a:
        if (!(t = new_type(cx, r, CT_RESULT)) || !read_opt_valtype(cx, r, s, &t->elem) ||
            !read_opt_valtype(cx, r, s, &t->err))
            return NULL;
        t->count = 2;
        if (!(t->fields = arena_array(cx->arena, 2, sizeof *t->fields)))
            return dfail_err(cx, r, error_oom()), NULL;
        t->fields[0].name = "ok";
        t->fields[0].type = t->elem;
        t->fields[1].name = "error";
        t->fields[1].type = t->err;
        break;
    case 0x69:
    case 0x68:
        if (!(t = (ctype_t *)read_handle(cx, r, s, code == 0x69 ? CT_OWN : CT_BORROW)))
            return NULL;
        break;
    case 0x67: dfail(cx, r, "fixed-length lists are not supported"); return NULL;
    case 0x66:
    case 0x65:
        if (!(t = new_type(cx, r, code == 0x66 ? CT_STREAM : CT_FUTURE)) ||
            !read_opt_valtype(cx, r, s, &t->elem))
            return NULL;
        if (t->elem && (t->elem->flags & CTF_HAS_BORROW)) {
            dfail(cx, r, "a %s payload cannot contain a borrow handle",
                  code == 0x66 ? "stream" : "future");
            return NULL;
        }
        break;
    case 0x63: dfail(cx, r, "map types are not supported"); return NULL;
    default:
        r->p--;
        dfail(cx, r, "unknown type form 0x%02x", code);
        return NULL;
    }
    if (!finish(cx, r, t))
        return NULL;
    return t;
}

static const ctype_t *functype(dctx_t *cx, reader_t *r, scope_t *s, bool is_async)
{
    ctype_t *t = new_type(cx, r, CT_FUNC);
    if (!t || !read_members(cx, r, s, MEMBERS_PARAMS, t, UINT32_MAX))
        return NULL;
    t->is_async = is_async;
    uint8_t form = read_u8(r);
    if (!dcheck(cx, r))
        return NULL;
    if (form == 0x00) {
        if (!(t->result = read_valtype(cx, r, s)))
            return NULL;
    } else if (form == 0x01) {
        uint32_t n = read_u32(r);
        if (!dcheck(cx, r))
            return NULL;
        if (n != 0) {
            dfail(cx, r, "named function results are not supported");
            return NULL;
        }
    } else {
        dfail(cx, r, "bad function result list 0x%02x", form);
        return NULL;
    }
    if (t->result && (t->result->flags & CTF_HAS_BORROW)) {
        dfail(cx, r, "a function result cannot contain a borrow handle");
        return NULL;
    }
    if (!finish(cx, r, t))
        return NULL;
    return t;
}

/* ------------------------------------------------------------------ */
/* Component and instance types                                        */
/* ------------------------------------------------------------------ */

static bool externs_to(dctx_t *cx, reader_t *r, const cextern_t *data, size_t len,
                       cextern_t **out, uint32_t *n)
{
    *n = (uint32_t)len;
    *out = arena_array(cx->arena, len + 1, sizeof **out);
    if (!*out)
        return dfail_err(cx, r, error_oom());
    if (len)
        memcpy(*out, data, len * sizeof **out);
    return true;
}

static const ctype_t *decls(dctx_t *cx, reader_t *r, scope_t *outer, scope_kind_t kind)
{
    scope_t s = {.kind = kind, .outer = outer, .depth = outer->depth + 1};
    const ctype_t *result = NULL;
    uint32_t n;
    if (s.depth > CT_MAX_DEPTH) {
        dfail(cx, r, "types nest deeper than %d", CT_MAX_DEPTH);
        goto done;
    }
    if (!dread_count(cx, r, &n))
        goto done;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t tag = read_u8(r);
        if (!dcheck(cx, r))
            goto done;
        switch (tag) {
        case 0x00:
            if (!decode_core_type(cx, r, &s))
                goto done;
            break;
        case 0x01:
            if (!decode_type(cx, r, &s))
                goto done;
            break;
        case 0x02:
            if (!decode_alias(cx, r, &s))
                goto done;
            break;
        case 0x03:
        case 0x04: {
            if (tag == 0x03 && kind != SCOPE_COMPONENT_TYPE) {
                r->p--;
                dfail(cx, r, "an instance type cannot declare imports");
                goto done;
            }
            const char *name = decode_extern_name(cx, r);
            csort_t sort;
            const ctype_t *t;
            if (!name || !decode_externtype(cx, r, &s, &sort, &t))
                goto done;
            if (tag == 0x03 ? !scope_add_import(cx, r, &s, name, sort, t)
                            : !scope_add_export(cx, r, &s, name, sort, t))
                goto done;
            break;
        }
        default:
            r->p--;
            dfail(cx, r, "unknown declarator 0x%02x", tag);
            goto done;
        }
    }
    ctype_t *t = new_type(cx, r, kind == SCOPE_COMPONENT_TYPE ? CT_COMPONENT : CT_INSTANCE);
    if (!t || !externs_to(cx, r, s.imports.data, s.imports.len, &t->imports, &t->nimports) ||
        !externs_to(cx, r, s.exports.data, s.exports.len, &t->exports, &t->nexports) ||
        !finish(cx, r, t))
        goto done;
    result = t;
done:
    scope_free(&s);
    return result;
}

static const ctype_t *resourcetype(dctx_t *cx, reader_t *r, scope_t *s)
{
    if (s->kind != SCOPE_COMPONENT) {
        dfail(cx, r, "resource types cannot be defined inside component or instance types");
        return NULL;
    }
    uint8_t rep = read_u8(r);
    if (!dcheck(cx, r))
        return NULL;
    if (rep != 0x7f) {
        r->p--;
        dfail(cx, r, "resource representation must be i32");
        return NULL;
    }
    ctype_t *t = new_type(cx, r, CT_RESOURCE);
    if (!t)
        return NULL;
    uint8_t has = read_u8(r);
    if (!dcheck(cx, r))
        return NULL;
    if (has == 1) {
        uint32_t f = read_u32(r);
        if (!dcheck(cx, r))
            return NULL;
        const ctype_t *ft = scope_get(cx, r, s, CS_CORE_FUNC, f);
        if (!ft)
            return NULL;
        if (ft->core_nparams != 1 || ft->core_params[0] != WHIRL_I32 || ft->core_nresults != 0) {
            dfail(cx, r, "resource destructor (core func %u) must have type [i32] -> []", f);
            return NULL;
        }
        t->dtor = f;
    } else if (has != 0) {
        dfail(cx, r, "bad destructor flag 0x%02x", has);
        return NULL;
    }
    t->defined = true;
    t->owner = s->comp;
    t->slot = s->comp->nres++;
    if (!finish(cx, r, t))
        return NULL;
    t->dtor = has ? t->dtor : -1;
    return t;
}

bool decode_type(dctx_t *cx, reader_t *r, scope_t *s)
{
    uint8_t code = read_u8(r);
    const ctype_t *t = NULL;
    if (!dcheck(cx, r))
        return false;
    switch (code) {
    case 0x40:
    case 0x43: t = functype(cx, r, s, code == 0x43); break;
    case 0x41: t = decls(cx, r, s, SCOPE_COMPONENT_TYPE); break;
    case 0x42: t = decls(cx, r, s, SCOPE_INSTANCE_TYPE); break;
    case 0x3f: t = resourcetype(cx, r, s); break;
    default: t = defvaltype(cx, r, s, code); break;
    }
    if (!t)
        return false;
    if (t->kind == CT_RESOURCE) {
        cop_t op = {.kind = OP_RESOURCE, .type = t, .offset = reader_offset(r)};
        if (!vec_push(&s->ops, op))
            return dfail_err(cx, r, error_oom());
    }
    return scope_push(cx, r, s, CS_TYPE, t);
}

/* ------------------------------------------------------------------ */
/* Extern types and names                                              */
/* ------------------------------------------------------------------ */

bool decode_externtype(dctx_t *cx, reader_t *r, scope_t *s, csort_t *sort, const ctype_t **t)
{
    uint8_t b = read_u8(r);
    if (!dcheck(cx, r))
        return false;
    uint32_t idx;
    switch (b) {
    case 0x00: {
        uint8_t b2 = read_u8(r);
        idx = read_u32(r);
        if (!dcheck(cx, r))
            return false;
        if (b2 != 0x11)
            return dfail(cx, r, "only core modules may be imported or exported among core sorts");
        if (!(*t = scope_get(cx, r, s, CS_CORE_TYPE, idx)))
            return false;
        if ((*t)->kind != CT_CORE_MODULE)
            return dfail(cx, r, "core type %u is not a module type", idx);
        *sort = CS_CORE_MODULE;
        return true;
    }
    case 0x01:
    case 0x04:
    case 0x05: {
        static const ct_kind_t want[] = {[0x01] = CT_FUNC, [0x04] = CT_COMPONENT,
                                         [0x05] = CT_INSTANCE};
        static const csort_t sorts[] = {[0x01] = CS_FUNC, [0x04] = CS_COMPONENT,
                                        [0x05] = CS_INSTANCE};
        idx = read_u32(r);
        if (!dcheck(cx, r))
            return false;
        if (!(*t = scope_get(cx, r, s, CS_TYPE, idx)))
            return false;
        if ((*t)->kind != want[b])
            return dfail(cx, r, "type %u is not a %s type", idx,
                         b == 0x01 ? "function" : b == 0x04 ? "component" : "instance");
        *sort = sorts[b];
        return true;
    }
    case 0x02: return dfail(cx, r, "value imports and exports are not supported");
    case 0x03: {
        uint8_t bound = read_u8(r);
        if (!dcheck(cx, r))
            return false;
        *sort = CS_TYPE;
        if (bound == 0x00) {
            idx = read_u32(r);
            if (!dcheck(cx, r))
                return false;
            return (*t = scope_get(cx, r, s, CS_TYPE, idx)) != NULL;
        }
        if (bound != 0x01)
            return dfail(cx, r, "bad type bound 0x%02x", bound);
        ctype_t *res = new_type(cx, r, CT_RESOURCE);
        if (!res)
            return false;
        scope_t *c = s->kind == SCOPE_COMPONENT ? s : NULL;
        if (c) {
            res->owner = c->comp;
            res->slot = c->comp->nres++;
        }
        *t = res;
        return finish(cx, r, res);
    }
    default:
        r->p--;
        return dfail(cx, r, "unknown extern type 0x%02x", b);
    }
}

const char *decode_extern_name(dctx_t *cx, reader_t *r)
{
    uint8_t form = read_u8(r);
    if (!dcheck(cx, r))
        return NULL;
    if (form > 0x02) {
        r->p--;
        dfail(cx, r, "bad import/export name form 0x%02x", form);
        return NULL;
    }
    const char *name = dread_name(cx, r);
    if (!name)
        return NULL;
    char why[300];
    if (!cname_valid(name, strlen(name), why, sizeof why)) {
        dfail(cx, r, "invalid name `%s`: %s", name, why);
        return NULL;
    }
    if (form == 0x02) {
        uint32_t n;
        bool seen[3] = {false, false, false};
        if (!dread_count(cx, r, &n))
            return NULL;
        for (uint32_t i = 0; i < n; i++) {
            uint8_t kind = read_u8(r);
            if (!dcheck(cx, r))
                return NULL;
            if (kind > 2) {
                r->p--;
                dfail(cx, r, "unknown name attribute 0x%02x", kind);
                return NULL;
            }
            if (seen[kind]) {
                dfail(cx, r, "duplicate name attribute");
                return NULL;
            }
            seen[kind] = true;
            if (!dread_name(cx, r))
                return NULL;
        }
    }
    return name;
}

static void name_resource(const ctype_t *t, const char *name)
{
    if (t && t->kind == CT_RESOURCE && !t->res_name)
        ((ctype_t *)t)->res_name = name;
}


bool scope_add_import(dctx_t *cx, reader_t *r, scope_t *s, const char *name, csort_t sort,
                      const ctype_t *t)
{
    if (!add_unique(cx, r, &s->import_names, name, "import name"))
        return false;
    if (s->kind == SCOPE_COMPONENT && sort == CS_INSTANCE) {
        /* Each import of an instance type gets its own resources. */
        csubst_t sub;
        csubst_init(&sub, cx->arena);
        sub.freshen = true;
        sub.fresh_owner = s->comp;
        t = ctype_subst(&sub, t);
        csubst_free(&sub);
        if (!t)
            return dfail_err(cx, r, error_oom());
    }
    if (sort == CS_TYPE)
        name_resource(t, name);
    cextern_t e = {.name = name, .sort = sort, .type = t};
    if (!vec_push(&s->imports, e))
        return dfail_err(cx, r, error_oom());
    if (s->kind == SCOPE_COMPONENT) {
        cop_t op = {.kind = OP_IMPORT, .sort = sort, .name = name, .type = t,
                    .offset = reader_offset(r)};
        if (!vec_push(&s->ops, op))
            return dfail_err(cx, r, error_oom());
    }
    if (sort == CS_CORE_MODULE && s->kind == SCOPE_COMPONENT && !vec_push(&s->modules, NULL))
        return dfail_err(cx, r, error_oom());
    if (sort == CS_COMPONENT && s->kind == SCOPE_COMPONENT && !vec_push(&s->comps, NULL))
        return dfail_err(cx, r, error_oom());
    return scope_push(cx, r, s, sort, t);
}

bool scope_add_export(dctx_t *cx, reader_t *r, scope_t *s, const char *name, csort_t sort,
                      const ctype_t *t)
{
    if (!add_unique(cx, r, &s->export_names, name, "export name"))
        return false;
    if (sort == CS_TYPE)
        name_resource(t, name);
    cextern_t e = {.name = name, .sort = sort, .type = t};
    if (!vec_push(&s->exports, e))
        return dfail_err(cx, r, error_oom());
    return scope_push(cx, r, s, sort, t);
}
