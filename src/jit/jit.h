/* The LLVM tier: compiles a validated module's functions to native code
 * (translate*.c builds LLVM IR, jit.c optimises it (a lean function pipeline) and compiles it
 * with ORC LLJIT). jit_binding.h runs the code against an instance; jit_osr.c
 * builds the variants that interpreter frames move into at loop headers.
 *
 * Every Wasm 2.0 instruction is translated, SIMD included, and of 3.0:
 * relaxed SIMD, multi-memory, memory64, tail calls, ref.as_non_null and
 * br_on_null/br_on_non_null. A function the tier does not compile
 * (exception handling, 64-bit tables, tail calls returning many results)
 * is reported per function with the reason and stays interpreted, calls
 * to it from compiled code going through the runtime. */
#ifndef WHIRL_JIT_H
#define WHIRL_JIT_H

#include <stdbool.h>
#include <stdint.h>

#include "wasm/module.h"
#include "whirl.h"

typedef struct jit_code jit_code_t;

typedef struct jit_options {
    bool verify;       /* LLVMVerifyModule before optimising (tests, debug builds) */
    bool no_optimize;  /* skip the optimisation pipeline (debugging) */
    const char *dump_ir; /* write the optimised IR to this file (NULL: no) */
    bool keep_object;  /* keep the relocatable object (jit_code_object) */
    bool perfmap;      /* append the functions to /tmp/perf-PID.map (perfmap.c) */
    /* DWARF for the generated code, registered with gdb (jit_debuginfo.c,
     * gdb_jit.c); implies no_optimize. Objects linked by
     * jit_code_from_object are registered when they carry DWARF. */
    bool debug_info;
    bool jitdump;      /* append the functions to perf's jit-PID.dump (jitdump.c) */
    /* Per function index: compile only these (the auto tier's hot
     * functions; calls to the others go through the runtime). NULL: all. */
    const bool *only;
    /* Loads and stores of memory 0 without explicit bounds checks: the code
     * may then only run against a guarded memory (jit_guard_ok), and a
     * fault becomes the trap through runtime/trap_signal.h. */
    bool guard_memory;
    /* On-stack replacement variants to build (jit_osr.c): `nosr` pairs of
     * (function index, byte offset of a `loop` with an empty operand
     * stack); jit_code_osr_entry gives each one's entry. */
    const uint32_t *osr;
    size_t nosr;
    /* Whole-module compiles: up to this many parts, each compiled on its
     * own thread at once (jit_parts.c); 0 or 1: one. Not with `only`,
     * `osr` or debug_info, and the caller's to refuse for modules with
     * tail calls (every part must use the C convention). */
    unsigned parts;
    /* Internal to jit_parts.c: a part's compile (its tables named for
     * part `part` - 1; 0: a whole object), stopping at the object
     * (jit_code_object; nothing linked). */
    unsigned part;
    bool emit_only;
} jit_options_t;

typedef struct jit_stats {
    uint32_t compiled;      /* defined functions compiled */
    uint32_t unsupported;   /* defined functions left to the interpreter */
    uint64_t code_bytes;    /* Wasm body bytes of the compiled functions */
    /* CPU time of the compiling thread; codegen_ms includes link_ms (ORC
     * linking the object, as loading a .cwasm does). */
    double translate_ms, optimize_ms, codegen_ms, link_ms;
} jit_stats_t;

/* Compiles every supported function of `module` (decoded and validated:
 * the translator trusts validation), in parts at once when
 * options->parts allows (jit_parts.c). On success *out is owned by the caller
 * (jit_code_free). An error names what failed; LLVM's fatal errors are
 * reported as errors where LLVM lets us, never by ending the process on
 * behalf of a guest. */
whirl_error_t *jit_compile(const wasm_module_t *module, const jit_options_t *options,
                           jit_code_t **out);
void jit_code_free(jit_code_t *code);

const jit_stats_t *jit_code_stats(const jit_code_t *code);
/* Whether function `func_index` (imports included) was compiled; if not and
 * it is a defined function, *why (if not NULL) receives a static reason. */
bool jit_code_compiled(const jit_code_t *code, uint32_t func_index, const char **why);
/* Native code of a compiled function: `native` has the Wasm ABI
 * (ctx, params...) -> results; `entry` is void (ctx, slot_t *args_results). */
void *jit_code_native(const jit_code_t *code, uint32_t func_index);
void *jit_code_entry(const jit_code_t *code, uint32_t func_index);
const wasm_module_t *jit_code_module(const jit_code_t *code);
/* The entry of on-stack replacement request `request` (jit_options_t.osr):
 * void (ctx, slot_t *frame), called on the interpreter's frame at that
 * loop's header, results to frame[0...]; NULL if it could not be built. */
void *jit_code_osr_entry(const jit_code_t *code, size_t request);
/* Whether the code was compiled with guard_memory (or loaded from such an
 * object). */
bool jit_code_guarded(const jit_code_t *code);
/* The Wasm function and byte offset of the unchecked access at `pc`
 * (guarded code); false if `pc` is not one. */
bool jit_code_site_at(const jit_code_t *code, uintptr_t pc, uint32_t *func, uint32_t *offset);
/* The Wasm function and byte offset of the call in native code that
 * returns to `ret` (a return address found on the stack); false if `ret`
 * is not one (trampolines, runtime code). */
bool jit_code_call_at(const jit_code_t *code, uintptr_t ret, uint32_t *func, uint32_t *offset);
/* The function whose native code contains `pc`; false if none. */
bool jit_code_func_at(const jit_code_t *code, uintptr_t pc, uint32_t *func_index);
/* Whether guard_memory code may be compiled in this process: on by
 * default (WHIRL_JIT_GUARD=0 turns it off, =1 on in sanitizer builds, where
 * it is off by default), where the architecture has a fault handler
 * (runtime/trap_signal_arch.h) and the address space is large
 * (alloc_probe_pooling). Decided once. */
bool jit_guard_enabled(void);
/* Whether guard_memory code may run against a memory with this
 * reservation: 32-bit, with the full ALLOC_MEMORY_RESERVATION. */
bool jit_guard_ok(bool is64, size_t reserved);
/* Whether guard_memory applies to `module`: it has at most one memory,
 * and that is 32-bit. Otherwise the option is ignored and the code keeps
 * its checks. */
bool jit_guard_module_ok(const wasm_module_t *module);

/* ---- Native code as relocatable objects (jit_object.c) ----
 * jit_compile links its code from an object file too, so compiled and
 * precompiled code are the same bytes. */

/* The object `code` was linked from, if it was kept (keep_object); NULL
 * otherwise. Owned by `code`. */
const uint8_t *jit_code_object(const jit_code_t *code, size_t *len);
/* Links `len` bytes of an object made by jit_compile (keep_object) for
 * `module` (the same module, decoded; function bodies not needed) into new
 * code that works as jit_compile's does: nothing is compiled. `bytes` need
 * not outlive the call. options: keep_object and perfmap are honoured. An
 * object for another module is not detected here: callers check the key
 * (jit_native_key_check) and their own checksums first. */
whirl_error_t *jit_code_from_object(const wasm_module_t *module, const uint8_t *bytes,
                                    size_t len, const jit_options_t *options, jit_code_t **out);
/* What native code depends on besides the module, as text (malloc'd):
 * target triple, host CPU name, its features, LLVM version and whirl's
 * build id (WHIRL_JIT_BUILD_ID: a hash of the sources and layouts the code
 * is tied to), one per line. NULL if LLVM cannot target this host. */
char *jit_native_key(void);
/* NULL if a key from a file (`len` bytes) matches this process's; else an
 * error naming the first thing that differs. */
whirl_error_t *jit_native_key_check(const char *file_key, size_t len);
/* Appends the compiled functions of `code` to /tmp/perf-PID.map (perfmap.c). */
void jit_perfmap_write(const jit_code_t *code);

/* Translator entry (translate.c): builds IR for every supported function
 * into `mod`, marking jm->supported. Returns NULL or an error. */
struct jt_module;
whirl_error_t *jt_translate_module(struct jt_module *jm);

#endif
