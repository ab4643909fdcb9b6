/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_EVIDENCE_TPM_QUOTE_H
#define VOUCH_EVIDENCE_TPM_QUOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "evidence/tpm/tpm.h"
#include "vouch/err.h"

/*
 * TPM2_Quote verification: TPMS_ATTEST (magic, type, extraData = nonce,
 * clockInfo, firmwareVersion, PCR selection and digest) signed by an
 * attestation key with RSASSA, RSAPSS or ECDSA.  TPM structures are
 * unmarshalled with libtss2-mu; signatures are checked with OpenSSL.
 */

/* TPMA_OBJECT bits. */
enum {
    VOUCH_TPMA_FIXEDTPM = 1u << 1,
    VOUCH_TPMA_STCLEAR = 1u << 2,
    VOUCH_TPMA_FIXEDPARENT = 1u << 4,
    VOUCH_TPMA_SENSITIVEDATAORIGIN = 1u << 5,
    VOUCH_TPMA_USERWITHAUTH = 1u << 6,
    VOUCH_TPMA_ADMINWITHPOLICY = 1u << 7,
    VOUCH_TPMA_NODA = 1u << 10,
    VOUCH_TPMA_RESTRICTED = 1u << 16,
    VOUCH_TPMA_DECRYPT = 1u << 17,
    VOUCH_TPMA_SIGN = 1u << 18,
};

/* What an attestation key must be: a restricted signing key that never leaves its TPM. */
#define VOUCH_TPM_AK_ATTRS \
    (VOUCH_TPMA_SIGN | VOUCH_TPMA_RESTRICTED | VOUCH_TPMA_FIXEDTPM | VOUCH_TPMA_FIXEDPARENT)

/*
 * A TPM public key (AK or EK), from a TPM2B_PUBLIC / TPMT_PUBLIC or from a
 * PEM public key.  Keys from PEM have no TPM metadata (type, attributes,
 * scheme, name are 0).  Free with vouch_tpm_key_free().
 */
struct vouch_tpm_key {
    EVP_PKEY *pkey;
    uint16_t type;            /* VOUCH_TPM_ALG_RSA / _ECC; 0 from PEM */
    uint16_t name_alg;        /* TPM_ALG_ID of the Name's hash */
    uint32_t attributes;      /* TPMA_OBJECT */
    uint16_t scheme;          /* signing scheme fixed by the key, or VOUCH_TPM_ALG_NULL */
    uint16_t scheme_hash;
    uint16_t sym_alg;         /* symmetric of a restricted decryption key (EK): AES or NULL */
    uint16_t sym_bits;
    uint16_t sym_mode;
    uint16_t curve;           /* TPM_ECC_CURVE for ECC keys: 3 = P-256, 4 = P-384 */
    unsigned bits;            /* RSA modulus or EC field bits */
    uint8_t name[2 + VOUCH_HASH_MAX_SIZE];  /* nameAlg || H(TPMT_PUBLIC) */
    size_t name_len;          /* 0 for keys from PEM */
    uint8_t *public_area;     /* the marshalled TPMT_PUBLIC (owned); NULL from PEM */
    size_t public_len;
};

/* Flags for vouch_tpm_key_load(). */
enum {
    /* Require VOUCH_TPM_AK_ATTRS (for AKs given as TPM structures). */
    VOUCH_TPM_KEY_REQUIRE_AK_ATTRS = 1u << 0,
};

/*
 * Load a key given as a TPM2B_PUBLIC (tpm2_readpublic -f tss), a bare
 * TPMT_PUBLIC (go-attestation's AK.Public), or PEM (a PUBLIC KEY or a
 * certificate).  Only RSA (2048-4096) and ECC P-256/P-384 keys.  With
 * VOUCH_TPM_KEY_REQUIRE_AK_ATTRS, a TPM-structure key without
 * sign|restricted|fixedTPM|fixedParent is rejected (VOUCH_E_VERIFY).
 * *ret is owned by the caller.
 */
vouch_err vouch_tpm_key_load(const uint8_t *data, size_t len, unsigned flags,
                             struct vouch_tpm_key **ret, struct vouch_errbuf *eb);

void vouch_tpm_key_free(struct vouch_tpm_key *k);

/*
 * A parsed TPMS_ATTEST of type TPM2_ST_ATTEST_QUOTE plus the TPMT_SIGNATURE
 * that came with it.  Plain data.
 */
struct vouch_tpm_quote {
    uint8_t signer[2 + VOUCH_HASH_MAX_SIZE];   /* qualifiedSigner */
    size_t signer_len;
    uint8_t extra[2 + VOUCH_HASH_MAX_SIZE];   /* extraData = the verifier's nonce */
    size_t extra_len;
    uint64_t clock;                           /* clockInfo */
    uint32_t reset_count;
    uint32_t restart_count;
    uint8_t safe;
    uint64_t firmware_version;
    struct vouch_tpm_pcr_select select;       /* pcrSelect */
    uint8_t pcr_digest[VOUCH_HASH_MAX_SIZE];
    size_t pcr_digest_len;
    uint16_t sig_alg;                         /* RSASSA / RSAPSS / ECDSA */
    uint16_t sig_hash;                        /* TPM_ALG_ID */
    uint8_t sig[512];                         /* RSA: the signature; ECDSA: r then s */
    size_t sig_len;                           /* RSA length, or len(r) + len(s) */
    size_t sig_r_len;                         /* ECDSA: length of r */
};

/*
 * Parse a TPMS_ATTEST (tpm2_quote -m; a TPM2B_ATTEST with its size prefix
 * is accepted too) whose magic is TPM2_GENERATED_VALUE and type
 * TPM2_ST_ATTEST_QUOTE.  Trailing bytes are an error.  The signature fields
 * of *ret are zero.
 */
vouch_err vouch_tpm_quote_parse(const uint8_t *attest, size_t len,
                                struct vouch_tpm_quote *ret, struct vouch_errbuf *eb);

/*
 * Parse a TPMT_SIGNATURE (tpm2_quote -s) of scheme RSASSA, RSAPSS or
 * ECDSA into the sig_* fields of *q.
 */
vouch_err vouch_tpm_signature_parse(const uint8_t *sig, size_t len,
                                    struct vouch_tpm_quote *q, struct vouch_errbuf *eb);

/* Options for vouch_tpm_quote_verify(). */
struct vouch_tpm_quote_check {
    /* Expected extraData.  NULL: not checked (the claims still carry it). */
    const uint8_t *nonce;
    size_t nonce_len;
    /*
     * PCR values the quote must cover: every selected PCR must be present
     * and their digest must equal pcrDigest.  NULL: pcrDigest not checked.
     */
    const struct vouch_tpm_pcrs *pcrs;
    /*
     * Expected qualifiedSigner: the AK's Qualified Name (see
     * vouch_tpm_qualified_name()), which binds the quote to the AK's
     * parent chain (e.g. the EK).  NULL: not checked.
     */
    const uint8_t *signer;
    size_t signer_len;
    unsigned flags;
};

enum {
    /* Accept signatures over SHA-1 (old Windows AKs, e.g. GCE Shielded VM). */
    VOUCH_TPM_QUOTE_ALLOW_SHA1 = 1u << 0,
};

/* TPM_RH_* hierarchy handles: the Qualified Name of a hierarchy is its handle (4 bytes, BE). */
#define VOUCH_TPM_RH_OWNER 0x40000001u
#define VOUCH_TPM_RH_ENDORSEMENT 0x4000000Bu
#define VOUCH_TPM_RH_PLATFORM 0x4000000Cu

/*
 * Qualified Name of an object: nameAlg || H_nameAlg(parent's QN || Name).
 * For a primary key parent_qn is the hierarchy handle (4 bytes).  out
 * holds 2 + VOUCH_HASH_MAX_SIZE bytes.
 */
vouch_err vouch_tpm_qualified_name(uint16_t name_alg, const uint8_t *parent_qn,
                                   size_t parent_len, const uint8_t *name, size_t name_len,
                                   uint8_t *out, size_t *ret_len);

/*
 * Verify a quote, in this order, each failure naming its step:
 *  1. parse TPMS_ATTEST and TPMT_SIGNATURE (VOUCH_E_INVALID / _TRUNCATED /
 *     _UNSUPPORTED); the signature scheme must be the AK's scheme when the
 *     AK fixes one;
 *  2. signature over the attest bytes with the AK (VOUCH_E_VERIFY
 *     "signature ..."); RSAPSS accepts any salt length (TPMs use the digest
 *     length or the maximum);
 *  3. extraData == nonce, constant time (VOUCH_E_BINDING "nonce ...");
 *  4. pcrDigest == H_sig(selected PCR values in selection order)
 *     (VOUCH_E_VERIFY "pcrDigest ..."; a selected PCR missing from the
 *     supplied values gives VOUCH_E_NOT_FOUND).
 * On success *ret (optional) holds the parsed quote.
 */
vouch_err vouch_tpm_quote_verify(const struct vouch_tpm_key *ak, const uint8_t *attest,
                                 size_t attest_len, const uint8_t *sig, size_t sig_len,
                                 const struct vouch_tpm_quote_check *check,
                                 struct vouch_tpm_quote *ret, struct vouch_errbuf *eb);

/*
 * Compute the pcrDigest a quote with selection `sel` over `pcrs` would
 * carry, hashed with h.  VOUCH_E_NOT_FOUND names a selected PCR missing.
 */
vouch_err vouch_tpm_pcr_digest(const struct vouch_tpm_pcr_select *sel,
                               const struct vouch_tpm_pcrs *pcrs, enum vouch_hash h,
                               uint8_t *out, struct vouch_errbuf *eb);

/*
 * Claims of a verified quote:
 *   {"quote": {"signer", "report_data", "clock_info": {clock,
 *    reset_count, restart_count, safe}, "firmware_version", "pcr_select",
 *    "pcr_digest", "sig_alg", "hash_alg"},
 *    "ak": {"type", "bits"|"curve", "name"?, "attributes"?},
 *    "pcrs": {bank: {"N": hex}} (when pcrs is not NULL),
 *    "warnings": [...]}
 * *ret is a new object.
 */
vouch_err vouch_tpm_quote_claims(const struct vouch_tpm_quote *q,
                                 const struct vouch_tpm_key *ak,
                                 const struct vouch_tpm_pcrs *pcrs, json_t **ret);

#endif
