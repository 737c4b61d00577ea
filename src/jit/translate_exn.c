/* Exception handlers in the LLVM tier: try_table (catch, catch_ref,
 * catch_all, catch_all_ref) and the legacy try, catch, catch_all,
 * delegate and rethrow.
 *
 * Native code leaves by longjmp to the innermost native_enter when it
 * traps or throws (jit_binding.h), so a handler in a native frame needs a
 * native_enter of its own below it. Inside a block with handlers every
 * call goes through a runtime function that enters the callee that way
 * (jit_binding.c catch_call) and returns the exception it threw, or NULL;
 * a throw there only makes the exception; throw_ref, rethrow and the
 * unmatched end of a dispatch hand it on. No LLVM landing pads, no C++
 * unwinding: an exception is a pointer in a phi and branches.
 *
 * Each block with handlers has a dispatch block with that phi. A
 * try_table's dispatch is built at its start (its clauses are
 * immediates): per clause a tag test (the runtime compares the tag objects
 * and copies the values to the scratch slots, as the interpreter does) and
 * a branch to the clause's label with the values, the exception for the
 * _ref forms. A legacy try's tests are added as its catches come; its
 * catch bodies see the exception in a local of their own for rethrow.
 * What no clause matches goes to the next handlers out (a legacy try in
 * a catch body no longer counts; delegate names where to look), or to the
 * caller, as throw_ref. Traps are never caught: the runtime hands them on
 * with this frame in the backtrace. Functions whose calls are inside no
 * handler are translated as before and pay nothing. */
#include <stdlib.h>
#include <string.h>

#include "jit/jit_binding.h"

/* The innermost block at or below control index `index` whose handlers
 * apply (NULL: none, the exception leaves the function). */
static jt_ctrl_t *handler_from(jt_func_t *f, size_t index)
{
    for (size_t i = index + 1; i-- > 0;) {
        jt_ctrl_t *c = &f->ctrl[i];
        if (c->eh == JT_EH_TABLE || c->eh == JT_EH_TRY)
            return c;
    }
    return NULL;
}

jt_ctrl_t *jt_exn_handler(jt_func_t *f)
{
    return f->nctrl ? handler_from(f, f->nctrl - 1) : NULL;
}

static LLVMBasicBlockRef new_block(jt_func_t *f, const char *name)
{
    return LLVMAppendBasicBlockInContext(f->jm->llctx, f->fn, name);
}

/* The block an uncaught exception leaves by: throw_ref to the caller. */
static LLVMBasicBlockRef unwind_block(jt_func_t *f)
{
    if (!f->unwind_bb) {
        LLVMBasicBlockRef here = LLVMGetInsertBlock(f->b);
        f->unwind_bb = new_block(f, "exn_out");
        LLVMPositionBuilderAtEnd(f->b, f->unwind_bb);
        f->unwind_phi = LLVMBuildPhi(f->b, f->jm->ptr, "exn");
        LLVMValueRef args[] = {f->ctx, f->unwind_phi, jb_site_func(f), jb_site_offset(f)};
        jb_call(f, JB_RT_THROW_REF, args, 4);
        LLVMBuildUnreachable(f->b);
        LLVMPositionBuilderAtEnd(f->b, here);
    }
    return f->unwind_bb;
}

void jt_exn_goto(jt_func_t *f, jt_ctrl_t *h, LLVMValueRef exn, bool conditional)
{
    LLVMBasicBlockRef target = h ? h->dispatch : unwind_block(f);
    LLVMValueRef phi = h ? h->exn_phi : f->unwind_phi;
    LLVMBasicBlockRef from = LLVMGetInsertBlock(f->b);
    LLVMAddIncoming(phi, &exn, &from, 1);
    if (!conditional) {
        LLVMBuildBr(f->b, target);
        return;
    }
    LLVMBasicBlockRef cont = new_block(f, "no_exn");
    LLVMBuildCondBr(f->b, LLVMBuildIsNotNull(f->b, exn, ""), target, cont);
    LLVMPositionBuilderAtEnd(f->b, cont);
}

static void make_dispatch(jt_func_t *f, jt_ctrl_t *c)
{
    LLVMBasicBlockRef here = LLVMGetInsertBlock(f->b);
    c->dispatch = new_block(f, "dispatch");
    LLVMPositionBuilderAtEnd(f->b, c->dispatch);
    c->exn_phi = LLVMBuildPhi(f->b, f->jm->ptr, "exn");
    LLVMPositionBuilderAtEnd(f->b, here);
}

static const wasm_functype_t *tag_type(jt_func_t *f, uint32_t tag)
{
    const wasm_module_t *m = f->jm->wasm;
    return &m->types[wasm_module_tag_type(m, tag)];
}

/* In the current block: whether `exn` is of tag `tag` (branching to a new
 * block where it is, which the builder is left in, with its values in
 * `vals`), else to `no`. */
static void test_tag(jt_func_t *f, LLVMValueRef exn, uint32_t tag, LLVMBasicBlockRef no,
                     LLVMValueRef *vals)
{
    const wasm_functype_t *t = tag_type(f, tag);
    LLVMValueRef slots = jt_scratch(f, t->nparams);
    LLVMValueRef args[] = {f->ctx, exn, jt_const_i32(f, tag), slots};
    LLVMValueRef match = jb_call(f, JB_RT_EXN_MATCH, args, 4);
    LLVMBasicBlockRef yes = new_block(f, "exn_tag");
    LLVMBuildCondBr(f->b, LLVMBuildICmp(f->b, LLVMIntNE, match, jt_const_i32(f, 0), ""), yes, no);
    LLVMPositionBuilderAtEnd(f->b, yes);
    jt_unspill(f, slots, t->params, t->nparams, vals);
}

static void exn_try_table(jt_func_t *f)
{
    size_t outer = f->nctrl - 1;
    if (!jt_block(f, JT_BLOCK))
        return;
    jt_ctrl_t *c = &f->ctrl[f->nctrl - 1];
    make_dispatch(f, c);
    LLVMBasicBlockRef here = LLVMGetInsertBlock(f->b);
    LLVMPositionBuilderAtEnd(f->b, c->dispatch);
    uint32_t n = read_u32(&f->r);
    for (uint32_t i = 0; i < n && reader_ok(&f->r); i++) {
        uint8_t kind = read_u8(&f->r);
        bool has_tag = kind == WASM_CATCH || kind == WASM_CATCH_REF;
        uint32_t tag = has_tag ? read_u32(&f->r) : 0;
        uint32_t label = read_u32(&f->r);
        uint32_t nvals = has_tag ? tag_type(f, tag)->nparams : 0;
        LLVMValueRef vals[nvals + 1];
        LLVMBasicBlockRef next = new_block(f, "exn_next");
        if (has_tag)
            test_tag(f, c->exn_phi, tag, next, vals);
        if (kind == WASM_CATCH_REF || kind == WASM_CATCH_ALL_REF)
            vals[nvals++] = c->exn_phi;
        /* Labels count outside the try_table: one more inside it. */
        LLVMBuildBr(f->b, jt_branch_values(f, label + 1, vals, nvals));
        /* After catch_all, `next` has no predecessor: dead, and dropped. */
        LLVMPositionBuilderAtEnd(f->b, next);
    }
    jt_exn_goto(f, handler_from(f, outer), c->exn_phi, false);
    LLVMPositionBuilderAtEnd(f->b, here);
    c->eh = JT_EH_TABLE;
}

static void exn_try(jt_func_t *f)
{
    if (!jt_block(f, JT_BLOCK))
        return;
    jt_ctrl_t *c = &f->ctrl[f->nctrl - 1];
    make_dispatch(f, c);
    c->nomatch = c->dispatch;
    c->eh = JT_EH_TRY;
}

static void exn_catch(jt_func_t *f, uint32_t tag)
{
    jt_ctrl_t *c = &f->ctrl[f->nctrl - 1];
    jt_fall_to_end(f, c);
    f->sp = c->height;
    c->dead = false;
    c->eh = JT_EH_CATCH;
    if (!c->exn_local) {
        LLVMPositionBuilderBefore(f->b, LLVMGetFirstInstruction(f->entry_bb));
        c->exn_local = LLVMBuildAlloca(f->b, f->jm->ptr, "caught");
    }
    LLVMBasicBlockRef body = new_block(f, "catch");
    uint32_t nvals = tag != UINT32_MAX ? tag_type(f, tag)->nparams : 0;
    LLVMValueRef vals[nvals + 1];
    if (!c->nomatch) {
        /* After catch_all (validation forbids it, but stay safe): dead. */
        LLVMPositionBuilderAtEnd(f->b, body);
        for (uint32_t i = 0; i < nvals; i++)
            vals[i] = LLVMGetUndef(jt_type(f->jm, tag_type(f, tag)->params[i]));
    } else if (tag != UINT32_MAX) {
        LLVMPositionBuilderAtEnd(f->b, c->nomatch);
        LLVMBasicBlockRef next = new_block(f, "exn_next");
        test_tag(f, c->exn_phi, tag, next, vals);
        LLVMBuildBr(f->b, body);
        c->nomatch = next;
        LLVMPositionBuilderAtEnd(f->b, body);
    } else {
        LLVMPositionBuilderAtEnd(f->b, c->nomatch);
        LLVMBuildBr(f->b, body);
        c->nomatch = NULL;
        LLVMPositionBuilderAtEnd(f->b, body);
    }
    LLVMBuildStore(f->b, c->exn_phi, c->exn_local);
    for (uint32_t i = 0; i < nvals; i++)
        jt_push(f, vals[i]);
}

/* Unmatched exceptions of a legacy try go on to the handlers around it. */
void jt_exn_end(jt_func_t *f, jt_ctrl_t *c)
{
    if ((c->eh == JT_EH_TRY || c->eh == JT_EH_CATCH) && c->nomatch) {
        LLVMBasicBlockRef here = LLVMGetInsertBlock(f->b);
        LLVMPositionBuilderAtEnd(f->b, c->nomatch);
        jt_exn_goto(f, handler_from(f, (size_t)(c - f->ctrl) - 1), c->exn_phi, false);
        LLVMPositionBuilderAtEnd(f->b, here);
        c->nomatch = NULL;
    }
    c->eh = JT_EH_NONE;
}

/* `delegate depth`: closes the try like `end`; exceptions from its body go
 * on to the handlers around label `depth`, counted outside the try (the
 * function's label: the caller). */
static void exn_delegate(jt_func_t *f)
{
    uint32_t depth = read_u32(&f->r);
    jt_ctrl_t *c = &f->ctrl[f->nctrl - 1];
    size_t outer = f->nctrl - 2;
    if (c->nomatch) {
        LLVMBasicBlockRef here = LLVMGetInsertBlock(f->b);
        LLVMPositionBuilderAtEnd(f->b, c->nomatch);
        jt_exn_goto(f, depth < outer ? handler_from(f, outer - depth) : NULL, c->exn_phi, false);
        LLVMPositionBuilderAtEnd(f->b, here);
        c->nomatch = NULL;
    }
    c->eh = JT_EH_NONE;
    jt_end(f);
}

/* `rethrow depth`: the exception of the catch body at label `depth` goes
 * to the handlers around this instruction (that try's own no longer
 * apply: its catch body is not its try body). */
static void exn_rethrow(jt_func_t *f)
{
    uint32_t depth = read_u32(&f->r);
    jt_ctrl_t *c = &f->ctrl[f->nctrl - 1 - depth];
    if (!c->exn_local) {
        f->error = "rethrow outside a catch (translator bug)";
        return;
    }
    LLVMValueRef exn = LLVMBuildLoad2(f->b, f->jm->ptr, c->exn_local, "");
    jt_exn_goto(f, jt_exn_handler(f), exn, false);
    jt_mark_dead(f);
}

/* throw: the runtime makes the exception from the values (slots, the
 * interpreter's layout); outside any handler it also unwinds native code
 * as a trap does, and the exception error reaches the interpreter or host
 * above native_enter, which looks for handlers there. */
static void exn_throw(jt_func_t *f)
{
    uint32_t tag = read_u32(&f->r);
    const wasm_functype_t *t = tag_type(f, tag);
    LLVMValueRef vals[t->nparams + 1];
    for (uint32_t i = t->nparams; i-- > 0;)
        vals[i] = jt_pop(f);
    LLVMValueRef slots = jt_scratch(f, t->nparams);
    jt_spill(f, slots, vals, t->params, t->nparams);
    LLVMValueRef args[] = {f->ctx, jt_const_i32(f, tag), slots, jb_site_func(f), jb_site_offset(f)};
    jt_ctrl_t *h = jt_exn_handler(f);
    if (h) {
        jt_exn_goto(f, h, jb_call(f, JB_RT_EXN_NEW, args, 5), false);
    } else {
        jb_call(f, JB_RT_THROW, args, 5);
        LLVMBuildUnreachable(f->b);
    }
    jt_mark_dead(f);
}

/* throw_ref: null traps; otherwise as throw, with the exception given. */
static void exn_throw_ref(jt_func_t *f)
{
    LLVMValueRef args[] = {f->ctx, jt_pop(f), jb_site_func(f), jb_site_offset(f)};
    jt_ctrl_t *h = jt_exn_handler(f);
    if (h) {
        jt_trap_if(f, LLVMBuildIsNull(f->b, args[1], ""), WHIRL_TRAP_NULL_EXCEPTION);
        jt_exn_goto(f, h, args[1], false);
    } else {
        jb_call(f, JB_RT_THROW_REF, args, 4);
        LLVMBuildUnreachable(f->b);
    }
    jt_mark_dead(f);
}

void jt_exn_op(jt_func_t *f, wasm_op_t op)
{
    switch (op) {
    case WASM_OP_THROW: exn_throw(f); break;
    case WASM_OP_THROW_REF: exn_throw_ref(f); break;
    case WASM_OP_TRY_TABLE: exn_try_table(f); break;
    case WASM_OP_TRY: exn_try(f); break;
    case WASM_OP_CATCH: exn_catch(f, read_u32(&f->r)); break;
    case WASM_OP_CATCH_ALL: exn_catch(f, UINT32_MAX); break;
    case WASM_OP_DELEGATE: exn_delegate(f); break;
    case WASM_OP_RETHROW: exn_rethrow(f); break;
    default: f->error = "not an exception instruction (translator bug)";
    }
}

uint32_t jt_exn_scan_try_table(const wasm_module_t *m, reader_t *r)
{
    uint32_t n = 0;
    read_s33(r);
    uint32_t k = read_u32(r);
    for (uint32_t j = 0; j < k && reader_ok(r); j++) {
        uint8_t kind = read_u8(r);
        if (kind == WASM_CATCH || kind == WASM_CATCH_REF) {
            const wasm_functype_t *t = &m->types[wasm_module_tag_type(m, read_u32(r))];
            uint32_t p = 0;
            for (uint32_t i = 0; i < t->nparams; i++)
                p += slots_of(t->params[i]);
            if (!p)
                p = 1; /* the runtime still gets a valid pointer */
            n = p > n ? p : n;
        }
        read_u32(r);
    }
    return n;
}
