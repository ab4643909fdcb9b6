/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the agent sends and receives around the TPM: the enrolment blobs of
 * ProduceAikcert and the FileData of PutMessage (docs/vtpm.md has both
 * byte for byte).  Pure (agent.h).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "agent/agent.h"
#include "common/codec.h"
#include "common/json.h"
#include "crypto/x509.h"
#include "evidence/tpm/ima.h"
#include "evidence/tpm/quote.h"

/* DataCredentialBlob layout */
#define DCB_LEN_SIZE 4
#define DCB_IV_SIZE 16
#define DCB_KEY_SIZE 16
#define DCB_BLOCK 16

static vouch_err cbc_decrypt(const uint8_t *key, const uint8_t *iv, const uint8_t *ct,
                             size_t ct_len, uint8_t *out, size_t *ret_len,
                             struct vouch_errbuf *eb)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, fin = 0;
    vouch_err e = VOUCH_OK;

    if (!ctx)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    if (EVP_DecryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, key, iv) != 1 ||
        EVP_DecryptUpdate(ctx, out, &n, ct, (int)ct_len) != 1 ||
        EVP_DecryptFinal_ex(ctx, out + n, &fin) != 1)
        e = vouch_fail(eb, VOUCH_E_VERIFY, "DataCredentialBlob does not decrypt with the "
                       "activated credential (wrong key or padding)");
    EVP_CIPHER_CTX_free(ctx);
    if (!e)
        *ret_len = (size_t)n + (size_t)fin;
    return e;
}

vouch_err vouch_agent_data_credential_decrypt(const uint8_t *key, size_t key_len,
                                              const uint8_t *blob, size_t len, char **ret,
                                              size_t *ret_len, struct vouch_errbuf *eb)
{
    uint32_t ct_len;
    uint8_t *out;
    size_t n = 0;
    vouch_err e;

    if (key_len != DCB_KEY_SIZE)
        return vouch_fail(eb, VOUCH_E_INVALID, "the activated credential has %zu bytes, not an "
                          "AES-128 key", key_len);
    if (len < DCB_LEN_SIZE + DCB_IV_SIZE)
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "DataCredentialBlob: %zu bytes", len);
    ct_len = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 | blob[3];
    if (ct_len != len - DCB_LEN_SIZE - DCB_IV_SIZE || ct_len == 0 || ct_len % DCB_BLOCK ||
        ct_len > VOUCH_AGENT_PEM_MAX)
        return vouch_fail(eb, VOUCH_E_INVALID, "DataCredentialBlob: ciphertext length %u in a "
                          "blob of %zu bytes", (unsigned)ct_len, len);
    if (!(out = malloc(ct_len + 1)))
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    e = cbc_decrypt(key, blob + DCB_LEN_SIZE, blob + DCB_LEN_SIZE + DCB_IV_SIZE, ct_len, out, &n,
                    eb);
    if (e) {
        free(out);
        return e;
    }
    out[n] = '\0';
    *ret = (char *)out;
    *ret_len = n;
    return VOUCH_OK;
}

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_END "-----END CERTIFICATE-----"

vouch_err vouch_agent_ak_cert_pick(const char *pem, size_t len, const uint8_t *ak_public,
                                   size_t ak_public_len, char **ret, struct vouch_errbuf *eb)
{
    STACK_OF(X509) *chain = NULL;
    struct vouch_tpm_key *ak = NULL;
    const char *begin = memmem(pem, len, PEM_BEGIN, strlen(PEM_BEGIN)), *end;
    EVP_PKEY *pk;
    char *copy;
    size_t n;
    vouch_err e;

    end = begin ? memmem(begin, len - (size_t)(begin - pem), PEM_END, strlen(PEM_END)) : NULL;
    if (!end)
        return vouch_fail(eb, VOUCH_E_INVALID, "the decrypted credential holds no certificate");
    end += strlen(PEM_END);
    if (end < pem + len && *end == '\n')
        end++;
    n = (size_t)(end - begin);
    e = vouch_x509_parse_pem_chain(begin, n, 1, &chain, eb);
    if (!e)
        e = vouch_tpm_key_load(ak_public, ak_public_len, 0, &ak, eb);
    if (e)
        goto out;
    pk = X509_get0_pubkey(sk_X509_value(chain, 0));
    if (!pk || EVP_PKEY_eq(pk, ak->pkey) != 1) {
        e = vouch_fail(eb, VOUCH_E_VERIFY, "the AK certificate certifies another key");
        goto out;
    }
    if (!(copy = strndup(begin, n))) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    *ret = copy;
out:
    sk_X509_pop_free(chain, X509_free);
    vouch_tpm_key_free(ak);
    return e;
}

/* Byte offset of an entry of a parsed binary log: pcr(4) template_hash(20) name_len(4) name. */
#define IMA_NAME_OFFSET (4 + 20 + 4)

vouch_err vouch_agent_ima_slice(const uint8_t *log, size_t len, uint64_t next,
                                uint64_t *ret_start, size_t *ret_off, uint64_t *ret_count,
                                struct vouch_errbuf *eb)
{
    struct vouch_ima_log *parsed = NULL;
    uint64_t start = next;
    size_t off = len;
    vouch_err e;

    if (len == 0) {           /* IMA on, nothing measured yet (or the log restarted) */
        *ret_start = 0;
        *ret_off = 0;
        *ret_count = 0;
        return VOUCH_OK;
    }
    e = vouch_ima_log_parse(log, len, &parsed, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "IMA log: ");
    if (parsed->ascii) {
        vouch_ima_log_free(parsed);
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "IMA log: give the binary log "
                          "(binary_runtime_measurements), not the ASCII one");
    }
    if (start > parsed->n)
        start = 0;            /* fewer entries than the service has seen: a reboot */
    if (start < parsed->n)
        off = (size_t)((const uint8_t *)parsed->entries[start].template_name - parsed->store) -
              IMA_NAME_OFFSET;
    *ret_start = start;
    *ret_off = off;
    *ret_count = parsed->n;
    vouch_ima_log_free(parsed);
    return VOUCH_OK;
}

static vouch_err set_b64(json_t *obj, const char *key, const uint8_t *data, size_t len)
{
    char *b = vouch_b64_alloc(data, len, VOUCH_B64_STD);
    vouch_err e = b ? vouch_json_set_str(obj, key, b) : VOUCH_E_NOMEM;

    free(b);
    return e;
}

static vouch_err report_json(const struct vouch_agent_report *r, json_t *doc)
{
    json_t *pcrs = NULL, *ima;
    vouch_err e;

    if ((e = vouch_json_set_int(doc, "version", 1)) ||
        (e = vouch_json_set_str(doc, "nonce", r->nonce_hex)) ||
        (e = set_b64(doc, "quote", r->attest, r->attest_len)) ||
        (e = set_b64(doc, "signature", r->sig, r->sig_len)) ||
        (e = vouch_tpm_pcrs_to_json(r->pcrs, &pcrs)) ||
        (e = vouch_json_set_new(doc, "pcrs", pcrs)))
        return e;
    if (r->eventlog && (e = set_b64(doc, "eventlog", r->eventlog, r->eventlog_len)))
        return e;
    if (r->ima) {
        ima = json_object();
        if ((e = vouch_json_set_new(doc, "ima", ima)) ||
            (e = vouch_json_set_int(ima, "start", (int64_t)r->ima_start)) ||
            (e = set_b64(ima, "log", r->ima, r->ima_len)))
            return e;
    }
    if (r->ak_cert && (e = vouch_json_set_str(doc, "ak_cert", r->ak_cert)))
        return e;
    return VOUCH_OK;
}

vouch_err vouch_agent_filedata(const struct vouch_agent_report *r, char **ret,
                               struct vouch_errbuf *eb)
{
    json_t *doc = json_object();
    char *text = NULL, *b64 = NULL;
    vouch_err e = doc ? report_json(r, doc) : VOUCH_E_NOMEM;

    if (!e && !(text = json_dumps(doc, JSON_COMPACT)))
        e = VOUCH_E_NOMEM;
    if (!e && !(b64 = vouch_b64_alloc(text, strlen(text), VOUCH_B64_STD)))
        e = VOUCH_E_NOMEM;
    json_decref(doc);
    free(text);
    if (e)
        return vouch_fail(eb, e, "FileData: cannot build the report");
    *ret = b64;
    return VOUCH_OK;
}
