/* Command-line text <-> WebAssembly values. Input follows the text format's
 * number syntax where that is convenient for a shell (decimal or 0x hex,
 * optional sign and `_` separators, inf/nan); output follows
 * `wasmtime run --invoke` so that scripts can compare the two engines. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

const char *cli_kind_name(whirl_valkind_t kind)
{
    switch (kind) {
    case WHIRL_I32: return "i32";
    case WHIRL_I64: return "i64";
    case WHIRL_F32: return "f32";
    case WHIRL_F64: return "f64";
    case WHIRL_V128: return "v128";
    case WHIRL_FUNCREF: return "funcref";
    case WHIRL_EXTERNREF: return "externref";
    case WHIRL_EXNREF: return "exnref";
    }
    return "?";
}

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Unsigned magnitude in decimal or 0x hex, with `_` allowed between digits.
 * Returns 0, or -1 with *why set. */
static int parse_magnitude(const char *s, uint64_t *out, const char **why)
{
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    uint64_t v = 0;
    size_t ndigits = 0;
    for (; *s; s++) {
        if (*s == '_' && ndigits > 0 && s[1] != '\0' && s[1] != '_')
            continue;
        int d = hex_digit((unsigned char)*s);
        if (d < 0 || (unsigned)d >= base) {
            *why = base == 16 ? "not a hexadecimal integer" : "not an integer";
            return -1;
        }
        if (v > (UINT64_MAX - (uint64_t)d) / base) {
            *why = "out of range";
            return -1;
        }
        v = v * base + (uint64_t)d;
        ndigits++;
    }
    if (ndigits == 0) {
        *why = "not an integer";
        return -1;
    }
    *out = v;
    return 0;
}

/* A signed or unsigned integer of `bits` bits: accepts -2^(bits-1) up to
 * 2^bits - 1, so that both `-1` and `0xffffffff` name the same i32. */
static int parse_int(const char *s, unsigned bits, uint64_t *out, const char **why)
{
    bool neg = false;
    if (*s == '-' || *s == '+') {
        neg = *s == '-';
        s++;
    }
    uint64_t mag;
    if (parse_magnitude(s, &mag, why) != 0)
        return -1;
    uint64_t max_pos = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
    uint64_t max_neg = UINT64_C(1) << (bits - 1);
    if (neg ? mag > max_neg : mag > max_pos) {
        *why = "out of range";
        return -1;
    }
    *out = neg ? (uint64_t)0 - mag : mag;
    return 0;
}

/* NaN spellings: nan, -nan, nan:0xPAYLOAD, case-insensitive. Returns 1 if
 * `s` is a NaN (writing its bits), 0 if not, -1 if a malformed payload. */
static int parse_nan(const char *s, bool is_f32, uint64_t *bits, const char **why)
{
    bool neg = false;
    if (*s == '-' || *s == '+') {
        neg = *s == '-';
        s++;
    }
    if (strncasecmp(s, "nan", 3) != 0)
        return 0;
    unsigned mant_bits = is_f32 ? 23 : 52;
    uint64_t payload = UINT64_C(1) << (mant_bits - 1); /* canonical quiet NaN */
    if (s[3] == ':') {
        if (strncasecmp(s + 4, "0x", 2) != 0 || parse_magnitude(s + 4, &payload, why) != 0) {
            *why = "NaN payload must be nan:0xHEX";
            return -1;
        }
        if (payload == 0 || payload >= (UINT64_C(1) << mant_bits)) {
            *why = "NaN payload out of range";
            return -1;
        }
    } else if (s[3] != '\0') {
        return 0;
    }
    uint64_t exp_all_ones = is_f32 ? UINT64_C(0xff) << 23 : UINT64_C(0x7ff) << 52;
    uint64_t sign = neg ? UINT64_C(1) << (is_f32 ? 31 : 63) : 0;
    *bits = sign | exp_all_ones | payload;
    return 1;
}

static int parse_float(const char *s, bool is_f32, whirl_val_t *out, const char **why)
{
    uint64_t bits;
    int nan = parse_nan(s, is_f32, &bits, why);
    if (nan < 0)
        return -1;
    if (nan > 0) {
        if (is_f32) {
            uint32_t b32 = (uint32_t)bits;
            memcpy(&out->of.f32, &b32, 4);
        } else {
            memcpy(&out->of.f64, &bits, 8);
        }
        return 0;
    }
    /* strtod would skip leading blanks and accept its own NaN forms; keep
     * the accepted syntax to numbers, inf and the NaN forms above. */
    const char *p = s + (*s == '-' || *s == '+');
    if (!(isdigit((unsigned char)*p) || *p == '.' || strncasecmp(p, "inf", 3) == 0)) {
        *why = "not a number";
        return -1;
    }
    /* Drop `_` separators (text format syntax) into a bounded copy. */
    char buf[256];
    size_t n = 0;
    for (const char *q = s; *q; q++) {
        if (*q == '_')
            continue;
        if (n + 1 >= sizeof buf) {
            *why = "too long";
            return -1;
        }
        buf[n++] = *q;
    }
    buf[n] = '\0';
    char *end;
    errno = 0;
    /* Parse f32 directly (not via double) to avoid double rounding. */
    if (is_f32)
        out->of.f32 = strtof(buf, &end);
    else
        out->of.f64 = strtod(buf, &end);
    if (end == buf || *end != '\0') {
        *why = "not a number";
        return -1;
    }
    return 0; /* overflow gives inf, as in the text format's float parsing */
}

static int parse_v128(const char *s, whirl_val_t *out, const char **why)
{
    if (strncasecmp(s, "0x", 2) != 0) {
        *why = "v128 must be 0x followed by up to 32 hex digits";
        return -1;
    }
    s += 2;
    size_t len = strlen(s);
    if (len == 0 || len > 32) {
        *why = "v128 must be 0x followed by up to 32 hex digits";
        return -1;
    }
    memset(out->of.v128, 0, 16);
    /* Least significant digit first into little-endian bytes. */
    for (size_t i = 0; i < len; i++) {
        int d = hex_digit((unsigned char)s[len - 1 - i]);
        if (d < 0) {
            *why = "not a hexadecimal number";
            return -1;
        }
        out->of.v128[i / 2] |= (uint8_t)(d << (4 * (i % 2)));
    }
    return 0;
}

int cli_parse_val(const char *text, whirl_valkind_t kind, whirl_val_t *out, const char **why)
{
    uint64_t u;
    memset(out, 0, sizeof *out);
    out->kind = kind;
    switch (kind) {
    case WHIRL_I32:
        if (parse_int(text, 32, &u, why) != 0)
            return -1;
        out->of.i32 = (int32_t)(uint32_t)u;
        return 0;
    case WHIRL_I64:
        if (parse_int(text, 64, &u, why) != 0)
            return -1;
        out->of.i64 = (int64_t)u;
        return 0;
    case WHIRL_F32:
        return parse_float(text, true, out, why);
    case WHIRL_F64:
        return parse_float(text, false, out, why);
    case WHIRL_V128:
        return parse_v128(text, out, why);
    case WHIRL_FUNCREF:
    case WHIRL_EXTERNREF:
    case WHIRL_EXNREF:
        /* The command line has no way to name a live reference. */
        if (strcmp(text, "null") == 0)
            return 0;
        *why = "only `null` can be passed for a reference";
        return -1;
    }
    *why = "unsupported type";
    return -1;
}

/* Shortest decimal that reads back as the same float, printed positionally
 * in the usual range (like Rust's Display, which wasmtime uses) and in
 * scientific notation outside it so that 1e300 stays short. */
static void print_float(FILE *f, double v, bool is_f32)
{
    char buf[64];
    int max_digits = is_f32 ? 9 : 17;
    for (int p = 1; p <= max_digits; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, v);
        if (is_f32) {
            float back = strtof(buf, NULL), orig = (float)v;
            if (memcmp(&back, &orig, sizeof back) == 0)
                break;
        } else {
            double back = strtod(buf, NULL);
            if (memcmp(&back, &v, sizeof back) == 0)
                break;
        }
    }
    /* buf is now [-]D[.DDD]e[+-]XX: split into digits and exponent. */
    const char *s = buf;
    if (*s == '-') {
        fputc('-', f);
        s++;
    }
    char digits[32];
    size_t nd = 0;
    for (; *s && *s != 'e'; s++)
        if (isdigit((unsigned char)*s) && nd < sizeof digits - 1)
            digits[nd++] = *s;
    digits[nd] = '\0';
    int exp = *s == 'e' ? atoi(s + 1) : 0;
    while (nd > 1 && digits[nd - 1] == '0') /* %.*e may pad with zeros */
        digits[--nd] = '\0';

    if (exp < -7 || exp >= 21) {
        fputc(digits[0], f);
        if (nd > 1)
            fprintf(f, ".%s", digits + 1);
        fprintf(f, "e%d", exp);
    } else if (exp < 0) {
        fputs("0.", f);
        for (int i = -1; i > exp; i--)
            fputc('0', f);
        fputs(digits, f);
    } else if ((int)nd - 1 <= exp) {
        fputs(digits, f);
        for (int i = (int)nd - 1; i < exp; i++)
            fputc('0', f);
    } else {
        fprintf(f, "%.*s.%s", exp + 1, digits, digits + exp + 1);
    }
}

static void print_nan(FILE *f, uint64_t bits, bool is_f32)
{
    unsigned mant_bits = is_f32 ? 23 : 52;
    uint64_t payload = bits & ((UINT64_C(1) << mant_bits) - 1);
    bool neg = (bits >> (is_f32 ? 31 : 63)) & 1;
    /* The canonical NaN prints as wasmtime prints every NaN; others keep
     * their payload, in a form that cli_parse_val reads back. */
    fputs(neg ? "-NaN" : "NaN", f);
    if (payload != UINT64_C(1) << (mant_bits - 1))
        fprintf(f, ":0x%llx", (unsigned long long)payload);
}

void cli_print_val(FILE *f, const whirl_val_t *val)
{
    switch (val->kind) {
    case WHIRL_I32:
        fprintf(f, "%d", (int)val->of.i32);
        break;
    case WHIRL_I64:
        fprintf(f, "%lld", (long long)val->of.i64);
        break;
    case WHIRL_F32:
        if (isnan(val->of.f32)) {
            uint32_t b;
            memcpy(&b, &val->of.f32, 4);
            print_nan(f, b, true);
        } else if (isinf(val->of.f32)) {
            fputs(val->of.f32 < 0 ? "-inf" : "inf", f);
        } else {
            print_float(f, val->of.f32, true);
        }
        break;
    case WHIRL_F64:
        if (isnan(val->of.f64)) {
            uint64_t b;
            memcpy(&b, &val->of.f64, 8);
            print_nan(f, b, false);
        } else if (isinf(val->of.f64)) {
            fputs(val->of.f64 < 0 ? "-inf" : "inf", f);
        } else {
            print_float(f, val->of.f64, false);
        }
        break;
    case WHIRL_V128:
        fputs("0x", f);
        for (int i = 15; i >= 0; i--)
            fprintf(f, "%02x", val->of.v128[i]);
        break;
    case WHIRL_FUNCREF:
        fputs(val->of.funcref ? "ref.func" : "null", f);
        break;
    case WHIRL_EXTERNREF:
        fputs(val->of.externref ? "externref" : "null", f);
        break;
    default:
        fputs("?", f);
        break;
    }
    fputc('\n', f);
}

int cli_parse_size(const char *text, size_t *out)
{
    uint64_t v;
    whirl_error_t *err = whirl_parse_size(text, &v);
    if (err || v > SIZE_MAX) {
        whirl_error_delete(err);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}
