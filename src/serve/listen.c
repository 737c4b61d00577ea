/* The listening socket of `whirl serve`: --listen parsed (also by the CLI,
 * so a bad address is a usage error before the app is loaded), bound, and
 * shared with other servers under --reuse-port. */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "serve/internal.h"

bool serve_listen_parse(const char *spec, char host[256], char port[16], char *why,
                        size_t why_len)
{
    snprintf(host, 256, "127.0.0.1");
    const char *colon = strrchr(spec, ':');
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (!close || close[1] != ':' || close == spec + 1 || (size_t)(close - spec - 1) >= 256) {
            snprintf(why, why_len, "invalid --listen '%s' (expected HOST:PORT, [IPV6]:PORT or "
                     "PORT)", spec);
            return false;
        }
        memcpy(host, spec + 1, (size_t)(close - spec - 1));
        host[close - spec - 1] = '\0';
        colon = close + 1;
    } else if (colon) {
        if ((size_t)(colon - spec) >= 256 || colon == spec || memchr(spec, ':', (size_t)(colon - spec))) {
            snprintf(why, why_len, "invalid --listen '%s' (expected HOST:PORT, [IPV6]:PORT or "
                     "PORT)", spec);
            return false;
        }
        memcpy(host, spec, (size_t)(colon - spec));
        host[colon - spec] = '\0';
    }
    const char *p = colon ? colon + 1 : spec;
    if (!*p || strlen(p) > 5 || strspn(p, "0123456789") != strlen(p) || atol(p) > 65535) {
        snprintf(why, why_len, "invalid port in --listen '%s' (0 to 65535; 0 picks a free one)",
                 spec);
        return false;
    }
    snprintf(port, 16, "%s", p);
    return true;
}

/* HOST:PORT, [V6]:PORT or PORT (checked by the CLI already). */
int serve_listen_open(serve_server_t *srv, const char *spec)
{
    char host[256], port[16], why[300];
    if (!serve_listen_parse(spec, host, port, why, sizeof why)) {
        serve_log("error: %s", why);
        return -1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    int e = getaddrinfo(host, port, &hints, &res);
    if (e) {
        serve_log("error: --listen %s: %s", spec, gai_strerror(e));
        return -1;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        /* Several servers on one port: the kernel spreads connections. */
        if (srv->opts->reuse_port &&
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
            err = errno;
            close(fd);
            fd = -1;
            continue;
        }
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0)
            break;
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        serve_log("error: cannot listen on %s: %s", spec, strerror(err));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    unsigned bound = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        bound = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                         : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    snprintf(srv->listen_host, sizeof srv->listen_host, "%s", host);
    snprintf(srv->listen_port, sizeof srv->listen_port, "%u", bound);
    return fd;
}
