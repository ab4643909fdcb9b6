#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# TAP test of `vouch inspect quote QUOTE --eventlog LOG [--aa-eventlog AALOG]`
# on real pairs (tests/vectors/tdx-eventlog): a GCP CCEL and a dstack JSON log
# replay to their quotes' RTMRs (exit 0); another quote's log, or an AA log the
# quote never saw, exits 1 and shows which RTMR differs.
# Usage: inspect_eventlog.sh VOUCH_BINARY   (run from the source root)
set -u
VOUCH=$1
V=tests/vectors/tdx-eventlog
. tests/cli/tap.sh

GQ=$V/go-tdx-guest/cos-113-tdx-quote.dat
GL=$V/go-tdx-guest/ccel_data.dat
DQ=$V/dstack/quote.bin
DL=$V/dstack/event_log.json

ok "GCP CCEL replays to its quote" 0 "$VOUCH" inspect quote "$GQ" --eventlog "$GL"
out_text "prints the replay per RTMR" "eventlog_replay.rtmr2.match              true"
out_text "prints the decoded kernel command line" "ccel.kernel_parameters.root              /dev/dm-0"
out_text "prints the decoded events" "EV_EFI_VARIABLE_DRIVER_CONFIG"
ok "dstack JSON log replays to its quote (--json)" 0 "$VOUCH" inspect quote "$DQ" --eventlog "$DL" --json
out_text "runtime events as claims" '"compose-hash": "3763bc34552cf3a27ff71ad5f7a90471562a1a2df552dfc1998cba2d60da27e7"'
ok "another quote's log exits 1" 1 "$VOUCH" inspect quote "$GQ" --eventlog "$DL"
err_has "names the RTMR" "RTMR0 (CC MR index 1)"
out_text "shows the mismatch" "eventlog_replay.rtmr0.match              false"
ok "an AA log the quote never saw exits 1" 1 \
    "$VOUCH" inspect quote "$GQ" --eventlog "$GL" --aa-eventlog $V/trustee/AAEL_data_1
err_has "names RTMR3" "RTMR3 (CC MR index 4)"
head -c 300 "$GL" > "$T/short"
ok "a truncated log exits 1" 1 "$VOUCH" inspect quote "$GQ" --eventlog "$T/short"
ok "--aa-eventlog needs --eventlog" 2 "$VOUCH" inspect quote "$GQ" --aa-eventlog "$GL"
ok "unreadable log" 3 "$VOUCH" inspect quote "$GQ" --eventlog "$T/none"

echo "1..$N"
exit $FAILED
