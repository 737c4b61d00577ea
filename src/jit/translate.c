/* Wasm -> LLVM IR: the per-function driver, locals, control flow and calls.
 * Numeric instructions are in translate_numeric.c, memory, table and
 * global access in translate_memory.c; instance state only through
 * jit_binding.h.
 *
 * Control flow maps onto basic blocks: each Wasm block has an `end` block
 * whose phi nodes receive the block's results from every branch to it (a
 * loop's branch target is its header, whose phis receive the loop's
 * params). Code after an unconditional branch is skipped (the validator
 * already type-checked it), so the operand stack never has to invent
 * values for the polymorphic stack. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jit/jit.h"
#include "compile/code.h"
#include "jit/jit_binding.h"
#include "jit/jit_debuginfo.h"
#include "util/error.h"

/* ---------------------------------------------------------- helpers */

LLVMTypeRef jt_type(jt_module_t *jm, wasm_valtype_t t)
{
    switch (t) {
    case WASM_I32: return jm->i32;
    case WASM_I64: return jm->i64;
    case WASM_F32: return jm->f32;
    case WASM_F64: return jm->f64;
    case WASM_V128: return jt_v128_type(jm);
    default: return jm->ptr; /* funcref, externref */
    }
}

LLVMValueRef jt_zero(jt_module_t *jm, wasm_valtype_t t)
{
    return LLVMConstNull(jt_type(jm, t));
}

LLVMValueRef jt_const_i32(jt_func_t *f, uint32_t v) { return LLVMConstInt(f->jm->i32, v, false); }
LLVMValueRef jt_const_i64(jt_func_t *f, uint64_t v) { return LLVMConstInt(f->jm->i64, v, false); }

void jt_push(jt_func_t *f, LLVMValueRef v)
{
    if (f->sp == f->stack_cap) {
        size_t cap = f->stack_cap ? 2 * f->stack_cap : 64;
        LLVMValueRef *s = realloc(f->stack, cap * sizeof *s);
        if (!s) {
            f->error = "out of memory";
            return;
        }
        f->stack = s;
        f->stack_cap = cap;
    }
    f->stack[f->sp++] = v;
}

LLVMValueRef jt_pop(jt_func_t *f)
{
    /* Validation guarantees an operand here; the check only keeps a bug in
     * the translator from reading out of bounds. */
    if (f->sp == 0 || (f->nctrl && f->sp <= f->ctrl[f->nctrl - 1].height)) {
        f->error = "operand stack underflow (translator bug)";
        return LLVMGetUndef(f->jm->i32);
    }
    return f->stack[--f->sp];
}

LLVMValueRef jt_intrinsic(jt_func_t *f, const char *name, LLVMTypeRef *overload, unsigned noverload,
                          LLVMValueRef *args, unsigned nargs)
{
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    LLVMValueRef decl = LLVMGetIntrinsicDeclaration(f->jm->mod, id, overload, noverload);
    LLVMTypeRef ty = LLVMIntrinsicGetType(f->jm->llctx, id, overload, noverload);
    return LLVMBuildCall2(f->b, ty, decl, args, nargs, "");
}

_Static_assert(WHIRL_TRAP_WAIT_UNSHARED < JT_TRAP_CODES,
               "jt_func_t.trap_bb has a block for every trap code");

void jt_trap_if(jt_func_t *f, LLVMValueRef cond, int code)
{
    LLVMContextRef cx = f->jm->llctx;
    LLVMBasicBlockRef here = LLVMGetInsertBlock(f->b);
    if (!f->trap_bb[code]) {
        f->trap_bb[code] = LLVMAppendBasicBlockInContext(cx, f->fn, "trap");
        LLVMPositionBuilderAtEnd(f->b, f->trap_bb[code]);
        f->trap_offset[code] = LLVMBuildPhi(f->b, f->jm->i32, "offset");
        jb_trap_at(f, code, f->trap_offset[code]);
        LLVMPositionBuilderAtEnd(f->b, here);
    }
    LLVMValueRef off = jt_const_i32(f, f->op_offset);
    LLVMAddIncoming(f->trap_offset[code], &off, &here, 1);
    LLVMBasicBlockRef cont = LLVMAppendBasicBlockInContext(cx, f->fn, "ok");
    LLVMBuildCondBr(f->b, cond, f->trap_bb[code], cont);
    LLVMPositionBuilderAtEnd(f->b, cont);
}

void jt_tbaa(jt_func_t *f, LLVMValueRef access, LLVMValueRef tag)
{
    LLVMSetMetadata(access, f->jm->tbaa_kind, tag);
}

/* The three TBAA access tags under one root. */
static void make_tbaa(jt_module_t *jm)
{
    LLVMContextRef cx = jm->llctx;
    LLVMMetadataRef root_name = LLVMMDStringInContext2(cx, "whirl jit", 9);
    LLVMMetadataRef root = LLVMMDNodeInContext2(cx, &root_name, 1);
    LLVMMetadataRef zero = LLVMValueAsMetadata(LLVMConstInt(jm->i64, 0, false));
    const char *names[] = {"wasm memory", "runtime", "global value"};
    LLVMValueRef *tags[] = {&jm->tbaa_memory, &jm->tbaa_runtime, &jm->tbaa_global};
    for (int i = 0; i < 3; i++) {
        LLVMMetadataRef type_ops[] = {LLVMMDStringInContext2(cx, names[i], strlen(names[i])), root,
                                      zero};
        LLVMMetadataRef type = LLVMMDNodeInContext2(cx, type_ops, 3);
        LLVMMetadataRef tag_ops[] = {type, type, zero};
        *tags[i] = LLVMMetadataAsValue(cx, LLVMMDNodeInContext2(cx, tag_ops, 3));
    }
    jm->tbaa_kind = LLVMGetMDKindIDInContext(cx, "tbaa", 4);
}

LLVMValueRef jt_scratch(jt_func_t *f, uint32_t n)
{
    (void)n; /* sized for the function's largest call by the pre-scan */
    return f->results_alloca;
}

static const wasm_valtype_t *single_type(wasm_valtype_t t)
{
    static const wasm_valtype_t types[] = {WASM_I32, WASM_I64, WASM_F32, WASM_F64,
                                           WASM_V128, WASM_FUNCREF, WASM_EXTERNREF, WASM_EXNREF};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i] == t)
            return &types[i];
    return &types[0];
}

/* A block type's params and results (`rd` at the heap type of a
 * reference block type; a typed reference is its top type here). */
static void block_type(const wasm_module_t *m, reader_t *rd, int64_t bt, uint32_t *np,
                       const wasm_valtype_t **p, uint32_t *nr, const wasm_valtype_t **r)
{
    *np = 0;
    *p = NULL;
    *nr = 0;
    *r = NULL;
    if (bt == -64)
        return;
    if (bt < 0) {
        wasm_valtype_t ref = wasm_blocktype_ref(rd, bt);
        *nr = 1;
        *r = single_type(wasm_ref_top(ref ? ref : (wasm_valtype_t)(bt & 0x7f)));
        return;
    }
    const wasm_functype_t *t = &m->types[bt];
    *np = t->nparams;
    *p = t->params;
    *nr = t->nresults;
    *r = t->results;
}

/* The Wasm-ABI LLVM type of a function type: (ptr ctx, params...) -> void,
 * the single result, or a struct of the results. */
static LLVMTypeRef make_fn_type(jt_module_t *jm, const wasm_functype_t *t)
{
    LLVMTypeRef params[t->nparams + 1];
    params[0] = jm->ptr;
    for (uint32_t i = 0; i < t->nparams; i++)
        params[i + 1] = jt_type(jm, t->params[i]);
    LLVMTypeRef ret;
    if (t->nresults == 0) {
        ret = jm->void_t;
    } else if (t->nresults == 1) {
        ret = jt_type(jm, t->results[0]);
    } else {
        LLVMTypeRef fields[t->nresults];
        for (uint32_t i = 0; i < t->nresults; i++)
            fields[i] = jt_type(jm, t->results[i]);
        ret = LLVMStructTypeInContext(jm->llctx, fields, t->nresults, false);
    }
    return LLVMFunctionType(ret, params, t->nparams + 1, false);
}

/* Slots a value list takes in a slot array (a v128 takes two). */
static uint32_t slots_of_types(const wasm_valtype_t *v, uint32_t n)
{
    uint32_t s = 0;
    for (uint32_t i = 0; i < n; i++)
        s += slots_of(v[i]);
    return s;
}

/* Slots the runtime needs for a call of type `t`: arguments in, results
 * out, at least one (the runtime still gets a valid pointer). */
static uint32_t call_slots_needed(const wasm_functype_t *t)
{
    uint32_t p = slots_of_types(t->params, t->nparams), r = slots_of_types(t->results, t->nresults);
    uint32_t n = p > r ? p : r;
    return n ? n : 1;
}

/* Value types the tier cannot hold: none now. Every reference is one
 * pointer, as in the interpreter's slots: typed function references are
 * funcrefs (wasm_ref_top), an exnref points to its exception object. Kept
 * as the one place to say so if a type without that representation comes
 * (GC). */
static bool type_unsupported(wasm_valtype_t t)
{
    (void)t;
    return false;
}

static bool types_have_exnref(const wasm_valtype_t *v, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (type_unsupported(v[i]))
            return true;
    return false;
}

static bool functype_has_exnref(const wasm_functype_t *t)
{
    return types_have_exnref(t->params, t->nparams) ||
           types_have_exnref(t->results, t->nresults);
}

/* A block type (s33, and the heap type after a reference prefix) naming
 * exnref, itself or in its function type. */
static bool blocktype_has_exnref(const wasm_module_t *m, reader_t *r, int64_t bt)
{
    if (bt < 0) {
        wasm_valtype_t ref = wasm_blocktype_ref(r, bt);
        return type_unsupported(ref ? ref : (wasm_valtype_t)(bt & 0x7f));
    }
    return bt < m->ntypes && functype_has_exnref(&m->types[bt]);
}

/* wasm_skip_immediates, with memargs read as memory64 has them (a u64
 * offset). */
static void jt_skip_immediates(reader_t *r, wasm_op_t op)
{
    wasm_imm_t imm = wasm_opinfo[op].imm;
    if (imm == IMM_MEMARG || imm == IMM_MEMARG_LANE || imm == IMM_MEMARG_ATOMIC) {
        jt_skip_memarg(r);
        if (imm == IMM_MEMARG_LANE)
            read_u8(r);
        return;
    }
    wasm_skip_immediates(r, op);
}

void jt_direct_callees(const wasm_module_t *m, const wasm_func_t *fn,
                       void (*each)(void *env, uint32_t callee), void *env)
{
    reader_t r;
    reader_init(&r, m->bytes, fn->code, fn->code_end);
    while (!reader_at_end(&r) && reader_ok(&r)) {
        int op = wasm_read_op(&r);
        if (op < 0)
            return;
        if (op == WASM_OP_CALL || op == WASM_OP_RETURN_CALL)
            each(env, read_u32(&r));
        else
            jt_skip_immediates(&r, (wasm_op_t)op);
    }
}

/* Whether LLVM returns a function type's results in registers. A result
 * list returned through memory (an sret demoted by the back end) makes a
 * musttail call between different prototypes fail in code generation, so
 * functions with tail calls and such results stay interpreted. The bounds
 * are x86-64's, found by trying (three integer or reference results, four
 * float or vector ones), and within what AArch64 returns in registers. */
static bool results_in_registers(const wasm_functype_t *t)
{
    uint32_t ints = 0, fps = 0;
    for (uint32_t i = 0; i < t->nresults; i++) {
        wasm_valtype_t v = t->results[i];
        if (v == WASM_F32 || v == WASM_F64 || v == WASM_V128)
            fps++;
        else
            ints++;
    }
    return ints <= 3 && fps <= 4;
}

/* Pre-scan of a validated body: whether the tier can compile it (NULL) or
 * why not, the slots its calls through the runtime (and its catch
 * clauses' values) need, whether it has a legacy try (`legacy_try`,
 * may be NULL) and whether it tail-calls (*tail_call set, never cleared).
 * type_unsupported is the one place a value type the tier
 * cannot hold would be refused (none now). */
static const char *scan_func(const wasm_module_t *m, const wasm_func_t *fn, uint32_t *scratch,
                             bool *legacy_try, bool *tail_call)
{
    static const char eh[] = "a value type the jit cannot hold";
    *scratch = 0;
    if (functype_has_exnref(&m->types[fn->type]))
        return eh;
    for (uint32_t i = 0; i < fn->nlocal_runs; i++)
        if (type_unsupported(fn->local_runs[i].type))
            return eh;
    reader_t r;
    reader_init(&r, m->bytes, fn->code, fn->code_end);
    while (!reader_at_end(&r) && reader_ok(&r)) {
        int op = wasm_read_op(&r);
        if (op < 0)
            return "unreadable instruction";
        uint32_t n = 0;
        switch (op) {
        case WASM_OP_RETURN_CALL:
        case WASM_OP_RETURN_CALL_INDIRECT:
            *tail_call = true;
            if (!results_in_registers(&m->types[fn->type]))
                return "a tail call returning more results than registers hold: not "
                       "supported by the jit yet";
            if (op == WASM_OP_RETURN_CALL)
                goto call;
            goto call_indirect;
        case WASM_OP_CALL:
        call: {
            const wasm_functype_t *t = wasm_module_func_type(m, read_u32(&r));
            if (functype_has_exnref(t))
                return eh;
            n = call_slots_needed(t);
            break;
        }
        case WASM_OP_CALL_INDIRECT:
        call_indirect: {
            const wasm_functype_t *t = &m->types[read_u32(&r)];
            if (functype_has_exnref(t))
                return eh;
            n = call_slots_needed(t);
            read_u32(&r); /* the table */
            break;
        }
        case WASM_OP_BLOCK:
        case WASM_OP_LOOP:
        case WASM_OP_IF:
            if (blocktype_has_exnref(m, &r, read_s33(&r)))
                return eh;
            break;
        case WASM_OP_SELECT_T: {
            uint32_t k = read_u32(&r);
            for (uint32_t j = 0; j < k && reader_ok(&r); j++) {
                wasm_valtype_t v = read_u8(&r);
                if (v == WASM_REF_NULL_PREFIX || v == WASM_REF_PREFIX)
                    v = wasm_read_heaptype(&r, v == WASM_REF_NULL_PREFIX, &(const char *){NULL});
                if (type_unsupported(v))
                    return eh;
            }
            break;
        }
        case WASM_OP_REF_NULL:
            if (type_unsupported(wasm_read_heaptype(&r, true, &(const char *){NULL})))
                return eh;
            break;
        case WASM_OP_GLOBAL_GET:
        case WASM_OP_GLOBAL_SET:
            if (type_unsupported(wasm_module_global_type(m, read_u32(&r))->type))
                return eh;
            break;
        case WASM_OP_TABLE_GET:
        case WASM_OP_TABLE_SET:
        case WASM_OP_TABLE_GROW:
        case WASM_OP_TABLE_FILL: {
            const wasm_tabletype_t *tt = wasm_module_table_type(m, read_u32(&r));
            if (type_unsupported(tt->elem))
                return eh;
            break;
        }
        case WASM_OP_THROW: {
            const wasm_functype_t *t = &m->types[wasm_module_tag_type(m, read_u32(&r))];
            n = call_slots_needed(t);
            break;
        }
        case WASM_OP_TRY_TABLE:
            n = jt_exn_scan_try_table(m, &r);
            break;
        case WASM_OP_TRY:
            if (legacy_try)
                *legacy_try = true;
            read_s33(&r);
            break;
        case WASM_OP_CATCH: /* the values come back in the scratch slots */
            n = call_slots_needed(&m->types[wasm_module_tag_type(m, read_u32(&r))]);
            break;
        case WASM_OP_RETURN_CALL_REF:
            *tail_call = true;
            if (!results_in_registers(&m->types[fn->type]))
                return "a tail call returning more results than registers hold: not "
                       "supported by the jit yet";
            /* fall through */
        case WASM_OP_CALL_REF: {
            const wasm_functype_t *t = &m->types[read_u32(&r)];
            if (functype_has_exnref(t))
                return eh;
            n = call_slots_needed(t);
            break;
        }
        default:
            /* Memory and table instructions of any index width are
             * translated (translate_wasm3.c). */
            jt_skip_immediates(&r, (wasm_op_t)op);
        }
        if (n > *scratch)
            *scratch = n;
    }
    return reader_ok(&r) ? NULL : "unreadable instruction";
}

/* ---------------------------------------------------------- control */

static jt_ctrl_t *push_ctrl(jt_func_t *f, enum jt_ctrl_kind kind, uint32_t np,
                            const wasm_valtype_t *p, uint32_t nr, const wasm_valtype_t *r)
{
    if (f->nctrl == f->ctrl_cap) {
        size_t cap = f->ctrl_cap ? 2 * f->ctrl_cap : 16;
        jt_ctrl_t *c = realloc(f->ctrl, cap * sizeof *c);
        if (!c) {
            f->error = "out of memory";
            return NULL;
        }
        f->ctrl = c;
        f->ctrl_cap = cap;
    }
    jt_ctrl_t *c = &f->ctrl[f->nctrl++];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->nparams = np;
    c->params = p;
    c->nresults = nr;
    c->results = r;
    c->height = f->sp >= np ? f->sp - np : 0;
    return c;
}

static LLVMValueRef *make_phis(jt_func_t *f, LLVMBasicBlockRef bb, uint32_t n,
                               const wasm_valtype_t *types)
{
    if (!n)
        return NULL;
    LLVMValueRef *phis = calloc(n, sizeof *phis);
    if (!phis) {
        f->error = "out of memory";
        return NULL;
    }
    LLVMBasicBlockRef saved = LLVMGetInsertBlock(f->b);
    LLVMPositionBuilderAtEnd(f->b, bb);
    for (uint32_t i = 0; i < n; i++)
        phis[i] = LLVMBuildPhi(f->b, jt_type(f->jm, types[i]), "");
    LLVMPositionBuilderAtEnd(f->b, saved);
    return phis;
}

static void free_ctrl(jt_ctrl_t *c)
{
    if (c->target_phis != c->end_phis)
        free(c->target_phis);
    free(c->end_phis);
    free(c->if_params);
    c->target_phis = c->end_phis = c->if_params = NULL;
}

/* Adds the top `n` operands (not popped) as incoming values of `phis` from
 * the current block. */
static void add_incoming(jt_func_t *f, LLVMValueRef *phis, uint32_t n)
{
    LLVMBasicBlockRef from = LLVMGetInsertBlock(f->b);
    if (f->sp < n) {
        f->error = "operand stack underflow at a branch (translator bug)";
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        LLVMValueRef v = f->stack[f->sp - n + i];
        LLVMAddIncoming(phis[i], &v, &from, 1);
    }
}

/* Records that control leaves the current block for label `depth`'s target
 * (the caller emits the branch instruction). Returns the target block. */
static LLVMBasicBlockRef branch_edge(jt_func_t *f, uint32_t depth)
{
    jt_ctrl_t *c = &f->ctrl[f->nctrl - 1 - depth];
    if (c->kind == JT_LOOP) {
        add_incoming(f, c->target_phis, c->nparams);
        c->back_edge_unchecked |= !c->calls_checker;
    } else {
        add_incoming(f, c->target_phis, c->nresults);
        c->end_reached = true;
    }
    return c->target;
}

static void mark_dead(jt_func_t *f)
{
    f->ctrl[f->nctrl - 1].dead = true;
}

void jt_mark_dead(jt_func_t *f) { mark_dead(f); }

LLVMBasicBlockRef jt_branch_values(jt_func_t *f, uint32_t depth, LLVMValueRef *vals, uint32_t n)
{
    jt_ctrl_t *c = &f->ctrl[f->nctrl - 1 - depth];
    LLVMBasicBlockRef from = LLVMGetInsertBlock(f->b);
    LLVMValueRef *phis = c->kind == JT_LOOP ? c->target_phis : c->end_phis;
    for (uint32_t i = 0; i < n; i++)
        LLVMAddIncoming(phis[i], &vals[i], &from, 1);
    if (c->kind != JT_LOOP)
        c->end_reached = true;
    else
        c->back_edge_unchecked |= !c->calls_checker;
    return c->target;
}

jt_ctrl_t *jt_block(jt_func_t *f, enum jt_ctrl_kind kind)
{
    uint32_t np, nr;
    const wasm_valtype_t *p, *r;
    int64_t bt = read_s33(&f->r);
    block_type(f->jm->wasm, &f->r, bt, &np, &p, &nr, &r);
    LLVMContextRef cx = f->jm->llctx;
    LLVMValueRef cond = NULL;
    if (kind == JT_IF)
        cond = jt_pop(f);
    jt_ctrl_t *c = push_ctrl(f, kind, np, p, nr, r);
    if (!c)
        return NULL;
    c->end = LLVMAppendBasicBlockInContext(cx, f->fn, "end");
    c->end_phis = make_phis(f, c->end, nr, r);
    c->target = c->end;
    c->target_phis = c->end_phis;
    if (kind == JT_LOOP) {
        LLVMBasicBlockRef header = LLVMAppendBasicBlockInContext(cx, f->fn, "loop");
        c->target = header;
        c->target_phis = make_phis(f, header, np, p);
        add_incoming(f, c->target_phis, np);
        LLVMBuildBr(f->b, header);
        LLVMPositionBuilderAtEnd(f->b, header);
        if (f->osr_loop && f->op_offset == f->osr_loop && f->sp == 0) {
            /* The on-stack replacement entry lands here (jit_osr.c). */
            LLVMPositionBuilderAtEnd(f->b, f->osr_jump);
            LLVMBuildBr(f->b, header);
            LLVMPositionBuilderAtEnd(f->b, header);
            f->osr_found = true;
        }
        for (uint32_t i = 0; i < np; i++)
            f->stack[c->height + i] = c->target_phis[i];
        /* An interrupt at a loop is reported where the interpreter reports
         * it: at the body's first instruction, where a back-edge lands. */
        uint32_t loop_offset = f->op_offset;
        f->op_offset = (uint32_t)reader_offset(&f->r);
        jb_loop_check(f, &c->epoch_branch, &c->epoch_load);
        f->op_offset = loop_offset;
    } else if (kind == JT_IF) {
        if (np) {
            c->if_params = malloc(np * sizeof *c->if_params);
            if (!c->if_params) {
                f->error = "out of memory";
                return NULL;
            }
            memcpy(c->if_params, &f->stack[c->height], np * sizeof *c->if_params);
        }
        LLVMBasicBlockRef then_bb = LLVMAppendBasicBlockInContext(cx, f->fn, "then");
        c->else_bb = LLVMAppendBasicBlockInContext(cx, f->fn, "else");
        LLVMValueRef nz = LLVMBuildICmp(f->b, LLVMIntNE, cond, jt_const_i32(f, 0), "");
        LLVMBuildCondBr(f->b, nz, then_bb, c->else_bb);
        LLVMPositionBuilderAtEnd(f->b, then_bb);
    }
    return c;
}

static void op_block(jt_func_t *f, enum jt_ctrl_kind kind) { jt_block(f, kind); }

/* Leaves the current arm: falls through to `end` if reachable. */
static void fall_to_end(jt_func_t *f, jt_ctrl_t *c)
{
    if (!c->dead) {
        add_incoming(f, c->end_phis, c->nresults);
        LLVMBuildBr(f->b, c->end);
        c->end_reached = true;
    }
}

void jt_fall_to_end(jt_func_t *f, jt_ctrl_t *c) { fall_to_end(f, c); }

static void op_else(jt_func_t *f)
{
    jt_ctrl_t *c = &f->ctrl[f->nctrl - 1];
    fall_to_end(f, c);
    f->sp = c->height;
    for (uint32_t i = 0; i < c->nparams; i++)
        jt_push(f, c->if_params[i]);
    LLVMPositionBuilderAtEnd(f->b, c->else_bb);
    c->else_bb = NULL;
    c->dead = false;
}

/* `ret` of the function's results `vals`. */
static void build_return(jt_func_t *f, LLVMValueRef *vals)
{
    const wasm_functype_t *t = f->type;
    if (t->nresults == 0) {
        LLVMBuildRetVoid(f->b);
    } else if (t->nresults == 1) {
        LLVMBuildRet(f->b, vals[0]);
    } else {
        LLVMTypeRef st = LLVMGetReturnType(LLVMGlobalGetValueType(f->fn));
        LLVMValueRef agg = LLVMGetUndef(st);
        for (uint32_t i = 0; i < t->nresults; i++)
            agg = LLVMBuildInsertValue(f->b, agg, vals[i], i, "");
        LLVMBuildRet(f->b, agg);
    }
}

static void op_end(jt_func_t *f)
{
    jt_ctrl_t *c = &f->ctrl[f->nctrl - 1];
    if (c->eh != JT_EH_NONE)
        jt_exn_end(f, c);
    fall_to_end(f, c);
    if (c->else_bb) { /* an `if` without `else`: params pass through as results */
        LLVMPositionBuilderAtEnd(f->b, c->else_bb);
        LLVMBasicBlockRef from = c->else_bb;
        for (uint32_t i = 0; i < c->nresults; i++)
            LLVMAddIncoming(c->end_phis[i], &c->if_params[i], &from, 1);
        LLVMBuildBr(f->b, c->end);
        c->end_reached = true;
    }
    f->sp = c->height;
    bool reached = c->end_reached;
    LLVMPositionBuilderAtEnd(f->b, c->end);
    if (reached) {
        for (uint32_t i = 0; i < c->nresults; i++)
            jt_push(f, c->end_phis[i]);
    } else {
        /* Nothing reaches the end: drop its phis; LLVM deletes the block. */
        for (uint32_t i = 0; i < c->nresults; i++)
            LLVMInstructionEraseFromParent(c->end_phis[i]);
    }
    /* A loop header that no branch targets keeps its phis with one
     * incoming edge: valid, and folded away by the optimiser. Its epoch
     * check goes when every way back to it passed a call that checks: the
     * interrupt then comes at the callee's entry, as soon (fib's loop, or
     * a loop over a helper, keeps the counter's pointers out of its
     * registers). */
    if (c->kind == JT_LOOP && c->epoch_branch && !c->back_edge_unchecked)
        jb_loop_check_drop(f, c->epoch_branch, c->epoch_load);
    enum jt_ctrl_kind kind = c->kind;
    free_ctrl(c);
    f->nctrl--;
    if (kind == JT_FUNC) {
        if (reached) {
            const wasm_functype_t *t = f->type;
            /* No results: the stack may never have been allocated. */
            build_return(f, t->nresults ? &f->stack[f->sp - t->nresults] : NULL);
        } else {
            LLVMBuildUnreachable(f->b);
        }
        return;
    }
    if (!reached) {
        LLVMBuildUnreachable(f->b);
        mark_dead(f);
    }
}

void jt_end(jt_func_t *f) { op_end(f); }

static void op_br(jt_func_t *f)
{
    uint32_t depth = read_u32(&f->r);
    LLVMBasicBlockRef target = branch_edge(f, depth);
    LLVMBuildBr(f->b, target);
    mark_dead(f);
}

static void op_br_if(jt_func_t *f)
{
    uint32_t depth = read_u32(&f->r);
    LLVMValueRef cond = jt_pop(f);
    LLVMBasicBlockRef target = branch_edge(f, depth);
    LLVMBasicBlockRef cont = LLVMAppendBasicBlockInContext(f->jm->llctx, f->fn, "brif");
    LLVMValueRef nz = LLVMBuildICmp(f->b, LLVMIntNE, cond, jt_const_i32(f, 0), "");
    LLVMBuildCondBr(f->b, nz, target, cont);
    LLVMPositionBuilderAtEnd(f->b, cont);
}

/* br_on_null: a null reference branches (dropped), any other stays.
 * br_on_non_null: a non-null reference branches with it on top, a null
 * one is dropped and falls through. */
static void op_br_on_null(jt_func_t *f, bool on_null)
{
    uint32_t depth = read_u32(&f->r);
    LLVMValueRef ref = jt_pop(f);
    LLVMValueRef isnull = LLVMBuildIsNull(f->b, ref, "");
    if (!on_null)
        jt_push(f, ref);
    LLVMBasicBlockRef target = branch_edge(f, depth);
    if (!on_null)
        jt_pop(f);
    LLVMBasicBlockRef cont = LLVMAppendBasicBlockInContext(f->jm->llctx, f->fn, "brnull");
    if (on_null)
        LLVMBuildCondBr(f->b, isnull, target, cont);
    else
        LLVMBuildCondBr(f->b, isnull, cont, target);
    LLVMPositionBuilderAtEnd(f->b, cont);
    if (on_null)
        jt_push(f, ref);
}

static void op_br_table(jt_func_t *f)
{
    uint32_t n = read_u32(&f->r);
    if (!reader_ok(&f->r))
        return;
    uint32_t *labels = malloc(((size_t)n + 1) * sizeof *labels);
    if (!labels) {
        f->error = "out of memory";
        return;
    }
    for (uint32_t i = 0; i <= n; i++)
        labels[i] = read_u32(&f->r);
    LLVMValueRef index = jt_pop(f);
    /* One phi entry per edge, duplicates included, as LLVM requires. */
    LLVMBasicBlockRef def = branch_edge(f, labels[n]);
    LLVMValueRef sw = LLVMBuildSwitch(f->b, index, def, n);
    for (uint32_t i = 0; i < n; i++)
        LLVMAddCase(sw, jt_const_i32(f, i), branch_edge(f, labels[i]));
    free(labels);
    mark_dead(f);
}

/* ---------------------------------------------------------- calls */

/* Every translated function ("w<index>") of a compile has one calling
 * convention, jm->cc. When one of them tail-calls it is LLVM's tailcc
 * (JT_TAILCC): with it a `musttail` call is guaranteed to reuse the
 * caller's frame whatever the two signatures, which return_call and
 * return_call_indirect need (the C convention guarantees it only between
 * identical prototypes). Otherwise C's: tailcc makes every callee pop an
 * argument area (8 bytes even without stack arguments: `ret $8` and a
 * `sub $8, %rsp` after each call), which costs recursive code such as
 * bench/fib. Native code of another compile is called only within one
 * instance (jit_binding.c rt_indirect, rt_ref_native), and compiles of
 * parts of a module happen only in the auto tier, which leaves modules
 * with tail calls interpreted (jit_tier.c): all compiles of a module agree.
 * Every call of a w function, from generated code and from the entry
 * trampolines, uses it; C never calls one directly. */
static LLVMValueRef call_wasm_fn(jt_func_t *f, LLVMTypeRef ty, LLVMValueRef fn, LLVMValueRef *args,
                                 unsigned n)
{
    LLVMValueRef call = LLVMBuildCall2(f->b, ty, fn, args, n, "");
    LLVMSetInstructionCallConv(call, f->jm->cc);
    return call;
}

/* Slot arrays follow the interpreter's layout: one 8-byte slot per value,
 * two for a v128 (8-byte aligned only). */
static LLVMValueRef slot_store(LLVMBuilderRef b, jt_module_t *jm, LLVMValueRef slots, uint32_t at,
                               LLVMValueRef v)
{
    LLVMValueRef idx = LLVMConstInt(jm->i64, at, false);
    LLVMValueRef st = LLVMBuildStore(b, v, LLVMBuildGEP2(b, jm->i64, slots, &idx, 1, ""));
    LLVMSetAlignment(st, 8);
    return st;
}

static LLVMValueRef slot_load(LLVMBuilderRef b, jt_module_t *jm, LLVMValueRef slots, uint32_t at,
                              wasm_valtype_t t)
{
    LLVMValueRef idx = LLVMConstInt(jm->i64, at, false);
    LLVMValueRef v = LLVMBuildLoad2(b, jt_type(jm, t), LLVMBuildGEP2(b, jm->i64, slots, &idx, 1, ""), "");
    LLVMSetAlignment(v, 8);
    return v;
}

void jt_spill(jt_func_t *f, LLVMValueRef slots, LLVMValueRef *vals, const wasm_valtype_t *types,
              uint32_t n)
{
    for (uint32_t i = 0, at = 0; i < n; at += slots_of(types[i]), i++)
        slot_store(f->b, f->jm, slots, at, vals[i]);
}

void jt_unspill(jt_func_t *f, LLVMValueRef slots, const wasm_valtype_t *types, uint32_t n,
                LLVMValueRef *out)
{
    for (uint32_t i = 0, at = 0; i < n; at += slots_of(types[i]), i++)
        out[i] = slot_load(f->b, f->jm, slots, at, types[i]);
}

static void spill_args(jt_func_t *f, LLVMValueRef slots, LLVMValueRef *args,
                       const wasm_functype_t *t)
{
    for (uint32_t i = 0, at = 0; i < t->nparams; at += slots_of(t->params[i]), i++)
        slot_store(f->b, f->jm, slots, at, args[i]);
}

static void load_results(jt_func_t *f, LLVMValueRef slots, const wasm_functype_t *t,
                         LLVMValueRef *out)
{
    for (uint32_t i = 0, at = 0; i < t->nresults; at += slots_of(t->results[i]), i++)
        out[i] = slot_load(f->b, f->jm, slots, at, t->results[i]);
}

static void unpack_results(jt_func_t *f, LLVMValueRef call, const wasm_functype_t *t,
                           LLVMValueRef *out)
{
    if (t->nresults == 1)
        out[0] = call;
    for (uint32_t i = 0; t->nresults > 1 && i < t->nresults; i++)
        out[i] = LLVMBuildExtractValue(f->b, call, i, "");
}

/* A call inside a block with handlers: always through the runtime
 * function `rt` (ctx, pre[0..npre), slots, site), which catches an
 * exception from the callee and returns it (NULL: none); it goes to the
 * handlers `h`, the results come back in the slots. Traps go on past the
 * handlers as before. */
static void catching_call(jt_func_t *f, jt_ctrl_t *h, const wasm_functype_t *t, LLVMValueRef *args,
                          enum jb_runtime rt, LLVMValueRef *pre, unsigned npre)
{
    LLVMValueRef slots = jt_scratch(f, t->nparams);
    spill_args(f, slots, args + 1, t);
    LLVMValueRef cargs[npre + 4];
    cargs[0] = f->ctx;
    memcpy(cargs + 1, pre, npre * sizeof *pre);
    cargs[npre + 1] = slots;
    cargs[npre + 2] = jb_site_func(f);
    cargs[npre + 3] = jb_site_offset(f);
    LLVMValueRef exn = jb_call(f, rt, cargs, npre + 4);
    jt_exn_goto(f, h, exn, true);
    LLVMValueRef res[t->nresults + 1];
    load_results(f, slots, t, res);
    for (uint32_t i = 0; i < t->nresults; i++)
        jt_push(f, res[i]);
}

static void call_code_or_runtime(jt_func_t *f, uint32_t type_index, LLVMValueRef code,
                                 LLVMValueRef *args, enum jb_runtime rt, LLVMValueRef *pre,
                                 unsigned npre);

static void op_call(jt_func_t *f)
{
    jt_module_t *jm = f->jm;
    uint32_t callee = read_u32(&f->r);
    const wasm_functype_t *t = wasm_module_func_type(jm->wasm, callee);
    /* A defined function checks the epoch on entry, in either tier (an
     * import may be a host function, which does not). */
    jt_ctrl_t *top = &f->ctrl[f->nctrl - 1];
    if (top->kind == JT_LOOP && callee >= jm->wasm->nfunc_imports)
        top->calls_checker = true;
    LLVMValueRef args[t->nparams + 1];
    for (uint32_t i = t->nparams; i-- > 0;)
        args[i + 1] = jt_pop(f);
    args[0] = f->ctx;
    LLVMValueRef res[t->nresults + 1];
    jt_ctrl_t *h = jt_exn_handler(f);
    if (h) {
        LLVMValueRef pre = jt_const_i32(f, callee);
        catching_call(f, h, t, args, JB_RT_CALL_CATCH, &pre, 1);
        return;
    }
    if (jm->fns[callee]) {
        LLVMValueRef call = call_wasm_fn(f, LLVMGlobalGetValueType(jm->fns[callee]),
                                         jm->fns[callee], args, t->nparams + 1);
        /* No tail-recursion elimination (jb_mark_call): a recursion that
         * runs out of stack in the interpreter must run out here too. */
        jb_mark_call(f, call, f->op_offset);
        unpack_results(f, call, t, res);
    } else if (callee >= jm->wasm->nfunc_imports) {
        /* A function of another compile of this module: its native code
         * directly once there is some (jm->cc is every compile's). */
        LLVMValueRef pre = jt_const_i32(f, callee);
        call_code_or_runtime(f, jm->wasm->funcs[callee - jm->wasm->nfunc_imports].type,
                             jb_native_of(f, callee), args, JB_RT_CALL, &pre, 1);
        return;
    } else {
        LLVMValueRef slots = jt_scratch(f, t->nparams);
        spill_args(f, slots, args + 1, t);
        LLVMValueRef rt_args[] = {f->ctx, jt_const_i32(f, callee), slots, jb_site_func(f),
                                  jb_site_offset(f)};
        jb_call(f, JB_RT_CALL, rt_args, 5);
        load_results(f, slots, t, res);
    }
    for (uint32_t i = 0; i < t->nresults; i++)
        jt_push(f, res[i]);
}

/* call_indirect and return_call_indirect: pops the element index and the
 * arguments (into args[1..], the context in args[0]) and asks the runtime
 * for the callee's native code (NULL: call it through the runtime with the
 * element index, *elem_out). */
static LLVMValueRef indirect_callee(jt_func_t *f, uint32_t type_index, uint32_t table,
                                   LLVMValueRef *args, LLVMValueRef *elem_out)
{
    const wasm_functype_t *t = &f->jm->wasm->types[type_index];
    LLVMValueRef elem = *elem_out = jt_table64_index(f, table, jt_pop(f));
    for (uint32_t i = t->nparams; i-- > 0;)
        args[i + 1] = jt_pop(f);
    args[0] = f->ctx;
    LLVMValueRef rargs[] = {f->ctx, jt_const_i32(f, table), jt_const_i32(f, type_index), elem,
                            jb_site_func(f), jb_site_offset(f)};
    return jb_call(f, JB_RT_INDIRECT, rargs, 6);
}

/* A call of type `type_index` to native `code` when it is not NULL, else
 * through runtime function `rt` with (ctx, pre[0..npre), slots, site). */
static void call_code_or_runtime(jt_func_t *f, uint32_t type_index, LLVMValueRef code,
                                 LLVMValueRef *args, enum jb_runtime rt, LLVMValueRef *pre,
                                 unsigned npre)
{
    jt_module_t *jm = f->jm;
    const wasm_functype_t *t = &jm->wasm->types[type_index];
    LLVMContextRef cx = jm->llctx;
    LLVMBasicBlockRef fast = LLVMAppendBasicBlockInContext(cx, f->fn, "native");
    LLVMBasicBlockRef slow = LLVMAppendBasicBlockInContext(cx, f->fn, "runtime");
    LLVMBasicBlockRef join = LLVMAppendBasicBlockInContext(cx, f->fn, "joined");
    LLVMValueRef isnull = LLVMBuildIsNull(f->b, code, "");
    LLVMBuildCondBr(f->b, isnull, slow, fast);

    LLVMPositionBuilderAtEnd(f->b, fast);
    LLVMValueRef call = call_wasm_fn(f, jm->fn_types[type_index], code, args, t->nparams + 1);
    jb_mark_call(f, call, f->op_offset);
    LLVMValueRef fast_res[t->nresults + 1];
    unpack_results(f, call, t, fast_res);
    LLVMBuildBr(f->b, join);
    LLVMBasicBlockRef fast_end = LLVMGetInsertBlock(f->b);

    LLVMPositionBuilderAtEnd(f->b, slow);
    LLVMValueRef slots = jt_scratch(f, t->nparams);
    spill_args(f, slots, args + 1, t);
    LLVMValueRef cargs[npre + 4];
    cargs[0] = f->ctx;
    memcpy(cargs + 1, pre, npre * sizeof *pre);
    cargs[npre + 1] = slots;
    cargs[npre + 2] = jb_site_func(f);
    cargs[npre + 3] = jb_site_offset(f);
    jb_call(f, rt, cargs, npre + 4);
    LLVMValueRef slow_res[t->nresults + 1];
    load_results(f, slots, t, slow_res);
    LLVMBuildBr(f->b, join);
    LLVMBasicBlockRef slow_end = LLVMGetInsertBlock(f->b);

    LLVMPositionBuilderAtEnd(f->b, join);
    for (uint32_t i = 0; i < t->nresults; i++) {
        LLVMValueRef phi = LLVMBuildPhi(f->b, jt_type(jm, t->results[i]), "");
        LLVMValueRef vals[] = {fast_res[i], slow_res[i]};
        LLVMBasicBlockRef bbs[] = {fast_end, slow_end};
        LLVMAddIncoming(phi, vals, bbs, 2);
        jt_push(f, phi);
    }
}

static void op_call_indirect(jt_func_t *f)
{
    uint32_t type_index = read_u32(&f->r);
    uint32_t table = read_u32(&f->r);
    const wasm_functype_t *t = &f->jm->wasm->types[type_index];
    LLVMValueRef args[t->nparams + 1], elem;
    LLVMValueRef code = indirect_callee(f, type_index, table, args, &elem);
    LLVMValueRef pre[] = {jt_const_i32(f, table), elem};
    jt_ctrl_t *h = jt_exn_handler(f);
    if (h)
        catching_call(f, h, t, args, JB_RT_CALL_INDIRECT_CATCH, pre, 2);
    else
        call_code_or_runtime(f, type_index, code, args, JB_RT_CALL_INDIRECT, pre, 2);
}

/* call_ref and return_call_ref: pops the reference and the arguments (as
 * indirect_callee) and asks the runtime for the callee's native code; a
 * null reference traps there. */
static LLVMValueRef ref_callee(jt_func_t *f, uint32_t type_index, LLVMValueRef *args,
                               LLVMValueRef *ref_out)
{
    const wasm_functype_t *t = &f->jm->wasm->types[type_index];
    LLVMValueRef ref = *ref_out = jt_pop(f);
    for (uint32_t i = t->nparams; i-- > 0;)
        args[i + 1] = jt_pop(f);
    args[0] = f->ctx;
    LLVMValueRef rargs[] = {f->ctx, ref, jb_site_func(f), jb_site_offset(f)};
    return jb_call(f, JB_RT_REF_NATIVE, rargs, 4);
}

static void op_call_ref(jt_func_t *f)
{
    uint32_t type_index = read_u32(&f->r);
    const wasm_functype_t *t = &f->jm->wasm->types[type_index];
    LLVMValueRef args[t->nparams + 1], ref;
    LLVMValueRef code = ref_callee(f, type_index, args, &ref);
    jt_ctrl_t *h = jt_exn_handler(f);
    if (h)
        catching_call(f, h, t, args, JB_RT_CALL_REF_CATCH, &ref, 1);
    else
        call_code_or_runtime(f, type_index, code, args, JB_RT_CALL_REF, &ref, 1);
}

/* Tail calls. A translated callee of this instance is jumped to: a
 * musttail call in tailcc (the frame is reused, so a tail recursion of any
 * depth runs in constant native stack, and the caller's frame leaves the
 * backtrace as it does in the interpreter). Any other callee (imported, interpreted, another
 * instance's) is called through the runtime, which runs a wasm callee in
 * the interpreter, where tail calls stay in place: a chain of tail calls
 * that leaves native code costs one native frame, not one per call. The
 * results of a call through the runtime are then returned. */
static void musttail_return(jt_func_t *f, LLVMTypeRef ty, LLVMValueRef fn, LLVMValueRef *args,
                            unsigned n)
{
    LLVMValueRef call = call_wasm_fn(f, ty, fn, args, n);
    LLVMSetTailCallKind(call, LLVMTailCallKindMustTail);
    /* Its frame is gone from the stack, so no return address names it; but
     * a call of a function with a subprogram needs a location. */
    jt_calls_mark(f, call, f->op_offset);
    if (f->type->nresults == 0)
        LLVMBuildRetVoid(f->b);
    else
        LLVMBuildRet(f->b, call);
}

static void slots_return(jt_func_t *f, LLVMValueRef slots, const wasm_functype_t *t)
{
    LLVMValueRef res[t->nresults + 1];
    load_results(f, slots, t, res);
    build_return(f, res);
}

static void op_return_call(jt_func_t *f)
{
    jt_module_t *jm = f->jm;
    uint32_t callee = read_u32(&f->r);
    const wasm_functype_t *t = wasm_module_func_type(jm->wasm, callee);
    /* A defined function checks the epoch on entry, in either tier (an
     * import may be a host function, which does not). */
    jt_ctrl_t *top = &f->ctrl[f->nctrl - 1];
    if (top->kind == JT_LOOP && callee >= jm->wasm->nfunc_imports)
        top->calls_checker = true;
    LLVMValueRef args[t->nparams + 1];
    for (uint32_t i = t->nparams; i-- > 0;)
        args[i + 1] = jt_pop(f);
    args[0] = f->ctx;
    if (jm->fns[callee]) {
        musttail_return(f, LLVMGlobalGetValueType(jm->fns[callee]), jm->fns[callee], args,
                        t->nparams + 1);
    } else {
        LLVMValueRef slots = jt_scratch(f, t->nparams);
        spill_args(f, slots, args + 1, t);
        LLVMValueRef rt_args[] = {f->ctx, jt_const_i32(f, callee), slots, jb_site_func(f),
                                  jb_site_offset(f)};
        jb_call(f, JB_RT_RETURN_CALL, rt_args, 5);
        slots_return(f, slots, t);
    }
    mark_dead(f);
}

/* A tail call of type `type_index` to native `code` when it is not NULL,
 * else through runtime function `rt` with (ctx, pre[0..npre), slots, site)
 * and a return of its results. */
static void tail_code_or_runtime(jt_func_t *f, uint32_t type_index, LLVMValueRef code,
                                 LLVMValueRef *args, enum jb_runtime rt, LLVMValueRef *pre,
                                 unsigned npre)
{
    jt_module_t *jm = f->jm;
    const wasm_functype_t *t = &jm->wasm->types[type_index];
    LLVMContextRef cx = jm->llctx;
    LLVMBasicBlockRef fast = LLVMAppendBasicBlockInContext(cx, f->fn, "native_tail");
    LLVMBasicBlockRef slow = LLVMAppendBasicBlockInContext(cx, f->fn, "runtime_tail");
    LLVMBuildCondBr(f->b, LLVMBuildIsNull(f->b, code, ""), slow, fast);

    LLVMPositionBuilderAtEnd(f->b, fast);
    musttail_return(f, jm->fn_types[type_index], code, args, t->nparams + 1);

    LLVMPositionBuilderAtEnd(f->b, slow);
    LLVMValueRef slots = jt_scratch(f, t->nparams);
    spill_args(f, slots, args + 1, t);
    LLVMValueRef cargs[npre + 4];
    cargs[0] = f->ctx;
    memcpy(cargs + 1, pre, npre * sizeof *pre);
    cargs[npre + 1] = slots;
    cargs[npre + 2] = jb_site_func(f);
    cargs[npre + 3] = jb_site_offset(f);
    jb_call(f, rt, cargs, npre + 4);
    slots_return(f, slots, t);
    mark_dead(f);
}

static void op_return_call_indirect(jt_func_t *f)
{
    uint32_t type_index = read_u32(&f->r);
    uint32_t table = read_u32(&f->r);
    const wasm_functype_t *t = &f->jm->wasm->types[type_index];
    LLVMValueRef args[t->nparams + 1], elem;
    LLVMValueRef code = indirect_callee(f, type_index, table, args, &elem);
    LLVMValueRef pre[] = {jt_const_i32(f, table), elem};
    tail_code_or_runtime(f, type_index, code, args, JB_RT_RETURN_CALL_INDIRECT, pre, 2);
}

static void op_return_call_ref(jt_func_t *f)
{
    uint32_t type_index = read_u32(&f->r);
    const wasm_functype_t *t = &f->jm->wasm->types[type_index];
    LLVMValueRef args[t->nparams + 1], ref;
    LLVMValueRef code = ref_callee(f, type_index, args, &ref);
    tail_code_or_runtime(f, type_index, code, args, JB_RT_RETURN_CALL_REF, &ref, 1);
}

/* ---------------------------------------------------------- the rest */

static void op_local(jt_func_t *f, wasm_op_t op)
{
    uint32_t i = read_u32(&f->r);
    LLVMTypeRef ty = jt_type(f->jm, f->local_types[i]);
    if (op == WASM_OP_LOCAL_GET) {
        jt_push(f, LLVMBuildLoad2(f->b, ty, f->locals[i], ""));
        return;
    }
    LLVMValueRef v = jt_pop(f);
    LLVMBuildStore(f->b, v, f->locals[i]);
    if (op == WASM_OP_LOCAL_TEE)
        jt_push(f, v);
}

static void op_select(jt_func_t *f, wasm_op_t op)
{
    if (op == WASM_OP_SELECT_T) {
        uint32_t n = read_u32(&f->r);
        for (uint32_t i = 0; i < n; i++)
            wasm_skip_valtype(&f->r);
    }
    LLVMValueRef c = jt_pop(f), b = jt_pop(f), a = jt_pop(f);
    LLVMValueRef nz = LLVMBuildICmp(f->b, LLVMIntNE, c, jt_const_i32(f, 0), "");
    jt_push(f, LLVMBuildSelect(f->b, nz, a, b, ""));
}

LLVMValueRef jt_opaque(jt_func_t *f, LLVMValueRef v)
{
#if defined(__x86_64__)
    static const char constraint[] = "=x,0";
#elif defined(__aarch64__)
    static const char constraint[] = "=w,0";
#else
    static const char constraint[] = "";
#endif
    if (!constraint[0])
        return v;
    LLVMTypeRef ty = LLVMTypeOf(v);
    LLVMTypeRef fty = LLVMFunctionType(ty, &ty, 1, false);
    LLVMValueRef asm_fn = LLVMGetInlineAsm(fty, "", 0, constraint, sizeof constraint - 1, false, false,
                                           LLVMInlineAsmDialectATT, false);
    LLVMValueRef call = LLVMBuildCall2(f->b, fty, asm_fn, &v, 1, "");
    /* Touches no memory and always returns (memory(none) is MemoryEffects
     * 0): without these, LLVM treats the call as a store to anything, which
     * would pin it inside loops and reload memory around it. */
    static const char *const attrs[] = {"memory", "nounwind", "willreturn"};
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
        unsigned kind = LLVMGetEnumAttributeKindForName(attrs[i], strlen(attrs[i]));
        LLVMAddCallSiteAttribute(call, LLVMAttributeFunctionIndex,
                                 LLVMCreateEnumAttribute(f->jm->llctx, kind, 0));
    }
    return call;
}

/* LLVM may fold x - 0, x * 1, x / 1, -1 * x, -0 - x and the like to x or
 * -x (its IR lets operations return a signalling NaN unquieted), where Wasm
 * requires a quiet NaN from a signalling one. The constants that make those
 * folds possible are hidden from the optimiser; others fold as usual. */
static bool identity_like_f32(uint32_t bits)
{
    bits &= 0x7fffffffu;
    return bits == 0 || bits == 0x3f800000u;
}

static bool identity_like_f64(uint64_t bits)
{
    bits &= UINT64_C(0x7fffffffffffffff);
    return bits == 0 || bits == UINT64_C(0x3ff0000000000000);
}

static void op_const(jt_func_t *f, wasm_op_t op)
{
    switch (op) {
    case WASM_OP_I32_CONST:
        jt_push(f, jt_const_i32(f, (uint32_t)read_s32(&f->r)));
        break;
    case WASM_OP_I64_CONST:
        jt_push(f, jt_const_i64(f, (uint64_t)read_s64(&f->r)));
        break;
    case WASM_OP_F32_CONST: {
        uint32_t bits = read_fixed32(&f->r);
        LLVMValueRef v = LLVMBuildBitCast(f->b, jt_const_i32(f, bits), f->jm->f32, "");
        jt_push(f, identity_like_f32(bits) ? jt_opaque(f, v) : v);
        break;
    }
    default: {
        uint64_t bits = read_fixed64(&f->r);
        LLVMValueRef v = LLVMBuildBitCast(f->b, jt_const_i64(f, bits), f->jm->f64, "");
        jt_push(f, identity_like_f64(bits) ? jt_opaque(f, v) : v);
        break;
    }
    }
}

/* Skips an unreachable stretch up to the `else` or `end` that closes the
 * innermost block. Returns the op that ends it (-1 at the end of input). */
static int skip_dead(jt_func_t *f)
{
    unsigned depth = 0;
    while (!reader_at_end(&f->r) && reader_ok(&f->r)) {
        f->op_offset = (uint32_t)reader_offset(&f->r);
        int op = wasm_read_op(&f->r);
        if (op < 0)
            return -1;
        switch (op) {
        case WASM_OP_BLOCK:
        case WASM_OP_LOOP:
        case WASM_OP_IF:
            wasm_blocktype_ref(&f->r, read_s33(&f->r));
            depth++;
            break;
        case WASM_OP_TRY:
        case WASM_OP_TRY_TABLE:
            wasm_skip_immediates(&f->r, (wasm_op_t)op);
            depth++;
            break;
        case WASM_OP_CATCH:
        case WASM_OP_CATCH_ALL:
        case WASM_OP_DELEGATE:
            /* A legacy try's next part (its immediate read by the caller),
             * or a delegate closing a try skipped whole. */
            if (depth == 0)
                return op;
            wasm_skip_immediates(&f->r, (wasm_op_t)op);
            if (op == WASM_OP_DELEGATE)
                depth--;
            break;
        case WASM_OP_ELSE:
            if (depth == 0)
                return op;
            break;
        case WASM_OP_END:
            if (depth == 0)
                return op;
            depth--;
            break;
        default:
            jt_skip_immediates(&f->r, (wasm_op_t)op);
        }
    }
    return -1;
}

static bool translate_op(jt_func_t *f, wasm_op_t op)
{
    switch (op) {
    case WASM_OP_UNREACHABLE:
        jb_trap(f, WHIRL_TRAP_UNREACHABLE);
        mark_dead(f);
        return true;
    case WASM_OP_NOP:
        return true;
    case WASM_OP_BLOCK: op_block(f, JT_BLOCK); return true;
    case WASM_OP_LOOP: op_block(f, JT_LOOP); return true;
    case WASM_OP_IF: op_block(f, JT_IF); return true;
    case WASM_OP_ELSE: op_else(f); return true;
    case WASM_OP_END: op_end(f); return true;
    case WASM_OP_BR: op_br(f); return true;
    case WASM_OP_BR_IF: op_br_if(f); return true;
    case WASM_OP_BR_TABLE: op_br_table(f); return true;
    case WASM_OP_BR_ON_NULL: op_br_on_null(f, true); return true;
    case WASM_OP_BR_ON_NON_NULL: op_br_on_null(f, false); return true;
    case WASM_OP_REF_AS_NON_NULL: {
        LLVMValueRef ref = jt_pop(f);
        jt_trap_if(f, LLVMBuildIsNull(f->b, ref, ""), WHIRL_TRAP_NULL_REFERENCE);
        jt_push(f, ref);
        return true;
    }
    case WASM_OP_RETURN:
        LLVMBuildBr(f->b, branch_edge(f, (uint32_t)f->nctrl - 1));
        mark_dead(f);
        return true;
    case WASM_OP_CALL: op_call(f); return true;
    case WASM_OP_CALL_INDIRECT: op_call_indirect(f); return true;
    case WASM_OP_RETURN_CALL: op_return_call(f); return true;
    case WASM_OP_RETURN_CALL_INDIRECT: op_return_call_indirect(f); return true;
    case WASM_OP_CALL_REF: op_call_ref(f); return true;
    case WASM_OP_THROW:
    case WASM_OP_THROW_REF:
    case WASM_OP_TRY_TABLE:
    case WASM_OP_TRY:
    case WASM_OP_CATCH:
    case WASM_OP_CATCH_ALL:
    case WASM_OP_DELEGATE:
    case WASM_OP_RETHROW: jt_exn_op(f, op); return true;
    case WASM_OP_RETURN_CALL_REF: op_return_call_ref(f); return true;
    case WASM_OP_DROP: jt_pop(f); return true;
    case WASM_OP_SELECT:
    case WASM_OP_SELECT_T: op_select(f, op); return true;
    case WASM_OP_LOCAL_GET:
    case WASM_OP_LOCAL_SET:
    case WASM_OP_LOCAL_TEE: op_local(f, op); return true;
    case WASM_OP_I32_CONST:
    case WASM_OP_I64_CONST:
    case WASM_OP_F32_CONST:
    case WASM_OP_F64_CONST: op_const(f, op); return true;
    default:
        return jt_numeric(f, op) || jt_memory(f, op) || jt_simd(f, op) || jt_atomic(f, op);
    }
}

/* ---------------------------------------------------------- functions */

static void translate_body(jt_func_t *f, const wasm_func_t *fn, uint32_t scratch)
{
    jt_module_t *jm = f->jm;
    const wasm_module_t *m = jm->wasm;
    LLVMContextRef cx = jm->llctx;
    LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(cx, f->fn, "entry");
    LLVMPositionBuilderAtEnd(f->b, entry);
    f->entry_bb = entry;
    f->ctx = LLVMGetParam(f->fn, 0);
    if (jm->debug)
        jt_debug_func_begin(f, fn);
    else if (jm->calls)
        jt_calls_func_begin(f);

    f->nlocals = f->type->nparams + fn->nlocals;
    f->local_types = malloc((f->nlocals + 1) * sizeof *f->local_types);
    f->locals = malloc((f->nlocals + 1) * sizeof *f->locals);
    if (!f->local_types || !f->locals) {
        f->error = "out of memory";
        return;
    }
    uint32_t k = 0;
    for (uint32_t i = 0; i < f->type->nparams; i++)
        f->local_types[k++] = f->type->params[i];
    for (uint32_t r = 0; r < fn->nlocal_runs; r++)
        for (uint32_t i = 0; i < fn->local_runs[r].count; i++)
            f->local_types[k++] = fn->local_runs[r].type;
    for (uint32_t i = 0, at = 0; i < f->nlocals; at += slots_of(f->local_types[i]), i++) {
        f->locals[i] = LLVMBuildAlloca(f->b, jt_type(jm, f->local_types[i]), "");
        LLVMValueRef init = f->osr_loop ? slot_load(f->b, jm, f->osr_slots, at, f->local_types[i])
                            : i < f->type->nparams ? LLVMGetParam(f->fn, i + 1)
                                                   : jt_zero(jm, f->local_types[i]);
        LLVMBuildStore(f->b, init, f->locals[i]);
    }
    if (jm->debug)
        jt_debug_locals(f);
    /* Entry checks report the body's first instruction, as the interpreter does. */
    f->op_offset = (uint32_t)(fn->code - m->bytes);
    if (f->osr_loop) {
        /* ... or, entered at a loop, that loop body's first instruction,
         * where the interpreter's back-edge check reports. */
        reader_init(&f->r, m->bytes, m->bytes + f->osr_loop, fn->code_end);
        wasm_read_op(&f->r);
        read_s33(&f->r);
        f->op_offset = (uint32_t)reader_offset(&f->r);
    }
    if (scratch)
        f->results_alloca = LLVMBuildArrayAlloca(f->b, jm->i64, jt_const_i32(f, scratch), "slots");
    jb_entry_checks(f);
    if (f->osr_loop) {
        /* On-stack replacement: the entry goes to the loop's header (the
         * code before it, unreachable, is dropped by the optimiser). */
        f->osr_jump = LLVMAppendBasicBlockInContext(cx, f->fn, "osr");
        LLVMBuildBr(f->b, f->osr_jump);
        LLVMPositionBuilderAtEnd(f->b, LLVMAppendBasicBlockInContext(cx, f->fn, "body"));
    }

    jt_ctrl_t *c = push_ctrl(f, JT_FUNC, 0, NULL, f->type->nresults, f->type->results);
    if (!c)
        return;
    c->end = LLVMAppendBasicBlockInContext(cx, f->fn, "return");
    c->end_phis = c->target_phis = make_phis(f, c->end, c->nresults, c->results);
    c->target = c->end;

    reader_init(&f->r, m->bytes, fn->code, fn->code_end);
    while (f->nctrl && !f->error) {
        if (f->ctrl[f->nctrl - 1].dead) {
            int op = skip_dead(f);
            if (op < 0)
                break;
            translate_op(f, (wasm_op_t)op);
            continue;
        }
        if (reader_at_end(&f->r) || !reader_ok(&f->r))
            break;
        f->op_offset = (uint32_t)reader_offset(&f->r);
        if (jm->debug)
            jt_debug_at(f);
        int op = wasm_read_op(&f->r);
        if (op < 0 || !translate_op(f, (wasm_op_t)op)) {
            if (!f->error)
                f->error = op < 0 ? "unreadable instruction" : "instruction not supported by the jit";
            break;
        }
    }
    if (!f->error && (f->nctrl || !reader_ok(&f->r)))
        f->error = "body does not end where validation said (translator bug)";
}

/* The entry trampoline e<index>(ctx, slots): arguments from slots, results
 * back into them, so C can call any signature. */
static void build_entry(jt_module_t *jm, uint32_t index, LLVMBuilderRef b)
{
    const wasm_functype_t *t = wasm_module_func_type(jm->wasm, index);
    char name[24];
    snprintf(name, sizeof name, "e%u", index);
    LLVMTypeRef params[] = {jm->ptr, jm->ptr};
    LLVMTypeRef ty = LLVMFunctionType(jm->void_t, params, 2, false);
    LLVMValueRef fn = LLVMAddFunction(jm->mod, name, ty);
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(jm->llctx, fn, "entry"));
    LLVMValueRef slots = LLVMGetParam(fn, 1);
    LLVMValueRef args[t->nparams + 1];
    args[0] = LLVMGetParam(fn, 0);
    for (uint32_t i = 0, at = 0; i < t->nparams; at += slots_of(t->params[i]), i++)
        args[i + 1] = slot_load(b, jm, slots, at, t->params[i]);
    LLVMValueRef call = LLVMBuildCall2(b, LLVMGlobalGetValueType(jm->fns[index]), jm->fns[index],
                                       args, t->nparams + 1, "");
    LLVMSetInstructionCallConv(call, jm->cc);
    /* A copy of the body in every trampoline would double the code. */
    unsigned noinline = LLVMGetEnumAttributeKindForName("noinline", 8);
    LLVMAddCallSiteAttribute(call, LLVMAttributeFunctionIndex,
                             LLVMCreateEnumAttribute(jm->llctx, noinline, 0));
    for (uint32_t i = 0, at = 0; i < t->nresults; at += slots_of(t->results[i]), i++)
        slot_store(b, jm, slots, at, t->nresults == 1 ? call : LLVMBuildExtractValue(b, call, i, ""));
    LLVMBuildRetVoid(b);
}

whirl_error_t *jt_translate_module(jt_module_t *jm)
{
    const wasm_module_t *m = jm->wasm;
    uint32_t nfuncs = wasm_module_func_count(m);
    uint32_t *scratch = calloc(nfuncs + 1, sizeof *scratch);
    if (!scratch)
        return error_oom();
    for (uint32_t t = 0; t < m->ntypes; t++)
        jm->fn_types[t] = make_fn_type(jm, &m->types[t]);
    jb_declare_runtime(jm);
    make_tbaa(jm);

    unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
    bool tail_calls = false;
    for (uint32_t i = m->nfunc_imports; i < nfuncs; i++) {
        const wasm_func_t *fn = &m->funcs[i - m->nfunc_imports];
        bool tail = false;
        jm->why_not[i] = jm->only && !jm->only[i] ? "not selected"
                                                  : scan_func(m, fn, &scratch[i], NULL, &tail);
        if (jm->why_not[i])
            continue;
        char name[24];
        snprintf(name, sizeof name, "w%u", i);
        jm->fns[i] = LLVMAddFunction(jm->mod, name, jm->fn_types[fn->type]);
        LLVMAddAttributeAtIndex(jm->fns[i], LLVMAttributeFunctionIndex,
                                LLVMCreateEnumAttribute(jm->llctx, nounwind, 0));
        tail_calls |= tail;
    }
    jm->cc = tail_calls ? JT_TAILCC : LLVMCCallConv;
    for (uint32_t i = m->nfunc_imports; i < nfuncs; i++)
        if (jm->fns[i])
            LLVMSetFunctionCallConv(jm->fns[i], jm->cc);

    LLVMBuilderRef b = LLVMCreateBuilderInContext(jm->llctx);
    whirl_error_t *err = NULL;
    for (uint32_t i = m->nfunc_imports; i < nfuncs && !err; i++) {
        if (!jm->fns[i])
            continue;
        const wasm_func_t *fn = &m->funcs[i - m->nfunc_imports];
        jt_func_t f = {.jm = jm, .b = b, .fn = jm->fns[i], .func_index = i,
                       .type = &m->types[fn->type]};
        translate_body(&f, fn, scratch[i]);
        if (jm->debug)
            jt_debug_func_end(&f);
        if (f.error)
            err = error_fmt("jit: func %u at offset 0x%x: %s", i, f.op_offset, f.error);
        for (size_t c = 0; c < f.nctrl; c++)
            free_ctrl(&f.ctrl[c]);
        free(f.ctrl);
        free(f.stack);
        free(f.locals);
        free(f.local_types);
        if (!err) {
            build_entry(jm, i, b);
            jm->supported[i] = true;
        }
    }
    LLVMDisposeBuilder(b);
    free(scratch);
    return err;
}

LLVMValueRef jt_translate_osr(jt_module_t *jm, uint32_t index, uint32_t loop_offset,
                              const char **why)
{
    const wasm_module_t *m = jm->wasm;
    const wasm_func_t *fn = &m->funcs[index - m->nfunc_imports];
    uint32_t scratch = 0;
    bool legacy_try = false, tail = false;
    if ((*why = scan_func(m, fn, &scratch, &legacy_try, &tail)))
        return NULL;
    if (tail && jm->cc != JT_TAILCC) {
        /* Not under the auto tier (modules with tail calls stay
         * interpreted there), the only one asking for variants. */
        *why = "a tail call in a compile without tailcc";
        return NULL;
    }
    if (legacy_try) {
        /* A catch body's exception (for rethrow) lives in the
         * interpreter's frame beyond the locals: not carried over. */
        *why = "a legacy try: not entered at a loop";
        return NULL;
    }
    LLVMTypeRef params[] = {jm->ptr, jm->ptr};
    LLVMTypeRef ty = LLVMFunctionType(LLVMGetReturnType(jm->fn_types[fn->type]), params, 2, false);
    char name[40];
    snprintf(name, sizeof name, "o%u_%u", index, loop_offset);
    LLVMValueRef o = LLVMAddFunction(jm->mod, name, ty);
    LLVMSetFunctionCallConv(o, jm->cc);
    unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
    LLVMAddAttributeAtIndex(o, LLVMAttributeFunctionIndex,
                            LLVMCreateEnumAttribute(jm->llctx, nounwind, 0));
    LLVMBuilderRef b = LLVMCreateBuilderInContext(jm->llctx);
    jt_func_t f = {.jm = jm, .b = b, .fn = o, .func_index = index, .type = &m->types[fn->type],
                   .osr_loop = loop_offset, .osr_slots = LLVMGetParam(o, 1)};
    translate_body(&f, fn, scratch);
    if (!f.error && !f.osr_found)
        f.error = "no loop with an empty operand stack at that offset";
    for (size_t c = 0; c < f.nctrl; c++)
        free_ctrl(&f.ctrl[c]);
    free(f.ctrl);
    free(f.stack);
    free(f.locals);
    free(f.local_types);
    LLVMDisposeBuilder(b);
    if (f.error) {
        *why = f.error;
        LLVMDeleteFunction(o);
        return NULL;
    }
    return o;
}
