/* Every WebAssembly 2.0 instruction, as one table (SIMD in opcodes_simd.h).
 *
 *   WASM_OPCODES(X) expands X(ID, PREFIX, CODE, NAME, IMM, SIG, ALIGN) per op:
 *   ID     enum suffix (WASM_OP_<ID>)
 *   PREFIX 0 for single-byte opcodes, 0xFC for the misc prefix, 0xFD for SIMD
 *   CODE   the byte, or the u32 sub-opcode after the prefix
 *   NAME   text-format name
 *   IMM    immediate layout (wasm_imm_t)
 *   SIG    operand types "params:results" with i=i32 l=i64 f=f32 d=f64 v=v128,
 *          or NULL for instructions the validator types by hand
 *   ALIGN  natural alignment (log2 bytes) for loads/stores, else 0
 *
 * The decoder, validator and compiler all read this table, so an instruction
 * is added in one place. */
#ifndef WHIRL_WASM_OPCODES_H
#define WHIRL_WASM_OPCODES_H

#include <stdbool.h>
#include <stdint.h>

typedef enum wasm_imm {
    IMM_NONE,
    IMM_BLOCKTYPE,     /* s33: empty (0x40), a value type, or a type index */
    IMM_LABEL,         /* u32 label depth */
    IMM_BR_TABLE,      /* vec(u32) labels, u32 default */
    IMM_FUNC,          /* u32 function index */
    IMM_CALL_INDIRECT, /* u32 type index, u32 table index */
    IMM_SELECT_T,      /* vec(valtype), length must be 1 */
    IMM_LOCAL,         /* u32 local index */
    IMM_GLOBAL,        /* u32 global index */
    IMM_TABLE,         /* u32 table index */
    IMM_MEMARG,        /* u32 align, u32 offset */
    IMM_MEMORY,        /* u32 memory index (0 in 2.0; a zero byte) */
    IMM_I32,           /* s32 */
    IMM_I64,           /* s64 */
    IMM_F32,           /* 4 bytes */
    IMM_F64,           /* 8 bytes */
    IMM_REFTYPE,       /* a heap type (s33: abstract type byte or type index) */
    IMM_TYPE,          /* u32 type index (call_ref, return_call_ref) */
    IMM_DATA_MEMORY,   /* u32 data index, memory index */
    IMM_DATA,          /* u32 data index */
    IMM_MEMORY_MEMORY, /* memory index (dst), memory index (src) */
    IMM_ELEM_TABLE,    /* u32 elem index, u32 table index */
    IMM_ELEM,          /* u32 elem index */
    IMM_TABLE_TABLE,   /* u32 table index (dst), u32 table index (src) */
    IMM_V128,          /* 16 bytes (v128.const) */
    IMM_SHUFFLE,       /* 16 lane-index bytes, each < 32 */
    IMM_LANE2,         /* one lane-index byte, < 2 */
    IMM_LANE4,         /* one lane-index byte, < 4 */
    IMM_LANE8,         /* one lane-index byte, < 8 */
    IMM_LANE16,        /* one lane-index byte, < 16 */
    IMM_MEMARG_LANE,   /* memarg, then a lane-index byte < 16 >> ALIGN */
    IMM_TAG,           /* u32 tag index (exception handling) */
    IMM_TRY_TABLE,     /* blocktype, vec(catch clause: kind byte, [tag], label) */
    IMM_MEMARG_ATOMIC, /* memarg whose alignment must equal ALIGN (threads) */
    IMM_FENCE,         /* one reserved zero byte (atomic.fence) */
} wasm_imm_t;

/* try_table's catch clause kinds, by their encoding. */
enum { WASM_CATCH = 0, WASM_CATCH_REF = 1, WASM_CATCH_ALL = 2, WASM_CATCH_ALL_REF = 3 };

#include "opcodes_atomic.h"
#include "opcodes_simd.h"

#define WASM_OPCODES(X) \
    X(UNREACHABLE, 0, 0x00, "unreachable", IMM_NONE, NULL, 0) \
    X(NOP, 0, 0x01, "nop", IMM_NONE, NULL, 0) \
    X(BLOCK, 0, 0x02, "block", IMM_BLOCKTYPE, NULL, 0) \
    X(LOOP, 0, 0x03, "loop", IMM_BLOCKTYPE, NULL, 0) \
    X(IF, 0, 0x04, "if", IMM_BLOCKTYPE, NULL, 0) \
    X(ELSE, 0, 0x05, "else", IMM_NONE, NULL, 0) \
    X(END, 0, 0x0B, "end", IMM_NONE, NULL, 0) \
    X(BR, 0, 0x0C, "br", IMM_LABEL, NULL, 0) \
    X(BR_IF, 0, 0x0D, "br_if", IMM_LABEL, NULL, 0) \
    X(BR_TABLE, 0, 0x0E, "br_table", IMM_BR_TABLE, NULL, 0) \
    X(RETURN, 0, 0x0F, "return", IMM_NONE, NULL, 0) \
    X(CALL, 0, 0x10, "call", IMM_FUNC, NULL, 0) \
    X(CALL_INDIRECT, 0, 0x11, "call_indirect", IMM_CALL_INDIRECT, NULL, 0) \
    X(RETURN_CALL, 0, 0x12, "return_call", IMM_FUNC, NULL, 0) \
    X(RETURN_CALL_INDIRECT, 0, 0x13, "return_call_indirect", IMM_CALL_INDIRECT, NULL, 0) \
    X(THROW, 0, 0x08, "throw", IMM_TAG, NULL, 0) \
    X(THROW_REF, 0, 0x0A, "throw_ref", IMM_NONE, NULL, 0) \
    X(TRY_TABLE, 0, 0x1F, "try_table", IMM_TRY_TABLE, NULL, 0) \
    X(TRY, 0, 0x06, "try", IMM_BLOCKTYPE, NULL, 0) \
    X(CATCH, 0, 0x07, "catch", IMM_TAG, NULL, 0) \
    X(RETHROW, 0, 0x09, "rethrow", IMM_LABEL, NULL, 0) \
    X(DELEGATE, 0, 0x18, "delegate", IMM_LABEL, NULL, 0) \
    X(CATCH_ALL, 0, 0x19, "catch_all", IMM_NONE, NULL, 0) \
    X(DROP, 0, 0x1A, "drop", IMM_NONE, NULL, 0) \
    X(SELECT, 0, 0x1B, "select", IMM_NONE, NULL, 0) \
    X(SELECT_T, 0, 0x1C, "select", IMM_SELECT_T, NULL, 0) \
    X(LOCAL_GET, 0, 0x20, "local.get", IMM_LOCAL, NULL, 0) \
    X(LOCAL_SET, 0, 0x21, "local.set", IMM_LOCAL, NULL, 0) \
    X(LOCAL_TEE, 0, 0x22, "local.tee", IMM_LOCAL, NULL, 0) \
    X(GLOBAL_GET, 0, 0x23, "global.get", IMM_GLOBAL, NULL, 0) \
    X(GLOBAL_SET, 0, 0x24, "global.set", IMM_GLOBAL, NULL, 0) \
    X(TABLE_GET, 0, 0x25, "table.get", IMM_TABLE, NULL, 0) \
    X(TABLE_SET, 0, 0x26, "table.set", IMM_TABLE, NULL, 0) \
    X(I32_LOAD, 0, 0x28, "i32.load", IMM_MEMARG, "i:i", 2) \
    X(I64_LOAD, 0, 0x29, "i64.load", IMM_MEMARG, "i:l", 3) \
    X(F32_LOAD, 0, 0x2A, "f32.load", IMM_MEMARG, "i:f", 2) \
    X(F64_LOAD, 0, 0x2B, "f64.load", IMM_MEMARG, "i:d", 3) \
    X(I32_LOAD8_S, 0, 0x2C, "i32.load8_s", IMM_MEMARG, "i:i", 0) \
    X(I32_LOAD8_U, 0, 0x2D, "i32.load8_u", IMM_MEMARG, "i:i", 0) \
    X(I32_LOAD16_S, 0, 0x2E, "i32.load16_s", IMM_MEMARG, "i:i", 1) \
    X(I32_LOAD16_U, 0, 0x2F, "i32.load16_u", IMM_MEMARG, "i:i", 1) \
    X(I64_LOAD8_S, 0, 0x30, "i64.load8_s", IMM_MEMARG, "i:l", 0) \
    X(I64_LOAD8_U, 0, 0x31, "i64.load8_u", IMM_MEMARG, "i:l", 0) \
    X(I64_LOAD16_S, 0, 0x32, "i64.load16_s", IMM_MEMARG, "i:l", 1) \
    X(I64_LOAD16_U, 0, 0x33, "i64.load16_u", IMM_MEMARG, "i:l", 1) \
    X(I64_LOAD32_S, 0, 0x34, "i64.load32_s", IMM_MEMARG, "i:l", 2) \
    X(I64_LOAD32_U, 0, 0x35, "i64.load32_u", IMM_MEMARG, "i:l", 2) \
    X(I32_STORE, 0, 0x36, "i32.store", IMM_MEMARG, "ii:", 2) \
    X(I64_STORE, 0, 0x37, "i64.store", IMM_MEMARG, "il:", 3) \
    X(F32_STORE, 0, 0x38, "f32.store", IMM_MEMARG, "if:", 2) \
    X(F64_STORE, 0, 0x39, "f64.store", IMM_MEMARG, "id:", 3) \
    X(I32_STORE8, 0, 0x3A, "i32.store8", IMM_MEMARG, "ii:", 0) \
    X(I32_STORE16, 0, 0x3B, "i32.store16", IMM_MEMARG, "ii:", 1) \
    X(I64_STORE8, 0, 0x3C, "i64.store8", IMM_MEMARG, "il:", 0) \
    X(I64_STORE16, 0, 0x3D, "i64.store16", IMM_MEMARG, "il:", 1) \
    X(I64_STORE32, 0, 0x3E, "i64.store32", IMM_MEMARG, "il:", 2) \
    X(MEMORY_SIZE, 0, 0x3F, "memory.size", IMM_MEMORY, ":i", 0) \
    X(MEMORY_GROW, 0, 0x40, "memory.grow", IMM_MEMORY, "i:i", 0) \
    X(I32_CONST, 0, 0x41, "i32.const", IMM_I32, ":i", 0) \
    X(I64_CONST, 0, 0x42, "i64.const", IMM_I64, ":l", 0) \
    X(F32_CONST, 0, 0x43, "f32.const", IMM_F32, ":f", 0) \
    X(F64_CONST, 0, 0x44, "f64.const", IMM_F64, ":d", 0) \
    X(I32_EQZ, 0, 0x45, "i32.eqz", IMM_NONE, "i:i", 0) \
    X(I32_EQ, 0, 0x46, "i32.eq", IMM_NONE, "ii:i", 0) \
    X(I32_NE, 0, 0x47, "i32.ne", IMM_NONE, "ii:i", 0) \
    X(I32_LT_S, 0, 0x48, "i32.lt_s", IMM_NONE, "ii:i", 0) \
    X(I32_LT_U, 0, 0x49, "i32.lt_u", IMM_NONE, "ii:i", 0) \
    X(I32_GT_S, 0, 0x4A, "i32.gt_s", IMM_NONE, "ii:i", 0) \
    X(I32_GT_U, 0, 0x4B, "i32.gt_u", IMM_NONE, "ii:i", 0) \
    X(I32_LE_S, 0, 0x4C, "i32.le_s", IMM_NONE, "ii:i", 0) \
    X(I32_LE_U, 0, 0x4D, "i32.le_u", IMM_NONE, "ii:i", 0) \
    X(I32_GE_S, 0, 0x4E, "i32.ge_s", IMM_NONE, "ii:i", 0) \
    X(I32_GE_U, 0, 0x4F, "i32.ge_u", IMM_NONE, "ii:i", 0) \
    X(I64_EQZ, 0, 0x50, "i64.eqz", IMM_NONE, "l:i", 0) \
    X(I64_EQ, 0, 0x51, "i64.eq", IMM_NONE, "ll:i", 0) \
    X(I64_NE, 0, 0x52, "i64.ne", IMM_NONE, "ll:i", 0) \
    X(I64_LT_S, 0, 0x53, "i64.lt_s", IMM_NONE, "ll:i", 0) \
    X(I64_LT_U, 0, 0x54, "i64.lt_u", IMM_NONE, "ll:i", 0) \
    X(I64_GT_S, 0, 0x55, "i64.gt_s", IMM_NONE, "ll:i", 0) \
    X(I64_GT_U, 0, 0x56, "i64.gt_u", IMM_NONE, "ll:i", 0) \
    X(I64_LE_S, 0, 0x57, "i64.le_s", IMM_NONE, "ll:i", 0) \
    X(I64_LE_U, 0, 0x58, "i64.le_u", IMM_NONE, "ll:i", 0) \
    X(I64_GE_S, 0, 0x59, "i64.ge_s", IMM_NONE, "ll:i", 0) \
    X(I64_GE_U, 0, 0x5A, "i64.ge_u", IMM_NONE, "ll:i", 0) \
    X(F32_EQ, 0, 0x5B, "f32.eq", IMM_NONE, "ff:i", 0) \
    X(F32_NE, 0, 0x5C, "f32.ne", IMM_NONE, "ff:i", 0) \
    X(F32_LT, 0, 0x5D, "f32.lt", IMM_NONE, "ff:i", 0) \
    X(F32_GT, 0, 0x5E, "f32.gt", IMM_NONE, "ff:i", 0) \
    X(F32_LE, 0, 0x5F, "f32.le", IMM_NONE, "ff:i", 0) \
    X(F32_GE, 0, 0x60, "f32.ge", IMM_NONE, "ff:i", 0) \
    X(F64_EQ, 0, 0x61, "f64.eq", IMM_NONE, "dd:i", 0) \
    X(F64_NE, 0, 0x62, "f64.ne", IMM_NONE, "dd:i", 0) \
    X(F64_LT, 0, 0x63, "f64.lt", IMM_NONE, "dd:i", 0) \
    X(F64_GT, 0, 0x64, "f64.gt", IMM_NONE, "dd:i", 0) \
    X(F64_LE, 0, 0x65, "f64.le", IMM_NONE, "dd:i", 0) \
    X(F64_GE, 0, 0x66, "f64.ge", IMM_NONE, "dd:i", 0) \
    X(I32_CLZ, 0, 0x67, "i32.clz", IMM_NONE, "i:i", 0) \
    X(I32_CTZ, 0, 0x68, "i32.ctz", IMM_NONE, "i:i", 0) \
    X(I32_POPCNT, 0, 0x69, "i32.popcnt", IMM_NONE, "i:i", 0) \
    X(I32_ADD, 0, 0x6A, "i32.add", IMM_NONE, "ii:i", 0) \
    X(I32_SUB, 0, 0x6B, "i32.sub", IMM_NONE, "ii:i", 0) \
    X(I32_MUL, 0, 0x6C, "i32.mul", IMM_NONE, "ii:i", 0) \
    X(I32_DIV_S, 0, 0x6D, "i32.div_s", IMM_NONE, "ii:i", 0) \
    X(I32_DIV_U, 0, 0x6E, "i32.div_u", IMM_NONE, "ii:i", 0) \
    X(I32_REM_S, 0, 0x6F, "i32.rem_s", IMM_NONE, "ii:i", 0) \
    X(I32_REM_U, 0, 0x70, "i32.rem_u", IMM_NONE, "ii:i", 0) \
    X(I32_AND, 0, 0x71, "i32.and", IMM_NONE, "ii:i", 0) \
    X(I32_OR, 0, 0x72, "i32.or", IMM_NONE, "ii:i", 0) \
    X(I32_XOR, 0, 0x73, "i32.xor", IMM_NONE, "ii:i", 0) \
    X(I32_SHL, 0, 0x74, "i32.shl", IMM_NONE, "ii:i", 0) \
    X(I32_SHR_S, 0, 0x75, "i32.shr_s", IMM_NONE, "ii:i", 0) \
    X(I32_SHR_U, 0, 0x76, "i32.shr_u", IMM_NONE, "ii:i", 0) \
    X(I32_ROTL, 0, 0x77, "i32.rotl", IMM_NONE, "ii:i", 0) \
    X(I32_ROTR, 0, 0x78, "i32.rotr", IMM_NONE, "ii:i", 0) \
    X(I64_CLZ, 0, 0x79, "i64.clz", IMM_NONE, "l:l", 0) \
    X(I64_CTZ, 0, 0x7A, "i64.ctz", IMM_NONE, "l:l", 0) \
    X(I64_POPCNT, 0, 0x7B, "i64.popcnt", IMM_NONE, "l:l", 0) \
    X(I64_ADD, 0, 0x7C, "i64.add", IMM_NONE, "ll:l", 0) \
    X(I64_SUB, 0, 0x7D, "i64.sub", IMM_NONE, "ll:l", 0) \
    X(I64_MUL, 0, 0x7E, "i64.mul", IMM_NONE, "ll:l", 0) \
    X(I64_DIV_S, 0, 0x7F, "i64.div_s", IMM_NONE, "ll:l", 0) \
    X(I64_DIV_U, 0, 0x80, "i64.div_u", IMM_NONE, "ll:l", 0) \
    X(I64_REM_S, 0, 0x81, "i64.rem_s", IMM_NONE, "ll:l", 0) \
    X(I64_REM_U, 0, 0x82, "i64.rem_u", IMM_NONE, "ll:l", 0) \
    X(I64_AND, 0, 0x83, "i64.and", IMM_NONE, "ll:l", 0) \
    X(I64_OR, 0, 0x84, "i64.or", IMM_NONE, "ll:l", 0) \
    X(I64_XOR, 0, 0x85, "i64.xor", IMM_NONE, "ll:l", 0) \
    X(I64_SHL, 0, 0x86, "i64.shl", IMM_NONE, "ll:l", 0) \
    X(I64_SHR_S, 0, 0x87, "i64.shr_s", IMM_NONE, "ll:l", 0) \
    X(I64_SHR_U, 0, 0x88, "i64.shr_u", IMM_NONE, "ll:l", 0) \
    X(I64_ROTL, 0, 0x89, "i64.rotl", IMM_NONE, "ll:l", 0) \
    X(I64_ROTR, 0, 0x8A, "i64.rotr", IMM_NONE, "ll:l", 0) \
    X(F32_ABS, 0, 0x8B, "f32.abs", IMM_NONE, "f:f", 0) \
    X(F32_NEG, 0, 0x8C, "f32.neg", IMM_NONE, "f:f", 0) \
    X(F32_CEIL, 0, 0x8D, "f32.ceil", IMM_NONE, "f:f", 0) \
    X(F32_FLOOR, 0, 0x8E, "f32.floor", IMM_NONE, "f:f", 0) \
    X(F32_TRUNC, 0, 0x8F, "f32.trunc", IMM_NONE, "f:f", 0) \
    X(F32_NEAREST, 0, 0x90, "f32.nearest", IMM_NONE, "f:f", 0) \
    X(F32_SQRT, 0, 0x91, "f32.sqrt", IMM_NONE, "f:f", 0) \
    X(F32_ADD, 0, 0x92, "f32.add", IMM_NONE, "ff:f", 0) \
    X(F32_SUB, 0, 0x93, "f32.sub", IMM_NONE, "ff:f", 0) \
    X(F32_MUL, 0, 0x94, "f32.mul", IMM_NONE, "ff:f", 0) \
    X(F32_DIV, 0, 0x95, "f32.div", IMM_NONE, "ff:f", 0) \
    X(F32_MIN, 0, 0x96, "f32.min", IMM_NONE, "ff:f", 0) \
    X(F32_MAX, 0, 0x97, "f32.max", IMM_NONE, "ff:f", 0) \
    X(F32_COPYSIGN, 0, 0x98, "f32.copysign", IMM_NONE, "ff:f", 0) \
    X(F64_ABS, 0, 0x99, "f64.abs", IMM_NONE, "d:d", 0) \
    X(F64_NEG, 0, 0x9A, "f64.neg", IMM_NONE, "d:d", 0) \
    X(F64_CEIL, 0, 0x9B, "f64.ceil", IMM_NONE, "d:d", 0) \
    X(F64_FLOOR, 0, 0x9C, "f64.floor", IMM_NONE, "d:d", 0) \
    X(F64_TRUNC, 0, 0x9D, "f64.trunc", IMM_NONE, "d:d", 0) \
    X(F64_NEAREST, 0, 0x9E, "f64.nearest", IMM_NONE, "d:d", 0) \
    X(F64_SQRT, 0, 0x9F, "f64.sqrt", IMM_NONE, "d:d", 0) \
    X(F64_ADD, 0, 0xA0, "f64.add", IMM_NONE, "dd:d", 0) \
    X(F64_SUB, 0, 0xA1, "f64.sub", IMM_NONE, "dd:d", 0) \
    X(F64_MUL, 0, 0xA2, "f64.mul", IMM_NONE, "dd:d", 0) \
    X(F64_DIV, 0, 0xA3, "f64.div", IMM_NONE, "dd:d", 0) \
    X(F64_MIN, 0, 0xA4, "f64.min", IMM_NONE, "dd:d", 0) \
    X(F64_MAX, 0, 0xA5, "f64.max", IMM_NONE, "dd:d", 0) \
    X(F64_COPYSIGN, 0, 0xA6, "f64.copysign", IMM_NONE, "dd:d", 0) \
    X(I32_WRAP_I64, 0, 0xA7, "i32.wrap_i64", IMM_NONE, "l:i", 0) \
    X(I32_TRUNC_F32_S, 0, 0xA8, "i32.trunc_f32_s", IMM_NONE, "f:i", 0) \
    X(I32_TRUNC_F32_U, 0, 0xA9, "i32.trunc_f32_u", IMM_NONE, "f:i", 0) \
    X(I32_TRUNC_F64_S, 0, 0xAA, "i32.trunc_f64_s", IMM_NONE, "d:i", 0) \
    X(I32_TRUNC_F64_U, 0, 0xAB, "i32.trunc_f64_u", IMM_NONE, "d:i", 0) \
    X(I64_EXTEND_I32_S, 0, 0xAC, "i64.extend_i32_s", IMM_NONE, "i:l", 0) \
    X(I64_EXTEND_I32_U, 0, 0xAD, "i64.extend_i32_u", IMM_NONE, "i:l", 0) \
    X(I64_TRUNC_F32_S, 0, 0xAE, "i64.trunc_f32_s", IMM_NONE, "f:l", 0) \
    X(I64_TRUNC_F32_U, 0, 0xAF, "i64.trunc_f32_u", IMM_NONE, "f:l", 0) \
    X(I64_TRUNC_F64_S, 0, 0xB0, "i64.trunc_f64_s", IMM_NONE, "d:l", 0) \
    X(I64_TRUNC_F64_U, 0, 0xB1, "i64.trunc_f64_u", IMM_NONE, "d:l", 0) \
    X(F32_CONVERT_I32_S, 0, 0xB2, "f32.convert_i32_s", IMM_NONE, "i:f", 0) \
    X(F32_CONVERT_I32_U, 0, 0xB3, "f32.convert_i32_u", IMM_NONE, "i:f", 0) \
    X(F32_CONVERT_I64_S, 0, 0xB4, "f32.convert_i64_s", IMM_NONE, "l:f", 0) \
    X(F32_CONVERT_I64_U, 0, 0xB5, "f32.convert_i64_u", IMM_NONE, "l:f", 0) \
    X(F32_DEMOTE_F64, 0, 0xB6, "f32.demote_f64", IMM_NONE, "d:f", 0) \
    X(F64_CONVERT_I32_S, 0, 0xB7, "f64.convert_i32_s", IMM_NONE, "i:d", 0) \
    X(F64_CONVERT_I32_U, 0, 0xB8, "f64.convert_i32_u", IMM_NONE, "i:d", 0) \
    X(F64_CONVERT_I64_S, 0, 0xB9, "f64.convert_i64_s", IMM_NONE, "l:d", 0) \
    X(F64_CONVERT_I64_U, 0, 0xBA, "f64.convert_i64_u", IMM_NONE, "l:d", 0) \
    X(F64_PROMOTE_F32, 0, 0xBB, "f64.promote_f32", IMM_NONE, "f:d", 0) \
    X(I32_REINTERPRET_F32, 0, 0xBC, "i32.reinterpret_f32", IMM_NONE, "f:i", 0) \
    X(I64_REINTERPRET_F64, 0, 0xBD, "i64.reinterpret_f64", IMM_NONE, "d:l", 0) \
    X(F32_REINTERPRET_I32, 0, 0xBE, "f32.reinterpret_i32", IMM_NONE, "i:f", 0) \
    X(F64_REINTERPRET_I64, 0, 0xBF, "f64.reinterpret_i64", IMM_NONE, "l:d", 0) \
    X(I32_EXTEND8_S, 0, 0xC0, "i32.extend8_s", IMM_NONE, "i:i", 0) \
    X(I32_EXTEND16_S, 0, 0xC1, "i32.extend16_s", IMM_NONE, "i:i", 0) \
    X(I64_EXTEND8_S, 0, 0xC2, "i64.extend8_s", IMM_NONE, "l:l", 0) \
    X(I64_EXTEND16_S, 0, 0xC3, "i64.extend16_s", IMM_NONE, "l:l", 0) \
    X(I64_EXTEND32_S, 0, 0xC4, "i64.extend32_s", IMM_NONE, "l:l", 0) \
    X(REF_NULL, 0, 0xD0, "ref.null", IMM_REFTYPE, NULL, 0) \
    X(REF_IS_NULL, 0, 0xD1, "ref.is_null", IMM_NONE, NULL, 0) \
    X(REF_FUNC, 0, 0xD2, "ref.func", IMM_FUNC, NULL, 0) \
    X(REF_AS_NON_NULL, 0, 0xD4, "ref.as_non_null", IMM_NONE, NULL, 0) \
    X(BR_ON_NULL, 0, 0xD5, "br_on_null", IMM_LABEL, NULL, 0) \
    X(BR_ON_NON_NULL, 0, 0xD6, "br_on_non_null", IMM_LABEL, NULL, 0) \
    X(CALL_REF, 0, 0x14, "call_ref", IMM_TYPE, NULL, 0) \
    X(RETURN_CALL_REF, 0, 0x15, "return_call_ref", IMM_TYPE, NULL, 0) \
    X(I32_TRUNC_SAT_F32_S, 0xFC, 0, "i32.trunc_sat_f32_s", IMM_NONE, "f:i", 0) \
    X(I32_TRUNC_SAT_F32_U, 0xFC, 1, "i32.trunc_sat_f32_u", IMM_NONE, "f:i", 0) \
    X(I32_TRUNC_SAT_F64_S, 0xFC, 2, "i32.trunc_sat_f64_s", IMM_NONE, "d:i", 0) \
    X(I32_TRUNC_SAT_F64_U, 0xFC, 3, "i32.trunc_sat_f64_u", IMM_NONE, "d:i", 0) \
    X(I64_TRUNC_SAT_F32_S, 0xFC, 4, "i64.trunc_sat_f32_s", IMM_NONE, "f:l", 0) \
    X(I64_TRUNC_SAT_F32_U, 0xFC, 5, "i64.trunc_sat_f32_u", IMM_NONE, "f:l", 0) \
    X(I64_TRUNC_SAT_F64_S, 0xFC, 6, "i64.trunc_sat_f64_s", IMM_NONE, "d:l", 0) \
    X(I64_TRUNC_SAT_F64_U, 0xFC, 7, "i64.trunc_sat_f64_u", IMM_NONE, "d:l", 0) \
    X(MEMORY_INIT, 0xFC, 8, "memory.init", IMM_DATA_MEMORY, "iii:", 0) \
    X(DATA_DROP, 0xFC, 9, "data.drop", IMM_DATA, ":", 0) \
    X(MEMORY_COPY, 0xFC, 10, "memory.copy", IMM_MEMORY_MEMORY, "iii:", 0) \
    X(MEMORY_FILL, 0xFC, 11, "memory.fill", IMM_MEMORY, "iii:", 0) \
    X(TABLE_INIT, 0xFC, 12, "table.init", IMM_ELEM_TABLE, "iii:", 0) \
    X(ELEM_DROP, 0xFC, 13, "elem.drop", IMM_ELEM, ":", 0) \
    X(TABLE_COPY, 0xFC, 14, "table.copy", IMM_TABLE_TABLE, "iii:", 0) \
    X(TABLE_GROW, 0xFC, 15, "table.grow", IMM_TABLE, NULL, 0) \
    X(TABLE_SIZE, 0xFC, 16, "table.size", IMM_TABLE, ":i", 0) \
    X(TABLE_FILL, 0xFC, 17, "table.fill", IMM_TABLE, NULL, 0) \
    WASM_SIMD_OPCODES(X) \
    WASM_ATOMIC_OPCODES(X)

typedef enum wasm_op {
#define WASM_OP_ENUM(id, prefix, code, name, imm, sig, align) WASM_OP_##id,
    WASM_OPCODES(WASM_OP_ENUM)
#undef WASM_OP_ENUM
    WASM_OP_COUNT
} wasm_op_t;

/* Bit 6 of a memarg's alignment field: a memory index follows it
 * (multi-memory). */
#define WASM_MEMARG_HAS_MEMORY 0x40u

typedef struct wasm_opinfo {
    uint8_t prefix;
    uint32_t code;
    const char *name;
    wasm_imm_t imm;
    const char *sig;
    uint8_t align;
} wasm_opinfo_t;

extern const wasm_opinfo_t wasm_opinfo[WASM_OP_COUNT];

/* The relaxed SIMD instructions (0xfd 0x100-0x113, WebAssembly 3.0). */
static inline bool wasm_op_is_relaxed_simd(wasm_op_t op)
{
    return wasm_opinfo[op].prefix == 0xFD && wasm_opinfo[op].code >= 0x100;
}

/* The atomic instructions (0xfe prefix, threads). */
static inline bool wasm_op_is_atomic(wasm_op_t op)
{
    return wasm_opinfo[op].prefix == 0xFE;
}

/* Number of lanes a lane-index immediate of `op` selects from (0: none). */
static inline unsigned wasm_op_lanes(wasm_op_t op)
{
    switch (wasm_opinfo[op].imm) {
    case IMM_LANE2: return 2;
    case IMM_LANE4: return 4;
    case IMM_LANE8: return 8;
    case IMM_LANE16: return 16;
    case IMM_MEMARG_LANE: return 16u >> wasm_opinfo[op].align;
    default: return 0;
    }
}

struct reader;

/* Reads an opcode (with its prefix and sub-opcode, if any). Returns the op,
 * or -1 after recording "illegal opcode" (or a LEB error) in the reader. */
int wasm_read_op(struct reader *r);

/* Skips the immediates of `op`. Used where an instruction is decoded only to
 * be rejected or passed over (constant expressions, unreachable code). */
void wasm_skip_immediates(struct reader *r, wasm_op_t op);

#endif
