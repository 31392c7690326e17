#!/usr/bin/env bash
# The random-call test (issue 8): every function of the extension called with edge values and
# random combinations on edgy data sets (Tests/fuzz/fuzz.py), in its own database on the test
# server. Checks after every call that the session survived (same backend pid) and that the
# answer has an acceptable SQLSTATE, and at the end that the server log shows no crash.
# FUZZ_SEED, FUZZ_SECONDS (60 by default) and FUZZ_CALLS change the run; see fuzz.py.
set -uo pipefail
TMP="$1"
LOG="$TMP/pg/server.log"
fail=0
offset=0
[ -f "$LOG" ] && offset=$(stat -c %s "$LOG")
start=$(date +%s)
if python3 "$ROOT/Tests/fuzz/fuzz.py" > "$TMP/fuzz.out" 2>&1; then
    grep -E "^fuzz: (seed|[0-9]+ calls|known)" "$TMP/fuzz.out" || true
    echo "ok - random calls with edge values: no unexpected SQLSTATE, no internal error, same backend ($(grep -oE '[0-9]+ calls/s' "$TMP/fuzz.out"), $(( $(date +%s) - start )) s)"
else
    cat "$TMP/fuzz.out"
    echo "not ok - random calls with edge values (see above; FUZZ_SEED reproduces)"
    fail=1
fi
if [ -f "$LOG" ] && tail -c +"$((offset + 1))" "$LOG" | grep -E "terminated by signal|server process .* was terminated|all server processes terminated"; then
    echo "not ok - the server log shows a crash during the random calls"
    fail=1
else
    echo "ok - no crash in the server log during the random calls"
fi
"$PG_BIN/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS recommender_fuzz" >/dev/null 2>&1 || true
exit $fail
