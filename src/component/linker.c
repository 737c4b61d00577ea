/* The component linker: host functions and resource types keyed by
 * interface and name, resolved against a component's imports once
 * (instance_pre) and instantiated many times. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component/component.h"

enum { LDEF_FUNC, LDEF_RESOURCE, LDEF_INSTANCE };

typedef struct lns lns_t;
typedef struct ldef {
    char *name;
    int kind;
    chost_def_t *func;
    whirl_resource_type_t *res;
    lns_t *ns;
} ldef_t;

struct lns {
    VEC(ldef_t) defs;
};

struct whirl_component_linker {
    whirl_engine_t *engine;
    lns_t root;
};

/* What a component's import resolved to. */
typedef struct pitem {
    csort_t sort;
    const ctype_t *type;
    const char *name;
    chost_def_t *func;
    whirl_resource_type_t *res;
    uint32_t n;
    const char **names;
    struct pitem *items;
} pitem_t;

struct whirl_component_instance_pre {
    int refcount;
    whirl_component_t *component;
    arena_t arena;
    pitem_t *imports;
    VEC(chost_def_t *) defs;
    VEC(whirl_resource_type_t *) res;
    /* While resolving: resource nodes already given a type, so that an
     * interface re-exporting another's resource (an `eq` bound, as
     * wasi:io/streams does with wasi:io/error's `error`) needs no second
     * definition. */
    VEC(const ctype_t *) bound_nodes;
    VEC(whirl_resource_type_t *) bound_types;
};

/* ------------------------------------------------------------------ */
/* Definitions                                                         */
/* ------------------------------------------------------------------ */

static void host_def_retain(chost_def_t *d) { __atomic_add_fetch(&d->refcount, 1, __ATOMIC_RELAXED); }

static void host_def_release(chost_def_t *d)
{
    if (!d || __atomic_sub_fetch(&d->refcount, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    if (d->finalizer)
        d->finalizer(d->env);
    free(d);
}

void resource_type_retain(whirl_resource_type_t *t)
{
    if (t && t->host)
        __atomic_add_fetch(&t->refcount, 1, __ATOMIC_RELAXED);
}

whirl_resource_type_t *whirl_resource_type_new(const char *name, whirl_resource_dtor_t dtor,
                                               void *env, void (*finalizer)(void *env))
{
    whirl_resource_type_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->name = strdup(name ? name : "resource");
    if (!t->name) {
        free(t);
        return NULL;
    }
    t->refcount = 1;
    t->host = true;
    t->host_dtor = dtor;
    t->env = env;
    t->finalizer = finalizer;
    return t;
}

void whirl_resource_type_delete(whirl_resource_type_t *t)
{
    if (!t || !t->host || __atomic_sub_fetch(&t->refcount, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    if (t->finalizer)
        t->finalizer(t->env);
    free((char *)t->name);
    free(t);
}

const char *whirl_resource_type_name(const whirl_resource_type_t *t)
{
    return t && t->name ? t->name : "resource";
}

static void ns_free(lns_t *ns)
{
    for (size_t i = 0; i < ns->defs.len; i++) {
        ldef_t *d = &ns->defs.data[i];
        free(d->name);
        host_def_release(d->func);
        whirl_resource_type_delete(d->res);
        if (d->ns) {
            ns_free(d->ns);
            free(d->ns);
        }
    }
    vec_free(&ns->defs);
}

static ldef_t *ns_find(lns_t *ns, const char *name)
{
    for (size_t i = 0; i < ns->defs.len; i++)
        if (strcmp(ns->defs.data[i].name, name) == 0)
            return &ns->defs.data[i];
    return NULL;
}

/* A definition of an interface import: the exact name if defined, else a
 * semver-compatible one. */
static ldef_t *ns_find_versioned(lns_t *ns, const char *name)
{
    ldef_t *compatible = NULL;
    for (size_t i = 0; i < ns->defs.len; i++) {
        bool exact;
        if (cname_version_match(ns->defs.data[i].name, name, &exact)) {
            if (exact)
                return &ns->defs.data[i];
            if (!compatible)
                compatible = &ns->defs.data[i];
        }
    }
    return compatible;
}

/* The error for an interface import the linker lacks. When the linker has
 * the interface at other versions it names them: a prerelease version only
 * matches itself, so a toolchain's release candidate differs from the
 * release by its name alone, and the user needs to see both. */
static whirl_error_t *missing_instance(const lns_t *ns, const char *name)
{
    const char *at = strchr(name, '@');
    char have[512];
    size_t len = 0;
    have[0] = 0;
    for (size_t i = 0; at && i < ns->defs.len && len < sizeof have; i++) {
        const char *d = ns->defs.data[i].name, *dat = strchr(d, '@');
        if (ns->defs.data[i].kind != LDEF_INSTANCE || !dat || dat - d != at - name ||
            memcmp(d, name, (size_t)(at - name)) != 0)
            continue;
        int n = snprintf(have + len, sizeof have - len, "%s%s", len ? ", " : "", dat + 1);
        if (n < 0)
            break;
        len += (size_t)n;
    }
    if (len >= sizeof have)
        memcpy(have + sizeof have - 4, "...", 4);
    if (len)
        return error_fmt("import `%s` (an instance) is not defined in the linker, which has "
                         "`%.*s` only at %s", name, (int)(at - name), name, have);
    return error_fmt("import `%s` (an instance) is not defined in the linker", name);
}

whirl_component_linker_t *whirl_component_linker_new(whirl_engine_t *engine)
{
    whirl_component_linker_t *l = calloc(1, sizeof *l);
    if (l)
        l->engine = engine;
    return l;
}

void whirl_component_linker_delete(whirl_component_linker_t *l)
{
    if (!l)
        return;
    ns_free(&l->root);
    free(l);
}

static whirl_error_t *ns_for(whirl_component_linker_t *l, const char *interface, lns_t **out)
{
    if (!interface) {
        *out = &l->root;
        return NULL;
    }
    ldef_t *d = ns_find(&l->root, interface);
    if (d) {
        if (d->kind != LDEF_INSTANCE)
            return error_fmt("`%s` is already defined as something other than an instance",
                             interface);
        *out = d->ns;
        return NULL;
    }
    ldef_t nd = {.kind = LDEF_INSTANCE, .name = strdup(interface), .ns = calloc(1, sizeof(lns_t))};
    if (!nd.name || !nd.ns || !vec_push(&l->root.defs, nd)) {
        free(nd.name);
        free(nd.ns);
        return error_oom();
    }
    *out = nd.ns;
    return NULL;
}

static whirl_error_t *define(whirl_component_linker_t *l, const char *interface,
                             const char *name, ldef_t def)
{
    if (!l || !name)
        return error_fmt("component linker: linker or name is NULL");
    lns_t *ns = NULL;
    whirl_error_t *e = ns_for(l, interface, &ns);
    if (e)
        return e;
    if (ns_find(ns, name))
        return error_fmt("component linker: `%s%s%s` is already defined",
                         interface ? interface : "", interface ? "#" : "", name);
    def.name = strdup(name);
    if (!def.name || !vec_push(&ns->defs, def)) {
        free(def.name);
        return error_oom();
    }
    return NULL;
}

whirl_error_t *whirl_component_linker_define_func(whirl_component_linker_t *linker,
                                                  const char *interface, const char *name,
                                                  whirl_component_callback_t callback,
                                                  void *env, void (*finalizer)(void *env))
{
    if (!callback)
        return error_fmt("component linker: callback is NULL");
    chost_def_t *d = calloc(1, sizeof *d);
    if (!d)
        return error_oom();
    d->refcount = 1;
    d->callback = callback;
    d->env = env;
    ldef_t def = {.kind = LDEF_FUNC, .func = d};
    whirl_error_t *e = define(linker, interface, name, def);
    if (e) {
        free(d); /* the caller keeps env: no finalizer was registered */
        return e;
    }
    d->finalizer = finalizer;
    return NULL;
}

whirl_error_t *whirl_component_linker_define_resource(whirl_component_linker_t *linker,
                                                      const char *interface, const char *name,
                                                      whirl_resource_type_t *type)
{
    if (!type || !type->host)
        return error_fmt("component linker: not a host resource type");
    ldef_t def = {.kind = LDEF_RESOURCE, .res = type};
    resource_type_retain(type);
    whirl_error_t *e = define(linker, interface, name, def);
    if (e)
        whirl_resource_type_delete(type);
    return e;
}

/* ------------------------------------------------------------------ */
/* instance_pre                                                        */
/* ------------------------------------------------------------------ */

/* Whether an instance type asks for anything but type equalities. */
static bool needs_definitions(const ctype_t *it)
{
    for (uint32_t i = 0; i < it->nexports; i++) {
        const cextern_t *e = &it->exports[i];
        if (e->sort != CS_TYPE || e->type->kind == CT_RESOURCE)
            return true;
    }
    return false;
}

static lns_t empty_ns;
static const ldef_t empty_instance = {.name = "", .kind = LDEF_INSTANCE, .ns = &empty_ns};

static whirl_error_t *resolve(whirl_component_instance_pre_t *pre, const char *path,
                              csort_t sort, const ctype_t *type, const ldef_t *def,
                              pitem_t *out)
{
    out->sort = sort;
    out->type = type;
    switch (sort) {
    case CS_FUNC:
        if (!def)
            return error_fmt("import `%s` (a function) is not defined in the linker", path);
        if (def->kind != LDEF_FUNC)
            return error_fmt("import `%s` is a function, but the linker defines something else",
                             path);
        if (!vec_push(&pre->defs, def->func))
            return error_oom();
        host_def_retain(def->func);
        out->func = def->func;
        return NULL;
    case CS_TYPE: {
        if (type->kind != CT_RESOURCE)
            return NULL; /* a type equal to a known one: nothing to supply */
        whirl_resource_type_t *bound = NULL;
        for (size_t i = 0; i < pre->bound_nodes.len && !bound; i++)
            if (pre->bound_nodes.data[i] == type)
                bound = pre->bound_types.data[i];
        if (!def && bound) {
            out->res = bound;
            return NULL;
        }
        if (!def)
            return error_fmt("import `%s` (a resource type) is not defined in the linker", path);
        if (def->kind != LDEF_RESOURCE)
            return error_fmt("import `%s` is a resource type, but the linker defines something "
                             "else", path);
        if (bound && bound != def->res)
            return error_fmt("import `%s` is the same resource type as an earlier import, but "
                             "the linker defines a different one", path);
        if (!vec_push(&pre->res, def->res))
            return error_oom();
        resource_type_retain(def->res);
        if (!bound && (!vec_push(&pre->bound_nodes, type) ||
                       !vec_push(&pre->bound_types, def->res)))
            return error_oom();
        out->res = def->res;
        return NULL;
    }
    case CS_INSTANCE: {
        if (!def && !needs_definitions(type))
            def = &empty_instance; /* only type equalities: nothing to supply */
        if (!def)
            return error_fmt("import `%s` (an instance) is not defined in the linker", path);
        if (def->kind != LDEF_INSTANCE)
            return error_fmt("import `%s` is an instance, but the linker defines something else",
                             path);
        out->n = type->nexports;
        out->names = arena_array(&pre->arena, out->n + 1, sizeof *out->names);
        out->items = arena_array(&pre->arena, out->n + 1, sizeof *out->items);
        if (!out->names || !out->items)
            return error_oom();
        for (uint32_t i = 0; i < type->nexports; i++) {
            const cextern_t *e = &type->exports[i];
            char sub[512];
            snprintf(sub, sizeof sub, "%s#%s", path, e->name);
            out->names[i] = e->name;
            out->items[i].name = e->name;
            whirl_error_t *err = resolve(pre, sub, e->sort, e->type, ns_find(def->ns, e->name),
                                         &out->items[i]);
            if (err)
                return err;
        }
        return NULL;
    }
    default:
        return error_fmt("import `%s`: importing a %s is not supported", path, csort_name(sort));
    }
}

whirl_error_t *whirl_component_linker_instantiate_pre(whirl_component_linker_t *linker,
                                                      whirl_component_t *component,
                                                      whirl_component_instance_pre_t **out)
{
    if (!out)
        return error_fmt("whirl_component_linker_instantiate_pre: out is NULL");
    *out = NULL;
    if (!linker || !component)
        return error_fmt("whirl_component_linker_instantiate_pre: linker or component is NULL");
    whirl_component_instance_pre_t *pre = calloc(1, sizeof *pre);
    if (!pre)
        return error_oom();
    pre->refcount = 1;
    arena_init(&pre->arena);
    component_retain(component);
    pre->component = component;
    const ctype_t *ct = component->root->type;
    pre->imports = arena_array(&pre->arena, ct->nimports + 1, sizeof *pre->imports);
    if (!pre->imports) {
        whirl_component_instance_pre_delete(pre);
        return error_oom();
    }
    for (uint32_t i = 0; i < ct->nimports; i++) {
        const cextern_t *im = &ct->imports[i];
        const ldef_t *def = im->sort == CS_INSTANCE ? ns_find_versioned(&linker->root, im->name)
                                                    : ns_find(&linker->root, im->name);
        pre->imports[i].name = im->name;
        whirl_error_t *e =
            !def && im->sort == CS_INSTANCE && needs_definitions(im->type)
                ? missing_instance(&linker->root, im->name)
                : resolve(pre, im->name, im->sort, im->type, def, &pre->imports[i]);
        if (e) {
            whirl_component_instance_pre_delete(pre);
            return e;
        }
    }
    vec_free(&pre->bound_nodes);
    vec_free(&pre->bound_types);
    *out = pre;
    return NULL;
}

void whirl_component_instance_pre_delete(whirl_component_instance_pre_t *pre)
{
    if (!pre || __atomic_sub_fetch(&pre->refcount, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    for (size_t i = 0; i < pre->defs.len; i++)
        host_def_release(pre->defs.data[i]);
    for (size_t i = 0; i < pre->res.len; i++)
        whirl_resource_type_delete(pre->res.data[i]);
    vec_free(&pre->defs);
    vec_free(&pre->res);
    vec_free(&pre->bound_nodes);
    vec_free(&pre->bound_types);
    component_release(pre->component);
    arena_free(&pre->arena);
    free(pre);
}

/* The run-time item for a resolved import. */
static whirl_error_t *make_item(croot_t *root, const pitem_t *p, citem_t *out)
{
    memset(out, 0, sizeof *out);
    out->sort = p->sort;
    switch (p->sort) {
    case CS_FUNC: {
        whirl_component_func_t *f = arena_alloc(&root->arena, sizeof *f);
        if (!f)
            return error_oom();
        f->kind = CFUNC_HOST;
        f->type = p->type;
        f->name = p->name;
        f->store = root->store;
        f->host = p->func;
        out->u.func = f;
        return NULL;
    }
    case CS_TYPE: out->u.res = p->res; return NULL;
    case CS_INSTANCE: {
        rinst_t *ri = arena_alloc(&root->arena, sizeof *ri);
        if (!ri || !(ri->items = arena_array(&root->arena, p->n + 1, sizeof *ri->items)))
            return error_oom();
        ri->n = p->n;
        ri->names = p->names;
        for (uint32_t i = 0; i < p->n; i++) {
            whirl_error_t *e = make_item(root, &p->items[i], &ri->items[i]);
            if (e)
                return e;
        }
        out->u.inst = ri;
        return NULL;
    }
    default: return error_fmt("unsupported import");
    }
}

whirl_error_t *whirl_component_instance_pre_instantiate(const whirl_component_instance_pre_t *cpre,
                                                        whirl_store_t *store,
                                                        whirl_component_instance_t **out)
{
    if (!out)
        return error_fmt("whirl_component_instance_pre_instantiate: out is NULL");
    *out = NULL;
    if (!cpre || !store)
        return error_fmt("whirl_component_instance_pre_instantiate: pre or store is NULL");
    whirl_component_instance_pre_t *pre = (whirl_component_instance_pre_t *)cpre;
    croot_t *root = calloc(1, sizeof *root);
    if (!root)
        return error_oom();
    arena_init(&root->arena);
    root->store = store;
    __atomic_add_fetch(&pre->refcount, 1, __ATOMIC_RELAXED);
    root->pre = pre;
    component_retain(pre->component);
    root->component = pre->component;
    /* From here on the store owns the root, even if instantiation fails
     * halfway: core instances already created belong to the store too. */
    whirl_error_t *e = croot_attach(store, root);
    if (e) {
        whirl_component_instance_pre_delete(pre);
        component_release(root->component);
        arena_free(&root->arena);
        free(root);
        return e;
    }
    const ccomp_t *comp = pre->component->root;
    citem_t *args = arena_array(&root->arena, comp->type->nimports + 1, sizeof *args);
    if (!args)
        return error_oom();
    for (uint32_t i = 0; i < comp->type->nimports; i++)
        if ((e = make_item(root, &pre->imports[i], &args[i])))
            return e;
    cinst_t *inst;
    if ((e = instance_run(root, NULL, comp, args, &inst)))
        return e;
    whirl_component_instance_t *ci = arena_alloc(&root->arena, sizeof *ci);
    if (!ci)
        return error_oom();
    ci->inst = inst;
    *out = ci;
    return NULL;
}

whirl_error_t *whirl_component_linker_instantiate(whirl_component_linker_t *linker,
                                                  whirl_store_t *store,
                                                  whirl_component_t *component,
                                                  whirl_component_instance_t **out)
{
    whirl_component_instance_pre_t *pre;
    whirl_error_t *e = whirl_component_linker_instantiate_pre(linker, component, &pre);
    if (e) {
        if (out)
            *out = NULL;
        return e;
    }
    e = whirl_component_instance_pre_instantiate(pre, store, out);
    whirl_component_instance_pre_delete(pre);
    return e;
}
