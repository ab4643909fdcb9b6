/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_SNP_H
#define VOUCH_SNP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "vouch/err.h"

/*
 * AMD SEV-SNP attestation reports: the verifier core.  What is checked,
 * in which order, and the claims are described in docs/snp.md.
 *
 *   vouch_snp_report_parse     the 1184-byte report (versions 2 to 5)
 *   vouch_snp_vek_parse        the AMD extensions of a VCEK / VLEK
 *   vouch_snp_verify_report    VEK chain to the pinned AMD roots, VEK to
 *                              report match, report signature
 *   vouch_snp_check_guest      guest-level rules (VMPL 0)
 *   vouch_snp_claims           claims named as trustee names them
 *   vouch_snp_evidence_parse   trustee's {attestation_report, cert_chain}
 */

/* ------------------------------------------------------------------ */
/* Report layout (all little-endian)                                   */

#define VOUCH_SNP_REPORT_SIZE 0x4A0u
#define VOUCH_SNP_OFF_VERSION 0x000u
#define VOUCH_SNP_OFF_GUEST_SVN 0x004u
#define VOUCH_SNP_OFF_POLICY 0x008u
#define VOUCH_SNP_OFF_FAMILY_ID 0x010u
#define VOUCH_SNP_OFF_IMAGE_ID 0x020u
#define VOUCH_SNP_OFF_VMPL 0x030u
#define VOUCH_SNP_OFF_SIG_ALGO 0x034u
#define VOUCH_SNP_OFF_CURRENT_TCB 0x038u
#define VOUCH_SNP_OFF_PLATFORM_INFO 0x040u
#define VOUCH_SNP_OFF_KEY_INFO 0x048u
#define VOUCH_SNP_OFF_RESERVED0 0x04Cu
#define VOUCH_SNP_OFF_REPORT_DATA 0x050u
#define VOUCH_SNP_OFF_MEASUREMENT 0x090u
#define VOUCH_SNP_OFF_HOST_DATA 0x0C0u
#define VOUCH_SNP_OFF_ID_KEY_DIGEST 0x0E0u
#define VOUCH_SNP_OFF_AUTHOR_KEY_DIGEST 0x110u
#define VOUCH_SNP_OFF_REPORT_ID 0x140u
#define VOUCH_SNP_OFF_REPORT_ID_MA 0x160u
#define VOUCH_SNP_OFF_REPORTED_TCB 0x180u
#define VOUCH_SNP_OFF_CPUID 0x188u          /* v3+: family, model, stepping */
#define VOUCH_SNP_OFF_RESERVED1 0x18Bu
#define VOUCH_SNP_OFF_CHIP_ID 0x1A0u
#define VOUCH_SNP_OFF_COMMITTED_TCB 0x1E0u
#define VOUCH_SNP_OFF_CURRENT_VERSION 0x1E8u   /* build, minor, major, reserved */
#define VOUCH_SNP_OFF_COMMITTED_VERSION 0x1ECu
#define VOUCH_SNP_OFF_LAUNCH_TCB 0x1F0u
#define VOUCH_SNP_OFF_LAUNCH_MIT 0x1F8u     /* v5 */
#define VOUCH_SNP_OFF_CURRENT_MIT 0x200u    /* v5 */
#define VOUCH_SNP_OFF_RESERVED3_V5 0x208u
#define VOUCH_SNP_OFF_SIGNATURE 0x2A0u      /* end of the signed bytes */
#define VOUCH_SNP_OFF_SIG_S 0x2E8u
#define VOUCH_SNP_OFF_RESERVED_TAIL 0x330u  /* unsigned */

#define VOUCH_SNP_SIGNED_LEN VOUCH_SNP_OFF_SIGNATURE
#define VOUCH_SNP_SIG_COMPONENT 72u         /* r and s, little-endian */
#define VOUCH_SNP_P384_SIZE 48u

#define VOUCH_SNP_SIG_ALGO_ECDSA_P384_SHA384 1u

/* POLICY bits. */
#define VOUCH_SNP_POLICY_SMT (1ull << 16)
#define VOUCH_SNP_POLICY_RESERVED_1 (1ull << 17)   /* must be set */
#define VOUCH_SNP_POLICY_MIGRATE_MA (1ull << 18)
#define VOUCH_SNP_POLICY_DEBUG (1ull << 19)
#define VOUCH_SNP_POLICY_SINGLE_SOCKET (1ull << 20)
#define VOUCH_SNP_POLICY_KNOWN_MASK ((1ull << 26) - 1)

/* PLATFORM_INFO bits. */
#define VOUCH_SNP_PLAT_SMT_EN (1ull << 0)
#define VOUCH_SNP_PLAT_TSME_EN (1ull << 1)
#define VOUCH_SNP_PLAT_RESERVED_MASK (~0xBFull)    /* b6 and b8..63 */

/* KEY_INFO. */
#define VOUCH_SNP_KEY_AUTHOR_KEY_EN (1u << 0)
#define VOUCH_SNP_KEY_MASK_CHIP_KEY (1u << 1)
#define VOUCH_SNP_KEY_SIGNING_SHIFT 2
#define VOUCH_SNP_KEY_SIGNING_MASK 0x7u
#define VOUCH_SNP_KEY_RESERVED_MASK (~0x1Fu)
enum vouch_snp_signing_key {
    VOUCH_SNP_SIGNER_VCEK = 0,
    VOUCH_SNP_SIGNER_VLEK = 1,
    VOUCH_SNP_SIGNER_NONE = 7,
};

/* TCB_VERSION byte positions. */
#define VOUCH_SNP_TCB_LEGACY_BOOTLOADER 0
#define VOUCH_SNP_TCB_LEGACY_TEE 1
#define VOUCH_SNP_TCB_LEGACY_SNP 6
#define VOUCH_SNP_TCB_LEGACY_MICROCODE 7
#define VOUCH_SNP_TCB_TURIN_FMC 0
#define VOUCH_SNP_TCB_TURIN_BOOTLOADER 1
#define VOUCH_SNP_TCB_TURIN_TEE 2
#define VOUCH_SNP_TCB_TURIN_SNP 3
#define VOUCH_SNP_TCB_TURIN_MICROCODE 7

enum vouch_snp_product {
    VOUCH_SNP_PRODUCT_UNKNOWN = 0,
    VOUCH_SNP_PRODUCT_MILAN,
    VOUCH_SNP_PRODUCT_GENOA,
    VOUCH_SNP_PRODUCT_TURIN,
    VOUCH_SNP_PRODUCT__COUNT
};

/* "Milan", "Genoa", "Turin"; "unknown". */
const char *vouch_snp_product_name(enum vouch_snp_product p);

struct vouch_snp_tcb {
    uint64_t raw;            /* the 8 bytes as a little-endian integer */
    bool has_fmc;            /* Turin layout */
    uint8_t fmc, bootloader, tee, snp, microcode;
};

struct vouch_snp_fw_version {
    uint8_t build, minor, major;
};

struct vouch_snp_report {
    uint8_t raw[VOUCH_SNP_REPORT_SIZE];
    uint32_t version, guest_svn, vmpl, sig_algo, key_info;
    uint64_t policy, platform_info;
    uint8_t family_id[16], image_id[16];
    uint8_t report_data[64], measurement[48], host_data[32];
    uint8_t id_key_digest[48], author_key_digest[48];
    uint8_t report_id[32], report_id_ma[32], chip_id[64];
    struct vouch_snp_tcb current_tcb, reported_tcb, committed_tcb, launch_tcb;
    bool has_cpuid;          /* v3+ */
    uint8_t cpuid_fam_id, cpuid_mod_id, cpuid_step;
    struct vouch_snp_fw_version current, committed;
    bool has_mit_vectors;    /* v5 */
    uint64_t launch_mit_vector, current_mit_vector;
    uint8_t sig_r[VOUCH_SNP_SIG_COMPONENT], sig_s[VOUCH_SNP_SIG_COMPONENT];
    /* From CPUID (v3+); UNKNOWN for v2 or an unknown family/model. */
    enum vouch_snp_product product;
};

/*
 * Parse a report of exactly 1184 bytes.  Versions 2..5 (4 has the layout
 * of 3).  Rejects non-zero bytes that every version reserves (bytes a
 * later version defines are skipped instead), reserved TCB bytes, POLICY
 * bit 17 clear or bits above 25 set, and reserved PLATFORM_INFO bits.  The TCB layout follows the product (Turin's from CPUID family
 * 0x1A; v2 reports use the Milan/Genoa layout).
 */
vouch_err vouch_snp_report_parse(const uint8_t *data, size_t len, struct vouch_snp_report *ret,
                                 struct vouch_errbuf *eb);

/* Decode an 8-byte TCB_VERSION (as a little-endian integer) in one layout. */
void vouch_snp_tcb_decode(uint64_t raw, bool turin, struct vouch_snp_tcb *ret);

/* SIGNING_KEY of KEY_INFO. */
static inline unsigned vouch_snp_signing_key(const struct vouch_snp_report *r)
{
    return (r->key_info >> VOUCH_SNP_KEY_SIGNING_SHIFT) & VOUCH_SNP_KEY_SIGNING_MASK;
}

/*
 * ECDSA P-384 / SHA-384 of bytes 0x000..0x29F with the key of `pk`.
 * VOUCH_E_VERIFY when it does not verify.
 */
vouch_err vouch_snp_report_verify_signature(const struct vouch_snp_report *r, EVP_PKEY *pk,
                                            struct vouch_errbuf *eb);

/* ------------------------------------------------------------------ */
/* VCEK / VLEK                                                         */

enum vouch_snp_vek_role { VOUCH_SNP_VEK_VCEK, VOUCH_SNP_VEK_VLEK };

struct vouch_snp_vek {
    enum vouch_snp_vek_role role;       /* from the subject CN */
    enum vouch_snp_product product;     /* from the issuer CN */
    struct vouch_snp_tcb tcb;           /* blSPL, teeSPL, snpSPL, ucodeSPL (+ fmcSPL) */
    bool has_hwid;
    size_t hwid_len;                    /* 64, or 8 on Turin */
    uint8_t hwid[64];
    bool has_csp_id;
};

/*
 * Read the AMD extensions of a VCEK or VLEK (1.3.6.1.4.1.3704.1.*): role
 * and product from the subject and issuer names, the SPLs, the hwID (raw,
 * or wrapped in an OCTET STRING) and whether a cspID is present.
 */
vouch_err vouch_snp_vek_parse(X509 *vek, struct vouch_snp_vek *ret, struct vouch_errbuf *eb);

/* ------------------------------------------------------------------ */
/* Pinned roots                                                        */

/* AMD's ARK, ASK and ASVK of a product, PEM; NULL for UNKNOWN. */
const char *vouch_snp_ark_pem(enum vouch_snp_product p);
const char *vouch_snp_ask_pem(enum vouch_snp_product p);
const char *vouch_snp_asvk_pem(enum vouch_snp_product p);

/* The same, decoded once (borrowed; NULL for UNKNOWN). */
X509 *vouch_snp_pinned_ark(enum vouch_snp_product p);
X509 *vouch_snp_pinned_ask(enum vouch_snp_product p);
X509 *vouch_snp_pinned_asvk(enum vouch_snp_product p);

/* Hex SHA-256 of the DER of those certificates. */
const char *vouch_snp_ark_sha256(enum vouch_snp_product p);
const char *vouch_snp_ask_sha256(enum vouch_snp_product p);
const char *vouch_snp_asvk_sha256(enum vouch_snp_product p);

/* ------------------------------------------------------------------ */
/* Verification                                                        */

/*
 * Verify `r` with `vek` at `now`:
 *   1. SIG_ALGO, KEY_INFO (reserved bits, MASK_CHIP_KEY, SIGNING_KEY 0/1);
 *   2. the VEK's role matches SIGNING_KEY; a VCEK carries a hwID and no
 *      cspID, a VLEK no hwID; its product agrees with the report's CPUID;
 *   3. `extra` (ARK/ASK/ASVK sent with the evidence, may be NULL) each
 *      equal one of the pinned certificates of that product;
 *   4. the chain VEK -> ASK (VCEK) or ASVK (VLEK) -> ARK, with only the
 *      pinned ASK/ASVK and ARK, at `now`, and a P-384 VEK key;
 *   5. hwID == CHIP_ID (Turin: its first 8 bytes), SPLs == REPORTED_TCB;
 *   6. the report signature.
 * A verified chain is remembered (by the VEK's SHA-256) while `now` stays
 * inside its validity window, unless VOUCH_SNP_NO_CACHE.
 */
enum { VOUCH_SNP_NO_CACHE = 1 << 0 };
vouch_err vouch_snp_verify_report(const struct vouch_snp_report *r, X509 *vek,
                                  STACK_OF(X509) *extra, int64_t now, unsigned flags,
                                  struct vouch_errbuf *eb);

/*
 * A VEK on its own (an import, before it is stored): its AMD extensions
 * and its chain to the pinned ASK/ASVK and ARK of its product at `now`.
 */
vouch_err vouch_snp_vek_verify(X509 *vek, int64_t now, struct vouch_snp_vek *ret,
                               struct vouch_errbuf *eb);

/* Forget every remembered chain (for benchmarks and tests). */
void vouch_snp_cache_clear(void);

/* Guest-level rules after verification: VMPL 0. */
vouch_err vouch_snp_check_guest(const struct vouch_snp_report *r, struct vouch_errbuf *eb);

/* ------------------------------------------------------------------ */
/* AMD's CRLs (crl.c)                                                  */

/* The product of a CRL, from its issuer (ARK-Milan, ARK-Genoa, ARK-Turin). */
vouch_err vouch_snp_crl_product(X509_CRL *crl, enum vouch_snp_product *ret,
                                struct vouch_errbuf *eb);

/*
 * The mechanism, with the roots given (tests use their own PKI): `crl` is
 * issued by `ark` and signed with its key, its thisUpdate is not after
 * `now`, and `mid` (may be NULL) is not listed (VOUCH_E_REVOKED).  A CRL
 * past its nextUpdate still counts: what it revoked stays revoked.
 */
vouch_err vouch_snp_crl_check_with(X509_CRL *crl, X509 *ark, X509 *mid, int64_t now,
                                   struct vouch_errbuf *eb);

/*
 * AMD's CRL of product `p` against the pinned ARK, and the pinned ASK
 * (role VCEK) or ASVK (role VLEK) not revoked by it.  The last good
 * signature per product is remembered by the CRL's SHA-256.
 */
vouch_err vouch_snp_crl_check(X509_CRL *crl, enum vouch_snp_product p,
                              enum vouch_snp_vek_role role, int64_t now,
                              struct vouch_errbuf *eb);

/* ------------------------------------------------------------------ */
/* Collateral from the host (VOUCH_SOURCE_AMD_COLLATERAL)              */

/*
 * Stored AMD collateral a host offers the snp verifier.  Both calls
 * answer VOUCH_E_NOT_FOUND when there is none; the objects returned are
 * the caller's to free.  Thread-safe.
 */
struct vouch_snp_source {
    /* The VCEK of chip `hwid` (64 bytes; 8 on Turin) at TCB `tcb`. */
    vouch_err (*get_vcek)(void *ctx, enum vouch_snp_product p, const uint8_t *hwid,
                          size_t hwid_len, const struct vouch_snp_tcb *tcb, X509 **ret,
                          struct vouch_errbuf *eb);
    /* AMD's CRL of product `p` (verified when it was imported). */
    vouch_err (*get_crl)(void *ctx, enum vouch_snp_product p, X509_CRL **ret,
                         struct vouch_errbuf *eb);
    void *ctx;
};

/*
 * The id a VCEK has in the store and in KDS's terms: "{Product}/{hwid
 * hex}/{bl}-{tee}-{snp}-{ucode}[-{fmc}]" (decimal SPLs; fmc on Turin).
 */
#define VOUCH_SNP_VCEK_KEY_MAX 192
void vouch_snp_vcek_key(enum vouch_snp_product p, const uint8_t *hwid, size_t hwid_len,
                        const struct vouch_snp_tcb *tcb, char out[VOUCH_SNP_VCEK_KEY_MAX]);

/* KDS's path of that VCEK: "/vcek/v1/{Product}/{hwid hex}?blSPL=&teeSPL=&snpSPL=&ucodeSPL=[&fmcSPL=]". */
#define VOUCH_SNP_KDS_PATH_MAX 256
void vouch_snp_kds_vcek_path(enum vouch_snp_product p, const uint8_t *hwid, size_t hwid_len,
                             const struct vouch_snp_tcb *tcb, char out[VOUCH_SNP_KDS_PATH_MAX]);

/* ------------------------------------------------------------------ */
/* Claims, inspection and evidence                                     */

/*
 * Claims as trustee names them (without the "snp." prefix), plus
 * report_data and init_data (HOST_DATA) as lower-case hex.
 */
vouch_err vouch_snp_claims(const struct vouch_snp_report *r, json_t **ret,
                           struct vouch_errbuf *eb);

/*
 * The report as a JSON object in trustee's `attestation_report` shape
 * (every field, byte arrays as arrays of numbers), plus "product".  The
 * data side of `vouch inspect snp`.
 */
vouch_err vouch_snp_report_to_json(const struct vouch_snp_report *r, json_t **ret,
                                   struct vouch_errbuf *eb);

/* Build the 1184 report bytes back from trustee's `attestation_report` object. */
vouch_err vouch_snp_report_from_json(const json_t *obj, uint8_t out[VOUCH_SNP_REPORT_SIZE],
                                     struct vouch_errbuf *eb);

#define VOUCH_SNP_EVIDENCE_MAX (256u * 1024)
#define VOUCH_SNP_MAX_CERTS 8
#define VOUCH_SNP_CERT_MAX 8192u

struct vouch_snp_evidence {
    struct vouch_snp_report report;
    X509 *vek;                     /* VCEK or VLEK entry, or NULL */
    STACK_OF(X509) *extra;         /* ARK / ASK entries (never NULL on success) */
    X509_CRL *crl;                 /* the CRL entry, or NULL */
};

/*
 * Parse trustee's tee=snp evidence:
 *   {"attestation_report": {...}, "cert_chain": [{"cert_type": "VCEK",
 *    "data": [48, 130, ...]}, ...] | null}
 * Errors name the field at fault.
 */
vouch_err vouch_snp_evidence_parse(const uint8_t *doc, size_t len,
                                   struct vouch_snp_evidence *ret, struct vouch_errbuf *eb);
void vouch_snp_evidence_done(struct vouch_snp_evidence *ev);

#endif
