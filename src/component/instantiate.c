/* Instantiation: runs a component's instantiation program in a store,
 * creating core instances, lifted and lowered functions, resource types and
 * child component instances, and binding every resource slot. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component/component.h"

const citem_t *rinst_find(const rinst_t *r, const char *name)
{
    if (!r)
        return NULL;
    for (uint32_t k = 0, i = r->hint; k < r->n; k++, i = i + 1 < r->n ? i + 1 : 0)
        if (strcmp(r->names[i], name) == 0) {
            ((rinst_t *)r)->hint = i + 1 < r->n ? i + 1 : 0; /* a hint, not its value */
            return &r->items[i];
        }
    return NULL;
}

whirl_error_t *instance_resource(const cinst_t *inst, const ctype_t *node,
                                 whirl_resource_type_t **out)
{
    if (node && node->kind == CT_RESOURCE && node->owner == inst->comp &&
        node->slot < inst->comp->nres && inst->res[node->slot]) {
        *out = inst->res[node->slot];
        return NULL;
    }
    return canon_trap("resource type `%s` is not available in this component instance",
                      node && node->res_name ? node->res_name : "?");
}

whirl_error_t *instance_bind(cinst_t *inst, csort_t sort, const ctype_t *type,
                             const citem_t *item, const char *what)
{
    if (item->sort != sort)
        return error_fmt("%s: expected a %s, got a %s", what, csort_name(sort),
                         csort_name(item->sort));
    switch (sort) {
    case CS_TYPE:
        if (type->kind != CT_RESOURCE)
            return NULL;
        if (!item->u.res)
            return error_fmt("%s: expected a resource type", what);
        if (type->owner != inst->comp || type->slot >= inst->comp->nres)
            return NULL; /* a resource of an enclosing scope: bound there */
        if (!inst->res[type->slot])
            inst->res[type->slot] = item->u.res;
        else if (inst->res[type->slot] != item->u.res)
            return error_fmt("%s: resource type mismatch", what);
        return NULL;
    case CS_INSTANCE:
        if (!item->u.inst)
            return error_fmt("%s: missing instance", what);
        for (uint32_t i = 0; i < type->nexports; i++) {
            const cextern_t *e = &type->exports[i];
            const citem_t *it = rinst_find(item->u.inst, e->name);
            char sub[300];
            snprintf(sub, sizeof sub, "%s: export `%s`", what, e->name);
            if (!it)
                return error_fmt("%s is missing", sub);
            whirl_error_t *err = instance_bind(inst, e->sort, e->type, it, sub);
            if (err)
                return err;
        }
        return NULL;
    case CS_FUNC: return item->u.func ? NULL : error_fmt("%s: missing function", what);
    default: return NULL;
    }
}

/* ------------------------------------------------------------------ */
/* Index spaces                                                        */
/* ------------------------------------------------------------------ */

static whirl_error_t *push_func(cinst_t *inst, whirl_component_func_t *f)
{
    if (inst->n[CS_FUNC] >= inst->comp->count[CS_FUNC])
        return error_fmt("internal error: function index space overflow");
    inst->funcs[inst->n[CS_FUNC]++] = f;
    return NULL;
}

static whirl_error_t *push_instance(cinst_t *inst, rinst_t *r)
{
    if (inst->n[CS_INSTANCE] >= inst->comp->count[CS_INSTANCE])
        return error_fmt("internal error: instance index space overflow");
    inst->instances[inst->n[CS_INSTANCE]++] = r;
    return NULL;
}

static whirl_error_t *push_core(cinst_t *inst, csort_t sort, const whirl_extern_t *x)
{
    if (inst->n[sort] >= inst->comp->count[sort])
        return error_fmt("internal error: %s index space overflow", csort_name(sort));
    uint32_t i = inst->n[sort]++;
    switch (sort) {
    case CS_CORE_FUNC: inst->core_funcs[i] = x->of.func; break;
    case CS_CORE_TABLE: inst->core_tables[i] = x->of.table; break;
    case CS_CORE_MEMORY: inst->core_memories[i] = x->of.memory; break;
    default: inst->core_globals[i] = x->of.global; break;
    }
    return NULL;
}

static whirl_error_t *push_item(cinst_t *inst, const citem_t *it)
{
    switch (it->sort) {
    case CS_FUNC: return push_func(inst, it->u.func);
    case CS_INSTANCE: return push_instance(inst, it->u.inst);
    default: return NULL; /* types, components, modules: static */
    }
}

/* An item of this instance's index spaces, for an argument or an export. */
static whirl_error_t *item_of(cinst_t *inst, csort_t sort, uint32_t index, const ctype_t *type,
                              citem_t *out)
{
    memset(out, 0, sizeof *out);
    out->sort = sort;
    switch (sort) {
    case CS_FUNC:
        if (index >= inst->n[CS_FUNC])
            return error_fmt("internal error: function %u not defined yet", index);
        out->u.func = inst->funcs[index];
        return NULL;
    case CS_INSTANCE:
        if (index >= inst->n[CS_INSTANCE])
            return error_fmt("internal error: instance %u not defined yet", index);
        out->u.inst = inst->instances[index];
        return NULL;
    case CS_TYPE:
        if (type && type->kind == CT_RESOURCE)
            return instance_resource(inst, type, &out->u.res);
        return NULL;
    case CS_COMPONENT:
        out->u.comp = index < inst->comp->count[CS_COMPONENT] ? inst->comp->components[index] : NULL;
        return NULL;
    case CS_CORE_MODULE:
        out->u.module = index < inst->comp->count[CS_CORE_MODULE] ? inst->comp->modules[index] : NULL;
        return NULL;
    default: return error_fmt("internal error: bad item sort");
    }
}

static bool core_find(rcoreinst_t *ci, const char *name, size_t len, whirl_extern_t *out)
{
    if (ci->inst)
        return whirl_instance_export(ci->inst, name, len, out);
    for (uint32_t k = 0, i = ci->hint; k < ci->n; k++, i = i + 1 < ci->n ? i + 1 : 0)
        if (strlen(ci->names[i]) == len && memcmp(ci->names[i], name, len) == 0) {
            ci->hint = i + 1 < ci->n ? i + 1 : 0;
            *out = ci->items[i];
            return true;
        }
    return false;
}

static whirl_externkind_t core_kind(csort_t s)
{
    return s == CS_CORE_TABLE    ? WHIRL_EXTERN_TABLE
           : s == CS_CORE_MEMORY ? WHIRL_EXTERN_MEMORY
           : s == CS_CORE_GLOBAL ? WHIRL_EXTERN_GLOBAL
                                 : WHIRL_EXTERN_FUNC;
}

/* ------------------------------------------------------------------ */
/* The program                                                         */
/* ------------------------------------------------------------------ */

typedef struct run {
    croot_t *root;
    cinst_t *inst;
    const ccomp_t *comp;
    const citem_t *args;
    uint32_t nimport;
    VEC(const char *) export_names;
    VEC(citem_t) export_items;
} run_t;

static void *alloc(run_t *r, size_t n, size_t size)
{
    return arena_array(&r->root->arena, n ? n : 1, size);
}

static whirl_error_t *core_instantiate(run_t *r, const cop_t *op)
{
    cinst_t *inst = r->inst;
    whirl_module_t *m = op->index < r->comp->count[CS_CORE_MODULE] ? r->comp->modules[op->index]
                                                                   : NULL;
    if (!m)
        return error_fmt("instantiating an imported or aliased core module is not supported");
    size_t n = whirl_module_import_count(m);
    whirl_extern_t *imports = alloc(r, n, sizeof *imports);
    rcoreinst_t *ci = alloc(r, 1, sizeof *ci);
    if (!imports || !ci)
        return error_oom();
    for (size_t i = 0; i < n; i++) {
        whirl_import_info_t info;
        whirl_module_import(m, i, &info);
        const cop_arg_t *arg = NULL;
        for (uint32_t k = 0; k < op->nargs && !arg; k++)
            if (strlen(op->args[k].name) == info.module_len &&
                memcmp(op->args[k].name, info.module, info.module_len) == 0)
                arg = &op->args[k];
        if (!arg || !core_find(inst->core_instances[arg->index], info.name, info.name_len,
                               &imports[i]))
            return error_fmt("core import `%.*s`.`%.*s` is not provided", (int)info.module_len,
                             info.module, (int)info.name_len, info.name);
    }
    if (inst->n[CS_CORE_INSTANCE] >= r->comp->count[CS_CORE_INSTANCE])
        return error_fmt("internal error: core instance index space overflow");
    whirl_error_t *e = whirl_instance_new(inst->store, m, imports, n, &ci->inst);
    if (e)
        return e;
    inst->core_instances[inst->n[CS_CORE_INSTANCE]++] = ci;
    return NULL;
}

static whirl_error_t *core_inline(run_t *r, const cop_t *op)
{
    cinst_t *inst = r->inst;
    rcoreinst_t *ci = alloc(r, 1, sizeof *ci);
    if (!ci || !(ci->names = alloc(r, op->nargs, sizeof *ci->names)) ||
        !(ci->items = alloc(r, op->nargs, sizeof *ci->items)))
        return error_oom();
    ci->n = op->nargs;
    if (inst->n[CS_CORE_INSTANCE] >= r->comp->count[CS_CORE_INSTANCE])
        return error_fmt("internal error: core instance index space overflow");
    for (uint32_t i = 0; i < op->nargs; i++) {
        const cop_arg_t *a = &op->args[i];
        whirl_extern_t *x = &ci->items[i];
        ci->names[i] = a->name;
        x->kind = core_kind(a->sort);
        switch (a->sort) {
        case CS_CORE_FUNC: x->of.func = inst->core_funcs[a->index]; break;
        case CS_CORE_TABLE: x->of.table = inst->core_tables[a->index]; break;
        case CS_CORE_MEMORY: x->of.memory = inst->core_memories[a->index]; break;
        default: x->of.global = inst->core_globals[a->index]; break;
        }
    }
    inst->core_instances[inst->n[CS_CORE_INSTANCE]++] = ci;
    return NULL;
}

static whirl_error_t *core_alias(run_t *r, const cop_t *op)
{
    whirl_extern_t x;
    if (!core_find(r->inst->core_instances[op->index], op->name, strlen(op->name), &x))
        return error_fmt("core instance %u has no export `%s`", op->index, op->name);
    if (x.kind != core_kind(op->sort))
        return error_fmt("core export `%s` is not a %s", op->name, csort_name(op->sort));
    return push_core(r->inst, op->sort, &x);
}

static rinst_t *make_rinst(run_t *r, uint32_t n, const char **names, const citem_t *items)
{
    rinst_t *ri = alloc(r, 1, sizeof *ri);
    if (!ri || !(ri->names = alloc(r, n, sizeof *ri->names)) ||
        !(ri->items = alloc(r, n, sizeof *ri->items)))
        return NULL;
    ri->n = n;
    if (n) {
        memcpy(ri->names, names, n * sizeof *names);
        memcpy(ri->items, items, n * sizeof *items);
    }
    return ri;
}

static whirl_error_t *instantiate_child(run_t *r, const cop_t *op)
{
    cinst_t *inst = r->inst;
    const ccomp_t *child = op->index < r->comp->count[CS_COMPONENT]
                               ? r->comp->components[op->index] : NULL;
    if (!child)
        return error_fmt("instantiating an imported or aliased component is not supported");
    const ctype_t *ct = child->type;
    citem_t *args = alloc(r, ct->nimports, sizeof *args);
    if (!args)
        return error_oom();
    for (uint32_t i = 0; i < ct->nimports; i++) {
        const cop_arg_t *a = NULL;
        for (uint32_t k = 0; k < op->nargs && !a; k++)
            if (strcmp(op->args[k].name, ct->imports[i].name) == 0)
                a = &op->args[k];
        if (!a)
            return error_fmt("missing argument `%s`", ct->imports[i].name);
        whirl_error_t *e = item_of(inst, a->sort, a->index, a->type, &args[i]);
        if (e)
            return e;
    }
    cinst_t *ci;
    whirl_error_t *e = instance_run(r->root, inst, child, args, &ci);
    if (e)
        return e;
    citem_t item = {.sort = CS_INSTANCE, .u.inst = ci->exports};
    if ((e = instance_bind(inst, CS_INSTANCE, op->type, &item, "instance")))
        return e;
    return push_instance(inst, ci->exports);
}

static whirl_error_t *inline_instance(run_t *r, const cop_t *op)
{
    const char **names = alloc(r, op->nargs, sizeof *names);
    citem_t *items = alloc(r, op->nargs, sizeof *items);
    if (!names || !items)
        return error_oom();
    for (uint32_t i = 0; i < op->nargs; i++) {
        names[i] = op->args[i].name;
        whirl_error_t *e =
            item_of(r->inst, op->args[i].sort, op->args[i].index, op->args[i].type, &items[i]);
        if (e)
            return e;
    }
    rinst_t *ri = make_rinst(r, op->nargs, names, items);
    return ri ? push_instance(r->inst, ri) : error_oom();
}

static whirl_error_t *alias_export(run_t *r, const cop_t *op)
{
    const citem_t *it = rinst_find(r->inst->instances[op->index], op->name);
    if (!it)
        return error_fmt("instance %u has no export `%s`", op->index, op->name);
    if (it->sort != op->sort)
        return error_fmt("export `%s` is not a %s", op->name, csort_name(op->sort));
    return push_item(r->inst, it);
}

static whirl_error_t *define_resource(run_t *r, const cop_t *op)
{
    cinst_t *inst = r->inst;
    const ctype_t *node = op->type;
    whirl_resource_type_t *rt = alloc(r, 1, sizeof *rt);
    if (!rt)
        return error_oom();
    rt->impl = inst;
    rt->name = node->res_name;
    if (node->dtor >= 0)
        rt->dtor = inst->core_funcs[node->dtor];
    if (node->slot < r->comp->nres)
        inst->res[node->slot] = rt;
    return NULL;
}

static whirl_error_t *lift(run_t *r, const cop_t *op)
{
    cinst_t *inst = r->inst;
    whirl_component_func_t *f = alloc(r, 1, sizeof *f);
    if (!f)
        return error_oom();
    f->kind = CFUNC_LIFTED;
    f->type = op->type;
    f->store = inst->store;
    f->inst = inst;
    f->core = inst->core_funcs[op->index];
    f->encoding = op->opts.encoding;
    if (op->opts.memory >= 0)
        f->memory = inst->core_memories[op->opts.memory];
    if (op->opts.realloc >= 0)
        f->realloc = inst->core_funcs[op->opts.realloc];
    if (op->opts.post_return >= 0)
        f->post_return = inst->core_funcs[op->opts.post_return];
    f->async = op->opts.async;
    if (op->opts.callback >= 0)
        f->callback = inst->core_funcs[op->opts.callback];
    return push_func(inst, f);
}


static whirl_error_t *new_core_func(run_t *r, const cop_t *op, whirl_host_callback_t cb,
                                    void *env)
{
    whirl_func_t *f;
    whirl_error_t *e = whirl_func_new(r->inst->store, op->core_type, cb, env, NULL, &f);
    if (e)
        return e;
    whirl_extern_t x = {.kind = WHIRL_EXTERN_FUNC, .of.func = f};
    return push_core(r->inst, CS_CORE_FUNC, &x);
}

static whirl_error_t *lower(run_t *r, const cop_t *op)
{
    cinst_t *inst = r->inst;
    clower_env_t *le = alloc(r, 1, sizeof *le);
    if (!le)
        return error_oom();
    le->inst = inst;
    le->callee = inst->funcs[op->index];
    le->type = op->type;
    le->encoding = op->opts.encoding;
    le->async = op->opts.async;
    if (op->opts.memory >= 0)
        le->memory = inst->core_memories[op->opts.memory];
    if (op->opts.realloc >= 0)
        le->realloc = inst->core_funcs[op->opts.realloc];
    return new_core_func(r, op, lower_trampoline, le);
}

static whirl_error_t *async_builtin(run_t *r, const cop_t *op)
{
    if (!task_builtin_supported(op->builtin))
        return error_fmt("canonical built-in %s is not implemented yet (component-model async)",
                         canon_async_name(op->builtin));
    ctask_env_t *te = alloc(r, 1, sizeof *te);
    if (!te)
        return error_oom();
    te->inst = r->inst;
    te->builtin = op->builtin;
    te->index = op->index;
    te->type = op->type;
    te->encoding = op->opts.encoding;
    te->async = op->opts.async;
    if (op->opts.memory >= 0)
        te->memory = r->inst->core_memories[op->opts.memory];
    if (op->opts.realloc >= 0)
        te->realloc = r->inst->core_funcs[op->opts.realloc];
    return new_core_func(r, op, task_builtin_trampoline, te);
}

static whirl_error_t *resource_builtin(run_t *r, const cop_t *op)
{
    cres_env_t *re = alloc(r, 1, sizeof *re);
    if (!re)
        return error_oom();
    re->inst = r->inst;
    re->node = op->type;
    whirl_host_callback_t cb = op->kind == OP_RESOURCE_NEW    ? resource_new_trampoline
                               : op->kind == OP_RESOURCE_DROP ? resource_drop_trampoline
                                                              : resource_rep_trampoline;
    return new_core_func(r, op, cb, re);
}

static whirl_error_t *import(run_t *r, const cop_t *op)
{
    if (r->nimport >= r->comp->type->nimports)
        return error_fmt("internal error: too many imports");
    const citem_t *it = &r->args[r->nimport++];
    char what[300];
    snprintf(what, sizeof what, "import `%s`", op->name);
    whirl_error_t *e = instance_bind(r->inst, op->sort, op->type, it, what);
    return e ? e : push_item(r->inst, it);
}

static whirl_error_t *export(run_t *r, const cop_t *op)
{
    citem_t it;
    whirl_error_t *e = item_of(r->inst, op->sort, op->index, op->type, &it);
    if (e)
        return e;
    if (op->sort == CS_FUNC && it.u.func && !it.u.func->name)
        it.u.func->name = op->name;
    if (!vec_push(&r->export_names, op->name) || !vec_push(&r->export_items, it))
        return error_oom();
    return push_item(r->inst, &it);
}

static whirl_error_t *run_op(run_t *r, const cop_t *op)
{
    switch (op->kind) {
    case OP_CORE_INSTANTIATE: return core_instantiate(r, op);
    case OP_CORE_INLINE: return core_inline(r, op);
    case OP_CORE_ALIAS: return core_alias(r, op);
    case OP_INSTANTIATE: return instantiate_child(r, op);
    case OP_INLINE: return inline_instance(r, op);
    case OP_ALIAS: return alias_export(r, op);
    case OP_RESOURCE: return define_resource(r, op);
    case OP_LIFT: return lift(r, op);
    case OP_LOWER: return lower(r, op);
    case OP_ASYNC_BUILTIN: return async_builtin(r, op);
    case OP_RESOURCE_NEW:
    case OP_RESOURCE_DROP:
    case OP_RESOURCE_REP: return resource_builtin(r, op);
    case OP_IMPORT: return import(r, op);
    case OP_EXPORT: return export(r, op);
    }
    return error_fmt("internal error: unknown op");
}

whirl_error_t *instance_run(croot_t *root, cinst_t *parent, const ccomp_t *comp,
                            const citem_t *args, cinst_t **out)
{
    run_t r = {.root = root, .comp = comp, .args = args};
    if (++root->ninstances > COMPONENT_MAX_INSTANCES)
        return error_fmt("instantiation needs more than %u component instances",
                         COMPONENT_MAX_INSTANCES);
    cinst_t *inst = arena_alloc(&root->arena, sizeof *inst);
    if (!inst)
        return error_oom();
    r.inst = inst;
    inst->comp = comp;
    inst->parent = parent;
    inst->root = root;
    inst->store = root->store;
    inst->may_enter = inst->may_leave = true;
    inst->next_in_root = root->instances;
    root->instances = inst;
    const uint32_t *c = comp->count;
    inst->core_funcs = alloc(&r, c[CS_CORE_FUNC], sizeof *inst->core_funcs);
    inst->core_tables = alloc(&r, c[CS_CORE_TABLE], sizeof *inst->core_tables);
    inst->core_memories = alloc(&r, c[CS_CORE_MEMORY], sizeof *inst->core_memories);
    inst->core_globals = alloc(&r, c[CS_CORE_GLOBAL], sizeof *inst->core_globals);
    inst->core_instances = alloc(&r, c[CS_CORE_INSTANCE], sizeof *inst->core_instances);
    inst->funcs = alloc(&r, c[CS_FUNC], sizeof *inst->funcs);
    inst->instances = alloc(&r, c[CS_INSTANCE], sizeof *inst->instances);
    inst->res = alloc(&r, comp->nres, sizeof *inst->res);
    if (!inst->core_funcs || !inst->core_tables || !inst->core_memories || !inst->core_globals ||
        !inst->core_instances || !inst->funcs || !inst->instances || !inst->res)
        return error_oom();
    whirl_error_t *e = NULL;
    for (uint32_t i = 0; i < comp->nops && !e; i++) {
        e = run_op(&r, &comp->ops[i]);
        if (e && !whirl_error_is_trap(e, NULL) && !whirl_error_exit_status(e, NULL))
            e = error_prefix(e, "component %u, definition at offset %zu: ", comp->id,
                             comp->ops[i].offset);
    }
    if (!e) {
        inst->exports = make_rinst(&r, (uint32_t)r.export_names.len, r.export_names.data,
                                   r.export_items.data);
        if (!inst->exports)
            e = error_oom();
    }
    vec_free(&r.export_names);
    vec_free(&r.export_items);
    if (e)
        return e;
    *out = inst;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Lifetime                                                            */
/* ------------------------------------------------------------------ */

static void croot_free(void *p)
{
    croot_t *root = p;
    /* No guest memory or code may be touched while tables are torn down
     * (an end dropped here tells the other end, maybe in another instance). */
    for (cinst_t *i = root->instances; i; i = i->next_in_root)
        i->dying = true;
    for (cinst_t *i = root->instances; i; i = i->next_in_root) {
        vec_free(&i->handles);
        task_inst_free(i);
    }
    whirl_component_instance_pre_delete(root->pre);
    component_release(root->component);
    arena_free(&root->arena);
    free(root);
}

static whirl_error_t *anchor_callback(void *env, whirl_caller_t *caller, const whirl_val_t *args,
                                      size_t nargs, whirl_val_t *results, size_t nresults)
{
    return error_fmt("internal function");
}

/* The store has no finalizer list in the public API; a host function that
 * is never called carries the root's finalizer instead. */
whirl_error_t *croot_attach(whirl_store_t *store, croot_t *root)
{
    whirl_functype_t *ft = whirl_functype_new(NULL, 0, NULL, 0);
    if (!ft)
        return error_oom();
    whirl_func_t *f;
    whirl_error_t *e = whirl_func_new(store, ft, anchor_callback, root, croot_free, &f);
    whirl_functype_delete(ft);
    return e;
}
