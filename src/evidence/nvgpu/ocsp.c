/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "crypto/x509.h"
#include "evidence/nvgpu/ocsp.h"

#define DEFAULT_SKEW 300

const char *vouch_ocsp_status_name(enum vouch_ocsp_status s)
{
    switch (s) {
    case VOUCH_OCSP_STATUS_GOOD: return "good";
    case VOUCH_OCSP_STATUS_REVOKED: return "revoked";
    default: return "unknown";
    }
}

const char *vouch_ocsp_reason_name(int reason)
{
    static const char *const names[] = {
        "unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
        "cessationOfOperation", "certificateHold", NULL, "removeFromCRL", "privilegeWithdrawn",
        "aACompromise",
    };

    if (reason < 0 || reason >= (int)(sizeof(names) / sizeof(names[0])))
        return NULL;
    return names[reason];
}

vouch_err vouch_ocsp_request(X509 *cert, X509 *issuer, enum vouch_hash hash,
                             const uint8_t *nonce, size_t nonce_len, uint8_t **ret,
                             size_t *ret_len, struct vouch_errbuf *eb)
{
    const EVP_MD *md = vouch_hash_md(hash);
    OCSP_REQUEST *req = NULL;
    OCSP_CERTID *id = NULL;
    unsigned char *der = NULL;
    vouch_err e = VOUCH_OK;
    int len;

    if (!md)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "OCSP: no such CertID hash");
    if (nonce_len > 128)
        return vouch_fail(eb, VOUCH_E_INVALID, "OCSP: nonce too long");
    req = OCSP_REQUEST_new();
    id = OCSP_cert_to_id(md, cert, issuer);
    if (!req || !id || !OCSP_request_add0_id(req, id)) {
        OCSP_CERTID_free(id);
        e = vouch_fail(eb, VOUCH_E_NOMEM, "OCSP: cannot build the request");
        goto out;
    }
    if (nonce && !OCSP_request_add1_nonce(req, (unsigned char *)nonce, (int)nonce_len)) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "OCSP: cannot add the nonce");
        goto out;
    }
    len = i2d_OCSP_REQUEST(req, &der);
    if (len <= 0) {
        e = vouch_fail(eb, VOUCH_E_INTERNAL, "OCSP: cannot encode the request");
        goto out;
    }
    *ret = der;
    *ret_len = (size_t)len;
out:
    OCSP_REQUEST_free(req);
    ERR_clear_error();
    return e;
}

/* Does the response echo `nonce` (encoded as OpenSSL encodes a request nonce)? */
static bool nonce_echoed(OCSP_BASICRESP *bs, const uint8_t *nonce, size_t n)
{
    X509_EXTENSION *ext;
    const ASN1_OCTET_STRING *v;
    const unsigned char *p;
    int i = OCSP_BASICRESP_get_ext_by_NID(bs, NID_id_pkix_OCSP_Nonce, -1);

    if (i < 0 || !(ext = OCSP_BASICRESP_get_ext(bs, i)) ||
        !(v = X509_EXTENSION_get_data(ext)))
        return false;
    p = ASN1_STRING_get0_data(v);
    if ((size_t)ASN1_STRING_length(v) == n + 2 && n < 128 && p[0] == V_ASN1_OCTET_STRING &&
        p[1] == n && memcmp(p + 2, nonce, n) == 0)
        return true;
    return (size_t)ASN1_STRING_length(v) == n && memcmp(p, nonce, n) == 0;
}

/* The single response about cert/issuer, whatever hash its CertID uses. */
static OCSP_SINGLERESP *find_single(OCSP_BASICRESP *bs, X509 *cert, X509 *issuer)
{
    int i, n = OCSP_resp_count(bs);

    for (i = 0; i < n; i++) {
        OCSP_SINGLERESP *sr = OCSP_resp_get0(bs, i);
        const OCSP_CERTID *cid = OCSP_SINGLERESP_get0_id(sr);
        ASN1_OBJECT *md_oid = NULL;
        const EVP_MD *md;
        OCSP_CERTID *mine;
        int same;

        if (!cid || !OCSP_id_get0_info(NULL, &md_oid, NULL, NULL, (OCSP_CERTID *)cid))
            continue;
        md = EVP_get_digestbyobj(md_oid);
        if (!md || !(mine = OCSP_cert_to_id(md, cert, issuer)))
            continue;
        same = OCSP_id_cmp(mine, cid) == 0;
        OCSP_CERTID_free(mine);
        if (same)
            return sr;
    }
    return NULL;
}

vouch_err vouch_ocsp_check_response(const uint8_t *der, size_t len, X509 *cert, X509 *issuer,
                                    STACK_OF(X509) *roots, const uint8_t *nonce,
                                    size_t nonce_len, int64_t now, int64_t max_skew,
                                    struct vouch_ocsp_result *ret, struct vouch_errbuf *eb)
{
    struct vouch_ocsp_result res = { VOUCH_OCSP_STATUS_UNKNOWN, -1, true, false, 0, 0 };
    const unsigned char *p = der;
    OCSP_RESPONSE *resp = NULL;
    OCSP_BASICRESP *bs = NULL;
    OCSP_SINGLERESP *sr;
    ASN1_GENERALIZEDTIME *thisupd = NULL, *nextupd = NULL, *revtime = NULL;
    STACK_OF(X509) *untrusted = NULL;
    X509_STORE *store = NULL;
    vouch_err e = VOUCH_OK;
    int status, reason = -1, i;

    if (max_skew <= 0)
        max_skew = DEFAULT_SKEW;
    if (len > VOUCH_OCSP_RESPONSE_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "OCSP response of %zu bytes", len);
    resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
    if (!resp || p != der + len) {
        e = vouch_fail(eb, VOUCH_E_INVALID, "OCSP: malformed response");
        goto out;
    }
    status = OCSP_response_status(resp);
    if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        e = vouch_fail(eb, VOUCH_E_VERIFY, "OCSP: responder says %s",
                       OCSP_response_status_str(status));
        goto out;
    }
    bs = OCSP_response_get1_basic(resp);
    if (!bs) {
        e = vouch_fail(eb, VOUCH_E_INVALID, "OCSP: not a basic response");
        goto out;
    }
    /* The responder's chain: the issuer and whatever the caller knows. */
    store = X509_STORE_new();
    untrusted = sk_X509_new_null();
    if (!store || !untrusted || !sk_X509_push(untrusted, issuer)) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    for (i = 0; roots && i < sk_X509_num(roots); i++)
        if (X509_STORE_add_cert(store, sk_X509_value(roots, i)) != 1) {
            e = vouch_fail(eb, VOUCH_E_INTERNAL, "OCSP: cannot add trust anchor");
            goto out;
        }
    X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store), (time_t)now);
    if (OCSP_basic_verify(bs, untrusted, store, 0) != 1) {
        unsigned long err = ERR_peek_last_error();

        e = vouch_fail(eb, VOUCH_E_VERIFY, "OCSP: response signature or signer not trusted "
                       "(%s)", err ? ERR_reason_error_string(err) : "?");
        goto out;
    }
    sr = find_single(bs, cert, issuer);
    if (!sr) {
        e = vouch_fail(eb, VOUCH_E_VERIFY, "OCSP: response is not about this certificate");
        goto out;
    }
    status = OCSP_single_get0_status(sr, &reason, &revtime, &thisupd, &nextupd);
    if (!thisupd || vouch_asn1_time_to_unix(thisupd, &res.this_update) ||
        (nextupd && vouch_asn1_time_to_unix(nextupd, &res.next_update))) {
        e = vouch_fail(eb, VOUCH_E_INVALID, "OCSP: unreadable thisUpdate/nextUpdate");
        goto out;
    }
    if (res.this_update > now + max_skew) {
        e = vouch_fail(eb, VOUCH_E_NOT_YET_VALID, "OCSP: response produced in the future");
        goto out;
    }
    if (nextupd && res.next_update < now - max_skew) {
        e = vouch_fail(eb, VOUCH_E_EXPIRED, "OCSP: response is stale (nextUpdate passed)");
        goto out;
    }
    res.nonce_match = nonce ? nonce_echoed(bs, nonce, nonce_len) : false;
    if (nonce && !res.nonce_match) {
        e = vouch_fail(eb, VOUCH_E_VERIFY, "OCSP: nonce not echoed");
        goto out;
    }
    switch (status) {
    case V_OCSP_CERTSTATUS_GOOD:
        res.status = VOUCH_OCSP_STATUS_GOOD;
        break;
    case V_OCSP_CERTSTATUS_REVOKED:
        res.status = VOUCH_OCSP_STATUS_REVOKED;
        res.reason = reason >= 0 ? reason : 0;
        break;
    default:
        res.status = VOUCH_OCSP_STATUS_UNKNOWN;
    }
    *ret = res;
out:
    sk_X509_free(untrusted);
    X509_STORE_free(store);
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);
    ERR_clear_error();
    return e;
}

/* The first OCSP URL of the certificate's AIA, copied into out. */
static bool aia_url(X509 *cert, char *out, size_t size)
{
    STACK_OF(OPENSSL_STRING) *urls = X509_get1_ocsp(cert);
    const char *u = urls && sk_OPENSSL_STRING_num(urls) > 0 ? sk_OPENSSL_STRING_value(urls, 0)
                                                           : NULL;
    bool ok = u && strlen(u) < size;

    if (ok)
        memcpy(out, u, strlen(u) + 1);
    X509_email_free(urls);
    return ok;
}

vouch_err vouch_ocsp_query(const struct vouch_ocsp_config *cfg, X509 *cert, X509 *issuer,
                           STACK_OF(X509) *roots, int64_t now, struct vouch_ocsp_result *ret,
                           struct vouch_errbuf *eb)
{
    struct vouch_ocsp_result res = { VOUCH_OCSP_STATUS_UNKNOWN, -1, false, false, 0, 0 };
    uint8_t nonce[VOUCH_OCSP_NONCE_SIZE], *req = NULL, *resp = NULL;
    size_t req_len = 0, resp_len = 0;
    char url[512], subj[256];
    vouch_err e = VOUCH_OK;

    *ret = res;
    if (!cfg || cfg->mode == VOUCH_OCSP_OFF)
        return VOUCH_OK;
    vouch_x509_subject(cert, subj, sizeof(subj));
    if (cfg->url) {
        if (strlen(cfg->url) >= sizeof(url))
            return vouch_fail(eb, VOUCH_E_INVALID, "OCSP: URL too long");
        memcpy(url, cfg->url, strlen(cfg->url) + 1);
    } else if (!aia_url(cert, url, sizeof(url))) {
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "OCSP: '%s' names no responder", subj);
        goto soft;
    }
    if (!cfg->transport.post) {
        e = vouch_fail(eb, VOUCH_E_INTERNAL, "OCSP: no transport configured");
        goto out;
    }
    if (!cfg->no_nonce && RAND_bytes(nonce, sizeof(nonce)) != 1) {
        e = vouch_fail(eb, VOUCH_E_INTERNAL, "OCSP: no randomness for the nonce");
        goto out;
    }
    e = vouch_ocsp_request(cert, issuer, cfg->certid_hash, cfg->no_nonce ? NULL : nonce,
                           sizeof(nonce), &req, &req_len, eb);
    if (e)
        goto out;
    e = cfg->transport.post(cfg->transport.ctx, url, req, req_len, VOUCH_OCSP_RESPONSE_MAX,
                            &resp, &resp_len, eb);
    if (e) {
        vouch_fail_prefix(eb, e, "OCSP for '%s' at %s: ", subj, url);
        goto soft;
    }
    e = vouch_ocsp_check_response(resp, resp_len, cert, issuer, roots,
                                  cfg->no_nonce ? NULL : nonce, sizeof(nonce), now,
                                  cfg->max_skew, &res, eb);
    if (e) {
        vouch_fail_prefix(eb, e, "'%s': ", subj);
        goto soft;
    }
    *ret = res;
    if (res.status == VOUCH_OCSP_STATUS_REVOKED &&
        !(cfg->allow_hold && res.reason == 6 /* certificateHold */)) {
        const char *why = vouch_ocsp_reason_name(res.reason);

        e = vouch_fail(eb, VOUCH_E_REVOKED, "OCSP: '%s' is revoked (%s)", subj,
                       why ? why : "?");
        goto out;
    }
    if (res.status == VOUCH_OCSP_STATUS_UNKNOWN && cfg->mode == VOUCH_OCSP_REQUIRE)
        e = vouch_fail(eb, VOUCH_E_VERIFY, "OCSP: responder does not know '%s'", subj);
    goto out;
soft:
    /* No usable answer: only REQUIRE turns that into a failure. */
    if (cfg->mode != VOUCH_OCSP_REQUIRE)
        e = VOUCH_OK;
out:
    OPENSSL_free(req);
    free(resp);
    return e;
}

vouch_err vouch_ocsp_query_chain(const struct vouch_ocsp_config *cfg, STACK_OF(X509) *chain,
                                 int first, STACK_OF(X509) *roots, int64_t now,
                                 struct vouch_ocsp_result *ret, struct vouch_errbuf *eb)
{
    struct vouch_ocsp_result worst = { VOUCH_OCSP_STATUS_GOOD, -1, true, true, 0, 0 };
    vouch_err e = VOUCH_OK, first_err = VOUCH_OK;
    int i, n = sk_X509_num(chain);

    if (!cfg || cfg->mode == VOUCH_OCSP_OFF || n - 1 <= first) {
        memset(ret, 0, sizeof(*ret));
        ret->reason = -1;
        return VOUCH_OK;
    }
    for (i = first; i < n - 1; i++) {
        struct vouch_ocsp_result r;
        struct vouch_errbuf local;

        e = vouch_ocsp_query(cfg, sk_X509_value(chain, i), sk_X509_value(chain, i + 1), roots,
                             now, &r, first_err ? &local : eb);
        if (e && !first_err)
            first_err = e;
        if (r.status == VOUCH_OCSP_STATUS_REVOKED) {
            if (worst.status != VOUCH_OCSP_STATUS_REVOKED)
                worst = r;
        } else if (r.status == VOUCH_OCSP_STATUS_UNKNOWN &&
                   worst.status == VOUCH_OCSP_STATUS_GOOD) {
            worst = r;
        } else if (worst.status == VOUCH_OCSP_STATUS_GOOD) {
            worst.this_update = r.this_update;
            worst.next_update = r.next_update;
            worst.nonce_match = worst.nonce_match && r.nonce_match;
        }
    }
    *ret = worst;
    return first_err;
}
