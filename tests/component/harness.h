/* Shared infrastructure of the component tests (test_*.c in this folder,
 * linked into one program, whirl-component-test). */
#ifndef WHIRL_TESTS_COMPONENT_HARNESS_H
#define WHIRL_TESTS_COMPONENT_HARNESS_H

#include "values.h"
#include "whirl/component.h"

extern int t_passed, t_failed;
extern whirl_engine_t *t_engine;
extern const char *t_fixtures; /* converted .wasm files */
extern const char *t_sources;  /* the .wat sources */

void t_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define CHECK(cond, ...)                                       \
    do {                                                       \
        if (cond)                                              \
            t_passed++;                                        \
        else                                                   \
            t_fail(__FILE__, __LINE__, __VA_ARGS__);           \
    } while (0)

/* Checks that `e` is NULL; otherwise reports and frees it. True if NULL. */
#define CHECK_OK(e, what)                                                              \
    ({                                                                                 \
        whirl_error_t *e_ = (e);                                                       \
        if (e_) {                                                                      \
            t_fail(__FILE__, __LINE__, "%s: %s", (what), whirl_error_message(e_));    \
            whirl_error_delete(e_);                                                    \
        } else {                                                                       \
            t_passed++;                                                                \
        }                                                                              \
        e_ == NULL;                                                                    \
    })

/* Checks that `e` is a trap whose message contains `needle`; frees it. */
void t_check_trap(const char *file, int line, whirl_error_t *e, const char *needle,
                  const char *what);
#define CHECK_TRAP(e, needle, what) t_check_trap(__FILE__, __LINE__, (e), (needle), (what))
/* Checks that `e` is a non-trap error containing `needle`; frees it. */
void t_check_error(const char *file, int line, whirl_error_t *e, const char *needle,
                   const char *what);
#define CHECK_ERROR(e, needle, what) t_check_error(__FILE__, __LINE__, (e), (needle), (what))

uint8_t *t_read(const char *path, size_t *len);
/* The converted fixture NAME.wasm, compiled; NULL (after a failed check)
 * if it cannot be loaded. */
whirl_component_t *t_load(const char *name);

/* An instance of `c` in a new store through `linker`; NULL after a failed
 * check. */
whirl_component_instance_t *t_instantiate(whirl_component_linker_t *linker, whirl_component_t *c,
                                          whirl_store_t **store);

/* Calls `iface#name` (iface NULL: a root export) with `args` (borrowed);
 * the result goes to *result when the function has one. */
whirl_error_t *t_call(whirl_component_instance_t *inst, const char *iface, const char *name,
                      const whirl_cval_t *args, size_t nargs, whirl_cval_t *result);

void test_decode(void);
void test_api(void);
void test_values(void);
void test_traps(void);
void test_resources(void);
void test_linking(void);
void test_async(void);
void test_streams(void);

#endif
