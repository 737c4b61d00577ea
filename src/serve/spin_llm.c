/* fermyon:spin/llm@2.0.0: no model can be loaded by whirl, so infer and
 * generate-embeddings answer the interface's own model-not-supported error
 * (logged), never a trap. Defined so that apps importing the interface (a
 * Spin SDK links every interface whether the app uses it or not) load. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "serve/spin_host.h"

#define errorf whirl_error_newf

#define LLM "fermyon:spin/llm@2.0.0"

enum { MODEL_NOT_SUPPORTED = 0 }; /* the error case */

static whirl_error_t *llm_call(void *env, whirl_store_t *store,
                               const whirl_component_func_t *type, const whirl_cval_t *args,
                               size_t nargs, whirl_cval_t *results, size_t nresults)
{
    (void)type;
    if (nresults != 1)
        return errorf(LLM ".%s: wrong result count", (const char *)env);
    spin_req_t *r = spin_req_of(store);
    const char *model = spin_arg_string(args, nargs, 0);
    if (r)
        serve_log("component '%s': " LLM ".%s: model '%s': no model can be loaded by whirl",
                  r->in->comp->id, (const char *)env, model ? model : "");
    return spin_result_err(results, MODEL_NOT_SUPPORTED, NULL);
}

whirl_error_t *spin_llm_link(whirl_component_linker_t *l)
{
    whirl_error_t *e = whirl_component_linker_define_func(l, LLM, "infer", llm_call,
                                                          (void *)"infer", NULL);
    if (!e)
        e = whirl_component_linker_define_func(l, LLM, "generate-embeddings", llm_call,
                                               (void *)"generate-embeddings", NULL);
    return e;
}
