/* lz: an LZ77 compressor (hash chains over a 32 KiB window, lazy matching)
 * and its decompressor, round-tripping generated text. Measures byte
 * compares, hash-chain pointer chasing and unpredictable branches. */
#include "common.h"

enum { WINDOW = 1 << 15, HASH_BITS = 14, MIN_MATCH = 4, MAX_MATCH = 258, MAX_CHAIN = 48 };

/* Output format: a control byte per token: 0..127 = literal run of n+1 bytes
 * follows; 128..255 = match of length (c-128)+MIN_MATCH (+ extra byte if
 * c == 255), then a 2-byte distance. */
typedef struct {
    int32_t head[1 << HASH_BITS];
    int32_t prev[WINDOW];
} lz_state_t;

static inline uint32_t hash4(const uint8_t *p)
{
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return (v * 2654435761u) >> (32 - HASH_BITS);
}

static uint32_t longest(const lz_state_t *st, const uint8_t *in, uint32_t pos, uint32_t n,
                        uint32_t *dist)
{
    uint32_t best = 0, limit = n - pos < MAX_MATCH ? n - pos : MAX_MATCH;
    if (limit < MIN_MATCH)
        return 0;
    int32_t cand = st->head[hash4(in + pos)];
    for (int chain = 0; chain < MAX_CHAIN && cand >= 0; chain++) {
        if (pos - (uint32_t)cand > WINDOW - 1)
            break;
        const uint8_t *a = in + cand, *b = in + pos;
        if (a[best] == b[best]) {
            uint32_t len = 0;
            while (len < limit && a[len] == b[len])
                len++;
            if (len > best) {
                best = len;
                *dist = pos - (uint32_t)cand;
                if (len == limit)
                    break;
            }
        }
        cand = st->prev[cand & (WINDOW - 1)];
    }
    return best >= MIN_MATCH ? best : 0;
}

static inline void insert(lz_state_t *st, const uint8_t *in, uint32_t pos)
{
    uint32_t h = hash4(in + pos);
    st->prev[pos & (WINDOW - 1)] = st->head[h];
    st->head[h] = (int32_t)pos;
}

static void flush_literals(uint8_t *out, uint32_t *o, const uint8_t *lit, uint32_t n)
{
    while (n > 0) {
        uint32_t k = n < 128 ? n : 128;
        out[(*o)++] = (uint8_t)(k - 1);
        memcpy(out + *o, lit, k);
        *o += k;
        lit += k;
        n -= k;
    }
}

static void emit_match(uint8_t *out, uint32_t *o, uint32_t len, uint32_t dist)
{
    uint32_t extra = len - MIN_MATCH;
    out[(*o)++] = (uint8_t)(128 + (extra < 127 ? extra : 127));
    if (extra >= 127)
        out[(*o)++] = (uint8_t)(extra - 127);
    out[(*o)++] = (uint8_t)dist;
    out[(*o)++] = (uint8_t)(dist >> 8);
}

static uint32_t compress(lz_state_t *st, const uint8_t *in, uint32_t n, uint8_t *out)
{
    for (int i = 0; i < (1 << HASH_BITS); i++)
        st->head[i] = -1;
    uint32_t o = 0, pos = 0, lit_start = 0;
    while (pos < n) {
        uint32_t dist = 0, len = n - pos >= MIN_MATCH ? longest(st, in, pos, n, &dist) : 0;
        uint32_t first_uninserted = 0;
        if (len && len < 32 && n - pos - 1 >= MIN_MATCH) {
            /* Lazy matching: prefer a clearly longer match one byte later. */
            insert(st, in, pos);
            uint32_t d2 = 0, l2 = longest(st, in, pos + 1, n, &d2);
            if (l2 > len + 1) {
                pos++;
                len = l2;
                dist = d2;
            } else {
                first_uninserted = 1;
            }
        }
        if (len) {
            flush_literals(out, &o, in + lit_start, pos - lit_start);
            emit_match(out, &o, len, dist);
            for (uint32_t k = first_uninserted; k < len; k++)
                if (pos + k + MIN_MATCH <= n)
                    insert(st, in, pos + k);
            pos += len;
            lit_start = pos;
        } else {
            if (n - pos >= MIN_MATCH)
                insert(st, in, pos);
            pos++;
        }
    }
    flush_literals(out, &o, in + lit_start, pos - lit_start);
    return o;
}

static uint32_t decompress(const uint8_t *in, uint32_t n, uint8_t *out, uint32_t cap)
{
    uint32_t i = 0, o = 0;
    while (i < n) {
        uint32_t c = in[i++];
        if (c < 128) {
            uint32_t k = c + 1;
            if (i + k > n || o + k > cap)
                return UINT32_MAX;
            memcpy(out + o, in + i, k);
            i += k;
            o += k;
        } else {
            uint32_t len = c - 128 + MIN_MATCH;
            if (c == 255 && i < n)
                len += in[i++];
            if (i + 2 > n)
                return UINT32_MAX;
            uint32_t dist = (uint32_t)in[i] | (uint32_t)in[i + 1] << 8;
            i += 2;
            if (dist == 0 || dist > o || o + len > cap)
                return UINT32_MAX;
            /* Byte by byte: matches may overlap their own output. */
            for (uint32_t k = 0; k < len; k++, o++)
                out[o] = out[o - dist];
        }
    }
    return o;
}

static uint32_t gen_text(uint8_t *buf, uint32_t n, rng_t *g)
{
    static const char *const w[] = {
        "the ", "quick ", "brown ", "fox ", "jumps ", "over ", "lazy ", "dog ", "and ",
        "runs ", "away ", "from ", "a ", "small ", "engine ", "that ", "interprets ", "code ",
        "while ", "memory ", "grows ", "\n", ", ", ". ",
    };
    uint32_t o = 0;
    while (o + 16 < n) {
        uint32_t x = rng_next(g);
        if ((x & 15) == 0) {
            /* Sprinkle incompressible bytes. */
            buf[o++] = (uint8_t)(x >> 8);
            buf[o++] = (uint8_t)(x >> 16);
        } else {
            const char *s = w[(x >> 4) % 24];
            while (*s)
                buf[o++] = (uint8_t)*s++;
        }
    }
    return o;
}

enum { N = 1 << 18 };

int main(int argc, char **argv)
{
    uint32_t reps = bench_reps(argc, argv, 44);
    lz_state_t *st = xmalloc(sizeof *st);
    uint8_t *in = xmalloc(N), *comp = xmalloc(N + N / 64 + 16), *back = xmalloc(N);
    uint32_t h = 0;
    for (uint32_t r = 0; r < reps; r++) {
        rng_t g;
        rng_seed(&g, r);
        uint32_t n = gen_text(in, N, &g);
        uint32_t c = compress(st, in, n, comp);
        uint32_t d = decompress(comp, c, back, N);
        if (d != n || memcmp(in, back, n) != 0) {
            printf("lz round trip failed (rep %u)\n", r);
            return 1;
        }
        if (r == 0)
            printf("lz: %u -> %u bytes\n", n, c);
        uint32_t hs = 0;
        for (uint32_t i = 0; i < c; i++)
            hs = hs * 31 + comp[i];
        h = mix32(mix32(h, c), hs);
    }
    free(st);
    free(in);
    free(comp);
    free(back);
    bench_result("lz", reps, h);
    return 0;
}
