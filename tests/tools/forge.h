/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test-only DCAP forge: a throwaway PKI shaped like Intel's (root, PCK
 * Platform CA, PCK certificate with the SGX extension, TCB signing
 * certificate, CRLs), a quote builder and a collateral signer.  Used by the
 * unit tests and by the dcap_forge program (tests/tools/dcap_forge.c).
 * Never linked into libvouch.
 */
#ifndef VOUCH_TESTS_FORGE_H
#define VOUCH_TESTS_FORGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct forge_opts {
    bool tdx;                  /* TDX (default) or SGX */
    int version;               /* 3 (SGX), 4 or 5 (TDX); 0: 3 for SGX, 4 for TDX */
    uint8_t report_data[64];
    uint8_t init_data[64];     /* TDX MRCONFIGID (48 bytes used) / SGX CONFIGID */
    uint64_t td_attributes;    /* TDX; default set by forge_defaults: SEPT_VE_DISABLE */
    bool has_rtmrs;            /* TDX: RTMR0..3 from `rtmrs`, else a0.., a1.., a2.., a3.. */
    uint8_t rtmrs[4 * 48];
    bool sgx_debug;            /* SGX enclave DEBUG attribute */
    const char *status;        /* platform TCB level the PCK matches: "UpToDate", ... */
    const char *qe_status;     /* QE identity level of the QE: "UpToDate", "OutOfDate", ... */
    const char *module_status; /* TDX module identity level: "UpToDate", "OutOfDate" */
    bool below_all;            /* platform TCB below every level (TCB not supported) */
    bool revoked_pck;          /* PCK serial listed on the PCK CRL */
    bool bad_qe_report_data;   /* QE report data not SHA-256(key || auth data) */
    bool bad_quote_sig;        /* quote signature over other bytes */
    int64_t now;               /* documents issued at now - 1 h, valid `days` */
    int days;                  /* collateral validity, default 30 */
};

struct forge_out {
    uint8_t *quote;            /* free() each */
    size_t quote_len;
    char *collateral;          /* QuoteCollateralV3 JSON */
    char *root_pem;            /* the test root certificate */
    char *tcb_info;            /* the signed TCB info text (also inside collateral) */
};

void forge_defaults(struct forge_opts *o, int64_t now);

/* 0 on success; on failure a message in err. */
int forge_make(const struct forge_opts *o, struct forge_out *out, char *err, size_t errlen);

void forge_out_free(struct forge_out *out);

#endif
