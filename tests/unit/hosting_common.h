/* Shared by the hosting tests (test_hosting*.c): checks, the test modules
 * (embedded binaries; the WAT each was assembled from with wat2wasm is in
 * the comment above it), and small helpers over the public API. */
#ifndef WHIRL_TEST_HOSTING_COMMON_H
#define WHIRL_TEST_HOSTING_COMMON_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whirl.h"

static atomic_int passed, failed;

#define CHECK(cond)                                                             \
    do {                                                                        \
        if (cond) {                                                             \
            passed++;                                                           \
        } else {                                                                \
            failed++;                                                           \
            fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond);  \
        }                                                                       \
    } while (0)

/* `err` must be an error (a trap if `trap`) whose message contains every
 * one of the NULL-terminated needles; it is freed. */
#define CHECK_ERR(err, trap, ...) check_err((err), (trap), __FILE__, __LINE__, __VA_ARGS__, NULL)

static __attribute__((unused, sentinel)) void check_err(whirl_error_t *err, bool trap,
                                                         const char *file, int line, ...)
{
    if (!err) {
        failed++;
        fprintf(stderr, "%s:%d: FAILED: expected an error\n", file, line);
        return;
    }
    const char *msg = whirl_error_message(err);
    bool ok = whirl_error_is_trap(err, NULL) == trap;
    va_list ap;
    va_start(ap, line);
    for (const char *needle; (needle = va_arg(ap, const char *));)
        if (!strstr(msg, needle)) {
            ok = false;
            fprintf(stderr, "%s:%d: FAILED: error lacks \"%s\"\n", file, line, needle);
        }
    va_end(ap);
    if (ok) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "%s:%d: FAILED: got %s \"%s\"\n", file, line,
                whirl_error_is_trap(err, NULL) ? "trap" : "error", msg);
    }
    whirl_error_delete(err);
}

#define CHECK_OK(expr) check_ok((expr), #expr, __FILE__, __LINE__)

static __attribute__((unused)) bool check_ok(whirl_error_t *err, const char *what,
                                             const char *file, int line)
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

static __attribute__((unused)) int report(void)
{
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

/*
 * (module)
 */
static const uint8_t M_EMPTY[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
};

/*
 * (module
 *   (import "host" "add" (func $add (param i32 i32) (result i32)))
 *   (memory 1)
 *   (func (export "run") (param i32) (result i32)
 *     i32.const 0 local.get 0 i32.store
 *     i32.const 0 i32.load i32.const 1 call $add))
 */
static const uint8_t M_IMP[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0c, 0x02, 0x60,
    0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x02, 0x0c,
    0x01, 0x04, 0x68, 0x6f, 0x73, 0x74, 0x03, 0x61, 0x64, 0x64, 0x00, 0x00,
    0x03, 0x02, 0x01, 0x01, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x07, 0x01,
    0x03, 0x72, 0x75, 0x6e, 0x00, 0x01, 0x0a, 0x14, 0x01, 0x12, 0x00, 0x41,
    0x00, 0x20, 0x00, 0x36, 0x02, 0x00, 0x41, 0x00, 0x28, 0x02, 0x00, 0x41,
    0x01, 0x10, 0x00, 0x0b,
};

/*
 * (module (import "env" "m" (memory 1)))
 */
static const uint8_t M_IMPMEM[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x02, 0x0a, 0x01, 0x03,
    0x65, 0x6e, 0x76, 0x01, 0x6d, 0x02, 0x00, 0x01,
};

/*
 * (module
 *   (memory (export "mem") 1)
 *   (table (export "tab") 10 funcref)
 *   (func $f (export "f") (result i32) i32.const 7)
 *   (elem declare func $f)
 *   (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
 *   (func (export "load") (param i32) (result i32) local.get 0 i32.load)
 *   (func (export "store") (param i32 i32) local.get 0 local.get 1 i32.store)
 *   (func (export "tgrow") (param i32) (result i32) ref.null func local.get 0 table.grow 0)
 *   (func (export "tset") (param i32) local.get 0 ref.func $f table.set 0)
 *   (func (export "tnull") (param i32) (result i32) local.get 0 table.get 0 ref.is_null)
 *   (func (export "spin") (loop $l br $l)))
 */
static const uint8_t M_MAIN[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x16, 0x05, 0x60,
    0x00, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x02, 0x7f, 0x7f,
    0x00, 0x60, 0x01, 0x7f, 0x00, 0x60, 0x00, 0x00, 0x03, 0x09, 0x08, 0x00,
    0x01, 0x01, 0x02, 0x01, 0x03, 0x01, 0x04, 0x04, 0x04, 0x01, 0x70, 0x00,
    0x0a, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x45, 0x0a, 0x03, 0x6d, 0x65,
    0x6d, 0x02, 0x00, 0x03, 0x74, 0x61, 0x62, 0x01, 0x00, 0x01, 0x66, 0x00,
    0x00, 0x04, 0x67, 0x72, 0x6f, 0x77, 0x00, 0x01, 0x04, 0x6c, 0x6f, 0x61,
    0x64, 0x00, 0x02, 0x05, 0x73, 0x74, 0x6f, 0x72, 0x65, 0x00, 0x03, 0x05,
    0x74, 0x67, 0x72, 0x6f, 0x77, 0x00, 0x04, 0x04, 0x74, 0x73, 0x65, 0x74,
    0x00, 0x05, 0x05, 0x74, 0x6e, 0x75, 0x6c, 0x6c, 0x00, 0x06, 0x04, 0x73,
    0x70, 0x69, 0x6e, 0x00, 0x07, 0x09, 0x05, 0x01, 0x03, 0x00, 0x01, 0x00,
    0x0a, 0x42, 0x08, 0x04, 0x00, 0x41, 0x07, 0x0b, 0x06, 0x00, 0x20, 0x00,
    0x40, 0x00, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x28, 0x02, 0x00, 0x0b, 0x09,
    0x00, 0x20, 0x00, 0x20, 0x01, 0x36, 0x02, 0x00, 0x0b, 0x09, 0x00, 0xd0,
    0x70, 0x20, 0x00, 0xfc, 0x0f, 0x00, 0x0b, 0x08, 0x00, 0x20, 0x00, 0xd2,
    0x00, 0x26, 0x00, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x25, 0x00, 0xd1, 0x0b,
    0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b,
};

/*
 * (module (memory 3))
 */
static const uint8_t M_MEM3[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x03, 0x01, 0x00,
    0x03,
};

/*
 * (module (table 11 funcref))
 */
static const uint8_t M_TABLE11[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x04, 0x04, 0x01, 0x70,
    0x00, 0x0b,
};

/*
 * (module (table 1 funcref) (table 1 funcref))
 */
static const uint8_t M_TWO_TABLES[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x04, 0x07, 0x02, 0x70,
    0x00, 0x01, 0x70, 0x00, 0x01,
};

/* Unsets every knob's environment variables, so that the host's
 * environment does not change what the tests expect. */
static __attribute__((unused)) void clear_env(void)
{
    whirl_config_t *c = whirl_config_new();
    whirl_config_pooling_set(c, false); /* listing it must not run the probe */
    for (size_t i = 0; i < whirl_config_item_count(); i++) {
        whirl_config_item_t it;
        whirl_config_item(c, i, &it);
        unsetenv(it.env);
        if (it.spin_env)
            unsetenv(it.spin_env);
    }
    whirl_config_delete(c);
}

#define LOAD(engine, bytes) load_module((engine), (bytes), sizeof(bytes))

static __attribute__((unused)) whirl_module_t *load_module(whirl_engine_t *engine,
                                                           const uint8_t *bytes, size_t len)
{
    whirl_module_t *m = NULL;
    whirl_error_t *err = whirl_module_new(engine, bytes, len, &m);
    if (err) {
        fprintf(stderr, "module: %s\n", whirl_error_message(err));
        whirl_error_delete(err);
        failed++;
    }
    return m;
}

/* Instantiates a module without imports; NULL (and the error counted as a
 * failure) if that fails. */
static __attribute__((unused)) whirl_instance_t *instantiate(whirl_store_t *store,
                                                              whirl_module_t *m)
{
    whirl_instance_t *inst = NULL;
    if (!check_ok(whirl_instance_new(store, m, NULL, 0, &inst), "instantiate", __FILE__,
                  __LINE__))
        return NULL;
    return inst;
}

static __attribute__((unused)) whirl_extern_t export_of(whirl_instance_t *inst,
                                                        const char *name)
{
    whirl_extern_t e = {0};
    if (!inst || !whirl_instance_export(inst, name, strlen(name), &e))
        fprintf(stderr, "no export %s\n", name);
    return e;
}

/* Calls export `name` with up to two i32 arguments; returns its i32 result
 * (0 without one), or INT32_MIN if the call failed. */
static __attribute__((unused)) int32_t call_i32(whirl_store_t *store, whirl_instance_t *inst,
                                                const char *name, size_t nargs, int32_t a,
                                                int32_t b)
{
    whirl_func_t *f = export_of(inst, name).of.func;
    if (!f)
        return INT32_MIN;
    whirl_val_t args[2] = {{.kind = WHIRL_I32, .of.i32 = a}, {.kind = WHIRL_I32, .of.i32 = b}};
    whirl_val_t res = {0};
    size_t nres = whirl_functype_result_count(whirl_func_type(f));
    whirl_error_t *err = whirl_func_call(store, f, args, nargs, &res, nres);
    if (err) {
        fprintf(stderr, "call %s: %s\n", name, whirl_error_message(err));
        whirl_error_delete(err);
        return INT32_MIN;
    }
    return nres ? res.of.i32 : 0;
}

/* A config that ignores the environment, runs no ticker and has pooling
 * forced to `pooling`. */
static __attribute__((unused)) whirl_config_t *test_config(bool pooling)
{
    whirl_config_t *c = whirl_config_new();
    whirl_config_use_env(c, false);
    whirl_config_epoch_interval_set(c, 0);
    whirl_config_pooling_set(c, pooling);
    return c;
}

static __attribute__((unused)) whirl_engine_t *engine_of(whirl_config_t *config)
{
    whirl_engine_t *e = NULL;
    if (!check_ok(whirl_engine_new(config, &e), "whirl_engine_new", __FILE__, __LINE__))
        return NULL;
    return e;
}

#endif
