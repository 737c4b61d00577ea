/* wasi:filesystem 0.3 (types, preopens) over the 0.2 host's filesystem.
 *
 * The 0.3 functions that do not take or return streams are 0.2's, made
 * async (a guest lowers them async; they complete before they return, see
 * docs/COMPONENT-ASYNC.md), with the same names and parameters. So each one
 * calls src/wasi2/fs.c's function of the same name, over the same
 * descriptors, pre-opens, `:ro` rule and sandbox (wasi/sandbox.h: no path
 * reaches outside a pre-open), and only the values whose types changed are
 * translated on the way in and out:
 *   - error-code is a variant: 0.2's `would-block` is gone (0.3 has no
 *     non-blocking I/O) and `other(option<string>)` is new;
 *   - descriptor-type is a variant: 0.2's `unknown` became `other(none)`;
 *   - timestamps are wasi:clocks 0.3 instants, with s64 seconds (0.2's
 *     datetime has u64; the 0.2 host gives times before 1970 as 0 and
 *     refuses to set them: `invalid`, kept here).
 * A 0.2 function whose arguments are not the kinds its WIT declares traps
 * as it does in 0.2; a translation only touches values of the expected
 * shape.
 *
 * read-via-stream, write-via-stream, append-via-stream and read-directory
 * move data through stream<T> and future<T> values, which the component
 * runtime cannot pass to or from the host yet: they trap, naming what is
 * missing. */
#include "wasi3/wasi3.h"

/* The 0.2 function of the same name in wasi:filesystem/types. */
static const w2_def_t *fs2_def(const char *name)
{
    for (size_t i = 0; i < w2_fs_ndefs; i++)
        if (strcmp(w2_fs_defs[i].iface, "wasi:filesystem/types") == 0 &&
            strcmp(w2_fs_defs[i].name, name) == 0)
            return &w2_fs_defs[i];
    return NULL;
}

/* Calls the 0.2 function named as `c`, with arguments `args` (c->args, or
 * a translated copy). */
static whirl_error_t *call2(w2_call_t *c, const whirl_cval_t *args)
{
    const w2_def_t *d = fs2_def(c->name);
    if (!d)
        return w2_trap(c, "internal error: WASI 0.2 has no function of this name");
    w2_call_t c2 = *c;
    c2.args = args;
    return d->fn(&c2);
}

/* ---- results ---- */

enum { EC_WOULD_BLOCK_2 = 1, EC_OTHER = 36 }; /* 0.2's would-block, 0.3's other */
enum { DT_OTHER = 7 };                        /* 0.3 descriptor-type other */

/* A 0.2 error-code (enum) into the 0.3 variant. */
static whirl_error_t *error_code3(whirl_cval_t *v)
{
    uint32_t i = v->of.variant.index;
    if (i != EC_WOULD_BLOCK_2) {
        v->kind = WHIRL_CVAL_VARIANT;
        v->of.variant.index = i > EC_WOULD_BLOCK_2 ? i - 1 : i;
        return NULL;
    }
    /* Only a host descriptor in non-blocking mode says EAGAIN: name it. */
    static const char msg[] = "would-block";
    whirl_error_t *e = whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, EC_OTHER, true);
    if (!e)
        e = whirl_cval_set_case(v->of.variant.payload, WHIRL_CVAL_OPTION, 1, true);
    if (!e)
        e = whirl_cval_set_string(v->of.variant.payload->of.variant.payload, msg,
                                  sizeof msg - 1);
    return e;
}

/* A 0.2 descriptor-type (enum, 0 = unknown) into the 0.3 variant. */
static whirl_error_t *descriptor_type3(whirl_cval_t *v)
{
    if (v->kind != WHIRL_CVAL_ENUM)
        return NULL;
    uint32_t i = v->of.variant.index;
    if (i == 0) { /* other(none) */
        whirl_error_t *e = whirl_cval_set_case(v, WHIRL_CVAL_VARIANT, DT_OTHER, true);
        return e ? e : whirl_cval_set_case(v->of.variant.payload, WHIRL_CVAL_OPTION, 0, false);
    }
    v->kind = WHIRL_CVAL_VARIANT;
    v->of.variant.index = i - 1;
    return NULL;
}

/* option<datetime> into option<instant>: the 0.2 seconds are never above
 * INT64_MAX (they came from a time_t). */
static void instant3(whirl_cval_t *opt)
{
    whirl_cval_t *p = opt->kind == WHIRL_CVAL_OPTION ? opt->of.variant.payload : NULL;
    if (p && p->kind == WHIRL_CVAL_RECORD && p->of.list.len == 2 &&
        p->of.list.items[0].kind == WHIRL_CVAL_U64) {
        whirl_cval_t *s = &p->of.list.items[0];
        s->kind = WHIRL_CVAL_S64;
        s->of.s = s->of.u > INT64_MAX ? INT64_MAX : (int64_t)s->of.u;
    }
}

/* A descriptor-stat record. */
static whirl_error_t *stat3(whirl_cval_t *v)
{
    if (v->kind != WHIRL_CVAL_RECORD || v->of.list.len != 6)
        return NULL;
    for (int i = 3; i < 6; i++)
        instant3(&v->of.list.items[i]);
    return descriptor_type3(&v->of.list.items[0]);
}

/* The result<T, error-code> of a 0.2 function into 0.3's, `ok` translating
 * its payload (NULL: the same in both). */
static whirl_error_t *result3(w2_call_t *c, whirl_error_t *(*ok)(whirl_cval_t *))
{
    whirl_cval_t *r = c->res;
    if (!r || r->kind != WHIRL_CVAL_RESULT || !r->of.variant.payload)
        return NULL;
    whirl_cval_t *p = r->of.variant.payload;
    if (r->of.variant.index == 1)
        return p->kind == WHIRL_CVAL_ENUM ? error_code3(p) : NULL;
    return ok ? ok(p) : NULL;
}

/* ---- the functions ---- */

/* Results that differ from 0.2's only in error-code (or not at all). */
static whirl_error_t *same(w2_call_t *c)
{
    whirl_error_t *e = call2(c, c->args);
    return e ? e : result3(c, NULL);
}

static whirl_error_t *with_stat(w2_call_t *c)
{
    whirl_error_t *e = call2(c, c->args);
    return e ? e : result3(c, stat3);
}

static whirl_error_t *with_type(w2_call_t *c)
{
    whirl_error_t *e = call2(c, c->args);
    return e ? e : result3(c, descriptor_type3);
}

/* A new-timestamp: timestamp(instant) carries s64 seconds, 0.2's u64. A
 * time before 1970 becomes one past INT64_MAX, which 0.2 answers `invalid`.
 * `rec` and `items` receive the translated payload (the copy is shallow:
 * nothing is owned). */
static void timestamp2(whirl_cval_t *v, whirl_cval_t *rec, whirl_cval_t items[2])
{
    const whirl_cval_t *p = v->of.variant.payload;
    if (v->kind != WHIRL_CVAL_VARIANT || v->of.variant.index != 2 || !p ||
        p->kind != WHIRL_CVAL_RECORD || p->of.list.len != 2 ||
        p->of.list.items[0].kind != WHIRL_CVAL_S64)
        return; /* another shape: 0.2 checks it */
    items[0] = p->of.list.items[0];
    items[0].kind = WHIRL_CVAL_U64;
    items[0].of.u = (uint64_t)p->of.list.items[0].of.s;
    items[1] = p->of.list.items[1];
    *rec = *p;
    rec->of.list.items = items;
    v->of.variant.payload = rec;
}

/* set-times (timestamps at arguments 1, 2) and set-times-at (3, 4). */
static whirl_error_t *with_times(w2_call_t *c)
{
    size_t first = c->nargs == 3 ? 1 : 3;
    if (c->nargs > 5 || first + 2 > c->nargs)
        return w2_trap(c, "imported with %zu parameter(s)", c->nargs);
    whirl_cval_t args[5], rec[2], items[2][2];
    memcpy(args, c->args, c->nargs * sizeof *args);
    for (size_t i = 0; i < 2; i++)
        timestamp2(&args[first + i], &rec[i], items[i]);
    whirl_error_t *e = call2(c, args);
    return e ? e : result3(c, NULL);
}

/* open-at: the new descriptor's flags say how it was opened, as the 0.3
 * suite (and wasmtime) expect, where the 0.2 host reports otherwise:
 *   - a file created or truncated is opened for writing (0.2 does that
 *     too) and so holds `write` even if the guest did not ask for it;
 *   - a directory holds mutate-directory only if the guest asked for it
 *     (0.2 gives it to every directory of a writable tree).
 * What a descriptor may change is still decided by the `:ro` rule alone,
 * as in 0.2. */
enum { OF_CREATE = 1, OF_TRUNCATE = 8 };

static whirl_error_t *open_at(w2_call_t *c)
{
    uint32_t of, df;
    whirl_error_t *e = w2_arg_flags(c, 3, &of);
    if (e || (e = w2_arg_flags(c, 4, &df)) || (e = same(c)))
        return e;
    const whirl_cval_t *r = c->res;
    const whirl_cval_t *h = r->of.variant.payload;
    if (r->kind != WHIRL_CVAL_RESULT || r->of.variant.index != 0 || !h ||
        h->kind != WHIRL_CVAL_OWN)
        return NULL;
    w2_obj_t *o = w2_obj_get(c->w, h->of.resource.rep, W2_DESCRIPTOR);
    if (!o)
        return NULL;
    if (o->u.desc.dir && !(df & W2_DF_MUTATE_DIR))
        o->u.desc.flags &= ~(uint32_t)W2_DF_MUTATE_DIR;
    else if (!o->u.desc.dir && (of & (OF_CREATE | OF_TRUNCATE)))
        o->u.desc.flags |= W2_DF_WRITE;
    return NULL;
}

static whirl_error_t *needs_streams(w2_call_t *c)
{
    return w2_trap(c, "not implemented yet: it passes stream<T> and future<T> values, which the "
                      "WASI 0.3 host cannot create yet (component-model async streams)");
}

static whirl_error_t *get_directories(w2_call_t *c)
{
    for (size_t i = 0; i < w2_fs_ndefs; i++)
        if (strcmp(w2_fs_defs[i].iface, "wasi:filesystem/preopens") == 0)
            return w2_fs_defs[i].fn(c);
    return w2_trap(c, "internal error: WASI 0.2 has no get-directories");
}

#define FS(name, fn, na, nr) {WHIRL_WASI2_FILESYSTEM, "wasi:filesystem/types", name, fn, na, nr}
#define D(name) "[method]descriptor." name
const w2_def_t w3_fs_defs[] = {
    FS(D("read-via-stream"), needs_streams, 2, 1),
    FS(D("write-via-stream"), needs_streams, 3, 1),
    FS(D("append-via-stream"), needs_streams, 2, 1),
    FS(D("read-directory"), needs_streams, 1, 1),
    FS(D("advise"), same, 4, 1),
    FS(D("sync-data"), same, 1, 1),
    FS(D("get-flags"), same, 1, 1),
    FS(D("get-type"), with_type, 1, 1),
    FS(D("set-size"), same, 2, 1),
    FS(D("set-times"), with_times, 3, 1),
    FS(D("sync"), same, 1, 1),
    FS(D("create-directory-at"), same, 2, 1),
    FS(D("stat"), with_stat, 1, 1),
    FS(D("stat-at"), with_stat, 3, 1),
    FS(D("set-times-at"), with_times, 5, 1),
    FS(D("link-at"), same, 5, 1),
    FS(D("open-at"), open_at, 5, 1),
    FS(D("readlink-at"), same, 2, 1),
    FS(D("remove-directory-at"), same, 2, 1),
    FS(D("rename-at"), same, 4, 1),
    FS(D("symlink-at"), same, 3, 1),
    FS(D("unlink-file-at"), same, 2, 1),
    FS(D("is-same-object"), same, 2, 1),
    FS(D("metadata-hash"), same, 1, 1),
    FS(D("metadata-hash-at"), same, 3, 1),
    {WHIRL_WASI2_FILESYSTEM, "wasi:filesystem/preopens", "get-directories", get_directories, 0, 1},
};
const size_t w3_fs_ndefs = sizeof w3_fs_defs / sizeof *w3_fs_defs;
