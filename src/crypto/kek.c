/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Wrapping stored secrets under the key-encryption key: AES-256-GCM with a
 * random 96-bit nonce per wrap.  Layout and AAD are described in kek.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/codec.h"
#include "common/file.h"
#include "crypto/digest.h"
#include "crypto/kek.h"

/* Blob layout: version | kek id | nonce | ciphertext | tag. */
#define HDR_LEN (1 + VOUCH_KEK_ID_LEN)
#define NONCE_OFF HDR_LEN
#define CT_OFF (NONCE_OFF + VOUCH_KEK_NONCE_LEN)
#define BLOB_FIXED (CT_OFF + VOUCH_KEK_TAG_LEN)
#define PREFIX_LEN (sizeof(VOUCH_KEK_PREFIX) - 1)

/* Domain label that starts the AAD, so these blobs mean nothing elsewhere. */
static const char aad_label[] = "vouch-kek";

vouch_err vouch_kek_from_bytes(const uint8_t key[VOUCH_KEK_LEN], struct vouch_kek *ret,
                               struct vouch_errbuf *eb)
{
    uint8_t digest[32];
    struct vouch_kek k;

    memcpy(k.key, key, VOUCH_KEK_LEN);
    if (vouch_hash(VOUCH_HASH_SHA256, key, VOUCH_KEK_LEN, digest)) {
        OPENSSL_cleanse(&k, sizeof(k));
        return vouch_fail(eb, VOUCH_E_INTERNAL, "cannot hash the KEK");
    }
    memcpy(k.id, digest, VOUCH_KEK_ID_LEN);
    vouch_hex_encode(k.id, VOUCH_KEK_ID_LEN, k.id_hex);
    *ret = k;
    OPENSSL_cleanse(&k, sizeof(k));
    return VOUCH_OK;
}

void vouch_kek_wipe(struct vouch_kek *kek)
{
    if (kek)
        OPENSSL_cleanse(kek, sizeof(*kek));
}

void vouch_kek_secret_free(uint8_t *secret, size_t len)
{
    if (secret)
        OPENSSL_clear_free(secret, len + 1);
}

vouch_err vouch_secret_file_read(const char *path, size_t max, uint8_t **ret, size_t *ret_len,
                                 struct vouch_errbuf *eb)
{
    struct stat st;
    vouch_err e;
    FILE *f;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return vouch_fail(eb, errno == ENOENT ? VOUCH_E_NOT_FOUND : VOUCH_E_IO,
                          "%s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return vouch_fail(eb, VOUCH_E_IO, "%s: not a regular file", path);
    }
    if (st.st_mode & 077) {
        close(fd);
        return vouch_fail(eb, VOUCH_E_AUTH, "%s is accessible to group or others (mode %04o); "
                          "it holds a secret: chmod 600 %s", path,
                          (unsigned)(st.st_mode & 07777), path);
    }
    f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    e = vouch_file_read_stream(f, path, max, ret, ret_len, eb);
    fclose(f);
    return e;
}

/* The key from a KEK file's bytes: raw, hex or base64 (see kek.h). */
static vouch_err kek_decode(const uint8_t *data, size_t len, uint8_t key[VOUCH_KEK_LEN])
{
    uint8_t *dec = NULL;
    size_t n = 0;
    vouch_err e;

    if (len == VOUCH_KEK_LEN) {
        memcpy(key, data, VOUCH_KEK_LEN);
        return VOUCH_OK;
    }
    if (len && data[len - 1] == '\n')
        len--;
    if (len && data[len - 1] == '\r')
        len--;
    if (len == 2 * VOUCH_KEK_LEN)
        return vouch_hex_decode_exact((const char *)data, len, key, VOUCH_KEK_LEN, NULL);
    e = vouch_b64_decode((const char *)data, len, VOUCH_B64_PAD_OPTIONAL, VOUCH_KEK_LEN, &dec,
                         &n, NULL);
    if (e)
        e = vouch_b64_decode((const char *)data, len, VOUCH_B64_URL | VOUCH_B64_PAD_OPTIONAL,
                             VOUCH_KEK_LEN, &dec, &n, NULL);
    if (!e && n != VOUCH_KEK_LEN)
        e = VOUCH_E_INVALID;
    if (!e)
        memcpy(key, dec, VOUCH_KEK_LEN);
    vouch_kek_secret_free(dec, n);
    return e;
}

vouch_err vouch_kek_load_file(const char *path, struct vouch_kek *ret,
                              struct vouch_errbuf *eb)
{
    uint8_t key[VOUCH_KEK_LEN], *data = NULL;
    size_t len = 0;
    vouch_err e;

    e = vouch_secret_file_read(path, 256, &data, &len, eb);
    if (e)
        return e;
    if (kek_decode(data, len, key))
        e = vouch_fail(eb, VOUCH_E_INVALID, "%s: want 32 random bytes, raw or as 64 hex digits "
                       "or base64", path);
    else
        e = vouch_kek_from_bytes(key, ret, eb);
    OPENSSL_cleanse(key, sizeof(key));
    vouch_kek_secret_free(data, len);
    return e;
}

bool vouch_kek_is_wrapped(const char *stored)
{
    return strncmp(stored, VOUCH_KEK_PREFIX, PREFIX_LEN) == 0;
}

/*
 * AES-256-GCM over `in` (n bytes) into `out`: `enc` 1 seals and writes
 * `tag`, 0 opens and checks it.  The AAD is label | header | purpose.
 */
static int gcm(int enc, const uint8_t key[VOUCH_KEK_LEN], const uint8_t *blob_hdr,
               const char *purpose, const uint8_t *in, size_t n, uint8_t *out, uint8_t *tag)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    const uint8_t *nonce = blob_hdr + NONCE_OFF;
    int outl, ok;

    ok = ctx && n <= VOUCH_KEK_SECRET_MAX &&
         EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, VOUCH_KEK_NONCE_LEN, NULL) == 1 &&
         EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) == 1 &&
         EVP_CipherUpdate(ctx, NULL, &outl, (const uint8_t *)aad_label,
                          (int)sizeof(aad_label)) == 1 &&
         EVP_CipherUpdate(ctx, NULL, &outl, blob_hdr, HDR_LEN) == 1 &&
         EVP_CipherUpdate(ctx, NULL, &outl, (const uint8_t *)purpose, (int)strlen(purpose)) == 1 &&
         (n == 0 || EVP_CipherUpdate(ctx, out, &outl, in, (int)n) == 1) &&
         (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, VOUCH_KEK_TAG_LEN, tag) == 1) &&
         EVP_CipherFinal_ex(ctx, out + n, &outl) == 1 &&
         (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, VOUCH_KEK_TAG_LEN, tag) == 1);
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

vouch_err vouch_kek_wrap(const struct vouch_kek *kek, const char *purpose, const void *secret,
                         size_t len, char **ret, struct vouch_errbuf *eb)
{
    uint8_t *blob;
    char *text;
    size_t blen;

    if (len > VOUCH_KEK_SECRET_MAX || strlen(purpose) > 1024)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "secret too large to wrap");
    blen = BLOB_FIXED + len;
    blob = calloc(1, blen + 1);   /* +1: GCM final may touch out + n */
    if (!blob)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    blob[0] = VOUCH_KEK_VERSION;
    memcpy(blob + 1, kek->id, VOUCH_KEK_ID_LEN);
    if (RAND_bytes(blob + NONCE_OFF, VOUCH_KEK_NONCE_LEN) != 1 ||
        !gcm(1, kek->key, blob, purpose, secret, len, blob + CT_OFF, blob + CT_OFF + len)) {
        OPENSSL_clear_free(blob, blen + 1);
        return vouch_fail(eb, VOUCH_E_INTERNAL, "cannot wrap the secret");
    }
    text = malloc(PREFIX_LEN + vouch_b64_encoded_len(blen, VOUCH_B64URL) + 1);
    if (text) {
        memcpy(text, VOUCH_KEK_PREFIX, PREFIX_LEN);
        vouch_b64_encode(blob, blen, VOUCH_B64URL, text + PREFIX_LEN);
    }
    OPENSSL_clear_free(blob, blen + 1);
    if (!text)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    *ret = text;
    return VOUCH_OK;
}

/* Decode a stored value into its blob, checking the fixed part's shape. */
static vouch_err blob_decode(const char *stored, uint8_t **ret, size_t *ret_len,
                             struct vouch_errbuf *eb)
{
    uint8_t *blob = NULL;
    size_t n = 0;

    if (!vouch_kek_is_wrapped(stored))
        return vouch_fail(eb, VOUCH_E_INVALID, "not a wrapped secret");
    if (vouch_b64_decode(stored + PREFIX_LEN, strlen(stored + PREFIX_LEN), VOUCH_B64URL,
                         BLOB_FIXED + VOUCH_KEK_SECRET_MAX, &blob, &n, NULL))
        return vouch_fail(eb, VOUCH_E_INVALID, "wrapped secret: bad encoding");
    if (n < BLOB_FIXED) {
        free(blob);
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "wrapped secret: %zu bytes, want at least %d",
                          n, BLOB_FIXED);
    }
    if (blob[0] != VOUCH_KEK_VERSION) {
        unsigned version = blob[0];

        free(blob);
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "wrapped secret: version %u, this build "
                          "reads %d", version, VOUCH_KEK_VERSION);
    }
    *ret = blob;
    *ret_len = n;
    return VOUCH_OK;
}

vouch_err vouch_kek_wrapped_id(const char *stored, char ret_id_hex[VOUCH_KEK_ID_HEX_LEN + 1],
                               struct vouch_errbuf *eb)
{
    uint8_t *blob = NULL;
    size_t n = 0;
    vouch_err e;

    e = blob_decode(stored, &blob, &n, eb);
    if (e)
        return e;
    vouch_hex_encode(blob + 1, VOUCH_KEK_ID_LEN, ret_id_hex);
    OPENSSL_clear_free(blob, n);
    return VOUCH_OK;
}

vouch_err vouch_kek_unwrap(const struct vouch_kek *kek, const char *purpose, const char *stored,
                           uint8_t **ret, size_t *ret_len, struct vouch_errbuf *eb)
{
    uint8_t *blob = NULL, *out = NULL;
    char id_hex[VOUCH_KEK_ID_HEX_LEN + 1];
    size_t n = 0, len;
    vouch_err e;

    e = blob_decode(stored, &blob, &n, eb);
    if (e)
        return e;
    len = n - BLOB_FIXED;
    if (memcmp(blob + 1, kek->id, VOUCH_KEK_ID_LEN) != 0) {
        vouch_hex_encode(blob + 1, VOUCH_KEK_ID_LEN, id_hex);
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "wrapped under KEK id %s, but the KEK given has "
                       "id %s", id_hex, kek->id_hex);
        goto out;
    }
    out = calloc(1, len + 1);
    if (!out) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    if (!gcm(0, kek->key, blob, purpose, blob + CT_OFF, len, out, blob + CT_OFF + len)) {
        e = vouch_fail(eb, VOUCH_E_VERIFY, "wrapped secret does not authenticate under KEK "
                       "id %s (altered, or stored for another purpose than %.100s)",
                       kek->id_hex, purpose);
        goto out;
    }
    *ret = out;
    *ret_len = len;
    out = NULL;
out:
    vouch_kek_secret_free(out, len);
    OPENSSL_clear_free(blob, n);
    return e;
}
