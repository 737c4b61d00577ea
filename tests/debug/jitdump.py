#!/usr/bin/env python3
"""perf's jitdump file from the LLVM tier (`-D jitdump`), parsed.

    jitdump.py WHIRL BUILD_DIR

Runs gdb_guest-nodebug.wasm with `-C tier=jit -D jitdump -D perfmap` and
reads /tmp/jit-PID.dump as perf's jitdump specification defines it: the
header (magic, version, size, ELF machine, pid), then records, each
JIT_CODE_LOAD here with pid, tid, addresses, size, index, a NUL-terminated
name and the code bytes. Every function the perf map lists (the same
compile) must have a load record with the same name, address and size,
and the guest's add_squares must be among them. Prints "N passed, M failed".
"""
import os
import platform
import struct
import subprocess
import sys

whirl, build = sys.argv[1:3]
passed = failed = 0


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {what}")
    else:
        failed += 1
        print(f"FAIL {what}")
        for line in str(detail).splitlines()[:40]:
            print(f"     {line}")


guest = os.path.join(build, "gdb_guest-nodebug.wasm")
p = subprocess.Popen([whirl, "run", "-C", "tier=jit", "-D", "jitdump", "-D", "perfmap", guest],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
out, err = p.communicate(timeout=120)
check("the guest runs with -D jitdump", p.returncode == 0 and "385" in out, out + err)
dump_path, map_path = f"/tmp/jit-{p.pid}.dump", f"/tmp/perf-{p.pid}.map"
try:
    with open(dump_path, "rb") as f:
        data = f.read()
    with open(map_path) as f:
        perfmap = [line.split(" ", 2) for line in f.read().splitlines()]
finally:
    for path in (dump_path, map_path):
        if os.path.exists(path):
            os.unlink(path)

magic, version, total, mach, pad, pid, ts, flags = struct.unpack_from("<IIIIIIQQ", data, 0)
check("header: magic JiTD, version 1, 40 bytes",
      (magic, version, total) == (0x4A695444, 1, 40), (hex(magic), version, total))
expected_mach = {"x86_64": 62, "aarch64": 183}.get(platform.machine())
check("header: the ELF machine of this host", expected_mach is None or mach == expected_mach,
      mach)
check("header: the process's pid, no flags", pid == p.pid and flags == 0, (pid, p.pid, flags))

records, at, problems = [], total, []
while at < len(data):
    if len(data) - at < 16:
        problems.append(f"truncated record header at {at}")
        break
    rid, size, rts = struct.unpack_from("<IIQ", data, at)
    if size < 16 or at + size > len(data):
        problems.append(f"record at {at} claims {size} bytes")
        break
    if rid == 0:  # JIT_CODE_LOAD
        rpid, tid, vma, addr, code_size, index = struct.unpack_from("<IIQQQQ", data, at + 16)
        name_at = at + 56
        end = data.index(b"\0", name_at, at + size)
        name = data[name_at:end].decode()
        code = data[end + 1:at + size]
        records.append(dict(pid=rpid, vma=vma, addr=addr, size=code_size, index=index,
                            name=name, code=code, ts=rts))
        if len(code) != code_size:
            problems.append(f"{name}: {len(code)} code bytes, record says {code_size}")
    else:
        problems.append(f"unexpected record id {rid}")
    at += size
check("records parse to the end of the file, all JIT_CODE_LOAD", not problems and records,
      "\n".join(problems))
check("each record: this pid, vma == code_addr, a unique index, timestamps after the header",
      all(r["pid"] == p.pid and r["vma"] == r["addr"] and r["ts"] >= ts for r in records) and
      len({r["index"] for r in records}) == len(records), records[:3])
by_addr = {r["addr"]: r for r in records}
missing = []
for start, size, name in perfmap:
    r = by_addr.get(int(start, 16))
    if not r or r["size"] != int(size, 16) or r["name"] != name:
        missing.append(f"{start} {size} {name} -> {r and (r['name'], r['size'])}")
check(f"every function of the perf map ({len(perfmap)}) has its load record (name, size)",
      perfmap and not missing and len(records) == len(perfmap), "\n".join(missing))
sq = [r for r in records if r["name"] == "add_squares"]
check("add_squares has a load record with its code bytes",
      len(sq) == 1 and sq[0]["size"] > 0 and any(sq[0]["code"]), sq)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
