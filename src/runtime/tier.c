/* Tiers: which code runs a module's functions, and the one call ABI across
 * them (docs/ARCHITECTURE.md, "Tiers").
 *
 * Every function starts with its interpreter code (compiled_func_t). The
 * LLVM tier (src/jit, built with WHIRL_HAVE_JIT) publishes native code into
 * the same record, after which every caller uses it: the interpreter's
 * call instructions and the host entry (exec_call) call the entry
 * trampoline with the arguments in slots, native code calls native code of
 * its own module directly and everything else (imports, other instances,
 * functions left to the interpreter, host functions) through the binding's
 * runtime calls, which come back here or to exec_call. So calls cross tiers
 * in every direction through one ABI: (vmctx, slots) at a tier boundary,
 * the Wasm signature inside native code.
 *
 * Native code traps by longjmp to the innermost native_enter of its store
 * (jit_binding.h says why); native_enter turns that into the trap error
 * the interpreter would have returned. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc.h"
#include "runtime/fiber.h"
#include "runtime/internal.h"
#include "runtime/serialize.h"
#include "runtime/trap_signal.h"
#include "util/error.h"
#ifdef WHIRL_HAVE_JIT
#include "jit/jit.h"
#include "jit/jit_tier.h"
#endif

/* ------------------------------------------------------------ entering */

/* Native stack that compiled code may use: down to this far above the
 * thread's stack end (an eighth of the stack, 32 to 256 KiB), so that the
 * runtime functions, the interpreter and host functions called near the
 * limit still have room; and at most STACK_BUDGET_MAX below the outermost
 * entry. */
#define STACK_RESERVE_MAX (256u * 1024)
#define STACK_RESERVE_MIN (32u * 1024)
#define STACK_BUDGET_MAX (8u * 1024 * 1024)

static uintptr_t thread_stack_limit(uintptr_t here)
{
    /* On a fiber (a resumable call, runtime/fiber.h) the stack is the
     * fiber's, smaller than a thread's: keep twice what exec_call keeps. */
    uintptr_t fiber_lo = fiber_stack_low();
    if (fiber_lo)
        return fiber_lo + 2 * FIBER_STACK_RESERVE < here ? fiber_lo + 2 * FIBER_STACK_RESERVE
                                                         : here;
    static __thread uintptr_t lo, reserve;
    if (!lo) {
        pthread_attr_t attr;
        void *addr = NULL;
        size_t size = 0;
        if (pthread_getattr_np(pthread_self(), &attr) == 0) {
            pthread_attr_getstack(&attr, &addr, &size);
            pthread_attr_destroy(&attr);
        }
        if (!addr || here < (uintptr_t)addr || here - (uintptr_t)addr > size) {
            /* Not on the thread's stack as pthreads knows it: assume 1 MiB. */
            addr = (void *)(here - 1024 * 1024);
            size = 1024 * 1024;
        }
        lo = (uintptr_t)addr;
        reserve = size / 8;
        reserve = reserve < STACK_RESERVE_MIN   ? STACK_RESERVE_MIN
                  : reserve > STACK_RESERVE_MAX ? STACK_RESERVE_MAX
                                                : reserve;
    }
    uintptr_t limit = lo + reserve;
    if (here > limit && here - limit > STACK_BUDGET_MAX)
        limit = here - STACK_BUDGET_MAX;
    return limit;
}

whirl_error_t *native_enter(whirl_store_t *store, vmctx_t *vm, native_entry_t entry,
                            slot_t *slots)
{
    struct store_native *n = &store->native;
    jmp_buf jb;
    void *volatile saved = n->trap_jmp;
    volatile uintptr_t saved_fp = n->entry_fp;
    vmctx_t *volatile saved_vm = n->vm;
    sample_link_t *volatile saved_link = store->sample_outer;
    /* Each entry computes its bound: a host function may have switched
     * stacks (a fiber) since the outer one. The bound lives in the entered
     * instance's context (one load at each function entry); the previous
     * value comes back when this activation ends, for the native frames of
     * that instance an outer activation may still have (vmctx.h). */
    volatile uintptr_t saved_limit = vm->stack_limit;
    vm->stack_limit = thread_stack_limit((uintptr_t)__builtin_frame_address(0));
    /* For the guard-fault handler (trap_signal.h): a fault of this
     * thread's guest code inside this memory's reservation is this
     * activation's `memory out of bounds`. */
    const whirl_memory_t *mem = vm->memory0;
#ifdef WHIRL_HAVE_JIT
    if (mem && atomic_load_explicit(&vm->instance->module->native_guarded, memory_order_acquire) &&
        !jit_guard_ok(mem->is64, mem->reserved)) {
        vm->stack_limit = saved_limit;
        return error_trap(WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS,
                          "native code compiled for guard pages cannot run on a memory of %zu "
                          "reserved bytes (it needs %zu): set WHIRL_JIT_GUARD=0",
                          mem->reserved, (size_t)ALLOC_MEMORY_RESERVATION);
    }
#endif
    trap_signal_activation_t act = {.mem_base = mem ? (uintptr_t)mem->base : 0,
                                    .mem_len = mem ? mem->reserved : 0,
                                    .store = store};
    volatile trap_signal_activation_t saved_act = trap_signal_enter(&act);
    if (setjmp(jb)) {
        /* The jump skipped the native frames' unlinking. */
        trap_signal_activation_t restore = saved_act;
        trap_signal_leave(&restore);
        vm->stack_limit = saved_limit;
        n->trap_jmp = saved;
        n->entry_fp = saved_fp;
        n->vm = saved_vm;
        store->sample_outer = saved_link;
        whirl_error_t *err = n->trap_error;
        n->trap_error = NULL;
        return err;
    }
    n->trap_jmp = &jb;
    /* The entry trampoline's frame links to this one: the backtrace's
     * walk of the native frames stops here. */
    n->entry_fp = (uintptr_t)__builtin_frame_address(0);
    n->vm = vm;
    entry(vm, slots);
    trap_signal_activation_t restore = saved_act;
    trap_signal_leave(&restore);
    vm->stack_limit = saved_limit;
    n->trap_jmp = saved;
    n->entry_fp = saved_fp;
    n->vm = saved_vm;
    store->sample_outer = saved_link;
    return NULL;
}

void native_unwind(whirl_store_t *store, whirl_error_t *err)
{
    struct store_native *n = &store->native;
    n->trap_error = err;
    longjmp(*(jmp_buf *)n->trap_jmp, 1);
}

/* ------------------------------------------------------------ modules */

whirl_tier_t engine_tier(const whirl_engine_t *engine)
{
#ifdef WHIRL_HAVE_JIT
    return (whirl_tier_t)ENGINE_KNOB(engine, KNOB_TIER);
#else
    (void)engine;
    return WHIRL_TIER_INTERP;
#endif
}

#ifdef WHIRL_HAVE_JIT
/* Makes the native code of `code` the code of its functions. Functions
 * that already have native code keep it (the auto tier never compiles a
 * function twice, but a .cwasm's code may come first). */
void tier_publish(whirl_module_t *module, const jit_code_t *code)
{
    const wasm_module_t *w = module->wasm;
    for (uint32_t i = 0; i < module->code->nfuncs; i++) {
        uint32_t index = w->nfunc_imports + i;
        void *native = jit_code_native(code, index), *entry = jit_code_entry(code, index);
        compiled_func_t *f = &module->code->funcs[i];
        if (!native || !entry || atomic_load_explicit(&f->native_entry, memory_order_relaxed))
            continue;
        if (jit_code_guarded(code))
            atomic_store_explicit(&module->native_guarded, true, memory_order_release);
        atomic_store_explicit(&f->native, native, memory_order_release);
        atomic_store_explicit(&f->native_entry, entry, memory_order_release);
    }
}
#endif

void tier_module_ready(whirl_module_t *module)
{
#ifdef WHIRL_HAVE_JIT
    if (module->jit) { /* came with native code (a .cwasm) */
        tier_publish(module, module->jit);
        return;
    }
    whirl_tier_t tier = engine_tier(module->engine);
    /* A module loaded without function bodies has nothing to translate
     * and stays interpreted. Serialised modules keep them unless they hold
     * native code (runtime/serialize.c), so cache hits and .cwasm files
     * tier up as compiled modules do. */
    if (tier == WHIRL_TIER_INTERP || !module->wasm->bytes || !module->code->nfuncs)
        return;
    if (tier == WHIRL_TIER_AUTO) {
        tier_auto_module(module);
        return;
    }
    /* Compiled with its object kept, for `whirl compile` and the cache
     * (runtime/native.c); a failure leaves the interpreter running it all. */
    module_compile_native_or_log(module);
    if (module->jit)
        tier_publish(module, module->jit);
#else
    (void)module;
#endif
}

void tier_module_free(whirl_module_t *module)
{
#ifdef WHIRL_HAVE_JIT
    tier_auto_module_free(module);
    jit_code_free(module->jit);
    module->jit = NULL;
    module->native_object = NULL; /* pointed into the code or the image */
    module->native_object_len = 0;
#else
    (void)module;
#endif
}

void tier_engine_free(whirl_engine_t *engine)
{
#ifdef WHIRL_HAVE_JIT
    tier_auto_engine_free(engine);
#else
    (void)engine;
#endif
}

native_entry_t tier_loop_hot(whirl_instance_t *inst, const compiled_func_t *f, uint32_t pc,
                             const void *frame)
{
#ifdef WHIRL_HAVE_JIT
    return tier_auto_loop_hot(inst->module, f, pc, frame);
#else
    (void)inst;
    (void)f;
    (void)pc;
    (void)frame;
    return NULL;
#endif
}

void tier_hot(whirl_instance_t *inst, const compiled_func_t *f)
{
#ifdef WHIRL_HAVE_JIT
    tier_auto_hot(inst->module, f);
#else
    (void)inst;
    (void)f;
#endif
}
