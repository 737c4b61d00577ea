#!/usr/bin/env python3
"""Source lines in trap backtraces and the guest profiler, end to end.

    run.py WHIRL DEBUG_FRAMES BUILD_DIR SOURCE_DIR

Checks what `whirl run` prints for a trap deep in a call chain of a guest
built with clang-19 -g (files, lines and inlined frames against the lines of
the MARK comments in chain.c and chain.h, found here, never hard-coded), that
the same guest without DWARF prints the backtrace it always did, that
malformed DWARF falls back to it, that the public API gives the same
locations after the module and engine are gone (debug-frames), and that
`--profile=guest` on a guest with a known hot function writes collapsed
stacks naming it in most samples, Firefox-profiler JSON that parses and
holds together, and an SVG that parses as XML. Prints "N passed, M failed".
"""
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

whirl, frames_tool, build, src, demangling = sys.argv[1:6]
# hot.c's cold_path carries the mangled name of cold::path(unsigned, int).
COLD = "cold::path(unsigned int, int)" if demangling == "demangle" else "_ZN4cold4pathEji"
passed = failed = 0


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {what}")
    else:
        failed += 1
        print(f"FAIL {what}")
        if detail:
            for line in str(detail).splitlines()[:40]:
                print(f"     {line}")


def marks(path):
    """Line numbers of the `MARK: name` comments of a source file."""
    found = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            m = re.search(r"MARK: ([\w-]+)", line)
            if m:
                found[m.group(1)] = n
    return found


def run(*args, timeout=120):
    return subprocess.run([whirl, "run", *args], capture_output=True, text=True,
                          timeout=timeout)


FRAME = re.compile(r"^  (\d+): (\S+) @ 0x([0-9a-f]+)$")
LOC = re.compile(r"^        (?:inlined (\S+) )?at (.+?)(?::(\d+)(?::(\d+))?)?$")


def parse_backtrace(stderr):
    """[(name, offset, [(inlined_name or None, file, line, column)])]."""
    frames = []
    for line in stderr.splitlines():
        m = FRAME.match(line)
        if m:
            frames.append((m.group(2), int(m.group(3), 16), []))
            continue
        m = LOC.match(line)
        if m and frames:
            frames[-1][2].append((m.group(1), m.group(2),
                                  int(m.group(3) or 0), int(m.group(4) or 0)))
    return frames


def without_locations(stderr):
    """The backtrace without its source lines (whatever names they hold)."""
    return "\n".join(l for l in stderr.splitlines()
                     if not re.match(r"        (inlined .* )?at ", l))


chain_c = marks(os.path.join(src, "chain.c"))
chain_h = marks(os.path.join(src, "chain.h"))
dwarf_wasm = os.path.join(build, "chain.wasm")
plain_wasm = os.path.join(build, "chain-nodebug.wasm")

# ---- a trap deep in a call chain, with DWARF ----
r = run(dwarf_wasm)
check("chain.wasm traps (exit 134)", r.returncode == 134, r.stderr)
bt = parse_backtrace(r.stderr)
names = [f[0] for f in bt]
check("backtrace names check_depth, descend, main",
      names[:3] == ["check_depth", "descend", "descend"] and "main" in names, r.stderr)


def loc_is(loc, inlined, file, line):
    return loc[0] == inlined and os.path.basename(loc[1]) == file and loc[2] == line \
        and loc[3] > 0


if len(bt) >= 3:
    f0, f1, f2 = bt[0], bt[1], bt[2]
    check("frame 0 (the trap) is at chain.c's trap line",
          len(f0[2]) == 1 and loc_is(f0[2][0], None, "chain.c", chain_c["trap"]), r.stderr)
    check("frame 1 shows the inlined chain scale (chain.h) <- twice (chain.h) <- descend",
          len(f1[2]) == 3 and loc_is(f1[2][0], "scale", "chain.h", chain_h["scale-call"])
          and loc_is(f1[2][1], "twice", "chain.h", chain_h["twice-call"])
          and loc_is(f1[2][2], None, "chain.c", chain_c["descend-call"]), r.stderr)
    check("frame 2 is the recursive call's line",
          len(f2[2]) == 1 and loc_is(f2[2][0], None, "chain.c", chain_c["recurse"]), r.stderr)
    main = [f for f in bt if f[0] == "main"]
    check("main's frame is at its call of descend",
          main and len(main[0][2]) == 1 and loc_is(main[0][2][0], None, "chain.c",
                                                   chain_c["main-call"]), r.stderr)

# ---- the same guest without DWARF: today's output exactly ----
r2 = run(plain_wasm)
check("chain-nodebug.wasm traps (exit 134)", r2.returncode == 134, r2.stderr)
check("without DWARF no source lines are printed",
      without_locations(r2.stderr) + "\n" == r2.stderr, r2.stderr)
check("without DWARF the backtrace is the DWARF one minus its source lines",
      r2.stderr == without_locations(r.stderr) + "\n", f"{r2.stderr}\n---\n{r.stderr}")
check("the backtrace still has its shape: message, header, numbered frames",
      r2.stderr.startswith("error: trap: unreachable: in func ") and
      "\nwasm backtrace:\n  0: check_depth @ 0x" in r2.stderr, r2.stderr)


# ---- a precompiled module keeps its DWARF (custom sections are serialised) ----
with tempfile.TemporaryDirectory() as tmp:
    cwasm = os.path.join(tmp, "chain.cwasm")
    rc = subprocess.run([whirl, "compile", dwarf_wasm, "-o", cwasm], capture_output=True,
                        text=True)
    rp = run("--allow-precompiled", cwasm) if rc.returncode == 0 else rc
    check("a .cwasm of chain.wasm prints the same source lines",
          rp.returncode == 134 and rp.stderr == r.stderr, rp.stderr)

# ---- malformed DWARF: never a crash, the plain backtrace at worst ----
def sections(data):
    """(name or id, content start, content end) of each section."""
    out, pos = [], 8
    while pos < len(data):
        sid = data[pos]
        pos += 1
        size = shift = 0
        while True:
            b = data[pos]
            pos += 1
            size |= (b & 0x7f) << shift
            shift += 7
            if not b & 0x80:
                break
        start, end = pos, pos + size
        name = sid
        if sid == 0:
            n = shift = 0
            p = start
            while True:
                b = data[p]
                p += 1
                n |= (b & 0x7f) << shift
                shift += 7
                if not b & 0x80:
                    break
            name = data[p:p + n].decode("utf-8", "replace")
            start = p + n
        out.append((name, start, end))
        pos = end
    return out


original = open(dwarf_wasm, "rb").read()
debug_secs = [s for s in sections(original) if isinstance(s[0], str) and
              s[0].startswith(".debug_")]
check("chain.wasm carries .debug_info and .debug_line",
      {".debug_info", ".debug_line"} <= {s[0] for s in debug_secs})
rng = random.Random(20)
variants = []
for name, start, end in debug_secs:
    if name not in (".debug_info", ".debug_line", ".debug_abbrev", ".debug_ranges",
                    ".debug_rnglists", ".debug_str"):
        continue
    size = end - start
    for how in ("zeros", "ones", "random", "flip-header", "flip-some"):
        b = bytearray(original)
        if how == "zeros":
            b[start:end] = bytes(size)
        elif how == "ones":
            b[start:end] = b"\xff" * size
        elif how == "random":
            b[start:end] = bytes(rng.randrange(256) for _ in range(size))
        elif how == "flip-header":
            for i in range(start, min(end, start + 16)):
                b[i] ^= 0xff
        else:
            for _ in range(64):
                b[start + rng.randrange(size)] ^= 1 << rng.randrange(8)
        variants.append((f"{name} {how}", bytes(b)))
with tempfile.TemporaryDirectory() as tmp:
    bad = []
    for what, data in variants:
        path = os.path.join(tmp, "bad.wasm")
        with open(path, "wb") as f:
            f.write(data)
        rb = run(path)
        if rb.returncode != 134 or without_locations(rb.stderr) + "\n" != r2.stderr:
            bad.append(f"{what}: exit {rb.returncode}\n{rb.stderr}")
    check(f"{len(variants)} malformed-DWARF variants trap with the plain backtrace",
          not bad and variants, "\n".join(bad[:3]))

# ---- the public API, after the module and engine are gone ----
rf = subprocess.run([frames_tool, dwarf_wasm], capture_output=True, text=True, timeout=120)
check("debug-frames runs", rf.returncode == 0, rf.stdout + rf.stderr)
api = {}
for line in rf.stdout.splitlines():
    _, i, func, file, ln, col = line.split(" ")
    api.setdefault(int(i), []).append((func, os.path.basename(file), int(ln), int(col)))
cli = {i: [(l[0], os.path.basename(l[1]), l[2], l[3]) for l in f[2]] for i, f in enumerate(bt)}
api_in_cli_form = {i: [((l[0] if k + 1 < len(v) else None), l[1], l[2], l[3])
                       for k, l in enumerate(v)] for i, v in api.items()}
check("the API's locations are the ones whirl run prints",
      api_in_cli_form and all(api_in_cli_form.get(i, []) == cli[i] for i in cli
                              if i < 3), f"{api}\n{cli}")
check("the API names the frame's own function last (descend in frame 1)",
      api.get(1, [("",)])[-1][0] == "descend", api.get(1))

# ---- the profiler ----
hot = os.path.join(build, "hot.wasm")
with tempfile.TemporaryDirectory() as tmp:
    base = os.path.join(tmp, "prof")
    # One tier throughout: hot.c's split of the time (hot_inner ~90%) holds
    # within a tier, while under tier=auto it depends on which function is
    # compiled first (cold_path could stay interpreted while hot_inner runs
    # native). Samples across tiers: jit/tier-sample.
    rp = run("-C", "tier=interp", f"--profile=guest,{base}.json", hot, "4000", "40",
             timeout=240)
    check("whirl run --profile=guest runs the guest", rp.returncode == 0 and
          rp.stdout.strip().isdigit(), rp.stdout + rp.stderr)
    for ext in (".json", ".folded", ".svg"):
        check(f"the profile wrote {ext}", os.path.exists(base + ext), rp.stderr)
    folded = open(base + ".folded").read() if os.path.exists(base + ".folded") else ""
    lines = folded.splitlines()
    check("collapsed stacks: every line is `frame;frame;... COUNT`",
          lines and all(re.fullmatch(r"[^;\n]+(;[^;\n]+)* [1-9]\d*", l) for l in lines),
          folded[:2000])
    total = sum(int(l.rsplit(" ", 1)[1]) for l in lines) if lines else 0
    leaf = {}
    for l in lines:
        stack, n = l.rsplit(" ", 1)
        leaf[stack.split(";")[-1]] = leaf.get(stack.split(";")[-1], 0) + int(n)
    top = max(leaf, key=leaf.get) if leaf else None
    check(f"hot_inner is the top frame of most samples ({leaf.get('hot_inner', 0)}/{total})",
          top == "hot_inner" and leaf["hot_inner"] * 2 > total and total >= 20, folded[:2000])
    check("hot_inner's samples sit under hot_outer under main (its wasm name)",
          any(re.search(r"(^|;)(main|__main_argc_argv);hot_outer;hot_inner \d+$", l)
              for l in lines), folded)
    check(f"cold_path is sampled as {COLD}, less than hot_inner",
          0 < leaf.get(COLD, 0) < leaf.get("hot_inner", 0), leaf)
    try:
        prof = json.load(open(base + ".json"))
        ok_json = True
    except Exception as e:  # noqa: BLE001
        prof, ok_json = None, False
        check("the JSON parses", False, e)
    if ok_json:
        check("the JSON parses", True)
        meta, th = prof.get("meta", {}), (prof.get("threads") or [{}])[0]
        problems = []
        if not isinstance(meta.get("preprocessedProfileVersion"), int):
            problems.append("meta.preprocessedProfileVersion")
        for key in ("interval", "startTime", "categories", "version", "product"):
            if key not in meta:
                problems.append(f"meta.{key}")
        tables = {"samples": ("stack", "time"), "stackTable": ("prefix", "frame", "category",
                                                                "subcategory"),
                  "frameTable": ("func", "line", "column", "address", "category",
                                 "inlineDepth"),
                  "funcTable": ("name", "fileName", "isJS", "relevantForJS", "resource"),
                  "markers": ("name", "startTime"), "resourceTable": ("lib", "name")}
        for t, cols in tables.items():
            tab = th.get(t)
            if not isinstance(tab, dict) or not isinstance(tab.get("length"), int):
                problems.append(f"threads[0].{t}.length")
                continue
            for c in cols:
                if not isinstance(tab.get(c), list) or len(tab[c]) != tab["length"]:
                    problems.append(f"threads[0].{t}.{c} length")
        strings = th.get("stringArray", [])
        if not problems:
            st, fr, fn = th["stackTable"], th["frameTable"], th["funcTable"]
            if any(s is None or not 0 <= s < st["length"] for s in th["samples"]["stack"]):
                problems.append("a sample's stack out of range")
            if any(p is not None and not 0 <= p < i for i, p in enumerate(st["prefix"])):
                problems.append("a stack prefix not before its stack")
            if any(not 0 <= f < fr["length"] for f in st["frame"]):
                problems.append("a stack's frame out of range")
            if any(not 0 <= f < fn["length"] for f in fr["func"]):
                problems.append("a frame's func out of range")
            if any(not 0 <= s < len(strings) for s in fn["name"]):
                problems.append("a func name out of range")
            if th["samples"]["length"] != total:
                problems.append(f"{th['samples']['length']} samples, folded has {total}")
            times = th["samples"]["time"]
            if times != sorted(times):
                problems.append("sample times go backwards")
        check("the JSON has the processed format's tables, consistent", not problems,
              problems)
        if not problems:
            st, fr, fn = th["stackTable"], th["frameTable"], th["funcTable"]
            hot_funcs = [i for i, n in enumerate(fn["name"]) if strings[n] == "hot_inner"]
            files = [strings[fn["fileName"][i]] for i in hot_funcs
                     if fn["fileName"][i] is not None]
            check("hot_inner's function names its source file (DWARF)",
                  any(os.path.basename(f) == "hot.c" for f in files), files)
            lines_hot = {fr["line"][i] for i in range(fr["length"]) if fr["func"][i]
                         in hot_funcs}
            src_lines = open(os.path.join(src, "hot.c")).read().splitlines()
            body = [n for n, l in enumerate(src_lines, 1) if "x = x * 1664525u" in l or
                    "for (int i = 0; i < 400" in l]
            check("hot_inner's frames carry its loop's source lines",
                  bool(lines_hot & set(body)), (lines_hot, body))
    try:
        root = ET.parse(base + ".svg").getroot()
        titles = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}title")]
        check("the SVG parses as XML and is an <svg>", root.tag.endswith("svg"))
        check("the flame graph has a box for hot_inner",
              any(t.startswith("hot_inner (") for t in titles), titles[:20])
        rects = list(root.iter("{http://www.w3.org/2000/svg}rect"))
        check("the flame graph draws boxes", len(rects) >= 5, len(rects))
    except ET.ParseError as e:
        check("the SVG parses as XML and is an <svg>", False, e)

    # The deadline still holds while sampling shares its check.
    base2 = os.path.join(tmp, "deadline")
    rd = run(f"--profile=guest,{base2}", "-W", "timeout=200ms", hot, "100000", "100000",
             timeout=120)
    check("with --profile, -W timeout still interrupts the guest (exit 142)",
          rd.returncode == 142 and "interrupt" in rd.stderr, rd.stderr)
    check("an interrupted run still writes its profile",
          os.path.exists(base2 + ".folded") and os.path.getsize(base2 + ".folded") > 0)

    ru = run("--profile=cpu", hot)
    check("--profile=cpu is a usage error naming the strategy",
          ru.returncode == 2 and "unknown strategy 'cpu'" in ru.stderr, ru.stderr)
    ru = run("--profile=guest,x,1h", hot)
    check("--profile with a bad interval is a usage error", ru.returncode == 2, ru.stderr)

# ---- whirl serve --profile: every request's guest, one profile ----
wagi = os.path.join(build, "wagi_hot.wasm")
serve_help = subprocess.run([whirl, "serve", "--help"], capture_output=True, text=True)
if "--profile-for" not in serve_help.stdout:
    print("skip whirl serve --profile: whirl was built without serve (libmicrohttpd)")
with tempfile.TemporaryDirectory() as tmp:
    if "--profile-for" not in serve_help.stdout:
        raise SystemExit(print(f"{passed} passed, {failed} failed") or (1 if failed else 0))
    base = os.path.join(tmp, "serve")
    srv = subprocess.Popen([whirl, "serve", "--wagi", "--listen", "127.0.0.1:0", "--workers",
                            "2", f"--profile=guest,{base}", "--profile-for", "10m", wagi],
                           stderr=subprocess.PIPE, text=True)
    port, bodies = None, []
    try:
        for line in srv.stderr:  # waits for the event, no sleeping
            m = re.search(r"listening on http://[^ ]*:(\d+)", line)
            if m:
                port = m.group(1)
                break
        check("whirl serve --profile starts", port is not None)
        if port:
            import urllib.request
            for _ in range(3):
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=120) as resp:
                    bodies.append(resp.read().decode().strip())
        check("it answers requests while profiling",
              len(bodies) == 3 and all(b.isdigit() for b in bodies), bodies)
    finally:
        srv.send_signal(2)  # SIGINT: a graceful shutdown writes the profile
        try:
            rest = srv.communicate(timeout=120)[1]
        except subprocess.TimeoutExpired:
            srv.kill()
            rest = srv.communicate()[1]
    check("at shutdown it writes the profile", srv.returncode == 0 and
          os.path.exists(base + ".folded") and "profile:" in rest, rest)
    if os.path.exists(base + ".folded"):
        lines = open(base + ".folded").read().splitlines()
        total = sum(int(l.rsplit(" ", 1)[1]) for l in lines)
        hot_n = sum(int(l.rsplit(" ", 1)[1]) for l in lines
                    if l.rsplit(" ", 1)[0].endswith(";hot_inner"))
        check(f"the requests' samples are mostly hot_inner ({hot_n}/{total})",
              total >= 5 and hot_n * 2 > total, lines)
        try:
            json.load(open(base + ".json"))
            ET.parse(base + ".svg")
            check("its JSON and SVG parse", True)
        except Exception as e:  # noqa: BLE001
            check("its JSON and SVG parse", False, e)

# ---- whirl serve's trap log names the source lines too ----
with tempfile.TemporaryDirectory() as tmp:
    srv = subprocess.Popen([whirl, "serve", "--wagi", "--listen", "127.0.0.1:0", dwarf_wasm],
                           stderr=subprocess.PIPE, text=True)
    port, status = None, None
    try:
        for line in srv.stderr:
            m = re.search(r"listening on http://[^ ]*:(\d+)", line)
            if m:
                port = m.group(1)
                break
        if port:
            import urllib.error
            import urllib.request
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=60)
            except urllib.error.HTTPError as e:
                status = e.code
    finally:
        srv.send_signal(2)
        try:
            log = srv.communicate(timeout=60)[1]
        except subprocess.TimeoutExpired:
            srv.kill()
            log = srv.communicate()[1]
    check("a trapping request is a 500", status == 500, status)
    check("serve's trap log line names each frame's source line",
          f"#0 check_depth @0x{bt[0][1]:x} (chain.c:{chain_c['trap']})" in log and
          f"(chain.h:{chain_h['scale-call']})" in log, log)

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
