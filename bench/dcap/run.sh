#!/bin/sh
# bench/dcap: DCAP verifications/s, single thread, cold and warm, for a real
# TDX v4 quote (dcap-qvl's sample, vector V2) at its collateral's time, and
# npm @phala/dcap-qvl (pure JS, pinned by package-lock.json) on the same
# quote and collateral in the same run.
# usage: bench/dcap/run.sh BUILD_DIR [SECONDS]     (run from the source root)
set -eu
build=${1:-build/bench}
secs=${2:-5}
q=tests/vectors/dcap/dcap-qvl/sample/tdx_quote
c=tests/vectors/dcap/dcap-qvl/sample/tdx_quote_collateral.json
t=1752919234
(cd bench/dcap/peer && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
ours=$("$build/bench/bench_dcap" "$secs" "$q" "$c" "$t")
peer=$(cd bench/dcap/peer && node bench.js "../../../$q" "../../../$c" "$t" "$secs")
echo "$ours"
echo "$peer"
cold=$(echo "$ours" | sed -n 's/^mode=cold .*per_sec=\([0-9]*\).*/\1/p')
first=$(echo "$ours" | sed -n 's/^mode=cold-nothing-cached .*per_sec=\([0-9]*\).*/\1/p')
warm=$(echo "$ours" | sed -n 's/^mode=warm .*per_sec=\([0-9]*\).*/\1/p')
js=$(echo "$peer" | sed -n 's/.*per_sec=\([0-9]*\).*/\1/p')
echo "ratio cold/dcap-qvl=$(echo "scale=1; $cold / $js" | bc) warm/dcap-qvl=$(echo "scale=1; $warm / $js" | bc) cold-nothing-cached/dcap-qvl=$(echo "scale=1; $first / $js" | bc)"
