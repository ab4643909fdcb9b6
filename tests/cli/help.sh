#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# TAP test of the CLI's help: a command group alone or with --help lists its
# commands ("vouch accesskey --help"), an unknown one is named with its
# group's commands, a command's --help says where --db points, and every
# command's --help describes every --option of its usage line.
# Usage: help.sh VOUCH_BINARY   (run from the source root)
set -u
VOUCH=$1
. tests/cli/tap.sh

ok "vouch --help" 0 "$VOUCH" --help
out_text "lists the commands" "accesskey create"
ok "a group with --help" 0 "$VOUCH" accesskey --help
out_text "lists create" "vouch accesskey create [--db URL] [--kek-file FILE] ACCOUNT"
out_text "lists list" "vouch accesskey list [--db URL] [--account NAME]"
out_text "lists disable" "vouch accesskey disable [--db URL] ACCESSKEYID"
ok "a group alone is a usage error" 2 "$VOUCH" db
err_has "and shows its commands" "vouch db migrate"
ok "an unknown command of a group" 2 "$VOUCH" accesskey frob
err_has "is named" "unknown command 'accesskey frob'"
err_has "with the group's commands" "vouch accesskey disable"
ok "an unknown command" 2 "$VOUCH" nosuch
err_has "is named" "unknown command 'nosuch'"
ok "an unknown command with an argument" 2 "$VOUCH" nosuch foo
N=$((N + 1))
if [ "$(grep -c "unknown command" "$T/err")" -eq 1 ]; then
    echo "ok $N - is named once"
else
    echo "not ok $N - is named once"
    sed 's/^/# /' "$T/err" | head -5
    FAILED=1
fi
ok "a command's --help" 0 "$VOUCH" accesskey create --help
out_text "its usage" "usage: vouch accesskey create [--db URL] [--kek-file FILE] ACCOUNT"
out_text "where --db points" "sqlite:./var/vouch.db"
ok "a command without --db" 0 "$VOUCH" policy eval --help
N=$((N + 1))
if grep -q -- "^  --db" "$T/out"; then
    echo "not ok $N - no --db line where the command takes none"
    FAILED=1
else
    echo "ok $N - no --db line where the command takes none"
fi

# Every command of 'vouch --help' ("keys rotate" is one): its --help exits 0,
# and after the usage line and the summary comes a blank line, then the
# options list, "  NAME ARG  description", in which every --option of the
# usage line starts a line and has a description.
ok "vouch --help for the command list" 0 "$VOUCH" --help
sed -n '/^commands:$/,/^$/s/^  \([^ ].*\)/\1/p' "$T/out" | sed 's/  .*//' >"$T/commands"
N=$((N + 1))
if [ "$(wc -l <"$T/commands")" -ge 20 ] && grep -qx "keys rotate" "$T/commands"; then
    echo "ok $N - the command list is read ($(wc -l <"$T/commands") commands)"
else
    echo "not ok $N - the command list is read"
    sed 's/^/# /' "$T/commands"
    FAILED=1
fi
while read -r cmd; do
    N=$((N + 1))
    # shellcheck disable=SC2086  # a two-word command is two arguments
    if ! "$VOUCH" $cmd --help >"$T/cmd" 2>&1 </dev/null; then
        echo "not ok $N - vouch $cmd --help exits 0"
        sed 's/^/# /' "$T/cmd" | head -5
        FAILED=1
        continue
    fi
    sed '1,/^$/d' "$T/cmd" >"$T/opts"
    bad=
    for opt in $(head -1 "$T/cmd" | grep -o -- '--[A-Za-z0-9][A-Za-z0-9-]*' | sort -u); do
        grep -Eq -- "^  $opt( [^ ]+)* {2,}[^ ]" "$T/opts" || bad="$bad $opt"
    done
    # a line of the list (two spaces in) without a description after its name
    bad="$bad$(grep -E '^  [^ ]' "$T/opts" | grep -Ev '^  [^ ]+( [^ ]+)* {2,}[^ ]' |
        sed 's/^ */ /' | tr -d '\n')"
    if [ -z "$bad" ]; then
        echo "ok $N - vouch $cmd --help describes every option"
    else
        echo "not ok $N - vouch $cmd --help lacks a description of:$bad"
        sed 's/^/# /' "$T/cmd"
        FAILED=1
    fi
done <"$T/commands"

echo "1..$N"
exit $FAILED
