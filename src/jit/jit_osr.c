/* On-stack replacement: native code that a running interpreter frame can
 * move into at a loop header (docs/ARCHITECTURE.md, "Tiers").
 *
 * The auto tier compiles a function when it is hot, but an invocation
 * already running in the interpreter (a `main` whose loop does all the
 * work, a kernel called once) would otherwise finish there. For such a
 * frame the tier asks for a variant of the function that starts at the
 * loop where the frame is: "o<index>_<loop>" (translate.c,
 * jt_translate_osr) is the function translated as usual except that its
 * entry loads every local from the interpreter's frame slots and jumps to
 * that loop's header. Only loops with an empty operand stack qualify
 * (compiled_func_t.osr_loops: the locals are then the whole state), so
 * nothing else has to cross. Its trampoline "s<index>_<loop>" has the slot
 * ABI of the entry trampolines (ctx, slots): the interpreter calls it with
 * its frame and takes the results from slot 0 on as the function's own,
 * returning them to its caller.
 *
 * The variants of one compilation are listed in OSR_TABLE (a count, then
 * per request its trampoline and its variant, NULL where the variant could
 * not be built), read back after linking as JIT_FUNC_TABLE is. */
#include <stdio.h>
#include <stdlib.h>

#include "compile/code.h"
#include "jit/jit_internal.h"
#include "runtime/trap_signal.h"
#include "util/error.h"

#define OSR_TABLE "whirl_osr_table"

/* s<index>_<loop>(ctx, slots): calls the variant, results to slots. */
static LLVMValueRef build_trampoline(jt_module_t *jm, LLVMBuilderRef b, LLVMValueRef o,
                                     uint32_t index, uint32_t loop)
{
    const wasm_functype_t *t = wasm_module_func_type(jm->wasm, index);
    char name[40];
    snprintf(name, sizeof name, "s%u_%u", index, loop);
    LLVMTypeRef params[] = {jm->ptr, jm->ptr};
    LLVMValueRef fn = LLVMAddFunction(jm->mod, name, LLVMFunctionType(jm->void_t, params, 2, false));
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(jm->llctx, fn, "entry"));
    LLVMValueRef slots = LLVMGetParam(fn, 1);
    LLVMValueRef args[] = {LLVMGetParam(fn, 0), slots};
    LLVMValueRef call = LLVMBuildCall2(b, LLVMGlobalGetValueType(o), o, args, 2, "");
    LLVMSetInstructionCallConv(call, jm->cc);
    unsigned noinline = LLVMGetEnumAttributeKindForName("noinline", 8);
    LLVMAddCallSiteAttribute(call, LLVMAttributeFunctionIndex,
                             LLVMCreateEnumAttribute(jm->llctx, noinline, 0));
    for (uint32_t i = 0, at = 0; i < t->nresults; at += slots_of(t->results[i]), i++) {
        LLVMValueRef v = t->nresults == 1 ? call : LLVMBuildExtractValue(b, call, i, "");
        LLVMValueRef idx = LLVMConstInt(jm->i64, at, false);
        LLVMValueRef st = LLVMBuildStore(b, v, LLVMBuildGEP2(b, jm->i64, slots, &idx, 1, ""));
        LLVMSetAlignment(st, 8);
    }
    LLVMBuildRetVoid(b);
    LLVMSetLinkage(o, LLVMPrivateLinkage);
    LLVMSetLinkage(fn, LLVMPrivateLinkage);
    return fn;
}

void jit_osr_translate(jt_module_t *jm, const uint32_t *requests, size_t n)
{
    if (!n)
        return;
    LLVMValueRef *entries = calloc(2 * n + 1, sizeof *entries);
    if (!entries)
        return; /* jit_osr_link finds no table: no variants */
    LLVMBuilderRef b = LLVMCreateBuilderInContext(jm->llctx);
    LLVMValueRef null = LLVMConstPointerNull(jm->ptr);
    entries[0] = LLVMConstIntToPtr(LLVMConstInt(jm->i64, n, false), jm->ptr);
    const wasm_module_t *m = jm->wasm;
    for (size_t i = 0; i < n; i++) {
        uint32_t index = requests[2 * i], loop = requests[2 * i + 1];
        LLVMValueRef o = NULL;
        const char *why = "not a defined function";
        /* Debug info follows the ordinary functions only. */
        if (index >= m->nfunc_imports && index < wasm_module_func_count(m) && loop && !jm->debug)
            o = jt_translate_osr(jm, index, loop, &why);
        entries[1 + 2 * i] = o ? build_trampoline(jm, b, o, index, loop) : null;
        entries[2 + 2 * i] = o ? o : null;
    }
    LLVMDisposeBuilder(b);
    LLVMValueRef init = LLVMConstArray2(jm->ptr, entries, 2 * n + 1);
    LLVMValueRef table = LLVMAddGlobal(jm->mod, LLVMTypeOf(init), OSR_TABLE);
    LLVMSetInitializer(table, init);
    LLVMSetGlobalConstant(table, true);
    free(entries);
}

whirl_error_t *jit_osr_link(jit_code_t *code, size_t n)
{
    if (!n)
        return NULL;
    LLVMOrcExecutorAddress addr = 0;
    LLVMErrorRef e = LLVMOrcLLJITLookup(code->jit, &addr, OSR_TABLE);
    if (e) {
        LLVMConsumeError(e); /* no table (out of memory when made): no variants */
        return NULL;
    }
    void *const *table = (void *const *)(uintptr_t)addr;
    if ((uintptr_t)table[0] != n)
        return error_fmt("jit: %llu on-stack replacement entries for %zu requests",
                         (unsigned long long)(uintptr_t)table[0], n);
    code->osr = calloc(n, sizeof *code->osr);
    if (!code->osr)
        return error_oom();
    code->nosr = n;
    uintptr_t lowest = UINTPTR_MAX;
    for (size_t i = 0; i < n; i++) {
        void *entry = table[1 + 2 * i], *body = table[2 + 2 * i];
        if (!entry != !body)
            return error_fmt("jit: half an on-stack replacement entry (request %zu)", i);
        code->osr[i] = entry;
        if (body && (uintptr_t)body < lowest)
            lowest = (uintptr_t)body;
        if (entry && (uintptr_t)entry < lowest)
            lowest = (uintptr_t)entry;
    }
    /* The variants bound the call-site marks' functions too. */
    uintptr_t *starts = calloc(2 * n + 1, sizeof *starts);
    if (!starts)
        return error_oom();
    for (size_t i = 0; i < n; i++) {
        starts[2 * i] = (uintptr_t)table[1 + 2 * i];
        starts[2 * i + 1] = (uintptr_t)table[2 + 2 * i];
    }
    jit_pcmap_add_starts(code, starts, 2 * n);
    free(starts);
    /* The registered range (jit_object.c register_code: guarded code's
     * faults are traps only inside it, backtraces find code by it) starts
     * at the lowest function the function table names: widen it to the
     * variants (they lie before the end marker). */
    if (code->code_start && lowest < code->code_start) {
        trap_signal_code_remove(code->code_start);
        if (!trap_signal_code_add(lowest, (uintptr_t)code->code_end, code, code->guarded))
            return error_oom();
        code->code_start = lowest;
    }
    return NULL;
}

void *jit_code_osr_entry(const jit_code_t *code, size_t request)
{
    return code->osr && request < code->nosr ? code->osr[request] : NULL;
}
