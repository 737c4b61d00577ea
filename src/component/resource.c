/* Resources: per-instance handle tables, the resource.new / resource.drop /
 * resource.rep built-ins, destructors, borrow scoping, and the reentrance
 * rules of component instances (CanonicalABI.md, "Table State", "Resource
 * State", `canon resource.*`). */
#include <stdlib.h>
#include <string.h>

#include "component/component.h"

/* ------------------------------------------------------------------ */
/* Reentrance                                                          */
/* ------------------------------------------------------------------ */

static bool in_chain(const cinst_t *x, const cinst_t *chain)
{
    for (const cinst_t *c = chain; c; c = c->parent)
        if (c == x)
            return true;
    return false;
}

/* Entering `callee` from `caller` enters callee and its ancestors, minus
 * those the caller is already inside. */
bool inst_may_enter_from(const cinst_t *callee, const cinst_t *caller)
{
    for (const cinst_t *x = callee; x; x = x->parent)
        if (!in_chain(x, caller) && !x->may_enter)
            return false;
    return true;
}

void inst_enter_from(cinst_t *callee, const cinst_t *caller)
{
    for (cinst_t *x = callee; x; x = x->parent)
        if (!in_chain(x, caller))
            x->may_enter = false;
}

void inst_leave_to(cinst_t *callee, const cinst_t *caller)
{
    for (cinst_t *x = callee; x; x = x->parent)
        if (!in_chain(x, caller))
            x->may_enter = true;
}

/* ------------------------------------------------------------------ */
/* Handle tables                                                       */
/* ------------------------------------------------------------------ */

whirl_error_t *handle_add(cinst_t *inst, whirl_resource_type_t *rt, uint32_t rep, bool own,
                          ctask_t *scope, uint32_t *out)
{
    if (inst->handles.len == 0) {
        chandle_t reserved = {0}; /* index 0 is never a handle */
        if (!vec_push(&inst->handles, reserved))
            return error_oom();
    }
    uint32_t i;
    if (inst->free_head) {
        i = inst->free_head;
        inst->free_head = inst->handles.data[i].next_free;
    } else {
        if (inst->handles.len > CANON_TABLE_MAX)
            return canon_trap("handle table full (%u handles)", CANON_TABLE_MAX);
        chandle_t h = {0};
        if (!vec_push(&inst->handles, h))
            return error_oom();
        i = (uint32_t)inst->handles.len - 1;
    }
    inst->handles.data[i] = (chandle_t){
        .rt = rt, .rep = rep, .scope = scope, .state = own ? HANDLE_OWN : HANDLE_BORROW};
    *out = i;
    return NULL;
}

chandle_t *handle_get(cinst_t *inst, uint32_t i, whirl_error_t **err)
{
    if (i == 0 || i >= inst->handles.len || inst->handles.data[i].state == HANDLE_FREE) {
        *err = canon_trap("unknown handle index %u", i);
        return NULL;
    }
    return &inst->handles.data[i];
}

void handle_remove(cinst_t *inst, uint32_t i)
{
    chandle_t *h = &inst->handles.data[i];
    h->state = HANDLE_FREE;
    h->rt = NULL;
    h->scope = NULL;
    h->next_free = inst->free_head;
    inst->free_head = i;
}

void handle_scrub_task(ctask_t *task)
{
    cinst_t *inst = task->inst;
    for (size_t i = 1; i < inst->handles.len; i++) {
        chandle_t *h = &inst->handles.data[i];
        if (h->state == HANDLE_BORROW && h->scope == task)
            handle_remove(inst, (uint32_t)i);
    }
    task->num_borrows = 0;
}

void clenders_release(clenders_t *l)
{
    for (size_t k = 0; k < l->idx.len && l->inst; k++) {
        uint32_t i = l->idx.data[k];
        if (i < l->inst->handles.len) {
            chandle_t *h = &l->inst->handles.data[i];
            if (h->state != HANDLE_FREE && h->lends)
                h->lends--;
        }
    }
    vec_free(&l->idx);
}

/* ------------------------------------------------------------------ */
/* Destructors                                                         */
/* ------------------------------------------------------------------ */

whirl_error_t *resource_destroy(whirl_store_t *store, whirl_resource_type_t *rt, uint32_t rep,
                                cinst_t *caller)
{
    if (rt->host) {
        if (!rt->host_dtor)
            return NULL;
        whirl_error_t *e = rt->host_dtor(rt->env, store, rep);
        return e ? error_as_trap(e) : NULL;
    }
    if (!rt->dtor)
        return NULL;
    cinst_t *impl = rt->impl;
    if (!inst_may_enter_from(impl, caller))
        return canon_trap("cannot enter the component instance of `%s` to run its destructor",
                          rt->name ? rt->name : "resource");
    inst_enter_from(impl, caller);
    whirl_val_t arg = {.kind = WHIRL_I32, .of.i32 = (int32_t)rep};
    whirl_error_t *e = whirl_func_call(store, rt->dtor, &arg, 1, NULL, 0);
    if (!e)
        inst_leave_to(impl, caller); /* after a trap the instance stays locked */
    return e;
}

/* ------------------------------------------------------------------ */
/* Built-ins                                                           */
/* ------------------------------------------------------------------ */

whirl_error_t *resource_new_trampoline(void *env, whirl_caller_t *caller,
                                       const whirl_val_t *args, size_t nargs,
                                       whirl_val_t *results, size_t nresults)
{
    cres_env_t *re = env;
    if (!re->inst->may_leave)
        return canon_trap("resource.new called while the instance may not leave");
    whirl_resource_type_t *rt;
    whirl_error_t *e = instance_resource(re->inst, re->node, &rt);
    uint32_t h;
    if (e || (e = handle_add(re->inst, rt, (uint32_t)args[0].of.i32, true, NULL, &h)))
        return e;
    results[0].kind = WHIRL_I32;
    results[0].of.i32 = (int32_t)h;
    return NULL;
}

whirl_error_t *resource_drop_trampoline(void *env, whirl_caller_t *caller,
                                        const whirl_val_t *args, size_t nargs,
                                        whirl_val_t *results, size_t nresults)
{
    cres_env_t *re = env;
    cinst_t *inst = re->inst;
    if (!inst->may_leave)
        return canon_trap("resource.drop called while the instance may not leave");
    whirl_resource_type_t *rt;
    whirl_error_t *e = instance_resource(inst, re->node, &rt);
    if (e)
        return e;
    uint32_t i = (uint32_t)args[0].of.i32;
    chandle_t *h = handle_get(inst, i, &e);
    if (!h)
        return e;
    if (h->rt != rt)
        return canon_trap("resource.drop: handle %u is a `%s`, not a `%s`", i,
                          h->rt->name ? h->rt->name : "resource", rt->name ? rt->name : "resource");
    if (h->lends)
        return canon_trap("resource.drop: handle %u is lent out", i);
    chandle_t copy = *h;
    handle_remove(inst, i);
    if (copy.state == HANDLE_BORROW) {
        if (copy.scope && copy.scope->num_borrows)
            copy.scope->num_borrows--;
        return NULL;
    }
    return resource_destroy(whirl_caller_store(caller), rt, copy.rep, inst);
}

whirl_error_t *resource_rep_trampoline(void *env, whirl_caller_t *caller,
                                       const whirl_val_t *args, size_t nargs,
                                       whirl_val_t *results, size_t nresults)
{
    cres_env_t *re = env;
    whirl_resource_type_t *rt;
    whirl_error_t *e = instance_resource(re->inst, re->node, &rt);
    if (e)
        return e;
    uint32_t i = (uint32_t)args[0].of.i32;
    chandle_t *h = handle_get(re->inst, i, &e);
    if (!h)
        return e;
    if (h->rt != rt)
        return canon_trap("resource.rep: handle %u is a `%s`, not a `%s`", i,
                          h->rt->name ? h->rt->name : "resource", rt->name ? rt->name : "resource");
    results[0].kind = WHIRL_I32;
    results[0].of.i32 = (int32_t)h->rep;
    return NULL;
}
