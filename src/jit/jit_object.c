/* Native code as relocatable objects: what jit_compile links, what `whirl
 * compile` and the compilation cache store, and what loading links again
 * with ORC (JITLink) without compiling anything.
 *
 * Every object carries one table, JIT_FUNC_TABLE, in its code section: per
 * function index the offsets of its native function and of its slot entry
 * from the table (0: not compiled), and a second, JIT_WHY_TABLE, of why
 * each function was left to the interpreter. One symbol lookup gives every
 * address (a lookup per function costs a session round trip each:
 * thousands for a large module).
 *
 * Load time is what JITLink does per symbol and per relocation, so objects
 * are made to need few: functions are private (no symbols), calls between
 * them are resolved when the object is made, the table holds offsets the
 * assembler computes, and calls to each runtime function go through one
 * local thunk (one relocation, not one per call site). The code model is
 * small and position independent: the JIT places an object's sections
 * together.
 *
 * Code memory: JITLink's in-process memory manager writes the sections
 * while they are read-write and then makes code read+execute (mprotect)
 * before anything runs it; no page is ever writable and executable at once
 * (tests/jit/test_jit_object.c reads /proc/self/maps to check). The memory
 * belongs to the jit_code_t's LLJIT and goes with jit_code_free. */
#define _GNU_SOURCE /* asprintf */
#include <llvm-c/Object.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Support.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jit/jit_binding.h"
#include "jit/jit_debuginfo.h"
#include "jit/jit_internal.h"
#include "runtime/trap_signal.h"
#include "util/error.h"

#ifndef WHIRL_JIT_BUILD_ID
#define WHIRL_JIT_BUILD_ID "unknown"
#endif

/* ---------------------------------------------------------- the table */

/* Calls from the module to a runtime function go through one local thunk
 * per function (a tail call), so the object carries one relocation per
 * runtime function instead of one per call site (a large module has tens of
 * thousands of trap calls). */
static void add_runtime_thunks(jt_module_t *jm)
{
    unsigned noinline = LLVMGetEnumAttributeKindForName("noinline", 8);
    unsigned noreturn = LLVMGetEnumAttributeKindForName("noreturn", 8);
    unsigned cold = LLVMGetEnumAttributeKindForName("cold", 4);
    for (int i = 0; i < JB_RT_COUNT; i++) {
        LLVMValueRef ext = jm->rt[i];
        if (!ext || !LLVMGetFirstUse(ext))
            continue;
        LLVMTypeRef ty = jm->rt_types[i];
        char name[80];
        snprintf(name, sizeof name, "%s.thunk", jb_runtime_name(i));
        LLVMValueRef thunk = LLVMAddFunction(jm->mod, name, ty);
        LLVMReplaceAllUsesWith(ext, thunk);
        LLVMSetLinkage(thunk, LLVMPrivateLinkage);
        unsigned nattrs = LLVMGetAttributeCountAtIndex(ext, LLVMAttributeFunctionIndex);
        LLVMAttributeRef attrs[nattrs + 1];
        LLVMGetAttributesAtIndex(ext, LLVMAttributeFunctionIndex, attrs);
        bool is_noreturn = false;
        for (unsigned a = 0; a < nattrs; a++) {
            unsigned kind = LLVMIsEnumAttribute(attrs[a]) ? LLVMGetEnumAttributeKind(attrs[a]) : 0;
            /* Not cold: a cold thunk goes to .text.unlikely, and calls to
             * another section need relocations again. */
            if (kind == cold)
                continue;
            LLVMAddAttributeAtIndex(thunk, LLVMAttributeFunctionIndex, attrs[a]);
            if (kind == noreturn)
                is_noreturn = true;
        }
        LLVMAddAttributeAtIndex(thunk, LLVMAttributeFunctionIndex,
                                LLVMCreateEnumAttribute(jm->llctx, noinline, 0));
        LLVMBuilderRef b = LLVMCreateBuilderInContext(jm->llctx);
        LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(jm->llctx, thunk, "entry"));
        unsigned nparams = LLVMCountParams(thunk);
        LLVMValueRef args[nparams + 1];
        for (unsigned p = 0; p < nparams; p++)
            args[p] = LLVMGetParam(thunk, p);
        LLVMValueRef call = LLVMBuildCall2(b, ty, ext, args, nparams, "");
        LLVMSetTailCall(call, true);
        if (is_noreturn)
            LLVMBuildUnreachable(b);
        else if (LLVMGetTypeKind(LLVMGetReturnType(ty)) == LLVMVoidTypeKind)
            LLVMBuildRetVoid(b);
        else
            LLVMBuildRet(b, call);
        LLVMDisposeBuilder(b);
    }
}

void jit_add_func_table(jt_module_t *jm)
{
    add_runtime_thunks(jm);
    uint32_t nfuncs = wasm_module_func_count(jm->wasm);
    size_t n = (size_t)nfuncs * 2 + 2; /* the count, two per function, the end */
    LLVMValueRef *offsets = calloc(n, sizeof *offsets);
    LLVMValueRef *whys = calloc(nfuncs ? nfuncs : 1, sizeof *whys);
    if (!offsets || !whys) {
        free(offsets);
        free(whys);
        return; /* jit_link_object reports the missing table */
    }
    LLVMValueRef null = LLVMConstPointerNull(jm->ptr);
    for (uint32_t i = 0; i < nfuncs; i++) {
        LLVMValueRef native = NULL, entry = NULL;
        if (i >= jm->wasm->nfunc_imports && jm->supported[i] && jm->fns[i]) {
            char name[24];
            snprintf(name, sizeof name, "e%u", i);
            entry = LLVMGetNamedFunction(jm->mod, name);
            native = entry ? jm->fns[i] : NULL;
        }
        if (native) {
            /* Reached through the table only: no symbols to resolve, and
             * calls between them are resolved when the object is made. */
            LLVMSetLinkage(native, LLVMPrivateLinkage);
            LLVMSetLinkage(entry, LLVMPrivateLinkage);
            offsets[1 + (size_t)i * 2] = native;
            offsets[2 + (size_t)i * 2] = entry;
        } else {
            offsets[1 + (size_t)i * 2] = offsets[2 + (size_t)i * 2] = null;
        }
        whys[i] = null;
        if (!native && i >= jm->wasm->nfunc_imports) {
            const char *text = jm->why_not[i] ? jm->why_not[i] : "not compiled";
            LLVMValueRef str = LLVMConstStringInContext2(jm->llctx, text, strlen(text), false);
            LLVMValueRef g = LLVMAddGlobal(jm->mod, LLVMTypeOf(str), "why");
            LLVMSetInitializer(g, str);
            LLVMSetGlobalConstant(g, true);
            LLVMSetLinkage(g, LLVMPrivateLinkage);
            LLVMSetUnnamedAddress(g, LLVMGlobalUnnamedAddr);
            whys[i] = g;
        }
    }
    /* Last, an empty function after all the others: where the last one
     * ends (perfmap.c's sizes). */
    LLVMValueRef end = LLVMAddFunction(jm->mod, "end", LLVMFunctionType(jm->void_t, NULL, 0, false));
    LLVMSetLinkage(end, LLVMPrivateLinkage);
    LLVMBuilderRef b = LLVMCreateBuilderInContext(jm->llctx);
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(jm->llctx, end, "entry"));
    LLVMBuildRetVoid(b);
    LLVMDisposeBuilder(b);
    offsets[n - 1] = end;
    /* First, the function count, checked at load against the module. */
    offsets[0] = LLVMConstIntToPtr(LLVMConstInt(jm->i64, nfuncs, false), jm->ptr);
    LLVMValueRef init = LLVMConstArray2(jm->ptr, offsets, n);
    char table_name[48], why_name[48];
    jit_table_name(table_name, sizeof table_name, JIT_FUNC_TABLE, jm->part);
    jit_table_name(why_name, sizeof why_name, JIT_WHY_TABLE, jm->part);
    LLVMValueRef table = LLVMAddGlobal(jm->mod, LLVMTypeOf(init), table_name);
    LLVMSetInitializer(table, init);
    LLVMSetGlobalConstant(table, true);
    LLVMValueRef why_init = LLVMConstArray2(jm->ptr, whys, nfuncs);
    LLVMValueRef why = LLVMAddGlobal(jm->mod, LLVMTypeOf(why_init), why_name);
    LLVMSetInitializer(why, why_init);
    LLVMSetGlobalConstant(why, true);
    free(offsets);
    free(whys);
}

/* ---------------------------------------------------------- emitting */

whirl_error_t *jit_emit_object(LLVMTargetMachineRef tm, LLVMModuleRef mod, uint8_t **out,
                               size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    char *msg = NULL;
    LLVMMemoryBufferRef buf = NULL;
    if (LLVMTargetMachineEmitToMemoryBuffer(tm, mod, LLVMObjectFile, &msg, &buf)) {
        whirl_error_t *err = error_fmt("jit: emitting the object: %s", msg ? msg : "?");
        LLVMDisposeMessage(msg);
        return err;
    }
    size_t len = LLVMGetBufferSize(buf);
    uint8_t *bytes = malloc(len ? len : 1);
    if (!bytes) {
        LLVMDisposeMemoryBuffer(buf);
        return error_oom();
    }
    memcpy(bytes, LLVMGetBufferStart(buf), len);
    LLVMDisposeMemoryBuffer(buf);
    jit_pcmap_unload_sections(bytes, len);
    *out = bytes;
    *out_len = len;
    return NULL;
}

/* ---------------------------------------------------------- linking */

static whirl_error_t *add_runtime_symbols(LLVMOrcLLJITRef jit)
{
    LLVMOrcCSymbolMapPair pairs[JB_RT_COUNT];
    for (int i = 0; i < JB_RT_COUNT; i++) {
        pairs[i].Name = LLVMOrcLLJITMangleAndIntern(jit, jb_runtime_name(i));
        pairs[i].Sym.Address = (LLVMOrcExecutorAddress)(uintptr_t)jb_runtime_address(i);
        pairs[i].Sym.Flags.GenericFlags = LLVMJITSymbolGenericFlagsExported |
                                          LLVMJITSymbolGenericFlagsCallable;
        pairs[i].Sym.Flags.TargetFlags = 0;
    }
    LLVMOrcMaterializationUnitRef mu = LLVMOrcAbsoluteSymbols(pairs, JB_RT_COUNT);
    LLVMErrorRef e = LLVMOrcJITDylibDefine(LLVMOrcLLJITGetMainJITDylib(jit), mu);
    return e ? llvm_error("defining the runtime symbols", e) : NULL;
}

/* Every code range goes into the fault handler's registry: backtraces
 * find the code of a return address there (jit_binding.c). Guarded code
 * (jit_options_t.guard_memory) relies on its faults becoming traps, and
 * installs the handler with the first such code; code with explicit
 * checks is registered as not faulting: a fault in it is a bug the
 * host's handler should see. */
static whirl_error_t *register_code(jit_code_t *code)
{
    uintptr_t start = (uintptr_t)code->table;
    for (uint32_t i = 0; i < code->nfuncs; i++) {
        uintptr_t a = (uintptr_t)code->native[i], b = (uintptr_t)code->entry[i];
        if (a && a < start)
            start = a;
        if (b && b < start)
            start = b;
    }
    if (code->guarded) {
        if (!trap_signal_install())
            return error_fmt("jit: cannot install the guard-page fault handler");
        jb_guard_init();
    }
    if (!trap_signal_code_add(start, (uintptr_t)code->code_end, code, code->guarded))
        return error_oom();
    code->code_start = start;
    return NULL;
}

void jit_table_name(char *buf, size_t size, const char *base, unsigned part)
{
    if (part)
        snprintf(buf, size, "%s.%u", base, part - 1);
    else
        snprintf(buf, size, "%s", base);
}

whirl_error_t *jit_new_lljit(LLVMOrcLLJITRef *out)
{
    *out = NULL;
    LLVMTargetMachineRef tm = host_machine();
    if (!tm)
        return error_fmt("jit: no LLVM target for this host");
    LLVMOrcJITTargetMachineBuilderRef jtmb = LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(tm);
    LLVMOrcLLJITBuilderRef builder = LLVMOrcCreateLLJITBuilder();
    LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(builder, jtmb);
    LLVMErrorRef e = LLVMOrcCreateLLJIT(out, builder);
    if (e) {
        *out = NULL;
        return llvm_error("creating the JIT", e);
    }
    return add_runtime_symbols(*out);
}

whirl_error_t *jit_link_object(jit_code_t *code, const uint8_t *bytes, size_t len,
                               LLVMOrcLLJITRef jit)
{
    whirl_error_t *err = NULL;
    if (jit) {
        code->jit = jit;
        code->jit_shared = true;
    } else if ((err = jit_new_lljit(&code->jit))) {
        return err;
    }
    LLVMMemoryBufferRef buf =
        LLVMCreateMemoryBufferWithMemoryRange((const char *)bytes, len, "whirl-native", false);
    LLVMErrorRef e = LLVMOrcLLJITAddObjectFile(code->jit, LLVMOrcLLJITGetMainJITDylib(code->jit), buf);
    if (e)
        return llvm_error("adding the object", e);
    LLVMOrcExecutorAddress addr = 0;
    char table_name[48];
    jit_table_name(table_name, sizeof table_name, JIT_FUNC_TABLE, code->part);
    if ((e = LLVMOrcLLJITLookup(code->jit, &addr, table_name)))
        return llvm_error("linking the object", e);
    void *const *table = (void *const *)(uintptr_t)addr;
    code->table = table;
    if ((uintptr_t)table[0] != code->nfuncs)
        return error_fmt("jit: the object is for a module of %llu functions, not %u",
                         (unsigned long long)(uintptr_t)table[0], code->nfuncs);
    table++;
    code->code_end = table[(size_t)code->nfuncs * 2];
    const wasm_module_t *m = code->wasm;
    code->stats.compiled = code->stats.unsupported = 0;
    for (uint32_t i = 0; i < code->nfuncs; i++) {
        void *native = table[(size_t)i * 2], *entry = table[(size_t)i * 2 + 1];
        if (i < m->nfunc_imports) {
            if (native || entry)
                return error_fmt("jit: object has code for imported function %u", i);
            continue;
        }
        if (!native != !entry)
            return error_fmt("jit: object has half of function %u", i);
        code->native[i] = native;
        code->entry[i] = entry;
        if (native)
            code->stats.compiled++;
        else
            code->stats.unsupported++;
    }
    jit_pcmap_build(code, bytes, len);
    return register_code(code);
}

/* The reasons a loaded object gives, copied out of its constant section
 * (which is code memory's neighbour and lives as long as the code, but
 * a copy keeps why_not independent of the object's layout). */
static whirl_error_t *copy_reasons(jit_code_t *code, uint64_t why_addr)
{
    const char *const *whys = (const char *const *)(uintptr_t)why_addr;
    size_t total = 0;
    for (uint32_t i = code->wasm->nfunc_imports; i < code->nfuncs; i++)
        if (!code->native[i] && whys[i])
            total += strnlen(whys[i], 200) + 1;
    if (!total)
        return NULL;
    code->why_storage = malloc(total);
    if (!code->why_storage)
        return error_oom();
    char *p = code->why_storage;
    for (uint32_t i = code->wasm->nfunc_imports; i < code->nfuncs; i++) {
        const char *why = whys[i];
        if (code->native[i] || !why)
            continue;
        size_t n = strnlen(why, 200);
        memcpy(p, why, n);
        p[n] = 0;
        code->why_not[i] = p;
        p += n + 1;
    }
    return NULL;
}

whirl_error_t *jit_code_from_object(const wasm_module_t *module, const uint8_t *bytes,
                                    size_t len, const jit_options_t *options, jit_code_t **out)
{
    if (jit_parts_object(bytes, len))
        return jit_code_from_parts_object(module, bytes, len, options, out);
    return jit_code_from_one_object(module, bytes, len, options, NULL, out);
}

whirl_error_t *jit_code_from_one_object(const wasm_module_t *module, const uint8_t *bytes,
                                        size_t len, const jit_options_t *options,
                                        LLVMOrcLLJITRef jit, jit_code_t **out)
{
    *out = NULL;
    jit_code_t *code = NULL;
    whirl_error_t *err = jit_code_begin(module, options, &code);
    if (err)
        return err;
    code->part = options ? options->part : 0;
    jmp_buf jb;
    jmp_buf *volatile saved = fatal_jmp;
    if (setjmp(jb)) {
        fatal_jmp = saved;
        code->jit = NULL; /* abandoned as it was, as in jit_compile */
        jit_code_free(code);
        return error_fmt("jit: LLVM fatal error while linking native code: %s", fatal_reason);
    }
    fatal_jmp = &jb;
    err = jit_link_object(code, bytes, len, jit);
    LLVMOrcExecutorAddress addr = 0;
    if (!err) {
        char why_name[48];
        jit_table_name(why_name, sizeof why_name, JIT_WHY_TABLE, code->part);
        LLVMErrorRef e = LLVMOrcLLJITLookup(code->jit, &addr, why_name);
        err = e ? llvm_error("linking the object", e) : copy_reasons(code, addr);
    }
    fatal_jmp = saved;
    if (!err && options && options->keep_object) {
        if (!(code->object = malloc(len ? len : 1)))
            err = error_oom();
        else {
            memcpy(code->object, bytes, len);
            code->object_len = len;
        }
    }
    if (!err && options && options->perfmap)
        jit_perfmap_write(code);
    if (!err && options && options->jitdump)
        jit_jitdump_write(code);
    if (!err && options && options->debug_info)
        jit_gdb_register(code, bytes, len);
    if (err) {
        jit_code_free(code);
        return err;
    }
    *out = code;
    return NULL;
}

const uint8_t *jit_code_object(const jit_code_t *code, size_t *len)
{
    *len = code->object_len;
    return code->object;
}

/* ---------------------------------------------------------- the key */

/* Fields of the key, each on its own line: what native code depends on
 * beyond the module. */
static const char *const key_fields[] = {"target", "CPU", "CPU features", "LLVM version",
                                         "bounds checks", "whirl build"};
#define KEY_FIELDS 6

static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static char *host_key; /* computed once: CPU detection costs ~0.1 ms a call */

static void make_host_key(void)
{
    if (!jit_llvm_init())
        return;
    char *triple = LLVMGetDefaultTargetTriple();
    char *cpu = LLVMGetHostCPUName();
    char *features = LLVMGetHostCPUFeatures();
    unsigned major = 0, minor = 0, patch = 0;
    LLVMGetVersion(&major, &minor, &patch);
    /* Code compiled for guard pages must not be linked into a process
     * that compiles (and so runs) with explicit checks, and back. */
    const char *checks = jit_guard_enabled() ? "guard pages" : "explicit";
    if (asprintf(&host_key, "%s\n%s\n%s\n%u.%u.%u\n%s\n%s", triple, cpu, features, major,
                 minor, patch, checks, WHIRL_JIT_BUILD_ID) < 0)
        host_key = NULL;
    LLVMDisposeMessage(triple);
    LLVMDisposeMessage(cpu);
    LLVMDisposeMessage(features);
}

char *jit_native_key(void)
{
    pthread_once(&key_once, make_host_key);
    return host_key ? strdup(host_key) : NULL;
}

/* Splits `key` into its fields (pointers into it, lengths). */
static bool split_key(const char *key, size_t len, const char *f[KEY_FIELDS],
                      size_t flen[KEY_FIELDS])
{
    const char *p = key, *end = key + len;
    for (int i = 0; i < KEY_FIELDS; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl && i < KEY_FIELDS - 1)
            return false;
        f[i] = p;
        flen[i] = (size_t)((nl ? nl : end) - p);
        p = nl ? nl + 1 : end;
    }
    return p == end;
}

/* A feature ("+avx2") of list a (comma separated) that b lacks, or NULL. */
static const char *feature_missing(const char *a, size_t alen, const char *b, size_t blen,
                                   size_t *flen)
{
    for (const char *p = a, *end = a + alen; p < end;) {
        const char *c = memchr(p, ',', (size_t)(end - p));
        size_t n = (size_t)((c ? c : end) - p);
        bool found = false;
        for (const char *q = b, *bend = b + blen; q < bend && !found;) {
            const char *d = memchr(q, ',', (size_t)(bend - q));
            size_t m = (size_t)((d ? d : bend) - q);
            found = m == n && memcmp(p, q, n) == 0;
            q = d ? d + 1 : bend;
        }
        if (!found && n && p[0] == '+') {
            *flen = n;
            return p;
        }
        p = c ? c + 1 : end;
    }
    return NULL;
}

whirl_error_t *jit_native_key_check(const char *file_key, size_t len)
{
    char *mine = jit_native_key();
    if (!mine)
        return error_fmt("native code cannot run here: LLVM has no native target on this host");
    const char *a[KEY_FIELDS], *b[KEY_FIELDS];
    size_t alen[KEY_FIELDS], blen[KEY_FIELDS];
    whirl_error_t *err = NULL;
    if (!split_key(file_key, len, a, alen) || !split_key(mine, strlen(mine), b, blen)) {
        err = error_fmt("corrupted precompiled module: malformed native code key");
        goto done;
    }
    for (int i = 0; i < KEY_FIELDS && !err; i++) {
        if (alen[i] == blen[i] && memcmp(a[i], b[i], alen[i]) == 0)
            continue;
        if (i == 2) {
            size_t n = 0;
            const char *f = feature_missing(a[i], alen[i], b[i], blen[i], &n);
            if (f) {
                err = error_fmt("precompiled module's native code needs CPU feature %.*s, which "
                                "this CPU lacks: compile it again on this machine",
                                (int)n, f + 1);
                continue;
            }
            f = feature_missing(b[i], blen[i], a[i], alen[i], &n);
            err = error_fmt("precompiled module's native code was made for other CPU features "
                            "(this CPU has %.*s, the compiling one did not): compile it again "
                            "on this machine",
                            f ? (int)n - 1 : 1, f ? f + 1 : "?");
            continue;
        }
        err = error_fmt("precompiled module's native code was made for %s %.*s, this is %.*s: "
                        "compile it again on this machine",
                        key_fields[i], (int)(alen[i] > 200 ? 200 : alen[i]), a[i],
                        (int)(blen[i] > 200 ? 200 : blen[i]), b[i]);
    }
done:
    free(mine);
    return err;
}
