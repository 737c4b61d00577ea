/*
 * Calls every exported function of a module and expects each call to trap
 * with WHIRL_TRAP_INTERRUPT once the store's epoch deadline has passed; a
 * function that is never interrupted hangs, and ctest's timeout fails the
 * test. Exported functions with parameters get zeros. "recursion-..."
 * exports may also end with `call stack exhausted`.
 *
 *   regress-expect-interrupt FILE.wasm
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

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: regress-expect-interrupt FILE.wasm\n");
        return 2;
    }
    size_t len;
    unsigned char *wasm = read_file(argv[1], &len);
    if (!wasm) {
        perror(argv[1]);
        return 2;
    }
    whirl_engine_t *engine;
    whirl_module_t *module;
    whirl_error_t *err = whirl_engine_new(NULL, &engine);
    if (!err)
        err = whirl_module_new(engine, wasm, len, &module);
    free(wasm);
    if (err) {
        fprintf(stderr, "%s: %s\n", argv[1], whirl_error_message(err));
        return 2;
    }
    whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
    whirl_instance_t *inst;
    if ((err = whirl_instance_new(store, module, NULL, 0, &inst))) {
        fprintf(stderr, "%s: %s\n", argv[1], whirl_error_message(err));
        return 2;
    }
    unsigned passed = 0, failed = 0;
    for (size_t i = 0; i < whirl_module_export_count(module); i++) {
        whirl_export_info_t info;
        whirl_extern_t ext;
        if (!whirl_module_export(module, i, &info) || info.kind != WHIRL_EXTERN_FUNC ||
            !whirl_instance_export(inst, info.name, info.name_len, &ext))
            continue;
        const whirl_functype_t *t = whirl_func_type(ext.of.func);
        size_t np = whirl_functype_param_count(t), nr = whirl_functype_result_count(t);
        whirl_val_t args[8], results[8];
        if (np > 8 || nr > 8)
            continue;
        memset(args, 0, sizeof args);
        for (size_t k = 0; k < np; k++)
            args[k].kind = whirl_functype_param(t, k);
        printf("%.*s: ", (int)info.name_len, info.name);
        fflush(stdout);
        whirl_store_set_epoch_deadline(store, 3);
        err = whirl_func_call(store, ext.of.func, args, np, results, nr);
        whirl_trap_code_t code = 0;
        bool trapped = err && whirl_error_is_trap(err, &code);
        bool ok = trapped && (code == WHIRL_TRAP_INTERRUPT ||
                              (code == WHIRL_TRAP_STACK_EXHAUSTED &&
                               info.name_len >= 9 && !memcmp(info.name, "recursion", 9)));
        printf("%s%s\n", ok ? "ok" : "FAILED: ",
               ok ? "" : err ? whirl_error_message(err) : "returned normally");
        ok ? passed++ : failed++;
        whirl_error_delete(err);
    }
    whirl_store_delete(store);
    whirl_module_delete(module);
    whirl_engine_delete(engine);
    printf("%u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
