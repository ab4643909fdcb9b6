# NVIDIA Hopper GPU appraisal from a locally verified SPDM attestation
# report (claim names of trustee's nvidia verifier: input.nvidia.arch,
# .config.driver_version, .measurements{"<index>": hex}).  The golden
# measurements come from the driver and VBIOS RIMs (data.gpu.rim); the
# accepted versions from the reference values.
package policy.gpu

import rego.v1

gpu := input.nvidia

default hardware := 97

default executables := 33

default configuration := 36

hardware := 2 if {
	gpu.arch == "Hopper"
	count(gpu.config.fwid) == 96
}

driver_version_ok if gpu.config.driver_version in query_reference_value("allowed_driver_versions")

vbios_version_ok if lower(gpu.config.vbios_version) in {lower(v) | some v in query_reference_value("allowed_vbios_versions")}

# Indices the RIMs give a golden value for, compared one by one.  A RIM
# entry may list alternatives (several valid values for one index).
golden := data.gpu.rim

mismatched contains idx if {
	some idx, want in golden
	got := gpu.measurements[idx]
	not measurement_ok(got, want)
}

missing contains idx if {
	some idx, _ in golden
	not gpu.measurements[idx]
}

measurement_ok(got, want) if got == want

measurement_ok(got, want) if {
	is_array(want)
	got in want
}

# Non-zero measurements the RIMs say nothing about.
unexpected contains idx if {
	some idx, m in gpu.measurements
	not golden[idx]
	m != concat("", [c | some _ in numbers.range(1, 96); c := "0"])
}

executables := 2 if {
	count(mismatched) == 0
	count(missing) == 0
	count(unexpected) == 0
}

executables := 32 if {
	count(mismatched) == 0
	count(missing) == 0
	count(unexpected) > 0
}

configuration := 2 if {
	driver_version_ok
	vbios_version_ok
}

configuration := 3 if {
	driver_version_ok
	not vbios_version_ok
}

trust_claims := {
	"hardware": hardware,
	"executables": executables,
	"configuration": configuration,
}

report := {
	"trust_claims": trust_claims,
	"mismatched": sort(mismatched),
	"missing": sort(missing),
	"unexpected": sort(unexpected),
	"driver_version": gpu.config.driver_version,
}
