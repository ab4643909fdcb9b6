/* SPDX-License-Identifier: Apache-2.0 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#include "crypto/digest.h"

static const struct {
    const char *name;
    const char *ossl;
    size_t size;
} algs[VOUCH_HASH__COUNT] = {
    [VOUCH_HASH_SHA1] = { "sha1", "SHA1", 20 },
    [VOUCH_HASH_SHA256] = { "sha256", "SHA256", 32 },
    [VOUCH_HASH_SHA384] = { "sha384", "SHA384", 48 },
    [VOUCH_HASH_SHA512] = { "sha512", "SHA512", 64 },
    [VOUCH_HASH_SM3] = { "sm3", "SM3", 32 },
};

static EVP_MD *mds[VOUCH_HASH__COUNT];
static pthread_once_t mds_once = PTHREAD_ONCE_INIT;

static void mds_free(void)
{
    int i;

    for (i = 0; i < VOUCH_HASH__COUNT; i++) {
        EVP_MD_free(mds[i]);
        mds[i] = NULL;
    }
}

static void mds_init(void)
{
    int i;

    for (i = 0; i < VOUCH_HASH__COUNT; i++)
        mds[i] = EVP_MD_fetch(NULL, algs[i].ossl, NULL);
    atexit(mds_free);
}

size_t vouch_hash_size(enum vouch_hash h)
{
    return (unsigned)h < VOUCH_HASH__COUNT ? algs[h].size : 0;
}

const char *vouch_hash_name(enum vouch_hash h)
{
    return (unsigned)h < VOUCH_HASH__COUNT ? algs[h].name : "unknown";
}

int vouch_hash_from_name(const char *name)
{
    char norm[16];
    size_t i, o = 0;

    for (i = 0; name[i] && o < sizeof(norm) - 1; i++)
        if (name[i] != '-' && name[i] != '_')
            norm[o++] = name[i];
    if (name[i])
        return -1;
    norm[o] = '\0';
    for (i = 0; i < VOUCH_HASH__COUNT; i++)
        if (strcasecmp(norm, algs[i].name) == 0)
            return (int)i;
    return -1;
}

const EVP_MD *vouch_hash_md(enum vouch_hash h)
{
    if ((unsigned)h >= VOUCH_HASH__COUNT)
        return NULL;
    pthread_once(&mds_once, mds_init);
    return mds[h];
}

vouch_err vouch_hash(enum vouch_hash h, const void *data, size_t n, uint8_t *out)
{
    const EVP_MD *md = vouch_hash_md(h);

    if (!md)
        return VOUCH_E_UNSUPPORTED;
    if (EVP_Digest(data, n, out, NULL, md, NULL) != 1)
        return VOUCH_E_INTERNAL;
    return VOUCH_OK;
}

/* HMAC: the MAC fetched once; one context per thread and algorithm. */
struct hmac_ctxs {
    EVP_MAC_CTX *ctx[VOUCH_HASH__COUNT];
};

static EVP_MAC *hmac_alg;
static pthread_key_t hmac_key;
static bool hmac_ready;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void hmac_ctxs_free(void *p)
{
    struct hmac_ctxs *c = p;
    int i;

    for (i = 0; i < VOUCH_HASH__COUNT; i++)
        EVP_MAC_CTX_free(c->ctx[i]);
    free(c);
}

static void hmac_init(void)
{
    hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
    hmac_ready = hmac_alg && pthread_key_create(&hmac_key, hmac_ctxs_free) == 0;
}

/* This thread's context for h, made on first use; NULL when out of memory. */
static EVP_MAC_CTX *hmac_ctx(enum vouch_hash h)
{
    struct hmac_ctxs *c;
    EVP_MAC_CTX *x;
    OSSL_PARAM params[2];

    pthread_once(&hmac_once, hmac_init);
    if (!hmac_ready)
        return NULL;
    c = pthread_getspecific(hmac_key);
    if (!c) {
        c = calloc(1, sizeof(*c));
        if (!c || pthread_setspecific(hmac_key, c)) {
            free(c);
            return NULL;
        }
    }
    if (!c->ctx[h]) {
        x = EVP_MAC_CTX_new(hmac_alg);
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                     (char *)algs[h].ossl, 0);
        params[1] = OSSL_PARAM_construct_end();
        if (!x || !EVP_MAC_CTX_set_params(x, params)) {
            EVP_MAC_CTX_free(x);
            return NULL;
        }
        c->ctx[h] = x;
    }
    return c->ctx[h];
}

vouch_err vouch_hmac(enum vouch_hash h, const void *key, size_t key_len, const void *data,
                     size_t n, uint8_t *out)
{
    EVP_MAC_CTX *ctx;
    size_t len = 0;

    if ((unsigned)h >= VOUCH_HASH__COUNT || !vouch_hash_md(h))
        return VOUCH_E_UNSUPPORTED;
    ctx = hmac_ctx(h);
    if (!ctx)
        return VOUCH_E_NOMEM;
    /* a NULL key would mean "the previous call's key" to EVP_MAC_init() */
    if (!EVP_MAC_init(ctx, key ? key : "", key ? key_len : 0, NULL) ||
        !EVP_MAC_update(ctx, data, n) || !EVP_MAC_final(ctx, out, &len, VOUCH_HASH_MAX_SIZE) ||
        len != algs[h].size) {
        ERR_clear_error();
        return VOUCH_E_INTERNAL;
    }
    return VOUCH_OK;
}

int vouch_memeq_ct(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}
