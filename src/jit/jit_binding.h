/* The binding between code compiled by the LLVM tier and an instance.
 *
 * This is the one place that knows where instance state lives: the
 * translator asks it for IR that loads the memory base and size, finds a
 * global, checks the epoch and the native stack, traps, and calls the
 * runtime functions below. Today the context is a small struct filled from
 * the interpreter's instance (jit_ctx_t); when the runtime's flat
 * per-instance context arrives, only this header and jit_binding.c change.
 *
 * Traps: generated code calls the binding's trap function, which records
 * the trap error and longjmps to the jit_call that entered native code.
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

/* Per-instance context handed to every generated function as its first
 * argument. Generated code reads the fields through the jb_* emitters. */
typedef struct jit_ctx {
    uint8_t *mem_base;              /* memory 0 (never moves), or NULL */
    uint64_t mem_size;              /* bytes; refreshed after grow and calls out */
    whirl_global_t **globals;       /* the instance's globals (imports first) */
    const _Atomic uint64_t *epoch;  /* the engine's epoch counter */
    uint64_t epoch_deadline;        /* the store's deadline, read at entry */
    uintptr_t stack_limit;          /* native frames below this trap */
    whirl_instance_t *instance;
    const struct jit_code *code;
    jmp_buf *trap_jmp;              /* the innermost jit_call's jump buffer */
    whirl_error_t *trap_error;      /* the trap being unwound */
} jit_ctx_t;

/* Runtime functions called from generated code. */
enum jb_runtime {
    JB_RT_TRAP,           /* (ctx, code, func, offset) noreturn */
    JB_RT_CALL,           /* (ctx, func index, slots) */
    JB_RT_INDIRECT,       /* (ctx, table, type, elem, func, offset) -> native code or NULL */
    JB_RT_CALL_INDIRECT,  /* (ctx, table, elem, slots) */
    JB_RT_MEMORY_GROW,    /* (ctx, delta) -> old pages or -1 */
    JB_RT_MEMORY_FILL,    /* (ctx, dst, value, n, func, offset) */
    JB_RT_MEMORY_COPY,    /* (ctx, dst, src, n, func, offset) */
    JB_RT_MEMORY_INIT,    /* (ctx, seg, dst, src, n, func, offset) */
    JB_RT_DATA_DROP,      /* (ctx, seg) */
    JB_RT_TABLE_GET,      /* (ctx, table, i, func, offset) -> ref */
    JB_RT_TABLE_SET,      /* (ctx, table, i, ref, func, offset) */
    JB_RT_TABLE_SIZE,     /* (ctx, table) -> i32 */
    JB_RT_TABLE_GROW,     /* (ctx, table, init, n) -> old size or -1 */
    JB_RT_TABLE_FILL,     /* (ctx, table, i, ref, n, func, offset) */
    JB_RT_TABLE_COPY,     /* (ctx, dst table, src table, dst, src, n, func, offset) */
    JB_RT_TABLE_INIT,     /* (ctx, seg, table, dst, src, n, func, offset) */
    JB_RT_ELEM_DROP,      /* (ctx, seg) */
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
LLVMValueRef jb_global_ptr(jt_func_t *f, uint32_t index);
LLVMValueRef jb_func_ref(jt_func_t *f, uint32_t index);
/* Function entry: native stack limit and epoch. Loop headers: epoch. */
void jb_entry_checks(jt_func_t *f);
void jb_loop_check(jt_func_t *f);

/* ---- run time ---- */

/* Fills `ctx` for `instance` running `code` (which must have been compiled
 * from the instance's module). The context stays valid while the instance
 * lives; it holds no allocation. */
void jit_ctx_init(jit_ctx_t *ctx, whirl_instance_t *instance, const struct jit_code *code);

/* Calls function `func_index` of the context's instance with `args`,
 * writing `results` (counts and kinds checked by the caller). Functions the
 * JIT did not compile run in the interpreter. Traps come back as trap
 * errors, as from whirl_func_call. */
whirl_error_t *jit_call(jit_ctx_t *ctx, uint32_t func_index, const whirl_val_t *args,
                        whirl_val_t *results);

#endif
