/* Guest stack sampling on the epoch ticker (whirl_store_set_sampler); see
 * runtime.h for how it shares the deadline's check. */
#include <stdlib.h>

#include "runtime/internal.h"
#include "util/error.h"

static uint64_t now_epoch(const whirl_store_t *store)
{
    return atomic_load_explicit(&store->engine->epoch, memory_order_relaxed);
}

void store_deadline_set(whirl_store_t *store, uint64_t deadline)
{
    store->epoch_hard_deadline = deadline;
    store_deadline_apply(store);
}

uint64_t store_deadline_get(const whirl_store_t *store)
{
    return store->epoch_hard_deadline;
}

bool store_epoch_reached(whirl_store_t *store, uint64_t now)
{
    store_sampler_t *s = store->sampler;
    return s && now < store->epoch_hard_deadline;
}

void store_sample_taken(whirl_store_t *store, size_t nframes)
{
    store_sampler_t *s = store->sampler;
    for (const sample_link_t *l = store->sample_outer; l && nframes < SAMPLE_MAX_FRAMES;
         l = l->outer)
        nframes += l->frames(l, s->frames + nframes, SAMPLE_MAX_FRAMES - nframes);
    if (nframes)
        s->fn(s->env, s->frames, nframes);
    /* From the epoch now: a guest that sat in a host call for many ticks
     * gets one sample, not a burst. */
    uint64_t now = now_epoch(store);
    s->next = now > UINT64_MAX - s->period ? UINT64_MAX : now + s->period;
    store_deadline_apply(store);
}

whirl_error_t *whirl_store_set_sampler(whirl_store_t *store, uint64_t period_ticks,
                                       whirl_sampler_fn_t fn, void *env)
{
    if (!store)
        return error_fmt("whirl_store_set_sampler: store is NULL");
    if (!fn) {
        store_sampler_free(store);
        return NULL;
    }
    if (period_ticks == 0)
        return error_fmt("whirl_store_set_sampler: the period must be at least 1 tick");
    store_sampler_t *s = store->sampler;
    if (!s) {
        s = malloc(sizeof *s);
        if (!s)
            return error_oom();
        store->sampler = s;
    }
    s->fn = fn;
    s->env = env;
    s->period = period_ticks;
    uint64_t now = now_epoch(store);
    s->next = now > UINT64_MAX - period_ticks ? UINT64_MAX : now + period_ticks;
    store_deadline_apply(store);
    return NULL;
}

void store_sampler_free(whirl_store_t *store)
{
    store_sampler_t *s = store->sampler;
    if (!s)
        return;
    store->sampler = NULL;
    free(s);
    store_deadline_apply(store);
}
