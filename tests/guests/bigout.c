/* Large output: argv[1] lines "line NNNNNNN" on stdout (through stdio's
 * buffer), then a summary on stderr. A write error (a closed pipe) is
 * reported and ends the program with status 5. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 500000;
    for (long i = 0; i < n; i++) {
        if (printf("line %07ld\n", i) < 0 || (i % 4096 == 0 && fflush(stdout) != 0)) {
            fprintf(stderr, "bigout: write error at line %ld: %s\n", i, strerror(errno));
            return 5;
        }
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "bigout: write error at the end: %s\n", strerror(errno));
        return 5;
    }
    /* Unbuffered stderr: many small writes. */
    for (int i = 0; i < 1000; i++)
        fputc(i % 10 == 9 ? '\n' : '.', stderr);
    fprintf(stderr, "bigout: %ld lines\n", n);
    return 0;
}
