#!/usr/bin/env bash
# with-postgres.sh COMMAND...: run COMMAND against a throwaway PostgreSQL cluster, then remove it.
#
# The cluster lives in a new temporary folder, listens on a unix socket there and on no TCP port
# (so it never clashes with another server), trusts local connections, and skips fsync (its data
# is thrown away). COMMAND sees KHRUSHCHEV_TEST_DATABASE_URL, a psycopg URL of an empty database
# `khrushchev_test`; the test fixtures give each test its own schema in it. initdb refuses to run
# as root, so under root the cluster runs as Debian's `postgres` user.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-postgres.sh
BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
if [ -z "$BIN" ]; then BIN="$(dirname "$(command -v initdb)")"; fi

DIR="$(mktemp -d /tmp/khrushchev-pg.XXXXXX)"
if [ "$(id -u)" = "0" ]; then
  chown postgres: "$DIR"
  as_owner() { runuser -u postgres -- "$@"; }
else
  as_owner() { "$@"; }
fi
cleanup() {
  as_owner "$BIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

as_owner "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
  || { cat "$DIR/initdb.log" >&2; exit 1; }
OPTS="-c listen_addresses='' -c unix_socket_directories='$DIR' -c fsync=off -c synchronous_commit=off"
OPTS="$OPTS -c full_page_writes=off -c max_connections=300 -c shared_buffers=64MB"
as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -o "$OPTS" -w -t 60 start >/dev/null \
  || { cat "$DIR/server.log" >&2; exit 1; }
"$BIN/createdb" -h "$DIR" -U postgres khrushchev_test

export KHRUSHCHEV_TEST_DATABASE_URL="postgresql+psycopg://postgres@/khrushchev_test?host=$DIR"
echo "PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on $DIR" >&2
"$@"
