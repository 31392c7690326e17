#!/usr/bin/env bash
# The sparse kind against the dense model on MovieLens-100k (both shared splits), at several
# densities: trains each on the split's train part with the configuration tune() chose for the
# dense model (README, "Quality"; the temporal split without its sequential component, which the
# sparse kind does not have) and scores recommend() on the test part with recommender.evaluate()
# (the shared scorer's definitions; relevance: rating >= 4). A quicker companion of quality.sh for
# choosing the sparse kind's default density (README, "The sparse kind").
#   SPARSE_DENSITIES="0.01 0.03 ..."   densities to try
source "$(dirname "$0")/lib.sh"
SHARED="${SHARED:-$ROOT/../shared}"
[ -f "$SHARED/eval/splits/random/train.csv" ] || { echo "error: needs the shared splits at $SHARED" >&2; exit 1; }
DENSITIES="${SPARSE_DENSITIES:-0.006 0.015 0.03 0.06 0.12 1}"
ensure_deps
build_release
install_extension
TMP="$(mktemp -d /tmp/recommender-sparseq.XXXXXX)"; chmod 755 "$TMP"
PORT="$(free_port)"
trap 'stop_cluster "$TMP/pg"' EXIT
start_cluster "$TMP/pg" "$PORT"
export PGHOST=127.0.0.1 PGPORT="$PORT" PGUSER=postgres PGDATABASE=ml
"$PG_BIN/createdb" ml
P() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
P -c "CREATE EXTENSION recommender"
declare -A CFG=(
    [random]="lambda => 4.69, weighting => 'power', dropout => 0.75, row_norm => 0.25"
    [temporal]="lambda => 100, weighting => 'log', dropout => 0.5, row_norm => 0, recency_half_life => 10"
)
printf '%-9s %-7s %-8s %8s %9s %9s %8s\n' split kind density per_item ndcg@10 recall@10 seconds
for split in random temporal; do
    S="ml_$split"
    P <<SQL
CREATE SCHEMA $S;
CREATE TABLE $S.train (user_id int, item_id int, rating int, ts bigint);
CREATE TABLE $S.test (LIKE $S.train);
\\copy $S.train FROM '$SHARED/eval/splits/$split/train.csv' CSV HEADER
\\copy $S.test FROM '$SHARED/eval/splits/$split/test.csv' CSV HEADER
CREATE INDEX ON $S.train (user_id);
ANALYZE;
SQL
    for d in dense $DENSITIES; do
        if [ "$d" = dense ]; then kind="kind => 'dense'"; else kind="kind => 'sparse', density => $d"; fi
        P -c "SET client_min_messages = warning" \
          -c "SELECT 1 FROM recommender.register('m', '$S.train', user_column => 'user_id', item_column => 'item_id', weight_column => 'rating', time_column => 'ts')" \
          -c "SELECT 1 FROM recommender.configure('m', ${CFG[$split]}, $kind)" \
          -c "SELECT 1 FROM recommender.train('m')" > /dev/null
        P -tA -F ' ' -c "SELECT '$split', COALESCE(v.params->>'kind', 'dense'), COALESCE(v.params->>'density', '-'),
                     CASE WHEN v.params->>'kind' = 'sparse' THEN round((v.params->>'sparse_nonzeros')::numeric / v.items, 1)::text ELSE (v.items - 1)::text END,
                     (SELECT round(value::numeric, 4) FROM recommender.evaluate('m', '$S.test', 'user_id', 'item_id', 'rating', 4, 10, 0) WHERE metric = 'ndcg'),
                     (SELECT round(value::numeric, 4) FROM recommender.evaluate('m', '$S.test', 'user_id', 'item_id', 'rating', 4, 10, 0) WHERE metric = 'recall'),
                     round(v.train_seconds::numeric, 2)
                FROM recommender.model_version v WHERE v.model = 'm'" | xargs printf '%-9s %-7s %-8s %8s %9s %9s %8s\n'
        P -c "SELECT 1 FROM recommender.drop('m')" > /dev/null
    done
done
