/* Numeric instructions: i32/i64/f32/f64 arithmetic, comparisons and
 * conversions with exactly Wasm's semantics. Where LLVM's instruction has
 * undefined behaviour or poison that Wasm defines (division, shifts,
 * float-to-int out of range), the edge is handled explicitly; float
 * min/max/nearest and the sign operations give the interpreter's bits
 * (src/exec/numeric.h), NaN payloads included. */
#include <string.h>

#include "jit/jit_binding.h"

static LLVMValueRef i32_bool(jt_func_t *f, LLVMValueRef i1)
{
    return LLVMBuildZExt(f->b, i1, f->jm->i32, "");
}

static LLVMTypeRef int_type(jt_func_t *f, bool is64) { return is64 ? f->jm->i64 : f->jm->i32; }

static LLVMValueRef int_const(jt_func_t *f, bool is64, uint64_t v)
{
    return LLVMConstInt(int_type(f, is64), v, false);
}

static void cmp_int(jt_func_t *f, LLVMIntPredicate p)
{
    LLVMValueRef b = jt_pop(f), a = jt_pop(f);
    jt_push(f, i32_bool(f, LLVMBuildICmp(f->b, p, a, b, "")));
}

static void cmp_float(jt_func_t *f, LLVMRealPredicate p)
{
    LLVMValueRef b = jt_pop(f), a = jt_pop(f);
    jt_push(f, i32_bool(f, LLVMBuildFCmp(f->b, p, a, b, "")));
}

static void unary_intrinsic(jt_func_t *f, const char *name, bool with_false_flag)
{
    LLVMValueRef a = jt_pop(f);
    LLVMTypeRef ty = LLVMTypeOf(a);
    LLVMValueRef args[] = {a, LLVMConstInt(f->jm->i1, 0, false)};
    jt_push(f, jt_intrinsic(f, name, &ty, 1, args, with_false_flag ? 2 : 1));
}

/* div/rem: traps on a zero divisor; signed division of the minimum by -1
 * overflows (a trap) while the remainder is 0. */
static void div_rem(jt_func_t *f, bool is64, bool is_signed, bool is_rem)
{
    LLVMValueRef b = jt_pop(f), a = jt_pop(f);
    jt_trap_if(f, LLVMBuildICmp(f->b, LLVMIntEQ, b, int_const(f, is64, 0), ""),
               WHIRL_TRAP_INTEGER_DIVIDE_BY_ZERO);
    LLVMValueRef r;
    if (!is_signed) {
        r = is_rem ? LLVMBuildURem(f->b, a, b, "") : LLVMBuildUDiv(f->b, a, b, "");
    } else {
        uint64_t min = is64 ? UINT64_C(1) << 63 : UINT64_C(1) << 31;
        LLVMValueRef minus1 = LLVMBuildICmp(f->b, LLVMIntEQ, b, int_const(f, is64, ~UINT64_C(0)), "");
        if (!is_rem) {
            LLVMValueRef is_min = LLVMBuildICmp(f->b, LLVMIntEQ, a, int_const(f, is64, min), "");
            jt_trap_if(f, LLVMBuildAnd(f->b, minus1, is_min, ""), WHIRL_TRAP_INTEGER_OVERFLOW);
            r = LLVMBuildSDiv(f->b, a, b, "");
        } else {
            /* x rem -1 is 0 for every x; dividing by 1 instead avoids the
             * hardware overflow of MIN rem -1. */
            LLVMValueRef safe_b = LLVMBuildSelect(f->b, minus1, int_const(f, is64, 1), b, "");
            r = LLVMBuildSRem(f->b, a, safe_b, "");
        }
    }
    jt_push(f, r);
}

/* Shift amounts are taken modulo the width. */
static void shift(jt_func_t *f, bool is64, LLVMOpcode opc)
{
    LLVMValueRef b = jt_pop(f), a = jt_pop(f);
    b = LLVMBuildAnd(f->b, b, int_const(f, is64, is64 ? 63 : 31), "");
    jt_push(f, LLVMBuildBinOp(f->b, opc, a, b, ""));
}

static void rotate(jt_func_t *f, const char *name)
{
    LLVMValueRef b = jt_pop(f), a = jt_pop(f);
    LLVMTypeRef ty = LLVMTypeOf(a);
    LLVMValueRef args[] = {a, a, b};
    jt_push(f, jt_intrinsic(f, name, &ty, 1, args, 3));
}

static void binop(jt_func_t *f, LLVMOpcode opc)
{
    LLVMValueRef b = jt_pop(f), a = jt_pop(f);
    jt_push(f, LLVMBuildBinOp(f->b, opc, a, b, ""));
}

/* add/sub/mul/div with a constant operand hidden: LLVM folds constant
 * arithmetic with its own NaN rules (inf - inf folds to +NaN where x86
 * gives the default NaN, -NaN). Constants appearing only after
 * optimisation are not caught; hiding every operand, as translate_simd.c
 * does, cost 7% on bench/ nbody. */
static void float_arith(jt_func_t *f, LLVMOpcode opc)
{
    LLVMValueRef b = jt_pop(f), a = jt_pop(f);
    if (LLVMIsConstant(a))
        a = jt_opaque(f, a);
    if (LLVMIsConstant(b))
        b = jt_opaque(f, b);
    jt_push(f, LLVMBuildBinOp(f->b, opc, a, b, ""));
}

static void float_intrinsic(jt_func_t *f, const char *name)
{
    LLVMValueRef a = jt_pop(f);
    LLVMTypeRef ty = LLVMTypeOf(a);
    jt_push(f, jt_intrinsic(f, name, &ty, 1, &a, 1));
}

/* ceil/floor/trunc/nearest: a NaN operand gives a + a (a quiet NaN with the
 * operand's payload), as the interpreter computes it. */
static void float_round(jt_func_t *f, const char *name)
{
    LLVMValueRef a = jt_pop(f);
    LLVMTypeRef ty = LLVMTypeOf(a);
    LLVMValueRef rounded = jt_intrinsic(f, name, &ty, 1, &a, 1);
    LLVMValueRef isnan = LLVMBuildFCmp(f->b, LLVMRealUNO, a, a, "");
    LLVMValueRef quiet = LLVMBuildFAdd(f->b, a, a, "");
    jt_push(f, LLVMBuildSelect(f->b, isnan, quiet, rounded, ""));
}

/* min/max: NaN operands give the first NaN operand quieted (a + a if a is
 * a NaN, else b + b), as the interpreter (exec/numeric.h); equal operands
 * (only ±0 differ) give the bitwise or (min: -0 wins) or and (max: +0
 * wins) of their bits. */
static void float_minmax(jt_func_t *f, bool is64, bool is_max)
{
    LLVMValueRef b = jt_pop(f), a = jt_pop(f);
    LLVMTypeRef fty = LLVMTypeOf(a), ity = int_type(f, is64);
    LLVMValueRef isnan = LLVMBuildFCmp(f->b, LLVMRealUNO, a, b, "");
    LLVMValueRef a_nan = LLVMBuildFCmp(f->b, LLVMRealUNO, a, a, "");
    LLVMValueRef nanres = LLVMBuildSelect(f->b, a_nan, LLVMBuildFAdd(f->b, a, a, ""),
                                          LLVMBuildFAdd(f->b, b, b, ""), "");
    LLVMValueRef eq = LLVMBuildFCmp(f->b, LLVMRealOEQ, a, b, "");
    LLVMValueRef ai = LLVMBuildBitCast(f->b, a, ity, ""), bi = LLVMBuildBitCast(f->b, b, ity, "");
    LLVMValueRef eqres = LLVMBuildBitCast(
        f->b, is_max ? LLVMBuildAnd(f->b, ai, bi, "") : LLVMBuildOr(f->b, ai, bi, ""), fty, "");
    LLVMValueRef lt = LLVMBuildFCmp(f->b, is_max ? LLVMRealOGT : LLVMRealOLT, a, b, "");
    LLVMValueRef r = LLVMBuildSelect(f->b, lt, a, b, "");
    r = LLVMBuildSelect(f->b, eq, eqres, r, "");
    jt_push(f, LLVMBuildSelect(f->b, isnan, nanres, r, ""));
}

/* neg, abs, copysign: hidden on both sides. LLVM would move a sign
 * operation into the arithmetic around it (-(a*b) to (-a)*b, a - -b to
 * a + b, |x*x| to x*x, copysign(x, -C) to -|x| and on), which changes the
 * bits of a NaN result. */
static void float_sign_op(jt_func_t *f, const char *intrinsic)
{
    LLVMValueRef r;
    if (!intrinsic) {
        r = LLVMBuildFNeg(f->b, jt_opaque(f, jt_pop(f)), "");
    } else if (strcmp(intrinsic, "llvm.fabs") == 0) {
        LLVMValueRef a = jt_opaque(f, jt_pop(f));
        LLVMTypeRef ty = LLVMTypeOf(a);
        r = jt_intrinsic(f, intrinsic, &ty, 1, &a, 1);
    } else {
        LLVMValueRef b = jt_pop(f), a = jt_opaque(f, jt_pop(f));
        LLVMTypeRef ty = LLVMTypeOf(a);
        LLVMValueRef args[] = {a, b};
        r = jt_intrinsic(f, intrinsic, &ty, 1, args, 2);
    }
    jt_push(f, jt_opaque(f, r));
}

/* Trapping float -> int: NaN is an invalid conversion, anything outside
 * the open interval (lo, hi) an overflow. The bounds are exact doubles and
 * an f32 widens to double exactly, so comparing in double is exact. */
static void trunc_trap(jt_func_t *f, bool to64, bool is_signed, double lo, double hi)
{
    LLVMValueRef a = jt_pop(f);
    LLVMValueRef d = LLVMTypeOf(a) == f->jm->f64 ? a : LLVMBuildFPExt(f->b, a, f->jm->f64, "");
    jt_trap_if(f, LLVMBuildFCmp(f->b, LLVMRealUNO, d, d, ""), WHIRL_TRAP_INVALID_CONVERSION);
    LLVMValueRef in_lo = LLVMBuildFCmp(f->b, LLVMRealOGT, d, LLVMConstReal(f->jm->f64, lo), "");
    LLVMValueRef in_hi = LLVMBuildFCmp(f->b, LLVMRealOLT, d, LLVMConstReal(f->jm->f64, hi), "");
    jt_trap_if(f, LLVMBuildNot(f->b, LLVMBuildAnd(f->b, in_lo, in_hi, ""), ""),
               WHIRL_TRAP_INTEGER_OVERFLOW);
    LLVMTypeRef ity = int_type(f, to64);
    jt_push(f, is_signed ? LLVMBuildFPToSI(f->b, a, ity, "") : LLVMBuildFPToUI(f->b, a, ity, ""));
}

/* Saturating float -> int: LLVM's fpto[su]i.sat are exactly Wasm's (NaN is
 * 0, out of range clamps). */
static void trunc_sat(jt_func_t *f, bool to64, bool is_signed)
{
    LLVMValueRef a = jt_pop(f);
    LLVMTypeRef tys[] = {int_type(f, to64), LLVMTypeOf(a)};
    jt_push(f, jt_intrinsic(f, is_signed ? "llvm.fptosi.sat" : "llvm.fptoui.sat", tys, 2, &a, 1));
}

static void cast(jt_func_t *f, LLVMOpcode opc, LLVMTypeRef to)
{
    LLVMValueRef a = jt_pop(f);
    jt_push(f, LLVMBuildCast(f->b, opc, a, to, ""));
}

/* A float made from an integer, hidden: once LLVM has folded the integer
 * to a constant (a local holding one, say), 1.0 or 0.0 made this way would
 * let it fold x * 1 or x - 0 to x, a signalling NaN unquieted (literal
 * constants are hidden in op_const). */
static void cast_to_float(jt_func_t *f, LLVMOpcode opc, LLVMTypeRef to)
{
    cast(f, opc, to);
    jt_push(f, jt_opaque(f, jt_pop(f)));
}

/* Sign-extends the low `bits` of an integer in place. */
static void extend_low(jt_func_t *f, unsigned bits)
{
    LLVMValueRef a = jt_pop(f);
    LLVMTypeRef ty = LLVMTypeOf(a);
    LLVMValueRef low = LLVMBuildTrunc(f->b, a, LLVMIntTypeInContext(f->jm->llctx, bits), "");
    jt_push(f, LLVMBuildSExt(f->b, low, ty, ""));
}

static void eqz(jt_func_t *f)
{
    LLVMValueRef a = jt_pop(f);
    jt_push(f, i32_bool(f, LLVMBuildICmp(f->b, LLVMIntEQ, a, LLVMConstNull(LLVMTypeOf(a)), "")));
}

bool jt_numeric(jt_func_t *f, wasm_op_t op)
{
    jt_module_t *jm = f->jm;
    switch (op) {
    case WASM_OP_I32_EQZ: case WASM_OP_I64_EQZ: eqz(f); break;
    case WASM_OP_I32_EQ: case WASM_OP_I64_EQ: cmp_int(f, LLVMIntEQ); break;
    case WASM_OP_I32_NE: case WASM_OP_I64_NE: cmp_int(f, LLVMIntNE); break;
    case WASM_OP_I32_LT_S: case WASM_OP_I64_LT_S: cmp_int(f, LLVMIntSLT); break;
    case WASM_OP_I32_LT_U: case WASM_OP_I64_LT_U: cmp_int(f, LLVMIntULT); break;
    case WASM_OP_I32_GT_S: case WASM_OP_I64_GT_S: cmp_int(f, LLVMIntSGT); break;
    case WASM_OP_I32_GT_U: case WASM_OP_I64_GT_U: cmp_int(f, LLVMIntUGT); break;
    case WASM_OP_I32_LE_S: case WASM_OP_I64_LE_S: cmp_int(f, LLVMIntSLE); break;
    case WASM_OP_I32_LE_U: case WASM_OP_I64_LE_U: cmp_int(f, LLVMIntULE); break;
    case WASM_OP_I32_GE_S: case WASM_OP_I64_GE_S: cmp_int(f, LLVMIntSGE); break;
    case WASM_OP_I32_GE_U: case WASM_OP_I64_GE_U: cmp_int(f, LLVMIntUGE); break;
    case WASM_OP_F32_EQ: case WASM_OP_F64_EQ: cmp_float(f, LLVMRealOEQ); break;
    case WASM_OP_F32_NE: case WASM_OP_F64_NE: cmp_float(f, LLVMRealUNE); break;
    case WASM_OP_F32_LT: case WASM_OP_F64_LT: cmp_float(f, LLVMRealOLT); break;
    case WASM_OP_F32_GT: case WASM_OP_F64_GT: cmp_float(f, LLVMRealOGT); break;
    case WASM_OP_F32_LE: case WASM_OP_F64_LE: cmp_float(f, LLVMRealOLE); break;
    case WASM_OP_F32_GE: case WASM_OP_F64_GE: cmp_float(f, LLVMRealOGE); break;

    case WASM_OP_I32_CLZ: case WASM_OP_I64_CLZ: unary_intrinsic(f, "llvm.ctlz", true); break;
    case WASM_OP_I32_CTZ: case WASM_OP_I64_CTZ: unary_intrinsic(f, "llvm.cttz", true); break;
    case WASM_OP_I32_POPCNT: case WASM_OP_I64_POPCNT: unary_intrinsic(f, "llvm.ctpop", false); break;
    case WASM_OP_I32_ADD: case WASM_OP_I64_ADD: binop(f, LLVMAdd); break;
    case WASM_OP_I32_SUB: case WASM_OP_I64_SUB: binop(f, LLVMSub); break;
    case WASM_OP_I32_MUL: case WASM_OP_I64_MUL: binop(f, LLVMMul); break;
    case WASM_OP_I32_DIV_S: div_rem(f, false, true, false); break;
    case WASM_OP_I32_DIV_U: div_rem(f, false, false, false); break;
    case WASM_OP_I32_REM_S: div_rem(f, false, true, true); break;
    case WASM_OP_I32_REM_U: div_rem(f, false, false, true); break;
    case WASM_OP_I64_DIV_S: div_rem(f, true, true, false); break;
    case WASM_OP_I64_DIV_U: div_rem(f, true, false, false); break;
    case WASM_OP_I64_REM_S: div_rem(f, true, true, true); break;
    case WASM_OP_I64_REM_U: div_rem(f, true, false, true); break;
    case WASM_OP_I32_AND: case WASM_OP_I64_AND: binop(f, LLVMAnd); break;
    case WASM_OP_I32_OR: case WASM_OP_I64_OR: binop(f, LLVMOr); break;
    case WASM_OP_I32_XOR: case WASM_OP_I64_XOR: binop(f, LLVMXor); break;
    case WASM_OP_I32_SHL: shift(f, false, LLVMShl); break;
    case WASM_OP_I32_SHR_S: shift(f, false, LLVMAShr); break;
    case WASM_OP_I32_SHR_U: shift(f, false, LLVMLShr); break;
    case WASM_OP_I64_SHL: shift(f, true, LLVMShl); break;
    case WASM_OP_I64_SHR_S: shift(f, true, LLVMAShr); break;
    case WASM_OP_I64_SHR_U: shift(f, true, LLVMLShr); break;
    case WASM_OP_I32_ROTL: case WASM_OP_I64_ROTL: rotate(f, "llvm.fshl"); break;
    case WASM_OP_I32_ROTR: case WASM_OP_I64_ROTR: rotate(f, "llvm.fshr"); break;

    case WASM_OP_F32_ABS: case WASM_OP_F64_ABS: float_sign_op(f, "llvm.fabs"); break;
    case WASM_OP_F32_NEG: case WASM_OP_F64_NEG: float_sign_op(f, NULL); break;
    case WASM_OP_F32_CEIL: case WASM_OP_F64_CEIL: float_round(f, "llvm.ceil"); break;
    case WASM_OP_F32_FLOOR: case WASM_OP_F64_FLOOR: float_round(f, "llvm.floor"); break;
    case WASM_OP_F32_TRUNC: case WASM_OP_F64_TRUNC: float_round(f, "llvm.trunc"); break;
    case WASM_OP_F32_NEAREST: case WASM_OP_F64_NEAREST: float_round(f, "llvm.roundeven"); break;
    case WASM_OP_F32_SQRT: case WASM_OP_F64_SQRT: float_intrinsic(f, "llvm.sqrt"); break;
    case WASM_OP_F32_ADD: case WASM_OP_F64_ADD: float_arith(f, LLVMFAdd); break;
    case WASM_OP_F32_SUB: case WASM_OP_F64_SUB: float_arith(f, LLVMFSub); break;
    case WASM_OP_F32_MUL: case WASM_OP_F64_MUL: float_arith(f, LLVMFMul); break;
    case WASM_OP_F32_DIV: case WASM_OP_F64_DIV: float_arith(f, LLVMFDiv); break;
    case WASM_OP_F32_MIN: float_minmax(f, false, false); break;
    case WASM_OP_F32_MAX: float_minmax(f, false, true); break;
    case WASM_OP_F64_MIN: float_minmax(f, true, false); break;
    case WASM_OP_F64_MAX: float_minmax(f, true, true); break;
    case WASM_OP_F32_COPYSIGN: case WASM_OP_F64_COPYSIGN: float_sign_op(f, "llvm.copysign"); break;

    case WASM_OP_I32_WRAP_I64: cast(f, LLVMTrunc, jm->i32); break;
    case WASM_OP_I32_TRUNC_F32_S:
    case WASM_OP_I32_TRUNC_F64_S: trunc_trap(f, false, true, -2147483649.0, 2147483648.0); break;
    case WASM_OP_I32_TRUNC_F32_U:
    case WASM_OP_I32_TRUNC_F64_U: trunc_trap(f, false, false, -1.0, 4294967296.0); break;
    case WASM_OP_I64_TRUNC_F32_S:
    case WASM_OP_I64_TRUNC_F64_S:
        trunc_trap(f, true, true, -9223372036854777856.0, 9223372036854775808.0);
        break;
    case WASM_OP_I64_TRUNC_F32_U:
    case WASM_OP_I64_TRUNC_F64_U: trunc_trap(f, true, false, -1.0, 18446744073709551616.0); break;
    case WASM_OP_I64_EXTEND_I32_S: cast(f, LLVMSExt, jm->i64); break;
    case WASM_OP_I64_EXTEND_I32_U: cast(f, LLVMZExt, jm->i64); break;
    case WASM_OP_F32_CONVERT_I32_S: case WASM_OP_F32_CONVERT_I64_S: cast_to_float(f, LLVMSIToFP, jm->f32); break;
    case WASM_OP_F32_CONVERT_I32_U: case WASM_OP_F32_CONVERT_I64_U: cast_to_float(f, LLVMUIToFP, jm->f32); break;
    case WASM_OP_F64_CONVERT_I32_S: case WASM_OP_F64_CONVERT_I64_S: cast_to_float(f, LLVMSIToFP, jm->f64); break;
    case WASM_OP_F64_CONVERT_I32_U: case WASM_OP_F64_CONVERT_I64_U: cast_to_float(f, LLVMUIToFP, jm->f64); break;
    case WASM_OP_F32_DEMOTE_F64: cast(f, LLVMFPTrunc, jm->f32); break;
    case WASM_OP_F64_PROMOTE_F32:
        /* Opaque, so that demote(promote(x)) is not folded to x: it must
         * quiet a signalling NaN. */
        cast(f, LLVMFPExt, jm->f64);
        jt_push(f, jt_opaque(f, jt_pop(f)));
        break;
    case WASM_OP_I32_REINTERPRET_F32: cast(f, LLVMBitCast, jm->i32); break;
    case WASM_OP_I64_REINTERPRET_F64: cast(f, LLVMBitCast, jm->i64); break;
    case WASM_OP_F32_REINTERPRET_I32: cast_to_float(f, LLVMBitCast, jm->f32); break;
    case WASM_OP_F64_REINTERPRET_I64: cast_to_float(f, LLVMBitCast, jm->f64); break;
    case WASM_OP_I32_EXTEND8_S: case WASM_OP_I64_EXTEND8_S: extend_low(f, 8); break;
    case WASM_OP_I32_EXTEND16_S: case WASM_OP_I64_EXTEND16_S: extend_low(f, 16); break;
    case WASM_OP_I64_EXTEND32_S: extend_low(f, 32); break;

    case WASM_OP_I32_TRUNC_SAT_F32_S: case WASM_OP_I32_TRUNC_SAT_F64_S: trunc_sat(f, false, true); break;
    case WASM_OP_I32_TRUNC_SAT_F32_U: case WASM_OP_I32_TRUNC_SAT_F64_U: trunc_sat(f, false, false); break;
    case WASM_OP_I64_TRUNC_SAT_F32_S: case WASM_OP_I64_TRUNC_SAT_F64_S: trunc_sat(f, true, true); break;
    case WASM_OP_I64_TRUNC_SAT_F32_U: case WASM_OP_I64_TRUNC_SAT_F64_U: trunc_sat(f, true, false); break;
    default:
        return false;
    }
    return true;
}
