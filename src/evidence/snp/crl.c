/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AMD's certificate revocation lists.  KDS publishes one CRL per product
 * (/vcek/v1/{product}/crl, and the same list under /vlek/): issued and
 * signed (RSA-PSS, SHA-384) by the product's ARK, it lists the serial
 * numbers of revoked ASKs and ASVKs.  VCEKs and VLEKs all have serial 0
 * and are never listed, so a CRL decides whether the intermediate a
 * report's chain runs through is still good.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>

#include "crypto/x509.h"
#include "evidence/snp/snp.h"

/*
 * The SHA-256 of the last CRL whose signature checked out, per product:
 * the same stored CRL comes with every report, and its RSA-4096 check
 * would otherwise cost as much as the report's own.
 */
static uint8_t verified_fp[VOUCH_SNP_PRODUCT__COUNT][32];
static bool verified_set[VOUCH_SNP_PRODUCT__COUNT];
static pthread_mutex_t verified_lock = PTHREAD_MUTEX_INITIALIZER;

static bool crl_digest(const X509_CRL *crl, uint8_t fp[32])
{
    unsigned n = 0;

    return X509_CRL_digest(crl, EVP_sha256(), fp, &n) == 1 && n == 32;
}

static bool seen_verified(enum vouch_snp_product p, const uint8_t fp[32])
{
    bool hit;

    pthread_mutex_lock(&verified_lock);
    hit = verified_set[p] && memcmp(verified_fp[p], fp, 32) == 0;
    pthread_mutex_unlock(&verified_lock);
    return hit;
}

static void remember_verified(enum vouch_snp_product p, const uint8_t fp[32])
{
    pthread_mutex_lock(&verified_lock);
    memcpy(verified_fp[p], fp, 32);
    verified_set[p] = true;
    pthread_mutex_unlock(&verified_lock);
}

/* Issued by `ark` and signed with its key. */
static vouch_err crl_signed(X509_CRL *crl, X509 *ark, struct vouch_errbuf *eb)
{
    EVP_PKEY *pk = X509_get0_pubkey(ark);

    if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ark)) != 0)
        return vouch_fail(eb, VOUCH_E_VERIFY, "the CRL is not issued by the ARK");
    if (!pk || X509_CRL_verify(crl, pk) != 1) {
        ERR_clear_error();
        return vouch_fail(eb, VOUCH_E_VERIFY, "the CRL's signature does not verify with the "
                          "ARK's key");
    }
    return VOUCH_OK;
}

/*
 * Issued by `now` and not listing `mid` (may be NULL).  A CRL past its
 * nextUpdate still counts: what it revoked stays revoked.
 */
static vouch_err crl_listing(X509_CRL *crl, X509 *mid, int64_t now, struct vouch_errbuf *eb)
{
    X509_REVOKED *rev = NULL;
    int64_t this_update;
    char subj[160];

    if (vouch_asn1_time_to_unix(X509_CRL_get0_lastUpdate(crl), &this_update))
        return vouch_fail(eb, VOUCH_E_INVALID, "the CRL's thisUpdate cannot be read");
    if (now < this_update)
        return vouch_fail(eb, VOUCH_E_NOT_YET_VALID, "the CRL is issued in the future");
    if (mid && X509_CRL_get0_by_serial(crl, &rev, X509_get0_serialNumber(mid)) == 1) {
        vouch_x509_subject(mid, subj, sizeof(subj));
        return vouch_fail(eb, VOUCH_E_REVOKED, "'%s' is revoked by AMD's CRL", subj);
    }
    return VOUCH_OK;
}

vouch_err vouch_snp_crl_check_with(X509_CRL *crl, X509 *ark, X509 *mid, int64_t now,
                                   struct vouch_errbuf *eb)
{
    vouch_err e = crl_signed(crl, ark, eb);

    return e ? e : crl_listing(crl, mid, now, eb);
}

vouch_err vouch_snp_crl_product(X509_CRL *crl, enum vouch_snp_product *ret,
                                struct vouch_errbuf *eb)
{
    const X509_NAME *issuer = X509_CRL_get_issuer(crl);
    int i = X509_NAME_get_index_by_NID(issuer, NID_commonName, -1);
    const ASN1_STRING *s = i < 0 ? NULL : X509_NAME_ENTRY_get_data(X509_NAME_get_entry(issuer, i));
    enum vouch_snp_product p;
    const char *name;
    size_t n;

    if (s && ASN1_STRING_length(s) > 4 && memcmp(ASN1_STRING_get0_data(s), "ARK-", 4) == 0) {
        n = (size_t)ASN1_STRING_length(s) - 4;
        for (p = VOUCH_SNP_PRODUCT_MILAN; p < VOUCH_SNP_PRODUCT__COUNT; p++) {
            name = vouch_snp_product_name(p);
            if (strlen(name) == n && memcmp(ASN1_STRING_get0_data(s) + 4, name, n) == 0) {
                *ret = p;
                return VOUCH_OK;
            }
        }
    }
    return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "the CRL's issuer is not an AMD ARK of Milan, "
                      "Genoa or Turin");
}

vouch_err vouch_snp_crl_check(X509_CRL *crl, enum vouch_snp_product p,
                              enum vouch_snp_vek_role role, int64_t now,
                              struct vouch_errbuf *eb)
{
    X509 *ark = vouch_snp_pinned_ark(p), *mid;
    uint8_t fp[32];
    bool known;
    vouch_err e;

    if (!ark)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "no AMD root for this product");
    mid = role == VOUCH_SNP_VEK_VLEK ? vouch_snp_pinned_asvk(p) : vouch_snp_pinned_ask(p);
    known = crl_digest(crl, fp) && seen_verified(p, fp);
    e = known ? VOUCH_OK : crl_signed(crl, ark, eb);
    if (!e && !known)
        remember_verified(p, fp);
    if (!e)
        e = crl_listing(crl, mid, now, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "AMD %s CRL: ", vouch_snp_product_name(p));
    return VOUCH_OK;
}
