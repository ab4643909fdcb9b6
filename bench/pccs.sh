#!/usr/bin/env bash
# PCCS-compatible API: wrk against GET /tdx/certification/v4/tcb with real
# collateral (dcap-qvl's TDX sample) imported; 64 connections, 20 s.
#   usage: bench/pccs.sh BUILD_DIR
set -euo pipefail
build=$1
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
"$build/src/cli/vouch" collateral import --db "sqlite:$dir/v.db" \
  "$root/tests/vectors/dcap/dcap-qvl/sample/tdx_quote_collateral.json" >/dev/null
"$build/src/server/vouchd" --listen 127.0.0.1:0 --db "sqlite:$dir/v.db" \
  --admin-token bench-admin-token-000000 >"$dir/log" 2>&1 &
pid=$!
port=
for _ in $(seq 100); do
  port=$(grep -o 'port=[0-9]*' "$dir/log" | head -1 | cut -d= -f2 || true)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$dir/log"; exit 1; }
url="http://127.0.0.1:$port/tdx/certification/v4/tcb?fmspc=B0C06F000000"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url")" = 200 ] || { echo "tcb did not answer 200"; exit 1; }
echo "-- wrk -t2 -c64 -d20s GET /tdx/certification/v4/tcb"
wrk -t2 -c64 -d20s --latency "$url" | grep -E 'Requests/sec|Latency  |99%|Non-2xx'
