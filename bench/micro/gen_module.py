#!/usr/bin/env python3
"""Writes the instantiation micro-benchmark module as a binary .wasm.

    gen_module.py --data-bytes N [--pages P] OUT.wasm

The module, in text form (DATA_LEN = N bytes of pseudo-random data):

  (module
    (type $unary (func (param i32) (result i32)))
    (type $run (func (result i32)))
    (table 100 100 funcref)
    (memory (export "memory") P P)               ;; P = ceil(N / 64 KiB) or --pages
    (global $salt (mut i32) (i32.const 0x5eed))
    (global (export "expected") i32 (i32.const E)) ;; what run() returns
    (func $f0 .. $f49 (type $unary) ...)          ;; x*K_i + C_i ^ salt
    (func (export "run") (type $run) ...)         ;; reads data at both ends,
                                                  ;; 3 call_indirects, 1 call
    (func (export "work") (type $unary) ...)      ;; n rounds of an LCG+xorshift
    (elem (i32.const 0) func $f0 .. $f49 $f0 .. $f49)
    (data (i32.const 0) "...DATA_LEN bytes..."))

Written directly in binary because a 16 MiB data segment as WAT text would
be ~50 MB. Python 3 standard library only.
"""
import argparse
import struct
import sys

NFUNCS = 50
TABLE = 100
MASK = 0xFFFFFFFF


def uleb(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def sleb(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if (n == 0 and not b & 0x40) or (n == -1 and b & 0x40):
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def i32const(v):
    v &= MASK
    if v >= 1 << 31:
        v -= 1 << 32
    return b"\x41" + sleb(v)


def vec(items):
    return uleb(len(items)) + b"".join(items)


def section(sid, body):
    return bytes([sid]) + uleb(len(body)) + body


def name(s):
    return uleb(len(s)) + s.encode()


def body(locals_, code):
    b = vec([uleb(n) + bytes([t]) for n, t in locals_]) + code + b"\x0b"
    return uleb(len(b)) + b


def consts(i):
    return (2654435761 * (i + 1)) & MASK | 1, (40503 * (i + 7)) & MASK


SALT = 0x5EED
CALLS = (3, 57, 99)  # table slots run() calls through
DIRECT = 7           # function run() calls directly


def f_eval(i, x):
    k, c = consts(i)
    return ((x * k + c) & MASK) ^ SALT


def gen(data_bytes, pages):
    # Deterministic data (an LCG), so run()'s result is known in advance.
    data = bytearray(data_bytes)
    s = 12345
    for off in range(0, data_bytes - data_bytes % 4, 4):
        s = (s * 1103515245 + 12345) & MASK
        struct.pack_into("<I", data, off, s)
    first = struct.unpack_from("<I", data, 0)[0]
    last_off = data_bytes - 4
    last = struct.unpack_from("<I", data, last_off)[0]
    x = (first + last) & MASK
    for slot in CALLS:
        x = f_eval(slot % NFUNCS, x)
    expected = f_eval(DIRECT, x)

    types = vec([b"\x60" + vec([b"\x7f"]) + vec([b"\x7f"]),  # 0: unary
                 b"\x60" + vec([]) + vec([b"\x7f"])])        # 1: run
    funcs = vec([uleb(0)] * NFUNCS + [uleb(1), uleb(0)])
    table = vec([b"\x70\x01" + uleb(TABLE) + uleb(TABLE)])
    memory = vec([b"\x01" + uleb(pages) + uleb(pages)])
    globals_ = vec([b"\x7f\x01" + i32const(SALT) + b"\x0b",
                    b"\x7f\x00" + i32const(expected) + b"\x0b"])
    exports = vec([name("memory") + b"\x02" + uleb(0),
                   name("expected") + b"\x03" + uleb(1),
                   name("run") + b"\x00" + uleb(NFUNCS),
                   name("work") + b"\x00" + uleb(NFUNCS + 1)])
    elems = vec([b"\x00" + i32const(0) + b"\x0b" + vec([uleb(i % NFUNCS) for i in range(TABLE)])])

    codes = []
    for i in range(NFUNCS):
        k, c = consts(i)
        codes.append(body([], b"\x20\x00" + i32const(k) + b"\x6c" + i32const(c) + b"\x6a"
                          + b"\x23\x00" + b"\x73"))
    run = (b"\x41\x00" + b"\x28\x02" + uleb(0)              # i32.load offset=0
           + b"\x41\x00" + b"\x28\x02" + uleb(last_off)     # i32.load offset=last
           + b"\x6a")
    for slot in CALLS:
        run += i32const(slot) + b"\x11" + uleb(0) + uleb(0)  # call_indirect (type 0) table 0
    run += b"\x10" + uleb(DIRECT)
    codes.append(body([], run))
    # work(n): local 1 = x; loop { x = x*1664525+1013904223; x ^= x>>13; n-- } while n
    work = (i32const(0x1234567) + b"\x21\x01"
            + b"\x02\x40" + b"\x20\x00\x45\x0d\x00"          # block; br_if 0 (n == 0)
            + b"\x03\x40"                                    # loop
            + b"\x20\x01" + i32const(1664525) + b"\x6c" + i32const(1013904223) + b"\x6a"
            + b"\x22\x01" + b"\x20\x01" + b"\x41\x0d\x76" + b"\x73" + b"\x21\x01"
            + b"\x20\x00\x41\x01\x6b\x22\x00\x0d\x00"        # n = n-1; br_if loop
            + b"\x0b\x0b" + b"\x20\x01")
    codes.append(body([(1, 0x7F)], work))
    datas = vec([b"\x00" + i32const(0) + b"\x0b" + uleb(len(data)) + bytes(data)])

    return (b"\x00asm\x01\x00\x00\x00"
            + section(1, types) + section(3, funcs) + section(4, table)
            + section(5, memory) + section(6, globals_) + section(7, exports)
            + section(9, elems) + section(10, vec(codes)) + section(11, datas))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-bytes", type=int, required=True)
    p.add_argument("--pages", type=int, help="memory pages (default: enough for the data)")
    p.add_argument("out")
    a = p.parse_args()
    if a.data_bytes < 8 or a.data_bytes % 4:
        p.error("--data-bytes must be a multiple of 4, at least 8")
    pages = a.pages or (a.data_bytes + 65535) // 65536
    if pages * 65536 < a.data_bytes:
        p.error("--pages too small for the data")
    with open(a.out, "wb") as f:
        f.write(gen(a.data_bytes, pages))
    return 0


if __name__ == "__main__":
    sys.exit(main())
