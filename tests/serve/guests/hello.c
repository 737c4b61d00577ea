/* The smallest WAGI handler: the benchmark's and the quickest test's. */
#include <stdio.h>

int main(void)
{
    fputs("Content-Type: text/plain\n\nHello, world!\n", stdout);
    return 0;
}
