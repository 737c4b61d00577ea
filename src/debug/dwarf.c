/* Source locations from a module's DWARF, read with elfutils' libdw.
 *
 * Why libdw: it is Debian's maintained DWARF reader (DWARF 2 to 5, line
 * tables, inlined-subroutine scopes, split forms), written to read
 * untrusted files (eu-readelf, fuzzed upstream), and a C library. It reads
 * ELF objects, so the module's `.debug_*` custom sections are wrapped in a
 * minimal relocatable ELF image built in memory (section headers naming
 * each section, no program headers) and handed over with elf_memory.
 *
 * Wasm DWARF addresses are offsets from the start of the code section's
 * contents (just past its size field); a backtrace frame's offset is from
 * the start of the module binary, so lookups subtract the code section's
 * start. Built without libdw (WHIRL_DWARF off) every lookup finds nothing. */
#include "debug/dwarf.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"
#include "wasm/module.h"

#ifdef WHIRL_DWARF
#include <dwarf.h>
#include <elf.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include <libelf.h>
#endif

/* Enough for any real inlining depth; a longer chain is cut (outermost
 * frames dropped), never looped over without bound. */
#define MAX_INLINE_DEPTH 64

struct debug_info {
    atomic_uint refcount;
    pthread_mutex_t lock;   /* libdw's lazily built tables are not thread-safe */
    size_t code_start;      /* module offset DWARF address 0 stands for */
    uint8_t *image;         /* the ELF image: header, section bytes, names, headers */
    size_t image_len;
    bool opened, failed;    /* parsed on first lookup; failed: malformed, never again */
#ifdef WHIRL_DWARF
    Elf *elf;
    Dwarf *dwarf;
#endif
};

static pthread_mutex_t create_lock = PTHREAD_MUTEX_INITIALIZER;

/* Length of `v` as an unsigned LEB128. */
static size_t uleb_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static bool read_uleb(const uint8_t *p, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64 && *pos < len; shift += 7) {
        uint8_t b = p[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* Module offset of the code section's contents; 0 when there is none. */
static size_t code_section_start(const wasm_module_t *w)
{
    if (w->bytes && w->len >= 8) {
        size_t pos = 8;
        while (pos < w->len) {
            uint8_t id = w->bytes[pos++];
            uint64_t size;
            if (!read_uleb(w->bytes, w->len, &pos, &size) || size > w->len - pos)
                return 0;
            if (id == 10)
                return pos;
            pos += size;
        }
        return 0;
    }
    /* A precompiled module keeps no binary: the first body follows the
     * function count (as its encoder wrote it, minimally). */
    if (w->nfuncs == 0 || w->funcs[0].body_offset < uleb_len(w->nfuncs))
        return 0;
    return w->funcs[0].body_offset - uleb_len(w->nfuncs);
}

#ifdef WHIRL_DWARF
static bool is_debug_section(const wasm_custom_t *c)
{
    return c->name_len > 7 && memcmp(c->name, ".debug_", 7) == 0 &&
           !memchr(c->name, '\0', c->name_len);
}

/* The sections as an ELF32 little-endian relocatable object (wasm32's
 * DWARF has 4-byte addresses). */
static bool build_image(debug_info_t *d, const wasm_module_t *w)
{
    size_t nsec = 0, data = 0, names = 1 + sizeof ".shstrtab";
    for (uint32_t i = 0; i < w->ncustoms; i++)
        if (is_debug_section(&w->customs[i])) {
            nsec++;
            data += w->customs[i].len;
            names += w->customs[i].name_len + 1;
        }
    if (nsec == 0 || nsec > 1000)
        return false;
    size_t shnum = nsec + 2; /* null section, the debug sections, .shstrtab */
    size_t data_at = sizeof(Elf32_Ehdr), names_at = data_at + data;
    size_t headers_at = (names_at + names + 3) & ~(size_t)3;
    size_t len = headers_at + shnum * sizeof(Elf32_Shdr);
    if (len > UINT32_MAX)
        return false;
    uint8_t *img = calloc(1, len);
    if (!img)
        return false;
    Elf32_Ehdr *eh = (Elf32_Ehdr *)img;
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS32;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = ET_REL;
    eh->e_machine = EM_NONE;
    eh->e_version = EV_CURRENT;
    eh->e_ehsize = sizeof(Elf32_Ehdr);
    eh->e_shoff = (Elf32_Off)headers_at;
    eh->e_shentsize = sizeof(Elf32_Shdr);
    eh->e_shnum = (Elf32_Half)shnum;
    eh->e_shstrndx = (Elf32_Half)(shnum - 1);
    /* The section headers go straight into the image (calloc'd: zeros). */
    Elf32_Shdr *sh = (Elf32_Shdr *)(img + headers_at);
    size_t at = data_at, name_at = 1, k = 1;
    for (uint32_t i = 0; i < w->ncustoms; i++) {
        const wasm_custom_t *c = &w->customs[i];
        if (!is_debug_section(c))
            continue;
        memcpy(img + at, c->data, c->len);
        memcpy(img + names_at + name_at, c->name, c->name_len);
        sh[k].sh_name = (Elf32_Word)name_at;
        sh[k].sh_type = SHT_PROGBITS;
        sh[k].sh_offset = (Elf32_Off)at;
        sh[k].sh_size = c->len;
        sh[k].sh_addralign = 1;
        at += c->len;
        name_at += c->name_len + 1;
        k++;
    }
    memcpy(img + names_at + name_at, ".shstrtab", sizeof ".shstrtab");
    sh[k].sh_name = (Elf32_Word)name_at;
    sh[k].sh_type = SHT_STRTAB;
    sh[k].sh_offset = (Elf32_Off)names_at;
    sh[k].sh_size = (Elf32_Word)names;
    sh[k].sh_addralign = 1;
    d->image = img;
    d->image_len = len;
    return true;
}
#else
static bool build_image(debug_info_t *d, const wasm_module_t *w)
{
    (void)d;
    (void)w;
    return false;
}
#endif

debug_info_t *debug_info_from_wasm(const wasm_module_t *w)
{
    bool has_info = false;
    for (uint32_t i = 0; i < w->ncustoms; i++)
        if (w->customs[i].name_len == 11 && memcmp(w->customs[i].name, ".debug_info", 11) == 0)
            has_info = true;
    size_t start = has_info ? code_section_start(w) : 0;
    debug_info_t *d = start ? calloc(1, sizeof *d) : NULL;
    if (!d)
        return NULL;
    atomic_init(&d->refcount, 1);
    pthread_mutex_init(&d->lock, NULL);
    d->code_start = start;
    if (!build_image(d, w)) {
        pthread_mutex_destroy(&d->lock);
        free(d);
        return NULL;
    }
    return d;
}

debug_info_t *debug_info_of(whirl_module_t *module)
{
    if (!module)
        return NULL;
    int state = atomic_load_explicit(&module->debug_state, memory_order_acquire);
    if (state == DEBUG_INFO_NONE)
        return NULL;
    if (state == DEBUG_INFO_READY)
        return module->debug;
    pthread_mutex_lock(&create_lock);
    state = atomic_load_explicit(&module->debug_state, memory_order_relaxed);
    if (state == DEBUG_INFO_UNKNOWN) {
        debug_info_t *d = debug_info_from_wasm(module->wasm);
        module->debug = d;
        state = d ? DEBUG_INFO_READY : DEBUG_INFO_NONE;
        atomic_store_explicit(&module->debug_state, state, memory_order_release);
    }
    pthread_mutex_unlock(&create_lock);
    return state == DEBUG_INFO_READY ? module->debug : NULL;
}

void debug_info_retain(debug_info_t *info)
{
    if (info)
        atomic_fetch_add_explicit(&info->refcount, 1, memory_order_relaxed);
}

void debug_info_release(debug_info_t *info)
{
    if (!info || atomic_fetch_sub_explicit(&info->refcount, 1, memory_order_acq_rel) != 1)
        return;
#ifdef WHIRL_DWARF
    if (info->dwarf)
        dwarf_end(info->dwarf);
    if (info->elf)
        elf_end(info->elf);
#endif
    pthread_mutex_destroy(&info->lock);
    free(info->image);
    free(info);
}

void debug_info_module_free(whirl_module_t *module)
{
    if (atomic_load_explicit(&module->debug_state, memory_order_acquire) == DEBUG_INFO_READY)
        debug_info_release(module->debug);
}

#ifdef WHIRL_DWARF
static pthread_once_t elf_once = PTHREAD_ONCE_INIT;
static void elf_init(void) { elf_version(EV_CURRENT); }

static bool open_dwarf(debug_info_t *d)
{
    if (d->opened)
        return !d->failed;
    d->opened = true;
    pthread_once(&elf_once, elf_init);
    d->elf = elf_memory((char *)d->image, d->image_len);
    if (d->elf)
        d->dwarf = dwarf_begin_elf(d->elf, DWARF_C_READ, NULL);
    d->failed = !d->dwarf;
    return !d->failed;
}

/* dwarf_haspc with a step budget shared by one lookup: a crafted file can
 * point many DIEs at one huge range list, so every range visited counts,
 * and a lookup stops (finding nothing more) when the budget is spent. */
static bool die_has_pc(Dwarf_Die *die, Dwarf_Addr addr, unsigned *budget)
{
    Dwarf_Addr base, start, end;
    ptrdiff_t off = 0;
    while (*budget > 0 && (off = dwarf_ranges(die, off, &base, &start, &end)) > 0) {
        (*budget)--;
        if (addr >= start && addr < end)
            return true;
    }
    return false;
}

/* The compilation unit whose ranges hold `addr`. */
static bool find_cu(Dwarf *dw, Dwarf_Addr addr, Dwarf_Die *cudie, unsigned *budget)
{
    Dwarf_CU *cu = NULL;
    Dwarf_Half version;
    uint8_t unit_type;
    Dwarf_Die die;
    /* Unit offsets only grow, so this ends; the cap bounds a crafted file. */
    while (*budget > 0) {
        (*budget)--;
        if (dwarf_get_units(dw, cu, &cu, &version, &unit_type, &die, NULL) != 0)
            return false;
        if (dwarf_tag(&die) == DW_TAG_compile_unit && die_has_pc(&die, addr, budget)) {
            *cudie = die;
            return true;
        }
    }
    return false;
}

/* The line table row for `addr`: the last row at or before it in its
 * sequence; a row of line 0 (code the compiler made up) takes the line of
 * the nearest row before it in the sequence that has one. */
static Dwarf_Line *find_line(Dwarf_Die *cudie, Dwarf_Addr addr)
{
    Dwarf_Lines *lines;
    size_t n;
    if (dwarf_getsrclines(cudie, &lines, &n) != 0 || n == 0)
        return NULL;
    /* Rows are sorted by address; find the last one at or below addr. */
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        Dwarf_Addr a;
        if (dwarf_lineaddr(dwarf_onesrcline(lines, mid), &a) != 0)
            return NULL;
        if (a <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    size_t i = lo - 1;
    bool end;
    Dwarf_Line *row = dwarf_onesrcline(lines, i);
    if (!row || dwarf_lineendsequence(row, &end) != 0 || end)
        return NULL;
    for (size_t j = i + 1; j-- > 0;) {
        Dwarf_Line *r = dwarf_onesrcline(lines, j);
        int line = 0;
        if (!r || (j < i && (dwarf_lineendsequence(r, &end) != 0 || end)))
            break;
        if (dwarf_lineno(r, &line) == 0 && line > 0)
            return r;
    }
    return row;
}

static const char *die_name(Dwarf_Die *die)
{
    Dwarf_Attribute a;
    const char *s = NULL;
    if (dwarf_attr_integrate(die, DW_AT_linkage_name, &a))
        s = dwarf_formstring(&a);
    if (!s && dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a))
        s = dwarf_formstring(&a);
    if (!s && dwarf_attr_integrate(die, DW_AT_name, &a))
        s = dwarf_formstring(&a);
    return s;
}

static uint32_t die_udata(Dwarf_Die *die, unsigned attr)
{
    Dwarf_Attribute a;
    Dwarf_Word v;
    if (!dwarf_attr(die, attr, &a) || dwarf_formudata(&a, &v) != 0 || v > UINT32_MAX)
        return 0;
    return (uint32_t)v;
}

/* Walks down from `parent` along the DIEs whose ranges hold `addr`
 * (functions, inlined calls, blocks; namespaces and classes are searched
 * through, since C++ nests definitions in them), appending the functions
 * and inlined calls to path[] outermost first. Returns the new length. The
 * nesting and the number of DIEs visited are bounded, whatever the file. */
static size_t descend(Dwarf_Die *parent, Dwarf_Addr addr, Dwarf_Die *path, size_t len,
                      unsigned nest, unsigned *budget)
{
    Dwarf_Die child;
    if (nest > 256 || len >= MAX_INLINE_DEPTH || dwarf_child(parent, &child) != 0)
        return len;
    do {
        if (*budget == 0)
            return len;
        (*budget)--;
        switch (dwarf_tag(&child)) {
        case DW_TAG_subprogram:
        case DW_TAG_inlined_subroutine:
            if (die_has_pc(&child, addr, budget)) {
                path[len] = child;
                return descend(&child, addr, path, len + 1, nest + 1, budget);
            }
            break;
        case DW_TAG_lexical_block:
        case DW_TAG_try_block:
        case DW_TAG_catch_block:
            if (die_has_pc(&child, addr, budget))
                return descend(&child, addr, path, len, nest + 1, budget);
            break;
        case DW_TAG_namespace:
        case DW_TAG_module:
        case DW_TAG_class_type:
        case DW_TAG_structure_type:
        case DW_TAG_union_type: {
            size_t found = descend(&child, addr, path, len, nest + 1, budget);
            if (found > len)
                return found;
            break;
        }
        default:
            break;
        }
    } while (dwarf_siblingof(&child, &child) == 0);
    return len;
}

static size_t locate(debug_info_t *d, size_t offset, whirl_source_location_t *out, size_t max)
{
    if (offset < d->code_start || !open_dwarf(d))
        return 0;
    Dwarf_Addr addr = offset - d->code_start;
    Dwarf_Die cudie;
    /* Steps (units, DIEs, ranges) one lookup may take: far more than real
     * DWARF needs (its CUs' children are mostly one range each). */
    unsigned budget = 1u << 21;
    if (!find_cu(d->dwarf, addr, &cudie, &budget))
        return 0;
    whirl_source_location_t cur = {0};
    Dwarf_Line *row = find_line(&cudie, addr);
    if (row) {
        int line = 0, col = 0;
        cur.file = dwarf_linesrc(row, NULL, NULL);
        if (dwarf_lineno(row, &line) == 0 && line > 0)
            cur.line = (uint32_t)line;
        if (dwarf_linecol(row, &col) == 0 && col > 0)
            cur.column = (uint32_t)col;
    }
    Dwarf_Die path[MAX_INLINE_DEPTH];
    size_t depth = descend(&cudie, addr, path, 0, 0, &budget);
    Dwarf_Files *files = NULL;
    size_t nfiles = 0;
    if (depth > 1 && dwarf_getsrcfiles(&cudie, &files, &nfiles) != 0)
        files = NULL;
    size_t count = 0;
    /* Innermost first: each inlined call's caller sits at its call site. */
    for (size_t i = depth; i-- > 0;) {
        cur.function = die_name(&path[i]);
        if (count < max)
            out[count] = cur;
        count++;
        if (dwarf_tag(&path[i]) != DW_TAG_inlined_subroutine)
            break;
        cur = (whirl_source_location_t){0};
        Dwarf_Attribute a;
        uint32_t file = die_udata(&path[i], DW_AT_call_file);
        if (files && dwarf_attr(&path[i], DW_AT_call_file, &a) && file < nfiles)
            cur.file = dwarf_filesrc(files, file, NULL, NULL);
        cur.line = die_udata(&path[i], DW_AT_call_line);
        cur.column = die_udata(&path[i], DW_AT_call_column);
    }
    /* A line row outside any function DIE still says where it is. */
    if (count == 0 && cur.file) {
        if (max)
            out[0] = cur;
        count = 1;
    }
    return count;
}
#endif

#ifdef WHIRL_DWARF
static size_t prologue_end(debug_info_t *d, size_t start, size_t end)
{
    if (start < d->code_start || end <= start || !open_dwarf(d))
        return 0;
    Dwarf_Addr lo = start - d->code_start, hi = end - d->code_start;
    Dwarf_Die cudie;
    unsigned budget = 1u << 21;
    Dwarf_Lines *lines;
    size_t n;
    if (!find_cu(d->dwarf, lo, &cudie, &budget) || dwarf_getsrclines(&cudie, &lines, &n) != 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        Dwarf_Line *row = dwarf_onesrcline(lines, i);
        Dwarf_Addr a;
        bool flag = false;
        if (row && dwarf_lineaddr(row, &a) == 0 && a >= lo && a < hi &&
            dwarf_lineprologueend(row, &flag) == 0 && flag)
            return (size_t)a + d->code_start;
    }
    return 0;
}
#endif

size_t debug_info_prologue_end(debug_info_t *info, size_t start, size_t end)
{
#ifdef WHIRL_DWARF
    if (!info)
        return 0;
    pthread_mutex_lock(&info->lock);
    size_t at = prologue_end(info, start, end);
    pthread_mutex_unlock(&info->lock);
    return at;
#else
    (void)info;
    (void)start;
    (void)end;
    return 0;
#endif
}

size_t debug_info_locate(debug_info_t *info, size_t offset, whirl_source_location_t *out,
                         size_t max)
{
#ifdef WHIRL_DWARF
    if (!info)
        return 0;
    pthread_mutex_lock(&info->lock);
    size_t n = locate(info, offset, out, max);
    pthread_mutex_unlock(&info->lock);
    return n;
#else
    (void)info;
    (void)offset;
    (void)out;
    (void)max;
    return 0;
#endif
}
