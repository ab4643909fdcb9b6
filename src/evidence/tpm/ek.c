/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "common/json.h"
#include "common/time.h"
#include "crypto/sig.h"
#include "crypto/x509.h"
#include "evidence/tpm/ek.h"
#include "evidence/tpm/tpm_int.h"

/* ---- EK certificates ------------------------------------------------------ */

/* Length of the DER SEQUENCE at d (header included), or 0. */
static size_t der_length(const uint8_t *d, size_t len)
{
    size_t n, hdr, i;

    if (len < 2 || d[0] != 0x30)
        return 0;
    if (d[1] < 0x80)
        return (size_t)d[1] + 2;
    n = d[1] & 0x7f;
    if (n == 0 || n > 3 || len < 2 + n)
        return 0;
    for (hdr = 0, i = 0; i < n; i++)
        hdr = hdr << 8 | d[2 + i];
    return hdr + 2 + n;
}

vouch_err vouch_tpm_ek_cert_parse(const uint8_t *data, size_t len, X509 **ret,
                                  struct vouch_errbuf *eb)
{
    STACK_OF(X509) *chain = NULL;
    size_t n;
    vouch_err e;

    if (memmem(data, len, "-----BEGIN CERTIFICATE-----", 27)) {
        e = vouch_x509_parse_pem_chain((const char *)data, len, 1, &chain, eb);
        if (e)
            return vouch_fail_prefix(eb, e, "EK certificate: ");
        X509 *c = sk_X509_shift(chain);

        sk_X509_pop_free(chain, X509_free);
        if (!c)
            return vouch_fail(eb, VOUCH_E_INVALID, "EK certificate: empty PEM");
        *ret = c;
        return VOUCH_OK;
    }
    n = der_length(data, len);
    if (!n || n > len)
        return vouch_fail(eb, VOUCH_E_INVALID, "EK certificate: not DER or PEM");
    if (!vouch_tcg_all_bytes(data + n, len - n, 0) && !vouch_tcg_all_bytes(data + n, len - n, 0xff))
        return vouch_fail(eb, VOUCH_E_INVALID, "EK certificate: %zu bytes after the DER", len - n);
    e = vouch_x509_parse_der(data, n, ret, eb);
    return e ? vouch_fail_prefix(eb, e, "EK certificate: ") : VOUCH_OK;
}

vouch_err vouch_tpm_ek_cert_verify(X509 *cert, STACK_OF(X509) *intermediates,
                                   STACK_OF(X509) *roots, const struct vouch_tpm_key *ek,
                                   int64_t now, unsigned chain_flags, struct vouch_errbuf *eb)
{
    vouch_err e;

    if (!roots || sk_X509_num(roots) == 0)
        return vouch_fail(eb, VOUCH_E_NOT_FOUND, "EK certificate: no trust anchors configured");
    e = vouch_x509_verify_chain(cert, intermediates, roots, NULL, now, chain_flags, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "EK certificate chain: ");
    if (ek && EVP_PKEY_eq(X509_get0_pubkey(cert), ek->pkey) != 1) {
        ERR_clear_error();
        return vouch_fail(eb, VOUCH_E_BINDING, "EK certificate: its key is not the EK's");
    }
    return VOUCH_OK;
}

/* TPM manufacturer/model/version from the subjectAltName directoryName (TCG EK profile). */
static vouch_err san_claims(X509 *cert, json_t *o)
{
    static const struct {
        const char *oid;
        const char *key;
    } attrs[] = {
        { "2.23.133.2.1", "tpm_manufacturer" },
        { "2.23.133.2.2", "tpm_model" },
        { "2.23.133.2.3", "tpm_version" },
    };
    GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    vouch_err e = VOUCH_OK;
    int i, j;

    for (i = 0; gens && i < sk_GENERAL_NAME_num(gens) && !e; i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

        if (g->type != GEN_DIRNAME)
            continue;
        for (j = 0; j < X509_NAME_entry_count(g->d.dirn) && !e; j++) {
            X509_NAME_ENTRY *ne = X509_NAME_get_entry(g->d.dirn, j);
            const ASN1_STRING *v = X509_NAME_ENTRY_get_data(ne);
            char oid[64];
            size_t k;

            OBJ_obj2txt(oid, sizeof(oid), X509_NAME_ENTRY_get_object(ne), 1);
            for (k = 0; k < sizeof(attrs) / sizeof(attrs[0]); k++)
                if (!strcmp(oid, attrs[k].oid))
                    e = vouch_json_set_text(o, attrs[k].key, (const char *)ASN1_STRING_get0_data(v),
                                            (size_t)ASN1_STRING_length(v));
        }
    }
    GENERAL_NAMES_free(gens);
    ERR_clear_error();
    return e;
}

vouch_err vouch_tpm_ek_cert_claims(X509 *cert, json_t **ret)
{
    json_t *o = json_object();
    char subj[256], iss[256], nb[VOUCH_RFC3339_LEN], na[VOUCH_RFC3339_LEN];
    int64_t tnb = 0, tna = 0;
    uint8_t fp[32];
    const ASN1_INTEGER *serial = X509_get0_serialNumber(cert);
    BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
    char *sh = bn ? BN_bn2hex(bn) : NULL;
    vouch_err e = VOUCH_E_NOMEM;

    vouch_x509_subject(cert, subj, sizeof(subj));
    {
        X509_NAME *in = X509_get_issuer_name(cert);
        BIO *b = BIO_new(BIO_s_mem());
        int n;

        iss[0] = 0;
        if (b && X509_NAME_print_ex(b, in, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
            (n = BIO_read(b, iss, (int)sizeof(iss) - 1)) > 0)
            iss[n] = 0;
        BIO_free(b);
    }
    if (!o || !sh || vouch_x509_validity(cert, &tnb, &tna) || vouch_x509_fingerprint(cert, fp))
        goto out;
    vouch_time_format_rfc3339(tnb, nb);
    vouch_time_format_rfc3339(tna, na);
    if (vouch_json_set_str(o, "subject", subj) || vouch_json_set_str(o, "issuer", iss) ||
        vouch_json_set_str(o, "serial", sh) || vouch_json_set_str(o, "not_before", nb) ||
        vouch_json_set_str(o, "not_after", na) || vouch_json_set_hex(o, "sha256", fp, 32) ||
        san_claims(cert, o))
        goto out;
    *ret = o;
    o = NULL;
    e = VOUCH_OK;
out:
    ERR_clear_error();
    OPENSSL_free(sh);
    BN_free(bn);
    json_decref(o);
    return e;
}

/* ---- KDFs ---------------------------------------------------------------- */

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

vouch_err vouch_tpm_kdfa(enum vouch_hash h, const uint8_t *key, size_t key_len,
                         const char *label, const uint8_t *context_u, size_t u_len,
                         const uint8_t *context_v, size_t v_len, unsigned bits, uint8_t *out)
{
    size_t ll = strlen(label) + 1, hs = vouch_hash_size(h), done = 0, need = bits / 8;
    size_t mlen = 4 + ll + u_len + v_len + 4;
    uint8_t *msg, block[VOUCH_HASH_MAX_SIZE];
    uint32_t i;
    vouch_err e = VOUCH_OK;

    if (!vouch_hash_md(h) || bits % 8 || bits == 0 || u_len > 4096 || v_len > 4096)
        return VOUCH_E_INVALID;
    msg = malloc(mlen);
    if (!msg)
        return VOUCH_E_NOMEM;
    memcpy(msg + 4, label, ll);
    if (u_len)
        memcpy(msg + 4 + ll, context_u, u_len);
    if (v_len)
        memcpy(msg + 4 + ll + u_len, context_v, v_len);
    be32(msg + mlen - 4, bits);
    for (i = 1; done < need && !e; i++) {
        size_t take = need - done < hs ? need - done : hs;

        be32(msg, i);
        e = vouch_hmac(h, key, key_len, msg, mlen, block);
        memcpy(out + done, block, take);
        done += take;
    }
    OPENSSL_cleanse(block, sizeof(block));
    free(msg);
    return e;
}

vouch_err vouch_tpm_kdfe(enum vouch_hash h, const uint8_t *z, size_t z_len, const char *label,
                         const uint8_t *party_u, size_t u_len, const uint8_t *party_v,
                         size_t v_len, unsigned bits, uint8_t *out)
{
    size_t ll = strlen(label) + 1, hs = vouch_hash_size(h), done = 0, need = bits / 8;
    EVP_MD_CTX *ctx;
    uint8_t cnt[4], block[VOUCH_HASH_MAX_SIZE];
    uint32_t i;
    vouch_err e = VOUCH_OK;

    if (!vouch_hash_md(h) || bits % 8 || bits == 0)
        return VOUCH_E_INVALID;
    ctx = EVP_MD_CTX_new();
    if (!ctx)
        return VOUCH_E_NOMEM;
    for (i = 1; done < need && !e; i++) {
        size_t take = need - done < hs ? need - done : hs;

        be32(cnt, i);
        if (EVP_DigestInit_ex2(ctx, vouch_hash_md(h), NULL) != 1 ||
            EVP_DigestUpdate(ctx, cnt, 4) != 1 || EVP_DigestUpdate(ctx, z, z_len) != 1 ||
            EVP_DigestUpdate(ctx, label, ll) != 1 || EVP_DigestUpdate(ctx, party_u, u_len) != 1 ||
            EVP_DigestUpdate(ctx, party_v, v_len) != 1 || EVP_DigestFinal_ex(ctx, block, NULL) != 1)
            e = VOUCH_E_INTERNAL;
        memcpy(out + done, block, take);
        done += take;
    }
    EVP_MD_CTX_free(ctx);
    OPENSSL_cleanse(block, sizeof(block));
    return e;
}

/* ---- MakeCredential -------------------------------------------------------- */

void vouch_tpm_credential_free(struct vouch_tpm_credential *c)
{
    if (!c)
        return;
    free(c->id_object);
    free(c->secret);
    memset(c, 0, sizeof(*c));
}

/* RSA: a random seed, RSA-OAEP(nameAlg) encrypted with label "IDENTITY". */
static vouch_err rsa_seed(const struct vouch_tpm_key *ek, enum vouch_hash h, uint8_t *seed,
                          uint8_t *enc, size_t *enc_len, struct vouch_errbuf *eb)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ek->pkey, NULL);
    unsigned char *label = OPENSSL_memdup("IDENTITY", 9);
    size_t hs = vouch_hash_size(h);
    vouch_err e = VOUCH_OK;

    if (!ctx || !label || RAND_bytes(seed, (int)hs) != 1 || EVP_PKEY_encrypt_init(ctx) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_oaep_md(ctx, vouch_hash_md(h)) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, vouch_hash_md(h)) != 1 ||
        EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, label, 9) != 1) {
        e = vouch_fail(eb, VOUCH_E_INTERNAL, "MakeCredential: RSA-OAEP setup failed");
        goto out;
    }
    label = NULL;   /* owned by ctx */
    if (EVP_PKEY_encrypt(ctx, enc, enc_len, seed, hs) != 1)
        e = vouch_fail(eb, VOUCH_E_INTERNAL, "MakeCredential: RSA-OAEP failed");
out:
    ERR_clear_error();
    OPENSSL_free(label);
    EVP_PKEY_CTX_free(ctx);
    return e;
}

static vouch_err ec_coord(EVP_PKEY *pk, const char *param, size_t fs, uint8_t *out)
{
    BIGNUM *bn = NULL;
    vouch_err e = VOUCH_OK;

    if (EVP_PKEY_get_bn_param(pk, param, &bn) != 1 || BN_bn2binpad(bn, out, (int)fs) < 0)
        e = VOUCH_E_INTERNAL;
    BN_free(bn);
    return e;
}

/* ECC: an ephemeral key; seed = KDFe(nameAlg, Z, "IDENTITY", ephemeral.x, ek.x). */
static vouch_err ecc_seed(const struct vouch_tpm_key *ek, enum vouch_hash h, uint8_t *seed,
                          uint8_t *enc, size_t *enc_len, struct vouch_errbuf *eb)
{
    size_t fs = vouch_ec_field_size(ek->pkey), zlen = 0;
    const char *curve = fs == 32 ? "P-256" : "P-384";
    EVP_PKEY *eph = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
    EVP_PKEY_CTX *ctx = eph ? EVP_PKEY_CTX_new_from_pkey(NULL, eph, NULL) : NULL;
    uint8_t z[66], ex[66], ey[66], kx[66];
    vouch_err e = VOUCH_OK;

    if (!ctx || EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, ek->pkey) != 1 ||
        EVP_PKEY_derive(ctx, NULL, &zlen) != 1 || zlen != fs ||
        EVP_PKEY_derive(ctx, z, &zlen) != 1 ||
        ec_coord(eph, OSSL_PKEY_PARAM_EC_PUB_X, fs, ex) ||
        ec_coord(eph, OSSL_PKEY_PARAM_EC_PUB_Y, fs, ey) ||
        ec_coord(ek->pkey, OSSL_PKEY_PARAM_EC_PUB_X, fs, kx)) {
        e = vouch_fail(eb, VOUCH_E_INTERNAL, "MakeCredential: ECDH failed");
        goto out;
    }
    e = vouch_tpm_kdfe(h, z, fs, "IDENTITY", ex, fs, kx, fs, (unsigned)vouch_hash_size(h) * 8, seed);
    if (e) {
        e = vouch_fail(eb, e, "MakeCredential: KDFe failed");
        goto out;
    }
    /* TPMS_ECC_POINT: TPM2B x, TPM2B y */
    enc[0] = (uint8_t)(fs >> 8);
    enc[1] = (uint8_t)fs;
    memcpy(enc + 2, ex, fs);
    enc[2 + fs] = (uint8_t)(fs >> 8);
    enc[3 + fs] = (uint8_t)fs;
    memcpy(enc + 4 + fs, ey, fs);
    *enc_len = 4 + 2 * fs;
out:
    OPENSSL_cleanse(z, sizeof(z));
    ERR_clear_error();
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(eph);
    return e;
}

static vouch_err cfb_encrypt(unsigned bits, const uint8_t *key, const uint8_t *in, size_t len,
                             uint8_t *out)
{
    EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, bits == 256 ? "AES-256-CFB" : bits == 192 ? "AES-192-CFB"
                                                                                     : "AES-128-CFB",
                                     NULL);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    uint8_t iv[16] = { 0 };
    int n1 = 0, n2 = 0;
    vouch_err e = VOUCH_OK;

    if (!c || !ctx || EVP_EncryptInit_ex2(ctx, c, key, iv, NULL) != 1 ||
        EVP_EncryptUpdate(ctx, out, &n1, in, (int)len) != 1 ||
        EVP_EncryptFinal_ex(ctx, out + n1, &n2) != 1 || (size_t)(n1 + n2) != len)
        e = VOUCH_E_INTERNAL;
    ERR_clear_error();
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(c);
    return e;
}

vouch_err vouch_tpm_make_credential(const struct vouch_tpm_key *ek, const uint8_t *name,
                                    size_t name_len, const uint8_t *credential, size_t cred_len,
                                    struct vouch_tpm_credential *ret, struct vouch_errbuf *eb)
{
    struct vouch_tpm_credential c = { NULL, 0, NULL, 0 };
    uint8_t seed[VOUCH_HASH_MAX_SIZE], symkey[32], hkey[VOUCH_HASH_MAX_SIZE],
        plain[2 + VOUCH_HASH_MAX_SIZE], mac[VOUCH_HASH_MAX_SIZE], enc[512];
    uint8_t *macin = NULL;
    size_t enc_len = sizeof(enc), hs, blob;
    int h = vouch_tcg_alg_hash(ek->name_alg);
    vouch_err e;

    if (h < 0 || !ek->pkey)
        return vouch_fail(eb, VOUCH_E_INVALID, "MakeCredential: the EK must be a TPM public "
                          "key with a hash nameAlg");
    hs = vouch_hash_size((enum vouch_hash)h);
    if ((ek->attributes & (VOUCH_TPMA_RESTRICTED | VOUCH_TPMA_DECRYPT)) !=
            (VOUCH_TPMA_RESTRICTED | VOUCH_TPMA_DECRYPT) ||
        ek->sym_alg != VOUCH_TPM_ALG_AES || ek->sym_mode != VOUCH_TPM_ALG_CFB ||
        (ek->sym_bits != 128 && ek->sym_bits != 192 && ek->sym_bits != 256))
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "MakeCredential: the EK is not a restricted "
                          "decryption key with AES-CFB");
    if (cred_len == 0 || cred_len > hs)
        return vouch_fail(eb, VOUCH_E_INVALID, "MakeCredential: credential of %zu bytes (1-%zu)",
                          cred_len, hs);
    if (name_len < 2 || name_len > 2 + VOUCH_HASH_MAX_SIZE)
        return vouch_fail(eb, VOUCH_E_INVALID, "MakeCredential: bad object Name");
    e = ek->type == VOUCH_TPM_ALG_RSA ? rsa_seed(ek, (enum vouch_hash)h, seed, enc, &enc_len, eb)
        : ek->type == VOUCH_TPM_ALG_ECC ? ecc_seed(ek, (enum vouch_hash)h, seed, enc, &enc_len, eb)
                                        : vouch_fail(eb, VOUCH_E_UNSUPPORTED, "MakeCredential: EK type");
    if (e)
        goto out;
    /* encIdentity = AES-CFB(KDFa(seed, "STORAGE", name), TPM2B_DIGEST(credential)) */
    plain[0] = (uint8_t)(cred_len >> 8);
    plain[1] = (uint8_t)cred_len;
    memcpy(plain + 2, credential, cred_len);
    if (vouch_tpm_kdfa((enum vouch_hash)h, seed, hs, "STORAGE", name, name_len, NULL, 0,
                       ek->sym_bits, symkey) ||
        vouch_tpm_kdfa((enum vouch_hash)h, seed, hs, "INTEGRITY", NULL, 0, NULL, 0,
                       (unsigned)hs * 8, hkey)) {
        e = vouch_fail(eb, VOUCH_E_INTERNAL, "MakeCredential: KDFa failed");
        goto out;
    }
    blob = 2 + hs + 2 + cred_len;                 /* TPM2B_DIGEST(HMAC) || encIdentity */
    c.id_object_len = 2 + blob;
    c.id_object = malloc(c.id_object_len);
    macin = malloc(2 + cred_len + name_len);
    c.secret_len = 2 + enc_len;
    c.secret = malloc(c.secret_len);
    if (!c.id_object || !macin || !c.secret) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    if (cfb_encrypt(ek->sym_bits, symkey, plain, 2 + cred_len, c.id_object + 2 + 2 + hs)) {
        e = vouch_fail(eb, VOUCH_E_INTERNAL, "MakeCredential: AES-CFB failed");
        goto out;
    }
    /* outerHMAC = HMAC(KDFa(seed, "INTEGRITY"), encIdentity || name) */
    memcpy(macin, c.id_object + 2 + 2 + hs, 2 + cred_len);
    memcpy(macin + 2 + cred_len, name, name_len);
    if (vouch_hmac((enum vouch_hash)h, hkey, hs, macin, 2 + cred_len + name_len, mac)) {
        e = vouch_fail(eb, VOUCH_E_INTERNAL, "MakeCredential: HMAC failed");
        goto out;
    }
    c.id_object[0] = (uint8_t)(blob >> 8);
    c.id_object[1] = (uint8_t)blob;
    c.id_object[2] = (uint8_t)(hs >> 8);
    c.id_object[3] = (uint8_t)hs;
    memcpy(c.id_object + 4, mac, hs);
    c.secret[0] = (uint8_t)(enc_len >> 8);
    c.secret[1] = (uint8_t)enc_len;
    memcpy(c.secret + 2, enc, enc_len);
    *ret = c;
    c.id_object = c.secret = NULL;
out:
    OPENSSL_cleanse(seed, sizeof(seed));
    OPENSSL_cleanse(symkey, sizeof(symkey));
    OPENSSL_cleanse(hkey, sizeof(hkey));
    OPENSSL_cleanse(plain, sizeof(plain));
    free(macin);
    vouch_tpm_credential_free(&c);
    return e;
}

vouch_err vouch_tpm_ak_challenge(const struct vouch_tpm_key *ek, const struct vouch_tpm_key *ak,
                                 const uint8_t *secret, size_t secret_len,
                                 struct vouch_tpm_credential *ret, struct vouch_errbuf *eb)
{
    vouch_err e;

    if (!ak->name_len)
        return vouch_fail(eb, VOUCH_E_INVALID, "AK: a TPM public area is needed (its Name), "
                          "not a PEM key");
    if ((ak->attributes & VOUCH_TPM_AK_ATTRS) != VOUCH_TPM_AK_ATTRS ||
        (ak->attributes & VOUCH_TPMA_DECRYPT))
        return vouch_fail(eb, VOUCH_E_VERIFY, "AK: attributes 0x%08x are not those of a "
                          "restricted signing key fixed to its TPM", ak->attributes);
    e = vouch_tpm_make_credential(ek, ak->name, ak->name_len, secret, secret_len, ret, eb);
    return e;
}

vouch_err vouch_tpm_credential_file(const struct vouch_tpm_credential *c, uint8_t **ret,
                                    size_t *ret_len)
{
    size_t n = 8 + c->id_object_len + c->secret_len;
    uint8_t *f = malloc(n);

    if (!f)
        return VOUCH_E_NOMEM;
    memcpy(f, "\xba\xdc\xc0\xde\x00\x00\x00\x01", 8);
    memcpy(f + 8, c->id_object, c->id_object_len);
    memcpy(f + 8 + c->id_object_len, c->secret, c->secret_len);
    *ret = f;
    *ret_len = n;
    return VOUCH_OK;
}
