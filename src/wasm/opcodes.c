#include "opcodes.h"
#include "reftypes.h"

#include "proposals.h"
#include "reader.h"

const wasm_opinfo_t wasm_opinfo[WASM_OP_COUNT] = {
#define WASM_OP_INFO(id, prefix, code, name, imm, sig, align) {prefix, code, name, imm, sig, align},
    WASM_OPCODES(WASM_OP_INFO)
#undef WASM_OP_INFO
};

/* Opcode byte -> op + 1 (0 = illegal), built from the table on first use. */
enum { FC_OPS = 18, FD_OPS = 0x114 };
static int16_t single_byte_ops[256];
static int16_t fc_ops[FC_OPS];
static int16_t fd_ops[FD_OPS];
static int16_t fe_ops[WASM_ATOMIC_OPCODE_COUNT];

__attribute__((constructor)) static void opcodes_init(void)
{
    for (int op = 0; op < WASM_OP_COUNT; op++) {
        const wasm_opinfo_t *info = &wasm_opinfo[op];
        if (info->prefix == 0)
            single_byte_ops[info->code] = (int16_t)(op + 1);
        else if (info->prefix == 0xFC && info->code < FC_OPS)
            fc_ops[info->code] = (int16_t)(op + 1);
        else if (info->prefix == 0xFD && info->code < FD_OPS)
            fd_ops[info->code] = (int16_t)(op + 1);
        else if (info->prefix == 0xFE && info->code < WASM_ATOMIC_OPCODE_COUNT)
            fe_ops[info->code] = (int16_t)(op + 1);
    }
}

int wasm_read_op(reader_t *r)
{
    uint8_t b = read_u8(r);
    if (!reader_ok(r))
        return -1;
    if (b == 0xFC) {
        uint32_t sub = read_u32(r);
        if (!reader_ok(r))
            return -1;
        if (sub < FC_OPS && fc_ops[sub])
            return fc_ops[sub] - 1;
        const char *proposal = wasm_proposal_opcode(0xFC, sub);
        reader_fail(r, proposal ? proposal : "illegal opcode");
        return -1;
    }
    if (b == 0xFD) {
        uint32_t sub = read_u32(r);
        if (!reader_ok(r))
            return -1;
        if (sub < FD_OPS && fd_ops[sub])
            return fd_ops[sub] - 1;
        const char *proposal = wasm_proposal_opcode(0xFD, sub);
        reader_fail(r, proposal ? proposal : "illegal opcode");
        return -1;
    }
    if (b == 0xFE) {
        /* Atomics (threads): decoded always; the validator refuses them when
         * the feature is off. */
        uint32_t sub = read_u32(r);
        if (!reader_ok(r))
            return -1;
        if (sub < WASM_ATOMIC_OPCODE_COUNT && fe_ops[sub])
            return fe_ops[sub] - 1;
        reader_fail(r, "illegal opcode");
        return -1;
    }
    if (single_byte_ops[b])
        return single_byte_ops[b] - 1;
    /* 0xFB (GC) is a prefix whirl does not decode. */
    const char *proposal = wasm_proposal_opcode(b == 0xFB ? b : 0, b);
    r->p--; /* report the offset of the opcode itself */
    reader_fail(r, proposal ? proposal : "illegal opcode");
    r->p++;
    return -1;
}

void wasm_skip_immediates(reader_t *r, wasm_op_t op)
{
    switch (wasm_opinfo[op].imm) {
    case IMM_NONE:
        break;
    case IMM_BLOCKTYPE:
        wasm_blocktype_ref(r, read_s33(r));
        break;
    case IMM_TYPE:
        read_u32(r);
        break;
    case IMM_LABEL:
    case IMM_FUNC:
    case IMM_LOCAL:
    case IMM_GLOBAL:
    case IMM_TABLE:
    case IMM_DATA:
    case IMM_ELEM:
        read_u32(r);
        break;
    case IMM_MEMORY:
        /* A memory index (multi-memory); 2.0's zero byte reads the same. */
        read_u32(r);
        break;
    case IMM_BR_TABLE: {
        uint32_t n = read_u32(r);
        for (uint32_t i = 0; i <= n && reader_ok(r); i++)
            read_u32(r);
        break;
    }
    case IMM_CALL_INDIRECT:
    case IMM_ELEM_TABLE:
    case IMM_TABLE_TABLE:
        read_u32(r);
        read_u32(r);
        break;
    case IMM_SELECT_T: {
        uint32_t n = read_u32(r);
        for (uint32_t i = 0; i < n && reader_ok(r); i++)
            wasm_skip_valtype(r);
        break;
    }
    case IMM_FENCE:
        read_u8(r);
        break;
    case IMM_MEMARG:
    case IMM_MEMARG_ATOMIC:
        /* The offset is a u64 for memory64; whether it fits a 32-bit
         * memory is the validator's rule, not the binary format's. */
        if (read_u32(r) & WASM_MEMARG_HAS_MEMORY)
            read_u32(r);
        read_u64(r);
        break;
    case IMM_I32:
        read_s32(r);
        break;
    case IMM_I64:
        read_s64(r);
        break;
    case IMM_F32:
        read_fixed32(r);
        break;
    case IMM_F64:
        read_fixed64(r);
        break;
    case IMM_REFTYPE:
        read_s33(r);
        break;
    case IMM_DATA_MEMORY:
        read_u32(r);
        read_u32(r);
        break;
    case IMM_MEMORY_MEMORY:
        read_u32(r);
        read_u32(r);
        break;
    case IMM_V128:
    case IMM_SHUFFLE:
        read_bytes(r, 16);
        break;
    case IMM_LANE2:
    case IMM_LANE4:
    case IMM_LANE8:
    case IMM_LANE16:
        read_u8(r);
        break;
    case IMM_TAG:
        read_u32(r);
        break;
    case IMM_TRY_TABLE: {
        wasm_blocktype_ref(r, read_s33(r));
        uint32_t n = read_u32(r);
        for (uint32_t i = 0; i < n && reader_ok(r); i++) {
            uint8_t kind = read_u8(r);
            if (kind == WASM_CATCH || kind == WASM_CATCH_REF)
                read_u32(r);
            read_u32(r);
        }
        break;
    }
    case IMM_MEMARG_LANE:
        if (read_u32(r) & WASM_MEMARG_HAS_MEMORY)
            read_u32(r);
        read_u64(r);
        read_u8(r);
        break;
    }
}
