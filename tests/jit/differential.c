/*
 * whirl-jit-diff: the LLVM tier against the interpreter on the spec tests.
 *
 *   whirl-jit-diff [-v] FILE.json [FILE.json...]
 *
 * Reads wast2json scripts with the spec runner's own code (tests/spec/
 * runner.c is compiled into this file, its main renamed), so values,
 * expectations and NaN rules are the spec runner's. Every module is
 * instantiated as the spec runner does and compiled whole by the JIT (a
 * compile error fails the module). Each assert_return, assert_trap,
 * assert_exhaustion and invoke action then runs twice on the same
 * instance: in the interpreter, then, from the same state (memories,
 * globals, tables and dropped segments are saved before and restored in
 * between), in compiled code through the JIT binding. A command passes when
 * the JIT's outcome meets the expectation and equals the interpreter's:
 * results bit for bit (NaN results or v128 lanes where the spec allows any
 * NaN of a kind: both of that kind), the same trap code, and the same
 * state after.
 *
 * Skipped, with the reason counted per file ("skip-reason: ..." lines):
 * commands whose function the JIT leaves to the interpreter (tail
 * calls, multi-memory: run in the interpreter only, for their effects), host
 * function exports, and `get` actions (no function to compile). Module
 * validation commands test the decoder and validator, not the
 * JIT; they run in whirl-spec and are not counted here (failed
 * instantiations do run, as whirl-spec runs them: their partial writes to
 * shared tables and memories are state later commands see).
 */
#define main whirl_spec_runner_main
#include "runner.c"
#undef main

#include "jit/jit.h"
#include "jit/jit_binding.h"
#include "runtime/runtime.h"

/* ------------------------------------------------------------------ */
/* Compiled modules and contexts                                       */
/* ------------------------------------------------------------------ */

typedef struct jit_module_entry {
    const whirl_module_t *module;
    jit_code_t *code;   /* NULL if compiling failed */
} jit_module_entry_t;

typedef struct jit_instance_entry {
    whirl_instance_t *instance;
    jit_ctx_t *ctx;
} jit_instance_entry_t;

typedef struct skip_reason {
    const char *reason;
    unsigned count;
} skip_reason_t;

static struct {
    jit_module_entry_t *mods;
    size_t nmods;
    jit_instance_entry_t *insts;
    size_t ninsts;
    skip_reason_t reasons[16];
    size_t nreasons;
    double compile_ms;
    uint64_t code_bytes;
} J;

static void jit_skip(runner_t *r, const char *why)
{
    size_t i;
    for (i = 0; i < J.nreasons; i++)
        if (strcmp(J.reasons[i].reason, why) == 0)
            break;
    if (i == J.nreasons && J.nreasons < 16)
        J.reasons[J.nreasons++] = (skip_reason_t){why, 0};
    if (i < J.nreasons)
        J.reasons[i].count++;
    skip(r, why);
}

/* The compiled code of `m`, compiling it on first use. */
static jit_code_t *code_for(runner_t *r, const whirl_module_t *m, sbuf_t *why)
{
    for (size_t i = 0; i < J.nmods; i++)
        if (J.mods[i].module == m) {
            if (!J.mods[i].code)
                sb_printf(why, "the module failed to compile");
            return J.mods[i].code;
        }
    jit_options_t opt = {.verify = true};
    jit_code_t *code = NULL;
    whirl_error_t *err = jit_compile(m->wasm, &opt, &code);
    if (err) {
        sb_printf(why, "%s", errmsg(err));
        whirl_error_delete(err);
        code = NULL;
    } else {
        const jit_stats_t *s = jit_code_stats(code);
        J.compile_ms += s->translate_ms + s->optimize_ms + s->codegen_ms;
        J.code_bytes += s->code_bytes;
    }
    J.mods = xrealloc(J.mods, (J.nmods + 1) * sizeof *J.mods);
    J.mods[J.nmods++] = (jit_module_entry_t){m, code};
    (void)r;
    return code;
}

static jit_ctx_t *ctx_for(runner_t *r, whirl_instance_t *inst, sbuf_t *why)
{
    for (size_t i = 0; i < J.ninsts; i++)
        if (J.insts[i].instance == inst)
            return J.insts[i].ctx;
    jit_code_t *code = code_for(r, inst->module, why);
    if (!code)
        return NULL;
    jit_ctx_t *ctx = xmalloc(sizeof *ctx);
    jit_ctx_init(ctx, inst, code);
    J.insts = xrealloc(J.insts, (J.ninsts + 1) * sizeof *J.insts);
    J.insts[J.ninsts++] = (jit_instance_entry_t){inst, ctx};
    return ctx;
}

static void jit_state_free(void)
{
    for (size_t i = 0; i < J.nmods; i++)
        jit_code_free(J.mods[i].code);
    for (size_t i = 0; i < J.ninsts; i++)
        free(J.insts[i].ctx);
    free(J.mods);
    free(J.insts);
    J.mods = NULL;
    J.insts = NULL;
    J.nmods = J.ninsts = 0;
}

/* ------------------------------------------------------------------ */
/* Instance state: saved, restored, compared                           */
/* ------------------------------------------------------------------ */

typedef struct state {
    uint32_t nmem, nglob, ntab, ndata, nelem;
    uint8_t **mem;
    uint64_t *mem_size;
    global_value_t *glob;
    wasm_valtype_t *glob_type;
    uint32_t *tab_size;
    void ***tab;
    bool *data_dropped, *elem_dropped;
} state_t;

static void state_take(whirl_instance_t *inst, state_t *s)
{
    const wasm_module_t *m = inst->module->wasm;
    memset(s, 0, sizeof *s);
    s->nmem = wasm_module_memory_count(m);
    s->nglob = wasm_module_global_count(m);
    s->ntab = wasm_module_table_count(m);
    s->ndata = m->ndatas;
    s->nelem = m->nelems;
    s->mem = xmalloc(s->nmem * sizeof *s->mem);
    s->mem_size = xmalloc(s->nmem * sizeof *s->mem_size);
    for (uint32_t i = 0; i < s->nmem; i++) {
        whirl_memory_t *mem = inst->vm.memories[i];
        s->mem_size[i] = mem->size;
        s->mem[i] = xmalloc(mem->size);
        memcpy(s->mem[i], mem->base, mem->size);
    }
    s->glob = xmalloc(s->nglob * sizeof *s->glob);
    s->glob_type = xmalloc((s->nglob + 1) * sizeof *s->glob_type);
    for (uint32_t i = 0; i < s->nglob; i++) {
        s->glob[i] = inst->vm.globals[i]->value;
        s->glob_type[i] = inst->vm.globals[i]->type;
    }
    s->tab_size = xmalloc(s->ntab * sizeof *s->tab_size);
    s->tab = xmalloc(s->ntab * sizeof *s->tab);
    for (uint32_t i = 0; i < s->ntab; i++) {
        whirl_table_t *t = inst->vm.tables[i];
        s->tab_size[i] = t->size;
        s->tab[i] = xmalloc(t->size * sizeof(void *));
        memcpy(s->tab[i], t->elems, t->size * sizeof(void *));
    }
    s->data_dropped = xmalloc(s->ndata + 1);
    memcpy(s->data_dropped, inst->data_dropped, s->ndata);
    s->elem_dropped = xmalloc(s->nelem + 1);
    memcpy(s->elem_dropped, inst->elem_dropped, s->nelem);
}

/* Puts the instance back as `s` found it. Memory that grew since is zeroed
 * and given back, so growing it again shows zeroes as the first time. */
static void state_restore(whirl_instance_t *inst, const state_t *s)
{
    for (uint32_t i = 0; i < s->nmem; i++) {
        whirl_memory_t *mem = inst->vm.memories[i];
        if (mem->size > s->mem_size[i]) {
            memset(mem->base + s->mem_size[i], 0, mem->size - s->mem_size[i]);
            mem->store->hosting.memory_consumed -= mem->size - s->mem_size[i];
            mem->size = s->mem_size[i];
        }
        memcpy(mem->base, s->mem[i], s->mem_size[i]);
    }
    for (uint32_t i = 0; i < s->nglob; i++)
        inst->vm.globals[i]->value = s->glob[i];
    for (uint32_t i = 0; i < s->ntab; i++) {
        whirl_table_t *t = inst->vm.tables[i];
        t->size = s->tab_size[i];
        memcpy(t->elems, s->tab[i], t->size * sizeof(void *));
    }
    memcpy(inst->data_dropped, s->data_dropped, s->ndata);
    memcpy(inst->elem_dropped, s->elem_dropped, s->nelem);
}

static bool same_exn(const whirl_exn_t *a, const whirl_exn_t *b);

/* The bytes of a global's value that hold it: an i32 or f32 in the
 * interpreter's 64-bit slot may carry any upper half, which no read sees. */
static size_t global_width(wasm_valtype_t t)
{
    switch (t) {
    case WASM_I32:
    case WASM_F32: return 4;
    case WASM_I64:
    case WASM_F64: return 8;
    case WASM_V128: return 16;
    default: return sizeof(void *);
    }
}

/* NULL if equal, else what differs first. */
static const char *state_diff(const state_t *a, const state_t *b, char *buf, size_t n)
{
    for (uint32_t i = 0; i < a->nmem; i++) {
        if (a->mem_size[i] != b->mem_size[i]) {
            snprintf(buf, n, "memory %u size %llu vs %llu", i, (unsigned long long)a->mem_size[i],
                     (unsigned long long)b->mem_size[i]);
            return buf;
        }
        for (uint64_t k = 0; k < a->mem_size[i]; k++)
            if (a->mem[i][k] != b->mem[i][k]) {
                snprintf(buf, n, "memory %u byte 0x%llx: 0x%02x vs 0x%02x", i,
                         (unsigned long long)k, a->mem[i][k], b->mem[i][k]);
                return buf;
            }
    }
    for (uint32_t i = 0; i < a->nglob; i++)
        if (wasm_ref_top(a->glob_type[i]) == WASM_EXNREF
                ? !same_exn(a->glob[i].slot.ref, b->glob[i].slot.ref)
                : memcmp(&a->glob[i], &b->glob[i], global_width(a->glob_type[i])) != 0) {
            snprintf(buf, n, "global %u: 0x%llx vs 0x%llx", i,
                     (unsigned long long)a->glob[i].slot.u64, (unsigned long long)b->glob[i].slot.u64);
            return buf;
        }
    for (uint32_t i = 0; i < a->ntab; i++)
        if (a->tab_size[i] != b->tab_size[i] ||
            memcmp(a->tab[i], b->tab[i], a->tab_size[i] * sizeof(void *)) != 0) {
            snprintf(buf, n, "table %u differs", i);
            return buf;
        }
    if (memcmp(a->data_dropped, b->data_dropped, a->ndata) ||
        memcmp(a->elem_dropped, b->elem_dropped, a->nelem)) {
        snprintf(buf, n, "dropped segments differ");
        return buf;
    }
    return NULL;
}

static void state_free(state_t *s)
{
    for (uint32_t i = 0; i < s->nmem; i++)
        free(s->mem[i]);
    for (uint32_t i = 0; i < s->ntab; i++)
        free(s->tab[i]);
    free(s->mem);
    free(s->mem_size);
    free(s->glob);
    free(s->glob_type);
    free(s->tab_size);
    free(s->tab);
    free(s->data_dropped);
    free(s->elem_dropped);
}

/* ------------------------------------------------------------------ */
/* Commands                                                            */
/* ------------------------------------------------------------------ */

static bool same_bits(const whirl_val_t *a, const whirl_val_t *b);

/* Each tier's run makes its own exception objects: an exnref agrees when
 * both are null or both are exceptions of the same tag and values. */
static bool same_exn(const whirl_exn_t *a, const whirl_exn_t *b)
{
    if (a == b)
        return true;
    if (!a || !b || whirl_exn_tag(a) != whirl_exn_tag(b))
        return false;
    size_t n = whirl_exn_value_count(a);
    for (size_t i = 0; i < n; i++) {
        whirl_val_t va, vb;
        whirl_exn_value(a, i, &va);
        whirl_exn_value(b, i, &vb);
        if (!same_bits(&va, &vb))
            return false;
    }
    return true;
}

static bool same_bits(const whirl_val_t *a, const whirl_val_t *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case WHIRL_I32: return a->of.i32 == b->of.i32;
    case WHIRL_F32: return f32_bits(a->of.f32) == f32_bits(b->of.f32);
    case WHIRL_I64: return a->of.i64 == b->of.i64;
    case WHIRL_F64: return f64_bits(a->of.f64) == f64_bits(b->of.f64);
    case WHIRL_FUNCREF: return a->of.funcref == b->of.funcref;
    case WHIRL_EXTERNREF: return a->of.externref == b->of.externref;
    case WHIRL_EXNREF: return same_exn(a->of.exnref, b->of.exnref);
    case WHIRL_V128: return memcmp(a->of.v128, b->of.v128, 16) == 0;
    }
    return false;
}

/* Whether `e` lets a result (or, for v128, a lane) be any NaN of a kind:
 * then each tier's result need only be of that kind (which of two NaN
 * operands' payloads an operation keeps is the spec's free choice). */
static bool has_nan_pattern(const expect_t *e)
{
    if (e->mode != MATCH_EXACT)
        return e->mode != MATCH_ANY_REF;
    if (e->val.kind != WHIRL_V128)
        return false;
    for (unsigned i = 0; i < e->lanes && i < 16; i++)
        if (e->lane_mode[i] != MATCH_EXACT)
            return true;
    return false;
}

static int trap_of(const whirl_error_t *err)
{
    whirl_trap_code_t code;
    if (!err)
        return 0;
    return whirl_error_is_trap(err, &code) ? (int)code : -1;
}

typedef enum { EXPECT_RETURN, EXPECT_TRAP, EXPECT_NOTHING } expect_kind_t;

/* Whether `v` matches one of the `n` alternatives of an `either`. */
static bool either_matches(const whirl_val_t *v, const expect_t *alts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (value_matches(v, &alts[i]))
            return true;
    return false;
}

static bool either_nan_pattern(const expect_t *alts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (has_nan_pattern(&alts[i]))
            return true;
    return false;
}

/* Runs an invoke through both tiers and judges it. */
static void cmd_differential(runner_t *r, const cJSON *cmd, expect_kind_t kind)
{
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(cmd, "action");
    describe_action(r, action);
    char wb[2048] = "";
    sbuf_t why = {wb, sizeof wb, 0};
    const char *type = json_str(action, "type");
    if (!type || strcmp(type, "invoke") != 0) {
        jit_skip(r, "get action (no function to compile)");
        return;
    }
    whirl_instance_t *inst = target_instance(r, json_str(action, "module"), &why);
    if (!inst) {
        report(r, false, "%s", wb);
        return;
    }
    size_t flen;
    char *field = json_bytes(cJSON_GetObjectItemCaseSensitive(action, "field"), &flen);
    whirl_extern_t ext;
    bool found = field && whirl_instance_export(inst, field, flen, &ext);
    free(field);
    if (!found || ext.kind != WHIRL_EXTERN_FUNC) {
        report(r, false, "no such function export");
        return;
    }
    whirl_func_t *fn = ext.of.func;
    if (fn->kind != FUNC_WASM) {
        jit_skip(r, "host function export");
        return;
    }
    whirl_instance_t *owner = fn->instance;
    jit_ctx_t *ctx = ctx_for(r, owner, &why);
    if (!ctx) {
        report(r, false, "%s", wb);
        return;
    }
    uint32_t index = fn->code->func_index;
    const char *not_compiled = NULL;
    bool compiled = jit_code_compiled(ctx->code, index, &not_compiled);

    const cJSON *args = cJSON_GetObjectItemCaseSensitive(action, "args");
    size_t nargs = cJSON_IsArray(args) ? (size_t)cJSON_GetArraySize(args) : 0;
    whirl_val_t *argv = xmalloc((nargs + 1) * sizeof *argv);
    size_t i = 0;
    const cJSON *a;
    if (nargs)
        cJSON_ArrayForEach(a, args) {
            if (!parse_value(a, &argv[i], NULL, &why)) {
                report(r, false, "%s", wb);
                free(argv);
                return;
            }
            i++;
        }
    if (!compiled) {
        /* Still run in the interpreter, so that later commands see its
         * effects (a memory.copy of another memory, say), then skipped. */
        whirl_val_t *res = xmalloc((fn->type->nresults + 1) * sizeof *res);
        arm_deadline(r);
        whirl_error_delete(whirl_func_call(r->store, fn, argv, nargs, res, fn->type->nresults));
        free(res);
        free(argv);
        jit_skip(r, not_compiled);
        return;
    }
    const cJSON *expected = cJSON_GetObjectItemCaseSensitive(cmd, "expected");
    /* Relaxed SIMD's `(either ...)`: one result, any of nexp values. */
    const cJSON *either = kind == EXPECT_RETURN ? cJSON_GetObjectItemCaseSensitive(cmd, "either") : NULL;
    if (cJSON_IsArray(either))
        expected = either;
    else
        either = NULL;
    size_t nexp = kind == EXPECT_RETURN && cJSON_IsArray(expected)
                      ? (size_t)cJSON_GetArraySize(expected) : 0;
    expect_t *exp = xmalloc((nexp + 1) * sizeof *exp);
    i = 0;
    const cJSON *e;
    if (nexp)
        cJSON_ArrayForEach(e, expected) {
            if (!parse_value(e, &exp[i].val, &exp[i], &why)) {
                report(r, false, "bad expectation: %s", wb);
                free(exp);
                free(argv);
                return;
            }
            i++;
        }

    const wasm_functype_t *ft = fn->type;
    size_t nres = ft->nresults;
    whirl_val_t *res_i = xmalloc((nres + 1) * sizeof *res_i);
    whirl_val_t *res_j = xmalloc((nres + 1) * sizeof *res_j);
    memset(res_i, 0, (nres + 1) * sizeof *res_i);
    memset(res_j, 0, (nres + 1) * sizeof *res_j);

    state_t before, after_i, after_j;
    state_take(owner, &before);
    arm_deadline(r);
    whirl_error_t *err_i = whirl_func_call(r->store, fn, argv, nargs, res_i, nres);
    state_take(owner, &after_i);
    state_restore(owner, &before);
    arm_deadline(r);
    whirl_error_t *err_j = jit_call(ctx, index, argv, res_j);
    state_take(owner, &after_j);

    char diff[256];
    int ti = trap_of(err_i), tj = trap_of(err_j);
    bool ok = true;
    if (ti != tj) {
        ok = false;
        sb_printf(&why, "interpreter: ");
        if (err_i) sb_error(&why, err_i); else sb_printf(&why, "returned");
        sb_printf(&why, "; jit: ");
        if (err_j) sb_error(&why, err_j); else sb_printf(&why, "returned");
    } else if (tj < 0) {
        ok = false;
        sb_printf(&why, "both tiers failed without a trap: ");
        sb_error(&why, err_j);
    } else if (!err_j) {
        for (i = 0; ok && i < nres; i++) {
            bool agree;
            if (either)
                agree = same_bits(&res_i[i], &res_j[i]) ||
                        (either_nan_pattern(exp, nexp) && either_matches(&res_i[i], exp, nexp) &&
                         either_matches(&res_j[i], exp, nexp));
            else if (i < nexp && has_nan_pattern(&exp[i]))
                agree = value_matches(&res_i[i], &exp[i]) && value_matches(&res_j[i], &exp[i]);
            else
                agree = same_bits(&res_i[i], &res_j[i]);
            if (!agree) {
                ok = false;
                sb_printf(&why, "result %zu: interpreter ", i);
                sb_value(&why, &res_i[i], NULL);
                sb_printf(&why, ", jit ");
                sb_value(&why, &res_j[i], NULL);
            }
        }
    }
    const char *sd = ok ? state_diff(&after_i, &after_j, diff, sizeof diff) : NULL;
    if (sd) {
        ok = false;
        sb_printf(&why, "state after the call: interpreter vs jit: %s", sd);
    }
    /* Then the expectation (the interpreter's own is whirl-spec's job). */
    if (ok && either) {
        if (err_j || nres != 1 || !either_matches(&res_j[0], exp, nexp)) {
            ok = false;
            sb_printf(&why, "jit: ");
            if (err_j) sb_error(&why, err_j); else if (nres != 1) sb_printf(&why, "%zu results", nres);
            else sb_value(&why, &res_j[0], exp[0].lane_type);
            sb_printf(&why, ", expected one of %zu values", nexp);
        }
    } else if (ok && kind == EXPECT_RETURN) {
        if (err_j || nres != nexp) {
            ok = false;
            sb_printf(&why, "jit: ");
            if (err_j) sb_error(&why, err_j); else sb_printf(&why, "%zu results, expected %zu", nres, nexp);
        }
        for (i = 0; ok && i < nexp; i++)
            if (!value_matches(&res_j[i], &exp[i])) {
                ok = false;
                sb_printf(&why, "jit result %zu: ", i);
                sb_value(&why, &res_j[i], exp[i].lane_type);
                sb_printf(&why, ", expected ");
                sb_expect(&why, &exp[i]);
            }
    } else if (ok && kind == EXPECT_TRAP) {
        whirl_trap_code_t want = trap_code_for_text(json_str(cmd, "text"));
        if (!err_j || (want && tj != (int)want)) {
            ok = false;
            sb_printf(&why, "jit: ");
            if (err_j) sb_error(&why, err_j); else sb_printf(&why, "returned");
            sb_printf(&why, ", expected trap \"%s\"", json_str(cmd, "text") ? json_str(cmd, "text") : "?");
        }
    }
    report(r, ok, ok ? NULL : "%s", wb);

    whirl_error_delete(err_i);
    whirl_error_delete(err_j);
    state_free(&before);
    state_free(&after_i);
    state_free(&after_j);
    free(res_i);
    free(res_j);
    free(exp);
    free(argv);
}

/* A module (or `module instance` of a definition, `instantiate`):
 * instantiated as whirl-spec does, then compiled by the JIT. */
static void cmd_jit_module(runner_t *r, const cJSON *cmd,
                           void (*instantiate)(runner_t *r, const cJSON *cmd))
{
    unsigned failed = r->failed;
    instantiate(r, cmd);
    if (r->failed != failed || !r->current)
        return;
    r->what = (sbuf_t){r->what_buf, sizeof r->what_buf, 0};
    sb_printf(&r->what, "jit compile");
    char wb[1024] = "";
    sbuf_t why = {wb, sizeof wb, 0};
    if (ctx_for(r, r->current, &why))
        report(r, true, NULL);
    else
        report(r, false, "%s", wb);
}

static void run_jit_command(runner_t *r, const cJSON *cmd)
{
    const char *type = json_str(cmd, "type");
    const cJSON *line = cJSON_GetObjectItemCaseSensitive(cmd, "line");
    r->line = cJSON_IsNumber(line) ? line->valueint : 0;
    r->what = (sbuf_t){r->what_buf, sizeof r->what_buf, 0};
    r->what_buf[0] = 0;
    sb_printf(&r->what, "%s", type ? type : "(no type)");
    if (!type)
        report(r, false, "command without a type");
    else if (strcmp(type, "module") == 0)
        cmd_jit_module(r, cmd, cmd_module);
    else if (strcmp(type, "module_definition") == 0)
        cmd_module_definition(r, cmd);
    else if (strcmp(type, "module_instance") == 0)
        cmd_jit_module(r, cmd, cmd_module_instance);
    else if (strcmp(type, "register") == 0)
        cmd_register(r, cmd);
    else if (strcmp(type, "assert_return") == 0)
        cmd_differential(r, cmd, EXPECT_RETURN);
    else if (strcmp(type, "assert_trap") == 0 || strcmp(type, "assert_exhaustion") == 0)
        cmd_differential(r, cmd, EXPECT_TRAP);
    else if (strcmp(type, "action") == 0)
        cmd_differential(r, cmd, EXPECT_NOTHING);
    /* Failed instantiations may leave writes to shared tables and
     * memories behind that later commands observe: run them as whirl-spec
     * does. */
    else if (strcmp(type, "assert_unlinkable") == 0)
        cmd_assert_instantiate_fails(r, cmd, false);
    else if (strcmp(type, "assert_uninstantiable") == 0)
        cmd_assert_instantiate_fails(r, cmd, true);
    /* assert_invalid, assert_malformed: not the JIT's (see the top). */
}

/* Like the spec runner's run_file, with the commands above. */
static bool run_jit_file(const char *path, bool verbose, unsigned totals[3])
{
    runner_t r = {.verbose = verbose, .timeout_s = 10};
    size_t len;
    uint8_t *raw = read_file(path, &len);
    if (!raw) {
        printf("%s: cannot read: %s\n%s: 0 passed, 1 failed, 0 skipped\n", path, strerror(errno), path);
        totals[1]++;
        return false;
    }
    char *text = mark_nuls(raw, len);
    free(raw);
    cJSON *root = cJSON_Parse(text);
    free(text);
    const cJSON *commands = cJSON_GetObjectItemCaseSensitive(root, "commands");
    if (!root || !cJSON_IsArray(commands)) {
        printf("%s: not a wast2json script\n%s: 0 passed, 1 failed, 0 skipped\n", path, path);
        cJSON_Delete(root);
        totals[1]++;
        return false;
    }
    char *name = display_name(path, root);
    r.wast = name;
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        strcpy(dir, ".");
    r.dir = dir;
    J.nreasons = 0;
    J.compile_ms = 0;
    J.code_bytes = 0;

    whirl_error_t *err = whirl_engine_new(NULL, &r.engine);
    if (!err) {
        r.store = whirl_store_new(r.engine, NULL, NULL);
        if (!r.store)
            err = whirl_error_new("whirl_store_new failed");
    }
    if (!err)
        err = rebuild_linker(&r);
    if (err) {
        printf("  FAIL: setting up the engine: %s\n", errmsg(err));
        whirl_error_delete(err);
        r.failed++;
    } else {
        r.ticker = ticker_start(r.engine, TICK_MS);
        const cJSON *cmd;
        cJSON_ArrayForEach(cmd, commands) run_jit_command(&r, cmd);
    }
    if (r.failed > MAX_REPORTED && !verbose)
        printf("  ... %u more failures not shown\n", r.failed - MAX_REPORTED);
    for (size_t i = 0; i < J.nreasons; i++)
        printf("  skip-reason: %s: %u\n", J.reasons[i].reason, J.reasons[i].count);
    printf("  jit-compile: %.1f ms for %llu bytes of code\n", J.compile_ms,
           (unsigned long long)J.code_bytes);
    printf("%s: %u passed, %u failed, %u skipped\n", name, r.passed, r.failed, r.skipped);
    fflush(stdout);
    totals[0] += r.passed;
    totals[1] += r.failed;
    totals[2] += r.skipped;

    ticker_stop(r.ticker);
    whirl_linker_delete(r.linker);
    jit_state_free();
    whirl_store_delete(r.store);
    for (size_t i = 0; i < r.nmodules; i++)
        whirl_module_delete(r.modules[i]);
    free(r.modules);
    whirl_engine_delete(r.engine);
    free_names(r.named, r.nnamed);
    free_definitions(&r);
    free_names(r.registered, r.nregistered);
    free(dir);
    free(name);
    cJSON_Delete(root);
    return r.failed == 0;
}

int main(int argc, char **argv)
{
    bool verbose = false;
    unsigned totals[3] = {0, 0, 0};
    bool ok = true;
    int nfiles = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0) {
            verbose = true;
            continue;
        }
        ok &= run_jit_file(argv[i], verbose, totals);
        nfiles++;
    }
    if (!nfiles) {
        fprintf(stderr, "usage: whirl-jit-diff [-v] FILE.json [FILE.json...]\n");
        return 2;
    }
    if (nfiles > 1)
        printf("%u passed, %u failed, %u skipped\n", totals[0], totals[1], totals[2]);
    return ok ? 0 : 1;
}
