/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AMD SEV-SNP collateral in the store: the verified import of what AMD's
 * Key Distribution Service answers (VCEKs, cert_chain, CRLs) and the
 * source the snp verifier reads.  Layout and rules: collateral/amd.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "collateral/amd.h"
#include "collateral/collateral.h"
#include "common/cache.h"
#include "common/codec.h"
#include "common/json.h"
#include "common/time.h"
#include "crypto/x509.h"

#define MAX_ITEMS 16
#define ITEM_MAX (64u * 1024)   /* one certificate or CRL */
#define PEM_CERT "CERTIFICATE"
#define PEM_CRL "X509 CRL"

enum vouch_snp_product vouch_amd_product_parse(const char *name)
{
    enum vouch_snp_product p;

    for (p = VOUCH_SNP_PRODUCT_MILAN; name && p < VOUCH_SNP_PRODUCT__COUNT; p++)
        if (strcmp(name, vouch_snp_product_name(p)) == 0)
            return p;
    return VOUCH_SNP_PRODUCT_UNKNOWN;
}

static const uint8_t *skip_space(const uint8_t *p, const uint8_t *end)
{
    while (p < end && isspace(*p))
        p++;
    return p;
}

bool vouch_amd_collateral_detect(const uint8_t *data, size_t len)
{
    const uint8_t *p = skip_space(data, data + len);

    /* A DER SEQUENCE, or PEM; JSON starts with '{' or '['. */
    return p < data + len && (*p == 0x30 || *p == '-');
}

/* ---------------------------------------------------------------------- */
/* Reading the input                                                       */

/* The certificates and CRLs of one input, in order. */
struct items {
    X509 *certs[MAX_ITEMS];
    X509_CRL *crls[MAX_ITEMS];
    size_t n_certs, n_crls;
};

static void items_done(struct items *it)
{
    size_t i;

    for (i = 0; i < it->n_certs; i++)
        X509_free(it->certs[i]);
    for (i = 0; i < it->n_crls; i++)
        X509_CRL_free(it->crls[i]);
    it->n_certs = it->n_crls = 0;
}

static vouch_err add_der(struct items *it, const char *type, const uint8_t *der, size_t n,
                         struct vouch_errbuf *eb)
{
    const uint8_t *p = der;

    if (it->n_certs + it->n_crls >= MAX_ITEMS)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "more than %d certificates and CRLs",
                          MAX_ITEMS);
    if (n > ITEM_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "an item is over %u bytes", ITEM_MAX);
    if (strcmp(type, PEM_CRL) == 0) {
        X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)n);

        if (!crl || p != der + n) {
            X509_CRL_free(crl);
            return vouch_fail(eb, VOUCH_E_INVALID, "a CRL is not valid DER");
        }
        it->crls[it->n_crls++] = crl;
        return VOUCH_OK;
    }
    {
        X509 *x = d2i_X509(NULL, &p, (long)n);

        if (!x || p != der + n) {
            X509_free(x);
            return vouch_fail(eb, VOUCH_E_INVALID, "a certificate is not valid DER");
        }
        it->certs[it->n_certs++] = x;
    }
    return VOUCH_OK;
}

/* Every PEM block: certificates and CRLs; any other block is an error. */
static vouch_err read_pem(struct items *it, const uint8_t *data, size_t len,
                          struct vouch_errbuf *eb)
{
    BIO *bio = BIO_new_mem_buf(data, (int)len);
    char *name = NULL, *header = NULL;
    unsigned char *der = NULL;
    long n = 0;
    vouch_err e = VOUCH_OK;

    if (!bio)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    while (!e && PEM_read_bio(bio, &name, &header, &der, &n) == 1) {
        if (strcmp(name, PEM_CERT) && strcmp(name, PEM_CRL))
            e = vouch_fail(eb, VOUCH_E_INVALID, "a PEM block of type '%.40s' is neither a "
                           "certificate nor a CRL", name);
        else
            e = add_der(it, name, der, (size_t)n, eb);
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(der);
        name = header = NULL;
        der = NULL;
    }
    ERR_clear_error();
    BIO_free(bio);
    if (!e && it->n_certs + it->n_crls == 0)
        e = vouch_fail(eb, VOUCH_E_INVALID, "no PEM certificate or CRL");
    return e;
}

static vouch_err read_items(struct items *it, const uint8_t *data, size_t len,
                            struct vouch_errbuf *eb)
{
    const uint8_t *p = skip_space(data, data + len);
    struct vouch_errbuf ignore;

    if (len > INT32_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "input too large");
    if (p < data + len && *p == '-')
        return read_pem(it, data, len, eb);
    /* DER: a certificate (a VCEK) or a CRL. */
    if (add_der(it, PEM_CERT, data, len, &ignore) == VOUCH_OK)
        return VOUCH_OK;
    if (add_der(it, PEM_CRL, data, len, &ignore) == VOUCH_OK)
        return VOUCH_OK;
    ERR_clear_error();
    return vouch_fail(eb, VOUCH_E_INVALID, "neither a DER certificate nor a DER CRL");
}

/* ---------------------------------------------------------------------- */
/* Verification                                                            */

/* One document on its way into the store (body NULL: pinned, not stored). */
struct piece {
    char id[VOUCH_SNP_VCEK_KEY_MAX + 16];
    uint8_t *body;
    size_t body_len;
    json_t *meta;
    int64_t next_update, crl_number;
};

static void pieces_done(struct piece *ps, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        OPENSSL_free(ps[i].body);
        json_decref(ps[i].meta);
    }
}

static json_t *dates_json(int64_t a, const char *ka, int64_t b, const char *kb)
{
    char ta[VOUCH_RFC3339_LEN], tb[VOUCH_RFC3339_LEN];

    vouch_time_format_rfc3339(a, ta);
    vouch_time_format_rfc3339(b, tb);
    return json_pack("{s:s,s:s}", ka, ta, kb, tb);
}

static vouch_err verify_vcek(X509 *x, int64_t now, struct piece *p, struct vouch_errbuf *eb)
{
    struct vouch_snp_vek k;
    char key[VOUCH_SNP_VCEK_KEY_MAX], hex[129];
    int64_t nb, na;
    int n;
    vouch_err e;

    e = vouch_snp_vek_verify(x, now, &k, eb);
    if (e)
        return e;
    if (k.role != VOUCH_SNP_VEK_VCEK)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "a VLEK is handed out to cloud providers "
                          "only and cannot be looked up by chip: send it with the evidence");
    if (!k.has_hwid || k.has_csp_id)
        return vouch_fail(eb, VOUCH_E_VERIFY, "a VCEK must carry a hwID and no cspID");
    if (vouch_x509_validity(x, &nb, &na))
        return vouch_fail(eb, VOUCH_E_INVALID, "the VCEK's validity cannot be read");
    vouch_snp_vcek_key(k.product, k.hwid, k.hwid_len, &k.tcb, key);
    snprintf(p->id, sizeof(p->id), VOUCH_AMD_VCEK_PREFIX "%s", key);
    n = i2d_X509(x, &p->body);
    if (n <= 0)
        return vouch_fail(eb, VOUCH_E_INVALID, "cannot encode the VCEK");
    p->body_len = (size_t)n;
    p->next_update = na;
    vouch_hex_encode(k.hwid, k.hwid_len, hex);
    p->meta = dates_json(nb, "not_before", na, "not_after");
    if (!p->meta ||
        json_object_set_new(p->meta, "product", json_string(vouch_snp_product_name(k.product))) ||
        json_object_set_new(p->meta, "hwid", json_string(hex)) ||
        json_object_set_new(p->meta, "tcb", json_pack("{s:i,s:i,s:i,s:i}", "bootloader",
                                                      k.tcb.bootloader, "tee", k.tcb.tee, "snp",
                                                      k.tcb.snp, "microcode", k.tcb.microcode)))
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    if (k.tcb.has_fmc)
        json_object_set_new(json_object_get(p->meta, "tcb"), "fmc", json_integer(k.tcb.fmc));
    return VOUCH_OK;
}

/* An ARK, ASK or ASVK: it must be one of the pinned certificates. */
static vouch_err check_pinned(X509 *x, struct piece *p, struct vouch_errbuf *eb)
{
    static const char *const role[3] = { "ark", "ask", "asvk" };
    enum vouch_snp_product pr;
    char subj[160];
    int r;

    for (pr = VOUCH_SNP_PRODUCT_MILAN; pr < VOUCH_SNP_PRODUCT__COUNT; pr++) {
        X509 *pinned[3] = { vouch_snp_pinned_ark(pr), vouch_snp_pinned_ask(pr),
                            vouch_snp_pinned_asvk(pr) };

        for (r = 0; r < 3; r++) {
            if (pinned[r] && X509_cmp(x, pinned[r]) == 0) {
                snprintf(p->id, sizeof(p->id), "amd/%s/%s", role[r],
                         vouch_snp_product_name(pr));
                vouch_x509_validity(x, &(int64_t){ 0 }, &p->next_update);
                return VOUCH_OK;
            }
        }
    }
    vouch_x509_subject(x, subj, sizeof(subj));
    return vouch_fail(eb, VOUCH_E_VERIFY, "'%s' is neither a VCEK nor one of AMD's pinned "
                      "ARK, ASK or ASVK certificates", subj);
}

static vouch_err verify_cert(X509 *x, int64_t now, struct piece *p, struct vouch_errbuf *eb)
{
    X509_NAME *subj = X509_get_subject_name(x);
    int i = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
    const ASN1_STRING *cn = i < 0 ? NULL : X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i));

    if (cn && ASN1_STRING_length(cn) == 8 &&
        (memcmp(ASN1_STRING_get0_data(cn), "SEV-VCEK", 8) == 0 ||
         memcmp(ASN1_STRING_get0_data(cn), "SEV-VLEK", 8) == 0))
        return verify_vcek(x, now, p, eb);
    return check_pinned(x, p, eb);
}

static vouch_err verify_crl(X509_CRL *crl, int64_t now, struct piece *p,
                            struct vouch_errbuf *eb)
{
    enum vouch_snp_product pr;
    const ASN1_INTEGER *num;
    int64_t tu, nu = 0;
    int n;
    vouch_err e;

    e = vouch_snp_crl_product(crl, &pr, eb);
    if (!e)
        e = vouch_snp_crl_check_with(crl, vouch_snp_pinned_ark(pr), NULL, now, eb);
    if (e)
        return e;
    num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
    if (num && ASN1_INTEGER_get_int64(&p->crl_number, num) != 1)
        p->crl_number = 0;
    ASN1_INTEGER_free((ASN1_INTEGER *)num);
    if (vouch_asn1_time_to_unix(X509_CRL_get0_lastUpdate(crl), &tu) ||
        (X509_CRL_get0_nextUpdate(crl) &&
         vouch_asn1_time_to_unix(X509_CRL_get0_nextUpdate(crl), &nu)))
        return vouch_fail(eb, VOUCH_E_INVALID, "the CRL's dates cannot be read");
    snprintf(p->id, sizeof(p->id), VOUCH_AMD_CRL_PREFIX "%s", vouch_snp_product_name(pr));
    n = i2d_X509_CRL(crl, &p->body);
    if (n <= 0)
        return vouch_fail(eb, VOUCH_E_INVALID, "cannot encode the CRL");
    p->body_len = (size_t)n;
    p->next_update = nu;
    p->meta = dates_json(tu, "issue_date", nu, "next_update");
    if (!p->meta ||
        json_object_set_new(p->meta, "product", json_string(vouch_snp_product_name(pr))) ||
        json_object_set_new(p->meta, "crl_number", json_integer(p->crl_number)))
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    return VOUCH_OK;
}

/* ---------------------------------------------------------------------- */
/* Storing                                                                 */

static int64_t stored_crl_number(const struct vouch_store_doc *d)
{
    json_t *m = d->meta ? json_loads(d->meta, 0, NULL) : NULL;
    int64_t n = json_integer_value(json_object_get(m, "crl_number"));

    json_decref(m);
    return n;
}

/* What storing `p` does: "stored", "unchanged" or "kept-newer". */
static const char *store_action(struct vouch_store *s, const struct piece *p)
{
    struct vouch_store_doc *old = NULL;
    const char *action = "stored";

    if (vouch_store_doc_get(s, VOUCH_COLLATERAL_KIND, p->id, &old, NULL) != VOUCH_OK)
        return action;
    if (old->body_len == p->body_len && memcmp(old->body, p->body, p->body_len) == 0)
        action = "unchanged";
    else if (strncmp(p->id, VOUCH_AMD_CRL_PREFIX, strlen(VOUCH_AMD_CRL_PREFIX)) == 0 &&
             stored_crl_number(old) > p->crl_number)
        action = "kept-newer";
    vouch_store_doc_free(old);
    return action;
}

static vouch_err store_pieces(struct vouch_store *s, struct piece *ps, size_t n, int64_t now,
                              json_t *report, struct vouch_errbuf *eb)
{
    char nu[VOUCH_RFC3339_LEN];
    size_t i;
    vouch_err e;

    for (i = 0; i < n; i++) {
        const char *action = ps[i].body ? store_action(s, &ps[i]) : "pinned";

        if (strcmp(action, "stored") == 0) {
            char *meta = json_dumps(ps[i].meta, JSON_COMPACT);

            e = meta ? vouch_store_doc_put(s, VOUCH_COLLATERAL_KIND, ps[i].id, ps[i].body,
                                           ps[i].body_len, meta, ps[i].next_update, now, eb)
                     : vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
            free(meta);
            if (e)
                return e;
        }
        vouch_time_format_rfc3339(ps[i].next_update, nu);
        json_array_append_new(report, json_pack("{s:s,s:s,s:s,s:b}", "id", ps[i].id, "action",
                                                action, "next_update", nu, "expired",
                                                ps[i].next_update < now));
    }
    return VOUCH_OK;
}

vouch_err vouch_amd_collateral_import(struct vouch_store *s, const uint8_t *data, size_t len,
                                      const char *src, int64_t now, json_t **ret_report,
                                      struct vouch_errbuf *eb)
{
    struct items it = { 0 };
    struct piece ps[MAX_ITEMS];
    json_t *report = NULL;
    size_t n = 0, i;
    vouch_err e;

    memset(ps, 0, sizeof(ps));
    e = read_items(&it, data, len, eb);
    for (i = 0; !e && i < it.n_certs; i++, n++) {
        e = verify_cert(it.certs[i], now, &ps[n], eb);
        if (e)
            vouch_fail_prefix(eb, e, "%s: certificate %zu: ", src, i + 1);
    }
    for (i = 0; !e && i < it.n_crls; i++, n++) {
        e = verify_crl(it.crls[i], now, &ps[n], eb);
        if (e)
            vouch_fail_prefix(eb, e, "%s: CRL %zu: ", src, i + 1);
    }
    if (e)
        goto out;
    report = json_array();
    e = report ? store_pieces(s, ps, n, now, report, eb)
               : vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    if (!e) {
        *ret_report = report;
        report = NULL;
    }
out:
    if (e && it.n_certs + it.n_crls == 0)
        vouch_fail_prefix(eb, e, "%s: ", src);
    json_decref(report);
    pieces_done(ps, n);
    items_done(&it);
    ERR_clear_error();
    return e;
}

char *vouch_amd_cert_chain_pem(enum vouch_snp_product p, bool vlek)
{
    const char *mid = vlek ? vouch_snp_asvk_pem(p) : vouch_snp_ask_pem(p);
    const char *ark = vouch_snp_ark_pem(p);
    size_t a, b;
    char *out;

    if (!mid || !ark)
        return NULL;
    a = strlen(mid);
    b = strlen(ark);
    out = malloc(a + b + 1);
    if (out) {
        memcpy(out, mid, a);
        memcpy(out + a, ark, b + 1);
    }
    return out;
}

/* ---------------------------------------------------------------------- */
/* The store-backed source                                                 */

#define SRC_CACHE_MAX 1024
#define SRC_CACHE_MAX_BYTES (16u << 20)

/* A stored document's DER, or its absence, as read at one time. */
struct held {
    bool absent;
    uint8_t *der;
    size_t len;
};

struct vouch_amd_collateral {
    struct vouch_store *store;
    const struct vouch_amd_fetcher *fetch;  /* NULL: none */
    struct vouch_cache *docs;     /* id -> struct held; NULL: ttl 0 */
    struct vouch_snp_source src;
};

static void held_free(void *v)
{
    struct held *h = v;

    if (h) {
        free(h->der);
        free(h);
    }
}

/* The DER of document `id` into *ret (malloc'd); VOUCH_E_NOT_FOUND when absent. */
static vouch_err held_get(struct vouch_amd_collateral *c, const char *id, uint8_t **ret,
                          size_t *ret_len, struct vouch_errbuf *eb)
{
    int64_t now_us = (int64_t)vouch_clock_us();
    struct vouch_cache_entry *ce = c->docs ? vouch_cache_get(c->docs, id, strlen(id), now_us)
                                           : NULL;
    struct vouch_store_doc *d = NULL;
    struct held *h;
    vouch_err e = VOUCH_OK;

    if (!ce) {
        h = calloc(1, sizeof(*h));
        if (!h)
            return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        e = vouch_store_doc_get(c->store, VOUCH_COLLATERAL_KIND, id, &d, eb);
        if (e && e != VOUCH_E_NOT_FOUND) {
            free(h);
            return e;
        }
        h->absent = e == VOUCH_E_NOT_FOUND;
        if (d) {
            h->der = d->body;
            h->len = d->body_len;
            d->body = NULL;
        }
        vouch_store_doc_free(d);
        if (!c->docs || vouch_cache_put(c->docs, id, strlen(id), h, h->len + sizeof(*h), now_us,
                                        VOUCH_CACHE_NEVER, &ce)) {
            /* Not held: answer from this read. */
            e = h->absent ? VOUCH_E_NOT_FOUND : VOUCH_OK;
            *ret = h->der;
            *ret_len = h->len;
            free(h);
            return e == VOUCH_E_NOT_FOUND ? vouch_fail(eb, e, "%s is not stored", id) : e;
        }
    }
    h = vouch_cache_value(ce);
    if (h->absent) {
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "%s is not stored", id);
    } else if (!(*ret = malloc(h->len ? h->len : 1))) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    } else {
        memcpy(*ret, h->der, h->len);
        *ret_len = h->len;
    }
    vouch_cache_release(ce);
    return e;
}

/*
 * Document `id` is not stored: fetch `path` from the KDS, import what
 * comes back (verified, all or nothing) and return its DER.
 */
static vouch_err fetch_missing(struct vouch_amd_collateral *c, const char *id, const char *path,
                               uint8_t **ret, size_t *ret_len, struct vouch_errbuf *eb)
{
    uint8_t *body = NULL;
    size_t len = 0;
    json_t *report = NULL;
    vouch_err e;

    e = c->fetch->fetch(c->fetch->ctx, path, &body, &len, eb);
    if (e)
        return vouch_fail_prefix(eb, VOUCH_E_IO, "%s is not stored and the KDS did not give "
                                 "it: ", id);
    e = vouch_amd_collateral_import(c->store, body, len, path, c->fetch->clock(c->fetch->ctx),
                                    &report, eb);
    json_decref(report);
    if (!e && c->docs)
        vouch_cache_clear(c->docs);   /* the absence held is stale now */
    if (e) {
        free(body);
        return vouch_fail_prefix(eb, e, "from the KDS: ");
    }
    *ret = body;
    *ret_len = len;
    return VOUCH_OK;
}

static vouch_err src_vcek(void *ctx, enum vouch_snp_product p, const uint8_t *hwid,
                          size_t hwid_len, const struct vouch_snp_tcb *tcb, X509 **ret,
                          struct vouch_errbuf *eb)
{
    struct vouch_amd_collateral *c = ctx;
    char key[VOUCH_SNP_VCEK_KEY_MAX], id[VOUCH_SNP_VCEK_KEY_MAX + 16];
    char path[VOUCH_SNP_KDS_PATH_MAX];
    uint8_t *der = NULL;
    size_t len = 0;
    vouch_err e;

    vouch_snp_vcek_key(p, hwid, hwid_len, tcb, key);
    snprintf(id, sizeof(id), VOUCH_AMD_VCEK_PREFIX "%s", key);
    e = held_get(ctx, id, &der, &len, eb);
    if (e == VOUCH_E_NOT_FOUND && c->fetch) {
        vouch_snp_kds_vcek_path(p, hwid, hwid_len, tcb, path);
        e = fetch_missing(c, id, path, &der, &len, eb);
    }
    if (!e && vouch_x509_parse_der(der, len, ret, eb))
        e = vouch_fail(eb, VOUCH_E_STORE, "stored %s is not a certificate", id);
    free(der);
    return e;
}

static vouch_err src_crl(void *ctx, enum vouch_snp_product p, X509_CRL **ret,
                         struct vouch_errbuf *eb)
{
    struct vouch_amd_collateral *c = ctx;
    char id[64], path[64];
    uint8_t *der = NULL;
    size_t len = 0;
    vouch_err e;

    snprintf(id, sizeof(id), VOUCH_AMD_CRL_PREFIX "%s", vouch_snp_product_name(p));
    e = held_get(ctx, id, &der, &len, eb);
    if (e == VOUCH_E_NOT_FOUND && c->fetch) {
        /* A CRL is checked when there is one: a KDS that gives none leaves none. */
        snprintf(path, sizeof(path), "/vcek/v1/%s/crl", vouch_snp_product_name(p));
        e = fetch_missing(c, id, path, &der, &len, eb);
        if (e == VOUCH_E_IO)
            e = VOUCH_E_NOT_FOUND;
    }
    if (!e && vouch_crl_parse(der, len, ret, eb))
        e = vouch_fail(eb, VOUCH_E_STORE, "stored %s is not a CRL", id);
    free(der);
    return e;
}

vouch_err vouch_amd_collateral_new(struct vouch_store *s, int ttl,
                                   const struct vouch_amd_fetcher *fetch,
                                   struct vouch_amd_collateral **ret, struct vouch_errbuf *eb)
{
    const struct vouch_cache_config cfg = { "amd_collateral_docs", SRC_CACHE_MAX,
                                            SRC_CACHE_MAX_BYTES, (int64_t)ttl * 1000000,
                                            held_free };
    struct vouch_amd_collateral *c = calloc(1, sizeof(*c));

    if (!c)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    c->store = s;
    c->fetch = fetch && fetch->fetch ? fetch : NULL;
    if (ttl > 0 && vouch_cache_new(&cfg, &c->docs, eb)) {
        free(c);
        return VOUCH_E_NOMEM;
    }
    c->src = (struct vouch_snp_source){ .get_vcek = src_vcek, .get_crl = src_crl, .ctx = c };
    *ret = c;
    return VOUCH_OK;
}

void vouch_amd_collateral_free(struct vouch_amd_collateral *c)
{
    if (!c)
        return;
    vouch_cache_free(c->docs);
    free(c);
}

const struct vouch_snp_source *vouch_amd_collateral_source(struct vouch_amd_collateral *c)
{
    return &c->src;
}

void vouch_amd_collateral_invalidate(struct vouch_amd_collateral *c)
{
    if (c && c->docs)
        vouch_cache_clear(c->docs);
}

/* The stored CRLs by product, {"Milan": {...}}, from their metadata. */
static json_t *crls_of(const struct vouch_store_doc *docs, size_t n, json_t *list)
{
    json_t *by_product = json_object(), *meta, *row;
    size_t i;

    for (i = 0; by_product && i < n; i++) {
        meta = docs[i].meta ? json_loads(docs[i].meta, 0, NULL) : NULL;
        row = json_pack("{s:s,s:O?,s:O?,s:O?}", "id", docs[i].id, "product",
                        json_object_get(meta, "product"), "next_update",
                        json_object_get(meta, "next_update"), "crl_number",
                        json_object_get(meta, "crl_number"));
        json_decref(meta);
        if (!row || json_array_append(list, row) ||
            (json_is_string(json_object_get(row, "product")) &&
             json_object_set(by_product, json_string_value(json_object_get(row, "product")),
                             row))) {
            json_decref(row);
            json_decref(by_product);
            return NULL;
        }
        json_decref(row);
    }
    return by_product;
}

/* One chip entry from a stored VCEK's metadata. */
static json_t *chip_of(const struct vouch_store_doc *d, const json_t *crls)
{
    json_t *meta = d->meta ? json_loads(d->meta, 0, NULL) : NULL, *product, *row;

    product = json_object_get(meta, "product");
    row = json_pack("{s:s,s:O?,s:O?,s:O?,s:O?,s:O?}", "id", d->id, "product", product, "hwid",
                    json_object_get(meta, "hwid"), "tcb", json_object_get(meta, "tcb"),
                    "not_after", json_object_get(meta, "not_after"), "crl_next_update",
                    json_object_get(json_object_get(crls, json_string_value(product)),
                                    "next_update"));
    json_decref(meta);
    return row;
}

vouch_err vouch_amd_collateral_list(struct vouch_store *s, json_t **ret, struct vouch_errbuf *eb)
{
    struct vouch_store_doc *vceks = NULL, *crl_docs = NULL;
    json_t *chips = json_array(), *crls = json_array(), *by_product = NULL;
    size_t n_vceks = 0, n_crls = 0, i;
    vouch_err e = vouch_store_doc_list(s, VOUCH_COLLATERAL_KIND, VOUCH_AMD_CRL_PREFIX, 0,
                                       VOUCH_STORE_LIST_MAX, &crl_docs, &n_crls, eb);

    if (!e)
        e = vouch_store_doc_list(s, VOUCH_COLLATERAL_KIND, VOUCH_AMD_VCEK_PREFIX, 0,
                                 VOUCH_STORE_LIST_MAX, &vceks, &n_vceks, eb);
    if (!e && (!chips || !crls || !(by_product = crls_of(crl_docs, n_crls, crls))))
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    for (i = 0; !e && i < n_vceks; i++)
        if (json_array_append_new(chips, chip_of(&vceks[i], by_product)))
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    if (!e && !(*ret = json_pack("{s:O,s:O}", "chips", chips, "crls", crls)))
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    json_decref(chips);
    json_decref(crls);
    json_decref(by_product);
    vouch_store_docs_free(vceks, n_vceks);
    vouch_store_docs_free(crl_docs, n_crls);
    return e;
}
