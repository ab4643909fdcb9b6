#!/usr/bin/env bash
# POST /v1/attestation with and without the attestation history
# (--keep-attestations 10000 vs 0), alternating: the same real TDX v4 quote
# and collateral as attest.sh, ES256 tokens, wrk -t2 -c64 -d10s, on the same
# 2-core machine.  After each run: the rows in the table and their highest
# id (one per request), and whether the writer had to drop any.
#   usage: bench/history.sh BUILD_DIR
set -euo pipefail
build=$1
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
q=$root/tests/vectors/dcap/dcap-qvl/sample/tdx_quote
c=$root/tests/vectors/dcap/dcap-qvl/sample/tdx_quote_collateral.json
"$build/src/cli/vouch" collateral import --db "sqlite:$dir/v.db" "$c" >/dev/null
ev=$(printf '{"quote":"%s","cc_eventlog":null}' "$(base64 -w0 "$q")" | base64 -w0 | tr '+/' '-_' | tr -d '=')
cat >"$dir/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"tee":"tdx","evidence":"$ev","policy_ids":[]}'
LUA
for keep in 0 10000 0 10000; do
  "$build/src/server/vouchd" --listen 127.0.0.1:0 --db "sqlite:$dir/v.db" --token-alg ES256 \
    --keep-attestations "$keep" --fixed-time 2025-07-19T10:00:34Z \
    --admin-token bench-admin-token-000000 >"$dir/log" 2>&1 &
  pid=$!
  port=
  for _ in $(seq 100); do
    port=$(grep -o 'port=[0-9]*' "$dir/log" | head -1 | cut -d= -f2 || true)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$dir/log"; exit 1; }
  echo "-- --keep-attestations $keep: wrk -t2 -c64 -d10s POST /v1/attestation"
  wrk -t2 -c64 -d10s --latency -s "$dir/post.lua" "http://127.0.0.1:$port/v1/attestation" |
    grep -E 'Requests/sec|99%|Non-2xx'
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  echo "rows, highest id: $(sqlite3 "$dir/v.db" 'SELECT count(*), max(id) FROM attestations')"
  echo "drop warnings: $(grep -c 'rows dropped' "$dir/log" || true)"
done
