/* trap_signal_arch.h for x86-64 Linux (and a stub elsewhere). */
#define _GNU_SOURCE
#include "runtime/trap_signal_arch.h"

#include <signal.h>
#include <ucontext.h>

#if defined(__x86_64__) && defined(__linux__)

bool trap_signal_arch_supported(void) { return true; }

uintptr_t trap_signal_arch_pc(const void *ucontext)
{
    return (uintptr_t)((const ucontext_t *)ucontext)->uc_mcontext.gregs[REG_RIP];
}

void trap_signal_arch_redirect(void *ucontext, void (*fn)(uintptr_t, uintptr_t), uintptr_t arg)
{
    greg_t *r = ((ucontext_t *)ucontext)->uc_mcontext.gregs;
    /* Below the 128-byte red zone of the interrupted function, 16-byte
     * aligned, then the return address: rsp % 16 == 8 at fn's entry, as
     * after a call. */
    uintptr_t sp = ((uintptr_t)r[REG_RSP] - 128) & ~(uintptr_t)15;
    sp -= 8;
    *(uintptr_t *)sp = (uintptr_t)r[REG_RIP];
    r[REG_RSP] = (greg_t)sp;
    r[REG_RDI] = (greg_t)arg;
    r[REG_RSI] = r[REG_RBP];
    r[REG_RIP] = (greg_t)(uintptr_t)fn;
}

#else

bool trap_signal_arch_supported(void) { return false; }
uintptr_t trap_signal_arch_pc(const void *ucontext)
{
    (void)ucontext;
    return 0;
}
void trap_signal_arch_redirect(void *ucontext, void (*fn)(uintptr_t, uintptr_t), uintptr_t arg)
{
    (void)ucontext;
    (void)fn;
    (void)arg;
}

#endif
