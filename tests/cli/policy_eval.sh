#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# TAP test of `vouch policy eval` on the repository's real appraisal policy
# for TDX (tests/rego/policies/tdx_trust_vector.rego), the claims of a real
# quote (tests/rego/inputs/tdx.json) and its reference values
# (tests/rego/refs/tdx.json): files or stdin, data files, the time, and the
# argument errors.
# Usage: policy_eval.sh VOUCH_BINARY   (run from the source root)
set -u
VOUCH=$1
. tests/cli/tap.sh

POL=tests/rego/policies/tdx_trust_vector.rego
IN=tests/rego/inputs/tdx.json
REFS=tests/rego/refs/tdx.json

ok "the reference values vouch for the executables" 0 \
    "$VOUCH" policy eval -d $POL -i $IN -r $REFS data.policy.executables
out_has "executables is 2 (affirming)" '.[0].expressions[0].value == 2'
ok "without them the policy's default stands" 0 \
    "$VOUCH" policy eval -d $POL -i $IN data.policy.executables
out_has "executables is 33 (contraindicated)" '.[0].expressions[0].value == 33'
ok "-r - reads the reference values from stdin" 0 \
    sh -c '"$0" policy eval -d "$1" -i "$2" -r - data.policy.executables <"$3"' \
    "$VOUCH" $POL $IN $REFS
out_has "the same verdict as from the file" '.[0].expressions[0].value == 2'
ok "-i - reads the input from stdin" 0 \
    sh -c '"$0" policy eval -d "$1" -i - -r "$3" data.policy.executables <"$2"' \
    "$VOUCH" $POL $IN $REFS
out_has "the same verdict" '.[0].expressions[0].value == 2'
ok "stdin for two options is a usage error" 2 \
    sh -c '"$0" policy eval -d "$1" -i - -r - data.policy.executables <"$2"' \
    "$VOUCH" $POL $IN
err_has "names the second" "-r -: stdin is already read"

echo '{"limits":{"max":3}}' >"$T/data.json"
ok "no module at all: a query over data alone" 0 \
    "$VOUCH" policy eval -d "$T/data.json" 'data.limits.max + 1'
out_has "data was merged" '.[0].expressions[0].value == 4'
ok "--now sets time.now_ns()" 0 "$VOUCH" policy eval --now 1700000000000000000 'time.now_ns()'
out_has "as given" '.[0].expressions[0].value == 1700000000000000000'
ok "--now with no digits is a usage error" 2 "$VOUCH" policy eval --now '' 'time.now_ns()'
ok "--now past 64 bits is a usage error" 2 \
    "$VOUCH" policy eval --now 99999999999999999999 'time.now_ns()'
err_has "says what it wants" "--now: want nanoseconds"

echo '[1,2]' >"$T/refs.json"
ok "reference values that are not an object" 1 \
    "$VOUCH" policy eval -d $POL -i $IN -r "$T/refs.json" data.policy.executables
err_has "says so" "not a JSON object"
echo '{"a":' >"$T/bad.json"
ok "reference values that are not JSON" 1 \
    "$VOUCH" policy eval -d $POL -r "$T/bad.json" data.policy.executables
err_has "gives the position" "bad.json:[0-9]*:[0-9]*: "
ok "a missing module" 3 "$VOUCH" policy eval -d "$T/none.rego" data.x
printf 'package p\nallow if {\n' >"$T/broken.rego"
ok "a module that does not parse" 1 "$VOUCH" policy eval -d "$T/broken.rego" data.p.allow
err_has "gives file:line" "broken.rego:"
ok "no query" 2 "$VOUCH" policy eval -d $POL
ok "two queries" 2 "$VOUCH" policy eval data.a data.b

echo "1..$N"
exit $FAILED
