/* Value types of typed function references (WebAssembly 3.0 without GC).
 *
 * A value type is 32 bits: the low byte is its binary encoding for the
 * numeric types and the abstract heap types (so `funcref` = (ref null func)
 * is 0x70 as before, and `t == WASM_I32` comparisons stay one compare);
 * WASM_NONNULL marks `(ref ht)`; a concrete heap type `$t` has the code
 * WASM_HT_CONCRETE and its type index in the bits from WASM_TYPEIDX_SHIFT.
 *
 * Type indices in a module's types, locals, globals, tables and element
 * segments are canonical (the decoder replaces `$t` by the index of the
 * first structurally equal type), so within one module two value types are
 * equal exactly when their words are. Across modules, compare through
 * wasm_functype_match (reftypes.c). */
#ifndef WHIRL_WASM_REFTYPES_H
#define WHIRL_WASM_REFTYPES_H

#include <stdbool.h>
#include <stdint.h>

typedef uint32_t wasm_valtype_t;

enum {
    WASM_I32 = 0x7F,
    WASM_I64 = 0x7E,
    WASM_F32 = 0x7D,
    WASM_F64 = 0x7C,
    WASM_V128 = 0x7B,
    WASM_FUNCREF = 0x70,   /* (ref null func) */
    WASM_EXTERNREF = 0x6F, /* (ref null extern) */
    WASM_EXNREF = 0x69,    /* (ref null exn), exception handling */
    WASM_NOFUNC = 0x73,    /* bottom of func: (ref null nofunc) = nullfuncref */
    WASM_NOEXTERN = 0x72,  /* bottom of extern */
    WASM_NOEXN = 0x74,     /* bottom of exn */
    WASM_HT_CONCRETE = 0x01, /* a defined function type, index in the upper bits */
    WASM_NONNULL = 0x100,
    WASM_REF_NULL_PREFIX = 0x63, /* binary: (ref null ht) */
    WASM_REF_PREFIX = 0x64,      /* binary: (ref ht) */
};
#define WASM_TYPEIDX_SHIFT 9
#define WASM_TYPEIDX_MAX ((1u << (32 - WASM_TYPEIDX_SHIFT)) - 1)

static inline uint32_t wasm_valtype_code(wasm_valtype_t t) { return t & 0xFF; }

static inline bool wasm_heaptype_is_abstract(uint32_t code)
{
    return code == WASM_FUNCREF || code == WASM_EXTERNREF || code == WASM_EXNREF ||
           code == WASM_NOFUNC || code == WASM_NOEXTERN || code == WASM_NOEXN;
}

static inline bool wasm_is_reftype(wasm_valtype_t t)
{
    uint32_t code = wasm_valtype_code(t);
    return code == WASM_HT_CONCRETE || wasm_heaptype_is_abstract(code);
}

static inline bool wasm_ref_nullable(wasm_valtype_t t) { return !(t & WASM_NONNULL); }

static inline bool wasm_ref_is_concrete(wasm_valtype_t t)
{
    return wasm_valtype_code(t) == WASM_HT_CONCRETE;
}

static inline uint32_t wasm_ref_typeidx(wasm_valtype_t t) { return t >> WASM_TYPEIDX_SHIFT; }

static inline wasm_valtype_t wasm_ref_concrete(uint32_t typeidx, bool nullable)
{
    return (typeidx << WASM_TYPEIDX_SHIFT) | WASM_HT_CONCRETE | (nullable ? 0 : WASM_NONNULL);
}

/* The abstract nullable type a reference's representation follows: funcref
 * for every function reference (typed or bottom), externref, exnref. Hosts
 * see this kind; for other types it is the type itself. */
static inline wasm_valtype_t wasm_ref_top(wasm_valtype_t t)
{
    switch (wasm_valtype_code(t)) {
    case WASM_FUNCREF:
    case WASM_NOFUNC:
    case WASM_HT_CONCRETE: return WASM_FUNCREF;
    case WASM_EXTERNREF:
    case WASM_NOEXTERN: return WASM_EXTERNREF;
    case WASM_EXNREF:
    case WASM_NOEXN: return WASM_EXNREF;
    }
    return t;
}

/* Within one module (canonical indices): whether `a` is a subtype of `b`.
 * (ref $t) <: (ref null $t) <: funcref, nofunc <: every function type. */
static inline bool wasm_valtype_sub(wasm_valtype_t a, wasm_valtype_t b)
{
    if (a == b)
        return true;
    if (!wasm_is_reftype(a) || !wasm_is_reftype(b))
        return false;
    if (wasm_ref_nullable(a) && !wasm_ref_nullable(b))
        return false;
    uint32_t ha = wasm_valtype_code(a), hb = wasm_valtype_code(b);
    if (ha == WASM_HT_CONCRETE && hb == WASM_HT_CONCRETE)
        return wasm_ref_typeidx(a) == wasm_ref_typeidx(b);
    if (wasm_ref_top(a) != wasm_ref_top(b))
        return false;
    if (hb == wasm_valtype_code(wasm_ref_top(b))) /* b's heap type is the top */
        return true;
    return ha == WASM_NOFUNC || ha == WASM_NOEXTERN || ha == WASM_NOEXN; /* a is the bottom */
}

struct wasm_functype;
struct reader;

/* Reads a heap type (s33: an abstract type's byte or a type index) into a
 * reference type of that heap type; 0 if it is not a 3.0-minus-GC one
 * (*proposal then names what it is, when it is a GC one). */
wasm_valtype_t wasm_read_heaptype(struct reader *r, bool nullable, const char **proposal);
/* Skips a value type in code bytes: one byte, or 0x63/0x64 and a heap type. */
void wasm_skip_valtype(struct reader *r);
/* A block type's s33 is -0x1d/-0x1c for (ref null ht)/(ref ht): reads the
 * heap type after it. Returns the single result type, 0 for an index/empty. */
wasm_valtype_t wasm_blocktype_ref(struct reader *r, int64_t bt);

/* Whether function types of (possibly) different modules are equal
 * (structurally, following concrete references). */
bool wasm_functype_match(const struct wasm_functype *a, const struct wasm_functype *b);
/* Whether value type `a` of a's module matches `b` of b's module
 * (subtyping; `types_a`/`types_b` resolve concrete indices, may be NULL
 * when the type has none). */
bool wasm_valtype_match(wasm_valtype_t a, const struct wasm_functype *types_a, wasm_valtype_t b,
                        const struct wasm_functype *types_b);

#endif
