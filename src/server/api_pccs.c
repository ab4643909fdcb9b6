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
 *   GET  /admin/collateral  (admin) what is stored: {"documents": [{"id",
 *                           "issue_date", "next_update", "updated_at"}]}
 * Bodies are the stored bytes; headers as Intel sends them.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "collateral/collateral.h"
#include "common/buf.h"
#include "common/cache.h"
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

/* A stored document prepared for serving: what every GET of it sends. */
struct prepared {
    char id[96];
    char *body;
    size_t body_len;
    char *hex;             /* hex text of the body (CRLs), or NULL */
    char etag[72];
    char *chain;           /* URL-encoded issuer chain, or NULL */
    int64_t expires_at;
};

/*
 * Prepared responses by document id, in a bounded LRU cache that ages
 * them out after VOUCH_COLLATERAL_TTL_SECONDS (time in microseconds).
 */
#define PREPARED_MAX 256
#define PREPARED_MAX_BYTES (64u << 20)

struct vouch_pccs_cache {
    struct vouch_cache *c;
};

static void prepared_free(void *v)
{
    struct prepared *p = v;

    if (!p)
        return;
    free(p->body);
    free(p->hex);
    free(p->chain);
    free(p);
}

void vouch_pccs_cache_clear(struct vouch_pccs_cache *c)
{
    vouch_cache_clear(c->c);
}

void vouch_pccs_cache_free(struct vouch_pccs_cache *c)
{
    if (!c)
        return;
    vouch_cache_free(c->c);
    free(c);
}

vouch_err vouch_pccs_cache_new(struct vouch_pccs_cache **ret)
{
    const struct vouch_cache_config cfg = { "pccs_responses", PREPARED_MAX, PREPARED_MAX_BYTES,
                                            VOUCH_COLLATERAL_TTL_SECONDS * 1000000ll,
                                            prepared_free };
    struct vouch_pccs_cache *c = calloc(1, sizeof(*c));

    if (!c)
        return VOUCH_E_NOMEM;
    if (vouch_cache_new(&cfg, &c->c, NULL)) {
        free(c);
        return VOUCH_E_NOMEM;
    }
    *ret = c;
    return VOUCH_OK;
}

static vouch_err prepare(struct vouch_app *app, const char *id, struct prepared **ret,
                         struct vouch_errbuf *eb)
{
    struct vouch_store_doc *d = NULL;
    struct prepared *p;
    json_t *meta;
    uint8_t h[32];
    char hex[65];
    vouch_err e;

    e = vouch_collateral_get(app->store, id, &d, eb);
    if (e)
        return e;
    p = calloc(1, sizeof(*p));
    if (!p) {
        vouch_store_doc_free(d);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    snprintf(p->id, sizeof(p->id), "%s", id);
    p->body = (char *)d->body;
    p->body_len = d->body_len;
    d->body = NULL;
    p->expires_at = d->expires_at;
    if (strncmp(id, "tcb/", 4) && strncmp(id, "qe/", 3))
        p->hex = vouch_hex_alloc(p->body, p->body_len);
    vouch_hash(VOUCH_HASH_SHA256, p->body, p->body_len, h);
    vouch_hex_encode(h, 16, hex);
    snprintf(p->etag, sizeof(p->etag), "\"%s\"", hex);
    meta = d->meta ? json_loads(d->meta, 0, NULL) : NULL;
    if (json_is_string(json_object_get(meta, "chain")))
        p->chain = url_encode(json_string_value(json_object_get(meta, "chain")));
    json_decref(meta);
    vouch_store_doc_free(d);
    *ret = p;
    return VOUCH_OK;
}

/* What a prepared response weighs against PREPARED_MAX_BYTES. */
static size_t prepared_cost(const struct prepared *p)
{
    size_t n = sizeof(*p) + p->body_len;

    if (p->hex)
        n += 2 * p->body_len;
    if (p->chain)
        n += strlen(p->chain);
    return n;
}

/* The prepared response for id: a reference from the cache, prepared on a miss. */
static vouch_err prepared_get(struct vouch_app *app, const char *id,
                              struct vouch_cache_entry **ret, struct vouch_errbuf *eb)
{
    struct vouch_cache *c = app->pccs->c;
    int64_t now_us = (int64_t)vouch_clock_us();
    struct vouch_cache_entry *ce;
    struct prepared *p = NULL;
    vouch_err e;

    ce = vouch_cache_get(c, id, strlen(id), now_us);
    if (ce) {
        *ret = ce;
        return VOUCH_OK;
    }
    e = prepare(app, id, &p, eb);
    if (e)
        return e;
    e = vouch_cache_put(c, id, strlen(id), p, prepared_cost(p), now_us, VOUCH_CACHE_NEVER, &ce);
    if (e)
        return vouch_fail(eb, e, "out of memory");
    *ret = ce;
    return VOUCH_OK;
}

/*
 * Send a stored document: body, issuer-chain header, ETag from its hash and
 * Cache-Control from its nextUpdate; 304 on a matching If-None-Match.
 * Prepared responses are reused for VOUCH_COLLATERAL_TTL_SECONDS.
 */
void vouch_api_send_collateral(struct vouch_app *app, const struct vouch_http_req *req,
                               struct vouch_http_resp *resp, const char *id,
                               const char *chain_header, const char *ctype, int as_hex)
{
    struct vouch_cache_entry *ce = NULL;
    const struct prepared *p;
    struct vouch_errbuf eb;
    char cache[64];
    const char *inm;
    int64_t left;
    vouch_err e;

    e = prepared_get(app, id, &ce, &eb);
    if (e == VOUCH_E_NOT_FOUND) {
        vouch_http_fail(resp, VOUCH_SCOPE_COLLATERAL, e, VOUCH_SUB_NONE, NULL, NULL,
                        "no %s in the collateral store", id);
        return;
    }
    if (e) {
        vouch_http_fail_eb(resp, VOUCH_SCOPE_COLLATERAL, e, &eb, NULL);
        return;
    }
    /* The reference keeps p alive while the response is built, whatever the cache does. */
    p = vouch_cache_value(ce);
    inm = vouch_http_header(req, "If-None-Match");
    if (__builtin_sub_overflow(p->expires_at, vouch_clock_now(), &left))
        left = p->expires_at > 0 ? INT64_MAX : -1;
    snprintf(cache, sizeof(cache), left > 0 ? "public, max-age=%lld" : "no-cache",
             (long long)(left > 86400 ? 86400 : left));
    if (inm && strcmp(inm, p->etag) == 0)
        resp->status = 304;
    else if (as_hex && p->hex)
        vouch_http_text(resp, 200, ctype, p->hex, strlen(p->hex));
    else
        vouch_http_text(resp, 200, ctype, p->body, p->body_len);
    vouch_http_resp_header(resp, "ETag", p->etag);
    vouch_http_resp_header(resp, "Cache-Control", cache);
    if (chain_header && p->chain)
        vouch_http_resp_header(resp, chain_header, p->chain);
    vouch_cache_release(ce);
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
    vouch_api_send_collateral(app, req, resp, id,
                              v == 3 ? "SGX-TCB-Info-Issuer-Chain" : "TCB-Info-Issuer-Chain",
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
    vouch_api_send_collateral(app, req, resp, id, "SGX-Enclave-Identity-Issuer-Chain",
                              "application/json", 0);
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
    vouch_api_send_collateral(app, req, resp,
                              strcasecmp(ca, "platform") == 0 ? "pckcrl/platform"
                                                              : "pckcrl/processor",
                              "SGX-PCK-CRL-Issuer-Chain",
                              der ? "application/pkix-crl" : "application/x-pem-file", !der);
}

/*
 * A hex query parameter of `min`..`max` characters (even; min 0 = optional),
 * upper-cased into `out` of `out_size` bytes.  The length is checked against
 * both `max` and `out_size` before a byte is copied.
 */
static bool hex_param(const struct vouch_http_req *req, struct vouch_http_resp *resp,
                      const char *name, size_t min, size_t max, char *out, size_t out_size)
{
    const char *v = vouch_http_query(req, name);
    size_t n, i;

    if (!v && min == 0) {
        out[0] = '\0';
        return true;
    }
    n = v ? strnlen(v, max + 1) : 0;
    if (!v || n > max || n >= out_size || n < (min ? min : 2) || n % 2)
        goto bad;
    for (i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)v[i]))
            goto bad;
        out[i] = (char)toupper((unsigned char)v[i]);
    }
    out[n] = '\0';
    return true;
bad:
    if (min == max)
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", name,
                           "%s must be %zu hex characters", name, max);
    else
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", name,
                           "%s must be hex, an even number of 2-%zu characters", name, max);
    return false;
}

/* hex_param into a char array, whose size bounds the value. */
#define HEX_PARAM(req, resp, name, min, arr) \
    hex_param(req, resp, name, min, sizeof(arr) - 1, arr, sizeof(arr))

/*
 * GET /sgx/certification/v3|v4/pckcert?qeid|encrypted_ppid&cpusvn&pcesvn&pceid:
 * the imported PCK certificate for that platform and raw TCB, with Intel's
 * headers.  PCCS looks the platform up by qeid, Intel's PCS by
 * encrypted_ppid; either will do.
 */
void vouch_api_pccs_pckcert(struct vouch_app *app, const struct vouch_http_req *req,
                            struct vouch_http_resp *resp)
{
    char qeid[261], eppid[769], cpusvn_hex[33], pcesvn_hex[5], pceid[5];
    struct vouch_store_doc *d = NULL;
    struct vouch_errbuf eb;
    uint8_t cpusvn[16], pcesvn[2];
    json_t *meta = NULL;
    char *chain = NULL;
    vouch_err e;

    if (!HEX_PARAM(req, resp, "qeid", 0, qeid) ||
        !HEX_PARAM(req, resp, "encrypted_ppid", 0, eppid) ||
        !HEX_PARAM(req, resp, "cpusvn", 32, cpusvn_hex) ||
        !HEX_PARAM(req, resp, "pcesvn", 4, pcesvn_hex) ||
        !HEX_PARAM(req, resp, "pceid", 4, pceid))
        return;
    if (!qeid[0] && !eppid[0]) {
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", "qeid",
                           "give qeid (as PCCS clients do) or encrypted_ppid");
        return;
    }
    vouch_hex_decode_exact(cpusvn_hex, 32, cpusvn, 16, NULL);
    vouch_hex_decode_exact(pcesvn_hex, 4, pcesvn, 2, NULL);
    e = vouch_collateral_pckcert(app->store, qeid[0] ? qeid : NULL, eppid[0] ? eppid : NULL,
                                 pceid, cpusvn, (unsigned)pcesvn[0] | (unsigned)pcesvn[1] << 8,
                                 &d, &eb);
    if (e) {
        vouch_http_fail_eb(resp, VOUCH_SCOPE_COLLATERAL, e, &eb, NULL);
        return;
    }
    meta = d->meta ? json_loads(d->meta, 0, NULL) : NULL;
    chain = url_encode(json_is_string(json_object_get(meta, "chain")) ? json_string_value(json_object_get(meta, "chain")) : "");
    if (!chain || !json_is_string(json_object_get(meta, "tcbm")) ||
        !json_is_string(json_object_get(meta, "fmspc")) ||
        !json_is_string(json_object_get(meta, "ca"))) {
        vouch_http_fail(resp, VOUCH_SCOPE_COLLATERAL, VOUCH_E_INTERNAL, VOUCH_SUB_NONE, NULL,
                        NULL, "stored PCK certificate lacks its metadata");
        goto out;
    }
    vouch_http_text(resp, 200, "application/x-pem-file", (const char *)d->body, d->body_len);
    vouch_http_resp_header(resp, "SGX-PCK-Certificate-Issuer-Chain", chain);
    vouch_http_resp_header(resp, "SGX-TCBm", json_string_value(json_object_get(meta, "tcbm")));
    vouch_http_resp_header(resp, "SGX-FMSPC", json_string_value(json_object_get(meta, "fmspc")));
    vouch_http_resp_header(resp, "SGX-PCK-Certificate-CA-Type",
                           json_string_value(json_object_get(meta, "ca")));
out:
    free(chain);
    json_decref(meta);
    vouch_store_doc_free(d);
}

void vouch_api_pccs_rootcacrl(struct vouch_app *app, const struct vouch_http_req *req,
                              struct vouch_http_resp *resp)
{
    /* PCCS returns the hex text of the DER CRL here. */
    vouch_api_send_collateral(app, req, resp, "rootcacrl", NULL, "application/pkix-crl", 1);
}

void vouch_api_pccs_fmspcs(struct vouch_app *app, const struct vouch_http_req *req,
                           struct vouch_http_resp *resp)
{
    struct vouch_store_doc *docs = NULL;
    struct vouch_errbuf eb;
    json_t *arr = json_array(), *seen = json_object();
    size_t n = 0, i;
    vouch_err e;

    (void)req;
    e = vouch_store_doc_list(app->store, VOUCH_COLLATERAL_KIND, "tcb/", 0, 100000, &docs, &n,
                             &eb);
    if (e) {
        json_decref(arr);
        json_decref(seen);
        vouch_http_fail_eb(resp, VOUCH_SCOPE_COLLATERAL, e, &eb, NULL);
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

/*
 * POST /admin/collateral: QuoteCollateralV3 JSON, PCS responses, or a
 * bundle; or AMD KDS collateral (a VCEK, cert_chain or CRL as KDS answers it).
 */
void vouch_api_admin_collateral(struct vouch_app *app, const struct vouch_http_req *req,
                                struct vouch_http_resp *resp)
{
    struct vouch_errbuf eb;
    json_t *report = NULL;
    vouch_err e;

    if (req->body_len == 0) {
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_JSON", NULL,
                           "the body must be collateral JSON, or AMD KDS collateral");
        return;
    }
    e = vouch_collateral_import(app->store, app->dcap_root, req->body, req->body_len,
                                vouch_app_now(app), &report, &eb);
    if (e) {
        vouch_http_fail(resp, VOUCH_SCOPE_COLLATERAL_IMPORT, e, eb.sub, NULL, NULL,
                        "rejected, nothing stored: %s", eb.msg);
        return;
    }
    /* This replica verifies and serves the new documents at once. */
    vouch_collateral_invalidate(app->collateral);
    vouch_amd_collateral_invalidate(app->amd);
    vouch_pccs_cache_clear(app->pccs);
    vouch_http_audit_target(resp, "%zu documents", json_is_array(report) ?
                            json_array_size(report) : (size_t)1);
    vouch_http_json(resp, 200, json_pack("{s:o}", "documents", report));
}

/* GET /admin/collateral: every stored document's id and validity window, no bodies. */
void vouch_api_admin_collateral_list(struct vouch_app *app, const struct vouch_http_req *req,
                                     struct vouch_http_resp *resp)
{
    struct vouch_store_doc *docs = NULL;
    char when[VOUCH_RFC3339_LEN];
    struct vouch_errbuf eb;
    json_t *arr = json_array(), *row, *meta;
    size_t n = 0, i;
    vouch_err e;

    (void)req;
    e = vouch_store_doc_list(app->store, VOUCH_COLLATERAL_KIND, "", 0, 100000, &docs, &n, &eb);
    if (e || !arr) {
        json_decref(arr);
        vouch_http_fail_eb(resp, VOUCH_SCOPE_COLLATERAL, e ? e : VOUCH_E_NOMEM, &eb, NULL);
        return;
    }
    for (i = 0; i < n; i++) {
        meta = NULL;
        if (docs[i].meta)
            (void)vouch_json_parse(docs[i].meta, strlen(docs[i].meta), &meta, NULL);
        vouch_time_format_rfc3339(docs[i].updated_at, when);
        row = json_pack("{s:s,s:O?,s:O?,s:s}", "id", docs[i].id,
                        "issue_date", json_object_get(meta, "issue_date"),
                        "next_update", json_object_get(meta, "next_update"),
                        "updated_at", when);
        json_decref(meta);
        json_array_append_new(arr, row);
    }
    vouch_store_docs_free(docs, n);
    vouch_http_json(resp, 200, json_pack("{s:o}", "documents", arr));
    vouch_http_resp_header(resp, "Cache-Control", "no-store");
}
