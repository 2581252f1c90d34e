#!/usr/bin/env bash
# Start the benchmark's persistent PostgreSQL cluster (data/bench/pg, created on first
# use) on 127.0.0.1, export CRM_BENCH_PG_URL for the command given as arguments, run it,
# and stop the cluster afterwards, keeping its files: the medium database is generated
# once and reused. Same initdb/pg_ctl pattern as scripts/with_postgres.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PGDIR="$ROOT/data/bench/pg"

pg_bin_dir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

PGBIN="$(pg_bin_dir)"
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "bench_postgres: no PostgreSQL server found, installing Debian's postgresql" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    PGBIN="$(pg_bin_dir)"
  else
    echo "bench_postgres: no PostgreSQL server under /usr/lib/postgresql and not root to install it" >&2
    exit 1
  fi
fi

as_pg() {
  if [ "$(id -u)" = "0" ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

mkdir -p "$PGDIR/sock"
chmod 755 "$PGDIR"
if [ "$(id -u)" = "0" ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir "$PGDIR" postgres
  chown postgres "$PGDIR" "$PGDIR/sock"
fi
if [ ! -f "$PGDIR/data/PG_VERSION" ]; then
  rm -rf "$PGDIR/data"
  echo "bench_postgres: creating the cluster in $PGDIR/data" >&2
  as_pg "$PGBIN/initdb" -D "$PGDIR/data" -U postgres -A trust -E UTF8 --no-locale >/dev/null
fi
# A cluster left running by an interrupted run is stopped first (its port may be stale).
as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null 2>&1 || true
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"

cleanup() {
  as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null 2>&1 || true
}
trap cleanup EXIT INT TERM

# Durable (fsync on) like a real server, but commits do not wait for the WAL flush, which
# matches SQLite's WAL mode with synchronous=NORMAL: a crash may lose the last commits,
# never corrupt. Memory settings are modest for a shared 2-core machine.
as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 120 start \
  -o "-h 127.0.0.1 -p $PORT -k $PGDIR/sock -c synchronous_commit=off -c shared_buffers=256MB -c work_mem=32MB -c max_connections=100" >/dev/null \
  || { tail -n 30 "$PGDIR/server.log" >&2; exit 1; }

export CRM_BENCH_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres"
echo "bench_postgres: PostgreSQL $("$PGBIN/postgres" --version | awk "{print \$3}") on 127.0.0.1:$PORT ($PGDIR)" >&2
set +e
"$@"
status=$?
set -e
exit $status
