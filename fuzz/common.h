/* Pieces shared by the fuzz targets and the differential driver. */
#ifndef WHIRL_FUZZ_COMMON_H
#define WHIRL_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "whirl.h"

/* The error's message, never NULL. */
const char *fz_errmsg(const whirl_error_t *err);

/* Reads a whole file into a malloc'd buffer; NULL (errno set) on failure. */
uint8_t *fz_read_file(const char *path, size_t *len);

/* Zero of a value kind (null for references). */
whirl_val_t fz_zero(whirl_valkind_t kind);

/* Host function for every function import (env: its whirl_functype_t):
 * zero results; looks up the caller's "memory" export. */
whirl_error_t *fz_stub(void *env, whirl_caller_t *caller, const whirl_val_t *args, size_t nargs,
                       whirl_val_t *results, size_t nresults);

/* Instantiates `module` in `store` with every import made to match it
 * (functions: `stub` with their type as env; tables, memories, globals and
 * tags: new ones of the imported type, zero/null filled), through a linker
 * when the import names allow it, otherwise by position (names holding NUL
 * bytes, or one (module, name) pair imported with two types). */
whirl_error_t *fz_instantiate(whirl_engine_t *engine, whirl_store_t *store,
                              whirl_module_t *module, whirl_host_callback_t stub,
                              whirl_instance_t **inst);

#endif
