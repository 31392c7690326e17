#!/usr/bin/env bash
# Cancel and statement_timeout act within 1 s in every long phase (issue 8, item 3).
#
# For each phase a session starts the long call; when the phase has begun (a NOTICE of training,
# or a \warn marker just before a recommend()/similar_items() call) another session sends
# pg_cancel_backend (from a session opened beforehand), or statement_timeout is set to fire inside
# the phase. The latency is the time from sending the cancel (or from the moment the timeout was
# due, counted from the START marker the session prints just before the statement) to the ERROR
# line in the session's output, polled every 10 ms. Each must be under
# CANCEL_LIMIT seconds (1 by default); the backend must survive (the same pid answers afterwards)
# and the previous model version must still serve.
#
# Phases and data (sized so that each phase lasts several seconds on 2 shared cores before the fix,
# and the whole file runs in about a minute):
#   gram       training's Gram accumulation: 300 users x 3,000 items each (900,000 rows)
#   solve      the EASE solve of 4,000 items (the interactions are small)
#   tokens     the tokeniser on a 40 MB title
#   recommend  recommend(u, 10000, 1) and similar_items(i, 10000, 1) on the 4,000-item model,
#              coverage re-ranker, 24 categories per item (k x items pairs)
set -uo pipefail
TMP="$1"
DB=recommender_regress
LIMIT="${CANCEL_LIMIT:-1.0}"
pass=0; fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
bad() { echo "not ok - $1"; fail=$((fail + 1)); }
q() { psql -X -q -tA -d "$DB" -c "$1" 2>&1; }
now() { date +%s.%N; }
# elapsed milliseconds between two `now` values
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'; }
REPORT="$TMP/cancel_latencies.txt"
: >"$REPORT"
# a session that is already connected sends the cancels (no connection time in the measure)
coproc CANCELLER { psql -X -q -tA -d "$DB" 2>&1; }
canceller_pid=$CANCELLER_PID
cancel_backend() {
    echo "SELECT pg_cancel_backend($1);" >&"${CANCELLER[1]}"
    local answer=""
    read -r -t 30 answer <&"${CANCELLER[0]}"
    [ "$answer" = t ] || echo "# pg_cancel_backend($1) answered '$answer'"
}

q "CREATE EXTENSION IF NOT EXISTS recommender" >/dev/null
q "SET client_min_messages = warning;
   DROP SCHEMA IF EXISTS cx CASCADE; CREATE SCHEMA cx;
   -- gram: long histories
   CREATE TABLE cx.gram_events (u int, i int);
   INSERT INTO cx.gram_events SELECT u, i FROM generate_series(1, 300) u, generate_series(1, 3000) i;
   -- solve and recommend: 4,000 items with 24 categories each, short histories
   CREATE TABLE cx.events (u int, i int);
   INSERT INTO cx.events SELECT u, (u * 7 + j * 613) % 4000 FROM generate_series(1, 8000) u, generate_series(1, 6) j;
   CREATE INDEX ON cx.events (u);
   CREATE TABLE cx.items (item_id int PRIMARY KEY, cats text[]);
   INSERT INTO cx.items SELECT i, ARRAY(SELECT 'c' || ((i * 31 + k * 97) % 400) FROM generate_series(1, 24) k) FROM generate_series(0, 3999) i;
   -- tokens: a few products with titles
   CREATE TABLE cx.tok_events (u int, i int);
   INSERT INTO cx.tok_events SELECT u, (u + j) % 20 FROM generate_series(1, 200) u, generate_series(1, 3) j;
   CREATE TABLE cx.tok_items (item_id int PRIMARY KEY, title text);
   INSERT INTO cx.tok_items SELECT i, 'product number ' || i || ' in red and blue' FROM generate_series(0, 19) i;
   SELECT recommender.register('cx_gram', 'cx.gram_events', 'u', 'i');
   SELECT recommender.register('cx_solve', 'cx.events', 'u', 'i', items => 'cx.items', item_id_column => 'item_id',
                               category_column => 'cats');
   SELECT recommender.configure('cx_solve', lambda => 50);
   SELECT recommender.register('cx_tok', 'cx.tok_events', 'u', 'i', items => 'cx.tok_items', item_id_column => 'item_id',
                               title_column => 'title');" >/dev/null
t0=$(now)
q "SET client_min_messages = warning; SELECT 1 FROM recommender.train('cx_solve'); SELECT 1 FROM recommender.train('cx_tok')" >/dev/null
echo "# first trainings of cx_solve (4,000 items) and cx_tok: $(ms "$t0" "$(now)") ms"
v_solve=$(q "SELECT version FROM recommender.model WHERE name = 'cx_solve'")
v_tok=$(q "SELECT version FROM recommender.model WHERE name = 'cx_tok'")
if [ -z "$v_solve" ] || [ -z "$v_tok" ]; then bad "setup: models cx_solve and cx_tok trained ($v_solve, $v_tok)"; fi
# the huge title (after the first training, so that the previous version is a good one)
q "UPDATE cx.tok_items SET title = repeat('lorem ipsum dolor sit amet ', 1500000) WHERE item_id = 7" >/dev/null

# run_phase NAME MODE TRIGGER DELAY_MS NEXT SETUP_SQL SQL
#   MODE cancel: pg_cancel_backend DELAY_MS after TRIGGER appeared on the session's stderr.
#   MODE timeout: statement_timeout set to fire DELAY_MS after the trigger: the time from START to
#   the trigger in the cancel run + DELAY_MS (for TRIGGER START, DELAY_MS).
#   NEXT: a pattern that must not appear in the output (the phase after the one measured).
declare -A reach_ms
run_phase() {
    local name="$1" mode="$2" trigger="$3" delay="$4" next="$5" setup="$6" sql="$7"
    local out="$TMP/cx_${name}_$mode" app="cx_${name}_$mode"
    local set_timeout="SET statement_timeout = 0"
    local timeout_ms=0
    if [ "$mode" = timeout ]; then
        timeout_ms=$(( ${reach_ms[$name]:-0} + delay ))
        set_timeout="SET statement_timeout = $timeout_ms"
    fi
    local t_mark="" t_trig="" t_act="" t_err="" pid=""
    PGAPPNAME="$app" psql -X -q -tA -d "$DB" -v ON_ERROR_STOP=0 \
        -c "$setup" -c "$set_timeout" -c "\\warn START" -c "$sql" -c "SELECT 'pid=' || pg_backend_pid()" \
        >"$out.stdout" 2>"$out.stderr" &
    local bg=$!
    # wait for the START marker, then for the trigger (at most 120 s)
    for _ in $(seq 1 12000); do
        if [ -z "$t_mark" ] && grep -q "^START" "$out.stderr" 2>/dev/null; then t_mark=$(now); fi
        if [ -n "$t_mark" ] && grep -q -- "$trigger" "$out.stderr" 2>/dev/null; then t_trig=$(now); break; fi
        if ! kill -0 "$bg" 2>/dev/null; then break; fi
        sleep 0.01
    done
    pid=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = '$app'")
    if [ -z "$t_trig" ]; then
        wait "$bg"
        bad "$name ($mode): the phase never started: $(tail -3 "$out.stderr")"
        return
    fi
    if [ "$mode" = cancel ]; then
        [ "$trigger" = START ] && reach_ms[$name]=0 || reach_ms[$name]=$(ms "$t_mark" "$t_trig")
        sleep "$(awk -v d="$delay" 'BEGIN { print d / 1000 }')"
        t_act=$(now)
        cancel_backend "$pid"
    fi
    for _ in $(seq 1 30000); do
        if grep -q "ERROR:" "$out.stderr" 2>/dev/null; then t_err=$(now); break; fi
        if ! kill -0 "$bg" 2>/dev/null; then grep -q "ERROR:" "$out.stderr" && t_err=$(now); break; fi
        sleep 0.01
    done
    wait "$bg"
    if [ "$mode" = timeout ]; then
        # the timeout was due timeout_ms after the statement began, just after START was printed
        t_act=$(awk -v s="$t_mark" -v t="$timeout_ms" 'BEGIN { printf "%.6f", s + t / 1000 }')
    fi
    local expect="canceling statement due to user request"
    [ "$mode" = timeout ] && expect="canceling statement due to statement timeout"
    if [ -z "$t_err" ]; then
        bad "$name ($mode): no error: $(tail -3 "$out.stderr")"
        return
    fi
    local lat
    lat=$(ms "$t_act" "$t_err")
    echo "$name $mode ${lat}ms" >>"$REPORT"
    local why=""
    grep -q "$expect" "$out.stderr" || why="$why; wrong error: $(grep ERROR "$out.stderr")"
    if [ -n "$next" ] && grep -q -- "$next" "$out.stderr"; then why="$why; the phase had ended before the $mode (\"$next\" seen)"; fi
    grep -q "pid=$pid" "$out.stdout" || why="$why; the backend did not survive (pid $pid, got $(tr '\n' ' ' <"$out.stdout"))"
    if awk -v l="$lat" -v m="$LIMIT" 'BEGIN { exit !(l / 1000 < m) }'; then :; else why="$why; ${lat} ms is over ${LIMIT} s"; fi
    if [ -z "$why" ]; then ok "$name: $mode acts in ${lat} ms"; else bad "$name: $mode acts in ${lat} ms${why}"; fi
}

train_sql() { echo "SELECT * FROM recommender.train('$1')"; }
none="SELECT 1"
for mode in cancel timeout; do
    run_phase gram "$mode" "computing the" 500 "solving" "$none" "$(train_sql cx_gram)"
done
for mode in cancel timeout; do
    run_phase solve "$mode" "solving EASE" 400 "storing version" "$none" "$(train_sql cx_solve)"
done
for mode in cancel timeout; do
    run_phase tokens "$mode" "solving EASE" 1200 "content vectors" "$none" "$(train_sql cx_tok)"
done
# the model is loaded first (by the setup statement), so that the delay falls in the re-ranker
warm="SELECT count(*) FROM recommend(5, 10, 0, 'cx_solve')"
for mode in cancel timeout; do
    run_phase recommend "$mode" "START" 1000 "" "$warm" "SELECT count(*) FROM recommend(5, 10000, 1, 'cx_solve')"
done
for mode in cancel timeout; do
    run_phase similar "$mode" "START" 1000 "" "$warm" "SELECT count(*) FROM similar_items(11, 10000, 1, 'cx_solve')"
done

# the previous versions still serve
[ "$(q "SELECT version FROM recommender.model WHERE name = 'cx_solve'")" = "$v_solve" ] \
    && [ "$(q "SELECT count(*) FROM recommend(5, 5, 0.3, 'cx_solve')")" = "5" ] \
    && ok "cx_solve: version $v_solve still in use and serving after the cancelled trainings" \
    || bad "cx_solve: version $v_solve no longer serves"
[ "$(q "SELECT version FROM recommender.model WHERE name = 'cx_tok'")" = "$v_tok" ] \
    && [ "$(q "SELECT count(*) FROM recommend(5, 5, 0, 'cx_tok')")" = "5" ] \
    && ok "cx_tok: version $v_tok still in use and serving after the cancelled trainings" \
    || bad "cx_tok: version $v_tok no longer serves"
[ "$(q "SELECT trained FROM recommender.list() WHERE model = 'cx_gram'")" = "f" ] \
    && ok "cx_gram: the cancelled trainings left no version" || bad "cx_gram: a cancelled training left a version"

echo "\\q" >&"${CANCELLER[1]}"
wait "$canceller_pid" 2>/dev/null || true
echo "# latencies (cancel or timeout -> ERROR):"; sed 's/^/#   /' "$REPORT"
q "SET client_min_messages = warning; SELECT recommender.drop('cx_gram'); SELECT recommender.drop('cx_solve'); SELECT recommender.drop('cx_tok'); DROP SCHEMA cx CASCADE" >/dev/null
echo "cancel: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
