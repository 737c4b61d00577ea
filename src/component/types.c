/* Component types: construction (layout and flattening of the canonical
 * ABI), equality, substitution of resource types, subtyping, printing. */
#include <stdio.h>
#include <string.h>

#include "component/component.h"

/* ------------------------------------------------------------------ */
/* Primitives                                                          */
/* ------------------------------------------------------------------ */

#define PRIM(k, sz, fl) \
    {.kind = (k), .depth = 1, .effective_size = 1, .size = (sz), .align = (sz), \
     .size64 = (sz), .align64 = (sz), .flat_n = 1, .flat = {(fl)}, .dtor = -1}

static const ctype_t prims[] = {
    PRIM(CT_BOOL, 1, FLAT_I32), PRIM(CT_S8, 1, FLAT_I32),  PRIM(CT_U8, 1, FLAT_I32),
    PRIM(CT_S16, 2, FLAT_I32),  PRIM(CT_U16, 2, FLAT_I32), PRIM(CT_S32, 4, FLAT_I32),
    PRIM(CT_U32, 4, FLAT_I32),  PRIM(CT_S64, 8, FLAT_I64), PRIM(CT_U64, 8, FLAT_I64),
    PRIM(CT_F32, 4, FLAT_F32),  PRIM(CT_F64, 8, FLAT_F64), PRIM(CT_CHAR, 4, FLAT_I32),
    {.kind = CT_STRING, .flags = CTF_HAS_MEMORY, .depth = 1, .effective_size = 1, .size = 8,
     .align = 4, .size64 = 16, .align64 = 8, .flat_n = 2, .flat = {FLAT_I32, FLAT_I32},
     .dtor = -1},
};

static const ctype_t error_context_prim = PRIM(CT_ERROR_CONTEXT, 4, FLAT_I32);

const ctype_t *ctype_prim(ct_kind_t kind)
{
    if (kind == CT_ERROR_CONTEXT)
        return &error_context_prim;
    return kind <= CT_STRING ? &prims[kind] : NULL;
}

const char *csort_name(csort_t sort)
{
    static const char *const names[CS_COUNT] = {
        "core func", "core table", "core memory", "core global", "core type", "core module",
        "core instance", "func", "value", "type", "component", "instance",
    };
    return (unsigned)sort < CS_COUNT ? names[sort] : "?";
}

/* ------------------------------------------------------------------ */
/* Finishing a type: flags, limits, layout, flattening                 */
/* ------------------------------------------------------------------ */

static uint32_t sat_add(uint32_t a, uint32_t b)
{
    return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

static uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) & ~(a - 1); }

static uint8_t flat_join(uint8_t a, uint8_t b)
{
    if (a == b)
        return a;
    if ((a == FLAT_I32 && b == FLAT_F32) || (a == FLAT_F32 && b == FLAT_I32))
        return FLAT_I32;
    return FLAT_I64;
}

/* Appends `c`'s flattening to `t`'s (saturating past the maximum). */
static void flat_append(ctype_t *t, const ctype_t *c)
{
    for (uint32_t i = 0; i < c->flat_n && i < CANON_MAX_FLAT_PARAMS; i++) {
        if (t->flat_n < CANON_MAX_FLAT_PARAMS)
            t->flat[t->flat_n] = c->flat[i];
        if (t->flat_n <= CANON_MAX_FLAT_PARAMS)
            t->flat_n++;
    }
    if (c->flat_n > CANON_MAX_FLAT_PARAMS)
        t->flat_n = CANON_MAX_FLAT_PARAMS + 1;
}

static void absorb(ctype_t *t, const ctype_t *c)
{
    if (!c)
        return;
    t->flags |= c->flags & (CTF_HAS_RESOURCE | CTF_HAS_BORROW | CTF_HAS_MEMORY);
    if (c->depth + 1 > t->depth)
        t->depth = (uint16_t)(c->depth + 1 > 0xffff ? 0xffff : c->depth + 1);
    t->effective_size = sat_add(t->effective_size, c->effective_size);
}

static void layout_record(ctype_t *t)
{
    uint64_t s = 0, s64 = 0;
    uint32_t a = 1, a64 = 1;
    t->flat_n = 0;
    for (uint32_t i = 0; i < t->count; i++) {
        const ctype_t *f = t->fields[i].type;
        s = align_up(s, f->align) + f->size;
        s64 = align_up(s64, f->align64) + f->size64;
        if (f->align > a)
            a = f->align;
        if (f->align64 > a64)
            a64 = f->align64;
        if (s > UINT32_MAX)
            s = UINT32_MAX;
        if (s64 > UINT32_MAX)
            s64 = UINT32_MAX;
        flat_append(t, f);
    }
    t->align = a;
    t->align64 = a64;
    s = align_up(s, a);
    s64 = align_up(s64, a64);
    t->size = s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
    t->size64 = s64 > UINT32_MAX ? UINT32_MAX : (uint32_t)s64;
}

static uint32_t disc_size(uint32_t ncases)
{
    return ncases <= 256 ? 1 : ncases <= 65536 ? 2 : 4;
}

static void layout_variant(ctype_t *t)
{
    uint32_t ds = disc_size(t->count);
    uint32_t ca = 1, ca64 = 1;
    uint64_t cs = 0, cs64 = 0;
    uint8_t flat[CANON_MAX_FLAT_PARAMS];
    uint32_t nflat = 0;
    bool over = false;
    for (uint32_t i = 0; i < t->count; i++) {
        const ctype_t *c = t->fields[i].type;
        if (!c)
            continue;
        if (c->align > ca)
            ca = c->align;
        if (c->align64 > ca64)
            ca64 = c->align64;
        if (c->size > cs)
            cs = c->size;
        if (c->size64 > cs64)
            cs64 = c->size64;
        if (c->flat_n > CANON_MAX_FLAT_PARAMS) {
            over = true;
            continue;
        }
        for (uint32_t j = 0; j < c->flat_n; j++) {
            if (j < nflat)
                flat[j] = flat_join(flat[j], c->flat[j]);
            else
                flat[nflat++] = c->flat[j];
        }
    }
    uint32_t a = ds > ca ? ds : ca, a64 = ds > ca64 ? ds : ca64;
    uint64_t s = align_up(align_up(ds, ca) + cs, a);
    uint64_t s64 = align_up(align_up(ds, ca64) + cs64, a64);
    t->align = a;
    t->align64 = a64;
    t->size = s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
    t->size64 = s64 > UINT32_MAX ? UINT32_MAX : (uint32_t)s64;
    t->flat[0] = FLAT_I32;
    t->flat_n = 1;
    if (over || nflat + 1 > CANON_MAX_FLAT_PARAMS) {
        t->flat_n = CANON_MAX_FLAT_PARAMS + 1;
        return;
    }
    for (uint32_t j = 0; j < nflat; j++)
        t->flat[t->flat_n++] = flat[j];
}

whirl_error_t *ctype_finish(ctype_t *t)
{
    t->flags = 0;
    t->depth = 1;
    t->effective_size = 1;
    if (t->kind != CT_RESOURCE)
        t->dtor = -1;
    for (uint32_t i = 0; i < t->count && t->fields; i++)
        absorb(t, t->fields[i].type);
    /* Options and results keep their payloads in `fields` too. */
    if (t->kind != CT_OPTION && t->kind != CT_RESULT) {
        absorb(t, t->elem);
        absorb(t, t->err);
    }
    absorb(t, t->result);
    for (uint32_t i = 0; i < t->nimports; i++)
        absorb(t, t->imports[i].type);
    for (uint32_t i = 0; i < t->nexports; i++)
        absorb(t, t->exports[i].type);
    for (uint32_t i = 0; i < t->core_nimports; i++)
        absorb(t, t->core_imports[i].type);
    for (uint32_t i = 0; i < t->core_nexports; i++)
        absorb(t, t->core_exports[i].type);
    switch (t->kind) {
    case CT_LIST:
        t->flags |= CTF_HAS_MEMORY;
        t->size = 8, t->align = 4, t->size64 = 16, t->align64 = 8;
        t->flat_n = 2, t->flat[0] = t->flat[1] = FLAT_I32;
        break;
    case CT_RECORD:
    case CT_TUPLE: layout_record(t); break;
    case CT_VARIANT:
    case CT_ENUM:
    case CT_OPTION:
    case CT_RESULT: layout_variant(t); break;
    case CT_FLAGS:
        t->size = t->align = t->size64 = t->align64 = t->count <= 8 ? 1 : t->count <= 16 ? 2 : 4;
        t->flat_n = 1, t->flat[0] = FLAT_I32;
        break;
    case CT_OWN:
    case CT_BORROW:
        if (t->kind == CT_BORROW)
            t->flags |= CTF_HAS_BORROW;
        t->size = t->align = t->size64 = t->align64 = 4;
        t->flat_n = 1, t->flat[0] = FLAT_I32;
        break;
    case CT_STREAM:
    case CT_FUTURE:
    case CT_ERROR_CONTEXT:
        /* Handles (indices into the instance's table), like own/borrow: the
         * payload's strings and lists are copied by stream/future reads and
         * writes, with those built-ins' options, not by the call. */
        t->flags &= (uint8_t)~(CTF_HAS_MEMORY | CTF_HAS_BORROW);
        t->size = t->align = t->size64 = t->align64 = 4;
        t->flat_n = 1, t->flat[0] = FLAT_I32;
        break;
    case CT_RESOURCE: t->flags |= CTF_HAS_RESOURCE; break;
    default: break;
    }
    /* Handles to a resource mention it, but whether a function type or
     * instance type contains a borrow is a property of its values only. */
    if (!ct_is_value(t->kind))
        t->flags &= (uint8_t)~CTF_HAS_MEMORY;
    if (t->depth > CT_MAX_DEPTH)
        return error_fmt("type nesting is deeper than %d", CT_MAX_DEPTH);
    if (t->effective_size > CT_MAX_EFFECTIVE_SIZE)
        return error_fmt("effective type size exceeds the limit of %u", CT_MAX_EFFECTIVE_SIZE);
    if (ct_is_value(t->kind) && t->size64 >= (1u << 28))
        return error_fmt("type is too large: its canonical ABI size is at least 2^28 bytes");
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Equality and subtyping                                              */
/* ------------------------------------------------------------------ */

static bool str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

void csubst_init(csubst_t *s, arena_t *arena)
{
    memset(s, 0, sizeof *s);
    s->arena = arena;
}

void csubst_free(csubst_t *s)
{
    vec_free(&s->from);
    vec_free(&s->to);
    vec_free(&s->memo_old);
    vec_free(&s->memo_new);
}

const ctype_t *csubst_lookup(const csubst_t *s, const ctype_t *from)
{
    if (!s)
        return NULL;
    for (size_t i = s->from.len; i-- > 0;)
        if (s->from.data[i] == from)
            return s->to.data[i];
    return NULL;
}

bool csubst_add(csubst_t *s, const ctype_t *from, const ctype_t *to)
{
    if (!vec_push(&s->from, from))
        return false;
    if (!vec_push(&s->to, to)) {
        s->from.len--;
        return false;
    }
    return true;
}

/* The resource `expected` stands for under `bind`, binding it to `actual`
 * first if it may be bound. */
static const ctype_t *resolve_res(const ctype_t *expected, const ctype_t *actual, csubst_t *bind)
{
    const ctype_t *m = csubst_lookup(bind, expected);
    if (m)
        return m;
    if (bind && bind->bind && expected->owner == bind->bind_owner && !expected->defined &&
        actual && actual->kind == CT_RESOURCE) {
        if (!csubst_add(bind, expected, actual))
            return expected;
        return actual;
    }
    return expected;
}

static bool equal_map(const ctype_t *a, const ctype_t *b, csubst_t *bind);

static bool equal_opt(const ctype_t *a, const ctype_t *b, csubst_t *bind)
{
    if (!a || !b)
        return a == b;
    return equal_map(a, b, bind);
}

static bool core_ext_sub(const ccore_extern_t *a, uint32_t na, const ccore_extern_t *b,
                         uint32_t nb, bool imports);

/* a: actual, b: expected (only b's resources are mapped). */
static bool equal_map(const ctype_t *a, const ctype_t *b, csubst_t *bind)
{
    if (b->kind == CT_RESOURCE)
        return a == resolve_res(b, a, bind);
    if (a == b && !(b->flags & CTF_HAS_RESOURCE && bind && bind->from.len))
        return true;
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case CT_LIST:
    case CT_OPTION:
        return equal_map(a->elem, b->elem, bind);
    case CT_STREAM:
    case CT_FUTURE:
        return equal_opt(a->elem, b->elem, bind);
    case CT_ERROR_CONTEXT:
        return true;
    case CT_OWN:
    case CT_BORROW:
        return equal_map(a->elem, b->elem, bind);
    case CT_RESULT:
        return equal_opt(a->elem, b->elem, bind) && equal_opt(a->err, b->err, bind);
    case CT_RECORD:
    case CT_VARIANT:
    case CT_TUPLE:
    case CT_FLAGS:
    case CT_ENUM:
    case CT_FUNC:
        if (a->count != b->count || a->is_async != b->is_async)
            return false;
        for (uint32_t i = 0; i < a->count; i++) {
            if (!str_eq(a->fields[i].name, b->fields[i].name))
                return false;
            if (!equal_opt(a->fields[i].type, b->fields[i].type, bind))
                return false;
        }
        return a->kind != CT_FUNC || equal_opt(a->result, b->result, bind);
    case CT_INSTANCE:
    case CT_COMPONENT: {
        char why[8];
        return ctype_subtype(a, b, bind, why, sizeof why) &&
               ctype_subtype(b, a, NULL, why, sizeof why);
    }
    case CT_CORE_FUNC:
        if (a->core_nparams != b->core_nparams || a->core_nresults != b->core_nresults)
            return false;
        return memcmp(a->core_params, b->core_params, a->core_nparams) == 0 &&
               memcmp(a->core_results, b->core_results, a->core_nresults) == 0;
    case CT_CORE_MODULE:
        return core_ext_sub(a->core_exports, a->core_nexports, b->core_exports,
                            b->core_nexports, false) &&
               core_ext_sub(b->core_exports, b->core_nexports, a->core_exports,
                            a->core_nexports, false) &&
               core_ext_sub(a->core_imports, a->core_nimports, b->core_imports,
                            b->core_nimports, true) &&
               core_ext_sub(b->core_imports, b->core_nimports, a->core_imports,
                            a->core_nimports, true);
    case CT_CORE_INSTANCE:
        return core_ext_sub(a->core_exports, a->core_nexports, b->core_exports,
                            b->core_nexports, false) &&
               core_ext_sub(b->core_exports, b->core_nexports, a->core_exports,
                            a->core_nexports, false);
    default:
        return true; /* primitives, core others */
    }
}

bool ctype_equal(const ctype_t *a, const ctype_t *b) { return equal_map(a, b, NULL); }

/* Every entry of `want` has a counterpart in `have` of the same kind and
 * (for functions) type. Imports match on (module, name). */
static bool core_ext_sub(const ccore_extern_t *have, uint32_t nhave,
                         const ccore_extern_t *want, uint32_t nwant, bool imports)
{
    for (uint32_t i = 0; i < nwant; i++) {
        bool found = false;
        for (uint32_t j = 0; j < nhave && !found; j++) {
            if (!str_eq(have[j].name, want[i].name))
                continue;
            if (imports && !str_eq(have[j].module, want[i].module))
                continue;
            found = have[j].kind == want[i].kind &&
                    (want[i].kind != WHIRL_EXTERN_FUNC ||
                     equal_map(have[j].type, want[i].type, NULL));
            if (!found)
                return false;
        }
        if (!found)
            return false;
    }
    return true;
}

static const cextern_t *find_extern(const cextern_t *v, uint32_t n, const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return &v[i];
    return NULL;
}

bool cextern_subtype(csort_t sort, const ctype_t *actual, const ctype_t *expected,
                     csubst_t *bind, char *why, size_t why_len)
{
    if (sort == CS_TYPE) {
        if (expected->kind == CT_RESOURCE) {
            if (actual->kind != CT_RESOURCE) {
                snprintf(why, why_len, "expected a resource type");
                return false;
            }
            if (actual != resolve_res(expected, actual, bind)) {
                snprintf(why, why_len, "resource types differ");
                return false;
            }
            return true;
        }
        if (!equal_map(actual, expected, bind)) {
            char a[128], e[128];
            ctype_format(actual, a, sizeof a);
            ctype_format(expected, e, sizeof e);
            snprintf(why, why_len, "type %s is not %s", a, e);
            return false;
        }
        return true;
    }
    return ctype_subtype(actual, expected, bind, why, why_len);
}

bool ctype_subtype(const ctype_t *actual, const ctype_t *expected, csubst_t *bind, char *why,
                   size_t why_len)
{
    if (actual->kind != expected->kind) {
        snprintf(why, why_len, "kinds differ");
        return false;
    }
    switch (expected->kind) {
    case CT_INSTANCE:
    case CT_COMPONENT:
        for (uint32_t i = 0; i < expected->nexports; i++) {
            const cextern_t *e = &expected->exports[i];
            const cextern_t *a = find_extern(actual->exports, actual->nexports, e->name);
            if (!a) {
                snprintf(why, why_len, "missing export `%s`", e->name);
                return false;
            }
            if (a->sort != e->sort) {
                snprintf(why, why_len, "export `%s` is a %s, expected a %s", e->name,
                         csort_name(a->sort), csort_name(e->sort));
                return false;
            }
            char sub[200];
            if (!cextern_subtype(e->sort, a->type, e->type, bind, sub, sizeof sub)) {
                snprintf(why, why_len, "export `%s`: %s", e->name, sub);
                return false;
            }
        }
        /* Imports are contravariant: the actual component may import less. */
        for (uint32_t i = 0; i < actual->nimports; i++) {
            const cextern_t *a = &actual->imports[i];
            const cextern_t *e = find_extern(expected->imports, expected->nimports, a->name);
            char sub[200];
            if (!e) {
                snprintf(why, why_len, "unexpected import `%s`", a->name);
                return false;
            }
            if (a->sort != e->sort || !cextern_subtype(a->sort, e->type, a->type, NULL, sub,
                                                       sizeof sub)) {
                snprintf(why, why_len, "import `%s` does not match", a->name);
                return false;
            }
        }
        return true;
    case CT_CORE_MODULE:
        if (!core_ext_sub(actual->core_exports, actual->core_nexports, expected->core_exports,
                          expected->core_nexports, false)) {
            snprintf(why, why_len, "core module exports do not match");
            return false;
        }
        if (!core_ext_sub(expected->core_imports, expected->core_nimports,
                          actual->core_imports, actual->core_nimports, true)) {
            snprintf(why, why_len, "core module imports do not match");
            return false;
        }
        return true;
    default:
        if (!equal_map(actual, expected, bind)) {
            char a[160], e[160];
            ctype_format(actual, a, sizeof a);
            ctype_format(expected, e, sizeof e);
            snprintf(why, why_len, "%s is not %s", a, e);
            return false;
        }
        return true;
    }
}

/* ------------------------------------------------------------------ */
/* Substitution                                                        */
/* ------------------------------------------------------------------ */

static const ctype_t *memo_get(const csubst_t *s, const ctype_t *t)
{
    for (size_t i = s->memo_old.len; i-- > 0;)
        if (s->memo_old.data[i] == t)
            return s->memo_new.data[i];
    return NULL;
}

static bool memo_put(csubst_t *s, const ctype_t *old, const ctype_t *new_)
{
    if (!vec_push(&s->memo_old, old))
        return false;
    if (!vec_push(&s->memo_new, new_)) {
        s->memo_old.len--;
        return false;
    }
    return true;
}

static const ctype_t *subst_res(csubst_t *s, const ctype_t *t)
{
    const ctype_t *m = csubst_lookup(s, t);
    if (m)
        return m;
    if (!s->freshen || !(t->owner == NULL || t->owner == s->fresh_from))
        return t;
    ctype_t *n = arena_alloc(s->arena, sizeof *n);
    if (!n)
        return NULL;
    *n = *t;
    n->owner = s->fresh_owner;
    n->defined = false;
    n->dtor = -1;
    n->slot = s->fresh_owner ? s->fresh_owner->nres++ : 0;
    if (!csubst_add(s, t, n))
        return NULL;
    return n;
}

static bool subst_externs(csubst_t *s, const cextern_t *in, uint32_t n, cextern_t **out,
                          bool *changed)
{
    *out = (cextern_t *)in;
    if (!n)
        return true;
    cextern_t *v = arena_array(s->arena, n, sizeof *v);
    if (!v)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        v[i] = in[i];
        v[i].type = ctype_subst(s, in[i].type);
        if (!v[i].type)
            return false;
        if (v[i].type != in[i].type)
            *changed = true;
    }
    *out = v;
    return true;
}

const ctype_t *ctype_subst(csubst_t *s, const ctype_t *t)
{
    if (!t)
        return NULL;
    if (t->kind == CT_RESOURCE)
        return subst_res(s, t);
    if (!(t->flags & CTF_HAS_RESOURCE))
        return t;
    const ctype_t *memo = memo_get(s, t);
    if (memo)
        return memo;
    ctype_t *n = arena_alloc(s->arena, sizeof *n);
    if (!n)
        return NULL;
    *n = *t;
    bool changed = false;
    if (t->count && t->fields) {
        n->fields = arena_array(s->arena, t->count, sizeof *n->fields);
        if (!n->fields)
            return NULL;
        for (uint32_t i = 0; i < t->count; i++) {
            n->fields[i] = t->fields[i];
            if (t->fields[i].type) {
                n->fields[i].type = ctype_subst(s, t->fields[i].type);
                if (!n->fields[i].type)
                    return NULL;
                changed |= n->fields[i].type != t->fields[i].type;
            }
        }
    }
#define SUB(f)                            \
    if (t->f) {                           \
        n->f = ctype_subst(s, t->f);      \
        if (!n->f)                        \
            return NULL;                  \
        changed |= n->f != t->f;          \
    }
    SUB(elem)
    SUB(err)
    SUB(result)
#undef SUB
    if (!subst_externs(s, t->imports, t->nimports, &n->imports, &changed) ||
        !subst_externs(s, t->exports, t->nexports, &n->exports, &changed))
        return NULL;
    const ctype_t *r = t;
    if (changed) {
        /* Option, result and enum keep their cases in `fields` too. */
        if (t->kind == CT_OPTION && n->fields)
            n->fields[1].type = n->elem;
        if (t->kind == CT_RESULT && n->fields) {
            n->fields[0].type = n->elem;
            n->fields[1].type = n->err;
        }
        whirl_error_t *e = ctype_finish(n);
        whirl_error_delete(e); /* same shape as t: limits already hold */
        r = n;
    }
    if (!memo_put(s, t, r))
        return NULL;
    return r;
}

/* ------------------------------------------------------------------ */
/* Core function types                                                 */
/* ------------------------------------------------------------------ */

const ctype_t *ctype_core_func_from(arena_t *arena, const whirl_functype_t *ft)
{
    ctype_t *t = arena_alloc(arena, sizeof *t);
    if (!t)
        return NULL;
    t->kind = CT_CORE_FUNC;
    t->core_nparams = (uint32_t)whirl_functype_param_count(ft);
    t->core_nresults = (uint32_t)whirl_functype_result_count(ft);
    t->core_params = arena_alloc(arena, t->core_nparams + 1);
    t->core_results = arena_alloc(arena, t->core_nresults + 1);
    if (!t->core_params || !t->core_results)
        return NULL;
    for (uint32_t i = 0; i < t->core_nparams; i++)
        t->core_params[i] = (uint8_t)whirl_functype_param(ft, i);
    for (uint32_t i = 0; i < t->core_nresults; i++)
        t->core_results[i] = (uint8_t)whirl_functype_result(ft, i);
    whirl_error_delete(ctype_finish(t));
    return t;
}

/* ------------------------------------------------------------------ */
/* Flattening of function types                                        */
/* ------------------------------------------------------------------ */

void ctype_flatten_func(const ctype_t *func, bool lower, cflat_sig_t *out)
{
    memset(out, 0, sizeof *out);
    uint32_t n = 0;
    for (uint32_t i = 0; i < func->count; i++) {
        const ctype_t *p = func->fields[i].type;
        if (p->flat_n > CANON_MAX_FLAT_PARAMS) {
            n = CANON_MAX_FLAT_PARAMS + 1;
            break;
        }
        for (uint32_t j = 0; j < p->flat_n; j++) {
            if (n < CANON_MAX_FLAT_PARAMS)
                out->params[n] = p->flat[j];
            n++;
        }
        if (n > CANON_MAX_FLAT_PARAMS)
            break;
    }
    if (n > CANON_MAX_FLAT_PARAMS) {
        out->params_in_memory = true;
        out->params[0] = FLAT_I32;
        n = 1;
    }
    out->nparams = n;
    const ctype_t *r = func->result;
    if (!r)
        return;
    if (r->flat_n <= CANON_MAX_FLAT_RESULTS) {
        for (uint32_t j = 0; j < r->flat_n; j++)
            out->results[j] = r->flat[j];
        out->nresults = r->flat_n;
        return;
    }
    out->results_in_memory = true;
    if (lower) {
        out->params[out->nparams++] = FLAT_I32;
    } else {
        out->results[0] = FLAT_I32;
        out->nresults = 1;
    }
}

/* ------------------------------------------------------------------ */
/* Printing                                                            */
/* ------------------------------------------------------------------ */

typedef struct out {
    char *buf;
    size_t len, pos;
} out_t;

static void put(out_t *o, const char *s)
{
    while (*s && o->pos + 1 < o->len)
        o->buf[o->pos++] = *s++;
    if (*s && o->len >= 4) { /* truncated: end with "..." */
        o->pos = o->len - 4;
        memcpy(o->buf + o->pos, "...", 3);
        o->pos += 3;
    }
    o->buf[o->pos] = 0;
}

static void format(out_t *o, const ctype_t *t, int depth)
{
    static const char *const prim_names[] = {"bool", "s8",  "u8",  "s16", "u16",  "s32", "u32",
                                             "s64",  "u64", "f32", "f64", "char", "string"};
    if (!t) {
        put(o, "_");
        return;
    }
    if (depth > 6) {
        put(o, "...");
        return;
    }
    if (t->kind <= CT_STRING) {
        put(o, prim_names[t->kind]);
        return;
    }
    switch (t->kind) {
    case CT_LIST:
    case CT_OPTION:
        put(o, t->kind == CT_LIST ? "list<" : "option<");
        format(o, t->elem, depth + 1);
        put(o, ">");
        return;
    case CT_STREAM:
    case CT_FUTURE:
        put(o, t->kind == CT_STREAM ? "stream" : "future");
        if (t->elem) {
            put(o, "<");
            format(o, t->elem, depth + 1);
            put(o, ">");
        }
        return;
    case CT_ERROR_CONTEXT: put(o, "error-context"); return;
    case CT_OWN:
    case CT_BORROW:
        put(o, t->kind == CT_OWN ? "own<" : "borrow<");
        put(o, t->elem && t->elem->res_name ? t->elem->res_name : "resource");
        put(o, ">");
        return;
    case CT_RESULT:
        put(o, "result<");
        format(o, t->elem, depth + 1);
        put(o, ", ");
        format(o, t->err, depth + 1);
        put(o, ">");
        return;
    case CT_RESOURCE:
        put(o, "resource ");
        put(o, t->res_name ? t->res_name : "(anonymous)");
        return;
    case CT_RECORD:
    case CT_VARIANT:
    case CT_TUPLE:
    case CT_FLAGS:
    case CT_ENUM:
    case CT_FUNC: {
        static const char *const open[] = {
            [CT_RECORD] = "record{", [CT_VARIANT] = "variant{", [CT_TUPLE] = "tuple<",
            [CT_FLAGS] = "flags{",   [CT_ENUM] = "enum{",       [CT_FUNC] = "func(",
        };
        if (t->kind == CT_FUNC && t->is_async)
            put(o, "async ");
        put(o, open[t->kind]);
        for (uint32_t i = 0; i < t->count; i++) {
            if (i)
                put(o, ", ");
            if (t->fields[i].name)
                put(o, t->fields[i].name);
            if (t->fields[i].type) {
                if (t->fields[i].name)
                    put(o, t->kind == CT_VARIANT ? "(" : ": ");
                format(o, t->fields[i].type, depth + 1);
                if (t->kind == CT_VARIANT)
                    put(o, ")");
            }
        }
        put(o, t->kind == CT_TUPLE ? ">" : t->kind == CT_FUNC ? ")" : "}");
        if (t->kind == CT_FUNC && t->result) {
            put(o, " -> ");
            format(o, t->result, depth + 1);
        }
        return;
    }
    case CT_INSTANCE: put(o, "instance"); return;
    case CT_COMPONENT: put(o, "component"); return;
    case CT_CORE_FUNC: put(o, "core func"); return;
    case CT_CORE_MODULE: put(o, "core module"); return;
    case CT_CORE_INSTANCE: put(o, "core instance"); return;
    default: put(o, "?"); return;
    }
}

void ctype_format(const ctype_t *t, char *buf, size_t len)
{
    if (!len)
        return;
    out_t o = {buf, len, 0};
    buf[0] = 0;
    format(&o, t, 0);
}

void ctype_flatten_func_async(const ctype_t *func, bool lower, bool callback, cflat_sig_t *out)
{
    ctype_flatten_func(func, lower, out);
    if (!lower) {
        /* Async lift: results go through task.return; a stackless
         * (callback) export returns its status code. */
        out->results_in_memory = false;
        out->nresults = callback ? 1 : 0;
        out->results[0] = FLAT_I32;
        return;
    }
    /* Async lower: at most 4 flat parameters, results always through a
     * pointer, the subtask status as the result. */
    uint32_t n = 0;
    bool over = false;
    for (uint32_t i = 0; i < func->count && !over; i++) {
        const ctype_t *p = func->fields[i].type;
        if (p->flat_n > CANON_MAX_FLAT_ASYNC_PARAMS || n + p->flat_n > CANON_MAX_FLAT_ASYNC_PARAMS)
            over = true;
        else
            for (uint32_t j = 0; j < p->flat_n; j++)
                out->params[n++] = p->flat[j];
    }
    out->params_in_memory = over;
    if (over) {
        out->params[0] = FLAT_I32;
        n = 1;
    }
    out->results_in_memory = func->result != NULL;
    if (func->result)
        out->params[n++] = FLAT_I32;
    out->nparams = n;
    out->nresults = 1;
    out->results[0] = FLAT_I32;
}
