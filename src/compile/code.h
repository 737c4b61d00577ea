/* whirl's internal code: what a validated function body is compiled into
 * (compile.c) and what the interpreter (src/exec/interp.c) runs.
 *
 * A function's frame is an array of 8-byte slots: parameters first, then
 * declared locals, then operand temporaries. Instructions name their operands
 * by slot index, so values are not pushed and popped per instruction. A v128
 * value takes two adjacent slots.
 *
 * Code is an array of 32-bit words. Each instruction starts with its op
 * number (iop_t, ops.h), followed by its operands: slot indices,
 * immediates (64-bit ones take two words, low word first), and branch
 * offsets in words relative to the branch instruction's first word. Code
 * holds no pointers (functions and types are named by index), so it is
 * position-independent. The interpreter rewrites the first word of each
 * instruction into its dispatch form (exec_code_from_ops) before running
 * it; serialised modules store op numbers, which do not change when the
 * interpreter is rebuilt. The instruction set is in ops.h. */
#ifndef WHIRL_COMPILE_CODE_H
#define WHIRL_COMPILE_CODE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wasm/module.h"

typedef uint32_t code_word_t;

/* One frame slot. Integers and floats are stored in their own member; i32
 * and f32 use the low 4 bytes. References are pointers (NULL is null). */
typedef union slot {
    int32_t i32;
    uint32_t u32;
    int64_t i64;
    uint64_t u64;
    float f32;
    double f64;
    void *ref;
} slot_t;

/* Maps a code position to the byte offset of the Wasm instruction it came
 * from, for trap messages and backtraces. Sorted by `pc`. */
typedef struct code_srcmap {
    uint32_t pc;     /* word index into code */
    uint32_t offset; /* byte offset in the module binary */
} code_srcmap_t;

/* Exception handling: where an exception raised at a code position of the
 * function goes. The interpreter takes the first entry, in order, whose
 * range holds the position and that matches the exception (exec/exn.c). */
enum {
    HANDLER_CATCH,     /* its tag: values to `slot`..., then run `target` */
    HANDLER_CATCH_ALL, /* any exception: run `target` */
    HANDLER_DELEGATE,  /* legacy `delegate`: go on with the later entries of
                          `depth` at most `target` (UINT32_MAX: the caller) */
};
#define HANDLER_NO_SLOT UINT32_MAX
typedef struct code_handler {
    uint32_t start, end;  /* code range [start, end) the handler covers */
    uint32_t target;      /* code position to continue at */
    uint32_t tag;         /* HANDLER_CATCH: the instance's tag index */
    uint32_t slot;        /* first slot of the tag's values */
    uint32_t exn_slot;    /* slot that receives the exnref, or HANDLER_NO_SLOT */
    uint32_t depth;       /* block nesting depth of its try (the function: 0) */
    uint32_t kind;        /* HANDLER_*; 32 bits: no padding in serialised files */
} code_handler_t;

typedef struct compiled_func {
    uint32_t func_index;          /* index in the module's function space */
    const wasm_functype_t *type;  /* canonical type of the module */
    uint32_t param_slots;         /* slots taken by the parameters */
    uint32_t result_slots;        /* slots taken by the results */
    uint32_t local_slots;         /* slots of declared locals, zeroed on entry */
    uint32_t frame_slots;         /* every slot a frame uses */
    code_word_t *code;
    uint32_t code_len;
    code_srcmap_t *srcmap;
    uint32_t nsrcmap;
    code_handler_t *handlers;     /* exception handling; NULL when none */
    uint32_t nhandlers;
    /* Loop headers where only locals are live (the operand stack is empty),
     * as (code position, byte offset of the `loop`) pairs in code order:
     * where the auto tier may move a running frame into native code
     * (on-stack replacement, jit/jit_osr.c). Serialised with the code;
     * NULL when there are none. */
    uint32_t *osr_loops;
    uint32_t nosr_loops;
    /* Native code of the LLVM tier (runtime/tier.c), NULL until compiled:
     * `native_entry` is void (vmctx_t *, slot_t *args_results), what the
     * interpreter and the host entry call; `native` has the Wasm ABI.
     * Published once (native first, then native_entry, release), read
     * with acquire: calls from then on run the native code. */
    void *_Atomic native;
    void *_Atomic native_entry;
    /* The auto tier's hotness count (calls and loop back-edges), bumped
     * racily with relaxed atomics by the interpreter. */
    _Atomic uint32_t hotness;
} compiled_func_t;

typedef struct compiled_module {
    uint32_t nfuncs;              /* = module's defined functions */
    compiled_func_t *funcs;
    arena_t arena;                /* owns code, srcmaps */
    /* Some function tail-calls (return_call*); serialised with the code. */
    bool tail_calls;
} compiled_module_t;

/* Compiles every function of a validated module. On success the caller
 * owns *out and frees it with compiled_module_free. */
whirl_error_t *compile_module(const wasm_module_t *module, compiled_module_t **out);
/* The same with the peepholes and fused instructions on or off
 * (`optimize`); off gives one internal instruction per Wasm instruction
 * where possible, for debugging and for testing the plain forms. */
whirl_error_t *compile_module_opts(const wasm_module_t *module, bool optimize,
                                   compiled_module_t **out);
void compiled_module_free(compiled_module_t *cm);

/* Words of the instruction starting at `pc` (its first word an op number),
 * of which `avail` are readable; 0 if `pc[0]` is not an op or the
 * instruction does not fit. */
uint32_t code_instr_words(const code_word_t *pc, size_t avail);

/* Byte offset in the module of the instruction at word `pc` of `f`. */
uint32_t compiled_func_offset(const compiled_func_t *f, uint32_t pc);

/* Slots a value of type `t` occupies. */
static inline uint32_t slots_of(wasm_valtype_t t) { return t == WASM_V128 ? 2 : 1; }

#endif
