#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# TAP test of `vouch inspect ima` and `vouch inspect tpmquote` on real
# vectors (tests/vectors/tpm/) and on inputs they must refuse cleanly.
# Usage: inspect_tpm.sh VOUCH_BINARY   (run from the source root)
set -u
VOUCH=$1
E=tests/vectors/tpm/embrave
. tests/cli/tap.sh

ok "the embrave IMA log replays" 0 "$VOUCH" inspect ima $E/binary_runtime_measurements
out_text "its 922 entries" "entries: 922"
ok "\"-\" reads the log from stdin" 0 sh -c '"$1" inspect ima - <"$2"' sh "$VOUCH" \
    $E/binary_runtime_measurements
out_text "the same log" "entries: 922"

echo "1..$N"
exit $FAILED
