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

#include "alloc/alloc.h"
#include "exec/exec.h"
#include "wasm/opcodes.h"
#include "runtime/internal.h"
#include "runtime/plan.h"

/* An instance's state is one block: this struct, the index-space arrays,
 * the dropped-segment flags, and the defined functions and globals (not one
 * store object apiece: a module may define thousands of them, and they
 * live exactly as long as the instance). The block is malloc'd, or with
 * pooling a slot of the pool, which it then fills from the start. */
typedef struct instance_impl {
    struct whirl_instance pub;
    whirl_func_t *func_block;
    whirl_global_t *global_block;
    size_t state_bytes;
    bool pooled;
    uint32_t pool_slot;
    unsigned module_ref; /* the shard of its reference to the module */
} instance_impl_t;

/* Where each part of the state block goes. */
typedef struct state_layout {
    size_t funcs, tables, memories, globals, tags, elem_dropped, data_dropped;
    size_t func_block, global_block, total;
} state_layout_t;

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
    case WHIRL_EXTERN_TAG: return "tag";
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
    case WASM_EXTERN_TAG: owner = ext->of.tag ? ext->of.tag->store : NULL; break;
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
        if (wasm_valtype_match(t->elem_type, t->types, tt->elem, w->types) &&
            wasm_valtype_match(tt->elem, w->types, t->elem_type, t->types) &&
            limits_match(t->size, t->has_max, t->max, &tt->limits) && t->is64 == tt->limits.is64)
            return NULL;
        if (t->is64 != tt->limits.is64) {
            snprintf(want, sizeof want, "a %s table", tt->limits.is64 ? "64-bit" : "32-bit");
            snprintf(got, sizeof got, "a %s table", t->is64 ? "64-bit" : "32-bit");
            return incompatible(imp, want, got);
        }
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
        uint64_t max = m->is64 && m->has_max ? m->declared_max : m->max_pages;
        if (m->is64 == mt->limits.is64 && m->shared == mt->limits.shared &&
            limits_match(pages, m->has_max, max, &mt->limits))
            return NULL;
        if (m->shared != mt->limits.shared) {
            snprintf(want, sizeof want, "a %s memory", mt->limits.shared ? "shared" : "unshared");
            snprintf(got, sizeof got, "a %s memory", m->shared ? "shared" : "unshared");
            return incompatible(imp, want, got);
        }
        if (m->is64 != mt->limits.is64) {
            snprintf(want, sizeof want, "a %s memory", mt->limits.is64 ? "64-bit" : "32-bit");
            snprintf(got, sizeof got, "a %s memory", m->is64 ? "64-bit" : "32-bit");
            return incompatible(imp, want, got);
        }
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
        /* An immutable global may be of a subtype; a mutable one's type is
         * exact (typed function references). */
        if (g->is_mutable == gt->is_mutable &&
            wasm_valtype_match(g->type, g->types, gt->type, w->types) &&
            (!g->is_mutable || wasm_valtype_match(gt->type, w->types, g->type, g->types)))
            return NULL;
        snprintf(want, sizeof want, "global %s%s", gt->is_mutable ? "mut " : "",
                 wasm_valtype_name(gt->type));
        snprintf(got, sizeof got, "global %s%s", g->is_mutable ? "mut " : "",
                 wasm_valtype_name(g->type));
        return incompatible(imp, want, got);
    }
    case WASM_EXTERN_TAG: {
        const wasm_functype_t *t = &w->types[imp->desc.tag_type];
        if (functype_equal(ext->of.tag->type, t))
            return NULL;
        strcpy(want, "tag ");
        functype_format(t, want + 4, sizeof want - 4);
        strcpy(got, "tag ");
        functype_format(ext->of.tag->type, got + 4, sizeof got - 4);
        return incompatible(imp, want, got);
    }
    }
    return error_fmt("import " NAME_FMT ": invalid import kind", NAME_ARGS(imp));
}

/* ---- constant expressions ---- */

enum { CONST_STACK = 16 };

/* Evaluates a validated constant expression. Besides Wasm 2.0's single
 * instructions it accepts the extended-const arithmetic, which costs
 * nothing here. Errors are defensive (the validator rejects such input). */
static whirl_error_t *eval_const(const whirl_instance_t *inst, const wasm_const_expr_t *e,
                                 whirl_val_t *out)
{
    const wasm_module_t *w = inst->module->wasm;
    whirl_val_t small[CONST_STACK];
    /* Never deeper than the instruction count. */
    whirl_val_t *stack = e->count <= CONST_STACK ? small : malloc(e->count * sizeof *stack);
    if (!stack)
        return error_oom();
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
            if (in->imm.index >= wasm_module_func_count(w) || !inst->vm.funcs[in->imm.index])
                goto bad;
            v->kind = WHIRL_FUNCREF;
            v->of.funcref = inst->vm.funcs[in->imm.index];
            break;
        case WASM_OP_GLOBAL_GET:
            if (in->imm.index >= wasm_module_global_count(w) || !inst->vm.globals[in->imm.index])
                goto bad;
            global_read(inst->vm.globals[in->imm.index], v);
            break;
        case WASM_OP_V128_CONST:
            v->kind = WHIRL_V128;
            memcpy(v->of.v128, in->imm.v128, 16);
            break;
        default:
            goto bad;
        }
    }
    if (sp != 1)
        goto bad;
    *out = stack[0];
    if (stack != small)
        free(stack);
    return NULL;
bad:
    if (stack != small)
        free(stack);
    return error_fmt("constant expression at offset 0x%zx cannot be evaluated", e->offset);
}

static void *ref_of(const whirl_val_t *v)
{
    return v->kind == WHIRL_FUNCREF ? (void *)v->of.funcref : v->of.externref;
}

/* ---- instantiation steps ---- */

static whirl_error_t *init_globals(instance_impl_t *impl, const module_plan_t *plan)
{
    whirl_instance_t *inst = &impl->pub;
    const wasm_module_t *w = inst->module->wasm;
    for (uint32_t i = 0; i < w->nglobals; i++) {
        whirl_global_t *g = &impl->global_block[i];
        g->store = inst->store;
        g->type = w->globals[i].type;
        g->types = w->types;
        g->is_mutable = w->globals[i].is_mutable;
        const plan_global_t *pg = plan ? &plan->globals[i] : NULL;
        if (pg && pg->kind == PLAN_GLOBAL_CONST) {
            g->value = pg->value;
        } else {
            whirl_val_t v = {.kind = WHIRL_FUNCREF};
            whirl_error_t *err = NULL;
            if (pg && pg->kind == PLAN_GLOBAL_FUNC)
                v.of.funcref = inst->vm.funcs[pg->func];
            else
                err = eval_const(inst, &w->global_inits[i], &v);
            if (err)
                return error_prefix(err, "global %u: ", w->nglobal_imports + i);
            if (v.kind != valtype_to_kind(w->globals[i].type))
                return error_fmt("global %u: initialiser has the wrong type",
                                 w->nglobal_imports + i);
            global_write(g, &v);
        }
        inst->vm.globals[w->nglobal_imports + i] = g;
    }
    return NULL;
}

/* A segment's offset: i32, or i64 for a 64-bit memory or table (beyond
 * 2^32 - 1 it is past the end of any: a trap of code `oob`). */
static whirl_error_t *eval_offset(const whirl_instance_t *inst, const wasm_const_expr_t *e,
                                  whirl_trap_code_t oob, uint32_t *out)
{
    whirl_val_t v;
    whirl_error_t *err = eval_const(inst, e, &v);
    if (err)
        return err;
    if (v.kind == WHIRL_I64) { /* a 64-bit memory's segment (memory64) */
        if ((uint64_t)v.of.i64 > UINT32_MAX)
            return error_trap(oob, "segment offset %llu is past the end",
                              (unsigned long long)v.of.i64);
        *out = (uint32_t)v.of.i64;
        return NULL;
    }
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
        whirl_table_t *table = inst->vm.tables[seg->table];
        uint32_t offset = 0;
        whirl_error_t *err =
            eval_offset(inst, &seg->offset, WHIRL_TRAP_TABLE_OUT_OF_BOUNDS, &offset);
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

/* `imaged`: per defined memory, whether it started as its image, which
 * holds its segments already (NULL: none did). */
static whirl_error_t *init_datas(whirl_instance_t *inst, const bool *imaged)
{
    const wasm_module_t *w = inst->module->wasm;
    for (uint32_t i = 0; i < w->ndatas; i++) {
        const wasm_data_t *seg = &w->datas[i];
        if (seg->mode != WASM_SEGMENT_ACTIVE)
            continue;
        if (seg->memory >= wasm_module_memory_count(w))
            return error_fmt("data segment %u: memory %u out of range", i, seg->memory);
        if (imaged && seg->memory >= w->nmemory_imports &&
            imaged[seg->memory - w->nmemory_imports]) {
            inst->data_dropped[i] = true;
            continue;
        }
        whirl_memory_t *mem = inst->vm.memories[seg->memory];
        uint32_t offset = 0;
        whirl_error_t *err =
            eval_offset(inst, &seg->offset, WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS, &offset);
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

/* Initialisation when the plan shows it cannot trap: tables filled from
 * the plan's entries (or their segments evaluated), data copied only into
 * memories that did not start as their image, the dropped flags set. */
static whirl_error_t *init_static(whirl_instance_t *inst, const module_plan_t *plan,
                                  const bool *imaged)
{
    const wasm_module_t *w = inst->module->wasm;
    whirl_error_t *err = NULL;
    if (plan->tables) {
        for (uint32_t k = 0; k < w->ntables; k++) {
            const plan_table_t *pt = &plan->tables[k];
            whirl_table_t *t = inst->vm.tables[w->ntable_imports + k];
            /* segments_static checked hi against the table's minimum */
            for (uint32_t j = pt->lo; j < pt->hi; j++) {
                uint32_t f = pt->funcs[j - pt->lo];
                t->elems[j] = f ? inst->vm.funcs[f - 1] : NULL;
            }
        }
    } else if ((err = init_elems(inst))) {
        return err;
    }
    /* Memories that did not start as their image (a pool slot's mapping
     * failed, say) get their segments copied. */
    bool copied = !plan->images_cover_data;
    for (uint32_t k = 0; k < w->nmemories && !copied; k++)
        copied = plan->images[k] && !(imaged && imaged[k]);
    if (copied && (err = init_datas(inst, imaged)))
        return err;
    if (w->nelems)
        memcpy(inst->elem_dropped, plan->elem_dropped, w->nelems);
    if (w->ndatas)
        memcpy(inst->data_dropped, plan->data_dropped, w->ndatas);
    return NULL;
}

/* Pool slots taken for one instantiation before anything is created, so
 * that running out is an error that leaves nothing behind; and which
 * memories started as their image. */
typedef struct inst_slots {
    int64_t *memories; /* per defined memory: slot, or -1 for on demand */
    int64_t *tables;   /* per defined table */
    bool *imaged;      /* per defined memory */
    int64_t small[8];
    bool small_imaged[8];
} inst_slots_t;

/* Creates the defined functions, tables, memories and globals. The instance
 * is already in the store, so anything created stays owned on failure;
 * slots not handed to a memory or table go back to the pool. */
static whirl_error_t *create_objects(instance_impl_t *impl, inst_slots_t *slots,
                                     const module_plan_t *plan)
{
    whirl_instance_t *inst = &impl->pub;
    whirl_module_t *module = inst->module;
    const wasm_module_t *w = module->wasm;
    pool_t *pool = inst->store->engine->pool;
    whirl_error_t *err = NULL;
    for (uint32_t i = 0; i < w->nfuncs; i++) {
        whirl_func_t *f = &impl->func_block[i];
        uint32_t t = w->funcs[i].type;
        f->store = inst->store;
        f->kind = FUNC_WASM;
        f->type = &w->types[w->types[t].canonical];
        f->instance = inst;
        f->code = &module->code->funcs[i];
        inst->vm.funcs[w->nfunc_imports + i] = f;
    }
    uint32_t ti = 0, mi = 0;
    for (; ti < w->ntables && !err; ti++) {
        const wasm_tabletype_t *tt = &w->tables[ti];
        /* Typed function references: a table's initialiser (imported
         * globals and functions only, both in place by now). */
        whirl_val_t init = {.kind = WHIRL_FUNCREF};
        if (tt->has_init)
            err = eval_const(inst, tt->init, &init);
        if (!err)
            err = table_create(inst->store, tt->elem, tt->limits.min, tt->limits.has_max,
                               tt->limits.max, ref_of(&init), slots->tables[ti],
                               &inst->vm.tables[w->ntable_imports + ti]);
        if (!err) {
            inst->vm.tables[w->ntable_imports + ti]->types = w->types;
            inst->vm.tables[w->ntable_imports + ti]->is64 = tt->limits.is64;
        }
        if (err) {
            err = error_prefix(err, "table %u: ", w->ntable_imports + ti);
            break;
        }
    }
    for (; mi < w->nmemories && !err; mi++) {
        const wasm_limits_t *l = &w->memories[mi].limits;
        const alloc_image_t *image = plan && plan->images ? plan->images[mi] : NULL;
        /* A 64-bit memory may declare more than whirl gives any memory
         * (4 GiB): growth stops there, as memory.grow may. */
        uint64_t max = l->has_max && l->max < MEMORY_MAX_PAGES ? l->max : MEMORY_MAX_PAGES;
        err = memory_create_from(inst->store, l->min, max,
                                 l->has_max, slots->memories[mi], image, &slots->imaged[mi],
                                 &inst->vm.memories[w->nmemory_imports + mi]);
        if (!err) {
            inst->vm.memories[w->nmemory_imports + mi]->is64 = l->is64;
            inst->vm.memories[w->nmemory_imports + mi]->declared_max = l->max;
            if (l->shared)
                err = memory_make_shared(inst->vm.memories[w->nmemory_imports + mi]);
        }
        if (err) {
            err = error_prefix(err, "memory %u: ", w->nmemory_imports + mi);
            break;
        }
    }
    if (err) {
        for (; ti < w->ntables; ti++)
            if (slots->tables[ti] >= 0)
                pool_release(pool, POOL_TABLE, (uint32_t)slots->tables[ti], 0);
        for (; mi < w->nmemories; mi++)
            if (slots->memories[mi] >= 0)
                pool_release(pool, POOL_MEMORY, (uint32_t)slots->memories[mi], 0);
        return err;
    }
    inst->vm.memory0 = wasm_module_memory_count(w) ? inst->vm.memories[0] : NULL;
    inst->vm.memory0_base = inst->vm.memory0 ? inst->vm.memory0->base : NULL;
    return init_globals(impl, plan);
}

static size_t layout_add(size_t *at, size_t count, size_t size)
{
    /* 16: the strictest alignment of anything in the block. */
    size_t here = (*at + 15) & ~(size_t)15;
    *at = here + count * size;
    return here;
}

static void state_layout(const wasm_module_t *w, state_layout_t *l)
{
    size_t at = sizeof(instance_impl_t);
    l->funcs = layout_add(&at, wasm_module_func_count(w), sizeof(whirl_func_t *));
    l->tables = layout_add(&at, wasm_module_table_count(w), sizeof(whirl_table_t *));
    l->memories = layout_add(&at, wasm_module_memory_count(w), sizeof(whirl_memory_t *));
    l->globals = layout_add(&at, wasm_module_global_count(w), sizeof(whirl_global_t *));
    l->tags = layout_add(&at, wasm_module_tag_count(w), sizeof(whirl_tag_t *));
    l->elem_dropped = layout_add(&at, w->nelems, sizeof(bool));
    l->data_dropped = layout_add(&at, w->ndatas, sizeof(bool));
    l->func_block = layout_add(&at, w->nfuncs, sizeof(whirl_func_t));
    l->global_block = layout_add(&at, w->nglobals, sizeof(whirl_global_t));
    l->total = at;
}

/* Carves the zeroed block into the instance's arrays. */
static instance_impl_t *state_place(uint8_t *block, const state_layout_t *l)
{
    instance_impl_t *impl = (instance_impl_t *)block;
    whirl_instance_t *inst = &impl->pub;
    inst->vm.funcs = (whirl_func_t **)(block + l->funcs);
    inst->vm.tables = (whirl_table_t **)(block + l->tables);
    inst->vm.memories = (whirl_memory_t **)(block + l->memories);
    inst->vm.globals = (whirl_global_t **)(block + l->globals);
    inst->tags = (whirl_tag_t **)(block + l->tags);
    inst->elem_dropped = (bool *)(block + l->elem_dropped);
    inst->data_dropped = (bool *)(block + l->data_dropped);
    impl->func_block = (whirl_func_t *)(block + l->func_block);
    impl->global_block = (whirl_global_t *)(block + l->global_block);
    impl->state_bytes = l->total;
    return impl;
}

void instance_destroy(whirl_instance_t *instance)
{
    instance_impl_t *impl = (instance_impl_t *)instance;
    whirl_module_t *module = instance->module;
    unsigned ref = impl->module_ref;
    if (impl->pooled)
        pool_release(instance->store->engine->pool, POOL_INSTANCE, impl->pool_slot,
                     impl->state_bytes);
    else
        free(impl);
    module_release_instance(module, ref);
}

/* Limits that do not depend on pooling: the store's (memory bytes, table
 * entries) and the engine's max_memory_size. */
static whirl_error_t *check_store_limits(const whirl_store_t *store, const wasm_module_t *w)
{
    for (uint32_t i = 0; i < w->ntables; i++) {
        whirl_error_t *err = table_check_limits(store, w->tables[i].limits.min,
                                                store->engine->pool != NULL);
        if (err)
            return error_prefix(err, "table %u: ", w->ntable_imports + i);
    }
    uint64_t already = 0;
    for (uint32_t i = 0; i < w->nmemories; i++) {
        uint64_t pages = w->memories[i].limits.min;
        whirl_error_t *err = memory_check_limits(store, pages, already);
        if (err)
            return error_prefix(err, "memory %u: ", w->nmemory_imports + i);
        already += pages * WHIRL_PAGE_SIZE;
    }
    return NULL;
}

#define POOL_LIMIT_FMT "the pooling allocator's %s limit of %llu (WHIRL_%s)"

/* The pooling allocator's per-module and per-store limits. */
static whirl_error_t *check_pool_limits(const whirl_store_t *store, const wasm_module_t *w,
                                        size_t state_bytes)
{
    const whirl_engine_t *e = store->engine;
    const struct store_hosting *h = &store->hosting;
#define KNOB(k) (unsigned long long)ENGINE_KNOB(e, k)
    if (w->nmemories > ENGINE_KNOB(e, WHIRL_POOL_MAX_MEMORIES_PER_MODULE))
        return error_fmt("module defines %u memories, more than " POOL_LIMIT_FMT, w->nmemories,
                         "max_memories_per_module", KNOB(WHIRL_POOL_MAX_MEMORIES_PER_MODULE),
                         "MAX_MEMORIES_PER_MODULE");
    if (w->ntables > ENGINE_KNOB(e, WHIRL_POOL_MAX_TABLES_PER_MODULE))
        return error_fmt("module defines %u tables, more than " POOL_LIMIT_FMT, w->ntables,
                         "max_tables_per_module", KNOB(WHIRL_POOL_MAX_TABLES_PER_MODULE),
                         "MAX_TABLES_PER_MODULE");
    if (state_bytes > ENGINE_KNOB(e, WHIRL_POOL_CORE_INSTANCE_SIZE))
        return error_fmt("instance state of %zu bytes exceeds " POOL_LIMIT_FMT, state_bytes,
                         "core_instance_size", KNOB(WHIRL_POOL_CORE_INSTANCE_SIZE),
                         "CORE_INSTANCE_SIZE");
    if (h->core_instances + 1ull > ENGINE_KNOB(e, WHIRL_POOL_CORE_INSTANCE_COUNT))
        return error_fmt("store holds %u instances already, " POOL_LIMIT_FMT,
                         h->core_instances, "core_instance_count",
                         KNOB(WHIRL_POOL_CORE_INSTANCE_COUNT), "CORE_INSTANCE_COUNT");
    if (h->memories + (uint64_t)w->nmemories > ENGINE_KNOB(e, WHIRL_POOL_INSTANCE_MEMORIES))
        return error_fmt("store would hold %llu memories, more than " POOL_LIMIT_FMT,
                         (unsigned long long)h->memories + w->nmemories, "instance_memories",
                         KNOB(WHIRL_POOL_INSTANCE_MEMORIES), "INSTANCE_MEMORIES");
    if (h->tables + (uint64_t)w->ntables > ENGINE_KNOB(e, WHIRL_POOL_INSTANCE_TABLES))
        return error_fmt("store would hold %llu tables, more than " POOL_LIMIT_FMT,
                         (unsigned long long)h->tables + w->ntables, "instance_tables",
                         KNOB(WHIRL_POOL_INSTANCE_TABLES), "INSTANCE_TABLES");
    if (h->instance_bytes + state_bytes > ENGINE_KNOB(e, WHIRL_POOL_INSTANCE_SIZE))
        return error_fmt("store would hold %llu bytes of instance state, more than "
                         POOL_LIMIT_FMT,
                         (unsigned long long)(h->instance_bytes + state_bytes), "instance_size",
                         KNOB(WHIRL_POOL_INSTANCE_SIZE), "INSTANCE_SIZE");
#undef KNOB
    return NULL;
}

static const char *const slot_knob[POOL_KIND_COUNT][2] = {
    [POOL_MEMORY] = {"total_memories", "TOTAL_MEMORIES"},
    [POOL_TABLE] = {"total_tables", "TOTAL_TABLES"},
    [POOL_STACK] = {"total_stacks", "TOTAL_STACKS"},
    [POOL_INSTANCE] = {"total_core_instances", "TOTAL_CORE_INSTANCES"},
};
static const char *const slot_name[POOL_KIND_COUNT] = {
    [POOL_MEMORY] = "linear memory", [POOL_TABLE] = "table",
    [POOL_STACK] = "stack", [POOL_INSTANCE] = "instance",
};

static whirl_error_t *exhausted(const pool_t *pool, pool_kind_t kind)
{
    return error_mark_exhausted(
        error_fmt("pooling allocator: all %u %s slots are in use (%s limit, WHIRL_%s)",
                  pool_total(pool, kind), slot_name[kind], slot_knob[kind][0],
                  slot_knob[kind][1]));
}

/* Takes `n` slots of `kind` into `out`, all or none. */
static whirl_error_t *take_slots(pool_t *pool, pool_kind_t kind, uint32_t n, int64_t *out)
{
    for (uint32_t i = 0; i < n; i++) {
        out[i] = pool_take(pool, kind);
        if (out[i] < 0) {
            while (i--)
                pool_release(pool, kind, (uint32_t)out[i], 0);
            return exhausted(pool, kind);
        }
    }
    return NULL;
}

static void slots_free(inst_slots_t *s)
{
    if (s->memories != s->small) {
        free(s->memories);
        free(s->imaged);
    }
}

/* Allocates the state block and the slots of every defined memory and
 * table: from the pool if the engine has one (after checking its limits),
 * else the block from malloc and every slot -1. */
static whirl_error_t *allocate(whirl_store_t *store, const wasm_module_t *w,
                               const state_layout_t *layout, instance_impl_t **impl_out,
                               inst_slots_t *slots)
{
    size_t n = (size_t)w->nmemories + w->ntables;
    slots->memories = slots->small;
    slots->imaged = slots->small_imaged;
    memset(slots->small_imaged, 0, sizeof slots->small_imaged);
    if (n > 8) {
        slots->memories = malloc(n * sizeof(int64_t));
        slots->imaged = calloc(w->nmemories ? w->nmemories : 1, sizeof(bool));
        if (!slots->memories || !slots->imaged) {
            free(slots->memories);
            free(slots->imaged);
            return error_oom();
        }
    }
    slots->tables = slots->memories + w->nmemories;
    pool_t *pool = store->engine->pool;
    if (!pool) {
        for (size_t i = 0; i < n; i++)
            slots->memories[i] = -1;
        uint8_t *block = calloc(1, layout->total);
        if (!block) {
            slots_free(slots);
            return error_oom();
        }
        *impl_out = state_place(block, layout);
        return NULL;
    }
    whirl_error_t *err = check_pool_limits(store, w, layout->total);
    if (!err)
        err = store_pool_enter(store);
    int64_t inst_slot = -1;
    if (!err && (inst_slot = pool_take(pool, POOL_INSTANCE)) < 0)
        err = exhausted(pool, POOL_INSTANCE);
    if (!err && (err = take_slots(pool, POOL_MEMORY, w->nmemories, slots->memories)))
        pool_release(pool, POOL_INSTANCE, (uint32_t)inst_slot, 0);
    if (!err && (err = take_slots(pool, POOL_TABLE, w->ntables, slots->tables))) {
        for (uint32_t i = 0; i < w->nmemories; i++)
            pool_release(pool, POOL_MEMORY, (uint32_t)slots->memories[i], 0);
        pool_release(pool, POOL_INSTANCE, (uint32_t)inst_slot, 0);
    }
    if (err) {
        slots_free(slots);
        return err;
    }
    instance_impl_t *impl =
        state_place(pool_slot_base(pool, POOL_INSTANCE, (uint32_t)inst_slot), layout);
    impl->pooled = true;
    impl->pool_slot = (uint32_t)inst_slot;
    struct store_hosting *h = &store->hosting;
    h->core_instances++;
    h->memories += w->nmemories;
    h->tables += w->ntables;
    h->instance_bytes += layout->total;
    *impl_out = impl;
    return NULL;
}

whirl_error_t *instance_create(whirl_store_t *store, whirl_module_t *module,
                               const whirl_extern_t *imports, whirl_instance_t **out)
{
    const wasm_module_t *w = module->wasm;
    /* Limits are refused like link errors, before anything is created. */
    whirl_error_t *err = check_store_limits(store, w);
    if (err)
        return err;
    const module_plan_t *plan = module_plan(module);
    state_layout_t layout;
    state_layout(w, &layout);
    instance_impl_t *impl = NULL;
    inst_slots_t slots;
    if ((err = allocate(store, w, &layout, &impl, &slots)))
        return err;
    whirl_instance_t *inst = &impl->pub;
    inst->store = store;
    inst->module = module;
    vmctx_t *vm = &inst->vm;
    vm->epoch = &store->engine->epoch;
    vm->epoch_deadline = &store->epoch_deadline;
    vm->limits = &store->hosting;
    vm->types = w->types;
    vm->code = module->code->funcs;
    vm->instance = inst;
    vm->store = store;
    impl->module_ref = module_retain_instance(module);
    store_adopt(store, &inst->obj, OBJ_INSTANCE);

    for (uint32_t k = 0; k < w->nfunc_imports; k++)
        inst->vm.funcs[k] = imports[w->func_import_ids[k]].of.func;
    for (uint32_t k = 0; k < w->ntable_imports; k++)
        inst->vm.tables[k] = imports[w->table_import_ids[k]].of.table;
    for (uint32_t k = 0; k < w->nmemory_imports; k++)
        inst->vm.memories[k] = imports[w->memory_import_ids[k]].of.memory;
    for (uint32_t k = 0; k < w->nglobal_imports; k++)
        inst->vm.globals[k] = imports[w->global_import_ids[k]].of.global;
    for (uint32_t k = 0; k < w->ntag_imports; k++)
        inst->tags[k] = imports[w->tag_import_ids[k]].of.tag;
    for (uint32_t k = 0; k < w->ntags; k++) {
        inst->tags[w->ntag_imports + k] = tag_create(store, &w->types[w->tags[k]]);
        if (!inst->tags[w->ntag_imports + k])
            return error_oom();
    }

    err = create_objects(impl, &slots, plan);
    if (!err && plan && plan->static_segments) {
        err = init_static(inst, plan, slots.imaged);
    } else if (!err) {
        err = init_elems(inst);
        if (!err)
            err = init_datas(inst, slots.imaged);
    }
    slots_free(&slots);
    if (!err && w->has_start) {
        whirl_val_t none;
        err = exec_call(store, inst->vm.funcs[w->start], &none, &none);
    }
    if (err)
        return err;
    *out = inst;
    return NULL;
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
    return instance_create(store, module, imports, out);
}

void instance_export_extern(const whirl_instance_t *instance, const wasm_export_t *e,
                            whirl_extern_t *out)
{
    out->kind = (whirl_externkind_t)e->kind;
    switch (e->kind) {
    case WASM_EXTERN_FUNC: out->of.func = instance->vm.funcs[e->index]; break;
    case WASM_EXTERN_TABLE: out->of.table = instance->vm.tables[e->index]; break;
    case WASM_EXTERN_MEMORY: out->of.memory = instance->vm.memories[e->index]; break;
    case WASM_EXTERN_GLOBAL: out->of.global = instance->vm.globals[e->index]; break;
    case WASM_EXTERN_TAG: out->of.tag = instance->tags[e->index]; break;
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
