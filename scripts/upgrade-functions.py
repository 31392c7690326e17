#!/usr/bin/env python3
"""Lists, or prints as CREATE OR REPLACE, the functions whose definitions differ between two
install scripts: a tool for writing an upgrade script (the identity check of
Tests/scenarios/upgrade.sh says whether the result equals a fresh install).
  scripts/upgrade-functions.py OLD.sql NEW.sql            # NEW / CHANGED / DROPPED, one per line
  scripts/upgrade-functions.py OLD.sql NEW.sql --print    # the NEW and CHANGED blocks, in NEW's order
A block runs from its 'CREATE FUNCTION name(' line to the first blank line after its body (a
dollar-quoted string of any tag, or a C function's AS clause), so it takes the COMMENT and anything
else written right after it."""
import re, sys

def blocks(path):
    text = open(path).read()
    out = []
    for m in re.finditer(r"^CREATE (OR REPLACE )?FUNCTION ([\w@.]+)\(", text, re.M):
        start = m.start()
        # the body: a dollar-quoted string (any tag) or a C function's AS 'file', 'symbol'
        body = re.compile(r"\bAS\s+(\$(\w*)\$|'MODULE_PATHNAME')").search(text, m.end())
        end = body.end()
        if body.group(1).startswith("$"):
            close = text.index(body.group(1), body.end())
            end = close + len(body.group(1))
        blank = text.find("\n\n", end)
        stop = len(text) if blank < 0 else blank
        out.append((m.group(2), text[start:stop]))
    return out

old, new = blocks(sys.argv[1]), blocks(sys.argv[2])
olddict = {}
for k, b in old:
    olddict.setdefault(k, []).append(b)
newnames = {k for k, _ in new}
for k, b in new:
    if k in olddict and b in olddict[k]:
        continue
    if "--print" in sys.argv:
        print(b.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
        print()
    else:
        print(("CHANGED " if k in olddict else "NEW ") + k)
if "--print" not in sys.argv:
    for k in olddict:
        if k not in newnames:
            print("DROPPED " + k)
