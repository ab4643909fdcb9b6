/* SPDX-License-Identifier: Apache-2.0 */
/* AK binding: EK certificate chains, KDFa/KDFe, software MakeCredential. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>

#include "crypto/x509.h"
#include "evidence/tpm/ek.h"
#include "tpm_testutil.h"

#define SW TPM_VEC "swtpm-generated/"

static X509 *load_cert(const char *path)
{
    struct vouch_errbuf eb = { "" };
    size_t len;
    uint8_t *d = tu_read(path, &len);
    X509 *x = NULL;

    if (vouch_tpm_ek_cert_parse(d, len, &x, &eb))
        fail_msg("%s: %s", path, eb.msg);
    free(d);
    return x;
}

static struct vouch_tpm_key *load_key(const char *path)
{
    size_t len;
    uint8_t *d = tu_read(path, &len);
    struct vouch_tpm_key *k = NULL;

    assert_int_equal(vouch_tpm_key_load(d, len, 0, &k, NULL), VOUCH_OK);
    free(d);
    return k;
}

static STACK_OF(X509) *stack_of(X509 *x)
{
    STACK_OF(X509) *s = sk_X509_new_null();

    assert_non_null(s);
    if (x) {
        X509_up_ref(x);
        sk_X509_push(s, x);
    }
    return s;
}

/* The swtpm EK certificate chains to swtpm's local CA and carries the EK's key. */
static void test_swtpm_ek_chain(void **state)
{
    X509 *ek_cert = load_cert(SW "ek_rsa_cert.der");
    X509 *issuer = load_cert(SW "issuercert.pem");
    X509 *root = load_cert(SW "swtpm-localca-rootca-cert.pem");
    X509 *aliyun = load_cert(TPM_VEC "vaportpm/aliyun-root-ca.crt");
    STACK_OF(X509) *roots = stack_of(root), *inter = stack_of(issuer), *none = stack_of(NULL);
    STACK_OF(X509) *wrong = stack_of(aliyun);
    struct vouch_tpm_key *ek = load_key(SW "ek_rsa.pub"), *ak = load_key(SW "ak_rsa.tpm2b_public");
    struct vouch_errbuf eb = { "" };
    int64_t nb, na, now;
    json_t *c;

    (void)state;
    assert_int_equal(vouch_x509_validity(ek_cert, &nb, &na), VOUCH_OK);
    now = nb + 86400;
    if (vouch_tpm_ek_cert_verify(ek_cert, inter, roots, ek, now, 0, &eb))
        fail_msg("%s", eb.msg);
    assert_int_equal(vouch_tpm_ek_cert_verify(ek_cert, inter, roots, ak, now, 0, &eb),
                     VOUCH_E_BINDING);
    assert_int_equal(vouch_tpm_ek_cert_verify(ek_cert, NULL, roots, ek, now, 0, &eb), VOUCH_E_VERIFY);
    assert_int_equal(vouch_tpm_ek_cert_verify(ek_cert, inter, wrong, ek, now, 0, &eb), VOUCH_E_VERIFY);
    assert_int_equal(vouch_tpm_ek_cert_verify(ek_cert, inter, none, ek, now, 0, &eb),
                     VOUCH_E_NOT_FOUND);
    assert_int_equal(vouch_tpm_ek_cert_verify(ek_cert, inter, roots, ek, nb - 86400, 0, &eb),
                     VOUCH_E_NOT_YET_VALID);
    assert_int_equal(vouch_tpm_ek_cert_verify(ek_cert, inter, roots, ek, nb - 86400,
                                              VOUCH_CHAIN_NO_TIME, &eb), VOUCH_OK);
    assert_int_equal(vouch_tpm_ek_cert_claims(ek_cert, &c), VOUCH_OK);
    assert_string_equal(json_string_value(json_object_get(c, "tpm_manufacturer")), "id:00001014");
    assert_string_equal(json_string_value(json_object_get(c, "tpm_model")), "swtpm");
    assert_string_equal(json_string_value(json_object_get(c, "tpm_version")), "id:20191023");
    assert_non_null(strstr(json_string_value(json_object_get(c, "issuer")), "swtpm-localca"));
    json_decref(c);
    sk_X509_pop_free(roots, X509_free);
    sk_X509_pop_free(inter, X509_free);
    sk_X509_pop_free(none, X509_free);
    sk_X509_pop_free(wrong, X509_free);
    X509_free(ek_cert);
    X509_free(issuer);
    X509_free(root);
    X509_free(aliyun);
    vouch_tpm_key_free(ek);
    vouch_tpm_key_free(ak);
}

/*
 * The swtpm EK certificate with a TPM attribute in its subject alternative
 * name ("swtpm", "id:00001014") made a T61String, whose bytes OpenSSL
 * hands over as they are, carrying bytes that are not UTF-8: the claim
 * shows them as %XX.  (A UTF8String that is not UTF-8 fails to decode.)
 * The signature no longer holds; claims do not check it.
 */
static void test_ek_attrs_not_utf8(void **state)
{
    static const struct {
        const char *find, *key, *want;
        size_t at, count;   /* bytes [at, at + count) of `find` become `byte` */
        uint8_t byte;
    } cases[] = {
        { "\x0c\x05swtpm", "tpm_model", "sw%FFpm", 4, 1, 0xff },
        { "\x0c\x05swtpm", "tpm_model", "swtp%C3", 6, 1, 0xc3 },
        { "\x0c\x0bid:00001014", "tpm_manufacturer", "id:%80%80001014", 5, 2, 0x80 },
    };
    size_t n, i;
    uint8_t *orig = tu_read(SW "ek_rsa_cert.der", &n);

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t *d = malloc(n), *at;
        struct vouch_errbuf eb = { "" };
        X509 *x = NULL;
        json_t *c = NULL;

        assert_non_null(d);
        memcpy(d, orig, n);
        at = memmem(d, n, cases[i].find, strlen(cases[i].find));
        assert_non_null(at);
        at[0] = 0x14;   /* T61String */
        memset(at + cases[i].at, cases[i].byte, cases[i].count);
        if (vouch_tpm_ek_cert_parse(d, n, &x, &eb))
            fail_msg("case %zu: %s", i, eb.msg);
        assert_int_equal(vouch_tpm_ek_cert_claims(x, &c), VOUCH_OK);
        assert_string_equal(json_string_value(json_object_get(c, cases[i].key)) ?
                            json_string_value(json_object_get(c, cases[i].key)) : "(missing)",
                            cases[i].want);
        json_decref(c);
        X509_free(x);
        free(d);
    }
    free(orig);
}

/* Alibaba Cloud's vTPM EK issuing CA chains to the Aliyun TPM Root CA (valid 2021-2030). */
static void test_aliyun_chain(void **state)
{
    X509 *ekmf = load_cert(TPM_VEC "keylime/Alibaba_Cloud_vTPM_EK.pem");
    X509 *root = load_cert(TPM_VEC "vaportpm/aliyun-root-ca.crt");
    X509 *swroot = load_cert(SW "swtpm-localca-rootca-cert.pem");
    STACK_OF(X509) *roots = stack_of(root), *wrong = stack_of(swroot);
    struct vouch_errbuf eb = { "" };
    const int64_t y2025 = 1735689600, y2031 = 1924992000;
    char subj[256];

    (void)state;
    vouch_x509_subject(ekmf, subj, sizeof(subj));
    assert_non_null(strstr(subj, "Aliyun TPM EKMF CA"));
    if (vouch_tpm_ek_cert_verify(ekmf, NULL, roots, NULL, y2025, 0, &eb))
        fail_msg("%s", eb.msg);
    assert_int_equal(vouch_tpm_ek_cert_verify(ekmf, NULL, roots, NULL, y2031, 0, &eb),
                     VOUCH_E_EXPIRED);
    assert_int_equal(vouch_tpm_ek_cert_verify(ekmf, NULL, wrong, NULL, y2025, 0, &eb),
                     VOUCH_E_VERIFY);
    sk_X509_pop_free(roots, X509_free);
    sk_X509_pop_free(wrong, X509_free);
    X509_free(ekmf);
    X509_free(root);
    X509_free(swroot);
}

/* NV indexes are larger than the certificate: fill after the DER is ignored, other bytes are not. */
static void test_ek_cert_padding(void **state)
{
    size_t len;
    uint8_t *d = tu_read(SW "ek_rsa_cert.der", &len), *p = malloc(len + 64);
    X509 *x = NULL;

    (void)state;
    memcpy(p, d, len);
    memset(p + len, 0xff, 64);
    assert_int_equal(vouch_tpm_ek_cert_parse(p, len + 64, &x, NULL), VOUCH_OK);
    X509_free(x);
    memset(p + len, 0, 64);
    assert_int_equal(vouch_tpm_ek_cert_parse(p, len + 64, &x, NULL), VOUCH_OK);
    X509_free(x);
    p[len + 10] = 1;
    assert_int_equal(vouch_tpm_ek_cert_parse(p, len + 64, &x, NULL), VOUCH_E_INVALID);
    assert_int_equal(vouch_tpm_ek_cert_parse(p, len - 1, &x, NULL), VOUCH_E_INVALID);
    assert_int_equal(vouch_tpm_ek_cert_parse((const uint8_t *)"junk", 4, &x, NULL), VOUCH_E_INVALID);
    free(p);
    free(d);
}

/* KDFa is SP 800-108 counter-mode HMAC: OpenSSL's KBKDF computes the same bytes. */
static void test_kdfa_vs_kbkdf(void **state)
{
    static const struct {
        enum vouch_hash h;
        const char *md;
        const char *label;
        size_t ulen, vlen;
        unsigned bits;
    } cases[] = {
        { VOUCH_HASH_SHA256, "SHA256", "STORAGE", 34, 0, 128 },
        { VOUCH_HASH_SHA256, "SHA256", "INTEGRITY", 0, 0, 256 },
        { VOUCH_HASH_SHA1, "SHA1", "CFB", 20, 20, 384 },      /* several blocks */
        { VOUCH_HASH_SHA384, "SHA384", "STORAGE", 50, 0, 256 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t key[32], ctx[128], want[64], got[64];
        EVP_KDF *kdf = EVP_KDF_fetch(NULL, "KBKDF", NULL);
        EVP_KDF_CTX *kc = EVP_KDF_CTX_new(kdf);
        OSSL_PARAM params[7], *p = params;
        size_t k;

        for (k = 0; k < sizeof(key); k++)
            key[k] = (uint8_t)(k * 3 + i);
        for (k = 0; k < sizeof(ctx); k++)
            ctx[k] = (uint8_t)(k * 5 + 1);
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MODE, "counter", 0);
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MAC, "HMAC", 0);
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)cases[i].md, 0);
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, key, sizeof(key));
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (char *)cases[i].label,
                                                 strlen(cases[i].label));
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, ctx,
                                                 cases[i].ulen + cases[i].vlen);
        *p = OSSL_PARAM_construct_end();
        assert_int_equal(EVP_KDF_derive(kc, want, cases[i].bits / 8, params), 1);
        assert_int_equal(vouch_tpm_kdfa(cases[i].h, key, sizeof(key), cases[i].label, ctx,
                                        cases[i].ulen, cases[i].vlen ? ctx + cases[i].ulen : NULL,
                                        cases[i].vlen, cases[i].bits, got), VOUCH_OK);
        assert_memory_equal(got, want, cases[i].bits / 8);
        EVP_KDF_CTX_free(kc);
        EVP_KDF_free(kdf);
    }
}

/* KDFe is the SP 800-56A one-step KDF: OpenSSL's SSKDF with OtherInfo = label\0 || U || V. */
static void test_kdfe_vs_sskdf(void **state)
{
    uint8_t z[32], u[32], v[32], info[128], want[64], got[64];
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "SSKDF", NULL);
    EVP_KDF_CTX *kc = EVP_KDF_CTX_new(kdf);
    OSSL_PARAM params[4];
    size_t k;

    (void)state;
    for (k = 0; k < 32; k++) {
        z[k] = (uint8_t)k;
        u[k] = (uint8_t)(0x40 + k);
        v[k] = (uint8_t)(0x80 + k);
    }
    memcpy(info, "IDENTITY", 9);
    memcpy(info + 9, u, 32);
    memcpy(info + 41, v, 32);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, z, sizeof(z));
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, 73);
    params[3] = OSSL_PARAM_construct_end();
    assert_int_equal(EVP_KDF_derive(kc, want, 64, params), 1);
    assert_int_equal(vouch_tpm_kdfe(VOUCH_HASH_SHA256, z, 32, "IDENTITY", u, 32, v, 32, 512, got),
                     VOUCH_OK);
    assert_memory_equal(got, want, 64);
    EVP_KDF_CTX_free(kc);
    EVP_KDF_free(kdf);
}

/* A TPMT_PUBLIC for a standard-template EK made from an OpenSSL key. */
static struct vouch_tpm_key *ek_from(EVP_PKEY *pk, bool ecc)
{
    TPMT_PUBLIC pub;
    uint8_t buf[1024], pt[133];
    size_t off = 0, ptlen = 0;
    struct vouch_tpm_key *k = NULL;
    BIGNUM *n = NULL;

    memset(&pub, 0, sizeof(pub));
    pub.nameAlg = TPM2_ALG_SHA256;
    pub.objectAttributes = VOUCH_TPMA_FIXEDTPM | VOUCH_TPMA_FIXEDPARENT |
                           VOUCH_TPMA_SENSITIVEDATAORIGIN | VOUCH_TPMA_ADMINWITHPOLICY |
                           VOUCH_TPMA_RESTRICTED | VOUCH_TPMA_DECRYPT;
    if (ecc) {
        pub.type = TPM2_ALG_ECC;
        pub.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
        pub.parameters.eccDetail.symmetric.keyBits.aes = 128;
        pub.parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
        pub.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
        pub.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
        pub.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
        assert_int_equal(EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY, pt,
                                                         sizeof(pt), &ptlen), 1);
        pub.unique.ecc.x.size = 32;
        memcpy(pub.unique.ecc.x.buffer, pt + 1, 32);
        pub.unique.ecc.y.size = 32;
        memcpy(pub.unique.ecc.y.buffer, pt + 33, 32);
    } else {
        pub.type = TPM2_ALG_RSA;
        pub.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
        pub.parameters.rsaDetail.symmetric.keyBits.aes = 128;
        pub.parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
        pub.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
        pub.parameters.rsaDetail.keyBits = 2048;
        assert_int_equal(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n), 1);
        pub.unique.rsa.size = 256;
        BN_bn2binpad(n, pub.unique.rsa.buffer, 256);
        BN_free(n);
    }
    assert_int_equal(Tss2_MU_TPMT_PUBLIC_Marshal(&pub, buf, sizeof(buf), &off), TSS2_RC_SUCCESS);
    assert_int_equal(vouch_tpm_key_load(buf, off, 0, &k, NULL), VOUCH_OK);
    return k;
}

static void hmac256(const uint8_t *key, const uint8_t *m, size_t n, uint8_t *out)
{
    size_t ol;

    assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, 32, m, n, out, 32, &ol));
}

/* ActivateCredential, written here from TPM 2.0 Part 1 24.4/24.5 to check MakeCredential. */
static void activate(EVP_PKEY *priv, bool ecc, const uint8_t *name, size_t name_len,
                     const struct vouch_tpm_credential *c, uint8_t *out, size_t *out_len)
{
    uint8_t seed[256], symkey[16], hkey[32], mac[32], macin[256], plain[64], iv[16] = { 0 };
    size_t seedlen = sizeof(seed), enc_len = (size_t)(c->id_object_len - 2 - 2 - 32);
    const uint8_t *enc = c->id_object + 2 + 2 + 32;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
    EVP_CIPHER_CTX *cc = EVP_CIPHER_CTX_new();
    int n1 = 0;

    assert_int_equal(c->secret[0] << 8 | c->secret[1], c->secret_len - 2);
    if (ecc) {
        /* Z = ECDH(priv, ephemeral point from TPM2B_ENCRYPTED_SECRET); seed = KDFe */
        uint8_t pt[65], z[32], ex[32];
        size_t zl = sizeof(z);
        EVP_PKEY *eph = NULL;
        EVP_PKEY_CTX *ic = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        OSSL_PARAM ps[3];
        BIGNUM *kx = NULL;
        uint8_t kxb[32];

        pt[0] = 4;
        memcpy(pt + 1, c->secret + 4, 32);
        memcpy(pt + 33, c->secret + 4 + 32 + 2, 32);
        memcpy(ex, c->secret + 4, 32);
        ps[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
        ps[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, 65);
        ps[2] = OSSL_PARAM_construct_end();
        assert_int_equal(EVP_PKEY_fromdata_init(ic), 1);
        assert_int_equal(EVP_PKEY_fromdata(ic, &eph, EVP_PKEY_PUBLIC_KEY, ps), 1);
        assert_int_equal(EVP_PKEY_derive_init(ctx), 1);
        assert_int_equal(EVP_PKEY_derive_set_peer(ctx, eph), 1);
        assert_int_equal(EVP_PKEY_derive(ctx, z, &zl), 1);
        assert_int_equal(EVP_PKEY_get_bn_param(priv, OSSL_PKEY_PARAM_EC_PUB_X, &kx), 1);
        BN_bn2binpad(kx, kxb, 32);
        assert_int_equal(vouch_tpm_kdfe(VOUCH_HASH_SHA256, z, 32, "IDENTITY", ex, 32, kxb, 32, 256,
                                        seed), VOUCH_OK);
        BN_free(kx);
        EVP_PKEY_free(eph);
        EVP_PKEY_CTX_free(ic);
    } else {
        assert_int_equal(EVP_PKEY_decrypt_init(ctx), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()), 1);
        assert_int_equal(EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, OPENSSL_memdup("IDENTITY", 9), 9), 1);
        assert_int_equal(EVP_PKEY_decrypt(ctx, seed, &seedlen, c->secret + 2, c->secret_len - 2), 1);
        assert_int_equal(seedlen, 32);
    }
    assert_int_equal(vouch_tpm_kdfa(VOUCH_HASH_SHA256, seed, 32, "INTEGRITY", NULL, 0, NULL, 0,
                                    256, hkey), VOUCH_OK);
    memcpy(macin, enc, enc_len);
    memcpy(macin + enc_len, name, name_len);
    hmac256(hkey, macin, enc_len + name_len, mac);
    assert_int_equal(c->id_object[2] << 8 | c->id_object[3], 32);
    assert_memory_equal(mac, c->id_object + 4, 32);
    assert_int_equal(vouch_tpm_kdfa(VOUCH_HASH_SHA256, seed, 32, "STORAGE", name, name_len, NULL, 0,
                                    128, symkey), VOUCH_OK);
    assert_int_equal(EVP_DecryptInit_ex2(cc, EVP_aes_128_cfb128(), symkey, iv, NULL), 1);
    assert_int_equal(EVP_DecryptUpdate(cc, plain, &n1, enc, (int)enc_len), 1);
    *out_len = (size_t)(plain[0] << 8 | plain[1]);
    assert_int_equal(*out_len + 2, enc_len);
    memcpy(out, plain + 2, *out_len);
    EVP_CIPHER_CTX_free(cc);
    EVP_PKEY_CTX_free(ctx);
}

static void test_make_credential(void **state)
{
    static const uint8_t secret[32] = "a credential of thirty-two bytes";
    struct vouch_tpm_key *ak = load_key(SW "ak_rsa.tpm2b_public");
    int ecc;

    (void)state;
    for (ecc = 0; ecc < 2; ecc++) {
        EVP_PKEY *priv = ecc ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
                             : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        struct vouch_tpm_key *ek = ek_from(priv, ecc);
        struct vouch_tpm_credential c, c2;
        struct vouch_errbuf eb = { "" };
        uint8_t out[64], *file;
        size_t outlen, flen;

        if (vouch_tpm_make_credential(ek, ak->name, ak->name_len, secret, sizeof(secret), &c, &eb))
            fail_msg("%s", eb.msg);
        assert_int_equal(c.secret_len, ecc ? 2 + 4 + 64 : 2 + 256);
        activate(priv, ecc, ak->name, ak->name_len, &c, out, &outlen);
        assert_int_equal(outlen, sizeof(secret));
        assert_memory_equal(out, secret, sizeof(secret));
        /* fresh randomness each time */
        assert_int_equal(vouch_tpm_make_credential(ek, ak->name, ak->name_len, secret, 5, &c2, &eb),
                         VOUCH_OK);
        assert_memory_not_equal(c.secret + 2, c2.secret + 2, 32);
        activate(priv, ecc, ak->name, ak->name_len, &c2, out, &outlen);
        assert_int_equal(outlen, 5);
        /* the tpm2-tools file */
        assert_int_equal(vouch_tpm_credential_file(&c, &file, &flen), VOUCH_OK);
        assert_int_equal(flen, 8 + c.id_object_len + c.secret_len);
        assert_memory_equal(file, "\xba\xdc\xc0\xde\0\0\0\1", 8);
        free(file);
        /* refused: oversized credential, a non-EK key */
        assert_int_equal(vouch_tpm_make_credential(ek, ak->name, ak->name_len, out, 33, &c2, &eb),
                         VOUCH_E_INVALID);
        assert_int_equal(vouch_tpm_make_credential(ak, ak->name, ak->name_len, secret, 16, &c2, &eb),
                         VOUCH_E_UNSUPPORTED);
        vouch_tpm_credential_free(&c);
        vouch_tpm_credential_free(&c2);
        vouch_tpm_key_free(ek);
        EVP_PKEY_free(priv);
    }
    vouch_tpm_key_free(ak);
}

/* The swtpm EK's public area works as MakeCredential input (its output is checked by swtpm in tests/tpm/). */
static void test_make_credential_swtpm_ek(void **state)
{
    struct vouch_tpm_key *ek = load_key(SW "ek_rsa.pub");
    struct vouch_tpm_key *ak = load_key(SW "ak_rsa.tpm2b_public");
    struct vouch_tpm_credential c;

    (void)state;
    assert_int_equal(vouch_tpm_make_credential(ek, ak->name, ak->name_len,
                                               (const uint8_t *)"0123456789abcdef", 16, &c, NULL),
                     VOUCH_OK);
    assert_int_equal(c.secret_len, 2 + 256);
    assert_int_equal(c.id_object_len, 2 + 2 + 32 + 2 + 16);
    vouch_tpm_credential_free(&c);
    vouch_tpm_key_free(ek);
    vouch_tpm_key_free(ak);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_swtpm_ek_chain),
        cmocka_unit_test(test_aliyun_chain),
        cmocka_unit_test(test_ek_attrs_not_utf8),
        cmocka_unit_test(test_ek_cert_padding),
        cmocka_unit_test(test_kdfa_vs_kbkdf),
        cmocka_unit_test(test_kdfe_vs_sskdf),
        cmocka_unit_test(test_make_credential),
        cmocka_unit_test(test_make_credential_swtpm_ek),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
