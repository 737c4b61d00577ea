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

#endif
