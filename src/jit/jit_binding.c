/* The binding of compiled code to an instance (see jit_binding.h): the IR
 * that reads the context, and the runtime functions generated code calls.
 * This file is the only one that changes when the runtime's flat
 * per-instance context replaces jit_ctx_t. */
#define _GNU_SOURCE
#include "jit/jit_binding.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "exec/exec.h"
#include "jit/jit.h"
#include "util/error.h"

/* ================================================================ IR */

/* Runtime functions (the rt_* below): symbol name and signature (result ':' params; v void, i i32,
 * p pointer). */
static const struct {
    const char *name;
    const char *sig;
} runtime_sigs[JB_RT_COUNT] = {
    [JB_RT_TRAP] = {"whirl_jit_trap", "v:piii"},
    [JB_RT_CALL] = {"whirl_jit_call", "v:pip"},
    [JB_RT_INDIRECT] = {"whirl_jit_indirect", "p:piiiii"},
    [JB_RT_CALL_INDIRECT] = {"whirl_jit_call_indirect", "v:piip"},
    [JB_RT_MEMORY_GROW] = {"whirl_jit_memory_grow", "i:pi"},
    [JB_RT_MEMORY_FILL] = {"whirl_jit_memory_fill", "v:piiiii"},
    [JB_RT_MEMORY_COPY] = {"whirl_jit_memory_copy", "v:piiiii"},
    [JB_RT_MEMORY_INIT] = {"whirl_jit_memory_init", "v:piiiiii"},
    [JB_RT_DATA_DROP] = {"whirl_jit_data_drop", "v:pi"},
    [JB_RT_TABLE_GET] = {"whirl_jit_table_get", "p:piiii"},
    [JB_RT_TABLE_SET] = {"whirl_jit_table_set", "v:piipii"},
    [JB_RT_TABLE_SIZE] = {"whirl_jit_table_size", "i:pi"},
    [JB_RT_TABLE_GROW] = {"whirl_jit_table_grow", "i:pipi"},
    [JB_RT_TABLE_FILL] = {"whirl_jit_table_fill", "v:piipiii"},
    [JB_RT_TABLE_COPY] = {"whirl_jit_table_copy", "v:piiiiiii"},
    [JB_RT_TABLE_INIT] = {"whirl_jit_table_init", "v:piiiiiii"},
    [JB_RT_ELEM_DROP] = {"whirl_jit_elem_drop", "v:pi"},
};

_Static_assert(JB_RT_COUNT <= sizeof ((jt_module_t *)0)->rt / sizeof(LLVMValueRef),
               "jt_module_t.rt holds every runtime function");

static LLVMTypeRef sig_type(jt_module_t *jm, char c)
{
    return c == 'i' ? jm->i32 : c == 'p' ? jm->ptr : jm->void_t;
}

void jb_declare_runtime(jt_module_t *jm)
{
    unsigned noreturn = LLVMGetEnumAttributeKindForName("noreturn", 8);
    unsigned cold = LLVMGetEnumAttributeKindForName("cold", 4);
    unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
    for (int i = 0; i < JB_RT_COUNT; i++) {
        const char *sig = runtime_sigs[i].sig;
        LLVMTypeRef params[12];
        unsigned n = 0;
        for (const char *p = sig + 2; *p; p++)
            params[n++] = sig_type(jm, *p);
        jm->rt_types[i] = LLVMFunctionType(sig_type(jm, sig[0]), params, n, false);
        jm->rt[i] = LLVMAddFunction(jm->mod, runtime_sigs[i].name, jm->rt_types[i]);
        LLVMAddAttributeAtIndex(jm->rt[i], LLVMAttributeFunctionIndex,
                                LLVMCreateEnumAttribute(jm->llctx, nounwind, 0));
        if (i == JB_RT_TRAP) {
            LLVMAddAttributeAtIndex(jm->rt[i], LLVMAttributeFunctionIndex,
                                    LLVMCreateEnumAttribute(jm->llctx, noreturn, 0));
            LLVMAddAttributeAtIndex(jm->rt[i], LLVMAttributeFunctionIndex,
                                    LLVMCreateEnumAttribute(jm->llctx, cold, 0));
        }
    }
}

const char *jb_runtime_name(int i) { return runtime_sigs[i].name; }

LLVMValueRef jb_call(jt_func_t *f, enum jb_runtime rt, LLVMValueRef *args, unsigned nargs)
{
    return LLVMBuildCall2(f->b, f->jm->rt_types[rt], f->jm->rt[rt], args, nargs, "");
}

LLVMValueRef jb_site_func(jt_func_t *f) { return jt_const_i32(f, f->func_index); }
LLVMValueRef jb_site_offset(jt_func_t *f) { return jt_const_i32(f, f->op_offset); }

void jb_trap_at(jt_func_t *f, int code, LLVMValueRef offset)
{
    LLVMValueRef args[] = {f->ctx, jt_const_i32(f, (uint32_t)code), jb_site_func(f), offset};
    jb_call(f, JB_RT_TRAP, args, 4);
    LLVMBuildUnreachable(f->b);
}

void jb_trap(jt_func_t *f, int code) { jb_trap_at(f, code, jb_site_offset(f)); }

/* A load of `ty` at byte `offset` from `base`; `invariant` when the field
 * never changes while compiled code runs, so LLVM may hoist and merge it. */
static LLVMValueRef load_at(jt_func_t *f, LLVMValueRef base, size_t offset, LLVMTypeRef ty,
                            bool invariant)
{
    LLVMValueRef off = jt_const_i64(f, offset);
    LLVMValueRef p = offset ? LLVMBuildGEP2(f->b, f->jm->i8, base, &off, 1, "") : base;
    LLVMValueRef v = LLVMBuildLoad2(f->b, ty, p, "");
    jt_tbaa(f, v, f->jm->tbaa_runtime);
    if (invariant) {
        unsigned kind = LLVMGetMDKindIDInContext(f->jm->llctx, "invariant.load", 14);
        LLVMSetMetadata(v, kind, LLVMMDNodeInContext(f->jm->llctx, NULL, 0));
    }
    return v;
}

LLVMValueRef jb_mem_base(jt_func_t *f)
{
    return load_at(f, f->ctx, offsetof(jit_ctx_t, mem_base), f->jm->ptr, true);
}

LLVMValueRef jb_mem_size(jt_func_t *f)
{
    return load_at(f, f->ctx, offsetof(jit_ctx_t, mem_size), f->jm->i64, false);
}

LLVMValueRef jb_global_ptr(jt_func_t *f, uint32_t index)
{
    LLVMValueRef globals = load_at(f, f->ctx, offsetof(jit_ctx_t, globals), f->jm->ptr, true);
    LLVMValueRef g = load_at(f, globals, (size_t)index * sizeof(void *), f->jm->ptr, true);
    LLVMValueRef off = jt_const_i64(f, offsetof(whirl_global_t, value));
    return LLVMBuildGEP2(f->b, f->jm->i8, g, &off, 1, ""); /* tagged tbaa_global by the user */
}

LLVMValueRef jb_func_ref(jt_func_t *f, uint32_t index)
{
    LLVMValueRef inst = load_at(f, f->ctx, offsetof(jit_ctx_t, instance), f->jm->ptr, true);
    LLVMValueRef funcs = load_at(f, inst, offsetof(whirl_instance_t, vm.funcs), f->jm->ptr, true);
    return load_at(f, funcs, (size_t)index * sizeof(void *), f->jm->ptr, true);
}

static void epoch_check(jt_func_t *f)
{
    LLVMValueRef ep = load_at(f, f->ctx, offsetof(jit_ctx_t, epoch), f->jm->ptr, true);
    LLVMValueRef epoch = LLVMBuildLoad2(f->b, f->jm->i64, ep, "");
    jt_tbaa(f, epoch, f->jm->tbaa_runtime);
    LLVMSetOrdering(epoch, LLVMAtomicOrderingMonotonic);
    LLVMSetAlignment(epoch, 8);
    LLVMValueRef deadline = load_at(f, f->ctx, offsetof(jit_ctx_t, epoch_deadline), f->jm->i64, false);
    jt_trap_if(f, LLVMBuildICmp(f->b, LLVMIntUGE, epoch, deadline, ""), WHIRL_TRAP_INTERRUPT);
}

void jb_entry_checks(jt_func_t *f)
{
    LLVMValueRef zero = jt_const_i32(f, 0);
    LLVMTypeRef ptr = f->jm->ptr;
    LLVMValueRef frame = jt_intrinsic(f, "llvm.frameaddress", &ptr, 1, &zero, 1);
    LLVMValueRef sp = LLVMBuildPtrToInt(f->b, frame, f->jm->i64, "");
    LLVMValueRef limit = load_at(f, f->ctx, offsetof(jit_ctx_t, stack_limit), f->jm->i64, true);
    jt_trap_if(f, LLVMBuildICmp(f->b, LLVMIntULT, sp, limit, ""), WHIRL_TRAP_STACK_EXHAUSTED);
    epoch_check(f);
}

void jb_loop_check(jt_func_t *f) { epoch_check(f); }

/* ================================================================ run time */

static whirl_store_t *ctx_store(const jit_ctx_t *ctx) { return ctx->instance->store; }

/* Re-reads what code outside this context may have changed: the memory's
 * size (grown by a callee or the host) and the store's deadline. */
static void ctx_refresh(jit_ctx_t *ctx)
{
    whirl_memory_t *mem = ctx->instance->vm.memory0;
    ctx->mem_size = mem ? mem->size : 0;
    ctx->epoch_deadline = ctx_store(ctx)->epoch_deadline;
}

void jit_ctx_init(jit_ctx_t *ctx, whirl_instance_t *instance, const struct jit_code *code)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->instance = instance;
    ctx->code = code;
    ctx->mem_base = instance->vm.memory0 ? instance->vm.memory0->base : NULL;
    ctx->globals = instance->vm.globals;
    ctx->epoch = &instance->store->engine->epoch;
    ctx_refresh(ctx);
}

__attribute__((noreturn)) static void unwind(jit_ctx_t *ctx, whirl_error_t *err)
{
    ctx->trap_error = err;
    longjmp(*ctx->trap_jmp, 1);
}

static const char *func_name(const whirl_instance_t *inst, uint32_t index)
{
    const wasm_module_t *m = inst->module->wasm;
    return m->func_names && index < wasm_module_func_count(m) ? m->func_names[index] : NULL;
}

__attribute__((noreturn)) static void trap_at(jit_ctx_t *ctx, int code, uint32_t func,
                                              uint32_t offset)
{
    const char *name = func_name(ctx->instance, func);
    whirl_error_t *e =
        name ? error_trap((whirl_trap_code_t)code, "in func %u <%s> at offset 0x%x", func, name, offset)
             : error_trap((whirl_trap_code_t)code, "in func %u at offset 0x%x", func, offset);
    error_add_frame(e, func, name, offset);
    unwind(ctx, e);
}

static void rt_trap(jit_ctx_t *ctx, uint32_t code, uint32_t func, uint32_t offset)
{
    trap_at(ctx, (int)code, func, offset);
}

/* Calls `fn` (any kind, any instance) with arguments in `slots`, writing
 * its results there. Host functions see the calling instance, as from the
 * interpreter. */
static void call_slots(jit_ctx_t *ctx, whirl_func_t *fn, slot_t *slots)
{
    const wasm_functype_t *t = fn->type;
    whirl_val_t small[16];
    size_t need = (size_t)t->nparams + t->nresults;
    whirl_val_t *vals = need > 16 ? malloc(need * sizeof *vals) : small;
    if (!vals)
        unwind(ctx, error_oom());
    whirl_val_t *args = vals, *results = vals + t->nparams;
    /* The interpreter's slot layout: a v128 takes two slots. */
    for (uint32_t i = 0, s = 0; i < t->nparams; s += slots_of(t->params[i]), i++)
        val_from_slots(&args[i], t->params[i], &slots[s]);
    for (uint32_t i = 0; i < t->nresults; i++) {
        memset(&results[i], 0, sizeof results[i]);
        results[i].kind = valtype_to_kind(t->results[i]);
    }
    whirl_error_t *err;
    if (fn->kind == FUNC_HOST) {
        struct whirl_caller caller = {ctx_store(ctx), ctx->instance};
        err = fn->callback(fn->env, &caller, args, t->nparams, results, t->nresults);
        for (uint32_t i = 0; !err && i < t->nresults; i++)
            if (results[i].kind != valtype_to_kind(t->results[i]))
                err = error_trap(WHIRL_TRAP_HOST, "host function returned a %s for result %u, "
                                 "expected %s", wasm_valtype_name(valkind_to_type(results[i].kind)),
                                 i, wasm_valtype_name(t->results[i]));
        if (err)
            err = error_as_trap(err);
    } else {
        err = exec_call(ctx_store(ctx), fn, args, results);
    }
    ctx_refresh(ctx);
    if (!err)
        for (uint32_t i = 0, s = 0; i < t->nresults; s += slots_of(t->results[i]), i++)
            val_to_slots(&results[i], &slots[s]);
    if (vals != small)
        free(vals);
    if (err)
        unwind(ctx, err);
}

static void rt_call(jit_ctx_t *ctx, uint32_t func_index, slot_t *slots)
{
    call_slots(ctx, ctx->instance->vm.funcs[func_index], slots);
}

static whirl_func_t *indirect_target(jit_ctx_t *ctx, uint32_t table, uint32_t type, uint32_t elem,
                                     uint32_t func, uint32_t offset)
{
    whirl_table_t *t = ctx->instance->vm.tables[table];
    if (elem >= t->size)
        trap_at(ctx, WHIRL_TRAP_TABLE_OUT_OF_BOUNDS, func, offset);
    whirl_func_t *callee = t->elems[elem];
    if (!callee)
        trap_at(ctx, WHIRL_TRAP_INDIRECT_CALL_NULL, func, offset);
    const wasm_functype_t *want = &ctx->instance->module->wasm->types[type];
    if (callee->type != want && !functype_equal(callee->type, want))
        trap_at(ctx, WHIRL_TRAP_INDIRECT_CALL_TYPE, func, offset);
    return callee;
}

static void *rt_indirect(jit_ctx_t *ctx, uint32_t table, uint32_t type, uint32_t elem,
                         uint32_t func, uint32_t offset)
{
    whirl_func_t *callee = indirect_target(ctx, table, type, elem, func, offset);
    if (callee->kind != FUNC_WASM || callee->instance != ctx->instance)
        return NULL;
    return jit_code_native(ctx->code, callee->code->func_index);
}

static void rt_call_indirect(jit_ctx_t *ctx, uint32_t table, uint32_t elem, slot_t *slots)
{
    /* rt_indirect checked the entry just before. */
    call_slots(ctx, ctx->instance->vm.tables[table]->elems[elem], slots);
}

static int32_t rt_memory_grow(jit_ctx_t *ctx, uint32_t delta)
{
    int64_t old = memory_grow(ctx->instance->vm.memory0, delta);
    ctx_refresh(ctx);
    return (int32_t)old;
}

static void rt_memory_fill(jit_ctx_t *ctx, uint32_t d, uint32_t value, uint32_t n, uint32_t func,
                           uint32_t offset)
{
    if ((uint64_t)d + n > ctx->mem_size)
        trap_at(ctx, WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS, func, offset);
    memset(ctx->mem_base + d, (int)(uint8_t)value, n);
}

static void rt_memory_copy(jit_ctx_t *ctx, uint32_t d, uint32_t s, uint32_t n, uint32_t func,
                           uint32_t offset)
{
    if ((uint64_t)d + n > ctx->mem_size || (uint64_t)s + n > ctx->mem_size)
        trap_at(ctx, WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS, func, offset);
    memmove(ctx->mem_base + d, ctx->mem_base + s, n);
}

static void rt_memory_init(jit_ctx_t *ctx, uint32_t seg, uint32_t d, uint32_t s, uint32_t n,
                           uint32_t func, uint32_t offset)
{
    const wasm_data_t *data = &ctx->instance->module->wasm->datas[seg];
    uint64_t len = ctx->instance->data_dropped[seg] ? 0 : data->len;
    if ((uint64_t)s + n > len || (uint64_t)d + n > ctx->mem_size)
        trap_at(ctx, WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS, func, offset);
    if (n)
        memcpy(ctx->mem_base + d, data->bytes + s, n);
}

static void rt_data_drop(jit_ctx_t *ctx, uint32_t seg) { ctx->instance->data_dropped[seg] = true; }

static void *rt_table_get(jit_ctx_t *ctx, uint32_t table, uint32_t i, uint32_t func, uint32_t offset)
{
    whirl_table_t *t = ctx->instance->vm.tables[table];
    if (i >= t->size)
        trap_at(ctx, WHIRL_TRAP_TABLE_OUT_OF_BOUNDS, func, offset);
    return t->elems[i];
}

static void rt_table_set(jit_ctx_t *ctx, uint32_t table, uint32_t i, void *ref, uint32_t func,
                         uint32_t offset)
{
    whirl_table_t *t = ctx->instance->vm.tables[table];
    if (i >= t->size)
        trap_at(ctx, WHIRL_TRAP_TABLE_OUT_OF_BOUNDS, func, offset);
    t->elems[i] = ref;
}

static int32_t rt_table_size(jit_ctx_t *ctx, uint32_t table)
{
    return (int32_t)ctx->instance->vm.tables[table]->size;
}

static int32_t rt_table_grow(jit_ctx_t *ctx, uint32_t table, void *init, uint32_t n)
{
    return (int32_t)table_grow(ctx->instance->vm.tables[table], n, init);
}

static void rt_table_fill(jit_ctx_t *ctx, uint32_t table, uint32_t i, void *ref, uint32_t n,
                          uint32_t func, uint32_t offset)
{
    whirl_table_t *t = ctx->instance->vm.tables[table];
    if ((uint64_t)i + n > t->size)
        trap_at(ctx, WHIRL_TRAP_TABLE_OUT_OF_BOUNDS, func, offset);
    for (uint32_t j = 0; j < n; j++)
        t->elems[i + j] = ref;
}

static void rt_table_copy(jit_ctx_t *ctx, uint32_t dst_table, uint32_t src_table, uint32_t d,
                          uint32_t s, uint32_t n, uint32_t func, uint32_t offset)
{
    whirl_table_t *dt = ctx->instance->vm.tables[dst_table], *st = ctx->instance->vm.tables[src_table];
    if ((uint64_t)d + n > dt->size || (uint64_t)s + n > st->size)
        trap_at(ctx, WHIRL_TRAP_TABLE_OUT_OF_BOUNDS, func, offset);
    if (n)
        memmove(dt->elems + d, st->elems + s, (size_t)n * sizeof(void *));
}

/* Element `i` of segment `seg`: its constant expression evaluated in the
 * instance (the interpreter has the same rule; both should move to the
 * runtime's context when it exists). */
static void *elem_value(whirl_instance_t *inst, const wasm_elem_t *seg, uint32_t i)
{
    const wasm_const_expr_t *e = &seg->items[i];
    if (e->count == 0)
        return NULL;
    switch (e->instrs[0].op) {
    case WASM_OP_REF_FUNC:
        return inst->vm.funcs[e->instrs[0].imm.index];
    case WASM_OP_GLOBAL_GET:
        return inst->vm.globals[e->instrs[0].imm.index]->value.slot.ref;
    default:
        return NULL;
    }
}

static void rt_table_init(jit_ctx_t *ctx, uint32_t seg, uint32_t table, uint32_t d, uint32_t s,
                          uint32_t n, uint32_t func, uint32_t offset)
{
    whirl_instance_t *inst = ctx->instance;
    const wasm_elem_t *e = &inst->module->wasm->elems[seg];
    whirl_table_t *t = inst->vm.tables[table];
    uint64_t len = inst->elem_dropped[seg] ? 0 : e->count;
    if ((uint64_t)s + n > len || (uint64_t)d + n > t->size)
        trap_at(ctx, WHIRL_TRAP_TABLE_OUT_OF_BOUNDS, func, offset);
    for (uint32_t j = 0; j < n; j++)
        t->elems[d + j] = elem_value(inst, e, s + j);
}

static void rt_elem_drop(jit_ctx_t *ctx, uint32_t seg) { ctx->instance->elem_dropped[seg] = true; }

void *jb_runtime_address(int i)
{
    static void *const addrs[JB_RT_COUNT] = {
        [JB_RT_TRAP] = (void *)rt_trap,
        [JB_RT_CALL] = (void *)rt_call,
        [JB_RT_INDIRECT] = (void *)rt_indirect,
        [JB_RT_CALL_INDIRECT] = (void *)rt_call_indirect,
        [JB_RT_MEMORY_GROW] = (void *)rt_memory_grow,
        [JB_RT_MEMORY_FILL] = (void *)rt_memory_fill,
        [JB_RT_MEMORY_COPY] = (void *)rt_memory_copy,
        [JB_RT_MEMORY_INIT] = (void *)rt_memory_init,
        [JB_RT_DATA_DROP] = (void *)rt_data_drop,
        [JB_RT_TABLE_GET] = (void *)rt_table_get,
        [JB_RT_TABLE_SET] = (void *)rt_table_set,
        [JB_RT_TABLE_SIZE] = (void *)rt_table_size,
        [JB_RT_TABLE_GROW] = (void *)rt_table_grow,
        [JB_RT_TABLE_FILL] = (void *)rt_table_fill,
        [JB_RT_TABLE_COPY] = (void *)rt_table_copy,
        [JB_RT_TABLE_INIT] = (void *)rt_table_init,
        [JB_RT_ELEM_DROP] = (void *)rt_elem_drop,
    };
    return addrs[i];
}

/* ================================================================ entry */

/* Native stack that compiled code may use: down to this far above the
 * thread's stack end, so the runtime functions, the interpreter and host
 * functions called near the limit still have room. */
#define STACK_RESERVE (256u * 1024)
#define STACK_BUDGET_MAX (8u * 1024 * 1024)

static uintptr_t thread_stack_limit(uintptr_t here)
{
    /* On a fiber (a resumable call, runtime/fiber.h) the stack is the
     * fiber's, smaller than a thread's: keep twice what exec_call keeps. */
    uintptr_t fiber_lo = fiber_stack_low();
    if (fiber_lo)
        return fiber_lo + 2 * FIBER_STACK_RESERVE < here ? fiber_lo + 2 * FIBER_STACK_RESERVE
                                                         : here;
    static __thread uintptr_t lo;
    if (!lo) {
        pthread_attr_t attr;
        void *addr = NULL;
        size_t size = 0;
        if (pthread_getattr_np(pthread_self(), &attr) == 0) {
            pthread_attr_getstack(&attr, &addr, &size);
            pthread_attr_destroy(&attr);
        }
        lo = addr ? (uintptr_t)addr : here - 1024 * 1024;
    }
    uintptr_t limit = lo + STACK_RESERVE;
    if (here - limit > STACK_BUDGET_MAX)
        limit = here - STACK_BUDGET_MAX;
    return limit < here ? limit : here;
}

typedef void (*entry_fn_t)(jit_ctx_t *ctx, slot_t *slots);

whirl_error_t *jit_call(jit_ctx_t *ctx, uint32_t func_index, const whirl_val_t *args,
                        whirl_val_t *results)
{
    whirl_func_t *fn = ctx->instance->vm.funcs[func_index];
    entry_fn_t entry = (entry_fn_t)jit_code_entry(ctx->code, func_index);
    if (!entry || fn->instance != ctx->instance)
        return exec_call(ctx_store(ctx), fn, args, results);
    const wasm_functype_t *t = fn->type;
    uint32_t np = 0, nr = 0;
    for (uint32_t i = 0; i < t->nparams; i++)
        np += slots_of(t->params[i]);
    for (uint32_t i = 0; i < t->nresults; i++)
        nr += slots_of(t->results[i]);
    slot_t slots[(np > nr ? np : nr) + 1];
    for (uint32_t i = 0, s = 0; i < t->nparams; s += slots_of(t->params[i]), i++)
        val_to_slots(&args[i], &slots[s]);

    jmp_buf jb;
    jmp_buf *volatile saved = ctx->trap_jmp;
    if (!saved)
        ctx->stack_limit = thread_stack_limit((uintptr_t)__builtin_frame_address(0));
    ctx_refresh(ctx);
    if (setjmp(jb)) {
        ctx->trap_jmp = saved;
        whirl_error_t *err = ctx->trap_error;
        ctx->trap_error = NULL;
        return err;
    }
    ctx->trap_jmp = &jb;
    entry(ctx, slots);
    ctx->trap_jmp = saved;
    for (uint32_t i = 0, s = 0; i < t->nresults; s += slots_of(t->results[i]), i++)
        val_from_slots(&results[i], t->results[i], &slots[s]);
    return NULL;
}
