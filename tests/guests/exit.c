/* Ends in the way argv[1] says, so that the driver can check whirl's exit
 * status: "return N", "exit N" (flushes stdout), "_exit N" (does not),
 * "proc_exit N" (raw call), "abort", "trap" (an explicit unreachable), or
 * "sleep N" (N seconds, for --timeout). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

__attribute__((noinline)) static void crash_here(void)
{
    __builtin_trap();
}

__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_exit")))
_Noreturn void raw_proc_exit(int);

int main(int argc, char **argv)
{
    if (argc < 2)
        return 99;
    int n = argc > 2 ? atoi(argv[2]) : 0;
    printf("mode %s\n", argv[1]);
    if (strcmp(argv[1], "return") == 0)
        return n;
    if (strcmp(argv[1], "exit") == 0)
        exit(n);
    if (strcmp(argv[1], "_exit") == 0)
        _exit(n);
    if (strcmp(argv[1], "proc_exit") == 0) {
        fflush(stdout);
        raw_proc_exit(n);
    }
    if (strcmp(argv[1], "abort") == 0)
        abort();
    if (strcmp(argv[1], "trap") == 0) {
        fflush(stdout);
        crash_here();
    }
    if (strcmp(argv[1], "sleep") == 0) {
        fflush(stdout);
        for (int i = 0; i < n * 10; i++) {
            struct timespec d = {0, 100 * 1000000};
            nanosleep(&d, NULL); /* interrupted: returns early, loops on */
        }
        return 0;
    }
    return 98;
}
