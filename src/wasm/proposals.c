/* See proposals.h. The opcode and type assignments are those of the
 * WebAssembly 3.0 specification and of the threads, wide-arithmetic and
 * custom-page-sizes proposals. */
#include "proposals.h"

#include "module.h"
#include "opcodes.h"

#include <stddef.h>

const char *wasm_proposal_opcode(uint8_t prefix, uint32_t code)
{
    switch (prefix) {
    case 0:
        switch (code) {
        case 0x06: return "legacy exception handling (`try`) is not supported";
        case 0x07: return "legacy exception handling (`catch`) is not supported";
        case 0x08: return "exception handling (`throw`) is not supported";
        case 0x09: return "legacy exception handling (`rethrow`) is not supported";
        case 0x0A: return "exception handling (`throw_ref`) is not supported";
        case 0x12: return "tail calls (`return_call`) are not supported";
        case 0x13: return "tail calls (`return_call_indirect`) are not supported";
        case 0x14: return "typed function references (`call_ref`) are not supported";
        case 0x15: return "tail calls (`return_call_ref`) are not supported";
        case 0x18: return "legacy exception handling (`delegate`) is not supported";
        case 0x19: return "legacy exception handling (`catch_all`) is not supported";
        case 0x1F: return "exception handling (`try_table`) is not supported";
        case 0xD3: return "garbage collection (`ref.eq`) is not supported";
        case 0xD4: return "typed function references (`ref.as_non_null`) are not supported";
        case 0xD5: return "typed function references (`br_on_null`) are not supported";
        case 0xD6: return "typed function references (`br_on_non_null`) are not supported";
        }
        return NULL;
    case 0xFB:
        return "garbage collection (0xfb instructions: structs, arrays, i31, casts) is not "
               "supported";
    case 0xFC:
        if (code >= 0x13 && code <= 0x16)
            return "wide arithmetic (`i64.add128` and friends) is not supported";
        return NULL;
    case 0xFD:
        if (code >= 0x100 && code <= 0x113)
            return "relaxed SIMD (0xfd 0x100-0x113) is not supported";
        return NULL;
    case 0xFE:
        return "atomic instructions (threads, 0xfe prefix) are not supported";
    }
    return NULL;
}

const char *wasm_proposal_switched_off(uint32_t features, int op)
{
    if (wasm_op_is_relaxed_simd((wasm_op_t)op) && !(features & WASM_FEATURE_RELAXED_SIMD))
        return wasm_proposal_opcode(0xFD, wasm_opinfo[op].code);
    if (wasm_op_is_atomic((wasm_op_t)op) && !(features & WASM_FEATURE_THREADS))
        return wasm_proposal_opcode(0xFE, wasm_opinfo[op].code);
    return NULL;
}

const char *wasm_proposal_valtype(uint8_t byte)
{
    switch (byte) {
    case 0x63: return "typed function references (`ref null` types) are not supported";
    case 0x64: return "typed function references (`ref` types) are not supported";
    case 0x69: return "exception handling (the `exnref` type) is not supported";
    case 0x74: return "exception handling (the `nullexnref` type) is not supported";
    case 0x6E: return "garbage collection (the `anyref` type) is not supported";
    case 0x6D: return "garbage collection (the `eqref` type) is not supported";
    case 0x6C: return "garbage collection (the `i31ref` type) is not supported";
    case 0x6B: return "garbage collection (the `structref` type) is not supported";
    case 0x6A: return "garbage collection (the `arrayref` type) is not supported";
    case 0x71: return "garbage collection (the `nullref` type) is not supported";
    case 0x72: return "garbage collection (the `nullexternref` type) is not supported";
    case 0x73: return "garbage collection (the `nullfuncref` type) is not supported";
    }
    return NULL;
}

const char *wasm_proposal_typeform(uint8_t byte)
{
    switch (byte) {
    case 0x5E: return "garbage collection (array types) is not supported";
    case 0x5F: return "garbage collection (struct types) is not supported";
    case 0x50: return "garbage collection (subtypes) is not supported";
    case 0x4F: return "garbage collection (final subtypes) is not supported";
    case 0x4E: return "garbage collection (recursive type groups) is not supported";
    }
    return NULL;
}

const char *wasm_proposal_limits(uint8_t flags, bool table)
{
    /* Bit 0 is "has a maximum"; bit 1 shared (threads); bit 2 64-bit
     * indices (memory64); bit 3 a page size (custom-page-sizes). */
    if (flags < 2 || flags > 0x0F)
        return NULL;
    if (flags & 8)
        return table ? NULL : "custom page sizes are not supported";
    if (flags & 4)
        return table ? "64-bit tables (memory64) are not supported"
                     : "64-bit memories (memory64) are not supported";
    /* 0x02 (shared, no maximum) is invalid under threads too, and the 2.0
     * spec tests expect "integer too large" for it. */
    if (flags == 2)
        return table ? "integer too large (flag 0x02 would be a shared table: not supported)"
                     : "integer too large (flag 0x02 would be a shared memory: threads are "
                       "not supported)";
    return table ? "shared tables (shared-everything threads) are not supported"
                 : "shared memories (threads) are not supported";
}
