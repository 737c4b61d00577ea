#!/usr/bin/env python3
"""Converts a WebAssembly 3.0 .wast script to wast2json's JSON, command by
command where wabt cannot read all of it.

    wast3json.py [--jco] FILE.wast OUT.json

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

With --jco, before a command with a module in text form is dropped, its module is
converted alone by `jco parse` (wasm-tools' text parser, which reads typed
function references and GC; it does not validate, so assert_invalid modules
convert too) and put back as `(module $id binary "...")`, padded to the same
number of lines. jco is $WHIRL_JCO, else tests/component/node_modules/.bin/jco,
else the one on PATH; without it, commands are dropped as
before. It is an option because a module wabt cannot read usually needs a
feature whirl does not implement either: without it such modules stay
skips with their reason, with it they run (and fail) and are counted.
"""
import json
import shutil
import os
import re
import subprocess
import sys
import tempfile

# Modules whirl cannot run yet for a reason other than wabt, by file and
# line: each is dropped with its commands, as a named skip.
NOT_YET = {
}

# Assertions of the threads proposal's files that 3.0 reverses: the files
# predate reference types (several tables) and multi-memory, so these
# modules are valid now. By folder/file and line; each is a named skip.
_PRE_MULTI = ("the threads proposal's file predates %s (in 3.0): the module is valid now")
OUTDATED = {
    ("threads/memory.wast", 14): _PRE_MULTI % "multi-memory",
    ("threads/memory.wast", 15): _PRE_MULTI % "multi-memory",
    ("threads/imports.wast", 309): _PRE_MULTI % "reference types' several tables",
    ("threads/imports.wast", 313): _PRE_MULTI % "reference types' several tables",
    ("threads/imports.wast", 317): _PRE_MULTI % "reference types' several tables",
    ("threads/imports.wast", 404): _PRE_MULTI % "multi-memory",
    ("threads/imports.wast", 408): _PRE_MULTI % "multi-memory",
    ("threads/imports.wast", 412): _PRE_MULTI % "multi-memory",
}

# Commands (modules with their users, or assertions) that use GC's type
# definitions (recursion groups, declared subtypes): GC is a later issue.
GC_TYPES = re.compile(r"\((rec|sub)\b")
# GC's aggregate types (struct/array definitions, arrayref and the like).
GC_AGGREGATES = re.compile(r"\((struct|array)\b|\b(arrayref|structref|anyref|eqref|i31ref)\b")
TYPED_REF = re.compile(r"\(ref\s")


def not_yet(src, ln, kw, command_text):
    why = NOT_YET.get((os.path.basename(src), ln))
    if why is None and GC_TYPES.search(command_text):
        why = "uses GC type definitions (rec/sub): garbage collection is a later issue"
    if why is None and GC_AGGREGATES.search(command_text):
        why = "uses GC's struct/array types: garbage collection is a later issue"
    return why


# Only modules of exception handling go to binaryen: other modules wabt
# cannot read use features whirl does not have yet (and stay skips).
EXCEPTIONS = re.compile(r"\b(try_table|throw_ref|exnref|catch_ref|catch_all_ref)\b")

# A module in text form, given as strings (`module quote`).
QUOTED = re.compile(r"\(\s*module\s+(\$[^\s()]+\s+)?quote\b")

# Commands that act on the current module: dropped with a dropped module.
USES_MODULE = ("assert_return", "assert_trap", "assert_exhaustion", "assert_exception",
               "invoke", "get", "register", "action")


# Annotations that mean something in the binary (custom sections, names,
# code metadata) stay for jco; any other `(@id ...)` is ignored by the text
# format's definition, so it is blanked out before wabt (which does not read
# annotations) sees the script.
KEPT_ANNOTATIONS = re.compile(r'@(custom|name|metadata\.)')


def skip_atom(text, i):
    """Index after the string or comment starting at text[i], or None."""
    n = len(text)
    if text[i] == '"':
        i += 1
        while i < n and text[i] != '"':
            i += 2 if text[i] == "\\" else 1
        return i + 1
    if text.startswith(";;", i):
        j = text.find("\n", i)
        return n if j < 0 else j
    if text.startswith("(;", i):
        nest = 0
        while i < n:
            if text.startswith("(;", i):
                nest, i = nest + 1, i + 2
            elif text.startswith(";)", i):
                nest, i = nest - 1, i + 2
                if nest == 0:
                    return i
            else:
                i += 1
        return n
    return None


def strip_annotations(text):
    """The script with every annotation but KEPT_ANNOTATIONS blanked
    (newlines kept, so line numbers stay); strings are never touched."""
    out, i, n = [], 0, len(text)
    while i < n:
        j = skip_atom(text, i)
        if j is not None:
            out.append(text[i:j])
            i = j
            continue
        if text.startswith("(@", i) and not KEPT_ANNOTATIONS.match(text, i + 1):
            depth, j = 0, i
            while j < n:
                k = skip_atom(text, j)
                if k is not None:
                    j = k
                    continue
                if text[j] == "(":
                    depth += 1
                elif text[j] == ")":
                    depth -= 1
                    if depth == 0:
                        j += 1
                        break
                j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


# `(module definition $M ...)` and `(module instance $I $M)` (3.0 scripts),
# which wabt does not read: a definition goes to wabt as a plain module and
# comes back as a "module_definition" command; an instance stands in as an
# empty binary module named $I (so that later commands may name it) and
# comes back as a "module_instance" command.
DEFINITION = re.compile(r"\(\s*module(\s+)definition\b")
INSTANCE = re.compile(r"\(\s*module\s+instance\s+(\$[^\s()]+)\s+(\$[^\s()]+)\s*\)")
EMPTY_MODULE = '"\\00asm\\01\\00\\00\\00"'


# `(ref.null)` without a heap type (3.0 scripts: a null reference of any
# type) in an expected result, which wabt does not read: it goes to wabt as
# `(ref.null func)` and comes back as {"type": "refnull"}, any null.
BARE_NULL = re.compile(r"\(\s*ref\.null\s*\)")


def bare_nulls(text):
    """(text, lines of assert_return commands whose nulls are all bare)."""
    lines = set()
    for s, e, ln, kw in reversed(top_level_commands(text)):
        body = text[s:e]
        if kw != "assert_return" or not BARE_NULL.search(body):
            continue
        if len(BARE_NULL.findall(body)) == body.count("ref.null"):
            lines.add(ln)
        text = text[:s] + BARE_NULL.sub("(ref.null func)", body) + text[e:]
    return text, lines


def module_forms(text):
    """(text, {line: "module_definition" command stub}, {line: instance
    command}) with the 3.0 module forms rewritten for wabt."""
    definitions, instances = {}, {}
    for s, e, ln, kw in reversed(top_level_commands(text)):
        if kw != "module":
            continue
        m = DEFINITION.match(text, s)
        if m:
            definitions[ln] = True
            text = text[:m.start(1)] + " " * (len(m.group(0)) - m.start(1) + m.start(0) -
                                               len("(module")) + text[m.end():]
            continue
        m = INSTANCE.match(text, s)
        if m and m.end() == e:
            instances[ln] = {"type": "module_instance", "line": ln,
                             "instance": m.group(1), "module": m.group(2)}
            new = "(module %s binary %s)" % (m.group(1), EMPTY_MODULE)
            new += "\n" * text[s:e].count("\n")
            text = text[:s] + new + text[e:]
    return text, definitions, instances


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


def find_wasm_as():
    """binaryen's wasm-as (npm's reads the 3.0 text wabt cannot), or None."""
    here = os.path.dirname(os.path.abspath(__file__))
    for cand in (os.environ.get("WHIRL_WASM_AS"),
                 os.path.join(here, "..", "component", "node_modules", ".bin", "wasm-as")):
        if cand and os.access(cand, os.X_OK):
            return cand
    return None


VALTYPES = {0x7F: "i32", 0x7E: "i64", 0x7D: "f32", 0x7C: "f64", 0x7B: "v128",
            0x70: "funcref", 0x6F: "externref"}


def func_exports(data):
    """[(name, params, results)] of a binary module's exported functions, the
    types as text (a type wabt cannot read becomes externref: only the
    placeholder sees it)."""
    pos = [8]

    def byte():
        b = data[pos[0]]
        pos[0] += 1
        return b

    def uleb():
        v = shift = 0
        while True:
            b = byte()
            v |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return v

    def valtype():
        b = byte()
        if b in (0x63, 0x64):  # (ref null? ht): skip the heap type
            uleb()
        return VALTYPES.get(b, "externref")

    types, funcs, exports = [], [], []
    while pos[0] < len(data):
        sid, size = byte(), uleb()
        end = pos[0] + size
        if sid == 1:
            for _ in range(uleb()):
                if byte() != 0x60:
                    return None
                params = [valtype() for _ in range(uleb())]
                results = [valtype() for _ in range(uleb())]
                types.append((params, results))
        elif sid == 2:
            for _ in range(uleb()):
                for _ in range(2):
                    n = uleb()
                    pos[0] += n
                kind = byte()
                if kind == 0:
                    funcs.append(uleb())
                elif kind == 1:
                    valtype()
                    flags = byte()
                    uleb()
                    if flags & 1:
                        uleb()
                elif kind == 2:
                    flags = byte()
                    uleb()
                    if flags & 1:
                        uleb()
                    if flags & 8:
                        uleb()
                elif kind == 3:
                    valtype()
                    byte()
                elif kind == 4:
                    byte()
                    uleb()
                else:
                    return None
        elif sid == 3:
            for _ in range(uleb()):
                funcs.append(uleb())
        elif sid == 7:
            for _ in range(uleb()):
                n = uleb()
                name = data[pos[0]:pos[0] + n].decode("utf-8")
                pos[0] += n
                kind, idx = byte(), uleb()
                if kind == 0 and idx < len(funcs) and funcs[idx] < len(types):
                    exports.append((name,) + types[funcs[idx]])
        pos[0] = end
    return exports


def placeholder(module_id, exports):
    def esc(name):
        return "".join(c if c.isalnum() or c in "-_." else "\\%02x" % ord(c) for c in name)
    out = ["(module%s" % module_id]
    for name, params, results in exports:
        ps = " ".join(params)
        rs = " ".join(results)
        out.append('(func (export "%s")%s%s unreachable)' % (
            esc(name), " (param %s)" % ps if ps else "", " (result %s)" % rs if rs else ""))
    return " ".join(out) + ")"


def assemble(wasm_as, tmp, module_text):
    """(placeholder text, binary) for the module, or None. wabt decodes
    binary modules too, so the script gets an empty module in binary form
    and its .wasm file gets the real bytes after conversion."""
    m = re.match(r"\(module(\s+\$[^\s()]+)?", module_text)
    if not m or re.match(r"\(module(\s+\$[^\s()]+)?\s+(binary|quote|definition|instance)\b",
                         module_text):
        return None
    src = os.path.join(tmp, "asm.wat")
    out = os.path.join(tmp, "asm.wasm")
    with open(src, "w", encoding="utf-8") as f:
        f.write(module_text)
    p = subprocess.run([wasm_as, "--all-features", src, "-o", out], capture_output=True, text=True)
    if p.returncode != 0 or not os.path.exists(out):
        return None
    with open(out, "rb") as f:
        data = f.read()
    os.unlink(out)
    try:
        exports = func_exports(data)
    except (IndexError, UnicodeDecodeError):
        exports = None
    if exports is None:
        return None
    return placeholder(m.group(1) or "", exports), data


PLACEHOLDER = "wast3json-jco-module-"
jco_modules = []  # binaries by stand-in number


def find_jco():
    cand = [os.environ.get("WHIRL_JCO", ""),
            os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "component",
                         "node_modules", ".bin", "jco")]
    for c in cand:
        if c and os.access(c, os.X_OK):
            return c
    return shutil.which("jco")


def module_span(text, start, end):
    """(start, end) of the text-form module of the command at [start, end):
    the command itself or its first `(module` subexpression; None when the
    module is already binary or quoted, or there is none."""
    m = re.search(r"\(\s*module\b", text[start:end])
    if not m:
        return None
    s = start + m.start()
    depth, i = 0, s
    while i < end:
        j = skip_atom(text, i)  # a string or comment, `(;;)` included
        if j is not None:
            i = j
            continue
        c = text[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return (s, i + 1)
        i += 1
    return None


def jco_binary_module(jco, tmp, module_text):
    """`(module $id binary "...")` for a text-form module, or None."""
    m = re.match(r"\(\s*module(\s+(\$[^\s()]+))?\s", module_text)
    if not m:
        return None
    rest = module_text[m.end():].lstrip()
    if re.match(r"(binary|quote|definition|instance)\b", rest):
        return None
    ident = m.group(2)
    wat, wasm = os.path.join(tmp, "jco.wat"), os.path.join(tmp, "jco.wasm")
    with open(wat, "w", encoding="utf-8") as f:
        f.write("(module " + module_text[m.end():])
    if os.path.exists(wasm):
        os.unlink(wasm)
    try:
        p = subprocess.run([jco, "parse", wat, "-o", wasm], capture_output=True, text=True,
                           timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if p.returncode != 0 or not os.path.exists(wasm):
        return None
    with open(wasm, "rb") as f:
        data = f.read()
    # wabt checks binary modules as it copies them, and it cannot read their
    # types either: the module stands in as an empty one whose custom
    # section names it, and the file wast2json writes is replaced afterwards.
    key = (PLACEHOLDER + str(len(jco_modules))).encode()
    jco_modules.append(data)
    stub = stub_module(data, key)
    if stub is None:
        return None
    return "(module %s binary \"%s\")" % (ident or "", "".join("\\%02x" % b for b in stub))


def wast_string_bytes(body):
    """The bytes of a .wast string literal's body (between the quotes)."""
    out, i = bytearray(), 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode("utf-8")
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in "0123456789abcdefABCDEF":
            out.append(int(body[i + 1:i + 3], 16))
            i += 3
        elif nxt == "u":
            j = body.index("}", i)
            out += chr(int(body[i + 3:j].replace("_", ""), 16)).encode("utf-8")
            i = j + 1
        else:
            out += {"n": b"\n", "t": b"\t", "r": b"\r"}.get(nxt, nxt.encode("utf-8"))
            i += 2
    return bytes(out)


def binary_module_stub(module_text):
    """`(module $id binary "...")` again for a binary module wabt cannot read
    (it checks the types as it copies the bytes): a stand-in as for jco's
    binaries, with the module's own bytes put back afterwards. None when
    `module_text` is not a binary module."""
    m = re.match(r"\(\s*module(\s+(\$[^\s()]+))?\s+binary\b", module_text)
    if not m:
        return None
    rest = re.sub(r";;[^\n]*", "", module_text[m.end():])
    try:
        data = b"".join(wast_string_bytes(b) for b in re.findall(r'"((?:[^"\\]|\\.)*)"', rest))
    except (ValueError, IndexError):
        return None
    key = (PLACEHOLDER + str(len(jco_modules))).encode()
    stub = stub_module(data, key)
    if stub is None:
        return None
    jco_modules.append(data)
    return "(module %s binary \"%s\")" % (m.group(2) or "", "".join("\\%02x" % b for b in stub))


def leb(data, i):
    """(unsigned LEB128 at data[i], next index)."""
    v = shift = 0
    while True:
        b = data[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return v, i


def uleb(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def section(sid, body):
    return bytes([sid]) + uleb(len(body)) + body


def stub_module(data, key):
    """A module wabt reads: the real one's exports (wast2json looks them up
    for assert_trap's results), globals as i32 globals and everything else
    as `func () -> ()`, and a custom section named `key`."""
    exports = []
    try:
        i = 8
        while i < len(data):
            sid = data[i]
            size, i = leb(data, i + 1)
            if sid == 7:
                j = i
                n, j = leb(data, j)
                for _ in range(n):
                    ln, j = leb(data, j)
                    name = data[j:j + ln]
                    kind = data[j + ln]
                    _, j = leb(data, j + ln + 1)
                    exports.append((name, kind))
            i += size
    except IndexError:
        return None
    funcs = [e for e in exports if e[1] != 3]
    globs = [e for e in exports if e[1] == 3]
    out = b"\0asm\1\0\0\0" + section(1, b"\x01\x60\x00\x00")
    if funcs:
        out += section(3, uleb(len(funcs)) + b"\x00" * len(funcs))
    if globs:
        out += section(6, uleb(len(globs)) + b"\x7f\x00\x41\x00\x0b" * len(globs))
    body = b""
    fi = gi = 0
    for name, kind in exports:
        if kind == 3:
            body += uleb(len(name)) + name + b"\x03" + uleb(gi)
            gi += 1
        else:
            body += uleb(len(name)) + name + b"\x00" + uleb(fi)
            fi += 1
    out += section(7, uleb(len(exports)) + body)
    if funcs:
        out += section(10, uleb(len(funcs)) + b"\x02\x00\x0b" * len(funcs))
    return out + section(0, uleb(len(key)) + key)


def restore_jco_modules(doc, outdir):
    """Puts the jco binaries in place of the stand-ins wast2json wrote."""
    for cmd in doc["commands"]:
        name = cmd.get("filename")
        if not name or not name.endswith(".wasm"):
            continue
        path = os.path.join(outdir, name)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            continue
        key = PLACEHOLDER.encode()
        at = data.rfind(key)
        if at < 0 or at + len(key) + 8 < len(data):
            continue
        n = int(data[at + len(key):].decode())
        with open(path, "wb") as f:
            f.write(jco_modules[n])


def blank(text, start, end):
    """The text with [start, end) replaced by spaces, newlines kept."""
    return text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]


def main():
    args = sys.argv[1:]
    use_jco = bool(args) and args[0] == "--jco"
    if use_jco:
        args = args[1:]
    if len(args) != 2:
        sys.stderr.write(__doc__)
        return 2
    src, out_json = args
    with open(src, encoding="utf-8") as f:
        text = f.read()
    text, definitions, instances = module_forms(strip_annotations(text))
    text, any_null = bare_nulls(text)
    commands = top_level_commands(text)
    skips = []
    dropped = set()
    assembled = set()
    real_bytes = {}  # line -> the module binaryen assembled
    wasm_as = find_wasm_as()
    jco = find_jco() if use_jco else None
    tried_jco = set()
    tried_binary = set()  # binary modules wabt could not read, put in by binary_module_stub
    outdir = os.path.dirname(os.path.abspath(out_json))
    where = "/".join(os.path.abspath(src).split(os.sep)[-2:])
    for idx, (s, e, ln, kw) in enumerate(commands):
        outdated = OUTDATED.get((where, ln))
        if outdated and kw.startswith("assert_"):
            dropped.add(idx)
            text = blank(text, s, e)
            skips.append({"type": "skip", "line": ln, "command": kw, "reason": outdated})
            continue
        why = not_yet(src, ln, kw, text[s:e])
        if why is None:
            continue
        victims = [idx]
        for j in range(idx + 1, len(commands)):
            if kw != "module" or commands[j][3] == "module":
                break
            if commands[j][3] in USES_MODULE:
                victims.append(j)
        for j in victims:
            js, je, jl, jk = commands[j]
            dropped.add(j)
            text = blank(text, js, je)
            skips.append({"type": "skip", "line": jl, "command": jk,
                          "reason": why if j == idx else "its module (line %d) was dropped" % ln})
    with tempfile.TemporaryDirectory(dir=outdir) as tmp:
        work = os.path.join(tmp, os.path.basename(src))
        doc = None
        if jco:
            # wabt reads `(ref $t)` in an old encoding of typed function
            # references (0x6b/0x6c): such modules go to jco first.
            for idx in range(len(commands)):
                s, e, ln, kw = commands[idx]
                span = None if idx in dropped else module_span(text, s, e)
                if not span or not TYPED_REF.search(text[span[0]:span[1]]):
                    continue
                tried_jco.add(idx)
                binary = jco_binary_module(jco, tmp, text[span[0]:span[1]])
                if not binary:
                    continue
                new = binary + "\n" * text[span[0]:span[1]].count("\n")
                text = text[:span[0]] + new + text[span[1]:]
                delta = len(new) - (span[1] - span[0])
                commands = [(cs + (delta if cs > span[0] else 0), ce + (delta if ce > span[0] else 0),
                             cl, ck) for (cs, ce, cl, ck) in commands]
        for _ in range(2 * len(commands) + 1):
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
            if (commands[bad][3] == "module" and bad not in assembled and wasm_as and
                    EXCEPTIONS.search(text[commands[bad][0]:commands[bad][1]])):
                # A module wabt cannot read: binaryen assembles it, and the
                # script gets it in binary form (lines kept).
                s, e, ln, kw = commands[bad]
                got = assemble(wasm_as, tmp, text[s:e])
                assembled.add(bad)
                if got is not None:
                    binary, real_bytes[ln] = got
                    n = text[s:e].count("\n")
                    text = text[:s] + binary + "\n" * n + text[e:]
                    delta = len(binary) + n - (e - s)
                    commands = [(cs + (delta if cs > s else 0), ce + (delta if ce > s else 0),
                                 cl, ck) for (cs, ce, cl, ck) in commands]
                    continue
            if jco and bad not in tried_jco:
                tried_jco.add(bad)
                s, e, ln, kw = commands[bad]
                span = module_span(text, s, e)
                binary = span and jco_binary_module(jco, tmp, text[span[0]:span[1]])
                if binary:
                    lines = text[span[0]:span[1]].count("\n")
                    new = binary + "\n" * lines
                    text = text[:span[0]] + new + text[span[1]:]
                    # Shift the offsets after the module (dropped commands
                    # are blanked, so the list cannot be recomputed).
                    delta = len(new) - (span[1] - span[0])
                    commands = [(cs + (delta if cs > span[0] else 0), ce + (delta if ce > span[0] else 0),
                                 cl, ck) for (cs, ce, cl, ck) in commands]
                    continue
            if commands[bad][3] == "module" and bad not in tried_binary:
                tried_binary.add(bad)
                s, e, ln, kw = commands[bad]
                binary = binary_module_stub(text[s:e])
                if binary:
                    n = text[s:e].count("\n")
                    new = binary + "\n" * n
                    text = text[:s] + new + text[e:]
                    delta = len(new) - (e - s)
                    commands = [(cs + (delta if cs > s else 0), ce + (delta if ce > s else 0),
                                 cl, ck) for (cs, ce, cl, ck) in commands]
                    continue
            if commands[bad][3].endswith("_custom"):
                # assert_malformed_custom / assert_invalid_custom: about the
                # contents of custom sections, which engines may ignore.
                reason = ("custom-section assertion (whirl reads custom sections only for "
                          "names and DWARF, as the spec allows): " + reason)
            elif QUOTED.search(text[commands[bad][0]:commands[bad][1]]):
                # Text that only a text parser reads: whirl reads binaries.
                reason = "text-format module (quote), which wabt cannot read: " + reason
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
    for c in doc["commands"]:
        if c.get("type") == "module" and c.get("line") in real_bytes:
            with open(os.path.join(outdir, c["filename"]), "wb") as f:
                f.write(real_bytes[c["line"]])
            c["assembled_by"] = "binaryen wasm-as"
    restore_jco_modules(doc, outdir)
    for c in doc["commands"]:
        if c.get("type") == "assert_return" and c.get("line") in any_null:
            c["expected"] = [{"type": "refnull"} if v == {"type": "funcref", "value": "null"}
                             else v for v in c.get("expected", [])]
    for i, c in enumerate(doc["commands"]):
        if c.get("type") != "module":
            continue
        if c.get("line") in definitions:
            c["type"] = "module_definition"
        elif c.get("line") in instances:
            if c.get("filename"):
                os.unlink(os.path.join(outdir, c["filename"]))
            doc["commands"][i] = instances[c["line"]]
    doc["source_filename"] = os.path.basename(src)
    doc["commands"] = sorted(doc["commands"] + skips, key=lambda c: c.get("line", 0))
    with open(out_json, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
