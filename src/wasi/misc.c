/* WASI args_*, environ_*, random_get, proc_*, sched_yield and sock_*.
 *
 * Sockets: the guest never creates one (preview 1 has no socket or connect);
 * it may be given sockets as pre-opened fds or as stdio. On any other
 * descriptor the sock_* calls fail with ENOTSOCK, on a closed one EBADF. */
#define _GNU_SOURCE /* O_PATH, ppoll, accept4, utimensat flags */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wasi/internal.h"

/* Writes a string vector the way args_get / environ_get deliver it: an
 * array of guest pointers at `ptrs` and the NUL-terminated strings packed
 * at `buf`. Checks both ranges before writing anything. */
static uint32_t put_strings(wasi_call_t *c, char **v, size_t n, size_t bytes)
{
    uint32_t ptrs = arg32(c, 0), buf = arg32(c, 1);
    if (!mem_ok(&c->mem, ptrs, (uint64_t)n * 4) || !mem_ok(&c->mem, buf, bytes))
        return WASI_EFAULT;
    uint32_t at = buf;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(v[i]) + 1;
        st32(mem_at(&c->mem, ptrs + (uint32_t)i * 4), at);
        memcpy(mem_at(&c->mem, at), v[i], len);
        at += (uint32_t)len;
    }
    return 0;
}

static uint32_t put_sizes(wasi_call_t *c, size_t n, size_t bytes)
{
    uint32_t count = arg32(c, 0), size = arg32(c, 1);
    if (!mem_ok(&c->mem, count, 4) || !mem_ok(&c->mem, size, 4))
        return WASI_EFAULT;
    mem_put32(&c->mem, count, (uint32_t)n);
    mem_put32(&c->mem, size, (uint32_t)bytes);
    return 0;
}

uint32_t wasi_args_get(wasi_call_t *c)
{
    return put_strings(c, c->w->argv, c->w->argc, c->w->argv_bytes);
}

uint32_t wasi_args_sizes_get(wasi_call_t *c)
{
    return put_sizes(c, c->w->argc, c->w->argv_bytes);
}

uint32_t wasi_environ_get(wasi_call_t *c)
{
    return put_strings(c, c->w->envp, c->w->envc, c->w->env_bytes);
}

uint32_t wasi_environ_sizes_get(wasi_call_t *c)
{
    return put_sizes(c, c->w->envc, c->w->env_bytes);
}

enum { RANDOM_CHUNK = 256u << 10 };

uint32_t wasi_random_get(wasi_call_t *c)
{
    uint32_t buf = arg32(c, 0), len = arg32(c, 1);
    if (!mem_ok(&c->mem, buf, len))
        return WASI_EFAULT;
    uint8_t *p = mem_at(&c->mem, buf);
    size_t done = 0;
    while (done < len) {
        /* Up to 4 GiB in one call: the deadline is checked per chunk, as
         * the bulk memory instructions do (a chunk takes well under 1 ms). */
        if (wasi_deadline_passed(c, "random_get"))
            return WASI_EINTR;
        size_t chunk = len - done < RANDOM_CHUNK ? len - done : RANDOM_CHUNK;
        ssize_t r = getrandom(p + done, chunk, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return wasi_errno(errno);
        }
        done += (size_t)r;
    }
    return 0;
}

uint32_t wasi_proc_exit(wasi_call_t *c)
{
    /* Unwinds the guest like a trap; the host reads the status back. */
    c->exit = whirl_error_new_exit((int)arg32(c, 0));
    return 0;
}

uint32_t wasi_proc_raise(wasi_call_t *c)
{
    /* Signals cannot be delivered into WebAssembly code; wasi-libc emulates
     * raise() in the guest. wasmtime answers the same. */
    (void)c;
    return WASI_ENOTSUP;
}

uint32_t wasi_sched_yield(wasi_call_t *c)
{
    (void)c;
    sched_yield();
    return 0;
}

/* ---- sockets ---- */

static uint32_t get_socket(wasi_call_t *c, uint32_t fd, wasi_fd_t **out)
{
    wasi_fd_t *f = wasi_fd_get(c->w, fd);
    if (!f)
        return WASI_EBADF;
    bool sock = f->kind == WASI_FD_SOCKET ||
                (f->kind == WASI_FD_STDIO && f->host >= 0 &&
                 (f->filetype == WASI_FILETYPE_SOCKET_STREAM ||
                  f->filetype == WASI_FILETYPE_SOCKET_DGRAM));
    if (!sock)
        return WASI_ENOTSOCK;
    *out = f;
    return 0;
}

uint32_t wasi_sock_accept(wasi_call_t *c)
{
    wasi_fd_t *f;
    uint32_t e = get_socket(c, arg32(c, 0), &f);
    uint32_t flags = arg32(c, 1), out = arg32(c, 2);
    if (e)
        return e;
    if (f->dropped & WASI_RIGHT(WASI_RIGHT_SOCK_ACCEPT))
        return WASI_ENOTCAPABLE;
    if (flags & ~(uint32_t)WASI_FDFLAG_NONBLOCK)
        return WASI_EINVAL;
    if (!mem_ok(&c->mem, out, 4))
        return WASI_EFAULT;
    bool nonblock = f->fdflags & WASI_FDFLAG_NONBLOCK;
    int fd;
    if ((e = wasi_fd_reserve(c->w)) != 0)
        return e;
    for (;;) {
        if ((e = wasi_wait_fd(c, f->host, POLLIN, nonblock)) != 0) {
            wasi_fd_unreserve(c->w);
            return e;
        }
        fd = accept4(f->host, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd >= 0)
            break;
        if (errno == EINTR || ((errno == EAGAIN || errno == EWOULDBLOCK) && !nonblock))
            continue;
        wasi_fd_unreserve(c->w);
        return wasi_errno(errno);
    }
    wasi_fd_t nf = {.kind = WASI_FD_SOCKET, .host = fd, .own = true, .host_kind = WASI_HOST_SOCKET,
                    .host_nonblock = true, .counted = true, .can_read = true,
                    .can_write = true, .filetype = WASI_FILETYPE_SOCKET_STREAM,
                    .fdflags = (uint16_t)flags};
    uint32_t num;
    if ((e = wasi_fd_add(c->w, &nf, &num)) != 0) {
        close(fd);
        wasi_fd_unreserve(c->w);
        return e;
    }
    mem_put32(&c->mem, out, num);
    return 0;
}

uint32_t wasi_sock_recv(wasi_call_t *c)
{
    wasi_fd_t *f;
    uint32_t e = get_socket(c, arg32(c, 0), &f);
    uint32_t iovs = arg32(c, 1), niovs = arg32(c, 2), riflags = arg32(c, 3);
    uint32_t out_len = arg32(c, 4), out_flags = arg32(c, 5);
    if (e)
        return e;
    if (f->dropped & WASI_RIGHT(WASI_RIGHT_FD_READ))
        return WASI_ENOTCAPABLE;
    if (riflags & ~(uint32_t)(WASI_RIFLAG_PEEK | WASI_RIFLAG_WAITALL))
        return WASI_EINVAL;
    if (!mem_ok(&c->mem, out_len, 4) || !mem_ok(&c->mem, out_flags, 2))
        return WASI_EFAULT;
    struct iovec iov[WASI_MAX_IOVS];
    int n;
    uint64_t total;
    if ((e = wasi_iovecs(&c->mem, iovs, niovs, iov, &n, &total)) != 0)
        return e;
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n};
    /* Every call is MSG_DONTWAIT, so that only the wait (bounded by the
     * deadline) can block; MSG_WAITALL is then a loop of ours. */
    int flags = (riflags & WASI_RIFLAG_PEEK ? MSG_PEEK : 0) | MSG_DONTWAIT;
    bool waitall = (riflags & WASI_RIFLAG_WAITALL) && !(riflags & WASI_RIFLAG_PEEK);
    bool nonblock = f->fdflags & WASI_FDFLAG_NONBLOCK;
    ssize_t r = 0, got = 0;
    int truncated = 0;
    for (;;) {
        if ((e = wasi_wait_fd(c, f->host, POLLIN, nonblock)) != 0) {
            if (got && !c->exit)
                break; /* what came before the interruption */
            return e;
        }
        r = recvmsg(f->host, &msg, flags);
        if (r > 0) {
            got += r;
            truncated |= msg.msg_flags & MSG_TRUNC;
            if (!waitall || (uint64_t)got >= total || nonblock)
                break;
            /* Move on past what arrived. */
            size_t skip = (size_t)r;
            while (msg.msg_iovlen && skip >= msg.msg_iov->iov_len) {
                skip -= msg.msg_iov->iov_len;
                msg.msg_iov++;
                msg.msg_iovlen--;
            }
            if (!msg.msg_iovlen)
                break;
            msg.msg_iov->iov_base = (uint8_t *)msg.msg_iov->iov_base + skip;
            msg.msg_iov->iov_len -= skip;
            continue;
        }
        if (r == 0)
            break;
        if (errno == EINTR || ((errno == EAGAIN || errno == EWOULDBLOCK) && !nonblock))
            continue;
        if (got && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        return wasi_errno(errno);
    }
    r = got;
    msg.msg_flags = truncated;
    mem_put32(&c->mem, out_len, r > UINT32_MAX ? UINT32_MAX : (uint32_t)r);
    st16(mem_at(&c->mem, out_flags), (msg.msg_flags & MSG_TRUNC) ? WASI_ROFLAG_DATA_TRUNCATED : 0);
    return 0;
}

uint32_t wasi_sock_send(wasi_call_t *c)
{
    wasi_fd_t *f;
    uint32_t e = get_socket(c, arg32(c, 0), &f);
    uint32_t iovs = arg32(c, 1), niovs = arg32(c, 2), siflags = arg32(c, 3);
    uint32_t out = arg32(c, 4);
    if (e)
        return e;
    if (f->dropped & WASI_RIGHT(WASI_RIGHT_FD_WRITE))
        return WASI_ENOTCAPABLE;
    if (siflags != 0)
        return WASI_EINVAL; /* preview 1 defines no send flags */
    if (!mem_ok(&c->mem, out, 4))
        return WASI_EFAULT;
    struct iovec iov[WASI_MAX_IOVS];
    int n;
    uint64_t total;
    if ((e = wasi_iovecs(&c->mem, iovs, niovs, iov, &n, &total)) != 0)
        return e;
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n};
    bool nonblock = f->fdflags & WASI_FDFLAG_NONBLOCK;
    ssize_t r;
    for (;;) {
        if ((e = wasi_wait_fd(c, f->host, POLLOUT, nonblock)) != 0)
            return e;
        r = sendmsg(f->host, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (r >= 0)
            break;
        if (errno == EINTR || ((errno == EAGAIN || errno == EWOULDBLOCK) && !nonblock))
            continue;
        return wasi_errno(errno);
    }
    mem_put32(&c->mem, out, r > UINT32_MAX ? UINT32_MAX : (uint32_t)r);
    return 0;
}

uint32_t wasi_sock_shutdown(wasi_call_t *c)
{
    wasi_fd_t *f;
    uint32_t e = get_socket(c, arg32(c, 0), &f);
    uint32_t how = arg32(c, 1);
    if (e)
        return e;
    if (f->dropped & WASI_RIGHT(WASI_RIGHT_SOCK_SHUTDOWN))
        return WASI_ENOTCAPABLE;
    int h;
    switch (how) {
    case WASI_SDFLAG_RD: h = SHUT_RD; break;
    case WASI_SDFLAG_WR: h = SHUT_WR; break;
    case WASI_SDFLAG_RD | WASI_SDFLAG_WR: h = SHUT_RDWR; break;
    default: return WASI_EINVAL;
    }
    return shutdown(f->host, h) == 0 ? 0 : wasi_errno(errno);
}
