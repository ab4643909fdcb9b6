#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# TAP test of `vouch inspect evidence`: any registered verifier, its trust set
# up by its own hook from the command line, on real evidence
# (tests/vectors/dcap/, tests/vectors/nvgpu/).
# Usage: inspect_evidence.sh VOUCH_BINARY   (run from the source root)
set -u
VOUCH=$1
NV=tests/vectors/nvgpu
DQ=tests/vectors/dcap/dcap-qvl/sample
. tests/cli/tap.sh

printf '{"quote":"%s"}' "$(base64 -w0 <$DQ/tdx_quote)" >"$T/tdx.json"
printf '{"device_evidence_list":[{"arch":"HOPPER","uuid":"GPU-1","evidence":"%s","certificate":"%s"}]}' \
    "$(tr -d '\n\r' <$NV/v1.0_attestationReport.txt | xxd -r -p | base64 -w0)" \
    "$(base64 -w0 <$NV/v1.0_gpuAkCertChain.txt)" >"$T/gpu.json"

ok "tdx with its collateral at the vector's time" 0 \
    "$VOUCH" inspect evidence --tee tdx "$T/tdx.json" --collateral $DQ/tdx_quote_collateral.json \
    --at 2025-07-19T10:00:34Z
out_has "tdx claims as the service makes them" \
    '.tee == "tdx" and .claims.tcb_status == "UpToDate" and (.claims.quote.body.mr_td | length) == 96'
ok "tdx without collateral: the hook leaves no trust" 1 "$VOUCH" inspect evidence --tee tdx "$T/tdx.json"
err_has "says what is missing" "no DCAP collateral"
ok "a TDX quote is not sgx evidence" 1 \
    "$VOUCH" inspect evidence --tee sgx "$T/tdx.json" --collateral $DQ/tdx_quote_collateral.json \
    --at 2025-07-19T10:00:34Z
err_has "names the field" "at quote"
ok "--dcap-root reaches the tdx hook" 3 \
    "$VOUCH" inspect evidence --tee tdx "$T/tdx.json" --collateral $DQ/tdx_quote_collateral.json \
    --dcap-root "$T/no-such-root.pem"
err_has "names the option" "--dcap-root"

ok "nvgpu with RIMs" 0 \
    "$VOUCH" inspect evidence --tee nvgpu "$T/gpu.json" --rims $NV/rims --at 2024-06-01T00:00:00Z
out_has "one GPU device, measurements match" \
    '.claims.devices | length == 1 and .[0].class == "gpu" and .[0].claims.measres == "success"'
ok "nvgpu without RIMs" 1 "$VOUCH" inspect evidence --tee nvgpu "$T/gpu.json" --at 2024-06-01T00:00:00Z
err_has "the RIM is missing" "not_found"
ok "--nvgpu-ocsp reaches the nvgpu hook" 3 \
    "$VOUCH" inspect evidence --tee nvgpu "$T/gpu.json" --nvgpu-ocsp sometimes
err_has "names the option" "--nvgpu-ocsp"
ok "--nvgpu-device-root reaches the nvgpu hook" 3 \
    "$VOUCH" inspect evidence --tee nvgpu "$T/gpu.json" --nvgpu-device-root "$T/none.pem"

# snp: trustee's evidence without a cert_chain, its VCEK and AMD's CRL
# given as files, as vouchd has them once imported (tests/vectors/snp/).
SV=tests/vectors/snp
SNP_AT=2025-06-01T00:00:00Z
ok "snp without a VCEK anywhere" 1 \
    "$VOUCH" inspect evidence --tee snp $SV/trustee-e2e-evidence.json --at $SNP_AT
ok "snp with --vcek and AMD's Milan CRL" 0 \
    "$VOUCH" inspect evidence --tee snp $SV/trustee-e2e-evidence.json --at $SNP_AT \
    --vcek $SV/test-vcek.der --crl $SV/amd-milan-crl.der
out_has "the report's measurement" \
    '.claims.measurement | startswith("a1f3930413247bb38cfc171579ea3c12")'
ok "snp with another chip's VCEK" 1 \
    "$VOUCH" inspect evidence --tee snp $SV/trustee-e2e-evidence.json --at $SNP_AT \
    --vcek $SV/az-milan-v3-vcek.der
err_has "says so" "CHIP_ID"
ok "snp with another product's CRL" 1 \
    "$VOUCH" inspect evidence --tee snp $SV/trustee-e2e-evidence.json --at $SNP_AT \
    --vcek $SV/test-vcek.der --crl $SV/amd-genoa-crl.der
err_has "says so" "not issued by the ARK"
ok "an unreadable --crl" 3 \
    "$VOUCH" inspect evidence --tee snp $SV/trustee-e2e-evidence.json --crl "$T/none.der"
err_has "names the option" "--crl: "

# An option no verifier reads is a usage error, not silently dropped: a typo,
# a flag of another command taking the evidence path as its value, a repeat.
ok "a mistyped option is a usage error" 2 \
    "$VOUCH" inspect evidence --tee tdx "$T/tdx.json" --collateral $DQ/tdx_quote_collateral.json \
    --at 2025-07-19T10:00:34Z --dcap-rot "$T/root.pem"
err_has "names it and the verifier" "--dcap-rot $T/root.pem: not an option of the tdx verifier"
ok "a flag without a value does not swallow the evidence path" 2 \
    "$VOUCH" inspect evidence --tee tdx --collateral $DQ/tdx_quote_collateral.json \
    --at 2025-07-19T10:00:34Z --json "$T/tdx.json"
ok "an option given twice is a usage error" 2 \
    "$VOUCH" inspect evidence --tee nvgpu "$T/gpu.json" --rims $NV/rims --rims $NV/rims
err_has "says so" "--rims: given twice"
ok "a verifier's own inspect command checks its options too" 2 \
    "$VOUCH" inspect az-tdx-vtpm "$T/tdx.json" --colateral $DQ/tdx_quote_collateral.json
err_has "names the option" "--colateral"

ok "unknown tee" 2 "$VOUCH" inspect evidence --tee sev "$T/gpu.json"
ok "no --tee" 2 "$VOUCH" inspect evidence "$T/gpu.json"
ok "unreadable evidence" 3 "$VOUCH" inspect evidence --tee nvgpu "$T/none.json"

echo "1..$N"
exit $FAILED
