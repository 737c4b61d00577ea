/* The one syntax of durations and byte sizes written as text: the `whirl`
 * command's options, the environment knobs (runtime/config.c) and any host
 * reading its own flags use whirl_parse_duration and whirl_parse_size, so
 * that "10", "1m30s" or "64KiB" mean the same wherever they are written.
 * A bare number is seconds for a duration (as wasmtime's -W timeout) and
 * bytes for a size. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <stdio.h>

#include "util/error.h"
#include "util/units.h"

#define NS_PER_S 1000000000ull

/* Digits with an optional fraction ("12", "1.5"; not "1." or ".5"): the
 * whole part and the fraction in billionths (digits past the ninth are
 * dropped). Returns the rest of the text, or NULL if there is no number or
 * the whole part overflows. */
static const char *parse_decimal(const char *s, uint64_t *whole, uint64_t *frac_e9)
{
    if (!isdigit((unsigned char)*s))
        return NULL;
    uint64_t w = 0;
    for (; isdigit((unsigned char)*s); s++) {
        unsigned d = (unsigned)(*s - '0');
        if (w > (UINT64_MAX - d) / 10)
            return NULL;
        w = w * 10 + d;
    }
    uint64_t f = 0, scale = NS_PER_S / 10;
    if (*s == '.') {
        s++;
        if (!isdigit((unsigned char)*s))
            return NULL;
        for (; isdigit((unsigned char)*s); s++) {
            f += (uint64_t)(*s - '0') * scale;
            scale /= 10;
        }
    }
    *whole = w;
    *frac_e9 = f;
    return s;
}

static const struct {
    const char *name;
    uint64_t ns;
} duration_units[] = {
    /* Longest first: "ms" before "m", "min" before "m". */
    {"ns", 1},
    {"us", 1000},
    {"\xc2\xb5s", 1000}, /* µs */
    {"ms", 1000000},
    {"min", 60 * NS_PER_S},
    {"s", NS_PER_S},
    {"m", 60 * NS_PER_S},
    {"h", 3600 * NS_PER_S},
};

static const char duration_syntax[] = "expected a duration with a unit ns, us, ms, s, m or h "
                                      "(e.g. 50ms, 1.5s, 1m30s); a number alone is seconds";
static const char size_syntax[] = "expected a byte count with an optional suffix K, M or G "
                                  "(also KiB, MiB, GiB; binary multiples: 1K = 1024), e.g. "
                                  "65536, 64K, 16MiB; a number alone is bytes";

bool units_parse_duration(const char *text, uint64_t *nanos, const char **why)
{
    unsigned __int128 total = 0;
    const char *s = text;
    bool bare = false;
    do {
        uint64_t whole, frac;
        const char *unit = parse_decimal(s, &whole, &frac);
        if (!unit)
            return *why = duration_syntax, false;
        uint64_t ns_per = 0;
        size_t ulen = 0;
        for (size_t i = 0; i < sizeof duration_units / sizeof duration_units[0]; i++) {
            size_t n = strlen(duration_units[i].name);
            if (strncmp(unit, duration_units[i].name, n) == 0 &&
                !isalpha((unsigned char)unit[n])) {
                ns_per = duration_units[i].ns;
                ulen = n;
                break;
            }
        }
        if (!ns_per) {
            /* Only a whole text of one number may go without a unit. */
            if (*unit || s != text)
                return *why = duration_syntax, false;
            ns_per = NS_PER_S;
            bare = true;
        }
        total += (unsigned __int128)whole * ns_per + (unsigned __int128)frac * ns_per / NS_PER_S;
        if (total > UINT64_MAX)
            return *why = "too large", false;
        s = unit + ulen;
    } while (*s && !bare);
    *nanos = (uint64_t)total;
    return true;
}

whirl_error_t *whirl_parse_duration(const char *text, uint64_t *nanos)
{
    const char *why;
    if (!text || !nanos)
        return error_fmt("whirl_parse_duration: text or nanos is NULL");
    if (!units_parse_duration(text, nanos, &why))
        return error_fmt("invalid duration \"%s\": %s", text, why);
    return NULL;
}

bool units_parse_size(const char *text, uint64_t *bytes, const char **why)
{
    const char *s = text;
    uint64_t v = 0;
    bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    if (hex)
        s += 2;
    if (!(hex ? isxdigit((unsigned char)*s) : isdigit((unsigned char)*s)))
        goto bad;
    for (; hex ? isxdigit((unsigned char)*s) : isdigit((unsigned char)*s); s++) {
        unsigned d = isdigit((unsigned char)*s) ? (unsigned)(*s - '0')
                                                : (unsigned)(tolower((unsigned char)*s) - 'a' + 10);
        unsigned base = hex ? 16 : 10;
        if (v > (UINT64_MAX - d) / base)
            return *why = "too large", false;
        v = v * base + d;
    }
    uint64_t mult = 1;
    if (!*s)
        mult = 1;
    else if (!strcasecmp(s, "k") || !strcasecmp(s, "kib"))
        mult = 1ull << 10;
    else if (!strcasecmp(s, "m") || !strcasecmp(s, "mib"))
        mult = 1ull << 20;
    else if (!strcasecmp(s, "g") || !strcasecmp(s, "gib"))
        mult = 1ull << 30;
    else
        goto bad;
    if (v > UINT64_MAX / mult)
        return *why = "too large", false;
    *bytes = v * mult;
    return true;
bad:
    *why = size_syntax;
    return false;
}

whirl_error_t *whirl_parse_size(const char *text, uint64_t *bytes)
{
    const char *why;
    if (!text || !bytes)
        return error_fmt("whirl_parse_size: text or bytes is NULL");
    if (!units_parse_size(text, bytes, &why))
        return error_fmt("invalid size \"%s\": %s", text, why);
    return NULL;
}
