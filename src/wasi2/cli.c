/* wasi:cli (environment, exit, standard streams, terminals), wasi:clocks
 * and wasi:random. */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "wasi2/internal.h"

enum { W2_MAX_RANDOM = 16u << 20 }; /* bytes of one get-random-bytes call */

/* ------------------------------------------------------------------ */
/* wasi:cli/environment                                                */
/* ------------------------------------------------------------------ */

static whirl_error_t *get_environment(w2_call_t *c)
{
    whirl_wasi2_t *w = c->w;
    whirl_error_t *e = whirl_cval_set_items(c->res, WHIRL_CVAL_LIST, w->envc);
    for (size_t i = 0; i < w->envc && !e; i++) {
        whirl_cval_t *t = &c->res->of.list.items[i];
        const char *kv = w->envp[i], *eq = strchr(kv, '=');
        if (!(e = whirl_cval_set_items(t, WHIRL_CVAL_TUPLE, 2)) &&
            !(e = whirl_cval_set_string(&t->of.list.items[0], kv, (size_t)(eq - kv))))
            e = whirl_cval_set_string(&t->of.list.items[1], eq + 1, strlen(eq + 1));
    }
    return e;
}

static whirl_error_t *get_arguments(w2_call_t *c)
{
    whirl_wasi2_t *w = c->w;
    whirl_error_t *e = whirl_cval_set_items(c->res, WHIRL_CVAL_LIST, w->argc);
    for (size_t i = 0; i < w->argc && !e; i++)
        e = whirl_cval_set_string(&c->res->of.list.items[i], w->argv[i], strlen(w->argv[i]));
    return e;
}

static whirl_error_t *initial_cwd(w2_call_t *c)
{
    return whirl_cval_set_case(c->res, WHIRL_CVAL_OPTION, 0, false);
}

/* ------------------------------------------------------------------ */
/* wasi:cli/exit                                                       */
/* ------------------------------------------------------------------ */

static whirl_error_t *exit_status(w2_call_t *c)
{
    if (c->args[0].kind != WHIRL_CVAL_RESULT)
        return w2_trap(c, "parameter 0 is not a result");
    return whirl_error_new_exit(c->args[0].of.variant.index == 0 ? 0 : 1);
}

static whirl_error_t *exit_with_code(w2_call_t *c)
{
    uint64_t code;
    whirl_error_t *e = w2_arg_uint(c, 0, WHIRL_CVAL_U8, &code);
    return e ? e : whirl_error_new_exit((int)code);
}

/* ------------------------------------------------------------------ */
/* Standard streams and terminals                                      */
/* ------------------------------------------------------------------ */

static whirl_error_t *get_stdio(w2_call_t *c, int fd)
{
    uint32_t rep;
    whirl_error_t *e = w2_fd_stream(c->w, fd == 0 ? W2_INPUT : W2_OUTPUT, c->w->stdio[fd], false,
                                    false, 0, false, &rep);
    if (!e)
        w2_set_own(c, c->res,
                   fd == 0 ? WHIRL_WASI2_INPUT_STREAM : WHIRL_WASI2_OUTPUT_STREAM, rep);
    return e;
}

static whirl_error_t *get_stdin(w2_call_t *c) { return get_stdio(c, 0); }
static whirl_error_t *get_stdout(w2_call_t *c) { return get_stdio(c, 1); }
static whirl_error_t *get_stderr(w2_call_t *c) { return get_stdio(c, 2); }

/* option<own<terminal-*>>: some only when the stream is a terminal. */
static whirl_error_t *get_terminal(w2_call_t *c, int fd)
{
    int host = c->w->stdio[fd];
    if (host < 0 || !isatty(host))
        return whirl_cval_set_case(c->res, WHIRL_CVAL_OPTION, 0, false);
    w2_obj_t o = {.kind = fd == 0 ? W2_TERM_IN : W2_TERM_OUT};
    uint32_t rep;
    whirl_error_t *e = w2_obj_add(c->w, &o, &rep);
    if (!e && !(e = whirl_cval_set_case(c->res, WHIRL_CVAL_OPTION, 1, true)))
        w2_set_own(c, c->res->of.variant.payload,
                   fd == 0 ? WHIRL_WASI2_TERMINAL_INPUT : WHIRL_WASI2_TERMINAL_OUTPUT, rep);
    return e;
}

static whirl_error_t *get_terminal_stdin(w2_call_t *c) { return get_terminal(c, 0); }
static whirl_error_t *get_terminal_stdout(w2_call_t *c) { return get_terminal(c, 1); }
static whirl_error_t *get_terminal_stderr(w2_call_t *c) { return get_terminal(c, 2); }

/* ------------------------------------------------------------------ */
/* wasi:clocks                                                         */
/* ------------------------------------------------------------------ */

static uint64_t res_ns(clockid_t id)
{
    struct timespec ts;
    if (clock_getres(id, &ts) != 0 || ts.tv_sec < 0)
        return 1;
    uint64_t ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    return ns ? ns : 1;
}

static whirl_error_t *mono_now(w2_call_t *c)
{
    w2_set_uint(c->res, WHIRL_CVAL_U64, whirl_monotonic_now());
    return NULL;
}

static whirl_error_t *mono_resolution(w2_call_t *c)
{
    w2_set_uint(c->res, WHIRL_CVAL_U64, res_ns(CLOCK_MONOTONIC));
    return NULL;
}

static whirl_error_t *subscribe_at(w2_call_t *c, uint64_t when)
{
    uint32_t rep;
    whirl_error_t *e = whirl_wasi2_pollable_deadline(c->w, when, &rep);
    if (!e)
        w2_set_own(c, c->res, WHIRL_WASI2_POLLABLE, rep);
    return e;
}

static whirl_error_t *subscribe_instant(w2_call_t *c)
{
    uint64_t when;
    whirl_error_t *e = w2_arg_uint(c, 0, WHIRL_CVAL_U64, &when);
    return e ? e : subscribe_at(c, when);
}

static whirl_error_t *subscribe_duration(w2_call_t *c)
{
    uint64_t d;
    whirl_error_t *e = w2_arg_uint(c, 0, WHIRL_CVAL_U64, &d);
    if (e)
        return e;
    uint64_t now = whirl_monotonic_now();
    return subscribe_at(c, d > UINT64_MAX - now ? UINT64_MAX : now + d);
}

static whirl_error_t *wall_now(w2_call_t *c)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return w2_set_datetime(c->res, ts.tv_sec, ts.tv_nsec);
}

static whirl_error_t *wall_resolution(w2_call_t *c)
{
    uint64_t ns = res_ns(CLOCK_REALTIME);
    return w2_set_datetime(c->res, (int64_t)(ns / 1000000000u), (long)(ns % 1000000000u));
}

/* The host's time zone is none of the guest's business: it lives in UTC. */
static whirl_error_t *tz_display(w2_call_t *c)
{
    whirl_error_t *e = whirl_cval_set_items(c->res, WHIRL_CVAL_RECORD, 3);
    if (e)
        return e;
    whirl_cval_t *f = c->res->of.list.items;
    f[0].kind = WHIRL_CVAL_S32;
    f[0].of.s = 0;
    w2_set_bool(&f[2], false);
    return whirl_cval_set_string(&f[1], "UTC", 3);
}

static whirl_error_t *tz_utc_offset(w2_call_t *c)
{
    whirl_cval_release(c->res);
    c->res->kind = WHIRL_CVAL_S32;
    c->res->of.s = 0;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* wasi:random                                                         */
/* ------------------------------------------------------------------ */

static void fill_random(uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            abort(); /* the kernel's generator cannot fail once initialised */
        }
        p += r;
        n -= (size_t)r;
    }
}

static whirl_error_t *random_bytes(w2_call_t *c)
{
    uint64_t len;
    whirl_error_t *e = w2_arg_uint(c, 0, WHIRL_CVAL_U64, &len);
    if (e)
        return e;
    if (len > W2_MAX_RANDOM)
        return w2_trap(c, "%llu random bytes requested (at most %u at once)",
                       (unsigned long long)len, W2_MAX_RANDOM);
    uint8_t *buf = malloc(len ? (size_t)len : 1);
    if (!buf)
        return w2_oom();
    fill_random(buf, (size_t)len);
    whirl_cval_release(c->res);
    c->res->kind = WHIRL_CVAL_BYTES;
    c->res->of.string.data = (char *)buf;
    c->res->of.string.len = (size_t)len;
    return NULL;
}

static whirl_error_t *random_u64(w2_call_t *c)
{
    uint64_t x;
    fill_random((uint8_t *)&x, sizeof x);
    w2_set_uint(c->res, WHIRL_CVAL_U64, x);
    return NULL;
}

static whirl_error_t *insecure_seed(w2_call_t *c)
{
    uint64_t *x = c->w->seed;
    if (!c->w->have_seed) {
        fill_random((uint8_t *)x, sizeof c->w->seed);
        c->w->have_seed = true;
    }
    whirl_error_t *e = whirl_cval_set_items(c->res, WHIRL_CVAL_TUPLE, 2);
    if (!e) {
        w2_set_uint(&c->res->of.list.items[0], WHIRL_CVAL_U64, x[0]);
        w2_set_uint(&c->res->of.list.items[1], WHIRL_CVAL_U64, x[1]);
    }
    return e;
}

/* ------------------------------------------------------------------ */

#define CLI(iface, name, fn, na, nr) {WHIRL_WASI2_CLI, iface, name, fn, na, nr}
#define CLK(iface, name, fn, na, nr) {WHIRL_WASI2_CLOCKS, iface, name, fn, na, nr}
#define RND(iface, name, fn, na, nr) {WHIRL_WASI2_RANDOM, iface, name, fn, na, nr}
const w2_def_t w2_cli_defs[] = {
    CLI("wasi:cli/environment", "get-environment", get_environment, 0, 1),
    CLI("wasi:cli/environment", "get-arguments", get_arguments, 0, 1),
    CLI("wasi:cli/environment", "initial-cwd", initial_cwd, 0, 1),
    CLI("wasi:cli/exit", "exit", exit_status, 1, 0),
    CLI("wasi:cli/exit", "exit-with-code", exit_with_code, 1, 0),
    CLI("wasi:cli/stdin", "get-stdin", get_stdin, 0, 1),
    CLI("wasi:cli/stdout", "get-stdout", get_stdout, 0, 1),
    CLI("wasi:cli/stderr", "get-stderr", get_stderr, 0, 1),
    CLI("wasi:cli/terminal-stdin", "get-terminal-stdin", get_terminal_stdin, 0, 1),
    CLI("wasi:cli/terminal-stdout", "get-terminal-stdout", get_terminal_stdout, 0, 1),
    CLI("wasi:cli/terminal-stderr", "get-terminal-stderr", get_terminal_stderr, 0, 1),
    CLK("wasi:clocks/monotonic-clock", "now", mono_now, 0, 1),
    CLK("wasi:clocks/monotonic-clock", "resolution", mono_resolution, 0, 1),
    CLK("wasi:clocks/monotonic-clock", "subscribe-instant", subscribe_instant, 1, 1),
    CLK("wasi:clocks/monotonic-clock", "subscribe-duration", subscribe_duration, 1, 1),
    CLK("wasi:clocks/wall-clock", "now", wall_now, 0, 1),
    CLK("wasi:clocks/wall-clock", "resolution", wall_resolution, 0, 1),
    CLK("wasi:clocks/timezone", "display", tz_display, 1, 1),
    CLK("wasi:clocks/timezone", "utc-offset", tz_utc_offset, 1, 1),
    RND("wasi:random/random", "get-random-bytes", random_bytes, 1, 1),
    RND("wasi:random/random", "get-random-u64", random_u64, 0, 1),
    RND("wasi:random/insecure", "get-insecure-random-bytes", random_bytes, 1, 1),
    RND("wasi:random/insecure", "get-insecure-random-u64", random_u64, 0, 1),
    RND("wasi:random/insecure-seed", "insecure-seed", insecure_seed, 0, 1),
};
const size_t w2_cli_ndefs = sizeof w2_cli_defs / sizeof *w2_cli_defs;
