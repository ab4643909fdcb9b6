/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/buf.h"
#include "common/codec.h"
#include "common/json.h"
#include "crypto/digest.h"
#include "token/challenge.h"
#include "token/secrets.h"

/* {"alg":"HS256","typ":"vouch-challenge+jwt"} */
static const char header_b64[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6InZvdWNoLWNoYWxsZW5nZStqd3QifQ";

static vouch_err mac(const uint8_t *secret, const char *data, size_t n, uint8_t out[32])
{
    return vouch_hmac(VOUCH_HASH_SHA256, secret, VOUCH_CHALLENGE_SECRET_LEN, data, n, out)
               ? VOUCH_E_INTERNAL : VOUCH_OK;
}

vouch_err vouch_challenge_issue(const uint8_t secret[VOUCH_CHALLENGE_SECRET_LEN], int64_t now,
                                int64_t ttl, uint8_t ret_nonce[VOUCH_CHALLENGE_NONCE_LEN],
                                char **ret_token, int64_t *ret_expires_at,
                                struct vouch_errbuf *eb)
{
    struct vouch_buf b = VOUCH_BUF_INIT(VOUCH_CHALLENGE_TOKEN_MAX);
    uint8_t nonce[VOUCH_CHALLENGE_NONCE_LEN], tag[32];
    char *nonce_b64 = NULL, *payload = NULL, *p64 = NULL, tag64[44];
    json_t *claims = NULL;
    size_t plen;
    vouch_err e;

    if (RAND_bytes(nonce, sizeof(nonce)) != 1)
        return vouch_fail(eb, VOUCH_E_INTERNAL, "no randomness for the nonce");
    nonce_b64 = vouch_b64_alloc(nonce, sizeof(nonce), VOUCH_B64_STD);
    claims = json_pack("{s:s,s:I,s:I}", "nonce", nonce_b64 ? nonce_b64 : "", "iat",
                       (json_int_t)now, "exp", (json_int_t)(now + ttl));
    e = claims && nonce_b64 ? vouch_json_dump(claims, 512, &payload, &plen, eb) : VOUCH_E_NOMEM;
    if (e)
        goto out;
    p64 = vouch_b64_alloc(payload, plen, VOUCH_B64URL);
    if (!p64) {
        e = VOUCH_E_NOMEM;
        goto out;
    }
    if ((e = vouch_buf_puts(&b, header_b64)) || (e = vouch_buf_putc(&b, '.')) ||
        (e = vouch_buf_puts(&b, p64)) || (e = mac(secret, (char *)b.data, b.len, tag)))
        goto out;
    vouch_b64_encode(tag, sizeof(tag), VOUCH_B64URL, tag64);
    if ((e = vouch_buf_putc(&b, '.')) || (e = vouch_buf_puts(&b, tag64)))
        goto out;
    *ret_token = (char *)vouch_buf_steal(&b, NULL);
    if (!*ret_token) {
        e = VOUCH_E_NOMEM;
        goto out;
    }
    memcpy(ret_nonce, nonce, sizeof(nonce));
    if (ret_expires_at)
        *ret_expires_at = now + ttl;
out:
    if (e)
        vouch_fail(eb, e, "cannot issue a challenge");
    vouch_buf_free(&b);
    free(nonce_b64);
    free(payload);
    free(p64);
    json_decref(claims);
    return e;
}

vouch_err vouch_challenge_verify(const uint8_t secret[VOUCH_CHALLENGE_SECRET_LEN],
                                 const char *token, size_t len, int64_t now,
                                 uint8_t ret_nonce[VOUCH_CHALLENGE_NONCE_LEN],
                                 struct vouch_errbuf *eb)
{
    uint8_t tag[32], *got = NULL, *payload = NULL, *nonce = NULL;
    size_t hlen = sizeof(header_b64) - 1, got_len, plen, nlen;
    const char *dot2, *nonce_b64;
    json_t *claims = NULL, *exp;
    vouch_err e = VOUCH_E_VERIFY;

    if (len > VOUCH_CHALLENGE_TOKEN_MAX || len < hlen + 2 || memcmp(token, header_b64, hlen) ||
        token[hlen] != '.')
        return vouch_fail(eb, VOUCH_E_VERIFY, "not a Vouch challenge token");
    dot2 = memchr(token + hlen + 1, '.', len - hlen - 1);
    if (!dot2)
        return vouch_fail(eb, VOUCH_E_VERIFY, "not a Vouch challenge token");
    if (mac(secret, token, (size_t)(dot2 - token), tag) ||
        vouch_b64_decode(dot2 + 1, len - (size_t)(dot2 + 1 - token), VOUCH_B64URL, 64, &got,
                         &got_len, NULL) ||
        got_len != sizeof(tag) || !vouch_memeq_ct(got, tag, sizeof(tag))) {
        vouch_fail(eb, VOUCH_E_VERIFY, "challenge token was not issued by this service");
        goto out;
    }
    /* Authentic from here on: malformed content would be our own bug. */
    if (vouch_b64_decode(token + hlen + 1, (size_t)(dot2 - token) - hlen - 1, VOUCH_B64URL, 512,
                         &payload, &plen, NULL) ||
        vouch_json_parse(payload, plen, &claims, NULL) ||
        !json_is_integer(exp = json_object_get(claims, "exp")) ||
        !(nonce_b64 = json_string_value(json_object_get(claims, "nonce"))) ||
        vouch_b64_decode(nonce_b64, strlen(nonce_b64), VOUCH_B64_STD, 64, &nonce, &nlen, NULL) ||
        nlen != VOUCH_CHALLENGE_NONCE_LEN) {
        vouch_fail(eb, VOUCH_E_VERIFY, "malformed challenge token");
        goto out;
    }
    if (now >= json_integer_value(exp)) {
        e = vouch_fail(eb, VOUCH_E_EXPIRED, "challenge token expired");
        goto out;
    }
    memcpy(ret_nonce, nonce, VOUCH_CHALLENGE_NONCE_LEN);
    e = VOUCH_OK;
out:
    free(got);
    free(payload);
    free(nonce);
    json_decref(claims);
    return e;
}

#define CHALLENGE_SECRET_KEY "challenge_secret"

/* A new secret, stored as hex (wrapped under `kek` when there is one). */
static vouch_err secret_create(struct vouch_store *s, const struct vouch_kek *kek,
                               struct vouch_errbuf *eb)
{
    uint8_t raw[VOUCH_CHALLENGE_SECRET_LEN];
    char hex[2 * VOUCH_CHALLENGE_SECRET_LEN + 1], *stored = NULL;
    vouch_err e;

    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return vouch_fail(eb, VOUCH_E_INTERNAL, "no randomness for the challenge secret");
    vouch_hex_encode(raw, sizeof(raw), hex);
    OPENSSL_cleanse(raw, sizeof(raw));
    e = vouch_secret_seal(kek, VOUCH_STORE_SECRET_META, CHALLENGE_SECRET_KEY, hex, &stored, eb);
    OPENSSL_cleanse(hex, sizeof(hex));
    if (!e)
        e = vouch_store_meta_insert(s, CHALLENGE_SECRET_KEY, stored, eb);
    if (stored)
        OPENSSL_clear_free(stored, strlen(stored));
    return e == VOUCH_E_CONFLICT ? VOUCH_OK : e;  /* another replica was first */
}

vouch_err vouch_challenge_secret_setup(struct vouch_store *s, const struct vouch_kek *kek,
                                       uint8_t ret[VOUCH_CHALLENGE_SECRET_LEN],
                                       struct vouch_errbuf *eb)
{
    uint8_t *hex = NULL;
    char *stored = NULL;
    size_t len = 0;
    vouch_err e;

    e = vouch_store_meta_get(s, CHALLENGE_SECRET_KEY, &stored, eb);
    if (e == VOUCH_E_NOT_FOUND) {
        e = secret_create(s, kek, eb);
        if (!e)
            e = vouch_store_meta_get(s, CHALLENGE_SECRET_KEY, &stored, eb);
    }
    if (!e)
        e = vouch_secret_open(kek, VOUCH_STORE_SECRET_META, CHALLENGE_SECRET_KEY, stored, &hex,
                              &len, eb);
    if (!e)
        e = vouch_hex_decode_exact((const char *)hex, len, ret, VOUCH_CHALLENGE_SECRET_LEN, eb);
    vouch_kek_secret_free(hex, len);
    if (stored)
        OPENSSL_clear_free(stored, strlen(stored));
    return e;
}
