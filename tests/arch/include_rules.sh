#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# The layout's include rules (docs/architecture.md, "Layout"), as TAP:
#   1. each folder of src/ includes only the folders its row allows;
#   2. src/evidence does no network I/O of its own (no sockets, no curl);
#   3. src/evidence/tcg (the TCG event-log code tpm/ and dcap/ share) includes
#      no evidence family's header;
#   4. src/server includes no evidence family's header and names no TEE:
#      the tee strings of the registered verifiers never appear as string
#      literals there, except in the PCCS protocol files, whose URL paths
#      are Intel's (/sgx/..., /tdx/...).
# Run from the source root.
set -u
cd "${1:-.}" || exit 2

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"
    printf '%s\n' "$2" | sed 's/^/#   /'
}

# folder: the src/ folders (and include/vouch) its files may include
rules='
common:common
crypto:common crypto
evidence:common crypto evidence
rego:common rego
store:common store
token:common crypto store token
policy:common crypto rego store token policy
collateral:common crypto evidence store collateral
net:common net
rpc:common crypto rpc
server:common crypto evidence rego store token policy collateral net rpc server
cli:common crypto evidence rego store token policy collateral net rpc cli
agent:common crypto evidence net rpc agent
'

check_folder() {
    dir=$1
    allowed="vouch $2"
    bad=$(grep -rHo --include='*.[ch]' '^#include "[a-z_]*/' "src/$dir" |
          sed 's/:#include "\([a-z_]*\)\/$/ \1/' | sort -u |
          while read -r f inc; do
              case " $allowed " in
              *" $inc "*) ;;
              *) echo "$f includes $inc/" ;;
              esac
          done)
    if [ -z "$bad" ]; then ok "src/$dir includes only: $allowed"; else not_ok "src/$dir includes only: $allowed" "$bad"; fi
}

rows=$(printf '%s\n' "$rules" | grep ':')
while IFS=: read -r dir allowed; do
    check_folder "$dir" "$allowed"
done <<ROWS
$rows
ROWS

bad=$(grep -rnE '#include <(sys/socket\.h|netdb\.h|curl/)' src/evidence)
if [ -z "$bad" ]; then ok "src/evidence opens no sockets"; else not_ok "src/evidence opens no sockets" "$bad"; fi

bad=$(grep -rnE '#include "evidence/[a-z0-9_]+/' src/evidence/tcg | grep -v '"evidence/tcg/')
if [ -z "$bad" ]; then ok "src/evidence/tcg includes no evidence family"; else not_ok "src/evidence/tcg includes no evidence family" "$bad"; fi

bad=$(grep -rnE '#include "evidence/[a-z0-9_]+/' src/server)
if [ -z "$bad" ]; then ok "src/server includes no evidence family"; else not_ok "src/server includes no evidence family" "$bad"; fi

tees=$(grep -rhoE '\.tee = "[a-z0-9_-]+"' src/evidence | sed 's/.*"\(.*\)"/\1/' | sort -u)
if [ -z "$tees" ]; then
    not_ok "verifiers found in src/evidence" "no '.tee = \"...\"' initialiser matched"
else
    ok "verifiers found in src/evidence: $(echo $tees)"
fi
bad=''
for t in $tees; do
    hits=$(grep -rnF "\"$t\"" src/server | grep -vE '^src/server/(api_pccs|refresh)\.c:')
    [ -n "$hits" ] && bad="$bad$hits
"
done
if [ -z "$bad" ]; then ok "src/server names no TEE"; else not_ok "src/server names no TEE" "$bad"; fi

echo "1..$n"
[ "$fails" -eq 0 ]
