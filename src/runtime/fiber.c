/* Fibers (fiber.h): stacks, resuming and suspending, and the thread's
 * current fiber. The context switch itself is per architecture
 * (fiber_x86_64.c). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "alloc/alloc.h"
#include "runtime/fiber.h"
#include "runtime/trap_signal.h"

/* Sanitizers must be told about stack switches: AddressSanitizer keeps
 * shadow state per stack and TSan a per-fiber clock. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FIBER_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define FIBER_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define FIBER_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define FIBER_TSAN 1
#endif

#ifdef FIBER_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef FIBER_TSAN
#include <sanitizer/tsan_interface.h>
#endif

/* ---- stacks ---- */

/* Top bytes of a stack zeroed in place on scrub (and kept resident); the
 * pages below it that a tenant touched are given back instead. */
#define SCRUB_KEEP ((size_t)64 << 10)
/* Released on-demand stacks kept for reuse across the process. */
#define STACK_CACHE_MAX 64

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static fiber_stack_t stack_cache[STACK_CACHE_MAX];
static unsigned stack_cache_count;

size_t fiber_stack_overhead(void) { return alloc_page_size(); }

bool fiber_stack_map(size_t bytes, fiber_stack_t *out)
{
    size_t page = alloc_page_size();
    bytes = alloc_round_up(bytes < FIBER_STACK_MIN ? FIBER_STACK_MIN : bytes, page);
    pthread_mutex_lock(&cache_lock);
    for (unsigned i = stack_cache_count; i-- > 0;) {
        if ((size_t)(stack_cache[i].hi - stack_cache[i].lo) == bytes) {
            *out = stack_cache[i];
            stack_cache[i] = stack_cache[--stack_cache_count];
            pthread_mutex_unlock(&cache_lock);
            return true;
        }
    }
    pthread_mutex_unlock(&cache_lock);
    size_t total = bytes + page;
    uint8_t *map = mmap(NULL, total, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (map == MAP_FAILED)
        return false;
    if (mprotect(map, page, PROT_NONE) != 0) {
        munmap(map, total);
        return false;
    }
    *out = (fiber_stack_t){map + page, map + total, map, total};
    return true;
}

void fiber_stack_unmap(fiber_stack_t *stack)
{
    if (!stack->map)
        return;
    fiber_stack_scrub(stack);
    pthread_mutex_lock(&cache_lock);
    if (stack_cache_count < STACK_CACHE_MAX) {
        stack_cache[stack_cache_count++] = *stack;
        pthread_mutex_unlock(&cache_lock);
    } else {
        pthread_mutex_unlock(&cache_lock);
        munmap(stack->map, stack->map_bytes);
    }
    stack->map = NULL;
}

bool fiber_stack_in_region(uint8_t *region, size_t region_bytes, size_t bytes,
                           fiber_stack_t *out)
{
    size_t page = alloc_page_size();
    if ((uintptr_t)region % page || region_bytes % page || bytes % page ||
        bytes + page > region_bytes)
        return false;
    uint8_t *hi = region + region_bytes, *lo = hi - bytes;
    /* Idempotent: a slot keeps its guard while it stays committed. */
    if (mprotect(lo - page, page, PROT_NONE) != 0)
        return false;
    *out = (fiber_stack_t){lo, hi, NULL, 0};
    return true;
}

void fiber_stack_scrub(const fiber_stack_t *stack)
{
    size_t page = alloc_page_size();
    size_t bytes = (size_t)(stack->hi - stack->lo);
    size_t keep = bytes < SCRUB_KEEP ? bytes : SCRUB_KEEP;
    uint8_t *keep_lo = stack->hi - keep;
#ifdef FIBER_ASAN
    /* Frames that ended by a switch leave their redzones poisoned. */
    __asan_unpoison_memory_region(stack->lo, bytes);
#endif
    /* mincore says which pages were touched since the last scrub (deep
     * ones were dropped then, so only this tenant's are resident):
     * zeroing or dropping only those keeps a shallow call's scrub to a few
     * pages. */
    unsigned char vec[256];
    uint8_t *deep_lo = NULL;
    for (uint8_t *p = stack->lo; p < stack->hi;) {
        size_t n = (size_t)(stack->hi - p) / page;
        if (n > sizeof vec)
            n = sizeof vec;
        if (mincore(p, n * page, vec) != 0) {
            /* Cannot tell: clear everything. */
            memset(keep_lo, 0, keep);
            if (keep_lo > stack->lo)
                madvise(stack->lo, (size_t)(keep_lo - stack->lo), MADV_DONTNEED);
            return;
        }
        for (size_t i = 0; i < n; i++, p += page) {
            if (!(vec[i] & 1))
                continue;
            if (p >= keep_lo)
                memset(p, 0, page);
            else if (!deep_lo)
                deep_lo = p;
        }
    }
    if (deep_lo && madvise(deep_lo, (size_t)(keep_lo - deep_lo), MADV_DONTNEED) != 0)
        memset(deep_lo, 0, (size_t)(keep_lo - deep_lo));
}

/* ---- fibers ---- */

static __thread fiber_t *current;
__thread uintptr_t fiber_tls_stack_low __attribute__((tls_model("initial-exec")));

/* Thread-local accesses go through these, never inlined: a fiber may
 * resume on another thread, and a compiler may otherwise keep a
 * thread-local's address from before a switch. */
__attribute__((noinline)) fiber_t *fiber_current(void) { return current; }
__attribute__((noinline)) static void set_current(fiber_t *f)
{
    current = f;
    fiber_tls_stack_low = f ? (uintptr_t)f->stack.lo : 0;
}

static void fiber_entry(void *arg, void *start_arg)
{
    (void)arg;
    fiber_t *f = start_arg;
#ifdef FIBER_ASAN
    __sanitizer_finish_switch_fiber(NULL, &f->resumer_bottom, &f->resumer_size);
#endif
    f->fn(f->arg);
    f->finished = true;
#ifdef FIBER_ASAN
    /* NULL: this stack is done, its fake frames may go. */
    __sanitizer_start_switch_fiber(NULL, f->resumer_bottom, f->resumer_size);
#endif
#ifdef FIBER_TSAN
    __tsan_switch_to_fiber(f->tsan_resumer, 0);
#endif
    void *dead;
    fiber_arch_switch(&dead, f->resumer_sp, NULL);
    __builtin_unreachable();
}

void fiber_init(fiber_t *f, const fiber_stack_t *stack, void (*fn)(void *arg), void *arg)
{
    memset(f, 0, sizeof *f);
#ifdef FIBER_ASAN
    /* A reused stack keeps the redzones of frames its last fiber never
     * returned from. */
    __asan_unpoison_memory_region(stack->lo, (size_t)(stack->hi - stack->lo));
#endif
    f->stack = *stack;
    f->fn = fn;
    f->arg = arg;
    f->sp = fiber_arch_init((void *)((uintptr_t)stack->hi & ~(uintptr_t)15), fiber_entry, f);
#ifdef FIBER_TSAN
    f->tsan_fiber = __tsan_create_fiber(0);
#endif
}

void fiber_destroy(fiber_t *f)
{
#ifdef FIBER_TSAN
    if (f->tsan_fiber)
        __tsan_destroy_fiber(f->tsan_fiber);
    f->tsan_fiber = NULL;
#else
    (void)f;
#endif
}

void fiber_resume(fiber_t *f)
{
    f->outer = fiber_current();
    set_current(f);
#ifdef FIBER_ASAN
    void *fake = NULL;
    __sanitizer_start_switch_fiber(&fake, f->stack.lo, (size_t)(f->stack.hi - f->stack.lo));
#endif
#ifdef FIBER_TSAN
    f->tsan_resumer = __tsan_get_current_fiber();
    __tsan_switch_to_fiber(f->tsan_fiber, 0);
#endif
    /* The guard-fault handler's view of what runs (trap_signal.h) is per
     * context: the fiber brings its own, the resumer gets its back. */
    static const trap_signal_activation_t none;
    trap_signal_activation_t resumer_act = trap_signal_enter(&none);
    fiber_arch_switch(&f->resumer_sp, f->sp, NULL);
    trap_signal_leave(&resumer_act);
#ifdef FIBER_ASAN
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
    set_current(f->outer);
}

void fiber_suspend(fiber_t *f)
{
#ifdef FIBER_ASAN
    __sanitizer_start_switch_fiber(&f->asan_fake_stack, f->resumer_bottom, f->resumer_size);
#endif
#ifdef FIBER_TSAN
    __tsan_switch_to_fiber(f->tsan_resumer, 0);
#endif
    static const trap_signal_activation_t none;
    trap_signal_activation_t mine = trap_signal_enter(&none);
    fiber_arch_switch(&f->sp, f->resumer_sp, NULL);
    trap_signal_leave(&mine); /* maybe on another thread now */
#ifdef FIBER_ASAN
    __sanitizer_finish_switch_fiber(f->asan_fake_stack, &f->resumer_bottom, &f->resumer_size);
#endif
}
