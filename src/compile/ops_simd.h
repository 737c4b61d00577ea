/* The internal SIMD instructions: one per Wasm SIMD instruction, same name,
 * generated from the table in wasm/opcodes_simd.h so that the two cannot
 * drift apart.
 *
 * Every one has the same layout, derived from its Wasm signature and
 * immediate (compile_simd.c decodes it, src/exec/interp_simd.inc runs it):
 *
 *   op [d] a b c ... [offset] [lane] [k0 k1 k2 k3]
 *
 * d is the result slot (absent for stores), then one slot per operand in
 * Wasm stack order (the deepest first; a v128 operand names the first of its
 * two slots), then the immediates: the memarg offset, the lane index, and
 * the 16 bytes of v128.const or of an i8x16.shuffle mask as four
 * little-endian words. */
#ifndef WHIRL_COMPILE_OPS_SIMD_H
#define WHIRL_COMPILE_OPS_SIMD_H

#include <stdbool.h>
#include <stdint.h>

#include "wasm/module.h"
#include "wasm/opcodes.h"

/* Words of the immediates. */
#define SIMD_IMM_WORDS(imm) \
    ((imm) == IMM_NONE ? 0 \
     : (imm) == IMM_MEMARG_LANE ? 2 \
     : ((imm) == IMM_V128 || (imm) == IMM_SHUFFLE) ? 4 : 1)

/* One word per operand and result: sizeof("vv:v") - 2 = 3 (SIG is never
 * NULL for SIMD). */
#define SIMD_WORDS(imm, sig) (1 + (sizeof(sig) - 2) + SIMD_IMM_WORDS(imm))

#define IOP_X_SIMD(id, prefix, code, name, imm, sig, align) IOP_X(id, SIMD_WORDS(imm, sig))
#define IOPS_SIMD WASM_SIMD_OPCODES(IOP_X_SIMD)

struct reader;

/* One SIMD instruction as the compiler emits it. */
typedef struct simd_instr {
    uint32_t op;            /* iop_t */
    uint8_t nparams;        /* operands popped (at most 3) */
    bool has_result;
    wasm_valtype_t result;
    uint8_t nimm;           /* immediate words */
    uint32_t imm[4];
    uint32_t memory;        /* memory index of a memory access (multi-memory) */
    bool has_memarg;
    uint64_t offset64;      /* the memarg's offset; imm[0] holds its low half */
} simd_instr_t;

/* Reads the immediates of SIMD instruction `op` (compile_simd.c). The
 * module is validated; returns false only if the reader failed. */
bool simd_decode(struct reader *r, wasm_op_t op, simd_instr_t *out);

#endif
