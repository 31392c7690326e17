#!/usr/bin/env bash
# The benchmark: on the built-in sample shop, in a private temporary cluster,
#   - training time (median of 3),
#   - first-call latency of recommend() in a new session (loads the library and the model) and
#     cached-call latency (median of 5 sessions x 20 calls), from psql's \timing,
#   - pgbench throughput (2 clients, ${BENCH_SECONDS:-10} s each) of recommend(u, 10, 0) and
#     recommend(u, 10, 0.5) for random users, beside a baseline run in the same server: a plain
#     SQL query that reads the same user's history (the floor of any recommender that reads
#     history live), and explain().
# Usage: scripts/bench.sh            (builds and installs first, like the test command)
source "$(dirname "$0")/lib.sh"
SECS="${BENCH_SECONDS:-10}"
ensure_deps
build_release
install_extension
TMP="$(mktemp -d /tmp/recommender-bench.XXXXXX)"; chmod 755 "$TMP"
PORT="$(free_port)"
trap 'stop_cluster "$TMP/pg"' EXIT
start_cluster "$TMP/pg" "$PORT"
export PGHOST=127.0.0.1 PGPORT="$PORT" PGUSER=postgres PGDATABASE=bench
"$PG_BIN/createdb" bench
P() { psql -X -q -tA -v ON_ERROR_STOP=1 "$@"; }
P -c "CREATE EXTENSION recommender" -c "SELECT recommender.create_sample_shop()" >/dev/null
P -c "SELECT recommender.register('default', 'shop.events', 'customer_id', 'product_id',
        time_column => 'occurred_at', event_column => 'event_type',
        event_weights => '{\"view\": 1, \"cart\": 3, \"purchase\": 5}', items => 'shop.products',
        item_id_column => 'product_id', category_column => 'category', title_column => 'title')" >/dev/null

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.4f\n", (a[NR/2]+a[NR/2+1])/2}'; }

log "training (3 runs)"
for _ in 1 2 3; do
    P -c "SET client_min_messages = warning" -c "SELECT seconds FROM recommender.train('default')"
done > "$TMP/train.txt"
P -c "SELECT format('sample shop: %s users, %s items, %s interactions', users, items, interactions) FROM recommender.model_version" > "$TMP/size.txt"

log "materialized view of every customer's list: build, then 3 concurrent refreshes"
P -c "CREATE MATERIALIZED VIEW shop.recommendations AS
        SELECT c.customer_id, r.rank, r.item_id, r.score FROM shop.customers c
         CROSS JOIN LATERAL recommend(c.customer_id, 10, 0.3) r" \
  -c "CREATE UNIQUE INDEX ON shop.recommendations (customer_id, rank)" >/dev/null
for _ in 1 2 3; do
    printf '\\timing on\nREFRESH MATERIALIZED VIEW CONCURRENTLY shop.recommendations;\n' | psql -X -q -d bench | awk '/^Time:/ {print $2 / 1000}'
done > "$TMP/refresh.txt"

# update_vs_train NAME SOURCE: a model over shop.ev_NAME, which holds SOURCE's events before the
# last day. Three times: train from scratch on the older events (keep_gram), add the last day's
# events, recommender.update() (the table has indexes on the user and the time column). Then three trainings from scratch on all events, for comparison.
# Writes $TMP/NAME.update (seconds), $TMP/NAME.size and $TMP/NAME.train (seconds).
CUT="2026-10-31"
update_vs_train() {
    local name="$1" src="$2" t="shop.ev_$1"
    local add="INSERT INTO $t SELECT * FROM $src WHERE occurred_at >= '$CUT' AND product_id IN (SELECT product_id FROM $t)"
    P -c "CREATE TABLE $t AS SELECT * FROM $src WHERE occurred_at < '$CUT'" \
      -c "CREATE INDEX ON $t (customer_id)" -c "CREATE INDEX ON $t (occurred_at)" \
      -c "SELECT recommender.register('$name', '$t', 'customer_id', 'product_id', time_column => 'occurred_at',
            event_column => 'event_type', event_weights => '{\"view\": 1, \"cart\": 3, \"purchase\": 5}')" \
      -c "SELECT 1 FROM recommender.configure('$name', keep_gram => true)" >/dev/null
    : > "$TMP/$name.runs"
    for _ in 1 2 3; do
        P -c "SET client_min_messages = warning" -c "BEGIN" -c "DELETE FROM $t WHERE occurred_at >= '$CUT'" \
          -c "SELECT 1 FROM recommender.train('$name')" -c "$add" \
          -c "SELECT 'update ' || seconds || ' ' || users || ' ' || new_interactions FROM recommender.update('$name')" \
          -c "COMMIT" | awk '$1 == "update" {print $2, $3, $4}' >> "$TMP/$name.runs"
    done
    awk '{print $1}' "$TMP/$name.runs" > "$TMP/$name.update"
    tail -1 "$TMP/$name.runs" | awk '{print $2 " users, " $3 " interactions"}' > "$TMP/$name.size"
    for _ in 1 2 3; do P -c "SET client_min_messages = warning" -c "SELECT seconds FROM recommender.train('$name')"; done > "$TMP/$name.train"
}
log "incremental update against training from scratch (keep_gram), the last day's events arriving"
update_vs_train inc shop.events
log "the same on a shop with 10x the customers and events (same products)"
P -c "CREATE TABLE shop.events10 AS SELECT e.customer_id + k * 100000 AS customer_id, e.product_id, e.event_type, e.occurred_at
        FROM shop.events e, generate_series(0, 9) k" >/dev/null
update_vs_train inc10 shop.events10
INTERACTIONS10=$(P -c "SELECT count(*) FROM shop.events10")

log "latency: first call in a new session, then cached calls"
: > "$TMP/first.txt"; : > "$TMP/cached.txt"
for s in 1 2 3 4 5; do
    {
        echo '\timing on'
        echo "SELECT count(*) FROM recommend($((s * 17)), 10, 0);"
        for c in $(seq 1 20); do echo "SELECT count(*) FROM recommend($((s * 17 + c)), 10, 0);"; done
    } | psql -X -q -d bench 2>&1 | grep -E '^Time:' | awk '{print $2}' > "$TMP/t.txt"
    head -1 "$TMP/t.txt" >> "$TMP/first.txt"
    tail -n +2 "$TMP/t.txt" >> "$TMP/cached.txt"
done

cat > "$TMP/rec0.sql" <<'SQL'
\set u random(1, 3000)
SELECT * FROM recommend(:u, 10, 0);
SQL
cat > "$TMP/rec5.sql" <<'SQL'
\set u random(1, 3000)
SELECT * FROM recommend(:u, 10, 0.5);
SQL
cat > "$TMP/base.sql" <<'SQL'
\set u random(1, 3000)
SELECT product_id, count(*) FROM shop.events WHERE customer_id = :u GROUP BY product_id;
SQL
cat > "$TMP/expl.sql" <<'SQL'
\set u random(1, 3000)
\set i random(1, 1000)
SELECT * FROM explain(:u, :i);
SQL
tps() { "$PG_BIN/pgbench" -n -c 2 -j 2 -T "$SECS" -f "$1" bench 2>&1 | awk '/^tps/ {print $3}'; }
lat() { "$PG_BIN/pgbench" -n -c 1 -T "$SECS" -f "$1" bench 2>&1 | awk '/latency average/ {print $4}'; }
log "pgbench: $SECS s per run, 2 clients"
base_tps=$(tps "$TMP/base.sql"); rec0_tps=$(tps "$TMP/rec0.sql"); rec5_tps=$(tps "$TMP/rec5.sql"); expl_tps=$(tps "$TMP/expl.sql")
log "pgbench: $SECS s per run, 1 client (average latency)"
base_lat=$(lat "$TMP/base.sql"); rec0_lat=$(lat "$TMP/rec0.sql"); rec5_lat=$(lat "$TMP/rec5.sql")

echo
echo "## recommender benchmark ($(date -u +%Y-%m-%d), $(nproc) cores, $(cat "$TMP/size.txt"))"
echo
echo "| measure | value |"
echo "|---|---:|"
echo "| training, median of 3 (s) | $(median < "$TMP/train.txt") |"
echo "| REFRESH MATERIALIZED VIEW CONCURRENTLY, every customer x recommend(c, 10, 0.3), median of 3 (s) | $(median < "$TMP/refresh.txt") |"
echo "| training from scratch with keep_gram, all events, median of 3 (s) | $(median < "$TMP/inc.train") |"
echo "| recommender.update() folding in the last day ($(cat "$TMP/inc.size")), median of 3 (s) | $(median < "$TMP/inc.update") |"
echo "| 10x shop ($INTERACTIONS10 events): training from scratch with keep_gram, median of 3 (s) | $(median < "$TMP/inc10.train") |"
echo "| 10x shop: recommender.update() folding in the last day ($(cat "$TMP/inc10.size")), median of 3 (s) | $(median < "$TMP/inc10.update") |"
echo "| first recommend() in a new session, median of 5 (ms) | $(median < "$TMP/first.txt") |"
echo "| cached recommend(u, 10, 0), median of 100 (ms, psql round trip) | $(median < "$TMP/cached.txt") |"
echo "| baseline: read the user's history in plain SQL, 1 client, mean latency (ms) | $base_lat |"
echo "| recommend(u, 10, 0), 1 client, mean latency (ms) | $rec0_lat |"
echo "| recommend(u, 10, 0.5), 1 client, mean latency (ms) | $rec5_lat |"
echo "| baseline history query, 2 clients (tps) | $base_tps |"
echo "| recommend(u, 10, 0), 2 clients (tps) | $rec0_tps |"
echo "| recommend(u, 10, 0.5), 2 clients (tps) | $rec5_tps |"
echo "| explain(u, i), 2 clients (tps) | $expl_tps |"
awk -v b="$base_tps" -v r0="$rec0_tps" -v r5="$rec5_tps" 'BEGIN {
  printf "| ratio recommend(u,10,0) / baseline throughput | %.2f |\n", r0 / b;
  printf "| ratio recommend(u,10,0.5) / baseline throughput | %.2f |\n", r5 / b }'
