/*
 * fuzz-validate: decode + validate any byte string.
 *
 * Besides surviving (ASan/UBSan/leaks), the decoder and validator must keep
 * the promises the later stages rely on, so this checks them: errors say
 * "malformed module: ..." (or, from validation, "invalid module: ...") and, for a module that
 * validates, every index in its imports, exports, start function and
 * segments is in range and every function has a type. A broken promise
 * aborts, which libFuzzer reports as a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/module.h"
#include "whirl.h"

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "fuzz-validate: %s:%d: check failed: %s\n", __FILE__,   \
                    __LINE__, #cond);                                               \
            abort();                                                                \
        }                                                                           \
    } while (0)

/* `prefix2` may be NULL. Function bodies are decoded by the validator, so
 * its errors may also say "malformed module". */
static void check_error(whirl_error_t *err, const char *prefix, const char *prefix2)
{
    const char *msg = whirl_error_message(err);
    CHECK(msg != NULL);
    if (strncmp(msg, prefix, strlen(prefix)) != 0 &&
        (!prefix2 || strncmp(msg, prefix2, strlen(prefix2)) != 0)) {
        fprintf(stderr, "fuzz-validate: expected an error starting with '%s', got '%s'\n",
                prefix, msg);
        abort();
    }
    CHECK(!whirl_error_is_trap(err, NULL));
    whirl_error_delete(err);
}

/* The invariants of a validated module that compile.c and instance.c use
 * without checking again. */
static void check_module(const wasm_module_t *m)
{
    uint32_t nfuncs = wasm_module_func_count(m);
    uint32_t ntables = wasm_module_table_count(m);
    uint32_t nmems = wasm_module_memory_count(m);
    uint32_t nglobals = wasm_module_global_count(m);

    uint32_t ntags = wasm_module_tag_count(m);

    CHECK(m->nfunc_imports + m->ntable_imports + m->nmemory_imports + m->nglobal_imports +
              m->ntag_imports ==
          m->nimports);
    for (uint32_t i = 0; i < nfuncs; i++)
        CHECK(wasm_module_func_type(m, i) != NULL);
    for (uint32_t i = 0; i < m->nimports; i++) {
        const wasm_import_t *imp = &m->imports[i];
        CHECK(imp->module != NULL && imp->name != NULL);
        if (imp->kind == WASM_EXTERN_FUNC)
            CHECK(imp->desc.func_type < m->ntypes);
        else if (imp->kind == WASM_EXTERN_TAG)
            CHECK(imp->desc.tag_type < m->ntypes);
        else
            CHECK(imp->kind <= WASM_EXTERN_GLOBAL);
    }
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wasm_export_t *e = &m->exports[i];
        switch (e->kind) {
        case WASM_EXTERN_FUNC: CHECK(e->index < nfuncs); break;
        case WASM_EXTERN_TABLE: CHECK(e->index < ntables); break;
        case WASM_EXTERN_MEMORY: CHECK(e->index < nmems); break;
        case WASM_EXTERN_GLOBAL: CHECK(e->index < nglobals); break;
        case WASM_EXTERN_TAG: CHECK(e->index < ntags); break;
        default: CHECK(!"export kind");
        }
        /* Export names are unique. */
        for (uint32_t j = 0; j < i; j++)
            CHECK(m->exports[j].name_len != e->name_len ||
                  memcmp(m->exports[j].name, e->name, e->name_len) != 0);
    }
    if (m->has_start) {
        CHECK(m->start < nfuncs);
        const wasm_functype_t *t = wasm_module_func_type(m, m->start);
        CHECK(t->nparams == 0 && t->nresults == 0);
    }
    for (uint32_t i = 0; i < m->nelems; i++) {
        const wasm_elem_t *e = &m->elems[i];
        CHECK(wasm_is_reftype(e->type));
        if (e->mode == WASM_SEGMENT_ACTIVE) {
            CHECK(e->table < ntables);
            /* A subtype (3.0: function indices make a `(ref func)` segment,
             * which fills a funcref table). */
            CHECK(wasm_valtype_sub(e->type, wasm_module_table_type(m, e->table)->elem));
        }
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const wasm_data_t *d = &m->datas[i];
        if (d->mode == WASM_SEGMENT_ACTIVE)
            CHECK(d->memory < nmems);
        CHECK(d->len == 0 || (d->bytes >= m->bytes && d->bytes + d->len <= m->bytes + m->len));
    }
    for (uint32_t i = 0; i < m->nfuncs; i++) {
        const wasm_func_t *f = &m->funcs[i];
        CHECK(f->type < m->ntypes);
        CHECK(f->code <= f->code_end && f->code >= m->bytes && f->code_end <= m->bytes + m->len);
    }
    for (uint32_t i = 0; i < nmems; i++) {
        const wasm_limits_t *l = &wasm_module_memory_type(m, i)->limits;
        /* memory64's page counts go up to 2^48, a 32-bit memory's to 2^16. */
        uint64_t pages = l->is64 ? UINT64_C(1) << 48 : 65536;
        CHECK(l->min <= pages && (!l->has_max || (l->max <= pages && l->min <= l->max)));
    }
    for (uint32_t i = 0; i < ntables; i++) {
        const wasm_limits_t *l = &wasm_module_table_type(m, i)->limits;
        CHECK(!l->has_max || l->min <= l->max);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wasm_module_t *m = NULL;
    whirl_error_t *err = wasm_decode(data, size, &m);
    if (err) {
        CHECK(m == NULL);
        check_error(err, "malformed module", NULL);
        return 0;
    }
    CHECK(m != NULL);
    err = wasm_validate(m);
    if (err)
        check_error(err, "invalid module", "malformed module");
    else
        check_module(m);
    wasm_module_free(m);
    return 0;
}
