/* mandel: the Mandelbrot set on a grid, escape-time iteration. Measures
 * dependent floating-point multiply/add chains and a data-dependent loop exit. */
#include "common.h"

enum { W = 256, H = 192, MAX_ITER = 255 };

int main(int argc, char **argv)
{
    uint32_t reps = bench_reps(argc, argv, 40);
    uint32_t h = 0;
    for (uint32_t r = 0; r < reps; r++) {
        /* Each rep zooms slightly, so the work differs per rep. */
        double scale = 3.0 / W * (1.0 - 0.01 * (r % 16));
        double cx0 = -2.1 + 0.001 * (r % 7), cy0 = -1.2;
        uint32_t total = 0;
        for (int y = 0; y < H; y++) {
            double ci = cy0 + y * scale;
            uint32_t bits = 0;
            for (int x = 0; x < W; x++) {
                double cr = cx0 + x * scale;
                double zr = 0, zi = 0, zr2 = 0, zi2 = 0;
                int it = 0;
                while (it < MAX_ITER && zr2 + zi2 <= 4.0) {
                    zi = 2.0 * zr * zi + ci;
                    zr = zr2 - zi2 + cr;
                    zr2 = zr * zr;
                    zi2 = zi * zi;
                    it++;
                }
                total += (uint32_t)it;
                bits = (bits << 1) | (it == MAX_ITER);
                if ((x & 31) == 31) {
                    h = mix32(h, bits);
                    bits = 0;
                }
            }
        }
        h = mix32(h, total);
    }
    bench_result("mandel", reps, h);
    return 0;
}
