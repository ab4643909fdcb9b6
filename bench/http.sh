#!/usr/bin/env bash
# HTTP front end alone: wrk against GET /healthz and GET /jwks.json of a
# vouchd with its default thread pool, 64 connections, 10 s each.
#   usage: bench/http.sh BUILD_DIR
set -euo pipefail
build=$1
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
"$build/src/server/vouchd" --listen 127.0.0.1:0 --db "sqlite:$dir/v.db" \
  --admin-token bench-admin-token-000000 >"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  port=$(grep -o 'port=[0-9]*' "$dir/log" | head -1 | cut -d= -f2 || true)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$dir/log"; exit 1; }
for path in /healthz /jwks.json; do
  echo "-- GET $path"
  wrk -t2 -c64 -d10s --latency "http://127.0.0.1:$port$path" | grep -E 'Requests/sec|Latency|99%'
done
