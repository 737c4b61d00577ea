/* matmul: dense double-precision matrix multiply C = A*B + C in i-k-j order
 * (the PolyBench gemm kernel shape). Measures streaming loads/stores through
 * linear memory with a multiply-add per element. */
#include "common.h"

enum { N = 200 };

int main(int argc, char **argv)
{
    uint32_t reps = bench_reps(argc, argv, 90);
    double *a = xmalloc(sizeof(double) * N * N);
    double *b = xmalloc(sizeof(double) * N * N);
    double *c = xmalloc(sizeof(double) * N * N);
    uint32_t h = 0;
    for (uint32_t r = 0; r < reps; r++) {
        rng_t g;
        rng_seed(&g, r);
        for (int i = 0; i < N * N; i++) {
            a[i] = (double)(rng_next(&g) % 1000) / 256.0 - 2.0;
            b[i] = (double)(rng_next(&g) % 1000) / 512.0 - 1.0;
            c[i] = (double)(i % 17);
        }
        for (int pass = 0; pass < 2; pass++) {
            for (int i = 0; i < N; i++) {
                double *ci = c + i * N;
                for (int k = 0; k < N; k++) {
                    double aik = a[i * N + k] * 0.5;
                    const double *bk = b + k * N;
                    for (int j = 0; j < N; j++)
                        ci[j] += aik * bk[j];
                }
            }
        }
        double trace = 0;
        for (int i = 0; i < N; i++)
            trace += c[i * N + i];
        h = mix_double(h, trace);
        for (int i = 0; i < N * N; i += 97)
            h = mix_double(h, c[i]);
    }
    free(a);
    free(b);
    free(c);
    bench_result("matmul", reps, h);
    return 0;
}
