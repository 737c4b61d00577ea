/* whirl-dump FILE.wasm [FUNC_INDEX]: prints the internal code whirl compiles
 * each function into. A developer tool: it reads engine internals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile/dump.h"
#include "exec/exec.h"
#include "runtime/runtime.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: whirl-dump FILE.wasm [FUNC_INDEX]\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 4;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *bytes = malloc(len > 0 ? (size_t)len : 1);
    if (!bytes || fread(bytes, 1, (size_t)len, f) != (size_t)len) {
        fprintf(stderr, "%s: read error\n", argv[1]);
        return 4;
    }
    fclose(f);
    whirl_engine_t *engine;
    whirl_module_t *module;
    whirl_error_t *err = whirl_engine_new(NULL, &engine);
    if (!err)
        err = whirl_module_new(engine, bytes, (size_t)len, &module);
    free(bytes);
    if (err) {
        fprintf(stderr, "%s\n", whirl_error_message(err));
        whirl_error_delete(err);
        return 1;
    }
    long only = argc > 2 ? strtol(argv[2], NULL, 0) : -1;
    const compiled_module_t *cm = module->code;
    for (uint32_t i = 0; i < cm->nfuncs; i++) {
        if (only < 0 || (uint32_t)only == cm->funcs[i].func_index) {
            /* The module holds the interpreter's form; the dump reads ops. */
            compiled_func_t f = cm->funcs[i];
            code_word_t *ops = malloc((size_t)f.code_len * sizeof *ops);
            if (!ops)
                return 4;
            memcpy(ops, f.code, (size_t)f.code_len * sizeof *ops);
            exec_code_to_ops(ops, f.code_len);
            f.code = ops;
            compiled_func_dump(stdout, &f);
            free(ops);
        }
    }
    whirl_module_delete(module);
    whirl_engine_delete(engine);
    return 0;
}
