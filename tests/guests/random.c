/* random_get through wasi-libc (getentropy, arc4random) and raw. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest.h"

static unsigned char big[1 << 20];

int main(void)
{
    unsigned char a[32], b[32];
    CHECK(getentropy(a, sizeof a) == 0 && getentropy(b, sizeof b) == 0, "getentropy");
    CHECK(memcmp(a, b, sizeof a) != 0, "two draws differ");
    CHECK(raw_random_get(P(big), sizeof big) == 0, "1 MiB of randomness");
    size_t counts[256] = {0};
    for (size_t i = 0; i < sizeof big; i++) {
        counts[big[i]]++;
    }
    /* Each byte value appears about 4096 times; a broken source is far off. */
    size_t lo = sizeof big, hi = 0;
    for (int v = 0; v < 256; v++) {
        lo = counts[v] < lo ? counts[v] : lo;
        hi = counts[v] > hi ? counts[v] : hi;
    }
    CHECK(lo > 3000 && hi < 5200, "byte values spread evenly (%zu..%zu)", lo, hi);
    CHECK(raw_random_get(P(a), 0) == 0, "zero bytes");
    uint32_t r1 = arc4random(), r2 = arc4random();
    CHECK(r1 != r2 || arc4random() != r1, "arc4random varies");
    return done("random");
}
