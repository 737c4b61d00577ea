/* The gate: whirl accepts connections itself and looks at each one's first
 * request line before handing the socket to libmicrohttpd
 * (MHD_USE_NO_LISTEN_SOCKET + MHD_add_connection).
 *
 * Why: libmicrohttpd 0.9.75 closes a connection whose request line it
 * cannot split (one word, binary junk, an empty method) without a word and
 * without telling whirl: no request callback, and by
 * MHD_CONNECTION_NOTIFY_CLOSED the socket has already been shut down for
 * writing (MHD_connection_mark_closed_ calls shutdown(SHUT_WR) unless
 * MHD_USE_TURBO), so nothing can be sent from there. RFC 9112 section 3
 * wants 400. The gate only peeks (MSG_PEEK): the bytes stay in the socket
 * for libmicrohttpd, which reads the request as if it had accepted the
 * connection itself. The cost is one peek and one hand-over per
 * connection, nothing per request on a kept-alive connection.
 *
 * Limit: only the first request line of a connection is checked; a later
 * garbage line on a kept-alive connection is still closed silently by
 * libmicrohttpd. A connection that closes or times out (--io-timeout)
 * before sending a full line is closed without an answer, as before. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "internal.h"

enum {
    GATE_MAX_WAITING = 4096, /* more connections without a first line go straight to MHD */
    GATE_PEEK = 8192,        /* a longer request line goes to MHD (414 or 431) */
    GATE_ACCEPT_PAUSE_MS = 100,
};

typedef struct gate_conn {
    int fd;
    uint64_t deadline_ns;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    struct gate_conn *prev, *next;
} gate_conn_t;

struct serve_gate {
    serve_server_t *srv;
    int epfd, stopfd;
    pthread_t thread;
    /* In arrival order, which is deadline order: every connection gets the
     * same --io-timeout. */
    gate_conn_t *head, *tail;
    unsigned waiting;
    uint64_t timeout_ns;
    uint64_t accept_paused_until; /* after EMFILE and the like; 0: accepting */
    uint8_t peek[GATE_PEEK];
};

static uint64_t gate_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool is_tchar(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

serve_line_verdict_t serve_gate_check_line(const uint8_t *p, size_t n, bool full)
{
    size_t i = 0;
    /* Empty lines before a request are tolerated (RFC 9112 section 2.2). */
    while (i < n && (p[i] == '\r' || p[i] == '\n'))
        i++;
    size_t start = i;
    while (i < n && is_tchar(p[i]))
        i++;
    if (i < n && (p[i] != ' ' || i == start))
        return SERVE_LINE_MALFORMED;
    if (i++ >= n)
        goto incomplete;
    start = i;
    while (i < n && p[i] > ' ' && p[i] != 0x7f)
        i++;
    if (i < n && (p[i] != ' ' || i == start))
        return SERVE_LINE_MALFORMED;
    if (i++ >= n)
        goto incomplete;
    static const char version[] = "HTTP/d.d";
    for (size_t k = 0; k < sizeof version - 1; k++, i++) {
        if (i >= n)
            goto incomplete;
        bool ok = version[k] == 'd' ? p[i] >= '0' && p[i] <= '9' : p[i] == (uint8_t)version[k];
        if (!ok)
            return SERVE_LINE_MALFORMED;
    }
    if (i < n && p[i] == '\r')
        i++;
    if (i >= n)
        goto incomplete;
    return p[i] == '\n' ? SERVE_LINE_VALID : SERVE_LINE_MALFORMED;
incomplete:
    /* A line longer than the gate looks is libmicrohttpd's to refuse. */
    return full ? SERVE_LINE_VALID : SERVE_LINE_INCOMPLETE;
}

static void unlink_conn(serve_gate_t *g, gate_conn_t *c)
{
    *(c->prev ? &c->prev->next : &g->head) = c->next;
    *(c->next ? &c->next->prev : &g->tail) = c->prev;
    g->waiting--;
    epoll_ctl(g->epfd, EPOLL_CTL_DEL, c->fd, NULL);
}

static void hand_over(serve_gate_t *g, int fd, const struct sockaddr_storage *addr,
                      socklen_t addrlen)
{
    /* MHD closes the socket if it cannot take it. */
    if (MHD_add_connection(g->srv->daemon, fd, (const struct sockaddr *)addr, addrlen) != MHD_YES)
        serve_log("warning: libmicrohttpd refused a connection: %s", strerror(errno));
}

static void refuse(serve_gate_t *g, gate_conn_t *c)
{
    static const char answer[] = "HTTP/1.1 400 Bad Request\r\n"
                                 "Connection: close\r\n"
                                 "Content-Type: text/plain\r\n"
                                 "Content-Length: 36\r\n"
                                 "\r\n"
                                 "Bad Request: malformed request line\n";
    /* Read what came, so that closing does not reset the connection (and
     * lose the answer) for bytes left unread; bounded, the client may
     * keep sending. */
    for (int k = 0; k < 16 && recv(c->fd, g->peek, sizeof g->peek, MSG_DONTWAIT) > 0; k++) {
    }
    /* A fresh socket's send buffer takes these bytes whole. */
    if (send(c->fd, answer, sizeof answer - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
    }
    shutdown(c->fd, SHUT_WR);
    char host[INET6_ADDRSTRLEN] = "?";
    if (c->addr.ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)&c->addr)->sin_addr, host, sizeof host);
    else if (c->addr.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&c->addr)->sin6_addr, host,
                  sizeof host);
    serve_log("refused a connection from %s: malformed request line (400)", host);
    SERVE_COUNT(g->srv, rejected_malformed);
    close(c->fd);
}

/* New bytes (or a hang-up) on a waiting connection. */
static void examine(serve_gate_t *g, gate_conn_t *c, uint32_t events)
{
    ssize_t n = recv(c->fd, g->peek, sizeof g->peek, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) &&
        !(events & (EPOLLHUP | EPOLLERR)))
        return;
    if (n <= 0) { /* closed (or reset) before a byte: nothing to answer */
        unlink_conn(g, c);
        close(c->fd);
        free(c);
        return;
    }
    serve_line_verdict_t v = serve_gate_check_line(g->peek, (size_t)n, (size_t)n == sizeof g->peek);
    /* Half a line and then a hang-up: libmicrohttpd's to close, as before. */
    if (v == SERVE_LINE_INCOMPLETE && !(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
        return;
    unlink_conn(g, c);
    if (v == SERVE_LINE_MALFORMED)
        refuse(g, c);
    else
        hand_over(g, c->fd, &c->addr, c->addrlen);
    free(c);
}

static void accept_all(serve_gate_t *g)
{
    for (;;) {
        gate_conn_t *c = calloc(1, sizeof *c);
        if (!c) {
            g->accept_paused_until = gate_now_ns() + GATE_ACCEPT_PAUSE_MS * 1000000ull;
            break;
        }
        c->addrlen = sizeof c->addr;
        c->fd = accept4(g->srv->listen_fd, (struct sockaddr *)&c->addr, &c->addrlen,
                        SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c->fd < 0) {
            int e = errno;
            free(c);
            if (e == EINTR || e == ECONNABORTED || e == EPROTO)
                continue;
            if (e != EAGAIN && e != EWOULDBLOCK) {
                /* EMFILE, ENFILE, ENOBUFS...: the connection waits in the
                 * backlog; try again shortly instead of spinning. */
                serve_log("warning: accept: %s", strerror(e));
                g->accept_paused_until = gate_now_ns() + GATE_ACCEPT_PAUSE_MS * 1000000ull;
            }
            break;
        }
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = c};
        if (g->waiting >= GATE_MAX_WAITING || epoll_ctl(g->epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
            hand_over(g, c->fd, &c->addr, c->addrlen);
            free(c);
            continue;
        }
        c->deadline_ns = gate_now_ns() + g->timeout_ns;
        c->prev = g->tail;
        *(g->tail ? &g->tail->next : &g->head) = c;
        g->tail = c;
        g->waiting++;
    }
    if (g->accept_paused_until) {
        struct epoll_event ev = {.events = 0, .data.ptr = g};
        epoll_ctl(g->epfd, EPOLL_CTL_MOD, g->srv->listen_fd, &ev);
    }
}

static void *gate_main(void *arg)
{
    serve_gate_t *g = arg;
    struct epoll_event evs[64];
    for (;;) {
        uint64_t now = gate_now_ns(), wake = UINT64_MAX;
        if (g->head)
            wake = g->head->deadline_ns;
        if (g->accept_paused_until && g->accept_paused_until < wake)
            wake = g->accept_paused_until;
        int timeout_ms = wake == UINT64_MAX ? -1
                         : wake <= now      ? 0
                                            : (int)((wake - now + 999999) / 1000000);
        int n = epoll_wait(g->epfd, evs, (int)(sizeof evs / sizeof evs[0]), timeout_ms);
        if (n < 0 && errno != EINTR) {
            serve_log("error: the connection gate stopped: epoll_wait: %s", strerror(errno));
            return NULL;
        }
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == &g->stopfd)
                return NULL;
            if (evs[i].data.ptr == g)
                accept_all(g);
            else
                examine(g, evs[i].data.ptr, evs[i].events);
        }
        now = gate_now_ns();
        if (g->accept_paused_until && g->accept_paused_until <= now) {
            g->accept_paused_until = 0;
            struct epoll_event ev = {.events = EPOLLIN, .data.ptr = g};
            epoll_ctl(g->epfd, EPOLL_CTL_MOD, g->srv->listen_fd, &ev);
        }
        /* --io-timeout without a request line: closed without an answer,
         * as libmicrohttpd does with an idle connection. */
        while (g->head && g->head->deadline_ns <= now) {
            gate_conn_t *c = g->head;
            unlink_conn(g, c);
            close(c->fd);
            free(c);
        }
    }
}

serve_gate_t *serve_gate_start(serve_server_t *srv)
{
    serve_gate_t *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->srv = srv;
    g->timeout_ns = (uint64_t)srv->opts->io_timeout_s * 1000000000ull;
    g->epfd = epoll_create1(EPOLL_CLOEXEC);
    g->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = g};
    struct epoll_event sev = {.events = EPOLLIN, .data.ptr = &g->stopfd};
    /* accept_all takes connections until EAGAIN. */
    int fl = fcntl(srv->listen_fd, F_GETFL);
    if (g->epfd < 0 || g->stopfd < 0 || fl < 0 ||
        fcntl(srv->listen_fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
        epoll_ctl(g->epfd, EPOLL_CTL_ADD, srv->listen_fd, &lev) != 0 ||
        epoll_ctl(g->epfd, EPOLL_CTL_ADD, g->stopfd, &sev) != 0 ||
        pthread_create(&g->thread, NULL, gate_main, g) != 0) {
        serve_log("error: cannot start the connection gate: %s", strerror(errno));
        if (g->epfd >= 0)
            close(g->epfd);
        if (g->stopfd >= 0)
            close(g->stopfd);
        free(g);
        return NULL;
    }
    return g;
}

void serve_gate_stop(serve_gate_t *g)
{
    if (!g)
        return;
    uint64_t one = 1;
    if (write(g->stopfd, &one, sizeof one) != sizeof one)
        serve_log("warning: cannot stop the connection gate: %s", strerror(errno));
    pthread_join(g->thread, NULL);
    /* Shutting down: connections that never sent a request line go. */
    while (g->head) {
        gate_conn_t *c = g->head;
        unlink_conn(g, c);
        close(c->fd);
        free(c);
    }
    close(g->epfd);
    close(g->stopfd);
    free(g);
}
