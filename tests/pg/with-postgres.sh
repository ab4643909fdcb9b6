#!/usr/bin/env bash
# Run a command beside a throwaway PostgreSQL cluster:
#   tests/pg/with-postgres.sh CMD [ARG...]
# initdb into a temporary directory, start the server on a free port of
# 127.0.0.1 (its unix socket in the same directory), export
# VOUCH_TEST_PG_BASE=postgres://postgres@127.0.0.1:PORT, run CMD, then stop
# the server and remove everything, even when CMD fails.  initdb refuses to
# run as root, so as root the server runs as the `postgres` system user the
# Debian package creates.  No system service is started or touched.
set -euo pipefail
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ]; then
  echo "with-postgres: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
  exit 1
fi
dir=$(mktemp -d /tmp/vouch-pg-XXXXXX)
as=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$dir"
  as=(runuser -u postgres --)
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
  "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM
"${as[@]}" "$bindir/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 \
  --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
"${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-h 127.0.0.1 -p $port -k $dir -c max_connections=200" start >/dev/null ||
  { cat "$dir/server.log" >&2; exit 1; }
export VOUCH_TEST_PG_BASE="postgres://postgres@127.0.0.1:$port"
export VOUCH_TEST_PG_DIR="$dir" VOUCH_TEST_PG_BIN="$bindir"
"$@"
