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
 * start alone (jit_code_func_at).
 *
 * Call sites (JIT_CALL_SECTION, jit_binding.c jb_mark_call) use the same
 * entry format, one mark right after each call of a translated function,
 * so that a return address found on the stack names the call it returns
 * from: the first mark at or after it within the same function (the
 * functions' starts bound them; return addresses into trampolines and
 * thunks, which carry no marks, name nothing). */
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

/* The entries of map section `map` (12 bytes each: a PC32 relocation
 * against code section `text_sec`, then two i32s), sorted by `cmp`;
 * NULL and *n 0 when there are none or no memory. */
static jit_pc_site_t *read_sites(const elf_t *e, int map, unsigned text_sec, const uint8_t *syms,
                                 uint64_t symsz, size_t *n_out,
                                 int (*cmp)(const void *, const void *))
{
    uint64_t mapsz, relsz;
    *n_out = 0;
    int maprel = map >= 0 ? rela_for(e, (unsigned)map) : -1;
    const uint8_t *mapd = map >= 0 ? sec_data(e, (unsigned)map, &mapsz) : NULL;
    const uint8_t *rel = maprel >= 0 ? sec_data(e, (unsigned)maprel, &relsz) : NULL;
    if (!mapd || !rel)
        return NULL;
    size_t n = relsz / 24, k = 0;
    jit_pc_site_t *sites = calloc(n ? n : 1, sizeof *sites);
    if (!sites)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *r = rel + i * 24;
        uint64_t at = rd64(r);
        uint64_t s = rd64(r + 8) >> 32;
        if (at + 12 > mapsz || s * 24 + 24 > symsz || rd16(syms + s * 24 + 6) != text_sec)
            continue;
        sites[k++] = (jit_pc_site_t){.text = rd64(syms + s * 24 + 8) + rd64(r + 16),
                                     .func = rd32(mapd + at + 4),
                                     .offset = rd32(mapd + at + 8)};
    }
    qsort(sites, k, sizeof *sites, cmp);
    *n_out = k;
    return sites;
}

static int cmp_addr(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return (x > y) - (x < y);
}

void jit_pcmap_add_starts(jit_code_t *code, const uintptr_t *at, size_t n)
{
    if (!code->call_sites)
        return;
    uintptr_t *all = realloc(code->code_starts, (code->ncode_starts + n) * sizeof *all);
    if (!all) {
        /* Without the starts no return address is named: drop the marks. */
        free(code->call_sites);
        code->call_sites = NULL;
        code->ncall_sites = 0;
        return;
    }
    size_t k = code->ncode_starts;
    for (size_t i = 0; i < n; i++)
        if (at[i])
            all[k++] = at[i];
    qsort(all, k, sizeof *all, cmp_addr);
    code->code_starts = all;
    code->ncode_starts = k;
}

void jit_pcmap_build(jit_code_t *code, const uint8_t *obj, size_t len)
{
    elf_t e = {.b = obj, .len = len};
    if (len < 64 || memcmp(obj, "\177ELF\2\1", 6) != 0)
        return;
    e.shoff = rd64(obj + 0x28);
    e.shnum = rd16(obj + 0x3C);
    e.shstrndx = rd16(obj + 0x3E);
    int map = -1, calls = -1, symtab = -1;
    for (unsigned i = 0; i < e.shnum; i++) {
        const uint8_t *h = shdr(&e, i);
        if (!h)
            return;
        if (rd32(h + 4) == 2 /* SHT_SYMTAB */)
            symtab = (int)i;
        else if (strcmp(sec_name(&e, i), JIT_PC_SECTION) == 0)
            map = (int)i;
        else if (strcmp(sec_name(&e, i), JIT_CALL_SECTION) == 0)
            calls = (int)i;
    }
    if ((map < 0 && calls < 0) || symtab < 0)
        return;
    uint64_t symsz, strsz, trelsz;
    const uint8_t *syms = sec_data(&e, (unsigned)symtab, &symsz);
    const uint8_t *strs = sec_data(&e, rd32(shdr(&e, (unsigned)symtab) + 40), &strsz);
    if (!syms || !strs)
        return;
    /* The table symbol, to find the code section's load address. */
    const uint8_t *table = NULL;
    for (uint64_t o = 0; o + 24 <= symsz; o += 24) {
        uint32_t name = rd32(syms + o);
        if (name < strsz && strcmp((const char *)strs + name, JIT_FUNC_TABLE) == 0)
            table = syms + o;
    }
    if (!table)
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
#undef SYM_VALUE
#undef SYM_SECTION
    if (end_text < 0)
        return;
    code->pc_sites = read_sites(&e, map, text_sec, syms, symsz, &code->npc_sites, cmp_site);
    code->call_sites = read_sites(&e, calls, text_sec, syms, symsz, &code->ncall_sites, cmp_site);
    code->text_base = (uintptr_t)code->code_end - (uintptr_t)end_text;
    /* Functions lie one after another (perfmap.c): where each starts. */
    uintptr_t *at = code->call_sites ? calloc((size_t)code->nfuncs * 2 + 1, sizeof *at) : NULL;
    if (!at) {
        free(code->call_sites);
        code->call_sites = NULL;
        code->ncall_sites = 0;
        return;
    }
    for (uint32_t i = 0; i < code->nfuncs; i++) {
        at[2 * i] = (uintptr_t)code->native[i];
        at[2 * i + 1] = (uintptr_t)code->entry[i];
    }
    jit_pcmap_add_starts(code, at, (size_t)code->nfuncs * 2);
    free(at);
}

/* The first site of `sites` at or after code offset `t`. */
static size_t first_at(const jit_pc_site_t *sites, size_t n, uint64_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sites[mid].text < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool jit_code_call_at(const jit_code_t *code, uintptr_t ret, uint32_t *func, uint32_t *offset)
{
    if (!code->call_sites || !code->ncode_starts || ret <= code->text_base ||
        ret <= code->code_starts[0])
        return false;
    /* The function holding the call: the last one starting before `ret`
     * (which may be its end, after a call that never returns); it ends
     * where the next one starts. */
    size_t lo = 0, hi = code->ncode_starts;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (code->code_starts[mid] < ret)
            lo = mid + 1;
        else
            hi = mid;
    }
    uintptr_t end = lo < code->ncode_starts ? code->code_starts[lo] : (uintptr_t)code->code_end;
    /* Its first mark at or after `ret`: between a call and its mark lie
     * only moves of its results, never another call, and code without
     * marks (trampolines, thunks) ends before the next function starts. */
    uint64_t t = ret - code->text_base;
    size_t i = first_at(code->call_sites, code->ncall_sites, t);
    if (i == code->ncall_sites || code->text_base + code->call_sites[i].text > end)
        return false;
    *func = code->call_sites[i].func;
    *offset = code->call_sites[i].offset;
    return true;
}

bool jit_code_site_at(const jit_code_t *code, uintptr_t pc, uint32_t *func, uint32_t *offset)
{
    if (!code->pc_sites || pc < code->text_base)
        return false;
    uint64_t t = pc - code->text_base;
    size_t lo = first_at(code->pc_sites, code->npc_sites, t);
    if (lo == code->npc_sites || code->pc_sites[lo].text != t)
        return false;
    *func = code->pc_sites[lo].func;
    *offset = code->pc_sites[lo].offset;
    return true;
}
