/* A growable array of any element type:
 *   VEC(int) v = {0};  if (!vec_push(&v, 3)) ...;  free(v.data);
 * vec_push evaluates to false when memory is exhausted. */
#ifndef WHIRL_UTIL_VEC_H
#define WHIRL_UTIL_VEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#define VEC(T)            \
    struct {              \
        T *data;          \
        size_t len, cap;  \
    }

/* Makes room for `extra` more elements; false if out of memory. */
static inline bool vec_reserve_bytes(void **data, size_t *cap, size_t len, size_t extra,
                                     size_t elem)
{
    if (*cap - len >= extra)
        return true;
    size_t want = *cap ? *cap * 2 : 8;
    while (want - len < extra) {
        if (want > ((size_t)-1) / 4 / elem)
            return false;
        want *= 2;
    }
    void *p = realloc(*data, want * elem);
    if (!p)
        return false;
    *data = p;
    *cap = want;
    return true;
}

#define vec_reserve(v, extra) \
    vec_reserve_bytes((void **)&(v)->data, &(v)->cap, (v)->len, (extra), sizeof *(v)->data)

#define vec_push(v, x) (vec_reserve((v), 1) ? ((v)->data[(v)->len++] = (x), true) : false)

#define vec_free(v) (free((v)->data), (v)->data = NULL, (v)->len = (v)->cap = 0)

#endif
