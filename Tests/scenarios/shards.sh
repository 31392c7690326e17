#!/usr/bin/env bash
# Interactions on shards and training from partial results (issue 10): two shard servers started
# on free loopback ports (the same PostgreSQL copy, the extension installed on both) hold two
# foreign partitions (postgres_fdw, server option extensions 'recommender') of a hash-partitioned
# interactions table of the test server (the coordinator), a third partition is local. Checked:
# - train() takes its input from the partitions' partial results (recommender.partial_gram, which
#   EXPLAIN VERBOSE shows running on the shard), and the model equals a single-server training on
#   the same rows in a local table: every score of recommend() for every user over the whole
#   catalog (1e-6 relative), the items' user counts, popularity and trend, the version's counts;
#   recommender.partial_training = off reads the rows and gives the same model; the same with the
#   sequential component (sequence_weight 0.3, sequence_half_life 3, times cut to the hour so that
#   many first times tie): the partitions send their users' SᵀS and SᵀT;
# - the history of one user is read from its shard only: the shards' own counters
#   (pg_stat_user_tables on each shard) before and after recommend()/explain() calls;
# - a partial result is checked: recommender.partial_gram_info describes a shard's own, bad bytes
#   are 22P03;
# - a shard down: train() fails with a clear error, the session stays usable, and a user of the
#   other shard is still served;
# - a hot standby of the coordinator (pg_basebackup -R) serves the sharded model's lists.
# Usage: bash Tests/scenarios/shards.sh TMPDIR (PGHOST, PGPORT, PGUSER, PG_BIN, ROOT set; the
# database recommender_regress holds the sample shop), or alone: scripts/scenario.sh shards.
# SHARDS_USERS (default 400) bounds the customers copied into the sharded table.
set -uo pipefail
TMP="$1"
HERE="$(cd "$(dirname "$0")" && pwd)"
export PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
source "$HERE/../../scripts/lib.sh"
set +e
DB=recommender_regress
USERS="${SHARDS_USERS:-400}"
pass=0; fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
bad() { echo "not ok - $1"; fail=$((fail + 1)); }
qp() { psql -X -q -tA -d "$DB" -c "$1" 2>&1; }
P1="$(free_port)"; P2="$(free_port)"
while [ "$P2" = "$P1" ]; do P2="$(free_port)"; done
D1="$TMP/shard1"; D2="$TMP/shard2"; SDIR="$TMP/shards-standby"
q1() { psql -X -q -tA -h 127.0.0.1 -p "$P1" -d shard -c "$1" 2>&1; }
q2() { psql -X -q -tA -h 127.0.0.1 -p "$P2" -d shard -c "$1" 2>&1; }
runas=()
if [ "$(id -u)" = "0" ]; then runas=(runuser -u postgres --); fi
cleanup() { stop_cluster "$D1"; stop_cluster "$D2"; stop_cluster "$SDIR"; }
trap cleanup EXIT

# 1. two shard servers with the extension and an empty table each
for d in "$D1" "$D2"; do rm -rf "$d"; done
start_cluster "$D1" "$P1" "-c shared_buffers=32MB -c max_connections=20" 2>/dev/null
start_cluster "$D2" "$P2" "-c shared_buffers=32MB -c max_connections=20" 2>/dev/null
for p in "$P1" "$P2"; do
    "$PG_BIN/createdb" -h 127.0.0.1 -p "$p" -U postgres shard
    psql -X -q -h 127.0.0.1 -p "$p" -d shard -c "CREATE EXTENSION recommender;
        CREATE TABLE ev (customer_id integer NOT NULL, product_id integer NOT NULL, event_type text NOT NULL, occurred_at timestamptz NOT NULL);
        CREATE INDEX ON ev (customer_id);" >/dev/null 2>&1
done
[ "$(q1 "SELECT extversion FROM pg_extension WHERE extname = 'recommender'")" = "0.4.0" ] \
    && [ "$(q2 "SELECT extversion FROM pg_extension WHERE extname = 'recommender'")" = "0.4.0" ] \
    && ok "two shard servers on ports $P1 and $P2 with recommender 0.4.0" || bad "shard servers: $(q1 "SELECT 1") / $(q2 "SELECT 1")"

# 2. the coordinator: postgres_fdw servers (shippable extension), a hash-partitioned table over
# two foreign partitions and a local one, and the same rows in a plain local table
out=$(qp "SET client_min_messages = warning;
    CREATE EXTENSION IF NOT EXISTS postgres_fdw;
    DROP SCHEMA IF EXISTS sh CASCADE; CREATE SCHEMA sh;
    DROP SERVER IF EXISTS s1 CASCADE; DROP SERVER IF EXISTS s2 CASCADE;
    CREATE SERVER s1 FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '$P1', dbname 'shard', extensions 'recommender');
    CREATE SERVER s2 FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '$P2', dbname 'shard', extensions 'recommender');
    CREATE USER MAPPING FOR CURRENT_USER SERVER s1 OPTIONS (user 'postgres');
    CREATE USER MAPPING FOR CURRENT_USER SERVER s2 OPTIONS (user 'postgres');
    CREATE TABLE sh.events (customer_id integer NOT NULL, product_id integer NOT NULL, event_type text NOT NULL, occurred_at timestamptz NOT NULL)
      PARTITION BY HASH (customer_id);
    CREATE FOREIGN TABLE sh.events_s1 PARTITION OF sh.events FOR VALUES WITH (MODULUS 3, REMAINDER 0)
      SERVER s1 OPTIONS (schema_name 'public', table_name 'ev');
    CREATE FOREIGN TABLE sh.events_s2 PARTITION OF sh.events FOR VALUES WITH (MODULUS 3, REMAINDER 1)
      SERVER s2 OPTIONS (schema_name 'public', table_name 'ev');
    CREATE TABLE sh.events_here PARTITION OF sh.events FOR VALUES WITH (MODULUS 3, REMAINDER 2);
    CREATE INDEX ON sh.events_here (customer_id);
    INSERT INTO sh.events SELECT customer_id, product_id, event_type, occurred_at FROM shop.events WHERE customer_id <= $USERS ORDER BY event_id;
    CREATE TABLE sh.events_single AS SELECT customer_id, product_id, event_type, occurred_at FROM shop.events WHERE customer_id <= $USERS ORDER BY event_id;
    CREATE INDEX ON sh.events_single (customer_id);
    ANALYZE sh.events_here, sh.events_single;" 2>&1)
n1=$(q1 "SELECT count(*) FROM ev"); n2=$(q2 "SELECT count(*) FROM ev"); nh=$(qp "SELECT count(*) FROM sh.events_here")
ns=$(qp "SELECT count(*) FROM sh.events_single")
q1 "ANALYZE ev" >/dev/null; q2 "ANALYZE ev" >/dev/null
if [ -n "$n1" ] && [ "$n1" -gt 0 ] && [ "$n2" -gt 0 ] && [ "$nh" -gt 0 ] && [ $((n1 + n2 + nh)) -eq "$ns" ]; then
    ok "$ns interactions of $USERS customers: $n1 on shard 1, $n2 on shard 2, $nh local"
else
    bad "loading the shards: $out; $n1 + $n2 + $nh vs $ns"
fi

reg() {   # model, table
    echo "SELECT recommender.register('$1', '$2', 'customer_id', 'product_id', time_column => 'occurred_at',
             event_column => 'event_type', event_weights => '{\"view\": 1, \"cart\": 3, \"purchase\": 5}',
             items => 'shop.products', item_id_column => 'product_id', category_column => 'category', title_column => 'title');
          SELECT 1 FROM recommender.configure('$1', lambda => 150, row_norm => 0.25, weighting => 'power', weight_power => 1.5);"
}
qp "SET client_min_messages = warning; $(reg sharded sh.events) $(reg single sh.events_single)" >/dev/null

# 3. the aggregate runs on the shard: postgres_fdw ships it whole
plan=$(qp "EXPLAIN (VERBOSE, COSTS OFF) SELECT recommender.partial_gram(customer_id::int8, product_id::int8, 1::float8, occurred_at, 2, 1, 0, 86400, 3) FROM ONLY sh.events_s1")
if grep -q "Foreign Scan" <<<"$plan" && grep -q "Relations: Aggregate on" <<<"$plan" && grep -q "Remote SQL: SELECT recommender.partial_gram(" <<<"$plan"; then
    ok "EXPLAIN VERBOSE: the aggregate over a foreign partition runs on the shard ($(grep -o 'Remote SQL: .\{0,60\}' <<<"$plan" | head -1)...)"
else
    bad "the aggregate is not pushed down: $plan"
fi
info=$(q1 "SELECT recommender.partial_gram_info(recommender.partial_gram(customer_id::int8, product_id::int8, 1::float8, occurred_at, 2, 1, 0, 86400, 3)) FROM ev")
grep -q '"format": 2' <<<"$info" && grep -q "\"events\": $n1" <<<"$info" && grep -q '"sequence_half_life": 3' <<<"$info" && ok "partial_gram_info of shard 1's own partial: $info" || bad "partial_gram_info: $info"
badinfo=$(psql -X -q -tA -d "$DB" -v VERBOSITY=verbose -c "SELECT recommender.partial_gram_info('\\x0102'::bytea)" 2>&1)
grep -q "22P03" <<<"$badinfo" && ok "bad bytes are 22P03: $(head -1 <<<"$badinfo")" || bad "bad bytes: $badinfo"
flipped=$(psql -X -q -tA -d "$DB" -v VERBOSITY=verbose -c "SELECT recommender.partial_gram_info(set_byte(p, 140, get_byte(p, 140) # 1))
    FROM (SELECT recommender.partial_gram(customer_id::int8, product_id::int8, 1::float8, occurred_at, 2, 1, 0, 86400, 0) p FROM sh.events_here) x" 2>&1)
grep -q "22P03" <<<"$flipped" && grep -q "checksum" <<<"$flipped" && ok "a flipped byte in a partial is 22P03 (checksum)" || bad "flipped byte: $flipped"
# what train() fetches: the part as base64 text, 4/3 of its size (a bytea travels as hex, twice)
b64=$(q1 "SELECT decode(t, 'base64') = p, octet_length(t), octet_length(p) FROM (SELECT recommender.partial_gram_base64(p) t, p
            FROM (SELECT recommender.partial_gram(customer_id::int8, product_id::int8, 1::float8, occurred_at, 2, 1, 0, 86400, 3) p FROM ev) x) y")
IFS='|' read -r same tlen plen <<<"$b64"
[ "$same" = "t" ] && [ "$tlen" -eq $(( (plen + 2) / 3 * 4 )) ] && ok "recommender.partial_gram_base64: $plen bytes as $tlen characters of base64, decoded equal" || bad "partial_gram_base64: $b64"
# the sequential part's half-life: NULL or 0 is none, out of 0.5-8 is 22023
seqargs=$(psql -X -q -tA -d "$DB" -v VERBOSITY=verbose \
    -c "SELECT (recommender.partial_gram_info(recommender.partial_gram(customer_id::int8, product_id::int8, 1::float8, occurred_at, 2, 1, 0, 86400, NULL))->>'sequence_st_pairs')::int FROM sh.events_here" \
    -c "SELECT (recommender.partial_gram_info(recommender.partial_gram(customer_id::int8, product_id::int8, 1::float8, occurred_at, 2, 1, 0, 86400, 0.5))->>'sequence_st_pairs')::int > 0 FROM sh.events_here" \
    -c "SELECT recommender.partial_gram(customer_id::int8, product_id::int8, 1::float8, occurred_at, 2, 1, 0, 86400, 9) FROM sh.events_here" -c "SELECT 'alive'" 2>&1)
if [ "$(head -2 <<<"$seqargs" | tr '\n' ' ')" = "0 t " ] && grep -q "ERROR:  22023: recommender.partial_gram: sequence_half_life must be 0 or NULL" <<<"$seqargs" && grep -q "^alive$" <<<"$seqargs"; then
    ok "the aggregate's sequence_half_life: NULL gives no sequence pairs, 0.5 gives some, 9 is 22023"
else
    bad "sequence_half_life of the aggregate: $seqargs"
fi

# 4. train both; the sharded one from partial results
single_out=$(qp "SELECT version FROM recommender.train('single')" 2>&1)
sharded_out=$(qp "SELECT version FROM recommender.train('sharded')" 2>&1)
if grep -q "training from partial results of 3 partitions: 2 aggregated on their servers (s1, s2), 1 local aggregated here" <<<"$sharded_out"; then
    ok "train() from partial results: $(grep -o 'training from partial results.*' <<<"$sharded_out")"
else
    bad "train() of the sharded model: $sharded_out"
fi
grep -q "partial results" <<<"$single_out" && bad "the single-table model took the partial path: $single_out"

# every score of every user over the whole catalog (and 3 users the model does not know)
compare() {   # model A, model B -> "rows maxrel mismatched"
    qp "WITH u AS (SELECT DISTINCT customer_id AS u FROM sh.events_single UNION ALL VALUES (0), (-5), (999999)),
         a AS (SELECT u.u, r.item_id, r.score, r.source FROM u CROSS JOIN LATERAL recommend(u.u, 2000, 0, '$1', exclude_seen => false) r),
         b AS (SELECT u.u, r.item_id, r.score, r.source FROM u CROSS JOIN LATERAL recommend(u.u, 2000, 0, '$2', exclude_seen => false) r)
        SELECT count(*), coalesce(max(abs(a.score - b.score) / greatest(abs(a.score), abs(b.score), 1e-300)), 0),
               count(*) FILTER (WHERE a.u IS NULL OR b.u IS NULL OR a.source <> b.source)
          FROM a FULL JOIN b USING (u, item_id)"
}
cmp=$(compare sharded single)
IFS='|' read -r rows maxrel missing <<<"$cmp"
if [ -n "$rows" ] && [ "$rows" -gt 100000 ] && [ "$missing" = "0" ] && python3 -c "import sys; sys.exit(0 if float('$maxrel') <= 1e-6 else 1)"; then
    ok "every score equals the single-server training: $rows (user, item) scores, max relative difference $maxrel"
else
    bad "scores against the single-server training: $cmp"
fi
items=$(qp "SELECT count(*), count(*) FILTER (WHERE a.users <> b.users OR abs(a.popularity - b.popularity) > 1e-9 * greatest(abs(a.popularity), abs(b.popularity))
                                              OR abs(a.trend - b.trend) > 1e-9 * greatest(abs(a.trend), abs(b.trend)) OR a.item_id IS NULL OR b.item_id IS NULL)
              FROM (SELECT * FROM recommender.model_item WHERE model = 'sharded' AND version = (SELECT version FROM recommender.model WHERE name = 'sharded')) a
              FULL JOIN (SELECT * FROM recommender.model_item WHERE model = 'single' AND version = (SELECT version FROM recommender.model WHERE name = 'single')) b
                USING (item_id)")
IFS='|' read -r nitems ndiff <<<"$items"
[ "$ndiff" = "0" ] && [ "$nitems" -gt 0 ] && ok "$nitems items: the same users, popularity and trend" || bad "items: $items"
vers=$(qp "SELECT count(DISTINCT (users, items, interactions, nonzeros, params->>'weight_scale', params->>'watermark', params->>'catalog_items')) FROM recommender.model_version WHERE model IN ('sharded', 'single')")
[ "$vers" = "1" ] && ok "the versions' users, items, interactions, non-zeros, weight scale and watermark are equal" \
    || bad "versions: $(qp "SELECT model, users, items, interactions, nonzeros, params->>'weight_scale', params->>'watermark' FROM recommender.model_version WHERE model IN ('sharded', 'single')")"

# the row path on demand gives the same model
off_out=$(qp "SET recommender.partial_training = off; SELECT version FROM recommender.train('sharded')" 2>&1)
grep -q "training by reading their rows (recommender.partial_training is off)" <<<"$off_out" && ok "partial_training = off reads the rows (NOTICE)" || bad "partial_training = off: $off_out"
cmp=$(compare sharded single)
IFS='|' read -r rows maxrel missing <<<"$cmp"
[ "$missing" = "0" ] && python3 -c "import sys; sys.exit(0 if float('$maxrel') <= 1e-6 else 1)" && ok "the row path over the shards gives the same scores (max relative difference $maxrel)" \
    || bad "row path scores: $cmp"

# a bad row on a shard, and in the local partition (aggregated inside train()'s own call): a clear
# error from the aggregate, the session goes on, the version in use keeps serving
v_before=$(qp "SELECT version FROM recommender.model WHERE name = 'sharded'")
q1 "INSERT INTO ev SELECT customer_id, product_id, event_type, 'infinity' FROM ev LIMIT 1" >/dev/null
remote_bad=$(psql -X -q -tA -d "$DB" -v VERBOSITY=verbose -c "SET client_min_messages = warning; SELECT version FROM recommender.train('sharded')" -c "SELECT 'alive'" 2>&1)
q1 "DELETE FROM ev WHERE occurred_at = 'infinity'" >/dev/null
qp "INSERT INTO sh.events_here SELECT customer_id, product_id, event_type, 'infinity' FROM sh.events_here LIMIT 1" >/dev/null
local_bad=$(psql -X -q -tA -d "$DB" -v VERBOSITY=verbose -c "SET client_min_messages = warning; SELECT version FROM recommender.train('sharded')" -c "SELECT 'alive'" 2>&1)
qp "DELETE FROM sh.events_here WHERE occurred_at = 'infinity'" >/dev/null
if grep -q "ERROR:  22003: the interaction of user .* (recommender.partial_gram on this server) has a non-finite time (inf)" <<<"$remote_bad" \
   && grep -q "remote SQL command" <<<"$remote_bad" && grep -q "^alive$" <<<"$remote_bad" \
   && grep -q "ERROR:  22003: the interaction of user .* (recommender.partial_gram on this server) has a non-finite time (inf)" <<<"$local_bad" \
   && grep -q "^alive$" <<<"$local_bad" && [ "$(qp "SELECT version FROM recommender.model WHERE name = 'sharded'")" = "$v_before" ]; then
    ok "an infinite time on shard 1 and in the local partition: 22003 from the aggregate, the session goes on, version $v_before still in use"
else
    bad "bad rows: remote: $remote_bad; local: $local_bad"
fi

# when partial results are not used: the reason, from the plan train() follows
why=$(qp "SET client_min_messages = warning;
    DROP ROLE IF EXISTS shards_reader; CREATE ROLE shards_reader; GRANT USAGE ON SCHEMA sh TO shards_reader; GRANT SELECT ON sh.events TO shards_reader;
    SET ROLE shards_reader; SELECT reason FROM recommender._partial_plan('sharded'); RESET ROLE;
    DROP OWNED BY shards_reader; DROP ROLE shards_reader;
    ALTER TABLE sh.events_here ENABLE ROW LEVEL SECURITY; SELECT reason FROM recommender._partial_plan('sharded');
    ALTER TABLE sh.events_here DISABLE ROW LEVEL SECURITY;
    CREATE TABLE sh.byitem (customer_id integer, product_id integer) PARTITION BY HASH (product_id);
    CREATE TABLE sh.byitem_0 PARTITION OF sh.byitem FOR VALUES WITH (MODULUS 1, REMAINDER 0);
    SELECT 1 FROM recommender.register('byitem', 'sh.byitem', 'customer_id', 'product_id');
    SELECT reason FROM recommender._partial_plan('byitem'); SELECT recommender.drop('byitem');
    SELECT count(*) FROM recommender._partial_plan('single');")
if grep -q "the current role may not read partition sh.events_s1 directly" <<<"$why" && grep -q "partition sh.events_here has row-level security" <<<"$why" \
   && grep -q "sh.byitem is not partitioned by the user column customer_id alone" <<<"$why" && [ "$(tail -1 <<<"$why")" = "0" ]; then
    ok "rows are read instead when the role may not read a partition, a partition has row-level security, or the table is partitioned by the item"
else
    bad "reasons for the row path: $why"
fi

# the sparse kind from partial results. Its approximate solve (pruning, fill-in dropping, the
# largest weights per item) depends on how the items are numbered: training numbers them in the
# order it first meets them, the merged partial results by id. Against a single-server twin that
# meets them in id order (its rows stored by item) the scores agree to 1e-6; against the twin in
# event order, the difference is the sparse kind's own sensitivity to the numbering (printed).
qp "SET client_min_messages = warning;
    CREATE TABLE sh.events_byitem AS SELECT * FROM sh.events_single ORDER BY product_id, customer_id, occurred_at;
    $(reg single_byitem sh.events_byitem)
    SELECT recommender.configure(m, kind => 'sparse', density => 0.2) IS NOT NULL FROM unnest(ARRAY['sharded', 'single', 'single_byitem']) m;
    SELECT 1 FROM recommender.train('single'); SELECT 1 FROM recommender.train('single_byitem');" >/dev/null
sparse_out=$(qp "SELECT version FROM recommender.train('sharded')" 2>&1)
cmp=$(compare sharded single_byitem)
IFS='|' read -r rows maxrel missing <<<"$cmp"
IFS='|' read -r _ maxrel_event _ <<<"$(compare sharded single)"
if grep -q "training from partial results" <<<"$sparse_out" && grep -q "sparse" <<<"$sparse_out" && [ "$missing" = "0" ] \
   && python3 -c "import sys; sys.exit(0 if float('$maxrel') <= 1e-6 else 1)"; then
    ok "the sparse kind from partial results equals its single-server training with the same item numbering: $rows scores, max relative difference $maxrel (against the twin numbering items by first event: $maxrel_event)"
else
    bad "the sparse kind from partial results: $cmp (against the twin in event order: $maxrel_event); $(grep -o 'training from partial.*' <<<"$sparse_out" | head -1)"
fi
qp "SET client_min_messages = warning; SELECT recommender.drop('single_byitem')" >/dev/null

# the sequential component from partial results: each partition sends its users' SᵀS and SᵀT
# (ordered by first time, ties by item id). The times cut to the hour, so that many of a user's
# items share their first time (the ties must be broken as the row path breaks them); a
# non-default sequence_half_life (3 positions: 12 on each side of a step) with the power
# weighting's rescaling and row_norm of both models
q1 "UPDATE ev SET occurred_at = date_trunc('hour', occurred_at)" >/dev/null
q2 "UPDATE ev SET occurred_at = date_trunc('hour', occurred_at)" >/dev/null
qp "UPDATE sh.events_here SET occurred_at = date_trunc('hour', occurred_at);
    UPDATE sh.events_single SET occurred_at = date_trunc('hour', occurred_at)" >/dev/null
ties=$(qp "SELECT count(*) FROM (SELECT customer_id, f FROM (SELECT customer_id, product_id, min(occurred_at) f FROM sh.events_single GROUP BY 1, 2) x
                                  GROUP BY 1, 2 HAVING count(*) > 1) y")
qp "SET client_min_messages = warning;
    SELECT recommender.configure(m, kind => 'dense', sequence_weight => 0.3, sequence_half_life => 3) IS NOT NULL FROM unnest(ARRAY['sharded', 'single']) m" >/dev/null
single_out=$(qp "SELECT version FROM recommender.train('single')" 2>&1)
seq_out=$(qp "SELECT version FROM recommender.train('sharded')" 2>&1)
cmp=$(compare sharded single)
IFS='|' read -r rows maxrel missing <<<"$cmp"
scales=$(qp "SELECT count(*), max((params->>'sequence_half_life')::float8), min((params->>'sequence_half_life')::float8),
                    coalesce(max((params->>'sequence_scale')::float8) / nullif(min((params->>'sequence_scale')::float8), 0) - 1, -1)
               FROM recommender.model_version v JOIN recommender.model m ON m.name = v.model AND m.version = v.version
              WHERE v.model IN ('sharded', 'single')")
IFS='|' read -r nv hmax hmin scalediff <<<"$scales"
if grep -q "training from partial results of 3 partitions: 2 aggregated on their servers (s1, s2), 1 local aggregated here" <<<"$seq_out" \
   && grep -q "sequence pairs" <<<"$seq_out" && grep -q "the sequential component jointly" <<<"$seq_out" \
   && grep -q "the sequential component jointly" <<<"$single_out" && [ "$ties" -gt 0 ] && [ "$missing" = "0" ] && [ "$rows" -gt 100000 ] \
   && [ "$nv" = "2" ] && [ "$hmax" = "3" ] && [ "$hmin" = "3" ] \
   && python3 -c "import sys; sys.exit(0 if float('$maxrel') <= 1e-6 and 0 <= float('$scalediff') <= 1e-9 else 1)"; then
    ok "sequence_weight 0.3, sequence_half_life 3 from partial results ($(grep -o '[0-9]* item pairs, [0-9]* sequence pairs' <<<"$seq_out"); $ties tied first times): $rows scores equal the single-server training, max relative difference $maxrel, sequence scales equal to $scalediff"
else
    bad "the sequential component from partial results: $cmp; ties $ties; versions $scales; $(grep -o 'training from partial.*\|training by reading.*' <<<"$seq_out" | head -1); single: $(grep -o 'ERROR.*\|sequential component.*' <<<"$single_out" | head -1)"
fi

# 5. one user's history is read from its shard only (the shards' own counters)
u1=$(qp "SELECT customer_id FROM sh.events_s1 ORDER BY customer_id LIMIT 1")
reads() { "$1" "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = 'ev'"; }
settle() {   # waits until a shard's counter stops moving (its backends flush statistics within ~1 s of going idle)
    local prev cur
    prev=$(reads "$1"); sleep 1.5; cur=$(reads "$1")
    while [ "$cur" != "$prev" ]; do prev=$cur; sleep 1.5; cur=$(reads "$1"); done
    echo "$cur"
}
b1=$(settle q1); b2=$(settle q2); bh=$(qp "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = 'events_here'")
item1=$(qp "SELECT product_id FROM sh.events_single WHERE customer_id = $u1 LIMIT 1")
calls=$(qp "SELECT count(*) FROM generate_series(1, 8) g CROSS JOIN LATERAL recommend($u1, 10, 0, 'sharded') r;
            SELECT count(*) FROM explain($u1, $item1, 'sharded');")
sleep 1.5
a1=$(settle q1); a2=$(settle q2); ah=$(qp "SELECT pg_stat_force_next_flush(); SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = 'events_here'" | tail -1)
if [ -n "$a1" ] && [ $((a1 - b1)) -ge 1 ] && [ "$a2" = "$b2" ] && [ "$ah" = "$bh" ]; then
    ok "user $u1's history (8 recommend() and 1 explain() calls) read on shard 1 only: shard 1's scans $b1 -> $a1, shard 2's $b2 -> $a2, the local partition's $bh -> $ah"
else
    bad "history reads: shard 1 $b1 -> $a1, shard 2 $b2 -> $a2, local $bh -> $ah ($calls)"
fi
hplan=$(qp "PREPARE h(int) AS SELECT product_id FROM sh.events WHERE customer_id OPERATOR(pg_catalog.=) \$1::pg_catalog.int4;
            SET plan_cache_mode = force_generic_plan; EXPLAIN (COSTS OFF) EXECUTE h($u1);")
grep -q "Subplans Removed: 2" <<<"$hplan" && ok "the history query's generic plan prunes the other 2 partitions at run time" || bad "history plan: $hplan"

# 6. a shard down: a clear error, the session goes on, the other shard's users are served
stop_cluster "$D2"
down=$(psql -X -q -tA -d "$DB" -v VERBOSITY=verbose -c "SET client_min_messages = warning; SELECT version FROM recommender.train('sharded')" \
            -c "SELECT 'alive'" -c "SELECT count(*) FROM recommend($u1, 5, 0, 'sharded')" 2>&1)
if grep -q "ERROR:  08001" <<<"$down" && grep -q "^alive$" <<<"$down" && grep -q "^5$" <<<"$down"; then
    ok "shard 2 down: train() fails with $(grep -o 'ERROR:  08001: [^"]*' <<<"$down" | head -1 | cut -c1-70)..., the session goes on, user $u1 (shard 1) still gets 5 items"
else
    bad "shard down: $down"
fi
start_cluster "$D2" "$P2" "-c shared_buffers=32MB -c max_connections=20" 2>/dev/null

# 7. a hot standby of the coordinator serves the sharded model
rm -rf "$SDIR"; mkdir -p "$SDIR"
[ "${#runas[@]}" -gt 0 ] && chown postgres:postgres "$SDIR" && chmod 700 "$SDIR"
SPORT="$(free_port)"
if "${runas[@]}" "$PG_BIN/pg_basebackup" -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -D "$SDIR/data" -R -X stream -c fast -N >"$TMP/shards-basebackup.log" 2>&1; then
    settings=""
    for s in max_connections max_worker_processes max_wal_senders max_prepared_transactions max_locks_per_transaction; do
        settings="$settings -c $s=$(qp "SHOW $s")"
    done
    start_cluster "$SDIR" "$SPORT" "-c shared_buffers=64MB -c hot_standby=on $settings" 2>/dev/null
    lsn=$(qp "SELECT pg_current_wal_lsn()")
    qs() { psql -X -q -tA -h 127.0.0.1 -p "$SPORT" -d "$DB" -c "$1" 2>&1; }
    for _ in $(seq 1 300); do [ "$(qs "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")" = "t" ] && break; sleep 0.1; done
    lists="SELECT string_agg(u || ':' || r.item_id || ':' || round(r.score::numeric, 9), ',' ORDER BY u, r.rank)
             FROM (SELECT DISTINCT customer_id AS u FROM sh.events_single ORDER BY 1 LIMIT 30) x CROSS JOIN LATERAL recommend(x.u, 5, 0.3, 'sharded') r"
    pl=$(qp "$lists"); sl=$(qs "$lists")
    [ "$(qs "SELECT pg_is_in_recovery()")" = "t" ] && [ -n "$pl" ] && [ "$sl" = "$pl" ] \
        && ok "a hot standby of the coordinator (port $SPORT) serves the sharded model: 30 users' lists equal the primary's" \
        || bad "standby: $(qs "SELECT pg_is_in_recovery()") $(diff <(tr , '\n' <<<"$pl") <(tr , '\n' <<<"$sl") | head -4)"
    if grep -E "terminated by signal|server process .* was terminated" "$SDIR/server.log"; then bad "a standby backend died"; fi
else
    bad "pg_basebackup: $(tail -3 "$TMP/shards-basebackup.log")"
fi

for d in "$D1" "$D2"; do
    if grep -E "terminated by signal|server process .* was terminated" "$d/server.log"; then bad "a shard backend died ($d)"; fi
done
cleanup
trap - EXIT
rm -rf "$D1" "$D2" "$SDIR"
qp "SET client_min_messages = warning; SELECT recommender.drop('sharded'); SELECT recommender.drop('single');
    DROP SCHEMA sh CASCADE; DROP SERVER s1 CASCADE; DROP SERVER s2 CASCADE;" >/dev/null
echo "shards scenarios: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
