/* The GDB JIT interface: tells a native debugger about generated code.
 *
 * gdb (and lldb) put a breakpoint on __jit_debug_register_code and, when
 * it is hit, read __jit_debug_descriptor's newest entry: an in-memory
 * object file (ELF here) with the code's symbols and DWARF. The protocol
 * is gdb's ("JIT Compilation Interface" in its manual): version 1, a
 * doubly linked list of entries, action_flag saying whether
 * relevant_entry was registered or is going away.
 *
 * Which image: the relocatable object whirl linked (jit_object.c), with
 * each allocated section's sh_addr set to where JITLink put it. gdb reads
 * an ET_REL image the way it reads any relocatable object: it places the
 * sections at their sh_addr and applies the object's own relocations to
 * the .debug_* sections, so the DWARF's addresses come out where the code
 * runs. This keeps one object for everything (the .cwasm and cache bytes
 * are the same; nothing is emitted twice) and needs only addresses, not a
 * relocation engine of our own; the alternative, emitting the object at
 * its final address, would need the address before JITLink chooses it.
 *
 * Where the sections are: JITLink keeps each ELF section one block, so a
 * section's base is any of its symbols' address minus the symbol's value.
 * The function table gives those: its own symbol's address, and each entry
 * (relocated against a code section) the address of a function. On x86-64
 * a section only code refers to (constants) is found from a PC-relative
 * relocation in a placed section, reading the displacement JITLink wrote.
 * A section found neither way keeps address 0 (DWARF never points there).
 *
 * The symbols: whirl builds with -fvisibility=hidden and exports only
 * whirl_* from libwhirl.so; libwhirl.a localises every hidden symbol
 * (cmake/WhirlLibrary.cmake, objcopy --localize-hidden). gdb finds
 * __jit_debug_register_code and __jit_debug_descriptor through each
 * objfile's symbol table (.symtab), local symbols included, so they stay
 * hidden: whirl's pair never interposes on libLLVM's own (libLLVM-19.so
 * exports one for ORC's plugins, which whirl does not use), and gdb, which
 * watches every objfile's descriptor, sees both. A stripped whirl (no
 * .symtab) cannot be debugged this way. */
#include <elf.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jit/jit_debuginfo.h"

/* ---------------------------------------------------------- gdb's ABI */

enum { JIT_NOACTION = 0, JIT_REGISTER_FN, JIT_UNREGISTER_FN };

struct jit_code_entry {
    struct jit_code_entry *next_entry;
    struct jit_code_entry *prev_entry;
    const char *symfile_addr;
    uint64_t symfile_size;
};

struct jit_descriptor {
    uint32_t version;
    uint32_t action_flag;
    struct jit_code_entry *relevant_entry;
    struct jit_code_entry *first_entry;
};

/* gdb's names, exactly. The function must exist as a call (noinline, a
 * body the compiler keeps): gdb's breakpoint sits on it. */
void __jit_debug_register_code(void);
extern struct jit_descriptor __jit_debug_descriptor;

__attribute__((noinline, used)) void __jit_debug_register_code(void)
{
    __asm__ volatile("" ::: "memory");
}

__attribute__((used)) struct jit_descriptor __jit_debug_descriptor = {1, JIT_NOACTION, NULL, NULL};

/* Registrations come from compile threads and module frees at once. */
static pthread_mutex_t gdb_lock = PTHREAD_MUTEX_INITIALIZER;

struct gdb_jit_entry {
    struct jit_code_entry entry;
    uint8_t *image;
};

/* ---------------------------------------------------------- the image */

typedef struct elf_view {
    uint8_t *img;
    size_t len;
    Elf64_Ehdr eh;
    Elf64_Shdr *sh; /* in img */
} elf_view_t;

static bool in_image(const elf_view_t *v, uint64_t off, uint64_t size)
{
    return off <= v->len && size <= v->len - off;
}

static bool open_view(elf_view_t *v, uint8_t *img, size_t len)
{
    v->img = img;
    v->len = len;
    if (len < sizeof v->eh)
        return false;
    memcpy(&v->eh, img, sizeof v->eh);
    const Elf64_Ehdr *e = &v->eh;
    if (memcmp(e->e_ident, ELFMAG, SELFMAG) != 0 || e->e_ident[EI_CLASS] != ELFCLASS64 ||
        e->e_type != ET_REL || e->e_shentsize != sizeof(Elf64_Shdr) || e->e_shoff % 8 != 0 ||
        e->e_shstrndx >= e->e_shnum ||
        !in_image(v, e->e_shoff, (uint64_t)e->e_shnum * sizeof(Elf64_Shdr)))
        return false;
    v->sh = (Elf64_Shdr *)(img + e->e_shoff);
    for (unsigned i = 0; i < e->e_shnum; i++)
        if (v->sh[i].sh_type != SHT_NOBITS && !in_image(v, v->sh[i].sh_offset, v->sh[i].sh_size))
            return false;
    return true;
}

static const char *section_name(const elf_view_t *v, unsigned i)
{
    const Elf64_Shdr *names = &v->sh[v->eh.e_shstrndx];
    uint32_t at = v->sh[i].sh_name;
    if (at >= names->sh_size)
        return "";
    const char *s = (const char *)v->img + names->sh_offset + at;
    return memchr(s, 0, names->sh_size - at) ? s : "";
}

static bool has_section(const elf_view_t *v, const char *name)
{
    for (unsigned i = 1; i < v->eh.e_shnum; i++)
        if (strcmp(section_name(v, i), name) == 0)
            return true;
    return false;
}

typedef struct bases {
    uint64_t *addr;
    bool *known;
    unsigned n;
} bases_t;

static void learn(bases_t *b, unsigned section, uint64_t base)
{
    if (section > 0 && section < b->n && !b->known[section]) {
        b->addr[section] = base;
        b->known[section] = true;
    }
}

/* Section bases from the function table (see the top comment). */
static void bases_from_table(const elf_view_t *v, const jit_code_t *code, bases_t *b)
{
    for (unsigned s = 1; s < v->eh.e_shnum; s++) {
        const Elf64_Shdr *symtab = &v->sh[s];
        if (symtab->sh_type != SHT_SYMTAB || symtab->sh_entsize != sizeof(Elf64_Sym) ||
            symtab->sh_link >= v->eh.e_shnum || symtab->sh_offset % 8 != 0)
            continue;
        const Elf64_Shdr *strtab = &v->sh[symtab->sh_link];
        const Elf64_Sym *syms = (const Elf64_Sym *)(v->img + symtab->sh_offset);
        size_t nsyms = symtab->sh_size / sizeof(Elf64_Sym);
        uint64_t table_value = 0;
        unsigned table_section = 0;
        char table_name[48];
        jit_table_name(table_name, sizeof table_name, JIT_FUNC_TABLE, code->part);
        size_t table_len = strlen(table_name);
        for (size_t k = 0; k < nsyms; k++) {
            if (syms[k].st_name >= strtab->sh_size)
                continue;
            const char *name = (const char *)v->img + strtab->sh_offset + syms[k].st_name;
            size_t room = strtab->sh_size - syms[k].st_name;
            if (strnlen(name, room) == table_len && memcmp(name, table_name, table_len) == 0) {
                table_value = syms[k].st_value;
                table_section = syms[k].st_shndx;
            }
        }
        if (!table_section || table_section >= b->n)
            return;
        learn(b, table_section, (uintptr_t)code->table - table_value);
        uint64_t table_bytes = ((uint64_t)code->nfuncs * 2 + 2) * sizeof(void *);
        for (unsigned r = 1; r < v->eh.e_shnum; r++) {
            const Elf64_Shdr *rs = &v->sh[r];
            if (rs->sh_type != SHT_RELA || rs->sh_info != table_section || rs->sh_link != s ||
                rs->sh_entsize != sizeof(Elf64_Rela) || rs->sh_offset % 8 != 0)
                continue;
            const Elf64_Rela *rel = (const Elf64_Rela *)(v->img + rs->sh_offset);
            for (size_t k = 0; k < rs->sh_size / sizeof *rel; k++) {
                uint64_t at = rel[k].r_offset - table_value;
                size_t sym = ELF64_R_SYM(rel[k].r_info);
                if (rel[k].r_offset < table_value || at >= table_bytes || at % 8 || sym >= nsyms)
                    continue;
                uintptr_t value = (uintptr_t)code->table[at / 8];
                if (value)
                    learn(b, syms[sym].st_shndx,
                          value - (uint64_t)rel[k].r_addend - syms[sym].st_value);
            }
        }
        return;
    }
}

/* x86-64: sections reached from placed code by R_X86_64_PC32 (S + A - P
 * written as 32 bits at P), e.g. constant pools. */
static void bases_from_code(const elf_view_t *v, bases_t *b)
{
    if (v->eh.e_machine != EM_X86_64)
        return;
    for (unsigned r = 1; r < v->eh.e_shnum; r++) {
        const Elf64_Shdr *rs = &v->sh[r];
        if (rs->sh_type != SHT_RELA || rs->sh_info >= b->n || !b->known[rs->sh_info] ||
            !(v->sh[rs->sh_info].sh_flags & SHF_ALLOC) || rs->sh_link >= v->eh.e_shnum ||
            rs->sh_entsize != sizeof(Elf64_Rela) || rs->sh_offset % 8 != 0)
            continue;
        const Elf64_Shdr *symtab = &v->sh[rs->sh_link];
        if (symtab->sh_type != SHT_SYMTAB || symtab->sh_offset % 8 != 0)
            continue;
        const Elf64_Sym *syms = (const Elf64_Sym *)(v->img + symtab->sh_offset);
        size_t nsyms = symtab->sh_size / sizeof(Elf64_Sym);
        uint64_t target_base = b->addr[rs->sh_info], target_size = v->sh[rs->sh_info].sh_size;
        const Elf64_Rela *rel = (const Elf64_Rela *)(v->img + rs->sh_offset);
        for (size_t k = 0; k < rs->sh_size / sizeof *rel; k++) {
            size_t sym = ELF64_R_SYM(rel[k].r_info);
            if (ELF64_R_TYPE(rel[k].r_info) != R_X86_64_PC32 || sym >= nsyms ||
                rel[k].r_offset + 4 > target_size)
                continue;
            unsigned section = syms[sym].st_shndx;
            if (section == 0 || section >= b->n || b->known[section])
                continue;
            int32_t disp;
            uint64_t p = target_base + rel[k].r_offset;
            memcpy(&disp, (const void *)(uintptr_t)p, sizeof disp);
            learn(b, section, p + (uint64_t)(int64_t)disp - (uint64_t)rel[k].r_addend -
                                  syms[sym].st_value);
        }
    }
}

/* Sets sh_addr of every allocated section to where it was loaded. */
static bool place_sections(elf_view_t *v, const jit_code_t *code)
{
    bases_t b = {calloc(v->eh.e_shnum, sizeof *b.addr), calloc(v->eh.e_shnum, sizeof *b.known),
                 v->eh.e_shnum};
    if (!b.addr || !b.known) {
        free(b.addr);
        free(b.known);
        return false;
    }
    bases_from_table(v, code, &b);
    bases_from_code(v, &b);
    bool any = false;
    for (unsigned i = 1; i < v->eh.e_shnum; i++)
        if (v->sh[i].sh_flags & SHF_ALLOC) {
            v->sh[i].sh_addr = b.known[i] ? b.addr[i] : 0;
            any |= b.known[i];
        }
    free(b.addr);
    free(b.known);
    return any;
}

/* ---------------------------------------------------------- registering */

void jit_gdb_register(jit_code_t *code, const uint8_t *object, size_t len)
{
    if (code->gdb_entry || !code->table || !object || len == 0)
        return;
    uint8_t *img = malloc(len);
    if (!img)
        return;
    memcpy(img, object, len);
    elf_view_t v;
    struct gdb_jit_entry *e = NULL;
    if (!open_view(&v, img, len) || !has_section(&v, ".debug_info") || !place_sections(&v, code) ||
        !(e = calloc(1, sizeof *e))) {
        free(img);
        return;
    }
    e->image = img;
    e->entry.symfile_addr = (const char *)img;
    e->entry.symfile_size = len;
    pthread_mutex_lock(&gdb_lock);
    struct jit_descriptor *d = &__jit_debug_descriptor;
    e->entry.next_entry = d->first_entry;
    if (d->first_entry)
        d->first_entry->prev_entry = &e->entry;
    d->first_entry = &e->entry;
    d->relevant_entry = &e->entry;
    d->action_flag = JIT_REGISTER_FN;
    __jit_debug_register_code();
    d->action_flag = JIT_NOACTION;
    pthread_mutex_unlock(&gdb_lock);
    code->gdb_entry = e;
}

void jit_gdb_unregister(jit_code_t *code)
{
    struct gdb_jit_entry *e = code->gdb_entry;
    if (!e)
        return;
    pthread_mutex_lock(&gdb_lock);
    struct jit_descriptor *d = &__jit_debug_descriptor;
    if (e->entry.prev_entry)
        e->entry.prev_entry->next_entry = e->entry.next_entry;
    else
        d->first_entry = e->entry.next_entry;
    if (e->entry.next_entry)
        e->entry.next_entry->prev_entry = e->entry.prev_entry;
    d->relevant_entry = &e->entry;
    d->action_flag = JIT_UNREGISTER_FN;
    __jit_debug_register_code();
    d->action_flag = JIT_NOACTION;
    d->relevant_entry = NULL;
    pthread_mutex_unlock(&gdb_lock);
    code->gdb_entry = NULL;
    free(e->image);
    free(e);
}
