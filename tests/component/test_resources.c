/* Traps on every invalid value and rule violation the canonical ABI names
 * (fixtures/traps.wat), and resources: guest-defined and host-defined,
 * used guest -> guest, host -> guest and guest -> host
 * (fixtures/resources.wat). */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* ------------------------------------------------------------------ */
/* Traps                                                               */
/* ------------------------------------------------------------------ */

static int host_calls;
static whirl_component_instance_t *trap_inst;

static whirl_error_t *count_cb(void *env, whirl_store_t *store, const whirl_component_func_t *f,
                               const whirl_cval_t *args, size_t nargs, whirl_cval_t *results,
                               size_t nresults)
{
    host_calls++;
    return NULL;
}

/* Calls back into the instance that called us: reentrance. */
static whirl_error_t *call_back_cb(void *env, whirl_store_t *store,
                                   const whirl_component_func_t *f, const whirl_cval_t *args,
                                   size_t nargs, whirl_cval_t *results, size_t nresults)
{
    host_calls++;
    whirl_cval_t r = {0};
    whirl_error_t *e = t_call(trap_inst, NULL, "ok", NULL, 0, &r);
    whirl_cval_release(&r);
    CHECK(e != NULL, "reentering the instance from its own import fails");
    return e;
}

typedef struct trap_case {
    const char *name;
    const char *needle;
    bool list_arg; /* the export takes a list<u32> */
} trap_case_t;

static const trap_case_t trap_cases[] = {
    {"bad-char", "invalid char 0xd800", false},
    {"big-char", "invalid char 0x110000", false},
    {"bad-enum", "invalid enum discriminant 5", false},
    {"bad-result", "invalid result discriminant 2", false},
    {"bad-variant-mem", "invalid variant discriminant 7", false},
    {"bad-option-mem", "invalid option discriminant 2", false},
    {"string-oob", "out of bounds", false},
    {"string-too-long", "string too long", false},
    {"string-bad-utf8", "not valid UTF-8", false},
    {"utf16-misaligned", "misaligned string pointer", false},
    {"utf16-unpaired", "unpaired surrogate", false},
    {"utf16-too-long", "string too long", false},
    {"list-misaligned", "misaligned list pointer", false},
    {"list-oob", "out of bounds", false},
    {"list-too-long", "list too long", false},
    {"retptr-oob", "out of bounds", false},
    {"retptr-misaligned", "misaligned", false},
    {"call-bad-enum", "invalid enum discriminant 9", false},
    {"call-bad-char", "invalid char 0xdfff", false},
    {"call-string-oob", "out of bounds", false},
    {"reenter", "cannot enter component instance", false},
    {"post-return-calls-import", "cannot call import", false},
    {"realloc-misaligned", "realloc returned misaligned pointer", true},
    {"realloc-oob", "out of bounds", true},
    {"realloc-calls-import", "cannot call import `ping` from realloc", true},
    {"unreachable", "unreachable", false},
};

void test_traps(void)
{
    whirl_component_t *c = t_load("traps");
    if (!c)
        return;
    whirl_component_linker_t *l = whirl_component_linker_new(t_engine);
    static const char *const plain[] = {"take-enum", "take-char", "take-string", "ping"};
    for (size_t i = 0; i < 4; i++)
        CHECK_OK(whirl_component_linker_define_func(l, "test:abi/trap-host", plain[i], count_cb,
                                                    NULL, NULL), plain[i]);
    CHECK_OK(whirl_component_linker_define_func(l, "test:abi/trap-host", "call-back",
                                                call_back_cb, NULL, NULL), "call-back");
    whirl_component_instance_pre_t *pre = NULL;
    if (!CHECK_OK(whirl_component_linker_instantiate_pre(l, c, &pre), "pre")) {
        whirl_component_linker_delete(l);
        whirl_component_delete(c);
        return;
    }
    for (size_t i = 0; i < sizeof trap_cases / sizeof *trap_cases; i++) {
        const trap_case_t *tc = &trap_cases[i];
        whirl_store_t *s = whirl_store_new(t_engine, NULL, NULL);
        if (!CHECK_OK(whirl_component_instance_pre_instantiate(pre, s, &trap_inst), tc->name)) {
            whirl_store_delete(s);
            continue;
        }
        host_calls = 0;
        whirl_cval_t res = {0};
        whirl_cval_t arg = cv_items(WHIRL_CVAL_LIST, 2, cv_u(WHIRL_CVAL_U32, 1),
                                    cv_u(WHIRL_CVAL_U32, 2));
        CHECK_TRAP(t_call(trap_inst, NULL, tc->name, tc->list_arg ? &arg : NULL,
                          tc->list_arg ? 1 : 0, &res),
                   tc->needle, tc->name);
        whirl_cval_release(&arg);
        whirl_cval_release(&res);
        if (strncmp(tc->name, "call-", 5) == 0)
            CHECK(host_calls == 0, "%s: the host was not called with the bad value", tc->name);
        /* Lockdown: the instance cannot be entered after a trap. */
        CHECK_TRAP(t_call(trap_inst, NULL, "ok", NULL, 0, &res), "cannot enter",
                   "call after a trap");
        whirl_store_delete(s);
    }
    /* A fresh instance runs `ok` fine. */
    whirl_store_t *s = whirl_store_new(t_engine, NULL, NULL);
    if (CHECK_OK(whirl_component_instance_pre_instantiate(pre, s, &trap_inst), "fresh")) {
        whirl_cval_t res = {0};
        if (CHECK_OK(t_call(trap_inst, NULL, "ok", NULL, 0, &res), "ok"))
            CHECK(res.kind == WHIRL_CVAL_U32 && res.of.u == 7, "ok returns 7");
        CHECK_OK(t_call(trap_inst, NULL, "ok", NULL, 0, &res), "ok again");
    }
    whirl_store_delete(s);
    whirl_component_instance_pre_delete(pre);
    whirl_component_linker_delete(l);
    whirl_component_delete(c);
}

/* ------------------------------------------------------------------ */
/* Resources                                                           */
/* ------------------------------------------------------------------ */

typedef struct blobs {
    whirl_resource_type_t *rt;
    uint32_t sizes[64];
    uint32_t n;
    int dtors, size_calls;
    uint32_t last_dropped;
    whirl_cval_kind_t self_kind;
} blobs_t;

static blobs_t B;

static whirl_error_t *blob_dtor(void *env, whirl_store_t *store, uint32_t rep)
{
    B.dtors++;
    B.last_dropped = rep;
    return NULL;
}

static whirl_error_t *blob_ctor(void *env, whirl_store_t *store, const whirl_component_func_t *f,
                                const whirl_cval_t *args, size_t nargs, whirl_cval_t *results,
                                size_t nresults)
{
    if (B.n >= 64)
        return whirl_error_new("too many blobs");
    B.sizes[B.n] = (uint32_t)args[0].of.u;
    results[0] = cv_res(WHIRL_CVAL_OWN, B.rt, B.n++);
    return NULL;
}

static whirl_error_t *blob_size(void *env, whirl_store_t *store, const whirl_component_func_t *f,
                                const whirl_cval_t *args, size_t nargs, whirl_cval_t *results,
                                size_t nresults)
{
    B.size_calls++;
    B.self_kind = args[0].kind;
    if (args[0].of.resource.type != B.rt || args[0].of.resource.rep >= 64)
        return whirl_error_new("not a blob");
    results[0] = cv_u(WHIRL_CVAL_U32, B.sizes[args[0].of.resource.rep]);
    return NULL;
}

static int blob_type_finalized;
static void blob_type_finalizer(void *env) { blob_type_finalized++; }

static whirl_component_linker_t *res_linker(void)
{
    whirl_component_linker_t *l = whirl_component_linker_new(t_engine);
    const char *I = "test:abi/host-res";
    CHECK_OK(whirl_component_linker_define_resource(l, I, "blob", B.rt), "define blob");
    CHECK_OK(whirl_component_linker_define_func(l, I, "[constructor]blob", blob_ctor, NULL, NULL),
             "define ctor");
    CHECK_OK(whirl_component_linker_define_func(l, I, "[method]blob.size", blob_size, NULL, NULL),
             "define size");
    return l;
}

static uint64_t call_u32(whirl_component_instance_t *inst, const char *iface, const char *name,
                         whirl_cval_t *args, size_t nargs)
{
    whirl_cval_t r = {0};
    char what[200];
    snprintf(what, sizeof what, "%s#%s", iface, name);
    if (!CHECK_OK(t_call(inst, iface, name, args, nargs, &r), what))
        return UINT64_MAX;
    uint64_t v = r.kind == WHIRL_CVAL_U32 ? r.of.u : UINT64_MAX - 1;
    whirl_cval_release(&r);
    return v;
}

static void test_resource_flows(whirl_component_instance_t *inst)
{
    whirl_store_t *s = whirl_component_instance_store(inst);
    /* Guest -> guest: $A creates, borrows, moves and drops $B's counters. */
    CHECK(call_u32(inst, "a", "run", NULL, 0) == 12, "a.run: counter(10) + 2 incs = 12");
    CHECK(call_u32(inst, "b", "dtor-count", NULL, 0) == 1, "consume ran the destructor");
    whirl_cval_t r = {0};
    CHECK_OK(t_call(inst, "a", "make-and-drop", NULL, 0, &r), "a.make-and-drop");
    CHECK(call_u32(inst, "b", "dtor-count", NULL, 0) == 2, "resource.drop in A ran B's destructor");

    /* A host blob: A owns it, lends it to B, B lends it to the host. */
    whirl_cval_t arg = cv_u(WHIRL_CVAL_U32, 7);
    CHECK(call_u32(inst, "a", "blob-roundtrip", &arg, 1) == 7, "blob-roundtrip returns the size");
    CHECK(B.size_calls == 1 && B.self_kind == WHIRL_CVAL_BORROW, "the host got a borrow");
    CHECK(B.dtors == 1, "A's resource.drop ran the host destructor (%d)", B.dtors);

    /* Host -> guest with B's own resource type. */
    whirl_cval_t own = {0};
    arg = cv_u(WHIRL_CVAL_U32, 5);
    if (CHECK_OK(t_call(inst, "b", "[constructor]counter", &arg, 1, &own), "ctor from the host")) {
        CHECK(own.kind == WHIRL_CVAL_OWN && own.of.resource.type != B.rt &&
                  strcmp(whirl_resource_type_name(own.of.resource.type), "counter") == 0,
              "the host holds an own<counter>");
        whirl_cval_t b = cv_res(WHIRL_CVAL_BORROW, own.of.resource.type, own.of.resource.rep);
        CHECK(call_u32(inst, "b", "[method]counter.inc", &b, 1) == 6, "inc through a borrow");
        CHECK(call_u32(inst, "b", "[method]counter.inc", &own, 1) == 7,
              "an own value passed where a borrow is expected stays the host's");
        CHECK(call_u32(inst, "b", "consume", &own, 1) == 7, "consume moves it into B");
        CHECK(call_u32(inst, "b", "dtor-count", NULL, 0) == 3, "consume dropped it");
    }
    arg = cv_u(WHIRL_CVAL_U32, 1);
    if (CHECK_OK(t_call(inst, "b", "[constructor]counter", &arg, 1, &own), "ctor")) {
        CHECK_OK(whirl_component_resource_drop(s, &own), "host drops an own<counter>");
        CHECK(call_u32(inst, "b", "dtor-count", NULL, 0) == 4, "the host's drop ran B's dtor");
        CHECK(own.kind == 0, "drop releases the value");
    }
    /* A blob the host made itself, lent to B, which lends it back. */
    B.sizes[40] = 99;
    whirl_cval_t hb = cv_res(WHIRL_CVAL_BORROW, B.rt, 40);
    CHECK(call_u32(inst, "b", "measure-blob", &hb, 1) == 99, "b.measure-blob(host blob)");
    whirl_cval_t ho = cv_res(WHIRL_CVAL_OWN, B.rt, 41);
    CHECK_OK(whirl_component_resource_drop(s, &ho), "host drops its own blob");
    CHECK(B.dtors == 2 && B.last_dropped == 41, "the host destructor ran for blob 41");
}

typedef struct res_trap {
    const char *iface, *name, *needle;
    int arg; /* 0: none, 1: borrow<blob>, 2: own<blob> */
} res_trap_t;

static const res_trap_t res_traps[] = {
    {"a", "use-after-consume", "unknown handle index", 0},
    {"a", "drop-twice", "unknown handle index", 0},
    {"a", "wrong-type", "is a `blob`, expected a `counter`", 0},
    {"a", "bad-handle", "unknown handle index 99", 0},
    {"a", "lend-and-move", "lent out", 0},
    {"a", "drop-blob-as-counter", "resource.drop: handle", 0},
    {"b", "keep-borrow", "borrowed handle(s) not dropped", 1},
    {"b", "rep-of-borrow", "resource.rep: handle", 1},
    {"b", "consume", "where `counter` was expected", 2},
};

void test_resources(void)
{
    memset(&B, 0, sizeof B);
    blob_type_finalized = 0;
    B.rt = whirl_resource_type_new("blob", blob_dtor, NULL, blob_type_finalizer);
    whirl_component_t *c = t_load("resources");
    whirl_component_linker_t *l = res_linker();
    whirl_resource_type_delete(B.rt); /* the linker holds its own reference */
    if (c) {
        whirl_store_t *s;
        whirl_component_instance_t *inst = t_instantiate(l, c, &s);
        if (inst)
            test_resource_flows(inst);
        whirl_store_delete(s);
        for (size_t i = 0; i < sizeof res_traps / sizeof *res_traps; i++) {
            const res_trap_t *rt = &res_traps[i];
            inst = t_instantiate(l, c, &s);
            if (!inst) {
                whirl_store_delete(s);
                continue;
            }
            whirl_cval_t arg = cv_res(rt->arg == 1 ? WHIRL_CVAL_BORROW : WHIRL_CVAL_OWN, B.rt, 3);
            whirl_cval_t res = {0};
            B.sizes[3] = 3;
            CHECK_TRAP(t_call(inst, rt->iface, rt->name, rt->arg ? &arg : NULL, rt->arg ? 1 : 0,
                              &res), rt->needle, rt->name);
            whirl_cval_release(&res);
            whirl_store_delete(s);
        }
    }
    whirl_component_linker_delete(l);
    whirl_component_delete(c);
    CHECK(blob_type_finalized == 1, "the host resource type was freed with its last user (%d)",
          blob_type_finalized);
}
