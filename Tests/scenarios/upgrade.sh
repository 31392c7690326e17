#!/usr/bin/env bash
# ALTER EXTENSION recommender UPDATE from the released 0.1.0 (issue 8, item 16):
#   1. a database at 0.1.0 with the sample shop, a registered and trained model and a session that
#      has served it; ALTER EXTENSION recommender UPDATE; the model keeps serving the same lists in
#      that session and in a new one, and trains again;
#   2. the upgraded database's extension objects are identical to a fresh install of the current
#      version: Tests/scenarios/extension_objects.sql lists every object of the extension as
#      normalised lines in both databases and the two lists are compared with diff. On failure
#      the diff is printed: "-" lines are the fresh install, "+" lines the upgraded database, each
#      line starting with the object (and column, constraint, policy...) it describes.
# Usage: bash Tests/scenarios/upgrade.sh TMPDIR (PGHOST, PGPORT, PGUSER, PG_BIN set; see README.md
# here), or alone: scripts/scenario.sh upgrade.
set -uo pipefail
TMP="$1"
HERE="$(cd "$(dirname "$0")" && pwd)"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
OLD=rec_upgrade_from_010
NEW=rec_upgrade_fresh
pass=0; fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
bad() { echo "not ok - $1"; fail=$((fail + 1)); }
q() { local db="$1"; shift; psql -X -q -tA -d "$db" -c "$1" 2>&1; }

"$PG_BIN/dropdb" --if-exists "$OLD" >/dev/null 2>&1
"$PG_BIN/dropdb" --if-exists "$NEW" >/dev/null 2>&1
"$PG_BIN/createdb" "$OLD" && "$PG_BIN/createdb" "$NEW" || { bad "createdb"; exit 1; }

# 1. 0.1.0, the sample shop (small), a trained model with a filter
out=$(psql -X -q -tA -v ON_ERROR_STOP=1 -d "$OLD" 2>&1 <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION recommender VERSION '0.1.0';
SELECT 1 FROM recommender.create_sample_shop('shop', 600, 150);
CREATE INDEX ON shop.events (customer_id);
SELECT 1 FROM recommender.register('default', 'shop.events', 'customer_id', 'product_id',
         time_column => 'occurred_at', event_column => 'event_type',
         event_weights => '{"view": 1, "cart": 3, "purchase": 5}',
         items => 'shop.products', item_id_column => 'product_id',
         category_column => 'category', title_column => 'title');
SELECT 1 FROM recommender.configure('default', keep_gram => true);
SELECT 1 FROM recommender.train('default');
SELECT 1 FROM recommender.add_filter('default', 'cheap', 'price < 40');
SELECT extversion FROM pg_extension WHERE extname = 'recommender';
SQL
)
if [ "$(tail -1 <<<"$out")" = "0.1.0" ]; then ok "0.1.0 installed, sample shop registered and trained"
else bad "0.1.0 install and training: $out"; fi

lists_sql="SELECT string_agg(u || ':' || r.item_id || ':' || round(r.score::numeric, 9) || ':' || r.source, ',' ORDER BY u, r.rank)
             FROM generate_series(1, 40) u CROSS JOIN LATERAL recommend(u, 5, 0.3) r;"
filtered_sql="SELECT string_agg(r.item_id::text, ',' ORDER BY r.rank) FROM recommend(7, 5, 0, filter => 'cheap') r;"
explain_sql="SELECT string_agg(role || ':' || item_id || ':' || round(contribution::numeric, 9), ',' ORDER BY role, item_id)
               FROM explain(7, (SELECT item_id FROM recommend(7, 1, 0)));"
before=$(q "$OLD" "$lists_sql")
before_filtered=$(q "$OLD" "$filtered_sql")
before_explain=$(q "$OLD" "$explain_sql")
version_before=$(q "$OLD" "SELECT version FROM recommender.model WHERE name = 'default'")

# a session that served the model before the upgrade, kept open across it
coproc SESS { psql -X -q -tA -d "$OLD" 2>&1; }
sess_pid=$SESS_PID
ask() {
    echo "$1" >&"${SESS[1]}"
    echo "SELECT 'END-OF-REPLY';" >&"${SESS[1]}"
    local line out=""
    while read -r -t 120 line <&"${SESS[0]}"; do
        [ "$line" = "END-OF-REPLY" ] && break
        out="${out}${line}"
    done
    printf '%s' "$out"
}
sess_before=$(ask "$lists_sql")
[ -n "$before" ] && [ "$sess_before" = "$before" ] || bad "lists before the upgrade: '$before' vs '$sess_before'"

upd=$(q "$OLD" "ALTER EXTENSION recommender UPDATE; SELECT extversion FROM pg_extension WHERE extname = 'recommender'")
default_version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$HERE/../../extension/recommender.control")
if [ "$(tail -1 <<<"$upd")" = "$default_version" ]; then ok "ALTER EXTENSION recommender UPDATE: 0.1.0 -> $default_version"
else bad "ALTER EXTENSION recommender UPDATE: $upd"; fi

after=$(q "$OLD" "$lists_sql")
sess_after=$(ask "$lists_sql")
[ "$after" = "$before" ] && ok "after the upgrade a new session serves the same lists (40 users, diversity 0.3)" \
    || bad "lists after the upgrade, new session: $(diff <(tr , '\n' <<<"$before") <(tr , '\n' <<<"$after") | head -5)"
[ "$sess_after" = "$before" ] && ok "the session that served before the upgrade serves the same lists" \
    || bad "lists after the upgrade, old session: $(diff <(tr , '\n' <<<"$before") <(tr , '\n' <<<"$sess_after") | head -5)"
[ "$(q "$OLD" "$filtered_sql")" = "$before_filtered" ] && [ -n "$before_filtered" ] && ok "the named filter works after the upgrade" \
    || bad "filtered list after the upgrade: '$(q "$OLD" "$filtered_sql")' vs '$before_filtered'"
[ "$(q "$OLD" "$explain_sql")" = "$before_explain" ] && ok "explain() gives the same explanation after the upgrade" \
    || bad "explain() after the upgrade: '$(q "$OLD" "$explain_sql")' vs '$before_explain'"
echo "\\q" >&"${SESS[1]}"
wait "$sess_pid" 2>/dev/null || true

types=$(q "$OLD" "SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attname) FROM pg_attribute
                  WHERE attrelid = 'recommender.model'::regclass AND attname IN ('interactions', 'items')")
regs=$(q "$OLD" "SELECT interactions::text || ' ' || items::text FROM recommender.model WHERE name = 'default'")
[ "$types" = "interactions regclass, items regclass" ] && [ "$regs" = "shop.events shop.products" ] \
    && ok "registrations converted to regclass ($regs)" || bad "registrations after the upgrade: $types / $regs"
trained=$(q "$OLD" "SET client_min_messages = warning; SELECT version > $version_before FROM recommender.train('default');
                    INSERT INTO shop.events (customer_id, product_id, event_type, occurred_at)
                    SELECT 7, min(product_id), 'purchase', now() FROM shop.products;
                    SELECT version > $version_before FROM recommender.\"update\"('default')")
[ "$trained" = $'t\nt' ] && ok "train() and update() after the upgrade make newer versions" || bad "train/update after the upgrade: $trained"

# 2. the upgraded extension's objects are those of a fresh install
q "$NEW" "CREATE EXTENSION recommender" >/dev/null
psql -X -q -tA -v ON_ERROR_STOP=1 -d "$NEW" -f "$HERE/extension_objects.sql" >"$TMP/ext_fresh.txt" 2>&1
psql -X -q -tA -v ON_ERROR_STOP=1 -d "$OLD" -f "$HERE/extension_objects.sql" >"$TMP/ext_upgraded.txt" 2>&1
n_fresh=$(wc -l <"$TMP/ext_fresh.txt")
if [ "$n_fresh" -gt 100 ] && diff -u --label "fresh install" --label "upgraded from 0.1.0" \
        "$TMP/ext_fresh.txt" "$TMP/ext_upgraded.txt" >"$TMP/ext_objects.diff"; then
    ok "upgraded extension objects are identical to a fresh install ($n_fresh lines compared)"
else
    bad "upgraded extension objects differ from a fresh install ($n_fresh lines; -: fresh install, +: upgraded from 0.1.0):"
    head -c 30000 "$TMP/ext_objects.diff"
    echo "(full lists: $TMP/ext_fresh.txt and $TMP/ext_upgraded.txt; diff: $TMP/ext_objects.diff)"
fi

# 3. a database at 0.3.0 (which has the sequential component but not recommender.model_follower):
#    this library trains and explains a sequential model there before ALTER EXTENSION UPDATE, and
#    stores and cites followers after it
S30=rec_upgrade_from_030
"$PG_BIN/dropdb" --if-exists "$S30" >/dev/null 2>&1
"$PG_BIN/createdb" "$S30" || bad "createdb $S30"
out=$(psql -X -q -tA -v ON_ERROR_STOP=1 -d "$S30" 2>&1 <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION recommender VERSION '0.3.0';
SELECT 1 FROM recommender.create_sample_shop('shop', 300, 100);
SELECT 1 FROM recommender.register('default', 'shop.events', 'customer_id', 'product_id', time_column => 'occurred_at');
SELECT 1 FROM recommender.configure('default', sequence_weight => 0.3);
SELECT 1 FROM recommender.train('default');
SELECT count(*) > 0 FROM explain(7, (SELECT item_id FROM recommend(7, 1, 0)));
SELECT to_regclass('recommender.model_follower') IS NULL;
SQL
)
[ "$(tr '\n' ' ' <<<"$out")" = "1 1 1 1 t t " ] && ok "at 0.3.0: a sequential model trains and explains without recommender.model_follower" \
    || bad "sequential model at 0.3.0: $out"
out=$(q "$S30" "ALTER EXTENSION recommender UPDATE; SET client_min_messages = warning; SELECT 1 FROM recommender.train('default');
               SELECT count(*) > 0 FROM recommender.model_follower;
               SELECT count(*) FILTER (WHERE detail LIKE '%often followed%') > 0 FROM generate_series(1, 20) u,
                      LATERAL recommend(u, 3, 0) r, LATERAL explain(u, r.item_id) e")
[ "$out" = $'1\nt\nt' ] && ok "after ALTER EXTENSION UPDATE the sequential model stores its followers and explain() cites them" || bad "followers after the update: $out"
"$PG_BIN/dropdb" "$S30" >/dev/null 2>&1

"$PG_BIN/dropdb" "$OLD" >/dev/null 2>&1
"$PG_BIN/dropdb" "$NEW" >/dev/null 2>&1
echo "upgrade scenarios: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
