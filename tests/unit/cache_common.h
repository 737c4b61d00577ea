/* Shared by the cache tests (test_cache.c, test_cache_dir.c): a small
 * module using most of what serialisation must carry, a generator of
 * larger modules, and checks. */
#ifndef WHIRL_TEST_CACHE_COMMON_H
#define WHIRL_TEST_CACHE_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whirl.h"

static int passed, failed;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (cond) {                                                              \
            passed++;                                                            \
        } else {                                                                 \
            failed++;                                                            \
            fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond);   \
        }                                                                        \
    } while (0)

/* Success; prints and frees the error otherwise. */
#define CHECK_OK(expr) check_ok((expr), #expr, __FILE__, __LINE__)

static inline bool check_ok(whirl_error_t *err, const char *what, const char *file, int line)
{
    if (!err) {
        passed++;
        return true;
    }
    failed++;
    fprintf(stderr, "%s:%d: FAILED: %s: %s\n", file, line, what, whirl_error_message(err));
    whirl_error_delete(err);
    return false;
}

/* A (non-trap) error whose message contains `needle`; frees it. */
#define CHECK_ERR(expr, needle) check_err((expr), (needle), #expr, __FILE__, __LINE__)

static inline void check_err(whirl_error_t *err, const char *needle, const char *what,
                             const char *file, int line)
{
    if (err && !whirl_error_is_trap(err, NULL) && strstr(whirl_error_message(err), needle)) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "%s:%d: FAILED: %s: expected an error containing \"%s\", got %s\n",
                file, line, what, needle, err ? whirl_error_message(err) : "success");
    }
    whirl_error_delete(err);
}

/* wat2wasm --debug-names of:
 *
 * (module $rt
 *   (type $ii (func (param i32) (result i32)))
 *   (import "env" "g" (global $g i32))
 *   (memory (export "mem") 1 2)
 *   (table $t 4 funcref)
 *   (global $counter (mut i32) (i32.const 0))
 *   (global $base i32 (global.get $g))
 *   (data (i32.const 16) "hello, cache")
 *   (data $p "passive")
 *   (elem (table $t) (i32.const 0) func $fib $sq $twice)
 *   (elem declare func $sq)
 *   (func $fib (export "fib") (type $ii)
 *     (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
 *       (then (local.get 0))
 *       (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
 *                      (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
 *   (func $sq (type $ii) (i32.mul (local.get 0) (local.get 0)))
 *   (func $twice (type $ii) (i32.shl (local.get 0) (i32.const 1)))
 *   (func (export "apply") (param $f i32) (param $x i32) (result i32)
 *     (call_indirect (type $ii) (local.get $x) (local.get $f)))
 *   (func (export "load") (param i32) (result i32) (i32.load8_u offset=16 (local.get 0)))
 *   (func (export "base") (result i32) (global.get $base))
 *   (func (export "count") (result i32)
 *     (global.set $counter (i32.add (global.get $counter) (i32.const 1)))
 *     (global.get $counter))
 *   (func $boom (export "boom") (param i32) (result i32)
 *     (local v128)
 *     (local.set 1 (i32x4.splat (local.get 0)))
 *     (if (i32.eqz (local.get 0)) (then unreachable))
 *     (i32x4.extract_lane 2 (local.get 1)))
 *   (func $start (global.set $counter (i32.const 100)))
 *   (start $start))
 */
static const uint8_t small_wasm[] = {
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x13, 0x04, 0x60,
  0x01, 0x7f, 0x01, 0x7f, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x00,
  0x01, 0x7f, 0x60, 0x00, 0x00, 0x02, 0x0a, 0x01, 0x03, 0x65, 0x6e, 0x76,
  0x01, 0x67, 0x03, 0x7f, 0x00, 0x03, 0x0a, 0x09, 0x00, 0x00, 0x00, 0x01,
  0x00, 0x02, 0x02, 0x00, 0x03, 0x04, 0x04, 0x01, 0x70, 0x00, 0x04, 0x05,
  0x04, 0x01, 0x01, 0x01, 0x02, 0x06, 0x0b, 0x02, 0x7f, 0x01, 0x41, 0x00,
  0x0b, 0x7f, 0x00, 0x23, 0x00, 0x0b, 0x07, 0x32, 0x07, 0x03, 0x6d, 0x65,
  0x6d, 0x02, 0x00, 0x03, 0x66, 0x69, 0x62, 0x00, 0x00, 0x05, 0x61, 0x70,
  0x70, 0x6c, 0x79, 0x00, 0x03, 0x04, 0x6c, 0x6f, 0x61, 0x64, 0x00, 0x04,
  0x04, 0x62, 0x61, 0x73, 0x65, 0x00, 0x05, 0x05, 0x63, 0x6f, 0x75, 0x6e,
  0x74, 0x00, 0x06, 0x04, 0x62, 0x6f, 0x6f, 0x6d, 0x00, 0x07, 0x08, 0x01,
  0x08, 0x09, 0x0d, 0x02, 0x00, 0x41, 0x00, 0x0b, 0x03, 0x00, 0x01, 0x02,
  0x03, 0x00, 0x01, 0x01, 0x0a, 0x70, 0x09, 0x1c, 0x00, 0x20, 0x00, 0x41,
  0x02, 0x49, 0x04, 0x7f, 0x20, 0x00, 0x05, 0x20, 0x00, 0x41, 0x01, 0x6b,
  0x10, 0x00, 0x20, 0x00, 0x41, 0x02, 0x6b, 0x10, 0x00, 0x6a, 0x0b, 0x0b,
  0x07, 0x00, 0x20, 0x00, 0x20, 0x00, 0x6c, 0x0b, 0x07, 0x00, 0x20, 0x00,
  0x41, 0x01, 0x74, 0x0b, 0x09, 0x00, 0x20, 0x01, 0x20, 0x00, 0x11, 0x00,
  0x00, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x2d, 0x00, 0x10, 0x0b, 0x04, 0x00,
  0x23, 0x02, 0x0b, 0x0b, 0x00, 0x23, 0x01, 0x41, 0x01, 0x6a, 0x24, 0x01,
  0x23, 0x01, 0x0b, 0x16, 0x01, 0x01, 0x7b, 0x20, 0x00, 0xfd, 0x11, 0x21,
  0x01, 0x20, 0x00, 0x45, 0x04, 0x40, 0x00, 0x0b, 0x20, 0x01, 0xfd, 0x1b,
  0x02, 0x0b, 0x07, 0x00, 0x41, 0xe4, 0x00, 0x24, 0x01, 0x0b, 0x0b, 0x1b,
  0x02, 0x00, 0x41, 0x10, 0x0b, 0x0c, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x2c,
  0x20, 0x63, 0x61, 0x63, 0x68, 0x65, 0x01, 0x07, 0x70, 0x61, 0x73, 0x73,
  0x69, 0x76, 0x65, 0x00, 0x6d, 0x04, 0x6e, 0x61, 0x6d, 0x65, 0x00, 0x03,
  0x02, 0x72, 0x74, 0x01, 0x1e, 0x05, 0x00, 0x03, 0x66, 0x69, 0x62, 0x01,
  0x02, 0x73, 0x71, 0x02, 0x05, 0x74, 0x77, 0x69, 0x63, 0x65, 0x07, 0x04,
  0x62, 0x6f, 0x6f, 0x6d, 0x08, 0x05, 0x73, 0x74, 0x61, 0x72, 0x74, 0x02,
  0x19, 0x09, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x03, 0x02, 0x00, 0x01,
  0x66, 0x01, 0x01, 0x78, 0x04, 0x00, 0x05, 0x00, 0x06, 0x00, 0x07, 0x00,
  0x08, 0x00, 0x04, 0x05, 0x01, 0x00, 0x02, 0x69, 0x69, 0x05, 0x04, 0x01,
  0x00, 0x01, 0x74, 0x07, 0x13, 0x03, 0x00, 0x01, 0x67, 0x01, 0x07, 0x63,
  0x6f, 0x75, 0x6e, 0x74, 0x65, 0x72, 0x02, 0x04, 0x62, 0x61, 0x73, 0x65,
  0x09, 0x04, 0x01, 0x01, 0x01, 0x70
};

/* ---- a generated module of `nfuncs` functions ----
 *
 * Function i (i32) -> i32 runs a few dozen arithmetic instructions, calls
 * function i-1 and, every eighth, one of the first eight through the table
 * (which holds every function), so that the code has both kinds of
 * relocation. `seed`
 * varies the constants: different seeds give different modules. Export
 * "f0".."f2" and "last" (the last function). The result of calling "last"
 * depends on every function. */
typedef struct gen {
    uint8_t *p;
    size_t len, cap;
} gen_t;

static inline void gen_byte(gen_t *g, uint8_t b)
{
    if (g->len == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 4096;
        g->p = realloc(g->p, g->cap);
        if (!g->p)
            abort();
    }
    g->p[g->len++] = b;
}

static inline void gen_uleb(gen_t *g, uint64_t v)
{
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        gen_byte(g, b | (v ? 0x80 : 0));
    } while (v);
}

static inline void gen_sleb(gen_t *g, int64_t v)
{
    for (;;) {
        uint8_t b = v & 0x7f;
        v >>= 7;
        if ((v == 0 && !(b & 0x40)) || (v == -1 && (b & 0x40))) {
            gen_byte(g, b);
            return;
        }
        gen_byte(g, b | 0x80);
    }
}

static inline void gen_bytes(gen_t *g, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        gen_byte(g, ((const uint8_t *)p)[i]);
}

/* Appends section `id` with the contents of `body`. */
static inline void gen_section(gen_t *g, uint8_t id, gen_t *body)
{
    gen_byte(g, id);
    gen_uleb(g, body->len);
    gen_bytes(g, body->p, body->len);
    body->len = 0;
}

static inline uint8_t *make_module(uint32_t nfuncs, uint32_t seed, size_t *len)
{
    gen_t g = {0}, s = {0}, b = {0};
    gen_bytes(&g, "\0asm\1\0\0\0", 8);
    gen_uleb(&s, 1); /* types: (i32) -> i32 */
    gen_bytes(&s, "\x60\x01\x7f\x01\x7f", 5);
    gen_section(&g, 1, &s);
    gen_uleb(&s, nfuncs);
    for (uint32_t i = 0; i < nfuncs; i++)
        gen_uleb(&s, 0);
    gen_section(&g, 3, &s);
    gen_uleb(&s, 1); /* table: funcref, nfuncs */
    gen_byte(&s, 0x70);
    gen_byte(&s, 0);
    gen_uleb(&s, nfuncs);
    gen_section(&g, 4, &s);
    gen_uleb(&s, 1); /* memory 1 */
    gen_byte(&s, 0);
    gen_uleb(&s, 1);
    gen_section(&g, 5, &s);
    const char *names[] = {"f0", "f1", "f2", "last"};
    uint32_t idx[] = {0, nfuncs > 1 ? 1 : 0, nfuncs > 2 ? 2 : 0, nfuncs - 1};
    gen_uleb(&s, 4);
    for (int i = 0; i < 4; i++) {
        gen_uleb(&s, strlen(names[i]));
        gen_bytes(&s, names[i], strlen(names[i]));
        gen_byte(&s, 0);
        gen_uleb(&s, idx[i]);
    }
    gen_section(&g, 7, &s);
    gen_uleb(&s, 1); /* elem: table 0 at 0, every function */
    gen_byte(&s, 0);
    gen_bytes(&s, "\x41\x00\x0b", 3);
    gen_uleb(&s, nfuncs);
    for (uint32_t i = 0; i < nfuncs; i++)
        gen_uleb(&s, i);
    gen_section(&g, 9, &s);
    gen_uleb(&s, nfuncs);
    for (uint32_t i = 0; i < nfuncs; i++) {
        gen_bytes(&b, "\x01\x01\x7f", 3); /* one i32 local */
        uint32_t k = i * 2654435761u + seed;
        for (int r = 0; r < 6; r++) {
            gen_bytes(&b, "\x20\x00", 2); /* local.get 0 */
            gen_byte(&b, 0x41);           /* i32.const */
            gen_sleb(&b, (int32_t)(k >> (r * 3)) & 0xffff);
            gen_byte(&b, r % 2 ? 0x6c : 0x6a); /* i32.mul | i32.add */
            gen_byte(&b, 0x41);
            gen_sleb(&b, (int32_t)(k >> r) & 0xff);
            gen_byte(&b, 0x73);           /* i32.xor */
            gen_bytes(&b, "\x21\x00", 2); /* local.set 0 */
        }
        gen_bytes(&b, "\x20\x00\x21\x01", 4); /* local.set 1 (local.get 0) */
        if (i > 0) {
            gen_bytes(&b, "\x20\x00\x10", 3); /* call i-1 */
            gen_uleb(&b, i - 1);
            gen_bytes(&b, "\x20\x01\x6a\x21\x00", 5); /* local.set 0 (i32.add . local 1) */
        }
        if (i > 0 && i % 8 == 0) {
            /* call_indirect (local 0) (i32.const (i/8)%8): a short chain */
            gen_bytes(&b, "\x20\x00\x41", 3);
            gen_uleb(&b, (i / 8) % 8);
            gen_bytes(&b, "\x11\x00\x00\x21\x00", 5);
        }
        gen_bytes(&b, "\x20\x00\x0b", 3);
        gen_uleb(&s, b.len);
        gen_bytes(&s, b.p, b.len);
        b.len = 0;
    }
    gen_section(&g, 10, &s);
    gen_uleb(&s, 1); /* data: 16 bytes at 64 */
    gen_bytes(&s, "\x00\x41\xc0\x00\x0b", 5);
    gen_uleb(&s, 16);
    for (int i = 0; i < 16; i++)
        gen_byte(&s, (uint8_t)(seed + i));
    gen_section(&g, 11, &s);
    free(s.p);
    free(b.p);
    *len = g.len;
    return g.p;
}

/* A quiet engine: no environment, no ticker thread; `cache_dir` NULL for
 * none; `log` collects warnings into `log_env` (may be NULL). */
static inline whirl_engine_t *test_engine(const char *cache_dir, bool debug_info,
                                          whirl_log_callback_t log, void *log_env)
{
    whirl_config_t *c = whirl_config_new();
    whirl_config_use_env(c, false);
    whirl_config_epoch_interval_set(c, 0);
    whirl_config_pooling_set(c, false);
    whirl_config_debug_info_set(c, debug_info);
    if (cache_dir && !check_ok(whirl_config_enable_cache(c, cache_dir), "enable cache",
                               __FILE__, __LINE__)) {
        whirl_config_delete(c);
        return NULL;
    }
    if (log)
        whirl_config_log_set(c, log, log_env);
    whirl_engine_t *e = NULL;
    if (!check_ok(whirl_engine_new(c, &e), "whirl_engine_new", __FILE__, __LINE__))
        return NULL;
    return e;
}

/* Calls export `name` of a new instance of `m` (small_wasm's import
 * supplied) with `nargs` i32 arguments. Returns the i32 result, or
 * INT64_MIN after a failure (message in `why` if not NULL). */
static inline int64_t call_export(whirl_engine_t *e, whirl_module_t *m, const char *name,
                                  int nargs, int32_t a0, int32_t a1, char *why, size_t why_len)
{
    whirl_store_t *store = whirl_store_new(e, NULL, NULL);
    whirl_extern_t imports[1];
    size_t nimports = whirl_module_import_count(m);
    int64_t result = INT64_MIN;
    whirl_error_t *err = NULL;
    if (nimports == 1) {
        whirl_val_t v = {.kind = WHIRL_I32, .of.i32 = 42};
        imports[0].kind = WHIRL_EXTERN_GLOBAL;
        err = whirl_global_new(store, &v, false, &imports[0].of.global);
    }
    whirl_instance_t *inst = NULL;
    if (!err)
        err = whirl_instance_new(store, m, imports, nimports, &inst);
    whirl_extern_t f;
    if (!err && !whirl_instance_export(inst, name, strlen(name), &f))
        err = whirl_error_new("no such export");
    if (!err) {
        whirl_val_t a[2] = {{.kind = WHIRL_I32, .of.i32 = a0}, {.kind = WHIRL_I32, .of.i32 = a1}};
        whirl_val_t r = {0};
        err = whirl_func_call(store, f.of.func, a, (size_t)nargs, &r, 1);
        if (!err)
            result = r.of.i32;
    }
    if (err && why)
        snprintf(why, why_len, "%s", whirl_error_message(err));
    whirl_error_delete(err);
    whirl_store_delete(store);
    return result;
}

#endif
