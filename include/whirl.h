/*
 * whirl: a WebAssembly engine for hosts that run untrusted code on demand.
 *
 * One public header. Conventions, as in every function below:
 *  - Handles are opaque. Every fallible call returns `whirl_error_t *`: NULL
 *    means success; otherwise the caller owns the error and frees it with
 *    whirl_error_delete(). Traps are errors that carry a trap code.
 *  - `_delete` functions accept NULL.
 *  - Ownership is stated on each function. "Borrowed" means the callee keeps
 *    no reference after returning; "owned by the store" means the object lives
 *    until its store is deleted and must not be freed by the caller.
 *  - An engine and a module may be shared between threads. A store and every
 *    object in it (instances, funcs, memories, tables, globals) belongs to one
 *    thread at a time.
 */
#ifndef WHIRL_H
#define WHIRL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Every declaration between this push and its pop is part of libwhirl's ABI:
 * the library is compiled with -fvisibility=hidden, so only these names are
 * exported from libwhirl.so and kept global in libwhirl.a (cmake/WhirlLibrary.cmake). */
#pragma GCC visibility push(default)

#define WHIRL_VERSION "0.1.0"

/* Lets the compiler check the arguments of printf-style functions. */
#if defined(__GNUC__)
#define WHIRL_PRINTF(format_index, first_arg) \
    __attribute__((format(printf, format_index, first_arg)))
#else
#define WHIRL_PRINTF(format_index, first_arg)
#endif

/* ------------------------------------------------------------------ */
/* Errors and traps                                                    */
/* ------------------------------------------------------------------ */

typedef struct whirl_error whirl_error_t;

typedef enum whirl_trap_code {
    WHIRL_TRAP_UNREACHABLE = 1,          /* `unreachable` executed */
    WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS,     /* linear memory access out of bounds */
    WHIRL_TRAP_TABLE_OUT_OF_BOUNDS,      /* table access out of bounds (incl. undefined element) */
    WHIRL_TRAP_INDIRECT_CALL_NULL,       /* call_indirect to a null entry */
    WHIRL_TRAP_INDIRECT_CALL_TYPE,       /* call_indirect signature mismatch */
    WHIRL_TRAP_INTEGER_DIVIDE_BY_ZERO,
    WHIRL_TRAP_INTEGER_OVERFLOW,
    WHIRL_TRAP_INVALID_CONVERSION,       /* float -> int conversion of NaN/out of range */
    WHIRL_TRAP_STACK_EXHAUSTED,          /* call stack exhausted */
    WHIRL_TRAP_INTERRUPT,                /* deadline reached (epoch interruption) */
    WHIRL_TRAP_HOST,                     /* a host function returned an error */
    WHIRL_TRAP_NULL_EXCEPTION,           /* throw_ref of a null exnref */
    WHIRL_TRAP_EXCEPTIONS_EXHAUSTED,     /* the store's exceptions reached WHIRL_STORE_EXCEPTION_BYTES_MAX */
    WHIRL_TRAP_NULL_REFERENCE,           /* ref.as_non_null of a null reference */
    WHIRL_TRAP_UNALIGNED_ATOMIC,         /* an atomic access at an address not a multiple of its size */
    WHIRL_TRAP_WAIT_UNSHARED,            /* memory.atomic.wait32/64 on a memory that is not shared */
} whirl_trap_code_t;

/* The error's message. Borrowed: valid until the error is deleted. */
const char *whirl_error_message(const whirl_error_t *error);

/* True if the error is a trap; then *code (if not NULL) receives its code. */
bool whirl_error_is_trap(const whirl_error_t *error, whirl_trap_code_t *code);

/* Short stable name of a trap code ("unreachable", "out of bounds memory
 * access", ...). Static string. */
const char *whirl_trap_code_name(whirl_trap_code_t code);

/* Guest backtrace of a trap, innermost frame first. Returns the number of
 * frames; `func_index` is the index in the module's function space,
 * `func_name` comes from the name section (NULL if none; borrowed, valid until
 * the error is deleted), `offset` is the byte offset of the instruction in the
 * module binary. Index out of range returns false. */
size_t whirl_error_frame_count(const whirl_error_t *error);
bool whirl_error_frame(const whirl_error_t *error, size_t index,
                       uint32_t *func_index, const char **func_name,
                       size_t *offset);

/* A place in the guest's source, from its DWARF (clang -g). Any field may
 * be unknown: NULL or 0. `function` is the linkage (possibly mangled) name
 * where the DWARF has one, else the plain name. */
typedef struct whirl_source_location {
    const char *function;
    const char *file;
    uint32_t line;
    uint32_t column;
} whirl_source_location_t;

/* Source locations of backtrace frame `index`, when its module carries
 * DWARF: out[0] is the innermost (possibly inlined) function at the
 * frame's instruction, each next entry the function that one was inlined
 * into, at the call site, ending with the function the frame runs (as
 * addr2line -i prints them). Writes up to `max` entries and returns how
 * many there are: 0 without DWARF, for an index out of range, or when the
 * DWARF is malformed or says nothing of the offset. The DWARF is read on
 * the first call for a module (never at load). Strings are borrowed: valid
 * until the error is deleted. Thread-safe. */
size_t whirl_error_frame_source(const whirl_error_t *error, size_t index,
                                whirl_source_location_t *out, size_t max);

/* Create an error carrying `message` (copied). Caller owns the result. Host
 * functions return such errors to trap the guest (code WHIRL_TRAP_HOST). */
whirl_error_t *whirl_error_new(const char *message);

/* whirl_error_new with a printf-style message:
 * whirl_error_newf("%s: no such file", path). The text is formatted into
 * memory the error owns (no length limit). Caller owns the result. Never
 * returns NULL: if memory runs out, it returns an "out of memory" error,
 * which whirl_error_delete accepts like any other. A NULL `format` gives an
 * empty message. whirl_error_vnewf takes a va_list, for hosts that wrap it
 * in their own variadic function (`args` is consumed, as by vprintf). */
whirl_error_t *whirl_error_newf(const char *format, ...) WHIRL_PRINTF(1, 2);
whirl_error_t *whirl_error_vnewf(const char *format, va_list args) WHIRL_PRINTF(1, 0);

/* A trap with `code` and `message` (copied), for host functions that end
 * the guest the way wasm would (e.g. WHIRL_TRAP_INTERRUPT when a blocking
 * host call reaches the store's deadline). Caller owns the result. */
whirl_error_t *whirl_trap_new(whirl_trap_code_t code, const char *message);

/* An error that ends the guest with an exit status (WASI proc_exit). It is
 * not a trap: it unwinds like one, and the host reads the status with
 * whirl_error_exit_status. Caller owns the result. */
whirl_error_t *whirl_error_new_exit(int status);

/* True if the error is an exit request; then *status (if not NULL) receives
 * the status. */
bool whirl_error_exit_status(const whirl_error_t *error, int *status);

/* True if the error reports a shared engine resource in use up to its limit
 * right now: the pooling allocator's instance_count, total_memories,
 * total_tables, total_stacks or total_core_instances slots. The same call
 * can succeed once other stores are deleted, so a server answers "busy,
 * retry later" (HTTP 503), not a fault of the module. Accepts NULL (false). */
bool whirl_error_is_resource_exhausted(const whirl_error_t *error);

/* Frees an error. Accepts NULL. */
void whirl_error_delete(whirl_error_t *error);

/* ------------------------------------------------------------------ */
/* Values and types                                                    */
/* ------------------------------------------------------------------ */

typedef struct whirl_func whirl_func_t;
typedef struct whirl_memory whirl_memory_t;
typedef struct whirl_table whirl_table_t;
typedef struct whirl_global whirl_global_t;

typedef enum whirl_valkind {
    WHIRL_I32 = 0,
    WHIRL_I64,
    WHIRL_F32,
    WHIRL_F64,
    WHIRL_V128,
    WHIRL_FUNCREF,
    WHIRL_EXTERNREF,
    WHIRL_EXNREF, /* exception handling: an exception (whirl_exn_t), NULL for null */
} whirl_valkind_t;

typedef struct whirl_exn whirl_exn_t;
typedef struct whirl_tag whirl_tag_t;

/* A WebAssembly value. A null funcref is funcref == NULL; a null externref
 * is externref == NULL, so hosts must not use NULL as a non-null externref. */
typedef struct whirl_val {
    whirl_valkind_t kind;
    union {
        int32_t i32;
        int64_t i64;
        float f32;
        double f64;
        uint8_t v128[16];
        whirl_func_t *funcref;
        void *externref;
        whirl_exn_t *exnref;
    } of;
} whirl_val_t;

/* A function type. Caller owns the result of whirl_functype_new and frees it
 * with whirl_functype_delete. Types returned by other calls are borrowed. */
typedef struct whirl_functype whirl_functype_t;

whirl_functype_t *whirl_functype_new(const whirl_valkind_t *params, size_t nparams,
                                     const whirl_valkind_t *results, size_t nresults);
void whirl_functype_delete(whirl_functype_t *type);
size_t whirl_functype_param_count(const whirl_functype_t *type);
size_t whirl_functype_result_count(const whirl_functype_t *type);
whirl_valkind_t whirl_functype_param(const whirl_functype_t *type, size_t i);
whirl_valkind_t whirl_functype_result(const whirl_functype_t *type, size_t i);

typedef enum whirl_externkind {
    WHIRL_EXTERN_FUNC = 0,
    WHIRL_EXTERN_TABLE,
    WHIRL_EXTERN_MEMORY,
    WHIRL_EXTERN_GLOBAL,
    WHIRL_EXTERN_TAG, /* exception handling */
} whirl_externkind_t;

/* A reference to an extern object; the object itself is owned by its store. */
typedef struct whirl_extern {
    whirl_externkind_t kind;
    union {
        whirl_func_t *func;
        whirl_table_t *table;
        whirl_memory_t *memory;
        whirl_global_t *global;
        whirl_tag_t *tag;
    } of;
} whirl_extern_t;

/* ------------------------------------------------------------------ */
/* Config and engine                                                   */
/* ------------------------------------------------------------------ */

typedef struct whirl_config whirl_config_t;
typedef struct whirl_engine whirl_engine_t;

/* New config with defaults. Caller owns it until passed to whirl_engine_new. */
whirl_config_t *whirl_config_new(void);
void whirl_config_delete(whirl_config_t *config);

/* Bytes of guest stack (frames of locals and operands) a call into wasm may
 * use before it traps with WHIRL_TRAP_STACK_EXHAUSTED. Default 1 MiB.
 * Must be at least 4 KiB and at most 1 GiB. */
whirl_error_t *whirl_config_max_wasm_stack_set(whirl_config_t *config, size_t bytes);

/* ---- Hosting knobs ----
 *
 * Every knob has a name (for whirl_config_set), an environment variable
 * under whirl's name and, for Spin's knobs, under Spin's name too
 * (WHIRL_TOTAL_MEMORIES and SPIN_WASMTIME_TOTAL_MEMORIES). A value comes,
 * in order of precedence, from an API call, the environment (whirl's name
 * before Spin's), or the default. whirl_engine_new reads the environment
 * unless whirl_config_use_env(config, false) was called; a value that does
 * not parse or is out of range makes it fail with an error naming the
 * variable and the value. whirl_config_item lists every knob with its
 * effective value and where that came from (the `whirl config` command).
 *
 * Pooling: when on, the engine reserves (address space only) fixed slots
 * for linear memories, tables, interpreter stacks and instance state at
 * creation, and instantiation takes slots instead of mapping memory. The
 * limits below are the pool's; a store stands for Spin's "component
 * instance" (the unit one request runs in), so the per-instance limits
 * (INSTANCE_MEMORIES, CORE_INSTANCE_COUNT, ...) apply per store. Unless set
 * explicitly, pooling is on when a 2^42-byte address-space reservation
 * succeeds at first use (it does not under `ulimit -v` or with a small
 * address space), and off otherwise; every limit then applies only while
 * pooling is on, except max_memory_size. */
typedef enum whirl_pool_limit {
    WHIRL_POOL_MAX_INSTANCE_COUNT = 0,  /* base of the derived defaults; 1000 */
    WHIRL_POOL_INSTANCE_COUNT,          /* stores holding pooled instances at once; 1x */
    WHIRL_POOL_TOTAL_MEMORIES,          /* linear memory slots; 1x */
    WHIRL_POOL_TOTAL_TABLES,            /* table slots; 2x */
    WHIRL_POOL_TOTAL_STACKS,            /* interpreter stack slots (one per store); 1x */
    WHIRL_POOL_TOTAL_CORE_INSTANCES,    /* instance state slots; 4x */
    WHIRL_POOL_INSTANCE_TABLE_ELEMENTS, /* entries per table; 100000 */
    WHIRL_POOL_INSTANCE_SIZE,           /* instance state bytes per store; 10 MiB */
    WHIRL_POOL_CORE_INSTANCE_SIZE,      /* instance state bytes per instance; 10 MiB */
    WHIRL_POOL_CORE_INSTANCE_COUNT,     /* instances per store; 200 */
    WHIRL_POOL_INSTANCE_TABLES,         /* tables per store; 64 */
    WHIRL_POOL_INSTANCE_MEMORIES,       /* memories per store; 32 */
    WHIRL_POOL_MAX_TABLES_PER_MODULE,   /* 2 */
    WHIRL_POOL_MAX_MEMORIES_PER_MODULE, /* 2 */
    WHIRL_POOL_LINEAR_MEMORY_KEEP_RESIDENT, /* bytes restored in place on reuse; 16 MiB */
    WHIRL_POOL_TABLE_KEEP_RESIDENT,     /* 512 KiB */
    WHIRL_POOL_MAX_MEMORY_SIZE,         /* bytes one linear memory may reach; 4 GiB */
    WHIRL_POOL_MAX_UNUSED_WARM_SLOTS,   /* free memory slots that keep their resident
                                           bytes (the others keep none); 16 */
    WHIRL_POOL_LIMIT_COUNT
} whirl_pool_limit_t;

/* Sets a pool limit. Fails on an invalid limit or an out-of-range value. */
whirl_error_t *whirl_config_pool_limit_set(whirl_config_t *config, whirl_pool_limit_t limit,
                                           uint64_t value);

/* Forces pooling on or off (default: decided by the address-space probe).
 * Forced on, engine creation fails if the pool cannot be reserved. */
void whirl_config_pooling_set(whirl_config_t *config, bool enable);

/* Epoch ticker interval in microseconds (default 10 ms). The engine runs a
 * thread that advances the epoch once per interval; 0 runs none (the
 * embedder calls whirl_engine_increment_epoch itself, and
 * whirl_store_set_deadline is unavailable). At most 60 s. */
whirl_error_t *whirl_config_epoch_interval_set(whirl_config_t *config, uint64_t micros);

/* Debug info: compile without optimisations and keep names and offsets for
 * backtraces. Stored for the compiler; default off. */
void whirl_config_debug_info_set(whirl_config_t *config, bool enable);

/* Which tier runs wasm code (also the "tier" knob, WHIRL_TIER, and
 * `-C tier=` on `whirl run`/`serve`):
 *   WHIRL_TIER_AUTO    the default: functions start in the interpreter and
 *                      the hot ones are compiled to native code in the
 *                      background (LLVM tier), then called natively;
 *   WHIRL_TIER_INTERP  the interpreter only;
 *   WHIRL_TIER_JIT     every function is compiled to native code when the
 *                      module is created (functions the tier cannot compile
 *                      stay interpreted).
 * In a build without the LLVM tier (-DWHIRL_JIT=OFF) AUTO means the
 * interpreter and JIT fails with "built without the LLVM tier". Both tiers
 * give the same results, traps, trap messages and limits.
 * Native code reaches 32-bit memories without explicit bounds checks: an
 * access past the end faults in the memory's guard region, and a
 * SIGSEGV/SIGBUS handler whirl installs (once, when the first such code is
 * linked) turns it into the "memory out of bounds" trap. Faults that are not
 * guest code's go to the handler installed before whirl's. A host that
 * installs its own handler after that must pass on faults it does not own
 * (call the previous handler), or set WHIRL_JIT_GUARD=0 in the environment
 * before the first compile (explicit checks, no handler). */
typedef enum whirl_tier {
    WHIRL_TIER_AUTO = 0,
    WHIRL_TIER_INTERP = 1,
    WHIRL_TIER_JIT = 2,
} whirl_tier_t;
whirl_error_t *whirl_config_tier_set(whirl_config_t *config, whirl_tier_t tier);
/* WebAssembly 3.0 features beyond 2.0, each on by default. Switched off, a
 * module using one is refused with a message naming the proposal, as whirl
 * did before implementing it. Each is also a knob (whirl_config_set, the
 * environment, `whirl run -W NAME=n`) named as wasmtime names it: tail-call,
 * extended-const, function-references, multi-memory, memory64, relaxed-simd,
 * exceptions, threads (knob names with '_'; variables WHIRL_FEATURE_TAIL_CALL etc.).
 * All are implemented: tail-call, extended-const, function-references
 * (typed references without GC; hosts see them as funcref/externref),
 * multi-memory, memory64 (64-bit memories, at most 4 GiB each; not 64-bit
 * tables), relaxed-simd (one deterministic result per instruction,
 * docs/ARCHITECTURE.md), exceptions and threads (shared memories, atomics,
 * wait/notify; see whirl_shared_memory_new). function-references=n also
 * keeps 2.0's rule that constant expressions read imported globals only. */
typedef enum whirl_feature {
    WHIRL_FEATURE_TAIL_CALL,
    WHIRL_FEATURE_EXTENDED_CONST,
    WHIRL_FEATURE_FUNCTION_REFERENCES,
    WHIRL_FEATURE_MULTI_MEMORY,
    WHIRL_FEATURE_MEMORY64,
    WHIRL_FEATURE_RELAXED_SIMD,
    WHIRL_FEATURE_EXCEPTIONS, /* exceptions: tags, throw, throw_ref, try_table, exnref */
    WHIRL_FEATURE_THREADS,    /* threads: shared memories, atomics, wait/notify, fence */
    WHIRL_FEATURE_COUNT
} whirl_feature_t;

/* Switches one feature. Errors: NULL config or an unknown feature. */
whirl_error_t *whirl_config_feature_set(whirl_config_t *config, whirl_feature_t feature,
                                        bool enable);

/* Directory of the compilation cache; NULL or "" disables it (default).
 * See "Compilation cache" below; whirl_config_enable_cache picks the
 * default directory. Also the "cache" knob (WHIRL_CACHE). */
whirl_error_t *whirl_config_cache_set(whirl_config_t *config, const char *path);

/* Sets any knob by name ("total_memories", "pooling", "epoch_interval",
 * "max_wasm_stack", "debug_info", "cache", "cache_max_size",
 * "async_stack_size" (whirl/async.h), "tier" (auto, interp or jit); '-' may stand
 * for '_') from text,
 * parsed as its environment variable would be: counts in decimal; byte sizes
 * and durations as whirl_parse_size and whirl_parse_duration read them;
 * booleans as 1/0, y/n, yes/no, true/false or on/off. Errors name the knob
 * and the value. */
whirl_error_t *whirl_config_set(whirl_config_t *config, const char *name, const char *value);

/* The syntax of every duration and byte size whirl reads from text (knobs,
 * environment variables, the `whirl` command's options), for hosts to read
 * their own the same way. A duration is one or more terms of a decimal
 * number and a unit ns, us, ms, s, m (or min) or h, with no spaces ("50ms",
 * "1.5s", "1m30s"); a number alone is seconds, as in wasmtime's
 * `-W timeout`. A size is a decimal (or 0x hex) byte count with an optional
 * binary suffix K, M or G (or KiB, MiB, GiB; any case): "65536", "64K",
 * "16MiB". On success sets *nanos / *bytes; on failure returns an error
 * naming the text and the accepted forms (callers check ranges). */
whirl_error_t *whirl_parse_duration(const char *text, uint64_t *nanos);
whirl_error_t *whirl_parse_size(const char *text, uint64_t *bytes);

/* Whether whirl_engine_new reads the environment (default true). */
void whirl_config_use_env(whirl_config_t *config, bool use);

/* Applies the environment now to every knob not set through the API.
 * Errors name the variable and its value; the config is then unchanged. */
whirl_error_t *whirl_config_load_env(whirl_config_t *config);

/* Warnings the engine reports while running: a store limit refused a
 * growth ("memory_limit_exceeded current=65536 desired=131072 max=100000"),
 * a deadline that had already passed ("deadline_in_past"), the pool could
 * not be reserved ("pooling_unavailable"). `event` is the stable first word
 * of `message`; the rest are key=value fields. Called on the thread that
 * caused the event, possibly several threads at once. Default (callback
 * NULL): one line on stderr, "whirl: warning: MESSAGE". */
typedef enum whirl_log_level {
    WHIRL_LOG_WARNING = 1,
    WHIRL_LOG_INFO = 2,
} whirl_log_level_t;
typedef void (*whirl_log_callback_t)(void *env, whirl_log_level_t level, const char *event,
                                     const char *message);
void whirl_config_log_set(whirl_config_t *config, whirl_log_callback_t callback, void *env);

/* One knob as whirl_config_item reports it. */
typedef struct whirl_config_item {
    const char *name;        /* "total_memories" */
    const char *env;         /* "WHIRL_TOTAL_MEMORIES" */
    const char *spin_env;    /* "SPIN_WASMTIME_TOTAL_MEMORIES", or NULL */
    const char *description; /* one line */
    char value[256];         /* effective value as text ("1000", "2097152", "10ms", "y") */
    char source[64];         /* "default", "default (2 x max_instance_count)", "api",
                              * "env WHIRL_...", "env SPIN_...", "probe" */
} whirl_config_item_t;

/* Number of knobs, and knob `index` with its effective value in `config`
 * (environment included only if it was loaded, e.g. by
 * whirl_config_load_env). An undecided pooling knob runs the address-space
 * probe. False if index is out of range. */
size_t whirl_config_item_count(void);
bool whirl_config_item(const whirl_config_t *config, size_t index, whirl_config_item_t *out);

/* Creates an engine. Takes ownership of `config` (NULL = defaults) even on
 * failure. On success the caller owns *out (free with whirl_engine_delete).
 * Fails on a bad environment value, a pool that cannot be reserved while
 * pooling is forced on, or a ticker thread that cannot be started. */
whirl_error_t *whirl_engine_new(whirl_config_t *config, whirl_engine_t **out);
/* Stops the epoch ticker (joined before returning) and releases the pool.
 * Every store, module and instance_pre of the engine must be gone. */
void whirl_engine_delete(whirl_engine_t *engine);

/* The engine's effective configuration (environment and probe applied),
 * for whirl_config_item. Borrowed from the engine. */
const whirl_config_t *whirl_engine_config(const whirl_engine_t *engine);

/* Whether the engine allocates from a pool, and the pool's occupancy. */
typedef struct whirl_pool_stats {
    bool pooling;
    uint32_t memories_in_use, memories_total;
    uint32_t tables_in_use, tables_total;
    uint32_t stacks_in_use, stacks_total;
    uint32_t core_instances_in_use, core_instances_total;
    uint32_t instances_in_use, instances_total; /* stores holding slots */
} whirl_pool_stats_t;
bool whirl_engine_pooling(const whirl_engine_t *engine);
void whirl_engine_pool_stats(const whirl_engine_t *engine, whirl_pool_stats_t *out);

/* ------------------------------------------------------------------ */
/* Modules                                                             */
/* ------------------------------------------------------------------ */

typedef struct whirl_module whirl_module_t;

/* whirl_error_frame_source for the instruction at byte `offset` of
 * `module`'s binary; strings valid while the module lives. Thread-safe. */
size_t whirl_module_source_locations(const whirl_module_t *module, size_t offset,
                                     whirl_source_location_t *out, size_t max);

/* Decodes, validates and compiles a binary module. `wasm` is borrowed (the
 * module keeps its own copy). On success the caller owns *out. A module is
 * immutable and may be used from several threads at once. Errors name the
 * section or function and the byte offset. */
whirl_error_t *whirl_module_new(whirl_engine_t *engine, const uint8_t *wasm,
                                size_t len, whirl_module_t **out);

/* Decodes and validates only. */
whirl_error_t *whirl_module_validate(whirl_engine_t *engine, const uint8_t *wasm,
                                     size_t len);

/* Drops the caller's reference. Instances keep the module alive as needed. */
void whirl_module_delete(whirl_module_t *module);

/* Import/export introspection. Strings are borrowed from the module. For
 * functions, *functype (if not NULL) receives a borrowed type. */
typedef struct whirl_import_info {
    const char *module;
    size_t module_len;
    const char *name;
    size_t name_len;
    whirl_externkind_t kind;
    const whirl_functype_t *functype; /* WHIRL_EXTERN_FUNC only */
} whirl_import_info_t;

typedef struct whirl_export_info {
    const char *name;
    size_t name_len;
    whirl_externkind_t kind;
    const whirl_functype_t *functype; /* WHIRL_EXTERN_FUNC only */
} whirl_export_info_t;

size_t whirl_module_import_count(const whirl_module_t *module);
bool whirl_module_import(const whirl_module_t *module, size_t i, whirl_import_info_t *out);
/* A memory import's limits: *min and *max in pages (*max WHIRL_NO_MAX if
 * it has none) and whether it is shared (threads). Any out pointer may be
 * NULL. False if import `i` is absent or not a memory. */
bool whirl_module_import_memory(const whirl_module_t *module, size_t i, uint64_t *min,
                                uint64_t *max, bool *shared);
size_t whirl_module_export_count(const whirl_module_t *module);
bool whirl_module_export(const whirl_module_t *module, size_t i, whirl_export_info_t *out);

/* ---- Precompiled modules ----
 *
 * A compiled module can be saved and loaded again without decoding,
 * validating or compiling it: `whirl compile IN.wasm -o OUT.cwasm` and
 * `whirl run --allow-precompiled OUT.cwasm` do this, and so does the
 * compilation cache.
 *
 * A precompiled module is code: whirl checks its structure but cannot
 * check its instructions, so load only files made by a whirl you trust
 * (as with wasmtime's precompiled modules), never files from the guest's
 * author. Accidents are caught: a file made by another version or build of
 * whirl, or under a configuration that changes the code (debug_info), is
 * refused with a message saying so; a truncated or damaged file fails its
 * checksum; a plain .wasm is refused with a hint. None of these crash. */

/* Serialises `module` into *out (malloc'd; release it with free()). The
 * same module on the same build gives the same bytes. */
whirl_error_t *whirl_module_serialize(const whirl_module_t *module, uint8_t **out,
                                      size_t *out_len);

/* Loads a module serialised by whirl_module_serialize (bytes borrowed).
 * Fails, never crashes, on anything else. On success the caller owns
 * *out, which is used like a module from whirl_module_new. */
whirl_error_t *whirl_module_deserialize(whirl_engine_t *engine, const uint8_t *bytes,
                                        size_t len, whirl_module_t **out);

/* Same, from the file at `path`. A large file is mapped rather than read,
 * and the module uses the mapping until it is deleted: replace such a file
 * by renaming a new one over it (as `whirl compile` and the cache do), not
 * by truncating and rewriting it in place. */
whirl_error_t *whirl_module_deserialize_file(whirl_engine_t *engine, const char *path,
                                             whirl_module_t **out);

/* True if `bytes` start like a serialised module (a cheap check of the
 * magic, to choose between whirl_module_new and whirl_module_deserialize).
 * whirl_module_new refuses such bytes. */
bool whirl_module_is_serialized(const uint8_t *bytes, size_t len);

/* ---- Compilation cache ----
 *
 * With a cache directory configured, whirl_module_new first looks for the
 * module there, under a hash of its bytes and of this build and
 * configuration (so another version of whirl or other code-affecting knobs
 * never share an entry; each entry keeps the module's bytes and a hit
 * compares them in full, so no crafted collision can be served another
 * module's code), and loads it instead of compiling; otherwise it
 * compiles and stores an entry. Entries are written to a temporary file
 * and renamed, so concurrent processes and threads see whole entries or
 * none; an entry that fails to load (damaged, truncated) is compiled again
 * and replaced, with a "cache_entry_invalid" warning. When the entries pass
 * cache_max_size bytes (default 512 MiB; knob "cache_max_size",
 * WHIRL_CACHE_MAX_SIZE), the least recently used ones (by modification
 * time, which a hit refreshes) are removed. A cache that cannot be written
 * (read-only, disk full) is reported with a "cache_write_failed" warning
 * and modules are compiled as without it. */

/* Turns the cache on in `dir`, or with NULL in the default directory:
 * $XDG_CACHE_HOME/whirl, else $HOME/.cache/whirl. Fails if neither variable
 * is set. The directory is created on first use. */
whirl_error_t *whirl_config_enable_cache(whirl_config_t *config, const char *dir);

/* The default cache directory, malloc'd into *out (free() it). */
whirl_error_t *whirl_cache_default_dir(char **out);

/* True if `module` was loaded from the cache rather than compiled. */
bool whirl_module_from_cache(const whirl_module_t *module);

typedef struct whirl_cache_stats {
    uint64_t entries;   /* modules stored */
    uint64_t bytes;     /* their total size */
    /* Counted by every process using the directory since it was created or
     * last cleared. */
    uint64_t hits;      /* modules loaded from an entry */
    uint64_t misses;    /* modules compiled (and stored) */
    uint64_t invalid;   /* entries that failed to load and were replaced */
    uint64_t evictions; /* entries removed to stay under the size bound */
} whirl_cache_stats_t;

/* Statistics of the cache in `dir`. A directory that does not exist is an
 * empty cache. */
whirl_error_t *whirl_cache_stats(const char *dir, whirl_cache_stats_t *out);

/* Removes every entry (and leftover temporary file) of the cache in `dir`
 * and resets its counters. Safe while other processes use it: they see
 * misses. */
whirl_error_t *whirl_cache_clear(const char *dir);

/* ------------------------------------------------------------------ */
/* Stores                                                              */
/* ------------------------------------------------------------------ */

typedef struct whirl_store whirl_store_t;

/* Creates a store. `data` is host data returned by whirl_store_data;
 * `finalizer` (may be NULL) is called on it when the store is deleted.
 * Caller owns the store; the engine must outlive it. Returns NULL only if
 * memory is exhausted. */
whirl_store_t *whirl_store_new(whirl_engine_t *engine, void *data,
                               void (*finalizer)(void *data));
void *whirl_store_data(const whirl_store_t *store);

/* Deletes the store and every object in it. */
void whirl_store_delete(whirl_store_t *store);

/* Epoch interruption. The engine has an epoch counter that its ticker thread
 * (see whirl_config_epoch_interval_set) and any other thread may advance;
 * wasm running in a store traps with WHIRL_TRAP_INTERRUPT once the counter
 * reaches the store's deadline (checked at function entries, loop
 * back-edges, and in memory.fill/copy/init and table.fill/copy/init/grow
 * before every 256 KiB of work past the first 256 bytes, so one instruction
 * runs at most one such chunk past the deadline: at most ~3 ms of CPU
 * measured, first-touch page faults included; bench/bulk). A new store has
 * no deadline. */
void whirl_engine_increment_epoch(whirl_engine_t *engine);
/* Sets the deadline to the current epoch plus `ticks_beyond_current`. */
void whirl_store_set_epoch_deadline(whirl_store_t *store, uint64_t ticks_beyond_current);
/* Removes the deadline (back to WHIRL_EPOCH_DEADLINE_NEVER). */
void whirl_store_clear_epoch_deadline(whirl_store_t *store);

/* Guest stack sampling, for profilers. While wasm runs in `store`, every
 * `period_ticks` ticks of the engine's epoch (see
 * whirl_config_epoch_interval_set; its ticker is the clock) the interpreter
 * stops at its next epoch check (a function entry or loop back-edge) and
 * calls `fn` with the guest's call stack, innermost frame first (the
 * frames of the current call into wasm; at most 1024, innermost kept).
 * `fn` runs on the thread running the guest, inside the call into wasm:
 * it must not use the store. Frames and their strings are borrowed for
 * the call; `module` stays valid while the module lives (instances keep
 * theirs). The deadline keeps working: sampling borrows the epoch check,
 * so when sampling is off nothing is checked more often than before.
 * `fn` NULL stops sampling; a zero period with a callback is an error. */
typedef struct whirl_sample_frame {
    const whirl_module_t *module;
    uint32_t func_index;      /* in the module's function space */
    const char *func_name;    /* from the name section; NULL if none */
    size_t offset;            /* byte offset of the instruction in the module */
} whirl_sample_frame_t;
typedef void (*whirl_sampler_fn_t)(void *env, const whirl_sample_frame_t *frames,
                                   size_t nframes);
whirl_error_t *whirl_store_set_sampler(whirl_store_t *store, uint64_t period_ticks,
                                       whirl_sampler_fn_t fn, void *env);

/* A store's deadline without one: 2^63 ticks, never reached in practice. */
#define WHIRL_EPOCH_DEADLINE_NEVER (UINT64_C(1) << 63)

/* Nanoseconds of the monotonic clock (CLOCK_MONOTONIC), the time base of
 * whirl_store_set_deadline. */
uint64_t whirl_monotonic_now(void);

/* Sets the deadline to an absolute monotonic time (nanoseconds, see
 * whirl_monotonic_now), in ticks of the engine's epoch ticker: the current
 * epoch plus (microseconds from now) / interval + 1 (Spin's rule). The
 * ticker runs freely, so the trap comes within one interval of the deadline
 * (plus one bulk-operation chunk, see above, whatever the code's shape):
 * at most one interval late, and early by less than one interval when the
 * time left is not a whole number of intervals. A time already past gives an
 * immediately expired deadline and a "deadline_in_past" warning. Fails if
 * the engine runs no ticker (epoch interval 0). */
whirl_error_t *whirl_store_set_deadline(whirl_store_t *store, uint64_t deadline_ns);

/* The store's deadline in epoch ticks, and the engine's current epoch. */
uint64_t whirl_store_epoch_deadline(const whirl_store_t *store);
/* The time given to whirl_store_set_deadline (monotonic nanoseconds), or
 * UINT64_MAX if the deadline was set in ticks or not at all. For host
 * functions that block (a WASI sleep): waiting past it is pointless, the
 * guest traps at its next check. */
uint64_t whirl_store_deadline_ns(const whirl_store_t *store);
uint64_t whirl_engine_epoch(const whirl_engine_t *engine);

/* ---- Store limits and accounting ---- */

#define WHIRL_NO_LIMIT UINT64_MAX

/* Limits for everything the store holds, wasmtime's StoreLimits as Spin
 * applies them: `max_memory_size` bytes of linear memory across all the
 * store's memories, and `max_table_elements` entries in any one table
 * (WHIRL_NO_LIMIT: none, the default). Growth past a limit fails as the
 * spec allows (memory.grow and table.grow return -1; whirl_memory_grow and
 * whirl_table_grow return an error) and reports a "memory_limit_exceeded" or
 * "table_limit_exceeded" warning; creating a memory or table, or
 * instantiating a module, that needs more fails with an error naming the
 * limit. Lowering a limit below what is in use only stops further growth. */
void whirl_store_limits_set(whirl_store_t *store, uint64_t max_memory_size,
                            uint64_t max_table_elements);

/* Bytes of linear memory the store's memories hold now (initial sizes
 * included). */
uint64_t whirl_store_memory_consumed(const whirl_store_t *store);

/* Exception objects (exception handling) live until their store is deleted:
 * a `throw` or whirl_exn_new past the store's exception limit fails (the
 * guest traps with WHIRL_TRAP_EXCEPTIONS_EXHAUSTED, whirl_exn_new returns an
 * error naming the limit), so a guest throwing in a loop cannot grow the
 * host without bound. A new store's limit is this many bytes. */
#define WHIRL_STORE_EXCEPTION_BYTES_MAX ((uint64_t)64 << 20)

/* Sets the bytes the store's exception objects may hold
 * (WHIRL_STORE_EXCEPTION_BYTES_MAX by default; WHIRL_NO_LIMIT for none).
 * Lowering it below what is held only refuses further exceptions. */
void whirl_store_exception_limit_set(whirl_store_t *store, uint64_t max_bytes);

/* Bytes the store's exception objects hold now (values and bookkeeping). */
uint64_t whirl_store_exception_bytes(const whirl_store_t *store);

/* ------------------------------------------------------------------ */
/* Functions                                                           */
/* ------------------------------------------------------------------ */

/* Passed to host callbacks: the calling context. Valid only during the call. */
typedef struct whirl_caller whirl_caller_t;

/* A host function. `args` holds the parameters (borrowed); the callback writes
 * `nresults` values into `results`. Returning a non-NULL error traps the
 * guest; the engine takes ownership of that error. */
typedef whirl_error_t *(*whirl_host_callback_t)(void *env, whirl_caller_t *caller,
                                                 const whirl_val_t *args, size_t nargs,
                                                 whirl_val_t *results, size_t nresults);

/* The store of the calling instance. */
whirl_store_t *whirl_caller_store(whirl_caller_t *caller);

/* Looks up an export of the calling instance (e.g. "memory"). Returns false
 * if absent or if the caller is not a wasm instance. */
bool whirl_caller_export(whirl_caller_t *caller, const char *name, size_t name_len,
                         whirl_extern_t *out);

/* Creates a host function in `store`. `type` is borrowed (copied). `env` is
 * passed to the callback; `finalizer` (may be NULL) runs on `env` when the
 * store is deleted. The function is owned by the store. */
whirl_error_t *whirl_func_new(whirl_store_t *store, const whirl_functype_t *type,
                              whirl_host_callback_t callback, void *env,
                              void (*finalizer)(void *env), whirl_func_t **out);

/* The function's type, borrowed from the function. */
const whirl_functype_t *whirl_func_type(const whirl_func_t *func);

/* Calls `func`. Argument kinds and counts must match the type, otherwise an
 * error (not a trap) is returned. Traps are returned as trap errors. */
whirl_error_t *whirl_func_call(whirl_store_t *store, whirl_func_t *func,
                               const whirl_val_t *args, size_t nargs,
                               whirl_val_t *results, size_t nresults);

/* ------------------------------------------------------------------ */
/* Memories, tables, globals                                           */
/* ------------------------------------------------------------------ */

#define WHIRL_PAGE_SIZE 65536u
#define WHIRL_NO_MAX UINT64_MAX

/* A new linear memory of `min` pages, growable to `max` pages (WHIRL_NO_MAX
 * for the 4 GiB limit). Owned by the store. */
whirl_error_t *whirl_memory_new(whirl_store_t *store, uint64_t min, uint64_t max,
                                whirl_memory_t **out);
/* Base address and current size in bytes. The base never moves. */
uint8_t *whirl_memory_data(const whirl_memory_t *memory);
size_t whirl_memory_data_size(const whirl_memory_t *memory);
uint64_t whirl_memory_pages(const whirl_memory_t *memory);
/* Grows by `delta` pages; *old_pages (may be NULL) receives the old size.
 * Fails (error, not trap) past the maximum. */
whirl_error_t *whirl_memory_grow(whirl_memory_t *memory, uint64_t delta, uint64_t *old_pages);

/* Shared memories (threads). whirl_shared_memory_new makes a shared memory
 * of `min` pages growable to `max` (a maximum is required, as for a
 * module's shared memory), owned by `store`; it counts its whole maximum
 * against the store's max_memory_size from the start (all of it is
 * reserved at once, so the base never moves and growth never copies).
 * whirl_shared_memory_import gives `other` (another store, used on another
 * thread) its own memory object over the same bytes: instances of either
 * store import it as a shared memory, memory.grow through any of them is
 * seen by all (growth is atomic), and wait/notify reach across them. An
 * imported view counts nothing against `other`'s limits (it adds no memory)
 * and keeps the bytes alive: they are unmapped when the last store holding
 * the memory or a view is deleted. Errors: NULL arguments, max missing or
 * below min, limits, a memory that is not shared or was made in an
 * instance pool slot (export it from a store whose memory is not pooled, or
 * make it with whirl_shared_memory_new). */
whirl_error_t *whirl_shared_memory_new(whirl_store_t *store, uint64_t min, uint64_t max,
                                       whirl_memory_t **out);
whirl_error_t *whirl_shared_memory_import(whirl_store_t *other, whirl_memory_t *shared,
                                          whirl_memory_t **out);
/* Whether the memory is shared (a threads memory). */
bool whirl_memory_is_shared(const whirl_memory_t *memory);

/* A new table of `elem` (WHIRL_FUNCREF or WHIRL_EXTERNREF) references,
 * `min` entries initialised to `init`, growable to `max` (WHIRL_NO_MAX: no
 * limit beyond 2^32-1). Owned by the store. */
whirl_error_t *whirl_table_new(whirl_store_t *store, whirl_valkind_t elem, uint64_t min,
                               uint64_t max, const whirl_val_t *init, whirl_table_t **out);
uint64_t whirl_table_size(const whirl_table_t *table);
whirl_error_t *whirl_table_get(const whirl_table_t *table, uint64_t index, whirl_val_t *out);
whirl_error_t *whirl_table_set(whirl_table_t *table, uint64_t index, const whirl_val_t *val);
whirl_error_t *whirl_table_grow(whirl_table_t *table, uint64_t delta, const whirl_val_t *init,
                                uint64_t *old_size);

/* A new global holding `val` (its kind is the global's type). Owned by the
 * store. */
whirl_error_t *whirl_global_new(whirl_store_t *store, const whirl_val_t *val, bool mutable_,
                                whirl_global_t **out);
void whirl_global_get(const whirl_global_t *global, whirl_val_t *out);
/* Fails on an immutable global or a kind mismatch. */
whirl_error_t *whirl_global_set(whirl_global_t *global, const whirl_val_t *val);
whirl_valkind_t whirl_global_kind(const whirl_global_t *global);
bool whirl_global_mutable(const whirl_global_t *global);

/* ------------------------------------------------------------------ */
/* Instances                                                           */
/* ------------------------------------------------------------------ */

typedef struct whirl_instance whirl_instance_t;

/* Instantiates `module` in `store` with `imports` given in the module's import
 * order (borrowed). Link errors (missing or mismatched imports) are plain
 * errors; a trap while initialising segments or running the start function is
 * a trap error. The instance is owned by the store. */
whirl_error_t *whirl_instance_new(whirl_store_t *store, whirl_module_t *module,
                                  const whirl_extern_t *imports, size_t nimports,
                                  whirl_instance_t **out);

/* Looks up an export by name. Returns false if there is none. */
bool whirl_instance_export(whirl_instance_t *instance, const char *name, size_t name_len,
                           whirl_extern_t *out);

/* ------------------------------------------------------------------ */
/* Linker                                                              */
/* ------------------------------------------------------------------ */

typedef struct whirl_linker whirl_linker_t;

/* A linker resolves imports by (module, name). Caller owns it. */
whirl_linker_t *whirl_linker_new(whirl_engine_t *engine);
void whirl_linker_delete(whirl_linker_t *linker);

/* Defines a host function usable from any store: it is created in a store
 * the first time a module instantiated there imports it. `type` is copied.
 * `finalizer` runs on `env` when the linker is deleted. Redefining an
 * existing (module, name) is an error. */
whirl_error_t *whirl_linker_define_func(whirl_linker_t *linker, const char *module,
                                        const char *name, const whirl_functype_t *type,
                                        whirl_host_callback_t callback, void *env,
                                        void (*finalizer)(void *env));

/* Defines an extern that belongs to one store; using it to instantiate in
 * another store is an error. */
whirl_error_t *whirl_linker_define(whirl_linker_t *linker, const char *module,
                                   const char *name, const whirl_extern_t *item);

/* Defines every export of `instance` under module name `module`. */
whirl_error_t *whirl_linker_define_instance(whirl_linker_t *linker, const char *module,
                                            whirl_instance_t *instance);

/* Instantiates `module`, resolving each import through the linker. Errors name
 * the unresolved or mismatched import. */
whirl_error_t *whirl_linker_instantiate(whirl_linker_t *linker, whirl_store_t *store,
                                        whirl_module_t *module, whirl_instance_t **out);

/* An instance_pre: a module whose imports the linker resolved once, ready
 * to be instantiated many times, in many stores, from many threads at once.
 * Only store-independent definitions (whirl_linker_define_func) can be
 * resolved ahead of a store; an import the linker satisfies with a store's
 * extern is an error. It is immutable and reference-counted; it keeps the
 * module and the host function definitions it uses alive (their
 * finalizers run when the linker and every instance_pre using them are
 * gone), so the linker may be deleted first. Stores instantiated from it
 * must be deleted before the last reference is dropped. */
typedef struct whirl_instance_pre whirl_instance_pre_t;

/* Resolves and type-checks every import of `module`. On success the caller
 * owns *out (whirl_instance_pre_delete). */
whirl_error_t *whirl_linker_instantiate_pre(whirl_linker_t *linker, whirl_module_t *module,
                                            whirl_instance_pre_t **out);

/* Instantiates in `store` (as whirl_instance_new). Thread-safe for one pre
 * with distinct stores. */
whirl_error_t *whirl_instance_pre_instantiate(const whirl_instance_pre_t *pre,
                                              whirl_store_t *store, whirl_instance_t **out);

/* Another reference to `pre` (returns it). */
whirl_instance_pre_t *whirl_instance_pre_clone(whirl_instance_pre_t *pre);
/* Drops a reference. Accepts NULL. */
void whirl_instance_pre_delete(whirl_instance_pre_t *pre);
/* The module, borrowed from the pre. */
whirl_module_t *whirl_instance_pre_module(const whirl_instance_pre_t *pre);

/* ------------------------------------------------------------------ */
/* Exceptions (exception handling)                                     */
/* ------------------------------------------------------------------ */

/* A tag names a kind of exception and the types of the values it carries
 * (a function type without results). Tags are compared by identity: an
 * exception is caught by a handler of the same tag object, which a module
 * defines, imports or exports (WHIRL_EXTERN_TAG). Owned by the store. */
whirl_error_t *whirl_tag_new(whirl_store_t *store, const whirl_functype_t *type,
                             whirl_tag_t **out);
/* The tag's type (parameters only). Borrowed: lives as long as the tag. */
const whirl_functype_t *whirl_tag_type(const whirl_tag_t *tag);

/* An exception: a tag and its values. Owned by the store (freed with it). */
whirl_error_t *whirl_exn_new(whirl_store_t *store, whirl_tag_t *tag, const whirl_val_t *values,
                             size_t nvalues, whirl_exn_t **out);
whirl_tag_t *whirl_exn_tag(const whirl_exn_t *exn);
size_t whirl_exn_value_count(const whirl_exn_t *exn);
/* Value `i` (< whirl_exn_value_count) into *out. */
void whirl_exn_value(const whirl_exn_t *exn, size_t i, whirl_val_t *out);

/* An exception crossing the host boundary travels as an error of its own
 * kind (not a trap): a wasm call whose exception nobody caught returns one
 * (message "uncaught exception" with a backtrace), and a host function
 * throws into its wasm caller by returning the error made here (caller
 * owns it; `exn` must belong to the store of the call). */
whirl_error_t *whirl_error_exception_new(whirl_exn_t *exn);
/* True if `error` carries an exception; then *exn (if not NULL) receives it,
 * borrowed from the store. */
bool whirl_error_is_exception(const whirl_error_t *error, whirl_exn_t **exn);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

/* WASI preview 1 host (src/wasi). */
#include "whirl/wasi.h"
/* Resumable calls and async host functions. */
#include "whirl/async.h"

#endif /* WHIRL_H */
