/* The threads proposal in the LLVM tier: atomic loads, stores,
 * read-modify-writes and compare-exchanges as LLVM atomic instructions
 * (seq_cst, as the interpreter's __atomic builtins), atomic.fence as a
 * fence, memory.atomic.wait32/64 and notify through the runtime
 * (runtime/atomic_wait.c), and the bounds check of shared memories.
 *
 * Order of checks, as in exec/interp_atomic.inc: a wait on an unshared
 * memory traps first, then the bounds, then the natural alignment
 * ("unaligned atomic"). Because an access that is both out of bounds and
 * misaligned must report the bounds, atomics are always checked
 * explicitly, never left to the guard region.
 *
 * Shared memories grow under another thread's feet: the size jitted code
 * loads may be stale (LLVM keeps it in a register across a loop when no
 * call intervenes). A failing bounds check on a shared memory therefore
 * asks the runtime, which rereads the size (acquire) and traps only if
 * the access is still out of bounds: the interpreter's SHARED_GREW, on
 * the failing path only, so in-bounds accesses cost what they did. */
#include "jit/jit_binding.h"

static bool mem_shared(jt_func_t *f, uint32_t mem)
{
    return wasm_module_memory_type(f->jm->wasm, mem)->limits.shared;
}

void jt_bounds_check(jt_func_t *f, uint32_t mem, LLVMValueRef end, LLVMValueRef also)
{
    LLVMValueRef past = LLVMBuildICmp(f->b, LLVMIntUGT, end, jb_mem_size_at(f, mem), "");
    if (!mem_shared(f, mem)) {
        jt_trap_if(f, also ? LLVMBuildOr(f->b, also, past, "") : past,
                   WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS);
        return;
    }
    if (also)
        jt_trap_if(f, also, WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS);
    LLVMContextRef cx = f->jm->llctx;
    LLVMBasicBlockRef slow = LLVMAppendBasicBlockInContext(cx, f->fn, "shared_recheck");
    LLVMBasicBlockRef cont = LLVMAppendBasicBlockInContext(cx, f->fn, "in_bounds");
    LLVMValueRef expect_args[] = {past, LLVMConstInt(f->jm->i1, 0, false)};
    LLVMTypeRef i1 = f->jm->i1;
    past = jt_intrinsic(f, "llvm.expect", &i1, 1, expect_args, 2);
    LLVMBuildCondBr(f->b, past, slow, cont);
    LLVMPositionBuilderAtEnd(f->b, slow);
    LLVMValueRef args[] = {f->ctx, jt_const_i32(f, mem), end, jb_site_func(f), jb_site_offset(f)};
    jb_call(f, JB_RT_SHARED_BOUNDS, args, 5);
    LLVMBuildBr(f->b, cont);
    LLVMPositionBuilderAtEnd(f->b, cont);
}

/* The address of an atomic access of `bytes` at `addr` + the memarg's
 * offset: bounds (explicit, overflow-safe for memory64), then alignment. */
static LLVMValueRef atomic_addr(jt_func_t *f, jt_memarg_t a, LLVMValueRef addr, unsigned bytes)
{
    jt_module_t *jm = f->jm;
    bool is64 = jt_memory_is64(f, a.memory);
    LLVMValueRef ea = is64 ? addr : LLVMBuildZExt(f->b, addr, jm->i64, "");
    if (a.offset > UINT64_MAX - bytes) {
        /* No address reaches past 2^64: always out of bounds. */
        jt_trap_if(f, LLVMConstInt(jm->i1, 1, false), WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS);
        return LLVMConstNull(jm->ptr);
    }
    if (is64) {
        LLVMValueRef args[] = {ea, jt_const_i64(f, a.offset + bytes)};
        LLVMTypeRef i64 = jm->i64;
        LLVMValueRef sum = jt_intrinsic(f, "llvm.uadd.with.overflow", &i64, 1, args, 2);
        jt_bounds_check(f, a.memory, LLVMBuildExtractValue(f->b, sum, 0, ""),
                        LLVMBuildExtractValue(f->b, sum, 1, ""));
    } else {
        /* A u32 address plus a u32 offset and a size: no wrap in 64 bits. */
        jt_bounds_check(f, a.memory, LLVMBuildAdd(f->b, ea, jt_const_i64(f, a.offset + bytes), ""),
                        NULL);
    }
    LLVMValueRef at = LLVMBuildAdd(f->b, ea, jt_const_i64(f, a.offset), "");
    if (bytes > 1) {
        LLVMValueRef low = LLVMBuildAnd(f->b, at, jt_const_i64(f, bytes - 1), "");
        jt_trap_if(f, LLVMBuildICmp(f->b, LLVMIntNE, low, jt_const_i64(f, 0), ""),
                   WHIRL_TRAP_UNALIGNED_ATOMIC);
    }
    return LLVMBuildGEP2(f->b, jm->i8, jb_mem_base_at(f, a.memory), &at, 1, "");
}

/* The operation's access width in bytes and its value type (i32/i64). */
static unsigned op_bytes(wasm_op_t op) { return 1u << wasm_opinfo[op].align; }

static LLVMTypeRef op_value_type(jt_func_t *f, wasm_op_t op)
{
    const char *sig = wasm_opinfo[op].sig;
    const char *colon = sig;
    while (*colon && *colon != ':')
        colon++;
    /* Loads and read-modify-writes: the result; stores: the last operand. */
    char c = colon[1] ? colon[1] : colon[-1];
    return c == 'l' ? f->jm->i64 : f->jm->i32;
}

static LLVMAtomicRMWBinOp rmw_kind(uint32_t code)
{
    static const LLVMAtomicRMWBinOp kinds[] = {LLVMAtomicRMWBinOpAdd, LLVMAtomicRMWBinOpSub,
                                               LLVMAtomicRMWBinOpAnd, LLVMAtomicRMWBinOpOr,
                                               LLVMAtomicRMWBinOpXor, LLVMAtomicRMWBinOpXchg};
    return kinds[(code - 0x1e) / 7];
}

static LLVMValueRef narrow(jt_func_t *f, LLVMValueRef v, LLVMTypeRef mem_ty)
{
    return LLVMTypeOf(v) == mem_ty ? v : LLVMBuildTrunc(f->b, v, mem_ty, "");
}

static LLVMValueRef widen(jt_func_t *f, LLVMValueRef v, LLVMTypeRef ty)
{
    return LLVMTypeOf(v) == ty ? v : LLVMBuildZExt(f->b, v, ty, "");
}

static void wait_notify(jt_func_t *f, wasm_op_t op)
{
    jt_module_t *jm = f->jm;
    jt_memarg_t m = jt_read_memarg(f);
    if (op == WASM_OP_MEMORY_ATOMIC_NOTIFY) {
        LLVMValueRef count = jt_pop(f);
        LLVMValueRef p = atomic_addr(f, m, jt_pop(f), 4);
        if (!mem_shared(f, m.memory)) {
            jt_push(f, jt_const_i32(f, 0)); /* nobody can wait on it */
            return;
        }
        LLVMValueRef args[] = {f->ctx, p, count};
        jt_push(f, jb_call(f, JB_RT_ATOMIC_NOTIFY, args, 3));
        return;
    }
    unsigned bytes = op == WASM_OP_MEMORY_ATOMIC_WAIT32 ? 4 : 8;
    LLVMValueRef timeout = jt_pop(f), expected = jt_pop(f), addr = jt_pop(f);
    if (!mem_shared(f, m.memory)) {
        jt_trap_if(f, LLVMConstInt(jm->i1, 1, false), WHIRL_TRAP_WAIT_UNSHARED);
        jt_push(f, jt_const_i32(f, 0));
        return;
    }
    LLVMValueRef p = atomic_addr(f, m, addr, bytes);
    LLVMValueRef args[] = {f->ctx, p, jt_const_i32(f, bytes), widen(f, expected, jm->i64), timeout,
                           jb_site_func(f), jb_site_offset(f)};
    jt_push(f, jb_call(f, JB_RT_ATOMIC_WAIT, args, 7));
}

bool jt_atomic(jt_func_t *f, wasm_op_t op)
{
    if (!wasm_op_is_atomic(op))
        return false;
    jt_module_t *jm = f->jm;
    uint32_t code = wasm_opinfo[op].code;
    if (op == WASM_OP_ATOMIC_FENCE) {
        read_u8(&f->r);
        LLVMBuildFence(f->b, LLVMAtomicOrderingSequentiallyConsistent, false, "");
        return true;
    }
    if (code < 0x10) {
        wait_notify(f, op);
        return true;
    }
    unsigned bytes = op_bytes(op);
    LLVMTypeRef ty = op_value_type(f, op);
    LLVMTypeRef mem_ty = LLVMIntTypeInContext(jm->llctx, bytes * 8);
    LLVMAtomicOrdering sc = LLVMAtomicOrderingSequentiallyConsistent;
    jt_memarg_t m = jt_read_memarg(f);
    LLVMValueRef result = NULL, access;
    if (code <= 0x16) { /* load */
        LLVMValueRef p = atomic_addr(f, m, jt_pop(f), bytes);
        access = LLVMBuildLoad2(f->b, mem_ty, p, "");
        LLVMSetOrdering(access, sc);
        result = widen(f, access, ty);
    } else if (code <= 0x1d) { /* store */
        LLVMValueRef v = jt_pop(f);
        LLVMValueRef p = atomic_addr(f, m, jt_pop(f), bytes);
        access = LLVMBuildStore(f->b, narrow(f, v, mem_ty), p);
        LLVMSetOrdering(access, sc);
    } else if (code <= 0x47) { /* read-modify-write */
        LLVMValueRef v = jt_pop(f);
        LLVMValueRef p = atomic_addr(f, m, jt_pop(f), bytes);
        access = LLVMBuildAtomicRMW(f->b, rmw_kind(code), p, narrow(f, v, mem_ty), sc, false);
        result = widen(f, access, ty);
    } else { /* cmpxchg: the expected value wrapped to the width, as the interpreter */
        LLVMValueRef repl = jt_pop(f), expected = jt_pop(f);
        LLVMValueRef p = atomic_addr(f, m, jt_pop(f), bytes);
        access = LLVMBuildAtomicCmpXchg(f->b, p, narrow(f, expected, mem_ty), narrow(f, repl, mem_ty),
                                        sc, sc, false);
        result = widen(f, LLVMBuildExtractValue(f->b, access, 0, ""), ty);
    }
    LLVMSetAlignment(access, bytes);
    jt_tbaa(f, access, jm->tbaa_memory);
    if (result)
        jt_push(f, result);
    return true;
}
