/* Modules: decode, validate and compile once; share between instances and
 * threads by reference counting. */
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"
#include "runtime/serialize.h"

/* The public module plus an index of its exports sorted by name, so that
 * export lookup is a binary search even for modules with thousands of them.
 * A module loaded from a serialised form also owns the image its code,
 * strings and segments point into (serialize.c). */
typedef struct module_impl {
    struct whirl_module pub;
    const wasm_export_t **sorted_exports;
    module_image_t image;    /* base NULL: compiled here */
    uint8_t source_hash[32]; /* SHA-256 of the binary; zeros: not computed */
    bool from_cache;
} module_impl_t;

static int name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

static int export_cmp(const void *pa, const void *pb)
{
    const wasm_export_t *a = *(const wasm_export_t *const *)pa;
    const wasm_export_t *b = *(const wasm_export_t *const *)pb;
    return name_cmp(a->name, a->name_len, b->name, b->name_len);
}

static void module_free(module_impl_t *m)
{
    if (m->pub.code)
        compiled_module_free(m->pub.code);
    if (m->pub.wasm)
        wasm_module_free(m->pub.wasm);
    /* Last: the code and the decoded module point into it. */
    module_image_free(&m->image);
    free(m->sorted_exports);
    free(m);
}

whirl_error_t *module_assemble(whirl_engine_t *engine, wasm_module_t *wasm,
                               compiled_module_t *code, module_image_t *image,
                               const uint8_t source_hash[32], whirl_module_t **out)
{
    *out = NULL;
    module_impl_t *m = calloc(1, sizeof *m);
    if (!m) {
        compiled_module_free(code);
        wasm_module_free(wasm);
        module_image_free(image);
        return error_oom();
    }
    atomic_init(&m->pub.refcount, 1);
    m->pub.engine = engine;
    m->pub.wasm = wasm;
    m->pub.code = code;
    if (image)
        m->image = *image;
    if (source_hash)
        memcpy(m->source_hash, source_hash, 32);
    const wasm_module_t *w = wasm;
    if (w->nexports) {
        m->sorted_exports = malloc(w->nexports * sizeof *m->sorted_exports);
        if (!m->sorted_exports) {
            module_free(m);
            return error_oom();
        }
        for (uint32_t i = 0; i < w->nexports; i++)
            m->sorted_exports[i] = &w->exports[i];
        qsort(m->sorted_exports, w->nexports, sizeof *m->sorted_exports, export_cmp);
    }
    *out = &m->pub;
    return NULL;
}

whirl_error_t *module_compile(whirl_engine_t *engine, const uint8_t *wasm, size_t len,
                              whirl_module_t **out)
{
    static const uint8_t empty[1];
    /* Only a successful step's result is kept: a failed one may leave its
     * out parameter in any state. */
    wasm_module_t *decoded = NULL;
    whirl_error_t *err = wasm_decode(len ? wasm : empty, len, &decoded);
    if (err)
        return err;
    if ((err = wasm_validate(decoded))) {
        wasm_module_free(decoded);
        return err;
    }
    compiled_module_t *code = NULL;
    /* Debug info turns the code optimisations off: one internal instruction
     * per Wasm instruction where possible, so offsets map one to one. */
    bool optimize = !ENGINE_KNOB(engine, KNOB_DEBUG_INFO);
    if ((err = compile_module_opts(decoded, engine->handlers, optimize, &code))) {
        wasm_module_free(decoded);
        return err;
    }
    return module_assemble(engine, decoded, code, NULL, NULL, out);
}

whirl_error_t *whirl_module_new(whirl_engine_t *engine, const uint8_t *wasm, size_t len,
                                whirl_module_t **out)
{
    if (!out)
        return error_fmt("whirl_module_new: out is NULL");
    *out = NULL;
    if (!engine || (len && !wasm))
        return error_fmt("whirl_module_new: engine or bytes is NULL");
    if (whirl_module_is_serialized(wasm, len))
        return error_fmt("this is a precompiled module (`whirl compile` output), not a "
                         "WebAssembly binary: load it with whirl_module_deserialize");
    if (engine->config.cache_path)
        return cache_module_new(engine, wasm, len, out);
    return module_compile(engine, wasm, len, out);
}

const uint8_t *module_source_hash(const whirl_module_t *module)
{
    return ((const module_impl_t *)module)->source_hash;
}

void module_set_source_hash(whirl_module_t *module, const uint8_t hash[32])
{
    memcpy(((module_impl_t *)module)->source_hash, hash, 32);
}

void module_set_from_cache(whirl_module_t *module)
{
    ((module_impl_t *)module)->from_cache = true;
}

bool whirl_module_from_cache(const whirl_module_t *module)
{
    return module && ((const module_impl_t *)module)->from_cache;
}

whirl_error_t *whirl_module_validate(whirl_engine_t *engine, const uint8_t *wasm, size_t len)
{
    if (!engine || (len && !wasm))
        return error_fmt("whirl_module_validate: engine or bytes is NULL");
    static const uint8_t empty[1];
    wasm_module_t *w = NULL;
    whirl_error_t *err = wasm_decode(len ? wasm : empty, len, &w);
    if (err)
        return err;
    err = wasm_validate(w);
    wasm_module_free(w);
    return err;
}

void module_retain(whirl_module_t *module)
{
    atomic_fetch_add_explicit(&module->refcount, 1, memory_order_relaxed);
}

void module_release(whirl_module_t *module)
{
    /* acq_rel: every holder's use of the module happens before the free. */
    if (atomic_fetch_sub_explicit(&module->refcount, 1, memory_order_acq_rel) == 1)
        module_free((module_impl_t *)module);
}

void whirl_module_delete(whirl_module_t *module)
{
    if (module)
        module_release(module);
}

const wasm_export_t *module_find_export(const whirl_module_t *module, const char *name,
                                        size_t name_len)
{
    const module_impl_t *m = (const module_impl_t *)module;
    size_t lo = 0, hi = module->wasm->nexports;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const wasm_export_t *e = m->sorted_exports[mid];
        int c = name_cmp(name, name_len, e->name, e->name_len);
        if (c == 0)
            return e;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

size_t whirl_module_import_count(const whirl_module_t *module)
{
    return module ? module->wasm->nimports : 0;
}

bool whirl_module_import(const whirl_module_t *module, size_t i, whirl_import_info_t *out)
{
    if (!module || !out || i >= module->wasm->nimports)
        return false;
    const wasm_module_t *w = module->wasm;
    const wasm_import_t *imp = &w->imports[i];
    out->module = imp->module;
    out->module_len = imp->module_len;
    out->name = imp->name;
    out->name_len = imp->name_len;
    out->kind = (whirl_externkind_t)imp->kind;
    out->functype = imp->kind == WASM_EXTERN_FUNC
                        ? functype_public(&w->types[imp->desc.func_type])
                        : NULL;
    return true;
}

size_t whirl_module_export_count(const whirl_module_t *module)
{
    return module ? module->wasm->nexports : 0;
}

bool whirl_module_export(const whirl_module_t *module, size_t i, whirl_export_info_t *out)
{
    if (!module || !out || i >= module->wasm->nexports)
        return false;
    const wasm_module_t *w = module->wasm;
    const wasm_export_t *e = &w->exports[i];
    out->name = e->name;
    out->name_len = e->name_len;
    out->kind = (whirl_externkind_t)e->kind;
    out->functype = e->kind == WASM_EXTERN_FUNC
                        ? functype_public(wasm_module_func_type(w, e->index))
                        : NULL;
    return true;
}
