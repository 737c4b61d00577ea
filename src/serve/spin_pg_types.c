/* spin:postgres/postgres@4.0.0's values beyond version 3 (uuid, jsonb,
 * numeric, int4/int8/numeric ranges, one-dimensional int4/int8/numeric/
 * text arrays, intervals) in PostgreSQL's text format, both ways, and its
 * structured errors (query-error.db-error from the server's error fields).
 *
 * Text is what libpq speaks without knowing the types: parameters are sent
 * with their type's OID, results are read in the server's default output
 * styles (DateStyle ISO, IntervalStyle postgres). A value in another form
 * (an array with several dimensions or custom bounds, an interval in
 * another style) is answered as `unsupported` with its text, never
 * guessed at. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/spin_pg.h"

#define errorf whirl_error_newf

/* Type OIDs (pg_type.dat). */
enum {
    OID_JSONB = 3802, OID_UUID = 2950, OID_NUMERIC = 1700, OID_INT4RANGE = 3904,
    OID_INT8RANGE = 3926, OID_NUMRANGE = 3906, OID_INT4_ARRAY = 1007, OID_INT8_ARRAY = 1016,
    OID_NUMERIC_ARRAY = 1231, OID_TEXT_ARRAY = 1009, OID_VARCHAR_ARRAY = 1015,
    OID_INTERVAL = 1186,
};

enum { BOUND_INCLUSIVE = 0, BOUND_EXCLUSIVE = 1 }; /* range-bound-kind */

pg_kind_t pg_v4_column_kind(Oid t)
{
    switch (t) {
    case OID_UUID: return K_UUID;
    case OID_JSONB: return K_JSONB;
    case OID_NUMERIC: return K_DECIMAL;
    case OID_INT4RANGE: return K_RANGE_I32;
    case OID_INT8RANGE: return K_RANGE_I64;
    case OID_NUMRANGE: return K_RANGE_DEC;
    case OID_INT4_ARRAY: return K_ARR_I32;
    case OID_INT8_ARRAY: return K_ARR_I64;
    case OID_NUMERIC_ARRAY: return K_ARR_DEC;
    case OID_TEXT_ARRAY: case OID_VARCHAR_ARRAY: return K_ARR_STR;
    case OID_INTERVAL: return K_INTERVAL;
    default: return K_OTHER;
    }
}

/* ---- parameters: a growing text buffer ---- */

typedef struct text {
    char *s;
    size_t len, cap;
    bool failed;
} text_t;

static void put(text_t *t, const char *data, size_t n)
{
    if (t->failed)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 64;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *s = realloc(t->s, cap);
        if (!s) {
            t->failed = true;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
    memcpy(t->s + t->len, data, n);
    t->len += n;
    t->s[t->len] = '\0';
}

static void putf(text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(text_t *t, const char *fmt, ...)
{
    char buf[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    put(t, buf, n < 0 ? 0 : (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* A string without NULs (PostgreSQL's text cannot hold one). */
static bool plain_string(const whirl_cval_t *v)
{
    return v && (v->kind == WHIRL_CVAL_STRING || v->kind == WHIRL_CVAL_BYTES) &&
           !memchr(v->of.string.data, 0, v->of.string.len);
}

/* An array element or range bound: a number, or a string quoted as array
 * and range literals quote (backslash before " and \). */
static bool put_item(text_t *t, const whirl_cval_t *v, bool quote)
{
    if (v->kind == WHIRL_CVAL_S32 || v->kind == WHIRL_CVAL_S64) {
        putf(t, "%lld", (long long)v->of.s);
        return true;
    }
    if (!plain_string(v))
        return false;
    if (quote)
        put(t, "\"", 1);
    for (size_t i = 0; i < v->of.string.len; i++) {
        char c = v->of.string.data[i];
        if (quote && (c == '"' || c == '\\'))
            put(t, "\\", 1);
        put(t, &c, 1);
    }
    if (quote)
        put(t, "\"", 1);
    return true;
}

/* tuple<option<tuple<T, range-bound-kind>>, option<...>> as "[1,5)". */
static bool put_range(text_t *t, const whirl_cval_t *p)
{
    if (p->kind != WHIRL_CVAL_TUPLE || p->of.list.len != 2)
        return false;
    for (int side = 0; side < 2; side++) {
        const whirl_cval_t *o = &p->of.list.items[side];
        const whirl_cval_t *b = o->kind == WHIRL_CVAL_OPTION && o->of.variant.index == 1
                                    ? o->of.variant.payload : NULL;
        if (b && (b->kind != WHIRL_CVAL_TUPLE || b->of.list.len != 2))
            return false;
        bool inclusive = b && b->of.list.items[1].of.variant.index == BOUND_INCLUSIVE;
        if (side == 1)
            put(t, ",", 1);
        else
            put(t, inclusive ? "[" : "(", 1);
        if (b && !put_item(t, &b->of.list.items[0], true))
            return false;
        if (side == 1)
            put(t, inclusive ? "]" : ")", 1);
    }
    return true;
}

/* list<option<T>> as "{1,NULL,3}". */
static bool put_array(text_t *t, const whirl_cval_t *p)
{
    if (p->kind != WHIRL_CVAL_LIST)
        return false;
    put(t, "{", 1);
    for (size_t i = 0; i < p->of.list.len; i++) {
        const whirl_cval_t *o = &p->of.list.items[i];
        if (i)
            put(t, ",", 1);
        if (o->kind != WHIRL_CVAL_OPTION)
            return false;
        if (o->of.variant.index == 0)
            put(t, "NULL", 4);
        else if (!put_item(t, o->of.variant.payload, true))
            return false;
    }
    put(t, "}", 1);
    return true;
}

char *pg_v4_param_text(pg_kind_t k, const whirl_cval_t *p, Oid *type, char *why, size_t whylen)
{
    text_t t = {0};
    bool ok = true;
    switch (k) {
    case K_UUID:
        *type = OID_UUID;
        ok = put_item(&t, p, false);
        break;
    case K_JSONB:
        *type = OID_JSONB;
        ok = put_item(&t, p, false);
        break;
    case K_DECIMAL:
        *type = OID_NUMERIC;
        ok = put_item(&t, p, false);
        break;
    case K_RANGE_I32:
    case K_RANGE_I64:
    case K_RANGE_DEC:
        *type = k == K_RANGE_I32 ? OID_INT4RANGE : k == K_RANGE_I64 ? OID_INT8RANGE
                                                                    : OID_NUMRANGE;
        ok = put_range(&t, p);
        break;
    case K_ARR_I32:
    case K_ARR_I64:
    case K_ARR_DEC:
    case K_ARR_STR:
        *type = k == K_ARR_I32 ? OID_INT4_ARRAY : k == K_ARR_I64 ? OID_INT8_ARRAY
                : k == K_ARR_DEC ? OID_NUMERIC_ARRAY : OID_TEXT_ARRAY;
        ok = put_array(&t, p);
        break;
    case K_INTERVAL: /* record interval { micros: s64, days: s32, months: s32 } */
        *type = OID_INTERVAL;
        ok = p->kind == WHIRL_CVAL_RECORD && p->of.list.len == 3;
        if (ok)
            putf(&t, "%lld mons %lld days %lld microseconds",
                 (long long)p->of.list.items[2].of.s, (long long)p->of.list.items[1].of.s,
                 (long long)p->of.list.items[0].of.s);
        break;
    default:
        ok = false;
        break;
    }
    if (!ok || t.failed) {
        snprintf(why, whylen, "%s", t.failed ? "out of memory"
                                    : "a value PostgreSQL's text cannot hold (a NUL?)");
        free(t.s);
        return NULL;
    }
    if (!t.s)
        put(&t, "", 0);
    return t.s;
}

/* ---- results ---- */

static whirl_error_t *set_string(whirl_cval_t *v, const char *s, size_t n)
{
    return whirl_cval_set_string(v, s, n);
}

/* A number of the interface's width from the text's start; *end after it. */
static bool parse_int(const char *s, const char *limit, int64_t *out, const char **end)
{
    char buf[32];
    size_t n = (size_t)(limit - s);
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *e = NULL;
    long long v = strtoll(buf, &e, 10);
    if (e == buf)
        return false;
    *out = v;
    *end = s + (e - buf);
    return true;
}

/* Array and range items: quoted ("a \"b\"") or bare up to one of `stops`.
 * Returns the unquoted text (caller frees) and whether it was the bare
 * word NULL; NULL pointer when malformed. */
static char *take_item(const char **pos, const char *limit, const char *stops, bool *is_null,
                       size_t *len)
{
    const char *s = *pos;
    text_t t = {0};
    *is_null = false;
    if (s < limit && *s == '"') {
        for (s++; s < limit && *s != '"'; s++) {
            if (*s == '\\' && s + 1 < limit)
                s++;
            put(&t, s, 1);
        }
        if (s >= limit) {
            free(t.s);
            return NULL;
        }
        s++;
    } else {
        const char *start = s;
        while (s < limit && !strchr(stops, *s))
            s++;
        put(&t, start, (size_t)(s - start));
        *is_null = s - start == 4 && !strncasecmp(start, "NULL", 4);
    }
    if (!t.s)
        put(&t, "", 0);
    if (t.failed) {
        free(t.s);
        return NULL;
    }
    *pos = s;
    *len = t.len;
    return t.s;
}

/* Moves a value built aside into p (what p held is released). */
static bool take_value(whirl_cval_t *p, whirl_cval_t *built)
{
    whirl_cval_release(p);
    *p = *built;
    return true;
}

/* An item as the element kind: s32/s64 for integers, a string otherwise. */
static bool set_item(whirl_cval_t *v, pg_kind_t elem, const char *s, size_t n,
                     whirl_error_t **e)
{
    if (elem == K_I32 || elem == K_I64) {
        int64_t x;
        const char *end;
        if (!parse_int(s, s + n, &x, &end) || end != s + n)
            return false;
        v->kind = elem == K_I32 ? WHIRL_CVAL_S32 : WHIRL_CVAL_S64;
        v->of.s = x;
        return true;
    }
    *e = set_string(v, s, n);
    return !*e;
}

static bool cell_array(pg_kind_t elem, const char *s, size_t len, whirl_cval_t *p,
                       whirl_error_t **e)
{
    const char *pos = s, *limit = s + len;
    if (len < 2 || s[0] != '{' || s[len - 1] != '}' || memchr(s + 1, '{', len - 1))
        return false; /* several dimensions or explicit bounds: unsupported */
    whirl_cval_t out = {0};
    size_t n = 0, cap = 0;
    pos++;
    limit--;
    while (pos < limit) {
        bool is_null;
        size_t ilen = 0;
        char *item = take_item(&pos, limit, ",", &is_null, &ilen);
        if (!item)
            goto bad;
        if (n == cap) { /* grow by doubling: arrays may hold millions of items */
            cap = cap ? 2 * cap : 8;
            whirl_cval_t *grown = realloc(out.of.list.items, cap * sizeof *grown);
            if (!grown) {
                free(item);
                *e = errorf("out of memory");
                goto bad;
            }
            out.kind = WHIRL_CVAL_LIST;
            out.of.list.items = grown;
        }
        whirl_cval_t *items = out.of.list.items;
        memset(&items[n], 0, sizeof items[n]);
        out.of.list.len = ++n;
        whirl_cval_t *o = &items[n - 1];
        bool ok = true;
        if (is_null) {
            *e = whirl_cval_set_case(o, WHIRL_CVAL_OPTION, 0, false);
        } else {
            *e = whirl_cval_set_case(o, WHIRL_CVAL_OPTION, 1, true);
            ok = !*e && set_item(o->of.variant.payload, elem, item, ilen, e);
        }
        free(item);
        if (*e || !ok)
            goto bad;
        if (pos < limit && *pos++ != ',')
            goto bad;
    }
    if (n == 0 && (*e = whirl_cval_set_items(&out, WHIRL_CVAL_LIST, 0)))
        goto bad;
    return take_value(p, &out);
bad:
    whirl_cval_release(&out);
    return false;
}

/* "[1,5)", "(,5]", "empty" (no bounds: both none). */
static bool cell_range(pg_kind_t elem, const char *s, size_t len, whirl_cval_t *p,
                       whirl_error_t **e)
{
    whirl_cval_t out = {0};
    if ((*e = whirl_cval_set_items(&out, WHIRL_CVAL_TUPLE, 2)))
        return false;
    if (len == 5 && !memcmp(s, "empty", 5)) {
        for (int side = 0; side < 2 && !*e; side++)
            *e = whirl_cval_set_case(&out.of.list.items[side], WHIRL_CVAL_OPTION, 0, false);
        goto done;
    }
    if (len < 3 || (s[0] != '[' && s[0] != '(') || (s[len - 1] != ']' && s[len - 1] != ')'))
        goto bad;
    const char *pos = s + 1, *limit = s + len - 1;
    for (int side = 0; side < 2; side++) {
        bool is_null;
        size_t ilen = 0;
        char *item = take_item(&pos, limit, ",", &is_null, &ilen);
        if (!item)
            goto bad;
        whirl_cval_t *o = &out.of.list.items[side];
        bool ok = true;
        if (ilen == 0 && !is_null) {
            *e = whirl_cval_set_case(o, WHIRL_CVAL_OPTION, 0, false);
        } else {
            bool inclusive = side == 0 ? s[0] == '[' : s[len - 1] == ']';
            *e = whirl_cval_set_case(o, WHIRL_CVAL_OPTION, 1, true);
            whirl_cval_t *b = *e ? NULL : o->of.variant.payload;
            if (b)
                *e = whirl_cval_set_items(b, WHIRL_CVAL_TUPLE, 2);
            ok = !*e && set_item(&b->of.list.items[0], elem, item, ilen, e);
            if (ok)
                *e = whirl_cval_set_case(&b->of.list.items[1], WHIRL_CVAL_ENUM,
                                         inclusive ? BOUND_INCLUSIVE : BOUND_EXCLUSIVE, false);
        }
        free(item);
        if (*e || !ok)
            goto bad;
        if (side == 0 && (pos >= limit || *pos++ != ','))
            goto bad;
    }
    if (pos != limit)
        goto bad;
done:
    if (*e)
        goto bad;
    return take_value(p, &out);
bad:
    whirl_cval_release(&out);
    return false;
}

/* IntervalStyle postgres: "1 year 2 mons -3 days +04:05:06.000007". */
static bool cell_interval(const char *s, size_t len, whirl_cval_t *p, whirl_error_t **e)
{
    int64_t months = 0, days = 0, micros = 0;
    const char *pos = s, *limit = s + len;
    while (pos < limit) {
        while (pos < limit && *pos == ' ')
            pos++;
        if (pos >= limit)
            break;
        const char *word = pos;
        while (pos < limit && *pos != ' ')
            pos++;
        const char *colon = memchr(word, ':', (size_t)(pos - word));
        if (colon) { /* [+-]HH:MM:SS[.ffffff] */
            bool neg = *word == '-';
            const char *q = word + (*word == '-' || *word == '+');
            int64_t h, m, sec, frac = 0;
            const char *end;
            if (!parse_int(q, pos, &h, &end) || *end != ':' ||
                !parse_int(end + 1, pos, &m, &end) || *end != ':' ||
                !parse_int(end + 1, pos, &sec, &end))
                return false;
            if (end < pos && *end == '.') {
                int digits = 0;
                for (end++; end < pos && *end >= '0' && *end <= '9'; end++, digits++)
                    if (digits < 6)
                        frac = frac * 10 + (*end - '0');
                for (; digits < 6; digits++)
                    frac *= 10;
            }
            if (end != pos)
                return false;
            int64_t us = ((h * 60 + m) * 60 + sec) * 1000000 + frac;
            micros += neg ? -us : us;
            continue;
        }
        int64_t n;
        const char *end;
        if (!parse_int(word, pos, &n, &end) || end != pos)
            return false;
        while (pos < limit && *pos == ' ')
            pos++;
        const char *unit = pos;
        while (pos < limit && *pos != ' ')
            pos++;
        size_t ulen = (size_t)(pos - unit);
        if (ulen >= 4 && !strncmp(unit, "year", 4))
            months += n * 12;
        else if (ulen >= 3 && !strncmp(unit, "mon", 3))
            months += n;
        else if (ulen >= 3 && !strncmp(unit, "day", 3))
            days += n;
        else
            return false;
    }
    whirl_cval_t out = {0};
    if ((*e = whirl_cval_set_items(&out, WHIRL_CVAL_RECORD, 3)))
        return false;
    out.of.list.items[0].kind = WHIRL_CVAL_S64;
    out.of.list.items[0].of.s = micros;
    out.of.list.items[1].kind = WHIRL_CVAL_S32;
    out.of.list.items[1].of.s = (int32_t)days;
    out.of.list.items[2].kind = WHIRL_CVAL_S32;
    out.of.list.items[2].of.s = (int32_t)months;
    return take_value(p, &out);
}

bool pg_v4_cell(pg_kind_t k, const char *s, size_t len, whirl_cval_t *p, whirl_error_t **e)
{
    *e = NULL;
    switch (k) {
    case K_UUID:
    case K_DECIMAL:
        *e = set_string(p, s, len);
        return !*e;
    case K_JSONB:
        *e = whirl_cval_set_bytes(p, s, len);
        return !*e;
    case K_RANGE_I32: return cell_range(K_I32, s, len, p, e);
    case K_RANGE_I64: return cell_range(K_I64, s, len, p, e);
    case K_RANGE_DEC: return cell_range(K_STR, s, len, p, e);
    case K_ARR_I32: return cell_array(K_I32, s, len, p, e);
    case K_ARR_I64: return cell_array(K_I64, s, len, p, e);
    case K_ARR_DEC:
    case K_ARR_STR: return cell_array(K_STR, s, len, p, e);
    case K_INTERVAL: return cell_interval(s, len, p, e);
    default: return false;
    }
}

/* ---- errors ---- */

enum { E_QUERY_FAILED = 2, QE_TEXT = 0, QE_DB_ERROR = 1 };

static whirl_error_t *set_field(whirl_cval_t *v, const char *s)
{
    return set_string(v, s ? s : "", s ? strlen(s) : 0);
}

whirl_error_t *pg_v4_query_error(whirl_cval_t *res, const PGresult *failed, const char *why)
{
    const char *sqlstate = failed ? PQresultErrorField(failed, PG_DIAG_SQLSTATE) : NULL;
    whirl_error_t *e = whirl_cval_set_case(res, WHIRL_CVAL_RESULT, 1, true);
    whirl_cval_t *err = e ? NULL : res->of.variant.payload;
    if (!e)
        e = whirl_cval_set_case(err, WHIRL_CVAL_VARIANT, E_QUERY_FAILED, true);
    whirl_cval_t *qe = e ? NULL : err->of.variant.payload;
    if (!e)
        e = whirl_cval_set_case(qe, WHIRL_CVAL_VARIANT, sqlstate ? QE_DB_ERROR : QE_TEXT, true);
    if (e)
        return e;
    whirl_cval_t *body = qe->of.variant.payload;
    if (!sqlstate)
        return set_field(body, why);
    /* record db-error { as-text, severity, code, message, detail: option<string>,
     * extras: list<tuple<string, string>> } */
    static const struct {
        int code;
        const char *name;
    } extras[] = {
        {PG_DIAG_MESSAGE_HINT, "hint"},     {PG_DIAG_STATEMENT_POSITION, "position"},
        {PG_DIAG_SCHEMA_NAME, "schema"},    {PG_DIAG_TABLE_NAME, "table"},
        {PG_DIAG_COLUMN_NAME, "column"},    {PG_DIAG_CONSTRAINT_NAME, "constraint"},
        {PG_DIAG_DATATYPE_NAME, "datatype"}, {PG_DIAG_CONTEXT, "where"},
    };
    const char *detail = PQresultErrorField(failed, PG_DIAG_MESSAGE_DETAIL);
    e = whirl_cval_set_items(body, WHIRL_CVAL_RECORD, 6);
    if (!e)
        e = set_field(&body->of.list.items[0], PQresultErrorMessage(failed));
    if (!e)
        e = set_field(&body->of.list.items[1], PQresultErrorField(failed, PG_DIAG_SEVERITY));
    if (!e)
        e = set_field(&body->of.list.items[2], sqlstate);
    if (!e)
        e = set_field(&body->of.list.items[3],
                      PQresultErrorField(failed, PG_DIAG_MESSAGE_PRIMARY));
    if (!e)
        e = whirl_cval_set_case(&body->of.list.items[4], WHIRL_CVAL_OPTION, detail != NULL,
                                detail != NULL);
    if (!e && detail)
        e = set_field(body->of.list.items[4].of.variant.payload, detail);
    size_t n = 0;
    for (size_t i = 0; i < sizeof extras / sizeof extras[0]; i++)
        n += PQresultErrorField(failed, extras[i].code) != NULL;
    whirl_cval_t *list = &body->of.list.items[5];
    if (!e)
        e = whirl_cval_set_items(list, WHIRL_CVAL_LIST, n);
    n = 0;
    for (size_t i = 0; !e && i < sizeof extras / sizeof extras[0]; i++) {
        const char *v = PQresultErrorField(failed, extras[i].code);
        if (!v)
            continue;
        whirl_cval_t *pair = &list->of.list.items[n++];
        e = whirl_cval_set_items(pair, WHIRL_CVAL_TUPLE, 2);
        if (!e)
            e = set_field(&pair->of.list.items[0], extras[i].name);
        if (!e)
            e = set_field(&pair->of.list.items[1], v);
    }
    return e;
}
