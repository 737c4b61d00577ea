/* WASI standard streams served by host callbacks
 * (whirl_wasi_config_stdio_callback) and contexts found per store
 * (whirl_linker_define_wasi_lookup): what `whirl serve` builds on to give
 * each request its own stdin and stdout through one instance_pre. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* (module (type (func (param i32 i32 i32 i32) (result i32)))
 *   (import "wasi_snapshot_preview1" "fd_read" (func (type 0)))
 *   (import "wasi_snapshot_preview1" "fd_write" (func (type 0)))
 *   (memory (export "memory") 1)
 *   (func (export "fd_read") (type 0) local.get 0..3 call 0)
 *   (func (export "fd_write") (type 0) local.get 0..3 call 1))
 * (host functions need a wasm caller to reach its memory) */
static const uint8_t module_bytes[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x09, 0x01, 0x60, 0x04, 0x7f, 0x7f, 0x7f, 0x7f, 0x01, 0x7f,
    0x02, 0x44, 0x02,
    0x16, 'w', 'a', 's', 'i', '_', 's', 'n', 'a', 'p', 's', 'h', 'o', 't', '_', 'p', 'r', 'e',
    'v', 'i', 'e', 'w', '1', 0x07, 'f', 'd', '_', 'r', 'e', 'a', 'd', 0x00, 0x00,
    0x16, 'w', 'a', 's', 'i', '_', 's', 'n', 'a', 'p', 's', 'h', 'o', 't', '_', 'p', 'r', 'e',
    'v', 'i', 'e', 'w', '1', 0x08, 'f', 'd', '_', 'w', 'r', 'i', 't', 'e', 0x00, 0x00,
    0x03, 0x03, 0x02, 0x00, 0x00,
    0x05, 0x03, 0x01, 0x00, 0x01,
    0x07, 0x1f, 0x03,
    0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00,
    0x07, 'f', 'd', '_', 'r', 'e', 'a', 'd', 0x00, 0x02,
    0x08, 'f', 'd', '_', 'w', 'r', 'i', 't', 'e', 0x00, 0x03,
    0x0a, 0x1b, 0x02,
    0x0c, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0x20, 0x03, 0x10, 0x00, 0x0b,
    0x0c, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0x20, 0x03, 0x10, 0x01, 0x0b,
};

/* One request's streams: input handed out `chunk` bytes at a time, output
 * taken at most `chunk` bytes at a time, then an error if asked for. */
typedef struct io {
    const char *in;
    size_t in_len, in_pos;
    char out[256];
    size_t out_len;
    size_t chunk;
    int fail; /* errno to return once the input is consumed / output full */
    int calls;
} io_t;

static int64_t io_read(void *env, void *buf, size_t len)
{
    io_t *io = env;
    io->calls++;
    if (io->in_pos == io->in_len)
        return io->fail ? -io->fail : 0;
    size_t n = io->in_len - io->in_pos;
    if (n > len)
        n = len;
    if (n > io->chunk)
        n = io->chunk;
    memcpy(buf, io->in + io->in_pos, n);
    io->in_pos += n;
    return (int64_t)n;
}

static int64_t io_write(void *env, void *buf, size_t len)
{
    io_t *io = env;
    io->calls++;
    size_t room = sizeof io->out - io->out_len;
    if (room == 0 || (io->fail && io->out_len >= 8))
        return -(io->fail ? io->fail : ENOSPC);
    size_t n = len < io->chunk ? len : io->chunk;
    if (n > room)
        n = room;
    memcpy(io->out + io->out_len, buf, n);
    io->out_len += n;
    return (int64_t)n;
}

typedef struct ctx {
    whirl_wasi_t *wasi[2];
} ctx_t;

static whirl_wasi_t *lookup(void *env, whirl_store_t *store)
{
    ctx_t *c = env;
    intptr_t which = (intptr_t)whirl_store_data(store);
    return which >= 0 && which < 2 ? c->wasi[which] : NULL;
}

static whirl_wasi_t *new_ctx(io_t *io)
{
    whirl_wasi_config_t *cfg = whirl_wasi_config_new();
    whirl_error_t *err = whirl_wasi_config_stdio_callback(cfg, 0, io_read, io);
    if (!err)
        err = whirl_wasi_config_stdio_callback(cfg, 1, io_write, io);
    whirl_wasi_t *w = NULL;
    if (!err)
        err = whirl_wasi_new(cfg, &w);
    else
        whirl_wasi_config_delete(cfg);
    CHECK(err == NULL);
    whirl_error_delete(err);
    return w;
}

/* Calls fd_read/fd_write(fd, iovs at 0 with the given lengths at 1024...,
 * n, result at 16); returns the errno and *count the result. */
static int32_t call_io(whirl_store_t *store, whirl_instance_t *inst, const char *name, int fd,
                       const uint32_t *lens, int n, uint32_t *count)
{
    whirl_extern_t mem, f;
    CHECK(whirl_instance_export(inst, "memory", 6, &mem));
    CHECK(whirl_instance_export(inst, name, strlen(name), &f));
    uint8_t *m = whirl_memory_data(mem.of.memory);
    uint32_t at = 1024;
    for (int i = 0; i < n; i++) {
        uint32_t iov[2] = {at, lens[i]};
        memcpy(m + 100 + 8 * i, iov, 8);
        at += lens[i];
    }
    whirl_val_t args[4] = {{.kind = WHIRL_I32, .of.i32 = fd}, {.kind = WHIRL_I32, .of.i32 = 100},
                           {.kind = WHIRL_I32, .of.i32 = n}, {.kind = WHIRL_I32, .of.i32 = 16}};
    whirl_val_t res;
    whirl_error_t *err = whirl_func_call(store, f.of.func, args, 4, &res, 1);
    CHECK(err == NULL);
    whirl_error_delete(err);
    memcpy(count, m + 16, 4);
    return res.of.i32;
}

int main(void)
{
    whirl_engine_t *engine;
    whirl_error_t *err = whirl_engine_new(NULL, &engine);
    CHECK(err == NULL);
    whirl_module_t *module;
    err = whirl_module_new(engine, module_bytes, sizeof module_bytes, &module);
    CHECK(err == NULL);
    if (err) {
        fprintf(stderr, "%s\n", whirl_error_message(err));
        return 1;
    }

    /* Bad arguments are refused. */
    whirl_wasi_config_t *cfg = whirl_wasi_config_new();
    io_t dummy = {0};
    err = whirl_wasi_config_stdio_callback(cfg, 3, io_read, &dummy);
    CHECK(err != NULL && strstr(whirl_error_message(err), "fd 3"));
    whirl_error_delete(err);
    err = whirl_wasi_config_stdio_callback(cfg, 0, NULL, &dummy);
    CHECK(err != NULL);
    whirl_error_delete(err);
    whirl_wasi_config_delete(cfg);

    /* Two contexts behind one linker and one instance_pre. */
    io_t io[2] = {{.in = "hello, stream", .in_len = 13, .chunk = 5},
                  {.in = "second", .in_len = 6, .chunk = 100}};
    ctx_t ctx = {{new_ctx(&io[0]), new_ctx(&io[1])}};
    whirl_linker_t *linker = whirl_linker_new(engine);
    err = whirl_linker_define_wasi_lookup(linker, lookup, &ctx);
    CHECK(err == NULL);
    whirl_instance_pre_t *pre = NULL;
    err = whirl_linker_instantiate_pre(linker, module, &pre);
    CHECK(err == NULL);
    whirl_linker_delete(linker);

    whirl_store_t *s0 = whirl_store_new(engine, (void *)(intptr_t)0, NULL);
    whirl_store_t *s1 = whirl_store_new(engine, (void *)(intptr_t)1, NULL);
    whirl_instance_t *i0, *i1;
    CHECK(whirl_instance_pre_instantiate(pre, s0, &i0) == NULL);
    CHECK(whirl_instance_pre_instantiate(pre, s1, &i1) == NULL);
    whirl_extern_t mem0, mem1;
    CHECK(whirl_instance_export(i0, "memory", 6, &mem0));
    CHECK(whirl_instance_export(i1, "memory", 6, &mem1));
    uint8_t *m0 = whirl_memory_data(mem0.of.memory), *m1 = whirl_memory_data(mem1.of.memory);

    /* A read fills buffers in turn and stops at the first short one: 3 + 5
     * of the 3 + 8 asked for, then the next 5. */
    uint32_t lens[2] = {3, 8}, got = 0;
    CHECK(call_io(s0, i0, "fd_read", 0, lens, 2, &got) == 0);
    CHECK(got == 8 && memcmp(m0 + 1024, "hello, s", 8) == 0);
    CHECK(call_io(s0, i0, "fd_read", 0, lens, 2, &got) == 0);
    CHECK(got == 5 && memcmp(m0 + 1024, "tream", 5) == 0);
    /* Store 1 reads its own input. */
    uint32_t big = 100;
    CHECK(call_io(s1, i1, "fd_read", 0, &big, 1, &got) == 0);
    CHECK(got == 6 && memcmp(m1 + 1024, "second", 6) == 0);
    /* End of stream is a read of 0. */
    CHECK(call_io(s1, i1, "fd_read", 0, &big, 1, &got) == 0 && got == 0);

    /* A write loops over short takes until every buffer is consumed. */
    memcpy(m0 + 1024, "abcdefghijkl", 12);
    uint32_t wl[2] = {7, 5};
    CHECK(call_io(s0, i0, "fd_write", 1, wl, 2, &got) == 0);
    CHECK(got == 12 && io[0].out_len == 12 && memcmp(io[0].out, "abcdefghijkl", 12) == 0);
    CHECK(io[1].out_len == 0);
    /* fd 2 was not given a callback: discarded, and nothing reaches fd 1's. */
    CHECK(call_io(s0, i0, "fd_write", 2, wl, 2, &got) == 0 && got == 12);
    CHECK(io[0].out_len == 12);
    /* Writing to stdin or reading stdout: EBADF (8). */
    CHECK(call_io(s0, i0, "fd_write", 0, wl, 1, &got) == 8);
    CHECK(call_io(s0, i0, "fd_read", 1, wl, 1, &got) == 8);

    /* Errors: a failing write with nothing taken reports the errno (EPIPE
     * is WASI 64); after some bytes, the bytes. */
    io[1].fail = EPIPE;
    memcpy(m1 + 1024, "0123456789abcdef", 16);
    uint32_t l16 = 16;
    CHECK(call_io(s1, i1, "fd_write", 1, &l16, 1, &got) == 0 && got == 16);
    CHECK(call_io(s1, i1, "fd_write", 1, &l16, 1, &got) == 64);
    CHECK(call_io(s1, i1, "fd_read", 0, &big, 1, &got) == 64);
    io[1].fail = EINTR;
    CHECK(call_io(s1, i1, "fd_read", 0, &big, 1, &got) == 27);

    whirl_store_delete(s0);
    whirl_store_delete(s1);

    /* A store whose lookup finds nothing traps instead of using another's. */
    whirl_store_t *s2 = whirl_store_new(engine, (void *)(intptr_t)7, NULL);
    whirl_instance_t *i2;
    CHECK(whirl_instance_pre_instantiate(pre, s2, &i2) == NULL);
    whirl_extern_t f;
    CHECK(whirl_instance_export(i2, "fd_write", 8, &f));
    whirl_val_t args[4] = {{.kind = WHIRL_I32, .of.i32 = 1}, {.kind = WHIRL_I32, .of.i32 = 0},
                           {.kind = WHIRL_I32, .of.i32 = 0}, {.kind = WHIRL_I32, .of.i32 = 0}};
    whirl_val_t res;
    err = whirl_func_call(s2, f.of.func, args, 4, &res, 1);
    CHECK(err != NULL && strstr(whirl_error_message(err), "no WASI context"));
    whirl_error_delete(err);
    whirl_store_delete(s2);

    whirl_instance_pre_delete(pre);
    whirl_wasi_delete(ctx.wasi[0]);
    whirl_wasi_delete(ctx.wasi[1]);
    whirl_module_delete(module);
    whirl_engine_delete(engine);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
