/* Redis for Spin apps: the connection both key-value stores and outbound
 * Redis use (spin_redis_net.c carries the bytes, plain or TLS, each command
 * bounded by the request's deadline; hiredis formats and parses),
 * and fermyon:spin/redis@2.0.0, outbound
 * Redis, whose connections go only where the component's
 * allowed_outbound_hosts lets them (an address it does not allow is
 * invalid-address, as Spin answers). Connections belong to the request and
 * close with it. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

#include "serve/spin_host.h"

#define errorf whirl_error_newf

enum {
    MAX_ARGS = 1 << 16, /* arguments of one command */
};

void spin_redis_close(spin_redis_t *c)
{
    redis_net_close(c->net);
    c->net = NULL;
}

bool spin_redis_is_open(const spin_redis_t *c)
{
    return c->net != NULL;
}

/* The reply or NULL (with c->why, which the transport has set for its own
 * failures): an error reply is a failure too. */
static redisReply *checked(spin_redis_t *c, redisReply *r)
{
    if (!r)
        return NULL;
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(c->why, sizeof c->why, "redis: %.*s", (int)r->len, r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

/* A formatted command (len < 0: formatting failed). */
static redisReply *send_formatted(spin_redis_t *c, char *cmd, int len)
{
    redisReply *r = NULL;
    if (!c->net)
        snprintf(c->why, sizeof c->why, "redis: not connected");
    else if (len < 0)
        snprintf(c->why, sizeof c->why, "redis: cannot format the command");
    else
        r = redis_net_command(c->net, cmd, (size_t)len, c->deadline_ns, c->why, sizeof c->why);
    free(cmd);
    return checked(c, r);
}

redisReply *spin_redis_cmd(spin_redis_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *cmd = NULL;
    int len = redisvFormatCommand(&cmd, fmt, ap);
    va_end(ap);
    return send_formatted(c, cmd, len);
}

redisReply *spin_redis_argv(spin_redis_t *c, int argc, const char **argv, const size_t *lens)
{
    char *cmd = NULL;
    int len = redisFormatCommandArgv(&cmd, argc, argv, lens);
    return send_formatted(c, cmd, len);
}

bool spin_redis_parse(const char *url, char *host, size_t hostlen, int *port, char *pass,
                      size_t passlen, int *db, bool *tls)
{
    *tls = strncmp(url, "rediss://", 9) == 0;
    if (!*tls && strncmp(url, "redis://", 8) != 0)
        return false;
    const char *u = url + (*tls ? 9 : 8);
    *port = 6379;
    *db = 0;
    pass[0] = '\0';
    const char *at = strrchr(u, '@');
    if (at) {
        const char *colon = memchr(u, ':', (size_t)(at - u));
        if (colon)
            snprintf(pass, passlen, "%.*s", (int)(at - colon - 1), colon + 1);
        u = at + 1;
    }
    size_t hl = *u == '[' ? strcspn(u, "]") + 1 : strcspn(u, ":/?");
    if (hl == 0 || hl >= hostlen || (*u == '[' && u[hl - 1] != ']'))
        return false;
    if (*u == '[')
        snprintf(host, hostlen, "%.*s", (int)hl - 2, u + 1);
    else
        snprintf(host, hostlen, "%.*s", (int)hl, u);
    u += hl;
    if (*u == ':') {
        size_t digits = strspn(u + 1, "0123456789");
        if (digits == 0 || digits > 5)
            return false;
        *port = atoi(u + 1);
        u += 1 + digits;
    }
    if (*u == '/' && u[1]) {
        size_t digits = strspn(u + 1, "0123456789");
        if (digits == 0 || digits > 5)
            return false;
        *db = atoi(u + 1);
        u += 1 + digits;
    }
    if (*u == '/')
        u++;
    return *port > 0 && *port <= 65535 && (*u == '\0' || *u == '?');
}

bool spin_redis_connect(spin_redis_t *c, const char *url, bool *bad_url)
{
    char host[256], pass[256];
    int port, db;
    bool tls;
    if (bad_url)
        *bad_url = false;
    if (!spin_redis_parse(url, host, sizeof host, &port, pass, sizeof pass, &db, &tls)) {
        if (bad_url)
            *bad_url = true;
        snprintf(c->why, sizeof c->why, "redis: invalid address");
        return false;
    }
    if (!(c->net = redis_net_connect(host, port, tls, c->req, c->deadline_ns, c->why,
                                     sizeof c->why)))
        return false;
    redisReply *r = NULL;
    if (*pass && !(r = spin_redis_cmd(c, "AUTH %s", pass)))
        return false;
    freeReplyObject(r);
    r = NULL;
    if (db && !(r = spin_redis_cmd(c, "SELECT %d", db)))
        return false;
    freeReplyObject(r);
    return true;
}

/* ---- fermyon:spin/redis@2.0.0 ---- */

/* error: invalid-address, too-many-connections, type-error, other(string) */
enum { R_INVALID_ADDRESS = 0, R_TOO_MANY = 1, R_TYPE_ERROR = 2, R_OTHER = 3 };

#define IFACE "fermyon:spin/redis@2.0.0"

static whirl_resource_type_t *g_conn_type;

static void conn_close(void *obj)
{
    spin_redis_close(obj);
    free(obj);
}

static whirl_error_t *r_open(spin_req_t *r, const whirl_cval_t *args, size_t nargs,
                             whirl_cval_t *res)
{
    const char *addr = spin_arg_string(args, nargs, 0);
    char host[256], pass[256];
    int port, db;
    bool tls;
    if (!addr || !spin_redis_parse(addr, host, sizeof host, &port, pass, sizeof pass, &db, &tls))
        return spin_result_err(res, R_INVALID_ADDRESS, NULL);
    if (!spin_outbound_allowed(r->in, tls ? "rediss" : "redis", host, port)) {
        serve_log("component '%s': outbound Redis to %s:%d denied: allowed_outbound_hosts "
                  "does not list it",
                  r->in->comp->id, host, port);
        return spin_result_err(res, R_INVALID_ADDRESS, NULL);
    }
    spin_redis_t *c = calloc(1, sizeof *c);
    if (!c)
        return spin_result_err(res, R_OTHER, "out of memory");
    c->req = r;
    c->deadline_ns = r->in->deadline_ns;
    if (!spin_redis_connect(c, addr, NULL)) {
        whirl_error_t *e = spin_result_err(res, R_OTHER, c->why);
        conn_close(c);
        return e;
    }
    uint32_t rep = 0;
    whirl_error_t *e = spin_handle_add(r, SPIN_H_REDIS, c, conn_close, &rep);
    if (e) {
        whirl_error_delete(e);
        return spin_result_err(res, R_TOO_MANY, NULL);
    }
    whirl_cval_t *p = NULL;
    if ((e = spin_result_ok(res, true, &p)))
        return e;
    p->kind = WHIRL_CVAL_OWN;
    p->of.resource.type = g_conn_type;
    p->of.resource.rep = rep;
    return NULL;
}

/* A command of a fixed word and the string/bytes arguments in args[from..]
 * (a LIST of strings is spread). */
static redisReply *run(spin_redis_t *c, const char *cmd, const whirl_cval_t *args,
                       size_t nargs, size_t from)
{
    size_t n = 1;
    for (size_t i = from; i < nargs; i++)
        n += args[i].kind == WHIRL_CVAL_LIST ? args[i].of.list.len : 1;
    if (n > MAX_ARGS) {
        snprintf(c->why, sizeof c->why, "too many arguments");
        return NULL;
    }
    const char **argv = calloc(n, sizeof *argv);
    size_t *lens = calloc(n, sizeof *lens);
    redisReply *r = NULL;
    if (!argv || !lens) {
        snprintf(c->why, sizeof c->why, "out of memory");
        goto out;
    }
    argv[0] = cmd;
    lens[0] = strlen(cmd);
    size_t k = 1;
    for (size_t i = from; i < nargs; i++) {
        const whirl_cval_t *a = &args[i];
        size_t m = a->kind == WHIRL_CVAL_LIST ? a->of.list.len : 1;
        for (size_t j = 0; j < m; j++) {
            const whirl_cval_t *v = a->kind == WHIRL_CVAL_LIST ? &a->of.list.items[j] : a;
            if (v->kind != WHIRL_CVAL_STRING && v->kind != WHIRL_CVAL_BYTES) {
                snprintf(c->why, sizeof c->why, "bad argument");
                goto out;
            }
            argv[k] = v->of.string.data ? v->of.string.data : "";
            lens[k++] = v->of.string.len;
        }
    }
    r = spin_redis_argv(c, (int)n, argv, lens);
out:
    free(argv);
    free(lens);
    return r;
}

/* execute's arguments: redis-parameter { int64(s64), binary(list<u8>) }. */
static redisReply *run_execute(spin_redis_t *c, const whirl_cval_t *args, size_t nargs)
{
    if (nargs < 3 || args[1].kind != WHIRL_CVAL_STRING || args[2].kind != WHIRL_CVAL_LIST) {
        snprintf(c->why, sizeof c->why, "bad arguments");
        return NULL;
    }
    const whirl_cval_t *l = &args[2];
    size_t n = 1 + l->of.list.len;
    if (n > MAX_ARGS) {
        snprintf(c->why, sizeof c->why, "too many arguments");
        return NULL;
    }
    const char **argv = calloc(n, sizeof *argv);
    size_t *lens = calloc(n, sizeof *lens);
    char (*nums)[24] = calloc(n, sizeof *nums);
    redisReply *r = NULL;
    if (!argv || !lens || !nums) {
        snprintf(c->why, sizeof c->why, "out of memory");
        goto out;
    }
    argv[0] = args[1].of.string.data;
    lens[0] = args[1].of.string.len;
    for (size_t i = 0; i < l->of.list.len; i++) {
        const whirl_cval_t *v = &l->of.list.items[i];
        const whirl_cval_t *p = v->kind == WHIRL_CVAL_VARIANT ? v->of.variant.payload : NULL;
        if (p && v->of.variant.index == 0 && p->kind == WHIRL_CVAL_S64) {
            lens[i + 1] = (size_t)snprintf(nums[i], sizeof nums[i], "%lld", (long long)p->of.s);
            argv[i + 1] = nums[i];
        } else if (p && v->of.variant.index == 1 && p->kind == WHIRL_CVAL_BYTES) {
            argv[i + 1] = p->of.string.data ? p->of.string.data : "";
            lens[i + 1] = p->of.string.len;
        } else {
            snprintf(c->why, sizeof c->why, "bad parameter");
            goto out;
        }
    }
    r = spin_redis_argv(c, (int)n, argv, lens);
out:
    free(argv);
    free(lens);
    free(nums);
    return r;
}

/* redis-result { nil, status(string), int64(s64), binary(list<u8>) } */
static whirl_error_t *to_result(const redisReply *r, whirl_cval_t *v)
{
    whirl_error_t *e;
    switch (r->type) {
    case REDIS_REPLY_STATUS:
        if (!(e = whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, 1, true)))
            e = whirl_cval_set_string(v->of.variant.payload, r->str, r->len);
        return e;
    case REDIS_REPLY_INTEGER:
        if (!(e = whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, 2, true))) {
            v->of.variant.payload->kind = WHIRL_CVAL_S64;
            v->of.variant.payload->of.s = r->integer;
        }
        return e;
    case REDIS_REPLY_STRING:
        if (!(e = whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, 3, true)))
            e = whirl_cval_set_bytes(v->of.variant.payload, r->str, r->len);
        return e;
    default:
        return whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, 0, false);
    }
}

typedef enum r_op {
    OP_OPEN, OP_PUBLISH, OP_GET, OP_SET, OP_INCR, OP_DEL, OP_SADD, OP_SMEMBERS, OP_SREM,
    OP_EXECUTE,
} r_op_t;

typedef struct r_def {
    const char *name;
    r_op_t op;
    const char *cmd;
} r_def_t;

static const r_def_t r_defs[] = {
    {"[static]connection.open", OP_OPEN, NULL},
    {"[method]connection.publish", OP_PUBLISH, "PUBLISH"},
    {"[method]connection.get", OP_GET, "GET"},
    {"[method]connection.set", OP_SET, "SET"},
    {"[method]connection.incr", OP_INCR, "INCR"},
    {"[method]connection.del", OP_DEL, "DEL"},
    {"[method]connection.sadd", OP_SADD, "SADD"},
    {"[method]connection.smembers", OP_SMEMBERS, "SMEMBERS"},
    {"[method]connection.srem", OP_SREM, "SREM"},
    {"[method]connection.execute", OP_EXECUTE, NULL},
};

static whirl_error_t *r_call_inner(const r_def_t *d, spin_req_t *rq, const whirl_cval_t *args,
                                   size_t nargs, whirl_cval_t *res)
{
    if (d->op == OP_OPEN)
        return r_open(rq, args, nargs, res);
    spin_redis_t *c = NULL;
    if (nargs && (args[0].kind == WHIRL_CVAL_BORROW || args[0].kind == WHIRL_CVAL_OWN))
        c = spin_handle_get(rq, args[0].of.resource.rep, SPIN_H_REDIS);
    if (!c)
        return errorf(IFACE ".%s: invalid connection handle", d->name);
    redisReply *r = d->op == OP_EXECUTE ? run_execute(c, args, nargs)
                                        : run(c, d->cmd, args, nargs, 1);
    if (!r)
        return spin_result_err(res, R_OTHER, c->why);
    whirl_cval_t *p = NULL;
    whirl_error_t *e = NULL;
    bool with = d->op != OP_PUBLISH && d->op != OP_SET;
    if ((e = spin_result_ok(res, with, &p)) || !with)
        goto out;
    switch (d->op) {
    case OP_GET:
        if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL) {
            e = spin_result_err(res, R_TYPE_ERROR, NULL);
            break;
        }
        e = whirl_cval_set_case(p, WHIRL_CVAL_OPTION, r->type == REDIS_REPLY_STRING,
                                r->type == REDIS_REPLY_STRING);
        if (!e && r->type == REDIS_REPLY_STRING)
            e = whirl_cval_set_bytes(p->of.variant.payload, r->str, r->len);
        break;
    case OP_INCR:
    case OP_DEL:
    case OP_SADD:
    case OP_SREM:
        if (r->type != REDIS_REPLY_INTEGER) {
            e = spin_result_err(res, R_TYPE_ERROR, NULL);
            break;
        }
        if (d->op == OP_INCR) {
            p->kind = WHIRL_CVAL_S64;
            p->of.s = r->integer;
        } else {
            p->kind = WHIRL_CVAL_U32;
            p->of.u = (uint32_t)r->integer;
        }
        break;
    case OP_SMEMBERS:
        if (r->type != REDIS_REPLY_ARRAY) {
            e = spin_result_err(res, R_TYPE_ERROR, NULL);
            break;
        }
        e = whirl_cval_set_items(p, WHIRL_CVAL_LIST, r->elements);
        for (size_t i = 0; !e && i < r->elements; i++)
            e = whirl_cval_set_string(&p->of.list.items[i], r->element[i]->str,
                                      r->element[i]->str ? r->element[i]->len : 0);
        break;
    default: /* OP_EXECUTE: an array's elements, or the one value */
        if (r->type == REDIS_REPLY_ARRAY) {
            e = whirl_cval_set_items(p, WHIRL_CVAL_LIST, r->elements);
            for (size_t i = 0; !e && i < r->elements; i++)
                e = to_result(r->element[i], &p->of.list.items[i]);
        } else {
            e = whirl_cval_set_items(p, WHIRL_CVAL_LIST, 1);
            if (!e)
                e = to_result(r, &p->of.list.items[0]);
        }
        break;
    }
out:
    freeReplyObject(r);
    return e;
}

static whirl_error_t *r_call(void *env, whirl_store_t *store,
                             const whirl_component_func_t *type, const whirl_cval_t *args,
                             size_t nargs, whirl_cval_t *results, size_t nresults)
{
    const r_def_t *d = env;
    (void)type;
    spin_req_t *rq = spin_req_of(store);
    if (!rq)
        return errorf(IFACE ".%s: the calling store serves no request", d->name);
    if (nresults != 1)
        return errorf(IFACE ".%s: wrong result count", d->name);
    whirl_error_t *e = r_call_inner(d, rq, args, nargs, results);
    return spin_check_deadline(rq, e, results, nresults, "redis");
}

static whirl_error_t *conn_dtor(void *env, whirl_store_t *store, uint32_t rep)
{
    (void)env;
    spin_req_t *r = spin_req_of(store);
    if (r)
        spin_handle_close(r, rep, SPIN_H_REDIS);
    return NULL;
}

whirl_error_t *spin_redis_link(whirl_component_linker_t *l)
{
    if (!g_conn_type &&
        !(g_conn_type = whirl_resource_type_new("connection", conn_dtor, NULL, NULL)))
        return errorf("out of memory");
    /* spin:redis@3.0.0: the same functions, async (spin_async.c). */
    static const char *const ifaces[] = {IFACE, "spin:redis/redis@3.0.0"};
    whirl_error_t *e = NULL;
    for (size_t v = 0; !e && v < 2; v++) {
        e = whirl_component_linker_define_resource(l, ifaces[v], "connection", g_conn_type);
        for (size_t i = 0; !e && i < sizeof r_defs / sizeof *r_defs; i++)
            e = spin_define_async(l, ifaces[v], r_defs[i].name, r_call, (void *)&r_defs[i],
                                  SPIN_ASYNC_SAME);
    }
    return e;
}
