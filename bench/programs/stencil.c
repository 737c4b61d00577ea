/* stencil: 2-D heat diffusion (Jacobi 5-point stencil, two buffers) followed
 * by in-place Gauss-Seidel sweeps (the PolyBench jacobi-2d / seidel-2d shapes).
 * Measures neighbouring loads in 2-D arrays and floating-point adds. */
#include "common.h"

enum { N = 256 };

int main(int argc, char **argv)
{
    uint32_t reps = bench_reps(argc, argv, 86);
    double *u = xmalloc(sizeof(double) * N * N);
    double *v = xmalloc(sizeof(double) * N * N);
    uint32_t h = 0;
    for (uint32_t r = 0; r < reps; r++) {
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++)
                u[i * N + j] = v[i * N + j] =
                    (i == 0 || j == 0) ? 100.0 + r : (double)((i * 7 + j * 13) % 31) / 31.0;
        for (int t = 0; t < 20; t++) {
            for (int i = 1; i < N - 1; i++)
                for (int j = 1; j < N - 1; j++)
                    v[i * N + j] = 0.2 * (u[i * N + j] + u[i * N + j - 1] + u[i * N + j + 1] +
                                          u[(i - 1) * N + j] + u[(i + 1) * N + j]);
            double *tmp = u;
            u = v;
            v = tmp;
        }
        for (int t = 0; t < 6; t++)
            for (int i = 1; i < N - 1; i++)
                for (int j = 1; j < N - 1; j++)
                    u[i * N + j] = (u[(i - 1) * N + j - 1] + u[(i - 1) * N + j] +
                                    u[(i - 1) * N + j + 1] + u[i * N + j - 1] + u[i * N + j] +
                                    u[i * N + j + 1] + u[(i + 1) * N + j - 1] +
                                    u[(i + 1) * N + j] + u[(i + 1) * N + j + 1]) /
                                   9.0;
        double sum = 0;
        for (int i = 0; i < N * N; i++)
            sum += u[i];
        h = mix_double(h, sum);
        h = mix_double(h, u[(N / 2) * N + N / 3]);
    }
    free(u);
    free(v);
    bench_result("stencil", reps, h);
    return 0;
}
