# Vouch's default appraisal policy (used when a request names no policy).
#
# Reaching a policy means the evidence already passed every cryptographic
# check: signatures, certificate chains to the vendor root, revocation, and
# the binding to the caller's runtime/init data. So this policy allows, and
# reports how far the platform can be trusted as an AR4SI trust vector, so
# a relying party (or an EAR token's ear.status) can act on it:
#
#   hardware        2 up to date; 3 up to date but needs software/config
#                   hardening; 32 out of date or relaunch advised (warning);
#                   also 32 when the collateral it was judged against expired.
#                   NVIDIA GPU: 2 when its report is signed by a genuine GPU
#                   key whose certificate carries the report's firmware ID.
#                   AMD SEV-SNP: 2 (signed by a VCEK/VLEK of AMD's chain whose
#                   TCB is the reported one; no judgement on how recent it is);
#                   the same for an Azure SEV-SNP CVM (az-snp-vtpm). An Azure
#                   TDX CVM (az-tdx-vtpm) is judged by its TD quote's TCB status
#                   as a TD is
#   configuration   2 production mode; 32 debug mode (secrets are readable);
#                   GPU: 32 also when secure boot is off.
#                   SEV-SNP: 96 when the guest policy allows debugging (the
#                   host can read and change the guest's memory): such
#                   evidence is rejected (allow is false); az-snp-vtpm
#                   likewise (its claims are strings, as trustee writes them)
#   executables     GPU: 2 every firmware measurement matches NVIDIA's
#                   signed reference manifests (RIMs); 33 not compared
#                   TDX: when reference values named rtmr_0..rtmr_3 or
#                   kernel_cmdline are registered, 2 if the quote's RTMRs and
#                   the event log's kernel command line (tdx.ccel.kernel_cmdline,
#                   from a log that replayed to those RTMRs) are among them, 33
#                   if one is not (or the log is missing); none registered: 0
#   runtime-opaque  2 memory encrypted by the TEE
#
# TPM (tee=tpm): a quote proves only that some key signed these PCRs, so
# it is allowed only when its AK (ak_public, base64 DER) is one of the
# reference values "trusted_aks"; then hardware is 2, and executables 3
# when PCR 11 is one of "tpm_pcr11" (trustee's default policy does the
# same).  configuration and runtime-opaque stay 0: a TPM neither
# encrypts memory nor reports a debug mode.
#
# Input: the annotated evidence of one device, {"tdx"|"sgx"|"nvgpu"|"snp"|"tpm"|
# "az-snp-vtpm"|"az-tdx-vtpm": claims,
# "report_data", "init_data", "runtime_data_claims", "init_data_claims"}.
# A TD with GPUs (tee acstdxnvgpu) is appraised device by device.
package policy

import rego.v1

default allow := true

tee := "tdx" if input.tdx
tee := "sgx" if input.sgx

tee := "nvgpu" if input.nvgpu

tee := "snp" if input.snp

tee := "az-snp-vtpm" if input["az-snp-vtpm"]

tee := "az-tdx-vtpm" if input["az-tdx-vtpm"]

tee := "tpm" if input.tpm

claims := input[tee]

up_to_date := {"UpToDate"}

needs_hardening := {
	"SWHardeningNeeded",
	"ConfigurationNeeded",
	"ConfigurationAndSWHardeningNeeded",
}

collateral_expired if claims.collateral_expiration_status == "1"

default hardware := 0

hardware := 2 if {
	claims.tcb_status in up_to_date
	not collateral_expired
}

hardware := 3 if {
	claims.tcb_status in needs_hardening
	not collateral_expired
}

hardware := 32 if {
	claims.tcb_status
	not claims.tcb_status in up_to_date
	not claims.tcb_status in needs_hardening
}

hardware := 32 if collateral_expired

hardware := 2 if {
	tee == "nvgpu"
	claims["x-nvidia-gpu-attestation-report-signature-verified"] == true
	claims["x-nvidia-gpu-attestation-report-cert-chain-fwid-match"] == true
}

debug if claims.td_attributes.debug == true

hardware := 2 if tee == "snp"

hardware := 2 if tee == "az-snp-vtpm"

# SEV-SNP guest policy bit 19: the host may debug the guest (a missing
# claim counts as allowed).
snp_debug if {
	tee == "snp"
	not claims.policy_debug_allowed == false
}

# The same bit in an Azure SEV-SNP CVM's report; trustee writes it as a string.
snp_debug if {
	tee == "az-snp-vtpm"
	not claims.policy_debug_allowed == "false"
}

debug if snp_debug

allow := false if snp_debug

# SGX ATTRIBUTES.FLAGS bit 1 is DEBUG (little-endian hex of a u64).
debug if {
	tee == "sgx"
	flags := claims.body["attributes.flags"]
	bits.and(hex_byte(substring(flags, 0, 2)), 2) == 2
}

# A GPU with its debug interfaces enabled, or booted without secure boot.
debug if {
	tee == "nvgpu"
	claims.dbgstat != "disabled"
}

debug if {
	tee == "nvgpu"
	claims.secboot != true
}

hex_byte(h) := n if {
	digits := "0123456789abcdef"
	n := (indexof(digits, lower(substring(h, 0, 1))) * 16) + indexof(digits, lower(substring(h, 1, 1)))
}

tpm_trusted_ak if {
	tee == "tpm"
	claims.ak_public in query_reference_value("trusted_aks")
}

allow := false if {
	tee == "tpm"
	not tpm_trusted_ak
}

hardware := 2 if tpm_trusted_ak

default configuration := 0

configuration := 2 if {
	tee
	tee != "tpm"
	not debug
}

configuration := 32 if {
	debug
	not snp_debug
}

configuration := 96 if snp_debug

default executables := 0

executables := 2 if {
	tee == "nvgpu"
	claims.measres == "success"
}

executables := 33 if {
	tee == "nvgpu"
	claims.measres != "success"
}

executables := 3 if {
	tpm_trusted_ak
	claims.pcr11 in query_reference_value("tpm_pcr11")
}

# TDX: the RTMRs, the kernel command line and the kernel, command-line and
# initrd digests of the event log against registered reference values.
tdx_ref_ids := [
	"rtmr_0", "rtmr_1", "rtmr_2", "rtmr_3", "kernel_cmdline",
	"kernel_digest", "cmdline_digest", "initrd_digest",
]

tdx_measured[id] := claims.quote.body[id] if {
	tee == "tdx"
	some id in ["rtmr_0", "rtmr_1", "rtmr_2", "rtmr_3"]
}

tdx_measured.kernel_cmdline := claims.ccel.kernel_cmdline if tee == "tdx"

tdx_measured.kernel_digest := claims.ccel.kernel if tee == "tdx"

tdx_measured.cmdline_digest := claims.ccel.cmdline if tee == "tdx"

tdx_measured.initrd_digest := claims.ccel.initrd if tee == "tdx"

tdx_refs[id] := refs if {
	tee == "tdx"
	some id in tdx_ref_ids
	refs := query_reference_value(id)
	is_array(refs)
	count(refs) > 0
}

tdx_ref_mismatch if {
	some id, refs in tdx_refs
	not tdx_measured[id] in refs
}

executables := 2 if {
	count(tdx_refs) > 0
	not tdx_ref_mismatch
}

executables := 33 if tdx_ref_mismatch

default runtime_opaque := 0

runtime_opaque := 2 if {
	tee
	tee != "tpm"
}

trust_claims := {
	"hardware": hardware,
	"configuration": configuration,
	"executables": executables,
	"runtime-opaque": runtime_opaque,
}
