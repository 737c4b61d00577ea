/* Shared state of the Wasm -> LLVM IR translator (translate*.c).
 *
 * One jt_module_t per Wasm module being compiled (an LLVM context, module
 * and the declarations of every function), one jt_func_t per function while
 * its body is translated. The operand stack exists only at translation time:
 * it holds the LLVMValueRef of each Wasm operand, so a Wasm value never
 * lives in memory unless LLVM decides to spill it. Locals are allocas that
 * mem2reg promotes. Everything that touches instance state goes through
 * jit_binding.h. */
#ifndef WHIRL_JIT_TRANSLATE_H
#define WHIRL_JIT_TRANSLATE_H

#include <llvm-c/Core.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wasm/module.h"
#include "wasm/opcodes.h"
#include "wasm/reader.h"

typedef struct jt_module {
    const wasm_module_t *wasm;
    LLVMContextRef llctx;
    LLVMModuleRef mod;
    LLVMTypeRef i1, i8, i16, i32, i64, f32, f64, ptr, void_t;
    /* One per function index (imports included): the native function of a
     * defined, translated function ("w<index>"), NULL where the function
     * is imported or not supported (calls to it go through the runtime). */
    LLVMValueRef *fns;
    LLVMTypeRef *fn_types;   /* the Wasm-ABI type of each function's type index */
    bool *supported;         /* per function index */
    const bool *only;        /* per function index: translate only these (NULL: all) */
    unsigned part;           /* jit_options_t.part: names the object's tables */
    const char **why_not;    /* per function index: reason when not supported */
    bool guard_memory;       /* jit_options_t.guard_memory */
    /* Type-based alias analysis tags: linear memory, the runtime's
     * structures (context, instance, tables of pointers) and global values
     * never overlap, which lets LLVM keep the memory size and base in
     * registers across guest stores. */
    unsigned tbaa_kind;
    LLVMValueRef tbaa_memory, tbaa_runtime, tbaa_global;
    /* Runtime functions of the binding, declared once (jit_binding.c). */
    LLVMValueRef rt[48];
    LLVMTypeRef rt_types[48];
    /* DWARF for the generated code (jit_debuginfo.c), NULL unless debug
     * info is on. */
    struct jt_debug *debug;
    /* Without debug info: the compile unit whose lines name the calls'
     * offsets (jit_debuginfo.c jt_calls_new), or NULL. */
    struct jt_debug *calls;
    /* The calling convention of every translated function of this compile
     * (translate.c call_wasm_fn): JT_TAILCC if one of them has a
     * return_call*, else C's. */
    unsigned cc;
} jt_module_t;

enum jt_ctrl_kind { JT_BLOCK, JT_LOOP, JT_IF, JT_FUNC };

/* Exception handlers of a block (translate_exn.c): none, a try_table's
 * clauses, a legacy try in its body (its catches apply), a legacy try in
 * a catch body (they no longer do). */
enum jt_eh_kind { JT_EH_NONE, JT_EH_TABLE, JT_EH_TRY, JT_EH_CATCH };

typedef struct jt_ctrl {
    enum jt_ctrl_kind kind;
    uint32_t nparams, nresults;
    const wasm_valtype_t *params, *results;
    size_t height;                 /* operand stack height below the params */
    LLVMBasicBlockRef target;      /* where `br` goes: the loop header or `end` */
    LLVMBasicBlockRef end;         /* continuation after `end` */
    LLVMBasicBlockRef else_bb;     /* JT_IF until `else` is seen, else NULL */
    LLVMValueRef *target_phis;     /* loop: params at the header; else results at `end` */
    LLVMValueRef *end_phis;        /* results at `end` (same array as target_phis except loops) */
    LLVMValueRef *if_params;       /* JT_IF: the params, for the else arm */
    bool end_reached;              /* some edge reaches `end` */
    bool dead;                     /* rest of this block is unreachable */
    /* JT_LOOP: its header's epoch check (jb_loop_check). A call to a
     * defined function at the loop's own level, before any branch back to
     * the header, checks on entry on every iteration; the header's check
     * is then dropped at `end`, unless a back edge came first. */
    LLVMValueRef epoch_branch, epoch_load;
    bool calls_checker, back_edge_unchecked;
    /* Exception handlers (translate_exn.c): an exception raised inside
     * the block goes to `dispatch` with the exception in `exn_phi`; a
     * legacy try's catches are tested as they come, the next test goes
     * in `nomatch` (NULL after catch_all), and a catch body keeps the
     * exception in `exn_local` for rethrow. */
    enum jt_eh_kind eh;
    LLVMBasicBlockRef dispatch, nomatch;
    LLVMValueRef exn_phi, exn_local;
} jt_ctrl_t;

/* Room for every whirl_trap_code_t (checked in translate.c). */
#define JT_TRAP_CODES 32

typedef struct jt_func {
    jt_module_t *jm;
    LLVMBuilderRef b;
    LLVMValueRef fn, ctx;
    uint32_t func_index;
    const wasm_functype_t *type;
    uint32_t nlocals;              /* params + declared locals */
    wasm_valtype_t *local_types;
    LLVMValueRef *locals;          /* allocas */
    LLVMValueRef *stack;
    size_t sp, stack_cap;
    jt_ctrl_t *ctrl;
    size_t nctrl, ctrl_cap;
    reader_t r;
    uint32_t op_offset;            /* byte offset of the current instruction */
    LLVMValueRef results_alloca;   /* scratch slots for runtime calls (lazily made) */
    uint32_t scratch_slots;
    const char *error;             /* set when translation fails */
    /* One trap block per trap code, its phi receiving the byte offset of
     * each instruction that branches there (one call per code, not per
     * check). */
    LLVMBasicBlockRef trap_bb[JT_TRAP_CODES];
    LLVMValueRef trap_offset[JT_TRAP_CODES];
    LLVMBasicBlockRef entry_bb;
    /* An on-stack replacement variant (jit_osr.c): the byte offset of the
     * `loop` it enters at (0: an ordinary function), the interpreter's
     * frame slots it loads the locals from, the block that jumps to that
     * loop's header, and whether it was found. */
    uint32_t osr_loop;
    LLVMValueRef osr_slots;
    LLVMBasicBlockRef osr_jump;
    bool osr_found;
    /* Where an exception no handler of the function catches goes: a
     * throw_ref to the caller, the exception in `unwind_phi` (lazily
     * made, translate_exn.c). */
    LLVMBasicBlockRef unwind_bb;
    LLVMValueRef unwind_phi;
} jt_func_t;

/* Helpers shared by the translator files. */
LLVMTypeRef jt_type(jt_module_t *jm, wasm_valtype_t t);
void jt_push(jt_func_t *f, LLVMValueRef v);
LLVMValueRef jt_pop(jt_func_t *f);
LLVMValueRef jt_const_i32(jt_func_t *f, uint32_t v);
LLVMValueRef jt_const_i64(jt_func_t *f, uint64_t v);
LLVMValueRef jt_zero(jt_module_t *jm, wasm_valtype_t t);
/* Calls intrinsic `name` overloaded on `type` (NULL: not overloaded). */
LLVMValueRef jt_intrinsic(jt_func_t *f, const char *name, LLVMTypeRef *overload, unsigned noverload,
                          LLVMValueRef *args, unsigned nargs);
/* `v` through an empty inline asm: the same value, unknown to the
 * optimiser, so no fold can use it. */
LLVMValueRef jt_opaque(jt_func_t *f, LLVMValueRef v);
/* Branches to a trap with `code` when `cond` (i1) holds, else continues. */
void jt_trap_if(jt_func_t *f, LLVMValueRef cond, int code);
/* A slot array of at least `n` slots in the entry block, reused by every
 * runtime call of the function. */
LLVMValueRef jt_scratch(jt_func_t *f, uint32_t n);

/* Tags an access with one of jm's TBAA tags. */
void jt_tbaa(jt_func_t *f, LLVMValueRef access, LLVMValueRef tag);

/* The LLVM type of a v128 on the operand stack, in locals, phis, params
 * and results: <2 x i64>. Instructions bitcast it to their lane shape. */
LLVMTypeRef jt_v128_type(jt_module_t *jm);
/* The address of an access of `bytes` at (i32 `addr` + `offset`), after
 * the bounds check that traps (translate_memory.c). */
LLVMValueRef jt_checked_addr(jt_func_t *f, LLVMValueRef addr, uint32_t offset, unsigned bytes);
/* Whether an access of `bytes` at (i32 + `offset`) needs the explicit
 * check, or may rely on the guard region (translate_memory.c). */
bool jt_needs_bounds_check(const jt_func_t *f, uint32_t offset, unsigned bytes);
/* Tags a linear-memory load or store; one without a check (`checked`
 * false) is also pinned (volatile), see translate_memory.c. */
void jt_memory_access(jt_func_t *f, LLVMValueRef access, bool checked);

/* A memarg immediate: memory index (multi-memory) and offset (u64 for
 * memory64). translate_wasm3.c. */
typedef struct jt_memarg {
    uint32_t memory;
    uint64_t offset;
} jt_memarg_t;
jt_memarg_t jt_read_memarg(jt_func_t *f);
void jt_skip_memarg(reader_t *r);
bool jt_memory_is64(jt_func_t *f, uint32_t mem);
/* The checked address of an access of `bytes` at `addr` (i32, or i64 for a
 * 64-bit memory) + the memarg's offset, in the memarg's memory: memory 0 of
 * 32 bits through jt_checked_addr, any other explicitly and overflow-safe. */
LLVMValueRef jt_mem_addr(jt_func_t *f, jt_memarg_t a, LLVMValueRef addr, unsigned bytes);
/* Reads the memarg, pops the address and returns jt_mem_addr's. */
LLVMValueRef jt_memarg_addr(jt_func_t *f, unsigned bytes);
/* memory.size/grow/fill/copy/init on memory `mem` other than a 32-bit
 * memory 0 (immediates already read; `mem2` the source of memory.copy,
 * `seg` the data segment of memory.init). */
bool jt_memory_wide_op(jt_func_t *f, wasm_op_t op, uint32_t mem, uint32_t mem2, uint32_t seg);

/* 64-bit tables (translate_wasm3.c): an i64 index or length of table
 * `table` narrowed to i32 (past 2^32 - 1: traps out of bounds), a grow
 * delta narrowed (saturating); a 32-bit table's operand as it is. */
bool jt_table_is64(jt_func_t *f, uint32_t table);
LLVMValueRef jt_table64_index(jt_func_t *f, uint32_t table, LLVMValueRef v);
LLVMValueRef jt_table64_delta(jt_func_t *f, uint32_t table, LLVMValueRef v);

/* Instruction families. Each returns false if `op` is not in its family. */
bool jt_numeric(jt_func_t *f, wasm_op_t op);
bool jt_memory(jt_func_t *f, wasm_op_t op);
bool jt_simd(jt_func_t *f, wasm_op_t op); /* translate_simd*.c: the 0xFD prefix */
bool jt_atomic(jt_func_t *f, wasm_op_t op); /* translate_atomic.c: the 0xFE prefix */

/* Traps `memory out of bounds` when the i64 `end` of an access is past
 * memory `mem`'s size, or when `also` (i1, may be NULL) holds; a shared
 * memory's size is reread by the runtime before it traps (another thread
 * may have grown it). translate_atomic.c. */
void jt_bounds_check(jt_func_t *f, uint32_t mem, LLVMValueRef end, LLVMValueRef also);

/* Shared with translate_exn.c (translate.c). */
jt_ctrl_t *jt_block(jt_func_t *f, enum jt_ctrl_kind kind); /* block/loop/if: reads the type */
void jt_end(jt_func_t *f);
void jt_fall_to_end(jt_func_t *f, jt_ctrl_t *c);
void jt_mark_dead(jt_func_t *f);
/* Adds `vals` (n) as the incoming values of label `depth`'s target from
 * the current block and returns the target (the caller branches). */
LLVMBasicBlockRef jt_branch_values(jt_func_t *f, uint32_t depth, LLVMValueRef *vals, uint32_t n);
void jt_spill(jt_func_t *f, LLVMValueRef slots, LLVMValueRef *vals, const wasm_valtype_t *types,
              uint32_t n);
void jt_unspill(jt_func_t *f, LLVMValueRef slots, const wasm_valtype_t *types, uint32_t n,
                LLVMValueRef *out);

/* Exception handling (translate_exn.c). */
/* The block whose handlers catch an exception raised now: NULL when none
 * (it leaves the function). */
jt_ctrl_t *jt_exn_handler(jt_func_t *f);
/* Goes to `h`'s dispatch (NULL: out of the function) with `exn` when it
 * is not null (`conditional`), or always. */
void jt_exn_goto(jt_func_t *f, jt_ctrl_t *h, LLVMValueRef exn, bool conditional);
/* throw, throw_ref, try_table, try, catch, catch_all, delegate, rethrow. */
void jt_exn_op(jt_func_t *f, wasm_op_t op);
/* The end of a block with handlers (before it closes). */
void jt_exn_end(jt_func_t *f, jt_ctrl_t *c);
/* Pre-scan of try_table's immediates (after the opcode): the scratch
 * slots its catch clauses' values need. */
uint32_t jt_exn_scan_try_table(const wasm_module_t *m, reader_t *r);

/* Builds "o<index>_<loop>" (ctx, slot_t *frame) -> the function's results,
 * in the tier's calling convention: function `index` entered at the header
 * of the `loop` at byte offset `loop_offset` (one where the operand stack
 * is empty), its locals loaded from the interpreter's frame slots. NULL
 * with a static reason in *why if it cannot be built (nothing is left in
 * the module then). */
LLVMValueRef jt_translate_osr(jt_module_t *jm, uint32_t index, uint32_t loop_offset,
                              const char **why);
/* Calls `each` with the index of every function `fn` calls directly (call,
 * return_call), in code order, repeats included. */
void jt_direct_callees(const wasm_module_t *m, const wasm_func_t *fn,
                       void (*each)(void *env, uint32_t callee), void *env);
/* LLVM's tailcc (llvm::CallingConv::Tail, not in the C API's enum): the
 * calling convention of every translated function when one of a compile's
 * functions tail-calls (jt_module_t.cc). */
#define JT_TAILCC 18u

#endif
