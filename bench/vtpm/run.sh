#!/usr/bin/env bash
# vTPM service load: PutMessage (an RSA-2048 quote and ENTRIES new IMA
# entries each, verified and stored durably) and DescribeInstance, over
# HTTP on the same machine, against a vouchd on SQLite (or the database URL
# in VOUCH_BENCH_DB).  The requests are prepared and signed first
# (bench/vtpm/load.mjs: enrolment, nonces, quotes, the program whitelist);
# only sending them is timed, by BUILD_DIR/bench/http_replay (C, epoll,
# keep-alive; bench/vtpm/http_replay.c) or by wrk (2 threads,
# bench/vtpm/bodies.lua).  Each series prints the client's summary line,
# vouchd's CPU (user+sys from /proc) per request it served, and the
# client's (CLIENT_cpu_us_per_request: the whole process, from
# /usr/bin/time; http_replay also prints client_cpu_us_per_request, its
# sending part alone).
#   usage: bench/vtpm/run.sh BUILD_DIR [INSTANCES] [REPORTS] [ENTRIES] [DESCRIBE] [WHITELIST]
# VTPM_BENCH_CLIENT: http_replay (default) or wrk; VTPM_BENCH_CLIENT_THREADS:
# http_replay's threads (default 1).
# VOUCHD_ARGS: more vouchd options (e.g. --threads 4); VTPM_BENCH_SECONDS: how
# long the client runs at most (default 120; wrk always takes that long,
# http_replay stops when all is answered and fails past it); VTPM_BENCH_SERIES: the
# series to run (default "putmessage:16 describe:64", name:connections);
# VTPM_BENCH_CALLGRIND=1 with VOUCHD_PREFIX="valgrind --tool=callgrind --instr-atstart=no":
# vouchd's instructions during each series only (wrk's timeout is then 60 s);
# VTPM_BENCH_PERF=FILE: perf record of vouchd during each series into FILE.SERIES
# (VTPM_BENCH_PERF_ARGS: its options, default -g); VTPM_BENCH_FSYNCS=1: vouchd's
# fsync and fdatasync calls per request (perf stat of the syscall tracepoints).
# On PostgreSQL: tests/pg/with-postgres.sh bash -c 'VOUCH_BENCH_DB=$VOUCH_TEST_PG_BASE/postgres
# bash bench/vtpm/run.sh ...' also prints the server's CPU per request.
# Needs node, tests/api's npm packages (cd tests/api && npm ci), and wrk
# when VTPM_BENCH_CLIENT=wrk.
set -euo pipefail
build=$1
shift
client=${VTPM_BENCH_CLIENT:-http_replay}
case $client in
  http_replay) [ -x "$build/bench/http_replay" ] || { echo "no $build/bench/http_replay: build it (ninja -C $build)" >&2; exit 1; } ;;
  wrk) ;;
  *) echo "VTPM_BENCH_CLIENT: http_replay or wrk, not $client" >&2; exit 1 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; [ -n "${VTPM_BENCH_KEEP:-}" ] || rm -rf "$dir"' EXIT
token=bench-admin-token-000000
${VOUCHD_PREFIX:-} "$build/src/server/vouchd" --listen 127.0.0.1:0 --db "${VOUCH_BENCH_DB:-sqlite:$dir/v.db}" \
  --admin-token "$token" ${VOUCHD_ARGS:-} >"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 600); do
  port=$(grep -o 'port=[0-9]*' "$dir/log" | head -1 | cut -d= -f2 || true)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$dir/log"; exit 1; }
echo "prepare: $(date +%T)"
VTPM_BENCH_DIR=$dir node "$here/load.mjs" "http://127.0.0.1:$port" "$token" "$@"
# PutMessage on 16 connections: both clients send an instance's next report
# only after its previous one was answered (http_replay: an instance's
# reports all go on one connection, one request outstanding on each).
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
# PostgreSQL's CPU (the postmaster and its children), when it is the one of
# tests/pg/with-postgres.sh (VOUCH_TEST_PG_DIR) and the bench uses it.
pg_ticks() {
  local pm
  pm=$(head -1 "$VOUCH_TEST_PG_DIR/data/postmaster.pid")
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v pm="$pm" '{ i = index($0, ") ");
    split(substr($0, i + 2), f, " "); if ($1 == pm || f[2] == pm) t += f[12] + f[13] }
    END { print t + 0 }'
}
pg=
[ -n "${VOUCH_BENCH_DB:-}" ] && [ -n "${VOUCH_TEST_PG_DIR:-}" ] && pg=1
hz=$(getconf CLK_TCK)
for spec in ${VTPM_BENCH_SERIES:-putmessage:16 describe:64}; do
  what=${spec%:*} conns=${spec#*:}
  echo "-- $what ($conns connections; load average $(cut -d' ' -f1-3 /proc/loadavg))"
  [ -z "${VTPM_BENCH_CALLGRIND:-}" ] || { callgrind_control --instr=on "$pid" >/dev/null; callgrind_control --zero "$pid" >/dev/null; }
  t0=$(ticks)
  [ -z "$pg" ] || p0=$(pg_ticks)
  echo "start: $(date +%T)"
  if [ -n "${VTPM_BENCH_FSYNCS:-}" ]; then
    perf stat -x, -e ${VTPM_BENCH_SYSCALLS:-syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync} -p "$pid" \
      -o "$dir/fsyncs" &
    fsyncs_pid=$!
  fi
  if [ -n "${VTPM_BENCH_PERF:-}" ]; then
    perf record -q ${VTPM_BENCH_PERF_ARGS:--g} -p "$pid" -o "$VTPM_BENCH_PERF.$what" 2>/dev/null &
    perf_pid=$!
  fi
  if [ "$client" = wrk ]; then
    BODIES=$dir/$what.txt THREADS=2 /usr/bin/time -f '%U %S' -o "$dir/client_cpu" wrk -t2 -c"$conns" -d"${VTPM_BENCH_SECONDS:-120}s" ${VTPM_BENCH_CALLGRIND:+--timeout 60s} -s "$here/bodies.lua" \
      "http://127.0.0.1:$port/" | grep -E '^bodies=' | tee "$dir/out"
  else
    /usr/bin/time -f '%U %S' -o "$dir/client_cpu" "$build/bench/http_replay" -c "$conns" \
      -t "${VTPM_BENCH_CLIENT_THREADS:-1}" --max-seconds "${VTPM_BENCH_SECONDS:-120}" \
      "http://127.0.0.1:$port/" "$dir/$what.txt" | tee "$dir/out"
  fi
  n=$(grep -o 'bodies=[0-9]*' "$dir/out" | cut -d= -f2)
  [ -z "${VTPM_BENCH_CALLGRIND:-}" ] || callgrind_control --dump="$what" "$pid" >/dev/null
  [ -z "${VTPM_BENCH_PERF:-}" ] || { kill -INT "$perf_pid"; wait "$perf_pid" || true; }
  if [ -n "${VTPM_BENCH_FSYNCS:-}" ]; then
    kill -INT "$fsyncs_pid"; wait "$fsyncs_pid" || true
    awk -F, -v n="${n:-1}" '$3 ~ /sys_enter/ { printf "%s_per_request=%.3f\n", $3, $1 / n }' "$dir/fsyncs"
  fi
  echo "vouchd_cpu_us_per_request=$(( ($(ticks) - t0) * 1000000 / hz / ${n:-1} ))"
  [ -z "$pg" ] || echo "postgres_cpu_us_per_request=$(( ($(pg_ticks) - p0) * 1000000 / hz / ${n:-1} ))"
  awk -v n="${n:-1}" -v c="$client" '{ printf "%s_cpu_us_per_request=%.0f\n", c, ($1 + $2) * 1e6 / n }' \
    "$dir/client_cpu"
done
