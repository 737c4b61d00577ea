/* Decoding state shared by decode.c (sections and definitions) and
 * typedecl.c (type definitions and declarators). Decoding and validation
 * are one pass: each definition is checked against the index spaces built
 * so far, which is all the component model's acyclic binary format needs. */
#ifndef WHIRL_COMPONENT_DECODE_H
#define WHIRL_COMPONENT_DECODE_H

#include "component/component.h"
#include "wasm/reader.h"

/* A scope: a component definition, or the body of a component type, an
 * instance type or a core module type (each has its own index spaces). */
typedef enum scope_kind { SCOPE_COMPONENT, SCOPE_COMPONENT_TYPE, SCOPE_INSTANCE_TYPE,
                          SCOPE_MODULE_TYPE } scope_kind_t;

typedef struct scope scope_t;
struct scope {
    scope_kind_t kind;
    scope_t *outer;
    int depth;
    ccomp_t *comp; /* SCOPE_COMPONENT */
    /* The static type of every entry of every index space. */
    VEC(const ctype_t *) sp[CS_COUNT];
    /* SCOPE_COMPONENT: static values of modules and components. */
    VEC(whirl_module_t *) modules;
    VEC(ccomp_t *) comps;
    VEC(cop_t) ops;
    /* Imports and exports (components and component/instance types; core
     * module types use core_imports/core_exports). */
    VEC(cextern_t) imports;
    VEC(cextern_t) exports;
    VEC(ccore_extern_t) core_imports;
    VEC(ccore_extern_t) core_exports;
    cnameset_t import_names, export_names;
};

typedef struct dctx {
    whirl_engine_t *engine;
    whirl_component_t *out;
    arena_t *arena;
    whirl_error_t *err;   /* first error */
    const char *section;  /* for messages ("type section") */
    uint32_t ncomps;      /* components seen, for ids */
} dctx_t;

/* Records an error at the reader's offset (or `offset` if not 0) unless one
 * is recorded already; returns false for `return fail(...)`. */
bool dfail(dctx_t *cx, reader_t *r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Turns a reader error into a recorded error; true if all is well. */
bool dcheck(dctx_t *cx, reader_t *r);
/* Takes ownership of `e` as the recorded error. */
bool dfail_err(dctx_t *cx, reader_t *r, whirl_error_t *e);

/* Reads a core:name into the arena (NUL-terminated, valid UTF-8, no NUL
 * byte inside). */
const char *dread_name(dctx_t *cx, reader_t *r);
/* Reads a vector count no larger than the bytes left. */
bool dread_count(dctx_t *cx, reader_t *r, uint32_t *n);

bool scope_push(dctx_t *cx, reader_t *r, scope_t *s, csort_t sort, const ctype_t *t);
void scope_free(scope_t *s);
/* The entry `idx` of index space `sort`, or NULL after recording an error. */
const ctype_t *scope_get(dctx_t *cx, reader_t *r, scope_t *s, csort_t sort, uint32_t idx);

/* typedecl.c */
bool decode_type(dctx_t *cx, reader_t *r, scope_t *s);
bool decode_core_type(dctx_t *cx, reader_t *r, scope_t *s);
/* An externtype: its sort and type. A `(sub resource)` bound becomes a
 * fresh resource node: owned by the component (with a slot) in a component
 * scope, a template inside types. */
bool decode_externtype(dctx_t *cx, reader_t *r, scope_t *s, csort_t *sort, const ctype_t **t);
/* Import/export name with its attributes; validates the name. */
const char *decode_extern_name(dctx_t *cx, reader_t *r);
/* Adds an import or export to a scope (uniqueness, resource naming, index
 * space entry). */
bool scope_add_import(dctx_t *cx, reader_t *r, scope_t *s, const char *name, csort_t sort,
                      const ctype_t *t);
bool scope_add_export(dctx_t *cx, reader_t *r, scope_t *s, const char *name, csort_t sort,
                      const ctype_t *t);
/* An alias definition or declarator. */
bool decode_alias(dctx_t *cx, reader_t *r, scope_t *s);
/* The shared node for core tables, memories and globals. */
const ctype_t *ctype_core_other(void);
/* Reads a core value type (whirl_valkind_t). */
bool decode_core_valtype(dctx_t *cx, reader_t *r, uint8_t *out);
/* Reads a core:externtype (import descriptor) of a module type. */
bool decode_core_externtype(dctx_t *cx, reader_t *r, scope_t *s, whirl_externkind_t *kind,
                            const ctype_t **t);

#endif
