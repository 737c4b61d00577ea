/* Values of every type family host -> guest A -> guest B -> host and back,
 * through the forwarder fixtures echo-scalars, echo-strings and
 * echo-compound. The host's echo function checks what it received and
 * returns either the same value or a reply the test chose, so both
 * directions are checked with distinct values. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

typedef struct echo {
    whirl_cval_t expect[20];
    size_t nexpect;
    whirl_cval_t reply;
    bool use_reply;
    whirl_error_t *fail; /* returned by the next call if set */
    int calls;
    char mismatch[600];
} echo_t;

static echo_t E;

static whirl_error_t *echo_cb(void *env, whirl_store_t *store, const whirl_component_func_t *f,
                              const whirl_cval_t *args, size_t nargs, whirl_cval_t *results,
                              size_t nresults)
{
    E.calls++;
    if (nargs != E.nexpect) {
        snprintf(E.mismatch, sizeof E.mismatch, "host got %zu args, expected %zu", nargs,
                 E.nexpect);
    } else {
        for (size_t i = 0; i < nargs; i++) {
            if (cv_eq(&args[i], &E.expect[i]))
                continue;
            char a[200], b[200];
            snprintf(E.mismatch, sizeof E.mismatch, "host arg %zu is %s, expected %s", i,
                     cv_fmt(&args[i], a, sizeof a), cv_fmt(&E.expect[i], b, sizeof b));
            break;
        }
    }
    if (E.fail) {
        whirl_error_t *e = E.fail;
        E.fail = NULL;
        return e;
    }
    if (nresults)
        return whirl_cval_copy(&results[0], E.use_reply ? &E.reply : &args[0]);
    return NULL;
}

static void echo_reset(void)
{
    for (size_t i = 0; i < E.nexpect; i++)
        whirl_cval_release(&E.expect[i]);
    whirl_cval_release(&E.reply);
    whirl_error_delete(E.fail);
    memset(&E, 0, sizeof E);
}

/* Calls iface#name(args...) and checks that the host saw `args` and that
 * the result is `reply` (or args[0] when reply is NULL). Takes over args
 * and reply. */
static void echo_call(whirl_component_instance_t *inst, const char *iface, const char *name,
                      whirl_cval_t *args, size_t nargs, whirl_cval_t *reply, int line)
{
    echo_reset();
    for (size_t i = 0; i < nargs; i++)
        whirl_error_delete(whirl_cval_copy(&E.expect[i], &args[i]));
    E.nexpect = nargs;
    if (reply) {
        E.reply = *reply;
        E.use_reply = true;
    }
    whirl_cval_t res = {0};
    char what[300];
    snprintf(what, sizeof what, "%s#%s (line %d)", iface, name, line);
    if (CHECK_OK(t_call(inst, iface, name, args, nargs, &res), what)) {
        CHECK(E.calls == 1, "%s: host called %d times", what, E.calls);
        CHECK(!E.mismatch[0], "%s: %s", what, E.mismatch);
        const whirl_cval_t *want = reply ? &E.reply : nargs ? &args[0] : NULL;
        if (want) {
            char a[200], b[200];
            CHECK(cv_eq(&res, want), "%s: result %s, expected %s", what, cv_fmt(&res, a, sizeof a),
                  cv_fmt(want, b, sizeof b));
        }
    }
    whirl_cval_release(&res);
    for (size_t i = 0; i < nargs; i++)
        whirl_cval_release(&args[i]);
    echo_reset();
}

#define ECHO(inst, iface, name, v)                          \
    do {                                                    \
        whirl_cval_t a_[1] = {v};                           \
        echo_call(inst, iface, name, a_, 1, NULL, __LINE__); \
    } while (0)
#define ECHO_REPLY(inst, iface, name, v, r)                  \
    do {                                                     \
        whirl_cval_t a_[1] = {v}, r_ = r;                    \
        echo_call(inst, iface, name, a_, 1, &r_, __LINE__);  \
    } while (0)

static whirl_component_instance_t *setup(const char *fixture, const char *host_iface,
                                         const char *const *funcs, size_t nfuncs,
                                         whirl_component_t **c, whirl_component_linker_t **l,
                                         whirl_store_t **s)
{
    *s = NULL;
    *l = whirl_component_linker_new(t_engine);
    if (!(*c = t_load(fixture)))
        return NULL;
    for (size_t i = 0; i < nfuncs; i++)
        CHECK_OK(whirl_component_linker_define_func(*l, host_iface, funcs[i], echo_cb, NULL, NULL),
                 funcs[i]);
    return t_instantiate(*l, *c, s);
}

static void teardown(whirl_component_t *c, whirl_component_linker_t *l, whirl_store_t *s)
{
    whirl_store_delete(s);
    whirl_component_linker_delete(l);
    whirl_component_delete(c);
}

/* ------------------------------------------------------------------ */
/* Scalars                                                             */
/* ------------------------------------------------------------------ */

static void test_scalars(void)
{
    static const char *const funcs[] = {
        "echo-bool", "echo-s8",  "echo-u8",  "echo-s16",  "echo-u16", "echo-s32",  "echo-u32",
        "echo-s64",  "echo-u64", "echo-f32", "echo-f64", "echo-char", "echo-two", "nothing"};
    whirl_component_t *c;
    whirl_component_linker_t *l;
    whirl_store_t *s;
    /* The host serves @1.0.7 for the import of @1.0.0; the test asks for
     * the export of @1.0.0 as @1.3.0. */
    whirl_component_instance_t *inst =
        setup("echo-scalars", "test:abi/host@1.0.7", funcs, 14, &c, &l, &s);
    const char *I = "test:abi/fwd@1.3.0";
    if (inst) {
        ECHO(inst, I, "echo-bool", cv_b(true));
        ECHO(inst, I, "echo-bool", cv_b(false));
        ECHO_REPLY(inst, I, "echo-bool", cv_b(false), cv_b(true));
        ECHO(inst, I, "echo-s8", cv_s(WHIRL_CVAL_S8, -128));
        ECHO_REPLY(inst, I, "echo-s8", cv_s(WHIRL_CVAL_S8, 127), cv_s(WHIRL_CVAL_S8, -1));
        ECHO(inst, I, "echo-u8", cv_u(WHIRL_CVAL_U8, 255));
        ECHO_REPLY(inst, I, "echo-u8", cv_u(WHIRL_CVAL_U8, 0), cv_u(WHIRL_CVAL_U8, 200));
        ECHO(inst, I, "echo-s16", cv_s(WHIRL_CVAL_S16, -32768));
        ECHO(inst, I, "echo-u16", cv_u(WHIRL_CVAL_U16, 65535));
        ECHO(inst, I, "echo-s32", cv_s(WHIRL_CVAL_S32, INT32_MIN));
        ECHO_REPLY(inst, I, "echo-s32", cv_s(WHIRL_CVAL_S32, -1), cv_s(WHIRL_CVAL_S32, INT32_MAX));
        ECHO(inst, I, "echo-u32", cv_u(WHIRL_CVAL_U32, 0xffffffffu));
        ECHO(inst, I, "echo-s64", cv_s(WHIRL_CVAL_S64, INT64_MIN));
        ECHO_REPLY(inst, I, "echo-s64", cv_s(WHIRL_CVAL_S64, 5), cv_s(WHIRL_CVAL_S64, INT64_MAX));
        ECHO(inst, I, "echo-u64", cv_u(WHIRL_CVAL_U64, UINT64_MAX));
        ECHO(inst, I, "echo-f32", cv_f32(1.5f));
        ECHO(inst, I, "echo-f32", cv_f32(-0.0f));
        ECHO(inst, I, "echo-f32", cv_f32(INFINITY));
        ECHO(inst, I, "echo-f32", cv_f32(NAN));
        ECHO(inst, I, "echo-f64", cv_f64(-1e300));
        ECHO_REPLY(inst, I, "echo-f64", cv_f64(NAN), cv_f64(2.5));
        ECHO(inst, I, "echo-char", cv_ch('a'));
        ECHO(inst, I, "echo-char", cv_ch(0x10ffff));
        ECHO_REPLY(inst, I, "echo-char", cv_ch(0xe000), cv_ch(0x1f600));
        {
            whirl_cval_t a[2] = {cv_u(WHIRL_CVAL_U8, 200), cv_s(WHIRL_CVAL_S64, -5)};
            whirl_cval_t r = cv_u(WHIRL_CVAL_U32, 77);
            echo_call(inst, I, "echo-two", a, 2, &r, __LINE__);
        }
        echo_call(inst, I, "nothing", NULL, 0, NULL, __LINE__);

        /* A NaN coming back is the canonical NaN. */
        whirl_cval_t arg = cv_f32(NAN), res = {0};
        echo_reset();
        E.nexpect = 1;
        E.expect[0] = cv_f32(NAN);
        if (CHECK_OK(t_call(inst, I, "echo-f32", &arg, 1, &res), "echo-f32 NaN")) {
            uint32_t bits;
            memcpy(&bits, &res.of.f32, 4);
            CHECK(bits == 0x7fc00000, "NaN canonicalized to 0x7fc00000, got 0x%x", bits);
        }
        echo_reset();

        /* Host mistakes: arguments out of range are errors, results out of
         * range or of the wrong kind trap the guest. */
        arg = cv_u(WHIRL_CVAL_U8, 300);
        CHECK_ERROR(t_call(inst, I, "echo-u8", &arg, 1, &res), "out of range", "u8 arg 300");
        arg = cv_s(WHIRL_CVAL_S16, 40000);
        CHECK_ERROR(t_call(inst, I, "echo-s16", &arg, 1, &res), "out of range", "s16 arg 40000");
        arg = cv_str("x");
        CHECK_ERROR(t_call(inst, I, "echo-u32", &arg, 1, &res), "string value for u32", "string for u32");
        whirl_cval_release(&arg);
        arg = cv_ch(0xd800);
        CHECK_ERROR(t_call(inst, I, "echo-char", &arg, 1, &res), "not a Unicode scalar",
                    "surrogate char arg");

        arg = cv_u(WHIRL_CVAL_U8, 1);
        E.nexpect = 1;
        E.expect[0] = cv_u(WHIRL_CVAL_U8, 1);
        E.use_reply = true;
        E.reply = cv_u(WHIRL_CVAL_U8, 256);
        CHECK_TRAP(t_call(inst, I, "echo-u8", &arg, 1, &res), "u8 value 256 out of range",
                   "host reply out of range");
        echo_reset();
    }
    teardown(c, l, s);

    /* After a trap the instance is locked; a fresh one runs fine. */
    inst = setup("echo-scalars", "test:abi/host@1.0.0", funcs, 14, &c, &l, &s);
    if (inst) {
        whirl_cval_t arg = cv_u(WHIRL_CVAL_U32, 9), res = {0};
        echo_reset();
        E.nexpect = 1;
        E.expect[0] = cv_u(WHIRL_CVAL_U32, 9);
        E.use_reply = true;
        E.reply = cv_str("not a u32");
        CHECK_TRAP(t_call(inst, I, "echo-u32", &arg, 1, &res), "string value where u32",
                   "host reply of the wrong kind");
        echo_reset();
        CHECK_TRAP(t_call(inst, I, "echo-u32", &arg, 1, &res), "cannot enter component instance",
                   "instance locked after a trap");
    }
    teardown(c, l, s);

    inst = setup("echo-scalars", "test:abi/host@1.0.0", funcs, 14, &c, &l, &s);
    if (inst) {
        whirl_cval_t arg = cv_b(true), res = {0};
        echo_reset();
        E.nexpect = 1;
        E.expect[0] = cv_b(true);
        E.fail = whirl_error_new("the host says no");
        CHECK_TRAP(t_call(inst, I, "echo-bool", &arg, 1, &res), "the host says no",
                   "host error traps the guest");
        echo_reset();
    }
    teardown(c, l, s);

    /* An exit request (WASI's exit) unwinds through both guests as an
     * exit, not a trap. */
    inst = setup("echo-scalars", "test:abi/host@1.0.0", funcs, 14, &c, &l, &s);
    if (inst) {
        whirl_cval_t arg = cv_b(true), res = {0};
        echo_reset();
        E.nexpect = 1;
        E.expect[0] = cv_b(true);
        E.fail = whirl_error_new_exit(3);
        whirl_error_t *e = t_call(inst, I, "echo-bool", &arg, 1, &res);
        int status = -1;
        CHECK(e && whirl_error_exit_status(e, &status) && status == 3 &&
                  !whirl_error_is_trap(e, NULL),
              "exit status 3 comes back as an exit: %s", e ? whirl_error_message(e) : "(none)");
        whirl_error_delete(e);
        echo_reset();
    }
    teardown(c, l, s);
}

/* ------------------------------------------------------------------ */
/* Strings                                                             */
/* ------------------------------------------------------------------ */

static void test_strings(void)
{
    static const char *const funcs[] = {"echo-string", "echo-list-string", "length"};
    static const char *const chains[] = {"utf8", "latin1-to-utf16", "utf16-to-latin1", "latin1"};
    static const char *const samples[] = {
        "", "hello", "h\xc3\xa9llo w\xc3\xb6rld \xc3\xbf", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
        "emoji \xf0\x9f\x98\x80 and \xc3\xa9", "\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf",
    };
    whirl_component_t *c;
    whirl_component_linker_t *l;
    whirl_store_t *s;
    whirl_component_instance_t *inst =
        setup("echo-strings", "test:abi/strings", funcs, 3, &c, &l, &s);
    if (inst) {
        size_t big_len = 100000;
        char *big = malloc(big_len + 1);
        for (size_t i = 0; i < big_len; i++)
            big[i] = (char)('a' + i % 26);
        big[big_len] = 0;
        for (size_t k = 0; k < 4; k++) {
            const char *I = chains[k];
            for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
                ECHO(inst, I, "echo-string", cv_str(samples[i]));
                ECHO_REPLY(inst, I, "echo-string", cv_str(samples[i]),
                           cv_str(samples[(i + 1) % (sizeof samples / sizeof *samples)]));
            }
            ECHO(inst, I, "echo-string", cv_strn(big, big_len));
            /* A large non-Latin-1 string forces the UTF-16 paths. */
            ECHO_REPLY(inst, I, "echo-string", cv_str("x"), cv_str(samples[3]));
            ECHO(inst, I, "echo-list-string",
                 cv_items(WHIRL_CVAL_LIST, 4, cv_str(samples[1]), cv_str(samples[2]),
                          cv_str(""), cv_str(samples[4])));
            ECHO(inst, I, "echo-list-string", cv_items(WHIRL_CVAL_LIST, 0));
            ECHO_REPLY(inst, I, "length", cv_str(samples[4]), cv_u(WHIRL_CVAL_U32, 4));
        }
        free(big);
        /* Invalid UTF-8 from the host traps in the first lowering. */
        whirl_cval_t arg = cv_strn("\xff\xfe", 2), res = {0};
        CHECK_TRAP(t_call(inst, "utf8", "echo-string", &arg, 1, &res), "not valid UTF-8",
                   "host string not UTF-8");
        whirl_cval_release(&arg);
    }
    teardown(c, l, s);
}

/* ------------------------------------------------------------------ */
/* Compound values                                                     */
/* ------------------------------------------------------------------ */

static whirl_cval_t point(int32_t x, double y, const char *label)
{
    return cv_items(WHIRL_CVAL_RECORD, 3, cv_s(WHIRL_CVAL_S32, x), cv_f64(y), cv_str(label));
}

static whirl_cval_t u16list(size_t n, uint16_t start)
{
    whirl_cval_t v = {0};
    whirl_error_delete(whirl_cval_set_items(&v, WHIRL_CVAL_LIST, n));
    for (size_t i = 0; i < n; i++)
        v.of.list.items[i] = cv_u(WHIRL_CVAL_U16, (uint16_t)(start + i));
    return v;
}

static whirl_cval_t big_record(uint32_t base)
{
    whirl_cval_t v = {0};
    whirl_error_delete(whirl_cval_set_items(&v, WHIRL_CVAL_RECORD, 17));
    for (size_t i = 0; i < 17; i++)
        v.of.list.items[i] = cv_u(WHIRL_CVAL_U32, base + i * 1000);
    return v;
}

static void test_type_introspection(whirl_component_instance_t *inst)
{
    whirl_component_func_t *f;
    if (!whirl_component_instance_func(inst, "test:abi/compound", "echo-point", &f)) {
        t_fail(__FILE__, __LINE__, "no echo-point");
        return;
    }
    CHECK(whirl_component_func_param_count(f) == 1, "echo-point has one param");
    CHECK(strcmp(whirl_component_func_param_name(f, 0), "v") == 0, "param named v");
    const whirl_ctype_t *t = whirl_component_func_param_type(f, 0);
    CHECK(whirl_ctype_kind(t) == WHIRL_CVAL_RECORD && whirl_ctype_count(t) == 3, "point record");
    CHECK(strcmp(whirl_ctype_label(t, 2), "label") == 0, "third field is `label`");
    CHECK(whirl_ctype_kind(whirl_ctype_elem(t, 1)) == WHIRL_CVAL_F64, "y is f64");
    CHECK(whirl_component_instance_func(inst, "test:abi/compound", "echo-result", &f) &&
              whirl_ctype_kind(whirl_component_func_param_type(f, 0)) == WHIRL_CVAL_RESULT,
          "echo-result takes a result");
    t = whirl_component_func_param_type(f, 0);
    CHECK(whirl_ctype_count(t) == 2 && whirl_ctype_kind(whirl_ctype_elem(t, 0)) == WHIRL_CVAL_U32 &&
              whirl_ctype_kind(whirl_ctype_elem(t, 1)) == WHIRL_CVAL_STRING,
          "result<u32, string>");
    CHECK(whirl_component_instance_func(inst, "test:abi/compound", "echo-list-list", &f), "ll");
    t = whirl_ctype_elem(whirl_component_func_param_type(f, 0), 0);
    CHECK(whirl_ctype_kind(t) == WHIRL_CVAL_LIST &&
              whirl_ctype_kind(whirl_ctype_elem(t, 0)) == WHIRL_CVAL_U16,
          "list<list<u16>>");
}

static void test_compound(void)
{
    static const char *const funcs[] = {
        "echo-bytes",       "echo-list-u32",    "echo-list-list",    "echo-list-point",
        "echo-point",       "echo-tuple",       "echo-flags3",       "echo-flags32",
        "echo-enum",        "echo-variant",     "echo-variant-f32",  "echo-option",
        "echo-option-string", "echo-result",    "echo-result-empty", "echo-nested-option",
        "echo-list-enum300", "echo-big",        "sum17"};
    whirl_component_t *c;
    whirl_component_linker_t *l;
    whirl_store_t *s;
    whirl_component_instance_t *inst =
        setup("echo-compound", "test:abi/compound", funcs, 19, &c, &l, &s);
    const char *I = "test:abi/compound";
    if (!inst) {
        teardown(c, l, s);
        return;
    }
    test_type_introspection(inst);
    ECHO(inst, I, "echo-bytes", cv_bytes("\x00\x01\xff", 3));
    ECHO(inst, I, "echo-bytes", cv_bytes("", 0));
    ECHO(inst, I, "echo-bytes", cv_items(WHIRL_CVAL_LIST, 2, cv_u(WHIRL_CVAL_U8, 7),
                                         cv_u(WHIRL_CVAL_U8, 9)));
    {
        size_t n = 300000;
        char *b = malloc(n);
        for (size_t i = 0; i < n; i++)
            b[i] = (char)(i * 7);
        ECHO(inst, I, "echo-bytes", cv_bytes(b, n));
        free(b);
    }
    ECHO(inst, I, "echo-list-u32", cv_items(WHIRL_CVAL_LIST, 3, cv_u(WHIRL_CVAL_U32, 1),
                                            cv_u(WHIRL_CVAL_U32, 0xffffffff), cv_u(WHIRL_CVAL_U32, 3)));
    ECHO(inst, I, "echo-list-list", cv_items(WHIRL_CVAL_LIST, 3, u16list(5, 100), u16list(0, 0),
                                             u16list(1000, 7)));
    ECHO(inst, I, "echo-list-point", cv_items(WHIRL_CVAL_LIST, 2, point(-1, 0.5, "first"),
                                              point(INT32_MAX, -1e10, "")));
    ECHO(inst, I, "echo-point", point(3, 4.25, "pt"));
    ECHO_REPLY(inst, I, "echo-point", point(3, 4.25, "pt"), point(-7, 1e-300, "other label"));
    ECHO(inst, I, "echo-tuple", cv_items(WHIRL_CVAL_TUPLE, 4, cv_u(WHIRL_CVAL_U16, 65535),
                                         cv_s(WHIRL_CVAL_S64, -2), cv_f32(3.5f), cv_b(true)));
    ECHO(inst, I, "echo-flags3", cv_flags(5));
    ECHO_REPLY(inst, I, "echo-flags3", cv_flags(0), cv_flags(7));
    ECHO(inst, I, "echo-flags32", cv_flags(0x80000001u));
    ECHO(inst, I, "echo-enum", cv_case0(WHIRL_CVAL_ENUM, 2));
    ECHO_REPLY(inst, I, "echo-enum", cv_case0(WHIRL_CVAL_ENUM, 0), cv_case0(WHIRL_CVAL_ENUM, 1));
    /* shape: a(u32) b(f32) c(u64) d(f64) e(string) f, flattened [i32 i64 i32]. */
    ECHO(inst, I, "echo-variant", cv_case(WHIRL_CVAL_VARIANT, 0, cv_u(WHIRL_CVAL_U32, 0xdeadbeef)));
    ECHO(inst, I, "echo-variant", cv_case(WHIRL_CVAL_VARIANT, 1, cv_f32(-2.75f)));
    ECHO(inst, I, "echo-variant", cv_case(WHIRL_CVAL_VARIANT, 2, cv_u(WHIRL_CVAL_U64, UINT64_MAX)));
    ECHO(inst, I, "echo-variant", cv_case(WHIRL_CVAL_VARIANT, 3, cv_f64(6.02e23)));
    ECHO(inst, I, "echo-variant", cv_case(WHIRL_CVAL_VARIANT, 4, cv_str("in a variant")));
    ECHO(inst, I, "echo-variant", cv_case0(WHIRL_CVAL_VARIANT, 5));
    ECHO_REPLY(inst, I, "echo-variant", cv_case0(WHIRL_CVAL_VARIANT, 5),
               cv_case(WHIRL_CVAL_VARIANT, 1, cv_f32(1.0f)));
    ECHO(inst, I, "echo-variant-f32", cv_case(WHIRL_CVAL_VARIANT, 0, cv_f32(0.1f)));
    ECHO(inst, I, "echo-variant-f32", cv_case(WHIRL_CVAL_VARIANT, 1, cv_u(WHIRL_CVAL_U32, 42)));
    ECHO(inst, I, "echo-option", cv_case0(WHIRL_CVAL_OPTION, 0));
    ECHO(inst, I, "echo-option", cv_case(WHIRL_CVAL_OPTION, 1, cv_u(WHIRL_CVAL_U32, 0)));
    ECHO(inst, I, "echo-option-string", cv_case(WHIRL_CVAL_OPTION, 1, cv_str("some")));
    ECHO_REPLY(inst, I, "echo-option-string", cv_case(WHIRL_CVAL_OPTION, 1, cv_str("some")),
               cv_case0(WHIRL_CVAL_OPTION, 0));
    ECHO(inst, I, "echo-result", cv_case(WHIRL_CVAL_RESULT, 0, cv_u(WHIRL_CVAL_U32, 17)));
    ECHO(inst, I, "echo-result", cv_case(WHIRL_CVAL_RESULT, 1, cv_str("an error")));
    ECHO(inst, I, "echo-result-empty", cv_case0(WHIRL_CVAL_RESULT, 1));
    ECHO(inst, I, "echo-nested-option", cv_case0(WHIRL_CVAL_OPTION, 0));
    ECHO(inst, I, "echo-nested-option",
         cv_case(WHIRL_CVAL_OPTION, 1, cv_case0(WHIRL_CVAL_OPTION, 0)));
    ECHO(inst, I, "echo-nested-option",
         cv_case(WHIRL_CVAL_OPTION, 1, cv_case(WHIRL_CVAL_OPTION, 1, cv_u(WHIRL_CVAL_U8, 255))));
    ECHO(inst, I, "echo-list-enum300", cv_items(WHIRL_CVAL_LIST, 3, cv_case0(WHIRL_CVAL_ENUM, 299),
                                                cv_case0(WHIRL_CVAL_ENUM, 0),
                                                cv_case0(WHIRL_CVAL_ENUM, 256)));
    ECHO(inst, I, "echo-big", big_record(1));
    ECHO_REPLY(inst, I, "echo-big", big_record(1), big_record(5));
    {
        whirl_cval_t a[17];
        for (int i = 0; i < 17; i++)
            a[i] = cv_u(WHIRL_CVAL_U32, (uint64_t)i * 3);
        whirl_cval_t r = cv_u(WHIRL_CVAL_U32, 123456);
        echo_call(inst, I, "sum17", a, 17, &r, __LINE__);
    }
    /* Host mistakes caught before anything runs. */
    whirl_cval_t arg = cv_case0(WHIRL_CVAL_ENUM, 3), res = {0};
    CHECK_ERROR(t_call(inst, I, "echo-enum", &arg, 1, &res), "out of range", "enum case 3 of 3");
    arg = cv_case0(WHIRL_CVAL_OPTION, 1);
    CHECK_ERROR(t_call(inst, I, "echo-option", &arg, 1, &res), "needs a payload",
                "some without payload");
    whirl_cval_release(&arg);
    arg = cv_items(WHIRL_CVAL_RECORD, 2, cv_s(WHIRL_CVAL_S32, 1), cv_f64(2));
    CHECK_ERROR(t_call(inst, I, "echo-point", &arg, 1, &res), "2 items", "record missing a field");
    whirl_cval_release(&arg);
    arg = cv_bytes("ab", 2);
    CHECK_ERROR(t_call(inst, I, "echo-list-u32", &arg, 1, &res), "bytes value",
                "bytes for list<u32>");
    whirl_cval_release(&arg);
    teardown(c, l, s);
}

void test_values(void)
{
    test_scalars();
    test_strings();
    test_compound();
}
