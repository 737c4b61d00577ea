/* Outbound HTTP for wasi:http/outgoing-handler: an HTTP client on libcurl's
 * multi interface (outbound.c) and the allow-list that decides which
 * requests may leave (outbound_policy.c). Neither knows about whirl serve:
 * the wasi:http host (wasihttp_out.c) drives them.
 *
 * Threads: one process-wide I/O thread owns the curl multi handle and runs
 * every transfer (an event loop over curl's sockets and timers, woken by
 * curl_multi_wakeup). A guest talks to its request only through the
 * non-blocking calls below, under the request's lock, and waits in its own
 * poll, which the I/O thread wakes through the request's notify hook. So a
 * guest never blocks a thread inside curl, and a resumable-call host can
 * later suspend the guest on the same hook instead of parking a thread. */
#ifndef WHIRL_SERVE_OUTBOUND_H
#define WHIRL_SERVE_OUTBOUND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* wasi:http/types error-code cases the client reports (variant indexes). */
enum {
    OB_ERR_DNS_ERROR = 1,
    OB_ERR_DESTINATION_UNAVAILABLE = 3,
    OB_ERR_CONNECTION_REFUSED = 6,
    OB_ERR_CONNECTION_TERMINATED = 7,
    OB_ERR_CONNECTION_TIMEOUT = 8,
    OB_ERR_CONNECTION_READ_TIMEOUT = 9,
    OB_ERR_CONNECTION_WRITE_TIMEOUT = 10,
    OB_ERR_TLS_PROTOCOL = 12,
    OB_ERR_TLS_CERTIFICATE = 13,
    OB_ERR_HTTP_REQUEST_DENIED = 15,
    OB_ERR_HTTP_REQUEST_URI_INVALID = 19,
    OB_ERR_HTTP_RESPONSE_INCOMPLETE = 25,
    OB_ERR_HTTP_RESPONSE_HEADER_SECTION_SIZE = 26, /* (option<u32>) */
    OB_ERR_HTTP_RESPONSE_TIMEOUT = 33,
    OB_ERR_HTTP_PROTOCOL = 35,
    OB_ERR_INTERNAL = 38, /* internal-error(option<string>): the message is the payload */
};

/* Stream results besides byte counts (as whirl/wasi2.h's). */
#define OB_CLOSED (-1)
#define OB_FAILED (-2)

typedef struct ob_req ob_req_t;

/* A header or trailer list as the client hands it over: names lower case. */
typedef struct ob_fields {
    size_t n, cap;
    char **names;
    uint8_t **vals;
    size_t *vlens;
} ob_fields_t;

void ob_fields_free(ob_fields_t *f);

/* ---- the client (process-wide) ---- */

/* An extra CA file (PEM) trusted besides the system store: for tests and
 * private upstreams. Checked now (readable, holding a certificate); the
 * setting holds for requests started afterwards. NULL: none. */
bool ob_client_set_extra_ca(const char *path, char *why, size_t whylen);
/* That file's path (the caller frees it), for other TLS clients (Spin's
 * mqtts://); NULL: none. */
char *ob_client_extra_ca(void);
/* Stops the I/O thread (cancelling what is in flight) and frees the client;
 * the next request starts it again. */
void ob_client_shutdown(void);

/* ---- one request ---- */

/* A request not yet started; its body may be written before it starts.
 * The caller holds one reference (ob_unref). */
ob_req_t *ob_new(void);
void ob_ref(ob_req_t *r);
void ob_unref(ob_req_t *r);

/* Called on the I/O thread (with the request's lock held: it must only
 * wake) whenever the response, its body or the room for the request body
 * changes. ob_detach clears it; after it returns the hook is never called
 * again, and the transfer is cancelled. */
void ob_set_notify(ob_req_t *r, void (*notify)(void *env), void *env);
void ob_detach(ob_req_t *r);
/* Gives the transfer up. */
void ob_cancel(ob_req_t *r);
/* Counts the guest's handles that can see the request (request, body,
 * future, response, streams, pollables): when the last goes, the transfer
 * is cancelled. Guest thread. */
void ob_use(ob_req_t *r);
void ob_unuse(ob_req_t *r);
bool ob_in_use(ob_req_t *r);

typedef struct ob_spec {
    const char *method;
    const char *url;             /* absolute http(s) URL */
    const ob_fields_t *headers;  /* as the guest set them */
    bool has_body;               /* the guest took the body: stream it */
    uint64_t connect_timeout_ns; /* 0: none */
    uint64_t first_byte_timeout_ns;
    uint64_t between_bytes_timeout_ns;
    uint64_t deadline_ns;        /* monotonic; 0: none. The transfer ends a second after
                                  * it (the guest's own deadline trap comes first) */
    /* Non-NULL: the transfer connects to this abstract unix socket (Linux;
     * the name without its leading NUL) rather than to the URL's host, and
     * no other transfer shares the connection. */
    const char *abstract_unix;
} ob_spec_t;

/* Hands the request to the I/O thread. 0, or an error-code case (with a
 * message in `why`) if it cannot even start. */
int ob_start(ob_req_t *r, const ob_spec_t *spec, char *why, size_t whylen);

/* Request body, guest side. room: bytes write takes now (0: none yet),
 * OB_CLOSED (finished, or the server stopped reading: the response tells
 * more) or OB_FAILED. */
int64_t ob_body_room(ob_req_t *r);
int64_t ob_body_write(ob_req_t *r, const uint8_t *buf, size_t len);
/* The body is complete; `trailers` (may be NULL) are taken and sent after a
 * chunked body. */
void ob_body_finish(ob_req_t *r, ob_fields_t *trailers);
bool ob_body_ready(ob_req_t *r);
/* The guest dropped the body without finishing it: with nothing written,
 * an empty body; otherwise the request fails (internal-error naming it). */
void ob_body_abandon(ob_req_t *r);

/* The response head: false until it arrived or the request failed. */
bool ob_head_ready(ob_req_t *r);
/* After ob_head_ready: the status (0 if failed: then *err is the
 * error-code case and `msg` its text) and the headers (moved to *headers). */
int ob_head(ob_req_t *r, ob_fields_t *headers, int *err, char *msg, size_t msglen);

/* Response body: bytes read, 0 if none yet, OB_CLOSED at the end, OB_FAILED
 * (then *err / msg as ob_head's). */
int64_t ob_read(ob_req_t *r, uint8_t *buf, size_t len, int *err, char *msg, size_t msglen);
bool ob_readable(ob_req_t *r);
/* True once the transfer is over (the trailers are known). */
bool ob_done(ob_req_t *r);
/* After ob_done: 0 with the trailers moved to *trailers (n == 0: none), or
 * the error-code case. */
int ob_trailers(ob_req_t *r, ob_fields_t *trailers, char *msg, size_t msglen);

/* ---- the allow-list (outbound_policy.c) ---- */

typedef struct ob_policy ob_policy_t;

ob_policy_t *ob_policy_new(void);
void ob_policy_free(ob_policy_t *p);
/* Adds one rule in Spin's allowed_outbound_hosts syntax:
 *   SCHEME://HOST[:PORT]   SCHEME: http, https, redis, mqtt, mqtts,
 *                          postgres, mysql or *; HOST: a name, an IP
 *                          address ([v6] in brackets), * (any), *.SUFFIX
 *                          (any name ending in .SUFFIX); PORT: a number
 *                          or *; absent: the scheme's default port (80,
 *                          443, 6379, 1883, 8883, 5432, 3306; with scheme *
 *                          it must be given).
 *   self, http://self, https://self   the app's own routes.
 * False with the reason in `why` for a rule it cannot read. */
bool ob_policy_add(ob_policy_t *p, const char *rule, char *why, size_t whylen);
/* A `*` scheme then stands for http and https only: -S allow-http's rules
 * reach Spin's Redis, MQTT and database connections only by naming their
 * scheme. */
void ob_policy_set_wildcard_http_only(ob_policy_t *p);
/* Whether scheme://host:port may be reached (`scheme` lower case). */
bool ob_policy_allows(const ob_policy_t *p, const char *scheme, const char *host,
                      unsigned port);
bool ob_policy_allows_self(const ob_policy_t *p);
bool ob_policy_empty(const ob_policy_t *p);

#endif
