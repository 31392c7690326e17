#!/usr/bin/env python3
"""Copies sql/sample_shop.sql into the install script between its BEGIN/END markers.
Run after editing sql/sample_shop.sql; scripts/test.sh checks that the two agree."""
import sys, pathlib
root = pathlib.Path(__file__).resolve().parent.parent
ext = root / "extension" / "recommender--0.4.0.sql"   # the current version; 0.1.0, 0.2.0 and 0.3.0 are frozen as released
src = (root / "sql" / "sample_shop.sql").read_text()
begin, end = "-- BEGIN sql/sample_shop.sql (copied by scripts/embed-sample-shop.py)\n", "-- END sql/sample_shop.sql\n"
s = ext.read_text()
if begin in s:
    head, rest = s.split(begin, 1)
    _, tail = rest.split(end, 1)
else:
    head, tail = s.rstrip("\n") + "\n\n", ""
new = head + begin + src.rstrip("\n") + "\n" + end + tail
if "--check" in sys.argv:
    sys.exit(0 if new == s else "extension/recommender--0.4.0.sql is out of date: run scripts/embed-sample-shop.py")
ext.write_text(new)
