#!/usr/bin/env bash
# DescribeInstance over HTTP against a store of INSTANCES instances: the
# instances are inserted with one SQL statement (a recursive CTE, the same on
# SQLite and PostgreSQL), REQUESTS signed bodies are prepared
# (bench/vtpm/describe.mjs: uniform over the instances), then the client
# sends each once on CONNS connections: BUILD_DIR/bench/http_replay (C,
# epoll, keep-alive; bench/vtpm/http_replay.c) by default, or wrk (2
# threads; bench/vtpm/describe.lua, or the script WRK_SCRIPT names, e.g.
# bench/vtpm/bodies.lua).  Prints the client's summary line and vouchd's and
# the client's CPU time (user+sys from /proc) per request
# (CLIENT_cpu_us_per_request; http_replay also prints
# client_cpu_us_per_request, its sending part alone).
#   usage: bench/vtpm/describe.sh BUILD_DIR INSTANCES REQUESTS [CONNS] [VOUCHD OPTIONS...]
# VTPM_BENCH_CLIENT: http_replay (default) or wrk; VTPM_BENCH_CLIENT_THREADS:
# http_replay's threads (default 1).  VTPM_BENCH_RATE=R: http_replay paces
# the requests at R a second and counts each latency from when it was due
# (the latency at a given load, not at saturation; http_replay --help).
# VTPM_BENCH_WARMUP=N: N more requests, sent first on the same connections
# (paced as the others) and left out of the summary line, so that the counted
# ones meet vouchd's threads with their SQLite connections open and their
# page caches filled (http_replay --warmup).  The CPU figures per request
# count them too.
# VOUCH_BENCH_DB: a PostgreSQL URL of an empty database instead of SQLite.
# Needs node, sqlite3 or psql, and wrk when VTPM_BENCH_CLIENT=wrk.
set -euo pipefail
build=$1 instances=$2 requests=$3 conns=${4:-64}
shift 3
[ $# -gt 0 ] && shift
here=$(cd "$(dirname "$0")" && pwd)
client=${VTPM_BENCH_CLIENT:-http_replay}
case $client in
  http_replay) [ -x "$build/bench/http_replay" ] || { echo "no $build/bench/http_replay: build it (ninja -C $build)" >&2; exit 1; } ;;
  wrk) [ -z "${VTPM_BENCH_RATE:-}${VTPM_BENCH_WARMUP:-}" ] ||
         { echo "VTPM_BENCH_RATE and VTPM_BENCH_WARMUP need VTPM_BENCH_CLIENT=http_replay" >&2; exit 1; } ;;
  *) echo "VTPM_BENCH_CLIENT: http_replay or wrk, not $client" >&2; exit 1 ;;
esac
dir=$(mktemp -d)
db=${VOUCH_BENCH_DB:-sqlite:$dir/v.db}
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
token=bench-admin-token-000000
# CALLGRIND_OUT=FILE: run vouchd under callgrind, counting only while the
# client runs (the instructions of every thread, per request: bench/RESULTS.md).
wrap=()
[ -n "${CALLGRIND_OUT:-}" ] &&
  wrap=(valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$CALLGRIND_OUT")
"${wrap[@]}" "$build/src/server/vouchd" --listen 127.0.0.1:0 --db "$db" --admin-token "$token" \
  "$@" >"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 600); do
  port=$(grep -o 'port=[0-9]*' "$dir/log" | head -1 | cut -d= -f2 || true)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$dir/log"; exit 1; }
warmup=${VTPM_BENCH_WARMUP:-0}
# One account, a key per 50,000 requests (a key holds 100,000 live nonces).
nkeys=$(( (requests + warmup + 49999) / 50000 ))
echo -n '[' >"$dir/keys.json"
for i in $(seq "$nkeys"); do
  [ "$i" -gt 1 ] && echo -n ',' >>"$dir/keys.json"
  curl -sf -X POST -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d '{"account":"bench"}' "http://127.0.0.1:$port/admin/accesskeys" |
    node -e 'let t="";process.stdin.on("data",d=>t+=d).on("end",()=>{const k=JSON.parse(t);
      process.stdout.write(JSON.stringify({id:k.AccessKeyId,secret:k.AccessKeySecret}))})' \
    >>"$dir/keys.json"
done
echo ']' >>"$dir/keys.json"
# Every instance reported a moment ago (online, trusted): the steady state.
now_ms=$(date +%s%3N)
fill="INSERT INTO vtpm_instances (uuid, account, instance_id, instance_type, name, private_ip,
  public_ip, extensions, affiliation, system_status, system_whitelist_id, system_exceptions,
  system_detail, program_status, program_whitelist_id, program_exceptions, program_detail,
  program_whitelist_name, created_ms, modified_ms, recent_report_ms)
  WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $instances)
  SELECT 'bench-' || i, 'bench', 'i-' || i, 'ecs.g7t.large', 'instance ' || i, '10.0.0.7',
    '203.0.113.9', '{}', 1, 1, 1, 0, '{}', 4, -1, 0, '{}', '', $now_ms, $now_ms, $now_ms FROM c"
t0=$(date +%s.%N)
if [[ $db == sqlite:* ]]; then
  sqlite3 "${db#sqlite:}" "PRAGMA busy_timeout=10000; $fill; ANALYZE;" >/dev/null
else
  psql -q -v ON_ERROR_STOP=1 -d "$db" -c "$fill" -c "ANALYZE vtpm_instances"
fi
t1=$(date +%s.%N)
node "$here/describe.mjs" "$dir/keys.json" "$instances" "$((requests + warmup))" >"$dir/describe.txt"
echo "-- $instances instances inserted in $(echo "$t1 - $t0" | bc) s; $requests DescribeInstance, $conns connections${VTPM_BENCH_RATE:+, paced at $VTPM_BENCH_RATE/s}, load average $(cut -d' ' -f1-3 /proc/loadavg)"
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
c0=$(ticks)
[ -n "${CALLGRIND_OUT:-}" ] && callgrind_control -i on "$pid" >/dev/null 2>&1
# PERF_OUT=FILE: also record vouchd's call graphs while the client runs (perf record -g).
if [ -n "${PERF_OUT:-}" ]; then
  perf record -q ${PERF_ARGS:--g} -p "$pid" -o "$PERF_OUT" 2>/dev/null &
  perf_pid=$!
fi
if [ "$client" = wrk ]; then
  # wrk waits out -d even when its threads are done: describe.lua appends a
  # line to $DONE per finished thread, then wrk is interrupted (it prints as usual).
  : >"$dir/done"
  BODIES=$dir/describe.txt THREADS=2 DONE=$dir/done wrk -t2 -c"$conns" -d300s --timeout 60s \
    -s "${WRK_SCRIPT:-$here/describe.lua}" "http://127.0.0.1:$port/" >"$dir/wrk.out" &
  wrk_pid=$!
  while kill -0 "$wrk_pid" 2>/dev/null && [ "$(wc -l <"$dir/done")" -lt 2 ]; do sleep 0.05; done
  # wrk's CPU time so far (its finished threads' included), when it is still there
  client_ticks=$(awk '{print $14 + $15}' "/proc/$wrk_pid/stat" 2>/dev/null || true)
  kill -INT "$wrk_pid" 2>/dev/null || true
  wait "$wrk_pid" || true
  grep -E '^bodies=' "$dir/wrk.out"
else
  /usr/bin/time -f '%U %S' -o "$dir/client_cpu" "$build/bench/http_replay" -c "$conns" \
    -t "${VTPM_BENCH_CLIENT_THREADS:-1}" --max-seconds 300 \
    ${VTPM_BENCH_RATE:+--rate "$VTPM_BENCH_RATE"} --warmup "$warmup" \
    "http://127.0.0.1:$port/" "$dir/describe.txt"
  client_ticks=$(awk -v hz="$(getconf CLK_TCK)" '{ print ($1 + $2) * hz }' "$dir/client_cpu")
fi
c1=$(ticks)
if [ -n "${CALLGRIND_OUT:-}" ]; then
  callgrind_control -i off "$pid" >/dev/null 2>&1
  kill "$pid"; wait "$pid" || true         # callgrind writes its file at exit
  awk -v n="$((requests + warmup))" '/^totals:/ { printf "vouchd_instructions_per_request=%.0f\n", $2 / n }' \
    "$CALLGRIND_OUT"
fi
if [ -n "${PERF_OUT:-}" ]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; fi
awk -v c0="$c0" -v c1="$c1" -v hz="$(getconf CLK_TCK)" -v n="$((requests + warmup))" \
  'BEGIN { printf "vouchd_cpu_us_per_request=%.1f\n", (c1 - c0) / hz * 1e6 / n }'
[ -n "$client_ticks" ] && awk -v t="$client_ticks" -v hz="$(getconf CLK_TCK)" -v n="$((requests + warmup))" \
  -v c="$client" 'BEGIN { printf "%s_cpu_us_per_request=%.1f\n", c, t / hz * 1e6 / n }'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
