#!/usr/bin/env bash
# A hot standby serves recommend(), explain() and similar_items() and picks up new versions
# (issue 8, item 15): a streaming standby of the test server made with pg_basebackup -R, started
# on a free loopback port, gives the same lists, scores and explanations as the primary; after a
# new version is trained on the primary and replayed, a standby session that had already served
# the old version, and a new standby session, serve the new one. The standby is stopped at the end.
# Usage: bash Tests/scenarios/standby.sh TMPDIR (PGHOST, PGPORT, PGUSER, PG_BIN, ROOT set; the
# database recommender_regress holds the sample shop), or alone: scripts/scenario.sh standby.
set -uo pipefail
TMP="$1"
HERE="$(cd "$(dirname "$0")" && pwd)"
export PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
source "$HERE/../../scripts/lib.sh"
set +e
DB=recommender_regress
pass=0; fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
bad() { echo "not ok - $1"; fail=$((fail + 1)); }
qp() { psql -X -q -tA -d "$DB" -c "$1" 2>&1; }
SDIR="$TMP/standby"
SPORT="$(free_port)"
qs() { psql -X -q -tA -h 127.0.0.1 -p "$SPORT" -d "$DB" -c "$1" 2>&1; }
runas=()
if [ "$(id -u)" = "0" ]; then runas=(runuser -u postgres --); fi

# a model of its own, so that the primary's other models stay as they are
qp "SET client_min_messages = warning;
    SELECT recommender.register('stby', 'shop.events', 'customer_id', 'product_id',
             event_column => 'event_type', event_weights => '{\"view\": 1, \"cart\": 3, \"purchase\": 5}',
             items => 'shop.products', item_id_column => 'product_id', category_column => 'category', title_column => 'title');
    SELECT 1 FROM recommender.configure('stby', lambda => 300);
    SELECT 1 FROM recommender.train('stby');" >/dev/null

# the standby: a base backup of the test server with its replication settings (-R), started with
# the settings a hot standby must match (the test server sets some on its command line)
rm -rf "$SDIR"; mkdir -p "$SDIR"
[ "${#runas[@]}" -gt 0 ] && chown postgres:postgres "$SDIR" && chmod 700 "$SDIR"
t0=$(date +%s.%N)
if "${runas[@]}" "$PG_BIN/pg_basebackup" -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -D "$SDIR/data" -R -X stream -c fast -N \
        >"$TMP/basebackup.log" 2>&1; then
    ok "pg_basebackup -R ($(python3 -c "print(round($(date +%s.%N) - $t0, 1))") s, $(du -sm "$SDIR/data" | cut -f1) MB)"
else
    bad "pg_basebackup: $(tail -5 "$TMP/basebackup.log")"; echo "standby scenarios: $pass passed, $fail failed"; exit 1
fi
settings=""
for s in max_connections max_worker_processes max_wal_senders max_prepared_transactions max_locks_per_transaction; do
    settings="$settings -c $s=$(qp "SHOW $s")"
done
trap 'stop_cluster "$SDIR"' EXIT
start_cluster "$SDIR" "$SPORT" "-c shared_buffers=64MB -c hot_standby=on $settings" 2>/dev/null
[ "$(qs "SELECT pg_is_in_recovery()")" = "t" ] && ok "standby started on port $SPORT, in recovery" \
    || bad "standby in recovery: $(qs "SELECT pg_is_in_recovery()"); $(tail -5 "$SDIR/server.log" 2>/dev/null)"

# wait until the standby has replayed everything the primary has written so far
wait_replay() {
    local lsn
    lsn=$(qp "SELECT pg_current_wal_lsn()")
    for _ in $(seq 1 300); do
        [ "$(qs "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")" = "t" ] && return 0
        sleep 0.1
    done
    return 1
}
wait_replay || bad "standby did not replay within 30 s"

lists() { echo "SELECT string_agg(m || '/' || u || ':' || r.item_id || ':' || round(r.score::numeric, 9) || ':' || r.source, ',' ORDER BY m, u, r.rank)
                 FROM unnest(ARRAY[$1]) m, generate_series(1, 30) u CROSS JOIN LATERAL recommend(u, 5, 0.3, m) r;"; }
explain_sql="SELECT string_agg(role || ':' || item_id || ':' || round(contribution::numeric, 9) || ':' || coalesce(title, '-'), ',' ORDER BY role, item_id)
               FROM explain(42, (SELECT item_id FROM recommend(42, 1, 0, 'stby')), 'stby');"
similar_sql="SELECT string_agg(item_id || ':' || round(score::numeric, 9), ',' ORDER BY rank) FROM similar_items(17, 5, 0.3, 'stby');"
p_lists=$(qp "$(lists "'default', 'stby'")")
s_lists=$(qs "$(lists "'default', 'stby'")")
[ -n "$p_lists" ] && [ "$s_lists" = "$p_lists" ] && ok "recommend() on the standby equals the primary (2 models, 30 users)" \
    || bad "recommend() on the standby: $(diff <(tr , '\n' <<<"$p_lists") <(tr , '\n' <<<"$s_lists") | head -6)"
p_explain=$(qp "$explain_sql"); s_explain=$(qs "$explain_sql")
[ -n "$p_explain" ] && [ "$s_explain" = "$p_explain" ] && ok "explain() on the standby equals the primary" \
    || bad "explain() on the standby: '$s_explain' vs '$p_explain'"
p_similar=$(qp "$similar_sql"); s_similar=$(qs "$similar_sql")
[ -n "$p_similar" ] && [ "$s_similar" = "$p_similar" ] && ok "similar_items() on the standby equals the primary" \
    || bad "similar_items() on the standby: '$s_similar' vs '$p_similar'"

# a standby session that has served (and cached) the current version
coproc SB { psql -X -q -tA -h 127.0.0.1 -p "$SPORT" -d "$DB" 2>&1; }
sb_pid=$SB_PID
ask() {
    echo "$1" >&"${SB[1]}"
    echo "SELECT 'END-OF-REPLY';" >&"${SB[1]}"
    local line out=""
    while read -r -t 60 line <&"${SB[0]}"; do
        [ "$line" = "END-OF-REPLY" ] && break
        out="${out}${line}"
    done
    printf '%s' "$out"
}
old_stby=$(qp "$(lists "'stby'")")
[ "$(ask "$(lists "'stby'")")" = "$old_stby" ] || bad "the standby session before the new version"

# a new version on the primary, replayed on the standby
qp "SET client_min_messages = warning; SELECT 1 FROM recommender.configure('stby', lambda => 40)" >/dev/null
v_new=$(qp "SET client_min_messages = warning; SELECT version FROM recommender.train('stby')")
wait_replay || bad "standby did not replay the new version within 30 s"
new_stby=$(qp "$(lists "'stby'")")
[ "$new_stby" != "$old_stby" ] || bad "the new version gives the same lists as the old one (the test cannot tell them apart)"
s_version=$(qs "SELECT version FROM recommender.model WHERE name = 'stby'")
[ "$s_version" = "$v_new" ] && ok "the standby has the new version $v_new" || bad "standby's version: '$s_version', primary's: '$v_new'"
sess=$(ask "$(lists "'stby'")")
[ "$sess" = "$new_stby" ] && ok "an existing standby session serves the new version" \
    || bad "existing standby session after the new version: $(diff <(tr , '\n' <<<"$new_stby") <(tr , '\n' <<<"$sess") | head -6)"
fresh=$(qs "$(lists "'stby'")")
[ "$fresh" = "$new_stby" ] && ok "a new standby session serves the new version" || bad "new standby session after the new version"
[ "$(ask "$explain_sql")" = "$(qp "$explain_sql")" ] && ok "explain() of the new version on the standby equals the primary" \
    || bad "explain() of the new version on the standby"

# real time through WAL: an event written on the primary changes the standby's next list, in a
# standby session that has served the user before, without a new version
one="SELECT string_agg(item_id::text, ',' ORDER BY rank) FROM recommend(7, 5, 0, 'stby');"
before=$(ask "$one")
top=$(qp "SELECT item_id FROM recommend(7, 1, 0, 'stby')")
qp "INSERT INTO shop.events (customer_id, product_id, event_type, occurred_at) VALUES (7, $top, 'purchase', now())" >/dev/null
wait_replay || bad "standby did not replay the new event within 30 s"
after_p=$(qp "$one"); after_s=$(ask "$one")
[ -n "$before" ] && [ "$after_s" != "$before" ] && [ "$after_s" = "$after_p" ] \
    && ok "an event written on the primary changes the standby's next list (as on the primary, no retraining)" \
    || bad "live event on the standby: before '$before', standby after '$after_s', primary after '$after_p'"
qp "DELETE FROM shop.events WHERE customer_id = 7 AND product_id = $top AND occurred_at > now() - interval '10 minutes'" >/dev/null

# what writes fails on the standby with a clear SQLSTATE, and the session stays usable
for f in "recommender.train('stby')" "recommender.update('stby')" "recommender.configure('stby', lambda => 10)" \
         "recommender.tune('stby', budget => '10 seconds')" "recommender.drop('stby')" \
         "recommender.register('stby2', 'shop.events', 'customer_id', 'product_id')"; do
    err=$(psql -X -q -tA -h 127.0.0.1 -p "$SPORT" -d "$DB" -v VERBOSITY=verbose -c "\\set VERBOSITY verbose" -c "SELECT 1 FROM $f" 2>&1)
    grep -q "25006" <<<"$err" && ok "$f on the standby: SQLSTATE 25006 (read-only transaction)" \
        || bad "$f on the standby: $(head -3 <<<"$err")"
done
[ "$(ask "SELECT count(*) FROM recommend(7, 5, 0, 'stby');")" = "5" ] && ok "the standby session serves after the failed writes" \
    || bad "standby session after the failed writes"
echo "\\q" >&"${SB[1]}"
wait "$sb_pid" 2>/dev/null || true

if grep -E "terminated by signal|server process .* was terminated" "$SDIR/server.log"; then bad "a standby backend died"; fi
stop_cluster "$SDIR"
trap - EXIT
rm -rf "$SDIR"
qp "SELECT recommender.drop('stby')" >/dev/null
echo "standby scenarios: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
