/* Compiling the SIMD instructions (see ops_simd.h for their layout), and
 * the atomic ones (ops_atomic.h), which have the same shape.
 *
 * SIMD instructions are not special-cased by the compiler: each maps to the
 * internal op of the same name, takes its operands from slots like any
 * numeric op, and its shape (operand count, result, immediates) follows from
 * its entry in the opcode table. compile.c pops the operands and emits the
 * words; this file only decodes. v128.const included: it writes its value
 * into the result slot like any other instruction, so the compiler's
 * constant entries stay 64-bit. */
#include <string.h>

#include "compile/ops.h"
#include "wasm/reader.h"

static uint32_t simd_iop(wasm_op_t op)
{
    switch (op) {
#define M(id, prefix, code, name, imm, sig, align) case WASM_OP_##id: return IOP_##id;
        WASM_SIMD_OPCODES(M)
        WASM_ATOMIC_OPCODES(M)
#undef M
    default:
        return IOP_COUNT;
    }
}

static wasm_valtype_t sig_valtype(char ch)
{
    switch (ch) {
    case 'i': return WASM_I32;
    case 'l': return WASM_I64;
    case 'f': return WASM_F32;
    case 'd': return WASM_F64;
    default: return WASM_V128;
    }
}

/* Four little-endian words from 16 bytes. */
static void read_16(reader_t *r, uint32_t *w)
{
    const uint8_t *b = read_bytes(r, 16);
    if (b)
        memcpy(w, b, 16); /* the host is little-endian, like the format */
    else
        memset(w, 0, 16);
}

bool simd_decode(reader_t *r, wasm_op_t op, simd_instr_t *out)
{
    const wasm_opinfo_t *info = &wasm_opinfo[op];
    memset(out, 0, sizeof *out);
    out->op = simd_iop(op);
    if (out->op == IOP_COUNT || !info->sig) {
        reader_fail(r, "instruction not supported by the compiler");
        return false;
    }
    const char *colon = strchr(info->sig, ':');
    out->nparams = (uint8_t)(colon - info->sig);
    out->has_result = colon[1] != '\0';
    if (out->has_result)
        out->result = sig_valtype(colon[1]);

    switch (info->imm) {
    case IMM_FENCE:
        read_u8(r); /* reserved zero byte */
        break;
    case IMM_MEMARG:
    case IMM_MEMARG_ATOMIC:
        /* alignment is only a hint (an atomic's equals its size: validated) */
        if (read_u32(r) & WASM_MEMARG_HAS_MEMORY)
            out->memory = read_u32(r);
        out->has_memarg = true;
        out->offset64 = read_uleb(r, 64);
        out->imm[out->nimm++] = (uint32_t)out->offset64;
        break;
    case IMM_MEMARG_LANE:
        if (read_u32(r) & WASM_MEMARG_HAS_MEMORY)
            out->memory = read_u32(r);
        out->has_memarg = true;
        out->offset64 = read_uleb(r, 64);
        out->imm[out->nimm++] = (uint32_t)out->offset64;
        out->imm[out->nimm++] = read_u8(r);
        break;
    case IMM_LANE2:
    case IMM_LANE4:
    case IMM_LANE8:
    case IMM_LANE16:
        out->imm[out->nimm++] = read_u8(r);
        break;
    case IMM_V128:
    case IMM_SHUFFLE:
        read_16(r, out->imm);
        out->nimm = 4;
        break;
    default:
        break;
    }
    return reader_ok(r);
}
