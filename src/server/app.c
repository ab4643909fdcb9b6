/* SPDX-License-Identifier: Apache-2.0 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/codec.h"
#include "common/log.h"
#include "common/time.h"
#include "crypto/digest.h"
#include "server/api.h"
#include "server/app.h"
#include "server/metrics.h"
#include "server/replay.h"
#include "net/http_client.h"
#include "server/vtpm.h"
#include "token/challenge.h"
#include "token/secrets.h"

#define ADMIN_HASH_KEY "admin_token_sha256"

static vouch_err admin_token_setup(struct vouch_app *app, char **ret_new,
                                   struct vouch_errbuf *eb)
{
    uint8_t raw[32];
    char *token = NULL, *stored = NULL;
    char hex[65];
    vouch_err e;

    *ret_new = NULL;
    if (app->cfg.admin_token)
        return vouch_hash(VOUCH_HASH_SHA256, app->cfg.admin_token,
                          strlen(app->cfg.admin_token), app->admin_hash);
    e = vouch_store_meta_get(app->store, ADMIN_HASH_KEY, &stored, eb);
    if (e == VOUCH_E_NOT_FOUND) {
        if (RAND_bytes(raw, sizeof(raw)) != 1)
            return vouch_fail(eb, VOUCH_E_INTERNAL, "no randomness for the admin token");
        token = vouch_b64_alloc(raw, sizeof(raw), VOUCH_B64URL);
        if (!token)
            return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        e = vouch_hash(VOUCH_HASH_SHA256, token, strlen(token), app->admin_hash);
        vouch_hex_encode(app->admin_hash, 32, hex);
        if (!e)
            e = vouch_store_meta_insert(app->store, ADMIN_HASH_KEY, hex, eb);
        if (e == VOUCH_E_CONFLICT) {
            /* Another replica generated one first; use (and don't show) theirs. */
            free(token);
            token = NULL;
            e = vouch_store_meta_get(app->store, ADMIN_HASH_KEY, &stored, eb);
        } else if (!e) {
            *ret_new = token;
            return VOUCH_OK;
        }
    }
    if (e) {
        free(token);
        return e;
    }
    e = vouch_hex_decode_exact(stored, strlen(stored), app->admin_hash, 32, eb);
    free(stored);
    if (e)
        return vouch_fail_prefix(eb, e, "stored admin token hash: ");
    return VOUCH_OK;
}

/*
 * The key-encryption key (--kek-file): load it, wrap the secrets stored in
 * clear before it was configured, and refuse secrets wrapped under another
 * KEK.  Without one, say once that secrets are stored in clear.
 */
static vouch_err kek_setup(struct vouch_app *app, struct vouch_errbuf *eb)
{
    size_t wrapped = 0;
    char n[24];
    vouch_err e;

    if (!app->cfg.kek_file) {
        vouch_log(VOUCH_LOG_WARN, "no --kek-file: signing keys and the challenge secret are "
                  "stored in clear in the database", VOUCH_LOG_END);
        return VOUCH_OK;
    }
    app->kek = calloc(1, sizeof(*app->kek));
    if (!app->kek)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    e = vouch_kek_load_file(app->cfg.kek_file, app->kek, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "--kek-file: ");
    e = vouch_secrets_rewrap(app->store, app->kek, app->kek, &wrapped, eb);
    if (e == VOUCH_E_CONFLICT)   /* another replica wrapped them meanwhile */
        e = vouch_secrets_rewrap(app->store, app->kek, app->kek, &wrapped, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "stored secrets: ");
    if (wrapped) {
        snprintf(n, sizeof(n), "%zu", wrapped);
        vouch_log(VOUCH_LOG_INFO, "wrapped the secrets stored in clear", "count", n,
                  "kek_id", app->kek->id_hex, VOUCH_LOG_END);
    }
    return VOUCH_OK;
}

/* A RIM from the configured RIM service: GET <url><id>. */
static vouch_err rim_fetch(void *ctx, const char *id, uint8_t **ret_doc, size_t *ret_len,
                           struct vouch_errbuf *eb)
{
    struct vouch_app *app = ctx;
    const char *base = app->cfg.nvgpu_rim_url;
    struct vouch_http_request req = { .max = 2 * VOUCH_NVGPU_RIM_MAX };
    struct vouch_http_response resp;
    char url[1024];
    vouch_err e;

    snprintf(url, sizeof(url), "%s%s%s", base, base[strlen(base) - 1] == '/' ? "" : "/", id);
    req.url = url;
    e = vouch_http_fetch(&req, &resp, eb);
    if (!e) {
        uint8_t *doc = vouch_buf_steal(&resp.body, ret_len);

        if (doc)
            *ret_doc = doc;
        else
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    vouch_http_response_done(&resp);
    return e;
}

/* A KDS answer from --amd-kds-url: GET <url><path>. */
static vouch_err kds_fetch(void *ctx, const char *path, uint8_t **ret_body, size_t *ret_len,
                           struct vouch_errbuf *eb)
{
    struct vouch_app *app = ctx;
    struct vouch_http_request req = { .max = 64u * 1024 };
    struct vouch_http_response resp;
    char url[1024];
    vouch_err e;

    snprintf(url, sizeof(url), "%s%s", app->cfg.amd_kds_url, path);
    req.url = url;
    e = vouch_http_fetch(&req, &resp, eb);
    if (!e) {
        uint8_t *body = vouch_buf_steal(&resp.body, ret_len);

        if (body)
            *ret_body = body;
        else
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    vouch_http_response_done(&resp);
    return e;
}

static int64_t app_clock(void *ctx)
{
    return vouch_app_now(ctx);
}

/*
 * The collateral services: Intel PCS collateral and RIMs in the store
 * (with the RIM service fetch), behind the PCCS and RIM APIs and handed to
 * verifiers as sources.
 */
static vouch_err collateral_setup(struct vouch_app *app, struct vouch_errbuf *eb)
{
    vouch_err e;

    if (app->cfg.dcap_root) {
        e = vouch_collateral_load_root(app->cfg.dcap_root, &app->dcap_root, eb);
        if (e)
            return vouch_fail_prefix(eb, e, "--dcap-root: ");
    }
    e = vouch_collateral_new(app->store, VOUCH_COLLATERAL_TTL_SECONDS, &app->collateral, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "collateral: ");
    app->kds_fetcher.fetch = app->cfg.amd_kds_url ? kds_fetch : NULL;
    app->kds_fetcher.clock = app_clock;
    app->kds_fetcher.ctx = app;
    e = vouch_amd_collateral_new(app->store, VOUCH_COLLATERAL_TTL_SECONDS, &app->kds_fetcher,
                                 &app->amd, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "AMD collateral: ");
    if (vouch_pccs_cache_new(&app->pccs))
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    e = vouch_rim_roots_load(app->cfg.nvgpu_rim_root, &app->rim_roots, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "--nvgpu-rim-root: ");
    app->rim_fetcher.fetch = app->cfg.nvgpu_rim_url ? rim_fetch : NULL;
    app->rim_fetcher.clock = app_clock;
    app->rim_fetcher.ctx = app;
    e = vouch_rimstore_new(app->store, VOUCH_COLLATERAL_TTL_SECONDS, app->rim_roots,
                           &app->rim_fetcher, &app->rims, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "RIM store: ");
    app->rim_source = vouch_rimstore_source(app->rims);
    app->net.post = vouch_http_post;
    return VOUCH_OK;
}

static const char *host_option(void *ctx, const char *name)
{
    const struct vouch_app *app = ctx;

    return vouch_config_option(&app->cfg, name);
}

static const void *host_source(void *ctx, const char *name)
{
    struct vouch_app *app = ctx;

    if (strcmp(name, VOUCH_SOURCE_PCS_COLLATERAL) == 0)
        return vouch_collateral_source(app->collateral);
    if (strcmp(name, VOUCH_SOURCE_AMD_COLLATERAL) == 0)
        return vouch_amd_collateral_source(app->amd);
    if (strcmp(name, VOUCH_SOURCE_RIMS) == 0)
        return &app->rim_source;
    if (strcmp(name, VOUCH_SOURCE_NET) == 0)
        return &app->net;
    return NULL;
}

static void *host_trust(void *ctx, const char *tee)
{
    return vouch_app_trust(ctx, tee);
}

/* Every registered verifier's trust, set up by its own hook, in registry order. */
static vouch_err verifiers_setup(struct vouch_app *app, struct vouch_errbuf *eb)
{
    const struct vouch_verifier_host host = {
        .option = host_option, .source = host_source, .trust = host_trust, .ctx = app,
    };
    const struct vouch_verifier *v;
    size_t n = 0;
    vouch_err e;

    while (vouch_verifier_at(n))
        n++;
    app->trusts = calloc(n ? n : 1, sizeof(*app->trusts));
    if (!app->trusts)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    for (; (v = vouch_verifier_at(app->n_trusts)); app->n_trusts++) {
        app->trusts[app->n_trusts].verifier = v;
        if (!v->trust_new)
            continue;
        e = v->trust_new(v, &host, &app->trusts[app->n_trusts].trust, eb);
        if (e)
            return vouch_fail_prefix(eb, e, "tee %s: ", v->tee);
    }
    return VOUCH_OK;
}

/* Load the keys once at start, so one that cannot be read fails start. */
static vouch_err keyring_check(struct vouch_app *app, struct vouch_errbuf *eb)
{
    struct vouch_keyring *kr = NULL;
    vouch_err e = vouch_app_keyring(app, true, &kr, eb);

    vouch_keyring_unref(kr);
    return e;
}

void vouch_app_tune_malloc(void)
{
    /* glibc: a fixed mmap threshold also turns off its sliding one, hence both */
    mallopt(M_TRIM_THRESHOLD, VOUCH_MALLOC_TRIM_THRESHOLD);
    mallopt(M_MMAP_THRESHOLD, VOUCH_MALLOC_MMAP_THRESHOLD);
}

vouch_err vouch_app_init(struct vouch_app *app, struct vouch_config *cfg,
                         char **ret_new_admin_token, struct vouch_errbuf *eb)
{
    vouch_err e;
    int alg;

    memset(app, 0, sizeof(*app));
    app->cfg = *cfg;
    memset(cfg, 0, sizeof(*cfg));
    app->routes = vouch_routes;
    app->n_routes = vouch_n_routes;
    pthread_mutex_init(&app->kr_lock, NULL);
    alg = vouch_jws_alg_from_name(app->cfg.token_alg);
    app->token_alg = alg < 0 ? VOUCH_JWS_RS256 : (enum vouch_jws_alg)alg;
    e = vouch_store_open(app->cfg.db_url, &app->store, eb);
    if (!e)
        vouch_store_set_observer(app->store, vouch_metrics_store_op);
    if (e)
        return e;
    e = kek_setup(app, eb);
    if (e)
        return e;
    e = vouch_keyring_ensure(app->store, app->kek, vouch_clock_now(), eb);
    if (!e)
        e = keyring_check(app, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "signing keys: ");
    e = vouch_policies_new(&app->policies, eb);
    if (!e)
        e = vouch_vtpm_whitelists_new(app->store, VOUCH_VTPM_WL_CACHE_ENTRIES,
                                      VOUCH_VTPM_WL_CACHE_BYTES, &app->whitelists, eb);
    if (e)
        return e;
    e = collateral_setup(app, eb);
    if (!e)
        e = verifiers_setup(app, eb);
    if (e)
        return e;
    e = vouch_challenge_secret_setup(app->store, app->kek, app->challenge_secret, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "challenge secret: ");
    e = vouch_vtpm_setup(app, eb);
    if (!e)
        e = vouch_replay_start(app->store, strcmp(vouch_store_backend(app->store), "sqlite") != 0,
                               app->cfg.vtpm_replay_records, app->cfg.vtpm_replay_per_key,
                               vouch_app_now(app) * 1000, &app->replay, eb);
    if (e)
        return e;
    e = admin_token_setup(app, ret_new_admin_token, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "admin token: ");
    return VOUCH_OK;
}

vouch_err vouch_app_set_issuer(struct vouch_app *app, const char *host, uint16_t port,
                               struct vouch_errbuf *eb)
{
    char buf[128];

    free(app->issuer);
    if (app->cfg.issuer) {
        app->issuer = strdup(app->cfg.issuer);
    } else {
        snprintf(buf, sizeof(buf), strchr(host, ':') ? "%s://[%s]:%u" : "%s://%s:%u",
                 app->cfg.tls_cert ? "https" : "http", host, port);
        app->issuer = strdup(buf);
    }
    return app->issuer ? VOUCH_OK : vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
}

void vouch_app_done(struct vouch_app *app)
{
    OPENSSL_cleanse(app->challenge_secret, sizeof(app->challenge_secret));
    vouch_replay_stop(app->replay);     /* after the last request: saves what is queued */
    app->replay = NULL;
    vouch_vtpm_done(app);
    vouch_kek_wipe(app->kek);
    free(app->kek);
    app->kek = NULL;
    vouch_keyring_unref(app->kr);
    app->kr = NULL;
    vouch_policies_free(app->policies);
    app->policies = NULL;
    vouch_vtpm_whitelists_free(app->whitelists);
    app->whitelists = NULL;
    while (app->n_trusts > 0) {
        const struct vouch_app_trust *t = &app->trusts[--app->n_trusts];

        if (t->verifier->trust_free)
            t->verifier->trust_free(t->trust);
    }
    free(app->trusts);
    app->trusts = NULL;
    vouch_collateral_free(app->collateral);
    app->collateral = NULL;
    vouch_amd_collateral_free(app->amd);
    app->amd = NULL;
    X509_free(app->dcap_root);
    app->dcap_root = NULL;
    vouch_pccs_cache_free(app->pccs);
    app->pccs = NULL;
    vouch_rimstore_free(app->rims);
    app->rims = NULL;
    sk_X509_pop_free(app->rim_roots, X509_free);
    app->rim_roots = NULL;
    vouch_store_close(app->store);
    app->store = NULL;
    free(app->issuer);
    app->issuer = NULL;
    vouch_config_free(&app->cfg);
    pthread_mutex_destroy(&app->kr_lock);
}

void *vouch_app_trust(struct vouch_app *app, const char *tee)
{
    size_t i;

    for (i = 0; i < app->n_trusts; i++)
        if (strcmp(app->trusts[i].verifier->tee, tee) == 0)
            return app->trusts[i].trust;
    return NULL;
}

int64_t vouch_app_now(const struct vouch_app *app)
{
    return app->cfg.fixed_time_set ? app->cfg.fixed_time : vouch_clock_now();
}

vouch_err vouch_app_keyring(struct vouch_app *app, bool refresh, struct vouch_keyring **ret,
                            struct vouch_errbuf *eb)
{
    uint64_t now_us = vouch_clock_us();
    struct vouch_keyring *fresh = NULL;
    vouch_err e = VOUCH_OK;

    pthread_mutex_lock(&app->kr_lock);
    if (refresh || !app->kr || now_us - app->kr_loaded_us > VOUCH_KEYRING_TTL_US) {
        /* Keys are published for their tokens' lifetime by the real clock. */
        e = vouch_keyring_load(app->store, app->kek, vouch_clock_now(),
                               app->cfg.token_lifetime + VOUCH_KEY_SKEW_SECONDS, &fresh, eb);
        if (!e) {
            vouch_keyring_unref(app->kr);
            app->kr = fresh;
            app->kr_loaded_us = now_us;
        } else if (app->kr) {
            e = VOUCH_OK; /* the store hiccuped: keep serving the last good keys */
        }
    }
    if (!e)
        *ret = vouch_keyring_ref(app->kr);
    pthread_mutex_unlock(&app->kr_lock);
    return e;
}

void vouch_app_dispatch(struct vouch_app *app, struct vouch_http_req *req,
                        struct vouch_http_resp *resp)
{
    const struct vouch_route *route = NULL;
    char scratch[VOUCH_ROUTE_PATH_MAX + 1];
    char allow[128];

    switch (vouch_route_match(app->routes, app->n_routes, req->method, req->path, scratch,
                              &route, req->params, &req->n_params, allow, sizeof(allow))) {
    case VOUCH_ROUTE_NOT_FOUND:
        vouch_http_problem(resp, 404, "VOUCH.REQUEST.NOT_FOUND", NULL,
                           "no such endpoint: %.200s", req->path);
        return;
    case VOUCH_ROUTE_BAD_METHOD:
        if (route->flags & VOUCH_ROUTE_RPC) {
            vouch_api_vtpm_bad_method(req, allow, resp);
            vouch_http_resp_header(resp, "Allow", allow);
            return;
        }
        vouch_http_problem(resp, 405, "VOUCH.REQUEST.METHOD_NOT_ALLOWED", NULL,
                           "%.16s is not allowed on %.200s; allowed: %s", req->method,
                           req->path, allow);
        vouch_http_resp_header(resp, "Allow", allow);
        return;
    case VOUCH_ROUTE_FOUND:
        resp->route = route;
        break;
    }
    if ((route->flags & VOUCH_ROUTE_ADMIN) && !vouch_api_admin_authorized(app, req)) {
        vouch_http_problem(resp, 401, "VOUCH.AUTH.UNAUTHORIZED", NULL,
                           "this endpoint needs the admin bearer token "
                           "(Authorization: Bearer TOKEN)");
        vouch_http_resp_header(resp, "WWW-Authenticate", "Bearer realm=\"vouch-admin\"");
        return;
    }
    if (!vouch_route_params_ok(route, req, resp))
        return;
    route->fn(app, req, resp);
    vouch_api_audit_admin(app, req, route, resp);
}
