/*
 * whirl-spec: runs the JSON scripts that wast2json (wabt 1.0.32) writes for
 * the WebAssembly spec tests against whirl's public API.
 *
 *   whirl-spec [-v] [--timeout SECONDS] FILE.json [FILE.json...]
 *
 * Each JSON file gets a fresh engine and store. For each file it prints the
 * failures (at most MAX_REPORTED) and then "NAME.wast: N passed, M failed,
 * K skipped". Exit status 1 if anything failed.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jit_stats.h"
#include "spectest.h"
#include "whirl.h"

#define MAX_REPORTED 20

/* wast2json writes export names as JSON strings, and names may contain NUL
 * (names.wast). cJSON decodes "\u0000" into a terminating NUL and loses the
 * rest, so before parsing, each "\u0000" escape is replaced by the raw byte
 * NUL_MARK, which never occurs in wast2json's output (it is not valid UTF-8),
 * and json_bytes() turns it back into NUL with an explicit length. */
#define NUL_MARK 0xff

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "whirl-spec: out of memory\n");
        exit(2);
    }
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fprintf(stderr, "whirl-spec: out of memory\n");
        exit(2);
    }
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

/* An error's message; never NULL, so it can go straight to printf. */
static const char *errmsg(const whirl_error_t *err)
{
    const char *m = err ? whirl_error_message(err) : NULL;
    return m ? m : "(no message)";
}

/* Reads a whole file. Returns NULL (errno set) on failure. */
static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    uint8_t *buf = xmalloc(cap);
    for (;;) {
        if (n == cap)
            buf = xrealloc(buf, cap *= 2);
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    *len = n;
    return buf;
}

/* Rewrites "\u0000" escapes into NUL_MARK (see above). The result is NUL
 * terminated. Escaped backslashes are skipped as pairs, so "\\u0000" (a
 * backslash followed by the text u0000) is left alone. */
static char *mark_nuls(const uint8_t *text, size_t len)
{
    char *out = xmalloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        if (text[i] == '\\' && i + 1 < len) {
            if (i + 5 < len && memcmp(text + i + 1, "u0000", 5) == 0) {
                out[o++] = (char)NUL_MARK;
                i += 6;
            } else {
                out[o++] = (char)text[i];
                out[o++] = (char)text[i + 1];
                i += 2;
            }
        } else {
            out[o++] = (char)text[i++];
        }
    }
    out[o] = 0;
    return out;
}

/* A JSON string as bytes: NUL_MARK becomes NUL. Returns a malloc'ed copy
 * (NUL terminated too, for messages) or NULL if `item` is not a string. */
static char *json_bytes(const cJSON *item, size_t *len)
{
    if (!cJSON_IsString(item) || !item->valuestring)
        return NULL;
    char *s = xstrdup(item->valuestring);
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if ((uint8_t)s[i] == NUL_MARK)
            s[i] = 0;
    *len = n;
    return s;
}

static const char *json_str(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* Appends printf output to a bounded buffer, truncating silently. */
typedef struct sbuf {
    char *buf;
    size_t cap, len;
} sbuf_t;

static void sb_printf(sbuf_t *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf_t *sb, const char *fmt, ...)
{
    if (sb->len + 1 >= sb->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    sb->len += (size_t)n;
    if (sb->len >= sb->cap)
        sb->len = sb->cap - 1;
}

/* A name as a quoted string with non-printable bytes escaped. */
static void sb_name(sbuf_t *sb, const char *s, size_t n)
{
    sb_printf(sb, "\"");
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c == '"' || c == '\\')
            sb_printf(sb, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            sb_printf(sb, "\\%02x", c);
        else
            sb_printf(sb, "%c", c);
    }
    sb_printf(sb, "\"");
}

/* ------------------------------------------------------------------ */
/* Values                                                              */
/* ------------------------------------------------------------------ */

/* MATCH_ANY_NULL: a 3.0 script's `(ref.null)`, a null reference of any type. */
enum { MATCH_EXACT = 0, MATCH_NAN_CANONICAL, MATCH_NAN_ARITHMETIC, MATCH_ANY_REF, MATCH_ANY_NULL };

/* An expected result: `val` holds the exact bits when `mode` (or, for v128,
 * a lane's entry in `lane_mode`) is MATCH_EXACT. */
typedef struct expect {
    whirl_val_t val;
    int mode;
    char lane_type[4]; /* v128 only: "i8", "i16", "i32", "i64", "f32", "f64" */
    unsigned lanes;
    uint8_t lane_mode[16];
} expect_t;

static const char *kind_name(whirl_valkind_t k)
{
    switch (k) {
    case WHIRL_I32: return "i32";
    case WHIRL_I64: return "i64";
    case WHIRL_F32: return "f32";
    case WHIRL_F64: return "f64";
    case WHIRL_V128: return "v128";
    case WHIRL_FUNCREF: return "funcref";
    case WHIRL_EXTERNREF: return "externref";
    case WHIRL_EXNREF: return "exnref";
    }
    return "?";
}

static bool kind_from_name(const char *s, whirl_valkind_t *k)
{
    static const whirl_valkind_t kinds[] = {WHIRL_I32,  WHIRL_I64,     WHIRL_F32,      WHIRL_F64,
                                            WHIRL_V128, WHIRL_FUNCREF, WHIRL_EXTERNREF,
                                            WHIRL_EXNREF};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(s, kind_name(kinds[i])) == 0) {
            *k = kinds[i];
            return true;
        }
    return false;
}

/* Parses a decimal number of at most `bits` bits. wast2json writes the
 * unsigned bit pattern, but a leading '-' is accepted as two's complement. */
static bool parse_bits(const char *s, unsigned bits, uint64_t *out)
{
    if (!s || !*s)
        return false;
    bool neg = *s == '-';
    const char *p = neg ? s + 1 : s;
    if (*p < '0' || *p > '9')
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(p, &end, 10);
    if (errno || *end)
        return false;
    uint64_t mask = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
    if (neg) {
        if (v > (mask >> 1) + 1)
            return false;
        v = (0 - v) & mask;
    } else if (v > mask) {
        return false;
    }
    *out = v;
    return true;
}

static unsigned lane_bits(const char *lane_type)
{
    if (strcmp(lane_type, "i8") == 0)
        return 8;
    if (strcmp(lane_type, "i16") == 0)
        return 16;
    if (strcmp(lane_type, "i32") == 0 || strcmp(lane_type, "f32") == 0)
        return 32;
    if (strcmp(lane_type, "i64") == 0 || strcmp(lane_type, "f64") == 0)
        return 64;
    return 0;
}

/* Parses a value or an expectation (when `exp` is not NULL, NaN patterns and
 * a missing funcref value are allowed). Writes a reason into `why` on
 * failure. */
static bool parse_value(const cJSON *j, whirl_val_t *val, expect_t *exp, sbuf_t *why)
{
    const char *type = json_str(j, "type");
    whirl_valkind_t kind;
    if (exp && type && strcmp(type, "refnull") == 0) {
        memset(exp, 0, sizeof *exp);
        memset(val, 0, sizeof *val);
        val->kind = WHIRL_FUNCREF;
        exp->mode = MATCH_ANY_NULL;
        return true;
    }
    if (!type || !kind_from_name(type, &kind)) {
        sb_printf(why, "unknown value type %s", type ? type : "(none)");
        return false;
    }
    if (exp) { /* first: `val` may point into `exp` */
        memset(exp, 0, sizeof *exp);
        exp->mode = MATCH_EXACT;
    }
    memset(val, 0, sizeof *val);
    val->kind = kind;
    const cJSON *jv = cJSON_GetObjectItemCaseSensitive(j, "value");
    const char *s = cJSON_IsString(jv) ? jv->valuestring : NULL;
    uint64_t bits;

    if (kind == WHIRL_V128) {
        const char *lt = json_str(j, "lane_type");
        unsigned lb = lt ? lane_bits(lt) : 0;
        if (!lb || !cJSON_IsArray(jv) || cJSON_GetArraySize(jv) != (int)(128 / lb)) {
            sb_printf(why, "bad v128 value");
            return false;
        }
        if (exp) {
            snprintf(exp->lane_type, sizeof exp->lane_type, "%s", lt);
            exp->lanes = 128 / lb;
        }
        unsigned i = 0;
        const cJSON *lane;
        cJSON_ArrayForEach(lane, jv) {
            const char *ls = cJSON_IsString(lane) ? lane->valuestring : NULL;
            bits = 0;
            if (exp && lt[0] == 'f' && ls && strcmp(ls, "nan:canonical") == 0)
                exp->lane_mode[i] = MATCH_NAN_CANONICAL;
            else if (exp && lt[0] == 'f' && ls && strcmp(ls, "nan:arithmetic") == 0)
                exp->lane_mode[i] = MATCH_NAN_ARITHMETIC;
            else if (!parse_bits(ls, lb, &bits)) {
                sb_printf(why, "bad v128 lane %s", ls ? ls : "(none)");
                return false;
            }
            for (unsigned b = 0; b < lb / 8; b++) /* little-endian lanes */
                val->of.v128[i * (lb / 8) + b] = (uint8_t)(bits >> (8 * b));
            i++;
        }
        return true;
    }

    if (kind == WHIRL_EXNREF) {
        if (!s && exp) {
            exp->mode = MATCH_ANY_REF;
            return true;
        }
        if (s && strcmp(s, "null") == 0)
            return true;
        sb_printf(why, "exnref %s cannot be made", s ? s : "argument without a value");
        return false;
    }
    if (kind == WHIRL_FUNCREF || kind == WHIRL_EXTERNREF) {
        if (!s) {
            /* Only an expectation may omit the value: any non-null ref. */
            if (exp) {
                exp->mode = MATCH_ANY_REF;
                return true;
            }
            sb_printf(why, "%s argument without a value", type);
            return false;
        }
        if (strcmp(s, "null") == 0)
            return true; /* NULL is null in whirl's API */
        if (!parse_bits(s, 64, &bits) || bits == UINT64_MAX) {
            sb_printf(why, "bad %s value %s", type, s);
            return false;
        }
        if (kind == WHIRL_EXTERNREF) {
            /* Host externref N is the non-null pointer N + 1. */
            val->of.externref = (void *)(uintptr_t)(bits + 1);
        } else if (exp) {
            exp->mode = MATCH_ANY_REF; /* a host funcref number has no meaning here */
        } else {
            sb_printf(why, "funcref argument %s cannot be made", s);
            return false;
        }
        return true;
    }

    if (exp && (kind == WHIRL_F32 || kind == WHIRL_F64) && s) {
        if (strcmp(s, "nan:canonical") == 0) {
            exp->mode = MATCH_NAN_CANONICAL;
            return true;
        }
        if (strcmp(s, "nan:arithmetic") == 0) {
            exp->mode = MATCH_NAN_ARITHMETIC;
            return true;
        }
    }
    unsigned nbits = (kind == WHIRL_I32 || kind == WHIRL_F32) ? 32 : 64;
    if (!parse_bits(s, nbits, &bits)) {
        sb_printf(why, "bad %s value %s", type, s ? s : "(none)");
        return false;
    }
    /* memcpy keeps NaN payloads (including signalling NaNs) bit-exact. */
    if (kind == WHIRL_I32) {
        uint32_t b = (uint32_t)bits;
        memcpy(&val->of.i32, &b, 4);
    } else if (kind == WHIRL_I64) {
        memcpy(&val->of.i64, &bits, 8);
    } else if (kind == WHIRL_F32) {
        uint32_t b = (uint32_t)bits;
        memcpy(&val->of.f32, &b, 4);
    } else {
        memcpy(&val->of.f64, &bits, 8);
    }
    return true;
}

static uint32_t f32_bits(float f)
{
    uint32_t b;
    memcpy(&b, &f, 4);
    return b;
}

static uint64_t f64_bits(double f)
{
    uint64_t b;
    memcpy(&b, &f, 8);
    return b;
}

/* Canonical NaN: only the top mantissa bit set (either sign). Arithmetic NaN:
 * the top mantissa bit set, any payload below it. */
static bool nan32_ok(uint32_t b, int mode)
{
    if (mode == MATCH_NAN_CANONICAL)
        return (b & 0x7fffffffu) == 0x7fc00000u;
    return (b & 0x7fc00000u) == 0x7fc00000u;
}

static bool nan64_ok(uint64_t b, int mode)
{
    if (mode == MATCH_NAN_CANONICAL)
        return (b & UINT64_C(0x7fffffffffffffff)) == UINT64_C(0x7ff8000000000000);
    return (b & UINT64_C(0x7ff8000000000000)) == UINT64_C(0x7ff8000000000000);
}

static uint64_t v128_lane(const uint8_t *v, unsigned lb, unsigned i)
{
    uint64_t x = 0;
    for (unsigned b = 0; b < lb / 8; b++)
        x |= (uint64_t)v[i * (lb / 8) + b] << (8 * b);
    return x;
}

static bool value_matches(const whirl_val_t *got, const expect_t *exp)
{
    if (exp->mode == MATCH_ANY_NULL)
        return (got->kind == WHIRL_FUNCREF && !got->of.funcref) ||
               (got->kind == WHIRL_EXTERNREF && !got->of.externref) ||
               (got->kind == WHIRL_EXNREF && !got->of.exnref);
    if (got->kind != exp->val.kind)
        return false;
    switch (got->kind) {
    case WHIRL_I32:
        return (uint32_t)got->of.i32 == (uint32_t)exp->val.of.i32;
    case WHIRL_I64:
        return got->of.i64 == exp->val.of.i64;
    case WHIRL_F32:
        if (exp->mode != MATCH_EXACT)
            return nan32_ok(f32_bits(got->of.f32), exp->mode);
        return f32_bits(got->of.f32) == f32_bits(exp->val.of.f32);
    case WHIRL_F64:
        if (exp->mode != MATCH_EXACT)
            return nan64_ok(f64_bits(got->of.f64), exp->mode);
        return f64_bits(got->of.f64) == f64_bits(exp->val.of.f64);
    case WHIRL_FUNCREF:
        if (exp->mode == MATCH_ANY_REF)
            return got->of.funcref != NULL;
        return got->of.funcref == exp->val.of.funcref;
    case WHIRL_EXTERNREF:
        if (exp->mode == MATCH_ANY_REF)
            return got->of.externref != NULL;
        return got->of.externref == exp->val.of.externref;
    case WHIRL_EXNREF:
        if (exp->mode == MATCH_ANY_REF)
            return got->of.exnref != NULL;
        return got->of.exnref == exp->val.of.exnref;
    case WHIRL_V128: {
        unsigned lb = 128 / exp->lanes;
        for (unsigned i = 0; i < exp->lanes; i++) {
            uint64_t g = v128_lane(got->of.v128, lb, i);
            uint64_t e = v128_lane(exp->val.of.v128, lb, i);
            int mode = exp->lane_mode[i];
            if (mode != MATCH_EXACT) {
                if (!(lb == 32 ? nan32_ok((uint32_t)g, mode) : nan64_ok(g, mode)))
                    return false;
            } else if (g != e) {
                return false;
            }
        }
        return true;
    }
    }
    return false;
}

/* Formats a value; `lane_type` (may be NULL) chooses the v128 lane shape. */
static void sb_value(sbuf_t *sb, const whirl_val_t *v, const char *lane_type)
{
    switch (v->kind) {
    case WHIRL_I32:
        sb_printf(sb, "i32:%" PRIu32, (uint32_t)v->of.i32);
        break;
    case WHIRL_I64:
        sb_printf(sb, "i64:%" PRIu64, (uint64_t)v->of.i64);
        break;
    case WHIRL_F32:
        sb_printf(sb, "f32:0x%08" PRIx32 " (%.9g)", f32_bits(v->of.f32), (double)v->of.f32);
        break;
    case WHIRL_F64:
        sb_printf(sb, "f64:0x%016" PRIx64 " (%.17g)", f64_bits(v->of.f64), v->of.f64);
        break;
    case WHIRL_FUNCREF:
        if (v->of.funcref)
            sb_printf(sb, "funcref:%p", (void *)v->of.funcref);
        else
            sb_printf(sb, "funcref:null");
        break;
    case WHIRL_EXTERNREF:
        if (v->of.externref)
            sb_printf(sb, "externref:%" PRIuPTR, (uintptr_t)v->of.externref - 1);
        else
            sb_printf(sb, "externref:null");
        break;
    case WHIRL_EXNREF:
        sb_printf(sb, v->of.exnref ? "exnref:%p" : "exnref:null", (void *)v->of.exnref);
        break;
    case WHIRL_V128: {
        const char *lt = lane_type ? lane_type : "i32";
        unsigned lb = lane_bits(lt);
        sb_printf(sb, "v128:%sx%u", lt, 128 / lb);
        for (unsigned i = 0; i < 128 / lb; i++)
            sb_printf(sb, " 0x%" PRIx64, v128_lane(v->of.v128, lb, i));
        break;
    }
    default:
        sb_printf(sb, "<kind %d>", (int)v->kind);
    }
}

static void sb_expect(sbuf_t *sb, const expect_t *e)
{
    if (e->val.kind == WHIRL_V128) {
        unsigned lb = 128 / e->lanes;
        sb_printf(sb, "v128:%sx%u", e->lane_type, e->lanes);
        for (unsigned i = 0; i < e->lanes; i++) {
            if (e->lane_mode[i] == MATCH_NAN_CANONICAL)
                sb_printf(sb, " nan:canonical");
            else if (e->lane_mode[i] == MATCH_NAN_ARITHMETIC)
                sb_printf(sb, " nan:arithmetic");
            else
                sb_printf(sb, " 0x%" PRIx64, v128_lane(e->val.of.v128, lb, i));
        }
        return;
    }
    switch (e->mode) {
    case MATCH_NAN_CANONICAL:
        sb_printf(sb, "%s:nan:canonical", kind_name(e->val.kind));
        return;
    case MATCH_NAN_ARITHMETIC:
        sb_printf(sb, "%s:nan:arithmetic", kind_name(e->val.kind));
        return;
    case MATCH_ANY_REF:
        sb_printf(sb, "%s:<non-null>", kind_name(e->val.kind));
        return;
    case MATCH_ANY_NULL:
        sb_printf(sb, "ref.null (any type)");
        return;
    }
    sb_value(sb, &e->val, NULL);
}

/* ------------------------------------------------------------------ */
/* Traps                                                               */
/* ------------------------------------------------------------------ */

/* The trap code a spec test's expected message means, or 0 if unknown. */
static whirl_trap_code_t trap_code_for_text(const char *text)
{
    static const struct {
        const char *prefix;
        whirl_trap_code_t code;
    } map[] = {
        {"unreachable", WHIRL_TRAP_UNREACHABLE},
        {"out of bounds memory access", WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS},
        {"memory access out of bounds", WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS},
        {"out of bounds table access", WHIRL_TRAP_TABLE_OUT_OF_BOUNDS},
        {"undefined element", WHIRL_TRAP_TABLE_OUT_OF_BOUNDS},
        {"uninitialized element", WHIRL_TRAP_INDIRECT_CALL_NULL},
        {"indirect call type mismatch", WHIRL_TRAP_INDIRECT_CALL_TYPE},
        {"integer divide by zero", WHIRL_TRAP_INTEGER_DIVIDE_BY_ZERO},
        {"integer overflow", WHIRL_TRAP_INTEGER_OVERFLOW},
        {"invalid conversion to integer", WHIRL_TRAP_INVALID_CONVERSION},
        {"call stack exhausted", WHIRL_TRAP_STACK_EXHAUSTED},
        {"null reference", WHIRL_TRAP_NULL_REFERENCE},
        {"unaligned atomic", WHIRL_TRAP_UNALIGNED_ATOMIC},
        {"expected shared memory", WHIRL_TRAP_WAIT_UNSHARED},
        {"null function reference", WHIRL_TRAP_NULL_REFERENCE}, /* call_ref */
    };
    if (!text)
        return 0;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strncmp(text, map[i].prefix, strlen(map[i].prefix)) == 0)
            return map[i].code;
    return 0;
}

static const char *trap_name(whirl_trap_code_t code)
{
    const char *n = whirl_trap_code_name(code);
    return n ? n : "?";
}

/* ------------------------------------------------------------------ */
/* Per-file state                                                      */
/* ------------------------------------------------------------------ */

typedef struct named {
    char *name;
    whirl_instance_t *instance; /* NULL: the module failed */
} named_t;

/* `module definition $M`: a compiled module that `module instance` makes
 * instances of (each one new: instantiation is generative). */
typedef struct definition {
    char *name;
    whirl_module_t *module; /* NULL: the module failed to compile */
} definition_t;

typedef struct runner {
    bool verbose;
    unsigned timeout_s; /* per call into wasm; 0 = none */
    const char *dir;    /* directory of the JSON file, for .wasm paths */
    const char *wast;   /* for messages */

    whirl_engine_t *engine;
    whirl_store_t *store;
    whirl_linker_t *linker;
    spectest_t spectest;
    ticker_t *ticker;

    whirl_module_t **modules; /* every module handle, deleted at the end */
    size_t nmodules, cap_modules;

    bool have_current;          /* a module command has run */
    whirl_instance_t *current;  /* NULL if the last module failed */
    named_t *named;             /* "$name" -> instance */
    size_t nnamed;
    named_t *registered;        /* register "as" -> instance, in order */
    size_t nregistered;
    definition_t *definitions;  /* "$name" -> module, from `module definition` */
    size_t ndefinitions;

    unsigned passed, failed, skipped;
    int line;
    sbuf_t what; /* description of the current command */
    char what_buf[512];
} runner_t;

#define TICK_MS 10

static void report(runner_t *r, bool ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void report(runner_t *r, bool ok, const char *fmt, ...)
{
    char detail[2048] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
    }
    if (ok) {
        r->passed++;
        if (r->verbose)
            printf("  ok   line %d: %s%s%s\n", r->line, r->what.buf, *detail ? ": " : "", detail);
        return;
    }
    r->failed++;
    if (r->verbose || r->failed <= MAX_REPORTED)
        printf("  FAIL line %d: %s%s%s\n", r->line, r->what.buf, *detail ? ": " : "", detail);
    fflush(stdout);
}

static void skip(runner_t *r, const char *why)
{
    r->skipped++;
    /* WHIRL_SPEC_SHOW_SKIPS: every skip with its reason, without -v's
     * passes (tests/spec/run-wasm3 sets it: no silent skips). */
    static int show = -1;
    if (show < 0)
        show = getenv("WHIRL_SPEC_SHOW_SKIPS") != NULL;
    if (r->verbose || show)
        printf("  skip line %d: %s: %s\n", r->line, r->what.buf, why);
}

static void note(runner_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(runner_t *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("  note line %d: ", r->line);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

static named_t *find_named(named_t *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return &v[i];
    return NULL;
}

/* Sets name -> instance, replacing an earlier binding. Returns true if it
 * replaced one. */
static bool bind_name(named_t **v, size_t *n, const char *name, whirl_instance_t *inst)
{
    named_t *e = find_named(*v, *n, name);
    if (e) {
        e->instance = inst;
        return true;
    }
    *v = xrealloc(*v, (*n + 1) * sizeof **v);
    (*v)[*n].name = xstrdup(name);
    (*v)[*n].instance = inst;
    (*n)++;
    return false;
}

/* The definitions' names (their modules are in r->modules). */
static void free_definitions(runner_t *r)
{
    for (size_t i = 0; i < r->ndefinitions; i++)
        free(r->definitions[i].name);
    free(r->definitions);
}

static void free_names(named_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].name);
    free(v);
}

/* Builds the linker from scratch: spectest plus every registered instance.
 * A linker cannot redefine a name, so a second `register` of the same name
 * rebuilds it (the spectest objects are reused, see spectest_define). */
static whirl_error_t *rebuild_linker(runner_t *r)
{
    whirl_linker_delete(r->linker);
    r->linker = whirl_linker_new(r->engine);
    if (!r->linker)
        return whirl_error_new("whirl_linker_new failed");
    whirl_error_t *err = spectest_define(r->linker, r->engine, r->store, &r->spectest);
    if (err)
        return err;
    for (size_t i = 0; i < r->nregistered; i++)
        if ((err = whirl_linker_define_instance(r->linker, r->registered[i].name,
                                                r->registered[i].instance)))
            return err;
    return NULL;
}

static void arm_deadline(runner_t *r)
{
    if (r->ticker)
        whirl_store_set_epoch_deadline(r->store, (uint64_t)r->timeout_s * 1000 / TICK_MS);
}

static void add_module(runner_t *r, whirl_module_t *m)
{
    if (r->nmodules == r->cap_modules) {
        r->cap_modules = r->cap_modules ? 2 * r->cap_modules : 16;
        r->modules = xrealloc(r->modules, r->cap_modules * sizeof *r->modules);
    }
    r->modules[r->nmodules++] = m;
}

/* WHIRL_SPEC_ROUNDTRIP=1: every module is serialised and replaced by its
 * deserialised copy before use, which must serialise to the same bytes
 * (tests/cache: the whole suite must pass that way too). */
static bool roundtrip_module(runner_t *r, whirl_module_t **m, whirl_error_t **err, sbuf_t *why)
{
    uint8_t *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    whirl_module_t *copy = NULL;
    if ((*err = whirl_module_serialize(*m, &a, &alen)) ||
        (*err = whirl_module_deserialize(r->engine, a, alen, &copy)) ||
        (*err = whirl_module_serialize(copy, &b, &blen))) {
        whirl_module_delete(copy);
        whirl_module_delete(*m);
        *m = NULL;
        free(a);
        return false;
    }
    bool same = alen == blen && memcmp(a, b, alen) == 0;
    free(a);
    free(b);
    whirl_module_delete(*m);
    *m = copy;
    if (!same) {
        sb_printf(why, "round trip: the deserialised module serialises differently");
        whirl_module_delete(copy);
        *m = NULL;
        return false;
    }
    return true;
}

/* Loads and compiles the command's "filename". On failure returns false and
 * *err (if any engine error) or `why` says what went wrong. */
static bool load_module(runner_t *r, const cJSON *cmd, whirl_module_t **out, whirl_error_t **err,
                        sbuf_t *why)
{
    *out = NULL;
    *err = NULL;
    const char *file = json_str(cmd, "filename");
    if (!file) {
        sb_printf(why, "no filename");
        return false;
    }
    size_t plen = strlen(r->dir) + strlen(file) + 2;
    char *path = xmalloc(plen);
    snprintf(path, plen, "%s/%s", r->dir, file);
    size_t len = 0;
    uint8_t *bytes = read_file(path, &len);
    if (!bytes) {
        sb_printf(why, "cannot read %s: %s", path, strerror(errno));
        free(path);
        return false;
    }
    free(path);
    *err = whirl_module_new(r->engine, bytes, len, out);
    free(bytes);
    if (*err) {
        *out = NULL;
        return false;
    }
    if (getenv("WHIRL_SPEC_ROUNDTRIP") && !roundtrip_module(r, out, err, why))
        return false;
    add_module(r, *out);
    spec_jit_stats_add(*out);
    return true;
}

/* ------------------------------------------------------------------ */
/* Actions                                                             */
/* ------------------------------------------------------------------ */

typedef struct action_result {
    whirl_error_t *error; /* the call's error (trap or not) */
    whirl_val_t *results;
    size_t nresults;
} action_result_t;

/* Describes an action ("invoke $M \"f\"(i32:1)") into r->what. */
static void describe_action(runner_t *r, const cJSON *action)
{
    const char *type = json_str(action, "type");
    const char *mod = json_str(action, "module");
    sb_printf(&r->what, " %s", type ? type : "?");
    if (mod)
        sb_printf(&r->what, " %s", mod);
    size_t flen;
    char *field = json_bytes(cJSON_GetObjectItemCaseSensitive(action, "field"), &flen);
    if (field) {
        sb_printf(&r->what, " ");
        sb_name(&r->what, field, flen);
        free(field);
    }
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(action, "args");
    if (type && strcmp(type, "invoke") == 0 && cJSON_IsArray(args)) {
        sb_printf(&r->what, "(");
        const cJSON *a;
        bool first = true;
        cJSON_ArrayForEach(a, args) {
            whirl_val_t v;
            char wb[64];
            sbuf_t why = {wb, sizeof wb, 0};
            if (!first)
                sb_printf(&r->what, ", ");
            first = false;
            const char *lt = json_str(a, "lane_type");
            if (parse_value(a, &v, NULL, &why))
                sb_value(&r->what, &v, lt);
            else
                sb_printf(&r->what, "?");
        }
        sb_printf(&r->what, ")");
    }
}

/* Finds the instance an action or register refers to. */
static whirl_instance_t *target_instance(runner_t *r, const char *name, sbuf_t *why)
{
    if (name) {
        named_t *e = find_named(r->named, r->nnamed, name);
        if (!e) {
            sb_printf(why, "no module named %s", name);
            return NULL;
        }
        if (!e->instance)
            sb_printf(why, "module %s failed to load", name);
        return e->instance;
    }
    if (!r->have_current) {
        sb_printf(why, "no module defined yet");
        return NULL;
    }
    if (!r->current)
        sb_printf(why, "the current module failed to load");
    return r->current;
}

/* Performs an action. Returns false (reason in `why`) if it could not even
 * be attempted; otherwise true with the outcome in *res. */
static bool run_action(runner_t *r, const cJSON *action, action_result_t *res, sbuf_t *why)
{
    memset(res, 0, sizeof *res);
    const char *type = json_str(action, "type");
    whirl_instance_t *inst = target_instance(r, json_str(action, "module"), why);
    if (!inst)
        return false;
    size_t flen;
    char *field = json_bytes(cJSON_GetObjectItemCaseSensitive(action, "field"), &flen);
    if (!field || !type) {
        free(field);
        sb_printf(why, "malformed action");
        return false;
    }
    whirl_extern_t ext;
    bool found = whirl_instance_export(inst, field, flen, &ext);
    free(field);
    if (!found) {
        sb_printf(why, "no such export");
        return false;
    }

    if (strcmp(type, "get") == 0) {
        if (ext.kind != WHIRL_EXTERN_GLOBAL) {
            sb_printf(why, "export is not a global (kind %d)", (int)ext.kind);
            return false;
        }
        res->results = xmalloc(sizeof *res->results);
        res->nresults = 1;
        whirl_global_get(ext.of.global, &res->results[0]);
        return true;
    }
    if (strcmp(type, "invoke") != 0) {
        sb_printf(why, "unknown action type %s", type);
        return false;
    }
    if (ext.kind != WHIRL_EXTERN_FUNC) {
        sb_printf(why, "export is not a function (kind %d)", (int)ext.kind);
        return false;
    }

    const cJSON *args = cJSON_GetObjectItemCaseSensitive(action, "args");
    size_t nargs = cJSON_IsArray(args) ? (size_t)cJSON_GetArraySize(args) : 0;
    whirl_val_t *argv = xmalloc(nargs * sizeof *argv);
    size_t i = 0;
    const cJSON *a;
    if (nargs)
        cJSON_ArrayForEach(a, args) {
            if (!parse_value(a, &argv[i], NULL, why)) {
                free(argv);
                return false;
            }
            i++;
        }
    const whirl_functype_t *ft = whirl_func_type(ext.of.func);
    size_t nres = ft ? whirl_functype_result_count(ft) : 0;
    res->results = xmalloc((nres ? nres : 1) * sizeof *res->results);
    memset(res->results, 0, (nres ? nres : 1) * sizeof *res->results);
    res->nresults = nres;
    arm_deadline(r);
    res->error = whirl_func_call(r->store, ext.of.func, argv, nargs, res->results, nres);
    free(argv);
    return true;
}

static void free_result(action_result_t *res)
{
    whirl_error_delete(res->error);
    free(res->results);
    memset(res, 0, sizeof *res);
}

static void sb_error(sbuf_t *sb, const whirl_error_t *err)
{
    whirl_trap_code_t code;
    const char *msg = whirl_error_message(err);
    if (whirl_error_is_trap(err, &code))
        sb_printf(sb, "trap %s (%s)", trap_name(code), msg ? msg : "");
    else
        sb_printf(sb, "error (%s)", msg ? msg : "");
}

/* ------------------------------------------------------------------ */
/* Commands                                                            */
/* ------------------------------------------------------------------ */

/* Instantiates `m` (NULL: it failed to load, `why` says why) as the
 * current instance, bound to `name` when there is one, and reports. */
static void instantiate_current(runner_t *r, whirl_module_t *m, const char *name, sbuf_t *why)
{
    whirl_instance_t *inst = NULL;
    if (m) {
        arm_deadline(r);
        whirl_error_t *err = r->linker ? whirl_linker_instantiate(r->linker, r->store, m, &inst)
                                       : whirl_error_new("no linker");
        if (err) {
            inst = NULL;
            sb_printf(why, "instantiation failed: ");
            sb_error(why, err);
            whirl_error_delete(err);
        }
    }
    r->have_current = true;
    r->current = inst;
    if (name)
        bind_name(&r->named, &r->nnamed, name, inst);
    if (inst)
        report(r, true, NULL);
    else
        report(r, false, "%s", why->buf);
}

/* Loads the command's module; NULL with `why` filled when it fails. */
static whirl_module_t *load_or_explain(runner_t *r, const cJSON *cmd, sbuf_t *why)
{
    whirl_module_t *m;
    whirl_error_t *err;
    if (load_module(r, cmd, &m, &err, why))
        return m;
    if (err) {
        sb_printf(why, "whirl_module_new failed: ");
        sb_error(why, err);
        whirl_error_delete(err);
    }
    return NULL;
}

static void cmd_module(runner_t *r, const cJSON *cmd)
{
    const char *name = json_str(cmd, "name");
    if (name)
        sb_printf(&r->what, " %s", name);
    char wb[512] = "";
    sbuf_t why = {wb, sizeof wb, 0};
    instantiate_current(r, load_or_explain(r, cmd, &why), name, &why);
}

/* `module definition $M`: compiled and validated, not instantiated. */
static void cmd_module_definition(runner_t *r, const cJSON *cmd)
{
    const char *name = json_str(cmd, "name");
    sb_printf(&r->what, " %s", name ? name : "(unnamed)");
    char wb[512] = "";
    sbuf_t why = {wb, sizeof wb, 0};
    whirl_module_t *m = load_or_explain(r, cmd, &why);
    if (name) {
        r->definitions = xrealloc(r->definitions, (r->ndefinitions + 1) * sizeof *r->definitions);
        r->definitions[r->ndefinitions].name = xstrdup(name);
        r->definitions[r->ndefinitions++].module = m;
    }
    if (m)
        report(r, true, NULL);
    else
        report(r, false, "%s", wb);
}

/* `module instance $I $M`: a new instance of definition $M, current from
 * now on and named $I. */
static void cmd_module_instance(runner_t *r, const cJSON *cmd)
{
    const char *name = json_str(cmd, "instance");
    const char *def = json_str(cmd, "module");
    sb_printf(&r->what, " %s of %s", name ? name : "(unnamed)", def ? def : "?");
    char wb[512] = "";
    sbuf_t why = {wb, sizeof wb, 0};
    whirl_module_t *m = NULL;
    for (size_t i = r->ndefinitions; i-- > 0;)
        if (def && strcmp(r->definitions[i].name, def) == 0) {
            m = r->definitions[i].module;
            if (!m)
                sb_printf(&why, "module definition %s failed to load", def);
            break;
        }
    if (!m && !why.len)
        sb_printf(&why, "no module definition named %s", def ? def : "(none given)");
    instantiate_current(r, m, name, &why);
}

static void cmd_register(runner_t *r, const cJSON *cmd)
{
    const char *as = json_str(cmd, "as");
    const char *name = json_str(cmd, "name");
    sb_printf(&r->what, " %s as \"%s\"", name ? name : "(current)", as ? as : "?");
    char wb[512] = "";
    sbuf_t why = {wb, sizeof wb, 0};
    if (!as) {
        report(r, false, "no \"as\"");
        return;
    }
    whirl_instance_t *inst = target_instance(r, name, &why);
    if (!inst) {
        report(r, false, "%s", wb);
        return;
    }
    whirl_error_t *err;
    if (bind_name(&r->registered, &r->nregistered, as, inst))
        err = rebuild_linker(r);
    else
        err = r->linker ? whirl_linker_define_instance(r->linker, as, inst)
                        : whirl_error_new("no linker");
    if (err) {
        sb_error(&why, err);
        whirl_error_delete(err);
        report(r, false, "%s", wb);
        return;
    }
    report(r, true, NULL);
}

/* `action`: the call must complete without a trap. */
static void cmd_action(runner_t *r, const cJSON *cmd)
{
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(cmd, "action");
    describe_action(r, action);
    char wb[1024];
    sbuf_t why = {wb, sizeof wb, 0};
    action_result_t res;
    if (!run_action(r, action, &res, &why)) {
        report(r, false, "%s", wb);
        return;
    }
    if (res.error) {
        sb_printf(&why, "got ");
        sb_error(&why, res.error);
        report(r, false, "%s", wb);
    } else {
        report(r, true, NULL);
    }
    free_result(&res);
}

static void cmd_assert_return(runner_t *r, const cJSON *cmd)
{
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(cmd, "action");
    describe_action(r, action);
    char wb[2048];
    sbuf_t why = {wb, sizeof wb, 0};
    const cJSON *expected = cJSON_GetObjectItemCaseSensitive(cmd, "expected");
    /* Relaxed SIMD's `(either v1 v2 ...)`: one result, any of the values. */
    const cJSON *either = cJSON_GetObjectItemCaseSensitive(cmd, "either");
    if (cJSON_IsArray(either))
        expected = either;
    else
        either = NULL;
    size_t nexp = cJSON_IsArray(expected) ? (size_t)cJSON_GetArraySize(expected) : 0;
    expect_t *exp = xmalloc(nexp * sizeof *exp);
    size_t i = 0;
    const cJSON *e;
    if (nexp)
        cJSON_ArrayForEach(e, expected) {
            if (!parse_value(e, &exp[i].val, &exp[i], &why)) {
                report(r, false, "bad expectation: %s", wb);
                free(exp);
                return;
            }
            i++;
        }

    action_result_t res;
    if (!run_action(r, action, &res, &why)) {
        report(r, false, "%s", wb);
        free(exp);
        return;
    }
    bool ok;
    if (either) {
        ok = false;
        for (i = 0; !res.error && res.nresults == 1 && !ok && i < nexp; i++)
            ok = value_matches(&res.results[0], &exp[i]);
    } else {
        ok = !res.error && res.nresults == nexp;
        for (i = 0; ok && i < nexp; i++)
            ok = value_matches(&res.results[i], &exp[i]);
    }
    if (ok) {
        report(r, true, NULL);
    } else {
        sb_printf(&why, "got ");
        if (res.error) {
            sb_error(&why, res.error);
        } else {
            for (i = 0; i < res.nresults; i++) {
                if (i)
                    sb_printf(&why, " ");
                sb_value(&why, &res.results[i], i < nexp ? exp[i].lane_type : NULL);
            }
            if (!res.nresults)
                sb_printf(&why, "no results");
        }
        sb_printf(&why, either ? ", expected one of " : ", expected ");
        for (i = 0; i < nexp; i++) {
            if (i)
                sb_printf(&why, " ");
            sb_expect(&why, &exp[i]);
        }
        if (!nexp)
            sb_printf(&why, "no results");
        report(r, false, "%s", wb);
    }
    free_result(&res);
    free(exp);
}

/* Checks that `err` is a trap matching the expected text. */
static void check_trap(runner_t *r, whirl_error_t *err, const char *text, const char *context)
{
    char wb[1024];
    sbuf_t why = {wb, sizeof wb, 0};
    whirl_trap_code_t want = trap_code_for_text(text), got;
    if (!err) {
        report(r, false, "%s succeeded, expected trap \"%s\"", context, text ? text : "?");
        return;
    }
    if (!whirl_error_is_trap(err, &got)) {
        sb_error(&why, err);
        report(r, false, "got %s, expected trap \"%s\"", wb, text ? text : "?");
        return;
    }
    if (!want) {
        note(r, "unknown trap text \"%s\"; any trap accepted", text ? text : "");
        report(r, true, NULL);
        return;
    }
    if (got != want) {
        sb_error(&why, err);
        report(r, false, "got %s, expected trap %s (\"%s\")", wb, trap_name(want), text);
        return;
    }
    report(r, true, NULL);
}

/* assert_trap and assert_exhaustion on an action. */
static void cmd_assert_trap(runner_t *r, const cJSON *cmd)
{
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(cmd, "action");
    const char *text = json_str(cmd, "text");
    describe_action(r, action);
    char wb[1024];
    sbuf_t why = {wb, sizeof wb, 0};
    action_result_t res;
    if (!run_action(r, action, &res, &why)) {
        report(r, false, "%s", wb);
        return;
    }
    check_trap(r, res.error, text, "call");
    free_result(&res);
}

/* assert_exception: the action must end in an exception nobody caught
 * (an error of its own kind, not a trap). */
static void cmd_assert_exception(runner_t *r, const cJSON *cmd)
{
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(cmd, "action");
    describe_action(r, action);
    char wb[1024];
    sbuf_t why = {wb, sizeof wb, 0};
    action_result_t res;
    if (!run_action(r, action, &res, &why)) {
        report(r, false, "%s", wb);
        return;
    }
    if (!res.error) {
        report(r, false, "call succeeded, expected an uncaught exception");
    } else if (!whirl_error_is_exception(res.error, NULL)) {
        sb_error(&why, res.error);
        report(r, false, "got %s, expected an uncaught exception", wb);
    } else {
        report(r, true, NULL);
    }
    free_result(&res);
}

static bool is_text_module(runner_t *r, const cJSON *cmd)
{
    const char *mt = json_str(cmd, "module_type");
    if (mt && strcmp(mt, "binary") != 0) {
        skip(r, "text-format module");
        return true;
    }
    return false;
}

/* assert_invalid and assert_malformed: decoding/validation must fail. */
static void cmd_assert_bad_module(runner_t *r, const cJSON *cmd)
{
    const char *text = json_str(cmd, "text");
    sb_printf(&r->what, " \"%s\"", text ? text : "?");
    if (is_text_module(r, cmd))
        return;
    char wb[1024];
    sbuf_t why = {wb, sizeof wb, 0};
    whirl_module_t *m;
    whirl_error_t *err;
    if (load_module(r, cmd, &m, &err, &why)) {
        report(r, false, "module was accepted");
        return;
    }
    if (!err) {
        report(r, false, "%s", wb); /* could not even read the file */
        return;
    }
    if (whirl_error_is_trap(err, NULL)) {
        sb_error(&why, err);
        report(r, false, "whirl_module_new returned a trap: %s", wb);
    } else {
        report(r, true, "%s", errmsg(err));
    }
    whirl_error_delete(err);
}

/* assert_unlinkable (trap = false) and assert_uninstantiable (trap = true):
 * the module compiles, its instantiation fails. */
static void cmd_assert_instantiate_fails(runner_t *r, const cJSON *cmd, bool trap)
{
    const char *text = json_str(cmd, "text");
    sb_printf(&r->what, " \"%s\"", text ? text : "?");
    if (is_text_module(r, cmd))
        return;
    char wb[1024];
    sbuf_t why = {wb, sizeof wb, 0};
    whirl_module_t *m;
    whirl_error_t *err;
    if (!load_module(r, cmd, &m, &err, &why)) {
        if (err) {
            sb_error(&why, err);
            whirl_error_delete(err);
        }
        report(r, false, "module failed to compile: %s", wb);
        return;
    }
    whirl_instance_t *inst = NULL;
    arm_deadline(r);
    err = r->linker ? whirl_linker_instantiate(r->linker, r->store, m, &inst)
                    : whirl_error_new("no linker");
    if (trap) {
        check_trap(r, err, text, "instantiation");
    } else if (!err) {
        report(r, false, "instantiation succeeded, expected a link error");
    } else if (whirl_error_is_trap(err, NULL)) {
        sb_error(&why, err);
        report(r, false, "got %s, expected a link error", wb);
    } else {
        report(r, true, "%s", errmsg(err));
    }
    whirl_error_delete(err);
}

static void run_command(runner_t *r, const cJSON *cmd)
{
    const char *type = json_str(cmd, "type");
    const cJSON *line = cJSON_GetObjectItemCaseSensitive(cmd, "line");
    r->line = cJSON_IsNumber(line) ? line->valueint : 0;
    r->what = (sbuf_t){r->what_buf, sizeof r->what_buf, 0};
    r->what_buf[0] = 0;
    sb_printf(&r->what, "%s", type ? type : "(no type)");
    if (!type)
        report(r, false, "command without a type");
    else if (strcmp(type, "module") == 0)
        cmd_module(r, cmd);
    else if (strcmp(type, "module_definition") == 0)
        cmd_module_definition(r, cmd);
    else if (strcmp(type, "module_instance") == 0)
        cmd_module_instance(r, cmd);
    else if (strcmp(type, "register") == 0)
        cmd_register(r, cmd);
    else if (strcmp(type, "action") == 0)
        cmd_action(r, cmd);
    else if (strcmp(type, "assert_return") == 0)
        cmd_assert_return(r, cmd);
    else if (strcmp(type, "assert_trap") == 0 || strcmp(type, "assert_exhaustion") == 0)
        cmd_assert_trap(r, cmd);
    else if (strcmp(type, "assert_exception") == 0)
        cmd_assert_exception(r, cmd);
    else if (strcmp(type, "assert_invalid") == 0 || strcmp(type, "assert_malformed") == 0)
        cmd_assert_bad_module(r, cmd);
    else if (strcmp(type, "assert_unlinkable") == 0)
        cmd_assert_instantiate_fails(r, cmd, false);
    else if (strcmp(type, "assert_uninstantiable") == 0)
        cmd_assert_instantiate_fails(r, cmd, true);
    else if (strcmp(type, "skip") == 0) {
        /* A command the converter could not give us (wast3json.py). */
        const char *what = json_str(cmd, "command"), *why = json_str(cmd, "reason");
        r->skipped++;
        printf("  skip line %d: %s: %s\n", r->line, what ? what : "command",
               why ? why : "dropped by the converter");
    } else {
        note(r, "unsupported command type %s", type);
        skip(r, "unsupported command");
    }
}

/* ------------------------------------------------------------------ */
/* Files                                                               */
/* ------------------------------------------------------------------ */

/* The name printed for a JSON file: its source .wast's base name. */
static char *display_name(const char *json_path, const cJSON *root)
{
    const char *src = json_str(root, "source_filename");
    const char *base;
    if (src) {
        base = strrchr(src, '/');
        return xstrdup(base ? base + 1 : src);
    }
    base = strrchr(json_path, '/');
    base = base ? base + 1 : json_path;
    size_t n = strlen(base);
    if (n > 5 && strcmp(base + n - 5, ".json") == 0)
        n -= 5;
    char *out = xmalloc(n + 6);
    memcpy(out, base, n);
    memcpy(out + n, ".wast", 6);
    return out;
}

/* Runs one JSON file; returns true if nothing failed. Adds to the totals. */
static bool run_file(const char *path, bool verbose, unsigned timeout_s, unsigned totals[3])
{
    runner_t r = {.verbose = verbose, .timeout_s = timeout_s};
    size_t len;
    uint8_t *raw = read_file(path, &len);
    if (!raw) {
        printf("%s: cannot read: %s\n", path, strerror(errno));
        printf("%s: 0 passed, 1 failed, 0 skipped\n", path);
        totals[1]++;
        return false;
    }
    char *text = mark_nuls(raw, len);
    free(raw);
    cJSON *root = cJSON_Parse(text);
    free(text);
    const cJSON *commands = cJSON_GetObjectItemCaseSensitive(root, "commands");
    if (!root || !cJSON_IsArray(commands)) {
        printf("%s: not a wast2json script\n", path);
        printf("%s: 0 passed, 1 failed, 0 skipped\n", path);
        cJSON_Delete(root);
        totals[1]++;
        return false;
    }
    char *name = display_name(path, root);
    r.wast = name;
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        strcpy(dir, ".");
    r.dir = dir;
    if (verbose)
        printf("%s:\n", name);

    whirl_error_t *err = whirl_engine_new(NULL, &r.engine);
    if (!err) {
        r.store = whirl_store_new(r.engine, NULL, NULL);
        if (!r.store)
            err = whirl_error_new("whirl_store_new failed");
    }
    if (!err)
        err = rebuild_linker(&r);
    if (err) {
        printf("  FAIL: setting up the engine: %s\n", errmsg(err));
        whirl_error_delete(err);
        r.failed++;
    } else {
        if (timeout_s)
            r.ticker = ticker_start(r.engine, TICK_MS);
        const cJSON *cmd;
        cJSON_ArrayForEach(cmd, commands) run_command(&r, cmd);
    }
    if (r.failed > MAX_REPORTED && !verbose)
        printf("  ... %u more failures not shown\n", r.failed - MAX_REPORTED);
    /* Before the summary line: the runners read the lines above it. */
    if (getenv("WHIRL_SPEC_JIT_STATS"))
        spec_jit_stats_print(stdout);
    printf("%s: %u passed, %u failed, %u skipped\n", name, r.passed, r.failed, r.skipped);
    fflush(stdout);
    totals[0] += r.passed;
    totals[1] += r.failed;
    totals[2] += r.skipped;

    ticker_stop(r.ticker);
    whirl_linker_delete(r.linker);
    whirl_store_delete(r.store);
    for (size_t i = 0; i < r.nmodules; i++)
        whirl_module_delete(r.modules[i]);
    free(r.modules);
    whirl_engine_delete(r.engine);
    free_names(r.named, r.nnamed);
    free_definitions(&r);
    free_names(r.registered, r.nregistered);
    free(dir);
    free(name);
    cJSON_Delete(root);
    return r.failed == 0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: whirl-spec [-v] [--timeout SECONDS] FILE.json [FILE.json...]\n"
            "  -v              print every command\n"
            "  --timeout N     interrupt any single call after about N seconds\n"
            "                  (epoch interruption; default 10, 0 = never)\n");
}

int main(int argc, char **argv)
{
    bool verbose = false;
    unsigned timeout_s = 10;
    int nfiles = 0;
    const char **files = xmalloc((size_t)argc * sizeof *files);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0) {
            verbose = true;
        } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
            char *end;
            unsigned long t = strtoul(argv[++i], &end, 10);
            if (*end || t > 86400) {
                usage();
                free(files);
                return 2;
            }
            timeout_s = (unsigned)t;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            usage();
            free(files);
            return 2;
        } else {
            files[nfiles++] = argv[i];
        }
    }
    if (!nfiles) {
        usage();
        free(files);
        return 2;
    }
    unsigned totals[3] = {0, 0, 0};
    bool ok = true;
    for (int i = 0; i < nfiles; i++)
        ok &= run_file(files[i], verbose, timeout_s, totals);
    if (nfiles > 1)
        printf("%u passed, %u failed, %u skipped\n", totals[0], totals[1], totals[2]);
    free(files);
    return ok ? 0 : 1;
}
