/* Native code as relocatable objects (src/jit/jit_object.c) and in .cwasm
 * files and the compilation cache (src/runtime/native.c, serialize.c):
 *   - tier=jit compiles a module with its object kept; serialising writes
 *     it, deserialising links it again (no compiling) into code that gives
 *     the same results, and the same reasons for functions left out;
 *   - W^X: no mapping of the process is writable and executable at once
 *     after compiling and after loading, native code lies in r-x memory,
 *     and that memory is unmapped when its module is deleted;
 *   - a file for another CPU, CPU features, LLVM version or whirl build is
 *     refused naming the difference; an older format version is refused;
 *   - the runtime's calls run that native code (tier auto and jit), not
 *     the interpreter;
 *   - tier=interp loads such a file without linking its native code;
 *   - the cache keeps native code: a miss under tier=jit stores it, a hit
 *     links it;
 *   - the perfmap knob lists the functions in /tmp/perf-PID.map.
 * Prints "N passed, M failed". */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "jit/jit.h"
#include "jit/jit_binding.h"
#include "jit/jit_internal.h"
#include "runtime/runtime.h"
#include "whirl.h"

/* tests/jit/obj.wat (wat2wasm --debug-names): fib, sum (a loop over memory
 * bytes) and vec (v128). */
static const uint8_t wasm[] = {
#include "obj_bytes.inc"
};

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

static whirl_engine_t *engine_with(const char *tier, const char *perfmap, const char *cache)
{
    whirl_config_t *config = whirl_config_new();
    whirl_config_epoch_interval_set(config, 0);
    whirl_error_t *err = whirl_config_set(config, "tier", tier);
    if (!err && perfmap)
        err = whirl_config_set(config, "perfmap", perfmap);
    if (!err && cache)
        err = whirl_config_cache_set(config, cache);
    whirl_engine_t *engine = NULL;
    if (!err)
        err = whirl_engine_new(config, &engine);
    else
        whirl_config_delete(config);
    check(!err, "engine", err);
    whirl_error_delete(err);
    return engine;
}

/* The runtime's own call path (whirl_func_call) runs the native code:
 * fib's and sum's entries are published, and their interpreter counters,
 * set high, are untouched after fib(20) (21,891 calls) and sum(8) (a loop):
 * the interpreter would have counted each call and back-edge. */
static void check_runtime_runs_native(whirl_store_t *store, whirl_instance_t *inst,
                                      whirl_module_t *module, const char *what)
{
    static const char *const names[] = {"fib", "sum"};
    static const int32_t args[] = {20, 8}, want[] = {6765, 36};
    uint32_t base = module->wasm->nfunc_imports;
    char msg[160];
    for (uint32_t i = 0; i < 2; i++) {
        compiled_func_t *f = &module->code->funcs[i];
        snprintf(msg, sizeof msg, "%s: %s's native entry published", what, names[i]);
        check(native_entry_of(f) != NULL &&
                  (void *)native_entry_of(f) == jit_code_entry(module->jit, base + i),
              msg, NULL);
        atomic_store(&f->hotness, 1000000u);
        whirl_extern_t e;
        whirl_val_t a = {.kind = WHIRL_I32, .of.i32 = args[i]}, r = {.kind = WHIRL_I32};
        whirl_error_t *err = NULL;
        if (whirl_instance_export(inst, names[i], strlen(names[i]), &e))
            err = whirl_func_call(store, e.of.func, &a, 1, &r, 1);
        else
            err = whirl_error_new("no export");
        snprintf(msg, sizeof msg, "%s: whirl_func_call %s(%d) = %d (got %d)", what, names[i],
                 args[i], want[i], r.of.i32);
        check(!err && r.of.i32 == want[i], msg, err);
        whirl_error_delete(err);
        snprintf(msg, sizeof msg, "%s: %s ran natively (interpreter counter untouched)", what,
                 names[i]);
        check(atomic_load(&f->hotness) == 1000000u, msg, NULL);
        atomic_store(&f->hotness, 0u);
    }
}

/* Calls fib(20) and sum(8) natively through module->jit. */
static void check_native_calls(whirl_engine_t *engine, whirl_module_t *module, const char *what)
{
    char msg[160];
    snprintf(msg, sizeof msg, "%s: has native code", what);
    check(module->jit != NULL, msg, NULL);
    if (!module->jit)
        return;
    whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
    whirl_instance_t *inst = NULL;
    whirl_error_t *err = whirl_instance_new(store, module, NULL, 0, &inst);
    check(!err, "instantiate", err);
    if (!err) {
        jit_ctx_t ctx;
        jit_ctx_init(&ctx, inst, module->jit);
        whirl_val_t arg = {.kind = WHIRL_I32, .of.i32 = 20}, res = {0};
        err = jit_call(&ctx, 0, &arg, &res);
        snprintf(msg, sizeof msg, "%s: fib(20) = 6765 natively (got %d)", what, res.of.i32);
        check(!err && res.of.i32 == 6765, msg, err);
        whirl_error_delete(err);
        arg.of.i32 = 8;
        err = jit_call(&ctx, 1, &arg, &res);
        snprintf(msg, sizeof msg, "%s: sum(8) = 36 natively (got %d)", what, res.of.i32);
        check(!err && res.of.i32 == 36, msg, err);
        whirl_error_delete(err);
        /* The tier translates SIMD too: vec is native as well. */
        check(jit_code_compiled(module->jit, 0, NULL) && jit_code_compiled(module->jit, 1, NULL) &&
                  jit_code_compiled(module->jit, 2, NULL),
              "fib, sum and vec compiled", NULL);
        check_runtime_runs_native(store, inst, module, what);
    } else {
        whirl_error_delete(err);
    }
    whirl_store_delete(store);
}

/* ---- /proc/self/maps ---- */

typedef struct mapping_scan {
    unsigned writable_and_executable;
    char perms_at[8]; /* of the mapping holding `addr`, "" if none */
} mapping_scan_t;

static mapping_scan_t scan_maps(const void *addr)
{
    mapping_scan_t s = {0};
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return s;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3)
            continue;
        if (perms[1] == 'w' && perms[2] == 'x') {
            s.writable_and_executable++;
            printf("writable and executable: %s", line);
        }
        if ((uintptr_t)addr >= lo && (uintptr_t)addr < hi)
            snprintf(s.perms_at, sizeof s.perms_at, "%s", perms);
    }
    fclose(f);
    return s;
}

/* Where section `name` of a relocatable ELF64 object lies; false if absent. */
static bool elf_section(const uint8_t *b, size_t len, const char *name, uint64_t *off,
                        uint64_t *size)
{
    uint64_t shoff;
    uint16_t shnum, shstrndx;
    if (len < 64)
        return false;
    memcpy(&shoff, b + 0x28, 8);
    memcpy(&shnum, b + 0x3C, 2);
    memcpy(&shstrndx, b + 0x3E, 2);
    if (shoff > len || (uint64_t)shnum * 64 > len - shoff || shstrndx >= shnum)
        return false;
    uint64_t stroff, strsize;
    memcpy(&stroff, b + shoff + (uint64_t)shstrndx * 64 + 24, 8);
    memcpy(&strsize, b + shoff + (uint64_t)shstrndx * 64 + 32, 8);
    for (unsigned i = 0; i < shnum; i++) {
        const uint8_t *h = b + shoff + (uint64_t)i * 64;
        uint32_t n;
        memcpy(&n, h, 4);
        if (stroff > len || n >= strsize || stroff + strsize > len ||
            strncmp((const char *)b + stroff + n, name, strsize - n) != 0)
            continue;
        memcpy(off, h + 24, 8);
        memcpy(size, h + 32, 8);
        return *off <= len && *size <= len - *off;
    }
    return false;
}

/* ---- editing a .cwasm ---- */

static void fix_checksum(uint8_t *b, size_t len)
{
    uint64_t sum = XXH3_64bits(b + 64, len - 64);
    memcpy(b + 56, &sum, 8);
}

/* Replaces the first `from` after the native key's start with `to` (same
 * length) and fixes the checksum. False if not found. */
static bool edit_key(uint8_t *b, size_t len, const char *from, const char *to)
{
    const char *triple = "x86_64";
    uint8_t *key = memmem(b, len, triple, strlen(triple));
    if (!key)
        return false;
    uint8_t *p = memmem(key, len - (size_t)(key - b), from, strlen(from));
    if (!p || strlen(from) != strlen(to))
        return false;
    memcpy(p, to, strlen(to));
    fix_checksum(b, len);
    return true;
}

static void check_refused(whirl_engine_t *engine, const uint8_t *file, size_t len,
                          const char *from, const char *to, const char *want, const char *what)
{
    uint8_t *copy = malloc(len);
    memcpy(copy, file, len);
    if (!edit_key(copy, len, from, to)) {
        check(false, what, NULL);
        printf("  (no '%s' in the key)\n", from);
        free(copy);
        return;
    }
    whirl_module_t *m = NULL;
    whirl_error_t *err = whirl_module_deserialize(engine, copy, len, &m);
    check(err && strstr(whirl_error_message(err), want), what, err);
    if (err && !strstr(whirl_error_message(err), want))
        printf("  want '%s'\n", want);
    if (!err)
        printf("  loaded a file edited to %s\n", to);
    whirl_error_delete(err);
    whirl_module_delete(m);
    free(copy);
}

/* The flags of the section called `name` in the ELF object `o` (the first
 * part's of a WHIRLPRT container), or -1 if it has none. */
static int64_t section_flags(const uint8_t *o, size_t len, const char *name)
{
    if (len >= 16 && memcmp(o, "WHIRLPRT", 8) == 0) {
        uint32_t count;
        memcpy(&count, o + 8, 4);
        size_t first = (16 + (size_t)count * 8 + 15) & ~(size_t)15;
        uint64_t l0;
        if (!count || first > len)
            return -1;
        memcpy(&l0, o + 16, 8);
        o += first;
        len = l0 < len - first ? (size_t)l0 : len - first;
    }
    if (len < 64 || memcmp(o, "\177ELF\2\1", 6) != 0)
        return -1;
    uint64_t shoff;
    uint16_t shnum, shstrndx;
    memcpy(&shoff, o + 0x28, 8);
    memcpy(&shnum, o + 0x3C, 2);
    memcpy(&shstrndx, o + 0x3E, 2);
    if (shoff > len || (uint64_t)shnum * 64 > len - shoff || shstrndx >= shnum)
        return -1;
    uint64_t stroff;
    memcpy(&stroff, o + shoff + (uint64_t)shstrndx * 64 + 24, 8);
    for (unsigned i = 0; i < shnum; i++) {
        const uint8_t *h = o + shoff + (uint64_t)i * 64;
        uint32_t n;
        uint64_t flags;
        memcpy(&n, h, 4);
        memcpy(&flags, h + 8, 8);
        if (stroff + n + strlen(name) < len && strcmp((const char *)o + stroff + n, name) == 0)
            return (int64_t)flags;
    }
    return -1;
}

int main(void)
{
    char perfmap[64];
    snprintf(perfmap, sizeof perfmap, "/tmp/perf-%ld.map", (long)getpid());
    unlink(perfmap);

    /* Compile everything (tier=jit), keeping the object. */
    whirl_engine_t *jit_engine = engine_with("jit", NULL, NULL);
    whirl_module_t *compiled = NULL;
    whirl_error_t *err = whirl_module_new(jit_engine, wasm, sizeof wasm, &compiled);
    check(!err, "whirl_module_new, tier=jit", err);
    if (err) {
        printf("%u passed, %u failed\n", passed, failed);
        return 1;
    }
    check(compiled->native_object && compiled->native_object_len > 0, "object kept", NULL);
    /* What the JIT linker does at each load: no .eh_frame to split and
     * register record by record (every function is nounwind, so the call
     * frame information is in .debug_frame), and the site map is read by
     * jit_pcmap.c, not loaded (not SHF_ALLOC). */
    if (compiled->native_object) {
        const uint8_t *o = compiled->native_object;
        size_t olen = compiled->native_object_len;
        check(section_flags(o, olen, ".eh_frame") == -1 &&
                  section_flags(o, olen, ".debug_frame") >= 0,
              "call frame information in .debug_frame, no .eh_frame", NULL);
        int64_t pc = section_flags(o, olen, "whirl_pc");
        check(!jit_guard_enabled() || (pc >= 0 && !(pc & 2)),
              "the site map (whirl_pc) is not loaded", NULL);
    }
    check_native_calls(jit_engine, compiled, "compiled");
    mapping_scan_t s = scan_maps(jit_code_native(compiled->jit, 0));
    check(s.writable_and_executable == 0, "after compiling: no mapping writable and executable",
          NULL);
    check(strcmp(s.perms_at, "r-xp") == 0, "compiled code is in r-x memory", NULL);

    uint8_t *file = NULL;
    size_t len = 0;
    err = whirl_module_serialize(compiled, &file, &len);
    check(!err && len > compiled->native_object_len, "serialised with the object", err);
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    whirl_engine_t *interp_engine = engine_with("interp", NULL, NULL);
    whirl_module_t *interp_module = NULL;
    if (!(err = whirl_module_new(interp_engine, wasm, sizeof wasm, &interp_module)))
        err = whirl_module_serialize(interp_module, &plain, &plain_len);
    check(!err && plain_len + compiled->native_object_len < len,
          "tier=interp serialises without native code", err);
    whirl_module_delete(interp_module);

    /* Load it again (tier auto): linked, not compiled. */
    whirl_engine_t *auto_engine = engine_with("auto", "1", NULL);
    whirl_module_t *loaded = NULL;
    err = whirl_module_deserialize(auto_engine, file, len, &loaded);
    check(!err, "deserialise with native code", err);
    if (loaded) {
        check_native_calls(auto_engine, loaded, "loaded");
        const void *fib = jit_code_native(loaded->jit, 0);
        s = scan_maps(fib);
        check(s.writable_and_executable == 0, "after loading: no mapping writable and executable",
              NULL);
        check(strcmp(s.perms_at, "r-xp") == 0, "loaded code is in r-x memory", NULL);

        /* perfmap: a line "ADDR SIZE fib" for the loaded fib. */
        char want[64];
        snprintf(want, sizeof want, "%llx ", (unsigned long long)(uintptr_t)fib);
        FILE *f = fopen(perfmap, "r");
        bool found = false, sized = false;
        char line[256];
        while (f && fgets(line, sizeof line, f))
            if (strncmp(line, want, strlen(want)) == 0 && strstr(line, " fib\n")) {
                found = true;
                sized = strtoull(line + strlen(want), NULL, 16) > 0;
            }
        if (f)
            fclose(f);
        check(found, "perfmap: fib's line at its address", NULL);
        check(sized, "perfmap: fib's size", NULL);

        /* Serialising a loaded module writes its object again, unchanged. */
        uint8_t *again = NULL;
        size_t again_len = 0;
        err = whirl_module_serialize(loaded, &again, &again_len);
        check(!err && again_len == len && memcmp(again, file, len) == 0,
              "a loaded module serialises to the same bytes", err);
        whirl_error_delete(err);
        free(again);

        whirl_module_delete(loaded);
        s = scan_maps(fib);
        check(s.perms_at[0] == 0 || s.perms_at[2] != 'x',
              "the code memory is unmapped with its module", NULL);
    }

    /* Under tier=jit too, the loaded code is what runs. */
    whirl_module_t *loaded_jit = NULL;
    err = whirl_module_deserialize(jit_engine, file, len, &loaded_jit);
    check(!err, "deserialise with native code, tier=jit", err);
    whirl_error_delete(err);
    if (loaded_jit)
        check_native_calls(jit_engine, loaded_jit, "loaded, tier=jit");
    whirl_module_delete(loaded_jit);

    /* Another machine or build: refused, naming what differs. */
    char *key = jit_native_key();
    check(key != NULL, "jit_native_key", NULL);
    if (key) {
        char *cpu = strchr(key, '\n') + 1;
        char *cpu_end = strchr(cpu, '\n');
        char other_cpu[64] = {0};
        size_t n = (size_t)(cpu_end - cpu);
        if (n < sizeof other_cpu) {
            char from[64] = {0};
            memcpy(from, cpu - 1, n + 2); /* "\ncpu\n" */
            memcpy(other_cpu, from, n + 2);
            for (size_t i = 1; i <= n; i++)
                other_cpu[i] = 'q';
            check_refused(auto_engine, file, len, from, other_cpu, "made for CPU",
                          "another CPU refused");
        }
        check_refused(auto_engine, file, len, "\n19.", "\n18.", "LLVM version",
                      "another LLVM version refused");
        char *features = strchr(cpu, '\n') + 1;
        /* A feature this CPU has, the file's CPU lacks; one it lacks, the
         * file's needs. */
        char *plus = strstr(features, ",+"), *minus = strstr(features, ",-");
        if (plus && minus) {
            char from[4] = {',', '+', plus[2], 0}, to[4] = {',', '-', plus[2], 0};
            check_refused(auto_engine, file, len, from, to, "other CPU features",
                          "fewer CPU features refused");
            char from2[4] = {',', '-', minus[2], 0}, to2[4] = {',', '+', minus[2], 0};
            check_refused(auto_engine, file, len, from2, to2, "which this CPU lacks",
                          "a missing CPU feature refused");
        }
        char *build = strrchr(key, '\n');
        char from[8] = {0}, to[8] = {0};
        memcpy(from, build, 5);
        memcpy(to, from, 5);
        to[1] = to[1] == 'z' ? 'y' : 'z';
        check_refused(auto_engine, file, len, from, to, "whirl build",
                      "another whirl build refused");
        free(key);
    }
    /* An object linked against another module is refused, not misread. */
    {
        static const uint8_t one_func[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
                                           0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02,
                                           0x01, 0x00, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b};
        whirl_module_t *other = NULL;
        err = whirl_module_new(interp_engine, one_func, sizeof one_func, &other);
        jit_code_t *code = NULL;
        if (!err)
            err = jit_code_from_object(other->wasm, compiled->native_object,
                                       compiled->native_object_len, NULL, &code);
        check(err && strstr(whirl_error_message(err), "module of 3 functions, not 1") && !code,
              "an object for another module is refused", err);
        whirl_error_delete(err);
        whirl_module_delete(other);
    }
    /* An older format. */
    {
        uint8_t *copy = malloc(len);
        memcpy(copy, file, len);
        uint32_t v3 = 3;
        memcpy(copy + 8, &v3, 4);
        whirl_module_t *m = NULL;
        err = whirl_module_deserialize(auto_engine, copy, len, &m);
        check(err && strstr(whirl_error_message(err), "format version 3"),
              "format version 3 refused", err);
        whirl_error_delete(err);
        whirl_module_delete(m);
        free(copy);
    }
    /* tier=interp: the native part is not linked. */
    {
        whirl_module_t *m = NULL;
        err = whirl_module_deserialize(interp_engine, file, len, &m);
        check(!err && m && !m->jit, "tier=interp loads without linking native code", err);
        whirl_error_delete(err);
        whirl_module_delete(m);
    }

    /* Calls are named by the object's .debug_line (jit_pcmap.c): a damaged
     * line program is read without harm, the object still links. Every
     * byte of the section in turn set to 0x00, 0x7f and 0xff (the run
     * under ASan is the real check). */
    {
        const uint8_t *obj = compiled->native_object;
        size_t olen = compiled->native_object_len;
        uint64_t off = 0, size = 0;
        bool have = obj && elf_section(obj, olen, ".debug_line", &off, &size) && size > 0;
        check(have, "the object carries .debug_line", NULL);
        uint8_t *copy = have ? malloc(olen) : NULL;
        unsigned tried = 0, linked = 0;
        static const uint8_t vals[] = {0x00, 0x7f, 0xff};
        for (uint64_t i = 0; copy && i < size; i += size / 64 + 1)
            for (size_t v = 0; v < sizeof vals; v++) {
                memcpy(copy, obj, olen);
                copy[off + i] = vals[v];
                jit_code_t *code = NULL;
                err = jit_code_from_object(compiled->wasm, copy, olen, NULL, &code);
                tried++;
                linked += !err && code;
                whirl_error_delete(err);
                if (code)
                    jit_code_free(code);
            }
        check(have && tried > 0 && linked == tried, "a damaged .debug_line links harmlessly",
              NULL);
        free(copy);
    }

    /* Native code in parts (jit_parts.c): a container of objects, here
     * the module's functions split over two parts compiled one by one
     * (the module is too small for jit_compile to split), plus a copy of
     * the first function in the second part (the first part's is used).
     * It links into one JIT and runs; a damaged count or length is
     * refused with an error. */
    {
        const wasm_module_t *w = compiled->wasm;
        uint32_t nall = wasm_module_func_count(w);
        bool *only[2] = {calloc(nall + 1, 1), calloc(nall + 1, 1)};
        for (uint32_t i = w->nfunc_imports; i < nall; i++)
            only[(i - w->nfunc_imports) % 2][i] = true;
        only[1][w->nfunc_imports] = true;
        jit_code_t *part[2] = {NULL, NULL};
        for (unsigned k = 0; k < 2; k++) {
            jit_options_t o = {.only = only[k], .keep_object = true, .emit_only = true,
                               .part = k + 1, .guard_memory = jit_guard_enabled()};
            err = jit_compile_one(w, &o, &part[k]);
            check(!err && part[k] && part[k]->object, "a part compiles to an object", err);
            whirl_error_delete(err);
        }
        uint8_t *c = NULL;
        size_t first = 16 + 2 * 8, second = 0, clen = 0;
        if (part[0] && part[1]) {
            second = (first + part[0]->object_len + 15) & ~(size_t)15;
            clen = second + part[1]->object_len;
            c = calloc(1, clen);
        }
        if (c) {
            memcpy(c, "WHIRLPRT", 8);
            uint32_t count = 2;
            uint64_t l0 = part[0]->object_len, l1 = part[1]->object_len;
            memcpy(c + 8, &count, 4);
            memcpy(c + 16, &l0, 8);
            memcpy(c + 24, &l1, 8);
            memcpy(c + first, part[0]->object, l0);
            memcpy(c + second, part[1]->object, l1);
        }
        jit_code_t *code = NULL;
        err = c ? jit_code_from_object(w, c, clen, NULL, &code) : NULL;
        bool all = code != NULL;
        for (uint32_t i = w->nfunc_imports; code && i < nall; i++)
            all = all && jit_code_entry(code, i);
        check(c && !err && all && jit_code_stats(code)->compiled == w->nfuncs,
              "a container of two parts links, each function once", err);
        whirl_error_delete(err);
        jit_code_free(code);
        struct {
            size_t at, width;
            uint64_t value;
            const char *want;
        } bad[] = {{8, 4, 200, "200 parts"},
                   {8, 4, 1, "1 parts"},
                   {16, 8, (uint64_t)1 << 40, "part 0 overruns"},
                   {24, 8, 0, "part 1 overruns"},
                   {24, 8, clen, "part 1 overruns"}};
        for (size_t i = 0; c && i < sizeof bad / sizeof *bad; i++) {
            uint8_t *copy = malloc(clen);
            memcpy(copy, c, clen);
            memcpy(copy + bad[i].at, &bad[i].value, bad[i].width);
            code = NULL;
            err = jit_code_from_object(w, copy, clen, NULL, &code);
            char what[96];
            snprintf(what, sizeof what, "a container with %s is refused", bad[i].want);
            check(err && !code && strstr(whirl_error_message(err), bad[i].want), what, err);
            whirl_error_delete(err);
            jit_code_free(code);
            free(copy);
        }
        /* Shorter than its own table of lengths. */
        code = NULL;
        err = c ? jit_code_from_object(w, c, 20, NULL, &code) : NULL;
        check(err && !code, "a container cut inside its lengths is refused", err);
        whirl_error_delete(err);
        free(c);
        jit_code_free(part[0]);
        jit_code_free(part[1]);
        free(only[0]);
        free(only[1]);
    }

    /* The cache keeps native code. */
    char dir[] = "/tmp/whirl-jit-object-XXXXXX";
    if (mkdtemp(dir)) {
        whirl_engine_t *e1 = engine_with("jit", NULL, dir);
        whirl_module_t *m = NULL;
        err = whirl_module_new(e1, wasm, sizeof wasm, &m);
        check(!err && m->jit && !whirl_module_from_cache(m), "cache miss compiles natively", err);
        whirl_error_delete(err);
        whirl_module_delete(m);
        whirl_engine_t *e2 = engine_with("auto", NULL, dir);
        m = NULL;
        err = whirl_module_new(e2, wasm, sizeof wasm, &m);
        check(!err && whirl_module_from_cache(m), "cache hit", err);
        if (!err)
            check_native_calls(e2, m, "from the cache");
        whirl_error_delete(err);
        whirl_module_delete(m);
        whirl_engine_delete(e1);
        whirl_engine_delete(e2);
        whirl_cache_clear(dir);
        rmdir(dir);
    }

    free(file);
    free(plain);
    whirl_module_delete(compiled);
    whirl_engine_delete(jit_engine);
    whirl_engine_delete(interp_engine);
    whirl_engine_delete(auto_engine);
    unlink(perfmap);
    printf("%u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
