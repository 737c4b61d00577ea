/* A module's native code (the LLVM tier) as the runtime keeps, stores and
 * loads it: compiled when the module is created under tier=jit, written
 * into .cwasm files and cache entries as a relocatable object with its key
 * (serialize.c), and linked again from there without compiling.
 *
 * In a build without the tier (-DWHIRL_JIT=OFF) modules have no native
 * code, and the native part of a .cwasm is skipped: such a file still holds
 * the complete interpreter code, which is what that build runs. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/internal.h"
#include "runtime/serialize.h"
#ifdef WHIRL_HAVE_JIT
#include "jit/jit.h"
#endif

bool module_native_wanted(const whirl_engine_t *engine)
{
#ifdef WHIRL_HAVE_JIT
    return ENGINE_KNOB(engine, KNOB_TIER) != WHIRL_TIER_INTERP;
#else
    (void)engine;
    return false;
#endif
}

char *module_native_key(void)
{
#ifdef WHIRL_HAVE_JIT
    return jit_native_key();
#else
    return NULL;
#endif
}

#ifdef WHIRL_HAVE_JIT
/* How many parts a whole-module compile may use (jit_parts.c): the
 * compile_threads knob, by default one per core up to four. Calls between
 * parts use the C convention, so a module with tail calls is one part. */
static unsigned compile_parts(const whirl_module_t *module)
{
    if (module->code->tail_calls)
        return 1;
    uint64_t threads = ENGINE_KNOB(module->engine, KNOB_COMPILE_THREADS);
    if (threads == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cpus < 1 ? 1 : cpus > 4 ? 4 : (uint64_t)cpus;
    }
    return (unsigned)threads;
}
#endif

whirl_error_t *module_compile_native(whirl_module_t *module)
{
#ifdef WHIRL_HAVE_JIT
    if (module->jit)
        return NULL;
    if (!module->wasm->bytes)
        return error_fmt("native code: the module has no function bodies to compile (it was "
                         "loaded from a precompiled file that kept none)");
    /* The object is kept: serialising the module or storing it in the cache
     * writes it as is, and it costs about the code's size again. */
    jit_options_t opt = {.keep_object = true,
                         .perfmap = ENGINE_KNOB(module->engine, KNOB_PERFMAP) != 0,
                         .jitdump = ENGINE_KNOB(module->engine, KNOB_JITDUMP) != 0,
                         .debug_info = ENGINE_KNOB(module->engine, KNOB_DEBUG_INFO) != 0,
                         .guard_memory = jit_guard_enabled(),
                         .parts = compile_parts(module)};
    jit_code_t *code = NULL;
    whirl_error_t *err = jit_compile(module->wasm, &opt, &code);
    if (err)
        return err;
    module->jit = code;
    module->native_object = jit_code_object(code, &module->native_object_len);
    return NULL;
#else
    (void)module;
    return error_fmt("native code: whirl was built without the LLVM tier (-DWHIRL_JIT=OFF)");
#endif
}

void module_compile_native_or_log(whirl_module_t *module)
{
    whirl_error_t *err = module_compile_native(module);
    if (err) {
        /* The module is valid and the interpreter runs all of it: a host
         * does not lose a module because LLVM failed on it. */
        engine_log(module->engine, WHIRL_LOG_WARNING, "native_compile_failed",
                   "reason=\"%s\" (the module is interpreted)", whirl_error_message(err));
        whirl_error_delete(err);
    }
}

whirl_error_t *module_link_native(const whirl_engine_t *engine, const wasm_module_t *wasm,
                                  const char *key, size_t key_len, const uint8_t *object,
                                  size_t len, struct jit_code **out)
{
    *out = NULL;
#ifdef WHIRL_HAVE_JIT
    whirl_error_t *err = jit_native_key_check(key, key_len);
    if (err)
        return err;
    /* The key matched, so the object was made with this process's memory
     * strategy (jit_native_key names it). */
    jit_options_t opt = {.perfmap = ENGINE_KNOB(engine, KNOB_PERFMAP) != 0,
                         .jitdump = ENGINE_KNOB(engine, KNOB_JITDUMP) != 0,
                         .debug_info = ENGINE_KNOB(engine, KNOB_DEBUG_INFO) != 0,
                         .guard_memory = jit_guard_enabled()};
    return jit_code_from_object(wasm, object, len, &opt, out);
#else
    (void)engine, (void)wasm, (void)key, (void)key_len, (void)object, (void)len;
    return NULL;
#endif
}

void module_native_code_free(struct jit_code *code)
{
#ifdef WHIRL_HAVE_JIT
    jit_code_free(code);
#else
    (void)code;
#endif
}
