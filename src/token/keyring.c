/* SPDX-License-Identifier: Apache-2.0 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "token/keyring.h"
#include "token/secrets.h"

const enum vouch_jws_alg vouch_keyring_algs[2] = { VOUCH_JWS_RS256, VOUCH_JWS_ES256 };

struct vouch_keyring {
    atomic_int refs;
    size_t n;
    struct vouch_signing_key keys[];
};

static void wipe_free(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

/*
 * Generate a key for alg and fill a store record (private_pem allocated,
 * wrapped under `kek` when there is one).
 */
static vouch_err generate(const struct vouch_kek *kek, enum vouch_jws_alg alg, int64_t now,
                          struct vouch_store_key *ret, struct vouch_errbuf *eb)
{
    char kid[VOUCH_JWK_THUMBPRINT_LEN];
    EVP_PKEY *pk = NULL;
    char *pem = NULL, *stored = NULL;
    vouch_err e;

    e = vouch_jose_keygen(alg, &pk, eb);
    if (!e)
        e = vouch_jwk_thumbprint(pk, kid, eb);
    if (!e)
        e = vouch_jose_private_pem(pk, &pem, eb);
    EVP_PKEY_free(pk);
    if (!e)
        e = vouch_secret_seal(kek, VOUCH_STORE_SECRET_SIGNING_KEY, kid, pem, &stored, eb);
    wipe_free(pem);
    if (e)
        return e;
    memset(ret, 0, sizeof(*ret));
    snprintf(ret->kid, sizeof(ret->kid), "%s", kid);
    snprintf(ret->alg, sizeof(ret->alg), "%s", vouch_jws_alg_name(alg));
    ret->private_pem = stored;
    ret->created_at = now;
    return VOUCH_OK;
}

/* The private key of a stored record, unwrapping it when it is wrapped. */
static vouch_err private_key(const struct vouch_kek *kek, const struct vouch_store_key *k,
                             EVP_PKEY **ret, struct vouch_errbuf *eb)
{
    uint8_t *pem = NULL;
    size_t len = 0;
    vouch_err e;

    e = vouch_secret_open(kek, VOUCH_STORE_SECRET_SIGNING_KEY, k->kid, k->private_pem, &pem,
                          &len, eb);
    if (e)
        return e;
    e = vouch_jose_private_from_pem((const char *)pem, ret, eb);
    if (e)
        vouch_fail_prefix(eb, e, "signing key %s: ", k->kid);
    vouch_kek_secret_free(pem, len);
    return e;
}

vouch_err vouch_keyring_ensure(struct vouch_store *s, const struct vouch_kek *kek, int64_t now,
                               struct vouch_errbuf *eb)
{
    struct vouch_store_key *keys = NULL, k;
    size_t n = 0, i, a;
    vouch_err e;

    e = vouch_store_keys_list(s, &keys, &n, eb);
    if (e)
        return e;
    for (a = 0; a < sizeof(vouch_keyring_algs) / sizeof(vouch_keyring_algs[0]); a++) {
        const char *name = vouch_jws_alg_name(vouch_keyring_algs[a]);
        int have = 0;

        for (i = 0; i < n; i++)
            if (!keys[i].retired_at && strcmp(keys[i].alg, name) == 0)
                have = 1;
        if (have)
            continue;
        e = generate(kek, vouch_keyring_algs[a], now, &k, eb);
        if (e)
            goto out;
        e = vouch_store_key_activate(s, &k, 0, now, eb);
        wipe_free(k.private_pem);
        if (e == VOUCH_E_CONFLICT)   /* another process was faster: fine */
            e = VOUCH_OK;
        if (e)
            goto out;
    }
out:
    vouch_store_keys_free(keys, n);
    return e;
}

vouch_err vouch_keyring_rotate(struct vouch_store *s, const struct vouch_kek *kek,
                               enum vouch_jws_alg alg, int64_t now,
                               char ret_kid[VOUCH_JWK_THUMBPRINT_LEN], struct vouch_errbuf *eb)
{
    struct vouch_store_key k;
    vouch_err e;

    e = generate(kek, alg, now, &k, eb);
    if (e)
        return e;
    e = vouch_store_key_activate(s, &k, 1, now, eb);
    if (!e && ret_kid)
        memcpy(ret_kid, k.kid, VOUCH_JWK_THUMBPRINT_LEN);
    wipe_free(k.private_pem);
    return e;
}

void vouch_keyring_unref(struct vouch_keyring *kr)
{
    size_t i;

    if (!kr || atomic_fetch_sub(&kr->refs, 1) != 1)
        return;
    for (i = 0; i < kr->n; i++)
        EVP_PKEY_free(kr->keys[i].pkey);
    free(kr);
}

struct vouch_keyring *vouch_keyring_ref(struct vouch_keyring *kr)
{
    atomic_fetch_add(&kr->refs, 1);
    return kr;
}

vouch_err vouch_keyring_load(struct vouch_store *s, const struct vouch_kek *kek, int64_t now,
                             int64_t publish_for, struct vouch_keyring **ret,
                             struct vouch_errbuf *eb)
{
    struct vouch_store_key *keys = NULL;
    struct vouch_keyring *kr = NULL;
    size_t n = 0, i, pass;
    vouch_err e;

    e = vouch_store_keys_list(s, &keys, &n, eb);
    if (e)
        return e;
    kr = calloc(1, sizeof(*kr) + n * sizeof(kr->keys[0]));
    if (!kr) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    atomic_init(&kr->refs, 1);
    /* Active keys first, then the retired ones still published. */
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < n; i++) {
            struct vouch_signing_key *k = &kr->keys[kr->n];
            int alg = vouch_jws_alg_from_name(keys[i].alg);

            if ((pass == 0) != (keys[i].retired_at == 0))
                continue;
            if (keys[i].retired_at && keys[i].retired_at + publish_for <= now)
                continue;
            if (strlen(keys[i].kid) >= sizeof(k->kid)) {
                e = vouch_fail(eb, VOUCH_E_STORE, "signing key id '%s' is too long",
                               keys[i].kid);
                goto out;
            }
            if (alg < 0) {
                e = vouch_fail(eb, VOUCH_E_STORE, "signing key %s has unknown alg '%s'",
                               keys[i].kid, keys[i].alg);
                goto out;
            }
            e = private_key(kek, &keys[i], &k->pkey, eb);
            if (e)
                goto out;
            kr->n++;
            k->alg = (enum vouch_jws_alg)alg;
            memcpy(k->kid, keys[i].kid, strlen(keys[i].kid) + 1);
            k->created_at = keys[i].created_at;
            k->retired_at = keys[i].retired_at;
        }
    }
    *ret = kr;
    kr = NULL;
out:
    vouch_keyring_unref(kr);
    vouch_store_keys_free(keys, n);
    return e;
}

const struct vouch_signing_key *vouch_keyring_active(const struct vouch_keyring *kr,
                                                     enum vouch_jws_alg alg)
{
    size_t i;

    for (i = 0; i < kr->n; i++)
        if (kr->keys[i].alg == alg && !kr->keys[i].retired_at)
            return &kr->keys[i];
    return NULL;
}

const struct vouch_signing_key *vouch_keyring_find(const struct vouch_keyring *kr,
                                                   const char *kid)
{
    size_t i;

    for (i = 0; i < kr->n; i++)
        if (strcmp(kr->keys[i].kid, kid) == 0)
            return &kr->keys[i];
    return NULL;
}

size_t vouch_keyring_count(const struct vouch_keyring *kr)
{
    return kr->n;
}

vouch_err vouch_keyring_jwks(const struct vouch_keyring *kr, json_t **ret,
                             struct vouch_errbuf *eb)
{
    json_t *keys = json_array(), *jwk;
    size_t i;
    vouch_err e;

    if (!keys)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    for (i = 0; i < kr->n; i++) {
        e = vouch_jwk_public(kr->keys[i].pkey, kr->keys[i].kid, (int)kr->keys[i].alg, &jwk, eb);
        if (e) {
            json_decref(keys);
            return e;
        }
        if (json_array_append_new(keys, jwk)) {
            json_decref(keys);
            return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        }
    }
    *ret = json_pack("{s:o}", "keys", keys);
    return *ret ? VOUCH_OK : vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
}

vouch_err vouch_keyring_sign(const struct vouch_keyring *kr, enum vouch_jws_alg alg,
                             const json_t *claims, size_t max, char **ret, size_t *ret_len,
                             struct vouch_errbuf *eb)
{
    const struct vouch_signing_key *k = vouch_keyring_active(kr, alg);

    if (!k)
        return vouch_fail(eb, VOUCH_E_NOT_FOUND, "no active %s signing key",
                          vouch_jws_alg_name(alg));
    return vouch_jws_sign(alg, k->pkey, k->kid, claims, max, ret, ret_len, eb);
}

vouch_err vouch_keyring_verify(const struct vouch_keyring *kr, const char *token, size_t len,
                               json_t **ret_payload, struct vouch_errbuf *eb)
{
    const struct vouch_signing_key *k;
    json_t *hdr = NULL;
    const char *kid = NULL;
    vouch_err e;

    e = vouch_jws_decode_unverified(token, len, &hdr, NULL, eb);
    if (e)
        return e;
    if (vouch_json_get_str(hdr, "kid", true, &kid, NULL, eb)) {
        json_decref(hdr);
        return vouch_fail(eb, VOUCH_E_VERIFY, "token has no kid");
    }
    k = vouch_keyring_find(kr, kid);
    if (!k) {
        e = vouch_fail(eb, VOUCH_E_VERIFY, "token kid '%.64s' is not one of ours", kid);
        json_decref(hdr);
        return e;
    }
    json_decref(hdr);
    /* The key (not the header) decides the algorithm. */
    return vouch_jws_verify(token, len, k->alg, k->pkey, NULL, ret_payload, eb);
}
