# IMA runtime appraisal in the style of keylime's runtime policy: every
# measured file must be excluded by a pattern or have an allowed digest.
#   data.ima.digests   {path: [hex digest, ...]}
#   data.ima.excludes  [regular expression, ...]
# input.tpm.ima_log is the parsed (and PCR-10-replayed) IMA log.
package ima

import rego.v1

log := input.tpm.ima_log

boot_aggregate_ok if {
	log[0].path == "boot_aggregate"
	log[0].pcr == 10
}

excluded(path) if {
	some pattern in data.ima.excludes
	regex.match(pattern, path)
}

files contains e if {
	some i, e in log
	i > 0
	e.template_name in {"ima-ng", "ima-sig"}
	not excluded(e.path)
}

skipped contains e.path if {
	some i, e in log
	i > 0
	excluded(e.path)
}

unknown contains e.path if {
	some e in files
	not data.ima.digests[e.path]
}

modified contains e.path if {
	some e in files
	allowed := data.ima.digests[e.path]
	not e.digest in allowed
}

default file_system := 97

file_system := 2 if {
	boot_aggregate_ok
	count(unknown) == 0
	count(modified) == 0
}

file_system := 32 if {
	boot_aggregate_ok
	count(unknown) > 0
	count(modified) == 0
}

file_system := 96 if {
	boot_aggregate_ok
	count(modified) > 0
}

default allow := false

allow if file_system < 32

verdict := {
	"allow": allow,
	"file-system": file_system,
	"measured": count(log),
	"checked": count(files),
	"skipped": count(skipped),
	"unknown": sort(unknown),
	"modified": sort(modified),
}
