/* Serialised modules (src/runtime/serialize.c): round trips that behave
 * like the original, deterministic output, refusal of files from another
 * version, build or configuration, of plain .wasm and truncated files, and
 * corruption: every byte of a small module and 2,000 sampled bytes of a
 * large one flipped must give an error, never a crash (run under ASan in
 * ./test.sh --sanitize), also when the checksum is made to match so that
 * the structural checks are what stands between the damage and a crash. */
#define _GNU_SOURCE
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "cache_common.h"

/* What a module does, as text: the results of each export of small_wasm,
 * and the trap of boom(0) with its backtrace. */
static void behaviour(whirl_engine_t *e, whirl_module_t *m, char *out, size_t len)
{
    char why[256] = "";
    size_t n = 0;
    n += (size_t)snprintf(out + n, len - n, "fib(20)=%lld apply(1,7)=%lld apply(2,7)=%lld "
                                            "apply(0,10)=%lld load(0)=%lld base=%lld "
                                            "count=%lld boom(5)=%lld ",
                          (long long)call_export(e, m, "fib", 1, 20, 0, NULL, 0),
                          (long long)call_export(e, m, "apply", 2, 1, 7, NULL, 0),
                          (long long)call_export(e, m, "apply", 2, 2, 7, NULL, 0),
                          (long long)call_export(e, m, "apply", 2, 0, 10, NULL, 0),
                          (long long)call_export(e, m, "load", 1, 0, 0, NULL, 0),
                          (long long)call_export(e, m, "base", 0, 0, 0, NULL, 0),
                          (long long)call_export(e, m, "count", 0, 0, 0, NULL, 0),
                          (long long)call_export(e, m, "boom", 1, 5, 0, NULL, 0));
    call_export(e, m, "boom", 1, 0, 0, why, sizeof why);
    snprintf(out + n, len - n, "boom(0): %s", why);
}

static whirl_module_t *roundtrip(whirl_engine_t *e, whirl_module_t *m, uint8_t **bytes,
                                 size_t *len)
{
    whirl_module_t *copy = NULL;
    if (!CHECK_OK(whirl_module_serialize(m, bytes, len)))
        return NULL;
    CHECK(whirl_module_is_serialized(*bytes, *len));
    if (!CHECK_OK(whirl_module_deserialize(e, *bytes, *len, &copy)))
        return NULL;
    return copy;
}

static void test_small_roundtrip(void)
{
    whirl_engine_t *e = test_engine(NULL, false, NULL, NULL);
    whirl_module_t *m = NULL;
    if (!e || !CHECK_OK(whirl_module_new(e, small_wasm, sizeof small_wasm, &m)))
        return;
    CHECK(!whirl_module_from_cache(m));
    uint8_t *a = NULL;
    size_t alen = 0;
    whirl_module_t *copy = roundtrip(e, m, &a, &alen);
    if (copy) {
        char want[1024], got[1024];
        behaviour(e, m, want, sizeof want);
        behaviour(e, copy, got, sizeof got);
        if (strcmp(want, got) != 0)
            fprintf(stderr, "  original:     %s\n  deserialised: %s\n", want, got);
        CHECK(strcmp(want, got) == 0);
        CHECK(strstr(want, "fib(20)=6765 apply(1,7)=49 apply(2,7)=14 apply(0,10)=55 "
                           "load(0)=104 base=42 count=101 boom(5)=5") != NULL);
        CHECK(strstr(got, "unreachable") != NULL);
        /* The same module gives the same bytes, also serialised again from
         * the deserialised copy. */
        uint8_t *b = NULL, *c = NULL;
        size_t blen = 0, clen = 0;
        CHECK_OK(whirl_module_serialize(m, &b, &blen));
        CHECK_OK(whirl_module_serialize(copy, &c, &clen));
        CHECK(b && alen == blen && memcmp(a, b, alen) == 0);
        CHECK(c && alen == clen && memcmp(a, c, alen) == 0);
        free(b);
        free(c);
        /* Imports, exports and the trap backtrace survive. */
        whirl_import_info_t imp;
        CHECK(whirl_module_import_count(copy) == 1 && whirl_module_import(copy, 0, &imp) &&
              imp.kind == WHIRL_EXTERN_GLOBAL && imp.name_len == 1 && imp.name[0] == 'g');
        CHECK(whirl_module_export_count(copy) == whirl_module_export_count(m));
        whirl_store_t *store = whirl_store_new(e, NULL, NULL);
        whirl_val_t gv = {.kind = WHIRL_I32, .of.i32 = 1};
        whirl_extern_t ext = {.kind = WHIRL_EXTERN_GLOBAL};
        whirl_instance_t *inst = NULL;
        CHECK_OK(whirl_global_new(store, &gv, false, &ext.of.global));
        if (CHECK_OK(whirl_instance_new(store, copy, &ext, 1, &inst))) {
            whirl_extern_t f;
            whirl_val_t arg = {.kind = WHIRL_I32, .of.i32 = 0}, res;
            CHECK(whirl_instance_export(inst, "boom", 4, &f));
            whirl_error_t *err = whirl_func_call(store, f.of.func, &arg, 1, &res, 1);
            uint32_t idx = 0;
            const char *name = NULL;
            size_t off = 0;
            CHECK(err && whirl_error_frame_count(err) >= 1 &&
                  whirl_error_frame(err, 0, &idx, &name, &off) && name &&
                  strcmp(name, "boom") == 0 && off > 0);
            whirl_error_delete(err);
        }
        whirl_store_delete(store);
        whirl_module_delete(copy);
    }
    /* whirl_module_new refuses precompiled bytes, and deserialising
     * refuses a plain .wasm, each saying what the file is. */
    whirl_module_t *x = NULL;
    CHECK_ERR(whirl_module_new(e, a, alen, &x), "precompiled module");
    CHECK_ERR(whirl_module_deserialize(e, small_wasm, sizeof small_wasm, &x),
              "WebAssembly binary");
    CHECK_ERR(whirl_module_deserialize(e, (const uint8_t *)"hello", 5, &x), "not a precompiled");
    CHECK_ERR(whirl_module_deserialize(e, a, 0, &x), "not a precompiled");
    CHECK(x == NULL);
    free(a);
    whirl_module_delete(m);
    whirl_engine_delete(e);
}

/* A header from another version, build, format or configuration. */
static void test_refusals(void)
{
    whirl_engine_t *e = test_engine(NULL, false, NULL, NULL);
    whirl_engine_t *dbg = test_engine(NULL, true, NULL, NULL);
    whirl_module_t *m = NULL, *x = NULL;
    uint8_t *a = NULL;
    size_t len = 0;
    if (!e || !dbg || !CHECK_OK(whirl_module_new(e, small_wasm, sizeof small_wasm, &m)) ||
        !CHECK_OK(whirl_module_serialize(m, &a, &len)))
        goto out;
    uint8_t *b = malloc(len + 1);
    memcpy(b, a, len);
    memcpy(b + 16, "0.0.9\0\0\0", 8);
    CHECK_ERR(whirl_module_deserialize(e, b, len, &x), "made by whirl 0.0.9");
    memcpy(b, a, len);
    b[32] ^= 1;
    CHECK_ERR(whirl_module_deserialize(e, b, len, &x), "another build");
    memcpy(b, a, len);
    b[8] = 99;
    CHECK_ERR(whirl_module_deserialize(e, b, len, &x), "format version 99");
    /* Version 2 files carry interpreter handler offsets: refused by name. */
    b[8] = 2;
    CHECK_ERR(whirl_module_deserialize(e, b, len, &x), "format version 2, this whirl reads "
                                                       "version 7: compile it again");
    /* Version 3 files have no native section. */
    b[8] = 3;
    CHECK_ERR(whirl_module_deserialize(e, b, len, &x), "format version 3, this whirl reads "
                                                       "version 7: compile it again");
    /* Version 4 files have either native code or exception handlers, not both. */
    b[8] = 4;
    CHECK_ERR(whirl_module_deserialize(e, b, len, &x), "format version 4, this whirl reads "
                                                       "version 7: compile it again");
    /* Version 5 files have one-byte value types (no typed references). */
    b[8] = 5;
    CHECK_ERR(whirl_module_deserialize(e, b, len, &x), "format version 5, this whirl reads "
                                                       "version 7: compile it again");
    /* Version 6 files keep no function bodies (a loaded module could not
     * tier up). */
    b[8] = 6;
    CHECK_ERR(whirl_module_deserialize(e, b, len, &x), "format version 6, this whirl reads "
                                                       "version 7: compile it again");
    CHECK_ERR(whirl_module_deserialize(dbg, a, len, &x), "debug_info=n");
    memcpy(b, a, len);
    b[len] = 0;
    CHECK_ERR(whirl_module_deserialize(e, b, len + 1, &x), "corrupted");
    /* Every truncation. */
    int refused = 0;
    for (size_t n = 0; n < len; n++) {
        whirl_error_t *err = whirl_module_deserialize(e, a, n, &x);
        refused += err != NULL && x == NULL;
        whirl_error_delete(err);
    }
    CHECK(refused == (int)len);
    free(b);
out:
    free(a);
    whirl_module_delete(m);
    whirl_engine_delete(e);
    whirl_engine_delete(dbg);
}

/* Flips byte `at` of `a` (xor `mask`), optionally fixes the checksum, and
 * deserialises. Returns 1 if refused, 0 if it loaded (possible only with
 * the checksum fixed: code words are not checked). */
static int try_flip(whirl_engine_t *e, const uint8_t *a, size_t len, uint8_t *scratch, size_t at,
                    uint8_t mask, bool fix_checksum, const char *expect)
{
    memcpy(scratch, a, len);
    scratch[at] ^= mask;
    if (fix_checksum && at >= 64) {
        uint64_t sum = XXH3_64bits(scratch + 64, len - 64);
        memcpy(scratch + 56, &sum, 8);
    }
    whirl_module_t *x = NULL;
    whirl_error_t *err = whirl_module_deserialize(e, scratch, len, &x);
    if (!err) {
        whirl_module_delete(x);
        return 0;
    }
    if (expect && !strstr(whirl_error_message(err), expect) && at >= 64) {
        fprintf(stderr, "  flip at %zu: unexpected error: %s\n", at, whirl_error_message(err));
        failed++;
    }
    whirl_error_delete(err);
    return 1;
}

static void test_corruption(void)
{
    whirl_engine_t *e = test_engine(NULL, false, NULL, NULL);
    whirl_module_t *m = NULL;
    uint8_t *a = NULL;
    size_t len = 0;
    if (!e || !CHECK_OK(whirl_module_new(e, small_wasm, sizeof small_wasm, &m)) ||
        !CHECK_OK(whirl_module_serialize(m, &a, &len)))
        goto out;
    uint8_t *scratch = malloc(len);
    /* Every byte, two ways: refused, by the checksum past the header. */
    int refused = 0;
    for (size_t i = 0; i < len; i++) {
        refused += try_flip(e, a, len, scratch, i, 0x01, false, "checksum");
        refused += try_flip(e, a, len, scratch, i, 0xff, false, "checksum");
    }
    CHECK(refused == (int)(2 * len));
    /* With the checksum made to match, nothing may crash; whatever is not
     * code must still be caught. */
    int caught = 0;
    for (size_t i = 64; i < len; i++)
        caught += try_flip(e, a, len, scratch, i, 0x80, true, NULL);
    printf("small module: %zu bytes, %d flips refused; checksum fixed: %d of %zu refused\n",
           len, refused, caught, len - 64);
    CHECK(caught > 0);
    free(scratch);
out:
    free(a);
    whirl_module_delete(m);
    whirl_engine_delete(e);
}

/* The function bodies a file keeps (format 7: what the LLVM tier
 * translates when a loaded module tiers up). Damaged with the checksum
 * made to match, they are refused by name rather than handed on. */
static void test_bodies(void)
{
    whirl_engine_t *e = test_engine(NULL, false, NULL, NULL);
    whirl_module_t *m = NULL;
    uint8_t *a = NULL;
    size_t len = 0;
    if (!e || !CHECK_OK(whirl_module_new(e, small_wasm, sizeof small_wasm, &m)) ||
        !CHECK_OK(whirl_module_serialize(m, &a, &len)))
        goto out;
    /* The bodies are the binary's first bytes through its code section,
     * just before the native part (here: none, one zero byte). */
    static const uint8_t magic[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    const uint8_t *at = memmem(a + 64, len - 64, magic, sizeof magic);
    CHECK(at != NULL && a[len - 1] == 0 && a[len - 2] == 0x0b);
    if (!at)
        goto out;
    size_t kept = len - 1 - (size_t)(at - a);
    CHECK(kept > 8 && kept <= sizeof small_wasm && memcmp(at, small_wasm, kept) == 0);
    uint8_t *scratch = malloc(len);
    CHECK(try_flip(e, a, len, scratch, (size_t)(at - a), 0x01, true,
                   "function bodies 0: not the start of a WebAssembly binary"));
    /* The last function's `end`. */
    CHECK(try_flip(e, a, len, scratch, len - 2, 0x0b ^ 0x01, true, "do not fit"));
    free(scratch);
out:
    free(a);
    whirl_module_delete(m);
    whirl_engine_delete(e);
}

/* A large module: round trip, then 2,000 sampled flips (and 500 more with
 * the checksum fixed). */
static void test_large(void)
{
    whirl_engine_t *e = test_engine(NULL, false, NULL, NULL);
    size_t wlen;
    uint8_t *wasm = make_module(3000, 7, &wlen);
    whirl_module_t *m = NULL, *copy = NULL;
    uint8_t *a = NULL;
    size_t len = 0;
    if (!e || !CHECK_OK(whirl_module_new(e, wasm, wlen, &m)))
        goto out;
    copy = roundtrip(e, m, &a, &len);
    if (!copy)
        goto out;
    int64_t want = call_export(e, m, "last", 1, 3, 0, NULL, 0);
    int64_t got = call_export(e, copy, "last", 1, 3, 0, NULL, 0);
    CHECK(want != INT64_MIN && want == got);
    uint8_t *scratch = malloc(len);
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    int refused = 0, samples = 2000, fixed = 500, caught = 0;
    for (int i = 0; i < samples; i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        size_t at = (size_t)(rng >> 33) % len;
        refused += try_flip(e, a, len, scratch, at, (uint8_t)(1u << (rng >> 61)), false,
                            "checksum");
    }
    for (int i = 0; i < fixed; i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        size_t at = 64 + (size_t)(rng >> 33) % (len - 64);
        caught += try_flip(e, a, len, scratch, at, 0xff, true, NULL);
    }
    printf("large module: %zu wasm bytes, %zu serialised; %d of %d flips refused; checksum "
           "fixed: %d of %d refused\n",
           wlen, len, refused, samples, caught, fixed);
    CHECK(refused == samples);
    free(scratch);
out:
    free(a);
    free(wasm);
    whirl_module_delete(copy);
    whirl_module_delete(m);
    whirl_engine_delete(e);
}

/* whirl_module_deserialize_file, including a file that is not there. */
static void test_file(void)
{
    whirl_engine_t *e = test_engine(NULL, false, NULL, NULL);
    char dir[] = "/tmp/whirl-test-cache-XXXXXX";
    whirl_module_t *m = NULL, *x = NULL;
    uint8_t *a = NULL;
    size_t len = 0;
    if (!e || !mkdtemp(dir) || !CHECK_OK(whirl_module_new(e, small_wasm, sizeof small_wasm, &m)) ||
        !CHECK_OK(whirl_module_serialize(m, &a, &len)))
        goto out;
    char path[256];
    snprintf(path, sizeof path, "%s/m.cwasm", dir);
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(a, 1, len, f) == len);
    if (f)
        fclose(f);
    if (CHECK_OK(whirl_module_deserialize_file(e, path, &x))) {
        CHECK(call_export(e, x, "fib", 1, 10, 0, NULL, 0) == 55);
        whirl_module_delete(x);
    }
    f = fopen(path, "wb");
    if (f) {
        fwrite(a, 1, len / 2, f);
        fclose(f);
    }
    CHECK_ERR(whirl_module_deserialize_file(e, path, &x), "truncated");
    remove(path);
    CHECK_ERR(whirl_module_deserialize_file(e, path, &x), "No such file");
    rmdir(dir);
out:
    free(a);
    whirl_module_delete(m);
    whirl_engine_delete(e);
}

int main(void)
{
    test_small_roundtrip();
    test_refusals();
    test_corruption();
    test_bodies();
    test_large();
    test_file();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
