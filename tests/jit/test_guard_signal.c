/* Guard pages in the LLVM tier (WHIRL_JIT_GUARD=1, runtime/trap_signal.h):
 * out-of-bounds accesses of every width, near the end of memory and near
 * the 4 GiB edge, become `memory out of bounds` traps through the fault
 * handler (counted), with the interpreter's message and backtrace
 * (function and byte offset, from the PC map); a trapping store writes nothing; in-bounds accesses at the
 * very end work, also after memory.grow; and a host that installed its
 * own SIGSEGV handler before whirl still gets its own faults afterwards,
 * and one that had none still dies of them.
 * Prints "N passed, M failed". */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/trap_signal.h"
#include "whirl.h"

static unsigned passed, failed;

static void check(bool ok, const char *what, const char *detail)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    printf("FAIL: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
}

/* ---- the host's own SIGSEGV handling ---- */

static sigjmp_buf host_jmp;
static volatile sig_atomic_t host_faults;

static void host_handler(int sig, siginfo_t *info, void *uc)
{
    (void)sig, (void)info, (void)uc;
    host_faults++;
    siglongjmp(host_jmp, 1);
}

/* Reads a PROT_NONE page of the host's own: true if the host's handler
 * caught it. */
static bool host_fault_caught(void)
{
    volatile uint8_t *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        return false;
    int before = host_faults;
    if (!sigsetjmp(host_jmp, 1))
        (void)page[16];
    munmap((void *)page, 4096);
    return host_faults == before + 1;
}

/* ---- a tier ---- */

typedef struct world {
    whirl_engine_t *engine;
    whirl_module_t *module;
    whirl_store_t *store;
    whirl_instance_t *inst;
    whirl_memory_t *mem;
} world_t;

static whirl_error_t *world_new(world_t *w, const char *tier, const uint8_t *wasm, size_t len)
{
    memset(w, 0, sizeof *w);
    whirl_config_t *config = whirl_config_new();
    whirl_config_use_env(config, false);
    whirl_error_t *err = whirl_config_set(config, "tier", tier);
    if (err) {
        whirl_config_delete(config);
        return err;
    }
    if ((err = whirl_engine_new(config, &w->engine)) ||
        (err = whirl_module_new(w->engine, wasm, len, &w->module)))
        return err;
    w->store = whirl_store_new(w->engine, NULL, NULL);
    if ((err = whirl_instance_new(w->store, w->module, NULL, 0, &w->inst)))
        return err;
    whirl_extern_t ext;
    whirl_instance_export(w->inst, "mem", 3, &ext);
    w->mem = ext.of.memory;
    return NULL;
}

static void world_free(world_t *w)
{
    whirl_store_delete(w->store);
    whirl_module_delete(w->module);
    whirl_engine_delete(w->engine);
}

/* Calls export `name` with one i32; the error (NULL: returned). */
static whirl_error_t *call(world_t *w, const char *name, uint32_t addr)
{
    whirl_extern_t ext;
    if (!whirl_instance_export(w->inst, name, strlen(name), &ext))
        return NULL;
    whirl_val_t arg = {.kind = WHIRL_I32, .of.i32 = (int32_t)addr}, res[1];
    size_t nres = strcmp(name, "grow") == 0 || name[0] == 'l' || name[0] == 'n' ? 1 : 0;
    return whirl_func_call(w->store, ext.of.func, strcmp(name, "grow") ? &arg : NULL,
                           strcmp(name, "grow") ? 1 : 0, res, nres);
}

/* Same message and the same backtrace (functions and byte offsets). */
static bool same_trap(const whirl_error_t *a, const whirl_error_t *b)
{
    size_t n = whirl_error_frame_count(a);
    if (strcmp(whirl_error_message(a), whirl_error_message(b)) != 0 || n == 0 ||
        n != whirl_error_frame_count(b))
        return false;
    for (size_t i = 0; i < n; i++) {
        uint32_t fa, fb;
        const char *na, *nb;
        size_t oa, ob;
        if (!whirl_error_frame(a, i, &fa, &na, &oa) || !whirl_error_frame(b, i, &fb, &nb, &ob) ||
            fa != fb || oa != ob)
            return false;
    }
    return true;
}

static const struct { const char *name; uint32_t addr; bool traps; } cases[] = {
    {"ld8", 65535, false},        {"ld8", 65536, true},         {"ld16", 65534, false},
    {"ld16", 65535, true},        {"ld32", 65532, false},       {"ld32", 65533, true},
    {"ld64", 65528, false},       {"ld64", 65529, true},        {"ld128", 65520, false},
    {"ld128", 65521, true},       {"ld32", 0xFFFFFFFF, true},   {"ld64", 0xFFFFFFF9, true},
    {"ld128", 0xFFFFFFF1, true},  {"ld32_far", 0, true},        {"ld32_far", 0xFFFFFFFF, true},
    {"ld128_far", 0, true},       {"ld128_far", 0xFFFFFFFF, true},
    {"st8", 65535, false},        {"st8", 65536, true},         {"st16", 65535, true},
    {"st32", 65533, true},        {"st64", 65529, true},        {"st128", 65521, true},
    {"st128", 65520, false},      {"st32", 0xFFFFFFFD, true},   {"st64_far", 0xFFFFFFFF, true},
    {"st64_far", 0x10, true},      {"nested", 65532, false},     {"nested", 65533, true},
    {"nested", 0xFFFFFFFF, true},
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_guard_signal guard.wasm\n");
        return 2;
    }
    setenv("WHIRL_JIT_GUARD", "1", 1); /* read once, when the first code is compiled */
    FILE *fp = fopen(argv[1], "rb");
    static uint8_t wasm[65536];
    size_t len = fp ? fread(wasm, 1, sizeof wasm, fp) : 0;
    if (fp)
        fclose(fp);

    /* A process without a handler of its own: after whirl installed its
     * handler, a fault outside guest code still ends it with SIGSEGV. */
    pid_t child = fork();
    if (child == 0) {
        world_t w;
        if (world_new(&w, "jit", wasm, len))
            _exit(3);
        whirl_error_delete(call(&w, "ld32", 0xFFFFFFFF)); /* a guard fault first */
        /* A sanitizer's report of the fault below is expected: not in the log. */
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 2);
        volatile uint8_t *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        (void)page[16];
        _exit(4);
    }
    int status = 0;
    waitpid(child, &status, 0);
    /* Killed by SIGSEGV, or under a sanitizer (whose handler was there
     * first) its report's failing exit: anything but carrying on. */
    check(WIFSIGNALED(status) ? WTERMSIG(status) == SIGSEGV
                              : WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
                                    WEXITSTATUS(status) != 3 && WEXITSTATUS(status) != 4,
          "no handler before whirl: a host fault still ends the process", NULL);

    struct sigaction sa = {0};
    sa.sa_sigaction = host_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    check(host_fault_caught(), "host handler before whirl", NULL);

    world_t jit, interp;
    whirl_error_t *err = world_new(&jit, "jit", wasm, len);
    if (!err)
        err = world_new(&interp, "interp", wasm, len);
    if (err) {
        printf("FAIL: setup: %s\n0 passed, 1 failed\n", whirl_error_message(err));
        return 1;
    }
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            char what[96];
            snprintf(what, sizeof what, "round %d: %s(0x%x)", round, cases[i].name,
                     (unsigned)cases[i].addr);
            uint32_t addr = cases[i].addr;
            if (round == 1 && addr >= 65520 && addr < 65537)
                addr += 65536; /* after memory.grow: the same edge, one page on */
            /* The last bytes hold a pattern a trapping store must leave. */
            uint8_t *jd = whirl_memory_data(jit.mem), *id = whirl_memory_data(interp.mem);
            size_t size = whirl_memory_data_size(jit.mem);
            memset(jd + size - 32, 0xA5, 32);
            memset(id + size - 32, 0xA5, 32);
            uint64_t faults = trap_signal_count();
            whirl_error_t *je = call(&jit, cases[i].name, addr);
            whirl_error_t *ie = call(&interp, cases[i].name, addr);
            whirl_trap_code_t jc = 0, ic = 0;
            bool jt = je && whirl_error_is_trap(je, &jc), it = ie && whirl_error_is_trap(ie, &ic);
            check(it == cases[i].traps, what, "interpreter disagrees with the test");
            check(jt == it && jc == ic, what, je ? whirl_error_message(je) : "no trap");
            if (jt) {
                check(jc == WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS, what, "trap code");
                check(same_trap(je, ie), what, whirl_error_message(je));
                check(trap_signal_count() == faults + 1, what, "not through the fault handler");
            }
            check(memcmp(jd + size - 32, id + size - 32, 32) == 0, what,
                  "memory differs from the interpreter's");
            whirl_error_delete(je);
            whirl_error_delete(ie);
        }
        if (round == 0) {
            whirl_error_t *e1 = call(&jit, "grow", 0), *e2 = call(&interp, "grow", 0);
            check(!e1 && !e2 && whirl_memory_pages(jit.mem) == 2, "memory.grow", NULL);
            whirl_error_delete(e1);
            whirl_error_delete(e2);
        }
    }
    check(host_fault_caught(), "host handler after whirl's", NULL);
    world_free(&jit);
    world_free(&interp);
    check(host_fault_caught(), "host handler after the engines are gone", NULL);
    printf("guard: %u passed, %u failed\n", passed, failed);
    return failed != 0;
}
