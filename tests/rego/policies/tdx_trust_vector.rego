# Intel TDX appraisal: an AR4SI trust vector from a TD's claims and the
# reference values the relying party registered (query_reference_value).
# Claim names follow trustee's TDX verifier (input.tdx.quote.body.mr_td ...).
package policy

import rego.v1

# --- the trust vector and its defaults (trustee's: contraindicated) -----

default instance_identity := 0

default configuration := 36

default executables := 33

default file_system := 0

default hardware := 97

default runtime_opaque := 0

default storage_opaque := 0

default sourced_data := 0

trust_claims := {
	"instance_identity": instance_identity,
	"configuration": configuration,
	"executables": executables,
	"file-system": file_system,
	"hardware": hardware,
	"runtime-opaque": runtime_opaque,
	"storage-opaque": storage_opaque,
	"sourced-data": sourced_data,
}

# --- helpers ---------------------------------------------------------------

tdx := input.tdx

body := tdx.quote.body

header := tdx.quote.header

# a claim matches when a reference value lists it
matches(id, value) if value in query_reference_value(id)

# a claim with no reference values registered is not checked
unconstrained(id) if {
	refs := query_reference_value(id)
	count(refs) == 0
}

unconstrained(id) if query_reference_value(id) == null

accepted(id, value) if matches(id, value)

accepted(id, _) if unconstrained(id)

# EAR tiers (rust-ear): none, affirming, warning, contraindicated
tier(v) := "none" if {
	v >= -1
	v <= 1
} else := "affirming" if {
	abs(v) <= 31
} else := "warning" if {
	abs(v) <= 95
} else := "contraindicated"

tier_rank := {"none": 0, "affirming": 1, "warning": 2, "contraindicated": 3}

status := s if {
	ranks := [tier_rank[tier(v)] | some v in trust_claims]
	worst := max(ranks)
	some s, r in tier_rank
	r == worst
}

# --- hardware --------------------------------------------------------------

genuine_tdx if {
	header.tee_type == "81000000"
	header.vendor_id == "939a7233f79c4ca9940a0db3957f0607"
}

tdx_module_known if accepted("mr_seam", body.mr_seam)

collateral_valid if tdx.collateral_expiration_status == "0"

tcb_fresh if {
	tcb := time.parse_rfc3339_ns(tdx.tcb_date)
	oldest := time.add_date(time.now_ns(), -2, 0, 0)
	tcb >= oldest
}

tcb_needs_update_only := {"SWHardeningNeeded", "ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded"}

hardware := 2 if {
	genuine_tdx
	tdx_module_known
	collateral_valid
	tdx.tcb_status == "UpToDate"
	tcb_fresh
}

hardware := 3 if {
	genuine_tdx
	tdx_module_known
	collateral_valid
	tdx.tcb_status in tcb_needs_update_only
}

hardware := 32 if {
	genuine_tdx
	tdx.tcb_status in {"OutOfDate", "OutOfDateConfigurationNeeded"}
}

# --- executables: TD image, boot chain and payload ------------------------

td_image_known if matches("mr_td", body.mr_td)

boot_chain_known if {
	accepted("rtmr_0", body.rtmr_0)
	accepted("rtmr_1", body.rtmr_1)
	accepted("rtmr_2", body.rtmr_2)
}

payload_events contains ev if {
	some ev in tdx.uefi_event_logs
	ev.type_name == "EV_EFI_PLATFORM_FIRMWARE_BLOB2"
	ev.details.string == "td_payload"
}

payload_info_events contains ev if {
	some ev in tdx.uefi_event_logs
	startswith(ev.details.string, "td_payload_info ")
}

payload_known if {
	count(payload_events) == 1
	every ev in payload_events {
		some d in ev.digests
		d.alg == "SHA-384"
		matches("td_payload", d.digest)
	}
}

kernel_cmdline := trim_prefix(ev.details.string, "td_payload_info ") if {
	some ev in payload_info_events
}

cmdline_known if matches("kernel_cmdline", kernel_cmdline)

executables := 2 if {
	td_image_known
	boot_chain_known
	payload_known
	cmdline_known
}

executables := 3 if {
	td_image_known
	boot_chain_known
	payload_known
	not cmdline_known
}

# --- configuration ---------------------------------------------------------

debug_td if tdx.td_attributes.debug

xfam_known if accepted("xfam", body.xfam)

configuration := 2 if {
	not debug_td
	tdx.td_attributes.septve_disable
	xfam_known
}

configuration := 96 if debug_td

# --- instance identity: the key hash bound in report_data -----------------

instance_identity := 2 if {
	count(input.report_data) == 128
	startswith(input.report_data, input.expected_report_data_prefix)
}

# --- what the token carries beside the vector -----------------------------

findings contains "debug TD" if debug_td

findings contains "TCB out of date" if tdx.tcb_status in {"OutOfDate", "OutOfDateConfigurationNeeded"}

findings contains sprintf("advisory %s", [id]) if some id in tdx.advisory_ids

findings contains "TD image not in the reference values" if not td_image_known

findings contains "unknown kernel command line" if {
	payload_known
	not cmdline_known
}

default reported_cmdline := null

reported_cmdline := kernel_cmdline

result := {
	"status": status,
	"trust_claims": trust_claims,
	"findings": findings,
	"kernel_cmdline": reported_cmdline,
}
