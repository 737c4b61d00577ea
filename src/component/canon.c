/* The canonical ABI (CanonicalABI.md): loading and storing values of every
 * component type in linear memory, flat lifting and lowering, strings in
 * the three encodings, and the traps on every invalid value. Values move
 * through the host as whirl_cval_t trees. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component/component.h"

/* A bound on the values one lift may build: a guest could otherwise make
 * the host allocate ~24 bytes per element of a 2^28-byte list. Strings and
 * list<u8> do not count (they are copied as bytes). */
#define MAX_LIFTED_NODES (1u << 24)

whirl_error_t *canon_trap(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return error_as_trap(error_fmt("canonical ABI: %s", msg));
}

static const char *const kind_names[] = {
    "bool",   "s8",     "u8",      "s16",  "u16",    "s32",   "u32",   "s64",
    "u64",    "f32",    "f64",     "char", "string", "list",  "bytes", "record",
    "tuple",  "variant", "enum",   "option", "result", "flags", "own",  "borrow",
    "stream", "future", "error-context",
};

static const char *kname(int k)
{
    return k >= 0 && k <= CT_ERROR_CONTEXT ? kind_names[k] : "?";
}

/* ------------------------------------------------------------------ */
/* Memory                                                              */
/* ------------------------------------------------------------------ */

static whirl_error_t *mem_range(ccx_t *cx, uint64_t ptr, uint64_t len, uint8_t **out)
{
    if (!cx->memory)
        return canon_trap("no memory to read or write");
    size_t size = whirl_memory_data_size(cx->memory);
    if (ptr > size || len > size - ptr)
        return canon_trap("out of bounds: %llu bytes at 0x%llx in a memory of %zu bytes",
                          (unsigned long long)len, (unsigned long long)ptr, size);
    *out = whirl_memory_data(cx->memory) + ptr;
    return NULL;
}

static whirl_error_t *check_range(ccx_t *cx, uint64_t ptr, uint64_t len, uint32_t align,
                                  const char *what)
{
    if (ptr & (align - 1))
        return canon_trap("misaligned %s pointer 0x%llx (alignment %u)", what,
                          (unsigned long long)ptr, align);
    uint8_t *p = NULL;
    return mem_range(cx, ptr, len, &p);
}

static uint64_t rd(const uint8_t *p, uint32_t n)
{
    uint64_t v = 0;
    memcpy(&v, p, n); /* little-endian, like wasm */
    return v;
}

static void wr(uint8_t *p, uint64_t v, uint32_t n) { memcpy(p, &v, n); }

static whirl_error_t *load_int(ccx_t *cx, uint32_t ptr, uint32_t n, uint64_t *out)
{
    uint8_t *p = NULL;
    whirl_error_t *e = mem_range(cx, ptr, n, &p);
    if (!e)
        *out = rd(p, n);
    return e;
}

static whirl_error_t *store_int(ccx_t *cx, uint32_t ptr, uint64_t v, uint32_t n)
{
    uint8_t *p = NULL;
    whirl_error_t *e = mem_range(cx, ptr, n, &p);
    if (!e)
        wr(p, v, n);
    return e;
}

/* Calls the realloc option. Lowered imports may not be called meanwhile. */
static whirl_error_t *cx_realloc(ccx_t *cx, uint32_t old, uint32_t old_size, uint32_t align,
                                 uint32_t new_size, uint32_t *out)
{
    if (!cx->realloc)
        return canon_trap("a realloc option is needed to allocate memory");
    whirl_val_t args[4] = {
        {.kind = WHIRL_I32, .of.i32 = (int32_t)old},
        {.kind = WHIRL_I32, .of.i32 = (int32_t)old_size},
        {.kind = WHIRL_I32, .of.i32 = (int32_t)align},
        {.kind = WHIRL_I32, .of.i32 = (int32_t)new_size},
    };
    whirl_val_t res = {0};
    bool saved = cx->inst->may_leave;
    cx->inst->may_leave = false;
    whirl_error_t *e = whirl_func_call(cx->store, cx->realloc, args, 4, &res, 1);
    cx->inst->may_leave = saved;
    if (e)
        return e;
    *out = (uint32_t)res.of.i32;
    return NULL;
}

/* realloc, then the checks the spec makes on what it returned. */
static whirl_error_t *cx_realloc_checked(ccx_t *cx, uint32_t old, uint32_t old_size,
                                         uint32_t align, uint32_t new_size, uint32_t *out)
{
    whirl_error_t *e = cx_realloc(cx, old, old_size, align, new_size, out);
    if (e)
        return e;
    if (*out & (align - 1))
        return canon_trap("realloc returned misaligned pointer 0x%x (alignment %u)", *out, align);
    uint8_t *p = NULL;
    e = mem_range(cx, *out, new_size, &p);
    return e ? error_prefix(e, "realloc result: ") : NULL;
}

/* ------------------------------------------------------------------ */
/* Values                                                              */
/* ------------------------------------------------------------------ */

static whirl_error_t *count_nodes(ccx_t *cx, uint64_t n)
{
    cx->nodes += n;
    if (cx->nodes > MAX_LIFTED_NODES)
        return canon_trap("value too large to pass (more than %u elements)", MAX_LIFTED_NODES);
    return NULL;
}

static whirl_cval_t *new_items(ccx_t *cx, uint64_t n, whirl_error_t **e)
{
    if ((*e = count_nodes(cx, n)))
        return NULL;
    whirl_cval_t *v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        *e = error_oom();
    return v;
}

static float canon_f32(float f)
{
    if (isnan(f)) {
        uint32_t bits = 0x7fc00000;
        memcpy(&f, &bits, 4);
    }
    return f;
}

static double canon_f64(double d)
{
    if (isnan(d)) {
        uint64_t bits = UINT64_C(0x7ff8000000000000);
        memcpy(&d, &bits, 8);
    }
    return d;
}

static whirl_error_t *check_char(uint32_t c)
{
    if (c >= 0x110000 || (c >= 0xd800 && c <= 0xdfff))
        return canon_trap("invalid char 0x%x (not a Unicode scalar value)", c);
    return NULL;
}

static uint32_t max_case_align(const ctype_t *t)
{
    uint32_t a = 1;
    for (uint32_t i = 0; i < t->count; i++)
        if (t->fields[i].type && t->fields[i].type->align > a)
            a = t->fields[i].type->align;
    return a;
}

static uint32_t disc_bytes(const ctype_t *t)
{
    return t->count <= 256 ? 1 : t->count <= 65536 ? 2 : 4;
}

static uint32_t align_to(uint32_t x, uint32_t a) { return (x + a - 1) & ~(a - 1); }

/* ------------------------------------------------------------------ */
/* Strings                                                             */
/* ------------------------------------------------------------------ */

/* Decodes one UTF-8 code point; false if malformed. */
static bool utf8_next(const uint8_t *s, size_t n, size_t *i, uint32_t *cp)
{
    uint8_t c = s[*i];
    if (c < 0x80) {
        *cp = c;
        (*i)++;
        return true;
    }
    uint32_t need, v;
    if ((c & 0xe0) == 0xc0)
        need = 1, v = c & 0x1f;
    else if ((c & 0xf0) == 0xe0)
        need = 2, v = c & 0x0f;
    else if ((c & 0xf8) == 0xf0)
        need = 3, v = c & 0x07;
    else
        return false;
    if (n - *i <= need)
        return false;
    for (uint32_t k = 1; k <= need; k++) {
        uint8_t b = s[*i + k];
        if ((b & 0xc0) != 0x80)
            return false;
        v = (v << 6) | (b & 0x3f);
    }
    if ((need == 1 && v < 0x80) || (need == 2 && v < 0x800) || (need == 3 && v < 0x10000) ||
        v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return false;
    *i += need + 1;
    *cp = v;
    return true;
}

static size_t utf8_put(uint8_t *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xc0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xe0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (uint8_t)(0xf0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}

static bool utf8_valid_buf(const uint8_t *s, size_t n)
{
    size_t i = 0;
    uint32_t cp;
    while (i < n)
        if (!utf8_next(s, n, &i, &cp))
            return false;
    return true;
}

static whirl_error_t *set_string(whirl_cval_t *out, char *data, size_t len)
{
    out->kind = WHIRL_CVAL_STRING;
    out->of.string.data = data;
    out->of.string.len = len;
    return NULL;
}

static whirl_error_t *load_string_range(ccx_t *cx, uint32_t ptr, uint32_t tagged,
                                        whirl_cval_t *out)
{
    uint64_t bytes;
    uint32_t align;
    int enc;
    switch (cx->encoding) {
    case ENC_UTF8: enc = ENC_UTF8, align = 1, bytes = tagged; break;
    case ENC_UTF16: enc = ENC_UTF16, align = 2, bytes = 2 * (uint64_t)tagged; break;
    default:
        align = 2;
        if (tagged & CANON_UTF16_TAG)
            enc = ENC_UTF16, bytes = 2 * (uint64_t)(tagged ^ CANON_UTF16_TAG);
        else
            enc = ENC_LATIN1_UTF16, bytes = tagged;
        break;
    }
    if (bytes > CANON_MAX_STRING_BYTES)
        return canon_trap("string too long (%llu bytes, at most %u)", (unsigned long long)bytes,
                          CANON_MAX_STRING_BYTES);
    whirl_error_t *e = check_range(cx, ptr, bytes, align, "string");
    if (e)
        return e;
    const uint8_t *src = whirl_memory_data(cx->memory) + ptr;
    if (enc == ENC_UTF8) {
        if (!utf8_valid_buf(src, bytes))
            return canon_trap("string at 0x%x is not valid UTF-8", ptr);
        char *s = malloc(bytes + 1);
        if (!s)
            return error_oom();
        memcpy(s, src, bytes);
        s[bytes] = 0;
        return set_string(out, s, bytes);
    }
    if (enc == ENC_LATIN1_UTF16) {
        char *s = malloc(2 * bytes + 1), *o = s;
        if (!s)
            return error_oom();
        for (uint64_t i = 0; i < bytes; i++)
            o += utf8_put((uint8_t *)o, src[i]);
        *o = 0;
        return set_string(out, s, (size_t)(o - s));
    }
    /* UTF-16LE: at most 3 UTF-8 bytes per code unit. */
    uint64_t units = bytes / 2;
    char *s = malloc(3 * units + 1), *o = s;
    if (!s)
        return error_oom();
    for (uint64_t i = 0; i < units; i++) {
        uint32_t u = src[2 * i] | (uint32_t)src[2 * i + 1] << 8;
        if (u >= 0xd800 && u <= 0xdbff && i + 1 < units) {
            uint32_t lo = src[2 * i + 2] | (uint32_t)src[2 * i + 3] << 8;
            if (lo >= 0xdc00 && lo <= 0xdfff) {
                u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
                i++;
            }
        }
        if (u >= 0xd800 && u <= 0xdfff) {
            free(s);
            return canon_trap("string at 0x%x is not valid UTF-16 (unpaired surrogate)", ptr);
        }
        o += utf8_put((uint8_t *)o, u);
    }
    *o = 0;
    return set_string(out, s, (size_t)(o - s));
}

/* Writes the UTF-16LE encoding of UTF-8 `s` at `dst`; returns code units. */
static uint32_t encode_utf16(const uint8_t *s, size_t n, uint8_t *dst)
{
    size_t i = 0;
    uint32_t units = 0, cp;
    while (i < n && utf8_next(s, n, &i, &cp)) {
        if (cp >= 0x10000) {
            cp -= 0x10000;
            wr(dst + 2 * units++, 0xd800 | (cp >> 10), 2);
            wr(dst + 2 * units++, 0xdc00 | (cp & 0x3ff), 2);
        } else {
            wr(dst + 2 * units++, cp, 2);
        }
    }
    return units;
}

/* store_string_into_range, for a source in UTF-8 (host strings, and
 * strings lifted from guests, which were converted to UTF-8). */
static whirl_error_t *store_string_range(ccx_t *cx, const whirl_cval_t *v, uint32_t *ptr_out,
                                         uint32_t *units_out)
{
    const uint8_t *s = (const uint8_t *)v->of.string.data;
    size_t n = v->of.string.len;
    if (n && !s)
        return canon_trap("string value without data");
    if (n > CANON_MAX_STRING_BYTES)
        return canon_trap("string too long (%zu bytes, at most %u)", n, CANON_MAX_STRING_BYTES);
    if (!utf8_valid_buf(s, n))
        return canon_trap("string value is not valid UTF-8");
    uint32_t len = (uint32_t)n, ptr;
    whirl_error_t *e;
    uint8_t *mem;
    switch (cx->encoding) {
    case ENC_UTF8:
        if ((e = cx_realloc_checked(cx, 0, 0, 1, len, &ptr)))
            return e;
        if (len)
            memcpy(whirl_memory_data(cx->memory) + ptr, s, len);
        *ptr_out = ptr, *units_out = len;
        return NULL;
    case ENC_UTF16: {
        uint32_t worst = 2 * len;
        if ((e = cx_realloc_checked(cx, 0, 0, 2, worst, &ptr)))
            return e;
        mem = whirl_memory_data(cx->memory) + ptr;
        uint32_t units = encode_utf16(s, n, mem);
        if (2 * units < worst && (e = cx_realloc_checked(cx, ptr, worst, 2, 2 * units, &ptr)))
            return e;
        *ptr_out = ptr, *units_out = units;
        return NULL;
    }
    default: {
        /* Latin-1 if every code point fits, else UTF-16 (tagged). */
        if ((e = cx_realloc_checked(cx, 0, 0, 2, len, &ptr)))
            return e;
        size_t i = 0;
        uint32_t written = 0, cp;
        while (i < n) {
            size_t at = i;
            utf8_next(s, n, &i, &cp);
            if (cp < 256) {
                whirl_memory_data(cx->memory)[ptr + written++] = (uint8_t)cp;
                continue;
            }
            uint32_t worst = 2 * len;
            if ((e = cx_realloc_checked(cx, ptr, len, 2, worst, &ptr)))
                return e;
            mem = whirl_memory_data(cx->memory) + ptr;
            for (uint32_t j = written; j-- > 0;) {
                mem[2 * j] = mem[j];
                mem[2 * j + 1] = 0;
            }
            uint32_t units = written + encode_utf16(s + at, n - at, mem + 2 * written);
            if (worst > 2 * units && (e = cx_realloc_checked(cx, ptr, worst, 2, 2 * units, &ptr)))
                return e;
            *ptr_out = ptr, *units_out = units | CANON_UTF16_TAG;
            return NULL;
        }
        if (written < len && (e = cx_realloc_checked(cx, ptr, len, 2, written, &ptr)))
            return e;
        *ptr_out = ptr, *units_out = written;
        return NULL;
    }
    }
}

/* ------------------------------------------------------------------ */
/* Handles                                                             */
/* ------------------------------------------------------------------ */

static whirl_error_t *lift_handle(ccx_t *cx, uint32_t i, const ctype_t *t, whirl_cval_t *out)
{
    whirl_resource_type_t *rt;
    whirl_error_t *e = instance_resource(cx->inst, t->elem, &rt);
    if (e)
        return e;
    chandle_t *h = handle_get(cx->inst, i, &e);
    if (!h)
        return e;
    if (h->rt != rt)
        return canon_trap("handle %u is a `%s`, expected a `%s`", i,
                          h->rt->name ? h->rt->name : "resource", rt->name ? rt->name : "resource");
    out->kind = t->kind == CT_OWN ? WHIRL_CVAL_OWN : WHIRL_CVAL_BORROW;
    out->of.resource.type = rt;
    out->of.resource.rep = h->rep;
    if (t->kind == CT_OWN) {
        if (h->state != HANDLE_OWN)
            return canon_trap("handle %u is borrowed; an owned handle is needed", i);
        if (h->lends)
            return canon_trap("handle %u cannot be moved while it is lent out", i);
        handle_remove(cx->inst, i);
        return NULL;
    }
    if (!cx->lenders)
        return canon_trap("borrow handle outside of a call");
    if (!vec_push(&cx->lenders->idx, i))
        return error_oom();
    cx->lenders->inst = cx->inst;
    h->lends++;
    return NULL;
}

static whirl_error_t *lower_handle(ccx_t *cx, const whirl_cval_t *v, const ctype_t *t,
                                   uint32_t *out)
{
    whirl_resource_type_t *rt;
    whirl_error_t *e = instance_resource(cx->inst, t->elem, &rt);
    if (e)
        return e;
    bool own = t->kind == CT_OWN;
    if (v->kind != WHIRL_CVAL_OWN && (own || v->kind != WHIRL_CVAL_BORROW))
        return canon_trap("%s value where %s<...> was expected", kname(v->kind), kname(t->kind));
    if (v->of.resource.type != rt)
        return canon_trap("handle of resource type `%s` where `%s` was expected",
                          v->of.resource.type && v->of.resource.type->name
                              ? v->of.resource.type->name : "?",
                          rt->name ? rt->name : "resource");
    if (own)
        return handle_add(cx->inst, rt, v->of.resource.rep, true, NULL, out);
    if (rt->impl == cx->inst) {
        *out = v->of.resource.rep; /* the implementation gets the rep itself */
        return NULL;
    }
    if (!cx->task)
        return canon_trap("borrow handle outside of a call");
    e = handle_add(cx->inst, rt, v->of.resource.rep, false, cx->task, out);
    if (!e)
        cx->task->num_borrows++;
    return e;
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */
/* ------------------------------------------------------------------ */

static whirl_error_t *load(ccx_t *cx, uint32_t ptr, const ctype_t *t, whirl_cval_t *out);

static whirl_error_t *load_list_range(ccx_t *cx, uint32_t ptr, uint32_t len, const ctype_t *el,
                                      whirl_cval_t *out)
{
    uint64_t bytes = (uint64_t)len * el->size;
    if (bytes > CANON_MAX_LIST_BYTES)
        return canon_trap("list too long (%llu bytes, at most %u)", (unsigned long long)bytes,
                          CANON_MAX_LIST_BYTES);
    whirl_error_t *e = check_range(cx, ptr, bytes, el->align, "list");
    if (e)
        return e;
    if (el->kind == CT_U8) {
        char *b = malloc(len + 1);
        if (!b)
            return error_oom();
        memcpy(b, whirl_memory_data(cx->memory) + ptr, len);
        b[len] = 0;
        out->kind = WHIRL_CVAL_BYTES;
        out->of.string.data = b;
        out->of.string.len = len;
        return NULL;
    }
    whirl_cval_t *items = new_items(cx, len, &e);
    if (!items)
        return e;
    out->kind = WHIRL_CVAL_LIST;
    out->of.list.items = items;
    out->of.list.len = len;
    for (uint32_t i = 0; i < len; i++)
        if ((e = load(cx, ptr + i * el->size, el, &items[i])))
            return e;
    return NULL;
}

static whirl_error_t *load_fields(ccx_t *cx, uint32_t ptr, const ctype_t *t, whirl_cval_t *out)
{
    whirl_error_t *e;
    whirl_cval_t *items = new_items(cx, t->count, &e);
    if (!items)
        return e;
    out->kind = (whirl_cval_kind_t)t->kind;
    out->of.list.items = items;
    out->of.list.len = t->count;
    for (uint32_t i = 0; i < t->count; i++) {
        const ctype_t *f = t->fields[i].type;
        ptr = align_to(ptr, f->align);
        if ((e = load(cx, ptr, f, &items[i])))
            return e;
        ptr += f->size;
    }
    return NULL;
}

static whirl_error_t *new_payload(ccx_t *cx, whirl_cval_t *out, uint32_t index,
                                  const ctype_t *pt)
{
    out->kind = WHIRL_CVAL_VARIANT;
    out->of.variant.index = index;
    out->of.variant.payload = NULL;
    if (!pt)
        return NULL;
    whirl_error_t *e;
    out->of.variant.payload = new_items(cx, 1, &e);
    return out->of.variant.payload ? NULL : e;
}

static whirl_error_t *load(ccx_t *cx, uint32_t ptr, const ctype_t *t, whirl_cval_t *out)
{
    uint64_t v;
    whirl_error_t *e;
    if (t->kind <= CT_CHAR || t->kind == CT_FLAGS || t->kind == CT_OWN || t->kind == CT_BORROW ||
        t->kind == CT_STREAM || t->kind == CT_FUTURE || t->kind == CT_ERROR_CONTEXT) {
        if ((e = load_int(cx, ptr, t->size, &v)))
            return e;
    }
    out->kind = (whirl_cval_kind_t)t->kind;
    switch (t->kind) {
    case CT_BOOL: out->of.b = v != 0; return NULL;
    case CT_S8: out->of.s = (int8_t)v; return NULL;
    case CT_S16: out->of.s = (int16_t)v; return NULL;
    case CT_S32: out->of.s = (int32_t)v; return NULL;
    case CT_S64: out->of.s = (int64_t)v; return NULL;
    case CT_U8:
    case CT_U16:
    case CT_U32:
    case CT_U64: out->of.u = v; return NULL;
    case CT_F32: {
        uint32_t b = (uint32_t)v;
        memcpy(&out->of.f32, &b, 4);
        out->of.f32 = canon_f32(out->of.f32);
        return NULL;
    }
    case CT_F64:
        memcpy(&out->of.f64, &v, 8);
        out->of.f64 = canon_f64(out->of.f64);
        return NULL;
    case CT_CHAR:
        out->of.ch = (uint32_t)v;
        return check_char((uint32_t)v);
    case CT_STRING:
    case CT_LIST: {
        uint64_t p, n;
        if ((e = load_int(cx, ptr, 4, &p)) || (e = load_int(cx, ptr + 4, 4, &n)))
            return e;
        out->kind = WHIRL_CVAL_STRING; /* until filled in */
        return t->kind == CT_STRING ? load_string_range(cx, (uint32_t)p, (uint32_t)n, out)
                                    : load_list_range(cx, (uint32_t)p, (uint32_t)n, t->elem, out);
    }
    case CT_RECORD:
    case CT_TUPLE: return load_fields(cx, ptr, t, out);
    case CT_VARIANT:
    case CT_ENUM:
    case CT_OPTION:
    case CT_RESULT: {
        uint32_t ds = disc_bytes(t);
        if ((e = load_int(cx, ptr, ds, &v)))
            return e;
        if (v >= t->count)
            return canon_trap("invalid %s discriminant %llu (%u cases)", kname(t->kind),
                              (unsigned long long)v, t->count);
        const ctype_t *pt = t->fields[v].type;
        if ((e = new_payload(cx, out, (uint32_t)v, pt)))
            return e;
        out->kind = (whirl_cval_kind_t)t->kind;
        if (!pt)
            return NULL;
        return load(cx, align_to(ptr + ds, max_case_align(t)), pt, out->of.variant.payload);
    }
    case CT_FLAGS:
        out->of.flags = (uint32_t)v & (t->count >= 32 ? 0xffffffffu : (1u << t->count) - 1);
        return NULL;
    case CT_OWN:
    case CT_BORROW: return lift_handle(cx, (uint32_t)v, t, out);
    case CT_STREAM:
    case CT_FUTURE: return cstream_lift(cx, (uint32_t)v, t, out);
    case CT_ERROR_CONTEXT: return cerror_lift(cx, (uint32_t)v, out);
    default: return canon_trap("cannot load a value of this type");
    }
}

/* ------------------------------------------------------------------ */
/* Storing                                                             */
/* ------------------------------------------------------------------ */

static whirl_error_t *store(ccx_t *cx, const whirl_cval_t *v, const ctype_t *t, uint32_t ptr);

static whirl_error_t *kind_mismatch(const whirl_cval_t *v, const ctype_t *t)
{
    char want[128];
    ctype_format(t, want, sizeof want);
    return canon_trap("%s value where %s was expected", kname(v->kind), want);
}

/* The integer bits of a scalar value, checking kind and range. */
static whirl_error_t *scalar_bits(const whirl_cval_t *v, const ctype_t *t, uint64_t *out)
{
    if ((int)v->kind != t->kind)
        return kind_mismatch(v, t);
    switch (t->kind) {
    case CT_BOOL: *out = v->of.b ? 1 : 0; return NULL;
    case CT_S8:
    case CT_S16:
    case CT_S32: {
        int bits = t->kind == CT_S8 ? 8 : t->kind == CT_S16 ? 16 : 32;
        int64_t lo = -((int64_t)1 << (bits - 1)), hi = ((int64_t)1 << (bits - 1)) - 1;
        if (v->of.s < lo || v->of.s > hi)
            return canon_trap("%s value %lld out of range", kname(t->kind), (long long)v->of.s);
        *out = (uint64_t)v->of.s;
        return NULL;
    }
    case CT_S64: *out = (uint64_t)v->of.s; return NULL;
    case CT_U8:
    case CT_U16:
    case CT_U32: {
        uint64_t max = t->kind == CT_U8 ? 0xff : t->kind == CT_U16 ? 0xffff : 0xffffffffu;
        if (v->of.u > max)
            return canon_trap("%s value %llu out of range", kname(t->kind),
                              (unsigned long long)v->of.u);
        *out = v->of.u;
        return NULL;
    }
    case CT_U64: *out = v->of.u; return NULL;
    case CT_F32: {
        uint32_t b;
        memcpy(&b, &v->of.f32, 4);
        *out = b;
        return NULL;
    }
    case CT_F64: memcpy(out, &v->of.f64, 8); return NULL;
    case CT_CHAR: *out = v->of.ch; return check_char(v->of.ch);
    case CT_FLAGS:
        *out = v->of.flags & (t->count >= 32 ? 0xffffffffu : (1u << t->count) - 1);
        return NULL;
    default: return kind_mismatch(v, t);
    }
}

static whirl_error_t *store_list_range(ccx_t *cx, const whirl_cval_t *v, const ctype_t *el,
                                       uint32_t *ptr_out, uint32_t *len_out)
{
    bool bytes = v->kind == WHIRL_CVAL_BYTES;
    if (bytes && el->kind != CT_U8)
        return canon_trap("bytes value where a list of %s was expected", kname(el->kind));
    if (!bytes && v->kind != WHIRL_CVAL_LIST)
        return canon_trap("%s value where a list was expected", kname(v->kind));
    size_t n = bytes ? v->of.string.len : v->of.list.len;
    uint64_t size = (uint64_t)n * el->size;
    if (size > UINT32_MAX)
        return canon_trap("list too long (%llu bytes)", (unsigned long long)size);
    if (n && (bytes ? !v->of.string.data : !v->of.list.items))
        return canon_trap("list value without items");
    uint32_t ptr;
    whirl_error_t *e = cx_realloc_checked(cx, 0, 0, el->align, (uint32_t)size, &ptr);
    if (e)
        return e;
    if (bytes) {
        if (n)
            memcpy(whirl_memory_data(cx->memory) + ptr, v->of.string.data, n);
    } else {
        for (size_t i = 0; i < n; i++)
            if ((e = store(cx, &v->of.list.items[i], el, ptr + (uint32_t)i * el->size)))
                return e;
    }
    *ptr_out = ptr;
    *len_out = (uint32_t)n;
    return NULL;
}

static whirl_error_t *case_of(const whirl_cval_t *v, const ctype_t *t, const whirl_cval_t **pl)
{
    if ((int)v->kind != t->kind)
        return kind_mismatch(v, t);
    uint32_t i = v->of.variant.index;
    if (i >= t->count)
        return canon_trap("%s case %u out of range (%u cases)", kname(t->kind), i, t->count);
    const ctype_t *pt = t->fields[i].type;
    *pl = v->of.variant.payload;
    if (pt && !*pl)
        return canon_trap("%s case %u needs a payload", kname(t->kind), i);
    if (!pt)
        *pl = NULL;
    return NULL;
}

static whirl_error_t *fields_of(const whirl_cval_t *v, const ctype_t *t)
{
    if ((int)v->kind != t->kind)
        return kind_mismatch(v, t);
    if (v->of.list.len != t->count || (t->count && !v->of.list.items))
        return canon_trap("%s value with %zu items where %u are needed", kname(t->kind),
                          v->of.list.len, t->count);
    return NULL;
}

static whirl_error_t *store(ccx_t *cx, const whirl_cval_t *v, const ctype_t *t, uint32_t ptr)
{
    uint64_t bits;
    whirl_error_t *e;
    switch (t->kind) {
    case CT_STRING:
    case CT_LIST: {
        uint32_t p, n;
        if (t->kind == CT_STRING) {
            if (v->kind != WHIRL_CVAL_STRING)
                return kind_mismatch(v, t);
            e = store_string_range(cx, v, &p, &n);
        } else {
            e = store_list_range(cx, v, t->elem, &p, &n);
        }
        if (e || (e = store_int(cx, ptr, p, 4)))
            return e;
        return store_int(cx, ptr + 4, n, 4);
    }
    case CT_RECORD:
    case CT_TUPLE:
        if ((e = fields_of(v, t)))
            return e;
        for (uint32_t i = 0; i < t->count; i++) {
            const ctype_t *f = t->fields[i].type;
            ptr = align_to(ptr, f->align);
            if ((e = store(cx, &v->of.list.items[i], f, ptr)))
                return e;
            ptr += f->size;
        }
        return NULL;
    case CT_VARIANT:
    case CT_ENUM:
    case CT_OPTION:
    case CT_RESULT: {
        const whirl_cval_t *pl;
        if ((e = case_of(v, t, &pl)))
            return e;
        uint32_t ds = disc_bytes(t);
        if ((e = store_int(cx, ptr, v->of.variant.index, ds)))
            return e;
        if (!pl)
            return NULL;
        return store(cx, pl, t->fields[v->of.variant.index].type,
                     align_to(ptr + ds, max_case_align(t)));
    }
    case CT_OWN:
    case CT_BORROW: {
        uint32_t h;
        if ((e = lower_handle(cx, v, t, &h)))
            return e;
        return store_int(cx, ptr, h, 4);
    }
    case CT_STREAM:
    case CT_FUTURE: {
        uint32_t h;
        if ((e = cstream_lower(cx, v, t, &h)))
            return e;
        return store_int(cx, ptr, h, 4);
    }
    case CT_ERROR_CONTEXT: {
        uint32_t h;
        if ((e = cerror_lower(cx, v, &h)))
            return e;
        return store_int(cx, ptr, h, 4);
    }
    default:
        if ((e = scalar_bits(v, t, &bits)))
            return e;
        return store_int(cx, ptr, bits, t->size);
    }
}

/* ------------------------------------------------------------------ */
/* Flat lifting and lowering                                           */
/* ------------------------------------------------------------------ */

typedef struct fiter {
    const whirl_val_t *v;
    size_t n, i;
} fiter_t;

static whirl_val_t fnext(fiter_t *it)
{
    whirl_val_t z = {0};
    return it->i < it->n ? it->v[it->i++] : z;
}

static uint32_t u32v(whirl_val_t v) { return (uint32_t)v.of.i32; }

static whirl_error_t *lift_flat(ccx_t *cx, fiter_t *it, const ctype_t *t, whirl_cval_t *out);

/* The payload's flat values, converted from the variant's joined types. */
static void coerce_in(const ctype_t *t, const ctype_t *pt, const whirl_val_t *in,
                      whirl_val_t *out)
{
    for (uint32_t j = 0; j < pt->flat_n; j++) {
        uint8_t have = t->flat[1 + j], want = pt->flat[j];
        whirl_val_t x = in[j], y = x;
        uint32_t lo = have == FLAT_I64 ? (uint32_t)x.of.i64 : (uint32_t)x.of.i32;
        if (have != want) {
            switch (want) {
            case FLAT_I32: y.kind = WHIRL_I32, y.of.i32 = (int32_t)lo; break;
            case FLAT_F32: y.kind = WHIRL_F32, memcpy(&y.of.f32, &lo, 4); break;
            case FLAT_F64: y.kind = WHIRL_F64, memcpy(&y.of.f64, &x.of.i64, 8); break;
            default: break;
            }
        }
        out[j] = y;
    }
}

static whirl_error_t *lift_flat(ccx_t *cx, fiter_t *it, const ctype_t *t, whirl_cval_t *out)
{
    whirl_error_t *e;
    out->kind = (whirl_cval_kind_t)t->kind;
    switch (t->kind) {
    case CT_BOOL: out->of.b = u32v(fnext(it)) != 0; return NULL;
    case CT_S8: out->of.s = (int8_t)u32v(fnext(it)); return NULL;
    case CT_S16: out->of.s = (int16_t)u32v(fnext(it)); return NULL;
    case CT_S32: out->of.s = (int32_t)u32v(fnext(it)); return NULL;
    case CT_U8: out->of.u = (uint8_t)u32v(fnext(it)); return NULL;
    case CT_U16: out->of.u = (uint16_t)u32v(fnext(it)); return NULL;
    case CT_U32: out->of.u = u32v(fnext(it)); return NULL;
    case CT_S64: out->of.s = fnext(it).of.i64; return NULL;
    case CT_U64: out->of.u = (uint64_t)fnext(it).of.i64; return NULL;
    case CT_F32: out->of.f32 = canon_f32(fnext(it).of.f32); return NULL;
    case CT_F64: out->of.f64 = canon_f64(fnext(it).of.f64); return NULL;
    case CT_CHAR:
        out->of.ch = u32v(fnext(it));
        return check_char(out->of.ch);
    case CT_FLAGS:
        out->of.flags = u32v(fnext(it)) & (t->count >= 32 ? 0xffffffffu : (1u << t->count) - 1);
        return NULL;
    case CT_STRING:
    case CT_LIST: {
        uint32_t p = u32v(fnext(it)), n = u32v(fnext(it));
        out->kind = WHIRL_CVAL_STRING;
        return t->kind == CT_STRING ? load_string_range(cx, p, n, out)
                                    : load_list_range(cx, p, n, t->elem, out);
    }
    case CT_RECORD:
    case CT_TUPLE: {
        whirl_cval_t *items = new_items(cx, t->count, &e);
        if (!items)
            return e;
        out->of.list.items = items;
        out->of.list.len = t->count;
        for (uint32_t i = 0; i < t->count; i++)
            if ((e = lift_flat(cx, it, t->fields[i].type, &items[i])))
                return e;
        return NULL;
    }
    case CT_VARIANT:
    case CT_ENUM:
    case CT_OPTION:
    case CT_RESULT: {
        uint32_t disc = u32v(fnext(it));
        uint32_t rest = t->flat_n - 1;
        if (disc >= t->count)
            return canon_trap("invalid %s discriminant %u (%u cases)", kname(t->kind), disc,
                              t->count);
        const ctype_t *pt = t->fields[disc].type;
        size_t at = it->i;
        it->i += rest;
        if ((e = new_payload(cx, out, disc, pt)))
            return e;
        out->kind = (whirl_cval_kind_t)t->kind;
        if (!pt)
            return NULL;
        whirl_val_t tmp[CANON_MAX_FLAT_PARAMS];
        if (at + pt->flat_n > it->n)
            return canon_trap("missing flat values");
        coerce_in(t, pt, it->v + at, tmp);
        fiter_t sub = {tmp, pt->flat_n, 0};
        return lift_flat(cx, &sub, pt, out->of.variant.payload);
    }
    case CT_OWN:
    case CT_BORROW: return lift_handle(cx, u32v(fnext(it)), t, out);
    case CT_STREAM:
    case CT_FUTURE: return cstream_lift(cx, u32v(fnext(it)), t, out);
    case CT_ERROR_CONTEXT: return cerror_lift(cx, u32v(fnext(it)), out);
    default: return canon_trap("cannot lift a value of this type");
    }
}

static const whirl_valkind_t flat_vk[] = {WHIRL_I32, WHIRL_I64, WHIRL_F32, WHIRL_F64};

static whirl_val_t zero_of(uint8_t flat)
{
    whirl_val_t v = {0};
    v.kind = flat_vk[flat];
    return v;
}

static void put_i32(whirl_val_t *out, size_t *n, uint32_t x)
{
    out[*n].kind = WHIRL_I32;
    out[(*n)++].of.i32 = (int32_t)x;
}

static whirl_error_t *lower_flat(ccx_t *cx, const whirl_cval_t *v, const ctype_t *t,
                                 whirl_val_t *out, size_t *n)
{
    whirl_error_t *e;
    uint64_t bits;
    switch (t->kind) {
    case CT_STRING:
    case CT_LIST: {
        uint32_t p, len;
        if (t->kind == CT_STRING) {
            if (v->kind != WHIRL_CVAL_STRING)
                return kind_mismatch(v, t);
            e = store_string_range(cx, v, &p, &len);
        } else {
            e = store_list_range(cx, v, t->elem, &p, &len);
        }
        if (e)
            return e;
        put_i32(out, n, p);
        put_i32(out, n, len);
        return NULL;
    }
    case CT_RECORD:
    case CT_TUPLE:
        if ((e = fields_of(v, t)))
            return e;
        for (uint32_t i = 0; i < t->count; i++)
            if ((e = lower_flat(cx, &v->of.list.items[i], t->fields[i].type, out, n)))
                return e;
        return NULL;
    case CT_VARIANT:
    case CT_ENUM:
    case CT_OPTION:
    case CT_RESULT: {
        const whirl_cval_t *pl;
        if ((e = case_of(v, t, &pl)))
            return e;
        put_i32(out, n, v->of.variant.index);
        size_t start = *n;
        const ctype_t *pt = t->fields[v->of.variant.index].type;
        if (pl) {
            whirl_val_t tmp[CANON_MAX_FLAT_PARAMS];
            size_t k = 0;
            if ((e = lower_flat(cx, pl, pt, tmp, &k)))
                return e;
            for (size_t j = 0; j < k; j++) {
                uint8_t have = pt->flat[j], want = t->flat[1 + j];
                whirl_val_t x = tmp[j], y = x;
                if (have != want) {
                    uint64_t b = 0;
                    if (have == FLAT_I32)
                        b = (uint32_t)x.of.i32;
                    else if (have == FLAT_F32) {
                        uint32_t b32;
                        memcpy(&b32, &x.of.f32, 4);
                        b = b32;
                    } else if (have == FLAT_F64)
                        memcpy(&b, &x.of.f64, 8);
                    y = zero_of(want);
                    if (want == FLAT_I32)
                        y.of.i32 = (int32_t)b;
                    else
                        y.of.i64 = (int64_t)b;
                }
                out[(*n)++] = y;
            }
        }
        while (*n - start < t->flat_n - 1) {
            out[*n] = zero_of(t->flat[1 + (*n - start)]);
            (*n)++;
        }
        return NULL;
    }
    case CT_OWN:
    case CT_BORROW: {
        uint32_t h;
        if ((e = lower_handle(cx, v, t, &h)))
            return e;
        put_i32(out, n, h);
        return NULL;
    }
    case CT_STREAM:
    case CT_FUTURE: {
        uint32_t h;
        if ((e = cstream_lower(cx, v, t, &h)))
            return e;
        put_i32(out, n, h);
        return NULL;
    }
    case CT_ERROR_CONTEXT: {
        uint32_t h;
        if ((e = cerror_lower(cx, v, &h)))
            return e;
        put_i32(out, n, h);
        return NULL;
    }
    default:
        if ((e = scalar_bits(v, t, &bits)))
            return e;
        out[*n] = zero_of(t->flat[0]);
        switch (t->flat[0]) {
        case FLAT_I32: out[*n].of.i32 = (int32_t)(uint32_t)bits; break;
        case FLAT_I64: out[*n].of.i64 = (int64_t)bits; break;
        case FLAT_F32: out[*n].of.f32 = v->of.f32; break;
        default: out[*n].of.f64 = v->of.f64; break;
        }
        (*n)++;
        return NULL;
    }
}

/* ------------------------------------------------------------------ */
/* Parameter and result lists                                          */
/* ------------------------------------------------------------------ */

static uint32_t flat_count(const cfield_t *types, uint32_t n)
{
    uint32_t c = 0;
    for (uint32_t i = 0; i < n; i++) {
        c += types[i].type->flat_n;
        if (c > CANON_MAX_FLAT_PARAMS)
            return CANON_MAX_FLAT_PARAMS + 1;
    }
    return c;
}

static void tuple_layout(const cfield_t *types, uint32_t n, uint32_t *size, uint32_t *align)
{
    uint64_t s = 0;
    uint32_t a = 1;
    for (uint32_t i = 0; i < n; i++) {
        const ctype_t *t = types[i].type;
        s = ((s + t->align - 1) & ~(uint64_t)(t->align - 1)) + t->size;
        if (t->align > a)
            a = t->align;
    }
    s = (s + a - 1) & ~(uint64_t)(a - 1);
    *size = s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
    *align = a;
}

static whirl_error_t *lift_values(ccx_t *cx, uint32_t max_flat, const cfield_t *types,
                                  uint32_t ntypes, const whirl_val_t *flat, size_t nflat,
                                  whirl_cval_t *out, const char *what)
{
    whirl_error_t *e;
    if (flat_count(types, ntypes) > max_flat) {
        uint32_t size, align;
        tuple_layout(types, ntypes, &size, &align);
        uint32_t ptr = nflat ? (uint32_t)flat[0].of.i32 : 0;
        if ((e = check_range(cx, ptr, size, align, what)))
            return e;
        for (uint32_t i = 0; i < ntypes; i++) {
            const ctype_t *t = types[i].type;
            ptr = align_to(ptr, t->align);
            if ((e = load(cx, ptr, t, &out[i])))
                return e;
            ptr += t->size;
        }
        return NULL;
    }
    fiter_t it = {flat, nflat, 0};
    for (uint32_t i = 0; i < ntypes; i++)
        if ((e = lift_flat(cx, &it, types[i].type, &out[i])))
            return e;
    return NULL;
}

whirl_error_t *canon_lift_values(ccx_t *cx, uint32_t max_flat, const cfield_t *types,
                                 uint32_t ntypes, const whirl_val_t *flat, size_t nflat,
                                 whirl_cval_t *out)
{
    return lift_values(cx, max_flat, types, ntypes, flat, nflat, out, "argument tuple");
}

whirl_error_t *canon_lift_result(ccx_t *cx, const ctype_t *type, const whirl_val_t *flat,
                                 size_t nflat, whirl_cval_t *out)
{
    cfield_t f = {NULL, type};
    return lift_values(cx, CANON_MAX_FLAT_RESULTS, &f, 1, flat, nflat, out, "result");
}

whirl_error_t *canon_lower_values(ccx_t *cx, uint32_t max_flat, const cfield_t *types,
                                  uint32_t ntypes, const whirl_cval_t *vals, whirl_val_t *flat,
                                  size_t *nflat, const uint32_t *out_ptr)
{
    whirl_error_t *e;
    *nflat = 0;
    if (flat_count(types, ntypes) > max_flat) {
        uint32_t size, align, ptr;
        tuple_layout(types, ntypes, &size, &align);
        if (out_ptr) {
            ptr = *out_ptr;
        } else {
            if ((e = cx_realloc(cx, 0, 0, align, size, &ptr)))
                return e;
            put_i32(flat, nflat, ptr);
        }
        if ((e = check_range(cx, ptr, size, align, out_ptr ? "result" : "argument tuple")))
            return e;
        for (uint32_t i = 0; i < ntypes; i++) {
            const ctype_t *t = types[i].type;
            ptr = align_to(ptr, t->align);
            if ((e = store(cx, &vals[i], t, ptr)))
                return e;
            ptr += t->size;
        }
        return NULL;
    }
    for (uint32_t i = 0; i < ntypes; i++)
        if ((e = lower_flat(cx, &vals[i], types[i].type, flat, nflat)))
            return e;
    return NULL;
}
