/*
 * fuzz-wasi: the WASI preview-1 host (src/wasi) under fuzzed calls.
 *
 * A guest module built at start-up imports every preview-1 function and
 * exports a wasm trampoline for each (host functions need a calling instance
 * with a "memory" export). The input is a program for that guest: a stream of
 * operations, each either "write these bytes into guest memory at this
 * offset" or "call WASI function F" with arguments drawn from the input by
 * the role of each parameter: descriptors (mostly small), paths (strings
 * written into memory), iovec arrays, buffers, out-pointers, flags and
 * 64-bit values. Pointers and lengths are sometimes replaced by arbitrary
 * ones, to hit the bounds checks.
 *
 * The guest sees two pre-opened directories in a scratch tree:
 *
 *   BASE/box      fd 3, read-write; rebuilt before every input with files,
 *                 a subdirectory and symlinks that point outside (relative,
 *                 absolute, through a parent) and inside
 *   BASE/ro       fd 4, WHIRL_WASI_DIR_READONLY
 *   BASE/outside  not pre-opened; holds a file with a secret token
 *
 * Besides sanitizer findings, an input fails (abort) when: a WASI call
 * returns an errno outside preview 1's range or traps (other than proc_exit
 * and the epoch deadline); the secret shows up in guest memory (a read
 * escaped the sandbox: the secret is random per process and searched for
 * without memmem/memcmp, whose libFuzzer hooks would teach it to the
 * fuzzer); anything under ro/
 * or outside/ changed; or descriptors into the scratch tree are left open
 * after the context is deleted.
 *
 * Harness-side normalisation, so that an input cannot make the fuzzer sleep
 * or fill the disk: clock subscriptions passed to poll_oneoff are made
 * relative and at most 1 ms, and fd_allocate is limited to 1 MiB.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "whirl.h"
#include "whirl/wasi.h"

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "fuzz-wasi: %s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                           \
            abort();                                                                  \
        }                                                                             \
    } while (0)

#define MAX_OPS 48
#define MEM_SIZE 65536u
#define SECRET_LEN 32

/* Guest memory layout the harness uses for the arguments it builds. */
enum {
    AREA_PATH1 = 0x1000,
    AREA_PATH2 = 0x1400,
    AREA_IOVS = 0x2000,
    AREA_SUBS = 0x3000,
    AREA_EVENTS = 0x3400,
    AREA_BUF = 0x4000,  /* to 0x7fff */
    AREA_OUT = 0x8000,
};

/* Parameter roles: f descriptor, i i32, L i64, o out-pointer, p+l path,
 * b+z buffer, v+n iovecs, s+e+n poll subscriptions/events/count. */
typedef struct wasi_fn {
    const char *name;
    const char *roles;
    bool no_result; /* proc_exit */
} wasi_fn_t;

static const wasi_fn_t fns[] = {
    {"args_get", "oo", false},
    {"args_sizes_get", "oo", false},
    {"environ_get", "oo", false},
    {"environ_sizes_get", "oo", false},
    {"clock_res_get", "io", false},
    {"clock_time_get", "iLo", false},
    {"fd_advise", "fLLi", false},
    {"fd_allocate", "fLL", false},
    {"fd_close", "f", false},
    {"fd_datasync", "f", false},
    {"fd_fdstat_get", "fo", false},
    {"fd_fdstat_set_flags", "fi", false},
    {"fd_fdstat_set_rights", "fLL", false},
    {"fd_filestat_get", "fo", false},
    {"fd_filestat_set_size", "fL", false},
    {"fd_filestat_set_times", "fLLi", false},
    {"fd_pread", "fvnLo", false},
    {"fd_prestat_get", "fo", false},
    {"fd_prestat_dir_name", "fbz", false},
    {"fd_pwrite", "fvnLo", false},
    {"fd_read", "fvno", false},
    {"fd_readdir", "fbzLo", false},
    {"fd_renumber", "ff", false},
    {"fd_seek", "fLio", false},
    {"fd_sync", "f", false},
    {"fd_tell", "fo", false},
    {"fd_write", "fvno", false},
    {"path_create_directory", "fpl", false},
    {"path_filestat_get", "fiplo", false},
    {"path_filestat_set_times", "fiplLLi", false},
    {"path_link", "fiplfpl", false},
    {"path_open", "fipliLLio", false},
    {"path_readlink", "fplbzo", false},
    {"path_remove_directory", "fpl", false},
    {"path_rename", "fplfpl", false},
    {"path_symlink", "plfpl", false},
    {"path_unlink_file", "fpl", false},
    {"poll_oneoff", "seno", false},
    {"proc_exit", "i", true},
    {"proc_raise", "i", false},
    {"sched_yield", "", false},
    {"random_get", "bz", false},
    {"sock_accept", "fio", false},
    {"sock_recv", "fvnioo", false},
    {"sock_send", "fvnio", false},
    {"sock_shutdown", "fi", false},
};
#define NFNS (sizeof fns / sizeof fns[0])

/* ------------------------------------------------------------------ */
/* The guest module, encoded by hand                                   */
/* ------------------------------------------------------------------ */

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf_t;

static void put(buf_t *b, const void *data, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        CHECK(b->p != NULL);
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void put_u8(buf_t *b, uint8_t v) { put(b, &v, 1); }

static void put_leb(buf_t *b, uint32_t v)
{
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        put_u8(b, byte | (v ? 0x80 : 0));
    } while (v);
}

static void put_name(buf_t *b, const char *s)
{
    put_leb(b, (uint32_t)strlen(s));
    put(b, s, strlen(s));
}

static void put_section(buf_t *mod, uint8_t id, buf_t *sec)
{
    put_u8(mod, id);
    put_leb(mod, (uint32_t)sec->len);
    put(mod, sec->p, sec->len);
    sec->len = 0;
}

static uint8_t *build_module(size_t *len)
{
    buf_t mod = {0}, sec = {0};
    put(&mod, "\0asm\1\0\0\0", 8);

    put_leb(&sec, NFNS); /* types: one per function */
    for (size_t i = 0; i < NFNS; i++) {
        put_u8(&sec, 0x60);
        put_leb(&sec, (uint32_t)strlen(fns[i].roles));
        for (const char *r = fns[i].roles; *r; r++)
            put_u8(&sec, *r == 'L' ? 0x7e : 0x7f);
        put_leb(&sec, fns[i].no_result ? 0 : 1);
        if (!fns[i].no_result)
            put_u8(&sec, 0x7f);
    }
    put_section(&mod, 1, &sec);

    put_leb(&sec, NFNS);
    for (size_t i = 0; i < NFNS; i++) {
        put_name(&sec, "wasi_snapshot_preview1");
        put_name(&sec, fns[i].name);
        put_u8(&sec, 0x00);
        put_leb(&sec, (uint32_t)i);
    }
    put_section(&mod, 2, &sec);

    put_leb(&sec, NFNS);
    for (size_t i = 0; i < NFNS; i++)
        put_leb(&sec, (uint32_t)i);
    put_section(&mod, 3, &sec);

    put_leb(&sec, 1); /* memory 1..1 page: the bounds never move */
    put_u8(&sec, 0x01);
    put_leb(&sec, 1);
    put_leb(&sec, 1);
    put_section(&mod, 5, &sec);

    put_leb(&sec, NFNS + 1);
    put_name(&sec, "memory");
    put_u8(&sec, 0x02);
    put_leb(&sec, 0);
    for (size_t i = 0; i < NFNS; i++) {
        put_name(&sec, fns[i].name);
        put_u8(&sec, 0x00);
        put_leb(&sec, (uint32_t)(NFNS + i));
    }
    put_section(&mod, 7, &sec);

    put_leb(&sec, NFNS);
    for (size_t i = 0; i < NFNS; i++) {
        buf_t body = {0};
        put_leb(&body, 0); /* no locals */
        uint32_t nparams = (uint32_t)strlen(fns[i].roles);
        for (uint32_t k = 0; k < nparams; k++) {
            put_u8(&body, 0x20); /* local.get k */
            put_leb(&body, k);
        }
        put_u8(&body, 0x10); /* call i */
        put_leb(&body, (uint32_t)i);
        put_u8(&body, 0x0b);
        put_leb(&sec, (uint32_t)body.len);
        put(&sec, body.p, body.len);
        free(body.p);
    }
    put_section(&mod, 10, &sec);
    free(sec.p);
    *len = mod.len;
    return mod.p;
}

/* ------------------------------------------------------------------ */
/* The scratch tree                                                    */
/* ------------------------------------------------------------------ */

static char base[256], box_dir[300], ro_dir[300], outside_dir[300];
static whirl_engine_t *engine;
static whirl_module_t *guest;
static uint64_t ro_print, outside_print;
static char secret[SECRET_LEN + 1];

/* Whether the secret is in mem[0, n), by plain loops (see above). */
static bool holds_secret(const uint8_t *mem, size_t n)
{
    for (size_t i = 0; i + SECRET_LEN <= n; i++) {
        if (mem[i] != (uint8_t)secret[0])
            continue;
        size_t k = 1;
        while (k < SECRET_LEN && mem[i + k] == (uint8_t)secret[k])
            k++;
        if (k == SECRET_LEN)
            return true;
    }
    return false;
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
}

static void make_link(const char *target, const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    CHECK(symlink(target, path) == 0);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    /* A guest may have removed permissions; give them back first. */
    if (flag == FTW_DP || flag == FTW_D)
        chmod(path, 0700);
    remove(path);
    return 0;
}

static void rm_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void build_box(void)
{
    rm_tree(box_dir);
    CHECK(mkdir(box_dir, 0755) == 0);
    write_file(box_dir, "file.txt", "hello from the box\n");
    char sub[512], abs_secret[512];
    snprintf(sub, sizeof sub, "%s/dir", box_dir);
    CHECK(mkdir(sub, 0755) == 0);
    write_file(sub, "nested.txt", "nested\n");
    make_link("../outside/secret.txt", box_dir, "link-out");
    snprintf(abs_secret, sizeof abs_secret, "%s/secret.txt", outside_dir);
    make_link(abs_secret, box_dir, "link-abs");
    make_link("../../outside", sub, "link-up");
    make_link("file.txt", box_dir, "link-in");
    make_link("loop", box_dir, "loop");
    make_link("/etc", box_dir, "link-etc");
    make_link("../ro/ro.txt", box_dir, "link-ro");
}

/* A fingerprint of everything under `dir` that a change would alter: names,
 * types, sizes, link counts, modes, modification times. */
static uint64_t print_acc;
static int print_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    const char *name = path + ftw->base;
    uint64_t h = print_acc ^ 0x9e3779b97f4a7c15u;
    for (const char *c = name; *c; c++)
        h = (h ^ (uint8_t)*c) * 0x100000001b3u;
    uint64_t fields[6] = {(uint64_t)st->st_mode, (uint64_t)st->st_size, (uint64_t)st->st_nlink,
                          (uint64_t)st->st_mtim.tv_sec, (uint64_t)st->st_mtim.tv_nsec,
                          (uint64_t)ftw->level};
    for (int i = 0; i < 6; i++)
        h = (h ^ fields[i]) * 0x100000001b3u;
    print_acc += h; /* order-independent */
    return 0;
}

static uint64_t fingerprint(const char *dir)
{
    print_acc = 0;
    CHECK(nftw(dir, print_entry, 16, FTW_PHYS) == 0);
    return print_acc;
}

/* Descriptors that refer to something in the scratch tree. Once the WASI
 * context is deleted there must be none (other descriptors, such as a
 * cached /dev/urandom or libFuzzer's own, are not the guest's). With
 * `print`, lists them. */
static int sandbox_fds(bool print)
{
    DIR *d = opendir("/proc/self/fd");
    CHECK(d != NULL);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        char path[300], target[512];
        snprintf(path, sizeof path, "/proc/self/fd/%s", de->d_name);
        ssize_t len = readlink(path, target, sizeof target - 1);
        if (len <= 0)
            continue;
        target[len] = 0;
        if (strncmp(target, base, strlen(base)) == 0) {
            n++;
            if (print)
                fprintf(stderr, "  fd %s -> %s\n", de->d_name, target);
        }
    }
    closedir(d);
    return n;
}

static void cleanup(void)
{
    whirl_module_delete(guest);
    whirl_engine_delete(engine);
    rm_tree(base);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(base, sizeof base, "%s/whirl-fuzz-wasi.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    CHECK(mkdtemp(base) != NULL);
    snprintf(box_dir, sizeof box_dir, "%s/box", base);
    snprintf(ro_dir, sizeof ro_dir, "%s/ro", base);
    snprintf(outside_dir, sizeof outside_dir, "%s/outside", base);
    CHECK(mkdir(ro_dir, 0755) == 0 && mkdir(outside_dir, 0755) == 0);
    write_file(ro_dir, "ro.txt", "read only\n");
    char sub[512];
    snprintf(sub, sizeof sub, "%s/sub", ro_dir);
    CHECK(mkdir(sub, 0755) == 0);
    write_file(sub, "deep.txt", "deep\n");
    make_link("../outside/secret.txt", ro_dir, "link-out");
    FILE *rnd = fopen("/dev/urandom", "rb");
    CHECK(rnd != NULL);
    for (int i = 0; i < SECRET_LEN; i++)
        secret[i] = "0123456789abcdef"[fgetc(rnd) & 15];
    fclose(rnd);
    write_file(outside_dir, "secret.txt", secret);
    build_box();
    ro_print = fingerprint(ro_dir);
    outside_print = fingerprint(outside_dir);

    whirl_config_t *config = whirl_config_new();
    whirl_config_use_env(config, false);
    whirl_error_t *err = whirl_engine_new(config, &engine);
    CHECK(err == NULL);
    size_t len;
    uint8_t *wasm = build_module(&len);
    err = whirl_module_new(engine, wasm, len, &guest);
    if (err) {
        fprintf(stderr, "fuzz-wasi: guest module: %s\n", fz_errmsg(err));
        abort();
    }
    free(wasm);
    atexit(cleanup);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Reading the input                                                   */
/* ------------------------------------------------------------------ */

typedef struct input {
    const uint8_t *p;
    size_t n;
} input_t;

static uint8_t in_u8(input_t *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static uint16_t in_u16(input_t *in) { return (uint16_t)(in_u8(in) | in_u8(in) << 8); }
static uint32_t in_u32(input_t *in) { return in_u16(in) | (uint32_t)in_u16(in) << 16; }
static uint64_t in_u64(input_t *in) { return in_u32(in) | (uint64_t)in_u32(in) << 32; }

/* Copies up to `len` input bytes to dst; the rest is zero. */
static void in_bytes(input_t *in, uint8_t *dst, size_t len)
{
    size_t k = len < in->n ? len : in->n;
    memcpy(dst, in->p, k);
    memset(dst + k, 0, len - k);
    in->p += k;
    in->n -= k;
}

/* A pointer/length pair: usually the harness's own, sometimes arbitrary. */
static void maybe_corrupt(input_t *in, uint32_t *ptr, uint32_t *len)
{
    uint8_t sel = in_u8(in);
    if (sel < 232)
        return;
    switch (sel & 7) {
    case 0: *ptr = in_u32(in); break;
    case 1: *len = in_u32(in); break;
    case 2: *ptr = MEM_SIZE - (in_u8(in) & 15); break;
    case 3: *ptr = UINT32_MAX - (in_u8(in) & 15); break;
    case 4: *len = UINT32_MAX - (in_u8(in) & 15); break;
    default: *ptr = in_u32(in), *len = in_u32(in); break;
    }
}

static uint32_t out_ptr(input_t *in)
{
    uint8_t sel = in_u8(in);
    if (sel < 200)
        return AREA_OUT + (sel % 64) * 8;
    if (sel < 230)
        return in_u16(in);
    if (sel < 245)
        return MEM_SIZE - (in_u8(in) & 15);
    return in_u32(in);
}

static int32_t small_or_any(input_t *in)
{
    uint8_t sel = in_u8(in);
    return sel < 160 ? sel % 16 : (int32_t)in_u32(in);
}

static int64_t i64_arg(input_t *in)
{
    uint8_t sel = in_u8(in);
    switch (sel % 5) {
    case 0: return sel >> 3;
    case 1: return in_u16(in);
    case 2: return (int64_t)in_u64(in);
    case 3: return -1;
    default: return INT64_MAX - (sel >> 3);
    }
}

/* ------------------------------------------------------------------ */
/* Running one input                                                   */
/* ------------------------------------------------------------------ */

typedef struct guest_ctx {
    whirl_store_t *store;
    whirl_instance_t *inst;
    uint8_t *mem;
} guest_ctx_t;

/* Clock subscriptions: relative, at most 1 ms. */
static void tame_subscriptions(uint8_t *mem, uint32_t ptr, uint32_t n)
{
    for (uint64_t k = 0; k < n && k < 4096; k++) {
        uint64_t at = (uint64_t)ptr + k * 48;
        if (at + 48 > MEM_SIZE)
            return;
        uint8_t *s = mem + at;
        if (s[8] != 0)
            continue;
        uint64_t timeout;
        memcpy(&timeout, s + 24, 8);
        timeout %= 1000000;
        memcpy(s + 24, &timeout, 8);
        s[40] &= (uint8_t)~1u; /* not absolute */
    }
}

/* Fills args[] for fns[f] from the input. */
static void make_args(input_t *in, guest_ctx_t *g, size_t f, whirl_val_t *args)
{
    const char *roles = fns[f].roles;
    int paths = 0;
    for (size_t k = 0; roles[k]; k++) {
        whirl_val_t *a = &args[k];
        a->kind = roles[k] == 'L' ? WHIRL_I64 : WHIRL_I32;
        switch (roles[k]) {
        case 'f': {
            uint8_t sel = in_u8(in);
            a->of.i32 = sel < 220 ? sel % 10 : (int32_t)in_u32(in);
            break;
        }
        case 'i': a->of.i32 = small_or_any(in); break;
        case 'L': a->of.i64 = i64_arg(in); break;
        case 'o': a->of.i32 = (int32_t)out_ptr(in); break;
        case 'p': {
            uint32_t at = paths++ ? AREA_PATH2 : AREA_PATH1;
            uint32_t len = in_u8(in) % 64;
            in_bytes(in, g->mem + at, len);
            maybe_corrupt(in, &at, &len);
            a->of.i32 = (int32_t)at;
            args[k + 1] = (whirl_val_t){.kind = WHIRL_I32, .of.i32 = (int32_t)len};
            k++;
            break;
        }
        case 'b': {
            uint32_t at = AREA_BUF + in_u16(in) % 0x3000;
            uint32_t len = in_u16(in) % 0x1000;
            maybe_corrupt(in, &at, &len);
            a->of.i32 = (int32_t)at;
            args[k + 1] = (whirl_val_t){.kind = WHIRL_I32, .of.i32 = (int32_t)len};
            k++;
            break;
        }
        case 'v': {
            uint32_t n = in_u8(in) % 5, at = AREA_IOVS;
            for (uint32_t i = 0; i < n; i++) {
                uint32_t iov[2] = {AREA_BUF + in_u16(in) % 0x3000, in_u16(in) % 0x800};
                maybe_corrupt(in, &iov[0], &iov[1]);
                memcpy(g->mem + at + 8 * i, iov, 8);
            }
            maybe_corrupt(in, &at, &n);
            a->of.i32 = (int32_t)at;
            args[k + 1] = (whirl_val_t){.kind = WHIRL_I32, .of.i32 = (int32_t)n};
            k++;
            break;
        }
        case 's': {
            uint32_t n = in_u8(in) % 4, subs = AREA_SUBS, events = AREA_EVENTS;
            in_bytes(in, g->mem + subs, 48 * n);
            maybe_corrupt(in, &subs, &n);
            maybe_corrupt(in, &events, &n);
            tame_subscriptions(g->mem, subs, n);
            a->of.i32 = (int32_t)subs;
            args[k + 1] = (whirl_val_t){.kind = WHIRL_I32, .of.i32 = (int32_t)events};
            args[k + 2] = (whirl_val_t){.kind = WHIRL_I32, .of.i32 = (int32_t)n};
            k += 2;
            break;
        }
        default: a->of.i32 = 0; break;
        }
    }
    if (!strcmp(fns[f].name, "fd_allocate")) {
        args[1].of.i64 &= 0xfffff;
        args[2].of.i64 &= 0xfffff;
    }
}

/* Runs the input's operations; false once the guest has exited. */
static bool run_ops(input_t *in, guest_ctx_t *g)
{
    for (int op = 0; op < MAX_OPS && in->n; op++) {
        uint8_t sel = in_u8(in);
        if (sel >= 2 * NFNS) {
            /* Write input bytes into guest memory. */
            uint32_t at = in_u16(in), len = in_u8(in);
            if (at + len > MEM_SIZE)
                len = MEM_SIZE - at;
            in_bytes(in, g->mem + at, len);
            continue;
        }
        size_t f = sel % NFNS;
        whirl_val_t args[16], result;
        memset(args, 0, sizeof args);
        make_args(in, g, f, args);
        whirl_extern_t ext;
        CHECK(whirl_instance_export(g->inst, fns[f].name, strlen(fns[f].name), &ext));
        whirl_store_set_epoch_deadline(g->store, 200);
        whirl_error_t *err = whirl_func_call(g->store, ext.of.func, args, strlen(fns[f].roles),
                                             &result, fns[f].no_result ? 0 : 1);
        if (err) {
            whirl_trap_code_t code;
            bool interrupted = whirl_error_is_trap(err, &code) && code == WHIRL_TRAP_INTERRUPT;
            if (!whirl_error_exit_status(err, NULL) && !interrupted) {
                fprintf(stderr, "fuzz-wasi: %s trapped: %s\n", fns[f].name, fz_errmsg(err));
                abort();
            }
            whirl_error_delete(err);
            return false;
        }
        CHECK(!fns[f].no_result);
        if ((uint32_t)result.of.i32 > 76) {
            fprintf(stderr, "fuzz-wasi: %s returned errno %d, not a preview-1 errno\n",
                    fns[f].name, result.of.i32);
            abort();
        }
        if (holds_secret(g->mem, MEM_SIZE)) {
            fprintf(stderr, "fuzz-wasi: the secret outside the sandbox reached guest memory "
                            "(after %s)\n", fns[f].name);
            abort();
        }
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    build_box();
    whirl_wasi_config_t *wc = whirl_wasi_config_new();
    CHECK(wc != NULL);
    CHECK(!whirl_wasi_config_push_arg(wc, "fuzz"));
    CHECK(!whirl_wasi_config_push_arg(wc, "--arg"));
    CHECK(!whirl_wasi_config_push_env(wc, "HOME", "/box"));
    CHECK(!whirl_wasi_config_preopen_dir(wc, box_dir, "box", 0));
    CHECK(!whirl_wasi_config_preopen_dir(wc, ro_dir, "ro", WHIRL_WASI_DIR_READONLY));
    whirl_wasi_t *wasi = NULL;
    whirl_error_t *err = whirl_wasi_new(wc, &wasi);
    CHECK(err == NULL);

    whirl_linker_t *linker = whirl_linker_new(engine);
    CHECK(linker != NULL);
    err = whirl_linker_define_wasi(linker, wasi);
    CHECK(err == NULL);
    whirl_store_t *store = whirl_store_new(engine, NULL, NULL);
    CHECK(store != NULL);
    whirl_instance_t *inst = NULL;
    err = whirl_linker_instantiate(linker, store, guest, &inst);
    if (err) {
        fprintf(stderr, "fuzz-wasi: instantiate: %s\n", fz_errmsg(err));
        abort();
    }
    whirl_extern_t mem;
    CHECK(whirl_instance_export(inst, "memory", 6, &mem) && mem.kind == WHIRL_EXTERN_MEMORY);
    guest_ctx_t g = {store, inst, whirl_memory_data(mem.of.memory)};
    CHECK(whirl_memory_data_size(mem.of.memory) == MEM_SIZE);

    input_t in = {data, size};
    run_ops(&in, &g);

    whirl_store_delete(store);
    whirl_linker_delete(linker);
    whirl_wasi_delete(wasi);

    if (sandbox_fds(false)) {
        fprintf(stderr, "fuzz-wasi: descriptors into the sandbox left open after "
                        "whirl_wasi_delete:\n");
        sandbox_fds(true);
        abort();
    }
    if (fingerprint(ro_dir) != ro_print) {
        fprintf(stderr, "fuzz-wasi: the read-only pre-open was changed\n");
        abort();
    }
    if (fingerprint(outside_dir) != outside_print) {
        fprintf(stderr, "fuzz-wasi: a file outside the sandbox was changed\n");
        abort();
    }
    return 0;
}
