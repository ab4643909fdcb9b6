#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# TAP test of `vouch inspect gpu` on real NVIDIA evidence (tests/vectors/nvgpu/).
# Usage: inspect_gpu.sh VOUCH_BINARY   (run from the source root)
set -u
VOUCH=$1
V=tests/vectors/nvgpu
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
N=0
FAILED=0

ok() {  # ok DESCRIPTION EXPECTED_STATUS COMMAND...
    desc=$1 want=$2
    shift 2
    N=$((N + 1))
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" -eq "$want" ]; then
        echo "ok $N - $desc"
    else
        echo "not ok $N - $desc (exit $got, wanted $want)"
        sed 's/^/# /' "$T/out" "$T/err" | tail -20
        FAILED=1
    fi
}

has() {  # has DESCRIPTION PATTERN: the last command's output matches
    N=$((N + 1))
    if grep -q -- "$2" "$T/out"; then
        echo "ok $N - $1"
    else
        echo "not ok $N - $1: no '$2' in the output"
        sed 's/^/# /' "$T/out" | tail -20
        FAILED=1
    fi
}

# trustee's document: base64 report, base64 PEM chain
doc() {  # doc REPORT_HEX_FILE CHAIN_FILE > JSON
    printf '{"device_evidence_list":[{"arch":"HOPPER","uuid":"GPU-1","evidence":"%s","certificate":"%s"}]}' \
        "$(tr -d '\n\r' <"$1" | xxd -r -p | base64 -w0)" "$(base64 -w0 <"$2")"
}
doc $V/v1.0_attestationReport.txt $V/v1.0_gpuAkCertChain.txt >"$T/v10.json"
doc $V/nvtrust_hopperAttestationReport.txt $V/nvtrust_hopperCertChain.txt >"$T/550.json"
NONCE_V10=4cff7f5380ead8fad8ec2c531c110aca4302a88f603792801a8ca29ee151af2e

ok "v1.0 report, test_no_gpu RIMs, 2024-06-01: verified" 0 \
    "$VOUCH" inspect gpu "$T/v10.json" --rims $V/rims --nonce $NONCE_V10 --at 2024-06-01T00:00:00Z
has "measurements match" "measres  *success"
has "verdict line" "verdict at 2024-06-01T00:00:00Z: verified, 1 GPU"

ok "--json output" 0 \
    "$VOUCH" inspect gpu "$T/v10.json" --rims $V/rims --nonce $NONCE_V10 --at 2024-06-01T00:00:00Z --json
N=$((N + 1))
if jq -e '.verified == true and .gpus[0]["x-nvidia-gpu-attestation-report-nonce-match"] == true
          and .gpus[0].secboot == true' "$T/out" >/dev/null; then
    echo "ok $N - JSON claims"
else
    echo "not ok $N - JSON claims"; FAILED=1
fi

ok "v1.0 report today: the RIM signer has expired" 1 \
    "$VOUCH" inspect gpu "$T/v10.json" --rims $V/rims --nonce $NONCE_V10 --at 2026-11-01T00:00:00Z
has "expiry named" "FAILED (expired): gpu0: driver RIM: certificate"

ok "wrong nonce" 1 \
    "$VOUCH" inspect gpu "$T/v10.json" --rims $V/rims --nonce 00 --at 2024-06-01T00:00:00Z
has "binding failure" "FAILED (binding_mismatch): gpu0: nonce"

ok "550.90.07 without RIMs: signature, chain, FWID" 0 \
    "$VOUCH" inspect gpu "$T/550.json" --nonce 931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb
has "signature verified" "signature-verified  *true"
has "RIMs reported missing" "x-nvidia-gpu-driver-rim-fetched  *false"

ok "550.90.07 with a RIM directory that lacks its RIMs" 1 \
    "$VOUCH" inspect gpu "$T/550.json" --rims $V/rims
has "missing RIM named" "NV_GPU_DRIVER_GH100_550.90.07 not found"

ok "NVIDIA's serialized evidence (a top-level array), no RIMs" 0 \
    "$VOUCH" inspect gpu $V/nvat_hopper_evidence.json --nonce e97b23a1718095a0e9e35edca810768c70a6a5a389b705e753b197912bc11576
has "its nonce matches" "nonce-match  *true"
has "its driver RIM is missing" "x-nvidia-gpu-driver-rim-fetched  *false"

ok "NVIDIA's eight PPCIe GPUs" 0 "$VOUCH" inspect gpu $V/nvtrust_ppcie_gpu_evidence.json
has "eighth GPU" "^gpu7"

printf '{"device_evidence_list":[{"arch":"HOPPER","evidence":"@","certificate":""}]}' >"$T/bad.json"
ok "malformed evidence" 1 "$VOUCH" inspect gpu "$T/bad.json"
N=$((N + 1))
if grep -q "at device_evidence_list\[0\].evidence" "$T/err"; then
    echo "ok $N - the field is named"
else
    echo "not ok $N - the field is named"; sed 's/^/# /' "$T/err"; FAILED=1
fi

ok "usage" 2 "$VOUCH" inspect gpu
ok "unreadable file" 3 "$VOUCH" inspect gpu "$T/none.json"

echo "1..$N"
exit $FAILED
