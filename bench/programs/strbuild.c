/* strbuild: builds a large CSV-like text by appending formatted fields to a
 * growing buffer, then splits it, rewrites fields (reverse, upper-case,
 * search-and-replace) into a second buffer and hashes the result. Measures
 * byte-wise loops, memcpy/memmove/realloc and integer formatting. */
#include "common.h"

typedef struct {
    char *p;
    uint32_t len, cap;
} buf_t;

static void buf_reserve(buf_t *b, uint32_t extra)
{
    if (b->len + extra <= b->cap)
        return;
    while (b->len + extra > b->cap)
        b->cap = b->cap ? b->cap * 2 : 64;
    b->p = realloc(b->p, b->cap);
    if (!b->p)
        exit(3);
}

static void put(buf_t *b, const char *s, uint32_t n)
{
    buf_reserve(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void putc_(buf_t *b, char c)
{
    buf_reserve(b, 1);
    b->p[b->len++] = c;
}

static void put_uint(buf_t *b, uint32_t v, uint32_t base)
{
    char tmp[12];
    int n = 0;
    do {
        uint32_t d = v % base;
        tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    buf_reserve(b, (uint32_t)n);
    while (n)
        b->p[b->len++] = tmp[--n];
}

static void put_fixed(buf_t *b, int32_t milli)
{
    if (milli < 0) {
        putc_(b, '-');
        milli = -milli;
    }
    put_uint(b, (uint32_t)milli / 1000, 10);
    putc_(b, '.');
    uint32_t frac = (uint32_t)milli % 1000;
    putc_(b, (char)('0' + frac / 100));
    putc_(b, (char)('0' + frac / 10 % 10));
    putc_(b, (char)('0' + frac % 10));
}

static const char *const words[] = {
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
    "india", "juliett", "kilo", "lima", "mike", "november", "oscar", "papa",
};

static void build(buf_t *b, rng_t *g, int rows)
{
    for (int i = 0; i < rows; i++) {
        put_uint(b, (uint32_t)i, 10);
        putc_(b, ',');
        int nw = 1 + rng_next(g) % 4;
        for (int k = 0; k < nw; k++) {
            const char *w = words[rng_next(g) % 16];
            put(b, w, (uint32_t)strlen(w));
            if (k + 1 < nw)
                putc_(b, ' ');
        }
        putc_(b, ',');
        put_uint(b, rng_next(g), 16);
        putc_(b, ',');
        put_fixed(b, (int32_t)(rng_next(g) % 2000000) - 1000000);
        putc_(b, '\n');
    }
}

/* Rewrites each line: fields in reverse order, the words field upper-cased
 * and reversed, "delta" replaced by "DX". */
static void transform(const buf_t *in, buf_t *out)
{
    const char *p = in->p, *end = in->p + in->len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        const char *f[8];
        uint32_t fl[8];
        int nf = 0;
        const char *s = p;
        for (const char *q = p; q <= eol && nf < 8; q++) {
            if (q == eol || *q == ',') {
                f[nf] = s;
                fl[nf++] = (uint32_t)(q - s);
                s = q + 1;
            }
        }
        for (int k = nf - 1; k >= 0; k--) {
            if (k == 1) {
                uint32_t start = out->len;
                for (uint32_t i = 0; i < fl[k];) {
                    if (i + 5 <= fl[k] && memcmp(f[k] + i, "delta", 5) == 0) {
                        put(out, "DX", 2);
                        i += 5;
                    } else {
                        char c = f[k][i++];
                        putc_(out, (c >= 'a' && c <= 'z') ? (char)(c - 32) : c);
                    }
                }
                for (uint32_t i = start, j = out->len - 1; i < j; i++, j--) {
                    char t = out->p[i];
                    out->p[i] = out->p[j];
                    out->p[j] = t;
                }
            } else {
                put(out, f[k], fl[k]);
            }
            putc_(out, k ? ';' : '\n');
        }
        p = eol + 1;
    }
}

int main(int argc, char **argv)
{
    uint32_t reps = bench_reps(argc, argv, 35);
    uint32_t h = 0;
    for (uint32_t r = 0; r < reps; r++) {
        rng_t g;
        rng_seed(&g, r);
        buf_t a = {0}, b = {0};
        build(&a, &g, 40000);
        transform(&a, &b);
        /* Delete every line starting with an even digit, in place. */
        uint32_t w = 0;
        for (uint32_t i = 0; i < b.len;) {
            uint32_t j = i;
            while (j < b.len && b.p[j] != '\n')
                j++;
            if (j < b.len)
                j++;
            if ((uint8_t)b.p[i] % 2 != 0) {
                memmove(b.p + w, b.p + i, j - i);
                w += j - i;
            }
            i = j;
        }
        b.len = w;
        uint32_t hs = 2166136261u;
        for (uint32_t i = 0; i < b.len; i++)
            hs = (hs ^ (uint8_t)b.p[i]) * 16777619u;
        h = mix32(mix32(mix32(h, a.len), b.len), hs);
        free(a.p);
        free(b.p);
    }
    bench_result("strbuild", reps, h);
    return 0;
}
