/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "common/codec.h"
#include "server/fetch.h"

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct vouch_fetch *f = ud;

    return vouch_buf_append(&f->body, p, size * n) ? 0 : size * n;
}

/* Percent-decoding of the chain header (Intel URL-encodes the PEM). */
static char *url_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1), *o = out;
    size_t i;

    if (!out)
        return NULL;
    for (i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n) {
            uint8_t b;

            if (vouch_hex_decode_exact(s + i + 1, 2, &b, 1, NULL) == VOUCH_OK) {
                *o++ = (char)b;
                i += 2;
                continue;
            }
        }
        *o++ = s[i];
    }
    *o = '\0';
    return out;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct vouch_fetch *f = ud;
    size_t len = size * n, kl = f->want_header ? strlen(f->want_header) : 0;

    if (f->want_header && !f->header && len > kl + 1 && strncasecmp(p, f->want_header, kl) == 0 &&
        p[kl] == ':') {
        const char *v = p + kl + 1;
        size_t vl = len - kl - 1;

        while (vl && (*v == ' ' || *v == '\t')) {
            v++;
            vl--;
        }
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
            vl--;
        f->header = url_decode(v, vl);
    }
    return len;
}

vouch_err vouch_fetch_get(const char *url, const char *header, size_t max,
                          struct vouch_fetch *f, struct vouch_errbuf *eb)
{
    CURL *c = curl_easy_init();
    long status = 0;
    CURLcode rc;

    memset(f, 0, sizeof(*f));
    vouch_buf_init(&f->body, max);
    f->want_header = header;
    if (!c)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, f);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "vouch/" VOUCH_VERSION);
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK)
        return vouch_fail(eb, VOUCH_E_UNAVAILABLE, "%s: %s", url, curl_easy_strerror(rc));
    if (status != 200)
        return vouch_fail(eb, status == 404 ? VOUCH_E_NOT_FOUND : VOUCH_E_UNAVAILABLE,
                          "%s: HTTP %ld", url, status);
    return VOUCH_OK;
}

void vouch_fetch_done(struct vouch_fetch *f)
{
    vouch_buf_free(&f->body);
    free(f->header);
}

