#!/usr/bin/env bash
# Per-unit costs of a shard's part of training (issue 10, part 5: the README's "On paper" section
# is computed from these). For each size, a synthetic catalog (bench/gen_catalog.sql, as
# bench/scale.sh makes it) in one private temporary cluster, then in ONE session, RUNS times each
# (medians):
#   scan:    SELECT count(*) over the events (the baseline: reading the rows on the shard);
#   partial: SELECT octet_length(recommender.partial_gram(...)) over the same rows (binary
#            weighting, no row normalisation): what one shard computes for train();
# and once: the users, the events, the pair instances a user's history brings to XᵀX
# (sum over users of L(L+1)/2, for L distinct items), the pairs of the partial result (its
# distinct non-zeros, from recommender.partial_gram_info) and its bytes.
#   bench/unit_costs.sh [ITEMS ...]      default: 20000 100000   (UNIT_RUNS, default 3)
source "$(dirname "$0")/../scripts/lib.sh"
SIZES=("$@"); [ "${#SIZES[@]}" -gt 0 ] || SIZES=(20000 100000)
RUNS="${UNIT_RUNS:-3}"
ensure_deps
build_release
install_extension
TMP="$(mktemp -d "${TMPDIR:-/tmp}/recommender-units.XXXXXX")"; chmod 755 "$TMP"
PORT="$(free_port)"
trap 'stop_cluster "$TMP/pg"' EXIT
start_cluster "$TMP/pg" "$PORT" "-c work_mem=256MB"
export PGHOST=127.0.0.1 PGPORT="$PORT" PGUSER=postgres PGDATABASE=units
"$PG_BIN/createdb" units
P() { psql -X -q -tA -v ON_ERROR_STOP=1 "$@"; }
P -c "CREATE EXTENSION recommender" >/dev/null
median() { sort -g | awk '{a[NR]=$1} END {i=int((NR-1)*0.5+0.5)+1; printf "%.3f\n", a[i]}'; }

printf '| items | users | events | pair instances | partial pairs | partial bytes | scan s (median) | partial_gram s (median) | ns per event over the scan | ns per pair instance over the scan |\n'
printf '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
for N in "${SIZES[@]}"; do
    log "catalog of $N items: generating"
    P -v items="$N" -v seed=7 -f "$ROOT/bench/gen_catalog.sql" >/dev/null
    P -c "VACUUM ANALYZE cat.events" >/dev/null
    read -r USERS EVENTS INST < <(P -F ' ' -c "
        SELECT count(*), sum(l), sum(d * (d + 1) / 2) FROM (
          SELECT user_id, count(*) AS l, count(DISTINCT item_id)::numeric AS d FROM cat.events GROUP BY user_id) s")
    Q="SELECT recommender.partial_gram(user_id::bigint, item_id::bigint, 1.0::float8, occurred_at, 0, 1.0::float8, 0.0::float8, 1209600.0::float8, 0.0::float8) FROM cat.events"
    INFO=$(P -c "SET recommender.max_training_memory = '4GB'" -c "SET recommender.max_partial_size = '1000MB'" -c "SELECT recommender.partial_gram_info(($Q))")
    PAIRS=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["pairs"])' "$INFO")
    # one session: \timing lines, scan and partial alternating
    {
        echo "SET recommender.max_training_memory = '4GB'; SET recommender.max_partial_size = '1000MB';"
        echo '\timing on'
        for _ in $(seq "$RUNS"); do
            echo "SELECT count(*) FROM cat.events;"
            echo "SELECT octet_length(($Q));"
        done
    } | P > "$TMP/times.$N" 2>&1
    awk '/^Time:/ {print $2 / 1000}' "$TMP/times.$N" > "$TMP/t.$N"
    SCAN=$(awk 'NR % 2 == 1' "$TMP/t.$N" | median)
    PART=$(awk 'NR % 2 == 0' "$TMP/t.$N" | median)
    BYTES=$(grep -E '^[0-9]+$' "$TMP/times.$N" | awk 'NR % 2 == 0' | tail -1)
    python3 - "$N" "$USERS" "$EVENTS" "$INST" "$PAIRS" "$BYTES" "$SCAN" "$PART" <<'EOF'
import sys
n, users, events, inst, pairs, nbytes = (int(float(x)) for x in sys.argv[1:7])
scan, part = float(sys.argv[7]), float(sys.argv[8])
extra = part - scan
print(f"| {n:,} | {users:,} | {events:,} | {inst:,} | {pairs:,} | {nbytes:,} | {scan:.2f} | {part:.2f} "
      f"| {extra / events * 1e9:,.0f} | {extra / inst * 1e9:,.1f} |")
EOF
done
