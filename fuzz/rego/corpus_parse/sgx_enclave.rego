# Intel SGX appraisal: an enclave allow-list.  data.enclaves lists the
# enclaves the relying party trusts, either by exact measurement
# (mr_enclave) or by signer and product with a minimum security version.
# Claim names follow trustee's SGX verifier (input.sgx.body.mr_enclave ...).
package sgx.appraisal

import rego.v1

body := input.sgx.body

# quote fields are little-endian hex: "0300" is 3
hex_digit := {
	"0": 0, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "6": 6, "7": 7,
	"8": 8, "9": 9, "a": 10, "b": 11, "c": 12, "d": 13, "e": 14, "f": 15,
}

byte_at(hex, i) := (hex_digit[substring(hex, 2 * i, 1)] * 16) + hex_digit[substring(hex, (2 * i) + 1, 1)]

le16(hex) := byte_at(hex, 0) + (256 * byte_at(hex, 1))

isv_svn := le16(body.isv_svn)

isv_prod_id := le16(body.isv_prod_id)

# attributes.flags bit 1 is DEBUG, bit 2 MODE64BIT
flags_low := byte_at(body.attributes.flags, 0)

debug_enclave if bits.and(flags_low, 2) != 0

mode64 if bits.and(flags_low, 4) != 0

# --- the allow-list --------------------------------------------------------

by_measurement contains e.name if {
	some e in data.enclaves
	e.mr_enclave == body.mr_enclave
}

by_signer contains e.name if {
	some e in data.enclaves
	not e.mr_enclave
	e.mr_signer == body.mr_signer
	e.isv_prod_id == isv_prod_id
	isv_svn >= e.min_isv_svn
}

matched := by_measurement | by_signer

debug_allowed if {
	some e in data.enclaves
	e.name in matched
	e.allow_debug == true
}

default allow := false

allow if {
	count(matched) > 0
	mode64
	input.sgx.tcb_status in {"UpToDate", "SWHardeningNeeded"}
	input.sgx.collateral_expiration_status == "0"
	not debug_enclave
}

allow if {
	count(matched) > 0
	mode64
	input.sgx.tcb_status in {"UpToDate", "SWHardeningNeeded"}
	debug_enclave
	debug_allowed
}

reasons contains "no allow-list entry matches the enclave" if count(matched) == 0

reasons contains "debug enclave" if {
	debug_enclave
	not debug_allowed
}

reasons contains sprintf("TCB status %s", [input.sgx.tcb_status]) if {
	not input.sgx.tcb_status in {"UpToDate", "SWHardeningNeeded"}
}

decision := {
	"allow": allow,
	"enclaves": sort(matched),
	"isv_prod_id": isv_prod_id,
	"isv_svn": isv_svn,
	"debug": debug_enclave,
	"reasons": reasons,
}

default debug_enclave := false
