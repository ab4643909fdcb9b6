#!/bin/sh
# bench/agent: one vouch-agent report round (GenerateNonce, TPM2_Quote on
# swtpm, 1,000 new IMA entries, PutMessage to a real vouchd on this machine),
# wall time per round, and the agent's RSS while it waits for its next round.
# usage: bench/agent/run.sh BUILD_DIR [ROUNDS]      (run from the source root)
set -eu
build=$(cd "${1:-build/bench}" && pwd)
rounds=${2:-5}
VOUCHD=$build/src/server/vouchd VOUCH=$build/src/cli/vouch VOUCH_AGENT=$build/src/agent/vouch-agent \
  node bench/agent/round.mjs "$rounds"
