/* The example README profiles (`whirl run --profile=guest`): three kinds of
 * work, so that the flame graph has some shape: a sieve of primes, a sort
 * through libc's qsort, and a naive recursive Fibonacci (each kept out of
 * main, so each is a frame of its own). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static unsigned count_primes(unsigned limit)
{
    unsigned char *composite = calloc(limit + 1, 1);
    unsigned count = 0;
    for (unsigned i = 2; i <= limit; i++) {
        if (composite[i])
            continue;
        count++;
        for (unsigned long j = (unsigned long)i * i; j <= limit; j += i)
            composite[j] = 1;
    }
    free(composite);
    return count;
}

static int compare_u32(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return (x > y) - (x < y);
}

__attribute__((noinline)) static unsigned sort_random(unsigned n)
{
    unsigned *v = malloc(n * sizeof *v);
    unsigned seed = 12345;
    for (unsigned i = 0; i < n; i++)
        v[i] = seed = seed * 1103515245u + 12345u;
    qsort(v, n, sizeof *v, compare_u32);
    unsigned median = v[n / 2];
    free(v);
    return median;
}

__attribute__((noinline)) static unsigned fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

int main(void)
{
    printf("primes below 5000000: %u\n", count_primes(5000000));
    printf("median of 400000 numbers: %u\n", sort_random(400000));
    printf("fib(32) = %u\n", fib(32));
    return 0;
}
