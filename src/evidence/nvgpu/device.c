/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/reader.h"
#include "crypto/digest.h"
#include "crypto/sig.h"
#include "crypto/x509.h"
#include "evidence/nvgpu/nvgpu_int.h"

#define MAX_DEVICE_CERTS 8

/* DER of the SHA-384 OID 2.16.840.1.101.3.4.2.2, without tag and length. */
static const uint8_t sha384_oid[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02 };

/*
 * One DER TLV from r: single-byte tags only, definite lengths of up to
 * four bytes.  *ret_content covers the value.
 */
static bool der_next(struct vouch_reader *r, uint8_t *ret_tag, struct vouch_reader *ret_content)
{
    uint8_t tag, b, n;
    size_t len = 0;

    if (vouch_reader_u8(r, &tag) || (tag & 0x1f) == 0x1f || vouch_reader_u8(r, &b))
        return false;
    if (b < 0x80) {
        len = b;
    } else {
        n = b & 0x7f;
        if (n == 0 || n > 4)
            return false;
        while (n--) {
            if (vouch_reader_u8(r, &b))
                return false;
            len = len << 8 | b;
        }
    }
    if (vouch_reader_sub(r, len, ret_content))
        return false;
    *ret_tag = tag;
    return true;
}

/* FWID ::= SEQUENCE { hashAlg OID (SHA-384), digest OCTET STRING (48) } */
static bool fwid_seq(struct vouch_reader seq, uint8_t out[VOUCH_NVGPU_DIGEST_SIZE])
{
    struct vouch_reader oid, dig;
    uint8_t tag;

    if (!der_next(&seq, &tag, &oid) || tag != 0x06 ||
        vouch_reader_left(&oid) != sizeof(sha384_oid) ||
        memcmp(oid.p, sha384_oid, sizeof(sha384_oid)) != 0)
        return false;
    if (!der_next(&seq, &tag, &dig) || tag != 0x04 ||
        vouch_reader_left(&dig) != VOUCH_NVGPU_DIGEST_SIZE || !vouch_reader_done(&seq))
        return false;
    memcpy(out, dig.p, VOUCH_NVGPU_DIGEST_SIZE);
    return true;
}

/*
 * Hopper, extension 2.23.133.5.4.1: SEQUENCE { INTEGER, SubjectPublicKeyInfo,
 * FWID }: the FWID is the element that is a SHA-384 FWID sequence.
 */
static bool hopper_fwid(const uint8_t *der, size_t len, uint8_t out[VOUCH_NVGPU_DIGEST_SIZE])
{
    struct vouch_reader r, top, el;
    uint8_t tag;

    vouch_reader_init(&r, der, len);
    if (!der_next(&r, &tag, &top) || tag != 0x30 || !vouch_reader_done(&r))
        return false;
    while (!vouch_reader_done(&top)) {
        if (!der_next(&top, &tag, &el))
            return false;
        if (tag == 0x30 && fwid_seq(el, out))
            return true;
    }
    return false;
}

/*
 * Blackwell, extension 2.23.133.5.4.1.1 (TCG DiceTcbInfo): fwids is the
 * [6] IMPLICIT SEQUENCE OF FWID; the first FWID is the firmware's.
 */
static bool blackwell_fwid(const uint8_t *der, size_t len, uint8_t out[VOUCH_NVGPU_DIGEST_SIZE])
{
    struct vouch_reader r, top, el, fw;
    uint8_t tag;

    vouch_reader_init(&r, der, len);
    if (!der_next(&r, &tag, &top) || tag != 0x30 || !vouch_reader_done(&r))
        return false;
    while (!vouch_reader_done(&top)) {
        if (!der_next(&top, &tag, &el))
            return false;
        if (tag != 0xa6)
            continue;
        return der_next(&el, &tag, &fw) && tag == 0x30 && fwid_seq(fw, out);
    }
    return false;
}

vouch_err vouch_nvgpu_leaf_fwid(X509 *leaf, enum vouch_nvgpu_arch arch,
                                uint8_t out[VOUCH_NVGPU_DIGEST_SIZE], struct vouch_errbuf *eb)
{
    const char *want = arch == VOUCH_NVGPU_BLACKWELL ? "2.23.133.5.4.1.1" : "2.23.133.5.4.1";
    int i, n = X509_get_ext_count(leaf);

    for (i = 0; i < n; i++) {
        X509_EXTENSION *ext = X509_get_ext(leaf, i);
        const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(ext);
        char oid[64];
        bool ok;

        if (OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(ext), 1) <= 0 ||
            strcmp(oid, want) != 0)
            continue;
        ok = arch == VOUCH_NVGPU_BLACKWELL
                 ? blackwell_fwid(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v), out)
                 : hopper_fwid(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v), out);
        if (!ok)
            return vouch_fail(eb, VOUCH_E_INVALID, "FWID extension %s is malformed", want);
        return VOUCH_OK;
    }
    return vouch_fail(eb, VOUCH_E_NOT_FOUND, "the attestation certificate has no FWID "
                      "extension %s", want);
}

/* The commonName of a certificate, or "". */
static void common_name(X509 *x, char *out, size_t size)
{
    X509_NAME *name = X509_get_subject_name(x);
    int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    const ASN1_STRING *s;
    int len;

    out[0] = '\0';
    if (i < 0 || !(s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i))))
        return;
    len = ASN1_STRING_length(s);
    if (len <= 0 || (size_t)len >= size)
        return;
    memcpy(out, ASN1_STRING_get0_data(s), (size_t)len);
    out[len] = '\0';
}

enum vouch_nvgpu_arch vouch_nvgpu_cert_arch(X509 *leaf)
{
    char cn[128];

    common_name(leaf, cn, sizeof(cn));
    if (strncasecmp(cn, "GH100 ", 6) == 0)
        return VOUCH_NVGPU_HOPPER;
    if (strncasecmp(cn, "GB", 2) == 0)
        return VOUCH_NVGPU_BLACKWELL;
    return VOUCH_NVGPU_ARCH_UNKNOWN;
}

struct vouch_nvgpu_devchain *vouch_nvgpu_devchain_ref(struct vouch_nvgpu_devchain *dc)
{
    __atomic_add_fetch(&dc->refs, 1, __ATOMIC_RELAXED);
    return dc;
}

void vouch_nvgpu_devchain_unref(struct vouch_nvgpu_devchain *dc)
{
    if (!dc || __atomic_sub_fetch(&dc->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    sk_X509_pop_free(dc->chain, X509_free);
    EVP_PKEY_free(dc->leaf_key);
    free(dc);
}

vouch_err vouch_nvgpu_devchain_build(const char *pem, size_t len, STACK_OF(X509) *roots,
                                     struct vouch_nvgpu_devchain **ret, struct vouch_errbuf *eb)
{
    struct vouch_nvgpu_devchain *dc = NULL;
    STACK_OF(X509) *certs = NULL;
    X509 *leaf;
    BIGNUM *serial = NULL;
    char *dec = NULL, subj[256];
    vouch_err e;

    dc = calloc(1, sizeof(*dc));
    if (!dc)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    dc->refs = 1;
    e = vouch_hash(VOUCH_HASH_SHA256, pem, len, dc->key);
    if (e) {
        vouch_fail(eb, e, "cannot hash the chain");
        goto out;
    }
    e = vouch_x509_parse_pem_chain(pem, len, MAX_DEVICE_CERTS, &certs, eb);
    if (e)
        goto out;
    if (sk_X509_num(certs) < 2) {
        e = vouch_fail(eb, VOUCH_E_VERIFY, "the chain has %d certificate: it needs the GPU "
                       "attestation certificate and its issuers", sk_X509_num(certs));
        goto out;
    }
    leaf = sk_X509_value(certs, 0);
    vouch_x509_subject(leaf, subj, sizeof(subj));
    if (X509_check_ca(leaf) != 0) {
        e = vouch_fail(eb, VOUCH_E_VERIFY, "first certificate '%s' is a CA, not the GPU "
                       "attestation key", subj);
        goto out;
    }
    dc->arch = vouch_nvgpu_cert_arch(leaf);
    e = vouch_x509_verify_chain_get(leaf, certs, roots, NULL, 0, VOUCH_CHAIN_NO_TIME,
                                    &dc->chain, eb);
    if (e)
        goto out;
    if (vouch_nvgpu_chain_window(dc->chain, &dc->not_before, &dc->not_after, NULL)) {
        e = vouch_fail(eb, VOUCH_E_INVALID, "unreadable certificate validity");
        goto out;
    }
    dc->leaf_key = X509_get_pubkey(leaf);
    if (!dc->leaf_key || vouch_ec_field_size(dc->leaf_key) != 48) {
        e = vouch_fail(eb, VOUCH_E_UNSUPPORTED, "'%s' does not hold a P-384 key", subj);
        goto out;
    }
    dc->has_fwid = dc->arch != VOUCH_NVGPU_ARCH_UNKNOWN &&
                   vouch_nvgpu_leaf_fwid(leaf, dc->arch, dc->fwid, NULL) == VOUCH_OK;
    common_name(sk_X509_value(dc->chain, 1), dc->hwmodel, sizeof(dc->hwmodel));
    serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
    dec = serial ? BN_bn2dec(serial) : NULL;
    if (!dec || strlen(dec) >= sizeof(dc->ueid)) {
        e = vouch_fail(eb, VOUCH_E_INVALID, "unusable serial number in '%s'", subj);
        goto out;
    }
    memcpy(dc->ueid, dec, strlen(dec) + 1);
    *ret = dc;
    dc = NULL;
out:
    OPENSSL_free(dec);
    BN_free(serial);
    sk_X509_pop_free(certs, X509_free);
    vouch_nvgpu_devchain_unref(dc);
    ERR_clear_error();
    return e;
}
