/* SIMD (the 0xFD prefix) in LLVM vector IR, bit for bit as the interpreter
 * computes it (src/exec/simd.h, simd_float.h, interp_simd.inc).
 *
 * A v128 travels as <2 x i64> (jt_v128_type); each instruction bitcasts
 * its operands to its lane shape and its result back, which costs nothing.
 * Generic vector IR and target-independent intrinsics do the work, so that
 * LLVM picks the SSE instructions (no target intrinsics: the translation
 * does not depend on the CPU the code is compiled for).
 *
 * Where LLVM's rules would give other bits than the interpreter:
 * - Float add/sub/mul/div: LLVM's IR lets arithmetic return a NaN operand
 *   as is and lets the optimiser move sign flips around, so its folds give
 *   other NaN bits than x86 does: x*1, x-0, x/1 return a signalling NaN
 *   unquieted, x - C becomes x + -C (flipping the sign of a NaN lane of
 *   C), -(a*b) becomes (-a)*b, a - (-b) becomes a + b. Constants that allow
 *   such folds also appear only after optimisation (a local holding a
 *   splat, a conversion of constants), so no look at the operands at
 *   translation time can rule them out: each of these instructions has its
 *   operands and its result hidden from the optimiser (jt_opaque, an empty
 *   asm that costs no instruction), which makes it an island LLVM cannot
 *   fold into or out of. Measured: no difference beyond noise on
 *   bench/simd's guest nor on a loop of dependent multiply-adds (at worst
 *   a register copy, or a load no longer folded into the instruction).
 * - The sign operations (neg, abs) work on the bits.
 * - min/max follow the interpreter's build: on x86-64 with its SSE code a
 *   NaN lane becomes the canonical NaN with the sign bit set; the portable
 *   code returns a + b. Equal operands (only ±0 differ) give the bitwise
 *   or (min) or and (max), -0 < +0.
 * - pmin/pmax are selects on the operands' own bits; ceil/floor/trunc/
 *   nearest quiet a NaN lane as a + a (libm's functions, which LLVM may
 *   call where SSE4.1 is missing, return it as is).
 * - f64x2.promote_low_f32x4 is hidden so that demote(promote(x)) is not
 *   folded to x (it must quiet a signalling NaN).
 * What remains free, as the spec allows: when both operands of an
 * arithmetic lane are NaNs, which of the two payloads survives (x86 keeps
 * the first operand's, and LLVM may commute the operands). */
#include <string.h>

#include "jit/jit_binding.h"

/* The interpreter's float min/max on NaN lanes (see the top). */
#if defined(__x86_64__) && !defined(WHIRL_SIMD_PORTABLE)
#define SIMD_MINMAX_CANONICAL_NAN 1
#else
#define SIMD_MINMAX_CANONICAL_NAN 0
#endif

enum shape { I8, I16, I32, I64, F32, F64 };

static const unsigned shape_lanes[] = {16, 8, 4, 2, 4, 2};
static const unsigned shape_bits[] = {8, 16, 32, 64, 32, 64};

LLVMTypeRef jt_v128_type(jt_module_t *jm) { return LLVMVectorType(jm->i64, 2); }

static LLVMTypeRef lane_type(jt_module_t *jm, enum shape s)
{
    switch (s) {
    case I8: return jm->i8;
    case I16: return jm->i16;
    case I32: return jm->i32;
    case I64: return jm->i64;
    case F32: return jm->f32;
    default: return jm->f64;
    }
}

static LLVMTypeRef vec_type(jt_func_t *f, LLVMTypeRef lane, unsigned n)
{
    (void)f;
    return LLVMVectorType(lane, n);
}

static LLVMTypeRef shape_type(jt_func_t *f, enum shape s)
{
    return vec_type(f, lane_type(f->jm, s), shape_lanes[s]);
}

/* The integer shape of a float shape's lanes (compare results, bits). */
static enum shape int_shape(enum shape s) { return s == F32 ? I32 : s == F64 ? I64 : s; }

static LLVMValueRef as_shape(jt_func_t *f, LLVMValueRef v, enum shape s)
{
    return LLVMBuildBitCast(f->b, v, shape_type(f, s), "");
}

static LLVMValueRef pop_as(jt_func_t *f, enum shape s) { return as_shape(f, jt_pop(f), s); }

static void push_v(jt_func_t *f, LLVMValueRef v)
{
    jt_push(f, LLVMBuildBitCast(f->b, v, jt_v128_type(f->jm), ""));
}

/* A vector of `n` lanes of type `lane`, all `bits`. */
static LLVMValueRef splat_const(LLVMTypeRef lane, unsigned n, uint64_t bits)
{
    LLVMValueRef c[16];
    for (unsigned i = 0; i < n; i++)
        c[i] = LLVMConstInt(lane, bits, false);
    return LLVMConstVector(c, n);
}

static LLVMValueRef shape_const(jt_func_t *f, enum shape s, uint64_t bits)
{
    return splat_const(lane_type(f->jm, int_shape(s)), shape_lanes[s], bits);
}

/* A shufflevector mask of `n` lane indices. */
static LLVMValueRef mask(jt_func_t *f, const unsigned *idx, unsigned n)
{
    LLVMValueRef c[32];
    for (unsigned i = 0; i < n; i++)
        c[i] = LLVMConstInt(f->jm->i32, idx[i], false);
    return LLVMConstVector(c, n);
}

/* Lanes first, first + step, ... (n of them) of v (or of v:w). */
static LLVMValueRef pick(jt_func_t *f, LLVMValueRef v, LLVMValueRef w, unsigned first, unsigned step,
                         unsigned n)
{
    unsigned idx[32];
    for (unsigned i = 0; i < n; i++)
        idx[i] = first + i * step;
    if (!w)
        w = LLVMGetPoison(LLVMTypeOf(v));
    return LLVMBuildShuffleVector(f->b, v, w, mask(f, idx, n), "");
}

/* `x` (a scalar of the lane type) in every lane of an n-lane vector. */
static LLVMValueRef splat(jt_func_t *f, LLVMValueRef x, unsigned n)
{
    LLVMTypeRef vt = vec_type(f, LLVMTypeOf(x), n);
    LLVMValueRef v = LLVMBuildInsertElement(f->b, LLVMGetPoison(vt), x, jt_const_i32(f, 0), "");
    unsigned zeros[16] = {0};
    return LLVMBuildShuffleVector(f->b, v, LLVMGetPoison(vt), mask(f, zeros, n), "");
}

static LLVMValueRef intrinsic1(jt_func_t *f, const char *name, LLVMValueRef a)
{
    LLVMTypeRef ty = LLVMTypeOf(a);
    return jt_intrinsic(f, name, &ty, 1, &a, 1);
}

static LLVMValueRef intrinsic2(jt_func_t *f, const char *name, LLVMValueRef a, LLVMValueRef b)
{
    LLVMTypeRef ty = LLVMTypeOf(a);
    LLVMValueRef args[] = {a, b};
    return jt_intrinsic(f, name, &ty, 1, args, 2);
}

/* ------------------------------------------------------------ constants */

static void op_const(jt_func_t *f)
{
    const uint8_t *bytes = read_bytes(&f->r, 16);
    if (!bytes)
        return;
    uint64_t q[2];
    memcpy(q, bytes, 16);
    LLVMValueRef lanes[] = {jt_const_i64(f, q[0]), jt_const_i64(f, q[1])};
    jt_push(f, LLVMConstVector(lanes, 2));
}

/* ------------------------------------------------------------ lanes */

static void op_splat(jt_func_t *f, enum shape s)
{
    LLVMValueRef x = jt_pop(f);
    if (s == I8 || s == I16)
        x = LLVMBuildTrunc(f->b, x, lane_type(f->jm, s), "");
    push_v(f, splat(f, x, shape_lanes[s]));
}

/* extract_lane: i8/i16 lanes widen to i32, signed or not. Float lanes move
 * as they are (extractelement keeps NaN payloads). */
static void op_extract(jt_func_t *f, enum shape s, bool is_signed)
{
    unsigned lane = read_u8(&f->r) & (shape_lanes[s] - 1);
    LLVMValueRef x = LLVMBuildExtractElement(f->b, pop_as(f, s), jt_const_i32(f, lane), "");
    if (s == I8 || s == I16)
        x = is_signed ? LLVMBuildSExt(f->b, x, f->jm->i32, "") : LLVMBuildZExt(f->b, x, f->jm->i32, "");
    jt_push(f, x);
}

static void op_replace(jt_func_t *f, enum shape s)
{
    unsigned lane = read_u8(&f->r) & (shape_lanes[s] - 1);
    LLVMValueRef x = jt_pop(f);
    LLVMValueRef v = pop_as(f, s);
    if (s == I8 || s == I16)
        x = LLVMBuildTrunc(f->b, x, lane_type(f->jm, s), "");
    push_v(f, LLVMBuildInsertElement(f->b, v, x, jt_const_i32(f, lane), ""));
}

static void op_shuffle(jt_func_t *f)
{
    const uint8_t *bytes = read_bytes(&f->r, 16);
    if (!bytes)
        return;
    unsigned idx[16];
    for (int i = 0; i < 16; i++)
        idx[i] = bytes[i] & 31;
    LLVMValueRef b = pop_as(f, I8), a = pop_as(f, I8);
    push_v(f, LLVMBuildShuffleVector(f->b, a, b, mask(f, idx, 16), ""));
}

/* Lanes of a selected by the lanes of b; an index >= 16 gives 0. Written
 * as a vector of lanes a[b[i] & 15], which LLVM's x86 backend turns into
 * one pshufb where the target has SSSE3 (a portable lane loop elsewhere),
 * then the out-of-range lanes cleared. Generic IR keeps the translation
 * independent of the CPU the code is compiled for. */
static void op_swizzle(jt_func_t *f)
{
    LLVMValueRef b = pop_as(f, I8), a = pop_as(f, I8);
    LLVMValueRef idx = LLVMBuildAnd(f->b, b, shape_const(f, I8, 15), "");
    LLVMValueRef r = LLVMGetPoison(shape_type(f, I8));
    for (unsigned i = 0; i < 16; i++) {
        LLVMValueRef k = LLVMBuildExtractElement(f->b, idx, jt_const_i32(f, i), "");
        LLVMValueRef x = LLVMBuildExtractElement(f->b, a, k, "");
        r = LLVMBuildInsertElement(f->b, r, x, jt_const_i32(f, i), "");
    }
    LLVMValueRef in = LLVMBuildICmp(f->b, LLVMIntULT, b, shape_const(f, I8, 16), "");
    push_v(f, LLVMBuildSelect(f->b, in, r, LLVMConstNull(shape_type(f, I8)), ""));
}

/* ------------------------------------------------------------ memory */

/* Whether this function's SIMD accesses may go unchecked: if even the
 * smallest one needs its check, all do; otherwise they are pinned
 * (jt_memory_access), which is right for any that went unchecked. */
static bool simd_checked(jt_func_t *f) { return jt_needs_bounds_check(f, 0, 1); }

static LLVMValueRef mem_load(jt_func_t *f, LLVMValueRef p, LLVMTypeRef ty)
{
    LLVMValueRef v = LLVMBuildLoad2(f->b, ty, p, "");
    LLVMSetAlignment(v, 1);
    jt_memory_access(f, v, simd_checked(f));
    return v;
}

static void mem_store(jt_func_t *f, LLVMValueRef p, LLVMValueRef v)
{
    LLVMValueRef st = LLVMBuildStore(f->b, v, p);
    LLVMSetAlignment(st, 1);
    jt_memory_access(f, st, simd_checked(f));
}

/* The checked address of a memarg access of `bytes` (address popped). */
static LLVMValueRef memarg_addr(jt_func_t *f, unsigned bytes)
{
    return jt_memarg_addr(f, bytes);
}

/* v128.load8x8_s and friends: n lanes of `from` bits, extended. */
static void op_load_extend(jt_func_t *f, enum shape to, bool is_signed)
{
    unsigned n = shape_lanes[to];
    LLVMTypeRef narrow = vec_type(f, LLVMIntTypeInContext(f->jm->llctx, shape_bits[to] / 2), n);
    LLVMValueRef v = mem_load(f, memarg_addr(f, 8), narrow);
    LLVMTypeRef wide = shape_type(f, to);
    push_v(f, is_signed ? LLVMBuildSExt(f->b, v, wide, "") : LLVMBuildZExt(f->b, v, wide, ""));
}

static void op_load_splat(jt_func_t *f, enum shape s)
{
    LLVMValueRef x = mem_load(f, memarg_addr(f, shape_bits[s] / 8), lane_type(f->jm, s));
    push_v(f, splat(f, x, shape_lanes[s]));
}

static void op_load_zero(jt_func_t *f, enum shape s)
{
    LLVMValueRef x = mem_load(f, memarg_addr(f, shape_bits[s] / 8), lane_type(f->jm, s));
    LLVMValueRef zero = LLVMConstNull(shape_type(f, s));
    push_v(f, LLVMBuildInsertElement(f->b, zero, x, jt_const_i32(f, 0), ""));
}

/* load_lane / store_lane: memarg, then the lane; operands address, v128. */
static void op_load_lane(jt_func_t *f, enum shape s)
{
    jt_memarg_t m = jt_read_memarg(f);
    unsigned lane = read_u8(&f->r) & (shape_lanes[s] - 1);
    LLVMValueRef v = pop_as(f, s);
    LLVMValueRef p = jt_mem_addr(f, m, jt_pop(f), shape_bits[s] / 8);
    LLVMValueRef x = mem_load(f, p, lane_type(f->jm, s));
    push_v(f, LLVMBuildInsertElement(f->b, v, x, jt_const_i32(f, lane), ""));
}

static void op_store_lane(jt_func_t *f, enum shape s)
{
    jt_memarg_t m = jt_read_memarg(f);
    unsigned lane = read_u8(&f->r) & (shape_lanes[s] - 1);
    LLVMValueRef v = pop_as(f, s);
    LLVMValueRef p = jt_mem_addr(f, m, jt_pop(f), shape_bits[s] / 8);
    mem_store(f, p, LLVMBuildExtractElement(f->b, v, jt_const_i32(f, lane), ""));
}

static bool simd_memory(jt_func_t *f, wasm_op_t op)
{
    switch (op) {
    case WASM_OP_V128_LOAD: jt_push(f, mem_load(f, memarg_addr(f, 16), jt_v128_type(f->jm))); break;
    case WASM_OP_V128_STORE: {
        LLVMValueRef v = jt_pop(f);
        mem_store(f, memarg_addr(f, 16), v);
        break;
    }
    case WASM_OP_V128_LOAD8X8_S: op_load_extend(f, I16, true); break;
    case WASM_OP_V128_LOAD8X8_U: op_load_extend(f, I16, false); break;
    case WASM_OP_V128_LOAD16X4_S: op_load_extend(f, I32, true); break;
    case WASM_OP_V128_LOAD16X4_U: op_load_extend(f, I32, false); break;
    case WASM_OP_V128_LOAD32X2_S: op_load_extend(f, I64, true); break;
    case WASM_OP_V128_LOAD32X2_U: op_load_extend(f, I64, false); break;
    case WASM_OP_V128_LOAD8_SPLAT: op_load_splat(f, I8); break;
    case WASM_OP_V128_LOAD16_SPLAT: op_load_splat(f, I16); break;
    case WASM_OP_V128_LOAD32_SPLAT: op_load_splat(f, I32); break;
    case WASM_OP_V128_LOAD64_SPLAT: op_load_splat(f, I64); break;
    case WASM_OP_V128_LOAD32_ZERO: op_load_zero(f, I32); break;
    case WASM_OP_V128_LOAD64_ZERO: op_load_zero(f, I64); break;
    case WASM_OP_V128_LOAD8_LANE: op_load_lane(f, I8); break;
    case WASM_OP_V128_LOAD16_LANE: op_load_lane(f, I16); break;
    case WASM_OP_V128_LOAD32_LANE: op_load_lane(f, I32); break;
    case WASM_OP_V128_LOAD64_LANE: op_load_lane(f, I64); break;
    case WASM_OP_V128_STORE8_LANE: op_store_lane(f, I8); break;
    case WASM_OP_V128_STORE16_LANE: op_store_lane(f, I16); break;
    case WASM_OP_V128_STORE32_LANE: op_store_lane(f, I32); break;
    case WASM_OP_V128_STORE64_LANE: op_store_lane(f, I64); break;
    default: return false;
    }
    return true;
}

/* ------------------------------------------------------------ bitwise */

static void op_bitwise(jt_func_t *f, wasm_op_t op)
{
    LLVMValueRef ones = splat_const(f->jm->i64, 2, ~UINT64_C(0));
    if (op == WASM_OP_V128_NOT) {
        jt_push(f, LLVMBuildXor(f->b, jt_pop(f), ones, ""));
        return;
    }
    if (op == WASM_OP_V128_BITSELECT) {
        LLVMValueRef c = jt_pop(f), b = jt_pop(f), a = jt_pop(f);
        LLVMValueRef from_a = LLVMBuildAnd(f->b, a, c, "");
        LLVMValueRef from_b = LLVMBuildAnd(f->b, b, LLVMBuildXor(f->b, c, ones, ""), "");
        jt_push(f, LLVMBuildOr(f->b, from_a, from_b, ""));
        return;
    }
    LLVMValueRef b = jt_pop(f), a = jt_pop(f);
    switch (op) {
    case WASM_OP_V128_AND: jt_push(f, LLVMBuildAnd(f->b, a, b, "")); break;
    case WASM_OP_V128_OR: jt_push(f, LLVMBuildOr(f->b, a, b, "")); break;
    case WASM_OP_V128_XOR: jt_push(f, LLVMBuildXor(f->b, a, b, "")); break;
    default: /* ANDNOT */
        jt_push(f, LLVMBuildAnd(f->b, a, LLVMBuildXor(f->b, b, ones, ""), ""));
        break;
    }
}

/* ------------------------------------------------------------ lane tests */

static LLVMValueRef i32_of_i1(jt_func_t *f, LLVMValueRef c)
{
    return LLVMBuildZExt(f->b, c, f->jm->i32, "");
}

/* The n-bit integer whose bit i is lane i of an <n x i1>. */
static LLVMValueRef lane_bits(jt_func_t *f, LLVMValueRef lanes_i1, unsigned n)
{
    return LLVMBuildBitCast(f->b, lanes_i1, LLVMIntTypeInContext(f->jm->llctx, n), "");
}

static void op_any_true(jt_func_t *f)
{
    LLVMValueRef x = LLVMBuildBitCast(f->b, jt_pop(f), LLVMIntTypeInContext(f->jm->llctx, 128), "");
    jt_push(f, i32_of_i1(f, LLVMBuildICmp(f->b, LLVMIntNE, x, LLVMConstNull(LLVMTypeOf(x)), "")));
}

static void op_all_true(jt_func_t *f, enum shape s)
{
    LLVMValueRef v = pop_as(f, s);
    unsigned n = shape_lanes[s];
    LLVMValueRef nz = LLVMBuildICmp(f->b, LLVMIntNE, v, LLVMConstNull(LLVMTypeOf(v)), "");
    LLVMValueRef bits = lane_bits(f, nz, n);
    jt_push(f, i32_of_i1(f, LLVMBuildICmp(f->b, LLVMIntEQ, bits, LLVMConstAllOnes(LLVMTypeOf(bits)), "")));
}

static void op_bitmask(jt_func_t *f, enum shape s)
{
    LLVMValueRef v = pop_as(f, s);
    LLVMValueRef neg = LLVMBuildICmp(f->b, LLVMIntSLT, v, LLVMConstNull(LLVMTypeOf(v)), "");
    jt_push(f, LLVMBuildZExt(f->b, lane_bits(f, neg, shape_lanes[s]), f->jm->i32, ""));
}

/* ------------------------------------------------------------ integer lanes */

/* Comparisons: all-ones lanes where the relation holds. */
static void int_compare(jt_func_t *f, enum shape s, LLVMIntPredicate p)
{
    LLVMValueRef b = pop_as(f, s), a = pop_as(f, s);
    push_v(f, LLVMBuildSExt(f->b, LLVMBuildICmp(f->b, p, a, b, ""), shape_type(f, s), ""));
}

static void int_binop(jt_func_t *f, enum shape s, LLVMOpcode opc)
{
    LLVMValueRef b = pop_as(f, s), a = pop_as(f, s);
    push_v(f, LLVMBuildBinOp(f->b, opc, a, b, ""));
}

/* Saturating add/sub and min/max: LLVM's intrinsics are Wasm's. */
static void int_intrinsic2(jt_func_t *f, enum shape s, const char *name)
{
    LLVMValueRef b = pop_as(f, s), a = pop_as(f, s);
    push_v(f, intrinsic2(f, name, a, b));
}

static void int_unary(jt_func_t *f, enum shape s, wasm_op_t op)
{
    LLVMValueRef a = pop_as(f, s);
    switch (op) {
    case WASM_OP_I8X16_ABS: case WASM_OP_I16X8_ABS: case WASM_OP_I32X4_ABS: case WASM_OP_I64X2_ABS: {
        /* abs of the minimum is the minimum: no poison flag. */
        LLVMTypeRef ty = LLVMTypeOf(a);
        LLVMValueRef args[] = {a, LLVMConstInt(f->jm->i1, 0, false)};
        push_v(f, jt_intrinsic(f, "llvm.abs", &ty, 1, args, 2));
        break;
    }
    case WASM_OP_I8X16_POPCNT: push_v(f, intrinsic1(f, "llvm.ctpop", a)); break;
    default: /* NEG */
        push_v(f, LLVMBuildSub(f->b, LLVMConstNull(LLVMTypeOf(a)), a, ""));
        break;
    }
}

/* The rounding average (a + b + 1) / 2 without overflow, in lanes twice as
 * wide (LLVM recognises pavgb/pavgw). */
static void op_avgr(jt_func_t *f, enum shape s)
{
    LLVMValueRef b = pop_as(f, s), a = pop_as(f, s);
    unsigned n = shape_lanes[s];
    LLVMTypeRef wide = vec_type(f, LLVMIntTypeInContext(f->jm->llctx, 2 * shape_bits[s]), n);
    LLVMValueRef wa = LLVMBuildZExt(f->b, a, wide, ""), wb = LLVMBuildZExt(f->b, b, wide, "");
    LLVMValueRef one = splat_const(LLVMGetElementType(wide), n, 1);
    LLVMValueRef sum = LLVMBuildAdd(f->b, LLVMBuildAdd(f->b, wa, wb, ""), one, "");
    push_v(f, LLVMBuildTrunc(f->b, LLVMBuildLShr(f->b, sum, one, ""), shape_type(f, s), ""));
}

/* (a * b + 0x4000) >> 15 in 32 bits; only -1.0 * -1.0 exceeds the i16
 * range, and saturates to 0x7fff. */
static void op_q15mulr(jt_func_t *f)
{
    LLVMValueRef b = pop_as(f, I16), a = pop_as(f, I16);
    LLVMTypeRef wide = vec_type(f, f->jm->i32, 8);
    LLVMValueRef p = LLVMBuildMul(f->b, LLVMBuildSExt(f->b, a, wide, ""), LLVMBuildSExt(f->b, b, wide, ""), "");
    p = LLVMBuildAdd(f->b, p, splat_const(f->jm->i32, 8, 0x4000), "");
    p = LLVMBuildAShr(f->b, p, splat_const(f->jm->i32, 8, 15), "");
    p = intrinsic2(f, "llvm.smin", p, splat_const(f->jm->i32, 8, 0x7fff));
    push_v(f, LLVMBuildTrunc(f->b, p, shape_type(f, I16), ""));
}

/* Shifts: the count modulo the lane width, the same for every lane. */
static void op_shift(jt_func_t *f, enum shape s, LLVMOpcode opc)
{
    LLVMValueRef k = jt_pop(f);
    LLVMValueRef v = pop_as(f, s);
    k = LLVMBuildAnd(f->b, k, jt_const_i32(f, shape_bits[s] - 1), "");
    LLVMTypeRef lane = lane_type(f->jm, s);
    if (s == I64)
        k = LLVMBuildZExt(f->b, k, lane, "");
    else if (s != I32)
        k = LLVMBuildTrunc(f->b, k, lane, "");
    push_v(f, LLVMBuildBinOp(f->b, opc, v, splat(f, k, shape_lanes[s]), ""));
}

/* Lanes of `from` sign- or zero-extended to twice their width. */
static LLVMValueRef extend(jt_func_t *f, LLVMValueRef v, bool is_signed, unsigned bits, unsigned n)
{
    LLVMTypeRef wide = vec_type(f, LLVMIntTypeInContext(f->jm->llctx, 2 * bits), n);
    return is_signed ? LLVMBuildSExt(f->b, v, wide, "") : LLVMBuildZExt(f->b, v, wide, "");
}

/* The low or high half of the lanes of `from`, widened. */
static void op_extend(jt_func_t *f, enum shape from, bool high, bool is_signed)
{
    unsigned n = shape_lanes[from] / 2;
    LLVMValueRef half = pick(f, pop_as(f, from), NULL, high ? n : 0, 1, n);
    push_v(f, extend(f, half, is_signed, shape_bits[from], n));
}

/* Products of the low or high halves, in lanes twice as wide (exact). */
static void op_extmul(jt_func_t *f, enum shape from, bool high, bool is_signed)
{
    unsigned n = shape_lanes[from] / 2;
    LLVMValueRef b = pick(f, pop_as(f, from), NULL, high ? n : 0, 1, n);
    LLVMValueRef a = pick(f, pop_as(f, from), NULL, high ? n : 0, 1, n);
    a = extend(f, a, is_signed, shape_bits[from], n);
    b = extend(f, b, is_signed, shape_bits[from], n);
    push_v(f, LLVMBuildMul(f->b, a, b, ""));
}

/* Sums of adjacent lane pairs, in lanes twice as wide. */
static void op_extadd_pairwise(jt_func_t *f, enum shape from, bool is_signed)
{
    unsigned n = shape_lanes[from] / 2;
    LLVMValueRef v = pop_as(f, from);
    LLVMValueRef even = extend(f, pick(f, v, NULL, 0, 2, n), is_signed, shape_bits[from], n);
    LLVMValueRef odd = extend(f, pick(f, v, NULL, 1, 2, n), is_signed, shape_bits[from], n);
    push_v(f, LLVMBuildAdd(f->b, even, odd, ""));
}

/* i32x4.dot_i16x8_s: sums of adjacent signed products; the one overflowing
 * case (all four -32768) wraps, as pmaddwd does. */
static void op_dot(jt_func_t *f)
{
    LLVMValueRef b = pop_as(f, I16), a = pop_as(f, I16);
    LLVMValueRef p = LLVMBuildMul(f->b, extend(f, a, true, 16, 8), extend(f, b, true, 16, 8), "");
    LLVMValueRef even = pick(f, p, NULL, 0, 2, 4), odd = pick(f, p, NULL, 1, 2, 4);
    push_v(f, LLVMBuildAdd(f->b, even, odd, ""));
}

/* Narrowing: the lanes of a then b, each clamped to the narrow range
 * (signed or unsigned; the inputs are signed either way). */
static void op_narrow(jt_func_t *f, enum shape from, bool is_signed)
{
    LLVMValueRef b = pop_as(f, from), a = pop_as(f, from);
    unsigned n = shape_lanes[from], bits = shape_bits[from] / 2;
    LLVMValueRef both = pick(f, a, b, 0, 1, 2 * n);
    LLVMTypeRef lane = lane_type(f->jm, from);
    uint64_t lo = is_signed ? (uint64_t)-(INT64_C(1) << (bits - 1)) : 0;
    uint64_t hi = is_signed ? (UINT64_C(1) << (bits - 1)) - 1 : (UINT64_C(1) << bits) - 1;
    both = intrinsic2(f, "llvm.smax", both, splat_const(lane, 2 * n, lo));
    both = intrinsic2(f, "llvm.smin", both, splat_const(lane, 2 * n, hi));
    LLVMTypeRef narrow = vec_type(f, LLVMIntTypeInContext(f->jm->llctx, bits), 2 * n);
    push_v(f, LLVMBuildTrunc(f->b, both, narrow, ""));
}

static bool simd_integer(jt_func_t *f, wasm_op_t op)
{
    switch (op) {
#define CMP(W, S)                                                                       \
    case WASM_OP_##W##_EQ: int_compare(f, S, LLVMIntEQ); break;                       \
    case WASM_OP_##W##_NE: int_compare(f, S, LLVMIntNE); break;                       \
    case WASM_OP_##W##_LT_S: int_compare(f, S, LLVMIntSLT); break;                    \
    case WASM_OP_##W##_GT_S: int_compare(f, S, LLVMIntSGT); break;                    \
    case WASM_OP_##W##_LE_S: int_compare(f, S, LLVMIntSLE); break;                    \
    case WASM_OP_##W##_GE_S: int_compare(f, S, LLVMIntSGE); break;
#define CMP_U(W, S)                                                                     \
    case WASM_OP_##W##_LT_U: int_compare(f, S, LLVMIntULT); break;                    \
    case WASM_OP_##W##_GT_U: int_compare(f, S, LLVMIntUGT); break;                    \
    case WASM_OP_##W##_LE_U: int_compare(f, S, LLVMIntULE); break;                    \
    case WASM_OP_##W##_GE_U: int_compare(f, S, LLVMIntUGE); break;
        CMP(I8X16, I8) CMP_U(I8X16, I8)
        CMP(I16X8, I16) CMP_U(I16X8, I16)
        CMP(I32X4, I32) CMP_U(I32X4, I32)
        CMP(I64X2, I64)
#undef CMP
#undef CMP_U

#define ARITH(W, S)                                                                     \
    case WASM_OP_##W##_ADD: int_binop(f, S, LLVMAdd); break;                          \
    case WASM_OP_##W##_SUB: int_binop(f, S, LLVMSub); break;                          \
    case WASM_OP_##W##_NEG: case WASM_OP_##W##_ABS: int_unary(f, S, op); break;      \
    case WASM_OP_##W##_SHL: op_shift(f, S, LLVMShl); break;                           \
    case WASM_OP_##W##_SHR_S: op_shift(f, S, LLVMAShr); break;                        \
    case WASM_OP_##W##_SHR_U: op_shift(f, S, LLVMLShr); break;                        \
    case WASM_OP_##W##_ALL_TRUE: op_all_true(f, S); break;                            \
    case WASM_OP_##W##_BITMASK: op_bitmask(f, S); break;
#define SAT_MINMAX(W, S)                                                                \
    case WASM_OP_##W##_ADD_SAT_S: int_intrinsic2(f, S, "llvm.sadd.sat"); break;       \
    case WASM_OP_##W##_ADD_SAT_U: int_intrinsic2(f, S, "llvm.uadd.sat"); break;       \
    case WASM_OP_##W##_SUB_SAT_S: int_intrinsic2(f, S, "llvm.ssub.sat"); break;       \
    case WASM_OP_##W##_SUB_SAT_U: int_intrinsic2(f, S, "llvm.usub.sat"); break;       \
    case WASM_OP_##W##_AVGR_U: op_avgr(f, S); break;
#define MINMAX(W, S)                                                                    \
    case WASM_OP_##W##_MIN_S: int_intrinsic2(f, S, "llvm.smin"); break;               \
    case WASM_OP_##W##_MIN_U: int_intrinsic2(f, S, "llvm.umin"); break;               \
    case WASM_OP_##W##_MAX_S: int_intrinsic2(f, S, "llvm.smax"); break;               \
    case WASM_OP_##W##_MAX_U: int_intrinsic2(f, S, "llvm.umax"); break;
#define EXT(W, FROM, FS)                                                                \
    case WASM_OP_##W##_EXTEND_LOW_##FROM##_S: op_extend(f, FS, false, true); break;  \
    case WASM_OP_##W##_EXTEND_HIGH_##FROM##_S: op_extend(f, FS, true, true); break;  \
    case WASM_OP_##W##_EXTEND_LOW_##FROM##_U: op_extend(f, FS, false, false); break; \
    case WASM_OP_##W##_EXTEND_HIGH_##FROM##_U: op_extend(f, FS, true, false); break; \
    case WASM_OP_##W##_EXTMUL_LOW_##FROM##_S: op_extmul(f, FS, false, true); break;  \
    case WASM_OP_##W##_EXTMUL_HIGH_##FROM##_S: op_extmul(f, FS, true, true); break;  \
    case WASM_OP_##W##_EXTMUL_LOW_##FROM##_U: op_extmul(f, FS, false, false); break; \
    case WASM_OP_##W##_EXTMUL_HIGH_##FROM##_U: op_extmul(f, FS, true, false); break;
        ARITH(I8X16, I8) ARITH(I16X8, I16) ARITH(I32X4, I32) ARITH(I64X2, I64)
        SAT_MINMAX(I8X16, I8) SAT_MINMAX(I16X8, I16)
        MINMAX(I8X16, I8) MINMAX(I16X8, I16) MINMAX(I32X4, I32)
        EXT(I16X8, I8X16, I8) EXT(I32X4, I16X8, I16) EXT(I64X2, I32X4, I32)
#undef ARITH
#undef SAT_MINMAX
#undef MINMAX
#undef EXT
    case WASM_OP_I16X8_MUL: int_binop(f, I16, LLVMMul); break;
    case WASM_OP_I32X4_MUL: int_binop(f, I32, LLVMMul); break;
    case WASM_OP_I64X2_MUL: int_binop(f, I64, LLVMMul); break;
    case WASM_OP_I8X16_POPCNT: int_unary(f, I8, op); break;
    case WASM_OP_I16X8_Q15MULR_SAT_S: op_q15mulr(f); break;
    case WASM_OP_I32X4_DOT_I16X8_S: op_dot(f); break;
    case WASM_OP_I16X8_EXTADD_PAIRWISE_I8X16_S: op_extadd_pairwise(f, I8, true); break;
    case WASM_OP_I16X8_EXTADD_PAIRWISE_I8X16_U: op_extadd_pairwise(f, I8, false); break;
    case WASM_OP_I32X4_EXTADD_PAIRWISE_I16X8_S: op_extadd_pairwise(f, I16, true); break;
    case WASM_OP_I32X4_EXTADD_PAIRWISE_I16X8_U: op_extadd_pairwise(f, I16, false); break;
    case WASM_OP_I8X16_NARROW_I16X8_S: op_narrow(f, I16, true); break;
    case WASM_OP_I8X16_NARROW_I16X8_U: op_narrow(f, I16, false); break;
    case WASM_OP_I16X8_NARROW_I32X4_S: op_narrow(f, I32, true); break;
    case WASM_OP_I16X8_NARROW_I32X4_U: op_narrow(f, I32, false); break;
    default: return false;
    }
    return true;
}

/* ------------------------------------------------------------ float lanes */

static void float_compare(jt_func_t *f, enum shape s, LLVMRealPredicate p)
{
    LLVMValueRef b = pop_as(f, s), a = pop_as(f, s);
    LLVMValueRef c = LLVMBuildFCmp(f->b, p, a, b, "");
    push_v(f, LLVMBuildSExt(f->b, c, shape_type(f, int_shape(s)), ""));
}

/* add/sub/mul/div, hidden from LLVM on both sides (see the top). */
static LLVMValueRef float_binop(jt_func_t *f, LLVMOpcode opc, LLVMValueRef a, LLVMValueRef b)
{
    return jt_opaque(f, LLVMBuildBinOp(f->b, opc, jt_opaque(f, a), jt_opaque(f, b), ""));
}

static void float_arith(jt_func_t *f, enum shape s, LLVMOpcode opc)
{
    LLVMValueRef b = pop_as(f, s), a = pop_as(f, s);
    push_v(f, float_binop(f, opc, a, b));
}

/* neg/abs flip or clear the sign bits only (NaN payloads kept). */
static void float_sign(jt_func_t *f, enum shape s, bool is_neg)
{
    enum shape is = int_shape(s);
    uint64_t sign = UINT64_C(1) << (shape_bits[s] - 1);
    LLVMValueRef v = pop_as(f, is);
    push_v(f, is_neg ? LLVMBuildXor(f->b, v, shape_const(f, is, sign), "")
                     : LLVMBuildAnd(f->b, v, shape_const(f, is, sign - 1), ""));
}

static void float_sqrt(jt_func_t *f, enum shape s)
{
    push_v(f, intrinsic1(f, "llvm.sqrt", pop_as(f, s)));
}

/* ceil/floor/trunc/nearest: a NaN lane gives a + a (quieted, payload
 * kept), as roundps does. */
static void float_round(jt_func_t *f, enum shape s, const char *name)
{
    LLVMValueRef a = pop_as(f, s);
    LLVMValueRef rounded = intrinsic1(f, name, a);
    LLVMValueRef isnan = LLVMBuildFCmp(f->b, LLVMRealUNO, a, a, "");
    LLVMValueRef quiet = LLVMBuildFAdd(f->b, a, a, "");
    push_v(f, LLVMBuildSelect(f->b, isnan, quiet, rounded, ""));
}

/* min/max: see the top for the NaN lanes; equal lanes (only ±0 differ)
 * give the or (min) or and (max) of the bits, so -0 < +0. */
static void float_minmax(jt_func_t *f, enum shape s, bool is_max)
{
    LLVMValueRef b = pop_as(f, s), a = pop_as(f, s);
    enum shape is = int_shape(s);
    LLVMTypeRef fty = shape_type(f, s);
    LLVMValueRef ai = as_shape(f, a, is), bi = as_shape(f, b, is);
    LLVMValueRef eq_bits = is_max ? LLVMBuildAnd(f->b, ai, bi, "") : LLVMBuildOr(f->b, ai, bi, "");
    LLVMValueRef better = LLVMBuildFCmp(f->b, is_max ? LLVMRealOGT : LLVMRealOLT, a, b, "");
    LLVMValueRef r = LLVMBuildSelect(f->b, better, a, b, "");
    LLVMValueRef eq = LLVMBuildFCmp(f->b, LLVMRealOEQ, a, b, "");
    r = LLVMBuildSelect(f->b, eq, LLVMBuildBitCast(f->b, eq_bits, fty, ""), r, "");
    LLVMValueRef isnan = LLVMBuildFCmp(f->b, LLVMRealUNO, a, b, "");
#if SIMD_MINMAX_CANONICAL_NAN
    uint64_t nan = s == F32 ? UINT64_C(0xffc00000) : UINT64_C(0xfff8000000000000);
    LLVMValueRef nanres = LLVMBuildBitCast(f->b, shape_const(f, s, nan), fty, "");
#else
    LLVMValueRef nanres = float_binop(f, LLVMFAdd, a, b);
#endif
    push_v(f, LLVMBuildSelect(f->b, isnan, nanres, r, ""));
}

/* Pseudo-min/max, selects on the operands as the spec defines them:
 * pmin = b < a ? b : a, pmax = a < b ? b : a. */
static void float_pminmax(jt_func_t *f, enum shape s, bool is_max)
{
    LLVMValueRef b = pop_as(f, s), a = pop_as(f, s);
    LLVMValueRef take_b = is_max ? LLVMBuildFCmp(f->b, LLVMRealOLT, a, b, "")
                                 : LLVMBuildFCmp(f->b, LLVMRealOLT, b, a, "");
    push_v(f, LLVMBuildSelect(f->b, take_b, b, a, ""));
}

/* ------------------------------------------------------------ conversions */

/* Saturating float -> i32 lanes. LLVM's fpto[su]i.sat are Wasm's, but x86
 * lowers them lane by lane; instead, lanes outside the open interval
 * (lo, hi) (exact bounds, as numeric.h) convert a 0 and then take their
 * bound, NaN lanes stay 0, and the plain conversion (cvttps2dq and the
 * like) sees only values it defines. */
static LLVMValueRef sat_convert(jt_func_t *f, LLVMValueRef v, LLVMTypeRef to, bool is_signed)
{
    LLVMTypeRef fty = LLVMTypeOf(v);
    unsigned n = LLVMGetVectorSize(fty);
    LLVMTypeRef lane = LLVMGetElementType(fty);
    LLVMValueRef lo = LLVMConstReal(lane, is_signed ? -2147483649.0 : -1.0);
    LLVMValueRef hi = LLVMConstReal(lane, is_signed ? 2147483648.0 : 4294967296.0);
    LLVMValueRef c[4];
    for (unsigned i = 0; i < n; i++)
        c[i] = lo;
    lo = LLVMConstVector(c, n);
    for (unsigned i = 0; i < n; i++)
        c[i] = hi;
    hi = LLVMConstVector(c, n);
    LLVMValueRef above = LLVMBuildFCmp(f->b, LLVMRealOGE, v, hi, "");
    LLVMValueRef below = LLVMBuildFCmp(f->b, LLVMRealOLE, v, lo, "");
    LLVMValueRef in = LLVMBuildAnd(f->b, LLVMBuildFCmp(f->b, LLVMRealOGT, v, lo, ""),
                                   LLVMBuildFCmp(f->b, LLVMRealOLT, v, hi, ""), "");
    LLVMValueRef safe = LLVMBuildSelect(f->b, in, v, LLVMConstNull(fty), "");
    LLVMValueRef r = is_signed ? LLVMBuildFPToSI(f->b, safe, to, "") : LLVMBuildFPToUI(f->b, safe, to, "");
    LLVMTypeRef i32 = f->jm->i32;
    r = LLVMBuildSelect(f->b, above, splat_const(i32, n, is_signed ? INT32_MAX : UINT32_MAX), r, "");
    if (is_signed)
        r = LLVMBuildSelect(f->b, below, splat_const(i32, n, (uint32_t)INT32_MIN), r, "");
    return r;
}

/* Two lanes, then two zero lanes. */
static LLVMValueRef with_zero_high(jt_func_t *f, LLVMValueRef two)
{
    return pick(f, two, LLVMConstNull(LLVMTypeOf(two)), 0, 1, 4);
}

static void op_convert(jt_func_t *f, wasm_op_t op)
{
    jt_module_t *jm = f->jm;
    switch (op) {
    case WASM_OP_I32X4_TRUNC_SAT_F32X4_S:
    case WASM_OP_I32X4_TRUNC_SAT_F32X4_U:
        push_v(f, sat_convert(f, pop_as(f, F32), shape_type(f, I32), op == WASM_OP_I32X4_TRUNC_SAT_F32X4_S));
        break;
    case WASM_OP_I32X4_TRUNC_SAT_F64X2_S_ZERO:
    case WASM_OP_I32X4_TRUNC_SAT_F64X2_U_ZERO: {
        LLVMValueRef two = sat_convert(f, pop_as(f, F64), vec_type(f, jm->i32, 2),
                                       op == WASM_OP_I32X4_TRUNC_SAT_F64X2_S_ZERO);
        push_v(f, with_zero_high(f, two));
        break;
    }
    case WASM_OP_F32X4_CONVERT_I32X4_S:
        push_v(f, LLVMBuildSIToFP(f->b, pop_as(f, I32), shape_type(f, F32), ""));
        break;
    case WASM_OP_F32X4_CONVERT_I32X4_U:
        push_v(f, LLVMBuildUIToFP(f->b, pop_as(f, I32), shape_type(f, F32), ""));
        break;
    case WASM_OP_F64X2_CONVERT_LOW_I32X4_S:
    case WASM_OP_F64X2_CONVERT_LOW_I32X4_U: {
        LLVMValueRef low = pick(f, pop_as(f, I32), NULL, 0, 1, 2);
        LLVMTypeRef to = shape_type(f, F64);
        push_v(f, op == WASM_OP_F64X2_CONVERT_LOW_I32X4_S ? LLVMBuildSIToFP(f->b, low, to, "")
                                                          : LLVMBuildUIToFP(f->b, low, to, ""));
        break;
    }
    case WASM_OP_F32X4_DEMOTE_F64X2_ZERO: {
        LLVMValueRef two = LLVMBuildFPTrunc(f->b, pop_as(f, F64), vec_type(f, jm->f32, 2), "");
        push_v(f, with_zero_high(f, two));
        break;
    }
    default: { /* F64X2_PROMOTE_LOW_F32X4; hidden: see the top */
        LLVMValueRef low = pick(f, pop_as(f, F32), NULL, 0, 1, 2);
        push_v(f, jt_opaque(f, LLVMBuildFPExt(f->b, low, shape_type(f, F64), "")));
        break;
    }
    }
}

static bool simd_float(jt_func_t *f, wasm_op_t op)
{
    switch (op) {
#define FLOAT(W, S)                                                                      \
    case WASM_OP_##W##_EQ: float_compare(f, S, LLVMRealOEQ); break;                    \
    case WASM_OP_##W##_NE: float_compare(f, S, LLVMRealUNE); break;                    \
    case WASM_OP_##W##_LT: float_compare(f, S, LLVMRealOLT); break;                    \
    case WASM_OP_##W##_GT: float_compare(f, S, LLVMRealOGT); break;                    \
    case WASM_OP_##W##_LE: float_compare(f, S, LLVMRealOLE); break;                    \
    case WASM_OP_##W##_GE: float_compare(f, S, LLVMRealOGE); break;                    \
    case WASM_OP_##W##_ADD: float_arith(f, S, LLVMFAdd); break;                        \
    case WASM_OP_##W##_SUB: float_arith(f, S, LLVMFSub); break;                        \
    case WASM_OP_##W##_MUL: float_arith(f, S, LLVMFMul); break;                        \
    case WASM_OP_##W##_DIV: float_arith(f, S, LLVMFDiv); break;                        \
    case WASM_OP_##W##_NEG: float_sign(f, S, true); break;                             \
    case WASM_OP_##W##_ABS: float_sign(f, S, false); break;                            \
    case WASM_OP_##W##_SQRT: float_sqrt(f, S); break;                                  \
    case WASM_OP_##W##_CEIL: float_round(f, S, "llvm.ceil"); break;                    \
    case WASM_OP_##W##_FLOOR: float_round(f, S, "llvm.floor"); break;                  \
    case WASM_OP_##W##_TRUNC: float_round(f, S, "llvm.trunc"); break;                  \
    case WASM_OP_##W##_NEAREST: float_round(f, S, "llvm.roundeven"); break;            \
    case WASM_OP_##W##_MIN: float_minmax(f, S, false); break;                          \
    case WASM_OP_##W##_MAX: float_minmax(f, S, true); break;                           \
    case WASM_OP_##W##_PMIN: float_pminmax(f, S, false); break;                        \
    case WASM_OP_##W##_PMAX: float_pminmax(f, S, true); break;
        FLOAT(F32X4, F32) FLOAT(F64X2, F64)
#undef FLOAT
    case WASM_OP_I32X4_TRUNC_SAT_F32X4_S:
    case WASM_OP_I32X4_TRUNC_SAT_F32X4_U:
    case WASM_OP_I32X4_TRUNC_SAT_F64X2_S_ZERO:
    case WASM_OP_I32X4_TRUNC_SAT_F64X2_U_ZERO:
    case WASM_OP_F32X4_CONVERT_I32X4_S:
    case WASM_OP_F32X4_CONVERT_I32X4_U:
    case WASM_OP_F64X2_CONVERT_LOW_I32X4_S:
    case WASM_OP_F64X2_CONVERT_LOW_I32X4_U:
    case WASM_OP_F32X4_DEMOTE_F64X2_ZERO:
    case WASM_OP_F64X2_PROMOTE_LOW_F32X4: op_convert(f, op); break;
    default: return false;
    }
    return true;
}

/* ------------------------------------------------------------ relaxed SIMD */

/* Relaxed SIMD: the interpreter's choices (src/exec/simd_relaxed.h), built
 * from the 2.0 instructions they equal, through the stack like the Wasm
 * code that spells them out would be. */
static bool simd_relaxed(jt_func_t *f, wasm_op_t op)
{
    switch (op) {
    case WASM_OP_I8X16_RELAXED_SWIZZLE: return jt_simd(f, WASM_OP_I8X16_SWIZZLE);
    case WASM_OP_I32X4_RELAXED_TRUNC_F32X4_S: return jt_simd(f, WASM_OP_I32X4_TRUNC_SAT_F32X4_S);
    case WASM_OP_I32X4_RELAXED_TRUNC_F32X4_U: return jt_simd(f, WASM_OP_I32X4_TRUNC_SAT_F32X4_U);
    case WASM_OP_I32X4_RELAXED_TRUNC_F64X2_S_ZERO:
        return jt_simd(f, WASM_OP_I32X4_TRUNC_SAT_F64X2_S_ZERO);
    case WASM_OP_I32X4_RELAXED_TRUNC_F64X2_U_ZERO:
        return jt_simd(f, WASM_OP_I32X4_TRUNC_SAT_F64X2_U_ZERO);
    case WASM_OP_I8X16_RELAXED_LANESELECT:
    case WASM_OP_I16X8_RELAXED_LANESELECT:
    case WASM_OP_I32X4_RELAXED_LANESELECT:
    case WASM_OP_I64X2_RELAXED_LANESELECT: return jt_simd(f, WASM_OP_V128_BITSELECT);
    case WASM_OP_F32X4_RELAXED_MIN: return jt_simd(f, WASM_OP_F32X4_MIN);
    case WASM_OP_F32X4_RELAXED_MAX: return jt_simd(f, WASM_OP_F32X4_MAX);
    case WASM_OP_F64X2_RELAXED_MIN: return jt_simd(f, WASM_OP_F64X2_MIN);
    case WASM_OP_F64X2_RELAXED_MAX: return jt_simd(f, WASM_OP_F64X2_MAX);
    case WASM_OP_I16X8_RELAXED_Q15MULR_S: return jt_simd(f, WASM_OP_I16X8_Q15MULR_SAT_S);
    case WASM_OP_F32X4_RELAXED_MADD:
    case WASM_OP_F32X4_RELAXED_NMADD:
    case WASM_OP_F64X2_RELAXED_MADD:
    case WASM_OP_F64X2_RELAXED_NMADD: {
        /* Unfused: mul, then add, each its own rounding (and hidden from
         * LLVM's contraction, see float_binop); nmadd negates a first. */
        bool f32 = op == WASM_OP_F32X4_RELAXED_MADD || op == WASM_OP_F32X4_RELAXED_NMADD;
        bool neg = op == WASM_OP_F32X4_RELAXED_NMADD || op == WASM_OP_F64X2_RELAXED_NMADD;
        LLVMValueRef c = jt_pop(f), b = jt_pop(f);
        if (neg)
            jt_simd(f, f32 ? WASM_OP_F32X4_NEG : WASM_OP_F64X2_NEG);
        jt_push(f, b);
        jt_simd(f, f32 ? WASM_OP_F32X4_MUL : WASM_OP_F64X2_MUL);
        jt_push(f, c);
        return jt_simd(f, f32 ? WASM_OP_F32X4_ADD : WASM_OP_F64X2_ADD);
    }
    case WASM_OP_I16X8_RELAXED_DOT_I8X16_I7X16_S:
    case WASM_OP_I32X4_RELAXED_DOT_I8X16_I7X16_ADD_S: {
        /* Signed by signed; each pair's sum saturated to i16. */
        LLVMValueRef c = op == WASM_OP_I32X4_RELAXED_DOT_I8X16_I7X16_ADD_S ? jt_pop(f) : NULL;
        LLVMValueRef b = pop_as(f, I8), a = pop_as(f, I8);
        LLVMValueRef p = LLVMBuildMul(f->b, extend(f, a, true, 8, 16), extend(f, b, true, 8, 16), "");
        LLVMValueRef even = pick(f, p, NULL, 0, 2, 8), odd = pick(f, p, NULL, 1, 2, 8);
        push_v(f, intrinsic2(f, "llvm.sadd.sat", even, odd));
        if (!c)
            return true;
        jt_simd(f, WASM_OP_I32X4_EXTADD_PAIRWISE_I16X8_S);
        jt_push(f, c);
        return jt_simd(f, WASM_OP_I32X4_ADD);
    }
    default: return false;
    }
}

/* ------------------------------------------------------------ dispatch */

bool jt_simd(jt_func_t *f, wasm_op_t op)
{
    if (wasm_opinfo[op].prefix != 0xFD)
        return false;
    switch (op) {
    case WASM_OP_V128_CONST: op_const(f); return true;
    case WASM_OP_I8X16_SHUFFLE: op_shuffle(f); return true;
    case WASM_OP_I8X16_SWIZZLE: op_swizzle(f); return true;
    case WASM_OP_I8X16_SPLAT: op_splat(f, I8); return true;
    case WASM_OP_I16X8_SPLAT: op_splat(f, I16); return true;
    case WASM_OP_I32X4_SPLAT: op_splat(f, I32); return true;
    case WASM_OP_I64X2_SPLAT: op_splat(f, I64); return true;
    case WASM_OP_F32X4_SPLAT: op_splat(f, F32); return true;
    case WASM_OP_F64X2_SPLAT: op_splat(f, F64); return true;
    case WASM_OP_I8X16_EXTRACT_LANE_S: op_extract(f, I8, true); return true;
    case WASM_OP_I8X16_EXTRACT_LANE_U: op_extract(f, I8, false); return true;
    case WASM_OP_I16X8_EXTRACT_LANE_S: op_extract(f, I16, true); return true;
    case WASM_OP_I16X8_EXTRACT_LANE_U: op_extract(f, I16, false); return true;
    case WASM_OP_I32X4_EXTRACT_LANE: op_extract(f, I32, false); return true;
    case WASM_OP_I64X2_EXTRACT_LANE: op_extract(f, I64, false); return true;
    case WASM_OP_F32X4_EXTRACT_LANE: op_extract(f, F32, false); return true;
    case WASM_OP_F64X2_EXTRACT_LANE: op_extract(f, F64, false); return true;
    case WASM_OP_I8X16_REPLACE_LANE: op_replace(f, I8); return true;
    case WASM_OP_I16X8_REPLACE_LANE: op_replace(f, I16); return true;
    case WASM_OP_I32X4_REPLACE_LANE: op_replace(f, I32); return true;
    case WASM_OP_I64X2_REPLACE_LANE: op_replace(f, I64); return true;
    case WASM_OP_F32X4_REPLACE_LANE: op_replace(f, F32); return true;
    case WASM_OP_F64X2_REPLACE_LANE: op_replace(f, F64); return true;
    case WASM_OP_V128_NOT:
    case WASM_OP_V128_AND:
    case WASM_OP_V128_ANDNOT:
    case WASM_OP_V128_OR:
    case WASM_OP_V128_XOR:
    case WASM_OP_V128_BITSELECT: op_bitwise(f, op); return true;
    case WASM_OP_V128_ANY_TRUE: op_any_true(f); return true;
    default:
        return simd_memory(f, op) || simd_integer(f, op) || simd_float(f, op) ||
               simd_relaxed(f, op);
    }
}
