/* SPDX-License-Identifier: Apache-2.0 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

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

int vouch_memeq_ct(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}
