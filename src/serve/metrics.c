/* The counters of `whirl serve`, at /.well-known/whirl/metrics in the
 * Prometheus text exposition format (version 0.0.4: `# HELP` and `# TYPE`
 * lines, names with the whirl_ prefix) and as the --metrics-log line. */
#define _GNU_SOURCE
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/internal.h"

enum { METRICS_BYTES = 8192 };

typedef struct metric {
    const char *name; /* without the whirl_ prefix */
    bool counter;     /* else a gauge */
    const char *help;
    uint64_t value;
} metric_t;

enum { NMETRICS = 19 };

static void collect_metrics(serve_server_t *srv, metric_t *m)
{
    unsigned queued = 0, maxq = 0, busy = 0, workers = 0, suspended = 0;
    uint64_t resumes = 0;
    serve_pool_figures(srv->pool, &queued, &maxq, &busy, &workers, &suspended, &resumes);
    pthread_mutex_lock(&srv->mu);
    serve_counters_t c = srv->counters;
    unsigned inflight = srv->inflight;
    pthread_mutex_unlock(&srv->mu);
    whirl_pool_stats_t ps;
    whirl_engine_pool_stats(srv->engine, &ps);
    const metric_t all[NMETRICS] = {
        {"requests_total", true, "Requests whose head was read.", c.requests},
        {"requests_completed_total", true, "Requests finished (answered or client gone).",
         c.completed},
        {"requests_in_flight", false, "Requests with a worker or waiting for one.", inflight},
        {"queue_length", false, "Requests waiting for a worker.", queued},
        {"queue_capacity", false, "Requests that may wait for a worker (--max-queue).", maxq},
        {"workers_busy", false, "Workers running a guest.", busy},
        {"workers_total", false, "Worker threads (--workers).", workers},
        {"requests_suspended", false, "Requests whose guest waits (outbound HTTP, a WASI "
         "poll or sleep) without a worker.", suspended},
        {"guest_resumes_total", true, "Times a worker resumed a suspended request's guest "
         "(its wait ended).", resumes},
        {"rejected_busy_total", true, "Requests answered 503: queue full, waited too long, "
         "pool slots in use or shutting down.", c.rejected_busy},
        {"rejected_limits_total", true, "Requests answered 413 (--max-body).",
         c.rejected_limits},
        {"rejected_malformed_total", true, "Requests refused 400/501 for their head "
         "(ambiguous framing, invalid syntax).", c.rejected_malformed},
        {"guest_timeouts_total", true, "Guests ended at their deadline (504).", c.timeouts},
        {"guest_traps_total", true, "Guests that trapped (500).", c.traps},
        {"guest_errors_total", true, "Other guest failures (500).", c.errors},
        {"pooling", false, "1 if the pooling allocator is on.", ps.pooling ? 1 : 0},
        {"pool_instances_in_use", false, "Pool instance slots in use.", ps.instances_in_use},
        {"pool_instances_total", false, "Pool instance slots.", ps.instances_total},
        {"pool_memories_in_use", false, "Pool linear-memory slots in use.",
         ps.memories_in_use},
    };
    memcpy(m, all, sizeof all);
}

/* The Prometheus text exposition format (version 0.0.4). */
static int format_metrics(serve_server_t *srv, char *buf, size_t len)
{
    metric_t m[NMETRICS];
    collect_metrics(srv, m);
    size_t used = 0;
    for (size_t i = 0; i < NMETRICS && used < len; i++) {
        int w = snprintf(buf + used, len - used,
                         "# HELP whirl_%s %s\n# TYPE whirl_%s %s\nwhirl_%s %llu\n", m[i].name,
                         m[i].help, m[i].name, m[i].counter ? "counter" : "gauge", m[i].name,
                         (unsigned long long)m[i].value);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return (int)(used < len ? used : len - 1);
}

void serve_http_log_metrics(serve_server_t *srv)
{
    metric_t m[NMETRICS];
    collect_metrics(srv, m);
    char buf[1024];
    size_t used = 0;
    for (size_t i = 0; i < NMETRICS && used < sizeof buf; i++) {
        int w = snprintf(buf + used, sizeof buf - used, "%s%s %llu", i ? " " : "", m[i].name,
                         (unsigned long long)m[i].value);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    serve_log("metrics: %s", buf);
}

bool serve_metrics_answer(serve_req_t *r, struct MHD_Connection *conn)
{
    char *buf = malloc(METRICS_BYTES);
    if (!buf)
        return false;
    int n = format_metrics(r->srv, buf, METRICS_BYTES);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer((size_t)(n > 0 ? n : 0), buf, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(buf);
        return false;
    }
    MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    enum MHD_Result ok = MHD_queue_response(conn, 200, resp);
    MHD_destroy_response(resp);
    r->queued = true;
    r->status = 200;
    r->bytes_out = (uint64_t)(n > 0 ? n : 0);
    return ok == MHD_YES;
}
