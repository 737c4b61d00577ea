/* Wasm 3.0 memory instructions in the LLVM tier: multi-memory (a memory
 * index in every memory instruction) and memory64 (i64 addresses).
 *
 * The access path of memory 0 when it is a 32-bit memory stays
 * jt_checked_addr's (translate_memory.c: its bounds check may become guard
 * pages); every other access comes here. A 64-bit address cannot be
 * covered by a guard region, so it is always checked explicitly, and the
 * check is overflow-safe: address + offset + size is formed with an
 * overflow flag, and an offset whose own end overflows traps outright. */
#include "jit/jit_binding.h"

static const wasm_memtype_t *memtype(jt_func_t *f, uint32_t mem)
{
    return wasm_module_memory_type(f->jm->wasm, mem);
}

bool jt_memory_is64(jt_func_t *f, uint32_t mem) { return memtype(f, mem)->limits.is64; }

jt_memarg_t jt_read_memarg(jt_func_t *f)
{
    jt_memarg_t a = {0, 0};
    uint32_t align = read_u32(&f->r); /* alignment: a hint only */
    if (align & WASM_MEMARG_HAS_MEMORY)
        a.memory = read_u32(&f->r);
    /* A 32-bit memory's offset is a u32: the same LEB read as a u64. */
    a.offset = read_u64(&f->r);
    return a;
}

void jt_skip_memarg(reader_t *r)
{
    if (read_u32(r) & WASM_MEMARG_HAS_MEMORY)
        read_u32(r);
    read_u64(r);
}

LLVMValueRef jt_mem_addr(jt_func_t *f, jt_memarg_t a, LLVMValueRef addr, unsigned bytes)
{
    bool is64 = jt_memory_is64(f, a.memory);
    if (a.memory == 0 && !is64)
        return jt_checked_addr(f, addr, (uint32_t)a.offset, bytes);
    jt_module_t *jm = f->jm;
    LLVMValueRef ea = is64 ? addr : LLVMBuildZExt(f->b, addr, jm->i64, "");
    if (a.offset > UINT64_MAX - bytes) {
        /* No address reaches past 2^64: always out of bounds. */
        jt_trap_if(f, LLVMConstInt(jm->i1, 1, false), WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS);
        return LLVMConstNull(jm->ptr);
    }
    LLVMValueRef end;
    if (is64) {
        LLVMValueRef args[] = {ea, jt_const_i64(f, a.offset + bytes)};
        LLVMTypeRef i64 = jm->i64;
        LLVMValueRef sum = jt_intrinsic(f, "llvm.uadd.with.overflow", &i64, 1, args, 2);
        LLVMValueRef wrapped = LLVMBuildExtractValue(f->b, sum, 1, "");
        end = LLVMBuildExtractValue(f->b, sum, 0, "");
        jt_bounds_check(f, a.memory, end, wrapped);
    } else {
        /* A u32 address plus a u32 offset and a size: no wrap in 64 bits. */
        end = LLVMBuildAdd(f->b, ea, jt_const_i64(f, a.offset + bytes), "");
        jt_bounds_check(f, a.memory, end, NULL);
    }
    LLVMValueRef at = LLVMBuildAdd(f->b, ea, jt_const_i64(f, a.offset), "");
    return LLVMBuildGEP2(f->b, jm->i8, jb_mem_base_at(f, a.memory), &at, 1, "");
}

LLVMValueRef jt_memarg_addr(jt_func_t *f, unsigned bytes)
{
    jt_memarg_t a = jt_read_memarg(f);
    return jt_mem_addr(f, a, jt_pop(f), bytes);
}

/* An address-typed operand of memory `mem` as i64. */
static LLVMValueRef wide(jt_func_t *f, uint32_t mem, LLVMValueRef v)
{
    return jt_memory_is64(f, mem) ? v : LLVMBuildZExt(f->b, v, f->jm->i64, "");
}

/* A length operand of memory.copy between `d` and `s`: i64 only when both
 * are 64-bit. */
static LLVMValueRef wide_len(jt_func_t *f, uint32_t d, uint32_t s, LLVMValueRef v)
{
    return jt_memory_is64(f, d) && jt_memory_is64(f, s) ? v
                                                       : LLVMBuildZExt(f->b, v, f->jm->i64, "");
}

bool jt_memory_wide_op(jt_func_t *f, wasm_op_t op, uint32_t mem, uint32_t mem2, uint32_t seg)
{
    jt_module_t *jm = f->jm;
    bool is64 = jt_memory_is64(f, mem);
    LLVMValueRef a[9];
    switch (op) {
    case WASM_OP_MEMORY_SIZE: {
        LLVMValueRef pages = LLVMBuildLShr(f->b, jb_mem_size_now(f, mem), jt_const_i64(f, 16), "");
        jt_push(f, is64 ? pages : LLVMBuildTrunc(f->b, pages, jm->i32, ""));
        return true;
    }
    case WASM_OP_MEMORY_GROW: {
        a[0] = f->ctx;
        a[1] = jt_const_i32(f, mem);
        a[2] = wide(f, mem, jt_pop(f));
        LLVMValueRef old = jb_call(f, JB_RT_MEMORY_GROW_AT, a, 3);
        jt_push(f, is64 ? old : LLVMBuildTrunc(f->b, old, jm->i32, ""));
        return true;
    }
    case WASM_OP_MEMORY_FILL: {
        LLVMValueRef n = jt_pop(f), value = jt_pop(f), d = jt_pop(f);
        a[0] = f->ctx;
        a[1] = jt_const_i32(f, mem);
        a[2] = wide(f, mem, d);
        a[3] = value;
        a[4] = wide(f, mem, n);
        a[5] = jb_site_func(f);
        a[6] = jb_site_offset(f);
        jb_call(f, JB_RT_MEMORY_FILL_AT, a, 7);
        return true;
    }
    case WASM_OP_MEMORY_COPY: { /* mem: destination, mem2: source */
        LLVMValueRef n = jt_pop(f), s = jt_pop(f), d = jt_pop(f);
        a[0] = f->ctx;
        a[1] = jt_const_i32(f, mem);
        a[2] = jt_const_i32(f, mem2);
        a[3] = wide(f, mem, d);
        a[4] = wide(f, mem2, s);
        a[5] = wide_len(f, mem, mem2, n);
        a[6] = jb_site_func(f);
        a[7] = jb_site_offset(f);
        jb_call(f, JB_RT_MEMORY_COPY_AT, a, 8);
        return true;
    }
    case WASM_OP_MEMORY_INIT: { /* source offset and length are i32 */
        LLVMValueRef n = jt_pop(f), s = jt_pop(f), d = jt_pop(f);
        a[0] = f->ctx;
        a[1] = jt_const_i32(f, mem);
        a[2] = jt_const_i32(f, seg);
        a[3] = wide(f, mem, d);
        a[4] = LLVMBuildZExt(f->b, s, jm->i64, "");
        a[5] = LLVMBuildZExt(f->b, n, jm->i64, "");
        a[6] = jb_site_func(f);
        a[7] = jb_site_offset(f);
        jb_call(f, JB_RT_MEMORY_INIT_AT, a, 8);
        return true;
    }
    default:
        return false;
    }
}

/* 64-bit tables: whirl's tables hold fewer than 2^32 elements, so an i64
 * index or length past 2^32 - 1 traps as out of bounds, as the
 * interpreter's TABLE64_INDEX does (same code, same instruction offset),
 * and the 32-bit operation runs on the low half. */
bool jt_table_is64(jt_func_t *f, uint32_t table)
{
    return wasm_module_table_type(f->jm->wasm, table)->limits.is64;
}

LLVMValueRef jt_table64_index(jt_func_t *f, uint32_t table, LLVMValueRef v)
{
    if (!jt_table_is64(f, table))
        return v;
    jt_trap_if(f, LLVMBuildICmp(f->b, LLVMIntUGT, v, jt_const_i64(f, UINT32_MAX), ""),
               WHIRL_TRAP_TABLE_OUT_OF_BOUNDS);
    return LLVMBuildTrunc(f->b, v, f->jm->i32, "");
}

/* table.grow's delta: past 2^32 - 1 saturates (the grow fails, as the
 * interpreter's TABLE64_DELTA makes it). */
LLVMValueRef jt_table64_delta(jt_func_t *f, uint32_t table, LLVMValueRef v)
{
    if (!jt_table_is64(f, table))
        return v;
    LLVMValueRef big = LLVMBuildICmp(f->b, LLVMIntUGT, v, jt_const_i64(f, UINT32_MAX), "");
    return LLVMBuildSelect(f->b, big, jt_const_i32(f, UINT32_MAX),
                           LLVMBuildTrunc(f->b, v, f->jm->i32, ""), "");
}
