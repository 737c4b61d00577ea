/* Source lines of trap backtraces (whirl_error_frame_source) and symbol
 * demangling for what the command prints.
 *
 * Demangling uses libiberty's cplus_demangle (Debian: libiberty-dev), the
 * demangler of binutils and GDB: Itanium C++ and both Rust manglings, with
 * its recursion limit on (names come from untrusted modules). Without it
 * (WHIRL_DEMANGLE off) names stay as the module spells them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifdef WHIRL_DEMANGLE
#include <libiberty/demangle.h>
#endif

/* Longer names are left alone: the demangler's work grows with them. */
#define DEMANGLE_MAX_LEN 4096

char *cli_demangle(const char *name)
{
    if (!name)
        return NULL;
#ifdef WHIRL_DEMANGLE
    if (strlen(name) <= DEMANGLE_MAX_LEN && name[0] == '_') {
        char *d = cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI | DMGL_AUTO);
        if (d)
            return d;
    }
#endif
    return strdup(name);
}

void cli_put_location(FILE *f, const whirl_source_location_t *loc)
{
    const char *file = loc->file ? loc->file : "??";
    cli_put_escaped(f, file, strlen(file), 0);
    if (loc->line) {
        fprintf(f, ":%u", loc->line);
        if (loc->column)
            fprintf(f, ":%u", loc->column);
    }
}

void cli_print_frame_source(FILE *f, const whirl_error_t *error, size_t frame)
{
    whirl_source_location_t locs[32];
    size_t n = whirl_error_frame_source(error, frame, locs, 32);
    if (n > 32)
        n = 32;
    for (size_t k = 0; k < n; k++) {
        /* The last entry is the frame's own function, named on the line
         * above; the ones before it were inlined into it. */
        if (k + 1 < n) {
            fputs("        inlined ", f);
            char *name = cli_demangle(locs[k].function);
            const char *shown = name ? name : "??";
            cli_put_escaped(f, shown, strlen(shown), 0);
            free(name);
            fputs(" at ", f);
        } else {
            fputs("        at ", f);
        }
        cli_put_location(f, &locs[k]);
        fputc('\n', f);
    }
}
