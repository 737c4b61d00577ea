/* The internal atomic instructions (threads): one per Wasm atomic
 * instruction, same name, generated from wasm/opcodes_atomic.h.
 *
 * They share the SIMD instructions' layout and compiler path
 * (compile_simd.c decodes both; src/exec/interp_atomic.inc runs these):
 *
 *   op [d] addr [operands...] offset
 *
 * d is the result slot (absent for stores), then one slot per operand in
 * Wasm stack order, then the memarg offset (a 64-bit memory's address and
 * offset are summed by MEM64_ADDR before, offset 0). atomic.fence is the op
 * word alone. */
#ifndef WHIRL_COMPILE_OPS_ATOMIC_H
#define WHIRL_COMPILE_OPS_ATOMIC_H

#include "wasm/opcodes.h"

#define ATOMIC_WORDS(imm, sig) (1 + (sizeof(sig) - 2) + ((imm) == IMM_MEMARG_ATOMIC))

#define IOP_X_ATOMIC(id, prefix, code, name, imm, sig, align) IOP_X(id, ATOMIC_WORDS(imm, sig))
#define IOPS_ATOMIC WASM_ATOMIC_OPCODES(IOP_X_ATOMIC)

#endif
