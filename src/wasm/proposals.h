/* Messages naming the post-2.0 proposal behind bytes whirl does not decode.
 *
 * whirl implements WebAssembly 2.0. A module built for a later proposal
 * (tail calls, memory64, threads, exception handling, GC, ...) is still
 * refused, but with a message that says which feature it needs rather than
 * "illegal opcode" or "malformed value type". Each function returns a
 * static message, or NULL when the bytes belong to no known proposal (the
 * caller then reports its 2.0 message). Callers name a proposal only where
 * the bytes cannot be a 2.0 malformation the spec tests expect with another
 * message; where they can, the 2.0 message stays first and the proposal is
 * appended (the *_HINT strings). */
#ifndef WHIRL_WASM_PROPOSALS_H
#define WHIRL_WASM_PROPOSALS_H

#include <stdbool.h>
#include <stdint.h>

/* An opcode: `prefix` 0 for single-byte opcodes, else 0xFB..0xFE with the
 * sub-opcode `code`. */
const char *wasm_proposal_opcode(uint8_t prefix, uint32_t code);

/* The message refusing instruction `op` (a wasm_op_t) when the feature it
 * belongs to is not in `features` (WASM_FEATURE_*), else NULL: relaxed SIMD
 * and atomics (threads), the instructions the validator is the one place to
 * refuse (the feature switches: -W relaxed-simd=n, -W threads=n). */
const char *wasm_proposal_switched_off(uint32_t features, int op);

/* A value or reference type byte (locals, params, results, globals, block
 * types, select, ref.null, tables, element segments). */
const char *wasm_proposal_valtype(uint8_t byte);

/* A type section entry's form byte other than 0x60 (func). */
const char *wasm_proposal_typeform(uint8_t byte);

/* A limits flags byte other than 0 or 1, for a memory or a table (0x02
 * keeps the 2.0 "integer too large" first). */
const char *wasm_proposal_limits(uint8_t flags, bool table);

#define WASM_PROPOSAL_TAG_SECTION "exception handling (tag section) is not supported"
#define WASM_PROPOSAL_TAG_IMPORT "exception handling (tag import) is not supported"
#define WASM_PROPOSAL_TAG_EXPORT "exception handling (tag export) is not supported"
#define WASM_PROPOSAL_MEMARG_INDEX \
    "multi-memory (a memory index in a load or store) is not supported"
/* Appended to 2.0 messages whose bytes a later proposal gives a meaning. */
#define WASM_PROPOSAL_MULTI_MEMORY_HINT "multi-memory is not supported"
#define WASM_PROPOSAL_EXTENDED_CONST_HINT "extended constant expressions are not supported"

#endif
