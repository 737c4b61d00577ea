/* The auto tier: see jit_tier.h. */
#include "jit/jit_tier.h"

void tier_auto_module(whirl_module_t *module) { (void)module; }
void tier_auto_module_free(whirl_module_t *module) { (void)module; }
void tier_auto_hot(whirl_module_t *module, const compiled_func_t *f)
{
    (void)module;
    (void)f;
}
