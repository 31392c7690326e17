#!/usr/bin/env bash
# Sessions that cached a model's queries follow changes of its registered tables made by another
# session (issue 8, item 8): a time column changed to float8 (before the fix: 42883
# date_part(unknown, double precision) in the old session, even after a new training), and the
# registered table renamed with a new table created under its old name (before the fix: old
# sessions read the new table, new sessions the registered one).
# Usage: bash Tests/scenarios/catalog.sh TMPDIR (PGHOST, PGPORT, PGUSER set; see README.md here).
set -uo pipefail
TMP="$1"
DB=recommender_regress
pass=0; fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
bad() { echo "not ok - $1"; fail=$((fail + 1)); }
q() { psql -X -q -tA -d "$DB" -c "$1" 2>&1; }

# An old session: a psql coprocess that keeps its backend (and its caches) across the checks.
coproc OLD { psql -X -q -tA -d "$DB" 2>&1; }
old_pid=$OLD_PID
# ask the old session one query; the reply is read up to a marker line
ask() {
    echo "$1" >&"${OLD[1]}"
    echo "SELECT 'END-OF-REPLY';" >&"${OLD[1]}"
    local line out=""
    while read -r -t 60 line <&"${OLD[0]}"; do
        [ "$line" = "END-OF-REPLY" ] && break
        out="${out}${line}"$'\n'
    done
    printf '%s' "$out"
}

q "SET client_min_messages = warning;
   DROP SCHEMA IF EXISTS catsc CASCADE; CREATE SCHEMA catsc;
   CREATE TABLE catsc.ev (u int, i int, t timestamptz);
   INSERT INTO catsc.ev SELECT u, (u * 7 + j * 13) % 30, timestamptz '2026-01-01 00:00:00+00' + (u * 40 + j) * interval '1 minute'
     FROM generate_series(1, 200) u, generate_series(1, 8) j;
   CREATE INDEX ON catsc.ev (u);
   SELECT recommender.register('catsc', 'catsc.ev', 'u', 'i', time_column => 't');
   SELECT 1 FROM recommender.train('catsc');" >/dev/null

lists() { echo "SELECT string_agg(item_id || ':' || round(score::numeric, 9) || ':' || source, ',' ORDER BY rank) FROM recommend($1, 5, 0, 'catsc');"; }
before=$(ask "$(lists 5)")
[ -n "$before" ] && ! grep -q ERROR <<<"$before" && ok "old session recommends before the change" || bad "old session before the change: $before"

# 1. another session changes the time column's type (and trains again)
q "ALTER TABLE catsc.ev ALTER t TYPE float8 USING pg_catalog.date_part('epoch', t)" >/dev/null
after=$(ask "$(lists 5)")
[ "$after" = "$before" ] && ok "old session after ALTER ... TYPE float8 in another session: same list" \
    || bad "old session after ALTER ... TYPE float8 in another session: '$after' (before: '$before')"
q "SET client_min_messages = warning; SELECT 1 FROM recommender.train('catsc')" >/dev/null
after_train=$(ask "$(lists 5)")
fresh=$(q "$(lists 5)")
[ "$after_train" = "$fresh" ] && ! grep -q ERROR <<<"$fresh" && ok "old and new session agree after a new training" \
    || bad "old and new session after a new training: old '$after_train', new '$fresh'"

# 2. another session renames the registered table and creates a new one under its old name, where
#    user 5 has no history: every session must go on reading the registered (renamed) table
q "ALTER TABLE catsc.ev RENAME TO ev_old; CREATE TABLE catsc.ev (u int, i int, t float8); INSERT INTO catsc.ev VALUES (999, 1, 0)" >/dev/null
old_src=$(ask "SELECT string_agg(DISTINCT source, ',') FROM recommend(5, 5, 0, 'catsc');")
new_src=$(q "SELECT string_agg(DISTINCT source, ',') FROM recommend(5, 5, 0, 'catsc')")
old_list=$(ask "$(lists 5)")
new_list=$(q "$(lists 5)")
if [ "$old_src" = "model" ] && [ "$new_src" = "model" ] && [ "$old_list" = "$new_list" ]; then
    ok "after a rename and a new table under the old name, old and new sessions read the registered table"
else
    bad "after rename + new table: old session source '$old_src', new session source '$new_src'; lists '$old_list' vs '$new_list'"
fi
old_because=$(ask "SELECT count(*) FROM explain(5, (SELECT item_id FROM recommend(5, 1, 0, 'catsc')), 'catsc') WHERE role = 'because';")
[ "$old_because" = "8" ] && ok "old session's explain() reads the registered table (8 history rows)" \
    || bad "old session's explain() history rows: '$old_because' (expected 8)"

echo "\\q" >&"${OLD[1]}"
wait "$old_pid" 2>/dev/null || true
q "SELECT recommender.drop('catsc'); DROP SCHEMA catsc CASCADE" >/dev/null
echo "catalog scenarios: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
