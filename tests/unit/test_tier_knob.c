/* The tier knob: whirl_config_tier_set, "tier" by name, WHIRL_TIER, the
 * listing, and what a build without the LLVM tier says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whirl.h"

static unsigned passed, failed;
#define CHECK(cond)                                                      \
    do {                                                                 \
        if (cond) {                                                      \
            passed++;                                                    \
        } else {                                                         \
            failed++;                                                    \
            printf("%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond);    \
        }                                                                \
    } while (0)

/* The listed value and source of the tier knob. */
static void tier_item(const whirl_config_t *c, whirl_config_item_t *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < whirl_config_item_count(); i++)
        if (whirl_config_item(c, i, out) && strcmp(out->name, "tier") == 0)
            return;
    memset(out, 0, sizeof *out);
}

static bool error_says(whirl_error_t *err, const char *text)
{
    bool ok = err && strstr(whirl_error_message(err), text);
    if (err && !ok)
        printf("  message: %s\n", whirl_error_message(err));
    whirl_error_delete(err);
    return ok;
}

int main(void)
{
#ifdef WHIRL_HAVE_JIT
    const bool have_jit = true;
#else
    const bool have_jit = false;
#endif
    unsetenv("WHIRL_TIER");
    whirl_config_t *c = whirl_config_new();
    whirl_config_item_t it;
    tier_item(c, &it);
    CHECK(strcmp(it.value, "auto") == 0 && strcmp(it.source, "default") == 0);
    CHECK(it.env && strcmp(it.env, "WHIRL_TIER") == 0);

    CHECK(whirl_config_tier_set(c, WHIRL_TIER_INTERP) == NULL);
    tier_item(c, &it);
    CHECK(strcmp(it.value, "interp") == 0 && strcmp(it.source, "api") == 0);
    CHECK(whirl_config_set(c, "tier", "AUTO") == NULL);
    tier_item(c, &it);
    CHECK(strcmp(it.value, "auto") == 0);
    CHECK(error_says(whirl_config_set(c, "tier", "fast"), "expected auto, interp or jit"));
    CHECK(error_says(whirl_config_tier_set(c, (whirl_tier_t)7), "invalid tier 7"));
    whirl_error_t *err = whirl_config_tier_set(c, WHIRL_TIER_JIT);
    if (have_jit) {
        CHECK(err == NULL);
        tier_item(c, &it);
        CHECK(strcmp(it.value, "jit") == 0);
    } else {
        CHECK(error_says(err, "built without the LLVM tier"));
        CHECK(error_says(whirl_config_set(c, "tier", "jit"), "built without the LLVM tier"));
    }
    whirl_config_delete(c);

    /* The environment: a value, and a bad one naming the variable. An API
     * call wins over it. */
    setenv("WHIRL_TIER", "interp", 1);
    c = whirl_config_new();
    CHECK(whirl_config_load_env(c) == NULL);
    tier_item(c, &it);
    CHECK(strcmp(it.value, "interp") == 0 && strcmp(it.source, "env WHIRL_TIER") == 0);
    whirl_config_delete(c);
    setenv("WHIRL_TIER", "turbo", 1);
    c = whirl_config_new();
    CHECK(error_says(whirl_config_load_env(c), "WHIRL_TIER"));
    whirl_engine_t *engine = NULL;
    CHECK(error_says(whirl_engine_new(c, &engine), "environment variable WHIRL_TIER"));
    CHECK(engine == NULL);
    c = whirl_config_new();
    whirl_config_tier_set(c, WHIRL_TIER_INTERP);
    CHECK(whirl_config_load_env(c) == NULL);
    whirl_config_delete(c);
    if (!have_jit) {
        setenv("WHIRL_TIER", "jit", 1);
        c = whirl_config_new();
        CHECK(error_says(whirl_config_load_env(c), "built without the LLVM tier"));
        whirl_config_delete(c);
    }
    unsetenv("WHIRL_TIER");

    /* Every tier runs a module (auto in a build without the tier: the
     * interpreter). */
    static const unsigned char wasm[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7f,
                                         3, 2, 1, 0, 7, 5, 1, 1, 'f', 0, 0,
                                         10, 6, 1, 4, 0, 0x41, 42, 0x0b};
    for (int t = 0; t <= 2; t++) {
        if (t == WHIRL_TIER_JIT && !have_jit)
            continue;
        c = whirl_config_new();
        whirl_config_use_env(c, false);
        CHECK(whirl_config_tier_set(c, (whirl_tier_t)t) == NULL);
        whirl_module_t *m = NULL;
        whirl_store_t *s = NULL;
        whirl_instance_t *inst = NULL;
        whirl_extern_t f;
        whirl_val_t r = {0};
        CHECK(whirl_engine_new(c, &engine) == NULL);
        CHECK(whirl_module_new(engine, wasm, sizeof wasm, &m) == NULL);
        s = whirl_store_new(engine, NULL, NULL);
        CHECK(whirl_instance_new(s, m, NULL, 0, &inst) == NULL);
        CHECK(inst && whirl_instance_export(inst, "f", 1, &f));
        CHECK(inst && whirl_func_call(s, f.of.func, NULL, 0, &r, 1) == NULL && r.of.i32 == 42);
        whirl_store_delete(s);
        whirl_module_delete(m);
        whirl_engine_delete(engine);
    }
    printf("test_tier_knob: %u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
