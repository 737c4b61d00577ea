/* Guard-region faults in guest native code become Wasm traps.
 *
 * Native code compiled for a guarded memory (a 32-bit memory whose
 * reservation covers 4 GiB plus a guard larger than any static offset and
 * access width: ALLOC_MEMORY_RESERVATION) loads and stores without an
 * explicit bounds check; an access past the accessible end faults instead.
 * The SIGSEGV/SIGBUS handler here, installed once per process when the
 * first such code is loaded, turns a fault into the trap when both
 *   - the faulting PC lies in registered guest code (trap_signal_code_add,
 *     a registry read by the handler without locks), and
 *   - the faulting address lies in a memory reservation of the instance
 *     whose native code this thread is running (trap_signal_enter);
 * every other fault goes to the handler installed before ours (SA_SIGINFO
 * or plain; SIG_DFL/SIG_IGN: the default action, re-raised), so a host
 * keeps its own SIGSEGV handling and sanitizers keep theirs.
 *
 * The handler itself does nothing but compare addresses: it rewrites the
 * interrupted context (trap_signal_arch.h) so that, once the kernel
 * returns from the signal, the thread "calls" trap_signal_resume at the
 * faulting instruction, on the guest's own stack with the signal mask
 * restored. That function then takes the ordinary trap path (error
 * allocation, backtrace from the interrupted frame pointer's chain,
 * longjmp to native_enter),
 * which is safe there because guest code holds no locks or allocations.
 * Works the same on a fiber stack and with sigaltstack (the handler never
 * jumps; it only edits the saved registers). */
#ifndef WHIRL_RUNTIME_TRAP_SIGNAL_H
#define WHIRL_RUNTIME_TRAP_SIGNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Installs the handler for SIGSEGV and SIGBUS once per process (later
 * calls return the first result). False if sigaction refused. */
bool trap_signal_install(void);

/* Registers [start, end) as guest code owned by `owner` (handed back to
 * the resolver); `faults`: a guard fault in it is a trap (code compiled
 * without bounds checks), else the range is only known to
 * trap_signal_code_find (backtraces). False when out of memory: the caller
 * must then not run code that relies on faults. Writers serialise on a
 * mutex; the handler reads without locks. */
bool trap_signal_code_add(uintptr_t start, uintptr_t end, const void *owner, bool faults);
/* Before the code is freed. */
void trap_signal_code_remove(uintptr_t start);
/* The owner of the code containing `pc` whose faults are traps, or NULL.
 * Async-signal-safe. */
const void *trap_signal_code_owner(uintptr_t pc);
/* The owner of any registered code containing `pc`, or NULL. */
const void *trap_signal_code_find(uintptr_t pc);

/* What the handler needs of the running native activation, per thread:
 * the reservation faults may hit ([base, base + len)) and an opaque
 * pointer for the resolver. trap_signal_enter returns the previous state,
 * for trap_signal_leave to restore (activations nest). */
typedef struct trap_signal_activation {
    uintptr_t mem_base;
    size_t mem_len;     /* 0: no memory whose faults are traps */
    void *store;
} trap_signal_activation_t;

trap_signal_activation_t trap_signal_enter(const trap_signal_activation_t *now);
void trap_signal_leave(const trap_signal_activation_t *saved);

/* Called (not in signal context) after a guard fault at `pc` in code of
 * `owner`, with the activation's store and the frame pointer the faulting
 * function had (its frame's chain names the callers): must not return (it
 * unwinds to the activation's entry). Set once by the tier. */
typedef void (*trap_signal_resolver_t)(void *store, const void *owner, uintptr_t pc,
                                       uintptr_t fp);
void trap_signal_set_resolver(trap_signal_resolver_t fn);

/* How many faults became traps (tests). */
uint64_t trap_signal_count(void);

#endif
