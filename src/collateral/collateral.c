/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <stdbool.h>
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "collateral/amd.h"
#include "collateral/collateral.h"
#include "common/buf.h"
#include "common/cache.h"
#include "common/codec.h"
#include "common/file.h"
#include "common/json.h"
#include "common/time.h"
#include "crypto/digest.h"
#include "crypto/x509.h"

#define MAX_PIECES 256
#define CHAIN_MAX 16384

enum pkind { P_ROOTCRL, P_PCKCRL, P_PCKCERT, P_TCB, P_QE }; /* the order they are verified in */

/* One document on its way into the store. */
struct piece {
    enum pkind kind;
    char *body;           /* TCB/QE: the PCS body; CRLs: DER */
    size_t body_len;
    char *chain;          /* issuer chain PEM (NULL for the root CA CRL) */
    char id[96];
    char what[160];       /* for messages */
    int64_t issue_date, next_update, eval_num;
    json_t *meta;
    char *qeid, *eppid;   /* P_PCKCERT: the platform's ids (upper-case hex), or NULL */
    char ppid[33], pceid[5];
};

struct pieces {
    struct piece p[MAX_PIECES];
    size_t n;
};

static void pieces_done(struct pieces *ps)
{
    size_t i;

    for (i = 0; i < ps->n; i++) {
        free(ps->p[i].body);
        free(ps->p[i].chain);
        free(ps->p[i].qeid);
        free(ps->p[i].eppid);
        json_decref(ps->p[i].meta);
    }
    ps->n = 0;
}

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);

    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static struct piece *add(struct pieces *ps, enum pkind kind, const char *what,
                         struct vouch_errbuf *eb)
{
    struct piece *p;

    if (ps->n >= MAX_PIECES) {
        vouch_fail(eb, VOUCH_E_TOO_LARGE, "more than %d collateral documents", MAX_PIECES);
        return NULL;
    }
    p = &ps->p[ps->n++];
    memset(p, 0, sizeof(*p));
    p->kind = kind;
    snprintf(p->what, sizeof(p->what), "%s", what);
    return p;
}

/* A signed document given as its inner JSON and signature: rebuild the PCS body. */
static vouch_err add_signed_parts(struct pieces *ps, enum pkind kind, const char *inner,
                                  size_t inner_len, const char *sig, const char *chain,
                                  const char *what, struct vouch_errbuf *eb)
{
    const char *key = kind == P_TCB ? "tcbInfo" : "enclaveIdentity";
    struct vouch_buf b = VOUCH_BUF_INIT(VOUCH_COLLATERAL_IMPORT_MAX);
    struct piece *p;

    if (vouch_buf_printf(&b, "{\"%s\":", key) || vouch_buf_append(&b, inner, inner_len) ||
        vouch_buf_printf(&b, ",\"signature\":\"%s\"}", sig))
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "%s: too large", what);
    p = add(ps, kind, what, eb);
    if (!p) {
        vouch_buf_free(&b);
        return VOUCH_E_TOO_LARGE;
    }
    p->body = (char *)vouch_buf_steal(&b, &p->body_len);
    p->chain = strdup(chain);
    if (!p->body || !p->chain)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    return VOUCH_OK;
}

static vouch_err add_signed_body(struct pieces *ps, enum pkind kind, const char *body,
                                 size_t len, const char *chain, const char *what,
                                 struct vouch_errbuf *eb)
{
    struct piece *p = add(ps, kind, what, eb);

    if (!p)
        return VOUCH_E_TOO_LARGE;
    p->body = dupn(body, len);
    p->body_len = len;
    p->chain = strdup(chain);
    if (!p->body || !p->chain)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    return VOUCH_OK;
}

/* A CRL in any encoding (DER, PEM, hex, or base64 when b64 is set): store DER. */
static vouch_err add_crl(struct pieces *ps, enum pkind kind, const uint8_t *data, size_t len,
                         int b64, const char *chain, const char *what, struct vouch_errbuf *eb)
{
    uint8_t *raw = NULL, *der = NULL;
    size_t rawlen;
    X509_CRL *crl = NULL;
    struct piece *p;
    int n;
    vouch_err e;

    if (b64) {
        e = vouch_b64_decode((const char *)data, len, VOUCH_B64_STD | VOUCH_B64_PAD_OPTIONAL,
                             VOUCH_COLLATERAL_IMPORT_MAX, &raw, &rawlen, eb);
        if (e)
            return vouch_fail_prefix(eb, e, "%s: ", what);
        data = raw;
        len = rawlen;
    }
    e = vouch_crl_parse(data, len, &crl, eb);
    free(raw);
    if (e)
        return vouch_fail_prefix(eb, e, "%s: ", what);
    n = i2d_X509_CRL(crl, &der);
    X509_CRL_free(crl);
    if (n <= 0)
        return vouch_fail(eb, VOUCH_E_INVALID, "%s: cannot encode the CRL", what);
    p = add(ps, kind, what, eb);
    if (!p) {
        OPENSSL_free(der);
        return VOUCH_E_TOO_LARGE;
    }
    p->body = dupn((const char *)der, (size_t)n);
    p->body_len = (size_t)n;
    OPENSSL_free(der);
    p->chain = chain ? strdup(chain) : NULL;
    if (!p->body || (chain && !p->chain))
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    return VOUCH_OK;
}

static const char *str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Upper-case hex of at most `max` characters, or NULL (absent: *ok stays true). */
static char *hex_id(const json_t *o, const char *k, size_t max, bool *ok)
{
    const char *v = str(o, k);
    size_t n, i;
    char *u;

    if (!json_object_get(o, k))
        return NULL;
    n = v ? strlen(v) : 0;
    if (!v || n == 0 || n > max || n % 2) {
        *ok = false;
        return NULL;
    }
    u = dupn(v, n);
    for (i = 0; u && i < n; i++) {
        if (!isxdigit((unsigned char)u[i])) {
            *ok = false;
            free(u);
            return NULL;
        }
        u[i] = (char)toupper((unsigned char)u[i]);
    }
    return u;
}

/* PEM that may be URL-encoded, as Intel's pckcerts response carries it. */
static char *pem_text(const char *v)
{
    char *out = malloc(strlen(v) + 1), *o = out;
    uint8_t b;

    if (!out || !strchr(v, '%'))   /* PEM itself never holds a '%' */
        return out ? strcpy(out, v) : NULL;
    for (; *v; v++) {
        if (*v == '%' && v[1] && v[2] &&
            vouch_hex_decode_exact(v + 1, 2, &b, 1, NULL) == VOUCH_OK) {
            *o++ = (char)b;
            v += 2;
        } else {
            *o++ = *v;
        }
    }
    *o = '\0';
    return out;
}

/*
 * PCK certificates of one platform:
 *   {"pck_cert": PEM, "issuer_chain": PEM, "qeid"?, "encrypted_ppid"?}
 *   {"pckcerts": [{"tcb", "tcbm", "cert"}] (Intel's pckcerts response body),
 *    "issuer_chain": PEM, "qeid"?, "encrypted_ppid"?}
 * qeid (PCCS's lookup key) and encrypted_ppid (PCS's) say which platform
 * the certificates answer for.
 */
static vouch_err collect_pckcerts(struct pieces *ps, const json_t *o, const char *src,
                                  struct vouch_errbuf *eb)
{
    const json_t *list = json_object_get(o, "pckcerts");
    const char *chain = str(o, "issuer_chain");
    char *qeid, *eppid, what[160];
    bool ok = true;
    size_t i, n = list ? json_array_size(list) : 1;
    vouch_err e = VOUCH_OK;

    if (!chain)
        return vouch_fail(eb, VOUCH_E_INVALID, "%s: PCK certificates need their issuer_chain "
                          "(the PCK CA and the root)", src);
    qeid = hex_id(o, "qeid", 260, &ok);
    eppid = hex_id(o, "encrypted_ppid", 768, &ok);
    if (!ok) {
        e = vouch_fail(eb, VOUCH_E_INVALID, "%s: qeid and encrypted_ppid must be hex", src);
        goto out;
    }
    for (i = 0; i < n; i++) {
        const char *cert = list ? str(json_array_get(list, i), "cert") : str(o, "pck_cert");
        struct piece *p;

        snprintf(what, sizeof(what), list ? "%s: pckcerts[%zu]" : "%s: pck_cert", src, i);
        if (!cert) {
            e = vouch_fail(eb, VOUCH_E_INVALID, "%s: no certificate", what);
            goto out;
        }
        if (strcmp(cert, "Not available") == 0)
            continue;  /* Intel lists TCB levels it has no certificate for */
        p = add(ps, P_PCKCERT, what, eb);
        if (!p) {
            e = VOUCH_E_TOO_LARGE;
            goto out;
        }
        p->body = pem_text(cert);
        p->body_len = p->body ? strlen(p->body) : 0;
        p->chain = strdup(chain);
        p->qeid = qeid ? strdup(qeid) : NULL;
        p->eppid = eppid ? strdup(eppid) : NULL;
        if (!p->body || !p->chain || (qeid && !p->qeid) || (eppid && !p->eppid)) {
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
            goto out;
        }
    }
out:
    free(qeid);
    free(eppid);
    return e;
}

/* One object of any accepted form. */
static vouch_err collect_object(struct pieces *ps, const json_t *o, const char *src,
                                struct vouch_errbuf *eb)
{
    char what[160];
    vouch_err e = VOUCH_OK;
    const char *chain = str(o, "issuer_chain");

    if (str(o, "tcb_info") || str(o, "qe_identity") || str(o, "pck_crl")) {
        /* dcap-qvl QuoteCollateralV3 */
        static const char *const need[] = {
            "tcb_info", "tcb_info_signature", "tcb_info_issuer_chain", "qe_identity",
            "qe_identity_signature", "qe_identity_issuer_chain", "pck_crl",
            "pck_crl_issuer_chain", "root_ca_crl",
        };
        size_t i;

        for (i = 0; i < sizeof(need) / sizeof(need[0]); i++)
            if (!str(o, need[i]))
                return vouch_fail(eb, VOUCH_E_INVALID, "%s: QuoteCollateralV3 lacks '%s'", src,
                                  need[i]);
        snprintf(what, sizeof(what), "%s: root_ca_crl", src);
        e = add_crl(ps, P_ROOTCRL, (const uint8_t *)str(o, "root_ca_crl"),
                    strlen(str(o, "root_ca_crl")), 0, NULL, what, eb);
        snprintf(what, sizeof(what), "%s: pck_crl", src);
        if (!e)
            e = add_crl(ps, P_PCKCRL, (const uint8_t *)str(o, "pck_crl"),
                        strlen(str(o, "pck_crl")), 0, str(o, "pck_crl_issuer_chain"), what, eb);
        snprintf(what, sizeof(what), "%s: tcb_info", src);
        if (!e)
            e = add_signed_parts(ps, P_TCB, str(o, "tcb_info"), strlen(str(o, "tcb_info")),
                                 str(o, "tcb_info_signature"), str(o, "tcb_info_issuer_chain"),
                                 what, eb);
        snprintf(what, sizeof(what), "%s: qe_identity", src);
        if (!e)
            e = add_signed_parts(ps, P_QE, str(o, "qe_identity"), strlen(str(o, "qe_identity")),
                                 str(o, "qe_identity_signature"),
                                 str(o, "qe_identity_issuer_chain"), what, eb);
        return e;
    }
    if (str(o, "tcb_info_json") || str(o, "enclave_identity_json")) {
        const char *body = str(o, "tcb_info_json") ? str(o, "tcb_info_json")
                                                   : str(o, "enclave_identity_json");

        if (!chain)
            return vouch_fail(eb, VOUCH_E_INVALID, "%s: no issuer_chain", src);
        return add_signed_body(ps, str(o, "tcb_info_json") ? P_TCB : P_QE, body, strlen(body),
                               chain, src, eb);
    }
    if (str(o, "crl_data") || str(o, "crl_data_base64") || str(o, "crl_hex")) {
        const char *k = str(o, "crl_data") ? "crl_data"
                        : str(o, "crl_data_base64") ? "crl_data_base64" : "crl_hex";

        return add_crl(ps, chain ? P_PCKCRL : P_ROOTCRL, (const uint8_t *)str(o, k),
                       strlen(str(o, k)), strcmp(k, "crl_data_base64") == 0, chain, src, eb);
    }
    if (str(o, "pck_cert") || json_is_array(json_object_get(o, "pckcerts")))
        return collect_pckcerts(ps, o, src, eb);
    if (json_object_get(o, "tcbInfo") || json_object_get(o, "enclaveIdentity"))
        return vouch_fail(eb, VOUCH_E_INVALID, "%s: a PCS body needs its issuer chain: give "
                          "{\"tcb_info_json\"|\"enclave_identity_json\": body, "
                          "\"issuer_chain\": PEM}", src);
    return vouch_fail(eb, VOUCH_E_INVALID, "%s: not a collateral document", src);
}

/* Is this object one of the accepted forms? */
static bool is_collateral(const json_t *o)
{
    static const char *const keys[] = { "tcb_info", "qe_identity", "pck_crl", "tcb_info_json",
                                        "enclave_identity_json", "crl_data", "crl_data_base64",
                                        "crl_hex", "tcbInfo", "enclaveIdentity", "collateral",
                                        "pck_cert", "pckcerts" };
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (json_object_get(o, keys[i]))
            return true;
    return json_is_array(o);
}

/* `lenient`: a document of another kind (say fmspcs.json) is skipped, not an error. */
static vouch_err collect_json(struct pieces *ps, const char *json, size_t len, const char *src,
                              bool lenient, struct vouch_errbuf *eb)
{
    json_t *doc = NULL, *arr;
    char what[200];
    vouch_err e;
    size_t i;

    e = vouch_json_parse(json, len, &doc, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "%s: ", src);
    if (lenient && !is_collateral(doc)) {
        json_decref(doc);
        return VOUCH_OK;
    }
    arr = json_is_array(doc) ? doc : json_object_get(doc, "collateral");
    if (json_is_array(arr)) {
        for (i = 0; !e && i < json_array_size(arr); i++) {
            snprintf(what, sizeof(what), "%s[%zu]", src, i);
            if (!json_is_object(json_array_get(arr, i)))
                e = vouch_fail(eb, VOUCH_E_INVALID, "%s: not an object", what);
            else
                e = collect_object(ps, json_array_get(arr, i), what, eb);
        }
    } else if (json_is_object(doc)) {
        e = collect_object(ps, doc, src, eb);
    } else {
        e = vouch_fail(eb, VOUCH_E_INVALID, "%s: not a collateral document", src);
    }
    json_decref(doc);
    return e;
}

/* ---------------------------------------------------------------------- */
/* Verification                                                            */

static json_t *window_json(json_t *m, int64_t issue, int64_t next)
{
    char a[VOUCH_RFC3339_LEN], b[VOUCH_RFC3339_LEN];

    vouch_time_format_rfc3339(issue, a);
    vouch_time_format_rfc3339(next, b);
    json_object_set_new(m, "issue_date", json_string(a));
    json_object_set_new(m, "next_update", json_string(b));
    return m;
}

static vouch_err judge_window(const struct vouch_dcap_window *w, int64_t now, const char *what,
                              struct vouch_errbuf *eb)
{
    char t[VOUCH_RFC3339_LEN];

    if (now < w->not_before) {
        vouch_time_format_rfc3339(w->not_before, t);
        return vouch_fail(eb, VOUCH_E_NOT_YET_VALID, "%s: issuer chain not valid before %s",
                          what, t);
    }
    if (now > w->not_after) {
        vouch_time_format_rfc3339(w->not_after, t);
        return vouch_fail(eb, VOUCH_E_EXPIRED, "%s: issuer chain expired at %s", what, t);
    }
    return VOUCH_OK;
}

static vouch_err verify_crl(struct piece *p, X509 *root, X509_CRL *root_crl, int64_t now,
                            X509_CRL **ret_crl, struct vouch_errbuf *eb)
{
    struct vouch_dcap_window w;
    STACK_OF(X509) *chain = NULL, *roots = NULL;
    STACK_OF(X509_CRL) *crls = NULL;
    X509 *issuer = root;
    X509_CRL *crl = NULL;
    int64_t num = -1;
    char cn[256];
    vouch_err e;

    if (p->kind == P_PCKCRL) {
        e = vouch_x509_parse_pem_chain(p->chain, strlen(p->chain), 4, &chain, eb);
        if (e)
            return vouch_fail_prefix(eb, e, "%s: issuer chain: ", p->what);
        issuer = sk_X509_value(chain, 0);
        roots = sk_X509_new_null();
        sk_X509_push(roots, root);
        if (root_crl) {
            crls = sk_X509_CRL_new_null();
            sk_X509_CRL_push(crls, root_crl);
        }
        e = vouch_x509_verify_chain(issuer, chain, roots, crls, now,
                                    root_crl ? VOUCH_CHAIN_CRL_LEAF | VOUCH_CHAIN_CRL_STALE_OK : 0,
                                    eb);
        sk_X509_free(roots);
        sk_X509_CRL_free(crls);
        if (e) {
            vouch_fail_prefix(eb, e, "%s: issuer chain: ", p->what);
            goto out;
        }
    }
    e = vouch_dcap_crl_verify((const uint8_t *)p->body, p->body_len, issuer, &crl, &w, &num, eb);
    if (e) {
        vouch_fail_prefix(eb, e, "%s: ", p->what);
        goto out;
    }
    if (now < w.not_before) {
        e = vouch_fail(eb, VOUCH_E_NOT_YET_VALID, "%s: CRL not valid yet", p->what);
        goto out;
    }
    p->issue_date = w.not_before;
    p->next_update = w.not_after;
    p->eval_num = num;
    p->meta = window_json(json_object(), w.not_before, w.not_after);
    json_object_set_new(p->meta, "crl_number", json_integer(num));
    if (p->kind == P_ROOTCRL) {
        snprintf(p->id, sizeof(p->id), "rootcacrl");
    } else {
        vouch_x509_subject(issuer, cn, sizeof(cn));
        if (strstr(cn, "Processor"))
            snprintf(p->id, sizeof(p->id), "pckcrl/processor");
        else if (strstr(cn, "Platform"))
            snprintf(p->id, sizeof(p->id), "pckcrl/platform");
        else {
            e = vouch_fail(eb, VOUCH_E_INVALID, "%s: issuer '%s' is neither the PCK Platform "
                           "nor the PCK Processor CA", p->what, cn);
            goto out;
        }
        json_object_set_new(p->meta, "chain", json_string(p->chain));
    }
    if (ret_crl) {
        *ret_crl = crl;
        crl = NULL;
    }
out:
    X509_CRL_free(crl);
    sk_X509_pop_free(chain, X509_free);
    return e;
}

static vouch_err verify_signed(struct piece *p, X509 *root, X509_CRL *root_crl, int64_t now,
                               struct vouch_errbuf *eb)
{
    const char *key = p->kind == P_TCB ? "tcbInfo" : "enclaveIdentity";
    struct vouch_dcap_tcb_info *ti = NULL;
    struct vouch_dcap_qe_identity *qi = NULL;
    struct vouch_dcap_window w;
    const char *inner, *sig;
    size_t inner_len, sig_len;
    EVP_PKEY *signer = NULL;
    char fmspc[13];
    vouch_err e;

    e = vouch_dcap_split_signed(p->body, p->body_len, key, &inner, &inner_len, &sig, &sig_len, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "%s: ", p->what);
    e = vouch_dcap_signing_chain_verify(p->chain, strlen(p->chain), root, root_crl, &signer, &w,
                                        eb);
    if (!e)
        e = judge_window(&w, now, p->what, eb);
    else
        vouch_fail_prefix(eb, e, "%s: issuer chain: ", p->what);
    if (e)
        goto out;
    if (p->kind == P_TCB) {
        e = vouch_dcap_tcb_info_parse(inner, inner_len, sig, sig_len, &ti, eb);
        if (!e)
            e = vouch_dcap_tcb_info_verify_sig(ti, signer, eb);
        if (e) {
            vouch_fail_prefix(eb, e, "%s: ", p->what);
            goto out;
        }
        vouch_hex_encode(ti->fmspc, 6, fmspc);
        for (char *c = fmspc; *c; c++)
            *c = (char)toupper((unsigned char)*c);
        snprintf(p->id, sizeof(p->id), "tcb/%s/%s/v%d",
                 ti->tee == VOUCH_DCAP_TEE_TDX ? "tdx" : "sgx", fmspc, ti->version);
        p->issue_date = ti->issue_date;
        p->next_update = ti->next_update;
        p->eval_num = ti->eval_num;
        p->meta = window_json(json_object(), ti->issue_date, ti->next_update);
        json_object_set_new(p->meta, "fmspc", json_string(fmspc));
        json_object_set_new(p->meta, "tee", json_string(ti->tee == VOUCH_DCAP_TEE_TDX ? "tdx"
                                                                                     : "sgx"));
        json_object_set_new(p->meta, "version", json_integer(ti->version));
    } else {
        e = vouch_dcap_qe_identity_parse(inner, inner_len, sig, sig_len, &qi, eb);
        if (!e)
            e = vouch_dcap_qe_identity_verify_sig(qi, signer, eb);
        if (e) {
            vouch_fail_prefix(eb, e, "%s: ", p->what);
            goto out;
        }
        snprintf(p->id, sizeof(p->id), "qe/%s", qi->id);
        p->issue_date = qi->issue_date;
        p->next_update = qi->next_update;
        p->eval_num = qi->eval_num;
        p->meta = window_json(json_object(), qi->issue_date, qi->next_update);
    }
    if (now < p->issue_date) {
        e = vouch_fail(eb, VOUCH_E_NOT_YET_VALID, "%s: issued in the future", p->what);
        goto out;
    }
    json_object_set_new(p->meta, "eval_num", json_integer(p->eval_num));
    json_object_set_new(p->meta, "chain", json_string(p->chain));
out:
    vouch_dcap_tcb_info_free(ti);
    vouch_dcap_qe_identity_free(qi);
    EVP_PKEY_free(signer);
    return e;
}

static void upper_hex(const uint8_t *b, size_t n, char *out)
{
    size_t i;

    vouch_hex_encode(b, n, out);
    for (i = 0; i < 2 * n; i++)
        out[i] = (char)toupper((unsigned char)out[i]);
}

/*
 * A PCK certificate: its chain to the root (the PCK CA checked against the
 * root CA CRL when there is one; the leaf's own revocation is judged when a
 * quote is verified, against the PCK CRL of that time) and its SGX
 * extension, which names the platform (PPID, PCEID) and its TCB.
 */
static vouch_err verify_pckcert(struct piece *p, X509 *root, X509_CRL *root_crl, int64_t now,
                                struct vouch_errbuf *eb)
{
    STACK_OF(X509) *leafs = NULL, *chain = NULL, *roots = sk_X509_new_null();
    STACK_OF(X509_CRL) *crls = NULL;
    struct vouch_dcap_pck_info pi;
    char tcbm[37], fmspc[13];
    json_t *comps = NULL;
    X509 *leaf;
    vouch_err e;
    size_t i;

    if (!roots)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    sk_X509_push(roots, root);
    e = vouch_x509_parse_pem_chain(p->body, p->body_len, 1, &leafs, eb);
    if (!e)
        e = vouch_x509_parse_pem_chain(p->chain, strlen(p->chain), 4, &chain, eb);
    if (e) {
        vouch_fail_prefix(eb, e, "%s: ", p->what);
        goto out;
    }
    leaf = sk_X509_value(leafs, 0);
    if (root_crl) {
        crls = sk_X509_CRL_new_null();
        sk_X509_CRL_push(crls, root_crl);
        e = vouch_x509_verify_chain(sk_X509_value(chain, 0), chain, roots, crls, now,
                                    VOUCH_CHAIN_CRL_LEAF | VOUCH_CHAIN_CRL_STALE_OK, eb);
    }
    if (!e)
        e = vouch_x509_verify_chain(leaf, chain, roots, NULL, now, 0, eb);
    if (!e)
        e = vouch_dcap_pck_info_parse(leaf, &pi, eb);
    if (!e)
        e = vouch_x509_validity(leaf, &p->issue_date, &p->next_update);
    if (e) {
        vouch_fail_prefix(eb, e, "%s: ", p->what);
        goto out;
    }
    upper_hex(pi.ppid, 16, p->ppid);
    upper_hex(pi.pce_id, 2, p->pceid);
    upper_hex(pi.fmspc, 6, fmspc);
    upper_hex(pi.cpu_svn, 16, tcbm);
    snprintf(tcbm + 32, 5, "%02X%02X", pi.pce_svn & 0xff, pi.pce_svn >> 8);
    snprintf(p->id, sizeof(p->id), "pckcert/%s/%s/%s", p->pceid, p->ppid, tcbm);
    comps = json_array();
    for (i = 0; comps && i < 16; i++)
        json_array_append_new(comps, json_integer(pi.comp_svn[i]));
    p->meta = window_json(json_object(), p->issue_date, p->next_update);
    if (!p->meta || !comps ||
        json_object_set_new(p->meta, "tcb_components", comps) ||
        json_object_set_new(p->meta, "pcesvn", json_integer(pi.pce_svn)) ||
        json_object_set_new(p->meta, "tcbm", json_string(tcbm)) ||
        json_object_set_new(p->meta, "fmspc", json_string(fmspc)) ||
        json_object_set_new(p->meta, "ca", json_string(pi.ca == VOUCH_DCAP_CA_PLATFORM
                                                           ? "platform" : "processor")) ||
        json_object_set_new(p->meta, "chain", json_string(p->chain)))
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    comps = NULL;
out:
    json_decref(comps);
    sk_X509_pop_free(leafs, X509_free);
    sk_X509_pop_free(chain, X509_free);
    sk_X509_free(roots);
    sk_X509_CRL_free(crls);
    return e;
}

/* Index documents that lead from a platform id to its PPID. */
static vouch_err put_platform(struct vouch_store *s, const struct piece *p, int64_t now,
                              struct vouch_errbuf *eb)
{
    char id[900], hex[65];
    uint8_t h[32];
    vouch_err e = VOUCH_OK;

    if (p->qeid) {
        snprintf(id, sizeof(id), "pckplatform/qe/%s/%s", p->qeid, p->pceid);
        e = vouch_store_doc_put(s, VOUCH_COLLATERAL_KIND, id, p->ppid, strlen(p->ppid), NULL, 0,
                                now, eb);
    }
    if (!e && p->eppid) {
        vouch_hash(VOUCH_HASH_SHA256, p->eppid, strlen(p->eppid), h);
        vouch_hex_encode(h, sizeof(h), hex);
        snprintf(id, sizeof(id), "pckplatform/eppid/%s/%s", hex, p->pceid);
        e = vouch_store_doc_put(s, VOUCH_COLLATERAL_KIND, id, p->ppid, strlen(p->ppid), NULL, 0,
                                now, eb);
    }
    return e;
}

static int piece_cmp(const void *a, const void *b)
{
    return (int)((const struct piece *)a)->kind - (int)((const struct piece *)b)->kind;
}

/* The stored root CA CRL, to check chains against when an import brings none. */
static X509_CRL *stored_root_crl(struct vouch_store *s, X509 *root)
{
    struct vouch_store_doc *d = NULL;
    X509_CRL *crl = NULL;
    struct vouch_dcap_window w;
    int64_t num;

    if (vouch_store_doc_get(s, VOUCH_COLLATERAL_KIND, "rootcacrl", &d, NULL))
        return NULL;
    if (vouch_dcap_crl_verify(d->body, d->body_len, root, &crl, &w, &num, NULL))
        crl = NULL;
    vouch_store_doc_free(d);
    return crl;
}

static int64_t meta_issue(const struct vouch_store_doc *d)
{
    json_t *m = d->meta ? json_loads(d->meta, 0, NULL) : NULL;
    const char *s = json_string_value(json_object_get(m, "issue_date"));
    int64_t t = 0;

    if (s && vouch_time_parse_rfc3339(s, strlen(s), &t, NULL, NULL))
        t = 0;
    json_decref(m);
    return t;
}

static vouch_err import(struct vouch_store *s, X509 *root, struct pieces *ps, int64_t now,
                        json_t **ret_report, struct vouch_errbuf *eb)
{
    X509_CRL *root_crl = NULL;
    json_t *report = json_array();
    vouch_err e = VOUCH_OK;
    size_t i;

    if (!root)
        root = vouch_dcap_intel_root();
    if (ps->n == 0) {
        json_decref(report);
        return vouch_fail(eb, VOUCH_E_INVALID, "no collateral documents found");
    }
    qsort(ps->p, ps->n, sizeof(ps->p[0]), piece_cmp);
    /* Verify everything first: nothing is stored unless all of it checks out. */
    for (i = 0; i < ps->n; i++) {
        struct piece *p = &ps->p[i];

        if (p->kind == P_ROOTCRL) {
            X509_CRL *c = NULL;

            e = verify_crl(p, root, NULL, now, &c, eb);
            if (!e) {
                X509_CRL_free(root_crl);
                root_crl = c;
            }
        } else {
            if (!root_crl)
                root_crl = stored_root_crl(s, root);
            e = p->kind == P_PCKCRL    ? verify_crl(p, root, root_crl, now, NULL, eb)
                : p->kind == P_PCKCERT ? verify_pckcert(p, root, root_crl, now, eb)
                                       : verify_signed(p, root, root_crl, now, eb);
        }
        if (e)
            goto out;
    }
    for (i = 0; i < ps->n; i++) {
        struct piece *p = &ps->p[i];
        struct vouch_store_doc *old = NULL;
        const char *action = "stored";
        char *meta;
        char nu[VOUCH_RFC3339_LEN];

        if (vouch_store_doc_get(s, VOUCH_COLLATERAL_KIND, p->id, &old, NULL) == VOUCH_OK) {
            if (old->body_len == p->body_len && !memcmp(old->body, p->body, p->body_len))
                action = "unchanged";
            else if (meta_issue(old) > p->issue_date)
                action = "kept-newer";
            vouch_store_doc_free(old);
        }
        if (strcmp(action, "stored") == 0) {
            meta = json_dumps(p->meta, JSON_COMPACT);
            e = meta ? vouch_store_doc_put(s, VOUCH_COLLATERAL_KIND, p->id, p->body, p->body_len,
                                           meta, p->next_update, now, eb)
                     : vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
            free(meta);
            if (e)
                goto out;
        }
        if (p->kind == P_PCKCERT) {
            e = put_platform(s, p, now, eb);
            if (e)
                goto out;
        }
        vouch_time_format_rfc3339(p->next_update, nu);
        json_array_append_new(report, json_pack("{s:s,s:s,s:s,s:b}", "id", p->id, "action",
                                                action, "next_update", nu, "expired",
                                                p->next_update < now));
    }
    *ret_report = report;
    report = NULL;
out:
    X509_CRL_free(root_crl);
    json_decref(report);
    ERR_clear_error();
    return e;
}

vouch_err vouch_collateral_import(struct vouch_store *s, X509 *root, const uint8_t *data,
                                  size_t len, int64_t now, json_t **ret_report,
                                  struct vouch_errbuf *eb)
{
    if (vouch_amd_collateral_detect(data, len))
        return vouch_amd_collateral_import(s, data, len, "AMD collateral", now, ret_report, eb);
    return vouch_collateral_import_json(s, root, (const char *)data, len, now, ret_report, eb);
}

vouch_err vouch_collateral_import_json(struct vouch_store *s, X509 *root, const char *json,
                                       size_t len, int64_t now, json_t **ret_report,
                                       struct vouch_errbuf *eb)
{
    struct pieces *ps = calloc(1, sizeof(*ps));
    vouch_err e;

    if (!ps)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    e = collect_json(ps, json, len, "collateral", false, eb);
    if (!e)
        e = import(s, root, ps, now, ret_report, eb);
    pieces_done(ps);
    free(ps);
    return e;
}

/* Read dir/name if it exists: VOUCH_OK with *ret NULL when absent. */
static vouch_err opt_file(const char *dir, const char *name, uint8_t **ret, size_t *ret_len,
                          struct vouch_errbuf *eb)
{
    char path[4096];
    vouch_err e;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    *ret = NULL;
    e = vouch_file_read(path, VOUCH_COLLATERAL_IMPORT_MAX, ret, ret_len, eb);
    return e == VOUCH_E_NOT_FOUND ? VOUCH_OK : e;
}

/* The PCS-responses-in-files layout of a directory. */
static vouch_err collect_pcs_dir(struct pieces *ps, const char *dir, struct vouch_errbuf *eb)
{
    static const struct {
        const char *body, *chain;
        enum pkind kind;
    } signed_files[] = {
        { "tcb_info.json", "tcb_info_issuer_chain.pem", P_TCB },
        { "qe_identity.json", "qe_identity_issuer_chain.pem", P_QE },
    };
    static const char *const crl_ext[] = { "der", "pem", "hex" };
    uint8_t *body = NULL, *chain = NULL;
    size_t blen, clen, i, k;
    char name[64], what[4200];
    vouch_err e = VOUCH_OK;

    for (i = 0; !e && i < 2; i++) {
        e = opt_file(dir, signed_files[i].body, &body, &blen, eb);
        if (!e && body)
            e = opt_file(dir, signed_files[i].chain, &chain, &clen, eb);
        if (!e && body) {
            snprintf(what, sizeof(what), "%.4000s/%s", dir, signed_files[i].body);
            e = chain ? add_signed_body(ps, signed_files[i].kind, (char *)body, blen,
                                        (char *)chain, what, eb)
                      : vouch_fail(eb, VOUCH_E_INVALID, "%s: %s is missing", what,
                                   signed_files[i].chain);
        }
        free(body);
        free(chain);
        body = chain = NULL;
    }
    for (i = 0; !e && i < 2; i++) {
        for (k = 0; !e && k < 3; k++) {
            snprintf(name, sizeof(name), "%s.%s", i ? "pck_crl" : "root_ca_crl", crl_ext[k]);
            e = opt_file(dir, name, &body, &blen, eb);
            if (e || !body)
                continue;
            if (i)
                e = opt_file(dir, "pck_crl_issuer_chain.pem", &chain, &clen, eb);
            snprintf(what, sizeof(what), "%.4000s/%s", dir, name);
            if (!e && i && !chain)
                e = vouch_fail(eb, VOUCH_E_INVALID, "%s: pck_crl_issuer_chain.pem is missing",
                               what);
            else if (!e)
                e = add_crl(ps, i ? P_PCKCRL : P_ROOTCRL, body, blen, 0, (char *)chain, what,
                            eb);
            free(body);
            free(chain);
            body = chain = NULL;
        }
    }
    return e;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

vouch_err vouch_collateral_import_path(struct vouch_store *s, X509 *root, const char *path,
                                       int64_t now, json_t **ret_report,
                                       struct vouch_errbuf *eb)
{
    struct pieces *ps = calloc(1, sizeof(*ps));
    struct stat st;
    vouch_err e = VOUCH_OK;

    if (!ps)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    if (stat(path, &st) != 0) {
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "%s: no such file or directory", path);
    } else if (S_ISDIR(st.st_mode)) {
        char *names[512];
        size_t n = 0, i;
        struct dirent *de;
        DIR *d = opendir(path);

        if (!d) {
            e = vouch_fail(eb, VOUCH_E_IO, "%s: cannot open", path);
        } else {
            while ((de = readdir(d)) && n < 512) {
                size_t l = strlen(de->d_name);

                /* *.json other than the PCS-layout files, which come with their chains */
                if (l > 5 && strcmp(de->d_name + l - 5, ".json") == 0 &&
                    strcmp(de->d_name, "tcb_info.json") && strcmp(de->d_name, "qe_identity.json"))
                    names[n++] = strdup(de->d_name);
            }
            closedir(d);
            qsort(names, n, sizeof(names[0]), name_cmp);
            e = collect_pcs_dir(ps, path, eb);
            for (i = 0; i < n; i++) {
                char file[4200];
                uint8_t *data = NULL;
                size_t len;

                if (!e && names[i]) {
                    snprintf(file, sizeof(file), "%.4000s/%s", path, names[i]);
                    e = vouch_file_read(file, VOUCH_COLLATERAL_IMPORT_MAX, &data, &len, eb);
                    if (!e)
                        e = collect_json(ps, (char *)data, len, file, true, eb);
                    free(data);
                }
                free(names[i]);
            }
        }
    } else {
        uint8_t *data = NULL;
        size_t len;

        e = vouch_file_read(path, VOUCH_COLLATERAL_IMPORT_MAX, &data, &len, eb);
        if (!e && vouch_amd_collateral_detect(data, len)) {
            e = vouch_amd_collateral_import(s, data, len, path, now, ret_report, eb);
            free(data);
            goto out;
        }
        if (!e)
            e = collect_json(ps, (char *)data, len, path, false, eb);
        free(data);
    }
    if (!e)
        e = import(s, root, ps, now, ret_report, eb);
out:
    pieces_done(ps);
    free(ps);
    return e;
}

vouch_err vouch_collateral_get(struct vouch_store *s, const char *id,
                               struct vouch_store_doc **ret, struct vouch_errbuf *eb)
{
    return vouch_store_doc_get(s, VOUCH_COLLATERAL_KIND, id, ret, eb);
}

vouch_err vouch_collateral_load_root(const char *path, X509 **ret, struct vouch_errbuf *eb)
{
    return vouch_x509_load_file(path, ret, eb);
}

/* ---------------------------------------------------------------------- */
/* The store-backed DCAP source                                            */

/*
 * Stored documents held in memory for the ttl given at creation, so other
 * replicas' imports show up within that time; a bounded LRU beyond it.
 */
#define SRC_CACHE_MAX 256
#define SRC_CACHE_MAX_BYTES (64u << 20)

struct cdoc {
    atomic_int refs;
    char id[96];
    struct vouch_store_doc *d;
    const char *inner;     /* TCB/QE: the signed bytes inside the body */
    size_t inner_len;
    const char *sig;
    size_t sig_len;
    char *chain;
    uint8_t sha256[32];
};

struct vouch_collateral {
    struct vouch_store *store;
    struct vouch_cache *docs;      /* id -> struct cdoc, aged out after ttl; NULL: ttl 0 */
    struct vouch_dcap_source src;
};

static void cdoc_unref(struct cdoc *c)
{
    if (c && atomic_fetch_sub(&c->refs, 1) == 1) {
        vouch_store_doc_free(c->d);
        free(c->chain);
        free(c);
    }
}

static vouch_err cdoc_load(struct vouch_collateral *col, const char *id, struct cdoc **ret,
                           struct vouch_errbuf *eb)
{
    struct cdoc *c = calloc(1, sizeof(*c));
    json_t *meta = NULL;
    vouch_err e;

    if (!c)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    atomic_init(&c->refs, 1);
    snprintf(c->id, sizeof(c->id), "%s", id);
    e = vouch_store_doc_get(col->store, VOUCH_COLLATERAL_KIND, id, &c->d, eb);
    if (e)
        goto out;
    meta = c->d->meta ? json_loads(c->d->meta, 0, NULL) : NULL;
    if (str(meta, "chain"))
        c->chain = strdup(str(meta, "chain"));
    if (strncmp(id, "tcb/", 4) == 0 || strncmp(id, "qe/", 3) == 0) {
        e = vouch_dcap_split_signed((const char *)c->d->body, c->d->body_len,
                                    id[0] == 't' ? "tcbInfo" : "enclaveIdentity", &c->inner,
                                    &c->inner_len, &c->sig, &c->sig_len, eb);
        if (e) {
            vouch_fail_prefix(eb, VOUCH_E_STORE, "stored collateral %s: ", id);
            e = VOUCH_E_STORE;
            goto out;
        }
    } else {
        c->inner = (const char *)c->d->body;
        c->inner_len = c->d->body_len;
    }
    e = vouch_hash(VOUCH_HASH_SHA256, c->inner, c->inner_len, c->sha256);
out:
    json_decref(meta);
    if (e) {
        cdoc_unref(c);
        return e;
    }
    *ret = c;
    return VOUCH_OK;
}

static void cdoc_free(void *v)
{
    cdoc_unref(v);
}

/* A reference to the document `id`, from memory when fresh enough. */
static vouch_err cdoc_get(struct vouch_collateral *col, const char *id, struct cdoc **ret,
                          struct vouch_errbuf *eb)
{
    int64_t now = (int64_t)vouch_clock_us();
    struct vouch_cache_entry *ce = NULL;
    struct cdoc *c = NULL;
    vouch_err e;

    if (col->docs)
        ce = vouch_cache_get(col->docs, id, strlen(id), now);
    if (ce) {
        c = vouch_cache_value(ce);
        atomic_fetch_add(&c->refs, 1);
        vouch_cache_release(ce);
        *ret = c;
        return VOUCH_OK;
    }
    e = cdoc_load(col, id, &c, eb);
    if (e)
        return e;
    if (col->docs) {
        atomic_fetch_add(&c->refs, 1); /* the cache's */
        (void)vouch_cache_put(col->docs, id, strlen(id), c, c->d->body_len, now,
                              VOUCH_CACHE_NEVER, NULL);
    }
    *ret = c;
    return VOUCH_OK;
}

static void to_doc(struct cdoc *c, struct vouch_dcap_doc *d)
{
    memset(d, 0, sizeof(*d));
    d->data = (const uint8_t *)c->inner;
    d->len = c->inner_len;
    d->sig_hex = c->sig;
    d->sig_len = c->sig_len;
    d->issuer_chain = c->chain;
    d->issuer_chain_len = c->chain ? strlen(c->chain) : 0;
    d->sha256 = c->sha256;
    d->priv = c;
}

static vouch_err src_get(struct vouch_collateral *col, const char *id, struct vouch_dcap_doc *ret,
                         struct vouch_errbuf *eb)
{
    struct cdoc *c = NULL;
    vouch_err e = cdoc_get(col, id, &c, eb);

    if (e)
        return e;
    to_doc(c, ret);
    return VOUCH_OK;
}

static vouch_err src_tcb(void *ctx, enum vouch_dcap_tee tee, const uint8_t fmspc[6],
                         struct vouch_dcap_doc *ret, struct vouch_errbuf *eb)
{
    char id[64], hex[13];
    const char *t = tee == VOUCH_DCAP_TEE_TDX ? "tdx" : "sgx";
    vouch_err e;

    vouch_hex_encode(fmspc, 6, hex);
    for (char *c = hex; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    snprintf(id, sizeof(id), "tcb/%s/%s/v3", t, hex);
    e = src_get(ctx, id, ret, NULL);
    if (e == VOUCH_E_NOT_FOUND) {
        snprintf(id, sizeof(id), "tcb/%s/%s/v2", t, hex);
        e = src_get(ctx, id, ret, NULL);
    }
    if (e == VOUCH_E_NOT_FOUND)
        return vouch_fail(eb, e, "no %s TCB info for FMSPC %s (import it: vouch collateral "
                          "import)", t, hex);
    return e ? vouch_fail(eb, e, "reading TCB info for FMSPC %s failed", hex) : VOUCH_OK;
}

static vouch_err src_qe(void *ctx, enum vouch_dcap_tee tee, struct vouch_dcap_doc *ret,
                        struct vouch_errbuf *eb)
{
    const char *id = tee == VOUCH_DCAP_TEE_TDX ? "qe/TD_QE" : "qe/QE";
    vouch_err e = src_get(ctx, id, ret, NULL);

    if (e == VOUCH_E_NOT_FOUND)
        return vouch_fail(eb, e, "no %s identity", id + 3);
    return e ? vouch_fail(eb, e, "reading %s failed", id) : VOUCH_OK;
}

static vouch_err src_pck_crl(void *ctx, enum vouch_dcap_ca ca, struct vouch_dcap_doc *ret,
                             struct vouch_errbuf *eb)
{
    const char *id = ca == VOUCH_DCAP_CA_PROCESSOR ? "pckcrl/processor" : "pckcrl/platform";
    vouch_err e = src_get(ctx, id, ret, NULL);

    if (e == VOUCH_E_NOT_FOUND)
        return vouch_fail(eb, e, "no %s PCK CRL", id + 7);
    return e ? vouch_fail(eb, e, "reading %s failed", id) : VOUCH_OK;
}

static vouch_err src_root_crl(void *ctx, struct vouch_dcap_doc *ret, struct vouch_errbuf *eb)
{
    vouch_err e = src_get(ctx, "rootcacrl", ret, NULL);

    if (e == VOUCH_E_NOT_FOUND)
        return vouch_fail(eb, e, "no root CA CRL");
    return e ? vouch_fail(eb, e, "reading the root CA CRL failed") : VOUCH_OK;
}

static void src_release(void *ctx, struct vouch_dcap_doc *doc)
{
    (void)ctx;
    cdoc_unref(doc->priv);
}

vouch_err vouch_collateral_new(struct vouch_store *s, int ttl, struct vouch_collateral **ret,
                               struct vouch_errbuf *eb)
{
    const struct vouch_cache_config cfg = { "collateral_docs", SRC_CACHE_MAX, SRC_CACHE_MAX_BYTES,
                                            (int64_t)ttl * 1000000, cdoc_free };
    struct vouch_collateral *c = calloc(1, sizeof(*c));

    if (!c)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    c->store = s;
    if (ttl > 0 && vouch_cache_new(&cfg, &c->docs, eb)) {
        free(c);
        return VOUCH_E_NOMEM;
    }
    c->src.ctx = c;
    c->src.get_tcb_info = src_tcb;
    c->src.get_qe_identity = src_qe;
    c->src.get_pck_crl = src_pck_crl;
    c->src.get_root_ca_crl = src_root_crl;
    c->src.get_root = NULL;
    c->src.release = src_release;
    *ret = c;
    return VOUCH_OK;
}

void vouch_collateral_invalidate(struct vouch_collateral *c)
{
    if (c->docs)
        vouch_cache_clear(c->docs);
}

void vouch_collateral_free(struct vouch_collateral *c)
{
    if (!c)
        return;
    vouch_cache_free(c->docs);
    free(c);
}

const struct vouch_dcap_source *vouch_collateral_source(struct vouch_collateral *c)
{
    return &c->src;
}

/* ---------------------------------------------------------------------- */
/* PCK certificate lookup                                                  */

/* The TCB a stored PCK certificate was issued for, from its meta. */
static bool cert_tcb(const struct vouch_store_doc *d, uint8_t comps[16], unsigned *ret_pcesvn)
{
    json_t *m = d->meta ? json_loads(d->meta, 0, NULL) : NULL;
    json_t *c = json_object_get(m, "tcb_components");
    bool ok = json_array_size(c) == 16 && json_is_integer(json_object_get(m, "pcesvn"));
    size_t i;

    for (i = 0; ok && i < 16; i++)
        comps[i] = (uint8_t)json_integer_value(json_array_get(c, i));
    if (ok)
        *ret_pcesvn = (unsigned)json_integer_value(json_object_get(m, "pcesvn"));
    json_decref(m);
    return ok;
}

/* a <= b component-wise (TCB components and PCESVN). */
static bool tcb_le(const uint8_t a[16], unsigned apce, const uint8_t b[16], unsigned bpce)
{
    size_t i;

    for (i = 0; i < 16; i++)
        if (a[i] > b[i])
            return false;
    return apce <= bpce;
}

vouch_err vouch_collateral_pckcert(struct vouch_store *s, const char *qeid,
                                   const char *encrypted_ppid, const char *pceid,
                                   const uint8_t cpusvn[16], unsigned pcesvn,
                                   struct vouch_store_doc **ret, struct vouch_errbuf *eb)
{
    struct vouch_store_doc *plat = NULL, *docs = NULL, *best = NULL;
    uint8_t comps[16], best_comps[16], h[32];
    unsigned pce, best_pce = 0;
    char id[400], hex[65];
    size_t n = 0, i;
    vouch_err e = VOUCH_E_NOT_FOUND;

    /* Which platform: PCCS finds it by QE id, PCS by encrypted PPID. */
    if (qeid) {
        snprintf(id, sizeof(id), "pckplatform/qe/%s/%s", qeid, pceid);
        e = vouch_store_doc_get(s, VOUCH_COLLATERAL_KIND, id, &plat, eb);
    }
    if (e == VOUCH_E_NOT_FOUND && encrypted_ppid) {
        vouch_hash(VOUCH_HASH_SHA256, encrypted_ppid, strlen(encrypted_ppid), h);
        vouch_hex_encode(h, sizeof(h), hex);
        snprintf(id, sizeof(id), "pckplatform/eppid/%s/%s", hex, pceid);
        e = vouch_store_doc_get(s, VOUCH_COLLATERAL_KIND, id, &plat, eb);
    }
    if (e == VOUCH_E_NOT_FOUND)
        return vouch_fail(eb, e, "no PCK certificates for this platform (qeid or "
                          "encrypted_ppid with pceid %s)", pceid);
    if (e)
        return e;
    snprintf(id, sizeof(id), "pckcert/%s/%.32s/", pceid, (const char *)plat->body);
    vouch_store_doc_free(plat);
    e = vouch_store_doc_list(s, VOUCH_COLLATERAL_KIND, id, 1, 1024, &docs, &n, eb);
    if (e)
        return e;
    /*
     * The certificate for the highest TCB the platform has reached: among
     * those issued for a TCB at or below the raw TCB (every component of
     * CPUSVN and the PCESVN), one no other candidate exceeds; the higher
     * PCESVN, then the higher components, when two are not comparable.
     */
    for (i = 0; i < n; i++) {
        if (!cert_tcb(&docs[i], comps, &pce) || !tcb_le(comps, pce, cpusvn, pcesvn))
            continue;
        if (best && (tcb_le(comps, pce, best_comps, best_pce) ||
                     (!tcb_le(best_comps, best_pce, comps, pce) &&
                      (pce < best_pce ||
                       (pce == best_pce && memcmp(comps, best_comps, 16) <= 0)))))
            continue;
        best = &docs[i];
        memcpy(best_comps, comps, 16);
        best_pce = pce;
    }
    if (!best) {
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no PCK certificate of this platform is for a "
                       "TCB at or below the one asked for");
        goto out;
    }
    {
        struct vouch_store_doc *d = calloc(1, sizeof(*d));

        if (!d) {
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
            goto out;
        }
        *d = *best;
        memset(best, 0, sizeof(*best));
        *ret = d;
    }
out:
    vouch_store_docs_free(docs, n);
    return e;
}

