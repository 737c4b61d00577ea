/* Host-name lookups of the Spin backends (Redis, PostgreSQL) off the
 * worker thread: getaddrinfo blocks for as long as the DNS server takes
 * (seconds per try when it never answers), and neither libpq nor our Redis
 * transport could cut it at the request's deadline. So the name is looked
 * up here on a short-lived detached thread that signals an eventfd, the
 * request waits on that through spin_wait_fd (suspending, not holding its
 * worker), and the library is given the numeric address.
 *
 * Lifetimes: the lookup and the request each hold a reference on the job;
 * a request that gives up (deadline, cancel) drops its reference and
 * leaves; whichever side drops the last one closes the eventfd and frees
 * the job, so a late answer is freed by its own thread. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "serve/spin_host.h"

_Static_assert(SPIN_ADDR_LEN == INET6_ADDRSTRLEN, "spin_addrs_t holds an IPv6 address");

typedef struct lookup {
    atomic_int refs;
    atomic_bool done;              /* rc and addr are set (release) */
    int efd;
    int rc;                        /* getaddrinfo's result */
    int n;                         /* addresses found */
    char addr[SPIN_RESOLVE_MAX][SPIN_ADDR_LEN]; /* numeric, in getaddrinfo's order */
    char host[];
} lookup_t;

/* Lookups running at once, at most MAX_LOOKUPS: requests to a name whose
 * DNS server is silent end at their deadlines but leave their lookups
 * running for the resolver's timeout, and a flood of them must not grow
 * threads without bound. */
enum { MAX_LOOKUPS = 256 };
static atomic_int g_lookups;

static void lookup_unref(lookup_t *l)
{
    if (atomic_fetch_sub(&l->refs, 1) == 1) {
        close(l->efd);
        free(l);
    }
}

/* Test-only (tests/serve): WHIRL_TEST_DNS_STALL=NAME makes the lookup of
 * NAME never answer, as a DNS server that drops queries would; it says so
 * on stderr so that a test waits for that event, not for time. */
static bool stalls(const char *host)
{
    const char *s = getenv("WHIRL_TEST_DNS_STALL");
    if (!s || !*s || strcmp(s, host) != 0)
        return false;
    fprintf(stderr, "whirl: test: the lookup of %s stalls (WHIRL_TEST_DNS_STALL)\n", host);
    return true;
}

static void *lookup_run(void *arg)
{
    lookup_t *l = arg;
    if (stalls(l->host)) {
        for (;;)
            pause(); /* never answers; the process ends with it */
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    l->rc = getaddrinfo(l->host, NULL, &hints, &res);
    l->n = 0;
    for (struct addrinfo *a = l->rc == 0 ? res : NULL; a && l->n < SPIN_RESOLVE_MAX; a = a->ai_next) {
        const void *ip = a->ai_family == AF_INET6
                             ? (const void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr
                             : (const void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr;
        if ((a->ai_family == AF_INET || a->ai_family == AF_INET6) &&
            inet_ntop(a->ai_family, ip, l->addr[l->n], sizeof l->addr[0]))
            l->n++;
    }
    if (l->rc == 0) {
        freeaddrinfo(res);
        if (l->n == 0)
            l->rc = EAI_NONAME;
    }
    atomic_store_explicit(&l->done, true, memory_order_release);
    uint64_t one = 1;
    /* The eventfd is open while this reference is held. */
    if (write(l->efd, &one, sizeof one) < 0) {
        /* cannot fail on an eventfd counting to 1 */
    }
    lookup_unref(l);
    atomic_fetch_sub(&g_lookups, 1);
    return NULL;
}

int spin_resolve(spin_req_t *r, const char *host, uint64_t deadline_ns, spin_addrs_t *out,
                 char *why, size_t whylen)
{
    unsigned char buf[sizeof(struct in6_addr)];
    const char *bare = host;
    char tmp[INET6_ADDRSTRLEN];
    size_t hl = strlen(host);
    if (hl > 2 && host[0] == '[' && host[hl - 1] == ']' && hl - 2 < sizeof tmp) {
        memcpy(tmp, host + 1, hl - 2); /* [v6] as URLs write it */
        tmp[hl - 2] = '\0';
        bare = tmp;
    }
    if (inet_pton(AF_INET, bare, buf) == 1 || inet_pton(AF_INET6, bare, buf) == 1) {
        snprintf(out->addr[0], sizeof out->addr[0], "%s", bare);
        out->n = 1;
        return 0;
    }
    if (atomic_fetch_add(&g_lookups, 1) >= MAX_LOOKUPS) {
        atomic_fetch_sub(&g_lookups, 1);
        snprintf(why, whylen, "cannot resolve %.100s: too many host-name lookups in progress",
                 host);
        return -1;
    }
    lookup_t *l = malloc(sizeof *l + hl + 1);
    if (!l) {
        atomic_fetch_sub(&g_lookups, 1);
        snprintf(why, whylen, "cannot resolve %.100s: out of memory", host);
        return -1;
    }
    memcpy(l->host, host, hl + 1);
    l->rc = EAI_AGAIN;
    l->n = 0;
    atomic_init(&l->refs, 2);
    atomic_init(&l->done, false);
    l->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    pthread_attr_t attr;
    pthread_t t;
    bool attr_ok = l->efd >= 0 && pthread_attr_init(&attr) == 0;
    bool started = false;
    if (attr_ok) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        started = pthread_create(&t, &attr, lookup_run, l) == 0;
        pthread_attr_destroy(&attr);
    }
    if (!started) {
        if (l->efd >= 0)
            close(l->efd);
        free(l);
        atomic_fetch_sub(&g_lookups, 1);
        snprintf(why, whylen, "cannot resolve %.100s: cannot start a lookup", host);
        return -1;
    }
    int rev = spin_wait_fd(r, l->efd, POLLIN, deadline_ns);
    int ret;
    if (rev > 0 && !atomic_load_explicit(&l->done, memory_order_acquire))
        rev = -1; /* cannot be: the eventfd is written once done */
    if (rev <= 0) {
        snprintf(why, whylen, "cannot resolve %.100s: %s", host,
                 rev == 0 ? "the request's deadline passed" : "the request ended");
        ret = -1;
    } else if (l->rc != 0) {
        snprintf(why, whylen, "cannot resolve %.100s: %s", host, gai_strerror(l->rc));
        ret = -1;
    } else {
        out->n = l->n;
        memcpy(out->addr, l->addr, sizeof l->addr);
        ret = 0;
    }
    lookup_unref(l); /* a lookup still running frees it when it ends */
    return ret;
}
