#!/usr/bin/env bash
# The scale benchmark of issue 7: synthetic catalogs (bench/gen_catalog.sql: Zipf popularity,
# users twice the items up to 1M, about 20 events per user), the extension and its peers
# (bench/peers.py: SANSA and implicit's ALS) on the same rows, in one private temporary cluster.
#   bench/scale.sh [ITEMS ...]            default: 20000 100000
# Environment: SCALE_CONFIGURE (extra recommender.configure arguments, e.g. "kind => 'sparse'"),
# SCALE_PEERS (default "sansa als"; empty to skip), SCALE_SECONDS (pgbench seconds, default 10),
# SCALE_SANSA_DENSITY (default: the extension's sparse model's stored pairs / items², else 5e-5).
# Writes a table per size to stdout and the raw figures to $TMP/results.jsonl.
source "$(dirname "$0")/../scripts/lib.sh"
SIZES=("$@"); [ "${#SIZES[@]}" -gt 0 ] || SIZES=(20000 100000)
SECS="${SCALE_SECONDS:-10}"
PEERS="${SCALE_PEERS-sansa als}"
ensure_deps
if [ -n "$PEERS" ]; then
    VENV="$ROOT/.venv-peers"
    if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import sansa, implicit" 2>/dev/null; then
        log "installing the peers (sansa, implicit) into $VENV"
        python3 -m venv "$VENV"
        # scikit-sparse 0.4.16 is the last release that builds against Debian 12's SuiteSparse 5
        "$VENV/bin/pip" install -q "scikit-sparse==0.4.16" sansa==1.1.0 implicit==0.7.3
    fi
fi
build_release
install_extension
TMP="$(mktemp -d /tmp/recommender-scale.XXXXXX)"; chmod 755 "$TMP"
PORT="$(free_port)"
trap 'stop_cluster "$TMP/pg"' EXIT
start_cluster "$TMP/pg" "$PORT" "-c max_wal_size=8GB -c maintenance_work_mem=1GB -c work_mem=256MB -c recommender.max_cache_memory=${SCALE_CACHE_MEMORY:-16GB}"
export PGHOST=127.0.0.1 PGPORT="$PORT" PGUSER=postgres PGDATABASE=scale
"$PG_BIN/createdb" scale
P() { psql -X -q -tA -v ON_ERROR_STOP=1 "$@"; }
P -c "CREATE EXTENSION recommender" >/dev/null
pct() { sort -g | awk -v p="$1" '{a[NR]=$1} END {i=int((NR-1)*p+0.5)+1; printf "%.3f\n", a[i]}'; }
median() { pct 0.5; }
status_of() {   # status_of PID FIELD -> kB
    awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null || echo 0
}

for N in "${SIZES[@]}"; do
    log "catalog of $N items: generating"
    P -v items="$N" -v seed=7 -f "$ROOT/bench/gen_catalog.sql" >/dev/null
    P -f "$ROOT/bench/split.sql" >/dev/null
    USERS=$(P -c "SELECT users FROM cat.params")
    ROWS=$(P -c "SELECT count(*) FROM cat.train")
    P -c "SELECT recommender.register('s', 'cat.train', 'user_id', 'item_id', time_column => 'occurred_at',
            items => 'cat.items', item_id_column => 'item_id', category_column => 'category')" >/dev/null
    P -c "SELECT 1 FROM recommender.configure('s', max_items => $N ${SCALE_CONFIGURE:+, $SCALE_CONFIGURE})" >/dev/null

    log "$N items: training (the backend's peak RSS from /proc/self/status)"
    P -c "SET client_min_messages = warning" -c "SET recommender.max_training_memory = '${SCALE_TRAINING_MEMORY:-16GB}'" \
      -c "SELECT seconds FROM recommender.train('s')" \
      -c "SELECT (regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s+(\d+)'))[1]" > "$TMP/train.$N" 2>&1 || { cat "$TMP/train.$N"; continue; }
    TRAIN_S=$(sed -n 1p "$TMP/train.$N"); TRAIN_HWM=$(sed -n 2p "$TMP/train.$N")
    MODEL_BYTES=$(P -c "SELECT sum(pg_column_size(i.*)) FROM recommender.model_item i JOIN recommender.model m
                          ON m.name = i.model AND m.version = i.version WHERE m.name = 's'")
    KIND=$(P -c "SELECT coalesce(params->>'kind', 'dense') FROM recommender.model_version v JOIN recommender.model m
                   ON m.name = v.model AND m.version = v.version WHERE m.name = 's'")
    NNZ=$(P -c "SELECT v.nonzeros FROM recommender.model_version v JOIN recommender.model m ON m.name = v.model AND m.version = v.version WHERE m.name = 's'")
    MODEL_ITEMS=$(P -c "SELECT v.items FROM recommender.model_version v JOIN recommender.model m ON m.name = v.model AND m.version = v.version WHERE m.name = 's'")

    log "$N items: first call in a new connection (3 connections)"
    for _ in 1 2 3; do
        printf '\\timing on\nSELECT count(*) FROM recommend(%d, 10, 0, model => '"'s'"');\n' $((RANDOM % USERS + 1)) \
            | psql -X -q | awk '/^Time:/ {print $2}'
    done | median > "$TMP/first.$N"

    log "$N items: pgbench recommend(u, 10, 0), 2 clients, $SECS s, per-call latencies (simple and prepared protocol)"
    printf '\\set u random(1, %d)\nSELECT count(*) FROM recommend(:u, 10, 0, model => '"'s'"');\n' "$USERS" > "$TMP/rec.sql"
    printf '\\set u random(1, %d)\nSELECT count(*) FROM cat.train WHERE user_id = :u;\n' "$USERS" > "$TMP/base.sql"
    # the simple protocol (pgbench's default: the statement is parsed and planned at every call)
    # and the extended protocol with a prepared statement (what an application's driver does with
    # a prepared or cached statement: the call itself)
    for w in rec base; do
        for mode in simple prepared; do
            rm -f "$TMP"/pgbench_log.*
            (cd "$TMP" && "$PG_BIN/pgbench" -n -M "$mode" -c 2 -j 2 -T "$SECS" -l -f "$TMP/$w.sql" scale >/dev/null 2>&1)
            cat "$TMP"/pgbench_log.* | awk '{print $3 / 1000}' > "$TMP/lat.$w.$mode.$N"
        done
    done
    P50=$(median < "$TMP/lat.rec.simple.$N"); P95=$(pct 0.95 < "$TMP/lat.rec.simple.$N")
    B50=$(median < "$TMP/lat.base.simple.$N")
    PP50=$(median < "$TMP/lat.rec.prepared.$N"); PP95=$(pct 0.95 < "$TMP/lat.rec.prepared.$N")
    PB50=$(median < "$TMP/lat.base.prepared.$N")

    log "$N items: RSS of 1 and 20 serving connections against an idle one"
    coproc IDLE { psql -X -q -tA; }
    echo "SELECT pg_backend_pid();" >&"${IDLE[1]}"; read -r idle_pid <&"${IDLE[0]}"
    pids=(); fds=()
    # 20 connections, unless the model is served from private copies (images not shared: disk
    # full, shared_models off): then only as many as fit in half the available memory, since
    # concurrent private loads are not coordinated and the kernel's OOM killer would end one
    # backend and the postmaster would restart every session
    priv=$(P -c "SELECT count(*) FROM recommend(1, 1, 0, model => 's')" -c "SELECT coalesce(max(bytes), 0) FROM recommender.cache_status() WHERE model = 's'" | tail -1)
    avail=$(( $(awk '/^MemAvailable:/ {print $2}' /proc/meminfo) * 1024 ))
    CONNS=20
    if [ "$priv" -gt 0 ]; then CONNS=$(( avail / 2 / priv )); [ "$CONNS" -gt 20 ] && CONNS=20; [ "$CONNS" -lt 1 ] && CONNS=1; fi
    for c in $(seq 1 "$CONNS"); do
        exec {w}> >(psql -X -q -tA -v ON_ERROR_STOP=0 > "$TMP/conn.$c.out" 2>&1)
        fds+=("$w")
        printf "SET application_name = 'scale_%d'; SELECT count(*) FROM generate_series(1, 20) g, LATERAL recommend((g * 7919 + %d) %% %d + 1, 10, 0, model => 's'); SELECT pg_sleep(600);\n" "$c" "$c" "$USERS" >&"$w"
    done
    for _ in $(seq 1 600); do
        ready=$(P -c "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'scale_%' AND query LIKE '%pg_sleep%'")
        [ "$ready" -ge "$CONNS" ] && break; sleep 0.5
    done
    mapfile -t pids < <(P -c "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'scale_%' ORDER BY pid")
    rss_idle=$(status_of "$idle_pid" VmRSS); anon_idle=$(status_of "$idle_pid" RssAnon)
    one_rss=$(status_of "${pids[0]}" VmRSS); one_anon=$(status_of "${pids[0]}" RssAnon); one_file=$(status_of "${pids[0]}" RssFile)
    sum_anon=0; for p in "${pids[@]}"; do sum_anon=$((sum_anon + $(status_of "$p" RssAnon))); done
    free_used=$(free -m | awk '/^Mem:/ {print $3}')
    P -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'scale_%'" >/dev/null
    for w in "${fds[@]}"; do exec {w}>&-; done
    echo "\\q" >&"${IDLE[1]}"

    log "$N items: batch refresh of 10,000 users"
    BATCH=$(printf '\\timing on\nCREATE TEMP TABLE b AS SELECT u, r.* FROM generate_series(1, 10000) u CROSS JOIN LATERAL recommend(u, 10, 0, model => '"'s'"') r;\n' \
            | psql -X -q | awk '/^Time:/ {print $2 / 1000}')

    log "$N items: quality on the held-out rows"
    QUAL=$(P -c "WITH h AS (SELECT user_id, count(*) AS n FROM cat.heldout GROUP BY 1),
                      r AS (SELECT h.user_id, h.n, x.rank, x.item_id FROM h CROSS JOIN LATERAL recommend(h.user_id, 20, 0, model => 's') x),
                      o AS (SELECT DISTINCT user_id, item_id FROM cat.heldout),
                      j AS (SELECT r.*, o.item_id IS NOT NULL AS hit FROM r LEFT JOIN o ON o.user_id = r.user_id AND o.item_id = r.item_id)
                 SELECT round(avg(ndcg)::numeric, 4) || ' ' || round(avg(rec)::numeric, 4) FROM (
                   SELECT user_id, coalesce(sum(CASE WHEN hit AND rank <= 10 THEN 1 / log(2, rank + 1) END), 0)
                          / (SELECT sum(1 / log(2, g + 1)) FROM generate_series(1, least(max(n), 10)) g) AS ndcg,
                          count(*) FILTER (WHERE hit)::float8 / max(n) AS rec
                     FROM j GROUP BY user_id) s")
    read -r NDCG REC <<<"$QUAL"
    printf '{"system":"recommender","items":%d,"users":%d,"rows":%d,"kind":"%s","model_items":%d,"nonzeros":%s,"train_seconds":%s,"train_peak_rss_mb":%d,"model_bytes":%s,"first_call_ms":%s,"p50_ms":%s,"p95_ms":%s,"baseline_p50_ms":%s,"prepared_p50_ms":%s,"prepared_p95_ms":%s,"prepared_baseline_p50_ms":%s,"rss_idle_kb":%s,"rss_serving_kb":%s,"anon_idle_kb":%s,"anon_serving_kb":%s,"file_serving_kb":%s,"serving_connections":%s,"anon_all_serving_kb":%s,"batch_10k_users_s":%s,"ndcg10":%s,"recall20":%s}\n' \
        "$N" "$USERS" "$ROWS" "$KIND" "$MODEL_ITEMS" "$NNZ" "$TRAIN_S" $((TRAIN_HWM / 1024)) "$MODEL_BYTES" "$(cat "$TMP/first.$N")" "$P50" "$P95" "$B50" "$PP50" "$PP95" "$PB50" \
        "$rss_idle" "$one_rss" "$anon_idle" "$one_anon" "$one_file" "$CONNS" "$sum_anon" "$BATCH" "$NDCG" "$REC" | tee -a "$TMP/results.jsonl"

    if [ -n "$PEERS" ]; then
        mkdir -p "$TMP/data.$N"
        P -c "\\copy (SELECT user_id || ' ' || item_id FROM cat.train) TO '$TMP/data.$N/train.txt'" \
          -c "\\copy (SELECT user_id || ' ' || item_id FROM cat.heldout) TO '$TMP/data.$N/heldout.txt'"
        # the same non-zeros per item as the extension's model, as a share of items²
        DENS="${SCALE_SANSA_DENSITY:-$(P -c "SELECT coalesce((v.params->>'sparse_nonzeros')::float8 / (v.items::float8 * v.items), 5e-5) FROM recommender.model_version v
                                               JOIN recommender.model m ON m.name = v.model AND m.version = v.version WHERE m.name = 's'")}"
        for peer in $PEERS; do
            log "$N items: peer $peer"
            "$VENV/bin/python" "$ROOT/bench/peers.py" "$peer" "$TMP/data.$N" --density "$DENS" 2>"$TMP/$peer.$N.err" \
                | tee -a "$TMP/results.jsonl" || { echo "{\"peer\":\"$peer\",\"items\":$N,\"error\":\"see $TMP/$peer.$N.err\"}"; tail -3 "$TMP/$peer.$N.err"; }
        done
    fi
    P -c "SELECT recommender.drop('s')" >/dev/null
done
log "raw figures: $TMP/results.jsonl"
cp "$TMP/results.jsonl" "${SCALE_OUT:-/tmp/scale-results.jsonl}"
