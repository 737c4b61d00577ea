/* The native part of a .cwasm (format 4) in both builds. A file is given a
 * native section by hand (a key and bytes that are no object), its checksum
 * fixed:
 *   - without the LLVM tier (-DWHIRL_JIT=OFF) the section is skipped and
 *     the module runs in the interpreter: the file still holds complete
 *     interpreter code, which is all that build can run;
 *   - with it, the key is checked before anything is linked, so the file is
 *     refused naming the problem; under tier=interp it loads (the section
 *     is skipped there too);
 *   - a section running past the payload is refused as corrupted in both.
 * Prints "N passed, M failed". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "whirl.h"

/* (module (func (export "answer") (result i32) i32.const 42)) */
static const uint8_t wasm[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05,
                               0x01, 0x60, 0x00, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00, 0x07,
                               0x0a, 0x01, 0x06, 'a',  'n',  's',  'w',  'e',  'r',  0x00,
                               0x00, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x2a, 0x0b};

static unsigned passed, failed;

static void check(bool ok, const char *what, const whirl_error_t *err)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    printf("FAIL: %s%s%s\n", what, err ? ": " : "", err ? whirl_error_message(err) : "");
}

/* `file` (ending with the u8 0 of "no native code") with a native section
 * of `key` and `object` instead; `object_len_field` is what the section
 * claims. malloc'd. */
static uint8_t *with_native(const uint8_t *file, size_t len, const char *key, const char *object,
                            uint64_t object_len_field, size_t *out_len)
{
    size_t cap = len + strlen(key) + strlen(object) + 64;
    uint8_t *b = calloc(1, cap);
    size_t n = len - 1;
    memcpy(b, file, n);
    b[n++] = 1;
    uint32_t klen = (uint32_t)strlen(key);
    memcpy(b + n, &klen, 4);
    n += 4;
    memcpy(b + n, key, klen + 1);
    n += klen + 1;
    memcpy(b + n, &object_len_field, 8);
    n += 8;
    while (n % 16)
        b[n++] = 0;
    memcpy(b + n, object, strlen(object));
    n += strlen(object);
    uint64_t payload = n - 64;
    memcpy(b + 48, &payload, 8);
    uint64_t sum = XXH3_64bits(b + 64, payload);
    memcpy(b + 56, &sum, 8);
    *out_len = n;
    return b;
}

static whirl_engine_t *engine_tier(const char *tier)
{
    whirl_config_t *config = whirl_config_new();
    whirl_engine_t *engine = NULL;
    whirl_error_t *err = whirl_config_set(config, "tier", tier);
    if (!err)
        err = whirl_engine_new(config, &engine);
    else
        whirl_config_delete(config);
    check(!err, "engine", err);
    whirl_error_delete(err);
    return engine;
}

static bool answers(whirl_engine_t *engine, whirl_module_t *module)
{
    whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
    whirl_instance_t *inst = NULL;
    whirl_error_t *err = whirl_instance_new(store, module, NULL, 0, &inst);
    whirl_extern_t ext;
    whirl_val_t res = {0};
    if (!err && whirl_instance_export(inst, "answer", 6, &ext))
        err = whirl_func_call(store, ext.of.func, NULL, 0, &res, 1);
    bool ok = !err && res.of.i32 == 42;
    whirl_error_delete(err);
    whirl_store_delete(store);
    return ok;
}

int main(void)
{
    whirl_engine_t *interp = engine_tier("interp");
    whirl_engine_t *dflt = engine_tier("auto");
    whirl_module_t *module = NULL;
    uint8_t *file = NULL;
    size_t len = 0;
    whirl_error_t *err = whirl_module_new(interp, wasm, sizeof wasm, &module);
    if (!err)
        err = whirl_module_serialize(module, &file, &len);
    check(!err && len > 64 && file[len - 1] == 0, "serialised without native code", err);
    whirl_error_delete(err);
    whirl_module_delete(module);
    if (!file) {
        printf("%u passed, %u failed\n", passed, failed);
        return 1;
    }

    size_t nlen;
    const char *object = "not an object file, and never linked";
    uint8_t *native = with_native(file, len, "some\nother\nmachine", object, strlen(object), &nlen);
    module = NULL;
    err = whirl_module_deserialize(dflt, native, nlen, &module);
#ifdef WHIRL_HAVE_JIT
    check(err && strstr(whirl_error_message(err), "malformed native code key"),
          "with the tier: a foreign key is refused before linking", err);
#else
    check(!err && answers(dflt, module), "without the tier: native code skipped, interpreted",
          err);
#endif
    whirl_error_delete(err);
    whirl_module_delete(module);

    module = NULL;
    err = whirl_module_deserialize(interp, native, nlen, &module);
    check(!err && answers(interp, module), "tier=interp: native code skipped, interpreted", err);
    whirl_error_delete(err);
    whirl_module_delete(module);
    free(native);

    /* A section claiming more bytes than there are. */
    native = with_native(file, len, "k", object, 1u << 30, &nlen);
    module = NULL;
    err = whirl_module_deserialize(interp, native, nlen, &module);
    check(err && strstr(whirl_error_message(err), "corrupted precompiled module: native code"),
          "an overlong native section is refused", err);
    whirl_error_delete(err);
    whirl_module_delete(module);
    free(native);

    free(file);
    whirl_engine_delete(interp);
    whirl_engine_delete(dflt);
    printf("%u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
