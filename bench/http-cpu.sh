#!/usr/bin/env bash
# vouchd's CPU time per GET /healthz under wrk (-t2 -c64 -d10s): steadier
# than requests/s on a shared machine, where other load takes the cores.
#   usage: bench/http-cpu.sh BUILD_DIR [VOUCHD OPTIONS...]
set -euo pipefail
build=$1
shift
dir=$(mktemp -d)
"$build/src/server/vouchd" --listen 127.0.0.1:0 --db "sqlite:$dir/v.db" \
  --admin-token bench-admin-token-000000 "$@" >"$dir/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
  port=$(grep -o 'port=[0-9]*' "$dir/log" | head -1 | cut -d= -f2 || true)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$dir/log"; exit 1; }
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
t0=$(ticks)
out=$(wrk -t2 -c64 -d10s "http://127.0.0.1:$port/healthz")
t1=$(ticks)
awk -v t0="$t0" -v t1="$t1" -v hz="$(getconf CLK_TCK)" '
  /requests in/ { n = $1 }
  /Requests\/sec/ { rps = $2 }
  END { printf "-- GET /healthz: %s req/s, %.1f us of vouchd CPU per request\n",
        rps, (t1 - t0) / hz * 1e6 / n }' <<<"$out"
