/* Memory, global, table and reference instructions. Loads and stores check
 * the effective address against the memory's current size explicitly,
 * unless the code is compiled for guarded memories (jt_needs_bounds_check);
 * the rest calls the binding's runtime functions. */
#include "alloc/alloc.h"
#include "jit/jit_binding.h"

/* Code compiled with guard_memory runs only against a 32-bit memory
 * whose reservation is ALLOC_MEMORY_RESERVATION (4 GiB addressable, 4 GiB
 * + 64 KiB of guard: jit_guard_ok, checked when native code is entered),
 * so any zext(i32) + u32 offset + access of at most 16 bytes (v128) lands
 * in the reservation, and everything past the accessible end is
 * PROT_NONE. The accessible end is a multiple of 64 KiB, so an access
 * straddling it touches a PROT_NONE page, and an x86-64 instruction that
 * faults writes nothing (precise exceptions; a v128 store is one movups),
 * which keeps "a store that traps has not written" true. Other
 * architectures may split a straddling store: trap_signal_arch_supported
 * is false there, so they keep explicit checks. */
bool jt_needs_bounds_check(const jt_func_t *f, uint32_t offset, unsigned bytes)
{
    return !f->jm->guard_memory ||
           (uint64_t)UINT32_MAX + offset + bytes > ALLOC_MEMORY_RESERVATION;
}

/* In code without checks the access itself is the check, and LLVM does
 * not know a load can trap: it would delete an unused one (`drop`),
 * merge adjacent stores into one that faults as a whole, or move a load
 * above an earlier store. A volatile access is kept, whole, once and in
 * order with the others, so it faults exactly where the interpreter's
 * check traps. */
void jt_memory_access(jt_func_t *f, LLVMValueRef access, bool checked)
{
    jt_tbaa(f, access, f->jm->tbaa_memory);
    if (checked)
        return;
    LLVMSetVolatile(access, true);
    /* Where it faults, for the trap message (jit/jit_pcmap.c). */
    LLVMContextRef cx = f->jm->llctx;
    LLVMValueRef site[] = {jt_const_i32(f, f->func_index), jt_const_i32(f, f->op_offset)};
    LLVMMetadataRef ops[] = {LLVMMDStringInContext2(cx, "whirl_pc", 8),
                             LLVMMDNodeInContext2(cx, (LLVMMetadataRef[]){
                                 LLVMValueAsMetadata(site[0]), LLVMValueAsMetadata(site[1])}, 2)};
    unsigned kind = LLVMGetMDKindIDInContext(cx, "pcsections", 10);
    LLVMSetMetadata(access, kind, LLVMMetadataAsValue(cx, LLVMMDNodeInContext2(cx, ops, 2)));
}

/* The address of an access of `bytes` at (i32 operand + offset), after the
 * bounds check (when jt_needs_bounds_check says so). The sum is formed in
 * 64 bits, so it cannot wrap. */
LLVMValueRef jt_checked_addr(jt_func_t *f, LLVMValueRef addr, uint32_t offset, unsigned bytes)
{
    LLVMValueRef ea = LLVMBuildZExt(f->b, addr, f->jm->i64, "");
    if (!jt_needs_bounds_check(f, offset, bytes)) {
        LLVMValueRef at = LLVMBuildAdd(f->b, ea, jt_const_i64(f, offset), "");
        return LLVMBuildGEP2(f->b, f->jm->i8, jb_mem_base(f), &at, 1, "");
    }
    LLVMValueRef end = LLVMBuildAdd(f->b, ea, jt_const_i64(f, (uint64_t)offset + bytes), "");
    jt_bounds_check(f, 0, end, NULL);
    LLVMValueRef at = LLVMBuildAdd(f->b, ea, jt_const_i64(f, offset), "");
    return LLVMBuildGEP2(f->b, f->jm->i8, jb_mem_base(f), &at, 1, "");
}

/* Whether jt_mem_addr checked an access explicitly: always, but for memory
 * 0 of 32 bits where the guard region covers it. */
static bool memarg_checked(jt_func_t *f, jt_memarg_t m, unsigned bytes)
{
    return m.memory != 0 || jt_memory_is64(f, 0) || m.offset > UINT32_MAX ||
           jt_needs_bounds_check(f, (uint32_t)m.offset, bytes);
}

/* A load of `mem_ty`, widened to `ty` (sign- or zero-extended). */
static void load(jt_func_t *f, LLVMTypeRef mem_ty, unsigned bytes, LLVMTypeRef ty, bool is_signed)
{
    jt_memarg_t m = jt_read_memarg(f);
    LLVMValueRef p = jt_mem_addr(f, m, jt_pop(f), bytes);
    LLVMValueRef v = LLVMBuildLoad2(f->b, mem_ty, p, "");
    LLVMSetAlignment(v, 1);
    jt_memory_access(f, v, memarg_checked(f, m, bytes));
    if (mem_ty != ty)
        v = is_signed ? LLVMBuildSExt(f->b, v, ty, "") : LLVMBuildZExt(f->b, v, ty, "");
    jt_push(f, v);
}

static void store(jt_func_t *f, LLVMTypeRef mem_ty, unsigned bytes)
{
    jt_memarg_t m = jt_read_memarg(f);
    LLVMValueRef v = jt_pop(f);
    LLVMValueRef p = jt_mem_addr(f, m, jt_pop(f), bytes);
    if (LLVMTypeOf(v) != mem_ty)
        v = LLVMBuildTrunc(f->b, v, mem_ty, "");
    LLVMValueRef st = LLVMBuildStore(f->b, v, p);
    LLVMSetAlignment(st, 1);
    jt_memory_access(f, st, memarg_checked(f, m, bytes));
}

/* Pops `n` operands into args[first..first+n) in stack order. */
static void pop_args(jt_func_t *f, LLVMValueRef *args, unsigned first, unsigned n)
{
    for (unsigned i = n; i-- > 0;)
        args[first + i] = jt_pop(f);
}

static LLVMValueRef imm(jt_func_t *f) { return jt_const_i32(f, read_u32(&f->r)); }

/* The table index immediate `t` (a constant made by imm). */
static uint32_t imm_value(LLVMValueRef t) { return (uint32_t)LLVMConstIntGetZExtValue(t); }

bool jt_memory(jt_func_t *f, wasm_op_t op)
{
    jt_module_t *jm = f->jm;
    LLVMValueRef a[8];
    switch (op) {
    case WASM_OP_I32_LOAD: load(f, jm->i32, 4, jm->i32, false); break;
    case WASM_OP_I64_LOAD: load(f, jm->i64, 8, jm->i64, false); break;
    case WASM_OP_F32_LOAD: load(f, jm->f32, 4, jm->f32, false); break;
    case WASM_OP_F64_LOAD: load(f, jm->f64, 8, jm->f64, false); break;
    case WASM_OP_I32_LOAD8_S: load(f, jm->i8, 1, jm->i32, true); break;
    case WASM_OP_I32_LOAD8_U: load(f, jm->i8, 1, jm->i32, false); break;
    case WASM_OP_I32_LOAD16_S: load(f, jm->i16, 2, jm->i32, true); break;
    case WASM_OP_I32_LOAD16_U: load(f, jm->i16, 2, jm->i32, false); break;
    case WASM_OP_I64_LOAD8_S: load(f, jm->i8, 1, jm->i64, true); break;
    case WASM_OP_I64_LOAD8_U: load(f, jm->i8, 1, jm->i64, false); break;
    case WASM_OP_I64_LOAD16_S: load(f, jm->i16, 2, jm->i64, true); break;
    case WASM_OP_I64_LOAD16_U: load(f, jm->i16, 2, jm->i64, false); break;
    case WASM_OP_I64_LOAD32_S: load(f, jm->i32, 4, jm->i64, true); break;
    case WASM_OP_I64_LOAD32_U: load(f, jm->i32, 4, jm->i64, false); break;
    case WASM_OP_I32_STORE: store(f, jm->i32, 4); break;
    case WASM_OP_I64_STORE: store(f, jm->i64, 8); break;
    case WASM_OP_F32_STORE: store(f, jm->f32, 4); break;
    case WASM_OP_F64_STORE: store(f, jm->f64, 8); break;
    case WASM_OP_I32_STORE8: case WASM_OP_I64_STORE8: store(f, jm->i8, 1); break;
    case WASM_OP_I32_STORE16: case WASM_OP_I64_STORE16: store(f, jm->i16, 2); break;
    case WASM_OP_I64_STORE32: store(f, jm->i32, 4); break;

    /* Memory 0 of 32 bits here; other memories and memory64 in
     * translate_wasm3.c. */
    case WASM_OP_MEMORY_SIZE:
    case WASM_OP_MEMORY_GROW:
    case WASM_OP_MEMORY_FILL: {
        uint32_t mem = read_u32(&f->r);
        if (mem || jt_memory_is64(f, 0))
            return jt_memory_wide_op(f, op, mem, mem, 0);
        if (op == WASM_OP_MEMORY_SIZE)
            goto memory_size;
        if (op == WASM_OP_MEMORY_GROW)
            goto memory_grow;
        goto memory_fill;
    }
    case WASM_OP_MEMORY_COPY: {
        uint32_t d = read_u32(&f->r), s = read_u32(&f->r);
        if (d || s || jt_memory_is64(f, 0))
            return jt_memory_wide_op(f, op, d, s, 0);
        goto memory_copy;
    }
    case WASM_OP_MEMORY_INIT: {
        uint32_t seg = read_u32(&f->r), mem = read_u32(&f->r);
        if (mem || jt_memory_is64(f, 0))
            return jt_memory_wide_op(f, op, mem, mem, seg);
        a[0] = f->ctx;
        a[1] = jt_const_i32(f, seg);
        goto memory_init;
    }
    memory_size:
        jt_push(f, LLVMBuildTrunc(f->b, LLVMBuildLShr(f->b, jb_mem_size_now(f, 0), jt_const_i64(f, 16), ""),
                                  jm->i32, ""));
        break;
    memory_grow:
        a[0] = f->ctx;
        a[1] = jt_pop(f);
        jt_push(f, jb_call(f, JB_RT_MEMORY_GROW, a, 2));
        break;
    memory_fill:
        a[0] = f->ctx;
        pop_args(f, a, 1, 3);
        a[4] = jb_site_func(f);
        a[5] = jb_site_offset(f);
        jb_call(f, JB_RT_MEMORY_FILL, a, 6);
        break;
    memory_copy:
        a[0] = f->ctx;
        pop_args(f, a, 1, 3);
        a[4] = jb_site_func(f);
        a[5] = jb_site_offset(f);
        jb_call(f, JB_RT_MEMORY_COPY, a, 6);
        break;
    memory_init:
        pop_args(f, a, 2, 3);
        a[5] = jb_site_func(f);
        a[6] = jb_site_offset(f);
        jb_call(f, JB_RT_MEMORY_INIT, a, 7);
        break;
    case WASM_OP_DATA_DROP:
        a[0] = f->ctx;
        a[1] = imm(f);
        jb_call(f, JB_RT_DATA_DROP, a, 2);
        break;

    case WASM_OP_GLOBAL_GET: {
        uint32_t i = read_u32(&f->r);
        LLVMTypeRef ty = jt_type(jm, wasm_module_global_type(jm->wasm, i)->type);
        LLVMValueRef v = LLVMBuildLoad2(f->b, ty, jb_global_ptr(f, i), "");
        LLVMSetAlignment(v, 8); /* a v128 value is 8-byte aligned only */
        jt_tbaa(f, v, jm->tbaa_global);
        jt_push(f, v);
        break;
    }
    case WASM_OP_GLOBAL_SET: {
        uint32_t i = read_u32(&f->r);
        LLVMValueRef v = jt_pop(f);
        LLVMValueRef st = LLVMBuildStore(f->b, v, jb_global_ptr(f, i));
        LLVMSetAlignment(st, 8);
        jt_tbaa(f, st, jm->tbaa_global);
        break;
    }

    case WASM_OP_TABLE_GET:
        a[0] = f->ctx;
        a[1] = imm(f);
        a[2] = jt_table64_index(f, imm_value(a[1]), jt_pop(f));
        a[3] = jb_site_func(f);
        a[4] = jb_site_offset(f);
        jt_push(f, jb_call(f, JB_RT_TABLE_GET, a, 5));
        break;
    case WASM_OP_TABLE_SET:
        a[0] = f->ctx;
        a[1] = imm(f);
        pop_args(f, a, 2, 2);
        a[2] = jt_table64_index(f, imm_value(a[1]), a[2]);
        a[4] = jb_site_func(f);
        a[5] = jb_site_offset(f);
        jb_call(f, JB_RT_TABLE_SET, a, 6);
        break;
    case WASM_OP_TABLE_SIZE:
        a[0] = f->ctx;
        a[1] = imm(f);
        a[2] = jb_call(f, JB_RT_TABLE_SIZE, a, 2);
        jt_push(f, jt_table_is64(f, imm_value(a[1])) ? LLVMBuildZExt(f->b, a[2], jm->i64, "") : a[2]);
        break;
    case WASM_OP_TABLE_GROW:
        a[0] = f->ctx;
        a[1] = imm(f);
        pop_args(f, a, 2, 2);
        a[3] = jt_table64_delta(f, imm_value(a[1]), a[3]);
        a[4] = jb_site_func(f);
        a[5] = jb_site_offset(f);
        a[6] = jb_call(f, JB_RT_TABLE_GROW, a, 6);
        /* -1 stays -1; old sizes are below 2^31 (as the interpreter). */
        jt_push(f, jt_table_is64(f, imm_value(a[1])) ? LLVMBuildSExt(f->b, a[6], jm->i64, "") : a[6]);
        break;
    case WASM_OP_TABLE_FILL:
        a[0] = f->ctx;
        a[1] = imm(f);
        pop_args(f, a, 2, 3);
        a[4] = jt_table64_index(f, imm_value(a[1]), a[4]);
        a[2] = jt_table64_index(f, imm_value(a[1]), a[2]);
        a[5] = jb_site_func(f);
        a[6] = jb_site_offset(f);
        jb_call(f, JB_RT_TABLE_FILL, a, 7);
        break;
    case WASM_OP_TABLE_COPY:
        a[0] = f->ctx;
        a[1] = imm(f);
        a[2] = imm(f);
        pop_args(f, a, 3, 3);
        /* The length is i64 only between two 64-bit tables. */
        if (jt_table_is64(f, imm_value(a[1])) && jt_table_is64(f, imm_value(a[2])))
            a[5] = jt_table64_index(f, imm_value(a[1]), a[5]);
        a[4] = jt_table64_index(f, imm_value(a[2]), a[4]);
        a[3] = jt_table64_index(f, imm_value(a[1]), a[3]);
        a[6] = jb_site_func(f);
        a[7] = jb_site_offset(f);
        jb_call(f, JB_RT_TABLE_COPY, a, 8);
        break;
    case WASM_OP_TABLE_INIT:
        a[0] = f->ctx;
        a[1] = imm(f); /* segment */
        a[2] = imm(f); /* table */
        pop_args(f, a, 3, 3);
        a[3] = jt_table64_index(f, imm_value(a[2]), a[3]); /* source and length: i32 */
        a[6] = jb_site_func(f);
        a[7] = jb_site_offset(f);
        jb_call(f, JB_RT_TABLE_INIT, a, 8);
        break;
    case WASM_OP_ELEM_DROP:
        a[0] = f->ctx;
        a[1] = imm(f);
        jb_call(f, JB_RT_ELEM_DROP, a, 2);
        break;

    case WASM_OP_REF_NULL:
        wasm_read_heaptype(&f->r, true, &(const char *){NULL});
        jt_push(f, LLVMConstNull(jm->ptr));
        break;
    case WASM_OP_REF_IS_NULL:
        jt_push(f, LLVMBuildZExt(f->b, LLVMBuildIsNull(f->b, jt_pop(f), ""), jm->i32, ""));
        break;
    case WASM_OP_REF_FUNC:
        jt_push(f, jb_func_ref(f, read_u32(&f->r)));
        break;
    default:
        return false;
    }
    return true;
}
