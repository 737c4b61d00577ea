/* The per-instance context every tier runs against: one flat struct at
 * fixed offsets, embedded in each instance (whirl_instance_t.vm). The
 * interpreter reads memory 0, globals and the epoch through it, and native
 * code (src/jit) receives a pointer to it and loads the same fields at the
 * VMCTX_* byte offsets below, which are checked against the struct at
 * compile time: change the struct and the build fails until the constants
 * (and whatever generated code assumes them) follow.
 *
 * What it holds is either constant for the instance's life (memory 0's
 * base: a memory's reservation never moves; the index-space arrays; the
 * engine's and store's addresses) or a pointer to where a shared value
 * lives (memory 0's current size is in the memory object, which other
 * instances importing it may grow; the deadline is the store's; globals
 * may be imported). So nothing here needs updating when another instance
 * or the host changes state. The objects behind the pointers are read at
 * the VM_* offsets (also checked).
 *
 * docs/ARCHITECTURE.md ("The instance context") shows the layout. */
#ifndef WHIRL_RUNTIME_VMCTX_H
#define WHIRL_RUNTIME_VMCTX_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "compile/code.h"

struct whirl_instance;
struct whirl_store;
struct whirl_memory;
struct whirl_table;
struct whirl_global;
struct whirl_func;
struct store_hosting;

typedef struct vmctx {
    /* Memory 0: its base (NULL without memory), and its object, whose
     * `size` (bytes, VM_MEMORY_SIZE) is current after any growth. */
    uint8_t *memory0_base;
    struct whirl_memory *memory0;
    /* Index spaces, imports first (VM_GLOBAL_VALUE for a global's value). */
    struct whirl_global **globals;
    struct whirl_func **funcs;
    struct whirl_table **tables;
    struct whirl_memory **memories;
    /* Epoch interruption: trap when *epoch >= *epoch_deadline. The counter
     * is the engine's (advanced by its ticker), the deadline the store's. */
    const _Atomic uint64_t *epoch;
    const uint64_t *epoch_deadline;
    /* The store's limits and accounting (max_memory_size, ...), enforced
     * by the runtime's grow functions. */
    const struct store_hosting *limits;
    /* The module's canonical function types (call_indirect compares
     * against them) and compiled functions, by defined index. */
    const wasm_functype_t *types;
    const compiled_func_t *code;
    struct whirl_instance *instance;
    struct whirl_store *store;
    /* The native stack bound generated code checks at function entry
     * (stack pointer below it: stack exhausted), here so the check is one
     * load. Not constant: native_enter sets it for the activation it
     * starts and puts the previous value back when it ends, because the
     * bound is the entering thread's and stack's (an instance runs on the
     * thread of its store, but a resumable call runs on a fiber's stack).
     * Native code reaches another instance's code only through
     * native_enter, or directly when that instance's bound is already the
     * same (jit_binding.c rt_call), so every running native frame sees
     * its own activation's bound. 0 until the first entry. */
    uintptr_t stack_limit;
} vmctx_t;

/* Byte offsets of vmctx_t's fields, for generated code. */
enum {
    VMCTX_MEMORY0_BASE = 0,
    VMCTX_MEMORY0 = 8,
    VMCTX_GLOBALS = 16,
    VMCTX_FUNCS = 24,
    VMCTX_TABLES = 32,
    VMCTX_MEMORIES = 40,
    VMCTX_EPOCH = 48,
    VMCTX_EPOCH_DEADLINE = 56,
    VMCTX_LIMITS = 64,
    VMCTX_TYPES = 72,
    VMCTX_CODE = 80,
    VMCTX_INSTANCE = 88,
    VMCTX_STORE = 96,
    VMCTX_STACK_LIMIT = 104,
    VMCTX_SIZE = 112,
};

/* Offsets inside the objects the context points to, checked where those
 * structs are defined (runtime.h). */
enum {
    VM_MEMORY_BASE = 24,    /* whirl_memory_t: uint8_t *base, never moves */
    VM_MEMORY_SIZE = 32,    /* uint64_t size: accessible bytes */
    VM_TABLE_SIZE = 28,     /* whirl_table_t: uint32_t size, entries */
    VM_TABLE_ELEMS = 40,    /* void **elems: funcref entries are whirl_func_t * */
    VM_GLOBAL_VALUE = 32,   /* whirl_global_t: 16 bytes, scalars and refs in the low 8 */
    VM_FUNC_KIND = 24,      /* whirl_func_t: func_kind_t (FUNC_WASM 0, FUNC_HOST 1) */
    VM_FUNC_TYPE = 32,      /* const wasm_functype_t *: canonical within its module */
    VM_FUNC_INSTANCE = 40,  /* whirl_instance_t * (wasm functions) */
    VM_FUNC_CODE = 48,      /* const compiled_func_t * (wasm functions) */
    VM_LIMITS_MAX_MEMORY_SIZE = 0,   /* struct store_hosting: uint64_t bytes */
    VM_LIMITS_MAX_TABLE_ELEMENTS = 8, /* uint64_t entries */
};

_Static_assert(offsetof(vmctx_t, memory0_base) == VMCTX_MEMORY0_BASE, "vmctx layout");
_Static_assert(offsetof(vmctx_t, memory0) == VMCTX_MEMORY0, "vmctx layout");
_Static_assert(offsetof(vmctx_t, globals) == VMCTX_GLOBALS, "vmctx layout");
_Static_assert(offsetof(vmctx_t, funcs) == VMCTX_FUNCS, "vmctx layout");
_Static_assert(offsetof(vmctx_t, tables) == VMCTX_TABLES, "vmctx layout");
_Static_assert(offsetof(vmctx_t, memories) == VMCTX_MEMORIES, "vmctx layout");
_Static_assert(offsetof(vmctx_t, epoch) == VMCTX_EPOCH, "vmctx layout");
_Static_assert(offsetof(vmctx_t, epoch_deadline) == VMCTX_EPOCH_DEADLINE, "vmctx layout");
_Static_assert(offsetof(vmctx_t, limits) == VMCTX_LIMITS, "vmctx layout");
_Static_assert(offsetof(vmctx_t, types) == VMCTX_TYPES, "vmctx layout");
_Static_assert(offsetof(vmctx_t, code) == VMCTX_CODE, "vmctx layout");
_Static_assert(offsetof(vmctx_t, instance) == VMCTX_INSTANCE, "vmctx layout");
_Static_assert(offsetof(vmctx_t, store) == VMCTX_STORE, "vmctx layout");
_Static_assert(offsetof(vmctx_t, stack_limit) == VMCTX_STACK_LIMIT, "vmctx layout");
_Static_assert(sizeof(vmctx_t) == VMCTX_SIZE, "vmctx layout");

#endif
