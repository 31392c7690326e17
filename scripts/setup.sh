#!/usr/bin/env bash
# The README's first command: on a fresh Debian 12 machine, install what is missing, build the
# extension (release, static Swift runtime), install it, start a private PostgreSQL 15 cluster in
# ./.pgdata on 127.0.0.1:${RECOMMENDER_PORT:-54329}, load the built-in sample shop, train a model,
# and print recommendations and an explanation for a sample customer.
source "$(dirname "$0")/lib.sh"

PORT="${RECOMMENDER_PORT:-54329}"
DATA="$ROOT/.pgdata"
if [ "${1:-}" = "stop" ]; then stop_cluster "$DATA"; exit 0; fi

ensure_deps
build_release
install_extension
# The cluster directory must be reachable by the postgres user.
start_cluster "$DATA" "$PORT"

export PGHOST=127.0.0.1 PGPORT="$PORT" PGUSER=postgres
psql -q -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'shop'" | grep -q 1 || createdb shop
log "loading the sample shop, training, recommending"
psql -X -q -v ON_ERROR_STOP=1 -d shop -f "$ROOT/sql/demo.sql"

cat <<MSG

The cluster keeps running. Open psql on it with:
    psql -h 127.0.0.1 -p $PORT -U postgres shop
Stop it with:
    runuser -u postgres -- $PG_BIN/pg_ctl -D $DATA/data stop     (or: scripts/setup.sh stop)
MSG
