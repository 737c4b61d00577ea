/* sort: quicksort (median of three, insertion sort for short runs), bottom-up
 * merge sort and heapsort over pseudo-random 32-bit keys, each result verified.
 * Measures data-dependent branches, swaps and indexed memory traffic. */
#include "common.h"

static void insertion(uint32_t *a, int n)
{
    for (int i = 1; i < n; i++) {
        uint32_t v = a[i];
        int j = i - 1;
        while (j >= 0 && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static void quick(uint32_t *a, int n)
{
    while (n > 16) {
        int mid = n / 2;
        uint32_t x = a[0], y = a[mid], z = a[n - 1];
        uint32_t pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        int i = 0, j = n - 1;
        for (;;) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i >= j)
                break;
            uint32_t t = a[i];
            a[i] = a[j];
            a[j] = t;
            i++;
            j--;
        }
        /* Recurse into the smaller side to bound the depth. */
        if (j + 1 < n - j - 1) {
            quick(a, j + 1);
            a += j + 1;
            n -= j + 1;
        } else {
            quick(a + j + 1, n - j - 1);
            n = j + 1;
        }
    }
    insertion(a, n);
}

static void merge_sort(uint32_t *a, uint32_t *tmp, int n)
{
    for (int w = 1; w < n; w *= 2) {
        for (int lo = 0; lo < n; lo += 2 * w) {
            int mid = lo + w < n ? lo + w : n;
            int hi = lo + 2 * w < n ? lo + 2 * w : n;
            int i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = a[i] <= a[j] ? a[i++] : a[j++];
            while (i < mid)
                tmp[k++] = a[i++];
            while (j < hi)
                tmp[k++] = a[j++];
        }
        uint32_t *t = a;
        memcpy(t, tmp, sizeof(uint32_t) * n);
    }
}

static void sift(uint32_t *a, int root, int n)
{
    uint32_t v = a[root];
    for (;;) {
        int child = 2 * root + 1;
        if (child >= n)
            break;
        if (child + 1 < n && a[child + 1] > a[child])
            child++;
        if (a[child] <= v)
            break;
        a[root] = a[child];
        root = child;
    }
    a[root] = v;
}

static void heap_sort(uint32_t *a, int n)
{
    for (int i = n / 2 - 1; i >= 0; i--)
        sift(a, i, n);
    for (int end = n - 1; end > 0; end--) {
        uint32_t t = a[0];
        a[0] = a[end];
        a[end] = t;
        sift(a, 0, end);
    }
}

static uint32_t check(const uint32_t *a, int n)
{
    uint32_t h = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && a[i - 1] > a[i]) {
            printf("not sorted at %d\n", i);
            exit(1);
        }
        if ((i & 255) == 0)
            h = mix32(h, a[i]);
    }
    return h;
}

enum { N = 60000 };

int main(int argc, char **argv)
{
    uint32_t reps = bench_reps(argc, argv, 28);
    uint32_t *src = xmalloc(sizeof(uint32_t) * N);
    uint32_t *a = xmalloc(sizeof(uint32_t) * N);
    uint32_t *tmp = xmalloc(sizeof(uint32_t) * N);
    uint32_t h = 0;
    for (uint32_t r = 0; r < reps; r++) {
        rng_t g;
        rng_seed(&g, r + 1);
        /* Odd reps use few distinct keys: many duplicates stress partitioning. */
        uint32_t mask = (r & 1) ? 0x3FF : 0xFFFFFFFFu;
        for (int i = 0; i < N; i++)
            src[i] = rng_next(&g) & mask;
        memcpy(a, src, sizeof(uint32_t) * N);
        quick(a, N);
        h = mix32(h, check(a, N));
        memcpy(a, src, sizeof(uint32_t) * N);
        merge_sort(a, tmp, N);
        h = mix32(h, check(a, N));
        memcpy(a, src, sizeof(uint32_t) * N);
        heap_sort(a, N);
        h = mix32(h, check(a, N));
    }
    free(src);
    free(a);
    free(tmp);
    bench_result("sort", reps, h);
    return 0;
}
