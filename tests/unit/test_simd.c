/* SIMD tests beyond the spec suite:
 *
 *  - Differential: every lane-wise SIMD instruction runs through the engine
 *    (decoder, validator, compiler, interpreter: SSE code on x86-64) on
 *    thousands of inputs rich in edge values (NaNs with payloads, signed
 *    zeros, infinities, denormals, integer limits, large shift counts), and
 *    each result is compared with the portable C definition of
 *    src/exec/simd.h, compiled here with WHIRL_SIMD_PORTABLE. NaN results of
 *    float arithmetic only need to be quiet NaNs (the spec leaves the
 *    payload open); everything else must match bit for bit.
 *  - Operands aliasing the destination (the local.set peephole writes a
 *    local that the instruction also reads).
 *  - Binary-format and validation errors of SIMD immediates and opcodes.
 *
 * Modules are generated in memory, so the instruction list comes from the
 * same tables the engine uses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHIRL_SIMD_PORTABLE 1
#include "exec/simd.h"
#include "wasm/opcodes.h"
#include "whirl.h"

static int passed, failed;

#define CHECK(cond, ...)                                           \
    do {                                                           \
        if (cond) {                                                \
            passed++;                                              \
        } else {                                                   \
            failed++;                                              \
            if (failed <= 30) {                                    \
                fprintf(stderr, "%s:%d: FAILED: ", __FILE__, __LINE__); \
                fprintf(stderr, __VA_ARGS__);                      \
                fprintf(stderr, "\n");                             \
            }                                                      \
        }                                                          \
    } while (0)

/* ------------------------------------------------------- module bytes */

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf_t;

static void put(buf_t *b, uint8_t byte)
{
    if (b->len == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 256;
        b->p = realloc(b->p, b->cap);
        if (!b->p) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
    }
    b->p[b->len++] = byte;
}

static void put_u32(buf_t *b, uint32_t v)
{
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        put(b, byte | (v ? 0x80 : 0));
    } while (v);
}

static void put_bytes(buf_t *b, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put(b, ((const uint8_t *)p)[i]);
}

static void put_section(buf_t *m, uint8_t id, const buf_t *body)
{
    put(m, id);
    put_u32(m, (uint32_t)body->len);
    put_bytes(m, body->p, body->len);
}

/* Function shapes: the type of each generated function. */
enum shape { SH_UNARY, SH_BINARY, SH_TEST, SH_SHIFT, SH_TERNARY, SH_COUNT };

static const char *const shape_sig[SH_COUNT] = {
    [SH_UNARY] = "v:v", [SH_BINARY] = "vv:v", [SH_TEST] = "v:i", [SH_SHIFT] = "vi:v",
    [SH_TERNARY] = "vvv:v",
};

static uint8_t valtype(char c) { return c == 'v' ? 0x7B : 0x7F; }

/* A module with one type per shape and one function per entry of `body`
 * (its code bytes, without locals and the final end), exported as f0, f1,
 * ... Each function declares `nlocals` v128 locals. */
typedef struct func_spec {
    enum shape shape;
    buf_t code;
    uint32_t nlocals;
} func_spec_t;

static buf_t build_module(const func_spec_t *fs, size_t n)
{
    buf_t m = {0}, s = {0};
    put_bytes(&m, "\0asm\1\0\0\0", 8);
    put_u32(&s, SH_COUNT);
    for (int sh = 0; sh < SH_COUNT; sh++) {
        const char *sig = shape_sig[sh], *colon = strchr(sig, ':');
        put(&s, 0x60);
        put_u32(&s, (uint32_t)(colon - sig));
        for (const char *c = sig; c < colon; c++)
            put(&s, valtype(*c));
        put_u32(&s, 1);
        put(&s, valtype(colon[1]));
    }
    put_section(&m, 1, &s);
    s.len = 0;
    put_u32(&s, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        put_u32(&s, fs[i].shape);
    put_section(&m, 3, &s);
    s.len = 0;
    put_u32(&s, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        char name[16];
        int len = snprintf(name, sizeof name, "f%zu", i);
        put_u32(&s, (uint32_t)len);
        put_bytes(&s, name, (size_t)len);
        put(&s, 0x00);
        put_u32(&s, (uint32_t)i);
    }
    put_section(&m, 7, &s);
    s.len = 0;
    put_u32(&s, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        buf_t body = {0};
        if (fs[i].nlocals) {
            put_u32(&body, 1);
            put_u32(&body, fs[i].nlocals);
            put(&body, 0x7B);
        } else {
            put_u32(&body, 0);
        }
        put_bytes(&body, fs[i].code.p, fs[i].code.len);
        put(&body, 0x0B);
        put_u32(&s, (uint32_t)body.len);
        put_bytes(&s, body.p, body.len);
        free(body.p);
    }
    put_section(&m, 10, &s);
    free(s.p);
    return m;
}

static void put_simd_op(buf_t *b, wasm_op_t op)
{
    put(b, 0xFD);
    put_u32(b, wasm_opinfo[op].code);
}

/* ---------------------------------------------------------- the ops */

typedef struct op_case {
    wasm_op_t op;
    enum shape shape;
    v128_t (*unary)(v128_t);
    v128_t (*binary)(v128_t, v128_t);
    uint32_t (*test)(v128_t);
    v128_t (*shift)(v128_t, uint32_t);
    v128_t (*ternary)(v128_t, v128_t, v128_t);
} op_case_t;

static const op_case_t cases[] = {
#define X(id, fn) {WASM_OP_##id, SH_UNARY, .unary = fn},
    SIMD_UNARY_OPS(X)
#undef X
#define X(id, fn) {WASM_OP_##id, SH_BINARY, .binary = fn},
    SIMD_BINARY_OPS(X)
#undef X
#define X(id, fn) {WASM_OP_##id, SH_TEST, .test = fn},
    SIMD_TEST_OPS(X)
#undef X
#define X(id, fn) {WASM_OP_##id, SH_SHIFT, .shift = fn},
    SIMD_SHIFT_OPS(X)
#undef X
#define X(id, fn) {WASM_OP_##id, SH_TERNARY, .ternary = fn},
    SIMD_TERNARY_OPS(X)
#undef X
};
enum { NCASES = sizeof cases / sizeof cases[0] };

/* Float lanes whose NaN results may differ in payload: 32 or 64 for the
 * arithmetic of f32x4/f64x2 (not abs/neg/pmin/pmax, which move bits, nor
 * comparisons and conversions to integers). */
static unsigned nan_lane_bits(wasm_op_t op)
{
    static const char *const arith[] = {"add", "sub", "mul", "div", "sqrt", "min", "max", "ceil",
                                        "floor", "trunc", "nearest", "demote_f64x2_zero",
                                        "promote_low_f32x4", "relaxed_madd", "relaxed_nmadd",
                                        "relaxed_min", "relaxed_max"};
    const char *name = wasm_opinfo[op].name;
    unsigned bits = strncmp(name, "f32x4.", 6) == 0 ? 32 : strncmp(name, "f64x2.", 6) == 0 ? 64 : 0;
    if (!bits)
        return 0;
    for (size_t i = 0; i < sizeof arith / sizeof arith[0]; i++)
        if (strcmp(name + 6, arith[i]) == 0)
            return bits;
    return 0;
}

/* ------------------------------------------------------------ inputs */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static const uint32_t f32_special[] = {
    0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000,
    0xffc00000, 0x7fa00001, 0xff812345, 0x7fffffff, 0x00000001, 0x807fffff, 0x4f000000,
    0xcf000000, 0x4f800000, 0x4effffff, 0xcf000001, 0x3f000000, 0x3fc00000, 0x40200000,
    0xbf000000, 0x4b000001, 0x7f7fffff, 0xff7fffff, 0x5f000000, 0x4f7fffff,
};
static const uint64_t f64_special[] = {
    0, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull,
    0x7ff0000000000000ull, 0xfff0000000000000ull, 0x7ff8000000000000ull,
    0xfff8000000000000ull, 0x7ff4000000000001ull, 0x7ff0000000000001ull, 1,
    0x41e0000000000000ull, 0xc1e0000000000000ull, 0x41efffffffe00000ull,
    0x41dfffffffc00000ull, 0xc1e0000000200000ull, 0x3fe0000000000000ull,
    0x3ff8000000000000ull, 0x4004000000000000ull, 0x47efffffe0000000ull,
    0x36a0000000000000ull, 0x7fefffffffffffffull, 0x4330000000000001ull,
};
static const uint64_t int_special[] = {0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
                                       0x7fffffff, 0x80000000, 0xffffffff,
                                       0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull};

/* Random bytes with some lanes, of a random shape, set to edge values. */
static v128_t input(void)
{
    v128_t v;
    for (int i = 0; i < 2; i++)
        v.u64[i] = rnd();
    switch (rnd() % 6) {
    case 0:
        break;
    case 1:
        for (int i = 0; i < 4; i++)
            if (rnd() & 1)
                v.u32[i] = f32_special[rnd() % (sizeof f32_special / 4)];
        break;
    case 2:
        for (int i = 0; i < 2; i++)
            if (rnd() % 4)
                v.u64[i] = f64_special[rnd() % (sizeof f64_special / 8)];
        break;
    case 3: {
        unsigned width = 1u << (rnd() % 4); /* bytes per lane */
        for (unsigned i = 0; i < 16 / width; i++)
            if (rnd() & 1) {
                uint64_t x = int_special[rnd() % (sizeof int_special / 8)];
                memcpy(&v.u8[i * width], &x, width);
            }
        break;
    }
    case 4: /* small values: products and sums stay near the limits */
        for (int i = 0; i < 16; i++)
            v.u8[i] = (uint8_t)(rnd() % 5 - 2);
        break;
    default: /* float values with fractions, for rounding and conversions */
        if (rnd() & 1)
            for (int i = 0; i < 4; i++)
                v.f32[i] = (float)((int64_t)(rnd() % 20000001) - 10000000) / 8.0f;
        else
            for (int i = 0; i < 2; i++)
                v.f64[i] = (double)((int64_t)(rnd() % 200000001) - 100000000) / 4.0;
        break;
    }
    return v;
}

static bool same_result(const v128_t *want, const v128_t *got, unsigned nan_bits)
{
    if (memcmp(want, got, 16) == 0)
        return true;
    if (nan_bits == 32) {
        for (int i = 0; i < 4; i++) {
            uint32_t w = want->u32[i], g = got->u32[i];
            bool wnan = (w & 0x7fffffff) > 0x7f800000;
            if (wnan ? (g & 0x7fc00000) != 0x7fc00000 : w != g)
                return false;
        }
        return true;
    }
    if (nan_bits == 64) {
        for (int i = 0; i < 2; i++) {
            uint64_t w = want->u64[i], g = got->u64[i];
            bool wnan = (w & 0x7fffffffffffffffull) > 0x7ff0000000000000ull;
            if (wnan ? (g & 0x7ff8000000000000ull) != 0x7ff8000000000000ull : w != g)
                return false;
        }
        return true;
    }
    return false;
}

static void print_v128(const char *what, const v128_t *v)
{
    fprintf(stderr, "  %s:", what);
    for (int i = 0; i < 4; i++)
        fprintf(stderr, " %08x", v->u32[i]);
    fprintf(stderr, "\n");
}

/* ------------------------------------------------------- the engine */

typedef struct engine_ctx {
    whirl_engine_t *engine;
    whirl_store_t *store;
    whirl_module_t *module;
    whirl_instance_t *inst;
} engine_ctx_t;

static bool instantiate(engine_ctx_t *e, const buf_t *wasm)
{
    whirl_error_t *err = whirl_module_new(e->engine, wasm->p, wasm->len, &e->module);
    if (err) {
        CHECK(false, "module_new: %s", whirl_error_message(err));
        whirl_error_delete(err);
        return false;
    }
    e->store = whirl_store_new(e->engine, NULL, NULL);
    err = whirl_instance_new(e->store, e->module, NULL, 0, &e->inst);
    if (err) {
        CHECK(false, "instance_new: %s", whirl_error_message(err));
        whirl_error_delete(err);
        return false;
    }
    return true;
}

static void release(engine_ctx_t *e)
{
    if (e->store)
        whirl_store_delete(e->store);
    if (e->module)
        whirl_module_delete(e->module);
    e->store = NULL;
    e->module = NULL;
    e->inst = NULL;
}

static whirl_func_t *export_func(engine_ctx_t *e, size_t i)
{
    char name[16];
    int len = snprintf(name, sizeof name, "f%zu", i);
    whirl_extern_t ext;
    if (!whirl_instance_export(e->inst, name, (size_t)len, &ext) || ext.kind != WHIRL_EXTERN_FUNC)
        return NULL;
    return ext.of.func;
}

static whirl_val_t vval(v128_t v)
{
    whirl_val_t r;
    memset(&r, 0, sizeof r);
    r.kind = WHIRL_V128;
    memcpy(r.of.v128, &v, 16);
    return r;
}

/* Calls f with `args`; the result's bytes (an i32 result in the low lanes). */
static bool call(engine_ctx_t *e, whirl_func_t *f, const whirl_val_t *args, size_t nargs,
                 v128_t *out)
{
    whirl_val_t r;
    whirl_error_t *err = whirl_func_call(e->store, f, args, nargs, &r, 1);
    if (err) {
        CHECK(false, "call: %s", whirl_error_message(err));
        whirl_error_delete(err);
        return false;
    }
    memset(out, 0, sizeof *out);
    if (r.kind == WHIRL_V128)
        memcpy(out, r.of.v128, 16);
    else
        out->u32[0] = (uint32_t)r.of.i32;
    return true;
}

enum { ITERATIONS = 3000 };

static void test_differential(whirl_engine_t *engine)
{
    func_spec_t fs[NCASES];
    memset(fs, 0, sizeof fs);
    for (size_t i = 0; i < NCASES; i++) {
        fs[i].shape = cases[i].shape;
        const char *sig = shape_sig[cases[i].shape];
        uint32_t nparams = (uint32_t)(strchr(sig, ':') - sig);
        for (uint32_t p = 0; p < nparams; p++) {
            put(&fs[i].code, 0x20); /* local.get */
            put_u32(&fs[i].code, p);
        }
        put_simd_op(&fs[i].code, cases[i].op);
    }
    buf_t wasm = build_module(fs, NCASES);
    for (size_t i = 0; i < NCASES; i++)
        free(fs[i].code.p);
    engine_ctx_t e = {.engine = engine};
    if (!instantiate(&e, &wasm)) {
        release(&e);
        free(wasm.p);
        return;
    }
    free(wasm.p);

    int ops_failed = 0;
    for (size_t c = 0; c < NCASES; c++) {
        const op_case_t *oc = &cases[c];
        whirl_func_t *f = export_func(&e, c);
        CHECK(f != NULL, "export f%zu", c);
        if (!f)
            continue;
        unsigned nan_bits = nan_lane_bits(oc->op);
        int bad = 0;
        for (int it = 0; it < ITERATIONS && bad < 3; it++) {
            v128_t a = input(), b = input(), x = input(), want, got;
            uint32_t n = (uint32_t)rnd();
            if (it % 3 == 0)
                n %= 130; /* counts near the lane widths, and their multiples */
            whirl_val_t args[3] = {vval(a), vval(b), vval(x)};
            size_t nargs = 1;
            memset(&want, 0, sizeof want);
            switch (oc->shape) {
            case SH_UNARY: want = oc->unary(a); break;
            case SH_BINARY: want = oc->binary(a, b); nargs = 2; break;
            case SH_TEST: want.u32[0] = oc->test(a); break;
            case SH_SHIFT:
                want = oc->shift(a, n);
                args[1].kind = WHIRL_I32;
                args[1].of.i32 = (int32_t)n;
                nargs = 2;
                break;
            default: want = oc->ternary(a, b, x); nargs = 3; break;
            }
            if (!call(&e, f, args, nargs, &got))
                break;
            if (!same_result(&want, &got, nan_bits)) {
                bad++;
                fprintf(stderr, "%s: engine and portable code differ (n = %u)\n",
                        wasm_opinfo[oc->op].name, n);
                print_v128("a   ", &a);
                print_v128("b   ", &b);
                print_v128("want", &want);
                print_v128("got ", &got);
            }
        }
        CHECK(bad == 0, "%s: %d mismatches", wasm_opinfo[oc->op].name, bad);
        ops_failed += bad != 0;
    }
    printf("differential: %d lane-wise instructions x %d inputs, %d differ\n", NCASES,
           ITERATIONS, ops_failed);
    release(&e);
}

/* The destination is a local that the instruction also reads. */
static void test_aliasing(whirl_engine_t *engine)
{
    /* Each: (param v128 v128) or (param v128 i32) ... op ... local.set 0
     * local.get 0, so the op's result slot becomes local 0. */
    func_spec_t fs[4];
    memset(fs, 0, sizeof fs);
    /* f0: local 0 = swizzle(local 1, local 0) */
    fs[0].shape = SH_BINARY;
    put_bytes(&fs[0].code, "\x20\x01\x20\x00", 4);
    put_simd_op(&fs[0].code, WASM_OP_I8X16_SWIZZLE);
    put_bytes(&fs[0].code, "\x21\x00\x20\x00", 4);
    /* f1: local 0 = shuffle(local 1, local 0) with a mask mixing both */
    fs[1].shape = SH_BINARY;
    put_bytes(&fs[1].code, "\x20\x01\x20\x00", 4);
    put_simd_op(&fs[1].code, WASM_OP_I8X16_SHUFFLE);
    static const uint8_t mask[16] = {31, 0, 17, 2, 19, 4, 21, 6, 23, 8, 25, 10, 27, 12, 29, 14};
    put_bytes(&fs[1].code, mask, 16);
    put_bytes(&fs[1].code, "\x21\x00\x20\x00", 4);
    /* f2: local 0 = i32x4.replace_lane 2 (local 0, i32x4.extract_lane 1 (local 0)) */
    fs[2].shape = SH_UNARY;
    put_bytes(&fs[2].code, "\x20\x00\x20\x00", 4);
    put_simd_op(&fs[2].code, WASM_OP_I32X4_EXTRACT_LANE);
    put(&fs[2].code, 1);
    put_simd_op(&fs[2].code, WASM_OP_I32X4_REPLACE_LANE);
    put(&fs[2].code, 2);
    put_bytes(&fs[2].code, "\x21\x00\x20\x00", 4);
    /* f3: local 1 = bitselect(local 1, local 0, local 1), returned */
    fs[3].shape = SH_BINARY;
    put_bytes(&fs[3].code, "\x20\x01\x20\x00\x20\x01", 6);
    put_simd_op(&fs[3].code, WASM_OP_V128_BITSELECT);
    put_bytes(&fs[3].code, "\x21\x01\x20\x01", 4);
    buf_t wasm = build_module(fs, 4);
    for (int i = 0; i < 4; i++)
        free(fs[i].code.p);
    engine_ctx_t e = {.engine = engine};
    if (instantiate(&e, &wasm)) {
        for (int it = 0; it < 200; it++) {
            v128_t a = input(), b = input(), got, want;
            whirl_val_t args[2] = {vval(a), vval(b)};
            v128_t idx;
            memcpy(&idx, mask, 16);
            for (size_t f = 0; f < 4; f++) {
                switch (f) {
                case 0: want = i8x16_swizzle(b, a); break;
                case 1: want = v_shuffle(b, a, idx); break;
                case 2: want = a; want.u32[2] = a.u32[1]; break;
                default: want = v128_bitselect(b, a, b); break;
                }
                whirl_func_t *fn = export_func(&e, f);
                if (fn && call(&e, fn, args, fs[f].shape == SH_UNARY ? 1 : 2, &got))
                    CHECK(memcmp(&want, &got, 16) == 0, "aliasing function f%zu", f);
            }
        }
    }
    release(&e);
    free(wasm.p);
}

/* A module with one function (param v128) (result v128) whose body is
 * `code`; returns the error of whirl_module_new (NULL if accepted). */
static whirl_error_t *try_body(whirl_engine_t *engine, const uint8_t *code, size_t len)
{
    func_spec_t fs = {.shape = SH_UNARY};
    put_bytes(&fs.code, code, len);
    buf_t wasm = build_module(&fs, 1);
    free(fs.code.p);
    whirl_module_t *m = NULL;
    whirl_error_t *err = whirl_module_new(engine, wasm.p, wasm.len, &m);
    free(wasm.p);
    if (m)
        whirl_module_delete(m);
    return err;
}

static void expect_error(whirl_engine_t *engine, const char *what, const uint8_t *code,
                         size_t len, const char *needle)
{
    whirl_error_t *err = try_body(engine, code, len);
    const char *msg = err ? whirl_error_message(err) : "(accepted)";
    CHECK(err && strstr(msg, needle), "%s: expected \"%s\", got \"%s\"", what, needle, msg);
    if (err)
        whirl_error_delete(err);
}

static void test_errors(whirl_engine_t *engine)
{
    /* Accepted: the shapes the checks below break. */
    static const uint8_t ok_lane[] = {0x20, 0x00, 0xFD, 0x15, 15, 0xFD, 0x0F};
    whirl_error_t *err = try_body(engine, ok_lane, sizeof ok_lane);
    CHECK(!err, "extract_lane 15 rejected: %s", err ? whirl_error_message(err) : "");
    if (err)
        whirl_error_delete(err);

    static const uint8_t reserved[] = {0x20, 0x00, 0xFD, 0x9A, 0x01};
    expect_error(engine, "reserved sub-opcode 0x9a", reserved, sizeof reserved, "illegal opcode");
    /* 0x100-0x113 are relaxed SIMD's, typed like the rest. */
    static const uint8_t relaxed[] = {0x20, 0x00, 0x20, 0x00, 0xFD, 0x80, 0x02};
    err = try_body(engine, relaxed, sizeof relaxed);
    CHECK(!err, "i8x16.relaxed_swizzle rejected: %s", err ? whirl_error_message(err) : "");
    if (err)
        whirl_error_delete(err);
    static const uint8_t big[] = {0x20, 0x00, 0xFD, 0x80, 0x02};
    expect_error(engine, "relaxed_swizzle with one operand", big, sizeof big, "type mismatch");
    static const uint8_t bigger[] = {0x20, 0x00, 0xFD, 0x94, 0x02};
    expect_error(engine, "sub-opcode 0x114", bigger, sizeof bigger, "illegal opcode");
    static const uint8_t overlong[] = {0x20, 0x00, 0xFD, 0x80, 0x80, 0x80, 0x80, 0x10};
    expect_error(engine, "sub-opcode LEB over 32 bits", overlong, sizeof overlong, "malformed");
    static const uint8_t lane16[] = {0x20, 0x00, 0xFD, 0x15, 16, 0xFD, 0x0F};
    expect_error(engine, "extract_lane 16", lane16, sizeof lane16, "invalid lane index");
    static const uint8_t lane2[] = {0x20, 0x00, 0x42, 0x00, 0xFD, 0x1E, 2};
    expect_error(engine, "i64x2.replace_lane 2", lane2, sizeof lane2, "invalid lane index");
    uint8_t shuffle[3 + 16 + 3] = {0x20, 0x00, 0x20};
    shuffle[3] = 0x00;
    shuffle[4] = 0xFD;
    shuffle[5] = 0x0D;
    for (int i = 0; i < 16; i++)
        shuffle[6 + i] = (uint8_t)(i == 9 ? 32 : i);
    expect_error(engine, "shuffle lane 32", shuffle, sizeof shuffle, "invalid lane index");
    static const uint8_t truncated[] = {0xFD, 0x0C, 1, 2, 3};
    expect_error(engine, "truncated v128.const", truncated, sizeof truncated, "unexpected end");
    /* load32_lane: align 3 > natural 2; then lane 4 of 4; no memory. */
    static const uint8_t align[] = {0x41, 0x00, 0x20, 0x00, 0xFD, 0x56, 0x03, 0x00, 0x00};
    expect_error(engine, "load32_lane without memory", align, sizeof align, "unknown memory");
    static const uint8_t type[] = {0x20, 0x00, 0x20, 0x00, 0xFD, 0x6B};
    expect_error(engine, "i8x16.shl of a v128 count", type, sizeof type, "type mismatch");
}

int main(void)
{
    whirl_engine_t *engine = NULL;
    whirl_error_t *err = whirl_engine_new(NULL, &engine);
    if (err) {
        fprintf(stderr, "engine: %s\n", whirl_error_message(err));
        whirl_error_delete(err);
        printf("0 passed, 1 failed\n");
        return 1;
    }
    test_differential(engine);
    test_aliasing(engine);
    test_errors(engine);
    whirl_engine_delete(engine);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
