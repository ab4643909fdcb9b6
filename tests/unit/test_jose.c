/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "common/codec.h"
#include "crypto/jose.h"

/* RFC 7638 section 3.1: the example RSA key and its thumbprint. */
static const char rfc7638_n[] =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
    "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
    "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"
    "bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
static const char rfc7638_thumbprint[] = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

static EVP_PKEY *rsa_from_ne(const char *n64, const char *e64)
{
    uint8_t *n, *e;
    size_t nlen, elen;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params;
    BIGNUM *bn_n, *bn_e;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *pk = NULL;

    assert_int_equal(vouch_b64_decode(n64, strlen(n64), VOUCH_B64URL, 1024, &n, &nlen, NULL), 0);
    assert_int_equal(vouch_b64_decode(e64, strlen(e64), VOUCH_B64URL, 16, &e, &elen, NULL), 0);
    bn_n = BN_bin2bn(n, (int)nlen, NULL);
    bn_e = BN_bin2bn(e, (int)elen, NULL);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e);
    params = OSSL_PARAM_BLD_to_param(bld);
    assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
    assert_int_equal(EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params), 1);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    EVP_PKEY_CTX_free(ctx);
    free(n);
    free(e);
    return pk;
}

static void test_thumbprint_rfc7638(void **state)
{
    EVP_PKEY *pk = rsa_from_ne(rfc7638_n, "AQAB");
    char tp[VOUCH_JWK_THUMBPRINT_LEN];
    json_t *jwk;

    (void)state;
    assert_int_equal(vouch_jwk_thumbprint(pk, tp, NULL), VOUCH_OK);
    assert_string_equal(tp, rfc7638_thumbprint);
    assert_int_equal(vouch_jwk_public(pk, tp, VOUCH_JWS_RS256, &jwk, NULL), VOUCH_OK);
    assert_string_equal(json_string_value(json_object_get(jwk, "n")), rfc7638_n);
    assert_string_equal(json_string_value(json_object_get(jwk, "e")), "AQAB");
    assert_string_equal(json_string_value(json_object_get(jwk, "kid")), tp);
    assert_string_equal(json_string_value(json_object_get(jwk, "alg")), "RS256");
    json_decref(jwk);
    EVP_PKEY_free(pk);
}

/* Flip one character of a base64url string to another valid one. */
static void flip(char *s, size_t i)
{
    s[i] = s[i] == 'A' ? 'B' : 'A';
}

static void roundtrip(enum vouch_jws_alg alg, enum vouch_jws_alg other)
{
    EVP_PKEY *key = NULL, *key2 = NULL, *pem_key = NULL;
    json_t *payload = json_pack("{s:s,s:i,s:s}", "iss", "https://vouch.test", "exp",
                                (json_int_t)4000000000, "x", "\u00e9\"<>");
    json_t *h = NULL, *p = NULL;
    char *tok = NULL, *pem = NULL, *copy;
    char kid[VOUCH_JWK_THUMBPRINT_LEN];
    struct vouch_errbuf eb;
    size_t len, d1, d2;

    assert_int_equal(vouch_jose_keygen(alg, &key, NULL), VOUCH_OK);
    assert_int_equal(vouch_jose_keygen(alg, &key2, NULL), VOUCH_OK);
    assert_int_equal(vouch_jwk_thumbprint(key, kid, NULL), VOUCH_OK);
    assert_int_equal(strlen(kid), 43);
    assert_int_equal(vouch_jws_sign(alg, key, kid, payload, 65536, &tok, &len, &eb), VOUCH_OK);
    assert_int_equal(strlen(tok), len);
    assert_int_equal(vouch_jws_verify(tok, len, alg, key, &h, &p, &eb), VOUCH_OK);
    assert_string_equal(json_string_value(json_object_get(h, "kid")), kid);
    assert_string_equal(json_string_value(json_object_get(h, "alg")), vouch_jws_alg_name(alg));
    assert_true(json_equal(p, payload));
    json_decref(h);
    json_decref(p);

    /* The PEM round trip gives the same key. */
    assert_int_equal(vouch_jose_private_pem(key, &pem, NULL), VOUCH_OK);
    assert_int_equal(vouch_jose_private_from_pem(pem, &pem_key, NULL), VOUCH_OK);
    assert_int_equal(vouch_jws_verify(tok, len, alg, pem_key, NULL, NULL, &eb), VOUCH_OK);

    /* Wrong key, wrong pinned algorithm. */
    assert_int_equal(vouch_jws_verify(tok, len, alg, key2, NULL, NULL, &eb), VOUCH_E_VERIFY);
    assert_int_not_equal(vouch_jws_verify(tok, len, other, key, NULL, NULL, &eb), VOUCH_OK);

    /* A flipped byte in each part fails. */
    d1 = (size_t)(strchr(tok, '.') - tok);
    d2 = (size_t)(strrchr(tok, '.') - tok);
    {
        size_t where[] = { 2, d1 + 3, d2 + 5 };
        size_t i;

        for (i = 0; i < 3; i++) {
            copy = strdup(tok);
            flip(copy, where[i]);
            assert_int_not_equal(vouch_jws_verify(copy, len, alg, key, NULL, NULL, &eb),
                                 VOUCH_OK);
            free(copy);
        }
    }
    /* Truncations and garbage never verify. */
    assert_int_not_equal(vouch_jws_verify(tok, d2, alg, key, NULL, NULL, &eb), VOUCH_OK);
    assert_int_not_equal(vouch_jws_verify(tok, len - 1, alg, key, NULL, NULL, &eb), VOUCH_OK);
    assert_int_not_equal(vouch_jws_verify("a.b.c", 5, alg, key, NULL, NULL, &eb), VOUCH_OK);
    assert_int_not_equal(vouch_jws_verify("..", 2, alg, key, NULL, NULL, &eb), VOUCH_OK);

    free(tok);
    free(pem);
    json_decref(payload);
    EVP_PKEY_free(key);
    EVP_PKEY_free(key2);
    EVP_PKEY_free(pem_key);
}

static void test_rs256_roundtrip(void **state)
{
    (void)state;
    roundtrip(VOUCH_JWS_RS256, VOUCH_JWS_ES256);
}

static void test_es256_roundtrip(void **state)
{
    (void)state;
    roundtrip(VOUCH_JWS_ES256, VOUCH_JWS_RS256);
}

/* A token whose header says "none" (or anything but the pinned alg) is refused. */
static void test_alg_none_and_confusion(void **state)
{
    static const char *headers[] = {
        "{\"alg\":\"none\",\"typ\":\"JWT\"}",
        "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
        "{\"typ\":\"JWT\"}",
        "{\"alg\":\"RS256\",\"crit\":[\"x\"],\"x\":1}",
    };
    EVP_PKEY *key = NULL;
    size_t i;

    (void)state;
    assert_int_equal(vouch_jose_keygen(VOUCH_JWS_RS256, &key, NULL), VOUCH_OK);
    assert_int_equal(vouch_jws_alg_from_name("none"), -1);
    assert_int_equal(vouch_jws_alg_from_name("HS256"), -1);
    for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        char *h = vouch_b64_alloc(headers[i], strlen(headers[i]), VOUCH_B64URL);
        char tok[512];
        struct vouch_errbuf eb;

        snprintf(tok, sizeof(tok), "%s.eyJleHAiOjF9.", h);
        assert_int_not_equal(vouch_jws_verify(tok, strlen(tok), VOUCH_JWS_RS256, key, NULL,
                                              NULL, &eb), VOUCH_OK);
        free(h);
    }
    EVP_PKEY_free(key);
}

static void test_times(void **state)
{
    static const struct {
        const char *payload;
        int64_t now;
        vouch_err want;
    } cases[] = {
        { "{\"exp\":100}", 100, VOUCH_OK },
        { "{\"exp\":100}", 101, VOUCH_E_EXPIRED },
        { "{\"exp\":100}", 160, VOUCH_E_EXPIRED },
        { "{\"exp\":100,\"nbf\":50}", 49, VOUCH_E_NOT_YET_VALID },
        { "{\"exp\":100,\"nbf\":50}", 50, VOUCH_OK },
        { "{\"nbf\":50}", 60, VOUCH_E_INVALID },
        { "{\"exp\":\"100\"}", 60, VOUCH_E_INVALID },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *p = json_loads(cases[i].payload, 0, NULL);

        assert_int_equal(vouch_jwt_check_times(p, cases[i].now, 0, NULL), cases[i].want);
        json_decref(p);
    }
}

/* The same checks with a leeway, at the int64 edges: nothing wraps. */
static void test_times_edges(void **state)
{
    static const struct {
        const char *payload;
        int64_t now, leeway;
        vouch_err want;
    } cases[] = {
        /* exp + leeway would overflow: never expires, not "expired long ago" */
        { "{\"exp\":9223372036854775807}", 1700000000, 60, VOUCH_OK },
        { "{\"exp\":9223372036854775807}", INT64_MAX, INT64_MAX, VOUCH_OK },
        { "{\"exp\":9223372036854775747}", INT64_MAX, 60, VOUCH_OK },
        { "{\"exp\":9223372036854775746}", INT64_MAX, 60, VOUCH_E_EXPIRED },
        { "{\"exp\":-9223372036854775808}", 0, 60, VOUCH_E_EXPIRED },
        { "{\"exp\":-9223372036854775808}", INT64_MIN, 0, VOUCH_OK },
        { "{\"exp\":100}", 160, 60, VOUCH_OK },
        { "{\"exp\":100}", 161, 60, VOUCH_E_EXPIRED },
        /* nbf: now + leeway would overflow */
        { "{\"exp\":9223372036854775807,\"nbf\":9223372036854775807}", INT64_MAX - 1, 60,
          VOUCH_OK },
        { "{\"exp\":9223372036854775807,\"nbf\":9223372036854775807}", 0, 60,
          VOUCH_E_NOT_YET_VALID },
        { "{\"exp\":200,\"nbf\":-9223372036854775808}", 100, 60, VOUCH_OK },
        /* iat in the future: within the leeway is fine, beyond it is not */
        { "{\"exp\":200,\"iat\":160}", 100, 60, VOUCH_OK },
        { "{\"exp\":200,\"iat\":161}", 100, 60, VOUCH_E_NOT_YET_VALID },
        { "{\"exp\":200,\"iat\":101}", 100, 0, VOUCH_E_NOT_YET_VALID },
        { "{\"exp\":200,\"iat\":100}", 100, 0, VOUCH_OK },
        { "{\"exp\":200,\"iat\":9223372036854775807}", 100, 60, VOUCH_E_NOT_YET_VALID },
        { "{\"exp\":9223372036854775807,\"iat\":9223372036854775807}", INT64_MAX, 60,
          VOUCH_OK },
        { "{\"exp\":200,\"iat\":-9223372036854775808}", 100, 60, VOUCH_OK },
        { "{\"exp\":200,\"iat\":\"100\"}", 100, 60, VOUCH_E_INVALID },
        { "{\"exp\":200,\"iat\":1.5}", 100, 60, VOUCH_E_INVALID },
        /* a negative leeway is a caller bug */
        { "{\"exp\":200}", 100, -1, VOUCH_E_INVALID },
        { "{\"exp\":200}", 100, INT64_MIN, VOUCH_E_INVALID },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *p = json_loads(cases[i].payload, 0, NULL);

        assert_non_null(p);
        assert_int_equal(vouch_jwt_check_times(p, cases[i].now, cases[i].leeway, NULL),
                         cases[i].want);
        json_decref(p);
    }
}

static void test_key_check(void **state)
{
    EVP_PKEY *ec = NULL, *ec384 = NULL;

    (void)state;
    assert_int_equal(vouch_jose_keygen(VOUCH_JWS_ES256, &ec, NULL), VOUCH_OK);
    assert_int_equal(vouch_jose_keygen(VOUCH_JWS_ES384, &ec384, NULL), VOUCH_OK);
    assert_int_equal(vouch_jose_key_check(VOUCH_JWS_ES256, ec, NULL), VOUCH_OK);
    assert_int_equal(vouch_jose_key_check(VOUCH_JWS_RS256, ec, NULL), VOUCH_E_INVALID);
    assert_int_equal(vouch_jose_key_check(VOUCH_JWS_ES256, ec384, NULL), VOUCH_E_INVALID);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(ec384);
}

/* A JWK we export imports back to a key that verifies our tokens. */
static void test_jwk_import(void **state)
{
    enum vouch_jws_alg algs[] = { VOUCH_JWS_RS256, VOUCH_JWS_ES256, VOUCH_JWS_ES384 };
    static const char *bad[] = {
        "{\"kty\":\"oct\",\"k\":\"AAAA\"}",
        "{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"AA\",\"y\":\"AA\"}",
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}",
        "{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}",
        "{\"kty\":\"RSA\",\"e\":\"AQAB\"}",
        "{}",
    };
    size_t i;

    (void)state;
    for (i = 0; i < 3; i++) {
        EVP_PKEY *key = NULL, *back = NULL;
        enum vouch_jws_alg got;
        json_t *jwk, *claims = json_pack("{s:i}", "exp", 5);
        char *tok;
        size_t len;

        assert_int_equal(vouch_jose_keygen(algs[i], &key, NULL), VOUCH_OK);
        assert_int_equal(vouch_jwk_public(key, "k", (int)algs[i], &jwk, NULL), VOUCH_OK);
        assert_int_equal(vouch_jwk_import(jwk, &back, &got, NULL), VOUCH_OK);
        assert_int_equal(got, algs[i]);
        assert_int_equal(vouch_jws_sign(algs[i], key, "k", claims, 4096, &tok, &len, NULL), 0);
        assert_int_equal(vouch_jws_verify(tok, len, got, back, NULL, NULL, NULL), VOUCH_OK);
        /* an alg that does not fit the key is refused */
        json_object_set_new(jwk, "alg", json_string(algs[i] == VOUCH_JWS_RS256 ? "ES256"
                                                                              : "RS256"));
        EVP_PKEY_free(back);
        back = NULL;
        assert_int_equal(vouch_jwk_import(jwk, &back, &got, NULL), VOUCH_E_INVALID);
        assert_null(back);
        free(tok);
        json_decref(jwk);
        json_decref(claims);
        EVP_PKEY_free(key);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *jwk = json_loads(bad[i], 0, NULL);
        EVP_PKEY *k = NULL;
        enum vouch_jws_alg a;

        assert_int_not_equal(vouch_jwk_import(jwk, &k, &a, NULL), VOUCH_OK);
        assert_null(k);
        json_decref(jwk);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thumbprint_rfc7638),
        cmocka_unit_test(test_rs256_roundtrip),
        cmocka_unit_test(test_es256_roundtrip),
        cmocka_unit_test(test_alg_none_and_confusion),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_times_edges),
        cmocka_unit_test(test_key_check),
        cmocka_unit_test(test_jwk_import),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
