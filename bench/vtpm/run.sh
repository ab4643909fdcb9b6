#!/usr/bin/env bash
# vTPM service load: PutMessage (an RSA-2048 quote and ENTRIES new IMA
# entries each, verified and stored durably) and DescribeInstance, over
# HTTP with wrk (2 threads) on the same machine, against a
# vouchd on SQLite (or the database URL in VOUCH_BENCH_DB).  The requests
# are prepared and signed first (bench/vtpm/load.mjs: enrolment, nonces,
# quotes); only sending them is timed.
#   usage: bench/vtpm/run.sh BUILD_DIR [INSTANCES] [REPORTS] [ENTRIES] [DESCRIBE]
# Needs node, wrk and tests/api's npm packages (cd tests/api && npm ci).
set -euo pipefail
build=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
token=bench-admin-token-000000
"$build/src/server/vouchd" --listen 127.0.0.1:0 --db "${VOUCH_BENCH_DB:-sqlite:$dir/v.db}" \
  --admin-token "$token" >"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  port=$(grep -o 'port=[0-9]*' "$dir/log" | head -1 | cut -d= -f2 || true)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$dir/log"; exit 1; }
VTPM_BENCH_DIR=$dir node "$here/load.mjs" "http://127.0.0.1:$port" "$token" "$@"
# PutMessage on 16 connections: with 4 instances per connection, an
# instance's next report leaves only after its previous one was answered.
for spec in putmessage:16 describe:64; do
  what=${spec%:*} conns=${spec#*:}
  echo "-- $what ($conns connections)"
  BODIES=$dir/$what.txt THREADS=2 wrk -t2 -c"$conns" -d120s -s "$here/bodies.lua" \
    "http://127.0.0.1:$port/" | grep -E '^bodies='
done
