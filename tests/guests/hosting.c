/* The hosting-controls guest (issue 4): one command per run, so that the
 * driver can put each under a different limit or deadline.
 *
 *   alloc MB    malloc MB megabytes and touch them; exit 1 if malloc fails
 *   sleep MS    sleep MS milliseconds (poll_oneoff), then exit 0
 *   loop        spin forever without calls or host functions
 *   panic       reach `unreachable` (__builtin_trap)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int alloc_mb(long mb)
{
    size_t bytes = (size_t)mb << 20;
    char *p = malloc(bytes);
    if (!p) {
        printf("alloc %ld MB: failed\n", mb);
        return 1;
    }
    memset(p, 0xA5, bytes);
    unsigned sum = 0;
    for (size_t i = 0; i < bytes; i += 4096)
        sum += (unsigned char)p[i];
    printf("alloc %ld MB: ok %u\n", mb, sum);
    free(p);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: hosting alloc MB | sleep MS | loop | panic\n");
        return 2;
    }
    const char *cmd = argv[1];
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
    if (strcmp(cmd, "alloc") == 0)
        return alloc_mb(n);
    if (strcmp(cmd, "sleep") == 0) {
        struct timespec ts = {n / 1000, (n % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        printf("slept %ld ms\n", n);
        return 0;
    }
    if (strcmp(cmd, "loop") == 0) {
        volatile unsigned x = 0;
        for (;;)
            x++;
    }
    if (strcmp(cmd, "panic") == 0)
        __builtin_trap();
    fprintf(stderr, "unknown command %s\n", cmd);
    return 2;
}
