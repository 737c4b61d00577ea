/* One table-driven option parser for every `whirl` command, instead of a
 * hand-written loop per command. A command describes its options in a
 * table (which also gives its help text) and pulls them one at a time:
 *
 *   static const cli_option_t opts[] = {
 *       {OPT_OUT, 'o', "output", CLI_REQUIRED_ARG, "FILE", "Write FILE."},
 *   };
 *   cli_args_t a;
 *   cli_args_init(&a, "compile", opts, CLI_COUNT(opts), argc, argv);
 *   for (int id; (id = cli_args_next(&a)) != CLI_ARGS_END;)
 *       switch (id) { case OPT_OUT: out = a.value; break; case CLI_ARGS_POSITIONAL: ...
 *                     case CLI_ARGS_ERROR: return EXIT_USAGE; }
 *
 * Accepted forms: `--name`, `--name=VALUE`, `--name VALUE` (a required
 * value only), `-x`, `-x VALUE`, `-xVALUE`; `--` ends the options. Long
 * names must be given in full (no abbreviations). With stop_at_positional
 * the first positional ends the options too, and everything after it is
 * returned as positionals verbatim ("--" included): `whirl run` gives all
 * arguments after FILE to the guest, as wasmtime does.
 *
 * Option groups (-W, -O, -S, -C, -D, as wasmtime has them) take
 * NAME[=VALUE][,NAME[=VALUE]...]; cli_group_next splits them and
 * cli_group_help lists a group's names. */
#ifndef WHIRL_CLI_OPTIONS_H
#define WHIRL_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CLI_COUNT(array) (sizeof(array) / sizeof((array)[0]))

typedef enum cli_arg_kind {
    CLI_NO_ARG,
    CLI_REQUIRED_ARG,
    CLI_OPTIONAL_ARG, /* only as --name=VALUE */
} cli_arg_kind_t;

typedef struct cli_option {
    int id;                 /* returned by cli_args_next; >= 0 */
    char short_name;        /* 'o', or 0 */
    const char *long_name;  /* "output", or NULL */
    cli_arg_kind_t arg;
    const char *value_name; /* "FILE", for the help */
    const char *help;       /* NULL: an alias the help does not list */
} cli_option_t;

enum {
    CLI_ARGS_END = -1,        /* no arguments left */
    CLI_ARGS_ERROR = -2,      /* a usage error, already printed */
    CLI_ARGS_POSITIONAL = -3, /* a positional argument, in .value */
};

typedef struct cli_args {
    const char *command; /* "run", for messages */
    const cli_option_t *options;
    size_t noptions;
    int argc;
    char **argv;
    int next;                /* index of the next argument */
    bool stop_at_positional; /* set before the first cli_args_next */
    bool options_done;       /* after "--" or the stop */
    const char *value;       /* the value of the option or the positional; NULL if none */
    const cli_option_t *option; /* the option just matched */
    char name[64];           /* the option as given, without its value ("--invoke") */
} cli_args_t;

void cli_args_init(cli_args_t *a, const char *command, const cli_option_t *options,
                   size_t noptions, int argc, char **argv);

/* The next option's id, CLI_ARGS_POSITIONAL, CLI_ARGS_END, or
 * CLI_ARGS_ERROR after printing a usage error (unknown option, missing or
 * unexpected value). */
int cli_args_next(cli_args_t *a);

/* Prints the options with help text, one per entry, aligned. */
void cli_options_help(FILE *f, const cli_option_t *options, size_t noptions);

/* ---- option groups ---- */

typedef struct cli_group_key {
    int id;
    const char *name;       /* "timeout" */
    const char *value_name; /* "DURATION"; "[=y|n]" for a switch */
    const char *help;       /* NULL: an alias the listing leaves out */
} cli_group_key_t;

/* Takes the next NAME[=VALUE] item of a group's argument, advancing
 * *cursor past it and its comma, and copies it into buf. Returns false at
 * the end. */
bool cli_group_next(const char **cursor, char *buf, size_t len);

/* Splits an item into *name (in place) and *value (NULL without '=');
 * returns the key named, or NULL. */
const cli_group_key_t *cli_group_find(const cli_group_key_t *keys, size_t nkeys, char *item,
                                      const char **value);

/* A switch's value: no value or y/yes/true/on/1 is true, n/no/false/off/0
 * false; -1 for anything else. */
int cli_parse_switch(const char *value);

/* Lists a group: "  -W timeout=DURATION   help..." per key. */
void cli_group_help(FILE *f, char group, const cli_group_key_t *keys, size_t nkeys);

#endif
