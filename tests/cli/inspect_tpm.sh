#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# TAP test of `vouch inspect ima`, `vouch inspect tpmquote` and `vouch
# inspect eventlog` on real vectors (tests/vectors/tpm/) and on inputs they
# must refuse cleanly.
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

# One entry of a template whose name is not printable ASCII (\377\376), data
# "abc": refused by the parser (the name would be a key of the claims and a
# word of the text log), in text and in JSON, with or without --pcrs.
{ printf '\012\000\000\000'; printf a9993e364706816aba3e25717850c26c9cd0d89d | xxd -r -p
  printf '\002\000\000\000\377\376\003\000\000\000abc'; } >"$T/badname.ima"
printf '{"sha1": {"10": "ccd5bd41458de644ac34a2478b58ff819bef5acf"}}' >"$T/badname.pcrs"
ok "a template name that is not printable ASCII is refused" 1 "$VOUCH" inspect ima "$T/badname.ima"
err_has "and the entry named" "entry 0: template name is not printable ASCII"
ok "with --pcrs too" 1 "$VOUCH" inspect ima "$T/badname.ima" --pcrs "$T/badname.pcrs"
ok "--json: the same" 1 "$VOUCH" inspect ima "$T/badname.ima" --json
ok "--json --pcrs: the same" 1 "$VOUCH" inspect ima "$T/badname.ima" --json --pcrs "$T/badname.pcrs"

S=tests/vectors/tpm/swtpm-generated
ok "the swtpm RSA quote verifies with its PCRs" 0 "$VOUCH" inspect tpmquote --ak $S/ak_rsa.pem \
    --quote $S/quote_rsa.msg --sig $S/quote_rsa.sig --pcrs $S/quote_rsa.pcrs
out_text "calcDigest is the SHA-256 pcrDigest" \
    "calcDigest: 786bbfc8883aca72ea5ebf7eda6bb23217a1e452dd171c25509f505dd69f80cc"
# Its signature relabelled as over SHA-1 (hash 0x0004): the quote's pcrDigest
# is 32 bytes, the digest calculated with SHA-1 is 20 and is shown as such.
{ head -c 2 $S/quote_rsa.sig; printf '\000\004'; tail -c +5 $S/quote_rsa.sig; } >"$T/sha1.sig"
ok "a SHA-1 signature over a SHA-256 pcrDigest fails" 1 \
    checked "$VOUCH" inspect tpmquote --ak $S/ak_rsa.pem --quote $S/quote_rsa.msg --sig "$T/sha1.sig" \
    --pcrs $S/quote_rsa.pcrs --allow-sha1
N=$((N + 1))
if grep -qx "calcDigest: [0-9a-f]\{40\}" "$T/out"; then
    echo "ok $N - its calcDigest has the 20 bytes calculated"
else
    echo "not ok $N - its calcDigest has the 20 bytes calculated"
    grep "calcDigest" "$T/out" | sed 's/^/# /'
    FAILED=1
fi

# A TPMS_ATTEST selecting all 24 SHA-256 PCRs 16 times (the most a quote
# may list), with the RSA quote's signature (which does not verify): its
# claims are built whole, the selection's text included, and the exit
# status is the signature's, with or without --pcrs.
{ printf 'ff544347''8018''0002''0004''0000''0000000000000001''00000000''00000000''01'
  printf '0000000000000000''00000010'
  i=0; while [ $i -lt 16 ]; do printf '000b03ffffff'; i=$((i + 1)); done
  printf '0020'; i=0; while [ $i -lt 32 ]; do printf '11'; i=$((i + 1)); done; } |
    xxd -r -p >"$T/select16.msg"
{ printf '{"sha256": ['; i=0
  while [ $i -lt 24 ]; do [ $i -gt 0 ] && printf ','; printf '"%064d"' 0; i=$((i + 1)); done
  printf ']}'; } >"$T/pcrs24.json"
ok "the longest selection: --json shows it, the signature fails" 1 \
    "$VOUCH" inspect tpmquote --ak $S/ak_rsa.pem --quote "$T/select16.msg" --sig $S/quote_rsa.sig --json
out_has "all 16 selections in pcr_select" \
    '.verified == false and (.quote.pcr_select | split("+") | length) == 16'
ok "--json --pcrs: the same, not a silent 0" 1 \
    "$VOUCH" inspect tpmquote --ak $S/ak_rsa.pem --quote "$T/select16.msg" --sig $S/quote_rsa.sig \
    --json --pcrs "$T/pcrs24.json"
ok "text with --pcrs: the signature fails" 1 \
    "$VOUCH" inspect tpmquote --ak $S/ak_rsa.pem --quote "$T/select16.msg" --sig $S/quote_rsa.sig \
    --pcrs "$T/pcrs24.json"
err_has "and says so" "signature does not verify"

# A one-event SHA-1 log: a boot application whose device path is a URI node
# of two bytes that are not ASCII.  They are shown percent-encoded (the text
# and the claims stay UTF-8), and the exit status is the PCRs' verdict.
{ printf '04000000''03000080''7d1043473d55bfa90e8530d35801d4e381bc69f0''2a000000'
  printf '0010000000000000''0020000000000000''0000000000000000''0a00000000000000'
  printf '03180600fffe''7fff0400'; } | xxd -r -p >"$T/baduri.log"
printf '{"sha1": {"4": "3469c2ac9d33d100b36365819453078d1f5f45fd"}}' >"$T/baduri.pcrs"
printf '{"sha1": {"4": "%040d"}}' 0 >"$T/wrong.pcrs"
ok "a URI node that is not ASCII: the log is shown" 0 "$VOUCH" inspect eventlog "$T/baduri.log"
out_text "the bytes percent-encoded" "Uri(%FF%FE)"
ok "with the PCRs it extends: verified" 0 \
    "$VOUCH" inspect eventlog "$T/baduri.log" --pcrs "$T/baduri.pcrs"
ok "with PCRs it does not match: a failure, not a silent 0" 1 \
    "$VOUCH" inspect eventlog "$T/baduri.log" --pcrs "$T/wrong.pcrs"
ok "the same in JSON" 1 "$VOUCH" inspect eventlog "$T/baduri.log" --pcrs "$T/wrong.pcrs" --json
out_has "the claims carry the device path" \
    '[.. | strings | select(. == "Uri(%FF%FE)")] | length >= 1'

ok "\"-\" reads an event log from stdin, base64 too" 0 \
    sh -c '"$1" inspect eventlog - <"$2"' sh "$VOUCH" $K/mb_log.b64
out_text "its replayed PCRs" "pcrs:"

echo "1..$N"
exit $FAILED
