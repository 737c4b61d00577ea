/* The compiler's exception-handling state (compile_exn.inc has the code). */
#ifndef WHIRL_COMPILE_EXN_H
#define WHIRL_COMPILE_EXN_H

#include "compile/code.h"
#include "util/vec.h"

/* A legacy try's exn slot while compiling: numbered from 0 past the
 * temporaries, made absolute when the frame's size is known. */
#define EXN_SLOT_RELATIVE 0x80000000u

enum { SCOPE_TRY_TABLE, SCOPE_TRY, SCOPE_CATCH };

typedef struct exn_clause {
    uint8_t kind;   /* WASM_CATCH.. */
    uint32_t tag;   /* WASM_CATCH, WASM_CATCH_REF */
    uint32_t label;
} exn_clause_t;

typedef struct exn_scope {
    uint8_t kind;
    uint32_t frame;     /* index of its frame in c->frames */
    uint32_t start;     /* first code position the try covers */
    uint32_t end;       /* SCOPE_CATCH: end of the try body */
    uint32_t exn_slot;  /* SCOPE_TRY/CATCH: relative exn slot */
    uint32_t clauses;   /* SCOPE_TRY_TABLE: first entry in exn.clauses */
    uint32_t nclauses;
} exn_scope_t;

/* Per-function state, reset by exn_reset. */
typedef struct exn_state {
    VEC(exn_scope_t) scopes;
    VEC(exn_clause_t) clauses;
    VEC(code_handler_t) handlers;
    VEC(uint32_t) slot_patches; /* code words holding a relative exn slot */
    uint32_t nexn_slots;
} exn_state_t;

#endif
