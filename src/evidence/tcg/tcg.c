/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the TCG event-log code and its users (tpm, dcap). */
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "evidence/tcg/tcg.h"

int vouch_tcg_alg_hash(uint16_t alg)
{
    switch (alg) {
    case VOUCH_TCG_ALG_SHA1: return VOUCH_HASH_SHA1;
    case VOUCH_TCG_ALG_SHA256: return VOUCH_HASH_SHA256;
    case VOUCH_TCG_ALG_SHA384: return VOUCH_HASH_SHA384;
    case VOUCH_TCG_ALG_SHA512: return VOUCH_HASH_SHA512;
    case VOUCH_TCG_ALG_SM3_256: return VOUCH_HASH_SM3;
    default: return -1;
    }
}

const char *vouch_tcg_alg_name(uint16_t alg)
{
    switch (alg) {
    case VOUCH_TCG_ALG_SHA1: return "sha1";
    case VOUCH_TCG_ALG_SHA256: return "sha256";
    case VOUCH_TCG_ALG_SHA384: return "sha384";
    case VOUCH_TCG_ALG_SHA512: return "sha512";
    case VOUCH_TCG_ALG_SM3_256: return "sm3_256";
    default: return NULL;
    }
}

const char *vouch_tcg_hash_claim_name(enum vouch_hash h)
{
    static const char *const names[VOUCH_HASH__COUNT] = {
        [VOUCH_HASH_SHA1] = "SHA-1",
        [VOUCH_HASH_SHA256] = "SHA-256",
        [VOUCH_HASH_SHA384] = "SHA-384",
        [VOUCH_HASH_SHA512] = "SHA-512",
        [VOUCH_HASH_SM3] = "SM3",
    };

    return (unsigned)h < VOUCH_HASH__COUNT ? names[h] : "unknown";
}

vouch_err vouch_tcg_hash2(EVP_MD_CTX *ctx, enum vouch_hash h, const void *a, size_t alen,
                          const void *b, size_t blen, uint8_t *out)
{
    const EVP_MD *md = vouch_hash_md(h);

    if (!md)
        return VOUCH_E_UNSUPPORTED;
    if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, a, alen) != 1 ||
        (blen && EVP_DigestUpdate(ctx, b, blen) != 1) ||
        EVP_DigestFinal_ex(ctx, out, NULL) != 1)
        return VOUCH_E_INTERNAL;
    return VOUCH_OK;
}

int vouch_tcg_all_bytes(const uint8_t *p, size_t n, uint8_t c)
{
    /* p[0] == c and every byte equals the next: memcmp's word-wise speed on long fills */
    return n == 0 || (p[0] == c && memcmp(p, p + 1, n - 1) == 0);
}

json_t *vouch_tcg_json_hex(const void *p, size_t n)
{
    char *hex = vouch_hex_alloc(p, n);
    json_t *j;

    if (!hex)
        return NULL;
    j = json_stringn_nocheck(hex, 2 * n);   /* ASCII: no UTF-8 check */
    free(hex);
    return j;
}

json_t *vouch_tcg_json_b64(const void *p, size_t n)
{
    char *s = vouch_b64_alloc(p, n, VOUCH_B64_STD);
    json_t *j;

    if (!s)
        return NULL;
    j = json_string_nocheck(s);   /* ASCII: no UTF-8 check */
    free(s);
    return j;
}

