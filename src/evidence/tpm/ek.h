/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_EVIDENCE_TPM_EK_H
#define VOUCH_EVIDENCE_TPM_EK_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "evidence/tpm/quote.h"
#include "vouch/err.h"

/*
 * Binding an attestation key to a TPM: the EK certificate chain (to roots
 * the service is configured with: a TPM vendor's, a cloud's such as the
 * Aliyun TPM Root CA, swtpm's local CA in tests), and credential
 * activation.  MakeCredential runs here, in software, so the verifier needs
 * no TPM: it encrypts a secret to the EK such that only the TPM holding
 * both the EK and an object with the given Name can recover it
 * (TPM2_ActivateCredential).
 */

/*
 * Parse an EK certificate as read from NV (DER, possibly followed by the
 * index's 0x00/0xFF fill) or PEM.  *ret is owned by the caller.
 */
vouch_err vouch_tpm_ek_cert_parse(const uint8_t *data, size_t len, X509 **ret,
                                  struct vouch_errbuf *eb);

/*
 * Verify that cert chains to one of roots (pinned trust anchors) through
 * intermediates (may be NULL) at Unix time now; `chain_flags` are
 * vouch_x509_verify_chain()'s (e.g. VOUCH_CHAIN_NO_TIME for EK certificates
 * whose validity the policy ignores).  If ek is not NULL, the certificate's
 * key must be ek's public key (VOUCH_E_BINDING otherwise).
 */
vouch_err vouch_tpm_ek_cert_verify(X509 *cert, STACK_OF(X509) *intermediates,
                                   STACK_OF(X509) *roots, const struct vouch_tpm_key *ek,
                                   int64_t now, unsigned chain_flags, struct vouch_errbuf *eb);

/*
 * Claims about a verified EK certificate: {"subject", "issuer", "serial",
 * "not_before", "not_after" (RFC 3339), "sha256", "tpm_manufacturer",
 * "tpm_model", "tpm_version" (from the subjectAltName directoryName, when
 * present)}.  *ret is new.
 */
vouch_err vouch_tpm_ek_cert_claims(X509 *cert, json_t **ret);

/* The output of MakeCredential, both marshalled with their u16 size prefix. */
struct vouch_tpm_credential {
    uint8_t *id_object;           /* TPM2B_ID_OBJECT (credentialBlob) */
    size_t id_object_len;
    uint8_t *secret;              /* TPM2B_ENCRYPTED_SECRET */
    size_t secret_len;
};

/*
 * TPM2_MakeCredential in software: protect `credential` (1 up to the
 * digest size of the EK's nameAlg bytes) for the object named `name` (the
 * AK's Name, nameAlg || digest) under ek, a restricted decryption key with
 * an AES-CFB symmetric definition: an RSA EK gets an RSA-OAEP-encrypted
 * seed (label "IDENTITY"), an ECC EK an ephemeral ECDH point (KDFe).  The
 * randomness comes from OpenSSL's RNG.  Free *ret's contents with
 * vouch_tpm_credential_free().
 */
vouch_err vouch_tpm_make_credential(const struct vouch_tpm_key *ek, const uint8_t *name,
                                    size_t name_len, const uint8_t *credential, size_t cred_len,
                                    struct vouch_tpm_credential *ret, struct vouch_errbuf *eb);

void vouch_tpm_credential_free(struct vouch_tpm_credential *c);

/*
 * The verifier's half of binding an AK to an EK by credential activation:
 * check that ak is a TPM key (loaded from TPMT_PUBLIC / TPM2B_PUBLIC, not
 * PEM) with the attestation-key attributes VOUCH_TPM_AK_ATTRS
 * (VOUCH_E_VERIFY otherwise), then MakeCredential(ek, Name(ak), secret).
 * The caller keeps `secret` (random, single use) and accepts the AK when
 * the agent returns it after TPM2_ActivateCredential (compare in constant
 * time).  Free *ret's contents with vouch_tpm_credential_free().
 */
vouch_err vouch_tpm_ak_challenge(const struct vouch_tpm_key *ek, const struct vouch_tpm_key *ak,
                                 const uint8_t *secret, size_t secret_len,
                                 struct vouch_tpm_credential *ret, struct vouch_errbuf *eb);

/*
 * The file tpm2_makecredential writes and tpm2_activatecredential reads:
 * 0xBADCC0DE | u32 1 | TPM2B_ID_OBJECT | TPM2B_ENCRYPTED_SECRET.  *ret is
 * allocated (free with free()).
 */
vouch_err vouch_tpm_credential_file(const struct vouch_tpm_credential *c, uint8_t **ret,
                                    size_t *ret_len);

/*
 * KDFa (TPM 2.0 Part 1, 11.4.10.2): SP 800-108 counter-mode HMAC with the
 * label's NUL included.  contextV may be NULL.  Writes bits/8 bytes.
 */
vouch_err vouch_tpm_kdfa(enum vouch_hash h, const uint8_t *key, size_t key_len,
                         const char *label, const uint8_t *context_u, size_t u_len,
                         const uint8_t *context_v, size_t v_len, unsigned bits, uint8_t *out);

/* KDFe (Part 1, 11.4.10.3): hash-based one-step KDF over Z. */
vouch_err vouch_tpm_kdfe(enum vouch_hash h, const uint8_t *z, size_t z_len, const char *label,
                         const uint8_t *party_u, size_t u_len, const uint8_t *party_v,
                         size_t v_len, unsigned bits, uint8_t *out);

#endif
