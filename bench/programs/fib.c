/* fib: naive doubly recursive Fibonacci. Measures call/return overhead:
 * frame setup, argument passing and a compare-and-branch per call. */
#include "common.h"

static uint32_t fib(uint32_t n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

int main(int argc, char **argv)
{
    uint32_t reps = bench_reps(argc, argv, 40);
    uint32_t h = 0;
    for (uint32_t r = 0; r < reps; r++) {
        /* Varying n keeps the calls from being hoisted as a pure function. */
        uint32_t n = 33 + r % 4;
        h = mix32(h, fib(n));
    }
    bench_result("fib", reps, h);
    return 0;
}
