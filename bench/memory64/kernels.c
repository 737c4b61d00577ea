/* Memory-bound kernels for bench/memory64/run, built twice from this one
 * source: for wasm32 (32-bit addresses, guard-region bounds checks in the
 * LLVM tier) and for wasm64 (64-bit addresses, explicit checks). No libc:
 * the same code, only the address width differs. run(reps) returns a
 * checksum that both builds must agree on. */
#include <stddef.h>
#include <stdint.h>

#define N_SORT 40000
#define N_MAT 160
#define N_HASH (1u << 16)
#define N_BYTES (1u << 20)

static uint32_t sort_buf[N_SORT];
static double mat_a[N_MAT * N_MAT], mat_b[N_MAT * N_MAT], mat_c[N_MAT * N_MAT];
static uint32_t hash_keys[N_HASH], hash_vals[N_HASH];
static uint8_t bytes[N_BYTES];

static uint32_t rng_state = 12345;
static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static void sift_down(uint32_t *a, size_t start, size_t end)
{
    size_t root = start;
    while (2 * root + 1 <= end) {
        size_t child = 2 * root + 1, swap = root;
        if (a[swap] < a[child])
            swap = child;
        if (child + 1 <= end && a[swap] < a[child + 1])
            swap = child + 1;
        if (swap == root)
            return;
        uint32_t t = a[root];
        a[root] = a[swap];
        a[swap] = t;
        root = swap;
    }
}

static uint64_t heap_sort(void)
{
    for (size_t i = 0; i < N_SORT; i++)
        sort_buf[i] = rng();
    for (size_t s = N_SORT / 2; s-- > 0;)
        sift_down(sort_buf, s, N_SORT - 1);
    for (size_t end = N_SORT - 1; end > 0; end--) {
        uint32_t t = sort_buf[0];
        sort_buf[0] = sort_buf[end];
        sort_buf[end] = t;
        sift_down(sort_buf, 0, end - 1);
    }
    return sort_buf[0] ^ sort_buf[N_SORT / 2] ^ sort_buf[N_SORT - 1];
}

static uint64_t matmul(void)
{
    for (size_t i = 0; i < N_MAT * N_MAT; i++) {
        mat_a[i] = (double)(rng() % 1000) / 100.0;
        mat_b[i] = (double)(rng() % 1000) / 100.0;
    }
    for (size_t i = 0; i < N_MAT; i++)
        for (size_t j = 0; j < N_MAT; j++) {
            double s = 0;
            for (size_t k = 0; k < N_MAT; k++)
                s += mat_a[i * N_MAT + k] * mat_b[k * N_MAT + j];
            mat_c[i * N_MAT + j] = s;
        }
    uint64_t h = 0;
    for (size_t i = 0; i < N_MAT * N_MAT; i += 97)
        h = h * 31 + (uint64_t)mat_c[i];
    return h;
}

static uint64_t hash_probe(void)
{
    for (size_t i = 0; i < N_HASH; i++)
        hash_keys[i] = 0;
    uint64_t found = 0;
    for (size_t i = 0; i < N_HASH / 2; i++) {
        uint32_t k = rng() | 1, slot = (k * 2654435761u) & (N_HASH - 1);
        while (hash_keys[slot] && hash_keys[slot] != k)
            slot = (slot + 1) & (N_HASH - 1);
        hash_keys[slot] = k;
        hash_vals[slot] = (uint32_t)i;
    }
    for (size_t i = 0; i < N_HASH * 4; i++) {
        uint32_t k = rng() | 1, slot = (k * 2654435761u) & (N_HASH - 1);
        while (hash_keys[slot] && hash_keys[slot] != k)
            slot = (slot + 1) & (N_HASH - 1);
        found += hash_keys[slot] ? hash_vals[slot] : 1;
    }
    return found;
}

static uint64_t byte_mix(void)
{
    for (size_t i = 0; i < N_BYTES; i++)
        bytes[i] = (uint8_t)rng();
    uint32_t h = 2166136261u;
    for (int pass = 0; pass < 4; pass++)
        for (size_t i = 0; i < N_BYTES; i++) {
            h = (h ^ bytes[i]) * 16777619u;
            bytes[i] = (uint8_t)(h >> 24);
        }
    return h;
}

static uint64_t repeat(uint64_t (*kernel)(void), int32_t reps)
{
    rng_state = 12345;
    uint64_t h = 0;
    for (int32_t r = 0; r < reps; r++)
        h = h * 1000003 + kernel();
    return h;
}

#ifdef __wasm__
#define EXPORT(name) __attribute__((export_name(#name)))
#else
#define EXPORT(name)
#endif
EXPORT(sort) uint64_t sort(int32_t reps) { return repeat(heap_sort, reps); }
EXPORT(matmul) uint64_t matmul_k(int32_t reps) { return repeat(matmul, reps); }
EXPORT(hash) uint64_t hash(int32_t reps) { return repeat(hash_probe, reps); }
EXPORT(bytes) uint64_t bytes_k(int32_t reps) { return repeat(byte_mix, reps); }

#ifdef NATIVE_MAIN
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* The native build for scale: ./kernels NAME REPS prints what the export
 * NAME(REPS) returns. */
int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    int32_t reps = atoi(argv[2]);
    uint64_t h = strcmp(argv[1], "sort") == 0     ? sort(reps)
                 : strcmp(argv[1], "matmul") == 0 ? matmul_k(reps)
                 : strcmp(argv[1], "hash") == 0   ? hash(reps)
                 : strcmp(argv[1], "bytes") == 0  ? bytes_k(reps)
                                                  : (exit(2), 0);
    printf("%lld\n", (long long)h); /* as whirl prints an i64 */
    return 0;
}
#endif
