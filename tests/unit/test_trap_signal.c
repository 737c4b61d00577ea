/* runtime/trap_signal.c without a compiler: a function of this test
 * registered as "guest code" faults inside a registered reservation and
 * reaches the resolver in normal context (which longjmps back, as the
 * binding's trap path does), also on a sigaltstack; faults of the same
 * code outside the reservation, or of other code inside it, go to the
 * host's own handler installed before; a removed range is no longer guest
 * code. Prints "N passed, M failed". */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "runtime/trap_signal.h"
#include "runtime/trap_signal_arch.h"

static unsigned passed, failed;

static void check(bool ok, const char *what)
{
    if (ok)
        passed++;
    else {
        failed++;
        printf("FAIL: %s\n", what);
    }
}

static jmp_buf trap_back;
static sigjmp_buf host_back;
static const void *seen_owner;
static void *seen_store;
static volatile sig_atomic_t host_faults;

static void resolver(void *store, const void *owner, uintptr_t pc, uintptr_t fp)
{
    (void)pc;
    (void)fp;
    seen_owner = owner;
    seen_store = store;
    longjmp(trap_back, 1);
}

static void host_handler(int sig, siginfo_t *info, void *uc)
{
    (void)sig, (void)info, (void)uc;
    host_faults++;
    siglongjmp(host_back, 1);
}

__attribute__((noinline)) static int guest_load(volatile int *p) { return *p; }
__attribute__((noinline)) static int host_load(volatile int *p) { return *p + 1; }

/* 1: the trap path, 2: the host's handler, 0: no fault. */
static int run(int (*fn)(volatile int *), volatile int *p)
{
    int faults = host_faults;
    if (setjmp(trap_back))
        return 1;
    if (sigsetjmp(host_back, 1))
        return host_faults == faults + 1 ? 2 : -1;
    fn(p);
    return 0;
}

int main(void)
{
    if (!trap_signal_arch_supported()) {
        printf("trap_signal: no architecture support here: 0 passed, 0 failed\n");
        return 0;
    }
    struct sigaction sa = {0};
    sa.sa_sigaction = host_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);

    size_t len = 1 << 20;
    uint8_t *res = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    uint8_t *other = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    check(res != MAP_FAILED && other != MAP_FAILED, "mappings");
    check(trap_signal_install() && trap_signal_install(), "install (twice)");
    trap_signal_set_resolver(resolver);
    /* guest_load, up to host_load if that follows it (it usually does). */
    uintptr_t g = (uintptr_t)guest_load, h = (uintptr_t)host_load;
    uintptr_t g_end = h > g && h - g < 4096 ? h : g + 64;
    int owner_tag;
    check(trap_signal_code_add(g, g_end, &owner_tag, true), "register");
    check(trap_signal_code_owner(g + 1) == &owner_tag, "owner lookup");
    /* Code whose faults are not traps is found, but not as guest code. */
    int plain_tag;
    uintptr_t p = (uintptr_t)host_load;
    check(trap_signal_code_add(p, p + 1, &plain_tag, false), "register plain code");
    check(trap_signal_code_find(p) == &plain_tag && !trap_signal_code_owner(p),
          "plain code: found, faults not traps");
    trap_signal_code_remove(p);
    check(!trap_signal_code_find(p), "plain code removed");

    int store_tag;
    trap_signal_activation_t act = {.mem_base = (uintptr_t)res, .mem_len = len, .store = &store_tag};
    trap_signal_activation_t saved = trap_signal_enter(&act);
    uint64_t before = trap_signal_count();
    for (int i = 0; i < 3; i++)
        check(run(guest_load, (volatile int *)(res + 4096 * i + 4)) == 1 &&
                  seen_owner == &owner_tag && seen_store == &store_tag,
              "guest fault in the reservation: trap path");
    check(trap_signal_count() == before + 3, "counted");
    check(run(guest_load, (volatile int *)(other + 4)) == 2, "guest fault elsewhere: host's");
    check(run(host_load, (volatile int *)(res + 4)) == 2, "host fault in the reservation: host's");

    /* On an alternate signal stack. */
    stack_t ss = {.ss_sp = malloc(1 << 16), .ss_size = 1 << 16};
    check(ss.ss_sp && sigaltstack(&ss, NULL) == 0, "sigaltstack");
    check(run(guest_load, (volatile int *)(res + 8)) == 1, "guest fault on sigaltstack");
    check(run(host_load, (volatile int *)(other + 8)) == 2, "host fault on sigaltstack");
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, NULL);
    free(ss.ss_sp);

    trap_signal_leave(&saved);
    check(run(guest_load, (volatile int *)(res + 4)) == 2, "no activation: host's");
    trap_signal_enter(&act);
    trap_signal_code_remove(g);
    check(trap_signal_code_owner(g + 1) == NULL, "removed");
    check(run(guest_load, (volatile int *)(res + 4)) == 2, "removed code: host's");
    trap_signal_leave(&saved);
    printf("trap_signal: %u passed, %u failed\n", passed, failed);
    return failed != 0;
}
