#!/usr/bin/env python3
"""Checks wast3json.py's jco fallback: modules wabt cannot read (typed
function references) become skips without --jco, and with it the binaries
jco makes, in place of the stand-ins wabt was given, with every command kept.
Exit 77 (skipped) when jco or wast2json is missing."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import wast3json  # noqa: E402

WAST = r'''
(module $M
  (type $t (func (result i32)))
  (func $f (type $t) (i32.const 7))
  (elem declare func $f)
  (func (export "run") (result i32) (call_ref $t (ref.func $f)))
  (global (export "g") i32 (i32.const 1))
)
(assert_return (invoke $M "run") (i32.const 7))
(assert_trap (invoke "run") "never")
(assert_return (get "g") (i32.const 1))
(assert_invalid
  (module (type $t (func)) (func (param (ref null $t)) (call_ref $t (i32.const 0))))
  "type mismatch")
(module (func (export "plain") (result i32) (i32.const 3)))
(assert_return (invoke "plain") (i32.const 3))
'''

failures = checks = 0


def check(cond, what):
    global failures, checks
    checks += 1
    if not cond:
        failures += 1
        print("FAIL:", what)


def convert(tmp, jco):
    out = os.path.join(tmp, "jco" if jco else "plain")
    os.makedirs(out)
    src = os.path.join(out, "t.wast")
    with open(src, "w") as f:
        f.write(WAST)
    args = [sys.executable, os.path.join(here, "wast3json.py")] + (["--jco"] if jco else [])
    p = subprocess.run(args + [src, os.path.join(out, "t.json")], capture_output=True, text=True)
    check(p.returncode == 0, "conversion%s exits 0: %s" % (" --jco" if jco else "", p.stderr))
    with open(os.path.join(out, "t.json")) as f:
        return out, json.load(f)["commands"]


def check_prepasses():
    """The 3.0 script forms rewritten before wabt sees them (no tools)."""
    text = ('((@a) module (@b "x)" (; ) ;) (c)) $m (@custom "s" "d")\n'
            '  (func (export "f") (@a\n ;; )\n )))\n'
            '(assert_malformed (module quote "(@a) (func)") "x")\n')
    got = wast3json.strip_annotations(text)
    check(got.count("\n") == text.count("\n"), "annotations: lines kept")
    check("(@a" not in got.split("quote")[0] and "(@b" not in got,
          "annotations: (@a ...) and (@b ...) blanked: %r" % got)
    check('(@custom "s" "d")' in got, "annotations: @custom kept")
    check('quote "(@a) (func)"' in got, "annotations: strings untouched")
    check(got.lstrip("( ").startswith("module"), "annotations: the module keyword is first")

    text = ("(module definition $M\n  (func))\n(module instance $I $M)\n"
            "(register \"I\" $I)\n(module definition $N (memory 1))\n")
    got, defs, insts = wast3json.module_forms(text)
    check(sorted(defs) == [1, 5], "definitions found at lines 1 and 5: %s" % sorted(defs))
    check(insts == {3: {"type": "module_instance", "line": 3, "instance": "$I", "module": "$M"}},
          "the instance command: %s" % insts)
    check(got.count("\n") == text.count("\n"), "module forms: lines kept")
    check("definition" not in got and "instance" not in got, "module forms rewritten: %r" % got)
    check("(module $I binary" in got, "the instance stands in as a binary module named $I")

    text = ('(assert_return (invoke "a") (ref.null))\n'
            '(assert_return (invoke "b") (ref.null) (ref.null extern))\n'
            '(module quote "(ref.null)")\n')
    got, lines = wast3json.bare_nulls(text)
    check(lines == {1}, "only a command whose nulls are all bare becomes any-null: %s" % lines)
    check(got.count("(ref.null func)") == 2, "bare nulls given a heap type for wabt: %r" % got)
    check('quote "(ref.null)"' in got, "bare nulls: other commands untouched")


def main():
    check_prepasses()
    if not wast3json.find_jco() or not shutil.which("wast2json"):
        print("test_wast3json: jco or wast2json missing: skipped")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        _, plain = convert(tmp, False)
        skipped = [c for c in plain if c["type"] == "skip"]
        check(len(skipped) >= 4, "without --jco the typed module and its users are skips (%d)"
              % len(skipped))
        check(any(c["type"] == "module" for c in plain), "the plain module still converts")

        out, cmds = convert(tmp, True)
        types = [c["type"] for c in cmds]
        check("skip" not in types, "with --jco nothing is skipped: %s" % types)
        check(types == ["module", "assert_return", "assert_trap", "assert_return",
                        "assert_invalid", "module", "assert_return"], "commands kept: %s" % types)
        check(cmds[0].get("name") == "$M", "the module keeps its name")
        check(cmds[1]["action"].get("module") == "$M", "the invoke names its module")
        for idx in (0, 4):
            with open(os.path.join(out, cmds[idx]["filename"]), "rb") as f:
                data = f.read()
            check(data.startswith(b"\0asm"), "command %d: a binary module" % idx)
            check(wast3json.PLACEHOLDER.encode() not in data,
                  "command %d: the stand-in was replaced" % idx)
            check(b"\x14" in data, "command %d: the jco binary has call_ref" % idx)
            if idx == 4:
                check(b"\x63\x00" in data, "command 4: the jco binary has a (ref null $t) param")
        check(cmds[5]["type"] == "module" and "filename" in cmds[5], "wabt converted the plain module")
    print("test_wast3json: %d checks, %d failed" % (checks, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
