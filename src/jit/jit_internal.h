/* What jit.c (compiling) and jit_object.c (objects, linking) share. Private
 * to src/jit. */
#ifndef WHIRL_JIT_INTERNAL_H
#define WHIRL_JIT_INTERNAL_H

#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/TargetMachine.h>
#include <setjmp.h>

#include "jit/jit.h"
#include "jit/translate.h"

/* One unchecked access in the code: its offset in the object's code
 * section, and the Wasm function and byte offset it came from
 * (jit_pcmap.c). */
typedef struct jit_pc_site {
    uint64_t text;
    uint32_t func, offset;
} jit_pc_site_t;

/* The section LLVM's !pcsections entries go to (translate_memory.c). */
#define JIT_PC_SECTION "whirl_pc"
/* The section of the call-site marks (jit_binding.c jb_mark_call), same
 * entries. */
#define JIT_CALL_SECTION "whirl_calls"

struct jit_code {
    const wasm_module_t *wasm;
    LLVMOrcLLJITRef jit;
    uint32_t nfuncs;
    void **native;        /* per function index; NULL: not compiled */
    void **entry;
    const char **why_not;
    jit_stats_t stats;
    /* The relocatable object the code was linked from, when kept
     * (jit_options_t.keep_object); malloc'd. */
    uint8_t *object;
    size_t object_len;
    char *why_storage;    /* why_not strings read from a file (jit_code_from_object) */
    void *const *table;   /* JIT_FUNC_TABLE in the linked code */
    void *code_end;       /* where the last function ends */
    struct gdb_jit_entry *gdb_entry; /* registered with gdb (gdb_jit.c), or NULL */
    uintptr_t code_start; /* lowest function address (the fault registry's key) */
    bool guarded;         /* jit_options_t.guard_memory */
    jit_pc_site_t *pc_sites; /* guarded code: sorted by .text, malloc'd */
    size_t npc_sites;
    jit_pc_site_t *call_sites; /* call-site marks, sorted (jit_pcmap.c), malloc'd */
    bool call_rows;            /* call_sites are .debug_line rows, not marks */
    size_t ncall_sites;
    uintptr_t *code_starts;    /* every function's address, sorted (jit_pcmap.c) */
    size_t ncode_starts;
    uintptr_t text_base;  /* load address of the object's code section */
    void **osr;           /* per jit_options_t.osr request: its entry, or NULL (jit_osr.c) */
    size_t nosr;
    /* Code compiled in parts (jit_parts.c): this one only gathers the
     * parts' functions, stats and object; each part is linked and
     * registered on its own. */
    struct jit_code **parts;
    size_t nparts;
    unsigned part;        /* jit_options_t.part: the names of its tables */
    bool jit_shared;      /* `jit` is the parts' one JIT, the gathering code's */
};

/* The tables every object carries (jit_object.c): per function index, the
 * offsets of its native function and its slot entry from the table (0 for
 * imports and functions left to the interpreter); and per function index
 * why it was left out (a string, or NULL). */
#define JIT_FUNC_TABLE "whirl_func_table"
#define JIT_WHY_TABLE "whirl_func_why"

/* jit.c: one object, every function of `options->only` (or all). */
whirl_error_t *jit_compile_one(const wasm_module_t *module, const jit_options_t *options,
                               jit_code_t **out);
/* A code object for `module` with empty tables (jit_code_free frees it). */
jit_code_t *jit_code_new(const wasm_module_t *module, bool guarded);
/* LLVM ready and a new code object for a compile or a load with `options`. */
whirl_error_t *jit_code_begin(const wasm_module_t *module, const jit_options_t *options,
                              jit_code_t **code);

/* jit_object.c: links one object, into `jit` when not NULL (a part's
 * object, its tables named for options->part; `jit` outlives the code). */
whirl_error_t *jit_code_from_one_object(const wasm_module_t *module, const uint8_t *bytes,
                                        size_t len, const jit_options_t *options,
                                        LLVMOrcLLJITRef jit, jit_code_t **out);
/* A JIT with the runtime's symbols defined, for objects to be linked in. */
whirl_error_t *jit_new_lljit(LLVMOrcLLJITRef *out);
/* `base` (JIT_FUNC_TABLE, JIT_WHY_TABLE) as part `part` names it. */
void jit_table_name(char *buf, size_t size, const char *base, unsigned part);

/* jit_parts.c: a whole-module compile in parts, and the object of such
 * code (several objects in one container). */
whirl_error_t *jit_compile_parts(const wasm_module_t *module, const jit_options_t *options,
                                 jit_code_t **out);
bool jit_parts_object(const uint8_t *bytes, size_t len);
whirl_error_t *jit_code_from_parts_object(const wasm_module_t *module, const uint8_t *bytes,
                                          size_t len, const jit_options_t *options,
                                          jit_code_t **out);

/* jit.c */
bool jit_llvm_init(void);       /* once per process; false: no native target */
LLVMTargetMachineRef host_machine(void);
whirl_error_t *llvm_error(const char *what, LLVMErrorRef e);
extern __thread jmp_buf *fatal_jmp; /* where LLVM's fatal-error handler jumps */
extern __thread char fatal_reason[256];

/* jit_pcmap.c: reads the PC map of guarded code and where each call is
 * (the calls' .debug_line rows, or debug-info code's call-site marks)
 * from its object (after linking: needs code_end); without a PC map,
 * faults name the function only. */
void jit_pcmap_build(jit_code_t *code, const uint8_t *obj, size_t len);
/* Marks the site sections of a freshly emitted object as not loaded: the
 * JIT linker then neither copies them into memory nor applies their
 * relocations (one per memory access and call: 233,000 in a module of
 * 6,000 functions), which jit_pcmap_build reads from the object itself. */
void jit_pcmap_unload_sections(uint8_t *obj, size_t len);
/* Adds `n` function addresses (0s ignored) to the starts that bound the
 * functions for the call-site marks (on-stack replacement variants). */
void jit_pcmap_add_starts(jit_code_t *code, const uintptr_t *at, size_t n);

/* jit_osr.c: builds the on-stack replacement variants of `n` requests
 * (function index, loop offset pairs) into jm->mod (after translation,
 * before jit_add_func_table); after linking, reads their entries into
 * code->osr. */
void jit_osr_translate(jt_module_t *jm, const uint32_t *requests, size_t n);
whirl_error_t *jit_osr_link(jit_code_t *code, size_t n);

/* jit_object.c */
/* Adds JIT_FUNC_TABLE to jm->mod (after translation, before optimising). */
void jit_add_func_table(jt_module_t *jm);
/* Emits `mod` as an object file; *out is malloc'd. */
whirl_error_t *jit_emit_object(LLVMTargetMachineRef tm, LLVMModuleRef mod, uint8_t **out,
                               size_t *out_len);
/* Links `len` bytes of object into `jit` (NULL: a new LLJIT of the code's
 * own) and fills code->native and code->entry from its table. The bytes are
 * not copied and must outlive the linking (this call). */
whirl_error_t *jit_link_object(jit_code_t *code, const uint8_t *bytes, size_t len,
                               LLVMOrcLLJITRef jit);

#endif
