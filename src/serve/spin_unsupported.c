/* The Spin 2 interfaces whirl does not serve yet (outbound
 * MySQL) and the one it cannot serve (llm: no model can be
 * loaded here), defined so that an app importing them still loads: a Spin
 * SDK links every interface whether the app uses it or not. Opening a
 * connection answers the interface's own error saying so, and an inference
 * answers model-not-supported; never a trap. Methods on connections are
 * unreachable (no connection is ever handed out) and trap if called with a
 * forged handle. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "serve/spin_host.h"

#define errorf whirl_error_newf

typedef struct stub_def {
    const char *iface, *name;
    int err_case;       /* the error case answered; -1: a method (traps) */
    const char *msg;    /* its payload (NULL: none) */
} stub_def_t;

#define MYSQL "fermyon:spin/mysql@2.0.0"
#define LLM "fermyon:spin/llm@2.0.0"

static const stub_def_t stubs[] = {
    {LLM, "infer", 0, NULL}, /* model-not-supported */
    {LLM, "generate-embeddings", 0, NULL},
    {MYSQL, "[static]connection.open", 0, "outbound MySQL is not supported by whirl yet"},
    {MYSQL, "[method]connection.query", -1, NULL},
    {MYSQL, "[method]connection.execute", -1, NULL},
};

static whirl_error_t *stub_call(void *env, whirl_store_t *store,
                                const whirl_component_func_t *type, const whirl_cval_t *args,
                                size_t nargs, whirl_cval_t *results, size_t nresults)
{
    const stub_def_t *d = env;
    (void)type;
    (void)args;
    (void)nargs;
    if (d->err_case < 0 || nresults != 1)
        return errorf("%s.%s: invalid connection handle", d->iface, d->name);
    spin_req_t *r = spin_req_of(store);
    if (r)
        serve_log("component '%s': %s.%s: %s", r->in->comp->id, d->iface, d->name,
                  d->msg ? d->msg : "no model can be loaded by whirl");
    return spin_result_err(results, (uint32_t)d->err_case, d->msg);
}

whirl_error_t *spin_unsupported_link(whirl_component_linker_t *l)
{
    static whirl_resource_type_t *conn_types[1];
    static const char *const conn_ifaces[1] = {MYSQL};
    whirl_error_t *e = NULL;
    for (size_t i = 0; !e && i < 1; i++) {
        if (!conn_types[i] && !(conn_types[i] = whirl_resource_type_new("connection", NULL,
                                                                        NULL, NULL)))
            return errorf("out of memory");
        e = whirl_component_linker_define_resource(l, conn_ifaces[i], "connection",
                                                   conn_types[i]);
    }
    for (size_t i = 0; !e && i < sizeof stubs / sizeof *stubs; i++)
        e = whirl_component_linker_define_func(l, stubs[i].iface, stubs[i].name, stub_call,
                                               (void *)&stubs[i], NULL);
    return e;
}
