/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "common/buf.h"
#include "common/codec.h"
#include "common/json.h"
#include "crypto/digest.h"
#include "crypto/jose.h"
#include "crypto/sig.h"

static const struct {
    const char *name;
    enum vouch_hash hash;
    int is_ec;
    size_t ec_half;      /* r and s width for ECDSA */
    const char *curve;
} algs[VOUCH_JWS__COUNT] = {
    [VOUCH_JWS_RS256] = { "RS256", VOUCH_HASH_SHA256, 0, 0, NULL },
    [VOUCH_JWS_ES256] = { "ES256", VOUCH_HASH_SHA256, 1, 32, "P-256" },
    [VOUCH_JWS_RS384] = { "RS384", VOUCH_HASH_SHA384, 0, 0, NULL },
    [VOUCH_JWS_ES384] = { "ES384", VOUCH_HASH_SHA384, 1, 48, "P-384" },
};

const char *vouch_jws_alg_name(enum vouch_jws_alg alg)
{
    return (unsigned)alg < VOUCH_JWS__COUNT ? algs[alg].name : "unknown";
}

int vouch_jws_alg_from_name(const char *name)
{
    int i;

    for (i = 0; i < VOUCH_JWS__COUNT; i++)
        if (strcmp(name, algs[i].name) == 0)
            return i;
    return -1;
}

vouch_err vouch_jose_keygen(enum vouch_jws_alg alg, EVP_PKEY **ret, struct vouch_errbuf *eb)
{
    EVP_PKEY *pk;

    if ((unsigned)alg >= VOUCH_JWS__COUNT)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "unknown JWS algorithm");
    if (algs[alg].is_ec)
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", algs[alg].curve);
    else
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    ERR_clear_error();
    if (!pk)
        return vouch_fail(eb, VOUCH_E_INTERNAL, "key generation for %s failed",
                          algs[alg].name);
    *ret = pk;
    return VOUCH_OK;
}

static int ec_curve_is(EVP_PKEY *key, const char *curve)
{
    char name[32];
    size_t len = 0;

    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name),
                                       &len) != 1)
        return 0;
    /* OpenSSL reports "prime256v1" / "secp384r1" for the NIST curves. */
    if (strcmp(curve, "P-256") == 0)
        return strcmp(name, "prime256v1") == 0 || strcmp(name, "P-256") == 0;
    if (strcmp(curve, "P-384") == 0)
        return strcmp(name, "secp384r1") == 0 || strcmp(name, "P-384") == 0;
    return 0;
}

vouch_err vouch_jose_key_check(enum vouch_jws_alg alg, EVP_PKEY *key, struct vouch_errbuf *eb)
{
    if ((unsigned)alg >= VOUCH_JWS__COUNT || !key)
        return vouch_fail(eb, VOUCH_E_INVALID, "no key or algorithm");
    if (algs[alg].is_ec) {
        if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC || !ec_curve_is(key, algs[alg].curve))
            return vouch_fail(eb, VOUCH_E_INVALID, "%s needs an EC %s key", algs[alg].name,
                              algs[alg].curve);
    } else if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA || EVP_PKEY_get_bits(key) < 2048) {
        return vouch_fail(eb, VOUCH_E_INVALID, "%s needs an RSA key of 2048 bits or more",
                          algs[alg].name);
    }
    return VOUCH_OK;
}

vouch_err vouch_jose_private_pem(EVP_PKEY *key, char **ret, struct vouch_errbuf *eb)
{
    BIO *bio = BIO_new(BIO_s_mem());
    vouch_err e = VOUCH_OK;
    char *data, *out;
    long n;

    if (!bio)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1) {
        e = vouch_fail(eb, VOUCH_E_INTERNAL, "cannot encode private key");
        goto out;
    }
    n = BIO_get_mem_data(bio, &data);
    out = malloc((size_t)n + 1);
    if (!out) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    memcpy(out, data, (size_t)n);
    out[n] = '\0';
    *ret = out;
out:
    ERR_clear_error();
    BIO_free(bio);
    return e;
}

vouch_err vouch_jose_private_from_pem(const char *pem, EVP_PKEY **ret,
                                      struct vouch_errbuf *eb)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *pk;

    if (!bio)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    ERR_clear_error();
    if (!pk)
        return vouch_fail(eb, VOUCH_E_INVALID, "malformed private key PEM");
    *ret = pk;
    return VOUCH_OK;
}

/* base64url of a big-endian unsigned integer parameter, minimal length. */
static char *bn_param_b64(EVP_PKEY *key, const char *param)
{
    BIGNUM *bn = NULL;
    unsigned char buf[1024];
    char *out = NULL;
    int n;

    if (EVP_PKEY_get_bn_param(key, param, &bn) != 1)
        return NULL;
    n = BN_num_bytes(bn);
    if (n > 0 && n <= (int)sizeof(buf) && BN_bn2bin(bn, buf) == n)
        out = vouch_b64_alloc(buf, (size_t)n, VOUCH_B64URL);
    BN_free(bn);
    return out;
}

/* x and y of an EC public key as fixed-width base64url. */
static vouch_err ec_xy_b64(EVP_PKEY *key, char **ret_x, char **ret_y, const char **ret_crv)
{
    unsigned char pub[1 + 2 * 66];
    size_t len = 0, half;
    const char *crv;

    if (ec_curve_is(key, "P-256"))
        crv = "P-256";
    else if (ec_curve_is(key, "P-384"))
        crv = "P-384";
    else
        return VOUCH_E_UNSUPPORTED;
    if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub,
                                        sizeof(pub), &len) != 1 ||
        len < 3 || pub[0] != 0x04 || (len - 1) % 2)
        return VOUCH_E_INVALID;
    half = (len - 1) / 2;
    *ret_x = vouch_b64_alloc(pub + 1, half, VOUCH_B64URL);
    *ret_y = vouch_b64_alloc(pub + 1 + half, half, VOUCH_B64URL);
    *ret_crv = crv;
    if (!*ret_x || !*ret_y) {
        free(*ret_x);
        free(*ret_y);
        return VOUCH_E_NOMEM;
    }
    return VOUCH_OK;
}

/*
 * The required members of the public JWK, in lexicographic order (which is
 * what RFC 7638 hashes).
 */
static vouch_err jwk_required(EVP_PKEY *key, json_t **ret, struct vouch_errbuf *eb)
{
    char *a = NULL, *b = NULL;
    const char *crv;
    json_t *o = NULL;
    vouch_err e;

    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
        a = bn_param_b64(key, OSSL_PKEY_PARAM_RSA_E);
        b = bn_param_b64(key, OSSL_PKEY_PARAM_RSA_N);
        if (!a || !b) {
            e = vouch_fail(eb, VOUCH_E_INVALID, "cannot read RSA public key");
            goto out;
        }
        o = json_pack("{s:s,s:s,s:s}", "e", a, "kty", "RSA", "n", b);
        break;
    case EVP_PKEY_EC:
        e = ec_xy_b64(key, &a, &b, &crv);
        if (e) {
            vouch_fail(eb, e, "cannot read EC public key (only P-256 and P-384)");
            goto out;
        }
        o = json_pack("{s:s,s:s,s:s,s:s}", "crv", crv, "kty", "EC", "x", a, "y", b);
        break;
    default:
        e = vouch_fail(eb, VOUCH_E_UNSUPPORTED, "only RSA and EC keys have JWKs here");
        goto out;
    }
    if (!o) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    *ret = o;
    e = VOUCH_OK;
out:
    ERR_clear_error();
    free(a);
    free(b);
    return e;
}

vouch_err vouch_jwk_thumbprint(EVP_PKEY *key, char out[VOUCH_JWK_THUMBPRINT_LEN],
                               struct vouch_errbuf *eb)
{
    uint8_t digest[32];
    json_t *o = NULL;
    char *text = NULL;
    vouch_err e;

    e = jwk_required(key, &o, eb);
    if (e)
        return e;
    /* Compact, keys already in lexicographic order, no escaping needed. */
    text = json_dumps(o, JSON_COMPACT);
    if (!text) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    e = vouch_hash(VOUCH_HASH_SHA256, text, strlen(text), digest);
    if (e) {
        vouch_fail(eb, e, "sha256 unavailable");
        goto out;
    }
    vouch_b64_encode(digest, sizeof(digest), VOUCH_B64URL, out);
out:
    free(text);
    json_decref(o);
    return e;
}

vouch_err vouch_jwk_public(EVP_PKEY *key, const char *kid, int alg, json_t **ret,
                           struct vouch_errbuf *eb)
{
    json_t *o = NULL;
    vouch_err e;

    e = jwk_required(key, &o, eb);
    if (e)
        return e;
    if ((kid && vouch_json_set_str(o, "kid", kid)) ||
        (alg >= 0 && alg < VOUCH_JWS__COUNT && vouch_json_set_str(o, "alg", algs[alg].name)) ||
        vouch_json_set_str(o, "use", "sig")) {
        json_decref(o);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    *ret = o;
    return VOUCH_OK;
}

static BIGNUM *b64_bn(const json_t *jwk, const char *key, size_t max)
{
    const char *s = json_string_value(json_object_get(jwk, key));
    uint8_t *raw = NULL;
    size_t len;
    BIGNUM *bn;

    if (!s || vouch_b64_decode(s, strlen(s), VOUCH_B64URL, max, &raw, &len, NULL) || !len) {
        free(raw);
        return NULL;
    }
    bn = BN_bin2bn(raw, (int)len, NULL);
    free(raw);
    return bn;
}

vouch_err vouch_jwk_import(const json_t *jwk, EVP_PKEY **ret, enum vouch_jws_alg *ret_alg,
                           struct vouch_errbuf *eb)
{
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    const char *alg_name = json_string_value(json_object_get(jwk, "alg"));
    EVP_PKEY *pk = NULL;
    vouch_err e = VOUCH_OK;
    int alg = -1;

    if (!kty)
        return vouch_fail(eb, VOUCH_E_INVALID, "JWK has no kty");
    if (strcmp(kty, "RSA") == 0) {
        OSSL_PARAM params[3];
        BIGNUM *n = b64_bn(jwk, "n", 1024), *ex = b64_bn(jwk, "e", 8);
        unsigned char nb[1024], ebuf[8];
        int nl, el;
        EVP_PKEY_CTX *ctx = NULL;

        if (!n || !ex) {
            e = vouch_fail(eb, VOUCH_E_INVALID, "RSA JWK needs base64url n and e");
        } else {
            /* OSSL_PARAM wants native-endian unsigned integers. */
            nl = BN_bn2nativepad(n, nb, BN_num_bytes(n));
            el = BN_bn2nativepad(ex, ebuf, BN_num_bytes(ex));
            params[0] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_RSA_N, nb, (size_t)nl);
            params[1] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_RSA_E, ebuf, (size_t)el);
            params[2] = OSSL_PARAM_construct_end();
            ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
            if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
                EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
                e = vouch_fail(eb, VOUCH_E_INVALID, "RSA JWK is not a valid key");
        }
        EVP_PKEY_CTX_free(ctx);
        BN_free(n);
        BN_free(ex);
        alg = VOUCH_JWS_RS256;
    } else if (strcmp(kty, "EC") == 0) {
        const char *crv = json_string_value(json_object_get(jwk, "crv"));
        size_t half = crv && strcmp(crv, "P-256") == 0 ? 32 : crv && strcmp(crv, "P-384") == 0
                      ? 48 : 0;
        const char *x = json_string_value(json_object_get(jwk, "x"));
        const char *y = json_string_value(json_object_get(jwk, "y"));
        uint8_t *xr = NULL, *yr = NULL, xy[96];
        size_t xl = 0, yl = 0;

        if (!half || !x || !y ||
            vouch_b64_decode(x, strlen(x), VOUCH_B64URL, 66, &xr, &xl, NULL) ||
            vouch_b64_decode(y, strlen(y), VOUCH_B64URL, 66, &yr, &yl, NULL) || xl != half ||
            yl != half) {
            e = vouch_fail(eb, VOUCH_E_INVALID, "EC JWK needs crv P-256 or P-384 and x, y of "
                           "the curve's size");
        } else {
            memcpy(xy, xr, half);
            memcpy(xy + half, yr, half);
            e = vouch_ec_pubkey_from_xy(xy, 2 * half, &pk, eb);
        }
        free(xr);
        free(yr);
        alg = half == 48 ? VOUCH_JWS_ES384 : VOUCH_JWS_ES256;
    } else {
        e = vouch_fail(eb, VOUCH_E_UNSUPPORTED, "JWK kty '%.16s' is not RSA or EC", kty);
    }
    if (!e && alg_name) {
        int a = vouch_jws_alg_from_name(alg_name);

        if (a < 0 || vouch_jose_key_check((enum vouch_jws_alg)a, pk, NULL))
            e = vouch_fail(eb, VOUCH_E_INVALID, "JWK alg '%.16s' does not fit its key",
                           alg_name);
        else
            alg = a;
    }
    if (!e && vouch_jose_key_check((enum vouch_jws_alg)alg, pk, eb))
        e = VOUCH_E_INVALID;
    ERR_clear_error();
    if (e) {
        EVP_PKEY_free(pk);
        return e;
    }
    *ret = pk;
    *ret_alg = (enum vouch_jws_alg)alg;
    return VOUCH_OK;
}

static vouch_err b64url_json(const json_t *v, size_t max, struct vouch_buf *b,
                             struct vouch_errbuf *eb)
{
    char *text = NULL;
    size_t len, n;
    vouch_err e;

    e = vouch_json_dump(v, max, &text, &len, eb);
    if (e)
        return e;
    /* encoded straight into b: a token's payload can be tens of KiB (event-log claims) */
    n = vouch_b64_encoded_len(len, VOUCH_B64URL);
    e = vouch_buf_reserve(b, n);
    if (e) {
        vouch_fail(eb, e, "token larger than %zu bytes", b->max);
    } else {
        vouch_b64_encode(text, len, VOUCH_B64URL, (char *)b->data + b->len);
        b->len += n;
    }
    free(text);
    return e;
}

/* Sign data with key per alg; JOSE ECDSA signatures are raw r || s. */
static vouch_err sign_raw(enum vouch_jws_alg alg, EVP_PKEY *key, const void *data, size_t n,
                          uint8_t *sig, size_t *siglen, struct vouch_errbuf *eb)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    uint8_t der[160];
    size_t derlen = sizeof(der), cap = *siglen;
    vouch_err e = VOUCH_OK;

    if (!ctx)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    if (EVP_DigestSignInit(ctx, &pctx, vouch_hash_md(algs[alg].hash), NULL, key) != 1) {
        e = vouch_fail(eb, VOUCH_E_INTERNAL, "cannot sign with this key");
        goto out;
    }
    if (algs[alg].is_ec) {
        if (EVP_DigestSign(ctx, der, &derlen, data, n) != 1 ||
            2 * algs[alg].ec_half > cap ||
            vouch_ecdsa_der_to_raw(der, derlen, algs[alg].ec_half, sig)) {
            e = vouch_fail(eb, VOUCH_E_INTERNAL, "ECDSA signing failed");
            goto out;
        }
        *siglen = 2 * algs[alg].ec_half;
    } else {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1 ||
            EVP_DigestSign(ctx, NULL, siglen, data, n) != 1 || *siglen > cap ||
            EVP_DigestSign(ctx, sig, siglen, data, n) != 1) {
            e = vouch_fail(eb, VOUCH_E_INTERNAL, "RSA signing failed");
            goto out;
        }
    }
out:
    ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    return e;
}

vouch_err vouch_jws_sign(enum vouch_jws_alg alg, EVP_PKEY *key, const char *kid,
                         const json_t *payload, size_t max, char **ret, size_t *ret_len,
                         struct vouch_errbuf *eb)
{
    struct vouch_buf b = VOUCH_BUF_INIT(max);
    json_t *hdr = NULL;
    uint8_t sig[1024];
    size_t siglen = sizeof(sig);
    char *sigenc = NULL;
    uint8_t *out;
    vouch_err e;

    e = vouch_jose_key_check(alg, key, eb);
    if (e)
        return e;
    if (!json_is_object(payload))
        return vouch_fail(eb, VOUCH_E_INVALID, "JWT payload must be a JSON object");
    hdr = kid ? json_pack("{s:s,s:s,s:s}", "alg", algs[alg].name, "kid", kid, "typ", "JWT")
              : json_pack("{s:s,s:s}", "alg", algs[alg].name, "typ", "JWT");
    if (!hdr) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    e = b64url_json(hdr, max, &b, eb);
    if (!e)
        e = vouch_buf_putc(&b, '.');
    if (!e)
        e = b64url_json(payload, max, &b, eb);
    if (e) {
        if (e == VOUCH_E_TOO_LARGE)
            vouch_fail(eb, e, "token larger than %zu bytes", max);
        goto out;
    }
    e = sign_raw(alg, key, b.data, b.len, sig, &siglen, eb);
    if (e)
        goto out;
    sigenc = vouch_b64_alloc(sig, siglen, VOUCH_B64URL);
    if (!sigenc) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    if (vouch_buf_putc(&b, '.') || vouch_buf_puts(&b, sigenc)) {
        e = vouch_fail(eb, VOUCH_E_TOO_LARGE, "token larger than %zu bytes", max);
        goto out;
    }
    out = vouch_buf_steal(&b, ret_len);
    if (!out) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    *ret = (char *)out;
out:
    vouch_buf_free(&b);
    free(sigenc);
    json_decref(hdr);
    return e;
}

/* Split a compact JWS into its three parts; no decoding. */
static vouch_err split(const char *tok, size_t len, size_t *ret_d1, size_t *ret_d2,
                       struct vouch_errbuf *eb)
{
    const char *d1, *d2;

    if (len > VOUCH_JWS_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "token larger than %u bytes", VOUCH_JWS_MAX);
    d1 = memchr(tok, '.', len);
    d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok)) : NULL;
    if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok)))
        return vouch_fail(eb, VOUCH_E_INVALID, "not a compact JWS (need three parts)");
    *ret_d1 = (size_t)(d1 - tok);
    *ret_d2 = (size_t)(d2 - tok);
    return VOUCH_OK;
}

static vouch_err decode_json_part(const char *s, size_t n, const char *what, json_t **ret,
                                  struct vouch_errbuf *eb)
{
    uint8_t *raw = NULL;
    size_t rawlen;
    json_t *v = NULL;
    vouch_err e;

    e = vouch_b64_decode(s, n, VOUCH_B64URL, VOUCH_JWS_MAX, &raw, &rawlen, eb);
    if (!e)
        e = vouch_json_parse(raw, rawlen, &v, eb);
    free(raw);
    if (e)
        return vouch_fail_prefix(eb, e, "JWS %s: ", what);
    if (!json_is_object(v)) {
        json_decref(v);
        return vouch_fail(eb, VOUCH_E_INVALID, "JWS %s is not a JSON object", what);
    }
    *ret = v;
    return VOUCH_OK;
}

vouch_err vouch_jws_decode_unverified(const char *token, size_t len, json_t **ret_header,
                                      json_t **ret_payload, struct vouch_errbuf *eb)
{
    json_t *h = NULL, *p = NULL;
    size_t d1 = 0, d2 = 0;
    vouch_err e;

    e = split(token, len, &d1, &d2, eb);
    if (!e)
        e = decode_json_part(token, d1, "header", &h, eb);
    if (!e)
        e = decode_json_part(token + d1 + 1, d2 - d1 - 1, "payload", &p, eb);
    if (e) {
        json_decref(h);
        json_decref(p);
        return e;
    }
    if (ret_header)
        *ret_header = h;
    else
        json_decref(h);
    if (ret_payload)
        *ret_payload = p;
    else
        json_decref(p);
    return VOUCH_OK;
}

vouch_err vouch_jws_verify(const char *token, size_t len, enum vouch_jws_alg alg,
                           EVP_PKEY *key, json_t **ret_header, json_t **ret_payload,
                           struct vouch_errbuf *eb)
{
    json_t *h = NULL, *p = NULL;
    const char *halg = NULL;
    uint8_t *sig = NULL;
    size_t siglen, d1 = 0, d2 = 0;
    vouch_err e;

    if ((unsigned)alg >= VOUCH_JWS__COUNT)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "unknown JWS algorithm");
    e = vouch_jose_key_check(alg, key, eb);
    if (e)
        return e;
    e = split(token, len, &d1, &d2, eb);
    if (e)
        return e;
    e = decode_json_part(token, d1, "header", &h, eb);
    if (e)
        goto out;
    if (vouch_json_get_str(h, "alg", true, &halg, NULL, eb) || strcmp(halg, algs[alg].name)) {
        e = vouch_fail(eb, VOUCH_E_VERIFY, "JWS alg '%s' is not the expected %s",
                       halg ? halg : "(missing)", algs[alg].name);
        goto out;
    }
    if (json_object_get(h, "crit")) {
        e = vouch_fail(eb, VOUCH_E_UNSUPPORTED, "JWS 'crit' header is not supported");
        goto out;
    }
    e = vouch_b64_decode(token + d2 + 1, len - d2 - 1, VOUCH_B64URL, 1024, &sig, &siglen, eb);
    if (e) {
        vouch_fail_prefix(eb, e, "JWS signature: ");
        goto out;
    }
    if (algs[alg].is_ec)
        e = vouch_ecdsa_verify_raw(key, algs[alg].hash, token, d2, sig, siglen, eb);
    else
        e = vouch_rsa_pkcs1_verify(key, algs[alg].hash, token, d2, sig, siglen, eb);
    if (e) {
        if (e == VOUCH_E_VERIFY)
            vouch_fail(eb, e, "JWS signature does not verify");
        goto out;
    }
    e = decode_json_part(token + d1 + 1, d2 - d1 - 1, "payload", &p, eb);
    if (e)
        goto out;
    if (ret_header) {
        *ret_header = h;
        h = NULL;
    }
    if (ret_payload) {
        *ret_payload = p;
        p = NULL;
    }
out:
    free(sig);
    json_decref(h);
    json_decref(p);
    return e;
}

/*
 * Is `t` (a JWT time claim) before `now` by more than `leeway`?  Saturating
 * arithmetic: an exp of 2^63-1 plus any leeway is "never", not a wrap.
 */
static bool jwt_time_before(int64_t t, int64_t now, int64_t leeway)
{
    int64_t limit;

    if (__builtin_add_overflow(t, leeway, &limit))
        return false;
    return now > limit;
}

vouch_err vouch_jwt_check_times(const json_t *payload, int64_t now, int64_t leeway,
                                struct vouch_errbuf *eb)
{
    json_t *exp = json_object_get(payload, "exp");
    json_t *nbf = json_object_get(payload, "nbf");
    json_t *iat = json_object_get(payload, "iat");

    if (leeway < 0)
        return vouch_fail(eb, VOUCH_E_INVALID, "negative JWT time leeway");
    if (!json_is_integer(exp))
        return vouch_fail(eb, VOUCH_E_INVALID, "JWT has no numeric 'exp'");
    if (jwt_time_before(json_integer_value(exp), now, leeway))
        return vouch_fail(eb, VOUCH_E_EXPIRED, "JWT expired at %lld",
                          (long long)json_integer_value(exp));
    if (nbf && !json_is_integer(nbf))
        return vouch_fail(eb, VOUCH_E_INVALID, "JWT 'nbf' is not a number");
    /* nbf - leeway > now, written as now + leeway < nbf without the overflow. */
    if (nbf && jwt_time_before(now, json_integer_value(nbf), leeway))
        return vouch_fail(eb, VOUCH_E_NOT_YET_VALID, "JWT not valid before %lld",
                          (long long)json_integer_value(nbf));
    if (iat && !json_is_integer(iat))
        return vouch_fail(eb, VOUCH_E_INVALID, "JWT 'iat' is not a number");
    if (iat && jwt_time_before(now, json_integer_value(iat), leeway))
        return vouch_fail(eb, VOUCH_E_NOT_YET_VALID, "JWT issued in the future, at %lld",
                          (long long)json_integer_value(iat));
    return VOUCH_OK;
}
