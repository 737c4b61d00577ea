#!/usr/bin/env python3
"""Checks that the wasi:http error-code case numbers whirl's headers use
match the WIT: error_codes.py PACKAGE.wit HEADER...

A constant OB_ERR_X_Y or ERR_X_Y = N names case x-y (or x-y-error) of the
variant, compared without regard to case. Prints one line per mismatch and
the count checked; exits 1 on any mismatch."""
import re
import sys

wit = open(sys.argv[1]).read()
body = wit[wit.index("variant error-code {"):]
body = body[body.index("{") + 1:body.index("}")]
cases = []
for line in body.splitlines():
    line = line.strip()
    if not line or line.startswith("//") or line.startswith("@"):
        continue
    cases.append(re.split(r"[(,]", line)[0].strip().lower())
bad = checked = 0
for header in sys.argv[2:]:
    for m in re.finditer(r"\b(?:OB_)?ERR_([A-Z_]+) = (\d+)", open(header).read()):
        name, index = m.group(1).lower().replace("_", "-"), int(m.group(2))
        want = [c for c in (name, name + "-error") if c in cases]
        checked += 1
        if not want or cases.index(want[0]) != index:
            bad += 1
            print("%s: %s = %d, but the WIT has %s" % (
                header, m.group(0).split()[0], index,
                "%s at %d" % (want[0], cases.index(want[0])) if want else "no such case"))
print("error_codes: %d constants checked against %d cases, %d wrong" % (checked, len(cases), bad))
sys.exit(1 if bad else 0)
