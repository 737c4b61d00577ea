#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct arena_chunk {
    arena_chunk_t *next;
    size_t size;
    _Alignas(16) unsigned char data[];
};

enum { ARENA_MIN_CHUNK = 16 * 1024 };

void arena_init(arena_t *arena) { memset(arena, 0, sizeof *arena); }

void arena_free(arena_t *arena)
{
    arena_chunk_t *c = arena->head;
    while (c) {
        arena_chunk_t *next = c->next;
        free(c);
        c = next;
    }
    arena_init(arena);
}

void *arena_alloc(arena_t *arena, size_t size)
{
    if (size > SIZE_MAX / 2)
        return NULL;
    size = (size + 15) & ~(size_t)15;
    if (size == 0)
        size = 16;
    if (!arena->head || arena->capacity - arena->used < size) {
        size_t chunk = size > ARENA_MIN_CHUNK ? size : ARENA_MIN_CHUNK;
        arena_chunk_t *c = malloc(sizeof *c + chunk);
        if (!c)
            return NULL;
        /* A large allocation gets a chunk of its own behind the current one
         * so the head keeps its free space. */
        if (arena->head && size > ARENA_MIN_CHUNK / 4) {
            c->next = arena->head->next;
            c->size = chunk;
            arena->head->next = c;
            memset(c->data, 0, size);
            return c->data;
        }
        c->next = arena->head;
        c->size = chunk;
        arena->head = c;
        arena->used = 0;
        arena->capacity = chunk;
    }
    void *p = arena->head->data + arena->used;
    arena->used += size;
    memset(p, 0, size);
    return p;
}

void *arena_array(arena_t *arena, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / 2 / size)
        return NULL;
    return arena_alloc(arena, count * size);
}

char *arena_strndup(arena_t *arena, const char *s, size_t len)
{
    char *p = arena_alloc(arena, len + 1);
    if (!p)
        return NULL;
    memcpy(p, s, len);
    p[len] = 0;
    return p;
}
