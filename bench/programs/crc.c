/* crc: CRC-32 (IEEE, table-driven, one byte per step), CRC-32C (bitwise,
 * branch-free) and Adler-32 over a buffer. Measures byte loads, table
 * lookups, shifts and xors in tight loops. */
#include "common.h"

static uint32_t crc32_table[256];

static void crc32_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
        crc32_table[i] = c;
    }
}

static uint32_t crc32_ieee(const uint8_t *p, uint32_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (uint32_t i = 0; i < n; i++)
        c = crc32_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return ~c;
}

static uint32_t crc32c_bitwise(const uint8_t *p, uint32_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (uint32_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
    }
    return ~c;
}

static uint32_t adler32(const uint8_t *p, uint32_t n)
{
    uint32_t a = 1, b = 0;
    while (n > 0) {
        uint32_t chunk = n < 5552 ? n : 5552;
        n -= chunk;
        while (chunk--) {
            a += *p++;
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    return b << 16 | a;
}

enum { BUF = 1 << 17 };

int main(int argc, char **argv)
{
    uint32_t reps = bench_reps(argc, argv, 128);
    crc32_init();
    if (crc32_ieee((const uint8_t *)"123456789", 9) != 0xCBF43926u ||
        crc32c_bitwise((const uint8_t *)"123456789", 9) != 0xE3069283u) {
        printf("crc self-check failed\n");
        return 1;
    }
    uint8_t *buf = xmalloc(BUF);
    rng_t g;
    rng_seed(&g, 7);
    for (uint32_t i = 0; i < BUF; i++)
        buf[i] = (uint8_t)rng_next(&g);
    uint32_t h = 0;
    for (uint32_t r = 0; r < reps; r++) {
        buf[(r * 7919) % BUF] = (uint8_t)r;
        for (int pass = 0; pass < 4; pass++)
            h = mix32(h, crc32_ieee(buf + pass, BUF - pass));
        h = mix32(h, crc32c_bitwise(buf, BUF));
        for (int pass = 0; pass < 4; pass++)
            h = mix32(h, adler32(buf + pass, BUF - pass));
    }
    free(buf);
    bench_result("crc", reps, h);
    return 0;
}
