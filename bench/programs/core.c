/* core: a CoreMark-like mix of three integer workloads, each folded into a
 * CRC-16: linked-list search/reverse/merge-sort, small int16 matrix algebra,
 * and a character-class state machine scanning numeric tokens.
 * Measures pointer chasing, short-integer arithmetic and switch dispatch. */
#include "common.h"

/* ---- CRC-16 (CCITT, bitwise) ---- */
static uint16_t crc16(uint16_t crc, uint32_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) {
        crc ^= (uint16_t)((v >> (8 * i)) & 0xFF) << 8;
        for (int k = 0; k < 8; k++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

/* ---- linked list ---- */
typedef struct node {
    struct node *next;
    uint16_t key;
    int16_t data;
} node_t;

enum { LIST_N = 400 };

static node_t *list_build(node_t *pool, rng_t *g)
{
    node_t *head = NULL;
    for (int i = LIST_N - 1; i >= 0; i--) {
        pool[i].key = (uint16_t)i;
        pool[i].data = (int16_t)(rng_next(g) & 0x7FFF);
        pool[i].next = head;
        head = &pool[i];
    }
    return head;
}

static node_t *list_find(node_t *l, uint16_t key, int16_t data, int by_data)
{
    for (; l; l = l->next)
        if (by_data ? (l->data & 0xFF) == (data & 0xFF) : l->key == key)
            return l;
    return NULL;
}

static node_t *list_reverse(node_t *l)
{
    node_t *prev = NULL;
    while (l) {
        node_t *next = l->next;
        l->next = prev;
        prev = l;
        l = next;
    }
    return prev;
}

static int cmp_node(const node_t *a, const node_t *b, int by_data)
{
    if (by_data) {
        /* Compare a derived value so the comparison itself costs something. */
        int va = (a->data ^ (a->data >> 3)) & 0x3FF, vb = (b->data ^ (b->data >> 3)) & 0x3FF;
        return va != vb ? va - vb : a->key - b->key;
    }
    return a->key - b->key;
}

/* Bottom-up merge sort of a singly linked list (stable, no recursion). */
static node_t *list_sort(node_t *list, int by_data)
{
    for (int insize = 1;; insize *= 2) {
        node_t *p = list, *tail = NULL;
        int merges = 0;
        list = NULL;
        while (p) {
            merges++;
            node_t *q = p;
            int psize = 0;
            for (int i = 0; i < insize && q; i++) {
                psize++;
                q = q->next;
            }
            int qsize = insize;
            while (psize > 0 || (qsize > 0 && q)) {
                node_t *e;
                if (psize == 0) {
                    e = q; q = q->next; qsize--;
                } else if (qsize == 0 || !q || cmp_node(p, q, by_data) <= 0) {
                    e = p; p = p->next; psize--;
                } else {
                    e = q; q = q->next; qsize--;
                }
                if (tail)
                    tail->next = e;
                else
                    list = e;
                tail = e;
            }
            p = q;
        }
        tail->next = NULL;
        if (merges <= 1)
            return list;
    }
}

static uint16_t bench_list(node_t *pool, rng_t *g, uint16_t crc)
{
    node_t *l = list_build(pool, g);
    int found = 0, missed = 0;
    for (int i = 0; i < 40; i++) {
        node_t *n = list_find(l, (uint16_t)(rng_next(g) % (LIST_N + 50)), (int16_t)i, i & 1);
        if (n) {
            found++;
            crc = crc16(crc, (uint32_t)n->key, 2);
        } else {
            missed++;
        }
    }
    l = list_reverse(l);
    l = list_sort(l, 1);
    for (node_t *n = l; n; n = n->next)
        crc = crc16(crc, (uint16_t)n->data, 1);
    l = list_sort(l, 0);
    uint32_t sum = 0;
    for (node_t *n = l; n; n = n->next)
        sum = sum * 31 + n->key;
    crc = crc16(crc, sum, 4);
    return crc16(crc, (uint32_t)(found * 256 + missed), 2);
}

/* ---- matrices ---- */
enum { MN = 24 };

static uint16_t bench_matrix(int16_t *a, int16_t *b, int32_t *c, rng_t *g, uint16_t crc)
{
    for (int i = 0; i < MN * MN; i++) {
        a[i] = (int16_t)((rng_next(g) & 0xFFF) - 0x800);
        b[i] = (int16_t)((rng_next(g) & 0xFF) - 0x80);
    }
    int16_t k = (int16_t)(rng_next(g) & 0x3F);
    /* A += k; C = A * k; C = A * vector(B row 0); C = A * B; bit-field sums */
    for (int i = 0; i < MN * MN; i++)
        a[i] = (int16_t)(a[i] + k);
    int32_t acc = 0;
    for (int i = 0; i < MN * MN; i++) {
        c[i] = (int32_t)a[i] * k;
        acc += c[i] > 0 ? 1 : 0;
    }
    crc = crc16(crc, (uint32_t)acc, 2);
    for (int i = 0; i < MN; i++) {
        int32_t s = 0;
        for (int j = 0; j < MN; j++)
            s += (int32_t)a[i * MN + j] * b[j];
        c[i] = s;
    }
    crc = crc16(crc, (uint32_t)c[MN / 2], 4);
    for (int i = 0; i < MN; i++)
        for (int j = 0; j < MN; j++) {
            int32_t s = 0;
            for (int x = 0; x < MN; x++)
                s += (int32_t)a[i * MN + x] * b[x * MN + j];
            c[i * MN + j] = s;
        }
    uint32_t bits = 0;
    for (int i = 0; i < MN * MN; i++)
        bits += ((uint32_t)c[i] >> 2) & 0xF;
    return crc16(crc, bits, 4);
}

/* ---- state machine over numeric tokens ---- */
enum { S_START, S_INT, S_SIGN, S_FRAC, S_EXP, S_EXPSIGN, S_SCI, S_INVALID, S_COUNT };

static int sm_run(const char *p, uint32_t counts[S_COUNT], uint32_t *transitions)
{
    int tokens = 0;
    while (*p) {
        int st = S_START;
        while (*p && *p != ',') {
            char ch = *p++;
            int prev = st;
            switch (st) {
            case S_START:
                if (ch >= '0' && ch <= '9') st = S_INT;
                else if (ch == '+' || ch == '-') st = S_SIGN;
                else if (ch == '.') st = S_FRAC;
                else st = S_INVALID;
                break;
            case S_SIGN:
                if (ch >= '0' && ch <= '9') st = S_INT;
                else if (ch == '.') st = S_FRAC;
                else st = S_INVALID;
                break;
            case S_INT:
                if (ch == '.') st = S_FRAC;
                else if (ch == 'e' || ch == 'E') st = S_EXP;
                else if (ch < '0' || ch > '9') st = S_INVALID;
                break;
            case S_FRAC:
                if (ch == 'e' || ch == 'E') st = S_EXP;
                else if (ch < '0' || ch > '9') st = S_INVALID;
                break;
            case S_EXP:
                if (ch == '+' || ch == '-') st = S_EXPSIGN;
                else if (ch >= '0' && ch <= '9') st = S_SCI;
                else st = S_INVALID;
                break;
            case S_EXPSIGN:
                st = (ch >= '0' && ch <= '9') ? S_SCI : S_INVALID;
                break;
            case S_SCI:
                if (ch < '0' || ch > '9') st = S_INVALID;
                break;
            default:
                break;
            }
            if (st != prev)
                (*transitions)++;
        }
        counts[st]++;
        tokens++;
        if (*p == ',')
            p++;
    }
    return tokens;
}

static void sm_input(char *buf, int len, rng_t *g)
{
    static const char alphabet[] = "0123456789012345678901234567890123456789+-.eE,,,,x";
    for (int i = 0; i < len - 1; i++)
        buf[i] = alphabet[rng_next(g) % (sizeof alphabet - 1)];
    buf[len - 1] = '\0';
}

static uint16_t bench_state(char *buf, int len, rng_t *g, uint16_t crc)
{
    sm_input(buf, len, g);
    uint32_t counts[S_COUNT] = {0}, transitions = 0;
    /* Scan twice: once as generated, once with every 5th char flipped. */
    int tokens = sm_run(buf, counts, &transitions);
    for (int i = 0; i < len - 1; i += 5)
        if (buf[i] != ',')
            buf[i] = (char)(buf[i] ^ 1);
    tokens += sm_run(buf, counts, &transitions);
    for (int s = 0; s < S_COUNT; s++)
        crc = crc16(crc, counts[s], 2);
    crc = crc16(crc, transitions, 4);
    return crc16(crc, (uint32_t)tokens, 2);
}

int main(int argc, char **argv)
{
    uint32_t reps = bench_reps(argc, argv, 50);
    node_t *pool = xmalloc(sizeof(node_t) * LIST_N);
    int16_t *a = xmalloc(sizeof(int16_t) * MN * MN);
    int16_t *b = xmalloc(sizeof(int16_t) * MN * MN);
    int32_t *c = xmalloc(sizeof(int32_t) * MN * MN);
    enum { SM_LEN = 2048 };
    char *text = xmalloc(SM_LEN);
    uint32_t h = 0;
    for (uint32_t r = 0; r < reps; r++) {
        rng_t g;
        rng_seed(&g, r);
        uint16_t crc_list = 0, crc_mat = 0, crc_sm = 0;
        for (int it = 0; it < 100; it++) {
            crc_list = bench_list(pool, &g, crc_list);
            crc_mat = bench_matrix(a, b, c, &g, crc_mat);
            crc_sm = bench_state(text, SM_LEN, &g, crc_sm);
        }
        h = mix32(h, (uint32_t)crc_list << 16 | crc_mat);
        h = mix32(h, crc_sm);
    }
    free(pool);
    free(a);
    free(b);
    free(c);
    free(text);
    bench_result("core", reps, h);
    return 0;
}
