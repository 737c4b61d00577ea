/* The guest tests/debug/gdb_jit.py debugs with gdb through the LLVM tier's
 * GDB JIT registration: built -O0 -g, so every statement keeps its line.
 * The MARK comments name the lines the test expects gdb to stop at. */
#include <stdio.h>

__attribute__((noinline)) static int add_squares(int n)
{
    int total = 0; /* MARK: first-statement */
    for (int i = 1; i <= n; i++) /* MARK: second-statement */
        total += i * i;
    return total;
}

int main(void)
{
    int r = add_squares(10); /* MARK: call */
    printf("sum of squares: %d\n", r);
    return r == 385 ? 0 : 1;
}
