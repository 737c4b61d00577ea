/* A small image pipeline used to check whirl's SIMD against native code.
 *
 * The same source is built three ways: natively (gcc, the reference), to
 * wasm32 with -msimd128 (explicit wasm_simd128.h intrinsics, plus whatever
 * clang auto-vectorises), and to wasm32 without it (the scalar reference code
 * again). All three must print the same checksums. Every SIMD step has a
 * scalar twin computing the same operations in the same order, so even the
 * float results are bit-identical.
 *
 * Without WITH_MAIN the file needs no libc: the libc-free wasm builds
 * export run() and bench() (called with whirl run --invoke). With WITH_MAIN
 * it is a command taking the same arguments, built natively and for
 * wasm32-wasi. */
#include <stdint.h>

#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#define USE_SIMD 1
#else
#define USE_SIMD 0
#endif

#define MAXW 512
#define MAXH 512
#define MAXN (MAXW * MAXH)

static uint8_t img[MAXN], tmp[MAXN], out[MAXN];
static int W, H;

/* ---------------------------------------------------------- helpers */

static uint32_t rng_state;
static uint32_t rng(void)
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

static uint32_t fnv(uint32_t h, const uint8_t *p, int n)
{
    for (int i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static uint32_t mix(uint32_t h, uint32_t v) { return (h ^ v) * 16777619u + (v >> 7); }

/* A smooth gradient with noise and a few saturated blocks. */
static void generate(uint32_t seed)
{
    rng_state = seed * 2654435761u + 1;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int v = (x * 255) / (W > 1 ? W - 1 : 1) / 2 + (y * 255) / (H > 1 ? H - 1 : 1) / 3;
            v += (int)(rng() % 41) - 20;
            if (((x / 13) + (y / 11)) % 7 == 0)
                v = (rng() & 1) ? 255 : 0;
            img[y * W + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
}

/* --------------------------------- 1. horizontal 1-2-1 blur (uint8) */

static uint8_t blur3(int a, int b, int c) { return (uint8_t)((a + 2 * b + c + 2) >> 2); }

static void blur_h(const uint8_t *src, uint8_t *dst)
{
    for (int y = 0; y < H; y++) {
        const uint8_t *s = src + y * W;
        uint8_t *d = dst + y * W;
        int x = 0;
        d[0] = blur3(s[0], s[0], s[W > 1 ? 1 : 0]);
        x = 1;
#if USE_SIMD
        for (; x + 17 <= W; x += 16) {
            v128_t l = wasm_v128_load(s + x - 1);
            v128_t m = wasm_v128_load(s + x);
            v128_t r = wasm_v128_load(s + x + 1);
            v128_t two = wasm_i16x8_splat(2);
            v128_t lo = wasm_i16x8_add(wasm_u16x8_extend_low_u8x16(l), wasm_u16x8_extend_low_u8x16(r));
            v128_t hi = wasm_i16x8_add(wasm_u16x8_extend_high_u8x16(l), wasm_u16x8_extend_high_u8x16(r));
            lo = wasm_i16x8_add(lo, wasm_i16x8_shl(wasm_u16x8_extend_low_u8x16(m), 1));
            hi = wasm_i16x8_add(hi, wasm_i16x8_shl(wasm_u16x8_extend_high_u8x16(m), 1));
            lo = wasm_u16x8_shr(wasm_i16x8_add(lo, two), 2);
            hi = wasm_u16x8_shr(wasm_i16x8_add(hi, two), 2);
            wasm_v128_store(d + x, wasm_u8x16_narrow_i16x8(lo, hi));
        }
#endif
        for (; x < W; x++)
            d[x] = blur3(s[x - 1], s[x], s[x + 1 < W ? x + 1 : x]);
    }
}

/* ------------------------- 2. vertical 1-4-6-4-1 blur (16-bit lanes) */

static void blur_v(const uint8_t *src, uint8_t *dst)
{
    for (int y = 0; y < H; y++) {
        const uint8_t *r[5];
        for (int k = 0; k < 5; k++) {
            int yy = y + k - 2;
            yy = yy < 0 ? 0 : yy >= H ? H - 1 : yy;
            r[k] = src + yy * W;
        }
        uint8_t *d = dst + y * W;
        int x = 0;
#if USE_SIMD
        for (; x + 8 <= W; x += 8) {
            v128_t acc = wasm_u16x8_load8x8(r[0] + x);
            acc = wasm_i16x8_add(acc, wasm_i16x8_mul(wasm_u16x8_load8x8(r[1] + x), wasm_i16x8_splat(4)));
            acc = wasm_i16x8_add(acc, wasm_i16x8_mul(wasm_u16x8_load8x8(r[2] + x), wasm_i16x8_splat(6)));
            acc = wasm_i16x8_add(acc, wasm_i16x8_mul(wasm_u16x8_load8x8(r[3] + x), wasm_i16x8_splat(4)));
            acc = wasm_i16x8_add(acc, wasm_u16x8_load8x8(r[4] + x));
            acc = wasm_u16x8_shr(wasm_i16x8_add(acc, wasm_i16x8_splat(8)), 4);
            v128_t narrow = wasm_u8x16_narrow_i16x8(acc, acc);
            wasm_v128_store64_lane(d + x, narrow, 0);
        }
#endif
        for (; x < W; x++)
            d[x] = (uint8_t)((r[0][x] + 4 * r[1][x] + 6 * r[2][x] + 4 * r[3][x] + r[4][x] + 8) >> 4);
    }
}

/* ---------------------------------------- 3. float tone curve (f32) */

static float tone(float v)
{
    /* v in [0, 1]: a cubic with overshoot, clamped the pmin/pmax way. */
    float y = v * (1.6f + v * (-1.2f + v * 0.75f));
    y = y < 0.0f ? 0.0f : y;  /* pmax(y, 0) */
    y = 1.0f < y ? 1.0f : y;  /* pmin(y, 1) */
    return y * 255.0f + 0.5f;
}

/* Saturating float-to-int truncation, as i32x4.trunc_sat_f32x4_s. */
static int32_t trunc_sat(float f)
{
    if (f != f)
        return 0;
    if (f >= 2147483648.0f)
        return INT32_MAX;
    if (f < -2147483648.0f)
        return INT32_MIN;
    return (int32_t)f;
}

static void tone_map(const uint8_t *src, uint8_t *dst, int n)
{
    int i = 0;
#if USE_SIMD
    const v128_t inv = wasm_f32x4_splat(1.0f / 255.0f);
    for (; i + 16 <= n; i += 16) {
        v128_t px = wasm_v128_load(src + i);
        v128_t h16[2] = {wasm_u16x8_extend_low_u8x16(px), wasm_u16x8_extend_high_u8x16(px)};
        v128_t q[4];
        for (int k = 0; k < 4; k++) {
            v128_t w = (k & 1) ? wasm_u32x4_extend_high_u16x8(h16[k >> 1])
                               : wasm_u32x4_extend_low_u16x8(h16[k >> 1]);
            v128_t v = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(w), inv);
            v128_t y = wasm_f32x4_add(wasm_f32x4_splat(-1.2f), wasm_f32x4_mul(v, wasm_f32x4_splat(0.75f)));
            y = wasm_f32x4_add(wasm_f32x4_splat(1.6f), wasm_f32x4_mul(v, y));
            y = wasm_f32x4_mul(v, y);
            y = wasm_f32x4_pmax(y, wasm_f32x4_splat(0.0f));
            y = wasm_f32x4_pmin(y, wasm_f32x4_splat(1.0f));
            y = wasm_f32x4_add(wasm_f32x4_mul(y, wasm_f32x4_splat(255.0f)), wasm_f32x4_splat(0.5f));
            q[k] = wasm_i32x4_trunc_sat_f32x4(y);
        }
        v128_t lo = wasm_u16x8_narrow_i32x4(q[0], q[1]);
        v128_t hi = wasm_u16x8_narrow_i32x4(q[2], q[3]);
        wasm_v128_store(dst + i, wasm_u8x16_narrow_i16x8(lo, hi));
    }
#endif
    for (; i < n; i++) {
        int32_t t = trunc_sat(tone((float)src[i] * (1.0f / 255.0f)));
        dst[i] = (uint8_t)(t > 255 ? 255 : t);
    }
}

/* ------------------------------------------- 4. statistics (integer) */

typedef struct stats {
    uint32_t sum, sumsq, bright, bits, maxv, minv;
    uint32_t any_black, all_nonzero_blocks;
} stats_t;

#if USE_SIMD
/* Sum of eight lanes below 32768. */
static uint32_t sum_u16_lanes(v128_t v)
{
    v128_t b32 = wasm_i32x4_dot_i16x8(v, wasm_i16x8_splat(1));
    uint32_t total = 0;
    for (int k = 0; k < 4; k++) {
        total += (uint32_t)wasm_i32x4_extract_lane(b32, 0);
        b32 = wasm_i32x4_shuffle(b32, b32, 1, 2, 3, 0);
    }
    return total;
}
#endif

static void statistics(const uint8_t *p, int n, stats_t *s)
{
    s->sum = s->sumsq = s->bright = s->bits = 0;
    s->maxv = 0;
    s->minv = 255;
    s->any_black = 0;
    s->all_nonzero_blocks = 0;
    int i = 0;
#if USE_SIMD
    v128_t sum = wasm_i32x4_splat(0), sumsq = wasm_i32x4_splat(0);
    v128_t vmax = wasm_i8x16_splat(0), vmin = wasm_i8x16_splat((int8_t)255);
    v128_t bits = wasm_i16x8_splat(0);
    for (; i + 16 <= n; i += 16) {
        v128_t px = wasm_v128_load(p + i);
        sum = wasm_i32x4_add(sum, wasm_u32x4_extadd_pairwise_u16x8(wasm_u16x8_extadd_pairwise_u8x16(px)));
        v128_t lo = wasm_u16x8_extend_low_u8x16(px), hi = wasm_u16x8_extend_high_u8x16(px);
        sumsq = wasm_i32x4_add(sumsq, wasm_i32x4_dot_i16x8(lo, lo));
        sumsq = wasm_i32x4_add(sumsq, wasm_i32x4_dot_i16x8(hi, hi));
        v128_t gt = wasm_u8x16_gt(px, wasm_u8x16_splat(200));
        s->bright += (uint32_t)__builtin_popcount(wasm_i8x16_bitmask(gt));
        bits = wasm_i16x8_add(bits, wasm_u16x8_extadd_pairwise_u8x16(wasm_i8x16_popcnt(px)));
        vmax = wasm_u8x16_max(vmax, px);
        vmin = wasm_u8x16_min(vmin, px);
        s->any_black |= wasm_v128_any_true(wasm_i8x16_eq(px, wasm_i8x16_splat(0)));
        s->all_nonzero_blocks += wasm_i8x16_all_true(px);
        if ((i & 0x3fff) == 0x3ff0) { /* flush the 16-bit counts before they overflow */
            s->bits += sum_u16_lanes(bits);
            bits = wasm_i16x8_splat(0);
        }
    }
    s->bits += sum_u16_lanes(bits);
    /* Horizontal reductions by shuffles. */
    sum = wasm_i32x4_add(sum, wasm_i64x2_shuffle(sum, sum, 1, 0));
    sum = wasm_i32x4_add(sum, wasm_i32x4_shuffle(sum, sum, 1, 0, 3, 2));
    s->sum = (uint32_t)wasm_i32x4_extract_lane(sum, 0);
    sumsq = wasm_i32x4_add(sumsq, wasm_i64x2_shuffle(sumsq, sumsq, 1, 0));
    sumsq = wasm_i32x4_add(sumsq, wasm_i32x4_shuffle(sumsq, sumsq, 1, 0, 3, 2));
    s->sumsq = (uint32_t)wasm_i32x4_extract_lane(sumsq, 0);
    for (int k = 0; k < 16; k++) {
        uint8_t hi = (uint8_t)wasm_u8x16_extract_lane(vmax, 0), lo = (uint8_t)wasm_u8x16_extract_lane(vmin, 0);
        if (hi > s->maxv)
            s->maxv = hi;
        if (lo < s->minv)
            s->minv = lo;
        vmax = wasm_i8x16_shuffle(vmax, vmax, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0);
        vmin = wasm_i8x16_swizzle(vmin, wasm_i8x16_const(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0));
    }
#else
    for (; i + 16 <= n; i += 16) {
        uint32_t nonzero = 1, black = 0;
        for (int k = 0; k < 16; k++) {
            uint32_t v = p[i + k];
            s->sum += v;
            s->sumsq += v * v;
            s->bright += v > 200;
            s->bits += (uint32_t)__builtin_popcount(v);
            s->maxv = v > s->maxv ? v : s->maxv;
            s->minv = v < s->minv ? v : s->minv;
            black |= v == 0;
            nonzero &= v != 0;
        }
        s->any_black |= black;
        s->all_nonzero_blocks += nonzero;
    }
#endif
    for (; i < n; i++) {
        uint32_t v = p[i];
        s->sum += v;
        s->sumsq += v * v;
        s->bright += v > 200;
        s->bits += (uint32_t)__builtin_popcount(v);
        s->maxv = v > s->maxv ? v : s->maxv;
        s->minv = v < s->minv ? v : s->minv;
    }
}

/* -------------------------------- 5. mean and deviation (f64 lanes) */

/* Two running sums, one per f64x2 lane (even and odd pixels), so that the
 * scalar code adds in the same order as the vector code. */
static uint64_t deviation(const uint8_t *p, int n)
{
    double s0 = 0, s1 = 0, q0 = 0, q1 = 0;
    int i = 0;
#if USE_SIMD
    v128_t s = wasm_f64x2_splat(0), q = wasm_f64x2_splat(0);
    for (; i + 4 <= n; i += 4) {
        v128_t w = wasm_u32x4_extend_low_u16x8(wasm_u16x8_load8x8(p + i)); /* 4 pixels */
        v128_t a = wasm_f64x2_convert_low_u32x4(w);
        v128_t b = wasm_f64x2_convert_low_i32x4(wasm_i32x4_shuffle(w, w, 2, 3, 0, 1));
        s = wasm_f64x2_add(wasm_f64x2_add(s, a), b);
        q = wasm_f64x2_add(q, wasm_f64x2_mul(a, a));
        q = wasm_f64x2_add(q, wasm_f64x2_mul(b, b));
    }
    s0 = wasm_f64x2_extract_lane(s, 0);
    s1 = wasm_f64x2_extract_lane(s, 1);
    q0 = wasm_f64x2_extract_lane(q, 0);
    q1 = wasm_f64x2_extract_lane(q, 1);
#else
    for (; i + 4 <= n; i += 4) {
        double a0 = p[i], a1 = p[i + 1], b0 = p[i + 2], b1 = p[i + 3];
        s0 = (s0 + a0) + b0;
        s1 = (s1 + a1) + b1;
        q0 = q0 + a0 * a0;
        q0 = q0 + b0 * b0;
        q1 = q1 + a1 * a1;
        q1 = q1 + b1 * b1;
    }
#endif
    for (; i < n; i++) {
        s0 += p[i];
        q0 += (double)p[i] * p[i];
    }
    double mean = (s0 + s1) / (n ? n : 1);
    double var = (q0 + q1) / (n ? n : 1) - mean * mean;
    double dev = __builtin_sqrt(var < 0 ? 0 : var);
    double r = __builtin_floor(dev * 1000.0) + __builtin_ceil(mean * 1000.0) +
               __builtin_nearbyint(dev * mean) + __builtin_trunc(-mean);
    uint64_t bits;
    __builtin_memcpy(&bits, &r, 8);
    return bits;
}

/* ---------------------------- 6. plain loops clang vectorises itself */

static void blend(const uint8_t *a, const uint8_t *b, uint8_t *d, int n)
{
    for (int i = 0; i < n; i++)
        d[i] = (uint8_t)((a[i] * 3u + b[i] + 2u) >> 2);
}

static void sharpen_diff(const uint8_t *a, const uint8_t *b, uint8_t *d, int n)
{
    for (int i = 0; i < n; i++) {
        int v = 2 * a[i] - b[i];
        d[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
}

static uint32_t weighted(const uint8_t *p, const uint16_t *w, int n)
{
    uint32_t s = 0;
    for (int i = 0; i < n; i++)
        s += (uint32_t)p[i] * w[i];
    return s;
}

static void reverse_rows(const uint8_t *src, uint8_t *dst)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            dst[y * W + x] = src[y * W + (W - 1 - x)];
}

static uint16_t weights[MAXW];

/* ---------------------------------------------------------- pipeline */

static uint32_t pipeline(void)
{
    int n = W * H;
    uint32_t h = 2166136261u;
    blur_h(img, tmp);
    h = fnv(h, tmp, n);
    blur_v(tmp, out);
    h = fnv(h, out, n);
    tone_map(out, tmp, n);
    h = fnv(h, tmp, n);
    stats_t s;
    statistics(tmp, n, &s);
    h = mix(h, s.sum);
    h = mix(h, s.sumsq);
    h = mix(h, s.bright);
    h = mix(h, s.bits);
    h = mix(h, s.maxv << 8 | s.minv);
    h = mix(h, s.any_black);
    h = mix(h, s.all_nonzero_blocks);
    uint64_t dev = deviation(tmp, n);
    h = mix(h, (uint32_t)dev);
    h = mix(h, (uint32_t)(dev >> 32));
    blend(img, tmp, out, n);
    sharpen_diff(out, img, tmp, n);
    h = fnv(h, tmp, n);
    for (int x = 0; x < W; x++)
        weights[x] = (uint16_t)(x * 37 % 1001);
    for (int y = 0; y < H; y++)
        h = mix(h, weighted(tmp + y * W, weights, W));
    reverse_rows(tmp, out);
    h = fnv(h, out, n);
    return h;
}

static int setup(int w, int h, uint32_t seed)
{
    if (w < 1 || h < 1 || w > MAXW || h > MAXH)
        return 0;
    W = w;
    H = h;
    generate(seed);
    return 1;
}

/* Checksum of the pipeline on a w x h image made from `seed`; 0 if the size
 * is out of range. */
uint32_t run(int w, int h, int seed)
{
    if (!setup(w, h, (uint32_t)seed))
        return 0;
    return pipeline();
}

/* The pipeline `reps` times over one image, for timing. */
uint32_t bench(int w, int h, int reps)
{
    if (!setup(w, h, 12345))
        return 0;
    uint32_t acc = 0;
    for (int r = 0; r < reps; r++) {
        acc = mix(acc, pipeline());
        img[r % (W * H)] ^= (uint8_t)acc; /* keep repetitions distinct */
    }
    return acc;
}

#ifdef WITH_MAIN
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* imgproc run W H SEED | imgproc bench W H REPS: prints what the export
 * returns (as whirl --invoke prints an i32: signed decimal). */
int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s run|bench W H SEED|REPS\n", argv[0]);
        return 2;
    }
    int a = atoi(argv[2]), b = atoi(argv[3]), c = atoi(argv[4]);
    uint32_t r = strcmp(argv[1], "bench") == 0 ? bench(a, b, c) : run(a, b, c);
    printf("%d\n", (int32_t)r);
    return 0;
}
#endif
