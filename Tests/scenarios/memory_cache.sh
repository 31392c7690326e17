#!/usr/bin/env bash
# The per-backend model cache across sessions (issue 8, item 2): a model dropped, and a model
# retrained, in another session leave this session's cache at its next call; the backend stays.
set -uo pipefail
TMP="$1"
DB=recommender_regress
pass=0; fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
bad() { echo "not ok - $1"; fail=$((fail + 1)); }
q() { psql -X -q -tA -d "$DB" -c "$1" 2>&1; }

q "SET client_min_messages = warning;
   SELECT recommender.register(name, 'shop.events', 'customer_id', 'product_id') FROM unnest(ARRAY['cache_a', 'cache_b']) name;
   SELECT 1 FROM recommender.train('cache_a'); SELECT 1 FROM recommender.train('cache_b');" >/dev/null
coproc S { psql -X -q -tA -d "$DB" 2>&1; }
s_pid=$S_PID
ask() { echo "$1" >&"${S[1]}"; local line; read -r -t 60 line <&"${S[0]}"; echo "$line"; }
pid_before=$(ask "SELECT pg_backend_pid();")
ask "SELECT count(*) FROM recommend(42, 10, 0, 'cache_a');" >/dev/null
ask "SELECT count(*) FROM recommend(42, 10, 0, 'cache_b');" >/dev/null
cached_before=$(ask "SELECT string_agg(model, ',' ORDER BY model) FROM recommender.cache_status();")
# another session drops one model and retrains the other
q "SET client_min_messages = warning; SELECT recommender.drop('cache_b'); SELECT 1 FROM recommender.train('cache_a');" >/dev/null
sleep 1.2
ask "SELECT count(*) FROM recommend(42, 10, 0, 'cache_a');" >/dev/null
cached_after=$(ask "SELECT string_agg(model || ':' || (version = (SELECT version FROM recommender.model WHERE name = 'cache_a')), ',') FROM recommender.cache_status();")
pid_after=$(ask "SELECT pg_backend_pid();")
echo "\\q" >&"${S[1]}"
wait "$s_pid" 2>/dev/null || true
if [ "$cached_before" = "cache_a,cache_b" ] && [ "$cached_after" = "cache_a:true" ] && [ "$pid_before" = "$pid_after" ]; then
    ok "a model dropped and a model retrained in another session leave the cache at the next call"
else
    bad "cache eviction across sessions (before: $cached_before, after: $cached_after, pid $pid_before -> $pid_after)"
fi
q "SET client_min_messages = warning; SELECT recommender.drop('cache_a')" >/dev/null
echo "memory_cache: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
