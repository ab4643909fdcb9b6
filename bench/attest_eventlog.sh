#!/usr/bin/env bash
# POST /v1/attestation over HTTP with and without a TDX event log: vouchd's
# CPU time per request (user + sys from /proc/PID/stat over the requests
# wrk made, as bench/http-cpu.sh does: steadier than requests/s on a shared
# machine) and requests/s.  For each log a forged quote (dcap_forge) carries
# the RTMRs of the log's real quote, so the log replays and the request
# succeeds; default policy, flat token (RS256 unless ALG=ES256), wrk -t2 -c16
# for SECS seconds per run, runs alternating without / with / without / with.
# Then the same two bodies once each to a path vouchd does not serve: it reads
# the whole body and answers 404, so the difference between those two lines is
# what the extra bytes cost to receive, before any parsing (the transport's
# share of the difference above).
#   usage: [ALG=ES256] [SECS=8] bench/attest_eventlog.sh BUILD_DIR
set -euo pipefail
build=$1
alg=${ALG:-RS256}
secs=${SECS:-8}
root=$(cd "$(dirname "$0")/.." && pwd)
V=$root/tests/vectors/tdx-eventlog
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
now=1764669600   # 2025-12-02T10:00:00Z

# name, log file, bytes of it to send (0: all), the real quote whose RTMRs it
# replays to ("-": none does; the forged quote carries the log's own replay,
# as `vouch inspect quote --eventlog --json` prints it)
cases="dstack-json:dstack/event_log.json:0:dstack/quote.bin
ccel-ovmf-64k:trustee/CCEL_data_ovmf:0:-
ccel-gcp-trimmed:go-tdx-guest/ccel_data.dat:18432:go-tdx-guest/cos-113-tdx-quote.dat
ccel-gcp-256k:go-tdx-guest/ccel_data.dat:0:go-tdx-guest/cos-113-tdx-quote.dat"

body() {   # body QUOTE [LOG BYTES] > file: {"tee":"tdx","evidence":base64url({"quote","cc_eventlog"})}
  local q log=null
  q=$(base64 -w0 "$1")
  if [ $# -gt 1 ]; then
    if [ "$3" -gt 0 ]; then log=\"$(head -c "$3" "$2" | base64 -w0)\"; else log=\"$(base64 -w0 "$2")\"; fi
  fi
  printf '{"tee":"tdx","evidence":"%s"}' \
    "$(printf '{"quote":"%s","cc_eventlog":%s}' "$q" "$log" | base64 -w0 | tr '+/' '-_' | tr -d '=')"
}

lua() {   # lua BODYFILE > script
  printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
  printf 'local f = io.open("%s"); wrk.body = f:read("*a"); f:close()\n' "$1"
}

ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

run() {   # run LABEL BODYFILE [PATH]: one wrk run, vouchd CPU per request
  local t0 t1 out path=${3:-/v1/attestation}
  lua "$2" >"$dir/post.lua"
  t0=$(ticks)
  out=$(wrk -t2 -c16 -d"${secs}s" -s "$dir/post.lua" "http://127.0.0.1:$port$path")
  t1=$(ticks)
  [ -z "${3:-}" ] && grep -q 'Non-2xx' <<<"$out" &&
    { echo "$1: non-2xx answers"; tail -3 "$dir/log"; exit 1; }
  awk -v l="$1" -v t0="$t0" -v t1="$t1" -v hz="$(getconf CLK_TCK)" '
    /requests in/ { n = $1 }
    /Requests\/sec/ { rps = $2 }
    END { printf "%-26s %8s req/s  %7.1f us vouchd CPU/request\n", l, rps,
          (t1 - t0) / hz * 1e6 / n }' <<<"$out"
}

forge=$(find "$build" -name dcap_forge -type f -perm -u+x | head -1)
echo "-- $alg, wrk -t2 -c16 -d${secs}s per run; load: $(cut -d' ' -f1-3 /proc/loadavg)"
while IFS=: read -r name log bytes quote; do
  if [ "$quote" = - ]; then
    rtmrs=$("$build/src/cli/vouch" inspect quote "$V/dstack/quote.bin" --eventlog "$V/$log" --json 2>/dev/null |
      node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")).claims.eventlog_replay;
        process.stdout.write([0, 1, 2, 3].map((i) => r["rtmr" + i].replayed).join(""))' || true)
    [ ${#rtmrs} -eq 384 ] || { echo "$name: no replay of $log"; exit 1; }
  else
    rtmrs=$(xxd -p -s 376 -l 192 "$V/$quote" | tr -d '\n')
  fi
  "$forge" --quote "$dir/q.bin" --collateral "$dir/c.json" --root "$dir/root.pem" \
    --rtmrs "$rtmrs" --now "$now" >/dev/null
  rm -f "$dir/v.db"*
  "$build/src/cli/vouch" collateral import --db "sqlite:$dir/v.db" --dcap-root "$dir/root.pem" \
    "$dir/c.json" >/dev/null
  body "$dir/q.bin" >"$dir/without.json"
  body "$dir/q.bin" "$V/$log" "$bytes" >"$dir/with.json"
  "$build/src/server/vouchd" --listen 127.0.0.1:0 --db "sqlite:$dir/v.db" --token-alg "$alg" \
    --dcap-root "$dir/root.pem" --fixed-time 2025-12-02T10:00:00Z \
    --admin-token bench-admin-token-000000 >"$dir/log" 2>&1 &
  pid=$!
  port=
  for _ in $(seq 100); do
    port=$(grep -o 'port=[0-9]*' "$dir/log" | head -1 | cut -d= -f2 || true)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$dir/log"; exit 1; }
  echo "-- $name ($(stat -c %s "$dir/with.json") B body with the log, $(stat -c %s "$dir/without.json") B without)"
  for i in 1 2; do
    run "without log #$i" "$dir/without.json"
    run "with $name #$i" "$dir/with.json"
  done
  run "body only, without" "$dir/without.json" /not-served
  run "body only, with" "$dir/with.json" /not-served
  kill $pid; wait $pid 2>/dev/null || true
  pid=
done <<<"$cases"
