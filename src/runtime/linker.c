/* The linker: a table of definitions keyed by (module, name), used to
 * resolve a module's imports in order.
 *
 * Host functions defined with whirl_linker_define_func belong to no store.
 * The first instantiation in a store that imports one creates its function
 * object there; later instantiations in the same store reuse it (the store
 * keeps a cache keyed by the definition's process-unique id, see store.c), so
 * a table or a funcref comparison sees one function, as it would for any
 * other import. The function object's callback and env are the
 * definition's; env is finalised when the linker (and every instance_pre
 * using the definition) is deleted, so they must outlive the stores that
 * use its host functions.
 *
 * An instance_pre is the import resolution of whirl_linker_instantiate
 * done once: an array of host definitions in import order, each retained
 * and type-checked. Instantiating from it only looks up (or creates) each
 * definition's function in the store and skips the name lookups and type
 * checks. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "runtime/internal.h"

/* Shared by the linker and every instance_pre that resolved an import to
 * it; the last reference runs the finalizer. */
typedef struct host_def {
    atomic_uint refs;
    uint64_t id;
    whirl_functype_t *type;
    whirl_host_callback_t callback;
    void *env;
    void (*finalizer)(void *env);
} host_def_t;

typedef struct link_entry {
    char *module;
    size_t module_len;
    char *name;
    size_t name_len;
    size_t hash;
    bool is_host;
    whirl_extern_t item;  /* !is_host */
    host_def_t *host;     /* is_host */
} link_entry_t;

struct whirl_linker {
    whirl_engine_t *engine;
    VEC(link_entry_t) entries;
    /* Open addressing over `entries`: slot holds entry index + 1, 0 = empty.
     * Capacity is a power of two, load at most 1/2. */
    uint32_t *index;
    size_t index_cap;
};

static _Atomic uint64_t next_host_def_id = 1;

static size_t hash_key(const char *module, size_t module_len, const char *name,
                       size_t name_len)
{
    /* The module's hash seeds the name's: ("ab", "c") and ("a", "bc") differ. */
    return (size_t)XXH3_64bits_withSeed(name, name_len, XXH3_64bits(module, module_len));
}

static bool key_equal(const link_entry_t *e, const char *module, size_t module_len,
                      const char *name, size_t name_len)
{
    return e->module_len == module_len && e->name_len == name_len &&
           memcmp(e->module, module, module_len) == 0 && memcmp(e->name, name, name_len) == 0;
}

static link_entry_t *lookup(const whirl_linker_t *linker, const char *module,
                            size_t module_len, const char *name, size_t name_len)
{
    if (!linker->index_cap)
        return NULL;
    size_t h = hash_key(module, module_len, name, name_len);
    size_t mask = linker->index_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        uint32_t slot = linker->index[i];
        if (!slot)
            return NULL;
        link_entry_t *e = &linker->entries.data[slot - 1];
        if (e->hash == h && key_equal(e, module, module_len, name, name_len))
            return e;
    }
}

static void index_insert(uint32_t *index, size_t cap, size_t hash, uint32_t entry)
{
    size_t mask = cap - 1;
    size_t i = hash & mask;
    while (index[i])
        i = (i + 1) & mask;
    index[i] = entry + 1;
}

/* Rebuilds the index of every entry at capacity `cap`. */
static bool index_rebuild(whirl_linker_t *linker, size_t cap)
{
    uint32_t *index = calloc(cap, sizeof *index);
    if (!index)
        return false;
    for (size_t i = 0; i < linker->entries.len; i++)
        index_insert(index, cap, linker->entries.data[i].hash, (uint32_t)i);
    free(linker->index);
    linker->index = index;
    linker->index_cap = cap;
    return true;
}

static void host_def_free(host_def_t *def)
{
    if (!def)
        return;
    /* acq_rel: every user's reads of the definition happen before the
     * finalizer and the free. */
    if (atomic_fetch_sub_explicit(&def->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (def->finalizer)
        def->finalizer(def->env);
    whirl_functype_delete(def->type);
    free(def);
}

static void entry_free(link_entry_t *e)
{
    free(e->module);
    free(e->name);
    host_def_free(e->host);
}

whirl_linker_t *whirl_linker_new(whirl_engine_t *engine)
{
    if (!engine)
        return NULL;
    whirl_linker_t *linker = calloc(1, sizeof *linker);
    if (!linker)
        return NULL;
    linker->engine = engine;
    return linker;
}

void whirl_linker_delete(whirl_linker_t *linker)
{
    if (!linker)
        return;
    for (size_t i = 0; i < linker->entries.len; i++)
        entry_free(&linker->entries.data[i]);
    vec_free(&linker->entries);
    free(linker->index);
    free(linker);
}

static char *dup_bytes(const char *s, size_t len)
{
    char *p = malloc(len + 1);
    if (p) {
        if (len)
            memcpy(p, s, len);
        p[len] = 0;
    }
    return p;
}

/* Appends an entry (the caller checked it is not defined yet). On failure
 * nothing changes and `host` still belongs to the caller. */
static whirl_error_t *add_entry(whirl_linker_t *linker, const char *module, size_t module_len,
                                const char *name, size_t name_len, const whirl_extern_t *item,
                                host_def_t *host)
{
    if (linker->entries.len >= UINT32_MAX - 1)
        return error_fmt("linker: too many definitions");
    if ((linker->entries.len + 1) * 2 > linker->index_cap &&
        !index_rebuild(linker, linker->index_cap ? linker->index_cap * 2 : 64))
        return error_oom();
    link_entry_t e = {0};
    e.module = dup_bytes(module, module_len);
    e.name = dup_bytes(name, name_len);
    if (!e.module || !e.name || !vec_reserve(&linker->entries, 1)) {
        free(e.module);
        free(e.name);
        return error_oom();
    }
    e.module_len = module_len;
    e.name_len = name_len;
    e.hash = hash_key(module, module_len, name, name_len);
    if (host) {
        e.is_host = true;
        e.host = host;
    } else {
        e.item = *item;
    }
    uint32_t at = (uint32_t)linker->entries.len;
    linker->entries.data[linker->entries.len++] = e;
    index_insert(linker->index, linker->index_cap, e.hash, at);
    return NULL;
}

static whirl_error_t *check_new_key(const whirl_linker_t *linker, const char *module,
                                    size_t module_len, const char *name, size_t name_len)
{
    if (lookup(linker, module, module_len, name, name_len))
        return error_fmt("linker: module \"%.*s\" name \"%.*s\" is already defined",
                         (int)module_len, module, (int)name_len, name);
    return NULL;
}

whirl_error_t *whirl_linker_define_func(whirl_linker_t *linker, const char *module,
                                        const char *name, const whirl_functype_t *type,
                                        whirl_host_callback_t callback, void *env,
                                        void (*finalizer)(void *env))
{
    if (!linker || !module || !name || !type || !callback)
        return error_fmt("whirl_linker_define_func: linker, module, name, type or callback is "
                         "NULL");
    size_t mlen = strlen(module), nlen = strlen(name);
    whirl_error_t *err = check_new_key(linker, module, mlen, name, nlen);
    if (err)
        return err;
    host_def_t *def = calloc(1, sizeof *def);
    if (!def)
        return error_oom();
    def->type = functype_copy(&type->type);
    if (!def->type) {
        free(def);
        return error_oom();
    }
    atomic_init(&def->refs, 1);
    def->id = atomic_fetch_add_explicit(&next_host_def_id, 1, memory_order_relaxed);
    def->callback = callback;
    def->env = env;
    err = add_entry(linker, module, mlen, name, nlen, NULL, def);
    if (err) {
        /* The caller keeps env on failure: no finalizer was registered. */
        whirl_functype_delete(def->type);
        free(def);
        return err;
    }
    def->finalizer = finalizer;
    return NULL;
}

static const whirl_store_t *extern_store(const whirl_extern_t *item)
{
    switch (item->kind) {
    case WHIRL_EXTERN_FUNC: return item->of.func ? item->of.func->store : NULL;
    case WHIRL_EXTERN_TABLE: return item->of.table ? item->of.table->store : NULL;
    case WHIRL_EXTERN_MEMORY: return item->of.memory ? item->of.memory->store : NULL;
    case WHIRL_EXTERN_GLOBAL: return item->of.global ? item->of.global->store : NULL;
    case WHIRL_EXTERN_TAG: return item->of.tag ? item->of.tag->store : NULL;
    }
    return NULL;
}

whirl_error_t *whirl_linker_define(whirl_linker_t *linker, const char *module,
                                   const char *name, const whirl_extern_t *item)
{
    if (!linker || !module || !name || !item)
        return error_fmt("whirl_linker_define: linker, module, name or item is NULL");
    if (!extern_store(item))
        return error_fmt("whirl_linker_define: module \"%s\" name \"%s\": invalid extern "
                         "(bad kind or NULL object)",
                         module, name);
    size_t mlen = strlen(module), nlen = strlen(name);
    whirl_error_t *err = check_new_key(linker, module, mlen, name, nlen);
    if (err)
        return err;
    return add_entry(linker, module, mlen, name, nlen, item, NULL);
}

whirl_error_t *whirl_linker_define_instance(whirl_linker_t *linker, const char *module,
                                            whirl_instance_t *instance)
{
    if (!linker || !module || !instance)
        return error_fmt("whirl_linker_define_instance: linker, module or instance is NULL");
    const wasm_module_t *w = instance->module->wasm;
    size_t mlen = strlen(module);
    /* All or nothing: check every name first, and undo on exhaustion. */
    for (uint32_t i = 0; i < w->nexports; i++) {
        const wasm_export_t *e = &w->exports[i];
        whirl_error_t *err = check_new_key(linker, module, mlen, e->name, e->name_len);
        if (err)
            return err;
    }
    size_t before = linker->entries.len;
    for (uint32_t i = 0; i < w->nexports; i++) {
        const wasm_export_t *e = &w->exports[i];
        whirl_extern_t item;
        instance_export_extern(instance, e, &item);
        whirl_error_t *err = NULL;
        if (!extern_store(&item))
            err = error_fmt("whirl_linker_define_instance: export \"%.*s\" of a failed "
                            "instantiation is missing",
                            (int)e->name_len, e->name);
        else
            err = add_entry(linker, module, mlen, e->name, e->name_len, &item, NULL);
        if (err) {
            for (size_t k = before; k < linker->entries.len; k++)
                entry_free(&linker->entries.data[k]);
            linker->entries.len = before;
            /* Entries enter the index in order (also on rebuild), so no
             * older entry's probe sequence crosses a newer one's slot:
             * clearing the newer slots leaves every older one reachable. */
            for (size_t k = 0; k < linker->index_cap; k++)
                if (linker->index[k] > before)
                    linker->index[k] = 0;
            return err;
        }
    }
    return NULL;
}

/* The store's function object for a host definition, created on first use. */
static whirl_func_t *host_func_in_store(whirl_store_t *store, const host_def_t *def)
{
    whirl_func_t *f = store_host_func_lookup(store, def->id);
    if (f)
        return f;
    /* No finalizer: env belongs to the definition (the linker). */
    f = func_host_create(store, &def->type->type, def->callback, def->env, NULL);
    if (!f)
        return NULL;
    /* If remembering fails the function still works; a later instantiation
     * only creates another. */
    store_host_func_remember(store, def->id, f);
    return f;
}

whirl_error_t *whirl_linker_instantiate(whirl_linker_t *linker, whirl_store_t *store,
                                        whirl_module_t *module, whirl_instance_t **out)
{
    if (!out)
        return error_fmt("whirl_linker_instantiate: out is NULL");
    *out = NULL;
    if (!linker || !store || !module)
        return error_fmt("whirl_linker_instantiate: linker, store or module is NULL");
    const wasm_module_t *w = module->wasm;
    whirl_extern_t *imports = NULL;
    if (w->nimports) {
        imports = calloc(w->nimports, sizeof *imports);
        if (!imports)
            return error_oom();
    }
    whirl_error_t *err = NULL;
    for (uint32_t i = 0; i < w->nimports && !err; i++) {
        const wasm_import_t *imp = &w->imports[i];
        const link_entry_t *e = lookup(linker, imp->module, imp->module_len, imp->name,
                                       imp->name_len);
        if (!e) {
            err = error_fmt("unknown import: module \"%.*s\" name \"%.*s\"",
                            (int)imp->module_len, imp->module, (int)imp->name_len, imp->name);
        } else if (e->is_host) {
            /* A kind mismatch is reported by whirl_instance_new; creating
             * the function first would leave it in the store for nothing. */
            if (imp->kind != WASM_EXTERN_FUNC) {
                imports[i].kind = WHIRL_EXTERN_FUNC;
                imports[i].of.func = NULL;
                err = error_fmt("incompatible import type: module \"%.*s\" name \"%.*s\": "
                                "expected %s, got func",
                                (int)imp->module_len, imp->module, (int)imp->name_len,
                                imp->name,
                                imp->kind == WASM_EXTERN_TABLE    ? "table"
                                : imp->kind == WASM_EXTERN_MEMORY ? "memory"
                                                                  : "global");
            } else {
                imports[i].kind = WHIRL_EXTERN_FUNC;
                imports[i].of.func = host_func_in_store(store, e->host);
                if (!imports[i].of.func)
                    err = error_oom();
            }
        } else if (extern_store(&e->item) != store) {
            err = error_fmt("import module \"%.*s\" name \"%.*s\": the linker's definition "
                            "belongs to a different store",
                            (int)imp->module_len, imp->module, (int)imp->name_len, imp->name);
        } else {
            imports[i] = e->item;
        }
    }
    if (!err)
        err = whirl_instance_new(store, module, imports, w->nimports, out);
    free(imports);
    return err;
}

/* ---- instance_pre ---- */

struct whirl_instance_pre {
    atomic_uint refs;
    whirl_module_t *module;   /* retained */
    uint32_t nimports;
    host_def_t *defs[];       /* per import, retained */
};

static const char *import_kind_name(unsigned kind)
{
    switch (kind) {
    case WASM_EXTERN_FUNC: return "func";
    case WASM_EXTERN_TABLE: return "table";
    case WASM_EXTERN_MEMORY: return "memory";
    case WASM_EXTERN_GLOBAL: return "global";
    case WASM_EXTERN_TAG: return "tag";
    }
    return "extern";
}

static void pre_free(whirl_instance_pre_t *pre, uint32_t ndefs)
{
    for (uint32_t i = 0; i < ndefs; i++)
        host_def_free(pre->defs[i]);
    if (pre->module)
        module_release(pre->module);
    free(pre);
}

whirl_error_t *whirl_linker_instantiate_pre(whirl_linker_t *linker, whirl_module_t *module,
                                            whirl_instance_pre_t **out)
{
    if (!out)
        return error_fmt("whirl_linker_instantiate_pre: out is NULL");
    *out = NULL;
    if (!linker || !module)
        return error_fmt("whirl_linker_instantiate_pre: linker or module is NULL");
    if (module->engine != linker->engine)
        return error_fmt("whirl_linker_instantiate_pre: module and linker belong to different "
                         "engines");
    const wasm_module_t *w = module->wasm;
    whirl_instance_pre_t *pre =
        calloc(1, sizeof *pre + (size_t)w->nimports * sizeof pre->defs[0]);
    if (!pre)
        return error_oom();
    atomic_init(&pre->refs, 1);
    for (uint32_t i = 0; i < w->nimports; i++) {
        const wasm_import_t *imp = &w->imports[i];
        const link_entry_t *e = lookup(linker, imp->module, imp->module_len, imp->name,
                                       imp->name_len);
        whirl_error_t *err = NULL;
        if (!e)
            err = error_fmt("unknown import: module \"%.*s\" name \"%.*s\"",
                            (int)imp->module_len, imp->module, (int)imp->name_len, imp->name);
        else if (!e->is_host)
            err = error_fmt("import module \"%.*s\" name \"%.*s\": the linker defines it "
                            "with a %s of one store, which an instance_pre cannot resolve "
                            "ahead of a store (define a host function with "
                            "whirl_linker_define_func, or use whirl_linker_instantiate)",
                            (int)imp->module_len, imp->module, (int)imp->name_len, imp->name,
                            import_kind_name(e->item.kind));
        else if (imp->kind != WASM_EXTERN_FUNC)
            err = error_fmt("incompatible import type: module \"%.*s\" name \"%.*s\": "
                            "expected %s, got func",
                            (int)imp->module_len, imp->module, (int)imp->name_len, imp->name,
                            import_kind_name(imp->kind));
        else if (!functype_equal(&e->host->type->type, &w->types[imp->desc.func_type])) {
            char want[200], got[200];
            functype_format(&w->types[imp->desc.func_type], want, sizeof want);
            functype_format(&e->host->type->type, got, sizeof got);
            err = error_fmt("incompatible import type: module \"%.*s\" name \"%.*s\": "
                            "expected func %s, got func %s",
                            (int)imp->module_len, imp->module, (int)imp->name_len, imp->name,
                            want, got);
        }
        if (err) {
            pre_free(pre, i);
            return err;
        }
        atomic_fetch_add_explicit(&e->host->refs, 1, memory_order_relaxed);
        pre->defs[i] = e->host;
    }
    pre->nimports = w->nimports;
    module_retain(module);
    pre->module = module;
    *out = pre;
    return NULL;
}

whirl_error_t *whirl_instance_pre_instantiate(const whirl_instance_pre_t *pre,
                                              whirl_store_t *store, whirl_instance_t **out)
{
    if (!out)
        return error_fmt("whirl_instance_pre_instantiate: out is NULL");
    *out = NULL;
    if (!pre || !store)
        return error_fmt("whirl_instance_pre_instantiate: pre or store is NULL");
    if (pre->module->engine != store->engine)
        return error_fmt("whirl_instance_pre_instantiate: the instance_pre and the store "
                         "belong to different engines");
    whirl_extern_t small[16];
    whirl_extern_t *imports = small;
    if (pre->nimports > 16 && !(imports = malloc(pre->nimports * sizeof *imports)))
        return error_oom();
    whirl_error_t *err = NULL;
    for (uint32_t i = 0; i < pre->nimports && !err; i++) {
        imports[i].kind = WHIRL_EXTERN_FUNC;
        imports[i].of.func = host_func_in_store(store, pre->defs[i]);
        if (!imports[i].of.func)
            err = error_oom();
    }
    if (!err)
        err = instance_create(store, pre->module, imports, out);
    if (imports != small)
        free(imports);
    return err;
}

whirl_instance_pre_t *whirl_instance_pre_clone(whirl_instance_pre_t *pre)
{
    if (pre)
        atomic_fetch_add_explicit(&pre->refs, 1, memory_order_relaxed);
    return pre;
}

void whirl_instance_pre_delete(whirl_instance_pre_t *pre)
{
    if (pre && atomic_fetch_sub_explicit(&pre->refs, 1, memory_order_acq_rel) == 1)
        pre_free(pre, pre->nimports);
}

whirl_module_t *whirl_instance_pre_module(const whirl_instance_pre_t *pre)
{
    return pre ? pre->module : NULL;
}
