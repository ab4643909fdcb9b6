/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Quote verification: Intel QVL's algorithm, step by step (docs/dcap.md)
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

struct v_signed {                 /* a verified TCB info or QE identity */
    struct vouch_dcap_tcb_info *ti;       /* one of the two is set */
    struct vouch_dcap_qe_identity *qi;
    struct vouch_dcap_window w;   /* signing chain + issueDate/nextUpdate */
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

static void free_signed(void *p)
{
    struct v_signed *v = p;

    if (v) {
        vouch_dcap_tcb_info_free(v->ti);
        vouch_dcap_qe_identity_free(v->qi);
    }
    free(v);
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
    vouch_dcap_cache_init(&ctx->cache);
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
    vouch_dcap_cache_destroy(&ctx->cache);
    X509_free(ctx->root);
    free(ctx);
}

void vouch_dcap_ctx_flush(struct vouch_dcap_ctx *ctx)
{
    vouch_dcap_cache_flush(&ctx->cache);
}

void vouch_dcap_ctx_stats(struct vouch_dcap_ctx *ctx, struct vouch_dcap_stats *ret)
{
    vouch_dcap_cache_stats(&ctx->cache, ret);
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
    ce = vouch_dcap_cache_get(&ctx->cache, key, now);
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
    ce = vouch_dcap_cache_put(&ctx->cache, key, v, free_crl, v->w.not_after);
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
    ce = vouch_dcap_cache_get(&ctx->cache, key, now);
    if (ce) {
        *ret = ce;
        return VOUCH_OK;
    }
    e = verify_chain(ctx, (const char *)q->cert_data, q->cert_len, &v, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "pck chain: ");
    ce = vouch_dcap_cache_put(&ctx->cache, key, v, free_chain, v->w.not_after);
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
    ce = vouch_dcap_cache_get(&ctx->cache, key, now);
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
    ce = vouch_dcap_cache_put(&ctx->cache, key, v, free_signer, v->w.not_after);
    if (!ce)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    *ret = ce;
    return VOUCH_OK;
}

/*
 * The two signed collateral documents, TCB info and QE identity, go the
 * same way: parse, verify the signing chain, check the signature, narrow
 * the validity window to the document's issueDate/nextUpdate, cache.
 */
enum signed_kind { DOC_TCB_INFO, DOC_QE_IDENTITY };

static const struct {
    const char *tag;    /* cache key tag */
    const char *step;   /* error prefix */
} signed_kinds[] = {
    [DOC_TCB_INFO] = { "tcb", "tcb info" },
    [DOC_QE_IDENTITY] = { "qe", "qe identity" },
};

static vouch_err parse_signed_doc(enum signed_kind kind, const struct vouch_dcap_doc *doc,
                                  struct v_signed *v, struct vouch_errbuf *eb)
{
    if (kind == DOC_TCB_INFO)
        return vouch_dcap_tcb_info_parse((const char *)doc->data, doc->len, doc->sig_hex,
                                         doc->sig_len, &v->ti, eb);
    return vouch_dcap_qe_identity_parse((const char *)doc->data, doc->len, doc->sig_hex,
                                        doc->sig_len, &v->qi, eb);
}

/* The document's signature by the signing key; its dates narrow the window. */
static vouch_err check_signed_doc(struct v_signed *v, const struct v_signer *signer,
                                  struct vouch_errbuf *eb)
{
    int64_t issue, next;
    vouch_err e;

    if (v->ti) {
        e = vouch_dcap_tcb_info_verify_sig(v->ti, signer->key, eb);
        issue = v->ti->issue_date;
        next = v->ti->next_update;
    } else {
        e = vouch_dcap_qe_identity_verify_sig(v->qi, signer->key, eb);
        issue = v->qi->issue_date;
        next = v->qi->next_update;
    }
    if (e)
        return e;
    v->w = signer->w;
    if (issue > v->w.not_before)
        v->w.not_before = issue;
    if (issue < v->w.first_issue)
        v->w.first_issue = issue;
    if (next < v->w.not_after)
        v->w.not_after = next;
    return VOUCH_OK;
}

static vouch_err verify_signed_doc(struct vouch_dcap_ctx *ctx, enum signed_kind kind,
                                   const struct vouch_dcap_doc *doc,
                                   struct dcap_centry *root_crl, int64_t now,
                                   struct v_signed **ret, struct vouch_errbuf *eb)
{
    struct dcap_centry *c_sig = NULL;
    struct v_signed *v;
    vouch_err e;

    v = calloc(1, sizeof(*v));
    if (!v)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    e = parse_signed_doc(kind, doc, v, eb);
    if (e)
        goto out;
    e = get_signer(ctx, doc, root_crl, now, &c_sig, eb);
    if (e) {
        vouch_fail_prefix(eb, e, "%s: ", signed_kinds[kind].step);
        goto out;
    }
    e = check_signed_doc(v, c_sig->val, eb);
    if (e)
        goto out;
    *ret = v;
    v = NULL;
out:
    vouch_dcap_centry_unref(c_sig);
    free_signed(v);
    return e;
}

/* A verified TCB info or QE identity, from the cache or verified now. */
static vouch_err get_signed_doc(struct vouch_dcap_ctx *ctx, enum signed_kind kind,
                                const struct vouch_dcap_doc *doc,
                                struct dcap_centry *root_crl, int64_t now,
                                struct dcap_centry **ret, struct vouch_errbuf *eb)
{
    struct dcap_centry *ce;
    struct v_signed *v = NULL;
    uint8_t key[32];
    vouch_err e;

    e = signed_doc_key(ctx, signed_kinds[kind].tag, doc, root_crl, key, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "%s: ", signed_kinds[kind].step);
    ce = vouch_dcap_cache_get(&ctx->cache, key, now);
    if (!ce) {
        e = verify_signed_doc(ctx, kind, doc, root_crl, now, &v, eb);
        if (e)
            return e;
        ce = vouch_dcap_cache_put(&ctx->cache, key, v, free_signed, v->w.not_after);
        if (!ce)
            return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    *ret = ce;
    return VOUCH_OK;
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
                 q->qe_report_sig, VOUCH_DCAP_SIG_LEN, ctx->root_fpr, 32))
        return vouch_fail(eb, VOUCH_E_INTERNAL, "qe report signature: cannot hash");
    ce = vouch_dcap_cache_get(&ctx->cache, key, now);
    if (ce) {
        vouch_dcap_centry_unref(ce);
        return VOUCH_OK;
    }
    e = vouch_ecdsa_verify_raw(X509_get0_pubkey(chain->leaf), VOUCH_HASH_SHA256, q->qe_report,
                               VOUCH_DCAP_SGX_REPORT_LEN, q->qe_report_sig, VOUCH_DCAP_SIG_LEN, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "qe report signature: ");
    vouch_dcap_centry_unref(vouch_dcap_cache_put(&ctx->cache, key, NULL, NULL, chain->w.not_after));
    return VOUCH_OK;
}

static vouch_err check_qe_identity(const struct vouch_dcap_qe_identity *qi,
                                   const uint8_t *rep, struct vouch_errbuf *eb)
{
    if (!masked_eq(rep + VOUCH_DCAP_SGX_MISC_SELECT, qi->miscselect_mask, qi->miscselect,
                   sizeof(qi->miscselect)))
        return vouch_fail(eb, VOUCH_E_VERIFY, "qe identity match: MISCSELECT differs");
    if (!masked_eq(rep + VOUCH_DCAP_SGX_ATTRIBUTES, qi->attributes_mask, qi->attributes,
                   sizeof(qi->attributes)))
        return vouch_fail(eb, VOUCH_E_VERIFY, "qe identity match: ATTRIBUTES differ");
    if (memcmp(rep + VOUCH_DCAP_SGX_MR_SIGNER, qi->mrsigner, sizeof(qi->mrsigner)) != 0)
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
        m = vouch_dcap_find_module(ti, svn[1]);
        if (!m)
            return vouch_fail(eb, VOUCH_E_VERIFY, "tdx module: no identity TDX_%02X in the "
                              "TCB info (module mismatch)", svn[1]);
    }
    if (memcmp(body + VOUCH_DCAP_TD_MRSIGNER_SEAM, m->mrsigner, sizeof(m->mrsigner)) != 0)
        return vouch_fail(eb, VOUCH_E_VERIFY, "tdx module: MRSIGNERSEAM is not the module "
                          "signer's (module mismatch)");
    if (memcmp(body + VOUCH_DCAP_TD_SEAM_ATTRIBUTES, m->attributes, sizeof(m->attributes)) != 0)
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

    if (make_key(key, "ak", q->attest_key, VOUCH_DCAP_ATTEST_KEY_LEN, NULL, 0, NULL, 0, NULL, 0))
        return vouch_fail(eb, VOUCH_E_INTERNAL, "quote signature: cannot hash");
    ce = vouch_dcap_cache_get(&ctx->cache, key, now);
    if (!ce) {
        e = vouch_ec_pubkey_from_xy(q->attest_key, VOUCH_DCAP_ATTEST_KEY_LEN, &ak, eb);
        if (e)
            return vouch_fail_prefix(eb, e, "quote signature: ");
        ce = vouch_dcap_cache_put(&ctx->cache, key, ak, free_pkey, INT64_MAX);
        if (!ce) /* the cache freed the key */
            return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    e = vouch_ecdsa_verify_raw(ce->val, VOUCH_HASH_SHA256, q->raw, q->signed_len, q->signature,
                               VOUCH_DCAP_SIG_LEN, eb);
    vouch_dcap_centry_unref(ce);
    return e ? vouch_fail_prefix(eb, e, "quote signature: ") : VOUCH_OK;
}

/* ---------------------------------------------------------------------- */

/*
 * One verification: the quote, the collateral documents it fetched, the
 * verified objects it holds (cache references) and the time judgement so
 * far.  The steps below fill it in Intel's order.
 */
struct verification {
    struct vouch_dcap_ctx *ctx;
    const struct vouch_dcap_source *src;
    struct vouch_dcap_quote q;
    enum vouch_dcap_tee tee;
    struct times t;
    struct vouch_dcap_doc d_root_crl, d_pck_crl, d_tcb, d_qe;
    struct dcap_centry *c_root_crl, *c_pck_crl, *c_chain, *c_tcb, *c_qe;
    uint8_t chain_hash[32];
    /* The values of the entries above, once verified. */
    const struct v_crl *root_crl, *pck_crl;
    const struct v_chain *chain;
    const struct vouch_dcap_tcb_info *ti;
    const struct vouch_dcap_qe_identity *qi;
    struct dcap_eval ev;
};

static const char *tee_name(enum vouch_dcap_tee tee)
{
    return tee == VOUCH_DCAP_TEE_TDX ? "TDX" : "SGX";
}

/* Root CA CRL, signed by the trusted root. */
static vouch_err step_root_crl(struct verification *v, struct vouch_errbuf *eb)
{
    struct vouch_dcap_ctx *ctx = v->ctx;
    vouch_err e;

    e = fetch("root ca crl", eb, v->src->get_root_ca_crl(v->src->ctx, &v->d_root_crl, eb));
    if (e)
        return e;
    e = get_crl(ctx, &v->d_root_crl, ctx->root, ctx->root_fpr, v->t.now, &v->c_root_crl, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "root ca crl: ");
    v->root_crl = v->c_root_crl->val;
    return judge(&v->t, &v->root_crl->w, "root ca crl", eb);
}

/* PCK chain from the quote, to the trusted root; its CA not revoked. */
static vouch_err step_pck_chain(struct verification *v, struct vouch_errbuf *eb)
{
    X509_REVOKED *rev;
    vouch_err e;

    e = get_chain(v->ctx, &v->q, v->t.now, &v->c_chain, v->chain_hash, eb);
    if (e)
        return e;
    v->chain = v->c_chain->val;
    if ((e = judge(&v->t, &v->chain->w, "pck chain", eb)))
        return e;
    if (X509_CRL_get0_by_cert(v->root_crl->crl, &rev, v->chain->inter) == 1)
        return vouch_fail(eb, VOUCH_E_REVOKED, "pck chain: the PCK CA certificate is revoked");
    return VOUCH_OK;
}

/* PCK CRL of the issuing CA, signed by it; the PCK certificate not revoked. */
static vouch_err step_pck_crl(struct verification *v, struct vouch_errbuf *eb)
{
    const struct v_chain *chain = v->chain;
    X509_REVOKED *rev;
    vouch_err e;

    e = fetch("pck crl", eb, v->src->get_pck_crl(v->src->ctx, chain->info.ca, &v->d_pck_crl,
                                                 eb));
    if (e)
        return e;
    e = get_crl(v->ctx, &v->d_pck_crl, chain->inter, chain->inter_fpr, v->t.now,
                &v->c_pck_crl, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "pck crl: ");
    v->pck_crl = v->c_pck_crl->val;
    if ((e = judge(&v->t, &v->pck_crl->w, "pck crl", eb)))
        return e;
    if (X509_CRL_get0_by_cert(v->pck_crl->crl, &rev, chain->leaf) == 1)
        return vouch_fail(eb, VOUCH_E_REVOKED, "pck chain: the PCK certificate is revoked");
    return VOUCH_OK;
}

/* TCB info for the platform's FMSPC: same TEE, FMSPC and PCE-ID as the PCK. */
static vouch_err step_tcb_info(struct verification *v, struct vouch_errbuf *eb)
{
    const struct v_signed *doc;
    vouch_err e;

    e = fetch("tcb info", eb, v->src->get_tcb_info(v->src->ctx, v->tee, v->chain->info.fmspc,
                                                   &v->d_tcb, eb));
    if (e)
        return e;
    e = get_signed_doc(v->ctx, DOC_TCB_INFO, &v->d_tcb, v->c_root_crl, v->t.now, &v->c_tcb,
                       eb);
    if (e)
        return e;
    doc = v->c_tcb->val;
    v->ti = doc->ti;
    if ((e = judge(&v->t, &doc->w, "tcb info", eb)))
        return e;
    if (v->ti->tee != v->tee)
        return vouch_fail(eb, VOUCH_E_VERIFY, "tcb info: a %s TCB info for a %s quote",
                          tee_name(v->ti->tee), tee_name(v->tee));
    if (memcmp(v->ti->fmspc, v->chain->info.fmspc, sizeof(v->ti->fmspc)) != 0)
        return vouch_fail(eb, VOUCH_E_VERIFY, "tcb info: FMSPC differs from the PCK "
                          "certificate's");
    if (memcmp(v->ti->pce_id, v->chain->info.pce_id, sizeof(v->ti->pce_id)) != 0)
        return vouch_fail(eb, VOUCH_E_VERIFY, "tcb info: PCE-ID differs from the PCK "
                          "certificate's");
    return VOUCH_OK;
}

/* QE identity: "QE" for SGX quotes, "TD_QE" for TDX quotes. */
static vouch_err step_qe_identity(struct verification *v, struct vouch_errbuf *eb)
{
    const struct v_signed *doc;
    vouch_err e;

    e = fetch("qe identity", eb, v->src->get_qe_identity(v->src->ctx, v->tee, &v->d_qe, eb));
    if (e)
        return e;
    e = get_signed_doc(v->ctx, DOC_QE_IDENTITY, &v->d_qe, v->c_root_crl, v->t.now, &v->c_qe,
                       eb);
    if (e)
        return e;
    doc = v->c_qe->val;
    v->qi = doc->qi;
    if ((e = judge(&v->t, &doc->w, "qe identity", eb)))
        return e;
    if (strcmp(v->qi->id, v->tee == VOUCH_DCAP_TEE_TDX ? "TD_QE" : "QE") != 0)
        return vouch_fail(eb, VOUCH_E_VERIFY, "qe identity: identity \"%s\" for a %s quote",
                          v->qi->id, tee_name(v->tee));
    return VOUCH_OK;
}

/* The QE report binds the attestation key: SHA-256(key || QE auth data). */
static vouch_err check_qe_report_data(const struct vouch_dcap_quote *q,
                                      struct vouch_errbuf *eb)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t h[32];
    int ok = md && EVP_DigestInit_ex(md, vouch_hash_md(VOUCH_HASH_SHA256), NULL) == 1 &&
             EVP_DigestUpdate(md, q->attest_key, VOUCH_DCAP_ATTEST_KEY_LEN) == 1 &&
             (!q->qe_auth_len || EVP_DigestUpdate(md, q->qe_auth_data, q->qe_auth_len) == 1) &&
             EVP_DigestFinal_ex(md, h, NULL) == 1;

    EVP_MD_CTX_free(md);
    if (!ok)
        return vouch_fail(eb, VOUCH_E_INTERNAL, "qe report data: cannot hash");
    if (memcmp(h, q->qe_report + VOUCH_DCAP_SGX_REPORT_DATA, sizeof(h)) != 0)
        return vouch_fail(eb, VOUCH_E_VERIFY, "qe report data: SHA-256(attestation key || "
                          "QE auth data) does not match the QE report");
    return VOUCH_OK;
}

/* The quote: QE report by the PCK key, its binding, the QE, the quote signature. */
static vouch_err step_quote(struct verification *v, struct vouch_errbuf *eb)
{
    vouch_err e;

    if ((e = check_qe_report(v->ctx, &v->q, v->chain, v->chain_hash, v->t.now, eb)) ||
        (e = check_qe_report_data(&v->q, eb)) ||
        (e = check_qe_identity(v->qi, v->q.qe_report, eb)) ||
        (e = check_quote_sig(v->ctx, &v->q, v->t.now, eb)))
        return e;
    return VOUCH_OK;
}

/* TDX module identity, then the platform, module and QE TCB levels. */
static vouch_err step_tcb_levels(struct verification *v, struct vouch_errbuf *eb)
{
    const uint8_t *svn = NULL, *svn2 = NULL;
    vouch_err e;

    if (v->tee == VOUCH_DCAP_TEE_TDX) {
        if ((e = check_tdx_module(v->ti, v->q.body, eb)))
            return e;
        svn = v->q.body + VOUCH_DCAP_TD_TEE_TCB_SVN;
        if (v->q.body_type == VOUCH_DCAP_BODY_TD15)
            svn2 = v->q.body + VOUCH_DCAP_TD_TEE_TCB_SVN2;
    }
    e = vouch_dcap_evaluate(&v->chain->info, v->ti, v->qi,
                            le16(v->q.qe_report + VOUCH_DCAP_SGX_ISV_SVN), svn, svn2, &v->ev, eb);
    if (e)
        return e;
    if (v->ev.status == VOUCH_DCAP_REVOKED)
        return vouch_fail(eb, VOUCH_E_REVOKED, "tcb status: the platform TCB is Revoked");
    return VOUCH_OK;
}

static vouch_err make_result(struct verification *v, struct vouch_dcap_result **ret,
                             struct vouch_errbuf *eb)
{
    struct vouch_dcap_result *r;
    vouch_err e;

    r = calloc(1, sizeof(*r));
    if (!r)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    r->quote = v->q;
    r->status = v->ev.status;
    r->platform_status = v->ev.platform_status;
    r->has_qe_status = v->ev.has_qe_status;
    r->qe_status = v->ev.qe_status;
    r->has_module_status = v->ev.has_module_status;
    r->module_status = v->ev.module_status;
    r->advisory_ids = v->ev.advisory_ids;
    v->ev.advisory_ids = NULL;
    r->collateral_expired = v->t.expired;
    r->tcb_date = v->ev.tcb_date;
    r->tcb_eval_num = v->ti->eval_num < v->qi->eval_num ? v->ti->eval_num : v->qi->eval_num;
    r->earliest_issue_date = v->t.earliest_issue;
    r->latest_issue_date = v->t.latest_issue;
    r->earliest_expiration_date = v->t.earliest_expiration;
    r->pck_crl_num = v->pck_crl->num;
    r->root_ca_crl_num = v->root_crl->num;
    memcpy(r->root_key_id, v->ctx->root_key_id, sizeof(r->root_key_id));
    r->pck = v->chain->info;
    e = vouch_dcap_claims(&v->q, &r->pck, r, &r->claims, eb);
    if (e) {
        vouch_dcap_result_free(r);
        return e;
    }
    *ret = r;
    return VOUCH_OK;
}

static void verification_release(struct verification *v)
{
    json_decref(v->ev.advisory_ids);
    vouch_dcap_centry_unref(v->c_qe);
    vouch_dcap_centry_unref(v->c_tcb);
    vouch_dcap_centry_unref(v->c_pck_crl);
    vouch_dcap_centry_unref(v->c_chain);
    vouch_dcap_centry_unref(v->c_root_crl);
    release(v->src, &v->d_qe);
    release(v->src, &v->d_tcb);
    release(v->src, &v->d_pck_crl);
    release(v->src, &v->d_root_crl);
}

vouch_err vouch_dcap_verify(struct vouch_dcap_ctx *ctx, const uint8_t *quote, size_t len,
                            int64_t now, struct vouch_dcap_result **ret,
                            struct vouch_errbuf *eb)
{
    struct verification v;
    vouch_err e;

    memset(&v, 0, sizeof(v));
    v.ctx = ctx;
    v.src = ctx->src;
    v.t = (struct times){ now, 0, INT64_MAX, INT64_MIN, INT64_MAX };
    e = vouch_dcap_quote_parse(quote, len, &v.q, eb);
    if (e)
        return e;
    v.tee = v.q.tee_type == VOUCH_DCAP_TEE_TDX ? VOUCH_DCAP_TEE_TDX : VOUCH_DCAP_TEE_SGX;
    if (v.q.cert_type != VOUCH_DCAP_CERT_PCK_CHAIN)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "pck chain: certification data type %u "
                          "carries no PCK chain (type %d is needed)", v.q.cert_type,
                          VOUCH_DCAP_CERT_PCK_CHAIN);
    if (!v.src)
        return vouch_fail(eb, VOUCH_E_NOT_FOUND, "root ca crl: no collateral source");

    if ((e = step_root_crl(&v, eb)) ||
        (e = step_pck_chain(&v, eb)) ||
        (e = step_pck_crl(&v, eb)) ||
        (e = step_tcb_info(&v, eb)) ||
        (e = step_qe_identity(&v, eb)) ||
        (e = step_quote(&v, eb)) ||
        (e = step_tcb_levels(&v, eb)))
        goto out;
    e = make_result(&v, ret, eb);
out:
    verification_release(&v);
    return e;
}
