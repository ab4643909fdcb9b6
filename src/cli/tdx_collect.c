/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TDX evidence collection through configfs-tsm (tdx_collect.h).  The
 * kernel's protocol (Documentation/ABI/testing/configfs-tsm): mkdir an
 * entry under /sys/kernel/config/tsm/report, write REPORTDATA to its
 * inblob, read the quote from outblob; generation counts the writes, so
 * reading it before and after shows whether another process used the
 * entry in between.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "cli/tdx_collect.h"
#include "common/codec.h"
#include "common/file.h"
#include "evidence/binding.h"

#define ATTR_MAX 64

/* A small text attribute (generation, provider), trimmed. */
static vouch_err read_attr(const char *entry, const char *name, char *out, size_t size,
                           struct vouch_errbuf *eb)
{
    char path[512];
    uint8_t *data = NULL;
    size_t len = 0;
    vouch_err e;

    snprintf(path, sizeof(path), "%s/%s", entry, name);
    e = vouch_file_read(path, ATTR_MAX, &data, &len, eb);
    if (e)
        return e;
    while (len && (data[len - 1] == '\n' || data[len - 1] == ' '))
        len--;
    snprintf(out, size, "%.*s", (int)len, (const char *)data);
    free(data);
    return VOUCH_OK;
}

static vouch_err read_generation(const char *entry, unsigned long long *ret,
                                 struct vouch_errbuf *eb)
{
    char text[ATTR_MAX + 1], *end;
    vouch_err e = read_attr(entry, "generation", text, sizeof(text), eb);

    if (e)
        return vouch_fail_prefix(eb, e, "configfs-tsm: ");
    errno = 0;
    *ret = strtoull(text, &end, 10);
    if (errno || end == text || *end)
        return vouch_fail(eb, VOUCH_E_INVALID, "configfs-tsm: %s/generation is not a number",
                          entry);
    return VOUCH_OK;
}

static vouch_err write_inblob(const char *entry, const uint8_t *data, size_t len,
                              struct vouch_errbuf *eb)
{
    char path[512];
    int fd;
    ssize_t n;

    snprintf(path, sizeof(path), "%s/inblob", entry);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return vouch_fail(eb, VOUCH_E_IO, "configfs-tsm: %s: %s", path, strerror(errno));
    n = write(fd, data, len);
    if (close(fd) != 0 || n != (ssize_t)len)
        return vouch_fail(eb, VOUCH_E_IO, "configfs-tsm: writing %s failed", path);
    return VOUCH_OK;
}

vouch_err vouch_tsm_report_entry(const char *entry, const uint8_t report_data[VOUCH_TSM_REPORT_DATA],
                                 uint8_t **ret, size_t *ret_len, struct vouch_errbuf *eb)
{
    char provider[ATTR_MAX + 1], path[512];
    unsigned long long before, after;
    uint8_t *quote = NULL;
    size_t len = 0;
    vouch_err e;

    /* provider names the TSM driver; older kernels may lack the attribute */
    e = read_attr(entry, "provider", provider, sizeof(provider), NULL);
    if (!e && strcmp(provider, "tdx_guest") != 0)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "configfs-tsm: the provider is '%s', not "
                          "tdx_guest (not a TDX guest?)", provider);
    e = read_generation(entry, &before, eb);
    if (!e)
        e = write_inblob(entry, report_data, VOUCH_TSM_REPORT_DATA, eb);
    snprintf(path, sizeof(path), "%s/outblob", entry);
    if (!e)
        e = vouch_file_read(path, VOUCH_TSM_OUTBLOB_MAX, &quote, &len, eb);
    if (!e)
        e = read_generation(entry, &after, eb);
    if (!e && after != before + 1)
        e = vouch_fail(eb, VOUCH_E_CONFLICT, "configfs-tsm: generation went from %llu to %llu: "
                       "another process used %s at the same time; try again", before, after,
                       entry);
    if (!e && len == 0)
        e = vouch_fail(eb, VOUCH_E_INVALID, "configfs-tsm: %s is empty", path);
    if (e) {
        free(quote);
        return e;
    }
    *ret = quote;
    *ret_len = len;
    return VOUCH_OK;
}

vouch_err vouch_tsm_report(const char *dir, const uint8_t report_data[VOUCH_TSM_REPORT_DATA],
                           uint8_t **ret, size_t *ret_len, struct vouch_errbuf *eb)
{
    char entry[512];
    uint8_t r[8];
    vouch_err e;

    if (RAND_bytes(r, sizeof(r)) != 1)
        return vouch_fail(eb, VOUCH_E_INTERNAL, "no randomness");
    snprintf(entry, sizeof(entry), "%s/vouch-%ld-%02x%02x%02x%02x", dir, (long)getpid(), r[0],
             r[1], r[2], r[3]);
    if (mkdir(entry, 0700) != 0)
        return vouch_fail(eb, errno == ENOENT ? VOUCH_E_NOT_FOUND : VOUCH_E_IO,
                          "configfs-tsm: cannot create %s: %s%s", entry, strerror(errno),
                          errno == ENOENT ? " (is configfs mounted, and is this a TDX guest "
                                            "with a 6.7 or later kernel?)" : "");
    e = vouch_tsm_report_entry(entry, report_data, ret, ret_len, eb);
    rmdir(entry);           /* configfs removes the attributes with the entry */
    return e;
}

vouch_err vouch_tdx_report_data(const json_t *runtime_data, enum vouch_hash h,
                                uint8_t out[VOUCH_TSM_REPORT_DATA], struct vouch_errbuf *eb)
{
    struct vouch_binding_data d = { NULL, 0, NULL };
    vouch_err e = vouch_binding_data_parse(runtime_data, h, &d, eb);

    if (e)
        return vouch_fail_prefix(eb, e, "runtime_data: ");
    /* as the verifier compares: zero-padded or truncated to REPORT_DATA */
    memset(out, 0, VOUCH_TSM_REPORT_DATA);
    memcpy(out, d.bytes, d.len < VOUCH_TSM_REPORT_DATA ? d.len : VOUCH_TSM_REPORT_DATA);
    vouch_binding_data_done(&d);
    return VOUCH_OK;
}

vouch_err vouch_tdx_evidence_doc(const uint8_t *quote, size_t quote_len, const uint8_t *ccel,
                                 size_t ccel_len, char **ret, struct vouch_errbuf *eb)
{
    char *q = vouch_b64_alloc(quote, quote_len, VOUCH_B64_STD);
    char *c = ccel ? vouch_b64_alloc(ccel, ccel_len, VOUCH_B64_STD) : NULL;
    json_t *doc = NULL;
    char *text = NULL;

    if (q && (!ccel || c))
        doc = json_pack("{s:s,s:s?}", "quote", q, "cc_eventlog", c);
    if (doc)
        text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    free(q);
    free(c);
    if (!text)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    *ret = text;
    return VOUCH_OK;
}
