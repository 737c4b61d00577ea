#!/usr/bin/env python3
"""Converts a WebAssembly 3.0 .wast script to wast2json's JSON, command by
command where wabt cannot read all of it.

    wast3json.py FILE.wast OUT.json

wabt 1.0.32 (Debian's) reads the 3.0 syntax of tail calls, extended
constants, multi-memory and memory64 with --enable-all, but not typed
function references or GC. When the whole file does not convert, the
command wast2json names in its first error is replaced by blank lines (so
line numbers stay) and the file is converted again, until it converts. A
dropped module takes the commands that use it along (actions, assertions on
results and traps, register), up to the next module. Every dropped command
becomes a {"type": "skip", "line": N, "reason": ...} entry in the JSON,
which whirl-spec counts as skipped with its reason: nothing is left out
silently. Exit status 0 with the JSON written, 1 if conversion failed for a
reason other than a command wabt cannot read.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

# Commands that act on the current module: dropped with a dropped module.
USES_MODULE = ("assert_return", "assert_trap", "assert_exhaustion", "assert_exception",
               "invoke", "get", "register", "action")


def top_level_commands(text):
    """(start, end, first_line, keyword) of each top-level s-expression."""
    out = []
    i, n, depth, line = 0, len(text), 0, 1
    start = start_line = None
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif text.startswith(";;", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("(;", i):
            nest = 0
            while i < n:
                if text.startswith("(;", i):
                    nest += 1
                    i += 2
                elif text.startswith(";)", i):
                    nest -= 1
                    i += 2
                    if nest == 0:
                        break
                else:
                    if text[i] == "\n":
                        line += 1
                    i += 1
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\":
                    i += 1
                elif text[i] == "\n":
                    line += 1
                i += 1
            i += 1
        elif c == "(":
            if depth == 0:
                start, start_line = i, line
            depth += 1
            i += 1
        elif c == ")":
            depth -= 1
            i += 1
            if depth == 0:
                m = re.match(r"\(\s*([a-z_]+)", text[start:start + 64])
                out.append((start, i, start_line, m.group(1) if m else "?"))
        else:
            i += 1
    return out


def blank(text, start, end):
    """The text with [start, end) replaced by spaces, newlines kept."""
    return text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    src, out_json = sys.argv[1], sys.argv[2]
    with open(src, encoding="utf-8") as f:
        text = f.read()
    commands = top_level_commands(text)
    skips = []
    dropped = set()
    outdir = os.path.dirname(os.path.abspath(out_json))
    with tempfile.TemporaryDirectory(dir=outdir) as tmp:
        work = os.path.join(tmp, os.path.basename(src))
        doc = None
        for _ in range(len(commands) + 1):
            if len(dropped) == len(commands):
                # wast2json refuses an empty script: nothing is left to run.
                doc = {"commands": []}
                break
            with open(work, "w", encoding="utf-8") as f:
                f.write(text)
            p = subprocess.run(["wast2json", "--enable-all", "--no-check", work, "-o", out_json],
                               capture_output=True, text=True)
            if p.returncode == 0 and not p.stdout and not p.stderr:
                break
            msg = (p.stderr or p.stdout).strip().splitlines()
            m = re.match(r"^.*?:(\d+):\d+: error: (.*)$", msg[0] if msg else "")
            if not m:
                # Not a located error: a crash (wabt asserts on some syntax).
                # Find the first command wabt chokes on by converting each
                # alone; give up if none does.
                bad = None
                for idx, (s, e, ln, kw) in enumerate(commands):
                    if idx in dropped:
                        continue
                    one = os.path.join(tmp, "one.wast")
                    with open(one, "w", encoding="utf-8") as f:
                        f.write(text[s:e])
                    q = subprocess.run(["wast2json", "--enable-all", one, "-o",
                                        os.path.join(tmp, "one.json")],
                                       capture_output=True, text=True)
                    if q.returncode < 0 or (q.returncode != 0 and "error:" not in q.stderr):
                        bad = idx
                        break
                if bad is None:
                    sys.stderr.write("wast2json failed: %s\n" % "\n".join(msg[:5]))
                    return 1
                reason = "wast2json crashes on it (%s)" % (msg[-1][:120] if msg else "?")
            else:
                err_line, reason = int(m.group(1)), m.group(2)
                bad = None
                for idx, (s, e, ln, kw) in enumerate(commands):
                    end_line = ln + text[s:e].count("\n")
                    if idx not in dropped and ln <= err_line <= end_line:
                        bad = idx
                        break
                if bad is None:
                    sys.stderr.write("wast2json: %s (no command at that line)\n" % msg[0])
                    return 1
                reason = "wast2json cannot read it: " + reason
            victims = [bad]
            if commands[bad][3] == "module":
                for idx in range(bad + 1, len(commands)):
                    kw = commands[idx][3]
                    if kw == "module":
                        break
                    if kw in USES_MODULE and idx not in dropped:
                        victims.append(idx)
            for idx in victims:
                s, e, ln, kw = commands[idx]
                dropped.add(idx)
                text = blank(text, s, e)
                why = reason if idx == bad else "its module (line %d) was dropped" % commands[bad][2]
                skips.append({"type": "skip", "line": ln, "command": kw, "reason": why})
        else:
            sys.stderr.write("wast2json: no progress\n")
            return 1
        if doc is None:
            with open(out_json, encoding="utf-8") as f:
                doc = json.load(f)
    doc["source_filename"] = os.path.basename(src)
    doc["commands"] = sorted(doc["commands"] + skips, key=lambda c: c.get("line", 0))
    with open(out_json, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
