/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Quote verification: Intel QVL's algorithm (shared/specs/dcap-algorithm.md)
 * over collateral from a struct vouch_dcap_source, with a cache of
 * verified objects so a warm verification costs one quote signature check
 * plus parsing.
 *
 * Every verified object is keyed by the SHA-256 of the bytes it was
 * verified from plus what it was verified against (the trust anchor, the
 * issuer), so a cache hit means "these exact bytes already passed".  Time
 * is never cached: each object keeps its validity window and every call
 * judges it at its own `now`.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/time.h"
#include "crypto/digest.h"
#include "crypto/sig.h"
#include "crypto/x509.h"
#include "evidence/dcap/dcap_int.h"

struct vouch_dcap_ctx {
    const struct vouch_dcap_source *src;
    X509 *root;
    uint8_t root_fpr[32];
    uint8_t root_key_id[48];
    struct vouch_dcap_window root_window;
    struct dcap_cache cache;
};

/* Verified objects held by the cache. */
struct v_crl {
    X509_CRL *crl;
    struct vouch_dcap_window w;
    int64_t num;
};

struct v_chain {
    X509 *leaf, *inter;
    struct vouch_dcap_pck_info info;
    struct vouch_dcap_window w;   /* leaf, intermediate and root */
    uint8_t inter_fpr[32];
};

struct v_tcb {
    struct vouch_dcap_tcb_info *ti;
    struct vouch_dcap_window w;   /* signing chain + issueDate/nextUpdate */
};

struct v_qe {
    struct vouch_dcap_qe_identity *qi;
    struct vouch_dcap_window w;
};

struct v_signer {                 /* a verified TCB signing chain */
    EVP_PKEY *key;
    struct vouch_dcap_window w;
};

static void free_signer(void *p)
{
    struct v_signer *v = p;

    if (v)
        EVP_PKEY_free(v->key);
    free(v);
}

static void free_crl(void *p)
{
    struct v_crl *c = p;

    if (c)
        X509_CRL_free(c->crl);
    free(c);
}

static void free_chain(void *p)
{
    struct v_chain *c = p;

    if (c) {
        X509_free(c->leaf);
        X509_free(c->inter);
    }
    free(c);
}

static void free_tcb(void *p)
{
    struct v_tcb *t = p;

    if (t)
        vouch_dcap_tcb_info_free(t->ti);
    free(t);
}

static void free_qe(void *p)
{
    struct v_qe *q = p;

    if (q)
        vouch_dcap_qe_identity_free(q->qi);
    free(q);
}

/* ---------------------------------------------------------------------- */

static vouch_err root_key_id(X509 *root, uint8_t out[48])
{
    EVP_PKEY *pk = X509_get0_pubkey(root);
    unsigned char *pt = NULL;
    size_t n;
    vouch_err e;

    if (!pk)
        return VOUCH_E_INVALID;
    n = EVP_PKEY_get1_encoded_public_key(pk, &pt);
    if (n == 0)
        return VOUCH_E_INVALID;
    e = vouch_hash(VOUCH_HASH_SHA384, pt, n, out);
    OPENSSL_free(pt);
    return e;
}

vouch_err vouch_dcap_ctx_new(const struct vouch_dcap_source *src, X509 *root,
                             struct vouch_dcap_ctx **ret, struct vouch_errbuf *eb)
{
    struct vouch_dcap_ctx *ctx;
    int64_t nb, na;
    vouch_err e = VOUCH_OK;

    ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    ctx->src = src;
    dcap_cache_init(&ctx->cache);
    if (root) {
        X509_up_ref(root);
        ctx->root = root;
    } else if (src && src->get_root) {
        struct vouch_dcap_doc doc;

        memset(&doc, 0, sizeof(doc));
        e = src->get_root(src->ctx, &doc, eb);
        if (e == VOUCH_OK) {
            if (doc.len >= 10 && memmem(doc.data, doc.len, "-----BEGIN", 10)) {
                STACK_OF(X509) *sk = NULL;

                e = vouch_x509_parse_pem_chain((const char *)doc.data, doc.len, 1, &sk, eb);
                if (!e)
                    ctx->root = sk_X509_shift(sk);
                sk_X509_pop_free(sk, X509_free);
            } else {
                e = vouch_x509_parse_der(doc.data, doc.len, &ctx->root, eb);
            }
            if (src->release)
                src->release(src->ctx, &doc);
            if (e) {
                vouch_fail_prefix(eb, e, "root: ");
                goto out;
            }
        } else if (e != VOUCH_E_NOT_FOUND) {
            vouch_fail_prefix(eb, e, "root: ");
            goto out;
        }
        e = VOUCH_OK;
    }
    if (!ctx->root) {
        ctx->root = vouch_dcap_intel_root();
        if (!ctx->root) {
            e = vouch_fail(eb, VOUCH_E_INTERNAL, "cannot load the Intel SGX Root CA");
            goto out;
        }
        X509_up_ref(ctx->root);
    }
    if (vouch_x509_fingerprint(ctx->root, ctx->root_fpr) ||
        root_key_id(ctx->root, ctx->root_key_id) ||
        vouch_x509_validity(ctx->root, &nb, &na)) {
        e = vouch_fail(eb, VOUCH_E_INVALID, "root: unusable certificate");
        goto out;
    }
    ctx->root_window.not_before = nb;
    ctx->root_window.first_issue = nb;
    ctx->root_window.not_after = na;
out:
    if (e) {
        vouch_dcap_ctx_free(ctx);
        return e;
    }
    *ret = ctx;
    return VOUCH_OK;
}

void vouch_dcap_ctx_free(struct vouch_dcap_ctx *ctx)
{
    if (!ctx)
        return;
    dcap_cache_destroy(&ctx->cache);
    X509_free(ctx->root);
    free(ctx);
}

void vouch_dcap_ctx_flush(struct vouch_dcap_ctx *ctx)
{
    dcap_cache_flush(&ctx->cache);
}

void vouch_dcap_ctx_stats(struct vouch_dcap_ctx *ctx, struct vouch_dcap_stats *ret)
{
    dcap_cache_stats(&ctx->cache, ret);
}

void vouch_dcap_result_free(struct vouch_dcap_result *r)
{
    if (!r)
        return;
    json_decref(r->advisory_ids);
    json_decref(r->claims);
    free(r);
}

/* ---------------------------------------------------------------------- */
/* Keys                                                                    */

/* key = SHA-256(tag || part1 || part2 || ...), parts given as (ptr, len). */
static vouch_err make_key(uint8_t key[32], const char *tag, const void *a, size_t an,
                          const void *b, size_t bn, const void *c, size_t cn,
                          const void *d, size_t dn)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    vouch_err e = VOUCH_E_INTERNAL;

    if (!md)
        return VOUCH_E_NOMEM;
    if (EVP_DigestInit_ex(md, vouch_hash_md(VOUCH_HASH_SHA256), NULL) == 1 &&
        EVP_DigestUpdate(md, tag, strlen(tag) + 1) == 1 &&
        (!an || EVP_DigestUpdate(md, a, an) == 1) &&
        (!bn || EVP_DigestUpdate(md, b, bn) == 1) &&
        (!cn || EVP_DigestUpdate(md, c, cn) == 1) &&
        (!dn || EVP_DigestUpdate(md, d, dn) == 1) &&
        EVP_DigestFinal_ex(md, key, NULL) == 1)
        e = VOUCH_OK;
    EVP_MD_CTX_free(md);
    return e;
}

static vouch_err doc_hash(const struct vouch_dcap_doc *doc, uint8_t out[32])
{
    if (doc->sha256) {
        memcpy(out, doc->sha256, 32);
        return VOUCH_OK;
    }
    return vouch_hash(VOUCH_HASH_SHA256, doc->data, doc->len, out);
}

/* ---------------------------------------------------------------------- */
/* Verified objects                                                         */

static vouch_err get_crl(struct vouch_dcap_ctx *ctx, const struct vouch_dcap_doc *doc,
                         X509 *issuer, const uint8_t issuer_fpr[32], int64_t now,
                         struct dcap_centry **ret, struct vouch_errbuf *eb)
{
    struct dcap_centry *ce;
    struct v_crl *v;
    uint8_t h[32], key[32];
    vouch_err e;

    if ((e = doc_hash(doc, h)) || (e = make_key(key, "crl", h, 32, issuer_fpr, 32, NULL, 0,
                                                NULL, 0)))
        return vouch_fail(eb, e, "cannot hash");
    ce = dcap_cache_get(&ctx->cache, key, now);
    if (ce) {
        *ret = ce;
        return VOUCH_OK;
    }
    v = calloc(1, sizeof(*v));
    if (!v)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    e = vouch_dcap_crl_verify(doc->data, doc->len, issuer, &v->crl, &v->w, &v->num, eb);
    if (e) {
        free_crl(v);
        return e;
    }
    ce = dcap_cache_put(&ctx->cache, key, v, free_crl, v->w.not_after);
    if (!ce)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    *ret = ce;
    return VOUCH_OK;
}

static bool cn_contains(X509_NAME *name, const char *what)
{
    char cn[256];

    cn[0] = '\0';
    X509_NAME_get_text_by_NID(name, NID_commonName, cn, sizeof(cn));
    return strstr(cn, what) != NULL;
}

static void window_cert(struct vouch_dcap_window *w, X509 *x)
{
    int64_t nb, na;

    if (vouch_x509_validity(x, &nb, &na))
        return;
    if (nb > w->not_before)
        w->not_before = nb;
    if (na < w->not_after)
        w->not_after = na;
    if (nb < w->first_issue)
        w->first_issue = nb;
}

static void window_merge(struct vouch_dcap_window *w, const struct vouch_dcap_window *o)
{
    if (o->not_before > w->not_before)
        w->not_before = o->not_before;
    if (o->not_after < w->not_after)
        w->not_after = o->not_after;
    if (o->first_issue < w->first_issue)
        w->first_issue = o->first_issue;
}

/* Verify the quote's PCK chain (leaf, intermediate, root) up to the trusted root. */
static vouch_err verify_chain(struct vouch_dcap_ctx *ctx, const char *pem, size_t len,
                              struct v_chain **ret, struct vouch_errbuf *eb)
{
    STACK_OF(X509) *sk = NULL;
    struct v_chain *v;
    X509 *leaf = NULL, *inter = NULL;
    bool have_root = false;
    vouch_err e;
    int i;

    v = calloc(1, sizeof(*v));
    if (!v)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    v->w.not_before = INT64_MIN;
    v->w.not_after = INT64_MAX;
    v->w.first_issue = INT64_MAX;
    e = vouch_x509_parse_pem_chain(pem, len, 3, &sk, eb);
    if (e)
        goto out;
    for (i = 0; i < sk_X509_num(sk); i++) {
        X509 *x = sk_X509_value(sk, i);

        if (X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0) {
            if (X509_cmp(x, ctx->root) != 0) {
                e = vouch_fail(eb, VOUCH_E_VERIFY, "the chain's root is not the trusted "
                               "root");
                goto out;
            }
            have_root = true;
        } else if (X509_NAME_cmp(X509_get_issuer_name(x),
                                 X509_get_subject_name(ctx->root)) == 0) {
            inter = x;
        } else {
            leaf = x;
        }
    }
    if (!leaf || !inter || !have_root || sk_X509_num(sk) != 3) {
        e = vouch_fail(eb, VOUCH_E_INVALID, "expected PCK certificate, PCK CA and root; "
                       "got %d certificates", sk_X509_num(sk));
        goto out;
    }
    if (!cn_contains(X509_get_subject_name(inter), "CA") ||
        !cn_contains(X509_get_subject_name(leaf), "SGX PCK Certificate")) {
        e = vouch_fail(eb, VOUCH_E_VERIFY, "certificate names are not those of an Intel PCK "
                       "chain");
        goto out;
    }
    if (X509_check_ca(inter) < 1) {
        e = vouch_fail(eb, VOUCH_E_VERIFY, "the PCK CA certificate is not a CA");
        goto out;
    }
    if (X509_verify(inter, X509_get0_pubkey(ctx->root)) != 1) {
        e = vouch_fail(eb, VOUCH_E_VERIFY, "the PCK CA certificate is not signed by the "
                       "trusted root");
        goto out;
    }
    if (X509_NAME_cmp(X509_get_issuer_name(leaf), X509_get_subject_name(inter)) != 0 ||
        X509_verify(leaf, X509_get0_pubkey(inter)) != 1) {
        e = vouch_fail(eb, VOUCH_E_VERIFY, "the PCK certificate is not signed by the PCK "
                       "CA");
        goto out;
    }
    if (!X509_get0_pubkey(leaf) || vouch_ec_field_size(X509_get0_pubkey(leaf)) != 32) {
        e = vouch_fail(eb, VOUCH_E_VERIFY, "the PCK key is not a P-256 key");
        goto out;
    }
    e = vouch_dcap_pck_info_parse(leaf, &v->info, eb);
    if (e)
        goto out;
    if (vouch_x509_fingerprint(inter, v->inter_fpr)) {
        e = vouch_fail(eb, VOUCH_E_INTERNAL, "cannot hash");
        goto out;
    }
    window_cert(&v->w, leaf);
    window_cert(&v->w, inter);
    window_merge(&v->w, &ctx->root_window);
    X509_up_ref(leaf);
    X509_up_ref(inter);
    v->leaf = leaf;
    v->inter = inter;
    *ret = v;
    v = NULL;
out:
    ERR_clear_error();
    sk_X509_pop_free(sk, X509_free);
    free_chain(v);
    return e;
}

static vouch_err get_chain(struct vouch_dcap_ctx *ctx, const struct vouch_dcap_quote *q,
                           int64_t now, struct dcap_centry **ret, uint8_t ret_hash[32],
                           struct vouch_errbuf *eb)
{
    struct dcap_centry *ce;
    struct v_chain *v = NULL;
    uint8_t key[32];
    vouch_err e;

    if ((e = vouch_hash(VOUCH_HASH_SHA256, q->cert_data, q->cert_len, ret_hash)) ||
        (e = make_key(key, "pck", ret_hash, 32, ctx->root_fpr, 32, NULL, 0, NULL, 0)))
        return vouch_fail(eb, e, "pck chain: cannot hash");
    ce = dcap_cache_get(&ctx->cache, key, now);
    if (ce) {
        *ret = ce;
        return VOUCH_OK;
    }
    e = verify_chain(ctx, (const char *)q->cert_data, q->cert_len, &v, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "pck chain: ");
    ce = dcap_cache_put(&ctx->cache, key, v, free_chain, v->w.not_after);
    if (!ce)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    *ret = ce;
    return VOUCH_OK;
}

/* The signing chain and document signature of a TCB info or QE identity. */
static vouch_err signed_doc_key(struct vouch_dcap_ctx *ctx, const char *tag,
                                const struct vouch_dcap_doc *doc,
                                const struct dcap_centry *root_crl, uint8_t key[32],
                                struct vouch_errbuf *eb)
{
    uint8_t h[32], ch[32];
    vouch_err e;

    if (!doc->sig_hex || !doc->issuer_chain)
        return vouch_fail(eb, VOUCH_E_INVALID, "no signature or issuer chain");
    if ((e = doc_hash(doc, h)) ||
        (e = vouch_hash(VOUCH_HASH_SHA256, doc->issuer_chain, doc->issuer_chain_len, ch)) ||
        (e = make_key(key, tag, h, 32, doc->sig_hex, doc->sig_len, ch, 32, root_crl->key,
                      32)) ||
        (e = make_key(key, tag, key, 32, ctx->root_fpr, 32, NULL, 0, NULL, 0)))
        return vouch_fail(eb, e, "cannot hash");
    return VOUCH_OK;
}

/*
 * The TCB info and the QE identity usually share their issuer chain: verify
 * it once (keyed by its bytes, the root CRL and the root).
 */
static vouch_err get_signer(struct vouch_dcap_ctx *ctx, const struct vouch_dcap_doc *doc,
                            struct dcap_centry *root_crl, int64_t now, struct dcap_centry **ret,
                            struct vouch_errbuf *eb)
{
    const struct v_crl *crl = root_crl->val;
    struct dcap_centry *ce;
    struct v_signer *v;
    uint8_t ch[32], key[32];
    vouch_err e;

    if ((e = vouch_hash(VOUCH_HASH_SHA256, doc->issuer_chain, doc->issuer_chain_len, ch)) ||
        (e = make_key(key, "signer", ch, 32, root_crl->key, 32, ctx->root_fpr, 32, NULL, 0)))
        return vouch_fail(eb, e, "cannot hash");
    ce = dcap_cache_get(&ctx->cache, key, now);
    if (ce) {
        *ret = ce;
        return VOUCH_OK;
    }
    v = calloc(1, sizeof(*v));
    if (!v)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    e = vouch_dcap_signing_chain_verify(doc->issuer_chain, doc->issuer_chain_len, ctx->root,
                                        crl->crl, &v->key, &v->w, eb);
    if (e) {
        free_signer(v);
        return e;
    }
    ce = dcap_cache_put(&ctx->cache, key, v, free_signer, v->w.not_after);
    if (!ce)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    *ret = ce;
    return VOUCH_OK;
}

static vouch_err get_tcb(struct vouch_dcap_ctx *ctx, const struct vouch_dcap_doc *doc,
                         struct dcap_centry *root_crl, int64_t now,
                         struct dcap_centry **ret, struct vouch_errbuf *eb)
{
    struct dcap_centry *ce, *c_sig = NULL;
    struct v_tcb *v;
    uint8_t k[32];
    vouch_err e;

    if ((e = signed_doc_key(ctx, "tcb", doc, root_crl, k, eb)))
        return e;
    ce = dcap_cache_get(&ctx->cache, k, now);
    if (ce) {
        *ret = ce;
        return VOUCH_OK;
    }
    v = calloc(1, sizeof(*v));
    if (!v)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    e = vouch_dcap_tcb_info_parse((const char *)doc->data, doc->len, doc->sig_hex,
                                  doc->sig_len, &v->ti, eb);
    if (e)
        goto out;
    e = get_signer(ctx, doc, root_crl, now, &c_sig, eb);
    if (e) {
        vouch_fail_prefix(eb, e, "tcb info: ");
        goto out;
    }
    v->w = ((const struct v_signer *)c_sig->val)->w;
    e = vouch_dcap_tcb_info_verify_sig(v->ti, ((const struct v_signer *)c_sig->val)->key, eb);
    if (e)
        goto out;
    if (v->ti->issue_date > v->w.not_before)
        v->w.not_before = v->ti->issue_date;
    if (v->ti->issue_date < v->w.first_issue)
        v->w.first_issue = v->ti->issue_date;
    if (v->ti->next_update < v->w.not_after)
        v->w.not_after = v->ti->next_update;
    ce = dcap_cache_put(&ctx->cache, k, v, free_tcb, v->w.not_after);
    v = NULL;
    if (!ce) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    *ret = ce;
out:
    dcap_centry_unref(c_sig);
    free_tcb(v);
    return e;
}

static vouch_err get_qe(struct vouch_dcap_ctx *ctx, const struct vouch_dcap_doc *doc,
                        struct dcap_centry *root_crl, int64_t now, struct dcap_centry **ret,
                        struct vouch_errbuf *eb)
{
    struct dcap_centry *ce, *c_sig = NULL;
    struct v_qe *v;
    uint8_t k[32];
    vouch_err e;

    if ((e = signed_doc_key(ctx, "qe", doc, root_crl, k, eb)))
        return vouch_fail_prefix(eb, e, "qe identity: ");
    ce = dcap_cache_get(&ctx->cache, k, now);
    if (ce) {
        *ret = ce;
        return VOUCH_OK;
    }
    v = calloc(1, sizeof(*v));
    if (!v)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    e = vouch_dcap_qe_identity_parse((const char *)doc->data, doc->len, doc->sig_hex,
                                     doc->sig_len, &v->qi, eb);
    if (e)
        goto out;
    e = get_signer(ctx, doc, root_crl, now, &c_sig, eb);
    if (e) {
        vouch_fail_prefix(eb, e, "qe identity: ");
        goto out;
    }
    v->w = ((const struct v_signer *)c_sig->val)->w;
    e = vouch_dcap_qe_identity_verify_sig(v->qi, ((const struct v_signer *)c_sig->val)->key, eb);
    if (e)
        goto out;
    if (v->qi->issue_date > v->w.not_before)
        v->w.not_before = v->qi->issue_date;
    if (v->qi->issue_date < v->w.first_issue)
        v->w.first_issue = v->qi->issue_date;
    if (v->qi->next_update < v->w.not_after)
        v->w.not_after = v->qi->next_update;
    ce = dcap_cache_put(&ctx->cache, k, v, free_qe, v->w.not_after);
    v = NULL;
    if (!ce) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    *ret = ce;
out:
    dcap_centry_unref(c_sig);
    free_qe(v);
    return e;
}

/* ---------------------------------------------------------------------- */
/* Per-call checks                                                          */

struct times {
    int64_t now;
    int expired;
    int64_t earliest_issue, latest_issue, earliest_expiration;
};

/* Judge one validity window at `now`: the future is an error, the past a flag. */
static vouch_err judge(struct times *t, const struct vouch_dcap_window *w, const char *step,
                       struct vouch_errbuf *eb)
{
    char when[VOUCH_RFC3339_LEN];

    if (t->now < w->not_before) {
        vouch_time_format_rfc3339(w->not_before, when);
        return vouch_fail(eb, VOUCH_E_NOT_YET_VALID, "%s: not valid before %s", step, when);
    }
    if (t->now > w->not_after)
        t->expired = 1;
    if (w->first_issue < t->earliest_issue)
        t->earliest_issue = w->first_issue;
    if (w->not_before > t->latest_issue)
        t->latest_issue = w->not_before;
    if (w->not_after < t->earliest_expiration)
        t->earliest_expiration = w->not_after;
    return VOUCH_OK;
}

static vouch_err fetch(const char *step, struct vouch_errbuf *eb, vouch_err e)
{
    if (e == VOUCH_E_NOT_FOUND)
        return vouch_fail_prefix(eb, e, "%s: collateral missing: ", step);
    if (e)
        return vouch_fail_prefix(eb, e, "%s: ", step);
    return VOUCH_OK;
}

static void release(const struct vouch_dcap_source *src, struct vouch_dcap_doc *doc)
{
    if (doc->data && src->release)
        src->release(src->ctx, doc);
    memset(doc, 0, sizeof(*doc));
}

static bool masked_eq(const uint8_t *v, const uint8_t *mask, const uint8_t *want, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if ((v[i] & mask[i]) != (want[i] & mask[i]))
            return false;
    return true;
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

/* QE report signature by the PCK key, cached per (chain, QE report, signature). */
static vouch_err check_qe_report(struct vouch_dcap_ctx *ctx, const struct vouch_dcap_quote *q,
                                 const struct v_chain *chain, const uint8_t chain_hash[32],
                                 int64_t now, struct vouch_errbuf *eb)
{
    struct dcap_centry *ce;
    uint8_t key[32];
    vouch_err e;

    if (make_key(key, "qer", chain_hash, 32, q->qe_report, VOUCH_DCAP_SGX_REPORT_LEN,
                 q->qe_report_sig, 64, ctx->root_fpr, 32))
        return vouch_fail(eb, VOUCH_E_INTERNAL, "qe report signature: cannot hash");
    ce = dcap_cache_get(&ctx->cache, key, now);
    if (ce) {
        dcap_centry_unref(ce);
        return VOUCH_OK;
    }
    e = vouch_ecdsa_verify_raw(X509_get0_pubkey(chain->leaf), VOUCH_HASH_SHA256, q->qe_report,
                               VOUCH_DCAP_SGX_REPORT_LEN, q->qe_report_sig, 64, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "qe report signature: ");
    dcap_centry_unref(dcap_cache_put(&ctx->cache, key, NULL, NULL, chain->w.not_after));
    return VOUCH_OK;
}

static vouch_err check_qe_identity(const struct vouch_dcap_qe_identity *qi,
                                   const uint8_t *rep, struct vouch_errbuf *eb)
{
    if (!masked_eq(rep + VOUCH_DCAP_SGX_MISC_SELECT, qi->miscselect_mask, qi->miscselect, 4))
        return vouch_fail(eb, VOUCH_E_VERIFY, "qe identity match: MISCSELECT differs");
    if (!masked_eq(rep + VOUCH_DCAP_SGX_ATTRIBUTES, qi->attributes_mask, qi->attributes, 16))
        return vouch_fail(eb, VOUCH_E_VERIFY, "qe identity match: ATTRIBUTES differ");
    if (memcmp(rep + VOUCH_DCAP_SGX_MR_SIGNER, qi->mrsigner, 32) != 0)
        return vouch_fail(eb, VOUCH_E_VERIFY, "qe identity match: MRSIGNER differs");
    if (le16(rep + VOUCH_DCAP_SGX_ISV_PROD_ID) != qi->isvprodid)
        return vouch_fail(eb, VOUCH_E_VERIFY, "qe identity match: ISVPRODID %u, expected %u",
                          le16(rep + VOUCH_DCAP_SGX_ISV_PROD_ID), qi->isvprodid);
    return VOUCH_OK;
}

/* QVL TdxModuleCheck: MRSIGNERSEAM and SEAM attributes against the module identity. */
static vouch_err check_tdx_module(const struct vouch_dcap_tcb_info *ti, const uint8_t *body,
                                  struct vouch_errbuf *eb)
{
    const uint8_t *svn = body + VOUCH_DCAP_TD_TEE_TCB_SVN;
    const struct vouch_dcap_tdx_module *m = &ti->tdx_module;

    if (svn[1] > 0) {
        m = dcap_find_module(ti, svn[1]);
        if (!m)
            return vouch_fail(eb, VOUCH_E_VERIFY, "tdx module: no identity TDX_%02X in the "
                              "TCB info (module mismatch)", svn[1]);
    }
    if (memcmp(body + VOUCH_DCAP_TD_MRSIGNER_SEAM, m->mrsigner, 48) != 0)
        return vouch_fail(eb, VOUCH_E_VERIFY, "tdx module: MRSIGNERSEAM is not the module "
                          "signer's (module mismatch)");
    if (memcmp(body + VOUCH_DCAP_TD_SEAM_ATTRIBUTES, m->attributes, 8) != 0)
        return vouch_fail(eb, VOUCH_E_VERIFY, "tdx module: SEAM attributes differ from the "
                          "module identity's (module mismatch)");
    return VOUCH_OK;
}

static void free_pkey(void *p)
{
    EVP_PKEY_free(p);
}

/*
 * Quote signature by the attestation key.  The imported key is cached by
 * its bytes (a QE keeps one attestation key for many quotes); the
 * signature itself is checked every time.
 */
static vouch_err check_quote_sig(struct vouch_dcap_ctx *ctx, const struct vouch_dcap_quote *q,
                                 int64_t now, struct vouch_errbuf *eb)
{
    struct dcap_centry *ce;
    EVP_PKEY *ak = NULL;
    uint8_t key[32];
    vouch_err e;

    if (make_key(key, "ak", q->attest_key, 64, NULL, 0, NULL, 0, NULL, 0))
        return vouch_fail(eb, VOUCH_E_INTERNAL, "quote signature: cannot hash");
    ce = dcap_cache_get(&ctx->cache, key, now);
    if (!ce) {
        e = vouch_ec_pubkey_from_xy(q->attest_key, 64, &ak, eb);
        if (e)
            return vouch_fail_prefix(eb, e, "quote signature: ");
        ce = dcap_cache_put(&ctx->cache, key, ak, free_pkey, INT64_MAX);
        if (!ce) /* the cache freed the key */
            return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    e = vouch_ecdsa_verify_raw(ce->val, VOUCH_HASH_SHA256, q->raw, q->signed_len, q->signature,
                               64, eb);
    dcap_centry_unref(ce);
    return e ? vouch_fail_prefix(eb, e, "quote signature: ") : VOUCH_OK;
}

/* ---------------------------------------------------------------------- */

vouch_err vouch_dcap_verify(struct vouch_dcap_ctx *ctx, const uint8_t *quote, size_t len,
                            int64_t now, struct vouch_dcap_result **ret,
                            struct vouch_errbuf *eb)
{
    const struct vouch_dcap_source *src = ctx->src;
    struct vouch_dcap_doc d_root_crl, d_pck_crl, d_tcb, d_qe;
    struct dcap_centry *c_root_crl = NULL, *c_pck_crl = NULL, *c_chain = NULL;
    struct dcap_centry *c_tcb = NULL, *c_qe = NULL;
    const struct v_chain *chain;
    const struct v_crl *root_crl, *pck_crl;
    const struct vouch_dcap_tcb_info *ti;
    const struct vouch_dcap_qe_identity *qi;
    struct vouch_dcap_result *r = NULL;
    struct vouch_dcap_quote q;
    struct times t = { now, 0, INT64_MAX, INT64_MIN, INT64_MAX };
    struct dcap_eval ev = { 0 };
    enum vouch_dcap_tee tee;
    uint8_t chain_hash[32], h[32];
    X509_REVOKED *rev;
    const uint8_t *svn2 = NULL;
    vouch_err e;

    memset(&d_root_crl, 0, sizeof(d_root_crl));
    memset(&d_pck_crl, 0, sizeof(d_pck_crl));
    memset(&d_tcb, 0, sizeof(d_tcb));
    memset(&d_qe, 0, sizeof(d_qe));

    e = vouch_dcap_quote_parse(quote, len, &q, eb);
    if (e)
        return e;
    tee = q.tee_type == VOUCH_DCAP_TEE_TDX ? VOUCH_DCAP_TEE_TDX : VOUCH_DCAP_TEE_SGX;
    if (q.cert_type != 5)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "pck chain: certification data type %u "
                          "carries no PCK chain (type 5 is needed)", q.cert_type);
    if (!src)
        return vouch_fail(eb, VOUCH_E_NOT_FOUND, "root ca crl: no collateral source");

    /* Root CA CRL, signed by the trusted root. */
    e = fetch("root ca crl", eb, src->get_root_ca_crl(src->ctx, &d_root_crl, eb));
    if (e)
        goto out;
    e = get_crl(ctx, &d_root_crl, ctx->root, ctx->root_fpr, now, &c_root_crl, eb);
    if (e) {
        vouch_fail_prefix(eb, e, "root ca crl: ");
        goto out;
    }
    root_crl = c_root_crl->val;
    if ((e = judge(&t, &root_crl->w, "root ca crl", eb)))
        goto out;

    /* PCK chain from the quote, to the trusted root; not revoked. */
    e = get_chain(ctx, &q, now, &c_chain, chain_hash, eb);
    if (e)
        goto out;
    chain = c_chain->val;
    if ((e = judge(&t, &chain->w, "pck chain", eb)))
        goto out;
    if (X509_CRL_get0_by_cert(root_crl->crl, &rev, chain->inter) == 1) {
        e = vouch_fail(eb, VOUCH_E_REVOKED, "pck chain: the PCK CA certificate is revoked");
        goto out;
    }

    /* PCK CRL of the issuing CA, signed by it. */
    e = fetch("pck crl", eb, src->get_pck_crl(src->ctx, chain->info.ca, &d_pck_crl, eb));
    if (e)
        goto out;
    e = get_crl(ctx, &d_pck_crl, chain->inter, chain->inter_fpr, now, &c_pck_crl, eb);
    if (e) {
        vouch_fail_prefix(eb, e, "pck crl: ");
        goto out;
    }
    pck_crl = c_pck_crl->val;
    if ((e = judge(&t, &pck_crl->w, "pck crl", eb)))
        goto out;
    if (X509_CRL_get0_by_cert(pck_crl->crl, &rev, chain->leaf) == 1) {
        e = vouch_fail(eb, VOUCH_E_REVOKED, "pck chain: the PCK certificate is revoked");
        goto out;
    }

    /* TCB info for the platform's FMSPC. */
    e = fetch("tcb info", eb, src->get_tcb_info(src->ctx, tee, chain->info.fmspc,
                                                      &d_tcb, eb));
    if (e)
        goto out;
    e = get_tcb(ctx, &d_tcb, c_root_crl, now, &c_tcb, eb);
    if (e)
        goto out;
    ti = ((const struct v_tcb *)c_tcb->val)->ti;
    if ((e = judge(&t, &((const struct v_tcb *)c_tcb->val)->w, "tcb info", eb)))
        goto out;
    if (ti->tee != tee) {
        e = vouch_fail(eb, VOUCH_E_VERIFY, "tcb info: a %s TCB info for a %s quote",
                       ti->tee == VOUCH_DCAP_TEE_TDX ? "TDX" : "SGX",
                       tee == VOUCH_DCAP_TEE_TDX ? "TDX" : "SGX");
        goto out;
    }
    if (memcmp(ti->fmspc, chain->info.fmspc, 6) != 0) {
        e = vouch_fail(eb, VOUCH_E_VERIFY, "tcb info: FMSPC differs from the PCK "
                       "certificate's");
        goto out;
    }
    if (memcmp(ti->pce_id, chain->info.pce_id, 2) != 0) {
        e = vouch_fail(eb, VOUCH_E_VERIFY, "tcb info: PCE-ID differs from the PCK "
                       "certificate's");
        goto out;
    }

    /* QE identity. */
    e = fetch("qe identity", eb, src->get_qe_identity(src->ctx, tee, &d_qe, eb));
    if (e)
        goto out;
    e = get_qe(ctx, &d_qe, c_root_crl, now, &c_qe, eb);
    if (e)
        goto out;
    qi = ((const struct v_qe *)c_qe->val)->qi;
    if ((e = judge(&t, &((const struct v_qe *)c_qe->val)->w, "qe identity", eb)))
        goto out;
    if (strcmp(qi->id, tee == VOUCH_DCAP_TEE_TDX ? "TD_QE" : "QE") != 0) {
        e = vouch_fail(eb, VOUCH_E_VERIFY, "qe identity: identity \"%s\" for a %s quote",
                       qi->id, tee == VOUCH_DCAP_TEE_TDX ? "TDX" : "SGX");
        goto out;
    }

    /* The quote: QE report by the PCK key, its binding, the QE, the quote. */
    if ((e = check_qe_report(ctx, &q, chain, chain_hash, now, eb)))
        goto out;
    {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        int ok = md && EVP_DigestInit_ex(md, vouch_hash_md(VOUCH_HASH_SHA256), NULL) == 1 &&
                 EVP_DigestUpdate(md, q.attest_key, 64) == 1 &&
                 (!q.qe_auth_len || EVP_DigestUpdate(md, q.qe_auth_data, q.qe_auth_len) == 1) &&
                 EVP_DigestFinal_ex(md, h, NULL) == 1;

        EVP_MD_CTX_free(md);
        if (!ok) {
            e = vouch_fail(eb, VOUCH_E_INTERNAL, "qe report data: cannot hash");
            goto out;
        }
        if (memcmp(h, q.qe_report + VOUCH_DCAP_SGX_REPORT_DATA, 32) != 0) {
            e = vouch_fail(eb, VOUCH_E_VERIFY, "qe report data: SHA-256(attestation key || "
                           "QE auth data) does not match the QE report");
            goto out;
        }
    }
    if ((e = check_qe_identity(qi, q.qe_report, eb)))
        goto out;
    if ((e = check_quote_sig(ctx, &q, now, eb)))
        goto out;

    /* TCB levels. */
    if (tee == VOUCH_DCAP_TEE_TDX) {
        if ((e = check_tdx_module(ti, q.body, eb)))
            goto out;
        if (q.body_type == VOUCH_DCAP_BODY_TD15)
            svn2 = q.body + VOUCH_DCAP_TD_TEE_TCB_SVN2;
    }
    e = dcap_evaluate(&chain->info, ti, qi, le16(q.qe_report + VOUCH_DCAP_SGX_ISV_SVN),
                      tee == VOUCH_DCAP_TEE_TDX ? q.body + VOUCH_DCAP_TD_TEE_TCB_SVN : NULL,
                      svn2, &ev, eb);
    if (e)
        goto out;
    if (ev.status == VOUCH_DCAP_REVOKED) {
        e = vouch_fail(eb, VOUCH_E_REVOKED, "tcb status: the platform TCB is Revoked");
        goto out;
    }

    r = calloc(1, sizeof(*r));
    if (!r) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    r->quote = q;
    r->status = ev.status;
    r->platform_status = ev.platform_status;
    r->has_qe_status = ev.has_qe_status;
    r->qe_status = ev.qe_status;
    r->has_module_status = ev.has_module_status;
    r->module_status = ev.module_status;
    r->advisory_ids = ev.advisory_ids;
    ev.advisory_ids = NULL;
    r->collateral_expired = t.expired;
    r->tcb_date = ev.tcb_date;
    r->tcb_eval_num = ti->eval_num < qi->eval_num ? ti->eval_num : qi->eval_num;
    r->earliest_issue_date = t.earliest_issue;
    r->latest_issue_date = t.latest_issue;
    r->earliest_expiration_date = t.earliest_expiration;
    r->pck_crl_num = pck_crl->num;
    r->root_ca_crl_num = root_crl->num;
    memcpy(r->root_key_id, ctx->root_key_id, 48);
    r->pck = chain->info;
    e = vouch_dcap_claims(&q, &r->pck, r, &r->claims, eb);
    if (e)
        goto out;
    *ret = r;
    r = NULL;
out:
    json_decref(ev.advisory_ids);
    vouch_dcap_result_free(r);
    dcap_centry_unref(c_qe);
    dcap_centry_unref(c_tcb);
    dcap_centry_unref(c_pck_crl);
    dcap_centry_unref(c_chain);
    dcap_centry_unref(c_root_crl);
    release(src, &d_qe);
    release(src, &d_tcb);
    release(src, &d_pck_crl);
    release(src, &d_root_crl);
    return e;
}
