/* Guard-region faults become traps: see trap_signal.h. */
#define _GNU_SOURCE
#include "runtime/trap_signal.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/trap_signal_arch.h"

/* ---------------------------------------------------------- the registry */

/* Code ranges live in chunks of fixed slots that are never freed (a freed
 * slot is reused), so the handler can walk them at any moment without a
 * lock: a slot is published by storing `start` last (release) and retired
 * by zeroing `start`. A slot being changed while a handler reads it can
 * only concern code this thread is not running. */
#define CODE_SLOTS 128

typedef struct code_chunk {
    _Atomic uintptr_t start[CODE_SLOTS];
    _Atomic uintptr_t end[CODE_SLOTS];
    const void *_Atomic owner[CODE_SLOTS];
    _Atomic bool faults[CODE_SLOTS]; /* its guard faults are traps */
    struct code_chunk *_Atomic next;
} code_chunk_t;

static code_chunk_t first_chunk;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

bool trap_signal_code_add(uintptr_t start, uintptr_t end, const void *owner, bool faults)
{
    if (!start || end <= start)
        return false;
    pthread_mutex_lock(&registry_lock);
    code_chunk_t *c = &first_chunk, *last = c;
    for (; c; last = c, c = atomic_load_explicit(&c->next, memory_order_acquire)) {
        for (unsigned i = 0; i < CODE_SLOTS; i++) {
            if (atomic_load_explicit(&c->start[i], memory_order_relaxed))
                continue;
            atomic_store_explicit(&c->end[i], end, memory_order_relaxed);
            atomic_store_explicit(&c->owner[i], owner, memory_order_relaxed);
            atomic_store_explicit(&c->faults[i], faults, memory_order_relaxed);
            atomic_store_explicit(&c->start[i], start, memory_order_release);
            pthread_mutex_unlock(&registry_lock);
            return true;
        }
    }
    code_chunk_t *n = calloc(1, sizeof *n);
    if (n) {
        atomic_store_explicit(&n->end[0], end, memory_order_relaxed);
        atomic_store_explicit(&n->owner[0], owner, memory_order_relaxed);
        atomic_store_explicit(&n->faults[0], faults, memory_order_relaxed);
        atomic_store_explicit(&n->start[0], start, memory_order_relaxed);
        atomic_store_explicit(&last->next, n, memory_order_release);
    }
    pthread_mutex_unlock(&registry_lock);
    return n != NULL;
}

void trap_signal_code_remove(uintptr_t start)
{
    if (!start)
        return;
    pthread_mutex_lock(&registry_lock);
    for (code_chunk_t *c = &first_chunk; c; c = atomic_load_explicit(&c->next, memory_order_acquire))
        for (unsigned i = 0; i < CODE_SLOTS; i++)
            if (atomic_load_explicit(&c->start[i], memory_order_relaxed) == start)
                atomic_store_explicit(&c->start[i], 0, memory_order_release);
    pthread_mutex_unlock(&registry_lock);
}

static const void *code_find(uintptr_t pc, bool faulting)
{
    for (code_chunk_t *c = &first_chunk; c; c = atomic_load_explicit(&c->next, memory_order_acquire))
        for (unsigned i = 0; i < CODE_SLOTS; i++) {
            uintptr_t s = atomic_load_explicit(&c->start[i], memory_order_acquire);
            if (s && pc >= s && pc < atomic_load_explicit(&c->end[i], memory_order_relaxed))
                return !faulting || atomic_load_explicit(&c->faults[i], memory_order_relaxed)
                           ? atomic_load_explicit(&c->owner[i], memory_order_relaxed)
                           : NULL;
        }
    return NULL;
}

const void *trap_signal_code_owner(uintptr_t pc) { return code_find(pc, true); }
const void *trap_signal_code_find(uintptr_t pc) { return code_find(pc, false); }

/* ------------------------------------------------------ the activation */

/* initial-exec: reading it from a signal handler never allocates. */
static __thread trap_signal_activation_t current __attribute__((tls_model("initial-exec")));

trap_signal_activation_t trap_signal_enter(const trap_signal_activation_t *now)
{
    trap_signal_activation_t saved = current;
    current = *now;
    atomic_signal_fence(memory_order_seq_cst);
    return saved;
}

void trap_signal_leave(const trap_signal_activation_t *saved)
{
    atomic_signal_fence(memory_order_seq_cst);
    current = *saved;
}

/* --------------------------------------------------------- the handler */

static _Atomic(trap_signal_resolver_t) resolver;
static _Atomic uint64_t traps;
static struct sigaction previous_segv, previous_bus;

void trap_signal_set_resolver(trap_signal_resolver_t fn) { atomic_store(&resolver, fn); }
uint64_t trap_signal_count(void) { return atomic_load(&traps); }

/* Runs after the handler returned, in the faulting thread's own context
 * (trap_signal_arch_redirect). */
__attribute__((noreturn, used)) static void trap_signal_resume(uintptr_t pc, uintptr_t fp)
{
    trap_signal_resolver_t fn = atomic_load(&resolver);
    fn(current.store, trap_signal_code_owner(pc), pc, fp);
    abort(); /* the resolver unwinds; it cannot come back here */
}

/* Hands a fault that is not ours to whoever was there before. */
static void chain(int sig, siginfo_t *info, void *uc)
{
    const struct sigaction *old = sig == SIGBUS ? &previous_bus : &previous_segv;
    if (old->sa_flags & SA_SIGINFO) {
        if (old->sa_sigaction) {
            old->sa_sigaction(sig, info, uc);
            return;
        }
    } else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
        old->sa_handler(sig);
        return;
    }
    /* Default action (a synchronous fault cannot be ignored): restore it
     * and return, so that the instruction faults again and the process
     * ends as it would have without us; a signal sent by kill() is
     * raised again. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL); /* async-signal-safe, unlike signal() */
    if (info->si_code <= 0)
        raise(sig);
}

static void handler(int sig, siginfo_t *info, void *uc)
{
    int saved_errno = errno;
    uintptr_t pc = trap_signal_arch_pc(uc);
    uintptr_t addr = (uintptr_t)info->si_addr;
    trap_signal_activation_t a = current;
    if (info->si_code > 0 && a.mem_len && a.store && addr >= a.mem_base &&
        addr - a.mem_base < a.mem_len && atomic_load_explicit(&resolver, memory_order_relaxed) &&
        trap_signal_code_owner(pc)) {
        atomic_fetch_add_explicit(&traps, 1, memory_order_relaxed);
        trap_signal_arch_redirect(uc, trap_signal_resume, pc);
        errno = saved_errno;
        return;
    }
    chain(sig, info, uc);
    errno = saved_errno;
}

static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static bool installed;

static void install(void)
{
    if (!trap_signal_arch_supported())
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    /* SA_ONSTACK: a host that set up sigaltstack wants handlers there;
     * the handler only edits registers, so either stack works. */
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    installed = sigaction(SIGSEGV, &sa, &previous_segv) == 0 &&
                sigaction(SIGBUS, &sa, &previous_bus) == 0;
}

bool trap_signal_install(void)
{
    pthread_once(&install_once, install);
    return installed;
}
