#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# TAP test of `vouch inspect ima` and `vouch inspect tpmquote` on real
# vectors (tests/vectors/tpm/) and on inputs they must refuse cleanly.
# Usage: inspect_tpm.sh VOUCH_BINARY   (run from the source root)
# With $VALGRIND set (the path of valgrind), the cases on bad input run
# under it and a read of uninitialised memory fails them.
set -u
VOUCH=$1
E=tests/vectors/tpm/embrave
K=tests/vectors/tpm/keylime
. tests/cli/tap.sh

checked() {  # checked COMMAND...: under valgrind when $VALGRIND names it
    if [ -n "${VALGRIND:-}" ]; then
        "$VALGRIND" -q --error-exitcode=99 "$@"
    else
        "$@"
    fi
}

ok "the embrave IMA log replays" 0 "$VOUCH" inspect ima $E/binary_runtime_measurements
out_text "its 922 entries" "entries: 922"
ok "\"-\" reads the log from stdin" 0 sh -c '"$1" inspect ima - <"$2"' sh "$VOUCH" \
    $E/binary_runtime_measurements
out_text "the same log" "entries: 922"

printf '{"digests": ' >"$T/truncated.json"
ok "a truncated JSON policy exits 1" 1 \
    checked "$VOUCH" inspect ima $K/create-runtime-policy_ima-log-sha256 --policy "$T/truncated.json"
err_has "and says where" "truncated.json: invalid JSON at line 1 column 13"

echo "1..$N"
exit $FAILED
