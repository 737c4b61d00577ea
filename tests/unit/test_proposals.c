/* Modules that use WebAssembly proposals whirl does not implement are
 * refused with a message naming the proposal and the byte offset, not
 * "illegal opcode" or "malformed section id" (src/wasm/proposals.c). Where
 * the same bytes are a 2.0 malformation the spec tests expect with another
 * message, that message is kept. One small hand-written binary per case.
 * The features whirl implements are switched off here
 * (whirl_config_feature_set), which must give the same refusals; a second
 * engine with the defaults accepts the cases marked `implemented`.
 * Prints "N passed, M failed". */
#include <stdio.h>
#include <string.h>

#include "whirl.h"

static int passed, failed;

#define HEADER "\x00\x61\x73\x6d\x01\x00\x00\x00"
/* type 0 = () -> (); one function of type 0 */
#define TYPE_FUNC "\x01\x04\x01\x60\x00\x00" "\x03\x02\x01\x00"
#define MEMORY1 "\x05\x03\x01\x00\x01"

typedef struct {
    const char *what;
    const char *bytes;
    size_t len;
    const char *want;       /* must appear in the message */
    const char *want_too;   /* and this, if not NULL */
    bool offset;            /* the message gives a byte offset */
    bool proposal;          /* says "not supported" (false: a plain 2.0 error) */
    bool implemented;       /* valid with the default features */
} case_t;

#define CASE(what, lit, want, want_too, offset, proposal) \
    {what, lit, sizeof(lit) - 1, want, want_too, offset, proposal, false}
#define ZERO16 "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
#define IMPLEMENTED(what, lit, want, want_too, offset, proposal) \
    {what, lit, sizeof(lit) - 1, want, want_too, offset, proposal, true}

static const case_t cases[] = {
    /* Instructions, in a body of function 0. */
    CASE("return_call", HEADER TYPE_FUNC "\x0a\x06\x01\x04\x00\x12\x00\x0b",
         "tail calls (`return_call`) are not supported", NULL, true, true),
    CASE("return_call_indirect", HEADER TYPE_FUNC "\x0a\x07\x01\x05\x00\x13\x00\x00\x0b",
         "tail calls (`return_call_indirect`)", NULL, true, true),
    CASE("return_call_ref", HEADER TYPE_FUNC "\x0a\x06\x01\x04\x00\x15\x00\x0b",
         "tail calls (`return_call_ref`)", NULL, true, true),
    CASE("call_ref", HEADER TYPE_FUNC "\x0a\x06\x01\x04\x00\x14\x00\x0b",
         "typed function references (`call_ref`)", NULL, true, true),
    /* ref.null func; br_on_null 0; drop */
    IMPLEMENTED("br_on_null", HEADER TYPE_FUNC "\x0a\x09\x01\x07\x00\xd0\x70\xd5\x00\x1a\x0b",
                "typed function references (`br_on_null`)", NULL, true, true),
    /* ref.null func; ref.as_non_null; drop */
    IMPLEMENTED("ref.as_non_null", HEADER TYPE_FUNC "\x0a\x08\x01\x06\x00\xd0\x70\xd4\x1a\x0b",
                "typed function references (`ref.as_non_null`)", NULL, true, true),
    /* block (result funcref) ref.null func; br_on_non_null 0; ref.null func end; drop */
    IMPLEMENTED("br_on_non_null",
                HEADER TYPE_FUNC "\x0a\x0e\x01\x0c\x00\x02\x70\xd0\x70\xd6\x00\xd0\x70\x0b\x1a\x0b",
                "typed function references (`br_on_non_null`)", NULL, true, true),
    CASE("throw", HEADER TYPE_FUNC "\x0a\x06\x01\x04\x00\x08\x00\x0b",
         "exception handling (`throw`) is not supported", NULL, true, true),
    CASE("try_table", HEADER TYPE_FUNC "\x0a\x08\x01\x06\x00\x1f\x40\x00\x0b\x0b",
         "exception handling (`try_table`)", NULL, true, true),
    CASE("legacy try", HEADER TYPE_FUNC "\x0a\x07\x01\x05\x00\x06\x40\x0b\x0b",
         "legacy exception handling (`try`)", NULL, true, true),
    CASE("GC prefix", HEADER TYPE_FUNC "\x0a\x06\x01\x04\x00\xfb\x1c\x0b",
         "garbage collection (0xfb", NULL, true, true),
    CASE("ref.eq", HEADER TYPE_FUNC "\x0a\x05\x01\x03\x00\xd3\x0b",
         "garbage collection (`ref.eq`)", NULL, true, true),
    CASE("atomics", HEADER TYPE_FUNC "\x0a\x07\x01\x05\x00\xfe\x03\x00\x0b",
         "atomic instructions (threads, 0xfe prefix) are not supported", NULL, true, true),
    /* (drop (i8x16.relaxed_swizzle (v128.const 0) (v128.const 0))) */
    IMPLEMENTED("relaxed SIMD", HEADER TYPE_FUNC "\x0a\x2c\x01\x2a\x00"
                "\xfd\x0c" ZERO16 "\xfd\x0c" ZERO16 "\xfd\x80\x02\x1a\x0b",
         "relaxed SIMD (0xfd 0x100-0x113) is not supported", NULL, true, true),
    /* The code after relaxed SIMD's is no proposal's. */
    CASE("past relaxed SIMD", HEADER TYPE_FUNC "\x0a\x07\x01\x05\x00\xfd\x94\x02\x0b",
         "illegal opcode", NULL, true, false),
    CASE("wide arithmetic", HEADER TYPE_FUNC "\x0a\x06\x01\x04\x00\xfc\x13\x0b",
         "wide arithmetic", NULL, true, true),
    /* Types. */
    CASE("ref type 0x64", HEADER "\x01\x06\x01\x60\x01\x64\x70\x00",
         "typed function references (`ref` types)", NULL, true, true),
    CASE("ref null type 0x63", HEADER "\x01\x06\x01\x60\x01\x63\x70\x00",
         "typed function references (`ref null` types)", NULL, true, true),
    CASE("exnref", HEADER "\x01\x05\x01\x60\x01\x69\x00",
         "exception handling (the `exnref` type)", NULL, true, true),
    CASE("anyref local", HEADER TYPE_FUNC "\x0a\x06\x01\x04\x01\x01\x6e\x0b",
         "garbage collection (the `anyref` type)", NULL, true, true),
    CASE("struct type", HEADER "\x01\x03\x01\x5f\x00",
         "garbage collection (struct types)", NULL, true, true),
    CASE("rec group", HEADER "\x01\x06\x01\x4e\x01\x60\x00\x00",
         "garbage collection (recursive type groups)", NULL, true, true),
    CASE("exnref block type", HEADER TYPE_FUNC "\x0a\x07\x01\x05\x00\x02\x69\x0b\x0b",
         "exception handling (the `exnref` type)", NULL, true, true),
    /* Memories and tables. */
    IMPLEMENTED("memory64", HEADER "\x05\x03\x01\x04\x01",
         "64-bit memories (memory64) are not supported", NULL, true, true),
    IMPLEMENTED("memory64 with maximum", HEADER "\x05\x04\x01\x05\x01\x02",
         "64-bit memories (memory64)", NULL, true, true),
    IMPLEMENTED("table64", HEADER "\x04\x04\x01\x70\x04\x01",
         "64-bit tables (memory64)", NULL, true, true),
    CASE("shared memory", HEADER "\x05\x04\x01\x03\x01\x01",
         "shared memories (threads) are not supported", NULL, true, true),
    CASE("imported shared memory", HEADER "\x02\x09\x01\x01m\x01n\x02\x03\x01\x01",
         "shared memories (threads)", NULL, true, true),
    CASE("shared memory without a maximum", HEADER "\x05\x03\x01\x02\x01",
         "integer too large", "shared memory: threads are not supported", true, true),
    CASE("shared table without a maximum", HEADER "\x04\x04\x01\x70\x02\x00",
         "integer too large", "shared table: not supported", true, true),
    CASE("custom page size", HEADER "\x05\x04\x01\x08\x01\x00",
         "custom page sizes", NULL, true, true),
    CASE("two memories", HEADER "\x05\x05\x02\x00\x01\x00\x01",
         "multiple memories", "multi-memory is not supported", false, true),
    CASE("memarg memory index", HEADER TYPE_FUNC MEMORY1
         "\x0a\x0b\x01\x09\x00\x41\x00\x28\x42\x01\x00\x1a\x0b",
         "multi-memory (a memory index in a load or store)", NULL, true, true),
    /* Exception handling's tag section, imports, exports. */
    CASE("tag section", HEADER "\x01\x04\x01\x60\x00\x00" "\x0d\x03\x01\x00\x00",
         "exception handling (tag section) is not supported (at offset 0xe)", NULL, true, true),
    CASE("tag import", HEADER "\x01\x04\x01\x60\x00\x00" "\x02\x08\x01\x01m\x01t\x04\x00\x00",
         "exception handling (tag import)", NULL, true, true),
    CASE("tag export", HEADER "\x07\x05\x01\x01" "e\x04\x00",
         "exception handling (tag export)", NULL, true, true),
    /* Extended constant expressions. */
    IMPLEMENTED("i32.add in a global", HEADER "\x06\x09\x01\x7f\x00\x41\x01\x41\x02\x6a\x0b",
         "constant expression required", "extended constant expressions are not supported",
         false, true),
    /* The same bytes as 2.0 malformations keep the spec tests' messages. */
    CASE("empty section 13", HEADER "\x0d\x00", "malformed section id", NULL, true, false),
    CASE("import kind 4 without a tag type", HEADER "\x02\x04\x01\x00\x00\x04",
         "malformed import kind", NULL, true, false),
    CASE("import kind 4 with a truncated tag type", HEADER "\x02\x05\x01\x00\x00\x04\x00",
         "malformed import kind", NULL, true, false),
    CASE("memory.size of memory 1", HEADER TYPE_FUNC MEMORY1
         "\x0a\x07\x01\x05\x00\x3f\x01\x1a\x0b",
         "zero byte expected", "multi-memory is not supported", true, true),
    CASE("illegal opcode 0xf3", HEADER TYPE_FUNC "\x0a\x05\x01\x03\x00\xf3\x0b",
         "illegal opcode", NULL, true, false),
};

int main(void)
{
    whirl_engine_t *engine, *full;
    whirl_config_t *config = whirl_config_new();
    whirl_error_t *err = NULL;
    for (int f = 0; !err && f < WHIRL_FEATURE_COUNT; f++)
        err = whirl_config_feature_set(config, (whirl_feature_t)f, false);
    if (!err) {
        err = whirl_config_feature_set(config, WHIRL_FEATURE_COUNT, false);
        if (!err) {
            fprintf(stderr, "FAIL: an unknown feature was accepted\n");
            failed++;
        }
        whirl_error_delete(err);
        err = NULL;
    }
    if (err || (err = whirl_engine_new(config, &engine)) || (err = whirl_engine_new(NULL, &full))) {
        fprintf(stderr, "engine: %s\n", whirl_error_message(err));
        return 1;
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const case_t *c = &cases[i];
        err = whirl_module_validate(engine, (const uint8_t *)c->bytes, c->len);
        const char *msg = err ? whirl_error_message(err) : NULL;
        const char *problem = NULL;
        if (!msg)
            problem = "accepted";
        else if (!strstr(msg, c->want) || (c->want_too && !strstr(msg, c->want_too)))
            problem = "message does not name it";
        else if (c->offset && !strstr(msg, "offset 0x"))
            problem = "message has no byte offset";
        else if (!c->proposal && strstr(msg, "not supported"))
            problem = "a 2.0 malformation was blamed on a proposal";
        if (problem) {
            failed++;
            fprintf(stderr, "FAIL %s: %s: %s\n", c->what, problem, msg ? msg : "(none)");
        } else {
            passed++;
            printf("ok %s: %s\n", c->what, msg);
        }
        whirl_error_delete(err);
        err = whirl_module_validate(full, (const uint8_t *)c->bytes, c->len);
        if (c->implemented && err) {
            failed++;
            fprintf(stderr, "FAIL %s: refused with the feature on: %s\n", c->what,
                    whirl_error_message(err));
        } else if (c->implemented) {
            passed++;
            printf("ok %s: accepted with the feature on\n", c->what);
        }
        whirl_error_delete(err);
    }
    whirl_engine_delete(engine);
    whirl_engine_delete(full);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
