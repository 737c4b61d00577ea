/* spin:postgres@4.0.0's text codecs (src/serve/spin_pg_types.c) alone, no
 * server: parameters written as PostgreSQL literals, column text read into
 * values, and malformed or unexpected text (answered `unsupported`, never a
 * crash or a guess). Prints "test_pg_types: N passed, M failed". */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/spin_pg.h"

static int passed, failed;

#define CHECK(cond, ...)                                                                      \
    do {                                                                                      \
        if (cond) {                                                                           \
            passed++;                                                                         \
        } else {                                                                              \
            failed++;                                                                         \
            fprintf(stderr, "FAILED (line %d): ", __LINE__);                                 \
            fprintf(stderr, __VA_ARGS__);                                                     \
            fputc('\n', stderr);                                                              \
        }                                                                                     \
    } while (0)

/* ---- building parameter values ---- */

static void set_str(whirl_cval_t *v, const char *s, size_t n)
{
    whirl_error_t *e = whirl_cval_set_string(v, s, n);
    if (e) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
}

static void set_opt_int(whirl_cval_t *o, bool some, int64_t x)
{
    whirl_cval_set_case(o, WHIRL_CVAL_OPTION, some, some);
    if (some) {
        o->of.variant.payload->kind = WHIRL_CVAL_S32;
        o->of.variant.payload->of.s = x;
    }
}

/* A bound: some((x, kind)) or none. */
static void set_bound(whirl_cval_t *o, bool some, int64_t x, uint32_t kind)
{
    whirl_cval_set_case(o, WHIRL_CVAL_OPTION, some, some);
    if (!some)
        return;
    whirl_cval_t *t = o->of.variant.payload;
    whirl_cval_set_items(t, WHIRL_CVAL_TUPLE, 2);
    t->of.list.items[0].kind = WHIRL_CVAL_S64;
    t->of.list.items[0].of.s = x;
    whirl_cval_set_case(&t->of.list.items[1], WHIRL_CVAL_ENUM, kind, false);
}

static void check_param(pg_kind_t k, const whirl_cval_t *p, const char *want, Oid want_type,
                        int line)
{
    char why[200] = "";
    Oid type = 0;
    char *got = pg_v4_param_text(k, p, &type, why, sizeof why);
    if (!want) {
        CHECK(!got && why[0], "line %d: expected a refusal, got '%s'", line, got ? got : "");
    } else {
        CHECK(got && !strcmp(got, want) && type == want_type,
              "line %d: got '%s' (type %u), expected '%s' (type %u); %s", line,
              got ? got : "(null)", (unsigned)type, want, (unsigned)want_type, why);
    }
    free(got);
}

static void test_params(void)
{
    whirl_cval_t v = {0};
    set_str(&v, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", 36);
    check_param(K_UUID, &v, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", 2950, __LINE__);
    set_str(&v, "1.5\0x", 5); /* a NUL PostgreSQL's text cannot carry */
    check_param(K_DECIMAL, &v, NULL, 0, __LINE__);
    whirl_cval_set_bytes(&v, "{\"k\":1}", 7);
    check_param(K_JSONB, &v, "{\"k\":1}", 3802, __LINE__);

    /* Arrays: NULLs, quoting of " and \, and the empty array. */
    whirl_cval_set_items(&v, WHIRL_CVAL_LIST, 3);
    set_opt_int(&v.of.list.items[0], true, 7);
    set_opt_int(&v.of.list.items[1], false, 0);
    set_opt_int(&v.of.list.items[2], true, -8);
    check_param(K_ARR_I32, &v, "{7,NULL,-8}", 1007, __LINE__);
    whirl_cval_set_items(&v, WHIRL_CVAL_LIST, 2);
    whirl_cval_set_case(&v.of.list.items[0], WHIRL_CVAL_OPTION, 1, true);
    set_str(v.of.list.items[0].of.variant.payload, "say \"hi\\\"", 9);
    whirl_cval_set_case(&v.of.list.items[1], WHIRL_CVAL_OPTION, 1, true);
    set_str(v.of.list.items[1].of.variant.payload, "NULL", 4);
    check_param(K_ARR_STR, &v, "{\"say \\\"hi\\\\\\\"\",\"NULL\"}", 1009, __LINE__);
    whirl_cval_set_items(&v, WHIRL_CVAL_LIST, 0);
    check_param(K_ARR_I64, &v, "{}", 1016, __LINE__);

    /* Ranges: both bound kinds, unbounded sides. */
    whirl_cval_set_items(&v, WHIRL_CVAL_TUPLE, 2);
    set_bound(&v.of.list.items[0], true, -3, 0);
    set_bound(&v.of.list.items[1], true, 9, 1);
    check_param(K_RANGE_I64, &v, "[-3,9)", 3926, __LINE__);
    set_bound(&v.of.list.items[0], false, 0, 0);
    set_bound(&v.of.list.items[1], true, 9, 0);
    check_param(K_RANGE_I32, &v, "(,9]", 3904, __LINE__);

    /* Interval: months, days, microseconds. */
    whirl_cval_set_items(&v, WHIRL_CVAL_RECORD, 3);
    v.of.list.items[0] = (whirl_cval_t){.kind = WHIRL_CVAL_S64, .of.s = -5};
    v.of.list.items[1] = (whirl_cval_t){.kind = WHIRL_CVAL_S32, .of.s = 2};
    v.of.list.items[2] = (whirl_cval_t){.kind = WHIRL_CVAL_S32, .of.s = 13};
    check_param(K_INTERVAL, &v, "13 mons 2 days -5 microseconds", 1186, __LINE__);

    /* A value of the wrong shape for its case is refused, not misread. */
    set_str(&v, "x", 1);
    check_param(K_ARR_I32, &v, NULL, 0, __LINE__);
    check_param(K_RANGE_DEC, &v, NULL, 0, __LINE__);
    check_param(K_INTERVAL, &v, NULL, 0, __LINE__);
    whirl_cval_release(&v);
}

/* ---- reading column text ---- */

/* The value as compact text: ints, "strings", [lists], none as ~. */
static void show(const whirl_cval_t *v, char *out, size_t cap)
{
    size_t n = strlen(out);
    switch (v->kind) {
    case WHIRL_CVAL_S32:
    case WHIRL_CVAL_S64:
        snprintf(out + n, cap - n, "%lld", (long long)v->of.s);
        break;
    case WHIRL_CVAL_STRING:
    case WHIRL_CVAL_BYTES:
        snprintf(out + n, cap - n, "'%.*s'", (int)v->of.string.len, v->of.string.data);
        break;
    case WHIRL_CVAL_ENUM:
        snprintf(out + n, cap - n, "%s", v->of.variant.index ? "excl" : "incl");
        break;
    case WHIRL_CVAL_OPTION:
        if (v->of.variant.index == 0)
            snprintf(out + n, cap - n, "~");
        else
            show(v->of.variant.payload, out, cap);
        break;
    case WHIRL_CVAL_LIST:
    case WHIRL_CVAL_TUPLE:
    case WHIRL_CVAL_RECORD:
        snprintf(out + n, cap - n, "[");
        for (size_t i = 0; i < v->of.list.len; i++) {
            if (i)
                strncat(out, " ", cap - strlen(out) - 1);
            show(&v->of.list.items[i], out, cap);
        }
        strncat(out, "]", cap - strlen(out) - 1);
        break;
    default:
        snprintf(out + n, cap - n, "?");
    }
}

static void check_cell(pg_kind_t k, const char *text, const char *want, int line)
{
    whirl_cval_t v = {0};
    whirl_error_t *e = NULL;
    bool ok = pg_v4_cell(k, text, strlen(text), &v, &e);
    char got[512] = "";
    if (ok)
        show(&v, got, sizeof got);
    if (!want)
        CHECK(!ok && !e && v.kind == 0, "line %d: '%s' should be unsupported, read as %s", line,
              text, got);
    else
        CHECK(ok && !strcmp(got, want), "line %d: '%s' read as '%s', expected '%s'", line,
              text, ok ? got : "(unsupported)", want);
    whirl_error_delete(e);
    whirl_cval_release(&v);
}

static void test_cells(void)
{
    check_cell(K_ARR_I32, "{1,NULL,-3}", "[1 ~ -3]", __LINE__);
    check_cell(K_ARR_I32, "{}", "[]", __LINE__);
    check_cell(K_ARR_STR, "{\"a \\\"b\\\", c\",NULL,\"NULL\",\"\",plain}",
               "['a \"b\", c' ~ 'NULL' '' 'plain']", __LINE__);
    check_cell(K_ARR_I64, "{9007199254740993}", "[9007199254740993]", __LINE__);
    check_cell(K_ARR_I32, "{{1,2},{3,4}}", NULL, __LINE__);   /* two dimensions */
    check_cell(K_ARR_I32, "[0:1]={1,2}", NULL, __LINE__);     /* explicit bounds */
    check_cell(K_ARR_I32, "{1,x}", NULL, __LINE__);           /* not a number */
    check_cell(K_ARR_STR, "{\"unterminated}", NULL, __LINE__);
    check_cell(K_ARR_I32, "{", NULL, __LINE__);
    check_cell(K_ARR_I32, "", NULL, __LINE__);
    check_cell(K_ARR_I32, "{99999999999999999999999999999999999}", NULL, __LINE__);

    check_cell(K_RANGE_I32, "[1,5)", "[[1 incl] [5 excl]]", __LINE__);
    check_cell(K_RANGE_I64, "(,9007199254740994)", "[~ [9007199254740994 excl]]", __LINE__);
    check_cell(K_RANGE_DEC, "(1.5,)", "[['1.5' excl] ~]", __LINE__);
    check_cell(K_RANGE_DEC, "[\"1.5\",\"2\"]", "[['1.5' incl] ['2' incl]]", __LINE__);
    check_cell(K_RANGE_I32, "empty", "[~ ~]", __LINE__);
    check_cell(K_RANGE_I32, "[1,5", NULL, __LINE__);
    check_cell(K_RANGE_I32, "[1;5)", NULL, __LINE__);
    check_cell(K_RANGE_I32, "[1,5,6)", NULL, __LINE__);
    check_cell(K_RANGE_I32, "(", NULL, __LINE__);

    /* interval record: [micros days months] */
    check_cell(K_INTERVAL, "1 year 2 mons -2 days +01:02:03.000004",
               "[3723000004 -2 14]", __LINE__);
    check_cell(K_INTERVAL, "00:00:00", "[0 0 0]", __LINE__);
    check_cell(K_INTERVAL, "-00:00:01.5", "[-1500000 0 0]", __LINE__);
    check_cell(K_INTERVAL, "3 days", "[0 3 0]", __LINE__);
    check_cell(K_INTERVAL, "P1Y2M", NULL, __LINE__);            /* IntervalStyle iso_8601 */
    check_cell(K_INTERVAL, "1 fortnight", NULL, __LINE__);
    check_cell(K_INTERVAL, "1:2", NULL, __LINE__);

    check_cell(K_UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
               "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", __LINE__);
    check_cell(K_JSONB, "{\"a\": [1, 2]}", "'{\"a\": [1, 2]}'", __LINE__);
    check_cell(K_DECIMAL, "-0.000001", "'-0.000001'", __LINE__);
}

int main(void)
{
    test_params();
    test_cells();
    printf("test_pg_types: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
