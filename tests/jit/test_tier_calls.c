/* One call ABI across tiers (runtime/tier.c): the same module run with
 * tier=interp and tier=jit must give the same results, trap codes, trap
 * messages and innermost backtrace frames, for calls in every direction:
 * interpreter -> native, native -> interpreter (functions the LLVM tier
 * leaves to the interpreter), both -> host and back, other instances
 * through imports and tables; plus stack exhaustion (native recursion and
 * recursion through the host), the epoch interrupt in a call-free loop,
 * memory.grow against a store limit.
 *
 *   test_tier_calls tier_calls.wasm tier_other.wasm
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"
#include "whirl.h"

static unsigned passed, failed;

static void check(bool ok, const char *what, const char *detail)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    }
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

#define MAX_FRAMES 128

/* What one call did, for comparing the tiers. */
typedef struct outcome {
    bool trapped;
    whirl_trap_code_t code;
    int32_t value;
    char message[512];
    uint32_t frame_func;
    size_t frame_offset, nframes;
    /* Every frame (up to MAX_FRAMES), innermost first. */
    uint32_t funcs[MAX_FRAMES];
    size_t offsets[MAX_FRAMES];
} outcome_t;

typedef struct world {
    whirl_engine_t *engine;
    whirl_module_t *module, *other_module;
    whirl_store_t *store;
    whirl_instance_t *inst, *other;
    int recurse_limit; /* host "recurse": call host_rec(n + 1) below this */
    const char *at_limit; /* then call this export with 10 (NULL: return n) */
    bool due_at_limit;    /* and make the epoch deadline due before returning n */
} world_t;

static whirl_func_t *export_func(whirl_instance_t *inst, const char *name)
{
    whirl_extern_t ext;
    if (!whirl_instance_export(inst, name, strlen(name), &ext) || ext.kind != WHIRL_EXTERN_FUNC)
        return NULL;
    return ext.of.func;
}

/* host.cb(x): calls the caller's add1(2x) back. */
static whirl_error_t *host_cb(void *env, whirl_caller_t *caller, const whirl_val_t *args,
                              size_t nargs, whirl_val_t *results, size_t nresults)
{
    (void)env;
    whirl_extern_t ext;
    if (!whirl_caller_export(caller, "add1", 4, &ext))
        return whirl_error_new("cb: no add1");
    whirl_val_t a = {.kind = WHIRL_I32, .of.i32 = args[0].of.i32 * 2};
    return whirl_func_call(whirl_caller_store(caller), ext.of.func, &a, 1, results, nresults);
}

/* host.recurse(n): n once the limit is reached, else host_rec(n + 1). */
static whirl_error_t *host_recurse(void *env, whirl_caller_t *caller, const whirl_val_t *args,
                                   size_t nargs, whirl_val_t *results, size_t nresults)
{
    world_t *w = env;
    whirl_extern_t ext;
    if (w->recurse_limit >= 0 && args[0].of.i32 >= w->recurse_limit) {
        if (!w->at_limit) {
            if (w->due_at_limit)
                whirl_store_set_epoch_deadline(whirl_caller_store(caller), 0);
            results[0] = args[0];
            return NULL;
        }
        if (!whirl_caller_export(caller, w->at_limit, strlen(w->at_limit), &ext))
            return whirl_error_newf("recurse: no %s", w->at_limit);
        whirl_val_t a = {.kind = WHIRL_I32, .of.i32 = 10};
        return whirl_func_call(whirl_caller_store(caller), ext.of.func, &a, 1, results, nresults);
    }
    if (!whirl_caller_export(caller, "host_rec", 8, &ext))
        return whirl_error_new("recurse: no host_rec");
    whirl_val_t a = {.kind = WHIRL_I32, .of.i32 = args[0].of.i32 + 1};
    return whirl_func_call(whirl_caller_store(caller), ext.of.func, &a, 1, results, nresults);
}

static whirl_error_t *world_new(world_t *w, const char *tier, const unsigned char *wasm,
                                size_t len, const unsigned char *other, size_t other_len)
{
    memset(w, 0, sizeof *w);
    w->recurse_limit = -1;
    whirl_config_t *config = whirl_config_new();
    whirl_config_use_env(config, false);
    whirl_error_t *err = whirl_config_set(config, "tier", tier);
    if (err) {
        whirl_config_delete(config);
        return err;
    }
    if ((err = whirl_engine_new(config, &w->engine)) ||
        (err = whirl_module_new(w->engine, wasm, len, &w->module)) ||
        (err = whirl_module_new(w->engine, other, other_len, &w->other_module)))
        return err;
    w->store = whirl_store_new(w->engine, NULL, NULL);
    whirl_valkind_t i32 = WHIRL_I32;
    whirl_functype_t *type = whirl_functype_new(&i32, 1, &i32, 1);
    whirl_extern_t imports[2] = {{.kind = WHIRL_EXTERN_FUNC}, {.kind = WHIRL_EXTERN_FUNC}};
    err = whirl_func_new(w->store, type, host_cb, NULL, NULL, &imports[0].of.func);
    if (!err)
        err = whirl_func_new(w->store, type, host_recurse, w, NULL, &imports[1].of.func);
    whirl_functype_delete(type);
    if (!err)
        err = whirl_instance_new(w->store, w->module, imports, 2, &w->inst);
    if (err)
        return err;
    whirl_extern_t from_a[2];
    whirl_instance_export(w->inst, "add1", 4, &from_a[0]);
    whirl_instance_export(w->inst, "tab", 3, &from_a[1]);
    return whirl_instance_new(w->store, w->other_module, from_a, 2, &w->other);
}

static void world_free(world_t *w)
{
    whirl_store_delete(w->store);
    whirl_module_delete(w->module);
    whirl_module_delete(w->other_module);
    whirl_engine_delete(w->engine);
}

static outcome_t call(whirl_instance_t *inst, const char *name, int nargs, int32_t a, int32_t b)
{
    outcome_t o = {0};
    whirl_func_t *f = export_func(inst, name);
    whirl_val_t args[2] = {{.kind = WHIRL_I32, .of.i32 = a}, {.kind = WHIRL_I32, .of.i32 = b}};
    whirl_val_t res[1] = {{.kind = WHIRL_I32}};
    size_t nres = whirl_functype_result_count(whirl_func_type(f));
    whirl_store_t *store = inst->store;
    whirl_error_t *err = whirl_func_call(store, f, args, (size_t)nargs, res, nres);
    char what[96];
    snprintf(what, sizeof what, "%s: no native activation left behind", name);
    check(store->native.entry_fp == 0 && store->native.trap_jmp == NULL, what, NULL);
    if (err) {
        o.trapped = whirl_error_is_trap(err, &o.code);
        snprintf(o.message, sizeof o.message, "%s", whirl_error_message(err));
        o.nframes = whirl_error_frame_count(err);
        const char *fname;
        if (o.nframes)
            whirl_error_frame(err, 0, &o.frame_func, &fname, &o.frame_offset);
        for (size_t i = 0; i < o.nframes && i < MAX_FRAMES; i++)
            whirl_error_frame(err, i, &o.funcs[i], &fname, &o.offsets[i]);
        if (!o.trapped)
            o.code = (whirl_trap_code_t)-1;
        whirl_error_delete(err);
    } else if (nres) {
        o.value = res[0].of.i32;
    }
    return o;
}

/* Runs `name` in both worlds: the outcomes must agree (the number of
 * frames too when `all_frames`). Returns the jit world's outcome. */
static outcome_t both(world_t *interp, world_t *jit, bool other, const char *name, int nargs,
                      int32_t a, int32_t b, bool all_frames)
{
    outcome_t x = call(other ? interp->other : interp->inst, name, nargs, a, b);
    outcome_t y = call(other ? jit->other : jit->inst, name, nargs, a, b);
    char what[160], detail[1400];
    snprintf(what, sizeof what, "%s(%d, %d): same outcome in both tiers", name, a, b);
    snprintf(detail, sizeof detail,
             "interp: trap=%d code=%d value=%d frames=%zu [%u@0x%zx] \"%s\"; "
             "jit: trap=%d code=%d value=%d frames=%zu [%u@0x%zx] \"%s\"",
             x.trapped, x.code, x.value, x.nframes, x.frame_func, x.frame_offset, x.message,
             y.trapped, y.code, y.value, y.nframes, y.frame_func, y.frame_offset, y.message);
    bool same = x.trapped == y.trapped && strcmp(x.message, y.message) == 0;
    if (same && x.trapped)
        same = x.code == y.code && (x.nframes == 0) == (y.nframes == 0) &&
               x.frame_func == y.frame_func && x.frame_offset == y.frame_offset &&
               (!all_frames || x.nframes == y.nframes);
    /* With all frames: each names the same function and offset. */
    for (size_t i = 0; same && all_frames && x.trapped && i < x.nframes && i < MAX_FRAMES; i++)
        if (x.funcs[i] != y.funcs[i] || x.offsets[i] != y.offsets[i]) {
            same = false;
            snprintf(detail + strlen(detail), sizeof detail - strlen(detail),
                     "; frame %zu: interp %u@0x%zx, jit %u@0x%zx", i, x.funcs[i], x.offsets[i],
                     y.funcs[i], y.offsets[i]);
        }
    else if (same)
        same = x.value == y.value;
    check(same, what, same ? NULL : detail);
    return y;
}

static bool has_native(whirl_instance_t *inst, const char *name)
{
    whirl_func_t *f = export_func(inst, name);
    return f && f->kind == FUNC_WASM && native_entry_of(f->code) != NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_tier_calls tier_calls.wasm tier_other.wasm\n");
        return 2;
    }
    size_t len, other_len;
    unsigned char *wasm = read_file(argv[1], &len), *other = read_file(argv[2], &other_len);
    if (!wasm || !other) {
        fprintf(stderr, "cannot read %s or %s\n", argv[1], argv[2]);
        return 2;
    }
    world_t wi, wj;
    whirl_error_t *err = world_new(&wi, "interp", wasm, len, other, other_len);
    if (!err)
        err = world_new(&wj, "jit", wasm, len, other, other_len);
    if (err) {
        printf("FAIL setup: %s\n0 passed, 1 failed\n", whirl_error_message(err));
        return 1;
    }

    /* Which code runs what. */
    check(!has_native(wi.inst, "add1"), "interp: add1 interpreted", NULL);
    check(has_native(wj.inst, "add1") && has_native(wj.inst, "mixed") &&
              has_native(wj.other, "call_table"),
          "jit: add1, mixed, call_table native", NULL);
    /* The LLVM tier does SIMD now, so every function here is native;
     * calls between native and interpreted code are covered by tier=auto
     * (test_tier_auto.c: hot functions native, the others interpreted). */
    check(has_native(wj.inst, "simd_add"), "jit: simd_add (v128) native too", NULL);

    /* Results across every kind of call. */
    check(both(&wi, &wj, false, "add1", 1, 5, 0, true).value == 6, "add1(5) = 6", NULL);
    check(both(&wi, &wj, false, "simd_add", 1, 5, 0, true).value == 16, "simd_add(5) = 16",
          NULL);
    check(both(&wi, &wj, false, "mixed", 1, 5, 0, true).value == 32, "mixed(5) = 32", NULL);
    check(both(&wi, &wj, false, "via_host", 1, 5, 0, true).value == 11, "via_host(5) = 11",
          NULL);
    check(both(&wi, &wj, false, "indirect", 2, 3, 4, true).value == 25, "indirect(3, 4) = 25",
          NULL);
    check(both(&wi, &wj, false, "indirect", 2, 2, 4, true).value == 9, "indirect(2, 4) = 9",
          NULL);
    check(both(&wi, &wj, true, "call_import", 1, 5, 0, true).value == 7, "call_import(5) = 7",
          NULL);
    check(both(&wi, &wj, true, "call_table", 2, 0, 5, true).value == 6, "call_table(0, 5) = 6",
          NULL);
    check(both(&wi, &wj, true, "call_table", 2, 1, 5, true).value == 16,
          "call_table(1, 5) = 16 (other instance's interpreted function)", NULL);

    /* Traps: same code, message and innermost frame. */
    outcome_t o = both(&wi, &wj, false, "div", 1, 0, 0, true);
    check(o.trapped && o.code == WHIRL_TRAP_INTEGER_DIVIDE_BY_ZERO, "div(0) traps", o.message);
    o = both(&wi, &wj, false, "indirect", 2, 9, 1, true);
    check(o.trapped && o.code == WHIRL_TRAP_TABLE_OUT_OF_BOUNDS, "indirect(9) traps", o.message);
    o = both(&wi, &wj, false, "oob", 1, 65536, 0, true);
    check(o.trapped && o.code == WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS, "oob(65536) traps", o.message);
    o = both(&wi, &wj, false, "dispatch", 2, 65532, 1, true);
    check(o.trapped && o.code == WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS,
          "dispatch(65532, 1) traps at the load fused into br_table", o.message);
    o = both(&wi, &wj, false, "axpy", 2, 8, 65536, true);
    check(o.trapped && o.code == WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS,
          "axpy(8, 65536) traps at the load fused into the store", o.message);
    o = both(&wi, &wj, false, "axpy", 2, 65535, 8, true);
    check(o.trapped && o.code == WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS, "axpy(65535, 8) traps",
          o.message);
    check(both(&wi, &wj, false, "axpy", 2, 8, 16, true).value == 0, "axpy(8, 16) = 0", NULL);
    o = both(&wi, &wj, false, "unreachable", 0, 0, 0, true);
    check(o.trapped && o.code == WHIRL_TRAP_UNREACHABLE, "unreachable traps", o.message);
    o = both(&wi, &wj, true, "call_table", 2, 3, 0, true);
    check(o.trapped && o.code == WHIRL_TRAP_INTEGER_DIVIDE_BY_ZERO,
          "call_table(3, 0): the other instance's trap", o.message);

    /* Stack exhaustion: the host survives, twice, and the store is usable. */
    for (int round = 0; round < 2; round++) {
        o = call(wj.inst, "rec", 1, 0, 0);
        check(o.trapped && o.code == WHIRL_TRAP_STACK_EXHAUSTED, "jit: rec exhausts the stack",
              o.message);
        o = call(wi.inst, "rec", 1, 0, 0);
        check(o.trapped && o.code == WHIRL_TRAP_STACK_EXHAUSTED,
              "interp: rec exhausts the stack", o.message);
    }
    wi.recurse_limit = wj.recurse_limit = 50;
    check(both(&wi, &wj, false, "host_rec", 1, 0, 0, true).value == 50,
          "host_rec: 50 nested host calls", NULL);
    wi.recurse_limit = wj.recurse_limit = -1;
    o = both(&wi, &wj, false, "host_rec", 1, 0, 0, false);
    check(o.trapped && o.code == WHIRL_TRAP_STACK_EXHAUSTED, "host_rec without end", o.message);
    check(wj.store->native.trap_jmp == NULL, "jit: no jump buffer left behind", NULL);

    /* Backtraces through deep native recursion (the frame-pointer walk):
     * a trap in a callee of a callee under 30 recursive frames names every
     * frame with its call's offset, as the interpreter does... */
    o = both(&wi, &wj, false, "down", 1, 30, 0, true);
    check(o.trapped && o.code == WHIRL_TRAP_INTEGER_DIVIDE_BY_ZERO && o.nframes == 33 &&
              o.offsets[1] != o.offsets[2] && o.funcs[2] == o.funcs[32],
          "down(30): div, mid and 31 frames of down", o.message);
    /* ...and across activations: wasm -> host -> wasm six times, the last
     * host call going down natively into the same trap; in tier=jit each
     * level is a native activation of its own. */
    wi.recurse_limit = wj.recurse_limit = 5;
    wi.at_limit = wj.at_limit = "down";
    o = both(&wi, &wj, false, "host_rec", 1, 0, 0, true);
    check(o.trapped && o.code == WHIRL_TRAP_INTEGER_DIVIDE_BY_ZERO && o.nframes == 13 + 6,
          "host_rec into down(10): 13 frames below the host, 6 host_rec frames", o.message);
    wi.recurse_limit = wj.recurse_limit = -1;
    wi.at_limit = wj.at_limit = NULL;
    /* A trap in native code called by the host under native recursion,
     * and an interrupt sample-free epoch path: the store is usable after. */
    check(both(&wi, &wj, false, "down", 1, 0, 0, true).code == WHIRL_TRAP_INTEGER_DIVIDE_BY_ZERO,
          "down(0): trap right away", NULL);
    check(both(&wi, &wj, false, "add1", 1, 41, 0, true).value == 42, "add1 after the traps",
          NULL);

    /* Store limits: memory.grow through the runtime. */
    whirl_store_limits_set(wi.store, 3 * 65536, WHIRL_NO_LIMIT);
    whirl_store_limits_set(wj.store, 3 * 65536, WHIRL_NO_LIMIT);
    check(both(&wi, &wj, false, "grow", 1, 2, 0, true).value == 1, "grow(2) = 1", NULL);
    check(both(&wi, &wj, false, "grow", 1, 1, 0, true).value == -1, "grow(1) past the limit",
          NULL);
    check(both(&wi, &wj, false, "size", 0, 0, 0, true).value == 3, "size() = 3", NULL);
    /* A grown memory is seen by native code: an access in page 3 works. */
    check(both(&wi, &wj, false, "oob", 1, 2 * 65536, 0, true).value == 1, "load in page 3",
          NULL);

    /* The epoch interrupt in a loop without calls (the engine's ticker
     * advances the epoch every 10 ms). */
    whirl_store_set_epoch_deadline(wi.store, 2);
    outcome_t x = call(wi.inst, "spin", 0, 0, 0);
    whirl_store_set_epoch_deadline(wj.store, 2);
    o = call(wj.inst, "spin", 0, 0, 0);
    check(o.trapped && o.code == WHIRL_TRAP_INTERRUPT, "jit: spin is interrupted", o.message);
    check(x.trapped && x.code == WHIRL_TRAP_INTERRUPT, "interp: spin is interrupted", x.message);
    check(strcmp(x.message, o.message) == 0 && o.frame_offset == x.frame_offset,
          "spin: the same message in both tiers (the loop body's first instruction)", o.message);

    /* Loops with calls: native code checks at the loop header only where
     * some way back to it skips the call of a defined function (which
     * checks on entry). The host makes the deadline due before each loop,
     * so the first check after it traps: both tiers must report it in the
     * same function. In spin_call that is $leaf (func 21), whose entry the
     * interpreter reaches first and native code, having dropped the
     * header's check, too; in the others, the loop's. (The offsets differ
     * by an instruction: the interpreter names the branch or the entry's
     * next instruction, native code the loop body's first instruction or
     * the function's.) */
    static const struct {
        const char *name;
        int32_t arg;
        uint32_t frame_func;
    } loops[] = {
        {"spin_call", 0, 21},       /* every iteration calls $leaf */
        {"spin_back_first", 1, 23}, /* the back edge comes before the call */
        {"spin_call_if", 0, 24},    /* the call is on an arm not taken */
        {"spin_import", 0, 25},     /* the call is to the host */
    };
    wi.recurse_limit = wj.recurse_limit = 0; /* host.recurse(5) returns 5 */
    wi.due_at_limit = wj.due_at_limit = true;
    for (size_t i = 0; i < sizeof loops / sizeof *loops; i++) {
        char what[192];
        whirl_store_set_epoch_deadline(wi.store, 1000);
        x = call(wi.inst, loops[i].name, 1, loops[i].arg, 0);
        whirl_store_set_epoch_deadline(wj.store, 1000);
        o = call(wj.inst, loops[i].name, 1, loops[i].arg, 0);
        snprintf(what, sizeof what, "%s: interrupted in func %u in both tiers (interp: %.40s)",
                 loops[i].name, loops[i].frame_func, x.message);
        check(x.trapped && x.code == WHIRL_TRAP_INTERRUPT && o.trapped &&
                  o.code == WHIRL_TRAP_INTERRUPT && x.frame_func == loops[i].frame_func &&
                  o.frame_func == x.frame_func,
              what, o.message);
    }
    wi.recurse_limit = wj.recurse_limit = -1;
    wi.due_at_limit = wj.due_at_limit = false;

    world_free(&wi);
    world_free(&wj);
    free(wasm);
    free(other);
    printf("tier_calls: %u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
