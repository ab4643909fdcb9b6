#!/usr/bin/env bash
# The TPM side of the swtpm end-to-end test: tests/unit/test_tpm_swtpm.c
# starts swtpm on 127.0.0.1:PORT and calls this script for each step, then
# verifies what it wrote with libvouch.  tpm2-tools talk to swtpm through
# libtss2-tcti-swtpm (no resource manager, so transient objects are flushed
# after every step).
#
#   swtpm_client.sh setup    WORK PORT               EKs (RSA, ECC P-256), EK cert, AKs
#   swtpm_client.sh extend   WORK PORT SPEC...       tpm2_pcrextend SPEC ("4:sha1=..,sha256=..")
#   swtpm_client.sh quote    WORK PORT NONCE SEL AK  quote_AK.{msg,sig,pcrs}
#   swtpm_client.sh activate WORK PORT EK AK CRED OUT
set -euo pipefail
cmd=$1 work=$2 port=$3
shift 3
export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port"
cd "$work"
case $cmd in
setup)
  tpm2_createek -c ek_rsa.ctx -G rsa -u ek_rsa.pub -f tss >/dev/null
  tpm2_nvread 0x01c00002 -o ek_rsa_cert.der >/dev/null
  tpm2_flushcontext -t
  tpm2_createek -c ek_ecc.ctx -G ecc -u ek_ecc.pub -f tss >/dev/null
  tpm2_flushcontext -t
  for spec in rsa:rsa:rsassa pss:rsa:rsapss ecc:ecc:ecdsa; do
    IFS=: read -r name alg scheme <<<"$spec"
    tpm2_createak -C ek_rsa.ctx -c "ak_$name.ctx" -G "$alg" -g sha256 -s "$scheme" \
      -u "ak_$name.pem" -f pem -n "ak_$name.name" >/dev/null
    tpm2_readpublic -c "ak_$name.ctx" -o "ak_$name.tpm2b_public" -f tss >/dev/null
    tpm2_flushcontext -t
  done
  ;;
extend)
  for spec in "$@"; do tpm2_pcrextend "$spec"; done
  ;;
quote)
  nonce=$1 sel=$2 ak=$3
  case $ak in rsa) scheme=rsassa ;; pss) scheme=rsapss ;; *) scheme=ecdsa ;; esac
  tpm2_quote -c "ak_$ak.ctx" -l "$sel" -q "$nonce" -m "quote_$ak.msg" -s "quote_$ak.sig" \
    -o "quote_$ak.pcrs" -g sha256 --scheme "$scheme" >/dev/null
  tpm2_flushcontext -t
  ;;
activate)
  ek=$1 ak=$2 cred=$3 out=$4
  rm -f "$out"
  tpm2_startauthsession --policy-session -S session.ctx
  tpm2_policysecret -S session.ctx -c e >/dev/null
  status=0
  tpm2_activatecredential -c "$ak" -C "$ek" -i "$cred" -o "$out" -P session:session.ctx \
    >/dev/null 2>activate.err || status=$?
  tpm2_flushcontext session.ctx
  tpm2_flushcontext -t
  exit $status
  ;;
*)
  echo "swtpm_client.sh: unknown step $cmd" >&2
  exit 2
  ;;
esac
