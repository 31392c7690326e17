#!/usr/bin/env bash
# Runs chosen scenario files alone: builds and installs the extension, starts a temporary server
# as scripts/test.sh does, prepares the database the scenarios expect (the SQL tests 01_setup and
# 02_recommend: the sample shop and the trained model "default") and runs each named scenario.
# Usage: scripts/scenario.sh upgrade [standby dump_restore catalog ...]   (names in Tests/scenarios)
source "$(dirname "$0")/lib.sh"

[ "$#" -gt 0 ] || { echo "usage: scripts/scenario.sh NAME... (files in Tests/scenarios, without .sh)" >&2; exit 2; }
for s in "$@"; do
    [ -f "$ROOT/Tests/scenarios/$s.sh" ] || { echo "error: no Tests/scenarios/$s.sh" >&2; exit 2; }
done
ensure_deps
build_release
install_extension

TMP="$(mktemp -d "${TMPDIR:-/tmp}/recommender-scenario.XXXXXX")"
chmod 755 "$TMP"
PORT="$(free_port)"
cleanup() { stop_cluster "$TMP/pg"; if [ "${status:-1}" -eq 0 ]; then rm -rf "$TMP"; else echo "kept for inspection: $TMP" >&2; fi; }
trap cleanup EXIT
start_cluster "$TMP/pg" "$PORT" "-c shared_preload_libraries=pg_cron -c cron.database_name=recommender_regress -c cron.use_background_workers=on -c max_worker_processes=16"
export PGHOST=127.0.0.1 PGPORT="$PORT" PGUSER=postgres PG_BIN ROOT

"$PG_BIN/createdb" recommender_regress
PG_REGRESS="$("$PG_BIN/pg_config" --pkglibdir)/pgxs/src/test/regress/pg_regress"
"$PG_REGRESS" --use-existing --host=127.0.0.1 --port="$PORT" --user=postgres \
    --inputdir="$ROOT/Tests/regress" --outputdir="$TMP/out" --dbname=recommender_regress \
    01_setup 02_recommend >"$TMP/regress.log" 2>&1 || { cat "$TMP/regress.log"; exit 1; }

status=0
for s in "$@"; do
    log "scenario $s.sh"
    bash ${SCENARIO_BASH_FLAGS:-} "$ROOT/Tests/scenarios/$s.sh" "$TMP" || status=1
done
if grep -E "terminated by signal|server process .* was terminated" "$TMP/pg/server.log"; then
    echo "error: a backend died (see above)" >&2
    status=1
fi
[ "$status" -eq 0 ] && echo "scenarios passed" || echo "FAILED"
exit "$status"
