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
 * Which call a return address found on the stack comes back from, two
 * ways. Optimised code: each call has a location whose line is its Wasm
 * byte offset (jit_debuginfo.c jt_calls_mark), and the object's
 * .debug_line program (DWARF 2-5, read here) maps the call instruction's
 * bytes to it: the row at the return address minus one, within the
 * function holding it; its function index is the function whose body
 * holds the offset. Debug-info code, whose lines are the guest's source:
 * a mark right after each call (JIT_CALL_SECTION, jit_binding.c), in the
 * entry format above, and the first mark at or after the return address
 * within the same function names it. Either way the functions' starts
 * bound the search, so that return addresses into trampolines and thunks
 * (no lines, no marks) name nothing. */
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

/* qsort, after a pass that finds the array already in order (nothing to
 * do, in linear time). */
static void sort_if_needed(void *base, size_t n, size_t size,
                           int (*cmp)(const void *, const void *))
{
    const char *p = base;
    for (size_t i = 1; i < n; i++)
        if (cmp(p + (i - 1) * size, p + i * size) > 0) {
            qsort(base, n, size, cmp);
            return;
        }
}

/* Sorts sites by address: a least-significant-digit radix sort, 11 bits
 * a pass over as many bits as the largest address has (3 passes for 8 MB
 * of code). A large module's 186,000 sites come out of the object grouped
 * by function but not in order within it, and qsort took a fifth of its
 * load; this is linear. qsort when there is no room for the copy. */
static void sort_sites(jit_pc_site_t *v, size_t n)
{
    enum { BITS = 11, BUCKETS = 1 << BITS };
    uint64_t max = 0;
    bool sorted = true;
    for (size_t i = 0; i < n; i++) {
        max = v[i].text > max ? v[i].text : max;
        sorted &= i == 0 || v[i - 1].text <= v[i].text;
    }
    if (sorted)
        return;
    jit_pc_site_t *tmp = malloc(n * sizeof *tmp);
    if (!tmp) {
        qsort(v, n, sizeof *v, cmp_site);
        return;
    }
    jit_pc_site_t *from = v, *to = tmp;
    for (unsigned shift = 0; shift < 64 && (max >> shift); shift += BITS) {
        size_t count[BUCKETS] = {0};
        for (size_t i = 0; i < n; i++)
            count[(from[i].text >> shift) & (BUCKETS - 1)]++;
        size_t at = 0;
        for (size_t b = 0; b < BUCKETS; b++) {
            size_t c = count[b];
            count[b] = at;
            at += c;
        }
        for (size_t i = 0; i < n; i++)
            to[count[(from[i].text >> shift) & (BUCKETS - 1)]++] = from[i];
        jit_pc_site_t *t = from;
        from = to;
        to = t;
    }
    if (from != v)
        memcpy(v, from, n * sizeof *v);
    free(tmp);
}

/* The entries of map section `map` (12 bytes each: a PC32 relocation
 * against code section `text_sec`, then two i32s), sorted by address;
 * NULL and *n 0 when there are none or no memory. */
static jit_pc_site_t *read_sites(const elf_t *e, int map, unsigned text_sec, const uint8_t *syms,
                                 uint64_t symsz, size_t *n_out)
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
    sort_sites(sites, k);
    *n_out = k;
    return sites;
}

/* ---- .debug_line ---- */

typedef struct cursor {
    const uint8_t *p, *end;
    bool bad;
} cursor_t;

static uint64_t c_fixed(cursor_t *c, unsigned n)
{
    if (c->bad || (size_t)(c->end - c->p) < n) {
        c->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)c->p[i] << (8 * i);
    c->p += n;
    return v;
}

static uint64_t c_uleb(cursor_t *c)
{
    uint64_t v = 0;
    for (unsigned shift = 0; !c->bad; shift += 7) {
        if (c->p == c->end || shift > 63) {
            c->bad = true;
            break;
        }
        uint8_t b = *c->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    return 0;
}

static int64_t c_sleb(cursor_t *c)
{
    uint64_t v = 0;
    unsigned shift = 0;
    uint8_t b = 0x80;
    while (!c->bad && (b & 0x80)) {
        if (c->p == c->end || shift > 63) {
            c->bad = true;
            return 0;
        }
        b = *c->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
    }
    if (shift < 64 && (b & 0x40))
        v |= ~(uint64_t)0 << shift;
    return (int64_t)v;
}

/* The function whose body holds module offset `offset`, or UINT32_MAX. */
static uint32_t func_of_offset(const wasm_module_t *m, uint32_t offset)
{
    uint32_t lo = 0, hi = m->nfuncs;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m->funcs[mid].code_offset + m->funcs[mid].code_len <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->nfuncs && m->funcs[lo].code_offset <= offset ? m->nfunc_imports + lo
                                                                : UINT32_MAX;
}

typedef struct rows {
    jit_pc_site_t *v;
    size_t n, cap;
    bool oom;
} rows_t;

static void add_row(rows_t *r, const wasm_module_t *m, uint64_t text, uint64_t line, bool have)
{
    if (!have || r->oom)
        return; /* an address no relocation placed in the code section */
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        jit_pc_site_t *v = realloc(r->v, cap * sizeof *v);
        if (!v) {
            r->oom = true;
            return;
        }
        r->v = v;
        r->cap = cap;
    }
    uint32_t func = line && line <= UINT32_MAX ? func_of_offset(m, (uint32_t)line) : UINT32_MAX;
    r->v[r->n++] = (jit_pc_site_t){.text = text, .func = func, .offset = (uint32_t)line};
}

/* Rows by address; of rows at one address, those naming a call last
 * (the one a lookup takes). */
static int cmp_row(const void *a, const void *b)
{
    const jit_pc_site_t *x = a, *y = b;
    if (x->text != y->text)
        return x->text < y->text ? -1 : 1;
    bool xs = x->func != UINT32_MAX, ys = y->func != UINT32_MAX;
    return (xs > ys) - (xs < ys);
}

/* The code-section offset DW_LNE_set_address's operand at section offset
 * `at` stands for: its relocation's symbol (in code section `text_sec`)
 * plus addend. *hint: where the previous one was found (they come in
 * order). */
static bool reloc_at(const uint8_t *rel, uint64_t relsz, uint64_t at, const uint8_t *syms,
                     uint64_t symsz, unsigned text_sec, uint64_t *hint, uint64_t *text)
{
    uint64_t n = relsz / 24;
    for (uint64_t k = 0; k < n; k++) {
        uint64_t i = (*hint + k) % n;
        const uint8_t *r = rel + i * 24;
        if (rd64(r) != at)
            continue;
        uint64_t s = rd64(r + 8) >> 32;
        if ((uint32_t)rd64(r + 8) != 1 /* R_X86_64_64 */ || s * 24 + 24 > symsz ||
            rd16(syms + s * 24 + 6) != text_sec)
            return false;
        *hint = i + 1;
        *text = rd64(syms + s * 24 + 8) + rd64(r + 16);
        return true;
    }
    return false;
}

/* Every row of the line programs in section `sec` (with relocations
 * `relsec`), as sites sorted by address: line = Wasm offset, func from it
 * (UINT32_MAX for line 0 and the end of each sequence). NULL on a
 * malformed program or no memory: calls are then not named. */
static jit_pc_site_t *read_lines(const elf_t *e, const wasm_module_t *m, int sec, int relsec,
                                 const uint8_t *syms, uint64_t symsz, unsigned text_sec,
                                 size_t *n_out)
{
    uint64_t len, relsz = 0;
    *n_out = 0;
    const uint8_t *d = sec_data(e, (unsigned)sec, &len);
    const uint8_t *rel = relsec >= 0 ? sec_data(e, (unsigned)relsec, &relsz) : NULL;
    if (!d || !rel)
        return NULL;
    rows_t rows = {0};
    uint64_t hint = 0;
    cursor_t unit = {d, d + len, false};
    while (unit.p < unit.end && !unit.bad) {
        uint64_t ulen = c_fixed(&unit, 4);
        unsigned offsz = 4;
        if (ulen == 0xffffffff) {
            ulen = c_fixed(&unit, 8);
            offsz = 8;
        }
        if (unit.bad || ulen > (uint64_t)(unit.end - unit.p))
            goto bad;
        cursor_t h = {unit.p, unit.p + ulen, false};
        unit.p += ulen;
        unsigned version = (unsigned)c_fixed(&h, 2);
        unsigned addr_size = 8;
        if (version < 2 || version > 5)
            goto bad;
        if (version >= 5) {
            addr_size = (unsigned)c_fixed(&h, 1);
            c_fixed(&h, 1); /* segment selector size */
        }
        uint64_t hlen = c_fixed(&h, offsz);
        if (h.bad || hlen > (uint64_t)(h.end - h.p))
            goto bad;
        cursor_t c = {h.p + hlen, h.end, false};
        unsigned min_len = (unsigned)c_fixed(&h, 1);
        if (version >= 4)
            c_fixed(&h, 1); /* maximum operations per instruction (VLIW) */
        c_fixed(&h, 1);     /* default_is_stmt */
        int line_base = (int8_t)c_fixed(&h, 1);
        unsigned line_range = (unsigned)c_fixed(&h, 1);
        unsigned opcode_base = (unsigned)c_fixed(&h, 1);
        const uint8_t *std_lens = h.p;
        if (h.bad || line_range == 0 || opcode_base == 0 || h.p > c.p ||
            opcode_base - 1 > (uint64_t)(c.p - h.p) || (addr_size != 4 && addr_size != 8))
            goto bad;
        /* The state machine; only address and line matter here. */
        uint64_t addr = 0, line = 1;
        bool placed = false;
        while (c.p < c.end && !c.bad) {
            unsigned op = (unsigned)c_fixed(&c, 1);
            if (op >= opcode_base) {
                unsigned adj = op - opcode_base;
                addr += (uint64_t)(adj / line_range) * min_len;
                line += (uint64_t)(int64_t)(line_base + (int)(adj % line_range));
                add_row(&rows, m, addr, line, placed);
                continue;
            }
            switch (op) {
            case 0: { /* extended */
                uint64_t n = c_uleb(&c);
                if (c.bad || n == 0 || n > (uint64_t)(c.end - c.p))
                    goto bad;
                const uint8_t *next = c.p + n;
                unsigned sub = (unsigned)c_fixed(&c, 1);
                if (sub == 1) { /* DW_LNE_end_sequence: nothing from here on */
                    add_row(&rows, m, addr, 0, placed);
                    addr = 0;
                    line = 1;
                    placed = false;
                } else if (sub == 2) { /* DW_LNE_set_address */
                    if (n - 1 != addr_size)
                        goto bad;
                    placed = reloc_at(rel, relsz, (uint64_t)(c.p - d), syms, symsz, text_sec,
                                      &hint, &addr);
                }
                c.p = next;
                break;
            }
            case 1: /* DW_LNS_copy */
                add_row(&rows, m, addr, line, placed);
                break;
            case 2: /* DW_LNS_advance_pc */
                addr += c_uleb(&c) * min_len;
                break;
            case 3: /* DW_LNS_advance_line */
                line += (uint64_t)c_sleb(&c);
                break;
            case 8: /* DW_LNS_const_add_pc */
                addr += (uint64_t)((255 - opcode_base) / line_range) * min_len;
                break;
            case 9: /* DW_LNS_fixed_advance_pc */
                addr += c_fixed(&c, 2);
                break;
            default: /* operands we do not need: so many ULEB128s */
                for (unsigned k = 0; k < std_lens[op - 1]; k++)
                    c_uleb(&c);
                break;
            }
        }
        if (c.bad)
            goto bad;
    }
    if (unit.bad || rows.oom)
        goto bad;
    if (rows.n > 1)
        sort_if_needed(rows.v, rows.n, sizeof *rows.v, cmp_row);
    *n_out = rows.n;
    return rows.v;
bad:
    free(rows.v);
    return NULL;
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
    sort_if_needed(all, k, sizeof *all, cmp_addr);
    code->code_starts = all;
    code->ncode_starts = k;
}

/* Reads the header of a 64-bit little-endian ELF object; false if it is
 * not one. */
static bool elf_open(elf_t *e, const uint8_t *obj, size_t len)
{
    *e = (elf_t){.b = obj, .len = len};
    if (len < 64 || memcmp(obj, "\177ELF\2\1", 6) != 0)
        return false;
    e->shoff = rd64(obj + 0x28);
    e->shnum = rd16(obj + 0x3C);
    e->shstrndx = rd16(obj + 0x3E);
    return true;
}

void jit_pcmap_unload_sections(uint8_t *obj, size_t len)
{
    elf_t e;
    if (!elf_open(&e, obj, len))
        return;
    for (unsigned i = 0; i < e.shnum; i++) {
        const uint8_t *h = shdr(&e, i);
        if (!h)
            return;
        const char *name = sec_name(&e, i);
        if (strcmp(name, JIT_PC_SECTION) == 0 || strcmp(name, JIT_CALL_SECTION) == 0) {
            uint64_t flags = rd64(h + 8) & ~(uint64_t)2 /* SHF_ALLOC */;
            memcpy(obj + (h - obj) + 8, &flags, 8);
        }
    }
}

void jit_pcmap_build(jit_code_t *code, const uint8_t *obj, size_t len)
{
    elf_t e;
    if (!elf_open(&e, obj, len))
        return;
    int map = -1, calls = -1, lines = -1, symtab = -1;
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
        else if (strcmp(sec_name(&e, i), ".debug_line") == 0)
            lines = (int)i;
    }
    if ((map < 0 && calls < 0 && lines < 0) || symtab < 0)
        return;
    uint64_t symsz, strsz, trelsz;
    const uint8_t *syms = sec_data(&e, (unsigned)symtab, &symsz);
    const uint8_t *strs = sec_data(&e, rd32(shdr(&e, (unsigned)symtab) + 40), &strsz);
    if (!syms || !strs)
        return;
    /* The table symbol, to find the code section's load address. */
    char table_name[48];
    jit_table_name(table_name, sizeof table_name, JIT_FUNC_TABLE, code->part);
    size_t table_len = strlen(table_name);
    const uint8_t *table = NULL;
    for (uint64_t o = 0; o + 24 <= symsz; o += 24) {
        uint32_t name = rd32(syms + o);
        if (name < strsz && strsz - name > table_len &&
            memcmp(strs + name, table_name, table_len + 1) == 0)
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
    code->pc_sites = read_sites(&e, map, text_sec, syms, symsz, &code->npc_sites);
    if (calls >= 0) {
        code->call_sites =
            read_sites(&e, calls, text_sec, syms, symsz, &code->ncall_sites);
    } else if (lines >= 0 && code->wasm) {
        code->call_sites = read_lines(&e, code->wasm, lines, rela_for(&e, (unsigned)lines), syms,
                                      symsz, text_sec, &code->ncall_sites);
        code->call_rows = true;
    }
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
    size_t i;
    if (code->call_rows) {
        /* The line row holding the call instruction's last byte, if it
         * lies in this function (else the function has no rows there:
         * not a call of translated code). */
        i = first_at(code->call_sites, code->ncall_sites, ret - code->text_base);
        if (i == 0 || code->text_base + code->call_sites[i - 1].text < code->code_starts[lo - 1])
            return false;
        i--;
        if (code->call_sites[i].func == UINT32_MAX)
            return false;
    } else {
        /* Its first mark at or after `ret`: between a call and its mark
         * lie only moves of its results, never another call, and code
         * without marks (trampolines, thunks) ends before the next
         * function starts. */
        i = first_at(code->call_sites, code->ncall_sites, ret - code->text_base);
        if (i == code->ncall_sites || code->text_base + code->call_sites[i].text > end)
            return false;
    }
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
