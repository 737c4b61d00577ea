/* Grows linear memory by MB megabytes with memory.grow and touches every
 * page: exit 0 and "grow MB: ok", or exit 1 and "grow MB: refused" when the
 * host's memory limit says no. (It bypasses malloc on purpose: this
 * wasi-libc's allocator takes every page below memory.size as its heap at
 * its first call, including the page the preview-1 adapter grew for its
 * own stack and state, so a large malloc in an adapted component overwrites
 * the adapter; jco's own Node runtime fails the same way.) */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    long mb = argc > 1 ? atol(argv[1]) : 1;
    size_t pages = (size_t)mb * 16;
    size_t old = __builtin_wasm_memory_grow(0, pages);
    if (old == (size_t)-1) {
        printf("grow %ld MB: refused\n", mb);
        return 1;
    }
    volatile unsigned char *base = (unsigned char *)(old * 65536);
    unsigned sum = 0;
    for (size_t i = 0; i < pages * 65536; i += 4096) {
        base[i] = (unsigned char)i;
        sum += base[i];
    }
    printf("grow %ld MB: ok\n", mb);
    return sum == 0xdeadbeef; /* keeps the loop; never true */
}
