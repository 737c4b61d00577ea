/*
 * whirl-component-test: the component model tests.
 *
 *   whirl-component-test FIXTURES_DIR SOURCES_DIR
 *
 * FIXTURES_DIR holds the .wasm files converted from the .wat files of
 * SOURCES_DIR (the `run` script converts them with jco). Prints each failure
 * and ends with "N passed, M failed".
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component/component.h"
#include "harness.h"

int t_passed, t_failed;
whirl_engine_t *t_engine;
const char *t_fixtures, *t_sources;

void t_fail(const char *file, int line, const char *fmt, ...)
{
    t_failed++;
    printf("  FAIL %s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

void t_check_trap(const char *file, int line, whirl_error_t *e, const char *needle,
                  const char *what)
{
    if (!e) {
        t_fail(file, line, "%s: expected a trap containing `%s`, got success", what, needle);
        return;
    }
    const char *m = whirl_error_message(e);
    if (getenv("WHIRL_TEST_VERBOSE"))
        printf("  %s: %s\n", what, m);
    if (!whirl_error_is_trap(e, NULL))
        t_fail(file, line, "%s: expected a trap, got the error: %s", what, m);
    else if (!strstr(m, needle))
        t_fail(file, line, "%s: trap message `%s` does not contain `%s`", what, m, needle);
    else
        t_passed++;
    whirl_error_delete(e);
}

void t_check_error(const char *file, int line, whirl_error_t *e, const char *needle,
                   const char *what)
{
    if (!e) {
        t_fail(file, line, "%s: expected an error containing `%s`, got success", what, needle);
        return;
    }
    const char *m = whirl_error_message(e);
    if (getenv("WHIRL_TEST_VERBOSE"))
        printf("  %s: %s\n", what, m);
    if (whirl_error_is_trap(e, NULL))
        t_fail(file, line, "%s: expected a plain error, got the trap: %s", what, m);
    else if (!strstr(m, needle))
        t_fail(file, line, "%s: error `%s` does not contain `%s`", what, m, needle);
    else
        t_passed++;
    whirl_error_delete(e);
}

uint8_t *t_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0, got;
    uint8_t *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

whirl_component_t *t_load(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.wasm", t_fixtures, name);
    size_t len;
    uint8_t *bytes = t_read(path, &len);
    if (!bytes) {
        t_fail(__FILE__, __LINE__, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    whirl_component_t *c = NULL;
    whirl_error_t *e = whirl_component_new(t_engine, bytes, len, &c);
    free(bytes);
    if (!CHECK_OK(e, name))
        return NULL;
    return c;
}

whirl_component_instance_t *t_instantiate(whirl_component_linker_t *linker, whirl_component_t *c,
                                          whirl_store_t **store)
{
    *store = whirl_store_new(t_engine, NULL, NULL);
    whirl_component_instance_t *inst = NULL;
    whirl_error_t *e = whirl_component_linker_instantiate(linker, *store, c, &inst);
    if (!CHECK_OK(e, "instantiate"))
        return NULL;
    return inst;
}

whirl_error_t *t_call(whirl_component_instance_t *inst, const char *iface, const char *name,
                      const whirl_cval_t *args, size_t nargs, whirl_cval_t *result)
{
    whirl_component_func_t *f;
    if (!whirl_component_instance_func(inst, iface, name, &f))
        return whirl_error_new("test: no such export");
    size_t nres = whirl_component_func_result_count(f);
    return whirl_component_func_call(whirl_component_instance_store(inst), f, args, nargs,
                                     result, nres);
}

/* ------------------------------------------------------------------ */
/* Decoding and validation                                             */
/* ------------------------------------------------------------------ */

static void expect_invalid(const uint8_t *bytes, size_t len, const char *needle, const char *what)
{
    whirl_component_t *c = NULL;
    whirl_error_t *e = whirl_component_new(t_engine, bytes, len, &c);
    CHECK(c == NULL, "%s: no component on failure", what);
    if (e && !strstr(whirl_error_message(e), "offset"))
        t_fail(__FILE__, __LINE__, "%s: message without an offset: %s", what,
               whirl_error_message(e));
    CHECK_ERROR(e, needle, what);
    whirl_component_delete(c);
}

static void test_malformed(void)
{
    static const uint8_t preamble[] = {0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00};
    static const uint8_t module[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
    static const uint8_t old_version[] = {0x00, 0x61, 0x73, 0x6d, 0x0a, 0x00, 0x01, 0x00};
    uint8_t buf[64];
    CHECK(whirl_component_is_component(preamble, sizeof preamble), "preamble is a component");
    CHECK(!whirl_component_is_component(module, sizeof module), "module is not a component");
    expect_invalid(preamble, 0, "unexpected end", "empty");
    expect_invalid(preamble, 5, "unexpected end", "truncated preamble");
    expect_invalid(module, sizeof module, "not a component", "core module");
    expect_invalid(old_version, sizeof old_version, "unsupported component binary version",
                   "old version");
    memcpy(buf, preamble, 8);
    buf[0] = 0x01;
    expect_invalid(buf, 8, "bad magic", "bad magic");
    memcpy(buf, preamble, 8);
    memcpy(buf + 8, (uint8_t[]){0x07, 0x05, 0x01}, 3);
    expect_invalid(buf, 11, "section size 5 is larger", "section too long");
    memcpy(buf + 8, (uint8_t[]){0x0d, 0x00}, 2);
    expect_invalid(buf, 10, "unknown section id 13", "unknown section");
    /* A type section with one u32 type and a stray byte after it. */
    memcpy(buf + 8, (uint8_t[]){0x07, 0x03, 0x01, 0x79, 0x00}, 5);
    expect_invalid(buf, 13, "bytes left at the end of the section", "trailing bytes");
    /* A type section whose only type is an unknown form. */
    memcpy(buf + 8, (uint8_t[]){0x07, 0x02, 0x01, 0x50}, 4);
    expect_invalid(buf, 12, "type section, offset 11", "unknown type form");
    /* An import of a function type that does not exist. */
    memcpy(buf + 8, (uint8_t[]){0x0a, 0x06, 0x01, 0x00, 0x01, 0x66, 0x01, 0x05}, 8);
    expect_invalid(buf, 16, "type index 5 out of range", "bad import type");
    memcpy(buf + 8, (uint8_t[]){0x09, 0x00}, 2);
    expect_invalid(buf, 10, "not supported", "start section");
    /* A nested core module that is not valid. */
    memcpy(buf + 8, (uint8_t[]){0x01, 0x09, 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0xff}, 11);
    expect_invalid(buf, 19, "core module 0", "bad core module");
    /* The empty component is valid. */
    whirl_component_t *c = NULL;
    CHECK_OK(whirl_component_new(t_engine, preamble, 8, &c), "empty component");
    CHECK(c && whirl_component_import_count(c) == 0 && whirl_component_export_count(c) == 0,
          "empty component has no imports or exports");
    whirl_component_delete(c);
    CHECK_OK(whirl_component_validate(t_engine, preamble, 8), "validate empty component");
}

/* Every fixtures/invalid-*.wat names the error it must cause on its first
 * line: ";; error: TEXT". */
static void test_invalid_fixtures(void)
{
    DIR *d = opendir(t_sources);
    int n = 0;
    if (!d) {
        t_fail(__FILE__, __LINE__, "cannot open %s", t_sources);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (strncmp(de->d_name, "invalid-", 8) != 0 || len < 5 ||
            strcmp(de->d_name + len - 4, ".wat") != 0)
            continue;
        char path[1024], name[256], want[320] = "";
        snprintf(path, sizeof path, "%s/%s", t_sources, de->d_name);
        snprintf(name, sizeof name, "%.*s", (int)(len - 4), de->d_name);
        FILE *f = fopen(path, "r");
        if (f) {
            char line[300];
            if (fgets(line, sizeof line, f) && strncmp(line, ";; error: ", 10) == 0) {
                snprintf(want, sizeof want, "%s", line + 10);
                want[strcspn(want, "\n")] = 0;
            }
            fclose(f);
        }
        CHECK(want[0], "%s: no `;; error:` line", name);
        snprintf(path, sizeof path, "%s/%s.wasm", t_fixtures, name);
        size_t blen;
        uint8_t *bytes = t_read(path, &blen);
        if (!bytes) {
            t_fail(__FILE__, __LINE__, "cannot read %s", path);
            continue;
        }
        whirl_component_t *c = NULL;
        whirl_error_t *e = whirl_component_new(t_engine, bytes, blen, &c);
        if (e && (!strstr(whirl_error_message(e), "invalid component: ") ||
                  !strstr(whirl_error_message(e), "offset")))
            t_fail(__FILE__, __LINE__, "%s: message does not name the section and offset: %s",
                   name, whirl_error_message(e));
        CHECK_ERROR(e, want, name);
        whirl_component_delete(c);
        free(bytes);
        n++;
    }
    closedir(d);
    CHECK(n >= 20, "found %d invalid fixtures", n);
}

static void test_spin_memory(void)
{
    whirl_component_t *c = t_load("spin");
    if (!c)
        return;
    whirl_component_linker_t *l = whirl_component_linker_new(t_engine);
    whirl_store_t *s;
    whirl_component_instance_t *inst = t_instantiate(l, c, &s);
    CHECK(inst != NULL, "spin component instantiates");
    uint64_t used = whirl_store_memory_consumed(s);
    CHECK(used == 65536, "spin check: memory_consumed is %llu, expected 65536",
          (unsigned long long)used);
    whirl_store_delete(s);
    whirl_component_linker_delete(l);
    whirl_component_delete(c);
}

/* ------------------------------------------------------------------ */
/* Hosting controls                                                    */
/* ------------------------------------------------------------------ */

static volatile bool ticking;

/* Advances the epoch whether or not the engine runs its own ticker. */
static void *ticker(void *arg)
{
    struct timespec ts = {0, 2 * 1000 * 1000};
    while (ticking) {
        whirl_engine_increment_epoch(t_engine);
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void test_hosting(void)
{
    whirl_component_t *c = t_load("limits");
    whirl_component_linker_t *l = whirl_component_linker_new(t_engine);
    if (c) {
        whirl_store_t *s;
        whirl_component_instance_t *inst = t_instantiate(l, c, &s);
        if (inst) {
            whirl_cval_t r = {0};
            whirl_store_set_epoch_deadline(s, 5);
            pthread_t th;
            ticking = true;
            pthread_create(&th, NULL, ticker, NULL);
            whirl_error_t *e = t_call(inst, NULL, "spin", NULL, 0, &r);
            ticking = false;
            pthread_join(th, NULL);
            whirl_trap_code_t code = 0;
            CHECK(e && whirl_error_is_trap(e, &code) && code == WHIRL_TRAP_INTERRUPT,
                  "an endless loop in a component is interrupted: %s",
                  e ? whirl_error_message(e) : "(returned)");
            whirl_error_delete(e);
        }
        whirl_store_delete(s);

        inst = t_instantiate(l, c, &s);
        if (inst) {
            whirl_store_limits_set(s, 3 * 65536, WHIRL_NO_LIMIT);
            whirl_cval_t a = cv_u(WHIRL_CVAL_U32, 1), r = {0};
            CHECK_OK(t_call(inst, NULL, "grow", &a, 1, &r), "grow 1");
            CHECK(r.kind == WHIRL_CVAL_S32 && r.of.s == 1, "grow by 1 page from 1");
            a.of.u = 5;
            CHECK_OK(t_call(inst, NULL, "grow", &a, 1, &r), "grow 5");
            CHECK(r.of.s == -1, "growing past the store limit is refused (%lld)", (long long)r.of.s);
            CHECK(whirl_store_memory_consumed(s) == 2 * 65536, "2 pages consumed");
        }
        whirl_store_delete(s);
        whirl_component_delete(c);
    }
    c = t_load("exponential");
    if (c) {
        whirl_store_t *s = whirl_store_new(t_engine, NULL, NULL);
        whirl_component_instance_t *inst = NULL;
        CHECK_ERROR(whirl_component_linker_instantiate(l, s, c, &inst),
                    "more than 10000 component instances", "exponential instantiation");
        whirl_store_delete(s);
        whirl_component_delete(c);
    }
    c = t_load("big-memory");
    if (c) {
        whirl_store_t *s = whirl_store_new(t_engine, NULL, NULL);
        whirl_store_limits_set(s, 4 * 65536, WHIRL_NO_LIMIT);
        whirl_component_instance_t *inst = NULL;
        whirl_error_t *e = whirl_component_linker_instantiate(l, s, c, &inst);
        CHECK(e != NULL && inst == NULL, "a component needing more memory than the limit is refused");
        whirl_error_delete(e);
        whirl_store_delete(s);
        whirl_component_delete(c);
    }
    whirl_component_linker_delete(l);
}

void test_decode(void)
{
    test_malformed();
    test_invalid_fixtures();
    test_spin_memory();
    test_hosting();
    whirl_component_t *c = t_load("echo-scalars");
    if (c) {
        const char *name;
        whirl_component_item_kind_t kind;
        CHECK(whirl_component_import_count(c) == 1, "echo-scalars has one import");
        CHECK(whirl_component_import(c, 0, &name, &kind) &&
                  strcmp(name, "test:abi/host@1.0.0") == 0 && kind == WHIRL_COMPONENT_ITEM_INSTANCE,
              "import 0 is the host instance");
        CHECK(whirl_component_export(c, 0, &name, &kind) &&
                  strcmp(name, "test:abi/fwd@1.0.0") == 0 && kind == WHIRL_COMPONENT_ITEM_INSTANCE,
              "export 0 is the forwarder instance");
        CHECK(!whirl_component_import(c, 1, &name, &kind), "import 1 is out of range");
        whirl_component_delete(c);
    }
}

/* ------------------------------------------------------------------ */
/* Values, types and calls through the API                             */
/* ------------------------------------------------------------------ */

static void test_cvals(void)
{
    whirl_cval_t v = cv_items(WHIRL_CVAL_RECORD, 3, cv_str("abc"), cv_u(WHIRL_CVAL_U32, 7),
                              cv_case(WHIRL_CVAL_OPTION, 1, cv_bytes("\x01\x02", 2)));
    whirl_cval_t w = {0};
    CHECK_OK(whirl_cval_copy(&w, &v), "copy");
    CHECK(cv_eq(&v, &w), "copy is equal");
    w.of.list.items[0].of.string.data[0] = 'x';
    CHECK(!cv_eq(&v, &w), "copy is deep");
    whirl_cval_t l = cv_items(WHIRL_CVAL_LIST, 2, cv_u(WHIRL_CVAL_U8, 1), cv_u(WHIRL_CVAL_U8, 2));
    CHECK(cv_eq(&l, v.of.list.items[2].of.variant.payload), "bytes equal a list of u8");
    whirl_cval_release(&v);
    whirl_cval_release(&w);
    whirl_cval_release(&l);
    CHECK(v.kind == 0 && v.of.list.items == NULL, "release zeroes the value");
    whirl_cval_release(NULL);
    CHECK_ERROR(whirl_cval_set_items(&v, WHIRL_CVAL_U32, 1), "needs a list",
                "set_items refuses a scalar kind");
    CHECK_ERROR(whirl_cval_set_case(&v, WHIRL_CVAL_LIST, 0, false), "needs a variant",
                "set_case refuses a list kind");
}

static void test_post_return(void)
{
    whirl_component_t *c = t_load("post-return");
    if (!c)
        return;
    whirl_component_linker_t *l = whirl_component_linker_new(t_engine);
    whirl_store_t *s;
    whirl_component_instance_t *inst = t_instantiate(l, c, &s);
    if (inst) {
        whirl_cval_t r = {0}, want = cv_str("hello");
        CHECK_OK(t_call(inst, NULL, "get", NULL, 0, &r), "get");
        CHECK(cv_eq(&r, &want), "the result was lifted before post-return clobbered it");
        whirl_cval_release(&r);
        CHECK_OK(t_call(inst, NULL, "count", NULL, 0, &r), "count");
        CHECK(r.kind == WHIRL_CVAL_U32 && r.of.u == 1, "post-return ran once");
        CHECK_OK(t_call(inst, NULL, "last", NULL, 0, &r), "last");
        CHECK(r.of.u == 8, "post-return got the core result (%llu)", (unsigned long long)r.of.u);
        whirl_cval_t arg = cv_u(WHIRL_CVAL_U32, 1);
        CHECK_ERROR(t_call(inst, NULL, "get", &arg, 1, &r), "takes 0 argument",
                    "wrong argument count");
        whirl_component_func_t *f;
        CHECK(whirl_component_instance_func(inst, NULL, "get", &f), "get is exported");
        CHECK(whirl_component_func_param_count(f) == 0 && whirl_component_func_result_count(f) == 1,
              "get: 0 params, 1 result");
        CHECK(whirl_ctype_kind(whirl_component_func_result_type(f)) == WHIRL_CVAL_STRING,
              "get returns a string");
        whirl_store_t *other = whirl_store_new(t_engine, NULL, NULL);
        CHECK_ERROR(whirl_component_func_call(other, f, NULL, 0, &r, 1), "another store",
                    "call with the wrong store");
        whirl_store_delete(other);
        CHECK(!whirl_component_instance_func(inst, NULL, "nope", &f), "no export `nope`");
        whirl_cval_release(&want);
    }
    whirl_store_delete(s);
    whirl_component_linker_delete(l);
    whirl_component_delete(c);
}

void test_api(void)
{
    test_cvals();
    test_post_return();
}

/* ------------------------------------------------------------------ */
/* Linking and interface versions                                      */
/* ------------------------------------------------------------------ */

static whirl_error_t *const_cb(void *env, whirl_store_t *store, const whirl_component_func_t *f,
                               const whirl_cval_t *args, size_t nargs, whirl_cval_t *results,
                               size_t nresults)
{
    results[0] = cv_u(WHIRL_CVAL_U32, (uintptr_t)env);
    return NULL;
}

static int finalized;
static void count_finalizer(void *env) { finalized++; }

static whirl_component_linker_t *versions_linker(const char *iface, uintptr_t value)
{
    whirl_component_linker_t *l = whirl_component_linker_new(t_engine);
    CHECK_OK(whirl_component_linker_define_func(l, iface, "get", const_cb, (void *)value,
                                                count_finalizer),
             "define get");
    CHECK_OK(whirl_component_linker_define_func(l, "test:ver/other@1.9.0", "get", const_cb,
                                                (void *)10, NULL),
             "define other");
    CHECK_OK(whirl_component_linker_define_func(l, NULL, "root-func", const_cb, (void *)100, NULL),
             "define root-func");
    return l;
}

static void expect_sum(whirl_component_instance_t *inst, const char *iface, uint64_t want)
{
    whirl_cval_t r = {0};
    if (CHECK_OK(t_call(inst, iface, "sum", NULL, 0, &r), iface ? iface : "sum"))
        CHECK(r.of.u == want, "sum via %s is %llu, expected %llu", iface ? iface : "root",
              (unsigned long long)r.of.u, (unsigned long long)want);
}

static void test_versions(void)
{
    whirl_component_t *c = t_load("versions");
    if (!c)
        return;
    /* A host at @0.2.12 satisfies an import of @0.2.0. */
    whirl_component_linker_t *l = versions_linker("test:ver/iface@0.2.12", 1);
    whirl_store_t *s;
    whirl_component_instance_t *inst = t_instantiate(l, c, &s);
    if (inst) {
        expect_sum(inst, NULL, 111);
        expect_sum(inst, "test:ver/api@0.2.5", 111);
        expect_sum(inst, "test:ver/api@0.2.0", 111);
        expect_sum(inst, "test:ver/api@0.2.99", 111);
        whirl_component_func_t *f;
        CHECK(!whirl_component_instance_func(inst, "test:ver/api@0.3.0", "sum", &f),
              "@0.3.0 does not match an export at @0.2.5");
        CHECK(!whirl_component_instance_func(inst, "test:ver/api@1.0.0", "sum", &f),
              "@1.0.0 does not match an export at @0.2.5");
        CHECK(!whirl_component_instance_func(inst, "test:ver/api", "sum", &f),
              "an unversioned name does not match a versioned export");
    }
    whirl_store_delete(s);
    whirl_component_linker_delete(l);

    /* An exact version is preferred over a compatible one. */
    l = versions_linker("test:ver/iface@0.2.12", 1);
    CHECK_OK(whirl_component_linker_define_func(l, "test:ver/iface@0.2.0", "get", const_cb,
                                                (void *)2, NULL),
             "define exact");
    inst = t_instantiate(l, c, &s);
    if (inst)
        expect_sum(inst, NULL, 112);
    whirl_store_delete(s);
    whirl_component_linker_delete(l);

    /* @0.3.0 is not compatible with @0.2.0; neither is a pre-release. */
    static const char *const incompatible[] = {"test:ver/iface@0.3.0", "test:ver/iface@0.2.1-rc1",
                                               "test:ver/iface", "test:ver/other@0.2.0"};
    for (size_t i = 0; i < sizeof incompatible / sizeof *incompatible; i++) {
        l = versions_linker(incompatible[i], 1);
        whirl_component_instance_pre_t *pre = NULL;
        CHECK_ERROR(whirl_component_linker_instantiate_pre(l, c, &pre), "test:ver/iface@0.2.0",
                    incompatible[i]);
        CHECK(pre == NULL, "no pre on failure");
        whirl_component_linker_delete(l);
    }

    /* The error names the versions the linker has of the interface (not
     * those of others, nor an unversioned one). */
    l = versions_linker("test:ver/iface@0.3.0", 1);
    CHECK_OK(whirl_component_linker_define_func(l, "test:ver/iface@0.2.1-rc1", "get", const_cb,
                                                (void *)2, NULL),
             "define a pre-release");
    CHECK_OK(whirl_component_linker_define_func(l, "test:ver/iface", "get", const_cb, NULL, NULL),
             "define unversioned");
    CHECK_OK(whirl_component_linker_define_func(l, "test:ver/other@0.2.0", "get", const_cb, NULL,
                                                NULL),
             "define another interface");
    {
        whirl_component_instance_pre_t *pre = NULL;
        CHECK_ERROR(whirl_component_linker_instantiate_pre(l, c, &pre),
                    "import `test:ver/iface@0.2.0` (an instance) is not defined in the linker, "
                    "which has `test:ver/iface` only at 0.3.0, 0.2.1-rc1",
                    "the versions there are");
        CHECK(pre == NULL, "no pre on failure");
    }
    whirl_component_linker_delete(l);

    /* Missing and mismatched definitions. */
    l = whirl_component_linker_new(t_engine);
    whirl_component_instance_pre_t *pre = NULL;
    CHECK_ERROR(whirl_component_linker_instantiate_pre(l, c, &pre), "not defined in the linker",
                "empty linker");
    CHECK_OK(whirl_component_linker_define_func(l, "test:ver/iface@0.2.0", "nope", const_cb, NULL,
                                                NULL), "define nope");
    CHECK_ERROR(whirl_component_linker_instantiate_pre(l, c, &pre), "test:ver/iface@0.2.0#get",
                "instance without the function");
    CHECK_ERROR(whirl_component_linker_define_func(l, "test:ver/iface@0.2.0", "nope", const_cb,
                                                   NULL, NULL),
                "already defined", "duplicate definition");
    whirl_resource_type_t *rt = whirl_resource_type_new("thing", NULL, NULL, NULL);
    CHECK_OK(whirl_component_linker_define_resource(l, NULL, "root-func", rt), "define resource");
    whirl_resource_type_delete(rt);
    CHECK_OK(whirl_component_linker_define_func(l, "test:ver/iface@0.2.0", "get", const_cb, NULL,
                                                NULL), "define get");
    CHECK_OK(whirl_component_linker_define_func(l, "test:ver/other@1.2.3", "get", const_cb, NULL,
                                                NULL), "define other");
    CHECK_ERROR(whirl_component_linker_instantiate_pre(l, c, &pre), "is a function, but",
                "resource where a function is imported");
    whirl_component_linker_delete(l);
    whirl_component_delete(c);
}

/* One pre, many stores; the linker may go first. */
static void test_instance_pre(void)
{
    whirl_component_t *c = t_load("versions");
    if (!c)
        return;
    finalized = 0;
    whirl_component_linker_t *l = versions_linker("test:ver/iface@0.2.3", 5);
    whirl_component_instance_pre_t *pre = NULL;
    if (!CHECK_OK(whirl_component_linker_instantiate_pre(l, c, &pre), "instantiate_pre")) {
        whirl_component_linker_delete(l);
        whirl_component_delete(c);
        return;
    }
    whirl_component_linker_delete(l);
    whirl_component_delete(c);
    CHECK(finalized == 0, "the pre keeps the host definitions alive");
    whirl_store_t *stores[3];
    for (int i = 0; i < 3; i++) {
        stores[i] = whirl_store_new(t_engine, NULL, NULL);
        whirl_component_instance_t *inst = NULL;
        if (CHECK_OK(whirl_component_instance_pre_instantiate(pre, stores[i], &inst),
                     "instantiate from pre"))
            expect_sum(inst, "test:ver/api@0.2.5", 115);
    }
    whirl_component_instance_pre_delete(pre);
    CHECK(finalized == 0, "instances keep the host definitions alive");
    for (int i = 0; i < 3; i++)
        whirl_store_delete(stores[i]);
    CHECK(finalized == 1, "the finalizer ran once the last user was gone (%d)", finalized);
}

void test_linking(void)
{
    test_versions();
    test_instance_pre();
    bool exact;
    CHECK(cname_version_match("a:b/c@1.9.0", "a:b/c@1.2.3", &exact) && !exact, "1.9.0 ~ 1.2.3");
    CHECK(cname_version_match("a:b/c@0.2.12", "a:b/c@0.2.0", &exact) && !exact, "0.2.12 ~ 0.2.0");
    CHECK(cname_version_match("a:b/c@0.2", "a:b/c@0.2.6", &exact), "0.2 ~ 0.2.6");
    CHECK(!cname_version_match("a:b/c@0.0.1", "a:b/c@0.0.2", &exact), "0.0.1 !~ 0.0.2");
    CHECK(!cname_version_match("a:b/c@2.0.0", "a:b/c@1.0.0", &exact), "2.0.0 !~ 1.0.0");
    CHECK(!cname_version_match("a:b/d@1.0.0", "a:b/c@1.0.0", &exact), "different interface");
    CHECK(cname_version_match("a:b/c@1.0.0-rc1", "a:b/c@1.0.0-rc1", &exact) && exact,
          "pre-release matches itself");
    CHECK(!cname_version_match("a:b/c@1.0.0-rc1", "a:b/c@1.0.0", &exact),
          "pre-release only matches exactly");
    char why[200];
    CHECK(cname_valid("wasi:cli/run@0.2.0", 18, why, sizeof why), "wasi:cli/run@0.2.0 is valid");
    CHECK(cname_valid("[method]my-res.do-IT", 20, why, sizeof why), "method name is valid");
    CHECK(!cname_valid("[method]my-res", 14, why, sizeof why), "method name needs two labels");
    CHECK(!cname_valid("1abc", 4, why, sizeof why), "label cannot start with a digit");
    CHECK(!cname_valid("a--b", 4, why, sizeof why), "empty fragment");
    CHECK(!cname_valid("aB", 2, why, sizeof why), "mixed case fragment");
}

/* ------------------------------------------------------------------ */
/* Main                                                                */
/* ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 3) {
        fprintf(stderr, "usage: whirl-component-test FIXTURES_DIR SOURCES_DIR\n");
        return 2;
    }
    t_fixtures = argv[1];
    t_sources = argv[2];
    whirl_error_t *e = whirl_engine_new(NULL, &t_engine);
    if (e) {
        printf("FAIL: engine: %s\n0 passed, 1 failed\n", whirl_error_message(e));
        whirl_error_delete(e);
        return 1;
    }
    static const struct {
        const char *name;
        void (*fn)(void);
    } groups[] = {
        {"decode", test_decode},       {"api", test_api},     {"values", test_values},
        {"traps", test_traps},         {"resources", test_resources},
        {"linking", test_linking},     {"async", test_async},
        {"streams", test_streams},
    };
    for (size_t i = 0; i < sizeof groups / sizeof *groups; i++) {
        int p = t_passed, f = t_failed;
        groups[i].fn();
        printf("%-10s %d passed, %d failed\n", groups[i].name, t_passed - p, t_failed - f);
    }
    whirl_engine_delete(t_engine);
    printf("%d passed, %d failed\n", t_passed, t_failed);
    return t_failed ? 1 : 0;
}
