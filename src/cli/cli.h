/* The `whirl` command-line tool. It uses only the public API (whirl.h), like
 * any other embedder, so that it doubles as a check that the API suffices. */
#ifndef WHIRL_CLI_H
#define WHIRL_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "whirl.h"

/* Process exit codes; the usage text documents them, scripts rely on them.
 * A WASI program's own exit status (0-125) passes through unchanged, so the
 * trap code lies outside that range: 134 = 128 + SIGABRT, as wasmtime exits
 * on a trap on Unix. */
enum {
    EXIT_OK = 0,
    EXIT_BAD_MODULE = 1, /* decode, validation or link error */
    EXIT_USAGE = 2,      /* bad command line */
    EXIT_IO = 4,         /* the module file (or a --dir) could not be opened */
    EXIT_TRAP = 134,     /* the guest trapped */
    EXIT_TIMEOUT = 142,  /* the guest trapped at its -W timeout deadline */
};

/* The usage text, which also documents the exit codes. */
void cli_usage(FILE *f);

/* "error: ..." on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A usage error: the message, then a hint to run `whirl help`. Returns
 * EXIT_USAGE so callers can `return cli_usage_error(...)`. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes `len` bytes of `s` to `f`, escaping control and non-ASCII bytes as
 * \xNN: names and messages may come from an untrusted module and must not
 * reach the terminal raw. Newlines and tabs pass through when `keep_newlines`. */
void cli_put_escaped(FILE *f, const char *s, size_t len, int keep_newlines);

/* Reads a whole file. On failure prints "error: PATH: strerror" and returns
 * EXIT_IO; on success *data (malloc'd, caller frees) and *len are set. */
int cli_read_file(const char *path, uint8_t **data, size_t *len);

/* Prints the error of a failed decode/validate/compile: "error: PATH: msg",
 * plus a hint when the file is WebAssembly text rather than binary. */
void cli_report_module_error(const char *path, const uint8_t *data, size_t len,
                             const whirl_error_t *error);

/* Prints a trap and its guest backtrace to stderr. */
void cli_report_trap(const whirl_error_t *error);

/* ---- source lines and names (source.c) ---- */

/* `name` demangled (C++, Rust) when libiberty is built in and it is
 * mangled, else a copy. Caller frees; NULL for NULL or out of memory. */
char *cli_demangle(const char *name);

/* "file:line:column" of `loc` (escaped; parts it lacks left out). */
void cli_put_location(FILE *f, const whirl_source_location_t *loc);

/* The source lines of backtrace frame `frame`, one per (inlined) function,
 * indented under the frame's line; nothing without DWARF. */
void cli_print_frame_source(FILE *f, const whirl_error_t *error, size_t frame);

/* ---- values (values.c) ---- */

/* Name of a value kind as in the text format ("i32", "funcref"). */
const char *cli_kind_name(whirl_valkind_t kind);

/* Parses a command-line argument as a value of `kind`. Returns 0 on success;
 * otherwise -1 and a short reason in `why` (static string). */
int cli_parse_val(const char *text, whirl_valkind_t kind, whirl_val_t *out, const char **why);

/* Prints a result value the way `wasmtime run --invoke` does, plus a newline. */
void cli_print_val(FILE *f, const whirl_val_t *val);

/* Parses a byte count as whirl_parse_size does. Returns 0 on success, -1 if
 * it does not parse or does not fit a size_t. */
int cli_parse_size(const char *text, size_t *out);

/* ---- WASI (wasi.c) ---- */

#include "whirl/wasi.h"

/* The WASI options of `whirl run`, as given (borrowed from argv). */
typedef struct cli_wasi_opts {
    const char **dirs; /* --dir values */
    size_t ndirs;
    const char **envs; /* --env values */
    size_t nenvs;
    bool inherit_env;
    uint32_t max_open_files; /* -W max-open-files; 0: the host's default */
} cli_wasi_opts_t;

/* True if the module imports anything from "wasi_snapshot_preview1". */
bool cli_imports_wasi(const whirl_module_t *module);

/* True if the import is WASI preview 1 (which `whirl run` provides). */
bool cli_is_wasi_import(const whirl_import_info_t *imp);

/* Builds the WASI context of a run: argv is the module's file name (without
 * its directory, as wasmtime does) followed by `args`; stdio is inherited.
 * Prints the error and returns EXIT_USAGE or EXIT_IO on failure. */
int cli_wasi_new(const cli_wasi_opts_t *o, const char *file, const char **args, size_t nargs,
                 whirl_wasi_t **out);

/* --dir HOST[::GUEST][:ro|:rw] split into its parts: *host and *guest
 * (NULL: same as host) point into *buf, which the caller frees. --env
 * NAME[=VALUE]: *name (malloc'd) and *value (without =VALUE: the host's,
 * NULL if unset). Both print the error and return EXIT_USAGE if the value
 * is malformed, else 0. */
int cli_dir_spec(const char *spec, char **buf, const char **host, const char **guest,
                 bool *readonly);
int cli_env_spec(const char *spec, char **name, const char **value);

/* ---- `whirl run` options (run.c), shared with the component runner ---- */

#include "hosting.h"

typedef struct run_opts {
    const char *file;
    const char *invoke; /* NULL: run _start */
    const char **args;  /* everything after FILE, borrowed from argv */
    size_t nargs;
    bool cache;               /* -C cache, --cache */
    const char *cache_dir;    /* -C cache-dir=DIR, --cache=DIR (copied into cache_dir_buf) */
    char cache_dir_buf[4096];
    int debug_info;           /* -D debug-info; -1: the engine's default */
    int perfmap;              /* -D perfmap; -1: the engine's default */
    int jitdump;              /* -D jitdump; -1: the engine's default */
    bool allow_precompiled;   /* --allow-precompiled: FILE may be a .cwasm */
    cli_hosting_t hosting;    /* -W and -O options */
    cli_wasi_opts_t wasi;
    char *allow_http[64];     /* -S allow-http=RULE (a component's outbound HTTP), malloc'd */
    size_t nallow_http;
    char *http_ca;            /* -S http-ca=FILE, malloc'd */
    bool inherit_network;     /* -S inherit-network: wasi:sockets may use any address */
    char *allow_ip[64];       /* -S allow-ip=CIDR (wasi:sockets), malloc'd */
    size_t nallow_ip;
    bool threads;             /* -S threads: wasi-threads' thread-spawn (wasi_threads.c) */
    struct cli_profile *profile; /* --profile=guest: samples the guest (profile.h) */
    uint64_t profile_interval_us;
} run_opts_t;

/* "50ms", "2s": the -W timeout for messages. */
void cli_format_duration(uint64_t ns, char *buf, size_t len);

/* Reports a failed instantiation or call and frees `err`; returns the exit
 * status: the program's own for an exit request (1 outside 0-125), 134 for
 * a trap, 142 for the -W timeout deadline, 1 for anything else. */
int cli_report_run_failure(const run_opts_t *o, const char *what, whirl_error_t *err);

/* ---- wasi-threads (wasi_threads.c): `whirl run -S threads` ---- */

typedef struct cli_wasi_threads cli_wasi_threads_t;
/* Whether `imp` is "wasi" "thread-spawn"; whether `m` imports it. */
bool cli_is_thread_spawn_import(const whirl_import_info_t *imp);
bool cli_imports_thread_spawn(const whirl_module_t *m);
/* Makes the module's shared memory in the main `store` and defines it and
 * thread-spawn in `linker` (which already has WASI). Everything passed is
 * borrowed and must outlive the program (cli_wasi_threads_finish). Returns
 * EXIT_OK or an exit status after reporting. */
int cli_wasi_threads_new(const run_opts_t *o, whirl_engine_t *engine, whirl_module_t *module,
                         whirl_wasi_t *wasi, whirl_linker_t *linker, whirl_store_t *store,
                         cli_wasi_threads_t **out);
/* The main thread's _start has ended: from now on no other thread reports
 * (one that traps or exits concurrently ends the process first). NULL-safe. */
void cli_wasi_threads_main_done(cli_wasi_threads_t *t);
/* Ends the process with `rc` if any thread was spawned (they may still be
 * running), else frees `t`. NULL-safe. */
void cli_wasi_threads_finish(cli_wasi_threads_t *t, int rc);

/* ---- components (component.c) ---- */

/* `whirl run` of a component (`bytes` starts with the component preamble):
 * a wasi:cli command gets WASI 0.2 with the --dir / --env options and its
 * wasi:cli/run export runs; returns the exit status. */
int cli_run_component(const run_opts_t *o, whirl_engine_t *engine, const uint8_t *bytes,
                      size_t len);

/* `whirl inspect FILE...`: a component's imports and exports as WIT-like
 * text, a module's as a list. */
int cli_cmd_inspect(int argc, char **argv);

/* ---- commands ---- */

int cli_cmd_run(int argc, char **argv);
int cli_cmd_validate(int argc, char **argv);

/* ---- precompiled modules and the cache (cache_cmd.c) ---- */

int cli_cmd_compile(int argc, char **argv);
int cli_cmd_cache(int argc, char **argv);
/* A module from a .wasm (compiled, through the cache if enabled) or a
 * .cwasm (deserialised), told apart by the precompiled module's magic. */
whirl_error_t *cli_module_load(whirl_engine_t *engine, const uint8_t *data, size_t len,
                               whirl_module_t **out);
/* After a .cwasm failed to load in `engine`: if it loads with the other
 * debug-info setting, says how to run it ("note: ... -D debug-info"). */
void cli_explain_precompiled(const whirl_engine_t *engine, const char *path,
                             const uint8_t *data, size_t len);
/* Turns the cache on in `dir`, or (NULL) WHIRL_CACHE or the default. */
whirl_error_t *cli_enable_cache(whirl_config_t *config, const char *dir);

#endif
