#!/usr/bin/env bash
# Measures the real memory peak (VmHWM of the backend, from /proc/<pid>/status) of train(),
# update() and the first recommend() (the model load) at several catalog sizes, against the
# figures MemoryBudget computes, on synthetic data without categories (the larger case: the
# model-derived similarity vectors are computed too) and with keep_gram.
# Usage: scripts/memory.sh [ITEMS ...]      (default: 2000 5000 10000; builds and installs first)
# Columns: base = the backend with the library loaded; train / update = its peak after train()
# or update(); estimate = what the extension computed (and checked) beforehand; load = the peak
# of a new session after its first recommend(); model = the cached model's bytes.
source "$(dirname "$0")/lib.sh"
SIZES=("$@"); [ "${#SIZES[@]}" -gt 0 ] || SIZES=(2000 5000 10000)
ensure_deps
if [ -z "${MEMORY_NO_BUILD:-}" ]; then build_release; install_extension; fi   # MEMORY_NO_BUILD=1: as installed
TMP="$(mktemp -d /tmp/recommender-memory.XXXXXX)"; chmod 755 "$TMP"
PORT="$(free_port)"
trap 'stop_cluster "$TMP/pg"' EXIT
# small shared buffers: VmHWM counts the shared pages a backend touched (the model rows it
# writes and reads), so that they stay a small, known part of the figure
start_cluster "$TMP/pg" "$PORT" "-c shared_buffers=16MB"
export PGHOST=127.0.0.1 PGPORT="$PORT" PGUSER=postgres PGDATABASE=mem
"$PG_BIN/createdb" mem
P() { "$PG_BIN/psql" -X -q -tA -v ON_ERROR_STOP=1 "$@"; }
P -c "CREATE EXTENSION recommender" >/dev/null
# peak resident kB of this backend: VmHWM, after a reset of the counter is impossible, so each
# measurement runs in a fresh session and reports its baseline (library loaded) and its peak
HWM="pg_catalog.substring(pg_catalog.pg_read_file('/proc/' || pg_catalog.pg_backend_pid() || '/status'), 'VmHWM:\s+(\d+) kB')::bigint"
printf "%7s %9s | %9s %10s %10s | %10s %10s | %9s %9s\n" items pairs "base MB" "train MB" "estimate" "update MB" "estimate" "load MB" "model MB"
for n in "${SIZES[@]}"; do
    users=$((n * 3))
    P -c "DROP TABLE IF EXISTS ev; SELECT pg_catalog.setseed(0.42);
          CREATE TABLE ev AS SELECT u, (pg_catalog.random() * $n)::int % $n AS i, 1.0::float8 AS w,
                 pg_catalog.now() - (pg_catalog.random() * 1000)::int * interval '1 minute' AS t
            FROM generate_series(1, $users) u, generate_series(1, 20) k;
          CREATE INDEX ON ev (u); ANALYZE ev;
          SELECT recommender.drop(name) FROM recommender.model;
          SELECT recommender.register('m', 'ev', 'u', 'i', weight_column => 'w', time_column => 't');
          SELECT recommender.configure('m', max_items => 30000, keep_gram => true);" >/dev/null
    pairs=$(P -c "SELECT count(DISTINCT (u, i)) FROM ev")
    base=$(P -c "SELECT count(*) FROM recommender.cache_status()" -c "SELECT $HWM" | tail -1)
    train=$(P -c "SET recommender.max_training_memory = '2000GB'" -c "SET recommender.max_cache_memory = '2000GB'" \
              -c "SELECT 1 FROM recommender.train('m')" -c "SELECT $HWM" 2>"$TMP/train.err" | tail -1)
    test_est=$(grep -o "needs about [0-9.]* [kMGT]*B" "$TMP/train.err" | head -1 | sed 's/needs about //')
    P -c "INSERT INTO ev SELECT u, (u * 7) % $n, 1, pg_catalog.now() + interval '1 hour' FROM generate_series(1, 100) u" >/dev/null
    update=$(P -c "SET recommender.max_training_memory = '2000GB'" \
               -c "SELECT 1 FROM recommender.update('m')" -c "SELECT $HWM" 2>"$TMP/update.err" | tail -1)
    up_est=$(grep -o "needs about [0-9.]* [kMGT]*B" "$TMP/update.err" | head -1 | sed 's/needs about //')
    read -r modelbytes loadkb <<< "$(P -c "SET recommender.max_cache_memory = '2000GB'" -c "SELECT count(*) FROM recommend(1, 10, 0, 'm')" \
             -c "SELECT bytes FROM recommender.cache_status()" -c "SELECT $HWM" | tail -2 | tr '\n' ' ')"
    printf "%7s %9s | %9s %10s %10s | %10s %10s | %9s %9s\n" "$n" "$pairs" "$((base / 1024))" "$((train / 1024))" "$test_est" \
        "$((update / 1024))" "$up_est" "$((loadkb / 1024))" "$((modelbytes / 1048576))"
done
