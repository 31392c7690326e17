#!/usr/bin/env bash
# Models survive pg_dump / pg_restore (issue 8, item 14): a database with the sample shop, a model
# with an items table, a named filter and a kept Gram matrix, and a second model on a table with an
# awkward quoted name, is dumped with pg_dump -Fc and restored with pg_restore into a new database.
# The restored database serves the same lists and scores, explanations, similar items and filtered
# lists without retraining, and trains new versions that are newer than the restored ones.
# (Before registrations were stored as regclass, recommend() failed in the restored database: "the
# interactions table "shop.events" of model "default" no longer exists".)
# Usage: bash Tests/scenarios/dump_restore.sh TMPDIR (PGHOST, PGPORT, PGUSER, PG_BIN set), or
# alone: scripts/scenario.sh dump_restore.
set -uo pipefail
TMP="$1"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
SRC=rec_dump_source
DST=rec_dump_restored
pass=0; fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
bad() { echo "not ok - $1"; fail=$((fail + 1)); }
q() { local db="$1"; shift; psql -X -q -tA -d "$db" -c "$1" 2>&1; }

"$PG_BIN/dropdb" --if-exists "$SRC" >/dev/null 2>&1
"$PG_BIN/dropdb" --if-exists "$DST" >/dev/null 2>&1
"$PG_BIN/createdb" "$SRC" || { bad "createdb"; exit 1; }

out=$(psql -X -q -tA -v ON_ERROR_STOP=1 -d "$SRC" 2>&1 <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION recommender;
SELECT 1 FROM recommender.create_sample_shop('shop', 600, 150);
CREATE INDEX ON shop.events (customer_id);
SELECT 1 FROM recommender.register('default', 'shop.events', 'customer_id', 'product_id',
         time_column => 'occurred_at', event_column => 'event_type',
         event_weights => '{"view": 1, "cart": 3, "purchase": 5}',
         items => 'shop.products', item_id_column => 'product_id',
         category_column => 'category', title_column => 'title');
SELECT 1 FROM recommender.configure('default', keep_gram => true, lambda => 150);
SELECT 1 FROM recommender.train('default');
SELECT 1 FROM recommender.add_filter('default', 'cheap', 'price < 40');
CREATE SCHEMA "Odd ""Schema""";
CREATE TABLE "Odd ""Schema"""."ev ents" AS SELECT customer_id AS "User", product_id AS "it.em" FROM shop.events;
SELECT 1 FROM recommender.register('odd', '"Odd ""Schema"""."ev ents"', 'User', 'it.em');
SELECT 1 FROM recommender.train('odd');
SELECT count(*) FROM recommender.model_version;
SQL
)
[ "$(tail -1 <<<"$out")" = "2" ] && ok "source database: two trained models" || bad "source database: $out"

lists_sql="SELECT string_agg(m || '/' || u || ':' || r.item_id || ':' || round(r.score::numeric, 9) || ':' || r.source, ',' ORDER BY m, u, r.rank)
             FROM unnest(ARRAY['default', 'odd']) m, generate_series(1, 40) u CROSS JOIN LATERAL recommend(u, 5, 0.3, m) r;"
other_sql="SELECT (SELECT string_agg(r.item_id::text, ',' ORDER BY r.rank) FROM recommend(7, 5, 0, filter => 'cheap') r)
             || ' | ' || (SELECT string_agg(role || ':' || item_id || ':' || round(contribution::numeric, 9) || ':' || coalesce(title, '-'), ',' ORDER BY role, item_id)
                            FROM explain(7, (SELECT item_id FROM recommend(7, 1, 0))))
             || ' | ' || (SELECT string_agg(s.item_id || ':' || round(s.score::numeric, 9), ',' ORDER BY s.rank)
                            FROM similar_items((SELECT item_id FROM recommend(7, 1, 0)), 5, 0) s);"
catalog_sql="SELECT string_agg(name || ':' || version || ':' || config_stamp || ':' || interactions::text || ':' || coalesce(items::text, '-'), ',' ORDER BY name)
               FROM recommender.model;"
before=$(q "$SRC" "$lists_sql")
before_other=$(q "$SRC" "$other_sql")
before_catalog=$(q "$SRC" "$catalog_sql")
max_version=$(q "$SRC" "SELECT max(version) FROM recommender.model_version")

if "$PG_BIN/pg_dump" -Fc -f "$TMP/models.dump" "$SRC" 2>"$TMP/pg_dump.err"; then ok "pg_dump -Fc"
else bad "pg_dump -Fc: $(cat "$TMP/pg_dump.err")"; fi
"$PG_BIN/createdb" "$DST"
if "$PG_BIN/pg_restore" --exit-on-error -d "$DST" "$TMP/models.dump" 2>"$TMP/pg_restore.err"; then ok "pg_restore into a new database"
else bad "pg_restore: $(head -20 "$TMP/pg_restore.err")"; fi

after_catalog=$(q "$DST" "$catalog_sql")
# interactions::text is the name of the relation the stored oid points at (a bare number if none)
[ "$after_catalog" = "$before_catalog" ] && ok "registrations restored, pointing at the restored tables ($after_catalog)" \
    || bad "registrations after restore: '$after_catalog' vs '$before_catalog'"
# and the stored oids are those of the restored tables (a dangling oid would find no pg_class row)
rels=$(q "$DST" "SELECT string_agg(m.name || ':' || n.nspname || '.' || c.relname || ':' || coalesce(ci.relname, '-'), ',' ORDER BY m.name)
                 FROM recommender.model m JOIN pg_class c ON c.oid = m.interactions JOIN pg_namespace n ON n.oid = c.relnamespace
                 LEFT JOIN pg_class ci ON ci.oid = m.items")
[ "$rels" = 'default:shop.events:products,odd:Odd "Schema".ev ents:-' ] && ok "restored registrations hold the restored tables' oids" \
    || bad "restored registrations' tables: '$rels'"
after=$(q "$DST" "$lists_sql")
if [ -n "$before" ] && [ "$after" = "$before" ]; then
    ok "the restored database serves the same lists and scores without retraining (2 models, 40 users)"
else
    bad "lists after restore differ: $(diff <(tr , '\n' <<<"$before") <(tr , '\n' <<<"$after") | head -6)"
fi
after_other=$(q "$DST" "$other_sql")
[ "$after_other" = "$before_other" ] && ok "filtered list, explain() and similar_items() are the same after restore" \
    || bad "filter/explain/similar after restore: '$after_other' vs '$before_other'"
versions=$(q "$DST" "SELECT count(*) || ':' || max(version) FROM recommender.model_version")
[ "$versions" = "2:$max_version" ] && ok "no training happened: the restored versions serve" || bad "versions after restore: $versions (expected 2:$max_version)"
newer=$(q "$DST" "SET client_min_messages = warning;
                  INSERT INTO shop.events (customer_id, product_id, event_type, occurred_at) SELECT 7, min(product_id), 'purchase', now() FROM shop.products;
                  SELECT version > $max_version FROM recommender.\"update\"('default');
                  SELECT version > $max_version FROM recommender.train('odd');")
[ "$newer" = $'t\nt' ] && ok "update() (kept Gram matrix restored) and train() after restore make newer versions" \
    || bad "update/train after restore: $newer"

"$PG_BIN/dropdb" "$SRC" >/dev/null 2>&1
"$PG_BIN/dropdb" "$DST" >/dev/null 2>&1
echo "dump/restore scenarios: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
