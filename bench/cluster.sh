#!/usr/bin/env bash
# POST /v1/attestation and vTPM reports through nginx in front of 1, 2 and
# 3 vouchd replicas on one throwaway PostgreSQL cluster, against one vouchd
# on SQLite, with the CPU time per request of vouchd (all replicas),
# PostgreSQL (the postmaster and its children) and nginx, from /proc.
#  - attestation: wrk -t2 -c64 -d15s with the real TDX quote of
#    bench/attest.sh (ES256 tokens);
#  - vtpm: bench/vtpm_load.mjs, 16 software-TPM instances (RSA-2048 AK,
#    5 new IMA entries a report) each looping GenerateNonce + PutMessage
#    for 15 s through @alicloud/pop-core; a "request" is one report (both calls).
#   usage: bench/cluster.sh BUILD_DIR   (makes its own throwaway cluster)
#   CLUSTER_BENCH=attestation|vtpm runs one of the two (default both).
set -euo pipefail
build=$1
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${VOUCH_TEST_PG_BASE:-}" ]; then
  exec "$root/tests/pg/with-postgres.sh" "$0" "$@"
fi
dir=$(mktemp -d)
pids=()
ngx=
cleanup() {
  [ -n "$ngx" ] && kill "$ngx" 2>/dev/null
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
chmod 755 "$dir"
q=$root/tests/vectors/dcap/dcap-qvl/sample/tdx_quote
c=$root/tests/vectors/dcap/dcap-qvl/sample/tdx_quote_collateral.json
ev=$(printf '{"quote":"%s","cc_eventlog":null}' "$(base64 -w0 "$q")" | base64 -w0 | tr '+/' '-_' | tr -d '=')
cat >"$dir/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"tee":"tdx","evidence":"$ev","policy_ids":[]}'
LUA
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo $t; }
pg_pids() {
  local pm
  pm=$(head -1 "$VOUCH_TEST_PG_DIR/data/postmaster.pid")
  echo "$pm" $(pgrep -P "$pm")
}
start_vouchd() {   # DB LOG -> pid; port in LOG
  # Behind nginx every connection comes from one address: lift the per-address cap.
  # $TIME_ARGS: the attestation run pins the clock to the TDX collateral's validity.
  "$build/src/server/vouchd" --listen 127.0.0.1:0 --db "$1" --token-alg ES256 \
    --max-connections-per-ip 1024 $TIME_ARGS \
    --admin-token bench-admin-token-000000 >"$2" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do grep -q 'port=[0-9]' "$2" && return; sleep 0.1; done
  cat "$2"; exit 1
}
port_of() { grep -o 'port=[0-9]*' "$1" | head -1 | cut -d= -f2; }
load() {   # URL -> wrk's output, or the load generator's in the same shape
  if [ "$KIND" = attestation ]; then
    wrk -t2 -c64 -d15s -s "$dir/post.lua" "$1/v1/attestation"
  else
    VOUCHD="$build/src/server/vouchd" VOUCH="$build/src/cli/vouch" \
      node "$root/bench/vtpm_load.mjs" "$1" bench-admin-token-000000 16 15
  fi
}
measure() {   # LABEL URL PIDS...
  local label=$1 url=$2 out v0 v1 p0 p1 n0 n1 hz
  shift 2
  hz=$(getconf CLK_TCK)
  v0=$(ticks "$@"); p0=$(ticks $PG); n0=$(ticks $NGX)
  out=$(load "$url")
  v1=$(ticks "$@"); p1=$(ticks $PG); n1=$(ticks $NGX)
  awk -v l="$label" -v v=$((v1 - v0)) -v p=$((p1 - p0)) -v x=$((n1 - n0)) -v hz="$hz" '
    /requests in/ { n = $1 } /Requests\/sec/ { rps = $2 } /Non-2xx/ { bad = $NF }
    END { printf "%-22s %8s req/s  CPU us/request: vouchd %6.0f  postgres %5.0f  nginx %4.0f  total %6.0f%s\n",
          l, rps, v / hz * 1e6 / n, p / hz * 1e6 / n, x / hz * 1e6 / n, (v + p + x) / hz * 1e6 / n,
          bad ? "  NON-2XX " bad : "" }' <<<"$out"
}

series() {   # KIND: SQLite direct, then PostgreSQL with 1, 2 and 3 replicas via nginx
KIND=$1
TIME_ARGS=
[ "$KIND" = attestation ] && TIME_ARGS="--fixed-time 2025-07-19T10:00:34Z"
echo "-- $KIND"
# SQLite, one vouchd, no nginx.
"$build/src/cli/vouch" collateral import --db "sqlite:$dir/$KIND.db" "$c" >/dev/null
start_vouchd "sqlite:$dir/$KIND.db" "$dir/sqlite.log"
PG= NGX=
measure "sqlite, direct" "http://127.0.0.1:$(port_of "$dir/sqlite.log")" "${pids[0]}"
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true; pids=()

psql -q -d "$VOUCH_TEST_PG_BASE/postgres" -c "CREATE DATABASE vouch_bench_$KIND"
db="$VOUCH_TEST_PG_BASE/vouch_bench_$KIND"
"$build/src/cli/vouch" collateral import --db "$db" "$c" >/dev/null
PG=$(pg_pids)
for n in 1 2 3; do
  start_vouchd "$db" "$dir/r$n.log"
  ups=
  for i in $(seq "$n"); do ups+="    server 127.0.0.1:$(port_of "$dir/r$i.log");"$'\n'; done
  lport=$(free_port)
  mkdir -p "$dir/ngx$n"
  cat >"$dir/ngx$n/nginx.conf" <<NGINX
$( [ "$(id -u)" = 0 ] && echo 'user root;' )
worker_processes 1;
daemon off;
pid $dir/ngx$n/nginx.pid;
error_log $dir/ngx$n/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/ngx$n/body;
  proxy_temp_path $dir/ngx$n/proxy;
  upstream vouch {
$ups    keepalive 32;
  }
  server {
    listen 127.0.0.1:$lport;
    location / { proxy_pass http://vouch; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
NGINX
  nginx -p "$dir/ngx$n" -c "$dir/ngx$n/nginx.conf" -e "$dir/ngx$n/error.log" &
  ngx=$!
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$lport/healthz" && break; sleep 0.1; done
  NGX="$ngx $(pgrep -P "$ngx" | tr '\n' ' ')"
  PG=$(pg_pids)
  measure "postgres, $n via nginx" "http://127.0.0.1:$lport" "${pids[@]}"
  grep -h '\[error\]' "$dir/ngx$n/error.log" | sed 's/^.*\[error\] [0-9#]*: [*0-9]* /   nginx: /' | cut -c1-100 | sort | uniq -c | head -3 || true
  grep -h 'status=[45]' "$dir"/r*.log 2>/dev/null | head -3 || true
  kill -QUIT "$ngx"; wait "$ngx" 2>/dev/null || true; ngx=
done
for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done
pids=()
}

for kind in ${CLUSTER_BENCH:-attestation vtpm}; do series "$kind"; done
