/* Serialised modules (serialize.c) and the pieces of module.c and the
 * compilation cache (module_cache.c) that build on them. Private to the engine.
 *
 * A serialised module is a 64-byte header followed by a payload:
 *
 *   0  magic "\x89WHIRLC\n"      (never "\0asm": a .wasm is told apart)
 *   8  u32 format version         (SERIAL_FORMAT_VERSION)
 *  12  u32 header size            (64)
 *  16  char[16] whirl version     (WHIRL_VERSION, NUL-padded)
 *  32  u64 build fingerprint      (serial_build_fingerprint)
 *  40  u32 code flags             (config knobs that change the code)
 *  44  u32 reserved, 0
 *  48  u64 payload length
 *  56  u64 XXH3-64 of the payload
 *
 * Everything is little-endian (the fingerprint covers the byte order, so a
 * big-endian build refuses the files of a little-endian one). The payload
 * holds the decoded module and the compiled code (which names functions
 * and types by index, so it needs no patching); serialize.c describes it. Loading never
 * decodes, validates or compiles again. */
#ifndef WHIRL_RUNTIME_SERIALIZE_H
#define WHIRL_RUNTIME_SERIALIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cache/image.h"
#include "runtime/runtime.h"

#define SERIAL_MAGIC "\x89WHIRLC\n"
#define SERIAL_MAGIC_LEN 8
#define SERIAL_HEADER_SIZE 64
/* 7: function bodies (in the file, or a cache entry's trailer), loop
 *    entries and the tail-call flag: a loaded module tiers up under auto.
 * 6: 32-bit value types with canonical type indices (typed references).
 * 5: exception handlers (tags, handler tables) and native code together.
 * 4: native code (an object file) may follow the interpreter's code; or,
 *    on the exception-handling branch, handler tables (no native code).
 * 3: code words start with op numbers (2: interpreter handler offsets). */
#define SERIAL_FORMAT_VERSION 7u

/* Code flags: the knobs of engine->config that change what the compiler
 * emits. A file compiled under other flags is refused. */
#define SERIAL_FLAG_DEBUG_INFO 1u
/* Bits from here: the WASM_FEATURE_* the engine has switched off. */
#define SERIAL_FLAG_FEATURES_OFF_SHIFT 8

/* ---- serialize.c ---- */

/* Hash of everything about this build that the code words depend on: the
 * instruction set (op numbers, names and lengths), the layout of the
 * structures and the byte order. Not the interpreter's machine code: code
 * holds op numbers. Computed once. */
uint64_t serial_build_fingerprint(const whirl_engine_t *engine);
/* SERIAL_FLAG_* for the engine's configuration. */
uint32_t serial_code_flags(const whirl_engine_t *engine);

/* Serialises `module` into a malloc'd buffer. A digest of the original
 * binary (module_source_hash, or computed from the module's bytes) is
 * stored in the payload to name its source. `bodies`: keep the function
 * bodies in the file if the module has them and no native code (false for
 * cache entries, which keep the whole binary beside the payload). */
whirl_error_t *serial_write(const whirl_module_t *module, bool bodies, uint8_t **out,
                            size_t *out_len);

/* Checks the header of `len` bytes against this build and engine; fills
 * *payload_len. Errors say what differs. */
whirl_error_t *serial_check_header(const whirl_engine_t *engine, const uint8_t *bytes,
                                   size_t len, uint64_t *payload_len);

/* Loads a serialised module whose whole file (header included) is in
 * image->file, which the module takes over on success and which is freed
 * on failure. If `expect_source` is not NULL, the payload's source hash must
 * equal it. A file without function bodies takes them from image->source
 * when set (the module's binary: a cache entry's trailer). */
whirl_error_t *serial_load(whirl_engine_t *engine, module_image_t *image,
                           const uint8_t expect_source[32], whirl_module_t **out);

/* ---- module.c ---- */

/* A module from its parts (taking them over, or freeing them on failure):
 * the decoded module, its compiled code, and the image they point into
 * (may be NULL). `source_hash` may be NULL. */
whirl_error_t *module_assemble(whirl_engine_t *engine, wasm_module_t *wasm,
                               compiled_module_t *code, module_image_t *image,
                               const uint8_t source_hash[32], whirl_module_t **out);
/* Decodes, validates and compiles, bypassing the cache. */
whirl_error_t *module_compile(whirl_engine_t *engine, const uint8_t *wasm, size_t len,
                              whirl_module_t **out);
/* Digest of the original binary (cache_source_digest), if known (all zeros
 * otherwise). */
const uint8_t *module_source_hash(const whirl_module_t *module);
void module_set_source_hash(whirl_module_t *module, const uint8_t hash[32]);
void module_set_from_cache(whirl_module_t *module);
/* Whether the module's native code came linked from its serialised form
 * (not compiled since it was loaded). */
bool module_native_from_image(const whirl_module_t *module);

/* ---- native.c ---- */

/* Whether modules of `engine` get native code where they can (tier auto or
 * jit, in a build with the LLVM tier). */
bool module_native_wanted(const whirl_engine_t *engine);
/* jit_native_key(), or NULL without the tier. malloc'd. */
char *module_native_key(void);
/* Compiles `module` (which must still have its function bodies) to native
 * code, keeping the object; sets module->jit. */
whirl_error_t *module_compile_native(whirl_module_t *module);
/* The same, for tier=jit module creation: a failure is logged (a warning)
 * and the module stays interpreted. */
void module_compile_native_or_log(whirl_module_t *module);
/* Links native code stored for `wasm` after checking its key (*out: the
 * code, for module_assemble through image->native). The object must live
 * as long as the module (its image). Errors name a key mismatch. Without
 * the tier: nothing, no error. */
whirl_error_t *module_link_native(const whirl_engine_t *engine, const wasm_module_t *wasm,
                                  const char *key, size_t key_len, const uint8_t *object,
                                  size_t len, struct jit_code **out);
void module_native_code_free(struct jit_code *code);

/* ---- module_cache.c ---- */

/* whirl_module_new through the cache directory engine->config.cache_path
 * (src/cache stores the bytes): a hit loads the entry, a miss (or an
 * invalid entry) compiles and stores one. Cache trouble (unwritable
 * directory, full disk) is logged and the module compiled as if there were
 * no cache. */
whirl_error_t *cache_module_new(whirl_engine_t *engine, const uint8_t *wasm, size_t len,
                                whirl_module_t **out);

/* Little-endian fields of a serialised file, at any alignment. */
static inline uint32_t serial_rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint64_t serial_rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

#endif
