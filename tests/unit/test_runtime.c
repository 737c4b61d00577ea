/* Unit tests of the runtime objects (src/runtime): memories, tables,
 * globals, host functions, modules, instantiation and its failures, the
 * linker, and store deletion. Test modules are embedded as binaries; the
 * WAT each was assembled from (wat2wasm) is in the comment above it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile/ops.h"
#include "exec/exec.h"
#include "runtime/internal.h"
#include "whirl.h"

static int passed, failed;

#define CHECK(cond)                                                   \
    do {                                                              \
        if (cond) {                                                   \
            passed++;                                                 \
        } else {                                                      \
            failed++;                                                 \
            fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
        }                                                             \
    } while (0)

/* Checks that `err` is a non-NULL error (trap or not as `trap`) whose
 * message contains `needle`, then frees it. */
#define CHECK_ERR(err, trap, needle) check_err((err), (trap), (needle), __FILE__, __LINE__)

static void check_err(whirl_error_t *err, bool trap, const char *needle, const char *file,
                      int line)
{
    if (!err) {
        failed++;
        fprintf(stderr, "%s:%d: FAILED: expected an error containing \"%s\"\n", file, line,
                needle);
        return;
    }
    bool is_trap = whirl_error_is_trap(err, NULL);
    const char *msg = whirl_error_message(err);
    if (is_trap != trap || !strstr(msg, needle)) {
        failed++;
        fprintf(stderr, "%s:%d: FAILED: expected %s containing \"%s\", got %s \"%s\"\n", file,
                line, trap ? "trap" : "error", needle, is_trap ? "trap" : "error", msg);
    } else {
        passed++;
    }
    whirl_error_delete(err);
}

/* Checks success; prints and frees the error otherwise. */
#define CHECK_OK(expr) check_ok((expr), #expr, __FILE__, __LINE__)

static bool check_ok(whirl_error_t *err, const char *what, const char *file, int line)
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

/*
 * (module
 *   (import "env" "f" (func $f (param i32) (result i32)))
 *   (import "env" "t" (table 2 10 funcref))
 *   (import "env" "m" (memory 1 2))
 *   (import "env" "g" (global i32))
 *   (global $h (mut i32) (global.get 0))
 *   (global $r funcref (ref.func $inc))
 *   (func $inc (export "inc") (param i32) (result i32)
 *     local.get 0 i32.const 1 i32.add)
 *   (func (export "call_f") (param i32) (result i32)
 *     local.get 0 call $f)
 *   (elem (i32.const 1) $inc)
 *   (data (i32.const 8) "abc")
 *   (export "t" (table 0))
 *   (export "m" (memory 0))
 *   (export "g" (global 0))
 *   (export "h" (global $h))
 *   (export "r" (global $r)))
 */
static const uint8_t M1[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60,
    0x01, 0x7f, 0x01, 0x7f, 0x02, 0x27, 0x04, 0x03, 0x65, 0x6e, 0x76, 0x01,
    0x66, 0x00, 0x00, 0x03, 0x65, 0x6e, 0x76, 0x01, 0x74, 0x01, 0x70, 0x01,
    0x02, 0x0a, 0x03, 0x65, 0x6e, 0x76, 0x01, 0x6d, 0x02, 0x01, 0x01, 0x02,
    0x03, 0x65, 0x6e, 0x76, 0x01, 0x67, 0x03, 0x7f, 0x00, 0x03, 0x03, 0x02,
    0x00, 0x00, 0x06, 0x0b, 0x02, 0x7f, 0x01, 0x23, 0x00, 0x0b, 0x70, 0x00,
    0xd2, 0x01, 0x0b, 0x07, 0x24, 0x07, 0x03, 0x69, 0x6e, 0x63, 0x00, 0x01,
    0x06, 0x63, 0x61, 0x6c, 0x6c, 0x5f, 0x66, 0x00, 0x02, 0x01, 0x74, 0x01,
    0x00, 0x01, 0x6d, 0x02, 0x00, 0x01, 0x67, 0x03, 0x00, 0x01, 0x68, 0x03,
    0x01, 0x01, 0x72, 0x03, 0x02, 0x09, 0x07, 0x01, 0x00, 0x41, 0x01, 0x0b,
    0x01, 0x01, 0x0a, 0x10, 0x02, 0x07, 0x00, 0x20, 0x00, 0x41, 0x01, 0x6a,
    0x0b, 0x06, 0x00, 0x20, 0x00, 0x10, 0x00, 0x0b, 0x0b, 0x09, 0x01, 0x00,
    0x41, 0x08, 0x0b, 0x03, 0x61, 0x62, 0x63,
};

/*
 * (module
 *   (import "env" "t" (table 2 funcref))
 *   (func $a (result i32) i32.const 42)
 *   (elem (i32.const 0) $a)
 *   (elem (i32.const 1) $a $a))
 */
static const uint8_t M2[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60,
    0x00, 0x01, 0x7f, 0x02, 0x0b, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x01, 0x74,
    0x01, 0x70, 0x00, 0x02, 0x03, 0x02, 0x01, 0x00, 0x09, 0x0e, 0x02, 0x00,
    0x41, 0x00, 0x0b, 0x01, 0x00, 0x00, 0x41, 0x01, 0x0b, 0x02, 0x00, 0x00,
    0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x2a, 0x0b,
};

/*
 * (module
 *   (import "env" "m" (memory 1))
 *   (data (i32.const 0) "hi")
 *   (data (i32.const 65535) "xy"))
 */
static const uint8_t M3[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x02, 0x0a, 0x01, 0x03,
    0x65, 0x6e, 0x76, 0x01, 0x6d, 0x02, 0x00, 0x01, 0x0b, 0x11, 0x02, 0x00,
    0x41, 0x00, 0x0b, 0x02, 0x68, 0x69, 0x00, 0x41, 0xff, 0xff, 0x03, 0x0b,
    0x02, 0x78, 0x79,
};

/*
 * (module (table 10000001 funcref))
 */
static const uint8_t M4[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x04, 0x07, 0x01, 0x70,
    0x00, 0x81, 0xad, 0xe2, 0x04,
};

/*
 * (module
 *   (memory (export "m") 0)
 *   (data (i32.const 0) ""))
 */
static const uint8_t M5[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x03, 0x01, 0x00,
    0x00, 0x07, 0x05, 0x01, 0x01, 0x6d, 0x02, 0x00, 0x0b, 0x06, 0x01, 0x00,
    0x41, 0x00, 0x0b, 0x00,
};

/*
 * (module
 *   (memory 0)
 *   (data (i32.const 1) ""))
 */
static const uint8_t M6[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x03, 0x01, 0x00,
    0x00, 0x0b, 0x06, 0x01, 0x00, 0x41, 0x01, 0x0b, 0x00,
};

/*
 * (module
 *   (import "host" "add" (func $add (param i32 i32) (result i32)))
 *   (import "env" "mem" (memory 1))
 *   (export "add" (func $add))
 *   (export "mem" (memory 0))
 *   (func (export "run") (param i32 i32) (result i32)
 *     local.get 0 local.get 1 call $add))
 */
static const uint8_t M7[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x07, 0x01, 0x60,
    0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x02, 0x17, 0x02, 0x04, 0x68, 0x6f, 0x73,
    0x74, 0x03, 0x61, 0x64, 0x64, 0x00, 0x00, 0x03, 0x65, 0x6e, 0x76, 0x03,
    0x6d, 0x65, 0x6d, 0x02, 0x00, 0x01, 0x03, 0x02, 0x01, 0x00, 0x07, 0x13,
    0x03, 0x03, 0x61, 0x64, 0x64, 0x00, 0x00, 0x03, 0x6d, 0x65, 0x6d, 0x02,
    0x00, 0x03, 0x72, 0x75, 0x6e, 0x00, 0x01, 0x0a, 0x0a, 0x01, 0x08, 0x00,
    0x20, 0x00, 0x20, 0x01, 0x10, 0x00, 0x0b,
};

/*
 * (module
 *   (table 1 funcref)
 *   (func $f)
 *   (elem (i32.const 0) $f)
 *   (elem func $f)
 *   (elem declare func $f)
 *   (memory 1)
 *   (data (i32.const 0) "a")
 *   (data "b"))
 */
static const uint8_t M8[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60,
    0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x04, 0x04, 0x01, 0x70, 0x00, 0x01,
    0x05, 0x03, 0x01, 0x00, 0x01, 0x09, 0x0f, 0x03, 0x00, 0x41, 0x00, 0x0b,
    0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x03, 0x00, 0x01, 0x00, 0x0a, 0x04,
    0x01, 0x02, 0x00, 0x0b, 0x0b, 0x0a, 0x02, 0x00, 0x41, 0x00, 0x0b, 0x01,
    0x61, 0x01, 0x01, 0x62,
};

/*
 * (module
 *   (import "env" "cb" (func $cb))
 *   (func $start call $cb)
 *   (start $start))
 */
static const uint8_t M9[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60,
    0x00, 0x00, 0x02, 0x0a, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x02, 0x63, 0x62,
    0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x08, 0x01, 0x01, 0x0a, 0x06, 0x01,
    0x04, 0x00, 0x10, 0x00, 0x0b,
};

/*
 * (module
 *   (import "env" "t" (table 1 funcref))
 *   (func $f (result i32) i32.const 7)
 *   (elem (i32.const 0) $f)
 *   (func $start unreachable)
 *   (start $start))
 */
static const uint8_t M10[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x60,
    0x00, 0x01, 0x7f, 0x60, 0x00, 0x00, 0x02, 0x0b, 0x01, 0x03, 0x65, 0x6e,
    0x76, 0x01, 0x74, 0x01, 0x70, 0x00, 0x01, 0x03, 0x03, 0x02, 0x00, 0x01,
    0x08, 0x01, 0x01, 0x09, 0x07, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x00,
    0x0a, 0x0a, 0x02, 0x04, 0x00, 0x41, 0x07, 0x0b, 0x03, 0x00, 0x00, 0x0b,
};

/*
 * (module
 *   (import "env" "t" (table 1 funcref))
 *   (import "env" "m" (memory 1))
 *   (func $f (result i32) i32.const 9)
 *   (elem (i32.const 0) $f)
 *   (data (i32.const 0) "ok")
 *   (data (i32.const 65536) "x"))
 */
static const uint8_t M11[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60,
    0x00, 0x01, 0x7f, 0x02, 0x14, 0x02, 0x03, 0x65, 0x6e, 0x76, 0x01, 0x74,
    0x01, 0x70, 0x00, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x01, 0x6d, 0x02, 0x00,
    0x01, 0x03, 0x02, 0x01, 0x00, 0x09, 0x07, 0x01, 0x00, 0x41, 0x00, 0x0b,
    0x01, 0x00, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x09, 0x0b, 0x0b, 0x10,
    0x02, 0x00, 0x41, 0x00, 0x0b, 0x02, 0x6f, 0x6b, 0x00, 0x41, 0x80, 0x80,
    0x04, 0x0b, 0x01, 0x78,
};

/*
 * (module
 *   (import "inst" "mem" (memory 1))
 *   (data (i32.const 100) "zz"))
 */
static const uint8_t M12[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x02, 0x0d, 0x01, 0x04,
    0x69, 0x6e, 0x73, 0x74, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x01, 0x0b,
    0x09, 0x01, 0x00, 0x41, 0xe4, 0x00, 0x0b, 0x02, 0x7a, 0x7a,
};

/*
 * (module
 *   (func (export "loop") (loop $l br $l)))
 */
static const uint8_t M13[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60,
    0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x07, 0x08, 0x01, 0x04, 0x6c, 0x6f,
    0x6f, 0x70, 0x00, 0x00, 0x0a, 0x09, 0x01, 0x07, 0x00, 0x03, 0x40, 0x0c,
    0x00, 0x0b, 0x0b,
};

/* ---- helpers ---- */

#define LOAD(engine, bytes) load((engine), (bytes), sizeof(bytes), __LINE__)

static whirl_module_t *load(whirl_engine_t *engine, const uint8_t *bytes, size_t len, int line)
{
    whirl_module_t *m = NULL;
    whirl_error_t *err = whirl_module_new(engine, bytes, len, &m);
    if (err) {
        failed++;
        fprintf(stderr, "test_runtime.c:%d: FAILED: module: %s\n", line,
                whirl_error_message(err));
        whirl_error_delete(err);
        return NULL;
    }
    passed++;
    return m;
}

static whirl_val_t i32v(int32_t x)
{
    whirl_val_t v = {.kind = WHIRL_I32};
    v.of.i32 = x;
    return v;
}

static whirl_val_t funcv(whirl_func_t *f)
{
    whirl_val_t v = {.kind = WHIRL_FUNCREF};
    v.of.funcref = f;
    return v;
}

static whirl_val_t externv(void *p)
{
    whirl_val_t v = {.kind = WHIRL_EXTERNREF};
    v.of.externref = p;
    return v;
}

static whirl_functype_t *type_of(size_t np, const whirl_valkind_t *p, size_t nr,
                                 const whirl_valkind_t *r)
{
    whirl_functype_t *t = whirl_functype_new(p, np, r, nr);
    if (!t) {
        fprintf(stderr, "whirl_functype_new failed\n");
        exit(1);
    }
    return t;
}

static int finalized;
static void count_finalizer(void *env) { (void)env; finalized++; }

/* Records what a host callback saw of its caller. */
static whirl_store_t *seen_store;
static int seen_caller_memory = -1;

static whirl_error_t *add_cb(void *env, whirl_caller_t *caller, const whirl_val_t *args,
                             size_t nargs, whirl_val_t *results, size_t nresults)
{
    if (env)
        (*(int *)env)++;
    whirl_extern_t ext;
    seen_store = whirl_caller_store(caller);
    seen_caller_memory = whirl_caller_export(caller, "mem", 3, &ext) &&
                         ext.kind == WHIRL_EXTERN_MEMORY;
    if (nargs != 2 || nresults != 1)
        return whirl_error_new("add_cb: bad arity");
    results[0] = i32v(args[0].of.i32 + args[1].of.i32);
    return NULL;
}

static whirl_error_t *add100_cb(void *env, whirl_caller_t *caller, const whirl_val_t *args,
                                size_t nargs, whirl_val_t *results, size_t nresults)
{
    (void)env, (void)caller, (void)nargs, (void)nresults;
    results[0] = i32v(args[0].of.i32 + 100);
    return NULL;
}

static whirl_error_t *fail_cb(void *env, whirl_caller_t *caller, const whirl_val_t *args,
                              size_t nargs, whirl_val_t *results, size_t nresults)
{
    (void)env, (void)caller, (void)args, (void)nargs, (void)results, (void)nresults;
    return whirl_error_new("boom");
}

static whirl_error_t *count_cb(void *env, whirl_caller_t *caller, const whirl_val_t *args,
                               size_t nargs, whirl_val_t *results, size_t nresults)
{
    (void)caller, (void)args, (void)nargs, (void)results, (void)nresults;
    (*(int *)env)++;
    return NULL;
}

static const whirl_valkind_t K_I32[] = {WHIRL_I32, WHIRL_I32};

static whirl_func_t *host_func(whirl_store_t *store, size_t np, size_t nr,
                               whirl_host_callback_t cb, void *env)
{
    whirl_functype_t *t = type_of(np, K_I32, nr, K_I32);
    whirl_func_t *f = NULL;
    CHECK_OK(whirl_func_new(store, t, cb, env, NULL, &f));
    whirl_functype_delete(t);
    return f;
}

static whirl_extern_t export_of(whirl_instance_t *inst, const char *name)
{
    whirl_extern_t ext;
    memset(&ext, 0, sizeof ext);
    bool ok = whirl_instance_export(inst, name, strlen(name), &ext);
    if (!ok) {
        failed++;
        fprintf(stderr, "FAILED: no export \"%s\"\n", name);
    }
    return ext;
}

static whirl_func_t *table_func(whirl_table_t *t, uint64_t i)
{
    whirl_val_t v = {0};
    whirl_error_t *err = whirl_table_get(t, i, &v);
    if (err) {
        whirl_error_delete(err);
        return NULL;
    }
    return v.kind == WHIRL_FUNCREF ? v.of.funcref : NULL;
}

/* Calls a func of type [] -> [i32] and returns the result (or -1). */
static int32_t call_i32(whirl_store_t *store, whirl_func_t *f)
{
    whirl_val_t r = {0};
    whirl_error_t *err = whirl_func_call(store, f, NULL, 0, &r, 1);
    if (err) {
        fprintf(stderr, "call failed: %s\n", whirl_error_message(err));
        whirl_error_delete(err);
        return -1;
    }
    return r.kind == WHIRL_I32 ? r.of.i32 : -1;
}

/* ---- config, engine, types ---- */

static void test_config_and_types(void)
{
    whirl_config_t *config = whirl_config_new();
    CHECK(config != NULL);
    CHECK_ERR(whirl_config_max_wasm_stack_set(config, 1000), false, "out of range");
    CHECK_ERR(whirl_config_max_wasm_stack_set(config, ((size_t)1 << 30) + 1), false,
              "out of range");
    CHECK_OK(whirl_config_max_wasm_stack_set(config, 64 * 1024));
    whirl_engine_t *engine = NULL;
    CHECK_OK(whirl_engine_new(config, &engine));
    CHECK(engine && engine->config.max_wasm_stack == 64 * 1024);
    whirl_engine_delete(engine);
    whirl_config_delete(NULL);
    whirl_engine_delete(NULL);

    const whirl_valkind_t p[] = {WHIRL_I32, WHIRL_F64, WHIRL_EXTERNREF};
    const whirl_valkind_t r[] = {WHIRL_V128};
    whirl_functype_t *t = whirl_functype_new(p, 3, r, 1);
    CHECK(t != NULL);
    CHECK(whirl_functype_param_count(t) == 3);
    CHECK(whirl_functype_result_count(t) == 1);
    CHECK(whirl_functype_param(t, 1) == WHIRL_F64);
    CHECK(whirl_functype_param(t, 2) == WHIRL_EXTERNREF);
    CHECK(whirl_functype_result(t, 0) == WHIRL_V128);
    CHECK(whirl_functype_param(t, 7) == WHIRL_I32); /* out of range: i32, no crash */
    whirl_functype_t *t2 = whirl_functype_new(p, 3, r, 1);
    CHECK(functype_equal(&t->type, &t2->type));
    whirl_functype_delete(t2);
    t2 = whirl_functype_new(p, 2, r, 1);
    CHECK(!functype_equal(&t->type, &t2->type));
    whirl_functype_delete(t2);
    whirl_functype_delete(t);
    const whirl_valkind_t bad[] = {(whirl_valkind_t)99};
    CHECK(whirl_functype_new(bad, 1, NULL, 0) == NULL);
    t = whirl_functype_new(NULL, 0, NULL, 0);
    CHECK(t && whirl_functype_param_count(t) == 0);
    whirl_functype_delete(t);
    whirl_functype_delete(NULL);
    CHECK(valkind_to_type((whirl_valkind_t)42) == 0);
    CHECK(valtype_to_kind(WASM_FUNCREF) == WHIRL_FUNCREF);

    /* Slots: v128 takes two little-endian slots; i32 zero-extends. */
    whirl_val_t v = {.kind = WHIRL_V128};
    for (int i = 0; i < 16; i++)
        v.of.v128[i] = (uint8_t)(i + 1);
    slot_t s[2];
    val_to_slots(&v, s);
    CHECK(s[0].u64 == 0x0807060504030201ull && s[1].u64 == 0x100f0e0d0c0b0a09ull);
    whirl_val_t back;
    val_from_slots(&back, WASM_V128, s);
    CHECK(back.kind == WHIRL_V128 && memcmp(back.of.v128, v.of.v128, 16) == 0);
    v = i32v(-1);
    val_to_slots(&v, s);
    CHECK(s[0].u64 == 0xffffffffull);
    val_from_slots(&back, WASM_I32, s);
    CHECK(back.kind == WHIRL_I32 && back.of.i32 == -1);
}

/* ---- memories ---- */

static void test_memory(whirl_engine_t *engine)
{
    whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
    whirl_memory_t *m = NULL;
    CHECK_OK(whirl_memory_new(store, 1, 3, &m));
    CHECK(m && whirl_memory_data(m) != NULL);
    CHECK(whirl_memory_data_size(m) == 65536);
    CHECK(whirl_memory_pages(m) == 1);
    uint8_t *base = whirl_memory_data(m);
    base[0] = 1;
    base[65535] = 2;
    uint64_t old = 99;
    CHECK_OK(whirl_memory_grow(m, 2, &old));
    CHECK(old == 1);
    CHECK(whirl_memory_pages(m) == 3 && whirl_memory_data_size(m) == 3 * 65536);
    CHECK(whirl_memory_data(m) == base); /* the base never moves */
    CHECK(base[65535] == 2 && base[65536] == 0 && base[3 * 65536 - 1] == 0);
    base[3 * 65536 - 1] = 3; /* new pages are writable */
    CHECK_ERR(whirl_memory_grow(m, 1, &old), false, "cannot grow");
    CHECK(whirl_memory_pages(m) == 3);
    CHECK_OK(whirl_memory_grow(m, 0, &old));
    CHECK(old == 3);
    CHECK(memory_grow(m, 1) == -1);
    CHECK(memory_grow(m, 0) == 3);
    CHECK(memory_grow(m, UINT64_MAX) == -1);

    /* Zero pages: a valid base, size 0; growable to 4 GiB and no further. */
    whirl_memory_t *z = NULL;
    CHECK_OK(whirl_memory_new(store, 0, WHIRL_NO_MAX, &z));
    CHECK(z && whirl_memory_data(z) != NULL && whirl_memory_data_size(z) == 0);
    CHECK(z && !z->has_max && z->max_pages == 65536);
    CHECK(memory_grow(z, 65537) == -1);
    CHECK(memory_grow(z, 1) == 0);
    CHECK(memory_grow(z, 65535) == 1);
    CHECK(whirl_memory_data_size(z) == ((size_t)4 << 30));
    whirl_memory_data(z)[((size_t)4 << 30) - 1] = 9;
    CHECK(memory_grow(z, 1) == -1);

    whirl_memory_t *bad = (whirl_memory_t *)1;
    CHECK_ERR(whirl_memory_new(store, 2, 1, &bad), false, "greater than its maximum");
    CHECK(bad == NULL);
    CHECK_ERR(whirl_memory_new(store, 0, 65537, &bad), false, "exceeds the limit");
    CHECK_ERR(whirl_memory_new(store, 65537, WHIRL_NO_MAX, &bad), false, "exceeds the limit");
    CHECK_ERR(whirl_memory_new(NULL, 0, 1, &bad), false, "NULL");
    CHECK_ERR(whirl_memory_grow(NULL, 1, NULL), false, "NULL");
    CHECK(whirl_memory_data(NULL) == NULL && whirl_memory_pages(NULL) == 0);
    whirl_store_delete(store);
}

/* ---- tables ---- */

static void test_table(whirl_engine_t *engine)
{
    whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
    whirl_store_t *other = whirl_store_new(engine, NULL, NULL);
    whirl_func_t *f = host_func(store, 0, 0, count_cb, NULL);
    whirl_func_t *foreign = host_func(other, 0, 0, count_cb, NULL);

    whirl_table_t *t = NULL;
    CHECK_OK(whirl_table_new(store, WHIRL_FUNCREF, 2, 5, NULL, &t));
    CHECK(whirl_table_size(t) == 2);
    whirl_val_t v = {0};
    CHECK_OK(whirl_table_get(t, 0, &v));
    CHECK(v.kind == WHIRL_FUNCREF && v.of.funcref == NULL);
    whirl_val_t fv = funcv(f);
    CHECK_OK(whirl_table_set(t, 1, &fv));
    CHECK(table_func(t, 1) == f);
    CHECK_ERR(whirl_table_get(t, 2, &v), false, "out of range");
    CHECK_ERR(whirl_table_set(t, 2, &fv), false, "out of range");
    whirl_val_t ev = externv(&v);
    CHECK_ERR(whirl_table_set(t, 0, &ev), false, "does not match");
    whirl_val_t ffv = funcv(foreign);
    CHECK_ERR(whirl_table_set(t, 0, &ffv), false, "different store");
    CHECK(table_func(t, 0) == NULL);

    uint64_t old = 0;
    CHECK_OK(whirl_table_grow(t, 3, &fv, &old));
    CHECK(old == 2 && whirl_table_size(t) == 5);
    CHECK(table_func(t, 4) == f && table_func(t, 1) == f && table_func(t, 0) == NULL);
    CHECK_ERR(whirl_table_grow(t, 1, NULL, &old), false, "cannot grow");
    CHECK(table_grow(t, 1, NULL) == -1);
    CHECK(table_grow(t, 0, NULL) == 5);
    CHECK(whirl_table_size(t) == 5);

    whirl_table_t *t2 = NULL;
    CHECK_OK(whirl_table_new(store, WHIRL_FUNCREF, 3, WHIRL_NO_MAX, &fv, &t2));
    CHECK(table_func(t2, 0) == f && table_func(t2, 2) == f);
    CHECK(t2 && !t2->has_max);

    /* externref tables; the implementation limit of 10,000,000 entries. */
    int token;
    whirl_val_t tok = externv(&token);
    whirl_table_t *x = NULL;
    CHECK_OK(whirl_table_new(store, WHIRL_EXTERNREF, 1, WHIRL_NO_MAX, &tok, &x));
    CHECK_OK(whirl_table_get(x, 0, &v));
    CHECK(v.kind == WHIRL_EXTERNREF && v.of.externref == &token);
    CHECK(table_grow(x, 10000000, NULL) == -1);
    CHECK(table_grow(x, 9, NULL) == 1);
    CHECK_OK(whirl_table_get(x, 9, &v));
    CHECK(v.of.externref == NULL);
    CHECK_ERR(whirl_table_grow(x, 1, &fv, NULL), false, "does not match");

    whirl_table_t *bad = (whirl_table_t *)1;
    CHECK_ERR(whirl_table_new(store, WHIRL_FUNCREF, 10000001, WHIRL_NO_MAX, NULL, &bad), false,
              "implementation limit");
    CHECK(bad == NULL);
    CHECK_ERR(whirl_table_new(store, WHIRL_I32, 1, 1, NULL, &bad), false, "funcref or externref");
    CHECK_ERR(whirl_table_new(store, WHIRL_FUNCREF, 2, 1, NULL, &bad), false, "greater");
    CHECK_ERR(whirl_table_new(store, WHIRL_FUNCREF, 1, 2, &ev, &bad), false, "does not match");
    CHECK_ERR(whirl_table_new(store, WHIRL_FUNCREF, 1, 2, &ffv, &bad), false, "different store");
    CHECK(whirl_table_size(NULL) == 0);
    whirl_store_delete(other);
    whirl_store_delete(store);
}

/* ---- globals ---- */

static void test_global(whirl_engine_t *engine)
{
    whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
    whirl_store_t *other = whirl_store_new(engine, NULL, NULL);
    whirl_global_t *g = NULL;
    whirl_val_t v = i32v(5);
    CHECK_OK(whirl_global_new(store, &v, false, &g));
    whirl_val_t out = {0};
    whirl_global_get(g, &out);
    CHECK(out.kind == WHIRL_I32 && out.of.i32 == 5);
    CHECK(whirl_global_kind(g) == WHIRL_I32 && !whirl_global_mutable(g));
    v = i32v(6);
    CHECK_ERR(whirl_global_set(g, &v), false, "immutable");
    whirl_global_get(g, &out);
    CHECK(out.of.i32 == 5);

    whirl_val_t d = {.kind = WHIRL_F64};
    d.of.f64 = 1.5;
    whirl_global_t *gd = NULL;
    CHECK_OK(whirl_global_new(store, &d, true, &gd));
    CHECK(whirl_global_mutable(gd) && whirl_global_kind(gd) == WHIRL_F64);
    d.of.f64 = 2.5;
    CHECK_OK(whirl_global_set(gd, &d));
    whirl_global_get(gd, &out);
    CHECK(out.kind == WHIRL_F64 && out.of.f64 == 2.5);
    CHECK_ERR(whirl_global_set(gd, &v), false, "does not match");

    whirl_val_t w = {.kind = WHIRL_V128};
    for (int i = 0; i < 16; i++)
        w.of.v128[i] = (uint8_t)(0xA0 + i);
    whirl_global_t *gv = NULL;
    CHECK_OK(whirl_global_new(store, &w, true, &gv));
    whirl_global_get(gv, &out);
    CHECK(out.kind == WHIRL_V128 && memcmp(out.of.v128, w.of.v128, 16) == 0);
    w.of.v128[15] = 1;
    CHECK_OK(whirl_global_set(gv, &w));
    whirl_global_get(gv, &out);
    CHECK(out.of.v128[15] == 1 && out.of.v128[0] == 0xA0);

    whirl_func_t *foreign = host_func(other, 0, 0, count_cb, NULL);
    whirl_val_t fv = funcv(foreign);
    whirl_global_t *bad = (whirl_global_t *)1;
    CHECK_ERR(whirl_global_new(store, &fv, true, &bad), false, "different store");
    CHECK(bad == NULL);
    whirl_val_t nullref = funcv(NULL);
    whirl_global_t *gr = NULL;
    CHECK_OK(whirl_global_new(store, &nullref, true, &gr));
    CHECK_ERR(whirl_global_set(gr, &fv), false, "different store");
    whirl_val_t inv = {.kind = (whirl_valkind_t)77};
    CHECK_ERR(whirl_global_new(store, &inv, true, &bad), false, "invalid");
    whirl_store_delete(other);
    whirl_store_delete(store);
}

/* ---- host functions through whirl_func_call ---- */

static void test_host_funcs(whirl_engine_t *engine)
{
    whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
    whirl_store_t *other = whirl_store_new(engine, NULL, NULL);
    int calls = 0;
    whirl_func_t *add = host_func(store, 2, 1, add_cb, &calls);
    const whirl_functype_t *t = whirl_func_type(add);
    CHECK(whirl_functype_param_count(t) == 2 && whirl_functype_result_count(t) == 1);

    whirl_val_t args[2] = {i32v(3), i32v(4)};
    whirl_val_t res[1] = {{0}};
    seen_store = NULL;
    seen_caller_memory = -1;
    CHECK_OK(whirl_func_call(store, add, args, 2, res, 1));
    CHECK(res[0].kind == WHIRL_I32 && res[0].of.i32 == 7);
    CHECK(calls == 1);
    CHECK(seen_store == store);
    CHECK(seen_caller_memory == 0); /* no instance behind a host-side call */

    /* Misuse is an error, not a trap, and the callback does not run. */
    CHECK_ERR(whirl_func_call(store, add, args, 1, res, 1), false, "1 arguments");
    CHECK_ERR(whirl_func_call(store, add, args, 2, res, 0), false, "0 results");
    whirl_val_t wrong[2] = {i32v(1), {.kind = WHIRL_I64}};
    CHECK_ERR(whirl_func_call(store, add, wrong, 2, res, 1), false, "argument 1 has type i64");
    CHECK_ERR(whirl_func_call(other, add, args, 2, res, 1), false, "different store");
    CHECK_ERR(whirl_func_call(store, NULL, args, 2, res, 1), false, "NULL");
    CHECK(calls == 1);

    whirl_func_t *fail = host_func(store, 0, 0, fail_cb, NULL);
    whirl_error_t *err = whirl_func_call(store, fail, NULL, 0, NULL, 0);
    whirl_trap_code_t code = 0;
    CHECK(err && whirl_error_is_trap(err, &code) && code == WHIRL_TRAP_HOST);
    CHECK(err && strstr(whirl_error_message(err), "boom"));
    whirl_error_delete(err);

    /* A funcref argument from another store is refused. */
    const whirl_valkind_t fk[] = {WHIRL_FUNCREF};
    whirl_functype_t *ft = type_of(1, fk, 0, NULL);
    whirl_func_t *takes_ref = NULL;
    CHECK_OK(whirl_func_new(store, ft, count_cb, &calls, NULL, &takes_ref));
    whirl_functype_delete(ft);
    whirl_func_t *foreign = host_func(other, 0, 0, count_cb, NULL);
    whirl_val_t fa = funcv(foreign);
    CHECK_ERR(whirl_func_call(store, takes_ref, &fa, 1, NULL, 0), false, "different store");
    fa = funcv(add);
    CHECK_OK(whirl_func_call(store, takes_ref, &fa, 1, NULL, 0));
    CHECK(calls == 2);

    whirl_func_t *none = (whirl_func_t *)1;
    CHECK_ERR(whirl_func_new(store, NULL, count_cb, NULL, NULL, &none), false, "NULL");
    CHECK(none == NULL);
    CHECK(whirl_func_type(NULL) == NULL);
    whirl_store_delete(other);
    whirl_store_delete(store);
}

/* ---- modules ---- */

static void test_module(whirl_engine_t *engine)
{
    whirl_module_t *m = LOAD(engine, M1);
    if (!m)
        return;
    CHECK(whirl_module_import_count(m) == 4);
    whirl_import_info_t ii;
    CHECK(whirl_module_import(m, 0, &ii));
    CHECK(ii.module_len == 3 && memcmp(ii.module, "env", 3) == 0);
    CHECK(ii.name_len == 1 && ii.name[0] == 'f' && ii.kind == WHIRL_EXTERN_FUNC);
    CHECK(ii.functype && whirl_functype_param_count(ii.functype) == 1 &&
          whirl_functype_result(ii.functype, 0) == WHIRL_I32);
    CHECK(whirl_module_import(m, 1, &ii) && ii.kind == WHIRL_EXTERN_TABLE && !ii.functype);
    CHECK(whirl_module_import(m, 2, &ii) && ii.kind == WHIRL_EXTERN_MEMORY);
    CHECK(whirl_module_import(m, 3, &ii) && ii.kind == WHIRL_EXTERN_GLOBAL);
    CHECK(!whirl_module_import(m, 4, &ii));
    CHECK(whirl_module_export_count(m) == 7);
    whirl_export_info_t ei;
    CHECK(whirl_module_export(m, 0, &ei) && ei.name_len == 3 && memcmp(ei.name, "inc", 3) == 0);
    CHECK(ei.kind == WHIRL_EXTERN_FUNC && ei.functype &&
          whirl_functype_param_count(ei.functype) == 1);
    CHECK(whirl_module_export(m, 2, &ei) && ei.kind == WHIRL_EXTERN_TABLE && !ei.functype);
    CHECK(!whirl_module_export(m, 7, &ei));
    CHECK(module_find_export(m, "h", 1) != NULL);
    CHECK(module_find_export(m, "call_f", 6) != NULL);
    CHECK(module_find_export(m, "call", 4) == NULL);
    CHECK(module_find_export(m, "zzz", 3) == NULL);
    CHECK(module_find_export(m, "", 0) == NULL);
    /* The interpreter's form of code converts back to op numbers, which is
     * what serialised modules hold: $inc is `d = a + 1` into the result
     * slot, then return. */
    const compiled_func_t *inc = &m->code->funcs[0];
    code_word_t ops[5];
    CHECK(inc->code_len == 5);
    if (inc->code_len == 5) {
        memcpy(ops, inc->code, sizeof ops);
        exec_code_to_ops(ops, 5);
        CHECK(ops[0] == IOP_I32_ADD_K && ops[1] == 0 && ops[2] == 0 && ops[3] == 1 &&
              ops[4] == IOP_RETURN);
        code_word_t copy[5];
        CHECK(exec_code_from_ops(copy, ops, 5) && memcmp(copy, inc->code, sizeof ops) == 0);
        CHECK(exec_code_from_ops(ops, ops, 5) && memcmp(ops, inc->code, sizeof ops) == 0);
        /* Not an op, and an instruction running past the end. */
        memcpy(ops, (code_word_t[]){IOP_COUNT, 0, 0, 1, IOP_RETURN}, sizeof ops);
        CHECK(!exec_code_from_ops(copy, ops, 5));
        memcpy(ops, (code_word_t[]){IOP_RETURN, IOP_I32_ADD_K, 0, 0, 1}, sizeof ops);
        CHECK(!exec_code_from_ops(copy, ops, 3));
        CHECK(exec_code_from_ops(copy, ops, 5));
    }
    whirl_module_delete(m);

    static const uint8_t garbage[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0xff};
    whirl_module_t *bad = (whirl_module_t *)1;
    whirl_error_t *err = whirl_module_new(engine, garbage, sizeof garbage, &bad);
    CHECK(err != NULL && bad == NULL && !whirl_error_is_trap(err, NULL));
    whirl_error_delete(err);
    err = whirl_module_new(engine, NULL, 0, &bad);
    CHECK(err != NULL && bad == NULL);
    whirl_error_delete(err);
    CHECK_OK(whirl_module_validate(engine, M1, sizeof M1));
    err = whirl_module_validate(engine, garbage, sizeof garbage);
    CHECK(err != NULL);
    whirl_error_delete(err);
    whirl_module_delete(NULL);
    CHECK(whirl_module_import_count(NULL) == 0 && whirl_module_export_count(NULL) == 0);
}

/* ---- instantiation ---- */

/* Externs matching M1's imports, all in `store`. */
typedef struct m1_imports {
    whirl_func_t *f;
    whirl_table_t *t;
    whirl_memory_t *m;
    whirl_global_t *g;
} m1_imports_t;

static m1_imports_t m1_imports(whirl_store_t *store)
{
    m1_imports_t im = {0};
    im.f = host_func(store, 1, 1, add100_cb, NULL);
    CHECK_OK(whirl_table_new(store, WHIRL_FUNCREF, 2, 10, NULL, &im.t));
    CHECK_OK(whirl_memory_new(store, 1, 2, &im.m));
    whirl_val_t v = i32v(77);
    CHECK_OK(whirl_global_new(store, &v, false, &im.g));
    return im;
}

static whirl_error_t *inst_m1(whirl_store_t *store, whirl_module_t *mod, whirl_extern_t *ext)
{
    whirl_instance_t *inst = (whirl_instance_t *)1;
    whirl_error_t *err = whirl_instance_new(store, mod, ext, 4, &inst);
    if (err)
        CHECK(inst == NULL);
    return err;
}

static void fill(whirl_extern_t *ext, const m1_imports_t *im)
{
    ext[0] = (whirl_extern_t){.kind = WHIRL_EXTERN_FUNC, .of.func = im->f};
    ext[1] = (whirl_extern_t){.kind = WHIRL_EXTERN_TABLE, .of.table = im->t};
    ext[2] = (whirl_extern_t){.kind = WHIRL_EXTERN_MEMORY, .of.memory = im->m};
    ext[3] = (whirl_extern_t){.kind = WHIRL_EXTERN_GLOBAL, .of.global = im->g};
}

static void test_instantiate(whirl_engine_t *engine)
{
    whirl_module_t *mod = LOAD(engine, M1);
    if (!mod)
        return;
    whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
    m1_imports_t im = m1_imports(store);
    whirl_extern_t ext[4];
    fill(ext, &im);
    whirl_instance_t *inst = NULL;
    CHECK_OK(whirl_instance_new(store, mod, ext, 4, &inst));
    if (!inst) {
        whirl_module_delete(mod);
        whirl_store_delete(store);
        return;
    }
    whirl_func_t *inc = export_of(inst, "inc").of.func;
    CHECK(inc && inc->kind == FUNC_WASM && inc->instance == inst);
    CHECK(table_func(im.t, 1) == inc && table_func(im.t, 0) == NULL);
    CHECK(memcmp(whirl_memory_data(im.m) + 8, "abc", 3) == 0);
    whirl_extern_t e = export_of(inst, "h");
    whirl_val_t v = {0};
    whirl_global_get(e.of.global, &v);
    CHECK(e.kind == WHIRL_EXTERN_GLOBAL && v.kind == WHIRL_I32 && v.of.i32 == 77);
    CHECK(whirl_global_mutable(e.of.global));
    whirl_global_get(export_of(inst, "r").of.global, &v);
    CHECK(v.kind == WHIRL_FUNCREF && v.of.funcref == inc);
    CHECK(export_of(inst, "t").of.table == im.t);
    CHECK(export_of(inst, "m").of.memory == im.m);
    CHECK(inst->vm.memory0 == im.m);
    CHECK(export_of(inst, "g").of.global == im.g);
    CHECK(!whirl_instance_export(inst, "nope", 4, &e));
    CHECK(!whirl_instance_export(inst, "in", 2, &e));
    CHECK(!whirl_instance_export(NULL, "inc", 3, &e));
    /* The instance keeps the module alive after the caller's reference. */
    whirl_module_delete(mod);
    CHECK(inst->module->wasm->nexports == 7);

    const whirl_functype_t *it = whirl_func_type(inc);
    CHECK(whirl_functype_param_count(it) == 1 && whirl_functype_result(it, 0) == WHIRL_I32);
    whirl_val_t arg = i32v(41), res = {0};
    CHECK_OK(whirl_func_call(store, inc, &arg, 1, &res, 1));
    CHECK(res.kind == WHIRL_I32 && res.of.i32 == 42);
    arg = i32v(1);
    CHECK_OK(whirl_func_call(store, export_of(inst, "call_f").of.func, &arg, 1, &res, 1));
    CHECK(res.of.i32 == 101);

    /* Link errors: nothing is created in the store. */
    mod = inst->module;
    module_retain(mod);
    store_object_t *objects = store->objects;
    whirl_instance_t *none = (whirl_instance_t *)1;
    CHECK_ERR(whirl_instance_new(store, mod, ext, 3, &none), false, "4 imports");
    CHECK(none == NULL);
    CHECK(store->objects == objects);

    m1_imports_t alt = im;
    alt.f = host_func(store, 1, 0, add100_cb, NULL); /* [i32] -> [] */
    objects = store->objects;
    fill(ext, &alt);
    whirl_error_t *err = inst_m1(store, mod, ext);
    CHECK(err && strstr(whirl_error_message(err), "module \"env\" name \"f\""));
    CHECK(err && strstr(whirl_error_message(err), "expected func [i32] -> [i32], got func [i32] -> []"));
    CHECK_ERR(err, false, "incompatible import type");
    CHECK(store->objects == objects);

    fill(ext, &im);
    ext[0] = (whirl_extern_t){.kind = WHIRL_EXTERN_MEMORY, .of.memory = im.m};
    CHECK_ERR(inst_m1(store, mod, ext), false, "incompatible import type");
    fill(ext, &im);
    ext[1].kind = WHIRL_EXTERN_GLOBAL; /* kind says global, object is a table */
    ext[1].of.global = im.g;
    CHECK_ERR(inst_m1(store, mod, ext), false, "expected table, got global");

    /* Tables: element type, minimum, maximum. */
    alt = im;
    CHECK_OK(whirl_table_new(store, WHIRL_EXTERNREF, 2, 10, NULL, &alt.t));
    fill(ext, &alt);
    CHECK_ERR(inst_m1(store, mod, ext), false, "incompatible import type");
    CHECK_OK(whirl_table_new(store, WHIRL_FUNCREF, 1, 10, NULL, &alt.t));
    fill(ext, &alt);
    CHECK_ERR(inst_m1(store, mod, ext), false, "incompatible import type");
    CHECK_OK(whirl_table_new(store, WHIRL_FUNCREF, 2, WHIRL_NO_MAX, NULL, &alt.t));
    fill(ext, &alt);
    CHECK_ERR(inst_m1(store, mod, ext), false, "no max");
    CHECK_OK(whirl_table_new(store, WHIRL_FUNCREF, 2, 20, NULL, &alt.t));
    fill(ext, &alt);
    CHECK_ERR(inst_m1(store, mod, ext), false, "incompatible import type");
    /* Current size counts as the minimum: grown to 2 it matches. */
    CHECK_OK(whirl_table_new(store, WHIRL_FUNCREF, 1, 5, NULL, &alt.t));
    CHECK_OK(whirl_table_grow(alt.t, 2, NULL, NULL));
    fill(ext, &alt);
    CHECK_OK(inst_m1(store, mod, ext));

    /* Memories, in pages. */
    alt = im;
    CHECK_OK(whirl_memory_new(store, 0, 2, &alt.m));
    fill(ext, &alt);
    CHECK_ERR(inst_m1(store, mod, ext), false, "incompatible import type");
    CHECK_OK(whirl_memory_new(store, 1, WHIRL_NO_MAX, &alt.m));
    fill(ext, &alt);
    CHECK_ERR(inst_m1(store, mod, ext), false, "incompatible import type");
    CHECK_OK(whirl_memory_new(store, 1, 3, &alt.m));
    fill(ext, &alt);
    CHECK_ERR(inst_m1(store, mod, ext), false, "expected memory {min 1, max 2}, got memory {min 1, max 3}");
    CHECK_OK(whirl_memory_new(store, 2, 2, &alt.m));
    fill(ext, &alt);
    CHECK_OK(inst_m1(store, mod, ext));

    /* Globals: type and mutability. */
    alt = im;
    whirl_val_t l = {.kind = WHIRL_I64};
    CHECK_OK(whirl_global_new(store, &l, false, &alt.g));
    fill(ext, &alt);
    CHECK_ERR(inst_m1(store, mod, ext), false, "expected global i32, got global i64");
    whirl_val_t i = i32v(1);
    CHECK_OK(whirl_global_new(store, &i, true, &alt.g));
    fill(ext, &alt);
    CHECK_ERR(inst_m1(store, mod, ext), false, "got global mut i32");

    /* Externs of another store, and NULL objects. */
    whirl_store_t *other = whirl_store_new(engine, NULL, NULL);
    alt = im;
    CHECK_OK(whirl_memory_new(other, 1, 2, &alt.m));
    fill(ext, &alt);
    CHECK_ERR(inst_m1(store, mod, ext), false, "different store");
    alt = im;
    alt.f = NULL;
    fill(ext, &alt);
    CHECK_ERR(inst_m1(store, mod, ext), false, "is NULL");
    fill(ext, &im);
    CHECK_ERR(whirl_instance_new(store, mod, NULL, 4, &none), false, "NULL");
    CHECK_ERR(whirl_instance_new(store, mod, ext, 4, NULL), false, "NULL");
    module_release(mod);
    whirl_store_delete(other);
    whirl_store_delete(store);
}

/* Segment initialisation traps keep the writes done so far and leave the
 * instance alive in the store. */
static void test_segment_traps(whirl_engine_t *engine)
{
    whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
    whirl_error_t *err;
    whirl_trap_code_t code = 0;
    whirl_instance_t *inst = (whirl_instance_t *)1;

    whirl_module_t *m2 = LOAD(engine, M2);
    whirl_table_t *t = NULL;
    CHECK_OK(whirl_table_new(store, WHIRL_FUNCREF, 2, WHIRL_NO_MAX, NULL, &t));
    whirl_extern_t ext[2] = {{.kind = WHIRL_EXTERN_TABLE, .of.table = t}};
    err = whirl_instance_new(store, m2, ext, 1, &inst);
    CHECK(err && whirl_error_is_trap(err, &code) && code == WHIRL_TRAP_TABLE_OUT_OF_BOUNDS);
    CHECK(err && strstr(whirl_error_message(err), "out of bounds table access"));
    whirl_error_delete(err);
    CHECK(inst == NULL);
    whirl_module_delete(m2); /* the surviving instance holds it */
    whirl_func_t *a = table_func(t, 0);
    CHECK(a != NULL && table_func(t, 1) == NULL); /* the failing segment wrote nothing */
    CHECK(a && whirl_functype_result_count(whirl_func_type(a)) == 1);
    if (a)
        CHECK(call_i32(store, a) == 42);

    whirl_module_t *m3 = LOAD(engine, M3);
    whirl_memory_t *mem = NULL;
    CHECK_OK(whirl_memory_new(store, 1, WHIRL_NO_MAX, &mem));
    ext[0] = (whirl_extern_t){.kind = WHIRL_EXTERN_MEMORY, .of.memory = mem};
    err = whirl_instance_new(store, m3, ext, 1, &inst);
    CHECK(err && whirl_error_is_trap(err, &code) && code == WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS);
    whirl_error_delete(err);
    CHECK(memcmp(whirl_memory_data(mem), "hi", 2) == 0 && whirl_memory_data(mem)[65535] == 0);
    whirl_module_delete(m3);

    /* Element segments all go before data segments. */
    whirl_module_t *m11 = LOAD(engine, M11);
    whirl_table_t *t1 = NULL;
    whirl_memory_t *mem1 = NULL;
    CHECK_OK(whirl_table_new(store, WHIRL_FUNCREF, 1, WHIRL_NO_MAX, NULL, &t1));
    CHECK_OK(whirl_memory_new(store, 1, WHIRL_NO_MAX, &mem1));
    ext[0] = (whirl_extern_t){.kind = WHIRL_EXTERN_TABLE, .of.table = t1};
    ext[1] = (whirl_extern_t){.kind = WHIRL_EXTERN_MEMORY, .of.memory = mem1};
    CHECK_ERR(whirl_instance_new(store, m11, ext, 2, &inst), true, "out of bounds memory access");
    CHECK(table_func(t1, 0) != NULL);
    CHECK(memcmp(whirl_memory_data(mem1), "ok", 2) == 0);
    if (table_func(t1, 0))
        CHECK(call_i32(store, table_func(t1, 0)) == 9);
    whirl_module_delete(m11);

    /* A table beyond the implementation limit: a plain error, nothing made. */
    whirl_module_t *m4 = LOAD(engine, M4);
    store_object_t *objects = store->objects;
    CHECK_ERR(whirl_instance_new(store, m4, NULL, 0, &inst), false, "implementation limit");
    CHECK(store->objects == objects);
    whirl_module_delete(m4);

    /* Zero-page memories: empty data at offset 0 fits, at offset 1 traps. */
    whirl_module_t *m5 = LOAD(engine, M5);
    CHECK_OK(whirl_instance_new(store, m5, NULL, 0, &inst));
    whirl_memory_t *zm = export_of(inst, "m").of.memory;
    CHECK(zm && whirl_memory_data(zm) != NULL && whirl_memory_data_size(zm) == 0);
    whirl_module_delete(m5);
    whirl_module_t *m6 = LOAD(engine, M6);
    CHECK_ERR(whirl_instance_new(store, m6, NULL, 0, &inst), true, "out of bounds memory access");
    whirl_module_delete(m6);

    /* Dropped flags: active and declarative segments are dropped, passive
     * ones stay. */
    whirl_module_t *m8 = LOAD(engine, M8);
    CHECK_OK(whirl_instance_new(store, m8, NULL, 0, &inst));
    CHECK(inst->elem_dropped[0] && !inst->elem_dropped[1] && inst->elem_dropped[2]);
    CHECK(inst->data_dropped[0] && !inst->data_dropped[1]);
    CHECK(inst->vm.memories[0]->base[0] == 'a' && inst->vm.tables[0]->elems[0] == inst->vm.funcs[0]);
    CHECK(inst->vm.memory0 == inst->vm.memories[0]);
    whirl_module_delete(m8);

    /* Start function: runs after segments; a trap keeps the instance. */
    whirl_module_t *m9 = LOAD(engine, M9);
    int calls = 0;
    whirl_func_t *cb = host_func(store, 0, 0, count_cb, &calls);
    ext[0] = (whirl_extern_t){.kind = WHIRL_EXTERN_FUNC, .of.func = cb};
    CHECK_OK(whirl_instance_new(store, m9, ext, 1, &inst));
    CHECK(calls == 1);
    whirl_module_delete(m9);

    whirl_module_t *m10 = LOAD(engine, M10);
    whirl_table_t *t2 = NULL;
    CHECK_OK(whirl_table_new(store, WHIRL_FUNCREF, 1, WHIRL_NO_MAX, NULL, &t2));
    ext[0] = (whirl_extern_t){.kind = WHIRL_EXTERN_TABLE, .of.table = t2};
    err = whirl_instance_new(store, m10, ext, 1, &inst);
    CHECK(err && whirl_error_is_trap(err, &code) && code == WHIRL_TRAP_UNREACHABLE);
    whirl_error_delete(err);
    CHECK(inst == NULL && table_func(t2, 0) != NULL);
    if (table_func(t2, 0))
        CHECK(call_i32(store, table_func(t2, 0)) == 7);
    whirl_module_delete(m10);
    whirl_store_delete(store);
}

/* ---- linker ---- */

static void test_linker(whirl_engine_t *engine)
{
    whirl_linker_t *linker = whirl_linker_new(engine);
    int calls = 0;
    finalized = 0;
    whirl_functype_t *ft = type_of(2, K_I32, 1, K_I32);
    CHECK_OK(whirl_linker_define_func(linker, "host", "add", ft, add_cb, &calls,
                                      count_finalizer));
    CHECK_ERR(whirl_linker_define_func(linker, "host", "add", ft, add_cb, NULL, NULL), false,
              "already defined");

    whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
    whirl_memory_t *mem = NULL;
    CHECK_OK(whirl_memory_new(store, 1, WHIRL_NO_MAX, &mem));
    whirl_extern_t me = {.kind = WHIRL_EXTERN_MEMORY, .of.memory = mem};
    CHECK_OK(whirl_linker_define(linker, "env", "mem", &me));
    CHECK_ERR(whirl_linker_define(linker, "env", "mem", &me), false, "already defined");
    whirl_extern_t bad = {.kind = WHIRL_EXTERN_MEMORY, .of.memory = NULL};
    CHECK_ERR(whirl_linker_define(linker, "env", "x", &bad), false, "invalid extern");

    whirl_module_t *m7 = LOAD(engine, M7);
    whirl_instance_t *i1 = NULL, *i2 = NULL;
    CHECK_OK(whirl_linker_instantiate(linker, store, m7, &i1));
    CHECK_OK(whirl_linker_instantiate(linker, store, m7, &i2));
    if (!i1 || !i2)
        goto out;
    whirl_func_t *add1 = export_of(i1, "add").of.func, *add2 = export_of(i2, "add").of.func;
    CHECK(add1 && add1 == add2 && add1->kind == FUNC_HOST); /* one func per store */
    CHECK(export_of(i1, "mem").of.memory == mem);

    whirl_val_t args[2] = {i32v(2), i32v(3)}, res = {0};
    seen_caller_memory = -1;
    CHECK_OK(whirl_func_call(store, export_of(i1, "run").of.func, args, 2, &res, 1));
    CHECK(res.of.i32 == 5 && calls == 1);
    CHECK(seen_caller_memory == 1 && seen_store == store); /* called from wasm */

    /* define_instance: every export, all or nothing. */
    CHECK_OK(whirl_linker_define_instance(linker, "inst", i1));
    CHECK_ERR(whirl_linker_define_instance(linker, "inst", i2), false, "already defined");
    whirl_module_t *m12 = LOAD(engine, M12);
    whirl_instance_t *i3 = NULL;
    CHECK_OK(whirl_linker_instantiate(linker, store, m12, &i3));
    CHECK(memcmp(whirl_memory_data(mem) + 100, "zz", 2) == 0);
    /* Partial: "env" "mem" exists, so defining i2 as "env" defines nothing. */
    CHECK_ERR(whirl_linker_define_instance(linker, "env", i2), false,
              "module \"env\" name \"mem\" is already defined");
    CHECK_OK(whirl_linker_define_func(linker, "env", "add", ft, add_cb, NULL, NULL));
    CHECK_OK(whirl_linker_define_instance(linker, "other", i2));

    /* Unknown imports name the module and field. */
    whirl_linker_t *empty = whirl_linker_new(engine);
    whirl_instance_t *none = (whirl_instance_t *)1;
    CHECK_ERR(whirl_linker_instantiate(empty, store, m7, &none), false,
              "unknown import: module \"host\" name \"add\"");
    CHECK(none == NULL);
    /* Wrong kinds for a definition. */
    CHECK_OK(whirl_linker_define_func(empty, "host", "add", ft, add_cb, NULL, NULL));
    CHECK_OK(whirl_linker_define_func(empty, "env", "mem", ft, add_cb, NULL, NULL));
    CHECK_ERR(whirl_linker_instantiate(empty, store, m7, &none), false,
              "incompatible import type: module \"env\" name \"mem\"");
    whirl_linker_delete(empty);
    whirl_linker_t *wrong = whirl_linker_new(engine);
    const whirl_valkind_t one[] = {WHIRL_I32};
    whirl_functype_t *ft1 = type_of(1, one, 1, one);
    CHECK_OK(whirl_linker_define_func(wrong, "host", "add", ft1, add_cb, NULL, NULL));
    CHECK_OK(whirl_linker_define(wrong, "env", "mem", &me));
    CHECK_ERR(whirl_linker_instantiate(wrong, store, m7, &none), false,
              "incompatible import type: module \"host\" name \"add\"");
    whirl_functype_delete(ft1);
    whirl_linker_delete(wrong);

    /* A store-bound definition used with another store. */
    whirl_store_t *other = whirl_store_new(engine, NULL, NULL);
    CHECK_ERR(whirl_linker_instantiate(linker, other, m7, &none), false, "different store");
    whirl_store_delete(other);
    whirl_module_delete(m12);
out:
    whirl_module_delete(m7);
    whirl_functype_delete(ft);
    whirl_store_delete(store);
    CHECK(finalized == 0); /* env belongs to the linker, not the store */
    whirl_linker_delete(linker);
    CHECK(finalized == 1);
    whirl_linker_delete(NULL);
}

/* ---- stores ---- */

static void test_store(whirl_engine_t *engine)
{
    int data_fin = 0, env_fin = 0;
    finalized = 0;
    whirl_store_t *store = whirl_store_new(engine, &data_fin, count_finalizer);
    CHECK(whirl_store_data(store) == &data_fin);
    CHECK(store->epoch_deadline == WHIRL_EPOCH_DEADLINE_NEVER);

    /* Everything in one store, freed with it (ASan checks the leaks). */
    whirl_functype_t *t = type_of(0, NULL, 0, NULL);
    whirl_func_t *f = NULL;
    CHECK_OK(whirl_func_new(store, t, count_cb, &env_fin, count_finalizer, &f));
    whirl_functype_delete(t);
    whirl_module_t *mod = LOAD(engine, M1);
    m1_imports_t im = m1_imports(store);
    whirl_extern_t ext[4];
    fill(ext, &im);
    whirl_instance_t *inst = NULL;
    CHECK_OK(whirl_instance_new(store, mod, ext, 4, &inst));
    CHECK_OK(whirl_instance_new(store, mod, ext, 4, &inst));
    whirl_module_delete(mod);
    whirl_module_t *m13 = LOAD(engine, M13);
    whirl_instance_t *looper = NULL;
    CHECK_OK(whirl_instance_new(store, m13, NULL, 0, &looper));
    whirl_module_delete(m13);

    /* Epochs: a deadline already reached interrupts the next call; an
     * infinite loop is interrupted once the epoch advances. */
    whirl_store_set_epoch_deadline(store, 5);
    CHECK(store->epoch_deadline == atomic_load(&engine->epoch) + 5);
    whirl_engine_increment_epoch(engine);
    whirl_store_set_epoch_deadline(store, UINT64_MAX);
    CHECK(store->epoch_deadline == UINT64_MAX);
    whirl_store_clear_epoch_deadline(store);
    CHECK(store->epoch_deadline == WHIRL_EPOCH_DEADLINE_NEVER);
    if (looper) {
        whirl_store_set_epoch_deadline(store, 0);
        whirl_error_t *err = whirl_func_call(store, export_of(looper, "loop").of.func, NULL, 0,
                                             NULL, 0);
        whirl_trap_code_t code = 0;
        CHECK(err && whirl_error_is_trap(err, &code) && code == WHIRL_TRAP_INTERRUPT);
        whirl_error_delete(err);
        whirl_store_clear_epoch_deadline(store);
    }

    whirl_store_delete(store);
    CHECK(finalized == 2); /* the host func's env and the store's data */
    whirl_store_delete(NULL);
    CHECK(whirl_store_new(NULL, NULL, NULL) == NULL);
}

int main(void)
{
    test_config_and_types();
    whirl_engine_t *engine = NULL;
    /* No epoch ticker: the epoch tests below compare against its value. */
    whirl_config_t *config = whirl_config_new();
    whirl_config_epoch_interval_set(config, 0);
    if (!check_ok(whirl_engine_new(config, &engine), "whirl_engine_new", __FILE__, __LINE__))
        return 1;
    test_memory(engine);
    test_table(engine);
    test_global(engine);
    test_host_funcs(engine);
    test_module(engine);
    test_instantiate(engine);
    test_segment_traps(engine);
    test_linker(engine);
    test_store(engine);
    whirl_engine_delete(engine);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
