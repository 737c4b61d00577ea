/* The compilation cache directory (cache.c): entries of bytes under keys,
 * each kept with the module bytes it was made from. It knows nothing of
 * modules or engines: the runtime (runtime/module_cache.c) decides what
 * goes in (serialised modules) and what a hit means, and passes a log
 * callback for what it should hear about. */
#ifndef WHIRL_CACHE_CACHE_H
#define WHIRL_CACHE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache/image.h"
#include "whirl.h"

#define CACHE_KEY_HEX 32

typedef struct cache_log {
    void (*log)(void *ctx, whirl_log_level_t level, const char *event, const char *detail);
    void *ctx;
} cache_log_t;

enum cache_stat { CACHE_STAT_HITS, CACHE_STAT_MISSES, CACHE_STAT_INVALID, CACHE_STAT_EVICTIONS,
                  CACHE_NSTATS };

/* XXH3-128 of the original binary in the first 16 bytes of `out`, zeros
 * after: names a serialised module's source. Not what protects the cache
 * (entries compare the bytes in full). */
void cache_source_digest(const uint8_t *data, size_t len, uint8_t out[32]);

/* The entry name for `wasm` under `salt` (everything else the entry depends
 * on: format, build, code flags, native code key). */
void cache_key(const void *salt, size_t salt_len, const uint8_t *wasm, size_t len,
               char hex[CACHE_KEY_HEX + 1]);

/* Looks entry `key` up in `dir`. 1: found, made from exactly `wasm`;
 * image->file holds its stored bytes (the source trailer cut off from
 * file.len, image->source pointing at the trailer's copy of the module),
 * which the caller now owns, and the entry is marked used. 0: no entry. -1: an
 * entry that cannot be read or was made from other bytes (*why set). */
int cache_lookup(const char *dir, const char *key, const uint8_t *wasm, size_t len,
                 module_image_t *image, whirl_error_t **why);

/* Stores `data` (taken over: freed here) as entry `key` made from `wasm`,
 * atomically, then evicts least recently used entries past `max_size`.
 * Trouble is logged through `log` (the cache keeps working without it). */
void cache_store(const char *dir, const char *key, uint8_t *data, size_t len,
                 const uint8_t *wasm, size_t wasm_len, uint64_t max_size,
                 const cache_log_t *log);

/* Adds `delta` to one of the directory's shared counters. */
void cache_count(const char *dir, enum cache_stat which, uint64_t delta);

#endif
