/* Fibers: guest calls that run on a stack of their own, so that they can be
 * suspended in the middle (an async host function waiting, an epoch
 * slice ending) and resumed later, from the same or another thread.
 *
 * The context switch is per architecture (fiber_<arch>.c implements
 * fiber_arch_switch and fiber_arch_init; FIBER_SUPPORTED says whether one
 * exists); the rest (stacks with guard pages, sanitizer annotations, the
 * thread's current fiber) is portable. */
#ifndef WHIRL_FIBER_H
#define WHIRL_FIBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__)
#define FIBER_SUPPORTED 1
#else
#define FIBER_SUPPORTED 0
#endif

/* ---- per architecture ---- */

/* Saves the running context (callee-saved registers and floating-point
 * control state) on its own stack, stores that stack pointer in *save,
 * loads the context saved at `to` and returns there: the other side's
 * fiber_arch_switch (or a fresh fiber's entry) receives `arg`. */
void *fiber_arch_switch(void **save, void *to, void *arg);
/* Lays out a fresh context on the stack ending at `top` (16-byte aligned)
 * such that switching to the returned pointer calls
 * entry(arg_of_that_switch, start_arg) on that stack. `entry` must never
 * return: it switches away for the last time instead. */
void *fiber_arch_init(void *top, void (*entry)(void *arg, void *start_arg), void *start_arg);

/* ---- stacks ---- */

typedef struct fiber_stack {
    uint8_t *lo, *hi;    /* usable bytes; a guard page lies just below lo */
    uint8_t *map;        /* on-demand mapping (guard included), NULL if pooled */
    size_t map_bytes;
} fiber_stack_t;

/* Least stack a fiber may have, and what must stay free below a call into
 * wasm or a host function on a fiber (exec_call checks it): host code
 * between two such calls may use this much. */
#define FIBER_STACK_MIN ((size_t)128 << 10)
#define FIBER_STACK_RESERVE ((size_t)48 << 10)

/* A stack of `bytes` (rounded up to pages) with a guard page below it,
 * mapped on demand or reused from the process's cache of released ones
 * (which are scrubbed). False if the kernel refuses. */
bool fiber_stack_map(size_t bytes, fiber_stack_t *out);
/* Scrubs a mapped stack and caches or unmaps it. */
void fiber_stack_unmap(fiber_stack_t *stack);
/* The stack at the end of [region, region + region_bytes): the last
 * `bytes`, and the page below them made the guard. False on failure. */
bool fiber_stack_in_region(uint8_t *region, size_t region_bytes, size_t bytes,
                           fiber_stack_t *out);
/* The stack bytes fiber_stack_in_region needs beyond `bytes` (the guard). */
size_t fiber_stack_overhead(void);
/* Returns the stack to zero: pages a tenant touched near the top are
 * zeroed in place (they stay resident for the next tenant), deeper ones
 * are given back to the kernel (they read as zero again). So nothing a
 * host function or the interpreter left on it reaches the next store. */
void fiber_stack_scrub(const fiber_stack_t *stack);

/* ---- fibers ---- */

typedef struct fiber {
    void *sp;               /* the fiber's context while it is not running */
    void *resumer_sp;       /* its resumer's while it runs */
    fiber_stack_t stack;
    struct fiber *outer;    /* the thread's current fiber when this one was resumed */
    bool finished;
    void (*fn)(void *arg);
    void *arg;
    /* Sanitizer bookkeeping (unused without them). */
    void *asan_fake_stack;
    const void *resumer_bottom;
    size_t resumer_size;
    void *tsan_fiber, *tsan_resumer;
} fiber_t;

/* Prepares `f` to run fn(arg) on `stack` at its first fiber_resume. */
void fiber_init(fiber_t *f, const fiber_stack_t *stack, void (*fn)(void *arg), void *arg);
/* Runs `f` on the calling thread until it suspends or fn returns
 * (f->finished). Must not be called on a running or finished fiber. */
void fiber_resume(fiber_t *f);
/* From inside `f` (the current fiber): back to its resumer, whose
 * fiber_resume returns. Returns when the fiber is resumed again, possibly
 * on another thread. */
void fiber_suspend(fiber_t *f);
/* Frees sanitizer state; the stack is the owner's. */
void fiber_destroy(fiber_t *f);
/* The fiber running on this thread, or NULL on the thread's own stack. */
fiber_t *fiber_current(void);
/* Lowest usable stack address of the running context: the current fiber's
 * stack low end, or 0 on a thread's own stack. Inline, for exec_call's
 * check on every call (initial-exec: one load, no __tls_get_addr). Read
 * it afresh after anything that may suspend: a fiber may resume on
 * another thread. */
extern __thread uintptr_t fiber_tls_stack_low __attribute__((tls_model("initial-exec")));
static inline uintptr_t fiber_stack_low(void) { return fiber_tls_stack_low; }

#endif
