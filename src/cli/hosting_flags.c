/* -W hosting options of `whirl run`: timeout, max-memory-size,
 * max-table-elements, pooling (see hosting.h). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hosting.h"

const char cli_hosting_usage[] =
    "  -W timeout=DURATION    Trap with `interrupt` once the guest has run this long\n"
    "                         (e.g. 50ms, 10s, 1m; a bare number is seconds).\n"
    "  -W max-memory-size=BYTES\n"
    "                         Linear memory the guest may use across its memories\n"
    "                         (suffixes K, M, G); memory.grow past it returns -1.\n"
    "  -W max-table-elements=N\n"
    "                         Entries any one table may hold; table.grow past it\n"
    "                         returns -1.\n"
    "  -W pooling=y|n         Use the pooling allocator (default: when the address\n"
    "                         space allows it).\n";

void cli_hosting_init(cli_hosting_t *h)
{
    h->timeout_ns = 0;
    h->max_memory_size = WHIRL_NO_LIMIT;
    h->max_table_elements = WHIRL_NO_LIMIT;
    h->pooling = -1;
}

/* Decimal digits with an optional fraction: the whole part, and the
 * fraction in billionths (digits past the ninth are ignored). Returns the
 * rest of the text, or NULL. */
static const char *parse_decimal(const char *s, uint64_t *whole, uint64_t *frac_e9)
{
    if (!isdigit((unsigned char)*s))
        return NULL;
    uint64_t w = 0;
    for (; isdigit((unsigned char)*s); s++) {
        if (w > (UINT64_MAX - 9) / 10)
            return NULL;
        w = w * 10 + (uint64_t)(*s - '0');
    }
    uint64_t f = 0, scale = 100000000;
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

static bool parse_duration_ns(const char *text, uint64_t *out)
{
    uint64_t whole, frac;
    const char *unit = parse_decimal(text, &whole, &frac);
    if (!unit)
        return false;
    uint64_t ns_per;
    if (!*unit || strcmp(unit, "s") == 0)
        ns_per = 1000000000ull;
    else if (strcmp(unit, "ms") == 0)
        ns_per = 1000000ull;
    else if (strcmp(unit, "us") == 0)
        ns_per = 1000ull;
    else if (strcmp(unit, "ns") == 0)
        ns_per = 1;
    else if (strcmp(unit, "m") == 0)
        ns_per = 60000000000ull;
    else if (strcmp(unit, "h") == 0)
        ns_per = 3600000000000ull;
    else
        return false;
    /* Up to a day; the fraction in 128 bits, as it may overflow 64. */
    if (whole > 86400000000000ull / ns_per)
        return false;
    unsigned __int128 ns = (unsigned __int128)whole * ns_per +
                           (unsigned __int128)frac * ns_per / 1000000000u;
    if (ns == 0 || ns > 86400000000000ull)
        return false;
    *out = (uint64_t)ns;
    return true;
}

static bool parse_bytes(const char *text, uint64_t *out)
{
    const char *s = text;
    if (!isdigit((unsigned char)*s))
        return false;
    uint64_t v = 0;
    for (; isdigit((unsigned char)*s); s++) {
        if (v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
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
        return false;
    if (v > UINT64_MAX / mult)
        return false;
    *out = v * mult;
    return true;
}

static int parse_bool(const char *text)
{
    static const char *const yes[] = {"y", "yes", "true", "on", "1"};
    static const char *const no[] = {"n", "no", "false", "off", "0"};
    for (size_t i = 0; i < 5; i++) {
        if (!strcasecmp(text, yes[i]))
            return 1;
        if (!strcasecmp(text, no[i]))
            return 0;
    }
    return -1;
}

int cli_hosting_parse(cli_hosting_t *h, const char *arg, char *why, size_t why_len)
{
    const char *eq = strchr(arg, '=');
    size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
    const char *value = eq ? eq + 1 : NULL;
#define IS(name) (name_len == strlen(name) && strncmp(arg, name, name_len) == 0)
    if (IS("timeout")) {
        if (value && parse_duration_ns(value, &h->timeout_ns))
            return 1;
        snprintf(why, why_len,
                 "invalid value '%s' for -W timeout: expected a duration such as 50ms, 10s "
                 "or 1m (at most 1 day)",
                 value ? value : "");
        return -1;
    }
    if (IS("max-memory-size")) {
        if (value && parse_bytes(value, &h->max_memory_size))
            return 1;
        snprintf(why, why_len,
                 "invalid value '%s' for -W max-memory-size: expected a byte count such as "
                 "10485760 or 10M",
                 value ? value : "");
        return -1;
    }
    if (IS("max-table-elements")) {
        uint64_t n;
        if (value && parse_bytes(value, &n) && strspn(value, "0123456789") == strlen(value)) {
            h->max_table_elements = n;
            return 1;
        }
        snprintf(why, why_len,
                 "invalid value '%s' for -W max-table-elements: expected a decimal count",
                 value ? value : "");
        return -1;
    }
    if (IS("pooling")) {
        int b = value ? parse_bool(value) : 1;
        if (b >= 0) {
            h->pooling = b;
            return 1;
        }
        snprintf(why, why_len, "invalid value '%s' for -W pooling: expected y or n", value);
        return -1;
    }
#undef IS
    return 0;
}

whirl_error_t *cli_hosting_configure(const cli_hosting_t *h, whirl_config_t *config)
{
    if (h->pooling >= 0)
        whirl_config_pooling_set(config, h->pooling == 1);
    return NULL;
}

whirl_error_t *cli_hosting_apply(const cli_hosting_t *h, whirl_store_t *store)
{
    whirl_store_limits_set(store, h->max_memory_size, h->max_table_elements);
    if (h->timeout_ns)
        return whirl_store_set_deadline(store, whirl_monotonic_now() + h->timeout_ns);
    return NULL;
}

bool cli_hosting_deadline_reached(const cli_hosting_t *h, const whirl_error_t *err)
{
    whirl_trap_code_t code;
    return h->timeout_ns && err && whirl_error_is_trap(err, &code) &&
           code == WHIRL_TRAP_INTERRUPT;
}
