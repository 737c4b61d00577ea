/* Component-model async: decoding and validation of async function types,
 * stream/future/error-context types, the async canon options and every
 * async canonical built-in (fixtures/async-*.wat; the invalid-async-*.wat
 * fixtures run with the other invalid ones in test_component.c). The run
 * time does not exist yet: instantiation is refused with a clear error. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void test_async_types(void)
{
    whirl_component_t *c = t_load("async-builtins");
    if (!c)
        return;
    char *wit = NULL;
    if (CHECK_OK(whirl_component_describe(c, &wit), "describe async-builtins")) {
        CHECK(strstr(wit, "import slow: async func(a: u64, b: u64, c: u64);") != NULL,
              "async import printed: %s", wit);
        CHECK(strstr(wit, "export run: async func(x: u32) -> string;") != NULL,
              "async export printed: %s", wit);
        free(wit);
    }
    whirl_component_delete(c);
}

static void test_async_refused(void)
{
    whirl_component_t *c = t_load("async-export");
    if (!c)
        return;
    whirl_component_linker_t *l = whirl_component_linker_new(t_engine);
    whirl_store_t *s = whirl_store_new(t_engine, NULL, NULL);
    whirl_component_instance_t *inst = NULL;
    whirl_error_t *e = whirl_component_linker_instantiate(l, s, c, &inst);
    CHECK(inst == NULL, "async component not instantiated");
    CHECK_ERROR(e, "canonical built-in task.return is not implemented yet", "instantiate async");
    whirl_store_delete(s);
    whirl_component_linker_delete(l);
    whirl_component_delete(c);
}

void test_async(void)
{
    test_async_types();
    test_async_refused();
}
