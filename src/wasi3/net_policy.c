/* The network policy of a WASI context (net_policy.h): parsing allow-ip
 * CIDR blocks and checking socket addresses against them. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "wasi3/net_policy.h"

bool w3_net_parse_cidr(const char *cidr, w3_cidr_t *out, const char **why)
{
    char buf[64];
    size_t len = cidr ? strlen(cidr) : 0;
    memset(out, 0, sizeof *out);
    if (len == 0 || len >= sizeof buf) {
        *why = len ? "too long" : "empty";
        return false;
    }
    memcpy(buf, cidr, len + 1);
    char *slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->family = AF_INET;
    } else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->family = AF_INET6;
    } else {
        *why = "not an IPv4 or IPv6 address before the '/'";
        return false;
    }
    unsigned max = out->family == AF_INET ? 32 : 128;
    out->prefix = max;
    if (slash) {
        const char *n = slash + 1;
        unsigned v = 0;
        if (!*n || strlen(n) > 3) {
            *why = "the prefix length after '/' is missing or too long";
            return false;
        }
        for (; *n; n++) {
            if (*n < '0' || *n > '9') {
                *why = "the prefix length after '/' is not a number";
                return false;
            }
            v = v * 10 + (unsigned)(*n - '0');
        }
        if (v > max) {
            *why = out->family == AF_INET ? "an IPv4 prefix length is at most 32"
                                          : "an IPv6 prefix length is at most 128";
            return false;
        }
        out->prefix = v;
    }
    /* Clear the host bits, so that 10.1.2.3/8 means 10.0.0.0/8. */
    unsigned nbytes = max / 8;
    for (unsigned i = 0; i < nbytes; i++) {
        unsigned bit = i * 8;
        if (bit >= out->prefix)
            out->addr[i] = 0;
        else if (out->prefix - bit < 8)
            out->addr[i] &= (uint8_t)(0xff00u >> (out->prefix - bit));
    }
    return true;
}

whirl_error_t *w3_net_allow_cidr(w3_net_policy_t *p, const char *cidr)
{
    if (!p || !cidr)
        return whirl_error_new("WASI: allow_ip: NULL argument");
    w3_cidr_t c;
    const char *why;
    if (!w3_net_parse_cidr(cidr, &c, &why))
        return whirl_error_newf("WASI: allow-ip '%.80s' is not a CIDR block (%s; expected "
                                "ADDRESS/PREFIX such as 127.0.0.0/8 or ::1/128)",
                                cidr, why);
    if (p->nrules >= W3_NET_MAX_RULES)
        return whirl_error_newf("WASI: more than %d allow-ip rules", W3_NET_MAX_RULES);
    w3_cidr_t *n = realloc(p->rules, (p->nrules + 1) * sizeof *n);
    if (!n)
        return whirl_error_new("WASI: out of memory");
    p->rules = n;
    p->rules[p->nrules++] = c;
    return NULL;
}

static bool in_block(const w3_cidr_t *c, const uint8_t *addr)
{
    unsigned full = c->prefix / 8, rest = c->prefix % 8;
    if (memcmp(c->addr, addr, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff00u >> rest);
    return (addr[full] & mask) == c->addr[full];
}

bool w3_net_allows(const w3_net_policy_t *p, const struct sockaddr *sa)
{
    if (!p || !sa)
        return false;
    if (p->inherit)
        return true;
    const uint8_t *addr;
    if (sa->sa_family == AF_INET)
        addr = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
    else if (sa->sa_family == AF_INET6)
        addr = (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
    else
        return false;
    for (size_t i = 0; i < p->nrules; i++)
        if (p->rules[i].family == sa->sa_family && in_block(&p->rules[i], addr))
            return true;
    return false;
}

bool w3_net_any(const w3_net_policy_t *p)
{
    return p && (p->inherit || p->nrules > 0);
}

void w3_net_policy_free(w3_net_policy_t *p)
{
    if (!p)
        return;
    free(p->rules);
    p->rules = NULL;
    p->nrules = 0;
    p->inherit = false;
}
