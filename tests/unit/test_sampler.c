/* Guest stack sampling (whirl_store_set_sampler), deterministically: no
 * ticker; the guest's host import `tick` advances the epoch by one each
 * loop iteration, so every iteration's next epoch check (the entry of
 * $inner) is due a sample. Checks the frames (innermost first, indices,
 * names, offsets inside their functions), the count, that a deadline still
 * interrupts with a sampler on (and not before it is due), that removing
 * the sampler stops the calls, and the argument errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whirl.h"

static int passed, failed;

#define CHECK(cond)                                                   \
    do {                                                              \
        if (cond) {                                                   \
            passed++;                                                 \
        } else {                                                      \
            failed++;                                                 \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);    \
        }                                                             \
    } while (0)

/* (module
 *   (import "env" "tick" (func $tick))
 *   (func $inner (param i32) (result i32) local.get 0 i32.const 1 i32.add)
 *   (func $run (export "run") (param $n i32) (result i32) (local $i i32)
 *     (loop $l
 *       call $tick
 *       local.get $i  call $inner  local.set $i
 *       local.get $i  local.get $n  i32.lt_u  br_if $l)
 *     local.get $i)) */
static const uint8_t sampler_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x09, 0x02, 0x60, 0x00, 0x00, 0x60,
    0x01, 0x7f, 0x01, 0x7f, 0x02, 0x0c, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x04, 0x74, 0x69, 0x63,
    0x6b, 0x00, 0x00, 0x03, 0x03, 0x02, 0x01, 0x01, 0x07, 0x07, 0x01, 0x03, 0x72, 0x75, 0x6e,
    0x00, 0x02, 0x0a, 0x22, 0x02, 0x07, 0x00, 0x20, 0x00, 0x41, 0x01, 0x6a, 0x0b, 0x18, 0x01,
    0x01, 0x7f, 0x03, 0x40, 0x10, 0x00, 0x20, 0x01, 0x10, 0x01, 0x21, 0x01, 0x20, 0x01, 0x20,
    0x00, 0x49, 0x0d, 0x00, 0x0b, 0x20, 0x01, 0x0b,
};
/* Byte ranges of the two bodies in sampler_wasm (from wasm-objdump -d). */
#define INNER_START 0x32
#define INNER_END 0x3a
#define RUN_START 0x3a
#define RUN_END 0x53

typedef struct seen {
    const whirl_module_t *module;
    size_t samples;
    size_t bad_shape; /* samples whose frames were not [$inner, $run] */
    size_t first_nframes;
    uint32_t first_funcs[2];
    size_t first_offsets[2];
} seen_t;

static void on_sample(void *env, const whirl_sample_frame_t *frames, size_t n)
{
    seen_t *s = env;
    if (s->samples++ == 0) {
        s->first_nframes = n;
        for (size_t i = 0; i < n && i < 2; i++) {
            s->first_funcs[i] = frames[i].func_index;
            s->first_offsets[i] = frames[i].offset;
        }
    }
    if (n != 2 || frames[0].func_index != 1 || frames[1].func_index != 2 ||
        frames[0].module != s->module || frames[1].module != s->module ||
        frames[0].func_name != NULL)
        s->bad_shape++;
}

static whirl_error_t *tick(void *env, whirl_caller_t *caller, const whirl_val_t *args,
                           size_t nargs, whirl_val_t *results, size_t nresults)
{
    whirl_engine_increment_epoch(env);
    return NULL;
}

int main(void)
{
    whirl_config_t *config = whirl_config_new();
    whirl_error_t *err = whirl_config_epoch_interval_set(config, 0); /* no ticker */
    CHECK(!err);
    whirl_engine_t *engine = NULL;
    if (!err)
        err = whirl_engine_new(config, &engine);
    whirl_module_t *module = NULL;
    if (!err)
        err = whirl_module_new(engine, sampler_wasm, sizeof sampler_wasm, &module);
    CHECK(!err);
    if (err) {
        printf("setup: %s\n", whirl_error_message(err));
        return 1;
    }
    whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
    whirl_linker_t *linker = whirl_linker_new(engine);
    whirl_functype_t *type = whirl_functype_new(NULL, 0, NULL, 0);
    CHECK(!whirl_linker_define_func(linker, "env", "tick", type, tick, engine, NULL));
    whirl_instance_t *instance = NULL;
    CHECK(!whirl_linker_instantiate(linker, store, module, &instance));
    whirl_extern_t run;
    CHECK(instance && whirl_instance_export(instance, "run", 3, &run));

    seen_t seen = {.module = module};
    /* Argument errors. */
    err = whirl_store_set_sampler(store, 0, on_sample, &seen);
    CHECK(err != NULL);
    whirl_error_delete(err);
    err = whirl_store_set_sampler(NULL, 1, on_sample, &seen);
    CHECK(err != NULL);
    whirl_error_delete(err);

    /* 100 iterations, 100 ticks: one sample each, in $inner called by $run. */
    CHECK(!whirl_store_set_sampler(store, 1, on_sample, &seen));
    whirl_val_t arg = {.kind = WHIRL_I32, .of.i32 = 100}, res;
    err = whirl_func_call(store, run.of.func, &arg, 1, &res, 1);
    CHECK(!err && res.of.i32 == 100);
    whirl_error_delete(err);
    CHECK(seen.samples == 100);
    CHECK(seen.bad_shape == 0);
    CHECK(seen.first_nframes == 2 && seen.first_funcs[0] == 1 && seen.first_funcs[1] == 2);
    CHECK(seen.first_offsets[0] >= INNER_START && seen.first_offsets[0] < INNER_END);
    CHECK(seen.first_offsets[1] >= RUN_START && seen.first_offsets[1] < RUN_END);
    /* No DWARF here: no source locations, and no crash asking. */
    whirl_source_location_t loc;
    CHECK(whirl_module_source_locations(module, seen.first_offsets[0], &loc, 1) == 0);

    /* Every 4th tick. */
    seen = (seen_t){.module = module};
    CHECK(!whirl_store_set_sampler(store, 4, on_sample, &seen));
    err = whirl_func_call(store, run.of.func, &arg, 1, &res, 1);
    CHECK(!err && seen.samples == 25);
    whirl_error_delete(err);

    /* A deadline 10 ticks away still interrupts, with samples before it. */
    seen = (seen_t){.module = module};
    CHECK(!whirl_store_set_sampler(store, 1, on_sample, &seen));
    whirl_store_set_epoch_deadline(store, 10);
    CHECK(whirl_store_epoch_deadline(store) == whirl_engine_epoch(engine) + 10);
    err = whirl_func_call(store, run.of.func, &arg, 1, &res, 1);
    whirl_trap_code_t code = 0;
    CHECK(err && whirl_error_is_trap(err, &code) && code == WHIRL_TRAP_INTERRUPT);
    whirl_error_delete(err);
    CHECK(seen.samples == 9); /* ticks 1..9 sample, tick 10 is the deadline */
    CHECK(seen.bad_shape == 0);

    /* Without a sampler the deadline works as before, and nothing calls back. */
    CHECK(!whirl_store_set_sampler(store, 1, NULL, NULL));
    seen = (seen_t){.module = module};
    whirl_store_set_epoch_deadline(store, 10);
    err = whirl_func_call(store, run.of.func, &arg, 1, &res, 1);
    CHECK(err && whirl_error_is_trap(err, &code) && code == WHIRL_TRAP_INTERRUPT);
    whirl_error_delete(err);
    CHECK(seen.samples == 0);
    whirl_store_clear_epoch_deadline(store);
    err = whirl_func_call(store, run.of.func, &arg, 1, &res, 1);
    CHECK(!err && res.of.i32 == 100);
    whirl_error_delete(err);

    /* A sampler set again, then the store deleted with it on. */
    CHECK(!whirl_store_set_sampler(store, 1, on_sample, &seen));
    whirl_functype_delete(type);
    whirl_linker_delete(linker);
    whirl_store_delete(store);
    whirl_module_delete(module);
    whirl_engine_delete(engine);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
