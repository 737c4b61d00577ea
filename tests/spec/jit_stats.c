/* See jit_stats.h. Reads the module's internals (its jit_code_t), which
 * the public API does not expose. */
#include "jit_stats.h"

#include <string.h>

#include "runtime/runtime.h"
#ifdef WHIRL_HAVE_JIT
#include "jit/jit.h"
#endif

#define MAX_REASONS 32

static struct {
    unsigned compiled, interpreted;
    struct {
        const char *why;
        unsigned n;
    } reasons[MAX_REASONS];
    unsigned nreasons;
} stats;

static void count_reason(const char *why)
{
    stats.interpreted++;
    for (unsigned i = 0; i < stats.nreasons; i++)
        if (strcmp(stats.reasons[i].why, why) == 0) {
            stats.reasons[i].n++;
            return;
        }
    if (stats.nreasons < MAX_REASONS)
        stats.reasons[stats.nreasons++] = (typeof(stats.reasons[0])){why, 1};
    else
        stats.reasons[MAX_REASONS - 1].n++; /* folded into the last one */
}

void spec_jit_stats_add(const whirl_module_t *module)
{
    const wasm_module_t *w = module->wasm;
    uint32_t nfuncs = wasm_module_func_count(w);
    for (uint32_t i = w->nfunc_imports; i < nfuncs; i++) {
#ifdef WHIRL_HAVE_JIT
        const char *why = NULL;
        if (!module->jit)
            count_reason("module not compiled (tier is not jit, or LLVM failed)");
        else if (jit_code_compiled(module->jit, i, &why))
            stats.compiled++;
        else
            count_reason(why ? why : "not compiled");
#else
        count_reason("built without the LLVM tier");
#endif
    }
}

void spec_jit_stats_print(FILE *out)
{
    fprintf(out, "  jit-functions: %u compiled, %u interpreted\n", stats.compiled,
            stats.interpreted);
    for (unsigned i = 0; i < stats.nreasons; i++)
        fprintf(out, "  jit-interpreted: %s: %u\n", stats.reasons[i].why, stats.reasons[i].n);
    memset(&stats, 0, sizeof stats);
}
