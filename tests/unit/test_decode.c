/* Unit tests for the binary decoder (src/wasm/decode.c), from hand-written
 * binaries. Prints "N passed, M failed"; exits non-zero on any failure. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wasm/module.h"
#include "wasm/opcodes.h"
#include "wasm/reader.h"

static int passed, failed;

static bool check(bool ok, int line, const char *fmt, ...)
{
    if (ok) {
        passed++;
        return true;
    }
    failed++;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL line %d: ", line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return false;
}

#define CHECK(cond) check((cond), __LINE__, "%s", #cond)

/* ------------------------------------------------------------------ */
/* Building binaries                                                   */
/* ------------------------------------------------------------------ */

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf_t;

static void put(buf_t *b, const void *s, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p)
            abort();
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void put_u8(buf_t *b, uint8_t v) { put(b, &v, 1); }

static void put_uleb(buf_t *b, uint64_t v)
{
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        put_u8(b, byte | (v ? 0x80 : 0));
    } while (v);
}

/* String literals hold the bytes; sizeof drops the terminating NUL. */
#define PUT(b, lit) put((b), (lit), sizeof(lit) - 1)
#define HEADER "\x00\x61\x73\x6d\x01\x00\x00\x00"

static void put_section(buf_t *b, uint8_t id, const void *content, size_t n)
{
    put_u8(b, id);
    put_uleb(b, n);
    put(b, content, n);
}
#define SEC(b, id, lit) put_section((b), (id), (lit), sizeof(lit) - 1)

static buf_t module_start(void)
{
    buf_t b = {0};
    PUT(&b, HEADER);
    return b;
}

/* ------------------------------------------------------------------ */
/* Decoding helpers                                                    */
/* ------------------------------------------------------------------ */

static wasm_module_t *decode_ok_at(int line, const void *bytes, size_t len)
{
    wasm_module_t *m = NULL;
    whirl_error_t *e = wasm_decode(bytes, len, &m);
    check(e == NULL && m != NULL, line, "expected success, got: %s",
          e ? whirl_error_message(e) : "(no module)");
    whirl_error_delete(e);
    return m;
}

static void decode_err_at(int line, const void *bytes, size_t len, const char *reason)
{
    wasm_module_t *m = NULL;
    whirl_error_t *e = wasm_decode(bytes, len, &m);
    if (!e) {
        check(false, line, "expected \"%s\", but the module decoded", reason);
        wasm_module_free(m);
        return;
    }
    const char *msg = whirl_error_message(e);
    check(m == NULL && strncmp(msg, "malformed module: ", 18) == 0 && strstr(msg, reason),
          line, "expected \"%s\", got \"%s\"", reason, msg);
    whirl_error_delete(e);
}

#define DECODE_OK(buf) decode_ok_at(__LINE__, (buf).p, (buf).len)
#define DECODE_ERR(buf, reason) decode_err_at(__LINE__, (buf).p, (buf).len, (reason))
#define LIT_OK(lit) decode_ok_at(__LINE__, (lit), sizeof(lit) - 1)
#define LIT_ERR(lit, reason) decode_err_at(__LINE__, (lit), sizeof(lit) - 1, (reason))

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static void test_header(void)
{
    wasm_module_t *m = LIT_OK(HEADER);
    if (m) {
        CHECK(m->ntypes == 0 && m->nimports == 0 && m->nfuncs == 0 && m->ncustoms == 0);
        CHECK(m->len == 8 && memcmp(m->bytes, HEADER, 8) == 0);
        CHECK(wasm_module_func_count(m) == 0 && wasm_module_memory_count(m) == 0);
        CHECK(m->func_names == NULL && m->module_name == NULL && !m->has_start);
        wasm_module_free(m);
    }
    decode_err_at(__LINE__, NULL, 0, "unexpected end");
    LIT_ERR("\x01", "unexpected end");
    LIT_ERR("\x00\x61\x73", "unexpected end");
    LIT_ERR("\x00\x61\x73\x6d", "unexpected end");
    LIT_ERR("\x00\x61\x73\x6d\x01\x00\x00", "unexpected end");
    LIT_ERR("asm\x00\x01\x00\x00\x00", "magic header not detected");
    LIT_ERR("\x00" "ASM\x01\x00\x00\x00", "magic header not detected");
    LIT_ERR("\x00\x61\x73\x6d\x02\x00\x00\x00", "unknown binary version");
    LIT_ERR("\x00\x61\x73\x6d\x00\x00\x00\x01", "unknown binary version");
    LIT_ERR("\x00\x61\x73\x6d\x0d\x00\x00\x00", "unknown binary version");
}

static void test_section_framing(void)
{
    /* 13 is the tag section (exception handling): empty, it lacks its count. */
    LIT_ERR(HEADER "\x0d\x00", "unexpected end");
    LIT_ERR(HEADER "\x0e\x00", "malformed section id");
    LIT_ERR(HEADER "\x80\x00\x01\x00", "malformed section id");
    LIT_ERR(HEADER "\xff\x00", "malformed section id");
    /* Section size past the end of the module. */
    LIT_ERR(HEADER "\x01\x07\x01\x60\x00\x00", "length out of bounds");
    LIT_ERR(HEADER "\x01\xff\xff\xff\xff\x0f", "length out of bounds");
    /* Size field itself cut off or too long. */
    LIT_ERR(HEADER "\x01", "unexpected end");
    LIT_ERR(HEADER "\x01\x80", "unexpected end");
    LIT_ERR(HEADER "\x01\x80\x80\x80\x80\x80\x00", "integer representation too long");
    /* Contents shorter or longer than declared. */
    LIT_ERR(HEADER "\x01\x05\x01\x60\x00\x00\x00", "section size mismatch");
    LIT_ERR(HEADER "\x01\x03\x01\x60\x00\x00", "unexpected end of section or function");
    LIT_ERR(HEADER "\x01\x07\x01\x60\x00\x00\x60\x00\x00", "section size mismatch");
    /* Empty sections and a non-minimal (but short enough) size. */
    wasm_module_t *m = LIT_OK(HEADER "\x01\x01\x00\x02\x01\x00\x03\x01\x00\x0a\x01\x00");
    wasm_module_free(m);
    m = LIT_OK(HEADER "\x01\x81\x80\x00\x00");
    wasm_module_free(m);
    /* The error says which section and where. */
    wasm_module_t *out = NULL;
    const uint8_t bad[] = HEADER "\x01\x01\x00\x05\x02\x01\x02";
    whirl_error_t *e = wasm_decode(bad, sizeof bad - 1, &out);
    CHECK(e != NULL);
    if (e) {
        const char *msg = whirl_error_message(e);
        check(strstr(msg, "integer too large") && strstr(msg, "section 5 memory") &&
                  strstr(msg, "offset 0xe"),
              __LINE__, "message \"%s\"", msg);
    }
    whirl_error_delete(e);
}

static void test_section_order(void)
{
    /* Duplicate. */
    LIT_ERR(HEADER "\x01\x01\x00\x01\x01\x00", "unexpected content after last section");
    /* Function before type. */
    LIT_ERR(HEADER "\x03\x01\x00\x01\x01\x00", "unexpected content after last section");
    /* Data count must come before code, and after element. */
    LIT_ERR(HEADER "\x0a\x01\x00\x0c\x01\x00", "unexpected content after last section");
    LIT_ERR(HEADER "\x0c\x01\x00\x09\x01\x00", "unexpected content after last section");
    LIT_ERR(HEADER "\x0b\x01\x00\x0a\x01\x00", "unexpected content after last section");
    LIT_ERR(HEADER "\x08\x01\x00\x08\x01\x00", "unexpected content after last section");
    /* Data count between element and code is fine; custom sections go
     * anywhere, any number of times. */
    wasm_module_t *m = LIT_OK(HEADER "\x00\x02\x01" "a" "\x01\x01\x00\x00\x01\x00"
                                     "\x09\x01\x00\x00\x01\x00\x0c\x01\x00\x0a\x01\x00"
                                     "\x00\x01\x00\x0b\x01\x00\x00\x01\x00");
    if (m) {
        CHECK(m->ncustoms == 5);
        CHECK(m->customs[0].name_len == 1 && m->customs[0].name[0] == 'a');
        CHECK(m->has_data_count && m->data_count == 0);
        wasm_module_free(m);
    }
}

static void test_leb(void)
{
    /* Memory limits use u32. */
    wasm_module_t *m = LIT_OK(HEADER "\x05\x09\x01\x01\x82\x00\xff\xff\xff\xff\x0f");
    if (m) {
        CHECK(m->nmemories == 1);
        CHECK(m->memories[0].limits.min == 2);
        CHECK(m->memories[0].limits.has_max && m->memories[0].limits.max == 0xFFFFFFFFu);
        wasm_module_free(m);
    }
    LIT_ERR(HEADER "\x05\x08\x01\x00\x82\x80\x80\x80\x80\x00", "integer representation too long");
    LIT_ERR(HEADER "\x05\x07\x01\x00\x82\x80\x80\x80\x10", "integer too large");
    LIT_ERR(HEADER "\x05\x07\x01\x00\xff\xff\xff\xff\x1f", "integer too large");
    LIT_ERR(HEADER "\x05\x04\x01\x00\x82\x80", "unexpected end");

    /* Signed constants in global initialisers. */
    m = LIT_OK(HEADER "\x06\x26\x04"
                      "\x7f\x00\x41\xff\xff\xff\xff\x07\x0b"              /* INT32_MAX */
                      "\x7f\x00\x41\x80\x80\x80\x80\x78\x0b"              /* INT32_MIN */
                      "\x7e\x00\x42\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00\x0b" /* INT64_MAX */
                      "\x7e\x00\x42\x7f\x0b");                            /* -1 */
    if (m) {
        CHECK(m->nglobals == 4);
        CHECK(m->global_inits[0].count == 1 && m->global_inits[0].instrs[0].imm.i32 == INT32_MAX);
        CHECK(m->global_inits[1].instrs[0].imm.i32 == INT32_MIN);
        CHECK(m->global_inits[2].instrs[0].op == WASM_OP_I64_CONST &&
              m->global_inits[2].instrs[0].imm.i64 == INT64_MAX);
        CHECK(m->global_inits[3].instrs[0].imm.i64 == -1);
        wasm_module_free(m);
    }
    m = LIT_OK(HEADER "\x06\x0f\x01\x7e\x00\x42\x80\x80\x80\x80\x80\x80\x80\x80\x80\x7f\x0b");
    if (m) {
        CHECK(m->global_inits[0].instrs[0].imm.i64 == INT64_MIN);
        wasm_module_free(m);
    }
    LIT_ERR(HEADER "\x06\x0a\x01\x7f\x00\x41\x80\x80\x80\x80\x70\x0b", "integer too large");
    LIT_ERR(HEADER "\x06\x0a\x01\x7f\x00\x41\xff\xff\xff\xff\x0f\x0b", "integer too large");
    LIT_ERR(HEADER "\x06\x0b\x01\x7f\x00\x41\x80\x80\x80\x80\x80\x00\x0b",
            "integer representation too long");
    LIT_ERR(HEADER "\x06\x0f\x01\x7e\x00\x42\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x0b",
            "integer too large");
    LIT_ERR(HEADER "\x06\x0f\x01\x7e\x00\x42\x80\x80\x80\x80\x80\x80\x80\x80\x80\x02\x0b",
            "integer too large");

    /* s33 (block types) is only read by the validator; check the reader. */
    struct {
        const char *bytes;
        size_t len;
        int64_t value;
        const char *error;
    } s33[] = {
        {"\x40", 1, -64, NULL},
        {"\xff\xff\xff\xff\x0f", 5, 0xFFFFFFFFLL, NULL},
        {"\x80\x80\x80\x80\x70", 5, -0x100000000LL, NULL},
        {"\x80\x80\x80\x80\x10", 5, 0, "integer too large"},
        {"\xff\xff\xff\xff\x6f", 5, 0, "integer too large"},
        {"\x80\x80\x80\x80\x80\x00", 6, 0, "integer representation too long"},
        {"\x80\x80", 2, 0, "unexpected end"},
    };
    for (size_t i = 0; i < sizeof s33 / sizeof s33[0]; i++) {
        reader_t r;
        const uint8_t *p = (const uint8_t *)s33[i].bytes;
        reader_init(&r, p, p, p + s33[i].len);
        int64_t v = read_s33(&r);
        if (s33[i].error)
            check(r.error && strcmp(r.error, s33[i].error) == 0, __LINE__, "s33 case %zu: %s", i,
                  r.error ? r.error : "no error");
        else
            check(reader_ok(&r) && v == s33[i].value, __LINE__, "s33 case %zu: %lld", i,
                  (long long)v);
    }
    /* u64 maximum and one past it. */
    reader_t r;
    const uint8_t u64max[] = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01";
    reader_init(&r, u64max, u64max, u64max + 10);
    CHECK(read_u64(&r) == UINT64_MAX && reader_ok(&r));
    const uint8_t u64big[] = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02";
    reader_init(&r, u64big, u64big, u64big + 10);
    read_u64(&r);
    CHECK(r.error && strcmp(r.error, "integer too large") == 0);
}

static void test_types(void)
{
    wasm_module_t *m = LIT_OK(HEADER "\x01\x19\x05"
                                     "\x60\x02\x7f\x7e\x01\x7d"
                                     "\x60\x00\x00"
                                     "\x60\x02\x7f\x7e\x01\x7d"
                                     "\x60\x01\x7b\x02\x70\x6f"
                                     "\x60\x00\x00");
    if (m) {
        CHECK(m->ntypes == 5);
        CHECK(m->types[0].nparams == 2 && m->types[0].params[0] == WASM_I32 &&
              m->types[0].params[1] == WASM_I64);
        CHECK(m->types[0].nresults == 1 && m->types[0].results[0] == WASM_F32);
        CHECK(m->types[3].params[0] == WASM_V128 && m->types[3].results[1] == WASM_EXTERNREF);
        CHECK(m->types[0].canonical == 0 && m->types[1].canonical == 1);
        CHECK(m->types[2].canonical == 0 && m->types[3].canonical == 3);
        CHECK(m->types[4].canonical == 1);
        wasm_module_free(m);
    }
    LIT_ERR(HEADER "\x01\x04\x01\x61\x00\x00", "malformed functype");
    LIT_ERR(HEADER "\x01\x05\x01\xe0\x7f\x00\x00", "integer representation too long");
    LIT_ERR(HEADER "\x01\x05\x01\x60\x01\x7a\x00", "malformed value type");
    LIT_ERR(HEADER "\x01\x05\x01\x60\x00\x01\x40", "malformed value type");
    /* A count no section could hold fails before allocating. */
    LIT_ERR(HEADER "\x01\x06\xff\xff\xff\xff\x0f\x60", "length out of bounds");
    LIT_ERR(HEADER "\x01\x07\x01\x60\xff\xff\xff\xff\x0f", "length out of bounds");

    /* Many types: equal ones share the first index; distinct ones keep
     * their own. Built as 10,000 types over 100 shapes plus 10,000 distinct. */
    buf_t content = {0};
    const uint32_t n = 20000;
    put_uleb(&content, n);
    for (uint32_t i = 0; i < n; i++) {
        put_u8(&content, 0x60);
        uint32_t shape = i < 10000 ? i % 100 : i;
        /* Encode `shape` in base 4 as a parameter list. */
        uint8_t params[16];
        uint32_t np = 0;
        do {
            params[np++] = (uint8_t)(0x7F - shape % 4);
            shape /= 4;
        } while (shape);
        put_uleb(&content, np + (i < 10000 ? 0 : 8));
        put(&content, params, np);
        if (i >= 10000)
            put(&content, "\x70\x70\x70\x70\x70\x70\x70\x70", 8); /* apart from the first 10,000 */
        put_u8(&content, 0);
    }
    buf_t b = module_start();
    put_section(&b, 1, content.p, content.len);
    clock_t t0 = clock();
    m = DECODE_OK(b);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    check(secs < 1.0, __LINE__, "20,000 types took %.2fs", secs);
    if (m) {
        bool ok = m->ntypes == n;
        for (uint32_t i = 0; ok && i < n; i++)
            ok = m->types[i].canonical == (i < 10000 ? i % 100 : i);
        CHECK(ok);
        wasm_module_free(m);
    }
    free(content.p);
    free(b.p);
}

static void test_imports(void)
{
    wasm_module_t *m = LIT_OK(HEADER "\x01\x04\x01\x60\x00\x00"
                                     "\x02\x22\x05"
                                     "\x01" "a" "\x01" "f" "\x00\x00"
                                     "\x01" "a" "\x01" "t" "\x01\x6f\x01\x02\x03"
                                     "\x01" "a" "\x01" "m" "\x02\x00\x01"
                                     "\x01" "a" "\x01" "g" "\x03\x7e\x01"
                                     "\x00" "\x00" "\x00\x00");
    if (m) {
        CHECK(m->nimports == 5);
        CHECK(m->nfunc_imports == 2 && m->ntable_imports == 1 && m->nmemory_imports == 1 &&
              m->nglobal_imports == 1);
        CHECK(m->func_import_ids[0] == 0 && m->func_import_ids[1] == 4);
        CHECK(m->table_import_ids[0] == 1 && m->memory_import_ids[0] == 2 &&
              m->global_import_ids[0] == 3);
        CHECK(strcmp(m->imports[0].module, "a") == 0 && strcmp(m->imports[0].name, "f") == 0);
        CHECK(m->imports[4].module_len == 0 && m->imports[4].name_len == 0);
        CHECK(wasm_module_func_count(m) == 2 && wasm_module_func_type(m, 1) == &m->types[0]);
        const wasm_tabletype_t *tt = wasm_module_table_type(m, 0);
        CHECK(tt->elem == WASM_EXTERNREF && tt->limits.min == 2 && tt->limits.has_max &&
              tt->limits.max == 3);
        const wasm_memtype_t *mt = wasm_module_memory_type(m, 0);
        CHECK(mt->limits.min == 1 && !mt->limits.has_max);
        const wasm_globaltype_t *gt = wasm_module_global_type(m, 0);
        CHECK(gt->type == WASM_I64 && gt->is_mutable);
        wasm_module_free(m);
    }
    /* A function import whose type index is out of range decodes (the
     * validator rejects it); its type is reported as NULL. */
    m = LIT_OK(HEADER "\x02\x07\x01\x01" "a" "\x01" "f" "\x00\x05");
    if (m) {
        CHECK(wasm_module_func_type(m, 0) == NULL);
        wasm_module_free(m);
    }
    /* Kind 4 is a tag import (exception handling): here cut short. */
    LIT_ERR(HEADER "\x02\x04\x01\x00\x00\x04", "unexpected end");
    LIT_ERR(HEADER "\x02\x04\x01\x00\x00\x05", "malformed import kind");
    LIT_ERR(HEADER "\x02\x05\x01\x00\x00\x80\x00", "malformed import kind");
    LIT_ERR(HEADER "\x02\x06\x01\x00\x00\x03\x7f\x02", "malformed mutability");
    LIT_ERR(HEADER "\x02\x06\x01\x00\x00\x03\x7f\xff", "malformed mutability");
    LIT_ERR(HEADER "\x02\x06\x01\x00\x00\x03\x40\x00", "malformed value type");
    LIT_ERR(HEADER "\x02\x07\x01\x00\x00\x01\x7f\x00\x00", "malformed reference type");
    LIT_ERR(HEADER "\x02\x06\x01\x00\x00\x02\x02\x00", "integer too large");
    LIT_ERR(HEADER "\x02\x07\x01\x00\x00\x02\x81\x00\x00", "integer representation too long");
    /* Flag 0x04 is a 64-bit table (memory64), whose minimum is missing. */
    LIT_ERR(HEADER "\x02\x06\x01\x00\x00\x01\x70\x04", "unexpected end");
    /* A length past the module's end is "length out of bounds"; past only
     * the section's end, "unexpected end of section or function". */
    LIT_ERR(HEADER "\x02\x05\x01\x00\x05" "ab", "length out of bounds");
    LIT_ERR(HEADER "\x02\x05\x01\x00\x05" "ab" "\x00\x02\x01" "a",
            "unexpected end of section or function");
    LIT_ERR(HEADER "\x02\x05\x02\x00\x00\x00\x00", "unexpected end");
}

static void test_utf8(void)
{
    /* Each name goes in an import's module name, an export name and a
     * custom section name. */
    static const struct {
        const char *s;
        size_t len;
        bool ok;
    } cases[] = {
        {"", 0, true},
        {"abc", 3, true},
        {"\x00", 1, true},
        {"\x7f", 1, true},
        {"\xc2\x80", 2, true},
        {"\xdf\xbf", 2, true},
        {"\xe0\xa0\x80", 3, true},
        {"\xe2\x82\xac", 3, true},          /* euro sign */
        {"\xed\x9f\xbf", 3, true},          /* U+D7FF */
        {"\xee\x80\x80", 3, true},          /* U+E000 */
        {"\xef\xbf\xbf", 3, true},          /* U+FFFF */
        {"\xf0\x90\x80\x80", 4, true},      /* U+10000 */
        {"\xf4\x8f\xbf\xbf", 4, true},      /* U+10FFFF */
        {"\x80", 1, false},                 /* lone continuation */
        {"\xbf", 1, false},
        {"\xc0\x80", 2, false},             /* overlong NUL */
        {"\xc1\xbf", 2, false},             /* overlong */
        {"\xc2", 1, false},                 /* truncated */
        {"\xc2\x41", 2, false},             /* bad continuation */
        {"\xc2\xc0", 2, false},
        {"\xe0\x80\x80", 3, false},         /* overlong */
        {"\xe0\x9f\xbf", 3, false},         /* overlong */
        {"\xe2\x82", 2, false},             /* truncated */
        {"\xe2\x82\x41", 3, false},
        {"\xed\xa0\x80", 3, false},         /* surrogate U+D800 */
        {"\xed\xbf\xbf", 3, false},         /* surrogate U+DFFF */
        {"\xf0\x80\x80\x80", 4, false},     /* overlong */
        {"\xf0\x8f\xbf\xbf", 4, false},     /* overlong */
        {"\xf4\x90\x80\x80", 4, false},     /* above U+10FFFF */
        {"\xf5\x80\x80\x80", 4, false},
        {"\xf7\xbf\xbf\xbf", 4, false},
        {"\xf8\x88\x80\x80\x80", 5, false}, /* five-byte form */
        {"\xfe", 1, false},
        {"\xff", 1, false},
        {"\xf0\x90\x80", 3, false},         /* truncated */
        {"a\xf0\x90\x80\x80\x80", 6, false}, /* trailing continuation */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int where = 0; where < 3; where++) {
            buf_t content = {0};
            uint8_t id;
            if (where == 0) { /* import module name */
                id = 2;
                put_u8(&content, 1);
                put_uleb(&content, cases[i].len);
                put(&content, cases[i].s, cases[i].len);
                PUT(&content, "\x01" "x" "\x02\x00\x00");
            } else if (where == 1) { /* export name */
                id = 7;
                put_u8(&content, 1);
                put_uleb(&content, cases[i].len);
                put(&content, cases[i].s, cases[i].len);
                PUT(&content, "\x00\x00");
            } else { /* custom section name */
                id = 0;
                put_uleb(&content, cases[i].len);
                put(&content, cases[i].s, cases[i].len);
                PUT(&content, "payload");
            }
            buf_t b = module_start();
            put_section(&b, id, content.p, content.len);
            wasm_module_t *m = NULL;
            whirl_error_t *e = wasm_decode(b.p, b.len, &m);
            if (cases[i].ok) {
                check(e == NULL, __LINE__, "utf8 case %zu (where %d) rejected: %s", i, where,
                      e ? whirl_error_message(e) : "");
                if (m && where == 0)
                    check(m->imports[0].module_len == cases[i].len &&
                              memcmp(m->imports[0].module, cases[i].s, cases[i].len) == 0 &&
                              m->imports[0].module[cases[i].len] == 0,
                          __LINE__, "utf8 case %zu: name not kept", i);
                if (m && where == 2)
                    check(m->ncustoms == 1 && m->customs[0].len == 7 &&
                              memcmp(m->customs[0].data, "payload", 7) == 0,
                          __LINE__, "utf8 case %zu: custom payload", i);
            } else {
                check(e && strstr(whirl_error_message(e), "malformed UTF-8 encoding"), __LINE__,
                      "utf8 case %zu (where %d): %s", i, where,
                      e ? whirl_error_message(e) : "accepted");
            }
            whirl_error_delete(e);
            wasm_module_free(m);
            free(content.p);
            free(b.p);
        }
    }
}

static void test_sections_misc(void)
{
    /* Tables, memories, exports, start. */
    wasm_module_t *m = LIT_OK(HEADER "\x04\x08\x02\x70\x00\x00\x6f\x01\x01\x0a"
                                     "\x05\x06\x02\x00\x00\x01\x02\x03"
                                     "\x07\x0d\x03\x01" "a" "\x00\x07\x01" "b" "\x01\x01\x01" "c"
                                     "\x02\x00"
                                     "\x08\x01\x07");
    if (m) {
        CHECK(m->ntables == 2 && m->tables[0].elem == WASM_FUNCREF &&
              !m->tables[0].limits.has_max);
        CHECK(m->tables[1].elem == WASM_EXTERNREF && m->tables[1].limits.min == 1 &&
              m->tables[1].limits.max == 10);
        CHECK(wasm_module_table_count(m) == 2 && wasm_module_table_type(m, 1) == &m->tables[1]);
        CHECK(m->nmemories == 2 && m->memories[1].limits.min == 2 &&
              m->memories[1].limits.max == 3);
        CHECK(m->nexports == 3 && m->exports[0].kind == WASM_EXTERN_FUNC &&
              m->exports[0].index == 7 && strcmp(m->exports[0].name, "a") == 0);
        CHECK(m->exports[1].kind == WASM_EXTERN_TABLE && m->exports[2].kind == WASM_EXTERN_MEMORY);
        CHECK(m->has_start && m->start == 7);
        wasm_module_free(m);
    }
    LIT_ERR(HEADER "\x04\x03\x01\x7f\x00", "malformed reference type");
    LIT_ERR(HEADER "\x04\x04\x01\x70\x02\x00", "integer too large");
    LIT_ERR(HEADER "\x04\x05\x01\x70\x81\x00\x00", "integer representation too long");
    LIT_ERR(HEADER "\x05\x02\x01\x02", "integer too large");
    LIT_ERR(HEADER "\x05\x01\x01", "unexpected end");
    LIT_ERR(HEADER "\x07\x05\x01\x01" "a" "\x05\x00", "malformed export kind");
    /* Kind 4 is a tag export (exception handling): cut short, then whole
     * (the validator, not the decoder, checks that tag 0 exists). */
    LIT_ERR(HEADER "\x07\x04\x01\x01" "a" "\x04", "unexpected end");
    m = LIT_OK(HEADER "\x07\x05\x01\x01" "a" "\x04\x00");
    if (m)
        wasm_module_free(m);
    LIT_ERR(HEADER "\x08\x00", "unexpected end");
    LIT_ERR(HEADER "\x08\x02\x00\x00", "section size mismatch");
    LIT_ERR(HEADER "\x0c\x00", "unexpected end");

    /* Constant expressions: constant and non-constant instructions are both
     * kept; the validator decides. */
    m = LIT_OK(HEADER "\x06\x2c\x06"
                      "\x7d\x00\x43\x00\x00\x80\x3f\x0b"
                      "\x7c\x00\x44\x00\x00\x00\x00\x00\x00\xf0\x3f\x0b"
                      "\x7f\x00\x23\x05\x0b"
                      "\x6f\x00\xd0\x6f\x0b"
                      "\x70\x00\xd2\x03\x0b"
                      "\x7f\x01\x41\x01\x41\x02\x6a\x0b");
    if (m) {
        CHECK(m->nglobals == 6);
        CHECK(m->global_inits[0].instrs[0].op == WASM_OP_F32_CONST &&
              m->global_inits[0].instrs[0].imm.f32_bits == 0x3f800000u);
        CHECK(m->global_inits[1].instrs[0].imm.f64_bits == 0x3ff0000000000000ull);
        CHECK(m->global_inits[2].instrs[0].op == WASM_OP_GLOBAL_GET &&
              m->global_inits[2].instrs[0].imm.index == 5);
        CHECK(m->global_inits[3].instrs[0].op == WASM_OP_REF_NULL &&
              m->global_inits[3].instrs[0].imm.reftype == WASM_EXTERNREF);
        CHECK(m->global_inits[4].instrs[0].op == WASM_OP_REF_FUNC &&
              m->global_inits[4].instrs[0].imm.index == 3);
        CHECK(m->global_inits[5].count == 3 && m->global_inits[5].instrs[2].op == WASM_OP_I32_ADD);
        CHECK(m->globals[5].type == WASM_I32 && m->globals[5].is_mutable);
        CHECK(m->global_inits[0].offset == 13 && m->global_inits[1].offset == 21);
        CHECK(wasm_module_global_count(m) == 6 && wasm_module_global_type(m, 5) == &m->globals[5]);
        wasm_module_free(m);
    }
    /* Non-constant instructions with immediates are skipped correctly. */
    m = LIT_OK(HEADER "\x06\x0d\x01\x7f\x00\x28\x02\x80\x01\x0e\x02\x00\x01\x02\x0b");
    if (m) {
        CHECK(m->global_inits[0].count == 2 && m->global_inits[0].instrs[0].op == WASM_OP_I32_LOAD &&
              m->global_inits[0].instrs[1].op == WASM_OP_BR_TABLE);
        wasm_module_free(m);
    }
    m = LIT_OK(HEADER "\x06\x04\x01\x7f\x00\x0b"); /* empty: the validator's problem */
    if (m) {
        CHECK(m->global_inits[0].count == 0);
        wasm_module_free(m);
    }
    LIT_ERR(HEADER "\x06\x05\x01\x7f\x00\x41\x00", "unexpected end");
    LIT_ERR(HEADER "\x06\x05\x01\x7f\x00\xff\x0b", "illegal opcode");
    LIT_ERR(HEADER "\x06\x06\x01\x7f\x00\xd0\x7f\x0b", "malformed reference type");
}

/* A module with every section, and the offsets at which it may be cut and
 * still be well-formed. */
static buf_t all_sections(size_t *cuts, size_t *ncuts)
{
    buf_t b = module_start();
    *ncuts = 0;
    cuts[(*ncuts)++] = b.len;
    SEC(&b, 1, "\x03\x60\x02\x7f\x7e\x01\x7d\x60\x00\x00\x60\x02\x7f\x7e\x01\x7d");
    cuts[(*ncuts)++] = b.len;
    SEC(&b, 0, "\x04" "meta" "\x01\x02\x03");
    cuts[(*ncuts)++] = b.len;
    SEC(&b, 2, "\x03"
               "\x03" "env" "\x01" "f" "\x00\x01"
               "\x03" "env" "\x01" "t" "\x01\x70\x01\x01\x02"
               "\x03" "env" "\x01" "g" "\x03\x7f\x00");
    cuts[(*ncuts)++] = b.len;
    SEC(&b, 3, "\x02\x00\x01"); /* funcs 1 and 2; a cut here lacks the code */
    SEC(&b, 4, "\x01\x6f\x00\x00");
    SEC(&b, 5, "\x01\x01\x00\x80\x80\x04");
    SEC(&b, 6, "\x02\x7f\x01\x41\x7f\x0b\x70\x00\xd0\x70\x0b");
    SEC(&b, 7, "\x02\x01" "f" "\x00\x01\x03" "mem" "\x02\x00");
    SEC(&b, 8, "\x02");
    SEC(&b, 9, "\x01\x00\x41\x00\x0b\x02\x01\x02");
    SEC(&b, 12, "\x02");
    SEC(&b, 10, "\x02"
                "\x0b\x02\x03\x7f\x01\x7c\x43\x00\x00\x80\x3f\x0b"
                "\x02\x00\x0b"); /* a cut after this lacks the data */
    SEC(&b, 11, "\x02\x00\x41\x10\x0b\x03" "abc" "\x01\x02" "xy");
    cuts[(*ncuts)++] = b.len;
    SEC(&b, 0, "\x04" "name"
               "\x00\x04\x03" "mod"
               "\x01\x11\x03\x00\x03" "imp" "\x02\x06" "second" "\x09\x01" "z"
               "\x02\x03\x01\x00\x00");
    cuts[(*ncuts)++] = b.len;
    return b;
}

static void test_all_sections(void)
{
    size_t cuts[16], ncuts;
    buf_t b = all_sections(cuts, &ncuts);
    wasm_module_t *m = DECODE_OK(b);
    if (m) {
        CHECK(m->ntypes == 3 && m->types[2].canonical == 0 && m->types[1].canonical == 1);
        CHECK(m->nimports == 3 && m->nfunc_imports == 1 && m->ntable_imports == 1 &&
              m->nmemory_imports == 0 && m->nglobal_imports == 1);
        CHECK(m->nfuncs == 2 && wasm_module_func_count(m) == 3);
        CHECK(wasm_module_func_type(m, 0) == &m->types[1]);
        CHECK(wasm_module_func_type(m, 1) == &m->types[0]);
        CHECK(wasm_module_func_type(m, 2) == &m->types[1]);
        CHECK(wasm_module_table_count(m) == 2 && wasm_module_table_type(m, 0)->elem == WASM_FUNCREF &&
              wasm_module_table_type(m, 1)->elem == WASM_EXTERNREF);
        CHECK(wasm_module_memory_count(m) == 1 &&
              wasm_module_memory_type(m, 0)->limits.max == 65536);
        CHECK(wasm_module_global_count(m) == 3 && !wasm_module_global_type(m, 0)->is_mutable &&
              wasm_module_global_type(m, 1)->is_mutable &&
              wasm_module_global_type(m, 2)->type == WASM_FUNCREF);
        CHECK(m->global_inits[0].instrs[0].imm.i32 == -1);
        CHECK(m->nexports == 2 && m->exports[1].name_len == 3 &&
              m->exports[1].kind == WASM_EXTERN_MEMORY);
        CHECK(m->has_start && m->start == 2);
        CHECK(m->nelems == 1 && m->elems[0].mode == WASM_SEGMENT_ACTIVE && m->elems[0].count == 2 &&
              m->elems[0].items[1].instrs[0].imm.index == 2);
        CHECK(m->has_data_count && m->data_count == 2);
        const wasm_func_t *f = &m->funcs[0];
        CHECK(f->type == 0 && f->nlocal_runs == 2 && f->nlocals == 4);
        CHECK(f->local_runs[0].count == 3 && f->local_runs[0].type == WASM_I32 &&
              f->local_runs[1].type == WASM_F64);
        CHECK(f->code && f->code[0] == 0x43 && f->code_end - f->code == 6 && f->code_end[-1] == 0x0B);
        CHECK(f->body_offset < m->len && m->bytes[f->body_offset] == 0x0b);
        CHECK(m->funcs[1].nlocals == 0 && m->funcs[1].code_end - m->funcs[1].code == 1);
        CHECK(m->ndatas == 2 && m->datas[0].mode == WASM_SEGMENT_ACTIVE && m->datas[0].len == 3 &&
              memcmp(m->datas[0].bytes, "abc", 3) == 0 &&
              m->datas[0].offset.instrs[0].imm.i32 == 16);
        CHECK(m->datas[1].mode == WASM_SEGMENT_PASSIVE && m->datas[1].len == 2 &&
              memcmp(m->datas[1].bytes, "xy", 2) == 0);
        CHECK(m->datas[0].bytes >= m->bytes && m->datas[0].bytes < m->bytes + m->len);
        CHECK(m->ncustoms == 2 && strcmp(m->customs[0].name, "meta") == 0 &&
              m->customs[0].len == 3);
        CHECK(m->module_name && strcmp(m->module_name, "mod") == 0);
        CHECK(m->func_names && strcmp(m->func_names[0], "imp") == 0 &&
              m->func_names[1] == NULL && strcmp(m->func_names[2], "second") == 0);
        wasm_module_free(m);
    }

    /* Truncated anywhere: an error, except at a section boundary that leaves
     * a well-formed module. Corrupted anywhere: no crash, and exactly one of
     * error or module. */
    int bad_cut = 0, bad_flip = 0;
    for (size_t len = 0; len < b.len; len++) {
        uint8_t *copy = malloc(len ? len : 1); /* exact size, so ASan sees overreads */
        memcpy(copy, b.p, len);
        wasm_module_t *t = NULL;
        whirl_error_t *e = wasm_decode(copy, len, &t);
        bool boundary = false;
        for (size_t k = 0; k < ncuts; k++)
            boundary |= cuts[k] == len;
        if ((e == NULL) != boundary || (e == NULL) != (t != NULL)) {
            bad_cut++;
            fprintf(stderr, "  cut at %zu: %s\n", len, e ? whirl_error_message(e) : "decoded");
        }
        whirl_error_delete(e);
        wasm_module_free(t);
        free(copy);
    }
    CHECK(bad_cut == 0);
    static const uint8_t values[] = {0x00, 0x01, 0x0b, 0x7f, 0x80, 0xff};
    for (size_t i = 0; i < b.len; i++) {
        for (size_t v = 0; v < sizeof values; v++) {
            uint8_t *copy = malloc(b.len);
            memcpy(copy, b.p, b.len);
            copy[i] = values[v];
            wasm_module_t *t = NULL;
            whirl_error_t *e = wasm_decode(copy, b.len, &t);
            if ((e == NULL) != (t != NULL))
                bad_flip++;
            whirl_error_delete(e);
            wasm_module_free(t);
            free(copy);
        }
    }
    CHECK(bad_flip == 0);
    free(b.p);
}

static void test_elements(void)
{
    buf_t b = module_start();
    SEC(&b, 1, "\x01\x60\x00\x00");
    SEC(&b, 3, "\x01\x00");
    SEC(&b, 4, "\x02\x70\x00\x0a\x70\x00\x0a");
    SEC(&b, 9, "\x08"
               "\x00\x41\x01\x0b\x02\x00\x00"
               "\x01\x00\x01\x00"
               "\x02\x01\x41\x02\x0b\x00\x01\x00"
               "\x03\x00\x01\x00"
               "\x04\x41\x03\x0b\x02\xd2\x00\x0b\xd0\x70\x0b"
               "\x05\x6f\x01\xd0\x6f\x0b"
               "\x06\x01\x41\x04\x0b\x70\x01\xd2\x00\x0b"
               "\x07\x70\x00");
    SEC(&b, 10, "\x01\x02\x00\x0b");
    wasm_module_t *m = DECODE_OK(b);
    if (m && CHECK(m->nelems == 8)) {
        const wasm_elem_t *e = m->elems;
        /* Segments of function indices are (ref func): no index is null. */
        CHECK(e[0].mode == WASM_SEGMENT_ACTIVE && e[0].table == 0 &&
              e[0].type == (WASM_FUNCREF | WASM_NONNULL) &&
              e[0].offset.instrs[0].imm.i32 == 1 && e[0].count == 2 &&
              e[0].items[1].count == 1 && e[0].items[1].instrs[0].op == WASM_OP_REF_FUNC);
        CHECK(e[1].mode == WASM_SEGMENT_PASSIVE && e[1].type == (WASM_FUNCREF | WASM_NONNULL) &&
              e[1].count == 1);
        CHECK(e[2].mode == WASM_SEGMENT_ACTIVE && e[2].table == 1 &&
              e[2].offset.instrs[0].imm.i32 == 2 && e[2].count == 1);
        CHECK(e[3].mode == WASM_SEGMENT_DECLARATIVE && e[3].count == 1 &&
              e[3].items[0].instrs[0].imm.index == 0);
        CHECK(e[4].mode == WASM_SEGMENT_ACTIVE && e[4].table == 0 && e[4].type == WASM_FUNCREF &&
              e[4].count == 2 && e[4].items[1].instrs[0].op == WASM_OP_REF_NULL &&
              e[4].items[1].instrs[0].imm.reftype == WASM_FUNCREF);
        CHECK(e[5].mode == WASM_SEGMENT_PASSIVE && e[5].type == WASM_EXTERNREF && e[5].count == 1);
        CHECK(e[6].mode == WASM_SEGMENT_ACTIVE && e[6].table == 1 && e[6].type == WASM_FUNCREF &&
              e[6].items[0].instrs[0].op == WASM_OP_REF_FUNC);
        CHECK(e[7].mode == WASM_SEGMENT_DECLARATIVE && e[7].count == 0);
        CHECK(e[0].section_offset < e[1].section_offset &&
              m->bytes[e[2].section_offset] == 0x02);
    }
    wasm_module_free(m);
    free(b.p);

    LIT_ERR(HEADER "\x09\x03\x01\x08\x00", "malformed elements segment kind");
    LIT_ERR(HEADER "\x09\x04\x01\x01\x01\x00", "malformed element kind");
    LIT_ERR(HEADER "\x09\x04\x01\x05\x7f\x00", "malformed reference type");
    LIT_ERR(HEADER "\x09\x05\x01\x00\x41\x00\x0b", "unexpected end");
    LIT_ERR(HEADER "\x09\x07\x01\x00\x41\x00\x0b\x05\x00", "length out of bounds");
    LIT_ERR(HEADER "\x09\x08\x01\x04\x41\x00\x0b\x01\x41\x00", "unexpected end");
}

static void test_code(void)
{
    /* Function and code section counts. */
    LIT_ERR(HEADER "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00", "function and code section have inconsistent lengths");
    LIT_ERR(HEADER "\x01\x04\x01\x60\x00\x00\x0a\x04\x01\x02\x00\x0b", "function and code section have inconsistent lengths");
    LIT_ERR(HEADER "\x01\x04\x01\x60\x00\x00\x03\x03\x02\x00\x00\x0a\x04\x01\x02\x00\x0b",
            "function and code section have inconsistent lengths");
    LIT_ERR(HEADER "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x07\x02\x02\x00\x0b\x02\x00\x0b",
            "function and code section have inconsistent lengths");
    wasm_module_t *m = LIT_OK(HEADER "\x03\x01\x00\x0a\x01\x00");
    wasm_module_free(m);

    /* Bodies: missing end, empty, truncated. */
    LIT_ERR(HEADER "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x06\x01\x04\x00\x41\x01\x1a",
            "END opcode expected");
    LIT_ERR(HEADER "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x03\x01\x01\x00",
            "END opcode expected");
    LIT_ERR(HEADER "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x02\x01\x00",
            "unexpected end of section or function");
    LIT_ERR(HEADER "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x04\x01\x05\x00\x0b",
            "length out of bounds");
    LIT_ERR(HEADER "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x04\x01\x05\x00\x0b"
                   "\x00\x03\x02" "ab",
            "unexpected end of section or function");
    LIT_ERR(HEADER "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x06\x01\x04\x01\x01\x40\x0b",
            "malformed value type");
    /* Body errors name the function (imports included in the index). */
    wasm_module_t *out = NULL;
    const uint8_t bad[] = HEADER "\x01\x04\x01\x60\x00\x00"
                                 "\x02\x05\x01\x00\x00\x00\x00"
                                 "\x03\x03\x02\x00\x00\x0a\x07\x02\x02\x00\x0b\x02\x00\x01";
    whirl_error_t *e = wasm_decode(bad, sizeof bad - 1, &out);
    check(e && strstr(whirl_error_message(e), "END opcode expected") &&
              strstr(whirl_error_message(e), "func 2") &&
              strstr(whirl_error_message(e), "section 10 code"),
          __LINE__, "got \"%s\"", e ? whirl_error_message(e) : "success");
    whirl_error_delete(e);

    /* Locals: the total must fit in u32, and whirl allows at most 50,000. */
    LIT_ERR(HEADER "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x0c\x01\x0a\x02"
                   "\xff\xff\xff\xff\x0f\x7f\x02\x7e\x0b",
            "too many locals");
    LIT_ERR(HEADER "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x0a\x01\x08\x02"
                   "\xd0\x86\x03\x7f\x01\x7e\x0b",
            "too many locals");
    m = LIT_OK(HEADER "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x0a\x01\x08\x02"
                      "\xcf\x86\x03\x7f\x01\x7e\x0b");
    if (m) {
        CHECK(m->funcs[0].nlocals == 50000 && m->funcs[0].local_runs[0].count == 49999);
        wasm_module_free(m);
    }
    /* Zero-count runs are allowed. */
    m = LIT_OK(HEADER "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x08\x01\x06\x02\x00\x7f\x00\x7e\x0b");
    if (m) {
        CHECK(m->funcs[0].nlocals == 0 && m->funcs[0].nlocal_runs == 2);
        wasm_module_free(m);
    }
    /* A run count larger than the body. */
    LIT_ERR(HEADER "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x08\x01\x06\xff\xff\xff\xff\x0f\x0b",
            "length out of bounds");
    /* Instructions are not decoded here: an illegal opcode before the end
     * is the validator's to find. */
    m = LIT_OK(HEADER "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x05\x01\x03\x00\xff\x0b");
    wasm_module_free(m);
}

static void test_data(void)
{
    wasm_module_t *m = LIT_OK(HEADER "\x05\x03\x01\x00\x01"
                                     "\x0b\x11\x03"
                                     "\x00\x41\x05\x0b\x01" "a"
                                     "\x01\x00"
                                     "\x02\x00\x41\x06\x0b\x02" "bc");
    if (m) {
        CHECK(m->ndatas == 3 && m->datas[0].mode == WASM_SEGMENT_ACTIVE && m->datas[0].memory == 0 &&
              m->datas[0].offset.instrs[0].imm.i32 == 5 && m->datas[0].len == 1);
        CHECK(m->datas[1].mode == WASM_SEGMENT_PASSIVE && m->datas[1].len == 0);
        CHECK(m->datas[2].mode == WASM_SEGMENT_ACTIVE && m->datas[2].len == 2 &&
              m->datas[2].bytes[1] == 'c');
        CHECK(!m->has_data_count);
        wasm_module_free(m);
    }
    LIT_ERR(HEADER "\x0b\x03\x01\x03\x00", "malformed data segment kind");
    LIT_ERR(HEADER "\x0b\x07\x01\x00\x41\x00\x0b\x07\x61", "length out of bounds");
    LIT_ERR(HEADER "\x0b\x07\x01\x00\x41\x00\x0b\x06\x61" "\x00\x05\x04" "abcd",
            "unexpected end of section or function");
    LIT_ERR(HEADER "\x0b\x06\x01\x00\x41\x00\x0b\xff", "unexpected end");
    /* Data count against the data section. */
    LIT_ERR(HEADER "\x0c\x01\x01\x0b\x01\x00", "data count and data section have inconsistent lengths");
    LIT_ERR(HEADER "\x0c\x01\x00\x0b\x04\x01\x01\x01" "a",
            "data count and data section have inconsistent lengths");
    LIT_ERR(HEADER "\x0c\x01\x02", "data count and data section have inconsistent lengths");
    m = LIT_OK(HEADER "\x0c\x01\x00");
    wasm_module_free(m);
    m = LIT_OK(HEADER "\x0c\x01\x01\x0b\x04\x01\x01\x01" "a");
    if (m) {
        CHECK(m->has_data_count && m->data_count == 1 && m->ndatas == 1);
        wasm_module_free(m);
    }
}

static void test_name_section(void)
{
    /* Two imported and one defined function; names for 0 and 2, an
     * out-of-range index, a name with bad UTF-8 (ignored), a local-names
     * subsection (skipped). */
    buf_t b = module_start();
    SEC(&b, 1, "\x01\x60\x00\x00");
    SEC(&b, 2, "\x02\x01" "a" "\x01" "b" "\x00\x00\x01" "a" "\x01" "c" "\x00\x00");
    SEC(&b, 3, "\x01\x00");
    SEC(&b, 10, "\x01\x02\x00\x0b");
    SEC(&b, 0, "\x04" "name"
               "\x01\x11\x04"
               "\x00\x02" "f0"
               "\x02\x02" "f2"
               "\x07\x02" "f7"
               "\x01\x02\xc0\x80"
               "\x02\x05\x01\x00\x01\x00\x00");
    wasm_module_t *m = DECODE_OK(b);
    if (m) {
        CHECK(m->func_names != NULL && m->module_name == NULL);
        if (m->func_names)
            CHECK(strcmp(m->func_names[0], "f0") == 0 && m->func_names[1] == NULL &&
                  strcmp(m->func_names[2], "f2") == 0);
        wasm_module_free(m);
    }
    free(b.p);

    /* A broken name section never fails the module. */
    static const char *const broken[] = {
        "\x04" "name" "\x01\x7f\x01",           /* subsection past the end */
        "\x04" "name" "\x01\x03\x05\x00\x01",   /* count too large */
        "\x04" "name" "\x00\x02\x05" "a",       /* module name too long */
        "\x04" "name" "\x00\x02\x01\xff",       /* module name not UTF-8 */
        "\x04" "name" "\x01\x04\x01\x00\x05" "a", /* function name too long */
        "\x04" "name" "\x01",                   /* truncated subsection header */
        "\x04" "name" "\x01\x80",
        "\x04" "name" "\x01\x05\x01\x00\x02" "ab" "\x01\x02\x00\x00", /* id 1 twice */
    };
    static const size_t broken_len[] = {8, 10, 9, 9, 11, 6, 7, 16};
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        b = module_start();
        SEC(&b, 1, "\x01\x60\x00\x00");
        SEC(&b, 3, "\x01\x00");
        SEC(&b, 10, "\x01\x02\x00\x0b");
        put_section(&b, 0, broken[i], broken_len[i]);
        m = NULL;
        whirl_error_t *e = wasm_decode(b.p, b.len, &m);
        check(e == NULL && m, __LINE__, "broken name section %zu: %s", i,
              e ? whirl_error_message(e) : "");
        if (m && i == 7)
            CHECK(m->func_names && strcmp(m->func_names[0], "ab") == 0);
        whirl_error_delete(e);
        wasm_module_free(m);
        free(b.p);
    }

    /* A name section without functions leaves func_names NULL; the module
     * name alone still counts. */
    m = LIT_OK(HEADER "\x00\x0c\x04" "name" "\x00\x02\x01" "x" "\x01\x01\x00");
    if (m) {
        CHECK(m->func_names == NULL && m->module_name && strcmp(m->module_name, "x") == 0);
        wasm_module_free(m);
    }
    /* The custom section's own name must be UTF-8. */
    LIT_ERR(HEADER "\x00\x02\x01\xff", "malformed UTF-8 encoding");
    LIT_ERR(HEADER "\x00\x00", "unexpected end");
    LIT_ERR(HEADER "\x00\x02\x05" "a", "length out of bounds");
    LIT_ERR(HEADER "\x00\x02\x03" "a" "\x00\x01\x00", "unexpected end of section or function");
}

static void test_valtype_names(void)
{
    CHECK(strcmp(wasm_valtype_name(WASM_I32), "i32") == 0);
    CHECK(strcmp(wasm_valtype_name(WASM_I64), "i64") == 0);
    CHECK(strcmp(wasm_valtype_name(WASM_F32), "f32") == 0);
    CHECK(strcmp(wasm_valtype_name(WASM_F64), "f64") == 0);
    CHECK(strcmp(wasm_valtype_name(WASM_V128), "v128") == 0);
    CHECK(strcmp(wasm_valtype_name(WASM_FUNCREF), "funcref") == 0);
    CHECK(strcmp(wasm_valtype_name(WASM_EXTERNREF), "externref") == 0);
    CHECK(wasm_valtype_name(0x40) != NULL);
    wasm_module_free(NULL);
    CHECK(true);
}

int main(void)
{
    test_header();
    test_section_framing();
    test_section_order();
    test_leb();
    test_types();
    test_imports();
    test_utf8();
    test_sections_misc();
    test_all_sections();
    test_elements();
    test_code();
    test_data();
    test_name_section();
    test_valtype_names();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
