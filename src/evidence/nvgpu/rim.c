/* SPDX-License-Identifier: Apache-2.0 */
/*
 * xmlsec's OpenSSL header still names the OpenSSL 1.x key types (DSA,
 * EC_KEY, RSA) that OPENSSL_NO_DEPRECATED hides; this file uses none of
 * them, but needs the header to declare.
 */
#undef OPENSSL_NO_DEPRECATED

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

#include "common/codec.h"
#include "common/json.h"
#include "common/time.h"
#include "crypto/digest.h"
#include "crypto/x509.h"
#include "evidence/nvgpu/nvgpu_int.h"
#include "evidence/nvgpu/rim.h"

#define SWID_NS "http://standards.iso.org/iso/19770/-2/2015/schema.xsd"
#define TCG_RIM_NS \
    "https://trustedcomputinggroup.org/resource/tcg-reference-integrity-manifest-rim-information-model/"
#define SHA384_NS "http://www.w3.org/2001/04/xmlenc#sha384"
#define DSIG_NS "http://www.w3.org/2000/09/xmldsig#"
#define MAX_GOLDEN 256
#define MAX_RIM_CERTS 8

/* ------------------------------------------------------------------ */
/* libxml2 / xmlsec set-up: once per process, and silent.             */

static void xml_silent(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

static void xml_silent_structured(void *ctx, xmlErrorPtr err)
{
    (void)ctx;
    (void)err;
}

static void xmlsec_silent(const char *file, int line, const char *func, const char *obj,
                          const char *subj, int reason, const char *msg)
{
    (void)file, (void)line, (void)func, (void)obj, (void)subj, (void)reason, (void)msg;
}

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;
static int xml_init_failed;

static void xml_init(void)
{
    xmlInitParser();
    xmlSecErrorsSetCallback(xmlsec_silent);
    if (xmlSecInit() < 0 || xmlSecCryptoAppInit(NULL) < 0 || xmlSecCryptoInit() < 0)
        xml_init_failed = 1;
}

/* libxml2 keeps its error handlers per thread: silence this one. */
static vouch_err xml_ready(struct vouch_errbuf *eb)
{
    pthread_once(&xml_once, xml_init);
    if (xml_init_failed)
        return vouch_fail(eb, VOUCH_E_INTERNAL, "xmlsec initialisation failed");
    xmlSetGenericErrorFunc(NULL, xml_silent);
    xmlSetStructuredErrorFunc(NULL, xml_silent_structured);
    return VOUCH_OK;
}

vouch_err vouch_nvgpu_xml_init(struct vouch_errbuf *eb)
{
    return xml_ready(eb);
}

static vouch_err xml_read(const uint8_t *data, size_t len, xmlDocPtr *ret,
                          struct vouch_errbuf *eb)
{
    xmlDocPtr doc;
    xmlErrorPtr err;

    if (len > VOUCH_NVGPU_RIM_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "RIM of %zu bytes exceeds %u", len,
                          VOUCH_NVGPU_RIM_MAX);
    xmlResetLastError();
    doc = xmlReadMemory((const char *)data, (int)len, NULL, NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        err = xmlGetLastError();
        return vouch_fail(eb, VOUCH_E_INVALID, "not well-formed XML (line %d): %.200s",
                          err ? err->line : 0, err && err->message ? err->message : "?");
    }
    if (doc->intSubset || doc->extSubset) {
        xmlFreeDoc(doc);
        return vouch_fail(eb, VOUCH_E_INVALID, "RIM carries a DTD");
    }
    *ret = doc;
    return VOUCH_OK;
}

static bool is_elem(const xmlNode *n, const char *name, const char *ns)
{
    return n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST name) == 0 &&
           n->ns && xmlStrcmp(n->ns->href, BAD_CAST ns) == 0;
}

/* ------------------------------------------------------------------ */
/* Parsing                                                             */

/* Copy an attribute into out; absent gives "" unless required. */
static vouch_err attr_copy(xmlNodePtr n, const char *name, const char *ns, char *out,
                           size_t size, bool required, struct vouch_errbuf *eb)
{
    xmlChar *v = ns ? xmlGetNsProp(n, BAD_CAST name, BAD_CAST ns)
                    : xmlGetNoNsProp(n, BAD_CAST name);
    vouch_err e = VOUCH_OK;
    size_t len;

    out[0] = '\0';
    if (!v) {
        if (required)
            return vouch_fail(eb, VOUCH_E_INVALID, "%s: attribute %s missing", n->name, name);
        return VOUCH_OK;
    }
    len = strlen((const char *)v);
    if (len >= size)
        e = vouch_fail(eb, VOUCH_E_INVALID, "%s: attribute %s longer than %zu", n->name, name,
                       size - 1);
    else
        memcpy(out, v, len + 1);
    xmlFree(v);
    return e;
}

static vouch_err attr_uint(xmlNodePtr n, const char *name, unsigned min, unsigned max,
                           unsigned *ret, struct vouch_errbuf *eb)
{
    char buf[16];
    unsigned long v = 0;
    vouch_err e;
    size_t i;

    e = attr_copy(n, name, NULL, buf, sizeof(buf), true, eb);
    if (e)
        return e;
    if (!buf[0])
        return vouch_fail(eb, VOUCH_E_INVALID, "%s: attribute %s is empty", n->name, name);
    for (i = 0; buf[i]; i++) {
        if (!isdigit((unsigned char)buf[i]))
            return vouch_fail(eb, VOUCH_E_INVALID, "%s: attribute %s='%s' is not a number",
                              n->name, name, buf);
        v = v * 10 + (unsigned long)(buf[i] - '0');
        if (v > max)
            break;
    }
    if (v < min || v > max)
        return vouch_fail(eb, VOUCH_E_INVALID, "%s: attribute %s='%s' outside %u..%u", n->name,
                          name, buf, min, max);
    *ret = (unsigned)v;
    return VOUCH_OK;
}

static void golden_free(struct vouch_nvgpu_rim *rim)
{
    unsigned i;

    for (i = 0; i < rim->n_golden; i++)
        free(rim->golden[i].values);
    free(rim->golden);
}

static vouch_err parse_resource(xmlNodePtr n, struct vouch_nvgpu_golden *g,
                                struct vouch_errbuf *eb)
{
    char active[8], hname[16], hex[2 * VOUCH_NVGPU_RIM_MAX_VALUE + 1];
    vouch_err e;
    unsigned k;

    if ((e = attr_uint(n, "index", 0, 254, &g->index, eb)) ||
        (e = attr_uint(n, "alternatives", 1, VOUCH_NVGPU_RIM_MAX_ALTERNATIVES,
                       &g->n_alternatives, eb)) ||
        (e = attr_uint(n, "size", 1, VOUCH_NVGPU_RIM_MAX_VALUE, &g->size, eb)) ||
        (e = attr_copy(n, "active", NULL, active, sizeof(active), true, eb)))
        return e;
    if (strcasecmp(active, "true") == 0)
        g->active = true;
    else if (strcasecmp(active, "false") == 0)
        g->active = false;
    else
        return vouch_fail(eb, VOUCH_E_INVALID, "measurement %u: active='%s'", g->index, active);
    g->values = malloc((size_t)g->n_alternatives * g->size);
    if (!g->values)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    for (k = 0; k < g->n_alternatives; k++) {
        snprintf(hname, sizeof(hname), "Hash%u", k);
        e = attr_copy(n, hname, SHA384_NS, hex, sizeof(hex), true, eb);
        if (e)
            return vouch_fail_prefix(eb, e, "measurement %u: ", g->index);
        if (vouch_hex_decode_exact(hex, strlen(hex), g->values + (size_t)k * g->size, g->size,
                                   NULL))
            return vouch_fail(eb, VOUCH_E_INVALID, "measurement %u: %s is not %u bytes of hex",
                              g->index, hname, g->size);
    }
    return VOUCH_OK;
}

static vouch_err parse_payload(xmlNodePtr payload, struct vouch_nvgpu_rim *rim,
                               struct vouch_errbuf *eb)
{
    uint8_t seen[256 / 8] = { 0 };
    xmlNodePtr n;
    vouch_err e;

    for (n = payload->children; n; n = n->next) {
        struct vouch_nvgpu_golden *g;
        char type[32];

        if (!is_elem(n, "Resource", SWID_NS))
            continue;
        e = attr_copy(n, "type", NULL, type, sizeof(type), true, eb);
        if (e)
            return e;
        if (strcmp(type, "Measurement") != 0)
            continue;
        if (rim->n_golden == MAX_GOLDEN)
            return vouch_fail(eb, VOUCH_E_TOO_LARGE, "more than %d measurements", MAX_GOLDEN);
        g = &rim->golden[rim->n_golden];
        memset(g, 0, sizeof(*g));
        rim->n_golden++;
        e = parse_resource(n, g, eb);
        if (e)
            return e;
        if (seen[g->index / 8] & (1u << (g->index % 8)))
            return vouch_fail(eb, VOUCH_E_INVALID, "measurement index %u repeated", g->index);
        seen[g->index / 8] |= (uint8_t)(1u << (g->index % 8));
    }
    return VOUCH_OK;
}

/* "96.00.9F.00.01": five dot-separated pairs of hex digits. */
static bool vbios_version_format(const char *v)
{
    size_t i;

    if (strlen(v) != 14)
        return false;
    for (i = 0; i < 14; i++)
        if ((i % 3 == 2) ? v[i] != '.' : !isxdigit((unsigned char)v[i]))
            return false;
    return true;
}

static bool driver_version_format(const char *v)
{
    size_t i;

    if (!v[0] || !isdigit((unsigned char)v[0]))
        return false;
    for (i = 0; v[i]; i++)
        if (!isalnum((unsigned char)v[i]) && v[i] != '.' && v[i] != '-')
            return false;
    return true;
}

static vouch_err parse_doc(xmlDocPtr doc, struct vouch_nvgpu_rim *rim, xmlNodePtr *ret_sig,
                           struct vouch_errbuf *eb)
{
    xmlNodePtr root = xmlDocGetRootElement(doc), n, sig = NULL, meta = NULL, payload = NULL;
    char edition[32];
    vouch_err e;

    if (!root || !is_elem(root, "SoftwareIdentity", SWID_NS))
        return vouch_fail(eb, VOUCH_E_INVALID, "root element is not a SWID SoftwareIdentity");
    e = attr_copy(root, "tagId", NULL, rim->tag_id, sizeof(rim->tag_id), false, eb);
    if (e)
        return e;
    for (n = root->children; n; n = n->next) {
        if (is_elem(n, "Meta", SWID_NS) && !meta) {
            meta = n;
        } else if (is_elem(n, "Payload", SWID_NS)) {
            if (payload)
                return vouch_fail(eb, VOUCH_E_INVALID, "more than one Payload");
            payload = n;
        } else if (is_elem(n, "Signature", DSIG_NS)) {
            if (sig)
                return vouch_fail(eb, VOUCH_E_INVALID, "more than one Signature");
            sig = n;
        }
    }
    if (!meta || !payload || !sig)
        return vouch_fail(eb, VOUCH_E_INVALID, "RIM lacks its %s",
                          !meta ? "Meta" : !payload ? "Payload" : "Signature");
    if ((e = attr_copy(meta, "colloquialVersion", NULL, rim->version, sizeof(rim->version),
                       true, eb)) ||
        (e = attr_copy(meta, "product", NULL, rim->product, sizeof(rim->product), false, eb)) ||
        (e = attr_copy(meta, "edition", NULL, edition, sizeof(edition), false, eb)) ||
        (e = attr_copy(meta, "FirmwareManufacturerId", TCG_RIM_NS, rim->manufacturer_id,
                       sizeof(rim->manufacturer_id), false, eb)))
        return e;
    if (edition[0] && strcmp(edition, "GPU") != 0)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "RIM for a %s, not a GPU", edition);
    if (vbios_version_format(rim->version))
        rim->kind = VOUCH_NVGPU_RIM_VBIOS;
    else if (driver_version_format(rim->version))
        rim->kind = VOUCH_NVGPU_RIM_DRIVER;
    else
        return vouch_fail(eb, VOUCH_E_INVALID, "colloquialVersion '%s' is neither a driver "
                          "nor a VBIOS version", rim->version);
    rim->golden = calloc(MAX_GOLDEN, sizeof(*rim->golden));
    if (!rim->golden)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    e = parse_payload(payload, rim, eb);
    if (e)
        return e;
    if (rim->n_golden == 0)
        return vouch_fail(eb, VOUCH_E_INVALID, "RIM has no measurements");
    *ret_sig = sig;
    return VOUCH_OK;
}

vouch_err vouch_nvgpu_rim_parse(const uint8_t *data, size_t len, struct vouch_nvgpu_rim **ret,
                                struct vouch_errbuf *eb)
{
    struct vouch_nvgpu_rim *rim = NULL;
    xmlDocPtr doc = NULL;
    xmlNodePtr sig;
    vouch_err e;

    e = xml_ready(eb);
    if (e)
        return e;
    e = xml_read(data, len, &doc, eb);
    if (e)
        return e;
    rim = calloc(1, sizeof(*rim));
    if (!rim) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    rim->refs = 1;
    e = parse_doc(doc, rim, &sig, eb);
    if (e)
        goto out;
    e = vouch_hash(VOUCH_HASH_SHA256, data, len, rim->sha256);
    if (e) {
        e = vouch_fail(eb, e, "cannot hash the RIM");
        goto out;
    }
    *ret = rim;
    rim = NULL;
out:
    vouch_nvgpu_rim_unref(rim);
    xmlFreeDoc(doc);
    return e;
}

struct vouch_nvgpu_rim *vouch_nvgpu_rim_ref(struct vouch_nvgpu_rim *rim)
{
    __atomic_add_fetch(&rim->refs, 1, __ATOMIC_RELAXED);
    return rim;
}

void vouch_nvgpu_rim_unref(struct vouch_nvgpu_rim *rim)
{
    if (!rim || __atomic_sub_fetch(&rim->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    golden_free(rim);
    sk_X509_pop_free(rim->chain, X509_free);
    free(rim);
}

const struct vouch_nvgpu_golden *vouch_nvgpu_rim_golden(const struct vouch_nvgpu_rim *rim,
                                                        unsigned index)
{
    unsigned i;

    for (i = 0; i < rim->n_golden; i++)
        if (rim->golden[i].index == index)
            return &rim->golden[i];
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Signature and certificate chain                                     */

/* The X509Certificate elements of Signature/KeyInfo/X509Data, in order. */
static vouch_err signature_certs(xmlNodePtr sig, STACK_OF(X509) **ret, struct vouch_errbuf *eb)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    xmlNodePtr ki, xd, c;
    vouch_err e = VOUCH_OK;

    if (!sk)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    for (ki = sig->children; ki; ki = ki->next) {
        if (!is_elem(ki, "KeyInfo", DSIG_NS))
            continue;
        for (xd = ki->children; xd; xd = xd->next) {
            if (!is_elem(xd, "X509Data", DSIG_NS))
                continue;
            for (c = xd->children; c; c = c->next) {
                xmlChar *text;
                uint8_t *der = NULL;
                size_t i, j, derlen;
                X509 *x = NULL;

                if (!is_elem(c, "X509Certificate", DSIG_NS))
                    continue;
                if (sk_X509_num(sk) == MAX_RIM_CERTS) {
                    e = vouch_fail(eb, VOUCH_E_TOO_LARGE, "more than %d certificates",
                                   MAX_RIM_CERTS);
                    goto out;
                }
                text = xmlNodeGetContent(c);
                if (!text) {
                    e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
                    goto out;
                }
                for (i = j = 0; text[i]; i++)
                    if (!isspace(text[i]))
                        text[j++] = text[i];
                e = vouch_b64_decode((const char *)text, j, VOUCH_B64_STD, 64 * 1024, &der,
                                     &derlen, eb);
                xmlFree(text);
                if (!e) {
                    e = vouch_x509_parse_der(der, derlen, &x, eb);
                    free(der);
                }
                if (e) {
                    vouch_fail_prefix(eb, e, "X509Certificate #%d: ", sk_X509_num(sk) + 1);
                    goto out;
                }
                if (!sk_X509_push(sk, x)) {
                    X509_free(x);
                    e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
                    goto out;
                }
            }
        }
    }
    if (sk_X509_num(sk) == 0) {
        e = vouch_fail(eb, VOUCH_E_INVALID, "signature carries no X509Certificate");
        goto out;
    }
    *ret = sk;
    sk = NULL;
out:
    sk_X509_pop_free(sk, X509_free);
    return e;
}

vouch_err vouch_nvgpu_chain_window(STACK_OF(X509) *chain, int64_t *ret_not_before,
                                   int64_t *ret_not_after, int *ret_first_expiring)
{
    int64_t nb = INT64_MIN, na = INT64_MAX;
    int i, first = 0;

    for (i = 0; i < sk_X509_num(chain); i++) {
        int64_t b, a;

        if (vouch_x509_validity(sk_X509_value(chain, i), &b, &a))
            return VOUCH_E_INVALID;
        if (b > nb)
            nb = b;
        if (a < na) {
            na = a;
            first = i;
        }
    }
    *ret_not_before = nb;
    *ret_not_after = na;
    if (ret_first_expiring)
        *ret_first_expiring = first;
    return VOUCH_OK;
}

static vouch_err enable_transforms(xmlSecDSigCtxPtr ctx)
{
    xmlSecTransformId sig_ids[] = {
        xmlSecTransformInclC14N11Id, xmlSecTransformInclC14NId, xmlSecTransformExclC14NId,
        xmlSecTransformEcdsaSha256Id, xmlSecTransformEcdsaSha384Id,
        xmlSecTransformEcdsaSha512Id,
    };
    xmlSecTransformId ref_ids[] = {
        xmlSecTransformEnvelopedId, xmlSecTransformInclC14N11Id, xmlSecTransformInclC14NId,
        xmlSecTransformExclC14NId, xmlSecTransformSha256Id, xmlSecTransformSha384Id,
        xmlSecTransformSha512Id,
    };
    size_t i;

    for (i = 0; i < sizeof(sig_ids) / sizeof(sig_ids[0]); i++)
        if (xmlSecDSigCtxEnableSignatureTransform(ctx, sig_ids[i]) < 0)
            return VOUCH_E_INTERNAL;
    for (i = 0; i < sizeof(ref_ids) / sizeof(ref_ids[0]); i++)
        if (xmlSecDSigCtxEnableReferenceTransform(ctx, ref_ids[i]) < 0)
            return VOUCH_E_INTERNAL;
    ctx->enabledReferenceUris = xmlSecTransformUriTypeEmpty;
    return VOUCH_OK;
}

/* Verify the enveloped signature at `sig` with `pkey` (consumed). */
static vouch_err xmldsig_verify(xmlNodePtr sig, EVP_PKEY *pkey, struct vouch_errbuf *eb)
{
    xmlSecDSigCtxPtr ctx = NULL;
    xmlSecKeyDataPtr data = NULL;
    xmlSecDSigReferenceCtxPtr ref;
    vouch_err e = VOUCH_OK;

    ctx = xmlSecDSigCtxCreate(NULL);
    if (!ctx) {
        EVP_PKEY_free(pkey);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    data = xmlSecOpenSSLEvpKeyAdopt(pkey);
    if (!data) {
        EVP_PKEY_free(pkey);
        e = vouch_fail(eb, VOUCH_E_UNSUPPORTED, "signer key type not usable for XMLDSig");
        goto out;
    }
    ctx->signKey = xmlSecKeyCreate();
    if (!ctx->signKey || xmlSecKeySetValue(ctx->signKey, data) < 0) {
        xmlSecKeyDataDestroy(data);
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    if (enable_transforms(ctx)) {
        e = vouch_fail(eb, VOUCH_E_INTERNAL, "cannot restrict XMLDSig transforms");
        goto out;
    }
    if (xmlSecDSigCtxVerify(ctx, sig) < 0) {
        e = vouch_fail(eb, VOUCH_E_VERIFY, "signature: XMLDSig processing failed (unsupported "
                       "algorithm, transform or reference)");
        goto out;
    }
    if (ctx->status != xmlSecDSigStatusSucceeded) {
        e = vouch_fail(eb, VOUCH_E_VERIFY, "signature: invalid (digest or signature value "
                       "does not match the document)");
        goto out;
    }
    /* Exactly one reference, to the whole document. */
    if (xmlSecPtrListGetSize(&ctx->signedInfoReferences) != 1) {
        e = vouch_fail(eb, VOUCH_E_VERIFY, "signature: %u references, expected one",
                       (unsigned)xmlSecPtrListGetSize(&ctx->signedInfoReferences));
        goto out;
    }
    ref = xmlSecPtrListGetItem(&ctx->signedInfoReferences, 0);
    if (!ref || (ref->uri && ref->uri[0]) || ref->status != xmlSecDSigStatusSucceeded) {
        e = vouch_fail(eb, VOUCH_E_VERIFY, "signature: reference does not cover the whole "
                       "document");
        goto out;
    }
out:
    xmlSecDSigCtxDestroy(ctx);
    ERR_clear_error();
    return e;
}

vouch_err vouch_nvgpu_rim_verify(struct vouch_nvgpu_rim *rim, const uint8_t *data, size_t len,
                                 STACK_OF(X509) *roots, struct vouch_errbuf *eb)
{
    STACK_OF(X509) *certs = NULL, *chain = NULL;
    struct vouch_nvgpu_rim tmp;
    xmlDocPtr doc = NULL;
    xmlNodePtr sig;
    EVP_PKEY *pkey;
    uint8_t sha[32];
    int64_t nb, na;
    vouch_err e;

    e = xml_ready(eb);
    if (e)
        return e;
    if (vouch_hash(VOUCH_HASH_SHA256, data, len, sha) || memcmp(sha, rim->sha256, 32) != 0)
        return vouch_fail(eb, VOUCH_E_INVALID, "document is not the one the RIM was parsed from");
    e = xml_read(data, len, &doc, eb);
    if (e)
        return e;
    memset(&tmp, 0, sizeof(tmp));
    e = parse_doc(doc, &tmp, &sig, eb);
    golden_free(&tmp);
    if (e)
        goto out;
    e = signature_certs(sig, &certs, eb);
    if (e) {
        vouch_fail_prefix(eb, e, "certificate chain: ");
        goto out;
    }
    e = vouch_x509_verify_chain_get(sk_X509_value(certs, 0), certs, roots, NULL, 0,
                                    VOUCH_CHAIN_NO_TIME, &chain, eb);
    if (e) {
        vouch_fail_prefix(eb, e, "certificate chain: ");
        goto out;
    }
    if (vouch_nvgpu_chain_window(chain, &nb, &na, NULL)) {
        e = vouch_fail(eb, VOUCH_E_INVALID, "certificate chain: unreadable validity");
        goto out;
    }
    pkey = X509_get_pubkey(sk_X509_value(chain, 0));
    if (!pkey || EVP_PKEY_base_id(pkey) != EVP_PKEY_EC) {
        EVP_PKEY_free(pkey);
        e = vouch_fail(eb, VOUCH_E_UNSUPPORTED, "signature: signer key is not ECDSA");
        goto out;
    }
    rim->chain = chain;
    chain = NULL;
    rim->not_before = nb;
    rim->not_after = na;
    e = xmldsig_verify(sig, pkey, eb);
    if (e)
        goto out;
    rim->signature_verified = true;
out:
    sk_X509_pop_free(certs, X509_free);
    sk_X509_pop_free(chain, X509_free);
    xmlFreeDoc(doc);
    return e;
}

vouch_err vouch_nvgpu_rim_check_time(const struct vouch_nvgpu_rim *rim, int64_t now,
                                     struct vouch_errbuf *eb)
{
    int i;

    if (!rim->chain)
        return vouch_fail(eb, VOUCH_E_INTERNAL, "RIM certificate chain not verified");
    if (now >= rim->not_before && now <= rim->not_after)
        return VOUCH_OK;
    for (i = 0; i < sk_X509_num(rim->chain); i++) {
        X509 *x = sk_X509_value(rim->chain, i);
        int64_t nb, na;
        char subj[256], when[VOUCH_RFC3339_LEN];

        if (vouch_x509_validity(x, &nb, &na) || (now >= nb && now <= na))
            continue;
        vouch_x509_subject(x, subj, sizeof(subj));
        vouch_time_format_rfc3339(now < nb ? nb : na, when);
        return vouch_fail(eb, now < nb ? VOUCH_E_NOT_YET_VALID : VOUCH_E_EXPIRED,
                          "certificate '%s' %s %s", subj,
                          now < nb ? "is not valid before" : "expired at", when);
    }
    return vouch_fail(eb, VOUCH_E_EXPIRED, "certificate chain not valid at this time");
}

/* ------------------------------------------------------------------ */
/* RIM ids                                                             */

static void upper(char *s)
{
    for (; *s; s++)
        *s = (char)toupper((unsigned char)*s);
}

static bool id_token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s))
            return false;
    return true;
}

vouch_err vouch_nvgpu_driver_rim_id(const struct vouch_nvgpu_report *r, enum vouch_nvgpu_arch arch,
                                    char out[VOUCH_NVGPU_RIM_ID_MAX], struct vouch_errbuf *eb)
{
    int n;

    switch (arch) {
    case VOUCH_NVGPU_HOPPER:
        n = snprintf(out, VOUCH_NVGPU_RIM_ID_MAX, "NV_GPU_DRIVER_GH100_%s", r->driver_version);
        break;
    case VOUCH_NVGPU_BLACKWELL:
        if (r->chip_info[0] && !id_token(r->chip_info))
            return vouch_fail(eb, VOUCH_E_INVALID, "chip_info '%s' is not a chip name",
                              r->chip_info);
        n = snprintf(out, VOUCH_NVGPU_RIM_ID_MAX, "NV_GPU_CC_DRIVER_%s_%s",
                     r->chip_info[0] ? r->chip_info : "GB100", r->driver_version);
        break;
    default:
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "no driver RIM id for an unknown "
                          "architecture");
    }
    if (n < 0 || n >= VOUCH_NVGPU_RIM_ID_MAX)
        return vouch_fail(eb, VOUCH_E_INVALID, "driver RIM id too long");
    upper(out);
    return VOUCH_OK;
}

vouch_err vouch_nvgpu_vbios_rim_id(const struct vouch_nvgpu_report *r,
                                   char out[VOUCH_NVGPU_RIM_ID_MAX], struct vouch_errbuf *eb)
{
    char ver[16];
    size_t i, j;
    int n;

    if (!id_token(r->project) || !id_token(r->project_sku) || !id_token(r->chip_sku))
        return vouch_fail(eb, VOUCH_E_INVALID, "report lacks a usable project/project_sku/"
                          "chip_sku for the VBIOS RIM id ('%s', '%s', '%s')", r->project,
                          r->project_sku, r->chip_sku);
    for (i = j = 0; r->vbios_version[i] && j < sizeof(ver) - 1; i++)
        if (r->vbios_version[i] != '.')
            ver[j++] = r->vbios_version[i];
    ver[j] = '\0';
    n = snprintf(out, VOUCH_NVGPU_RIM_ID_MAX, "NV_GPU_VBIOS_%s_%s_%s_%s", r->project,
                 r->project_sku, r->chip_sku, ver);
    if (n < 0 || n >= VOUCH_NVGPU_RIM_ID_MAX)
        return vouch_fail(eb, VOUCH_E_INVALID, "VBIOS RIM id too long");
    upper(out);
    return VOUCH_OK;
}

/* The file-name part of a path. */
static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');

    return s ? s + 1 : p;
}

/* Does `hint` name `id` (exactly, or followed by "_...", ".xml", ".swidtag", ".json")? */
static bool hint_names(const char *hint, const char *id)
{
    size_t n = strlen(id);
    const char *rest;

    if (strncasecmp(hint, id, n) != 0)
        return false;
    rest = hint + n;
    return !*rest || *rest == '_' || strcasecmp(rest, ".xml") == 0 ||
           strcasecmp(rest, ".swidtag") == 0 || strcasecmp(rest, ".json") == 0;
}

static vouch_err vbios_id_from_hint(const struct vouch_nvgpu_rim *rim, const char *hint,
                                    char out[VOUCH_NVGPU_RIM_ID_MAX], struct vouch_errbuf *eb)
{
    char buf[VOUCH_NVGPU_RIM_ID_MAX], ver[16], *tok[4], *save = NULL, *p;
    size_t i, j;
    int k, n;

    if (!hint)
        return vouch_fail(eb, VOUCH_E_INVALID, "a VBIOS RIM does not name its project and "
                          "SKUs: give a file name such as 1010_0200_882_%s.swidtag or an id",
                          "96005E0001");
    hint = base_name(hint);
    if (strncasecmp(hint, "NV_GPU_VBIOS_", 13) == 0)
        hint += 13;
    else if (strncasecmp(hint, "NV_GPU_", 7) == 0)
        return vouch_fail(eb, VOUCH_E_CONFLICT, "'%s' is not a VBIOS RIM id, the document is "
                          "VBIOS %s", hint, rim->version);
    if (strlen(hint) >= sizeof(buf))
        return vouch_fail(eb, VOUCH_E_INVALID, "RIM name '%.40s...' too long", hint);
    memcpy(buf, hint, strlen(hint) + 1);
    for (k = 0, p = buf; k < 4; k++, p = NULL) {
        tok[k] = strtok_r(p, "_", &save);
        if (!tok[k])
            return vouch_fail(eb, VOUCH_E_INVALID, "RIM name '%s' is not "
                              "PROJECT_PROJECTSKU_CHIPSKU_VERSION", hint);
    }
    tok[3][strcspn(tok[3], ".")] = '\0';
    for (i = j = 0; rim->version[i] && j < sizeof(ver) - 1; i++)
        if (rim->version[i] != '.')
            ver[j++] = rim->version[i];
    ver[j] = '\0';
    if (!id_token(tok[0]) || !id_token(tok[1]) || !id_token(tok[2]))
        return vouch_fail(eb, VOUCH_E_INVALID, "RIM name '%s' is not "
                          "PROJECT_PROJECTSKU_CHIPSKU_VERSION", hint);
    if (strcasecmp(tok[3], ver) != 0)
        return vouch_fail(eb, VOUCH_E_CONFLICT, "RIM name says version %s, the document %s",
                          tok[3], rim->version);
    n = snprintf(out, VOUCH_NVGPU_RIM_ID_MAX, "NV_GPU_VBIOS_%s_%s_%s_%s", tok[0], tok[1],
                 tok[2], ver);
    if (n < 0 || n >= VOUCH_NVGPU_RIM_ID_MAX)
        return vouch_fail(eb, VOUCH_E_INVALID, "VBIOS RIM id too long");
    upper(out);
    return VOUCH_OK;
}

vouch_err vouch_nvgpu_rim_id(const struct vouch_nvgpu_rim *rim, const char *name_hint,
                             char out[VOUCH_NVGPU_RIM_ID_MAX], struct vouch_errbuf *eb)
{
    char id[VOUCH_NVGPU_RIM_ID_MAX];
    const char *hint = name_hint ? base_name(name_hint) : NULL;
    vouch_err e;
    int n;

    if (rim->kind == VOUCH_NVGPU_RIM_VBIOS) {
        e = vbios_id_from_hint(rim, hint, id, eb);
        if (e)
            return e;
    } else {
        if (!id_token(rim->product))
            return vouch_fail(eb, VOUCH_E_INVALID, "driver RIM product '%s' is not a chip name",
                              rim->product);
        if (strcasecmp(rim->product, "GH100") == 0)
            n = snprintf(id, sizeof(id), "NV_GPU_DRIVER_GH100_%s", rim->version);
        else if (strncasecmp(rim->product, "GB", 2) == 0)
            n = snprintf(id, sizeof(id), "NV_GPU_CC_DRIVER_%s_%s", rim->product, rim->version);
        else
            return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "driver RIM for product '%s'",
                              rim->product);
        if (n < 0 || (size_t)n >= sizeof(id))
            return vouch_fail(eb, VOUCH_E_INVALID, "driver RIM id too long");
        upper(id);
    }
    if (hint && strncasecmp(hint, "NV_GPU_", 7) == 0 && !hint_names(hint, id))
        return vouch_fail(eb, VOUCH_E_CONFLICT, "RIM named '%s' is %s", hint, id);
    memcpy(out, id, strlen(id) + 1);
    return VOUCH_OK;
}

/* ------------------------------------------------------------------ */
/* Import check                                                        */

/* The RIM service's {"id", "rim": base64} envelope, if that is what data is. */
static vouch_err unwrap_service_json(const uint8_t *data, size_t len, uint8_t **ret_xml,
                                     size_t *ret_len, char *ret_id, size_t id_size,
                                     struct vouch_errbuf *eb)
{
    const char *id = NULL, *rim = NULL;
    size_t idlen = 0, rimlen = 0;
    json_t *v = NULL;
    vouch_err e;

    e = vouch_json_parse(data, len, &v, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "RIM service document: ");
    if ((e = vouch_json_get_str(v, "id", true, &id, &idlen, eb)) ||
        (e = vouch_json_get_str(v, "rim", true, &rim, &rimlen, eb))) {
        vouch_fail_prefix(eb, e, "RIM service document: ");
        goto out;
    }
    if (idlen >= id_size || strlen(id) != idlen) {
        e = vouch_fail(eb, VOUCH_E_INVALID, "RIM service document: bad id");
        goto out;
    }
    memcpy(ret_id, id, idlen + 1);
    e = vouch_b64_decode(rim, rimlen, VOUCH_B64_STD, VOUCH_NVGPU_RIM_MAX, ret_xml, ret_len, eb);
    if (e)
        vouch_fail_prefix(eb, e, "RIM service document 'rim': ");
out:
    json_decref(v);
    return e;
}

vouch_err vouch_nvgpu_rim_check_file(const uint8_t *data, size_t len, const char *name_hint,
                                     STACK_OF(X509) *roots, int64_t now,
                                     char ret_id[VOUCH_NVGPU_RIM_ID_MAX], uint8_t **ret_xml,
                                     size_t *ret_xml_len, struct vouch_errbuf *eb)
{
    char json_id[VOUCH_NVGPU_RIM_ID_MAX], id[VOUCH_NVGPU_RIM_ID_MAX];
    struct vouch_nvgpu_rim *rim = NULL;
    uint8_t *xml = NULL;
    const uint8_t *doc = data;
    size_t i = 0, doclen = len, xmllen = 0;
    vouch_err e;

    while (i < len && isspace(data[i]))
        i++;
    if (i < len && data[i] == '{') {
        e = unwrap_service_json(data, len, &xml, &xmllen, json_id, sizeof(json_id), eb);
        if (e)
            return e;
        if (name_hint && strncasecmp(base_name(name_hint), "NV_GPU_", 7) == 0 &&
            !hint_names(base_name(name_hint), json_id)) {
            e = vouch_fail(eb, VOUCH_E_CONFLICT, "file named '%s' holds RIM '%s'",
                           base_name(name_hint), json_id);
            goto out;
        }
        name_hint = json_id;
        doc = xml;
        doclen = xmllen;
    }
    if ((e = vouch_nvgpu_rim_parse(doc, doclen, &rim, eb)) ||
        (e = vouch_nvgpu_rim_id(rim, name_hint, id, eb)))
        goto out;
    e = vouch_nvgpu_rim_verify(rim, doc, doclen, roots, eb);
    /* chain, then validity, then signature: a bad chain stops, an expired one wins */
    if (rim->chain && vouch_nvgpu_rim_check_time(rim, now, NULL))
        e = vouch_nvgpu_rim_check_time(rim, now, eb);
    if (e)
        goto out;
    if (ret_xml) {
        if (!xml) {
            xml = malloc(doclen ? doclen : 1);
            if (!xml) {
                e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
                goto out;
            }
            memcpy(xml, doc, doclen);
            xmllen = doclen;
        }
        *ret_xml = xml;
        *ret_xml_len = xmllen;
        xml = NULL;
    }
    memcpy(ret_id, id, strlen(id) + 1);
out:
    vouch_nvgpu_rim_unref(rim);
    free(xml);
    return e;
}

/* ------------------------------------------------------------------ */
/* Measurement comparison                                              */

static vouch_err add_mismatch(json_t *arr, const struct vouch_nvgpu_golden *g,
                              const char *source, const struct vouch_nvgpu_block *b)
{
    json_t *m;
    vouch_err e;

    if (!arr)
        return VOUCH_OK;
    m = json_object();
    if (!m)
        return VOUCH_E_NOMEM;
    if ((e = vouch_json_set_int(m, "index", g->index)) ||
        (e = vouch_json_set_str(m, "measurementSource", source)) ||
        (e = vouch_json_set_int(m, "goldenSize", g->size)) ||
        (e = vouch_json_set_hex(m, "goldenValue", g->values, g->size)) ||
        (e = vouch_json_set_int(m, "runtimeSize", b ? b->value_size : 0)) ||
        (e = b ? vouch_json_set_hex(m, "runtimeValue", b->value, b->value_size)
               : vouch_json_set_str(m, "runtimeValue", "NA"))) {
        json_decref(m);
        return e;
    }
    return json_array_append_new(arr, m) == 0 ? VOUCH_OK : VOUCH_E_NOMEM;
}

static bool golden_matches(const struct vouch_nvgpu_golden *g, const struct vouch_nvgpu_block *b)
{
    unsigned k;

    if (!b || b->value_size != g->size)
        return false;
    for (k = 0; k < g->n_alternatives; k++)
        if (memcmp(g->values + (size_t)k * g->size, b->value, g->size) == 0)
            return true;
    return false;
}

vouch_err vouch_nvgpu_rim_compare(const struct vouch_nvgpu_report *r,
                                  const struct vouch_nvgpu_rim *driver,
                                  const struct vouch_nvgpu_rim *vbios, json_t *mismatches,
                                  struct vouch_nvgpu_compare *ret, struct vouch_errbuf *eb)
{
    const struct vouch_nvgpu_rim *rims[2] = { driver, vbios };
    const char *sources[2] = { "driver", "vbios" };
    unsigned i, k, first_mismatch = 0;
    bool any_mismatch = false;
    vouch_err e;

    memset(ret, 0, sizeof(*ret));
    ret->no_conflict = true;
    if (r->nvdec0_status == VOUCH_NVGPU_NVDEC0_DISABLED)
        ret->skipped_index = 35;
    for (i = 0; i < driver->n_golden; i++) {
        const struct vouch_nvgpu_golden *d = &driver->golden[i], *v;

        if (!d->active)
            continue;
        v = vouch_nvgpu_rim_golden(vbios, d->index);
        if (v && v->active) {
            ret->no_conflict = false;
            return vouch_fail(eb, VOUCH_E_CONFLICT, "measurement index %u is active in both "
                              "the driver and the VBIOS RIM", d->index);
        }
    }
    for (k = 0; k < 2; k++) {
        for (i = 0; i < rims[k]->n_golden; i++) {
            const struct vouch_nvgpu_golden *g = &rims[k]->golden[i];
            const struct vouch_nvgpu_block *b;

            if (!g->active || (ret->skipped_index && g->index == ret->skipped_index))
                continue;
            ret->n_compared++;
            b = vouch_nvgpu_report_block(r, g->index + 1);
            if (golden_matches(g, b))
                continue;
            if (!any_mismatch)
                first_mismatch = g->index;
            any_mismatch = true;
            ret->n_mismatched++;
            e = add_mismatch(mismatches, g, sources[k], b);
            if (e)
                return vouch_fail(eb, e, "out of memory");
        }
    }
    ret->match = !any_mismatch;
    if (any_mismatch)
        return vouch_fail(eb, VOUCH_E_VERIFY, "%u of %u measurements differ from the RIMs "
                          "(first: RIM index %u)", ret->n_mismatched, ret->n_compared,
                          first_mismatch);
    return VOUCH_OK;
}
