/* Internal layout of the runtime objects behind the public handles, shared
 * by src/runtime (which creates and manages them) and src/exec (which runs
 * code against them). */
#ifndef WHIRL_RUNTIME_H
#define WHIRL_RUNTIME_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compile/code.h"
#include "runtime/fiber.h"
#include "runtime/vmctx.h"
#include "util/vec.h"
#include "wasm/module.h"
#include "whirl.h"

/* ---- config and engine ---- */

/* Knobs: the pool limits first, numbered as whirl_pool_limit_t, then the
 * rest. config.c describes each (names, environment variables, parsing). */
enum config_knob {
    KNOB_POOLING = WHIRL_POOL_LIMIT_COUNT, /* 0 off, 1 on */
    KNOB_EPOCH_INTERVAL,                   /* microseconds, 0: no ticker */
    KNOB_MAX_WASM_STACK,                   /* bytes */
    KNOB_DEBUG_INFO,                       /* 0/1 */
    KNOB_CACHE,                            /* value unused: see cache_path */
    KNOB_CACHE_MAX_SIZE,                   /* bytes of cache entries kept */
    KNOB_MAX_OPEN_FILES,                   /* listed only: the WASI hosts read it */
    KNOB_ASYNC_STACK_SIZE,                 /* bytes of a resumable call's fiber stack */
    KNOB_TIER,                             /* whirl_tier_t */
    KNOB_TIER_THRESHOLD,                   /* auto tier: calls + loop iterations */
    KNOB_COMPILE_THREADS,                  /* tier=jit: parts compiled at once, 0: auto */
    KNOB_PERFMAP,                          /* bool: /tmp/perf-PID.map for native code */
    KNOB_JITDUMP,                          /* bool: /tmp/jit-PID.dump for native code */
    KNOB_FEATURE_FIRST,                    /* 0/1 per whirl_feature_t, in its order */
    KNOB_COUNT = KNOB_FEATURE_FIRST + WHIRL_FEATURE_COUNT
};

/* Where a knob's value came from. An API call wins over the environment,
 * whirl's variable over Spin's, and the environment over the default. */
enum config_source {
    SRC_DEFAULT = 0,
    SRC_PROBE,     /* pooling, decided by the address-space probe */
    SRC_ENV_SPIN,
    SRC_ENV_WHIRL,
    SRC_API,
};

struct whirl_config {
    size_t max_wasm_stack; /* bytes of frame slots per call into wasm */
    uint64_t values[KNOB_COUNT];
    uint8_t source[KNOB_COUNT];
    char *cache_path;      /* NULL: no cache; owned */
    bool use_env;
    whirl_log_callback_t log;
    void *log_env;
};

#define WHIRL_DEFAULT_MAX_WASM_STACK (1u << 20)

struct pool;          /* src/alloc/pool.c */
struct tier_pool;     /* src/jit/jit_tier.c */
struct epoch_ticker;  /* src/runtime/epoch.c */

struct whirl_engine {
    /* Resolved: environment applied, derived defaults computed, pooling
     * decided (values[KNOB_POOLING] says whether `pool` exists). */
    struct whirl_config config;
    _Atomic uint64_t epoch;      /* advanced by the ticker and whirl_engine_increment_epoch */
    struct pool *pool;           /* NULL: on-demand allocation */
    /* The auto tier's background compile threads, started on the first
     * hot function (src/jit/jit_tier.c); NULL before. */
    _Atomic(struct tier_pool *) tier_pool;
    struct epoch_ticker *ticker; /* NULL: no ticker thread */
};

/* A resolved knob of the engine. */
#define ENGINE_KNOB(engine, k) ((engine)->config.values[(k)])

/* The WASM_FEATURE_* mask the engine decodes and validates with. */
uint32_t engine_wasm_features(const whirl_engine_t *engine);

/* ---- types ---- */

/* The public function type wraps the internal one so that a module's types
 * can be handed out without copying: (whirl_functype_t *)&wasm_functype. */
struct whirl_functype {
    wasm_functype_t type;
};

static inline const whirl_functype_t *functype_public(const wasm_functype_t *t)
{
    return (const whirl_functype_t *)t;
}

/* Structural equality of function types. */
bool functype_equal(const wasm_functype_t *a, const wasm_functype_t *b);

whirl_valkind_t valtype_to_kind(wasm_valtype_t t);
wasm_valtype_t valkind_to_type(whirl_valkind_t k); /* 0 if invalid */

/* ---- modules ---- */

struct jit_code;

struct whirl_module {
    atomic_uint refcount;       /* one per handle holder and per instance */
    whirl_engine_t *engine;
    wasm_module_t *wasm;        /* decoded, validated */
    compiled_module_t *code;    /* compiled function bodies */
    /* Native code of the LLVM tier for the whole module, or NULL: compiled
     * at creation (tier=jit) or linked from a .cwasm / cache entry
     * (runtime/native.c); owned, freed with the module. Its functions are
     * published into code->funcs[].native*. native_object: the relocatable
     * object it was linked from, when known (for serialising again); points
     * into the module's image or the code. */
    struct jit_code *jit;
    /* Some of its native code has no explicit bounds checks (jit.h,
     * guard_memory): native_enter refuses to run it against a memory
     * without the full guarded reservation. */
    _Atomic bool native_guarded;
    const uint8_t *native_object;
    size_t native_object_len;
    struct tier_state *tier;    /* the auto tier's per-module state, or NULL */
    /* Its DWARF (src/debug/dwarf.c), looked for on the first trap that
     * needs it: state DEBUG_INFO_UNKNOWN until then, `debug` set with
     * READY. */
    _Atomic int debug_state;
    struct debug_info *debug;
};

enum { DEBUG_INFO_UNKNOWN, DEBUG_INFO_NONE, DEBUG_INFO_READY };

void module_retain(whirl_module_t *module);
void module_release(whirl_module_t *module);

/* ---- store objects ---- */

/* Every object of a store is on one of these intrusive lists so the store
 * can free it. */
typedef enum object_kind {
    OBJ_FUNC,
    OBJ_MEMORY,
    OBJ_TABLE,
    OBJ_GLOBAL,
    OBJ_INSTANCE,
    OBJ_TAG,
    OBJ_EXN,
} object_kind_t;

typedef struct store_object {
    struct store_object *next;
    object_kind_t kind;
} store_object_t;

typedef enum func_kind {
    FUNC_WASM,
    FUNC_HOST,
} func_kind_t;

struct whirl_func {
    store_object_t obj;
    whirl_store_t *store;
    func_kind_t kind;
    /* For FUNC_WASM, the defining module's canonical type; for FUNC_HOST, a
     * copy owned by the function (host_type). */
    const wasm_functype_t *type;
    /* FUNC_WASM */
    whirl_instance_t *instance;
    const compiled_func_t *code;
    /* FUNC_HOST */
    whirl_host_callback_t callback;
    void *env;
    void (*finalizer)(void *env);
    whirl_functype_t *host_type;
};

struct whirl_memory {
    store_object_t obj;
    whirl_store_t *store;
    uint8_t *base;        /* start of the reservation; never moves */
    uint64_t size;        /* accessible bytes (pages * 64 KiB) */
    uint64_t max_pages;   /* growth limit (<= 65536) */
    bool has_max;         /* declared maximum, for import matching */
    bool is64;            /* memory64: i64 addresses (still at most 4 GiB here) */
    bool shared;          /* threads: shared memory (shared_memory.c; size read atomically) */
    bool shared_view;     /* a store's view of another store's shared memory (counts nothing) */
    uint64_t declared_max; /* a 64-bit memory's declared maximum, for import matching */
    size_t reserved;      /* bytes reserved at base (includes guard) */
    /* Hosting: bytes the memory may ever reach (reservation, pool and
     * max_memory_size), and where it came from. */
    uint64_t cap_bytes;
    /* Shared memories with views in other stores: the bytes and the list
     * of memory objects over them (shared_memory.c), else NULL. */
    struct shared_backing *backing;
    bool pooled;          /* base is pool slot `pool_slot`; else mapped on demand */
    uint32_t pool_slot;
};

struct whirl_table {
    store_object_t obj;
    whirl_store_t *store;
    wasm_valtype_t elem_type;
    uint32_t size;
    uint32_t max;         /* growth limit */
    bool has_max;         /* declared maximum, for import matching */
    void **elems;         /* funcref: whirl_func_t *, externref: host pointer */
    /* Hosting: a pooled table's elems is its slot and holds at most
     * `cap` entries; otherwise elems is malloc'd (cap: TABLE_MAX_ENTRIES). */
    uint32_t cap;
    bool pooled;
    uint32_t pool_slot;
    /* The defining module's types, for a concrete elem_type (typed
     * function references); NULL for host tables. After the fields native
     * code reads (vmctx.h offsets). */
    const wasm_functype_t *types;
    bool is64; /* a 64-bit table (table64: i64 indices), for import matching */
};

/* A global's value. v128 takes the whole 16 bytes. */
typedef union global_value {
    slot_t slot;
    uint8_t v128[16];
} global_value_t;

struct whirl_global {
    store_object_t obj;
    whirl_store_t *store;
    wasm_valtype_t type;
    bool is_mutable;
    global_value_t value;
    const wasm_functype_t *types; /* as whirl_table's */
};

struct whirl_instance {
    store_object_t obj;
    whirl_store_t *store;
    whirl_module_t *module;     /* retained */
    /* What code of every tier reads (vmctx.h): memory 0, the index spaces
     * (vm.funcs, vm.tables, vm.memories, vm.globals: whole, imports
     * first), the epoch and its deadline. */
    vmctx_t vm;
    /* Segments dropped by elem.drop/data.drop or after active init. */
    bool *elem_dropped;
    bool *data_dropped;
    whirl_tag_t **tags;         /* tag index space (exception handling) */
};

/* ---- exception handling (exn.c) ---- */

struct whirl_tag {
    store_object_t obj;
    whirl_store_t *store;
    const wasm_functype_t *type; /* parameters; the module's, or `owned` */
    whirl_functype_t *owned;     /* host-made tags: a copy of the type */
    uint32_t nslots;             /* slots the values take */
};

struct whirl_exn {
    store_object_t obj;
    whirl_store_t *store;
    whirl_tag_t *tag;
    slot_t values[];             /* tag->nslots */
};

/* A tag of `type` (borrowed: must outlive the store), adopted by `store`. */
whirl_tag_t *tag_create(whirl_store_t *store, const wasm_functype_t *type);
/* An exception of `tag` with the values in `slots`; NULL with *exhausted
 * false when out of memory, with *exhausted true when the store's
 * exceptions would pass the store's exception limit. */
whirl_exn_t *exn_create(whirl_store_t *store, whirl_tag_t *tag, const slot_t *slots,
                        bool *exhausted);
void tag_destroy(whirl_tag_t *tag);
void exn_destroy(whirl_exn_t *exn);

struct exec_stack; /* private to src/exec */

struct whirl_store {
    whirl_engine_t *engine;
    void *data;
    void (*finalizer)(void *data);
    store_object_t *objects;    /* everything to free, newest first */
    uint64_t exn_bytes;         /* held by exception objects (exn.c) */
    uint64_t exn_bytes_max;     /* whirl_store_exception_limit_set */
    struct exec_stack *exec;    /* created on first call into wasm */
    uint64_t epoch_deadline;    /* WHIRL_EPOCH_DEADLINE_NEVER: none */
    /* The deadline that traps; epoch_deadline (what code checks) is the
     * earlier of it and the end of an epoch-yield slice (async.c). */
    uint64_t epoch_hard_deadline;
    struct store_sampler *sampler; /* whirl_store_set_sampler; NULL: none */
    struct store_async {
        struct whirl_call *call;   /* the resumable call not yet done, or NULL */
        uint64_t yield_ticks;      /* whirl_store_epoch_yield_set; 0: none */
        uint64_t slice_end;        /* epoch at which the current yield slice ends */
        bool stack_used;           /* `stack` ran a call: scrub it on deletion */
        fiber_stack_t stack;       /* the end of the pool stack slot, or mapped */
    } async;
    struct store_hosting {
        /* whirl_store_limits_set; WHIRL_NO_LIMIT: none */
        uint64_t max_memory_size;
        uint64_t max_table_elements;
        uint64_t memory_consumed;  /* bytes across the store's memories */
        uint64_t deadline_ns;      /* whirl_store_set_deadline's time, or UINT64_MAX */
        /* Pool accounting (pooling only): what the store holds. */
        bool holds_instance;       /* counts against instance_count */
        bool holds_stack;          /* stack slot `stack_slot` */
        bool stack_used;           /* handed to the interpreter */
        uint32_t stack_slot;
        uint32_t core_instances, memories, tables;
        uint64_t instance_bytes;
    } hosting;
    /* Native code running on this store's thread (runtime/tier.c): the
     * innermost native_enter's jump buffer (NULL: no native frame) and the
     * trap being unwound to it. (The stack bound native code checks is in
     * each instance's context: vmctx.h stack_limit.) */
    struct store_native {
        void *trap_jmp;
        whirl_error_t *trap_error;
        /* The innermost native_enter's: its frame address, where the
         * frame-pointer chain of its native frames ends (backtraces,
         * jit_binding.c), and the context it entered (their names). */
        uintptr_t entry_fp;
        vmctx_t *vm;
    } native;
    struct sample_link *sample_outer; /* see sample_link_t */
};

/* The offsets native code reads the objects at (vmctx.h). */
_Static_assert(offsetof(struct whirl_memory, base) == VM_MEMORY_BASE, "vm offsets");
_Static_assert(offsetof(struct whirl_memory, size) == VM_MEMORY_SIZE, "vm offsets");
_Static_assert(offsetof(struct whirl_table, size) == VM_TABLE_SIZE, "vm offsets");
_Static_assert(offsetof(struct whirl_table, elems) == VM_TABLE_ELEMS, "vm offsets");
_Static_assert(offsetof(struct whirl_global, value) == VM_GLOBAL_VALUE, "vm offsets");
_Static_assert(offsetof(struct whirl_func, kind) == VM_FUNC_KIND, "vm offsets");
_Static_assert(offsetof(struct whirl_func, type) == VM_FUNC_TYPE, "vm offsets");
_Static_assert(offsetof(struct whirl_func, instance) == VM_FUNC_INSTANCE, "vm offsets");
_Static_assert(offsetof(struct whirl_func, code) == VM_FUNC_CODE, "vm offsets");
_Static_assert(FUNC_WASM == 0 && FUNC_HOST == 1, "vm offsets");
_Static_assert(offsetof(struct store_hosting, max_memory_size) == VM_LIMITS_MAX_MEMORY_SIZE,
               "vm offsets");
_Static_assert(offsetof(struct store_hosting, max_table_elements) ==
                   VM_LIMITS_MAX_TABLE_ELEMENTS,
               "vm offsets");

/* ---- stack sampling (sampler.c) ----
 * A sampler shares the epoch check with the deadline: store->epoch_deadline
 * is the earliest of the hard deadline, the next sample's epoch and the end
 * of an epoch-yield slice (store_deadline_apply), so the interpreter's loop
 * checks nothing more. A tier whose epoch check fires calls
 * store_epoch_reached: true means a sample was due (the tier fills the
 * frames with store_sample_frames and calls store_sample_taken); then, if
 * the epoch is still at store->epoch_deadline, store_epoch_expired yields
 * or says the hard deadline passed (trap `interrupt`). */
#define SAMPLE_MAX_FRAMES 1024
typedef struct store_sampler {
    whirl_sampler_fn_t fn;
    void *env;
    uint64_t period;
    uint64_t next;      /* epoch of the next sample */
    whirl_sample_frame_t frames[SAMPLE_MAX_FRAMES];
} store_sampler_t;

/* The activations of the current call into wasm under the running one,
 * innermost first, for samples: the interpreter links itself in when it
 * enters native code, native code when it calls out to the interpreter
 * (each with a record on its own C stack, unlinked on the way back), so a
 * sample taken in one tier also names the other tier's callers. A host
 * function ends the chain: it runs with store->sample_outer NULL, and
 * wasm it calls is a new call into wasm (whirl.h). native_enter restores
 * the head it found, also when a trap jumps over records. */
typedef struct sample_link {
    struct sample_link *outer;
    /* Writes up to `max` frames of this activation, innermost first. */
    size_t (*frames)(const struct sample_link *self, whirl_sample_frame_t *out, size_t max);
} sample_link_t;

static inline void sample_link_push(whirl_store_t *store, sample_link_t *link)
{
    link->outer = store->sample_outer;
    store->sample_outer = link;
}

static inline void sample_link_pop(whirl_store_t *store, sample_link_t *link)
{
    store->sample_outer = link->outer;
}

/* Sets the store's hard deadline (every deadline setter goes through it);
 * store->epoch_hard_deadline holds it, for work that checks the epoch as it
 * goes (bulk operations cannot stop for a sample or a yield and resume). */
void store_deadline_set(whirl_store_t *store, uint64_t deadline);
/* The hard deadline. */
uint64_t store_deadline_get(const whirl_store_t *store);
/* See above; `now` is the epoch the tier read. */
bool store_epoch_reached(whirl_store_t *store, uint64_t now);
/* Adds the frames of the activations under the running one (the chain
 * from store->sample_outer) after frames[0..n), hands them to the
 * callback and schedules the next sample. */
void store_sample_taken(whirl_store_t *store, size_t nframes);
void store_sampler_free(whirl_store_t *store);

/* What a host callback receives as `caller`: the store and, when called from
 * wasm, the calling instance (NULL when called through whirl_func_call). */
struct whirl_caller {
    whirl_store_t *store;
    whirl_instance_t *instance;
};

/* Links `obj` into the store's list (the store frees it on deletion). */
void store_adopt(whirl_store_t *store, store_object_t *obj, object_kind_t kind);

/* ---- operations used by the interpreter and instantiation ---- */

/* Grows memory by `delta` pages. Returns the old size in pages, or -1 if the
 * growth is refused (past the maximum or the OS refuses). */
int64_t memory_grow(whirl_memory_t *memory, uint64_t delta);

/* ---- bulk work and the epoch deadline ----
 *
 * Instructions whose cost grows with an operand (memory.fill/copy/init,
 * table.fill/copy/init/grow) must not count as one step towards the
 * deadline, or a straight-line run of them outruns it by seconds. Those
 * above BULK_SMALL_BYTES of work check the epoch before each chunk of
 * BULK_CHUNK_BYTES (table entries count as pointer-sized bytes), so a
 * deadline is late by at most one chunk beyond the instruction checks;
 * smaller ones cost no more than a few ordinary instructions and skip the
 * check. An interrupted operation has done its first chunks: bounds were
 * checked before any of them, and the instance is trapped. */
#define BULK_SMALL_BYTES 256u
#define BULK_CHUNK_BYTES ((uint64_t)1 << 18)

/* True once the epoch has reached `deadline` (the interpreter's check). */
static inline bool epoch_reached(const _Atomic uint64_t *epoch, uint64_t deadline)
{
    return atomic_load_explicit(epoch, memory_order_relaxed) >= deadline;
}

/* The epoch reached store->epoch_deadline: the new deadline to run to
 * (the store yields first if it runs a resumable call that asked to yield
 * at the end of each slice), or 0 if the hard deadline is reached (trap
 * `interrupt`). Defined in async.c. */
uint64_t store_epoch_expired(whirl_store_t *store);
/* Recomputes store->epoch_deadline from the hard deadline and the slice. */
void store_deadline_apply(whirl_store_t *store);
/* Cancels the store's resumable call, if any (whirl_store_delete), and
 * scrubs the fiber stack of its pool slot. */
void store_async_release(whirl_store_t *store);

/* Grows table by `delta` entries set to `init`. Returns the old size, or -1
 * if refused. */
int64_t table_grow(whirl_table_t *table, uint64_t delta, void *init);
/* table_grow for wasm code: a large growth fills its entries in chunks and
 * checks `deadline` before each; reaching it returns TABLE_GROW_INTERRUPTED
 * with only the entries filled so far added to the table, so every entry
 * below its size is initialised. */
#define TABLE_GROW_INTERRUPTED (-2)
int64_t table_grow_until(whirl_table_t *table, uint64_t delta, void *init,
                         const _Atomic uint64_t *epoch, uint64_t deadline);

/* Memory for the interpreter's slot and frame arrays of `store`: `bytes`
 * from the pool's stack slot the store holds, or NULL without one (pooling
 * off, or `bytes` larger than a slot), in which case the interpreter
 * allocates them itself. The memory stays the store's until it is deleted
 * (whirl_store_delete calls exec_stack_free first); never free it. */
void *store_exec_stack_memory(whirl_store_t *store, size_t bytes);

/* ---- tiers (tier.c) ---- */

/* The entry trampoline of a natively compiled function. */
typedef void (*native_entry_t)(vmctx_t *vm, slot_t *args_results);

static inline native_entry_t native_entry_of(const compiled_func_t *f)
{
    return (native_entry_t)atomic_load_explicit(&f->native_entry, memory_order_acquire);
}

/* Runs native code: `entry` of a function of the instance behind `vm`,
 * arguments and results in `slots`. Traps in native code come back as trap
 * errors (the binding unwinds to here); re-entrant. */
whirl_error_t *native_enter(whirl_store_t *store, vmctx_t *vm, native_entry_t entry,
                            slot_t *slots);
/* Hands the error to the innermost native_enter of `store` (the caller
 * added the native frames to its backtrace). Never returns. */
__attribute__((noreturn)) void native_unwind(whirl_store_t *store, whirl_error_t *err);

/* The engine's tier for new modules (knob "tier", resolved for this build). */
whirl_tier_t engine_tier(const whirl_engine_t *engine);
/* Called once a module is assembled: compiles it (tier=jit), publishes
 * native code it came with, or prepares it for tiering up (auto). */
void tier_module_ready(whirl_module_t *module);
/* Frees the module's native code and tier state (module teardown). */
void tier_module_free(whirl_module_t *module);
/* Stops the engine's compile threads (engine teardown). */
void tier_engine_free(whirl_engine_t *engine);
/* The interpreter found `f` hot (auto tier): queue it for compilation. */
void tier_hot(whirl_instance_t *inst, const compiled_func_t *f);
/* The same at a back-edge to the loop header at code position `pc` of
 * `f`, in the interpreter frame `frame`: returns the entry of `f`'s native
 * variant that starts at that loop (on-stack replacement,
 * jit/jit_osr.c), once built, else NULL. The interpreter calls it with the
 * frame's slots and returns its results. */
native_entry_t tier_loop_hot(whirl_instance_t *inst, const compiled_func_t *f, uint32_t pc,
                             const void *frame);

/* Value conversion between the public form and frame slots. */
void val_to_slots(const whirl_val_t *val, slot_t *slots);
void val_from_slots(whirl_val_t *val, wasm_valtype_t type, const slot_t *slots);

#endif
