/* The threads proposal's atomic instructions (prefix 0xFE), in the format
 * of the table in opcodes.h. Every memory access among them names its
 * natural alignment, which the validator requires exactly (IMM_MEMARG_ATOMIC);
 * atomic.fence has one reserved zero byte (IMM_FENCE).
 *
 * The read-modify-write groups come in the same seven widths, in this order:
 * i32, i64, i32 8-bit, i32 16-bit, i64 8-bit, i64 16-bit, i64 32-bit. */
#ifndef WHIRL_WASM_OPCODES_ATOMIC_H
#define WHIRL_WASM_OPCODES_ATOMIC_H

/* Sub-opcodes 0x00-0x4e. */
#define WASM_ATOMIC_OPCODE_COUNT 0x4F

#define WASM_ATOMIC_OPCODES(X) \
    X(MEMORY_ATOMIC_NOTIFY, 0xFE, 0x00, "memory.atomic.notify", IMM_MEMARG_ATOMIC, "ii:i", 2) \
    X(MEMORY_ATOMIC_WAIT32, 0xFE, 0x01, "memory.atomic.wait32", IMM_MEMARG_ATOMIC, "iil:i", 2) \
    X(MEMORY_ATOMIC_WAIT64, 0xFE, 0x02, "memory.atomic.wait64", IMM_MEMARG_ATOMIC, "ill:i", 3) \
    X(ATOMIC_FENCE, 0xFE, 0x03, "atomic.fence", IMM_FENCE, ":", 0) \
    X(I32_ATOMIC_LOAD, 0xFE, 0x10, "i32.atomic.load", IMM_MEMARG_ATOMIC, "i:i", 2) \
    X(I64_ATOMIC_LOAD, 0xFE, 0x11, "i64.atomic.load", IMM_MEMARG_ATOMIC, "i:l", 3) \
    X(I32_ATOMIC_LOAD8_U, 0xFE, 0x12, "i32.atomic.load8_u", IMM_MEMARG_ATOMIC, "i:i", 0) \
    X(I32_ATOMIC_LOAD16_U, 0xFE, 0x13, "i32.atomic.load16_u", IMM_MEMARG_ATOMIC, "i:i", 1) \
    X(I64_ATOMIC_LOAD8_U, 0xFE, 0x14, "i64.atomic.load8_u", IMM_MEMARG_ATOMIC, "i:l", 0) \
    X(I64_ATOMIC_LOAD16_U, 0xFE, 0x15, "i64.atomic.load16_u", IMM_MEMARG_ATOMIC, "i:l", 1) \
    X(I64_ATOMIC_LOAD32_U, 0xFE, 0x16, "i64.atomic.load32_u", IMM_MEMARG_ATOMIC, "i:l", 2) \
    X(I32_ATOMIC_STORE, 0xFE, 0x17, "i32.atomic.store", IMM_MEMARG_ATOMIC, "ii:", 2) \
    X(I64_ATOMIC_STORE, 0xFE, 0x18, "i64.atomic.store", IMM_MEMARG_ATOMIC, "il:", 3) \
    X(I32_ATOMIC_STORE8, 0xFE, 0x19, "i32.atomic.store8", IMM_MEMARG_ATOMIC, "ii:", 0) \
    X(I32_ATOMIC_STORE16, 0xFE, 0x1A, "i32.atomic.store16", IMM_MEMARG_ATOMIC, "ii:", 1) \
    X(I64_ATOMIC_STORE8, 0xFE, 0x1B, "i64.atomic.store8", IMM_MEMARG_ATOMIC, "il:", 0) \
    X(I64_ATOMIC_STORE16, 0xFE, 0x1C, "i64.atomic.store16", IMM_MEMARG_ATOMIC, "il:", 1) \
    X(I64_ATOMIC_STORE32, 0xFE, 0x1D, "i64.atomic.store32", IMM_MEMARG_ATOMIC, "il:", 2) \
    X(I32_ATOMIC_RMW_ADD, 0xFE, 0x1E, "i32.atomic.rmw.add", IMM_MEMARG_ATOMIC, "ii:i", 2) \
    X(I64_ATOMIC_RMW_ADD, 0xFE, 0x1F, "i64.atomic.rmw.add", IMM_MEMARG_ATOMIC, "il:l", 3) \
    X(I32_ATOMIC_RMW8_ADD_U, 0xFE, 0x20, "i32.atomic.rmw8.add_u", IMM_MEMARG_ATOMIC, "ii:i", 0) \
    X(I32_ATOMIC_RMW16_ADD_U, 0xFE, 0x21, "i32.atomic.rmw16.add_u", IMM_MEMARG_ATOMIC, "ii:i", 1) \
    X(I64_ATOMIC_RMW8_ADD_U, 0xFE, 0x22, "i64.atomic.rmw8.add_u", IMM_MEMARG_ATOMIC, "il:l", 0) \
    X(I64_ATOMIC_RMW16_ADD_U, 0xFE, 0x23, "i64.atomic.rmw16.add_u", IMM_MEMARG_ATOMIC, "il:l", 1) \
    X(I64_ATOMIC_RMW32_ADD_U, 0xFE, 0x24, "i64.atomic.rmw32.add_u", IMM_MEMARG_ATOMIC, "il:l", 2) \
    X(I32_ATOMIC_RMW_SUB, 0xFE, 0x25, "i32.atomic.rmw.sub", IMM_MEMARG_ATOMIC, "ii:i", 2) \
    X(I64_ATOMIC_RMW_SUB, 0xFE, 0x26, "i64.atomic.rmw.sub", IMM_MEMARG_ATOMIC, "il:l", 3) \
    X(I32_ATOMIC_RMW8_SUB_U, 0xFE, 0x27, "i32.atomic.rmw8.sub_u", IMM_MEMARG_ATOMIC, "ii:i", 0) \
    X(I32_ATOMIC_RMW16_SUB_U, 0xFE, 0x28, "i32.atomic.rmw16.sub_u", IMM_MEMARG_ATOMIC, "ii:i", 1) \
    X(I64_ATOMIC_RMW8_SUB_U, 0xFE, 0x29, "i64.atomic.rmw8.sub_u", IMM_MEMARG_ATOMIC, "il:l", 0) \
    X(I64_ATOMIC_RMW16_SUB_U, 0xFE, 0x2A, "i64.atomic.rmw16.sub_u", IMM_MEMARG_ATOMIC, "il:l", 1) \
    X(I64_ATOMIC_RMW32_SUB_U, 0xFE, 0x2B, "i64.atomic.rmw32.sub_u", IMM_MEMARG_ATOMIC, "il:l", 2) \
    X(I32_ATOMIC_RMW_AND, 0xFE, 0x2C, "i32.atomic.rmw.and", IMM_MEMARG_ATOMIC, "ii:i", 2) \
    X(I64_ATOMIC_RMW_AND, 0xFE, 0x2D, "i64.atomic.rmw.and", IMM_MEMARG_ATOMIC, "il:l", 3) \
    X(I32_ATOMIC_RMW8_AND_U, 0xFE, 0x2E, "i32.atomic.rmw8.and_u", IMM_MEMARG_ATOMIC, "ii:i", 0) \
    X(I32_ATOMIC_RMW16_AND_U, 0xFE, 0x2F, "i32.atomic.rmw16.and_u", IMM_MEMARG_ATOMIC, "ii:i", 1) \
    X(I64_ATOMIC_RMW8_AND_U, 0xFE, 0x30, "i64.atomic.rmw8.and_u", IMM_MEMARG_ATOMIC, "il:l", 0) \
    X(I64_ATOMIC_RMW16_AND_U, 0xFE, 0x31, "i64.atomic.rmw16.and_u", IMM_MEMARG_ATOMIC, "il:l", 1) \
    X(I64_ATOMIC_RMW32_AND_U, 0xFE, 0x32, "i64.atomic.rmw32.and_u", IMM_MEMARG_ATOMIC, "il:l", 2) \
    X(I32_ATOMIC_RMW_OR, 0xFE, 0x33, "i32.atomic.rmw.or", IMM_MEMARG_ATOMIC, "ii:i", 2) \
    X(I64_ATOMIC_RMW_OR, 0xFE, 0x34, "i64.atomic.rmw.or", IMM_MEMARG_ATOMIC, "il:l", 3) \
    X(I32_ATOMIC_RMW8_OR_U, 0xFE, 0x35, "i32.atomic.rmw8.or_u", IMM_MEMARG_ATOMIC, "ii:i", 0) \
    X(I32_ATOMIC_RMW16_OR_U, 0xFE, 0x36, "i32.atomic.rmw16.or_u", IMM_MEMARG_ATOMIC, "ii:i", 1) \
    X(I64_ATOMIC_RMW8_OR_U, 0xFE, 0x37, "i64.atomic.rmw8.or_u", IMM_MEMARG_ATOMIC, "il:l", 0) \
    X(I64_ATOMIC_RMW16_OR_U, 0xFE, 0x38, "i64.atomic.rmw16.or_u", IMM_MEMARG_ATOMIC, "il:l", 1) \
    X(I64_ATOMIC_RMW32_OR_U, 0xFE, 0x39, "i64.atomic.rmw32.or_u", IMM_MEMARG_ATOMIC, "il:l", 2) \
    X(I32_ATOMIC_RMW_XOR, 0xFE, 0x3A, "i32.atomic.rmw.xor", IMM_MEMARG_ATOMIC, "ii:i", 2) \
    X(I64_ATOMIC_RMW_XOR, 0xFE, 0x3B, "i64.atomic.rmw.xor", IMM_MEMARG_ATOMIC, "il:l", 3) \
    X(I32_ATOMIC_RMW8_XOR_U, 0xFE, 0x3C, "i32.atomic.rmw8.xor_u", IMM_MEMARG_ATOMIC, "ii:i", 0) \
    X(I32_ATOMIC_RMW16_XOR_U, 0xFE, 0x3D, "i32.atomic.rmw16.xor_u", IMM_MEMARG_ATOMIC, "ii:i", 1) \
    X(I64_ATOMIC_RMW8_XOR_U, 0xFE, 0x3E, "i64.atomic.rmw8.xor_u", IMM_MEMARG_ATOMIC, "il:l", 0) \
    X(I64_ATOMIC_RMW16_XOR_U, 0xFE, 0x3F, "i64.atomic.rmw16.xor_u", IMM_MEMARG_ATOMIC, "il:l", 1) \
    X(I64_ATOMIC_RMW32_XOR_U, 0xFE, 0x40, "i64.atomic.rmw32.xor_u", IMM_MEMARG_ATOMIC, "il:l", 2) \
    X(I32_ATOMIC_RMW_XCHG, 0xFE, 0x41, "i32.atomic.rmw.xchg", IMM_MEMARG_ATOMIC, "ii:i", 2) \
    X(I64_ATOMIC_RMW_XCHG, 0xFE, 0x42, "i64.atomic.rmw.xchg", IMM_MEMARG_ATOMIC, "il:l", 3) \
    X(I32_ATOMIC_RMW8_XCHG_U, 0xFE, 0x43, "i32.atomic.rmw8.xchg_u", IMM_MEMARG_ATOMIC, "ii:i", 0) \
    X(I32_ATOMIC_RMW16_XCHG_U, 0xFE, 0x44, "i32.atomic.rmw16.xchg_u", IMM_MEMARG_ATOMIC, "ii:i", 1) \
    X(I64_ATOMIC_RMW8_XCHG_U, 0xFE, 0x45, "i64.atomic.rmw8.xchg_u", IMM_MEMARG_ATOMIC, "il:l", 0) \
    X(I64_ATOMIC_RMW16_XCHG_U, 0xFE, 0x46, "i64.atomic.rmw16.xchg_u", IMM_MEMARG_ATOMIC, "il:l", 1) \
    X(I64_ATOMIC_RMW32_XCHG_U, 0xFE, 0x47, "i64.atomic.rmw32.xchg_u", IMM_MEMARG_ATOMIC, "il:l", 2) \
    X(I32_ATOMIC_RMW_CMPXCHG, 0xFE, 0x48, "i32.atomic.rmw.cmpxchg", IMM_MEMARG_ATOMIC, "iii:i", 2) \
    X(I64_ATOMIC_RMW_CMPXCHG, 0xFE, 0x49, "i64.atomic.rmw.cmpxchg", IMM_MEMARG_ATOMIC, "ill:l", 3) \
    X(I32_ATOMIC_RMW8_CMPXCHG_U, 0xFE, 0x4A, "i32.atomic.rmw8.cmpxchg_u", IMM_MEMARG_ATOMIC, "iii:i", 0) \
    X(I32_ATOMIC_RMW16_CMPXCHG_U, 0xFE, 0x4B, "i32.atomic.rmw16.cmpxchg_u", IMM_MEMARG_ATOMIC, "iii:i", 1) \
    X(I64_ATOMIC_RMW8_CMPXCHG_U, 0xFE, 0x4C, "i64.atomic.rmw8.cmpxchg_u", IMM_MEMARG_ATOMIC, "ill:l", 0) \
    X(I64_ATOMIC_RMW16_CMPXCHG_U, 0xFE, 0x4D, "i64.atomic.rmw16.cmpxchg_u", IMM_MEMARG_ATOMIC, "ill:l", 1) \
    X(I64_ATOMIC_RMW32_CMPXCHG_U, 0xFE, 0x4E, "i64.atomic.rmw32.cmpxchg_u", IMM_MEMARG_ATOMIC, "ill:l", 2)

#endif
