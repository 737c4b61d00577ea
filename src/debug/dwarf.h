/* Source locations of guest code from the module's DWARF (clang -g).
 *
 * A module's `.debug_*` custom sections are copied, on the first trap or
 * query that needs them (never at load), into a reference-counted
 * debug_info_t: the module holds one reference and so does every trap
 * backtrace frame in it, so an error outlives its module safely. The
 * sections are parsed by libdw on the first location query. */
#ifndef WHIRL_DEBUG_DWARF_H
#define WHIRL_DEBUG_DWARF_H

#include <stddef.h>

#include "whirl.h"

typedef struct debug_info debug_info_t;

/* The module's debug info, or NULL when it carries no `.debug_info` (or
 * memory ran out). Borrowed: the module owns it; retain it to keep it
 * past the module. Thread-safe; the first call per module copies the
 * sections. */
debug_info_t *debug_info_of(whirl_module_t *module);

/* A new reference (release it) to the DWARF of a decoded module, for
 * callers without a whirl_module_t (the LLVM tier's debug info, which
 * compiles from the wasm_module_t). NULL without `.debug_info`. */
struct wasm_module;
debug_info_t *debug_info_from_wasm(const struct wasm_module *w);

void debug_info_retain(debug_info_t *info);
void debug_info_release(debug_info_t *info); /* NULL is fine */

/* Locations of the instruction at byte `offset` of the module binary:
 * innermost inlined function first (see whirl_error_frame_source). Writes
 * up to `max` entries and returns how many there are; 0 when the DWARF
 * says nothing of that offset or cannot be read. Strings live as long as
 * `info`. Thread-safe. */
size_t debug_info_locate(debug_info_t *info, size_t offset, whirl_source_location_t *out,
                         size_t max);

/* Where the function whose code lies in module offsets [start, end) ends
 * its prologue (the first line row flagged prologue_end in that range, as
 * a module offset), or 0 when the DWARF flags none. Thread-safe. */
size_t debug_info_prologue_end(debug_info_t *info, size_t start, size_t end);

/* The module's reference, dropped when the module is freed. */
void debug_info_module_free(whirl_module_t *module);

#endif
