/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "common/buf.h"
#include "common/file.h"

vouch_err vouch_file_read_stream(FILE *f, const char *name, size_t max, uint8_t **ret,
                                 size_t *ret_len, struct vouch_errbuf *eb)
{
    struct vouch_buf b = VOUCH_BUF_INIT(max);
    char chunk[16384];
    uint8_t *out;
    size_t n;

    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (vouch_buf_append(&b, chunk, n))
            return vouch_fail(eb, VOUCH_E_TOO_LARGE, "%s: larger than %zu bytes", name, max);
    if (ferror(f)) {
        vouch_buf_free(&b);
        return vouch_fail(eb, VOUCH_E_IO, "%s: read error", name);
    }
    out = vouch_buf_steal(&b, ret_len);
    if (!out)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    *ret = out;
    return VOUCH_OK;
}

vouch_err vouch_file_read(const char *path, size_t max, uint8_t **ret, size_t *ret_len,
                          struct vouch_errbuf *eb)
{
    FILE *f = fopen(path, "rb");
    vouch_err e;

    if (!f)
        return vouch_fail(eb, errno == ENOENT ? VOUCH_E_NOT_FOUND : VOUCH_E_IO, "%s: %s", path,
                          strerror(errno));
    e = vouch_file_read_stream(f, path, max, ret, ret_len, eb);
    fclose(f);
    return e;
}
