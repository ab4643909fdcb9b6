#!/usr/bin/env bash
# POST /v1/attestation under load: wrk (Lua body script) with a real TDX v4
# quote (dcap-qvl's sample, vector V2) and its Intel collateral imported,
# at the collateral's time, default policy, flat token; RS256 and ES256;
# 64 connections, 20 s each, on the same 2-core machine as vouchd.
# With HISTORY=1: ES256 with the attestation history off and on instead.
#   usage: [HISTORY=1] bench/attest.sh BUILD_DIR
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
done = function(summary, latency, requests)
  io.write(string.format("non-2xx-or-errors=%d\n", summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
# Start vouchd with extra flags; sets $pid and $port.
start_vouchd() {
  "$build/src/server/vouchd" --listen 127.0.0.1:0 --db "sqlite:$dir/v.db" \
    --fixed-time 2025-07-19T10:00:34Z --admin-token bench-admin-token-000000 "$@" >"$dir/log" 2>&1 &
  pid=$!
  port=
  for _ in $(seq 100); do
    port=$(grep -o 'port=[0-9]*' "$dir/log" | head -1 | cut -d= -f2 || true)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$dir/log"; exit 1; }
}

stop_vouchd() {
  kill $pid; wait $pid 2>/dev/null || true
  pid=
}

if [ -n "${HISTORY:-}" ]; then
  # The attestation history off and on, alternating (ES256, 10 s each): after each run
  # the rows kept and the highest id (one per request), and the writer's drop warnings.
  for keep in 0 10000 0 10000; do
    start_vouchd --token-alg ES256 --keep-attestations "$keep"
    echo "-- --keep-attestations $keep: wrk -t2 -c64 -d10s POST /v1/attestation"
    wrk -t2 -c64 -d10s --latency -s "$dir/post.lua" "http://127.0.0.1:$port/v1/attestation" |
      grep -E 'Requests/sec|99%|non-2xx'
    stop_vouchd
    echo "rows, highest id: $(sqlite3 "$dir/v.db" 'SELECT count(*), max(id) FROM attestations')"
    echo "drop warnings: $(grep -c 'rows dropped' "$dir/log" || true)"
  done
  exit 0
fi

for alg in RS256 ES256; do
  start_vouchd --token-alg "$alg"
  status=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @<(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" "$dir/post.lua") "http://127.0.0.1:$port/v1/attestation")
  [ "$status" = 200 ] || { echo "attestation answered $status"; tail -3 "$dir/log"; exit 1; }
  echo "-- $alg: wrk -t2 -c64 -d20s POST /v1/attestation"
  wrk -t2 -c64 -d20s --latency -s "$dir/post.lua" "http://127.0.0.1:$port/v1/attestation" |
    grep -E 'Requests/sec|Latency  |99%|non-2xx'
  stop_vouchd
  : >"$dir/log"
done
