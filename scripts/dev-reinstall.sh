#!/usr/bin/env bash
# Developer loop: rebuild, reinstall, restart the scratch cluster given as $1 (dir) $2 (port).
source "$(dirname "$0")/lib.sh"
# honours RECOMMENDER_PG_COPY like the other scripts (it installed into the system directories before)
private_pg
build_release
install_extension
start_cluster "${1:-/tmp/rt}" "${2:-55432}"
