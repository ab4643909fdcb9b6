/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <pthread.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "common/cache.h"
#include "common/codec.h"
#include "common/file.h"
#include "common/time.h"
#include "crypto/digest.h"
#include "crypto/x509.h"

#define CERT_FILE_MAX (1u << 20)

/*
 * Decoded certificates, shared.  OpenSSL 3.0 spends as long decoding a
 * certificate (its public key goes through the provider decoders) as
 * verifying an ECDSA signature, and evidence keeps presenting the same
 * intermediate and root certificates.  Two bounded LRU caches hold
 * decoded X509 and X509_CRL objects by the SHA-256 of their DER: they
 * never cache a trust decision, only the parse.  Each cache holds one
 * reference to its object; a hit hands the caller another.
 */
#define CERT_CACHE_MAX 256
#define CRL_CACHE_MAX 64

static struct vouch_cache *cert_cache, *crl_cache;
static pthread_once_t decode_caches_once = PTHREAD_ONCE_INIT;

static void cert_value_free(void *v)
{
    X509_free(v);
}

static void crl_value_free(void *v)
{
    X509_CRL_free(v);
}

/* Without memory for them, decoding goes uncached. */
static void decode_caches_new(void)
{
    const struct vouch_cache_config certs = { "x509_certs", CERT_CACHE_MAX, 0, 0,
                                              cert_value_free };
    const struct vouch_cache_config crls = { "x509_crls", CRL_CACHE_MAX, 0, 0, crl_value_free };

    if (vouch_cache_new(&certs, &cert_cache, NULL))
        cert_cache = NULL;
    if (vouch_cache_new(&crls, &crl_cache, NULL))
        crl_cache = NULL;
}

/* A new reference to the cached object for key, or NULL (up_ref is X509_up_ref or the CRL's). */
static void *cache_lookup(struct vouch_cache *c, const uint8_t key[32], int (*up_ref)(void *))
{
    struct vouch_cache_entry *ce;
    void *obj = NULL;

    if (!c)
        return NULL;
    ce = vouch_cache_get(c, key, 32, 0);
    if (ce && up_ref(vouch_cache_value(ce)) == 1)
        obj = vouch_cache_value(ce);
    vouch_cache_release(ce);
    return obj;
}

/* Keep obj in c (taking a new reference to it). */
static void cache_keep(struct vouch_cache *c, const uint8_t key[32], void *obj,
                       int (*up_ref)(void *))
{
    if (c && up_ref(obj) == 1)
        (void)vouch_cache_put(c, key, 32, obj, 0, 0, VOUCH_CACHE_NEVER, NULL);
}

static int cert_up_ref(void *x)
{
    return X509_up_ref(x);
}

static int crl_up_ref(void *crl)
{
    return X509_CRL_up_ref(crl);
}

/* Decode DER through the cache; *ret is a new reference. */
static vouch_err decode_cached(const uint8_t *der, size_t len, X509 **ret)
{
    const unsigned char *p = der;
    uint8_t key[32];
    X509 *x;

    if (len > INT32_MAX || vouch_hash(VOUCH_HASH_SHA256, der, len, key))
        return VOUCH_E_INVALID;
    pthread_once(&decode_caches_once, decode_caches_new);
    x = cache_lookup(cert_cache, key, cert_up_ref);
    if (x) {
        *ret = x;
        return VOUCH_OK;
    }
    x = d2i_X509(NULL, &p, (long)len);
    if (!x)
        return VOUCH_E_INVALID;
    if (p != der + len) {
        X509_free(x);
        return VOUCH_E_TRUNCATED; /* trailing bytes */
    }
    /* Fill the lazily computed fields now, so shared copies are only read. */
    (void)X509_check_purpose(x, -1, 0);
    cache_keep(cert_cache, key, x, cert_up_ref);
    *ret = x;
    return VOUCH_OK;
}

/* The same for a DER CRL. */
static vouch_err decode_crl_cached(const uint8_t *der, size_t len, X509_CRL **ret)
{
    const unsigned char *p = der;
    uint8_t key[32];
    X509_CRL *crl;

    if (len > INT32_MAX || vouch_hash(VOUCH_HASH_SHA256, der, len, key))
        return VOUCH_E_INVALID;
    pthread_once(&decode_caches_once, decode_caches_new);
    crl = cache_lookup(crl_cache, key, crl_up_ref);
    if (crl) {
        *ret = crl;
        return VOUCH_OK;
    }
    crl = d2i_X509_CRL(NULL, &p, (long)len);
    if (!crl)
        return VOUCH_E_INVALID;
    if (p != der + len) {
        X509_CRL_free(crl);
        return VOUCH_E_TRUNCATED;
    }
    cache_keep(crl_cache, key, crl, crl_up_ref);
    *ret = crl;
    return VOUCH_OK;
}

void vouch_x509_cache_clear(void)
{
    pthread_once(&decode_caches_once, decode_caches_new);
    if (cert_cache)
        vouch_cache_clear(cert_cache);
    if (crl_cache)
        vouch_cache_clear(crl_cache);
}

vouch_err vouch_x509_parse_pem_chain(const char *pem, size_t len, size_t max_certs,
                                     STACK_OF(X509) **ret, struct vouch_errbuf *eb)
{
    STACK_OF(X509) *sk = NULL;
    vouch_err e = VOUCH_OK;
    X509 *x;
    BIO *bio;

    if (len > INT32_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "PEM chain too large");
    bio = BIO_new_mem_buf(pem, (int)len);
    sk = sk_X509_new_null();
    if (!bio || !sk) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    for (;;) {
        unsigned char *der = NULL;
        long derlen = 0;
        vouch_err de;

        if (PEM_bytes_read_bio(&der, &derlen, NULL, PEM_STRING_X509, bio, NULL, NULL) != 1) {
            /* PEM_R_NO_START_LINE at the end is the normal way out. */
            if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE) {
                e = vouch_fail(eb, VOUCH_E_INVALID, "malformed PEM certificate #%d",
                               sk_X509_num(sk) + 1);
                goto out;
            }
            break;
        }
        de = decode_cached(der, (size_t)derlen, &x);
        OPENSSL_free(der);
        if (de) {
            e = vouch_fail(eb, VOUCH_E_INVALID, "malformed certificate #%d in PEM chain",
                           sk_X509_num(sk) + 1);
            goto out;
        }
        if ((size_t)sk_X509_num(sk) >= max_certs) {
            X509_free(x);
            e = vouch_fail(eb, VOUCH_E_TOO_LARGE, "more than %zu certificates in chain",
                           max_certs);
            goto out;
        }
        if (!sk_X509_push(sk, x)) {
            X509_free(x);
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
            goto out;
        }
    }
    if (sk_X509_num(sk) == 0) {
        e = vouch_fail(eb, VOUCH_E_INVALID, "no PEM certificate found");
        goto out;
    }
    *ret = sk;
    sk = NULL;
out:
    ERR_clear_error();
    BIO_free(bio);
    sk_X509_pop_free(sk, X509_free);
    return e;
}

vouch_err vouch_x509_parse_der(const uint8_t *der, size_t len, X509 **ret,
                               struct vouch_errbuf *eb)
{
    vouch_err e;

    if (len > INT32_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "certificate too large");
    e = decode_cached(der, len, ret);
    ERR_clear_error();
    if (e == VOUCH_E_TRUNCATED)
        return vouch_fail(eb, VOUCH_E_INVALID, "trailing bytes after DER certificate");
    if (e)
        return vouch_fail(eb, VOUCH_E_INVALID, "malformed DER certificate");
    return VOUCH_OK;
}

vouch_err vouch_x509_load_file(const char *path, X509 **ret, struct vouch_errbuf *eb)
{
    uint8_t *data = NULL;
    size_t len = 0;
    X509 *x = NULL;
    vouch_err e;

    e = vouch_file_read(path, CERT_FILE_MAX, &data, &len, eb);
    if (e)
        return e;
    if (len >= 10 && memmem(data, len, "-----BEGIN", 10)) {
        STACK_OF(X509) *sk = NULL;

        e = vouch_x509_parse_pem_chain((const char *)data, len, 64, &sk, eb);
        if (!e) {
            x = sk_X509_shift(sk);
            sk_X509_pop_free(sk, X509_free);
        }
    } else {
        e = vouch_x509_parse_der(data, len, &x, eb);
    }
    free(data);
    if (e)
        return vouch_fail_prefix(eb, e, "%s: ", path);
    *ret = x;
    return VOUCH_OK;
}

static bool all_hex(const uint8_t *p, size_t n)
{
    size_t i;

    if (n == 0 || n % 2)
        return false;
    for (i = 0; i < n; i++)
        if (!isxdigit(p[i]))
            return false;
    return true;
}

vouch_err vouch_crl_parse(const uint8_t *data, size_t len, X509_CRL **ret,
                          struct vouch_errbuf *eb)
{
    unsigned char *pemder = NULL;
    long pemlen = 0;
    uint8_t *raw = NULL;
    size_t rawlen;
    X509_CRL *crl = NULL;
    vouch_err e = VOUCH_OK, de;

    if (len > INT32_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "CRL too large");
    /* Text encodings (PEM, hex) may carry surrounding whitespace; DER must not
     * be trimmed: its last byte can be 0x0a or 0x0d. */
    if (len && data[0] != 0x30) {
        while (len && isspace(data[len - 1]))
            len--;
        while (len && isspace(data[0])) {
            data++;
            len--;
        }
    }
    if (len >= 10 && memcmp(data, "-----BEGIN", 10) == 0) {
        BIO *bio = BIO_new_mem_buf(data, (int)len);

        if (!bio || PEM_bytes_read_bio(&pemder, &pemlen, NULL, PEM_STRING_X509_CRL, bio, NULL,
                                       NULL) != 1) {
            BIO_free(bio);
            e = vouch_fail(eb, VOUCH_E_INVALID, "malformed PEM CRL");
            goto out;
        }
        BIO_free(bio);
        data = pemder;
        len = (size_t)pemlen;
    } else if (all_hex(data, len)) {
        e = vouch_hex_decode((const char *)data, len, len / 2, &raw, &rawlen, eb);
        if (e)
            goto out;
        data = raw;
        len = rawlen;
    }
    de = decode_crl_cached(data, len, &crl);
    if (de == VOUCH_E_TRUNCATED)
        e = vouch_fail(eb, VOUCH_E_INVALID, "trailing bytes after DER CRL");
    else if (de)
        e = vouch_fail(eb, VOUCH_E_INVALID, "CRL is neither DER, PEM nor hex of DER");
out:
    ERR_clear_error();
    OPENSSL_free(pemder);
    free(raw);
    if (!e)
        *ret = crl;
    return e;
}

struct verify_ctx {
    unsigned flags;
};

static int verify_cb(int ok, X509_STORE_CTX *ctx)
{
    int err = X509_STORE_CTX_get_error(ctx);
    struct verify_ctx *vc = X509_STORE_CTX_get_app_data(ctx);

    if (!ok && vc && (vc->flags & VOUCH_CHAIN_CRL_STALE_OK) &&
        err == X509_V_ERR_CRL_HAS_EXPIRED)
        return 1;
    return ok;
}

static vouch_err verify_chain(X509 *leaf, STACK_OF(X509) *untrusted, STACK_OF(X509) *roots,
                              STACK_OF(X509_CRL) *crls, int64_t now, unsigned flags,
                              STACK_OF(X509) **ret_chain, struct vouch_errbuf *eb)
{
    struct verify_ctx vc = { flags };
    X509_STORE *store = NULL;
    X509_STORE_CTX *ctx = NULL;
    X509_VERIFY_PARAM *param;
    vouch_err e = VOUCH_OK;
    char subj[256];
    int i, err, depth;
    unsigned long vflags = 0;

    store = X509_STORE_new();
    ctx = X509_STORE_CTX_new();
    if (!store || !ctx) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    for (i = 0; roots && i < sk_X509_num(roots); i++)
        if (X509_STORE_add_cert(store, sk_X509_value(roots, i)) != 1) {
            e = vouch_fail(eb, VOUCH_E_INTERNAL, "cannot add trust anchor");
            goto out;
        }
    X509_STORE_set_verify_cb(store, verify_cb);
    if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
        e = vouch_fail(eb, VOUCH_E_INTERNAL, "cannot initialise chain verification");
        goto out;
    }
    X509_STORE_CTX_set_app_data(ctx, &vc);
    if (crls)
        X509_STORE_CTX_set0_crls(ctx, crls);
    param = X509_STORE_CTX_get0_param(ctx);
    if (flags & VOUCH_CHAIN_CRL_ALL)
        vflags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
    else if (flags & VOUCH_CHAIN_CRL_LEAF)
        vflags |= X509_V_FLAG_CRL_CHECK;
    if (flags & VOUCH_CHAIN_NO_TIME)
        vflags |= X509_V_FLAG_NO_CHECK_TIME;
    else
        X509_VERIFY_PARAM_set_time(param, (time_t)now);
    X509_VERIFY_PARAM_set_flags(param, vflags);
    if (X509_verify_cert(ctx) == 1) {
        if (ret_chain) {
            STACK_OF(X509) *chain = X509_STORE_CTX_get1_chain(ctx);

            if (!chain)
                e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
            else
                *ret_chain = chain;
        }
        goto out;
    }
    err = X509_STORE_CTX_get_error(ctx);
    depth = X509_STORE_CTX_get_error_depth(ctx);
    vouch_x509_subject(X509_STORE_CTX_get_current_cert(ctx), subj, sizeof(subj));
    switch (err) {
    case X509_V_ERR_CERT_REVOKED:
        e = VOUCH_E_REVOKED;
        break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CRL_HAS_EXPIRED:
        e = VOUCH_E_EXPIRED;
        break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_CRL_NOT_YET_VALID:
        e = VOUCH_E_NOT_YET_VALID;
        break;
    default:
        e = VOUCH_E_VERIFY;
    }
    vouch_fail(eb, e, "certificate '%s' (depth %d): %s", subj, depth,
               X509_verify_cert_error_string(err));
out:
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return e;
}

vouch_err vouch_x509_verify_chain(X509 *leaf, STACK_OF(X509) *untrusted,
                                  STACK_OF(X509) *roots, STACK_OF(X509_CRL) *crls,
                                  int64_t now, unsigned flags, struct vouch_errbuf *eb)
{
    return verify_chain(leaf, untrusted, roots, crls, now, flags, NULL, eb);
}

vouch_err vouch_x509_verify_chain_get(X509 *leaf, STACK_OF(X509) *untrusted,
                                      STACK_OF(X509) *roots, STACK_OF(X509_CRL) *crls,
                                      int64_t now, unsigned flags, STACK_OF(X509) **ret_chain,
                                      struct vouch_errbuf *eb)
{
    return verify_chain(leaf, untrusted, roots, crls, now, flags, ret_chain, eb);
}

vouch_err vouch_asn1_time_to_unix(const ASN1_TIME *t, int64_t *ret)
{
    struct tm tm;

    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return VOUCH_E_INVALID;
    *ret = vouch_days_from_civil(tm.tm_year + 1900, (unsigned)tm.tm_mon + 1,
                                 (unsigned)tm.tm_mday) * 86400 +
           tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
    return VOUCH_OK;
}

vouch_err vouch_x509_validity(const X509 *cert, int64_t *ret_not_before,
                              int64_t *ret_not_after)
{
    int64_t nb, na;

    if (vouch_asn1_time_to_unix(X509_get0_notBefore(cert), &nb) ||
        vouch_asn1_time_to_unix(X509_get0_notAfter(cert), &na))
        return VOUCH_E_INVALID;
    *ret_not_before = nb;
    *ret_not_after = na;
    return VOUCH_OK;
}

/* n without a multi-byte UTF-8 character cut short at buf[n]. */
static size_t utf8_whole(const char *buf, size_t n)
{
    size_t i = n, want;
    uint8_t lead;

    while (i > 0 && n - i < 4 && ((uint8_t)buf[i - 1] & 0xc0) == 0x80)
        i--;
    if (i == 0)
        return n;
    lead = (uint8_t)buf[i - 1];
    want = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    return n - (i - 1) < want ? i - 1 : n;
}

void vouch_x509_subject(const X509 *cert, char *buf, size_t size)
{
    BIO *bio;
    int n;

    snprintf(buf, size, "?");
    if (!cert || !(bio = BIO_new(BIO_s_mem())))
        return;
    if (X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0,
                           XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        n = BIO_read(bio, buf, (int)size - 1);
        if (n > 0)   /* the name is UTF-8; one longer than buf is cut between characters */
            buf[utf8_whole(buf, (size_t)n)] = '\0';
    }
    BIO_free(bio);
}

vouch_err vouch_x509_fingerprint(const X509 *cert, uint8_t out[32])
{
    unsigned char *der = NULL;
    int len = i2d_X509(cert, &der);
    vouch_err e;

    if (len <= 0)
        return VOUCH_E_INVALID;
    e = vouch_hash(VOUCH_HASH_SHA256, der, (size_t)len, out);
    OPENSSL_free(der);
    return e;
}
