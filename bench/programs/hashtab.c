/* hashtab: a word-frequency count in an open-addressing string hash table
 * (linear probing, growth by rehash, deletion by backward shift), plus a
 * chained integer map with one malloc per node. Measures hashing, string
 * compares, cache-unfriendly probes and allocator traffic. */
#include "common.h"

/* ---- string -> count table ---- */
typedef struct {
    uint32_t hash; /* 0 = empty slot */
    uint32_t count;
    uint32_t key;  /* offset of the NUL-terminated key in the arena */
} slot_t;

typedef struct {
    slot_t *slots;
    uint32_t cap, len; /* cap is a power of two */
    char *arena;
    uint32_t arena_len, arena_cap;
} strmap_t;

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 16777619u;
    return h | 1; /* never 0: 0 marks an empty slot */
}

static void strmap_init(strmap_t *m, uint32_t cap)
{
    m->cap = cap;
    m->len = 0;
    m->slots = calloc(cap, sizeof(slot_t));
    m->arena_cap = 1 << 16;
    m->arena = xmalloc(m->arena_cap);
    m->arena_len = 0;
    if (!m->slots)
        exit(3);
}

static void strmap_free(strmap_t *m)
{
    free(m->slots);
    free(m->arena);
}

static void strmap_grow(strmap_t *m)
{
    slot_t *old = m->slots;
    uint32_t oldcap = m->cap;
    m->cap *= 2;
    m->slots = calloc(m->cap, sizeof(slot_t));
    if (!m->slots)
        exit(3);
    for (uint32_t i = 0; i < oldcap; i++) {
        if (!old[i].hash)
            continue;
        uint32_t j = old[i].hash & (m->cap - 1);
        while (m->slots[j].hash)
            j = (j + 1) & (m->cap - 1);
        m->slots[j] = old[i];
    }
    free(old);
}

static slot_t *strmap_find(strmap_t *m, const char *key, uint32_t h)
{
    uint32_t j = h & (m->cap - 1);
    while (m->slots[j].hash) {
        if (m->slots[j].hash == h && strcmp(m->arena + m->slots[j].key, key) == 0)
            return &m->slots[j];
        j = (j + 1) & (m->cap - 1);
    }
    return NULL;
}

static void strmap_add(strmap_t *m, const char *key)
{
    uint32_t h = hash_str(key);
    slot_t *s = strmap_find(m, key, h);
    if (s) {
        s->count++;
        return;
    }
    if ((m->len + 1) * 4 > m->cap * 3)
        strmap_grow(m);
    uint32_t n = (uint32_t)strlen(key) + 1;
    if (m->arena_len + n > m->arena_cap) {
        m->arena_cap *= 2;
        m->arena = realloc(m->arena, m->arena_cap);
        if (!m->arena)
            exit(3);
    }
    memcpy(m->arena + m->arena_len, key, n);
    uint32_t j = h & (m->cap - 1);
    while (m->slots[j].hash)
        j = (j + 1) & (m->cap - 1);
    m->slots[j] = (slot_t){h, 1, m->arena_len};
    m->arena_len += n;
    m->len++;
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static int strmap_remove(strmap_t *m, const char *key)
{
    slot_t *s = strmap_find(m, key, hash_str(key));
    if (!s)
        return 0;
    uint32_t mask = m->cap - 1, i = (uint32_t)(s - m->slots), j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!m->slots[j].hash)
            break;
        uint32_t home = m->slots[j].hash & mask;
        /* Move j back to i unless its home lies cyclically in (i, j]. */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    m->slots[i].hash = 0;
    m->len--;
    return 1;
}

static void make_word(char *w, rng_t *g, uint32_t vocab)
{
    /* Skewed distribution: small ids are much more frequent. */
    uint32_t id = rng_next(g) % vocab;
    id = id % (1 + rng_next(g) % vocab);
    static const char letters[] = "etaoinshrdlucmfwypvbgkjqxz";
    int n = 0;
    w[n++] = letters[id % 26];
    id /= 26;
    do {
        w[n++] = letters[id % 26];
        id /= 26;
    } while (id);
    w[n] = '\0';
}

/* ---- chained int -> int map ---- */
typedef struct inode {
    struct inode *next;
    uint32_t key, val;
} inode_t;

enum { IBUCKETS = 1 << 12 };

static uint32_t bench_intmap(rng_t *g)
{
    inode_t **b = calloc(IBUCKETS, sizeof(inode_t *));
    if (!b)
        exit(3);
    uint32_t h = 0;
    for (int i = 0; i < 20000; i++) {
        uint32_t k = rng_next(g) % 30000;
        inode_t **pp = &b[(k * 2654435761u) >> 20];
        while (*pp && (*pp)->key != k)
            pp = &(*pp)->next;
        if (*pp) {
            if ((*pp)->val & 1) { /* delete on odd value */
                inode_t *dead = *pp;
                *pp = dead->next;
                h = mix32(h, dead->val);
                free(dead);
            } else {
                (*pp)->val += k;
            }
        } else {
            inode_t *n = xmalloc(sizeof *n);
            n->key = k;
            n->val = (uint32_t)i;
            n->next = NULL;
            *pp = n;
        }
    }
    for (uint32_t i = 0; i < IBUCKETS; i++) {
        inode_t *n = b[i];
        while (n) {
            inode_t *next = n->next;
            h += n->key ^ n->val;
            free(n);
            n = next;
        }
    }
    free(b);
    return h;
}

int main(int argc, char **argv)
{
    uint32_t reps = bench_reps(argc, argv, 72);
    uint32_t h = 0;
    char w[16];
    for (uint32_t r = 0; r < reps; r++) {
        rng_t g;
        rng_seed(&g, r);
        strmap_t m;
        strmap_init(&m, 64);
        for (int i = 0; i < 60000; i++) {
            make_word(w, &g, 20000);
            strmap_add(&m, w);
        }
        uint32_t removed = 0;
        for (int i = 0; i < 20000; i++) {
            make_word(w, &g, 20000);
            removed += (uint32_t)strmap_remove(&m, w);
        }
        uint32_t hits = 0, sum = 0;
        for (int i = 0; i < 40000; i++) {
            make_word(w, &g, 40000);
            slot_t *s = strmap_find(&m, w, hash_str(w));
            if (s) {
                hits++;
                sum += s->count;
            }
        }
        h = mix32(h, m.len);
        h = mix32(h, removed);
        h = mix32(h, hits);
        h = mix32(h, sum);
        strmap_free(&m);
        h = mix32(h, bench_intmap(&g));
    }
    bench_result("hashtab", reps, h);
    return 0;
}
