/* Bounds-checked cursor over WebAssembly binary data.
 *
 * Errors are sticky: the first failure records a message and the offset (from
 * the start of the module) and every later read returns 0 without advancing.
 * Callers check reader_ok() where it matters (before using a count to
 * allocate or loop, and at the end of a section). */
#ifndef WHIRL_WASM_READER_H
#define WHIRL_WASM_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct reader {
    const uint8_t *base; /* start of the module: offsets are relative to it */
    const uint8_t *p;
    const uint8_t *end;
    const char *error;   /* NULL while no error */
    size_t error_offset;
} reader_t;

static inline void reader_init(reader_t *r, const uint8_t *base, const uint8_t *p,
                               const uint8_t *end)
{
    r->base = base;
    r->p = p;
    r->end = end;
    r->error = NULL;
    r->error_offset = 0;
}

static inline bool reader_ok(const reader_t *r) { return r->error == NULL; }
static inline size_t reader_offset(const reader_t *r) { return (size_t)(r->p - r->base); }
static inline size_t reader_remaining(const reader_t *r) { return (size_t)(r->end - r->p); }
static inline bool reader_at_end(const reader_t *r) { return r->p >= r->end; }

/* Records `message` (a static string) at the current offset, if no error yet. */
static inline void reader_fail(reader_t *r, const char *message)
{
    if (!r->error) {
        r->error = message;
        r->error_offset = reader_offset(r);
    }
}

static inline uint8_t read_u8(reader_t *r)
{
    if (r->error)
        return 0;
    if (r->p >= r->end) {
        reader_fail(r, "unexpected end");
        return 0;
    }
    return *r->p++;
}

/* Unsigned LEB128 of at most `bits` bits. Overlong encodings and set bits
 * beyond `bits` are malformed ("integer representation too long",
 * "integer too large"), as the spec's binary tests require. */
static inline uint64_t read_uleb(reader_t *r, unsigned bits)
{
    uint64_t result = 0;
    unsigned shift = 0;
    unsigned max_bytes = (bits + 6) / 7;
    for (unsigned i = 0;; i++) {
        if (r->error)
            return 0;
        if (r->p >= r->end) {
            reader_fail(r, "unexpected end");
            return 0;
        }
        uint8_t b = *r->p;
        if (i == max_bytes - 1) {
            /* Last permitted byte: continuation bit not allowed, and the
             * unused high bits must be zero. */
            if (b & 0x80) {
                reader_fail(r, "integer representation too long");
                return 0;
            }
            unsigned used = bits - shift;
            if (used < 7 && (b >> used) != 0) {
                reader_fail(r, "integer too large");
                return 0;
            }
        }
        r->p++;
        result |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80))
            return result;
    }
}

/* Signed LEB128 of at most `bits` bits (32, 33 or 64). */
static inline int64_t read_sleb(reader_t *r, unsigned bits)
{
    int64_t result = 0;
    unsigned shift = 0;
    unsigned max_bytes = (bits + 6) / 7;
    for (unsigned i = 0;; i++) {
        if (r->error)
            return 0;
        if (r->p >= r->end) {
            reader_fail(r, "unexpected end");
            return 0;
        }
        uint8_t b = *r->p;
        if (i == max_bytes - 1) {
            if (b & 0x80) {
                reader_fail(r, "integer representation too long");
                return 0;
            }
            /* The unused bits must be a sign extension of the last used bit. */
            unsigned used = bits - shift; /* 1..7 value bits in this byte */
            if (used < 7) {
                /* Payload bits [used-1, 6] must be all 0 or all 1. */
                uint8_t mask = (uint8_t)(0x7f & ~((1u << (used - 1)) - 1));
                uint8_t hi = b & mask;
                if (hi != 0 && hi != mask) {
                    reader_fail(r, "integer too large");
                    return 0;
                }
            }
        }
        r->p++;
        if (shift < 64)
            result |= (int64_t)((uint64_t)(b & 0x7f) << shift);
        shift += 7;
        if (!(b & 0x80)) {
            if (shift < 64 && (b & 0x40))
                result |= (int64_t)(~(uint64_t)0 << shift);
            return result;
        }
    }
}

static inline uint32_t read_u32(reader_t *r) { return (uint32_t)read_uleb(r, 32); }
static inline uint64_t read_u64(reader_t *r) { return read_uleb(r, 64); }
static inline int32_t read_s32(reader_t *r) { return (int32_t)read_sleb(r, 32); }
static inline int64_t read_s33(reader_t *r) { return read_sleb(r, 33); }
static inline int64_t read_s64(reader_t *r) { return read_sleb(r, 64); }

static inline uint32_t read_fixed32(reader_t *r)
{
    if (r->error)
        return 0;
    if (reader_remaining(r) < 4) {
        reader_fail(r, "unexpected end");
        return 0;
    }
    uint32_t v;
    memcpy(&v, r->p, 4); /* the binary format is little-endian, as is the host */
    r->p += 4;
    return v;
}

static inline uint64_t read_fixed64(reader_t *r)
{
    if (r->error)
        return 0;
    if (reader_remaining(r) < 8) {
        reader_fail(r, "unexpected end");
        return 0;
    }
    uint64_t v;
    memcpy(&v, r->p, 8);
    r->p += 8;
    return v;
}

/* Returns a pointer to `len` bytes and skips them, or NULL on error. */
static inline const uint8_t *read_bytes(reader_t *r, size_t len)
{
    if (r->error)
        return NULL;
    if (reader_remaining(r) < len) {
        reader_fail(r, "unexpected end");
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += len;
    return p;
}

#endif
