#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# contrib/vouch-agent.service: its hardening lines are there, and systemd
# accepts the unit (systemd-analyze verify, with ExecStart on the built
# binary).  TAP.  Usage: unit.sh SOURCE_ROOT VOUCH_AGENT
set -u
unit="$1/contrib/vouch-agent.service"
agent=$(readlink -f "$2")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "1..2"
missing=""
for k in 'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' \
         'CapabilityBoundingSet=$' 'DevicePolicy=closed' 'DeviceAllow=/dev/tpmrm0 rw' \
         'SupplementaryGroups=tss' 'StateDirectory=vouch-agent' 'StateDirectoryMode=0700' \
         'MemoryDenyWriteExecute=yes' 'RestrictAddressFamilies=' 'SystemCallFilter=@system-service' \
         'ProtectKernelTunables=yes' 'ProtectKernelModules=yes' 'UMask=0077' 'Restart=on-failure'; do
    grep -q "^$k" "$unit" || missing="$missing '$k'"
done
if [ -z "$missing" ]; then echo "ok 1 - contrib/vouch-agent.service: hardening lines"
else echo "not ok 1 - contrib/vouch-agent.service: hardening lines"; echo "# missing:$missing"; fi
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "ok 2 - systemd-analyze verify # SKIP no systemd-analyze"
    exit 0
fi
sed "s|/usr/bin/vouch-agent|$agent|" "$unit" >"$dir/vouch-agent.service"
if systemd-analyze verify "$dir/vouch-agent.service" >"$dir/verify.out" 2>&1; then
    echo "ok 2 - systemd-analyze verify"
else
    echo "not ok 2 - systemd-analyze verify"
    sed 's/^/# /' "$dir/verify.out"
fi
