#!/usr/bin/env python3
"""Prints the definitions of the named functions (with their COMMENT) from an install script, for
writing an upgrade script: scripts/sql-blocks.py extension/recommender--0.2.0.sql recommender.tune ...
A block runs from its 'CREATE FUNCTION name(' line to the first blank line after the end of its body."""
import re, sys
path, names = sys.argv[1], sys.argv[2:]
lines = open(path).read().split("\n")
for name in names:
    found = False
    for i, l in enumerate(lines):
        if re.match(r"CREATE (OR REPLACE )?FUNCTION " + re.escape(name) + r"\(", l):
            found = True
            j = i
            in_body = False
            while j < len(lines):
                if "$$" in lines[j] and lines[j].count("$$") % 2 == 1:
                    in_body = not in_body
                if not in_body and lines[j].strip() == "" and j > i:
                    break
                j += 1
            print("\n".join(lines[i:j]).replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
            print()
    if not found:
        sys.exit(f"no function {name} in {path}")
