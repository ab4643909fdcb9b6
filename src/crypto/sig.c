/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "crypto/sig.h"

vouch_err vouch_ec_pubkey_from_xy(const uint8_t *xy, size_t n, EVP_PKEY **ret,
                                  struct vouch_errbuf *eb)
{
    OSSL_PARAM params[3];
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pk = NULL;
    uint8_t point[1 + 132];
    const char *group;
    vouch_err e = VOUCH_OK;

    switch (n) {
    case 64: group = "P-256"; break;
    case 96: group = "P-384"; break;
    case 132: group = "P-521"; break;
    default:
        return vouch_fail(eb, VOUCH_E_INVALID, "EC public key of %zu bytes is not a "
                          "P-256/P-384/P-521 point", n);
    }
    point[0] = 0x04;
    memcpy(point + 1, xy, n);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                 (char *)group, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, n + 1);
    params[2] = OSSL_PARAM_construct_end();
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        e = vouch_fail(eb, VOUCH_E_INVALID, "EC public key is not a valid %s point", group);
        goto out;
    }
    *ret = pk;
    pk = NULL;
out:
    ERR_clear_error();
    EVP_PKEY_free(pk);
    EVP_PKEY_CTX_free(ctx);
    return e;
}

vouch_err vouch_pubkey_from_pem(const char *pem, size_t len, EVP_PKEY **ret,
                                struct vouch_errbuf *eb)
{
    EVP_PKEY *pk = NULL;
    X509 *cert = NULL;
    BIO *bio;

    if (len > INT32_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "PEM too large");
    bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    if (!pk) {
        (void)BIO_reset(bio);
        cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (cert)
            pk = X509_get_pubkey(cert);
    }
    X509_free(cert);
    BIO_free(bio);
    ERR_clear_error();
    if (!pk)
        return vouch_fail(eb, VOUCH_E_INVALID, "no PEM public key or certificate found");
    *ret = pk;
    return VOUCH_OK;
}

size_t vouch_ec_field_size(const EVP_PKEY *pk)
{
    if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC)
        return 0;
    return ((size_t)EVP_PKEY_get_bits(pk) + 7) / 8;
}

vouch_err vouch_ecdsa_raw_to_der(const uint8_t *rs, size_t rslen, uint8_t **ret,
                                 size_t *ret_len)
{
    ECDSA_SIG *sig = NULL;
    BIGNUM *r = NULL, *s = NULL;
    unsigned char *der = NULL;
    vouch_err e = VOUCH_E_INVALID;
    int len;

    if (rslen == 0 || rslen % 2 || rslen > 2 * 66)
        return VOUCH_E_INVALID;
    sig = ECDSA_SIG_new();
    r = BN_bin2bn(rs, (int)(rslen / 2), NULL);
    s = BN_bin2bn(rs + rslen / 2, (int)(rslen / 2), NULL);
    if (!sig || !r || !s)
        goto out;
    if (ECDSA_SIG_set0(sig, r, s) != 1)
        goto out;
    r = s = NULL; /* owned by sig now */
    len = i2d_ECDSA_SIG(sig, &der);
    if (len <= 0)
        goto out;
    *ret = der;
    *ret_len = (size_t)len;
    e = VOUCH_OK;
out:
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return e;
}

vouch_err vouch_ecdsa_der_to_raw(const uint8_t *der, size_t len, size_t half, uint8_t *rs)
{
    const unsigned char *p = der;
    const BIGNUM *r, *s;
    ECDSA_SIG *sig;
    vouch_err e = VOUCH_E_INVALID;

    if (len > INT32_MAX)
        return VOUCH_E_INVALID;
    sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
    if (!sig || p != der + len)
        goto out;
    ECDSA_SIG_get0(sig, &r, &s);
    if (BN_bn2binpad(r, rs, (int)half) < 0 || BN_bn2binpad(s, rs + half, (int)half) < 0)
        goto out;
    e = VOUCH_OK;
out:
    ECDSA_SIG_free(sig);
    return e;
}

/* The common EVP_DigestVerify path; pad 0 means the key type's default. */
static vouch_err digest_verify(EVP_PKEY *pk, enum vouch_hash h, int pad, int saltlen,
                               const void *msg, size_t n, const uint8_t *sig,
                               size_t len, const char *what, struct vouch_errbuf *eb)
{
    const EVP_MD *md = vouch_hash_md(h);
    EVP_PKEY_CTX *pctx = NULL;
    EVP_MD_CTX *ctx;
    vouch_err e = VOUCH_OK;
    int rc;

    if (!md)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "%s: hash %s unavailable", what,
                          vouch_hash_name(h));
    ctx = EVP_MD_CTX_new();
    if (!ctx)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    if (EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pk) != 1) {
        e = vouch_fail(eb, VOUCH_E_INVALID, "%s: key cannot verify", what);
        goto out;
    }
    if (pad) {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, pad) != 1 ||
            (pad == RSA_PKCS1_PSS_PADDING &&
             (EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, saltlen) != 1 ||
              EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1))) {
            e = vouch_fail(eb, VOUCH_E_INVALID, "%s: key is not an RSA key", what);
            goto out;
        }
    }
    rc = EVP_DigestVerify(ctx, sig, len, msg, n);
    if (rc != 1)
        e = vouch_fail(eb, VOUCH_E_VERIFY, "%s: signature does not verify", what);
out:
    ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    return e;
}

vouch_err vouch_ecdsa_verify_raw(EVP_PKEY *pk, enum vouch_hash h, const void *msg,
                                 size_t n, const uint8_t *rs, size_t rslen,
                                 struct vouch_errbuf *eb)
{
    size_t fs = vouch_ec_field_size(pk);
    uint8_t *der = NULL;
    size_t derlen;
    vouch_err e;

    if (!fs)
        return vouch_fail(eb, VOUCH_E_INVALID, "ECDSA: key is not an EC key");
    if (rslen != 2 * fs)
        return vouch_fail(eb, VOUCH_E_VERIFY, "ECDSA: signature is %zu bytes, expected %zu",
                          rslen, 2 * fs);
    if (vouch_ecdsa_raw_to_der(rs, rslen, &der, &derlen))
        return vouch_fail(eb, VOUCH_E_VERIFY, "ECDSA: malformed signature");
    e = digest_verify(pk, h, 0, 0, msg, n, der, derlen, "ECDSA", eb);
    OPENSSL_free(der);
    return e;
}

vouch_err vouch_rsa_pkcs1_verify(EVP_PKEY *pk, enum vouch_hash h, const void *msg,
                                 size_t n, const uint8_t *sig, size_t len,
                                 struct vouch_errbuf *eb)
{
    if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA)
        return vouch_fail(eb, VOUCH_E_INVALID, "RSA: key is not an RSA key");
    return digest_verify(pk, h, RSA_PKCS1_PADDING, 0, msg, n, sig, len, "RSASSA-PKCS1-v1_5",
                         eb);
}

vouch_err vouch_rsa_pss_verify(EVP_PKEY *pk, enum vouch_hash h, int saltlen,
                               const void *msg, size_t n, const uint8_t *sig,
                               size_t len, struct vouch_errbuf *eb)
{
    if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA)
        return vouch_fail(eb, VOUCH_E_INVALID, "RSA-PSS: key is not an RSA key");
    return digest_verify(pk, h, RSA_PKCS1_PSS_PADDING, saltlen, msg, n, sig, len,
                         "RSASSA-PSS", eb);
}
