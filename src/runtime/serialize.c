/* Serialised modules: the decoded module and its compiled code written out
 * (whirl_module_serialize) and read back without decoding, validating or
 * compiling (whirl_module_deserialize), for `whirl compile` and the
 * compilation cache. The header is described in serialize.h and checked
 * in serialize_header.c.
 *
 * The payload is read in place: the file is loaded (or mapped) into one
 * image and strings, data segments and source maps point into it, so a
 * load touches each byte about twice (read and checksum) and allocates
 * little besides the module's small tables and its code. Code holds no
 * pointers (functions and types are named by index), but the file stores
 * op numbers and the interpreter runs handler offsets, so the code words
 * are copied out and rewritten once (exec_code_from_ops: one more pass
 * over them, and the reason a rebuilt interpreter still reads the file).
 *
 * Trust: a precompiled module is code. Its instructions are not checked
 * beyond each one starting with a valid op and fitting in its function
 * (that would need the compiler's knowledge), so only files this engine
 * produced should be loaded, as with wasmtime's precompiled modules. What
 * is guarded against is accident: a file from another build or config is
 * refused by its header, any flipped bit by the checksum, and even a file
 * whose checksum was made to match cannot make the loader read or write
 * outside the image: every count, length, index and offset is checked
 * before use.
 *
 * Payload, in order (integers little-endian; "str" is u32 length, the
 * bytes and a NUL; "blob" is u32 length and the bytes; "expr" is a
 * constant expression: u32 count, u64 offset, then per instruction u16 op
 * and 16 immediate bytes; "limits" is u64 min, u64 max, u8 has_max):
 *
 *   source hash[32]  XXH3-128 of the original binary, zero-padded (zeros: unknown)
 *   types            u32 n; each u32 nparams, u32 nresults, u32 canonical,
 *                    the param and result value types (u32 each, as
 *                    reftypes.h packs them: canonical type indices)
 *   imports          u32 n; each str module, str name, u8 kind, then u32
 *                    type | u32 elem + limits | limits | u32 type + u8 mutable
 *   functions        u32 n; each u32 type, u64 body offset, u32 code start
 *                    (bytes from the body offset to its instructions), u32
 *                    code length, u32 runs, then per run u32 count + u32
 *                    type
 *   tables           u32 n; each u32 elem + limits + u8 has_init [+ expr]
 *   memories         u32 n; each limits
 *   globals          u32 n; each u32 type, u8 mutable, expr
 *   exports          u32 n; each str name, u8 kind, u32 index
 *   start            u8 present, u32 index
 *   elements         u32 n; each u8 mode, u32 type, u32 table, expr offset,
 *                    u64 section offset, u32 count, count exprs
 *   data count       u8 present, u32 count
 *   data             u32 n; each u8 mode, u32 memory, expr offset, u64
 *                    section offset, blob
 *   customs          u32 n; each str name, blob
 *   names            u8 present + str (module name); u8 present, then per
 *                    function (imports first) u8 present + str
 *   code             u32 n, u32 flags (bit 0: some function tail-calls);
 *                    each u32 param, result, local and frame slots, u32
 *                    code words, source map entries, exception handlers
 *                    and loop entries; then, each aligned to 8 bytes of
 *                    the file: the code words, the source maps (u32 pc,
 *                    u32 offset), the handlers and the loop entries (u32
 *                    pc, u32 byte offset of the `loop`: where the auto
 *                    tier may move a running frame into native code)
 *   bodies           u8 present; then u64 length and, aligned to 8 bytes
 *                    of the file, the binary's first `length` bytes,
 *                    through its code section (every function body)
 *   native           u8 present; then str key (jit_native_key: target,
 *                    CPU, CPU features, LLVM version, whirl build id), u64
 *                    length and, aligned to 16 bytes of the file, the
 *                    relocatable object (jit_object.c) holding every
 *                    function the LLVM tier compiled
 *
 * Native code is linked at load (ORC), never compiled: its key must match
 * this process's exactly, or the load is refused naming what differs (a
 * file compiled on another CPU or by another build). A build without the
 * LLVM tier skips it and interprets (the interpreter's code is complete).
 * An engine with tier=interp skips it too.
 *
 * Function bodies (format 7) are what the LLVM tier translates: a module
 * loaded with them tiers up under `auto` (and compiles under `jit`) as a
 * freshly compiled one does; without them it stays interpreted unless it
 * brought native code. They come from one of two places, never both: a
 * file written by whirl_module_serialize (`whirl compile`) holds them in
 * its `bodies` part unless it holds native code (then every function the
 * tier can compile is native already, and bodies would be dead weight); a
 * compilation cache entry keeps the whole binary after the payload anyway
 * (its trailer, cache.c), so its payload leaves them out and the loader
 * takes them from the trailer (module_image_t.source). Either way the
 * module's `bytes` point into the image, where the bodies lie at their
 * offsets in the binary, as the translator and backtraces expect.
 *
 * A file of 1 MiB or more is mapped read-only (MAP_PRIVATE) instead of
 * read: the module uses the page cache's pages in place, shared between
 * processes. Truncating such a file while a module uses it would fault on
 * access (SIGBUS); whirl only ever replaces files by rename. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>
#if defined(__x86_64__)
/* The same hash through the library's AVX2/AVX-512 code where the CPU has
 * it (chosen at run time): twice as fast on the checksum of a load. */
#include <xxh_x86dispatch.h>
#endif

#include "cache/cache.h"
#include "compile/ops.h"
#include "exec/exec.h"
#include "runtime/internal.h"
#include "runtime/serialize.h"
#include "wasm/opcodes.h"

/* The code part's flags (see the top). */
#define SERIAL_CODE_TAIL_CALLS 1u
/* u32 words of each compiled function's head in the code part. */
#define CODE_HEAD_WORDS 8

/* ---- writing ---- */

typedef struct wbuf {
    uint8_t *p;
    size_t len, cap;
    bool oom;
} wbuf_t;

static uint8_t *w_space(wbuf_t *w, size_t n)
{
    if (w->oom)
        return NULL;
    if (n > w->cap - w->len) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap - w->len < n) {
            if (cap > SIZE_MAX / 2) {
                w->oom = true;
                return NULL;
            }
            cap *= 2;
        }
        uint8_t *p = realloc(w->p, cap);
        if (!p) {
            w->oom = true;
            return NULL;
        }
        w->p = p;
        w->cap = cap;
    }
    uint8_t *at = w->p + w->len;
    w->len += n;
    return at;
}

static void w_raw(wbuf_t *w, const void *src, size_t n)
{
    uint8_t *p = w_space(w, n);
    if (p && n)
        memcpy(p, src, n);
}

static void w_u8(wbuf_t *w, uint8_t v) { w_raw(w, &v, 1); }
static void w_u16(wbuf_t *w, uint16_t v) { w_raw(w, &v, 2); }
static void w_u32(wbuf_t *w, uint32_t v) { w_raw(w, &v, 4); }
static void w_u64(wbuf_t *w, uint64_t v) { w_raw(w, &v, 8); }

static void w_align(wbuf_t *w)
{
    static const uint8_t zeros[8];
    if (w->len % 8)
        w_raw(w, zeros, 8 - w->len % 8);
}

static void w_str(wbuf_t *w, const char *s, uint32_t len)
{
    w_u32(w, len);
    w_raw(w, s, len);
    w_u8(w, 0);
}

static void w_blob(wbuf_t *w, const uint8_t *data, uint32_t len)
{
    w_u32(w, len);
    w_raw(w, data, len);
}

static void w_limits(wbuf_t *w, const wasm_limits_t *l)
{
    w_u64(w, l->min);
    w_u64(w, l->max);
    /* Bit 1: a 64-bit memory or table (memory64), bit 2 a shared memory (threads);
     * files without them read as before. */
    w_u8(w, (uint8_t)(l->has_max | l->is64 << 1 | l->shared << 2));
}

static void w_expr(wbuf_t *w, const wasm_const_expr_t *e)
{
    w_u32(w, e->count);
    w_u64(w, e->offset);
    for (uint32_t i = 0; i < e->count; i++) {
        w_u16(w, e->instrs[i].op);
        /* The whole union: every member fits in 16 bytes, and the decoder's
         * arena hands out zeroed memory, so unused bytes are zeros. */
        uint8_t imm[16];
        memcpy(imm, &e->instrs[i].imm, sizeof imm);
        w_raw(w, imm, sizeof imm);
    }
}

static void w_import(wbuf_t *w, const wasm_import_t *imp)
{
    w_str(w, imp->module, imp->module_len);
    w_str(w, imp->name, imp->name_len);
    w_u8(w, (uint8_t)imp->kind);
    switch (imp->kind) {
    case WASM_EXTERN_FUNC: w_u32(w, imp->desc.func_type); break;
    case WASM_EXTERN_TABLE:
        w_u32(w, imp->desc.table.elem);
        w_limits(w, &imp->desc.table.limits);
        break;
    case WASM_EXTERN_MEMORY: w_limits(w, &imp->desc.memory.limits); break;
    case WASM_EXTERN_GLOBAL:
        w_u32(w, imp->desc.global.type);
        w_u8(w, imp->desc.global.is_mutable);
        break;
    case WASM_EXTERN_TAG: w_u32(w, imp->desc.tag_type); break;
    }
}

static void w_module(wbuf_t *w, const wasm_module_t *m)
{
    w_u32(w, m->ntypes);
    for (uint32_t i = 0; i < m->ntypes; i++) {
        const wasm_functype_t *t = &m->types[i];
        w_u32(w, t->nparams);
        w_u32(w, t->nresults);
        w_u32(w, t->canonical);
        for (uint32_t k = 0; k < t->nparams; k++)
            w_u32(w, t->params[k]);
        for (uint32_t k = 0; k < t->nresults; k++)
            w_u32(w, t->results[k]);
    }
    w_u32(w, m->nimports);
    for (uint32_t i = 0; i < m->nimports; i++)
        w_import(w, &m->imports[i]);
    w_u32(w, m->ntags);
    w_raw(w, m->tags, (size_t)m->ntags * sizeof *m->tags);
    w_u32(w, m->nfuncs);
    for (uint32_t i = 0; i < m->nfuncs; i++) {
        const wasm_func_t *f = &m->funcs[i];
        w_u32(w, f->type);
        w_u64(w, f->body_offset);
        w_u32(w, (uint32_t)(f->code_offset - f->body_offset));
        w_u32(w, f->code_len);
        w_u32(w, f->nlocal_runs);
        for (uint32_t j = 0; j < f->nlocal_runs; j++) {
            w_u32(w, f->local_runs[j].count);
            w_u32(w, f->local_runs[j].type);
        }
    }
    w_u32(w, m->ntables);
    for (uint32_t i = 0; i < m->ntables; i++) {
        w_u32(w, m->tables[i].elem);
        w_limits(w, &m->tables[i].limits);
        w_u8(w, m->tables[i].has_init);
        if (m->tables[i].has_init)
            w_expr(w, m->tables[i].init);
    }
    w_u32(w, m->nmemories);
    for (uint32_t i = 0; i < m->nmemories; i++)
        w_limits(w, &m->memories[i].limits);
    w_u32(w, m->nglobals);
    for (uint32_t i = 0; i < m->nglobals; i++) {
        w_u32(w, m->globals[i].type);
        w_u8(w, m->globals[i].is_mutable);
        w_expr(w, &m->global_inits[i]);
    }
    w_u32(w, m->nexports);
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wasm_export_t *e = &m->exports[i];
        w_str(w, e->name, e->name_len);
        w_u8(w, (uint8_t)e->kind);
        w_u32(w, e->index);
    }
    w_u8(w, m->has_start);
    w_u32(w, m->start);
    w_u32(w, m->nelems);
    for (uint32_t i = 0; i < m->nelems; i++) {
        const wasm_elem_t *e = &m->elems[i];
        w_u8(w, (uint8_t)e->mode);
        w_u32(w, e->type);
        w_u32(w, e->table);
        w_expr(w, &e->offset);
        w_u64(w, e->section_offset);
        w_u32(w, e->count);
        for (uint32_t j = 0; j < e->count; j++)
            w_expr(w, &e->items[j]);
    }
    w_u8(w, m->has_data_count);
    w_u32(w, m->data_count);
    w_u32(w, m->ndatas);
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const wasm_data_t *d = &m->datas[i];
        w_u8(w, (uint8_t)d->mode);
        w_u32(w, d->memory);
        w_expr(w, &d->offset);
        w_u64(w, d->section_offset);
        w_blob(w, d->bytes, d->len);
    }
    w_u32(w, m->ncustoms);
    for (uint32_t i = 0; i < m->ncustoms; i++) {
        w_str(w, m->customs[i].name, m->customs[i].name_len);
        w_blob(w, m->customs[i].data, m->customs[i].len);
    }
    w_u8(w, m->module_name != NULL);
    if (m->module_name)
        w_str(w, m->module_name, (uint32_t)strlen(m->module_name));
    w_u8(w, m->func_names != NULL);
    if (m->func_names) {
        uint32_t n = wasm_module_func_count(m);
        for (uint32_t i = 0; i < n; i++) {
            const char *s = m->func_names[i];
            w_u8(w, s != NULL);
            if (s)
                w_str(w, s, (uint32_t)strlen(s));
        }
    }
}

/* The compiled functions: their layouts, then all their code and source
 * maps each in one run. Code holds no pointers (code.h); it is written with
 * op numbers, as the compiler made it, not in the interpreter's dispatch
 * form, which depends on the build. */
static whirl_error_t *w_code(wbuf_t *w, const compiled_module_t *cm)
{
    w_u32(w, cm->nfuncs);
    w_u32(w, cm->tail_calls ? SERIAL_CODE_TAIL_CALLS : 0);
    for (uint32_t i = 0; i < cm->nfuncs; i++) {
        const compiled_func_t *f = &cm->funcs[i];
        uint32_t head[CODE_HEAD_WORDS] = {f->param_slots, f->result_slots, f->local_slots,
                                          f->frame_slots,  f->code_len,     f->nsrcmap,
                                          f->nhandlers,    f->nosr_loops};
        w_raw(w, head, sizeof head);
    }
    w_align(w);
    for (uint32_t i = 0; i < cm->nfuncs; i++) {
        const compiled_func_t *f = &cm->funcs[i];
        code_word_t *words = (code_word_t *)w_space(w, (size_t)f->code_len * sizeof(code_word_t));
        if (words) {
            memcpy(words, f->code, (size_t)f->code_len * sizeof(code_word_t));
            exec_code_to_ops(words, f->code_len);
        }
    }
    w_align(w);
    for (uint32_t i = 0; i < cm->nfuncs; i++)
        w_raw(w, cm->funcs[i].srcmap, (size_t)cm->funcs[i].nsrcmap * sizeof(code_srcmap_t));
    w_align(w);
    for (uint32_t i = 0; i < cm->nfuncs; i++)
        w_raw(w, cm->funcs[i].handlers,
              (size_t)cm->funcs[i].nhandlers * sizeof(code_handler_t));
    w_align(w);
    for (uint32_t i = 0; i < cm->nfuncs; i++)
        w_raw(w, cm->funcs[i].osr_loops, (size_t)cm->funcs[i].nosr_loops * 2 * sizeof(uint32_t));
    return NULL;
}

/* The binary's first bytes through the end of its code section (see the
 * top), when asked for and the module has them: the last body ends the
 * code section. */
static void w_bodies(wbuf_t *w, const whirl_module_t *module, bool bodies)
{
    const wasm_module_t *m = module->wasm;
    bool all = bodies && m->bytes && m->nfuncs && !module->native_object;
    for (uint32_t i = 0; all && i < m->nfuncs; i++)
        all = m->funcs[i].code != NULL;
    if (!all) {
        w_u8(w, 0);
        return;
    }
    uint64_t len = (uint64_t)(m->funcs[m->nfuncs - 1].code_end - m->bytes);
    w_u8(w, 1);
    w_u64(w, len);
    w_align(w);
    w_raw(w, m->bytes, (size_t)len);
}

/* The native section (see the top): the module's object, if it has one. */
static void w_native(wbuf_t *w, const whirl_module_t *module)
{
    char *key = module->native_object ? module_native_key() : NULL;
    if (!key) {
        w_u8(w, 0);
        return;
    }
    w_u8(w, 1);
    w_str(w, key, (uint32_t)strlen(key));
    free(key);
    w_u64(w, module->native_object_len);
    static const uint8_t zeros[16];
    if (w->len % 16)
        w_raw(w, zeros, 16 - w->len % 16);
    w_raw(w, module->native_object, module->native_object_len);
}

whirl_error_t *serial_write(const whirl_module_t *module, bool bodies, uint8_t **out,
                            size_t *out_len)
{
    const wasm_module_t *m = module->wasm;
    wbuf_t w = {0};
    w_space(&w, SERIAL_HEADER_SIZE); /* filled in last */
    uint8_t source[32];
    memcpy(source, module_source_hash(module), 32);
    static const uint8_t unknown[32];
    if (memcmp(source, unknown, 32) == 0 && m->bytes && !m->bytes_borrowed)
        cache_source_digest(m->bytes, m->len, source);
    w_raw(&w, source, 32);
    w_module(&w, m);
    w_align(&w);
    whirl_error_t *err = w_code(&w, module->code);
    w_bodies(&w, module, bodies);
    w_native(&w, module);
    if (!err && w.oom)
        err = error_oom();
    if (err) {
        free(w.p);
        return err;
    }
    uint8_t *h = w.p;
    uint64_t payload_len = w.len - SERIAL_HEADER_SIZE;
    memset(h, 0, SERIAL_HEADER_SIZE);
    memcpy(h, SERIAL_MAGIC, SERIAL_MAGIC_LEN);
    uint32_t v32 = SERIAL_FORMAT_VERSION;
    memcpy(h + 8, &v32, 4);
    v32 = SERIAL_HEADER_SIZE;
    memcpy(h + 12, &v32, 4);
    memcpy(h + 16, WHIRL_VERSION, strlen(WHIRL_VERSION) < 16 ? strlen(WHIRL_VERSION) : 15);
    uint64_t v64 = serial_build_fingerprint(module->engine);
    memcpy(h + 32, &v64, 8);
    v32 = serial_code_flags(module->engine);
    memcpy(h + 40, &v32, 4);
    memcpy(h + 48, &payload_len, 8);
    v64 = XXH3_64bits(h + SERIAL_HEADER_SIZE, payload_len);
    memcpy(h + 56, &v64, 8);
    *out = w.p;
    *out_len = w.len;
    return NULL;
}

/* ---- reading ---- */

typedef struct rd {
    uint8_t *base;   /* the file: header, then payload */
    size_t pos, end; /* offsets in base */
    bool bad, oom;
    const char *what;     /* the part being read, for the error */
    uint32_t ntypes;      /* types read so far (concrete references name them) */
    uint32_t index;       /* and which one */
    const char *bad_what; /* `what` and `index` at the first failure (later */
    uint32_t bad_index;   /* parts set their own before checking `bad`) */
    char why[160];
} rd_t;

__attribute__((format(printf, 2, 3)))
static bool r_fail(rd_t *r, const char *fmt, ...)
{
    if (!r->bad) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->why, sizeof r->why, fmt, ap);
        va_end(ap);
        r->bad = true;
        r->bad_what = r->what;
        r->bad_index = r->index;
    }
    return false;
}

/* `n` bytes at the cursor, or NULL (and the reader failed) past the end. */
static uint8_t *r_take(rd_t *r, size_t n)
{
    if (r->bad)
        return NULL;
    if (n > r->end - r->pos) {
        r_fail(r, "needs %zu bytes at offset %zu, the file ends at %zu", n, r->pos, r->end);
        return NULL;
    }
    uint8_t *p = r->base + r->pos;
    r->pos += n;
    return p;
}

static uint8_t r_u8(rd_t *r)
{
    uint8_t *p = r_take(r, 1);
    return p ? *p : 0;
}
static uint16_t r_u16(rd_t *r)
{
    uint8_t *p = r_take(r, 2);
    uint16_t v = 0;
    if (p)
        memcpy(&v, p, 2);
    return v;
}
static uint32_t r_u32(rd_t *r)
{
    uint8_t *p = r_take(r, 4);
    return p ? serial_rd32(p) : 0;
}
static uint64_t r_u64(rd_t *r)
{
    uint8_t *p = r_take(r, 8);
    return p ? serial_rd64(p) : 0;
}

static bool r_bool(rd_t *r)
{
    uint8_t v = r_u8(r);
    if (v > 1)
        r_fail(r, "flag byte %u at offset %zu", v, r->pos - 1);
    return v == 1;
}

static void r_align(rd_t *r)
{
    if (r->pos % 8)
        r_take(r, 8 - r->pos % 8);
}

/* A count of items taking at least `min_size` bytes each: refused if the
 * rest of the file cannot hold them, so a corrupt count cannot make the
 * reader allocate gigabytes. */
static uint32_t r_count(rd_t *r, size_t min_size)
{
    uint32_t n = r_u32(r);
    if (!r->bad && (uint64_t)n * min_size > r->end - r->pos) {
        r_fail(r, "count %u at offset %zu exceeds the file", n, r->pos - 4);
        return 0;
    }
    return n;
}

static const char *r_str(rd_t *r, uint32_t *len_out)
{
    uint32_t len = r_u32(r);
    uint8_t *p = r_take(r, (size_t)len + 1);
    if (!p)
        return NULL;
    if (p[len] != 0) {
        r_fail(r, "string at offset %zu is not terminated", r->pos - len - 1);
        return NULL;
    }
    if (len_out)
        *len_out = len;
    return (const char *)p;
}

static const uint8_t *r_blob(rd_t *r, uint32_t *len_out)
{
    uint32_t len = r_u32(r);
    uint8_t *p = r_take(r, len);
    *len_out = p ? len : 0;
    return p;
}

static bool valtype_ok(wasm_valtype_t t, uint32_t ntypes)
{
    if (t == WASM_I32 || t == WASM_I64 || t == WASM_F32 || t == WASM_F64 || t == WASM_V128)
        return true;
    if (wasm_ref_is_concrete(t))
        return wasm_ref_typeidx(t) < ntypes;
    return wasm_is_reftype(t) && t < 0x200;
}

static wasm_valtype_t r_valtype(rd_t *r)
{
    wasm_valtype_t t = r_u32(r);
    if (!r->bad && !valtype_ok(t, r->ntypes))
        r_fail(r, "value type 0x%x at offset %zu", t, r->pos - 4);
    return t;
}

static wasm_valtype_t r_reftype(rd_t *r)
{
    wasm_valtype_t t = r_valtype(r);
    if (!r->bad && !wasm_is_reftype(t))
        r_fail(r, "reference type 0x%x at offset %zu", t, r->pos - 4);
    return t;
}

/* `cap` bounds 32-bit limits, `cap64` those of a 64-bit memory or table. */
static void r_limits(rd_t *r, wasm_limits_t *l, uint64_t cap, uint64_t cap64)
{
    l->min = r_u64(r);
    l->max = r_u64(r);
    uint8_t flags = r_u8(r);
    if (flags > 7 || (flags & 5) == 4) /* shared needs a maximum */
        r_fail(r, "limits flags 0x%x", flags);
    l->has_max = flags & 1;
    l->is64 = (flags >> 1) & 1;
    l->shared = (flags >> 2) & 1;
    if (l->is64)
        cap = cap64;
    if (!r->bad && (l->min > cap || (l->has_max && (l->max < l->min || l->max > cap))))
        r_fail(r, "limits %llu..%llu", (unsigned long long)l->min, (unsigned long long)l->max);
}

/* The index spaces as far as read so far, for checking references. */
typedef struct spaces {
    uint32_t funcs, tables, memories, globals;
} spaces_t;

static bool const_op_ok(uint16_t op)
{
    switch (op) {
    case WASM_OP_I32_CONST: case WASM_OP_I64_CONST: case WASM_OP_F32_CONST:
    case WASM_OP_F64_CONST: case WASM_OP_V128_CONST: case WASM_OP_REF_NULL:
    case WASM_OP_REF_FUNC: case WASM_OP_GLOBAL_GET: case WASM_OP_I32_ADD:
    case WASM_OP_I32_SUB: case WASM_OP_I32_MUL: case WASM_OP_I64_ADD:
    case WASM_OP_I64_SUB: case WASM_OP_I64_MUL:
        return true;
    default:
        return false;
    }
}

#define EXPR_INSTR_SIZE 18 /* u16 op + 16 bytes */

static void r_expr(rd_t *r, arena_t *a, wasm_const_expr_t *e, const spaces_t *sp)
{
    e->count = r_count(r, EXPR_INSTR_SIZE);
    e->offset = (size_t)r_u64(r);
    if (r->bad)
        return;
    e->instrs = arena_array(a, e->count ? e->count : 1, sizeof *e->instrs);
    if (!e->instrs) {
        r->oom = true;
        r_fail(r, "out of memory");
        return;
    }
    for (uint32_t i = 0; i < e->count && !r->bad; i++) {
        wasm_const_instr_t *in = &e->instrs[i];
        in->op = r_u16(r);
        uint8_t *imm = r_take(r, 16);
        if (!imm)
            return;
        memcpy(&in->imm, imm, 16);
        if (!const_op_ok(in->op))
            r_fail(r, "constant expression at offset %zu: op %u", r->pos - EXPR_INSTR_SIZE,
                   in->op);
        else if (in->op == WASM_OP_REF_FUNC && in->imm.index >= sp->funcs)
            r_fail(r, "ref.func %u of %u functions", in->imm.index, sp->funcs);
        else if (in->op == WASM_OP_GLOBAL_GET && in->imm.index >= sp->globals)
            r_fail(r, "global.get %u of %u globals", in->imm.index, sp->globals);
        else if (in->op == WASM_OP_REF_NULL && (!wasm_is_reftype(in->imm.reftype) ||
                                                !valtype_ok(in->imm.reftype, r->ntypes)))
            r_fail(r, "ref.null of type 0x%x", in->imm.reftype);
    }
}

/* Sums of the slots of `n` value types. */
static uint32_t slots_sum(const wasm_valtype_t *t, uint32_t n)
{
    uint32_t s = 0;
    for (uint32_t i = 0; i < n; i++)
        s += slots_of(t[i]);
    return s;
}

#define ALLOC_ARRAY(r, a, ptr, n) \
    do { \
        (ptr) = arena_array((a), (n) ? (n) : 1, sizeof *(ptr)); \
        if (!(ptr)) { \
            (r)->oom = true; \
            r_fail((r), "out of memory"); \
        } \
    } while (0)

static void r_types(rd_t *r, wasm_module_t *m)
{
    r->what = "types";
    m->ntypes = r_count(r, 12);
    r->ntypes = 0;
    ALLOC_ARRAY(r, &m->arena, m->types, m->ntypes);
    for (uint32_t i = 0; i < m->ntypes && !r->bad; i++) {
        r->index = i;
        wasm_functype_t *t = &m->types[i];
        t->nparams = r_count(r, 1);
        t->nresults = r_count(r, 1);
        t->canonical = r_u32(r);
        t->module_types = m->types;
        t->index = i;
        t->has_concrete = false;
        wasm_valtype_t *v;
        ALLOC_ARRAY(r, &m->arena, v, (size_t)t->nparams + t->nresults);
        if (r->bad)
            return;
        /* A type refers to itself and earlier types only. */
        r->ntypes = i + 1;
        for (uint32_t k = 0; k < t->nparams + t->nresults && !r->bad; k++) {
            v[k] = r_valtype(r);
            t->has_concrete |= wasm_ref_is_concrete(v[k]);
        }
        t->params = v;
        t->results = v + t->nparams;
        if (r->bad)
            return;
        /* The compiler and call_indirect compare canonical types by
         * pointer: the canonical index must name an equal, earlier type
         * that is its own canonical. */
        if (!r->bad && (t->canonical > i || m->types[t->canonical].canonical != t->canonical ||
                        !functype_equal(t, &m->types[t->canonical])))
            r_fail(r, "canonical type %u", t->canonical);
    }
}

/* A tag's type index: a known type without results. */
static uint32_t r_tag_type(rd_t *r, const wasm_module_t *m)
{
    uint32_t t = r_u32(r);
    if (!r->bad && (t >= m->ntypes || m->types[t].nresults))
        r_fail(r, "tag type %u of %u", t, m->ntypes);
    return t;
}

static void r_imports(rd_t *r, wasm_module_t *m)
{
    r->what = "imports";
    m->nimports = r_count(r, 11);
    ALLOC_ARRAY(r, &m->arena, m->imports, m->nimports);
    if (r->bad)
        return;
    for (uint32_t i = 0; i < m->nimports && !r->bad; i++) {
        r->index = i;
        wasm_import_t *imp = &m->imports[i];
        imp->module = r_str(r, &imp->module_len);
        imp->name = r_str(r, &imp->name_len);
        uint8_t kind = r_u8(r);
        switch (kind) {
        case WASM_EXTERN_FUNC:
            imp->desc.func_type = r_u32(r);
            if (!r->bad && imp->desc.func_type >= m->ntypes)
                r_fail(r, "type %u of %u", imp->desc.func_type, m->ntypes);
            m->nfunc_imports++;
            break;
        case WASM_EXTERN_TABLE:
            imp->desc.table.elem = r_reftype(r);
            r_limits(r, &imp->desc.table.limits, UINT32_MAX, UINT64_MAX);
            m->ntable_imports++;
            break;
        case WASM_EXTERN_MEMORY:
            r_limits(r, &imp->desc.memory.limits, MEMORY_MAX_PAGES, 1ull << 48);
            m->nmemory_imports++;
            break;
        case WASM_EXTERN_GLOBAL:
            imp->desc.global.type = r_valtype(r);
            imp->desc.global.is_mutable = r_bool(r);
            m->nglobal_imports++;
            break;
        case WASM_EXTERN_TAG:
            imp->desc.tag_type = r_tag_type(r, m);
            m->ntag_imports++;
            break;
        default:
            r_fail(r, "import kind %u", kind);
            return;
        }
        imp->kind = (wasm_externkind_t)kind;
    }
    if (r->bad)
        return;
    ALLOC_ARRAY(r, &m->arena, m->func_import_ids, m->nfunc_imports);
    ALLOC_ARRAY(r, &m->arena, m->table_import_ids, m->ntable_imports);
    ALLOC_ARRAY(r, &m->arena, m->memory_import_ids, m->nmemory_imports);
    ALLOC_ARRAY(r, &m->arena, m->global_import_ids, m->nglobal_imports);
    ALLOC_ARRAY(r, &m->arena, m->tag_import_ids, m->ntag_imports);
    if (r->bad)
        return;
    uint32_t nf = 0, nt = 0, nm = 0, ng = 0, ntg = 0;
    for (uint32_t i = 0; i < m->nimports; i++) {
        switch (m->imports[i].kind) {
        case WASM_EXTERN_FUNC: m->func_import_ids[nf++] = i; break;
        case WASM_EXTERN_TABLE: m->table_import_ids[nt++] = i; break;
        case WASM_EXTERN_MEMORY: m->memory_import_ids[nm++] = i; break;
        case WASM_EXTERN_GLOBAL: m->global_import_ids[ng++] = i; break;
        case WASM_EXTERN_TAG: m->tag_import_ids[ntg++] = i; break;
        }
    }
    r->what = "tags";
    m->ntags = r_count(r, 4);
    ALLOC_ARRAY(r, &m->arena, m->tags, m->ntags);
    for (uint32_t i = 0; i < m->ntags && !r->bad; i++) {
        r->index = i;
        m->tags[i] = r_tag_type(r, m);
    }
}

static void r_funcs(rd_t *r, wasm_module_t *m)
{
    r->what = "functions";
    m->nfuncs = r_count(r, 24);
    ALLOC_ARRAY(r, &m->arena, m->funcs, m->nfuncs);
    if (!r->bad && (uint64_t)m->nfunc_imports + m->nfuncs > UINT32_MAX)
        r_fail(r, "%u functions", m->nfuncs);
    for (uint32_t i = 0; i < m->nfuncs && !r->bad; i++) {
        r->index = i;
        wasm_func_t *f = &m->funcs[i];
        f->type = r_u32(r);
        f->body_offset = (size_t)r_u64(r);
        uint32_t skip = r_u32(r); /* the size field and local declarations */
        f->code_offset = f->body_offset + skip;
        f->code_len = r_u32(r);
        /* A body holds at least its size, a run count and `end`. */
        if (!r->bad && (skip < 2 || f->code_len == 0 || f->body_offset > SIZE_MAX / 2))
            r_fail(r, "instructions at +%u, %u bytes", skip, f->code_len);
        f->nlocal_runs = r_count(r, 5);
        if (!r->bad && f->type >= m->ntypes)
            r_fail(r, "type %u of %u", f->type, m->ntypes);
        ALLOC_ARRAY(r, &m->arena, f->local_runs, f->nlocal_runs);
        uint64_t nlocals = 0;
        for (uint32_t k = 0; k < f->nlocal_runs && !r->bad; k++) {
            f->local_runs[k].count = r_u32(r);
            f->local_runs[k].type = r_valtype(r);
            nlocals += f->local_runs[k].count;
        }
        /* Slots are counted in 32 bits (v128 locals take two). */
        if (!r->bad && nlocals > UINT32_MAX / 4)
            r_fail(r, "%llu locals", (unsigned long long)nlocals);
        f->nlocals = (uint32_t)nlocals;
    }
}

static void r_globals_etc(rd_t *r, wasm_module_t *m, spaces_t *sp)
{
    /* A table's initialiser sees every function and the imported globals. */
    sp->funcs = m->nfunc_imports + m->nfuncs;
    sp->globals = m->nglobal_imports;
    r->what = "tables";
    m->ntables = r_count(r, 18);
    ALLOC_ARRAY(r, &m->arena, m->tables, m->ntables);
    for (uint32_t i = 0; i < m->ntables && !r->bad; i++) {
        m->tables[i].elem = r_reftype(r);
        r_limits(r, &m->tables[i].limits, UINT32_MAX, UINT64_MAX);
        m->tables[i].has_init = r_u8(r) != 0;
        if (m->tables[i].has_init && !r->bad) {
            ALLOC_ARRAY(r, &m->arena, m->tables[i].init, 1);
            if (!r->bad)
                r_expr(r, &m->arena, m->tables[i].init, sp);
        }
    }
    r->what = "memories";
    m->nmemories = r_count(r, 17);
    ALLOC_ARRAY(r, &m->arena, m->memories, m->nmemories);
    for (uint32_t i = 0; i < m->nmemories && !r->bad; i++)
        r_limits(r, &m->memories[i].limits, MEMORY_MAX_PAGES, 1ull << 48);
    if (r->bad)
        return;
    sp->funcs = m->nfunc_imports + m->nfuncs;
    sp->tables = m->ntable_imports + m->ntables;
    sp->memories = m->nmemory_imports + m->nmemories;
    if (sp->tables < m->ntables || sp->memories < m->nmemories)
        r_fail(r, "too many tables or memories");
    /* A global's initialiser may read only the globals before it (2.0:
     * imported ones; typed function references: defined ones too). */
    sp->globals = m->nglobal_imports;
    r->what = "globals";
    m->nglobals = r_count(r, 14);
    ALLOC_ARRAY(r, &m->arena, m->globals, m->nglobals);
    ALLOC_ARRAY(r, &m->arena, m->global_inits, m->nglobals);
    for (uint32_t i = 0; i < m->nglobals && !r->bad; i++) {
        r->index = i;
        m->globals[i].type = r_valtype(r);
        m->globals[i].is_mutable = r_bool(r);
        sp->globals = m->nglobal_imports + i;
        r_expr(r, &m->arena, &m->global_inits[i], sp);
    }
    if (!r->bad && (uint64_t)m->nglobal_imports + m->nglobals > UINT32_MAX)
        r_fail(r, "%u globals", m->nglobals);
    sp->globals = m->nglobal_imports + m->nglobals;
}

static void r_exports_segments(rd_t *r, wasm_module_t *m, const spaces_t *sp)
{
    r->what = "exports";
    m->nexports = r_count(r, 10);
    ALLOC_ARRAY(r, &m->arena, m->exports, m->nexports);
    for (uint32_t i = 0; i < m->nexports && !r->bad; i++) {
        r->index = i;
        wasm_export_t *e = &m->exports[i];
        e->name = r_str(r, &e->name_len);
        uint8_t kind = r_u8(r);
        e->index = r_u32(r);
        uint32_t limit = kind == WASM_EXTERN_FUNC     ? sp->funcs
                         : kind == WASM_EXTERN_TABLE  ? sp->tables
                         : kind == WASM_EXTERN_MEMORY ? sp->memories
                         : kind == WASM_EXTERN_GLOBAL ? sp->globals
                         : kind == WASM_EXTERN_TAG    ? wasm_module_tag_count(m)
                                                      : 0;
        if (!r->bad && e->index >= limit)
            r_fail(r, "export kind %u index %u", kind, e->index);
        e->kind = (wasm_externkind_t)kind;
    }
    r->what = "start";
    m->has_start = r_bool(r);
    m->start = r_u32(r);
    if (!r->bad && m->has_start) {
        const wasm_functype_t *t =
            m->start < sp->funcs ? wasm_module_func_type(m, m->start) : NULL;
        if (!t || t->nparams || t->nresults)
            r_fail(r, "start function %u", m->start);
    }
    r->what = "element segments";
    m->nelems = r_count(r, 30);
    ALLOC_ARRAY(r, &m->arena, m->elems, m->nelems);
    for (uint32_t i = 0; i < m->nelems && !r->bad; i++) {
        r->index = i;
        wasm_elem_t *e = &m->elems[i];
        uint8_t mode = r_u8(r);
        e->type = r_reftype(r);
        e->table = r_u32(r);
        r_expr(r, &m->arena, &e->offset, sp);
        e->section_offset = (size_t)r_u64(r);
        e->count = r_count(r, 12);
        if (r->bad)
            return;
        if (mode > WASM_SEGMENT_DECLARATIVE ||
            (mode == WASM_SEGMENT_ACTIVE && e->table >= sp->tables)) {
            r_fail(r, "mode %u, table %u", mode, e->table);
            return;
        }
        e->mode = (wasm_segment_mode_t)mode;
        ALLOC_ARRAY(r, &m->arena, e->items, e->count);
        for (uint32_t k = 0; k < e->count && !r->bad; k++)
            r_expr(r, &m->arena, &e->items[k], sp);
    }
    r->what = "data count";
    m->has_data_count = r_bool(r);
    m->data_count = r_u32(r);
    r->what = "data segments";
    m->ndatas = r_count(r, 29);
    if (!r->bad && m->has_data_count && m->data_count != m->ndatas)
        r_fail(r, "data count %u for %u segments", m->data_count, m->ndatas);
    ALLOC_ARRAY(r, &m->arena, m->datas, m->ndatas);
    for (uint32_t i = 0; i < m->ndatas && !r->bad; i++) {
        r->index = i;
        wasm_data_t *d = &m->datas[i];
        uint8_t mode = r_u8(r);
        d->memory = r_u32(r);
        r_expr(r, &m->arena, &d->offset, sp);
        d->section_offset = (size_t)r_u64(r);
        d->bytes = r_blob(r, &d->len);
        if (!r->bad && (mode > WASM_SEGMENT_PASSIVE ||
                        (mode == WASM_SEGMENT_ACTIVE && d->memory >= sp->memories)))
            r_fail(r, "mode %u, memory %u", mode, d->memory);
        d->mode = (wasm_segment_mode_t)mode;
    }
}

static void r_customs_names(rd_t *r, wasm_module_t *m, const spaces_t *sp)
{
    r->what = "custom sections";
    m->ncustoms = r_count(r, 9);
    ALLOC_ARRAY(r, &m->arena, m->customs, m->ncustoms);
    for (uint32_t i = 0; i < m->ncustoms && !r->bad; i++) {
        r->index = i;
        m->customs[i].name = r_str(r, &m->customs[i].name_len);
        m->customs[i].data = r_blob(r, &m->customs[i].len);
    }
    r->what = "names";
    if (r_bool(r))
        m->module_name = r_str(r, NULL);
    if (r_bool(r) && !r->bad) {
        if (sp->funcs > r->end - r->pos) {
            r_fail(r, "%u function names", sp->funcs);
            return;
        }
        const char **names;
        ALLOC_ARRAY(r, &m->arena, names, sp->funcs);
        for (uint32_t i = 0; i < sp->funcs && !r->bad; i++)
            names[i] = r_bool(r) ? r_str(r, NULL) : NULL;
        m->func_names = names;
    }
}

/* The payload checksum, computed while loading so that each byte is
 * hashed while it is in cache from the pass that reads it. `hashed` is
 * the offset up to which the payload has been hashed. */
typedef struct loader {
    rd_t r;
    XXH3_state_t *hash;
    size_t hashed;
    region_t *code; /* where the code words go (the image's) */
} loader_t;

static void hash_upto(loader_t *l, size_t pos)
{
    if (pos > l->hashed) {
        XXH3_64bits_update(l->hash, l->r.base + l->hashed, pos - l->hashed);
        l->hashed = pos;
    }
}

/* Hashing lags the checks by at most this much, so the bytes just checked
 * are still in cache. */
#define HASH_CHUNK (256u << 10)

static void hash_lagging(loader_t *l, size_t pos)
{
    if (pos - l->hashed >= HASH_CHUNK)
        hash_upto(l, pos);
}

/* The compiled functions, checked against the module: their layout must
 * follow from their types, and every source-map entry must lie inside
 * their code. Source maps are used in place, code is copied out. */
static void r_code(loader_t *l, const wasm_module_t *m, compiled_module_t *cm)
{
    rd_t *r = &l->r;
    r->what = "code";
    uint32_t n = r_count(r, CODE_HEAD_WORDS * 4);
    if (!r->bad && n != m->nfuncs) {
        r_fail(r, "%u compiled functions for %u functions", n, m->nfuncs);
        return;
    }
    uint32_t flags = r_u32(r);
    if (!r->bad && (flags & ~SERIAL_CODE_TAIL_CALLS))
        r_fail(r, "flags 0x%x", flags);
    cm->tail_calls = flags & SERIAL_CODE_TAIL_CALLS;
    cm->nfuncs = n;
    ALLOC_ARRAY(r, &cm->arena, cm->funcs, n);
    const uint8_t *heads = r_take(r, (size_t)n * CODE_HEAD_WORDS * 4);
    if (r->bad)
        return;
    uint64_t ncode = 0, nsrcmap = 0, nhandlers = 0, nloops = 0;
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        r->index = i;
        compiled_func_t *f = &cm->funcs[i];
        const wasm_func_t *wf = &m->funcs[i];
        const wasm_functype_t *t = &m->types[m->types[wf->type].canonical];
        const uint8_t *h = heads + (size_t)i * CODE_HEAD_WORDS * 4;
        f->func_index = m->nfunc_imports + i;
        f->type = t;
        f->param_slots = serial_rd32(h);
        f->result_slots = serial_rd32(h + 4);
        f->local_slots = serial_rd32(h + 8);
        f->frame_slots = serial_rd32(h + 12);
        f->code_len = serial_rd32(h + 16);
        f->nsrcmap = serial_rd32(h + 20);
        f->nhandlers = serial_rd32(h + 24);
        f->nosr_loops = serial_rd32(h + 28);
        nhandlers += f->nhandlers;
        nloops += f->nosr_loops;
        uint64_t local_slots = 0;
        for (uint32_t k = 0; k < wf->nlocal_runs; k++)
            local_slots += (uint64_t)wf->local_runs[k].count * slots_of(wf->local_runs[k].type);
        if (f->param_slots != slots_sum(t->params, t->nparams) ||
            f->result_slots != slots_sum(t->results, t->nresults) ||
            f->local_slots != local_slots ||
            (uint64_t)f->param_slots + f->local_slots > f->frame_slots ||
            f->result_slots > f->frame_slots || f->code_len == 0)
            r_fail(r, "frame layout (%u param, %u result, %u local, %u frame slots, %u words) "
                      "does not fit the function's type",
                   f->param_slots, f->result_slots, f->local_slots, f->frame_slots,
                   f->code_len);
        ncode += f->code_len;
        nsrcmap += f->nsrcmap;
    }
    if (r->bad)
        return;
    r->what = "code words";
    r_align(r);
    size_t avail = r->end - r->pos;
    if (ncode > avail / sizeof(code_word_t)) {
        r_fail(r, "%llu code words, %zu bytes left", (unsigned long long)ncode, avail);
        return;
    }
    /* The file holds op numbers; the interpreter runs its dispatch form, so
     * the code is copied out of the file and rewritten once, here. */
    const uint8_t *file_words = r_take(r, (size_t)ncode * sizeof(code_word_t));
    if (r->bad)
        return;
    if (!region_alloc(l->code, (size_t)ncode * sizeof(code_word_t))) {
        r->oom = true;
        r_fail(r, "out of memory");
        return;
    }
    code_word_t *words = l->code->base;
    for (uint32_t i = 0; i < n; i++) {
        compiled_func_t *f = &cm->funcs[i];
        f->code = words;
        if (!exec_code_from_ops(f->code, (const code_word_t *)file_words, f->code_len)) {
            r->index = i;
            r_fail(r, "not a valid instruction sequence");
            return;
        }
        words += f->code_len;
        file_words += (size_t)f->code_len * sizeof(code_word_t);
    }
    hash_lagging(l, r->pos);

    r->what = "source maps";
    r_align(r);
    avail = r->end - r->pos;
    if (nsrcmap > avail / sizeof(code_srcmap_t)) {
        r_fail(r, "%llu entries, %zu bytes left", (unsigned long long)nsrcmap, avail);
        return;
    }
    code_srcmap_t *map = (code_srcmap_t *)r_take(r, (size_t)nsrcmap * sizeof(code_srcmap_t));
    for (uint32_t i = 0; i < n; i++) {
        compiled_func_t *f = &cm->funcs[i];
        f->srcmap = map;
        map += f->nsrcmap;
        /* compiled_func_offset searches the map by pc. */
        for (uint32_t k = 0; k < f->nsrcmap; k++)
            if (f->srcmap[k].pc >= f->code_len ||
                (k && f->srcmap[k].pc < f->srcmap[k - 1].pc)) {
                r->index = i;
                r_fail(r, "entry %u (pc %u) out of order or past %u code words", k,
                       f->srcmap[k].pc, f->code_len);
                return;
            }
        hash_lagging(l, (size_t)((uint8_t *)map - r->base));
    }

    /* Exception handlers: every position, slot and tag they name is checked,
     * since the interpreter trusts them. */
    r->what = "exception handlers";
    r_align(r);
    avail = r->end - r->pos;
    if (nhandlers > avail / sizeof(code_handler_t)) {
        r_fail(r, "%llu handlers, %zu bytes left", (unsigned long long)nhandlers, avail);
        return;
    }
    code_handler_t *hs =
        (code_handler_t *)r_take(r, (size_t)nhandlers * sizeof(code_handler_t));
    uint32_t ntags = wasm_module_tag_count(m);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        compiled_func_t *f = &cm->funcs[i];
        f->handlers = f->nhandlers ? hs : NULL;
        hs += f->nhandlers;
        for (uint32_t k = 0; k < f->nhandlers; k++) {
            const code_handler_t *h = &f->handlers[k];
            bool ok = h->start <= h->end && h->end <= f->code_len && h->kind <= HANDLER_DELEGATE;
            if (ok && h->kind != HANDLER_DELEGATE) {
                uint32_t values = 0;
                if (h->kind == HANDLER_CATCH) {
                    ok = h->tag < ntags;
                    if (ok) {
                        const wasm_functype_t *t = &m->types[wasm_module_tag_type(m, h->tag)];
                        values = slots_sum(t->params, t->nparams);
                    }
                }
                ok = ok && h->target < f->code_len &&
                     (uint64_t)h->slot + values <= f->frame_slots &&
                     (h->exn_slot == HANDLER_NO_SLOT || h->exn_slot < f->frame_slots);
            }
            if (!ok) {
                r->index = i;
                r_fail(r, "handler %u does not fit its function", k);
                return;
            }
        }
        hash_lagging(l, (size_t)((uint8_t *)hs - r->base));
    }
    if (r->bad)
        return;

    /* Loop entries, used in place: the auto tier searches them by pc (in
     * order; nested loops with nothing between them share one), and
     * r_bodies checks their byte offsets against the bodies. */
    r->what = "loop entries";
    r_align(r);
    avail = r->end - r->pos;
    if (nloops > avail / (2 * sizeof(uint32_t))) {
        r_fail(r, "%llu entries, %zu bytes left", (unsigned long long)nloops, avail);
        return;
    }
    uint32_t *loops = (uint32_t *)r_take(r, (size_t)nloops * 2 * sizeof(uint32_t));
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        compiled_func_t *f = &cm->funcs[i];
        f->osr_loops = f->nosr_loops ? loops : NULL;
        loops += (size_t)f->nosr_loops * 2;
        for (uint32_t k = 0; k < f->nosr_loops; k++)
            if (f->osr_loops[2 * k] >= f->code_len ||
                (k && f->osr_loops[2 * k] < f->osr_loops[2 * k - 2])) {
                r->index = i;
                r_fail(r, "entry %u (pc %u) out of order or past %u code words", k,
                       f->osr_loops[2 * k], f->code_len);
                return;
            }
    }
    hash_lagging(l, r->pos);
}

/* The function bodies (see the top): in the file, from the binary the image
 * came with (a cache entry's), or none. Every body must lie inside them and
 * end with `end`, and every loop entry must name a `loop` of its function;
 * then the module's `bytes` and each function's code point into them. */
enum { BINARY_LOOP = 0x03, BINARY_END = 0x0b }; /* opcode bytes in the binary */

static void r_bodies(loader_t *l, wasm_module_t *m, const compiled_module_t *cm,
                     const module_image_t *image)
{
    rd_t *r = &l->r;
    r->what = "function bodies";
    r->index = 0;
    const uint8_t *bytes = NULL;
    uint64_t len = 0;
    if (r_bool(r)) {
        len = r_u64(r);
        r_align(r);
        if (!r->bad && len > r->end - r->pos) {
            r_fail(r, "%llu bytes, %zu left", (unsigned long long)len, r->end - r->pos);
            return;
        }
        bytes = r_take(r, (size_t)len);
        hash_lagging(l, r->pos);
        if (!r->bad && !m->nfuncs)
            r_fail(r, "bodies of a module without functions");
    } else if (image->source && m->nfuncs) {
        bytes = image->source;
        len = image->source_len;
    }
    if (r->bad || !bytes)
        return;
    if (len < 8 || memcmp(bytes, "\0asm", 4) != 0) {
        r_fail(r, "not the start of a WebAssembly binary");
        return;
    }
    for (uint32_t i = 0; i < m->nfuncs; i++) {
        const wasm_func_t *f = &m->funcs[i];
        uint64_t start = f->code_offset, end = start + f->code_len;
        r->index = i;
        if (end > len || bytes[end - 1] != BINARY_END) {
            r_fail(r, "instructions at %llu..%llu do not fit the %llu bytes kept",
                   (unsigned long long)start, (unsigned long long)end,
                   (unsigned long long)len);
            return;
        }
        const compiled_func_t *cf = &cm->funcs[i];
        for (uint32_t k = 0; k < cf->nosr_loops; k++) {
            uint32_t at = cf->osr_loops[2 * k + 1];
            if (at < start || at >= end || bytes[at] != BINARY_LOOP) {
                r_fail(r, "loop entry %u (offset %u) is not a loop of the function", k, at);
                return;
            }
        }
    }
    m->bytes = (uint8_t *)bytes;
    m->len = (size_t)len;
    m->bytes_borrowed = true;
    for (uint32_t i = 0; i < m->nfuncs; i++) {
        wasm_func_t *f = &m->funcs[i];
        f->code = bytes + f->code_offset;
        f->code_end = f->code + f->code_len;
    }
}

typedef struct native_part {
    const char *key;
    uint32_t key_len;
    const uint8_t *object;
    size_t len;
} native_part_t;

static void r_native(loader_t *l, native_part_t *np)
{
    rd_t *r = &l->r;
    r->what = "native code";
    r->index = 0;
    if (!r_bool(r))
        return;
    np->key = r_str(r, &np->key_len);
    uint64_t len = r_u64(r);
    if (r->bad)
        return;
    if (r->pos % 16)
        r_take(r, 16 - r->pos % 16);
    if (!r->bad && len > r->end - r->pos) {
        r_fail(r, "%llu bytes of object, %zu left", (unsigned long long)len, r->end - r->pos);
        return;
    }
    np->object = r_take(r, (size_t)len);
    np->len = (size_t)len;
    hash_lagging(l, r->pos);
}

whirl_error_t *serial_load(whirl_engine_t *engine, module_image_t *image,
                           const uint8_t expect_source[32], whirl_module_t **out)
{
    *out = NULL;
    uint8_t *b = image->file.base;
    size_t len = image->file.len;
    uint64_t plen;
    whirl_error_t *err = serial_check_header(engine, b, len, &plen);
    if (err) {
        module_image_free(image);
        return err;
    }
    wasm_module_t *m = calloc(1, sizeof *m);
    compiled_module_t *cm = calloc(1, sizeof *cm);
    XXH3_state_t *hash = XXH3_createState();
    if (!m || !cm || !hash) {
        free(m);
        free(cm);
        XXH3_freeState(hash);
        module_image_free(image);
        return error_oom();
    }
    arena_init(&m->arena);
    arena_init(&cm->arena);
    XXH3_64bits_reset(hash);
    loader_t l = {.r = {.base = b, .pos = SERIAL_HEADER_SIZE, .end = SERIAL_HEADER_SIZE + plen,
                        .what = "header"},
                  .hash = hash,
                  .hashed = SERIAL_HEADER_SIZE,
                  .code = &image->code};
    rd_t *r = &l.r;
    const uint8_t *source = r_take(r, 32);
    spaces_t sp = {0};
    r_types(r, m);
    r_imports(r, m);
    r_funcs(r, m);
    r_globals_etc(r, m, &sp);
    r_exports_segments(r, m, &sp);
    r_customs_names(r, m, &sp);
    r_align(r);
    r_code(&l, m, cm);
    r_bodies(&l, m, cm, image);
    native_part_t native = {0};
    r_native(&l, &native);
    if (!r->bad && r->pos != r->end)
        r_fail(r, "%zu bytes after the code", r->end - r->pos);
    /* A damaged file is reported as such even where the damage made the
     * structure fail first: hash whatever was not hashed yet. */
    hash_upto(&l, r->end);
    uint64_t sum = XXH3_64bits_digest(hash);
    XXH3_freeState(hash);
    if (sum != serial_rd64(b + 56))
        err = error_fmt("corrupted precompiled module: payload checksum %016llx, expected "
                        "%016llx",
                        (unsigned long long)sum, (unsigned long long)serial_rd64(b + 56));
    else if (r->bad)
        err = r->oom ? error_oom()
                     : error_fmt("corrupted precompiled module: %s %u: %s", r->bad_what,
                                 r->bad_index, r->why);
    else if (expect_source && memcmp(source, expect_source, 32) != 0)
        err = error_fmt("precompiled module was made from another module (source hash "
                        "differs)");
    /* Linked only now that the checksum has passed: the object is code. */
    if (!err && native.object && module_native_wanted(engine))
        err = module_link_native(engine, m, native.key, native.key_len, native.object,
                                 native.len, &image->native);
    /* Kept even when not linked (tier=interp): serialising the module
     * again writes it unchanged. */
    image->native_object = native.object;
    image->native_object_len = native.len;
    if (err) {
        compiled_module_free(cm);
        wasm_module_free(m);
        module_image_free(image);
        return err;
    }
    return module_assemble(engine, m, cm, image, source, out);
}

/* ---- public API ---- */

whirl_error_t *whirl_module_serialize(const whirl_module_t *module, uint8_t **out,
                                      size_t *out_len)
{
    if (!module || !out || !out_len)
        return error_fmt("whirl_module_serialize: module, out or out_len is NULL");
    *out = NULL;
    *out_len = 0;
    return serial_write(module, true, out, out_len);
}

bool whirl_module_is_serialized(const uint8_t *bytes, size_t len)
{
    return bytes && len >= SERIAL_MAGIC_LEN && memcmp(bytes, SERIAL_MAGIC, SERIAL_MAGIC_LEN) == 0;
}

whirl_error_t *whirl_module_deserialize(whirl_engine_t *engine, const uint8_t *bytes,
                                        size_t len, whirl_module_t **out)
{
    if (!out)
        return error_fmt("whirl_module_deserialize: out is NULL");
    *out = NULL;
    if (!engine || (len && !bytes))
        return error_fmt("whirl_module_deserialize: engine or bytes is NULL");
    /* Refuse a foreign or damaged header before copying anything. */
    uint64_t plen;
    whirl_error_t *err = serial_check_header(engine, bytes, len, &plen);
    if (err)
        return err;
    module_image_t image = {0};
    if (!region_alloc(&image.file, len))
        return error_oom();
    memcpy(image.file.base, bytes, len);
    return serial_load(engine, &image, NULL, out);
}

whirl_error_t *whirl_module_deserialize_file(whirl_engine_t *engine, const char *path,
                                             whirl_module_t **out)
{
    if (!out)
        return error_fmt("whirl_module_deserialize_file: out is NULL");
    *out = NULL;
    if (!engine || !path)
        return error_fmt("whirl_module_deserialize_file: engine or path is NULL");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return error_fmt("%s: %s", path, strerror(errno));
    module_image_t image;
    whirl_error_t *err = image_read_fd(fd, path, SERIAL_HEADER_SIZE, &image);
    close(fd);
    if (err)
        return err;
    if ((err = serial_load(engine, &image, NULL, out)))
        return error_prefix(err, "%s: ", path);
    return NULL;
}
