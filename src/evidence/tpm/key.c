/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <tss2/tss2_mu.h>

#include "crypto/sig.h"
#include "evidence/tpm/quote.h"
#include "evidence/tpm/tpm_int.h"

void vouch_tpm_key_free(struct vouch_tpm_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    free(k->public_area);
    free(k);
}

static vouch_err rsa_pkey(const uint8_t *n, size_t nlen, uint32_t exponent, EVP_PKEY **ret,
                          struct vouch_errbuf *eb)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    BIGNUM *bn = BN_bin2bn(n, (int)nlen, NULL), *be = BN_new();
    EVP_PKEY *pk = NULL;
    vouch_err e = VOUCH_OK;

    if (!bld || !bn || !be || !BN_set_word(be, exponent ? exponent : 65537) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
        !(params = OSSL_PARAM_BLD_to_param(bld)) ||
        !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL))) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    if (EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        e = vouch_fail(eb, VOUCH_E_INVALID, "RSA public key rejected by OpenSSL");
        goto out;
    }
    *ret = pk;
out:
    ERR_clear_error();
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    return e;
}

/* Fill k from an unmarshalled TPMT_PUBLIC whose marshalled form is area[0..len). */
static vouch_err from_tpmt(const TPMT_PUBLIC *pub, const uint8_t *area, size_t len,
                           unsigned flags, struct vouch_tpm_key *k, struct vouch_errbuf *eb)
{
    int nh = vouch_tcg_alg_hash(pub->nameAlg);
    size_t nsize;
    vouch_err e;

    if (nh < 0)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "TPMT_PUBLIC: nameAlg 0x%04x", pub->nameAlg);
    nsize = vouch_hash_size((enum vouch_hash)nh);
    k->type = pub->type;
    k->name_alg = pub->nameAlg;
    k->attributes = pub->objectAttributes;
    k->name[0] = (uint8_t)(pub->nameAlg >> 8);
    k->name[1] = (uint8_t)pub->nameAlg;
    if (vouch_hash((enum vouch_hash)nh, area, len, k->name + 2))
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "TPMT_PUBLIC: cannot hash the Name");
    k->name_len = 2 + nsize;
    if ((flags & VOUCH_TPM_KEY_REQUIRE_AK_ATTRS) &&
        (pub->objectAttributes & VOUCH_TPM_AK_ATTRS) != VOUCH_TPM_AK_ATTRS)
        return vouch_fail(eb, VOUCH_E_VERIFY,
                          "AK attributes 0x%08x lack sign|restricted|fixedTPM|fixedParent",
                          pub->objectAttributes);
    if (pub->type == TPM2_ALG_RSA) {
        const TPMS_RSA_PARMS *rp = &pub->parameters.rsaDetail;

        if (rp->keyBits < 2048 || rp->keyBits > 4096 || rp->keyBits % 8 ||
            pub->unique.rsa.size != rp->keyBits / 8)
            return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "TPMT_PUBLIC: RSA key of %u bits "
                              "with a %u-byte modulus", rp->keyBits, pub->unique.rsa.size);
        k->bits = rp->keyBits;
        k->scheme = rp->scheme.scheme;
        k->scheme_hash = rp->scheme.scheme == TPM2_ALG_NULL ? TPM2_ALG_NULL
                                                            : rp->scheme.details.anySig.hashAlg;
        k->sym_alg = rp->symmetric.algorithm;
        if (rp->symmetric.algorithm != TPM2_ALG_NULL) {
            k->sym_bits = rp->symmetric.keyBits.sym;
            k->sym_mode = rp->symmetric.mode.sym;
        }
        e = rsa_pkey(pub->unique.rsa.buffer, pub->unique.rsa.size, rp->exponent, &k->pkey, eb);
        if (e)
            return e;
    } else if (pub->type == TPM2_ALG_ECC) {
        const TPMS_ECC_PARMS *ep = &pub->parameters.eccDetail;
        uint8_t xy[2 * 48];
        size_t fs;

        if (ep->curveID == TPM2_ECC_NIST_P256)
            fs = 32;
        else if (ep->curveID == TPM2_ECC_NIST_P384)
            fs = 48;
        else
            return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "TPMT_PUBLIC: ECC curve 0x%04x",
                              ep->curveID);
        if (pub->unique.ecc.x.size > fs || pub->unique.ecc.y.size > fs)
            return vouch_fail(eb, VOUCH_E_INVALID, "TPMT_PUBLIC: ECC point larger than the curve");
        memset(xy, 0, sizeof(xy));
        memcpy(xy + fs - pub->unique.ecc.x.size, pub->unique.ecc.x.buffer, pub->unique.ecc.x.size);
        memcpy(xy + 2 * fs - pub->unique.ecc.y.size, pub->unique.ecc.y.buffer,
               pub->unique.ecc.y.size);
        k->curve = ep->curveID;
        k->bits = (unsigned)fs * 8;
        k->scheme = ep->scheme.scheme;
        k->scheme_hash = ep->scheme.scheme == TPM2_ALG_NULL ? TPM2_ALG_NULL
                                                            : ep->scheme.details.anySig.hashAlg;
        k->sym_alg = ep->symmetric.algorithm;
        if (ep->symmetric.algorithm != TPM2_ALG_NULL) {
            k->sym_bits = ep->symmetric.keyBits.sym;
            k->sym_mode = ep->symmetric.mode.sym;
        }
        e = vouch_ec_pubkey_from_xy(xy, 2 * fs, &k->pkey, eb);
        if (e)
            return vouch_fail_prefix(eb, e, "TPMT_PUBLIC: ");
    } else {
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "TPMT_PUBLIC: key type 0x%04x", pub->type);
    }
    k->public_area = malloc(len);
    if (!k->public_area)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    memcpy(k->public_area, area, len);
    k->public_len = len;
    return VOUCH_OK;
}

static vouch_err from_pem(const uint8_t *data, size_t len, struct vouch_tpm_key *k,
                          struct vouch_errbuf *eb)
{
    vouch_err e = vouch_pubkey_from_pem((const char *)data, len, &k->pkey, eb);

    if (e)
        return e;
    k->bits = (unsigned)EVP_PKEY_get_bits(k->pkey);
    k->scheme = k->scheme_hash = k->sym_alg = VOUCH_TPM_ALG_NULL;
    switch (EVP_PKEY_get_base_id(k->pkey)) {
    case EVP_PKEY_RSA:
        k->type = VOUCH_TPM_ALG_RSA;
        return VOUCH_OK;
    case EVP_PKEY_EC:
        k->type = VOUCH_TPM_ALG_ECC;
        k->curve = k->bits == 256 ? TPM2_ECC_NIST_P256 : k->bits == 384 ? TPM2_ECC_NIST_P384 : 0;
        if (k->curve)
            return VOUCH_OK;
        break;
    default:
        break;
    }
    return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "PEM key is neither RSA nor EC P-256/P-384");
}

vouch_err vouch_tpm_key_load(const uint8_t *data, size_t len, unsigned flags,
                             struct vouch_tpm_key **ret, struct vouch_errbuf *eb)
{
    struct vouch_tpm_key *k = calloc(1, sizeof(*k));
    TPM2B_PUBLIC p2b;
    TPMT_PUBLIC pt;
    size_t off = 0;
    vouch_err e;

    if (!k)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    if (len >= 10 && memcmp(data, "-----BEGIN", 10) == 0) {
        e = from_pem(data, len, k, eb);
        goto out;
    }
    memset(&p2b, 0, sizeof(p2b));
    if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(data, len, &off, &p2b) == TSS2_RC_SUCCESS &&
        off == len && p2b.size && (size_t)p2b.size + 2 == len) {
        e = from_tpmt(&p2b.publicArea, data + 2, len - 2, flags, k, eb);
        goto out;
    }
    off = 0;
    memset(&pt, 0, sizeof(pt));
    if (Tss2_MU_TPMT_PUBLIC_Unmarshal(data, len, &off, &pt) == TSS2_RC_SUCCESS && off == len) {
        e = from_tpmt(&pt, data, len, flags, k, eb);
        goto out;
    }
    e = vouch_fail(eb, VOUCH_E_INVALID, "key is not a TPM2B_PUBLIC, TPMT_PUBLIC or PEM key");
out:
    if (e) {
        vouch_tpm_key_free(k);
        return e;
    }
    *ret = k;
    return VOUCH_OK;
}
