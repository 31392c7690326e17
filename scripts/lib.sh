# Shared shell functions for setup.sh, test.sh and bench.sh. Source it; do not run it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SYS_PG_BIN=/usr/lib/postgresql/15/bin   # Debian's PostgreSQL 15 (headers for the build come from here)
PG_BIN="${PG_BIN:-$SYS_PG_BIN}"
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Debian packages the build and the tests need. Installs only what is missing.
ensure_deps() {
    local pkgs=(postgresql-15 postgresql-client-15 postgresql-server-dev-15 postgresql-15-cron libopenblas-dev liblapack-dev libsuitesparse-dev)
    local missing=()
    for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        log "installing Debian packages: ${missing[*]}"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    if ! command -v swift >/dev/null 2>&1; then
        if [ -x /opt/swift/usr/bin/swift ]; then export PATH="/opt/swift/usr/bin:$PATH"; else
            echo "error: a Swift 6 toolchain is needed to build (swift.org/install); the database server itself does not need one" >&2
            exit 1
        fi
    fi
    private_pg
}

# RECOMMENDER_PG_COPY=DIR: install into and test against a private copy of Debian's PostgreSQL 15
# in DIR (made once; PostgreSQL finds its share and lib directories relative to its binaries), so
# that several checkouts can build, install and test side by side without sharing the system's
# extension directory. Unset: the system installation is used.
private_pg() {
    [ -n "${RECOMMENDER_PG_COPY:-}" ] || return 0
    local d="$RECOMMENDER_PG_COPY"
    if [ ! -x "$d/usr/lib/postgresql/15/bin/postgres" ]; then
        log "making a private copy of PostgreSQL 15 in $d"
        mkdir -p "$d/usr/lib/postgresql" "$d/usr/share/postgresql"
        cp -a /usr/lib/postgresql/15 "$d/usr/lib/postgresql/"
        cp -a /usr/share/postgresql/15 "$d/usr/share/postgresql/"
        chmod 755 "$d"
    fi
    PG_BIN="$d/usr/lib/postgresql/15/bin"
    export PG_BIN
}

# Release build with the Swift runtime linked statically: the server needs no Swift toolchain.
build_release() {
    log "building the extension (release, static Swift runtime)"
    local status=0
    (cd "$ROOT" && swift build -c release -Xswiftc -static-stdlib \
        -Xcc -I"$("$SYS_PG_BIN/pg_config" --includedir-server)" > "${TMPDIR:-/tmp}/recommender-build.$$.log" 2>&1) || status=$?
    grep -vE '^\[[0-9]+/[0-9]+\]' "${TMPDIR:-/tmp}/recommender-build.$$.log" || true
    rm -f "${TMPDIR:-/tmp}/recommender-build.$$.log"
    # a failed build must not leave the tests running against an older library
    [ "$status" -eq 0 ] || { echo "error: the build failed (swift build exited $status)" >&2; exit 1; }
    test -f "$ROOT/.build/release/librecommender.so" || { echo "error: build failed" >&2; exit 1; }
}

# Installs into the directories pg_config names.
install_extension() {
    local pg_config="$PG_BIN/pg_config"
    local libdir sharedir
    libdir="$("$pg_config" --pkglibdir)"
    sharedir="$("$pg_config" --sharedir)/extension"
    log "installing into $libdir and $sharedir"
    $SUDO install -m 755 "$ROOT/.build/release/librecommender.so" "$libdir/recommender.so"
    $SUDO install -m 644 "$ROOT/extension/recommender.control" "$sharedir/"
    $SUDO install -m 644 "$ROOT"/extension/recommender--*.sql "$sharedir/"
}

# start_cluster DIR PORT [EXTRA_SERVER_OPTIONS]: a private PostgreSQL 15 cluster in DIR on
# 127.0.0.1:PORT, socket in DIR.
start_cluster() {
    local dir="$1" port="$2" extra="${3:-}"
    local runas=()
    if [ "$(id -u)" = "0" ]; then runas=(runuser -u postgres --); fi
    mkdir -p "$dir"
    if [ "$(id -u)" = "0" ]; then chown postgres:postgres "$dir"; chmod 700 "$dir"; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        log "creating a PostgreSQL 15 cluster in $dir"
        "${runas[@]}" "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if "${runas[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        "${runas[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -m fast stop >/dev/null
    fi
    log "starting PostgreSQL on 127.0.0.1:$port"
    "${runas[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -w -l "$dir/server.log" \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=256MB $extra" start >/dev/null
}

stop_cluster() {
    local dir="$1"
    local runas=()
    if [ "$(id -u)" = "0" ]; then runas=(runuser -u postgres --); fi
    if [ -f "$dir/data/postmaster.pid" ]; then
        "${runas[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
    fi
}

# A free TCP port on loopback.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
