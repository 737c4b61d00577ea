/* Arena allocation for data whose lifetimes end together (a decoded module,
 * a compilation). Freeing the arena frees every allocation made from it. */
#ifndef WHIRL_UTIL_ARENA_H
#define WHIRL_UTIL_ARENA_H

#include <stddef.h>

typedef struct arena_chunk arena_chunk_t;

typedef struct arena {
    arena_chunk_t *head;
    size_t used;     /* bytes used in head */
    size_t capacity; /* bytes available in head */
} arena_t;

void arena_init(arena_t *arena);
void arena_free(arena_t *arena);

/* Zeroed, 16-byte aligned memory; NULL only if out of memory or `size`
 * overflows. */
void *arena_alloc(arena_t *arena, size_t size);
/* arena_alloc(count * size) with overflow check. */
void *arena_array(arena_t *arena, size_t count, size_t size);
/* Copy of `len` bytes followed by a NUL byte. */
char *arena_strndup(arena_t *arena, const char *s, size_t len);

#endif
