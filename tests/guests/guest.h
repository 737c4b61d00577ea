/* Shared helpers of the WASI test guests (compiled to wasm32-wasi).
 *
 * CHECK counts and reports one assertion; raw_* are the preview-1 imports
 * declared with i32 pointers, so that tests can pass any address and length
 * (wasi-libc's wrappers take C strings and valid pointers only). A guest
 * ends with `return done("name");`, which prints its totals. */
#ifndef GUEST_H
#define GUEST_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int g_pass, g_fail;

#define CHECK(cond, ...) \
    do { \
        if (cond) { \
            g_pass++; \
        } else { \
            g_fail++; \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            printf(__VA_ARGS__); \
            printf("\n"); \
        } \
    } while (0)

/* A raw call's WASI errno must be `want`. */
#define CHECK_ERRNO(call, want) \
    do { \
        int32_t got_ = (call); \
        CHECK(got_ == (want), "%s -> errno %d, expected %d", #call, (int)got_, (int)(want)); \
    } while (0)

static int done(const char *name)
{
    printf("%s: %d checks passed, %d failed\n", name, g_pass, g_fail);
    fflush(stdout);
    return g_fail ? 1 : 0;
}

/* Guest address of a C object, as the raw calls take it. */
#define P(x) ((int32_t)(uintptr_t)(x))

#define RAW(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))
int32_t raw_args_get(int32_t, int32_t) RAW(args_get);
int32_t raw_args_sizes_get(int32_t, int32_t) RAW(args_sizes_get);
int32_t raw_environ_get(int32_t, int32_t) RAW(environ_get);
int32_t raw_environ_sizes_get(int32_t, int32_t) RAW(environ_sizes_get);
int32_t raw_clock_res_get(int32_t, int32_t) RAW(clock_res_get);
int32_t raw_clock_time_get(int32_t, int64_t, int32_t) RAW(clock_time_get);
int32_t raw_fd_advise(int32_t, int64_t, int64_t, int32_t) RAW(fd_advise);
int32_t raw_fd_allocate(int32_t, int64_t, int64_t) RAW(fd_allocate);
int32_t raw_fd_close(int32_t) RAW(fd_close);
int32_t raw_fd_datasync(int32_t) RAW(fd_datasync);
int32_t raw_fd_fdstat_get(int32_t, int32_t) RAW(fd_fdstat_get);
int32_t raw_fd_fdstat_set_flags(int32_t, int32_t) RAW(fd_fdstat_set_flags);
int32_t raw_fd_fdstat_set_rights(int32_t, int64_t, int64_t) RAW(fd_fdstat_set_rights);
int32_t raw_fd_filestat_get(int32_t, int32_t) RAW(fd_filestat_get);
int32_t raw_fd_filestat_set_size(int32_t, int64_t) RAW(fd_filestat_set_size);
int32_t raw_fd_filestat_set_times(int32_t, int64_t, int64_t, int32_t) RAW(fd_filestat_set_times);
int32_t raw_fd_pread(int32_t, int32_t, int32_t, int64_t, int32_t) RAW(fd_pread);
int32_t raw_fd_prestat_get(int32_t, int32_t) RAW(fd_prestat_get);
int32_t raw_fd_prestat_dir_name(int32_t, int32_t, int32_t) RAW(fd_prestat_dir_name);
int32_t raw_fd_pwrite(int32_t, int32_t, int32_t, int64_t, int32_t) RAW(fd_pwrite);
int32_t raw_fd_read(int32_t, int32_t, int32_t, int32_t) RAW(fd_read);
int32_t raw_fd_readdir(int32_t, int32_t, int32_t, int64_t, int32_t) RAW(fd_readdir);
int32_t raw_fd_renumber(int32_t, int32_t) RAW(fd_renumber);
int32_t raw_fd_seek(int32_t, int64_t, int32_t, int32_t) RAW(fd_seek);
int32_t raw_fd_sync(int32_t) RAW(fd_sync);
int32_t raw_fd_tell(int32_t, int32_t) RAW(fd_tell);
int32_t raw_fd_write(int32_t, int32_t, int32_t, int32_t) RAW(fd_write);
int32_t raw_path_create_directory(int32_t, int32_t, int32_t) RAW(path_create_directory);
int32_t raw_path_filestat_get(int32_t, int32_t, int32_t, int32_t, int32_t) RAW(path_filestat_get);
int32_t raw_path_filestat_set_times(int32_t, int32_t, int32_t, int32_t, int64_t, int64_t,
                                    int32_t) RAW(path_filestat_set_times);
int32_t raw_path_link(int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t) RAW(path_link);
int32_t raw_path_open(int32_t, int32_t, int32_t, int32_t, int32_t, int64_t, int64_t, int32_t,
                      int32_t) RAW(path_open);
int32_t raw_path_readlink(int32_t, int32_t, int32_t, int32_t, int32_t, int32_t) RAW(path_readlink);
int32_t raw_path_remove_directory(int32_t, int32_t, int32_t) RAW(path_remove_directory);
int32_t raw_path_rename(int32_t, int32_t, int32_t, int32_t, int32_t, int32_t) RAW(path_rename);
int32_t raw_path_symlink(int32_t, int32_t, int32_t, int32_t, int32_t) RAW(path_symlink);
int32_t raw_path_unlink_file(int32_t, int32_t, int32_t) RAW(path_unlink_file);
int32_t raw_poll_oneoff(int32_t, int32_t, int32_t, int32_t) RAW(poll_oneoff);
int32_t raw_proc_raise(int32_t) RAW(proc_raise);
int32_t raw_sched_yield(void) RAW(sched_yield);
int32_t raw_random_get(int32_t, int32_t) RAW(random_get);
int32_t raw_sock_accept(int32_t, int32_t, int32_t) RAW(sock_accept);
int32_t raw_sock_recv(int32_t, int32_t, int32_t, int32_t, int32_t, int32_t) RAW(sock_recv);
int32_t raw_sock_send(int32_t, int32_t, int32_t, int32_t, int32_t) RAW(sock_send);
int32_t raw_sock_shutdown(int32_t, int32_t) RAW(sock_shutdown);

/* WASI numbers (witx), independent of wasi-libc's errno.h. */
enum {
    E_SUCCESS = 0, E_BADF = 8, E_EXIST = 20, E_FAULT = 21, E_FBIG = 22, E_ILSEQ = 25,
    E_INTR = 27, E_INVAL = 28, E_ISDIR = 31, E_LOOP = 32, E_NAMETOOLONG = 37, E_NOENT = 44,
    E_NOMEM = 48, E_NOTDIR = 54, E_NOTEMPTY = 55, E_NOTSOCK = 57, E_NOTSUP = 58, E_PERM = 63,
    E_SPIPE = 70, E_NOTCAPABLE = 76,
};
enum {
    FT_UNKNOWN = 0, FT_CHAR = 2, FT_DIR = 3, FT_REG = 4, FT_SYMLINK = 7,
};
#define R_FD_READ (1ull << 1)
#define R_FD_SEEK (1ull << 2)
#define R_FD_TELL (1ull << 5)
#define R_FD_WRITE (1ull << 6)
#define R_FD_READDIR (1ull << 14)
#define R_FD_FILESTAT_GET (1ull << 21)
/* Every right: what a test that is not about rights asks for (wasi-libc
 * asks for every right its open mode does not exclude). */
#define R_ALL ((1ull << 30) - 1)
enum { O_CREAT_ = 1, O_DIR_ = 2, O_EXCL_ = 4, O_TRUNC_ = 8 };
enum { FOLLOW = 1 };
enum { FD_APPEND = 1, FD_NONBLOCK = 4 };

/* Raw call wrappers taking C strings for paths. */
static inline int32_t r_open(int32_t dir, int32_t lookup, const char *path, int32_t oflags,
                             uint64_t rights, int32_t fdflags, int32_t *fd)
{
    return raw_path_open(dir, lookup, P(path), (int32_t)strlen(path), oflags, (int64_t)rights,
                         (int64_t)rights, fdflags, P(fd));
}
static inline int32_t r_mkdir(int32_t dir, const char *path)
{
    return raw_path_create_directory(dir, P(path), (int32_t)strlen(path));
}
static inline int32_t r_rmdir(int32_t dir, const char *path)
{
    return raw_path_remove_directory(dir, P(path), (int32_t)strlen(path));
}
static inline int32_t r_unlink(int32_t dir, const char *path)
{
    return raw_path_unlink_file(dir, P(path), (int32_t)strlen(path));
}
static inline int32_t r_rename(int32_t od, const char *o, int32_t nd, const char *n)
{
    return raw_path_rename(od, P(o), (int32_t)strlen(o), nd, P(n), (int32_t)strlen(n));
}
static inline int32_t r_link(int32_t od, int32_t flags, const char *o, int32_t nd, const char *n)
{
    return raw_path_link(od, flags, P(o), (int32_t)strlen(o), nd, P(n), (int32_t)strlen(n));
}
static inline int32_t r_symlink(const char *target, int32_t dir, const char *path)
{
    return raw_path_symlink(P(target), (int32_t)strlen(target), dir, P(path), (int32_t)strlen(path));
}
static inline int32_t r_readlink(int32_t dir, const char *path, char *buf, int32_t len,
                                 int32_t *used)
{
    return raw_path_readlink(dir, P(path), (int32_t)strlen(path), P(buf), len, P(used));
}
/* filestat: filetype at byte 16, size at 32, mtim at 48. */
typedef struct { uint64_t dev, ino; uint8_t type, pad[7]; uint64_t nlink, size, atim, mtim, ctim; } fstat_t;
static inline int32_t r_stat(int32_t dir, int32_t lookup, const char *path, fstat_t *st)
{
    return raw_path_filestat_get(dir, lookup, P(path), (int32_t)strlen(path), P(st));
}
static inline int32_t r_write(int32_t fd, const void *buf, uint32_t len, uint32_t *n)
{
    struct { int32_t buf, len; } iov = {P(buf), (int32_t)len};
    return raw_fd_write(fd, P(&iov), 1, P(n));
}
static inline int32_t r_read(int32_t fd, void *buf, uint32_t len, uint32_t *n)
{
    struct { int32_t buf, len; } iov = {P(buf), (int32_t)len};
    return raw_fd_read(fd, P(&iov), 1, P(n));
}

#endif
