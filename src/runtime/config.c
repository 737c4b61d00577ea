/* Engine configuration. */
#include <stdlib.h>

#include "runtime/internal.h"

whirl_config_t *whirl_config_new(void)
{
    whirl_config_t *config = calloc(1, sizeof *config);
    if (!config)
        return NULL;
    config->max_wasm_stack = WHIRL_DEFAULT_MAX_WASM_STACK;
    return config;
}

void whirl_config_delete(whirl_config_t *config) { free(config); }

whirl_error_t *whirl_config_max_wasm_stack_set(whirl_config_t *config, size_t bytes)
{
    if (!config)
        return error_fmt("whirl_config_max_wasm_stack_set: config is NULL");
    if (bytes < 4096 || bytes > ((size_t)1 << 30))
        return error_fmt("max wasm stack of %zu bytes is out of range (4 KiB to 1 GiB)", bytes);
    config->max_wasm_stack = bytes;
    return NULL;
}
