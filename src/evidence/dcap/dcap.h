/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_EVIDENCE_DCAP_H
#define VOUCH_EVIDENCE_DCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "vouch/err.h"

/*
 * Intel DCAP quote verification: SGX quote v3 and TDX quote v4/v5 against
 * Intel collateral (PCK certificate chain and CRLs, TCB Info, QE
 * Identity), following Intel's Quote Verification Library (QVL).
 *
 * The module does no I/O: collateral comes through a
 * struct vouch_dcap_source, and time comes in as `now` (Unix seconds).
 * Every failure message starts with the step that failed ("quote: ",
 * "pck chain: ", "root ca crl: ", "pck crl: ", "tcb info: ",
 * "qe identity: ", "qe report signature: ", "qe report data: ",
 * "qe identity match: ", "quote signature: ", "tdx module: ",
 * "tcb level: ", "qe tcb level: ", "tcb status: ").
 *
 * See docs/dcap.md for the algorithm and its differences from dcap-qvl.
 */

/* ---------------------------------------------------------------------- */
/* Quotes                                                                  */

#define VOUCH_DCAP_HEADER_LEN 48
#define VOUCH_DCAP_SGX_REPORT_LEN 384
#define VOUCH_DCAP_TD10_REPORT_LEN 584
#define VOUCH_DCAP_TD15_REPORT_LEN 648
#define VOUCH_DCAP_QUOTE_MAX (1u << 20)
#define VOUCH_DCAP_USER_DATA_LEN 20      /* header: QE vendor-specific user data */
#define VOUCH_DCAP_ATT_KEY_ECDSA_P256 2  /* header: attestation key type */
#define VOUCH_DCAP_SIG_LEN 64            /* ECDSA P-256 signature, r || s */
#define VOUCH_DCAP_ATTEST_KEY_LEN 64     /* P-256 public key, x || y */
#define VOUCH_DCAP_SGX_CONFIG_ID_LEN 64
#define VOUCH_DCAP_TD_MR_CONFIG_ID_LEN 48

/* Certification data types (Intel's cert_data_type). */
enum {
    VOUCH_DCAP_CERT_PPID_CLEARTEXT = 1, /* 1..4: PPID or PCK certificate, no chain */
    VOUCH_DCAP_CERT_PCK_CHAIN = 5,      /* PEM: PCK certificate, PCK CA, root */
    VOUCH_DCAP_CERT_QE_REPORT = 6,      /* v4/v5 outer: QE report certification data */
};

enum vouch_dcap_tee {
    VOUCH_DCAP_TEE_SGX = 0x00000000,
    VOUCH_DCAP_TEE_TDX = 0x00000081,
};

enum vouch_dcap_body_type {
    VOUCH_DCAP_BODY_SGX = 1,  /* 384-byte enclave report */
    VOUCH_DCAP_BODY_TD10 = 2, /* 584-byte TD report (TDX 1.0) */
    VOUCH_DCAP_BODY_TD15 = 3, /* 648-byte TD report (TDX 1.5) */
};

/* Offsets inside the 384-byte SGX enclave report (also the QE report). */
enum {
    VOUCH_DCAP_SGX_CPU_SVN = 0,         /* 16 */
    VOUCH_DCAP_SGX_MISC_SELECT = 16,    /* 4 */
    VOUCH_DCAP_SGX_RESERVED1 = 20,      /* 12 */
    VOUCH_DCAP_SGX_ISV_EXT_PROD_ID = 32, /* 16 */
    VOUCH_DCAP_SGX_ATTRIBUTES = 48,     /* 16: flags u64, xfrm u64 */
    VOUCH_DCAP_SGX_MR_ENCLAVE = 64,     /* 32 */
    VOUCH_DCAP_SGX_RESERVED2 = 96,      /* 32 */
    VOUCH_DCAP_SGX_MR_SIGNER = 128,     /* 32 */
    VOUCH_DCAP_SGX_RESERVED3 = 160,     /* 32 */
    VOUCH_DCAP_SGX_CONFIG_ID = 192,     /* 64 */
    VOUCH_DCAP_SGX_ISV_PROD_ID = 256,   /* 2 */
    VOUCH_DCAP_SGX_ISV_SVN = 258,       /* 2 */
    VOUCH_DCAP_SGX_CONFIG_SVN = 260,    /* 2 */
    VOUCH_DCAP_SGX_RESERVED4 = 262,     /* 42 */
    VOUCH_DCAP_SGX_ISV_FAMILY_ID = 304, /* 16 */
    VOUCH_DCAP_SGX_REPORT_DATA = 320,   /* 64 */
};

/* Offsets inside the TD report body (TD 1.0; TD 1.5 appends the last two). */
enum {
    VOUCH_DCAP_TD_TEE_TCB_SVN = 0,      /* 16 */
    VOUCH_DCAP_TD_MR_SEAM = 16,         /* 48 */
    VOUCH_DCAP_TD_MRSIGNER_SEAM = 64,   /* 48 */
    VOUCH_DCAP_TD_SEAM_ATTRIBUTES = 112, /* 8 */
    VOUCH_DCAP_TD_TD_ATTRIBUTES = 120,  /* 8 */
    VOUCH_DCAP_TD_XFAM = 128,           /* 8 */
    VOUCH_DCAP_TD_MR_TD = 136,          /* 48 */
    VOUCH_DCAP_TD_MR_CONFIG_ID = 184,   /* 48 */
    VOUCH_DCAP_TD_MR_OWNER = 232,       /* 48 */
    VOUCH_DCAP_TD_MR_OWNER_CONFIG = 280, /* 48 */
    VOUCH_DCAP_TD_RTMR0 = 328,          /* 4 x 48 */
    VOUCH_DCAP_TD_REPORT_DATA = 520,    /* 64 */
    VOUCH_DCAP_TD_TEE_TCB_SVN2 = 584,   /* 16, TD 1.5 only */
    VOUCH_DCAP_TD_MR_SERVICETD = 600,   /* 48, TD 1.5 only */
};

/* TD attribute bits (TDX module ABI), as trustee reports them. */
#define VOUCH_DCAP_TD_ATTR_DEBUG (1ull << 0)
#define VOUCH_DCAP_TD_ATTR_SEPT_VE_DISABLE (1ull << 28)
#define VOUCH_DCAP_TD_ATTR_PKS (1ull << 30)
#define VOUCH_DCAP_TD_ATTR_KL (1ull << 31)
#define VOUCH_DCAP_TD_ATTR_PERFMON (1ull << 63)

/*
 * A parsed quote.  Zero-copy: every pointer points into the bytes given to
 * vouch_dcap_quote_parse(), which must outlive this struct.
 */
struct vouch_dcap_quote {
    const uint8_t *raw;        /* the whole input */
    size_t raw_len;
    size_t len;                /* bytes the quote occupies; the rest is padding */
    uint16_t version;          /* 3, 4 or 5 */
    uint16_t att_key_type;     /* 2 = ECDSA-256 with P-256 */
    uint32_t tee_type;         /* enum vouch_dcap_tee */
    uint16_t qe_svn;
    uint16_t pce_svn;
    const uint8_t *header;     /* 48 bytes */
    const uint8_t *qe_vendor_id; /* 16 bytes */
    const uint8_t *user_data;  /* 20 bytes */
    uint16_t body_type;        /* enum vouch_dcap_body_type */
    uint32_t body_size;
    const uint8_t *body_descriptor; /* v5: the 6-byte type/size; NULL before v5 */
    const uint8_t *body;       /* body_size bytes */
    size_t signed_len;         /* the quote signature covers raw[0, signed_len) */
    const uint8_t *signature;  /* 64 bytes, r || s */
    const uint8_t *attest_key; /* 64 bytes, x || y */
    const uint8_t *qe_report;  /* 384 bytes */
    const uint8_t *qe_report_sig; /* 64 bytes */
    const uint8_t *qe_auth_data;
    uint16_t qe_auth_len;
    uint16_t cert_type;        /* innermost certification data type (5 = PCK chain) */
    const uint8_t *cert_data;
    uint32_t cert_len;
};

/*
 * Parse a quote of at most VOUCH_DCAP_QUOTE_MAX bytes.  Checks structure
 * and the fields Intel's QVL validates before any cryptography (version,
 * key type, TEE type, QE vendor, body type and size, certification data
 * types, exact consumption of the signature data).  Bytes after the
 * signature data are padding and accepted.  *ret is written on success only.
 */
vouch_err vouch_dcap_quote_parse(const uint8_t *data, size_t len,
                                 struct vouch_dcap_quote *ret, struct vouch_errbuf *eb);

/*
 * Accept a quote given as raw bytes, hex text or 0x-prefixed hex text
 * (whitespace around it ignored).  *ret is either `data` itself (binary) or
 * a new allocation the caller frees with free(); *ret_owned says which.
 */
vouch_err vouch_dcap_quote_decode(const uint8_t *data, size_t len, uint8_t **ret,
                                  size_t *ret_len, bool *ret_owned,
                                  struct vouch_errbuf *eb);

/* 64 bytes of report data, or mr_config_id / config_id ("init data"). */
const uint8_t *vouch_dcap_report_data(const struct vouch_dcap_quote *q);
const uint8_t *vouch_dcap_init_data(const struct vouch_dcap_quote *q, size_t *ret_len);

/* ---------------------------------------------------------------------- */
/* PCK certificate SGX extension (OID 1.2.840.113741.1.13.1)               */

enum vouch_dcap_ca {
    VOUCH_DCAP_CA_PROCESSOR = 0,
    VOUCH_DCAP_CA_PLATFORM = 1,
};

struct vouch_dcap_pck_info {
    uint8_t ppid[16];
    uint8_t comp_svn[16];      /* sgxtcbcomp01svn .. 16svn */
    uint16_t pce_svn;
    uint8_t cpu_svn[16];
    uint8_t pce_id[2];
    uint8_t fmspc[6];
    int sgx_type;              /* 0 Standard, 1 Scalable, 2 ScalableWithIntegrity */
    bool has_platform_instance_id;
    uint8_t platform_instance_id[16];
    bool has_configuration;
    bool dynamic_platform, cached_keys, smt_enabled;
    enum vouch_dcap_ca ca;     /* from the issuer's CN */
};

/* Read the SGX extension of a PCK certificate; *ret written on success. */
vouch_err vouch_dcap_pck_info_parse(X509 *pck, struct vouch_dcap_pck_info *ret,
                                    struct vouch_errbuf *eb);

/* ---------------------------------------------------------------------- */
/* Collateral documents                                                    */

enum vouch_dcap_tcb_status {
    VOUCH_DCAP_UP_TO_DATE,
    VOUCH_DCAP_SW_HARDENING_NEEDED,
    VOUCH_DCAP_CONFIGURATION_NEEDED,
    VOUCH_DCAP_CONFIGURATION_AND_SW_HARDENING_NEEDED,
    VOUCH_DCAP_OUT_OF_DATE,
    VOUCH_DCAP_OUT_OF_DATE_CONFIGURATION_NEEDED,
    VOUCH_DCAP_TD_RELAUNCH_ADVISED,
    VOUCH_DCAP_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED,
    VOUCH_DCAP_REVOKED,
    VOUCH_DCAP_STATUS__COUNT
};

/* "UpToDate", "SWHardeningNeeded", ... */
const char *vouch_dcap_status_name(enum vouch_dcap_tcb_status s);

struct vouch_dcap_tcb_level {
    uint8_t sgx_svn[16];
    uint16_t pce_svn;
    uint8_t tdx_svn[16];       /* TDX TCB info only */
    int64_t tcb_date;
    enum vouch_dcap_tcb_status status;
    json_t *advisory_ids;      /* array of strings (borrowed from the document) */
};

struct vouch_dcap_id_level {   /* QE identity / TDX module identity level */
    uint16_t isvsvn;
    int64_t tcb_date;
    enum vouch_dcap_tcb_status status;
    json_t *advisory_ids;
};

struct vouch_dcap_tdx_module {
    char id[16];               /* "TDX_03"; empty for the default tdxModule */
    uint8_t mrsigner[48];
    uint8_t attributes[8];
    uint8_t attributes_mask[8];
    struct vouch_dcap_id_level *levels; /* sorted by isvsvn, highest first */
    size_t n_levels;
};

/*
 * A parsed TCB Info (version 2 = PCS API v3, version 3 = API v4).  Keeps
 * the exact signed bytes: `body` is a private copy of the inner "tcbInfo"
 * JSON object as it was delivered (never re-serialised) and `signature` is
 * the raw r || s over it.  Levels are sorted as QVL sorts them.
 */
struct vouch_dcap_tcb_info {
    int version;
    enum vouch_dcap_tee tee;   /* v2 is always SGX */
    int64_t issue_date;
    int64_t next_update;
    uint8_t fmspc[6];
    uint8_t pce_id[2];
    int tcb_type;
    int64_t eval_num;
    bool has_tdx_module;
    struct vouch_dcap_tdx_module tdx_module;
    struct vouch_dcap_tdx_module *module_ids; /* tdxModuleIdentities */
    size_t n_module_ids;
    struct vouch_dcap_tcb_level *levels;
    size_t n_levels;
    char *body;                /* NUL-terminated copy of the signed bytes */
    size_t body_len;
    uint8_t signature[64];
    json_t *json;              /* the parsed body (owns the advisory arrays) */
};

/* A parsed enclave identity (QE, TD_QE, QVE, QAE), version 2. */
struct vouch_dcap_qe_identity {
    char id[8];                /* "QE", "TD_QE", "QVE", "QAE" */
    int version;
    int64_t issue_date;
    int64_t next_update;
    int64_t eval_num;
    uint8_t miscselect[4], miscselect_mask[4]; /* byte order of the report */
    uint8_t attributes[16], attributes_mask[16];
    uint8_t mrsigner[32];
    uint16_t isvprodid;
    struct vouch_dcap_id_level *levels; /* sorted by isvsvn, highest first */
    size_t n_levels;
    char *body;
    size_t body_len;
    uint8_t signature[64];
    json_t *json;
};

/*
 * Find the exact bytes of the object under `key` ("tcbInfo",
 * "enclaveIdentity", ...) in a PCS response body
 * {"tcbInfo":{...},"signature":"<hex>"} and its signature hex.  Pointers
 * point into `body`.  The body must be a well-formed JSON object.
 */
vouch_err vouch_dcap_split_signed(const char *body, size_t len, const char *key,
                                  const char **ret_inner, size_t *ret_inner_len,
                                  const char **ret_sig_hex, size_t *ret_sig_len,
                                  struct vouch_errbuf *eb);

/*
 * Parse a TCB Info / QE Identity from its exact signed bytes and its
 * signature (128 hex characters).  Structure only: no signature check.
 * Free with the matching _free(), which accepts NULL.
 */
vouch_err vouch_dcap_tcb_info_parse(const char *inner, size_t len, const char *sig_hex,
                                    size_t sig_len, struct vouch_dcap_tcb_info **ret,
                                    struct vouch_errbuf *eb);
void vouch_dcap_tcb_info_free(struct vouch_dcap_tcb_info *ti);
vouch_err vouch_dcap_qe_identity_parse(const char *inner, size_t len, const char *sig_hex,
                                       size_t sig_len, struct vouch_dcap_qe_identity **ret,
                                       struct vouch_errbuf *eb);
void vouch_dcap_qe_identity_free(struct vouch_dcap_qe_identity *qi);

/*
 * Validity window of a verified chain or CRL: the latest notBefore /
 * thisUpdate and the earliest notAfter / nextUpdate.
 */
struct vouch_dcap_window {
    int64_t not_before;        /* latest start */
    int64_t not_after;         /* earliest end */
    int64_t first_issue;       /* earliest start (QvE earliest_issue_date) */
};

/*
 * Verify a TCB signing issuer chain (PEM: "Intel SGX TCB Signing" cert and
 * optionally the root) against `root`, and that the signing cert is not on
 * `root_crl` (may be NULL: no revocation check).  Time is not judged here:
 * the window is returned in *ret_window for the caller.  *ret_key is the
 * signing key (EVP_PKEY_free()).
 */
vouch_err vouch_dcap_signing_chain_verify(const char *pem, size_t len, X509 *root,
                                          X509_CRL *root_crl, EVP_PKEY **ret_key,
                                          struct vouch_dcap_window *ret_window,
                                          struct vouch_errbuf *eb);

/* Check the document signature with the TCB signing key. */
vouch_err vouch_dcap_tcb_info_verify_sig(const struct vouch_dcap_tcb_info *ti,
                                         EVP_PKEY *key, struct vouch_errbuf *eb);
vouch_err vouch_dcap_qe_identity_verify_sig(const struct vouch_dcap_qe_identity *qi,
                                            EVP_PKEY *key, struct vouch_errbuf *eb);

/*
 * Parse a CRL (DER, PEM or hex of DER) and verify its signature with
 * `issuer` (whose subject must equal the CRL issuer).  Returns the CRL and
 * its window (thisUpdate, nextUpdate) and CRL number (-1 when absent).
 */
vouch_err vouch_dcap_crl_verify(const uint8_t *data, size_t len, X509 *issuer,
                                X509_CRL **ret, struct vouch_dcap_window *ret_window,
                                int64_t *ret_crl_num, struct vouch_errbuf *eb);

/*
 * The pinned Intel SGX Root CA (DER, SHA-256 44a0196b...74d3).  The
 * returned certificate is shared; do not free it.
 */
X509 *vouch_dcap_intel_root(void);

/* ---------------------------------------------------------------------- */
/* Collateral source                                                        */

/*
 * One collateral document handed out by a source.  Pointers stay valid
 * until the verifier calls source->release(doc) (or, without release, as
 * long as the source lives).
 */
struct vouch_dcap_doc {
    const uint8_t *data;       /* TCB info / identity: the exact signed JSON
                                  bytes; CRL: DER, PEM or hex; root: DER or PEM */
    size_t len;
    const char *sig_hex;       /* TCB info / identity: 128 hex chars */
    size_t sig_len;
    const char *issuer_chain;  /* PEM (TCB info / identity: required) */
    size_t issuer_chain_len;
    const uint8_t *sha256;     /* optional: the source's SHA-256 of data, NULL: computed */
    void *priv;                /* the source's own handle */
};

/*
 * Where collateral comes from.  Each getter fills *ret and returns VOUCH_OK,
 * or VOUCH_E_NOT_FOUND when it has no such document, or another error.
 * get_root may be NULL: the pinned Intel root is used.
 */
struct vouch_dcap_source {
    void *ctx;
    vouch_err (*get_tcb_info)(void *ctx, enum vouch_dcap_tee tee, const uint8_t fmspc[6],
                              struct vouch_dcap_doc *ret, struct vouch_errbuf *eb);
    vouch_err (*get_qe_identity)(void *ctx, enum vouch_dcap_tee tee,
                                 struct vouch_dcap_doc *ret, struct vouch_errbuf *eb);
    vouch_err (*get_pck_crl)(void *ctx, enum vouch_dcap_ca ca, struct vouch_dcap_doc *ret,
                             struct vouch_errbuf *eb);
    vouch_err (*get_root_ca_crl)(void *ctx, struct vouch_dcap_doc *ret,
                                 struct vouch_errbuf *eb);
    vouch_err (*get_root)(void *ctx, struct vouch_dcap_doc *ret, struct vouch_errbuf *eb);
    void (*release)(void *ctx, struct vouch_dcap_doc *doc);
};

/*
 * A source backed by files: PATH is a dcap-qvl QuoteCollateralV3 JSON file
 * ({pck_crl_issuer_chain, root_ca_crl, pck_crl, tcb_info_issuer_chain,
 * tcb_info, tcb_info_signature, qe_identity_issuer_chain, qe_identity,
 * qe_identity_signature}), or a directory holding
 *   tcb_info.json, qe_identity.json          PCS bodies {"tcbInfo":..,"signature":..}
 *   tcb_info_issuer_chain.pem, qe_identity_issuer_chain.pem,
 *   pck_crl_issuer_chain.pem (optional),
 *   pck_crl.{der,pem,hex}, root_ca_crl.{der,pem,hex},
 *   root_ca.{pem,der} (optional: a test root instead of Intel's).
 * One platform's collateral: get_tcb_info checks the FMSPC and TEE and
 * answers VOUCH_E_NOT_FOUND for others.  `root_pem`, when not NULL, is a
 * root certificate file overriding both.  Free with vouch_dcap_file_source_free().
 */
struct vouch_dcap_file_source;
vouch_err vouch_dcap_file_source_open(const char *path, const char *root_path,
                                      struct vouch_dcap_file_source **ret,
                                      struct vouch_errbuf *eb);
/* Same, from a QuoteCollateralV3 JSON document in memory. */
vouch_err vouch_dcap_file_source_from_json(const char *json, size_t len,
                                           struct vouch_dcap_file_source **ret,
                                           struct vouch_errbuf *eb);
const struct vouch_dcap_source *vouch_dcap_file_source_get(struct vouch_dcap_file_source *fs);
void vouch_dcap_file_source_free(struct vouch_dcap_file_source *fs);

/* ---------------------------------------------------------------------- */
/* Verification                                                             */

/*
 * A verifier: the source, the trust anchor and the cache of verified
 * collateral and PCK chains.  Thread-safe: any number of threads may call
 * vouch_dcap_verify() on one context at once (the source's getters must be
 * thread-safe too).
 */
struct vouch_dcap_ctx;

/*
 * `src` is borrowed and must outlive the context.  `root` (may be NULL:
 * the source's get_root, else the pinned Intel root) is up-referenced.
 */
vouch_err vouch_dcap_ctx_new(const struct vouch_dcap_source *src, X509 *root,
                             struct vouch_dcap_ctx **ret, struct vouch_errbuf *eb);
void vouch_dcap_ctx_free(struct vouch_dcap_ctx *ctx);

/* Drop every cached verification (the next call verifies everything). */
void vouch_dcap_ctx_flush(struct vouch_dcap_ctx *ctx);

/* Cache statistics, for tests and benchmarks. */
struct vouch_dcap_stats {
    uint64_t hits, misses, entries;
};
void vouch_dcap_ctx_stats(struct vouch_dcap_ctx *ctx, struct vouch_dcap_stats *ret);

struct vouch_dcap_result {
    struct vouch_dcap_quote quote;   /* points into the caller's quote bytes */
    enum vouch_dcap_tcb_status status;
    enum vouch_dcap_tcb_status platform_status;
    bool has_qe_status, has_module_status;
    enum vouch_dcap_tcb_status qe_status, module_status;
    json_t *advisory_ids;            /* array of strings */
    int collateral_expired;          /* 0 or 1 (QvE collateral_expiration_status) */
    int64_t tcb_date;
    int64_t tcb_eval_num;
    int64_t earliest_issue_date, latest_issue_date, earliest_expiration_date;
    int64_t pck_crl_num, root_ca_crl_num;
    uint8_t root_key_id[48];         /* SHA-384 of the root's uncompressed key */
    struct vouch_dcap_pck_info pck;
    json_t *claims;                  /* trustee-named claims (see vouch_dcap_claims) */
};

/*
 * Verify `quote` (raw bytes) at Unix time `now` with every step of Intel's
 * algorithm.  On success *ret is a new result (vouch_dcap_result_free());
 * its quote member points into `quote`, which must outlive it.  Expired
 * collateral is not an error: it sets collateral_expired.  Collateral not
 * yet valid at `now` (issueDate, thisUpdate, notBefore in the future) is.
 * A Revoked TCB, an unmatched TCB level, a bad signature or chain are
 * errors naming the step.
 */
vouch_err vouch_dcap_verify(struct vouch_dcap_ctx *ctx, const uint8_t *quote, size_t len,
                            int64_t now, struct vouch_dcap_result **ret,
                            struct vouch_errbuf *eb);
void vouch_dcap_result_free(struct vouch_dcap_result *r);

/*
 * Claims of a parsed quote, named and nested as trustee's tdx/sgx
 * verifiers name them (lower-case hex):
 *   TDX: quote.header.*, quote.body.*, [quote.type, quote.size for v5],
 *        td_attributes.{debug,septve_disable,protection_keys,key_locker,perfmon},
 *        report_data, init_data
 *   SGX: header.*, body.*, report_data, init_data
 * `pck` (may be NULL) adds platform_instance_id.  `r` (may be NULL) adds
 * the DCAP supplemental claims: tcb_status, advisory_ids,
 * collateral_expiration_status ("0"/"1"), tcb_date, tcb_eval_num,
 * earliest_issue_date, latest_issue_date, earliest_expiration_date,
 * pck_crl_num, root_ca_crl_num, root_key_id, platform_provider_id, fmspc,
 * pce_id, sgx_type [, is_dynamic_platform, is_cached_keys, is_smt_enabled].
 */
vouch_err vouch_dcap_claims(const struct vouch_dcap_quote *q,
                            const struct vouch_dcap_pck_info *pck,
                            const struct vouch_dcap_result *r, json_t **ret,
                            struct vouch_errbuf *eb);

/* ---------------------------------------------------------------------- */
/* TDX event logs (ccel.c): the CC event log, dstack's JSON log, the AA's  */
/* text log; replay into RTMR0..3 and claims                               */

#define VOUCH_DCAP_RTMR_COUNT 4
#define VOUCH_DCAP_RTMR_SIZE 48
#define VOUCH_DCAP_EVENTLOG_MAX (4u << 20)     /* bytes of a log, any format */
#define VOUCH_DCAP_AAEL_MAX (1u << 20)         /* bytes of an AA text log */

enum vouch_dcap_eventlog_format {
    VOUCH_DCAP_EL_CCEL,      /* the CCEL ACPI table's log area: a TCG crypto-agile log */
    VOUCH_DCAP_EL_DSTACK,    /* dstack's JSON array of {imr, event_type, digest, ...} */
};

struct vouch_dcap_eventlog;

/*
 * Parse a TDX event log, detecting the format from the content: JSON (an
 * array, or a JSON string holding one) is dstack's log, anything else a
 * CCEL log area (CC MR index 0 = MRTD, 1..4 = RTMR0..3; SHA-384 required).
 * dstack runtime events (type 0x08000001) have their digest recomputed; a
 * stated digest that differs is VOUCH_E_VERIFY with VOUCH_SUB_EVENTLOG.
 * *ret owns a copy of what it needs.
 */
vouch_err vouch_dcap_eventlog_parse(const uint8_t *data, size_t len,
                                    struct vouch_dcap_eventlog **ret, struct vouch_errbuf *eb);

/*
 * Add trustee's attestation-agent text log ("INIT sha384/<hex>", then
 * "<domain> <operation> <content>" lines), replayed into RTMR3 on top of
 * the log's RTMR3 events (whose value the INIT line must repeat).
 */
vouch_err vouch_dcap_eventlog_add_aael(struct vouch_dcap_eventlog *log, const char *text,
                                       size_t len, struct vouch_errbuf *eb);

void vouch_dcap_eventlog_free(struct vouch_dcap_eventlog *log);

enum vouch_dcap_eventlog_format vouch_dcap_eventlog_format(const struct vouch_dcap_eventlog *log);

/* Replay into RTMR0..3 (SHA-384 extend from zero; EV_NO_ACTION and MRTD events skipped). */
vouch_err vouch_dcap_eventlog_replay(const struct vouch_dcap_eventlog *log,
                                     uint8_t ret[VOUCH_DCAP_RTMR_COUNT][VOUCH_DCAP_RTMR_SIZE],
                                     struct vouch_errbuf *eb);

/*
 * Replay and compare with the RTMRs of a TD report body (4 x 48 bytes at
 * `rtmrs`).  Any RTMR that differs is VOUCH_E_VERIFY with sub-code
 * VOUCH_SUB_EVENTLOG naming the first ("RTMR1 (CC MR index 2) replays to
 * ..."), field "cc_eventlog" (or "aa_eventlog" for RTMR3 when the AA log
 * was added).  *ret_report (optional, also on a mismatch) is
 * [{"rtmr", "replayed", "quoted", "match"}] per RTMR.
 */
vouch_err vouch_dcap_eventlog_verify(const struct vouch_dcap_eventlog *log, const uint8_t *rtmrs,
                                     json_t **ret_report, struct vouch_errbuf *eb);

/*
 * Add the log's claims to a tdx claims object: "uefi_event_logs" (CCEL and
 * dstack boot events, trustee's shape), "ccel" {kernel, cmdline, initrd
 * digests, kernel_cmdline, kernel_parameters}, "runtime_events" (dstack),
 * "aael" (AA log), "eventlog" {present, format, events, aa_eventlog}.
 * No CC event log (log NULL, or only an AA log): {"present": false,
 * "aa_eventlog"}.
 */
vouch_err vouch_dcap_eventlog_claims(const struct vouch_dcap_eventlog *log, json_t *claims,
                                     struct vouch_errbuf *eb);

/*
 * The same in two parts: every claim but "uefi_event_logs" (only the
 * events those claims come from are decoded), and "uefi_event_logs" alone
 * (nothing without a CC event log).  The per-event list is most of the
 * cost of the claims and few policies read it (docs/dcap.md).
 */
vouch_err vouch_dcap_eventlog_derived_claims(const struct vouch_dcap_eventlog *log,
                                             json_t *claims, struct vouch_errbuf *eb);
vouch_err vouch_dcap_eventlog_event_list(const struct vouch_dcap_eventlog *log, json_t *claims,
                                         struct vouch_errbuf *eb);

/*
 * The tdx verifier's step: read "cc_eventlog" and "aa_eventlog" (base64,
 * null or absent) from the evidence document, verify them against the
 * verified quote's RTMRs and add the claims.  With ret_log, the claims
 * leave "uefi_event_logs" out and *ret_log (NULL when the evidence had no
 * log) is the verified log, for vouch_dcap_eventlog_event_list() later.
 */
vouch_err vouch_dcap_eventlog_evidence(const json_t *doc, const struct vouch_dcap_quote *q,
                                       json_t *claims, struct vouch_dcap_eventlog **ret_log,
                                       struct vouch_errbuf *eb);

#endif
