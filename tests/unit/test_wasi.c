/* Unit tests of the WASI host (src/wasi) through the public API: a module
 * built here imports all 46 wasi_snapshot_preview1 functions and exports a
 * wrapper for each, so that the tests can call them with any arguments:
 * malformed pointers and lengths, bad descriptors, huge counts, and a
 * random barrage. Every call must return a WASI errno, never crash (this
 * test also runs under ASan + UBSan). Also: the configuration API, sockets,
 * interruption, proc_exit, a module without memory, and the two path
 * resolvers of sandbox.c compared on a tree with links leading out. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "wasi/internal.h"
#include "whirl.h"
#include "whirl/wasi.h"

static int passed, failed;

#define CHECK(cond) \
    do { \
        if (cond) { \
            passed++; \
        } else { \
            failed++; \
            fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
        } \
    } while (0)

#define CHECK_EQ(got, want) \
    do { \
        long long g_ = (long long)(got), w_ = (long long)(want); \
        if (g_ == w_) { \
            passed++; \
        } else { \
            failed++; \
            fprintf(stderr, "%s:%d: FAILED: %s is %lld, expected %lld\n", __FILE__, __LINE__, \
                    #got, g_, w_); \
        } \
    } while (0)

/* ---- a module importing and re-exporting every WASI function ---- */

typedef struct fdef {
    const char *name;
    const char *params;
    int nresults;
} fdef_t;

#define FDEF(n, p, r, m) {#n, p, r},
static const fdef_t funcs[] = {WASI_FUNCS(FDEF)};
#undef FDEF
#define NFUNCS (sizeof funcs / sizeof funcs[0])

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf_t;

static void put(buf_t *b, const void *data, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}
static void byte(buf_t *b, uint8_t v) { put(b, &v, 1); }
static void leb(buf_t *b, uint32_t v)
{
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        byte(b, c | (v ? 0x80 : 0));
    } while (v);
}
static void str(buf_t *b, const char *s)
{
    leb(b, (uint32_t)strlen(s));
    put(b, s, strlen(s));
}
static void section(buf_t *m, uint8_t id, buf_t *s)
{
    byte(m, id);
    leb(m, (uint32_t)s->n);
    put(m, s->p, s->n);
    free(s->p);
    *s = (buf_t){0};
}

/* with_memory: export a 4-page memory as "memory". */
static buf_t build_module(bool with_memory)
{
    buf_t m = {0}, s = {0};
    put(&m, "\0asm\1\0\0\0", 8);
    leb(&s, NFUNCS); /* types: one per function */
    for (size_t i = 0; i < NFUNCS; i++) {
        byte(&s, 0x60);
        leb(&s, (uint32_t)strlen(funcs[i].params));
        for (const char *p = funcs[i].params; *p; p++)
            byte(&s, *p == 'I' ? 0x7e : 0x7f);
        leb(&s, (uint32_t)funcs[i].nresults);
        if (funcs[i].nresults)
            byte(&s, 0x7f);
    }
    section(&m, 1, &s);
    leb(&s, NFUNCS);
    for (size_t i = 0; i < NFUNCS; i++) {
        str(&s, "wasi_snapshot_preview1");
        str(&s, funcs[i].name);
        byte(&s, 0);
        leb(&s, (uint32_t)i);
    }
    section(&m, 2, &s);
    leb(&s, NFUNCS);
    for (size_t i = 0; i < NFUNCS; i++)
        leb(&s, (uint32_t)i);
    section(&m, 3, &s);
    if (with_memory) {
        leb(&s, 1);
        byte(&s, 0);
        leb(&s, 4);
        section(&m, 5, &s);
    }
    leb(&s, NFUNCS + (with_memory ? 1 : 0));
    if (with_memory) {
        str(&s, "memory");
        byte(&s, 2);
        leb(&s, 0);
    }
    for (size_t i = 0; i < NFUNCS; i++) {
        str(&s, funcs[i].name);
        byte(&s, 0);
        leb(&s, (uint32_t)(NFUNCS + i));
    }
    section(&m, 7, &s);
    leb(&s, NFUNCS);
    for (size_t i = 0; i < NFUNCS; i++) {
        buf_t body = {0};
        leb(&body, 0); /* no locals */
        size_t np = strlen(funcs[i].params);
        for (size_t k = 0; k < np; k++) {
            byte(&body, 0x20);
            leb(&body, (uint32_t)k);
        }
        byte(&body, 0x10);
        leb(&body, (uint32_t)i);
        byte(&body, 0x0b);
        leb(&s, (uint32_t)body.n);
        put(&s, body.p, body.n);
        free(body.p);
    }
    section(&m, 10, &s);
    return m;
}

/* ---- the test fixture ---- */

typedef struct fixture {
    whirl_engine_t *engine;
    whirl_module_t *module;
    whirl_store_t *store;
    whirl_linker_t *linker;
    whirl_wasi_t *wasi;
    whirl_instance_t *inst;
    uint8_t *mem;
    size_t mem_size;
    char dir[256];   /* read-write pre-open, fd 3 */
    char rodir[300]; /* read-only pre-open, fd 4 */
    int listener;    /* pre-opened listening socket, fd 5 */
    char sock_path[300];
} fixture_t;

static fixture_t F;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    chmod(path, 0700);
    return remove(path);
}

static void rm_rf(const char *path)
{
    nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS);
}

static whirl_func_t *fn(const char *name)
{
    whirl_extern_t ext;
    if (!whirl_instance_export(F.inst, name, strlen(name), &ext) || ext.kind != WHIRL_EXTERN_FUNC) {
        fprintf(stderr, "no export %s\n", name);
        abort();
    }
    return ext.of.func;
}

static const fdef_t *def_of(const char *name)
{
    for (size_t i = 0; i < NFUNCS; i++)
        if (strcmp(funcs[i].name, name) == 0)
            return &funcs[i];
    abort();
}

/* Calls WASI function `name` with up to 9 arguments (i64 where its type
 * says so); returns the errno, or -1 if the call returned an error (which
 * is freed; *err_out receives it instead if not NULL). */
static int call_err(const char *name, const uint64_t *a, whirl_error_t **err_out)
{
    const fdef_t *d = def_of(name);
    whirl_val_t args[16], res[1];
    size_t np = strlen(d->params);
    for (size_t i = 0; i < np; i++) {
        if (d->params[i] == 'I') {
            args[i].kind = WHIRL_I64;
            args[i].of.i64 = (int64_t)a[i];
        } else {
            args[i].kind = WHIRL_I32;
            args[i].of.i32 = (int32_t)(uint32_t)a[i];
        }
    }
    whirl_error_t *err = whirl_func_call(F.store, fn(name), args, np, res, (size_t)d->nresults);
    if (err) {
        if (err_out)
            *err_out = err;
        else
            whirl_error_delete(err);
        return -1;
    }
    return d->nresults ? res[0].of.i32 : 0;
}

#define CALL(name, ...) call_err(name, (const uint64_t[]){__VA_ARGS__, 0}, NULL)

/* Guest memory layout used by the tests. */
enum {
    A_OUT = 0x100,    /* result slots */
    A_IOV = 0x200,    /* iovecs */
    A_STR = 0x400,    /* strings */
    A_BUF = 0x1000,   /* data */
    A_SUBS = 0x4000,  /* poll subscriptions */
    A_EVS = 0x8000,   /* poll events */
};

static uint32_t gstr(uint32_t at, const char *s)
{
    memcpy(F.mem + at, s, strlen(s));
    return (uint32_t)strlen(s);
}
static uint32_t ld32_(uint32_t at) { uint32_t v; memcpy(&v, F.mem + at, 4); return v; }
static uint64_t ld64_(uint32_t at) { uint64_t v; memcpy(&v, F.mem + at, 8); return v; }
static void st32_(uint32_t at, uint32_t v) { memcpy(F.mem + at, &v, 4); }
static void st64_(uint32_t at, uint64_t v) { memcpy(F.mem + at, &v, 8); }

static bool setup(bool interrupted, uint32_t max_open_files)
{
    memset(&F, 0, sizeof F);
    snprintf(F.dir, sizeof F.dir, "/tmp/whirl-wasi-test-XXXXXX");
    if (!mkdtemp(F.dir))
        return false;
    snprintf(F.rodir, sizeof F.rodir, "%s/ro", F.dir);
    mkdir(F.rodir, 0755);
    char p[400];
    snprintf(p, sizeof p, "%s/ro/file", F.dir);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs("read only\n", f);
        fclose(f);
    }
    snprintf(F.sock_path, sizeof F.sock_path, "%s/sock", F.dir);
    F.listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%.100s", F.sock_path);
    if (F.listener < 0 || bind(F.listener, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(F.listener, 4) != 0)
        return false;

    whirl_wasi_config_t *cfg = whirl_wasi_config_new();
    CHECK(whirl_wasi_config_push_arg(cfg, "prog") == NULL);
    CHECK(whirl_wasi_config_push_arg(cfg, "arg one") == NULL);
    CHECK(whirl_wasi_config_push_env(cfg, "K", "v1") == NULL);
    CHECK(whirl_wasi_config_push_env(cfg, "K", "v2") == NULL); /* replaces */
    CHECK(whirl_wasi_config_push_env(cfg, "EMPTY", "") == NULL);
    CHECK(whirl_wasi_config_preopen_dir(cfg, F.dir, "/d", 0) == NULL);
    CHECK(whirl_wasi_config_preopen_dir(cfg, F.rodir, "/ro", WHIRL_WASI_DIR_READONLY) == NULL);
    CHECK(whirl_wasi_config_preopen_socket(cfg, F.listener) == NULL);
    CHECK(whirl_wasi_config_set_max_open_files(cfg, max_open_files) == NULL);
    whirl_error_t *err = whirl_wasi_new(cfg, &F.wasi);
    CHECK(err == NULL);
    if (err)
        return false;
    if (interrupted)
        whirl_wasi_interrupt(F.wasi);

    if (whirl_engine_new(NULL, &F.engine))
        return false;
    buf_t m = build_module(true);
    err = whirl_module_new(F.engine, m.p, m.n, &F.module);
    free(m.p);
    if (err) {
        fprintf(stderr, "module: %s\n", whirl_error_message(err));
        whirl_error_delete(err);
        return false;
    }
    F.store = whirl_store_new(F.engine, NULL, NULL);
    F.linker = whirl_linker_new(F.engine);
    CHECK(whirl_linker_define_wasi(F.linker, F.wasi) == NULL);
    err = whirl_linker_instantiate(F.linker, F.store, F.module, &F.inst);
    if (err) {
        fprintf(stderr, "instantiate: %s\n", whirl_error_message(err));
        whirl_error_delete(err);
        return false;
    }
    whirl_extern_t ext;
    if (!whirl_instance_export(F.inst, "memory", 6, &ext))
        return false;
    F.mem = whirl_memory_data(ext.of.memory);
    F.mem_size = whirl_memory_data_size(ext.of.memory);
    return true;
}

static void teardown(void)
{
    whirl_store_delete(F.store);
    whirl_linker_delete(F.linker);
    whirl_wasi_delete(F.wasi);
    whirl_module_delete(F.module);
    whirl_engine_delete(F.engine);
    if (F.listener >= 0)
        close(F.listener);
    rm_rf(F.dir);
}

/* ---- tests ---- */

static void test_config_errors(void)
{
    whirl_wasi_config_t *cfg = whirl_wasi_config_new();
    whirl_error_t *err;
    CHECK((err = whirl_wasi_config_push_env(cfg, "A=B", "x")) != NULL);
    whirl_error_delete(err);
    CHECK((err = whirl_wasi_config_push_env(cfg, "", "x")) != NULL);
    whirl_error_delete(err);
    err = whirl_wasi_config_preopen_dir(cfg, "/nonexistent/whirl-dir", NULL, 0);
    CHECK(err && strstr(whirl_error_message(err), "/nonexistent/whirl-dir"));
    whirl_error_delete(err);
    CHECK((err = whirl_wasi_config_preopen_dir(cfg, "/tmp", "g", 8)) != NULL);
    whirl_error_delete(err);
    CHECK((err = whirl_wasi_config_preopen_dir(cfg, "/tmp", "", 0)) != NULL);
    whirl_error_delete(err);
    CHECK((err = whirl_wasi_config_preopen_socket(cfg, 0 + 12345)) != NULL);
    whirl_error_delete(err);
    CHECK((err = whirl_wasi_config_set_stdio(cfg, 987, -1, -1)) != NULL);
    whirl_error_delete(err);
    CHECK((err = whirl_wasi_config_set_stdio(cfg, -1, -1, -1)) == NULL);
    CHECK(whirl_wasi_config_inherit_env(cfg) == NULL);
    whirl_wasi_t *w = NULL;
    CHECK(whirl_wasi_new(cfg, &w) == NULL && w);
    CHECK((err = whirl_linker_define_wasi(NULL, w)) != NULL);
    whirl_error_delete(err);
    whirl_engine_t *engine;
    CHECK(whirl_engine_new(NULL, &engine) == NULL);
    whirl_linker_t *linker = whirl_linker_new(engine);
    CHECK(whirl_linker_define_wasi(linker, w) == NULL);
    CHECK((err = whirl_linker_define_wasi(linker, w)) != NULL); /* defined twice */
    whirl_error_delete(err);
    whirl_linker_delete(linker);
    whirl_wasi_delete(w);
    whirl_engine_delete(engine);
    CHECK((err = whirl_wasi_new(NULL, &w)) != NULL);
    whirl_error_delete(err);
    whirl_wasi_delete(NULL);
    whirl_wasi_config_delete(NULL);
    whirl_wasi_interrupt(NULL);
}

static void test_args_env(void)
{
    CHECK_EQ(CALL("args_sizes_get", A_OUT, A_OUT + 4), 0);
    CHECK_EQ(ld32_(A_OUT), 2);
    CHECK_EQ(ld32_(A_OUT + 4), 5 + 8);
    CHECK_EQ(CALL("args_get", A_OUT, A_BUF), 0);
    CHECK(ld32_(A_OUT) == A_BUF && strcmp((char *)F.mem + A_BUF, "prog") == 0);
    CHECK(strcmp((char *)F.mem + ld32_(A_OUT + 4), "arg one") == 0);
    CHECK_EQ(CALL("environ_sizes_get", A_OUT, A_OUT + 4), 0);
    CHECK_EQ(ld32_(A_OUT), 2);
    CHECK_EQ(ld32_(A_OUT + 4), 5 + 7);
    CHECK_EQ(CALL("environ_get", A_OUT, A_BUF), 0);
    CHECK(strcmp((char *)F.mem + ld32_(A_OUT), "K=v2") == 0);
    CHECK(strcmp((char *)F.mem + ld32_(A_OUT + 4), "EMPTY=") == 0);
    uint64_t end = F.mem_size;
    CHECK_EQ(CALL("args_get", end - 4, A_BUF), WASI_EFAULT);
    CHECK_EQ(CALL("args_get", A_OUT, end - 12), WASI_EFAULT);
    CHECK_EQ(CALL("args_get", A_OUT, end - 13), 0);
    CHECK_EQ(CALL("environ_get", 0xffffffff, A_BUF), WASI_EFAULT);
    CHECK_EQ(CALL("args_sizes_get", A_OUT, end - 3), WASI_EFAULT);
}

static void test_malformed(void)
{
    uint64_t end = F.mem_size;
    /* iovecs */
    st32_(A_IOV, A_BUF);
    st32_(A_IOV + 4, 16);
    CHECK_EQ(CALL("fd_write", 1, A_IOV, 1, end), WASI_EFAULT);
    CHECK_EQ(CALL("fd_write", 1, end - 4, 1, A_OUT), WASI_EFAULT);
    CHECK_EQ(CALL("fd_write", 1, A_IOV, 0xffffffff, A_OUT), WASI_EFAULT);
    CHECK_EQ(CALL("fd_write", 1, A_IOV, 1, A_OUT), 0); /* stdout absent: swallowed */
    CHECK_EQ(ld32_(A_OUT), 16);
    CHECK_EQ(CALL("fd_read", 0, A_IOV, 1, A_OUT), 0); /* stdin absent: end of file */
    CHECK_EQ(ld32_(A_OUT), 0);
    st32_(A_IOV, (uint32_t)end - 8);
    CHECK_EQ(CALL("fd_write", 1, A_IOV, 1, A_OUT), WASI_EFAULT);
    st32_(A_IOV, 0xfffffff0u);
    CHECK_EQ(CALL("fd_read", 0, A_IOV, 1, A_OUT), WASI_EFAULT);
    st32_(A_IOV, (uint32_t)end);
    st32_(A_IOV + 4, 0);
    CHECK_EQ(CALL("fd_write", 1, A_IOV, 1, A_OUT), 0); /* empty at the very end: fine */
    /* bad descriptors */
    const uint64_t bad[] = {6, 7, 100, 0x7fffffff, 0xffffffff};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ(CALL("fd_close", bad[i]), WASI_EBADF);
        CHECK_EQ(CALL("fd_fdstat_get", bad[i], A_OUT), WASI_EBADF);
        CHECK_EQ(CALL("fd_read", bad[i], A_IOV, 1, A_OUT), WASI_EBADF);
        CHECK_EQ(CALL("fd_seek", bad[i], 0, 0, A_OUT), WASI_EBADF);
        CHECK_EQ(CALL("fd_readdir", bad[i], A_BUF, 100, 0, A_OUT), WASI_EBADF);
        CHECK_EQ(CALL("path_open", bad[i], 0, A_STR, 1, 0, 0, 0, 0, A_OUT), WASI_EBADF);
        CHECK_EQ(CALL("fd_renumber", bad[i], 3), WASI_EBADF);
        CHECK_EQ(CALL("sock_shutdown", bad[i], 3), WASI_EBADF);
    }
    /* paths */
    gstr(A_STR, "x");
    CHECK_EQ(CALL("path_open", 3, 0, end - 1, 2, 0, 0, 0, 0, A_OUT), WASI_EFAULT);
    CHECK_EQ(CALL("path_open", 3, 0, A_STR, 0xffffffff, 0, 0, 0, 0, A_OUT), WASI_EFAULT);
    CHECK_EQ(CALL("path_open", 3, 0, A_STR, 5000, 0, 0, 0, 0, A_OUT), WASI_ENAMETOOLONG);
    CHECK_EQ(CALL("path_open", 3, 0, A_STR, 1, 1, 0, 0, 0, end - 2), WASI_EFAULT);
    F.mem[A_STR + 1] = 0;
    CHECK_EQ(CALL("path_create_directory", 3, A_STR, 2), WASI_EINVAL);
    F.mem[A_STR + 1] = 0xc0; /* an overlong UTF-8 start */
    F.mem[A_STR + 2] = 0x80;
    CHECK_EQ(CALL("path_create_directory", 3, A_STR, 3), WASI_EILSEQ);
    gstr(A_STR, "\xed\xa0\x80"); /* a surrogate */
    CHECK_EQ(CALL("path_create_directory", 3, A_STR, 3), WASI_EILSEQ);
    CHECK_EQ(CALL("path_create_directory", 3, A_STR, 0), WASI_ENOENT);
    /* poll_oneoff */
    CHECK_EQ(CALL("poll_oneoff", A_SUBS, A_EVS, 0, A_OUT), WASI_EINVAL);
    CHECK_EQ(CALL("poll_oneoff", A_SUBS, A_EVS, 0x40000000, A_OUT), WASI_EFAULT);
    CHECK_EQ(CALL("poll_oneoff", A_SUBS, end - 31, 1, A_OUT), WASI_EFAULT);
    CHECK_EQ(CALL("poll_oneoff", 0, 0, 4097, A_OUT), WASI_ENOMEM);
    /* random_get, clocks */
    CHECK_EQ(CALL("random_get", end - 10, 11), WASI_EFAULT);
    CHECK_EQ(CALL("random_get", 0, (uint64_t)end), 0);
    CHECK_EQ(CALL("clock_time_get", 1, 0, end - 7), WASI_EFAULT);
    CHECK_EQ(CALL("clock_res_get", 7, A_OUT), WASI_EINVAL);
    /* readdir and prestat outputs */
    CHECK_EQ(CALL("fd_readdir", 3, end - 10, 11, 0, A_OUT), WASI_EFAULT);
    CHECK_EQ(CALL("fd_prestat_dir_name", 3, end - 1, 2), WASI_EFAULT);
    CHECK_EQ(CALL("fd_prestat_get", 3, A_OUT), 0);
    CHECK_EQ(ld32_(A_OUT + 4), 2);
    CHECK_EQ(CALL("fd_prestat_dir_name", 3, A_BUF, 2), 0);
    CHECK(memcmp(F.mem + A_BUF, "/d", 2) == 0);
}

static void test_files(void)
{
    uint32_t n = gstr(A_STR, "file.txt");
    uint64_t rw = WASI_RIGHT(WASI_RIGHT_FD_READ) | WASI_RIGHT(WASI_RIGHT_FD_WRITE);
    CHECK_EQ(CALL("path_open", 3, 0, A_STR, n, WASI_OFLAG_CREAT, WASI_RIGHTS_ALL, rw, 0, A_OUT),
             0);
    uint32_t fd = ld32_(A_OUT);
    CHECK_EQ(fd, 6);
    gstr(A_BUF, "hello");
    st32_(A_IOV, A_BUF);
    st32_(A_IOV + 4, 5);
    CHECK_EQ(CALL("fd_write", fd, A_IOV, 1, A_OUT), 0);
    CHECK_EQ(ld32_(A_OUT), 5);
    CHECK_EQ(CALL("fd_seek", fd, 0, WASI_WHENCE_SET, A_OUT), 0);
    memset(F.mem + A_BUF, 0, 16);
    CHECK_EQ(CALL("fd_read", fd, A_IOV, 1, A_OUT), 0);
    CHECK(ld32_(A_OUT) == 5 && memcmp(F.mem + A_BUF, "hello", 5) == 0);
    CHECK_EQ(CALL("fd_filestat_get", fd, A_BUF), 0);
    CHECK_EQ(F.mem[A_BUF + 16], WASI_FILETYPE_REGULAR_FILE);
    CHECK_EQ(ld64_(A_BUF + 32), 5);
    CHECK_EQ(CALL("fd_close", fd), 0);
    /* The read-only pre-open. */
    n = gstr(A_STR, "file");
    CHECK_EQ(CALL("path_open", 4, 0, A_STR, n, 0, rw, rw, 0, A_OUT), WASI_EPERM);
    CHECK_EQ(CALL("path_open", 4, 0, A_STR, n, 0, WASI_RIGHT(WASI_RIGHT_FD_READ), 0, 0, A_OUT), 0);
    fd = ld32_(A_OUT);
    CHECK_EQ(CALL("fd_write", fd, A_IOV, 1, A_OUT), WASI_EBADF);
    CHECK_EQ(CALL("fd_close", fd), 0);
    CHECK_EQ(CALL("path_unlink_file", 4, A_STR, n), WASI_EPERM);
    /* Escapes, as unit checks. */
    n = gstr(A_STR, "../x");
    CHECK_EQ(CALL("path_create_directory", 3, A_STR, n), WASI_EPERM);
    n = gstr(A_STR, "/etc");
    CHECK_EQ(CALL("path_filestat_get", 3, 1, A_STR, n, A_BUF), WASI_EPERM);
}

/* The per-guest descriptor cap: the API's value wins over the
 * environment's; reaching it is EMFILE for the guest (path_open and
 * sock_accept alike); closing one makes room again. */
static void test_open_files_cap(void)
{
    setenv("WHIRL_MAX_OPEN_FILES", "100", 1);
    bool ok = setup(false, 3);
    unsetenv("WHIRL_MAX_OPEN_FILES");
    CHECK(ok);
    if (!ok) {
        teardown();
        return;
    }
    uint32_t n = gstr(A_STR, "f");
    uint64_t rw = WASI_RIGHT(WASI_RIGHT_FD_READ) | WASI_RIGHT(WASI_RIGHT_FD_WRITE);
    uint32_t fds[3];
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(CALL("path_open", 3, 0, A_STR, n, WASI_OFLAG_CREAT, rw, rw, 0, A_OUT), 0);
        fds[i] = ld32_(A_OUT);
    }
    CHECK_EQ(CALL("path_open", 3, 0, A_STR, n, 0, rw, rw, 0, A_OUT), WASI_EMFILE);
    CHECK_EQ(CALL("path_open", 3, 0, A_STR, 0, WASI_OFLAG_DIRECTORY, 0, 0, 0, A_OUT), WASI_EMFILE);
    int client = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%.100s", F.sock_path);
    CHECK(client >= 0 && connect(client, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK_EQ(CALL("sock_accept", 5, 0, A_OUT), WASI_EMFILE);
    CHECK_EQ(CALL("fd_close", fds[1]), 0);
    CHECK_EQ(CALL("sock_accept", 5, 0, A_OUT), 0);
    CHECK_EQ(CALL("path_open", 3, 0, A_STR, n, 0, rw, rw, 0, A_OUT), WASI_EMFILE);
    CHECK_EQ(CALL("fd_close", fds[0]), 0);
    CHECK_EQ(CALL("path_open", 3, 0, A_STR, n, 0, rw, rw, 0, A_OUT), 0);
    if (client >= 0)
        close(client);
    teardown();
    /* A bad environment value is an error naming the variable. */
    setenv("WHIRL_MAX_OPEN_FILES", "lots", 1);
    whirl_wasi_t *w = NULL;
    whirl_error_t *err = whirl_wasi_new(whirl_wasi_config_new(), &w);
    unsetenv("WHIRL_MAX_OPEN_FILES");
    CHECK(err && strstr(whirl_error_message(err), "WHIRL_MAX_OPEN_FILES") && !w);
    whirl_error_delete(err);
    whirl_wasi_delete(w);
    whirl_wasi_config_t *cfg = whirl_wasi_config_new();
    err = whirl_wasi_config_set_max_open_files(cfg, 2000000);
    CHECK(err != NULL);
    whirl_error_delete(err);
    whirl_wasi_config_delete(cfg);
}

/* random_get fills up to 4 GiB in one call: it checks the store's deadline
 * as it goes (issue 13, item 2: a host call whose cost grows with an
 * operand). The engine ticks once a minute, so only the host's own check
 * can end the call: the deadline is passed by the time random_get runs,
 * and the epoch check at the wrapper's entry has not fired yet. */
static void test_random_get_deadline(void)
{
    whirl_config_t *cfg = whirl_config_new();
    CHECK(whirl_config_epoch_interval_set(cfg, 60u * 1000 * 1000) == NULL);
    whirl_engine_t *engine = NULL;
    CHECK(whirl_engine_new(cfg, &engine) == NULL);
    whirl_wasi_t *wasi = NULL;
    CHECK(whirl_wasi_new(whirl_wasi_config_new(), &wasi) == NULL);
    buf_t m = build_module(true);
    whirl_module_t *mod = NULL;
    CHECK(engine && whirl_module_new(engine, m.p, m.n, &mod) == NULL);
    free(m.p);
    whirl_store_t *store = engine ? whirl_store_new(engine, NULL, NULL) : NULL;
    whirl_linker_t *linker = engine ? whirl_linker_new(engine) : NULL;
    whirl_instance_t *inst = NULL;
    CHECK(linker && whirl_linker_define_wasi(linker, wasi) == NULL);
    CHECK(mod && store && whirl_linker_instantiate(linker, store, mod, &inst) == NULL);
    whirl_extern_t ext;
    if (inst && whirl_instance_export(inst, "random_get", 10, &ext)) {
        whirl_val_t args[2] = {{.kind = WHIRL_I32, .of.i32 = 0},
                               {.kind = WHIRL_I32, .of.i32 = 4096}};
        whirl_val_t res[1];
        /* Without a deadline the call fills the range. */
        CHECK(whirl_func_call(store, ext.of.func, args, 2, res, 1) == NULL && res[0].of.i32 == 0);
        uint64_t deadline = whirl_monotonic_now() + 1000000;
        CHECK(whirl_store_set_deadline(store, deadline) == NULL);
        while (whirl_monotonic_now() <= deadline)
            ; /* a millisecond: the clock is what the host compares */
        whirl_error_t *err = whirl_func_call(store, ext.of.func, args, 2, res, 1);
        whirl_trap_code_t code = WHIRL_TRAP_UNREACHABLE;
        CHECK(err && whirl_error_is_trap(err, &code) && code == WHIRL_TRAP_INTERRUPT);
        CHECK(err && strstr(whirl_error_message(err), "random_get"));
        whirl_error_delete(err);
    }
    whirl_linker_delete(linker);
    whirl_store_delete(store);
    whirl_module_delete(mod);
    whirl_wasi_delete(wasi);
    whirl_engine_delete(engine);
}

static void test_proc_exit_and_trap(void)
{
    whirl_error_t *err = NULL;
    int status = -1;
    CHECK_EQ(call_err("proc_exit", (const uint64_t[]){42}, &err), -1);
    CHECK(err && whirl_error_exit_status(err, &status) && status == 42);
    CHECK(err && !whirl_error_is_trap(err, NULL));
    whirl_error_delete(err);
    CHECK_EQ(CALL("proc_raise", 9), WASI_ENOTSUP);
    CHECK_EQ(CALL("sched_yield", 0), 0);

    /* A module without an exported memory traps on calls that need it. */
    buf_t m = build_module(false);
    whirl_module_t *mod = NULL;
    CHECK(whirl_module_new(F.engine, m.p, m.n, &mod) == NULL);
    free(m.p);
    whirl_instance_t *inst = NULL;
    CHECK(mod && whirl_linker_instantiate(F.linker, F.store, mod, &inst) == NULL);
    whirl_extern_t ext;
    if (inst && whirl_instance_export(inst, "fd_fdstat_get", 13, &ext)) {
        whirl_val_t args[2] = {{.kind = WHIRL_I32, .of.i32 = 1}, {.kind = WHIRL_I32, .of.i32 = 0}};
        whirl_val_t res[1];
        err = whirl_func_call(F.store, ext.of.func, args, 2, res, 1);
        CHECK(err && whirl_error_is_trap(err, NULL) && strstr(whirl_error_message(err), "memory"));
        whirl_error_delete(err);
        whirl_val_t one = {.kind = WHIRL_I32, .of.i32 = 1};
        CHECK(whirl_instance_export(inst, "fd_close", 8, &ext) &&
              whirl_func_call(F.store, ext.of.func, &one, 1, res, 1) == NULL); /* no memory needed */
    }
    whirl_module_delete(mod);
}

static void test_sockets(void)
{
    /* A lent listener is made non-blocking: an accept never waits outside poll. */
    CHECK(fcntl(F.listener, F_GETFL) & O_NONBLOCK);
    int client = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%.100s", F.sock_path);
    CHECK(client >= 0 && connect(client, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK_EQ(CALL("fd_fdstat_get", 5, A_BUF), 0);
    CHECK_EQ(F.mem[A_BUF], WASI_FILETYPE_SOCKET_STREAM);
    CHECK_EQ(CALL("sock_accept", 5, 2, A_OUT), WASI_EINVAL);
    CHECK_EQ(CALL("sock_accept", 5, 0, A_OUT), 0);
    uint32_t conn = ld32_(A_OUT);
    CHECK(write(client, "ping", 4) == 4);
    st32_(A_IOV, A_BUF);
    st32_(A_IOV + 4, 64);
    CHECK_EQ(CALL("sock_recv", conn, A_IOV, 1, WASI_RIFLAG_PEEK, A_OUT, A_OUT + 4), 0);
    CHECK_EQ(ld32_(A_OUT), 4);
    CHECK_EQ(CALL("sock_recv", conn, A_IOV, 1, 0, A_OUT, A_OUT + 4), 0);
    CHECK(ld32_(A_OUT) == 4 && memcmp(F.mem + A_BUF, "ping", 4) == 0);
    CHECK_EQ(CALL("sock_recv", conn, A_IOV, 1, 4, A_OUT, A_OUT + 4), WASI_EINVAL);
    gstr(A_BUF, "pong");
    st32_(A_IOV + 4, 4);
    CHECK_EQ(CALL("sock_send", conn, A_IOV, 1, 1, A_OUT), WASI_EINVAL);
    CHECK_EQ(CALL("sock_send", conn, A_IOV, 1, 0, A_OUT), 0);
    char got[8] = {0};
    CHECK(read(client, got, 4) == 4 && memcmp(got, "pong", 4) == 0);
    CHECK_EQ(CALL("sock_shutdown", conn, 7), WASI_EINVAL);
    CHECK_EQ(CALL("sock_shutdown", conn, WASI_SDFLAG_WR), 0);
    CHECK(read(client, got, 4) == 0); /* the guest's end is shut for writing */
    CHECK_EQ(CALL("fd_write", conn, A_IOV, 1, A_OUT), WASI_EPIPE); /* no SIGPIPE */
    CHECK_EQ(CALL("sock_recv", 3, A_IOV, 1, 0, A_OUT, A_OUT + 4), WASI_ENOTSOCK);
    /* Non-blocking accept with nobody connecting. */
    CHECK_EQ(CALL("fd_fdstat_set_flags", 5, WASI_FDFLAG_NONBLOCK), 0);
    CHECK_EQ(CALL("sock_accept", 5, 0, A_OUT), WASI_EAGAIN);
    CHECK_EQ(CALL("fd_close", conn), 0);
    close(client);
}

/* Interrupts a poll_oneoff that would sleep for 30 s. */
static void *interrupter(void *arg)
{
    struct timespec d = {0, 50 * 1000000};
    nanosleep(&d, NULL);
    whirl_wasi_interrupt(arg);
    return NULL;
}

static void test_interrupt(void)
{
    memset(F.mem + A_SUBS, 0, 48);
    st64_(A_SUBS, 77);
    F.mem[A_SUBS + 8] = WASI_EVENT_CLOCK;
    st32_(A_SUBS + 16, WASI_CLOCK_MONOTONIC);
    st64_(A_SUBS + 24, 30000000000ull);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, interrupter, F.wasi) == 0);
    CHECK_EQ(CALL("poll_oneoff", A_SUBS, A_EVS, 1, A_OUT), WASI_EINTR);
    pthread_join(t, NULL);
    /* Sticky: later blocking calls return at once. */
    CHECK_EQ(CALL("poll_oneoff", A_SUBS, A_EVS, 1, A_OUT), WASI_EINTR);
    CHECK_EQ(CALL("sock_accept", 5, 0, A_OUT), WASI_EINTR);
}

/* Random calls with arguments drawn from values that matter at edges. */
static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

static uint64_t pick32(void)
{
    uint64_t end = F.mem_size;
    switch (rnd() % 14) {
    case 12: return A_OUT + (rnd() % 8) * 8; /* a good place for results */
    case 13: return A_BUF + rnd() % 256;
    case 0: return 0;
    case 1: return rnd() % 8;
    case 2: return end;
    case 3: return end - 1 - rnd() % 64;
    case 4: return 0xffffffffu - rnd() % 16;
    case 5: return 0x7fffffff;
    case 6: return A_STR + (rnd() % 8) * 16; /* one of the path strings */
    case 7: return 1 + rnd() % 24;           /* a path length */
    case 8: return rnd() % end;
    case 9: return (uint32_t)rnd();
    case 10: return 3 + rnd() % 6; /* descriptors */
    default: return rnd() % 4096;
    }
}

static uint64_t pick64(void)
{
    switch (rnd() % 6) {
    case 0: return 0;
    case 1: return rnd() % 100;
    case 2: return (uint64_t)-1;
    case 3: return INT64_MAX;
    case 4: return (uint64_t)1 << 63;
    default: return rnd();
    }
}

/* Where a function takes (pointer, length) path pairs: the index of each
 * pair's pointer argument. */
static const struct {
    const char *name;
    int at[2];
} path_args[] = {
    {"path_open", {2, -1}}, {"path_create_directory", {1, -1}},
    {"path_filestat_get", {2, -1}}, {"path_filestat_set_times", {2, -1}},
    {"path_link", {2, 5}}, {"path_readlink", {1, -1}}, {"path_remove_directory", {1, -1}},
    {"path_rename", {1, 4}}, {"path_symlink", {0, 3}}, {"path_unlink_file", {1, -1}},
};

static const char *const fuzz_paths[] = {"a", "a/b", "../x", "link", "a/../f", "f/", ".", "l2"};
#define NPATHS (sizeof fuzz_paths / sizeof fuzz_paths[0])

/* One batch of random calls in a fresh, interrupted context (nothing can
 * block: poll, accept and the like return ERRNO_INTR at once).
 * WHIRL_FUZZ_DEBUG=1 in the environment prints every call's errno. */
static void fuzz_batch(int rounds, int *bad_errno, int *traps, int *exits, int *successes)
{
    for (int r = 0; r < rounds; r++) {
        if (r % 32 == 0)
            for (uint32_t k = 0; k < NPATHS; k++)
                gstr(A_STR + 16 * k, fuzz_paths[k]);
        const fdef_t *d = &funcs[rnd() % NFUNCS];
        uint64_t a[16];
        size_t np = strlen(d->params);
        for (size_t i = 0; i < np; i++)
            a[i] = d->params[i] == 'I' ? pick64() : pick32();
        /* Mostly real descriptors, so that calls get past the fd lookup. */
        bool takes_fd = strncmp(d->name, "fd_", 3) == 0 || strncmp(d->name, "sock_", 5) == 0 ||
                        (strncmp(d->name, "path_", 5) == 0 && strcmp(d->name, "path_symlink"));
        if (takes_fd && rnd() % 10 < 8)
            a[0] = rnd() % 9;
        if (strcmp(d->name, "path_symlink") == 0 && rnd() % 10 < 8)
            a[2] = 3 + rnd() % 2;
        for (size_t k = 0; k < sizeof path_args / sizeof path_args[0]; k++) {
            if (strcmp(path_args[k].name, d->name) != 0)
                continue;
            for (int j = 0; j < 2; j++) {
                int at = path_args[k].at[j];
                if (at >= 0 && rnd() % 10 < 7) {
                    uint32_t which = (uint32_t)(rnd() % NPATHS);
                    a[at] = A_STR + 16 * which;
                    a[at + 1] = strlen(fuzz_paths[which]);
                }
            }
        }
        if ((strcmp(d->name, "fd_close") == 0 || strcmp(d->name, "fd_renumber") == 0) &&
            rnd() % 4)
            continue; /* keep the pre-opens alive for a while */
        if (strcmp(d->name, "path_open") == 0 && rnd() % 2) {
            a[4] %= 16; /* oflags */
            a[7] %= 32; /* fdflags */
            a[8] = A_OUT;
        }
        if (strcmp(d->name, "fd_allocate") == 0)
            a[2] %= 65536; /* real disk blocks: keep them few */
        /* Sparse files, but not absurd ones. */
        if (strcmp(d->name, "fd_pwrite") == 0)
            a[3] %= 1u << 30;
        if (strcmp(d->name, "fd_filestat_set_size") == 0)
            a[1] %= 1u << 30;
        whirl_error_t *err = NULL;
        int e = call_err(d->name, a, &err);
        if (e < 0) {
            if (whirl_error_exit_status(err, NULL))
                (*exits)++;
            else
                (*traps)++;
            whirl_error_delete(err);
            continue;
        }
        if (e > WASI_ENOTCAPABLE)
            (*bad_errno)++;
        if (e == 0)
            (*successes)++;
        if (getenv("WHIRL_FUZZ_DEBUG"))
            fprintf(stderr, "%s=%d\n", d->name, e);
    }
}

static void test_fuzz(int batches, int rounds)
{
    int bad_errno = 0, exits = 0, traps = 0, successes = 0;
    for (int b = 0; b < batches; b++) {
        if (!setup(true, 0)) {
            CHECK(0);
            teardown();
            return;
        }
        fuzz_batch(rounds, &bad_errno, &traps, &exits, &successes);
        teardown();
    }
    CHECK_EQ(bad_errno, 0);
    CHECK_EQ(traps, 0);
    CHECK(exits > 0);                             /* proc_exit returned as an exit */
    CHECK(successes > batches * rounds / 20); /* the calls did reach the host */
}

/* ---- sandbox.c: the two resolvers agree ---- */

typedef struct pcase {
    const char *path;
    int flags;
    int want; /* 0: success, else the errno */
} pcase_t;

static void test_resolvers(void)
{
    char root[256];
    snprintf(root, sizeof root, "/tmp/whirl-sandbox-XXXXXX");
    if (!mkdtemp(root)) {
        CHECK(0);
        return;
    }
    char p[512], q[512];
#define AT(...) (snprintf(p, sizeof p, __VA_ARGS__), p)
    mkdir(AT("%s/base", root), 0755);
    mkdir(AT("%s/outside", root), 0755);
    mkdir(AT("%s/base/a", root), 0755);
    mkdir(AT("%s/base/a/b", root), 0755);
    close(open(AT("%s/base/a/b/f", root), O_CREAT | O_WRONLY, 0644));
    close(open(AT("%s/base/file", root), O_CREAT | O_WRONLY, 0644));
    close(open(AT("%s/outside/secret", root), O_CREAT | O_WRONLY, 0644));
    symlink("a", AT("%s/base/lnk_in", root));
    symlink("../outside", AT("%s/base/lnk_out", root));
    snprintf(q, sizeof q, "%s/outside/secret", root);
    symlink(q, AT("%s/base/abs", root));
    symlink("nothing", AT("%s/base/dang", root));
    symlink("loop", AT("%s/base/loop", root));
    symlink("chain2", AT("%s/base/chain1", root));
    symlink("a/b", AT("%s/base/chain2", root));
    symlink("../..", AT("%s/base/a/up2", root));
    int base = open(AT("%s/base", root), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(base >= 0);

    const pcase_t cases[] = {
        {"a", O_PATH | O_DIRECTORY, 0},
        {"file", O_RDONLY, 0},
        {"a/b/f", O_RDONLY, 0},
        {"a/../file", O_RDONLY, 0},
        {"a/./b/../../file", O_RDONLY, 0},
        {"lnk_in/../file", O_RDONLY, 0},
        {"chain1/f", O_RDONLY, 0},
        {"chain1/../../file", O_RDONLY, 0},
        {".", O_RDONLY | O_DIRECTORY, 0},
        {"a/", O_RDONLY, 0},
        {"a//b///f", O_RDONLY, 0},
        {"lnk_out", O_PATH | O_NOFOLLOW, 0},
        {"abs", O_PATH | O_NOFOLLOW, 0},
        {"../outside/secret", O_RDONLY, EPERM},
        {"..", O_PATH, EPERM},
        {"a/../..", O_PATH, EPERM},
        {"/tmp", O_PATH, EPERM},
        {"/", O_PATH, EPERM},
        {"lnk_out", O_PATH, EPERM},
        {"lnk_out/secret", O_RDONLY, EPERM},
        {"lnk_out/", O_PATH | O_NOFOLLOW, EPERM},
        {"abs", O_RDONLY, EPERM},
        {"abs", O_RDONLY | O_NOFOLLOW, ELOOP},
        {"a/up2", O_PATH, EPERM},
        {"a/up2/outside/secret", O_RDONLY, EPERM},
        {"lnk_in/up2", O_PATH | O_NOFOLLOW, 0},
        {"dang", O_RDONLY, ENOENT},
        {"dang", O_RDONLY | O_NOFOLLOW, ELOOP},
        {"loop", O_RDONLY, ELOOP},
        {"loop/x", O_RDONLY, ELOOP},
        {"file/", O_RDONLY, ENOTDIR},
        {"file/x", O_RDONLY, ENOTDIR},
        {"nothing/x", O_RDONLY, ENOENT},
        {"", O_RDONLY, ENOENT},
        {"a", O_RDWR, EISDIR},
        {"file", O_RDONLY | O_DIRECTORY, ENOTDIR},
        {"newdir/new", O_CREAT | O_WRONLY, ENOENT},
    };
    for (int mode = 0; mode < 2; mode++) {
        sandbox_force_walk(mode == 1);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            const pcase_t *c = &cases[i];
            int fd = sandbox_open(base, c->path, c->flags, 0644);
            int got = fd >= 0 ? 0 : -fd;
            if (fd >= 0)
                close(fd);
            if (got == c->want) {
                passed++;
            } else {
                failed++;
                fprintf(stderr, "FAILED: %s: sandbox_open(\"%s\", 0x%x) gave %s, expected %s\n",
                        mode ? "walk" : "openat2", c->path, (unsigned)c->flags,
                        got ? strerror(got) : "success", c->want ? strerror(c->want) : "success");
            }
        }
        /* Creating through a dangling link inside the base works; through
         * one leading out it does not, and creates nothing. */
        int fd = sandbox_open(base, "dang", O_CREAT | O_WRONLY, 0644);
        CHECK(fd >= 0);
        if (fd >= 0)
            close(fd);
        CHECK(unlinkat(base, "nothing", 0) == 0);
        symlink("../outside/made", AT("%s/base/dang_out", root));
        CHECK_EQ(sandbox_open(base, "dang_out", O_CREAT | O_WRONLY, 0644), -EPERM);
        CHECK(access(AT("%s/outside/made", root), F_OK) != 0);
        unlink(AT("%s/base/dang_out", root));

        /* Parents. */
        sandbox_parent_t par;
        struct stat st, st2;
        CHECK_EQ(sandbox_parent(base, "a/b/f", false, &par), 0);
        CHECK(strcmp(par.name, "f") == 0 && par.owned && !par.trailing_slash &&
              fstatat(par.dirfd, "f", &st, 0) == 0);
        sandbox_parent_close(&par);
        CHECK_EQ(sandbox_parent(base, "x", false, &par), 0);
        CHECK(par.dirfd == base && !par.owned && strcmp(par.name, "x") == 0);
        sandbox_parent_close(&par);
        CHECK_EQ(sandbox_parent(base, "a/x//", false, &par), 0);
        CHECK(par.trailing_slash && strcmp(par.name, "x") == 0);
        sandbox_parent_close(&par);
        CHECK_EQ(sandbox_parent(base, "a/..", false, &par), 0);
        CHECK(strcmp(par.name, ".") == 0 && fstat(par.dirfd, &st) == 0 && fstat(base, &st2) == 0 &&
              st.st_ino == st2.st_ino);
        sandbox_parent_close(&par);
        CHECK_EQ(sandbox_parent(base, "..", false, &par), -EPERM);
        CHECK_EQ(sandbox_parent(base, "lnk_out/x", false, &par), -EPERM);
        CHECK_EQ(sandbox_parent(base, "/x", false, &par), -EPERM);
        CHECK_EQ(sandbox_parent(base, "", false, &par), -ENOENT);
        CHECK_EQ(sandbox_parent(base, "lnk_in", true, &par), 0);
        CHECK(strcmp(par.name, "a") == 0);
        sandbox_parent_close(&par);
        CHECK_EQ(sandbox_parent(base, "chain1", true, &par), 0);
        CHECK(strcmp(par.name, "b") == 0 && fstatat(par.dirfd, "b/f", &st, 0) == 0);
        sandbox_parent_close(&par);
        CHECK_EQ(sandbox_parent(base, "lnk_in", false, &par), 0);
        CHECK(strcmp(par.name, "lnk_in") == 0);
        sandbox_parent_close(&par);
        CHECK_EQ(sandbox_parent(base, "dang", true, &par), 0);
        CHECK(strcmp(par.name, "nothing") == 0);
        sandbox_parent_close(&par);
        CHECK_EQ(sandbox_parent(base, "abs", true, &par), -EPERM);
        CHECK_EQ(sandbox_parent(base, "lnk_out", true, &par), -EPERM);
        CHECK_EQ(sandbox_parent(base, "loop", true, &par), -ELOOP);
        CHECK_EQ(sandbox_parent(base, "a/up2", true, &par), -EPERM);
    }
    sandbox_force_walk(false);
    close(base);
    rm_rf(root);
#undef AT
}

int main(void)
{
    test_config_errors();
    test_resolvers();
    if (!setup(false, 0)) {
        fprintf(stderr, "setup failed\n");
        teardown();
        printf("%d passed, %d failed\n", passed, failed + 1);
        return 1;
    }
    test_args_env();
    test_malformed();
    test_files();
    test_proc_exit_and_trap();
    test_random_get_deadline();
    test_sockets();
    test_interrupt();
    teardown();
    test_open_files_cap();

    test_fuzz(30, 2000);
    printf("wasi: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
