/* Instantiation (the spec's "instantiate" with Wasm 2.0 semantics) and
 * export lookup.
 *
 * Order matters and is observable:
 *  1. imports are matched; any mismatch is a link error and nothing exists;
 *  2. the instance is adopted by the store before anything can trap, because
 *     a trap in step 4 or 5 leaves earlier writes in place (possibly into
 *     imported tables of other instances, which then refer to this
 *     instance's functions);
 *  3. functions, tables, memories and globals are created;
 *  4. element segments then data segments initialise, in order, each
 *     bounds-checked as a whole before it writes anything;
 *  5. the start function runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/exec.h"
#include "wasm/opcodes.h"
#include "runtime/internal.h"

/* Defined functions and globals are allocated in one block each, owned by
 * the instance, rather than one store object apiece: a module may define
 * thousands of them, and they live exactly as long as the instance. */
typedef struct instance_impl {
    struct whirl_instance pub;
    whirl_func_t *func_block;
    whirl_global_t *global_block;
} instance_impl_t;

/* Names are printed with their lengths; one holding a NUL byte is cut short
 * in the message, which is acceptable for a diagnostic. */
#define NAME_FMT "module \"%.*s\" name \"%.*s\""
#define NAME_ARGS(imp) (int)(imp)->module_len, (imp)->module, (int)(imp)->name_len, (imp)->name

static const char *externkind_name(unsigned kind)
{
    switch (kind) {
    case WHIRL_EXTERN_FUNC: return "func";
    case WHIRL_EXTERN_TABLE: return "table";
    case WHIRL_EXTERN_MEMORY: return "memory";
    case WHIRL_EXTERN_GLOBAL: return "global";
    }
    return "invalid extern";
}

static void format_limits(char *buf, size_t size, uint64_t min, bool has_max, uint64_t max)
{
    if (has_max)
        snprintf(buf, size, "{min %llu, max %llu}", (unsigned long long)min,
                 (unsigned long long)max);
    else
        snprintf(buf, size, "{min %llu, no max}", (unsigned long long)min);
}

/* Import subtyping of limits: the actual object may promise more (larger
 * minimum, tighter maximum) than the import requires, never less. */
static bool limits_match(uint64_t min, bool has_max, uint64_t max, const wasm_limits_t *want)
{
    if (min < want->min)
        return false;
    if (want->has_max && (!has_max || max > want->max))
        return false;
    return true;
}

static whirl_error_t *incompatible(const wasm_import_t *imp, const char *expected,
                                   const char *got)
{
    return error_fmt("incompatible import type: " NAME_FMT ": expected %s, got %s",
                     NAME_ARGS(imp), expected, got);
}

static whirl_error_t *check_import(whirl_store_t *store, const wasm_module_t *w,
                                   const wasm_import_t *imp, const whirl_extern_t *ext)
{
    char want[300], got[300];
    if ((unsigned)ext->kind != (unsigned)imp->kind)
        return incompatible(imp, externkind_name(imp->kind), externkind_name(ext->kind));
    /* The object must exist and live in this store: code of one store must
     * never reach another store's objects. */
    const whirl_store_t *owner = NULL;
    switch (imp->kind) {
    case WASM_EXTERN_FUNC: owner = ext->of.func ? ext->of.func->store : NULL; break;
    case WASM_EXTERN_TABLE: owner = ext->of.table ? ext->of.table->store : NULL; break;
    case WASM_EXTERN_MEMORY: owner = ext->of.memory ? ext->of.memory->store : NULL; break;
    case WASM_EXTERN_GLOBAL: owner = ext->of.global ? ext->of.global->store : NULL; break;
    }
    if (!owner)
        return error_fmt("import " NAME_FMT ": the %s given is NULL", NAME_ARGS(imp),
                         externkind_name(imp->kind));
    if (owner != store)
        return error_fmt("import " NAME_FMT ": the %s given belongs to a different store",
                         NAME_ARGS(imp), externkind_name(imp->kind));

    switch (imp->kind) {
    case WASM_EXTERN_FUNC: {
        const wasm_functype_t *t = &w->types[imp->desc.func_type];
        if (functype_equal(ext->of.func->type, t))
            return NULL;
        strcpy(want, "func ");
        functype_format(t, want + 5, sizeof want - 5);
        strcpy(got, "func ");
        functype_format(ext->of.func->type, got + 5, sizeof got - 5);
        return incompatible(imp, want, got);
    }
    case WASM_EXTERN_TABLE: {
        const wasm_tabletype_t *tt = &imp->desc.table;
        const whirl_table_t *t = ext->of.table;
        if (t->elem_type == tt->elem &&
            limits_match(t->size, t->has_max, t->max, &tt->limits))
            return NULL;
        char lw[100], lg[100];
        format_limits(lw, sizeof lw, tt->limits.min, tt->limits.has_max, tt->limits.max);
        format_limits(lg, sizeof lg, t->size, t->has_max, t->max);
        snprintf(want, sizeof want, "table %s %s", lw, wasm_valtype_name(tt->elem));
        snprintf(got, sizeof got, "table %s %s", lg, wasm_valtype_name(t->elem_type));
        return incompatible(imp, want, got);
    }
    case WASM_EXTERN_MEMORY: {
        const wasm_memtype_t *mt = &imp->desc.memory;
        const whirl_memory_t *m = ext->of.memory;
        uint64_t pages = m->size / WHIRL_PAGE_SIZE;
        if (limits_match(pages, m->has_max, m->max_pages, &mt->limits))
            return NULL;
        char lw[100], lg[100];
        format_limits(lw, sizeof lw, mt->limits.min, mt->limits.has_max, mt->limits.max);
        format_limits(lg, sizeof lg, pages, m->has_max, m->max_pages);
        snprintf(want, sizeof want, "memory %s", lw);
        snprintf(got, sizeof got, "memory %s", lg);
        return incompatible(imp, want, got);
    }
    case WASM_EXTERN_GLOBAL: {
        const wasm_globaltype_t *gt = &imp->desc.global;
        const whirl_global_t *g = ext->of.global;
        if (g->type == gt->type && g->is_mutable == gt->is_mutable)
            return NULL;
        snprintf(want, sizeof want, "global %s%s", gt->is_mutable ? "mut " : "",
                 wasm_valtype_name(gt->type));
        snprintf(got, sizeof got, "global %s%s", g->is_mutable ? "mut " : "",
                 wasm_valtype_name(g->type));
        return incompatible(imp, want, got);
    }
    }
    return error_fmt("import " NAME_FMT ": invalid import kind", NAME_ARGS(imp));
}

/* ---- constant expressions ---- */

static bool is_v128_const(uint16_t op)
{
    /* SIMD is not in the opcode table yet; match v128.const (0xFD 12) by
     * encoding so this keeps working once it is. */
    return op < WASM_OP_COUNT && wasm_opinfo[op].prefix == 0xFD && wasm_opinfo[op].code == 12;
}

enum { CONST_STACK = 16 };

/* Evaluates a validated constant expression. Besides Wasm 2.0's single
 * instructions it accepts the extended-const arithmetic, which costs
 * nothing here. Errors are defensive (the validator rejects such input). */
static whirl_error_t *eval_const(const whirl_instance_t *inst, const wasm_const_expr_t *e,
                                 whirl_val_t *out)
{
    const wasm_module_t *w = inst->module->wasm;
    whirl_val_t stack[CONST_STACK];
    uint32_t sp = 0;
    for (uint32_t i = 0; i < e->count; i++) {
        const wasm_const_instr_t *in = &e->instrs[i];
        bool binary = in->op == WASM_OP_I32_ADD || in->op == WASM_OP_I32_SUB ||
                      in->op == WASM_OP_I32_MUL || in->op == WASM_OP_I64_ADD ||
                      in->op == WASM_OP_I64_SUB || in->op == WASM_OP_I64_MUL;
        if (binary) {
            if (sp < 2)
                goto bad;
            whirl_val_t *a = &stack[sp - 2], *b = &stack[sp - 1];
            sp--;
            uint32_t x32 = (uint32_t)a->of.i32, y32 = (uint32_t)b->of.i32;
            uint64_t x64 = (uint64_t)a->of.i64, y64 = (uint64_t)b->of.i64;
            switch (in->op) {
            case WASM_OP_I32_ADD: a->of.i32 = (int32_t)(x32 + y32); break;
            case WASM_OP_I32_SUB: a->of.i32 = (int32_t)(x32 - y32); break;
            case WASM_OP_I32_MUL: a->of.i32 = (int32_t)(x32 * y32); break;
            case WASM_OP_I64_ADD: a->of.i64 = (int64_t)(x64 + y64); break;
            case WASM_OP_I64_SUB: a->of.i64 = (int64_t)(x64 - y64); break;
            case WASM_OP_I64_MUL: a->of.i64 = (int64_t)(x64 * y64); break;
            }
            continue;
        }
        if (sp == CONST_STACK)
            goto bad;
        whirl_val_t *v = &stack[sp++];
        memset(v, 0, sizeof *v);
        switch (in->op) {
        case WASM_OP_I32_CONST:
            v->kind = WHIRL_I32;
            v->of.i32 = in->imm.i32;
            break;
        case WASM_OP_I64_CONST:
            v->kind = WHIRL_I64;
            v->of.i64 = in->imm.i64;
            break;
        case WASM_OP_F32_CONST:
            v->kind = WHIRL_F32;
            memcpy(&v->of.f32, &in->imm.f32_bits, 4);
            break;
        case WASM_OP_F64_CONST:
            v->kind = WHIRL_F64;
            memcpy(&v->of.f64, &in->imm.f64_bits, 8);
            break;
        case WASM_OP_REF_NULL:
            if (!wasm_is_reftype(in->imm.reftype))
                goto bad;
            v->kind = valtype_to_kind(in->imm.reftype);
            break;
        case WASM_OP_REF_FUNC:
            if (in->imm.index >= wasm_module_func_count(w) || !inst->funcs[in->imm.index])
                goto bad;
            v->kind = WHIRL_FUNCREF;
            v->of.funcref = inst->funcs[in->imm.index];
            break;
        case WASM_OP_GLOBAL_GET:
            if (in->imm.index >= wasm_module_global_count(w) || !inst->globals[in->imm.index])
                goto bad;
            global_read(inst->globals[in->imm.index], v);
            break;
        default:
            if (!is_v128_const(in->op))
                goto bad;
            v->kind = WHIRL_V128;
            memcpy(v->of.v128, in->imm.v128, 16);
            break;
        }
    }
    if (sp != 1)
        goto bad;
    *out = stack[0];
    return NULL;
bad:
    return error_fmt("constant expression at offset 0x%zx cannot be evaluated", e->offset);
}

static void *ref_of(const whirl_val_t *v)
{
    return v->kind == WHIRL_FUNCREF ? (void *)v->of.funcref : v->of.externref;
}

/* ---- instantiation steps ---- */

static whirl_error_t *init_globals(instance_impl_t *impl)
{
    whirl_instance_t *inst = &impl->pub;
    const wasm_module_t *w = inst->module->wasm;
    for (uint32_t i = 0; i < w->nglobals; i++) {
        whirl_global_t *g = &impl->global_block[i];
        whirl_val_t v;
        whirl_error_t *err = eval_const(inst, &w->global_inits[i], &v);
        if (err)
            return error_prefix(err, "global %u: ", w->nglobal_imports + i);
        if (v.kind != valtype_to_kind(w->globals[i].type))
            return error_fmt("global %u: initialiser has the wrong type",
                             w->nglobal_imports + i);
        g->store = inst->store;
        g->type = w->globals[i].type;
        g->is_mutable = w->globals[i].is_mutable;
        global_write(g, &v);
        inst->globals[w->nglobal_imports + i] = g;
    }
    return NULL;
}

static whirl_error_t *eval_offset(const whirl_instance_t *inst, const wasm_const_expr_t *e,
                                  uint32_t *out)
{
    whirl_val_t v;
    whirl_error_t *err = eval_const(inst, e, &v);
    if (err)
        return err;
    if (v.kind != WHIRL_I32)
        return error_fmt("segment offset at 0x%zx is not an i32", e->offset);
    *out = (uint32_t)v.of.i32;
    return NULL;
}

static whirl_error_t *init_elems(whirl_instance_t *inst)
{
    const wasm_module_t *w = inst->module->wasm;
    for (uint32_t i = 0; i < w->nelems; i++) {
        const wasm_elem_t *seg = &w->elems[i];
        if (seg->mode == WASM_SEGMENT_PASSIVE)
            continue;
        if (seg->mode == WASM_SEGMENT_DECLARATIVE) {
            inst->elem_dropped[i] = true;
            continue;
        }
        if (seg->table >= wasm_module_table_count(w))
            return error_fmt("element segment %u: table %u out of range", i, seg->table);
        whirl_table_t *table = inst->tables[seg->table];
        uint32_t offset = 0;
        whirl_error_t *err = eval_offset(inst, &seg->offset, &offset);
        if (err)
            return error_prefix(err, "element segment %u: ", i);
        if ((uint64_t)offset + seg->count > table->size)
            return error_trap(WHIRL_TRAP_TABLE_OUT_OF_BOUNDS,
                              "element segment %u: %u elements at offset %u do not fit in "
                              "table %u of size %u",
                              i, seg->count, offset, seg->table, table->size);
        for (uint32_t j = 0; j < seg->count; j++) {
            whirl_val_t v;
            err = eval_const(inst, &seg->items[j], &v);
            if (err)
                return error_prefix(err, "element segment %u item %u: ", i, j);
            if (v.kind != WHIRL_FUNCREF && v.kind != WHIRL_EXTERNREF)
                return error_fmt("element segment %u item %u is not a reference", i, j);
            table->elems[offset + j] = ref_of(&v);
        }
        inst->elem_dropped[i] = true;
    }
    return NULL;
}

static whirl_error_t *init_datas(whirl_instance_t *inst)
{
    const wasm_module_t *w = inst->module->wasm;
    for (uint32_t i = 0; i < w->ndatas; i++) {
        const wasm_data_t *seg = &w->datas[i];
        if (seg->mode != WASM_SEGMENT_ACTIVE)
            continue;
        if (seg->memory >= wasm_module_memory_count(w))
            return error_fmt("data segment %u: memory %u out of range", i, seg->memory);
        whirl_memory_t *mem = inst->memories[seg->memory];
        uint32_t offset = 0;
        whirl_error_t *err = eval_offset(inst, &seg->offset, &offset);
        if (err)
            return error_prefix(err, "data segment %u: ", i);
        if ((uint64_t)offset + seg->len > mem->size)
            return error_trap(WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS,
                              "data segment %u: %u bytes at offset %u do not fit in memory "
                              "%u of %llu bytes",
                              i, seg->len, offset, seg->memory,
                              (unsigned long long)mem->size);
        if (seg->len)
            memcpy(mem->base + offset, seg->bytes, seg->len);
        inst->data_dropped[i] = true;
    }
    return NULL;
}

/* Creates the defined functions, tables, memories and globals. The instance
 * is already in the store, so anything created stays owned on failure. */
static whirl_error_t *create_objects(instance_impl_t *impl)
{
    whirl_instance_t *inst = &impl->pub;
    whirl_module_t *module = inst->module;
    const wasm_module_t *w = module->wasm;
    for (uint32_t i = 0; i < w->nfuncs; i++) {
        whirl_func_t *f = &impl->func_block[i];
        uint32_t t = w->funcs[i].type;
        f->store = inst->store;
        f->kind = FUNC_WASM;
        f->type = &w->types[w->types[t].canonical];
        f->instance = inst;
        f->code = &module->code->funcs[i];
        inst->funcs[w->nfunc_imports + i] = f;
    }
    for (uint32_t i = 0; i < w->ntables; i++) {
        const wasm_tabletype_t *tt = &w->tables[i];
        whirl_error_t *err =
            table_create(inst->store, tt->elem, tt->limits.min, tt->limits.has_max,
                         tt->limits.max, NULL, &inst->tables[w->ntable_imports + i]);
        if (err)
            return error_prefix(err, "table %u: ", w->ntable_imports + i);
    }
    for (uint32_t i = 0; i < w->nmemories; i++) {
        const wasm_limits_t *l = &w->memories[i].limits;
        whirl_error_t *err = memory_create(inst->store, l->min,
                                           l->has_max ? l->max : MEMORY_MAX_PAGES, l->has_max,
                                           &inst->memories[w->nmemory_imports + i]);
        if (err)
            return error_prefix(err, "memory %u: ", w->nmemory_imports + i);
    }
    inst->memory0 = wasm_module_memory_count(w) ? inst->memories[0] : NULL;
    return init_globals(impl);
}

/* calloc that treats an empty array as success (NULL is then fine: nothing
 * ever indexes it). */
static bool alloc_array(void *out, size_t count, size_t size)
{
    void **p = out;
    *p = count ? calloc(count, size) : NULL;
    return !count || *p;
}

static void instance_free_arrays(instance_impl_t *impl)
{
    whirl_instance_t *inst = &impl->pub;
    free(inst->funcs);
    free(inst->tables);
    free(inst->memories);
    free(inst->globals);
    free(inst->elem_dropped);
    free(inst->data_dropped);
    free(impl->func_block);
    free(impl->global_block);
}

void instance_destroy(whirl_instance_t *instance)
{
    instance_impl_t *impl = (instance_impl_t *)instance;
    instance_free_arrays(impl);
    module_release(instance->module);
    free(impl);
}

whirl_error_t *whirl_instance_new(whirl_store_t *store, whirl_module_t *module,
                                  const whirl_extern_t *imports, size_t nimports,
                                  whirl_instance_t **out)
{
    if (!out)
        return error_fmt("whirl_instance_new: out is NULL");
    *out = NULL;
    if (!store || !module)
        return error_fmt("whirl_instance_new: store or module is NULL");
    if (module->engine != store->engine)
        return error_fmt("whirl_instance_new: module and store belong to different engines");
    const wasm_module_t *w = module->wasm;
    if (nimports != w->nimports)
        return error_fmt("whirl_instance_new: module has %u imports but %zu were given",
                         w->nimports, nimports);
    if (nimports && !imports)
        return error_fmt("whirl_instance_new: imports is NULL");
    for (uint32_t i = 0; i < w->nimports; i++) {
        whirl_error_t *err = check_import(store, w, &w->imports[i], &imports[i]);
        if (err)
            return err;
    }
    /* An oversized table is refused like a link error, before anything is
     * created. */
    for (uint32_t i = 0; i < w->ntables; i++)
        if (w->tables[i].limits.min > TABLE_MAX_ENTRIES)
            return error_fmt("table %u: minimum of %llu entries exceeds the implementation "
                             "limit of %u entries",
                             w->ntable_imports + i, (unsigned long long)w->tables[i].limits.min,
                             TABLE_MAX_ENTRIES);

    instance_impl_t *impl = calloc(1, sizeof *impl);
    if (!impl)
        return error_oom();
    whirl_instance_t *inst = &impl->pub;
    bool ok = alloc_array(&inst->funcs, wasm_module_func_count(w), sizeof *inst->funcs) &&
              alloc_array(&inst->tables, wasm_module_table_count(w), sizeof *inst->tables) &&
              alloc_array(&inst->memories, wasm_module_memory_count(w),
                          sizeof *inst->memories) &&
              alloc_array(&inst->globals, wasm_module_global_count(w), sizeof *inst->globals) &&
              alloc_array(&inst->elem_dropped, w->nelems, sizeof *inst->elem_dropped) &&
              alloc_array(&inst->data_dropped, w->ndatas, sizeof *inst->data_dropped) &&
              alloc_array(&impl->func_block, w->nfuncs, sizeof *impl->func_block) &&
              alloc_array(&impl->global_block, w->nglobals, sizeof *impl->global_block);
    if (!ok) {
        instance_free_arrays(impl);
        free(impl);
        return error_oom();
    }
    inst->store = store;
    inst->module = module;
    module_retain(module);
    store_adopt(store, &inst->obj, OBJ_INSTANCE);

    for (uint32_t k = 0; k < w->nfunc_imports; k++)
        inst->funcs[k] = imports[w->func_import_ids[k]].of.func;
    for (uint32_t k = 0; k < w->ntable_imports; k++)
        inst->tables[k] = imports[w->table_import_ids[k]].of.table;
    for (uint32_t k = 0; k < w->nmemory_imports; k++)
        inst->memories[k] = imports[w->memory_import_ids[k]].of.memory;
    for (uint32_t k = 0; k < w->nglobal_imports; k++)
        inst->globals[k] = imports[w->global_import_ids[k]].of.global;

    whirl_error_t *err = create_objects(impl);
    if (!err)
        err = init_elems(inst);
    if (!err)
        err = init_datas(inst);
    if (!err && w->has_start) {
        whirl_val_t none;
        err = exec_call(store, inst->funcs[w->start], &none, &none);
    }
    if (err)
        return err;
    *out = inst;
    return NULL;
}

void instance_export_extern(const whirl_instance_t *instance, const wasm_export_t *e,
                            whirl_extern_t *out)
{
    out->kind = (whirl_externkind_t)e->kind;
    switch (e->kind) {
    case WASM_EXTERN_FUNC: out->of.func = instance->funcs[e->index]; break;
    case WASM_EXTERN_TABLE: out->of.table = instance->tables[e->index]; break;
    case WASM_EXTERN_MEMORY: out->of.memory = instance->memories[e->index]; break;
    case WASM_EXTERN_GLOBAL: out->of.global = instance->globals[e->index]; break;
    }
}

bool whirl_instance_export(whirl_instance_t *instance, const char *name, size_t name_len,
                           whirl_extern_t *out)
{
    if (!instance || !out || (name_len && !name))
        return false;
    const wasm_export_t *e = module_find_export(instance->module, name ? name : "", name_len);
    if (!e)
        return false;
    whirl_extern_t ext;
    instance_export_extern(instance, e, &ext);
    /* A failed instantiation may have left an object uncreated. */
    if (!ext.of.func)
        return false;
    *out = ext;
    return true;
}
