#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# TAP test of the CLI's help: a command group alone or with --help lists its
# commands ("vouch accesskey --help"), an unknown one is named with its
# group's commands, and a command's --help says where --db points.
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
out_text "where --db points" "else sqlite:./var/vouch.db"
ok "a command without --db" 0 "$VOUCH" policy eval --help
N=$((N + 1))
if grep -q -- "--db URL  the store" "$T/out"; then
    echo "not ok $N - no --db line where the command takes none"
    FAILED=1
else
    echo "ok $N - no --db line where the command takes none"
fi

echo "1..$N"
exit $FAILED
