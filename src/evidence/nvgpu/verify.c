/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cache.h"
#include "common/codec.h"
#include "common/file.h"
#include "common/json.h"
#include "common/time.h"
#include "crypto/digest.h"
#include "crypto/sig.h"
#include "crypto/x509.h"
#include "evidence/binding.h"
#include "evidence/nvgpu/nvgpu.h"
#include "evidence/nvgpu/nvgpu_int.h"

/*
 * Verification of NVIDIA GPU evidence: the checks, in NVIDIA's order, and
 * the claims they produce.  Chain and RIM verification results (which do
 * not depend on time: validity windows are compared with `now` on each
 * use) are cached in the trust object, keyed by the SHA-256 of their
 * bytes, so a steady stream of the same GPUs costs one P-384 signature
 * verification each.
 */

#define CHAIN_CACHE_MAX 64
#define RIM_CACHE_MAX 64

struct vouch_nvgpu_trust {
    STACK_OF(X509) *device_roots;
    STACK_OF(X509) *rim_roots;
    struct vouch_nvgpu_rim_source rims;
    struct vouch_ocsp_config ocsp;
    unsigned flags;

    struct vouch_cache *chains;     /* verified device chains by key */
    struct vouch_cache *rimc;       /* verified RIMs by sha256 */
};

/* ------------------------------------------------------------------ */
/* Trust configuration                                                 */

static vouch_err roots_from_pem(const char *pem, size_t len, STACK_OF(X509) **ret,
                                struct vouch_errbuf *eb)
{
    STACK_OF(X509) *sk = NULL;
    vouch_err e = vouch_x509_parse_pem_chain(pem, len, 16, &sk, eb);

    if (e)
        return vouch_fail_prefix(eb, e, "trust anchors: ");
    *ret = sk;
    return VOUCH_OK;
}

static void devchain_free(void *v)
{
    vouch_nvgpu_devchain_unref(v);
}

static void rim_free(void *v)
{
    vouch_nvgpu_rim_unref(v);
}

/* The caches hold a reference to each value; a hit takes another for the caller. */
static vouch_err caches_new(struct vouch_nvgpu_trust *t, struct vouch_errbuf *eb)
{
    const struct vouch_cache_config chains = { "nvgpu_chains", CHAIN_CACHE_MAX, 0, 0,
                                               devchain_free };
    const struct vouch_cache_config rims = { "nvgpu_rims", RIM_CACHE_MAX, 0, 0, rim_free };
    vouch_err e = vouch_cache_new(&chains, &t->chains, eb);

    return e ? e : vouch_cache_new(&rims, &t->rimc, eb);
}

vouch_err vouch_nvgpu_trust_new(struct vouch_nvgpu_trust **ret, struct vouch_errbuf *eb)
{
    struct vouch_nvgpu_trust *t = calloc(1, sizeof(*t));
    vouch_err e;

    if (!t)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    t->ocsp.mode = VOUCH_OCSP_OFF;
    if ((e = caches_new(t, eb)) ||
        (e = roots_from_pem(vouch_nvgpu_device_root_pem, strlen(vouch_nvgpu_device_root_pem),
                            &t->device_roots, eb)) ||
        (e = roots_from_pem(vouch_nvgpu_rim_root_pem, strlen(vouch_nvgpu_rim_root_pem),
                            &t->rim_roots, eb)) ||
        (e = vouch_nvgpu_xml_init(eb))) {
        vouch_nvgpu_trust_free(t);
        return e;
    }
    *ret = t;
    return VOUCH_OK;
}

static void cache_clear(struct vouch_nvgpu_trust *t)
{
    vouch_cache_clear(t->chains);
    vouch_cache_clear(t->rimc);
}

void vouch_nvgpu_trust_free(struct vouch_nvgpu_trust *t)
{
    if (!t)
        return;
    vouch_cache_free(t->chains);
    vouch_cache_free(t->rimc);
    sk_X509_pop_free(t->device_roots, X509_free);
    sk_X509_pop_free(t->rim_roots, X509_free);
    free(t);
}

vouch_err vouch_nvgpu_trust_set_device_roots(struct vouch_nvgpu_trust *t, const char *pem,
                                             size_t len, struct vouch_errbuf *eb)
{
    STACK_OF(X509) *sk = NULL;
    vouch_err e = roots_from_pem(pem, len, &sk, eb);

    if (e)
        return e;
    sk_X509_pop_free(t->device_roots, X509_free);
    t->device_roots = sk;
    cache_clear(t);
    return VOUCH_OK;
}

vouch_err vouch_nvgpu_trust_set_rim_roots(struct vouch_nvgpu_trust *t, const char *pem,
                                          size_t len, struct vouch_errbuf *eb)
{
    STACK_OF(X509) *sk = NULL;
    vouch_err e = roots_from_pem(pem, len, &sk, eb);

    if (e)
        return e;
    sk_X509_pop_free(t->rim_roots, X509_free);
    t->rim_roots = sk;
    cache_clear(t);
    return VOUCH_OK;
}

vouch_err vouch_nvgpu_trust_load_roots(struct vouch_nvgpu_trust *t, bool rim, const char *path,
                                       struct vouch_errbuf *eb)
{
    uint8_t *pem = NULL;
    size_t len = 0;
    vouch_err e;

    e = vouch_file_read(path, VOUCH_NVGPU_CHAIN_MAX, &pem, &len, eb);
    if (!e)
        e = rim ? vouch_nvgpu_trust_set_rim_roots(t, (const char *)pem, len, eb)
                : vouch_nvgpu_trust_set_device_roots(t, (const char *)pem, len, eb);
    free(pem);
    return e;
}

void vouch_nvgpu_trust_set_rim_source(struct vouch_nvgpu_trust *t,
                                      const struct vouch_nvgpu_rim_source *src)
{
    if (src)
        t->rims = *src;
    else
        memset(&t->rims, 0, sizeof(t->rims));
}

void vouch_nvgpu_trust_set_ocsp(struct vouch_nvgpu_trust *t, const struct vouch_ocsp_config *cfg)
{
    t->ocsp = *cfg;
}

void vouch_nvgpu_trust_set_flags(struct vouch_nvgpu_trust *t, unsigned flags)
{
    t->flags = flags;
}

STACK_OF(X509) *vouch_nvgpu_trust_rim_roots(const struct vouch_nvgpu_trust *t)
{
    return t->rim_roots;
}

void vouch_nvgpu_trust_cache_stats(const struct vouch_nvgpu_trust *t, uint64_t *ret_hits,
                                   uint64_t *ret_misses)
{
    struct vouch_cache_stats c, r;

    vouch_cache_stats(t->chains, &c);
    vouch_cache_stats(t->rimc, &r);
    *ret_hits = c.hits + r.hits;
    *ret_misses = c.misses + r.misses;
}

/* ------------------------------------------------------------------ */
/* Cache                                                               */

/* Time is not cached: validity windows are compared with `now` on each use. */
static struct vouch_nvgpu_devchain *chain_lookup(struct vouch_nvgpu_trust *t,
                                                 const uint8_t key[32])
{
    struct vouch_nvgpu_devchain *dc = NULL;
    struct vouch_cache_entry *ce;

    if (t->flags & VOUCH_NVGPU_NO_CACHE)
        return NULL;
    ce = vouch_cache_get(t->chains, key, 32, 0);
    if (ce)
        dc = vouch_nvgpu_devchain_ref(vouch_cache_value(ce));
    vouch_cache_release(ce);
    return dc;
}

static void chain_insert(struct vouch_nvgpu_trust *t, struct vouch_nvgpu_devchain *dc)
{
    if (t->flags & VOUCH_NVGPU_NO_CACHE)
        return;
    (void)vouch_cache_put(t->chains, dc->key, 32, vouch_nvgpu_devchain_ref(dc), 0, 0,
                          VOUCH_CACHE_NEVER, NULL);
}

static struct vouch_nvgpu_rim *rim_lookup(struct vouch_nvgpu_trust *t, const uint8_t key[32])
{
    struct vouch_nvgpu_rim *rim = NULL;
    struct vouch_cache_entry *ce;

    if (t->flags & VOUCH_NVGPU_NO_CACHE)
        return NULL;
    ce = vouch_cache_get(t->rimc, key, 32, 0);
    if (ce)
        rim = vouch_nvgpu_rim_ref(vouch_cache_value(ce));
    vouch_cache_release(ce);
    return rim;
}

static void rim_insert(struct vouch_nvgpu_trust *t, struct vouch_nvgpu_rim *rim)
{
    if (t->flags & VOUCH_NVGPU_NO_CACHE)
        return;
    (void)vouch_cache_put(t->rimc, rim->sha256, 32, vouch_nvgpu_rim_ref(rim), 0, 0,
                          VOUCH_CACHE_NEVER, NULL);
}

/* ------------------------------------------------------------------ */
/* Claims helpers                                                      */

/* The outcome of a run of checks: the first failure wins. */
struct outcome {
    vouch_err e;
    struct vouch_errbuf eb;
};

static void note(struct outcome *o, vouch_err e, const char *step, const struct vouch_errbuf *eb)
{
    if (!e || o->e)
        return;
    o->e = vouch_fail(&o->eb, e, "%s: %s", step, eb->msg);
}

/* The same for a malformed input: also name its JSON path ("<device>.<key>"). */
static void note_field(struct outcome *o, vouch_err e, const char *step,
                       const struct vouch_errbuf *eb, const struct vouch_nvgpu_device *dev,
                       const char *key)
{
    char field[sizeof(dev->path) + 32];

    if (!e || o->e)
        return;
    note(o, e, step, eb);
    if (dev->path[0] && key) {
        snprintf(field, sizeof(field), "%s.%s", dev->path, key);
        vouch_errbuf_set_field(&o->eb, e, field);
    }
}

/* Errors that say the input is malformed rather than that a check failed. */
static bool malformed(vouch_err e)
{
    return e == VOUCH_E_INVALID || e == VOUCH_E_TRUNCATED || e == VOUCH_E_TOO_LARGE;
}

static void format_time(int64_t t, char out[VOUCH_RFC3339_LEN])
{
    vouch_time_format_rfc3339(t, out);
}

/* {"x-nvidia-cert-status", "-ocsp-status", "-expiration-date", "-revocation-reason", ...} */
static json_t *cert_chain_claims(const char *status, const struct vouch_ocsp_result *ocsp,
                                 int64_t not_after)
{
    json_t *o = json_object();
    char when[VOUCH_RFC3339_LEN];
    const char *reason = ocsp && ocsp->status == VOUCH_OCSP_STATUS_REVOKED
                             ? vouch_ocsp_reason_name(ocsp->reason) : NULL;

    if (!o)
        return NULL;
    json_object_set_new(o, "x-nvidia-cert-status", json_string(status));
    json_object_set_new(o, "x-nvidia-cert-ocsp-status",
                        json_string(vouch_ocsp_status_name(ocsp ? ocsp->status
                                                                : VOUCH_OCSP_STATUS_UNKNOWN)));
    if (not_after) {
        format_time(not_after, when);
        json_object_set_new(o, "x-nvidia-cert-expiration-date", json_string(when));
    } else {
        json_object_set_new(o, "x-nvidia-cert-expiration-date", json_null());
    }
    json_object_set_new(o, "x-nvidia-cert-revocation-reason",
                        reason ? json_string(reason) : json_null());
    json_object_set_new(o, "x-nvidia-cert-ocsp-nonce-matches",
                        json_boolean(ocsp && ocsp->checked && ocsp->nonce_match));
    json_object_set_new(o, "x-nvidia-cert-ocsp-response-valid",
                        json_boolean(ocsp && ocsp->checked));
    return o;
}

static void set_bool(json_t *c, const char *key, bool v)
{
    json_object_set_new(c, key, json_boolean(v));
}

/* Every NVIDIA claim, false/empty until a check sets it. */
static void claims_defaults(json_t *c)
{
    static const char *const falses[] = {
        "x-nvidia-gpu-arch-check",
        "x-nvidia-gpu-attestation-report-parsed",
        "x-nvidia-gpu-attestation-report-signature-verified",
        "x-nvidia-gpu-attestation-report-cert-chain-fwid-match",
        "x-nvidia-gpu-attestation-report-nonce-match",
        "x-nvidia-gpu-driver-rim-fetched",
        "x-nvidia-gpu-driver-rim-schema-validated",
        "x-nvidia-gpu-driver-rim-signature-verified",
        "x-nvidia-gpu-driver-rim-version-match",
        "x-nvidia-gpu-driver-rim-measurements-available",
        "x-nvidia-gpu-vbios-rim-fetched",
        "x-nvidia-gpu-vbios-rim-schema-validated",
        "x-nvidia-gpu-vbios-rim-signature-verified",
        "x-nvidia-gpu-vbios-rim-version-match",
        "x-nvidia-gpu-vbios-rim-measurements-available",
        "x-nvidia-gpu-vbios-index-no-conflict",
    };
    size_t i;

    json_object_set_new(c, "x-nvidia-device-type", json_string("gpu"));
    for (i = 0; i < sizeof(falses) / sizeof(falses[0]); i++)
        set_bool(c, falses[i], false);
    json_object_set_new(c, "x-nvidia-gpu-attestation-report-cert-chain",
                        cert_chain_claims("invalid", NULL, 0));
    json_object_set_new(c, "x-nvidia-gpu-driver-rim-cert-chain",
                        cert_chain_claims("invalid", NULL, 0));
    json_object_set_new(c, "x-nvidia-gpu-vbios-rim-cert-chain",
                        cert_chain_claims("invalid", NULL, 0));
    json_object_set_new(c, "measres", json_string("not-run"));
    json_object_set_new(c, "x-nvidia-mismatch-measurement-records", json_null());
    json_object_set_new(c, "secboot", json_null());
    json_object_set_new(c, "dbgstat", json_null());
}

/* ------------------------------------------------------------------ */
/* One GPU                                                             */

struct gpu {
    struct vouch_nvgpu_trust *t;
    const struct vouch_nvgpu_device *dev;
    struct vouch_nvgpu_report *r;
    struct vouch_nvgpu_devchain *dc;
    enum vouch_nvgpu_arch arch;
    int64_t now;
    json_t *claims;
    struct outcome out;
};

static vouch_err step_chain(struct gpu *g)
{
    struct vouch_nvgpu_trust *t = g->t;
    struct vouch_ocsp_result ocsp;
    struct vouch_errbuf eb;
    uint8_t key[32];
    const char *status = "invalid";
    vouch_err e;

    e = vouch_hash(VOUCH_HASH_SHA256, g->dev->chain, g->dev->chain_len, key);
    if (e) {
        note(&g->out, vouch_fail(&eb, e, "cannot hash the chain"), "certificate chain", &eb);
        return e;
    }
    g->dc = chain_lookup(t, key);
    if (!g->dc) {
        e = vouch_nvgpu_devchain_build(g->dev->chain, g->dev->chain_len, t->device_roots, &g->dc,
                                       &eb);
        if (e) {
            if (malformed(e))
                note_field(&g->out, e, "certificate chain", &eb, g->dev, "certificate");
            else
                note(&g->out, e, "certificate chain", &eb);
            return e;
        }
        chain_insert(t, g->dc);
    }
    memset(&ocsp, 0, sizeof(ocsp));
    if (g->now < g->dc->not_before || g->now > g->dc->not_after) {
        char from[VOUCH_RFC3339_LEN], to[VOUCH_RFC3339_LEN];

        status = "expired";
        format_time(g->dc->not_before, from);
        format_time(g->dc->not_after, to);
        e = vouch_fail(&eb, g->now < g->dc->not_before ? VOUCH_E_NOT_YET_VALID : VOUCH_E_EXPIRED,
                       "valid only from %s to %s", from, to);
        note(&g->out, e, "certificate chain", &eb);
    } else {
        /* device chain: not the FMC leaf, not the root */
        e = vouch_ocsp_query_chain(&t->ocsp, g->dc->chain, 1, t->device_roots, g->now, &ocsp,
                                   &eb);
        note(&g->out, e, "certificate chain OCSP", &eb);
        status = e == VOUCH_E_REVOKED ? "revoked" : e ? "invalid" : "valid";
    }
    json_object_set_new(g->claims, "x-nvidia-gpu-attestation-report-cert-chain",
                        cert_chain_claims(status, &ocsp, g->dc->not_after));
    json_object_set_new(g->claims, "hwmodel",
                        vouch_json_text(g->dc->hwmodel, strlen(g->dc->hwmodel)));
    json_object_set_new(g->claims, "ueid", json_string(g->dc->ueid));

    /* architecture: what the certificate says, and what the evidence declared */
    g->arch = g->dc->arch;
    if (g->dc->arch == VOUCH_NVGPU_ARCH_UNKNOWN) {
        e = vouch_fail(&eb, VOUCH_E_UNSUPPORTED, "the attestation certificate names no "
                       "Hopper or Blackwell GPU");
        note(&g->out, e, "architecture", &eb);
    } else if (g->dev->arch != VOUCH_NVGPU_ARCH_UNKNOWN && g->dev->arch != g->dc->arch) {
        e = vouch_fail(&eb, VOUCH_E_VERIFY, "evidence says %s, the certificate %s",
                       vouch_nvgpu_arch_name(g->dev->arch), vouch_nvgpu_arch_name(g->dc->arch));
        note(&g->out, e, "architecture", &eb);
    } else {
        set_bool(g->claims, "x-nvidia-gpu-arch-check", true);
    }
    json_object_set_new(g->claims, "arch", json_string(vouch_nvgpu_arch_name(
                                               g->dev->arch ? g->dev->arch : g->dc->arch)));
    return VOUCH_OK;
}

static void step_fwid(struct gpu *g)
{
    struct vouch_errbuf eb;
    vouch_err e = VOUCH_OK;

    if (!g->r->has_fwid) {
        /* drivers before 550 carry no FWID field: nothing contradicts the certificate */
        set_bool(g->claims, "x-nvidia-gpu-attestation-report-cert-chain-fwid-match", true);
        return;
    }
    if (!g->dc->has_fwid)
        e = vouch_fail(&eb, VOUCH_E_VERIFY, "the attestation certificate carries no FWID");
    else if (memcmp(g->dc->fwid, g->r->fwid, VOUCH_NVGPU_DIGEST_SIZE) != 0)
        e = vouch_fail(&eb, VOUCH_E_VERIFY, "report FWID differs from the certificate's");
    note(&g->out, e, "FWID", &eb);
    set_bool(g->claims, "x-nvidia-gpu-attestation-report-cert-chain-fwid-match", !e);
}

static void step_signature(struct gpu *g)
{
    struct vouch_errbuf eb;
    vouch_err e;

    e = vouch_ecdsa_verify_raw(g->dc->leaf_key, VOUCH_HASH_SHA384, g->r->data, g->r->signed_len,
                               g->r->signature, VOUCH_NVGPU_SIG_SIZE, &eb);
    note(&g->out, e, "report signature", &eb);
    set_bool(g->claims, "x-nvidia-gpu-attestation-report-signature-verified", !e);
}

static void step_nonce(struct gpu *g, const uint8_t *expected)
{
    struct vouch_errbuf eb;
    vouch_err e;

    if (!expected)
        return;
    e = vouch_binding_check(expected, VOUCH_NVGPU_NONCE_SIZE, g->r->request_nonce,
                            VOUCH_NVGPU_NONCE_SIZE, "the SPDM request nonce", &eb);
    note(&g->out, e, "nonce", &eb);
    set_bool(g->claims, "x-nvidia-gpu-attestation-report-nonce-match", !e);
}

/*
 * Fetch, parse and verify one RIM (through the cache).  On success
 * *ret_rim is the RIM, verified or not: *ret_verr and `verr` hold why its
 * verification failed (a cached RIM verified).
 */
static vouch_err get_rim(struct gpu *g, const char *id, enum vouch_nvgpu_rim_kind kind,
                         struct vouch_nvgpu_rim **ret_rim, vouch_err *ret_verr,
                         struct vouch_errbuf *verr, struct vouch_errbuf *eb)
{
    struct vouch_nvgpu_trust *t = g->t;
    struct vouch_nvgpu_rim *rim = NULL;
    uint8_t *doc = NULL, key[32];
    vouch_err e, ve = VOUCH_OK;
    size_t len = 0;

    if (!t->rims.get)
        return vouch_fail(eb, VOUCH_E_NOT_FOUND, "%s: no RIM source configured", id);
    e = t->rims.get(t->rims.ctx, id, &doc, &len, eb);
    if (e)
        return e == VOUCH_E_NOT_FOUND ? vouch_fail(eb, e, "%s not found", id)
                                      : vouch_fail_prefix(eb, e, "%s: ", id);
    e = vouch_hash(VOUCH_HASH_SHA256, doc, len, key);
    if (e) {
        vouch_fail(eb, e, "cannot hash the RIM");
        goto out;
    }
    rim = rim_lookup(t, key);
    if (!rim) {
        e = vouch_nvgpu_rim_parse(doc, len, &rim, eb);
        if (e) {
            vouch_fail_prefix(eb, e, "%s: ", id);
            goto out;
        }
        /* only RIMs that verified are cached; a failure is reported from here */
        ve = vouch_nvgpu_rim_verify(rim, doc, len, t->rim_roots, verr);
        if (!ve)
            rim_insert(t, rim);
    }
    if (rim->kind != kind) {
        e = vouch_fail(eb, VOUCH_E_INVALID, "%s is a %s RIM", id,
                       rim->kind == VOUCH_NVGPU_RIM_DRIVER ? "driver" : "VBIOS");
        goto out;
    }
    *ret_rim = rim;
    *ret_verr = ve;
    rim = NULL;
out:
    vouch_nvgpu_rim_unref(rim);
    free(doc);
    return e;
}

/* The driver or VBIOS RIM, checked in NVIDIA's order: fetched, chain, validity,
 * signature, version. */
static struct vouch_nvgpu_rim *step_rim(struct gpu *g, enum vouch_nvgpu_rim_kind kind)
{
    struct vouch_nvgpu_trust *t = g->t;
    const char *what = kind == VOUCH_NVGPU_RIM_DRIVER ? "driver" : "vbios";
    const char *step = kind == VOUCH_NVGPU_RIM_DRIVER ? "driver RIM" : "VBIOS RIM";
    struct vouch_nvgpu_rim *rim = NULL;
    struct vouch_ocsp_result ocsp;
    struct vouch_errbuf eb, verr;
    char id[VOUCH_NVGPU_RIM_ID_MAX], key[64];
    const char *status = "invalid", *want;
    vouch_err e, ve = VOUCH_OK;
    bool version_match;

    e = kind == VOUCH_NVGPU_RIM_DRIVER ? vouch_nvgpu_driver_rim_id(g->r, g->arch, id, &eb)
                                       : vouch_nvgpu_vbios_rim_id(g->r, id, &eb);
    if (e) {
        note(&g->out, e, step, &eb);
        return NULL;
    }
    snprintf(key, sizeof(key), "x-nvidia-gpu-%s-rim-id", what);
    json_object_set_new(g->claims, key, json_string(id));
    e = get_rim(g, id, kind, &rim, &ve, &verr, &eb);
    if (e) {
        if (!(e == VOUCH_E_NOT_FOUND && (t->flags & VOUCH_NVGPU_RIMS_OPTIONAL)))
            note(&g->out, e, step, &eb);
        return NULL;
    }
    snprintf(key, sizeof(key), "x-nvidia-gpu-%s-rim-fetched", what);
    set_bool(g->claims, key, true);

    memset(&ocsp, 0, sizeof(ocsp));
    if (!rim->chain) {
        note(&g->out, ve, step, &verr);
    } else if ((e = vouch_nvgpu_rim_check_time(rim, g->now, &eb))) {
        status = "expired";
        note(&g->out, e, step, &eb);
    } else {
        e = vouch_ocsp_query_chain(&t->ocsp, rim->chain, 0, t->rim_roots, g->now, &ocsp, &eb);
        note(&g->out, e, step, &eb);
        status = e == VOUCH_E_REVOKED ? "revoked" : e ? "invalid" : "valid";
    }
    snprintf(key, sizeof(key), "x-nvidia-gpu-%s-rim-cert-chain", what);
    json_object_set_new(g->claims, key, cert_chain_claims(status, &ocsp,
                                                         rim->chain ? rim->not_after : 0));
    if (rim->chain && !rim->signature_verified)
        note(&g->out, ve, step, &verr);
    snprintf(key, sizeof(key), "x-nvidia-gpu-%s-rim-signature-verified", what);
    set_bool(g->claims, key, rim->signature_verified);

    want = kind == VOUCH_NVGPU_RIM_DRIVER ? g->r->driver_version : g->r->vbios_version;
    version_match = kind == VOUCH_NVGPU_RIM_DRIVER ? strcmp(rim->version, want) == 0
                                                   : strcasecmp(rim->version, want) == 0;
    if (!version_match)
        note(&g->out, vouch_fail(&eb, VOUCH_E_VERIFY, "RIM version %s, report %s", rim->version,
                                 want), step, &eb);
    snprintf(key, sizeof(key), "x-nvidia-gpu-%s-rim-version-match", what);
    set_bool(g->claims, key, version_match);
    snprintf(key, sizeof(key), "x-nvidia-gpu-%s-rim-measurements-available", what);
    set_bool(g->claims, key, rim->n_golden > 0);
    if (kind == VOUCH_NVGPU_RIM_DRIVER && rim->manufacturer_id[0])
        json_object_set_new(g->claims, "oemid", json_string(rim->manufacturer_id));
    return rim;
}

static void step_measurements(struct gpu *g, const struct vouch_nvgpu_rim *driver,
                              const struct vouch_nvgpu_rim *vbios)
{
    struct vouch_nvgpu_compare res;
    struct vouch_errbuf eb;
    json_t *mm = json_array();
    vouch_err e;

    /* golden values count only from RIMs whose signature verified */
    if (!driver || !vbios || !driver->signature_verified || !vbios->signature_verified || !mm) {
        json_decref(mm);
        return;
    }
    e = vouch_nvgpu_rim_compare(g->r, driver, vbios, mm, &res, &eb);
    note(&g->out, e, "measurements", &eb);
    set_bool(g->claims, "x-nvidia-gpu-vbios-index-no-conflict", res.no_conflict);
    json_object_set_new(g->claims, "measres", json_string(res.match ? "success" : "fail"));
    if (res.match) {
        json_decref(mm);
        json_object_set_new(g->claims, "secboot", json_true());
        json_object_set_new(g->claims, "dbgstat", json_string("disabled"));
    } else {
        json_object_set_new(g->claims, "x-nvidia-mismatch-measurement-records", mm);
    }
}

/* Unsigned versions NVML reported (acstdxnvgpu) must agree with the signed report. */
static void step_declared(struct gpu *g)
{
    struct vouch_errbuf eb;

    if (g->dev->driver_version && strcmp(g->dev->driver_version, g->r->driver_version) != 0)
        note(&g->out, vouch_fail(&eb, VOUCH_E_VERIFY, "declared driver_version %s, signed "
                                 "report %s", g->dev->driver_version, g->r->driver_version),
             "declared versions", &eb);
    if (g->dev->vbios_version && strcasecmp(g->dev->vbios_version, g->r->vbios_version) != 0)
        note(&g->out, vouch_fail(&eb, VOUCH_E_VERIFY, "declared vbios_version %s, signed "
                                 "report %s", g->dev->vbios_version, g->r->vbios_version),
             "declared versions", &eb);
}

static void report_claims(struct gpu *g)
{
    const char *mode = vouch_nvgpu_report_mode(g->r);

    json_object_set_new(g->claims, "x-nvidia-gpu-driver-version",
                        json_string(g->r->driver_version));
    json_object_set_new(g->claims, "x-nvidia-gpu-vbios-version",
                        json_string(g->r->vbios_version));
    if (mode)
        json_object_set_new(g->claims, "x-nvidia-gpu-mode", json_string(mode));
    vouch_json_set_hex(g->claims, "eat_nonce", g->r->request_nonce, VOUCH_NVGPU_NONCE_SIZE);
    vouch_nvgpu_report_claims(g->r, g->claims);
}

vouch_err vouch_nvgpu_verify_device(struct vouch_nvgpu_trust *t,
                                    const struct vouch_nvgpu_device *dev,
                                    const uint8_t *expected_nonce, int64_t now, json_t *claims,
                                    struct vouch_errbuf *eb)
{
    struct vouch_nvgpu_rim *driver = NULL, *vbios = NULL;
    struct gpu g;
    struct vouch_errbuf local;
    vouch_err e;

    memset(&g, 0, sizeof(g));
    g.t = t;
    g.dev = dev;
    g.now = now;
    g.claims = claims;
    claims_defaults(claims);
    json_object_set_new(claims, "arch", json_string(vouch_nvgpu_arch_name(dev->arch)));
    json_object_set_new(claims, "uuid", dev->uuid ? json_string(dev->uuid) : json_null());
    /* What Alibaba's gpu_evidence (acstdxnvgpu) declares, whether or not it names the GPU */
    if (dev->name || (dev->report_key && strcmp(dev->report_key, "attestation_report") == 0)) {
        json_object_set_new(claims, "index", json_integer(dev->index));
        json_object_set_new(claims, "name", dev->name ? json_string(dev->name) : json_null());
        set_bool(claims, "cc_enabled", dev->cc_enabled);
    }
    if (!dev->cc_enabled) {
        e = vouch_fail(&local, VOUCH_E_VERIFY, "the GPU is not in confidential-computing mode");
        note_field(&g.out, e, "confidential computing", &local, dev, "cc_enabled");
        goto out;
    }
    if (!dev->report || !dev->chain) {
        e = vouch_fail(&local, VOUCH_E_INVALID, "the GPU evidence lacks its %s",
                       dev->report ? "certificate chain" : "attestation report");
        note_field(&g.out, e, "evidence", &local, dev,
                   dev->report ? "certificate" : dev->report_key);
        goto out;
    }
    g.r = malloc(sizeof(*g.r));
    if (!g.r) {
        note(&g.out, vouch_fail(&local, VOUCH_E_NOMEM, "out of memory"), "evidence", &local);
        goto out;
    }
    e = vouch_nvgpu_report_parse(dev->report, dev->report_len, g.r, &local);
    if (e) {
        note_field(&g.out, e, "attestation report", &local, dev, dev->report_key);
        goto out;
    }
    set_bool(claims, "x-nvidia-gpu-attestation-report-parsed", true);
    report_claims(&g);
    step_declared(&g);
    if (step_chain(&g) == VOUCH_OK) {
        step_signature(&g);
        step_fwid(&g);
    }
    step_nonce(&g, expected_nonce);
    if (g.arch == VOUCH_NVGPU_ARCH_UNKNOWN)
        g.arch = dev->arch;
    driver = step_rim(&g, VOUCH_NVGPU_RIM_DRIVER);
    vbios = step_rim(&g, VOUCH_NVGPU_RIM_VBIOS);
    step_measurements(&g, driver, vbios);
out:
    vouch_nvgpu_rim_unref(driver);
    vouch_nvgpu_rim_unref(vbios);
    vouch_nvgpu_devchain_unref(g.dc);
    free(g.r);
    if (g.out.e && eb)
        *eb = g.out.eb;
    return g.out.e;
}

/* ------------------------------------------------------------------ */
/* Several GPUs                                                        */

void vouch_nvgpu_nonce_from_report_data(const uint8_t *report_data, size_t len,
                                        uint8_t out[VOUCH_NVGPU_NONCE_SIZE])
{
    memset(out, 0, VOUCH_NVGPU_NONCE_SIZE);
    if (report_data)
        memcpy(out, report_data, len < VOUCH_NVGPU_NONCE_SIZE ? len : VOUCH_NVGPU_NONCE_SIZE);
}

vouch_err vouch_nvgpu_verify_evidence(struct vouch_nvgpu_trust *t,
                                      const struct vouch_nvgpu_evidence *ev,
                                      const uint8_t *expected_nonce, int64_t now,
                                      json_t **ret_claims, json_t **reterr_claims,
                                      struct vouch_errbuf *eb)
{
    json_t *all = json_array();
    const char *mode0 = NULL;
    vouch_err e = VOUCH_OK;
    size_t i;

    if (!all)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    for (i = 0; i < ev->n; i++) {
        json_t *c = json_object();
        const char *mode;

        if (!c || json_array_append_new(all, c)) {
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
            goto out;
        }
        e = vouch_nvgpu_verify_device(t, &ev->devices[i], expected_nonce, now, c, eb);
        if (e) {
            vouch_fail_prefix(eb, e, "gpu%zu: ", i);
            goto out;
        }
        /* NVIDIA: all GPUs of a system run in the same mode */
        mode = json_string_value(json_object_get(c, "x-nvidia-gpu-mode"));
        if (mode && mode0 && strcmp(mode, mode0) != 0) {
            e = vouch_fail(eb, VOUCH_E_VERIFY, "gpu%zu: mode %s differs from gpu0's %s", i, mode,
                           mode0);
            goto out;
        }
        if (mode && !mode0)
            mode0 = mode;
    }
out:
    if (!e) {
        *ret_claims = all;
        return VOUCH_OK;
    }
    if (reterr_claims)
        *reterr_claims = all;
    else
        json_decref(all);
    return e;
}

vouch_err vouch_nvgpu_verify_gpu_evidence(struct vouch_nvgpu_trust *t, const json_t *gpu_evidence,
                                          const uint8_t expected_nonce[VOUCH_NVGPU_NONCE_SIZE],
                                          int64_t now, json_t **ret_claims,
                                          json_t **reterr_claims, struct vouch_errbuf *eb)
{
    struct vouch_nvgpu_evidence *ev = NULL;
    vouch_err e;

    e = vouch_nvgpu_evidence_from_gpu_evidence(gpu_evidence, &ev, eb);
    if (e)
        return e;
    e = vouch_nvgpu_verify_evidence(t, ev, expected_nonce, now, ret_claims, reterr_claims, eb);
    vouch_nvgpu_evidence_free(ev);
    return e;
}

/*
 * Claims of several GPUs in the multi-device form of include/vouch/evidence.h:
 * {"devices": [{"class": "gpu", "tee": "nvgpu", "claims": gpu claims with
 * "report_data" (the nonce it signed) and "x-nvidia-overall-att-result"}]}.
 * Takes `gpus`.
 */
vouch_err vouch_nvgpu_devices(json_t *gpus, json_t *devices, struct vouch_errbuf *eb)
{
    vouch_err e = VOUCH_OK;
    json_t *c;
    size_t i;

    json_array_foreach(gpus, i, c) {
        const char *nonce = json_string_value(json_object_get(c, "eat_nonce"));

        if (vouch_json_set_str(c, "report_data", nonce ? nonce : "") ||
            vouch_json_set_bool(c, "x-nvidia-overall-att-result", true) ||
            json_array_append_new(devices, json_pack("{s:s,s:s,s:O}", "class", "gpu", "tee",
                                                     "nvgpu", "claims", c))) {
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
            break;
        }
    }
    json_decref(gpus);
    return e;
}

static vouch_err verifier_verify(const struct vouch_verifier *self, void *trust,
                                 const uint8_t *evidence, size_t evidence_len,
                                 const struct vouch_binding *binding, int64_t now,
                                 json_t **ret_claims, struct vouch_errbuf *eb)
{
    struct vouch_nvgpu_evidence *ev = NULL;
    uint8_t nonce[VOUCH_NVGPU_NONCE_SIZE];
    const uint8_t *expected = NULL;
    json_t *gpus = NULL, *devices = NULL, *out;
    vouch_err e;

    (void)self;
    if (!trust)
        return vouch_fail(eb, VOUCH_E_NOT_FOUND, "no NVIDIA GPU trust anchors are configured");
    if (binding && binding->report_data) {
        /* zero-padded or truncated to the SPDM nonce, as trustee's regularize_data */
        vouch_nvgpu_nonce_from_report_data(binding->report_data, binding->report_data_len,
                                           nonce);
        expected = nonce;
    }
    e = vouch_nvgpu_evidence_parse(evidence, evidence_len, &ev, eb);
    if (e)
        return e;
    e = vouch_nvgpu_verify_evidence(trust, ev, expected, now, &gpus, NULL, eb);
    vouch_nvgpu_evidence_free(ev);
    if (e)
        return e;
    devices = json_array();
    if (!devices) {
        json_decref(gpus);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    e = vouch_nvgpu_devices(gpus, devices, eb);
    if (e) {
        json_decref(devices);
        return e;
    }
    out = json_pack("{s:o}", "devices", devices);  /* takes devices, even on failure */
    if (!out)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    *ret_claims = out;
    return VOUCH_OK;
}

static const struct vouch_inspect_cmd inspect_gpu = {
    .name = "gpu",
    .usage = "EVIDENCE.json [--rims DIR] [--nonce HEX] [--at RFC3339] [--json]",
    .summary = "verify NVIDIA GPU evidence (nvgpu, or a TDX document's gpu_evidence) and "
               "print the claims",
    .options = "EVIDENCE.json\tnvgpu evidence ({\"device_evidence_list\": [...]} or NVIDIA's "
               "array of {arch, evidence, certificate}), or a TDX evidence document with "
               "gpu_evidence; \"-\" reads stdin\n"
               "--rims DIR\ta directory of driver and VBIOS RIMs to check the measurements "
               "against; without it the RIM checks are not run\n"
               "--nonce HEX\tthe expected SPDM nonce, zero-padded or cut to 32 bytes; without "
               "it the nonce is shown, not checked\n"
               VOUCH_HELP_AT "\n"
               VOUCH_HELP_JSON,
};

/* A GPU (one device of tee=nvgpu) is its SPDM measurement records. */
static const char *const nvgpu_subject[] = { "measurements", NULL };

const struct vouch_verifier vouch_verifier_nvgpu = {
    .tee = "nvgpu",
    .verify = verifier_verify,
    .subject_claims = nvgpu_subject,
    .multi_device = true,
    .trust_new = vouch_nvgpu_trust_from_host,
    .trust_free = vouch_nvgpu_trust_release,
    .inspect = &inspect_gpu,
};
