#!/usr/bin/env bash
# CPU time vouchd spends on one attestation request carrying an expensive
# kata agent policy in init_data_toml (the Rego an anonymous client
# controls): N requests with curl, vouchd's user+system time from
# /proc/PID/stat before and after, divided by N.
#   anonymous: evidence that does not verify (no token, no TEE needed)
#   verified:  a forged quote whose MRCONFIGID binds the init data
#              (tests/tools/dcap_forge), so the agent policy does run
#   usage: bench/initdata.sh BUILD_DIR [N]   (DCAP_FORGE=path if BUILD_DIR has none)
set -euo pipefail
build=$1
n=${2:-20}
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
forge=${DCAP_FORGE:-$(find "$build" -name dcap_forge -type f | head -1)}
# about 200,000 steps of work: under the step limit vouchd once gave it
policy='package agent_policy
import rego.v1
policy_data := {"n": count([s | some i in numbers.range(1, 40000); j := i * 2; j > 3; s := sprintf("%d", [j])])}'
toml=$(printf 'algorithm = "sha384"\nversion = "0.1.0"\n[data]\n"policy.rego" = '"'''"'\n%s\n'"'''"'\n' "$policy")
tick=$(getconf CLK_TCK)
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }

cpu_ms() { awk -v t="$tick" '{ print ($14 + $15) * 1000 / t }' "/proc/$1/stat"; }

run() {   # label evidence-b64url extra-vouchd-args...
  local label=$1 ev=$2
  shift 2
  "$build/src/server/vouchd" --listen 127.0.0.1:0 --db "sqlite:$dir/v.db" \
    --admin-token bench-admin-token-000000 "$@" >"$dir/log" 2>&1 &
  pid=$!
  port=
  for _ in $(seq 100); do
    port=$(sed -n 's/.*msg=listening .*port=\([0-9]*\).*/\1/p' "$dir/log")
    [ -n "$port" ] && break
    sleep 0.1
  done
  jq -n --arg ev "$ev" --arg t "$toml" \
    '{verification_requests: [{tee: "tdx", evidence: $ev, init_data: {init_data_toml: $t}}]}' \
    >"$dir/body.json"
  curl -s -o "$dir/first" -w '%{http_code}' -X POST --data-binary @"$dir/body.json" \
    "http://127.0.0.1:$port/v1/attestation" >"$dir/status"
  local before after
  before=$(cpu_ms $pid)
  for _ in $(seq "$n"); do
    curl -s -o /dev/null -X POST --data-binary @"$dir/body.json" \
      "http://127.0.0.1:$port/v1/attestation"
  done
  after=$(cpu_ms $pid)
  printf '%-10s status %s  %.1f ms CPU per request (%d requests)  %s\n' "$label" \
    "$(cat "$dir/status")" "$(echo "($after - $before) / $n" | bc -l)" "$n" \
    "$(jq -r .detail "$dir/first" 2>/dev/null | cut -c1-70)"
  kill $pid
  wait $pid 2>/dev/null || true
  pid=
  rm -f "$dir/v.db"*
}

run anonymous "$(printf '{"quote":"%s","cc_eventlog":null}' "$(head -c 1024 /dev/zero | base64 -w0)" | b64url)"
if [ -n "$forge" ]; then
  mr=$(printf '%s' "$toml" | sha384sum | cut -d' ' -f1)
  "$forge" --quote "$dir/q.bin" --collateral "$dir/c.json" --root "$dir/root.pem" \
    --mr-config-id "$mr" >/dev/null
  "$build/src/cli/vouch" collateral import --db "sqlite:$dir/v.db" --dcap-root "$dir/root.pem" \
    "$dir/c.json" >/dev/null
  ev=$(printf '{"quote":"%s","cc_eventlog":null}' "$(base64 -w0 "$dir/q.bin")" | b64url)
  run verified "$ev" --dcap-root "$dir/root.pem"
fi
