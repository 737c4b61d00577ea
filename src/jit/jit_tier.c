/* The auto tier: see jit_tier.h.
 *
 * The interpreter counts down each candidate's `hotness` (calls and loop
 * back-edges, relaxed atomics); at zero it calls tier_hot, which queues the
 * function once (the module's `queued` flags). A compile thread takes every
 * queued function of one module as a batch (the cheapest first, up to a
 * budget: see take_batch), compiles them together
 * (calls inside the batch are direct; to the others through the runtime,
 * which picks up their native code once published) and publishes the code.
 * The module keeps each batch's code until it is freed; freeing a module
 * drops its queued work and waits for a batch in flight.
 *
 * On-stack replacement (jit_osr.c): the counter trips at a loop's
 * back-edge too. If that loop is one the LLVM tier can enter from a running
 * frame (compiled_func_t.osr_loops), tier_auto_loop_hot also asks for the
 * function's variant entered at that loop (a job with `osr_loop`), and
 * re-arms the counter so that the frame polls again; once the variant is
 * built, the poll returns its entry and the interpreter moves the frame
 * into it. Variants live in per-function lists under the pool's lock (a
 * poll takes it once per `tier_threshold` back-edges). */
#include "jit/jit_tier.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "runtime/internal.h"
#include "util/error.h"

/* One on-stack replacement variant of a function: requested, built (its
 * entry) or failed. */
enum { OSR_REQUESTED, OSR_READY, OSR_FAILED };
typedef struct osr_variant {
    struct osr_variant *next;
    uint32_t loop; /* byte offset of the `loop` */
    int state;
    native_entry_t entry;
} osr_variant_t;

typedef struct tier_job {
    struct tier_job *next;
    whirl_module_t *module;
    uint32_t defined; /* index among the module's defined functions */
    bool compile;     /* the function itself (else only the variant) */
    osr_variant_t *osr; /* a variant to build, or NULL */
} tier_job_t;

struct tier_pool {
    whirl_engine_t *engine;
    pthread_mutex_t lock;
    pthread_cond_t wake;  /* work queued, or stop */
    pthread_cond_t idle;  /* a batch finished */
    tier_job_t *head, *tail;
    bool stop;
    unsigned nthreads;
    pthread_t threads[2];
};

struct tier_state {
    _Atomic uint8_t *queued; /* per defined function: queued or compiled once */
    unsigned compiling;      /* batches in flight (under the pool's lock) */
    jit_code_t **codes;      /* every batch's code, freed with the module */
    size_t ncodes;
    osr_variant_t **osr;     /* per defined function (under the pool's lock) */
    const void **last_frame; /* per defined function: the frame of the last poll (lock) */
    _Atomic uint64_t osr_entered; /* frames moved into native code */
};

/* Creating a pool: one engine's first hot functions may come from several
 * threads at once. */
static pthread_mutex_t pool_create_lock = PTHREAD_MUTEX_INITIALIZER;

/* ------------------------------------------------------------ modules */

void tier_auto_module(whirl_module_t *module)
{
    /* A tail call costs no stack only while caller and callee run in one
     * tier: the interpreter enters native code, and native code the
     * interpreter, as a nested call. Functions tiered up one by one would
     * mix the tiers within a tail-calling chain, and a million-step chain
     * would exhaust the stack. Until whole modules tier up together, a
     * module that tail-calls stays interpreted under auto (tier=jit
     * compiles it whole). */
    if (module->code->tail_calls)
        return;
    struct tier_state *st = calloc(1, sizeof *st);
    uint32_t n = module->code->nfuncs;
    if (!st || !(st->queued = calloc(n ? n : 1, sizeof *st->queued)) ||
        !(st->osr = calloc(n ? n : 1, sizeof *st->osr)) ||
        !(st->last_frame = calloc(n ? n : 1, sizeof *st->last_frame))) {
        if (st) {
            free((void *)st->queued);
            free(st->osr);
        }
        free(st); /* no tiering up for this module: it is interpreted */
        return;
    }
    uint64_t threshold = ENGINE_KNOB(module->engine, KNOB_TIER_THRESHOLD);
    for (uint32_t i = 0; i < n; i++)
        atomic_init(&module->code->funcs[i].hotness, (uint32_t)threshold);
    module->tier = st;
}

void tier_auto_module_free(whirl_module_t *module)
{
    struct tier_state *st = module->tier;
    if (!st)
        return;
    struct tier_pool *p = atomic_load_explicit(&module->engine->tier_pool, memory_order_acquire);
    if (p) {
        pthread_mutex_lock(&p->lock);
        tier_job_t **link = &p->head, *last = NULL;
        while (*link) {
            tier_job_t *j = *link;
            if (j->module == module) {
                *link = j->next;
                free(j);
            } else {
                last = j;
                link = &j->next;
            }
        }
        p->tail = last;
        while (st->compiling)
            pthread_cond_wait(&p->idle, &p->lock);
        pthread_mutex_unlock(&p->lock);
    }
    for (size_t i = 0; i < st->ncodes; i++)
        jit_code_free(st->codes[i]);
    free(st->codes);
    for (uint32_t i = 0; i < module->code->nfuncs; i++)
        for (osr_variant_t *v = st->osr[i], *next; v; v = next) {
            next = v->next;
            free(v);
        }
    free(st->osr);
    free(st->last_frame);
    free((void *)st->queued);
    free(st);
    module->tier = NULL;
}

/* ------------------------------------------------------------ threads */

/* A batch's on-stack replacement requests: (function index, loop) pairs
 * for jit_options_t.osr, and the variants they fill. */
typedef struct osr_batch {
    uint32_t *pairs;
    osr_variant_t **variants;
    size_t n, cap;
} osr_batch_t;

static bool osr_batch_add(osr_batch_t *b, uint32_t index, osr_variant_t *v)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 4;
        uint32_t *pairs = realloc(b->pairs, cap * 2 * sizeof *pairs);
        if (!pairs)
            return false;
        b->pairs = pairs;
        osr_variant_t **vs = realloc(b->variants, cap * sizeof *vs);
        if (!vs)
            return false;
        b->variants = vs;
        b->cap = cap;
    }
    b->pairs[2 * b->n] = index;
    b->pairs[2 * b->n + 1] = v->loop;
    b->variants[b->n++] = v;
    return true;
}

static bool job_osr_only(const tier_job_t *j) { return j->osr && !j->compile; }

/* A job's cost: the bytes of the function it translates (a variant is a
 * copy of its function). */
static uint64_t job_bytes(const tier_job_t *j)
{
    const wasm_func_t *fn = &j->module->wasm->funcs[j->defined];
    return (uint64_t)(fn->code_end - fn->code);
}

/* A batch takes about the sum of its functions' compile times, and every
 * frame or caller waiting for one of them waits for all: shortest jobs
 * first. A batch holds up to BATCH_BYTES of functions, or a quarter of
 * what the module has queued when that is more (a large module's backlog,
 * thousands of hot functions, then goes in a few batches, not hundreds,
 * each of which costs a JIT), and at least one job. On equal sizes a
 * variant goes first (a running frame waits for it). */
#define BATCH_BYTES 4096

static int job_cmp(const void *pa, const void *pb)
{
    const tier_job_t *a = *(tier_job_t *const *)pa, *b = *(tier_job_t *const *)pb;
    uint64_t x = job_bytes(a), y = job_bytes(b);
    if (x != y)
        return x < y ? -1 : 1;
    return (int)job_osr_only(b) - (int)job_osr_only(a);
}

static void take_job(tier_job_t *j, uint32_t nimports, bool *only, osr_batch_t *osr)
{
    if (only && j->compile)
        only[nimports + j->defined] = true;
    if (j->osr && !osr_batch_add(osr, nimports + j->defined, j->osr))
        j->osr->state = OSR_FAILED;
    free(j);
}

/* Takes a batch of the first job's module (the lock held): its queued jobs
 * from the cheapest (see above); the others go back to the queue's end.
 * Fills `only` (per function index) and `osr`. */
static whirl_module_t *take_batch(struct tier_pool *p, bool **only, osr_batch_t *osr)
{
    whirl_module_t *m = p->head->module;
    uint32_t nimports = m->wasm->nfunc_imports;
    *only = calloc((size_t)nimports + m->code->nfuncs + 1, sizeof **only);
    size_t n = 0;
    uint64_t queued = 0;
    for (tier_job_t *j = p->head; j; j = j->next)
        if (j->module == m) {
            n++;
            queued += job_bytes(j);
        }
    tier_job_t **mine = malloc(n * sizeof *mine);
    if (!mine) {
        /* Without room to sort: the first job alone. */
        tier_job_t *j = p->head;
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        take_job(j, nimports, *only, osr);
        return m;
    }
    /* Unlinks the module's jobs, sorts them by cost and takes the cheapest
     * within the budget. */
    size_t k = 0;
    tier_job_t **link = &p->head;
    while (*link) {
        tier_job_t *j = *link;
        if (j->module == m) {
            mine[k++] = j;
            *link = j->next;
        } else {
            link = &j->next;
        }
    }
    qsort(mine, n, sizeof *mine, job_cmp);
    uint64_t budget = queued / 4 > BATCH_BYTES ? queued / 4 : BATCH_BYTES, taken = 0;
    size_t t = 0;
    for (; t < n && (t == 0 || taken + job_bytes(mine[t]) <= budget); t++) {
        taken += job_bytes(mine[t]);
        take_job(mine[t], nimports, *only, osr);
    }
    /* The rest go to the end: other modules' jobs get a turn first. */
    p->tail = NULL;
    for (tier_job_t *j = p->head; j; j = j->next)
        p->tail = j;
    for (size_t i = t; i < n; i++) {
        mine[i]->next = NULL;
        if (p->tail)
            p->tail->next = mine[i];
        else
            p->head = mine[i];
        p->tail = mine[i];
    }
    free(mine);
    return m;
}

static void *compile_thread(void *arg)
{
    struct tier_pool *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stop) {
        if (!p->head) {
            pthread_cond_wait(&p->wake, &p->lock);
            continue;
        }
        bool *only = NULL;
        osr_batch_t osr = {0};
        whirl_module_t *m = take_batch(p, &only, &osr);
        struct tier_state *st = m->tier;
        st->compiling++;
        pthread_mutex_unlock(&p->lock);

        jit_code_t *code = NULL;
        jit_options_t opt = {.only = only,
                             .perfmap = ENGINE_KNOB(m->engine, KNOB_PERFMAP) != 0,
                             .jitdump = ENGINE_KNOB(m->engine, KNOB_JITDUMP) != 0,
                             .debug_info = ENGINE_KNOB(m->engine, KNOB_DEBUG_INFO) != 0,
                             .guard_memory = jit_guard_enabled(),
                             .osr = osr.pairs,
                             .nosr = osr.n};
        whirl_error_t *err = only ? jit_compile(m->wasm, &opt, &code) : error_oom();
        free(only);
        if (err) {
            /* Those functions stay interpreted; never queued again. */
            engine_log(m->engine, WHIRL_LOG_WARNING, "jit_failed", "reason=\"%s\"",
                       whirl_error_message(err));
            whirl_error_delete(err);
        }

        pthread_mutex_lock(&p->lock);
        if (code) {
            jit_code_t **codes = realloc(st->codes, (st->ncodes + 1) * sizeof *codes);
            if (codes) {
                st->codes = codes;
                st->codes[st->ncodes++] = code;
                tier_publish(m, code);
            } else {
                jit_code_free(code);
                code = NULL;
            }
        }
        for (size_t i = 0; i < osr.n; i++) {
            void *entry = code ? jit_code_osr_entry(code, i) : NULL;
            osr.variants[i]->entry = (native_entry_t)entry;
            osr.variants[i]->state = entry ? OSR_READY : OSR_FAILED;
            /* native_enter checks the memory's reservation for guarded
             * code: the batch may have published no function itself. */
            if (entry && jit_code_guarded(code))
                atomic_store_explicit(&m->native_guarded, true, memory_order_release);
        }
        free(osr.pairs);
        free(osr.variants);
        st->compiling--;
        pthread_cond_broadcast(&p->idle);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static struct tier_pool *pool_get(whirl_engine_t *engine)
{
    struct tier_pool *p = atomic_load_explicit(&engine->tier_pool, memory_order_acquire);
    if (p)
        return p;
    pthread_mutex_lock(&pool_create_lock);
    p = atomic_load_explicit(&engine->tier_pool, memory_order_acquire);
    if (!p && (p = calloc(1, sizeof *p))) {
        p->engine = engine;
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->wake, NULL);
        pthread_cond_init(&p->idle, NULL);
        /* Compiling competes with the guests for the cores: one thread,
         * two on machines with four cores or more. */
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        unsigned want = cpus >= 4 ? 2 : 1;
        for (unsigned i = 0; i < want; i++)
            if (pthread_create(&p->threads[p->nthreads], NULL, compile_thread, p) == 0)
                p->nthreads++;
        atomic_store_explicit(&engine->tier_pool, p, memory_order_release);
    }
    pthread_mutex_unlock(&pool_create_lock);
    return p;
}

/* Queues a job (the pool's lock held). */
static void enqueue(struct tier_pool *p, tier_job_t *j)
{
    j->next = NULL;
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    pthread_cond_signal(&p->wake);
}

/* Lets the function's interpreted frames poll again after another
 * threshold of ticks (tier_auto_loop_hot). */
static void rearm(whirl_module_t *module, const compiled_func_t *f)
{
    uint64_t threshold = ENGINE_KNOB(module->engine, KNOB_TIER_THRESHOLD);
    atomic_store_explicit(&((compiled_func_t *)f)->hotness, threshold ? (uint32_t)threshold : 1,
                          memory_order_relaxed);
}

void tier_auto_hot(whirl_module_t *module, const compiled_func_t *f)
{
    struct tier_state *st = module->tier;
    if (!st)
        return;
    uint32_t defined = (uint32_t)(f - module->code->funcs);
    if (defined >= module->code->nfuncs)
        return;
    /* A frame of it still running in the interpreter may want to move to
     * native code at a loop: keep counting for its back-edges. */
    if (f->nosr_loops)
        rearm(module, f);
    if (atomic_exchange_explicit(&st->queued[defined], 1, memory_order_relaxed))
        return;
    struct tier_pool *p = pool_get(module->engine);
    tier_job_t *j = p && p->nthreads ? calloc(1, sizeof *j) : NULL;
    if (!j)
        return; /* stays interpreted */
    j->module = module;
    j->defined = defined;
    j->compile = true;
    pthread_mutex_lock(&p->lock);
    enqueue(p, j);
    pthread_mutex_unlock(&p->lock);
}

/* The byte offset of the loop whose header is at code position `pc` of
 * `f`, if a frame can move into native code there; else 0. */
static uint32_t osr_loop_at(const compiled_func_t *f, uint32_t pc)
{
    uint32_t found = 0;
    /* In code order; nested loops may share a header (no code between
     * them), where entering either is the same: take the last. */
    for (uint32_t i = 0; i < f->nosr_loops && f->osr_loops[2 * i] <= pc; i++)
        if (f->osr_loops[2 * i] == pc)
            found = f->osr_loops[2 * i + 1];
    return found;
}

/* Variants of one function at most: each is a copy of it, compiled on
 * the guest's cores. */
#define OSR_MAX_VARIANTS 2

native_entry_t tier_auto_loop_hot(whirl_module_t *module, const compiled_func_t *f, uint32_t pc,
                                  const void *frame)
{
    struct tier_state *st = module->tier;
    uint32_t defined = (uint32_t)(f - module->code->funcs);
    if (!st || defined >= module->code->nfuncs)
        return NULL;
    uint32_t loop = osr_loop_at(f, pc);
    if (!loop) {
        tier_auto_hot(module, f);
        return NULL;
    }
    struct tier_pool *p = pool_get(module->engine);
    if (!p || !p->nthreads)
        return NULL;
    native_entry_t entry = NULL;
    bool poll = true;
    pthread_mutex_lock(&p->lock);
    osr_variant_t *v = st->osr[defined];
    unsigned variants = 0;
    bool pending = false;
    for (osr_variant_t *w = st->osr[defined]; w; w = w->next) {
        variants++;
        pending |= w->state == OSR_REQUESTED;
        if (w->loop == loop)
            v = w;
    }
    if (v && v->loop != loop)
        v = NULL;
    if (!v) {
        /* A variant is asked for when the function first gets hot at this
         * back-edge (one batch with the function), or when the same frame
         * polls again (it has run a threshold of back-edges more in the
         * interpreter): not for every short invocation that happens to be
         * in a loop when the counter trips. */
        bool first = !atomic_exchange_explicit(&st->queued[defined], 1, memory_order_relaxed);
        bool want = !pending && variants < OSR_MAX_VARIANTS &&
                    (first || st->last_frame[defined] == frame);
        osr_variant_t *nv = want ? calloc(1, sizeof *nv) : NULL;
        tier_job_t *j = want || first ? calloc(1, sizeof *j) : NULL;
        /* The frame waiting here needs only the variant: the function
         * itself (for its next calls) is a job of its own, queued after
         * it, so the variant is built alone first (take_batch). */
        tier_job_t *body = j && nv && first ? calloc(1, sizeof *body) : NULL;
        if (j) {
            j->module = module;
            j->defined = defined;
            j->compile = first && !body;
            if (nv) {
                nv->loop = loop;
                nv->state = OSR_REQUESTED;
                nv->next = st->osr[defined];
                st->osr[defined] = nv;
                j->osr = nv;
            }
            enqueue(p, j);
            if (body) {
                *body = (tier_job_t){.module = module, .defined = defined, .compile = true};
                enqueue(p, body);
            }
        } else {
            free(nv);
        }
    } else if (v->state == OSR_READY) {
        entry = v->entry;
        atomic_fetch_add_explicit(&st->osr_entered, 1, memory_order_relaxed);
    } else if (v->state == OSR_FAILED) {
        poll = false;
    }
    st->last_frame[defined] = frame;
    pthread_mutex_unlock(&p->lock);
    /* Polling again: this frame until its variant is built; with an
     * entry, other frames of the function (other threads) later. */
    if (poll)
        rearm(module, f);
    return entry;
}

bool tier_auto_idle(whirl_module_t *module)
{
    struct tier_state *st = module->tier;
    struct tier_pool *p = atomic_load_explicit(&module->engine->tier_pool, memory_order_acquire);
    if (!st || !p)
        return true;
    pthread_mutex_lock(&p->lock);
    bool idle = st->compiling == 0;
    for (tier_job_t *j = p->head; j && idle; j = j->next)
        idle = j->module != module;
    pthread_mutex_unlock(&p->lock);
    return idle;
}

uint64_t tier_auto_osr_entered(const whirl_module_t *module)
{
    const struct tier_state *st = module->tier;
    return st ? atomic_load_explicit(&st->osr_entered, memory_order_relaxed) : 0;
}

void tier_auto_engine_free(whirl_engine_t *engine)
{
    struct tier_pool *p = atomic_load_explicit(&engine->tier_pool, memory_order_acquire);
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    /* Every module is gone (whirl_engine_delete's contract), and with them
     * their jobs. */
    for (tier_job_t *j = p->head, *next; j; j = next) {
        next = j->next;
        free(j);
    }
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->idle);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
