/* Component value helpers for the component tests: constructors that return
 * values by value (the caller owns them), deep equality, printing. */
#ifndef WHIRL_TESTS_COMPONENT_VALUES_H
#define WHIRL_TESTS_COMPONENT_VALUES_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whirl/component.h"

static inline whirl_cval_t cv_b(bool b)
{
    whirl_cval_t v = {.kind = WHIRL_CVAL_BOOL};
    v.of.b = b;
    return v;
}

static inline whirl_cval_t cv_u(whirl_cval_kind_t k, uint64_t u)
{
    whirl_cval_t v = {.kind = k};
    v.of.u = u;
    return v;
}

static inline whirl_cval_t cv_s(whirl_cval_kind_t k, int64_t s)
{
    whirl_cval_t v = {.kind = k};
    v.of.s = s;
    return v;
}

static inline whirl_cval_t cv_f32(float f)
{
    whirl_cval_t v = {.kind = WHIRL_CVAL_F32};
    v.of.f32 = f;
    return v;
}

static inline whirl_cval_t cv_f64(double f)
{
    whirl_cval_t v = {.kind = WHIRL_CVAL_F64};
    v.of.f64 = f;
    return v;
}

static inline whirl_cval_t cv_ch(uint32_t c)
{
    whirl_cval_t v = {.kind = WHIRL_CVAL_CHAR};
    v.of.ch = c;
    return v;
}

static inline whirl_cval_t cv_flags(uint32_t f)
{
    whirl_cval_t v = {.kind = WHIRL_CVAL_FLAGS};
    v.of.flags = f;
    return v;
}

static inline whirl_cval_t cv_strn(const char *s, size_t n)
{
    whirl_cval_t v = {0};
    whirl_error_delete(whirl_cval_set_string(&v, s, n));
    return v;
}

static inline whirl_cval_t cv_str(const char *s) { return cv_strn(s, strlen(s)); }

static inline whirl_cval_t cv_bytes(const void *p, size_t n)
{
    whirl_cval_t v = {0};
    whirl_error_delete(whirl_cval_set_bytes(&v, p, n));
    return v;
}

/* A list, record or tuple of `n` values, which it takes over. */
static inline whirl_cval_t cv_items(whirl_cval_kind_t kind, size_t n, ...)
{
    whirl_cval_t v = {0};
    whirl_error_delete(whirl_cval_set_items(&v, kind, n));
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        v.of.list.items[i] = va_arg(ap, whirl_cval_t);
    va_end(ap);
    return v;
}

/* A case without payload. */
static inline whirl_cval_t cv_case0(whirl_cval_kind_t kind, uint32_t index)
{
    whirl_cval_t v = {0};
    whirl_error_delete(whirl_cval_set_case(&v, kind, index, false));
    return v;
}

/* A case whose payload it takes over. */
static inline whirl_cval_t cv_case(whirl_cval_kind_t kind, uint32_t index, whirl_cval_t payload)
{
    whirl_cval_t v = {0};
    whirl_error_delete(whirl_cval_set_case(&v, kind, index, true));
    *v.of.variant.payload = payload;
    return v;
}

static inline whirl_cval_t cv_res(whirl_cval_kind_t kind, whirl_resource_type_t *t, uint32_t rep)
{
    whirl_cval_t v = {.kind = kind};
    v.of.resource.type = t;
    v.of.resource.rep = rep;
    return v;
}

static inline bool cv_is_bytes_list(const whirl_cval_t *v)
{
    if (v->kind != WHIRL_CVAL_LIST)
        return false;
    for (size_t i = 0; i < v->of.list.len; i++)
        if (v->of.list.items[i].kind != WHIRL_CVAL_U8)
            return false;
    return true;
}

static inline bool cv_eq(const whirl_cval_t *a, const whirl_cval_t *b)
{
    if (a->kind == WHIRL_CVAL_BYTES && cv_is_bytes_list(b)) {
        const whirl_cval_t *t = a;
        a = b;
        b = t;
    }
    if (a->kind == WHIRL_CVAL_LIST && b->kind == WHIRL_CVAL_BYTES && cv_is_bytes_list(a)) {
        if (a->of.list.len != b->of.string.len)
            return false;
        for (size_t i = 0; i < a->of.list.len; i++)
            if (a->of.list.items[i].of.u != (uint8_t)b->of.string.data[i])
                return false;
        return true;
    }
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case WHIRL_CVAL_BOOL: return a->of.b == b->of.b;
    case WHIRL_CVAL_S8:
    case WHIRL_CVAL_S16:
    case WHIRL_CVAL_S32:
    case WHIRL_CVAL_S64: return a->of.s == b->of.s;
    case WHIRL_CVAL_U8:
    case WHIRL_CVAL_U16:
    case WHIRL_CVAL_U32:
    case WHIRL_CVAL_U64: return a->of.u == b->of.u;
    case WHIRL_CVAL_F32:
        if (a->of.f32 != a->of.f32)
            return b->of.f32 != b->of.f32;
        return memcmp(&a->of.f32, &b->of.f32, 4) == 0;
    case WHIRL_CVAL_F64:
        if (a->of.f64 != a->of.f64)
            return b->of.f64 != b->of.f64;
        return memcmp(&a->of.f64, &b->of.f64, 8) == 0;
    case WHIRL_CVAL_CHAR: return a->of.ch == b->of.ch;
    case WHIRL_CVAL_STRING:
    case WHIRL_CVAL_BYTES:
        return a->of.string.len == b->of.string.len &&
               (a->of.string.len == 0 ||
                memcmp(a->of.string.data, b->of.string.data, a->of.string.len) == 0);
    case WHIRL_CVAL_LIST:
    case WHIRL_CVAL_RECORD:
    case WHIRL_CVAL_TUPLE:
        if (a->of.list.len != b->of.list.len)
            return false;
        for (size_t i = 0; i < a->of.list.len; i++)
            if (!cv_eq(&a->of.list.items[i], &b->of.list.items[i]))
                return false;
        return true;
    case WHIRL_CVAL_VARIANT:
    case WHIRL_CVAL_ENUM:
    case WHIRL_CVAL_OPTION:
    case WHIRL_CVAL_RESULT:
        if (a->of.variant.index != b->of.variant.index)
            return false;
        if (!a->of.variant.payload || !b->of.variant.payload)
            return a->of.variant.payload == b->of.variant.payload;
        return cv_eq(a->of.variant.payload, b->of.variant.payload);
    case WHIRL_CVAL_FLAGS: return a->of.flags == b->of.flags;
    case WHIRL_CVAL_OWN:
    case WHIRL_CVAL_BORROW:
        return a->of.resource.type == b->of.resource.type &&
               a->of.resource.rep == b->of.resource.rep;
    case WHIRL_CVAL_STREAM:
    case WHIRL_CVAL_FUTURE: return a->of.stream == b->of.stream;
    case WHIRL_CVAL_ERROR_CONTEXT: return a->of.error_context == b->of.error_context;
    }
    return false;
}

/* A short rendering for failure messages. */
static inline void cv_fmt_into(const whirl_cval_t *v, char *buf, size_t len, size_t *pos)
{
#define PUT(...)                                                                   \
    do {                                                                           \
        if (*pos < len)                                                            \
            *pos += (size_t)snprintf(buf + *pos, len - *pos, __VA_ARGS__);        \
    } while (0)
    switch (v->kind) {
    case WHIRL_CVAL_BOOL: PUT("%s", v->of.b ? "true" : "false"); break;
    case WHIRL_CVAL_S8:
    case WHIRL_CVAL_S16:
    case WHIRL_CVAL_S32:
    case WHIRL_CVAL_S64: PUT("%lld", (long long)v->of.s); break;
    case WHIRL_CVAL_U8:
    case WHIRL_CVAL_U16:
    case WHIRL_CVAL_U32:
    case WHIRL_CVAL_U64: PUT("%llu", (unsigned long long)v->of.u); break;
    case WHIRL_CVAL_F32: PUT("%g", (double)v->of.f32); break;
    case WHIRL_CVAL_F64: PUT("%g", v->of.f64); break;
    case WHIRL_CVAL_CHAR: PUT("char(0x%x)", v->of.ch); break;
    case WHIRL_CVAL_STRING:
        PUT("\"%.*s\"", (int)(v->of.string.len > 40 ? 40 : v->of.string.len), v->of.string.data);
        break;
    case WHIRL_CVAL_BYTES: PUT("bytes[%zu]", v->of.string.len); break;
    case WHIRL_CVAL_LIST:
    case WHIRL_CVAL_RECORD:
    case WHIRL_CVAL_TUPLE:
        PUT(v->kind == WHIRL_CVAL_LIST ? "[" : "{");
        for (size_t i = 0; i < v->of.list.len && i < 8; i++) {
            if (i)
                PUT(", ");
            cv_fmt_into(&v->of.list.items[i], buf, len, pos);
        }
        PUT(v->kind == WHIRL_CVAL_LIST ? "]" : "}");
        break;
    case WHIRL_CVAL_VARIANT:
    case WHIRL_CVAL_ENUM:
    case WHIRL_CVAL_OPTION:
    case WHIRL_CVAL_RESULT:
        PUT("case%u", v->of.variant.index);
        if (v->of.variant.payload) {
            PUT("(");
            cv_fmt_into(v->of.variant.payload, buf, len, pos);
            PUT(")");
        }
        break;
    case WHIRL_CVAL_FLAGS: PUT("flags(0x%x)", v->of.flags); break;
    case WHIRL_CVAL_OWN:
    case WHIRL_CVAL_BORROW:
        PUT("%s<%s>(%u)", v->kind == WHIRL_CVAL_OWN ? "own" : "borrow",
            whirl_resource_type_name(v->of.resource.type), v->of.resource.rep);
        break;
    case WHIRL_CVAL_STREAM: PUT("stream"); break;
    case WHIRL_CVAL_FUTURE: PUT("future"); break;
    case WHIRL_CVAL_ERROR_CONTEXT: PUT("error-context"); break;
    }
#undef PUT
}

static inline const char *cv_fmt(const whirl_cval_t *v, char *buf, size_t len)
{
    size_t pos = 0;
    buf[0] = 0;
    cv_fmt_into(v, buf, len, &pos);
    return buf;
}

#endif
