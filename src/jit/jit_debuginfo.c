/* DWARF for generated code (`-D debug-info`), built with LLVM's DIBuilder
 * while translate.c builds the IR, so that a native debugger sees guest
 * functions, lines and locals (gdb_jit.c registers the result with gdb).
 *
 * Lines: when the module carries DWARF (clang -g), each Wasm instruction
 * gets the guest source line src/debug/dwarf.c finds for its byte offset
 * (the innermost inlined function's line: where the code really is), so
 * gdb steps by source line; otherwise each instruction's line is its byte
 * offset in the module, in a pseudo file "wasm-offsets", which still lets
 * gdb break by function name and step instruction by instruction (and the
 * numbers match trap messages and `wasm-objdump -d`).
 *
 * Locals: every Wasm local (parameters first, as Wasm numbers them) is a
 * variable `localN` of type i32/i64/f32/f64/v128/ref, described on its
 * alloca. The guest's own variables are not translated: clang's DWARF
 * places them in Wasm locals and in linear memory by DW_OP_WASM_location
 * expressions and location lists, which this first version leaves out.
 *
 * Debug mode also skips the O2 pipeline (jit.c): the allocas stay, so
 * the variables always hold the Wasm locals' current values, and lines
 * follow the source order. */
#include "jit/jit_debuginfo.h"

#include <llvm-c/DebugInfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debug/dwarf.h"

#define PSEUDO_FILE "wasm-offsets"
#define MAX_FILES 4096 /* distinct source files described; more share the pseudo file */

typedef struct di_file {
    const char *path; /* owned by guest (libdw's strings) */
    LLVMMetadataRef file;
} di_file_t;

struct jt_debug {
    LLVMDIBuilderRef dib;
    LLVMContextRef llctx;
    LLVMMetadataRef cu, pseudo_file, subroutine_type;
    LLVMMetadataRef types[8]; /* per type kind below */
    debug_info_t *guest;      /* the module's DWARF, or NULL */
    di_file_t *files;
    size_t nfiles, files_cap;
    /* The function being translated. */
    LLVMMetadataRef sp, sp_file;
    LLVMMetadataRef last_loc;
    uint32_t last_offset;
    /* Module offset where the guest's DWARF ends the function's prologue;
     * instructions before it are line 0, so that LLVM flags the first
     * instruction of the function's first statement prologue_end and gdb
     * breaks there, with the parameters stored (as natively). */
    uint32_t prologue_end;
};

enum { TY_I32, TY_I64, TY_F32, TY_F64, TY_V128, TY_REF, TY_COUNT };

static LLVMMetadataRef basic_type(LLVMDIBuilderRef dib, const char *name, uint64_t bits,
                                  unsigned encoding)
{
    return LLVMDIBuilderCreateBasicType(dib, name, strlen(name), bits, encoding, LLVMDIFlagZero);
}

static void add_flag(jt_module_t *jm, const char *key, unsigned value)
{
    LLVMAddModuleFlag(jm->mod, LLVMModuleFlagBehaviorWarning, key, strlen(key),
                      LLVMValueAsMetadata(LLVMConstInt(jm->i32, value, false)));
}

jt_debug_t *jt_debug_new(jt_module_t *jm)
{
    jt_debug_t *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->llctx = jm->llctx;
    d->guest = debug_info_from_wasm(jm->wasm);
    /* The record form of debug intrinsics (LLVM 19's default) is what
     * LLVMDIBuilderInsertDeclareRecordAtEnd makes. */
    LLVMSetIsNewDbgInfoFormat(jm->mod, true);
    d->dib = LLVMCreateDIBuilder(jm->mod);
    d->pseudo_file = LLVMDIBuilderCreateFile(d->dib, PSEUDO_FILE, strlen(PSEUDO_FILE), "", 0);
    static const char producer[] = "whirl LLVM tier";
    /* C: the language gdb evaluates `print localN` in. */
    d->cu = LLVMDIBuilderCreateCompileUnit(d->dib, LLVMDWARFSourceLanguageC, d->pseudo_file,
                                           producer, sizeof producer - 1, false, "", 0, 0, "",
                                           0, LLVMDWARFEmissionFull, 0, false, false, "", 0,
                                           "", 0);
    d->subroutine_type = LLVMDIBuilderCreateSubroutineType(d->dib, d->pseudo_file, NULL, 0,
                                                           LLVMDIFlagZero);
    d->types[TY_I32] = basic_type(d->dib, "i32", 32, 0x05 /* DW_ATE_signed */);
    d->types[TY_I64] = basic_type(d->dib, "i64", 64, 0x05);
    d->types[TY_F32] = basic_type(d->dib, "f32", 32, 0x04 /* DW_ATE_float */);
    d->types[TY_F64] = basic_type(d->dib, "f64", 64, 0x04);
    d->types[TY_V128] = basic_type(d->dib, "v128", 128, 0x08 /* DW_ATE_unsigned */);
    d->types[TY_REF] = basic_type(d->dib, "ref", 64, 0x08);
    /* DWARF 4: what every gdb and perf reads. */
    add_flag(jm, "Dwarf Version", 4);
    add_flag(jm, "Debug Info Version", LLVMDebugMetadataVersion());
    return d;
}

static LLVMMetadataRef type_of(jt_debug_t *d, wasm_valtype_t t)
{
    switch (t) {
    case WASM_I32: return d->types[TY_I32];
    case WASM_I64: return d->types[TY_I64];
    case WASM_F32: return d->types[TY_F32];
    case WASM_F64: return d->types[TY_F64];
    case WASM_V128: return d->types[TY_V128];
    default: return d->types[TY_REF];
    }
}

/* The DIFile of a source path (libdw's string: the same pointer for the
 * same file, compared by content too). */
static LLVMMetadataRef file_of(jt_debug_t *d, const char *path)
{
    if (!path)
        return d->pseudo_file;
    for (size_t i = 0; i < d->nfiles; i++)
        if (d->files[i].path == path || strcmp(d->files[i].path, path) == 0)
            return d->files[i].file;
    if (d->nfiles == d->files_cap) {
        size_t cap = d->files_cap ? d->files_cap * 2 : 16;
        di_file_t *p = cap <= MAX_FILES ? realloc(d->files, cap * sizeof *p) : NULL;
        if (!p)
            return d->pseudo_file;
        d->files = p;
        d->files_cap = cap;
    }
    /* Split into directory and name: gdb joins them to find the source. */
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    size_t dir_len = slash ? (size_t)(slash - path) : 0;
    LLVMMetadataRef f = LLVMDIBuilderCreateFile(d->dib, name, strlen(name), path, dir_len);
    d->files[d->nfiles++] = (di_file_t){path, f};
    return f;
}

/* The guest's source location of module offset `offset`, or false. */
static bool guest_line(jt_debug_t *d, uint32_t offset, whirl_source_location_t *where,
                       bool outermost)
{
    if (!d->guest)
        return false;
    whirl_source_location_t locs[16];
    size_t n = debug_info_locate(d->guest, offset, locs, 16);
    if (n == 0)
        return false;
    *where = locs[outermost ? (n < 16 ? n : 16) - 1 : 0];
    return where->line != 0;
}

void jt_debug_func_begin(jt_func_t *f, const wasm_func_t *fn)
{
    jt_debug_t *d = f->jm->debug;
    const wasm_module_t *m = f->jm->wasm;
    uint32_t start = (uint32_t)(fn->code - m->bytes);
    char fallback[40];
    const char *name = m->func_names ? m->func_names[f->func_index] : NULL;
    if (!name) {
        /* A C identifier, so that `break wasm_function_7` parses. */
        snprintf(fallback, sizeof fallback, "wasm_function_%u", f->func_index);
        name = fallback;
    }
    whirl_source_location_t where;
    LLVMMetadataRef file = d->pseudo_file;
    unsigned line = start;
    if (guest_line(d, start, &where, true)) {
        file = file_of(d, where.file);
        line = where.line;
    }
    d->sp = LLVMDIBuilderCreateFunction(d->dib, file, name, strnlen(name, 4096), NULL, 0, file,
                                        line, d->subroutine_type, true, true, line,
                                        LLVMDIFlagPrototyped, false);
    d->sp_file = file;
    LLVMSetSubprogram(f->fn, d->sp);
    /* Frame pointers: gdb unwinds any frame the .debug_frame rows miss. */
    LLVMAddAttributeAtIndex(f->fn, LLVMAttributeFunctionIndex,
                            LLVMCreateStringAttribute(d->llctx, "frame-pointer", 13, "all", 3));
    d->prologue_end =
        (uint32_t)debug_info_prologue_end(d->guest, start, (size_t)(fn->code_end - m->bytes));
    /* Line 0 until the first instruction: the locals' setup and the entry
     * checks are whirl's prologue, not the guest's code. */
    d->last_loc = LLVMDIBuilderCreateDebugLocation(d->llctx, 0, 0, d->sp, NULL);
    d->last_offset = UINT32_MAX;
    LLVMSetCurrentDebugLocation2(f->b, d->last_loc);
}

void jt_debug_locals(jt_func_t *f)
{
    jt_debug_t *d = f->jm->debug;
    LLVMMetadataRef expr = LLVMDIBuilderCreateExpression(d->dib, NULL, 0);
    unsigned line = LLVMDISubprogramGetLine(d->sp);
    LLVMMetadataRef loc = LLVMDIBuilderCreateDebugLocation(d->llctx, line, 0, d->sp, NULL);
    for (uint32_t i = 0; i < f->nlocals; i++) {
        char name[24];
        int n = snprintf(name, sizeof name, "local%u", i);
        LLVMMetadataRef ty = type_of(d, f->local_types[i]);
        LLVMMetadataRef var =
            i < f->type->nparams
                ? LLVMDIBuilderCreateParameterVariable(d->dib, d->sp, name, (size_t)n, i + 1,
                                                       d->sp_file, line, ty, true,
                                                       LLVMDIFlagZero)
                : LLVMDIBuilderCreateAutoVariable(d->dib, d->sp, name, (size_t)n, d->sp_file,
                                                  line, ty, true, LLVMDIFlagZero, 0);
        LLVMDIBuilderInsertDeclareRecordAtEnd(d->dib, f->locals[i], var, expr, loc,
                                              LLVMGetInsertBlock(f->b));
    }
}

void jt_debug_at(jt_func_t *f)
{
    jt_debug_t *d = f->jm->debug;
    if (f->op_offset == d->last_offset)
        return;
    d->last_offset = f->op_offset;
    whirl_source_location_t where;
    LLVMMetadataRef loc;
    if (f->op_offset < d->prologue_end) {
        loc = LLVMDIBuilderCreateDebugLocation(d->llctx, 0, 0, d->sp, NULL);
    } else if (d->guest) {
        /* An offset the guest's DWARF says nothing of keeps the line before. */
        if (!guest_line(d, f->op_offset, &where, false))
            return;
        /* The line's own file only when it is the subprogram's: a line of
         * an inlined function's header elsewhere would need a scope in that
         * file (a lexical block), which this version does not make. */
        LLVMMetadataRef scope = d->sp;
        if (file_of(d, where.file) != d->sp_file)
            scope = LLVMDIBuilderCreateLexicalBlockFile(d->dib, d->sp, file_of(d, where.file), 0);
        loc = LLVMDIBuilderCreateDebugLocation(d->llctx, where.line, where.column, scope, NULL);
    } else {
        loc = LLVMDIBuilderCreateDebugLocation(d->llctx, f->op_offset, 0, d->sp, NULL);
    }
    d->last_loc = loc;
    LLVMSetCurrentDebugLocation2(f->b, loc);
}

void jt_debug_func_end(jt_func_t *f)
{
    f->jm->debug->sp = NULL;
    LLVMSetCurrentDebugLocation2(f->b, NULL);
}

/* Functions whirl adds around the guest's (entry trampolines "e<N>",
 * runtime thunks) get an artificial subprogram and line 0 throughout, so
 * that gdb names them in a backtrace and unwinds through them by their
 * .debug_frame rows rather than guessing. */
static void describe_helpers(jt_debug_t *d, jt_module_t *jm)
{
    for (LLVMValueRef fn = LLVMGetFirstFunction(jm->mod); fn; fn = LLVMGetNextFunction(fn)) {
        if (LLVMIsDeclaration(fn) || LLVMGetSubprogram(fn))
            continue;
        size_t len = 0;
        const char *llname = LLVMGetValueName2(fn, &len);
        char name[200];
        unsigned index = 0;
        int used = 0;
        if (sscanf(llname, "e%u%n", &index, &used) == 1 && (size_t)used == len &&
            index < wasm_module_func_count(jm->wasm) && jm->wasm->func_names &&
            jm->wasm->func_names[index])
            snprintf(name, sizeof name, "%.160s.entry", jm->wasm->func_names[index]);
        else
            snprintf(name, sizeof name, "whirl.%.160s", llname);
        LLVMMetadataRef sp = LLVMDIBuilderCreateFunction(
            d->dib, d->pseudo_file, name, strlen(name), NULL, 0, d->pseudo_file, 0,
            d->subroutine_type, true, true, 0, LLVMDIFlagArtificial | LLVMDIFlagPrototyped, false);
        LLVMSetSubprogram(fn, sp);
        LLVMMetadataRef loc = LLVMDIBuilderCreateDebugLocation(d->llctx, 0, 0, sp, NULL);
        for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
            for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in))
                LLVMInstructionSetDebugLoc(in, loc);
        LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                                LLVMCreateStringAttribute(d->llctx, "frame-pointer", 13, "all", 3));
    }
}

void jt_debug_finish(jt_debug_t *d, jt_module_t *jm)
{
    describe_helpers(d, jm);
    LLVMDIBuilderFinalize(d->dib);
}

void jt_debug_free(jt_debug_t *d)
{
    if (!d)
        return;
    if (d->dib)
        LLVMDisposeDIBuilder(d->dib);
    /* After the module is emitted: the file paths are libdw's strings. */
    debug_info_release(d->guest);
    free(d->files);
    free(d);
}

/* ---- call lines: where each call returns, in optimised code ----
 *
 * Backtraces name the call a return address on the stack comes back from
 * (jit_binding.c native_sites). Without debug info each call gets a
 * location of its own, line = its Wasm byte offset, in a line-tables-only
 * compile unit: the code generator records it in .debug_line for free
 * (a location is a field every machine instruction has), and the object's
 * line program maps the call instruction's bytes to the offset
 * (jit_pcmap.c). Only calls carry locations; `nomerge` keeps LLVM from
 * folding two calls of different offsets into one (its locations would
 * merge into line 0). Debug-info mode, whose lines are the guest's source
 * lines, marks its calls with jit_binding.c's inline-assembler labels. */

jt_debug_t *jt_calls_new(jt_module_t *jm)
{
    jt_debug_t *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->llctx = jm->llctx;
    LLVMSetIsNewDbgInfoFormat(jm->mod, true);
    d->dib = LLVMCreateDIBuilder(jm->mod);
    d->pseudo_file = LLVMDIBuilderCreateFile(d->dib, PSEUDO_FILE, strlen(PSEUDO_FILE), "", 0);
    static const char producer[] = "whirl LLVM tier";
    d->cu = LLVMDIBuilderCreateCompileUnit(d->dib, LLVMDWARFSourceLanguageC, d->pseudo_file,
                                           producer, sizeof producer - 1, true, "", 0, 0, "",
                                           0, LLVMDWARFEmissionLineTablesOnly, 0, false, false,
                                           "", 0, "", 0);
    d->subroutine_type = LLVMDIBuilderCreateSubroutineType(d->dib, d->pseudo_file, NULL, 0,
                                                           LLVMDIFlagZero);
    /* DWARF 4: the line program header jit_pcmap.c reads. */
    add_flag(jm, "Dwarf Version", 4);
    add_flag(jm, "Debug Info Version", LLVMDebugMetadataVersion());
    return d;
}

void jt_calls_func_begin(jt_func_t *f)
{
    jt_debug_t *d = f->jm->calls;
    char name[32];
    int n = snprintf(name, sizeof name, "f%u", f->func_index);
    LLVMMetadataRef sp = LLVMDIBuilderCreateFunction(d->dib, d->pseudo_file, name, (size_t)n,
                                                     NULL, 0, d->pseudo_file, 0,
                                                     d->subroutine_type, true, true, 0,
                                                     LLVMDIFlagZero, true);
    LLVMSetSubprogram(f->fn, sp);
}

bool jt_calls_mark(jt_func_t *f, LLVMValueRef call, uint32_t offset)
{
    LLVMMetadataRef sp = f->jm->calls ? LLVMGetSubprogram(f->fn) : NULL;
    /* Line 0 is "no line" in DWARF: no call sits at the module's first byte. */
    if (!sp || offset == 0)
        return false;
    LLVMInstructionSetDebugLoc(call, LLVMDIBuilderCreateDebugLocation(f->jm->llctx, offset, 0,
                                                                      sp, NULL));
    unsigned nomerge = LLVMGetEnumAttributeKindForName("nomerge", 7);
    LLVMAddCallSiteAttribute(call, LLVMAttributeFunctionIndex,
                             LLVMCreateEnumAttribute(f->jm->llctx, nomerge, 0));
    return true;
}

void jt_calls_finish(jt_debug_t *d) { LLVMDIBuilderFinalize(d->dib); }
