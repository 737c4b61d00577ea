/* Import and export names: syntax (Explainer.md, "Import and Export
 * Definitions"), strong uniqueness, and semver-compatible matching of
 * interface versions. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component/component.h"

static bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
static bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* One fragment of a label starting at s[*i]: all-lowercase (with digits) or
 * all-uppercase (with digits). `first` requires a leading letter. */
static bool fragment(const char *s, size_t len, size_t *i, bool first)
{
    size_t start = *i;
    if (start >= len)
        return false;
    bool lower = is_lower(s[start]), upper = is_upper(s[start]);
    if (first && !lower && !upper)
        return false;
    if (!lower && !upper && !is_digit(s[start]))
        return false;
    size_t j = start;
    for (; j < len; j++) {
        char c = s[j];
        if (is_digit(c))
            continue;
        if (is_lower(c) && !upper) {
            lower = true;
            continue;
        }
        if (is_upper(c) && !lower) {
            upper = true;
            continue;
        }
        break;
    }
    *i = j;
    return j > start;
}

/* A label from s[*i] up to a character outside the label alphabet. */
static bool label_at(const char *s, size_t len, size_t *i)
{
    if (!fragment(s, len, i, true))
        return false;
    while (*i < len && s[*i] == '-') {
        (*i)++;
        if (!fragment(s, len, i, false))
            return false;
    }
    return true;
}

bool clabel_valid(const char *name, size_t len)
{
    size_t i = 0;
    return label_at(name, len, &i) && i == len;
}

/* words ::= first-word ('-' word)*, all lowercase. */
static bool words_at(const char *s, size_t len, size_t *i)
{
    size_t j = *i;
    if (j >= len || !is_lower(s[j]))
        return false;
    for (;;) {
        size_t start = j;
        while (j < len && (is_lower(s[j]) || is_digit(s[j])))
            j++;
        if (j == start)
            return false;
        if (j < len && s[j] == '-') {
            j++;
            continue;
        }
        break;
    }
    *i = j;
    return true;
}

static bool number_at(const char *s, size_t len, size_t *i, uint64_t *out)
{
    size_t j = *i;
    if (j >= len || !is_digit(s[j]))
        return false;
    if (s[j] == '0' && j + 1 < len && is_digit(s[j + 1]))
        return false; /* no leading zeros */
    uint64_t v = 0;
    while (j < len && is_digit(s[j])) {
        if (v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(s[j] - '0');
        j++;
    }
    *i = j;
    if (out)
        *out = v;
    return true;
}

/* Dot-separated identifiers of [0-9A-Za-z-] (pre-release, build). */
static bool ident_list(const char *s, size_t len, size_t *i)
{
    size_t j = *i;
    for (;;) {
        size_t start = j;
        while (j < len && (isalnum((unsigned char)s[j]) || s[j] == '-'))
            j++;
        if (j == start)
            return false;
        if (j < len && s[j] == '.') {
            j++;
            continue;
        }
        break;
    }
    *i = j;
    return true;
}

typedef struct semver {
    uint64_t major, minor, patch;
    int parts;       /* 1..3: how many numbers were given */
    bool pre;        /* has a pre-release */
} semver_t;

/* A version: a full semver, or a canonical version (1 / 0.2 / 0.0.1). */
static bool version_parse(const char *s, size_t len, semver_t *v)
{
    size_t i = 0;
    memset(v, 0, sizeof *v);
    if (!number_at(s, len, &i, &v->major))
        return false;
    v->parts = 1;
    if (i < len && s[i] == '.') {
        i++;
        if (!number_at(s, len, &i, &v->minor))
            return false;
        v->parts = 2;
        if (i < len && s[i] == '.') {
            i++;
            if (!number_at(s, len, &i, &v->patch))
                return false;
            v->parts = 3;
        }
    }
    if (i < len && s[i] == '-') {
        if (v->parts != 3)
            return false;
        i++;
        v->pre = true;
        if (!ident_list(s, len, &i))
            return false;
    }
    if (i < len && s[i] == '+') {
        if (v->parts != 3)
            return false;
        i++;
        if (!ident_list(s, len, &i))
            return false;
    }
    return i == len;
}

static bool interface_name(const char *s, size_t len, char *why, size_t why_len)
{
    size_t i = 0;
    /* One or more namespaces, then the package, then projections. */
    int namespaces = 0;
    for (;;) {
        if (!words_at(s, len, &i)) {
            snprintf(why, why_len, "bad namespace or package in interface name");
            return false;
        }
        if (i < len && s[i] == ':') {
            i++;
            namespaces++;
            continue;
        }
        break;
    }
    if (namespaces == 0 || i >= len || s[i] != '/') {
        snprintf(why, why_len, "interface name needs `namespace:package/interface`");
        return false;
    }
    while (i < len && s[i] == '/') {
        i++;
        if (!label_at(s, len, &i)) {
            snprintf(why, why_len, "bad interface label");
            return false;
        }
    }
    if (i < len && s[i] == '@') {
        semver_t v;
        if (!version_parse(s + i + 1, len - i - 1, &v)) {
            snprintf(why, why_len, "bad version");
            return false;
        }
        i = len;
    }
    if (i != len) {
        snprintf(why, why_len, "unexpected character at position %zu", i);
        return false;
    }
    return true;
}

static bool has_prefix(const char *s, size_t len, const char *p)
{
    size_t n = strlen(p);
    return len >= n && memcmp(s, p, n) == 0;
}

bool cname_valid(const char *s, size_t len, char *why, size_t why_len)
{
    if (memchr(s, ':', len))
        return interface_name(s, len, why, why_len);
    /* Dependency and URL names of earlier drafts: accepted as opaque. */
    static const char *const legacy[] = {"locked-dep=<", "unlocked-dep=<", "url=<",
                                         "relative-url=<", "integrity=<"};
    for (size_t k = 0; k < sizeof legacy / sizeof legacy[0]; k++)
        if (has_prefix(s, len, legacy[k]))
            return true;
    size_t i = 0;
    bool two = false;
    if (has_prefix(s, len, "[constructor]")) {
        i = strlen("[constructor]");
    } else if (has_prefix(s, len, "[method]")) {
        i = strlen("[method]");
        two = true;
    } else if (has_prefix(s, len, "[static]")) {
        i = strlen("[static]");
        two = true;
    }
    if (!label_at(s, len, &i))
        goto bad;
    if (two) {
        if (i >= len || s[i] != '.')
            goto bad;
        i++;
        if (!label_at(s, len, &i))
            goto bad;
    }
    if (i == len)
        return true;
bad:
    snprintf(why, why_len, "`%.*s` is not a valid name (kebab-case label or interface name)",
             (int)(len > 200 ? 200 : len), s);
    return false;
}

void cname_canonical(const char *s, size_t len, char *buf)
{
    size_t start = 0;
    if (has_prefix(s, len, "[method]") || has_prefix(s, len, "[static]")) {
        start = s[1] == 'm' ? strlen("[method]") : strlen("[static]");
        /* [method]l.l becomes l. */
        const char *dot = memchr(s + start, '.', len - start);
        if (dot) {
            size_t a = (size_t)(dot - (s + start)), b = len - start - a - 1;
            if (a == b && strncasecmp(s + start, dot + 1, a) == 0)
                len = start + a;
        }
    } else if (len && s[0] == '[' && !has_prefix(s, len, "[constructor]")) {
        const char *close = memchr(s, ']', len);
        if (close)
            start = (size_t)(close - s) + 1;
    }
    size_t n = 0;
    for (size_t i = start; i < len; i++)
        buf[n++] = (char)tolower((unsigned char)s[i]);
    buf[n] = 0;
}

bool cname_version_match(const char *have, const char *want, bool *exact)
{
    *exact = strcmp(have, want) == 0;
    if (*exact)
        return true;
    const char *ah = strchr(have, '@'), *aw = strchr(want, '@');
    if (!ah || !aw)
        return false;
    size_t bh = (size_t)(ah - have), bw = (size_t)(aw - want);
    if (bh != bw || memcmp(have, want, bh) != 0)
        return false;
    semver_t vh, vw;
    if (!version_parse(ah + 1, strlen(ah + 1), &vh) || !version_parse(aw + 1, strlen(aw + 1), &vw))
        return false;
    if (vh.pre || vw.pre)
        return false;
    if (vh.major != vw.major)
        return false;
    if (vh.major != 0)
        return true;
    if (vh.minor != vw.minor)
        return false;
    if (vh.minor != 0)
        return true;
    return vh.patch == vw.patch;
}

/* ------------------------------------------------------------------ */
/* Name sets                                                           */
/* ------------------------------------------------------------------ */

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static bool grow(cnameset_t *set)
{
    size_t cap = set->cap ? set->cap * 2 : 16;
    char **slots = calloc(cap, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; i < set->cap; i++) {
        char *s = set->slots[i];
        if (!s)
            continue;
        size_t h = hash_str(s) & (cap - 1);
        while (slots[h])
            h = (h + 1) & (cap - 1);
        slots[h] = s;
    }
    free(set->slots);
    set->slots = slots;
    set->cap = cap;
    return true;
}

bool cnameset_add(cnameset_t *set, const char *s, bool *oom)
{
    *oom = false;
    if ((set->n + 1) * 2 > set->cap && !grow(set)) {
        *oom = true;
        return false;
    }
    size_t h = hash_str(s) & (set->cap - 1);
    while (set->slots[h]) {
        if (strcmp(set->slots[h], s) == 0)
            return false;
        h = (h + 1) & (set->cap - 1);
    }
    char *copy = strdup(s);
    if (!copy) {
        *oom = true;
        return false;
    }
    set->slots[h] = copy;
    set->n++;
    return true;
}

void cnameset_free(cnameset_t *set)
{
    for (size_t i = 0; i < set->cap; i++)
        free(set->slots[i]);
    free(set->slots);
    memset(set, 0, sizeof *set);
}
