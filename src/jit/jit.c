/* The LLVM tier's driver: LLVM initialisation and its fatal-error handler,
 * IR verification, the optimisation pipeline, and native code through ORC LLJIT.
 *
 * LLVM never sees unvalidated input: jit_compile is only given modules the
 * validator accepted, the translator trusts nothing else, and tests verify
 * the IR (jit_options_t.verify). Should LLVM still hit a fatal error, the
 * handler jumps back to jit_compile, which reports an error: LLVM would
 * otherwise end the process after the handler returns. What LLVM leaked on
 * the way is lost, but the host lives. */
#include "jit/jit.h"

#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/ErrorHandling.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jit/jit_binding.h"
#include "jit/jit_debuginfo.h"
#include "jit/jit_internal.h"
#include "jit/translate.h"
#include "alloc/alloc.h"
#include "runtime/trap_signal.h"
#include "runtime/trap_signal_arch.h"
#include "util/error.h"

/* ---------------------------------------------------------- LLVM setup */

static pthread_once_t llvm_once = PTHREAD_ONCE_INIT;
static bool llvm_ready;
__thread jmp_buf *fatal_jmp;
__thread char fatal_reason[256];

static void on_fatal_error(const char *reason)
{
    snprintf(fatal_reason, sizeof fatal_reason, "%s", reason ? reason : "(no reason)");
    if (fatal_jmp)
        longjmp(*fatal_jmp, 1);
    /* Outside jit_compile there is nowhere to go back to; LLVM exits. */
}

static void llvm_init(void)
{
    /* The asm parser: the call-site marks are inline assembler
     * directives (jit_binding.c jb_mark_call). */
    if (LLVMInitializeNativeTarget() || LLVMInitializeNativeAsmPrinter() ||
        LLVMInitializeNativeAsmParser())
        return;
    LLVMInstallFatalErrorHandler(on_fatal_error);
    llvm_ready = true;
}

bool jit_llvm_init(void)
{
    pthread_once(&llvm_once, llvm_init);
    return llvm_ready;
}

/* CPU time of the compiling thread: the figures stay meaningful on a
 * loaded machine (LLJIT compiles on the calling thread). */
static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

whirl_error_t *llvm_error(const char *what, LLVMErrorRef e)
{
    char *msg = LLVMGetErrorMessage(e);
    whirl_error_t *err = error_fmt("jit: %s: %s", what, msg ? msg : "?");
    LLVMDisposeErrorMessage(msg);
    return err;
}

/* The optimisation pipeline, and the code generator's level to match.
 *
 * Not default<O2>: the Wasm comes from a compiler that has already
 * inlined and unrolled what it wanted to, so O2's module passes
 * (inliner, interprocedural analyses, loop vectoriser and unroller,
 * function specialisation) cost three quarters of the optimising time and
 * won little. What the translator's IR needs is local: locals into
 * registers (sroa), redundant runtime-state loads and common expressions
 * removed (early-cse, gvn: the TBAA tags make the memory base and globals
 * loop-invariant across guest stores), loop-invariant code hoisted (licm:
 * the memory base and epoch pointers), and peephole and CFG cleanup after
 * each. The code generator at "less" keeps the greedy register allocator
 * and the DAG combiner; "default" added 20-25% to its time for no
 * measurable gain. Measured on bench/ (docs in bench/results/, jitfast
 * record): compile CPU time -40%, code speed unchanged within noise.
 *
 * Three passes of O2's came back, for their worth per millisecond:
 * lower-expect turns the translator's llvm.expect hints (epoch, stack and
 * trap paths unlikely) into branch weights, without which the code
 * generator laid the slow paths out inline (fib 1.17 -> 0.95 s); loop
 * rotation with indvars lets the unroller unroll loops whose trip count is
 * known at run time only, which clang's wasm32 output leaves rolled
 * (matmul 0.71 -> 0.62 s). Together +2-5% compile time, aot geomean
 * 1.29x -> 1.23x (bench/results/20261208-*-pipeline). */
static const char JIT_PIPELINE[] =
    "function(lower-expect,sroa,early-cse<memssa>,instcombine<no-verify-fixpoint>,simplifycfg,"
    "loop-mssa(loop-rotate,licm),gvn,instcombine<no-verify-fixpoint>,simplifycfg,"
    "loop(indvars),loop-unroll<O2>,simplifycfg)";
#define JIT_CODEGEN_LEVEL LLVMCodeGenLevelLess

LLVMTargetMachineRef host_machine(void)
{
    char *triple = LLVMGetDefaultTargetTriple();
    char *cpu = LLVMGetHostCPUName();
    char *features = LLVMGetHostCPUFeatures();
    LLVMTargetRef target = NULL;
    char *msg = NULL;
    LLVMTargetMachineRef tm = NULL;
    if (!LLVMGetTargetFromTriple(triple, &target, &msg))
        tm = LLVMCreateTargetMachine(target, triple, cpu, features, JIT_CODEGEN_LEVEL,
                                     LLVMRelocPIC, LLVMCodeModelSmall);
    LLVMDisposeMessage(msg);
    LLVMDisposeMessage(triple);
    LLVMDisposeMessage(cpu);
    LLVMDisposeMessage(features);
    return tm;
}

/* ---------------------------------------------------------- compile */

typedef struct compile_state {
    LLVMOrcThreadSafeContextRef tsctx;
    LLVMModuleRef mod;
    LLVMTargetMachineRef tm;
    jt_module_t jm;
} compile_state_t;

static void compile_state_free(compile_state_t *s)
{
    if (s->mod)
        LLVMDisposeModule(s->mod);
    if (s->tm)
        LLVMDisposeTargetMachine(s->tm);
    jt_debug_free(s->jm.debug);
    jt_debug_free(s->jm.calls);
    if (s->tsctx)
        LLVMOrcDisposeThreadSafeContext(s->tsctx);
    free(s->jm.fns);
    free(s->jm.fn_types);
    free(s->jm.supported);
    free(s->jm.why_not);
}

/* Everything that may reach LLVM's fatal-error handler. */
static whirl_error_t *compile_steps(compile_state_t *s, const jit_options_t *opt, jit_code_t *code)
{
    const wasm_module_t *m = code->wasm;
    uint32_t nfuncs = code->nfuncs;
    double t0 = now_ms();

    s->tsctx = LLVMOrcCreateNewThreadSafeContext();
    jt_module_t *jm = &s->jm;
    jm->wasm = m;
    jm->llctx = LLVMOrcThreadSafeContextGetContext(s->tsctx);
    s->mod = jm->mod = LLVMModuleCreateWithNameInContext("wasm", jm->llctx);
    s->tm = host_machine();
    if (!s->tm)
        return error_fmt("jit: no LLVM target for this host");
    char *triple = LLVMGetTargetMachineTriple(s->tm);
    LLVMSetTarget(s->mod, triple);
    LLVMDisposeMessage(triple);
    LLVMTargetDataRef layout = LLVMCreateTargetDataLayout(s->tm);
    LLVMSetModuleDataLayout(s->mod, layout);
    LLVMDisposeTargetData(layout);

    jm->i1 = LLVMInt1TypeInContext(jm->llctx);
    jm->i8 = LLVMInt8TypeInContext(jm->llctx);
    jm->i16 = LLVMInt16TypeInContext(jm->llctx);
    jm->i32 = LLVMInt32TypeInContext(jm->llctx);
    jm->i64 = LLVMInt64TypeInContext(jm->llctx);
    jm->f32 = LLVMFloatTypeInContext(jm->llctx);
    jm->f64 = LLVMDoubleTypeInContext(jm->llctx);
    jm->ptr = LLVMPointerTypeInContext(jm->llctx, 0);
    jm->void_t = LLVMVoidTypeInContext(jm->llctx);
    jm->fns = calloc(nfuncs + 1, sizeof *jm->fns);
    jm->fn_types = calloc(m->ntypes + 1, sizeof *jm->fn_types);
    jm->supported = calloc(nfuncs + 1, sizeof *jm->supported);
    jm->why_not = calloc(nfuncs + 1, sizeof *jm->why_not);
    if (!jm->fns || !jm->fn_types || !jm->supported || !jm->why_not)
        return error_oom();

    jm->only = opt ? opt->only : NULL;
    jm->part = opt ? opt->part : 0;
    bool debug_info = opt && opt->debug_info;
    if (debug_info)
        jm->debug = jt_debug_new(jm); /* NULL (no memory): code without DWARF */
    else
        jm->calls = jt_calls_new(jm); /* NULL (no memory): calls marked by labels */
    jm->guard_memory = code->guarded;
    whirl_error_t *err = jt_translate_module(jm);
    if (err)
        return err;
    if (opt && opt->nosr)
        jit_osr_translate(jm, opt->osr, opt->nosr);
    jit_add_func_table(jm);
    /* Frame pointers in every function: backtraces walk their chain
     * (jit_binding.c) instead of each call keeping a record. And nounwind
     * in every one: nothing unwinds through native code (traps longjmp),
     * and a single function that might would put every function's call
     * frame information in .eh_frame, which the JIT linker splits and
     * registers record by record at each load (3 s for a module of 6,000
     * functions), instead of in .debug_frame, which it does not load. */
    unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
    for (LLVMValueRef fn = LLVMGetFirstFunction(s->mod); fn; fn = LLVMGetNextFunction(fn))
        if (!LLVMIsDeclaration(fn)) {
            LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                                    LLVMCreateStringAttribute(jm->llctx, "frame-pointer", 13,
                                                              "all", 3));
            LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                                    LLVMCreateEnumAttribute(jm->llctx, nounwind, 0));
        }
    if (jm->debug)
        jt_debug_finish(jm->debug, jm);
    if (jm->calls)
        jt_calls_finish(jm->calls);
    for (uint32_t i = m->nfunc_imports; i < nfuncs; i++) {
        code->why_not[i] = jm->why_not[i];
        if (jm->supported[i]) {
            const wasm_func_t *fn = &m->funcs[i - m->nfunc_imports];
            code->stats.compiled++;
            code->stats.code_bytes += (uint64_t)(fn->code_end - fn->code);
        } else {
            code->stats.unsupported++;
        }
    }
    if (opt && opt->verify) {
        char *msg = NULL;
        if (LLVMVerifyModule(s->mod, LLVMReturnStatusAction, &msg)) {
            err = error_fmt("jit: invalid IR (translator bug): %.2000s", msg ? msg : "?");
            LLVMDisposeMessage(msg);
            return err;
        }
        LLVMDisposeMessage(msg);
    }
    double t1 = now_ms();
    code->stats.translate_ms = t1 - t0;

    /* Debug info: unoptimised, so variables live in their allocas and
     * lines follow the source. */
    if (!debug_info && (!opt || !opt->no_optimize)) {
        LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
        LLVMErrorRef e = LLVMRunPasses(s->mod, JIT_PIPELINE, s->tm, po);
        LLVMDisposePassBuilderOptions(po);
        if (e)
            return llvm_error("optimising", e);
    }
    if (opt && opt->dump_ir)
        LLVMPrintModuleToFile(s->mod, opt->dump_ir, NULL);
    double t2 = now_ms();
    code->stats.optimize_ms = t2 - t1;

    /* Code goes through a relocatable object, as ORC's IR layer would
     * make one, so that compiled and precompiled code (jit_object.c) are
     * the same bytes linked the same way. */
    uint8_t *obj = NULL;
    size_t obj_len = 0;
    if ((err = jit_emit_object(s->tm, s->mod, &obj, &obj_len)))
        return err;
    if (opt && opt->emit_only) {
        /* A part (jit_parts.c): linked with the others. */
        code->object = obj;
        code->object_len = obj_len;
        code->stats.codegen_ms = now_ms() - t2;
        return NULL;
    }
    double t3 = now_ms();
    err = jit_link_object(code, obj, obj_len, NULL);
    code->stats.link_ms = now_ms() - t3;
    if (!err && opt)
        err = jit_osr_link(code, opt->nosr);
    if (!err && opt && opt->perfmap)
        jit_perfmap_write(code);
    if (!err && opt && opt->jitdump)
        jit_jitdump_write(code);
    if (!err && debug_info)
        jit_gdb_register(code, obj, obj_len);
    if (!err && opt && opt->keep_object) {
        code->object = obj;
        code->object_len = obj_len;
        obj = NULL;
    }
    free(obj);
    if (err)
        return err;
    code->stats.codegen_ms = now_ms() - t2;
    return NULL;
}

jit_code_t *jit_code_new(const wasm_module_t *module, bool guarded)
{
    jit_code_t *code = calloc(1, sizeof *code);
    if (!code)
        return NULL;
    code->wasm = module;
    code->nfuncs = wasm_module_func_count(module);
    code->native = calloc(code->nfuncs + 1, sizeof *code->native);
    code->entry = calloc(code->nfuncs + 1, sizeof *code->entry);
    code->why_not = calloc(code->nfuncs + 1, sizeof *code->why_not);
    code->guarded = guarded;
    if (!code->native || !code->entry || !code->why_not) {
        jit_code_free(code);
        return NULL;
    }
    return code;
}

whirl_error_t *jit_code_begin(const wasm_module_t *module, const jit_options_t *options,
                              jit_code_t **code)
{
    *code = NULL;
    if (!jit_llvm_init())
        return error_fmt("jit: LLVM has no native target on this host");
    *code = jit_code_new(module, options && options->guard_memory && jit_guard_module_ok(module));
    return *code ? NULL : error_oom();
}

whirl_error_t *jit_compile(const wasm_module_t *module, const jit_options_t *options,
                           jit_code_t **out)
{
    if (options && options->parts > 1 && !options->only && !options->nosr &&
        !options->debug_info)
        return jit_compile_parts(module, options, out);
    return jit_compile_one(module, options, out);
}

whirl_error_t *jit_compile_one(const wasm_module_t *module, const jit_options_t *options,
                               jit_code_t **out)
{
    *out = NULL;
    jit_code_t *code = NULL;
    whirl_error_t *err = jit_code_begin(module, options, &code);
    if (err)
        return err;

    compile_state_t s = {0};
    jmp_buf jb;
    jmp_buf *volatile saved = fatal_jmp;
    if (setjmp(jb)) {
        fatal_jmp = saved;
        /* LLVM's state is abandoned as it was: freeing it could fault. */
        code->jit = NULL;
        jit_code_free(code);
        return error_fmt("jit: LLVM fatal error: %s", fatal_reason);
    }
    fatal_jmp = &jb;
    err = compile_steps(&s, options, code);
    fatal_jmp = saved;
    compile_state_free(&s);
    if (err) {
        jit_code_free(code);
        return err;
    }
    *out = code;
    return NULL;
}

void jit_code_free(jit_code_t *code)
{
    if (!code)
        return;
    /* Before the code goes: gdb reads the registered image's addresses. */
    jit_gdb_unregister(code);
    trap_signal_code_remove(code->code_start);
    /* The parts' code lives in this code's JIT: unregistered first. */
    for (size_t i = 0; i < code->nparts; i++)
        jit_code_free(code->parts[i]);
    free(code->parts);
    code->parts = NULL;
    if (code->jit && !code->jit_shared) {
        LLVMErrorRef e = LLVMOrcDisposeLLJIT(code->jit);
        if (e)
            LLVMConsumeError(e);
    }
    free(code->native);
    free(code->entry);
    free(code->why_not);
    free(code->object);
    free(code->why_storage);
    free(code->pc_sites);
    free(code->call_sites);
    free(code->code_starts);
    free(code->osr);
    free(code);
}

const jit_stats_t *jit_code_stats(const jit_code_t *code) { return &code->stats; }
const wasm_module_t *jit_code_module(const jit_code_t *code) { return code->wasm; }
bool jit_code_guarded(const jit_code_t *code) { return code->guarded; }

bool jit_code_func_at(const jit_code_t *code, uintptr_t pc, uint32_t *func_index)
{
    uintptr_t best = 0;
    bool found = false;
    if (pc < code->code_start || pc >= (uintptr_t)code->code_end)
        return false;
    for (uint32_t i = 0; i < code->nfuncs; i++) {
        uintptr_t at = (uintptr_t)code->native[i];
        if (at && at <= pc && at >= best) {
            best = at;
            *func_index = i;
            found = true;
        }
    }
    return found;
}

static bool guard_enabled;

/* Sanitizer builds keep explicit checks: ASan and TSan own SIGSEGV and the
 * address space's layout, and their runs check the checked code. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GUARD_DEFAULT false
#else
#define GUARD_DEFAULT true
#endif

static void guard_decide(void)
{
    const char *v = getenv("WHIRL_JIT_GUARD");
    bool wanted = v && *v ? strcmp(v, "0") != 0 : GUARD_DEFAULT;
    /* Where address space is short (the probe cannot reserve 2^42 bytes:
     * ulimit -v, 39-bit kernels) memories may get short reservations that
     * guarded code cannot run on (native_enter refuses): keep checks. */
    guard_enabled = wanted && trap_signal_arch_supported() && alloc_probe_pooling();
}

bool jit_guard_enabled(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, guard_decide);
    return guard_enabled;
}

bool jit_guard_module_ok(const wasm_module_t *module)
{
    /* One memory only: native_enter and the fault handler know memory 0's
     * reservation, not those of multi-memory modules' others. */
    if (module->nmemory_imports + module->nmemories > 1)
        return false;
    if (module->nmemory_imports + module->nmemories == 0)
        return true; /* no memory: nothing to check */
    return !wasm_module_memory_type(module, 0)->limits.is64;
}

bool jit_guard_ok(bool is64, size_t reserved)
{
    return !is64 && reserved >= ALLOC_MEMORY_RESERVATION;
}

bool jit_code_compiled(const jit_code_t *code, uint32_t func_index, const char **why)
{
    if (func_index >= code->nfuncs)
        return false;
    if (why)
        *why = code->native[func_index] ? NULL
               : func_index < code->wasm->nfunc_imports ? "imported"
               : code->why_not[func_index] ? code->why_not[func_index] : "not compiled";
    return code->native[func_index] != NULL;
}

void *jit_code_native(const jit_code_t *code, uint32_t func_index)
{
    return func_index < code->nfuncs ? code->native[func_index] : NULL;
}

void *jit_code_entry(const jit_code_t *code, uint32_t func_index)
{
    return func_index < code->nfuncs ? code->entry[func_index] : NULL;
}
