/* Which outbound connections may be made (HTTP, and Spin's Redis, MQTT,
 * PostgreSQL and MySQL): Spin's allowed_outbound_hosts rules (see
 * outbound.h), deny by default. mqtts, MQTT over TLS, is whirl's addition. Host names compare case-insensitively;
 * a `*.example.com` rule matches names ending in `.example.com` (any depth)
 * but not example.com itself. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "serve/outbound.h"

typedef struct ob_rule {
    char scheme[16]; /* one of `schemes` below, or "*" */
    char *host;      /* lower case; "*" any; "*.x" a suffix */
    int port;        /* -1: any */
} ob_rule_t;

struct ob_policy {
    ob_rule_t *rules;
    size_t n;
    bool self;
    bool wildcard_http_only; /* a `*` scheme means http and https only */
};

/* The schemes a rule may name, with the port a rule without one means. */
static const struct {
    const char *name;
    int port;
} schemes[] = {
    {"http", 80}, {"https", 443}, {"redis", 6379}, {"rediss", 6379}, {"mqtt", 1883}, {"mqtts", 8883},
    {"postgres", 5432}, {"mysql", 3306},
};

void ob_policy_set_wildcard_http_only(ob_policy_t *p)
{
    p->wildcard_http_only = true;
}

ob_policy_t *ob_policy_new(void)
{
    return calloc(1, sizeof(ob_policy_t));
}

void ob_policy_free(ob_policy_t *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        free(p->rules[i].host);
    free(p->rules);
    free(p);
}

bool ob_policy_empty(const ob_policy_t *p)
{
    return !p || (p->n == 0 && !p->self);
}

static bool fail(char *why, size_t whylen, const char *rule, const char *reason)
{
    snprintf(why, whylen, "outbound host rule '%s': %s", rule, reason);
    return false;
}

static bool host_char_ok(char ch)
{
    return isalnum((unsigned char)ch) || ch == '-' || ch == '.' || ch == '_' || ch == ':' ||
           ch == '[' || ch == ']' || ch == '*';
}

bool ob_policy_add(ob_policy_t *p, const char *rule, char *why, size_t whylen)
{
    if (strcmp(rule, "self") == 0 || strcmp(rule, "http://self") == 0 ||
        strcmp(rule, "https://self") == 0 || strcmp(rule, "*://self") == 0) {
        p->self = true;
        return true;
    }
    if (strstr(rule, "{{"))
        return fail(why, whylen, rule, "variables in rules are not supported");
    const char *sep = strstr(rule, "://");
    if (!sep)
        return fail(why, whylen, rule, "expected SCHEME://HOST[:PORT] (or self)");
    ob_rule_t r = {.port = -2};
    size_t slen = (size_t)(sep - rule);
    int default_port = -2;
    if (slen == 1 && rule[0] == '*') {
        r.scheme[0] = '*';
    } else {
        for (size_t i = 0; i < sizeof schemes / sizeof *schemes && default_port == -2; i++)
            if (strlen(schemes[i].name) == slen && strncasecmp(rule, schemes[i].name, slen) == 0) {
                memcpy(r.scheme, schemes[i].name, slen + 1);
                default_port = schemes[i].port;
            }
        if (default_port == -2)
            return fail(why, whylen, rule,
                        "the scheme must be http, https, redis, rediss, mqtt, mqtts, postgres, mysql or *");
    }
    const char *host = sep + 3;
    size_t hlen = strcspn(host, "/");
    if (host[hlen] == '/' && host[hlen + 1] != '\0')
        return fail(why, whylen, rule, "a rule names no path");
    /* The port: after the last ':' outside brackets. */
    const char *colon = NULL;
    const char *close = memchr(host, ']', hlen);
    for (const char *q = close ? close : host; q < host + hlen; q++)
        if (*q == ':')
            colon = q;
    size_t namelen = colon ? (size_t)(colon - host) : hlen;
    if (colon) {
        const char *ps = colon + 1;
        size_t plen = (size_t)(host + hlen - ps);
        if (plen == 1 && *ps == '*') {
            r.port = -1;
        } else {
            if (plen == 0 || plen > 5 || strspn(ps, "0123456789") < plen)
                return fail(why, whylen, rule, "the port must be a number or *");
            r.port = atoi(ps);
            if (r.port < 1 || r.port > 65535)
                return fail(why, whylen, rule, "the port must be 1 to 65535");
        }
    } else if (default_port > 0) {
        r.port = default_port;
    } else {
        return fail(why, whylen, rule, "with scheme * the port must be given (a number or *)");
    }
    if (namelen == 0)
        return fail(why, whylen, rule, "no host");
    for (size_t i = 0; i < namelen; i++)
        if (!host_char_ok(host[i]))
            return fail(why, whylen, rule, "invalid character in the host");
    const char *star = memchr(host, '*', namelen);
    if (star && !(namelen == 1 || (star == host && namelen > 2 && host[1] == '.' &&
                                   !memchr(host + 1, '*', namelen - 1))))
        return fail(why, whylen, rule, "a host wildcard is * or *.DOMAIN");
    r.host = strndup(host, namelen);
    ob_rule_t *nr = r.host ? realloc(p->rules, (p->n + 1) * sizeof *nr) : NULL;
    if (!nr) {
        free(r.host);
        return fail(why, whylen, rule, "out of memory");
    }
    for (char *c = r.host; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    p->rules = nr;
    p->rules[p->n++] = r;
    return true;
}

static bool host_matches(const char *pattern, const char *host)
{
    if (strcmp(pattern, "*") == 0)
        return true;
    if (pattern[0] == '*') { /* "*.suffix": host ends in ".suffix" and has more before it */
        size_t pl = strlen(pattern + 1), hl = strlen(host);
        return hl > pl && strcasecmp(host + hl - pl, pattern + 1) == 0;
    }
    return strcasecmp(pattern, host) == 0;
}

bool ob_policy_allows(const ob_policy_t *p, const char *scheme, const char *host,
                      unsigned port)
{
    for (size_t i = 0; p && i < p->n; i++) {
        const ob_rule_t *r = &p->rules[i];
        if (strcmp(r->scheme, "*") == 0) {
            if (p->wildcard_http_only && strcasecmp(scheme, "http") != 0 &&
                strcasecmp(scheme, "https") != 0)
                continue;
        } else if (strcasecmp(r->scheme, scheme) != 0) {
            continue;
        }
        if (r->port >= 0 && (unsigned)r->port != port)
            continue;
        if (host_matches(r->host, host))
            return true;
    }
    return false;
}

bool ob_policy_allows_self(const ob_policy_t *p)
{
    return p && p->self;
}
