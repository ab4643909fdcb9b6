/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "collateral/collateral.h"
#include "common/buf.h"
#include "common/codec.h"
#include "common/json.h"
#include "common/log.h"
#include "common/time.h"
#include "net/http_client.h"
#include "server/job.h"
#include "server/refresh.h"

struct vouch_refresher {
    struct vouch_app *app;
    /* The lease that makes one replica of a database the one that refreshes. */
    struct vouch_job *job;
    int64_t next_pass;
};

#define REFRESH_LEASE "pccs-refresh"
/* The lease lasts three refresh periods, within these bounds (job.h):
 * a replica that dies is replaced within ttl + ttl/3. */
#define LEASE_TTL_MIN_MS 3000
#define LEASE_TTL_MAX_MS 60000

#define UPSTREAM_BODY_MAX (4u << 20)

/* Intel URL-encodes the PEM issuer chain in its headers. */
static char *percent_decode(const char *s)
{
    size_t n = strlen(s), i;
    char *out = malloc(n + 1), *o = out;

    if (!out)
        return NULL;
    for (i = 0; i < n; i++) {
        uint8_t b;

        if (s[i] == '%' && i + 2 < n &&
            vouch_hex_decode_exact(s + i + 1, 2, &b, 1, NULL) == VOUCH_OK) {
            *o++ = (char)b;
            i += 2;
            continue;
        }
        *o++ = s[i];
    }
    *o = '\0';
    return out;
}

/* The upstream answer as the collateral importer's JSON: {key: body, "issuer_chain"}. */
static json_t *import_doc(const char *key, const struct vouch_buf *body, const char *chain)
{
    json_t *doc;
    char *b64;

    if (strcmp(key, "crl_data_base64") == 0) {
        b64 = vouch_b64_alloc(body->data ? body->data : (const uint8_t *)"", body->len,
                              VOUCH_B64_STD);
        doc = json_pack("{s:s?,s:s?}", key, b64, "issuer_chain", chain);
        free(b64);
        return doc;
    }
    if (chain)
        return json_pack("{s:s,s:s}", key, vouch_buf_str(body), "issuer_chain", chain);
    return json_pack("{s:s}", key, vouch_buf_str(body));
}

/*
 * Fetch the upstream copy of stored document `id` and import it, if this
 * replica still holds the lease once the fetch is done.  The
 * import verifies it and keeps whichever of the two is newer.
 */
static void refresh_one(struct vouch_refresher *r, struct vouch_job *j, const char *id)
{
    struct vouch_app *app = r->app;
    const char *base = app->cfg.pccs_upstream, *header, *key;
    char url[1024], tee[4], fmspc[13], what[200];
    struct vouch_errbuf eb;
    struct vouch_http_request req = { .max = UPSTREAM_BODY_MAX };
    struct vouch_http_response f;
    json_t *doc = NULL, *report = NULL;
    char *text = NULL, *chain = NULL;
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
    req.url = url;
    req.want_header = header;
    e = vouch_http_fetch(&req, &f, &eb);
    if (!e && header && !f.header)
        e = vouch_fail(&eb, VOUCH_E_INVALID, "%s: no %s header", url, header);
    if (!e && header && !(chain = percent_decode(f.header)))
        e = vouch_fail(&eb, VOUCH_E_NOMEM, "out of memory");
    if (!e && !vouch_job_hold(j))
        e = vouch_fail(&eb, VOUCH_E_CONFLICT, "another replica holds the refresh lease");
    if (!e) {
        doc = import_doc(key, &f.body, chain);
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
    free(chain);
    vouch_http_response_done(&f);
}

static void refresh_pass(struct vouch_refresher *r, struct vouch_job *j)
{
    struct vouch_app *app = r->app;
    struct vouch_store_doc *docs = NULL;
    struct vouch_errbuf eb;
    size_t n = 0, i;

    if (vouch_store_doc_list(app->store, VOUCH_COLLATERAL_KIND, "", 0, 10000, &docs, &n, &eb)) {
        vouch_log(VOUCH_LOG_WARN, "collateral refresh: store", "error", eb.msg, VOUCH_LOG_END);
        return;
    }
    for (i = 0; i < n && vouch_job_held(j); i++)
        refresh_one(r, j, docs[i].id);
    vouch_store_docs_free(docs, n);
}

/* Every third of the lease, while it is held: a pass every --pccs-refresh seconds. */
static void refresh_tick(struct vouch_job *j, void *arg)
{
    struct vouch_refresher *r = arg;
    int64_t now = vouch_job_wall_ms();

    if (now < r->next_pass)
        return;
    refresh_pass(r, j);
    r->next_pass = now + r->app->cfg.pccs_refresh * 1000;
}

vouch_err vouch_refresher_start(struct vouch_app *app, struct vouch_refresher **ret,
                                struct vouch_errbuf *eb)
{
    struct vouch_refresher *r = calloc(1, sizeof(*r));
    struct vouch_job_spec spec = { .lease = REFRESH_LEASE, .label = "collateral refresh",
                                   .run = refresh_tick };
    struct vouch_job *j = NULL;
    vouch_err e;

    if (!r)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    r->app = app;
    spec.arg = r;
    spec.ttl_ms = app->cfg.pccs_refresh > LEASE_TTL_MAX_MS / 3000 ? LEASE_TTL_MAX_MS
                                                                   : app->cfg.pccs_refresh * 3000;
    if (spec.ttl_ms < LEASE_TTL_MIN_MS)
        spec.ttl_ms = LEASE_TTL_MIN_MS;
    e = vouch_job_start(app->store, &spec, &j, eb);
    if (e) {
        free(r);
        return e;
    }
    r->job = j;
    *ret = r;
    return VOUCH_OK;
}

void vouch_refresher_stop(struct vouch_refresher *r)
{
    if (!r)
        return;
    vouch_job_stop(r->job);
    free(r);
}
