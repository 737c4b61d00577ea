/* The decoded form of a WebAssembly module: what the binary says, checked
 * only for well-formedness (decode.c). Validation (validate.c) checks types;
 * compilation (src/compile) turns function bodies into internal code.
 *
 * Everything here is allocated from `arena` and freed with wasm_module_free;
 * byte ranges (function bodies, data segments, custom sections) point into
 * `bytes`, the module's own copy of the binary. */
#ifndef WHIRL_WASM_MODULE_H
#define WHIRL_WASM_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"
#include "whirl.h"

/* Value types: 32 bits, see reftypes.h. */
#include "wasm/reftypes.h"

struct wasm_functype;
typedef struct wasm_functype {
    uint32_t nparams, nresults;
    const wasm_valtype_t *params;  /* nparams entries */
    const wasm_valtype_t *results; /* nresults entries */
    /* Index of the first structurally equal type in this module: two types
     * of one module are equal exactly when their `canonical` are equal. */
    uint32_t canonical;
    /* Typed function references: the module's type array (to follow
     * concrete references across modules), this type's index, and whether
     * any parameter or result names a concrete type. Host-made types have
     * no concrete references (module_types NULL). */
    const struct wasm_functype *module_types;
    uint32_t index;
    bool has_concrete;
} wasm_functype_t;

typedef struct wasm_limits {
    uint64_t min;
    uint64_t max;  /* valid if has_max */
    bool has_max;
    bool is64;     /* memory64: a 64-bit memory (i64 addresses) or table (i64 indices) */
    bool shared;   /* threads: a shared memory (always with a maximum) */
} wasm_limits_t;

typedef struct wasm_tabletype {
    wasm_valtype_t elem; /* a reference type */
    wasm_limits_t limits;
    bool has_init;       /* typed function references: 0x40 0x00 tabletype expr */
    struct wasm_const_expr *init; /* when has_init: each entry's initial value */
} wasm_tabletype_t;

typedef struct wasm_memtype {
    wasm_limits_t limits; /* in 64 KiB pages */
} wasm_memtype_t;

typedef struct wasm_globaltype {
    wasm_valtype_t type;
    bool is_mutable;
} wasm_globaltype_t;

/* Kinds of imports and exports, by their binary encoding. */
typedef enum wasm_externkind {
    WASM_EXTERN_FUNC = 0,
    WASM_EXTERN_TABLE = 1,
    WASM_EXTERN_MEMORY = 2,
    WASM_EXTERN_GLOBAL = 3,
    WASM_EXTERN_TAG = 4, /* exception handling */
} wasm_externkind_t;

typedef struct wasm_import {
    const char *module; /* NUL-terminated copy; may contain NUL, use the length */
    uint32_t module_len;
    const char *name;
    uint32_t name_len;
    wasm_externkind_t kind;
    union {
        uint32_t func_type; /* type index */
        wasm_tabletype_t table;
        wasm_memtype_t memory;
        wasm_globaltype_t global;
        uint32_t tag_type; /* type index of the tag's parameters */
    } desc;
} wasm_import_t;

typedef struct wasm_export {
    const char *name;
    uint32_t name_len;
    wasm_externkind_t kind;
    uint32_t index; /* in the kind's index space (imports first) */
} wasm_export_t;

/* One instruction of a constant expression, as decoded. The decoder accepts
 * any instruction here; the validator rejects the non-constant ones
 * ("constant expression required"). */
typedef struct wasm_const_instr {
    uint16_t op; /* wasm_op_t */
    union {
        int32_t i32;
        int64_t i64;
        uint32_t f32_bits;
        uint64_t f64_bits;
        uint8_t v128[16];
        uint32_t index;         /* global.get, ref.func */
        wasm_valtype_t reftype; /* ref.null */
    } imm;
} wasm_const_instr_t;

/* A constant expression: the instructions before its `end`. */
struct wasm_const_expr {
    uint32_t count;
    wasm_const_instr_t *instrs;
    size_t offset; /* byte offset of the first instruction in the module */
};
typedef struct wasm_const_expr wasm_const_expr_t;

typedef enum wasm_segment_mode {
    WASM_SEGMENT_ACTIVE,
    WASM_SEGMENT_PASSIVE,
    WASM_SEGMENT_DECLARATIVE, /* element segments only */
} wasm_segment_mode_t;

typedef struct wasm_elem {
    wasm_segment_mode_t mode;
    wasm_valtype_t type;       /* element reference type */
    uint32_t table;            /* active only */
    wasm_const_expr_t offset;  /* active only */
    uint32_t count;
    /* One constant expression per element. Segments written with function
     * indices (flags 0-3) are stored as `ref.func i` expressions. */
    wasm_const_expr_t *items;
    size_t section_offset;     /* byte offset of the segment */
} wasm_elem_t;

typedef struct wasm_data {
    wasm_segment_mode_t mode;  /* ACTIVE or PASSIVE */
    uint32_t memory;           /* active only */
    wasm_const_expr_t offset;  /* active only */
    const uint8_t *bytes;      /* points into wasm_module_t.bytes */
    uint32_t len;
    size_t section_offset;
} wasm_data_t;

/* A run of locals of one type, as declared in a function body. */
typedef struct wasm_local_run {
    uint32_t count;
    wasm_valtype_t type;
} wasm_local_run_t;

typedef struct wasm_func {
    uint32_t type;             /* type index */
    uint32_t nlocal_runs;
    wasm_local_run_t *local_runs;
    uint32_t nlocals;          /* total declared locals (params excluded) */
    const uint8_t *code;       /* instructions, after the local declarations */
    const uint8_t *code_end;   /* one past the function's final `end` */
    size_t body_offset;        /* byte offset of the body (its size field) */
    /* Byte offset and length of `code` in the binary, known even where
     * `code` is NULL (a module loaded without its bodies). */
    size_t code_offset;
    uint32_t code_len;
} wasm_func_t;

typedef struct wasm_custom {
    const char *name;
    uint32_t name_len;
    const uint8_t *data;
    uint32_t len;
} wasm_custom_t;

typedef struct wasm_module {
    arena_t arena;
    uint8_t *bytes; /* owned copy of the binary (malloc'd), unless bytes_borrowed */
    size_t len;
    /* Loaded from a serialised form (runtime/serialize.c): `bytes` lie in
     * its image and are not freed here, and they may be only the binary's
     * first `len` bytes, through the code section (every function body);
     * NULL when the file kept no bodies. */
    bool bytes_borrowed;

    uint32_t ntypes;
    wasm_functype_t *types;

    uint32_t nimports;
    wasm_import_t *imports;

    /* Index spaces: imports come first. `funcs` etc. hold only the
     * module-defined entries; use the *_type helpers below for the whole
     * space. */
    uint32_t nfunc_imports, ntable_imports, nmemory_imports, nglobal_imports;
    /* Position in `imports` of the k-th import of each kind. */
    uint32_t *func_import_ids, *table_import_ids, *memory_import_ids, *global_import_ids;

    uint32_t nfuncs;           /* defined functions */
    wasm_func_t *funcs;
    uint32_t ntables;          /* defined tables */
    wasm_tabletype_t *tables;
    uint32_t nmemories;        /* defined memories */
    wasm_memtype_t *memories;
    uint32_t nglobals;         /* defined globals */
    wasm_globaltype_t *globals;
    wasm_const_expr_t *global_inits;

    /* Exception handling: the tag index space (imports first); each tag
     * is a type index (its results are empty). */
    uint32_t ntag_imports;
    uint32_t *tag_import_ids;
    uint32_t ntags;            /* defined tags */
    uint32_t *tags;

    uint32_t nexports;
    wasm_export_t *exports;

    bool has_start;
    uint32_t start;            /* function index */

    uint32_t nelems;
    wasm_elem_t *elems;

    bool has_data_count;
    uint32_t data_count;
    uint32_t ndatas;
    wasm_data_t *datas;

    uint32_t ncustoms;
    wasm_custom_t *customs;

    /* From the `name` custom section; NULL where absent. Indexed by function
     * index (imports included); array of total function count, or NULL if
     * the module has no usable name section. */
    const char **func_names;
    const char *module_name;

    uint32_t features; /* WASM_FEATURE_* the module was decoded with */
} wasm_module_t;

/* Post-2.0 features whirl implements, each switchable (the engine's
 * feature knobs). A switched-off feature's bytes get the proposal-naming
 * message of proposals.c, as before whirl implemented it. */
enum wasm_feature {
    WASM_FEATURE_TAIL_CALL = 1u << 0,
    WASM_FEATURE_EXTENDED_CONST = 1u << 1,
    WASM_FEATURE_FUNCTION_REFERENCES = 1u << 2,
    WASM_FEATURE_MULTI_MEMORY = 1u << 3,
    WASM_FEATURE_MEMORY64 = 1u << 4,
    WASM_FEATURE_RELAXED_SIMD = 1u << 5,
    WASM_FEATURE_EXCEPTIONS = 1u << 6,
    WASM_FEATURE_THREADS = 1u << 7,
};
#define WASM_FEATURES_ALL 0xFFu

/* Decodes `len` bytes (copied). On success *out owns a module freed with
 * wasm_module_free. Errors give the reason in the spec's wording first, then
 * where: "malformed module: unexpected end (section 10 code, at offset
 * 0x1f)". Function bodies are left undecoded for the validator. */
whirl_error_t *wasm_decode(const uint8_t *bytes, size_t len, wasm_module_t **out);
/* The same with only the WASM_FEATURE_* in `features` (wasm_decode: all);
 * the validator reads them from the module. */
whirl_error_t *wasm_decode_features(const uint8_t *bytes, size_t len, uint32_t features,
                                    wasm_module_t **out);
void wasm_module_free(wasm_module_t *module);

/* Whole index spaces (imports first). Indices must be in range. */
uint32_t wasm_module_func_count(const wasm_module_t *m);
uint32_t wasm_module_table_count(const wasm_module_t *m);
uint32_t wasm_module_memory_count(const wasm_module_t *m);
uint32_t wasm_module_global_count(const wasm_module_t *m);
/* Type of function `index`, tabletype of table `index`, etc. Before
 * validation, wasm_module_func_type returns NULL for a function whose type
 * index is out of range. */
const wasm_functype_t *wasm_module_func_type(const wasm_module_t *m, uint32_t index);
const wasm_tabletype_t *wasm_module_table_type(const wasm_module_t *m, uint32_t index);
const wasm_memtype_t *wasm_module_memory_type(const wasm_module_t *m, uint32_t index);
const wasm_globaltype_t *wasm_module_global_type(const wasm_module_t *m, uint32_t index);
/* Exception handling: tags (imports first) and the type index of tag `index`. */
uint32_t wasm_module_tag_count(const wasm_module_t *m);
uint32_t wasm_module_tag_type(const wasm_module_t *m, uint32_t index);

/* Validates the whole module: types of every function body, constant
 * expressions, indices, limits, exports, start function (validate.c).
 * Errors read "invalid module: func 3 at offset 0x4a: type mismatch: ...",
 * with the spec's wording for the reason. */
whirl_error_t *wasm_validate(const wasm_module_t *module);

/* Name of a value type ("i32", "funcref", ...). */
const char *wasm_valtype_name(wasm_valtype_t t);

#endif
