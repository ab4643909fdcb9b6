/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vTPM service's AK CA and its TPM manufacturer roots.
 *
 * The CA is an ECDSA P-256 key with a self-signed certificate, made by
 * the first replica that starts and kept in the store's setting
 * "vtpm_ak_ca" (the key's PKCS#8 PEM, then the certificate's PEM), a
 * secret wrapped under the KEK like the signing keys.  ProduceAikcert
 * issues AK certificates from it (subject CN = PropertyUuid).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "common/cache.h"
#include "common/file.h"
#include "crypto/x509.h"
#include "server/vtpm.h"
#include "token/accesskey.h"
#include "token/secrets.h"

#define CA_SETTING "vtpm_ak_ca"
#define CA_NAME "Vouch vTPM AK CA"
#define CA_DAYS (20 * 365)
#define AK_CERT_DAYS 365
#define SERIAL_BYTES 16
#define EK_ROOTS_MAX_FILE (1u << 20)
#define EK_ROOTS_MAX 64

/* A random positive serial number. */
static bool set_serial(X509 *x)
{
    uint8_t b[SERIAL_BYTES];
    BIGNUM *bn;
    bool ok;

    if (RAND_bytes(b, sizeof(b)) != 1)
        return false;
    b[0] &= 0x7f;
    b[0] |= 0x01;
    bn = BN_bin2bn(b, sizeof(b), NULL);
    ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    return ok;
}

static bool add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    bool ok;

    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    ok = ext && X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/* A certificate for `key` named CN=cn, issued by issuer (NULL: self-signed). */
static X509 *cert_make(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *signer,
                       int64_t now, int days, bool ca)
{
    time_t t = (time_t)now;
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    bool ok = x && name && X509_set_version(x, 2) && set_serial(x) &&
              X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn,
                                         -1, -1, 0) &&
              X509_set_subject_name(x, name) &&
              X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) &&
              X509_time_adj_ex(X509_getm_notBefore(x), 0, -3600, &t) &&
              X509_time_adj_ex(X509_getm_notAfter(x), days, 0, &t) &&
              X509_set_pubkey(x, key);

    ok = ok && add_ext(x, issuer ? issuer : x, NID_basic_constraints,
                       ca ? "critical,CA:TRUE" : "critical,CA:FALSE") &&
         add_ext(x, issuer ? issuer : x, NID_key_usage,
                 ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature") &&
         add_ext(x, issuer ? issuer : x, NID_subject_key_identifier, "hash") &&
         add_ext(x, issuer ? issuer : x, NID_authority_key_identifier, "keyid:always") &&
         X509_sign(x, signer, EVP_sha256()) > 0;
    X509_NAME_free(name);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static char *pem_of(int (*write)(BIO *, void *), void *obj)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL, *out = NULL;
    long n;

    if (b && write(b, obj) == 1 && (n = BIO_get_mem_data(b, &data)) > 0 &&
        (out = malloc((size_t)n + 1))) {
        memcpy(out, data, (size_t)n);
        out[n] = '\0';
    }
    BIO_free(b);
    return out;
}

static int write_cert(BIO *b, void *x)
{
    return PEM_write_bio_X509(b, x);
}

static int write_key(BIO *b, void *k)
{
    return PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
}

/* Make a CA and store it, unless another replica was first. */
static vouch_err ca_create(struct vouch_app *app, int64_t now, struct vouch_errbuf *eb)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *cert = key ? cert_make(key, CA_NAME, NULL, key, now, CA_DAYS, true) : NULL;
    char *kp = key ? pem_of(write_key, key) : NULL, *cp = cert ? pem_of(write_cert, cert) : NULL;
    char *both = NULL, *stored = NULL;
    vouch_err e = VOUCH_OK;

    if (!kp || !cp || !(both = malloc(strlen(kp) + strlen(cp) + 1)))
        e = vouch_fail(eb, VOUCH_E_INTERNAL, "cannot make the AK CA");
    if (!e) {
        strcpy(both, kp);
        strcat(both, cp);
        e = vouch_secret_seal(app->kek, VOUCH_STORE_SECRET_META, CA_SETTING, both, &stored, eb);
    }
    if (!e)
        e = vouch_store_meta_insert(app->store, CA_SETTING, stored, eb);
    if (kp)
        OPENSSL_clear_free(kp, strlen(kp));
    if (both)
        OPENSSL_clear_free(both, strlen(both));
    if (stored)
        OPENSSL_clear_free(stored, strlen(stored));
    free(cp);
    X509_free(cert);
    EVP_PKEY_free(key);
    return e == VOUCH_E_CONFLICT ? VOUCH_OK : e;
}

/* Read the key and certificate from the setting's clear text. */
static vouch_err ca_parse(struct vouch_app *app, const uint8_t *pem, size_t len,
                          struct vouch_errbuf *eb)
{
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    X509 *cert = key ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    char *cp = cert ? pem_of(write_cert, cert) : NULL;

    BIO_free(b);
    if (!cp || X509_check_private_key(cert, key) != 1) {
        free(cp);
        X509_free(cert);
        EVP_PKEY_free(key);
        return vouch_fail(eb, VOUCH_E_STORE, "stored AK CA is malformed");
    }
    app->vtpm_ca_key = key;
    app->vtpm_ca_cert = cert;
    app->vtpm_ca_pem = cp;
    return VOUCH_OK;
}

static vouch_err ek_roots_load(struct vouch_app *app, struct vouch_errbuf *eb)
{
    uint8_t *data = NULL;
    size_t len = 0;
    vouch_err e;

    if (!app->cfg.vtpm_ek_roots)
        return VOUCH_OK;
    e = vouch_file_read(app->cfg.vtpm_ek_roots, EK_ROOTS_MAX_FILE, &data, &len, eb);
    if (!e)
        e = vouch_x509_parse_pem_chain((const char *)data, len, EK_ROOTS_MAX,
                                       &app->vtpm_ek_roots, eb);
    free(data);
    return e ? vouch_fail_prefix(eb, e, "--vtpm-ek-roots: ") : VOUCH_OK;
}

vouch_err vouch_vtpm_setup(struct vouch_app *app, struct vouch_errbuf *eb)
{
    uint8_t *clear = NULL;
    char *stored = NULL;
    size_t len = 0;
    vouch_err e = vouch_store_meta_get(app->store, CA_SETTING, &stored, eb);

    if (e == VOUCH_E_NOT_FOUND) {
        e = ca_create(app, vouch_app_now(app), eb);
        if (!e)
            e = vouch_store_meta_get(app->store, CA_SETTING, &stored, eb);
    }
    if (!e)
        e = vouch_secret_open(app->kek, VOUCH_STORE_SECRET_META, CA_SETTING, stored, &clear,
                              &len, eb);
    if (!e)
        e = ca_parse(app, clear, len, eb);
    vouch_kek_secret_free(clear, len);
    if (stored)
        OPENSSL_clear_free(stored, strlen(stored));
    if (e)
        return vouch_fail_prefix(eb, e, "vTPM AK CA: ");
    e = ek_roots_load(app, eb);
    if (!e)
        e = vouch_accesskeys_new(app->store, app->kek, VOUCH_ACCESSKEY_TTL_US,
                                 VOUCH_ACCESSKEY_CACHE_MAX, &app->accesskeys, eb);
    if (!e)
        e = vouch_vtpm_ak_cache_new(&app->vtpm_ak_cache, eb);
    return e;
}

void vouch_vtpm_done(struct vouch_app *app)
{
    EVP_PKEY_free(app->vtpm_ca_key);
    X509_free(app->vtpm_ca_cert);
    free(app->vtpm_ca_pem);
    sk_X509_pop_free(app->vtpm_ek_roots, X509_free);
    vouch_accesskeys_free(app->accesskeys);
    app->accesskeys = NULL;
    vouch_cache_free(app->vtpm_ak_cache);
    app->vtpm_ak_cache = NULL;
    app->vtpm_ca_key = NULL;
    app->vtpm_ca_cert = NULL;
    app->vtpm_ca_pem = NULL;
    app->vtpm_ek_roots = NULL;
}

vouch_err vouch_vtpm_ca_issue(const struct vouch_app *app, EVP_PKEY *ak, const char *cn,
                              int64_t now, char **ret_pem, struct vouch_errbuf *eb)
{
    X509 *x = cert_make(ak, cn, app->vtpm_ca_cert, app->vtpm_ca_key, now, AK_CERT_DAYS, false);
    char *pem = x ? pem_of(write_cert, x) : NULL;

    X509_free(x);
    if (!pem)
        return vouch_fail(eb, VOUCH_E_INTERNAL, "cannot issue the AK certificate");
    *ret_pem = pem;
    return VOUCH_OK;
}
