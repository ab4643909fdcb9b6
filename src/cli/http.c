/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "common/buf.h"

#define RESPONSE_MAX (16u << 20)

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    struct vouch_buf *b = ud;

    if (vouch_buf_append(b, p, size * n))
        return 0; /* over the cap: abort the transfer */
    return size * n;
}

int vouch_cli_http(const char *method, const char *url, const char *body, size_t body_len,
                   const char *content_type, long *ret_status, char **ret_body,
                   size_t *ret_len)
{
    struct vouch_buf b = VOUCH_BUF_INIT(RESPONSE_MAX);
    struct curl_slist *hdrs = NULL;
    char ctype[128];
    CURLcode rc;
    CURL *c;
    long status = 0;

    c = curl_easy_init();
    if (!c)
        return -1;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "vouch/" VOUCH_VERSION);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        snprintf(ctype, sizeof(ctype), "Content-Type: %s", content_type);
        hdrs = curl_slist_append(hdrs, ctype);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    }
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        fprintf(stderr, "vouch: %s %s: %s\n", method, url,
                rc == CURLE_WRITE_ERROR ? "response too large" : curl_easy_strerror(rc));
        vouch_buf_free(&b);
        return -1;
    }
    *ret_status = status;
    *ret_body = (char *)vouch_buf_steal(&b, ret_len);
    return *ret_body ? 0 : -1;
}
