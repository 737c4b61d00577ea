/* DWARF for the LLVM tier's generated code (`-D debug-info`): what
 * jit_debuginfo.c adds to the IR while translate.c builds it, and how
 * gdb_jit.c and jitdump.c hand the result to debuggers and profilers.
 * Private to src/jit. */
#ifndef WHIRL_JIT_DEBUGINFO_H
#define WHIRL_JIT_DEBUGINFO_H

#include "jit/jit_internal.h"
#include "jit/translate.h"

typedef struct jt_debug jt_debug_t;

/* ---- jit_debuginfo.c: debug info in the IR ----
 * jt_debug_new starts a compile unit for jm->mod (which it marks with the
 * module flags DWARF needs); every function translate.c builds gets a
 * subprogram named from the name section, its instructions a line each
 * (the guest's source line when the module carries DWARF, else the Wasm
 * byte offset in a pseudo file "wasm-offsets"), its locals variables
 * local0, local1, ... in Wasm index order. NULL: out of memory (the code
 * is then compiled without debug info). */
jt_debug_t *jt_debug_new(jt_module_t *jm);
/* Attaches a subprogram to f->fn and points the builder at its first line
 * (call before the body's first instruction is built). */
void jt_debug_func_begin(jt_func_t *f, const wasm_func_t *fn);
/* Describes f->locals (allocas, all built) as variables. */
void jt_debug_locals(jt_func_t *f);
/* The line of the instruction at f->op_offset, for what the builder makes
 * next. */
void jt_debug_at(jt_func_t *f);
/* Leaves the function: the builder makes lines no more (trampolines and
 * thunks have no subprogram). */
void jt_debug_func_end(jt_func_t *f);
/* Describes the functions translate.c and jit_object.c add (trampolines,
 * thunks) and finalises the compile unit (before optimising and
 * emitting). */
void jt_debug_finish(jt_debug_t *d, jt_module_t *jm);
void jt_debug_free(jt_debug_t *d);

/* ---- jit_debuginfo.c: call lines, without debug info ----
 * jt_calls_new starts a line-tables-only compile unit (NULL: no memory;
 * calls are then marked by jit_binding.c's labels); every translated
 * function gets a subprogram (jt_calls_func_begin, before its first call
 * is built); jt_calls_mark gives a call the line of its Wasm byte offset
 * (false: no compile unit or subprogram, mark it otherwise);
 * jt_calls_finish finalises (before optimising), jt_debug_free frees. */
jt_debug_t *jt_calls_new(jt_module_t *jm);
void jt_calls_func_begin(jt_func_t *f);
bool jt_calls_mark(jt_func_t *f, LLVMValueRef call, uint32_t offset);
void jt_calls_finish(jt_debug_t *d);

/* ---- gdb_jit.c: the GDB JIT interface ----
 * Registers the object `code` was linked from (`len` bytes, copied) with
 * gdb, as an ELF image whose allocated sections' addresses are where the
 * code was loaded; nothing when it carries no .debug_info. Unregistered by
 * jit_gdb_unregister (jit_code_free). */
void jit_gdb_register(jit_code_t *code, const uint8_t *object, size_t len);
void jit_gdb_unregister(jit_code_t *code);

/* ---- jitdump.c: perf's jit-PID.dump ----
 * Appends a JIT_CODE_LOAD record (name, address, code bytes) for every
 * compiled function of `code` to this process's jitdump file, creating it
 * (header and the mmap marker perf inject looks for) on first use. */
void jit_jitdump_write(const jit_code_t *code);

/* perfmap.c: the size of each compiled function's code, per function
 * index (sizes[i]) and of its entry trampoline (sizes[nfuncs + i]); sizes
 * has 2 * nfuncs + 1 zeroed entries. */
void jit_code_sizes(const jit_code_t *code, uint64_t *sizes);

#endif
