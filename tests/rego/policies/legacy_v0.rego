# trustee's legacy (<= v0.10) attestation-service policy, in Rego v0: each
# claim the reference data names must take one of the listed values; an
# empty list accepts any value.  The input is the flat "tcb-status" claims
# map ("tdx.quote.body.mr_td": "...").
package policy

import future.keywords.in

default allow = false

allow {
	count(mismatched) == 0
	count(missing) == 0
}

# v0 partial set rules
mismatched[key] {
	some key
	refs := data.reference[key]
	count(refs) > 0
	value := input[key]
	not value in refs
}

missing[key] {
	some key
	data.reference[key]
	not has_claim(key)
}

has_claim(key) {
	_ = input[key]
}

# v0 function with an else chain
severity(n) = "pass" {
	n == 0
} else = "fail" {
	n > 0
}

checked = count(data.reference)

unconstrained[key] {
	some key
	count(data.reference[key]) == 0
}

report = {
	"allow": allow,
	"checked": checked,
	"unconstrained": unconstrained,
	"mismatched": mismatched,
	"missing": missing,
	"result": severity(count(mismatched) + count(missing)),
}
