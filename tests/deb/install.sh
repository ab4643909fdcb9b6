#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# make deb end to end: build the packages with dpkg-buildpackage, install
# them with apt-get on this machine, start the installed vouchd as its unit
# would (with systemd when it runs here, else the binary with the unit's
# environment), check /healthz, and remove the packages again, even on
# failure.  Needs root (or sudo).  Usage: install.sh SOURCE_ROOT
set -u
root=$(cd "$1" && pwd)
dir=$(mktemp -d)
vp=""
sudo=""
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; sed 's/^/#   /' "$2" 2>/dev/null | tail -30; }
cleanup() {
    [ -n "$vp" ] && kill "$vp" 2>/dev/null
    $sudo apt-get purge -y -qq vouchd vouch >/dev/null 2>&1
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

if [ "$(id -u)" -ne 0 ]; then
    if sudo -n true 2>/dev/null; then sudo="sudo -n"; else echo "1..0 # SKIP needs root or sudo"; exit 0; fi
fi
if dpkg-query -W -f='${Status}' vouchd 2>/dev/null | grep -q "install ok"; then
    echo "1..0 # SKIP a vouchd package is already installed here; not touching it"
    exit 0
fi
echo "1..6"
if "$root/scripts/build-deb" >"$dir/build.out" 2>&1; then ok "make deb builds vouchd and vouch"
else not_ok "make deb builds vouchd and vouch" "$dir/build.out"; exit 1; fi

debs=$(ls "$root"/build/deb/vouchd_*.deb "$root"/build/deb/vouch_*.deb)
if $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $debs >"$dir/apt.out" 2>&1 &&
   [ -x /usr/bin/vouchd ] && [ -x /usr/bin/vouch ] && [ -f /lib/systemd/system/vouchd.service ]; then
    ok "apt-get install ./vouchd_*.deb ./vouch_*.deb"
else
    not_ok "apt-get install ./vouchd_*.deb ./vouch_*.deb" "$dir/apt.out"; exit 1
fi

if /usr/bin/vouch --help 2>&1 | grep -q "^ *audit "; then ok "the installed vouch runs"
else /usr/bin/vouch --help >"$dir/cli.out" 2>&1; not_ok "the installed vouch runs" "$dir/cli.out"; fi

if systemd-analyze verify /lib/systemd/system/vouchd.service >"$dir/verify.out" 2>&1; then
    ok "systemd-analyze verify of the installed unit"
else
    not_ok "systemd-analyze verify of the installed unit" "$dir/verify.out"
fi

# Start it as the unit does: its environment file, its store variable, no flags.
if [ -d /run/systemd/system ]; then
    $sudo systemctl start vouchd && sleep 2
    port=8080
    echo "# started with systemctl"
else
    ( set -a; . /etc/default/vouchd; set +a
      VOUCH_DB="sqlite:$dir/vouch.db" VOUCH_LISTEN=127.0.0.1:0 \
      VOUCH_ADMIN_TOKEN=test-admin-token-0123456789 exec /usr/bin/vouchd $VOUCHD_OPTS ) \
        2>"$dir/vouchd.log" &
    vp=$!
    for _ in $(seq 300); do grep -q listening "$dir/vouchd.log" && break; sleep 0.1; done
    port=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' "$dir/vouchd.log" | head -1)
    echo "# no systemd here: started /usr/bin/vouchd with the unit's environment"
fi
if curl -fsS "http://127.0.0.1:${port:-0}/healthz" >"$dir/health.out" 2>&1; then
    ok "the installed vouchd answers /healthz"
else
    cat "$dir/vouchd.log" >>"$dir/health.out" 2>/dev/null
    not_ok "the installed vouchd answers /healthz" "$dir/health.out"
fi
if [ -n "$vp" ]; then
    kill -TERM "$vp"; wait "$vp"; rc=$?; vp=""
else
    $sudo systemctl stop vouchd; rc=$?
fi
if [ "$rc" -eq 0 ]; then ok "it stops cleanly"; else echo "rc $rc" >"$dir/stop.out"; not_ok "it stops cleanly" "$dir/stop.out"; fi
[ "$fails" -eq 0 ]
