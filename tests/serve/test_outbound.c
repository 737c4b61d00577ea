/* The outbound HTTP client (src/serve/outbound.c) alone, against the
 * upstream servers of upstream.py: responses, streamed bodies both ways
 * with backpressure, trailers, redirects left alone, the error-code each
 * failure maps to, the request-options timeouts and a deadline.
 *   test_outbound HTTP_PORT HTTPS_PORT CLOSED_PORT CA_FILE
 * Waits are for the client's notifications (bounded), never sleeps.
 * Prints "test_outbound: N passed, M failed". */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve/outbound.h"

static int passed, failed;
static const char *http_port, *https_port, *closed_port, *ca_file;

#define CHECK(cond, ...)                                                                      \
    do {                                                                                      \
        if (cond) {                                                                           \
            passed++;                                                                         \
        } else {                                                                              \
            failed++;                                                                         \
            fprintf(stderr, "FAILED (line %d): ", __LINE__);                                 \
            fprintf(stderr, __VA_ARGS__);                                                     \
            fputc('\n', stderr);                                                              \
        }                                                                                     \
    } while (0)

/* ---- waiting for the client's notifications ---- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static unsigned long generation;

static void notify(void *env)
{
    (void)env;
    pthread_mutex_lock(&mu);
    generation++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

/* Waits until cond(r) holds or 30 s pass (a bound, not an expectation). The
 * client's calls take the request's lock, and notify runs under it: so
 * cond() is called without `mu` held. */
static bool wait_until(bool (*cond)(ob_req_t *), ob_req_t *r)
{
    struct timespec end;
    clock_gettime(CLOCK_REALTIME, &end);
    end.tv_sec += 30;
    for (;;) {
        pthread_mutex_lock(&mu);
        unsigned long g = generation;
        pthread_mutex_unlock(&mu);
        if (cond(r))
            return true;
        pthread_mutex_lock(&mu);
        int rc = 0;
        while (generation == g && rc == 0)
            rc = pthread_cond_timedwait(&cv, &mu, &end);
        pthread_mutex_unlock(&mu);
        if (rc != 0)
            return cond(r);
    }
}

static bool writable(ob_req_t *r) { return ob_body_ready(r); }

/* ---- helpers ---- */

static ob_req_t *start(const char *method, const char *url, bool body, uint64_t first_byte_ns,
                       uint64_t between_ns, uint64_t deadline_ns, int *rc)
{
    ob_req_t *r = ob_new();
    ob_set_notify(r, notify, NULL);
    ob_spec_t s = {.method = method, .url = url, .has_body = body,
                   .first_byte_timeout_ns = first_byte_ns, .between_bytes_timeout_ns = between_ns,
                   .deadline_ns = deadline_ns};
    char why[256];
    *rc = ob_start(r, &s, why, sizeof why);
    return r;
}

static const char *header(const ob_fields_t *f, const char *name, char *buf, size_t len)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->names[i], name) == 0) {
            snprintf(buf, len, "%.*s", (int)f->vlens[i], (const char *)f->vals[i]);
            return buf;
        }
    return NULL;
}

/* Reads the whole body; returns its size (or -1 after a failure, with *err). */
static long read_all(ob_req_t *r, char *out, size_t cap, int *err, bool slowly)
{
    long total = 0;
    uint8_t buf[4096];
    char msg[256];
    for (;;) {
        if (!wait_until(ob_readable, r))
            return -2;
        int64_t n = ob_read(r, buf, slowly ? 100 : sizeof buf, err, msg, sizeof msg);
        if (n == OB_CLOSED)
            return total;
        if (n == OB_FAILED)
            return -1;
        if (out && (size_t)total + (size_t)n <= cap)
            memcpy(out + total, buf, (size_t)n);
        total += n;
    }
}

/* Starts a GET and waits for its head: the status, or 0 with *err. */
static int get_head(const char *url, ob_fields_t *h, int *err, ob_req_t **out,
                    uint64_t first_byte_ns, uint64_t between_ns, uint64_t deadline_ns)
{
    int rc;
    ob_req_t *r = start("GET", url, false, first_byte_ns, between_ns, deadline_ns, &rc);
    *out = r;
    if (rc) {
        *err = rc;
        return 0;
    }
    if (!wait_until(ob_head_ready, r)) {
        *err = -1;
        return 0;
    }
    char msg[256];
    return ob_head(r, h, err, msg, sizeof msg);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the cases ---- */

static void test_get(void)
{
    char url[256], v[64], body[64] = "";
    snprintf(url, sizeof url, "http://127.0.0.1:%s/hello", http_port);
    ob_fields_t h = {0};
    int err = 0;
    ob_req_t *r;
    int status = get_head(url, &h, &err, &r, 0, 0, 0);
    CHECK(status == 200, "GET /hello: status %d (error-code %d)", status, err);
    CHECK(header(&h, "x-upstream", v, sizeof v) && strcmp(v, "yes") == 0, "x-upstream header");
    long n = read_all(r, body, sizeof body - 1, &err, false);
    CHECK(n == 19 && memcmp(body, "hello from upstream", 19) == 0, "GET /hello: body (%ld)", n);
    ob_fields_t t = {0};
    char msg[256];
    CHECK(ob_done(r) && ob_trailers(r, &t, msg, sizeof msg) == 0 && t.n == 0, "no trailers");
    ob_fields_free(&h);
    ob_detach(r);
    ob_unref(r);
}

static void test_stream_trailers_backpressure(void)
{
    char url[256], v[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%s/stream?n=3&trailers=1", http_port);
    ob_fields_t h = {0}, t = {0};
    int err = 0;
    ob_req_t *r;
    int status = get_head(url, &h, &err, &r, 0, 0, 0);
    CHECK(status == 200, "GET /stream: status %d", status);
    CHECK(read_all(r, NULL, 0, &err, false) == 3072, "GET /stream: 3 KiB");
    char msg[256];
    CHECK(ob_trailers(r, &t, msg, sizeof msg) == 0 && header(&t, "x-checksum", v, sizeof v) &&
              strcmp(v, "3072") == 0,
          "trailer x-checksum: 3072 (%zu trailers)", t.n);
    ob_fields_free(&h);
    ob_fields_free(&t);
    ob_detach(r);
    ob_unref(r);

    /* 4 MiB read 100 bytes at a time: the download pauses and resumes. */
    snprintf(url, sizeof url, "http://127.0.0.1:%s/stream?n=4096", http_port);
    status = get_head(url, &h, &err, &r, 0, 0, 0);
    CHECK(status == 200, "GET 4 MiB: status %d", status);
    CHECK(read_all(r, NULL, 0, &err, true) == 4 << 20, "GET 4 MiB read slowly: every byte");
    ob_fields_free(&h);
    ob_detach(r);
    ob_unref(r);
}

static void test_redirect(void)
{
    char url[256], v[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%s/redirect", http_port);
    ob_fields_t h = {0};
    int err = 0;
    ob_req_t *r;
    int status = get_head(url, &h, &err, &r, 0, 0, 0);
    CHECK(status == 302, "redirect not followed: status %d", status);
    CHECK(header(&h, "location", v, sizeof v) && strcmp(v, "/hello") == 0, "location kept");
    ob_fields_free(&h);
    ob_detach(r);
    ob_unref(r);
}

static void test_post(void)
{
    /* A body streamed after the start (chunked), with trailers. */
    char url[256], v[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%s/echo", http_port);
    int rc;
    ob_req_t *r = start("POST", url, true, 0, 0, 0, &rc);
    CHECK(rc == 0, "POST started");
    static uint8_t chunk[10000];
    memset(chunk, 'p', sizeof chunk);
    size_t sent = 0, total = 300000;
    bool ok = true;
    while (ok && sent < total) {
        ok = wait_until(writable, r);
        int64_t room = ob_body_room(r);
        if (room <= 0) {
            ok = false;
            break;
        }
        size_t n = total - sent < (size_t)room ? total - sent : (size_t)room;
        if (n > sizeof chunk)
            n = sizeof chunk;
        ok = ob_body_write(r, chunk, n) == 0;
        sent += n;
    }
    CHECK(ok && sent == total, "POST: 300000 bytes written (%zu)", sent);
    ob_fields_t tr = {0};
    tr.names = calloc(1, sizeof *tr.names);
    tr.vals = calloc(1, sizeof *tr.vals);
    tr.vlens = calloc(1, sizeof *tr.vlens);
    tr.names[0] = strdup("x-sum");
    tr.vals[0] = (uint8_t *)strdup("300000");
    tr.vlens[0] = 6;
    tr.n = tr.cap = 1;
    ob_body_finish(r, &tr);
    ob_fields_free(&tr);
    CHECK(wait_until(ob_head_ready, r), "POST: head");
    ob_fields_t h = {0};
    int err = 0;
    char msg[256];
    int status = ob_head(r, &h, &err, msg, sizeof msg);
    CHECK(status == 200, "POST: status %d (%d %s)", status, err, msg);
    CHECK(header(&h, "x-got-length", v, sizeof v) && strcmp(v, "300000") == 0,
          "POST: upstream got 300000 bytes (%s)", header(&h, "x-got-length", v, sizeof v));
    CHECK(header(&h, "x-got-trailers", v, sizeof v) && strcmp(v, "x-sum=300000") == 0,
          "POST: the request trailer arrived (%s)", header(&h, "x-got-trailers", v, sizeof v));
    CHECK(read_all(r, NULL, 0, &err, false) == 300000, "POST: echoed");
    ob_fields_free(&h);
    ob_detach(r);
    ob_unref(r);

    /* A body complete before the start: sent with a Content-Length. */
    r = ob_new();
    ob_set_notify(r, notify, NULL);
    ob_body_write(r, (const uint8_t *)"abc", 3);
    ob_body_finish(r, NULL);
    ob_spec_t s = {.method = "PUT", .url = url, .has_body = true};
    rc = ob_start(r, &s, msg, sizeof msg);
    CHECK(rc == 0 && wait_until(ob_head_ready, r), "PUT: head");
    status = ob_head(r, &h, &err, msg, sizeof msg);
    CHECK(status == 200 && header(&h, "x-got-length", v, sizeof v) && strcmp(v, "3") == 0,
          "PUT: 3 bytes arrived");
    ob_fields_free(&h);
    ob_detach(r);
    ob_unref(r);
}

static void test_abandoned_body(void)
{
    char url[256], v[64], msg[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%s/echo", http_port);
    /* Bytes written, then the body dropped unfinished: the request fails. */
    int rc, err = 0;
    ob_req_t *r = start("POST", url, true, 0, 0, 0, &rc);
    ob_body_write(r, (const uint8_t *)"abc", 3);
    ob_body_abandon(r);
    ob_fields_t h = {0};
    CHECK(rc == 0 && wait_until(ob_head_ready, r), "abandoned body: an outcome");
    int status = ob_head(r, &h, &err, msg, sizeof msg);
    CHECK(status == 0 && err == OB_ERR_INTERNAL && strstr(msg, "dropped unfinished"),
          "abandoned body: the request fails (status %d, error-code %d, %s)", status, err, msg);
    ob_detach(r);
    ob_unref(r);
    /* Nothing written: an empty body. */
    r = start("POST", url, true, 0, 0, 0, &rc);
    ob_body_abandon(r);
    CHECK(rc == 0 && wait_until(ob_head_ready, r), "abandoned empty body: an outcome");
    status = ob_head(r, &h, &err, msg, sizeof msg);
    CHECK(status == 200 && header(&h, "x-got-length", v, sizeof v) && strcmp(v, "0") == 0,
          "abandoned empty body: sent empty (status %d)", status);
    ob_fields_free(&h);
    ob_detach(r);
    ob_unref(r);
}

static void expect_error(const char *what, const char *url, int want, uint64_t first_byte,
                         uint64_t between, uint64_t deadline, bool after_head)
{
    ob_fields_t h = {0};
    int err = 0;
    ob_req_t *r;
    int status = get_head(url, &h, &err, &r, first_byte, between, deadline);
    if (after_head) {
        CHECK(status == 200, "%s: head first (status %d)", what, status);
        long n = read_all(r, NULL, 0, &err, false);
        CHECK(n == -1 && err == want, "%s: body fails with error-code %d (got %ld, %d)", what,
              want, n, err);
    } else {
        CHECK(status == 0 && err == want, "%s: error-code %d (got status %d, error-code %d)",
              what, want, status, err);
    }
    ob_fields_free(&h);
    ob_detach(r);
    ob_unref(r);
}

static void test_errors(void)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%s/", closed_port);
    expect_error("connection refused", url, OB_ERR_CONNECTION_REFUSED, 0, 0, 0, false);
    expect_error("DNS", "http://nowhere.invalid/", OB_ERR_DNS_ERROR, 0, 0, 0, false);
    snprintf(url, sizeof url, "http://127.0.0.1:%s/reset", http_port);
    ob_fields_t h = {0};
    int err = 0;
    ob_req_t *r;
    int status = get_head(url, &h, &err, &r, 0, 0, 0);
    CHECK(status == 0 && (err == OB_ERR_CONNECTION_TERMINATED ||
                          err == OB_ERR_HTTP_RESPONSE_INCOMPLETE),
          "reset: connection-terminated (got %d, %d)", status, err);
    ob_detach(r);
    ob_unref(r);
    snprintf(url, sizeof url, "http://127.0.0.1:%s/slow?ms=5000", http_port);
    expect_error("first-byte timeout", url, OB_ERR_CONNECTION_READ_TIMEOUT, 200000000, 0, 0,
                 false);
    snprintf(url, sizeof url, "http://127.0.0.1:%s/stall", http_port);
    expect_error("between-bytes timeout", url, OB_ERR_CONNECTION_READ_TIMEOUT, 0, 200000000, 0,
                 true);
    snprintf(url, sizeof url, "http://127.0.0.1:%s/hang", http_port);
    expect_error("deadline", url, OB_ERR_HTTP_RESPONSE_TIMEOUT, 0, 0, now_ns() + 300000000,
                 false);
    snprintf(url, sizeof url, "http://127.0.0.1:%s/bigheaders", http_port);
    expect_error("300 KiB of response headers", url, OB_ERR_HTTP_RESPONSE_HEADER_SECTION_SIZE, 0,
                 0, 0, false);
    expect_error("scheme refused", "ftp://127.0.0.1/", OB_ERR_HTTP_REQUEST_URI_INVALID, 0, 0, 0,
                 false);
}

static void test_tls(void)
{
    char url[256];
    snprintf(url, sizeof url, "https://localhost:%s/hello", https_port);
    expect_error("TLS, unknown CA", url, OB_ERR_TLS_CERTIFICATE, 0, 0, 0, false);
    char why[256];
    CHECK(ob_client_set_extra_ca(ca_file, why, sizeof why), "extra CA: %s", why);
    CHECK(!ob_client_set_extra_ca("/nonexistent/ca.pem", why, sizeof why) &&
              strstr(why, "/nonexistent/ca.pem"),
          "a missing CA file is refused, named");
    ob_fields_t h = {0};
    int err = 0;
    ob_req_t *r;
    int status = get_head(url, &h, &err, &r, 0, 0, 0);
    CHECK(status == 200, "TLS with the extra CA: status %d (error-code %d)", status, err);
    CHECK(read_all(r, NULL, 0, &err, false) == 19, "TLS body");
    ob_fields_free(&h);
    ob_detach(r);
    ob_unref(r);
}

static void test_policy(void)
{
    ob_policy_t *p = ob_policy_new();
    char why[256];
    CHECK(ob_policy_empty(p), "a new policy is empty");
    CHECK(ob_policy_add(p, "https://*.example.com", why, sizeof why), "%s", why);
    CHECK(ob_policy_add(p, "http://127.0.0.1:*", why, sizeof why), "%s", why);
    CHECK(ob_policy_add(p, "*://api.test:8080", why, sizeof why), "%s", why);
    CHECK(ob_policy_allows(p, "https", "a.b.example.com", 443), "suffix wildcard");
    CHECK(ob_policy_allows(p, "https", "A.Example.COM", 443), "case-insensitive");
    CHECK(!ob_policy_allows(p, "https", "example.com", 443), "suffix wildcard: not the bare name");
    CHECK(!ob_policy_allows(p, "https", "a.example.com", 8443), "default port only");
    CHECK(!ob_policy_allows(p, "http", "a.example.com", 443), "scheme");
    CHECK(!ob_policy_allows(p, "https", "badexample.com", 443), "suffix on a label boundary");
    CHECK(ob_policy_allows(p, "http", "127.0.0.1", 1), "port wildcard");
    CHECK(ob_policy_allows(p, "https", "api.test", 8080) && ob_policy_allows(p, "http", "api.test", 8080),
          "scheme wildcard");
    CHECK(!ob_policy_allows_self(p), "no self");
    CHECK(ob_policy_add(p, "self", why, sizeof why) && ob_policy_allows_self(p), "self");
    static const char *const bad[] = {"example.com", "ftp://x", "http://a*b.com",
                                      "http://x:99999", "http://x:abc", "*://x",
                                      "http://{{ host }}", "http://x/path", "redis://x:0",
                                      "tcp://x:1", NULL};
    for (int i = 0; bad[i]; i++)
        CHECK(!ob_policy_add(p, bad[i], why, sizeof why) && strstr(why, bad[i]),
              "bad rule '%s' refused, named", bad[i]);
    ob_policy_free(p);
}

/* Spin's Redis, MQTT and database schemes: their default ports, and -S
 * allow-http's policy, whose `*` scheme reaches them only by name. */
static void test_policy_spin_schemes(void)
{
    ob_policy_t *p = ob_policy_new();
    char why[256];
    static const char *const rules[] = {"redis://cache.test", "MQTT://broker.test",
                                        "postgres://*.db.test", "mysql://[::1]",
                                        "*://api.test:8080", NULL};
    for (int i = 0; rules[i]; i++)
        CHECK(ob_policy_add(p, rules[i], why, sizeof why), "%s", why);
    CHECK(ob_policy_allows(p, "redis", "cache.test", 6379), "redis: default port 6379");
    CHECK(!ob_policy_allows(p, "redis", "cache.test", 6380), "redis: that port only");
    CHECK(!ob_policy_allows(p, "http", "cache.test", 6379), "redis rule is not http");
    CHECK(ob_policy_allows(p, "mqtt", "broker.test", 1883), "mqtt: default port 1883");
    CHECK(ob_policy_allows(p, "postgres", "a.db.test", 5432), "postgres: 5432, suffix wildcard");
    CHECK(!ob_policy_allows(p, "mysql", "a.db.test", 5432), "postgres rule is not mysql");
    CHECK(ob_policy_allows(p, "mysql", "[::1]", 3306), "mysql: 3306, IPv6 address");
    CHECK(ob_policy_allows(p, "redis", "api.test", 8080) &&
              ob_policy_allows(p, "postgres", "api.test", 8080),
          "a manifest's * scheme covers every scheme");
    ob_policy_free(p);

    p = ob_policy_new();
    ob_policy_set_wildcard_http_only(p);
    CHECK(ob_policy_add(p, "*://api.test:*", why, sizeof why), "%s", why);
    CHECK(ob_policy_add(p, "redis://cache.test:7000", why, sizeof why), "%s", why);
    CHECK(ob_policy_allows(p, "http", "api.test", 1) && ob_policy_allows(p, "https", "api.test", 2),
          "allow-http: * scheme covers http and https");
    CHECK(!ob_policy_allows(p, "redis", "api.test", 6379) &&
              !ob_policy_allows(p, "mysql", "api.test", 3306),
          "allow-http: * scheme does not cover Redis or databases");
    CHECK(ob_policy_allows(p, "redis", "cache.test", 7000), "allow-http: a named redis rule");
    ob_policy_free(p);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: test_outbound HTTP_PORT HTTPS_PORT CLOSED_PORT CA_FILE\n");
        return 2;
    }
    http_port = argv[1];
    https_port = argv[2];
    closed_port = argv[3];
    ca_file = argv[4];
    test_policy();
    test_policy_spin_schemes();
    test_get();
    test_stream_trailers_backpressure();
    test_redirect();
    test_post();
    test_abandoned_body();
    test_errors();
    test_tls();
    ob_client_shutdown();
    printf("test_outbound: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
