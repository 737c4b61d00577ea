/* whirl_module_new through the compilation cache: the runtime's side of
 * src/cache, which only stores bytes under keys. Here a key is made from
 * everything a serialised module depends on, a hit is loaded with
 * serial_load, and a miss is compiled (with native code when the engine
 * compiles everything: tier=jit) and stored.
 *
 * Native code in entries: an entry holds whatever the module had when it
 * was stored. The key includes the native code key (CPU, features, LLVM
 * version, whirl build) in builds with the LLVM tier, so machines sharing a
 * cache directory do not replace each other's entries. A hit without
 * native code under tier=jit compiles it from the entry's function bodies
 * (tier_module_ready, at load) and stores the entry again.
 *
 * Function bodies: an entry's payload leaves them out, since the entry
 * keeps the module's whole binary after it (cache.c); serial_load takes
 * them from there, so a hit tiers up under auto as a compiled module does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "runtime/internal.h"
#include "runtime/serialize.h"

static void log_to_engine(void *ctx, whirl_log_level_t level, const char *event,
                          const char *detail)
{
    engine_log(ctx, level, event, "%s", detail);
}

static void module_cache_key(const whirl_engine_t *engine, const uint8_t *wasm, size_t len,
                             char hex[CACHE_KEY_HEX + 1])
{
    uint8_t head[64];
    memset(head, 0, sizeof head);
    static const char tag[] = "whirl cache key";
    memcpy(head, tag, sizeof tag);
    uint32_t format = SERIAL_FORMAT_VERSION, flags = serial_code_flags(engine);
    uint64_t fp = serial_build_fingerprint(engine);
    memcpy(head + 16, &format, 4);
    memcpy(head + 20, &flags, 4);
    memcpy(head + 24, &fp, 8);
    strncpy((char *)head + 32, WHIRL_VERSION, 31);
    char *native = module_native_key();
    size_t nlen = native ? strlen(native) : 0;
    uint8_t *salt = malloc(sizeof head + nlen);
    if (salt) {
        memcpy(salt, head, sizeof head);
        if (nlen)
            memcpy(salt + sizeof head, native, nlen);
        cache_key(salt, sizeof head + nlen, wasm, len, hex);
    } else {
        cache_key(head, sizeof head, wasm, len, hex); /* still a valid key */
    }
    free(salt);
    free(native);
}

static void store(whirl_engine_t *engine, const char *dir, const char *key,
                  const whirl_module_t *module, const uint8_t *wasm, size_t len)
{
    cache_log_t log = {log_to_engine, engine};
    uint8_t *data;
    size_t n;
    whirl_error_t *err = serial_write(module, false, &data, &n);
    if (err) {
        engine_log(engine, WHIRL_LOG_WARNING, "cache_write_failed", "dir=\"%s\" reason=\"%s\"",
                   dir, whirl_error_message(err));
        whirl_error_delete(err);
        return;
    }
    cache_store(dir, key, data, n, wasm, len, ENGINE_KNOB(engine, KNOB_CACHE_MAX_SIZE), &log);
}

whirl_error_t *cache_module_new(whirl_engine_t *engine, const uint8_t *wasm, size_t len,
                                whirl_module_t **out)
{
    const char *dir = engine->config.cache_path;
    static const uint8_t empty[1];
    const uint8_t *bytes = len ? wasm : empty;
    char key[CACHE_KEY_HEX + 1];
    module_cache_key(engine, bytes, len, key);
    bool all_native = ENGINE_KNOB(engine, KNOB_TIER) == WHIRL_TIER_JIT;

    module_image_t image;
    whirl_error_t *why = NULL;
    int found = cache_lookup(dir, key, bytes, len, &image, &why);
    if (found == 1) {
        why = serial_load(engine, &image, NULL, out); /* frees the image on failure */
        if (!why) {
            module_set_from_cache(*out);
            cache_count(dir, CACHE_STAT_HITS, 1);
            if (!all_native || module_native_from_image(*out))
                return NULL;
            /* Stored without native code (under auto or interp): loading
             * compiled it from the bodies; keep it for the next hit. A
             * failure was logged, and the interpreter runs the module. */
            if ((*out)->jit)
                store(engine, dir, key, *out, bytes, len);
            return NULL;
        } else {
            found = -1;
        }
    }
    if (found < 0) {
        engine_log(engine, WHIRL_LOG_WARNING, "cache_entry_invalid",
                   "path=\"%s/%s.cwasm\" reason=\"%s\"", dir, key, whirl_error_message(why));
        whirl_error_delete(why);
        cache_count(dir, CACHE_STAT_INVALID, 1);
    }
    whirl_error_t *err = module_compile(engine, wasm, len, out);
    if (err)
        return err; /* invalid modules are not cached: the error is cheap */
    /* tier=jit: module_assemble compiled its native code (tier.c). */
    uint8_t source[32];
    cache_source_digest(bytes, len, source);
    module_set_source_hash(*out, source);
    store(engine, dir, key, *out, bytes, len);
    /* After storing, which made the directory (its counters live there). */
    if (found != 1)
        cache_count(dir, CACHE_STAT_MISSES, 1);
    return NULL;
}
