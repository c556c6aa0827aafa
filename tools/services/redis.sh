#!/usr/bin/env bash
# Starts or stops a throwaway Redis for tests (no persistence, loopback only).
#   tools/services/redis.sh start PORT DIR   -> prints redis://127.0.0.1:PORT
#   tools/services/redis.sh stop DIR
#   tools/services/redis.sh available        -> exit 0 when redis-server is installed
# Install on Debian: apt-get install -y redis-server
set -euo pipefail

cmd="${1:-}"
case "$cmd" in
  available)
    command -v redis-server >/dev/null 2>&1
    ;;
  start)
    port="${2:?port required}"
    dir="${3:?dir required}"
    command -v redis-server >/dev/null 2>&1 || { echo "redis-server not installed (apt-get install -y redis-server)" >&2; exit 3; }
    mkdir -p "$dir"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
      --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null
    # Wait until it answers (at most ~10 s).
    for _ in $(seq 1 100); do
      if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
        echo "redis://127.0.0.1:$port"
        exit 0
      fi
      sleep 0.1
    done
    echo "redis did not start on port $port; log:" >&2
    cat "$dir/redis.log" >&2 || true
    exit 1
    ;;
  stop)
    dir="${2:?dir required}"
    if [ -f "$dir/redis.pid" ]; then
      pid="$(cat "$dir/redis.pid")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$dir/redis.pid"
    fi
    ;;
  *)
    echo "usage: $0 start PORT DIR | stop DIR | available" >&2
    exit 2
    ;;
esac
