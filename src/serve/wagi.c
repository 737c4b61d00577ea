/* The WAGI executor: a WASI preview 1 command answers one request as a CGI
 * script would (RFC 3875, with WAGI's additions). The request becomes
 * environment variables (REQUEST_METHOD, PATH_INFO, QUERY_STRING,
 * HTTP_*, ...) and the body its stdin, streamed; its stdout is the
 * response: header lines (Status, Location, Content-Type, anything else),
 * a blank line, then the body, streamed out. Its stderr goes to the log,
 * a line at a time, prefixed with the component's name.
 *
 * A request body sent chunked has no CONTENT_LENGTH: the program reads
 * stdin to its end instead of buffering the whole body first. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "serve/app.h"

enum {
    CGI_HEAD_MAX = 64 * 1024,    /* bytes of CGI header block */
    CGI_HEADERS_MAX = 100,       /* header lines */
    STDERR_LINE_MAX = 1024,      /* longer lines are split */
    STDERR_MAX = 64 * 1024,      /* stderr bytes logged per request */
};

typedef struct wagi {
    serve_inst_t *in;
    sbuf_t head;          /* stdout until the blank line */
    bool in_body;
    bool bad;             /* malformed header block: the answer is 500 */
    char why[160];
    char err_line[STDERR_LINE_MAX + 1];
    size_t err_len;
    size_t err_total;
    bool interrupted;     /* a read or write gave up at the deadline (or shutdown) */
} wagi_t;

/* ---- stdin and stderr ---- */

static int64_t wagi_stdin(void *env, void *buf, size_t len)
{
    wagi_t *w = env;
    int64_t r = serve_req_read(w->in->req, buf, len, w->in->deadline_ns, w->in->store);
    if (r == -EINTR)
        w->interrupted = true;
    return r;
}

static void flush_err_line(wagi_t *w)
{
    if (!w->err_len)
        return;
    w->err_line[w->err_len] = '\0';
    serve_log("[%s] %s", w->in->comp->id, w->err_line);
    w->err_len = 0;
}

static int64_t wagi_stderr(void *env, void *buf, size_t len)
{
    wagi_t *w = env;
    const char *p = buf;
    for (size_t i = 0; i < len && w->err_total < STDERR_MAX; i++, w->err_total++) {
        if (p[i] == '\n' || w->err_len == STDERR_LINE_MAX) {
            flush_err_line(w);
            if (p[i] == '\n')
                continue;
        }
        w->err_line[w->err_len++] = p[i];
    }
    if (w->err_total >= STDERR_MAX && w->err_len) {
        flush_err_line(w);
        serve_log("[%s] (stderr past %d bytes is dropped)", w->in->comp->id, STDERR_MAX);
        w->err_total++;
    }
    return (int64_t)len; /* a chatty guest never blocks on its log */
}

/* ---- stdout: the CGI response ---- */

/* Parses the header block [p, p+n) (lines without the blank one) and
 * starts the response. False with w->why on a malformed block. */
static bool start_response(wagi_t *w, char *p, size_t n)
{
    serve_header_t hdrs[CGI_HEADERS_MAX];
    size_t nh = 0;
    int status = 0;
    bool location = false;
    char *end = p + n;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *line_end = nl ? nl : end;
        char *next = nl ? nl + 1 : end;
        if (line_end > p && line_end[-1] == '\r')
            line_end--;
        *line_end = '\0';
        if (!*p) {
            p = next;
            continue;
        }
        char *colon = strchr(p, ':');
        if (!colon || colon == p) {
            snprintf(w->why, sizeof w->why, "header line without a name and ':'");
            return false;
        }
        *colon = '\0';
        char *value = colon + 1;
        while (*value == ' ' || *value == '\t')
            value++;
        char *ve = value + strlen(value);
        while (ve > value && (ve[-1] == ' ' || ve[-1] == '\t'))
            *--ve = '\0';
        if (strcasecmp(p, "Status") == 0) {
            /* "404" or "404 Not Found": the reason is MHD's to write. */
            if (!isdigit((unsigned char)value[0]) || !isdigit((unsigned char)value[1]) ||
                !isdigit((unsigned char)value[2]) || (value[3] && value[3] != ' ')) {
                snprintf(w->why, sizeof w->why, "invalid Status header");
                return false;
            }
            status = (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');
        } else {
            if (nh == CGI_HEADERS_MAX) {
                snprintf(w->why, sizeof w->why, "more than %d header lines", CGI_HEADERS_MAX);
                return false;
            }
            if (strcasecmp(p, "Location") == 0)
                location = true;
            hdrs[nh].name = p;
            hdrs[nh].value = value;
            nh++;
        }
        p = next;
    }
    if (!status)
        status = location ? 302 : 200;
    int e = serve_resp_start(w->in->req, status, hdrs, nh);
    if (e == -EINVAL) {
        snprintf(w->why, sizeof w->why, "invalid status %d or header name or value", status);
        return false;
    }
    return e == 0;
}

/* The end of the header block in `b` (the index after the blank line), or
 * 0 if it is not complete. */
static size_t head_end(const sbuf_t *b)
{
    const char *s = (const char *)b->data + b->off;
    for (size_t i = 0; i + 1 < b->len; i++) {
        if (s[i] != '\n')
            continue;
        if (s[i + 1] == '\n')
            return i + 2;
        if (i + 2 < b->len && s[i + 1] == '\r' && s[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

static int64_t wagi_stdout(void *env, void *buf, size_t len)
{
    wagi_t *w = env;
    if (w->bad)
        return -EPIPE;
    if (w->in_body) {
        int64_t r = serve_resp_write(w->in->req, buf, len, w->in->deadline_ns, w->in->store);
        if (r == -EINTR)
            w->interrupted = true;
        return r;
    }
    /* Only look at what is new (plus 2 bytes of overlap for "\r\n"). */
    size_t before = w->head.len;
    size_t keep = len;
    if (before + len > CGI_HEAD_MAX)
        keep = CGI_HEAD_MAX - before;
    if (!sbuf_append(&w->head, buf, keep))
        return -ENOMEM;
    size_t end = head_end(&w->head);
    if (!end) {
        if (w->head.len >= CGI_HEAD_MAX) {
            w->bad = true;
            snprintf(w->why, sizeof w->why, "no blank line within %d bytes of headers",
                     CGI_HEAD_MAX);
            return -EPIPE;
        }
        return (int64_t)len;
    }
    char *h = (char *)w->head.data + w->head.off;
    if (!start_response(w, h, end)) {
        w->bad = true;
        return -EPIPE;
    }
    w->in_body = true;
    /* Body bytes that came in the same write as the blank line. */
    size_t body_in_head = w->head.len - end;
    if (body_in_head) {
        int64_t r = serve_resp_write(w->in->req, h + end, body_in_head, w->in->deadline_ns,
                                     w->in->store);
        if (r == -EINTR)
            w->interrupted = true;
        if (r < 0)
            return r;
    }
    sbuf_free(&w->head);
    (void)before;
    return (int64_t)len;
}

/* ---- the environment ---- */

/* Decodes %XX and '+' of a query word in place. */
static void url_decode(char *s)
{
    char *o = s;
    for (; *s; s++) {
        if (*s == '+') {
            *o++ = ' ';
        } else if (*s == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
            char hex[3] = {s[1], s[2], 0};
            *o++ = (char)strtol(hex, NULL, 16);
            s += 2;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
}

static whirl_error_t *push(whirl_wasi_config_t *cfg, const char *k, const char *v)
{
    return whirl_wasi_config_push_env(cfg, k, v ? v : "");
}

static whirl_error_t *build_env(serve_inst_t *in, whirl_wasi_config_t *cfg)
{
    const serve_req_info_t *info = serve_req_info(in->req);
    const serve_route_t *rt = in->route;
    serve_comp_t *c = in->comp;
    whirl_error_t *err = NULL;
    for (size_t i = 0; !err && i < c->nenv; i++)
        err = push(cfg, c->env_keys[i], c->env_values[i]);
    const char *ctype = NULL;
    for (size_t i = 0; i < info->nheaders; i++)
        if (strcasecmp(info->headers[i].name, "Content-Type") == 0)
            ctype = info->headers[i].value;
    char num[32], url[8400];
    snprintf(url, sizeof url, "http://%s%s%s%s", info->host, info->raw_path,
             *info->query ? "?" : "", info->query);
    if (!err) err = push(cfg, "GATEWAY_INTERFACE", "CGI/1.1");
    if (!err) err = push(cfg, "SERVER_SOFTWARE", "whirl/" WHIRL_VERSION);
    if (!err) err = push(cfg, "SERVER_PROTOCOL", info->version);
    if (!err) err = push(cfg, "SERVER_NAME", info->server_name);
    if (!err) err = push(cfg, "SERVER_PORT", info->server_port);
    if (!err) err = push(cfg, "REQUEST_METHOD", info->method);
    if (!err) err = push(cfg, "SCRIPT_NAME", rt->base);
    if (!err) err = push(cfg, "PATH_INFO", in->path_info);
    if (!err) err = push(cfg, "PATH_TRANSLATED", in->path_info);
    if (!err) err = push(cfg, "QUERY_STRING", info->query);
    if (!err) err = push(cfg, "REMOTE_ADDR", info->client_ip);
    if (!err) err = push(cfg, "REMOTE_HOST", info->client_ip);
    if (!err) err = push(cfg, "REMOTE_USER", "");
    if (!err) err = push(cfg, "AUTH_TYPE", "");
    if (!err && ctype) err = push(cfg, "CONTENT_TYPE", ctype);
    if (!err && info->content_length >= 0) {
        snprintf(num, sizeof num, "%lld", (long long)info->content_length);
        err = push(cfg, "CONTENT_LENGTH", num);
    }
    /* WAGI's own variables. */
    if (!err) err = push(cfg, "X_MATCHED_ROUTE", rt->raw);
    if (!err) err = push(cfg, "X_FULL_URL", url);
    if (!err) err = push(cfg, "X_RAW_PATH_INFO", in->path_info);
    if (!err) err = push(cfg, "X_COMPONENT_ROUTE", rt->base);
    if (!err) err = push(cfg, "X_RAW_COMPONENT_ROUTE", rt->raw);
    if (!err) err = push(cfg, "X_BASE_PATH", in->app->base_path ? in->app->base_path : "/");
    if (!err) err = push(cfg, "X_CLIENT_ADDR", info->client);

    /* HTTP_*: repeated headers joined with ", " (RFC 3875 4.1.18). Proxy
     * is left out: HTTP_PROXY would redirect the guest's own requests. */
    char key[256];
    for (size_t i = 0; !err && i < info->nheaders; i++) {
        const char *name = info->headers[i].name;
        if (!serve_http_token(name, strlen(name)) || strlen(name) > sizeof key - 6 || !strcasecmp(name, "Proxy") ||
            !strcasecmp(name, "Content-Type") || !strcasecmp(name, "Content-Length"))
            continue;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcasecmp(info->headers[j].name, name) == 0;
        if (seen)
            continue;
        size_t k = (size_t)snprintf(key, sizeof key, "HTTP_");
        for (const char *s = name; *s; s++)
            key[k++] = *s == '-' ? '_' : (char)toupper((unsigned char)*s);
        key[k] = '\0';
        sbuf_t v = {0};
        for (size_t j = i; j < info->nheaders; j++) {
            if (strcasecmp(info->headers[j].name, name) != 0)
                continue;
            if (v.len)
                sbuf_append(&v, ", ", 2);
            sbuf_append(&v, info->headers[j].value, strlen(info->headers[j].value));
        }
        sbuf_append(&v, "", 1);
        err = push(cfg, key, v.data ? (const char *)v.data + v.off : "");
        sbuf_free(&v);
    }
    /* Spin's headers, as a Spin WAGI guest would see them. */
    if (!err && in->app->spin) {
        serve_header_t sh[8];
        char buf[9000];
        size_t n = serve_spin_headers(in, sh, buf, sizeof buf);
        for (size_t i = 0; !err && i < n; i++) {
            size_t k = (size_t)snprintf(key, sizeof key, "HTTP_");
            for (const char *s = sh[i].name; *s && k < sizeof key - 1; s++)
                key[k++] = *s == '-' ? '_' : (char)toupper((unsigned char)*s);
            key[k] = '\0';
            err = push(cfg, key, sh[i].value);
        }
    }
    return err;
}

/* argv: the program name, then the words of a query without '=' (RFC 3875
 * 4.4), decoded. */
static whirl_error_t *build_args(serve_inst_t *in, whirl_wasi_config_t *cfg)
{
    const char *src = in->comp->source;
    const char *base = strrchr(src, '/');
    whirl_error_t *err = whirl_wasi_config_push_arg(cfg, base ? base + 1 : src);
    const char *q = serve_req_info(in->req)->query;
    if (err || !*q || strchr(q, '='))
        return err;
    char *copy = strdup(q);
    if (!copy)
        return whirl_error_new("out of memory");
    char *save = NULL;
    for (char *w = strtok_r(copy, "+", &save); w && !err; w = strtok_r(NULL, "+", &save)) {
        url_decode(w);
        err = whirl_wasi_config_push_arg(cfg, w);
    }
    free(copy);
    return err;
}

/* ---- running it ---- */

/* Called by the request (its lock held) when something changed; at the end
 * of a shutdown's grace period that includes "give up": a guest asleep in
 * poll_oneoff reaches no epoch check, so its wait is interrupted. */
static void wagi_notify(void *env)
{
    serve_inst_t *in = env;
    if (atomic_load(&in->app->srv->aborting) && in->wasi)
        whirl_wasi_interrupt(in->wasi);
}

void serve_wagi_handle(serve_inst_t *in)
{
    wagi_t w = {.in = in};
    whirl_wasi_config_t *cfg = whirl_wasi_config_new();
    whirl_error_t *err = cfg ? NULL : whirl_error_new("out of memory");
    if (!err) err = build_args(in, cfg);
    if (!err) err = build_env(in, cfg);
    if (!err) err = whirl_wasi_config_stdio_callback(cfg, 0, wagi_stdin, &w);
    if (!err) err = whirl_wasi_config_stdio_callback(cfg, 1, wagi_stdout, &w);
    if (!err) err = whirl_wasi_config_stdio_callback(cfg, 2, wagi_stderr, &w);
    for (size_t i = 0; !err && i < in->comp->ndirs; i++) {
        const serve_dir_t *d = &in->comp->dirs[i];
        err = whirl_wasi_config_preopen_dir(cfg, d->host, d->guest, d->flags);
    }
    if (err) {
        whirl_wasi_config_delete(cfg);
        serve_inst_fail(in, err, "preparing its WASI context");
        return;
    }
    if ((err = whirl_wasi_new(cfg, &in->wasi))) {
        serve_inst_fail(in, err, "preparing its WASI context");
        return;
    }
    serve_req_set_notify(in->req, wagi_notify, in);
    whirl_instance_t *inst;
    err = whirl_instance_pre_instantiate(in->comp->pre, in->store, &inst);
    if (err) {
        serve_inst_fail(in, err, "instantiating");
    } else {
        whirl_extern_t start;
        if (!whirl_instance_export(inst, "_start", 6, &start) ||
            start.kind != WHIRL_EXTERN_FUNC) {
            serve_inst_fail(in, whirl_error_new("no _start function"), "starting");
        } else {
            err = whirl_func_call(in->store, start.of.func, NULL, 0, NULL, 0);
            int status = 0;
            if (err && whirl_error_exit_status(err, &status)) {
                whirl_error_delete(err);
                err = NULL;
            }
            flush_err_line(&w);
            /* A read or write that gave up at the deadline handed the guest
             * EINTR. If the guest then ends normally before the epoch
             * deadline traps it (on a loaded machine the epoch ticker runs
             * late), its answer was made from half a body: it ran out of
             * time all the same, so the answer is 504. */
            if (!err && w.interrupted)
                err = whirl_trap_new(WHIRL_TRAP_INTERRUPT,
                                     "deadline reached while waiting for the client");
            if (serve_inst_fail(in, err, "running")) {
                /* answered */
            } else if (w.bad) {
                SERVE_COUNT(in->app->srv, errors);
                serve_log("error: component '%s' (%s %s): malformed CGI response: %s",
                          in->comp->id, serve_req_info(in->req)->method,
                          serve_req_info(in->req)->path, w.why);
                serve_resp_fail(in->req, 500, "Internal Server Error");
            } else if (!w.in_body) {
                /* Ended before the blank line: a header-only response if
                 * what came parses as headers, else nothing usable. */
                char *h = w.head.data ? (char *)w.head.data + w.head.off : NULL;
                if (status == 0 && h && w.head.len && sbuf_append(&w.head, "", 1) &&
                    (h = (char *)w.head.data + w.head.off) &&
                    start_response(&w, h, w.head.len - 1)) {
                    serve_resp_finish(in->req);
                } else {
                    SERVE_COUNT(in->app->srv, errors);
                    serve_log("error: component '%s' (%s %s) %s", in->comp->id,
                              serve_req_info(in->req)->method, serve_req_info(in->req)->path,
                              status ? "exited with a non-zero status before its CGI headers"
                              : w.head.len ? "wrote malformed CGI headers"
                                           : "wrote no CGI response");
                    serve_resp_fail(in->req, 500, "Internal Server Error");
                }
            } else {
                if (status)
                    serve_log("warning: component '%s' exited with status %d after answering",
                              in->comp->id, status);
                serve_resp_finish(in->req);
            }
        }
    }
    sbuf_free(&w.head);
    serve_req_set_notify(in->req, NULL, NULL);
    /* The store (deleted by the caller) never calls WASI again. */
    whirl_wasi_delete(in->wasi);
    in->wasi = NULL;
}
