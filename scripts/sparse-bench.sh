#!/usr/bin/env bash
# Training time and peak memory of the sparse kind on synthetic catalogs (Zipf-like popularity:
# item i drawn with probability about 1/(i+1); users twice the items; about 20 interactions a
# user), the dense kind beside it where it fits. Peak memory is the training backend's VmHWM
# (resident high-water mark) minus the same figure before training.
#   SPARSE_BENCH_ITEMS="20000 100000"   catalog sizes
#   SPARSE_BENCH_DENSE_MAX=20000        the largest size the dense kind is also trained at
source "$(dirname "$0")/lib.sh"
SIZES="${SPARSE_BENCH_ITEMS:-20000 100000}"
DENSE_MAX="${SPARSE_BENCH_DENSE_MAX:-20000}"
ensure_deps
build_release
install_extension
TMP="$(mktemp -d /tmp/recommender-sparseb.XXXXXX)"; chmod 755 "$TMP"
PORT="$(free_port)"
trap 'stop_cluster "$TMP/pg"' EXIT
start_cluster "$TMP/pg" "$PORT"
export PGHOST=127.0.0.1 PGPORT="$PORT" PGUSER=postgres PGDATABASE=bench
"$PG_BIN/createdb" bench
P() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
P -c "CREATE EXTENSION recommender"
printf '%-8s %-7s %10s %12s %10s %12s %14s\n' items kind users interactions seconds peak_MB weights
for n in $SIZES; do
    P <<SQL
DROP TABLE IF EXISTS syn;
CREATE TABLE syn AS
  SELECT u AS user_id, (floor(exp(random() * ln($n + 1))) - 1)::int AS item_id
    FROM generate_series(1, 2 * $n) u, generate_series(1, 20) k;
ANALYZE syn;
SQL
    for kind in sparse dense; do
        if [ "$kind" = dense ] && [ "$n" -gt "$DENSE_MAX" ]; then continue; fi
        P -tA -F ' ' <<SQL | xargs printf '%-8s %-7s %10s %12s %10s %12s %14s\n'
SET client_min_messages = notice;
SET recommender.max_training_memory = '16GB';
SELECT 1 FROM recommender.register('syn', 'syn', 'user_id', 'item_id') \g /dev/null
SELECT 1 FROM recommender.configure('syn', kind => '$kind', max_items => greatest($n + 1, 10000)) \g /dev/null
SELECT substring(pg_read_file('/proc/self/status') from 'VmHWM:\s+(\d+)')::bigint AS before \gset
SELECT 1 FROM recommender.train('syn') \g /dev/null
SELECT substring(pg_read_file('/proc/self/status') from 'VmHWM:\s+(\d+)')::bigint AS after \gset
SELECT $n, '$kind', v.users, v.interactions, round(v.train_seconds::numeric, 1), round((:after - :before) / 1024.0),
       COALESCE(v.params->>'sparse_nonzeros', (v.items::bigint * v.items)::text)
  FROM recommender.model_version v WHERE v.model = 'syn';
SELECT 1 FROM recommender.drop('syn') \g /dev/null
SQL
    done
done
