#!/usr/bin/env bash
# Make tee=tpm evidence in trustee's shape with a software TPM, for the
# tests of src/evidence/tpm/trustee.c: swtpm on 127.0.0.1 (a free port),
# an RSA EK and an RSA-2048 RSASSA/SHA-256 AK under it (tpm2_createak),
# PCR 8 extended with the init data hash (trustee's init data binding),
# and a quote over sha256:0-23 whose qualifying data is the nonce.
#
#   trustee_evidence.sh OUT.json NONCE_HEX INITDATA_HASH_HEX
#
# Writes {"ak_public", "tpm_quote": {"message", "signature", "pcrs"}} to
# OUT.json.  Needs swtpm, tpm2-tools and python3.  Used to make
# tests/vectors/tpm/trustee/swtpm_evidence.json (see INDEX.md there).
set -euo pipefail
out=$(realpath -m "$1") nonce=$2 initdata=$3
work=$(mktemp -d /tmp/vouch-trustee-tpm-XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir "$work/state"
swtpm socket --tpm2 --tpmstate dir="$work/state" --server type=tcp,port="$port",bindaddr=127.0.0.1 \
  --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 --flags not-need-init,startup-clear &
pid=$!
export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port"
for _ in $(seq 50); do tpm2_getrandom 4 >/dev/null 2>&1 && break; sleep 0.1; done
cd "$work"
tpm2_createek -c ek.ctx -G rsa -u ek.pub >/dev/null
tpm2_createak -C ek.ctx -c ak.ctx -G rsa -g sha256 -s rsassa -u ak.pem -f pem -n ak.name >/dev/null
tpm2_flushcontext -t
tpm2_pcrextend "8:sha256=$initdata"
tpm2_quote -c ak.ctx -l sha256:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23 \
  -q "$nonce" -m quote.msg -s quote.sig -o quote.pcrs -F values -g sha256 --scheme rsassa >/dev/null
python3 - "$out" <<'PY'
import base64, json, sys
ak = "".join(l for l in open("ak.pem").read().splitlines() if not l.startswith("-----"))
vals = open("quote.pcrs", "rb").read()
assert len(vals) == 24 * 32, len(vals)
json.dump({"ak_public": ak,
           "tpm_quote": {"message": base64.b64encode(open("quote.msg", "rb").read()).decode(),
                         "signature": base64.b64encode(open("quote.sig", "rb").read()).decode(),
                         "pcrs": [vals[i * 32:(i + 1) * 32].hex() for i in range(24)]}},
          open(sys.argv[1], "w"), indent=2)
PY
