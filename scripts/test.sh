#!/usr/bin/env bash
# Runs every test: the Swift core's unit tests, then SQL tests against a real, temporary
# PostgreSQL 15 server on a loopback port with the release build of the extension installed.
# Usage: scripts/test.sh [regress-test-name ...]
source "$(dirname "$0")/lib.sh"

ensure_deps
python3 "$ROOT/scripts/embed-sample-shop.py" --check

unit_status=0
if [ "$#" -eq 0 ]; then
    log "unit tests of the Swift core (swift test)"
    (cd "$ROOT" && swift test > /tmp/recommender-unit.log 2>&1) || unit_status=1
    grep -E "error:|failed \(" /tmp/recommender-unit.log | head -40 || true
    if grep -qE "Executed [0-9]+ tests?, with [1-9][0-9]* failures?" /tmp/recommender-unit.log; then unit_status=1; fi
    grep -qE "Executed [1-9][0-9]* tests?" /tmp/recommender-unit.log || unit_status=1
    unit_line=$(grep -E "Executed [0-9]+ tests?" /tmp/recommender-unit.log | tail -1 || true)
fi

build_release
install_extension

TMP="$(mktemp -d "${TMPDIR:-/tmp}/recommender-test.XXXXXX")"
chmod 755 "$TMP"
PORT="$(free_port)"
cleanup() { stop_cluster "$TMP/pg"; }
trap cleanup EXIT
# pg_cron (Debian's postgresql-15-cron) is preloaded for the scheduled-refresh tests.
start_cluster "$TMP/pg" "$PORT" "-c shared_preload_libraries=pg_cron -c cron.database_name=recommender_regress -c cron.use_background_workers=on -c max_worker_processes=16"
export PGHOST=127.0.0.1 PGPORT="$PORT" PGUSER=postgres PG_BIN ROOT

tests=("$@")
if [ "${#tests[@]}" -eq 0 ]; then
    mapfile -t tests < <(cd "$ROOT/Tests/regress/sql" && ls *.sql | sed 's/\.sql$//' | sort)
fi

log "SQL tests: ${tests[*]}"
"$PG_BIN/createdb" recommender_regress
PG_REGRESS="$("$PG_BIN/pg_config" --pkglibdir)/pgxs/src/test/regress/pg_regress"
regress_status=0
"$PG_REGRESS" --use-existing --host=127.0.0.1 --port="$PORT" --user=postgres \
    --inputdir="$ROOT/Tests/regress" --outputdir="$TMP/out" --dbname=recommender_regress \
    "${tests[@]}" 2>&1 | tee "$TMP/regress.log" || regress_status=1
if [ -f "$TMP/out/regression.diffs" ] && [ -s "$TMP/out/regression.diffs" ]; then
    mkdir -p "$ROOT/Tests/results"
    cp "$TMP/out/regression.diffs" "$ROOT/Tests/results/"
    cp -r "$TMP/out/results" "$ROOT/Tests/results/" 2>/dev/null || true
    head -c 20000 "$TMP/out/regression.diffs"
fi

# Scenario tests that need more than one session (cancel from another backend, crash check).
scenario_status=0
if [ "$#" -eq 0 ]; then
    log "scenario tests"
    bash "$ROOT/Tests/scenarios.sh" "$TMP" || scenario_status=1
    # More scenarios, one file per subject: each gets the temporary directory, may start servers
    # of its own (from $PG_BIN, on free loopback ports), prints "ok - ..." / "not ok - ..." lines
    # and exits non-zero when one failed.
    for s in "$ROOT"/Tests/scenarios/*.sh; do
        [ -e "$s" ] || continue
        log "scenario $(basename "$s")"
        bash "$s" "$TMP" || scenario_status=1
    done
fi

# The backend never died: no server process was terminated by a signal during the whole run.
crash_status=0
if grep -E "terminated by signal|server process .* was terminated|all server processes terminated" "$TMP/pg/server.log"; then
    echo "error: a backend died during the tests (see above)" >&2
    crash_status=1
fi

passed=$(grep -cE "^(ok|test) .* ok" "$TMP/regress.log" || true)
failed=$(grep -cE "^(not ok|test) .* (FAILED|failed)" "$TMP/regress.log" || true)
passed=$(grep -cE "\.\.\. ok|^ok " "$TMP/regress.log" || true)
failed=$(grep -cE "\.\.\. FAILED|^not ok " "$TMP/regress.log" || true)
[ -n "${unit_line:-}" ] && echo "unit: $unit_line"
echo "sql: $passed passed, $failed failed"
if [ "$unit_status" -ne 0 ] || [ "$regress_status" -ne 0 ] || [ "$scenario_status" -ne 0 ] || [ "$crash_status" -ne 0 ]; then
    echo "FAILED (unit=$unit_status sql=$regress_status scenarios=$scenario_status crash=$crash_status)"
    exit 1
fi
echo "all tests passed"
