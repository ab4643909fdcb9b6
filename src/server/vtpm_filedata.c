/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/json.h"
#include "server/vtpm_filedata.h"

/* Caps of the decoded members. */
#define QUOTE_MAX 4096
#define SIG_MAX 4096
#define EVENTLOG_MAX (4u << 20)
#define IMA_MAX (8u << 20)
#define AK_CERT_MAX (16u << 10)
#define IMA_START_MAX (1ll << 40)

static const char *const members[] = { "version", "nonce", "quote", "signature", "pcrs",
                                       "eventlog", "ima", "ak_cert" };

static vouch_err member_fail(struct vouch_errbuf *eb, vouch_err e, const char *member)
{
    return vouch_fail_prefix(eb, e == VOUCH_E_TOO_LARGE ? e : VOUCH_E_INVALID, "FileData.%s: ",
                             member);
}

/* Member `key` of obj: base64 bytes of at most max (required or not). */
static vouch_err b64_member(const json_t *obj, const char *key, bool required, size_t max,
                            uint8_t **ret, size_t *ret_len, struct vouch_errbuf *eb)
{
    const char *s = NULL;
    size_t n = 0;
    vouch_err e = vouch_json_get_str(obj, key, required, &s, &n, eb);

    if (!e && s)
        e = vouch_b64_decode(s, n, VOUCH_B64_STD, max, ret, ret_len, eb);
    return e ? member_fail(eb, e, key) : VOUCH_OK;
}

static vouch_err known_members(const json_t *doc, struct vouch_errbuf *eb)
{
    const char *key;
    json_t *v;
    size_t i;

    json_object_foreach((json_t *)doc, key, v) {
        for (i = 0; i < sizeof(members) / sizeof(members[0]); i++)
            if (strcmp(key, members[i]) == 0)
                break;
        if (i == sizeof(members) / sizeof(members[0]))
            return vouch_fail(eb, VOUCH_E_INVALID, "FileData: unknown member '%.64s'", key);
    }
    return VOUCH_OK;
}

static vouch_err nonce_member(const json_t *doc, struct vouch_vtpm_filedata *fd,
                              struct vouch_errbuf *eb)
{
    const char *s = NULL;
    size_t n = 0;
    vouch_err e = vouch_json_get_str(doc, "nonce", true, &s, &n, eb);

    if (!e && n != 2 * VOUCH_VTPM_NONCE_LEN)
        e = vouch_fail(eb, VOUCH_E_INVALID, "want %d hex digits", 2 * VOUCH_VTPM_NONCE_LEN);
    if (!e)
        e = vouch_hex_decode_exact(s, n, fd->nonce, VOUCH_VTPM_NONCE_LEN, eb);
    if (e)
        return member_fail(eb, e, "nonce");
    vouch_hex_encode(fd->nonce, VOUCH_VTPM_NONCE_LEN, fd->nonce_hex);
    return VOUCH_OK;
}

static vouch_err ima_member(const json_t *doc, struct vouch_vtpm_filedata *fd,
                            struct vouch_errbuf *eb)
{
    json_t *ima = NULL;
    int64_t start = -1;
    vouch_err e = vouch_json_get_obj(doc, "ima", false, &ima, eb);

    if (e || !ima)
        return e ? member_fail(eb, e, "ima") : VOUCH_OK;
    if (json_object_size(ima) != 2)
        return vouch_fail(eb, VOUCH_E_INVALID, "FileData.ima: want exactly start and log");
    e = vouch_json_get_int(ima, "start", true, &start, eb);
    if (!e && (start < 0 || start > IMA_START_MAX))
        e = vouch_fail(eb, VOUCH_E_INVALID, "start out of range");
    if (e)
        return member_fail(eb, e, "ima");
    e = b64_member(ima, "log", true, IMA_MAX, &fd->ima, &fd->ima_len, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "FileData.ima.");
    fd->has_ima = true;
    fd->ima_start = (uint64_t)start;
    return VOUCH_OK;
}

static vouch_err members_read(const json_t *doc, struct vouch_vtpm_filedata *fd,
                              struct vouch_errbuf *eb)
{
    json_t *pcrs = NULL;
    const char *cert = NULL;
    int64_t version = 0;
    size_t n = 0;
    vouch_err e = known_members(doc, eb);

    if (!e && (vouch_json_get_int(doc, "version", true, &version, eb) ||
               version != VOUCH_VTPM_FILEDATA_VERSION))
        e = vouch_fail(eb, VOUCH_E_INVALID, "FileData.version: want %d",
                       VOUCH_VTPM_FILEDATA_VERSION);
    if (!e)
        e = nonce_member(doc, fd, eb);
    if (!e)
        e = b64_member(doc, "quote", true, QUOTE_MAX, &fd->quote, &fd->quote_len, eb);
    if (!e)
        e = b64_member(doc, "signature", true, SIG_MAX, &fd->sig, &fd->sig_len, eb);
    if (!e) {
        e = vouch_json_get_obj(doc, "pcrs", true, &pcrs, eb);
        if (!e)
            e = vouch_tpm_pcrs_from_json(pcrs, &fd->pcrs, eb);
        if (e)
            e = member_fail(eb, e, "pcrs");
    }
    if (!e)
        e = b64_member(doc, "eventlog", false, EVENTLOG_MAX, &fd->eventlog, &fd->eventlog_len,
                       eb);
    if (!e)
        e = ima_member(doc, fd, eb);
    if (e)
        return e;
    e = vouch_json_get_str(doc, "ak_cert", false, &cert, &n, eb);
    if (!e && cert && (n == 0 || n > AK_CERT_MAX || strlen(cert) != n))
        e = vouch_fail(eb, VOUCH_E_INVALID, "want 1-%u bytes of PEM", AK_CERT_MAX);
    if (e)
        return member_fail(eb, e, "ak_cert");
    if (cert && !(fd->ak_cert = strdup(cert)))
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    return e;
}

vouch_err vouch_vtpm_filedata_decode(const char *text, size_t len,
                                     struct vouch_vtpm_filedata *ret, struct vouch_errbuf *eb)
{
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    json_t *doc = NULL;
    vouch_err e;

    memset(ret, 0, sizeof(*ret));
    vouch_tpm_pcrs_init(&ret->pcrs);
    if (len > VOUCH_VTPM_FILEDATA_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "FileData: more than %u bytes",
                          VOUCH_VTPM_FILEDATA_MAX);
    e = vouch_b64_decode(text, len, VOUCH_B64_STD, len, &raw, &raw_len, eb);
    if (e)
        return vouch_fail_prefix(eb, VOUCH_E_INVALID, "FileData: ");
    e = vouch_json_parse(raw, raw_len, &doc, eb);
    if (!e && !json_is_object(doc))
        e = vouch_fail(eb, VOUCH_E_INVALID, "not a JSON object");
    if (e)
        vouch_fail_prefix(eb, VOUCH_E_INVALID, "FileData: ");
    else
        e = members_read(doc, ret, eb);
    json_decref(doc);
    free(raw);
    return e;
}

void vouch_vtpm_filedata_done(struct vouch_vtpm_filedata *fd)
{
    if (!fd)
        return;
    free(fd->quote);
    free(fd->sig);
    free(fd->eventlog);
    free(fd->ima);
    free(fd->ak_cert);
    fd->quote = fd->sig = fd->eventlog = fd->ima = NULL;
    fd->ak_cert = NULL;
}
