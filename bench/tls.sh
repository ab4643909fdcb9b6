#!/usr/bin/env bash
# HTTPS against HTTP: vouchd's CPU time per GET /healthz on kept-alive
# connections, and with a new connection per request (Connection: close,
# so every HTTPS request pays a full handshake); wrk -t2 -c64 -d10s and
# -t2 -c16 -d10s.  The certificate is an ECDSA P-256 leaf from a CA made here.
#   usage: bench/tls.sh BUILD_DIR
set -euo pipefail
build=$1
dir=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$dir"' EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/ca.key" \
  -out "$dir/ca.pem" -days 1 -subj /CN=bench-ca 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/tls.key" \
  -out "$dir/tls.csr" -subj /CN=127.0.0.1 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$dir/ext"
openssl x509 -req -in "$dir/tls.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
  -out "$dir/tls.pem" -days 1 -extfile "$dir/ext" 2>/dev/null
chmod 600 "$dir/tls.key"

# start NAME [OPTIONS...]: a vouchd; sets $pid and $port
start() {
  local name=$1
  shift
  "$build/src/server/vouchd" --listen 127.0.0.1:0 --db "sqlite:$dir/$name.db" \
    --admin-token bench-admin-token-000000 "$@" >"$dir/$name.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  port=
  for _ in $(seq 100); do
    port=$(grep -o 'port=[0-9]*' "$dir/$name.log" | head -1 | cut -d= -f2 || true)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$dir/$name.log"; exit 1; }
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
per_request() {   # LABEL PID URL [WRK OPTIONS...]
  local label=$1 p=$2 url=$3 t0 t1 out
  shift 3
  t0=$(ticks "$p")
  out=$(wrk -t2 -d10s "$@" "$url/healthz")
  t1=$(ticks "$p")
  awk -v t0="$t0" -v t1="$t1" -v hz="$(getconf CLK_TCK)" -v label="$label" '
    /requests in/ { n = $1 }
    /Requests\/sec/ { rps = $2 }
    END { printf "-- %s: %s req/s, %.1f us of vouchd CPU per request\n",
          label, rps, (t1 - t0) / hz * 1e6 / n }' <<<"$out"
}

start plain
per_request "HTTP, kept alive" "$pid" "http://127.0.0.1:$port" -c64
per_request "HTTP, a connection per request" "$pid" "http://127.0.0.1:$port" -c16 -H 'Connection: close'
start tls --tls-cert "$dir/tls.pem" --tls-key "$dir/tls.key"
per_request "HTTPS, kept alive" "$pid" "https://127.0.0.1:$port" -c64
per_request "HTTPS, a connection per request" "$pid" "https://127.0.0.1:$port" -c16 -H 'Connection: close'
