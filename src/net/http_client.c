/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "net/http_client.h"

#define HEADER_LINE_MAX 16384

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct vouch_http_response *r = ud;

    /* Over the cap: returning short aborts the transfer (CURLE_WRITE_ERROR). */
    if (vouch_buf_append(&r->body, p, size * n)) {
        r->too_large = true;
        return 0;
    }
    return size * n;
}

struct header_want {
    const char *name;
    struct vouch_http_response *resp;
};

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    const struct header_want *w = ud;
    size_t len = size * n, kl = strlen(w->name), vl;
    const char *v;

    if (w->resp->header || len <= kl + 1 || len > HEADER_LINE_MAX ||
        strncasecmp(p, w->name, kl) != 0 || p[kl] != ':')
        return len;
    v = p + kl + 1;
    vl = len - kl - 1;
    while (vl && (*v == ' ' || *v == '\t')) {
        v++;
        vl--;
    }
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
        vl--;
    w->resp->header = strndup(v, vl);
    return w->resp->header ? len : 0;
}

static void set_options(CURL *c, const struct vouch_http_request *req,
                        struct vouch_http_response *ret, struct curl_slist *hdrs)
{
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method ? req->method : "GET");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, ret);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)VOUCH_HTTP_CONNECT_TIMEOUT);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, req->timeout > 0 ? req->timeout : VOUCH_HTTP_TIMEOUT);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "vouch/" VOUCH_VERSION);
    if (req->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)req->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    }
    if (hdrs)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
}

/* Content-Type and Accept lines; *ret stays NULL when there are none. */
static vouch_err request_headers(const struct vouch_http_request *req, struct curl_slist **ret)
{
    struct curl_slist *l = NULL, *n;
    char line[256];

    if (req->body && req->content_type) {
        snprintf(line, sizeof(line), "Content-Type: %s", req->content_type);
        if (!(n = curl_slist_append(l, line)))
            goto fail;
        l = n;
    }
    if (req->accept) {
        snprintf(line, sizeof(line), "Accept: %s", req->accept);
        if (!(n = curl_slist_append(l, line)))
            goto fail;
        l = n;
    }
    *ret = l;
    return VOUCH_OK;
fail:
    curl_slist_free_all(l);
    return VOUCH_E_NOMEM;
}

vouch_err vouch_http_exchange(const struct vouch_http_request *req,
                              struct vouch_http_response *ret, struct vouch_errbuf *eb)
{
    struct header_want want = { req->want_header, ret };
    struct curl_slist *hdrs = NULL;
    CURLcode rc;
    CURL *c;

    memset(ret, 0, sizeof(*ret));
    vouch_buf_init(&ret->body, req->max ? req->max : VOUCH_HTTP_BODY_MAX);
    if (request_headers(req, &hdrs))
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    c = curl_easy_init();
    if (!c) {
        curl_slist_free_all(hdrs);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    set_options(c, req, ret, hdrs);
    if (req->want_header) {
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &want);
    }
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &ret->status);
    curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);
    if (rc == CURLE_WRITE_ERROR && ret->too_large)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "%s: response larger than %zu bytes",
                          req->url, ret->body.max);
    if (rc != CURLE_OK)
        return vouch_fail(eb, VOUCH_E_UNAVAILABLE, "%s: %s", req->url, curl_easy_strerror(rc));
    return VOUCH_OK;
}

void vouch_http_response_done(struct vouch_http_response *r)
{
    vouch_buf_free(&r->body);
    free(r->header);
    r->header = NULL;
}

vouch_err vouch_http_fetch(const struct vouch_http_request *req,
                           struct vouch_http_response *ret, struct vouch_errbuf *eb)
{
    vouch_err e = vouch_http_exchange(req, ret, eb);

    if (e)
        return e;
    if (ret->status != 200)
        return vouch_fail(eb, ret->status == 404 ? VOUCH_E_NOT_FOUND : VOUCH_E_UNAVAILABLE,
                          "%s: HTTP %ld", req->url, ret->status);
    return VOUCH_OK;
}

vouch_err vouch_http_post(void *ctx, const char *url, const char *content_type,
                          const uint8_t *body, size_t body_len, size_t max, uint8_t **ret_body,
                          size_t *ret_len, struct vouch_errbuf *eb)
{
    struct vouch_http_request req = {
        .method = "POST", .url = url, .content_type = content_type, .body = body,
        .body_len = body_len, .max = max,
    };
    struct vouch_http_response resp;
    uint8_t *out;
    vouch_err e;

    (void)ctx;
    e = vouch_http_fetch(&req, &resp, eb);
    if (!e) {
        out = vouch_buf_steal(&resp.body, ret_len);
        if (out)
            *ret_body = out;
        else
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    vouch_http_response_done(&resp);
    return e;
}
