/* The address-space probe: pooling reserves terabytes of address space up
 * front (8 GiB per linear memory slot), which fails where the address space
 * is small (39-bit virtual addresses on some arm64 kernels) or limited
 * (`ulimit -v`). Reserving 2^42 bytes once, as Spin does, tells the two
 * apart cheaply: the reservation is PROT_NONE and released at once. */
#include <pthread.h>

#include "alloc/alloc.h"

#define PROBE_BYTES ((size_t)1 << 42)

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static bool probe_result;

static void probe(void)
{
    void *p = alloc_reserve(PROBE_BYTES);
    probe_result = p != NULL;
    alloc_unreserve(p, PROBE_BYTES);
}

bool alloc_probe_pooling(void)
{
    pthread_once(&probe_once, probe);
    return probe_result;
}
