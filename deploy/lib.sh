# Shared helpers of the deploy scripts (sourced, not run).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
BIN_DIR="$TARGET_DIR/debug"
SERVICES=(scheduling attendance minutes)

say() { printf '%s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Prints a free TCP port on 127.0.0.1.
free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
    return
  fi
  local p
  for p in $(seq 14222 14999); do
    if ! port_open "$p"; then echo "$p"; return; fi
  done
  die "no free port found in 14222-14999"
}

# True when pid $1 is alive and its command line mentions $2 (guards against a recycled pid).
pid_is() {
  local pid="$1" name="$2"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  if [ -r "/proc/$pid/cmdline" ]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$name"
  fi
}

# Prints the last lines of a log file, indented.
log_tail() {
  [ -f "$1" ] || return 0
  say "---- last lines of $1"
  tail -n "${2:-30}" "$1" | sed 's/^/    /' >&2
}
