/* Modules: decode, validate and compile once; share between instances and
 * threads by reference counting. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "debug/dwarf.h"
#include "exec/exec.h"
#include "runtime/internal.h"
#include "runtime/plan.h"
#include "runtime/serialize.h"
#include "wasm/opcodes.h"

/* References held by instances are counted per thread shard: every
 * instantiation takes one and every store deletion gives it back, and one
 * counter shared by threads instantiating at once would move its cache
 * line between their cores each time. Each shard's word holds the count of
 * instances that took their reference there (and give it back there) and
 * two flags: STICKY, the shard holds one of the module's `holds` (taken on
 * its first instance, kept while handles exist, so that a shard's count
 * going 0 -> 1 -> 0 with each short-lived instance touches nothing shared),
 * and DYING, set by the release of the last handle (module_release), after
 * which instances take no shard references. That release drops the holds of shards
 * with no instances left; a shard with instances left drops its hold when
 * its last instance goes (the release that takes its count from 1 to 0
 * and finds DYING set). A release touches the module after its decrement
 * only in that case, and then its shard's hold still keeps it alive. */
#define REF_STICKY ((uint64_t)1 << 62)
#define REF_DYING ((uint64_t)1 << 63)
#define REF_COUNT (REF_STICKY - 1)

typedef struct ref_shard {
    _Atomic uint64_t word;
} __attribute__((aligned(ALLOC_SHARD_ALIGN))) ref_shard_t;

/* The public module plus an index of its exports sorted by name, so that
 * export lookup is a binary search even for modules with thousands of them.
 * A module loaded from a serialised form also owns the image its code,
 * strings and segments point into (serialize.c). */
typedef struct module_impl {
    struct whirl_module pub; /* first: handles are cast to the impl */
    ref_shard_t instance_refs[ALLOC_SHARDS];
    /* What keeps the module's memory: 1 while handles exist (pub.refcount
     * counts them) and 1 per STICKY shard. */
    _Atomic uint32_t holds __attribute__((aligned(ALLOC_SHARD_ALIGN)));
    const wasm_export_t **sorted_exports;
    module_image_t image;    /* base NULL: compiled here */
    uint8_t source_hash[32]; /* cache_source_digest of the binary; zeros: not computed */
    bool from_cache;
    _Atomic(module_plan_t *) plan; /* built on first instantiation */
} module_impl_t;

static void plan_free(const wasm_module_t *w, module_plan_t *plan);

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
    debug_info_module_free(&m->pub);
    plan_free(m->pub.wasm, atomic_load_explicit(&m->plan, memory_order_acquire));
    /* Native code first: compilations in flight read the module. */
    tier_module_free(&m->pub);
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
    size_t size = alloc_round_up(sizeof(module_impl_t), ALLOC_SHARD_ALIGN);
    module_impl_t *m = aligned_alloc(ALLOC_SHARD_ALIGN, size);
    if (m)
        memset(m, 0, size);
    if (!m) {
        if (image)
            module_native_code_free(image->native);
        compiled_module_free(code);
        wasm_module_free(wasm);
        module_image_free(image);
        return error_oom();
    }
    atomic_init(&m->pub.refcount, 1);
    atomic_init(&m->holds, 1);
    m->pub.engine = engine;
    m->pub.wasm = wasm;
    m->pub.code = code;
    if (image) {
        m->image = *image;
        /* Native code comes with the image (serial_load linked it): set
         * before anything looks at the module. */
        m->pub.jit = image->native;
        m->pub.native_object = image->native_object;
        m->pub.native_object_len = image->native_object_len;
    }
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
    tier_module_ready(&m->pub);
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
    whirl_error_t *err =
        wasm_decode_features(len ? wasm : empty, len, engine_wasm_features(engine), &decoded);
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
    if ((err = compile_module_opts(decoded, optimize, &code))) {
        wasm_module_free(decoded);
        return err;
    }
    /* The compiler writes op numbers; the interpreter runs handler offsets. */
    for (uint32_t i = 0; i < code->nfuncs; i++) {
        compiled_func_t *f = &code->funcs[i];
        if (!exec_code_from_ops(f->code, f->code, f->code_len)) {
            err = error_fmt("internal error: compiled code of function %u is malformed",
                            f->func_index);
            compiled_module_free(code);
            wasm_module_free(decoded);
            return err;
        }
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
    /* tier=jit: module_assemble compiled every function (tier.c). */
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

bool module_native_from_image(const whirl_module_t *module)
{
    return ((const module_impl_t *)module)->image.native != NULL;
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
    whirl_error_t *err =
        wasm_decode_features(len ? wasm : empty, len, engine_wasm_features(engine), &w);
    if (err)
        return err;
    err = wasm_validate(w);
    wasm_module_free(w);
    return err;
}

void module_retain(whirl_module_t *module)
{
    /* From zero only through an instance's module (internal code): handles
     * exist again, and so does their hold. */
    if (atomic_fetch_add_explicit(&module->refcount, 1, memory_order_relaxed) == 0)
        atomic_fetch_add_explicit(&((module_impl_t *)module)->holds, 1, memory_order_relaxed);
}

static void drop_hold(module_impl_t *m)
{
    /* acq_rel: every holder's use of the module happens before the free. */
    if (atomic_fetch_sub_explicit(&m->holds, 1, memory_order_acq_rel) == 1)
        module_free(m);
}

void module_release(whirl_module_t *module)
{
    module_impl_t *m = (module_impl_t *)module;
    if (atomic_fetch_sub_explicit(&module->refcount, 1, memory_order_acq_rel) != 1)
        return;
    /* The last handle: no instance can be created any more. */
    for (int k = 0; k < ALLOC_SHARDS; k++) {
        _Atomic uint64_t *w = &m->instance_refs[k].word;
        uint64_t old = atomic_load_explicit(w, memory_order_acquire), want;
        bool drop;
        do {
            drop = (old & REF_STICKY) && !(old & REF_COUNT);
            want = drop ? REF_DYING : old | REF_DYING;
        } while (!atomic_compare_exchange_weak_explicit(w, &old, want, memory_order_acq_rel,
                                                        memory_order_acquire));
        if (drop)
            drop_hold(m);
    }
    drop_hold(m);
}

/* Gives back one instance reference counted in shard word `w`. */
static void shard_release(module_impl_t *m, _Atomic uint64_t *w)
{
    uint64_t old = atomic_fetch_sub_explicit(w, 1, memory_order_acq_rel);
    /* The last instance of a shard the last handle's release passed with
     * instances left: its hold is this release's to drop. */
    if ((old & REF_COUNT) == 1 && (old & REF_DYING) && (old & REF_STICKY)) {
        atomic_fetch_and_explicit(w, ~REF_STICKY, memory_order_relaxed);
        drop_hold(m);
    }
}

unsigned module_retain_instance(whirl_module_t *module)
{
    module_impl_t *m = (module_impl_t *)module;
    unsigned k = alloc_thread_shard();
    _Atomic uint64_t *w = &m->instance_refs[k].word;
    /* The caller holds a handle, so the module is alive. */
    uint64_t old = atomic_fetch_add_explicit(w, 1, memory_order_acq_rel);
    if (old & REF_DYING) {
        /* Handles came back after the last one had gone (module_retain
         * from zero): this instance takes a hold of its own rather than
         * join a shard whose hold may be on its way out. */
        atomic_fetch_add_explicit(&m->holds, 1, memory_order_relaxed);
        shard_release(m, w);
        return ALLOC_SHARDS;
    }
    if (!(old & REF_STICKY) &&
        !(atomic_fetch_or_explicit(w, REF_STICKY, memory_order_relaxed) & REF_STICKY))
        atomic_fetch_add_explicit(&m->holds, 1, memory_order_relaxed);
    return k;
}

void module_release_instance(whirl_module_t *module, unsigned shard)
{
    module_impl_t *m = (module_impl_t *)module;
    if (shard >= ALLOC_SHARDS)
        drop_hold(m);
    else
        shard_release(m, &m->instance_refs[shard].word);
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

bool whirl_module_import_memory(const whirl_module_t *module, size_t i, uint64_t *min,
                                uint64_t *max, bool *shared)
{
    if (!module || i >= module->wasm->nimports ||
        module->wasm->imports[i].kind != WASM_EXTERN_MEMORY)
        return false;
    const wasm_limits_t *l = &module->wasm->imports[i].desc.memory.limits;
    if (min)
        *min = l->min;
    if (max)
        *max = l->has_max ? l->max : WHIRL_NO_MAX;
    if (shared)
        *shared = l->shared;
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

/* ---- the instantiation plan (plan.h) ---- */

/* Plans are built once per module; a process-wide lock is enough. */
static pthread_mutex_t plan_lock = PTHREAD_MUTEX_INITIALIZER;

static void plan_free(const wasm_module_t *w, module_plan_t *plan)
{
    if (!plan)
        return;
    if (plan->tables)
        for (uint32_t i = 0; i < w->ntables; i++)
            free(plan->tables[i].funcs);
    if (plan->images)
        for (uint32_t i = 0; i < w->nmemories; i++)
            alloc_image_free(plan->images[i]);
    free(plan->tables);
    free(plan->images);
    free(plan->globals);
    free(plan->elem_dropped);
    free(plan->data_dropped);
    free(plan);
}

/* A segment offset that is a single i32.const (the common case; anything
 * reading a global depends on the imports). */
static bool const_offset(const wasm_const_expr_t *e, uint64_t *out)
{
    if (e->count != 1 || e->instrs[0].op != WASM_OP_I32_CONST)
        return false;
    *out = (uint32_t)e->instrs[0].imm.i32;
    return true;
}

/* Whether every active segment has a constant offset and fits in the
 * declared minimum of its target. */
static bool segments_static(const wasm_module_t *w)
{
    for (uint32_t i = 0; i < w->nelems; i++) {
        const wasm_elem_t *seg = &w->elems[i];
        uint64_t off;
        if (seg->mode != WASM_SEGMENT_ACTIVE)
            continue;
        if (seg->table >= wasm_module_table_count(w) || !const_offset(&seg->offset, &off) ||
            off + seg->count > wasm_module_table_type(w, seg->table)->limits.min)
            return false;
    }
    for (uint32_t i = 0; i < w->ndatas; i++) {
        const wasm_data_t *seg = &w->datas[i];
        uint64_t off;
        if (seg->mode != WASM_SEGMENT_ACTIVE)
            continue;
        if (seg->memory >= wasm_module_memory_count(w) || !const_offset(&seg->offset, &off) ||
            off + seg->len > wasm_module_memory_type(w, seg->memory)->limits.min * WHIRL_PAGE_SIZE)
            return false;
    }
    return true;
}

static void plan_globals(const wasm_module_t *w, plan_global_t *out)
{
    for (uint32_t i = 0; i < w->nglobals; i++) {
        const wasm_const_expr_t *e = &w->global_inits[i];
        plan_global_t *g = &out[i];
        g->kind = PLAN_GLOBAL_EVAL;
        if (e->count != 1)
            continue;
        const wasm_const_instr_t *in = &e->instrs[0];
        whirl_val_t v = {0};
        switch (in->op) {
        case WASM_OP_I32_CONST: v.kind = WHIRL_I32; v.of.i32 = in->imm.i32; break;
        case WASM_OP_I64_CONST: v.kind = WHIRL_I64; v.of.i64 = in->imm.i64; break;
        case WASM_OP_F32_CONST:
            v.kind = WHIRL_F32;
            memcpy(&v.of.f32, &in->imm.f32_bits, 4);
            break;
        case WASM_OP_F64_CONST:
            v.kind = WHIRL_F64;
            memcpy(&v.of.f64, &in->imm.f64_bits, 8);
            break;
        case WASM_OP_V128_CONST:
            v.kind = WHIRL_V128;
            memcpy(v.of.v128, in->imm.v128, 16);
            break;
        case WASM_OP_REF_NULL:
            if (!wasm_is_reftype(in->imm.reftype))
                continue;
            v.kind = valtype_to_kind(in->imm.reftype);
            break;
        case WASM_OP_REF_FUNC:
            if (in->imm.index >= wasm_module_func_count(w))
                continue;
            g->kind = PLAN_GLOBAL_FUNC;
            g->func = in->imm.index;
            continue;
        default:
            continue;
        }
        /* The instance checks the kind against the global's type. */
        if (v.kind != valtype_to_kind(w->globals[i].type))
            continue;
        whirl_global_t tmp = {.type = w->globals[i].type};
        global_write(&tmp, &v);
        g->value = tmp.value;
        g->kind = PLAN_GLOBAL_CONST;
    }
}

/* Entry j of an element segment as function index + 1 (0: null), or -1 if
 * it is anything else. */
static int64_t elem_item(const wasm_module_t *w, const wasm_const_expr_t *e)
{
    if (e->count != 1)
        return -1;
    if (e->instrs[0].op == WASM_OP_REF_NULL)
        return 0;
    if (e->instrs[0].op == WASM_OP_REF_FUNC && e->instrs[0].imm.index < wasm_module_func_count(w))
        return (int64_t)e->instrs[0].imm.index + 1;
    return -1;
}

/* Per defined table, its entries after the element segments, applied in
 * order; false (nothing built) if a segment targets an imported table or
 * holds other items, true with *out NULL on exhaustion. */
static bool plan_tables(const wasm_module_t *w, plan_table_t **out)
{
    *out = NULL;
    for (uint32_t i = 0; i < w->nelems; i++) {
        const wasm_elem_t *seg = &w->elems[i];
        if (seg->mode != WASM_SEGMENT_ACTIVE)
            continue;
        if (seg->table < w->ntable_imports)
            return false;
        for (uint32_t j = 0; j < seg->count; j++)
            if (elem_item(w, &seg->items[j]) < 0)
                return false;
    }
    plan_table_t *t = calloc(w->ntables ? w->ntables : 1, sizeof *t);
    if (!t)
        return true;
    for (uint32_t k = 0; k < w->ntables; k++)
        t[k].lo = UINT32_MAX;
    for (uint32_t i = 0; i < w->nelems; i++) {
        const wasm_elem_t *seg = &w->elems[i];
        uint64_t off = 0;
        if (seg->mode != WASM_SEGMENT_ACTIVE || !seg->count)
            continue;
        const_offset(&seg->offset, &off);
        plan_table_t *pt = &t[seg->table - w->ntable_imports];
        if (off < pt->lo)
            pt->lo = (uint32_t)off;
        if (off + seg->count > pt->hi)
            pt->hi = (uint32_t)(off + seg->count);
    }
    for (uint32_t k = 0; k < w->ntables; k++) {
        if (t[k].hi <= t[k].lo) {
            t[k].lo = t[k].hi = 0;
            continue;
        }
        t[k].funcs = calloc(t[k].hi - t[k].lo, sizeof *t[k].funcs);
        if (!t[k].funcs) {
            for (uint32_t m = 0; m < k; m++)
                free(t[m].funcs);
            free(t);
            return true;
        }
    }
    for (uint32_t i = 0; i < w->nelems; i++) {
        const wasm_elem_t *seg = &w->elems[i];
        uint64_t off = 0;
        if (seg->mode != WASM_SEGMENT_ACTIVE)
            continue;
        const_offset(&seg->offset, &off);
        plan_table_t *pt = &t[seg->table - w->ntable_imports];
        for (uint32_t j = 0; j < seg->count; j++)
            pt->funcs[off + j - pt->lo] = (uint32_t)elem_item(w, &seg->items[j]);
    }
    *out = t;
    return true;
}

/* The image of defined memory `mi`: its active data segments applied in
 * order to the pages they cover. NULL without data or if the kernel
 * refuses a memfd (instances then copy the segments). */
static alloc_image_t *plan_image(const wasm_module_t *w, uint32_t mi)
{
    uint32_t index = w->nmemory_imports + mi;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (uint32_t i = 0; i < w->ndatas; i++) {
        const wasm_data_t *seg = &w->datas[i];
        uint64_t off = 0;
        if (seg->mode != WASM_SEGMENT_ACTIVE || seg->memory != index || !seg->len)
            continue;
        const_offset(&seg->offset, &off);
        if (off < lo)
            lo = off;
        if (off + seg->len > hi)
            hi = off + seg->len;
    }
    if (hi == 0)
        return NULL;
    size_t page = alloc_page_size();
    lo &= ~(uint64_t)(page - 1);
    hi = alloc_round_up((size_t)hi, page);
    uint8_t *fill;
    alloc_image_t *img = alloc_image_new((size_t)lo, (size_t)(hi - lo), &fill);
    if (!img)
        return NULL;
    for (uint32_t i = 0; i < w->ndatas; i++) {
        const wasm_data_t *seg = &w->datas[i];
        uint64_t off = 0;
        if (seg->mode != WASM_SEGMENT_ACTIVE || seg->memory != index || !seg->len)
            continue;
        const_offset(&seg->offset, &off);
        memcpy(fill + (off - lo), seg->bytes, seg->len);
    }
    if (!alloc_image_seal(img)) {
        alloc_image_free(img);
        return NULL;
    }
    return img;
}

static module_plan_t *plan_build(const wasm_module_t *w)
{
    module_plan_t *plan = calloc(1, sizeof *plan);
    if (!plan)
        return NULL;
    plan->globals = calloc(w->nglobals ? w->nglobals : 1, sizeof *plan->globals);
    if (!plan->globals)
        goto oom;
    plan_globals(w, plan->globals);
    plan->static_segments = segments_static(w);
    if (!plan->static_segments)
        return plan;
    plan->elem_dropped = calloc(w->nelems ? w->nelems : 1, sizeof(bool));
    plan->data_dropped = calloc(w->ndatas ? w->ndatas : 1, sizeof(bool));
    plan->images = calloc(w->nmemories ? w->nmemories : 1, sizeof *plan->images);
    if (!plan->elem_dropped || !plan->data_dropped || !plan->images)
        goto oom;
    for (uint32_t i = 0; i < w->nelems; i++)
        plan->elem_dropped[i] = w->elems[i].mode != WASM_SEGMENT_PASSIVE;
    for (uint32_t i = 0; i < w->ndatas; i++)
        plan->data_dropped[i] = w->datas[i].mode == WASM_SEGMENT_ACTIVE;
    if (plan_tables(w, &plan->tables) && !plan->tables)
        goto oom;
    for (uint32_t i = 0; i < w->nmemories; i++)
        plan->images[i] = plan_image(w, i);
    /* Data for an imported memory, or for a memory whose image the kernel
     * refused, is copied at every instantiation. */
    plan->images_cover_data = true;
    for (uint32_t i = 0; i < w->ndatas; i++) {
        const wasm_data_t *seg = &w->datas[i];
        if (seg->mode == WASM_SEGMENT_ACTIVE && seg->len &&
            (seg->memory < w->nmemory_imports ||
             !plan->images[seg->memory - w->nmemory_imports]))
            plan->images_cover_data = false;
    }
    return plan;
oom:
    plan_free(w, plan);
    return NULL;
}

const module_plan_t *module_plan(whirl_module_t *module)
{
    module_impl_t *m = (module_impl_t *)module;
    module_plan_t *plan = atomic_load_explicit(&m->plan, memory_order_acquire);
    if (plan)
        return plan;
    pthread_mutex_lock(&plan_lock);
    plan = atomic_load_explicit(&m->plan, memory_order_relaxed);
    if (!plan) {
        plan = plan_build(module->wasm);
        atomic_store_explicit(&m->plan, plan, memory_order_release);
    }
    pthread_mutex_unlock(&plan_lock);
    return plan;
}
