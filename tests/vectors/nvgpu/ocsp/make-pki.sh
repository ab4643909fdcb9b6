#!/bin/sh
# Regenerate the test PKI used by the OCSP tests (tests/unit/test_nvgpu_ocsp.c).
# Shaped like NVIDIA's chains: a P-384 root, an intermediate CA that also
# names the OCSP responder in its AIA, end-entity certificates in every
# OCSP state, and a delegated responder (id-kp-OCSPSigning) under the
# intermediate.  Validity 2024-01-01 .. 2124-01-01 so fixed test times work.
# Usage: sh make-pki.sh   (in this directory; overwrites the files)
set -eu
cd "$(dirname "$0")"
rm -rf work && mkdir work
: > work/index.txt
echo 1000 > work/serial
cat > work/ca.cnf <<'CNF'
[ca]
default_ca = test
[test]
dir = work
database = $dir/index.txt
serial = $dir/serial
new_certs_dir = $dir
default_md = sha384
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
[root]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[inter]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
authorityInfoAccess = OCSP;URI:http://127.0.0.1:9/
[leaf]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
authorityInfoAccess = OCSP;URI:http://127.0.0.1:9/
[responder]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = OCSPSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$1.key" 2>/dev/null; }
csr() { openssl req -new -key "$1.key" -subj "/CN=$2" -out "work/$1.csr"; }
sign() { # name issuer ext
  openssl ca -batch -config work/ca.cnf -cert "$2.pem" -keyfile "$2.key" -extensions "$3" \
    -startdate 20240101000000Z -enddate 21240101000000Z -in "work/$1.csr" -out "$1.pem" \
    -notext 2>/dev/null
}
key root; csr root "Vouch Test OCSP Root"
openssl ca -batch -config work/ca.cnf -selfsign -keyfile root.key -extensions root \
  -startdate 20240101000000Z -enddate 21240101000000Z -in work/root.csr -out root.pem \
  -notext 2>/dev/null
key inter; csr inter "Vouch Test OCSP Intermediate"; sign inter root inter
for n in good revoked hold unknown; do key $n; csr $n "Vouch Test $n"; sign $n inter leaf; done
key responder; csr responder "Vouch Test OCSP Responder"; sign responder inter responder
key rogue
openssl req -x509 -new -key rogue.key -subj "/CN=Vouch Test Rogue Responder" -days 36500 \
  -out rogue.pem 2>/dev/null
# The responder's view: only what the intermediate issued, with two revoked.
: > index.txt
for n in good revoked hold responder; do
  serial=$(openssl x509 -in $n.pem -noout -serial | cut -d= -f2)
  subj=$(openssl x509 -in $n.pem -noout -subject -nameopt compat | sed 's/^subject=//')
  case $n in
    revoked) printf 'R\t21240101000000Z\t240601000000Z,keyCompromise\t%s\tunknown\t%s\n' "$serial" "$subj" ;;
    hold) printf 'R\t21240101000000Z\t240601000000Z,certificateHold\t%s\tunknown\t%s\n' "$serial" "$subj" ;;
    *) printf 'V\t21240101000000Z\t\t%s\tunknown\t%s\n' "$serial" "$subj" ;;
  esac >> index.txt
done
rm -rf work
