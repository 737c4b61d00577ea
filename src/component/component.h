/* The component model layer: shared definitions of src/component/.
 *
 * The layer is a host of the core engine: it uses only the public API of
 * whirl.h (modules, instances, funcs, memories, whirl_func_new for lowered
 * functions, whirl_func_call to call core exports), plus src/util.
 *
 * Pipeline:
 *  - decode.c reads a component binary section by section and, in the same
 *    pass, validates each definition against the index spaces built so far
 *    (typedecl.c decodes type definitions, types.c builds, compares and
 *    substitutes types, names.c checks names). The result is a ccomp_t per
 *    (nested) component: its type and an instantiation program, one op per
 *    definition that does something at run time.
 *  - instantiate.c runs the program in a store, producing a cinst_t.
 *  - call.c implements canon lift / canon lower as calls through the host
 *    (lift into whirl_cval_t trees, then lower), canon.c the canonical ABI
 *    for each type, resource.c the handle tables and resource built-ins.
 *  - linker.c and api.c are the public API (include/whirl/component.h).
 *
 * Types are immutable DAG nodes (ctype_t) in the component's arena. Resource
 * types are nodes compared by identity. Each resource node a component uses
 * at run time is "owned" by that component and has a slot; an instance maps
 * slots to run-time resource types (whirl_resource_type_t), because each
 * instantiation makes fresh resources.
 */
#ifndef WHIRL_COMPONENT_INTERNAL_H
#define WHIRL_COMPONENT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"
#include "util/error.h"
#include "util/vec.h"
#include "whirl.h"
#include "whirl/component.h"

/* Canonical ABI constants (CanonicalABI.md). */
#define CANON_MAX_FLAT_PARAMS 16
#define CANON_MAX_FLAT_RESULTS 1
#define CANON_MAX_FLAT_ASYNC_PARAMS 4
#define CANON_MAX_STRING_BYTES ((1u << 28) - 1)
#define CANON_MAX_LIST_BYTES ((1u << 28) - 1)
#define CANON_TABLE_MAX ((1u << 28) - 1)
#define CANON_UTF16_TAG (1u << 31)

/* Validation limits: types and components nest at most this deep (keeps C
 * recursion bounded), and no type's tree expansion exceeds this many nodes
 * (keeps comparisons of DAG-shaped types from blowing up). */
#define CT_MAX_DEPTH 100
#define CT_MAX_EFFECTIVE_SIZE 1000000u
#define COMPONENT_MAX_NESTING 50
/* Run-time bound on one top-level instantiation: nested components can ask
 * for exponentially many instances (each level instantiating the one below
 * twice) in a few bytes. */
#define COMPONENT_MAX_INSTANCES 10000

/* Canonical ABI violations are traps. Until whirl.h has a trap code of
 * their own they carry WHIRL_TRAP_HOST; the message starts with
 * "canonical ABI: ". */
whirl_error_t *canon_trap(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ------------------------------------------------------------------ */
/* Types                                                               */
/* ------------------------------------------------------------------ */

typedef enum ct_kind {
    /* Value types: the same order as whirl_cval_kind_t where they overlap. */
    CT_BOOL = 0,
    CT_S8,
    CT_U8,
    CT_S16,
    CT_U16,
    CT_S32,
    CT_U32,
    CT_S64,
    CT_U64,
    CT_F32,
    CT_F64,
    CT_CHAR,
    CT_STRING,
    CT_LIST,
    CT_BYTES_UNUSED, /* keeps the numbering aligned with WHIRL_CVAL_BYTES */
    CT_RECORD,
    CT_TUPLE,
    CT_VARIANT,
    CT_ENUM,
    CT_OPTION,
    CT_RESULT,
    CT_FLAGS,
    CT_OWN,
    CT_BORROW,
    /* Async value types (component-model async): `elem` is the payload of a
     * stream or future, NULL for `stream` / `future` without one. */
    CT_STREAM,
    CT_FUTURE,
    CT_ERROR_CONTEXT,
    /* Definition types. */
    CT_FUNC,
    CT_RESOURCE,
    CT_INSTANCE,
    CT_COMPONENT,
    /* Core types. */
    CT_CORE_FUNC,
    CT_CORE_MODULE,
    CT_CORE_INSTANCE,
    /* Types of core items other than functions (tables, memories, globals). */
    CT_CORE_OTHER,
} ct_kind_t;

static inline bool ct_is_value(int kind) { return kind <= CT_ERROR_CONTEXT; }

/* Sorts: the index spaces of a component. */
typedef enum csort {
    CS_CORE_FUNC = 0,
    CS_CORE_TABLE,
    CS_CORE_MEMORY,
    CS_CORE_GLOBAL,
    CS_CORE_TYPE,
    CS_CORE_MODULE,
    CS_CORE_INSTANCE,
    CS_FUNC,
    CS_VALUE,
    CS_TYPE,
    CS_COMPONENT,
    CS_INSTANCE,
    CS_COUNT
} csort_t;

const char *csort_name(csort_t sort);

typedef struct ctype ctype_t;
typedef struct ccomp ccomp_t;

/* A named member: record field, variant case (type NULL: no payload),
 * flag or enum label (type NULL), tuple element (name NULL), parameter. */
typedef struct cfield {
    const char *name;
    const ctype_t *type;
} cfield_t;

/* An import or export of a component or instance type. */
typedef struct cextern {
    const char *name;
    csort_t sort;        /* CS_CORE_MODULE, CS_FUNC, CS_TYPE, CS_COMPONENT, CS_INSTANCE */
    const ctype_t *type; /* for CS_TYPE the type itself (a resource node for a
                          * resource) */
} cextern_t;

/* An import or export of a core module type or core instance type. */
typedef struct ccore_extern {
    const char *module; /* imports only */
    const char *name;
    whirl_externkind_t kind;
    const ctype_t *type; /* CT_CORE_FUNC for functions, else CT_CORE_OTHER */
} ccore_extern_t;

enum {
    CTF_HAS_RESOURCE = 1, /* mentions a resource node somewhere */
    CTF_HAS_BORROW = 2,   /* contains a borrow handle (value types) */
    CTF_HAS_MEMORY = 4,   /* needs memory to lift/lower: a string or list */
};

/* Flat core types of the canonical ABI. */
enum { FLAT_I32 = 0, FLAT_I64, FLAT_F32, FLAT_F64 };

struct ctype {
    uint8_t kind;  /* ct_kind_t */
    uint8_t flags; /* CTF_* */
    uint16_t depth;
    uint32_t effective_size; /* nodes of the tree expansion, saturating */
    uint32_t count;          /* fields / cases / labels / params / imports */
    cfield_t *fields;
    const ctype_t *elem;   /* list, option, own/borrow (the resource), result ok */
    const ctype_t *err;    /* result error */
    const ctype_t *result; /* func result, NULL if none */
    bool is_async;         /* `(func async ...)` (binary form 0x43) */

    /* Canonical ABI layout (value types; 32-bit memories, and 64-bit ones
     * for the validation limit on sizes). */
    uint32_t size, align, size64, align64;
    uint32_t flat_n;                   /* flat values, saturating at MAX+1 */
    uint8_t flat[CANON_MAX_FLAT_PARAMS]; /* valid when flat_n <= MAX */

    /* Instance types (exports) and component types (imports + exports). */
    cextern_t *imports, *exports;
    uint32_t nimports, nexports;

    /* Resources. `owner` is the component whose instances give the node a
     * run-time resource (in slot `slot`); NULL for nodes declared inside
     * instance and component types, which are templates replaced by
     * fresh nodes wherever such a type is imported or instantiated. */
    ccomp_t *owner;
    uint32_t slot;
    bool defined;         /* `(resource (rep i32) ...)`, not abstract */
    int64_t dtor;         /* core func index of the destructor, -1 if none */
    const char *res_name; /* for messages */

    /* Core types: functions (params/results as whirl_valkind_t), module
     * types (imports + exports), instance types (exports). */
    uint8_t *core_params, *core_results;
    uint32_t core_nparams, core_nresults;
    ccore_extern_t *core_imports, *core_exports;
    uint32_t core_nimports, core_nexports;
};

/* Shared singletons for primitive value types (no arena needed). */
const ctype_t *ctype_prim(ct_kind_t kind);

/* Finishes a constructed type: flags, depth, effective size, layout and
 * flattening. Returns an error (owned by the caller) if a limit is
 * exceeded. */
whirl_error_t *ctype_finish(ctype_t *t);

/* Structural equality with resource nodes compared by identity. */
bool ctype_equal(const ctype_t *a, const ctype_t *b);

/* A substitution of resource nodes: pairs (from, to). Lookup is linear; the
 * lists are short (the resources of one import or one instantiation). */
typedef struct csubst {
    VEC(const ctype_t *) from;
    VEC(const ctype_t *) to;
    arena_t *arena;
    /* ctype_subst: when `freshen`, unmapped resource nodes that are
     * templates (owner NULL) or owned by `fresh_from` become fresh abstract
     * nodes owned by `fresh_owner` (each getting a resource slot there). */
    bool freshen;
    ccomp_t *fresh_from;
    ccomp_t *fresh_owner;
    /* ctype_subtype: when `bind`, unmapped resource nodes of the expected
     * type owned by `bind_owner` (NULL: templates) get bound to the actual
     * type's resource. */
    bool bind;
    ccomp_t *bind_owner;
    /* Memo of copied nodes (old -> new) to keep DAGs DAGs. */
    VEC(const ctype_t *) memo_old;
    VEC(const ctype_t *) memo_new;
} csubst_t;

void csubst_init(csubst_t *s, arena_t *arena);
void csubst_free(csubst_t *s);
const ctype_t *csubst_lookup(const csubst_t *s, const ctype_t *from);
bool csubst_add(csubst_t *s, const ctype_t *from, const ctype_t *to);
/* Applies `s` to `t`, returning `t` itself when nothing changes. NULL only
 * when memory is exhausted. */
const ctype_t *ctype_subst(csubst_t *s, const ctype_t *t);

/* Subtyping for matching an import: is `actual` acceptable where `expected`
 * is wanted? Resource nodes of `expected` that `bind` maps are compared
 * through it; unmapped ones owned by bind->bind_owner get bound to the
 * matching resource of `actual` (type imports substitute as they are
 * supplied). `bind` may be NULL. On mismatch, writes a reason into `why`. */
bool ctype_subtype(const ctype_t *actual, const ctype_t *expected, csubst_t *bind,
                   char *why, size_t why_len);
bool cextern_subtype(csort_t sort, const ctype_t *actual, const ctype_t *expected,
                     csubst_t *bind, char *why, size_t why_len);

/* A core function type built from one of whirl.h. */
const ctype_t *ctype_core_func_from(arena_t *arena, const whirl_functype_t *ft);

/* Flattening of a function type for canon lift/lower: the core signature. */
typedef struct cflat_sig {
    uint8_t params[CANON_MAX_FLAT_PARAMS + 1];
    uint32_t nparams;
    uint8_t results[CANON_MAX_FLAT_RESULTS];
    uint32_t nresults;
    bool params_in_memory;  /* more than 16 flat params: one pointer */
    bool results_in_memory; /* more than 1 flat result: via a pointer */
} cflat_sig_t;
void ctype_flatten_func(const ctype_t *func, bool lower, cflat_sig_t *out);
/* The same for the `async` option: lift (`callback`: stackless, returning
 * an i32 status) or lower (at most CANON_MAX_FLAT_ASYNC_PARAMS flat
 * parameters, the result through a pointer, an i32 status). */
void ctype_flatten_func_async(const ctype_t *func, bool lower, bool callback, cflat_sig_t *out);

/* Prints a type in WIT-like syntax (for messages). */
void ctype_format(const ctype_t *t, char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Canonical options                                                   */
/* ------------------------------------------------------------------ */

enum { ENC_UTF8 = 0, ENC_UTF16, ENC_LATIN1_UTF16 };

typedef struct copts {
    uint8_t encoding;
    int64_t memory;      /* core memory index, -1 if none */
    int64_t realloc;     /* core func index, -1 if none */
    int64_t post_return; /* core func index, -1 if none */
    bool async;          /* the `async` option (component-model async ABI) */
    int64_t callback;    /* core func index of the `callback` option, -1 if none */
} copts_t;

/* ------------------------------------------------------------------ */
/* Static components: the instantiation program                       */
/* ------------------------------------------------------------------ */

typedef enum cop_kind {
    OP_CORE_INSTANTIATE, /* index = module; args (name, core instance) */
    OP_CORE_INLINE,      /* args (name, core sort, index) */
    OP_CORE_ALIAS,       /* core instance `index`, export `name`, sort */
    OP_INSTANTIATE,      /* index = component; args (name, sort, index);
                          * type = the instance type seen from here */
    OP_INLINE,           /* args (name, sort, index) */
    OP_ALIAS,            /* instance `index`, export `name`, sort; type */
    OP_RESOURCE,         /* a resource type definition: type (the node) */
    OP_LIFT,             /* core func `index`, opts, type (functype) */
    OP_LOWER,            /* func `index`, opts, core_type */
    OP_RESOURCE_NEW,     /* type = resource node */
    OP_RESOURCE_DROP,
    OP_RESOURCE_REP,
    OP_IMPORT,           /* name, sort, type */
    OP_EXPORT,           /* name, sort, index */
    OP_ASYNC_BUILTIN,    /* a canonical built-in of the async ABI: `builtin` is
                          * its binary opcode (canon_async_name), `index` the
                          * context slot of context.get/set, `type` the stream
                          * or future type or the task.return result type,
                          * `opts` its options, core_type its signature */
} cop_kind_t;

/* The name of a canonical built-in of the async ABI by binary opcode
 * ("waitable-set.new"), or NULL if `op` is not one. */
const char *canon_async_name(uint8_t op);

typedef struct cop_arg {
    const char *name;
    csort_t sort;
    uint32_t index;
    const ctype_t *type; /* CS_TYPE: the type (a resource node or not) */
} cop_arg_t;

typedef struct cop {
    cop_kind_t kind;
    csort_t sort;
    uint32_t index;
    const char *name;
    cop_arg_t *args;
    uint32_t nargs;
    copts_t opts;
    const ctype_t *type;
    whirl_functype_t *core_type; /* OP_LOWER, OP_RESOURCE_*, OP_ASYNC_BUILTIN: the core
                                  * signature */
    uint8_t builtin;             /* OP_ASYNC_BUILTIN: the opcode */
    bool cancellable;            /* OP_ASYNC_BUILTIN: the `cancellable` immediate */
    size_t offset;               /* in the binary, for messages */
} cop_t;

struct ccomp {
    ccomp_t *parent;
    uint32_t id;    /* for messages: 0 is the outermost component */
    size_t offset;  /* of the component's preamble */
    cop_t *ops;
    uint32_t nops;
    /* Sizes of the index spaces a run-time instance needs. */
    uint32_t count[CS_COUNT];
    uint32_t nres; /* resource slots */
    /* Static values of the core module and component index spaces (NULL
     * where only known at run time, which is unsupported). */
    whirl_module_t **modules;
    ccomp_t **components;
    /* The component's type. */
    const ctype_t *type;
};

/* A decoded, validated component: the public object. */
struct whirl_component {
    int refcount; /* atomic */
    whirl_engine_t *engine;
    arena_t arena;
    ccomp_t *root;
    VEC(whirl_module_t *) modules;       /* owned, for deletion */
    VEC(whirl_functype_t *) functypes;   /* owned, for deletion */
};

/* Decodes and validates, compiling the core modules (their import and
 * export types are part of validation). */
whirl_error_t *component_decode(whirl_engine_t *engine, const uint8_t *bytes, size_t len,
                                whirl_component_t **out);
void component_retain(whirl_component_t *c);
void component_release(whirl_component_t *c);

/* ------------------------------------------------------------------ */
/* Run time                                                            */
/* ------------------------------------------------------------------ */

typedef struct cinst cinst_t;
typedef struct croot croot_t;
typedef struct cwaitable cwaitable_t;
typedef struct whirl_cstream cstream_t;
typedef struct rinst rinst_t;
typedef struct chost_def chost_def_t;

/* A run-time resource type. Guest-defined ones belong to their instance
 * (freed with the store); host ones are reference-counted. */
struct whirl_resource_type {
    int refcount; /* host types only (atomic) */
    bool host;
    cinst_t *impl;      /* guest: the defining instance */
    whirl_func_t *dtor; /* guest: core destructor, NULL if none */
    whirl_resource_dtor_t host_dtor;
    void *env;
    void (*finalizer)(void *env);
    const char *name;
};

void resource_type_retain(whirl_resource_type_t *t);

/* A component-level function value. */
struct whirl_component_func {
    enum { CFUNC_LIFTED, CFUNC_HOST } kind;
    const ctype_t *type;
    const char *name;
    whirl_store_t *store;
    cinst_t *inst; /* the instance whose resource slots give `type` its
                    * resources (lifted: also its handles) */
    /* Lifted. */
    whirl_func_t *core;
    uint8_t encoding;
    whirl_memory_t *memory;
    whirl_func_t *realloc;
    whirl_func_t *post_return;
    bool async;              /* lifted with the async option */
    whirl_func_t *callback;  /* async: the callback (stackless), NULL if stackful */
    /* Host. */
    const chost_def_t *host;
};

/* An item of a component-level index space, as passed around at run time. */
typedef struct citem {
    csort_t sort;
    union {
        whirl_component_func_t *func;
        rinst_t *inst;
        whirl_resource_type_t *res; /* CS_TYPE: NULL unless a resource */
        ccomp_t *comp;
        whirl_module_t *module;
    } u;
} citem_t;

/* A component-level instance value: named items. */
struct rinst {
    uint32_t n;
    const char **names;
    citem_t *items;
    /* Where the next lookup by name starts: after the last one found. A
     * component's program looks names up mostly in the order they were
     * listed, so instantiation compares each name about once instead of
     * scanning (hundreds of WASI imports, every instantiation). */
    uint32_t hint;
};

/* A core instance value: an instantiated module, or named externs. */
typedef struct rcoreinst {
    whirl_instance_t *inst;
    uint32_t n;
    const char **names;
    whirl_extern_t *items;
    uint32_t hint; /* as rinst's */
} rcoreinst_t;

/* A resource handle in an instance's table. */
typedef struct ctask ctask_t;
typedef struct chandle {
    whirl_resource_type_t *rt;
    uint32_t rep;
    uint32_t lends;  /* borrows currently lent out from this own handle */
    ctask_t *scope;  /* borrow handles: the call they belong to */
    uint8_t state;   /* HANDLE_FREE, HANDLE_OWN, HANDLE_BORROW */
    uint32_t next_free;
} chandle_t;
enum { HANDLE_FREE = 0, HANDLE_OWN, HANDLE_BORROW };

/* A call into a lifted function (the spec's Task): counts the borrow
 * handles lowered into the callee that it has not dropped yet. */
struct ctask {
    cinst_t *inst;
    uint32_t num_borrows;
    /* Async lifts (task.c): the result task.return delivered, the lift's
     * result type and options it must match, the context slots, and the
     * task that was current in the instance before this one. */
    bool is_async, returned;
    const ctype_t *result_type;
    whirl_cval_t result;
    uint8_t encoding;
    whirl_memory_t *memory;
    uint32_t context[2];
    ctask_t *outer;
    uint32_t wait_code; /* a suspended stackless task: the WAIT code it waits with */
};

/* Handles lent by a caller for the duration of a call (the spec's Subtask
 * lenders), kept as (instance, index) pairs: the handles cannot be removed
 * while lent, and indices survive table growth. */
typedef struct clenders {
    cinst_t *inst;
    VEC(uint32_t) idx;
} clenders_t;

struct cinst {
    const ccomp_t *comp;
    cinst_t *parent;
    croot_t *root;
    whirl_store_t *store;
    /* Index spaces (sizes from comp->count). */
    whirl_func_t **core_funcs;
    whirl_table_t **core_tables;
    whirl_memory_t **core_memories;
    whirl_global_t **core_globals;
    rcoreinst_t **core_instances;
    whirl_component_func_t **funcs;
    rinst_t **instances;
    whirl_resource_type_t **res; /* per resource slot */
    uint32_t n[CS_COUNT];          /* filled so far */
    rinst_t *exports;
    /* Handle table; entry 0 is reserved. */
    VEC(chandle_t) handles;
    uint32_t free_head; /* 0: none */
    bool may_enter, may_leave;
    cinst_t *next_in_root;
    /* Component-model async (task.c, stream.c): the task running in this
     * instance, the waitables' handle table, backpressure. */
    ctask_t *current_task;
    VEC(cwaitable_t *) waitables; /* stream.c: one table for every waitable and waitable
                                   * set; entry 0 is never a handle, NULL is free */
    uint32_t backpressure;
    bool dying; /* the store is freeing the instance: no guest memory or code */
};

/* Everything one top-level instantiation allocated; freed with the store. */
struct croot {
    arena_t arena;
    whirl_store_t *store;
    whirl_component_t *component;
    whirl_component_instance_pre_t *pre;
    cinst_t *instances; /* list through next_in_root */
    uint32_t ninstances;
    struct csubtask *pending; /* subtask.c: host calls still running */
};

struct whirl_component_instance {
    cinst_t *inst;
};

/* Host function definitions (linker.c), reference-counted. */
struct chost_def {
    int refcount;
    whirl_component_callback_t callback;
    void *env;
    void (*finalizer)(void *env);
};

/* Instantiates `comp` with `args` (one item per import of `comp`, in import
 * order) as a child of `parent` (NULL for the top level). */
whirl_error_t *instance_run(croot_t *root, cinst_t *parent, const ccomp_t *comp,
                            const citem_t *args, cinst_t **out);

/* Binds resource slots of `inst` by matching the static type `type` (sort
 * `sort`) against the run-time item `item`. */
whirl_error_t *instance_bind(cinst_t *inst, csort_t sort, const ctype_t *type,
                             const citem_t *item, const char *what);

/* Looks up a named item of an instance value. */
const citem_t *rinst_find(const rinst_t *r, const char *name);

/* The run-time resource type of a static resource node in `inst`'s scope. */
whirl_error_t *instance_resource(const cinst_t *inst, const ctype_t *node,
                                 whirl_resource_type_t **out);

/* ---- calls (call.c) ---- */

/* Calls a component function with lifted values; `caller` is the calling
 * instance, NULL for the host. Results go to `results` (owned by the
 * caller then). */
whirl_error_t *cfunc_call(whirl_component_func_t *f, cinst_t *caller, whirl_cval_t *args,
                          size_t nargs, whirl_cval_t *results, size_t nresults);

/* The core callback behind every canon lower. */
whirl_error_t *lower_trampoline(void *env, whirl_caller_t *caller, const whirl_val_t *args,
                                size_t nargs, whirl_val_t *results, size_t nresults);

typedef struct clower_env {
    cinst_t *inst;                  /* the instance containing the canon lower */
    whirl_component_func_t *callee;
    const ctype_t *type;            /* the function type as lowered here */
    uint8_t encoding;
    whirl_memory_t *memory;
    whirl_func_t *realloc;
    bool async; /* the `async` option: flat parameters <= 4, an i32 status */
} clower_env_t;

/* ---- canonical ABI (canon.c) ---- */

/* The context of one lift or lower: options, the instance whose handle
 * table and resource slots apply, and the borrow scope. */
typedef struct ccx {
    whirl_store_t *store;
    cinst_t *inst;
    uint8_t encoding;
    whirl_memory_t *memory;
    whirl_func_t *realloc;
    ctask_t *task;         /* lowering borrows into a callee */
    clenders_t *lenders;   /* lifting borrows out of a caller */
    uint64_t nodes;        /* values lifted so far (bounded, see canon.c) */
} ccx_t;

/* Lifts values of `types` from flat core values (or from memory when they
 * do not fit in `max_flat`). `out` receives one value per type. */
whirl_error_t *canon_lift_values(ccx_t *cx, uint32_t max_flat, const cfield_t *types,
                                 uint32_t ntypes, const whirl_val_t *flat, size_t nflat,
                                 whirl_cval_t *out);
/* Lowers values of `types` into flat core values. When they do not fit in
 * `max_flat`: if `out_ptr` is not NULL the values are stored at *out_ptr
 * (a caller-supplied buffer), otherwise memory is allocated with realloc
 * and its pointer is the one flat value. */
whirl_error_t *canon_lower_values(ccx_t *cx, uint32_t max_flat, const cfield_t *types,
                                  uint32_t ntypes, const whirl_cval_t *vals,
                                  whirl_val_t *flat, size_t *nflat, const uint32_t *out_ptr);
/* Lifts a single value (function result) the same way. */
whirl_error_t *canon_lift_result(ccx_t *cx, const ctype_t *type, const whirl_val_t *flat,
                                 size_t nflat, whirl_cval_t *out);

/* ---- resources (resource.c) ---- */

whirl_error_t *handle_add(cinst_t *inst, whirl_resource_type_t *rt, uint32_t rep, bool own,
                          ctask_t *scope, uint32_t *out);
/* The live handle at `i`, or NULL (then *err is set to a trap). */
chandle_t *handle_get(cinst_t *inst, uint32_t i, whirl_error_t **err);
void handle_remove(cinst_t *inst, uint32_t i);
/* Removes every borrow handle of `task` from its instance's table (after a
 * call ended with borrows outstanding, which is a trap). */
void handle_scrub_task(ctask_t *task);
void clenders_release(clenders_t *l);

/* Runs the destructor of resource `rt` on `rep`, entering its instance
 * from `caller` (NULL: the host). */
whirl_error_t *resource_destroy(whirl_store_t *store, whirl_resource_type_t *rt, uint32_t rep,
                                cinst_t *caller);

/* Core callbacks of resource.new, resource.drop, resource.rep. */
typedef struct cres_env {
    cinst_t *inst;
    const ctype_t *node;
} cres_env_t;
whirl_error_t *resource_new_trampoline(void *env, whirl_caller_t *caller,
                                       const whirl_val_t *args, size_t nargs,
                                       whirl_val_t *results, size_t nresults);
whirl_error_t *resource_drop_trampoline(void *env, whirl_caller_t *caller,
                                        const whirl_val_t *args, size_t nargs,
                                        whirl_val_t *results, size_t nresults);
whirl_error_t *resource_rep_trampoline(void *env, whirl_caller_t *caller,
                                       const whirl_val_t *args, size_t nargs,
                                       whirl_val_t *results, size_t nresults);

/* Reentrance rules (CanonicalABI.md, ComponentInstance.may_enter_from). */
/* task.c: the async ABI's tasks and built-ins. */
typedef struct ctask_env {
    cinst_t *inst;
    uint8_t builtin;          /* canon_async_name opcode */
    uint32_t index;           /* context slot */
    const ctype_t *type;      /* task.return: its result type */
    uint8_t encoding;
    whirl_memory_t *memory;
    whirl_func_t *realloc;
    bool async;               /* the `async` option (stream/future copies, cancels) */
} ctask_env_t;
/* True if task.c implements the built-in `op` (others refuse to instantiate). */
bool task_builtin_supported(uint8_t op);
whirl_error_t *task_builtin_trampoline(void *env, whirl_caller_t *caller,
                                       const whirl_val_t *args, size_t nargs,
                                       whirl_val_t *results, size_t nresults);
/* Runs an async-lifted function: the core function, then (stackless) its
 * callback until it exits; the result is what task.return gave. With
 * `can_suspend` (a subtask of an async lower) a stackless task that waits
 * with nothing ready returns with *suspended set and no result; the event
 * loop resumes it with task_resume_async. */
whirl_error_t *task_call_async(whirl_component_func_t *f, ctask_t *task, whirl_val_t *flat,
                               size_t nflat, whirl_cval_t *results, size_t nresults,
                               bool can_suspend, bool *suspended);
whirl_error_t *task_resume_async(whirl_component_func_t *f, ctask_t *task,
                                 whirl_cval_t *results, size_t nresults, bool *suspended);
void task_inst_free(cinst_t *inst);

/* ---- waitables, streams and futures (stream.c) ---- */

/* Event codes of the async ABI (CanonicalABI.md, EventCode). */
enum { EVENT_NONE = 0, EVENT_SUBTASK, EVENT_STREAM_READ, EVENT_STREAM_WRITE, EVENT_FUTURE_READ,
       EVENT_FUTURE_WRITE, EVENT_TASK_CANCELLED };

/* Waitable sets: new (a handle), drop (traps if one has members), and the
 * delivery of one pending event of a member (false: none is pending). */
whirl_error_t *wset_new(cinst_t *inst, uint32_t *out);
whirl_error_t *wset_check(cinst_t *inst, uint32_t handle, const char *what);
whirl_error_t *wset_drop(cinst_t *inst, uint32_t handle);
bool wset_take_event(cinst_t *inst, uint32_t set, uint32_t *code, uint32_t *index,
                     uint32_t *payload);
whirl_error_t *waitable_join(cinst_t *inst, uint32_t w, uint32_t set);
/* The stream, future and error-context built-ins (opcodes 0x0e-0x1e). */
whirl_error_t *stream_builtin(ctask_env_t *te, const whirl_val_t *args, size_t nargs,
                              whirl_val_t *results);
/* Frees the instance's table (the store is going away: no guest runs). */
void waitables_free(cinst_t *inst);

/* Moving a readable end between a guest's table and a component value
 * (canon.c): lifting removes it from the table, lowering adds it. */
whirl_error_t *cstream_lift(ccx_t *cx, uint32_t handle, const ctype_t *t, whirl_cval_t *out);
whirl_error_t *cstream_lower(ccx_t *cx, const whirl_cval_t *v, const ctype_t *t,
                             uint32_t *out);
/* A component value holding a readable end is released (whirl_cval_release):
 * the end is dropped unless it moved on. */
void cstream_value_release(cstream_t *s);

/* The host's side of a stream or future (src/wasi3). A host holding the
 * readable end is a sink (write: the guest wrote `n` elements, raw bytes of
 * a number type, at `data`; *done: how many were taken; *closed: the sink
 * takes no more); a host that created the stream is the source (read:
 * fill up to `n` elements at `dst`; *done == 0 with *eof: the end).
 * peer_dropped: the guest dropped its end. free: the last reference went
 * away. Errors are traps of the guest's call. */
typedef struct cstream_host_ops {
    whirl_error_t *(*write)(void *env, const uint8_t *data, size_t n, size_t *done,
                            bool *closed);
    whirl_error_t *(*read)(void *env, uint8_t *dst, size_t n, size_t *done, bool *eof);
    void (*peer_dropped)(void *env);
    void (*free)(void *env);
    /* A source of values of any element type (instead of `read`): fills
     * up to `n` zeroed nodes of `vals` (at most CSTREAM_HOST_VALS), which
     * the engine lowers into the guest's buffer and releases; *done == 0
     * with *eof: the end. */
    whirl_error_t *(*read_vals)(void *env, whirl_cval_t *vals, size_t n, size_t *done,
                                bool *eof);
    /* A source with `watch` may answer a read with *done == 0 and no eof:
     * not ready. The guest's copy then waits (BLOCKED, or a synchronous
     * copy runs the event loop), and the instance's event loop tries the
     * read again when the descriptor watch returns is ready for *events. */
    int (*watch)(void *env, short *events);
    /* A sink of values of any element type (instead of `write`): `vals`
     * holds the `n` elements the guest wrote, lifted (handles moved to the
     * host); the sink takes what it keeps (zeroing those nodes) and the
     * engine releases the rest. *done / *closed as for `write`. */
    whirl_error_t *(*write_vals)(void *env, whirl_cval_t *vals, size_t n, size_t *done,
                                 bool *closed);
} cstream_host_ops_t;
#define CSTREAM_HOST_VALS 16
/* A stream (or future) the host writes: its readable end goes into `out`
 * (a value to return to a guest). A future's value comes later with
 * cstream_future_resolve. NULL `ops`: nothing to call back. */
whirl_error_t *cstream_host_new(bool future, const cstream_host_ops_t *ops, void *env,
                                whirl_cval_t *out);
/* Takes the readable end out of argument value `v` (stream or future) and
 * makes the host its sink; the value keeps only a reference. `env` belongs
 * to the stream from here, also on error (ops->free is called). The sink
 * keeps the stream until the guest drops its writable end. */
whirl_error_t *cstream_attach_sink(const whirl_cval_t *v, const cstream_host_ops_t *ops,
                                   void *env);
/* The host writes a future's value (taken); it reaches the guest reader now
 * if one is waiting, else at its next future.read. */
void cstream_future_resolve(cstream_t *f, whirl_cval_t *value);
/* Error contexts (stream.c): entries of the same table, their debug
 * message shared by every handle and value that refers to them. */
typedef struct whirl_cerror cerror_t;
whirl_error_t *cerror_lift(ccx_t *cx, uint32_t handle, whirl_cval_t *out);
whirl_error_t *cerror_lower(ccx_t *cx, const whirl_cval_t *v, uint32_t *out);
void cerror_ref(cerror_t *ec);
void cerror_unref(cerror_t *ec);
/* The debug message of an error-context value (borrowed; "" if none). */
const char *cerror_message(const whirl_cval_t *v, size_t *len);

/* ---- subtasks (subtask.c) ---- */

/* A host function called through `canon lower ... async` may finish
 * later: csub_defer is whirl_component_call_defer (include/whirl/
 * component.h documents the ops); the call becomes a subtask (STARTED, a
 * handle in the caller's table) which the event loop of waitable-set.wait/
 * poll and the callback's WAIT drives, on the guest's thread. */
typedef whirl_component_pending_ops_t csub_host_ops_t;
bool csub_can_defer(void);
void csub_defer(const csub_host_ops_t *ops, void *env);

typedef struct csubtask csubtask_t;
typedef struct csub_defer {
    const csub_host_ops_t *ops; /* set by csub_defer */
    void *env;
    cinst_t *guest; /* a guest callee's suspended task: the callee's instance */
} csub_defer_t;
/* call_lifted takes the slot an async lower armed for a guest callee. */
csub_defer_t *csub_guest_slot(void);
/* Calls host function `f` from an async lower, letting it defer into *slot. */
whirl_error_t *cfunc_call_deferrable(whirl_component_func_t *f, cinst_t *caller,
                                     whirl_cval_t *args, size_t nargs, whirl_cval_t *results,
                                     size_t nresults, csub_defer_t *slot);
/* call_host's bracket around a host callback (the slot it may defer into). */
csub_defer_t *csub_host_enter(void);
void csub_host_leave(csub_defer_t *saved);
/* A deferred call becomes a subtask of `le`'s instance: its handle packed
 * with STARTED, the lenders (moved) kept until its resolution is delivered. */
whirl_error_t *subtask_start(clower_env_t *le, const csub_defer_t *d, uint32_t retptr,
                             clenders_t *lenders, uint32_t *status);
/* A stream copy waiting for a host source that was not ready: an entry of
 * the instance's event loop without a handle (`ops`' poll retries the copy
 * and finishes when the copy has its event). subtask_free removes it. */
whirl_error_t *subtask_copy_wait(cinst_t *inst, const csub_host_ops_t *ops, void *env,
                                 csubtask_t **out);
/* subtask.drop (0x0d) and subtask.cancel (0x06). */
whirl_error_t *subtask_builtin(ctask_env_t *te, const whirl_val_t *args, whirl_val_t *results);
/* The event loop: finishes inst's pending host calls that can finish now;
 * with `block`, first waits until one can (ended by the store's deadline).
 * *none: there is nothing to wait for (no host call of inst is running). */
whirl_error_t *subtasks_run(cinst_t *inst, bool block, bool *none);
/* stream.c calls these for the subtask behind a waitable: its event's
 * payload (the state; a resolved one is delivered: lenders returned), and
 * its release with the store. */
uint32_t subtask_deliver(csubtask_t *st);
void subtask_free(csubtask_t *st);
/* stream.c's side: a subtask waitable in inst's table (handle in *out). */
whirl_error_t *waitable_add_subtask(cinst_t *inst, csubtask_t *st, uint32_t *out);
csubtask_t *waitable_subtask(cinst_t *inst, uint32_t h, bool *in_set, bool *has_event);
void waitable_subtask_event(cinst_t *inst, uint32_t h, bool on);
void waitable_subtask_remove(cinst_t *inst, uint32_t h);

/* The stream object of a stream/future value (not a new reference). */
cstream_t *cstream_of(const whirl_cval_t *v);
void cstream_ref(cstream_t *s);
void cstream_unref(cstream_t *s);

bool inst_may_enter_from(const cinst_t *callee, const cinst_t *caller);
void inst_enter_from(cinst_t *callee, const cinst_t *caller);
void inst_leave_to(cinst_t *callee, const cinst_t *caller);

/* ---- names (names.c) ---- */

/* Validates an import/export name (plain name or interface name). */
bool cname_valid(const char *name, size_t len, char *why, size_t why_len);
/* Validates a label (kebab-case). */
bool clabel_valid(const char *name, size_t len);
/* The strongly-unique canonical form of a name, written to buf (which has
 * room for len + 1 bytes). */
void cname_canonical(const char *name, size_t len, char *buf);
/* Whether two interface names match with semver compatibility (exact names
 * match too). `exact` is set when they are equal. */
bool cname_version_match(const char *have, const char *want, bool *exact);

/* A set of strings for uniqueness checks. */
typedef struct cnameset {
    char **slots; /* open addressing */
    size_t cap, n;
} cnameset_t;
/* Adds `s` (copied); false if it is already there (or memory is out, then
 * *oom is set). */
bool cnameset_add(cnameset_t *set, const char *s, bool *oom);
void cnameset_free(cnameset_t *set);

/* ---- store attachment ---- */

/* Frees `root` when `store` is deleted. */
whirl_error_t *croot_attach(whirl_store_t *store, croot_t *root);

#endif
