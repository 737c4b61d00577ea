/* What the WASI 0.3 host defines at @0.3.0 (and at each version of
 * w3_versions): its own interfaces (clocks.c) and those whose functions
 * kept the 0.2 shape (no streams, futures or async functions), which reuse
 * src/wasi2's functions under their 0.3 names. */
#include <stdio.h>

#include "wasi3/wasi3.h"

const char *const w3_versions[] = {"0.3.0", "0.3.0-rc-2026-03-15"};
const size_t w3_nversions = sizeof w3_versions / sizeof *w3_versions;

/* A 0.2 function defined unchanged at 0.3.0, possibly renamed. */
typedef struct same_shape {
    const char *iface;
    const char *name2, *name3;
} same_shape_t;

static const same_shape_t same_shape[] = {
    {"wasi:cli/environment", "get-environment", "get-environment"},
    {"wasi:cli/environment", "get-arguments", "get-arguments"},
    {"wasi:cli/environment", "initial-cwd", "get-initial-cwd"},
    {"wasi:cli/exit", "exit", "exit"},
    {"wasi:cli/exit", "exit-with-code", "exit-with-code"},
    {"wasi:cli/terminal-stdin", "get-terminal-stdin", "get-terminal-stdin"},
    {"wasi:cli/terminal-stdout", "get-terminal-stdout", "get-terminal-stdout"},
    {"wasi:cli/terminal-stderr", "get-terminal-stderr", "get-terminal-stderr"},
    {"wasi:random/random", "get-random-bytes", "get-random-bytes"},
    {"wasi:random/random", "get-random-u64", "get-random-u64"},
    {"wasi:random/insecure", "get-insecure-random-bytes", "get-insecure-random-bytes"},
    {"wasi:random/insecure", "get-insecure-random-u64", "get-insecure-random-u64"},
    {"wasi:random/insecure-seed", "insecure-seed", "get-insecure-seed"},
};

static const struct {
    uint32_t group;
    const char *iface, *name;
    whirl_wasi2_resource_t which;
} resources[] = {
    {WHIRL_WASI2_CLI, "wasi:cli/terminal-input", "terminal-input", WHIRL_WASI2_TERMINAL_INPUT},
    {WHIRL_WASI2_CLI, "wasi:cli/terminal-output", "terminal-output",
     WHIRL_WASI2_TERMINAL_OUTPUT},
    {WHIRL_WASI2_SOCKETS, "wasi:sockets/types", "tcp-socket", WHIRL_WASI2_TCP_SOCKET},
    {WHIRL_WASI2_SOCKETS, "wasi:sockets/types", "udp-socket", WHIRL_WASI2_UDP_SOCKET},
    /* The same descriptors as 0.2's: one table, one sandbox. */
    {WHIRL_WASI2_FILESYSTEM, "wasi:filesystem/types", "descriptor", WHIRL_WASI2_DESCRIPTOR},
};

/* The interfaces written for 0.3 (the other files of src/wasi3). */
static const struct {
    const w2_def_t *defs;
    const size_t *n;
} defs3[] = {
    {w3_cli_defs, &w3_cli_ndefs},
    {w3_clock_defs, &w3_clock_ndefs},
    {w3_tcp_defs, &w3_tcp_ndefs},
    {w3_udp_defs, &w3_udp_ndefs},
    {w3_fs_defs, &w3_fs_ndefs},
};

static const w2_def_t *find_def2(const char *iface, const char *name)
{
    for (size_t i = 0; i < w2_cli_ndefs; i++)
        if (strcmp(w2_cli_defs[i].iface, iface) == 0 && strcmp(w2_cli_defs[i].name, name) == 0)
            return &w2_cli_defs[i];
    return NULL;
}

static whirl_error_t *define(whirl_component_linker_t *linker, whirl_wasi2_host_t *h,
                             const char *version, const char *iface, const char *name,
                             const w2_def_t *d)
{
    char at[128];
    snprintf(at, sizeof at, "%s@%s", iface, version);
    return w2_define_func(linker, h, at, name, d);
}

/* Everything of `groups` at one version. */
static whirl_error_t *add_version(whirl_component_linker_t *linker, whirl_wasi2_host_t *h,
                                  uint32_t groups, const char *version)
{
    whirl_error_t *e = NULL;
    char at[128];
    for (size_t i = 0; i < sizeof resources / sizeof *resources && !e; i++) {
        if (!(groups & resources[i].group))
            continue;
        snprintf(at, sizeof at, "%s@%s", resources[i].iface, version);
        e = whirl_component_linker_define_resource(
            linker, at, resources[i].name, whirl_wasi2_host_resource_type(h, resources[i].which));
    }
    for (size_t i = 0; i < sizeof same_shape / sizeof *same_shape && !e; i++) {
        const w2_def_t *d = find_def2(same_shape[i].iface, same_shape[i].name2);
        if (!d)
            return whirl_error_newf("internal error: WASI 0.2 has no `%s#%s`",
                                    same_shape[i].iface, same_shape[i].name2);
        if (groups & d->group)
            e = define(linker, h, version, d->iface, same_shape[i].name3, d);
    }
    for (size_t t = 0; t < sizeof defs3 / sizeof *defs3 && !e; t++)
        for (size_t i = 0; i < *defs3[t].n && !e; i++)
            if (groups & defs3[t].defs[i].group)
                e = define(linker, h, version, defs3[t].defs[i].iface, defs3[t].defs[i].name,
                           &defs3[t].defs[i]);
    return e;
}

whirl_error_t *w3_add_to_linker(whirl_component_linker_t *linker, whirl_wasi2_host_t *h,
                                uint32_t groups)
{
    whirl_error_t *e = NULL;
    for (size_t v = 0; v < w3_nversions && !e; v++)
        e = add_version(linker, h, groups, w3_versions[v]);
    return e;
}
