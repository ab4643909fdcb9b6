#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# TAP test of `vouch attest` argument checks that need no service and no TDX
# machine: --runtime-data-hex and --runtime-data-json together are a usage
# error, and with --collect an explicit --ccel FILE that cannot be read is an
# error naming it (only the default CCEL path may be absent), found before a
# quote is asked of configfs-tsm.  The URL is a closed port: nothing here may
# reach a service.  --evidence that is neither a JSON object nor a quote is
# refused before anything is sent.
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

# --evidence is checked before anything is sent: JSON must be an object,
# anything else must parse as an SGX/TDX quote (raw or hex).
head -c 2000 /dev/urandom >"$T/random.bin"
ok "random bytes are not evidence" 2 \
    "$VOUCH" attest --tee tdx --evidence "$T/random.bin" --url "$URL"
err_has "says why" "not JSON, and not a quote: quote: "
N=$((N + 1))
if grep -q "POST $URL" "$T/err"; then
    echo "not ok $N - nothing was sent"
    FAILED=1
else
    echo "ok $N - nothing was sent"
fi
printf '{"quote": 5' >"$T/broken.json"
ok "broken JSON is not evidence" 2 \
    "$VOUCH" attest --tee tdx --evidence "$T/broken.json" --url "$URL"
err_has "gives the position" "not JSON at line 1"
echo '[1]' >"$T/array.json"
ok "a JSON array is not evidence" 2 \
    "$VOUCH" attest --tee tdx --evidence "$T/array.json" --url "$URL"
err_has "says so" "not an object"
xxd -p "$QUOTE" | tr -d '\n' >"$T/quote.hex"
ok "a quote in hex is sent" 3 \
    "$VOUCH" attest --tee tdx --evidence "$T/quote.hex" --url "$URL"
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
