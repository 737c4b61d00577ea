/* The versions whirl defines WASI 0.3 at, shared by src/wasi3 and
 * `whirl serve`'s wasi:http 0.3 (src/serve/wasihttp3.c), which has no other
 * use for src/wasi3's internals. */
#ifndef WHIRL_WASI3_VERSIONS_H
#define WHIRL_WASI3_VERSIONS_H

#include <stddef.h>

/* The versions the WASI 0.3 interfaces are defined at: the release, then
 * the release candidates that toolchains in use still emit (Spin 4's
 * `spin:up@4.0.0` world and its SDKs import WASI at 0.3.0-rc-2026-03-15).
 * A prerelease version only matches itself, so each is defined by name; the
 * same functions and resource types serve all of them, as the candidate's
 * WIT is the release's (function signatures and types compared one by one;
 * only trailing commas and the order of type definitions differ). wasi:http
 * 0.3's handler and types (src/serve/wasihttp3.h) follow the same list. */
extern const char *const w3_versions[];
extern const size_t w3_nversions;

#endif
