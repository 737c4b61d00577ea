/* Whole-module compiles in parts, at once on several threads.
 *
 * LLVM compiles one module on one thread, and its code generator costs
 * about 20 ms per KiB of Wasm: under tier=jit, where every function is
 * compiled before the first call, that time is the program's start-up.
 * Here the defined functions are split into parts of about equal body
 * size, keeping callers with their callees where there is room
 * (assign_parts), each part is compiled to an object by jit_compile_one
 * on its own thread with `only` naming its functions, and the objects
 * are linked into one JIT (as loading a .cwasm in parts does). Each part
 * keeps its own code range, fault registration and call-site map, so a
 * return address or a fault finds its part as it finds any code; the
 * parts' tables are gathered into one jit_code_t. Calls between parts go
 * through the callee's published native code (translate.c op_call,
 * jb_native_of), as between the auto tier's batches: a load, a test and
 * an indirect call. Small functions called directly from another part
 * (memcpy, strlen, a comparison) are compiled into that part as well, so
 * that hot calls to them stay direct; the first part that has a function
 * publishes it (any copy is the same code).
 *
 * The object of code compiled in parts (for .cwasm files and the cache)
 * is a container of the parts' objects:
 *
 *   "WHIRLPRT"  u32 count  u32 0  count x u64 length  (pad to 16)
 *   then each object, each starting 16-byte aligned
 *
 * and loading one links each part again (jit_code_from_object). */
#define _GNU_SOURCE /* qsort_r */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "jit/jit_internal.h"
#include "util/error.h"

/* Below this many bytes of bodies per part, a part costs more in setting
 * up LLVM (a context, a target machine, a thread) than it saves. */
#define PART_MIN_BYTES 4096
#define PARTS_MAX 16
/* Functions up to this size are copied into every part that calls them. */
#define COPY_MAX_BYTES 512

static const char PARTS_MAGIC[8] = {'W', 'H', 'I', 'R', 'L', 'P', 'R', 'T'};
#define PARTS_HEADER 16

typedef struct part_job {
    const wasm_module_t *module;
    jit_options_t opt;
    bool *only;
    uint64_t bytes;
    jit_code_t *code;
    whirl_error_t *err;
} part_job_t;

static void *part_thread(void *arg)
{
    part_job_t *j = arg;
    j->err = jit_compile_one(j->module, &j->opt, &j->code);
    return NULL;
}

static uint64_t body_bytes(const wasm_module_t *m, uint32_t defined)
{
    const wasm_func_t *fn = &m->funcs[defined];
    return (uint64_t)(fn->code_end - fn->code);
}

static int by_size_desc(const void *a, const void *b, void *env)
{
    const wasm_module_t *m = env;
    uint64_t x = body_bytes(m, *(const uint32_t *)a), y = body_bytes(m, *(const uint32_t *)b);
    return (x < y) - (x > y);
}

/* Copies the small callees of a part's functions into it (and theirs). */
typedef struct copy_walk {
    const wasm_module_t *module;
    bool *only;      /* the part's, by function index */
    uint32_t *stack; /* defined functions whose callees are still to see */
    size_t n;
} copy_walk_t;

static void copy_callee(void *env, uint32_t callee)
{
    copy_walk_t *w = env;
    uint32_t nimports = w->module->nfunc_imports;
    if (callee < nimports || w->only[callee] ||
        body_bytes(w->module, callee - nimports) > COPY_MAX_BYTES)
        return;
    w->only[callee] = true;
    w->stack[w->n++] = callee - nimports;
}

static void copy_small_callees(const wasm_module_t *module, bool *only, uint32_t *stack)
{
    copy_walk_t w = {module, only, stack, 0};
    for (uint32_t i = 0; i < module->nfuncs; i++)
        if (only[module->nfunc_imports + i])
            w.stack[w.n++] = i;
    /* Each function is pushed once (only[] marks it first). */
    while (w.n > 0) {
        uint32_t defined = w.stack[--w.n];
        jt_direct_callees(module, &module->funcs[defined], copy_callee, &w);
    }
}

/* Gathers the parts, linked into `jit`, into a new code object that owns
 * them and the JIT (taking both, also on failure): each defined function's
 * code from the first part that has it. */
static whirl_error_t *gather(const wasm_module_t *module, LLVMOrcLLJITRef jit, jit_code_t **parts,
                             size_t n, jit_code_t **out)
{
    jit_code_t *head = jit_code_new(module, parts[0]->guarded);
    jit_code_t **owned = head ? malloc(n * sizeof *owned) : NULL;
    if (!owned) {
        jit_code_free(head);
        for (size_t k = 0; k < n; k++)
            jit_code_free(parts[k]);
        LLVMErrorRef e = LLVMOrcDisposeLLJIT(jit);
        if (e)
            LLVMConsumeError(e);
        return error_oom();
    }
    memcpy(owned, parts, n * sizeof *owned);
    head->jit = jit;
    head->parts = owned;
    head->nparts = n;
    uint32_t ndefined = head->nfuncs - module->nfunc_imports;
    for (size_t k = 0; k < n; k++) {
        const jit_code_t *p = parts[k];
        for (uint32_t i = module->nfunc_imports; i < head->nfuncs; i++) {
            if (!p->native[i]) {
                /* A reason from the part that was to compile it. */
                if (!head->native[i] && p->why_not[i] &&
                    (!head->why_not[i] || strcmp(p->why_not[i], "not selected") != 0))
                    head->why_not[i] = p->why_not[i];
                continue;
            }
            if (head->native[i])
                continue; /* a copy */
            head->native[i] = p->native[i];
            head->entry[i] = p->entry[i];
            head->why_not[i] = NULL;
        }
        head->stats.link_ms += p->stats.link_ms;
    }
    /* Counts and bytes are the module's, copies counted once. */
    for (uint32_t i = module->nfunc_imports; i < head->nfuncs; i++)
        if (head->native[i]) {
            head->stats.compiled++;
            head->stats.code_bytes += body_bytes(module, i - module->nfunc_imports);
        }
    head->stats.unsupported = ndefined - head->stats.compiled;
    *out = head;
    return NULL;
}

/* The container of the parts' objects (jobs[k].code->object): malloc'd. */
static uint8_t *make_container(part_job_t *jobs, size_t n, size_t *len)
{
    size_t at = (PARTS_HEADER + n * 8 + 15) & ~(size_t)15;
    size_t total = at;
    for (size_t k = 0; k < n; k++)
        total = ((total + 15) & ~(size_t)15) + jobs[k].code->object_len;
    uint8_t *c = calloc(1, total);
    if (!c)
        return NULL;
    memcpy(c, PARTS_MAGIC, 8);
    uint32_t count = (uint32_t)n;
    memcpy(c + 8, &count, 4);
    for (size_t k = 0; k < n; k++) {
        const jit_code_t *p = jobs[k].code;
        uint64_t plen = p->object_len;
        memcpy(c + PARTS_HEADER + k * 8, &plen, 8);
        at = (at + 15) & ~(size_t)15;
        memcpy(c + at, p->object, p->object_len);
        at += p->object_len;
    }
    *len = total;
    return c;
}

/* The direct-call graph, both directions (CSR: function i's neighbours
 * are adj[first[i] .. first[i + 1]), one entry per call site). */
typedef struct call_graph {
    uint32_t *first, *adj;
    uint32_t *pairs; /* (caller, callee) while collecting */
    size_t npairs, cap;
    uint32_t caller;
    bool failed;
} call_graph_t;

static void graph_edge(void *env, uint32_t callee)
{
    call_graph_t *g = env;
    if (g->failed)
        return;
    if (g->npairs == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 256;
        uint32_t *p = realloc(g->pairs, cap * 2 * sizeof *p);
        if (!p) {
            g->failed = true;
            return;
        }
        g->pairs = p;
        g->cap = cap;
    }
    g->pairs[2 * g->npairs] = g->caller;
    g->pairs[2 * g->npairs + 1] = callee;
    g->npairs++;
}

static bool graph_build(const wasm_module_t *module, call_graph_t *g)
{
    uint32_t nimports = module->nfunc_imports, n = module->nfuncs;
    for (uint32_t i = 0; i < n && !g->failed; i++) {
        g->caller = i;
        jt_direct_callees(module, &module->funcs[i], graph_edge, g);
    }
    /* Defined callees only, as defined indices. */
    size_t kept = 0;
    for (size_t e = 0; !g->failed && e < g->npairs; e++)
        if (g->pairs[2 * e + 1] >= nimports) {
            g->pairs[2 * kept] = g->pairs[2 * e];
            g->pairs[2 * kept + 1] = g->pairs[2 * e + 1] - nimports;
            kept++;
        }
    g->npairs = kept;
    g->first = g->failed ? NULL : calloc((size_t)n + 2, sizeof *g->first);
    g->adj = g->first ? malloc((2 * kept + 1) * sizeof *g->adj) : NULL;
    if (!g->adj)
        return false;
    for (size_t e = 0; e < kept; e++) {
        g->first[g->pairs[2 * e] + 2]++;
        g->first[g->pairs[2 * e + 1] + 2]++;
    }
    for (uint32_t i = 0; i < n; i++)
        g->first[i + 2] += g->first[i + 1];
    for (size_t e = 0; e < kept; e++) {
        uint32_t a = g->pairs[2 * e], b = g->pairs[2 * e + 1];
        g->adj[g->first[a + 1]++] = b;
        g->adj[g->first[b + 1]++] = a;
    }
    return true;
}

/* Functions to parts: largest first, each to the part it has most call
 * sites with (callers and callees already placed) among those with room
 * (an even share plus 15%), else to the lightest. Keeping callers with
 * their callees keeps hot calls direct (a call between parts is a load, a
 * test and an indirect call). `order` is scratch for ndefined entries. */
static bool assign_parts(const wasm_module_t *module, part_job_t *jobs, size_t n, uint64_t total,
                         uint32_t *order)
{
    uint32_t nimports = module->nfunc_imports, ndefined = module->nfuncs;
    call_graph_t g = {0};
    uint32_t *part = malloc((ndefined ? ndefined : 1) * sizeof *part);
    bool ok = part && graph_build(module, &g);
    uint64_t room = total / n + total * 15 / (100 * n);
    for (uint32_t i = 0; ok && i < ndefined; i++) {
        order[i] = i;
        part[i] = UINT32_MAX;
    }
    if (ok)
        qsort_r(order, ndefined, sizeof *order, by_size_desc, (void *)module);
    for (uint32_t i = 0; ok && i < ndefined; i++) {
        uint32_t f = order[i];
        uint64_t size = body_bytes(module, f);
        uint32_t affinity[PARTS_MAX] = {0};
        for (uint32_t e = g.first[f]; e < g.first[f + 1]; e++)
            if (part[g.adj[e]] != UINT32_MAX)
                affinity[part[g.adj[e]]]++;
        size_t best = SIZE_MAX, lightest = 0;
        for (size_t k = 0; k < n; k++) {
            if (jobs[k].bytes < jobs[lightest].bytes)
                lightest = k;
            if (jobs[k].bytes + size > room)
                continue;
            if (best == SIZE_MAX || affinity[k] > affinity[best] ||
                (affinity[k] == affinity[best] && jobs[k].bytes < jobs[best].bytes))
                best = k;
        }
        if (best == SIZE_MAX)
            best = lightest;
        part[f] = (uint32_t)best;
        jobs[best].only[nimports + f] = true;
        jobs[best].bytes += size;
    }
    free(part);
    free(g.first);
    free(g.adj);
    free(g.pairs);
    return ok;
}

whirl_error_t *jit_compile_parts(const wasm_module_t *module, const jit_options_t *options,
                                 jit_code_t **out)
{
    *out = NULL;
    uint32_t nimports = module->nfunc_imports, ndefined = module->nfuncs;
    uint64_t total = 0;
    for (uint32_t i = 0; i < ndefined; i++)
        total += body_bytes(module, i);
    uint64_t want = options->parts < PARTS_MAX ? options->parts : PARTS_MAX;
    if (want > total / PART_MIN_BYTES)
        want = total / PART_MIN_BYTES;
    if (want > ndefined)
        want = ndefined;
    if (want < 2)
        return jit_compile_one(module, options, out);

    size_t n = (size_t)want;
    part_job_t *jobs = calloc(n, sizeof *jobs);
    uint32_t *order = malloc((ndefined ? ndefined : 1) * sizeof *order);
    bool ok = jobs && order;
    for (size_t k = 0; ok && k < n; k++) {
        jobs[k].only = calloc((size_t)nimports + ndefined + 1, sizeof *jobs[k].only);
        ok = jobs[k].only != NULL;
    }
    if (!ok) {
        for (size_t k = 0; jobs && k < n; k++)
            free(jobs[k].only);
        free(jobs);
        free(order);
        return error_oom();
    }
    if (!assign_parts(module, jobs, n, total, order)) {
        for (size_t k = 0; k < n; k++)
            free(jobs[k].only);
        free(jobs);
        free(order);
        return error_oom();
    }
    for (size_t k = 0; k < n; k++)
        copy_small_callees(module, jobs[k].only, order);
    free(order);

    /* Each part to an object on its own thread; then every object linked
     * into one JIT here, as loading a .cwasm in parts does. */
    pthread_t threads[PARTS_MAX];
    bool started[PARTS_MAX] = {false};
    for (size_t k = 0; k < n; k++) {
        jobs[k].module = module;
        jobs[k].opt = *options;
        jobs[k].opt.only = jobs[k].only;
        jobs[k].opt.parts = 0;
        jobs[k].opt.part = (unsigned)k + 1;
        jobs[k].opt.emit_only = true;
        /* One dump would be overwritten by the next part's. */
        jobs[k].opt.dump_ir = k == 0 ? options->dump_ir : NULL;
        if (k > 0)
            started[k] = pthread_create(&threads[k], NULL, part_thread, &jobs[k]) == 0;
    }
    /* Part 0 here, and any part whose thread did not start. */
    for (size_t k = 0; k < n; k++)
        if (!started[k])
            part_thread(&jobs[k]);
    for (size_t k = 1; k < n; k++)
        if (started[k])
            pthread_join(threads[k], NULL);

    whirl_error_t *err = NULL;
    for (size_t k = 0; k < n && !err; k++)
        if (jobs[k].err) {
            err = jobs[k].err;
            jobs[k].err = NULL;
        }
    size_t clen = 0;
    uint8_t *container = err ? NULL : make_container(jobs, n, &clen);
    if (!err && !container)
        err = error_oom();
    jit_code_t *head = NULL;
    if (!err) {
        jit_options_t link = *options;
        link.keep_object = false; /* the container is kept as made */
        err = jit_code_from_parts_object(module, container, clen, &link, &head);
    }
    for (size_t k = 0; k < n; k++) {
        if (head && jobs[k].code) {
            head->stats.translate_ms += jobs[k].code->stats.translate_ms;
            head->stats.optimize_ms += jobs[k].code->stats.optimize_ms;
            head->stats.codegen_ms += jobs[k].code->stats.codegen_ms;
        }
        whirl_error_delete(jobs[k].err);
        jit_code_free(jobs[k].code);
        free(jobs[k].only);
    }
    free(jobs);
    if (err) {
        free(container);
        return err;
    }
    if (options->keep_object) {
        head->object = container;
        head->object_len = clen;
    } else {
        free(container);
    }
    *out = head;
    return NULL;
}

bool jit_parts_object(const uint8_t *bytes, size_t len)
{
    return len >= PARTS_HEADER && memcmp(bytes, PARTS_MAGIC, 8) == 0;
}

whirl_error_t *jit_code_from_parts_object(const wasm_module_t *module, const uint8_t *bytes,
                                          size_t len, const jit_options_t *options,
                                          jit_code_t **out)
{
    *out = NULL;
    uint32_t count;
    memcpy(&count, bytes + 8, 4);
    if (count < 2 || count > PARTS_MAX || len < PARTS_HEADER + (size_t)count * 8)
        return error_fmt("jit: corrupted native code: %u parts", count);
    if (!jit_llvm_init())
        return error_fmt("jit: LLVM has no native target on this host");
    /* One JIT for every part: creating one costs about a millisecond. */
    LLVMOrcLLJITRef jit = NULL;
    whirl_error_t *err = jit_new_lljit(&jit);
    size_t at = (PARTS_HEADER + (size_t)count * 8 + 15) & ~(size_t)15;
    jit_options_t opt = options ? *options : (jit_options_t){0};
    opt.keep_object = false; /* the container is kept whole below */
    jit_code_t *parts[PARTS_MAX];
    size_t made = 0;
    for (; !err && made < count; made++) {
        uint64_t plen;
        memcpy(&plen, bytes + PARTS_HEADER + made * 8, 8);
        at = (at + 15) & ~(size_t)15;
        if (at > len || plen == 0 || plen > len - at) {
            err = error_fmt("jit: corrupted native code: part %zu overruns the object", made);
            break;
        }
        opt.part = (unsigned)made + 1;
        err = jit_code_from_one_object(module, bytes + at, (size_t)plen, &opt, jit, &parts[made]);
        if (err)
            break;
        at += (size_t)plen;
    }
    if (err) {
        for (size_t k = 0; k < made; k++)
            jit_code_free(parts[k]);
        if (jit) {
            LLVMErrorRef e = LLVMOrcDisposeLLJIT(jit);
            if (e)
                LLVMConsumeError(e);
        }
        return err;
    }
    jit_code_t *head = NULL;
    if ((err = gather(module, jit, parts, count, &head)))
        return err;
    if (options && options->keep_object) {
        if (!(head->object = malloc(len))) {
            jit_code_free(head);
            return error_oom();
        }
        memcpy(head->object, bytes, len);
        head->object_len = len;
    }
    *out = head;
    return NULL;
}
