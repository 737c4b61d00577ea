/* Outbound MQTT for Spin apps: fermyon:spin/mqtt@2.0.0 through libmosquitto.
 * open connects (mqtt://HOST[:PORT][?client_id=ID], or mqtts:// over TLS
 * verified against the system CA store; user name and password when given) only where the component's allowed_outbound_hosts lets it
 * (else connection-failed "address ... is not permitted", as Spin answers);
 * publish returns once the broker has the message (PUBACK/PUBCOMP for QoS
 * 1/2, written to the socket for 0). Every wait is on the client's socket
 * through spin_wait_fd, until the request's deadline (the request suspends
 * meanwhile, its worker serves others), then mosquitto's read, write and
 * keep-alive steps run; connections close with the request. Host names
 * are looked up off the worker (spin_resolve), until the deadline; mqtts
 * still lets mosquitto_connect_async look the name up again on the
 * worker's thread, for its certificate check. */
#define _GNU_SOURCE
#include <mosquitto.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/outbound.h"
#include "serve/spin_host.h"

#define errorf whirl_error_newf

#define IFACE "fermyon:spin/mqtt@2.0.0"

enum {
    M_INVALID_ADDRESS = 0, M_TOO_MANY = 1, M_CONNECTION_FAILED = 2, M_OTHER = 3,
    NO_DEADLINE_MS = 60 * 1000,
};

typedef struct mq_conn {
    struct mosquitto *m;
    spin_req_t *req; /* the request it belongs to (waits suspend it) */
    uint64_t deadline_ns;
    bool connect_done;
    int connect_rc;
    int done_mid;       /* the last message the broker acknowledged */
} mq_conn_t;

static void on_connect(struct mosquitto *m, void *obj, int rc)
{
    (void)m;
    mq_conn_t *c = obj;
    c->connect_done = true;
    c->connect_rc = rc;
}

static void on_publish(struct mosquitto *m, void *obj, int mid)
{
    (void)m;
    ((mq_conn_t *)obj)->done_mid = mid;
}

static void conn_close(void *obj)
{
    mq_conn_t *c = obj;
    if (c->m) {
        mosquitto_disconnect(c->m);
        mosquitto_destroy(c->m);
    }
    free(c);
}

/* Runs the network loop until done(c, arg) or the deadline: waits for the
 * socket (readable, or writable while mosquitto has bytes to send), then
 * lets mosquitto read, write and keep the connection alive. */
static bool wait_until(mq_conn_t *c, bool (*done)(mq_conn_t *, int), int arg, char *why,
                       size_t whylen)
{
    uint64_t start = whirl_monotonic_now();
    uint64_t end = c->deadline_ns != UINT64_MAX ? c->deadline_ns
                                                 : start + (uint64_t)NO_DEADLINE_MS * 1000000u;
    while (!done(c, arg)) {
        short ev = POLLIN | (mosquitto_want_write(c->m) ? POLLOUT : 0);
        int rev = spin_wait_fd(c->req, mosquitto_socket(c->m), ev, end);
        if (rev == 0 || (rev < 0 && c->req && c->req->cut)) {
            snprintf(why, whylen, "mqtt: the request's deadline passed");
            return false;
        }
        if (rev < 0) {
            snprintf(why, whylen, "mqtt: %s", mosquitto_strerror(MOSQ_ERR_NO_CONN));
            return false;
        }
        int rc = MOSQ_ERR_SUCCESS;
        if (rev & (POLLIN | POLLERR | POLLHUP | POLLNVAL))
            rc = mosquitto_loop_read(c->m, 1);
        if (rc == MOSQ_ERR_SUCCESS && (rev & POLLOUT) && mosquitto_want_write(c->m))
            rc = mosquitto_loop_write(c->m, 1);
        if (rc == MOSQ_ERR_SUCCESS)
            rc = mosquitto_loop_misc(c->m);
        if (rc != MOSQ_ERR_SUCCESS) {
            snprintf(why, whylen, "mqtt: %s", mosquitto_strerror(rc));
            return false;
        }
    }
    return true;
}

static bool connected(mq_conn_t *c, int arg)
{
    (void)arg;
    return c->connect_done;
}

static bool published(mq_conn_t *c, int mid)
{
    return c->done_mid == mid;
}

/* mqtt://HOST[:PORT][?client_id=ID], or mqtts:// (TLS, port 8883) */
static bool parse_address(const char *a, char *host, size_t hostlen, int *port, char *id,
                          size_t idlen, bool *tls)
{
    *tls = strncmp(a, "mqtts://", 8) == 0;
    if (!*tls && strncmp(a, "mqtt://", 7) != 0)
        return false;
    a += *tls ? 8 : 7;
    size_t hl = strcspn(a, ":/?");
    if (hl == 0 || hl >= hostlen)
        return false;
    snprintf(host, hostlen, "%.*s", (int)hl, a);
    a += hl;
    *port = *tls ? 8883 : 1883;
    if (*a == ':') {
        size_t d = strspn(a + 1, "0123456789");
        if (d == 0 || d > 5)
            return false;
        *port = atoi(a + 1);
        a += 1 + d;
    }
    if (*a == '/')
        a++;
    id[0] = '\0';
    if (*a == '?') {
        const char *p = strstr(a, "client_id=");
        if (p) {
            p += 10;
            snprintf(id, idlen, "%.*s", (int)strcspn(p, "&"), p);
        }
    } else if (*a) {
        return false;
    }
    return *port > 0 && *port <= 65535;
}

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static void lib_init(void)
{
    mosquitto_lib_init();
}

static whirl_resource_type_t *g_conn_type;

/* mqtts: the system CA store, and -S http-ca's file when given; the
 * broker's certificate must name the host (libmosquitto checks it unless
 * told to be insecure, which whirl never does). */
static int tls_setup(struct mosquitto *m)
{
    int rc = mosquitto_int_option(m, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
    char *extra = ob_client_extra_ca();
    if (rc == MOSQ_ERR_SUCCESS)
        rc = extra ? mosquitto_tls_set(m, extra, NULL, NULL, NULL, NULL)
                   : mosquitto_tls_set(m, NULL, "/etc/ssl/certs", NULL, NULL, NULL);
    free(extra);
    return rc;
}

static whirl_error_t *m_open(spin_req_t *r, const whirl_cval_t *args, size_t nargs,
                             whirl_cval_t *res)
{
    const char *addr = spin_arg_string(args, nargs, 0);
    const char *user = spin_arg_string(args, nargs, 1);
    const char *pass = spin_arg_string(args, nargs, 2);
    if (nargs < 4 || args[3].kind != WHIRL_CVAL_U64 || !user || !pass)
        return errorf(IFACE ".open: bad arguments");
    uint64_t keep_alive = args[3].of.u;
    char host[256], id[128], why[300];
    int port;
    bool tls = false;
    if (!addr || !parse_address(addr, host, sizeof host, &port, id, sizeof id, &tls))
        return spin_result_err(res, M_INVALID_ADDRESS, NULL);
    if (!spin_outbound_allowed(r->in, tls ? "mqtts" : "mqtt", host, port)) {
        snprintf(why, sizeof why, "address %s is not permitted", addr);
        serve_log("component '%s': outbound MQTT to %s:%d denied: allowed_outbound_hosts does "
                  "not list it",
                  r->in->comp->id, host, port);
        return spin_result_err(res, M_CONNECTION_FAILED, why);
    }
    /* The name is looked up off the worker (spin_resolve), so a silent DNS
     * server ends at the deadline; plain MQTT is given the first address.
     * mqtts keeps the name: libmosquitto checks the certificate against
     * the host it connects to (its own lookup then runs on the worker). */
    spin_addrs_t addrs;
    if (spin_resolve(r, host, r->in->deadline_ns, &addrs, why, sizeof why) != 0)
        return spin_result_err(res, M_CONNECTION_FAILED, why);
    const char *to = tls ? host : addrs.addr[0];
    pthread_once(&lib_once, lib_init);
    mq_conn_t *c = calloc(1, sizeof *c);
    if (!c || !(c->m = mosquitto_new(*id ? id : NULL, true, c))) {
        free(c);
        return spin_result_err(res, M_OTHER, "out of memory");
    }
    c->req = r;
    c->deadline_ns = r->in->deadline_ns;
    mosquitto_connect_callback_set(c->m, on_connect);
    mosquitto_publish_callback_set(c->m, on_publish);
    if (*user)
        mosquitto_username_pw_set(c->m, user, pass);
    int ka = keep_alive < 5 ? 5 : keep_alive > 65535 ? 65535 : (int)keep_alive;
    int rc = tls ? tls_setup(c->m) : MOSQ_ERR_SUCCESS;
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_connect_async(c->m, to, port, ka);
    bool ok = rc == MOSQ_ERR_SUCCESS;
    if (!ok)
        snprintf(why, sizeof why, "mqtt: cannot connect to %.100s:%d: %s", host, port,
                 mosquitto_strerror(rc));
    if (ok && (ok = wait_until(c, connected, 0, why, sizeof why)) && c->connect_rc != 0) {
        snprintf(why, sizeof why, "mqtt: the broker refused the connection: %s",
                 mosquitto_connack_string(c->connect_rc));
        ok = false;
    }
    if (!ok) {
        conn_close(c);
        return spin_result_err(res, M_CONNECTION_FAILED, why);
    }
    uint32_t rep = 0;
    whirl_error_t *e = spin_handle_add(r, SPIN_H_MQTT, c, conn_close, &rep);
    if (e) {
        whirl_error_delete(e);
        return spin_result_err(res, M_TOO_MANY, NULL);
    }
    whirl_cval_t *p = NULL;
    if ((e = spin_result_ok(res, true, &p)))
        return e;
    p->kind = WHIRL_CVAL_OWN;
    p->of.resource.type = g_conn_type;
    p->of.resource.rep = rep;
    return NULL;
}

/* publish(topic, payload, qos) -> result<_, error> */
static whirl_error_t *m_publish(spin_req_t *r, const whirl_cval_t *args, size_t nargs,
                                whirl_cval_t *res)
{
    mq_conn_t *c = NULL;
    if (nargs == 4 && (args[0].kind == WHIRL_CVAL_BORROW || args[0].kind == WHIRL_CVAL_OWN))
        c = spin_handle_get(r, args[0].of.resource.rep, SPIN_H_MQTT);
    if (!c)
        return errorf(IFACE ".publish: invalid connection handle");
    const char *topic = spin_arg_string(args, nargs, 1);
    if (!topic || args[2].kind != WHIRL_CVAL_BYTES || args[3].kind != WHIRL_CVAL_ENUM ||
        args[3].of.variant.index > 2)
        return spin_result_err(res, M_OTHER, "invalid topic or payload");
    if (args[2].of.string.len > 256u << 20)
        return spin_result_err(res, M_OTHER, "payload too large");
    int qos = (int)args[3].of.variant.index, mid = 0;
    char why[300];
    int rc = mosquitto_publish(c->m, &mid, topic, (int)args[2].of.string.len,
                               args[2].of.string.data, qos, false);
    if (rc != MOSQ_ERR_SUCCESS) {
        snprintf(why, sizeof why, "mqtt: %s", mosquitto_strerror(rc));
        return spin_result_err(res, M_OTHER, why);
    }
    /* QoS 0 is "published" once written; libmosquitto reports it too. */
    if (!wait_until(c, published, mid, why, sizeof why))
        return spin_result_err(res, M_OTHER, why);
    return spin_result_ok(res, false, NULL);
}

static whirl_error_t *m_call(void *env, whirl_store_t *store,
                             const whirl_component_func_t *type, const whirl_cval_t *args,
                             size_t nargs, whirl_cval_t *results, size_t nresults)
{
    (void)type;
    spin_req_t *r = spin_req_of(store);
    if (!r)
        return errorf(IFACE ": the calling store serves no request");
    if (nresults != 1)
        return errorf(IFACE ": wrong result count");
    whirl_error_t *e = env ? m_publish(r, args, nargs, results) : m_open(r, args, nargs, results);
    return spin_check_deadline(r, e, results, nresults, "mqtt");
}

static whirl_error_t *conn_dtor(void *env, whirl_store_t *store, uint32_t rep)
{
    (void)env;
    spin_req_t *r = spin_req_of(store);
    if (r)
        spin_handle_close(r, rep, SPIN_H_MQTT);
    return NULL;
}

whirl_error_t *spin_mqtt_link(whirl_component_linker_t *l)
{
    if (!g_conn_type &&
        !(g_conn_type = whirl_resource_type_new("connection", conn_dtor, NULL, NULL)))
        return errorf("out of memory");
    /* spin:mqtt@3.0.0: the same functions, async (spin_async.c). */
    static const char *const ifaces[] = {IFACE, "spin:mqtt/mqtt@3.0.0"};
    whirl_error_t *e = NULL;
    for (size_t v = 0; !e && v < 2; v++) {
        e = whirl_component_linker_define_resource(l, ifaces[v], "connection", g_conn_type);
        if (!e)
            e = spin_define_async(l, ifaces[v], "[static]connection.open", m_call, NULL,
                                  SPIN_ASYNC_SAME);
        if (!e)
            e = spin_define_async(l, ifaces[v], "[method]connection.publish", m_call,
                                  (void *)1, SPIN_ASYNC_SAME);
    }
    return e;
}
