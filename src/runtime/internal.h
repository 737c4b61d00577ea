/* Helpers shared by the files of src/runtime only. What the interpreter
 * needs is in runtime.h; this header is private to the runtime objects. */
#ifndef WHIRL_RUNTIME_INTERNAL_H
#define WHIRL_RUNTIME_INTERNAL_H

#include "runtime/runtime.h"
#include "util/error.h"

/* Wasm 2.0 limit on memory pages (4 GiB). */
#define MEMORY_MAX_PAGES 65536u

/* Implementation limit on table entries: a table of 2^32 pointers would be
 * 32 GiB, so growth beyond this is refused like growth past a maximum. */
#define TABLE_MAX_ENTRIES 10000000u

/* ---- config.c ---- */

/* Fills in the defaults derived from max_instance_count for knobs still at
 * their default. */
void config_resolve(whirl_config_t *config);
/* Moves `src` into `dst` (dst takes the cache path). */
void config_move(whirl_config_t *dst, whirl_config_t *src);

/* ---- engine.c ---- */

/* Reports a warning through the engine's log callback (or stderr): the
 * message is `event` followed by the formatted key=value fields. */
void engine_log(const whirl_engine_t *engine, whirl_log_level_t level, const char *event,
                const char *fields_fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- epoch.c ---- */

typedef struct epoch_ticker epoch_ticker_t;
/* Starts a thread adding 1 to *epoch every `interval_us` microseconds. */
whirl_error_t *epoch_ticker_start(_Atomic uint64_t *epoch, uint64_t interval_us,
                                  epoch_ticker_t **out);
/* Stops and joins the thread. Accepts NULL. */
void epoch_ticker_stop(epoch_ticker_t *ticker);

/* ---- types.c ---- */

/* A heap copy of `t` in one allocation (free with whirl_functype_delete). */
whirl_functype_t *functype_copy(const wasm_functype_t *t);
/* "[i32 i64] -> [f32]" into buf (always NUL-terminated). */
void functype_format(const wasm_functype_t *t, char *buf, size_t size);
const char *valkind_name(whirl_valkind_t k);
/* A reference value must belong to `store`: a funcref from another store
 * would let one store's code run against another's objects. NULL (nothing)
 * if fine, else a plain error naming `what`. */
/* Typed function references: whether a host's reference value fits type
 * `t` (of the module whose types are `types`): not null where `t` is
 * non-nullable, a function of the named type where `t` is concrete. */
whirl_error_t *check_val_type(const whirl_val_t *val, wasm_valtype_t t,
                              const wasm_functype_t *types, const char *what);
whirl_error_t *check_val_store(const whirl_val_t *val, const whirl_store_t *store,
                               const char *what);

/* ---- store.c ---- */

/* Host functions that a linker definition created in this store, keyed by
 * the definition's process-unique id, so that every instantiation in the
 * store shares one function object per definition. */
whirl_func_t *store_host_func_lookup(whirl_store_t *store, uint64_t def_id);
bool store_host_func_remember(whirl_store_t *store, uint64_t def_id, whirl_func_t *func);
/* Pooling: makes the store hold its share of the pool (a place among the
 * instance_count stores and a stack slot) if it does not yet. */
whirl_error_t *store_pool_enter(whirl_store_t *store);

/* ---- func.c ---- */

/* A host function owning a copy of `type`, adopted by the store. NULL if
 * memory is exhausted (nothing is created then). */
whirl_func_t *func_host_create(whirl_store_t *store, const wasm_functype_t *type,
                               whirl_host_callback_t callback, void *env,
                               void (*finalizer)(void *env));
void func_destroy(whirl_func_t *func);

/* ---- memory.c ---- */

/* Commits `min` pages in pool slot `pool_slot` (taken by the caller; the
 * memory then owns it) or, with -1, in a reservation of its own; adopted by
 * the store on success. `max_pages` is the growth limit (<=
 * MEMORY_MAX_PAGES). Fails past the engine's max_memory_size or the
 * store's limit. */
whirl_error_t *memory_create(whirl_store_t *store, uint64_t min, uint64_t max_pages,
                             bool has_max, int64_t pool_slot, whirl_memory_t **out);
/* Whether a memory of `pages` fits the engine's max_memory_size and the
 * store's limit with `already` more bytes than the store holds in use. */
whirl_error_t *memory_check_limits(const whirl_store_t *store, uint64_t pages,
                                   uint64_t already);
void memory_destroy(whirl_memory_t *memory);

/* ---- shared_memory.c (threads) ---- */

/* Marks a new memory shared, counting its maximum against its store's
 * limits from now on. */
whirl_error_t *memory_make_shared(whirl_memory_t *memory);
/* Bytes a memory counts against its store: its size, a shared memory's
 * maximum, nothing for a view of another store's shared memory. */
uint64_t memory_counted_bytes(const whirl_memory_t *memory);
/* memory_grow of a shared memory: atomic, seen by every view. */
int64_t shared_memory_grow(whirl_memory_t *memory, uint64_t delta);
/* Detaches a shared memory from its views; true if it was the last user of
 * the bytes (the caller unmaps or releases them as for any memory). */
bool shared_memory_release(whirl_memory_t *memory);

/* ---- table.c ---- */

/* `min` entries set to `init`; `max` is meaningful only with has_max. In
 * pool slot `pool_slot` (taken by the caller; the table then owns it) or,
 * with -1, in an allocation of its own. Adopted by the store on success.
 * Fails past the store's max_table_elements or the slot's capacity. */
whirl_error_t *table_create(whirl_store_t *store, wasm_valtype_t elem, uint64_t min,
                            bool has_max, uint64_t max, void *init, int64_t pool_slot,
                            whirl_table_t **out);
/* Whether a table of `min` entries fits the store's limit (and, if pooled,
 * the engine's instance_table_elements). */
whirl_error_t *table_check_limits(const whirl_store_t *store, uint64_t min, bool pooled);
void table_destroy(whirl_table_t *table);

/* ---- global.c ---- */

void global_write(whirl_global_t *global, const whirl_val_t *val);
void global_read(const whirl_global_t *global, whirl_val_t *out);
void global_destroy(whirl_global_t *global);

/* ---- module.c ---- */

/* The export called `name` (binary search of an index built at module
 * creation), or NULL. */
const wasm_export_t *module_find_export(const whirl_module_t *module, const char *name,
                                        size_t name_len);

/* ---- instance.c ---- */

/* The extern behind export `e` of `instance`. */
void instance_export_extern(const whirl_instance_t *instance, const wasm_export_t *e,
                            whirl_extern_t *out);
void instance_destroy(whirl_instance_t *instance);
/* Instantiates with `imports` (in the module's import order) already
 * checked against the module's import types and the store. */
whirl_error_t *instance_create(whirl_store_t *store, whirl_module_t *module,
                               const whirl_extern_t *imports, whirl_instance_t **out);

#endif
