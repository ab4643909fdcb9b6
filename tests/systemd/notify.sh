#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# vouchd speaks the systemd notification protocol (contrib/vouchd.service,
# Type=notify): READY=1 once it serves, WATCHDOG=1 at half of WatchdogSec,
# STOPPING=1 on SIGTERM; with no NOTIFY_SOCKET it sends nothing.  A python
# listener stands in for systemd, on a path socket and on an abstract one.
# Usage: notify.sh VOUCHD
set -u
VOUCHD=$1
dir=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$dir"; }
trap cleanup EXIT INT TERM
here=$(dirname "$0")
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; sed 's/^/#   /' "$2" 2>/dev/null; }

# run_one NAME SOCKET: vouchd under a fake manager with a 400 ms watchdog
run_one() {
    name=$1 sock=$2 out="$dir/$1.out"
    python3 "$here/notify_listen.py" "$sock" 60 >"$out" &
    lp=$!; pids="$pids $lp"
    for _ in $(seq 50); do grep -q bound "$out" 2>/dev/null && break; sleep 0.1; done
    NOTIFY_SOCKET=$sock WATCHDOG_USEC=400000 "$VOUCHD" --listen 127.0.0.1:0 \
        --db "sqlite:$dir/$name.db" --admin-token test-admin-token-0123456789 \
        2>"$dir/$name.log" &
    vp=$!; pids="$pids $vp"
    for _ in $(seq 300); do grep -q READY=1 "$out" && break; sleep 0.1; done
    if grep -q 'READY=1' "$out" && grep -q 'listening' "$dir/$name.log"; then
        ok "$name: READY=1 after the listener is up"
    else
        not_ok "$name: READY=1 after the listener is up" "$dir/$name.log"
    fi
    sleep 2
    pings=$(grep -c 'WATCHDOG=1' "$out")
    if [ "$pings" -ge 3 ]; then ok "$name: WATCHDOG=1 every 200 ms ($pings in 2 s)"
    else not_ok "$name: WATCHDOG=1 every 200 ms (got $pings)" "$out"; fi
    kill -TERM "$vp"; wait "$vp"; rc=$?
    for _ in $(seq 50); do grep -q STOPPING=1 "$out" && break; sleep 0.1; done
    if [ "$rc" -eq 0 ] && grep -q 'STOPPING=1' "$out"; then ok "$name: STOPPING=1 and exit 0 on SIGTERM"
    else not_ok "$name: STOPPING=1 and exit 0 on SIGTERM (rc $rc)" "$out"; fi
    kill "$lp" 2>/dev/null; wait "$lp" 2>/dev/null
}

echo "1..8"
run_one path "$dir/notify.sock"
run_one abstract "@vouch-test-$$"

# Without NOTIFY_SOCKET: runs and stops as usual (nothing to tell).
"$VOUCHD" --listen 127.0.0.1:0 --db "sqlite:$dir/plain.db" \
    --admin-token test-admin-token-0123456789 2>"$dir/plain.log" &
vp=$!; pids="$pids $vp"
for _ in $(seq 300); do grep -q listening "$dir/plain.log" && break; sleep 0.1; done
kill -TERM "$vp"; wait "$vp"; rc=$?
if [ "$rc" -eq 0 ]; then ok "no NOTIFY_SOCKET: serves and stops cleanly"
else not_ok "no NOTIFY_SOCKET: serves and stops cleanly (rc $rc)" "$dir/plain.log"; fi

# The unit file: what issue 20 asks of it, and systemd's own check when present.
unit="$here/../../contrib/vouchd.service"
missing=""
for k in 'Type=notify' 'WatchdogSec=' 'DynamicUser=yes' 'StateDirectory=vouch' \
         'ProtectSystem=strict' 'NoNewPrivileges=yes' 'SystemCallFilter=@system-service' \
         'PrivateTmp=yes' 'MemoryDenyWriteExecute=yes' 'ExecReload='; do
    grep -q "^$k" "$unit" || missing="$missing $k"
done
if command -v systemd-analyze >/dev/null 2>&1; then
    # the unit as installed, but with this build's binary in ExecStart
    sed "s|/usr/bin/vouchd|$(readlink -f "$VOUCHD")|" "$unit" >"$dir/vouchd.service"
    systemd-analyze verify "$dir/vouchd.service" >"$dir/verify.out" 2>&1 ||
        missing="$missing (systemd-analyze verify: $(tr '\n' ' ' <"$dir/verify.out"))"
fi
if [ -z "$missing" ]; then ok "contrib/vouchd.service: notify, watchdog, hardening"
else echo "#$missing" >"$dir/unit.out"; not_ok "contrib/vouchd.service: notify, watchdog, hardening" "$dir/unit.out"; fi
[ "$fails" -eq 0 ]
