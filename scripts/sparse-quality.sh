#!/usr/bin/env bash
# The sparse kind against the dense model on MovieLens-100k (both shared splits), at several
# densities: trains each on the split's train part with the configuration recommender.tune()
# chooses for the dense model on the split's validation part (valid_train -> valid_test; without
# the sequential component, which the sparse kind does not have; nothing chosen offline is written
# here) and scores recommend() on the test part with recommender.evaluate()
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
BUDGET="${SPARSE_TUNE_BUDGET:-5 minutes}"
printf '%-9s %-7s %-8s %8s %9s %9s %8s\n' split kind density per_item ndcg@10 recall@10 seconds
for split in random temporal; do
    S="ml_$split"
    P <<SQL
CREATE SCHEMA $S;
CREATE TABLE $S.train (user_id int, item_id int, rating int, ts bigint);
CREATE TABLE $S.test (LIKE $S.train);
CREATE TABLE $S.valid_train (LIKE $S.train);
CREATE TABLE $S.valid_test (LIKE $S.train);
\\copy $S.train FROM '$SHARED/eval/splits/$split/train.csv' CSV HEADER
\\copy $S.test FROM '$SHARED/eval/splits/$split/test.csv' CSV HEADER
\\copy $S.valid_train FROM '$SHARED/eval/splits/$split/valid_train.csv' CSV HEADER
\\copy $S.valid_test FROM '$SHARED/eval/splits/$split/valid_test.csv' CSV HEADER
CREATE INDEX ON $S.train (user_id);
CREATE INDEX ON $S.valid_train (user_id);
ANALYZE;
SQL
    # the dense model's configuration, chosen by tune() on validation; the sequential component off
    P -c "SET client_min_messages = warning" \
      -c "SELECT 1 FROM recommender.register('v', '$S.valid_train', user_column => 'user_id', item_column => 'item_id', weight_column => 'rating', time_column => 'ts')" \
      -c "SELECT 1 FROM recommender.configure('v', kind => 'dense')" \
      -c "SELECT count(*) FROM recommender.tune('v', '$S.valid_test', 'user_id', 'item_id', 'rating', 4, budget => '$BUDGET')" > /dev/null
    CFG=$(P -tA -c "SELECT format('lambda => %s, weighting => %L, dropout => %s, row_norm => %s, recency_half_life => %s, recency_floor => %s',
                                  lambda, weighting, dropout, row_norm, recency_half_life, recency_floor)
                      FROM recommender.model WHERE name = 'v'")
    P -c "SELECT 1 FROM recommender.drop('v')" > /dev/null
    echo "# $split: tune() chose $CFG (sequence_weight 0 here)"
    for d in dense $DENSITIES; do
        if [ "$d" = dense ]; then kind="kind => 'dense'"; else kind="kind => 'sparse', density => $d"; fi
        P -c "SET client_min_messages = warning" \
          -c "SELECT 1 FROM recommender.register('m', '$S.train', user_column => 'user_id', item_column => 'item_id', weight_column => 'rating', time_column => 'ts')" \
          -c "SELECT 1 FROM recommender.configure('m', $CFG, $kind)" \
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
