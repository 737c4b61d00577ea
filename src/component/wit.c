/* A component's imports and exports as WIT-like text (`whirl inspect`).
 *
 * The binary keeps no WIT, only types: names survive where the component
 * exports or imports a type (`(export "stream-error" (type (eq 5)))`), and
 * those are used wherever the same type node appears in a signature.
 * Functions named `[method]R.f`, `[static]R.f` and `[constructor]R` are
 * grouped under resource R, without the implicit `self` parameter, as WIT
 * writes them. Primitive types are never replaced by an alias name
 * (`type filesize = u64` would otherwise rename every u64). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component/component.h"

/* Output beyond this is cut: a DAG of types can expand enormously. */
#define WIT_MAX_TEXT (16u << 20)

typedef struct wbuf {
    char *p;
    size_t len, cap;
    bool oom, cut;
} wbuf_t;

__attribute__((format(printf, 2, 3)))
static void put(wbuf_t *b, const char *fmt, ...)
{
    if (b->oom || b->cut)
        return;
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (b->len + (size_t)n + 1 > WIT_MAX_TEXT) {
        b->cut = true;
        return;
    }
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 1024;
        while (ncap < b->len + (size_t)n + 1)
            ncap *= 2;
        char *np = realloc(b->p, ncap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
    if ((size_t)n < sizeof small) {
        memcpy(b->p + b->len, small, (size_t)n + 1);
    } else {
        va_start(ap, fmt);
        vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

/* Type names in scope: (node, name) pairs. */
typedef struct names {
    VEC(const ctype_t *) types;
    VEC(const char *) names;
} names_t;

static const char *name_of(const names_t *n, const ctype_t *t)
{
    for (size_t i = 0; n && i < n->types.len; i++)
        if (n->types.data[i] == t)
            return n->names.data[i];
    return NULL;
}

static void name_add(names_t *n, const ctype_t *t, const char *name, bool *oom)
{
    if (!t || t->kind <= CT_STRING || name_of(n, t))
        return;
    if (!vec_push(&n->types, t) || !vec_push(&n->names, name))
        *oom = true;
}

static void names_free(names_t *n)
{
    vec_free(&n->types);
    vec_free(&n->names);
}

static void fmt(wbuf_t *b, const ctype_t *t, const names_t *n, bool top);

static void fmt_fields(wbuf_t *b, const ctype_t *t, const names_t *n, bool variant)
{
    for (uint32_t i = 0; i < t->count; i++) {
        const cfield_t *f = &t->fields[i];
        put(b, "%s", i ? ", " : "");
        if (f->name)
            put(b, "%s", f->name);
        if (f->type) {
            put(b, "%s", !f->name ? "" : variant ? "(" : ": ");
            fmt(b, f->type, n, false);
            if (f->name && variant)
                put(b, ")");
        }
    }
}

static void fmt_func(wbuf_t *b, const ctype_t *t, const names_t *n, uint32_t skip)
{
    put(b, t->is_async ? "async func(" : "func(");
    for (uint32_t i = skip; i < t->count; i++) {
        put(b, "%s%s: ", i > skip ? ", " : "", t->fields[i].name ? t->fields[i].name : "_");
        fmt(b, t->fields[i].type, n, false);
    }
    put(b, ")");
    if (t->result) {
        put(b, " -> ");
        fmt(b, t->result, n, false);
    }
}

/* `top`: the definition itself, not a reference to it by name. */
static void fmt(wbuf_t *b, const ctype_t *t, const names_t *n, bool top)
{
    static const char *const prims[] = {"bool", "s8",  "u8",  "s16", "u16",  "s32", "u32",
                                        "s64",  "u64", "f32", "f64", "char", "string"};
    if (!t) {
        put(b, "_");
        return;
    }
    const char *name = top ? NULL : name_of(n, t);
    if (name) {
        put(b, "%s", name);
        return;
    }
    if (t->kind <= CT_STRING) {
        put(b, "%s", prims[t->kind]);
        return;
    }
    switch (t->kind) {
    case CT_LIST:
    case CT_OPTION:
        put(b, "%s<", t->kind == CT_LIST ? "list" : "option");
        fmt(b, t->elem, n, false);
        put(b, ">");
        return;
    case CT_RESULT:
        put(b, "result");
        if (t->elem || t->err) {
            put(b, "<");
            fmt(b, t->elem, n, false);
            if (t->err) {
                put(b, ", ");
                fmt(b, t->err, n, false);
            }
            put(b, ">");
        }
        return;
    case CT_TUPLE:
        put(b, "tuple<");
        fmt_fields(b, t, n, false);
        put(b, ">");
        return;
    case CT_STREAM:
    case CT_FUTURE:
        put(b, t->kind == CT_STREAM ? "stream" : "future");
        if (t->elem) {
            put(b, "<");
            fmt(b, t->elem, n, false);
            put(b, ">");
        }
        return;
    case CT_ERROR_CONTEXT: put(b, "error-context"); return;
    case CT_OWN:
    case CT_BORROW: {
        const char *r = name_of(n, t->elem);
        if (!r)
            r = t->elem && t->elem->res_name ? t->elem->res_name : "resource";
        put(b, t->kind == CT_OWN ? "%s" : "borrow<%s>", r);
        return;
    }
    case CT_RECORD: put(b, "record { "); fmt_fields(b, t, n, false); put(b, " }"); return;
    case CT_VARIANT: put(b, "variant { "); fmt_fields(b, t, n, true); put(b, " }"); return;
    case CT_ENUM: put(b, "enum { "); fmt_fields(b, t, n, false); put(b, " }"); return;
    case CT_FLAGS: put(b, "flags { "); fmt_fields(b, t, n, false); put(b, " }"); return;
    case CT_FUNC: fmt_func(b, t, n, 0); return;
    case CT_RESOURCE: put(b, "resource"); return;
    case CT_INSTANCE: put(b, "interface"); return;
    case CT_COMPONENT: put(b, "component"); return;
    case CT_CORE_MODULE: put(b, "core module"); return;
    default: put(b, "?"); return;
    }
}

/* "[method]R.f" -> R and f; "[constructor]R" -> R and NULL. */
static bool split_resource_func(const char *name, char *res, size_t len, const char **fn,
                                const char **prefix)
{
    static const char *const prefixes[] = {"[method]", "[static]", "[constructor]"};
    for (int i = 0; i < 3; i++) {
        size_t pl = strlen(prefixes[i]);
        if (strncmp(name, prefixes[i], pl) != 0)
            continue;
        const char *r = name + pl;
        const char *dot = i < 2 ? strchr(r, '.') : NULL;
        size_t rl = dot ? (size_t)(dot - r) : strlen(r);
        if ((i < 2 && !dot) || rl >= len)
            return false;
        memcpy(res, r, rl);
        res[rl] = 0;
        *fn = dot ? dot + 1 : NULL;
        *prefix = prefixes[i];
        return true;
    }
    return false;
}

static void indent(wbuf_t *b, int depth)
{
    put(b, "%*s", depth * 2, "");
}

/* The functions of resource `res` among `ex`. */
static void print_resource(wbuf_t *b, const cextern_t *ex, uint32_t n, const char *res,
                           const names_t *names, int depth)
{
    bool any = false;
    for (uint32_t i = 0; i < n; i++) {
        char r[256];
        const char *fn, *prefix;
        if (ex[i].sort != CS_FUNC || !split_resource_func(ex[i].name, r, sizeof r, &fn, &prefix) ||
            strcmp(r, res) != 0)
            continue;
        if (!any)
            put(b, " {\n");
        any = true;
        indent(b, depth + 1);
        const ctype_t *ft = ex[i].type;
        if (!fn) {
            put(b, "constructor(");
            for (uint32_t k = 0; k < ft->count; k++) {
                put(b, "%s%s: ", k ? ", " : "", ft->fields[k].name);
                fmt(b, ft->fields[k].type, names, false);
            }
            put(b, ");\n");
            continue;
        }
        bool method = prefix[1] == 'm';
        put(b, "%s: %s", fn, method ? "" : "static ");
        fmt_func(b, ft, names, method && ft->count ? 1 : 0);
        put(b, ";\n");
    }
    if (any) {
        indent(b, depth);
        put(b, "}\n");
    } else {
        put(b, ";\n");
    }
}

static void print_instance(wbuf_t *b, const ctype_t *it, int depth, bool *oom)
{
    names_t names = {0};
    for (uint32_t i = 0; i < it->nexports; i++)
        if (it->exports[i].sort == CS_TYPE)
            name_add(&names, it->exports[i].type, it->exports[i].name, oom);
    for (uint32_t i = 0; i < it->nexports; i++) {
        const cextern_t *e = &it->exports[i];
        if (e->sort == CS_TYPE) {
            const ctype_t *t = e->type;
            indent(b, depth);
            if (t->kind == CT_RESOURCE) {
                put(b, "resource %s", e->name);
                print_resource(b, it->exports, it->nexports, e->name, &names, depth);
                continue;
            }
            const char *first = name_of(&names, t);
            bool definition = t->kind == CT_RECORD || t->kind == CT_VARIANT ||
                              t->kind == CT_ENUM || t->kind == CT_FLAGS;
            if (first && strcmp(first, e->name) != 0) {
                put(b, "type %s = %s;\n", e->name, first);
            } else if (definition) {
                static const char *const kw[] = {[CT_RECORD] = "record", [CT_VARIANT] = "variant",
                                                 [CT_ENUM] = "enum", [CT_FLAGS] = "flags"};
                put(b, "%s %s { ", kw[t->kind], e->name);
                fmt_fields(b, t, &names, t->kind == CT_VARIANT);
                put(b, " }\n");
            } else {
                put(b, "type %s = ", e->name);
                fmt(b, t, &names, true);
                put(b, ";\n");
            }
            continue;
        }
        char r[256];
        const char *fn, *prefix;
        if (e->sort == CS_FUNC && split_resource_func(e->name, r, sizeof r, &fn, &prefix)) {
            /* Shown with its resource; a resource not exported here (a
             * malformed grouping) gets its functions listed on their own. */
            bool listed = false;
            for (uint32_t k = 0; k < it->nexports && !listed; k++)
                listed = it->exports[k].sort == CS_TYPE && strcmp(it->exports[k].name, r) == 0 &&
                         it->exports[k].type->kind == CT_RESOURCE;
            if (listed)
                continue;
        }
        indent(b, depth);
        put(b, "%s: ", e->name);
        if (e->sort == CS_FUNC)
            fmt(b, e->type, &names, true);
        else
            put(b, "%s", csort_name(e->sort));
        put(b, ";\n");
    }
    names_free(&names);
}

static void print_extern(wbuf_t *b, const char *dir, const cextern_t *e, bool *oom)
{
    put(b, "  %s %s", dir, e->name);
    switch (e->sort) {
    case CS_INSTANCE:
        put(b, ": interface {\n");
        print_instance(b, e->type, 2, oom);
        put(b, "  }\n");
        return;
    case CS_FUNC:
        put(b, ": ");
        fmt(b, e->type, NULL, true);
        put(b, ";\n");
        return;
    case CS_TYPE:
        put(b, ": type%s;\n", e->type->kind == CT_RESOURCE ? " (resource)" : "");
        return;
    default: put(b, ": %s;\n", csort_name(e->sort)); return;
    }
}

whirl_error_t *whirl_component_describe(const whirl_component_t *c, char **out)
{
    if (!out)
        return error_fmt("whirl_component_describe: out is NULL");
    *out = NULL;
    if (!c)
        return error_fmt("whirl_component_describe: component is NULL");
    const ctype_t *ct = c->root->type;
    wbuf_t b = {0};
    bool oom = false;
    put(&b, "world component {\n");
    for (uint32_t i = 0; i < ct->nimports; i++)
        print_extern(&b, "import", &ct->imports[i], &oom);
    for (uint32_t i = 0; i < ct->nexports; i++)
        print_extern(&b, "export", &ct->exports[i], &oom);
    if (b.cut) {
        b.cut = false;
        put(&b, "  ... (cut at %u bytes)\n", WIT_MAX_TEXT);
    }
    put(&b, "}\n");
    if (b.oom || oom) {
        free(b.p);
        return error_oom();
    }
    *out = b.p;
    return NULL;
}
