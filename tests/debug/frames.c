/* Runs a WASI guest that traps and prints its backtrace's source
 * locations through the public API (whirl_error_frame_source), after
 * deleting the store, the module and the engine: the error must keep what
 * it needs. One line per location: "FRAME K FUNCTION FILE LINE COLUMN".
 * Used by tests/debug/run.py, which checks them against the source.
 *
 *   debug-frames GUEST.wasm */
#include <stdio.h>
#include <stdlib.h>

#include "whirl.h"

static int fail(const char *what, whirl_error_t *err)
{
    fprintf(stderr, "debug-frames: %s: %s\n", what, err ? whirl_error_message(err) : "");
    whirl_error_delete(err);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return fprintf(stderr, "usage: debug-frames GUEST.wasm\n"), 2;
    FILE *f = fopen(argv[1], "rb");
    if (!f)
        return perror(argv[1]), 2;
    static uint8_t buf[8 << 20];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);

    whirl_engine_t *engine;
    whirl_error_t *err = whirl_engine_new(NULL, &engine);
    if (err)
        return fail("engine", err);
    whirl_module_t *module;
    if ((err = whirl_module_new(engine, buf, len, &module)))
        return fail("module", err);
    whirl_wasi_config_t *wc = whirl_wasi_config_new();
    whirl_wasi_t *wasi;
    if ((err = whirl_wasi_new(wc, &wasi)))
        return fail("wasi", err);
    whirl_linker_t *linker = whirl_linker_new(engine);
    if ((err = whirl_linker_define_wasi(linker, wasi)))
        return fail("linker", err);
    whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
    whirl_instance_t *inst;
    if ((err = whirl_linker_instantiate(linker, store, module, &inst)))
        return fail("instantiate", err);
    whirl_extern_t start;
    if (!whirl_instance_export(inst, "_start", 6, &start) || start.kind != WHIRL_EXTERN_FUNC)
        return fail("no _start", NULL);
    whirl_error_t *trap = whirl_func_call(store, start.of.func, NULL, 0, NULL, 0);
    whirl_store_delete(store);
    whirl_linker_delete(linker);
    whirl_wasi_delete(wasi);
    whirl_module_delete(module);
    whirl_engine_delete(engine);
    if (!trap || !whirl_error_is_trap(trap, NULL))
        return fail("expected a trap", trap);

    size_t n = whirl_error_frame_count(trap);
    for (size_t i = 0; i < n; i++) {
        /* Asking with room for none returns the count. */
        size_t want = whirl_error_frame_source(trap, i, NULL, 0);
        whirl_source_location_t locs[16];
        size_t got = whirl_error_frame_source(trap, i, locs, 16);
        if (got != want) {
            fprintf(stderr, "frame %zu: %zu locations, then %zu\n", i, want, got);
            return 1;
        }
        for (size_t k = 0; k < got && k < 16; k++)
            printf("FRAME %zu %s %s %u %u\n", i, locs[k].function ? locs[k].function : "?",
                   locs[k].file ? locs[k].file : "?", locs[k].line, locs[k].column);
    }
    /* Out of range: nothing, no crash. */
    whirl_source_location_t one;
    if (whirl_error_frame_source(trap, n, &one, 1) != 0 ||
        whirl_error_frame_source(NULL, 0, &one, 1) != 0)
        return fail("out-of-range frames gave locations", NULL);
    whirl_error_delete(trap);
    return 0;
}
