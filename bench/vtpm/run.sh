#!/usr/bin/env bash
# vTPM service load: PutMessage (an RSA-2048 quote and ENTRIES new IMA
# entries each, verified and stored durably) and DescribeInstance, over
# HTTP with wrk (2 threads) on the same machine, against a
# vouchd on SQLite (or the database URL in VOUCH_BENCH_DB).  The requests
# are prepared and signed first (bench/vtpm/load.mjs: enrolment, nonces,
# quotes, the program whitelist); only sending them is timed.  Each series
# also prints vouchd's CPU (user+sys from /proc) per request it served.
#   usage: bench/vtpm/run.sh BUILD_DIR [INSTANCES] [REPORTS] [ENTRIES] [DESCRIBE] [WHITELIST]
# VOUCHD_ARGS: more vouchd options (e.g. --threads 4); VTPM_BENCH_SECONDS: how
# long wrk runs at most (default 120; it always takes that long); VTPM_BENCH_SERIES: the
# series to run (default "putmessage:16 describe:64", name:connections);
# VTPM_BENCH_CALLGRIND=1 with VOUCHD_PREFIX="valgrind --tool=callgrind --instr-atstart=no":
# vouchd's instructions during each series only (wrk's timeout is then 60 s);
# VTPM_BENCH_PERF=FILE: perf record of vouchd during each series into FILE.SERIES
# (VTPM_BENCH_PERF_ARGS: its options, default -g); VTPM_BENCH_FSYNCS=1: vouchd's
# fsync and fdatasync calls per request (perf stat of the syscall tracepoints).
# On PostgreSQL: tests/pg/with-postgres.sh bash -c 'VOUCH_BENCH_DB=$VOUCH_TEST_PG_BASE/postgres
# bash bench/vtpm/run.sh ...' also prints the server's CPU per request.
# Needs node, wrk and tests/api's npm packages (cd tests/api && npm ci).
set -euo pipefail
build=$1
shift
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
# PutMessage on 16 connections: bodies.lua sends an instance's next report
# only after its previous one was answered.
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
  BODIES=$dir/$what.txt THREADS=2 /usr/bin/time -f '%U %S' -o "$dir/wrk_cpu" wrk -t2 -c"$conns" -d"${VTPM_BENCH_SECONDS:-120}s" ${VTPM_BENCH_CALLGRIND:+--timeout 60s} -s "$here/bodies.lua" \
    "http://127.0.0.1:$port/" | grep -E '^bodies=' | tee "$dir/out"
  n=$(grep -o 'bodies=[0-9]*' "$dir/out" | cut -d= -f2)
  [ -z "${VTPM_BENCH_CALLGRIND:-}" ] || callgrind_control --dump="$what" "$pid" >/dev/null
  [ -z "${VTPM_BENCH_PERF:-}" ] || { kill -INT "$perf_pid"; wait "$perf_pid" || true; }
  if [ -n "${VTPM_BENCH_FSYNCS:-}" ]; then
    kill -INT "$fsyncs_pid"; wait "$fsyncs_pid" || true
    awk -F, -v n="${n:-1}" '$3 ~ /sys_enter/ { printf "%s_per_request=%.3f\n", $3, $1 / n }' "$dir/fsyncs"
  fi
  echo "vouchd_cpu_us_per_request=$(( ($(ticks) - t0) * 1000000 / hz / ${n:-1} ))"
  [ -z "$pg" ] || echo "postgres_cpu_us_per_request=$(( ($(pg_ticks) - p0) * 1000000 / hz / ${n:-1} ))"
  awk -v n="${n:-1}" '{ printf "wrk_cpu_us_per_request=%.0f\n", ($1 + $2) * 1e6 / n }' "$dir/wrk_cpu"
done
