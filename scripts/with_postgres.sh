#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on 127.0.0.1 (free port, socket in a temp dir),
# export CRM_TEST_PG_URL for the command given as arguments, run it, and always stop
# the cluster and remove its files afterwards. Exits with the command's exit code.
set -euo pipefail

pg_bin_dir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

PGBIN="$(pg_bin_dir)"
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "with_postgres: no PostgreSQL server found, installing Debian's postgresql" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    PGBIN="$(pg_bin_dir)"
  else
    echo "with_postgres: no PostgreSQL server under /usr/lib/postgresql and not root to install it" >&2
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

PGDIR="$(mktemp -d /tmp/crm-pg.XXXXXX)"
chmod 755 "$PGDIR"
if [ "$(id -u)" = "0" ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir "$PGDIR" postgres
  chown postgres "$PGDIR"
fi
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"

cleanup() {
  as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$PGDIR"
}
trap cleanup EXIT INT TERM

as_pg "$PGBIN/initdb" -D "$PGDIR/data" -U postgres -A trust -E UTF8 --no-locale --no-sync >/dev/null
mkdir -p "$PGDIR/sock" && { [ "$(id -u)" != "0" ] || chown postgres "$PGDIR/sock"; }
# fsync off: a throwaway cluster for tests, durability is not what is tested here.
as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 60 start \
  -o "-h 127.0.0.1 -p $PORT -k $PGDIR/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null \
  || { cat "$PGDIR/server.log" >&2; exit 1; }

export CRM_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres"
echo "with_postgres: PostgreSQL $("$PGBIN/postgres" --version | awk "{print \$3}") on 127.0.0.1:$PORT" >&2
set +e
"$@"
status=$?
set -e
exit $status
