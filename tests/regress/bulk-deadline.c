/*
 * Bulk operations must notice a deadline that passes before or while they
 * run (issue 13, item 2). Runs every export of bulk-deadline.wat in a store
 * whose deadline the guest moves to "now" through the host function
 * env.expire, then checks the outcome its name asks for:
 *
 *   interrupt-*  traps with `interrupt`, the innermost frame being the
 *                export's own function
 *   nested-*     the same, one call deeper: two frames, $inner then the export
 *   oob-*        traps out of bounds (memory or table), not `interrupt`
 *
 * and, for all of them, that the exported memory and table are unchanged
 * (the deadline had passed before the first chunk, and bounds are checked
 * before any write).
 *
 *   regress-bulk-deadline FILE.wasm
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whirl.h"

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = NULL;
    size_t n = 0, cap = 0, got;
    do {
        if (n == cap) {
            unsigned char *bigger = realloc(buf, cap = cap ? 2 * cap : 4096);
            if (!bigger) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = bigger;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    *len = n;
    return buf;
}

static whirl_error_t *expire(void *env, whirl_caller_t *caller, const whirl_val_t *args,
                             size_t nargs, whirl_val_t *results, size_t nresults)
{
    (void)env, (void)args, (void)nargs, (void)results, (void)nresults;
    whirl_store_set_epoch_deadline(whirl_caller_store(caller), 0);
    return NULL;
}

/* The observable state a bulk operation may change. */
typedef struct {
    unsigned char *mem;
    size_t mem_len;
    whirl_func_t **tab;
    uint64_t tab_len;
} snapshot_t;

static bool snapshot_take(whirl_instance_t *inst, snapshot_t *s)
{
    whirl_extern_t mem, tab;
    if (!whirl_instance_export(inst, "mem", 3, &mem) || mem.kind != WHIRL_EXTERN_MEMORY ||
        !whirl_instance_export(inst, "tab", 3, &tab) || tab.kind != WHIRL_EXTERN_TABLE)
        return false;
    s->mem_len = whirl_memory_data_size(mem.of.memory);
    s->mem = malloc(s->mem_len);
    s->tab_len = whirl_table_size(tab.of.table);
    s->tab = calloc(s->tab_len ? s->tab_len : 1, sizeof *s->tab);
    if (!s->mem || !s->tab)
        return false;
    memcpy(s->mem, whirl_memory_data(mem.of.memory), s->mem_len);
    for (uint64_t i = 0; i < s->tab_len; i++) {
        whirl_val_t v;
        whirl_error_t *err = whirl_table_get(tab.of.table, i, &v);
        if (err) {
            whirl_error_delete(err);
            return false;
        }
        s->tab[i] = v.of.funcref;
    }
    return true;
}

static bool snapshot_equal(const snapshot_t *a, const snapshot_t *b)
{
    return a->mem_len == b->mem_len && !memcmp(a->mem, b->mem, a->mem_len) &&
           a->tab_len == b->tab_len && !memcmp(a->tab, b->tab, a->tab_len * sizeof *a->tab);
}

static void snapshot_free(snapshot_t *s)
{
    free(s->mem);
    free(s->tab);
    memset(s, 0, sizeof *s);
}

static bool has_prefix(const char *name, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && !memcmp(name, prefix, n);
}

/* What went wrong with one export's call, or NULL if it behaved. */
static const char *check_call(const whirl_export_info_t *info, whirl_error_t *err,
                              char *why, size_t why_len)
{
    whirl_trap_code_t code;
    if (!err)
        return "returned normally";
    if (!whirl_error_is_trap(err, &code))
        return whirl_error_message(err);
    bool oob = has_prefix(info->name, info->name_len, "oob-");
    bool nested = has_prefix(info->name, info->name_len, "nested-");
    if (oob) {
        if (code != WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS && code != WHIRL_TRAP_TABLE_OUT_OF_BOUNDS) {
            snprintf(why, why_len, "expected an out-of-bounds trap, got: %s",
                     whirl_error_message(err));
            return why;
        }
        return NULL;
    }
    if (code != WHIRL_TRAP_INTERRUPT) {
        snprintf(why, why_len, "expected interrupt, got: %s", whirl_error_message(err));
        return why;
    }
    /* The export's function, or $inner under it: the trap is raised at the
     * bulk operation, not at a function entry further in. */
    size_t frames = whirl_error_frame_count(err);
    const char *name = NULL;
    uint32_t index;
    size_t offset;
    if (frames != (nested ? 2u : 1u) || !whirl_error_frame(err, 0, &index, &name, &offset) ||
        (nested && (!name || strcmp(name, "inner") != 0))) {
        snprintf(why, why_len, "unexpected backtrace (%zu frames, innermost %s): %s", frames,
                 name ? name : "unnamed", whirl_error_message(err));
        return why;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: regress-bulk-deadline FILE.wasm\n");
        return 2;
    }
    size_t len;
    unsigned char *wasm = read_file(argv[1], &len);
    if (!wasm) {
        perror(argv[1]);
        return 2;
    }
    whirl_engine_t *engine;
    whirl_module_t *module = NULL;
    whirl_error_t *err = whirl_engine_new(NULL, &engine);
    if (!err)
        err = whirl_module_new(engine, wasm, len, &module);
    free(wasm);
    if (err) {
        fprintf(stderr, "%s: %s\n", argv[1], whirl_error_message(err));
        return 2;
    }
    whirl_linker_t *linker = whirl_linker_new(engine);
    whirl_functype_t *type = whirl_functype_new(NULL, 0, NULL, 0);
    if ((err = whirl_linker_define_func(linker, "env", "expire", type, expire, NULL, NULL))) {
        fprintf(stderr, "%s\n", whirl_error_message(err));
        return 2;
    }
    whirl_functype_delete(type);

    unsigned passed = 0, failed = 0;
    for (size_t i = 0; i < whirl_module_export_count(module); i++) {
        whirl_export_info_t info;
        if (!whirl_module_export(module, i, &info) || info.kind != WHIRL_EXTERN_FUNC)
            continue;
        /* A fresh instance per export: a trapped one is not reused. */
        whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
        whirl_instance_t *inst;
        if ((err = whirl_linker_instantiate(linker, store, module, &inst))) {
            fprintf(stderr, "%s: %s\n", argv[1], whirl_error_message(err));
            return 2;
        }
        whirl_extern_t ext;
        snapshot_t before = {0}, after = {0};
        if (!whirl_instance_export(inst, info.name, info.name_len, &ext) ||
            !snapshot_take(inst, &before)) {
            fprintf(stderr, "%.*s: cannot read the instance\n", (int)info.name_len, info.name);
            return 2;
        }
        const whirl_functype_t *t = whirl_func_type(ext.of.func);
        whirl_val_t results[1];
        size_t nr = whirl_functype_result_count(t);
        err = whirl_func_call(store, ext.of.func, NULL, 0, results, nr);
        char why[512];
        const char *problem = check_call(&info, err, why, sizeof why);
        if (!problem && (!snapshot_take(inst, &after) || !snapshot_equal(&before, &after)))
            problem = "memory or table changed";
        printf("%.*s: %s%s\n", (int)info.name_len, info.name, problem ? "FAILED: " : "ok",
               problem ? problem : "");
        problem ? failed++ : passed++;
        whirl_error_delete(err);
        snapshot_free(&before);
        snapshot_free(&after);
        whirl_store_delete(store);
    }
    whirl_linker_delete(linker);
    whirl_module_delete(module);
    whirl_engine_delete(engine);
    printf("%u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
