/* The listening socket of `whirl serve`: --listen parsed (also by the CLI,
 * so a bad address is a usage error before the app is loaded), bound, and
 * shared with other servers under --reuse-port. And the abstract unix
 * socket of the app's requests to itself (`self` outbound requests). */
#define _GNU_SOURCE
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
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

/* ---- requests of the app to itself ---- */

enum { LOCAL_THREADS_MAX = 64 };

/* Hands connections from this process's own outbound client to the
 * daemon; anything else on the socket is closed. */
static void *local_accept_main(void *arg)
{
    serve_server_t *srv = arg;
    for (;;) {
        int fd = accept4(srv->local_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors or memory: the client waits (and
                 * times out) rather than this thread spin. */
                nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
                continue;
            }
            return NULL; /* shut down */
        }
        struct ucred cred;
        socklen_t len = sizeof cred;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.pid != getpid()) {
            close(fd);
            continue;
        }
        /* The daemon stops only after serve_local_close has joined this
         * thread. MHD closes the socket if it cannot take it. */
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        if (MHD_add_connection(srv->daemon, fd, (const struct sockaddr *)&addr, sizeof addr) !=
            MHD_YES)
            serve_log("warning: libmicrohttpd refused a self connection: %s", strerror(errno));
    }
}

void serve_local_open(serve_server_t *srv)
{
    static atomic_uint serial;
    srv->local_fd = -1;
    snprintf(srv->local_name, sizeof srv->local_name, "whirl-serve-%ld-%u", (long)getpid(),
             atomic_fetch_add(&serial, 1));
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t n = strlen(srv->local_name);
    memcpy(addr.sun_path + 1, srv->local_name, n);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    if (bind(fd, (const struct sockaddr *)&addr,
             (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) != 0 ||
        listen(fd, 64) != 0) {
        close(fd);
        return;
    }
    srv->local_fd = fd;
    if (pthread_create(&srv->local_thread, NULL, local_accept_main, srv) != 0) {
        close(fd);
        srv->local_fd = -1;
    }
}

void serve_local_close(serve_server_t *srv)
{
    if (srv->local_fd < 0)
        return;
    shutdown(srv->local_fd, SHUT_RDWR); /* ends the accept */
    pthread_join(srv->local_thread, NULL);
    close(srv->local_fd);
    srv->local_fd = -1;
}

static void *local_main(void *arg)
{
    serve_req_t *r = arg;
    serve_server_t *srv = r->srv;
    serve_http_run(srv, r);
    pthread_mutex_lock(&srv->mu);
    srv->local_threads--;
    pthread_cond_broadcast(&srv->idle_cv);
    pthread_mutex_unlock(&srv->mu);
    return NULL;
}

bool serve_local_run(serve_server_t *srv, serve_req_t *r)
{
    pthread_mutex_lock(&srv->mu);
    bool room = srv->local_threads < LOCAL_THREADS_MAX;
    if (room)
        srv->local_threads++;
    pthread_mutex_unlock(&srv->mu);
    if (!room)
        return false;
    pthread_attr_t at;
    pthread_t t;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    bool ok = pthread_create(&t, &at, local_main, r) == 0;
    pthread_attr_destroy(&at);
    if (!ok) {
        pthread_mutex_lock(&srv->mu);
        srv->local_threads--;
        pthread_mutex_unlock(&srv->mu);
    }
    return ok;
}
