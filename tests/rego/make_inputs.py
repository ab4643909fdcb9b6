#!/usr/bin/env python3
"""Derive the policy-test inputs in tests/rego/inputs/ from the vectors in
tests/vectors/rego/ (see PROVENANCE.md there).  Run from the source root:

    python3 tests/rego/make_inputs.py

The claim names follow trustee's verifiers (specs/claims-and-tokens.md): the
attestation service puts a TEE's claims under its name (input.tdx...,
input.sgx...) and report_data / init_data at the top.  The DCAP
supplemental fields (tcb_status...) are not in the vectors; the values
added here are those of a quote verified against current collateral.
"""
import json
import struct

V = 'tests/vectors/rego/'
O = 'tests/rego/inputs/'

SUPPLEMENTAL = {
    'tcb_status': 'UpToDate',
    'collateral_expiration_status': '0',
    'advisory_ids': [],
    'tcb_date': '2024-03-13T00:00:00Z',
    'earliest_issue_date': '2025-06-01T00:00:00Z',
    'latest_issue_date': '2025-06-20T00:00:00Z',
    'earliest_expiration_date': '2025-07-20T00:00:00Z',
    'tcb_eval_num': 17,
}


def write(name, obj):
    with open(O + name, 'w') as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write('\n')


def tdx():
    c = json.load(open(V + 'parse_tdx_claims_expected.json'))
    report_data = c.pop('report_data')
    init_data = c.pop('init_data')
    c.update(SUPPLEMENTAL)
    write('tdx.json', {'tdx': c, 'report_data': report_data, 'init_data': init_data})


def sgx():
    q = open(V + 'occlum_quote.dat', 'rb').read()
    hx = lambda b: b.hex()
    hdr = {
        'version': hx(q[0:2]), 'att_key_type': hx(q[2:4]), 'att_key_data_0': hx(q[4:8]),
        'qe_svn': hx(q[8:10]), 'pce_svn': hx(q[10:12]), 'vendor_id': hx(q[12:28]),
        'user_data': hx(q[28:48]),
    }
    b = q[48:48 + 384]
    body = {
        'cpu_svn': hx(b[0:16]), 'misc_select': hx(b[16:20]), 'reserved1': hx(b[20:32]),
        'isv_ext_prod_id': hx(b[32:48]),
        'attributes': {'flags': hx(b[48:56]), 'xfrm': hx(b[56:64])},
        'mr_enclave': hx(b[64:96]), 'reserved2': hx(b[96:128]), 'mr_signer': hx(b[128:160]),
        'reserved3': hx(b[160:192]), 'config_id': hx(b[192:256]),
        'isv_prod_id': hx(b[256:258]), 'isv_svn': hx(b[258:260]), 'config_svn': hx(b[260:262]),
        'reserved4': hx(b[262:304]), 'isv_family_id': hx(b[304:320]),
        'report_data': hx(b[320:384]),
    }
    s = {'header': hdr, 'body': body}
    s.update(SUPPLEMENTAL)
    write('sgx.json', {'sgx': s, 'report_data': body['report_data'], 'init_data': body['config_id']})


def gpu():
    c = json.load(open(V + 'hopperAttestationReport-claims.txt'))
    write('gpu.json', {'nvidia': c})


def ima():
    entries = []
    for line in open(V + 'embrave_ascii_runtime_measurements_head60'):
        pcr, thash, tname, digest, path = line.rstrip('\n').split(' ', 4)
        alg, hexd = digest.split(':', 1)
        entries.append({'pcr': int(pcr), 'template_hash': thash, 'template_name': tname,
                        'digest_alg': alg, 'digest': hexd, 'path': path})
    write('ima.json', {'tpm': {'ima_log': entries}})


tdx()
sgx()
gpu()
ima()
