/* How instances of a module start: the part of instantiation that is the
 * same for every instance, worked out once per module (module.c, lazily on
 * the first instantiation, thread-safe) so that instance.c only fills in
 * what depends on the instance and its imports. Private to src/runtime. */
#ifndef WHIRL_RUNTIME_PLAN_H
#define WHIRL_RUNTIME_PLAN_H

#include "alloc/alloc.h"
#include "runtime/internal.h"

/* How a defined global gets its initial value. */
typedef enum plan_global_kind {
    PLAN_GLOBAL_EVAL,  /* evaluate the constant expression (it reads imports) */
    PLAN_GLOBAL_CONST, /* `value` */
    PLAN_GLOBAL_FUNC,  /* a reference to function `func` of the instance */
} plan_global_kind_t;

typedef struct plan_global {
    plan_global_kind_t kind;
    uint32_t func;
    global_value_t value;
} plan_global_t;

/* A defined table's entries after its element segments: entries [lo, hi)
 * as function index + 1 (0: null); the rest stay null. */
typedef struct plan_table {
    uint32_t lo, hi;
    uint32_t *funcs;
} plan_table_t;

typedef struct module_plan {
    plan_global_t *globals; /* per defined global */
    /* Every active segment has a constant offset and fits in the declared
     * minimum of its table or memory (imported ones included, whose actual
     * size is at least that), so initialisation cannot trap and the order
     * of its writes cannot be observed. Everything below needs it. */
    bool static_segments;
    bool *elem_dropped, *data_dropped; /* the flags after initialisation */
    /* Per defined table, if every active element segment targets a defined
     * table and holds only ref.func and ref.null items; else NULL and the
     * segments are evaluated at instantiation. */
    plan_table_t *tables;
    /* Per defined memory: the copy-on-write image of its data segments, or
     * NULL (no data, or the kernel refused a memfd: the data is copied). */
    alloc_image_t **images;
    /* Whether an instance whose defined memories with data all started as
     * their images has no byte of data left to copy: no active segment
     * writes an imported memory. Modules made by toolchains that emit one
     * segment per object (thousands) then skip the segments entirely. */
    bool images_cover_data;
} module_plan_t;

/* The module's plan, built on first use; NULL if memory ran out (then
 * instantiate the general way). */
const module_plan_t *module_plan(whirl_module_t *module);

/* A reference to the module held by one of its instances (cheaper between
 * threads than module_retain: see module.c). The caller of the retain holds
 * a main reference; the release gets the shard the retain returned. */
unsigned module_retain_instance(whirl_module_t *module);
void module_release_instance(whirl_module_t *module, unsigned shard);

/* memory_create (internal.h) for a memory that starts as `image` (NULL:
 * zero): *imaged says whether it does, or whether the caller must copy the
 * data in (the image could not be mapped). */
whirl_error_t *memory_create_from(whirl_store_t *store, uint64_t min, uint64_t max_pages,
                                  bool has_max, int64_t pool_slot, const alloc_image_t *image,
                                  bool *imaged, whirl_memory_t **out);

#endif
