/* The guest profiler of `whirl run --profile=guest` and `whirl serve
 * --profile`: samples the guest's Wasm call stack on the epoch ticker
 * (whirl_store_set_sampler) and writes three files from one base path:
 *   BASE.json    the Firefox profiler's processed format (profiler.firefox.com)
 *   BASE.folded  collapsed stacks, `outer;inner N` (flamegraph.pl, speedscope)
 *   BASE.svg     a self-contained flame graph drawn from the same stacks
 * Frames are functions named from the DWARF (with inlined functions as
 * frames of their own and source lines) or the name section, demangled. */
#ifndef WHIRL_CLI_PROFILE_H
#define WHIRL_CLI_PROFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "whirl.h"

typedef struct cli_profile cli_profile_t;

/* The default sampling interval: the epoch ticker's period while profiling. */
#define CLI_PROFILE_DEFAULT_INTERVAL_US 1000

/* Parses "guest[,PATH[,INTERVAL]]" (the --profile value): PATH's base
 * (".json" stripped; default "whirl-guest-profile") into `base`, the
 * interval in microseconds. Returns false with a reason in `why`. */
bool cli_profile_parse(const char *arg, char *base, size_t base_len, uint64_t *interval_us,
                       char *why, size_t why_len);

/* A profile writing to files at `base`; NULL if out of memory. Samples may
 * come from several threads (one lock). */
cli_profile_t *cli_profile_new(const char *base, uint64_t interval_us, const char *product);
void cli_profile_delete(cli_profile_t *p);

/* What the profile is of (the flame graph's title, the JSON's product):
 * "whirl run app.wasm". Ignored if out of memory. */
void cli_profile_set_title(cli_profile_t *p, const char *what);

/* Samples wasm running in `store` from now on (every epoch tick). */
whirl_error_t *cli_profile_attach(cli_profile_t *p, whirl_store_t *store);

/* Stops taking samples (later ones are dropped): for a bounded profile. */
void cli_profile_stop(cli_profile_t *p);

/* Writes the three files; prints what it wrote (or why not) to stderr.
 * Returns false if a file could not be written. */
bool cli_profile_write(cli_profile_t *p);

/* ---- flamegraph.c ---- */

/* One collapsed stack: frame names outermost first, and its sample count. */
typedef struct cli_flame_stack {
    const char *const *frames;
    size_t nframes;
    uint64_t count;
} cli_flame_stack_t;

/* Writes an SVG flame graph of `stacks` (self-contained: no script, no
 * external references; each box has a <title> with its counts). */
bool cli_flamegraph_write(FILE *f, const char *title, const cli_flame_stack_t *stacks,
                          size_t nstacks);

#endif
