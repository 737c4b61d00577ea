/* Instantiation from per-module images: copy-on-write memory images (a
 * memfd mapped privately into each memory), pre-initialised tables and
 * globals. Every case checks what a guest can observe: a fresh instance
 * reads its data segments, never what an earlier tenant of its pool slot
 * or a concurrent instance wrote; memory.grow and the memory accounting
 * behave as without images; modules whose segments depend on imports take
 * the copying path. Pooled slots are forced to be reused (one slot) and to
 * switch between modules. The page-table scan that finds written pages is
 * tested on its own first. */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc/alloc.h"
#include "hosting_common.h"

/* ---- a small module writer ---- */

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf_t;

static void put(buf_t *b, const void *data, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void put_byte(buf_t *b, uint8_t v) { put(b, &v, 1); }

static void put_uleb(buf_t *b, uint64_t v)
{
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        put_byte(b, byte | (v ? 0x80 : 0));
    } while (v);
}

static void put_sleb(buf_t *b, int64_t v)
{
    for (;;) {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        bool done = (v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40));
        put_byte(b, byte | (done ? 0 : 0x80));
        if (done)
            return;
    }
}

static void put_section(buf_t *b, uint8_t id, buf_t *body)
{
    put_byte(b, id);
    put_uleb(b, body->len);
    put(b, body->p, body->len);
    body->len = 0;
}

static void put_name(buf_t *b, const char *s)
{
    put_uleb(b, strlen(s));
    put(b, s, strlen(s));
}

typedef struct seg {
    uint32_t offset;
    uint32_t len;
    uint8_t fill; /* byte i of the segment is fill + i */
} seg_t;

typedef struct spec {
    uint32_t pages;      /* memory minimum (no maximum) */
    const seg_t *segs;   /* active data segments into memory 0 */
    size_t nsegs;
    bool offset_import;  /* segment offsets come from imported global env.off */
    int32_t global_init; /* the defined global `g` */
} spec_t;

/*
 * (module
 *   [(import "env" "off" (global i32))]
 *   (type $u (func (param i32) (result i32)))  (type (func (param i32 i32)))
 *   (type $k (func (result i32)))
 *   (table 4 funcref) (memory (export "mem") PAGES)
 *   (global $g (mut i32) (i32.const G))
 *   (func (export "load") (type $u) local.get 0 i32.load)
 *   (func (export "store") (param i32 i32) local.get 0 local.get 1 i32.store)
 *   (func (export "grow") (type $u) local.get 0 memory.grow)
 *   (func (export "size") (type $k) memory.size)
 *   (func $k7 (type $k) i32.const 7) (func $k9 (type $k) i32.const 9)
 *   (func (export "calli") (type $u) local.get 0 call_indirect (type $k))
 *   (func (export "g") (type $k) global.get $g)
 *   (elem (i32.const 1) $k7 $k9)
 *   (data (i32.const OFFSET | global.get 0) "...") ...)
 */
static uint8_t *make_module(const spec_t *sp, size_t *len)
{
    buf_t m = {0}, s = {0};
    put(&m, "\0asm\1\0\0\0", 8);
    /* types */
    put_uleb(&s, 3);
    put(&s, "\x60\x01\x7f\x01\x7f", 5);
    put(&s, "\x60\x02\x7f\x7f\x00", 5);
    put(&s, "\x60\x00\x01\x7f", 4);
    put_section(&m, 1, &s);
    if (sp->offset_import) {
        put_uleb(&s, 1);
        put_name(&s, "env");
        put_name(&s, "off");
        put(&s, "\x03\x7f\x00", 3);
        put_section(&m, 2, &s);
    }
    static const uint8_t ftypes[] = {0, 1, 0, 2, 2, 2, 0, 2};
    put_uleb(&s, sizeof ftypes);
    put(&s, ftypes, sizeof ftypes);
    put_section(&m, 3, &s);
    put(&s, "\x01\x70\x00\x04", 4);
    put_section(&m, 4, &s);
    put(&s, "\x01\x00", 2);
    put_uleb(&s, sp->pages);
    put_section(&m, 5, &s);
    put(&s, "\x01\x7f\x01\x41", 4);
    put_sleb(&s, sp->global_init);
    put_byte(&s, 0x0b);
    put_section(&m, 6, &s);
    static const struct {
        const char *name;
        uint8_t kind, index;
    } exports[] = {{"mem", 2, 0},  {"load", 0, 0},  {"store", 0, 1}, {"grow", 0, 2},
                   {"size", 0, 3}, {"calli", 0, 6}, {"g", 0, 7}};
    put_uleb(&s, sizeof exports / sizeof exports[0]);
    for (size_t i = 0; i < sizeof exports / sizeof exports[0]; i++) {
        put_name(&s, exports[i].name);
        put_byte(&s, exports[i].kind);
        put_byte(&s, exports[i].index);
    }
    put_section(&m, 7, &s);
    put(&s, "\x01\x00\x41\x01\x0b\x02\x04\x05", 8);
    put_section(&m, 9, &s);
    static const char *const bodies[] = {
        "\x00\x20\x00\x28\x02\x00\x0b", "\x00\x20\x00\x20\x01\x36\x02\x00\x0b",
        "\x00\x20\x00\x40\x00\x0b",     "\x00\x3f\x00\x0b",
        "\x00\x41\x07\x0b",             "\x00\x41\x09\x0b",
        "\x00\x20\x00\x11\x02\x00\x0b", "\x00\x23\x00\x0b",
    };
    static const uint8_t body_len[] = {7, 9, 6, 4, 4, 4, 7, 4};
    put_uleb(&s, 8);
    for (int i = 0; i < 8; i++) {
        put_uleb(&s, body_len[i]);
        /* With an imported global, $g is global 1. */
        put(&s, bodies[i], body_len[i] - (i == 7 ? 2 : 0));
        if (i == 7)
            put(&s, sp->offset_import ? "\x01\x0b" : "\x00\x0b", 2);
    }
    put_section(&m, 10, &s);
    put_uleb(&s, sp->nsegs);
    for (size_t i = 0; i < sp->nsegs; i++) {
        put_byte(&s, 0);
        if (sp->offset_import) {
            put(&s, "\x23\x00", 2);
        } else {
            put_byte(&s, 0x41);
            put_sleb(&s, (int32_t)sp->segs[i].offset);
        }
        put_byte(&s, 0x0b);
        put_uleb(&s, sp->segs[i].len);
        for (uint32_t k = 0; k < sp->segs[i].len; k++)
            put_byte(&s, (uint8_t)(sp->segs[i].fill + k));
    }
    put_section(&m, 11, &s);
    free(s.p);
    *len = m.len;
    return m.p;
}

static whirl_module_t *module_of(whirl_engine_t *e, const spec_t *sp)
{
    size_t len;
    uint8_t *bytes = make_module(sp, &len);
    whirl_module_t *m = load_module(e, bytes, len);
    free(bytes);
    return m;
}

/* The i32 a fresh instance of `sp` reads at `addr`: the last segment
 * covering each byte wins, zero elsewhere. */
static int32_t expected_at(const spec_t *sp, uint32_t addr)
{
    uint32_t v = 0;
    for (int k = 3; k >= 0; k--) {
        uint8_t byte = 0;
        for (size_t i = 0; i < sp->nsegs; i++) {
            const seg_t *g = &sp->segs[i];
            if (addr + k >= g->offset && addr + k < g->offset + g->len)
                byte = (uint8_t)(g->fill + (addr + k - g->offset));
        }
        v = v << 8 | byte;
    }
    return (int32_t)v;
}

static whirl_engine_t *pooled_engine(uint64_t instances, uint64_t keep)
{
    whirl_config_t *c = test_config(true);
    whirl_config_pool_limit_set(c, WHIRL_POOL_MAX_INSTANCE_COUNT, instances);
    whirl_config_pool_limit_set(c, WHIRL_POOL_LINEAR_MEMORY_KEEP_RESIDENT, keep);
    return engine_of(c);
}

/* Checks a fresh instance: the data at each probe, the table and global
 * initialised; then leaves secrets at every probe and past the data. */
static void check_fresh_then_dirty(whirl_store_t *s, whirl_instance_t *inst, const spec_t *sp,
                                   const uint32_t *probes, size_t nprobes, int round)
{
    for (size_t i = 0; i < nprobes; i++) {
        int32_t got = call_i32(s, inst, "load", 1, (int32_t)probes[i], 0);
        if (got != expected_at(sp, probes[i]))
            fprintf(stderr, "  round %d: at %u read 0x%x, expected 0x%x\n", round, probes[i],
                    got, expected_at(sp, probes[i]));
        CHECK(got == expected_at(sp, probes[i]));
    }
    CHECK(call_i32(s, inst, "size", 0, 0, 0) == (int32_t)sp->pages);
    CHECK(whirl_store_memory_consumed(s) == (uint64_t)sp->pages * 65536);
    CHECK(call_i32(s, inst, "calli", 1, 1, 0) == 7);
    CHECK(call_i32(s, inst, "calli", 1, 2, 0) == 9);
    CHECK(call_i32(s, inst, "g", 0, 0, 0) == sp->global_init);
    for (size_t i = 0; i < nprobes; i++)
        call_i32(s, inst, "store", 2, (int32_t)probes[i], 0x5ec7e7 + round);
    /* Also through the host's view of the memory. */
    whirl_memory_t *mem = export_of(inst, "mem").of.memory;
    if (mem && whirl_memory_data_size(mem) >= 65536)
        memset(whirl_memory_data(mem) + 8192, 0xee, 4096);
}

/* ---- the scan ---- */

typedef struct runs {
    size_t n, start[8], end[8];
} runs_t;

static bool record(void *ctx, size_t start, size_t end)
{
    runs_t *r = ctx;
    if (r->n < 8) {
        r->start[r->n] = start;
        r->end[r->n] = end;
    }
    r->n++;
    return true;
}

static void test_scan(void)
{
    size_t page = alloc_page_size();
    uint8_t *a = mmap(NULL, 64 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(a != MAP_FAILED);
    if (a == MAP_FAILED)
        return;
    runs_t r = {0};
    if (!alloc_scan_private(a, 64 * page, record, &r)) {
        printf("page-table scan unavailable (Linux < 6.7?): blind resets only\n");
        munmap(a, 64 * page);
        return;
    }
    CHECK(r.n == 0);
    volatile uint8_t *v = a;
    (void)v[0];         /* read: the zero page */
    v[3 * page] = 1;    /* written */
    v[4 * page + 5] = 1;
    v[40 * page] = 1;
    r = (runs_t){0};
    CHECK(alloc_scan_private(a, 64 * page, record, &r));
    CHECK(r.n == 2 && r.start[0] == 3 * page && r.end[0] == 5 * page &&
          r.start[1] == 40 * page && r.end[1] == 41 * page);
    munmap(a, 64 * page);
}

/* ---- pooled slots ---- */

/* One slot of each kind, so every instantiation reuses it: four rounds of
 * instantiate, check, dirty, free. With 1 MiB kept resident, a 3 MiB image
 * has pages past the keep-resident prefix, and pages past the image. */
static void test_pool_reuse_image(void)
{
    static const seg_t small_segs[] = {{0, 65536, 1}};
    static const seg_t big_segs[] = {
        {16, 100, 3}, {70000, 5000, 9}, {(2u << 20) + 100, 300, 5}, {(3u << 20) - 40, 40, 11},
        {70100, 10, 200}, /* overlaps the second: the later segment wins */
    };
    static const uint32_t small_probes[] = {0, 4096, 65532};
    static const uint32_t big_probes[] = {0,       16,          112,         70000,
                                          70104,   74996,       (2u << 20) + 100,
                                          (3u << 20) - 4, 3u << 20, (4u << 20) - 4};
    const spec_t specs[] = {
        {.pages = 1, .segs = small_segs, .nsegs = 1, .global_init = 42},
        {.pages = 64, .segs = big_segs, .nsegs = 5, .global_init = -5},
    };
    const uint32_t *probes[] = {small_probes, big_probes};
    size_t nprobes[] = {3, 10};
    static const uint64_t keeps[] = {2u << 20, 1u << 20, 0};
    for (int k = 0; k < 3; k++) {
        whirl_engine_t *e = pooled_engine(1, keeps[k]);
        if (!e)
            return;
        for (int which = 0; which < 2; which++) {
            whirl_module_t *m = module_of(e, &specs[which]);
            uint8_t *base = NULL;
            for (int round = 0; round < 4 && m; round++) {
                whirl_store_t *s = whirl_store_new(e, NULL, NULL);
                whirl_instance_t *inst = instantiate(s, m);
                if (inst) {
                    whirl_memory_t *mem = export_of(inst, "mem").of.memory;
                    if (round == 0)
                        base = whirl_memory_data(mem);
                    CHECK(whirl_memory_data(mem) == base); /* the same slot */
                    check_fresh_then_dirty(s, inst, &specs[which], probes[which],
                                           nprobes[which], round);
                }
                whirl_store_delete(s);
            }
            whirl_module_delete(m);
        }
        whirl_engine_delete(e);
    }
}

/* memory.grow past an image: the new pages read zero, the image stays;
 * the next tenant starts at the minimum size again, and its grown pages
 * read zero although the last tenant wrote there. */
static void test_grow_after_image(bool pooling)
{
    static const seg_t segs[] = {{100, 200, 50}};
    const spec_t sp = {.pages = 2, .segs = segs, .nsegs = 1, .global_init = 1};
    whirl_engine_t *e = pooling ? pooled_engine(1, 1u << 20) : engine_of(test_config(false));
    if (!e)
        return;
    whirl_module_t *m = module_of(e, &sp);
    for (int round = 0; round < 3 && m; round++) {
        whirl_store_t *s = whirl_store_new(e, NULL, NULL);
        whirl_instance_t *inst = instantiate(s, m);
        if (inst) {
            CHECK(call_i32(s, inst, "load", 1, 100, 0) == expected_at(&sp, 100));
            CHECK(call_i32(s, inst, "grow", 1, 30, 0) == 2);
            CHECK(call_i32(s, inst, "size", 0, 0, 0) == 32);
            CHECK(whirl_store_memory_consumed(s) == 32 * 65536);
            CHECK(call_i32(s, inst, "load", 1, 3 * 65536, 0) == 0);
            CHECK(call_i32(s, inst, "load", 1, 32 * 65536 - 4, 0) == 0);
            CHECK(call_i32(s, inst, "load", 1, 296, 0) == expected_at(&sp, 296));
            call_i32(s, inst, "store", 2, 3 * 65536, 77);
            call_i32(s, inst, "store", 2, 32 * 65536 - 4, 78);
            call_i32(s, inst, "store", 2, 100, 79);
            CHECK(call_i32(s, inst, "load", 1, 3 * 65536, 0) == 77);
        }
        whirl_store_delete(s);
    }
    whirl_module_delete(m);
    whirl_engine_delete(e);
}

/* One memory slot used in turn by modules with different images and by one
 * without: each tenant sees its own module's data and zeros elsewhere. */
static void test_switch_modules(void)
{
    static const seg_t a_segs[] = {{0, 8192, 10}};
    static const seg_t b_segs[] = {{4096, 100, 99}, {65536 + 8, 64, 7}};
    const spec_t specs[] = {
        {.pages = 1, .segs = a_segs, .nsegs = 1, .global_init = 3},
        {.pages = 2, .segs = b_segs, .nsegs = 2, .global_init = 4},
        {.pages = 2, .segs = NULL, .nsegs = 0, .global_init = 5},
    };
    static const uint32_t probes[] = {0, 4092, 4096, 8188, 65536 + 8, 65536 + 68};
    whirl_engine_t *e = pooled_engine(1, 2u << 20);
    if (!e)
        return;
    whirl_module_t *m[3];
    for (int i = 0; i < 3; i++)
        m[i] = module_of(e, &specs[i]);
    static const int order[] = {0, 1, 2, 0, 0, 2, 1, 1, 0};
    for (size_t r = 0; r < sizeof order / sizeof order[0]; r++) {
        int i = order[r];
        if (!m[i])
            continue;
        whirl_store_t *s = whirl_store_new(e, NULL, NULL);
        whirl_instance_t *inst = instantiate(s, m[i]);
        if (inst) {
            size_t n = specs[i].pages == 1 ? 4 : 6;
            check_fresh_then_dirty(s, inst, &specs[i], probes, n, (int)r);
        }
        whirl_store_delete(s);
    }
    for (int i = 0; i < 3; i++)
        whirl_module_delete(m[i]);
    whirl_engine_delete(e);
}

/* Two live instances of one module (in one store and in two): a write in
 * one never shows in the other, whose pages still map the image. */
static void test_concurrent_instances(bool pooling)
{
    static const seg_t segs[] = {{0, 20000, 1}};
    const spec_t sp = {.pages = 1, .segs = segs, .nsegs = 1, .global_init = 8};
    whirl_engine_t *e = pooling ? pooled_engine(4, 2u << 20) : engine_of(test_config(false));
    if (!e)
        return;
    whirl_module_t *m = module_of(e, &sp);
    if (!m) {
        whirl_engine_delete(e);
        return;
    }
    whirl_store_t *s1 = whirl_store_new(e, NULL, NULL), *s2 = whirl_store_new(e, NULL, NULL);
    whirl_instance_t *a = instantiate(s1, m), *b = instantiate(s1, m), *c = instantiate(s2, m);
    if (a && b && c) {
        CHECK(call_i32(s1, a, "load", 1, 4, 0) == expected_at(&sp, 4));
        call_i32(s1, a, "store", 2, 4, 1234);
        call_i32(s1, a, "store", 2, 8192, 1235);
        CHECK(call_i32(s1, a, "load", 1, 4, 0) == 1234);
        CHECK(call_i32(s1, b, "load", 1, 4, 0) == expected_at(&sp, 4));
        CHECK(call_i32(s2, c, "load", 1, 4, 0) == expected_at(&sp, 4));
        CHECK(call_i32(s2, c, "load", 1, 8192, 0) == expected_at(&sp, 8192));
        CHECK(whirl_store_memory_consumed(s1) == 2 * 65536);
    }
    whirl_store_delete(s1);
    /* s1's slots were reset while c kept reading its own. */
    whirl_store_t *s3 = whirl_store_new(e, NULL, NULL);
    whirl_instance_t *d = instantiate(s3, m);
    if (d && c) {
        CHECK(call_i32(s3, d, "load", 1, 4, 0) == expected_at(&sp, 4));
        CHECK(call_i32(s3, d, "load", 1, 8192, 0) == expected_at(&sp, 8192));
        CHECK(call_i32(s2, c, "load", 1, 4, 0) == expected_at(&sp, 4));
    }
    whirl_store_delete(s3);
    whirl_store_delete(s2);
    whirl_module_delete(m);
    whirl_engine_delete(e);
}

/* Offsets read from an imported global: no image, the data is copied (and
 * an out-of-bounds offset traps as before). */
static void test_import_offsets(bool pooling)
{
    static const seg_t segs[] = {{0, 64, 20}};
    const spec_t sp = {.pages = 1, .segs = segs, .nsegs = 1, .offset_import = true,
                       .global_init = 6};
    whirl_engine_t *e = pooling ? pooled_engine(1, 2u << 20) : engine_of(test_config(false));
    if (!e)
        return;
    whirl_module_t *m = module_of(e, &sp);
    for (int round = 0; round < 3 && m; round++) {
        whirl_store_t *s = whirl_store_new(e, NULL, NULL);
        int32_t off = round == 2 ? 65500 : 1000 * round;
        whirl_val_t v = {.kind = WHIRL_I32, .of.i32 = off};
        whirl_global_t *g = NULL;
        CHECK_OK(whirl_global_new(s, &v, false, &g));
        whirl_extern_t imp = {.kind = WHIRL_EXTERN_GLOBAL, .of.global = g};
        whirl_instance_t *inst = NULL;
        whirl_error_t *err = whirl_instance_new(s, m, &imp, 1, &inst);
        if (round == 2) {
            CHECK_ERR(err, true, "data segment 0");
        } else if (check_ok(err, "instantiate", __FILE__, __LINE__)) {
            spec_t moved = sp;
            seg_t seg = {(uint32_t)off, 64, 20};
            moved.segs = &seg;
            for (uint32_t a = 0; a < 2048; a += 60)
                CHECK(call_i32(s, inst, "load", 1, (int32_t)a, 0) == expected_at(&moved, a));
            CHECK(call_i32(s, inst, "g", 0, 0, 0) == 6);
            call_i32(s, inst, "store", 2, off, -1);
        }
        whirl_store_delete(s);
    }
    whirl_module_delete(m);
    whirl_engine_delete(e);
}

/* Threads instantiating one module with an image, one slot each, handed
 * from thread to thread through the free lists:
 * each fresh instance reads the image, never another tenant's marks. */
enum { THREADS = 4, ROUNDS = 500 };

typedef struct worker {
    whirl_engine_t *engine;
    const whirl_instance_pre_t *pre;
    const spec_t *spec;
    int id, errors;
} worker_t;

static void *work(void *arg)
{
    worker_t *w = arg;
    for (int r = 0; r < ROUNDS; r++) {
        whirl_store_t *s = whirl_store_new(w->engine, NULL, NULL);
        whirl_instance_t *inst = NULL;
        whirl_error_t *err = s ? whirl_instance_pre_instantiate(w->pre, s, &inst)
                               : whirl_error_new("no store");
        if (err) {
            if (w->errors++ < 3)
                fprintf(stderr, "thread %d: %s\n", w->id, whirl_error_message(err));
            whirl_error_delete(err);
            whirl_store_delete(s);
            continue;
        }
        whirl_memory_t *mem = export_of(inst, "mem").of.memory;
        const uint8_t *d = whirl_memory_data(mem);
        int32_t v0 = expected_at(w->spec, 0), v1 = expected_at(w->spec, 40000);
        if (memcmp(d, &v0, 4) != 0 || memcmp(d + 40000, &v1, 4) != 0 ||
            call_i32(s, inst, "load", 1, 8, 0) != expected_at(w->spec, 8) ||
            call_i32(s, inst, "load", 1, 70000, 0) != 0)
            w->errors++;
        call_i32(s, inst, "store", 2, 8, w->id * 100000 + r);
        call_i32(s, inst, "store", 2, 70000, w->id * 100000 + r);
        memset(whirl_memory_data(mem) + 40000, w->id, 16);
        whirl_store_delete(s);
    }
    return NULL;
}

static void test_threads(bool pooling)
{
    static const seg_t segs[] = {{0, 50000, 33}};
    const spec_t sp = {.pages = 2, .segs = segs, .nsegs = 1, .global_init = 2};
    whirl_config_t *c = test_config(pooling);
    whirl_config_pool_limit_set(c, WHIRL_POOL_MAX_INSTANCE_COUNT, THREADS);
    whirl_engine_t *e = engine_of(c);
    if (!e)
        return;
    whirl_module_t *m = module_of(e, &sp);
    whirl_linker_t *l = whirl_linker_new(e);
    whirl_instance_pre_t *pre = NULL;
    if (m)
        CHECK_OK(whirl_linker_instantiate_pre(l, m, &pre));
    whirl_linker_delete(l);
    whirl_module_delete(m);
    if (pre) {
        pthread_t th[THREADS];
        worker_t w[THREADS];
        for (int k = 0; k < THREADS; k++) {
            w[k] = (worker_t){.engine = e, .pre = pre, .spec = &sp, .id = k + 1};
            CHECK(pthread_create(&th[k], NULL, work, &w[k]) == 0);
        }
        int errors = 0;
        for (int k = 0; k < THREADS; k++) {
            pthread_join(th[k], NULL);
            errors += w[k].errors;
        }
        if (errors)
            fprintf(stderr, "threads (%s): %d errors\n", pooling ? "pooled" : "on demand",
                    errors);
        CHECK(errors == 0);
        whirl_pool_stats_t st;
        whirl_engine_pool_stats(e, &st);
        CHECK(st.memories_in_use == 0 && st.core_instances_in_use == 0);
        whirl_instance_pre_delete(pre);
    }
    whirl_engine_delete(e);
}

/* The module outlives its handle and instance_pre while instances hold
 * it, and is freed once, by whichever thread drops the last of them (the
 * sanitizers check for the leak or the double free). Each thread counts
 * its instances in a shard of its own; odd threads have none left when the
 * last handle goes. */
typedef struct holder {
    const whirl_instance_pre_t *pre;
    whirl_engine_t *engine;
    pthread_barrier_t *made, *gone;
    int id, ok;
} holder_t;

static void *hold_and_drop(void *arg)
{
    holder_t *h = arg;
    whirl_store_t *keep = whirl_store_new(h->engine, NULL, NULL);
    whirl_store_t *tmp = whirl_store_new(h->engine, NULL, NULL);
    whirl_instance_t *a = NULL, *b = NULL;
    whirl_error_t *err = whirl_instance_pre_instantiate(h->pre, keep, &a);
    if (!err)
        err = whirl_instance_pre_instantiate(h->pre, tmp, &b);
    h->ok = !err && call_i32(keep, a, "g", 0, 0, 0) == 12;
    whirl_error_delete(err);
    whirl_store_delete(tmp);
    if (h->id % 2) {
        whirl_store_delete(keep);
        keep = NULL;
    }
    pthread_barrier_wait(h->made);
    pthread_barrier_wait(h->gone);
    if (keep) {
        h->ok &= call_i32(keep, a, "g", 0, 0, 0) == 12;
        whirl_store_delete(keep);
    }
    return NULL;
}

/* Open descriptors of this process (each image holds a memfd while its
 * module lives). */
static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static void test_module_lifetime(void)
{
    static const seg_t segs[] = {{0, 100, 1}};
    const spec_t sp = {.pages = 1, .segs = segs, .nsegs = 1, .global_init = 12};
    int fds_before = open_fds();
    whirl_engine_t *e = pooled_engine(2 * THREADS, 2u << 20);
    if (!e)
        return;
    for (int round = 0; round < 20; round++) {
        whirl_module_t *m = module_of(e, &sp);
        whirl_linker_t *l = whirl_linker_new(e);
        whirl_instance_pre_t *pre = NULL;
        if (m)
            CHECK_OK(whirl_linker_instantiate_pre(l, m, &pre));
        whirl_linker_delete(l);
        whirl_module_delete(m);
        if (!pre)
            break;
        pthread_barrier_t made, gone;
        pthread_barrier_init(&made, NULL, THREADS + 1);
        pthread_barrier_init(&gone, NULL, THREADS + 1);
        holder_t h[THREADS];
        pthread_t th[THREADS];
        for (int k = 0; k < THREADS; k++) {
            h[k] = (holder_t){.pre = pre, .engine = e, .made = &made, .gone = &gone, .id = k};
            CHECK(pthread_create(&th[k], NULL, hold_and_drop, &h[k]) == 0);
        }
        pthread_barrier_wait(&made);
        /* Only the instances of even threads hold the module now. */
        whirl_instance_pre_delete(pre);
        pthread_barrier_wait(&gone);
        for (int k = 0; k < THREADS; k++) {
            pthread_join(th[k], NULL);
            CHECK(h[k].ok);
        }
        pthread_barrier_destroy(&made);
        pthread_barrier_destroy(&gone);
    }
    whirl_engine_delete(e);
    /* 20 modules with images came and went: none kept its memfd open.
     * (The page-map descriptor the scan keeps was opened by test_scan.) */
    CHECK(fds_before >= 0 && open_fds() == fds_before);
}

int main(void)
{
    clear_env();
    test_scan();
    test_pool_reuse_image();
    test_switch_modules();
    for (int pooling = 0; pooling <= 1; pooling++) {
        test_grow_after_image(pooling);
        test_concurrent_instances(pooling);
        test_import_offsets(pooling);
        test_threads(pooling);
    }
    test_module_lifetime();
    return report();
}
