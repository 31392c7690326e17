#!/usr/bin/env bash
# One read-only copy of a model per server (issue 7, part 2): several sessions serving one model
# map one image file under $PGDATA/pg_recommender/<database oid>/ (their private memory measured
# against an idle backend and against a session with recommender.shared_models = off); a new
# version trained while they serve (they switch, the old file goes); a damaged and a missing image
# rebuilt (same lists); a stale temporary file never used and removed by reset_cache(); the
# fallback when the directory is not writable (a NOTICE, same lists, no error); a hot standby
# building and serving its own image, and its own image of a version replayed from the primary.
# Usage: bash Tests/scenarios/shared_model.sh TMPDIR (PGHOST, PGPORT, PGUSER, PG_BIN, ROOT set),
# or alone: scripts/scenario.sh shared_model. SHARED_MODEL_ITEMS=N (optional) also measures the
# memory of 1 and SHARED_MODEL_SESSIONS (default 20) serving sessions on a synthetic shop of N
# products, shared and private (slow: it trains an N-item model).
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
q() { psql -X -q -tA -d "$DB" -c "$1" 2>&1; }
runas=()
if [ "$(id -u)" = "0" ]; then runas=(runuser -u postgres --); fi

DATA=$(q "SHOW data_directory")
OID=$(q "SELECT oid FROM pg_database WHERE datname = current_database()")
DIR="$DATA/pg_recommender/$OID"
hash_of() { python3 -c "
h = 0xcbf29ce484222325
for b in '$1'.encode(): h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
print('%016x' % h)"; }
H=$(hash_of shm)
images() { (cd "$DIR" 2>/dev/null && ls -1 | grep "^$H" | grep -v '\.lock$' | sort | tr '\n' ' '); }

# --- sessions kept open (fifo in, file out) ---
declare -A SFD SPID
start_session() {   # start_session NAME [psql args]
    local k="$1"; shift
    rm -f "$TMP/shm_in_$k"; mkfifo "$TMP/shm_in_$k"; : >"$TMP/shm_out_$k"
    psql -X -q -tA "$@" -d "$DB" <"$TMP/shm_in_$k" >>"$TMP/shm_out_$k" 2>&1 &
    SPID[$k]=$!
    local fd; exec {fd}>"$TMP/shm_in_$k"; SFD[$k]=$fd
}
ask() {   # ask NAME SQL: the session's output for SQL, one line
    local k="$1" marker="END-OF-REPLY-$RANDOM$RANDOM"
    : >"$TMP/shm_out_$k"
    printf '%s;\nSELECT %s;\n' "$2" "'$marker'" >&"${SFD[$k]}"
    for _ in $(seq 1 1200); do
        grep -q "^$marker\$" "$TMP/shm_out_$k" && break
        sleep 0.05
    done
    sed "/^$marker\$/,\$d" "$TMP/shm_out_$k" | tr '\n' ' ' | sed 's/ $//'
}
end_session() { local k="$1"; echo '\q' >&"${SFD[$k]}"; exec {SFD[$k]}>&-; wait "${SPID[$k]}" 2>/dev/null; }
kb() { awk -v f="$2:" '$1 == f { print $2 }' "$3" 2>/dev/null | head -1; }   # kb PID FIELD FILE
mem_of() {   # mem_of PID: RssAnon, RssFile, Private_Dirty (smaps_rollup) and the image mapping's Rss, in kB
    local p="$1" img
    img=$(awk -v h="$H" 'index($0, "pg_recommender") && index($0, h) { found = 1; next } found && /^Rss:/ { print $2; exit }' "/proc/$p/smaps" 2>/dev/null)
    echo "anon=$(kb "$p" RssAnon "/proc/$p/status") file=$(kb "$p" RssFile "/proc/$p/status") private_dirty=$(kb "$p" Private_Dirty "/proc/$p/smaps_rollup") image_rss=${img:-0}"
}

lists_sql() { echo "SELECT string_agg(u || ':' || r.item_id || ':' || round(r.score::numeric, 9), ',' ORDER BY u, r.rank)
                    FROM generate_series(1, 40) u CROSS JOIN LATERAL recommend(u, 8, 0.3, '$1') r;"; }

q "SET client_min_messages = warning;
   SELECT recommender.register('shm', 'shop.events', 'customer_id', 'product_id',
            event_column => 'event_type', event_weights => '{\"view\": 1, \"cart\": 3, \"purchase\": 5}',
            items => 'shop.products', item_id_column => 'product_id', category_column => 'category', title_column => 'title');
   SELECT 1 FROM recommender.configure('shm', lambda => 300);" >/dev/null
v1=$(q "SET client_min_messages = warning; SELECT version FROM recommender.train('shm')")

# 1. several sessions serving one model share one file
start_session idle
idle_pid=$(ask idle "SELECT pg_backend_pid()")
ask idle "SELECT 1" >/dev/null
for k in 1 2 3 4; do start_session "s$k"; done
ref=$(q "$(lists_sql shm)")
same=0
for k in 1 2 3 4; do [ "$(ask "s$k" "$(lists_sql shm)")" = "$ref" ] && same=$((same + 1)); done
[ -n "$ref" ] && [ "$same" = 4 ] && ok "4 sessions serve model shm (version $v1) with the lists of a fresh session" || bad "4 sessions' lists ($same of 4 equal)"
[ "$(images)" = "$H-$v1.img " ] && ok "one image file: $(images)" || bad "image files after serving: '$(images)' in $DIR"
mapped=0
for k in 1 2 3 4; do
    p=$(ask "s$k" "SELECT pg_backend_pid()")
    grep -q "pg_recommender/$OID/$H-$v1.img" "/proc/$p/maps" && mapped=$((mapped + 1))
    priv=$(awk -v h="$H" 'index($0, "pg_recommender") && index($0, h) { found = 1; next } found && /^Private_Dirty:/ { print $2; exit }' "/proc/$p/smaps")
    [ "${priv:-x}" = "0" ] || bad "session s$k has ${priv:-?} kB of private dirty pages in the image mapping"
    echo "# s$k (pid $p) serving: $(mem_of "$p")"
done
echo "# idle backend (pid $idle_pid): $(mem_of "$idle_pid")"
[ "$mapped" = 4 ] && ok "the 4 serving backends map the same file read-only, no private dirty pages in it" || bad "$mapped of 4 backends map the image"
# the mapped model's private bytes are recommend()'s reused scratch only: 4 bytes a catalog item (dense)
bytes=$(ask s1 "SELECT bytes || ' ' || (bytes = 4 * (SELECT count(*) FROM shop.products)) FROM recommender.cache_status() WHERE model = 'shm'")
[ "${bytes#* }" = "true" ] && ok "cache_status() counts no private copy of the mapped model, only the call scratch (${bytes% *} bytes)" || bad "cache_status() bytes of the mapped model: '$bytes'"
# the same model private: recommender.shared_models = off
start_session priv
ask priv "SET recommender.shared_models = off" >/dev/null
[ "$(ask priv "$(lists_sql shm)")" = "$ref" ] && ok "recommender.shared_models = off: the same lists from a private copy" || bad "private copy lists"
pp=$(ask priv "SELECT pg_backend_pid()")
pbytes=$(ask priv "SELECT bytes FROM recommender.cache_status() WHERE model = 'shm'")
grep -q "pg_recommender" "/proc/$pp/maps" && bad "the private session maps an image" || ok "the private session maps no image; cache_status() bytes: $pbytes"
echo "# private session (pid $pp): $(mem_of "$pp")"
end_session priv

# 2. a new version trained while the sessions serve
q "SET client_min_messages = warning; SELECT 1 FROM recommender.configure('shm', lambda => 40)" >/dev/null
v2=$(q "SET client_min_messages = warning; SELECT version FROM recommender.train('shm')")
ref2=$(q "$(lists_sql shm)")
[ "$ref2" != "$ref" ] || bad "the new version gives the same lists as the old one (the test cannot tell them apart)"
same=0
for k in 1 2 3 4; do [ "$(ask "s$k" "$(lists_sql shm)")" = "$ref2" ] && same=$((same + 1)); done
[ "$same" = 4 ] && ok "the 4 sessions switch to version $v2" || bad "$same of 4 sessions serve the new version"
[ "$(images)" = "$H-$v2.img " ] && ok "the old version's file is removed: $(images)" || bad "image files after the new version: '$(images)'"
p=$(ask s1 "SELECT pg_backend_pid()")
grep -q "$H-$v1.img" "/proc/$p/maps" && bad "s1 still maps the old version" || ok "s1 no longer maps the old version"

# 3. a damaged image (a flipped byte in the header, then one in the id index) and a missing one
img="$DIR/$H-$v2.img"
ino=$(stat -c %i "$img")
python3 -c "
import sys; f = open('$img', 'r+b'); f.seek(70); b = f.read(1); f.seek(70); f.write(bytes([b[0] ^ 0x40])); f.close()"
[ "$(q "$(lists_sql shm)")" = "$ref2" ] && ok "a damaged header: a new session gives the same lists" || bad "lists after a damaged header"
[ "$(stat -c %i "$img")" != "$ino" ] && ok "the damaged image was rebuilt (a new file)" || bad "the damaged image was not replaced"
python3 - "$img" <<'EOF'
import struct, sys
f = open(sys.argv[1], 'r+b'); data = f.read()
n = struct.unpack_from('<I', data, 28)[0]
for k in range(n):
    kind, size, off, cnt, _ = struct.unpack_from('<IIQQQ', data, 256 + 32 * k)
    if kind == 4 and cnt > 1:        # the sorted ids of the index
        f.seek(off + 8 * (cnt // 2)); f.write(b'\x01\x02\x03\x04\x05\x06\x07\x08')
f.close()
EOF
ino=$(stat -c %i "$img")
[ "$(q "$(lists_sql shm)")" = "$ref2" ] && [ "$(stat -c %i "$img")" != "$ino" ] && ok "a damaged id index: rebuilt, same lists" || bad "a damaged id index"
rm -f "$img"
[ "$(q "$(lists_sql shm)")" = "$ref2" ] && [ -f "$img" ] && ok "a missing image: rebuilt, same lists" || bad "a missing image"

# 3b. four new sessions wanting the missing image at the same time: one builds it (the others wait
#     for its lock and map it), no temporary file stays, every list is the same
rm -f "$img"
race=()
for k in 1 2 3 4; do q "$(lists_sql shm)" >"$TMP/shm_race_$k" & race+=($!); done
wait "${race[@]}"
race_same=0
for k in 1 2 3 4; do [ "$(cat "$TMP/shm_race_$k")" = "$ref2" ] && race_same=$((race_same + 1)); done
[ "$race_same" = 4 ] && [ "$(images)" = "$H-$v2.img " ] && ok "4 sessions building the same image at once: one file, same lists" \
    || bad "concurrent builders: $race_same of 4 lists equal, files '$(images)'"

# 4. a temporary file of a crashed builder is never used and goes with reset_cache()
tmpf="$DIR/$H-$v2.img.tmp.999999"
head -c 1000 "$img" >"$tmpf"; chown --reference="$img" "$tmpf" 2>/dev/null
rm -f "$img"
[ "$(q "$(lists_sql shm)")" = "$ref2" ] && [ -f "$img" ] && [ ! -f "$tmpf" ] && ok "a leftover temporary file: not used, removed by the next build" \
    || bad "leftover temporary file ($(images))"
head -c 1000 "$img" >"$tmpf"; chown --reference="$img" "$tmpf" 2>/dev/null
q "SELECT recommender.reset_cache()" >/dev/null
[ ! -f "$tmpf" ] && [ -f "$img" ] && ok "recommender.reset_cache() removes a stale temporary file, keeps the image" || bad "reset_cache() cleanup ($(images))"

# 5. the directory cannot be written: private copies, a NOTICE, no error
rm -f "$img"
chmod 0500 "$DIR"
out=$(psql -X -q -tA -d "$DB" -c "$(lists_sql shm)" -c "$(lists_sql shm)" -c "SELECT 'bytes=' || bytes FROM recommender.cache_status() WHERE model = 'shm'" 2>&1)
chmod 0700 "$DIR"
notices=$(grep -c "NOTICE:  recommender: model images are not shared" <<<"$out")
lists_out=$(grep -v "NOTICE" <<<"$out" | head -1)
if [ "$lists_out" = "$ref2" ] && [ "$notices" = 1 ] && grep -q "bytes=[1-9]" <<<"$out" && [ ! -f "$img" ] && ! grep -qE "ERROR|WARNING" <<<"$out"; then
    ok "an unwritable directory: the same lists from a private copy, one NOTICE, no error"
else
    bad "unwritable directory: notices $notices, $(grep -E 'NOTICE|ERROR|WARNING|bytes' <<<"$out" | head -3)"
fi
echo "# $(grep NOTICE <<<"$out" | head -1)"

# 5b. item keys (text ids) live in the image: a serving backend's private memory does not grow
#     with the key count. A keyed model of SHARED_MODEL_KEYS (default 10,000) items with 40-byte
#     keys and its integer twin (same rows, same item order): a backend serving the keyed one has
#     the RssAnon of one serving the integer one (before, each backend loaded a key map of its own:
#     about 200 bytes per key, 2.0 MB at 10,000 keys), and both are compared with an idle backend.
NK="${SHARED_MODEL_KEYS:-10000}"
q "SET client_min_messages = warning; DROP SCHEMA IF EXISTS shk CASCADE; CREATE SCHEMA shk;
   CREATE TABLE shk.events (customer_id integer, item_id integer, item_key text);
   INSERT INTO shk.events SELECT u, i, lpad(i::text, 7, '0') || '-' || md5(i::text)
     FROM generate_series(0, $NK - 1) i, LATERAL (VALUES (i % 3000 + 1), ((i * 7 + 1) % 3000 + 1), ((i * 13 + 5) % 3000 + 1)) v(u);
   SELECT recommender.register('shk_key', 'shk.events', 'customer_id', 'item_key');
   SELECT recommender.register('shk_int', 'shk.events', 'customer_id', 'item_id');
   SELECT 1 FROM recommender.configure('shk_key', max_items => $NK);
   SELECT 1 FROM recommender.configure('shk_int', max_items => $NK);" >/dev/null
t0=$(date +%s.%N)
nk=$(q "SET client_min_messages = warning; SELECT items FROM recommender.train('shk_key')")
ni=$(q "SET client_min_messages = warning; SELECT items FROM recommender.train('shk_int')")
echo "# shk: $nk keyed and $ni integer items trained in $(python3 -c "print(round($(date +%s.%N) - $t0, 1))") s; key bytes $(q "SELECT min(octet_length(item_key)) || '-' || max(octet_length(item_key)) FROM shk.events")"
# the lists of 30 users: ties may be broken in another order by the twin (surrogate ids against
# integer ids), so the twins compare their scores; the keyed lists themselves compare exactly
keyed_sql() { echo "SELECT string_agg(r.item_id || ':' || round(r.score::numeric, 9), ',' ORDER BY u, r.rank) FROM generate_series(1, 30) u CROSS JOIN LATERAL recommend(u::text, 5, 0, 'shk_key') r"; }
kscores_sql() { echo "SELECT string_agg(round(r.score::numeric, 9)::text, ',' ORDER BY u, r.rank) FROM generate_series(1, 30) u CROSS JOIN LATERAL recommend(u::text, 5, 0, 'shk_key') r"; }
twin_sql() { echo "SELECT string_agg(round(r.score::numeric, 9)::text, ',' ORDER BY u, r.rank) FROM generate_series(1, 30) u CROSS JOIN LATERAL recommend(u, 5, 0, 'shk_int') r"; }
sim_sql="SELECT string_agg(item_id, ',' ORDER BY rank) FROM similar_items('0000042-' || md5('42'), 5, 0, 'shk_key')"
start_session kidle; start_session kkey; start_session kint
kidle_pid=$(ask kidle "SELECT pg_backend_pid()"); ask kidle "SELECT 1" >/dev/null
kkey_pid=$(ask kkey "SELECT pg_backend_pid()"); kint_pid=$(ask kint "SELECT pg_backend_pid()")
klists=$(ask kkey "$(keyed_sql)"); kscores=$(ask kkey "$(kscores_sql)"); ilists=$(ask kint "$(twin_sql)")
ask kkey "$sim_sql" >/dev/null; ask kkey "SELECT count(*) FROM explain('1', '0000000-' || md5('0'), 'shk_key')" >/dev/null
ask kint "SELECT count(*) FROM similar_items(42, 5, 0, 'shk_int')" >/dev/null; ask kint "SELECT count(*) FROM explain(1, 0, 'shk_int')" >/dev/null
[ "$nk" = "$NK" ] && [ "$ni" = "$NK" ] && [ -n "$klists" ] && [ "$kscores" = "$ilists" ] \
    && ok "a keyed model of $NK items serves the scores of its integer twin from its image" || bad "keyed scores ($nk, $ni items): '${kscores:0:80}' vs '${ilists:0:80}'"
[ -n "$(ask kkey "$sim_sql")" ] && ask kkey "SELECT count(*) FROM similar_items('no-such-key', 5, 0, 'shk_key')" | grep -q "ERROR.*not in" \
    && ok "similar_items() finds a key in the image and refuses an absent one" || bad "similar_items() on keys: '$(ask kkey "$sim_sql")' / '$(ask kkey "SELECT count(*) FROM similar_items('no-such-key', 5, 0, 'shk_key')")'"
HK=$(hash_of shk_key)
grep -q "pg_recommender/$OID/$HK-" "/proc/$kkey_pid/maps" && ok "the keyed model is mapped from its image" || bad "the keyed model's image is not mapped"
anon_idle=$(kb "$kidle_pid" RssAnon "/proc/$kidle_pid/status"); anon_key=$(kb "$kkey_pid" RssAnon "/proc/$kkey_pid/status"); anon_int=$(kb "$kint_pid" RssAnon "/proc/$kint_pid/status")
echo "# $NK keyed items: idle backend RssAnon ${anon_idle} kB; serving the keyed model ${anon_key} kB; serving the integer twin ${anon_int} kB"
kbytes=$(ask kkey "SELECT bytes || ' ' || (bytes = 4 * items) FROM recommender.cache_status() WHERE model = 'shk_key'")
[ "${kbytes#* }" = "true" ] && ok "cache_status() counts no private copy of the keyed model, only the call scratch (${kbytes% *} bytes)" || bad "cache_status() bytes of the keyed model: '$kbytes'"
# within 1 MB of the integer twin (the per-backend key map took 2.0 MB at 10,000 keys)
[ -n "$anon_key" ] && [ -n "$anon_int" ] && [ $((anon_key - anon_int)) -lt 1024 ] \
    && ok "RssAnon of a backend serving $NK keys is within 1 MB of one serving the integer twin ($((anon_key - anon_int)) kB), $((anon_key - anon_idle)) kB above idle" \
    || bad "RssAnon serving keys ${anon_key} kB, integer twin ${anon_int} kB, idle ${anon_idle} kB"
# the private fallback builds the same image (keys included) in the backend's memory
ask kidle "SET recommender.shared_models = off" >/dev/null
[ "$(ask kidle "$(keyed_sql)")" = "$klists" ] && ok "a private image of the keyed model (shared_models off) serves the same lists" || bad "private keyed lists"
pk=$(ask kidle "SELECT bytes FROM recommender.cache_status() WHERE model = 'shk_key'")
echo "# the keyed model's private image: $pk bytes"
# a flipped byte in the key bytes: the image is rejected and rebuilt, the lists stay
kimg=$(ls "$DIR/$HK"-*.img 2>/dev/null | head -1)
python3 - "$kimg" <<'EOF2'
import struct, sys
f = open(sys.argv[1], 'r+b'); data = f.read()
n = struct.unpack_from('<I', data, 28)[0]
for k in range(n):
    kind, size, off, cnt, _ = struct.unpack_from('<IIQQQ', data, 256 + 32 * k)
    if kind == 17 and cnt > 1:        # the key bytes
        f.seek(off + cnt // 2); b = data[off + cnt // 2]; f.write(bytes([b ^ 0x01]))
f.close()
EOF2
kino=$(stat -c %i "$kimg")
[ "$(q "$(keyed_sql)")" = "$klists" ] && [ "$(stat -c %i "$kimg")" != "$kino" ] && ok "a damaged key section: the image is rebuilt, same lists" || bad "a damaged key section"
for k in kidle kkey kint; do end_session "$k"; done
q "SET client_min_messages = warning; SELECT recommender.drop('shk_key'); SELECT recommender.drop('shk_int'); DROP SCHEMA shk CASCADE" >/dev/null

# 6. a hot standby builds and serves its own image
SDIR="$TMP/shm_standby"; SPORT="$(free_port)"
qs() { psql -X -q -tA -h 127.0.0.1 -p "$SPORT" -d "$DB" -c "$1" 2>&1; }
rm -rf "$SDIR"; mkdir -p "$SDIR"
[ "${#runas[@]}" -gt 0 ] && chown postgres:postgres "$SDIR" && chmod 700 "$SDIR"
if "${runas[@]}" "$PG_BIN/pg_basebackup" -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -D "$SDIR/data" -R -X stream -c fast -N >"$TMP/shm_basebackup.log" 2>&1; then
    settings=""
    for s in max_connections max_worker_processes max_wal_senders max_prepared_transactions max_locks_per_transaction; do
        settings="$settings -c $s=$(q "SHOW $s")"
    done
    rm -rf "$SDIR/data/pg_recommender"       # the base backup copied the primary's images: start without
    trap 'stop_cluster "$SDIR"' EXIT
    start_cluster "$SDIR" "$SPORT" "-c shared_buffers=64MB -c hot_standby=on $settings" 2>/dev/null
    SDIRI="$SDIR/data/pg_recommender/$OID"
    s_lists=$(qs "$(lists_sql shm)")
    [ "$(qs "SELECT pg_is_in_recovery()")" = "t" ] && [ "$s_lists" = "$ref2" ] && [ -f "$SDIRI/$H-$v2.img" ] \
        && ok "the standby builds its own image and serves the primary's lists" || bad "standby image: '$(ls "$SDIRI" 2>&1 | tr '\n' ' ')'"
    q "SET client_min_messages = warning; SELECT 1 FROM recommender.configure('shm', lambda => 300)" >/dev/null
    v3=$(q "SET client_min_messages = warning; SELECT version FROM recommender.train('shm')")
    lsn=$(q "SELECT pg_current_wal_lsn()")
    for _ in $(seq 1 300); do [ "$(qs "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")" = "t" ] && break; sleep 0.1; done
    [ "$(qs "$(lists_sql shm)")" = "$(q "$(lists_sql shm)")" ] && [ -f "$SDIRI/$H-$v3.img" ] && [ ! -f "$SDIRI/$H-$v2.img" ] \
        && ok "a version replayed on the standby: its image built there, the old one removed" || bad "standby after a new version: '$(ls "$SDIRI" | tr '\n' ' ')'"
    grep -E "terminated by signal|was terminated" "$SDIR/server.log" && bad "a standby backend died"
    stop_cluster "$SDIR"; trap - EXIT; rm -rf "$SDIR"
else
    bad "pg_basebackup: $(tail -3 "$TMP/shm_basebackup.log")"
fi

for k in idle s1 s2 s3 s4; do end_session "$k"; done

# 7. (optional) memory at a bigger catalog: 1 and N sessions, shared and private
if [ -n "${SHARED_MODEL_ITEMS:-}" ]; then
    N="$SHARED_MODEL_ITEMS"; S="${SHARED_MODEL_SESSIONS:-20}"
    q "SET client_min_messages = warning; DROP SCHEMA IF EXISTS big CASCADE;
       SELECT recommender.create_sample_shop('big', $((N * 2)), $N);
       SELECT recommender.register('big', 'big.events', 'customer_id', 'product_id', event_column => 'event_type',
                event_weights => '{\"view\": 1, \"cart\": 3, \"purchase\": 5}', items => 'big.products',
                item_id_column => 'product_id', category_column => 'category');
       SELECT recommender.configure('big', max_items => $N);" >/dev/null
    t0=$(date +%s.%N)
    items=$(q "SET client_min_messages = warning; SET recommender.max_training_memory = '16GB'; SELECT items FROM recommender.train('big')")
    echo "# big: $items items trained in $(python3 -c "print(round($(date +%s.%N) - $t0, 1))") s"
    H=$(hash_of big)
    # first call in a new connection (psql's \timing of the first recommend(); the library loads too)
    first_call() { psql -X -q -tA -d "$DB" -c '\timing on' -c "SET recommender.shared_models = $1" \
                        -c "SELECT count(*) FROM recommend(1, 10, 0, 'big')" | awk '/^Time:/ { t = $2 } END { print t }'; }
    rm -f "$DIR/$H"-*.img
    echo "# first recommend() in a new connection, $items items: image to build $(first_call on) ms; image exists $(first_call on) ms, $(first_call on) ms; private copy (shared_models off) $(first_call off) ms, $(first_call off) ms"
    rm -f "$DIR/$H"-*.img
    for mode in on off; do
        start_session idle
        ip=$(ask idle "SELECT pg_backend_pid()")
        for k in $(seq 1 "$S"); do start_session "b$k"; ask "b$k" "SET recommender.shared_models = $mode; SET recommender.max_cache_memory = '8GB'" >/dev/null; done
        t0=$(date +%s.%N)
        ask b1 "SELECT count(*) FROM recommend(1, 10, 0, 'big')" >/dev/null
        first=$(python3 -c "print(round($(date +%s.%N) - $t0, 3))")
        t0=$(date +%s.%N)
        ask b2 "SELECT count(*) FROM recommend(2, 10, 0, 'big')" >/dev/null
        second=$(python3 -c "print(round($(date +%s.%N) - $t0, 3))")
        echo "# shared_models=$mode: first call in a new connection $first s; in the next connection $second s ($(images))"
        one=$(mem_of "$(ask b1 "SELECT pg_backend_pid()")")
        for k in $(seq 3 "$S"); do ask "b$k" "SELECT count(*) FROM recommend($k, 10, 0, 'big')" >/dev/null; done
        tot_anon=0; tot_pd=0
        for k in $(seq 1 "$S"); do
            p=$(ask "b$k" "SELECT pg_backend_pid()")
            a=$(kb "$p" RssAnon "/proc/$p/status"); d=$(kb "$p" Private_Dirty "/proc/$p/smaps_rollup")
            tot_anon=$((tot_anon + a)); tot_pd=$((tot_pd + d))
        done
        echo "# shared_models=$mode, $items items: idle backend $(mem_of "$ip"); one serving backend $one; $S serving backends: RssAnon total $((tot_anon / 1024)) MB, Private_Dirty total $((tot_pd / 1024)) MB; free: $(free -m | awk '/Mem:/ { print $3 " MB used" }')"
        for k in $(seq 1 "$S"); do end_session "b$k"; done
        end_session idle
        [ "$mode" = on ] && rm -f "$DIR/$H"-*.img
    done
    q "SET client_min_messages = warning; SELECT recommender.drop('big'); DROP SCHEMA big CASCADE" >/dev/null
fi

# 8. the sparse kind is served from a mapped image too (sections of sparse rows): a session maps
# the file, counts no private bytes, gives the lists of a private copy; a damaged file is rebuilt
q "SET client_min_messages = warning;
   SELECT recommender.register('shm_sp', 'shop.events', 'customer_id', 'product_id',
            event_column => 'event_type', event_weights => '{\"view\": 1, \"cart\": 3, \"purchase\": 5}',
            items => 'shop.products', item_id_column => 'product_id', category_column => 'category');
   SELECT 1 FROM recommender.configure('shm_sp', kind => 'sparse', lambda => 300);" >/dev/null
vs=$(q "SET client_min_messages = warning; SELECT version FROM recommender.train('shm_sp')")
HS=$(hash_of shm_sp)
sp_lists() { echo "SELECT string_agg(u || ':' || r.item_id || ':' || round(r.score::numeric, 9), ',' ORDER BY u, r.rank)
                     FROM generate_series(1, 30) AS u, recommend(u, 5, 0, 'shm_sp') AS r"; }
spimg="$DIR/$HS-$vs.img"
# (its private bytes: recommend()'s reused scratch only, 4 bytes a catalog item: its score array;
# the reached items' table grows with the calls and is not counted up front)
out=$(psql -X -q -tA -d "$DB" -c "$(sp_lists)" -c "SELECT 'bytes=' || (bytes - 4 * (SELECT count(*) FROM shop.products)) FROM recommender.cache_status() WHERE model = 'shm_sp'" 2>&1)
sp_ref=$(echo "$out" | head -1)
sp_priv=$(psql -X -q -tA -d "$DB" -c "SET recommender.shared_models = off" -c "$(sp_lists)" 2>&1 | grep -v NOTICE | tail -1)
kind=$(q "SELECT params->>'kind' FROM recommender.model_version WHERE model = 'shm_sp' AND version = $vs")
[ "$kind" = sparse ] && [ -f "$spimg" ] && echo "$out" | grep -qx "bytes=0" && [ -n "$sp_ref" ] && [ "$sp_ref" = "$sp_priv" ] \
    && ok "a sparse model (version $vs) is served from its mapped image $(basename "$spimg") ($(stat -c %s "$spimg") bytes; cache_status() bytes: the call scratch only; the lists of a private copy)" \
    || bad "sparse model from a mapped image: kind '$kind', file $(ls "$DIR" | grep "^$HS" | tr '\n' ' '), out '$(echo "$out" | tail -3 | tr '\n' ' ')', same as private: $([ "$sp_ref" = "$sp_priv" ] && echo yes || echo no)"
# damage the sparse row starts (section kind 13, found in the section table): the reader rejects
# the image and rebuilds it
python3 - "$spimg" <<'PY'
import struct, sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
for k in range(struct.unpack_from('<I', b, 28)[0]):
    kind, size, off, cnt = struct.unpack_from('<IIQQ', b, 256 + 32 * k)
    if kind == 13: b[off + 8 * (cnt // 2)] ^= 0x40
open(p, 'r+b').write(b)
PY
ino=$(stat -c %i "$spimg")
out=$(psql -X -q -tA -d "$DB" -c "$(sp_lists)" 2>&1)
[ "$(stat -c %i "$spimg")" != "$ino" ] && [ "$(echo "$out" | grep -v NOTICE | tail -1)" = "$sp_ref" ] \
    && ok "a damaged sparse image is rejected and rebuilt: the same lists" || bad "damaged sparse image: $(echo "$out" | head -3)"
q "SELECT recommender.drop('shm_sp')" >/dev/null

q "SELECT recommender.drop('shm')" >/dev/null
echo "shared_model: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
