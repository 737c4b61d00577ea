/*
 * whirl-jit-bench: compile times and run times of the LLVM tier (a
 * measuring tool, not a test).
 *
 *   whirl-jit-bench FILE.wasm                     compile with the JIT, print the figures
 *   whirl-jit-bench --run jit|interp FILE.wasm [ARGS...]
 *                                                 run a WASI command's _start in one tier
 *   whirl-jit-bench --load FILE.cwasm [REPS]      load a .cwasm with native code, and without
 *                                                 linking it (tier=interp): median and best ms
 *   whirl-jit-bench --run jit|interp --invoke NAME FILE.wasm [I32...]
 *                                                 call export NAME with i32 arguments and
 *                                                 print its i32/i64 results (bench/simd's
 *                                                 guest, for one)
 *
 * Compile figures: functions compiled and left to the interpreter, bytes of
 * function bodies, and milliseconds spent translating to IR, optimising
 * (jit.c's pipeline) and generating machine code, with the throughput in MB of Wasm code
 * per second. With --run, the program's exit status is whirl-jit-bench's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jit/jit.h"
#include "jit/jit_binding.h"
#include "runtime/runtime.h"
#include "whirl.h"
#include "whirl/wasi.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static int fail(whirl_error_t *err, const char *what)
{
    fprintf(stderr, "whirl-jit-bench: %s: %s\n", what, whirl_error_message(err));
    whirl_error_delete(err);
    return 2;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Load time of a .cwasm: whirl_module_deserialize_file, wall and CPU, with
 * the native code linked (tier auto) and not (tier interp). */
static int bench_load(const char *path, int reps)
{
    static const char *const tiers[] = {"auto", "interp"};
    for (int t = 0; t < 2; t++) {
        whirl_config_t *config = whirl_config_new();
        whirl_config_set(config, "tier", tiers[t]);
        whirl_engine_t *engine;
        whirl_error_t *err = whirl_engine_new(config, &engine);
        if (err)
            return fail(err, "engine");
        double *wall = calloc((size_t)reps, sizeof *wall), *cpu = calloc((size_t)reps, sizeof *cpu);
        bool native = false;
        for (int r = 0; r < reps; r++) {
            whirl_module_t *module;
            double w0 = now_ms(), c0 = cpu_ms();
            err = whirl_module_deserialize_file(engine, path, &module);
            wall[r] = now_ms() - w0;
            cpu[r] = cpu_ms() - c0;
            if (err)
                return fail(err, "load");
            native = module->jit != NULL;
            whirl_module_delete(module);
        }
        qsort(wall, (size_t)reps, sizeof *wall, cmp_double);
        qsort(cpu, (size_t)reps, sizeof *cpu, cmp_double);
        printf("%s: tier=%s (native code %s): wall median %.2f ms, best %.2f; CPU median %.2f "
               "ms, best %.2f\n",
               path, tiers[t], native ? "linked" : "not linked", wall[reps / 2], wall[0],
               cpu[reps / 2], cpu[0]);
        free(wall);
        free(cpu);
        whirl_engine_delete(engine);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *tier = NULL, *invoke = NULL;
    int argi = 1;
    if (argc >= 3 && strcmp(argv[1], "--load") == 0)
        return bench_load(argv[2], argc > 3 ? atoi(argv[3]) > 0 ? atoi(argv[3]) : 1 : 9);
    if (argi + 1 < argc && strcmp(argv[argi], "--run") == 0) {
        tier = argv[argi + 1];
        argi += 2;
    }
    if (tier && argi + 1 < argc && strcmp(argv[argi], "--invoke") == 0) {
        invoke = argv[argi + 1];
        argi += 2;
    }
    if (argi >= argc || (tier && strcmp(tier, "jit") != 0 && strcmp(tier, "interp") != 0)) {
        fprintf(stderr, "usage: whirl-jit-bench [--run jit|interp [--invoke NAME]] FILE.wasm [ARGS...]\n");
        return 2;
    }
    size_t len;
    uint8_t *bytes = slurp(argv[argi], &len);
    if (!bytes) {
        perror(argv[argi]);
        return 2;
    }
    whirl_engine_t *engine;
    whirl_error_t *err = whirl_engine_new(NULL, &engine);
    if (err)
        return fail(err, "engine");
    whirl_module_t *module;
    double t0 = cpu_ms();
    err = whirl_module_new(engine, bytes, len, &module);
    double t1 = cpu_ms();
    free(bytes);
    if (err)
        return fail(err, "module");

    jit_code_t *code = NULL;
    if (!tier || strcmp(tier, "jit") == 0) {
        jit_options_t opt = {.verify = getenv("WHIRL_JIT_VERIFY") != NULL,
                             .no_optimize = getenv("WHIRL_JIT_NO_OPT") != NULL,
                             .dump_ir = getenv("WHIRL_JIT_DUMP_IR"),
                             .guard_memory = jit_guard_enabled()}; /* as whirl run */
        double c0 = cpu_ms();
        err = jit_compile(module->wasm, &opt, &code);
        double c1 = cpu_ms();
        if (err)
            return fail(err, "jit compile");
        const jit_stats_t *s = jit_code_stats(code);
        double mb = (double)s->code_bytes / 1e6;
        fprintf(stderr,
                "%s: %u functions compiled, %u left to the interpreter; %.3f MB of code\n"
                "  interpreter tier (decode+validate+compile, CPU): %.1f ms\n"
                "  jit (CPU time): translate %.1f ms, optimise %.1f ms, codegen %.1f ms (link %.1f ms);"
                " total %.1f ms"
                " = %.2f s/MB (%.3f MB/s)\n",
                argv[argi], s->compiled, s->unsupported, mb, t1 - t0, s->translate_ms,
                s->optimize_ms, s->codegen_ms, s->link_ms, c1 - c0, mb > 0 ? (c1 - c0) / 1e3 / mb : 0.0,
                (c1 - c0) > 0 ? mb / ((c1 - c0) / 1e3) : 0.0);
    }
    int status = 0;
    if (tier) {
        whirl_wasi_config_t *wc = whirl_wasi_config_new();
        for (int i = argi; i < argc; i++)
            whirl_wasi_config_push_arg(wc, argv[i]);
        whirl_wasi_config_inherit_stdio(wc);
        whirl_wasi_t *wasi;
        if ((err = whirl_wasi_new(wc, &wasi)))
            return fail(err, "wasi");
        whirl_linker_t *linker = whirl_linker_new(engine);
        whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
        whirl_instance_t *inst;
        if ((err = whirl_linker_define_wasi(linker, wasi)) ||
            (err = whirl_linker_instantiate(linker, store, module, &inst)))
            return fail(err, "instantiate");
        const char *name = invoke ? invoke : "_start";
        whirl_extern_t ext;
        if (!whirl_instance_export(inst, name, strlen(name), &ext) || ext.kind != WHIRL_EXTERN_FUNC) {
            fprintf(stderr, "whirl-jit-bench: no function export %s\n", name);
            return 2;
        }
        const wasm_functype_t *ft = ext.of.func->type;
        size_t nargs = invoke ? (size_t)(argc - argi - 1) : 0;
        if (nargs != ft->nparams || ft->nresults > 4) {
            fprintf(stderr, "whirl-jit-bench: %s takes %u arguments (i32 only here), gave %zu\n",
                    name, ft->nparams, nargs);
            return 2;
        }
        whirl_val_t args[nargs + 1], results[5];
        for (size_t i = 0; i < nargs; i++)
            args[i] = (whirl_val_t){.kind = WHIRL_I32, .of.i32 = (int32_t)strtol(argv[argi + 1 + i], NULL, 0)};
        double r0 = now_ms(), u0 = cpu_ms();
        if (code) {
            jit_ctx_t ctx;
            jit_ctx_init(&ctx, inst, code);
            err = jit_call(&ctx, ext.of.func->code->func_index, args, results);
        } else {
            err = whirl_func_call(store, ext.of.func, args, nargs, results, ft->nresults);
        }
        double r1 = now_ms(), u1 = cpu_ms();
        for (uint32_t i = 0; !err && invoke && i < ft->nresults; i++) {
            if (results[i].kind == WHIRL_I32)
                printf("%d\n", results[i].of.i32);
            else if (results[i].kind == WHIRL_I64)
                printf("%lld\n", (long long)results[i].of.i64);
        }
        if (err && !whirl_error_exit_status(err, &status)) {
            fprintf(stderr, "whirl-jit-bench: %s\n", whirl_error_message(err));
            status = 134;
        }
        whirl_error_delete(err);
        fprintf(stderr, "  run (%s): %.1f ms CPU, %.1f ms wall\n", tier, u1 - u0, r1 - r0);
        whirl_linker_delete(linker);
        whirl_store_delete(store);
        whirl_wasi_delete(wasi);
    }
    jit_code_free(code);
    whirl_module_delete(module);
    whirl_engine_delete(engine);
    return status;
}
