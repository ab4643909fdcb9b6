/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "collateral/collateral.h"
#include "common/buf.h"
#include "common/codec.h"
#include "common/json.h"
#include "common/log.h"
#include "common/time.h"
#include "server/refresh.h"

#define FETCH_MAX (4u << 20)

struct vouch_refresher {
    struct vouch_app *app;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
};

struct fetch {
    struct vouch_buf body;
    const char *want_header;   /* issuer-chain header name */
    char *chain;               /* its URL-decoded value */
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct fetch *f = ud;

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
    struct fetch *f = ud;
    size_t len = size * n, kl = f->want_header ? strlen(f->want_header) : 0;

    if (f->want_header && !f->chain && len > kl + 1 && strncasecmp(p, f->want_header, kl) == 0 &&
        p[kl] == ':') {
        const char *v = p + kl + 1;
        size_t vl = len - kl - 1;

        while (vl && (*v == ' ' || *v == '\t')) {
            v++;
            vl--;
        }
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
            vl--;
        f->chain = url_decode(v, vl);
    }
    return len;
}

static vouch_err fetch(const char *url, const char *header, struct fetch *f,
                       struct vouch_errbuf *eb)
{
    CURL *c = curl_easy_init();
    long status = 0;
    CURLcode rc;

    memset(f, 0, sizeof(*f));
    vouch_buf_init(&f->body, FETCH_MAX);
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
        return vouch_fail(eb, VOUCH_E_IO, "%s: %s", url, curl_easy_strerror(rc));
    if (status != 200)
        return vouch_fail(eb, status == 404 ? VOUCH_E_NOT_FOUND : VOUCH_E_IO, "%s: HTTP %ld",
                          url, status);
    return VOUCH_OK;
}

static void fetch_done(struct fetch *f)
{
    vouch_buf_free(&f->body);
    free(f->chain);
}

/*
 * Fetch the upstream copy of stored document `id` and import it.  The
 * import verifies it and keeps whichever of the two is newer.
 */
static void refresh_one(struct vouch_app *app, const char *id)
{
    const char *base = app->cfg.pccs_upstream, *header, *key;
    char url[1024], tee[4], fmspc[13], what[200];
    struct vouch_errbuf eb;
    struct fetch f;
    json_t *doc = NULL, *report = NULL;
    char *text = NULL;
    int ver = 0;
    vouch_err e;

    if (sscanf(id, "tcb/%3[a-z]/%12[0-9A-F]/v%d", tee, fmspc, &ver) == 3) {
        snprintf(url, sizeof(url), "%s/%s/certification/v%d/tcb?fmspc=%s", base, tee,
                 ver == 2 ? 3 : 4, fmspc);
        header = ver == 2 ? "SGX-TCB-Info-Issuer-Chain" : "TCB-Info-Issuer-Chain";
        key = "tcb_info_json";
    } else if (strncmp(id, "qe/", 3) == 0) {
        const char *q = id + 3;

        snprintf(url, sizeof(url), "%s/%s/certification/v4/%s/identity", base,
                 strcmp(q, "TD_QE") == 0 ? "tdx" : "sgx",
                 strcmp(q, "QVE") == 0 ? "qve" : strcmp(q, "QAE") == 0 ? "qae" : "qe");
        header = "SGX-Enclave-Identity-Issuer-Chain";
        key = "enclave_identity_json";
    } else if (strncmp(id, "pckcrl/", 7) == 0) {
        snprintf(url, sizeof(url), "%s/sgx/certification/v4/pckcrl?ca=%s&encoding=der", base,
                 id + 7);
        header = "SGX-PCK-CRL-Issuer-Chain";
        key = "crl_data_base64";
    } else if (strcmp(id, "rootcacrl") == 0) {
        snprintf(url, sizeof(url), "%s/sgx/certification/v4/rootcacrl", base);
        header = NULL;
        key = "crl_hex";
    } else {
        return;
    }
    e = fetch(url, header, &f, &eb);
    if (!e && header && !f.chain)
        e = vouch_fail(&eb, VOUCH_E_INVALID, "%s: no %s header", url, header);
    if (!e) {
        const char *body = vouch_buf_str(&f.body);

        if (strcmp(key, "crl_data_base64") == 0) {
            char *b64 = vouch_b64_alloc(f.body.data ? f.body.data : (uint8_t *)"", f.body.len,
                                        VOUCH_B64_STD);

            doc = json_pack("{s:s?,s:s}", key, b64, "issuer_chain", f.chain);
            free(b64);
        } else if (header) {
            doc = json_pack("{s:s,s:s}", key, body, "issuer_chain", f.chain);
        } else {
            doc = json_pack("{s:s}", key, body);
        }
        text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        e = text ? vouch_collateral_import_json(app->store, app->dcap_root, text, strlen(text),
                                                vouch_app_now(app), &report, &eb)
                 : vouch_fail(&eb, VOUCH_E_NOMEM, "out of memory");
    }
    if (e) {
        vouch_log(VOUCH_LOG_WARN, "collateral refresh failed; keeping the stored copy", "id",
                  id, "error", eb.msg, VOUCH_LOG_END);
    } else {
        const char *action = json_string_value(json_object_get(json_array_get(report, 0),
                                                               "action"));

        snprintf(what, sizeof(what), "%s", action ? action : "?");
        if (action && strcmp(action, "stored") == 0) {
            vouch_collateral_invalidate(app->collateral);
            vouch_pccs_cache_clear(app->pccs);
        }
        vouch_log(VOUCH_LOG_INFO, "collateral refreshed", "id", id, "action", what,
                  VOUCH_LOG_END);
    }
    json_decref(report);
    json_decref(doc);
    free(text);
    fetch_done(&f);
}

static void refresh_pass(struct vouch_app *app)
{
    struct vouch_store_doc *docs = NULL;
    struct vouch_errbuf eb;
    size_t n = 0, i;

    if (vouch_store_doc_list(app->store, VOUCH_COLLATERAL_KIND, "", 0, 10000, &docs, &n, &eb)) {
        vouch_log(VOUCH_LOG_WARN, "collateral refresh: store", "error", eb.msg, VOUCH_LOG_END);
        return;
    }
    for (i = 0; i < n; i++)
        refresh_one(app, docs[i].id);
    vouch_store_docs_free(docs, n);
}

static void *loop(void *arg)
{
    struct vouch_refresher *r = arg;
    struct timespec until;

    for (;;) {
        refresh_pass(r->app);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += r->app->cfg.pccs_refresh;
        pthread_mutex_lock(&r->lock);
        while (!r->stop && pthread_cond_timedwait(&r->cond, &r->lock, &until) != ETIMEDOUT)
            ;
        if (r->stop) {
            pthread_mutex_unlock(&r->lock);
            break;
        }
        pthread_mutex_unlock(&r->lock);
    }
    return NULL;
}

vouch_err vouch_refresher_start(struct vouch_app *app, struct vouch_refresher **ret,
                                struct vouch_errbuf *eb)
{
    struct vouch_refresher *r = calloc(1, sizeof(*r));

    if (!r)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    r->app = app;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    if (pthread_create(&r->thread, NULL, loop, r) != 0) {
        free(r);
        return vouch_fail(eb, VOUCH_E_INTERNAL, "cannot start the refresh thread");
    }
    *ret = r;
    return VOUCH_OK;
}

void vouch_refresher_stop(struct vouch_refresher *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    free(r);
}
