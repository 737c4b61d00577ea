/* HTTP syntax shared by the server, the WAGI executor and the wasi:http
 * host: tokens and field values (RFC 9110 5.1, 5.5), and the request-head
 * checks that keep a request's framing unambiguous (RFC 9112 3.2, 6.1,
 * 6.3). libmicrohttpd 0.9.75 is lenient where a proxy in front of whirl may
 * not be (it takes the first of two Content-Lengths, and Transfer-Encoding
 * beside Content-Length); a request two parsers could split differently is
 * how requests are smuggled, so such heads are refused before any guest
 * sees them. */
#define _GNU_SOURCE
#include <string.h>
#include <strings.h>

#include "serve/internal.h"

bool serve_http_token(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!alnum && (c == 0 || !strchr("!#$%&'*+-.^_`|~", c)))
            return false;
    }
    return true;
}

bool serve_http_field_value(const uint8_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((v[i] < 0x20 && v[i] != '\t') || v[i] == 0x7f)
            return false;
    return true;
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

int serve_http_check_head(const serve_req_info_t *info, bool folded, const char **why)
{
    size_t nlength = 0, nencoding = 0, nhost = 0;
    const char *encoding = NULL, *length = NULL;
    if (!serve_http_token(info->method, strlen(info->method))) {
        *why = "invalid method";
        return 400;
    }
    if (folded) {
        *why = "obs-fold (a header line continued on the next)";
        return 400;
    }
    for (size_t i = 0; i < info->nheaders; i++) {
        const serve_header_t *h = &info->headers[i];
        if (!serve_http_token(h->name, strlen(h->name))) {
            *why = "invalid header name";
            return 400;
        }
        if (!serve_http_field_value((const uint8_t *)h->value, strlen(h->value))) {
            *why = "control character in a header value";
            return 400;
        }
        if (strcasecmp(h->name, "Content-Length") == 0) {
            nlength++;
            length = h->value;
        } else if (strcasecmp(h->name, "Transfer-Encoding") == 0) {
            nencoding++;
            encoding = h->value;
        } else if (strcasecmp(h->name, "Host") == 0) {
            nhost++;
        }
    }
    /* Two lengths (even equal ones, or a list) leave the body's end to
     * whichever parser reads it; so does a length beside chunked coding. */
    if (nlength > 1) {
        *why = "more than one Content-Length";
        return 400;
    }
    if (length && !all_digits(length)) {
        *why = "invalid Content-Length";
        return 400;
    }
    if (nencoding && nlength) {
        *why = "both Transfer-Encoding and Content-Length";
        return 400;
    }
    if (nencoding && strcmp(info->version, "HTTP/1.0") == 0) {
        *why = "Transfer-Encoding in an HTTP/1.0 request";
        return 400;
    }
    /* Only chunked is implemented; any other coding (or a list ending in
     * chunked) would need decoding whirl does not do. */
    if (nencoding > 1 || (encoding && strcasecmp(encoding, "chunked") != 0)) {
        *why = "unsupported Transfer-Encoding";
        return 501;
    }
    if (nhost > 1 || (nhost == 0 && strcmp(info->version, "HTTP/1.0") != 0)) {
        *why = nhost ? "more than one Host" : "no Host in an HTTP/1.1 request";
        return 400;
    }
    return 0;
}
