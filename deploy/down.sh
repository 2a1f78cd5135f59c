#!/usr/bin/env bash
# Stops a stack started by deploy/up.sh: SIGTERM to the services (they drain), then to nats-server;
# SIGKILL for anything still running after 15 seconds. Only the processes whose pids up.sh recorded in
# DIR are touched.
#
# Usage: deploy/down.sh DIR [--purge]
#   --purge   also delete DIR (config, JetStream store, logs)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DIR="" PURGE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --purge) PURGE=1; shift ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) [ -z "$DIR" ] || die "one directory only"; DIR="$1"; shift ;;
  esac
done
[ -n "$DIR" ] || die "usage: deploy/down.sh DIR [--purge]"
[ -d "$DIR" ] || die "$DIR is not a directory"

# stop NAME...: SIGTERM each recorded pid that is still ours, wait, then SIGKILL.
stop() {
  local pids=() name pid bin
  for name in "$@"; do
    [ -f "$DIR/$name.pid" ] || continue
    pid="$(cat "$DIR/$name.pid")"
    case "$name" in nats-server) bin=nats-server ;; *) bin="${name%-[0-9]*}" ;; esac
    if pid_is "$pid" "$bin"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
    rm -f "$DIR/$name.pid"
  done
  local deadline=$((SECONDS + 15))
  for pid in ${pids[@]+"${pids[@]}"}; do
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      say "pid $pid did not stop after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
}

services=()
for f in "$DIR"/hoinghi-*.pid; do [ -e "$f" ] && services+=("$(basename "${f%.pid}")"); done
[ ${#services[@]} -eq 0 ] || stop "${services[@]}"
stop nats-server
if [ "$PURGE" = 1 ]; then
  rm -rf "$DIR"
  say "stopped; removed $DIR"
else
  say "stopped; logs kept in $DIR"
fi
