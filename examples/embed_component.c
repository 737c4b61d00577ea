/*
 * Embedding a component: the component-model counterpart of embed.c.
 *
 *   embed_component greet.wasm [NAME]
 *
 * greet.wasm (built from examples/greet.wat) imports a host function `log`
 * from the interface example:greet/host and exports
 * `greet(name: string) -> string`. This host defines `log` through a
 * component linker, instantiates the component, calls `greet("World")`, and
 * gets "Hello, World!" back, after the guest logged it through the host.
 * Strings cross the boundary as whirl_cval_t values; the canonical ABI moves
 * them in and out of guest memory.
 *
 * As in whirl.h, every call that can fail returns a `whirl_error_t *`: NULL
 * on success, otherwise an error the caller owns and frees.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whirl.h"
#include "whirl/component.h"

/* Host data for `log`: how many times the guest called it. */
typedef struct log_state {
    int calls;
} log_state_t;

/* A component host function: the arguments arrive lifted from guest memory
 * (args[0] is the string; borrowed for the call), and `log` has no result. */
static whirl_error_t *host_log(void *env, whirl_store_t *store, const whirl_component_func_t *type,
                               const whirl_cval_t *args, size_t nargs, whirl_cval_t *results,
                               size_t nresults)
{
    log_state_t *state = env;
    if (nargs != 1 || args[0].kind != WHIRL_CVAL_STRING)
        return whirl_error_new("log: expected one string");
    state->calls++;
    printf("guest says: %.*s\n", (int)args[0].of.string.len, args[0].of.string.data);
    return NULL;
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)size + 1))) {
            *len = fread(buf, 1, (size_t)size, f);
            if (*len != (size_t)size) {
                free(buf);
                buf = NULL;
            }
        }
    }
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: embed_component greet.wasm [NAME]\n");
        return 2;
    }
    const char *name = argc > 2 ? argv[2] : "World";
    int failures = 0, checks = 0;
#define CHECK(cond) \
    do { \
        checks++; \
        if (!(cond)) { \
            printf("FAIL: %s\n", #cond); \
            failures++; \
        } \
    } while (0)

    whirl_engine_t *engine = NULL;
    whirl_component_t *component = NULL;
    whirl_component_linker_t *linker = NULL;
    whirl_store_t *store = NULL;
    whirl_component_instance_t *instance;
    whirl_component_func_t *greet;
    log_state_t log_state = {0};
    whirl_cval_t arg = {0}, result = {0};

    size_t len;
    unsigned char *bytes = read_file(argv[1], &len);
    if (!bytes) {
        perror(argv[1]);
        return 1;
    }

    /* 1. The engine, as for core modules; then decode, validate and compile
     *    the component and the core modules inside it. */
    whirl_error_t *err = whirl_engine_new(NULL, &engine);
    if (err)
        goto fail;
    CHECK(whirl_component_is_component(bytes, len));
    err = whirl_component_new(engine, bytes, len, &component);
    free(bytes);
    if (err)
        goto fail;

    /* 2. A component linker resolves imports by interface and name. */
    linker = whirl_component_linker_new(engine);
    if (!linker) {
        err = whirl_error_new("out of memory");
        goto fail;
    }
    err = whirl_component_linker_define_func(linker, "example:greet/host", "log", host_log,
                                             &log_state, NULL);
    if (err)
        goto fail;

    /* 3. Instantiate in a store; the instance belongs to the store. */
    store = whirl_store_new(engine, NULL, NULL);
    if (!store) {
        err = whirl_error_new("out of memory");
        goto fail;
    }
    err = whirl_component_linker_instantiate(linker, store, component, &instance);
    if (err)
        goto fail;

    /* 4. Call the export with a string; the result is a string we own. */
    if (!whirl_component_instance_func(instance, NULL, "greet", &greet)) {
        err = whirl_error_new("the component exports no `greet`");
        goto fail;
    }
    CHECK(whirl_component_func_param_count(greet) == 1);
    CHECK(whirl_component_func_result_count(greet) == 1);
    err = whirl_cval_set_string(&arg, name, strlen(name));
    if (err)
        goto fail;
    err = whirl_component_func_call(store, greet, &arg, 1, &result, 1);
    if (err)
        goto fail;
    CHECK(result.kind == WHIRL_CVAL_STRING);
    if (result.kind == WHIRL_CVAL_STRING) {
        printf("greet(\"%s\") = \"%.*s\"\n", name, (int)result.of.string.len,
               result.of.string.data);
        char want[256];
        snprintf(want, sizeof want, "Hello, %s!", name);
        CHECK(result.of.string.len == strlen(want) &&
              memcmp(result.of.string.data, want, result.of.string.len) == 0);
    }
    CHECK(log_state.calls == 1);
    goto cleanup;

fail:
    printf("FAIL: %s\n", whirl_error_message(err));
    whirl_error_delete(err);
    failures++;
cleanup:
    whirl_cval_release(&arg);
    whirl_cval_release(&result);
    whirl_store_delete(store); /* the instance goes with it */
    whirl_component_linker_delete(linker);
    whirl_component_delete(component);
    whirl_engine_delete(engine);
    printf("embed_component: %d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
