/* The interpreter: runs internal code (src/compile/ops.h).
 *
 * Dispatch is threaded: the interpreter runs code in its own form, where
 * each instruction's first word is the offset of its handler from a base
 * label instead of the op number the compiler wrote (exec_code_from_ops
 * rewrites one into the other), and every handler ends by jumping straight
 * to the next one (computed goto). Offsets rather than a table of handler
 * addresses indexed by op number: the table costs a second dependent load
 * on every dispatch (measured 3-16% slower on bench/ programs despite one
 * instruction less). Serialised modules store op numbers
 * (exec_code_to_ops), so they survive a rebuilt interp.c. Built with
 * -DWHIRL_DISPATCH_SWITCH=1, the same handlers compile as cases of a
 * switch, for debugging (the offsets are then the op numbers).
 *
 * Hot state lives in locals the compiler keeps in registers: pc, the frame
 * pointer fp, and the base and size of memory 0. Wasm-to-wasm calls do not
 * recurse in C: a call pushes a record (return pc, caller frame, function,
 * instance) on the store's frame stack, and the callee's frame starts at the
 * caller's argument slots, so arguments are never copied. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "compile/ops.h"
#include "exec/bulk.h"
#include "exec/exec.h"
#include "exec/numeric.h"
#include "exec/simd.h"
#include "runtime/atomic_wait.h"
#include "wasm/opcodes.h"
#include "util/error.h"

typedef struct exec_frame {
    const code_word_t *ret_pc; /* NULL: return to the host */
    slot_t *fp;
    const compiled_func_t *func;
    whirl_instance_t *inst;
} exec_frame_t;

struct exec_stack {
    slot_t *slots, *end;
    slot_t *top;           /* where the next activation's frame starts */
    exec_frame_t *frames;
    uint32_t max_frames;
    uint32_t depth;
    uint32_t activations;  /* nested host -> wasm entries */
    bool pooled;           /* slots and frames live in the store's pool slot */
};

enum { MAX_ACTIVATIONS = 200, MAX_BACKTRACE = 64 };

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

void exec_stack_free(struct exec_stack *st)
{
    if (!st)
        return;
    if (!st->pooled) {
        free(st->slots);
        free(st->frames);
    }
    free(st);
}

static struct exec_stack *exec_stack_get(whirl_store_t *store)
{
    if (store->exec)
        return store->exec;
    struct exec_stack *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    size_t bytes = store->engine->config.max_wasm_stack;
    size_t nslots = bytes / sizeof(slot_t);
    st->max_frames = (uint32_t)(bytes / 32 > 64 ? bytes / 32 : 64);
    size_t slot_bytes = nslots * sizeof(slot_t);
    uint8_t *pooled =
        store_exec_stack_memory(store, slot_bytes + st->max_frames * sizeof(exec_frame_t));
    if (pooled) {
        /* Slot bytes are a multiple of 8, which frame records need. */
        st->slots = (slot_t *)pooled;
        st->frames = (exec_frame_t *)(pooled + slot_bytes);
        st->pooled = true;
    } else {
        st->slots = malloc(slot_bytes);
        st->frames = malloc(st->max_frames * sizeof(exec_frame_t));
    }
    if (!st->slots || !st->frames) {
        exec_stack_free(st);
        return NULL;
    }
    st->end = st->slots + nslots;
    st->top = st->slots;
    store->exec = st;
    return st;
}

/* ------------------------------------------------------------ helpers */

#ifdef WHIRL_PROFILE_OPS
/* Developer build (cmake -DWHIRL_DISPATCH=switch -DWHIRL_PROFILE_OPS=ON):
 * counts executed ops and adjacent op pairs, written at exit to the file
 * named by $WHIRL_PROFILE_OPS_FILE, to find superinstruction candidates. */
#include <stdio.h>
static uint64_t profile_counts[IOP_COUNT];
static uint64_t profile_pairs[IOP_COUNT][IOP_COUNT];
static int profile_prev = -1;
static bool profile_registered;
static const char *const profile_names[IOP_COUNT] = {
#define IOP_X(name, words) [IOP_##name] = #name,
    IOPS
#undef IOP_X
};

static void profile_dump(void)
{
    const char *path = getenv("WHIRL_PROFILE_OPS_FILE");
    FILE *f = path ? fopen(path, "w") : NULL;
    if (!f)
        return;
    for (int a = 0; a < IOP_COUNT; a++) {
        if (profile_counts[a])
            fprintf(f, "op %s %llu\n", profile_names[a], (unsigned long long)profile_counts[a]);
        for (int b = 0; b < IOP_COUNT; b++)
            if (profile_pairs[a][b])
                fprintf(f, "pair %s %s %llu\n", profile_names[a], profile_names[b],
                        (unsigned long long)profile_pairs[a][b]);
    }
    fclose(f);
}

static void profile_op(iop_t op)
{
    if (!profile_registered) {
        atexit(profile_dump);
        profile_registered = true;
    }
    profile_counts[op]++;
    if (profile_prev >= 0)
        profile_pairs[profile_prev][op]++;
    profile_prev = (int)op;
}
#endif

static const char *func_name(const whirl_instance_t *inst, uint32_t index)
{
    const wasm_module_t *m = inst->module->wasm;
    if (m->func_names && index < wasm_module_func_count(m))
        return m->func_names[index];
    return NULL;
}

/* Builds the trap error: message with the innermost function and offset,
 * then the backtrace down to the activation's sentinel frame. `cur_named`:
 * the cause's backtrace has the current function already (its frame moved
 * into native code, which trapped). */
static whirl_error_t *make_trap(whirl_trap_code_t code, whirl_error_t *cause,
                                struct exec_stack *st, uint32_t base_depth,
                                const compiled_func_t *cur, whirl_instance_t *inst,
                                const code_word_t *pc, bool cur_named)
{
    uint32_t offset = compiled_func_offset(cur, (uint32_t)(pc - cur->code));
    const char *name = func_name(inst, cur->func_index);
    whirl_error_t *e;
    if (cause) {
        e = error_as_trap(cause);
    } else if (name) {
        e = error_trap(code, "in func %u <%s> at offset 0x%x", cur->func_index, name, offset);
    } else {
        e = error_trap(code, "in func %u at offset 0x%x", cur->func_index, offset);
    }
    if (!cur_named)
        error_add_frame_in(e, inst->module, cur->func_index, name, offset);
    uint32_t n = 1;
    for (uint32_t d = st->depth; d-- > base_depth + 1 && n < MAX_BACKTRACE; n++) {
        const exec_frame_t *f = &st->frames[d];
        uint32_t pcw = (uint32_t)(f->ret_pc - f->func->code) - 1;
        uint32_t off = compiled_func_offset(f->func, pcw);
        error_add_frame_in(e, f->inst->module, f->func->func_index,
                           func_name(f->inst, f->func->func_index), off);
    }
    st->depth = base_depth;
    return e;
}

/* Bulk memory instructions of multi-memory and memory64, kept out of the
 * dispatch loop (rare, and their locals would compete for registers with
 * the hot handlers'). Each returns 0 or the trap code. `w`: bit 0, the
 * destination is i64; bit 1, the source; bit 2, the length. */
static __attribute__((noinline)) whirl_trap_code_t
copy_between(whirl_memory_t *dm, whirl_memory_t *sm, uint32_t w, const slot_t *d_, const slot_t *s_,
             const slot_t *n_, const _Atomic uint64_t *epoch, uint64_t deadline)
{
    uint64_t d = w & 1 ? d_->u64 : d_->u32, s = w & 2 ? s_->u64 : s_->u32,
             n = w & 4 ? n_->u64 : n_->u32;
    /* Sizes are at most 4 GiB: no sum of values below that overflows. */
    if (d > dm->size || s > sm->size || n > dm->size || d + n > dm->size || s + n > sm->size)
        return WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS;
    if (!exec_bulk_move(dm->base + d, sm->base + s, n, epoch, deadline))
        return WHIRL_TRAP_INTERRUPT;
    return 0;
}

static __attribute__((noinline)) whirl_trap_code_t
fill64(uint8_t *mem, uint64_t mem_size, uint64_t d, uint8_t v, uint64_t n,
       const _Atomic uint64_t *epoch, uint64_t deadline)
{
    if (d > mem_size || n > mem_size || d + n > mem_size)
        return WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS;
    if (!exec_bulk_fill(mem + d, v, n, epoch, deadline))
        return WHIRL_TRAP_INTERRUPT;
    return 0;
}

static __attribute__((noinline)) whirl_trap_code_t
init64(whirl_instance_t *inst, uint32_t segment, uint8_t *mem, uint64_t mem_size, uint64_t d,
       uint64_t s, uint64_t n, const _Atomic uint64_t *epoch, uint64_t deadline)
{
    const wasm_data_t *seg = &inst->module->wasm->datas[segment];
    uint64_t len = inst->data_dropped[segment] ? 0 : seg->len;
    if (s + n > len || d > mem_size || d + n > mem_size)
        return WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS;
    if (!exec_bulk_move(mem + d, seg->bytes + s, n, epoch, deadline))
        return WHIRL_TRAP_INTERRUPT;
    return 0;
}

/* Calls a host function with arguments in `slots`, writing results there. */
static whirl_error_t *call_host(whirl_store_t *store, whirl_func_t *f, whirl_instance_t *caller_inst,
                                slot_t *slots)
{
    const wasm_functype_t *t = f->type;
    whirl_val_t small[16];
    whirl_val_t *vals = small;
    size_t need = (size_t)t->nparams + t->nresults;
    if (need > 16) {
        vals = malloc(need * sizeof *vals);
        if (!vals)
            return error_oom();
    }
    whirl_val_t *args = vals, *results = vals + t->nparams;
    uint32_t s = 0;
    for (uint32_t i = 0; i < t->nparams; i++) {
        val_from_slots(&args[i], t->params[i], &slots[s]);
        s += slots_of(t->params[i]);
    }
    for (uint32_t i = 0; i < t->nresults; i++) {
        memset(&results[i], 0, sizeof results[i]);
        results[i].kind = valtype_to_kind(t->results[i]);
    }
    struct whirl_caller caller = {store, caller_inst};
    /* Wasm the host function calls is a new call into wasm (samples). */
    sample_link_t *outer = store->sample_outer;
    store->sample_outer = NULL;
    whirl_error_t *err = f->callback(f->env, &caller, args, t->nparams, results, t->nresults);
    store->sample_outer = outer;
    if (!err) {
        s = 0;
        for (uint32_t i = 0; i < t->nresults; i++) {
            if (results[i].kind != valtype_to_kind(t->results[i])) {
                err = error_trap(WHIRL_TRAP_HOST, "host function returned a %s for result %u, "
                                 "expected %s", wasm_valtype_name(valkind_to_type(results[i].kind)),
                                 i, wasm_valtype_name(t->results[i]));
                break;
            }
            val_to_slots(&results[i], &slots[s]);
            s += slots_of(t->results[i]);
        }
    }
    if (vals != small)
        free(vals);
    return err ? error_as_trap(err) : NULL;
}

/* Value of element `i` of segment `seg`: its constant expression evaluated
 * in `inst` (a function reference, null, or an imported global's value). */
static void *elem_item(whirl_instance_t *inst, const wasm_elem_t *seg, uint32_t i)
{
    const wasm_const_expr_t *e = &seg->items[i];
    if (e->count == 0)
        return NULL;
    const wasm_const_instr_t *in = &e->instrs[0];
    switch (in->op) {
    case WASM_OP_REF_FUNC:
        return inst->vm.funcs[in->imm.index];
    case WASM_OP_GLOBAL_GET:
        return inst->vm.globals[in->imm.index]->value.slot.ref;
    default:
        return NULL;
    }
}

/* The frames of an interpreter activation (base_depth) at `depth`, the
 * running function `cur` at `pc` first unless `with_cur` is false,
 * innermost first, at most `max`. */
static size_t interp_frames(const struct exec_stack *st, uint32_t base_depth, uint32_t depth,
                            const compiled_func_t *cur, const whirl_instance_t *inst,
                            const code_word_t *pc, bool with_cur, whirl_sample_frame_t *out,
                            size_t max)
{
    size_t n = 0;
    if (with_cur && n < max)
        out[n++] = (whirl_sample_frame_t){inst->module, cur->func_index,
                                          func_name(inst, cur->func_index),
                                          compiled_func_offset(cur, (uint32_t)(pc - cur->code))};
    for (uint32_t d = depth; d-- > base_depth + 1 && n < max;) {
        const exec_frame_t *f = &st->frames[d];
        uint32_t pcw = (uint32_t)(f->ret_pc - f->func->code) - 1;
        out[n++] = (whirl_sample_frame_t){f->inst->module, f->func->func_index,
                                          func_name(f->inst, f->func->func_index),
                                          compiled_func_offset(f->func, pcw)};
    }
    return n;
}

/* An activation that entered native code (sample_link_t): its frames as
 * they stood at the call, `cur` left out when native code runs the rest
 * of its invocation (on-stack replacement names it). */
typedef struct interp_link {
    sample_link_t link;
    const struct exec_stack *st;
    uint32_t base_depth, depth;
    const compiled_func_t *cur;
    const whirl_instance_t *inst;
    const code_word_t *pc;
    bool with_cur;
} interp_link_t;

static size_t interp_link_frames(const sample_link_t *self, whirl_sample_frame_t *out, size_t max)
{
    const interp_link_t *l = (const interp_link_t *)self;
    return interp_frames(l->st, l->base_depth, l->depth, l->cur, l->inst, l->pc, l->with_cur, out,
                         max);
}

#define INTERP_LINK(name, with)                                                                   \
    interp_link_t name = {{NULL, interp_link_frames}, st, base_depth, st->depth, cur, inst, pc,   \
                          with};                                                                  \
    sample_link_push(store, &name.link)

/* Records the current activation's call stack for the store's sampler
 * when the epoch check fired for a sample rather than the deadline;
 * returns false for the deadline. Cold: reached once per sample period. */
static __attribute__((noinline, cold)) bool
sample_stack(whirl_store_t *store, const struct exec_stack *st, uint32_t base_depth,
             const compiled_func_t *cur, const whirl_instance_t *inst, const code_word_t *pc)
{
    if (!store_epoch_reached(store, atomic_load_explicit(&store->engine->epoch,
                                                         memory_order_relaxed)))
        return false;
    store_sample_taken(store, interp_frames(st, base_depth, st->depth, cur, inst, pc, true,
                                            store->sampler->frames, SAMPLE_MAX_FRAMES));
    return true;
}

#include "exec/interp_exn.inc"

/* ---------------------------------------------------------- dispatch */

#ifdef WHIRL_DISPATCH_SWITCH
#define VMCASE(name) case IOP_##name:
#define NEXT() goto dispatch
#else
#define VMCASE(name) L_##name:
#define NEXT() goto *(void *)((char *)&&L_UNREACHABLE + (int32_t)*pc)
#endif


#define S(i) fp[pc[i]]
#define K64(i) ((uint64_t)pc[i] | (uint64_t)pc[(i) + 1] << 32)

/* Reloads memory 0 from the instance context: its base never moves (the
 * same as vm.memory0_base), its size lives in the (possibly shared) memory
 * object. */
#define RELOAD_MEM()                                                       \
    do {                                                                   \
        mem_obj = inst->vm.memory0;                                        \
        if (mem_obj) {                                                     \
            mem = mem_obj->base;                                           \
            mem_size = __atomic_load_n(&mem_obj->size, __ATOMIC_RELAXED);  \
        }                                                                  \
    } while (0)

/* A bounds check failed against the cached size: a shared memory may have
 * grown meanwhile on another thread (it never shrinks and its base never
 * moves), so reload its size and let the access through if it fits now.
 * Only on the failing path: in-bounds accesses pay nothing. */
#define SHARED_GREW(need)                                                           \
    (mem_obj && mem_obj->shared &&                                                  \
     (mem_size = __atomic_load_n(&mem_obj->size, __ATOMIC_ACQUIRE)) >= (need))

/* The epoch check: at function entry and on every backward branch (every
 * loop iteration passes one). */
#define EPOCH_CHECK()                                                                  \
    do {                                                                               \
        if (UNLIKELY(atomic_load_explicit(epoch, memory_order_relaxed) >= deadline))    \
            goto epoch_reached;                                                        \
    } while (0)

/* The auto tier's counter of function `f` (runtime/tier.c): nonzero only
 * while the function is a candidate, counting down calls and loop
 * back-edges; reaching zero queues it for native compilation. Relaxed
 * loads and stores, not read-modify-write: a lost tick between threads
 * only delays the compilation. */
#define HOT_TICK(f)                                                                     \
    do {                                                                                \
        compiled_func_t *hf_ = (compiled_func_t *)(f);                                  \
        uint32_t h_ = atomic_load_explicit(&hf_->hotness, memory_order_relaxed);        \
        if (UNLIKELY(h_ != 0)) {                                                        \
            atomic_store_explicit(&hf_->hotness, h_ - 1, memory_order_relaxed);         \
            if (h_ == 1)                                                                \
                tier_hot(inst, hf_);                                                    \
        }                                                                               \
    } while (0)

/* HOT_TICK at a loop's back-edge: reaching zero asks the tier for native
 * code to move this frame into (loop_hot). */
#define LOOP_TICK(f)                                                                    \
    do {                                                                                \
        compiled_func_t *hf_ = (compiled_func_t *)(f);                                  \
        uint32_t h_ = atomic_load_explicit(&hf_->hotness, memory_order_relaxed);        \
        if (UNLIKELY(h_ != 0)) {                                                        \
            atomic_store_explicit(&hf_->hotness, h_ - 1, memory_order_relaxed);         \
            if (h_ == 1)                                                                \
                goto loop_hot;                                                          \
        }                                                                               \
    } while (0)

/* The deadline was reached: trap, or run on to the next deadline
 * (store_epoch_expired yields first when the store's resumable call asked
 * to yield at the end of each epoch slice; the host may have grown memory
 * meanwhile). Off the hot path: only taken when the epoch check fires. */
#define EPOCH_EXPIRED()                                     \
    do {                                                    \
        deadline = store_epoch_expired(store);              \
        if (!deadline)                                      \
            TRAP(WHIRL_TRAP_INTERRUPT);                     \
        RELOAD_MEM();                                       \
    } while (0)

/* Bulk operations cannot stop midway for a sample or to yield at the end
 * of an epoch slice, so they run on to the store's hard deadline. */
#define HARD_DEADLINE (store->epoch_hard_deadline)

/* Takes a branch of `off` words; backward branches (including a branch to
 * itself: `loop br 0`) check the epoch and tick the hotness counter. */
#define JUMP(off)                          \
    do {                                   \
        int32_t off_ = (int32_t)(off);     \
        pc += off_;                        \
        if (UNLIKELY(off_ <= 0)) {         \
            EPOCH_CHECK();                 \
            LOOP_TICK(cur);                \
        }                                  \
        NEXT();                            \
    } while (0)

/* Zeroes a callee's declared locals (a short loop: most functions have
 * few, and a memset call would cost more). */
#define ZERO_LOCALS(f, frame)                                         \
    do {                                                              \
        slot_t *l_ = (frame) + (f)->param_slots;                      \
        for (uint32_t i_ = 0, n_ = (f)->local_slots; i_ < n_; i_++)   \
            l_[i_].u64 = 0;                                           \
    } while (0)

#define TRAP(code)            \
    do {                      \
        trap_code = (code);   \
        goto trap;            \
    } while (0)

/* Labels are visible only inside their function, so the function that
 * holds the handlers is also the one that can say where they are: with
 * INTERP_LIST_HANDLERS it writes each op's handler offset to `offsets`
 * and returns. */
typedef enum interp_mode { INTERP_RUN, INTERP_LIST_HANDLERS } interp_mode_t;

static whirl_error_t *interp_body(interp_mode_t mode, int32_t *offsets, whirl_store_t *store,
                                  struct exec_stack *st, whirl_func_t *func, slot_t *fp)
{
    if (UNLIKELY(mode == INTERP_LIST_HANDLERS)) {
#ifndef WHIRL_DISPATCH_SWITCH
        static const void *const labels[IOP_COUNT] = {
#define IOP_X(name, words) [IOP_##name] = &&L_##name,
            IOPS
#undef IOP_X
        };
        for (int i = 0; i < IOP_COUNT; i++)
            offsets[i] = (int32_t)((const char *)labels[i] - (const char *)&&L_UNREACHABLE);
#else
        for (int i = 0; i < IOP_COUNT; i++)
            offsets[i] = i;
#endif
        return NULL;
    }

    whirl_instance_t *inst = func->instance;
    const compiled_func_t *cur = func->code;
    const code_word_t *pc = cur->code;
    whirl_memory_t *mem_obj = NULL;
    uint8_t *mem = NULL;
    uint64_t mem_size = 0;
    /* The engine's counter and the store's deadline (what vm.epoch and
     * vm.epoch_deadline point to), read from the store: read through the
     * context, GCC kept one more value live across the loop and spilled
     * the memory base (+1-3% instructions on bench/ programs). */
    const _Atomic uint64_t *epoch = &store->engine->epoch;
    uint64_t deadline = store->epoch_deadline;
    whirl_trap_code_t trap_code = WHIRL_TRAP_UNREACHABLE;
    whirl_error_t *cause = NULL;
    bool cur_named = false; /* make_trap's */
    uint32_t base_depth = st->depth;

    /* Sentinel: returning to it leaves the interpreter. */
    if (st->depth >= st->max_frames || fp + cur->frame_slots > st->end)
        return error_trap(WHIRL_TRAP_STACK_EXHAUSTED, "entering func %u", cur->func_index);
    st->frames[st->depth++] = (exec_frame_t){NULL, NULL, NULL, NULL};
    HOT_TICK(cur);
    ZERO_LOCALS(cur, fp);
    /* The running instance's compiled functions: CALL names them by index. */
    const compiled_func_t *mfuncs = inst->vm.code;
    RELOAD_MEM();
    EPOCH_CHECK();

    /* Locals used by the call sequence. */
    whirl_func_t *callee_obj;
    const compiled_func_t *callee;
    whirl_instance_t *callee_inst;
    slot_t *nfp;
    const code_word_t *ret_pc;
    uint32_t tail_slots;
    whirl_exn_t *exn; /* being thrown */

#ifdef WHIRL_DISPATCH_SWITCH
dispatch:
#ifdef WHIRL_PROFILE_OPS
    profile_op((iop_t)*pc);
#endif
    switch ((iop_t)*pc) {
#else
    NEXT();
#endif

    VMCASE(UNREACHABLE) TRAP(WHIRL_TRAP_UNREACHABLE);

    VMCASE(BR) JUMP(pc[1]);
    VMCASE(BR_IF) if (S(1).u32) JUMP(pc[2]); pc += 3; NEXT();
    VMCASE(BR_UNLESS) if (!S(1).u32) JUMP(pc[2]); pc += 3; NEXT();
    VMCASE(BR_IF_EQZ64) if (!S(1).u64) JUMP(pc[2]); pc += 3; NEXT();
    VMCASE(BR_IF_NEZ64) if (S(1).u64) JUMP(pc[2]); pc += 3; NEXT();
    VMCASE(BR_TABLE) {
        uint32_t i = S(1).u32, n = pc[2];
        JUMP(pc[3 + (i < n ? i : n)]);
    }
    VMCASE(BR_TABLE_LOAD_AS) {
        uint64_t ea = (uint64_t)(uint32_t)(S(1).u32 + (S(2).u32 << pc[3])) + pc[4];
        if (UNLIKELY(ea + 4 > mem_size) && !SHARED_GREW(ea + 4))
            TRAP(WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS);
        uint32_t i, n = pc[5];
        memcpy(&i, mem + ea, 4);
        JUMP(pc[6 + (i < n ? i : n)]);
    }
    VMCASE(CALL) {
        callee = &mfuncs[pc[1]];
        nfp = fp + pc[2];
        ret_pc = pc + 3;
        callee_inst = inst;
    enter_wasm:
        if (UNLIKELY(native_entry_of(callee) != NULL))
            goto call_native;
        HOT_TICK(callee);
        if (UNLIKELY(st->depth >= st->max_frames || nfp + callee->frame_slots > st->end))
            TRAP(WHIRL_TRAP_STACK_EXHAUSTED);
        st->frames[st->depth++] = (exec_frame_t){ret_pc, fp, cur, inst};
        ZERO_LOCALS(callee, nfp);
        fp = nfp;
        cur = callee;
        pc = callee->code;
        EPOCH_CHECK();
        NEXT();
    }
    VMCASE(CALL_IMPORT) {
        callee_obj = inst->vm.funcs[pc[1]];
        nfp = fp + pc[2];
        ret_pc = pc + 3;
    call_object:
        if (callee_obj->kind == FUNC_WASM) {
            callee = callee_obj->code;
            callee_inst = callee_obj->instance;
            if (UNLIKELY(native_entry_of(callee) != NULL))
                goto call_native;
            if (callee_obj->instance != inst) {
                /* Enter the callee's instance; RETURN restores ours. */
                if (UNLIKELY(st->depth >= st->max_frames ||
                             nfp + callee->frame_slots > st->end))
                    TRAP(WHIRL_TRAP_STACK_EXHAUSTED);
                st->frames[st->depth++] = (exec_frame_t){ret_pc, fp, cur, inst};
                ZERO_LOCALS(callee, nfp);
                fp = nfp;
                cur = callee;
                inst = callee_obj->instance;
                mfuncs = inst->vm.code;
                pc = callee->code;
                RELOAD_MEM();
                EPOCH_CHECK();
                NEXT();
            }
            goto enter_wasm;
        }
        slot_t *saved_top = st->top;
        st->top = fp + cur->frame_slots;
        whirl_error_t *err = call_host(store, callee_obj, inst, nfp);
        st->top = saved_top;
        if (UNLIKELY(err != NULL)) {
            /* An exception from the host (or from wasm it called) goes on
             * unwinding here. */
            whirl_exn_t *thrown;
            if (whirl_error_is_exception(err, &thrown) && thrown->store == store) {
                whirl_error_delete(err);
                exn = thrown;
                goto throw_exn;
            }
            cause = err;
            goto trap;
        }
        deadline = store->epoch_deadline;
        RELOAD_MEM();
        pc = ret_pc;
        NEXT();
    }
    /* A callee with native code (tier.c): called through its entry
     * trampoline with the arguments in place, as a host function is. */
    call_native: {
        slot_t *saved_top = st->top;
        st->top = fp + cur->frame_slots;
        INTERP_LINK(link, true);
        whirl_error_t *err = native_enter(store, &callee_inst->vm, native_entry_of(callee), nfp);
        sample_link_pop(store, &link.link);
        st->top = saved_top;
        if (UNLIKELY(err != NULL)) {
            /* An exception thrown below native code (in wasm it called
             * through the runtime; native code holds no handlers) went
             * through the native frames as an error: it goes on unwinding
             * here, as one from a host function does. */
            whirl_exn_t *thrown;
            if (whirl_error_is_exception(err, &thrown) && thrown->store == store) {
                whirl_error_delete(err);
                exn = thrown;
                goto throw_exn;
            }
            cause = err;
            goto trap;
        }
        deadline = store->epoch_deadline;
        RELOAD_MEM();
        pc = ret_pc;
        NEXT();
    }
    VMCASE(CALL_INDIRECT) {
        whirl_table_t *t = inst->vm.tables[pc[1]];
        const wasm_functype_t *want = &inst->vm.types[pc[2]];
        uint32_t i = S(3).u32;
        if (UNLIKELY(i >= t->size))
            TRAP(WHIRL_TRAP_TABLE_OUT_OF_BOUNDS);
        callee_obj = t->elems[i];
        if (UNLIKELY(!callee_obj))
            TRAP(WHIRL_TRAP_INDIRECT_CALL_NULL);
        if (UNLIKELY(callee_obj->type != want && !functype_equal(callee_obj->type, want)))
            TRAP(WHIRL_TRAP_INDIRECT_CALL_TYPE);
        nfp = fp + pc[4];
        ret_pc = pc + 5;
        goto call_object;
    }
    VMCASE(RETURN1) fp[0] = S(1); goto do_return;
    VMCASE(RETURN) do_return: {
        exec_frame_t *f = &st->frames[--st->depth];
        if (UNLIKELY(!f->ret_pc))
            return NULL;
        pc = f->ret_pc;
        fp = f->fp;
        cur = f->func;
        /* Within one instance the cached memory size is already current:
         * memory.grow and host calls reload it where they happen. */
        if (f->inst != inst) {
            inst = f->inst;
            mfuncs = inst->vm.code;
            RELOAD_MEM();
        }
        NEXT();
    }

    /* Multi-memory: the instruction between these two works on memory
     * pc[1] (compile.c use_memory). */
    VMCASE(USE_MEMORY) {
        mem_obj = inst->vm.memories[pc[1]];
        mem = mem_obj->base;
        mem_size = __atomic_load_n(&mem_obj->size, __ATOMIC_RELAXED);
        pc += 2;
        NEXT();
    }
    VMCASE(USE_MEMORY0) RELOAD_MEM(); pc += 1; NEXT();
    VMCASE(MEMORY_COPY_BETWEEN) {
        whirl_trap_code_t t = copy_between(inst->vm.memories[pc[4]], inst->vm.memories[pc[5]],
                                           pc[6], &S(1), &S(2), &S(3), epoch, deadline);
        if (UNLIKELY(t))
            TRAP(t);
        pc += 7;
        NEXT();
    }
    /* memory64 (compile.c address64): memories stay within 4 GiB. */
    VMCASE(MEM64_ADDR) {
        uint64_t ea;
        if (UNLIKELY(__builtin_add_overflow(S(2).u64, K64(3), &ea) || ea > UINT32_MAX))
            TRAP(WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS);
        S(1).u64 = ea;
        pc += 5;
        NEXT();
    }
    VMCASE(MEMORY_GROW64) {
        uint64_t delta = S(2).u64;
        int64_t old = delta > 65536 ? -1 : memory_grow(mem_obj, delta);
        S(1).i64 = old;
        RELOAD_MEM();
        pc += 3;
        NEXT();
    }
    /* 64-bit tables (compile.c table64_narrow): tables stay below 2^32
     * elements. */
    VMCASE(TABLE64_INDEX) {
        uint64_t v = S(2).u64;
        if (UNLIKELY(v > UINT32_MAX))
            TRAP(WHIRL_TRAP_TABLE_OUT_OF_BOUNDS);
        S(1).u64 = v;
        pc += 3;
        NEXT();
    }
    VMCASE(TABLE64_DELTA) {
        uint64_t v = S(2).u64;
        S(1).u64 = v > UINT32_MAX ? UINT32_MAX : v;
        pc += 3;
        NEXT();
    }
    VMCASE(MEMORY_FILL64) {
        whirl_trap_code_t t = fill64(mem, mem_size, S(1).u64, (uint8_t)S(2).u32, S(3).u64, epoch,
                                     deadline);
        if (UNLIKELY(t))
            TRAP(t);
        pc += 4;
        NEXT();
    }
    VMCASE(MEMORY_INIT64) {
        whirl_trap_code_t t = init64(inst, pc[1], mem, mem_size, S(2).u64, S(3).u32, S(4).u32,
                                     epoch, deadline);
        if (UNLIKELY(t))
            TRAP(t);
        pc += 5;
        NEXT();
    }

    /* Tail calls: the callee takes over this frame (same fp, same frame
     * record, so the same return), its arguments moved down to slot 0; the
     * frame stack does not grow and the slot stack only by the difference
     * of the frames' sizes. */
    VMCASE(RETURN_CALL) {
        callee = &mfuncs[pc[1]];
        if (UNLIKELY(fp + callee->frame_slots > st->end))
            TRAP(WHIRL_TRAP_STACK_EXHAUSTED);
        memmove(fp, fp + pc[2], pc[3] * sizeof *fp);
    tail_enter_wasm:
        ZERO_LOCALS(callee, fp);
        cur = callee;
        pc = callee->code;
        if (UNLIKELY(atomic_load_explicit(epoch, memory_order_relaxed) >= deadline))
            TRAP(WHIRL_TRAP_INTERRUPT);
        NEXT();
    }
    VMCASE(RETURN_CALL_IMPORT) {
        callee_obj = inst->vm.funcs[pc[1]];
        nfp = fp + pc[2];
        tail_slots = pc[3];
    tail_call_object:
        if (callee_obj->kind == FUNC_WASM) {
            callee = callee_obj->code;
            if (UNLIKELY(fp + callee->frame_slots > st->end))
                TRAP(WHIRL_TRAP_STACK_EXHAUSTED);
            memmove(fp, nfp, tail_slots * sizeof *fp);
            if (callee_obj->instance != inst) {
                /* The frame record keeps the caller's instance for RETURN. */
                inst = callee_obj->instance;
                mfuncs = inst->vm.code;
                RELOAD_MEM();
            }
            goto tail_enter_wasm;
        }
        /* A host callee: called on this frame, then this frame returns. */
        memmove(fp, nfp, tail_slots * sizeof *fp);
        slot_t *saved_top = st->top;
        st->top = fp + cur->frame_slots;
        whirl_error_t *err = call_host(store, callee_obj, inst, fp);
        st->top = saved_top;
        if (UNLIKELY(err != NULL)) {
            /* An exception: raised in the caller (this frame is gone). */
            whirl_exn_t *thrown;
            if (whirl_error_is_exception(err, &thrown) && thrown->store == store &&
                st->frames[st->depth - 1].ret_pc) {
                whirl_error_delete(err);
                exn = thrown;
                const exec_frame_t *f = &st->frames[--st->depth];
                pc = f->ret_pc - 1;
                fp = f->fp;
                cur = f->func;
                inst = f->inst;
                goto throw_exn;
            }
            cause = err;
            goto trap;
        }
        deadline = store->epoch_deadline;
        RELOAD_MEM();
        goto do_return;
    }
    VMCASE(RETURN_CALL_INDIRECT) {
        whirl_table_t *t = inst->vm.tables[pc[1]];
        const wasm_functype_t *want = &inst->vm.types[pc[2]];
        uint32_t i = S(3).u32;
        if (UNLIKELY(i >= t->size))
            TRAP(WHIRL_TRAP_TABLE_OUT_OF_BOUNDS);
        callee_obj = t->elems[i];
        if (UNLIKELY(!callee_obj))
            TRAP(WHIRL_TRAP_INDIRECT_CALL_NULL);
        if (UNLIKELY(callee_obj->type != want && !functype_equal(callee_obj->type, want)))
            TRAP(WHIRL_TRAP_INDIRECT_CALL_TYPE);
        nfp = fp + pc[4];
        tail_slots = pc[5];
        goto tail_call_object;
    }

    VMCASE(COPY) S(1) = S(2); pc += 3; NEXT();
    VMCASE(COPY128) fp[pc[1]] = fp[pc[2]]; fp[pc[1] + 1] = fp[pc[2] + 1]; pc += 3; NEXT();
    VMCASE(COPY2) S(1) = S(2); S(3) = S(4); pc += 5; NEXT();
    VMCASE(CONST32) S(1).u32 = pc[2]; pc += 3; NEXT();
    VMCASE(CONST64) S(1).u64 = K64(2); pc += 4; NEXT();
    VMCASE(SELECT) S(1) = S(2).u32 ? S(3) : S(4); pc += 5; NEXT();
    VMCASE(SELECT128) {
        uint32_t src = S(2).u32 ? pc[3] : pc[4];
        slot_t lo = fp[src], hi = fp[src + 1];
        fp[pc[1]] = lo;
        fp[pc[1] + 1] = hi;
        pc += 5;
        NEXT();
    }

    VMCASE(GLOBAL_GET) S(1) = inst->vm.globals[pc[2]]->value.slot; pc += 3; NEXT();
    VMCASE(GLOBAL_SET) inst->vm.globals[pc[2]]->value.slot = S(1); pc += 3; NEXT();
    VMCASE(GLOBAL_GET128) memcpy(&fp[pc[1]], inst->vm.globals[pc[2]]->value.v128, 16); pc += 3; NEXT();
    VMCASE(GLOBAL_SET128) memcpy(inst->vm.globals[pc[2]]->value.v128, &fp[pc[1]], 16); pc += 3; NEXT();

    VMCASE(MEMORY_SIZE) {
        if (UNLIKELY(mem_obj->shared)) /* another thread may have grown it */
            mem_size = __atomic_load_n(&mem_obj->size, __ATOMIC_ACQUIRE);
        S(1).u32 = (uint32_t)(mem_size / WHIRL_PAGE_SIZE);
        pc += 2;
        NEXT();
    }
    VMCASE(MEMORY_GROW) {
        int64_t old = memory_grow(mem_obj, S(2).u32);
        S(1).i32 = (int32_t)old;
        RELOAD_MEM();
        pc += 3;
        NEXT();
    }
    VMCASE(MEMORY_FILL) {
        uint64_t d = S(1).u32, n = S(3).u32;
        if (UNLIKELY(d + n > mem_size) && !SHARED_GREW(d + n))
            TRAP(WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS);
        if (UNLIKELY(!exec_bulk_fill(mem + d, (uint8_t)S(2).u32, n, epoch, HARD_DEADLINE)))
            TRAP(WHIRL_TRAP_INTERRUPT);
        pc += 4;
        NEXT();
    }
    VMCASE(MEMORY_COPY) {
        uint64_t d = S(1).u32, s = S(2).u32, n = S(3).u32;
        if (UNLIKELY(d + n > mem_size || s + n > mem_size) &&
            !SHARED_GREW(d > s ? d + n : s + n))
            TRAP(WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS);
        if (UNLIKELY(!exec_bulk_move(mem + d, mem + s, n, epoch, HARD_DEADLINE)))
            TRAP(WHIRL_TRAP_INTERRUPT);
        pc += 4;
        NEXT();
    }
    VMCASE(MEMORY_INIT) {
        const wasm_data_t *seg = &inst->module->wasm->datas[pc[1]];
        uint64_t len = inst->data_dropped[pc[1]] ? 0 : seg->len;
        uint64_t d = S(2).u32, s = S(3).u32, n = S(4).u32;
        if (UNLIKELY(s + n > len || d + n > mem_size) && (s + n > len || !SHARED_GREW(d + n)))
            TRAP(WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS);
        if (UNLIKELY(!exec_bulk_move(mem + d, seg->bytes + s, n, epoch, HARD_DEADLINE)))
            TRAP(WHIRL_TRAP_INTERRUPT);
        pc += 5;
        NEXT();
    }
    VMCASE(DATA_DROP) inst->data_dropped[pc[1]] = true; pc += 2; NEXT();

    VMCASE(TABLE_GET) {
        whirl_table_t *t = inst->vm.tables[pc[2]];
        uint32_t i = S(3).u32;
        if (UNLIKELY(i >= t->size))
            TRAP(WHIRL_TRAP_TABLE_OUT_OF_BOUNDS);
        S(1).ref = t->elems[i];
        pc += 4;
        NEXT();
    }
    VMCASE(TABLE_SET) {
        whirl_table_t *t = inst->vm.tables[pc[1]];
        uint32_t i = S(2).u32;
        if (UNLIKELY(i >= t->size))
            TRAP(WHIRL_TRAP_TABLE_OUT_OF_BOUNDS);
        t->elems[i] = S(3).ref;
        pc += 4;
        NEXT();
    }
    VMCASE(TABLE_SIZE) S(1).u32 = inst->vm.tables[pc[2]]->size; pc += 3; NEXT();
    VMCASE(TABLE_GROW) {
        int64_t old = table_grow_until(inst->vm.tables[pc[2]], S(4).u32, S(3).ref, epoch, HARD_DEADLINE);
        if (UNLIKELY(old == TABLE_GROW_INTERRUPTED))
            TRAP(WHIRL_TRAP_INTERRUPT);
        S(1).i32 = (int32_t)old;
        pc += 5;
        NEXT();
    }
    VMCASE(TABLE_FILL) {
        whirl_table_t *t = inst->vm.tables[pc[1]];
        uint64_t i = S(2).u32, n = S(4).u32;
        void *v = S(3).ref;
        if (UNLIKELY(i + n > t->size))
            TRAP(WHIRL_TRAP_TABLE_OUT_OF_BOUNDS);
        if (UNLIKELY(!exec_bulk_fill_refs(t->elems + i, v, n, epoch, HARD_DEADLINE)))
            TRAP(WHIRL_TRAP_INTERRUPT);
        pc += 5;
        NEXT();
    }
    VMCASE(TABLE_COPY) {
        whirl_table_t *dt = inst->vm.tables[pc[1]], *stab = inst->vm.tables[pc[2]];
        uint64_t d = S(3).u32, s = S(4).u32, n = S(5).u32;
        if (UNLIKELY(d + n > dt->size || s + n > stab->size))
            TRAP(WHIRL_TRAP_TABLE_OUT_OF_BOUNDS);
        if (UNLIKELY(!exec_bulk_move(dt->elems + d, stab->elems + s, n * sizeof(void *), epoch,
                                     HARD_DEADLINE)))
            TRAP(WHIRL_TRAP_INTERRUPT);
        pc += 6;
        NEXT();
    }
    VMCASE(TABLE_INIT) {
        const wasm_elem_t *seg = &inst->module->wasm->elems[pc[1]];
        whirl_table_t *t = inst->vm.tables[pc[2]];
        uint64_t len = inst->elem_dropped[pc[1]] ? 0 : seg->count;
        uint64_t d = S(3).u32, s = S(4).u32, n = S(5).u32;
        if (UNLIKELY(s + n > len || d + n > t->size))
            TRAP(WHIRL_TRAP_TABLE_OUT_OF_BOUNDS);
        /* Each item is evaluated: the epoch is checked per chunk of items. */
        const uint64_t chunk = BULK_CHUNK_BYTES / sizeof(void *);
        for (uint64_t j = 0; j < n; j++) {
            if (UNLIKELY(j % chunk == 0) && n > BULK_SMALL_BYTES / sizeof(void *) &&
                epoch_reached(epoch, HARD_DEADLINE))
                TRAP(WHIRL_TRAP_INTERRUPT);
            t->elems[d + j] = elem_item(inst, seg, (uint32_t)(s + j));
        }
        pc += 6;
        NEXT();
    }
    VMCASE(ELEM_DROP) inst->elem_dropped[pc[1]] = true; pc += 2; NEXT();

    VMCASE(REF_IS_NULL) S(1).u32 = S(2).ref == NULL; pc += 3; NEXT();
    VMCASE(REF_FUNC) S(1).ref = inst->vm.funcs[pc[2]]; pc += 3; NEXT();
    VMCASE(TRAP_IF_NULL) {
        if (__builtin_expect(S(1).ref == NULL, 0))
            TRAP(WHIRL_TRAP_NULL_REFERENCE);
        pc += 2;
        NEXT();
    }
    /* Typed function references: the operand is the callee, whose type
     * the validator has checked. */
    VMCASE(CALL_REF) {
        callee_obj = S(1).ref;
        if (UNLIKELY(!callee_obj))
            TRAP(WHIRL_TRAP_NULL_REFERENCE);
        nfp = fp + pc[2];
        ret_pc = pc + 3;
        goto call_object;
    }
    VMCASE(RETURN_CALL_REF) {
        callee_obj = S(1).ref;
        if (UNLIKELY(!callee_obj))
            TRAP(WHIRL_TRAP_NULL_REFERENCE);
        nfp = fp + pc[2];
        tail_slots = pc[3];
        goto tail_call_object;
    }

    /* ---- numeric ---- */

#define UN(name, rf, af, expr) \
    VMCASE(name) { __auto_type a = S(2).af; S(1).rf = (expr); pc += 3; NEXT(); }

    UN(I32_EQZ, u32, u32, a == 0)
    UN(I64_EQZ, u32, u64, a == 0)
    UN(I32_CLZ, u32, u32, clz32(a))
    UN(I32_CTZ, u32, u32, ctz32(a))
    UN(I32_POPCNT, u32, u32, (uint32_t)__builtin_popcount(a))
    UN(I64_CLZ, u64, u64, clz64(a))
    UN(I64_CTZ, u64, u64, ctz64(a))
    UN(I64_POPCNT, u64, u64, (uint64_t)__builtin_popcountll(a))
    UN(F32_ABS, f32, f32, f32_bits_op(a, 0x7fffffffu, 0))
    UN(F32_NEG, f32, f32, f32_bits_op(a, 0xffffffffu, 0x80000000u))
    /* glibc's rounding functions return a signalling NaN as is; Wasm wants
     * it quieted, which a + a does. */
    UN(F32_CEIL, f32, f32, isnan(a) ? a + a : ceilf(a))
    UN(F32_FLOOR, f32, f32, isnan(a) ? a + a : floorf(a))
    UN(F32_TRUNC, f32, f32, isnan(a) ? a + a : truncf(a))
    UN(F32_NEAREST, f32, f32, isnan(a) ? a + a : nearbyintf(a))
    UN(F32_SQRT, f32, f32, sqrtf(a))
    UN(F64_ABS, f64, f64, f64_bits_op(a, 0x7fffffffffffffffull, 0))
    UN(F64_NEG, f64, f64, f64_bits_op(a, ~0ull, 0x8000000000000000ull))
    UN(F64_CEIL, f64, f64, isnan(a) ? a + a : ceil(a))
    UN(F64_FLOOR, f64, f64, isnan(a) ? a + a : floor(a))
    UN(F64_TRUNC, f64, f64, isnan(a) ? a + a : trunc(a))
    UN(F64_NEAREST, f64, f64, isnan(a) ? a + a : nearbyint(a))
    UN(F64_SQRT, f64, f64, sqrt(a))
    UN(I64_EXTEND_I32_S, i64, i32, (int64_t)a)
    UN(I64_EXTEND_I32_U, u64, u32, (uint64_t)a)
    UN(F32_CONVERT_I32_S, f32, i32, (float)a)
    UN(F32_CONVERT_I32_U, f32, u32, (float)a)
    UN(F32_CONVERT_I64_S, f32, i64, (float)a)
    UN(F32_CONVERT_I64_U, f32, u64, (float)a)
    UN(F32_DEMOTE_F64, f32, f64, (float)a)
    UN(F64_CONVERT_I32_S, f64, i32, (double)a)
    UN(F64_CONVERT_I32_U, f64, u32, (double)a)
    UN(F64_CONVERT_I64_S, f64, i64, (double)a)
    UN(F64_CONVERT_I64_U, f64, u64, (double)a)
    UN(F64_PROMOTE_F32, f64, f32, (double)a)
    UN(I32_EXTEND8_S, i32, i32, (int32_t)(int8_t)a)
    UN(I32_EXTEND16_S, i32, i32, (int32_t)(int16_t)a)
    UN(I64_EXTEND8_S, i64, i64, (int64_t)(int8_t)a)
    UN(I64_EXTEND16_S, i64, i64, (int64_t)(int16_t)a)
    UN(I64_EXTEND32_S, i64, i64, (int64_t)(int32_t)a)
    UN(I32_TRUNC_SAT_F32_S, i32, f32, sat_i32_s(a))
    UN(I32_TRUNC_SAT_F32_U, u32, f32, sat_i32_u(a))
    UN(I32_TRUNC_SAT_F64_S, i32, f64, sat_i32_s(a))
    UN(I32_TRUNC_SAT_F64_U, u32, f64, sat_i32_u(a))
    UN(I64_TRUNC_SAT_F32_S, i64, f32, sat_i64_s(a))
    UN(I64_TRUNC_SAT_F32_U, u64, f32, sat_i64_u(a))
    UN(I64_TRUNC_SAT_F64_S, i64, f64, sat_i64_s(a))
    UN(I64_TRUNC_SAT_F64_U, u64, f64, sat_i64_u(a))
#undef UN

#define TRUNC(name, rf, T, af, lo, hi)                         \
    VMCASE(name) {                                             \
        double a = S(2).af;                                    \
        int status = trunc_check(a, lo, hi);                   \
        if (UNLIKELY(status != TRUNC_OK))                      \
            TRAP(status == TRUNC_NAN ? WHIRL_TRAP_INVALID_CONVERSION \
                                     : WHIRL_TRAP_INTEGER_OVERFLOW); \
        S(1).rf = (T)a;                                        \
        pc += 3;                                               \
        NEXT();                                                \
    }
    TRUNC(I32_TRUNC_F32_S, i32, int32_t, f32, I32_S_LO, I32_S_HI)
    TRUNC(I32_TRUNC_F32_U, u32, uint32_t, f32, I32_U_LO, I32_U_HI)
    TRUNC(I32_TRUNC_F64_S, i32, int32_t, f64, I32_S_LO, I32_S_HI)
    TRUNC(I32_TRUNC_F64_U, u32, uint32_t, f64, I32_U_LO, I32_U_HI)
    TRUNC(I64_TRUNC_F32_S, i64, int64_t, f32, I64_S_LO, I64_S_HI)
    TRUNC(I64_TRUNC_F32_U, u64, uint64_t, f32, I64_U_LO, I64_U_HI)
    TRUNC(I64_TRUNC_F64_S, i64, int64_t, f64, I64_S_LO, I64_S_HI)
    TRUNC(I64_TRUNC_F64_U, u64, uint64_t, f64, I64_U_LO, I64_U_HI)
#undef TRUNC

    /* Integer ops with a slot form and an immediate (_K) form. */
#define BIN_K32(name, rf, af, expr)                                        \
    VMCASE(name) { __auto_type a = S(2).af; __typeof__(a) b = S(3).af;      \
                   S(1).rf = (expr); pc += 4; NEXT(); }                     \
    VMCASE(name##_K) { __auto_type a = S(2).af; __typeof__(a) b = (__typeof__(a))pc[3]; \
                       S(1).rf = (expr); pc += 4; NEXT(); }
#define BIN_K64(name, rf, af, expr)                                        \
    VMCASE(name) { __auto_type a = S(2).af; __typeof__(a) b = S(3).af;      \
                   S(1).rf = (expr); pc += 4; NEXT(); }                     \
    VMCASE(name##_K) { __auto_type a = S(2).af; __typeof__(a) b = (__typeof__(a))K64(3); \
                       S(1).rf = (expr); pc += 5; NEXT(); }

    BIN_K32(I32_ADD, u32, u32, a + b)
    BIN_K32(I32_SUB, u32, u32, a - b)
    BIN_K32(I32_MUL, u32, u32, a * b)
    BIN_K32(I32_AND, u32, u32, a & b)
    BIN_K32(I32_OR, u32, u32, a | b)
    BIN_K32(I32_XOR, u32, u32, a ^ b)
    BIN_K32(I32_SHL, u32, u32, a << (b & 31))
    BIN_K32(I32_SHR_S, i32, i32, a >> (b & 31))
    BIN_K32(I32_SHR_U, u32, u32, a >> (b & 31))
    BIN_K32(I32_ROTL, u32, u32, rotl32(a, b))
    BIN_K32(I32_ROTR, u32, u32, rotr32(a, b))
    BIN_K64(I64_ADD, u64, u64, a + b)
    BIN_K64(I64_SUB, u64, u64, a - b)
    BIN_K64(I64_MUL, u64, u64, a * b)
    BIN_K64(I64_AND, u64, u64, a & b)
    BIN_K64(I64_OR, u64, u64, a | b)
    BIN_K64(I64_XOR, u64, u64, a ^ b)
    BIN_K64(I64_SHL, u64, u64, a << (b & 63))
    BIN_K64(I64_SHR_S, i64, i64, a >> (b & 63))
    BIN_K64(I64_SHR_U, u64, u64, a >> (b & 63))
    BIN_K64(I64_ROTL, u64, u64, rotl64(a, b))
    BIN_K64(I64_ROTR, u64, u64, rotr64(a, b))

    /* Comparisons: slot, immediate, and fused branch forms. */
#define CMP(name, af, op, KW, KREAD)                                             \
    VMCASE(name) { S(1).u32 = S(2).af op S(3).af; pc += 4; NEXT(); }              \
    VMCASE(name##_K) { __auto_type a = S(2).af; S(1).u32 = a op (__typeof__(a))KREAD(3); \
                       pc += 3 + KW; NEXT(); }                                    \
    VMCASE(BR_##name) { if (S(1).af op S(2).af) JUMP(pc[3]); pc += 4; NEXT(); }    \
    VMCASE(BR_##name##_K) { __auto_type a = S(1).af;                              \
                            if (a op (__typeof__(a))KREAD(2)) JUMP(pc[2 + KW]);     \
                            pc += 3 + KW;                                           \
                            NEXT(); }
#define KREAD32(i) pc[i]
#define KREAD64(i) K64(i)
#define CMP32(name, af, op) CMP(name, af, op, 1, KREAD32)
#define CMP64(name, af, op) CMP(name, af, op, 2, KREAD64)
    CMP32(I32_EQ, u32, ==)
    CMP32(I32_NE, u32, !=)
    CMP32(I32_LT_S, i32, <)
    CMP32(I32_LT_U, u32, <)
    CMP32(I32_GT_S, i32, >)
    CMP32(I32_GT_U, u32, >)
    CMP32(I32_LE_S, i32, <=)
    CMP32(I32_LE_U, u32, <=)
    CMP32(I32_GE_S, i32, >=)
    CMP32(I32_GE_U, u32, >=)
    CMP64(I64_EQ, u64, ==)
    CMP64(I64_NE, u64, !=)
    CMP64(I64_LT_S, i64, <)
    CMP64(I64_LT_U, u64, <)
    CMP64(I64_GT_S, i64, >)
    CMP64(I64_GT_U, u64, >)
    CMP64(I64_LE_S, i64, <=)
    CMP64(I64_LE_U, u64, <=)
    CMP64(I64_GE_S, i64, >=)
    CMP64(I64_GE_U, u64, >=)
#undef CMP

    /* A loop counter's add and the compare-and-branch on its result. */
#define ADDK_CMP(name, T, op)                                                        \
    VMCASE(ADDK_BR_##name) {                                                         \
        uint32_t v = S(2).u32 + pc[3];                                               \
        S(1).u32 = v;                                                                \
        if ((T)v op (T)S(4).u32) JUMP(pc[5]);                                        \
        pc += 6;                                                                     \
        NEXT();                                                                      \
    }                                                                                \
    VMCASE(ADDK_BR_##name##_K) {                                                     \
        uint32_t v = S(2).u32 + pc[3];                                               \
        S(1).u32 = v;                                                                \
        if ((T)v op (T)pc[4]) JUMP(pc[5]);                                           \
        pc += 6;                                                                     \
        NEXT();                                                                      \
    }
    ADDK_CMP(I32_EQ, uint32_t, ==)
    ADDK_CMP(I32_NE, uint32_t, !=)
    ADDK_CMP(I32_LT_S, int32_t, <)
    ADDK_CMP(I32_LT_U, uint32_t, <)
    ADDK_CMP(I32_GT_S, int32_t, >)
    ADDK_CMP(I32_GT_U, uint32_t, >)
    ADDK_CMP(I32_LE_S, int32_t, <=)
    ADDK_CMP(I32_LE_U, uint32_t, <=)
    ADDK_CMP(I32_GE_S, int32_t, >=)
    ADDK_CMP(I32_GE_U, uint32_t, >=)
#undef ADDK_CMP

#define BIN(name, rf, af, expr) \
    VMCASE(name) { __auto_type a = S(2).af; __auto_type b = S(3).af; S(1).rf = (expr); pc += 4; NEXT(); }
    BIN(F32_EQ, u32, f32, a == b)
    BIN(F32_NE, u32, f32, a != b)
    BIN(F32_LT, u32, f32, a < b)
    BIN(F32_GT, u32, f32, a > b)
    BIN(F32_LE, u32, f32, a <= b)
    BIN(F32_GE, u32, f32, a >= b)
    BIN(F64_EQ, u32, f64, a == b)
    BIN(F64_NE, u32, f64, a != b)
    BIN(F64_LT, u32, f64, a < b)
    BIN(F64_GT, u32, f64, a > b)
    BIN(F64_LE, u32, f64, a <= b)
    BIN(F64_GE, u32, f64, a >= b)
    BIN(F32_ADD, f32, f32, a + b)
    BIN(F32_SUB, f32, f32, a - b)
    BIN(F32_MUL, f32, f32, a * b)
    BIN(F32_DIV, f32, f32, a / b)
    BIN(F32_MIN, f32, f32, f32_min(a, b))
    BIN(F32_MAX, f32, f32, f32_max(a, b))
    BIN(F32_COPYSIGN, f32, f32, f32_copysign(a, b))
    BIN(F64_ADD, f64, f64, a + b)
    BIN(F64_SUB, f64, f64, a - b)
    BIN(F64_MUL, f64, f64, a * b)
    BIN(F64_DIV, f64, f64, a / b)
    BIN(F64_MIN, f64, f64, f64_min(a, b))
    BIN(F64_MAX, f64, f64, f64_max(a, b))
    BIN(F64_COPYSIGN, f64, f64, f64_copysign(a, b))
#undef BIN

    /* Division: zero divisors trap, and so does INT_MIN / -1; INT_MIN % -1
     * is 0 (C leaves both undefined). */
#define DIV(name, T, af, min, op, signed_)                          \
    VMCASE(name) {                                                 \
        T a = S(2).af, b = S(3).af;                                \
        if (UNLIKELY(b == 0))                                      \
            TRAP(WHIRL_TRAP_INTEGER_DIVIDE_BY_ZERO);               \
        if (signed_ && UNLIKELY(b == (T)-1)) {                     \
            if (op == '/' && a == (T)(min))                        \
                TRAP(WHIRL_TRAP_INTEGER_OVERFLOW);                 \
            S(1).af = op == '/' ? (T)(0 - (uint64_t)a) : 0;         \
        } else {                                                   \
            S(1).af = op == '/' ? a / b : a % b;                   \
        }                                                          \
        pc += 4;                                                   \
        NEXT();                                                    \
    }
    DIV(I32_DIV_S, int32_t, i32, INT32_MIN, '/', 1)
    DIV(I32_DIV_U, uint32_t, u32, 0, '/', 0)
    DIV(I32_REM_S, int32_t, i32, INT32_MIN, '%', 1)
    DIV(I32_REM_U, uint32_t, u32, 0, '%', 0)
    DIV(I64_DIV_S, int64_t, i64, INT64_MIN, '/', 1)
    DIV(I64_DIV_U, uint64_t, u64, 0, '/', 0)
    DIV(I64_REM_S, int64_t, i64, INT64_MIN, '%', 1)
    DIV(I64_REM_U, uint64_t, u64, 0, '%', 0)
#undef DIV

    /* Memory: explicit bounds checks against the cached size. Each access
     * comes in three address forms: a slot, slot + immediate, slot + slot
     * (the last two from a fused i32.add, wrapping at 32 bits). */
#define LOAD_AT(name, rf, T, RT, ADDR, WORDS)                     \
    VMCASE(name) {                                               \
        uint64_t ea = (uint64_t)(uint32_t)(ADDR) + pc[WORDS - 1]; \
        if (UNLIKELY(ea + sizeof(T) > mem_size) && !SHARED_GREW(ea + sizeof(T)))                 \
            TRAP(WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS);               \
        T v;                                                     \
        memcpy(&v, mem + ea, sizeof v);                          \
        S(1).rf = (RT)v;                                         \
        pc += WORDS;                                             \
        NEXT();                                                  \
    }
#define LOAD(name, rf, T, RT)                                    \
    LOAD_AT(name, rf, T, RT, S(2).u32, 4)                        \
    LOAD_AT(name##_AK, rf, T, RT, S(2).u32 + pc[3], 5)           \
    LOAD_AT(name##_AA, rf, T, RT, S(2).u32 + S(3).u32, 5)        \
    LOAD_AT(name##_AS, rf, T, RT, S(2).u32 + (S(3).u32 << pc[4]), 6)  \
    LOAD_AT(name##_AKW, rf, T, RT, (S(4).u32 = S(2).u32 + pc[3]), 6) \
    LOAD_AT(name##_AAW, rf, T, RT, (S(4).u32 = S(2).u32 + S(3).u32), 6)
    LOAD(I32_LOAD, u32, uint32_t, uint32_t)
    LOAD(I64_LOAD, u64, uint64_t, uint64_t)
    LOAD(F32_LOAD, u32, uint32_t, uint32_t)
    LOAD(F64_LOAD, u64, uint64_t, uint64_t)
    LOAD(I32_LOAD8_S, i32, int8_t, int32_t)
    LOAD(I32_LOAD8_U, u32, uint8_t, uint32_t)
    LOAD(I32_LOAD16_S, i32, int16_t, int32_t)
    LOAD(I32_LOAD16_U, u32, uint16_t, uint32_t)
    LOAD(I64_LOAD8_S, i64, int8_t, int64_t)
    LOAD(I64_LOAD8_U, u64, uint8_t, uint64_t)
    LOAD(I64_LOAD16_S, i64, int16_t, int64_t)
    LOAD(I64_LOAD16_U, u64, uint16_t, uint64_t)
    LOAD(I64_LOAD32_S, i64, int32_t, int64_t)
    LOAD(I64_LOAD32_U, u64, uint32_t, uint64_t)
#undef LOAD
#undef LOAD_AT

#define STORE_AT(name, T, vf, ADDR, VAL, WORDS)                  \
    VMCASE(name) {                                               \
        uint64_t ea = (uint64_t)(uint32_t)(ADDR) + pc[WORDS - 1]; \
        if (UNLIKELY(ea + sizeof(T) > mem_size) && !SHARED_GREW(ea + sizeof(T)))                 \
            TRAP(WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS);               \
        T v = (T)VAL.vf;                                         \
        memcpy(mem + ea, &v, sizeof v);                          \
        pc += WORDS;                                             \
        NEXT();                                                  \
    }
#define STORE(name, T, vf)                                       \
    STORE_AT(name, T, vf, S(1).u32, S(2), 4)                     \
    STORE_AT(name##_AK, T, vf, S(1).u32 + pc[2], S(3), 5)        \
    STORE_AT(name##_AA, T, vf, S(1).u32 + S(2).u32, S(3), 5)     \
    STORE_AT(name##_AS, T, vf, S(1).u32 + (S(2).u32 << pc[3]), S(4), 6)
    STORE(I32_STORE, uint32_t, u32)
    STORE(I64_STORE, uint64_t, u64)
    STORE(F32_STORE, uint32_t, u32)
    STORE(F64_STORE, uint64_t, u64)
    STORE(I32_STORE8, uint8_t, u32)
    STORE(I32_STORE16, uint16_t, u32)
    STORE(I64_STORE8, uint8_t, u64)
    STORE(I64_STORE16, uint16_t, u64)
    STORE(I64_STORE32, uint32_t, u64)
#undef STORE
#undef STORE_AT

    VMCASE(I32_ADD_SHL) S(1).u32 = S(2).u32 + (S(3).u32 << pc[4]); pc += 5; NEXT();
    VMCASE(I32_XOR_ROTL) S(1).u32 = S(2).u32 ^ rotl32(S(3).u32, pc[4]); pc += 5; NEXT();
    VMCASE(I32_XOR_SHRU) S(1).u32 = S(2).u32 ^ (S(3).u32 >> pc[4]); pc += 5; NEXT();
    VMCASE(I32_XOR_SHL) S(1).u32 = S(2).u32 ^ (S(3).u32 << pc[4]); pc += 5; NEXT();
    VMCASE(I32_ADDK_STORE) {
        uint32_t v = S(2).u32 + pc[3];
        S(1).u32 = v;
        uint64_t ea = (uint64_t)S(4).u32 + pc[5];
        if (UNLIKELY(ea + sizeof v > mem_size) && !SHARED_GREW(ea + sizeof v))
            TRAP(WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS);
        memcpy(mem + ea, &v, sizeof v);
        pc += 6;
        NEXT();
    }
    VMCASE(I64_ADDK_STORE) {
        uint64_t v = S(2).u64 + (uint64_t)K64(3);
        S(1).u64 = v;
        uint64_t ea = (uint64_t)S(5).u32 + pc[6];
        if (UNLIKELY(ea + sizeof v > mem_size) && !SHARED_GREW(ea + sizeof v))
            TRAP(WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS);
        memcpy(mem + ea, &v, sizeof v);
        pc += 7;
        NEXT();
    }

    /* Multiply-add fused from f.mul + f.add/f.sub: still two roundings. */
    VMCASE(F32_MULADD) { float t = S(3).f32 * S(4).f32; S(1).f32 = S(2).f32 + t; pc += 5; NEXT(); }
    VMCASE(F32_MULSUB) { float t = S(3).f32 * S(4).f32; S(1).f32 = S(2).f32 - t; pc += 5; NEXT(); }
    VMCASE(F32_MULSUBR) { float t = S(3).f32 * S(4).f32; S(1).f32 = t - S(2).f32; pc += 5; NEXT(); }
    VMCASE(F64_MULADD) { double t = S(3).f64 * S(4).f64; S(1).f64 = S(2).f64 + t; pc += 5; NEXT(); }
    VMCASE(F64_MULSUB) { double t = S(3).f64 * S(4).f64; S(1).f64 = S(2).f64 - t; pc += 5; NEXT(); }
    VMCASE(F64_MULSUBR) { double t = S(3).f64 * S(4).f64; S(1).f64 = t - S(2).f64; pc += 5; NEXT(); }
#define MULADD_STORE(name, T, f)                                        \
    VMCASE(name) {                                                      \
        T t = S(2).f * S(3).f;                                          \
        T v = S(1).f + t;                                               \
        uint64_t ea = (uint64_t)S(4).u32 + pc[5];                       \
        if (UNLIKELY(ea + sizeof(T) > mem_size) && !SHARED_GREW(ea + sizeof(T)))                        \
            TRAP(WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS);                      \
        memcpy(mem + ea, &v, sizeof v);                                 \
        pc += 6;                                                        \
        NEXT();                                                         \
    }
    MULADD_STORE(F32_MULADD_STORE, float, f32)
    MULADD_STORE(F64_MULADD_STORE, double, f64)
#undef MULADD_STORE
#define MULADD_LOAD_STORE(name, T, f)                                   \
    VMCASE(name) {                                                      \
        uint32_t la;                                                    \
        switch (pc[5]) {                                                \
        case LOAD_MODE_AK: la = S(6).u32 + pc[7]; break;                \
        case LOAD_MODE_AA: la = S(6).u32 + S(7).u32; break;             \
        case LOAD_MODE_AKW: la = S(8).u32 = S(6).u32 + pc[7]; break;    \
        case LOAD_MODE_AAW: la = S(8).u32 = S(6).u32 + S(7).u32; break; \
        default: la = S(6).u32; break;                                  \
        }                                                               \
        uint64_t lea = (uint64_t)la + pc[9];                            \
        /* The load's own offset is mapped at pc + 9 (compile.c). */   \
        if (UNLIKELY(lea + sizeof(T) > mem_size) && !SHARED_GREW(lea + sizeof(T))) { \
            pc += 9;                                                    \
            TRAP(WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS);                      \
        }                                                               \
        T c;                                                            \
        memcpy(&c, mem + lea, sizeof c);                                \
        T t = S(2).f * c;                                               \
        T v = S(1).f + t;                                               \
        uint64_t ea = (uint64_t)S(3).u32 + pc[4];                       \
        if (UNLIKELY(ea + sizeof(T) > mem_size) && !SHARED_GREW(ea + sizeof(T)))                        \
            TRAP(WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS);                      \
        memcpy(mem + ea, &v, sizeof v);                                 \
        pc += 10;                                                       \
        NEXT();                                                         \
    }
    MULADD_LOAD_STORE(F32_MULADD_LOAD_STORE, float, f32)
    MULADD_LOAD_STORE(F64_MULADD_LOAD_STORE, double, f64)
#undef MULADD_LOAD_STORE

#include "exec/interp_simd.inc"
#include "exec/interp_atomic.inc"
#include "exec/interp_exn_ops.inc"

#ifdef WHIRL_DISPATCH_SWITCH
    default:
        TRAP(WHIRL_TRAP_UNREACHABLE);
    }
#endif

epoch_reached:
    /* A sample due (whirl_store_set_sampler), the end of an epoch-yield
     * slice, or the deadline. */
    if (UNLIKELY(store->sampler != NULL) && sample_stack(store, st, base_depth, cur, inst, pc)) {
        deadline = store->epoch_deadline;
        if (atomic_load_explicit(epoch, memory_order_relaxed) < deadline)
            NEXT();
    }
    EPOCH_EXPIRED();
    NEXT();
loop_hot: {
    /* On-stack replacement (jit/jit_osr.c): at this loop header only the
     * locals are live, and the native variant entered here takes them from
     * the frame, runs the rest of the invocation and leaves its results
     * where RETURN expects them. */
    native_entry_t osr = tier_loop_hot(inst, cur, (uint32_t)(pc - cur->code), fp);
    if (LIKELY(!osr))
        NEXT();
    slot_t *saved_top = st->top;
    st->top = fp + cur->frame_slots;
    INTERP_LINK(link, false);
    whirl_error_t *err = native_enter(store, &inst->vm, osr, fp);
    sample_link_pop(store, &link.link);
    st->top = saved_top;
    if (UNLIKELY(err != NULL)) {
        /* As after call_native; the function has no handlers (the tier
         * does not compile exception handling), so an exception leaves
         * it. */
        whirl_exn_t *thrown;
        if (whirl_error_is_exception(err, &thrown) && thrown->store == store) {
            whirl_error_delete(err);
            exn = thrown;
            goto throw_exn;
        }
        cause = err;
        cur_named = true;
        goto trap;
    }
    deadline = store->epoch_deadline;
    RELOAD_MEM();
    goto do_return;
}
trap:
    return make_trap(trap_code, cause, st, base_depth, cur, inst, pc, cur_named);
}

static whirl_error_t *interp(whirl_store_t *store, struct exec_stack *st, whirl_func_t *func,
                             slot_t *fp)
{
    return interp_body(INTERP_RUN, NULL, store, st, func, fp);
}

/* ------------------------------------------------ the dispatch form */

/* Each op's handler offset, and the same pairs sorted by offset for the
 * way back. Filled once per process. */
typedef struct handler_op {
    int32_t offset;
    uint32_t op;
} handler_op_t;

static int32_t handler_offset[IOP_COUNT];
static handler_op_t handler_by_offset[IOP_COUNT];
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;

static int handler_op_cmp(const void *a, const void *b)
{
    const handler_op_t *x = a, *y = b;
    return (x->offset > y->offset) - (x->offset < y->offset);
}

static void handlers_init(void)
{
    interp_body(INTERP_LIST_HANDLERS, handler_offset, NULL, NULL, NULL, NULL);
    for (uint32_t i = 0; i < IOP_COUNT; i++)
        handler_by_offset[i] = (handler_op_t){handler_offset[i], i};
    qsort(handler_by_offset, IOP_COUNT, sizeof *handler_by_offset, handler_op_cmp);
}

bool exec_code_from_ops(code_word_t *dst, const code_word_t *src, uint32_t len)
{
    pthread_once(&handlers_once, handlers_init);
    /* One pass that copies as it rewrites: a load reads the file's words
     * once, and writes fresh memory once. */
    for (uint32_t pc = 0; pc < len;) {
        uint32_t n = iop_instr_words(&src[pc], len - pc);
        if (UNLIKELY(n == 0))
            return false;
        code_word_t op = src[pc];
        for (uint32_t k = 1; k < n; k++)
            dst[pc + k] = src[pc + k];
        dst[pc] = (code_word_t)handler_offset[op];
        pc += n;
    }
    return true;
}

void exec_code_to_ops(code_word_t *code, uint32_t len)
{
    pthread_once(&handlers_once, handlers_init);
    for (uint32_t pc = 0; pc < len;) {
        handler_op_t key = {(int32_t)code[pc], 0};
        const handler_op_t *h =
            bsearch(&key, handler_by_offset, IOP_COUNT, sizeof key, handler_op_cmp);
        /* Code in the dispatch form came from exec_code_from_ops. */
        code[pc] = h ? h->op : IOP_COUNT;
        uint32_t n = iop_instr_words(&code[pc], len - pc);
        if (n == 0)
            return;
        pc += n;
    }
}

static whirl_error_t *call_in(whirl_store_t *store, whirl_func_t *func, const whirl_val_t *args,
                              whirl_val_t *results, bool may_enter_native);

whirl_error_t *exec_call(whirl_store_t *store, whirl_func_t *func, const whirl_val_t *args,
                         whirl_val_t *results)
{
    return call_in(store, func, args, results, true);
}

whirl_error_t *exec_call_interpreted(whirl_store_t *store, whirl_func_t *func,
                                     const whirl_val_t *args, whirl_val_t *results)
{
    return call_in(store, func, args, results, false);
}

static whirl_error_t *call_in(whirl_store_t *store, whirl_func_t *func, const whirl_val_t *args,
                              whirl_val_t *results, bool may_enter_native)
{
    struct exec_stack *st = exec_stack_get(store);
    if (!st)
        return error_oom();
    const wasm_functype_t *t = func->type;
    slot_t *fp = st->top;
    uint32_t nslots = 0, rslots = 0;
    for (uint32_t i = 0; i < t->nparams; i++)
        nslots += slots_of(t->params[i]);
    for (uint32_t i = 0; i < t->nresults; i++)
        rslots += slots_of(t->results[i]);
    if (st->activations >= MAX_ACTIVATIONS || fp + (nslots > rslots ? nslots : rslots) > st->end)
        return error_trap(WHIRL_TRAP_STACK_EXHAUSTED, "too many nested calls into wasm");
    /* On a fiber (a resumable call), host-to-wasm recursion is bounded by
     * its stack too: the guard page must never be reached. */
    uintptr_t native_low = fiber_stack_low();
    if (UNLIKELY(native_low) &&
        (uintptr_t)__builtin_frame_address(0) - native_low < FIBER_STACK_RESERVE)
        return error_trap(WHIRL_TRAP_STACK_EXHAUSTED, "the fiber's native stack is exhausted "
                          "(async_stack_size)");

    uint32_t s = 0;
    for (uint32_t i = 0; i < t->nparams; i++) {
        val_to_slots(&args[i], &fp[s]);
        s += slots_of(t->params[i]);
    }
    whirl_error_t *err;
    st->activations++;
    if (func->kind == FUNC_HOST) {
        slot_t *saved = st->top;
        st->top = fp + (nslots > rslots ? nslots : rslots);
        err = call_host(store, func, NULL, fp);
        st->top = saved;
    } else if (may_enter_native && native_entry_of(func->code)) {
        slot_t *saved = st->top;
        st->top = fp + (nslots > rslots ? nslots : rslots);
        err = native_enter(store, &func->instance->vm, native_entry_of(func->code), fp);
        st->top = saved;
    } else {
        err = interp(store, st, func, fp);
    }
    st->activations--;
    if (err)
        return err;
    s = 0;
    for (uint32_t i = 0; i < t->nresults; i++) {
        val_from_slots(&results[i], t->results[i], &fp[s]);
        s += slots_of(t->results[i]);
    }
    return NULL;
}
