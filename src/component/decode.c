/* Component binary decoding and validation (Binary.md): the preamble, the
 * sections, and every definition except types (typedecl.c). Produces one
 * ccomp_t per component, nested ones included. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component/decode.h"
#include "util/utf8.h"

#define MAX_NAME_LEN 100000

/* ------------------------------------------------------------------ */
/* Errors and small readers                                            */
/* ------------------------------------------------------------------ */

bool dfail(dctx_t *cx, reader_t *r, const char *fmt, ...)
{
    if (cx->err)
        return false;
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cx->err = error_fmt("%s, offset %zu: %s", cx->section, reader_offset(r), msg);
    return false;
}

bool dcheck(dctx_t *cx, reader_t *r)
{
    if (reader_ok(r))
        return true;
    if (!cx->err)
        cx->err = error_fmt("%s, offset %zu: %s", cx->section, r->error_offset, r->error);
    return false;
}

bool dfail_err(dctx_t *cx, reader_t *r, whirl_error_t *e)
{
    if (cx->err) {
        whirl_error_delete(e);
        return false;
    }
    cx->err = error_prefix(e, "%s, offset %zu: ", cx->section, reader_offset(r));
    return false;
}

const char *dread_name(dctx_t *cx, reader_t *r)
{
    uint32_t len = read_u32(r);
    if (!dcheck(cx, r))
        return NULL;
    if (len > MAX_NAME_LEN) {
        dfail(cx, r, "name of %u bytes is longer than %u", len, MAX_NAME_LEN);
        return NULL;
    }
    const uint8_t *p = read_bytes(r, len);
    if (!dcheck(cx, r))
        return NULL;
    if (memchr(p, 0, len)) {
        dfail(cx, r, "name contains a NUL byte");
        return NULL;
    }
    if (!utf8_valid(p, len)) {
        dfail(cx, r, "name is not valid UTF-8");
        return NULL;
    }
    char *s = arena_strndup(cx->arena, (const char *)p, len);
    if (!s)
        dfail_err(cx, r, error_oom());
    return s;
}

bool dread_count(dctx_t *cx, reader_t *r, uint32_t *n)
{
    *n = read_u32(r);
    if (!dcheck(cx, r))
        return false;
    if (*n > reader_remaining(r))
        return dfail(cx, r, "count %u is larger than the bytes left", *n);
    return true;
}

/* ------------------------------------------------------------------ */
/* Scopes                                                              */
/* ------------------------------------------------------------------ */

bool scope_push(dctx_t *cx, reader_t *r, scope_t *s, csort_t sort, const ctype_t *t)
{
    if (s->sp[sort].len >= UINT32_MAX - 1)
        return dfail(cx, r, "too many %s definitions", csort_name(sort));
    if (!vec_push(&s->sp[sort], t))
        return dfail_err(cx, r, error_oom());
    return true;
}

void scope_free(scope_t *s)
{
    for (int i = 0; i < CS_COUNT; i++)
        vec_free(&s->sp[i]);
    vec_free(&s->modules);
    vec_free(&s->comps);
    vec_free(&s->ops);
    vec_free(&s->imports);
    vec_free(&s->exports);
    vec_free(&s->core_imports);
    vec_free(&s->core_exports);
    cnameset_free(&s->import_names);
    cnameset_free(&s->export_names);
}

const ctype_t *scope_get(dctx_t *cx, reader_t *r, scope_t *s, csort_t sort, uint32_t idx)
{
    if (idx >= s->sp[sort].len) {
        dfail(cx, r, "%s index %u out of range (%zu defined)", csort_name(sort), idx,
              s->sp[sort].len);
        return NULL;
    }
    return s->sp[sort].data[idx];
}

static bool push_op(dctx_t *cx, reader_t *r, scope_t *s, cop_t op)
{
    if (!vec_push(&s->ops, op))
        return dfail_err(cx, r, error_oom());
    return true;
}

/* Keeps the static value lists of modules and components aligned with
 * their index spaces. */
static bool push_static(dctx_t *cx, reader_t *r, scope_t *s, csort_t sort, void *value)
{
    if (s->kind != SCOPE_COMPONENT)
        return true;
    bool ok = true;
    if (sort == CS_CORE_MODULE)
        ok = vec_push(&s->modules, (whirl_module_t *)value);
    else if (sort == CS_COMPONENT)
        ok = vec_push(&s->comps, (ccomp_t *)value);
    return ok ? true : dfail_err(cx, r, error_oom());
}

static void *static_value(scope_t *s, csort_t sort, uint32_t idx)
{
    if (s->kind != SCOPE_COMPONENT)
        return NULL;
    if (sort == CS_CORE_MODULE)
        return idx < s->modules.len ? s->modules.data[idx] : NULL;
    if (sort == CS_COMPONENT)
        return idx < s->comps.len ? s->comps.data[idx] : NULL;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Sorts                                                               */
/* ------------------------------------------------------------------ */

static bool core_sort(dctx_t *cx, reader_t *r, csort_t *out)
{
    uint8_t b = read_u8(r);
    if (!dcheck(cx, r))
        return false;
    switch (b) {
    case 0x00: *out = CS_CORE_FUNC; return true;
    case 0x01: *out = CS_CORE_TABLE; return true;
    case 0x02: *out = CS_CORE_MEMORY; return true;
    case 0x03: *out = CS_CORE_GLOBAL; return true;
    case 0x10: *out = CS_CORE_TYPE; return true;
    case 0x11: *out = CS_CORE_MODULE; return true;
    case 0x12: *out = CS_CORE_INSTANCE; return true;
    case 0x04: r->p--; return dfail(cx, r, "core tags are not supported");
    default: r->p--; return dfail(cx, r, "unknown core sort 0x%02x", b);
    }
}

static bool read_sort(dctx_t *cx, reader_t *r, csort_t *out)
{
    uint8_t b = read_u8(r);
    if (!dcheck(cx, r))
        return false;
    switch (b) {
    case 0x00: return core_sort(cx, r, out);
    case 0x01: *out = CS_FUNC; return true;
    case 0x02: r->p--; return dfail(cx, r, "component values are not supported");
    case 0x03: *out = CS_TYPE; return true;
    case 0x04: *out = CS_COMPONENT; return true;
    case 0x05: *out = CS_INSTANCE; return true;
    default: r->p--; return dfail(cx, r, "unknown sort 0x%02x", b);
    }
}

static whirl_externkind_t core_kind(csort_t s)
{
    switch (s) {
    case CS_CORE_TABLE: return WHIRL_EXTERN_TABLE;
    case CS_CORE_MEMORY: return WHIRL_EXTERN_MEMORY;
    case CS_CORE_GLOBAL: return WHIRL_EXTERN_GLOBAL;
    default: return WHIRL_EXTERN_FUNC;
    }
}

static const char *kind_name(whirl_externkind_t k)
{
    static const char *const names[] = {"func", "table", "memory", "global"};
    return (unsigned)k < 4 ? names[k] : "?";
}

/* ------------------------------------------------------------------ */
/* Core modules and core instances                                     */
/* ------------------------------------------------------------------ */

static const char *dup_name(dctx_t *cx, reader_t *r, const char *p, size_t len)
{
    if (memchr(p, 0, len)) {
        dfail(cx, r, "core module name with a NUL byte is not supported");
        return NULL;
    }
    char *s = arena_strndup(cx->arena, p, len);
    if (!s)
        dfail_err(cx, r, error_oom());
    return s;
}

static const ctype_t *module_type(dctx_t *cx, reader_t *r, whirl_module_t *m)
{
    ctype_t *t = arena_alloc(cx->arena, sizeof *t);
    if (!t)
        return dfail_err(cx, r, error_oom()), NULL;
    t->kind = CT_CORE_MODULE;
    t->core_nimports = (uint32_t)whirl_module_import_count(m);
    t->core_nexports = (uint32_t)whirl_module_export_count(m);
    t->core_imports = arena_array(cx->arena, t->core_nimports + 1, sizeof *t->core_imports);
    t->core_exports = arena_array(cx->arena, t->core_nexports + 1, sizeof *t->core_exports);
    if (!t->core_imports || !t->core_exports)
        return dfail_err(cx, r, error_oom()), NULL;
    for (uint32_t i = 0; i < t->core_nimports; i++) {
        whirl_import_info_t info;
        ccore_extern_t *e = &t->core_imports[i];
        if (!whirl_module_import(m, i, &info))
            return dfail(cx, r, "cannot read core import %u", i), NULL;
        e->kind = info.kind;
        if (!(e->module = dup_name(cx, r, info.module, info.module_len)) ||
            !(e->name = dup_name(cx, r, info.name, info.name_len)))
            return NULL;
        e->type = info.kind == WHIRL_EXTERN_FUNC ? ctype_core_func_from(cx->arena, info.functype)
                                                  : ctype_core_other();
        if (!e->type)
            return dfail_err(cx, r, error_oom()), NULL;
    }
    for (uint32_t i = 0; i < t->core_nexports; i++) {
        whirl_export_info_t info;
        ccore_extern_t *e = &t->core_exports[i];
        if (!whirl_module_export(m, i, &info))
            return dfail(cx, r, "cannot read core export %u", i), NULL;
        e->kind = info.kind;
        if (!(e->name = dup_name(cx, r, info.name, info.name_len)))
            return NULL;
        e->type = info.kind == WHIRL_EXTERN_FUNC ? ctype_core_func_from(cx->arena, info.functype)
                                                  : ctype_core_other();
        if (!e->type)
            return dfail_err(cx, r, error_oom()), NULL;
    }
    whirl_error_delete(ctype_finish(t));
    return t;
}

static bool core_module_section(dctx_t *cx, reader_t *r, scope_t *s, size_t size)
{
    const uint8_t *p = read_bytes(r, size);
    if (!dcheck(cx, r))
        return false;
    whirl_module_t *m = NULL;
    whirl_error_t *e = whirl_module_new(cx->engine, p, size, &m);
    if (e) {
        r->p = p;
        return dfail_err(cx, r, error_prefix(e, "core module %zu: ", s->sp[CS_CORE_MODULE].len));
    }
    if (!vec_push(&cx->out->modules, m)) {
        whirl_module_delete(m);
        return dfail_err(cx, r, error_oom());
    }
    const ctype_t *t = module_type(cx, r, m);
    return t && scope_push(cx, r, s, CS_CORE_MODULE, t) && push_static(cx, r, s, CS_CORE_MODULE, m);
}

static const ccore_extern_t *core_find(const ctype_t *t, const char *name)
{
    for (uint32_t i = 0; i < t->core_nexports; i++)
        if (strcmp(t->core_exports[i].name, name) == 0)
            return &t->core_exports[i];
    return NULL;
}

static bool core_instance(dctx_t *cx, reader_t *r, scope_t *s)
{
    uint8_t form = read_u8(r);
    uint32_t n;
    cop_t op = {.offset = reader_offset(r)};
    if (!dcheck(cx, r))
        return false;
    ctype_t *it = arena_alloc(cx->arena, sizeof *it);
    if (!it)
        return dfail_err(cx, r, error_oom());
    it->kind = CT_CORE_INSTANCE;
    if (form == 0x00) {
        op.kind = OP_CORE_INSTANTIATE;
        op.index = read_u32(r);
        if (!dcheck(cx, r))
            return false;
        const ctype_t *mt = scope_get(cx, r, s, CS_CORE_MODULE, op.index);
        if (!mt || !dread_count(cx, r, &n))
            return false;
        op.nargs = n;
        op.args = arena_array(cx->arena, n + 1, sizeof *op.args);
        if (!op.args)
            return dfail_err(cx, r, error_oom());
        for (uint32_t i = 0; i < n; i++) {
            cop_arg_t *a = &op.args[i];
            if (!(a->name = dread_name(cx, r)))
                return false;
            uint8_t sort = read_u8(r);
            a->index = read_u32(r);
            a->sort = CS_CORE_INSTANCE;
            if (!dcheck(cx, r))
                return false;
            if (sort != 0x12)
                return dfail(cx, r, "core instantiation arguments must be instances");
            if (!scope_get(cx, r, s, CS_CORE_INSTANCE, a->index))
                return false;
            for (uint32_t k = 0; k < i; k++)
                if (strcmp(op.args[k].name, a->name) == 0)
                    return dfail(cx, r, "duplicate instantiation argument `%s`", a->name);
        }
        /* Every import must be satisfied by an argument's export. */
        for (uint32_t i = 0; i < mt->core_nimports; i++) {
            const ccore_extern_t *im = &mt->core_imports[i];
            const cop_arg_t *arg = NULL;
            for (uint32_t k = 0; k < n && !arg; k++)
                if (strcmp(op.args[k].name, im->module) == 0)
                    arg = &op.args[k];
            if (!arg)
                return dfail(cx, r, "module %u import `%s`.`%s`: no instantiation argument `%s`",
                             op.index, im->module, im->name, im->module);
            const ctype_t *at = s->sp[CS_CORE_INSTANCE].data[arg->index];
            const ccore_extern_t *ex = core_find(at, im->name);
            if (!ex)
                return dfail(cx, r, "module %u import `%s`.`%s`: core instance %u has no "
                             "export `%s`", op.index, im->module, im->name, arg->index, im->name);
            if (ex->kind != im->kind)
                return dfail(cx, r, "module %u import `%s`.`%s`: expected a %s, found a %s",
                             op.index, im->module, im->name, kind_name(im->kind),
                             kind_name(ex->kind));
            if (im->kind == WHIRL_EXTERN_FUNC && !ctype_equal(ex->type, im->type))
                return dfail(cx, r, "module %u import `%s`.`%s`: function type mismatch",
                             op.index, im->module, im->name);
        }
        it->core_nexports = mt->core_nexports;
        it->core_exports = mt->core_exports;
    } else if (form == 0x01) {
        op.kind = OP_CORE_INLINE;
        if (!dread_count(cx, r, &n))
            return false;
        op.nargs = n;
        op.args = arena_array(cx->arena, n + 1, sizeof *op.args);
        it->core_exports = arena_array(cx->arena, n + 1, sizeof *it->core_exports);
        if (!op.args || !it->core_exports)
            return dfail_err(cx, r, error_oom());
        it->core_nexports = n;
        for (uint32_t i = 0; i < n; i++) {
            cop_arg_t *a = &op.args[i];
            if (!(a->name = dread_name(cx, r)) || !core_sort(cx, r, &a->sort))
                return false;
            a->index = read_u32(r);
            if (!dcheck(cx, r))
                return false;
            if (a->sort > CS_CORE_GLOBAL)
                return dfail(cx, r, "core instance exports must be functions, tables, memories "
                             "or globals");
            const ctype_t *t = scope_get(cx, r, s, a->sort, a->index);
            if (!t)
                return false;
            for (uint32_t k = 0; k < i; k++)
                if (strcmp(op.args[k].name, a->name) == 0)
                    return dfail(cx, r, "duplicate core export `%s`", a->name);
            it->core_exports[i] = (ccore_extern_t){.name = a->name, .kind = core_kind(a->sort),
                                                   .type = t};
        }
    } else {
        r->p--;
        return dfail(cx, r, "unknown core instance form 0x%02x", form);
    }
    whirl_error_delete(ctype_finish(it));
    return push_op(cx, r, s, op) && scope_push(cx, r, s, CS_CORE_INSTANCE, it);
}

/* ------------------------------------------------------------------ */
/* Component instances                                                 */
/* ------------------------------------------------------------------ */

static const cextern_t *extern_find(const cextern_t *v, uint32_t n, const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return &v[i];
    return NULL;
}

static bool instantiate(dctx_t *cx, reader_t *r, scope_t *s, cop_t *op, ctype_t *it)
{
    uint32_t n;
    op->kind = OP_INSTANTIATE;
    op->index = read_u32(r);
    if (!dcheck(cx, r))
        return false;
    const ctype_t *ct = scope_get(cx, r, s, CS_COMPONENT, op->index);
    if (!ct || !dread_count(cx, r, &n))
        return false;
    op->nargs = n;
    op->args = arena_array(cx->arena, n + 1, sizeof *op->args);
    if (!op->args)
        return dfail_err(cx, r, error_oom());
    for (uint32_t i = 0; i < n; i++) {
        cop_arg_t *a = &op->args[i];
        if (!(a->name = dread_name(cx, r)) || !read_sort(cx, r, &a->sort))
            return false;
        a->index = read_u32(r);
        if (!dcheck(cx, r))
            return false;
        if (a->sort < CS_FUNC && a->sort != CS_CORE_MODULE)
            return dfail(cx, r, "instantiation argument `%s` must be a component-level item or "
                         "a core module", a->name);
        if (!(a->type = scope_get(cx, r, s, a->sort, a->index)))
            return false;
        for (uint32_t k = 0; k < i; k++)
            if (strcmp(op->args[k].name, a->name) == 0)
                return dfail(cx, r, "duplicate instantiation argument `%s`", a->name);
    }
    ccomp_t *child = static_value(s, CS_COMPONENT, op->index);
    csubst_t sub;
    csubst_init(&sub, cx->arena);
    sub.bind = true;
    sub.bind_owner = child;
    bool ok = true;
    for (uint32_t i = 0; i < ct->nimports && ok; i++) {
        const cextern_t *im = &ct->imports[i];
        const cop_arg_t *arg = NULL;
        for (uint32_t k = 0; k < n && !arg; k++)
            if (strcmp(op->args[k].name, im->name) == 0)
                arg = &op->args[k];
        char why[400];
        if (!arg) {
            ok = dfail(cx, r, "instantiating component %u: missing argument `%s`", op->index,
                       im->name);
        } else if (arg->sort != im->sort) {
            ok = dfail(cx, r, "instantiating component %u: argument `%s` is a %s, expected a %s",
                       op->index, im->name, csort_name(arg->sort), csort_name(im->sort));
        } else if (!cextern_subtype(im->sort, arg->type, im->type, &sub, why, sizeof why)) {
            ok = dfail(cx, r, "instantiating component %u: argument `%s`: %s", op->index,
                       im->name, why);
        }
    }
    if (ok) {
        /* The instance's type: the component's exports with the arguments
         * substituted for its imports and fresh resources for its own. */
        sub.freshen = true;
        sub.fresh_from = child;
        sub.fresh_owner = s->comp;
        it->nexports = ct->nexports;
        it->exports = arena_array(cx->arena, ct->nexports + 1, sizeof *it->exports);
        if (!it->exports)
            ok = dfail_err(cx, r, error_oom());
        for (uint32_t i = 0; i < ct->nexports && ok; i++) {
            it->exports[i] = ct->exports[i];
            if (!(it->exports[i].type = ctype_subst(&sub, ct->exports[i].type)))
                ok = dfail_err(cx, r, error_oom());
        }
    }
    csubst_free(&sub);
    return ok;
}

static bool instance_def(dctx_t *cx, reader_t *r, scope_t *s)
{
    uint8_t form = read_u8(r);
    cop_t op = {.offset = reader_offset(r)};
    if (!dcheck(cx, r))
        return false;
    ctype_t *it = arena_alloc(cx->arena, sizeof *it);
    if (!it)
        return dfail_err(cx, r, error_oom());
    it->kind = CT_INSTANCE;
    if (form == 0x00) {
        if (!instantiate(cx, r, s, &op, it))
            return false;
    } else if (form == 0x01) {
        uint32_t n;
        cnameset_t names = {0};
        op.kind = OP_INLINE;
        if (!dread_count(cx, r, &n))
            return false;
        op.nargs = n;
        op.args = arena_array(cx->arena, n + 1, sizeof *op.args);
        it->exports = arena_array(cx->arena, n + 1, sizeof *it->exports);
        if (!op.args || !it->exports)
            return dfail_err(cx, r, error_oom());
        it->nexports = n;
        bool ok = true;
        for (uint32_t i = 0; i < n && ok; i++) {
            cop_arg_t *a = &op.args[i];
            bool oom;
            ok = (a->name = decode_extern_name(cx, r)) && read_sort(cx, r, &a->sort);
            if (!ok)
                break;
            a->index = read_u32(r);
            if (!(ok = dcheck(cx, r)))
                break;
            if (a->sort < CS_FUNC && a->sort != CS_CORE_MODULE) {
                ok = dfail(cx, r, "instance export `%s` must be a component-level item or a core "
                           "module", a->name);
                break;
            }
            if (!(a->type = scope_get(cx, r, s, a->sort, a->index))) {
                ok = false;
                break;
            }
            if (!cnameset_add(&names, a->name, &oom)) {
                ok = oom ? dfail_err(cx, r, error_oom())
                         : dfail(cx, r, "duplicate instance export `%s`", a->name);
                break;
            }
            it->exports[i] = (cextern_t){.name = a->name, .sort = a->sort, .type = a->type};
        }
        cnameset_free(&names);
        if (!ok)
            return false;
    } else {
        r->p--;
        return dfail(cx, r, "unknown instance form 0x%02x", form);
    }
    whirl_error_t *e = ctype_finish(it);
    if (e)
        return dfail_err(cx, r, e);
    op.type = it;
    return push_op(cx, r, s, op) && scope_push(cx, r, s, CS_INSTANCE, it);
}

/* ------------------------------------------------------------------ */
/* Aliases                                                             */
/* ------------------------------------------------------------------ */

bool decode_alias(dctx_t *cx, reader_t *r, scope_t *s)
{
    csort_t sort;
    size_t at = reader_offset(r);
    if (!read_sort(cx, r, &sort))
        return false;
    uint8_t tag = read_u8(r);
    if (!dcheck(cx, r))
        return false;
    bool in_type = s->kind != SCOPE_COMPONENT;
    const ctype_t *t = NULL;
    void *value = NULL;
    if (tag == 0x00) {
        uint32_t idx = read_u32(r);
        const char *name = dread_name(cx, r);
        if (!name)
            return false;
        if (in_type && sort != CS_INSTANCE && sort != CS_TYPE)
            return dfail(cx, r, "export aliases in types may only alias instances and types");
        const ctype_t *it = scope_get(cx, r, s, CS_INSTANCE, idx);
        if (!it)
            return false;
        const cextern_t *e = extern_find(it->exports, it->nexports, name);
        if (!e)
            return dfail(cx, r, "instance %u has no export `%s`", idx, name);
        if (e->sort != sort)
            return dfail(cx, r, "export `%s` of instance %u is a %s, not a %s", name, idx,
                         csort_name(e->sort), csort_name(sort));
        t = e->type;
        if (!in_type) {
            cop_t op = {.kind = OP_ALIAS, .sort = sort, .index = idx, .name = name, .type = t,
                        .offset = at};
            if (!push_op(cx, r, s, op))
                return false;
        }
    } else if (tag == 0x01) {
        uint32_t idx = read_u32(r);
        const char *name = dread_name(cx, r);
        if (!name)
            return false;
        if (in_type)
            return dfail(cx, r, "core export aliases are not allowed in types");
        if (sort > CS_CORE_GLOBAL)
            return dfail(cx, r, "core export aliases must alias functions, tables, memories or "
                         "globals");
        const ctype_t *it = scope_get(cx, r, s, CS_CORE_INSTANCE, idx);
        if (!it)
            return false;
        const ccore_extern_t *e = core_find(it, name);
        if (!e)
            return dfail(cx, r, "core instance %u has no export `%s`", idx, name);
        if (e->kind != core_kind(sort))
            return dfail(cx, r, "export `%s` of core instance %u is a %s, not a %s", name, idx,
                         kind_name(e->kind), kind_name(core_kind(sort)));
        t = e->type;
        cop_t op = {.kind = OP_CORE_ALIAS, .sort = sort, .index = idx, .name = name,
                    .offset = at};
        if (!push_op(cx, r, s, op))
            return false;
    } else if (tag == 0x02) {
        uint32_t ct = read_u32(r), idx = read_u32(r);
        if (!dcheck(cx, r))
            return false;
        if (sort != CS_CORE_MODULE && sort != CS_CORE_TYPE && sort != CS_COMPONENT &&
            sort != CS_TYPE)
            return dfail(cx, r, "outer aliases may only alias core modules, core types, "
                         "components and types");
        if (in_type && sort != CS_CORE_TYPE && sort != CS_TYPE)
            return dfail(cx, r, "outer aliases in types may only alias types and core types");
        scope_t *target = s;
        bool crosses = false;
        for (uint32_t k = 0; k < ct; k++) {
            if (!target->outer)
                return dfail(cx, r, "outer alias count %u is out of range", ct);
            crosses |= target->kind == SCOPE_COMPONENT;
            target = target->outer;
        }
        if (!(t = scope_get(cx, r, target, sort, idx)))
            return false;
        if (crosses && sort == CS_TYPE && (t->flags & CTF_HAS_RESOURCE || t->kind == CT_RESOURCE))
            return dfail(cx, r, "outer alias of type %u crosses a component boundary and "
                         "refers to a resource type", idx);
        value = static_value(target, sort, idx);
    } else {
        r->p--;
        return dfail(cx, r, "unknown alias form 0x%02x", tag);
    }
    return scope_push(cx, r, s, sort, t) && push_static(cx, r, s, sort, value);
}

/* ------------------------------------------------------------------ */
/* Canonical definitions                                               */
/* ------------------------------------------------------------------ */

/* Which canonical definition the options belong to: each allows a subset. */
typedef enum opts_use { OPTS_LIFT, OPTS_LOWER, OPTS_TASK_RETURN, OPTS_COPY, OPTS_ERROR_CONTEXT }
    opts_use_t;

static bool read_opts(dctx_t *cx, reader_t *r, scope_t *s, copts_t *o, opts_use_t use)
{
    static const char *const use_name[] = {"canon lift", "canon lower", "task.return",
                                           "stream/future read and write", "error-context"};
    uint32_t n;
    bool have_enc = false;
    *o = (copts_t){.encoding = ENC_UTF8, .memory = -1, .realloc = -1, .post_return = -1,
                   .callback = -1};
    if (!dread_count(cx, r, &n))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t b = read_u8(r);
        if (!dcheck(cx, r))
            return false;
        if (b <= 0x02) {
            if (have_enc)
                return dfail(cx, r, "string-encoding given twice");
            have_enc = true;
            o->encoding = b;
            continue;
        }
        if (b == 0x06) {
            if (o->async)
                return dfail(cx, r, "async option given twice");
            if (use != OPTS_LIFT && use != OPTS_LOWER && use != OPTS_COPY)
                return dfail(cx, r, "the async option is not allowed on %s", use_name[use]);
            o->async = true;
            continue;
        }
        if (b > 0x07) {
            r->p--;
            return dfail(cx, r, "unknown canonical option 0x%02x", b);
        }
        uint32_t idx = read_u32(r);
        if (!dcheck(cx, r))
            return false;
        if (b == 0x03) {
            if (o->memory >= 0)
                return dfail(cx, r, "memory option given twice");
            if (!scope_get(cx, r, s, CS_CORE_MEMORY, idx))
                return false;
            o->memory = idx;
        } else {
            int64_t *slot = b == 0x04 ? &o->realloc : b == 0x05 ? &o->post_return : &o->callback;
            const char *what = b == 0x04 ? "realloc" : b == 0x05 ? "post-return" : "callback";
            if (*slot >= 0)
                return dfail(cx, r, "%s option given twice", what);
            if (b == 0x05 && use != OPTS_LIFT)
                return dfail(cx, r, "post-return is only allowed on canon lift");
            if (b == 0x07 && use != OPTS_LIFT)
                return dfail(cx, r, "callback is only allowed on canon lift");
            if (b == 0x04 && use == OPTS_TASK_RETURN)
                return dfail(cx, r, "realloc is not allowed on task.return");
            const ctype_t *ft = scope_get(cx, r, s, CS_CORE_FUNC, idx);
            if (!ft)
                return false;
            static const uint8_t i32x4[4] = {WHIRL_I32, WHIRL_I32, WHIRL_I32, WHIRL_I32};
            if (b == 0x04 &&
                (ft->core_nparams != 4 || memcmp(ft->core_params, i32x4, 4) != 0 ||
                 ft->core_nresults != 1 || ft->core_results[0] != WHIRL_I32))
                return dfail(cx, r, "realloc (core func %u) must have type "
                             "[i32 i32 i32 i32] -> [i32]", idx);
            if (b == 0x07 &&
                (ft->core_nparams != 3 || memcmp(ft->core_params, i32x4, 3) != 0 ||
                 ft->core_nresults != 1 || ft->core_results[0] != WHIRL_I32))
                return dfail(cx, r, "callback (core func %u) must have type "
                             "[i32 i32 i32] -> [i32]", idx);
            *slot = idx;
        }
    }
    if (o->realloc >= 0 && o->memory < 0)
        return dfail(cx, r, "realloc requires a memory option");
    if (o->callback >= 0 && !o->async)
        return dfail(cx, r, "the callback option requires the async option");
    if (o->async && o->post_return >= 0)
        return dfail(cx, r, "the async option cannot be combined with post-return");
    return true;
}

static const uint8_t flat_kind[] = {WHIRL_I32, WHIRL_I64, WHIRL_F32, WHIRL_F64};

static bool sig_matches(const ctype_t *ft, const cflat_sig_t *sig)
{
    if (ft->core_nparams != sig->nparams || ft->core_nresults != sig->nresults)
        return false;
    for (uint32_t i = 0; i < sig->nparams; i++)
        if (ft->core_params[i] != flat_kind[sig->params[i]])
            return false;
    for (uint32_t i = 0; i < sig->nresults; i++)
        if (ft->core_results[i] != flat_kind[sig->results[i]])
            return false;
    return true;
}

static void sig_format(const cflat_sig_t *sig, char *buf, size_t len)
{
    static const char *const n[] = {"i32", "i64", "f32", "f64"};
    size_t p = (size_t)snprintf(buf, len, "[");
    for (uint32_t i = 0; i < sig->nparams && p < len; i++)
        p += (size_t)snprintf(buf + p, len - p, "%s%s", i ? " " : "", n[sig->params[i]]);
    if (p < len)
        p += (size_t)snprintf(buf + p, len - p, "] -> [");
    for (uint32_t i = 0; i < sig->nresults && p < len; i++)
        p += (size_t)snprintf(buf + p, len - p, "%s%s", i ? " " : "", n[sig->results[i]]);
    if (p < len)
        snprintf(buf + p, len - p, "]");
}

static bool params_need_memory(const ctype_t *ft)
{
    for (uint32_t i = 0; i < ft->count; i++)
        if (ft->fields[i].type->flags & CTF_HAS_MEMORY)
            return true;
    return false;
}

/* Makes the core signature a whirl_functype_t owned by the component, and a
 * CT_CORE_FUNC type for the index space. */
static bool core_sig(dctx_t *cx, reader_t *r, const cflat_sig_t *sig, whirl_functype_t **wt,
                     const ctype_t **ct)
{
    whirl_valkind_t p[CANON_MAX_FLAT_PARAMS + 1], res[CANON_MAX_FLAT_RESULTS];
    for (uint32_t i = 0; i < sig->nparams; i++)
        p[i] = (whirl_valkind_t)flat_kind[sig->params[i]];
    for (uint32_t i = 0; i < sig->nresults; i++)
        res[i] = (whirl_valkind_t)flat_kind[sig->results[i]];
    *wt = whirl_functype_new(p, sig->nparams, res, sig->nresults);
    if (!*wt || !vec_push(&cx->out->functypes, *wt)) {
        whirl_functype_delete(*wt);
        return dfail_err(cx, r, error_oom());
    }
    *ct = ctype_core_func_from(cx->arena, *wt);
    return *ct ? true : dfail_err(cx, r, error_oom());
}

const char *canon_async_name(uint8_t op)
{
    static const char *const names[] = {
        [0x05] = "task.cancel",
        [0x06] = "subtask.cancel",
        [0x09] = "task.return",
        [0x0a] = "context.get",
        [0x0b] = "context.set",
        [0x0c] = "thread.yield",
        [0x0d] = "subtask.drop",
        [0x0e] = "stream.new",
        [0x0f] = "stream.read",
        [0x10] = "stream.write",
        [0x11] = "stream.cancel-read",
        [0x12] = "stream.cancel-write",
        [0x13] = "stream.drop-readable",
        [0x14] = "stream.drop-writable",
        [0x15] = "future.new",
        [0x16] = "future.read",
        [0x17] = "future.write",
        [0x18] = "future.cancel-read",
        [0x19] = "future.cancel-write",
        [0x1a] = "future.drop-readable",
        [0x1b] = "future.drop-writable",
        [0x1c] = "error-context.new",
        [0x1d] = "error-context.debug-message",
        [0x1e] = "error-context.drop",
        [0x1f] = "waitable-set.new",
        [0x20] = "waitable-set.wait",
        [0x21] = "waitable-set.poll",
        [0x22] = "waitable-set.drop",
        [0x23] = "waitable.join",
        [0x24] = "backpressure.inc",
        [0x25] = "backpressure.dec",
    };
    return op < sizeof names / sizeof *names ? names[op] : NULL;
}

/* An immediate flag byte (async?, cancel?): 0x00 or 0x01. */
static bool read_flag(dctx_t *cx, reader_t *r, const char *what, bool *out)
{
    uint8_t b = read_u8(r);
    if (!dcheck(cx, r))
        return false;
    if (b > 1) {
        r->p--;
        return dfail(cx, r, "bad %s immediate 0x%02x", what, b);
    }
    *out = b == 1;
    return true;
}

/* The stream or future type immediate of a stream.* / future.* built-in. */
static const ctype_t *read_async_value_type(dctx_t *cx, reader_t *r, scope_t *s, bool stream)
{
    uint32_t ti = read_u32(r);
    if (!dcheck(cx, r))
        return NULL;
    const ctype_t *t = scope_get(cx, r, s, CS_TYPE, ti);
    if (!t)
        return NULL;
    if (t->kind != (stream ? CT_STREAM : CT_FUTURE)) {
        dfail(cx, r, "type %u is not a %s type", ti, stream ? "stream" : "future");
        return NULL;
    }
    return t;
}

/* The built-ins of the async ABI (CanonicalABI.md, "canonical definitions"):
 * immediates, options and the core signature each is given. The opcode was
 * read into op->builtin. */
static bool canon_async_def(dctx_t *cx, reader_t *r, scope_t *s, cop_t *op)
{
    const char *name = canon_async_name(op->builtin);
    cflat_sig_t sig = {0};
    bool flag;
    enum { FI = FLAT_I32 };
#define SIG(np, nr, ...) \
    do { \
        const uint8_t all_[] = {__VA_ARGS__}; \
        sig.nparams = (np), sig.nresults = (nr); \
        memcpy(sig.params, all_, (np)); \
        memcpy(sig.results, all_ + (np), (nr)); \
    } while (0)
    op->opts = (copts_t){.encoding = ENC_UTF8, .memory = -1, .realloc = -1, .post_return = -1,
                         .callback = -1};
    switch (op->builtin) {
    case 0x05: /* task.cancel */
    case 0x24: /* backpressure.inc */
    case 0x25: /* backpressure.dec */
        break;
    case 0x1f: SIG(0, 1, FI); break; /* waitable-set.new */
    case 0x0d: /* subtask.drop */
    case 0x1e: /* error-context.drop */
    case 0x22: /* waitable-set.drop */
        SIG(1, 0, FI);
        break;
    case 0x23: SIG(2, 0, FI, FI); break; /* waitable.join */
    case 0x06: /* subtask.cancel */
        if (!read_flag(cx, r, "async", &flag))
            return false;
        op->opts.async = flag;
        SIG(1, 1, FI, FI);
        break;
    case 0x0c: /* thread.yield */
        if (!read_flag(cx, r, "cancellable", &op->cancellable))
            return false;
        SIG(0, 1, FI);
        break;
    case 0x0a: /* context.get */
    case 0x0b: { /* context.set */
        uint8_t t = read_u8(r);
        op->index = read_u32(r);
        if (!dcheck(cx, r))
            return false;
        if (t != 0x7f)
            return dfail(cx, r, "%s: the context type must be i32", name);
        if (op->index >= 2)
            return dfail(cx, r, "%s: context index %u is out of range (2 slots)", name,
                         op->index);
        if (op->builtin == 0x0a)
            SIG(0, 1, FI);
        else
            SIG(1, 0, FI);
        break;
    }
    case 0x20: /* waitable-set.wait */
    case 0x21: { /* waitable-set.poll */
        uint32_t mem;
        if (!read_flag(cx, r, "cancellable", &op->cancellable))
            return false;
        mem = read_u32(r);
        if (!dcheck(cx, r) || !scope_get(cx, r, s, CS_CORE_MEMORY, mem))
            return false;
        op->opts.memory = mem;
        SIG(2, 1, FI, FI, FI);
        break;
    }
    case 0x09: { /* task.return */
        uint8_t form = read_u8(r);
        if (!dcheck(cx, r))
            return false;
        const ctype_t *rt = NULL;
        if (form == 0x00) {
            int64_t v = read_s33(r);
            if (!dcheck(cx, r))
                return false;
            if (v < 0) {
                int code = (int)(v & 0x7f);
                rt = code >= 0x73 && code <= 0x7f ? ctype_prim((ct_kind_t)(0x7f - code))
                     : code == 0x64               ? ctype_prim(CT_ERROR_CONTEXT)
                                                  : NULL;
                if (!rt)
                    return dfail(cx, r, "task.return: unsupported value type 0x%02x", code);
            } else if (!(rt = scope_get(cx, r, s, CS_TYPE, (uint32_t)v))) {
                return false;
            } else if (!ct_is_value(rt->kind)) {
                return dfail(cx, r, "task.return: type %u is not a value type", (uint32_t)v);
            }
        } else if (form == 0x01) {
            uint8_t z = read_u8(r);
            if (!dcheck(cx, r))
                return false;
            if (z != 0x00)
                return dfail(cx, r, "task.return: named results are not supported");
        } else {
            return dfail(cx, r, "task.return: bad result list 0x%02x", form);
        }
        if (rt && (rt->flags & CTF_HAS_BORROW))
            return dfail(cx, r, "task.return: a result cannot contain a borrow handle");
        if (!read_opts(cx, r, s, &op->opts, OPTS_TASK_RETURN))
            return false;
        op->type = rt;
        if (rt && rt->flat_n <= CANON_MAX_FLAT_PARAMS) {
            sig.nparams = rt->flat_n;
            memcpy(sig.params, rt->flat, rt->flat_n);
        } else if (rt) {
            SIG(1, 0, FI);
        }
        if (rt && (rt->flags & CTF_HAS_MEMORY || rt->flat_n > CANON_MAX_FLAT_PARAMS) &&
            op->opts.memory < 0)
            return dfail(cx, r, "task.return: the result needs a memory option");
        break;
    }
    case 0x0e: /* stream.new */
    case 0x15: /* future.new */
        if (!(op->type = read_async_value_type(cx, r, s, op->builtin == 0x0e)))
            return false;
        sig.nresults = 1, sig.results[0] = FLAT_I64;
        break;
    case 0x0f: /* stream.read */
    case 0x10: /* stream.write */
    case 0x16: /* future.read */
    case 0x17: { /* future.write */
        bool stream = op->builtin <= 0x10;
        bool read = op->builtin == 0x0f || op->builtin == 0x16;
        if (!(op->type = read_async_value_type(cx, r, s, stream)) ||
            !read_opts(cx, r, s, &op->opts, OPTS_COPY))
            return false;
        const ctype_t *el = op->type->elem;
        if (el && op->opts.memory < 0)
            return dfail(cx, r, "%s: a payload needs a memory option", name);
        if (el && read && (el->flags & CTF_HAS_MEMORY) && op->opts.realloc < 0)
            return dfail(cx, r, "%s: the payload needs a realloc option", name);
        if (stream)
            SIG(3, 1, FI, FI, FI, FI);
        else
            SIG(2, 1, FI, FI, FI);
        break;
    }
    case 0x11: /* stream.cancel-read */
    case 0x12: /* stream.cancel-write */
    case 0x18: /* future.cancel-read */
    case 0x19: /* future.cancel-write */
        if (!(op->type = read_async_value_type(cx, r, s, op->builtin <= 0x12)) ||
            !read_flag(cx, r, "async", &flag))
            return false;
        op->opts.async = flag;
        SIG(1, 1, FI, FI);
        break;
    case 0x13: /* stream.drop-readable */
    case 0x14: /* stream.drop-writable */
    case 0x1a: /* future.drop-readable */
    case 0x1b: /* future.drop-writable */
        if (!(op->type = read_async_value_type(cx, r, s, op->builtin <= 0x14)))
            return false;
        SIG(1, 0, FI);
        break;
    case 0x1c: /* error-context.new */
    case 0x1d: /* error-context.debug-message */
        if (!read_opts(cx, r, s, &op->opts, OPTS_ERROR_CONTEXT))
            return false;
        if (op->opts.memory < 0)
            return dfail(cx, r, "%s needs a memory option", name);
        if (op->builtin == 0x1d && op->opts.realloc < 0)
            return dfail(cx, r, "%s needs a realloc option", name);
        if (op->builtin == 0x1c)
            SIG(2, 1, FI, FI, FI);
        else
            SIG(2, 0, FI, FI);
        break;
    default: return dfail(cx, r, "internal error: built-in %s", name);
    }
#undef SIG
    const ctype_t *ct;
    if (!core_sig(cx, r, &sig, &op->core_type, &ct))
        return false;
    return push_op(cx, r, s, *op) && scope_push(cx, r, s, CS_CORE_FUNC, ct);
}

static bool canon_def(dctx_t *cx, reader_t *r, scope_t *s)
{
    cop_t op = {.offset = reader_offset(r)};
    uint8_t b = read_u8(r);
    if (!dcheck(cx, r))
        return false;
    cflat_sig_t sig;
    char want[200];
    switch (b) {
    case 0x00: { /* lift */
        uint8_t z = read_u8(r);
        op.index = read_u32(r);
        if (!dcheck(cx, r))
            return false;
        if (z != 0x00)
            return dfail(cx, r, "bad canon lift encoding");
        const ctype_t *core = scope_get(cx, r, s, CS_CORE_FUNC, op.index);
        if (!core || !read_opts(cx, r, s, &op.opts, OPTS_LIFT))
            return false;
        uint32_t ti = read_u32(r);
        if (!dcheck(cx, r))
            return false;
        const ctype_t *ft = scope_get(cx, r, s, CS_TYPE, ti);
        if (!ft)
            return false;
        if (ft->kind != CT_FUNC)
            return dfail(cx, r, "canon lift: type %u is not a function type", ti);
        if (op.opts.async && !ft->is_async)
            return dfail(cx, r, "canon lift: the async option needs an async function type");
        if (op.opts.async)
            ctype_flatten_func_async(ft, false, op.opts.callback >= 0, &sig);
        else
            ctype_flatten_func(ft, false, &sig);
        if (!sig_matches(core, &sig)) {
            sig_format(&sig, want, sizeof want);
            return dfail(cx, r, "canon lift: core func %u does not have type %s", op.index, want);
        }
        if ((params_need_memory(ft) || sig.params_in_memory) && op.opts.realloc < 0)
            return dfail(cx, r, "canon lift: the parameters need memory and realloc options");
        /* An async lift hands its result to task.return, flat up to
         * CANON_MAX_FLAT_PARAMS values. */
        bool result_in_memory = op.opts.async ? ft->result && ft->result->flat_n >
                                                                  CANON_MAX_FLAT_PARAMS
                                              : sig.results_in_memory;
        if (ft->result && (ft->result->flags & CTF_HAS_MEMORY || result_in_memory) &&
            op.opts.memory < 0)
            return dfail(cx, r, "canon lift: the result needs a memory option");
        if (op.opts.post_return >= 0) {
            const ctype_t *pr = s->sp[CS_CORE_FUNC].data[op.opts.post_return];
            cflat_sig_t psig = {.nparams = sig.nresults};
            memcpy(psig.params, sig.results, sig.nresults);
            if (!sig_matches(pr, &psig)) {
                sig_format(&psig, want, sizeof want);
                return dfail(cx, r, "canon lift: post-return must have type %s", want);
            }
        }
        op.kind = OP_LIFT;
        op.type = ft;
        return push_op(cx, r, s, op) && scope_push(cx, r, s, CS_FUNC, ft);
    }
    case 0x01: { /* lower */
        uint8_t z = read_u8(r);
        op.index = read_u32(r);
        if (!dcheck(cx, r))
            return false;
        if (z != 0x00)
            return dfail(cx, r, "bad canon lower encoding");
        const ctype_t *ft = scope_get(cx, r, s, CS_FUNC, op.index);
        if (!ft || !read_opts(cx, r, s, &op.opts, OPTS_LOWER))
            return false;
        if (ft->kind != CT_FUNC)
            return dfail(cx, r, "canon lower: func %u is not a function", op.index);
        if (op.opts.async && !ft->is_async)
            return dfail(cx, r, "canon lower: the async option needs an async function type");
        if (op.opts.async)
            ctype_flatten_func_async(ft, true, false, &sig);
        else
            ctype_flatten_func(ft, true, &sig);
        if ((params_need_memory(ft) || sig.params_in_memory || sig.results_in_memory) &&
            op.opts.memory < 0)
            return dfail(cx, r, "canon lower: the function needs a memory option");
        if (ft->result && ft->result->flags & CTF_HAS_MEMORY && op.opts.realloc < 0)
            return dfail(cx, r, "canon lower: the result needs a realloc option");
        const ctype_t *ct;
        if (!core_sig(cx, r, &sig, &op.core_type, &ct))
            return false;
        op.kind = OP_LOWER;
        op.type = ft;
        return push_op(cx, r, s, op) && scope_push(cx, r, s, CS_CORE_FUNC, ct);
    }
    case 0x02:
    case 0x03:
    case 0x04: {
        uint32_t ti = read_u32(r);
        if (!dcheck(cx, r))
            return false;
        const ctype_t *rt = scope_get(cx, r, s, CS_TYPE, ti);
        if (!rt)
            return false;
        if (rt->kind != CT_RESOURCE)
            return dfail(cx, r, "type %u is not a resource type", ti);
        if (b != 0x03 && (!rt->defined || rt->owner != s->comp))
            return dfail(cx, r, "resource.%s needs a resource type defined in this component",
                         b == 0x02 ? "new" : "rep");
        sig = (cflat_sig_t){.nparams = 1, .params = {FLAT_I32},
                            .nresults = b == 0x03 ? 0 : 1, .results = {FLAT_I32}};
        const ctype_t *ct;
        if (!core_sig(cx, r, &sig, &op.core_type, &ct))
            return false;
        op.kind = b == 0x02 ? OP_RESOURCE_NEW : b == 0x03 ? OP_RESOURCE_DROP : OP_RESOURCE_REP;
        op.type = rt;
        return push_op(cx, r, s, op) && scope_push(cx, r, s, CS_CORE_FUNC, ct);
    }
    default:
        if (!canon_async_name(b)) {
            r->p--;
            return dfail(cx, r, "canonical built-in 0x%02x is not supported (shared-everything "
                         "threads are not implemented)", b);
        }
        op.kind = OP_ASYNC_BUILTIN;
        op.builtin = b;
        return canon_async_def(cx, r, s, &op);
    }
}

/* ------------------------------------------------------------------ */
/* Imports and exports                                                 */
/* ------------------------------------------------------------------ */

static bool import_def(dctx_t *cx, reader_t *r, scope_t *s)
{
    const char *name = decode_extern_name(cx, r);
    csort_t sort;
    const ctype_t *t;
    return name && decode_externtype(cx, r, s, &sort, &t) &&
           scope_add_import(cx, r, s, name, sort, t);
}

static bool export_def(dctx_t *cx, reader_t *r, scope_t *s)
{
    cop_t op = {.kind = OP_EXPORT, .offset = reader_offset(r)};
    if (!(op.name = decode_extern_name(cx, r)) || !read_sort(cx, r, &op.sort))
        return false;
    op.index = read_u32(r);
    if (!dcheck(cx, r))
        return false;
    if (op.sort < CS_FUNC && op.sort != CS_CORE_MODULE)
        return dfail(cx, r, "export `%s`: only core modules can be exported among core sorts",
                     op.name);
    const ctype_t *t = scope_get(cx, r, s, op.sort, op.index);
    if (!t)
        return false;
    uint8_t has = read_u8(r);
    if (!dcheck(cx, r))
        return false;
    if (has == 1) {
        csort_t asort;
        const ctype_t *at;
        char why[400];
        if (!decode_externtype(cx, r, s, &asort, &at))
            return false;
        if (asort != op.sort)
            return dfail(cx, r, "export `%s`: ascribed %s for a %s", op.name, csort_name(asort),
                         csort_name(op.sort));
        /* A `(sub resource)` ascription hides the identity from outside; the
         * resource stays what it is inside. */
        bool abstract = asort == CS_TYPE && at->kind == CT_RESOURCE && !at->defined &&
                        at->owner == s->comp && t->kind == CT_RESOURCE;
        if (!abstract) {
            if (!cextern_subtype(op.sort, t, at, NULL, why, sizeof why))
                return dfail(cx, r, "export `%s`: type does not match its ascription: %s",
                             op.name, why);
            t = at;
        }
    } else if (has != 0) {
        return dfail(cx, r, "bad export type ascription flag 0x%02x", has);
    }
    op.type = t;
    void *value = static_value(s, op.sort, op.index);
    return push_op(cx, r, s, op) && scope_add_export(cx, r, s, op.name, op.sort, t) &&
           push_static(cx, r, s, op.sort, value);
}

/* ------------------------------------------------------------------ */
/* Components                                                          */
/* ------------------------------------------------------------------ */

static const char *const section_names[] = {
    "custom section",  "core module section", "core instance section", "core type section",
    "component section", "instance section",  "alias section",         "type section",
    "canon section",   "start section",       "import section",        "export section",
    "value section",
};

static bool vec_section(dctx_t *cx, reader_t *r, scope_t *s,
                        bool (*one)(dctx_t *, reader_t *, scope_t *))
{
    uint32_t n;
    if (!dread_count(cx, r, &n))
        return false;
    for (uint32_t i = 0; i < n; i++)
        if (!one(cx, r, s))
            return false;
    return true;
}

static bool preamble(dctx_t *cx, reader_t *r)
{
    static const uint8_t magic[4] = {0x00, 0x61, 0x73, 0x6d};
    cx->section = "preamble";
    const uint8_t *p = read_bytes(r, 8);
    if (!dcheck(cx, r))
        return false;
    if (memcmp(p, magic, 4) != 0) {
        r->p = p;
        return dfail(cx, r, "bad magic number");
    }
    if (p[6] != 0x01 || p[7] != 0x00) {
        r->p = p + 6;
        return dfail(cx, r, "not a component (layer %u)", p[6] | (p[7] << 8));
    }
    if (p[4] != 0x0d || p[5] != 0x00) {
        r->p = p + 4;
        return dfail(cx, r, "unsupported component binary version 0x%02x%02x (0x000d expected)",
                     p[5], p[4]);
    }
    return true;
}

static ccomp_t *finish_component(dctx_t *cx, reader_t *r, scope_t *s)
{
    ccomp_t *c = s->comp;
    c->nops = (uint32_t)s->ops.len;
    c->ops = arena_array(cx->arena, s->ops.len + 1, sizeof *c->ops);
    c->modules = arena_array(cx->arena, s->modules.len + 1, sizeof *c->modules);
    c->components = arena_array(cx->arena, s->comps.len + 1, sizeof *c->components);
    ctype_t *t = arena_alloc(cx->arena, sizeof *t);
    if (!c->ops || !c->modules || !c->components || !t)
        return dfail_err(cx, r, error_oom()), NULL;
    if (s->ops.len)
        memcpy(c->ops, s->ops.data, s->ops.len * sizeof *c->ops);
    if (s->modules.len)
        memcpy(c->modules, s->modules.data, s->modules.len * sizeof *c->modules);
    if (s->comps.len)
        memcpy(c->components, s->comps.data, s->comps.len * sizeof *c->components);
    for (int i = 0; i < CS_COUNT; i++)
        c->count[i] = (uint32_t)s->sp[i].len;
    t->kind = CT_COMPONENT;
    t->nimports = (uint32_t)s->imports.len;
    t->nexports = (uint32_t)s->exports.len;
    t->imports = arena_array(cx->arena, t->nimports + 1, sizeof *t->imports);
    t->exports = arena_array(cx->arena, t->nexports + 1, sizeof *t->exports);
    if (!t->imports || !t->exports)
        return dfail_err(cx, r, error_oom()), NULL;
    if (t->nimports)
        memcpy(t->imports, s->imports.data, t->nimports * sizeof *t->imports);
    if (t->nexports)
        memcpy(t->exports, s->exports.data, t->nexports * sizeof *t->exports);
    whirl_error_t *e = ctype_finish(t);
    if (e)
        return dfail_err(cx, r, e), NULL;
    c->type = t;
    return c;
}

/* Decodes the component in r[p, end) (preamble included). */
static ccomp_t *decode_component(dctx_t *cx, reader_t *r, scope_t *outer, int depth)
{
    if (depth > COMPONENT_MAX_NESTING) {
        dfail(cx, r, "components nest deeper than %d", COMPONENT_MAX_NESTING);
        return NULL;
    }
    ccomp_t *c = arena_alloc(cx->arena, sizeof *c);
    if (!c) {
        dfail_err(cx, r, error_oom());
        return NULL;
    }
    c->id = cx->ncomps++;
    c->offset = reader_offset(r);
    c->parent = outer ? outer->comp : NULL;
    scope_t s = {.kind = SCOPE_COMPONENT, .outer = outer, .comp = c,
                 .depth = outer ? outer->depth + 1 : 0};
    ccomp_t *result = NULL;
    if (!preamble(cx, r))
        goto done;
    while (!reader_at_end(r)) {
        cx->section = "section header";
        uint8_t id = read_u8(r);
        uint32_t size = read_u32(r);
        if (!dcheck(cx, r))
            goto done;
        if (size > reader_remaining(r)) {
            dfail(cx, r, "section size %u is larger than the bytes left", size);
            goto done;
        }
        if (id > 12) {
            r->p--;
            dfail(cx, r, "unknown section id %u", id);
            goto done;
        }
        cx->section = section_names[id];
        reader_t sr;
        reader_init(&sr, r->base, r->p, r->p + size);
        r->p += size;
        bool ok;
        switch (id) {
        case 0: ok = dread_name(cx, &sr) != NULL; sr.p = sr.end; break;
        case 1: ok = core_module_section(cx, &sr, &s, size); break;
        case 2: ok = vec_section(cx, &sr, &s, core_instance); break;
        case 3: ok = vec_section(cx, &sr, &s, decode_core_type); break;
        case 4: {
            ccomp_t *child = decode_component(cx, &sr, &s, depth + 1);
            cx->section = "component section";
            ok = child && scope_push(cx, &sr, &s, CS_COMPONENT, child->type) &&
                 push_static(cx, &sr, &s, CS_COMPONENT, child);
            break;
        }
        case 5: ok = vec_section(cx, &sr, &s, instance_def); break;
        case 6: ok = vec_section(cx, &sr, &s, decode_alias); break;
        case 7: ok = vec_section(cx, &sr, &s, decode_type); break;
        case 8: ok = vec_section(cx, &sr, &s, canon_def); break;
        case 9: ok = dfail(cx, &sr, "start definitions (component values) are not supported"); break;
        case 10: ok = vec_section(cx, &sr, &s, import_def); break;
        case 11: ok = vec_section(cx, &sr, &s, export_def); break;
        default: ok = dfail(cx, &sr, "component values are not supported"); break;
        }
        if (!ok)
            goto done;
        if (!reader_at_end(&sr)) {
            dfail(cx, &sr, "%zu bytes left at the end of the section", reader_remaining(&sr));
            goto done;
        }
    }
    cx->section = "component";
    result = finish_component(cx, r, &s);
done:
    scope_free(&s);
    return result;
}

whirl_error_t *component_decode(whirl_engine_t *engine, const uint8_t *bytes, size_t len,
                                whirl_component_t **out)
{
    *out = NULL;
    if (!engine || (!bytes && len))
        return error_fmt("whirl_component_new: engine or bytes is NULL");
    whirl_component_t *c = calloc(1, sizeof *c);
    if (!c)
        return error_oom();
    c->refcount = 1;
    c->engine = engine;
    arena_init(&c->arena);
    static const uint8_t empty[1];
    reader_t r;
    reader_init(&r, bytes ? bytes : empty, bytes ? bytes : empty, (bytes ? bytes : empty) + len);
    dctx_t cx = {.engine = engine, .out = c, .arena = &c->arena, .section = "preamble"};
    c->root = decode_component(&cx, &r, NULL, 0);
    if (!c->root) {
        component_release(c);
        whirl_error_t *e = cx.err ? cx.err : error_fmt("invalid component");
        return error_prefix(e, "invalid component: ");
    }
    *out = c;
    return NULL;
}

void component_retain(whirl_component_t *c) { __atomic_add_fetch(&c->refcount, 1, __ATOMIC_RELAXED); }

void component_release(whirl_component_t *c)
{
    if (!c || __atomic_sub_fetch(&c->refcount, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    for (size_t i = 0; i < c->modules.len; i++)
        whirl_module_delete(c->modules.data[i]);
    for (size_t i = 0; i < c->functypes.len; i++)
        whirl_functype_delete(c->functypes.data[i]);
    vec_free(&c->modules);
    vec_free(&c->functypes);
    arena_free(&c->arena);
    free(c);
}
