/* Files read whole into memory (image.c): the layer below the runtime
 * that serialised modules and the compilation cache both use. */
#ifndef WHIRL_CACHE_IMAGE_H
#define WHIRL_CACHE_IMAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "whirl.h"

/* Memory a deserialised module lives in: the serialised file, used in
 * place (strings, data segments and source maps point into it), and its
 * code, copied out of it into the interpreter's form. */
typedef enum region_kind {
    REGION_MALLOC,
    REGION_MAPPED, /* anonymous mapping */
    REGION_FILE,   /* read-only mapping of the file */
} region_kind_t;

typedef struct region {
    void *base;
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated or mapped */
    region_kind_t kind;
} region_t;

typedef struct module_image {
    region_t file;
    region_t code; /* code words in the interpreter's form (exec_code_from_ops) */
    /* The runtime's: native code linked from the file (struct jit_code *;
     * not freed by module_image_free) and its object, inside `file`. */
    struct jit_code *native;
    const uint8_t *native_object;
    size_t native_object_len;
    /* The module's original binary when the file came with it (a cache
     * entry's trailer, cache.c), inside `file` past file.len; NULL
     * otherwise. A serialised module without its function bodies takes
     * them from here. */
    const uint8_t *source;
    size_t source_len;
} module_image_t;

/* `len` writable bytes (huge pages asked for when large). */
bool region_alloc(region_t *r, size_t len);
void region_free(region_t *r);
/* Frees both regions (either may be empty). */
void module_image_free(module_image_t *image);

/* Puts the whole regular file open as `fd` into image->file: mapped
 * read-only if large (1 MiB or more), else read. Files shorter than
 * `min_len` are refused as truncated precompiled modules. */
whirl_error_t *image_read_fd(int fd, const char *path, size_t min_len, module_image_t *image);

#endif
