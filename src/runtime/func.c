/* Functions: host function creation, calls from the host, and the caller
 * context handed to host callbacks. */
#include <stdlib.h>

#include "exec/exec.h"
#include "runtime/internal.h"

whirl_func_t *func_host_create(whirl_store_t *store, const wasm_functype_t *type,
                               whirl_host_callback_t callback, void *env,
                               void (*finalizer)(void *env))
{
    whirl_func_t *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->host_type = functype_copy(type);
    if (!f->host_type) {
        free(f);
        return NULL;
    }
    f->store = store;
    f->kind = FUNC_HOST;
    f->type = &f->host_type->type;
    f->callback = callback;
    f->env = env;
    f->finalizer = finalizer;
    store_adopt(store, &f->obj, OBJ_FUNC);
    return f;
}

/* Wasm functions created by instantiation live in their instance's block
 * and are never on the store's list; any that are get a plain free. */
void func_destroy(whirl_func_t *func)
{
    if (func->kind == FUNC_HOST) {
        if (func->finalizer)
            func->finalizer(func->env);
        whirl_functype_delete(func->host_type);
    }
    free(func);
}

/* On failure the caller keeps `env`: the finalizer runs only for functions
 * that were created. */
whirl_error_t *whirl_func_new(whirl_store_t *store, const whirl_functype_t *type,
                              whirl_host_callback_t callback, void *env,
                              void (*finalizer)(void *env), whirl_func_t **out)
{
    if (!out)
        return error_fmt("whirl_func_new: out is NULL");
    *out = NULL;
    if (!store || !type || !callback)
        return error_fmt("whirl_func_new: store, type or callback is NULL");
    whirl_func_t *f = func_host_create(store, &type->type, callback, env, finalizer);
    if (!f)
        return error_oom();
    *out = f;
    return NULL;
}

const whirl_functype_t *whirl_func_type(const whirl_func_t *func)
{
    return func ? functype_public(func->type) : NULL;
}

whirl_error_t *whirl_func_call(whirl_store_t *store, whirl_func_t *func,
                               const whirl_val_t *args, size_t nargs, whirl_val_t *results,
                               size_t nresults)
{
    if (!store || !func)
        return error_fmt("whirl_func_call: store or func is NULL");
    if (func->store != store)
        return error_fmt("whirl_func_call: function belongs to a different store");
    const wasm_functype_t *t = func->type;
    if (nargs != t->nparams || nresults != t->nresults) {
        char buf[256];
        functype_format(t, buf, sizeof buf);
        return error_fmt("whirl_func_call: function of type %s called with %zu arguments "
                         "and %zu results",
                         buf, nargs, nresults);
    }
    if ((nargs && !args) || (nresults && !results))
        return error_fmt("whirl_func_call: args or results is NULL");
    for (size_t i = 0; i < nargs; i++) {
        whirl_valkind_t want = valtype_to_kind(t->params[i]);
        if (args[i].kind != want)
            return error_fmt("whirl_func_call: argument %zu has type %s, expected %s", i,
                             valkind_name(args[i].kind), valkind_name(want));
        if (want == WHIRL_FUNCREF && args[i].of.funcref && args[i].of.funcref->store != store)
            return error_fmt("whirl_func_call: argument %zu is a funcref from a different "
                             "store", i);
        whirl_error_t *err = check_val_type(&args[i], t->params[i], t->module_types,
                                            "whirl_func_call");
        if (err)
            return err;
    }
    /* exec_call may not touch args/results for an empty signature, but it is
     * never handed NULL. */
    whirl_val_t none = {0};
    whirl_error_t *err = exec_call(store, func, nargs ? args : &none, nresults ? results : &none);
    if (err)
        return err;
    for (size_t i = 0; i < nresults; i++)
        results[i].kind = valtype_to_kind(t->results[i]);
    return NULL;
}

whirl_store_t *whirl_caller_store(whirl_caller_t *caller) { return caller ? caller->store : NULL; }

bool whirl_caller_export(whirl_caller_t *caller, const char *name, size_t name_len,
                         whirl_extern_t *out)
{
    if (!caller || !caller->instance || !out || (name_len && !name))
        return false;
    return whirl_instance_export(caller->instance, name, name_len, out);
}
