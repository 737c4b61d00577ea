#!/usr/bin/env python3
"""gdb on the LLVM tier's code, through the GDB JIT interface, end to end.

    gdb_jit.py WHIRL BUILD_DIR SOURCE_DIR

Runs Debian's gdb in batch mode on `whirl run -C tier=jit -D debug-info` of
gdb_guest.wasm (clang-19 -O0 -g) and checks that a breakpoint set by the
guest function's name hits in it at its first statement (the MARK lines of
gdb_guest.c, found here, never hard-coded), that `next` moves to the next
source line, that `bt` shows the guest's frames and the host's (whirl's
main), and that `print local0` prints the parameter (Wasm local 0). Then
the same guest without DWARF: the breakpoint by name still hits, at the
function's byte offset in the pseudo file `wasm-offsets`. Exits 77 (ctest
SKIP) only when gdb is missing. Prints "N passed, M failed".
"""
import os
import re
import shutil
import subprocess
import sys

whirl, build, src = sys.argv[1:4]
passed = failed = 0


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {what}")
    else:
        failed += 1
        print(f"FAIL {what}")
        for line in str(detail).splitlines()[:60]:
            print(f"     {line}")


def marks(path):
    found = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            m = re.search(r"MARK: ([\w-]+)", line)
            if m:
                found[m.group(1)] = n
    return found


def gdb(commands, guest):
    argv = ["gdb", "-batch", "-nx", "-ex", "set breakpoint pending on"]
    for c in commands:
        argv += ["-ex", c]
    argv += ["--args", whirl, "run", "-C", "tier=jit", "-D", "debug-info", guest]
    # LeakSanitizer cannot run under ptrace (an ASan build would end with its
    # fatal error); the rest of the suite checks for leaks.
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=240, env=env)
    return p.returncode, p.stdout


gdb_path = shutil.which("gdb")
if not gdb_path:
    print("SKIP: gdb is not installed (Debian: gdb)")
    sys.exit(77)

# ptrace must work for anything below to mean something: say so plainly.
probe = subprocess.run(["gdb", "-batch", "-nx", "-ex", "run", "--args", "/bin/true"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
check("gdb can run a process here (ptrace allowed)", "exited normally" in probe.stdout,
      probe.stdout)

source = os.path.join(src, "gdb_guest.c")
m = marks(source)
guest = os.path.join(build, "gdb_guest.wasm")
rc, out = gdb(["break add_squares", "run", "next", "bt", "print local0", "continue"], guest)
print("---- gdb transcript (guest with DWARF) ----")
print(out.rstrip())
print("----")
first, second = m["first-statement"], m["second-statement"]
hit = re.search(r"Breakpoint 1, add_squares \(local0=10\) at (\S+):(\d+)", out)
check("the breakpoint by name hits in add_squares with its argument",
      hit is not None, out)
check(f"...at the first statement, gdb_guest.c:{first}",
      hit is not None and hit.group(1).endswith("gdb_guest.c") and int(hit.group(2)) == first,
      hit.group(0) if hit else out)
check("gdb shows the source line (it found the file)",
      re.search(rf"^{first}\s+int total = 0;", out, re.M) is not None, out)
check(f"`next` moves to the next line, {second}",
      re.search(rf"^{second}\s+for \(int i = 1;", out, re.M) is not None, out)
frames = re.findall(r"^#(\d+)\s+(?:0x[0-9a-f]+ in )?(\S+) \(.*?\)(?: at (\S+))?", out, re.M)
names = [f[1] for f in frames]
check("bt: frame #0 is add_squares at the new line",
      re.search(rf"^#0\s+add_squares \(local0=10\) at \S*gdb_guest.c:{second}$", out, re.M)
      is not None, out)
check("bt: the guest's caller (its main) at its source line",
      any(n in ("__original_main", "main") and (f or "").endswith(f"gdb_guest.c:{m['call']}")
          for _, n, f in frames), out)
check("bt: whirl's own frames (native_enter, whirl_func_call, main in main.c)",
      "native_enter" in names and "whirl_func_call" in names and
      any(n == "main" and (f or "").startswith(os.path.dirname(os.path.dirname(src)))
          and "src/cli/main.c" in (f or "") for _, n, f in frames), out)
check("bt: no frame gdb could not name",
      "?? ()" not in out, out)
check("print local0 prints the parameter", re.search(r"^\$1 = 10$", out, re.M) is not None, out)
check("the guest runs to its end under gdb",
      "sum of squares: 385" in out and re.search(r"exited normally", out) is not None, out)

# Without DWARF: names still come from the name section, lines are byte offsets.
stripped = os.path.join(build, "gdb_guest-nodebug.wasm")
rc, out = gdb(["break add_squares", "run", "bt 1", "continue"], stripped)
print("---- gdb transcript (guest without DWARF) ----")
print(out.rstrip())
print("----")
hit = re.search(r"Breakpoint 1, add_squares \(local0=10\) at wasm-offsets:(\d+)", out)
check("without DWARF the breakpoint by name hits, at a byte offset in wasm-offsets",
      hit is not None and int(hit.group(1)) > 0, out)
check("without DWARF the guest runs to its end", "exited normally" in out, out)

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
