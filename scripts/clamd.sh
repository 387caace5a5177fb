#!/usr/bin/env bash
# Start/stop the ClamAV daemon with the project's configuration, on a unix socket under ./var.
#
#   scripts/clamd.sh start    render var/clamd/clamd.conf, start clamd, wait until it answers PING
#   scripts/clamd.sh stop     stop the clamd started from this run directory
#   scripts/clamd.sh status   exit 0 when it answers PING
#   scripts/clamd.sh run      run clamd in the foreground (containers, supervisors)
#
# Environment: CLAMD_VAR (run directory, default ./var/clamd), CLAMD_DB (signature directory,
# default deploy/clamav/db: the project's own small database), CLAMD_TCP_PORT (also listen on
# 127.0.0.1:PORT), CLAMD_STREAM_MAX_LENGTH (default 12M), CLAMD_START_TIMEOUT (seconds, default 60: a full ClamAV database loads slowly).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VAR="${CLAMD_VAR:-$ROOT/var/clamd}"
DB="${CLAMD_DB:-$ROOT/deploy/clamav/db}"
CONF="$VAR/clamd.conf"
PIDFILE="$VAR/clamd.pid"
SOCK="$VAR/clamd.sock"
TIMEOUT="${CLAMD_START_TIMEOUT:-60}"
PY="$ROOT/.venv/bin/python"
[ -x "$PY" ] || PY=python3
CLAMD="$(command -v clamd || echo /usr/sbin/clamd)"

ping_clamd() {
    "$PY" - "$SOCK" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(1.0)
try:
    s.connect(sys.argv[1])
    s.sendall(b"zPING\0")
    sys.exit(0 if s.recv(16).rstrip(b"\0\n") == b"PONG" else 1)
except OSError:
    sys.exit(1)
PY
}

running_pid() {
    [ -f "$PIDFILE" ] || return 1
    local pid
    pid="$(cat "$PIDFILE" 2>/dev/null || true)"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

render() {
    mkdir -p "$VAR/tmp"
    sed -e "s#@VAR@#$VAR#g" -e "s#@DB@#$DB#g" \
        -e "s#^StreamMaxLength .*#StreamMaxLength ${CLAMD_STREAM_MAX_LENGTH:-12M}#" \
        "$ROOT/deploy/clamav/clamd.conf.in" >"$CONF"
    if [ -n "${CLAMD_TCP_PORT:-}" ]; then
        printf 'TCPSocket %s\nTCPAddr 127.0.0.1\n' "$CLAMD_TCP_PORT" >>"$CONF"
    fi
}

start() {
    if running_pid >/dev/null && ping_clamd; then
        echo "clamd already running (pid $(running_pid)) on $SOCK"
        return 0
    fi
    [ -x "$CLAMD" ] || { echo "clamd not found: apt-get install clamav-daemon (make system)" >&2; exit 1; }
    render
    rm -f "$PIDFILE"
    # Foreground mode under nohup: the pid we record is clamd's own, and no init system is needed.
    nohup "$CLAMD" --config-file="$CONF" >>"$VAR/clamd.out" 2>&1 &
    echo $! >"$PIDFILE"
    local deadline=$((SECONDS + TIMEOUT))
    until ping_clamd; do
        if ! running_pid >/dev/null; then
            echo "clamd exited during start; see $VAR/clamd.out and $VAR/clamd.log" >&2
            tail -n 20 "$VAR/clamd.out" >&2 || true
            exit 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "clamd did not answer PING within ${TIMEOUT}s" >&2
            stop
            exit 1
        fi
        sleep 0.05
    done
    echo "clamd running (pid $(running_pid)) on $SOCK"
}

stop() {
    local pid
    if pid="$(running_pid)"; then
        kill "$pid"
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid" || true
    fi
    rm -f "$PIDFILE" "$SOCK"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) ping_clamd ;;
    run) render; exec "$CLAMD" --config-file="$CONF" ;;
    *) echo "usage: $0 start|stop|status|run" >&2; exit 2 ;;
esac
