/* Construction of whirl_error_t objects inside the engine. The structure is
 * private to src/util/error.c; everything else builds errors through here. */
#ifndef WHIRL_UTIL_ERROR_H
#define WHIRL_UTIL_ERROR_H

#include "whirl.h"

#include <stdarg.h>

/* A plain (non-trap) error with a printf-style message. Never returns NULL:
 * when memory is exhausted a static "out of memory" error is returned, which
 * whirl_error_delete recognises. */
whirl_error_t *error_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
whirl_error_t *error_vfmt(const char *fmt, va_list ap);

/* A trap error. The message starts with the trap's name. */
whirl_error_t *error_trap(whirl_trap_code_t code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Marks `error` as a resource-exhaustion error (a pool limit reached for
 * now; see whirl_error_is_resource_exhausted). Returns `error`. */
whirl_error_t *error_mark_exhausted(whirl_error_t *error);

/* The static out-of-memory error. */
whirl_error_t *error_oom(void);

/* Prefixes the message of `error` with a printf-style context ("func 3: ").
 * Returns `error` (possibly reallocated). */
whirl_error_t *error_prefix(whirl_error_t *error, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends a backtrace frame (innermost first). `name` is copied; may be NULL.
 * Silently drops the frame if memory is exhausted. */
void error_add_frame(whirl_error_t *error, uint32_t func_index, const char *name,
                     size_t offset);

/* An exception error carrying `exn` (exception handling). */
whirl_error_t *error_exception(whirl_exn_t *exn);
/* error_add_frame for a frame of `module` (NULL: unknown): the frame keeps
 * a reference to the module's DWARF when it has some, so that
 * whirl_error_frame_source can name source lines after the module is gone.
 * Every tier's backtrace should pass its frame's module. */
void error_add_frame_in(whirl_error_t *error, whirl_module_t *module, uint32_t func_index,
                        const char *name, size_t offset);

/* Turns a host-returned error into a trap with code WHIRL_TRAP_HOST unless it
 * already is a trap or an exit request. Returns the same object. */
whirl_error_t *error_as_trap(whirl_error_t *error);

#endif
