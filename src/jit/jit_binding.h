/* The binding between code compiled by the LLVM tier and an instance.
 *
 * This is the one place that knows where instance state lives: the
 * translator asks it for IR that loads the memory base and size, finds a
 * global, checks the epoch and the native stack, traps, and calls the
 * runtime functions below. The context is the runtime's flat per-instance
 * context (vmctx_t).
 *
 * Traps: generated code calls the binding's trap function, which records
 * the trap error and longjmps to the native_enter that entered native code.
 * Chosen over returning a status from every function because (1) the
 * guard-page memories of issue 15 turn a fault inside guest code into a
 * trap from a signal handler, which needs a non-local exit anyway, so one
 * mechanism serves both; (2) the fast path then carries no status check
 * after every call and functions keep their natural return types, which
 * LLVM optimises best. Generated code holds no resources that would need
 * unwinding (no heap memory, no locks), so jumping over its frames is safe.
 * Runtime functions that can trap take the function index and Wasm byte
 * offset of the instruction, so trap messages match the interpreter's. */
#ifndef WHIRL_JIT_BINDING_H
#define WHIRL_JIT_BINDING_H

#include <setjmp.h>
#include <stdatomic.h>

#include "jit/translate.h"
#include "runtime/runtime.h"

struct jit_code;

/* Generated code takes the instance's context (runtime/vmctx.h, the
 * instance's `vm`) as its first argument and reads it at the VMCTX_*
 * offsets; the trap state and the native stack bound are its store's
 * (whirl_store_t.native, runtime/tier.c). */

/* Runtime functions called from generated code. */
enum jb_runtime {
    JB_RT_TRAP,           /* (ctx, code, func, offset) noreturn */
    JB_RT_CALL,           /* (ctx, func index, slots, func, offset) */
    JB_RT_INDIRECT,       /* (ctx, table, type, elem, func, offset) -> native code or NULL */
    JB_RT_CALL_INDIRECT,  /* (ctx, table, elem, slots, func, offset) */
    JB_RT_MEMORY_GROW,    /* (ctx, delta) -> old pages or -1 */
    JB_RT_MEMORY_FILL,    /* (ctx, dst, value, n, func, offset) */
    JB_RT_MEMORY_COPY,    /* (ctx, dst, src, n, func, offset) */
    JB_RT_MEMORY_INIT,    /* (ctx, seg, dst, src, n, func, offset) */
    JB_RT_DATA_DROP,      /* (ctx, seg) */
    JB_RT_TABLE_GET,      /* (ctx, table, i, func, offset) -> ref */
    JB_RT_TABLE_SET,      /* (ctx, table, i, ref, func, offset) */
    JB_RT_TABLE_SIZE,     /* (ctx, table) -> i32 */
    JB_RT_TABLE_GROW,     /* (ctx, table, init, n, func, offset) -> old size or -1 */
    JB_RT_TABLE_FILL,     /* (ctx, table, i, ref, n, func, offset) */
    JB_RT_TABLE_COPY,     /* (ctx, dst table, src table, dst, src, n, func, offset) */
    JB_RT_TABLE_INIT,     /* (ctx, seg, table, dst, src, n, func, offset) */
    JB_RT_ELEM_DROP,      /* (ctx, seg) */
    JB_RT_EPOCH,          /* (ctx, func, offset): the epoch check fired */
    /* Any memory (multi-memory), i64 operands (a 32-bit memory's are
     * zero-extended, memory64's are as they are): */
    JB_RT_MEMORY_GROW_AT, /* (ctx, mem, delta) -> old pages or -1 (i64) */
    JB_RT_MEMORY_FILL_AT, /* (ctx, mem, dst, value, n, func, offset) */
    JB_RT_MEMORY_COPY_AT, /* (ctx, dst mem, src mem, dst, src, n, func, offset) */
    JB_RT_MEMORY_INIT_AT, /* (ctx, mem, seg, dst, src, n, func, offset) */
    /* Tail calls that cannot jump to native code: the callee runs (a wasm
     * callee in the interpreter, where tail calls stay in place), then the
     * caller returns. */
    JB_RT_RETURN_CALL,          /* (ctx, func index, slots, func, offset) */
    JB_RT_RETURN_CALL_INDIRECT, /* (ctx, table, elem, slots, func, offset) */
    /* Threads (translate_atomic.c): */
    JB_RT_SHARED_BOUNDS,  /* (ctx, mem, end, func, offset): traps unless end <= the size reread */
    JB_RT_ATOMIC_WAIT,    /* (ctx, host addr, size, expected, timeout ns, func, offset) -> 0/1/2 */
    JB_RT_ATOMIC_NOTIFY,  /* (ctx, host addr, count) -> woken */
    /* Typed function references: a funcref's callee (traps on null). */
    JB_RT_REF_NATIVE,     /* (ctx, ref, func, offset) -> native code or NULL */
    JB_RT_CALL_REF,       /* (ctx, ref, slots, func, offset) */
    JB_RT_RETURN_CALL_REF, /* (ctx, ref, slots, func, offset) */
    /* Exceptions: make or take one and unwind (noreturn). */
    JB_RT_THROW,          /* (ctx, tag, slots, func, offset) */
    JB_RT_THROW_REF,      /* (ctx, exnref, func, offset): null traps */
    /* Inside a block with handlers (translate_exn.c): calls that return
     * an exception from the callee instead of unwinding (NULL: none;
     * traps still unwind), and throw's exception made, not thrown. */
    JB_RT_CALL_CATCH,          /* (ctx, func index, slots, func, offset) -> exn */
    JB_RT_CALL_INDIRECT_CATCH, /* (ctx, table, elem, slots, func, offset) -> exn */
    JB_RT_CALL_REF_CATCH,      /* (ctx, ref, slots, func, offset) -> exn */
    JB_RT_EXN_NEW,        /* (ctx, tag, slots, func, offset) -> exn */
    JB_RT_EXN_MATCH,      /* (ctx, exn, tag, slots) -> 1 with the values in slots, or 0 */
    JB_RT_COUNT
};

/* ---- translation time ---- */

/* Declares the runtime functions in jm->mod. */
void jb_declare_runtime(jt_module_t *jm);
/* Name and address of runtime function `i`, for the JIT's symbol table. */
const char *jb_runtime_name(int i);
void *jb_runtime_address(int i);

LLVMValueRef jb_call(jt_func_t *f, enum jb_runtime rt, LLVMValueRef *args, unsigned nargs);
/* The function index and current offset, as the trailing arguments. */
LLVMValueRef jb_site_func(jt_func_t *f);
LLVMValueRef jb_site_offset(jt_func_t *f);
/* Emits a call to the trap function (then `unreachable`); the builder is
 * left in a new, unreachable block. */
void jb_trap(jt_func_t *f, int code);
/* The same with the byte offset as an i32 value (the shared trap blocks). */
void jb_trap_at(jt_func_t *f, int code, LLVMValueRef offset);
LLVMValueRef jb_mem_base(jt_func_t *f);
LLVMValueRef jb_mem_size(jt_func_t *f);          /* i64 bytes */
/* The same for memory `mem` (any index; 0 gives the two above). */
LLVMValueRef jb_mem_base_at(jt_func_t *f, uint32_t mem);
LLVMValueRef jb_mem_size_at(jt_func_t *f, uint32_t mem);
/* The size of memory `mem` read afresh (memory.size): an acquire load for a
 * shared memory, which LLVM can neither hoist nor merge. */
LLVMValueRef jb_mem_size_now(jt_func_t *f, uint32_t mem);
LLVMValueRef jb_global_ptr(jt_func_t *f, uint32_t index);
LLVMValueRef jb_func_ref(jt_func_t *f, uint32_t index);
LLVMValueRef jb_native_of(jt_func_t *f, uint32_t index); /* defined function's, or NULL */
/* After building `call` (the builder still right after it): marks it as
 * a call site of the function at Wasm byte `offset`, so that a backtrace
 * finds the call from its return address (jit_pcmap.c), and keeps it from
 * becoming a sibling call (the caller's frame stays on the chain). Every
 * call generated code makes that may be on the stack when something
 * unwinds or samples needs it (a return address is named by the first
 * mark after it in its function); jb_call marks its calls. */
void jb_mark_call(jt_func_t *f, LLVMValueRef call, uint32_t offset);
/* Function entry: native stack limit and epoch. */
void jb_entry_checks(jt_func_t *f);
/* Loop headers: epoch; the check's branch and its read of the counter
 * are returned for jb_loop_check_drop. */
void jb_loop_check(jt_func_t *f, LLVMValueRef *branch, LLVMValueRef *epoch_load);
/* Takes a loop header's check out again: every iteration calls a function
 * that checks on entry (translate.c op_end says when). */
void jb_loop_check_drop(jt_func_t *f, LLVMValueRef branch, LLVMValueRef epoch_load);

/* ---- run time ---- */

/* Makes guard faults in native code traps (runtime/trap_signal.h): sets
 * the resolver, which names the function from the faulting PC. Once. */
void jb_guard_init(void);

/* For tests and tools that run a jit_code_t of their own against an
 * instance, whatever the engine's tier published: the instance and the
 * code (compiled from the instance's module). Holds no allocation. */
typedef struct jit_ctx {
    whirl_instance_t *instance;
    const struct jit_code *code;
} jit_ctx_t;

void jit_ctx_init(jit_ctx_t *ctx, whirl_instance_t *instance, const struct jit_code *code);

/* Calls function `func_index` of the context's instance with `args`,
 * writing `results` (counts and kinds checked by the caller), in the
 * context's native code if it has the function, else as exec_call does.
 * Traps come back as trap errors, as from whirl_func_call. */
whirl_error_t *jit_call(jit_ctx_t *ctx, uint32_t func_index, const whirl_val_t *args,
                        whirl_val_t *results);

#endif
