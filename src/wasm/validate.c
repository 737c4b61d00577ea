/* Validation of a decoded module (WebAssembly 2.0, fixed-width SIMD included).
 *
 * Function bodies are checked with the spec's single-pass algorithm
 * (core/appendix/algorithm): an operand stack of value types in which
 * T_UNKNOWN stands for "any type" below an unconditional branch, and a stack
 * of control frames recording each block's start types, end types, the
 * operand-stack height at entry and whether the rest of the block is
 * unreachable. Both stacks live on the heap and are reused for every function
 * of the module, so deep nesting costs memory, not C stack, and no instruction
 * allocates.
 *
 * Function bodies are still raw bytes at this point (the decoder skips them),
 * so this pass is also where their binary-level errors are found: illegal
 * opcodes, bad LEB128 immediates, non-zero reserved bytes, a missing `end`.
 * Those are reported as "malformed module: ...", everything else as
 * "invalid module: ...".
 *
 * SIMD instructions are typed by their opcodes_simd.h signatures like the
 * scalar ones; only their immediates (lane indices, memarg + lane, 16-byte
 * constants and shuffle masks) need checks of their own, in check_sig_imm. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "module.h"
#include "opcodes.h"
#include "proposals.h"
#include "reader.h"
#include "util/error.h"
#include "util/vec.h"

/* The operand type of a value pushed by polymorphic code: matches anything.
 * 0 is not a valid value type encoding. */
enum { T_UNKNOWN = 0 };

/* Operand stack heights beyond this are rejected. Only multi-value calls can
 * push more values than the body has bytes, and without a cap a small module
 * could make validation use memory quadratic in its size. */
#define MAX_OPERAND_STACK ((size_t)1 << 22)

/* Spec limit on memory size in 64 KiB pages (4 GiB). */
#define MAX_MEMORY_PAGES 65536u

typedef enum frame_kind {
    FRAME_FUNC,
    FRAME_BLOCK,
    FRAME_LOOP,
    FRAME_IF,
    FRAME_ELSE,
    FRAME_TRY,       /* legacy exception handling: try, catch, catch_all */
    FRAME_CATCH,
    FRAME_CATCH_ALL,
} frame_kind_t;

typedef struct frame {
    const wasm_valtype_t *params;  /* start types */
    const wasm_valtype_t *results; /* end types */
    uint32_t nparams, nresults;
    size_t height;                 /* operand stack height at entry */
    uint32_t init_height;          /* initialised-locals stack height at entry */
    frame_kind_t kind;
    bool unreachable;
} frame_t;

/* Where an error was found, for the message prefix. */
typedef enum loc_kind {
    LOC_MODULE,
    LOC_FUNC,
    LOC_IMPORT,
    LOC_TABLE,
    LOC_MEMORY,
    LOC_GLOBAL,
    LOC_ELEM,
    LOC_DATA,
    LOC_EXPORT,
    LOC_START,
} loc_kind_t;

typedef struct vctx {
    const wasm_module_t *m;
    /* Sizes of the whole index spaces (imports included). */
    uint32_t nfuncs, ntables, nmems, nglobals;
    /* Set by a memory instruction's immediates: bit 0, its (first) memory
     * has 64-bit addresses (memory64); bit 1, memory.copy's source has. */
    uint8_t mem64, mem64_next;
    /* Function indices that may appear in ref.func inside bodies (C.refs). */
    uint8_t *declared;

    VEC(wasm_valtype_t) vals;
    VEC(frame_t) ctrls;

    /* Locals of the function being validated: parameters come from its type;
     * declared locals are looked up either in a flat per-local array (when
     * that is cheap relative to the body size) or by binary search over the
     * cumulative run ends. */
    const wasm_functype_t *ftype;
    const wasm_local_run_t *runs;
    uint64_t nlocals;
    bool flat_locals;
    VEC(uint64_t) run_ends;
    VEC(wasm_valtype_t) locals;
    /* Typed function references: locals of non-nullable type must be set
     * before use, per block (validate_funcref.inc). */
    bool track_init;
    /* One-element type sequences for block types written as one concrete
     * reference type: [2 * type index + non-null], made on first use. */
    wasm_valtype_t *concrete_one;
    VEC(uint8_t) local_set;
    VEC(uint32_t) inits;

    /* Error state. */
    loc_kind_t loc;
    uint32_t loc_index;
    size_t loc_offset;      /* SIZE_MAX: no offset */
    bool malformed;
    bool oom;
    char msg[256];
} vctx_t;

/* Typed function references (validate_funcref.inc). */
static void reset_inits(vctx_t *c, uint32_t height);
static bool setup_local_init(vctx_t *c, const wasm_func_t *f);
static bool valtype_known(vctx_t *c, wasm_valtype_t t);
static bool read_heaptype_in(vctx_t *c, reader_t *r, bool nullable, wasm_valtype_t *out);
static const wasm_valtype_t *single_type(vctx_t *c, wasm_valtype_t t);

/* --- Value types ---------------------------------------------------------- */

static const char *type_name(wasm_valtype_t t)
{
    return t == T_UNKNOWN ? "unknown" : wasm_valtype_name(t);
}

static bool is_valtype(wasm_valtype_t t)
{
    switch (t) {
    case WASM_I32:
    case WASM_I64:
    case WASM_F32:
    case WASM_F64:
    case WASM_V128:
        return true;
    }
    return wasm_is_reftype(t); /* the decoder admits only the enabled ones */
}

static bool is_num(wasm_valtype_t t)
{
    return t == WASM_I32 || t == WASM_I64 || t == WASM_F32 || t == WASM_F64 || t == T_UNKNOWN;
}

static bool is_vec(wasm_valtype_t t) { return t == WASM_V128 || t == T_UNKNOWN; }

/* Operand signatures of the table-typed instructions, parsed once from
 * wasm_opinfo[].sig so the hot path does not re-read strings. */
typedef struct opsig {
    uint8_t nparams, nresults;
    wasm_valtype_t params[3];
    wasm_valtype_t result;
} opsig_t;

static opsig_t opsigs[WASM_OP_COUNT];

/* Single-byte opcode -> op + 1 (0: prefix or illegal), so the common case
 * needs no call into wasm_read_op. */
static uint8_t byte_ops[256];

static wasm_valtype_t sig_char_type(char ch)
{
    switch (ch) {
    case 'i': return WASM_I32;
    case 'l': return WASM_I64;
    case 'f': return WASM_F32;
    case 'd': return WASM_F64;
    case 'v': return WASM_V128;
    }
    return T_UNKNOWN;
}

__attribute__((constructor)) static void validate_init(void)
{
    for (int op = 0; op < WASM_OP_COUNT; op++) {
        if (wasm_opinfo[op].prefix == 0)
            byte_ops[wasm_opinfo[op].code] = (uint8_t)(op + 1);
        const char *s = wasm_opinfo[op].sig;
        if (!s)
            continue;
        opsig_t *sig = &opsigs[op];
        for (; *s && *s != ':'; s++)
            if (sig->nparams < 3)
                sig->params[sig->nparams++] = sig_char_type(*s);
        if (*s == ':' && s[1]) {
            sig->nresults = 1;
            sig->result = sig_char_type(s[1]);
        }
    }
}

/* The signature of a memory instruction on 64-bit memories (memory64):
 * addresses, sizes and lengths in bytes of such memories are i64; the same
 * for table.size, table.init and table.copy on 64-bit tables. `mem64`:
 * bit 0, the (destination) memory or table is 64-bit; bit 1, the copy's
 * source (a copy's length is i64 only when both are). */
static const opsig_t *sig64_of(opsig_t *out, wasm_op_t op, uint8_t mem64)
{
    *out = opsigs[op];
    switch (op) {
    case WASM_OP_MEMORY_SIZE: out->result = WASM_I64; break;
    case WASM_OP_MEMORY_GROW: out->params[0] = out->result = WASM_I64; break;
    case WASM_OP_MEMORY_FILL: out->params[0] = out->params[2] = WASM_I64; break;
    case WASM_OP_MEMORY_INIT: out->params[0] = WASM_I64; break;
    case WASM_OP_TABLE_SIZE: out->result = WASM_I64; break;
    case WASM_OP_MEMORY_COPY:
    case WASM_OP_TABLE_COPY:
        if (mem64 & 1)
            out->params[0] = WASM_I64;
        if (mem64 & 2)
            out->params[1] = WASM_I64;
        if ((mem64 & 3) == 3)
            out->params[2] = WASM_I64;
        break;
    default: out->params[0] = WASM_I64; break; /* loads, stores, table.init: the address */
    }
    return out;
}

/* --- Module index spaces (bounds are the caller's business) ---------------- */

static uint32_t func_type_index(const wasm_module_t *m, uint32_t f)
{
    if (f < m->nfunc_imports)
        return m->imports[m->func_import_ids[f]].desc.func_type;
    return m->funcs[f - m->nfunc_imports].type;
}

static const wasm_tabletype_t *table_type(const wasm_module_t *m, uint32_t t)
{
    if (t < m->ntable_imports)
        return &m->imports[m->table_import_ids[t]].desc.table;
    return &m->tables[t - m->ntable_imports];
}

/* A table's index type: i64 for a 64-bit table (memory64's table64). */
static wasm_valtype_t table_index_type(const wasm_module_t *m, uint32_t t)
{
    return table_type(m, t)->limits.is64 ? WASM_I64 : WASM_I32;
}

static const wasm_globaltype_t *global_type(const wasm_module_t *m, uint32_t g)
{
    if (g < m->nglobal_imports)
        return &m->imports[m->global_import_ids[g]].desc.global;
    return &m->globals[g - m->nglobal_imports];
}

/* --- Errors --------------------------------------------------------------- */

__attribute__((format(printf, 2, 3))) static bool fail(vctx_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
    return false;
}

/* The message for a type byte whirl does not know: the proposal's, or the
 * 2.0 one. */
static const char *unknown_valtype(uint8_t byte, const char *otherwise)
{
    const char *proposal = wasm_proposal_valtype(byte);
    return proposal ? proposal : otherwise;
}

/* A binary-format error inside a body, at `offset`. */
static bool fail_malformed(vctx_t *c, size_t offset, const char *what)
{
    c->malformed = true;
    c->loc_offset = offset;
    return fail(c, "%s", what);
}

static bool fail_reader(vctx_t *c, const reader_t *r)
{
    return fail_malformed(c, r->error_offset, r->error ? r->error : "unexpected end");
}

static bool fail_oom(vctx_t *c)
{
    c->oom = true;
    return fail(c, "out of memory");
}

static void set_loc(vctx_t *c, loc_kind_t loc, uint32_t index, size_t offset)
{
    c->loc = loc;
    c->loc_index = index;
    c->loc_offset = offset;
}

static whirl_error_t *make_error(const vctx_t *c)
{
    if (c->oom)
        return error_oom();
    const char *kind = c->malformed ? "malformed module" : "invalid module";
    static const char *const names[] = {
        [LOC_MODULE] = "module", [LOC_FUNC] = "func",     [LOC_IMPORT] = "import",
        [LOC_TABLE] = "table",   [LOC_MEMORY] = "memory", [LOC_GLOBAL] = "global",
        [LOC_ELEM] = "elem",     [LOC_DATA] = "data",     [LOC_EXPORT] = "export",
        [LOC_START] = "start",
    };
    const char *where = names[c->loc];
    if (c->loc == LOC_MODULE || c->loc == LOC_START) {
        if (c->loc_offset != SIZE_MAX)
            return error_fmt("%s: %s at offset 0x%zx: %s", kind, where, c->loc_offset, c->msg);
        return error_fmt("%s: %s: %s", kind, where, c->msg);
    }
    if (c->loc_offset != SIZE_MAX)
        return error_fmt("%s: %s %u at offset 0x%zx: %s", kind, where, c->loc_index,
                         c->loc_offset, c->msg);
    return error_fmt("%s: %s %u: %s", kind, where, c->loc_index, c->msg);
}

/* --- Operand and control stacks ------------------------------------------- */

static bool reserve_vals(vctx_t *c, size_t n)
{
    if (c->vals.cap - c->vals.len >= n)
        return true;
    if (n > MAX_OPERAND_STACK || c->vals.len > MAX_OPERAND_STACK - n)
        return fail(c, "operand stack exceeds the implementation limit of %zu values",
                    MAX_OPERAND_STACK);
    if (!vec_reserve(&c->vals, n))
        return fail_oom(c);
    return true;
}

static inline bool push_val(vctx_t *c, wasm_valtype_t t)
{
    if (c->vals.len == c->vals.cap && !reserve_vals(c, 1))
        return false;
    c->vals.data[c->vals.len++] = t;
    return true;
}

static bool push_vals(vctx_t *c, const wasm_valtype_t *types, uint32_t n)
{
    if (!reserve_vals(c, n))
        return false;
    if (n)
        memcpy(c->vals.data + c->vals.len, types, n * sizeof *types);
    c->vals.len += n;
    return true;
}

static inline frame_t *top_frame(vctx_t *c) { return &c->ctrls.data[c->ctrls.len - 1]; }

static bool mismatch(vctx_t *c, wasm_valtype_t expected, wasm_valtype_t found)
{
    return fail(c, "type mismatch: expected %s, found %s", type_name(expected),
                type_name(found));
}

static bool underflow(vctx_t *c, wasm_valtype_t expected)
{
    return fail(c, "type mismatch: expected %s, found nothing", type_name(expected));
}

/* Off the hot path: a value that is not the expected type may still be a
 * subtype of it (typed function references). */
__attribute__((noinline)) static bool subtype_or_mismatch(vctx_t *c, wasm_valtype_t expected,
                                                          wasm_valtype_t got)
{
    return wasm_valtype_sub(got, expected) || mismatch(c, expected, got);
}

/* Pops any value into *out (T_UNKNOWN in unreachable code). */
static inline bool pop_any(vctx_t *c, wasm_valtype_t *out, const char *what)
{
    frame_t *f = top_frame(c);
    if (c->vals.len == f->height) {
        if (f->unreachable) {
            *out = T_UNKNOWN;
            return true;
        }
        return fail(c, "type mismatch: expected %s, found nothing", what);
    }
    *out = c->vals.data[--c->vals.len];
    return true;
}

static inline bool pop_expect(vctx_t *c, wasm_valtype_t expected)
{
    frame_t *f = top_frame(c);
    if (c->vals.len == f->height) {
        if (f->unreachable)
            return true;
        return underflow(c, expected);
    }
    wasm_valtype_t got = c->vals.data[--c->vals.len];
    if (got != expected && got != T_UNKNOWN && expected != T_UNKNOWN)
        return subtype_or_mismatch(c, expected, got);
    return true;
}

/* Pops `types` (last one on top). */
static bool pop_vals(vctx_t *c, const wasm_valtype_t *types, uint32_t n)
{
    frame_t *f = top_frame(c);
    size_t avail = c->vals.len - f->height;
    /* Long signatures are matched with one memcmp when no polymorphic
     * operand is involved. */
    if (avail >= n && (n == 0 || memcmp(c->vals.data + c->vals.len - n, types, n * sizeof *types) == 0)) {
        c->vals.len -= n;
        return true;
    }
    for (uint32_t i = n; i-- > 0;)
        if (!pop_expect(c, types[i]))
            return false;
    return true;
}

/* Checks that the top of the stack matches `types` without popping. Values
 * missing in unreachable code count as T_UNKNOWN, as if popped and pushed
 * back (br_table, which checks one stack against several labels). */
static bool peek_vals(vctx_t *c, const wasm_valtype_t *types, uint32_t n)
{
    frame_t *f = top_frame(c);
    size_t avail = c->vals.len - f->height;
    for (uint32_t i = 0; i < n; i++) {
        wasm_valtype_t want = types[n - 1 - i];
        if (i >= avail) {
            if (f->unreachable)
                return true;
            return underflow(c, want);
        }
        wasm_valtype_t got = c->vals.data[c->vals.len - 1 - i];
        if (got != want && got != T_UNKNOWN && !subtype_or_mismatch(c, want, got))
            return false;
    }
    return true;
}

static bool push_ctrl(vctx_t *c, frame_kind_t kind, const wasm_valtype_t *params,
                      uint32_t nparams, const wasm_valtype_t *results, uint32_t nresults)
{
    frame_t f = {
        .params = params,
        .results = results,
        .nparams = nparams,
        .nresults = nresults,
        .height = c->vals.len,
        .init_height = (uint32_t)c->inits.len,
        .kind = kind,
        .unreachable = false,
    };
    if (!vec_push(&c->ctrls, f))
        return fail_oom(c);
    return push_vals(c, params, nparams);
}

static const char *frame_name(frame_kind_t k)
{
    switch (k) {
    case FRAME_FUNC: return "function";
    case FRAME_BLOCK: return "block";
    case FRAME_LOOP: return "loop";
    case FRAME_IF: return "if";
    case FRAME_ELSE: return "else";
    case FRAME_TRY: return "try";
    case FRAME_CATCH: return "catch";
    case FRAME_CATCH_ALL: return "catch_all";
    }
    return "block";
}

static bool pop_ctrl(vctx_t *c, frame_t *out)
{
    frame_t *f = top_frame(c);
    if (!pop_vals(c, f->results, f->nresults))
        return false;
    if (c->vals.len != f->height)
        return fail(c, "type mismatch: %zu extra value(s) at end of %s",
                    c->vals.len - f->height, frame_name(f->kind));
    *out = *f;
    reset_inits(c, f->init_height);
    c->ctrls.len--;
    return true;
}

static void set_unreachable(vctx_t *c)
{
    frame_t *f = top_frame(c);
    c->vals.len = f->height;
    f->unreachable = true;
}

/* Types a branch to `f` must provide. */
static inline void label_types(const frame_t *f, const wasm_valtype_t **types, uint32_t *n)
{
    if (f->kind == FRAME_LOOP) {
        *types = f->params;
        *n = f->nparams;
    } else {
        *types = f->results;
        *n = f->nresults;
    }
}

static bool get_label(vctx_t *c, uint32_t depth, const frame_t **out)
{
    if (depth >= c->ctrls.len)
        return fail(c, "unknown label %u", depth);
    *out = &c->ctrls.data[c->ctrls.len - 1 - depth];
    return true;
}

/* --- Locals ---------------------------------------------------------------- */

static bool setup_locals(vctx_t *c, const wasm_func_t *f)
{
    c->runs = f->local_runs;
    c->run_ends.len = 0;
    if (!vec_reserve(&c->run_ends, (size_t)f->nlocal_runs + 1))
        return fail_oom(c);
    uint64_t total = 0;
    for (uint32_t i = 0; i < f->nlocal_runs; i++) {
        if (!is_valtype(f->local_runs[i].type))
            return fail_malformed(c, f->body_offset, "malformed value type");
        if (!valtype_known(c, f->local_runs[i].type))
            return false;
        total += f->local_runs[i].count;
        c->run_ends.data[c->run_ends.len++] = total;
    }
    c->nlocals = total;

    /* A flat array costs time proportional to the local count, which a few
     * bytes can make huge; use it only when that stays proportional to the
     * body size. */
    size_t body_len = (size_t)(f->code_end - f->code);
    c->flat_locals = total <= 64 * (uint64_t)body_len + 64;
    if (c->flat_locals) {
        c->locals.len = 0;
        if (!vec_reserve(&c->locals, (size_t)total + 1))
            return fail_oom(c);
        for (uint32_t i = 0; i < f->nlocal_runs; i++)
            for (uint32_t k = 0; k < f->local_runs[i].count; k++)
                c->locals.data[c->locals.len++] = f->local_runs[i].type;
    }
    return setup_local_init(c, f);
}

/* Type of local `idx`, or T_UNKNOWN if there is no such local. */
static inline __attribute__((always_inline)) wasm_valtype_t local_type(const vctx_t *c,
                                                                      uint32_t idx)
{
    uint32_t np = c->ftype->nparams;
    if (idx < np)
        return c->ftype->params[idx];
    uint64_t k = (uint64_t)idx - np;
    if (k >= c->nlocals)
        return T_UNKNOWN;
    if (c->flat_locals)
        return c->locals.data[k];
    size_t lo = 0, hi = c->run_ends.len - 1; /* first run with end > k */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->run_ends.data[mid] > k)
            hi = mid;
        else
            lo = mid + 1;
    }
    return c->runs[lo].type;
}

/* --- Immediates ------------------------------------------------------------ */

/* Reserved memory index byte of 2.0 memory instructions. */
static bool read_zero_byte(vctx_t *c, reader_t *r)
{
    size_t at = reader_offset(r);
    uint8_t b = read_u8(r);
    if (!reader_ok(r))
        return fail_reader(c, r);
    /* multi-memory makes this byte a memory index: the 2.0 message first,
     * as the spec tests expect it, then the proposal. */
    if (b != 0)
        return fail_malformed(c, at, "zero byte expected (" WASM_PROPOSAL_MULTI_MEMORY_HINT ")");
    return true;
}

static bool need_memory(vctx_t *c, uint32_t index)
{
    if (index >= c->nmems)
        return fail(c, index ? "unknown memory %u (" WASM_PROPOSAL_MULTI_MEMORY_HINT ")"
                             : "unknown memory %u",
                    index);
    return true;
}

/* The memory index of a memory instruction: 2.0's reserved zero byte, or
 * with multi-memory a u32 naming a memory. */
static bool read_memory_index(vctx_t *c, reader_t *r)
{
    uint32_t index = 0;
    if (!(c->m->features & WASM_FEATURE_MULTI_MEMORY)) {
        if (!read_zero_byte(c, r))
            return false;
    } else {
        index = read_u32(r);
        if (!reader_ok(r))
            return fail_reader(c, r);
    }
    if (!need_memory(c, index))
        return false;
    if (wasm_module_memory_type(c->m, index)->limits.is64)
        c->mem64 |= c->mem64_next;
    c->mem64_next <<= 1;
    return true;
}

/* A memarg's offset: u32, or u64 for a 64-bit memory (memory64). */
static bool read_memarg_offset(vctx_t *c, reader_t *r, uint32_t memory)
{
    if (wasm_module_memory_type(c->m, memory)->limits.is64) {
        c->mem64 |= 1;
        read_uleb(r, 64);
    } else {
        read_u32(r);
    }
    return reader_ok(r) || fail_reader(c, r);
}

static bool need_table(vctx_t *c, uint32_t index)
{
    if (index >= c->ntables)
        return fail(c, "unknown table %u", index);
    return true;
}

static bool need_elem(vctx_t *c, uint32_t index)
{
    if (index >= c->m->nelems)
        return fail(c, "unknown elem segment %u", index);
    return true;
}

static bool need_data(vctx_t *c, size_t op_offset, uint32_t index)
{
    /* Without the count, a one-pass compiler could not know the segments. */
    if (!c->m->has_data_count)
        return fail_malformed(c, op_offset, "data count section required");
    if (index >= c->m->data_count)
        return fail(c, "unknown data segment %u", index);
    return true;
}

typedef struct blocktype {
    const wasm_valtype_t *params, *results;
    uint32_t nparams, nresults;
} blocktype_t;

static bool read_blocktype(vctx_t *c, reader_t *r, blocktype_t *bt)
{
    size_t at = reader_offset(r);
    int64_t v = read_s33(r);
    if (!reader_ok(r))
        return fail_reader(c, r);
    memset(bt, 0, sizeof *bt);
    if (v >= 0) {
        if ((uint64_t)v >= c->m->ntypes)
            return fail(c, "unknown type %llu", (unsigned long long)v);
        const wasm_functype_t *t = &c->m->types[v];
        bt->params = t->params;
        bt->nparams = t->nparams;
        bt->results = t->results;
        bt->nresults = t->nresults;
        return true;
    }
    if (v == -0x40) /* empty: 0x40 */
        return true;
    if (v < -0x40)
        return fail_malformed(c, at, "malformed block type");
    wasm_valtype_t t = (wasm_valtype_t)(v & 0x7F);
    if ((t == WASM_REF_NULL_PREFIX || t == WASM_REF_PREFIX) &&
        (c->m->features & WASM_FEATURE_FUNCTION_REFERENCES)) {
        if (!read_heaptype_in(c, r, t == WASM_REF_NULL_PREFIX, &t))
            return false;
    } else if (!is_valtype(t) || t == WASM_NOEXN || t == WASM_NOFUNC || t == WASM_NOEXTERN ||
               (t == WASM_EXNREF && !(c->m->features & WASM_FEATURE_EXCEPTIONS))) {
        return fail_malformed(c, at, unknown_valtype(t, "malformed value type"));
    }
    bt->results = single_type(c, t);
    if (!bt->results)
        return fail_oom(c);
    bt->nresults = 1;
    return true;
}

/* Immediates of the instructions typed by their opcodes.h signature. */
static bool check_sig_imm(vctx_t *c, reader_t *r, wasm_op_t op, size_t op_offset)
{
    const wasm_opinfo_t *info = &wasm_opinfo[op];
    switch (info->imm) {
    case IMM_NONE:
        return true;
    case IMM_I32:
        read_s32(r);
        break;
    case IMM_I64:
        read_s64(r);
        break;
    case IMM_F32:
        read_fixed32(r);
        break;
    case IMM_F64:
        read_fixed64(r);
        break;
    case IMM_MEMARG:
    case IMM_MEMARG_ATOMIC: {
        size_t align_at = reader_offset(r);
        uint32_t align = read_u32(r), memory = 0;
        bool multi = c->m->features & WASM_FEATURE_MULTI_MEMORY;
        if (reader_ok(r) && multi && (align & WASM_MEMARG_HAS_MEMORY)) {
            memory = read_u32(r);
            align &= ~WASM_MEMARG_HAS_MEMORY;
        }
        if (!reader_ok(r))
            return fail_reader(c, r);
        if (align & WASM_MEMARG_HAS_MEMORY) /* multi-memory: a memory index follows */
            return fail_malformed(c, align_at, WASM_PROPOSAL_MEMARG_INDEX);
        if (!need_memory(c, memory))
            return false;
        if (!read_memarg_offset(c, r, memory))
            return false;
        if (info->imm == IMM_MEMARG_ATOMIC ? align != info->align : align > info->align)
            return fail(c, "alignment must not be larger than natural (%u > %u)%s",
                        1u << (align < 31 ? align : 31), 1u << info->align,
                        info->imm == IMM_MEMARG_ATOMIC ? ", and atomics need it exactly" : "");
        return true;
    }
    case IMM_FENCE:
        return read_zero_byte(c, r);
    case IMM_MEMARG_LANE: {
        size_t align_at = reader_offset(r);
        uint32_t align = read_u32(r), memory = 0;
        bool multi = c->m->features & WASM_FEATURE_MULTI_MEMORY;
        if (reader_ok(r) && multi && (align & WASM_MEMARG_HAS_MEMORY)) {
            memory = read_u32(r);
            align &= ~WASM_MEMARG_HAS_MEMORY;
        }
        if (!reader_ok(r))
            return fail_reader(c, r);
        if (align & WASM_MEMARG_HAS_MEMORY)
            return fail_malformed(c, align_at, WASM_PROPOSAL_MEMARG_INDEX);
        if (!need_memory(c, memory) || !read_memarg_offset(c, r, memory))
            return false;
        uint8_t lane = read_u8(r);
        if (!reader_ok(r))
            return fail_reader(c, r);
        if (align > info->align)
            return fail(c, "alignment must not be larger than natural (%u > %u)",
                        1u << (align < 31 ? align : 31), 1u << info->align);
        if (lane >= wasm_op_lanes(op))
            return fail(c, "invalid lane index %u for %s", lane, info->name);
        return true;
    }
    case IMM_LANE2:
    case IMM_LANE4:
    case IMM_LANE8:
    case IMM_LANE16: {
        uint8_t lane = read_u8(r);
        if (!reader_ok(r))
            return fail_reader(c, r);
        if (lane >= wasm_op_lanes(op))
            return fail(c, "invalid lane index %u for %s", lane, info->name);
        return true;
    }
    case IMM_V128:
        read_bytes(r, 16);
        break;
    case IMM_SHUFFLE: {
        const uint8_t *lanes = read_bytes(r, 16);
        if (!lanes)
            return fail_reader(c, r);
        for (int i = 0; i < 16; i++)
            if (lanes[i] >= 32)
                return fail(c, "invalid lane index %u in i8x16.shuffle", lanes[i]);
        return true;
    }
    case IMM_MEMORY:
        return read_memory_index(c, r);
    case IMM_MEMORY_MEMORY:
        return read_memory_index(c, r) && read_memory_index(c, r);
    case IMM_DATA_MEMORY: {
        uint32_t d = read_u32(r);
        if (!reader_ok(r))
            return fail_reader(c, r);
        return read_memory_index(c, r) && need_data(c, op_offset, d);
    }
    case IMM_DATA: {
        uint32_t d = read_u32(r);
        if (!reader_ok(r))
            return fail_reader(c, r);
        return need_data(c, op_offset, d);
    }
    case IMM_ELEM: {
        uint32_t e = read_u32(r);
        if (!reader_ok(r))
            return fail_reader(c, r);
        return need_elem(c, e);
    }
    case IMM_TABLE: {
        uint32_t t = read_u32(r);
        if (!reader_ok(r))
            return fail_reader(c, r);
        if (!need_table(c, t))
            return false;
        if (table_type(c->m, t)->limits.is64)
            c->mem64 |= 1;
        return true;
    }
    case IMM_ELEM_TABLE: {
        uint32_t e = read_u32(r);
        uint32_t t = read_u32(r);
        if (!reader_ok(r))
            return fail_reader(c, r);
        if (!need_table(c, t) || !need_elem(c, e))
            return false;
        if (table_type(c->m, t)->limits.is64)
            c->mem64 |= 1;
        wasm_valtype_t tt = table_type(c->m, t)->elem, et = c->m->elems[e].type;
        if (!wasm_valtype_sub(et, tt))
            return fail(c, "type mismatch: table.init of %s segment %u into %s table %u",
                        type_name(et), e, type_name(tt), t);
        return true;
    }
    case IMM_TABLE_TABLE: {
        uint32_t dst = read_u32(r);
        uint32_t src = read_u32(r);
        if (!reader_ok(r))
            return fail_reader(c, r);
        if (!need_table(c, dst) || !need_table(c, src))
            return false;
        c->mem64 |= (table_type(c->m, dst)->limits.is64 ? 1 : 0) |
                    (table_type(c->m, src)->limits.is64 ? 2 : 0);
        wasm_valtype_t dt = table_type(c->m, dst)->elem, st = table_type(c->m, src)->elem;
        if (!wasm_valtype_sub(st, dt))
            return fail(c, "type mismatch: table.copy from %s table %u to %s table %u",
                        type_name(st), src, type_name(dt), dst);
        return true;
    }
    default:
        return fail(c, "internal error: unexpected immediate kind for %s", info->name);
    }
    if (!reader_ok(r))
        return fail_reader(c, r);
    return true;
}

/* --- Function bodies ------------------------------------------------------- */

#include "validate_exn.inc"
#include "validate_funcref.inc"

static bool validate_code(vctx_t *c, reader_t *r)
{
    const wasm_module_t *m = c->m;
    for (;;) {
        if (reader_at_end(r))
            return fail_malformed(c, reader_offset(r), "END opcode expected");
        size_t op_offset = reader_offset(r);
        c->loc_offset = op_offset;
        int opi = byte_ops[*r->p] - 1;
        if (opi >= 0)
            r->p++;
        else if ((opi = wasm_read_op(r)) < 0)
            return fail_reader(c, r);
        else if (wasm_proposal_switched_off(m->features, opi)) /* relaxed SIMD, atomics */
            return fail_malformed(c, op_offset, wasm_proposal_switched_off(m->features, opi));
        wasm_op_t op = (wasm_op_t)opi;

        if (wasm_opinfo[op].sig) {
            c->mem64 = 0;
            c->mem64_next = 1;
            if (wasm_opinfo[op].imm != IMM_NONE && !check_sig_imm(c, r, op, op_offset))
                return false;
            const opsig_t *sig = &opsigs[op];
            opsig_t sig64;
            if (c->mem64)
                sig = sig64_of(&sig64, op, c->mem64);
            frame_t *f = top_frame(c);
            size_t n = sig->nparams;
            if (c->vals.len - f->height >= n) {
                /* Common case: operands present, check in place. */
                wasm_valtype_t *top = c->vals.data + c->vals.len - n;
                for (size_t i = 0; i < n; i++)
                    if (top[i] != sig->params[i] && top[i] != T_UNKNOWN)
                        return mismatch(c, sig->params[i], top[i]);
                c->vals.len -= n;
            } else {
                for (size_t i = n; i-- > 0;)
                    if (!pop_expect(c, sig->params[i]))
                        return false;
            }
            if (sig->nresults && !push_val(c, sig->result))
                return false;
            continue;
        }

        switch (op) {
        case WASM_OP_UNREACHABLE:
            set_unreachable(c);
            break;
        case WASM_OP_NOP:
            break;

        case WASM_OP_BLOCK:
        case WASM_OP_LOOP:
        case WASM_OP_IF: {
            blocktype_t bt;
            if (!read_blocktype(c, r, &bt))
                return false;
            if (op == WASM_OP_IF && !pop_expect(c, WASM_I32))
                return false;
            if (!pop_vals(c, bt.params, bt.nparams))
                return false;
            frame_kind_t kind = op == WASM_OP_BLOCK ? FRAME_BLOCK
                                : op == WASM_OP_LOOP ? FRAME_LOOP
                                                     : FRAME_IF;
            if (!push_ctrl(c, kind, bt.params, bt.nparams, bt.results, bt.nresults))
                return false;
            break;
        }

        case WASM_OP_ELSE: {
            if (top_frame(c)->kind != FRAME_IF)
                return fail_malformed(c, op_offset, "else without matching if");
            frame_t f;
            if (!pop_ctrl(c, &f))
                return false;
            if (!push_ctrl(c, FRAME_ELSE, f.params, f.nparams, f.results, f.nresults))
                return false;
            break;
        }

        case WASM_OP_END: {
            frame_t f;
            if (!pop_ctrl(c, &f))
                return false;
            /* The missing else branch passes the parameters through. */
            if (f.kind == FRAME_IF &&
                !results_match(f.params, f.nparams, f.results, f.nresults))
                return fail(c, "type mismatch: if without else must have equal parameter "
                               "and result types");
            if (c->ctrls.len == 0) {
                if (!reader_at_end(r))
                    return fail_malformed(c, reader_offset(r),
                                          "operators remaining after end of function");
                return true;
            }
            if (!push_vals(c, f.results, f.nresults))
                return false;
            break;
        }

        case WASM_OP_BR:
        case WASM_OP_BR_IF: {
            uint32_t depth = read_u32(r);
            if (!reader_ok(r))
                return fail_reader(c, r);
            const frame_t *l = NULL;
            if (!get_label(c, depth, &l))
                return false;
            const wasm_valtype_t *types;
            uint32_t n;
            label_types(l, &types, &n);
            if (op == WASM_OP_BR) {
                if (!pop_vals(c, types, n))
                    return false;
                set_unreachable(c);
            } else {
                if (!pop_expect(c, WASM_I32) || !pop_vals(c, types, n) ||
                    !push_vals(c, types, n))
                    return false;
            }
            break;
        }

        case WASM_OP_REF_AS_NON_NULL:
        case WASM_OP_BR_ON_NULL:
        case WASM_OP_BR_ON_NON_NULL:
        case WASM_OP_CALL_REF:
        case WASM_OP_RETURN_CALL_REF:
        case WASM_OP_REF_NULL:
        case WASM_OP_REF_FUNC:
            if (!validate_funcref_instr(c, r, op))
                return false;
            break;

        case WASM_OP_BR_TABLE: {
            /* The default label comes last but fixes the arity: find it
             * first, then re-read the targets. */
            reader_t targets = *r;
            uint32_t count = read_u32(r);
            for (uint32_t i = 0; i < count && reader_ok(r); i++)
                read_u32(r);
            uint32_t def = read_u32(r);
            if (!reader_ok(r))
                return fail_reader(c, r);
            if (!pop_expect(c, WASM_I32))
                return false;
            const frame_t *l = NULL;
            if (!get_label(c, def, &l))
                return false;
            const wasm_valtype_t *def_types;
            uint32_t arity;
            label_types(l, &def_types, &arity);

            read_u32(&targets);
            const wasm_valtype_t *checked = NULL;
            for (uint32_t i = 0; i < count; i++) {
                uint32_t depth = read_u32(&targets);
                if (!get_label(c, depth, &l))
                    return false;
                const wasm_valtype_t *types;
                uint32_t n;
                label_types(l, &types, &n);
                if (n != arity)
                    return fail(c,
                                "type mismatch: br_table label %u has %u value(s), default "
                                "label %u has %u",
                                depth, n, def, arity);
                /* Labels sharing a type sequence need checking only once. */
                if (types != checked) {
                    if (!peek_vals(c, types, n))
                        return false;
                    checked = types;
                }
            }
            if (!pop_vals(c, def_types, arity))
                return false;
            set_unreachable(c);
            break;
        }

        case WASM_OP_RETURN: {
            const frame_t *fn = &c->ctrls.data[0];
            if (!pop_vals(c, fn->results, fn->nresults))
                return false;
            set_unreachable(c);
            break;
        }

        case WASM_OP_CALL: {
            uint32_t fi = read_u32(r);
            if (!reader_ok(r))
                return fail_reader(c, r);
            if (fi >= c->nfuncs)
                return fail(c, "unknown function %u", fi);
            const wasm_functype_t *t = &m->types[func_type_index(m, fi)];
            if (!pop_vals(c, t->params, t->nparams) || !push_vals(c, t->results, t->nresults))
                return false;
            break;
        }

        case WASM_OP_RETURN_CALL:
        case WASM_OP_RETURN_CALL_INDIRECT: {
            if (!(m->features & WASM_FEATURE_TAIL_CALL))
                return fail(c, "%s", wasm_proposal_opcode(0, wasm_opinfo[op].code));
            uint32_t ti, table = 0;
            const wasm_functype_t *t;
            if (op == WASM_OP_RETURN_CALL) {
                uint32_t fi = read_u32(r);
                if (!reader_ok(r))
                    return fail_reader(c, r);
                if (fi >= c->nfuncs)
                    return fail(c, "unknown function %u", fi);
                t = &m->types[func_type_index(m, fi)];
            } else {
                ti = read_u32(r);
                table = read_u32(r);
                if (!reader_ok(r))
                    return fail_reader(c, r);
                if (!need_table(c, table))
                    return false;
                wasm_valtype_t et = table_type(m, table)->elem;
                if (!wasm_valtype_sub(et, WASM_FUNCREF))
                    return fail(c, "type mismatch: return_call_indirect through %s table %u",
                                type_name(et), table);
                if (ti >= m->ntypes)
                    return fail(c, "unknown type %u", ti);
                t = &m->types[ti];
                if (!pop_expect(c, table_index_type(m, table)))
                    return false;
            }
            /* The callee's results are this function's. */
            const frame_t *fn = &c->ctrls.data[0];
            if (!results_match(t->results, t->nresults, fn->results, fn->nresults))
                return fail(c, "type mismatch: %s callee's results differ from the function's",
                            wasm_opinfo[op].name);
            if (!pop_vals(c, t->params, t->nparams))
                return false;
            set_unreachable(c);
            break;
        }

        case WASM_OP_CALL_INDIRECT: {
            uint32_t ti = read_u32(r);
            uint32_t table = read_u32(r);
            if (!reader_ok(r))
                return fail_reader(c, r);
            if (!need_table(c, table))
                return false;
            wasm_valtype_t et = table_type(m, table)->elem;
            if (!wasm_valtype_sub(et, WASM_FUNCREF))
                return fail(c, "type mismatch: call_indirect through %s table %u",
                            type_name(et), table);
            if (ti >= m->ntypes)
                return fail(c, "unknown type %u", ti);
            const wasm_functype_t *t = &m->types[ti];
            if (!pop_expect(c, table_index_type(m, table)) ||
                !pop_vals(c, t->params, t->nparams) || !push_vals(c, t->results, t->nresults))
                return false;
            break;
        }

        case WASM_OP_DROP: {
            wasm_valtype_t t = T_UNKNOWN;
            if (!pop_any(c, &t, "a value"))
                return false;
            break;
        }

        case WASM_OP_SELECT: {
            wasm_valtype_t t1 = T_UNKNOWN, t2 = T_UNKNOWN;
            if (!pop_expect(c, WASM_I32) || !pop_any(c, &t1, "a value") ||
                !pop_any(c, &t2, "a value"))
                return false;
            /* Untyped select is for numeric and vector operands only, so
             * that a compiler knows the operand size without types. */
            if (!(is_num(t1) && is_num(t2)) && !(is_vec(t1) && is_vec(t2))) {
                wasm_valtype_t bad = (is_num(t1) || is_vec(t1)) ? t2 : t1;
                if (bad == T_UNKNOWN || is_num(bad) || is_vec(bad))
                    return mismatch(c, t1, t2);
                return fail(c, "type mismatch: select without type annotation on %s operand",
                            type_name(bad));
            }
            if (t1 != t2 && t1 != T_UNKNOWN && t2 != T_UNKNOWN)
                return mismatch(c, t1, t2);
            if (!push_val(c, t1 == T_UNKNOWN ? t2 : t1))
                return false;
            break;
        }

        case WASM_OP_SELECT_T: {
            uint32_t n = read_u32(r);
            if (!reader_ok(r))
                return fail_reader(c, r);
            if (n != 1)
                return fail(c, "invalid result arity: select has %u types, expected 1", n);
            wasm_valtype_t t;
            if (!read_code_valtype(c, r, &t))
                return false;
            if (!pop_expect(c, WASM_I32) || !pop_expect(c, t) || !pop_expect(c, t) ||
                !push_val(c, t))
                return false;
            break;
        }

        case WASM_OP_LOCAL_GET:
        case WASM_OP_LOCAL_SET:
        case WASM_OP_LOCAL_TEE: {
            uint32_t idx = read_u32(r);
            if (!reader_ok(r))
                return fail_reader(c, r);
            wasm_valtype_t t = local_type(c, idx);
            if (t == T_UNKNOWN)
                return fail(c, "unknown local %u", idx);
            if (op != WASM_OP_LOCAL_GET && !pop_expect(c, t))
                return false;
            if (c->track_init && !local_init_check(c, idx, op == WASM_OP_LOCAL_GET))
                return false;
            if (op != WASM_OP_LOCAL_SET && !push_val(c, t))
                return false;
            break;
        }

        case WASM_OP_GLOBAL_GET:
        case WASM_OP_GLOBAL_SET: {
            uint32_t idx = read_u32(r);
            if (!reader_ok(r))
                return fail_reader(c, r);
            if (idx >= c->nglobals)
                return fail(c, "unknown global %u", idx);
            const wasm_globaltype_t *g = global_type(m, idx);
            if (op == WASM_OP_GLOBAL_GET) {
                if (!push_val(c, g->type))
                    return false;
            } else {
                if (!g->is_mutable)
                    return fail(c, "global is immutable: global.set of global %u", idx);
                if (!pop_expect(c, g->type))
                    return false;
            }
            break;
        }

        case WASM_OP_TABLE_GET:
        case WASM_OP_TABLE_SET:
        case WASM_OP_TABLE_GROW:
        case WASM_OP_TABLE_FILL: {
            uint32_t table = read_u32(r);
            if (!reader_ok(r))
                return fail_reader(c, r);
            if (!need_table(c, table))
                return false;
            wasm_valtype_t et = table_type(m, table)->elem;
            wasm_valtype_t it = table_index_type(m, table); /* indices, sizes */
            bool ok;
            switch (op) {
            case WASM_OP_TABLE_GET: ok = pop_expect(c, it) && push_val(c, et); break;
            case WASM_OP_TABLE_SET: ok = pop_expect(c, et) && pop_expect(c, it); break;
            case WASM_OP_TABLE_GROW:
                ok = pop_expect(c, it) && pop_expect(c, et) && push_val(c, it);
                break;
            default: /* table.fill: index, value, count */
                ok = pop_expect(c, it) && pop_expect(c, et) && pop_expect(c, it);
                break;
            }
            if (!ok)
                return false;
            break;
        }

        case WASM_OP_REF_IS_NULL: {
            wasm_valtype_t t = T_UNKNOWN;
            if (!pop_any(c, &t, "a reference"))
                return false;
            if (t != T_UNKNOWN && !wasm_is_reftype(t))
                return fail(c, "type mismatch: expected a reference, found %s", type_name(t));
            if (!push_val(c, WASM_I32))
                return false;
            break;
        }

        case WASM_OP_THROW:
        case WASM_OP_THROW_REF:
        case WASM_OP_TRY_TABLE:
        case WASM_OP_TRY:
        case WASM_OP_CATCH:
        case WASM_OP_CATCH_ALL:
        case WASM_OP_DELEGATE:
        case WASM_OP_RETHROW:
            if (!validate_exn_instr(c, r, op, op_offset))
                return false;
            break;

        default:
            /* Every op of opcodes.h without a signature is handled above. */
            return fail(c, "internal error: no validation rule for %s", wasm_opinfo[op].name);
        }
    }
}

static bool validate_func(vctx_t *c, uint32_t defined_index)
{
    const wasm_module_t *m = c->m;
    const wasm_func_t *f = &m->funcs[defined_index];
    set_loc(c, LOC_FUNC, m->nfunc_imports + defined_index, f->body_offset);
    c->ftype = &m->types[f->type];
    if (!setup_locals(c, f))
        return false;

    c->vals.len = 0;
    c->ctrls.len = 0;
    if (!push_ctrl(c, FRAME_FUNC, NULL, 0, c->ftype->results, c->ftype->nresults))
        return false;
    reader_t r;
    reader_init(&r, m->bytes, f->code, f->code_end);
    return validate_code(c, &r);
}

#include "validate_module.inc"

whirl_error_t *wasm_validate(const wasm_module_t *m)
{
    vctx_t c;
    memset(&c, 0, sizeof c);
    c.m = m;
    c.nfuncs = m->nfunc_imports + m->nfuncs;
    c.ntables = m->ntable_imports + m->ntables;
    c.nmems = m->nmemory_imports + m->nmemories;
    c.nglobals = m->nglobal_imports + m->nglobals;
    c.loc_offset = SIZE_MAX;

    /* Never NULL from here on, so stack arithmetic needs no special case. */
    bool ok = (vec_reserve(&c.vals, 256) && vec_reserve(&c.ctrls, 16)) || fail_oom(&c);
    ok = ok && validate_module_fields(&c) && collect_declared(&c);
    for (uint32_t i = 0; ok && i < m->nfuncs; i++)
        ok = validate_func(&c, i);

    whirl_error_t *err = ok ? NULL : make_error(&c);
    free(c.declared);
    vec_free(&c.vals);
    vec_free(&c.ctrls);
    vec_free(&c.run_ends);
    vec_free(&c.locals);
    vec_free(&c.local_set);
    vec_free(&c.inits);
    free(c.concrete_one);
    return err;
}
