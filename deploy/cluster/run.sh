#!/usr/bin/env bash
# Runs the three-node NATS cluster of deploy/cluster/node-{1,2,3}.conf on this machine (loopback):
# client ports 4222, 4223, 4224; cluster routes 6222, 6223, 6224; JetStream on every node, with each
# node's store under the state directory.
#
# Usage: deploy/cluster/run.sh COMMAND [--dir DIR]
#   up          start the three nodes, wait until JetStream has elected its metadata leader, and print
#               the settings the services need (HOINGHI__NATS__URL with the three URLs, 3 replicas)
#   down        stop the three nodes (SIGTERM, then SIGKILL after 15 s)
#   stop N      stop node N (1, 2 or 3), to watch the others carry on
#   start N     start node N again (same store: it catches up with the others)
#   status      which nodes run
#   --dir DIR   state directory (stores, logs, pids); default: <repo>/.data/cluster
# Then start the services against it, e.g. with the environment `up` prints:
#   export HOINGHI__NATS__URL=nats://127.0.0.1:4222,nats://127.0.0.1:4223,nats://127.0.0.1:4224
#   export HOINGHI__NATS__REPLICAS=3
#   target/debug/hoinghi-scheduling &  target/debug/hoinghi-attendance &  target/debug/hoinghi-minutes &
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

HERE="$ROOT/deploy/cluster"
PORTS=(4222 4223 4224)
COMMAND="${1:-}"
[ $# -gt 0 ] && shift
NODE=""
case "$COMMAND" in
  stop|start) NODE="${1:?$COMMAND needs a node number (1, 2 or 3)}"; shift ;;
esac
DIR="$ROOT/.data/cluster"
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) DIR="${2:?--dir needs a directory}"; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see deploy/cluster/run.sh --help)" ;;
  esac
done
case "$NODE" in ""|1|2|3) ;; *) die "node must be 1, 2 or 3, not $NODE" ;; esac

start_node() {
  local n="$1" pid
  pid="$(cat "$DIR/node-$n.pid" 2>/dev/null || true)"
  if pid_is "$pid" nats-server; then say "node $n already runs (pid $pid)"; return; fi
  port_open "${PORTS[$((n - 1))]}" && die "port ${PORTS[$((n - 1))]} is taken by another process"
  # store_dir in the config is relative: the server runs in the state directory.
  (cd "$DIR" && exec "$NATS_BIN" -c "$HERE/node-$n.conf" >>"$DIR/node-$n.log" 2>&1) &
  echo $! >"$DIR/node-$n.pid"
  say "node $n started (pid $!, client port ${PORTS[$((n - 1))]}, log $DIR/node-$n.log)"
}

stop_node() {
  local n="$1" pid
  pid="$(cat "$DIR/node-$n.pid" 2>/dev/null || true)"
  if ! pid_is "$pid" nats-server; then say "node $n is not running"; rm -f "$DIR/node-$n.pid"; return; fi
  kill -TERM "$pid"
  for _ in $(seq 150); do pid_is "$pid" nats-server || break; sleep 0.1; done
  pid_is "$pid" nats-server && kill -KILL "$pid"
  rm -f "$DIR/node-$n.pid"
  say "node $n stopped"
}

wait_ready() {
  local n
  for n in 1 2 3; do
    for _ in $(seq 100); do port_open "${PORTS[$((n - 1))]}" && break; sleep 0.1; done
    port_open "${PORTS[$((n - 1))]}" || { log_tail "$DIR/node-$n.log"; die "node $n does not accept connections"; }
  done
  for _ in $(seq 300); do
    if grep -qh "metadata leader" "$DIR"/node-*.log 2>/dev/null; then return; fi
    sleep 0.1
  done
  log_tail "$DIR/node-1.log"
  die "JetStream elected no metadata leader within 30 s"
}

mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
case "$COMMAND" in
  up)
    NATS_BIN="$("$ROOT/deploy/install-nats.sh")"
    for n in 1 2 3; do start_node "$n"; done
    wait_ready
    say "cluster ready; for the services:"
    echo "export HOINGHI__NATS__URL=nats://127.0.0.1:4222,nats://127.0.0.1:4223,nats://127.0.0.1:4224"
    echo "export HOINGHI__NATS__REPLICAS=3"
    ;;
  down) for n in 1 2 3; do stop_node "$n"; done ;;
  stop) stop_node "$NODE" ;;
  start)
    NATS_BIN="$("$ROOT/deploy/install-nats.sh")"
    start_node "$NODE"
    ;;
  status)
    for n in 1 2 3; do
      pid="$(cat "$DIR/node-$n.pid" 2>/dev/null || true)"
      if pid_is "$pid" nats-server; then echo "node $n: running (pid $pid, port ${PORTS[$((n - 1))]})"; else echo "node $n: stopped"; fi
    done
    ;;
  *) die "usage: deploy/cluster/run.sh up|down|stop N|start N|status [--dir DIR] (see --help)" ;;
esac
