#!/usr/bin/env bash
# The quality benchmark (MovieLens-100k, both shared splits: random and temporal): loads each split
# into PostgreSQL through the normal registration path, lets recommender.tune() choose the whole
# configuration on that split's validation data only (nothing chosen offline is hard-coded here),
# trains on train with the chosen configuration, calls recommend() for every test user at k = 10
# and k = 20 for diversity 0, 0.1, ..., 1, writes the lists to CSV, scores them with the shared
# scorer (../shared/eval/evaluate.py) and prints our rows beside the peers' rows (PEERS.md), with
# an ablation of recency weighting and the sequential component. It also checks every
# explanation (contributions add up to the score) and that the SQL evaluation function agrees
# with the shared scorer. Needs ../shared (the data and the scorer).
#   QUALITY_SPLITS="random temporal"   which splits
#   QUALITY_BUDGET="5 minutes"          tune()'s time budget per split
source "$(dirname "$0")/lib.sh"
SHARED="${SHARED:-$ROOT/../shared}"
if [ ! -f "$SHARED/eval/evaluate.py" ]; then
    echo "error: the quality benchmark needs the shared data and scorer at $SHARED (set SHARED=...)" >&2
    exit 1
fi
SPLITS="${QUALITY_SPLITS:-random temporal}"
BUDGET="${QUALITY_BUDGET:-5 minutes}"
OUT_ROOT="${QUALITY_OUT:-$ROOT/.quality}"
mkdir -p "$OUT_ROOT"
ensure_deps
build_release
install_extension
TMP="$(mktemp -d /tmp/recommender-quality.XXXXXX)"; chmod 755 "$TMP"
PORT="$(free_port)"
trap 'stop_cluster "$TMP/pg"' EXIT
start_cluster "$TMP/pg" "$PORT"
export PGHOST=127.0.0.1 PGPORT="$PORT" PGUSER=postgres PGDATABASE=ml
"$PG_BIN/createdb" ml
P() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# Items: id, title, year, genres (several per film) from ml-100k.item (tab separated).
tail -n +2 "$SHARED/data/ml-100k/ml-100k.item" > "$TMP/items.tsv"
log "loading MovieLens-100k and the split"
P <<SQL
CREATE EXTENSION recommender;
CREATE SCHEMA ml;
CREATE TABLE ml.items_raw (item_id int, title text, year text, genres text);
\copy ml.items_raw FROM '$TMP/items.tsv' WITH (FORMAT text, DELIMITER E'\t', NULL '')
CREATE TABLE ml.items AS
  SELECT item_id, title, string_to_array(genres, ' ') AS genres FROM ml.items_raw;
SQL

# Model registration shared by the validation and the final model (see README, "Quality").
REGISTER_ARGS="user_column => 'user_id', item_column => 'item_id', weight_column => 'rating', time_column => 'ts',
               items => 'ml.items', item_id_column => 'item_id', category_column => 'genres', title_column => 'title'"

run_split() {
    local split="$1" SPLIT="$SHARED/eval/splits/$1" OUT="$OUT_ROOT/$1" S="ml_$1"
    mkdir -p "$OUT"
    log "$split split: loading"
    P <<SQL
CREATE SCHEMA $S;
CREATE TABLE $S.train (user_id int, item_id int, rating int, ts bigint);
CREATE TABLE $S.test (LIKE $S.train);
CREATE TABLE $S.valid_train (LIKE $S.train);
CREATE TABLE $S.valid_test (LIKE $S.train);
\\copy $S.train FROM '$SPLIT/train.csv' CSV HEADER
\\copy $S.test FROM '$SPLIT/test.csv' CSV HEADER
\\copy $S.valid_train FROM '$SPLIT/valid_train.csv' CSV HEADER
\\copy $S.valid_test FROM '$SPLIT/valid_test.csv' CSV HEADER
CREATE INDEX ON $S.train (user_id);
CREATE INDEX ON $S.valid_train (user_id);
ANALYZE;
SQL

    log "$split split: recommender.tune() on the validation split (valid_train -> valid_test), budget $BUDGET"
    P -c "SET client_min_messages = warning" \
      -c "SELECT recommender.register('valid_$split', '$S.valid_train', $REGISTER_ARGS)" \
      -c "\\pset footer off" \
      -c "SELECT trial, lambda, weighting, dropout, row_norm, recency_half_life, recency_floor, sequence_weight, sequence_half_life,
                 round(ndcg_k::numeric, 4) AS valid_ndcg10, round(recall_k::numeric, 4) AS valid_recall10, round(seconds::numeric, 1) AS seconds, chosen
            FROM recommender.tune('valid_$split', '$S.valid_test', 'user_id', 'item_id', 'rating', 4, budget => '$BUDGET')" | tee "$OUT/tuning.txt"
    CHOSEN=$(P -tA -c "SELECT format('lambda => %s, weighting => %L, dropout => %s, row_norm => %s, recency_half_life => %s, recency_floor => %s, sequence_weight => %s, sequence_half_life => %s',
                                       lambda, weighting, dropout, row_norm, recency_half_life, recency_floor, sequence_weight, sequence_half_life)
                         FROM recommender.model WHERE name = 'valid_$split'")
    echo "$CHOSEN" > "$OUT/chosen.txt"

    log "$split split: training on train with $CHOSEN"
    P -c "SET client_min_messages = warning" \
      -c "SELECT recommender.register('ml_$split', '$S.train', $REGISTER_ARGS)" \
      -c "SELECT name FROM recommender.configure('ml_$split', $CHOSEN)" \
      -c "SELECT model, users, items, interactions, round(seconds::numeric, 3) AS seconds FROM recommender.train('ml_$split')" | tee "$OUT/train.txt"

    log "$split split: recommend() for every test user, k = 10 and 20, diversity 0 .. 1"
    for d in 0 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 1; do
        for k in 10 20; do
            P -c "\\copy (SELECT t.user_id, r.item_id, r.rank, r.score FROM (SELECT DISTINCT user_id FROM $S.test) t CROSS JOIN LATERAL recommend(t.user_id, $k, $d, 'ml_$split') r ORDER BY 1, 3) TO '$OUT/ours_k${k}_d${d}.csv' CSV HEADER"
        done
    done

    log "$split split: checking every explanation of the diversity-0 and 0.5 lists"
    P -tA -c "
      SELECT format('explanations checked: %s items, %s with parts not adding up to the score (relative error > 1e-6), %s placed for variety at d=0.5',
                    count(*), count(*) FILTER (WHERE NOT ok), sum(fv::int))
        FROM (SELECT abs(x.total - r.score) <= 1e-6 * greatest(abs(r.score), 1e-12) AS ok, r.for_variety AS fv
                FROM (SELECT DISTINCT user_id FROM $S.test) t,
                     unnest(ARRAY[0, 0.5]::float8[]) d,
                     LATERAL recommend(t.user_id, 20, d, 'ml_$split') r,
                     LATERAL (SELECT sum(contribution) AS total FROM explain(t.user_id, r.item_id, 'ml_$split') WHERE role = 'because') x) c" | tee "$OUT/explanations.txt"

    log "$split split: the SQL evaluation function on the same lists"
    P -tA -c "SELECT metric || '=' || value FROM recommender.evaluate('ml_$split', '$S.test', 'user_id', 'item_id', 'rating', 4, 10, 0)" > "$OUT/sql_eval_k10_d0.txt"

    log "$split split: ablation (the recency floor, recency and the sequential component switched off)"
    cp "$OUT/ours_k20_d0.csv" "$OUT/abl_chosen.csv"
    abl() {
        P -c "SET client_min_messages = warning" -c "SELECT 1 FROM recommender.configure('ml_$split', $1)" -o /dev/null
        if [ "$2" = train ]; then P -c "SET client_min_messages = warning" -c "SELECT 1 FROM recommender.train('ml_$split')" -o /dev/null; fi
        P -c "\\copy (SELECT t.user_id, r.item_id, r.rank, r.score FROM (SELECT DISTINCT user_id FROM $S.test) t CROSS JOIN LATERAL recommend(t.user_id, 20, 0, 'ml_$split') r ORDER BY 1, 3) TO '$OUT/abl_$3.csv' CSV HEADER"
    }
    abl "recency_floor => 0" none no_floor
    abl "recency_half_life => 0" none no_recency
    abl "recency_half_life => (SELECT recency_half_life FROM recommender.model WHERE name = 'valid_$split'), recency_floor => (SELECT recency_floor FROM recommender.model WHERE name = 'valid_$split'), sequence_weight => 0" train no_sequence
    abl "recency_half_life => 0" none neither
    P -c "SET client_min_messages = warning" -c "SELECT 1 FROM recommender.configure('ml_$split', $CHOSEN)" -c "SELECT 1 FROM recommender.train('ml_$split')" -o /dev/null

    log "$split split: scoring with the shared scorer"
    python3 "$ROOT/scripts/quality_report.py" "$OUT" "$SHARED" "$split" | tee "$OUT/report.md"
}

for split in $SPLITS; do run_split "$split"; done
case " $SPLITS " in *" random "*) ;; *) exit 0 ;; esac
OUT="$OUT_ROOT/random"
CONFIGURE_ARGS="$(cat "$OUT/chosen.txt")"
P -q -c "CREATE VIEW ml.train AS SELECT * FROM ml_random.train" -c "CREATE VIEW ml.test AS SELECT * FROM ml_random.test"

# New items: hold out every item with item_id % 10 = 3 entirely from training, and see how well
# they are recommended (relevant = test rating >= 4 on a held-out item) with content vectors
# (TF-IDF of title words and genres) and without.
log "new items: 10% of the films held out of training entirely"
P -q <<SQL
SET client_min_messages = warning;
\\o /dev/null
ALTER TABLE ml.items ADD COLUMN is_new boolean;
UPDATE ml.items SET is_new = (item_id % 10 = 3);
CREATE VIEW ml.train_known AS SELECT * FROM ml.train WHERE item_id % 10 <> 3;
SELECT recommender.register('cold', 'ml.train_known', $REGISTER_ARGS);
SELECT 1 FROM recommender.configure('cold', $CONFIGURE_ARGS);
SELECT 1 FROM recommender.train('cold');
\\copy (SELECT t.user_id, r.item_id, r.rank FROM (SELECT DISTINCT user_id FROM ml.test) t CROSS JOIN LATERAL recommend(t.user_id, 10, 0, 'cold', filter => 'is_new') r ORDER BY 1, 3) TO '$OUT/cold_content_new_only.csv' CSV HEADER
\\copy (SELECT t.user_id, r.item_id, r.rank FROM (SELECT DISTINCT user_id FROM ml.test) t CROSS JOIN LATERAL recommend(t.user_id, 20, 0, 'cold') r ORDER BY 1, 3) TO '$OUT/cold_content_all.csv' CSV HEADER
SELECT 1 FROM recommender.configure('cold', content => 'off');
SELECT 1 FROM recommender.train('cold');
\\copy (SELECT t.user_id, r.item_id, r.rank FROM (SELECT DISTINCT user_id FROM ml.test) t CROSS JOIN LATERAL recommend(t.user_id, 10, 0, 'cold', filter => 'is_new') r ORDER BY 1, 3) TO '$OUT/cold_none_new_only.csv' CSV HEADER
\\copy (SELECT t.user_id, r.item_id, r.rank FROM (SELECT DISTINCT user_id FROM ml.test) t CROSS JOIN LATERAL recommend(t.user_id, 20, 0, 'cold') r ORDER BY 1, 3) TO '$OUT/cold_none_all.csv' CSV HEADER
\\copy (SELECT item_id FROM ml.items WHERE is_new) TO '$OUT/cold_items.csv' CSV HEADER
SQL
python3 "$ROOT/scripts/cold_report.py" "$OUT" "$SHARED" | tee "$OUT/cold_report.md"

# Incremental update on MovieLens: train on the ratings up to the 95th percentile of time with the
# Gram matrix kept, add the last 5%, fold them in with recommender.update(); three rounds, against
# three trainings from scratch on all of them. Medians.
log "incremental update: the last 5% of the ratings folded in, against training from scratch"
P -q <<SQL | tee "$OUT/update.txt"
SET client_min_messages = warning;
\\o /dev/null
CREATE TABLE ml.train_inc AS SELECT * FROM ml_random.train;
CREATE INDEX ON ml.train_inc (user_id);
CREATE INDEX ON ml.train_inc (ts);
SELECT recommender.register('inc', 'ml.train_inc', $REGISTER_ARGS);
SELECT 1 FROM recommender.configure('inc', $CONFIGURE_ARGS);
-- update() folds new rows into the kept Gram matrix; a sequential component would need its own
-- kept matrices (not built yet), so the incremental benchmark runs without it
SELECT 1 FROM recommender.configure('inc', sequence_weight => 0, keep_gram => true);
CREATE TABLE ml.update_times (what text, users int, interactions bigint, seconds float8);
DO \$\$
DECLARE cut ml.train.ts%TYPE := (SELECT percentile_disc(0.95) WITHIN GROUP (ORDER BY ts) FROM ml.train);
BEGIN
  FOR r IN 1..3 LOOP
    DELETE FROM ml.train_inc WHERE ts > cut;
    PERFORM recommender.train('inc');
    INSERT INTO ml.train_inc SELECT * FROM ml.train WHERE ts > cut AND item_id IN (SELECT item_id FROM ml.train_inc);
    INSERT INTO ml.update_times SELECT 'recommender.update(): the last 5% folded in', users, new_interactions, seconds FROM recommender.update('inc');
    COMMIT;   -- each round in its own transaction, as a scheduled job would run it
  END LOOP;
  FOR r IN 1..3 LOOP
    INSERT INTO ml.update_times SELECT 'recommender.train() on all, keep_gram', users, interactions, seconds FROM recommender.train('inc');
    COMMIT;
  END LOOP;
END \$\$;
\\o
SELECT what, max(users) AS users, max(interactions) AS interactions, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds)::numeric, 3) AS median_seconds
  FROM ml.update_times GROUP BY what ORDER BY what DESC;
SQL
