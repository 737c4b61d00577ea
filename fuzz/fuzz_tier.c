/*
 * fuzz-tier: the interpreter against the LLVM tier on the same module.
 *
 * Each input is a module. It is created in two engines, one with
 * tier=interp and one with tier=jit (every function compiled when the
 * module is created), instantiated in a store of each with the same
 * imports (fuzz-exec's: host stubs returning zeros, fresh tables, memories,
 * globals and tags), and every exported function is called in both, in
 * export order, with the same fixed arguments (fuzz/diff's table). After
 * instantiation and after every call the two sides must agree exactly:
 *
 *   - success or failure; for a failure, whether it is a trap, the trap
 *     code, the message and the backtrace's function indices and offsets;
 *   - results, bit for bit (NaN payloads included: the tier promises the
 *     interpreter's NaN bits, src/jit/translate_numeric.c);
 *   - every memory of the instance, imported or defined, exported or not
 *     (size and bytes), every global (value bits; references: null or
 *     not), every table (size; each entry null or not).
 *
 * WHIRL_FUZZ_TIER_NAN=spec relaxes NaN bits to what the specification
 * allows two engines to differ in (any NaN equals any NaN in a result or
 * global; memories may differ inside 4- or 8-byte windows that hold a NaN
 * on both sides), as fuzz/diff does against V8.
 *
 * Outcomes that depend on how fast or how deep each tier runs end the
 * comparison of a module without a verdict: an epoch interrupt (a per-call
 * deadline of DEADLINE_TICKS ms) or stack exhaustion on either side (the
 * tiers spend the wasm stack differently). A difference aborts, so
 * libFuzzer keeps the input; WHIRL_FUZZ_VERBOSE=1 traces every step.
 * Built against a library without the LLVM tier, the target refuses to
 * start.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "runtime/runtime.h"
#include "whirl.h"

#define FUZZ_MAX_MEMORY (10u << 20) /* bytes of linear memory per store */
#define FUZZ_MAX_TABLE 100000u      /* entries per table */
#define FUZZ_MAX_CALLS 64           /* exports called per input */
#define FUZZ_STACK (256u << 10)     /* --max-wasm-stack */
#define TICK_US 1000                /* the engines' epoch ticker interval */
#define DEADLINE_TICKS 20           /* a call runs ~20 ms before `interrupt` */

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "fuzz-tier: %s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                           \
            abort();                                                                  \
        }                                                                             \
    } while (0)

enum { INTERP, JIT };
static const char *const tier_names[2] = {"interp", "jit"};
static whirl_engine_t *engines[2];
static bool verbose;
static bool nan_spec; /* WHIRL_FUZZ_TIER_NAN=spec */

static void shutdown_engines(void)
{
    whirl_engine_delete(engines[INTERP]);
    whirl_engine_delete(engines[JIT]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    verbose = getenv("WHIRL_FUZZ_VERBOSE") && *getenv("WHIRL_FUZZ_VERBOSE") == '1';
    const char *nan = getenv("WHIRL_FUZZ_TIER_NAN");
    nan_spec = nan && !strcmp(nan, "spec");
    for (int t = INTERP; t <= JIT; t++) {
        whirl_config_t *config = whirl_config_new();
        CHECK(config != NULL);
        whirl_config_use_env(config, false);
        CHECK(whirl_config_max_wasm_stack_set(config, FUZZ_STACK) == NULL);
        CHECK(whirl_config_epoch_interval_set(config, TICK_US) == NULL);
        whirl_error_t *err =
            whirl_config_tier_set(config, t == JIT ? WHIRL_TIER_JIT : WHIRL_TIER_INTERP);
        if (!err)
            err = whirl_engine_new(config, &engines[t]);
        else
            whirl_config_delete(config);
        if (err) {
            fprintf(stderr, "fuzz-tier: %s engine: %s\n", tier_names[t], fz_errmsg(err));
            exit(1);
        }
    }
    atexit(shutdown_engines);
    return 0;
}

/* ---- reporting ---- */

static const uint8_t *cur_data;
static size_t cur_size;

/* A difference between the tiers: described, then abort() so that
 * libFuzzer saves the input. */
static void __attribute__((noreturn, format(printf, 1, 2))) diverged(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz-tier: DIVERGENCE: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fprintf(stderr, "fuzz-tier: input of %zu bytes\n", cur_size);
    abort();
}

/* ---- comparing values ---- */

static bool is_nan32(uint32_t b) { return (b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffffu); }
static bool is_nan64(uint64_t b)
{
    return (b & UINT64_C(0x7ff0000000000000)) == UINT64_C(0x7ff0000000000000) &&
           (b & UINT64_C(0x000fffffffffffff));
}

static bool only_nan_bits(const uint8_t *a, const uint8_t *b, size_t n);

/* Equal as the tiers must make them: bits, or (spec mode) both NaN. */
static bool same_bits(const void *a, const void *b, size_t n, bool is_float)
{
    if (!memcmp(a, b, n))
        return true;
    if (!nan_spec || !is_float)
        return false;
    if (n == 4) {
        uint32_t x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        return is_nan32(x) && is_nan32(y);
    }
    uint64_t x, y;
    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    return is_nan64(x) && is_nan64(y);
}

static bool same_val(const whirl_val_t *a, const whirl_val_t *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case WHIRL_I32: return a->of.i32 == b->of.i32;
    case WHIRL_I64: return a->of.i64 == b->of.i64;
    case WHIRL_F32: return same_bits(&a->of.f32, &b->of.f32, 4, true);
    case WHIRL_F64: return same_bits(&a->of.f64, &b->of.f64, 8, true);
    case WHIRL_V128:
        return !memcmp(a->of.v128, b->of.v128, 16) ||
               (nan_spec && only_nan_bits(a->of.v128, b->of.v128, 16));
    case WHIRL_FUNCREF: return !a->of.funcref == !b->of.funcref;
    case WHIRL_EXTERNREF: return !a->of.externref == !b->of.externref;
    case WHIRL_EXNREF: return !a->of.exnref == !b->of.exnref;
    default: return true;
    }
}

static void print_val(char *buf, size_t n, const whirl_val_t *v)
{
    uint32_t b32;
    uint64_t b64;
    switch (v->kind) {
    case WHIRL_I32: snprintf(buf, n, "i32:%" PRId32, v->of.i32); break;
    case WHIRL_I64: snprintf(buf, n, "i64:%" PRId64, v->of.i64); break;
    case WHIRL_F32:
        memcpy(&b32, &v->of.f32, 4);
        snprintf(buf, n, "f32:%08" PRIx32, b32);
        break;
    case WHIRL_F64:
        memcpy(&b64, &v->of.f64, 8);
        snprintf(buf, n, "f64:%016" PRIx64, b64);
        break;
    case WHIRL_V128: {
        size_t k = 0;
        k += (size_t)snprintf(buf, n, "v128:");
        for (int i = 0; i < 16 && k + 3 < n; i++)
            k += (size_t)snprintf(buf + k, n - k, "%02x", v->of.v128[i]);
        break;
    }
    default: snprintf(buf, n, "ref:%s", v->of.funcref ? "non-null" : "null"); break;
    }
}

/* Memories differ only in NaN bits: every differing byte lies in a 4- or
 * 8-byte window holding a NaN on both sides (fuzz/diff/run.mjs's rule). */
static bool only_nan_bits(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i] == b[i])
            continue;
        bool covered = false;
        for (size_t j = i >= 7 ? i - 7 : 0; j <= i && !covered; j++) {
            uint32_t x32, y32;
            uint64_t x64, y64;
            if (j + 4 <= n && j + 4 > i) {
                memcpy(&x32, a + j, 4);
                memcpy(&y32, b + j, 4);
                covered = is_nan32(x32) && is_nan32(y32);
            }
            if (!covered && j + 8 <= n) {
                memcpy(&x64, a + j, 8);
                memcpy(&y64, b + j, 8);
                covered = is_nan64(x64) && is_nan64(y64);
            }
        }
        if (!covered)
            return false;
    }
    return true;
}

/* ---- comparing instance state ---- */

static void compare_state(whirl_instance_t *const inst[2], const char *after)
{
    const wasm_module_t *w = inst[INTERP]->module->wasm;
    uint32_t nmem = w->nmemory_imports + w->nmemories;
    for (uint32_t i = 0; i < nmem; i++) {
        whirl_memory_t *a = inst[INTERP]->vm.memories[i], *b = inst[JIT]->vm.memories[i];
        uint64_t sa = whirl_memory_data_size(a), sb = whirl_memory_data_size(b);
        if (sa != sb)
            diverged("after %s: memory %" PRIu32 " has %" PRIu64 " bytes (interp), %" PRIu64
                     " (jit)", after, i, sa, sb);
        const uint8_t *pa = whirl_memory_data(a), *pb = whirl_memory_data(b);
        if (sa && memcmp(pa, pb, sa) && !(nan_spec && only_nan_bits(pa, pb, sa))) {
            size_t k = 0;
            while (pa[k] == pb[k])
                k++;
            diverged("after %s: memory %" PRIu32 " byte %zu: %02x (interp), %02x (jit)", after,
                     i, k, pa[k], pb[k]);
        }
    }
    uint32_t nglob = w->nglobal_imports + w->nglobals;
    for (uint32_t i = 0; i < nglob; i++) {
        const whirl_global_t *a = inst[INTERP]->vm.globals[i], *b = inst[JIT]->vm.globals[i];
        bool same;
        switch (a->type) {
        case WASM_I32: same = a->value.slot.i32 == b->value.slot.i32; break;
        case WASM_I64: same = a->value.slot.i64 == b->value.slot.i64; break;
        case WASM_F32: same = same_bits(&a->value.slot.f32, &b->value.slot.f32, 4, true); break;
        case WASM_F64: same = same_bits(&a->value.slot.f64, &b->value.slot.f64, 8, true); break;
        case WASM_V128: same = !memcmp(a->value.v128, b->value.v128, 16); break;
        default: same = !a->value.slot.ref == !b->value.slot.ref; break;
        }
        if (!same)
            diverged("after %s: global %" PRIu32 " (type 0x%x): %016" PRIx64 " (interp), %016" PRIx64
                     " (jit)", after, i, (unsigned)a->type, a->value.slot.u64, b->value.slot.u64);
    }
    uint32_t ntab = w->ntable_imports + w->ntables;
    for (uint32_t i = 0; i < ntab; i++) {
        const whirl_table_t *a = inst[INTERP]->vm.tables[i], *b = inst[JIT]->vm.tables[i];
        if (a->size != b->size)
            diverged("after %s: table %" PRIu32 " has %" PRIu32 " entries (interp), %" PRIu32
                     " (jit)", after, i, a->size, b->size);
        for (uint32_t k = 0; k < a->size; k++)
            if (!a->elems[k] != !b->elems[k])
                diverged("after %s: table %" PRIu32 " entry %" PRIu32 " is %s (interp), %s (jit)",
                         after, i, k, a->elems[k] ? "set" : "null", b->elems[k] ? "set" : "null");
    }
}

/* ---- comparing outcomes ---- */

/* Either side failed in a way that depends on speed or stack use. */
static bool inconclusive(whirl_error_t *const err[2])
{
    for (int t = INTERP; t <= JIT; t++) {
        whirl_trap_code_t code;
        if (err[t] && whirl_error_is_trap(err[t], &code) &&
            (code == WHIRL_TRAP_INTERRUPT || code == WHIRL_TRAP_STACK_EXHAUSTED)) {
            if (verbose)
                fprintf(stderr, "fuzz-tier:   inconclusive: %s %s\n", tier_names[t],
                        fz_errmsg(err[t]));
            return true;
        }
    }
    return false;
}

/* Both succeeded or both failed alike (the errors are then deleted);
 * false when inconclusive. */
static bool compare_errors(whirl_error_t *err[2], const char *what)
{
    if (inconclusive(err)) {
        whirl_error_delete(err[INTERP]);
        whirl_error_delete(err[JIT]);
        return false;
    }
    if (!err[INTERP] != !err[JIT])
        diverged("%s: %s (interp), %s (jit)", what,
                 err[INTERP] ? fz_errmsg(err[INTERP]) : "ok",
                 err[JIT] ? fz_errmsg(err[JIT]) : "ok");
    if (!err[INTERP])
        return true;
    whirl_trap_code_t ca = 0, cb = 0;
    bool ta = whirl_error_is_trap(err[INTERP], &ca), tb = whirl_error_is_trap(err[JIT], &cb);
    const char *ma = fz_errmsg(err[INTERP]), *mb = fz_errmsg(err[JIT]);
    if (ta != tb || ca != cb || strcmp(ma, mb))
        diverged("%s: '%s' (interp, trap code %d), '%s' (jit, trap code %d)", what, ma,
                 ta ? (int)ca : -1, mb, tb ? (int)cb : -1);
    if (ta) {
        size_t na = whirl_error_frame_count(err[INTERP]), nb = whirl_error_frame_count(err[JIT]);
        for (size_t i = 0; i < na && i < nb; i++) {
            uint32_t fa, fb;
            const char *sa, *sb;
            size_t oa, ob;
            CHECK(whirl_error_frame(err[INTERP], i, &fa, &sa, &oa));
            CHECK(whirl_error_frame(err[JIT], i, &fb, &sb, &ob));
            if (fa != fb || oa != ob)
                diverged("%s: '%s': backtrace frame %zu: function %" PRIu32 " offset 0x%zx "
                         "(interp), function %" PRIu32 " offset 0x%zx (jit)",
                         what, ma, i, fa, oa, fb, ob);
        }
        if (na != nb)
            diverged("%s: '%s': %zu backtrace frames (interp), %zu (jit)", what, ma, na, nb);
    }
    whirl_error_delete(err[INTERP]);
    whirl_error_delete(err[JIT]);
    return true;
}

/* Fixed arguments by parameter position: fuzz/diff's table. */
static whirl_val_t arg_for(whirl_valkind_t kind, size_t i)
{
    static const int32_t i32s[6] = {1, -1, 0x12345678, INT32_MIN, 0, 7};
    static const int64_t i64s[6] = {1, -1, INT64_C(0x123456789abcdef0), INT64_MIN, 0, 7};
    static const float f32s[6] = {1.5f, -0.0f, 3.0e38f, -1.0e-40f, 0.0f, 100.0f};
    static const double f64s[6] = {1.5, -0.0, 1.0e300, -4.9e-324, 0.0, 100.0};
    whirl_val_t v = fz_zero(kind);
    switch (kind) {
    case WHIRL_I32: v.of.i32 = i32s[i % 6]; break;
    case WHIRL_I64: v.of.i64 = i64s[i % 6]; break;
    case WHIRL_F32: v.of.f32 = f32s[i % 6]; break;
    case WHIRL_F64: v.of.f64 = f64s[i % 6]; break;
    case WHIRL_V128:
        for (int k = 0; k < 16; k++)
            v.of.v128[k] = (uint8_t)(0x80 + 17 * k + i);
        break;
    default: break; /* references: null */
    }
    return v;
}

/* Calls export `name` on both sides; false once the module's comparison
 * has to stop (inconclusive). */
static bool call_both(whirl_store_t *const store[2], whirl_func_t *const func[2],
                      const char *name)
{
    const whirl_functype_t *t = whirl_func_type(func[INTERP]);
    size_t np = whirl_functype_param_count(t), nr = whirl_functype_result_count(t);
    whirl_val_t *args = calloc(np + 1, sizeof *args);
    whirl_val_t *res[2] = {calloc(nr + 1, sizeof(whirl_val_t)), calloc(nr + 1, sizeof(whirl_val_t))};
    CHECK(args && res[0] && res[1]);
    for (size_t i = 0; i < np; i++)
        args[i] = arg_for(whirl_functype_param(t, i), i);
    whirl_error_t *err[2];
    for (int s = INTERP; s <= JIT; s++) {
        whirl_store_set_epoch_deadline(store[s], DEADLINE_TICKS);
        err[s] = whirl_func_call(store[s], func[s], args, np, res[s], nr);
        if (verbose)
            fprintf(stderr, "fuzz-tier:   %s -> %s\n", tier_names[s],
                    err[s] ? fz_errmsg(err[s]) : "returned");
    }
    char what[300];
    snprintf(what, sizeof what, "call %s", name);
    bool go_on = compare_errors(err, what);
    if (go_on && !err[INTERP])
        for (size_t i = 0; i < nr; i++)
            if (!same_val(&res[INTERP][i], &res[JIT][i])) {
                char a[64], b[64];
                print_val(a, sizeof a, &res[INTERP][i]);
                print_val(b, sizeof b, &res[JIT][i]);
                diverged("%s: result %zu: %s (interp), %s (jit)", what, i, a, b);
            }
    free(args);
    free(res[0]);
    free(res[1]);
    return go_on;
}

static void run_exports(whirl_store_t *const store[2], whirl_module_t *const module[2],
                        whirl_instance_t *const inst[2])
{
    size_t n = whirl_module_export_count(module[INTERP]);
    int calls = 0;
    for (size_t i = 0; i < n && calls < FUZZ_MAX_CALLS; i++) {
        whirl_export_info_t info;
        CHECK(whirl_module_export(module[INTERP], i, &info));
        if (info.kind != WHIRL_EXTERN_FUNC)
            continue;
        whirl_extern_t ext[2];
        for (int s = INTERP; s <= JIT; s++)
            CHECK(whirl_instance_export(inst[s], info.name, info.name_len, &ext[s]));
        char name[200];
        snprintf(name, sizeof name, "%zu (\"%.*s\")", i, (int)(info.name_len < 100 ? info.name_len : 100),
                 info.name);
        for (char *p = name; *p; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
                *p = '?';
        if (verbose)
            fprintf(stderr, "fuzz-tier: export %s\n", name);
        calls++;
        whirl_func_t *func[2] = {ext[INTERP].of.func, ext[JIT].of.func};
        if (!call_both(store, func, name))
            return;
        compare_state(inst, name);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cur_data = data;
    cur_size = size;
    whirl_module_t *module[2] = {NULL, NULL};
    whirl_error_t *err[2];
    for (int s = INTERP; s <= JIT; s++)
        err[s] = whirl_module_new(engines[s], data, size, &module[s]);
    if (!compare_errors(err, "module") || !module[INTERP]) {
        whirl_module_delete(module[INTERP]);
        whirl_module_delete(module[JIT]);
        return 0;
    }
    whirl_store_t *store[2];
    whirl_instance_t *inst[2] = {NULL, NULL};
    for (int s = INTERP; s <= JIT; s++) {
        store[s] = whirl_store_new(engines[s], NULL, NULL);
        CHECK(store[s] != NULL);
        whirl_store_limits_set(store[s], FUZZ_MAX_MEMORY, FUZZ_MAX_TABLE);
        whirl_store_set_epoch_deadline(store[s], DEADLINE_TICKS);
        err[s] = fz_instantiate(engines[s], store[s], module[s], fz_stub, &inst[s]);
    }
    /* A failed instantiation may still have written to the imported
     * memories and tables; those are not compared (their owners are not
     * reachable from here). */
    if (compare_errors(err, "instantiate") && inst[INTERP]) {
        compare_state(inst, "instantiate");
        run_exports(store, module, inst);
    }
    for (int s = INTERP; s <= JIT; s++) {
        whirl_store_delete(store[s]);
        whirl_module_delete(module[s]);
    }
    return 0;
}
