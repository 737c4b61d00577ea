/*
 * whirl-diff: the whirl side of the differential tester. Runs every exported
 * function of a module (as binaryen's `wasm-opt -ttf` generates them) and
 * prints a transcript that fuzz/diff/v8-run.mjs prints identically for V8:
 *
 *   compile ok | compile error          the module is accepted or not
 *   instantiate ok | instantiate trap C
 *   call NAME                           before each exported function
 *   log KIND VALUE                      each fuzzing-support log-* call
 *   result VALUE...                     or: trap CLASS
 *   mem SIZE HASH                       after each call: first exported memory
 *
 * Values: i32/i64 in signed decimal, f32/f64 as their bits in hex, except
 * that every NaN prints as "nan" (NaN payloads and signs legitimately differ
 * between engines; see fuzz/README.md). Traps print a class both engines
 * can name (unreachable, memory, table, indirect, div0, overflow, conversion,
 * stack); an epoch interrupt prints "trap timeout" and ends the run, which
 * the comparison treats as inconclusive.
 *
 *   whirl-diff [--dump DIR] [--timeout-ms N] [--tier interp|jit|auto] [--exact]
 *              FILE.wasm
 *
 * --dump writes the memory after call k to DIR/k.bin (for the NaN-aware
 * memory comparison). --tier picks the engine's tier (default: the
 * engine's default, auto). --exact is for comparing whirl's tiers with each
 * other (fuzz/diff/run.mjs --oracle tier), which must agree bit for bit:
 * NaNs print their bits, traps their class and whole message, and after
 * each call every exported global prints as `global NAME VALUE`.
 *
 * Exit status: 0 transcript complete, 2 bad usage or
 * unreadable file, 3 unsupported import.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common.h"
#include "whirl.h"


static whirl_valkind_t log_kinds[4] = {WHIRL_I32, WHIRL_I64, WHIRL_F32, WHIRL_F64};
static const char *const log_names[4] = {"log-i32", "log-i64", "log-f32", "log-f64"};

static bool exact; /* --exact */

static void print_f32(float f)
{
    uint32_t bits;
    memcpy(&bits, &f, 4);
    if (!exact && (bits & 0x7f800000u) == 0x7f800000u && (bits & 0x007fffffu))
        fputs("nan", stdout);
    else
        printf("f32:%08" PRIx32, bits);
}

static void print_f64(double d)
{
    uint64_t bits;
    memcpy(&bits, &d, 8);
    if (!exact && (bits & UINT64_C(0x7ff0000000000000)) == UINT64_C(0x7ff0000000000000) &&
        (bits & UINT64_C(0x000fffffffffffff)))
        fputs("nan", stdout);
    else
        printf("f64:%016" PRIx64, bits);
}

static void print_val(const whirl_val_t *v)
{
    switch (v->kind) {
    case WHIRL_I32: printf("%" PRId32, v->of.i32); break;
    case WHIRL_I64: printf("%" PRId64, v->of.i64); break;
    case WHIRL_F32: print_f32(v->of.f32); break;
    case WHIRL_F64: print_f64(v->of.f64); break;
    case WHIRL_FUNCREF: fputs(v->of.funcref ? "ref:func" : "ref:null", stdout); break;
    case WHIRL_EXTERNREF: fputs(v->of.externref ? "ref:extern" : "ref:null", stdout); break;
    case WHIRL_V128:
        fputs("v128:", stdout);
        for (int i = 0; i < 16; i++)
            printf("%02x", v->of.v128[i]);
        break;
    default: fputs(v->of.externref ? "ref:other" : "ref:null", stdout); break;
    }
}

static whirl_error_t *log_value(void *env, whirl_caller_t *caller, const whirl_val_t *args,
                                size_t nargs, whirl_val_t *results, size_t nresults)
{
    const char *name = env;
    printf("log %s ", name + 4);
    for (size_t i = 0; i < nargs; i++) {
        if (i)
            putchar(' ');
        print_val(&args[i]);
    }
    putchar('\n');
    return NULL;
}

/* The class of a trap that V8's message can be mapped to as well. */
static const char *trap_class(const whirl_error_t *err)
{
    whirl_trap_code_t code;
    if (whirl_error_is_exception(err, NULL))
        return "exception"; /* uncaught: an error of its own, not a trap */
    if (!whirl_error_is_trap(err, &code))
        return "error";
    switch (code) {
    case WHIRL_TRAP_UNREACHABLE: return "unreachable";
    case WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS: return "memory";
    case WHIRL_TRAP_TABLE_OUT_OF_BOUNDS: return "table";
    case WHIRL_TRAP_INDIRECT_CALL_NULL:
    case WHIRL_TRAP_INDIRECT_CALL_TYPE: return "indirect";
    case WHIRL_TRAP_INTEGER_DIVIDE_BY_ZERO: return "div0";
    case WHIRL_TRAP_INTEGER_OVERFLOW: return "overflow";
    case WHIRL_TRAP_INVALID_CONVERSION: return "conversion";
    case WHIRL_TRAP_STACK_EXHAUSTED: return "stack";
    case WHIRL_TRAP_INTERRUPT: return "timeout";
    case WHIRL_TRAP_HOST: return "host";
    /* 3.0 traps (gen-expr --features): V8 says "dereferencing a null
     * pointer" for call_ref and ref.as_non_null of null, and
     * "operation does not support unaligned accesses". */
    case WHIRL_TRAP_NULL_REFERENCE:
    case WHIRL_TRAP_NULL_EXCEPTION: return "null";
    case WHIRL_TRAP_UNALIGNED_ATOMIC: return "unaligned";
    case WHIRL_TRAP_EXCEPTIONS_EXHAUSTED:
    case WHIRL_TRAP_WAIT_UNSHARED: return "other";
    }
    return "other";
}

/* Fixed arguments, by parameter position: the same table is in v8-run.mjs. */
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
    default: break; /* references: null */
    }
    return v;
}

/* FNV-1a (32-bit) of the memory, as v8-run.mjs computes it. */
static uint32_t fnv1a(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* After each call in --exact mode: every exported global's value. */
static void report_globals(whirl_module_t *module, whirl_instance_t *inst)
{
    size_t n = whirl_module_export_count(module);
    for (size_t i = 0; i < n; i++) {
        whirl_export_info_t info;
        whirl_extern_t ext;
        if (!whirl_module_export(module, i, &info) || info.kind != WHIRL_EXTERN_GLOBAL ||
            !whirl_instance_export(inst, info.name, info.name_len, &ext))
            continue;
        whirl_val_t v;
        whirl_global_get(ext.of.global, &v);
        printf("global %.*s ", (int)info.name_len, info.name);
        print_val(&v);
        putchar('\n');
    }
}

/* After each call in --exact mode: every exported memory but the first
 * (multi-memory), as `memory NAME SIZE HASH`. */
static void report_other_memories(whirl_module_t *module, whirl_instance_t *inst,
                                  whirl_memory_t *first)
{
    size_t n = whirl_module_export_count(module);
    for (size_t i = 0; i < n; i++) {
        whirl_export_info_t info;
        whirl_extern_t ext;
        if (!whirl_module_export(module, i, &info) || info.kind != WHIRL_EXTERN_MEMORY ||
            !whirl_instance_export(inst, info.name, info.name_len, &ext) ||
            ext.of.memory == first)
            continue;
        const uint8_t *p = whirl_memory_data(ext.of.memory);
        size_t len = whirl_memory_data_size(ext.of.memory);
        printf("memory %.*s %zu %08" PRIx32 "\n", (int)info.name_len, info.name, len,
               fnv1a(p, len));
    }
}

static void report_memory(whirl_memory_t *mem, const char *dump_dir, unsigned call)
{
    if (!mem) {
        puts("mem none");
        return;
    }
    const uint8_t *p = whirl_memory_data(mem);
    size_t n = whirl_memory_data_size(mem);
    printf("mem %zu %08" PRIx32 "\n", n, fnv1a(p, n));
    if (dump_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%u.bin", dump_dir, call);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(p, 1, n, f) != n) {
            fprintf(stderr, "whirl-diff: cannot write %s: %s\n", path, strerror(errno));
            exit(2);
        }
        fclose(f);
    }
}

int main(int argc, char **argv)
{
    const char *dump_dir = NULL, *file = NULL;
    unsigned long timeout_ms = 5000;
    const char *tier = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dump") && i + 1 < argc)
            dump_dir = argv[++i];
        else if (!strcmp(argv[i], "--tier") && i + 1 < argc)
            tier = argv[++i];
        else if (!strcmp(argv[i], "--exact"))
            exact = true;
        else if (!strcmp(argv[i], "--timeout-ms") && i + 1 < argc)
            timeout_ms = strtoul(argv[++i], NULL, 10);
        else if (argv[i][0] != '-' && !file)
            file = argv[i];
        else {
            file = NULL;
            break;
        }
    }
    if (!file) {
        fprintf(stderr, "usage: whirl-diff [--dump DIR] [--timeout-ms N] "
                        "[--tier interp|jit|auto] [--exact] FILE.wasm\n");
        return 2;
    }
    size_t len;
    uint8_t *bytes = fz_read_file(file, &len);
    if (!bytes) {
        fprintf(stderr, "whirl-diff: %s: %s\n", file, strerror(errno));
        return 2;
    }

    whirl_engine_t *engine;
    whirl_config_t *config = whirl_config_new();
    whirl_config_use_env(config, false);
    whirl_error_t *err = NULL;
    if (tier) {
        whirl_tier_t t = !strcmp(tier, "interp") ? WHIRL_TIER_INTERP
                         : !strcmp(tier, "jit")  ? WHIRL_TIER_JIT
                                                 : WHIRL_TIER_AUTO;
        if (strcmp(tier, "interp") && strcmp(tier, "jit") && strcmp(tier, "auto"))
            err = whirl_error_newf("unknown tier '%s' (interp, jit or auto)", tier);
        else
            err = whirl_config_tier_set(config, t);
        if (err) {
            fprintf(stderr, "whirl-diff: %s\n", fz_errmsg(err));
            whirl_error_delete(err);
            whirl_config_delete(config);
            free(bytes);
            return 2;
        }
    }
    err = whirl_engine_new(config, &engine);
    if (err) {
        fprintf(stderr, "whirl-diff: engine: %s\n", fz_errmsg(err));
        return 2;
    }
    int status = 0;
    whirl_module_t *module = NULL;
    whirl_store_t *store = NULL;
    whirl_linker_t *linker = NULL;
    err = whirl_module_new(engine, bytes, len, &module);
    free(bytes);
    if (err) {
        puts("compile error");
        fprintf(stderr, "whirl-diff: %s\n", fz_errmsg(err));
        whirl_error_delete(err);
        goto out;
    }
    puts("compile ok");

    linker = whirl_linker_new(engine);
    store = whirl_store_new(engine, NULL, NULL);
    for (int k = 0; k < 4; k++) {
        whirl_functype_t *t = whirl_functype_new(&log_kinds[k], 1, NULL, 0);
        err = whirl_linker_define_func(linker, "fuzzing-support", log_names[k], t, log_value,
                                       (void *)log_names[k], NULL);
        whirl_functype_delete(t);
        if (err) {
            fprintf(stderr, "whirl-diff: define %s: %s\n", log_names[k], fz_errmsg(err));
            whirl_error_delete(err);
            status = 2;
            goto out;
        }
    }
    uint64_t timeout_ns = (uint64_t)timeout_ms * 1000000u;
    if ((err = whirl_store_set_deadline(store, whirl_monotonic_now() + timeout_ns))) {
        fprintf(stderr, "whirl-diff: deadline: %s\n", fz_errmsg(err));
        whirl_error_delete(err);
        status = 2;
        goto out;
    }
    whirl_instance_t *inst;
    err = whirl_linker_instantiate(linker, store, module, &inst);
    if (err) {
        if (!whirl_error_is_trap(err, NULL)) {
            puts("instantiate error");
            fprintf(stderr, "whirl-diff: %s\n", fz_errmsg(err));
            status = 3;
        } else {
            printf("instantiate trap %s%s%s\n", trap_class(err), exact ? " " : "",
                   exact ? fz_errmsg(err) : "");
        }
        whirl_error_delete(err);
        goto out;
    }
    puts("instantiate ok");

    size_t nexports = whirl_module_export_count(module);
    whirl_memory_t *mem = NULL;
    whirl_func_t *hang_init = NULL;
    for (size_t i = 0; i < nexports; i++) {
        whirl_export_info_t info;
        whirl_extern_t ext;
        if (!whirl_module_export(module, i, &info) ||
            !whirl_instance_export(inst, info.name, info.name_len, &ext))
            continue;
        if (ext.kind == WHIRL_EXTERN_MEMORY && !mem)
            mem = ext.of.memory;
        if (ext.kind == WHIRL_EXTERN_FUNC && info.name_len == 20 &&
            !memcmp(info.name, "hangLimitInitializer", 20))
            hang_init = ext.of.func;
    }

    unsigned call = 0;
    for (size_t i = 0; i < nexports; i++) {
        whirl_export_info_t info;
        whirl_extern_t ext;
        if (!whirl_module_export(module, i, &info) || info.kind != WHIRL_EXTERN_FUNC ||
            !whirl_instance_export(inst, info.name, info.name_len, &ext))
            continue;
        whirl_error_delete(whirl_store_set_deadline(store, whirl_monotonic_now() + timeout_ns));
        /* binaryen's fuzz harness resets the generated loop/recursion budget
         * before each call; so do both runners. */
        if (hang_init) {
            err = whirl_func_call(store, hang_init, NULL, 0, NULL, 0);
            if (err) {
                printf("hang-init trap %s\n", trap_class(err));
                whirl_error_delete(err);
            }
        }
        printf("call %.*s\n", (int)info.name_len, info.name);
        const whirl_functype_t *t = whirl_func_type(ext.of.func);
        size_t np = whirl_functype_param_count(t), nr = whirl_functype_result_count(t);
        whirl_val_t args[64], results[64];
        if (np > 64 || nr > 64) {
            puts("skip too-many-values");
            continue;
        }
        for (size_t k = 0; k < np; k++)
            args[k] = arg_for(whirl_functype_param(t, k), k);
        err = whirl_func_call(store, ext.of.func, args, np, results, nr);
        if (err) {
            const char *cls = trap_class(err);
            if (exact)
                printf("trap %s %s\n", cls, fz_errmsg(err));
            else
                printf("trap %s\n", cls);
            whirl_error_delete(err);
            if (!strcmp(cls, "timeout"))
                break;
        } else {
            fputs("result", stdout);
            for (size_t k = 0; k < nr; k++) {
                putchar(' ');
                print_val(&results[k]);
            }
            putchar('\n');
        }
        if (exact)
            report_globals(module, inst);
        report_memory(mem, dump_dir, call++);
        if (exact)
            report_other_memories(module, inst, mem);
    }

out:
    fflush(stdout);
    whirl_linker_delete(linker);
    whirl_store_delete(store);
    whirl_module_delete(module);
    whirl_engine_delete(engine);
    return status;
}
