/* The binary decoder: turns a WebAssembly 2.0 binary into a wasm_module_t,
 * checking well-formedness only. Function bodies are located and their local
 * declarations read, but their instructions are left to the validator.
 *
 * Every section is read through a reader bounded by the section's declared
 * size, so a read past the section end fails ("unexpected end of section or
 * function") and leftover bytes are caught as "section size mismatch". Every
 * count is checked against the bytes left before it is used to allocate or
 * loop, so a hostile count costs nothing. */
#include "module.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "opcodes.h"
#include "proposals.h"
#include "reader.h"
#include "util/error.h"
#include "util/vec.h"
#include "util/utf8.h"

/* Implementation limit on declared locals per function (params excluded). */
enum { WASM_MAX_LOCALS = 50000 };

enum {
    SEC_CUSTOM = 0,
    SEC_TYPE = 1,
    SEC_IMPORT = 2,
    SEC_FUNCTION = 3,
    SEC_TABLE = 4,
    SEC_MEMORY = 5,
    SEC_GLOBAL = 6,
    SEC_EXPORT = 7,
    SEC_START = 8,
    SEC_ELEMENT = 9,
    SEC_CODE = 10,
    SEC_DATA = 11,
    SEC_DATACOUNT = 12,
    SEC_TAG = 13, /* exception handling */
    SEC_COUNT
};

static const char *const section_names[SEC_COUNT] = {
    "custom", "type",    "import", "function", "table", "memory",    "global",
    "export", "start",   "element", "code",    "data",  "datacount", "tag",
};

/* Position of each section id in the required order; datacount sits between
 * element and code, tag between memory and global. */
static const uint8_t section_rank[SEC_COUNT] = {
    0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 22, 24, 20, 11,
};

typedef VEC(wasm_custom_t) custom_vec_t;

typedef struct decoder {
    wasm_module_t *m;
    int section;        /* id of the section being read, -1 outside */
    int64_t func;       /* function index of the body being read, -1 outside */
    bool oom;
    bool seen_code, seen_data;
    bool name_section_seen;
    const uint8_t *name_data; /* first "name" custom section, parsed last */
    size_t name_len;
    custom_vec_t customs;
} decoder_t;

/* Records an allocation failure; the reader error stops further decoding and
 * the oom flag makes wasm_decode report it as such, not as malformed input. */
static void *fail_oom(decoder_t *d, reader_t *r)
{
    d->oom = true;
    reader_fail(r, "out of memory");
    return NULL;
}

static void *dalloc_array(decoder_t *d, reader_t *r, size_t count, size_t size)
{
    void *p = arena_array(&d->m->arena, count ? count : 1, size);
    if (!p)
        return fail_oom(d, r);
    return p;
}

/* Fails at a given offset rather than the reader's current position. */
static void fail_at(reader_t *r, const char *message, size_t offset)
{
    if (!r->error) {
        r->error = message;
        r->error_offset = offset;
    }
}

/* Checks a length or count read at `at` before anything is allocated or
 * looped over for it. Past the end of the module it is "length out of
 * bounds"; past the end of the section (or body) only, "unexpected end",
 * which the section loop reports as "unexpected end of section or function".
 * This is how the spec's reference decoder tells the two apart. */
static bool length_fits(decoder_t *d, reader_t *r, uint64_t n, size_t at)
{
    if (!reader_ok(r))
        return false;
    /* The reference decoder measures from the start of the length field. */
    if (n > d->m->len - at) {
        fail_at(r, "length out of bounds", at);
        return false;
    }
    if (n > reader_remaining(r)) {
        reader_fail(r, "unexpected end");
        return false;
    }
    return true;
}

/* Reads a vector length. Every element takes at least one byte, so bounding
 * the count by the bytes left keeps allocations within a small multiple of
 * the section's size. */
static uint32_t read_count(decoder_t *d, reader_t *r)
{
    size_t at = reader_offset(r);
    uint32_t n = read_u32(r);
    return length_fits(d, r, n, at) ? n : 0;
}

/* ------------------------------------------------------------------ */
/* Names, types                                                        */
/* ------------------------------------------------------------------ */

/* Reads a name: its bytes stay in the module's copy of the binary; the
 * returned string is a NUL-terminated arena copy. */
static const char *read_name(decoder_t *d, reader_t *r, uint32_t *len_out)
{
    size_t len_at = reader_offset(r);
    uint32_t len = read_u32(r);
    size_t at = reader_offset(r);
    if (!length_fits(d, r, len, len_at))
        return NULL;
    const uint8_t *s = read_bytes(r, len);
    if (!utf8_valid(s, len)) {
        fail_at(r, "malformed UTF-8 encoding", at);
        return NULL;
    }
    char *copy = arena_strndup(&d->m->arena, (const char *)s, len);
    if (!copy)
        return fail_oom(d, r);
    *len_out = len;
    return copy;
}

/* Set per decode: whether exnref is a value type (exception handling).
 * The byte readers take only a reader, so the switch travels beside them. */
static _Thread_local bool decode_exnref;

/* Set per decode: whether typed references ((ref null? ht), 0x63/0x64)
 * are value types, and the module whose canonical type indices replace the
 * ones read (NULL while the type section itself is read). */
static _Thread_local bool decode_typed_refs;
static _Thread_local const wasm_module_t *decode_canon;

static bool is_valtype(uint8_t b)
{
    if (b == WASM_EXNREF || b == WASM_NOEXN)
        return decode_exnref && (b == WASM_EXNREF || decode_typed_refs);
    switch (b) {
    case WASM_I32:
    case WASM_I64:
    case WASM_F32:
    case WASM_F64:
    case WASM_V128:
    case WASM_FUNCREF:
    case WASM_EXTERNREF:
        return true;
    case WASM_NOFUNC:
    case WASM_NOEXTERN:
        return decode_typed_refs;
    }
    return false;
}

/* A concrete type index, as the canonical index of its type where the
 * type is known (an unknown index stays, for the validator to refuse). */
static wasm_valtype_t canon_ref(wasm_valtype_t t)
{
    if (wasm_ref_is_concrete(t) && decode_canon && wasm_ref_typeidx(t) < decode_canon->ntypes)
        return wasm_ref_concrete(decode_canon->types[wasm_ref_typeidx(t)].canonical,
                                 wasm_ref_nullable(t));
    return t;
}

/* (ref null? ht) after its prefix byte. */
static wasm_valtype_t read_ref_after_prefix(reader_t *r, uint8_t prefix, size_t at)
{
    const char *proposal;
    wasm_valtype_t t = wasm_read_heaptype(r, prefix == WASM_REF_NULL_PREFIX, &proposal);
    if (reader_ok(r) && !t)
        fail_at(r, proposal ? proposal : "malformed reference type", at);
    else if (reader_ok(r) && wasm_valtype_code(t) != WASM_HT_CONCRETE &&
             !is_valtype((uint8_t)wasm_valtype_code(t)))
        fail_at(r, wasm_proposal_valtype((uint8_t)wasm_valtype_code(t)), at);
    return canon_ref(t);
}

static wasm_valtype_t read_valtype(reader_t *r)
{
    size_t at = reader_offset(r);
    uint8_t b = read_u8(r);
    if (reader_ok(r) && decode_typed_refs &&
        (b == WASM_REF_NULL_PREFIX || b == WASM_REF_PREFIX))
        return read_ref_after_prefix(r, b, at);
    if (reader_ok(r) && !is_valtype(b)) {
        const char *proposal = wasm_proposal_valtype(b);
        fail_at(r, proposal ? proposal : "malformed value type", at);
    }
    return b;
}

static wasm_valtype_t read_reftype(reader_t *r)
{
    size_t at = reader_offset(r);
    uint8_t b = read_u8(r);
    if (reader_ok(r) && decode_typed_refs &&
        (b == WASM_REF_NULL_PREFIX || b == WASM_REF_PREFIX))
        return read_ref_after_prefix(r, b, at);
    if (reader_ok(r) && (!wasm_is_reftype(b) || !is_valtype(b))) {
        const char *proposal = wasm_proposal_valtype(b);
        fail_at(r, proposal ? proposal : "malformed reference type", at);
    }
    return b;
}

/* Whether complete limits under a later proposal's flag byte (0x02-0x0f)
 * follow in the section: a minimum (u64 with bit 2, memory64), a maximum
 * with bit 0, a page size exponent with bit 3. Only then does the message
 * name the proposal; flags 0x02 always keep "integer too large" first. */
static bool limits_follow(const reader_t *r)
{
    reader_t scan = *r;
    uint8_t flags = read_u8(&scan);
    if (flags == 2)
        return true;
    for (int i = 0; i < ((flags & 1) ? 2 : 1); i++)
        (flags & 4) ? (void)read_uleb(&scan, 64) : (void)read_u32(&scan);
    if (flags & 8)
        read_u32(&scan);
    return reader_ok(&scan);
}

static void read_limits(reader_t *r, wasm_limits_t *limits, bool table, uint32_t features)
{
    /* The flag is a one-bit LEB128: 0x02 is "integer too large" and 0x81 0x00
     * "integer representation too long", as the spec tests expect, unless
     * it is a later proposal's flag byte (shared, 64-bit, page size). */
    size_t at = reader_offset(r);
    const char *proposal = reader_remaining(r) ? wasm_proposal_limits(*r->p, table) : NULL;
    uint8_t flag0 = reader_remaining(r) ? *r->p : 0;
    bool shared_ok = !table && (features & WASM_FEATURE_THREADS) && flag0 >= 2 && flag0 <= 7 &&
                     (flag0 & 2) && (!(flag0 & 4) || (features & WASM_FEATURE_MEMORY64));
    if (shared_ok || ((features & WASM_FEATURE_MEMORY64) && (flag0 == 4 || flag0 == 5) &&
                      reader_remaining(r))) {
        /* memory64: u64 limits in pages (the validator bounds them), or in
         * elements for a 64-bit table; threads: bit 1 makes the memory
         * shared, which needs a maximum. */
        uint8_t flag = read_u8(r);
        if ((flag & 3) == 2) {
            /* A shared memory without a maximum is invalid; 2.0 read the
             * same byte as an overlong flag, and its message stays first. */
            fail_at(r, "integer too large (shared memory must have maximum)", at);
            return;
        }
        limits->is64 = flag & 4;
        limits->shared = flag & 2;
        limits->min = limits->is64 ? read_uleb(r, 64) : read_u32(r);
        limits->has_max = flag & 1;
        if (limits->has_max)
            limits->max = limits->is64 ? read_uleb(r, 64) : read_u32(r);
        return;
    }
    if (proposal && limits_follow(r)) {
        fail_at(r, proposal, at);
        return;
    }
    uint64_t flag = read_uleb(r, 1);
    limits->min = read_u32(r);
    limits->has_max = flag == 1;
    if (limits->has_max)
        limits->max = read_u32(r);
}

static void read_globaltype(reader_t *r, wasm_globaltype_t *g)
{
    g->type = read_valtype(r);
    size_t at = reader_offset(r);
    uint8_t mut = read_u8(r);
    if (reader_ok(r) && mut > 1)
        fail_at(r, "malformed mutability", at);
    g->is_mutable = mut == 1;
}

/* ------------------------------------------------------------------ */
/* Constant expressions                                                */
/* ------------------------------------------------------------------ */

static void read_const_instr(reader_t *r, wasm_op_t op, wasm_const_instr_t *out)
{
    out->op = (uint16_t)op;
    switch (op) {
    case WASM_OP_I32_CONST:
        out->imm.i32 = read_s32(r);
        break;
    case WASM_OP_I64_CONST:
        out->imm.i64 = read_s64(r);
        break;
    case WASM_OP_F32_CONST:
        out->imm.f32_bits = read_fixed32(r);
        break;
    case WASM_OP_F64_CONST:
        out->imm.f64_bits = read_fixed64(r);
        break;
    case WASM_OP_REF_NULL:
        if (decode_typed_refs) {
            size_t at = reader_offset(r);
            const char *proposal;
            out->imm.reftype = canon_ref(wasm_read_heaptype(r, true, &proposal));
            if (reader_ok(r) && !out->imm.reftype)
                fail_at(r, proposal ? proposal : "malformed reference type", at);
        } else {
            out->imm.reftype = read_reftype(r);
        }
        break;
    case WASM_OP_REF_FUNC:
    case WASM_OP_GLOBAL_GET:
        out->imm.index = read_u32(r);
        break;
    case WASM_OP_V128_CONST: {
        const uint8_t *bytes = read_bytes(r, 16);
        if (bytes)
            memcpy(out->imm.v128, bytes, 16);
        break;
    }
    default:
        /* Not constant: kept so the validator can say so. */
        wasm_skip_immediates(r, op);
        break;
    }
}

/* Reads instructions up to and including `end`. A first pass over a copy of
 * the reader counts them (each takes at least one byte, so the count is
 * bounded by the section), the second stores them. */
static void read_const_expr(decoder_t *d, reader_t *r, wasm_const_expr_t *out)
{
    out->offset = reader_offset(r);
    out->count = 0;
    out->instrs = NULL;
    reader_t scan = *r;
    uint32_t count = 0;
    for (;;) {
        int op = wasm_read_op(&scan);
        if (op < 0)
            break;
        if (op == WASM_OP_END)
            break;
        wasm_const_instr_t ignored;
        read_const_instr(&scan, (wasm_op_t)op, &ignored);
        count++;
    }
    if (!reader_ok(&scan)) {
        *r = scan;
        return;
    }
    out->instrs = dalloc_array(d, r, count, sizeof *out->instrs);
    if (!out->instrs)
        return;
    for (uint32_t i = 0; i < count; i++)
        read_const_instr(r, (wasm_op_t)wasm_read_op(r), &out->instrs[i]);
    read_u8(r); /* the `end` */
    out->count = count;
}

/* ------------------------------------------------------------------ */
/* Sections                                                            */
/* ------------------------------------------------------------------ */

/* Hashes what does not depend on type indices (kinds, nullability), so
 * that a type and its equals hash alike whatever their references. */
static uint32_t hash_functype(const wasm_functype_t *t)
{
    uint64_t h = (uint64_t)t->nparams * 0x9E3779B97F4A7C15u ^ t->nresults;
    for (uint32_t i = 0; i < t->nparams; i++)
        h = (h ^ (t->params[i] & 0x1FF)) * 0x100000001B3u;
    for (uint32_t i = 0; i < t->nresults; i++)
        h = (h ^ (t->results[i] & 0x1FF) ^ 0x400) * 0x100000001B3u;
    return (uint32_t)(h ^ (h >> 32));
}

/* Whether value type x of type `ti` equals y of the canonical type `k`:
 * a reference to the type itself matches only one on the other side. */
static bool canon_valtype_equal(wasm_valtype_t x, uint32_t ti, wasm_valtype_t y, uint32_t k)
{
    if (!wasm_ref_is_concrete(x) || !wasm_ref_is_concrete(y))
        return x == y;
    if ((x & WASM_NONNULL) != (y & WASM_NONNULL))
        return false;
    bool self_x = wasm_ref_typeidx(x) == ti, self_y = wasm_ref_typeidx(y) == k;
    return self_x == self_y && (self_x || x == y);
}

static bool functype_equal(const wasm_functype_t *a, uint32_t ai, const wasm_functype_t *b,
                           uint32_t bi)
{
    if (a->nparams != b->nparams || a->nresults != b->nresults)
        return false;
    for (uint32_t i = 0; i < a->nparams; i++)
        if (!canon_valtype_equal(a->params[i], ai, b->params[i], bi))
            return false;
    for (uint32_t i = 0; i < a->nresults; i++)
        if (!canon_valtype_equal(a->results[i], ai, b->results[i], bi))
            return false;
    return true;
}

/* References to earlier types become their canonical indices; references
 * to the type itself stay for now (later ones are the validator's). */
static void canon_refs(wasm_module_t *m, wasm_valtype_t *v, uint32_t n, uint32_t self,
                       uint32_t self_canonical, bool *has_concrete)
{
    for (uint32_t i = 0; i < n; i++) {
        if (!wasm_ref_is_concrete(v[i]))
            continue;
        *has_concrete = true;
        uint32_t j = wasm_ref_typeidx(v[i]);
        if (j < self)
            v[i] = wasm_ref_concrete(m->types[j].canonical, wasm_ref_nullable(v[i]));
        else if (j == self)
            v[i] = wasm_ref_concrete(self_canonical, wasm_ref_nullable(v[i]));
    }
}

/* Gives each type the index of its first structural equal, through an
 * open-addressed hash table so that many types stay linear. */
static void canonicalize_types(decoder_t *d, reader_t *r)
{
    wasm_module_t *m = d->m;
    size_t cap = 16;
    while (cap < (size_t)m->ntypes * 2)
        cap *= 2;
    uint32_t *slots = malloc(cap * sizeof *slots);
    if (!slots) {
        fail_oom(d, r);
        return;
    }
    memset(slots, 0xFF, cap * sizeof *slots); /* UINT32_MAX = empty */
    for (uint32_t i = 0; i < m->ntypes; i++) {
        wasm_functype_t *t = &m->types[i];
        t->module_types = m->types;
        t->index = i;
        bool has = false;
        canon_refs(m, (wasm_valtype_t *)t->params, t->nparams, i, i, &has);
        canon_refs(m, (wasm_valtype_t *)t->results, t->nresults, i, i, &has);
        t->has_concrete = has;
        size_t s = hash_functype(t) & (cap - 1);
        for (;;) {
            if (slots[s] == UINT32_MAX) {
                slots[s] = i;
                t->canonical = i;
                break;
            }
            if (functype_equal(t, i, &m->types[slots[s]], slots[s])) {
                t->canonical = slots[s];
                break;
            }
            s = (s + 1) & (cap - 1);
        }
        if (t->canonical != i) {
            canon_refs(m, (wasm_valtype_t *)t->params, t->nparams, i + 1, t->canonical, &has);
            canon_refs(m, (wasm_valtype_t *)t->results, t->nresults, i + 1, t->canonical, &has);
        }
    }
    free(slots);
}

/* Parameter and result lists are arrays of 32-bit value types in the
 * module's arena. */
static const wasm_valtype_t *read_valtype_vec(decoder_t *d, reader_t *r, uint32_t *n_out)
{
    uint32_t n = read_count(d, r);
    wasm_valtype_t *v = dalloc_array(d, r, n, sizeof *v);
    for (uint32_t i = 0; i < n && reader_ok(r); i++)
        v[i] = read_valtype(r);
    *n_out = reader_ok(r) ? n : 0;
    return v;
}

static void decode_type_section(decoder_t *d, reader_t *r)
{
    wasm_module_t *m = d->m;
    uint32_t n = read_count(d, r);
    m->types = dalloc_array(d, r, n, sizeof *m->types);
    if (!reader_ok(r))
        return;
    for (uint32_t i = 0; i < n && reader_ok(r); i++) {
        wasm_functype_t *t = &m->types[i];
        size_t at = reader_offset(r);
        /* The form is an s7 in the spec's grammar, so an overlong 0x60 is
         * "integer representation too long" rather than a wrong form. */
        int64_t form = read_sleb(r, 7);
        if (reader_ok(r) && form != -0x20) {
            const char *proposal = reader_offset(r) == at + 1
                                       ? wasm_proposal_typeform((uint8_t)(form & 0x7F))
                                       : NULL;
            fail_at(r, proposal ? proposal : "malformed functype (expected 0x60)", at);
            break;
        }
        t->params = read_valtype_vec(d, r, &t->nparams);
        t->results = read_valtype_vec(d, r, &t->nresults);
        m->ntypes = i + 1;
    }
    if (reader_ok(r))
        canonicalize_types(d, r);
    decode_canon = m;
}

/* Whether a tag type (exception handling: attribute 0, a type index)
 * follows, complete, within the section: only then is import kind 4 a tag
 * rather than the malformed import kind the 2.0 spec tests expect. */
static bool tag_type_follows(const reader_t *r)
{
    reader_t scan = *r;
    uint8_t attribute = read_u8(&scan);
    read_u32(&scan);
    return reader_ok(&scan) && attribute == 0;
}

/* A tag type: attribute 0 (an exception), then the type index. */
static void read_tag_type(reader_t *r, uint32_t *type)
{
    size_t at = reader_offset(r);
    uint8_t attribute = read_u8(r);
    if (reader_ok(r) && attribute != 0)
        fail_at(r, "malformed tag attribute", at);
    *type = read_u32(r);
}

static void decode_tag_section(decoder_t *d, reader_t *r)
{
    wasm_module_t *m = d->m;
    uint32_t n = read_count(d, r);
    m->tags = dalloc_array(d, r, n, sizeof *m->tags);
    for (uint32_t i = 0; i < n && reader_ok(r); i++)
        read_tag_type(r, &m->tags[i]);
    if (reader_ok(r))
        m->ntags = n;
}

/* Whether section 13 holds a well-formed tag section (exception handling):
 * a count of tag types filling the section exactly. Otherwise it is the
 * "malformed section id" the 2.0 spec tests expect (an empty section 13). */
static bool is_tag_section(const reader_t *r, uint32_t size)
{
    reader_t s = *r;
    s.end = s.p + size;
    uint32_t n = read_u32(&s);
    for (uint32_t i = 0; i < n && reader_ok(&s); i++) {
        if (!tag_type_follows(&s))
            return false;
        read_u8(&s);
        read_u32(&s);
    }
    return reader_ok(&s) && reader_at_end(&s);
}

static void decode_import_section(decoder_t *d, reader_t *r)
{
    wasm_module_t *m = d->m;
    uint32_t n = read_count(d, r);
    m->imports = dalloc_array(d, r, n, sizeof *m->imports);
    if (!reader_ok(r))
        return;
    uint32_t kinds[5] = {0};
    for (uint32_t i = 0; i < n && reader_ok(r); i++) {
        wasm_import_t *imp = &m->imports[i];
        imp->module = read_name(d, r, &imp->module_len);
        imp->name = read_name(d, r, &imp->name_len);
        size_t at = reader_offset(r);
        uint8_t kind = read_u8(r);
        if (!reader_ok(r))
            break;
        imp->kind = (wasm_externkind_t)kind;
        switch (kind) {
        case WASM_EXTERN_FUNC:
            imp->desc.func_type = read_u32(r);
            break;
        case WASM_EXTERN_TABLE:
            imp->desc.table.elem = read_reftype(r);
            read_limits(r, &imp->desc.table.limits, true, d->m->features);
            break;
        case WASM_EXTERN_MEMORY:
            read_limits(r, &imp->desc.memory.limits, false, d->m->features);
            break;
        case WASM_EXTERN_GLOBAL:
            read_globaltype(r, &imp->desc.global);
            break;
        case WASM_EXTERN_TAG:
            if (d->m->features & WASM_FEATURE_EXCEPTIONS) {
                read_tag_type(r, &imp->desc.tag_type);
                break;
            }
            /* fall through */
        default:
            fail_at(r, kind == 4 && tag_type_follows(r) ? WASM_PROPOSAL_TAG_IMPORT
                                                        : "malformed import kind",
                    at);
            break;
        }
        if (reader_ok(r))
            kinds[kind]++;
    }
    if (!reader_ok(r))
        return;
    m->nimports = n;
    m->func_import_ids = dalloc_array(d, r, kinds[0], sizeof(uint32_t));
    m->table_import_ids = dalloc_array(d, r, kinds[1], sizeof(uint32_t));
    m->memory_import_ids = dalloc_array(d, r, kinds[2], sizeof(uint32_t));
    m->global_import_ids = dalloc_array(d, r, kinds[3], sizeof(uint32_t));
    m->tag_import_ids = dalloc_array(d, r, kinds[4], sizeof(uint32_t));
    if (!reader_ok(r))
        return;
    for (uint32_t i = 0; i < n; i++) {
        switch (m->imports[i].kind) {
        case WASM_EXTERN_FUNC: m->func_import_ids[m->nfunc_imports++] = i; break;
        case WASM_EXTERN_TABLE: m->table_import_ids[m->ntable_imports++] = i; break;
        case WASM_EXTERN_MEMORY: m->memory_import_ids[m->nmemory_imports++] = i; break;
        case WASM_EXTERN_GLOBAL: m->global_import_ids[m->nglobal_imports++] = i; break;
        case WASM_EXTERN_TAG: m->tag_import_ids[m->ntag_imports++] = i; break;
        }
    }
}

static void decode_function_section(decoder_t *d, reader_t *r)
{
    wasm_module_t *m = d->m;
    uint32_t n = read_count(d, r);
    m->funcs = dalloc_array(d, r, n, sizeof *m->funcs);
    if (!reader_ok(r))
        return;
    for (uint32_t i = 0; i < n && reader_ok(r); i++)
        m->funcs[i].type = read_u32(r);
    if (reader_ok(r))
        m->nfuncs = n;
}

static void decode_table_section(decoder_t *d, reader_t *r)
{
    wasm_module_t *m = d->m;
    uint32_t n = read_count(d, r);
    m->tables = dalloc_array(d, r, n, sizeof *m->tables);
    if (!reader_ok(r))
        return;
    for (uint32_t i = 0; i < n && reader_ok(r); i++) {
        wasm_tabletype_t *t = &m->tables[i];
        /* Typed function references: 0x40 0x00, the table type, then an
         * initialiser expression for every entry. */
        if (decode_typed_refs && reader_remaining(r) >= 2 && r->p[0] == 0x40) {
            size_t at = reader_offset(r);
            read_u8(r);
            if (read_u8(r) != 0x00)
                fail_at(r, "malformed table type", at);
            t->has_init = true;
        }
        t->elem = read_reftype(r);
        read_limits(r, &t->limits, true, d->m->features);
        if (t->has_init && reader_ok(r)) {
            t->init = dalloc_array(d, r, 1, sizeof *t->init);
            if (reader_ok(r))
                read_const_expr(d, r, t->init);
        }
    }
    if (reader_ok(r))
        m->ntables = n;
}

static void decode_memory_section(decoder_t *d, reader_t *r)
{
    wasm_module_t *m = d->m;
    uint32_t n = read_count(d, r);
    m->memories = dalloc_array(d, r, n, sizeof *m->memories);
    if (!reader_ok(r))
        return;
    for (uint32_t i = 0; i < n && reader_ok(r); i++)
        read_limits(r, &m->memories[i].limits, false, d->m->features);
    if (reader_ok(r))
        m->nmemories = n;
}

static void decode_global_section(decoder_t *d, reader_t *r)
{
    wasm_module_t *m = d->m;
    uint32_t n = read_count(d, r);
    m->globals = dalloc_array(d, r, n, sizeof *m->globals);
    m->global_inits = dalloc_array(d, r, n, sizeof *m->global_inits);
    if (!reader_ok(r))
        return;
    for (uint32_t i = 0; i < n && reader_ok(r); i++) {
        read_globaltype(r, &m->globals[i]);
        read_const_expr(d, r, &m->global_inits[i]);
    }
    if (reader_ok(r))
        m->nglobals = n;
}

static void decode_export_section(decoder_t *d, reader_t *r)
{
    wasm_module_t *m = d->m;
    uint32_t n = read_count(d, r);
    m->exports = dalloc_array(d, r, n, sizeof *m->exports);
    if (!reader_ok(r))
        return;
    for (uint32_t i = 0; i < n && reader_ok(r); i++) {
        wasm_export_t *e = &m->exports[i];
        e->name = read_name(d, r, &e->name_len);
        size_t at = reader_offset(r);
        uint8_t kind = read_u8(r);
        bool tag_ok = kind == WASM_EXTERN_TAG && (m->features & WASM_FEATURE_EXCEPTIONS);
        if (reader_ok(r) && kind > WASM_EXTERN_GLOBAL && !tag_ok) {
            reader_t scan = *r;
            read_u32(&scan);
            fail_at(r, kind == 4 && reader_ok(&scan) ? WASM_PROPOSAL_TAG_EXPORT
                                                     : "malformed export kind",
                    at);
        }
        e->kind = (wasm_externkind_t)kind;
        e->index = read_u32(r);
    }
    if (reader_ok(r))
        m->nexports = n;
}

static void decode_start_section(decoder_t *d, reader_t *r)
{
    d->m->start = read_u32(r);
    d->m->has_start = reader_ok(r);
}

/* Element segments: bit 0 of the flags is passive/declarative, bit 1 an
 * explicit table index (active) or declarative (otherwise), bit 2 elements
 * written as expressions rather than function indices. */
static void read_elem(decoder_t *d, reader_t *r, wasm_elem_t *e)
{
    e->section_offset = reader_offset(r);
    uint32_t flags = read_u32(r);
    if (!reader_ok(r))
        return;
    if (flags > 7) {
        fail_at(r, "malformed elements segment kind", e->section_offset);
        return;
    }
    if (!(flags & 1))
        e->mode = WASM_SEGMENT_ACTIVE;
    else
        e->mode = (flags & 2) ? WASM_SEGMENT_DECLARATIVE : WASM_SEGMENT_PASSIVE;
    e->type = WASM_FUNCREF;
    if (e->mode == WASM_SEGMENT_ACTIVE) {
        e->table = (flags & 2) ? read_u32(r) : 0;
        read_const_expr(d, r, &e->offset);
    }
    bool exprs = flags & 4;
    if (flags & 3) {
        if (exprs) {
            e->type = read_reftype(r);
        } else {
            size_t at = reader_offset(r);
            uint8_t kind = read_u8(r);
            if (reader_ok(r) && kind != 0x00)
                fail_at(r, "malformed element kind", at);
        }
    }
    /* Function indices cannot be null: 3.0 types such a segment (ref func),
     * which a table of (ref func) accepts. */
    if (!exprs && decode_typed_refs)
        e->type = WASM_FUNCREF | WASM_NONNULL;
    uint32_t n = read_count(d, r);
    e->items = dalloc_array(d, r, n, sizeof *e->items);
    if (!reader_ok(r))
        return;
    if (exprs) {
        for (uint32_t i = 0; i < n && reader_ok(r); i++)
            read_const_expr(d, r, &e->items[i]);
    } else {
        wasm_const_instr_t *instrs = dalloc_array(d, r, n, sizeof *instrs);
        for (uint32_t i = 0; i < n && reader_ok(r); i++) {
            e->items[i].offset = reader_offset(r);
            e->items[i].count = 1;
            e->items[i].instrs = &instrs[i];
            instrs[i].op = WASM_OP_REF_FUNC;
            instrs[i].imm.index = read_u32(r);
        }
    }
    if (reader_ok(r))
        e->count = n;
}

static void decode_element_section(decoder_t *d, reader_t *r)
{
    wasm_module_t *m = d->m;
    uint32_t n = read_count(d, r);
    m->elems = dalloc_array(d, r, n, sizeof *m->elems);
    if (!reader_ok(r))
        return;
    for (uint32_t i = 0; i < n && reader_ok(r); i++)
        read_elem(d, r, &m->elems[i]);
    if (reader_ok(r))
        m->nelems = n;
}

static void decode_datacount_section(decoder_t *d, reader_t *r)
{
    d->m->data_count = read_u32(r);
    d->m->has_data_count = reader_ok(r);
}

static void read_body(decoder_t *d, reader_t *r, wasm_func_t *f)
{
    f->body_offset = reader_offset(r);
    uint32_t size = read_u32(r);
    if (!length_fits(d, r, size, f->body_offset))
        return;
    const uint8_t *start = read_bytes(r, size);
    reader_t b;
    reader_init(&b, r->base, start, start + size);
    uint32_t nruns = read_count(d, &b);
    f->local_runs = dalloc_array(d, &b, nruns, sizeof *f->local_runs);
    uint64_t total = 0;
    for (uint32_t i = 0; i < nruns && reader_ok(&b); i++) {
        size_t at = reader_offset(&b);
        f->local_runs[i].count = read_u32(&b);
        f->local_runs[i].type = read_valtype(&b);
        total += f->local_runs[i].count;
        if (reader_ok(&b) && total > WASM_MAX_LOCALS)
            fail_at(&b, total > UINT32_MAX ? "too many locals"
                                           : "too many locals (implementation limit is 50000)",
                    at);
    }
    if (reader_ok(&b)) {
        f->nlocal_runs = nruns;
        f->nlocals = (uint32_t)total;
        f->code = b.p;
        f->code_end = b.end;
        f->code_offset = reader_offset(&b);
        f->code_len = (uint32_t)(b.end - b.p);
        if (b.p == b.end || b.end[-1] != 0x0B)
            fail_at(&b, "END opcode expected", reader_offset(&b) + reader_remaining(&b));
    }
    if (!reader_ok(&b)) {
        r->error = b.error;
        r->error_offset = b.error_offset;
    }
}

static void decode_code_section(decoder_t *d, reader_t *r)
{
    wasm_module_t *m = d->m;
    size_t at = reader_offset(r);
    uint32_t n = read_u32(r);
    if (reader_ok(r) && n != m->nfuncs)
        fail_at(r, "function and code section have inconsistent lengths", at);
    for (uint32_t i = 0; i < n && reader_ok(r); i++) {
        d->func = (int64_t)m->nfunc_imports + i;
        read_body(d, r, &m->funcs[i]);
    }
    if (reader_ok(r))
        d->func = -1;
}

static void decode_data_section(decoder_t *d, reader_t *r)
{
    wasm_module_t *m = d->m;
    size_t at = reader_offset(r);
    uint32_t n = read_count(d, r);
    if (reader_ok(r) && m->has_data_count && n != m->data_count)
        fail_at(r, "data count and data section have inconsistent lengths", at);
    m->datas = dalloc_array(d, r, n, sizeof *m->datas);
    if (!reader_ok(r))
        return;
    for (uint32_t i = 0; i < n && reader_ok(r); i++) {
        wasm_data_t *seg = &m->datas[i];
        seg->section_offset = reader_offset(r);
        uint32_t flags = read_u32(r);
        if (!reader_ok(r))
            break;
        switch (flags) {
        case 0:
            seg->mode = WASM_SEGMENT_ACTIVE;
            read_const_expr(d, r, &seg->offset);
            break;
        case 1:
            seg->mode = WASM_SEGMENT_PASSIVE;
            break;
        case 2:
            seg->mode = WASM_SEGMENT_ACTIVE;
            seg->memory = read_u32(r);
            read_const_expr(d, r, &seg->offset);
            break;
        default:
            fail_at(r, "malformed data segment kind", seg->section_offset);
            break;
        }
        size_t len_at = reader_offset(r);
        seg->len = read_u32(r);
        if (length_fits(d, r, seg->len, len_at))
            seg->bytes = read_bytes(r, seg->len);
    }
    if (reader_ok(r))
        m->ndatas = n;
}

static void decode_custom_section(decoder_t *d, reader_t *r)
{
    wasm_custom_t c = {0};
    c.name = read_name(d, r, &c.name_len);
    if (!reader_ok(r))
        return;
    c.data = r->p;
    c.len = (uint32_t)reader_remaining(r);
    r->p = r->end;
    if (!vec_push(&d->customs, c)) {
        fail_oom(d, r);
        return;
    }
    if (!d->name_section_seen && c.name_len == 4 && memcmp(c.name, "name", 4) == 0) {
        d->name_section_seen = true;
        d->name_data = c.data;
        d->name_len = c.len;
    }
}

/* The name section is only a debugging aid: anything wrong in it makes the
 * decoder stop reading it, never fail the module. */
static void parse_name_section(decoder_t *d)
{
    wasm_module_t *m = d->m;
    reader_t r;
    reader_init(&r, m->bytes, d->name_data, d->name_data + d->name_len);
    uint32_t nfuncs = wasm_module_func_count(m);
    while (reader_ok(&r) && !reader_at_end(&r)) {
        uint8_t id = read_u8(&r);
        uint32_t size = read_u32(&r);
        const uint8_t *start = read_bytes(&r, size);
        if (!start)
            return;
        reader_t s;
        reader_init(&s, m->bytes, start, start + size);
        if (id == 0 && !m->module_name) {
            uint32_t len;
            const char *name = read_name(d, &s, &len);
            if (reader_ok(&s))
                m->module_name = name;
        } else if (id == 1 && !m->func_names && nfuncs > 0) {
            uint32_t n = read_count(d, &s);
            if (!reader_ok(&s))
                continue;
            const char **names = arena_array(&m->arena, nfuncs, sizeof *names);
            if (!names)
                return;
            m->func_names = names;
            for (uint32_t i = 0; i < n && reader_ok(&s); i++) {
                uint32_t index = read_u32(&s);
                uint32_t len = read_u32(&s);
                const uint8_t *bytes = read_bytes(&s, len);
                if (!bytes || index >= nfuncs || names[index] || !utf8_valid(bytes, len))
                    continue;
                names[index] = arena_strndup(&m->arena, (const char *)bytes, len);
            }
        }
    }
}

/* ------------------------------------------------------------------ */
/* Module                                                              */
/* ------------------------------------------------------------------ */

static void decode_section(decoder_t *d, reader_t *r, int id)
{
    switch (id) {
    case SEC_CUSTOM: decode_custom_section(d, r); break;
    case SEC_TYPE: decode_type_section(d, r); break;
    case SEC_IMPORT: decode_import_section(d, r); break;
    case SEC_FUNCTION: decode_function_section(d, r); break;
    case SEC_TABLE: decode_table_section(d, r); break;
    case SEC_MEMORY: decode_memory_section(d, r); break;
    case SEC_GLOBAL: decode_global_section(d, r); break;
    case SEC_EXPORT: decode_export_section(d, r); break;
    case SEC_START: decode_start_section(d, r); break;
    case SEC_ELEMENT: decode_element_section(d, r); break;
    case SEC_CODE: decode_code_section(d, r); d->seen_code = true; break;
    case SEC_DATA: decode_data_section(d, r); d->seen_data = true; break;
    case SEC_DATACOUNT: decode_datacount_section(d, r); break;
    case SEC_TAG: decode_tag_section(d, r); break;
    }
}

/* Reads the header and every section into d->m. Errors are left in `r`. */
static void decode_module(decoder_t *d, reader_t *r)
{
    wasm_module_t *m = d->m;
    static const uint8_t magic[4] = {0x00, 0x61, 0x73, 0x6D};
    static const uint8_t version[4] = {0x01, 0x00, 0x00, 0x00};
    const uint8_t *p = read_bytes(r, 4);
    if (p && memcmp(p, magic, 4) != 0)
        fail_at(r, "magic header not detected", 0);
    p = read_bytes(r, 4);
    if (p && memcmp(p, version, 4) != 0)
        fail_at(r, "unknown binary version", 4);

    int last_rank = 0;
    while (reader_ok(r) && !reader_at_end(r)) {
        size_t at = reader_offset(r);
        uint8_t id = read_u8(r);
        bool tags_on = m->features & WASM_FEATURE_EXCEPTIONS;
        if (id >= SEC_COUNT || (id == SEC_TAG && !tags_on)) {
            reader_t scan = *r;
            uint32_t size = read_u32(&scan);
            bool tags = id == SEC_TAG && reader_ok(&scan) && size <= reader_remaining(&scan) &&
                        is_tag_section(&scan, size);
            d->section = -1; /* not the previous section's error */
            fail_at(r, tags ? WASM_PROPOSAL_TAG_SECTION : "malformed section id", at);
            break;
        }
        d->section = id;
        uint32_t size = read_u32(r);
        if (!reader_ok(r))
            break;
        if (size > reader_remaining(r)) {
            fail_at(r, "length out of bounds", at + 1);
            break;
        }
        if (id != SEC_CUSTOM) {
            if (section_rank[id] <= last_rank) {
                fail_at(r, "unexpected content after last section", at);
                break;
            }
            last_rank = section_rank[id];
        }
        reader_t s;
        reader_init(&s, m->bytes, r->p, r->p + size);
        decode_section(d, &s, id);
        if (reader_ok(&s) && !reader_at_end(&s))
            reader_fail(&s, "section size mismatch");
        if (!reader_ok(&s)) {
            /* A read stopped by the section's (or a body's) end rather than
             * the module's. */
            if (strcmp(s.error, "unexpected end") == 0)
                s.error = "unexpected end of section or function";
            r->error = s.error;
            r->error_offset = s.error_offset;
            return;
        }
        r->p += size;
    }
    if (!reader_ok(r))
        return;
    d->section = -1;
    if (m->nfuncs > 0 && !d->seen_code) {
        fail_at(r, "function and code section have inconsistent lengths", m->len);
        return;
    }
    if (m->has_data_count && m->data_count > 0 && !d->seen_data) {
        fail_at(r, "data count and data section have inconsistent lengths", m->len);
        return;
    }
    if (d->customs.len) {
        m->customs = dalloc_array(d, r, d->customs.len, sizeof *m->customs);
        if (!m->customs)
            return;
        memcpy(m->customs, d->customs.data, d->customs.len * sizeof *m->customs);
        m->ncustoms = (uint32_t)d->customs.len;
    }
    if (d->name_data)
        parse_name_section(d);
}

whirl_error_t *wasm_decode(const uint8_t *bytes, size_t len, wasm_module_t **out)
{
    return wasm_decode_features(bytes, len, WASM_FEATURES_ALL, out);
}

whirl_error_t *wasm_decode_features(const uint8_t *bytes, size_t len, uint32_t features,
                                    wasm_module_t **out)
{
    *out = NULL;
    wasm_module_t *m = calloc(1, sizeof *m);
    if (!m)
        return error_oom();
    arena_init(&m->arena);
    m->bytes = malloc(len ? len : 1);
    if (!m->bytes) {
        free(m);
        return error_oom();
    }
    if (len)
        memcpy(m->bytes, bytes, len);
    m->len = len;
    m->features = features;
    decode_exnref = features & WASM_FEATURE_EXCEPTIONS;
    decode_typed_refs = features & WASM_FEATURE_FUNCTION_REFERENCES;
    decode_canon = NULL;

    decoder_t d = {.m = m, .section = -1, .func = -1};
    reader_t r;
    reader_init(&r, m->bytes, m->bytes, m->bytes + len);
    decode_module(&d, &r);
    vec_free(&d.customs);

    if (reader_ok(&r)) {
        *out = m;
        return NULL;
    }
    whirl_error_t *err;
    if (d.oom)
        err = error_oom();
    else if (d.func >= 0)
        err = error_fmt("malformed module: %s (section 10 code, func %lld, at offset 0x%zx)",
                        r.error, (long long)d.func, r.error_offset);
    else if (d.section >= 0)
        err = error_fmt("malformed module: %s (section %d %s, at offset 0x%zx)", r.error,
                        d.section, section_names[d.section], r.error_offset);
    else
        err = error_fmt("malformed module: %s (at offset 0x%zx)", r.error, r.error_offset);
    wasm_module_free(m);
    return err;
}

void wasm_module_free(wasm_module_t *module)
{
    if (!module)
        return;
    arena_free(&module->arena);
    if (!module->bytes_borrowed)
        free(module->bytes);
    free(module);
}

/* ------------------------------------------------------------------ */
/* Index spaces                                                        */
/* ------------------------------------------------------------------ */

uint32_t wasm_module_func_count(const wasm_module_t *m) { return m->nfunc_imports + m->nfuncs; }
uint32_t wasm_module_table_count(const wasm_module_t *m) { return m->ntable_imports + m->ntables; }
uint32_t wasm_module_memory_count(const wasm_module_t *m)
{
    return m->nmemory_imports + m->nmemories;
}
uint32_t wasm_module_global_count(const wasm_module_t *m)
{
    return m->nglobal_imports + m->nglobals;
}

/* The type index comes from the binary and is checked only by the
 * validator, so an out-of-range one yields NULL rather than a wild pointer. */
const wasm_functype_t *wasm_module_func_type(const wasm_module_t *m, uint32_t index)
{
    uint32_t type = index < m->nfunc_imports
                        ? m->imports[m->func_import_ids[index]].desc.func_type
                        : m->funcs[index - m->nfunc_imports].type;
    return type < m->ntypes ? &m->types[type] : NULL;
}

const wasm_tabletype_t *wasm_module_table_type(const wasm_module_t *m, uint32_t index)
{
    if (index < m->ntable_imports)
        return &m->imports[m->table_import_ids[index]].desc.table;
    return &m->tables[index - m->ntable_imports];
}

const wasm_memtype_t *wasm_module_memory_type(const wasm_module_t *m, uint32_t index)
{
    if (index < m->nmemory_imports)
        return &m->imports[m->memory_import_ids[index]].desc.memory;
    return &m->memories[index - m->nmemory_imports];
}

const wasm_globaltype_t *wasm_module_global_type(const wasm_module_t *m, uint32_t index)
{
    if (index < m->nglobal_imports)
        return &m->imports[m->global_import_ids[index]].desc.global;
    return &m->globals[index - m->nglobal_imports];
}

uint32_t wasm_module_tag_count(const wasm_module_t *m) { return m->ntag_imports + m->ntags; }

uint32_t wasm_module_tag_type(const wasm_module_t *m, uint32_t index)
{
    if (index < m->ntag_imports)
        return m->imports[m->tag_import_ids[index]].desc.tag_type;
    return m->tags[index - m->ntag_imports];
}

const char *wasm_valtype_name(wasm_valtype_t t)
{
    switch (t) {
    case WASM_I32: return "i32";
    case WASM_I64: return "i64";
    case WASM_F32: return "f32";
    case WASM_F64: return "f64";
    case WASM_V128: return "v128";
    case WASM_FUNCREF: return "funcref";
    case WASM_EXTERNREF: return "externref";
    case WASM_EXNREF: return "exnref";
    case WASM_NOFUNC: return "nullfuncref";
    case WASM_NOEXTERN: return "nullexternref";
    case WASM_NOEXN: return "nullexnref";
    case WASM_FUNCREF | WASM_NONNULL: return "(ref func)";
    case WASM_EXTERNREF | WASM_NONNULL: return "(ref extern)";
    case WASM_EXNREF | WASM_NONNULL: return "(ref exn)";
    case WASM_NOFUNC | WASM_NONNULL: return "(ref nofunc)";
    case WASM_NOEXTERN | WASM_NONNULL: return "(ref noextern)";
    case WASM_NOEXN | WASM_NONNULL: return "(ref noexn)";
    }
    if (wasm_ref_is_concrete(t)) {
        /* A few rotating buffers: messages name at most two types. */
        static _Thread_local char bufs[4][32];
        static _Thread_local unsigned next;
        char *b = bufs[next++ % 4];
        snprintf(b, sizeof bufs[0], "(ref %s%u)", wasm_ref_nullable(t) ? "null " : "",
                 wasm_ref_typeidx(t));
        return b;
    }
    return "<invalid type>";
}
