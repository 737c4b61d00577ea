/* WASI 0.3 on the host: the interfaces at @0.3.0, defined in the same
 * linker and over the same context (whirl_wasi2_t: configuration, sandbox,
 * descriptors, object table) as WASI 0.2, so that a command importing both
 * versions (every wasm32-wasip3 toolchain's output does) sees one guest.
 *
 * Files: link.c (what is defined at 0.3.0: the interfaces whose shape did
 * not change from 0.2 reuse src/wasi2's functions under their 0.3 names),
 * clocks.c (wasi:clocks 0.3: system-clock, monotonic-clock with its async
 * waits), filesystem.c (wasi:filesystem 0.3 over 0.2's filesystem and
 * sandbox). docs/COMPONENT-ASYNC.md has the status and plan. */
#ifndef WHIRL_WASI3_H
#define WHIRL_WASI3_H

#include "wasi2/internal.h"

#define WASI3_VERSION "0.3.0"

/* Defines the WASI 0.3 interfaces of `groups` (WHIRL_WASI2_* bits) in
 * `linker`, calling through host `h` (its lookup and resource types). */
whirl_error_t *w3_add_to_linker(whirl_component_linker_t *linker, whirl_wasi2_host_t *h,
                                uint32_t groups);

/* The functions of wasi:clocks 0.3 (clocks.c). */
extern const w2_def_t w3_clock_defs[];
extern const size_t w3_clock_ndefs;

/* The functions of wasi:filesystem 0.3 (filesystem.c). */
extern const w2_def_t w3_fs_defs[];
extern const size_t w3_fs_ndefs;

#endif
