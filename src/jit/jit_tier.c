/* The auto tier: see jit_tier.h.
 *
 * The interpreter counts down each candidate's `hotness` (calls and loop
 * back-edges, relaxed atomics); at zero it calls tier_hot, which queues the
 * function once (the module's `queued` flags). A compile thread takes every
 * queued function of one module as a batch, compiles them together
 * (calls inside the batch are direct; to the others through the runtime,
 * which picks up their native code once published) and publishes the code.
 * The module keeps each batch's code until it is freed; freeing a module
 * drops its queued work and waits for a batch in flight. */
#include "jit/jit_tier.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "runtime/internal.h"
#include "util/error.h"

typedef struct tier_job {
    struct tier_job *next;
    whirl_module_t *module;
    uint32_t defined; /* index among the module's defined functions */
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
};

/* Creating a pool: one engine's first hot functions may come from several
 * threads at once. */
static pthread_mutex_t pool_create_lock = PTHREAD_MUTEX_INITIALIZER;

/* ------------------------------------------------------------ modules */

void tier_auto_module(whirl_module_t *module)
{
    struct tier_state *st = calloc(1, sizeof *st);
    uint32_t n = module->code->nfuncs;
    if (!st || !(st->queued = calloc(n ? n : 1, sizeof *st->queued))) {
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
    free((void *)st->queued);
    free(st);
    module->tier = NULL;
}

/* ------------------------------------------------------------ threads */

/* Takes the first job's module and every other queued job of it (the
 * lock held); fills `only` (per function index). */
static whirl_module_t *take_batch(struct tier_pool *p, bool **only)
{
    tier_job_t *first = p->head;
    whirl_module_t *m = first->module;
    uint32_t nimports = m->wasm->nfunc_imports;
    *only = calloc((size_t)nimports + m->code->nfuncs + 1, sizeof **only);
    tier_job_t **link = &p->head, *last = NULL;
    while (*link) {
        tier_job_t *j = *link;
        if (j->module == m) {
            if (*only)
                (*only)[nimports + j->defined] = true;
            *link = j->next;
            free(j);
        } else {
            last = j;
            link = &j->next;
        }
    }
    p->tail = last;
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
        whirl_module_t *m = take_batch(p, &only);
        struct tier_state *st = m->tier;
        st->compiling++;
        pthread_mutex_unlock(&p->lock);

        jit_code_t *code = NULL;
        jit_options_t opt = {.only = only,
                             .perfmap = ENGINE_KNOB(m->engine, KNOB_PERFMAP) != 0,
                             .jitdump = ENGINE_KNOB(m->engine, KNOB_JITDUMP) != 0,
                             .debug_info = ENGINE_KNOB(m->engine, KNOB_DEBUG_INFO) != 0,
                             .guard_memory = jit_guard_enabled()};
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
            }
        }
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

void tier_auto_hot(whirl_module_t *module, const compiled_func_t *f)
{
    struct tier_state *st = module->tier;
    if (!st)
        return;
    uint32_t defined = (uint32_t)(f - module->code->funcs);
    if (defined >= module->code->nfuncs ||
        atomic_exchange_explicit(&st->queued[defined], 1, memory_order_relaxed))
        return;
    struct tier_pool *p = pool_get(module->engine);
    tier_job_t *j = p && p->nthreads ? malloc(sizeof *j) : NULL;
    if (!j)
        return; /* stays interpreted */
    j->next = NULL;
    j->module = module;
    j->defined = defined;
    pthread_mutex_lock(&p->lock);
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
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
