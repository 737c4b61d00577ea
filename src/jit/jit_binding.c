/* The binding of compiled code to an instance (see jit_binding.h): the IR
 * that reads the context (runtime/vmctx.h), and the runtime functions
 * generated code calls. */
#define _GNU_SOURCE
#include "jit/jit_binding.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/bulk.h"
#include "exec/exec.h"
#include "jit/jit.h"
#include "jit/jit_debuginfo.h"
#include "jit/jit_internal.h"
#include "runtime/atomic_wait.h"
#include "runtime/trap_signal.h"
#include "util/error.h"

/* ================================================================ IR */

/* Runtime functions (the rt_* below): symbol name and signature (result ':' params; v void, i i32,
 * l i64, p pointer). */
static const struct {
    const char *name;
    const char *sig;
} runtime_sigs[JB_RT_COUNT] = {
    [JB_RT_TRAP] = {"whirl_jit_trap", "v:piii"},
    [JB_RT_CALL] = {"whirl_jit_call", "v:pipii"},
    [JB_RT_INDIRECT] = {"whirl_jit_indirect", "p:piiiii"},
    [JB_RT_CALL_INDIRECT] = {"whirl_jit_call_indirect", "v:piipii"},
    [JB_RT_MEMORY_GROW] = {"whirl_jit_memory_grow", "i:pi"},
    [JB_RT_MEMORY_FILL] = {"whirl_jit_memory_fill", "v:piiiii"},
    [JB_RT_MEMORY_COPY] = {"whirl_jit_memory_copy", "v:piiiii"},
    [JB_RT_MEMORY_INIT] = {"whirl_jit_memory_init", "v:piiiiii"},
    [JB_RT_DATA_DROP] = {"whirl_jit_data_drop", "v:pi"},
    [JB_RT_TABLE_GET] = {"whirl_jit_table_get", "p:piiii"},
    [JB_RT_TABLE_SET] = {"whirl_jit_table_set", "v:piipii"},
    [JB_RT_TABLE_SIZE] = {"whirl_jit_table_size", "i:pi"},
    [JB_RT_TABLE_GROW] = {"whirl_jit_table_grow", "i:pipiii"},
    [JB_RT_TABLE_FILL] = {"whirl_jit_table_fill", "v:piipiii"},
    [JB_RT_TABLE_COPY] = {"whirl_jit_table_copy", "v:piiiiiii"},
    [JB_RT_TABLE_INIT] = {"whirl_jit_table_init", "v:piiiiiii"},
    [JB_RT_ELEM_DROP] = {"whirl_jit_elem_drop", "v:pi"},
    [JB_RT_EPOCH] = {"whirl_jit_epoch", "v:pii"},
    [JB_RT_MEMORY_GROW_AT] = {"whirl_jit_memory_grow_at", "l:pil"},
    [JB_RT_MEMORY_FILL_AT] = {"whirl_jit_memory_fill_at", "v:pililii"},
    [JB_RT_MEMORY_COPY_AT] = {"whirl_jit_memory_copy_at", "v:piilllii"},
    [JB_RT_MEMORY_INIT_AT] = {"whirl_jit_memory_init_at", "v:piilllii"},
    [JB_RT_RETURN_CALL] = {"whirl_jit_return_call", "v:pipii"},
    [JB_RT_RETURN_CALL_INDIRECT] = {"whirl_jit_return_call_indirect", "v:piipii"},
    [JB_RT_SHARED_BOUNDS] = {"whirl_jit_shared_bounds", "v:pilii"},
    [JB_RT_ATOMIC_WAIT] = {"whirl_jit_atomic_wait", "i:ppillii"},
    [JB_RT_ATOMIC_NOTIFY] = {"whirl_jit_atomic_notify", "i:ppi"},
    [JB_RT_REF_NATIVE] = {"whirl_jit_ref_native", "p:ppii"},
    [JB_RT_CALL_REF] = {"whirl_jit_call_ref", "v:pppii"},
    [JB_RT_RETURN_CALL_REF] = {"whirl_jit_return_call_ref", "v:pppii"},
    [JB_RT_THROW] = {"whirl_jit_throw", "v:pipii"},
    [JB_RT_THROW_REF] = {"whirl_jit_throw_ref", "v:ppii"},
    [JB_RT_CALL_CATCH] = {"whirl_jit_call_catch", "p:pipii"},
    [JB_RT_CALL_INDIRECT_CATCH] = {"whirl_jit_call_indirect_catch", "p:piipii"},
    [JB_RT_CALL_REF_CATCH] = {"whirl_jit_call_ref_catch", "p:pppii"},
    [JB_RT_EXN_NEW] = {"whirl_jit_exn_new", "p:pipii"},
    [JB_RT_EXN_MATCH] = {"whirl_jit_exn_match", "i:ppip"},
};

_Static_assert(JB_RT_COUNT <= sizeof ((jt_module_t *)0)->rt / sizeof(LLVMValueRef),
               "jt_module_t.rt holds every runtime function");

static LLVMTypeRef sig_type(jt_module_t *jm, char c)
{
    return c == 'i' ? jm->i32 : c == 'l' ? jm->i64 : c == 'p' ? jm->ptr : jm->void_t;
}

void jb_declare_runtime(jt_module_t *jm)
{
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
        /* Cold, but not noreturn although they never return (every call
         * is followed by `unreachable`): LLVM would delete what follows a
         * noreturn call, the mark after it included (jb_mark_call), and
         * a backtrace could then not tell the trapping call. */
        if (i == JB_RT_TRAP || i == JB_RT_THROW || i == JB_RT_THROW_REF)
            LLVMAddAttributeAtIndex(jm->rt[i], LLVMAttributeFunctionIndex,
                                    LLVMCreateEnumAttribute(jm->llctx, cold, 0));
    }
}

const char *jb_runtime_name(int i) { return runtime_sigs[i].name; }

/* Debug-info code only (optimised code names its calls by their line:
 * jit_debuginfo.c jt_calls_mark, far cheaper to compile).
 * One call-site mark, right after the call: a label, and an entry for it
 * in JIT_CALL_SECTION (the format of jit_pcmap.c). No instruction: the
 * assembler resolves it to a relocation in the object. One mark per call,
 * after it rather than around it: each asm statement is a node for the
 * code generator, whose instruction selection grows faster than linearly
 * with them in a block of thousands of calls (straight-line bulk code). */
static void mark(jt_func_t *f, uint32_t func, uint32_t offset)
{
    char text[200];
    int n = snprintf(text, sizeof text,
                     ".Lwc${:uid}:\n.pushsection " JIT_CALL_SECTION ",\"a\",%%progbits\n"
                     ".p2align 2\n.long .Lwc${:uid}-.\n.long %u\n.long %u\n.popsection",
                     func, offset);
    /* Not `sideeffect`: the code generator treats such asm as a barrier,
     * and LiveRangeShrink rescans the rest of the block after every one
     * (quadratic: a function of 1,000 straight-line bulk calls took
     * minutes to compile). A memory clobber keeps it, and in place: a
     * call that may write memory is neither deleted nor moved across
     * the call it marks, in IR or in machine code. */
    static const char clobber[] = "~{memory}";
    LLVMTypeRef fty = LLVMFunctionType(f->jm->void_t, NULL, 0, false);
    LLVMValueRef fn = LLVMGetInlineAsm(fty, text, (size_t)n, clobber, sizeof clobber - 1, false,
                                       false, LLVMInlineAsmDialectATT, false);
    LLVMValueRef call = LLVMBuildCall2(f->b, fty, fn, NULL, 0, "");
    unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
    LLVMAddCallSiteAttribute(call, LLVMAttributeFunctionIndex,
                             LLVMCreateEnumAttribute(f->jm->llctx, nounwind, 0));
}

void jb_mark_call(jt_func_t *f, LLVMValueRef call, uint32_t offset)
{
    /* Never a sibling call: the caller's frame must stay on the stack. */
    LLVMSetTailCallKind(call, LLVMTailCallKindNoTail);
    if (!jt_calls_mark(f, call, offset))
        mark(f, f->func_index, offset);
}

LLVMValueRef jb_call(jt_func_t *f, enum jb_runtime rt, LLVMValueRef *args, unsigned nargs)
{
    LLVMValueRef call = LLVMBuildCall2(f->b, f->jm->rt_types[rt], f->jm->rt[rt], args, nargs, "");
    jb_mark_call(f, call, f->op_offset);
    return call;
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
    return load_at(f, f->ctx, VMCTX_MEMORY0_BASE, f->jm->ptr, true);
}

static bool mem_is_shared(jt_func_t *f, uint32_t mem)
{
    return wasm_module_memory_type(f->jm->wasm, mem)->limits.shared;
}

/* A shared memory's size is written by other threads (release stores
 * under the grow lock): its loads are atomic. Unordered is enough for the
 * bounds checks (LLVM may still keep it across a loop; a failing check
 * rereads it, jt_bounds_check); memory.size asks for acquire. */
static LLVMValueRef size_load(jt_func_t *f, LLVMValueRef mem_obj, uint32_t mem, bool now)
{
    LLVMValueRef v = load_at(f, mem_obj, VM_MEMORY_SIZE, f->jm->i64, false);
    if (mem_is_shared(f, mem)) {
        LLVMSetAlignment(v, 8);
        LLVMSetOrdering(v, now ? LLVMAtomicOrderingAcquire : LLVMAtomicOrderingUnordered);
    }
    return v;
}

/* The size lives in the (maybe shared) memory object: other code grows it,
 * so it is reloaded after every call out (tbaa_runtime, not invariant). */
LLVMValueRef jb_mem_size(jt_func_t *f)
{
    LLVMValueRef mem = load_at(f, f->ctx, VMCTX_MEMORY0, f->jm->ptr, true);
    return size_load(f, mem, 0, false);
}

/* Memory `mem`'s object: its base never moves (invariant), its size is
 * current (another instance may grow it). */
static LLVMValueRef mem_object(jt_func_t *f, uint32_t mem)
{
    LLVMValueRef mems = load_at(f, f->ctx, VMCTX_MEMORIES, f->jm->ptr, true);
    return load_at(f, mems, (size_t)mem * sizeof(void *), f->jm->ptr, true);
}

LLVMValueRef jb_mem_base_at(jt_func_t *f, uint32_t mem)
{
    return mem ? load_at(f, mem_object(f, mem), VM_MEMORY_BASE, f->jm->ptr, true)
               : jb_mem_base(f);
}

LLVMValueRef jb_mem_size_at(jt_func_t *f, uint32_t mem)
{
    return mem ? size_load(f, mem_object(f, mem), mem, false) : jb_mem_size(f);
}

LLVMValueRef jb_mem_size_now(jt_func_t *f, uint32_t mem)
{
    if (!mem_is_shared(f, mem))
        return jb_mem_size_at(f, mem);
    LLVMValueRef obj = mem ? mem_object(f, mem)
                           : load_at(f, f->ctx, VMCTX_MEMORY0, f->jm->ptr, true);
    return size_load(f, obj, mem, true);
}

LLVMValueRef jb_global_ptr(jt_func_t *f, uint32_t index)
{
    LLVMValueRef globals = load_at(f, f->ctx, VMCTX_GLOBALS, f->jm->ptr, true);
    LLVMValueRef g = load_at(f, globals, (size_t)index * sizeof(void *), f->jm->ptr, true);
    LLVMValueRef off = jt_const_i64(f, offsetof(whirl_global_t, value));
    return LLVMBuildGEP2(f->b, f->jm->i8, g, &off, 1, ""); /* tagged tbaa_global by the user */
}

LLVMValueRef jb_func_ref(jt_func_t *f, uint32_t index)
{
    LLVMValueRef funcs = load_at(f, f->ctx, VMCTX_FUNCS, f->jm->ptr, true);
    return load_at(f, funcs, (size_t)index * sizeof(void *), f->jm->ptr, true);
}

/* The native code of defined function `index` of this instance, NULL
 * until published (tier_publish's release store, read with acquire): a
 * function of another compile of the module (the auto tier's batches,
 * tier=jit's parts). The compiled functions' array never moves. */
LLVMValueRef jb_native_of(jt_func_t *f, uint32_t index)
{
    uint32_t defined = index - f->jm->wasm->nfunc_imports;
    LLVMValueRef code = load_at(f, f->ctx, VMCTX_CODE, f->jm->ptr, true);
    LLVMValueRef native = load_at(f, code,
                                  (size_t)defined * sizeof(compiled_func_t) +
                                      offsetof(compiled_func_t, native),
                                  f->jm->ptr, false);
    LLVMSetAlignment(native, sizeof(void *));
    LLVMSetOrdering(native, LLVMAtomicOrderingAcquire);
    return native;
}

/* The epoch's slow path, one per module: the runtime's rt_epoch behind
 * LLVM's preserve_all convention. A function has an epoch check at every
 * loop header (a libc printf has dozens); were each a plain C call, every
 * value live across it would need a caller-saved register spilled or a
 * callee-saved one, on the hot path too, and the register allocator spent
 * a third of the code generator's time splitting live ranges around these
 * cold calls. With preserve_all the call clobbers almost nothing: this
 * function saves what the C call needs, only when the slow path runs. */
static LLVMValueRef epoch_slow(jt_module_t *jm)
{
    static const char name[] = "whirl.epoch_slow";
    LLVMValueRef fn = LLVMGetNamedFunction(jm->mod, name);
    if (fn)
        return fn;
    fn = LLVMAddFunction(jm->mod, name, jm->rt_types[JB_RT_EPOCH]);
    LLVMSetLinkage(fn, LLVMPrivateLinkage);
    LLVMSetFunctionCallConv(fn, LLVMPreserveAllCallConv);
    const char *attrs[] = {"noinline", "nounwind"};
    for (size_t i = 0; i < sizeof attrs / sizeof *attrs; i++)
        LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                                LLVMCreateEnumAttribute(jm->llctx,
                                                        LLVMGetEnumAttributeKindForName(
                                                            attrs[i], strlen(attrs[i])),
                                                        0));
    LLVMBuilderRef b = LLVMCreateBuilderInContext(jm->llctx);
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(jm->llctx, fn, "entry"));
    LLVMValueRef args[] = {LLVMGetParam(fn, 0), LLVMGetParam(fn, 1), LLVMGetParam(fn, 2)};
    LLVMBuildCall2(b, jm->rt_types[JB_RT_EPOCH], jm->rt[JB_RT_EPOCH], args, 3, "");
    LLVMBuildRetVoid(b);
    LLVMDisposeBuilder(b);
    return fn;
}

static LLVMValueRef epoch_check(jt_func_t *f, LLVMValueRef *epoch_load)
{
    LLVMValueRef ep = load_at(f, f->ctx, VMCTX_EPOCH, f->jm->ptr, true);
    LLVMValueRef epoch = LLVMBuildLoad2(f->b, f->jm->i64, ep, "");
    jt_tbaa(f, epoch, f->jm->tbaa_runtime);
    LLVMSetOrdering(epoch, LLVMAtomicOrderingMonotonic);
    LLVMSetAlignment(epoch, 8);
    /* The store's deadline: the host may move it during a call out. */
    LLVMValueRef dp = load_at(f, f->ctx, VMCTX_EPOCH_DEADLINE, f->jm->ptr, true);
    LLVMValueRef deadline = load_at(f, dp, 0, f->jm->i64, false);
    /* Reached: a sample due, a yield slice's end or the deadline; the
     * runtime decides (rt_epoch), as the interpreter's slow path does. */
    LLVMContextRef cx = f->jm->llctx;
    LLVMBasicBlockRef slow = LLVMAppendBasicBlockInContext(cx, f->fn, "epoch");
    LLVMBasicBlockRef cont = LLVMAppendBasicBlockInContext(cx, f->fn, "epoch_ok");
    LLVMValueRef reached = LLVMBuildICmp(f->b, LLVMIntUGE, epoch, deadline, "");
    LLVMValueRef expect_args[] = {reached, LLVMConstInt(f->jm->i1, 0, false)};
    LLVMTypeRef i1 = f->jm->i1;
    reached = jt_intrinsic(f, "llvm.expect", &i1, 1, expect_args, 2);
    LLVMValueRef branch = LLVMBuildCondBr(f->b, reached, slow, cont);
    LLVMPositionBuilderAtEnd(f->b, slow);
    LLVMValueRef args[] = {f->ctx, jb_site_func(f), jb_site_offset(f)};
    LLVMValueRef call = LLVMBuildCall2(f->b, f->jm->rt_types[JB_RT_EPOCH], epoch_slow(f->jm), args,
                                       3, "");
    LLVMSetInstructionCallConv(call, LLVMPreserveAllCallConv);
    jb_mark_call(f, call, f->op_offset);
    LLVMBuildBr(f->b, cont);
    LLVMPositionBuilderAtEnd(f->b, cont);
    if (epoch_load)
        *epoch_load = epoch;
    return branch;
}

void jb_entry_checks(jt_func_t *f)
{
    /* The stack depth is the address of a byte in this function's frame.
     * The limit keeps a reserve of tens of KiB, far more than the distance
     * from this byte to the frame's lowest address. */
    LLVMBasicBlockRef here = LLVMGetInsertBlock(f->b);
    LLVMValueRef first = LLVMGetFirstInstruction(f->entry_bb);
    if (first)
        LLVMPositionBuilderBefore(f->b, first);
    else
        LLVMPositionBuilderAtEnd(f->b, f->entry_bb);
    LLVMValueRef probe = LLVMBuildAlloca(f->b, f->jm->i8, "stack_probe");
    LLVMPositionBuilderAtEnd(f->b, here);
    LLVMValueRef sp = LLVMBuildPtrToInt(f->b, probe, f->jm->i64, "");
    LLVMValueRef limit = load_at(f, f->ctx, VMCTX_STACK_LIMIT, f->jm->i64, false);
    jt_trap_if(f, LLVMBuildICmp(f->b, LLVMIntULT, sp, limit, ""), WHIRL_TRAP_STACK_EXHAUSTED);
    epoch_check(f, NULL);
}

void jb_loop_check(jt_func_t *f, LLVMValueRef *branch, LLVMValueRef *epoch_load)
{
    *branch = epoch_check(f, epoch_load);
}

void jb_loop_check_drop(jt_func_t *f, LLVMValueRef branch, LLVMValueRef epoch_load)
{
    /* Never taken, and the counter's read an ordinary one: the optimiser
     * deletes the check, the slow path and the loads. */
    LLVMSetCondition(branch, LLVMConstInt(f->jm->i1, 0, false));
    LLVMSetOrdering(epoch_load, LLVMAtomicOrderingNotAtomic);
}

/* ================================================================ run time */

/* Every runtime function gets the context of the instance whose code runs.
 * The memory's size and the store's deadline are read where they live, so
 * nothing is cached that a callee or the host could make stale. */

static whirl_store_t *ctx_store(const vmctx_t *ctx) { return ctx->store; }
/* Acquire: a shared memory's size is published by another thread's grow. */
static uint64_t mem_size(const whirl_memory_t *m) { return __atomic_load_n(&m->size, __ATOMIC_ACQUIRE); }
static uint64_t ctx_mem_size(const vmctx_t *ctx) { return ctx->memory0 ? mem_size(ctx->memory0) : 0; }
static uint64_t ctx_deadline(const vmctx_t *ctx) { return *ctx->epoch_deadline; }

/* ---- the native frames of a backtrace ----
 *
 * Native code keeps no records of its calls: every translated function
 * has a frame pointer (jit.c), so the frames of the running activation
 * form a chain from the innermost frame pointer to the one native_enter
 * recorded (store native.entry_fp), each holding its return address.
 * A return address into a translated function names the call it returns
 * from through the call-site marks (jb_mark_call, jit_pcmap.c); others
 * (entry trampolines, this file's runtime functions, compiled with frame
 * pointers for the chain's sake: see jit.cmake) are passed over. Only
 * native frames of this activation are walked: the interpreter and the
 * host add theirs as the error travels up through them, and an outer
 * activation's native frames when the error reaches its runtime call. */

typedef struct native_site {
    uint32_t func, offset;
} native_site_t;

/* Up to `max` calls on the chain from frame pointer *at, innermost
 * first, the first one left out when `skip_first` (the trapping frame,
 * named already); *at becomes where a further walk goes on (0: the end).
 * Reads only the stack between the frame pointer and the activation's
 * entry `end`, each frame above the last, so a frame without a frame
 * pointer ends the walk rather than sending it astray. */
__attribute__((no_sanitize_address)) static size_t native_sites_from(uintptr_t end, uintptr_t *at,
                                                                     bool skip_first,
                                                                     native_site_t *out,
                                                                     size_t max)
{
    size_t n = 0;
    uintptr_t fp = *at;
    *at = 0;
    while (fp && fp < end && (fp & 7) == 0) {
        if (n == max) {
            *at = fp;
            break;
        }
        const uintptr_t *frame = (const uintptr_t *)fp;
        uintptr_t ret = frame[1], next = frame[0];
        const jit_code_t *code = trap_signal_code_find(ret);
        uint32_t func, offset;
        if (code && jit_code_call_at(code, ret, &func, &offset)) {
            if (skip_first)
                skip_first = false;
            else
                out[n++] = (native_site_t){func, offset};
        }
        if (next <= fp)
            break;
        fp = next;
    }
    return n;
}

static size_t native_sites(const whirl_store_t *s, uintptr_t fp, bool skip_first,
                           native_site_t *out, size_t max)
{
    return native_sites_from(s->native.entry_fp, &fp, skip_first, out, max);
}

/* As many frames as the interpreter puts in one activation's backtrace. */
#define MAX_BACKTRACE 64

static const char *func_name(const whirl_instance_t *inst, uint32_t index)
{
    const wasm_module_t *m = inst->module->wasm;
    return m->func_names && index < wasm_module_func_count(m) ? m->func_names[index] : NULL;
}

/* A native activation calling out to the interpreter or to a nested
 * native_enter (sample_link_t): its frames from the calling runtime
 * function's frame `fp` to its entry. */
typedef struct native_link {
    sample_link_t link;
    uintptr_t fp, entry_fp;
    const vmctx_t *vm;
} native_link_t;

static size_t native_link_frames(const sample_link_t *self, whirl_sample_frame_t *out, size_t max)
{
    const native_link_t *l = (const native_link_t *)self;
    const whirl_instance_t *inst = l->vm->instance;
    /* In chunks: a sample may be taken near the end of the stack. */
    native_site_t sites[64];
    size_t n = 0;
    uintptr_t at = l->fp;
    while (at && n < max) {
        size_t room = max - n < 64 ? max - n : 64;
        size_t k = native_sites_from(l->entry_fp, &at, false, sites, room);
        for (size_t i = 0; i < k; i++)
            out[n++] = (whirl_sample_frame_t){inst->module, sites[i].func,
                                              func_name(inst, sites[i].func), sites[i].offset};
    }
    return n;
}

#define NATIVE_LINK(name, store)                                                                  \
    native_link_t name = {{NULL, native_link_frames},                                             \
                          (uintptr_t)__builtin_frame_address(0),                                  \
                          (store)->native.entry_fp,                                               \
                          (store)->native.vm};                                                    \
    sample_link_push(store, &name.link)

/* Adds the native frames from `fp` on to `err`'s backtrace and hands it
 * to the activation's native_enter. The frames are those of the module
 * of the context native_enter entered (calls within an activation stay
 * in one module's code). */
__attribute__((noreturn)) static void unwind_from(vmctx_t *ctx, whirl_error_t *err, uintptr_t fp,
                                                  bool skip_first)
{
    whirl_store_t *s = ctx->store;
    vmctx_t *vm = s->native.vm;
    native_site_t sites[MAX_BACKTRACE];
    size_t have = whirl_error_frame_count(err);
    size_t n = native_sites(s, fp, skip_first, sites,
                            have < MAX_BACKTRACE ? MAX_BACKTRACE - have : 0);
    for (size_t i = 0; i < n; i++)
        error_add_frame_in(err, vm->instance->module, sites[i].func,
                           func_name(vm->instance, sites[i].func), sites[i].offset);
    native_unwind(s, err);
}

/* From a runtime function generated code called: its caller's frame on. */
#define unwind(ctx, err) unwind_from(ctx, err, (uintptr_t)__builtin_frame_address(0), false)

/* The trap `code` at `func`/`offset`, named as the interpreter names it,
 * from the frame `fp` on (skipping the first call when `skip_first`: the
 * trapping function's own call to the runtime). */
__attribute__((noreturn)) static void trap_from(vmctx_t *ctx, int code, uint32_t func,
                                                uint32_t offset, uintptr_t fp, bool skip_first)
{
    const char *name = func_name(ctx->instance, func);
    whirl_error_t *e =
        name ? error_trap((whirl_trap_code_t)code, "in func %u <%s> at offset 0x%x", func, name, offset)
             : error_trap((whirl_trap_code_t)code, "in func %u at offset 0x%x", func, offset);
    error_add_frame_in(e, ctx->instance->module, func, name, offset);
    unwind_from(ctx, e, fp, skip_first);
}

/* A trap at the call of the runtime function this is expanded in. */
#define trap_at(ctx, code, func, offset)                                                          \
    trap_from(ctx, code, func, offset, (uintptr_t)__builtin_frame_address(0), true)

static void rt_trap(vmctx_t *ctx, uint32_t code, uint32_t func, uint32_t offset)
{
    trap_at(ctx, (int)code, func, offset);
}

/* Calls `fn` (any kind, any instance) with arguments in `slots`, writing
 * its results there. Host functions see the calling instance, as from the
 * interpreter. Returns the callee's error (a trap or an exception). */
static whirl_error_t *call_slots_err(vmctx_t *ctx, whirl_func_t *fn, slot_t *slots, bool tail)
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
        /* Wasm the host function calls is a new call into wasm (samples). */
        sample_link_t *outer = ctx->store->sample_outer;
        ctx->store->sample_outer = NULL;
        err = fn->callback(fn->env, &caller, args, t->nparams, results, t->nresults);
        ctx->store->sample_outer = outer;
        for (uint32_t i = 0; !err && i < t->nresults; i++)
            if (results[i].kind != valtype_to_kind(t->results[i]))
                err = error_trap(WHIRL_TRAP_HOST, "host function returned a %s for result %u, "
                                 "expected %s", wasm_valtype_name(valkind_to_type(results[i].kind)),
                                 i, wasm_valtype_name(t->results[i]));
        if (err)
            err = error_as_trap(err);
    } else {
        NATIVE_LINK(link, ctx->store);
        err = tail ? exec_call_interpreted(ctx_store(ctx), fn, args, results)
                   : exec_call(ctx_store(ctx), fn, args, results);
        sample_link_pop(ctx->store, &link.link);
    }
    if (!err)
        for (uint32_t i = 0, s = 0; i < t->nresults; s += slots_of(t->results[i]), i++)
            val_to_slots(&results[i], &slots[s]);
    if (vals != small)
        free(vals);
    return err;
}

/* call_slots_err, and a trap from the callee gets the calling frames added
 * to its backtrace (the chain: the caller's call at `func`/`offset` is the
 * innermost). */
static void call_slots(vmctx_t *ctx, whirl_func_t *fn, slot_t *slots, uint32_t func,
                       uint32_t offset, bool tail)
{
    (void)func;
    (void)offset;
    whirl_error_t *err = call_slots_err(ctx, fn, slots, tail);
    if (err) {
        unwind(ctx, error_as_trap(err));
    }
}

static void rt_call(vmctx_t *ctx, uint32_t func_index, slot_t *slots, uint32_t func,
                    uint32_t offset)
{
    /* A function of this module compiled in another batch (the auto tier)
     * or an import from another instance of it: its entry trampoline takes
     * these very slots, and the trap jump in place serves it too (this
     * function keeps its frame pointer, so the chain goes on through it,
     * and the frames are named from the same module). */
    whirl_func_t *fn = ctx->funcs[func_index];
    /* Another instance's code checks its own context's stack bound: a
     * direct call only when that is this activation's (else native_enter
     * sets it, and restores it even when a trap unwinds). */
    if (fn->kind == FUNC_WASM && fn->instance->module == ctx->instance->module &&
        (fn->instance == ctx->instance || fn->instance->vm.stack_limit == ctx->stack_limit)) {
        native_entry_t entry = native_entry_of(fn->code);
        if (entry) {
            entry(&fn->instance->vm, slots);
            return;
        }
    }
    call_slots(ctx, fn, slots, func, offset, false);
}

static void rt_return_call(vmctx_t *ctx, uint32_t func_index, slot_t *slots, uint32_t func,
                           uint32_t offset)
{
    call_slots(ctx, ctx->funcs[func_index], slots, func, offset, true);
}

static whirl_func_t *indirect_target(vmctx_t *ctx, uint32_t table, uint32_t type, uint32_t elem,
                                     uint32_t func, uint32_t offset)
{
    whirl_table_t *t = ctx->instance->vm.tables[table];
    if (elem >= t->size)
        trap_at(ctx, WHIRL_TRAP_TABLE_OUT_OF_BOUNDS, func, offset);
    whirl_func_t *callee = t->elems[elem];
    if (!callee)
        trap_at(ctx, WHIRL_TRAP_INDIRECT_CALL_NULL, func, offset);
    const wasm_functype_t *want = &ctx->types[type];
    if (callee->type != want && !functype_equal(callee->type, want))
        trap_at(ctx, WHIRL_TRAP_INDIRECT_CALL_TYPE, func, offset);
    return callee;
}

static void *rt_indirect(vmctx_t *ctx, uint32_t table, uint32_t type, uint32_t elem,
                         uint32_t func, uint32_t offset)
{
    whirl_func_t *callee = indirect_target(ctx, table, type, elem, func, offset);
    if (callee->kind != FUNC_WASM || callee->instance != ctx->instance)
        return NULL;
    return atomic_load_explicit(&callee->code->native, memory_order_acquire);
}

static void rt_call_indirect(vmctx_t *ctx, uint32_t table, uint32_t elem, slot_t *slots,
                             uint32_t func, uint32_t offset)
{
    /* rt_indirect checked the entry just before. */
    call_slots(ctx, ctx->tables[table]->elems[elem], slots, func, offset, false);
}

static void rt_return_call_indirect(vmctx_t *ctx, uint32_t table, uint32_t elem, slot_t *slots,
                                    uint32_t func, uint32_t offset)
{
    call_slots(ctx, ctx->tables[table]->elems[elem], slots, func, offset, true);
}

/* call_ref: a null reference traps; a function of this instance with
 * native code is called directly (same signature: the validator typed the
 * reference), anything else through the runtime. */
static void *rt_ref_native(vmctx_t *ctx, whirl_func_t *callee, uint32_t func, uint32_t offset)
{
    if (!callee)
        trap_at(ctx, WHIRL_TRAP_NULL_REFERENCE, func, offset);
    if (callee->kind != FUNC_WASM || callee->instance != ctx->instance)
        return NULL;
    return atomic_load_explicit(&callee->code->native, memory_order_acquire);
}

static void rt_call_ref(vmctx_t *ctx, whirl_func_t *callee, slot_t *slots, uint32_t func,
                        uint32_t offset)
{
    call_slots(ctx, callee, slots, func, offset, false);
}

static void rt_return_call_ref(vmctx_t *ctx, whirl_func_t *callee, slot_t *slots, uint32_t func,
                               uint32_t offset)
{
    if (!callee)
        trap_at(ctx, WHIRL_TRAP_NULL_REFERENCE, func, offset);
    call_slots(ctx, callee, slots, func, offset, true);
}

/* throw and throw_ref: the exception leaves native code as an error, the
 * way one from a callee does (call_slots); the interpreter or host above
 * native_enter handles it. The function's call to the runtime names its
 * frame. */
__attribute__((noreturn)) static void throw_exn(vmctx_t *ctx, whirl_exn_t *exn)
{
    unwind(ctx, error_exception(exn));
}

static void rt_throw(vmctx_t *ctx, uint32_t tag, slot_t *slots, uint32_t func, uint32_t offset)
{
    bool exhausted = false;
    whirl_exn_t *exn = exn_create(ctx->store, ctx->instance->tags[tag], slots, &exhausted);
    if (!exn) {
        if (exhausted)
            trap_at(ctx, WHIRL_TRAP_EXCEPTIONS_EXHAUSTED, func, offset);
        unwind(ctx, error_oom());
    }
    throw_exn(ctx, exn);
}

static void rt_throw_ref(vmctx_t *ctx, whirl_exn_t *exn, uint32_t func, uint32_t offset)
{
    if (!exn)
        trap_at(ctx, WHIRL_TRAP_NULL_EXCEPTION, func, offset);
    throw_exn(ctx, exn);
}

/* Calls inside a block with handlers. A callee with native code is
 * entered through native_enter, so an exception thrown below (by native
 * code, which unwinds to the innermost native_enter, or coming back
 * through the runtime as an error) ends here instead of skipping the
 * calling native frame; anything else runs as call_slots runs it. The
 * exception is returned for the caller's handlers (the store keeps the
 * object; the error carrying it is dropped, as the interpreter does);
 * any other error goes on unwinding, with this frame in its backtrace
 * (the chain from here names it). */
static whirl_exn_t *catch_call(vmctx_t *ctx, whirl_func_t *fn, slot_t *slots)
{
    native_entry_t entry = fn->kind == FUNC_WASM ? native_entry_of(fn->code) : NULL;
    whirl_error_t *err;
    if (entry) {
        NATIVE_LINK(link, ctx->store);
        err = native_enter(ctx->store, &fn->instance->vm, entry, slots);
        sample_link_pop(ctx->store, &link.link);
    } else {
        err = call_slots_err(ctx, fn, slots, false);
    }
    if (!err)
        return NULL;
    whirl_exn_t *exn;
    if (whirl_error_is_exception(err, &exn) && exn->store == ctx->store) {
        whirl_error_delete(err);
        return exn;
    }
    unwind(ctx, error_as_trap(err));
}

static whirl_exn_t *rt_call_catch(vmctx_t *ctx, uint32_t func_index, slot_t *slots, uint32_t func,
                                  uint32_t offset)
{
    (void)func;
    (void)offset;
    return catch_call(ctx, ctx->funcs[func_index], slots);
}

static whirl_exn_t *rt_call_indirect_catch(vmctx_t *ctx, uint32_t table, uint32_t elem,
                                           slot_t *slots, uint32_t func, uint32_t offset)
{
    (void)func;
    (void)offset;
    /* rt_indirect checked the entry just before. */
    return catch_call(ctx, ctx->tables[table]->elems[elem], slots);
}

static whirl_exn_t *rt_call_ref_catch(vmctx_t *ctx, whirl_func_t *callee, slot_t *slots,
                                      uint32_t func, uint32_t offset)
{
    (void)func;
    (void)offset;
    /* rt_ref_native trapped on null just before. */
    return catch_call(ctx, callee, slots);
}

/* throw inside a block with handlers: the exception, made as rt_throw
 * makes it, goes to them. */
static whirl_exn_t *rt_exn_new(vmctx_t *ctx, uint32_t tag, slot_t *slots, uint32_t func,
                               uint32_t offset)
{
    bool exhausted = false;
    whirl_exn_t *exn = exn_create(ctx->store, ctx->instance->tags[tag], slots, &exhausted);
    if (!exn) {
        if (exhausted)
            trap_at(ctx, WHIRL_TRAP_EXCEPTIONS_EXHAUSTED, func, offset);
        unwind(ctx, error_oom());
    }
    return exn;
}

/* A catch clause of tag `tag`: the exception's tag is that tag object (as
 * the interpreter compares), its values go to `slots`. */
static int32_t rt_exn_match(vmctx_t *ctx, whirl_exn_t *exn, uint32_t tag, slot_t *slots)
{
    if (exn->tag != ctx->instance->tags[tag])
        return 0;
    if (exn->tag->nslots)
        memcpy(slots, exn->values, exn->tag->nslots * sizeof(slot_t));
    return 1;
}

static int32_t rt_memory_grow(vmctx_t *ctx, uint32_t delta)
{
    return (int32_t)memory_grow(ctx->memory0, delta);
}

static void rt_memory_fill(vmctx_t *ctx, uint32_t d, uint32_t value, uint32_t n, uint32_t func,
                           uint32_t offset)
{
    if ((uint64_t)d + n > ctx_mem_size(ctx))
        trap_at(ctx, WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS, func, offset);
    if (!exec_bulk_fill(ctx->memory0_base + d, (uint8_t)value, n, ctx->epoch, ctx_deadline(ctx)))
        trap_at(ctx, WHIRL_TRAP_INTERRUPT, func, offset);
}

static void rt_memory_copy(vmctx_t *ctx, uint32_t d, uint32_t s, uint32_t n, uint32_t func,
                           uint32_t offset)
{
    uint64_t size = ctx_mem_size(ctx);
    if ((uint64_t)d + n > size || (uint64_t)s + n > size)
        trap_at(ctx, WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS, func, offset);
    if (!exec_bulk_move(ctx->memory0_base + d, ctx->memory0_base + s, n, ctx->epoch,
                        ctx_deadline(ctx)))
        trap_at(ctx, WHIRL_TRAP_INTERRUPT, func, offset);
}

static void rt_memory_init(vmctx_t *ctx, uint32_t seg, uint32_t d, uint32_t s, uint32_t n,
                           uint32_t func, uint32_t offset)
{
    const wasm_data_t *data = &ctx->instance->module->wasm->datas[seg];
    uint64_t len = ctx->instance->data_dropped[seg] ? 0 : data->len;
    if ((uint64_t)s + n > len || (uint64_t)d + n > ctx_mem_size(ctx))
        trap_at(ctx, WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS, func, offset);
    if (n && !exec_bulk_move(ctx->memory0_base + d, data->bytes + s, n, ctx->epoch,
                             ctx_deadline(ctx)))
        trap_at(ctx, WHIRL_TRAP_INTERRUPT, func, offset);
}

/* Any memory, 64-bit operands: the sums are checked without overflow
 * (memory64 operands go up to 2^64 - 1). */
static bool out_of(uint64_t at, uint64_t n, uint64_t size) { return n > size || at > size - n; }

static int64_t rt_memory_grow_at(vmctx_t *ctx, uint32_t mem, uint64_t delta)
{
    return memory_grow(ctx->memories[mem], delta);
}

static void rt_memory_fill_at(vmctx_t *ctx, uint32_t mem, uint64_t d, uint32_t value, uint64_t n,
                              uint32_t func, uint32_t offset)
{
    whirl_memory_t *m = ctx->memories[mem];
    if (out_of(d, n, mem_size(m)))
        trap_at(ctx, WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS, func, offset);
    if (!exec_bulk_fill(m->base + d, (uint8_t)value, n, ctx->epoch, ctx_deadline(ctx)))
        trap_at(ctx, WHIRL_TRAP_INTERRUPT, func, offset);
}

static void rt_memory_copy_at(vmctx_t *ctx, uint32_t dmem, uint32_t smem, uint64_t d, uint64_t s,
                              uint64_t n, uint32_t func, uint32_t offset)
{
    whirl_memory_t *dm = ctx->memories[dmem], *sm = ctx->memories[smem];
    if (out_of(d, n, mem_size(dm)) || out_of(s, n, mem_size(sm)))
        trap_at(ctx, WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS, func, offset);
    if (!exec_bulk_move(dm->base + d, sm->base + s, n, ctx->epoch, ctx_deadline(ctx)))
        trap_at(ctx, WHIRL_TRAP_INTERRUPT, func, offset);
}

static void rt_memory_init_at(vmctx_t *ctx, uint32_t mem, uint32_t seg, uint64_t d, uint64_t s,
                              uint64_t n, uint32_t func, uint32_t offset)
{
    whirl_memory_t *m = ctx->memories[mem];
    const wasm_data_t *data = &ctx->instance->module->wasm->datas[seg];
    uint64_t len = ctx->instance->data_dropped[seg] ? 0 : data->len;
    if (out_of(s, n, len) || out_of(d, n, mem_size(m)))
        trap_at(ctx, WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS, func, offset);
    if (n && !exec_bulk_move(m->base + d, data->bytes + s, n, ctx->epoch, ctx_deadline(ctx)))
        trap_at(ctx, WHIRL_TRAP_INTERRUPT, func, offset);
}

/* A failing bounds check on a shared memory: another thread may have
 * grown it since the size compiled code holds was read. */
static void rt_shared_bounds(vmctx_t *ctx, uint32_t mem, uint64_t end, uint32_t func,
                             uint32_t offset)
{
    if (end > mem_size(ctx->memories[mem]))
        trap_at(ctx, WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS, func, offset);
}

/* memory.atomic.wait32/64 on a shared memory (translate_atomic.c checked
 * sharing, bounds and alignment), bounded by the store's hard deadline as
 * in the interpreter. */
static int32_t rt_atomic_wait(vmctx_t *ctx, uint8_t *addr, uint32_t size, uint64_t expected,
                              int64_t timeout, uint32_t func, uint32_t offset)
{
    int r = atomic_wait(addr, size, expected, timeout, ctx->epoch,
                        ctx->store->epoch_hard_deadline);
    if (r < 0)
        trap_at(ctx, WHIRL_TRAP_INTERRUPT, func, offset);
    return r;
}

static int32_t rt_atomic_notify(vmctx_t *ctx, uint8_t *addr, uint32_t count)
{
    (void)ctx;
    return (int32_t)atomic_notify(addr, count);
}

static void rt_data_drop(vmctx_t *ctx, uint32_t seg) { ctx->instance->data_dropped[seg] = true; }

static void *rt_table_get(vmctx_t *ctx, uint32_t table, uint32_t i, uint32_t func, uint32_t offset)
{
    whirl_table_t *t = ctx->instance->vm.tables[table];
    if (i >= t->size)
        trap_at(ctx, WHIRL_TRAP_TABLE_OUT_OF_BOUNDS, func, offset);
    return t->elems[i];
}

static void rt_table_set(vmctx_t *ctx, uint32_t table, uint32_t i, void *ref, uint32_t func,
                         uint32_t offset)
{
    whirl_table_t *t = ctx->instance->vm.tables[table];
    if (i >= t->size)
        trap_at(ctx, WHIRL_TRAP_TABLE_OUT_OF_BOUNDS, func, offset);
    t->elems[i] = ref;
}

static int32_t rt_table_size(vmctx_t *ctx, uint32_t table)
{
    return (int32_t)ctx->instance->vm.tables[table]->size;
}

static int32_t rt_table_grow(vmctx_t *ctx, uint32_t table, void *init, uint32_t n,
                             uint32_t func, uint32_t offset)
{
    int64_t old = table_grow_until(ctx->tables[table], n, init, ctx->epoch, ctx_deadline(ctx));
    if (old == TABLE_GROW_INTERRUPTED)
        trap_at(ctx, WHIRL_TRAP_INTERRUPT, func, offset);
    return (int32_t)old;
}

static void rt_table_fill(vmctx_t *ctx, uint32_t table, uint32_t i, void *ref, uint32_t n,
                          uint32_t func, uint32_t offset)
{
    whirl_table_t *t = ctx->instance->vm.tables[table];
    if ((uint64_t)i + n > t->size)
        trap_at(ctx, WHIRL_TRAP_TABLE_OUT_OF_BOUNDS, func, offset);
    if (!exec_bulk_fill_refs(t->elems + i, ref, n, ctx->epoch, ctx_deadline(ctx)))
        trap_at(ctx, WHIRL_TRAP_INTERRUPT, func, offset);
}

static void rt_table_copy(vmctx_t *ctx, uint32_t dst_table, uint32_t src_table, uint32_t d,
                          uint32_t s, uint32_t n, uint32_t func, uint32_t offset)
{
    whirl_table_t *dt = ctx->instance->vm.tables[dst_table], *st = ctx->instance->vm.tables[src_table];
    if ((uint64_t)d + n > dt->size || (uint64_t)s + n > st->size)
        trap_at(ctx, WHIRL_TRAP_TABLE_OUT_OF_BOUNDS, func, offset);
    if (!exec_bulk_move(dt->elems + d, st->elems + s, (uint64_t)n * sizeof(void *), ctx->epoch,
                        ctx_deadline(ctx)))
        trap_at(ctx, WHIRL_TRAP_INTERRUPT, func, offset);
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

static void rt_table_init(vmctx_t *ctx, uint32_t seg, uint32_t table, uint32_t d, uint32_t s,
                          uint32_t n, uint32_t func, uint32_t offset)
{
    whirl_instance_t *inst = ctx->instance;
    const wasm_elem_t *e = &inst->module->wasm->elems[seg];
    whirl_table_t *t = inst->vm.tables[table];
    uint64_t len = inst->elem_dropped[seg] ? 0 : e->count;
    if ((uint64_t)s + n > len || (uint64_t)d + n > t->size)
        trap_at(ctx, WHIRL_TRAP_TABLE_OUT_OF_BOUNDS, func, offset);
    const uint64_t chunk = BULK_CHUNK_BYTES / sizeof(void *);
    for (uint32_t j = 0; j < n; j++) {
        if (j % chunk == 0 && n > BULK_SMALL_BYTES / sizeof(void *) &&
            epoch_reached(ctx->epoch, ctx_deadline(ctx)))
            trap_at(ctx, WHIRL_TRAP_INTERRUPT, func, offset);
        t->elems[d + j] = elem_value(inst, e, s + j);
    }
}

static void rt_elem_drop(vmctx_t *ctx, uint32_t seg) { ctx->instance->elem_dropped[seg] = true; }

/* The epoch check fired at `func`/`offset`: take a sample if one is due
 * (the native frames from the records), then run on, yield, or trap at
 * the deadline (store_epoch_expired), as the interpreter does. */
static void rt_epoch(vmctx_t *ctx, uint32_t func, uint32_t offset)
{
    whirl_store_t *s = ctx->store;
    if (s->sampler &&
        store_epoch_reached(s, atomic_load_explicit(ctx->epoch, memory_order_relaxed))) {
        whirl_sample_frame_t *fr = s->sampler->frames;
        size_t n = 0;
        fr[n++] = (whirl_sample_frame_t){ctx->instance->module, func, func_name(ctx->instance, func),
                                         offset};
        /* The callers: the chain from here, past the call that came here,
         * in chunks (a sample may be taken near the end of the stack). */
        native_site_t sites[64];
        uintptr_t at = (uintptr_t)__builtin_frame_address(0);
        const whirl_instance_t *inst = s->native.vm->instance;
        for (bool skip = true; at && n < SAMPLE_MAX_FRAMES; skip = false) {
            size_t room = SAMPLE_MAX_FRAMES - n < 64 ? SAMPLE_MAX_FRAMES - n : 64;
            size_t k = native_sites_from(s->native.entry_fp, &at, skip, sites, room);
            for (size_t i = 0; i < k; i++)
                fr[n++] = (whirl_sample_frame_t){inst->module, sites[i].func,
                                                 func_name(inst, sites[i].func), sites[i].offset};
        }
        store_sample_taken(s, n);
        if (!epoch_reached(ctx->epoch, s->epoch_deadline))
            return;
    }
    if (!store_epoch_expired(s))
        trap_at(ctx, WHIRL_TRAP_INTERRUPT, func, offset);
}

/* A fault in the guard region of the running instance's memory: the trap
 * an explicit check would have raised, at the access's function and byte
 * offset (the PC map, jit_pcmap.c); a PC missing from the map is named by
 * the function containing it, at offset 0. */
__attribute__((noreturn)) static void guard_trap(void *store_p, const void *owner, uintptr_t pc,
                                                 uintptr_t fp)
{
    whirl_store_t *store = store_p;
    vmctx_t *ctx = store->native.vm;
    uint32_t func = 0, offset = 0;
    if (owner && !jit_code_site_at(owner, pc, &func, &offset))
        jit_code_func_at(owner, pc, &func);
    /* The faulting function's frame pointer: its callers from there. */
    trap_from(ctx, WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS, func, offset, fp, false);
}

static void guard_init_once(void) { trap_signal_set_resolver(guard_trap); }

void jb_guard_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, guard_init_once);
}

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
        [JB_RT_EPOCH] = (void *)rt_epoch,
        [JB_RT_MEMORY_GROW_AT] = (void *)rt_memory_grow_at,
        [JB_RT_MEMORY_FILL_AT] = (void *)rt_memory_fill_at,
        [JB_RT_MEMORY_COPY_AT] = (void *)rt_memory_copy_at,
        [JB_RT_MEMORY_INIT_AT] = (void *)rt_memory_init_at,
        [JB_RT_RETURN_CALL] = (void *)rt_return_call,
        [JB_RT_RETURN_CALL_INDIRECT] = (void *)rt_return_call_indirect,
        [JB_RT_SHARED_BOUNDS] = (void *)rt_shared_bounds,
        [JB_RT_ATOMIC_WAIT] = (void *)rt_atomic_wait,
        [JB_RT_ATOMIC_NOTIFY] = (void *)rt_atomic_notify,
        [JB_RT_REF_NATIVE] = (void *)rt_ref_native,
        [JB_RT_CALL_REF] = (void *)rt_call_ref,
        [JB_RT_RETURN_CALL_REF] = (void *)rt_return_call_ref,
        [JB_RT_THROW] = (void *)rt_throw,
        [JB_RT_THROW_REF] = (void *)rt_throw_ref,
        [JB_RT_CALL_CATCH] = (void *)rt_call_catch,
        [JB_RT_CALL_INDIRECT_CATCH] = (void *)rt_call_indirect_catch,
        [JB_RT_CALL_REF_CATCH] = (void *)rt_call_ref_catch,
        [JB_RT_EXN_NEW] = (void *)rt_exn_new,
        [JB_RT_EXN_MATCH] = (void *)rt_exn_match,
    };
    return addrs[i];
}

/* ================================================================ entry */

void jit_ctx_init(jit_ctx_t *ctx, whirl_instance_t *instance, const struct jit_code *code)
{
    ctx->instance = instance;
    ctx->code = code;
}

whirl_error_t *jit_call(jit_ctx_t *ctx, uint32_t func_index, const whirl_val_t *args,
                        whirl_val_t *results)
{
    whirl_func_t *fn = ctx->instance->vm.funcs[func_index];
    native_entry_t entry = (native_entry_t)jit_code_entry(ctx->code, func_index);
    if (!entry || fn->instance != ctx->instance)
        return exec_call(ctx->instance->store, fn, args, results);
    const wasm_functype_t *t = fn->type;
    uint32_t np = 0, nr = 0;
    for (uint32_t i = 0; i < t->nparams; i++)
        np += slots_of(t->params[i]);
    for (uint32_t i = 0; i < t->nresults; i++)
        nr += slots_of(t->results[i]);
    slot_t slots[(np > nr ? np : nr) + 1];
    for (uint32_t i = 0, s = 0; i < t->nparams; s += slots_of(t->params[i]), i++)
        val_to_slots(&args[i], &slots[s]);
    whirl_error_t *err = native_enter(ctx->instance->store, &ctx->instance->vm, entry, slots);
    if (err)
        return err;
    for (uint32_t i = 0, s = 0; i < t->nresults; s += slots_of(t->results[i]), i++)
        val_from_slots(&results[i], t->results[i], &slots[s]);
    return NULL;
}
