/* The architecture-specific part of trap_signal.c: reading and rewriting
 * the interrupted context of a signal (ucontext_t). One implementation
 * file per architecture (trap_signal_x86_64.c); where there is none,
 * trap_signal_arch_supported() is false and compiled code keeps its
 * explicit bounds checks. */
#ifndef WHIRL_RUNTIME_TRAP_SIGNAL_ARCH_H
#define WHIRL_RUNTIME_TRAP_SIGNAL_ARCH_H

#include <stdbool.h>
#include <stdint.h>

bool trap_signal_arch_supported(void);
/* The faulting instruction's address. */
uintptr_t trap_signal_arch_pc(const void *ucontext);
/* Makes the context, once resumed, call fn(arg, fp) as if the faulting
 * instruction had called it: the stack pointer is moved below the red
 * zone and aligned as the ABI wants at a call, the faulting PC is pushed
 * as the return address (for debuggers), `fp` is the interrupted frame
 * pointer, and fn must not return. */
void trap_signal_arch_redirect(void *ucontext, void (*fn)(uintptr_t, uintptr_t), uintptr_t arg);

#endif
