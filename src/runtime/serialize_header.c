/* The header of serialised modules (serialize.h describes it): the build
 * fingerprint and code flags a file must share with the engine loading it,
 * and the check of a header against them, with errors that say what
 * differs. serialize.c writes and reads the payload. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <xxhash.h>

#include "compile/ops.h"
#include "exec/exec.h"
#include "runtime/internal.h"
#include "runtime/serialize.h"
#include "wasm/opcodes.h"

/* ---- fingerprint ---- */

static const char *const iop_names[IOP_COUNT] = {
#define IOP_X(name, words) [IOP_##name] = #name,
    IOPS
#undef IOP_X
};

static uint64_t fingerprint;
static pthread_once_t fingerprint_once = PTHREAD_ONCE_INIT;

static void compute_fingerprint(void)
{
    /* Chained one-shot hashes: nothing to allocate, so nothing can fail. */
    static const char tag[] = "whirl build fingerprint " WHIRL_VERSION;
    uint64_t h = XXH3_64bits(tag, sizeof tag);
    uint32_t facts[] = {
        SERIAL_FORMAT_VERSION,
        0x01020304u, /* byte order, as stored */
        (uint32_t)sizeof(void *),
        (uint32_t)sizeof(slot_t),
        (uint32_t)sizeof(code_word_t),
        (uint32_t)sizeof(code_srcmap_t),
        (uint32_t)IOP_COUNT,
        (uint32_t)WASM_OP_COUNT,
        /* Native code loads the instance context at fixed offsets. */
        (uint32_t)VMCTX_SIZE,
    };
    h = XXH3_64bits_withSeed(facts, sizeof facts, h);
    /* Code words start with op numbers: the numbering (names in order) and
     * each op's length are what a file and this build must agree on. The
     * interpreter's handler addresses are not in the code, so a rebuilt
     * interpreter reads the same files. */
    for (int i = 0; i < IOP_COUNT; i++) {
        h = XXH3_64bits_withSeed(iop_names[i], strlen(iop_names[i]) + 1, h);
        h = XXH3_64bits_withSeed(&iop_words[i], 1, h);
    }
    fingerprint = h;
}

uint64_t serial_build_fingerprint(const whirl_engine_t *engine)
{
    (void)engine;
    pthread_once(&fingerprint_once, compute_fingerprint);
    return fingerprint;
}

uint32_t serial_code_flags(const whirl_engine_t *engine)
{
    /* A switched-off feature refuses modules a full engine accepts, so the
     * features shape the result as debug info does. */
    uint32_t off = WASM_FEATURES_ALL & ~engine_wasm_features(engine);
    return (ENGINE_KNOB(engine, KNOB_DEBUG_INFO) ? SERIAL_FLAG_DEBUG_INFO : 0) |
           off << SERIAL_FLAG_FEATURES_OFF_SHIFT;
}

/* ---- header ---- */

whirl_error_t *serial_check_header(const whirl_engine_t *engine, const uint8_t *b, size_t len,
                                   uint64_t *payload_len)
{
    if (len >= 4 && memcmp(b, "\0asm", 4) == 0)
        return error_fmt("not a precompiled module: this is a WebAssembly binary (.wasm); "
                         "load it with whirl_module_new, or precompile it with `whirl "
                         "compile`");
    if (len < SERIAL_MAGIC_LEN || memcmp(b, SERIAL_MAGIC, SERIAL_MAGIC_LEN) != 0)
        return error_fmt("not a precompiled whirl module (no \\x89WHIRLC magic at the start)");
    if (len < SERIAL_HEADER_SIZE)
        return error_fmt("truncated precompiled module: %zu bytes, less than its %u-byte header",
                         len, SERIAL_HEADER_SIZE);
    uint32_t format = serial_rd32(b + 8);
    if (format != SERIAL_FORMAT_VERSION || serial_rd32(b + 12) != SERIAL_HEADER_SIZE)
        return error_fmt("precompiled module has format version %u, this whirl reads version "
                         "%u: compile it again",
                         format, SERIAL_FORMAT_VERSION);
    char version[17] = {0}, want_version[16] = {0};
    memcpy(version, b + 16, 16);
    memcpy(want_version, WHIRL_VERSION, sizeof WHIRL_VERSION < 16 ? sizeof WHIRL_VERSION : 15);
    for (int i = 0; i < 16; i++)
        if (version[i] && (version[i] < 0x20 || version[i] > 0x7e))
            version[i] = '?';
    /* All 16 bytes, padding included: nothing in the header goes unchecked. */
    if (memcmp(b + 16, want_version, 16) != 0 && strcmp(version, WHIRL_VERSION) == 0)
        return error_fmt("corrupted precompiled module: bytes after the version string");
    if (memcmp(b + 16, want_version, 16) != 0)
        return error_fmt("precompiled module was made by whirl %s, this is whirl %s: compile "
                         "it again",
                         version, WHIRL_VERSION);
    if (serial_rd64(b + 32) != serial_build_fingerprint(engine))
        return error_fmt("precompiled module was made by another build of whirl %s (its "
                         "instruction set or data layout differs): compile it again",
                         WHIRL_VERSION);
    if (serial_rd32(b + 44) != 0)
        return error_fmt("corrupted precompiled module: reserved header field is not zero");
    uint32_t flags = serial_rd32(b + 40), want = serial_code_flags(engine);
    if ((flags ^ want) >> SERIAL_FLAG_FEATURES_OFF_SHIFT)
        return error_fmt("precompiled module was compiled with other WebAssembly features "
                         "switched off (mask 0x%x, this engine 0x%x): compile it again with "
                         "this configuration",
                         flags >> SERIAL_FLAG_FEATURES_OFF_SHIFT,
                         want >> SERIAL_FLAG_FEATURES_OFF_SHIFT);
    if (flags != want)
        return error_fmt("precompiled module was compiled with debug_info=%s, this engine has "
                         "debug_info=%s: compile it again with this configuration",
                         flags & SERIAL_FLAG_DEBUG_INFO ? "y" : "n",
                         want & SERIAL_FLAG_DEBUG_INFO ? "y" : "n");
    uint64_t plen = serial_rd64(b + 48);
    if (plen > len - SERIAL_HEADER_SIZE)
        return error_fmt("truncated precompiled module: %zu bytes, its header says %llu",
                         len, (unsigned long long)plen + SERIAL_HEADER_SIZE);
    if (plen < len - SERIAL_HEADER_SIZE)
        return error_fmt("corrupted precompiled module: %zu bytes, its header says %llu",
                         len, (unsigned long long)plen + SERIAL_HEADER_SIZE);
    *payload_len = plen;
    return NULL;
}
