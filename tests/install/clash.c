/*
 * A host that defines functions whose names the engine used internally
 * (`memory_grow`, `arena_alloc`, `error_fmt`, `compile_module`,
 * `utf8_valid`), with its own meanings and signatures, and links against the
 * installed libwhirl (shared or static). It must link without duplicate
 * symbols, its own functions must be the ones it calls, and the engine must
 * still use its own: a module grows its memory, and a failed link and a bad
 * export name produce the engine's messages.
 *
 *   clash        prints "clash: N passed, M failed"; exits 1 on a failure
 */
#include <stdio.h>
#include <string.h>

#include "whirl.h"

/* ---- the host's own functions, named as the engine's internals were ---- */
int memory_grow(int pages) { return 1000 + pages; }
const char *arena_alloc(void) { return "host arena"; }
int error_fmt(int x) { return -x; }
double compile_module(double x) { return x * 2; }
int utf8_valid(void) { return 42; }

static int passed, failed;
static void check(int ok, const char *what)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL: %s\n", what);
    }
}

/* (module (memory 1)
 *   (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
 *   (func (export "size") (result i32) memory.size)) */
static const uint8_t grow_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,                   /* header */
    0x01, 0x0a, 0x02, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x00, 0x01, 0x7f, /* types */
    0x03, 0x03, 0x02, 0x00, 0x01,                                     /* funcs */
    0x05, 0x03, 0x01, 0x00, 0x01,                                     /* memory */
    0x07, 0x0f, 0x02, 0x04, 'g', 'r', 'o', 'w', 0x00, 0x00,          /* exports */
    0x04, 's', 'i', 'z', 'e', 0x00, 0x01,
    0x0a, 0x0d, 0x02, 0x06, 0x00, 0x20, 0x00, 0x40, 0x00, 0x0b,      /* code */
    0x04, 0x00, 0x3f, 0x00, 0x0b,
};

/* (module (import "env" "missing" (func))) */
static const uint8_t import_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
    0x02, 0x0f, 0x01, 0x03, 'e', 'n', 'v', 0x07, 'm', 'i', 's', 's', 'i', 'n', 'g', 0x00, 0x00,
};

/* (module (func (export "\xff"))): an export name that is not UTF-8. */
static const uint8_t bad_name_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
    0x03, 0x02, 0x01, 0x00,
    0x07, 0x05, 0x01, 0x01, 0xff, 0x00, 0x00,
    0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b,
};

static int call_i32(whirl_store_t *store, whirl_instance_t *instance, const char *name,
                    const whirl_val_t *args, size_t nargs)
{
    whirl_extern_t ext;
    if (!whirl_instance_export(instance, name, strlen(name), &ext) ||
        ext.kind != WHIRL_EXTERN_FUNC)
        return -100;
    whirl_val_t result;
    whirl_error_t *err = whirl_func_call(store, ext.of.func, args, nargs, &result, 1);
    if (err) {
        printf("%s: %s\n", name, whirl_error_message(err));
        whirl_error_delete(err);
        return -200;
    }
    return result.of.i32;
}

int main(void)
{
    check(memory_grow(3) == 1003, "the host's memory_grow is its own");
    check(strcmp(arena_alloc(), "host arena") == 0, "the host's arena_alloc is its own");
    check(error_fmt(5) == -5, "the host's error_fmt is its own");
    check(compile_module(1.5) == 3.0, "the host's compile_module is its own");
    check(utf8_valid() == 42, "the host's utf8_valid is its own");

    whirl_engine_t *engine = NULL;
    whirl_module_t *module = NULL, *needs_import = NULL, *bad_name = NULL;
    whirl_error_t *err = whirl_engine_new(NULL, &engine);
    check(err == NULL, "whirl_engine_new");
    if (err) {
        printf("engine: %s\n", whirl_error_message(err));
        whirl_error_delete(err);
        goto out;
    }
    err = whirl_module_new(engine, grow_wasm, sizeof grow_wasm, &module);
    check(err == NULL, "whirl_module_new (grow)");
    if (err) {
        printf("module: %s\n", whirl_error_message(err));
        whirl_error_delete(err);
        goto out;
    }

    whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
    whirl_linker_t *linker = whirl_linker_new(engine);
    whirl_instance_t *instance = NULL;
    err = whirl_linker_instantiate(linker, store, module, &instance);
    check(err == NULL, "instantiate (grow)");
    if (!err) {
        whirl_val_t two = {.kind = WHIRL_I32, .of.i32 = 2};
        check(call_i32(store, instance, "grow", &two, 1) == 1, "memory.grow 2 returns the old size 1");
        check(call_i32(store, instance, "size", NULL, 0) == 3, "memory.size is 3 pages after growing");
    }
    whirl_error_delete(err);

    /* The engine's own error constructor builds the link error. */
    err = whirl_module_new(engine, import_wasm, sizeof import_wasm, &needs_import);
    check(err == NULL, "whirl_module_new (import)");
    if (!err) {
        whirl_instance_t *unused;
        err = whirl_linker_instantiate(linker, store, needs_import, &unused);
        check(err && strstr(whirl_error_message(err), "unknown import") &&
                  strstr(whirl_error_message(err), "missing"),
              "an unresolved import is reported by the engine");
        if (err)
            printf("unresolved import: %s\n", whirl_error_message(err));
    }
    whirl_error_delete(err);

    /* The engine's own UTF-8 check refuses the name. */
    err = whirl_module_new(engine, bad_name_wasm, sizeof bad_name_wasm, &bad_name);
    check(err && strstr(whirl_error_message(err), "UTF-8"),
          "an export name that is not UTF-8 is refused by the engine");
    if (err)
        printf("bad export name: %s\n", whirl_error_message(err));
    whirl_error_delete(err);

    whirl_linker_delete(linker);
    whirl_store_delete(store);
out:
    whirl_module_delete(bad_name);
    whirl_module_delete(needs_import);
    whirl_module_delete(module);
    whirl_engine_delete(engine);
    printf("clash: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
