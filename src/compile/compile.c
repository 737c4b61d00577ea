/* Compiles validated function bodies into whirl's internal code (code.h,
 * ops.h).
 *
 * The compiler walks the Wasm operand stack abstractly. Each stack entry is
 * either a temporary living in its "natural" slot (the slot its stack
 * position owns in the frame), a reference to a local's slot, or a constant.
 * local.get and constants emit nothing: instructions read locals and take
 * constants as immediates directly, and a value is copied into its natural
 * slot ("materialised") only when something needs it there: a branch, a
 * call, a block boundary, or a write to the local it refers to.
 *
 * Invariants that keep control flow simple:
 *  - On entry to a block, loop or if, no entry on the stack refers to a
 *    local (so a local.set inside can never change a value below the block),
 *    and the block's parameters of a loop or if are in their natural slots.
 *  - At a label (block end, loop start, else), the label's values are in
 *    their natural slots, on every path.
 *
 * The module has been validated, so the compiler does not re-check types.
 * Code after an unconditional branch is skipped. */
#include "compile/code.h"

#include <stdlib.h>
#include <string.h>

#include "compile/ops.h"
#include "util/error.h"
#include "util/vec.h"
#include "wasm/opcodes.h"
#include "compile/compile_exn.h"
#include "wasm/reader.h"

enum { ENTRY_TEMP, ENTRY_LOCAL, ENTRY_CONST };

typedef struct entry {
    uint8_t kind;
    wasm_valtype_t type;
    uint32_t nat;  /* the stack position's own slot */
    uint32_t slot; /* ENTRY_LOCAL: the local's slot */
    uint64_t k;    /* ENTRY_CONST: value bits */
} entry_t;

enum { FRAME_FUNC, FRAME_BLOCK, FRAME_LOOP, FRAME_IF };
#define NO_PATCH UINT32_MAX

typedef struct frame {
    uint8_t kind;
    bool has_else;
    bool branched;    /* some branch targets the end label */
    uint32_t nparams, nresults;
    const wasm_valtype_t *params, *results;
    uint32_t height;       /* stack entries below the block's parameters */
    uint32_t base_slot;    /* natural slot of the first parameter/result */
    uint32_t loop_pc;      /* FRAME_LOOP: the loop header */
    uint32_t patches;      /* forward branches to the end: list head */
    uint32_t else_patch;   /* FRAME_IF: the branch to the else arm */
} frame_t;

/* An emitted instruction, as the peepholes see it. */
typedef struct instr {
    uint32_t pc;
    uint32_t dest;  /* index of its destination word, or NO_PATCH */
    iop_t op;
} instr_t;

enum { HIST = 4 };

/* A forward branch waiting for its target: code[at] receives target - from. */
typedef struct patch {
    uint32_t at, from, next;
} patch_t;

typedef struct compiler {
    const wasm_module_t *module;
    reader_t r;
    uint32_t func_index;
    const compiled_func_t *funcs; /* the module's compiled functions, by defined index */

    VEC(code_word_t) code;
    VEC(code_srcmap_t) srcmap;
    VEC(entry_t) stack;
    VEC(frame_t) frames;
    VEC(patch_t) patches;
    VEC(uint32_t) local_slot; /* slot of each local (params first) */
    VEC(wasm_valtype_t) local_type;
    VEC(uint32_t) osr_loops;  /* compiled_func_t.osr_loops: (pc, wasm offset) pairs */

    uint32_t temp_base;    /* first temporary slot */
    uint32_t slot_height;  /* slots of temporaries in use */
    uint32_t max_height;
    uint32_t nlocal_refs;  /* ENTRY_LOCAL entries on the stack */
    uint32_t wasm_offset;  /* offset of the instruction being compiled */

    /* Peephole state: the latest instructions, newest last, so that fusions
     * can look back two; an entry only counts if no label lies between it
     * and the end of the code (label_pc). */
    instr_t hist[HIST];
    uint32_t nhist;
    uint32_t label_pc;     /* code position of the latest label */
    bool optimize;         /* peepholes and fused instructions on */
    bool tail_calls;       /* a return_call* was compiled */
    bool oom;
    exn_state_t exn;       /* exception handling (compile_exn.inc) */
} compiler_t;

/* ---------------------------------------------------------------- emit */

static void emit_word(compiler_t *c, code_word_t w)
{
    if (!vec_push(&c->code, w))
        c->oom = true;
}

static void emit_op(compiler_t *c, iop_t op)
{
    if (c->nhist == HIST) {
        memmove(c->hist, c->hist + 1, (HIST - 1) * sizeof *c->hist);
        c->nhist--;
    }
    c->hist[c->nhist++] = (instr_t){(uint32_t)c->code.len, NO_PATCH, op};
    code_srcmap_t m = {(uint32_t)c->code.len, c->wasm_offset};
    if (c->srcmap.len == 0 || c->srcmap.data[c->srcmap.len - 1].offset != m.offset) {
        if (!vec_push(&c->srcmap, m))
            c->oom = true;
    }
    emit_word(c, (code_word_t)op);
}

/* The destination operand, remembered for the local.set peephole. */
static void emit_dest(compiler_t *c, uint32_t slot)
{
    c->hist[c->nhist - 1].dest = (uint32_t)c->code.len;
    emit_word(c, slot);
}

static void emit_u64(compiler_t *c, uint64_t v)
{
    emit_word(c, (code_word_t)v);
    emit_word(c, (code_word_t)(v >> 32));
}

/* A position that branches may target: later peepholes must not merge
 * instructions across it. */
static uint32_t place_label(compiler_t *c)
{
    c->label_pc = (uint32_t)c->code.len;
    return c->label_pc;
}

/* Multi-memory: an instruction on memory N > 0 runs between USE_MEMORY N
 * and USE_MEMORY0, which point the interpreter's cached memory (base, size,
 * object) at memory N and back to memory 0. Every memory handler then
 * serves every memory, and code on memory 0 is what it was. Nothing fuses
 * across the two: each acts as a label. */
static void use_memory(compiler_t *c, uint32_t memory)
{
    if (!memory)
        return;
    emit_op(c, IOP_USE_MEMORY);
    emit_word(c, memory);
    place_label(c);
}

static void use_memory0(compiler_t *c, uint32_t memory)
{
    if (!memory)
        return;
    emit_op(c, IOP_USE_MEMORY0);
    place_label(c);
}

/* The last instruction, if peepholes may still rewrite or remove it (no
 * label after its start), else NULL. */
static instr_t *last_instr(compiler_t *c)
{
    if (!c->optimize || c->nhist == 0)
        return NULL;
    instr_t *in = &c->hist[c->nhist - 1];
    return in->pc >= c->label_pc ? in : NULL;
}

/* The last instruction if it wrote `e` (a temporary nothing else reads yet). */
static instr_t *writer_of(compiler_t *c, const entry_t *e)
{
    instr_t *in = last_instr(c);
    if (!in || e->kind != ENTRY_TEMP || in->dest == NO_PATCH || c->code.data[in->dest] != e->nat)
        return NULL;
    return in;
}

/* The words of the last instruction if it is `op` and computed `e`, so that
 * it may be fused into the instruction consuming `e`; NULL otherwise. */
static const code_word_t *producer(compiler_t *c, const entry_t *e, iop_t op)
{
    instr_t *in = writer_of(c, e);
    if (!in || in->op != op)
        return NULL;
    return &c->code.data[in->pc];
}

/* Removes the last instruction (to replace it by a fused one); the one
 * before becomes the last. The fused instruction keeps the source offset of
 * the Wasm instruction being compiled. */
static void drop_last(compiler_t *c)
{
    uint32_t pc = c->hist[--c->nhist].pc;
    c->code.len = pc;
    while (c->srcmap.len && c->srcmap.data[c->srcmap.len - 1].pc >= pc)
        c->srcmap.len--;
}

/* The Wasm offset the source map gives code position `pc` (an instruction
 * about to be fused away keeps its own offset for the fused one when it
 * is the only part that can trap). */
static uint32_t srcmap_offset_at(const compiler_t *c, uint32_t pc)
{
    for (size_t i = c->srcmap.len; i-- > 0;)
        if (c->srcmap.data[i].pc <= pc)
            return c->srcmap.data[i].offset;
    return c->wasm_offset;
}

static uint32_t new_patch(compiler_t *c, uint32_t at, uint32_t from, uint32_t next)
{
    patch_t p = {at, from, next};
    if (!vec_push(&c->patches, p)) {
        c->oom = true;
        return NO_PATCH;
    }
    return (uint32_t)c->patches.len - 1;
}

static void resolve_patches(compiler_t *c, uint32_t head, uint32_t target)
{
    while (head != NO_PATCH) {
        patch_t *p = &c->patches.data[head];
        c->code.data[p->at] = (code_word_t)(int32_t)(target - p->from);
        head = p->next;
    }
}

/* --------------------------------------------------------------- stack */

static entry_t *top(compiler_t *c, uint32_t depth) { return &c->stack.data[c->stack.len - 1 - depth]; }

static void push_entry(compiler_t *c, entry_t e)
{
    e.nat = c->temp_base + c->slot_height;
    c->slot_height += slots_of(e.type);
    if (c->slot_height > c->max_height)
        c->max_height = c->slot_height;
    if (e.kind == ENTRY_LOCAL)
        c->nlocal_refs++;
    if (!vec_push(&c->stack, e))
        c->oom = true;
}

static void push_temp(compiler_t *c, wasm_valtype_t t)
{
    push_entry(c, (entry_t){.kind = ENTRY_TEMP, .type = t});
}

/* The slot a new temporary would get: the result slot of an instruction
 * about to push. */
static uint32_t next_nat(const compiler_t *c) { return c->temp_base + c->slot_height; }

static entry_t pop(compiler_t *c)
{
    entry_t e = c->stack.data[--c->stack.len];
    c->slot_height -= slots_of(e.type);
    if (e.kind == ENTRY_LOCAL)
        c->nlocal_refs--;
    return e;
}

static void emit_const_to(compiler_t *c, uint32_t dest, wasm_valtype_t type, uint64_t k)
{
    if (type == WASM_I32 || type == WASM_F32) {
        emit_op(c, IOP_CONST32);
        emit_dest(c, dest);
        emit_word(c, (code_word_t)k);
    } else {
        emit_op(c, IOP_CONST64);
        emit_dest(c, dest);
        emit_u64(c, k);
    }
}

static void emit_copy(compiler_t *c, uint32_t dest, uint32_t src, wasm_valtype_t type)
{
    instr_t *in = last_instr(c);
    if (type != WASM_V128 && in && in->op == IOP_COPY) {
        /* Two copies in a row run as one instruction (in order). */
        uint32_t d1 = c->code.data[in->pc + 1], s1 = c->code.data[in->pc + 2];
        drop_last(c);
        emit_op(c, IOP_COPY2);
        emit_word(c, d1);
        emit_word(c, s1);
        emit_dest(c, dest);
        emit_word(c, src);
        return;
    }
    emit_op(c, type == WASM_V128 ? IOP_COPY128 : IOP_COPY);
    emit_dest(c, dest);
    emit_word(c, src);
}

/* Writes entry `e`'s value into slot `dest`. */
static void emit_move(compiler_t *c, uint32_t dest, const entry_t *e)
{
    switch (e->kind) {
    case ENTRY_CONST:
        emit_const_to(c, dest, e->type, e->k);
        break;
    case ENTRY_LOCAL:
        if (e->slot != dest)
            emit_copy(c, dest, e->slot, e->type);
        break;
    default:
        if (e->nat != dest)
            emit_copy(c, dest, e->nat, e->type);
        break;
    }
}

/* Puts the entry's value into its natural slot. */
static void materialize(compiler_t *c, entry_t *e)
{
    if (e->kind == ENTRY_TEMP)
        return;
    emit_move(c, e->nat, e);
    if (e->kind == ENTRY_LOCAL)
        c->nlocal_refs--;
    e->kind = ENTRY_TEMP;
}

/* The slot an instruction can read the entry from. */
static uint32_t operand(compiler_t *c, entry_t *e)
{
    if (e->kind == ENTRY_LOCAL)
        return e->slot;
    materialize(c, e);
    return e->nat;
}

/* Materialises every entry that refers to a local (all of them if slot is
 * UINT32_MAX, else only those referring to `slot`). */
static void materialize_local_refs(compiler_t *c, uint32_t slot)
{
    for (size_t i = c->stack.len; i-- > 0 && c->nlocal_refs > 0;) {
        entry_t *e = &c->stack.data[i];
        if (e->kind == ENTRY_LOCAL && (slot == UINT32_MAX || e->slot == slot))
            materialize(c, e);
    }
}

static void materialize_top(compiler_t *c, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        materialize(c, top(c, n - 1 - i));
}

/* Truncates the stack to `height` entries. */
static void pop_to(compiler_t *c, uint32_t height)
{
    while (c->stack.len > height)
        pop(c);
}

#include "compile_branch.inc"

/* ------------------------------------------------------------- blocks */

static void read_blocktype(compiler_t *c, frame_t *f)
{
    int64_t bt = read_s33(&c->r);
    f->nparams = f->nresults = 0;
    if (bt == -0x40)
        return;
    if (bt < 0) {
        /* A one-value block type: point at a static copy of the type (the
         * frame record is copied, so it cannot hold the type itself). */
        static const wasm_valtype_t value_types[] = {WASM_I32,  WASM_I64,     WASM_F32,
                                                     WASM_F64,  WASM_V128,    WASM_FUNCREF,
                                                     WASM_EXTERNREF, WASM_EXNREF};
        /* A typed reference is compiled as its top type: same slot, same
         * representation. */
        wasm_valtype_t t = wasm_ref_top((wasm_valtype_t)(bt & 0x7f));
        wasm_valtype_t ref = wasm_blocktype_ref(&c->r, bt);
        if (ref)
            t = wasm_ref_top(ref);
        f->results = NULL;
        for (size_t i = 0; i < sizeof value_types / sizeof *value_types; i++)
            if (value_types[i] == t)
                f->results = &value_types[i];
        f->nresults = f->results ? 1 : 0;
        return;
    }
    const wasm_functype_t *t = &c->module->types[bt];
    f->params = t->params;
    f->nparams = t->nparams;
    f->results = t->results;
    f->nresults = t->nresults;
}

static exn_scope_t exn_end_begin(compiler_t *c, bool *has);
static void exn_end_finish(compiler_t *c, const frame_t *f, const exn_scope_t *s);

static void push_frame(compiler_t *c, frame_t *f)
{
    f->height = (uint32_t)c->stack.len - f->nparams;
    f->base_slot = f->nparams ? top(c, f->nparams - 1)->nat : next_nat(c);
    f->patches = NO_PATCH;
    f->branched = false;
    f->has_else = false;
    if (!vec_push(&c->frames, *f))
        c->oom = true;
}

static void compile_block(compiler_t *c, uint8_t kind)
{
    frame_t f = {.kind = kind, .else_patch = NO_PATCH};
    read_blocktype(c, &f);
    cond_t cd = {0};
    if (kind == FRAME_IF)
        cd = pop_cond(c);
    materialize_local_refs(c, UINT32_MAX);
    if (kind != FRAME_BLOCK)
        materialize_top(c, f.nparams);
    if (kind == FRAME_IF) {
        uint32_t from;
        uint32_t at = emit_cond_branch(c, cd, false, &from);
        f.else_patch = new_patch(c, at, from, NO_PATCH);
        push_frame(c, &f);
        return;
    }
    if (kind == FRAME_LOOP) {
        f.loop_pc = place_label(c); /* back-edges to it check the epoch */
        /* Only the locals are live at this header: the LLVM tier can enter
         * its code here from a running frame (jit_osr.c). */
        if (c->stack.len == 0 &&
            (!vec_push(&c->osr_loops, f.loop_pc) || !vec_push(&c->osr_loops, c->wasm_offset)))
            c->oom = true;
    }
    push_frame(c, &f);
}

/* Resets the stack to the frame's parameters, in their natural slots. */
static void restore_params(compiler_t *c, const frame_t *f)
{
    pop_to(c, f->height);
    for (uint32_t i = 0; i < f->nparams; i++)
        push_temp(c, f->params[i]);
}

static void compile_else(compiler_t *c, bool reachable)
{
    frame_t *f = frame_at(c, 0);
    if (reachable) {
        materialize_top(c, f->nresults);
        emit_jump(c, f);
    }
    f = frame_at(c, 0);
    resolve_patches(c, f->else_patch, place_label(c));
    f->else_patch = NO_PATCH;
    f->has_else = true;
    restore_params(c, f);
}

/* Handles `end`. Returns whether the code after it is reachable. */
static bool compile_end(compiler_t *c, bool reachable)
{
    frame_t f = *frame_at(c, 0);
    if (f.kind == FRAME_FUNC) {
        if (reachable)
            emit_return(c);
        c->frames.len--;
        return false;
    }
    bool exn_scope;
    exn_scope_t scope = exn_end_begin(c, &exn_scope);
    if (reachable)
        materialize_top(c, f.nresults);
    bool after = reachable || f.branched;
    if (f.kind == FRAME_IF && !f.has_else) {
        /* The missing else arm passes the parameters (= results) through. */
        resolve_patches(c, f.else_patch, (uint32_t)c->code.len);
        after = true;
    }
    if (f.kind == FRAME_LOOP)
        after = reachable;
    resolve_patches(c, f.patches, place_label(c));
    c->frames.len--;
    pop_to(c, f.height);
    for (uint32_t i = 0; i < f.nresults; i++)
        push_temp(c, f.results[i]);
    if (exn_scope)
        exn_end_finish(c, &f, &scope);
    return after;
}

/* After an unconditional transfer: skips to the `else` or `end` that closes
 * the current block and returns it (the reader is past it). */
static int skip_dead_code(compiler_t *c)
{
    uint32_t depth = 0;
    for (;;) {
        size_t at = reader_offset(&c->r);
        int op = wasm_read_op(&c->r);
        if (op < 0)
            return -1;
        c->wasm_offset = (uint32_t)at;
        switch (op) {
        case WASM_OP_BLOCK:
        case WASM_OP_LOOP:
        case WASM_OP_IF:
        case WASM_OP_TRY:
        case WASM_OP_TRY_TABLE:
            depth++;
            break;
        case WASM_OP_ELSE:
        case WASM_OP_CATCH:
        case WASM_OP_CATCH_ALL:
            if (depth == 0)
                return op;
            break;
        case WASM_OP_DELEGATE:
            if (depth == 0)
                return op;
            depth--;
            break;
        case WASM_OP_END:
            if (depth == 0)
                return op;
            depth--;
            break;
        default:
            break;
        }
        wasm_skip_immediates(&c->r, (wasm_op_t)op);
        if (!reader_ok(&c->r))
            return -1;
    }
}

#include "compile/compile_exn.inc"

/* -------------------------------------------------------- instructions */

static void compile_local_set(compiler_t *c, uint32_t x, bool tee)
{
    uint32_t slot = c->local_slot.data[x];
    wasm_valtype_t type = c->local_type.data[x];
    entry_t e = pop(c);
    instr_t *w;
    if (c->nlocal_refs)
        materialize_local_refs(c, slot);
    if (e.kind == ENTRY_LOCAL && e.slot == slot) {
        /* local.set x (local.get x): nothing to do */
    } else if ((w = writer_of(c, &e)) != NULL) {
        /* The last instruction computed the value: let it write the local. */
        c->code.data[w->dest] = slot;
    } else {
        emit_move(c, slot, &e);
    }
    if (tee)
        push_entry(c, (entry_t){.kind = ENTRY_LOCAL, .type = type, .slot = slot});
}

static bool is_commutative(iop_t op)
{
    switch (op) {
    case IOP_I32_ADD: case IOP_I32_MUL: case IOP_I32_AND: case IOP_I32_OR: case IOP_I32_XOR:
    case IOP_I32_EQ: case IOP_I32_NE:
    case IOP_I64_ADD: case IOP_I64_MUL: case IOP_I64_AND: case IOP_I64_OR: case IOP_I64_XOR:
    case IOP_I64_EQ: case IOP_I64_NE:
        return true;
    default:
        return false;
    }
}

/* The op with its operands swapped, for comparisons; IOP_COUNT if none. */
static iop_t swapped_cmp(iop_t op)
{
    switch (op) {
#define SW(x, y) case IOP_##x: return IOP_##y; case IOP_##y: return IOP_##x;
        SW(I32_LT_S, I32_GT_S) SW(I32_LT_U, I32_GT_U) SW(I32_LE_S, I32_GE_S) SW(I32_LE_U, I32_GE_U)
        SW(I64_LT_S, I64_GT_S) SW(I64_LT_U, I64_GT_U) SW(I64_LE_S, I64_GE_S) SW(I64_LE_U, I64_GE_U)
#undef SW
    default:
        return IOP_COUNT;
    }
}

/* The _K form of a binary op, or IOP_COUNT. */
static iop_t k_form(iop_t op)
{
    switch (op) {
#define K(x) case IOP_##x: return IOP_##x##_K;
        IOPS_I32_K(K)
        IOPS_I64_K(K)
#undef K
    default:
        return IOP_COUNT;
    }
}

/* f.add/f.sub of a product computed by the last instruction becomes one
 * multiply-add (still two roundings). Returns false if the pattern does not
 * apply. */
static bool compile_muladd(compiler_t *c, iop_t op)
{
    bool f64 = op == IOP_F64_ADD || op == IOP_F64_SUB;
    if (!f64 && op != IOP_F32_ADD && op != IOP_F32_SUB)
        return false;
    iop_t mul = f64 ? IOP_F64_MUL : IOP_F32_MUL;
    bool sub = op == IOP_F64_SUB || op == IOP_F32_SUB;
    entry_t *rhs = top(c, 0), *lhs = top(c, 1);
    const code_word_t *w;
    entry_t other;
    iop_t fused;
    if (lhs->kind != ENTRY_CONST && (w = producer(c, rhs, mul)) != NULL) {
        other = *lhs; /* lhs + rhs*?, lhs - rhs*? */
        fused = sub ? (f64 ? IOP_F64_MULSUB : IOP_F32_MULSUB) : (f64 ? IOP_F64_MULADD : IOP_F32_MULADD);
    } else if (rhs->kind == ENTRY_LOCAL && (w = producer(c, lhs, mul)) != NULL) {
        other = *rhs; /* lhs*? + rhs, lhs*? - rhs */
        fused = sub ? (f64 ? IOP_F64_MULSUBR : IOP_F32_MULSUBR) : (f64 ? IOP_F64_MULADD : IOP_F32_MULADD);
    } else {
        return false;
    }
    uint32_t mb = w[2], mc = w[3];
    drop_last(c);
    pop(c);
    pop(c);
    uint32_t dest = next_nat(c);
    emit_op(c, fused);
    emit_dest(c, dest);
    emit_word(c, other.kind == ENTRY_LOCAL ? other.slot : other.nat);
    emit_word(c, mb);
    emit_word(c, mc);
    push_temp(c, f64 ? WASM_F64 : WASM_F32);
    return true;
}

/* A binary i32 op one of whose operands is a shift or rotate by a constant
 * computed by the last instruction becomes one instruction: address
 * arithmetic (base + i << k) and the shift/rotate-xor chains of hashes and
 * PRNGs (x ^ rotl(y, k), x ^ (y >> k), x ^ (y << k)). */
static const struct {
    iop_t op, shift, fused;
} shift_fusions[] = {
    {IOP_I32_ADD, IOP_I32_SHL_K, IOP_I32_ADD_SHL},
    {IOP_I32_XOR, IOP_I32_ROTL_K, IOP_I32_XOR_ROTL},
    {IOP_I32_XOR, IOP_I32_SHR_U_K, IOP_I32_XOR_SHRU},
    {IOP_I32_XOR, IOP_I32_SHL_K, IOP_I32_XOR_SHL},
};

static bool compile_shift_fusion(compiler_t *c, iop_t op)
{
    if (op != IOP_I32_ADD && op != IOP_I32_XOR)
        return false;
    entry_t *rhs = top(c, 0), *lhs = top(c, 1);
    for (size_t i = 0; i < sizeof shift_fusions / sizeof shift_fusions[0]; i++) {
        if (shift_fusions[i].op != op)
            continue;
        const code_word_t *w;
        entry_t other;
        if (lhs->kind != ENTRY_CONST && (w = producer(c, rhs, shift_fusions[i].shift)) != NULL)
            other = *lhs;
        else if (rhs->kind == ENTRY_LOCAL && (w = producer(c, lhs, shift_fusions[i].shift)) != NULL)
            other = *rhs; /* both ops commute */
        else
            continue;
        uint32_t shifted = w[2], amount = w[3] & 31;
        drop_last(c);
        pop(c);
        pop(c);
        uint32_t dest = next_nat(c);
        emit_op(c, shift_fusions[i].fused);
        emit_dest(c, dest);
        emit_word(c, other.kind == ENTRY_LOCAL ? other.slot : other.nat);
        emit_word(c, shifted);
        emit_word(c, amount);
        push_temp(c, WASM_I32);
        return true;
    }
    return false;
}

static void compile_binary(compiler_t *c, iop_t op, wasm_valtype_t result)
{
    if (compile_muladd(c, op) || compile_shift_fusion(c, op))
        return;
    entry_t b = pop(c);
    entry_t a = pop(c);
    uint32_t dest = next_nat(c);
    if (a.kind == ENTRY_CONST && b.kind != ENTRY_CONST) {
        iop_t sw = is_commutative(op) ? op : swapped_cmp(op);
        if (sw != IOP_COUNT && k_form(sw) != IOP_COUNT) {
            entry_t t = a;
            a = b;
            b = t;
            op = sw;
        }
    }
    iop_t kop = c->optimize ? k_form(op) : IOP_COUNT;
    if (b.kind == ENTRY_CONST && kop != IOP_COUNT) {
        uint32_t sa = operand(c, &a);
        emit_op(c, kop);
        emit_dest(c, dest);
        emit_word(c, sa);
        if (b.type == WASM_I64)
            emit_u64(c, b.k);
        else
            emit_word(c, (code_word_t)b.k);
    } else {
        /* Constants go to their natural slots, which are free. */
        uint32_t sa = operand(c, &a);
        uint32_t sb = operand(c, &b);
        emit_op(c, op);
        emit_dest(c, dest);
        emit_word(c, sa);
        emit_word(c, sb);
    }
    push_temp(c, result);
}

static void compile_unary(compiler_t *c, iop_t op, wasm_valtype_t result)
{
    entry_t a = pop(c);
    uint32_t dest = next_nat(c);
    uint32_t sa = operand(c, &a);
    emit_op(c, op);
    emit_dest(c, dest);
    emit_word(c, sa);
    push_temp(c, result);
}

/* Ops that change only how bits are read: no code. */
static void retype_top(compiler_t *c, wasm_valtype_t t, bool wrap)
{
    entry_t *e = top(c, 0);
    e->type = t;
    if (wrap && e->kind == ENTRY_CONST)
        e->k &= 0xffffffffu;
}

static wasm_valtype_t sig_type(char ch)
{
    switch (ch) {
    case 'i': return WASM_I32;
    case 'l': return WASM_I64;
    case 'f': return WASM_F32;
    default: return WASM_F64;
    }
}

/* Pops `n` operands into slots (constants materialised in their natural
 * slots) in stack order: slots[0] is the deepest. */
static void pop_operands(compiler_t *c, uint32_t n, uint32_t *slots)
{
    for (uint32_t i = 0; i < n; i++) {
        entry_t *e = top(c, n - 1 - i);
        slots[i] = operand(c, e);
    }
    for (uint32_t i = 0; i < n; i++)
        pop(c);
}

static void compile_call(compiler_t *c, uint32_t index)
{
    const wasm_module_t *m = c->module;
    const wasm_functype_t *t = wasm_module_func_type(m, index);
    materialize_top(c, t->nparams);
    uint32_t base = t->nparams ? top(c, t->nparams - 1)->nat : next_nat(c);
    pop_to(c, c->stack.len - t->nparams);
    if (index < m->nfunc_imports) {
        emit_op(c, IOP_CALL_IMPORT);
        emit_word(c, index);
    } else {
        emit_op(c, IOP_CALL);
        emit_word(c, index - m->nfunc_imports);
    }
    emit_word(c, base);
    for (uint32_t i = 0; i < t->nresults; i++)
        push_temp(c, t->results[i]);
}

static void compile_call_indirect(compiler_t *c, uint32_t type_index, uint32_t table)
{
    const wasm_module_t *m = c->module;
    const wasm_functype_t *t = &m->types[m->types[type_index].canonical];
    entry_t idx = pop(c);
    materialize_top(c, t->nparams);
    uint32_t a = operand(c, &idx);
    uint32_t base = t->nparams ? top(c, t->nparams - 1)->nat : next_nat(c);
    pop_to(c, c->stack.len - t->nparams);
    emit_op(c, IOP_CALL_INDIRECT);
    emit_word(c, table);
    emit_word(c, m->types[type_index].canonical);
    emit_word(c, a);
    emit_word(c, base);
    for (uint32_t i = 0; i < t->nresults; i++)
        push_temp(c, t->results[i]);
}

/* Tail calls: the arguments go where a call would put them, and the
 * interpreter moves them down to slot 0 and runs the callee in this frame,
 * so a chain of tail calls runs in constant stack space. */
static uint32_t param_slots(const wasm_functype_t *t)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->nparams; i++)
        n += slots_of(t->params[i]);
    return n;
}

static void compile_return_call(compiler_t *c, uint32_t index)
{
    const wasm_module_t *m = c->module;
    const wasm_functype_t *t = wasm_module_func_type(m, index);
    materialize_top(c, t->nparams);
    uint32_t base = t->nparams ? top(c, t->nparams - 1)->nat : next_nat(c);
    pop_to(c, c->stack.len - t->nparams);
    if (index < m->nfunc_imports) {
        emit_op(c, IOP_RETURN_CALL_IMPORT);
        emit_word(c, index);
    } else {
        emit_op(c, IOP_RETURN_CALL);
        emit_word(c, index - m->nfunc_imports);
    }
    emit_word(c, base);
    emit_word(c, param_slots(t));
}

static void compile_return_call_indirect(compiler_t *c, uint32_t type_index, uint32_t table)
{
    const wasm_module_t *m = c->module;
    const wasm_functype_t *t = &m->types[m->types[type_index].canonical];
    entry_t idx = pop(c);
    materialize_top(c, t->nparams);
    uint32_t a = operand(c, &idx);
    uint32_t base = t->nparams ? top(c, t->nparams - 1)->nat : next_nat(c);
    pop_to(c, c->stack.len - t->nparams);
    emit_op(c, IOP_RETURN_CALL_INDIRECT);
    emit_word(c, table);
    emit_word(c, m->types[type_index].canonical);
    emit_word(c, a);
    emit_word(c, base);
    emit_word(c, param_slots(t));
}

#include "compile_funcref.inc"

static void compile_select(compiler_t *c)
{
    uint32_t s[3];
    wasm_valtype_t t = top(c, 1)->type;
    uint32_t dest = top(c, 2)->nat;
    /* Operand order in the code: condition first. */
    pop_operands(c, 3, s);
    emit_op(c, t == WASM_V128 ? IOP_SELECT128 : IOP_SELECT);
    emit_dest(c, dest);
    emit_word(c, s[2]);
    emit_word(c, s[0]);
    emit_word(c, s[1]);
    push_temp(c, t);
}

#include "compile_memory.inc"

/* Maps the Wasm op to the internal op of the same name. */
static iop_t numeric_iop(wasm_op_t op)
{
    switch (op) {
#define M(x) case WASM_OP_##x: return IOP_##x;
        IOPS_UNARY(M)
        IOPS_BINARY(M)
        IOPS_LOAD(M)
        IOPS_STORE(M)
#undef M
    default:
        return IOP_COUNT;
    }
}

static void push_const(compiler_t *c, wasm_valtype_t t, uint64_t k)
{
    push_entry(c, (entry_t){.kind = ENTRY_CONST, .type = t, .k = k});
}

static bool compile_simd_instr(compiler_t *c, simd_instr_t *inp);

/* A SIMD instruction (ops_simd.h): operands from their slots, the result to
 * its natural slot, immediates last. */
static bool compile_simd(compiler_t *c, wasm_op_t op)
{
    simd_instr_t in;
    if (!simd_decode(&c->r, op, &in))
        return false;
    if (in.has_memarg && memory_is64(c, in.memory)) {
        address64(c, in.nparams - 1, in.offset64);
        in.imm[0] = 0;
    }
    if (in.memory) {
        use_memory(c, in.memory);
        in.memory = 0;
        bool ok = compile_simd_instr(c, &in);
        use_memory0(c, 1);
        return ok;
    }
    return compile_simd_instr(c, &in);
}

static bool compile_simd_instr(compiler_t *c, simd_instr_t *inp)
{
    simd_instr_t in = *inp;
    uint32_t s[3];
    pop_operands(c, in.nparams, s);
    uint32_t dest = next_nat(c);
    emit_op(c, (iop_t)in.op);
    if (in.has_result)
        emit_dest(c, dest);
    for (uint32_t i = 0; i < in.nparams; i++)
        emit_word(c, s[i]);
    for (uint32_t i = 0; i < in.nimm; i++)
        emit_word(c, in.imm[i]);
    if (in.has_result)
        push_temp(c, in.result);
    return true;
}

/* Compiles one instruction. Returns false when the code after it is dead. */
static bool compile_instr(compiler_t *c, wasm_op_t op)
{
    reader_t *r = &c->r;
    const wasm_opinfo_t *info = &wasm_opinfo[op];
    uint32_t s[4];
    switch (op) {
    case WASM_OP_UNREACHABLE:
        emit_op(c, IOP_UNREACHABLE);
        return false;
    case WASM_OP_NOP:
        return true;
    case WASM_OP_BLOCK:
        compile_block(c, FRAME_BLOCK);
        return true;
    case WASM_OP_LOOP:
        compile_block(c, FRAME_LOOP);
        return true;
    case WASM_OP_IF:
        compile_block(c, FRAME_IF);
        return true;
    case WASM_OP_ELSE:
        compile_else(c, true);
        return true;
    case WASM_OP_END:
        return compile_end(c, true);
    case WASM_OP_BR:
        emit_branch(c, read_u32(r));
        return false;
    case WASM_OP_THROW:
    case WASM_OP_THROW_REF:
    case WASM_OP_TRY_TABLE:
    case WASM_OP_TRY:
    case WASM_OP_CATCH:
    case WASM_OP_CATCH_ALL:
    case WASM_OP_DELEGATE:
    case WASM_OP_RETHROW:
        return compile_exn_instr(c, op);
    case WASM_OP_BR_IF:
        compile_br_if(c, read_u32(r));
        return true;
    case WASM_OP_BR_TABLE:
        compile_br_table(c);
        return false;
    case WASM_OP_RETURN:
        emit_return(c);
        return false;
    case WASM_OP_CALL:
        compile_call(c, read_u32(r));
        return true;
    case WASM_OP_CALL_INDIRECT: {
        uint32_t type_index = read_u32(r);
        uint32_t table = read_u32(r);
        if (table_is64(c, table))
            table64_narrow(c, 0, IOP_TABLE64_INDEX);
        compile_call_indirect(c, type_index, table);
        return true;
    }
    case WASM_OP_RETURN_CALL:
        c->tail_calls = true;
        compile_return_call(c, read_u32(r));
        return false;
    case WASM_OP_RETURN_CALL_INDIRECT: {
        c->tail_calls = true;
        uint32_t type_index = read_u32(r);
        uint32_t table = read_u32(r);
        if (table_is64(c, table))
            table64_narrow(c, 0, IOP_TABLE64_INDEX);
        compile_return_call_indirect(c, type_index, table);
        return false;
    }
    case WASM_OP_CALL_REF:
    case WASM_OP_RETURN_CALL_REF:
        c->tail_calls |= op == WASM_OP_RETURN_CALL_REF;
        compile_call_ref(c, read_u32(r), op == WASM_OP_RETURN_CALL_REF);
        return op == WASM_OP_CALL_REF;
    case WASM_OP_DROP:
        pop(c);
        return true;
    case WASM_OP_SELECT:
        compile_select(c);
        return true;
    case WASM_OP_SELECT_T:
        wasm_skip_immediates(r, op);
        compile_select(c);
        return true;
    case WASM_OP_LOCAL_GET: {
        uint32_t x = read_u32(r);
        push_entry(c, (entry_t){.kind = ENTRY_LOCAL, .type = c->local_type.data[x],
                                .slot = c->local_slot.data[x]});
        return true;
    }
    case WASM_OP_LOCAL_SET:
    case WASM_OP_LOCAL_TEE:
        compile_local_set(c, read_u32(r), op == WASM_OP_LOCAL_TEE);
        return true;
    case WASM_OP_GLOBAL_GET: {
        uint32_t x = read_u32(r);
        wasm_valtype_t t = wasm_module_global_type(c->module, x)->type;
        emit_op(c, t == WASM_V128 ? IOP_GLOBAL_GET128 : IOP_GLOBAL_GET);
        emit_dest(c, next_nat(c));
        emit_word(c, x);
        push_temp(c, t);
        return true;
    }
    case WASM_OP_GLOBAL_SET: {
        uint32_t x = read_u32(r);
        wasm_valtype_t t = wasm_module_global_type(c->module, x)->type;
        pop_operands(c, 1, s);
        emit_op(c, t == WASM_V128 ? IOP_GLOBAL_SET128 : IOP_GLOBAL_SET);
        emit_word(c, s[0]);
        emit_word(c, x);
        return true;
    }
    case WASM_OP_TABLE_GET: {
        uint32_t x = read_u32(r);
        if (table_is64(c, x))
            table64_narrow(c, 0, IOP_TABLE64_INDEX);
        uint32_t dest = top(c, 0)->nat;
        pop_operands(c, 1, s);
        emit_op(c, IOP_TABLE_GET);
        emit_dest(c, dest);
        emit_word(c, x);
        emit_word(c, s[0]);
        push_temp(c, wasm_module_table_type(c->module, x)->elem);
        return true;
    }
    case WASM_OP_TABLE_SET: {
        uint32_t x = read_u32(r);
        if (table_is64(c, x))
            table64_narrow(c, 1, IOP_TABLE64_INDEX);
        pop_operands(c, 2, s);
        emit_op(c, IOP_TABLE_SET);
        emit_word(c, x);
        emit_word(c, s[0]);
        emit_word(c, s[1]);
        return true;
    }
    case WASM_OP_MEMORY_SIZE: {
        uint32_t memory = read_u32(r);
        use_memory(c, memory);
        emit_op(c, IOP_MEMORY_SIZE);
        emit_dest(c, next_nat(c));
        push_temp(c, WASM_I32);
        use_memory0(c, memory);
        if (memory_is64(c, memory))
            compile_unary(c, numeric_iop(WASM_OP_I64_EXTEND_I32_U), WASM_I64);
        return true;
    }
    case WASM_OP_MEMORY_GROW: {
        uint32_t memory = read_u32(r);
        uint32_t dest = top(c, 0)->nat;
        pop_operands(c, 1, s);
        use_memory(c, memory);
        bool is64 = memory_is64(c, memory);
        emit_op(c, is64 ? IOP_MEMORY_GROW64 : IOP_MEMORY_GROW);
        emit_dest(c, dest);
        emit_word(c, s[0]);
        push_temp(c, is64 ? WASM_I64 : WASM_I32);
        use_memory0(c, memory);
        return true;
    }
    case WASM_OP_I32_CONST:
        push_const(c, WASM_I32, (uint32_t)read_s32(r));
        return true;
    case WASM_OP_I64_CONST:
        push_const(c, WASM_I64, (uint64_t)read_s64(r));
        return true;
    case WASM_OP_F32_CONST:
        push_const(c, WASM_F32, read_fixed32(r));
        return true;
    case WASM_OP_F64_CONST:
        push_const(c, WASM_F64, read_fixed64(r));
        return true;
    case WASM_OP_I32_WRAP_I64:
        retype_top(c, WASM_I32, true);
        return true;
    case WASM_OP_I32_REINTERPRET_F32:
        retype_top(c, WASM_I32, false);
        return true;
    case WASM_OP_I64_REINTERPRET_F64:
        retype_top(c, WASM_I64, false);
        return true;
    case WASM_OP_F32_REINTERPRET_I32:
        retype_top(c, WASM_F32, false);
        return true;
    case WASM_OP_F64_REINTERPRET_I64:
        retype_top(c, WASM_F64, false);
        return true;
    case WASM_OP_REF_NULL: {
        const char *ignored;
        push_const(c, wasm_ref_top(wasm_read_heaptype(r, true, &ignored)), 0);
        return true;
    }
    case WASM_OP_REF_IS_NULL: {
        uint32_t dest = top(c, 0)->nat;
        pop_operands(c, 1, s);
        emit_op(c, IOP_REF_IS_NULL);
        emit_dest(c, dest);
        emit_word(c, s[0]);
        push_temp(c, WASM_I32);
        return true;
    }
    case WASM_OP_REF_AS_NON_NULL:
        /* The value stays where it is: only the check is emitted. */
        emit_op(c, IOP_TRAP_IF_NULL);
        emit_word(c, operand(c, top(c, 0)));
        return true;
    case WASM_OP_BR_ON_NULL:
    case WASM_OP_BR_ON_NON_NULL:
        compile_br_on_null(c, read_u32(r), op == WASM_OP_BR_ON_NON_NULL);
        return true;
    case WASM_OP_REF_FUNC:
        emit_op(c, IOP_REF_FUNC);
        emit_dest(c, next_nat(c));
        emit_word(c, read_u32(r));
        push_temp(c, WASM_FUNCREF);
        return true;
    case WASM_OP_MEMORY_INIT: {
        uint32_t seg = read_u32(r);
        uint32_t memory = read_u32(r);
        pop_operands(c, 3, s);
        use_memory(c, memory);
        emit_op(c, memory_is64(c, memory) ? IOP_MEMORY_INIT64 : IOP_MEMORY_INIT);
        emit_word(c, seg);
        emit_word(c, s[0]);
        emit_word(c, s[1]);
        emit_word(c, s[2]);
        use_memory0(c, memory);
        return true;
    }
    case WASM_OP_DATA_DROP:
        emit_op(c, IOP_DATA_DROP);
        emit_word(c, read_u32(r));
        return true;
    case WASM_OP_MEMORY_COPY: {
        uint32_t dst = read_u32(r), src = read_u32(r);
        pop_operands(c, 3, s);
        bool d64 = memory_is64(c, dst), s64 = memory_is64(c, src);
        if (dst || src || d64 || s64) {
            emit_op(c, IOP_MEMORY_COPY_BETWEEN);
            emit_word(c, s[0]);
            emit_word(c, s[1]);
            emit_word(c, s[2]);
            emit_word(c, dst);
            emit_word(c, src);
            /* which operands are i64: destination, source, length */
            emit_word(c, (code_word_t)(d64 | s64 << 1 | (d64 && s64) << 2));
            return true;
        }
        emit_op(c, IOP_MEMORY_COPY);
        emit_word(c, s[0]);
        emit_word(c, s[1]);
        emit_word(c, s[2]);
        return true;
    }
    case WASM_OP_MEMORY_FILL: {
        uint32_t memory = read_u32(r);
        pop_operands(c, 3, s);
        use_memory(c, memory);
        emit_op(c, memory_is64(c, memory) ? IOP_MEMORY_FILL64 : IOP_MEMORY_FILL);
        emit_word(c, s[0]);
        emit_word(c, s[1]);
        emit_word(c, s[2]);
        use_memory0(c, memory);
        return true;
    }
    case WASM_OP_TABLE_INIT: {
        uint32_t seg = read_u32(r);
        uint32_t table = read_u32(r);
        if (table_is64(c, table))
            table64_narrow(c, 2, IOP_TABLE64_INDEX);
        pop_operands(c, 3, s);
        emit_op(c, IOP_TABLE_INIT);
        emit_word(c, seg);
        emit_word(c, table);
        emit_word(c, s[0]);
        emit_word(c, s[1]);
        emit_word(c, s[2]);
        return true;
    }
    case WASM_OP_ELEM_DROP:
        emit_op(c, IOP_ELEM_DROP);
        emit_word(c, read_u32(r));
        return true;
    case WASM_OP_TABLE_COPY: {
        uint32_t dst = read_u32(r);
        uint32_t src = read_u32(r);
        if (table_is64(c, dst) && table_is64(c, src))
            table64_narrow(c, 0, IOP_TABLE64_INDEX); /* the length */
        if (table_is64(c, src))
            table64_narrow(c, 1, IOP_TABLE64_INDEX);
        if (table_is64(c, dst))
            table64_narrow(c, 2, IOP_TABLE64_INDEX);
        pop_operands(c, 3, s);
        emit_op(c, IOP_TABLE_COPY);
        emit_word(c, dst);
        emit_word(c, src);
        emit_word(c, s[0]);
        emit_word(c, s[1]);
        emit_word(c, s[2]);
        return true;
    }
    case WASM_OP_TABLE_GROW: {
        uint32_t x = read_u32(r);
        bool is64 = table_is64(c, x);
        if (is64)
            table64_narrow(c, 0, IOP_TABLE64_DELTA);
        uint32_t dest = top(c, 1)->nat;
        pop_operands(c, 2, s);
        emit_op(c, IOP_TABLE_GROW);
        emit_dest(c, dest);
        emit_word(c, x);
        emit_word(c, s[0]);
        emit_word(c, s[1]);
        push_temp(c, WASM_I32);
        if (is64) /* -1 stays -1; old sizes are below 2^31 */
            compile_unary(c, IOP_I64_EXTEND_I32_S, WASM_I64);
        return true;
    }
    case WASM_OP_TABLE_SIZE: {
        uint32_t x = read_u32(r);
        emit_op(c, IOP_TABLE_SIZE);
        emit_dest(c, next_nat(c));
        emit_word(c, x);
        push_temp(c, WASM_I32);
        if (table_is64(c, x))
            compile_unary(c, IOP_I64_EXTEND_I32_U, WASM_I64);
        return true;
    }
    case WASM_OP_TABLE_FILL: {
        uint32_t x = read_u32(r);
        if (table_is64(c, x)) {
            table64_narrow(c, 0, IOP_TABLE64_INDEX);
            table64_narrow(c, 2, IOP_TABLE64_INDEX);
        }
        pop_operands(c, 3, s);
        emit_op(c, IOP_TABLE_FILL);
        emit_word(c, x);
        emit_word(c, s[0]);
        emit_word(c, s[1]);
        emit_word(c, s[2]);
        return true;
    }
    default:
        break;
    }

    if (info->prefix == 0xFD || info->prefix == 0xFE) /* SIMD, atomics: ops_*.h */
        return compile_simd(c, op);
    iop_t iop = numeric_iop(op);
    if (iop == IOP_COUNT || !info->sig) {
        reader_fail(r, "instruction not supported by the compiler");
        return false;
    }
    if (info->imm == IMM_MEMARG) {
        uint32_t memory = 0;
        /* alignment is only a hint */
        if (read_u32(r) & WASM_MEMARG_HAS_MEMORY)
            memory = read_u32(r);
        uint64_t offset = read_uleb(r, 64); /* u32 but for 64-bit memories */
        if (memory_is64(c, memory)) {
            address64(c, info->sig[1] == ':' ? 0 : 1, offset);
            offset = 0;
        }
        use_memory(c, memory);
        if (info->sig[1] == ':') /* load */
            compile_load(c, iop, sig_type(info->sig[2]), (uint32_t)offset);
        else
            compile_store(c, iop, (uint32_t)offset);
        use_memory0(c, memory);
        return true;
    }
    const char *colon = strchr(info->sig, ':');
    wasm_valtype_t result = sig_type(colon[1]);
    if (colon - info->sig == 2)
        compile_binary(c, iop, result);
    else
        compile_unary(c, iop, result);
    return true;
}

/* ------------------------------------------------------------ function */

static whirl_error_t *compile_func(compiler_t *c, uint32_t defined, compiled_func_t *out,
                                   arena_t *arena)
{
    const wasm_module_t *m = c->module;
    const wasm_func_t *fn = &m->funcs[defined];
    const wasm_functype_t *type = &m->types[m->types[fn->type].canonical];
    c->func_index = m->nfunc_imports + defined;

    c->code.len = c->srcmap.len = c->stack.len = c->frames.len = c->patches.len = 0;
    c->local_slot.len = c->local_type.len = c->osr_loops.len = 0;
    c->slot_height = c->max_height = 0;
    c->nlocal_refs = 0;
    c->nhist = 0;
    c->label_pc = 0;
    exn_reset(&c->exn);

    uint32_t slot = 0;
    for (uint32_t i = 0; i < type->nparams; i++) {
        vec_push(&c->local_slot, slot);
        vec_push(&c->local_type, type->params[i]);
        slot += slots_of(type->params[i]);
    }
    out->param_slots = slot;
    if (!vec_reserve(&c->local_slot, fn->nlocals) || !vec_reserve(&c->local_type, fn->nlocals))
        return error_oom();
    for (uint32_t run = 0; run < fn->nlocal_runs; run++) {
        for (uint32_t i = 0; i < fn->local_runs[run].count; i++) {
            wasm_valtype_t t = fn->local_runs[run].type;
            vec_push(&c->local_slot, slot);
            vec_push(&c->local_type, t);
            slot += slots_of(t);
        }
    }
    out->local_slots = slot - out->param_slots;
    uint32_t exn_slots = slot; /* legacy try's exn slots: compile_exn.inc */
    c->temp_base = slot + exn_count_trys(m->bytes, fn->code, fn->code_end);
    uint32_t result_slots = 0;
    for (uint32_t i = 0; i < type->nresults; i++)
        result_slots += slots_of(type->results[i]);
    out->result_slots = result_slots;

    frame_t f = {.kind = FRAME_FUNC, .results = type->results, .nresults = type->nresults,
                 .else_patch = NO_PATCH};
    push_frame(c, &f);

    reader_init(&c->r, m->bytes, fn->code, fn->code_end);
    bool live = true;
    while (c->frames.len > 0 && !c->oom) {
        int op;
        if (live) {
            c->wasm_offset = (uint32_t)reader_offset(&c->r);
            op = wasm_read_op(&c->r);
            if (op < 0)
                break;
            live = compile_instr(c, (wasm_op_t)op);
        } else {
            op = skip_dead_code(c);
            if (op < 0)
                break;
            live = op == WASM_OP_ELSE  ? (compile_else(c, false), true)
                   : op == WASM_OP_END ? compile_end(c, false)
                                       : compile_exn_resume(c, op);
        }
        if (!reader_ok(&c->r))
            break;
    }
    if (c->oom)
        return error_oom();
    if (!reader_ok(&c->r))
        return error_fmt("compile error: func %u at offset 0x%zx: %s", c->func_index,
                         c->r.error_offset, c->r.error);

    out->func_index = c->func_index;
    out->type = type;
    uint32_t frame = c->temp_base + c->max_height;
    out->frame_slots = frame > result_slots ? frame : result_slots;
    if (c->exn.nexn_slots > c->temp_base - exn_slots)
        return error_fmt("compile error: func %u: %u exn slots, %u reserved", c->func_index,
                         c->exn.nexn_slots, c->temp_base - exn_slots);
    if (!exn_finish(c, out, arena, exn_slots)) /* before the code is copied: it patches it */
        return error_oom();
    out->code_len = (uint32_t)c->code.len;
    out->code = arena_array(arena, c->code.len, sizeof(code_word_t));
    out->nsrcmap = (uint32_t)c->srcmap.len;
    out->srcmap = arena_array(arena, c->srcmap.len ? c->srcmap.len : 1, sizeof(code_srcmap_t));
    if (!out->code || !out->srcmap)
        return error_oom();
    memcpy(out->code, c->code.data, c->code.len * sizeof(code_word_t));
    memcpy(out->srcmap, c->srcmap.data, c->srcmap.len * sizeof(code_srcmap_t));
    /* Exception handling patches code positions; the LLVM tier does not
     * compile such functions anyway. */
    if (c->osr_loops.len && !out->nhandlers) {
        out->osr_loops = arena_array(arena, c->osr_loops.len, sizeof(uint32_t));
        if (!out->osr_loops)
            return error_oom();
        memcpy(out->osr_loops, c->osr_loops.data, c->osr_loops.len * sizeof(uint32_t));
        out->nosr_loops = (uint32_t)c->osr_loops.len / 2;
    }
    return NULL;
}

whirl_error_t *compile_module(const wasm_module_t *module, compiled_module_t **out)
{
    return compile_module_opts(module, true, out);
}

whirl_error_t *compile_module_opts(const wasm_module_t *module, bool optimize,
                                   compiled_module_t **out)
{
    compiled_module_t *cm = calloc(1, sizeof *cm);
    if (!cm)
        return error_oom();
    arena_init(&cm->arena);
    cm->nfuncs = module->nfuncs;
    cm->funcs = arena_array(&cm->arena, module->nfuncs ? module->nfuncs : 1, sizeof *cm->funcs);
    if (!cm->funcs) {
        compiled_module_free(cm);
        return error_oom();
    }
    compiler_t c = {.module = module, .funcs = cm->funcs,
                    .optimize = optimize};
    whirl_error_t *err = NULL;
    for (uint32_t i = 0; i < module->nfuncs && !err; i++)
        err = compile_func(&c, i, &cm->funcs[i], &cm->arena);
    cm->tail_calls = c.tail_calls;
    vec_free(&c.code);
    vec_free(&c.srcmap);
    vec_free(&c.stack);
    vec_free(&c.frames);
    vec_free(&c.patches);
    vec_free(&c.local_slot);
    vec_free(&c.local_type);
    vec_free(&c.osr_loops);
    exn_free(&c.exn);
    if (err) {
        compiled_module_free(cm);
        return err;
    }
    *out = cm;
    return NULL;
}

void compiled_module_free(compiled_module_t *cm)
{
    if (!cm)
        return;
    arena_free(&cm->arena);
    free(cm);
}

uint32_t compiled_func_offset(const compiled_func_t *f, uint32_t pc)
{
    uint32_t lo = 0, hi = f->nsrcmap;
    if (hi == 0)
        return 0;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (f->srcmap[mid].pc <= pc)
            lo = mid;
        else
            hi = mid;
    }
    return f->srcmap[lo].offset;
}
