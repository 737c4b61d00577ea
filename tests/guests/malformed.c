/* Malformed WASI calls from a guest: pointers and lengths past the end of
 * memory, wrapping ranges, huge counts, bad descriptors. Each must fail with
 * a WASI errno (EFAULT, EBADF, ...) and leave the host and the guest intact;
 * an output pointer that is bad must not let the operation happen first. */
#include <string.h>

#include "guest.h"

#define D 3

int main(void)
{
    const uint32_t end = (uint32_t)__builtin_wasm_memory_size(0) * 65536u;
    const int32_t past = (int32_t)end, last = (int32_t)(end - 1), top = (int32_t)0xfffffff0u;
    uint32_t n = 0;
    uint64_t t;
    char buf[64];
    struct { int32_t buf, len; } iov = {P(buf), 8}, bad_iov = {past, 8}, wrap_iov = {last, 16};

    /* args / environ (the driver passes one variable): every output range is
     * checked before anything is written. */
    int32_t sizes[2];
    CHECK_ERRNO(raw_args_sizes_get(past, P(&sizes[1])), E_FAULT);
    CHECK_ERRNO(raw_args_sizes_get(P(&sizes[0]), last - 2), E_FAULT);
    CHECK_ERRNO(raw_args_get(past, P(buf)), E_FAULT);
    CHECK_ERRNO(raw_args_get(P(buf), top), E_FAULT);
    CHECK_ERRNO(raw_environ_sizes_get(top, top), E_FAULT);
    CHECK_ERRNO(raw_environ_get(last, last), E_FAULT);

    /* clocks, random */
    CHECK_ERRNO(raw_clock_time_get(1, 0, past), E_FAULT);
    CHECK_ERRNO(raw_clock_time_get(1, 0, last - 6), E_FAULT);
    CHECK_ERRNO(raw_clock_res_get(0, top), E_FAULT);
    CHECK_ERRNO(raw_random_get(last, 2), E_FAULT);
    CHECK_ERRNO(raw_random_get(top, 0x7fffffff), E_FAULT);
    CHECK_ERRNO(raw_random_get(past, 0), 0); /* an empty range at the end is in bounds */
    CHECK_ERRNO(raw_random_get(past + 1, 0), E_FAULT);

    /* fd_write / fd_read: bad iovec arrays, bad buffers, bad result pointers. */
    CHECK_ERRNO(raw_fd_write(1, past, 1, P(&n)), E_FAULT);
    CHECK_ERRNO(raw_fd_write(1, P(&bad_iov), 1, P(&n)), E_FAULT);
    CHECK_ERRNO(raw_fd_write(1, P(&wrap_iov), 1, P(&n)), E_FAULT);
    CHECK_ERRNO(raw_fd_write(1, P(&iov), (int32_t)0xffffffffu, P(&n)), E_FAULT);
    CHECK_ERRNO(raw_fd_write(1, P(&iov), 1, past), E_FAULT);
    CHECK_ERRNO(raw_fd_write(1, P(&iov), 1, top), E_FAULT);
    CHECK_ERRNO(raw_fd_read(0, P(&bad_iov), 1, P(&n)), E_FAULT);
    CHECK_ERRNO(raw_fd_read(0, P(&iov), 1, last), E_FAULT);
    CHECK_ERRNO(raw_fd_pwrite(1, P(&iov), 1, 0, past), E_FAULT);
    CHECK_ERRNO(raw_fd_pread(0, P(&bad_iov), 1, 0, P(&n)), E_SPIPE);

    /* A file: a write whose result cannot be stored does not happen. */
    int32_t fd = -1;
    CHECK(r_open(D, 0, "m", O_CREAT_ | O_TRUNC_, R_ALL, 0, &fd) == 0, "open m");
    struct { int32_t buf, len; } data = {P("abcdef"), 6};
    CHECK_ERRNO(raw_fd_write(fd, P(&data), 1, past), E_FAULT);
    fstat_t st;
    CHECK(raw_fd_filestat_get(fd, P(&st)) == 0 && st.size == 0, "nothing written: %llu",
          (unsigned long long)st.size);
    CHECK_ERRNO(raw_fd_write(fd, P(&data), 1, P(&n)), 0);
    CHECK_ERRNO(raw_fd_seek(fd, 0, 0, past), E_FAULT);
    CHECK_ERRNO(raw_fd_tell(fd, top), E_FAULT);
    CHECK_ERRNO(raw_fd_filestat_get(fd, last - 10), E_FAULT);
    CHECK_ERRNO(raw_fd_fdstat_get(fd, past), E_FAULT);
    CHECK_ERRNO(raw_fd_pread(fd, P(&wrap_iov), 1, 0, P(&n)), E_FAULT);
    /* Many iovecs: at most 1024 are used, all must still be in bounds. */
    static struct { int32_t buf, len; } many[4096];
    for (int i = 0; i < 4096; i++)
        many[i].buf = P(buf), many[i].len = 1;
    CHECK(raw_fd_pwrite(fd, P(many), 4096, 0, P(&n)) == 0 && n == 1024, "1024 iovecs used: %u",
          n);
    many[4000].buf = past;
    CHECK(raw_fd_pread(fd, P(many), 4096, 0, P(&n)) == 0, "unused iovecs are not looked at");
    CHECK_ERRNO(raw_fd_pread(fd, P(many), (int32_t)(end / 8), 0, P(&n)), E_FAULT);
    raw_fd_close(fd);

    /* Paths. */
    CHECK_ERRNO(raw_path_open(D, 0, past, 1, 0, 0, 0, 0, P(&fd)), E_FAULT);
    CHECK_ERRNO(raw_path_open(D, 0, P("m"), 0x7fffffff, 0, 0, 0, 0, P(&fd)), E_FAULT);
    CHECK_ERRNO(raw_path_open(D, 0, P("m"), 1, 0, 0, 0, 0, past), E_FAULT);
    CHECK_ERRNO(raw_path_open(D, 0, last, 2, 0, 0, 0, 0, P(&fd)), E_FAULT);
    static char huge[8192];
    memset(huge, 'a', sizeof huge);
    CHECK_ERRNO(raw_path_open(D, 0, P(huge), sizeof huge, 0, 0, 0, 0, P(&fd)), E_NAMETOOLONG);
    CHECK_ERRNO(raw_path_create_directory(D, top, 100), E_FAULT);
    CHECK_ERRNO(raw_path_filestat_get(D, 0, P("m"), 1, past), E_FAULT);
    CHECK_ERRNO(raw_path_readlink(D, P("m"), 1, past, 10, P(&n)), E_FAULT);
    CHECK_ERRNO(raw_path_readlink(D, P("m"), 1, P(buf), 10, top), E_FAULT);
    CHECK_ERRNO(raw_path_rename(D, P("m"), 1, D, past, 4), E_FAULT);
    CHECK_ERRNO(raw_path_link(D, 0, past, 1, D, P("x"), 1), E_FAULT);
    CHECK_ERRNO(raw_path_symlink(top, 16, D, P("x"), 1), E_FAULT);
    CHECK_ERRNO(raw_path_unlink_file(D, last, 5), E_FAULT);
    CHECK_ERRNO(raw_path_remove_directory(D, past, 1), E_FAULT);
    CHECK_ERRNO(raw_path_filestat_set_times(D, 0, past, 1, 0, 0, 0), E_FAULT);
    CHECK(r_stat(D, 0, "m", &st) == 0 && st.size == 1024, "m intact");

    /* Directory listing, pre-open names. */
    CHECK_ERRNO(raw_fd_readdir(D, past, 100, 0, P(&n)), E_FAULT);
    CHECK_ERRNO(raw_fd_readdir(D, P(buf), sizeof buf, 0, last), E_FAULT);
    CHECK_ERRNO(raw_fd_readdir(D, last, 0x7fffffff, 0, P(&n)), E_FAULT);
    CHECK_ERRNO(raw_fd_prestat_get(D, past), E_FAULT);
    CHECK_ERRNO(raw_fd_prestat_dir_name(D, last, 8), E_FAULT);

    /* poll_oneoff: huge counts, bad arrays. */
    CHECK_ERRNO(raw_poll_oneoff(P(buf), P(buf), (int32_t)0xffffffffu, P(&n)), E_FAULT);
    CHECK_ERRNO(raw_poll_oneoff(past, P(buf), 1, P(&n)), E_FAULT);
    CHECK_ERRNO(raw_poll_oneoff(P(buf), past, 1, P(&n)), E_FAULT);
    CHECK_ERRNO(raw_poll_oneoff(P(buf), P(buf), 1, top), E_FAULT);
    static unsigned char subs[48 * 5000], evs[32 * 5000];
    CHECK_ERRNO(raw_poll_oneoff(P(subs), P(evs), 5000, P(&n)), E_NOMEM);

    /* Bad descriptors everywhere. */
    const int32_t bad[] = {-1, 1000, 0x7fffffff, 3 + 64};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int32_t b = bad[i];
        CHECK_ERRNO(raw_fd_write(b, P(&iov), 1, P(&n)), E_BADF);
        CHECK_ERRNO(raw_fd_read(b, P(&iov), 1, P(&n)), E_BADF);
        CHECK_ERRNO(raw_fd_close(b), E_BADF);
        CHECK_ERRNO(raw_fd_seek(b, 0, 0, P(&t)), E_BADF);
        CHECK_ERRNO(raw_fd_tell(b, P(&t)), E_BADF);
        CHECK_ERRNO(raw_fd_fdstat_get(b, P(buf)), E_BADF);
        CHECK_ERRNO(raw_fd_fdstat_set_flags(b, 0), E_BADF);
        CHECK_ERRNO(raw_fd_fdstat_set_rights(b, 0, 0), E_BADF);
        CHECK_ERRNO(raw_fd_filestat_get(b, P(&st)), E_BADF);
        CHECK_ERRNO(raw_fd_filestat_set_size(b, 0), E_BADF);
        CHECK_ERRNO(raw_fd_filestat_set_times(b, 0, 0, 0), E_BADF);
        CHECK_ERRNO(raw_fd_advise(b, 0, 0, 0), E_BADF);
        CHECK_ERRNO(raw_fd_allocate(b, 0, 1), E_BADF);
        CHECK_ERRNO(raw_fd_sync(b), E_BADF);
        CHECK_ERRNO(raw_fd_datasync(b), E_BADF);
        CHECK_ERRNO(raw_fd_readdir(b, P(buf), 8, 0, P(&n)), E_BADF);
        CHECK_ERRNO(raw_fd_renumber(b, 1), E_BADF);
        CHECK_ERRNO(raw_fd_renumber(1, b), E_BADF);
        CHECK_ERRNO(raw_fd_prestat_get(b, P(buf)), E_BADF);
        CHECK_ERRNO(raw_fd_prestat_dir_name(b, P(buf), 8), E_BADF);
        CHECK_ERRNO(raw_fd_pread(b, P(&iov), 1, 0, P(&n)), E_BADF);
        CHECK_ERRNO(raw_fd_pwrite(b, P(&iov), 1, 0, P(&n)), E_BADF);
        CHECK_ERRNO(raw_path_open(b, 0, P("m"), 1, 0, 0, 0, 0, P(&fd)), E_BADF);
        CHECK_ERRNO(raw_path_create_directory(b, P("x"), 1), E_BADF);
        CHECK_ERRNO(raw_path_unlink_file(b, P("x"), 1), E_BADF);
        CHECK_ERRNO(raw_path_remove_directory(b, P("x"), 1), E_BADF);
        CHECK_ERRNO(raw_path_filestat_get(b, 0, P("x"), 1, P(&st)), E_BADF);
        CHECK_ERRNO(raw_path_filestat_set_times(b, 0, P("x"), 1, 0, 0, 0), E_BADF);
        CHECK_ERRNO(raw_path_readlink(b, P("x"), 1, P(buf), 8, P(&n)), E_BADF);
        CHECK_ERRNO(raw_path_rename(b, P("x"), 1, D, P("y"), 1), E_BADF);
        CHECK_ERRNO(raw_path_rename(D, P("x"), 1, b, P("y"), 1), E_BADF);
        CHECK_ERRNO(raw_path_link(b, 0, P("x"), 1, D, P("y"), 1), E_BADF);
        CHECK_ERRNO(raw_path_symlink(P("x"), 1, b, P("y"), 1), E_BADF);
        CHECK_ERRNO(raw_sock_accept(b, 0, P(&fd)), E_BADF);
        CHECK_ERRNO(raw_sock_recv(b, P(&iov), 1, 0, P(&n), P(&n)), E_BADF);
        CHECK_ERRNO(raw_sock_send(b, P(&iov), 1, 0, P(&n)), E_BADF);
        CHECK_ERRNO(raw_sock_shutdown(b, 1), E_BADF);
    }
    CHECK_ERRNO(r_unlink(D, "m"), 0);
    return done("malformed");
}
