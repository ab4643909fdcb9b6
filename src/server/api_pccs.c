/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Intel PCS/PCCS-compatible collateral API, served from the store:
 *   GET /sgx/certification/v3|v4/tcb?fmspc=&update=     TCB Info v2 (v3 path) or v3 (v4 path)
 *   GET /tdx/certification/v4/tcb?fmspc=
 *   GET /sgx/certification/v3|v4/qe/identity, /qve/identity, /tdx/certification/v4/qe/identity
 *   GET /sgx/certification/v3|v4/pckcrl?ca=platform|processor[&encoding=der]
 *   GET /sgx/certification/v3|v4/rootcacrl
 *   GET /sgx/certification/v4/fmspcs
 *   POST /admin/collateral  (admin) import
 * Bodies are the stored bytes; headers as Intel sends them.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "collateral/collateral.h"
#include "common/buf.h"
#include "common/codec.h"
#include "common/json.h"
#include "common/time.h"
#include "crypto/digest.h"
#include "server/api.h"

/* Percent-encode as encodeURIComponent does (what Intel's headers carry). */
static char *url_encode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    struct vouch_buf b = VOUCH_BUF_INIT(64 * 1024);

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (isalnum(c) || strchr("-_.!~*'()", c))
            vouch_buf_putc(&b, c);
        else {
            vouch_buf_putc(&b, '%');
            vouch_buf_putc(&b, (uint8_t)hex[c >> 4]);
            vouch_buf_putc(&b, (uint8_t)hex[c & 15]);
        }
    }
    return (char *)vouch_buf_steal(&b, NULL);
}

/* The path's API version (3 or 4) from ".../certification/vN/...". */
static int api_version(const char *path)
{
    const char *p = strstr(path, "/certification/v");

    return p ? p[16] - '0' : 0;
}

static bool update_ok(const struct vouch_http_req *req, struct vouch_http_resp *resp)
{
    const char *u = vouch_http_query(req, "update");

    if (!u || strcmp(u, "standard") == 0 || strcmp(u, "early") == 0)
        return true;
    vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", "update",
                       "update must be 'standard' or 'early'");
    return false;
}

/*
 * Send a stored document: body, issuer-chain header, ETag from its hash and
 * Cache-Control from its nextUpdate; 304 on a matching If-None-Match.
 */
static void send_doc(struct vouch_app *app, const struct vouch_http_req *req,
                     struct vouch_http_resp *resp, const char *id, const char *chain_header,
                     const char *ctype, int as_hex)
{
    struct vouch_store_doc *d = NULL;
    struct vouch_errbuf eb;
    uint8_t h[32];
    char etag[72], hex[65], cache[64];
    const char *inm;
    json_t *meta;
    int64_t left;
    vouch_err e;

    e = vouch_collateral_get(app->store, id, &d, &eb);
    if (e == VOUCH_E_NOT_FOUND) {
        vouch_http_problem(resp, 404, "VOUCH.COLLATERAL.NOT_FOUND", NULL,
                           "no %s in the collateral store", id);
        return;
    }
    if (e) {
        vouch_http_problem(resp, 503, "VOUCH.DEPENDENCY.UNAVAILABLE", NULL, "%s", eb.msg);
        return;
    }
    vouch_hash(VOUCH_HASH_SHA256, d->body, d->body_len, h);
    vouch_hex_encode(h, 16, hex);
    snprintf(etag, sizeof(etag), "\"%s\"", hex);
    inm = vouch_http_header(req, "If-None-Match");
    left = d->expires_at - vouch_clock_now();
    snprintf(cache, sizeof(cache), left > 0 ? "public, max-age=%lld" : "no-cache",
             (long long)(left > 86400 ? 86400 : left));
    if (inm && strcmp(inm, etag) == 0) {
        resp->status = 304;
    } else if (as_hex) {
        char *text = vouch_hex_alloc(d->body, d->body_len);

        vouch_http_text(resp, 200, ctype, text ? text : "", text ? strlen(text) : 0);
        free(text);
    } else {
        vouch_http_text(resp, 200, ctype, (const char *)d->body, d->body_len);
    }
    vouch_http_resp_header(resp, "ETag", etag);
    vouch_http_resp_header(resp, "Cache-Control", cache);
    meta = d->meta ? json_loads(d->meta, 0, NULL) : NULL;
    if (chain_header && json_is_string(json_object_get(meta, "chain"))) {
        char *enc = url_encode(json_string_value(json_object_get(meta, "chain")));

        if (enc)
            vouch_http_resp_header(resp, chain_header, enc);
        free(enc);
    }
    json_decref(meta);
    vouch_store_doc_free(d);
}

void vouch_api_pccs_tcb(struct vouch_app *app, const struct vouch_http_req *req,
                        struct vouch_http_resp *resp)
{
    const char *fmspc = vouch_http_query(req, "fmspc");
    int v = api_version(req->path);
    char id[64], up[13];
    size_t i;

    if (!fmspc || strlen(fmspc) != 12) {
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", "fmspc",
                           "fmspc must be 12 hex characters");
        return;
    }
    for (i = 0; i < 12; i++) {
        if (!isxdigit((unsigned char)fmspc[i])) {
            vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", "fmspc",
                               "fmspc must be 12 hex characters");
            return;
        }
        up[i] = (char)toupper((unsigned char)fmspc[i]);
    }
    up[12] = '\0';
    if (!update_ok(req, resp))
        return;
    /* API v3 serves TCB Info version 2; v4 serves version 3. */
    snprintf(id, sizeof(id), "tcb/%s/%s/v%d", strncmp(req->path, "/tdx/", 5) ? "sgx" : "tdx", up,
             v == 3 ? 2 : 3);
    send_doc(app, req, resp, id, v == 3 ? "SGX-TCB-Info-Issuer-Chain" : "TCB-Info-Issuer-Chain",
             "application/json", 0);
}

void vouch_api_pccs_identity(struct vouch_app *app, const struct vouch_http_req *req,
                             struct vouch_http_resp *resp)
{
    const char *id = strncmp(req->path, "/tdx/", 5) == 0 ? "qe/TD_QE"
                     : strstr(req->path, "/qve/") ? "qe/QVE"
                     : strstr(req->path, "/qae/") ? "qe/QAE" : "qe/QE";

    if (!update_ok(req, resp))
        return;
    send_doc(app, req, resp, id, "SGX-Enclave-Identity-Issuer-Chain", "application/json", 0);
}

void vouch_api_pccs_pckcrl(struct vouch_app *app, const struct vouch_http_req *req,
                           struct vouch_http_resp *resp)
{
    const char *ca = vouch_http_query(req, "ca"), *enc = vouch_http_query(req, "encoding");
    bool der;

    if (!ca || (strcasecmp(ca, "platform") && strcasecmp(ca, "processor"))) {
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", "ca",
                           "ca must be 'platform' or 'processor'");
        return;
    }
    if (enc && strcmp(enc, "der") && strcmp(enc, "pem")) {
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", "encoding",
                           "encoding must be 'der' or 'pem'");
        return;
    }
    der = enc && strcmp(enc, "der") == 0;
    /* Like Intel's PCCS: DER when asked for, otherwise the hex text of the DER. */
    send_doc(app, req, resp, strcasecmp(ca, "platform") == 0 ? "pckcrl/platform"
                                                              : "pckcrl/processor",
             "SGX-PCK-CRL-Issuer-Chain", der ? "application/pkix-crl" : "application/x-pem-file",
             !der);
}

void vouch_api_pccs_rootcacrl(struct vouch_app *app, const struct vouch_http_req *req,
                              struct vouch_http_resp *resp)
{
    /* PCCS returns the hex text of the DER CRL here. */
    send_doc(app, req, resp, "rootcacrl", NULL, "application/pkix-crl", 1);
}

void vouch_api_pccs_fmspcs(struct vouch_app *app, const struct vouch_http_req *req,
                           struct vouch_http_resp *resp)
{
    struct vouch_store_doc *docs = NULL;
    struct vouch_errbuf eb;
    json_t *arr = json_array(), *seen = json_object();
    size_t n = 0, i;

    (void)req;
    if (vouch_store_doc_list(app->store, VOUCH_COLLATERAL_KIND, "tcb/", 0, 100000, &docs, &n,
                             &eb)) {
        json_decref(arr);
        json_decref(seen);
        vouch_http_problem(resp, 503, "VOUCH.DEPENDENCY.UNAVAILABLE", NULL, "%s", eb.msg);
        return;
    }
    for (i = 0; i < n; i++) {
        /* tcb/{tee}/{FMSPC}/vN */
        char fm[13];

        if (strlen(docs[i].id) < 20)
            continue;
        memcpy(fm, docs[i].id + 8, 12);
        fm[12] = '\0';
        if (json_object_get(seen, fm))
            continue;
        json_object_set_new(seen, fm, json_true());
        json_array_append_new(arr, json_pack("{s:s,s:s}", "fmspc", fm, "platform", "all"));
    }
    vouch_store_docs_free(docs, n);
    json_decref(seen);
    vouch_http_json(resp, 200, arr);
}

/* POST /admin/collateral: QuoteCollateralV3 JSON, PCS responses, or a bundle. */
void vouch_api_admin_collateral(struct vouch_app *app, const struct vouch_http_req *req,
                                struct vouch_http_resp *resp)
{
    struct vouch_errbuf eb;
    json_t *report = NULL;
    vouch_err e;

    if (req->body_len == 0) {
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_JSON", NULL,
                           "the body must be collateral JSON");
        return;
    }
    e = vouch_collateral_import_json(app->store, app->dcap_root, (const char *)req->body,
                                     req->body_len, vouch_app_now(app), &report, &eb);
    if (e == VOUCH_E_STORE || e == VOUCH_E_NOMEM) {
        vouch_http_problem(resp, 503, "VOUCH.DEPENDENCY.UNAVAILABLE", NULL, "%s", eb.msg);
        return;
    }
    if (e) {
        vouch_http_problem(resp, strstr(eb.msg, "invalid JSON") ? 400 : 422,
                           strstr(eb.msg, "invalid JSON") ? "VOUCH.REQUEST.INVALID_JSON"
                                                          : "VOUCH.COLLATERAL.INVALID",
                           NULL, "rejected, nothing stored: %s", eb.msg);
        return;
    }
    /* This replica verifies with the new documents at once. */
    vouch_collateral_invalidate(app->collateral);
    vouch_http_json(resp, 200, json_pack("{s:o}", "documents", report));
}
