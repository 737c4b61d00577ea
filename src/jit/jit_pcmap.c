/* Where a guard fault happened, in Wasm terms: every access compiled
 * without its bounds check carries LLVM's `!pcsections` metadata naming
 * the section JIT_PC_SECTION and two i32s (function index, Wasm byte
 * offset); the backend then emits, per machine instruction that came from
 * it (a load folded into an arithmetic instruction included), a 12-byte
 * entry: the instruction's PC as a PC32 relocation against the code
 * section, then the two i32s. The object is read here once, at link time
 * (relocatable ELF64, x86-64: the relocation addends are the code-section
 * offsets), into a sorted array; the code section's address comes from
 * the table's relocation for the `end` function, whose address the table
 * gives. A PC the map lacks leaves the fault attributed by function
 * start alone (jit_code_func_at). */
#include <stdlib.h>
#include <string.h>

#include "jit/jit_internal.h"

static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

typedef struct elf {
    const uint8_t *b;
    size_t len;
    uint64_t shoff;
    unsigned shnum, shstrndx;
} elf_t;

/* Section header `i` (64 bytes), or NULL if out of the file. */
static const uint8_t *shdr(const elf_t *e, unsigned i)
{
    if (i >= e->shnum || e->shoff + (uint64_t)(i + 1) * 64 > e->len)
        return NULL;
    return e->b + e->shoff + (uint64_t)i * 64;
}

/* The contents of section `i`; NULL if they are not in the file. */
static const uint8_t *sec_data(const elf_t *e, unsigned i, uint64_t *size)
{
    const uint8_t *h = shdr(e, i);
    if (!h)
        return NULL;
    uint64_t off = rd64(h + 24), sz = rd64(h + 32);
    if (off > e->len || sz > e->len - off)
        return NULL;
    *size = sz;
    return e->b + off;
}

static const char *sec_name(const elf_t *e, unsigned i)
{
    uint64_t n;
    const uint8_t *strs = sec_data(e, e->shstrndx, &n);
    const uint8_t *h = shdr(e, i);
    if (!strs || !h || rd32(h) >= n || !memchr(strs + rd32(h), 0, n - rd32(h)))
        return "";
    return (const char *)strs + rd32(h);
}

/* The RELA section applying to section `target`. */
static int rela_for(const elf_t *e, unsigned target)
{
    for (unsigned i = 0; i < e->shnum; i++) {
        const uint8_t *h = shdr(e, i);
        if (h && rd32(h + 4) == 4 /* SHT_RELA */ && rd32(h + 44) == target)
            return (int)i;
    }
    return -1;
}

static int cmp_site(const void *a, const void *b)
{
    const jit_pc_site_t *x = a, *y = b;
    return x->text < y->text ? -1 : x->text > y->text;
}

void jit_pcmap_build(jit_code_t *code, const uint8_t *obj, size_t len)
{
    elf_t e = {.b = obj, .len = len};
    if (len < 64 || memcmp(obj, "\177ELF\2\1", 6) != 0)
        return;
    e.shoff = rd64(obj + 0x28);
    e.shnum = rd16(obj + 0x3C);
    e.shstrndx = rd16(obj + 0x3E);
    int map = -1, symtab = -1;
    for (unsigned i = 0; i < e.shnum; i++) {
        const uint8_t *h = shdr(&e, i);
        if (!h)
            return;
        if (rd32(h + 4) == 2 /* SHT_SYMTAB */)
            symtab = (int)i;
        else if (strcmp(sec_name(&e, i), JIT_PC_SECTION) == 0)
            map = (int)i;
    }
    if (map < 0 || symtab < 0)
        return;
    uint64_t symsz, strsz, mapsz, relsz, trelsz;
    const uint8_t *syms = sec_data(&e, (unsigned)symtab, &symsz);
    const uint8_t *strs = sec_data(&e, rd32(shdr(&e, (unsigned)symtab) + 40), &strsz);
    const uint8_t *mapd = sec_data(&e, (unsigned)map, &mapsz);
    int maprel = rela_for(&e, (unsigned)map);
    if (!syms || !strs || !mapd || maprel < 0)
        return;
    const uint8_t *rel = sec_data(&e, (unsigned)maprel, &relsz);
    /* The table symbol, to find the code section's load address. */
    const uint8_t *table = NULL;
    for (uint64_t o = 0; o + 24 <= symsz; o += 24) {
        uint32_t name = rd32(syms + o);
        if (name < strsz && strcmp((const char *)strs + name, JIT_FUNC_TABLE) == 0)
            table = syms + o;
    }
    if (!rel || !table)
        return;
    int trel = rela_for(&e, rd16(table + 6));
    const uint8_t *tr = trel >= 0 ? sec_data(&e, (unsigned)trel, &trelsz) : NULL;
    if (!tr)
        return;
    /* Symbol `s`'s value (its section's offset; 0 for section symbols). */
#define SYM_VALUE(s) ((uint64_t)(s) * 24 + 24 <= symsz ? rd64(syms + (uint64_t)(s) * 24 + 8) : 0)
#define SYM_SECTION(s) ((uint64_t)(s) * 24 + 24 <= symsz ? rd16(syms + (uint64_t)(s) * 24 + 6) : 0)
    uint64_t end_slot = rd64(table + 8) + 8 * ((uint64_t)code->nfuncs * 2 + 1);
    int64_t end_text = -1;
    unsigned text_sec = 0;
    for (uint64_t o = 0; o + 24 <= trelsz; o += 24)
        if (rd64(tr + o) == end_slot) {
            uint32_t s = (uint32_t)(rd64(tr + o + 8) >> 32);
            end_text = (int64_t)(SYM_VALUE(s) + rd64(tr + o + 16));
            text_sec = SYM_SECTION(s);
        }
    if (end_text < 0)
        return;
    size_t n = relsz / 24, k = 0;
    jit_pc_site_t *sites = calloc(n ? n : 1, sizeof *sites);
    if (!sites)
        return;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *r = rel + i * 24;
        uint64_t at = rd64(r);
        uint32_t s = (uint32_t)(rd64(r + 8) >> 32);
        if (at + 12 > mapsz || SYM_SECTION(s) != text_sec)
            continue;
        sites[k++] = (jit_pc_site_t){.text = SYM_VALUE(s) + rd64(r + 16),
                                     .func = rd32(mapd + at + 4),
                                     .offset = rd32(mapd + at + 8)};
    }
#undef SYM_VALUE
#undef SYM_SECTION
    qsort(sites, k, sizeof *sites, cmp_site);
    code->pc_sites = sites;
    code->npc_sites = k;
    code->text_base = (uintptr_t)code->code_end - (uintptr_t)end_text;
}

bool jit_code_site_at(const jit_code_t *code, uintptr_t pc, uint32_t *func, uint32_t *offset)
{
    if (!code->pc_sites || pc < code->text_base)
        return false;
    uint64_t t = pc - code->text_base;
    size_t lo = 0, hi = code->npc_sites;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (code->pc_sites[mid].text < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == code->npc_sites || code->pc_sites[lo].text != t)
        return false;
    *func = code->pc_sites[lo].func;
    *offset = code->pc_sites[lo].offset;
    return true;
}
