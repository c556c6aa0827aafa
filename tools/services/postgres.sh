#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL for tests (trust auth, loopback only, data in DIR).
#   tools/services/postgres.sh start PORT DIR   -> prints postgres://postgres@127.0.0.1:PORT/postgres
#   tools/services/postgres.sh stop DIR
#   tools/services/postgres.sh available        -> exit 0 when initdb/pg_ctl are installed
# Install on Debian: apt-get install -y postgresql   (binaries in /usr/lib/postgresql/<v>/bin)
# As root, the cluster runs as the `postgres` user (PostgreSQL refuses to run as root).
set -euo pipefail

find_bin() {
  local b
  for b in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$b/initdb" ] && [ -x "$b/pg_ctl" ]; then echo "$b"; return 0; fi
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"; return 0
  fi
  return 1
}

as_owner() {
  # Runs a command as the cluster owner: `postgres` when we are root, else ourselves.
  if [ "$(id -u)" = "0" ]; then
    su postgres -s /bin/sh -c "$*"
  else
    sh -c "$*"
  fi
}

cmd="${1:-}"
case "$cmd" in
  available)
    find_bin >/dev/null
    if [ "$(id -u)" = "0" ]; then id postgres >/dev/null 2>&1; fi
    ;;
  start)
    port="${2:?port required}"
    dir="${3:?dir required}"
    bin="$(find_bin)" || { echo "PostgreSQL not installed (apt-get install -y postgresql)" >&2; exit 3; }
    mkdir -p "$dir"
    if [ "$(id -u)" = "0" ]; then
      id postgres >/dev/null 2>&1 || { echo "user postgres missing (install the postgresql package)" >&2; exit 3; }
      chown postgres "$dir"
      chmod 700 "$dir"
      su postgres -s /bin/sh -c "test -w '$dir'" \
        || { echo "user postgres cannot reach $dir: make its parent directories traversable (chmod 755)" >&2; exit 1; }
    fi
    as_owner "'$bin/initdb' -D '$dir/data' -U postgres -A trust -E UTF8 --no-locale --no-sync >'$dir/initdb.log' 2>&1" \
      || { echo "initdb failed; log:" >&2; cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "'$bin/pg_ctl' -D '$dir/data' -l '$dir/postgres.log' -w -t 30 \
      -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off\" start >/dev/null" \
      || { echo "postgres did not start on port $port; log:" >&2; cat "$dir/postgres.log" >&2; exit 1; }
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    dir="${2:?dir required}"
    if [ -f "$dir/data/postmaster.pid" ]; then
      bin="$(find_bin)"
      as_owner "'$bin/pg_ctl' -D '$dir/data' -m fast -w -t 30 stop >/dev/null 2>&1" || {
        pid="$(head -1 "$dir/data/postmaster.pid" 2>/dev/null || true)"
        [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
      }
    fi
    ;;
  *)
    echo "usage: $0 start PORT DIR | stop DIR | available" >&2
    exit 2
    ;;
esac
