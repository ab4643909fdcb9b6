#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# TAP test of `vouch attest` argument checks that need no service and no TDX
# machine: --runtime-data-hex and --runtime-data-json together are a usage
# error, and with --collect an explicit --ccel FILE that cannot be read is an
# error naming it (only the default CCEL path may be absent), found before a
# quote is asked of configfs-tsm.  The URL is a closed port: nothing here may
# reach a service.
# Usage: attest.sh VOUCH_BINARY   (run from the source root)
set -u
VOUCH=$1
. tests/cli/tap.sh

URL=http://127.0.0.1:9
QUOTE=tests/vectors/dcap/dcap-qvl/sample/tdx_quote
CCEL=tests/vectors/tdx-eventlog/go-tdx-guest/ccel_data.dat
mkdir "$T/tsm"

ok "--runtime-data-hex with --runtime-data-json is a usage error" 2 \
    "$VOUCH" attest --tee tdx --evidence "$QUOTE" --url "$URL" \
    --runtime-data-hex 00 --runtime-data-json '{"a":1}'
err_has "names --runtime-data-hex" "vouch: --runtime-data-hex"
err_has "names --runtime-data-json" "--runtime-data-json"
ok "either alone passes the argument check (the closed port fails)" 3 \
    "$VOUCH" attest --tee tdx --evidence "$QUOTE" --url "$URL" --runtime-data-json '{"a":1}'
err_has "the request was tried" "POST $URL/v1/attestation"

ok "--collect with a --ccel FILE that does not exist fails" 3 \
    "$VOUCH" attest --tee tdx --collect --tsm-dir "$T/tsm" --ccel "$T/no-such-ccel" \
    --runtime-data-hex 00 --url "$URL"
err_has "names the file" "vouch: .*$T/no-such-ccel"
N=$((N + 1))
if [ -z "$(ls -A "$T/tsm")" ] && ! grep -q "configfs-tsm" "$T/err"; then
    echo "ok $N - before configfs-tsm is asked for a quote"
else
    echo "not ok $N - before configfs-tsm is asked for a quote"
    sed 's/^/# /' "$T/err" | head -5
    FAILED=1
fi
ok "--collect with a readable --ccel FILE goes on to configfs-tsm" 3 \
    "$VOUCH" attest --tee tdx --collect --tsm-dir "$T/tsm" --ccel "$CCEL" \
    --runtime-data-hex 00 --url "$URL"
err_has "which fails on the empty directory" "configfs-tsm: $T/tsm/"
# The default path is left out when absent (it is, off a TDX guest), so the
# failure is configfs-tsm's on this empty directory, not the CCEL's.
ok "--collect without --ccel goes on to configfs-tsm" 3 \
    "$VOUCH" attest --tee tdx --collect --tsm-dir "$T/tsm" --runtime-data-hex 00 --url "$URL"
err_has "which fails on the empty directory" "configfs-tsm: $T/tsm/"

echo "1..$N"
exit $FAILED
