#!/usr/bin/env bash
# Training from partial results against reading every row to the coordinator (issue 10, part 4).
# Three private temporary servers on loopback ports: a coordinator with the sample shop at
# SHARDS_SCALE times its customers (default 10: 30,000 customers, the same 1,000 products) and two
# shards, each holding one hash partition (by customer) of the interactions as a postgres_fdw
# foreign table (server option extensions 'recommender'). The same model is trained RUNS times
# (default 3) each way:
#   partial: recommender.partial_training = auto (each shard runs recommender.partial_gram over its
#            rows and sends its partial result);
#   rows:    recommender.partial_training = off (every row comes to the coordinator through
#            postgres_fdw's cursor, 100 rows a fetch by default);
# then both again with the sequential component (configure(sequence_weight => 0.3), the default
# sequence_half_life 2: the partial results also carry the users' SᵀS and SᵀT pairs).
# Measured per run: train()'s own seconds, and the bytes moved between the servers: the growth of
# bytes_sent and bytes_received of the TCP connections of the two shard backends serving the
# coordinator session's postgres_fdw connections (the kernel's tcp_info, as `ss -ti` shows it:
# payload bytes, protocol messages included, TCP/IP headers not), read before and after the
# train() call in the same coordinator session (so the connections and backends are the same).
# (/proc/<pid>/io's wchar is not used: it did not grow at all while a shard sent 1.1 M rows with send().) `ss -p` needs root
# or the postgres user to name the backends' sockets.
# Prints the medians; raw figures in $TMP/runs.txt.
#   bench/shards.sh            (RECOMMENDER_PG_COPY as for the tests)
source "$(dirname "$0")/../scripts/lib.sh"
SCALE="${SHARDS_SCALE:-10}"
RUNS="${SHARDS_RUNS:-3}"
ensure_deps
build_release
install_extension
TMP="$(mktemp -d "${TMPDIR:-/tmp}/recommender-shards.XXXXXX")"; chmod 755 "$TMP"
PC="$(free_port)"; P1="$(free_port)"; P2="$(free_port)"
trap 'stop_cluster "$TMP/c"; stop_cluster "$TMP/s1"; stop_cluster "$TMP/s2"' EXIT
start_cluster "$TMP/c" "$PC" "-c shared_buffers=128MB"
start_cluster "$TMP/s1" "$P1" "-c shared_buffers=128MB -c max_connections=20"
start_cluster "$TMP/s2" "$P2" "-c shared_buffers=128MB -c max_connections=20"
C() { psql -X -q -tA -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PC" -U postgres -d bench "$@"; }
for p in "$PC" "$P1" "$P2"; do
    "$PG_BIN/createdb" -h 127.0.0.1 -p "$p" -U postgres bench
    psql -X -q -h 127.0.0.1 -p "$p" -U postgres -d bench -v ON_ERROR_STOP=1 -c "CREATE EXTENSION recommender" >/dev/null
done
for p in "$P1" "$P2"; do
    psql -X -q -h 127.0.0.1 -p "$p" -U postgres -d bench -v ON_ERROR_STOP=1 -c "
        CREATE TABLE ev (customer_id integer NOT NULL, product_id integer NOT NULL, event_type text NOT NULL, occurred_at timestamptz NOT NULL);" >/dev/null
done
log "the sample shop at ${SCALE}x customers"
C -c "SELECT recommender.create_sample_shop('shop', customers => 3000 * $SCALE)" >/dev/null
C -c "CREATE EXTENSION postgres_fdw;
      CREATE SERVER s1 FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '$P1', dbname 'bench', extensions 'recommender', batch_size '1000');
      CREATE SERVER s2 FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '$P2', dbname 'bench', extensions 'recommender', batch_size '1000');
      CREATE USER MAPPING FOR CURRENT_USER SERVER s1 OPTIONS (user 'postgres');
      CREATE USER MAPPING FOR CURRENT_USER SERVER s2 OPTIONS (user 'postgres');
      CREATE SCHEMA sh;
      CREATE TABLE sh.events (customer_id integer NOT NULL, product_id integer NOT NULL, event_type text NOT NULL, occurred_at timestamptz NOT NULL)
        PARTITION BY HASH (customer_id);
      CREATE FOREIGN TABLE sh.events_s1 PARTITION OF sh.events FOR VALUES WITH (MODULUS 2, REMAINDER 0) SERVER s1 OPTIONS (schema_name 'public', table_name 'ev');
      CREATE FOREIGN TABLE sh.events_s2 PARTITION OF sh.events FOR VALUES WITH (MODULUS 2, REMAINDER 1) SERVER s2 OPTIONS (schema_name 'public', table_name 'ev');
      INSERT INTO sh.events SELECT customer_id, product_id, event_type, occurred_at FROM shop.events ORDER BY event_id;" >/dev/null
for p in "$P1" "$P2"; do
    psql -X -q -h 127.0.0.1 -p "$p" -U postgres -d bench -c "CREATE INDEX ON ev (customer_id); ANALYZE ev" >/dev/null
done
EVENTS=$(C -c "SELECT count(*) FROM shop.events"); CUSTOMERS=$(C -c "SELECT count(DISTINCT customer_id) FROM shop.events")
N1=$(psql -X -tA -h 127.0.0.1 -p "$P1" -U postgres -d bench -c "SELECT count(*) FROM ev")
N2=$(psql -X -tA -h 127.0.0.1 -p "$P2" -U postgres -d bench -c "SELECT count(*) FROM ev")
TABLE_MB=$(C -c "SELECT round(pg_table_size('shop.events') / 1048576.0, 1)")
log "$EVENTS events of $CUSTOMERS customers: $N1 on shard 1, $N2 on shard 2"
C -c "SELECT recommender.register('m', 'sh.events', 'customer_id', 'product_id', time_column => 'occurred_at',
        event_column => 'event_type', event_weights => '{\"view\": 1, \"cart\": 3, \"purchase\": 5}',
        items => 'shop.products', item_id_column => 'product_id', category_column => 'category', title_column => 'title')" >/dev/null

# one coordinator session (a coprocess), so that the fdw connections and the shard backends stay
coproc SESS { psql -X -q -tA -h 127.0.0.1 -p "$PC" -U postgres -d bench 2>&1; }
ask() {
    echo "$1" >&"${SESS[1]}"
    echo "SELECT 'END-OF-REPLY';" >&"${SESS[1]}"
    local line out=""
    while read -r -t 600 line <&"${SESS[0]}"; do
        [ "$line" = "END-OF-REPLY" ] && break
        out="${out}${line}"$'\n'
    done
    printf '%s' "$out"
}
ask "SET client_min_messages = warning; SELECT count(*) FROM (SELECT 1 FROM sh.events_s1 LIMIT 1) a; SELECT count(*) FROM (SELECT 1 FROM sh.events_s2 LIMIT 1) b;" >/dev/null
fdw_pids() {
    for p in "$P1" "$P2"; do
        psql -X -tA -h 127.0.0.1 -p "$p" -U postgres -d bench -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'postgres_fdw' AND datname = 'bench'"
    done
}
tcp_sum() {   # bytes_sent or bytes_received of the fdw backends' TCP connections (ss -ti: the kernel's tcp_info)
    ss -tinpH state established 2>/dev/null | awk -v pids="$PIDS" -v f="$1" '
        BEGIN { n = split(pids, a, " "); for (i = 1; i <= n; i++) want["pid=" a[i] ","] = 1 }
        /users:/ { hit = 0; for (k in want) if (index($0, k)) hit = 1; next }
        hit { if (match($0, f ":[0-9]+")) s += substr($0, RSTART + length(f) + 1, RLENGTH - length(f) - 1); hit = 0 }
        END { print s + 0 }'
}
PIDS=$(fdw_pids | tr '\n' ' ')
[ "$(wc -w <<<"$PIDS")" -eq 2 ] || { echo "error: expected 2 postgres_fdw backends on the shards, got '$PIDS'" >&2; exit 1; }
: > "$TMP/runs.txt"
for mode in partial rows partial_seq rows_seq; do
    setting=auto; [ "${mode%_seq}" = rows ] && setting=off
    [ "$mode" = partial_seq ] && ask "SET client_min_messages = warning; SELECT 1 FROM recommender.configure('m', sequence_weight => 0.3);" >/dev/null
    for r in $(seq 1 "$RUNS"); do
        w0=$(tcp_sum bytes_sent); r0=$(tcp_sum bytes_received)
        reply=$(ask "SET recommender.partial_training = $setting; SELECT seconds FROM recommender.train('m');")
        secs=$(tail -1 <<<"$reply")
        w1=$(tcp_sum bytes_sent); r1=$(tcp_sum bytes_received)
        [ "$(fdw_pids | tr '\n' ' ')" = "$PIDS" ] || { echo "error: the fdw backends changed during the run" >&2; exit 1; }
        echo "$mode $r $secs $((w1 - w0)) $((r1 - r0))" | tee -a "$TMP/runs.txt" >&2
    done
done
echo "\\q" >&"${SESS[1]}"
PARTIAL_SQL="SELECT sum(octet_length(p)) FROM (
    SELECT recommender.partial_gram(customer_id::int8, product_id::int8, CASE event_type WHEN 'view' THEN 1 WHEN 'cart' THEN 3 WHEN 'purchase' THEN 5 ELSE 0 END::float8,
                                    occurred_at, 2, 2, 0, 14 * 86400, SEQ) p FROM sh.events_s1
    UNION ALL
    SELECT recommender.partial_gram(customer_id::int8, product_id::int8, CASE event_type WHEN 'view' THEN 1 WHEN 'cart' THEN 3 WHEN 'purchase' THEN 5 ELSE 0 END::float8,
                                    occurred_at, 2, 2, 0, 14 * 86400, SEQ) FROM sh.events_s2) x"
PARTIAL_BYTES=$(C -c "${PARTIAL_SQL//SEQ/0}"); PARTIAL_SEQ_BYTES=$(C -c "${PARTIAL_SQL//SEQ/2}")
med() { awk -v m="$1" -v c="$2" '$1 == m {print $c}' "$TMP/runs.txt" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
echo "sample shop x$SCALE: $EVENTS events ($TABLE_MB MB as shop.events), $CUSTOMERS customers, 1,000 products; shard 1 $N1 rows, shard 2 $N2 rows; $RUNS runs each, medians"
echo "| training | train() seconds | bytes sent by the shards | bytes sent to the shards |"
echo "|---|---:|---:|---:|"
echo "| from partial results | $(med partial 3) | $(med partial 4) | $(med partial 5) |"
echo "| reading every row | $(med rows 3) | $(med rows 4) | $(med rows 5) |"
echo "| from partial results, sequence_weight 0.3 | $(med partial_seq 3) | $(med partial_seq 4) | $(med partial_seq 5) |"
echo "| reading every row, sequence_weight 0.3 | $(med rows_seq 3) | $(med rows_seq 4) | $(med rows_seq 5) |"
echo "the two partial results themselves: $PARTIAL_BYTES bytes (octet_length), $PARTIAL_SEQ_BYTES with the sequential component"
