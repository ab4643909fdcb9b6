/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Verifying a report with its VEK: signer role, pinned AMD chain, the
 * VEK's hwID and SPLs against the report, the report signature.  The
 * order is the one docs/snp.md lists.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "common/codec.h"
#include "crypto/sig.h"
#include "crypto/x509.h"
#include "evidence/snp/snp.h"

/* ------------------------------------------------------------------ */
/* Pinned anchors, decoded once                                        */

struct anchors {
    X509 *ark, *ask, *asvk;
};

static struct anchors anchors[VOUCH_SNP_PRODUCT__COUNT];
static pthread_once_t anchors_once = PTHREAD_ONCE_INIT;

static X509 *decode_pinned(const char *pem)
{
    STACK_OF(X509) *sk = NULL;
    X509 *x = NULL;

    if (pem && vouch_x509_parse_pem_chain(pem, strlen(pem), 1, &sk, NULL) == VOUCH_OK) {
        x = sk_X509_value(sk, 0);
        X509_up_ref(x);
    }
    sk_X509_pop_free(sk, X509_free);
    return x;
}

static void anchors_init(void)
{
    enum vouch_snp_product p;

    for (p = VOUCH_SNP_PRODUCT_MILAN; p < VOUCH_SNP_PRODUCT__COUNT; p++) {
        anchors[p].ark = decode_pinned(vouch_snp_ark_pem(p));
        anchors[p].ask = decode_pinned(vouch_snp_ask_pem(p));
        anchors[p].asvk = decode_pinned(vouch_snp_asvk_pem(p));
    }
}

static const struct anchors *anchors_of(enum vouch_snp_product p)
{
    if (p <= VOUCH_SNP_PRODUCT_UNKNOWN || p >= VOUCH_SNP_PRODUCT__COUNT)
        return NULL;
    pthread_once(&anchors_once, anchors_init);
    return &anchors[p];
}

X509 *vouch_snp_pinned_ark(enum vouch_snp_product p)
{
    return anchors_of(p) ? anchors_of(p)->ark : NULL;
}

X509 *vouch_snp_pinned_ask(enum vouch_snp_product p)
{
    return anchors_of(p) ? anchors_of(p)->ask : NULL;
}

X509 *vouch_snp_pinned_asvk(enum vouch_snp_product p)
{
    return anchors_of(p) ? anchors_of(p)->asvk : NULL;
}

/* ------------------------------------------------------------------ */
/* Verified chains, remembered by the VEK's SHA-256                    */

#define CACHE_SLOTS 16

struct cached_chain {
    bool used;
    uint8_t fp[32];
    int64_t not_before, not_after;   /* the chain's common validity window */
    struct vouch_snp_vek info;
    EVP_PKEY *pk;
};

static struct cached_chain cache[CACHE_SLOTS];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static struct cached_chain *slot_of(const uint8_t fp[32])
{
    return &cache[fp[0] % CACHE_SLOTS];
}

static bool cache_get(const uint8_t fp[32], int64_t now, struct vouch_snp_vek *info,
                      EVP_PKEY **pk)
{
    struct cached_chain *c;
    bool hit;

    pthread_mutex_lock(&cache_lock);
    c = slot_of(fp);
    hit = c->used && memcmp(c->fp, fp, 32) == 0 && now >= c->not_before && now <= c->not_after;
    if (hit) {
        *info = c->info;
        EVP_PKEY_up_ref(c->pk);
        *pk = c->pk;
    }
    pthread_mutex_unlock(&cache_lock);
    return hit;
}

static void cache_put(const uint8_t fp[32], int64_t nb, int64_t na,
                      const struct vouch_snp_vek *info, EVP_PKEY *pk)
{
    struct cached_chain *c;

    pthread_mutex_lock(&cache_lock);
    c = slot_of(fp);
    EVP_PKEY_free(c->pk);
    EVP_PKEY_up_ref(pk);
    *c = (struct cached_chain){ .used = true, .not_before = nb, .not_after = na,
                                .info = *info, .pk = pk };
    memcpy(c->fp, fp, 32);
    pthread_mutex_unlock(&cache_lock);
}

void vouch_snp_cache_clear(void)
{
    size_t i;

    pthread_mutex_lock(&cache_lock);
    for (i = 0; i < CACHE_SLOTS; i++) {
        EVP_PKEY_free(cache[i].pk);
        memset(&cache[i], 0, sizeof(cache[i]));
    }
    pthread_mutex_unlock(&cache_lock);
}

/* ------------------------------------------------------------------ */
/* Steps                                                               */

static vouch_err check_key_info(const struct vouch_snp_report *r, struct vouch_errbuf *eb)
{
    unsigned signer = vouch_snp_signing_key(r);

    if (r->key_info & VOUCH_SNP_KEY_RESERVED_MASK)
        return vouch_fail(eb, VOUCH_E_INVALID, "KEY_INFO 0x%x sets reserved bits", r->key_info);
    if (r->key_info & VOUCH_SNP_KEY_MASK_CHIP_KEY)
        return vouch_fail(eb, VOUCH_E_VERIFY, "the report is not signed (MASK_CHIP_KEY)");
    if (signer != VOUCH_SNP_SIGNER_VCEK && signer != VOUCH_SNP_SIGNER_VLEK)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "SIGNING_KEY %u: only a VCEK (0) or a VLEK "
                          "(1) is accepted", signer);
    if (r->sig_algo != VOUCH_SNP_SIG_ALGO_ECDSA_P384_SHA384)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "signature algorithm %u (1, ECDSA P-384, "
                          "is known)", r->sig_algo);
    return VOUCH_OK;
}

/* The VEK's role and product agree with the report. */
static vouch_err check_role(const struct vouch_snp_report *r, const struct vouch_snp_vek *k,
                            struct vouch_errbuf *eb)
{
    bool want_vlek = vouch_snp_signing_key(r) == VOUCH_SNP_SIGNER_VLEK;

    if (want_vlek != (k->role == VOUCH_SNP_VEK_VLEK))
        return vouch_fail(eb, VOUCH_E_VERIFY, "the report is signed by a %s, the certificate "
                          "is a %s", want_vlek ? "VLEK" : "VCEK",
                          k->role == VOUCH_SNP_VEK_VLEK ? "VLEK" : "VCEK");
    if (k->role == VOUCH_SNP_VEK_VCEK && (!k->has_hwid || k->has_csp_id))
        return vouch_fail(eb, VOUCH_E_VERIFY, "a VCEK must carry a hwID and no cspID");
    if (k->role == VOUCH_SNP_VEK_VLEK && k->has_hwid)
        return vouch_fail(eb, VOUCH_E_VERIFY, "a VLEK must not carry a hwID");
    if (r->has_cpuid && r->product == VOUCH_SNP_PRODUCT_UNKNOWN)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "CPUID family 0x%02x model 0x%02x is not a "
                          "known SEV-SNP product", r->cpuid_fam_id, r->cpuid_mod_id);
    if (r->has_cpuid && r->product != k->product)
        return vouch_fail(eb, VOUCH_E_VERIFY, "the report comes from a %s, the certificate "
                          "from a %s", vouch_snp_product_name(r->product),
                          vouch_snp_product_name(k->product));
    return VOUCH_OK;
}

/* Certificates sent with the evidence must be AMD's, byte for byte. */
static vouch_err check_extra(STACK_OF(X509) *extra, enum vouch_snp_product p,
                             struct vouch_errbuf *eb)
{
    uint8_t fp[32];
    char hex[65], subj[160];
    int i;

    for (i = 0; i < sk_X509_num(extra); i++) {
        X509 *x = sk_X509_value(extra, i);

        if (vouch_x509_fingerprint(x, fp))
            return vouch_fail(eb, VOUCH_E_INVALID, "cannot encode a certificate of the chain");
        vouch_hex_encode(fp, sizeof(fp), hex);
        if (strcmp(hex, vouch_snp_ark_sha256(p)) == 0 ||
            strcmp(hex, vouch_snp_ask_sha256(p)) == 0 ||
            strcmp(hex, vouch_snp_asvk_sha256(p)) == 0)
            continue;
        vouch_x509_subject(x, subj, sizeof(subj));
        return vouch_fail(eb, VOUCH_E_VERIFY, "certificate '%s' sent with the evidence is not "
                          "one of AMD's pinned %s certificates", subj,
                          vouch_snp_product_name(p));
    }
    return VOUCH_OK;
}

static void narrow(const X509 *x, int64_t *nb, int64_t *na)
{
    int64_t b, a;

    if (vouch_x509_validity(x, &b, &a) == VOUCH_OK) {
        *nb = b > *nb ? b : *nb;
        *na = a < *na ? a : *na;
    }
}

/* VEK -> ASK/ASVK -> ARK with the pinned intermediates and root only. */
static vouch_err verify_chain(X509 *vek, const struct vouch_snp_vek *k, int64_t now,
                              EVP_PKEY **ret_pk, int64_t *nb, int64_t *na,
                              struct vouch_errbuf *eb)
{
    const struct anchors *a = &anchors[k->product];
    X509 *mid = k->role == VOUCH_SNP_VEK_VLEK ? a->asvk : a->ask;
    STACK_OF(X509) *roots = sk_X509_new_null(), *untrusted = sk_X509_new_null();
    EVP_PKEY *pk;
    vouch_err e;

    if (!roots || !untrusted || !a->ark || !mid || !sk_X509_push(roots, a->ark) ||
        !sk_X509_push(untrusted, mid)) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    e = vouch_x509_verify_chain(vek, untrusted, roots, NULL, now, 0, eb);
    if (e) {
        vouch_fail_prefix(eb, e, "VEK chain to AMD's %s root: ", vouch_snp_product_name(k->product));
        goto out;
    }
    pk = X509_get0_pubkey(vek);
    if (!pk || vouch_ec_field_size(pk) != VOUCH_SNP_P384_SIZE) {
        e = vouch_fail(eb, VOUCH_E_VERIFY, "the VEK key is not an EC P-384 key");
        goto out;
    }
    *nb = INT64_MIN;
    *na = INT64_MAX;
    narrow(vek, nb, na);
    narrow(mid, nb, na);
    narrow(a->ark, nb, na);
    EVP_PKEY_up_ref(pk);
    *ret_pk = pk;
out:
    sk_X509_free(roots);
    sk_X509_free(untrusted);
    ERR_clear_error();
    return e;
}

static vouch_err spl_eq(const char *name, uint8_t cert, uint8_t report, struct vouch_errbuf *eb)
{
    if (cert != report)
        return vouch_fail(eb, VOUCH_E_VERIFY, "%s of the VEK is %u, the report's REPORTED_TCB "
                          "says %u", name, cert, report);
    return VOUCH_OK;
}

/* hwID == CHIP_ID, SPLs == REPORTED_TCB. */
static vouch_err check_match(const struct vouch_snp_report *r, const struct vouch_snp_vek *k,
                             struct vouch_errbuf *eb)
{
    const struct vouch_snp_tcb *t = &r->reported_tcb;
    vouch_err e;

    if (k->role == VOUCH_SNP_VEK_VCEK && memcmp(k->hwid, r->chip_id, k->hwid_len) != 0)
        return vouch_fail(eb, VOUCH_E_VERIFY, "the VCEK's hwID is not the report's CHIP_ID "
                          "(a VCEK of another chip)");
    if ((e = spl_eq("blSPL", k->tcb.bootloader, t->bootloader, eb)) ||
        (e = spl_eq("teeSPL", k->tcb.tee, t->tee, eb)) ||
        (e = spl_eq("snpSPL", k->tcb.snp, t->snp, eb)) ||
        (e = spl_eq("ucodeSPL", k->tcb.microcode, t->microcode, eb)))
        return e;
    if (k->tcb.has_fmc)
        return spl_eq("fmcSPL", k->tcb.fmc, t->fmc, eb);
    return VOUCH_OK;
}

/* The VEK's facts and key: from the cache, or parsed and chain-verified now. */
static vouch_err vek_key(X509 *vek, STACK_OF(X509) *extra, int64_t now, unsigned flags,
                         struct vouch_snp_vek *info, EVP_PKEY **pk, struct vouch_errbuf *eb)
{
    uint8_t fp[32];
    int64_t nb = 0, na = 0;
    vouch_err e;

    if (vouch_x509_fingerprint(vek, fp))
        return vouch_fail(eb, VOUCH_E_INVALID, "cannot encode the VEK");
    if (!(flags & VOUCH_SNP_NO_CACHE) && cache_get(fp, now, info, pk))
        return check_extra(extra, info->product, eb);
    e = vouch_snp_vek_parse(vek, info, eb);
    if (!e)
        e = check_extra(extra, info->product, eb);
    if (!e)
        e = verify_chain(vek, info, now, pk, &nb, &na, eb);
    if (!e && !(flags & VOUCH_SNP_NO_CACHE))
        cache_put(fp, nb, na, info, *pk);
    return e;
}

vouch_err vouch_snp_verify_report(const struct vouch_snp_report *r, X509 *vek,
                                  STACK_OF(X509) *extra, int64_t now, unsigned flags,
                                  struct vouch_errbuf *eb)
{
    struct vouch_snp_vek info;
    EVP_PKEY *pk = NULL;
    vouch_err e;

    pthread_once(&anchors_once, anchors_init);
    e = check_key_info(r, eb);
    if (e)
        goto out;
    e = vek_key(vek, extra, now, flags, &info, &pk, eb);
    if (e)
        goto out;
    e = check_role(r, &info, eb);
    if (!e)
        e = check_match(r, &info, eb);
    if (!e)
        e = vouch_snp_report_verify_signature(r, pk, eb);
out:
    EVP_PKEY_free(pk);
    return e;
}

vouch_err vouch_snp_vek_verify(X509 *vek, int64_t now, struct vouch_snp_vek *ret,
                               struct vouch_errbuf *eb)
{
    struct vouch_snp_vek info;
    EVP_PKEY *pk = NULL;
    int64_t nb, na;
    vouch_err e;

    pthread_once(&anchors_once, anchors_init);
    e = vouch_snp_vek_parse(vek, &info, eb);
    if (!e)
        e = verify_chain(vek, &info, now, &pk, &nb, &na, eb);
    EVP_PKEY_free(pk);
    if (!e)
        *ret = info;
    return e;
}

vouch_err vouch_snp_check_guest(const struct vouch_snp_report *r, struct vouch_errbuf *eb)
{
    if (r->vmpl != 0)
        return vouch_fail(eb, VOUCH_E_VERIFY, "the report was requested at VMPL %u, not 0",
                          r->vmpl);
    return VOUCH_OK;
}
