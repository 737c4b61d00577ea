/*
 * whirl/component.h: the WebAssembly component model for whirl hosts.
 *
 * A component (a binary whose preamble is "\0asm" 0d 00 01 00) is decoded,
 * validated and compiled once with whirl_component_new, then instantiated in
 * stores through a component linker that supplies its imports: host
 * functions, keyed by interface name ("wasi:cli/stdout@0.2.0") and function
 * name, and host resource types. Component functions exchange values of the
 * component model's types, given to and taken from the host as trees of
 * whirl_cval_t; the canonical ABI moves them in and out of guest memory.
 *
 * Conventions are those of whirl.h: fallible calls return whirl_error_t *
 * (NULL = success, the caller frees the error), handles are opaque,
 * `_delete` accepts NULL and ownership is stated on each function. Violations
 * of the canonical ABI by a guest (a bad char, discriminant, pointer or
 * alignment, a string too long, a handle of the wrong type, ...) are trap
 * errors whose message starts with "canonical ABI: ".
 *
 * Interface versions: an import of `ns:pkg/iface@V` is satisfied by a
 * definition of `ns:pkg/iface@W` when V and W are semver-compatible: the same
 * major version if it is not 0, else the same minor version if it is not 0,
 * else the same patch version; pre-release versions only match exactly. An
 * exact match is preferred.
 */
#ifndef WHIRL_COMPONENT_H
#define WHIRL_COMPONENT_H

#include "../whirl.h"

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default) /* exported from libwhirl: see whirl.h */

typedef struct whirl_component whirl_component_t;
typedef struct whirl_component_linker whirl_component_linker_t;
typedef struct whirl_component_instance_pre whirl_component_instance_pre_t;
typedef struct whirl_component_instance whirl_component_instance_t;
typedef struct whirl_component_func whirl_component_func_t;
typedef struct whirl_resource_type whirl_resource_type_t;
typedef struct whirl_ctype whirl_ctype_t;

/* ------------------------------------------------------------------ */
/* Values                                                              */
/* ------------------------------------------------------------------ */

/* The kind of a component value, and of a component value type. */
typedef enum whirl_cval_kind {
    WHIRL_CVAL_BOOL = 0,
    WHIRL_CVAL_S8,
    WHIRL_CVAL_U8,
    WHIRL_CVAL_S16,
    WHIRL_CVAL_U16,
    WHIRL_CVAL_S32,
    WHIRL_CVAL_U32,
    WHIRL_CVAL_S64,
    WHIRL_CVAL_U64,
    WHIRL_CVAL_F32,
    WHIRL_CVAL_F64,
    WHIRL_CVAL_CHAR,    /* a Unicode scalar value */
    WHIRL_CVAL_STRING,  /* UTF-8, not NUL-terminated (a NUL follows it though) */
    WHIRL_CVAL_LIST,    /* items */
    WHIRL_CVAL_BYTES,   /* a list<u8> held as bytes (see below) */
    WHIRL_CVAL_RECORD,  /* items, one per field in the type's order */
    WHIRL_CVAL_TUPLE,   /* items */
    WHIRL_CVAL_VARIANT, /* case index + optional payload */
    WHIRL_CVAL_ENUM,    /* case index */
    WHIRL_CVAL_OPTION,  /* case 0 = none, 1 = some(payload) */
    WHIRL_CVAL_RESULT,  /* case 0 = ok(payload?), 1 = error(payload?) */
    WHIRL_CVAL_FLAGS,   /* bit i = flag i (at most 32 flags) */
    WHIRL_CVAL_OWN,     /* a resource handle the holder owns */
    WHIRL_CVAL_BORROW,  /* a resource handle lent for the duration of a call */
    WHIRL_CVAL_STREAM,  /* the readable end of a stream<T> (component-model async) */
    WHIRL_CVAL_FUTURE,  /* the readable end of a future<T> */
    WHIRL_CVAL_ERROR_CONTEXT, /* an error-context: opaque, shared (copies share it) */
} whirl_cval_kind_t;

/*
 * A component value: a tree. The value owns what it points to (strings,
 * items, payloads), all allocated with malloc; whirl_cval_release frees that
 * and leaves the node itself (which may live in an array or on the stack).
 * Use the whirl_cval_set_* helpers to build values: they allocate for you.
 *
 * list<u8> is always given to the host as WHIRL_CVAL_BYTES; the host may
 * pass either form back. Resource handles are a resource type and a 32-bit
 * representation: for a host resource type the rep is whatever the host
 * chose (an index into its own table, say); for a guest's resource type it
 * is the guest's rep, opaque to the host.
 */
typedef struct whirl_cval whirl_cval_t;
struct whirl_cval {
    whirl_cval_kind_t kind;
    union {
        bool b;
        int64_t s;   /* S8..S64 */
        uint64_t u;  /* U8..U64 */
        float f32;
        double f64;
        uint32_t ch; /* CHAR */
        struct {
            char *data;
            size_t len;
        } string;    /* STRING, and BYTES (data holds the bytes) */
        struct {
            whirl_cval_t *items;
            size_t len;
        } list;      /* LIST, RECORD, TUPLE */
        struct {
            uint32_t index;
            whirl_cval_t *payload; /* NULL if the case has none */
        } variant;   /* VARIANT, ENUM, OPTION, RESULT */
        uint32_t flags;
        struct {
            whirl_resource_type_t *type;
            uint32_t rep;
        } resource;  /* OWN, BORROW */
        struct whirl_cstream *stream; /* STREAM, FUTURE: opaque; the value owns the
                                       * readable end (released: dropped) */
        struct whirl_cerror *error_context; /* ERROR_CONTEXT: opaque, reference-counted */
    } of;
};

/* Frees what `value` owns (recursively) and zeroes it. Accepts NULL. The
 * node itself is not freed. */
void whirl_cval_release(whirl_cval_t *value);

/* Builders. Each first releases what `value` held, then fills it in; the
 * value then owns the new allocations. They fail only when memory is
 * exhausted (out-of-memory error; `value` is then zeroed). */
/* STRING from `len` bytes of UTF-8 (copied, not checked here: a string
 * that is not valid UTF-8 is refused when it reaches a guest). */
whirl_error_t *whirl_cval_set_string(whirl_cval_t *value, const char *data, size_t len);
/* BYTES (a list<u8>), copied. */
whirl_error_t *whirl_cval_set_bytes(whirl_cval_t *value, const void *data, size_t len);
/* LIST, RECORD or TUPLE with `len` zeroed items for the caller to fill. */
whirl_error_t *whirl_cval_set_items(whirl_cval_t *value, whirl_cval_kind_t kind, size_t len);
/* VARIANT, ENUM, OPTION or RESULT with case `index`; if `with_payload`, a
 * zeroed payload node (value->of.variant.payload) for the caller to fill. */
whirl_error_t *whirl_cval_set_case(whirl_cval_t *value, whirl_cval_kind_t kind, uint32_t index,
                                   bool with_payload);

/* A deep copy of `src` into `dst` (whose old contents are released). */
whirl_error_t *whirl_cval_copy(whirl_cval_t *dst, const whirl_cval_t *src);

/* ------------------------------------------------------------------ */
/* Types                                                               */
/* ------------------------------------------------------------------ */

/* Component value types, borrowed from the component (or function) they
 * come from. whirl_ctype_kind uses the value kinds above (a list<u8> type is
 * WHIRL_CVAL_LIST of WHIRL_CVAL_U8). */
whirl_cval_kind_t whirl_ctype_kind(const whirl_ctype_t *type);
/* Fields of a record, cases of a variant, labels of an enum or flags,
 * elements of a tuple; 1 for list and option; 2 for result. */
size_t whirl_ctype_count(const whirl_ctype_t *type);
/* The label of field/case/flag `i` (NULL for tuples, lists, options,
 * results, or `i` out of range). */
const char *whirl_ctype_label(const whirl_ctype_t *type, size_t i);
/* The type of field/case/element `i`: record fields, variant case payloads
 * (NULL: none), tuple elements, the element of a list or option (i = 0),
 * result's ok (0) and error (1) payloads (NULL: none). */
const whirl_ctype_t *whirl_ctype_elem(const whirl_ctype_t *type, size_t i);

/* ------------------------------------------------------------------ */
/* Components                                                          */
/* ------------------------------------------------------------------ */

/* True if `bytes` starts with the component preamble (a core module has
 * layer 0, a component layer 1). */
bool whirl_component_is_component(const uint8_t *bytes, size_t len);

/* Decodes, validates and compiles a component and every core module inside
 * it. `bytes` is borrowed. On success the caller owns *out; a component is
 * immutable and may be used from several threads at once. Errors name the
 * section and the byte offset. */
whirl_error_t *whirl_component_new(whirl_engine_t *engine, const uint8_t *bytes, size_t len,
                                   whirl_component_t **out);
/* Decodes and validates, keeping nothing. (Core modules are compiled all
 * the same: validation needs their import and export types.) */
whirl_error_t *whirl_component_validate(whirl_engine_t *engine, const uint8_t *bytes,
                                        size_t len);
/* Drops the caller's reference; instances keep the component alive. */
void whirl_component_delete(whirl_component_t *component);

typedef enum whirl_component_item_kind {
    WHIRL_COMPONENT_ITEM_FUNC = 0,
    WHIRL_COMPONENT_ITEM_INSTANCE,
    WHIRL_COMPONENT_ITEM_TYPE,
    WHIRL_COMPONENT_ITEM_COMPONENT,
    WHIRL_COMPONENT_ITEM_MODULE,
} whirl_component_item_kind_t;

/* Imports and exports of the component, in order. `name` is borrowed from
 * the component. Returns false if `i` is out of range. */
size_t whirl_component_import_count(const whirl_component_t *component);
bool whirl_component_import(const whirl_component_t *component, size_t i, const char **name,
                            whirl_component_item_kind_t *kind);
size_t whirl_component_export_count(const whirl_component_t *component);
bool whirl_component_export(const whirl_component_t *component, size_t i, const char **name,
                            whirl_component_item_kind_t *kind);

/* The component's imports and exports as WIT-like text (a `world` with one
 * `import`/`export` line or block per item: interface functions and types,
 * resources with their methods). *out is malloc'd, NUL-terminated; the
 * caller frees it. Names come from the binary and are not escaped. */
whirl_error_t *whirl_component_describe(const whirl_component_t *component, char **out);

/* ------------------------------------------------------------------ */
/* Resources                                                           */
/* ------------------------------------------------------------------ */

/* Called when the last owning handle of a host resource is dropped by a
 * guest (resource.drop) or by the host (whirl_component_resource_drop).
 * Returning an error traps the guest that dropped it. */
typedef whirl_error_t *(*whirl_resource_dtor_t)(void *env, whirl_store_t *store, uint32_t rep);

/* A new host resource type. `name` is copied (used in messages). `dtor` may
 * be NULL; `finalizer` (may be NULL) runs on `env` when the type is freed.
 * The caller owns the returned reference (whirl_resource_type_delete);
 * linkers and instances using the type hold their own. NULL only if memory
 * is exhausted. */
whirl_resource_type_t *whirl_resource_type_new(const char *name, whirl_resource_dtor_t dtor,
                                               void *env, void (*finalizer)(void *env));
void whirl_resource_type_delete(whirl_resource_type_t *type);
/* The type's name: the host's, or the guest resource's export name if known.
 * Borrowed. */
const char *whirl_resource_type_name(const whirl_resource_type_t *type);

/* Drops an owning handle the host holds (an OWN value it received): runs the
 * type's destructor (host or guest). `value` is released. */
whirl_error_t *whirl_component_resource_drop(whirl_store_t *store, whirl_cval_t *value);

/* ------------------------------------------------------------------ */
/* Functions                                                           */
/* ------------------------------------------------------------------ */

/* A host function. `args` (borrowed, valid during the call) hold the
 * parameters, lifted from the calling guest; OWN arguments are the host's
 * from now on. The callback fills `results` (nresults is 0 or 1; the nodes
 * are zeroed) with values matching the function's type; the engine lowers
 * them into the guest and releases them. A non-NULL error traps the guest;
 * the engine takes ownership of it. `type` describes the function as the
 * guest imports it (borrowed). */
typedef whirl_error_t *(*whirl_component_callback_t)(void *env, whirl_store_t *store,
                                                      const whirl_component_func_t *type,
                                                      const whirl_cval_t *args, size_t nargs,
                                                      whirl_cval_t *results, size_t nresults);

/* Host functions that finish later (component-model async). A host
 * function that a guest calls through `canon lower ... async` may finish
 * after it returns: while whirl_component_call_can_defer() is true (during
 * such a callback only, on its thread, before the callback waits for
 * anything) it calls whirl_component_call_defer and returns NULL without
 * filling `results`. The guest's call then answers STARTED with a subtask
 * handle, and the engine finishes the call from that guest instance's own
 * waits (waitable-set.wait and poll, a callback's WAIT), on the guest's
 * thread, delivering the SUBTASK event:
 *  - watch: what the call waits for, so that a blocked guest sleeps until
 *    then: up to 2 descriptors written to `fds` (returns how many) and/or
 *    a monotonic deadline (whirl_monotonic_now's clock) lowered into
 *    *deadline_ns. Waits also end at the store's deadline (an `interrupt`
 *    trap).
 *  - poll: tries to finish without blocking; on success sets *done and,
 *    if the function has a result, *result (released by the engine after
 *    lowering it into the guest). An error traps the waiting guest.
 *  - free: releases `env`, exactly once: after the call finished, when the
 *    guest cancelled it (subtask.cancel: the result is never written), when
 *    the callback returned an error anyway, or with the store.
 * Called any other way (a synchronous lower, the host), the function must
 * finish before it returns, as usual. */
struct pollfd;
typedef struct whirl_component_pending_ops {
    size_t (*watch)(void *env, struct pollfd *fds, uint64_t *deadline_ns);
    whirl_error_t *(*poll)(void *env, whirl_store_t *store, whirl_cval_t *result, bool *done);
    void (*free)(void *env);
} whirl_component_pending_ops_t;
bool whirl_component_call_can_defer(void);
/* `ops` must outlive the call (a static table); `env` is the engine's from
 * now on (ops->free). Only when whirl_component_call_can_defer() is true. */
void whirl_component_call_defer(const whirl_component_pending_ops_t *ops, void *env);

/* Streams and futures the host writes (component-model async), for
 * results such as `stream<row>`. A stream's values come from `ops->read`,
 * called inside the guest's stream.read: it fills up to `n` zeroed nodes of
 * `vals` (n is small, so the host never holds more than one read's worth)
 * with values of the element type, which the engine lowers and releases;
 * *done == 0 with *eof ends the stream. An error traps the reading guest.
 * `ops->free` (may be NULL) releases `env` once the stream is gone (read to
 * its end and dropped, or dropped early, or with the store); `env` is the
 * stream's from this call on, also when it fails. `ops` must outlive the
 * stream (a static table). The value then holds the readable end (release
 * it or return it to a guest). */
typedef struct whirl_component_source_ops {
    whirl_error_t *(*read)(void *env, whirl_cval_t *vals, size_t n, size_t *done, bool *eof);
    void (*free)(void *env);
} whirl_component_source_ops_t;
whirl_error_t *whirl_cval_set_stream(whirl_cval_t *value, const whirl_component_source_ops_t *ops,
                                     void *env);
/* A future already resolved with `payload` (taken and zeroed; NULL for a
 * `future` without a payload type). */
whirl_error_t *whirl_cval_set_future(whirl_cval_t *value, whirl_cval_t *payload);

/* Parameters and result of a component function (borrowed). */
size_t whirl_component_func_param_count(const whirl_component_func_t *func);
const char *whirl_component_func_param_name(const whirl_component_func_t *func, size_t i);
const whirl_ctype_t *whirl_component_func_param_type(const whirl_component_func_t *func,
                                                     size_t i);
/* NULL if the function returns nothing. */
const whirl_ctype_t *whirl_component_func_result_type(const whirl_component_func_t *func);
size_t whirl_component_func_result_count(const whirl_component_func_t *func);

/* Calls an exported component function. `args` are borrowed, except that
 * OWN handles among them move to the callee. On success `results`
 * (nresults = whirl_component_func_result_count) receive values the caller
 * owns (release each with whirl_cval_release); post-return has already run.
 * Arguments that do not match the parameter types give an error; guest
 * traps give trap errors. */
whirl_error_t *whirl_component_func_call(whirl_store_t *store, whirl_component_func_t *func,
                                         const whirl_cval_t *args, size_t nargs,
                                         whirl_cval_t *results, size_t nresults);

/* ------------------------------------------------------------------ */
/* Linker                                                              */
/* ------------------------------------------------------------------ */

/* Resolves a component's imports by name. Caller owns it. NULL only if
 * memory is exhausted. */
whirl_component_linker_t *whirl_component_linker_new(whirl_engine_t *engine);
void whirl_component_linker_delete(whirl_component_linker_t *linker);

/* Defines function `name` in the instance `interface` (for example
 * "wasi:cli/stdout@0.2.0"), or at the root (imported as a bare function)
 * if `interface` is NULL. Strings are copied. `finalizer` (may be NULL) runs
 * on `env` once the linker and every instance_pre and instance using the
 * definition are gone. Defining the same name twice is an error. */
whirl_error_t *whirl_component_linker_define_func(whirl_component_linker_t *linker,
                                                  const char *interface, const char *name,
                                                  whirl_component_callback_t callback,
                                                  void *env, void (*finalizer)(void *env));

/* Defines resource type `name` in `interface` (or at the root), satisfying a
 * `(type (sub resource))` import. The linker takes its own reference to
 * `type`. */
whirl_error_t *whirl_component_linker_define_resource(whirl_component_linker_t *linker,
                                                      const char *interface, const char *name,
                                                      whirl_resource_type_t *type);

/* Resolves every import of `component` once. Errors name the import that is
 * missing or of the wrong kind. The caller owns *out; it is immutable and
 * keeps the component and the definitions it uses alive, so the linker may
 * be deleted first. */
whirl_error_t *whirl_component_linker_instantiate_pre(whirl_component_linker_t *linker,
                                                      whirl_component_t *component,
                                                      whirl_component_instance_pre_t **out);
void whirl_component_instance_pre_delete(whirl_component_instance_pre_t *pre);

/* Instantiates in `store`. The instance is owned by the store. A trap while
 * running core start functions is a trap error. */
whirl_error_t *whirl_component_instance_pre_instantiate(const whirl_component_instance_pre_t *pre,
                                                        whirl_store_t *store,
                                                        whirl_component_instance_t **out);

/* instantiate_pre + instantiate in one call. */
whirl_error_t *whirl_component_linker_instantiate(whirl_component_linker_t *linker,
                                                  whirl_store_t *store,
                                                  whirl_component_t *component,
                                                  whirl_component_instance_t **out);

/* ------------------------------------------------------------------ */
/* Instances                                                           */
/* ------------------------------------------------------------------ */

/* Looks up an exported function: `name` at the root if `interface` is NULL,
 * else `name` inside the exported instance `interface` (matched with the
 * version rules above). The function is owned by the store. Returns false
 * if there is none. */
bool whirl_component_instance_func(whirl_component_instance_t *instance, const char *interface,
                                   const char *name, whirl_component_func_t **out);

/* The store of the instance. */
whirl_store_t *whirl_component_instance_store(const whirl_component_instance_t *instance);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* WHIRL_COMPONENT_H */
