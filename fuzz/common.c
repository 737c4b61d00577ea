#include "common.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *fz_errmsg(const whirl_error_t *err)
{
    const char *m = err ? whirl_error_message(err) : NULL;
    return m ? m : "(no message)";
}

uint8_t *fz_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0, got;
    uint8_t *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    bool failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    *len = n;
    return buf;
}

whirl_val_t fz_zero(whirl_valkind_t kind)
{
    whirl_val_t v;
    memset(&v, 0, sizeof v);
    v.kind = kind;
    return v;
}

whirl_error_t *fz_stub(void *env, whirl_caller_t *caller, const whirl_val_t *args, size_t nargs,
                       whirl_val_t *results, size_t nresults)
{
    const whirl_functype_t *type = env;
    (void)args;
    (void)nargs;
    for (size_t i = 0; i < nresults; i++)
        results[i] = fz_zero(whirl_functype_result(type, i));
    /* A guest that imports "memory" or the like gets it looked up. */
    whirl_extern_t ext;
    (void)whirl_caller_export(caller, "memory", 6, &ext);
    return NULL;
}

/* An object matching import `imp`, created in `store`. */
static whirl_error_t *make_import(whirl_store_t *store, const whirl_module_t *module,
                                  size_t index, const wasm_import_t *imp,
                                  whirl_host_callback_t stub, whirl_extern_t *out)
{
    out->kind = (whirl_externkind_t)imp->kind;
    switch (imp->kind) {
    case WASM_EXTERN_FUNC: {
        whirl_import_info_t info;
        if (!whirl_module_import(module, index, &info) || info.kind != WHIRL_EXTERN_FUNC ||
            !info.functype)
            return whirl_error_newf("fuzz: import %zu: no function type", index);
        return whirl_func_new(store, info.functype, stub, (void *)info.functype, NULL,
                              &out->of.func);
    }
    case WASM_EXTERN_TABLE: {
        const wasm_limits_t *l = &imp->desc.table.limits;
        uint64_t max = l->has_max ? l->max : WHIRL_NO_MAX;
        whirl_val_t init = fz_zero(valtype_to_kind(imp->desc.table.elem));
        return whirl_table_new(store, init.kind, l->min, max, &init, &out->of.table);
    }
    case WASM_EXTERN_MEMORY: {
        const wasm_limits_t *l = &imp->desc.memory.limits;
        return whirl_memory_new(store, l->min, l->has_max ? l->max : WHIRL_NO_MAX,
                                &out->of.memory);
    }
    case WASM_EXTERN_GLOBAL: {
        whirl_val_t v = fz_zero(valtype_to_kind(imp->desc.global.type));
        return whirl_global_new(store, &v, imp->desc.global.is_mutable, &out->of.global);
    }
    case WASM_EXTERN_TAG:
        return whirl_tag_new(store, functype_public(&module->wasm->types[imp->desc.tag_type]),
                             &out->of.tag);
    }
    return whirl_error_new("unknown import kind");
}

whirl_error_t *fz_instantiate(whirl_engine_t *engine, whirl_store_t *store,
                              whirl_module_t *module, whirl_host_callback_t stub,
                              whirl_instance_t **inst)
{
    const wasm_module_t *w = module->wasm;
    size_t n = w->nimports;
    whirl_extern_t *imports = calloc(n ? n : 1, sizeof *imports);
    if (!imports)
        return whirl_error_new("fuzz: out of memory");
    whirl_error_t *err = NULL;
    for (size_t i = 0; i < n && !err; i++)
        err = make_import(store, module, i, &w->imports[i], stub, &imports[i]);
    if (err) {
        free(imports);
        return err;
    }

    bool use_linker = true;
    whirl_linker_t *linker = whirl_linker_new(engine);
    if (!linker) {
        free(imports);
        return whirl_error_new("fuzz: out of memory");
    }
    for (size_t i = 0; i < n && use_linker; i++) {
        const wasm_import_t *imp = &w->imports[i];
        if (memchr(imp->module, 0, imp->module_len) || memchr(imp->name, 0, imp->name_len)) {
            use_linker = false;
            break;
        }
        whirl_error_t *e = whirl_linker_define(linker, imp->module, imp->name, &imports[i]);
        if (e) {
            whirl_error_delete(e);
            use_linker = false;
        }
    }
    if (use_linker)
        err = whirl_linker_instantiate(linker, store, module, inst);
    else
        err = whirl_instance_new(store, module, imports, n, inst);
    whirl_linker_delete(linker);
    free(imports);
    return err;
}
