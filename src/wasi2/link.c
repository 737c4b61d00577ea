/* WASI 0.2 in a component linker: the host object (resource types and the
 * context lookup), the trampoline every WASI function goes through, and the
 * helpers that check arguments and build results. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasi2/internal.h"
#include "wasi3/wasi3.h"

static const w2_res_def_t res_defs[] = {
    {WHIRL_WASI2_IO, "wasi:io/error", "error", WHIRL_WASI2_ERROR},
    {WHIRL_WASI2_IO, "wasi:io/poll", "pollable", WHIRL_WASI2_POLLABLE},
    {WHIRL_WASI2_IO, "wasi:io/streams", "input-stream", WHIRL_WASI2_INPUT_STREAM},
    {WHIRL_WASI2_IO, "wasi:io/streams", "output-stream", WHIRL_WASI2_OUTPUT_STREAM},
    {WHIRL_WASI2_FILESYSTEM, "wasi:filesystem/types", "descriptor", WHIRL_WASI2_DESCRIPTOR},
    {WHIRL_WASI2_FILESYSTEM, "wasi:filesystem/types", "directory-entry-stream",
     WHIRL_WASI2_DIRECTORY_ENTRY_STREAM},
    {WHIRL_WASI2_CLI, "wasi:cli/terminal-input", "terminal-input", WHIRL_WASI2_TERMINAL_INPUT},
    {WHIRL_WASI2_CLI, "wasi:cli/terminal-output", "terminal-output",
     WHIRL_WASI2_TERMINAL_OUTPUT},
};

static const char *const res_names[WHIRL_WASI2_RESOURCE_COUNT] = {
    "input-stream", "output-stream", "pollable", "error",
    "descriptor", "directory-entry-stream", "terminal-input", "terminal-output",
    "tcp-socket", "udp-socket",
};

/* ------------------------------------------------------------------ */
/* The host                                                            */
/* ------------------------------------------------------------------ */

static void host_retain(whirl_wasi2_host_t *h)
{
    __atomic_add_fetch(&h->refcount, 1, __ATOMIC_RELAXED);
}

void whirl_wasi2_host_delete(whirl_wasi2_host_t *h)
{
    if (!h || __atomic_sub_fetch(&h->refcount, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    for (int i = 0; i < WHIRL_WASI2_RESOURCE_COUNT; i++)
        whirl_resource_type_delete(h->types[i]);
    free(h);
}

whirl_resource_type_t *whirl_wasi2_host_resource_type(const whirl_wasi2_host_t *h,
                                                      whirl_wasi2_resource_t which)
{
    return h && (unsigned)which < WHIRL_WASI2_RESOURCE_COUNT ? h->types[which] : NULL;
}

/* What a resource type's destructor needs: it may outlive the host. */
typedef struct dtor_env {
    whirl_wasi2_lookup_t lookup;
    void *lookup_env;
    uint8_t kind;
} dtor_env_t;

static whirl_error_t *res_dtor(void *env, whirl_store_t *store, uint32_t rep)
{
    dtor_env_t *d = env;
    whirl_wasi2_t *w = d->lookup(d->lookup_env, store);
    if (!w)
        return whirl_error_new("WASI: the store has no WASI context to drop a resource in");
    return w2_obj_drop(w, rep, d->kind);
}

typedef struct binding {
    whirl_wasi2_host_t *host;
    const w2_def_t *def;
} binding_t;

static void binding_free(void *env)
{
    binding_t *b = env;
    whirl_wasi2_host_delete(b->host);
    free(b);
}

static whirl_error_t *trampoline(void *env, whirl_store_t *store,
                                 const whirl_component_func_t *type, const whirl_cval_t *args,
                                 size_t nargs, whirl_cval_t *results, size_t nresults)
{
    binding_t *b = env;
    const w2_def_t *d = b->def;
    w2_call_t c = {.host = b->host, .store = store, .iface = d->iface, .name = d->name, .args = args,
                   .nargs = nargs, .res = nresults ? results : NULL};
    if (nargs != d->nargs || nresults != d->nresults)
        return w2_trap(&c, "imported with %zu parameter(s) and %zu result(s), but it has %u and "
                       "%u", nargs, nresults, d->nargs, d->nresults);
    c.w = b->host->lookup(b->host->lookup_env, store);
    if (!c.w)
        return w2_trap(&c, "the calling store has no WASI context");
    return d->fn(&c);
}

whirl_error_t *w2_define_func(whirl_component_linker_t *linker, whirl_wasi2_host_t *h,
                              const char *iface_at_version, const char *name, const w2_def_t *d)
{
    binding_t *b = malloc(sizeof *b);
    if (!b)
        return w2_oom();
    b->host = h;
    b->def = d;
    whirl_error_t *err =
        whirl_component_linker_define_func(linker, iface_at_version, name, trampoline, b,
                                           binding_free);
    if (err)
        free(b); /* not registered: its finalizer will not run */
    else
        host_retain(h);
    return err;
}

static const struct {
    const w2_def_t *defs;
    const size_t *n;
} def_tables[] = {
    {w2_io_defs, &w2_io_ndefs},
    {w2_cli_defs, &w2_cli_ndefs},
    {w2_fs_defs, &w2_fs_ndefs},
};

whirl_error_t *whirl_wasi2_add_to_linker(whirl_component_linker_t *linker, uint32_t groups,
                                         whirl_wasi2_lookup_t lookup, void *env,
                                         whirl_wasi2_host_t **host_out)
{
    if (host_out)
        *host_out = NULL;
    if (!linker || !lookup)
        return whirl_error_new("WASI: whirl_wasi2_add_to_linker: NULL argument");
    if (groups & ~(uint32_t)WHIRL_WASI2_ALL)
        return whirl_error_new("WASI: whirl_wasi2_add_to_linker: unknown interface bits");
    whirl_wasi2_host_t *h = calloc(1, sizeof *h);
    if (!h)
        return w2_oom();
    h->refcount = 1;
    h->groups = groups;
    h->lookup = lookup;
    h->lookup_env = env;
    whirl_error_t *err = NULL;
    /* Every type exists (functions of one group return resources of
     * another); only the added groups' types go into the linker. */
    for (int i = 0; i < WHIRL_WASI2_RESOURCE_COUNT && !err; i++) {
        dtor_env_t *d = malloc(sizeof *d);
        if (!d) {
            err = w2_oom();
            break;
        }
        *d = (dtor_env_t){.lookup = lookup, .lookup_env = env, .kind = W2_KIND(i)};
        h->types[i] = whirl_resource_type_new(res_names[i], res_dtor, d, free);
        if (!h->types[i]) {
            free(d);
            err = w2_oom();
        }
    }
    char iface[128];
    for (size_t i = 0; i < sizeof res_defs / sizeof *res_defs && !err; i++) {
        const w2_res_def_t *r = &res_defs[i];
        if (!(groups & r->group))
            continue;
        snprintf(iface, sizeof iface, "%s@%s", r->iface, WHIRL_WASI2_VERSION);
        err = whirl_component_linker_define_resource(linker, iface, r->name, h->types[r->which]);
    }
    for (size_t t = 0; t < sizeof def_tables / sizeof *def_tables && !err; t++) {
        for (size_t i = 0; i < *def_tables[t].n && !err; i++) {
            const w2_def_t *d = &def_tables[t].defs[i];
            if (!(groups & d->group))
                continue;
            snprintf(iface, sizeof iface, "%s@%s", d->iface, WHIRL_WASI2_VERSION);
            err = w2_define_func(linker, h, iface, d->name, d);
        }
    }
    /* WASI 0.3 (src/wasi3) over the same host and context. */
    if (!err)
        err = w3_add_to_linker(linker, h, groups);
    if (!err && host_out)
        *host_out = h;
    else
        whirl_wasi2_host_delete(h);
    return err;
}

static whirl_wasi2_t *fixed_lookup(void *env, whirl_store_t *store)
{
    return env;
}

whirl_error_t *whirl_component_linker_define_wasi2(whirl_component_linker_t *linker,
                                                   whirl_wasi2_t *wasi)
{
    if (!wasi)
        return whirl_error_new("WASI: whirl_component_linker_define_wasi2: NULL context");
    return whirl_wasi2_add_to_linker(linker, WHIRL_WASI2_ALL, fixed_lookup, wasi, NULL);
}

/* ------------------------------------------------------------------ */
/* Arguments                                                           */
/* ------------------------------------------------------------------ */

whirl_error_t *w2_trap(const w2_call_t *c, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return whirl_error_newf("WASI `%s#%s`: %s", c->iface, c->name, msg);
}

static whirl_error_t *arg_kind(const w2_call_t *c, size_t i, whirl_cval_kind_t kind)
{
    if (i >= c->nargs || c->args[i].kind != kind)
        return w2_trap(c, "parameter %zu is not of the type the WASI interface declares", i);
    return NULL;
}

whirl_error_t *w2_arg_uint(const w2_call_t *c, size_t i, whirl_cval_kind_t kind, uint64_t *out)
{
    whirl_error_t *e = arg_kind(c, i, kind);
    if (!e)
        *out = c->args[i].of.u;
    return e;
}

whirl_error_t *w2_arg_bool(const w2_call_t *c, size_t i, bool *out)
{
    whirl_error_t *e = arg_kind(c, i, WHIRL_CVAL_BOOL);
    if (!e)
        *out = c->args[i].of.b;
    return e;
}

whirl_error_t *w2_arg_string(const w2_call_t *c, size_t i, const char **s, size_t *len)
{
    whirl_error_t *e = arg_kind(c, i, WHIRL_CVAL_STRING);
    if (!e) {
        *s = c->args[i].of.string.data ? c->args[i].of.string.data : "";
        *len = c->args[i].of.string.len;
    }
    return e;
}

whirl_error_t *w2_arg_bytes(const w2_call_t *c, size_t i, const uint8_t **p, size_t *len)
{
    whirl_error_t *e = arg_kind(c, i, WHIRL_CVAL_BYTES);
    if (!e) {
        *p = (const uint8_t *)c->args[i].of.string.data;
        *len = c->args[i].of.string.len;
    }
    return e;
}

whirl_error_t *w2_arg_flags(const w2_call_t *c, size_t i, uint32_t *out)
{
    whirl_error_t *e = arg_kind(c, i, WHIRL_CVAL_FLAGS);
    if (!e)
        *out = c->args[i].of.flags;
    return e;
}

whirl_error_t *w2_arg_enum(const w2_call_t *c, size_t i, uint32_t *out)
{
    whirl_error_t *e = arg_kind(c, i, WHIRL_CVAL_ENUM);
    if (!e)
        *out = c->args[i].of.variant.index;
    return e;
}

whirl_error_t *w2_check_handle(const w2_call_t *c, const whirl_cval_t *v,
                               whirl_wasi2_resource_t which, uint32_t *rep)
{
    if ((v->kind != WHIRL_CVAL_BORROW && v->kind != WHIRL_CVAL_OWN) ||
        v->of.resource.type != c->host->types[which])
        return w2_trap(c, "expected a handle to a %s", res_names[which]);
    *rep = v->of.resource.rep;
    return NULL;
}

whirl_error_t *w2_arg_obj(const w2_call_t *c, size_t i, whirl_wasi2_resource_t which,
                          uint32_t *rep, w2_obj_t **obj)
{
    if (i >= c->nargs)
        return w2_trap(c, "missing parameter %zu", i);
    whirl_error_t *e = w2_check_handle(c, &c->args[i], which, rep);
    if (e)
        return e;
    *obj = w2_obj_get(c->w, *rep, W2_KIND(which));
    if (!*obj)
        return w2_trap(c, "%s %u does not exist in this WASI context", res_names[which], *rep);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Results                                                             */
/* ------------------------------------------------------------------ */

void w2_set_uint(whirl_cval_t *v, whirl_cval_kind_t kind, uint64_t x)
{
    whirl_cval_release(v);
    v->kind = kind;
    v->of.u = x;
}

void w2_set_bool(whirl_cval_t *v, bool b)
{
    whirl_cval_release(v);
    v->kind = WHIRL_CVAL_BOOL;
    v->of.b = b;
}

void w2_set_own(const w2_call_t *c, whirl_cval_t *v, whirl_wasi2_resource_t which, uint32_t rep)
{
    whirl_cval_release(v);
    v->kind = WHIRL_CVAL_OWN;
    v->of.resource.type = c->host->types[which];
    v->of.resource.rep = rep;
}

whirl_error_t *w2_ok(whirl_cval_t *v, whirl_cval_t **payload)
{
    whirl_error_t *e = whirl_cval_set_case(v, WHIRL_CVAL_RESULT, 0, payload != NULL);
    if (!e && payload)
        *payload = v->of.variant.payload;
    return e;
}

uint32_t w2_error_code(int e)
{
    switch (e) {
    case EACCES: return 0;
    case EAGAIN: return 1;
    case EALREADY: return 2;
    case EBADF: return 3;
    case EBUSY: return 4;
    case EDEADLK: return 5;
    case EDQUOT: return 6;
    case EEXIST: return 7;
    case EFBIG: return 8;
    case EILSEQ: return 9;
    case EINPROGRESS: return 10;
    case EINTR: return 11;
    case EINVAL: return 12;
    case EIO: return 13;
    case EISDIR: return 14;
    case ELOOP: return 15;
    case EMLINK: return 16;
    case EMSGSIZE: return 17;
    case ENAMETOOLONG: return 18;
    case ENODEV: return 19;
    case ENOENT: return 20;
    case ENOLCK: return 21;
    case ENOMEM: return 22;
    /* wasi:filesystem has no "too many open files": the guest's descriptor
     * cap (wasi/limits.h) is a resource running out, like memory. */
    case EMFILE: return 22;
    case ENFILE: return 22;
    case ENOSPC: return 23;
    case ENOTDIR: return 24;
    case ENOTEMPTY: return 25;
    case ENOTRECOVERABLE: return 26;
    case ENOTSUP: return 27;
    case ENOTTY: return 28;
    case ENXIO: return 29;
    case EOVERFLOW: return 30;
    case EPERM: return 31;
    case EPIPE: return 32;
    case EROFS: return 33;
    case ESPIPE: return 34;
    case ETXTBSY: return 35;
    case EXDEV: return 36;
    default: return 13; /* io */
    }
}

whirl_error_t *w2_err_code(whirl_cval_t *v, int e)
{
    whirl_error_t *err = whirl_cval_set_case(v, WHIRL_CVAL_RESULT, 1, true);
    if (err)
        return err;
    whirl_cval_t *p = v->of.variant.payload;
    p->kind = WHIRL_CVAL_ENUM;
    p->of.variant.index = w2_error_code(e);
    p->of.variant.payload = NULL;
    return NULL;
}

whirl_error_t *w2_err_stream(const w2_call_t *c, whirl_cval_t *v, int64_t status, char *message,
                             int code)
{
    whirl_error_t *err = whirl_cval_set_case(v, WHIRL_CVAL_RESULT, 1, true);
    whirl_cval_t *se = err ? NULL : v->of.variant.payload;
    if (!err && status == WHIRL_WASI2_CLOSED) {
        err = whirl_cval_set_case(se, WHIRL_CVAL_VARIANT, 1, false);
    } else if (!err) {
        uint32_t rep;
        if (!(err = w2_error_new(c->w, message, code, &rep)) &&
            !(err = whirl_cval_set_case(se, WHIRL_CVAL_VARIANT, 0, true)))
            w2_set_own(c, se->of.variant.payload, WHIRL_WASI2_ERROR, rep);
    }
    free(message);
    return err;
}

whirl_error_t *w2_set_datetime(whirl_cval_t *v, int64_t sec, long nsec)
{
    whirl_error_t *e = whirl_cval_set_items(v, WHIRL_CVAL_RECORD, 2);
    if (e)
        return e;
    w2_set_uint(&v->of.list.items[0], WHIRL_CVAL_U64, sec < 0 ? 0 : (uint64_t)sec);
    w2_set_uint(&v->of.list.items[1], WHIRL_CVAL_U32, nsec < 0 ? 0 : (uint64_t)nsec);
    return NULL;
}
