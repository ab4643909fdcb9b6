/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test-only DCAP forge (see forge.h).  Keys are fresh P-256 keys on every
 * call; certificates, CRLs, TCB info and QE identity are shaped like
 * Intel's so the verifier runs its real code paths on them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "forge.h"

#define QE_MRSIGNER_HEX "8c4f5775d796503e96137f77c68a829a0056ac8ded70140b081b094490c57bff"
#define QE_ISVSVN 8

/* The PCK certificate's platform TCB. */
static const uint8_t pck_comps[16] = { 5, 5, 2, 2, 3, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0 };
#define PCK_PCESVN 11
static const uint8_t fmspc[6] = { 0x00, 0x90, 0x6e, 0xd5, 0x00, 0x00 };
/* tee_tcb_svn: module SVN 4, module major version 1, late microcode 2. */
static const uint8_t tee_svn[16] = { 4, 1, 2, 0 };

struct dbuf {
    uint8_t *p;
    size_t n, cap;
    int oom;
};

static void db_put(struct dbuf *b, const void *d, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n > b->cap) {
        size_t cap = (b->n + n) * 2 + 64;
        uint8_t *p = realloc(b->p, cap);

        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void db_u8(struct dbuf *b, uint8_t v) { db_put(b, &v, 1); }
static void db_u16(struct dbuf *b, uint16_t v)
{
    uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

    db_put(b, x, 2);
}
static void db_u32(struct dbuf *b, uint32_t v)
{
    uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

    db_put(b, x, 4);
}

static void db_printf(struct dbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void db_printf(struct dbuf *b, const char *fmt, ...)
{
    char tmp[4096];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        b->oom = 1;
        return;
    }
    db_put(b, tmp, (size_t)n);
}

/* DER TLV with a definite length. */
static void der(struct dbuf *b, uint8_t tag, const uint8_t *v, size_t n)
{
    db_u8(b, tag);
    if (n < 128) {
        db_u8(b, (uint8_t)n);
    } else if (n < 256) {
        db_u8(b, 0x81);
        db_u8(b, (uint8_t)n);
    } else {
        db_u8(b, 0x82);
        db_u8(b, (uint8_t)(n >> 8));
        db_u8(b, (uint8_t)n);
    }
    db_put(b, v, n);
}

static const uint8_t sgx_oid[] = { 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01 };

/* SEQUENCE { OID sgx.a[.b], value } */
static void der_pair(struct dbuf *out, int a, int b, uint8_t tag, const uint8_t *v, size_t n)
{
    struct dbuf p = { 0 }, oid = { 0 };

    db_put(&oid, sgx_oid, sizeof(sgx_oid));
    db_u8(&oid, (uint8_t)a);
    if (b)
        db_u8(&oid, (uint8_t)b);
    der(&p, 0x06, oid.p, oid.n);
    der(&p, tag, v, n);
    der(out, 0x30, p.p, p.n);
    out->oom |= p.oom | oid.oom;
    free(p.p);
    free(oid.p);
}

static void hexs(const uint8_t *p, size_t n, char *out, int upper)
{
    static const char lo[] = "0123456789abcdef", up[] = "0123456789ABCDEF";
    const char *d = upper ? up : lo;
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static int unhex(const char *s, uint8_t *out, size_t n)
{
    size_t i;

    if (strlen(s) != 2 * n)
        return -1;
    for (i = 0; i < n; i++) {
        unsigned v;

        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

static void fmt_date(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---------------------------------------------------------------------- */
/* Keys, certificates, CRLs                                                 */

static EVP_PKEY *keygen(void)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static X509_NAME *name(const char *cn)
{
    X509_NAME *n = X509_NAME_new();

    if (!n)
        return NULL;
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"Vouch Test",
                               -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1, 0);
    return n;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return -1;
    ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, long serial, int64_t now,
                       bool ca)
{
    X509 *x = X509_new();
    X509_NAME *n = name(cn);

    if (!x || !n)
        goto fail;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_set_subject_name(x, n);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
    ASN1_TIME_set(X509_getm_notBefore(x), (time_t)(now - 86400));
    ASN1_TIME_adj(X509_getm_notAfter(x), (time_t)now, 3650, 0);
    X509_set_pubkey(x, key);
    if (add_ext(x, issuer ? issuer : x, NID_basic_constraints,
                ca ? "critical,CA:TRUE" : "critical,CA:FALSE") ||
        add_ext(x, issuer ? issuer : x, NID_key_usage,
                ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,nonRepudiation") ||
        add_ext(x, issuer ? issuer : x, NID_subject_key_identifier, "hash"))
        goto fail;
    X509_NAME_free(n);
    return x;
fail:
    X509_NAME_free(n);
    X509_free(x);
    return NULL;
}

static int sign_cert(X509 *x, EVP_PKEY *key)
{
    return X509_sign(x, key, EVP_sha256()) > 0 ? 0 : -1;
}

static int add_sgx_ext(X509 *x)
{
    struct dbuf top = { 0 }, tcb = { 0 }, cfg = { 0 }, seq = { 0 };
    static const uint8_t ppid[16] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };
    static const uint8_t piid[16] = { 0xaa, 0xbb, 0xcc, 0xdd, 1, 2, 3, 4 };
    static const uint8_t pceid[2] = { 0, 0 };
    static const uint8_t t = 0xff, one = 1;
    ASN1_OCTET_STRING *os = NULL;
    ASN1_OBJECT *obj = NULL;
    X509_EXTENSION *ext = NULL;
    uint8_t v[2];
    int i, rc = -1;

    for (i = 0; i < 16; i++)
        der_pair(&tcb, 2, i + 1, 0x02, &pck_comps[i], 1);
    v[0] = 0;
    v[1] = PCK_PCESVN;
    der_pair(&tcb, 2, 17, 0x02, v + 1, 1);
    der_pair(&tcb, 2, 18, 0x04, pck_comps, 16);
    der_pair(&cfg, 7, 1, 0x01, &t, 1);
    der_pair(&cfg, 7, 2, 0x01, &t, 1);
    der_pair(&cfg, 7, 3, 0x01, &t, 1);
    der_pair(&seq, 1, 0, 0x04, ppid, 16);
    der_pair(&seq, 2, 0, 0x30, tcb.p, tcb.n);
    der_pair(&seq, 3, 0, 0x04, pceid, 2);
    der_pair(&seq, 4, 0, 0x04, fmspc, 6);
    der_pair(&seq, 5, 0, 0x0a, &one, 1);
    der_pair(&seq, 6, 0, 0x04, piid, 16);
    der_pair(&seq, 7, 0, 0x30, cfg.p, cfg.n);
    der(&top, 0x30, seq.p, seq.n);
    if (top.oom || seq.oom || tcb.oom || cfg.oom)
        goto out;
    obj = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
    os = ASN1_OCTET_STRING_new();
    if (!obj || !os || !ASN1_OCTET_STRING_set(os, top.p, (int)top.n))
        goto out;
    ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
    if (ext && X509_add_ext(x, ext, -1))
        rc = 0;
out:
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(obj);
    free(top.p);
    free(seq.p);
    free(tcb.p);
    free(cfg.p);
    return rc;
}

static X509_CRL *make_crl(X509 *issuer, EVP_PKEY *key, const ASN1_INTEGER *revoke,
                          int64_t now, int days)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *tu = ASN1_TIME_new(), *nu = ASN1_TIME_new();
    ASN1_INTEGER *num = ASN1_INTEGER_new();

    if (!crl || !tu || !nu || !num)
        goto fail;
    X509_CRL_set_version(crl, 1);
    X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
    ASN1_TIME_set(tu, (time_t)(now - 3600));
    ASN1_TIME_set(nu, (time_t)(now - 3600 + (int64_t)days * 86400));
    X509_CRL_set1_lastUpdate(crl, tu);
    X509_CRL_set1_nextUpdate(crl, nu);
    ASN1_INTEGER_set(num, 1);
    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0);
    if (revoke) {
        X509_REVOKED *r = X509_REVOKED_new();

        if (!r)
            goto fail;
        X509_REVOKED_set_serialNumber(r, (ASN1_INTEGER *)revoke);
        X509_REVOKED_set_revocationDate(r, tu);
        X509_CRL_add0_revoked(crl, r);
    }
    X509_CRL_sort(crl);
    if (!X509_CRL_sign(crl, key, EVP_sha256()))
        goto fail;
    ASN1_TIME_free(tu);
    ASN1_TIME_free(nu);
    ASN1_INTEGER_free(num);
    return crl;
fail:
    ASN1_TIME_free(tu);
    ASN1_TIME_free(nu);
    ASN1_INTEGER_free(num);
    X509_CRL_free(crl);
    return NULL;
}

static char *cert_pem(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p, *out = NULL;
    long n;

    if (b && PEM_write_bio_X509(b, x) && (n = BIO_get_mem_data(b, &p)) > 0 &&
        (out = malloc((size_t)n + 1))) {
        memcpy(out, p, (size_t)n);
        out[n] = '\0';
    }
    BIO_free(b);
    return out;
}

static char *crl_hex(X509_CRL *crl)
{
    unsigned char *der = NULL;
    int n = i2d_X509_CRL(crl, &der);
    char *out;

    if (n <= 0)
        return NULL;
    out = malloc(2 * (size_t)n + 1);
    if (out)
        hexs(der, (size_t)n, out, 0);
    OPENSSL_free(der);
    return out;
}

/* ECDSA-P256-SHA256 as raw r || s. */
static int sign_raw(EVP_PKEY *key, const void *msg, size_t n, uint8_t rs[64])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char der[80];
    const unsigned char *p = der;
    size_t len = sizeof(der);
    ECDSA_SIG *sig = NULL;
    const BIGNUM *r, *s;
    int rc = -1;

    if (!ctx || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(ctx, der, &len, msg, n) != 1)
        goto out;
    sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
    if (!sig)
        goto out;
    ECDSA_SIG_get0(sig, &r, &s);
    if (BN_bn2binpad(r, rs, 32) == 32 && BN_bn2binpad(s, rs + 32, 32) == 32)
        rc = 0;
out:
    ECDSA_SIG_free(sig);
    EVP_MD_CTX_free(ctx);
    return rc;
}

static int pub_xy(EVP_PKEY *key, uint8_t xy[64])
{
    unsigned char *pt = NULL;
    size_t n = EVP_PKEY_get1_encoded_public_key(key, &pt);
    int rc = -1;

    if (n == 65 && pt[0] == 4) {
        memcpy(xy, pt + 1, 64);
        rc = 0;
    }
    OPENSSL_free(pt);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Collateral JSON                                                          */

static void comps_json(struct dbuf *b, const uint8_t *c)
{
    int i;

    db_printf(b, "[");
    for (i = 0; i < 16; i++)
        db_printf(b, "%s{\"svn\":%u}", i ? "," : "", c[i]);
    db_printf(b, "]");
}

static void level_json(struct dbuf *b, bool tdx, const uint8_t *comps, unsigned pcesvn,
                       const uint8_t *tdxc, const char *date, const char *status,
                       const char *advisory)
{
    db_printf(b, "{\"tcb\":{\"sgxtcbcomponents\":");
    comps_json(b, comps);
    db_printf(b, ",\"pcesvn\":%u", pcesvn);
    if (tdx) {
        db_printf(b, ",\"tdxtcbcomponents\":");
        comps_json(b, tdxc);
    }
    db_printf(b, "},\"tcbDate\":\"%s\",\"tcbStatus\":\"%s\"", date, status);
    if (advisory)
        db_printf(b, ",\"advisoryIDs\":[\"%s\"]", advisory);
    db_printf(b, "}");
}

static char *tcb_info_json(const struct forge_opts *o, const char *issue, const char *next)
{
    struct dbuf b = { 0 };
    uint8_t hi[16], lo[16], thi[16], tlo[16];
    char fm[13];
    const char *st = o->status ? o->status : "UpToDate";
    bool up = strcmp(st, "UpToDate") == 0;
    int i;

    hexs(fmspc, 6, fm, 1);
    for (i = 0; i < 16; i++) {
        hi[i] = (uint8_t)(pck_comps[i] + 1);
        lo[i] = pck_comps[i] ? (uint8_t)(pck_comps[i] - 1) : 0;
        thi[i] = (uint8_t)(tee_svn[i] + 1);
        tlo[i] = tee_svn[i] ? (uint8_t)(tee_svn[i] - 1) : 0;
    }
    db_printf(&b, "{\"id\":\"%s\",\"version\":3,\"issueDate\":\"%s\",\"nextUpdate\":\"%s\","
              "\"fmspc\":\"%s\",\"pceId\":\"0000\",\"tcbType\":0,\"tcbEvaluationDataNumber\":17,",
              o->tdx ? "TDX" : "SGX", issue, next, fm);
    if (o->tdx) {
        const char *ms = o->module_status ? o->module_status : "UpToDate";

        db_printf(&b, "\"tdxModule\":{\"mrsigner\":\"%096d\",\"attributes\":\"0000000000000000\","
                  "\"attributesMask\":\"FFFFFFFFFFFFFFFF\"},\"tdxModuleIdentities\":[{\"id\":"
                  "\"TDX_01\",\"mrsigner\":\"%096d\",\"attributes\":\"0000000000000000\","
                  "\"attributesMask\":\"FFFFFFFFFFFFFFFF\",\"tcbLevels\":[", 0, 0);
        if (strcmp(ms, "UpToDate") != 0)
            db_printf(&b, "{\"tcb\":{\"isvsvn\":%u},\"tcbDate\":\"2024-03-13T00:00:00Z\","
                      "\"tcbStatus\":\"UpToDate\"},", tee_svn[0] + 1);
        db_printf(&b, "{\"tcb\":{\"isvsvn\":%u},\"tcbDate\":\"2024-03-13T00:00:00Z\","
                  "\"tcbStatus\":\"%s\"%s}]}],", tee_svn[0], ms,
                  strcmp(ms, "UpToDate") ? ",\"advisoryIDs\":[\"INTEL-SA-88888\"]" : "");
    }
    db_printf(&b, "\"tcbLevels\":[");
    if (o->below_all) {
        level_json(&b, o->tdx, hi, PCK_PCESVN + 1, thi, "2024-03-13T00:00:00Z", "UpToDate", NULL);
    } else {
        if (!up) {
            level_json(&b, o->tdx, hi, PCK_PCESVN, thi, "2024-03-13T00:00:00Z", "UpToDate", NULL);
            db_printf(&b, ",");
        }
        level_json(&b, o->tdx, pck_comps, PCK_PCESVN, tee_svn, "2023-08-09T00:00:00Z", st,
                   up ? NULL : "INTEL-SA-99999");
        db_printf(&b, ",");
        level_json(&b, o->tdx, lo, PCK_PCESVN - 1, tlo, "2018-01-04T00:00:00Z", "OutOfDate",
                   "INTEL-SA-00001");
    }
    db_printf(&b, "]}");
    db_u8(&b, 0);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return (char *)b.p;
}

static char *qe_identity_json(const struct forge_opts *o, const char *issue, const char *next)
{
    struct dbuf b = { 0 };
    const char *qs = o->qe_status ? o->qe_status : "UpToDate";

    db_printf(&b, "{\"id\":\"%s\",\"version\":2,\"issueDate\":\"%s\",\"nextUpdate\":\"%s\","
              "\"tcbEvaluationDataNumber\":17,\"miscselect\":\"00000000\",\"miscselectMask\":"
              "\"FFFFFFFF\",\"attributes\":\"11000000000000000000000000000000\","
              "\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\",\"mrsigner\":\"%s\","
              "\"isvprodid\":%d,\"tcbLevels\":[",
              o->tdx ? "TD_QE" : "QE", issue, next, QE_MRSIGNER_HEX, o->tdx ? 2 : 1);
    if (strcmp(qs, "UpToDate") != 0)
        db_printf(&b, "{\"tcb\":{\"isvsvn\":%d},\"tcbDate\":\"2024-03-13T00:00:00Z\","
                  "\"tcbStatus\":\"UpToDate\"},", QE_ISVSVN + 1);
    db_printf(&b, "{\"tcb\":{\"isvsvn\":%d},\"tcbDate\":\"2024-03-13T00:00:00Z\",\"tcbStatus\":"
              "\"%s\"%s}]}", QE_ISVSVN, qs,
              strcmp(qs, "UpToDate") ? ",\"advisoryIDs\":[\"INTEL-SA-77777\"]" : "");
    db_u8(&b, 0);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return (char *)b.p;
}

/* JSON string escape for PEM (newlines only need escaping). */
static void json_str(struct dbuf *b, const char *s)
{
    db_u8(b, '"');
    for (; *s; s++) {
        if (*s == '\n')
            db_put(b, "\\n", 2);
        else if (*s == '"' || *s == '\\') {
            db_u8(b, '\\');
            db_u8(b, (uint8_t)*s);
        } else
            db_u8(b, (uint8_t)*s);
    }
    db_u8(b, '"');
}

/* ---------------------------------------------------------------------- */
/* Quote                                                                    */

static int build_quote(const struct forge_opts *o, EVP_PKEY *pck_key, const char *chain_pem,
                       struct forge_out *out)
{
    static const uint8_t vendor[16] = { 0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                        0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07 };
    struct dbuf q = { 0 }, qe = { 0 }, cert = { 0 };
    uint8_t body[648], qer[384], xy[64], sig[64], qesig[64], h[32], auth[32];
    EVP_PKEY *ak = keygen();
    int version = o->version ? o->version : (o->tdx ? 4 : 3);
    size_t body_len, signed_len;
    int rc = -1, i;

    if (!ak || pub_xy(ak, xy))
        goto out;
    for (i = 0; i < 32; i++)
        auth[i] = (uint8_t)i;
    /* QE report: an SGX report of the quoting enclave. */
    memset(qer, 0, sizeof(qer));
    memcpy(qer, pck_comps, 16);
    qer[48] = 0x11;
    unhex(QE_MRSIGNER_HEX, qer + 128, 32);
    qer[256] = o->tdx ? 2 : 1;
    qer[258] = QE_ISVSVN;
    {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        unsigned hl;

        if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
            EVP_DigestUpdate(md, xy, 64) != 1 || EVP_DigestUpdate(md, auth, 32) != 1 ||
            EVP_DigestFinal_ex(md, h, &hl) != 1) {
            EVP_MD_CTX_free(md);
            goto out;
        }
        EVP_MD_CTX_free(md);
    }
    memcpy(qer + 320, h, 32);
    if (o->bad_qe_report_data)
        qer[320] ^= 0x01;
    if (sign_raw(pck_key, qer, sizeof(qer), qesig))
        goto out;

    /* Body. */
    memset(body, 0, sizeof(body));
    if (o->tdx) {
        memcpy(body, tee_svn, 16);
        memset(body + 16, 0x5e, 48);                           /* MRSEAM */
        for (i = 0; i < 8; i++)
            body[120 + i] = (uint8_t)(o->td_attributes >> (8 * i));
        body[128] = 0xe7;                                      /* XFAM */
        body[129] = 0x18;
        body[130] = 0x06;
        memset(body + 136, 0x7d, 48);                          /* MRTD */
        memcpy(body + 184, o->init_data, 48);
        for (i = 0; i < 4; i++)
            memset(body + 328 + 48 * i, 0xa0 + i, 48);
        if (o->has_rtmrs)
            memcpy(body + 328, o->rtmrs, sizeof(o->rtmrs));
        memcpy(body + 520, o->report_data, 64);
        memcpy(body + 584, tee_svn, 16);                       /* TEE_TCB_SVN2 */
        body_len = version == 5 ? 648 : 584;
    } else {
        memcpy(body, pck_comps, 16);
        body[48] = o->sgx_debug ? 0x07 : 0x05;
        body[56] = 0xe7;
        memset(body + 64, 0xe1, 32);                           /* MRENCLAVE */
        memset(body + 128, 0x51, 32);                          /* MRSIGNER */
        memcpy(body + 192, o->init_data, 64);
        memcpy(body + 320, o->report_data, 64);
        body_len = 384;
    }

    /* Header, [v5 body descriptor], body. */
    db_u16(&q, (uint16_t)version);
    db_u16(&q, 2);
    db_u32(&q, o->tdx ? 0x81 : 0);
    db_u16(&q, o->tdx ? 0 : 10);
    db_u16(&q, PCK_PCESVN);
    db_put(&q, vendor, 16);
    db_put(&q, h, 20); /* user data: anything; QE id in the first 16 bytes */
    if (version == 5) {
        db_u16(&q, 3);
        db_u32(&q, (uint32_t)body_len);
    }
    db_put(&q, body, body_len);
    if (q.oom)
        goto out;
    signed_len = q.n;
    if (sign_raw(ak, q.p, signed_len, sig))
        goto out;
    if (o->bad_quote_sig)
        sig[5] ^= 0x40;

    /* QE part + PCK chain (type 5, NUL-terminated PEM). */
    db_put(&cert, chain_pem, strlen(chain_pem) + 1);
    db_put(&qe, qer, 384);
    db_put(&qe, qesig, 64);
    db_u16(&qe, 32);
    db_put(&qe, auth, 32);
    db_u16(&qe, 5);
    db_u32(&qe, (uint32_t)cert.n);
    db_put(&qe, cert.p, cert.n);
    if (qe.oom || cert.oom)
        goto out;
    if (version == 3) {
        db_u32(&q, (uint32_t)(128 + qe.n));
        db_put(&q, sig, 64);
        db_put(&q, xy, 64);
        db_put(&q, qe.p, qe.n);
    } else {
        db_u32(&q, (uint32_t)(128 + 6 + qe.n));
        db_put(&q, sig, 64);
        db_put(&q, xy, 64);
        db_u16(&q, 6);
        db_u32(&q, (uint32_t)qe.n);
        db_put(&q, qe.p, qe.n);
    }
    if (q.oom)
        goto out;
    out->quote = q.p;
    out->quote_len = q.n;
    q.p = NULL;
    rc = 0;
out:
    EVP_PKEY_free(ak);
    free(q.p);
    free(qe.p);
    free(cert.p);
    return rc;
}

/* ---------------------------------------------------------------------- */

void forge_defaults(struct forge_opts *o, int64_t now)
{
    memset(o, 0, sizeof(*o));
    o->tdx = true;
    o->td_attributes = 1ull << 28; /* SEPT_VE_DISABLE */
    o->now = now;
    o->days = 30;
}

void forge_out_free(struct forge_out *out)
{
    free(out->quote);
    free(out->collateral);
    free(out->root_pem);
    free(out->tcb_info);
    memset(out, 0, sizeof(*out));
}

int forge_make(const struct forge_opts *o, struct forge_out *out, char *err, size_t errlen)
{
    EVP_PKEY *root_key = keygen(), *ca_key = keygen(), *pck_key = keygen(), *tcb_key = keygen();
    X509 *root = NULL, *ca = NULL, *pck = NULL, *tcbs = NULL;
    X509_CRL *root_crl = NULL, *pck_crl = NULL;
    char *root_pem = NULL, *ca_pem = NULL, *pck_pem = NULL, *tcb_pem = NULL;
    char *tcb = NULL, *qeid = NULL, *rcrl = NULL, *pcrl = NULL;
    char issue[32], next[32], sig_hex[129];
    uint8_t sig[64];
    struct dbuf chain = { 0 }, j = { 0 };
    int days = o->days ? o->days : 30;
    int rc = -1;
    const char *what = "keys";

    memset(out, 0, sizeof(*out));
    if (!root_key || !ca_key || !pck_key || !tcb_key)
        goto out;
    what = "certificates";
    root = make_cert("Vouch Test SGX Root CA", root_key, NULL, 1, o->now, true);
    if (!root || sign_cert(root, root_key))
        goto out;
    ca = make_cert("Vouch Test SGX PCK Platform CA", ca_key, root, 2, o->now, true);
    if (!ca || sign_cert(ca, root_key))
        goto out;
    pck = make_cert("Vouch Test SGX PCK Certificate", pck_key, ca, 0x1234567, o->now,
                    false);
    if (!pck || add_sgx_ext(pck) || sign_cert(pck, ca_key))
        goto out;
    tcbs = make_cert("Vouch Test SGX TCB Signing", tcb_key, root, 3, o->now, false);
    if (!tcbs || sign_cert(tcbs, root_key))
        goto out;
    what = "CRLs";
    root_crl = make_crl(root, root_key, NULL, o->now, days);
    pck_crl = make_crl(ca, ca_key, o->revoked_pck ? X509_get0_serialNumber(pck) : NULL,
                       o->now, days);
    if (!root_crl || !pck_crl)
        goto out;
    what = "PEM";
    root_pem = cert_pem(root);
    ca_pem = cert_pem(ca);
    pck_pem = cert_pem(pck);
    tcb_pem = cert_pem(tcbs);
    rcrl = crl_hex(root_crl);
    pcrl = crl_hex(pck_crl);
    if (!root_pem || !ca_pem || !pck_pem || !tcb_pem || !rcrl || !pcrl)
        goto out;
    db_put(&chain, pck_pem, strlen(pck_pem));
    db_put(&chain, ca_pem, strlen(ca_pem));
    db_put(&chain, root_pem, strlen(root_pem) + 1);
    if (chain.oom)
        goto out;
    what = "quote";
    if (build_quote(o, pck_key, (const char *)chain.p, out))
        goto out;

    what = "collateral";
    fmt_date(o->now - 3600, issue);
    fmt_date(o->now - 3600 + (int64_t)days * 86400, next);
    tcb = tcb_info_json(o, issue, next);
    qeid = qe_identity_json(o, issue, next);
    if (!tcb || !qeid)
        goto out;
    db_printf(&j, "{\"pck_crl_issuer_chain\":");
    {
        struct dbuf c = { 0 };

        db_put(&c, ca_pem, strlen(ca_pem));
        db_put(&c, root_pem, strlen(root_pem) + 1);
        json_str(&j, c.oom ? "" : (const char *)c.p);
        free(c.p);
    }
    db_printf(&j, ",\"root_ca_crl\":\"");
    db_put(&j, rcrl, strlen(rcrl));
    db_printf(&j, "\",\"pck_crl\":\"");
    db_put(&j, pcrl, strlen(pcrl));
    db_printf(&j, "\",\"tcb_info_issuer_chain\":");
    {
        struct dbuf c = { 0 };

        db_put(&c, tcb_pem, strlen(tcb_pem));
        db_put(&c, root_pem, strlen(root_pem) + 1);
        json_str(&j, c.oom ? "" : (const char *)c.p);
        db_printf(&j, ",\"tcb_info\":");
        json_str(&j, tcb);
        if (sign_raw(tcb_key, tcb, strlen(tcb), sig)) {
            free(c.p);
            goto out;
        }
        hexs(sig, 64, sig_hex, 0);
        db_printf(&j, ",\"tcb_info_signature\":\"%s\",\"qe_identity_issuer_chain\":", sig_hex);
        json_str(&j, c.oom ? "" : (const char *)c.p);
        free(c.p);
    }
    db_printf(&j, ",\"qe_identity\":");
    json_str(&j, qeid);
    if (sign_raw(tcb_key, qeid, strlen(qeid), sig))
        goto out;
    hexs(sig, 64, sig_hex, 0);
    db_printf(&j, ",\"qe_identity_signature\":\"%s\"}", sig_hex);
    db_u8(&j, 0);
    if (j.oom)
        goto out;
    out->collateral = (char *)j.p;
    j.p = NULL;
    out->root_pem = root_pem;
    root_pem = NULL;
    out->tcb_info = tcb;
    tcb = NULL;
    rc = 0;
out:
    if (rc) {
        snprintf(err, errlen, "forge: cannot make %s", what);
        forge_out_free(out);
    }
    ERR_clear_error();
    free(j.p);
    free(chain.p);
    free(tcb);
    free(qeid);
    free(rcrl);
    free(pcrl);
    free(root_pem);
    free(ca_pem);
    free(pck_pem);
    free(tcb_pem);
    X509_CRL_free(root_crl);
    X509_CRL_free(pck_crl);
    X509_free(root);
    X509_free(ca);
    X509_free(pck);
    X509_free(tcbs);
    EVP_PKEY_free(root_key);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(pck_key);
    EVP_PKEY_free(tcb_key);
    return rc;
}
