/*
 * Embedding whirl: the whole life cycle of a module in one short program.
 *
 *   embed [host.wasm]
 *
 * It loads host.wasm (built from examples/host.wat), gives it a host function
 * `env.log_i32` through a linker, calls `sum_squares(4)`, which logs 1 4 9 16
 * through that host function and returns 30, then calls `average(10, 0)`,
 * which divides by zero, and shows how a trap and its backtrace are reported.
 *
 * Every whirl call that can fail returns a `whirl_error_t *`: NULL on success,
 * otherwise an error the caller owns and frees with whirl_error_delete().
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whirl.h"

/* Host data for log_i32: how many times the guest called it. */
typedef struct log_state {
    int calls;
} log_state_t;

/* A host function. whirl passes the parameters in `args` (their types were
 * checked against the import when the module was linked) and expects
 * `nresults` values in `results` (none here). Returning an error instead of
 * NULL would trap the guest. */
static whirl_error_t *log_i32(void *env, whirl_caller_t *caller, const whirl_val_t *args,
                              size_t nargs, whirl_val_t *results, size_t nresults)
{
    log_state_t *state = env;
    state->calls++;
    printf("log_i32: %d\n", (int)args[0].of.i32);
    return NULL;
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (*len == cap) {
            cap = cap ? cap * 2 : 4096;
            unsigned char *nbuf = realloc(buf, cap);
            if (!nbuf) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nbuf;
        }
        size_t got = fread(buf + *len, 1, cap - *len, f);
        *len += got;
        if (got == 0)
            break;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Prints a failed call. A trap's message starts with the trap's name
 * (whirl_trap_code_name); then comes the guest backtrace, innermost frame
 * first, with names from the module's name section where it has them. */
static void report(const char *what, const whirl_error_t *error)
{
    if (!whirl_error_is_trap(error, NULL)) {
        fprintf(stderr, "%s failed: %s\n", what, whirl_error_message(error));
        return;
    }
    printf("%s trapped: %s\n", what, whirl_error_message(error));
    for (size_t i = 0; i < whirl_error_frame_count(error); i++) {
        uint32_t func_index;
        const char *name;
        size_t offset;
        if (!whirl_error_frame(error, i, &func_index, &name, &offset))
            break;
        if (name)
            printf("  %zu: %s @ 0x%zx\n", i, name, offset);
        else
            printf("  %zu: func[%u] @ 0x%zx\n", i, func_index, offset);
    }
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "host.wasm";
    int failures = 0, checks = 0;
    bool finished = false; /* reached the end without an unexpected error */
#define CHECK(cond) \
    do { \
        checks++; \
        if (!(cond)) { \
            printf("FAIL: %s\n", #cond); \
            failures++; \
        } \
    } while (0)

    whirl_engine_t *engine = NULL;
    whirl_module_t *module = NULL;
    whirl_linker_t *linker = NULL;
    whirl_store_t *store = NULL;
    whirl_instance_t *instance;
    whirl_extern_t sum_squares, average;
    whirl_val_t args[2], result;
    whirl_trap_code_t code = 0;
    log_state_t log_state = {0};

    size_t len;
    unsigned char *wasm = read_file(path, &len);
    if (!wasm) {
        perror(path);
        return 1;
    }

    /* 1. An engine holds configuration; NULL means the defaults. Engines and
     *    modules may be shared between threads. */
    whirl_error_t *err = whirl_engine_new(NULL, &engine);
    if (err)
        goto fail;

    /* 2. Decode, validate and compile. The module keeps its own copy of the
     *    bytes, so the buffer can go right away. */
    err = whirl_module_new(engine, wasm, len, &module);
    free(wasm);
    wasm = NULL;
    if (err)
        goto fail;

    /* 3. A linker maps (module, name) imports to definitions. A function
     *    defined with whirl_linker_define_func works in any store. */
    linker = whirl_linker_new(engine);
    if (!linker) {
        fprintf(stderr, "out of memory\n");
        goto cleanup;
    }
    {
        whirl_valkind_t param = WHIRL_I32;
        whirl_functype_t *log_type = whirl_functype_new(&param, 1, NULL, 0); /* (i32) -> () */
        if (!log_type) {
            fprintf(stderr, "out of memory\n");
            goto cleanup;
        }
        err = whirl_linker_define_func(linker, "env", "log_i32", log_type, log_i32, &log_state,
                                       NULL);
        whirl_functype_delete(log_type); /* the linker copied it */
        if (err)
            goto fail;
    }

    /* 4. A store owns everything instantiated in it; the instance lives until
     *    the store is deleted. */
    store = whirl_store_new(engine, NULL, NULL);
    if (!store) {
        fprintf(stderr, "out of memory\n");
        goto cleanup;
    }
    err = whirl_linker_instantiate(linker, store, module, &instance);
    if (err)
        goto fail;

    /* 5. Look up an export and call it. Arguments and results are tagged
     *    values whose kinds must match the function's type. */
    if (!whirl_instance_export(instance, "sum_squares", strlen("sum_squares"), &sum_squares) ||
        !whirl_instance_export(instance, "average", strlen("average"), &average) ||
        sum_squares.kind != WHIRL_EXTERN_FUNC || average.kind != WHIRL_EXTERN_FUNC) {
        fprintf(stderr, "%s: missing export sum_squares or average\n", path);
        goto cleanup;
    }
    args[0] = (whirl_val_t){.kind = WHIRL_I32, .of.i32 = 4};
    err = whirl_func_call(store, sum_squares.of.func, args, 1, &result, 1);
    if (err)
        goto fail;
    printf("sum_squares(4) = %d\n", (int)result.of.i32);
    CHECK(result.kind == WHIRL_I32 && result.of.i32 == 30);
    CHECK(log_state.calls == 4);

    /* 6. A trap comes back as an error, not a crash: the store stays usable.
     *    whirl_error_is_trap tells traps from other errors and gives the
     *    trap's code. */
    args[0] = (whirl_val_t){.kind = WHIRL_I32, .of.i32 = 10};
    args[1] = (whirl_val_t){.kind = WHIRL_I32, .of.i32 = 0};
    err = whirl_func_call(store, average.of.func, args, 2, &result, 1);
    CHECK(err && whirl_error_is_trap(err, &code) && code == WHIRL_TRAP_INTEGER_DIVIDE_BY_ZERO);
    if (err) {
        report("average(10, 0)", err);
        CHECK(whirl_error_frame_count(err) >= 2);
        whirl_error_delete(err);
        err = NULL;
    }
    args[1].of.i32 = 5;
    err = whirl_func_call(store, average.of.func, args, 2, &result, 1);
    if (err)
        goto fail;
    printf("average(10, 5) = %d\n", (int)result.of.i32);
    CHECK(result.of.i32 == 2);

    finished = true;
    goto cleanup;

fail:
    report(path, err);
    whirl_error_delete(err);
cleanup:
    /* 7. Tear down: the store (and its instances) first, then what it used.
     *    All _delete functions accept NULL. */
    whirl_store_delete(store);
    whirl_linker_delete(linker);
    whirl_module_delete(module);
    whirl_engine_delete(engine);
    free(wasm);
    if (!finished)
        return 1;
    printf("embed: %d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
