/* The internal instruction set (see code.h for the encoding).
 *
 * IOPS expands IOP_X(NAME, WORDS) for each op, with IOP_X defined by the
 * user; WORDS is the instruction's length in code words (0: variable, see
 * the op). Operand order in the
 * comments: d = destination slot, a/b/c = source slots, k = immediate,
 * off = branch offset (words, relative to the instruction's first word). */
#ifndef WHIRL_COMPILE_OPS_H
#define WHIRL_COMPILE_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "compile/ops_atomic.h"
#include "compile/ops_simd.h"

/* Numeric ops with one operand: d a. Named after the Wasm instruction. */
#define IOPS_UNARY(X) \
    X(I32_EQZ) X(I64_EQZ) X(I32_CLZ) X(I32_CTZ) X(I32_POPCNT) X(I64_CLZ) X(I64_CTZ) X(I64_POPCNT) \
    X(F32_ABS) X(F32_NEG) X(F32_CEIL) X(F32_FLOOR) X(F32_TRUNC) X(F32_NEAREST) X(F32_SQRT) \
    X(F64_ABS) X(F64_NEG) X(F64_CEIL) X(F64_FLOOR) X(F64_TRUNC) X(F64_NEAREST) X(F64_SQRT) \
    X(I32_TRUNC_F32_S) X(I32_TRUNC_F32_U) X(I32_TRUNC_F64_S) X(I32_TRUNC_F64_U) \
    X(I64_EXTEND_I32_S) X(I64_EXTEND_I32_U) \
    X(I64_TRUNC_F32_S) X(I64_TRUNC_F32_U) X(I64_TRUNC_F64_S) X(I64_TRUNC_F64_U) \
    X(F32_CONVERT_I32_S) X(F32_CONVERT_I32_U) X(F32_CONVERT_I64_S) X(F32_CONVERT_I64_U) \
    X(F32_DEMOTE_F64) \
    X(F64_CONVERT_I32_S) X(F64_CONVERT_I32_U) X(F64_CONVERT_I64_S) X(F64_CONVERT_I64_U) \
    X(F64_PROMOTE_F32) \
    X(I32_EXTEND8_S) X(I32_EXTEND16_S) X(I64_EXTEND8_S) X(I64_EXTEND16_S) X(I64_EXTEND32_S) \
    X(I32_TRUNC_SAT_F32_S) X(I32_TRUNC_SAT_F32_U) X(I32_TRUNC_SAT_F64_S) X(I32_TRUNC_SAT_F64_U) \
    X(I64_TRUNC_SAT_F32_S) X(I64_TRUNC_SAT_F32_U) X(I64_TRUNC_SAT_F64_S) X(I64_TRUNC_SAT_F64_U)

/* Numeric ops with two operands: d a b. */
#define IOPS_BINARY(X) \
    X(I32_EQ) X(I32_NE) X(I32_LT_S) X(I32_LT_U) X(I32_GT_S) X(I32_GT_U) \
    X(I32_LE_S) X(I32_LE_U) X(I32_GE_S) X(I32_GE_U) \
    X(I64_EQ) X(I64_NE) X(I64_LT_S) X(I64_LT_U) X(I64_GT_S) X(I64_GT_U) \
    X(I64_LE_S) X(I64_LE_U) X(I64_GE_S) X(I64_GE_U) \
    X(F32_EQ) X(F32_NE) X(F32_LT) X(F32_GT) X(F32_LE) X(F32_GE) \
    X(F64_EQ) X(F64_NE) X(F64_LT) X(F64_GT) X(F64_LE) X(F64_GE) \
    X(I32_ADD) X(I32_SUB) X(I32_MUL) X(I32_DIV_S) X(I32_DIV_U) X(I32_REM_S) X(I32_REM_U) \
    X(I32_AND) X(I32_OR) X(I32_XOR) X(I32_SHL) X(I32_SHR_S) X(I32_SHR_U) X(I32_ROTL) X(I32_ROTR) \
    X(I64_ADD) X(I64_SUB) X(I64_MUL) X(I64_DIV_S) X(I64_DIV_U) X(I64_REM_S) X(I64_REM_U) \
    X(I64_AND) X(I64_OR) X(I64_XOR) X(I64_SHL) X(I64_SHR_S) X(I64_SHR_U) X(I64_ROTL) X(I64_ROTR) \
    X(F32_ADD) X(F32_SUB) X(F32_MUL) X(F32_DIV) X(F32_MIN) X(F32_MAX) X(F32_COPYSIGN) \
    X(F64_ADD) X(F64_SUB) X(F64_MUL) X(F64_DIV) X(F64_MIN) X(F64_MAX) X(F64_COPYSIGN)

/* Integer ops whose second operand is a constant: d a k. i32 forms take a
 * 32-bit k, i64 forms a 64-bit k (two words). Suffix _K. */
#define IOPS_I32_K(X) \
    X(I32_ADD) X(I32_SUB) X(I32_MUL) X(I32_AND) X(I32_OR) X(I32_XOR) \
    X(I32_SHL) X(I32_SHR_S) X(I32_SHR_U) X(I32_ROTL) X(I32_ROTR) \
    X(I32_EQ) X(I32_NE) X(I32_LT_S) X(I32_LT_U) X(I32_GT_S) X(I32_GT_U) \
    X(I32_LE_S) X(I32_LE_U) X(I32_GE_S) X(I32_GE_U)
#define IOPS_I64_K(X) \
    X(I64_ADD) X(I64_SUB) X(I64_MUL) X(I64_AND) X(I64_OR) X(I64_XOR) \
    X(I64_SHL) X(I64_SHR_S) X(I64_SHR_U) X(I64_ROTL) X(I64_ROTR) \
    X(I64_EQ) X(I64_NE) X(I64_LT_S) X(I64_LT_U) X(I64_GT_S) X(I64_GT_U) \
    X(I64_LE_S) X(I64_LE_U) X(I64_GE_S) X(I64_GE_U)

/* Compare-and-branch fused from `cmp; br_if`: a b off, or with _K: a k off.
 * Named after the comparison; the branch is taken when it holds. */
#define IOPS_BR_CMP(X) \
    X(I32_EQ) X(I32_NE) X(I32_LT_S) X(I32_LT_U) X(I32_GT_S) X(I32_GT_U) \
    X(I32_LE_S) X(I32_LE_U) X(I32_GE_S) X(I32_GE_U) \
    X(I64_EQ) X(I64_NE) X(I64_LT_S) X(I64_LT_U) X(I64_GT_S) X(I64_GT_U) \
    X(I64_LE_S) X(I64_LE_U) X(I64_GE_S) X(I64_GE_U)

/* The i32 comparisons, for the add-and-branch fusion. */
#define IOPS_CMP32(X) \
    X(I32_EQ) X(I32_NE) X(I32_LT_S) X(I32_LT_U) X(I32_GT_S) X(I32_GT_U) \
    X(I32_LE_S) X(I32_LE_U) X(I32_GE_S) X(I32_GE_U)

/* Loads: d a offset. Stores: a(address) v(value) offset. */
#define IOPS_LOAD(X) \
    X(I32_LOAD) X(I64_LOAD) X(F32_LOAD) X(F64_LOAD) \
    X(I32_LOAD8_S) X(I32_LOAD8_U) X(I32_LOAD16_S) X(I32_LOAD16_U) \
    X(I64_LOAD8_S) X(I64_LOAD8_U) X(I64_LOAD16_S) X(I64_LOAD16_U) X(I64_LOAD32_S) X(I64_LOAD32_U)
#define IOPS_STORE(X) \
    X(I32_STORE) X(I64_STORE) X(F32_STORE) X(F64_STORE) \
    X(I32_STORE8) X(I32_STORE16) X(I64_STORE8) X(I64_STORE16) X(I64_STORE32)

#define IOPS \
    IOP_X(UNREACHABLE, 1)      /* trap */ \
    IOP_X(BR, 2)               /* off; backward branches also check the epoch */ \
    IOP_X(BR_IF, 3)            /* c off: branch if c (i32) != 0 */ \
    IOP_X(BR_UNLESS, 3)        /* c off: branch if c == 0 */ \
    IOP_X(BR_IF_EQZ64, 3)      /* c off: branch if c (i64) == 0 */ \
    IOP_X(BR_IF_NEZ64, 3)      /* c off: branch if c (i64) != 0 */ \
    IOP_X(BR_TABLE, 0)         /* a n off_0 .. off_n (3 + n + 1 words); index >= n takes off_n */ \
    IOP_X(BR_TABLE_LOAD_AS, 0) /* a b k offset n off_0 .. off_n (6 + n + 1 words): br_table on \
                                  the i32 loaded from a + (b << k) + offset */ \
    IOP_X(CALL, 3)             /* func(defined-function index) base */ \
    IOP_X(CALL_IMPORT, 3)      /* funcidx base: imported function of the instance */ \
    IOP_X(CALL_INDIRECT, 5)    /* table type(canonical type index) a(element index) base */ \
    IOP_X(RETURN, 1)           /* results already in slots 0..n-1 */ \
    IOP_X(USE_MEMORY, 2)       /* m: memory m is the cached memory (multi-memory) */ \
    IOP_X(USE_MEMORY0, 1)      /* memory 0 is the cached memory again */ \
    IOP_X(MEMORY_COPY_BETWEEN, 7) /* d s n dst src w: memory.copy across memories or on \
                                  64-bit ones (w: bit 0 d, 1 s, 2 n are i64) */ \
    IOP_X(MEM64_ADDR, 5)       /* d a klo khi: d = a + k if below 2^32, else trap */ \
    IOP_X(MEMORY_GROW64, 3)    /* d a: memory.grow of a 64-bit memory */ \
    IOP_X(TABLE64_INDEX, 3)    /* d a: d = a (i64) if below 2^32, else trap (table64) */ \
    IOP_X(TABLE64_DELTA, 3)    /* d a: d = min(a (i64), 2^32 - 1): table.grow of a 64-bit table */ \
    IOP_X(MEMORY_FILL64, 4)    /* d v n: memory.fill, d and n i64 */ \
    IOP_X(MEMORY_INIT64, 5)    /* seg d s n: memory.init, d i64 */ \
    IOP_X(RETURN_CALL, 4)      /* func base n: tail call, the n argument slots at base \
                                  moved to slot 0 and the frame reused */ \
    IOP_X(RETURN_CALL_IMPORT, 4) /* funcidx base n */ \
    IOP_X(RETURN_CALL_INDIRECT, 6) /* table type a base n */ \
    IOP_X(THROW, 3)            /* tag base: throw a new exception of tag (instance index) \
                                  with the values in the slots from base */ \
    IOP_X(THROW_REF, 2)        /* a: throw the exception a (null: trap) */ \
    IOP_X(RETURN1, 2)          /* a: copy the single (non-v128) result to slot 0, return */ \
    IOP_X(COPY, 3)             /* d a */ \
    IOP_X(COPY128, 3)          /* d a: two slots */ \
    IOP_X(COPY2, 5)            /* d1 a1 d2 a2: two copies, in order */ \
    IOP_X(CONST32, 3)          /* d k */ \
    IOP_X(CONST64, 4)          /* d k_lo k_hi */ \
    IOP_X(SELECT, 5)           /* d c a b: d = c ? a : b */ \
    IOP_X(SELECT128, 5)        /* d c a b: two slots */ \
    IOP_X(GLOBAL_GET, 3)       /* d idx */ \
    IOP_X(GLOBAL_SET, 3)       /* a idx */ \
    IOP_X(GLOBAL_GET128, 3)    /* d idx */ \
    IOP_X(GLOBAL_SET128, 3)    /* a idx */ \
    IOP_X(MEMORY_SIZE, 2)      /* d */ \
    IOP_X(MEMORY_GROW, 3)      /* d a */ \
    IOP_X(MEMORY_FILL, 4)      /* d(dst) v n */ \
    IOP_X(MEMORY_COPY, 4)      /* d(dst) s(src) n */ \
    IOP_X(MEMORY_INIT, 5)      /* seg d s n */ \
    IOP_X(DATA_DROP, 2)        /* seg */ \
    IOP_X(TABLE_GET, 4)        /* d table i */ \
    IOP_X(TABLE_SET, 4)        /* table i v */ \
    IOP_X(TABLE_SIZE, 3)       /* d table */ \
    IOP_X(TABLE_GROW, 5)       /* d table init n */ \
    IOP_X(TABLE_FILL, 5)       /* table i v n */ \
    IOP_X(TABLE_COPY, 6)       /* dst_table src_table d s n */ \
    IOP_X(TABLE_INIT, 6)       /* seg table d s n */ \
    IOP_X(ELEM_DROP, 2)        /* seg */ \
    IOP_X(REF_IS_NULL, 3)      /* d a */ \
    IOP_X(REF_FUNC, 3)         /* d funcidx */ \
    IOP_X(TRAP_IF_NULL, 2)     /* a: trap (null reference) if a is null */ \
    IOP_X(CALL_REF, 3)         /* a base: call function reference a (null: trap) */ \
    IOP_X(RETURN_CALL_REF, 4)  /* a base n: tail call of function reference a */ \
    IOPS_UNARY(IOPS_X_UNARY) \
    IOPS_BINARY(IOPS_X_BINARY) \
    IOPS_I32_K(IOPS_X_I32_K) \
    IOPS_I64_K(IOPS_X_I64_K) \
    IOPS_BR_CMP(IOPS_X_BR_CMP) \
    IOPS_BR_CMP(IOPS_X_BR_CMP_K) \
    IOPS_LOAD(IOPS_X_LOAD) \
    IOPS_STORE(IOPS_X_STORE) \
    IOPS_LOAD(IOPS_X_LOAD_AK) \
    IOPS_LOAD(IOPS_X_LOAD_AA) \
    IOPS_STORE(IOPS_X_STORE_AK) \
    IOPS_STORE(IOPS_X_STORE_AA) \
    IOPS_LOAD(IOPS_X_LOAD_AS) \
    IOPS_LOAD(IOPS_X_LOAD_AKW) \
    IOPS_LOAD(IOPS_X_LOAD_AAW) \
    IOPS_STORE(IOPS_X_STORE_AS) \
    IOPS_CMP32(IOPS_X_ADDK_BR) \
    IOPS_CMP32(IOPS_X_ADDK_BR_K) \
    IOP_X(I32_ADD_SHL, 5)      /* d a b k: d = a + (b << k), from i32.shl by k + i32.add */ \
    IOP_X(I32_XOR_ROTL, 5)     /* d a b k: d = a ^ rotl(b, k), from i32.rotl by k + i32.xor */ \
    IOP_X(I32_XOR_SHRU, 5)     /* d a b k: d = a ^ (b >> k) (unsigned) */ \
    IOP_X(I32_XOR_SHL, 5)      /* d a b k: d = a ^ (b << k) */ \
    IOP_X(I32_ADDK_STORE, 6)   /* d a k addr offset: d = a + k, stored at addr + offset */ \
    IOP_X(I64_ADDK_STORE, 7)   /* d a k_lo k_hi addr offset: the same for i64 */ \
    IOP_X(F32_MULADD, 5)       /* d a b c: d = a + b * c (two roundings, as Wasm) */ \
    IOP_X(F32_MULSUB, 5)       /* d a b c: d = a - b * c */ \
    IOP_X(F32_MULSUBR, 5)      /* d a b c: d = b * c - a */ \
    IOP_X(F64_MULADD, 5)       \
    IOP_X(F64_MULSUB, 5)       \
    IOP_X(F64_MULSUBR, 5)      \
    IOP_X(F32_MULADD_STORE, 6) /* a b c addr offset: store a + b * c (f32) at addr + offset */ \
    IOP_X(F64_MULADD_STORE, 6) \
    /* a b addr offset mode p q w load_offset: store a + b * c at addr + offset, where c is \
     * loaded from an address given by `mode` (LOAD_MODE_*: p; p + q (a constant); p + q \
     * (a slot); and those two writing the address to slot w first) + load_offset */ \
    IOP_X(F32_MULADD_LOAD_STORE, 10) \
    IOP_X(F64_MULADD_LOAD_STORE, 10) \
    IOPS_SIMD /* ops_simd.h */ \
    IOPS_ATOMIC /* ops_atomic.h */

/* Each family's members, with their names and lengths. */
#define IOPS_X_UNARY(n) IOP_X(n, 3)
#define IOPS_X_BINARY(n) IOP_X(n, 4)
#define IOPS_X_I32_K(n) IOP_X(n##_K, 4)
#define IOPS_X_I64_K(n) IOP_X(n##_K, 5)
#define IOPS_X_BR_CMP(n) IOP_X(BR_##n, 4)
#define IOPS_X_BR_CMP_K(n) IOP_X(BR_##n##_K, 0) /* i32: 4 words, i64: 5 words */
#define IOPS_X_LOAD(n) IOP_X(n, 4)
#define IOPS_X_STORE(n) IOP_X(n, 4)
/* `i32.add` fused into the load or store that uses the sum only as its
 * address: _AK adds an immediate (d a k offset | a k v offset), _AA a second
 * slot (d a b offset | a b v offset). The sum wraps at 32 bits, as the add
 * would. */
#define IOPS_X_LOAD_AK(n) IOP_X(n##_AK, 5)
#define IOPS_X_LOAD_AA(n) IOP_X(n##_AA, 5)
#define IOPS_X_STORE_AK(n) IOP_X(n##_AK, 5)
#define IOPS_X_STORE_AA(n) IOP_X(n##_AA, 5)
/* _AS: a shifted index, a + (b << k): d a b k offset | a b k v offset. */
#define IOPS_X_LOAD_AS(n) IOP_X(n##_AS, 6)
/* _AKW/_AAW: an i32.add into a local, then a load from that local (pointer
 * bumps, p = base + i; *p): d a k|b w offset: w = a + k|b, d = load(w). */
#define IOPS_X_LOAD_AKW(n) IOP_X(n##_AKW, 6)
#define IOPS_X_LOAD_AAW(n) IOP_X(n##_AAW, 6)
#define IOPS_X_STORE_AS(n) IOP_X(n##_AS, 6)
/* A loop counter's add fused into the compare-and-branch on its result:
 * d a k b off (compare with slot b) | d a k k2 off (with immediate k2):
 * d = a + k, then branch if d <cmp> b. */
#define IOPS_X_ADDK_BR(n) IOP_X(ADDK_BR_##n, 6)
#define IOPS_X_ADDK_BR_K(n) IOP_X(ADDK_BR_##n##_K, 6)

/* How *_MULADD_LOAD_STORE computes its load address (the load forms). */
enum {
    LOAD_MODE_SLOT,    /* p */
    LOAD_MODE_AK,      /* p + q, q a constant */
    LOAD_MODE_AA,      /* p + q, both slots */
    LOAD_MODE_AKW,     /* w = p + q (constant) */
    LOAD_MODE_AAW,     /* w = p + q (slots) */
};

typedef enum iop {
#define IOP_X(name, words) IOP_##name,
    IOPS
#undef IOP_X
    IOP_COUNT
} iop_t;

/* Each op's length in words, 0 for the variable ones (code.c). */
extern const uint8_t iop_words[IOP_COUNT];

/* Words of the instruction at `pc` (its first word an op number), of which
 * `avail` are readable; 0 if pc[0] is not an op or the instruction does
 * not fit. Inline: loading a serialised module walks all its code. */
static inline uint32_t iop_instr_words(const uint32_t *pc, size_t avail)
{
    if (avail == 0 || pc[0] >= IOP_COUNT)
        return 0;
    uint32_t n = iop_words[pc[0]];
    if (__builtin_expect(n == 0, 0)) {
        /* br_table carries its count; the fused compare-branches with an
         * immediate take two words for an i64 one (IOPS_BR_CMP lists the
         * i32 comparisons before the i64 ones). */
        if (pc[0] == IOP_BR_TABLE || pc[0] == IOP_BR_TABLE_LOAD_AS) {
            size_t at = pc[0] == IOP_BR_TABLE ? 2 : 5;
            if (avail <= at || pc[at] > UINT32_MAX - at - 2)
                return 0;
            n = (uint32_t)at + 1 + pc[at] + 1;
        } else {
            n = pc[0] >= IOP_BR_I64_EQ_K && pc[0] <= IOP_BR_I64_GE_U_K ? 5 : 4;
        }
    }
    return n <= avail ? n : 0;
}

#endif
